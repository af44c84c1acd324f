//! The ledger leaf record and its canonical bytes, the exact input of
//! [`crate::leaf_hash`].

mod canonical;

use std::fmt::Write as _;

use serde::Deserialize;
use thiserror::Error;

use crate::hash::{Hash, leaf_hash};

/// One ledger entry as hashed into the tree. It carries no PHI: the payload
/// is represented only by its salted `commitment`.
///
/// [`LeafRecord::to_bytes`] is RFC 8785-style canonical JSON: keys in sorted
/// order, no whitespace, strings escaped as `JSON.stringify` does, the index
/// as a plain integer, `null` for no batch:
///
/// ```text
/// {"batch":null,"commitment":"<64 hex>","event_id":"<uuid>","event_type":"ClaimSubmitted","index":0,"occurred_at":"2026-01-02T03:04:05.123456Z","producer":"intake"}
/// ```
///
/// Field contents are not validated here; the writer decides their format.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeafRecord {
    /// Position in the ledger, from 0, contiguous.
    pub index: u64,
    /// The event's UUID, as text.
    pub event_id: String,
    /// The event type, e.g. `ClaimSubmitted`.
    pub event_type: String,
    /// The service that produced the event.
    pub producer: String,
    /// When the event occurred: RFC 3339 with microseconds, UTC.
    pub occurred_at: String,
    /// Lowercase hex of `SHA3-256(salt ‖ canonical payload)`.
    pub commitment: String,
    /// The producer's batch signature and this event's place in it, if any.
    pub batch: Option<LeafBatch>,
    /// Whether the anchor verified the producer's batch signature and the
    /// inclusion path when it appended the entry. Absent in entries written
    /// before producers signed; `false` for an event whose signature was
    /// missing or did not verify (it is recorded anyway: others may have acted on it).
    #[serde(default)]
    pub verified: Option<bool>,
}

/// The producer batch an entry's event was signed in
/// ([`crate::batch`]): everything a verifier needs to check the signature
/// and the inclusion with the producer's public key alone.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeafBatch {
    /// Base64 of `H(0x00 ‖ canonical envelope bytes)`, the event's leaf in the batch tree.
    pub event_hash: String,
    /// The batch id.
    pub id: String,
    /// The event's position in the batch.
    pub index: u64,
    /// `<key name>+<key id>` of the producer key.
    pub key: String,
    /// Inclusion path, base64 hashes, nearest the leaf first.
    pub path: Vec<String>,
    /// Base64 Merkle root of the batch.
    pub root: String,
    /// Base64 Ed25519 signature over the batch message.
    pub signature: String,
    /// Events in the batch.
    pub size: u64,
}

impl LeafBatch {
    /// The batch reference of an event with hash `event_hash` and `proof`.
    pub fn new(event_hash: &Hash, proof: &crate::batch::BatchProof) -> LeafBatch {
        use base64::Engine as _;
        LeafBatch {
            event_hash: base64::engine::general_purpose::STANDARD.encode(event_hash),
            id: proof.id.clone(),
            index: proof.index,
            key: proof.key.clone(),
            path: proof.path.clone(),
            root: proof.root.clone(),
            signature: proof.signature.clone(),
            size: proof.size,
        }
    }

    /// The proof part (without the event hash).
    pub fn proof(&self) -> crate::batch::BatchProof {
        crate::batch::BatchProof {
            id: self.id.clone(),
            index: self.index,
            key: self.key.clone(),
            path: self.path.clone(),
            root: self.root.clone(),
            signature: self.signature.clone(),
            size: self.size,
        }
    }

    fn push_json(&self, json: &mut String) {
        json.push_str("{\"event_hash\":");
        push_json_string(json, &self.event_hash);
        json.push_str(",\"id\":");
        push_json_string(json, &self.id);
        let _ = write!(json, ",\"index\":{}", self.index);
        json.push_str(",\"key\":");
        push_json_string(json, &self.key);
        json.push_str(",\"path\":[");
        for (hash_idx, hash) in self.path.iter().enumerate() {
            if hash_idx > 0 {
                json.push(',');
            }
            push_json_string(json, hash);
        }
        json.push_str("],\"root\":");
        push_json_string(json, &self.root);
        json.push_str(",\"signature\":");
        push_json_string(json, &self.signature);
        let _ = write!(json, ",\"size\":{}}}", self.size);
    }
}

/// Why leaf bytes were refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LeafError {
    /// The bytes are not a JSON object with exactly the leaf fields.
    #[error("leaf is not a valid leaf record: {0}")]
    InvalidJson(String),
    /// The bytes parse, but are not the canonical encoding of the record.
    #[error("leaf bytes are not in canonical form")]
    NotCanonical,
}

impl LeafRecord {
    /// The canonical bytes that are hashed into the ledger.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut json = String::with_capacity(256);
        json.push_str("{\"batch\":");
        match &self.batch {
            Some(batch) => batch.push_json(&mut json),
            None => json.push_str("null"),
        }
        json.push_str(",\"commitment\":");
        push_json_string(&mut json, &self.commitment);
        json.push_str(",\"event_id\":");
        push_json_string(&mut json, &self.event_id);
        json.push_str(",\"event_type\":");
        push_json_string(&mut json, &self.event_type);
        // Writing to a String cannot fail.
        let _ = write!(json, ",\"index\":{}", self.index);
        json.push_str(",\"occurred_at\":");
        push_json_string(&mut json, &self.occurred_at);
        json.push_str(",\"producer\":");
        push_json_string(&mut json, &self.producer);
        if let Some(verified) = self.verified {
            let _ = write!(json, ",\"verified\":{verified}");
        }
        json.push('}');
        json.into_bytes()
    }

    /// Parses leaf bytes, accepting only the canonical encoding: the bytes
    /// must equal `to_bytes()` of the parsed record.
    pub fn from_bytes(bytes: &[u8]) -> Result<LeafRecord, LeafError> {
        // One pass over the canonical grammar; anything else takes the serde
        // path below, which names what is wrong.
        if let Some(record) = canonical::read(bytes) {
            return Ok(record);
        }
        LeafRecord::from_bytes_by_serde(bytes)
    }

    /// [`LeafRecord::from_bytes`] by serde and a comparison with `to_bytes()`.
    fn from_bytes_by_serde(bytes: &[u8]) -> Result<LeafRecord, LeafError> {
        let record: LeafRecord = serde_json::from_slice(bytes).map_err(|error| LeafError::InvalidJson(error.to_string()))?;
        if record.to_bytes() != bytes {
            return Err(LeafError::NotCanonical);
        }
        Ok(record)
    }

    /// `SHA3-256(0x00 ‖ to_bytes())`.
    pub fn leaf_hash(&self) -> Hash {
        leaf_hash(&self.to_bytes())
    }
}

/// Appends `value` as a JSON string literal, escaped like `JSON.stringify`:
/// `"` and `\` escaped, `\b \t \n \f \r` short forms, other control
/// characters as `\u00xx`, everything else as UTF-8.
fn push_json_string(json: &mut String, value: &str) {
    json.push('"');
    for c in value.chars() {
        match c {
            '"' => json.push_str("\\\""),
            '\\' => json.push_str("\\\\"),
            '\u{08}' => json.push_str("\\b"),
            '\t' => json.push_str("\\t"),
            '\n' => json.push_str("\\n"),
            '\u{0c}' => json.push_str("\\f"),
            '\r' => json.push_str("\\r"),
            c if c < '\u{20}' => {
                let _ = write!(json, "\\u{:04x}", c as u32);
            }
            c => json.push(c),
        }
    }
    json.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> LeafRecord {
        LeafRecord {
            index: 7,
            event_id: "0190f5a2-7c1e-7d3a-9b2f-1a2b3c4d5e6f".to_string(),
            event_type: "ClaimSubmitted".to_string(),
            producer: "intake".to_string(),
            occurred_at: "2026-01-02T03:04:05.123456Z".to_string(),
            commitment: "ab".repeat(32),
            batch: None,
            verified: None,
        }
    }

    fn batch() -> LeafBatch {
        LeafBatch {
            event_hash: "AA==".into(),
            id: "intake/batch/42".into(),
            index: 1,
            key: "intake-producer+0a1b2c3d".into(),
            path: vec!["Pw==".into(), "QQ==".into()],
            root: "Ug==".into(),
            signature: "Uw==".into(),
            size: 3,
        }
    }

    #[test]
    fn a_leaf_serializes_with_sorted_keys_and_no_whitespace() {
        let expected = format!(
            "{{\"batch\":null,\"commitment\":\"{}\",\"event_id\":\"0190f5a2-7c1e-7d3a-9b2f-1a2b3c4d5e6f\",\
             \"event_type\":\"ClaimSubmitted\",\"index\":7,\"occurred_at\":\"2026-01-02T03:04:05.123456Z\",\
             \"producer\":\"intake\"}}",
            "ab".repeat(32)
        );
        assert_eq!(String::from_utf8(record().to_bytes()).unwrap(), expected);
    }

    #[test]
    fn a_leaf_with_a_batch_round_trips() {
        let mut with_batch = record();
        with_batch.batch = Some(batch());
        with_batch.verified = Some(false);
        let bytes = with_batch.to_bytes();
        assert!(bytes.starts_with(
            b"{\"batch\":{\"event_hash\":\"AA==\",\"id\":\"intake/batch/42\",\"index\":1,\"key\":\"intake-producer+0a1b2c3d\",\"path\":[\"Pw==\",\"QQ==\"],\"root\":\"Ug==\",\"signature\":\"Uw==\",\"size\":3},"
        ));
        assert!(bytes.ends_with(b"\"producer\":\"intake\",\"verified\":false}"));
        assert_eq!(LeafRecord::from_bytes(&bytes), Ok(with_batch));
        assert_eq!(LeafRecord::from_bytes(&record().to_bytes()), Ok(record()));
    }

    #[test]
    fn strings_are_escaped_like_json_stringify() {
        let mut odd = record();
        odd.producer = "q\"b\\s/\u{08}\u{0c}\n\r\t\u{01}\u{1f}\u{7f}é\u{2028}😀".to_string();
        let bytes = odd.to_bytes();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains("\"producer\":\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0001\\u001f\u{7f}é\u{2028}😀\"}"));
        assert_eq!(LeafRecord::from_bytes(&bytes), Ok(odd));
    }

    #[test]
    fn non_canonical_leaf_bytes_are_rejected() {
        let canonical = String::from_utf8(record().to_bytes()).unwrap();
        let reordered = canonical.replacen("{\"batch\":null,", "{", 1).replacen("}", ",\"batch\":null}", 1);
        let variants = [
            canonical.replacen(":", ": ", 1),
            format!("{canonical}\n"),
            format!(" {canonical}"),
            canonical.replacen("\"index\":7", "\"index\":7.0", 1),
            canonical.replacen("\"index\":7", "\"index\":07", 1),
            canonical.replacen("ClaimSubmitted", "Claim\\u0053ubmitted", 1),
            canonical.replacen("intake", "int\\/ake", 1),
            reordered,
            canonical.replacen("{\"batch\":null,", "{", 1),
        ];
        for variant in variants {
            assert!(LeafRecord::from_bytes(variant.as_bytes()).is_err(), "{variant}");
        }
    }

    #[test]
    fn unknown_duplicate_or_mistyped_fields_are_rejected() {
        let canonical = String::from_utf8(record().to_bytes()).unwrap();
        let extra = canonical.replacen("}", ",\"zz\":1}", 1);
        let duplicate = canonical.replacen("{", "{\"batch\":null,", 1);
        let mistyped = canonical.replacen("\"index\":7", "\"index\":\"7\"", 1);
        let negative = canonical.replacen("\"index\":7", "\"index\":-7", 1);
        let verified_null = canonical.replacen("}", ",\"verified\":null}", 1);
        assert_eq!(LeafRecord::from_bytes(verified_null.as_bytes()), Err(LeafError::NotCanonical));
        for bad in [extra, duplicate, mistyped, negative, "[]".to_string()] {
            assert!(matches!(LeafRecord::from_bytes(bad.as_bytes()), Err(LeafError::InvalidJson(_))), "{bad}");
        }
        assert!(LeafRecord::from_bytes(&[0xff, 0xfe]).is_err());
    }

    fn arbitrary_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::strategy::Strategy as _;
        // Plain text, every escaped character, DEL, and multi-byte UTF-8.
        proptest::collection::vec(
            proptest::prop_oneof![
                proptest::char::range('a', 'z'),
                proptest::char::range('\u{0}', '\u{20}'),
                proptest::sample::select(vec!['"', '\\', '/', '\u{7f}', 'é', '€', '😀']),
            ],
            0..12,
        )
        .prop_map(|chars| chars.into_iter().collect())
    }

    fn arbitrary_record() -> impl proptest::strategy::Strategy<Value = LeafRecord> {
        use proptest::prelude::*;
        let batch = (
            arbitrary_text(),
            arbitrary_text(),
            any::<u64>(),
            arbitrary_text(),
            proptest::collection::vec(arbitrary_text(), 0..4),
            arbitrary_text(),
            any::<u64>(),
        )
            .prop_map(|(event_hash, id, index, key, path, root, size)| LeafBatch {
                event_hash,
                id,
                index,
                key,
                path,
                root,
                signature: "c2ln".into(),
                size,
            });
        (
            any::<u64>(),
            arbitrary_text(),
            arbitrary_text(),
            arbitrary_text(),
            arbitrary_text(),
            arbitrary_text(),
            proptest::option::of(batch),
            proptest::option::of(any::<bool>()),
        )
            .prop_map(|(index, event_id, event_type, producer, occurred_at, commitment, batch, verified)| LeafRecord {
                index,
                event_id,
                event_type,
                producer,
                occurred_at,
                commitment,
                batch,
                verified,
            })
    }

    proptest::proptest! {
        /// The one-pass reader reads back whatever `to_bytes` writes.
        #[test]
        fn the_canonical_reader_reads_every_written_record(record in arbitrary_record()) {
            let bytes = record.to_bytes();
            proptest::prop_assert_eq!(canonical::read(&bytes), Some(record.clone()));
            proptest::prop_assert_eq!(LeafRecord::from_bytes_by_serde(&bytes), Ok(record));
        }

        /// After any edit, the one-pass reader accepts only what the serde path accepts, as the same record.
        #[test]
        fn the_canonical_reader_accepts_no_more_than_serde(
            record in arbitrary_record(),
            edits in proptest::collection::vec((proptest::prelude::any::<proptest::sample::Index>(), 0u8..3, proptest::prelude::any::<u8>()), 1..4),
        ) {
            let mut bytes = record.to_bytes();
            for (at, kind, byte) in edits {
                let position = at.index(bytes.len() + 1);
                match kind {
                    0 if position < bytes.len() => bytes[position] = byte,
                    1 if position < bytes.len() => { bytes.remove(position); }
                    _ => bytes.insert(position, byte),
                }
            }
            if let Some(read) = canonical::read(&bytes) {
                proptest::prop_assert_eq!(LeafRecord::from_bytes_by_serde(&bytes), Ok(read));
            }
        }
    }

    #[test]
    fn the_leaf_hash_covers_the_canonical_bytes() {
        assert_eq!(record().leaf_hash(), leaf_hash(&record().to_bytes()));
        let mut other = record();
        other.index = 8;
        assert_ne!(record().leaf_hash(), other.leaf_hash());
    }
}
