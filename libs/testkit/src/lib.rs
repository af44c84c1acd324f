//! Test support shared by the libraries' tests (a dev-dependency only).
//!
//! # Layout
//! - [`replay_corpus`]: a cargo-fuzz target needs nightly Rust; this replays
//!   its corpus, and any crash artifacts kept, through the target's own check
//!   on stable, so that the test command runs it: each input as it is, and a
//!   bounded number of truncations and byte substitutions of it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// At most this many truncations, and as many substitutions, per input.
pub const VARIANTS_PER_INPUT_MAX: usize = 64;
/// Bytes substituted: separators and delimiters of X12 and JSON, and one that is not UTF-8.
pub const SUBSTITUTES: &[u8] = b"~*:^\"{}[],\n\xff";

/// The inputs of `target` under `fuzz_dir` (`corpus/<target>` and `artifacts/<target>`), sorted.
pub fn inputs(fuzz_dir: &Path, target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let mut inputs = Vec::new();
    for dir in [fuzz_dir.join("corpus").join(target), fuzz_dir.join("artifacts").join(target)] {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries {
            let path = entry.unwrap_or_else(|e| panic!("{}: {e}", dir.display())).path();
            if path.is_file() {
                let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                inputs.push((path, bytes));
            }
        }
    }
    inputs.sort();
    inputs
}

fn run(check: &dyn Fn(&[u8]), input: &Path, variant: &str, data: &[u8]) {
    if let Err(panic) = catch_unwind(AssertUnwindSafe(|| check(data))) {
        let reason = panic.downcast_ref::<String>().map(String::as_str).or_else(|| panic.downcast_ref::<&str>().copied()).unwrap_or("a panic");
        panic!("{} ({variant}) fails the fuzz check: {reason}", input.display());
    }
}

/// Runs `check` on every input of `target` and its variants; panics naming the
/// input and the variant that fails, or when the seed corpus is missing.
pub fn replay_corpus(fuzz_dir: &Path, target: &str, check: impl Fn(&[u8])) {
    let inputs = inputs(fuzz_dir, target);
    assert!(inputs.len() >= 2, "the seed corpus of {} is missing", fuzz_dir.join("corpus").join(target).display());
    for (path, bytes) in &inputs {
        run(&check, path, "as is", bytes);
        let step = bytes.len().div_ceil(VARIANTS_PER_INPUT_MAX).max(1);
        for (variant_idx, at) in (0..bytes.len()).step_by(step).enumerate() {
            run(&check, path, &format!("cut at {at}"), &bytes[..at]);
            let mut substituted = bytes.clone();
            substituted[at] = SUBSTITUTES[variant_idx % SUBSTITUTES.len()];
            run(&check, path, &format!("byte {at} replaced"), &substituted);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_check_that_panics_on_a_variant_fails_naming_it() {
        let dir = std::env::temp_dir().join(format!("testkit-{}", std::process::id()));
        let corpus = dir.join("corpus/t");
        std::fs::create_dir_all(&corpus).unwrap();
        std::fs::write(corpus.join("a"), b"abc").unwrap();
        std::fs::write(corpus.join("b"), b"xyz").unwrap();
        replay_corpus(&dir, "t", |_| {});
        let failed = catch_unwind(|| replay_corpus(&dir, "t", |data| assert!(data.len() != 1, "one byte")));
        let message = failed.unwrap_err().downcast::<String>().unwrap();
        assert!(message.contains("cut at 1") && message.contains("one byte"), "{message}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
