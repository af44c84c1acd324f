//! All of the anchor's SQL and its migrations (raw SQL through
//! `Store::table`, ADR 0002), returning domain types.
//!
//! Tables: `ledger` (one row per entry: index, event id, leaf bytes, leaf
//! hash, chain value), `ledger_tree` (the stored Merkle tree, [`tree`]),
//! `checkpoints` (signed notes with their frontier and the witness
//! cosignatures gathered) and `keys` (the published log and witness keys).
//! On Postgres the appender writes `ledger` by binary COPY ([`copy`]).
//!
//! Architecture invariant: only the anchor writes the `ledger` table, and
//! only while holding the writer lock ([`lock_writer`]); the unique index on
//! `idx` and on `event_id` makes a second writer fail, never fork.

pub mod copy;
pub mod tree;

use std::collections::HashSet;

use claimtrail_ledger::hash::Hash;
use claimtrail_store::{Footprint, Migration, Store, StoreError, stmt};
use sea_orm::{ConnectionTrait, Value};

use crate::domain::Entry;

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

/// Rows and bytes of the tables the anchor grows per claim, for the bench.
pub async fn footprint(store: &Store) -> Result<Footprint, StoreError> {
    claimtrail_store::footprint(store, &["ledger", "checkpoints", "outbox", "inbox"]).await
}

// ---- The ledger.

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

/// Which of `event_ids` are on the ledger already (a redelivery): the
/// ledger's unique event ids are the anchor's record of what it appended.
pub async fn present(store: &Store, conn: &impl ConnectionTrait, event_ids: &[uuid::Uuid]) -> Result<HashSet<uuid::Uuid>, StoreError> {
    let mut present = HashSet::new();
    for chunk in event_ids.chunks(store.rows_per_insert()) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|n| format!("${n}")).collect();
        let select = format!("SELECT event_id FROM {} WHERE event_id IN ({})", store.table("ledger"), placeholders.join(", "));
        for row in conn.query_all_raw(stmt(store, select, chunk.iter().map(|id| Value::from(*id)).collect())).await? {
            present.insert(row.try_get_by_index::<uuid::Uuid>(0)?);
        }
    }
    Ok(present)
}

/// Inserts `entries` in statements of `rows_per_insert` rows (the append off Postgres's COPY path).
pub async fn insert_entries(store: &Store, tx: &impl ConnectionTrait, entries: &[Entry]) -> Result<(), StoreError> {
    let values = entries
        .iter()
        .map(|entry| {
            vec![
                Value::from(entry.index),
                Value::from(entry.event_id),
                Value::from(entry.leaf.clone()),
                Value::from(entry.leaf_hash.to_vec()),
                Value::from(entry.chain.to_vec()),
            ]
        })
        .collect();
    let insert = format!("INSERT INTO {} (idx, event_id, leaf, leaf_hash, chain) VALUES ", store.table("ledger"));
    claimtrail_store::insert_rows(store, tx, &insert, values, "").await
}

/// A stored entry as the checkpointer re-checks it.
pub struct StoredEntry {
    pub index: i64,
    pub leaf: Vec<u8>,
    pub leaf_hash: Vec<u8>,
    pub chain: Vec<u8>,
}

/// Up to `limit` committed entries from index `from` on, in index order:
/// read through the store's readers, which see committed data only (on
/// SQLite the writer's connection would also see its open transaction's rows).
pub async fn entries_from(store: &Store, from: u64, limit: u64) -> Result<Vec<StoredEntry>, StoreError> {
    let rows = store
        .reader()
        .query_all_raw(stmt(
            store,
            format!("SELECT idx, leaf, leaf_hash, chain FROM {} WHERE idx >= $1 ORDER BY idx LIMIT {limit}", store.table("ledger")),
            vec![Value::from(from as i64)],
        ))
        .await?;
    let mut entries = Vec::with_capacity(rows.len());
    for row in rows {
        entries.push(StoredEntry {
            index: row.try_get_by_index(0)?,
            leaf: row.try_get_by_index(1)?,
            leaf_hash: row.try_get_by_index(2)?,
            chain: row.try_get_by_index(3)?,
        });
    }
    Ok(entries)
}

/// The chain value of entry `index`, None when there is no such entry.
pub async fn chain_at(store: &Store, index: u64) -> Result<Option<Hash>, StoreError> {
    let row = store
        .reader()
        .query_one_raw(stmt(store, format!("SELECT chain FROM {} WHERE idx = $1", store.table("ledger")), vec![Value::from(index as i64)]))
        .await?;
    let Some(row) = row else { return Ok(None) };
    let chain: Vec<u8> = row.try_get_by_index(0)?;
    chain.try_into().map(Some).map_err(|_| StoreError::Corrupt(format!("ledger entry {index} has a malformed chain value")))
}

/// An entry as the API and the export serve it.
pub struct ServedEntry {
    pub index: i64,
    pub event_id: uuid::Uuid,
    pub leaf: Vec<u8>,
    pub chain: Vec<u8>,
}

/// The entries with indexes in `start..end`, in index order.
pub async fn entries_between(store: &Store, start: u64, end: u64) -> Result<Vec<ServedEntry>, StoreError> {
    let rows = store
        .db()
        .query_all_raw(stmt(
            store,
            format!("SELECT idx, event_id, leaf, chain FROM {} WHERE idx >= $1 AND idx < $2 ORDER BY idx", store.table("ledger")),
            vec![Value::from(i64::try_from(start).unwrap_or(i64::MAX)), Value::from(i64::try_from(end).unwrap_or(i64::MAX))],
        ))
        .await?;
    served_entries(rows)
}

/// The entry of the event `event_id`, if it is on the ledger (event ids are unique there).
pub async fn entry_of_event(store: &Store, event_id: uuid::Uuid) -> Result<Vec<ServedEntry>, StoreError> {
    let rows = store
        .db()
        .query_all_raw(stmt(
            store,
            format!("SELECT idx, event_id, leaf, chain FROM {} WHERE event_id = $1", store.table("ledger")),
            vec![Value::from(event_id)],
        ))
        .await?;
    served_entries(rows)
}

/// Up to `limit` entries from index `from` on, in index order (the export's pages).
pub async fn entries_page(store: &Store, from: i64, limit: i64) -> Result<Vec<ServedEntry>, StoreError> {
    let rows = store
        .db()
        .query_all_raw(stmt(
            store,
            format!("SELECT idx, event_id, leaf, chain FROM {} WHERE idx >= $1 ORDER BY idx LIMIT {limit}", store.table("ledger")),
            vec![Value::from(from)],
        ))
        .await?;
    served_entries(rows)
}

fn served_entries(rows: Vec<sea_orm::QueryResult>) -> Result<Vec<ServedEntry>, StoreError> {
    let mut entries = Vec::with_capacity(rows.len());
    for row in rows {
        entries.push(ServedEntry {
            index: row.try_get_by_index(0)?,
            event_id: row.try_get_by_index(1)?,
            leaf: row.try_get_by_index(2)?,
            chain: row.try_get_by_index(3)?,
        });
    }
    Ok(entries)
}

// ---- Checkpoints.

/// The latest stored checkpoint, from which the checkpointer resumes.
pub struct LatestCheckpoint {
    pub size: u64,
    pub root: Vec<u8>,
    /// The frontier's hashes, 32 bytes each, concatenated.
    pub frontier: Vec<u8>,
}

pub async fn latest_checkpoint(store: &Store) -> Result<Option<LatestCheckpoint>, StoreError> {
    let row = store
        .db()
        .query_one_raw(stmt(store, format!("SELECT size, root, frontier FROM {} ORDER BY size DESC LIMIT 1", store.table("checkpoints")), vec![]))
        .await?;
    let Some(row) = row else { return Ok(None) };
    let size: i64 = row.try_get_by_index(0)?;
    Ok(Some(LatestCheckpoint {
        size: u64::try_from(size).map_err(|_| StoreError::Corrupt(format!("negative checkpoint size {size}")))?,
        root: row.try_get_by_index(1)?,
        frontier: row.try_get_by_index(2)?,
    }))
}

/// The size of the largest checkpoint signed so far (0 before the first).
pub async fn checkpointed_size(store: &Store) -> Result<u64, StoreError> {
    let row = store.db().query_one_raw(stmt(store, format!("SELECT COALESCE(MAX(size), 0) FROM {}", store.table("checkpoints")), vec![])).await?;
    let size: i64 = row.map(|row| row.try_get_by_index(0)).transpose()?.unwrap_or(0);
    u64::try_from(size).map_err(|_| StoreError::Corrupt(format!("checkpoint size {size}")))
}

/// Stores a signed checkpoint with its frontier; false when one of that size was stored before.
pub async fn insert_checkpoint(store: &Store, tx: &impl ConnectionTrait, size: u64, root: &Hash, note: &str, frontier: Vec<u8>) -> Result<bool, StoreError> {
    let inserted = tx
        .execute_raw(stmt(
            store,
            format!("INSERT INTO {} (size, root, note, frontier) VALUES ($1, $2, $3, $4) ON CONFLICT (size) DO NOTHING", store.table("checkpoints")),
            vec![Value::from(size as i64), Value::from(root.to_vec()), Value::from(note.to_owned()), Value::from(frontier)],
        ))
        .await?;
    Ok(inserted.rows_affected() == 1)
}

/// Keeps the cosignature lines gathered for the checkpoint of `size` and how many witnesses they count.
pub async fn set_cosignatures(store: &Store, size: u64, cosignatures: String, cosigned: usize) -> Result<(), StoreError> {
    store
        .db()
        .execute_raw(stmt(
            store,
            format!("UPDATE {} SET cosignatures = $2, cosigned = $3 WHERE size = $1", store.table("checkpoints")),
            vec![Value::from(size as i64), Value::from(cosignatures), Value::from(cosigned as i64)],
        ))
        .await?;
    Ok(())
}

/// The latest checkpoint holding at least `quorum` cosignatures: its note followed by the cosignature lines.
pub async fn published_checkpoint(store: &Store, quorum: usize) -> Result<Option<String>, StoreError> {
    let row = store
        .db()
        .query_one_raw(stmt(
            store,
            format!("SELECT note, cosignatures FROM {} WHERE cosigned >= $1 ORDER BY size DESC LIMIT 1", store.table("checkpoints")),
            vec![Value::from(quorum as i64)],
        ))
        .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(row.try_get_by_index::<String>(0)? + &row.try_get_by_index::<String>(1)?))
}

/// Up to `limit` checkpoints of size `from_size` or more, oldest first, as
/// (size, note followed by its cosignature lines); every one when `limit` is None.
pub async fn checkpoints(store: &Store, from_size: i64, limit: Option<u64>) -> Result<Vec<(i64, String)>, StoreError> {
    let limit = limit.map(|limit| format!(" LIMIT {limit}")).unwrap_or_default();
    let rows = store
        .db()
        .query_all_raw(stmt(
            store,
            format!("SELECT size, note, cosignatures FROM {} WHERE size >= $1 ORDER BY size{limit}", store.table("checkpoints")),
            vec![Value::from(from_size)],
        ))
        .await?;
    let mut list = Vec::with_capacity(rows.len());
    for row in rows {
        list.push((row.try_get_by_index(0)?, row.try_get_by_index::<String>(1)? + &row.try_get_by_index::<String>(2)?));
    }
    Ok(list)
}

// ---- Published keys.

/// Records a vkey with its role (`log`, `witness`); keys are never removed,
/// so checkpoints signed before a rotation still verify.
pub async fn publish_vkey(store: &Store, vkey: &str, role: &str) -> Result<(), StoreError> {
    store
        .db()
        .execute_raw(stmt(
            store,
            format!("INSERT INTO {} (vkey, role) VALUES ($1, $2) ON CONFLICT (vkey) DO NOTHING", store.table("keys")),
            vec![Value::from(vkey.to_owned()), Value::from(role.to_owned())],
        ))
        .await?;
    Ok(())
}

/// Every published key with its role: the anchor's own keys (`log`,
/// `witness`) first, then every producer key of the registry (role
/// `producer <service>`), each oldest first.
pub async fn published_keys(store: &Store, registry: &Store) -> Result<Vec<(String, String)>, StoreError> {
    let rows = store
        .db()
        .query_all_raw(stmt(
            store,
            format!(
                "SELECT vkey, role FROM (SELECT vkey, role, added_at, 0 AS kind FROM {} \
                 UNION ALL SELECT vkey, 'producer ' || service, added_at, 1 AS kind FROM {}) AS k ORDER BY kind, added_at, vkey",
                store.table("keys"),
                registry.table("producer_keys")
            ),
            vec![],
        ))
        .await?;
    let mut keys = Vec::with_capacity(rows.len());
    for row in rows {
        keys.push((row.try_get_by_index(0)?, row.try_get_by_index(1)?));
    }
    Ok(keys)
}
