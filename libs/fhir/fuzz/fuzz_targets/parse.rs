//! The FHIR reader on any bytes: never panics; a body that maps gives claims
//! whose issues name an element, and every entry is either a claim or an
//! entry error.

#![no_main]

use libfuzzer_sys::fuzz_target;
use time::macros::date;

fuzz_target!(|data: &[u8]| {
    let Ok(submission) = claimtrail_fhir::parse_submission(data, date!(2026 - 03 - 01)) else { return };
    assert!(submission.entries.len() <= claimtrail_fhir::ENTRIES_PER_BUNDLE_MAX);
    for claim in submission.claims() {
        assert!(claim.issues.iter().all(|issue| !issue.path.is_empty() && !issue.code.is_empty()));
        assert!(claim.lines.len() <= claimtrail_fhir::LINES_PER_CLAIM_MAX);
    }
});
