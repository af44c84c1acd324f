//! Offline verification of a whole ledger: entries, hash chain, Merkle roots
//! and signed checkpoints. Used by `claimtrail verify`.
//!
//! [`Verifier`] is streaming: memory is O(log n) for the tree plus one
//! `(size, root)` per checkpoint not yet reached, whatever the ledger size.
//! Push the checkpoints first (they are few), then the entries in index order.

use std::collections::{BTreeMap, HashSet};

use thiserror::Error;

use crate::batch::BatchProof;
use crate::hash::{CHAIN_SEED, Hash, chain_next, empty_root, leaf_hash, node_hash};
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
    producer_keys: Vec<TrustedKey>,
    /// (key, batch id, root, signature) of batches already verified.
    verified_batches: HashSet<BatchMemo>,
    /// The batch whose signature was verified last on this thread.
    last_batch: Option<BatchMemo>,
    /// The batch counted last (it is in `verified_batches`).
    last_counted: Option<BatchMemo>,
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
            last_batch: None,
            last_counted: None,
            producers: ProducerReport::default(),
        }
    }

    /// Also checks producer batch signatures with these keys, each trusted
    /// for the named service only. With none, producer signatures are not checked.
    pub fn with_producer_keys(mut self, keys: Vec<(String, VerifierKey)>) -> Verifier {
        self.producers.checked = !keys.is_empty();
        self.producer_keys = keys.into_iter().map(|(service, key)| TrustedKey { label: key.label(), service, key }).collect();
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
        let mut decoder = Decoder { keys: self.producers.checked.then_some(self.producer_keys.as_slice()), last: self.last_batch.take() };
        let decoded = decoder.decode(leaf_bytes);
        self.last_batch = decoder.last;
        self.apply(index, decoded, stored_chain)
    }

    /// [`Verifier::push_entry`] for each of `entries` in order, with the
    /// leaves decoded and hashed on every core first (the chain, the tree and
    /// the checkpoints then follow on this thread). Same result, same
    /// failure, as pushing them one by one.
    pub fn push_entries(&mut self, entries: &[EntryBytes]) -> Result<(), VerifyFailure> {
        self.check_not_failed()?;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
        let keys: Option<Vec<TrustedKey>> = self.producers.checked.then(|| self.producer_keys.clone());
        let keys = keys.as_deref();
        if threads == 1 || entries.len() < PARALLEL_MIN {
            let mut decoder = Decoder { keys, last: self.last_batch.take() };
            let decoded = decoder.decode_run(entries.iter().map(|(_, leaf, _)| leaf.as_slice()));
            for ((index, _, stored_chain), decoded) in entries.iter().zip(decoded) {
                self.apply(*index, decoded, *stored_chain)?;
            }
            self.last_batch = decoder.last;
            return Ok(());
        }
        // This thread decodes and checks a smaller first share while the
        // others decode the rest, then checks theirs in order: it also does
        // all of the sequential work (chain, tree, checkpoints).
        let own = entries.len() * 2 / (2 * threads + 1);
        let (first, rest) = entries.split_at(own);
        let part_len = rest.len().div_ceil(threads - 1);
        std::thread::scope(|scope| {
            let others: Vec<_> = rest
                .chunks(part_len)
                .map(|part| {
                    let mut decoder = Decoder { keys, last: None };
                    (part, scope.spawn(move || decoder.decode_run(part.iter().map(|(_, leaf, _)| leaf.as_slice()))))
                })
                .collect();
            let mut decoder = Decoder { keys, last: None };
            let decoded = decoder.decode_run(first.iter().map(|(_, leaf, _)| leaf.as_slice()));
            for ((index, _, stored_chain), decoded) in first.iter().zip(decoded) {
                self.apply(*index, decoded, *stored_chain)?;
            }
            for (part, other) in others {
                let decoded = other.join().expect("a leaf-decoding thread panicked");
                for ((index, _, stored_chain), decoded) in part.iter().zip(decoded) {
                    self.apply(*index, decoded, *stored_chain)?;
                }
            }
            Ok(())
        })
    }

    fn apply(&mut self, index: u64, decoded: Decoded, stored_chain: Option<Hash>) -> Result<(), VerifyFailure> {
        let expected_index = self.frontier.size();
        if index != expected_index {
            let reason = if index > expected_index {
                format!("entry {expected_index} is missing: the next entry has index {index}")
            } else {
                format!("expected entry {expected_index} but found index {index} again (duplicate or reordered)")
            };
            return self.fail(Some(expected_index), reason);
        }
        let producer = match decoded.record {
            Ok((record_index, producer)) if record_index == index => producer,
            Ok((record_index, _)) => {
                return self.fail(Some(index), format!("entry {index} holds the leaf record of index {record_index} (moved)"));
            }
            Err(error) => return self.fail(Some(index), format!("entry {index}: {error}")),
        };
        let leaf = decoded.leaf_hash;
        let chain = chain_next(&self.chain_head, &leaf);
        if let Some(stored) = stored_chain
            && stored != chain
        {
            return self
                .fail(Some(index), format!("entry {index}: stored chain value {} does not match the recomputed {}", hex::encode(stored), hex::encode(chain)));
        }
        if let Err(reason) = self.check_producer(index, producer) {
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

    /// The producer's batch signature and the entry's inclusion in the
    /// batch, after [`Producer::of`] did the checks that need no state.
    fn check_producer(&mut self, index: u64, producer: Producer) -> Result<(), String> {
        match producer {
            Producer::Unverified => {
                self.producers.unverified_entries += 1;
                self.producers.first_unverified.get_or_insert(index);
            }
            Producer::Unsigned => self.producers.unsigned_entries += 1,
            Producer::Faulty(reason) => return Err(reason),
            Producer::Signed(None) => self.producers.signed_entries += 1,
            Producer::Signed(Some(memo)) => {
                // Batches are counted once each (the set is bounded; a batch
                // seen again after it is cleared counts again).
                // `last_counted` is always in the set: a batch's entries
                // skip the lookup after the first.
                if self.last_counted.as_ref() != Some(&memo) {
                    if !self.verified_batches.contains(&memo) {
                        if self.verified_batches.len() >= VERIFIED_BATCHES_MAX {
                            self.verified_batches.clear();
                        }
                        self.verified_batches.insert(memo.clone());
                        self.producers.batches_verified += 1;
                    }
                    self.last_counted = Some(memo);
                }
                self.producers.signed_entries += 1;
            }
        }
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

/// The checks of a signed entry that need no other entry: the key is
/// trusted for the service and the event hash decodes. The inclusion path
/// and the signature follow, entry by entry in [`check_included`] or for a
/// whole batch at once in [`check_whole_batch`].
fn trusted_batch<'k>(batch: LeafBatch, service: &str, keys: &'k [TrustedKey]) -> Result<Pending<'k>, String> {
    use base64::Engine as _;
    let Some(TrustedKey { key, .. }) = keys.iter().find(|trusted| trusted.service == service && trusted.label == batch.key) else {
        return Err(format!("producer key {} is not trusted for {service}", batch.key));
    };
    let event_hash: Hash = base64::engine::general_purpose::STANDARD
        .decode(&batch.event_hash)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or("the batch's event hash is not base64 of 32 bytes")?;
    Ok(Pending { batch, service: service.to_owned(), key, event_hash })
}

/// The rest of one entry's check: its inclusion path leads to the batch
/// root, and the batch signature verifies (once per batch while `last`
/// remembers it). Returns the batch's memo key.
fn check_included(pending: &Pending, last: &mut Option<BatchMemo>) -> Result<BatchMemo, String> {
    let batch = &pending.batch;
    let proof: BatchProof = batch.proof();
    let decoded = proof.check_inclusion(&pending.event_hash).map_err(|e| format!("batch {}: {e}", batch.id))?;
    let memo = pending.memo();
    if last.as_ref() == Some(&memo) {
        return Ok(memo);
    }
    if !pending.key.verify(&proof.message(&pending.service, &decoded.root), &decoded.signature) {
        return Err(format!("the producer signature of batch {} by {} does not verify", batch.id, batch.key));
    }
    *last = Some(memo.clone());
    Ok(memo)
}

/// The batch-root shortcut: `run` holds consecutive entries of one batch.
/// When they are the whole batch, in batch order, its tree is computed once
/// from their event hashes (about one hash per entry instead of a path of
/// log2(size) each): its root must be the signed root, every entry's path
/// must be the computed one, and the signature is verified once. Then every
/// entry would pass [`check_included`], and this returns the batch's memo.
///
/// `None` for a partial or reordered batch, or when anything differs (a
/// changed event hash, a wrong path, a bad signature): the entries are then
/// checked one by one, which blames the same first entry with the same
/// reason as ever.
fn check_whole_batch(run: &[Pending], last: &mut Option<BatchMemo>) -> Option<BatchMemo> {
    use base64::Engine as _;
    let first = run.first()?;
    let batch = &first.batch;
    if run.len() as u64 != batch.size || run.iter().enumerate().any(|(position, pending)| pending.batch.index != position as u64) {
        return None;
    }
    let signed_root = crate::batch::decode_hash(&batch.root)?;
    let signature: [u8; 64] = base64::engine::general_purpose::STANDARD.decode(&batch.signature).ok()?.try_into().ok()?;
    // The batch tree level by level, as [`crate::batch::tree`] builds it:
    // neighbours paired, an odd last node promoted unchanged.
    let mut levels: Vec<Vec<Hash>> = vec![run.iter().map(|pending| pending.event_hash).collect()];
    while let Some(level) = levels.last().filter(|level| level.len() > 1) {
        let parent = level.chunks(2).map(|pair| if let [left, right] = pair { node_hash(left, right) } else { pair[0] }).collect();
        levels.push(parent);
    }
    let root = levels.last()?[0];
    if root != signed_root {
        return None;
    }
    // Each entry's path is the sibling of its node at every level that has
    // one, nearest the leaf first; each stored element must be that node's
    // canonical base64 (compared as text, each node encoded once; any other
    // text falls back to the path check).
    let mut encoded: Vec<Vec<Option<String>>> = levels.iter().map(|level| vec![None; level.len()]).collect();
    for (leaf_idx, pending) in run.iter().enumerate() {
        let mut stored = pending.batch.path.iter();
        let mut position = leaf_idx;
        for (level, encoded) in levels.iter().zip(encoded.iter_mut()) {
            let sibling = position ^ 1;
            if sibling < level.len() {
                let text = stored.next()?;
                if encoded[sibling].get_or_insert_with(|| base64::engine::general_purpose::STANDARD.encode(level[sibling])) != text {
                    return None;
                }
            }
            position >>= 1;
        }
        if stored.next().is_some() {
            return None;
        }
    }
    let memo = first.memo();
    if last.as_ref() != Some(&memo) {
        if !first.key.verify(&crate::batch::message(&first.service, &batch.key, &batch.id, batch.size, &root), &signature) {
            return None;
        }
        *last = Some(memo.clone());
    }
    Some(memo)
}

/// A producer key trusted for one service, with its label (`<name>+<key id>`) computed once.
#[derive(Debug, Clone)]
struct TrustedKey {
    service: String,
    label: String,
    key: VerifierKey,
}

/// A signed entry whose key is trusted, waiting for its inclusion and signature checks.
struct Pending<'k> {
    batch: LeafBatch,
    service: String,
    key: &'k VerifierKey,
    event_hash: Hash,
}

impl Pending<'_> {
    fn memo(&self) -> BatchMemo {
        let batch = &self.batch;
        std::sync::Arc::new((batch.key.clone(), batch.id.clone(), batch.root.clone(), batch.signature.clone()))
    }

    /// Whether `other` claims the same signed batch (so the two may be checked together).
    fn same_batch(&self, other: &Pending) -> bool {
        let (a, b) = (&self.batch, &other.batch);
        a.id == b.id && a.key == b.key && a.root == b.root && a.signature == b.signature && a.size == b.size && self.service == other.service
    }
}

/// (key, batch id, root, signature) of a producer batch.
/// Shared: every entry of a batch holds the same one.
type BatchMemo = std::sync::Arc<(String, String, String, String)>;

/// Verifies a whole ledger in one call: every checkpoint note, then every
/// entry `(index, leaf_bytes, stored_chain)` in order.
pub fn verify_ledger<Entries, Checkpoints>(entries: Entries, checkpoint_notes: Checkpoints, trusted: Vec<VerifierKey>) -> Result<Report, VerifyFailure>
where
    Entries: IntoIterator<Item = EntryBytes>,
    Checkpoints: IntoIterator,
    Checkpoints::Item: AsRef<str>,
{
    let mut verifier = Verifier::new(trusted);
    for note_text in checkpoint_notes {
        verifier.push_checkpoint(note_text.as_ref())?;
    }
    let mut run = Vec::with_capacity(ENTRIES_PER_RUN);
    for entry in entries {
        run.push(entry);
        if run.len() == ENTRIES_PER_RUN {
            verifier.push_entries(&run)?;
            run.clear();
        }
    }
    verifier.push_entries(&run)?;
    verifier.finish()
}

/// An entry as a verifier takes it: index, leaf bytes, and the stored chain value if any.
pub type EntryBytes = (u64, Vec<u8>, Option<Hash>);

/// Entries [`verify_ledger`] hands to [`Verifier::push_entries`] at a time.
pub const ENTRIES_PER_RUN: usize = 4_096;

/// The part of an entry's check that depends on no other entry: the leaf
/// decoded (its index and producer part) and hashed.
struct Decoded {
    record: Result<(u64, Producer), crate::leaf::LeafError>,
    leaf_hash: Hash,
}

/// Decodes entries one after another on one thread.
struct Decoder<'k> {
    /// The trusted producer keys, when they are checked.
    keys: Option<&'k [TrustedKey]>,
    /// The batch whose signature this decoder verified last: a batch's
    /// entries are contiguous, so each signature is verified about once.
    last: Option<BatchMemo>,
}

/// What the first pass made of a leaf's producer part.
enum Early<'k> {
    /// Decided from the entry alone.
    Done(Producer),
    /// Signed by a trusted key: the inclusion and signature checks wait for the batch's other entries.
    Batch(Pending<'k>),
}

impl<'k> Decoder<'k> {
    fn decode(&mut self, leaf_bytes: &[u8]) -> Decoded {
        self.decode_run([leaf_bytes]).pop().expect("one leaf decodes to one result")
    }

    /// Decodes and hashes consecutive leaves. The entries of a producer
    /// batch that are all here, in order, are checked together
    /// ([`check_whole_batch`]); any other signed entry alone. Same results
    /// as decoding them one by one.
    fn decode_run<'a>(&mut self, leaves: impl IntoIterator<Item = &'a [u8]>) -> Vec<Decoded> {
        let keys = self.keys;
        let leaves = leaves.into_iter();
        let mut decoded = Vec::with_capacity(leaves.size_hint().0);
        // Consecutive pending entries of one batch: (index, leaf hash) and the pending checks.
        let mut run_entries: Vec<(u64, Hash)> = Vec::new();
        let mut run: Vec<Pending<'k>> = Vec::new();
        for leaf_bytes in leaves {
            let leaf_hash = leaf_hash(leaf_bytes);
            let record = LeafRecord::from_bytes(leaf_bytes).map(|record| (record.index, Producer::of(record, keys)));
            match record {
                Ok((index, Early::Batch(pending))) => {
                    if run.first().is_some_and(|first| !first.same_batch(&pending)) {
                        self.check_run(&mut run_entries, &mut run, &mut decoded);
                    }
                    run_entries.push((index, leaf_hash));
                    run.push(pending);
                }
                other => {
                    self.check_run(&mut run_entries, &mut run, &mut decoded);
                    let record = other.map(|(index, early)| match early {
                        Early::Done(producer) => (index, producer),
                        Early::Batch(_) => unreachable!("pending entries join the run"),
                    });
                    decoded.push(Decoded { record, leaf_hash });
                }
            }
        }
        self.check_run(&mut run_entries, &mut run, &mut decoded);
        decoded
    }

    /// Finishes the checks of the pending `run` and appends its entries to `decoded`.
    fn check_run(&mut self, run_entries: &mut Vec<(u64, Hash)>, run: &mut Vec<Pending<'k>>, decoded: &mut Vec<Decoded>) {
        if run.is_empty() {
            return;
        }
        match check_whole_batch(run, &mut self.last) {
            Some(memo) => {
                decoded
                    .extend(run_entries.drain(..).map(|(index, leaf_hash)| Decoded { record: Ok((index, Producer::Signed(Some(memo.clone())))), leaf_hash }));
            }
            None => {
                for ((index, leaf_hash), pending) in run_entries.drain(..).zip(run.iter()) {
                    let producer = match check_included(pending, &mut self.last) {
                        Ok(memo) => Producer::Signed(Some(memo)),
                        Err(reason) => Producer::Faulty(reason),
                    };
                    decoded.push(Decoded { record: Ok((index, producer)), leaf_hash });
                }
            }
        }
        run.clear();
    }
}

/// An entry's producer signature, as far as it can be told from the entry alone.
enum Producer {
    /// Recorded as not verified by the anchor.
    Unverified,
    /// From before producers signed.
    Unsigned,
    /// Inconsistent in itself.
    Faulty(String),
    /// Signed; with the batch's memo key when producer keys are checked
    /// (and the path and signature verified).
    Signed(Option<BatchMemo>),
}

impl Producer {
    /// The checks that need only this entry; `keys`: the trusted producer
    /// keys when they are checked.
    fn of(record: LeafRecord, keys: Option<&[TrustedKey]>) -> Early<'_> {
        let batch = match (record.batch, record.verified) {
            (_, Some(false)) => return Early::Done(Producer::Unverified),
            (None, None) => return Early::Done(Producer::Unsigned),
            (None, Some(true)) => return Early::Done(Producer::Faulty("marked verified but carries no producer batch".into())),
            (Some(batch), _) => batch,
        };
        let Some((service, key)) = record.producer.split_once('/') else {
            return Early::Done(Producer::Faulty(format!("producer `{}` is not <service>/<key>", record.producer)));
        };
        if key != batch.key {
            return Early::Done(Producer::Faulty(format!("the batch is signed by {} but the entry names producer key {key}", batch.key)));
        }
        match keys {
            None => Early::Done(Producer::Signed(None)),
            Some(keys) => match trusted_batch(batch, service, keys) {
                Ok(pending) => Early::Batch(pending),
                Err(reason) => Early::Done(Producer::Faulty(reason)),
            },
        }
    }
}

/// Below this many entries one thread decodes and checks them all.
const PARALLEL_MIN: usize = 256;

#[cfg(test)]
mod tests;
