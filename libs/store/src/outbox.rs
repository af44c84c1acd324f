//! The transactional outbox, which is also each service's event store.
//!
//! A service appends its events in the transaction of the state change that
//! produced them. The relay claims unpublished rows (`FOR UPDATE SKIP
//! LOCKED` on Postgres, never "the last id seen", which would skip rows whose
//! transaction commits late), publishes them and marks them published only
//! after the bus acknowledged them. Rows are kept: they hold the canonical
//! bytes as produced and the salt of each payload commitment (deleting the
//! salt crypto-shreds the payload while the ledger stays verifiable).

use std::collections::HashMap;

use claimtrail_events::{NewEvent, Producer, SealedEvent, Timestamp};
use sea_orm::{ConnectionTrait, Value};
use uuid::Uuid;

use crate::{Migration, Store, StoreError, stmt};

/// The most rows one relay pass claims.
pub const RELAY_BATCH_MAX: u64 = 1_000;

pub(crate) fn core_migrations() -> Vec<Migration> {
    vec![Migration {
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
    }]
}

/// Seals `events` (envelope, canonical bytes, commitment salt) and appends
/// them in `tx`. Aggregate sequences continue from the highest stored one;
/// two writers racing on one aggregate collide on the unique index and one
/// transaction fails (retry it).
pub async fn append(store: &Store, tx: &impl ConnectionTrait, producer: &Producer, events: Vec<NewEvent>) -> Result<Vec<SealedEvent>, StoreError> {
    let table = store.table("outbox");
    let mut next_seq: HashMap<String, u64> = HashMap::new();
    let mut sealed = Vec::with_capacity(events.len());
    let occurred_at = Timestamp::now();
    for event in events {
        let seq = match next_seq.get(&event.aggregate_id) {
            Some(seq) => *seq,
            None => {
                let row = tx
                    .query_one_raw(stmt(
                        store,
                        format!("SELECT COALESCE(MAX(aggregate_seq), 0) FROM {table} WHERE aggregate_id = $1"),
                        vec![Value::from(event.aggregate_id.clone())],
                    ))
                    .await?;
                let max: i64 = match row {
                    Some(row) => row.try_get_by_index(0)?,
                    None => 0,
                };
                u64::try_from(max).unwrap_or(0) + 1
            }
        };
        next_seq.insert(event.aggregate_id.clone(), seq + 1);
        let mut salt = [0u8; 32];
        getrandom::fill(&mut salt).map_err(|e| StoreError::Config(format!("no system randomness for the commitment salt: {e}")))?;
        sealed.push(SealedEvent::seal(event, seq, producer.clone(), salt, occurred_at)?);
    }
    // One multi-row insert per chunk (bind-parameter limits: SQLite 32766, Postgres 65535).
    for chunk in sealed.chunks(500) {
        let mut sql = format!("INSERT INTO {table} (event_id, event_type, aggregate_id, aggregate_seq, body, salt) VALUES ");
        let mut values = Vec::with_capacity(chunk.len() * 6);
        for (row_idx, event) in chunk.iter().enumerate() {
            let base = row_idx * 6;
            if row_idx > 0 {
                sql.push(',');
            }
            sql.push_str(&format!("(${},${},${},${},${},${})", base + 1, base + 2, base + 3, base + 4, base + 5, base + 6));
            values.push(Value::from(event.envelope.event_id));
            values.push(Value::from(event.envelope.event_type.clone()));
            values.push(Value::from(event.envelope.aggregate_id.clone()));
            values.push(Value::from(event.envelope.aggregate_seq as i64));
            values.push(Value::from(event.bytes.clone()));
            values.push(Value::from(event.salt.to_vec()));
        }
        tx.execute_raw(stmt(store, sql, values)).await?;
    }
    Ok(sealed)
}

/// An outbox row waiting to be published.
#[derive(Debug, Clone)]
pub struct PendingEvent {
    pub seq: i64,
    pub event_id: Uuid,
    pub event_type: String,
    pub body: Vec<u8>,
}

/// Claims up to `limit` unpublished rows in `tx`, oldest first. On Postgres
/// rows claimed by another relay's open transaction are skipped, not waited for.
pub async fn claim_unpublished(store: &Store, tx: &impl ConnectionTrait, limit: u64) -> Result<Vec<PendingEvent>, StoreError> {
    let lock = if store.is_postgres() { " FOR UPDATE SKIP LOCKED" } else { "" };
    let rows = tx
        .query_all_raw(stmt(
            store,
            format!(
                "SELECT seq, event_id, event_type, body FROM {} WHERE published_at IS NULL ORDER BY seq LIMIT {}{lock}",
                store.table("outbox"),
                limit.min(RELAY_BATCH_MAX)
            ),
            vec![],
        ))
        .await?;
    let mut pending = Vec::with_capacity(rows.len());
    for row in rows {
        pending.push(PendingEvent {
            seq: row.try_get_by_index(0)?,
            event_id: row.try_get_by_index(1)?,
            event_type: row.try_get_by_index(2)?,
            body: row.try_get_by_index(3)?,
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
