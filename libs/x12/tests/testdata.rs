//! Every 837 file of the shared test data through the reader; the outcome is
//! compared with `tests/expected/<path with / as __>.json`. Run with
//! `CLAIMTRAIL_UPDATE_EXPECTED=1` to rewrite them, then read the diff.

mod common;

use std::path::Path;

use claimtrail_x12::{AckContext, ClaimOutcome, ControlNumbers, read, render_acknowledgments};
use time::macros::time;

fn expected_path(file: &Path) -> std::path::PathBuf {
    let relative = file.strip_prefix(common::testdata_dir()).unwrap_or(file);
    let name = relative.to_string_lossy().replace(['/', '\\'], "__");
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/expected").join(format!("{name}.json"))
}

#[test]
fn every_837_of_the_test_data_gives_its_expected_outcome() {
    let files = common::files_837();
    let update = std::env::var_os("CLAIMTRAIL_UPDATE_EXPECTED").is_some();
    let mut mismatches = Vec::new();
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        let reading = read(&bytes, &common::options()).unwrap();
        let summary = serde_json::to_string_pretty(&common::summary(&reading)).unwrap() + "\n";
        let expected_file = expected_path(file);
        if update {
            std::fs::write(&expected_file, &summary).unwrap();
            continue;
        }
        match std::fs::read_to_string(&expected_file) {
            Ok(expected) if expected == summary => {}
            Ok(_) => mismatches.push(format!("{} differs from {}", file.display(), expected_file.display())),
            Err(_) => mismatches.push(format!("{} has no {}", file.display(), expected_file.display())),
        }
    }
    assert!(mismatches.is_empty(), "run with CLAIMTRAIL_UPDATE_EXPECTED=1 and read the diff:\n{}", mismatches.join("\n"));
}

#[test]
fn the_999s_and_277cas_of_the_test_data_pass_the_independent_validator() {
    let files = common::files_837();
    let dir = std::env::temp_dir().join(format!("claimtrail-x12-acks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let context = AckContext { date: common::TODAY, time: time!(10:30) };
    let mut written = Vec::new();
    for (file_idx, file) in files.iter().enumerate() {
        let bytes = std::fs::read(file).unwrap();
        let reading = read(&bytes, &common::options()).unwrap();
        let outcomes: Vec<ClaimOutcome> =
            reading.claims().map(|claim| ClaimOutcome::as_read(claim, format!("CT{file_idx}X{}", claim.position.claim))).collect();
        let mut numbers = ControlNumbers::starting_at(1);
        let acks = render_acknowledgments(&reading, &outcomes, &context, &mut numbers);
        let stem = expected_path(file).file_stem().map(|stem| stem.to_string_lossy().into_owned()).unwrap_or_default();
        // The 999 guide (X231A1) lists only health care group ids for AK101; a group
        // that is not one (a 999 sent to us) is still echoed as received.
        let health_care_groups = reading.interchanges.iter().flat_map(|interchange| &interchange.groups).all(|group| group.functional_id == "HC");
        if let (Some(ack_999), true) = (acks.ack_999, health_care_groups) {
            let path = dir.join(format!("{stem}.999"));
            std::fs::write(&path, ack_999).unwrap();
            written.push(path);
        }
        if let Some(ack_277ca) = acks.ack_277ca {
            let path = dir.join(format!("{stem}.277"));
            std::fs::write(&path, ack_277ca).unwrap();
            written.push(path);
        }
    }
    assert!(written.len() > 20, "expected many acknowledgments, got {}", written.len());
    let (ok, report) = common::validate_x12(&written);
    assert!(ok, "validate-x12 refused acknowledgments:\n{report}");
    let _ = std::fs::remove_dir_all(&dir);
}
