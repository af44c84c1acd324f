//! The cargo-fuzz target `parse` (fuzz/) needs nightly Rust; this replays
//! its corpus, and any crash artifacts kept, through the target's own check
//! (fuzz/checks/parse.rs) on stable, so that the test command runs it: each
//! input as it is, and a bounded number of truncations and byte
//! substitutions of it.

#[path = "../fuzz/checks/parse.rs"]
mod parse_check;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// At most this many truncations, and as many substitutions, per input.
const VARIANTS_PER_INPUT_MAX: usize = 64;
/// Bytes substituted: separators and delimiters of X12 and JSON, and one that is not UTF-8.
const SUBSTITUTES: &[u8] = b"~*:^\"{}[],\n\xff";

fn inputs() -> Vec<(PathBuf, Vec<u8>)> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut inputs = Vec::new();
    for dir in [fuzz.join("corpus/parse"), fuzz.join("artifacts/parse")] {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_file() {
                let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                inputs.push((path, bytes));
            }
        }
    }
    inputs.sort();
    inputs
}

fn check(input: &Path, variant: &str, data: &[u8]) {
    if let Err(panic) = catch_unwind(AssertUnwindSafe(|| parse_check::check(data))) {
        let reason = panic.downcast_ref::<String>().map(String::as_str).or_else(|| panic.downcast_ref::<&str>().copied()).unwrap_or("a panic");
        panic!("{} ({variant}) fails the fuzz check: {reason}", input.display());
    }
}

#[test]
fn the_fuzz_corpus_and_its_variants_pass_the_fuzz_targets_check() {
    let inputs = inputs();
    assert!(inputs.len() >= 2, "the seed corpus of fuzz/corpus/parse is missing");
    for (path, bytes) in &inputs {
        check(path, "as is", bytes);
        let step = bytes.len().div_ceil(VARIANTS_PER_INPUT_MAX).max(1);
        for (variant_idx, at) in (0..bytes.len()).step_by(step).enumerate() {
            check(path, &format!("cut at {at}"), &bytes[..at]);
            let mut substituted = bytes.clone();
            substituted[at] = SUBSTITUTES[variant_idx % SUBSTITUTES.len()];
            check(path, &format!("byte {at} replaced"), &substituted);
        }
    }
}
