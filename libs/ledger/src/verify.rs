//! Offline verification of a whole ledger: entries, hash chain, Merkle roots
//! and signed checkpoints. Used by `claimtrail verify`.
//!
//! [`Verifier`] is streaming: memory is O(log n) for the tree plus one
//! `(size, root)` per checkpoint not yet reached, whatever the ledger size.
//! Push the checkpoints first (they are few), then the entries in index order.

use std::collections::BTreeMap;

use thiserror::Error;

use crate::hash::{CHAIN_SEED, Hash, chain_next, empty_root, leaf_hash};
use crate::leaf::LeafRecord;
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
}

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
        }
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
        match LeafRecord::from_bytes(leaf_bytes) {
            Ok(record) if record.index == index => {}
            Ok(record) => {
                return self.fail(Some(index), format!("entry {index} holds the leaf record of index {} (moved)", record.index));
            }
            Err(error) => return self.fail(Some(index), format!("entry {index}: {error}")),
        }
        let leaf = leaf_hash(leaf_bytes);
        let chain = chain_next(&self.chain_head, &leaf);
        if let Some(stored) = stored_chain
            && stored != chain
        {
            return self
                .fail(Some(index), format!("entry {index}: stored chain value {} does not match the recomputed {}", hex::encode(stored), hex::encode(chain)));
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
        })
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
