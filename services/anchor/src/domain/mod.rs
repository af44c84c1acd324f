//! The anchor's domain core: what goes into the ledger, and when and what it
//! signs. Pure: no IO, no SQL, no HTTP, no bus (a test in the crate's root
//! fails on any such import); [`crate::consumer`] and [`crate::checkpointer`]
//! load the facts (the ledger's tail, the events already appended, the
//! registered producer keys, the stored entries), call these functions and
//! persist what they return.
//!
//! - Appending: [`check_proof`] and [`signing_key`] judge each event's
//!   producer batch proof (the signatures themselves are verified together,
//!   in one Ed25519 batch verification, by the consumer); [`entries`] turns a
//!   delivery into ledger entries after the tail, each event once, an event
//!   whose proof failed recorded all the same with `verified: false`.
//! - Checkpointing ([`checkpoint`]): which stored entries check out, when a
//!   checkpoint is due, and how many witnesses cosigned it.

pub mod checkpoint;

use std::collections::{HashMap, HashSet};

use claimtrail_events::Envelope;
use claimtrail_ledger::batch::{self, BatchProof};
use claimtrail_ledger::hash::{CHAIN_SEED, Hash, chain_next, leaf_hash};
use claimtrail_ledger::leaf::{LeafBatch, LeafRecord};
use claimtrail_ledger::note::VerifierKey;
use uuid::Uuid;

pub use checkpoint::{EntryFault, check_entry, checkpoint_due, is_published, quorum_of};

/// The fault of an event delivered without its batch proof.
pub const NO_PROOF: &str = "no producer batch proof came with the event";

/// What the appender found out about an event's producer batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchVerdict {
    /// The batch reference the leaf carries, when the proof could be read.
    pub batch: Option<LeafBatch>,
    /// Why it does not verify; None when it does.
    pub fault: Option<String>,
}

impl BatchVerdict {
    /// The verdict on an event that came without a proof.
    pub fn unproven() -> BatchVerdict {
        BatchVerdict { batch: None, fault: Some(NO_PROOF.into()) }
    }

    pub fn is_verified(&self) -> bool {
        self.fault.is_none()
    }
}

/// What an event's batch proof says before its signature is checked.
#[derive(Debug)]
pub enum ProofCheck {
    /// Already known not to verify (no proof, unreadable, wrong key, bad inclusion path).
    Fault(BatchVerdict),
    /// The inclusion path holds; the batch signature over `root` remains to verify.
    Signed { verdict: BatchVerdict, proof: Box<BatchProof>, root: Hash, signature: [u8; 64] },
}

/// One ledger entry, as appended (the `ledger` row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub index: i64,
    pub event_id: Uuid,
    /// The leaf record's canonical bytes (docs/ledger-format.md).
    pub leaf: Vec<u8>,
    pub leaf_hash: Hash,
    pub chain: Hash,
}

/// Why entries cannot be appended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("ledger index overflow")]
    IndexOverflow,
}

/// Reads the producer batch proof that came beside `envelope` (its
/// canonical `bytes`): the proof must parse, be signed by the key the
/// envelope names, and include the event.
pub fn check_proof(envelope: &Envelope, bytes: &[u8], batch: Option<&str>) -> ProofCheck {
    let Some(text) = batch else {
        return ProofCheck::Fault(BatchVerdict::unproven());
    };
    let proof = match BatchProof::parse(text) {
        Ok(proof) => proof,
        Err(e) => return ProofCheck::Fault(BatchVerdict { batch: None, fault: Some(e.to_string()) }),
    };
    let event_hash = batch::event_hash(bytes);
    let leaf_batch = LeafBatch::new(&event_hash, &proof);
    if proof.key != envelope.producer.key_id {
        let fault = format!("the batch is signed by {} but the envelope names {}", proof.key, envelope.producer.key_id);
        return ProofCheck::Fault(BatchVerdict { batch: Some(leaf_batch), fault: Some(fault) });
    }
    match proof.check_inclusion(&event_hash) {
        Ok(decoded) => ProofCheck::Signed {
            verdict: BatchVerdict { batch: Some(leaf_batch), fault: None },
            proof: Box::new(proof),
            root: decoded.root,
            signature: decoded.signature,
        },
        Err(e) => ProofCheck::Fault(BatchVerdict { batch: Some(leaf_batch), fault: Some(e.to_string()) }),
    }
}

/// The key a batch signature is checked with: the registered key of
/// `label`, which must be registered for the `service` the envelope names.
/// `registered` maps labels to (service, key).
pub fn signing_key<'k>(registered: &'k HashMap<String, (String, VerifierKey)>, label: &str, service: &str) -> Result<&'k VerifierKey, String> {
    match registered.get(label) {
        Some((key_service, key)) if key_service == service => Ok(key),
        Some((key_service, _)) => Err(format!("producer key {label} is registered for {key_service}, not {service}")),
        None => Err(format!("producer key {label} is not registered")),
    }
}

/// Where the next entry goes: after the tail (last index and chain value), or at 0 after the chain seed.
pub fn next_after(tail: Option<(u64, Hash)>) -> (u64, Hash) {
    match tail {
        Some((last, chain)) => (last + 1, chain),
        None => (0, CHAIN_SEED),
    }
}

/// The ledger entries of `envelopes` from `index` on, after the chain
/// value `chain`, leaving out the events in `present` (appended before) and
/// repeats within the delivery; built one by one as they are taken, so
/// hashing overlaps the writing. `on_entry` sees each event appended, its
/// verdict and its index (the consumer logs and counts there).
pub fn entries<'a>(
    envelopes: &'a [&'a Envelope],
    verdicts: &'a [BatchVerdict],
    present: HashSet<Uuid>,
    mut index: u64,
    mut chain: Hash,
    mut on_entry: impl FnMut(&Envelope, &BatchVerdict, u64) + 'a,
) -> impl Iterator<Item = Result<Entry, Rejection>> + 'a {
    let mut seen = HashSet::with_capacity(envelopes.len());
    envelopes.iter().zip(verdicts).filter(move |(envelope, _)| !present.contains(&envelope.event_id) && seen.insert(envelope.event_id)).map(
        move |(envelope, verdict)| {
            on_entry(envelope, verdict, index);
            let record = LeafRecord {
                index,
                event_id: envelope.event_id.to_string(),
                event_type: envelope.event_type.clone(),
                producer: producer_of(envelope),
                occurred_at: envelope.occurred_at.to_string(),
                commitment: envelope.commitment.clone(),
                batch: verdict.batch.clone(),
                verified: Some(verdict.is_verified()),
            };
            let leaf = record.to_bytes();
            let leaf_hash = leaf_hash(&leaf);
            chain = chain_next(&chain, &leaf_hash);
            let row_index = i64::try_from(index).map_err(|_| Rejection::IndexOverflow)?;
            index += 1;
            Ok(Entry { index: row_index, event_id: envelope.event_id, leaf, leaf_hash, chain })
        },
    )
}

/// The producer a leaf names: `<service>/<key id>`.
pub fn producer_of(envelope: &Envelope) -> String {
    format!("{}/{}", envelope.producer.service, envelope.producer.key_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use claimtrail_events::{Producer, Timestamp};
    use claimtrail_ledger::note::SignerKey;

    /// What the ledger holds before the delivery.
    struct Given {
        tail: Option<(u64, Hash)>,
        present: HashSet<Uuid>,
    }

    fn empty() -> Given {
        Given { tail: None, present: HashSet::new() }
    }

    /// Given the ledger, when a delivery of (event, verdict) comes, then these entries.
    fn check(given: Given, when: &[(&Envelope, BatchVerdict)], then: impl FnOnce(Result<Vec<Entry>, Rejection>)) {
        let envelopes: Vec<&Envelope> = when.iter().map(|(envelope, _)| *envelope).collect();
        let verdicts: Vec<BatchVerdict> = when.iter().map(|(_, verdict)| verdict.clone()).collect();
        let (index, chain) = next_after(given.tail);
        then(entries(&envelopes, &verdicts, given.present, index, chain, |_, _, _| {}).collect());
    }

    fn envelope(n: u128) -> Envelope {
        Envelope {
            event_id: Uuid::from_u128(n),
            event_type: "claim.submitted.v1".into(),
            aggregate_id: format!("claim-{n}"),
            aggregate_seq: 1,
            occurred_at: Timestamp::parse("2026-11-24T23:48:53.000100Z").unwrap(),
            producer: Producer { service: "intake".into(), key_id: "intake+0a1b2c3d".into() },
            correlation_id: Uuid::from_u128(n),
            causation_id: None,
            traceparent: None,
            commitment: "ab".repeat(32),
            partition: None,
            payload: serde_json::json!({}),
        }
    }

    fn verified() -> BatchVerdict {
        BatchVerdict { batch: None, fault: None }
    }

    fn leaf(entry: &Entry) -> LeafRecord {
        LeafRecord::from_bytes(&entry.leaf).unwrap()
    }

    #[test]
    fn the_first_entries_follow_the_chain_seed_in_delivery_order() {
        let (a, b) = (envelope(1), envelope(2));
        check(empty(), &[(&a, verified()), (&b, verified())], |then| {
            let entries = then.unwrap();
            assert_eq!(entries.iter().map(|entry| (entry.index, entry.event_id)).collect::<Vec<_>>(), [(0, a.event_id), (1, b.event_id)]);
            assert_eq!(entries[0].leaf_hash, leaf_hash(&entries[0].leaf));
            assert_eq!(entries[0].chain, chain_next(&CHAIN_SEED, &entries[0].leaf_hash));
            assert_eq!(entries[1].chain, chain_next(&entries[0].chain, &entries[1].leaf_hash));
            let record = leaf(&entries[1]);
            assert_eq!((record.index, record.producer.as_str(), record.verified), (1, "intake/intake+0a1b2c3d", Some(true)));
            assert_eq!(record.occurred_at, "2026-11-24T23:48:53.000100Z");
        });
    }

    #[test]
    fn entries_continue_after_the_tail() {
        let tail_chain = [7u8; 32];
        check(Given { tail: Some((41, tail_chain)), present: HashSet::new() }, &[(&envelope(1), verified())], |then| {
            let entries = then.unwrap();
            assert_eq!(entries[0].index, 42);
            assert_eq!(entries[0].chain, chain_next(&tail_chain, &entries[0].leaf_hash));
        });
    }

    #[test]
    fn an_event_already_in_the_ledger_is_left_out_and_the_next_takes_its_place() {
        let (a, b) = (envelope(1), envelope(2));
        check(Given { tail: Some((9, [1; 32])), present: HashSet::from([a.event_id]) }, &[(&a, verified()), (&b, verified())], |then| {
            assert_eq!(then.unwrap().iter().map(|entry| (entry.index, entry.event_id)).collect::<Vec<_>>(), [(10, b.event_id)]);
        });
    }

    #[test]
    fn an_event_delivered_twice_in_one_batch_is_appended_once() {
        let a = envelope(1);
        check(empty(), &[(&a, verified()), (&a, verified())], |then| assert_eq!(then.unwrap().len(), 1));
    }

    #[test]
    fn an_event_whose_proof_fails_is_recorded_unverified() {
        let a = envelope(1);
        check(empty(), &[(&a, BatchVerdict::unproven())], |then| {
            let entries = then.unwrap();
            assert_eq!(leaf(&entries[0]).verified, Some(false));
        });
    }

    #[test]
    fn an_index_beyond_the_database_range_is_refused() {
        check(Given { tail: Some((i64::MAX as u64, [0; 32])), present: HashSet::new() }, &[(&envelope(1), verified())], |then| {
            assert_eq!(then.unwrap_err(), Rejection::IndexOverflow);
        });
    }

    /// A producer key and the proofs of a batch of `envelopes`, signed as `service`.
    fn signed(envelopes: &[&Envelope], service: &str) -> (SignerKey, Vec<Vec<u8>>, Vec<BatchProof>) {
        let signer = SignerKey::generate(service).unwrap();
        let bytes: Vec<Vec<u8>> = envelopes.iter().map(|envelope| envelope.event_id.as_bytes().to_vec()).collect();
        let hashes: Vec<Hash> = bytes.iter().map(|bytes| batch::event_hash(bytes)).collect();
        let proofs = batch::sign(&signer, service, "batch-1", &hashes);
        (signer, bytes, proofs)
    }

    #[test]
    fn a_proof_that_includes_the_event_leaves_only_the_signature_to_verify() {
        let (a, b) = (envelope(1), envelope(2));
        let (signer, bytes, proofs) = signed(&[&a, &b], "intake");
        let mut a = a;
        a.producer.key_id = proofs[0].key.clone();
        match check_proof(&a, &bytes[0], Some(&proofs[0].to_text())) {
            ProofCheck::Signed { verdict, proof, .. } => {
                assert!(verdict.is_verified());
                assert_eq!(proof.key, batch::key_label(signer.name(), signer.key_id()));
            }
            other => panic!("expected a signed proof, got {other:?}"),
        }
    }

    #[test]
    fn a_missing_unreadable_misattributed_or_foreign_proof_is_a_fault() {
        let (a, b) = (envelope(1), envelope(2));
        let (_, bytes, proofs) = signed(&[&a, &b], "intake");
        let fault = |check: ProofCheck| match check {
            ProofCheck::Fault(verdict) => verdict.fault.unwrap(),
            other => panic!("expected a fault, got {other:?}"),
        };
        assert_eq!(fault(check_proof(&a, &bytes[0], None)), NO_PROOF);
        assert!(!fault(check_proof(&a, &bytes[0], Some("not a proof"))).is_empty());
        // The envelope names another key than the one that signed.
        assert!(fault(check_proof(&a, &bytes[0], Some(&proofs[0].to_text()))).contains("but the envelope names"));
        // b's proof beside a's bytes: the inclusion path does not hold.
        let mut a = a;
        a.producer.key_id = proofs[1].key.clone();
        let _ = fault(check_proof(&a, &bytes[0], Some(&proofs[1].to_text())));
    }

    #[test]
    fn a_batch_key_counts_only_when_registered_for_the_service_that_signed() {
        let key = SignerKey::generate("intake").unwrap().verifier();
        let registered = HashMap::from([(key.label(), ("intake".to_owned(), key.clone()))]);
        assert_eq!(signing_key(&registered, &key.label(), "intake"), Ok(&key));
        assert!(signing_key(&registered, &key.label(), "settlement").unwrap_err().contains("is registered for intake, not settlement"));
        assert!(signing_key(&registered, "other+00000000", "intake").unwrap_err().contains("is not registered"));
    }
}
