//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

use claimtrail_fhir::{FhirError, FieldError, MappedClaim, Submission, parse_submission};
use serde_json::Value;
use time::Date;
use time::macros::date;

/// The receiving day in every test: the fixtures' services are in February 2026.
pub const TODAY: Date = date!(2026 - 03 - 01);

pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn shared_dir() -> PathBuf {
    crate_dir().join("../../../shared")
}

pub fn fixture(name: &str) -> Value {
    let path = crate_dir().join("tests/fixtures").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

pub fn professional_claim() -> Value {
    fixture("claim-professional.json")
}

pub fn submit(value: &Value) -> Result<Submission, FhirError> {
    parse_submission(value.to_string().as_bytes(), TODAY)
}

/// The one claim of a bare Claim body, which must map.
pub fn mapped(value: &Value) -> MappedClaim {
    let submission = submit(value).unwrap_or_else(|e| panic!("expected a mapped claim, got {e:?}"));
    assert_eq!(submission.entries.len(), 1);
    submission.entries.into_iter().next().unwrap().unwrap()
}

/// The field errors of a body that must be refused as invalid.
pub fn invalid(value: &Value) -> Vec<FieldError> {
    match submit(value) {
        Err(FhirError::Invalid { errors }) => errors,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

/// (path, code) of each issue.
pub fn issues(claim: &MappedClaim) -> Vec<(String, String)> {
    claim.issues.iter().map(|issue| (issue.path.clone(), issue.code.clone())).collect()
}

/// Sets the element at a JSON pointer, creating it in its parent object if absent.
pub fn set(value: &mut Value, pointer: &str, new: Value) {
    if let Some(slot) = value.pointer_mut(pointer) {
        *slot = new;
        return;
    }
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let parent = value.pointer_mut(parent).unwrap_or_else(|| panic!("no parent for {pointer}"));
    parent.as_object_mut().unwrap_or_else(|| panic!("parent of {pointer} is not an object")).insert(key.to_owned(), new);
}

/// Removes the element at a JSON pointer (an object member or an array element).
pub fn remove(value: &mut Value, pointer: &str) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    match value.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.remove(key).unwrap_or_else(|| panic!("nothing at {pointer}"));
        }
        Some(Value::Array(items)) => {
            items.remove(key.parse::<usize>().unwrap());
        }
        _ => panic!("no parent for {pointer}"),
    }
}
