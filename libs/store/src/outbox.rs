//! The transactional outbox, which is also each service's event store.
//!
//! A service appends its events in the transaction of the state change that
//! produced them. The relay claims unpublished rows (`FOR UPDATE SKIP
//! LOCKED` on Postgres, never "the last id seen", which would skip rows whose
//! transaction commits late), publishes them and marks them published only
//! after the bus acknowledged them. Rows are kept: they hold the canonical
//! bytes as produced and the salt of each payload commitment (deleting the
//! salt crypto-shreds the payload while the ledger stays verifiable).
//!
//! Producer batch signatures (DESIGN.md "Producers sign in batches"): the
//! events of one [`append`] call are one batch. Their canonical bytes are the
//! leaves of an RFC 9162 Merkle tree whose root the service signs once with
//! its producer key (`claimtrail_ledger::batch`); the batch row (`outbox_batches`:
//! id, key, size, root, signature) and each row's place in it (`batch_id`,
//! `batch_index`, `batch_path`) commit in the same transaction as the
//! events, so a republish sends the identical batch.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use claimtrail_events::{NewEvent, Producer, SealedEvent, Timestamp};
use claimtrail_ledger::batch::{self, BatchProof};
use claimtrail_ledger::hash::Hash;
use claimtrail_ledger::note::SignerKey;
use sea_orm::{ConnectionTrait, QueryResult, Value};
use uuid::Uuid;

use crate::{Migration, Store, StoreError, stmt};

/// A service's identity as a producer: its name, its key, and the key's
/// label (`<key name>+<key id>`) that envelopes carry as `producer.key_id`.
#[derive(Clone, Debug)]
pub struct ProducerIdentity {
    pub service: String,
    pub key_id: String,
    signer: SignerKey,
}

impl ProducerIdentity {
    pub fn new(service: &str, signer: SignerKey) -> ProducerIdentity {
        ProducerIdentity { service: service.to_owned(), key_id: batch::key_label(signer.name(), signer.key_id()), signer }
    }

    /// The envelope's `producer`.
    pub fn producer(&self) -> Producer {
        Producer { service: self.service.clone(), key_id: self.key_id.clone() }
    }

    pub fn signer(&self) -> &SignerKey {
        &self.signer
    }
}

/// The most rows one relay pass claims.
pub const RELAY_BATCH_MAX: u64 = 1_000;

pub(crate) fn core_migrations() -> Vec<Migration> {
    vec![
        Migration {
            version: 1,
            name: "outbox and inbox",
            statements: |store| {
                let t = store.types();
                vec![
                    format!(
                        "CREATE TABLE {} (seq {}, event_id {} NOT NULL UNIQUE, event_type TEXT NOT NULL, aggregate_id TEXT NOT NULL, \
                 aggregate_seq {} NOT NULL, body {} NOT NULL, salt {}, created_at {} NOT NULL DEFAULT {}, published_at {}, \
                 UNIQUE (aggregate_id, aggregate_seq))",
                        store.table("outbox"),
                        t.id,
                        t.uuid,
                        t.bigint,
                        t.bytes,
                        t.bytes,
                        t.timestamp,
                        t.now,
                        t.timestamp
                    ),
                    format!("CREATE INDEX {} ON {} (seq) WHERE published_at IS NULL", store.index("outbox_unpublished"), store.table("outbox")),
                    format!("CREATE TABLE {} (event_id {} PRIMARY KEY, processed_at {} NOT NULL DEFAULT {})", store.table("inbox"), t.uuid, t.timestamp, t.now),
                ]
            },
        },
        Migration {
            version: 2,
            name: "producer batch signatures",
            statements: |store| {
                let t = store.types();
                let outbox = store.table("outbox");
                vec![
                    format!(
                        "CREATE TABLE {} (batch_id {} PRIMARY KEY, key_id TEXT NOT NULL, size {} NOT NULL, root {} NOT NULL, signature {} NOT NULL, \
                     created_at {} NOT NULL DEFAULT {})",
                        store.table("outbox_batches"),
                        t.uuid,
                        t.bigint,
                        t.bytes,
                        t.bytes,
                        t.timestamp,
                        t.now
                    ),
                    format!("ALTER TABLE {outbox} ADD COLUMN batch_id {}", t.uuid),
                    format!("ALTER TABLE {outbox} ADD COLUMN batch_index {}", t.bigint),
                    format!("ALTER TABLE {outbox} ADD COLUMN batch_path {}", t.bytes),
                ]
            },
        },
    ]
}

/// The batch columns to select after an outbox row's own, with the outbox
/// aliased `o` and `LEFT JOIN <outbox_batches> b ON b.batch_id = o.batch_id`;
/// [`batch_proof`] reads them back.
pub const BATCH_COLUMNS: &str = "o.batch_index, o.batch_path, b.batch_id, b.key_id, b.size, b.root, b.signature";

/// The proof carried beside an event (`claimtrail_ledger::batch::BatchProof`
/// as compact JSON), from the [`BATCH_COLUMNS`] starting at column `first`;
/// None for a row without a batch (appended before producers signed, or
/// published from outside an outbox).
pub fn batch_proof(row: &QueryResult, first: usize) -> Result<Option<String>, sea_orm::DbErr> {
    let index: Option<i64> = row.try_get_by_index(first)?;
    let path: Option<Vec<u8>> = row.try_get_by_index(first + 1)?;
    let id: Option<Uuid> = row.try_get_by_index(first + 2)?;
    let key: Option<String> = row.try_get_by_index(first + 3)?;
    let size: Option<i64> = row.try_get_by_index(first + 4)?;
    let root: Option<Vec<u8>> = row.try_get_by_index(first + 5)?;
    let signature: Option<Vec<u8>> = row.try_get_by_index(first + 6)?;
    let (Some(index), Some(path), Some(id), Some(key), Some(size), Some(root), Some(signature)) = (index, path, id, key, size, root, signature) else {
        return Ok(None);
    };
    let proof = BatchProof {
        id: id.to_string(),
        index: index as u64,
        key,
        path: path.chunks(32).map(|hash| BASE64.encode(hash)).collect(),
        root: BASE64.encode(root),
        signature: BASE64.encode(signature),
        size: size as u64,
    };
    Ok(Some(proof.to_text()))
}

/// Seals `events` (envelope, canonical bytes, commitment salt) and appends
/// them in `tx`. Aggregate sequences continue from the highest stored one;
/// two writers racing on one aggregate collide on the unique index and one
/// transaction fails (retry it). The events are one producer batch: one
/// signature over their Merkle root, stored with them.
pub async fn append(store: &Store, tx: &impl ConnectionTrait, identity: &ProducerIdentity, events: Vec<NewEvent>) -> Result<Vec<SealedEvent>, StoreError> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let producer = identity.producer();
    let mut next_seq = next_sequences(store, tx, &events).await?;
    let mut sealed = Vec::with_capacity(events.len());
    let occurred_at = Timestamp::now();
    for event in events {
        let seq = match next_seq.get(&event.aggregate_id) {
            Some(seq) => *seq,
            // No event yet, or created with this event (not looked up; the unique index guards the claim).
            None => 1,
        };
        next_seq.insert(event.aggregate_id.clone(), seq + 1);
        sealed.push(SealedEvent::seal(event, seq, producer.clone(), fresh_salt()?, occurred_at)?);
    }
    let batch = sign_batch(identity, sealed);
    insert_batch(store, tx, identity, &batch).await?;
    Ok(batch.sealed)
}

/// The next sequence of each aggregate of `events` that already has events
/// here (those not created with their event), read in one statement per 500 aggregates.
async fn next_sequences(store: &Store, tx: &impl ConnectionTrait, events: &[NewEvent]) -> Result<HashMap<String, u64>, StoreError> {
    let mut aggregates: Vec<&str> = events.iter().filter(|event| !event.new_aggregate).map(|event| event.aggregate_id.as_str()).collect();
    aggregates.sort_unstable();
    aggregates.dedup();
    let mut next = HashMap::with_capacity(aggregates.len());
    for chunk in aggregates.chunks(500) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|idx| format!("${idx}")).collect();
        let sql = format!(
            "SELECT aggregate_id, MAX(aggregate_seq) FROM {} WHERE aggregate_id IN ({}) GROUP BY aggregate_id",
            store.table("outbox"),
            placeholders.join(",")
        );
        let rows = tx.query_all_raw(stmt(store, sql, chunk.iter().map(|id| Value::from(*id)).collect())).await?;
        for row in rows {
            let max: i64 = row.try_get_by_index(1)?;
            next.insert(row.try_get_by_index::<String>(0)?, u64::try_from(max).unwrap_or(0) + 1);
        }
    }
    Ok(next)
}

/// 32 random bytes from the operating system: a commitment's salt.
fn fresh_salt() -> Result<[u8; 32], StoreError> {
    let mut salt = [0u8; 32];
    getrandom::fill(&mut salt).map_err(|e| StoreError::Config(format!("no system randomness for the commitment salt: {e}")))?;
    Ok(salt)
}

/// Sealed events and their producer batch, ready for [`insert_batch`].
pub struct SignedBatch {
    pub sealed: Vec<SealedEvent>,
    batch_id: Uuid,
    root: Hash,
    signature: [u8; 64],
    paths: Vec<Vec<Hash>>,
}

/// The batch of `sealed`: one signature over the root of their canonical bytes.
fn sign_batch(identity: &ProducerIdentity, sealed: Vec<SealedEvent>) -> SignedBatch {
    let batch_id = Uuid::now_v7();
    let event_hashes: Vec<Hash> = sealed.iter().map(|event| batch::event_hash(&event.bytes)).collect();
    let (root, paths) = batch::tree(&event_hashes);
    let signature = identity.signer.sign(&batch::message(&identity.service, &identity.key_id, &batch_id.to_string(), sealed.len() as u64, &root));
    SignedBatch { sealed, batch_id, root, signature, paths }
}

/// [`append`] for events that each create their aggregate
/// ([`NewEvent::of_new_aggregate`], one event per aggregate): sealed and
/// signed without the database, so that a producer can do it before it
/// opens its transaction and hold its connection only to insert.
pub fn seal_new(identity: &ProducerIdentity, events: Vec<NewEvent>) -> Result<SignedBatch, StoreError> {
    let producer = identity.producer();
    let occurred_at = Timestamp::now();
    let mut aggregates = std::collections::HashSet::with_capacity(events.len());
    let mut sealed = Vec::with_capacity(events.len());
    for event in events {
        if !event.new_aggregate || !aggregates.insert(event.aggregate_id.clone()) {
            return Err(StoreError::Config(format!("outbox::seal_new takes one event per new aggregate; {} is not", event.aggregate_id)));
        }
        sealed.push(SealedEvent::seal(event, 1, producer.clone(), fresh_salt()?, occurred_at)?);
    }
    Ok(sign_batch(identity, sealed))
}

/// Stores a batch from [`seal_new`] (or [`append`]) in `tx`: the batch row and one row per event.
pub async fn insert_batch(store: &Store, tx: &impl ConnectionTrait, identity: &ProducerIdentity, batch: &SignedBatch) -> Result<(), StoreError> {
    if batch.sealed.is_empty() {
        return Ok(());
    }
    let table = store.table("outbox");
    let SignedBatch { sealed, batch_id, root, signature, paths } = batch;
    let batch_id = *batch_id;
    tx.execute_raw(stmt(
        store,
        format!("INSERT INTO {} (batch_id, key_id, size, root, signature) VALUES ($1, $2, $3, $4, $5)", store.table("outbox_batches")),
        vec![
            Value::from(batch_id),
            Value::from(identity.key_id.clone()),
            Value::from(sealed.len() as i64),
            Value::from(root.to_vec()),
            Value::from(signature.to_vec()),
        ],
    ))
    .await?;
    let rows = sealed
        .iter()
        .zip(paths)
        .enumerate()
        .map(|(batch_index, (event, path))| {
            vec![
                Value::from(event.head.event_id),
                Value::from(event.head.event_type.clone()),
                Value::from(event.head.aggregate_id.clone()),
                Value::from(event.head.aggregate_seq as i64),
                Value::from(event.bytes.clone()),
                Value::from(event.salt.to_vec()),
                Value::from(batch_id),
                Value::from(batch_index as i64),
                Value::from(path.iter().flatten().copied().collect::<Vec<u8>>()),
            ]
        })
        .collect();
    let insert = format!("INSERT INTO {table} (event_id, event_type, aggregate_id, aggregate_seq, body, salt, batch_id, batch_index, batch_path) VALUES ");
    crate::insert_rows(store, tx, &insert, rows, "").await?;
    Ok(())
}

/// An outbox row waiting to be published.
#[derive(Debug, Clone)]
pub struct PendingEvent {
    pub seq: i64,
    pub event_id: Uuid,
    pub event_type: String,
    pub body: Vec<u8>,
    /// The producer batch proof to send beside the event (see [`batch_proof`]).
    pub batch: Option<String>,
}

/// Claims up to `limit` unpublished rows in `tx`, oldest first. On Postgres
/// rows claimed by another relay's open transaction are skipped, not waited for.
///
/// With `after`, only rows whose `seq` is above it: a relay's quick pass
/// above the rows it has published, which does not walk the index entries
/// that marking left behind below them (they stay until a vacuum, and a scan
/// from the start read thousands of buffers per pass; docs/benchmarks.md).
/// A row whose transaction commits late may lie below `after`: only a pass
/// without it (the relay's periodic sweep) finds such a row.
pub async fn claim_unpublished(store: &Store, tx: &impl ConnectionTrait, limit: u64, after: Option<i64>) -> Result<Vec<PendingEvent>, StoreError> {
    let lock = if store.is_postgres() { " FOR UPDATE OF o SKIP LOCKED" } else { "" };
    let (above, values) = match after {
        Some(seq) => (" AND o.seq > $1", vec![Value::from(seq)]),
        None => ("", vec![]),
    };
    let rows = tx
        .query_all_raw(stmt(
            store,
            format!(
                "SELECT o.seq, o.event_id, o.event_type, o.body, {BATCH_COLUMNS} FROM {} o LEFT JOIN {} b ON b.batch_id = o.batch_id \
                 WHERE o.published_at IS NULL{above} ORDER BY o.seq LIMIT {}{lock}",
                store.table("outbox"),
                store.table("outbox_batches"),
                limit.min(RELAY_BATCH_MAX)
            ),
            values,
        ))
        .await?;
    let mut pending = Vec::with_capacity(rows.len());
    for row in rows {
        pending.push(PendingEvent {
            seq: row.try_get_by_index(0)?,
            event_id: row.try_get_by_index(1)?,
            event_type: row.try_get_by_index(2)?,
            body: row.try_get_by_index(3)?,
            batch: batch_proof(&row, 4)?,
        });
    }
    Ok(pending)
}

/// Marks rows published (call after the bus acknowledged every one of them).
pub async fn mark_published(store: &Store, tx: &impl ConnectionTrait, seqs: &[i64]) -> Result<(), StoreError> {
    if seqs.is_empty() {
        return Ok(());
    }
    let list = seqs.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    tx.execute_raw(stmt(store, format!("UPDATE {} SET published_at = {} WHERE seq IN ({list})", store.table("outbox"), store.types().now), vec![])).await?;
    Ok(())
}

/// The canonical bytes of the first event of `event_type` this service
/// appended for `aggregate_id` (an index lookup: outbox rows are unique by
/// aggregate and sequence), read on `conn`.
pub async fn first_event_body(store: &Store, conn: &impl ConnectionTrait, aggregate_id: &str, event_type: &str) -> Result<Option<Vec<u8>>, StoreError> {
    let row = conn
        .query_one_raw(stmt(
            store,
            format!("SELECT body FROM {} WHERE aggregate_id = $1 AND event_type = $2 ORDER BY aggregate_seq LIMIT 1", store.table("outbox")),
            vec![Value::from(aggregate_id.to_owned()), Value::from(event_type.to_owned())],
        ))
        .await?;
    Ok(row.map(|row| row.try_get_by_index(0)).transpose()?)
}

/// Rows not yet published (the outbox backlog, for /metrics).
pub async fn backlog(store: &Store) -> Result<i64, StoreError> {
    let row = store.db().query_one_raw(stmt(store, format!("SELECT COUNT(*) FROM {} WHERE published_at IS NULL", store.table("outbox")), vec![])).await?;
    Ok(match row {
        Some(row) => row.try_get_by_index(0)?,
        None => 0,
    })
}

/// Every stored event of this service with its salt, in append order, from
/// `after_seq` on (for audits, projections rebuilds and the ledger's payload check).
pub async fn events_after(store: &Store, conn: &impl ConnectionTrait, after_seq: i64, limit: u64) -> Result<Vec<(i64, Vec<u8>, Option<Vec<u8>>)>, StoreError> {
    let rows = conn
        .query_all_raw(stmt(
            store,
            format!("SELECT seq, body, salt FROM {} WHERE seq > $1 ORDER BY seq LIMIT {limit}", store.table("outbox")),
            vec![Value::from(after_seq)],
        ))
        .await?;
    let mut events = Vec::with_capacity(rows.len());
    for row in rows {
        events.push((row.try_get_by_index(0)?, row.try_get_by_index(1)?, row.try_get_by_index(2)?));
    }
    Ok(events)
}

/// What [`erase`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Erased {
    /// Events whose commitment salt was deleted.
    pub salts_deleted: u64,
    /// Published events whose stored body was replaced by an erasure marker.
    pub bodies_redacted: u64,
}

/// Erasure (crypto-shredding) of the events of `aggregate_ids` in this
/// service's outbox: their commitment salts are deleted, so nobody can open
/// their ledger commitments any more (the ledger stays verifiable: it never
/// needs them). On Postgres the bodies of events already published (the bus
/// has them; the relay only reads unpublished ones) are replaced by
/// `{"erased":"<erasure id>"}`. Embedded mode keeps the bodies: there the
/// outbox is the log that consumers read.
pub async fn erase(store: &Store, tx: &impl ConnectionTrait, aggregate_ids: &[String], erasure_id: Uuid) -> Result<Erased, StoreError> {
    let table = store.table("outbox");
    let marker = format!("{{\"erased\":\"{erasure_id}\"}}").into_bytes();
    let mut erased = Erased::default();
    for chunk in aggregate_ids.chunks(500) {
        let placeholders = |first: usize| (0..chunk.len()).map(|k| format!("${}", first + k)).collect::<Vec<_>>().join(",");
        let ids: Vec<Value> = chunk.iter().map(|id| Value::from(id.clone())).collect();
        let salts = tx
            .execute_raw(stmt(store, format!("UPDATE {table} SET salt = NULL WHERE salt IS NOT NULL AND aggregate_id IN ({})", placeholders(1)), ids.clone()))
            .await?;
        erased.salts_deleted += salts.rows_affected();
        if store.is_postgres() {
            let mut values = vec![Value::from(marker.clone())];
            values.extend(ids);
            let bodies = tx
                .execute_raw(stmt(
                    store,
                    format!("UPDATE {table} SET body = $1 WHERE published_at IS NOT NULL AND body <> $1 AND aggregate_id IN ({})", placeholders(2)),
                    values,
                ))
                .await?;
            erased.bodies_redacted += bodies.rows_affected();
        }
    }
    Ok(erased)
}
