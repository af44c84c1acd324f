//! Anchor: the audit ledger's single writer.
//!
//! # Layout
//! - [`Appender`]: the event handler. Every event of every family but
//!   `ledger` becomes one entry: the leaf record (ids, type, producer, time,
//!   the producer's payload commitment; no payload, no PHI), its leaf hash and
//!   its chain value, appended under the writer lock in the consumer's
//!   transaction.
//! - [`checkpointer`]: reads committed entries, extends the Merkle frontier,
//!   checks every leaf and chain value as it goes, and signs a checkpoint
//!   every N entries or T milliseconds.
//! - [`api`]: the ledger endpoints of the contract.
//! - [`keys`]: the log's signing key on disk.
//! - [`export`]: the JSON-lines export that `claimtrail verify` reads.
//!
//! Architecture invariant: only the anchor writes the `ledger` table, and
//! only while holding the writer lock (`pg_advisory_xact_lock`); the unique
//! index on `idx` and on `event_id` makes a second writer fail, never fork.

pub mod api;
pub mod checkpointer;
pub mod export;
pub mod keys;
pub mod sinks;

use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use claimtrail_events::{Envelope, Family, NewEvent};
use claimtrail_ledger::hash::{CHAIN_SEED, Hash, chain_next, leaf_hash};
use claimtrail_ledger::leaf::LeafRecord;
use claimtrail_runtime::{EventHandler, HandlerError, Runtime, ServeSettings, ServiceParts};
use claimtrail_store::{Migration, Store, StoreError, stmt};
use sea_orm::{ConnectionTrait, DatabaseTransaction, Value};

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
}

impl Appender {
    pub fn new(store: Store) -> Appender {
        Appender { store }
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

    /// One writer lock, one tail read and one multi-row insert per batch.
    async fn handle_batch(&self, tx: &DatabaseTransaction, envelopes: &[&Envelope]) -> Result<Vec<NewEvent>, HandlerError> {
        let store = &self.store;
        // One span per event, in the event's trace, open until its row is written.
        let _spans: Vec<tracing::Span> = envelopes.iter().map(|envelope| claimtrail_runtime::event_span(envelope)).collect();
        lock_writer(store, tx).await?;
        let (mut index, mut chain) = match tail(store, tx).await? {
            Some((last, chain)) => (last + 1, chain),
            None => (0, CHAIN_SEED),
        };
        let mut rows = Vec::with_capacity(envelopes.len());
        for envelope in envelopes {
            let record = LeafRecord {
                index,
                event_id: envelope.event_id.to_string(),
                event_type: envelope.event_type.clone(),
                producer: format!("{}/{}", envelope.producer.service, envelope.producer.key_id),
                occurred_at: envelope.occurred_at.to_string(),
                commitment: envelope.commitment.clone(),
                batch: None,
            };
            let leaf = record.to_bytes();
            let leaf_hash = leaf_hash(&leaf);
            chain = chain_next(&chain, &leaf_hash);
            let row_index = i64::try_from(index).map_err(|_| HandlerError::Invalid("ledger index overflow".into()))?;
            rows.push((row_index, envelope.event_id, leaf, leaf_hash, chain));
            index += 1;
        }
        for chunk in rows.chunks(500) {
            let mut sql = format!("INSERT INTO {} (idx, event_id, leaf, leaf_hash, chain) VALUES ", store.table("ledger"));
            let mut values = Vec::with_capacity(chunk.len() * 5);
            for (row_idx, (row_index, event_id, leaf, leaf_hash, chain)) in chunk.iter().enumerate() {
                if row_idx > 0 {
                    sql.push(',');
                }
                let base = row_idx * 5;
                sql.push_str(&format!("(${},${},${},${},${})", base + 1, base + 2, base + 3, base + 4, base + 5));
                values.push(Value::from(*row_index));
                values.push(Value::from(*event_id));
                values.push(Value::from(leaf.clone()));
                values.push(Value::from(leaf_hash.to_vec()));
                values.push(Value::from(chain.to_vec()));
            }
            tx.execute_raw(stmt(store, sql, values)).await?;
        }
        metrics::gauge!("claimtrail_ledger_size").set(index as f64);
        Ok(vec![])
    }
}

/// The anchor's routes, handler, readiness (the stored ledger checks out)
/// and checkpointer, on `runtime`.
pub async fn parts(runtime: &Runtime) -> anyhow::Result<ServiceParts> {
    let settings = &runtime.settings;
    let signer = keys::load_or_create(&settings.key_dir, &settings.ledger_origin)?;
    keys::publish(&runtime.store, &signer.verifier(), "log").await?;
    let sinks = sinks::from_settings(settings)?;
    for vkey in settings.witness_keys.iter().filter(|k| !k.trim().is_empty()) {
        keys::publish_vkey(&runtime.store, vkey.trim(), "witness").await?;
    }
    let checkpointer = checkpointer::Checkpointer::start(runtime.clone(), signer, sinks).await?;
    let readiness = checkpointer.health();
    let stop = runtime.stop_signal();
    Ok(ServiceParts {
        openapi: openapi(),
        routes: api::routes(runtime.clone()),
        handler: Some(Arc::new(Appender::new(runtime.store.clone()))),
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
