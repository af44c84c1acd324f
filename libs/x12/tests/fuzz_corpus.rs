//! The cargo-fuzz target `read` (fuzz/) needs nightly Rust; this replays
//! its corpus, and any crash artifacts kept, through the target's own check
//! (fuzz/checks/read.rs) on stable, so that the test command runs it: each
//! input as it is, and a bounded number of truncations and byte
//! substitutions of it (claimtrail_testkit::replay_corpus).

#[path = "../fuzz/checks/read.rs"]
mod read_check;

#[test]
fn the_fuzz_corpus_and_its_variants_pass_the_fuzz_targets_check() {
    let fuzz = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    claimtrail_testkit::replay_corpus(&fuzz, "read", read_check::check);
}
