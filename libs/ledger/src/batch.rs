//! Producer batch signatures: every service signs the events of one outbox
//! append with one Ed25519 signature over the RFC 9162 Merkle root of their
//! canonical envelope bytes, and each event travels with its inclusion path.
//!
//! ```text
//! event_hash[i] = H(0x00 ‖ canonical envelope bytes of event i)   (the tree's leaf hash)
//! root          = MTH(event_hash[0..size])                          RFC 9162, as the ledger's tree
//! message       = "claimtrail producer batch v1\n" ‖ service "\n" ‖ key "\n" ‖ batch id "\n"
//!                 ‖ size (decimal) "\n" ‖ base64(root) "\n"
//! signature     = Ed25519(producer key, message)
//! ```
//!
//! `key` is `<key name>+<key id>` (8 lowercase hex digits), the first two
//! fields of the producer's vkey; it is also the envelope's
//! `producer.key_id`. One signature covers a whole batch, so the hot path
//! pays one signature per append, not per event; checking an event costs its
//! inclusion path (log2(size) hashes) plus the batch's signature, which a
//! reader verifies once per batch and can verify in bulk
//! ([`verify_signatures`]).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::hash::{Hash, leaf_hash, node_hash};
use crate::merkle::verify_inclusion;
use crate::note::{SignerKey, VerifierKey};

/// First line of the signed message; a new format gets a new version.
pub const MESSAGE_PREFIX: &str = "claimtrail producer batch v1\n";

/// Why a batch proof was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BatchError {
    #[error("batch proof is malformed: {0}")]
    Malformed(String),
    #[error("the event is not in the batch: {0}")]
    NotIncluded(String),
    #[error("the batch is by key {proof_key} but the event names {event_key}")]
    KeyMismatch { proof_key: String, event_key: String },
    #[error("producer key {0} is not known")]
    UnknownKey(String),
    #[error("the batch signature by {0} does not verify")]
    BadSignature(String),
}

/// What travels beside one event (a NATS header, columns of the embedded
/// log): its batch, its position and its inclusion path. Serialized as
/// compact JSON with sorted keys; hashes and the signature are standard base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchProof {
    /// The batch id (a UUIDv7, as text).
    pub id: String,
    /// Position of the event in the batch, from 0.
    pub index: u64,
    /// `<key name>+<key id>` of the producer key that signed.
    pub key: String,
    /// RFC 9162 inclusion path of the event in the batch tree, nearest the leaf first.
    pub path: Vec<String>,
    /// Base64 of the batch's Merkle root.
    pub root: String,
    /// Base64 of the 64-byte Ed25519 signature over [`message`].
    pub signature: String,
    /// Events in the batch.
    pub size: u64,
}

/// A proof whose encodings were decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedProof {
    pub root: Hash,
    pub signature: [u8; 64],
    pub path: Vec<Hash>,
}

impl BatchProof {
    /// The compact JSON carried beside the event.
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn parse(text: &str) -> Result<BatchProof, BatchError> {
        serde_json::from_str(text).map_err(|e| BatchError::Malformed(e.to_string()))
    }

    /// Decodes root, signature and path.
    pub fn decode(&self) -> Result<DecodedProof, BatchError> {
        let root = decode_hash(&self.root).ok_or_else(|| BatchError::Malformed("root is not base64 of 32 bytes".into()))?;
        let signature: [u8; 64] = BASE64
            .decode(&self.signature)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(|| BatchError::Malformed("signature is not base64 of 64 bytes".into()))?;
        let path = self
            .path
            .iter()
            .map(|hash| decode_hash(hash))
            .collect::<Option<Vec<Hash>>>()
            .ok_or_else(|| BatchError::Malformed("path hash is not base64 of 32 bytes".into()))?;
        Ok(DecodedProof { root, signature, path })
    }

    /// Checks that `event_hash` is leaf `index` of the tree of `size` leaves with this root.
    pub fn check_inclusion(&self, event_hash: &Hash) -> Result<DecodedProof, BatchError> {
        let decoded = self.decode()?;
        verify_inclusion(self.index, self.size, event_hash, &decoded.path, &decoded.root).map_err(|e| BatchError::NotIncluded(e.to_string()))?;
        Ok(decoded)
    }

    /// The signed message of this proof's batch, for `service`.
    pub fn message(&self, service: &str, root: &Hash) -> Vec<u8> {
        message(service, &self.key, &self.id, self.size, root)
    }
}

pub(crate) fn decode_hash(text: &str) -> Option<Hash> {
    BASE64.decode(text).ok()?.try_into().ok()
}

/// `H(0x00 ‖ envelope bytes)`: an event's leaf hash in its batch tree.
pub fn event_hash(envelope_bytes: &[u8]) -> Hash {
    leaf_hash(envelope_bytes)
}

/// `<key name>+<key id>`: how envelopes, proofs and leaves name a producer key.
pub fn key_label(name: &str, key_id: impl std::fmt::Display) -> String {
    format!("{name}+{key_id}")
}

/// The bytes a producer signs for a batch.
pub fn message(service: &str, key: &str, batch_id: &str, size: u64, root: &Hash) -> Vec<u8> {
    format!("{MESSAGE_PREFIX}{service}\n{key}\n{batch_id}\n{size}\n{}\n", BASE64.encode(root)).into_bytes()
}

/// The RFC 9162 root of `event_hashes` and every leaf's inclusion path, in
/// one pass: level by level, pairing neighbours and promoting an odd last
/// node unchanged, which is the same tree as RFC 9162's split at the
/// largest power of two. `event_hashes` must not be empty.
pub fn tree(event_hashes: &[Hash]) -> (Hash, Vec<Vec<Hash>>) {
    assert!(!event_hashes.is_empty(), "a batch holds at least one event");
    let mut paths: Vec<Vec<Hash>> = vec![Vec::new(); event_hashes.len()];
    let mut level: Vec<Hash> = event_hashes.to_vec();
    // Position of each leaf at the current level.
    let mut positions: Vec<usize> = (0..event_hashes.len()).collect();
    while level.len() > 1 {
        for (leaf_idx, position) in positions.iter_mut().enumerate() {
            let sibling = *position ^ 1;
            if sibling < level.len() {
                paths[leaf_idx].push(level[sibling]);
            }
            *position >>= 1;
        }
        level = level.chunks(2).map(|pair| if pair.len() == 2 { node_hash(&pair[0], &pair[1]) } else { pair[0] }).collect();
    }
    (level[0], paths)
}

/// Signs a batch: returns one proof per event, in order.
pub fn sign(signer: &SignerKey, service: &str, batch_id: &str, event_hashes: &[Hash]) -> Vec<BatchProof> {
    let key = key_label(signer.name(), signer.key_id());
    let (root, paths) = tree(event_hashes);
    let size = event_hashes.len() as u64;
    let signature = BASE64.encode(signer.sign(&message(service, &key, batch_id, size, &root)));
    let root = BASE64.encode(root);
    paths
        .into_iter()
        .enumerate()
        .map(|(index, path)| BatchProof {
            id: batch_id.to_owned(),
            index: index as u64,
            key: key.clone(),
            path: path.iter().map(|hash| BASE64.encode(hash)).collect(),
            root: root.clone(),
            signature: signature.clone(),
            size,
        })
        .collect()
}

/// Checks many (key, message, signature) triples: one Ed25519 batch
/// verification for all of them, and one by one (strict) only when the
/// batch fails, to find which. Returns one verdict per triple.
pub fn verify_signatures(items: &[(&VerifierKey, &[u8], &[u8; 64])]) -> Vec<bool> {
    if items.is_empty() {
        return Vec::new();
    }
    let messages: Vec<&[u8]> = items.iter().map(|(_, message, _)| *message).collect();
    let signatures: Vec<ed25519_dalek::Signature> = items.iter().map(|(_, _, signature)| ed25519_dalek::Signature::from_bytes(signature)).collect();
    let keys: Vec<ed25519_dalek::VerifyingKey> = items.iter().map(|(key, _, _)| *key.verifying_key()).collect();
    if items.len() > 1 && ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok() {
        return vec![true; items.len()];
    }
    items.iter().map(|(key, message, signature)| key.verify(message, signature.as_slice())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{inclusion_proof, root};

    fn hashes(n: usize) -> Vec<Hash> {
        (0..n).map(|i| event_hash(format!("event {i}").as_bytes())).collect()
    }

    #[test]
    fn the_one_pass_tree_is_the_rfc_9162_tree() {
        for n in 1..70 {
            let leaves = hashes(n);
            let (computed_root, paths) = tree(&leaves);
            assert_eq!(computed_root, root(&leaves), "root of {n}");
            for (index, path) in paths.iter().enumerate() {
                assert_eq!(*path, inclusion_proof(index as u64, n as u64, &leaves).unwrap(), "path of {index} in {n}");
            }
        }
    }

    #[test]
    fn signed_proofs_verify_and_any_change_is_caught() {
        let signer = SignerKey::from_seed("intake-producer", &[7u8; 32]).unwrap();
        let leaves = hashes(5);
        let proofs = sign(&signer, "intake", "01a20ff6-597b-7c3e-8a4b-0c1d2e3f4a5b", &leaves);
        let verifier = signer.verifier();
        for (proof, leaf) in proofs.iter().zip(&leaves) {
            let parsed = BatchProof::parse(&proof.to_text()).unwrap();
            assert_eq!(&parsed, proof);
            let decoded = parsed.check_inclusion(leaf).unwrap();
            assert!(verifier.verify(&parsed.message("intake", &decoded.root), &decoded.signature));
            assert!(!verifier.verify(&parsed.message("adjudication", &decoded.root), &decoded.signature), "the service is signed");
        }
        assert!(proofs[1].check_inclusion(&leaves[2]).is_err());
        let mut moved = proofs[1].clone();
        moved.index = 2;
        assert!(moved.check_inclusion(&leaves[1]).is_err());
        assert!(BatchProof::parse("{\"id\":1}").is_err());
    }

    #[test]
    fn batch_verification_falls_back_to_find_the_bad_signature() {
        let signer = SignerKey::from_seed("intake-producer", &[7u8; 32]).unwrap();
        let other = SignerKey::from_seed("settlement-producer", &[8u8; 32]).unwrap();
        let (key_a, key_b) = (signer.verifier(), other.verifier());
        let messages: Vec<Vec<u8>> = (0..4).map(|i| format!("m{i}").into_bytes()).collect();
        let mut signatures: Vec<[u8; 64]> = messages.iter().enumerate().map(|(i, m)| if i % 2 == 0 { signer.sign(m) } else { other.sign(m) }).collect();
        let keys = [&key_a, &key_b, &key_a, &key_b];
        let items = |signatures: &[[u8; 64]]| -> Vec<bool> {
            let triples: Vec<(&VerifierKey, &[u8], &[u8; 64])> = (0..4).map(|i| (keys[i], messages[i].as_slice(), &signatures[i])).collect();
            verify_signatures(&triples)
        };
        assert_eq!(items(&signatures), vec![true; 4]);
        signatures[2][10] ^= 1;
        assert_eq!(items(&signatures), vec![true, true, false, true]);
        assert!(verify_signatures(&[]).is_empty());
    }

    #[test]
    fn the_message_is_text_with_one_field_per_line() {
        let message = message("intake", "intake-producer+0a1b2c3d", "id", 3, &[0u8; 32]);
        assert_eq!(
            String::from_utf8(message).unwrap(),
            "claimtrail producer batch v1\nintake\nintake-producer+0a1b2c3d\nid\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
        );
    }
}
