//! What the `parse` fuzz target checks on any bytes, shared with the test
//! that replays the corpus (`tests/fuzz_corpus.rs`) on stable Rust: the FHIR
//! reader never panics; a body that maps gives claims whose issues name an
//! element (also after intake's parse), and every entry is either a claim or
//! an entry error.

use time::macros::date;

pub fn check(data: &[u8]) {
    let Ok(submission) = claimtrail_fhir::parse_submission(data, date!(2026 - 03 - 01)) else { return };
    assert!(submission.entries.len() <= claimtrail_fhir::ENTRIES_PER_BUNDLE_MAX);
    for claim in submission.claims() {
        assert!(claim.issues.iter().all(|issue| !issue.path.is_empty() && !issue.code.is_empty()));
        assert!(claim.claim.lines.len() <= claimtrail_fhir::LINES_PER_CLAIM_MAX);
        // Intake's one parse of its identifiers and codes names the element of each it refuses.
        if let Err(issues) = claim.parse() {
            assert!(issues.iter().all(|issue| !issue.path.is_empty() && !issue.code.is_empty()));
            assert!(claim.is_rejected() || !issues.is_empty());
        }
    }
}
