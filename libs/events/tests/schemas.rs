//! The committed JSON Schemas under schemas/events/ are generated from the
//! Rust types; this test fails when they drift. Regenerate with
//! `CLAIMTRAIL_UPDATE_SCHEMAS=1 cargo test -p claimtrail-events --test schemas`.

use std::path::PathBuf;

use claimtrail_events::{DomainEvent, EVENT_TYPES, Envelope};

fn schemas_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schemas/events")
}

fn generated() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = DomainEvent::schemas()
        .into_iter()
        .map(|(event_type, schema)| {
            let mut value = serde_json::to_value(&schema).expect("schema serializes");
            value["$id"] = serde_json::json!(format!("https://claimtrail.dev/schemas/events/{event_type}.json"));
            value["title"] = serde_json::json!(event_type);
            (format!("{event_type}.json"), serde_json::to_string_pretty(&value).expect("schema serializes") + "\n")
        })
        .collect();
    let envelope = schemars::schema_for!(Envelope);
    files.push(("envelope.json".to_owned(), serde_json::to_string_pretty(&envelope).expect("schema serializes") + "\n"));
    files
}

#[test]
fn committed_event_schemas_match_the_rust_types() {
    let dir = schemas_dir();
    let files = generated();
    if std::env::var_os("CLAIMTRAIL_UPDATE_SCHEMAS").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in &files {
            std::fs::write(dir.join(name), text).unwrap();
        }
    }
    let mut drifted = Vec::new();
    for (name, text) in &files {
        match std::fs::read_to_string(dir.join(name)) {
            Ok(committed) if committed == *text => {}
            Ok(_) => drifted.push(format!("{name} differs")),
            Err(_) => drifted.push(format!("{name} is missing")),
        }
    }
    let expected: Vec<&String> = files.iter().map(|(name, _)| name).collect();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if !expected.contains(&&name) {
            drifted.push(format!("{name} has no Rust type"));
        }
    }
    assert!(
        drifted.is_empty(),
        "schemas/events drifted from the Rust types: {drifted:?}; run CLAIMTRAIL_UPDATE_SCHEMAS=1 cargo test -p claimtrail-events --test schemas"
    );
    assert_eq!(files.len(), EVENT_TYPES.len() + 1);
}
