//! Anchor: the audit ledger's single writer.
//!
//! # Layout
//! - [`Appender`]: the event handler. Every event of every family but
//!   `ledger` becomes one entry: the leaf record (ids, type, producer, time,
//!   the producer's payload commitment; no payload, no PHI), its leaf hash and
//!   its chain value, appended under the writer lock in the consumer's
//!   transaction. Before appending it verifies each event's producer batch
//!   (inclusion path, then the batch signatures of the delivery together with
//!   one Ed25519 batch verification, one by one only when that fails). An
//!   event that does not verify is still appended, with `verified: false`,
//!   and raises an alert: other services may already have acted on it.
//! - [`checkpointer`]: reads committed entries, extends the Merkle frontier,
//!   checks every leaf and chain value as it goes, and signs a checkpoint
//!   every N entries or T milliseconds.
//! - [`api`]: the ledger endpoints of the contract.
//! - [`keys`]: the log's signing key on disk, the published keys, and the
//!   producer keys read from the shared registry.
//! - [`copy`]: on Postgres, the append by binary COPY over a connection of
//!   its own, idempotent by event id.
//! - [`export`]: the JSON-lines export that `claimtrail verify` reads.
//! - [`tree`]: the stored Merkle tree (subtree roots every 8 levels) that
//!   proofs read, written with each checkpoint.
//!
//! Architecture invariant: only the anchor writes the `ledger` table, and
//! only while holding the writer lock (`pg_advisory_xact_lock`); the unique
//! index on `idx` and on `event_id` makes a second writer fail, never fork.

pub mod api;
pub mod checkpointer;
pub mod copy;
pub mod export;
pub mod keys;
pub mod sinks;
pub mod tree;

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use claimtrail_events::{Envelope, Family, NewEvent};
use claimtrail_ledger::batch::{self, BatchProof};
use claimtrail_ledger::hash::{CHAIN_SEED, Hash, chain_next, leaf_hash};
use claimtrail_ledger::leaf::{LeafBatch, LeafRecord};
use claimtrail_ledger::note::VerifierKey;
use claimtrail_runtime::{EventHandler, HandlerError, Received, Runtime, ServeSettings, ServiceParts};
use claimtrail_store::{Migration, Store, StoreError, stmt};
use sea_orm::{ConnectionTrait, DatabaseTransaction, Value};

use crate::copy::Row;

pub const SERVICE: &str = "anchor";

pub fn migrations() -> Vec<Migration> {
    vec![
        Migration {
            version: 1,
            name: "ledger and checkpoints",
            statements: |store| {
                let t = store.types();
                vec![
                    format!(
                        "CREATE TABLE {} (idx {} PRIMARY KEY, event_id {} NOT NULL UNIQUE, leaf {} NOT NULL, leaf_hash {} NOT NULL, chain {} NOT NULL, \
                 appended_at {} NOT NULL DEFAULT {})",
                        store.table("ledger"),
                        t.bigint,
                        t.uuid,
                        t.bytes,
                        t.bytes,
                        t.bytes,
                        t.timestamp,
                        t.now
                    ),
                    format!(
                        "CREATE TABLE {} (size {} PRIMARY KEY, root {} NOT NULL, note TEXT NOT NULL, frontier {} NOT NULL, created_at {} NOT NULL DEFAULT {})",
                        store.table("checkpoints"),
                        t.bigint,
                        t.bytes,
                        t.bytes,
                        t.timestamp,
                        t.now
                    ),
                    format!(
                        "CREATE TABLE {} (vkey TEXT PRIMARY KEY, role TEXT NOT NULL, added_at {} NOT NULL DEFAULT {})",
                        store.table("keys"),
                        t.timestamp,
                        t.now
                    ),
                ]
            },
        },
        Migration {
            version: 2,
            name: "witness cosignatures per checkpoint",
            statements: |store| {
                vec![
                    format!("ALTER TABLE {} ADD COLUMN cosignatures TEXT NOT NULL DEFAULT ''", store.table("checkpoints")),
                    format!("ALTER TABLE {} ADD COLUMN cosigned INTEGER NOT NULL DEFAULT 0", store.table("checkpoints")),
                ]
            },
        },
        Migration {
            version: 3,
            name: "stored Merkle tree nodes",
            statements: |store| {
                let t = store.types();
                vec![format!(
                    "CREATE TABLE {} (level INTEGER NOT NULL, idx {} NOT NULL, hash {} NOT NULL, PRIMARY KEY (level, idx))",
                    store.table("ledger_tree"),
                    t.bigint,
                    t.bytes
                )]
            },
        },
    ]
}

/// Takes the ledger writer lock for the rest of `tx` (Postgres; SQLite has one writer).
pub async fn lock_writer(store: &Store, tx: &impl ConnectionTrait) -> Result<(), StoreError> {
    if store.is_postgres() {
        tx.execute_raw(stmt(store, "SELECT pg_advisory_xact_lock(hashtext($1))", vec![Value::from(store.table("ledger"))])).await?;
    }
    Ok(())
}

/// The last entry's index and chain value, or None for an empty ledger.
pub async fn tail(store: &Store, conn: &impl ConnectionTrait) -> Result<Option<(u64, Hash)>, StoreError> {
    let row = conn.query_one_raw(stmt(store, format!("SELECT idx, chain FROM {} ORDER BY idx DESC LIMIT 1", store.table("ledger")), vec![])).await?;
    match row {
        None => Ok(None),
        Some(row) => {
            let idx: i64 = row.try_get_by_index(0)?;
            let chain: Vec<u8> = row.try_get_by_index(1)?;
            let chain: Hash = chain.try_into().map_err(|_| StoreError::Corrupt(format!("ledger entry {idx} has a chain value that is not 32 bytes")))?;
            Ok(Some((u64::try_from(idx).map_err(|_| StoreError::Corrupt(format!("negative ledger index {idx}")))?, chain)))
        }
    }
}

/// The event handler: one ledger entry per event.
pub struct Appender {
    store: Store,
    producers: keys::ProducerKeys,
    /// Postgres: the COPY side channel; None on SQLite (and with TLS), where
    /// rows are inserted in the consumer's transaction.
    copy: Option<copy::CopyWriter>,
}

/// What the appender found out about an event's producer batch.
struct Verdict {
    batch: Option<LeafBatch>,
    /// Why it does not verify; None when it does.
    fault: Option<String>,
}

impl Appender {
    pub fn new(store: Store, registry: Store, copy: Option<copy::CopyWriter>) -> Appender {
        Appender { store, producers: keys::ProducerKeys::new(registry), copy }
    }

    /// Checks each event's batch proof: parse, key named by the envelope,
    /// inclusion path; then every distinct batch signature not verified
    /// before, in one Ed25519 batch verification (one by one if it fails).
    async fn verify(&self, tx: &DatabaseTransaction, events: &[Received<'_>]) -> Result<Vec<Verdict>, HandlerError> {
        let mut verdicts = Vec::with_capacity(events.len());
        // (event position, proof, decoded root and signature) of the events whose signature is still to check.
        let mut pending: Vec<(usize, BatchProof, Hash, [u8; 64])> = Vec::new();
        for (position, received) in events.iter().enumerate() {
            let envelope = received.envelope;
            let Some(text) = received.batch else {
                verdicts.push(Verdict { batch: None, fault: Some("no producer batch proof came with the event".into()) });
                continue;
            };
            let proof = match BatchProof::parse(text) {
                Ok(proof) => proof,
                Err(e) => {
                    verdicts.push(Verdict { batch: None, fault: Some(e.to_string()) });
                    continue;
                }
            };
            let event_hash = batch::event_hash(received.bytes);
            let leaf_batch = LeafBatch::new(&event_hash, &proof);
            if proof.key != envelope.producer.key_id {
                let fault = format!("the batch is signed by {} but the envelope names {}", proof.key, envelope.producer.key_id);
                verdicts.push(Verdict { batch: Some(leaf_batch), fault: Some(fault) });
                continue;
            }
            match proof.check_inclusion(&event_hash) {
                Ok(decoded) => {
                    pending.push((position, proof, decoded.root, decoded.signature));
                    verdicts.push(Verdict { batch: Some(leaf_batch), fault: None });
                }
                Err(e) => verdicts.push(Verdict { batch: Some(leaf_batch), fault: Some(e.to_string()) }),
            }
        }
        if pending.is_empty() {
            return Ok(verdicts);
        }
        let labels: Vec<&str> = pending.iter().map(|(_, proof, _, _)| proof.key.as_str()).collect();
        let known = self.producers.lookup(tx, &labels).await?;
        // Distinct signatures to verify now, and which pending events each covers.
        let mut to_verify: Vec<(VerifierKey, Vec<u8>, [u8; 64], keys::BatchMemo)> = Vec::new();
        let mut covers: Vec<Vec<usize>> = Vec::new();
        let mut memo_slot: std::collections::HashMap<keys::BatchMemo, usize> = std::collections::HashMap::new();
        for (position, proof, root, signature) in &pending {
            let service = &events[*position].envelope.producer.service;
            let key = match known.get(&proof.key) {
                Some((key_service, key)) if key_service == service => key,
                Some((key_service, _)) => {
                    verdicts[*position].fault = Some(format!("producer key {} is registered for {key_service}, not {service}", proof.key));
                    continue;
                }
                None => {
                    verdicts[*position].fault = Some(format!("producer key {} is not registered", proof.key));
                    continue;
                }
            };
            let memo = (proof.key.clone(), proof.id.clone(), proof.root.clone(), proof.signature.clone());
            if self.producers.was_verified(&memo) {
                continue;
            }
            let slot = *memo_slot.entry(memo.clone()).or_insert_with(|| {
                to_verify.push((key.clone(), proof.message(service, root), *signature, memo));
                covers.push(Vec::new());
                to_verify.len() - 1
            });
            covers[slot].push(*position);
        }
        let triples: Vec<(&VerifierKey, &[u8], &[u8; 64])> =
            to_verify.iter().map(|(key, message, signature, _)| (key, message.as_slice(), signature)).collect();
        let results = batch::verify_signatures(&triples);
        for ((ok, (_, _, _, memo)), positions) in results.into_iter().zip(to_verify).zip(covers) {
            if ok {
                self.producers.remember_verified(memo);
            } else {
                for position in positions {
                    verdicts[position].fault = Some(format!("the batch signature by {} does not verify", memo.0));
                }
            }
        }
        Ok(verdicts)
    }

    /// Appends one entry per event under the writer lock: by COPY in a
    /// transaction of its own on Postgres, by multi-row insert in the
    /// consumer's transaction otherwise.
    async fn append(&self, tx: &DatabaseTransaction, envelopes: &[&Envelope], verdicts: Vec<Verdict>) -> Result<(), HandlerError> {
        // One span per event, in the event's trace, open until its row is written.
        let _spans: Vec<tracing::Span> = envelopes.iter().map(|envelope| claimtrail_runtime::event_span(envelope)).collect();
        if let Some(copy) = &self.copy {
            let event_ids: Vec<uuid::Uuid> = envelopes.iter().map(|envelope| envelope.event_id).collect();
            let size = copy
                .append(&event_ids, |present, index, chain| rows(envelopes, &verdicts, present, index, chain).map(|row| row.map_err(anyhow::Error::from)))
                .await?;
            // The entries are committed, the consumer's inbox rows and ack not yet.
            claimtrail_runtime::killpoint::reach("after_ledger_copy");
            metrics::gauge!("claimtrail_ledger_size").set(size as f64);
            return Ok(());
        }
        let store = &self.store;
        lock_writer(store, tx).await?;
        let (index, chain) = match tail(store, tx).await? {
            Some((last, chain)) => (last + 1, chain),
            None => (0, CHAIN_SEED),
        };
        let rows = rows(envelopes, &verdicts, HashSet::new(), index, chain).collect::<Result<Vec<Row>, HandlerError>>()?;
        self.insert(tx, &rows).await?;
        metrics::gauge!("claimtrail_ledger_size").set(rows.last().map_or(index, |row| row.index as u64 + 1) as f64);
        Ok(())
    }
}

/// The ledger rows of `envelopes` from `index` on, after the chain value
/// `chain`, leaving out the events in `present` (already appended) and
/// repeats within the batch; built one by one as they are taken.
fn rows<'a>(
    envelopes: &'a [&'a Envelope],
    verdicts: &'a [Verdict],
    present: HashSet<uuid::Uuid>,
    mut index: u64,
    mut chain: Hash,
) -> impl Iterator<Item = Result<Row, HandlerError>> + 'a {
    let mut seen = HashSet::with_capacity(envelopes.len());
    envelopes.iter().zip(verdicts).filter(move |(envelope, _)| !present.contains(&envelope.event_id) && seen.insert(envelope.event_id)).map(
        move |(envelope, verdict)| {
            let verified = verdict.fault.is_none();
            let producer = format!("{}/{}", envelope.producer.service, envelope.producer.key_id);
            if let Some(fault) = &verdict.fault {
                // No payload here: ids, type, producer and the reason only.
                tracing::error!(alert = true, event_id = %envelope.event_id, event_type = %envelope.event_type, producer = %producer, index, reason = %fault,
                    "producer signature not verified; the event is recorded as unverified");
            }
            metrics::counter!(if verified { "claimtrail_ledger_verified_entries_total" } else { "claimtrail_ledger_unverified_entries_total" },
                "producer" => metric_label(&envelope.producer.service))
            .increment(1);
            let record = LeafRecord {
                index,
                event_id: envelope.event_id.to_string(),
                event_type: envelope.event_type.clone(),
                producer,
                occurred_at: envelope.occurred_at.to_string(),
                commitment: envelope.commitment.clone(),
                batch: verdict.batch.clone(),
                verified: Some(verified),
            };
            let leaf = record.to_bytes();
            let leaf_hash = leaf_hash(&leaf);
            chain = chain_next(&chain, &leaf_hash);
            let row_index = i64::try_from(index).map_err(|_| HandlerError::Invalid("ledger index overflow".into()))?;
            index += 1;
            Ok(Row { index: row_index, event_id: envelope.event_id, leaf, leaf_hash, chain })
        },
    )
}

impl Appender {
    /// The multi-row insert of [`Appender::append`]'s rows.
    async fn insert(&self, tx: &DatabaseTransaction, rows: &[Row]) -> Result<(), HandlerError> {
        let store = &self.store;
        let values = rows
            .iter()
            .map(|row| {
                vec![
                    Value::from(row.index),
                    Value::from(row.event_id),
                    Value::from(row.leaf.clone()),
                    Value::from(row.leaf_hash.to_vec()),
                    Value::from(row.chain.to_vec()),
                ]
            })
            .collect();
        let insert = format!("INSERT INTO {} (idx, event_id, leaf, leaf_hash, chain) VALUES ", store.table("ledger"));
        claimtrail_store::insert_rows(store, tx, &insert, values, "").await?;
        Ok(())
    }
}

#[async_trait]
impl EventHandler for Appender {
    fn families(&self) -> Vec<Family> {
        // Not Ledger: the anchor does not anchor its own output.
        vec![Family::Reference, Family::Claims, Family::Settlement, Family::Fraud]
    }

    async fn handle(&self, tx: &DatabaseTransaction, envelope: &Envelope) -> Result<Vec<NewEvent>, HandlerError> {
        self.handle_batch(tx, &[envelope]).await
    }

    /// Without what came beside the events there is no proof: every entry is unverified.
    async fn handle_batch(&self, tx: &DatabaseTransaction, envelopes: &[&Envelope]) -> Result<Vec<NewEvent>, HandlerError> {
        let verdicts = envelopes.iter().map(|_| Verdict { batch: None, fault: Some("no producer batch proof came with the event".into()) }).collect();
        self.append(tx, envelopes, verdicts).await?;
        Ok(vec![])
    }

    /// Verifies the producers' batches, then one writer lock, one tail read
    /// and one multi-row insert per delivery batch.
    async fn handle_received(&self, tx: &DatabaseTransaction, events: &[Received<'_>]) -> Result<Vec<NewEvent>, HandlerError> {
        let verdicts = self.verify(tx, events).await?;
        let envelopes: Vec<&Envelope> = events.iter().map(|received| received.envelope).collect();
        self.append(tx, &envelopes, verdicts).await?;
        Ok(vec![])
    }
}

/// A bounded metric label: the services Claimtrail knows, `other` for anything a forged envelope claims.
fn metric_label(service: &str) -> &'static str {
    const KNOWN: [&str; 6] = ["intake", "adjudication", "settlement", "anchor", "fraud", "witness"];
    KNOWN.iter().find(|known| **known == service).copied().unwrap_or("other")
}

/// The anchor's routes, handler, readiness (the stored ledger checks out)
/// and checkpointer, on `runtime`.
pub async fn parts(runtime: &Runtime) -> anyhow::Result<ServiceParts> {
    let settings = &runtime.settings;
    let signer = keys::load_or_create(&settings.key_dir, &settings.anchor.ledger_origin)?;
    keys::publish(&runtime.store, &signer.verifier(), "log").await?;
    let sinks = sinks::from_settings(settings)?;
    for vkey in settings.anchor.all_witness_keys()? {
        keys::publish_vkey(&runtime.store, &vkey, "witness").await?;
    }
    let checkpointer = checkpointer::Checkpointer::start(runtime.clone(), signer, sinks).await?;
    let readiness = checkpointer.health();
    let stop = runtime.stop_signal();
    Ok(ServiceParts {
        openapi: openapi(),
        routes: api::routes(runtime.clone()),
        handler: Some(Arc::new(Appender::new(
            runtime.store.clone(),
            runtime.registry.clone(),
            copy::CopyWriter::for_store(&runtime.store, &settings.database_url),
        ))),
        readiness,
        background: vec![Box::pin(checkpointer.run(stop))],
    })
}

/// Runs the anchor service alone until `shutdown` (`claimtrail serve anchor`).
pub async fn run(settings: ServeSettings, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let runtime = Runtime::connect(&settings, SERVICE, &migrations()).await?;
    let parts = parts(&runtime).await?;
    runtime.run(parts, shutdown).await
}

/// The OpenAPI paths this service serves.
pub fn openapi() -> utoipa::openapi::OpenApi {
    #[derive(utoipa::OpenApi)]
    #[openapi(paths(api::checkpoint, api::checkpoints, api::keys_text, api::entries, api::inclusion, api::consistency))]
    struct ApiDoc;
    <ApiDoc as utoipa::OpenApi>::openapi()
}

/// Rows and bytes of the tables the anchor grows per claim, for the bench.
pub async fn footprint(store: &Store) -> Result<claimtrail_store::Footprint, claimtrail_store::StoreError> {
    claimtrail_store::footprint(store, &["ledger", "checkpoints", "outbox", "inbox"]).await
}

/// The size of the largest checkpoint signed so far (0 before the first).
pub async fn checkpointed_size(store: &Store) -> Result<u64, StoreError> {
    let row = store.db().query_one_raw(stmt(store, format!("SELECT COALESCE(MAX(size), 0) FROM {}", store.table("checkpoints")), vec![])).await?;
    let size: i64 = row.map(|row| row.try_get_by_index(0)).transpose()?.unwrap_or(0);
    u64::try_from(size).map_err(|_| StoreError::Corrupt(format!("checkpoint size {size}")))
}
