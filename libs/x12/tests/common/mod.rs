//! Shared by the integration tests: where the shared test data and tools are,
//! the fixed "today", and an outcome summary that is stable to compare.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use claimtrail_x12::{ReadOptions, Reading};
use serde_json::{Value, json};
use time::Date;
use time::macros::date;

/// "Today" for every test: dates of service after it are an issue.
pub const TODAY: Date = date!(2026 - 03 - 01);

pub fn options() -> ReadOptions {
    ReadOptions { today: TODAY, limits: claimtrail_x12::Limits::DEFAULT }
}

/// The shared folder (`/work/shared` beside the repository, or `CLAIMTRAIL_SHARED`).
pub fn shared_dir() -> PathBuf {
    match std::env::var_os("CLAIMTRAIL_SHARED") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    }
}

pub fn testdata_dir() -> PathBuf {
    shared_dir().join("testdata")
}

/// Every 837 file of the test data (and the 999 files that sit among them).
/// Panics when the shared test data is not there: the tests that use it fail
/// rather than pass on nothing.
pub fn files_837() -> Vec<PathBuf> {
    let dir = testdata_dir();
    assert!(dir.is_dir(), "the shared test data is missing at {} (set CLAIMTRAIL_SHARED to the shared folder)", dir.display());
    let mut files = Vec::new();
    walk(&dir, &mut files);
    files.retain(|path| {
        let text = path.to_string_lossy();
        (text.contains("837") || text.contains("hipaa-claim-models")) && !text.ends_with(".xml") && !text.ends_with(".md")
    });
    files.sort();
    assert!(files.len() > 50, "expected the 837 files of {}, found {}", dir.display(), files.len());
    files
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, files);
        } else {
            files.push(path);
        }
    }
}

/// A summary of a reading: envelope outcomes, the 999 errors, claims and their issue codes.
pub fn summary(reading: &Reading) -> Value {
    let interchanges: Vec<Value> = reading
        .interchanges
        .iter()
        .map(|interchange| {
            let groups: Vec<Value> = interchange
                .groups
                .iter()
                .map(|group| {
                    let transactions: Vec<Value> = group
                        .transactions
                        .iter()
                        .map(|transaction| {
                            let errors: Vec<String> = transaction
                                .errors
                                .iter()
                                .map(|error| {
                                    let elements: Vec<String> =
                                        error.elements.iter().map(|element| format!("IK4 {} {}", element.element, element.code)).collect();
                                    format!(
                                        "IK3 {} {} {}: {} {}",
                                        error.position.segment_id,
                                        error.position.segment_position,
                                        error.code,
                                        error.message,
                                        elements.join(", ")
                                    )
                                })
                                .collect();
                            let claims: Vec<Value> = transaction
                                .claims
                                .iter()
                                .map(|claim| {
                                    let issues: Vec<String> = claim.claim.issues.iter().map(|issue| format!("{} @ {}", issue.code, issue.path)).collect();
                                    json!({
                                        "patient_control_number": claim.claim.claim.patient_control_number,
                                        "claim_type": format!("{:?}", claim.claim.claim.claim_type),
                                        "frequency": format!("{:?}", claim.claim.claim.frequency),
                                        "total_charge": claim.claim.claim.total_charge.to_string(),
                                        "n_lines": claim.claim.claim.lines.len(),
                                        "n_diagnoses": claim.claim.claim.diagnoses.len(),
                                        "n_other_payers": claim.other_payers.len(),
                                        "n_line_adjudications": claim.line_adjudications.len(),
                                        "issues": issues,
                                    })
                                })
                                .collect();
                            json!({
                                "control_number": transaction.control_number,
                                "version": transaction.version,
                                "accepted": transaction.is_accepted(),
                                "fault": transaction.fault.as_ref().map(|fault| format!("IK5 {} at {}: {}", fault.code, fault.position, fault.message)),
                                "errors": errors,
                                "claims": claims,
                            })
                        })
                        .collect();
                    json!({
                        "control_number": group.control_number,
                        "version": group.version,
                        "fault": group.fault.as_ref().map(|fault| format!("AK9 {} at {}: {}", fault.code, fault.position, fault.message)),
                        "transactions": transactions,
                    })
                })
                .collect();
            json!({
                "sender": interchange.header.as_ref().map(|header| format!("{}:{}", header.sender_qualifier, header.sender_id)),
                "control_number": interchange.header.as_ref().map(|header| header.control_number.clone()),
                "ta1": interchange.fault.as_ref().map(|fault| format!("TA1 R {} at {}: {}", fault.note_code, fault.position, fault.message)),
                "groups": groups,
            })
        })
        .collect();
    json!({ "n_claims": reading.n_claims(), "interchanges": interchanges })
}

/// Runs `validate-x12` (pyx12) on files: whether all passed, and its report.
/// Panics when the tool is missing or cannot run, so that no check is skipped.
pub fn validate_x12(files: &[PathBuf]) -> (bool, String) {
    let tool = shared_dir().join("tools/validate-x12");
    assert!(tool.is_file(), "the X12 validator is missing at {}", tool.display());
    let output = std::process::Command::new(&tool).args(files).env("VERBOSE", "1").output().unwrap_or_else(|e| panic!("cannot run {}: {e}", tool.display()));
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}
