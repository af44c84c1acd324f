//! Offline verification of a whole ledger: entries, hash chain, Merkle roots
//! and signed checkpoints. Used by `claimtrail verify`.
//!
//! [`Verifier`] is streaming: memory is O(log n) for the tree plus one
//! `(size, root)` per checkpoint not yet reached, whatever the ledger size.
//! Push the checkpoints first (they are few), then the entries in index order.

use std::collections::{BTreeMap, HashSet};

use thiserror::Error;

use crate::batch::BatchProof;
use crate::hash::{CHAIN_SEED, Hash, chain_next, empty_root, leaf_hash};
use crate::leaf::{LeafBatch, LeafRecord};
use crate::merkle::Frontier;
use crate::note::{VerifierKey, open_checkpoint};

/// What a successful verification established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Number of entries read, indexes `0..entries`.
    pub entries: u64,
    /// Number of checkpoints whose signature and root both verified.
    pub checkpoints_verified: usize,
    /// Size of the largest verified checkpoint (0 if none).
    pub last_size: u64,
    /// Root of the largest verified checkpoint (the empty root if none).
    pub last_root: Hash,
    /// Merkle root over all `entries`, signed or not.
    pub tree_root: Hash,
    /// Chain value of the last entry ([`CHAIN_SEED`] if there are none).
    pub chain_head: Hash,
    /// What the producer-signature checks found.
    pub producers: ProducerReport,
}

/// Producer batch signatures seen by the [`Verifier`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProducerReport {
    /// Whether signatures were checked (at least one producer key was trusted).
    pub checked: bool,
    /// Entries whose batch signature and inclusion path verified (or, unchecked, that carry one).
    pub signed_entries: u64,
    /// Distinct batch signatures verified.
    pub batches_verified: u64,
    /// Entries the anchor marked `verified: false` (their signature failed or was missing when appended).
    pub unverified_entries: u64,
    /// The first entry the anchor marked unverified.
    pub first_unverified: Option<u64>,
    /// Entries written before producers signed (no batch, no `verified`).
    pub unsigned_entries: u64,
}

/// Verified batch signatures remembered, at most (then the memory starts over).
const VERIFIED_BATCHES_MAX: usize = 4_096;

/// The first problem found. `first_bad_index` is the smallest entry index
/// that can be blamed, or `None` when a checkpoint itself is bad (forged,
/// malformed, wrong origin).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{}{reason}", first_bad_index.map(|index| format!("first bad index {index}: ")).unwrap_or_default())]
pub struct VerifyFailure {
    pub first_bad_index: Option<u64>,
    pub reason: String,
}

/// Streaming ledger verifier: [`Verifier::new`], then
/// [`Verifier::push_checkpoint`] for each checkpoint, [`Verifier::push_entry`]
/// for each entry in index order, and [`Verifier::finish`].
///
/// After the first failure every call returns that same failure.
#[derive(Debug)]
pub struct Verifier {
    trusted: Vec<VerifierKey>,
    frontier: Frontier,
    chain_head: Hash,
    origin: Option<String>,
    /// Signature-checked checkpoints whose size the entries have not reached.
    pending_roots: BTreeMap<u64, Vec<Hash>>,
    n_checkpoints_pushed: usize,
    checkpoints_verified: usize,
    last_verified_size: u64,
    last_verified_root: Hash,
    failure: Option<VerifyFailure>,
    /// Trusted producer keys with the service each may sign for.
    producer_keys: Vec<(String, VerifierKey)>,
    /// (key, batch id, root, signature) of batches already verified.
    verified_batches: HashSet<(String, String, String, String)>,
    producers: ProducerReport,
}

impl Verifier {
    /// A verifier that accepts checkpoints signed by any of `trusted`.
    pub fn new(trusted: Vec<VerifierKey>) -> Verifier {
        Verifier {
            trusted,
            frontier: Frontier::new(),
            chain_head: CHAIN_SEED,
            origin: None,
            pending_roots: BTreeMap::new(),
            n_checkpoints_pushed: 0,
            checkpoints_verified: 0,
            last_verified_size: 0,
            last_verified_root: empty_root(),
            failure: None,
            producer_keys: Vec::new(),
            verified_batches: HashSet::new(),
            producers: ProducerReport::default(),
        }
    }

    /// Also checks producer batch signatures with these keys, each trusted
    /// for the named service only. With none, producer signatures are not checked.
    pub fn with_producer_keys(mut self, keys: Vec<(String, VerifierKey)>) -> Verifier {
        self.producers.checked = !keys.is_empty();
        self.producer_keys = keys;
        self
    }

    /// Opens a signed checkpoint note and schedules its root for comparison
    /// when the entries reach its size. Its signature is checked now.
    ///
    /// Checkpoints must arrive before the entries they cover (a checkpoint
    /// smaller than the entries already pushed cannot be checked), and all
    /// must share one origin.
    pub fn push_checkpoint(&mut self, note_text: &str) -> Result<(), VerifyFailure> {
        self.check_not_failed()?;
        self.n_checkpoints_pushed += 1;
        let checkpoint_number = self.n_checkpoints_pushed;
        let opened = match open_checkpoint(note_text, &self.trusted) {
            Ok(opened) => opened,
            Err(error) => {
                return self.fail(None, format!("checkpoint #{checkpoint_number}: {error}"));
            }
        };
        let checkpoint = opened.checkpoint;
        match &self.origin {
            None => self.origin = Some(checkpoint.origin.clone()),
            Some(origin) if *origin != checkpoint.origin => {
                return self.fail(None, format!("checkpoint #{checkpoint_number} is for origin {:?}, not {origin:?}", checkpoint.origin));
            }
            Some(_) => {}
        }
        let n_entries = self.frontier.size();
        if checkpoint.size < n_entries {
            return self.fail(
                None,
                format!(
                    "checkpoint #{checkpoint_number} (size {}) was pushed after {n_entries} entries; \
                     push checkpoints before the entries they cover",
                    checkpoint.size
                ),
            );
        }
        if checkpoint.size == n_entries {
            return self.check_root(checkpoint.size, &checkpoint.root);
        }
        self.pending_roots.entry(checkpoint.size).or_default().push(checkpoint.root);
        Ok(())
    }

    /// Checks the next entry: its index, canonical leaf record, chain value
    /// (when `stored_chain` is given) and any checkpoint of this size.
    pub fn push_entry(&mut self, index: u64, leaf_bytes: &[u8], stored_chain: Option<Hash>) -> Result<(), VerifyFailure> {
        self.check_not_failed()?;
        let expected_index = self.frontier.size();
        if index != expected_index {
            let reason = if index > expected_index {
                format!("entry {expected_index} is missing: the next entry has index {index}")
            } else {
                format!("expected entry {expected_index} but found index {index} again (duplicate or reordered)")
            };
            return self.fail(Some(expected_index), reason);
        }
        let record = match LeafRecord::from_bytes(leaf_bytes) {
            Ok(record) if record.index == index => record,
            Ok(record) => {
                return self.fail(Some(index), format!("entry {index} holds the leaf record of index {} (moved)", record.index));
            }
            Err(error) => return self.fail(Some(index), format!("entry {index}: {error}")),
        };
        let leaf = leaf_hash(leaf_bytes);
        let chain = chain_next(&self.chain_head, &leaf);
        if let Some(stored) = stored_chain
            && stored != chain
        {
            return self
                .fail(Some(index), format!("entry {index}: stored chain value {} does not match the recomputed {}", hex::encode(stored), hex::encode(chain)));
        }
        if let Err(reason) = self.check_producer(&record) {
            return self.fail(Some(index), format!("entry {index}: {reason}"));
        }
        self.chain_head = chain;
        self.frontier.push(leaf);
        let size = self.frontier.size();
        if let Some(roots) = self.pending_roots.remove(&size) {
            for root in roots {
                self.check_root(size, &root)?;
            }
        }
        Ok(())
    }

    /// Ends verification. Fails if a checkpoint covers more entries than
    /// were pushed (the ledger was truncated or entries are missing).
    pub fn finish(self) -> Result<Report, VerifyFailure> {
        if let Some(failure) = self.failure {
            return Err(failure);
        }
        let n_entries = self.frontier.size();
        if let Some((&checkpoint_size, _)) = self.pending_roots.first_key_value() {
            return Err(VerifyFailure {
                first_bad_index: Some(n_entries),
                reason: format!("a checkpoint covers {checkpoint_size} entries but only {n_entries} are present"),
            });
        }
        Ok(Report {
            entries: n_entries,
            checkpoints_verified: self.checkpoints_verified,
            last_size: self.last_verified_size,
            last_root: self.last_verified_root,
            tree_root: self.frontier.root(),
            chain_head: self.chain_head,
            producers: self.producers,
        })
    }

    /// The producer's batch signature and the entry's inclusion in the batch.
    fn check_producer(&mut self, record: &LeafRecord) -> Result<(), String> {
        let batch = match (&record.batch, record.verified) {
            (_, Some(false)) => {
                self.producers.unverified_entries += 1;
                self.producers.first_unverified.get_or_insert(record.index);
                return Ok(());
            }
            (None, None) => {
                self.producers.unsigned_entries += 1;
                return Ok(());
            }
            (None, Some(true)) => return Err("marked verified but carries no producer batch".into()),
            (Some(batch), _) => batch,
        };
        let Some((service, key)) = record.producer.split_once('/') else {
            return Err(format!("producer `{}` is not <service>/<key>", record.producer));
        };
        if key != batch.key {
            return Err(format!("the batch is signed by {} but the entry names producer key {key}", batch.key));
        }
        if !self.producers.checked {
            self.producers.signed_entries += 1;
            return Ok(());
        }
        check_batch(batch, service, &self.producer_keys, &mut self.verified_batches, &mut self.producers.batches_verified)?;
        self.producers.signed_entries += 1;
        Ok(())
    }

    fn check_root(&mut self, size: u64, signed_root: &Hash) -> Result<(), VerifyFailure> {
        debug_assert_eq!(size, self.frontier.size());
        let computed_root = self.frontier.root();
        if computed_root != *signed_root {
            // Every entry below the last verified checkpoint is covered by a
            // matching signed root, so the first one that can be blamed is
            // the first entry after it.
            let first_uncovered = self.last_verified_size;
            if first_uncovered == size {
                return self.fail(
                    None,
                    format!(
                        "two signed checkpoints at size {size} have different roots (a fork): {} and {}",
                        hex::encode(self.last_verified_root),
                        hex::encode(signed_root)
                    ),
                );
            }
            return self.fail(
                Some(first_uncovered),
                format!(
                    "checkpoint at size {size} signs root {} but entries 0..{size} hash to {}; \
                     entries up to {first_uncovered} match an earlier checkpoint",
                    hex::encode(signed_root),
                    hex::encode(computed_root)
                ),
            );
        }
        self.checkpoints_verified += 1;
        self.last_verified_size = size;
        self.last_verified_root = computed_root;
        Ok(())
    }

    fn check_not_failed(&self) -> Result<(), VerifyFailure> {
        match &self.failure {
            Some(failure) => Err(failure.clone()),
            None => Ok(()),
        }
    }

    fn fail(&mut self, first_bad_index: Option<u64>, reason: String) -> Result<(), VerifyFailure> {
        let failure = VerifyFailure { first_bad_index, reason };
        self.failure = Some(failure.clone());
        Err(failure)
    }
}

/// Checks one entry's batch: the key is trusted for `service`, the event
/// hash is included under the root, and the signature verifies (once per batch).
fn check_batch(
    batch: &LeafBatch,
    service: &str,
    keys: &[(String, VerifierKey)],
    verified: &mut HashSet<(String, String, String, String)>,
    n_verified: &mut u64,
) -> Result<(), String> {
    use base64::Engine as _;
    let Some((_, key)) = keys.iter().find(|(key_service, key)| key_service == service && key.label() == batch.key) else {
        return Err(format!("producer key {} is not trusted for {service}", batch.key));
    };
    let event_hash: Hash = base64::engine::general_purpose::STANDARD
        .decode(&batch.event_hash)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or("the batch's event hash is not base64 of 32 bytes")?;
    let proof: BatchProof = batch.proof();
    let decoded = proof.check_inclusion(&event_hash).map_err(|e| format!("batch {}: {e}", batch.id))?;
    let memo = (batch.key.clone(), batch.id.clone(), batch.root.clone(), batch.signature.clone());
    if verified.contains(&memo) {
        return Ok(());
    }
    if !key.verify(&proof.message(service, &decoded.root), &decoded.signature) {
        return Err(format!("the producer signature of batch {} by {} does not verify", batch.id, batch.key));
    }
    if verified.len() >= VERIFIED_BATCHES_MAX {
        verified.clear();
    }
    verified.insert(memo);
    *n_verified += 1;
    Ok(())
}

/// Verifies a whole ledger in one call: every checkpoint note, then every
/// entry `(index, leaf_bytes, stored_chain)` in order.
pub fn verify_ledger<Entries, Checkpoints>(entries: Entries, checkpoint_notes: Checkpoints, trusted: Vec<VerifierKey>) -> Result<Report, VerifyFailure>
where
    Entries: IntoIterator<Item = (u64, Vec<u8>, Option<Hash>)>,
    Checkpoints: IntoIterator,
    Checkpoints::Item: AsRef<str>,
{
    let mut verifier = Verifier::new(trusted);
    for note_text in checkpoint_notes {
        verifier.push_checkpoint(note_text.as_ref())?;
    }
    for (index, leaf_bytes, stored_chain) in entries {
        verifier.push_entry(index, &leaf_bytes, stored_chain)?;
    }
    verifier.finish()
}

#[cfg(test)]
mod tests;
