//! Signs checkpoints over committed entries only.
//!
//! The checkpointer reads entries that have committed (it never sees an
//! uncommitted append), checks each leaf hash and chain value as it extends
//! the Merkle frontier, and every `checkpoint_entries` entries or
//! `checkpoint_interval_ms` signs the tree head and stores the note with the
//! frontier, so that a restart resumes from the last checkpoint instead of
//! rehashing the whole ledger. If the stored ledger does not check out
//! (someone edited the table), it stops signing and reports not ready.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use base64::Engine as _;
use claimtrail_events::{CheckpointSigned, NewEvent};
use claimtrail_ledger::hash::{CHAIN_SEED, Hash};
use claimtrail_ledger::merkle::Frontier;
use claimtrail_ledger::merkle::stored::Node;
use claimtrail_ledger::note::{Checkpoint, SignerKey};
use claimtrail_runtime::{Runtime, http::Readiness, killpoint};
use claimtrail_store::outbox;
use sea_orm::TransactionTrait;
use tokio::sync::watch;

use crate::domain::{check_entry, checkpoint_due, is_published, quorum_of};
use crate::sinks::{AnchorSink, ProofSource, Signed};
use crate::storage;
use crate::storage::tree::{self, TreeStore};

/// Entries read per pass.
const READ_BATCH_MAX: u64 = 10_000;

/// The checkpointer's position in the ledger.
pub struct Checkpointer {
    runtime: Runtime,
    signer: SignerKey,
    frontier: Frontier,
    chain: Hash,
    last_signed_size: u64,
    fault: Arc<Mutex<Option<String>>>,
    sinks: Vec<Box<dyn AnchorSink>>,
    /// The latest checkpoint while some sink has not taken it yet: the
    /// checkpoint, its note, and what each sink (by index) answered so far.
    unanchored: Option<Unanchored>,
    /// Stored-tree nodes completed since the last checkpoint, written with the next.
    nodes: Vec<(Node, Hash)>,
}

struct Unanchored {
    checkpoint: Checkpoint,
    note: String,
    done: BTreeMap<usize, Option<String>>,
    last_attempt: Instant,
}

#[async_trait::async_trait]
impl ProofSource for TreeStore {
    async fn consistency(&self, old_size: u64, new_size: u64) -> anyhow::Result<Vec<Hash>> {
        TreeStore::consistency(self, old_size, new_size).await.with_context(|| format!("consistency proof {old_size} -> {new_size}"))
    }
}

/// Whether `error` only asks to wait: the database is unreachable, or its disk is full (writes fail until space is freed).
fn database_waits(error: &anyhow::Error) -> bool {
    claimtrail_runtime::http::database_unreachable(error) || claimtrail_runtime::http::database_disk_full(error)
}

/// Seconds between attempts to hand a checkpoint to a sink that failed.
const SINK_RETRY: Duration = Duration::from_secs(5);

impl Checkpointer {
    /// Resumes from the last stored checkpoint (checking that its frontier
    /// gives its root).
    pub async fn start(runtime: Runtime, signer: SignerKey, sinks: Vec<Box<dyn AnchorSink>>) -> anyhow::Result<Checkpointer> {
        let store = &runtime.store;
        let (frontier, chain) = match storage::latest_checkpoint(store).await? {
            None => (Frontier::new(), CHAIN_SEED),
            Some(stored) => {
                let size = stored.size;
                let hashes: Vec<Hash> = stored.frontier.chunks(32).filter_map(|chunk| chunk.try_into().ok()).collect();
                let frontier = Frontier::from_parts(size, hashes).map_err(|e| anyhow::anyhow!("stored frontier of checkpoint {size} is invalid: {e}"))?;
                anyhow::ensure!(frontier.root().as_slice() == stored.root.as_slice(), "stored frontier of checkpoint {size} does not give its root");
                let chain = if size == 0 {
                    CHAIN_SEED
                } else {
                    storage::chain_at(store, size - 1).await?.with_context(|| format!("ledger entry {} of the last checkpoint is missing", size - 1))?
                };
                let rebuilt = tree::ensure_built(store, size, &frontier.root()).await.context("rebuilding the stored Merkle tree")?;
                if rebuilt > 0 {
                    tracing::info!(size, nodes = rebuilt, "stored Merkle tree rebuilt");
                }
                (frontier, chain)
            }
        };
        let last_signed_size = frontier.size();
        Ok(Checkpointer { runtime, signer, frontier, chain, last_signed_size, fault: Arc::new(Mutex::new(None)), sinks, unanchored: None, nodes: Vec::new() })
    }

    /// Not ready while the stored ledger fails its checks.
    pub fn health(&self) -> Readiness {
        let fault = self.fault.clone();
        Arc::new(move || match fault.lock().map(|f| f.clone()) {
            Ok(None) => Ok(()),
            Ok(Some(reason)) => Err(reason),
            Err(_) => Err("checkpointer state poisoned".into()),
        })
    }

    pub async fn run(mut self, mut stop: watch::Receiver<bool>) -> anyhow::Result<()> {
        let interval = Duration::from_millis(self.runtime.settings.anchor.checkpoint_interval_ms);
        let poll = interval.min(Duration::from_millis(100));
        let mut last_signed_at = Instant::now();
        loop {
            if *stop.borrow() {
                return Ok(());
            }
            match self.catch_up().await {
                Ok(()) => self.set_fault(None),
                Err(e) if database_waits(&e) => {
                    self.wait_for_database(&e, &mut stop).await;
                    continue;
                }
                Err(e) => {
                    let reason = format!("ledger check failed: {e:#}");
                    tracing::error!(alert = true, reason = %reason, "the stored ledger does not verify; checkpoints stopped");
                    metrics::counter!("claimtrail_ledger_alerts_total").increment(1);
                    self.set_fault(Some(reason));
                    // Keep serving reads; an operator must investigate. Check again later.
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_secs(5)) => {}
                        _ = stop.changed() => {}
                    }
                    continue;
                }
            }
            let pending = self.frontier.size() - self.last_signed_size;
            if checkpoint_due(pending, self.runtime.settings.anchor.checkpoint_entries, last_signed_at.elapsed(), interval) {
                // A failed signing rolls back and leaves the frontier as it was: it is retried.
                if let Err(e) = self.sign().await {
                    self.wait_or_fail(e, &mut stop).await?;
                    continue;
                }
                last_signed_at = Instant::now();
                if let Err(e) = self.anchor().await {
                    self.wait_or_fail(e, &mut stop).await?;
                    continue;
                }
            } else if self.unanchored.as_ref().is_some_and(|u| u.last_attempt.elapsed() >= SINK_RETRY)
                && let Err(e) = self.anchor().await
            {
                self.wait_or_fail(e, &mut stop).await?;
                continue;
            }
            tokio::select! {
                () = tokio::time::sleep(poll) => {}
                _ = stop.changed() => {}
            }
        }
    }

    /// Sets (or clears, with None) the reason /readyz gives for not being ready.
    fn set_fault(&self, reason: Option<String>) {
        if let Ok(mut fault) = self.fault.lock() {
            *fault = reason;
        }
    }

    /// `error` again, unless the database only has to come back (or get
    /// disk space back): then a pause before trying again.
    async fn wait_or_fail(&self, error: anyhow::Error, stop: &mut watch::Receiver<bool>) -> anyhow::Result<()> {
        if !database_waits(&error) {
            return Err(error);
        }
        self.wait_for_database(&error, stop).await;
        Ok(())
    }

    /// The database is out of reach or its disk is full: not ready (saying
    /// so, without a ledger alert: nothing is wrong with the ledger), then a
    /// pause before trying again.
    async fn wait_for_database(&self, error: &anyhow::Error, stop: &mut watch::Receiver<bool>) {
        tracing::warn!(error = %error, "checkpointer waiting for the database");
        let reason = if claimtrail_runtime::http::database_disk_full(error) { "database disk full" } else { "database unreachable" };
        self.set_fault(Some(format!("checkpointer: {reason}")));
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.changed() => {}
        }
    }

    /// Extends the frontier with committed entries, checking each.
    async fn catch_up(&mut self) -> anyhow::Result<()> {
        let store = &self.runtime.store;
        loop {
            let entries = storage::entries_from(store, self.frontier.size(), READ_BATCH_MAX).await?;
            let n_rows = entries.len();
            for entry in entries {
                let (computed, chain) = check_entry(self.frontier.size(), &self.chain, entry.index, &entry.leaf, &entry.leaf_hash, &entry.chain)?;
                let nodes = &mut self.nodes;
                self.frontier.push_observing(computed, &mut |node, hash| nodes.push((node, hash)));
                self.chain = chain;
            }
            if (n_rows as u64) < READ_BATCH_MAX {
                return Ok(());
            }
        }
    }

    async fn sign(&mut self) -> anyhow::Result<()> {
        let store = &self.runtime.store;
        let checkpoint = Checkpoint {
            origin: self.runtime.settings.anchor.ledger_origin.clone(),
            size: self.frontier.size(),
            root: self.frontier.root(),
            extensions: vec![],
        };
        let note = checkpoint.sign(&[&self.signer]).context("signing the checkpoint")?;
        killpoint::reach("mid_checkpoint");
        let frontier_bytes: Vec<u8> = self.frontier.hashes().iter().flatten().copied().collect();
        let tx = store.db().begin().await?;
        let inserted = storage::insert_checkpoint(store, &tx, checkpoint.size, &checkpoint.root, &note, frontier_bytes).await?;
        tree::write_nodes(store, &tx, &self.nodes).await?;
        if inserted {
            let event = CheckpointSigned {
                origin: checkpoint.origin.clone(),
                tree_size: checkpoint.size,
                root_hash: base64::engine::general_purpose::STANDARD.encode(checkpoint.root),
                note: note.clone(),
            };
            outbox::append(store, &tx, &self.runtime.producer, vec![NewEvent::new(event, format!("checkpoint:{}", checkpoint.origin))]).await?;
        }
        tx.commit().await?;
        self.nodes.clear();
        self.runtime.relay_wakeup.notify_waiters();
        self.last_signed_size = checkpoint.size;
        metrics::gauge!("claimtrail_checkpoint_size").set(checkpoint.size as f64);
        metrics::gauge!("claimtrail_checkpoint_unix_seconds")
            .set(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0));
        tracing::info!(size = checkpoint.size, "checkpoint signed");
        if !self.sinks.is_empty() {
            self.unanchored = Some(Unanchored { checkpoint, note, done: BTreeMap::new(), last_attempt: Instant::now() });
        }
        Ok(())
    }

    /// Hands the latest checkpoint to every sink that has not taken it yet,
    /// and stores the cosignatures gathered. A checkpoint is published (served
    /// at /v1/ledger/checkpoint) once it holds the configured quorum.
    async fn anchor(&mut self) -> anyhow::Result<()> {
        let Some(mut unanchored) = self.unanchored.take() else { return Ok(()) };
        let proofs = TreeStore::new(self.runtime.store.clone());
        let signed = Signed { checkpoint: &unanchored.checkpoint, note: &unanchored.note };
        for (sink_idx, sink) in self.sinks.iter().enumerate() {
            if unanchored.done.contains_key(&sink_idx) {
                continue;
            }
            let name = sink.describe();
            match sink.anchor(&signed, &proofs).await {
                Ok(cosignature) => {
                    unanchored.done.insert(sink_idx, cosignature);
                }
                Err(e) => {
                    tracing::error!(alert = true, sink = %name, size = unanchored.checkpoint.size, error.message = %format!("{e:#}"), "an anchor sink did not take the checkpoint");
                    metrics::counter!("claimtrail_anchor_sink_failures_total", "sink" => name).increment(1);
                }
            }
        }
        let answers = unanchored.done.iter().filter_map(|(sink_idx, line)| Some((self.sinks[*sink_idx].cosigner()?, line.as_deref()?)));
        let (cosignatures, cosigned) = quorum_of(&unanchored.checkpoint.to_body(), answers);
        if let Err(e) = storage::set_cosignatures(&self.runtime.store, unanchored.checkpoint.size, cosignatures, cosigned).await {
            // Kept for the next attempt: what the sinks answered is not lost with the write.
            self.unanchored = Some(unanchored);
            return Err(e.into());
        }
        metrics::gauge!("claimtrail_checkpoint_cosignatures").set(cosigned as f64);
        if is_published(cosigned, self.runtime.settings.anchor.witness_quorum) {
            metrics::gauge!("claimtrail_checkpoint_published_size").set(unanchored.checkpoint.size as f64);
        }
        unanchored.last_attempt = Instant::now();
        if unanchored.done.len() < self.sinks.len() {
            self.unanchored = Some(unanchored);
        }
        Ok(())
    }
}
