//! All of the witness's SQL and its migrations (raw SQL through
//! `Store::table`, ADR 0002).
//!
//! Tables: `logs` (per origin, the latest cosigned checkpoint: size, root
//! and the note with the witness's cosignature) and `evidence`
//! (contradictions only, with the request; capped per origin).

use claimtrail_ledger::Hash;
use claimtrail_store::{Footprint, Migration, Store, StoreError, stmt};
use sea_orm::{ConnectionTrait, Value};

pub fn migrations() -> Vec<Migration> {
    vec![
        Migration {
            version: 1,
            name: "cosigned checkpoints and evidence",
            statements: |store| {
                let t = store.types();
                vec![
                    format!(
                        "CREATE TABLE {} (origin TEXT PRIMARY KEY, size {} NOT NULL, root {} NOT NULL, note TEXT NOT NULL, cosigned_at {} NOT NULL DEFAULT {})",
                        store.table("logs"),
                        t.bigint,
                        t.bytes,
                        t.timestamp,
                        t.now
                    ),
                    format!(
                        "CREATE TABLE {} (evidence_id {}, origin TEXT NOT NULL, kind TEXT NOT NULL, detail TEXT NOT NULL, request TEXT NOT NULL, at {} NOT NULL DEFAULT {})",
                        store.table("evidence"),
                        t.id,
                        t.timestamp,
                        t.now
                    ),
                ]
            },
        },
        Migration {
            version: 2,
            name: "evidence counted per origin",
            statements: |store| vec![format!("CREATE INDEX {} ON {} (origin)", store.index("evidence_origin"), store.table("evidence"))],
        },
    ]
}

/// Rows and bytes of the witness's tables.
pub async fn footprint(store: &Store) -> Result<Footprint, StoreError> {
    claimtrail_store::footprint(store, &["logs", "evidence"]).await
}

/// The checkpoint held for `origin` (size and root), None before first
/// contact; on Postgres the row stays locked (`FOR UPDATE`) until `tx` ends,
/// so two requests cannot both advance from the same size.
pub async fn held_for_update(store: &Store, tx: &impl ConnectionTrait, origin: &str) -> Result<Option<(u64, Hash)>, StoreError> {
    let lock = if store.is_postgres() { " FOR UPDATE" } else { "" };
    let row = tx
        .query_one_raw(stmt(store, format!("SELECT size, root FROM {} WHERE origin = $1{lock}", store.table("logs")), vec![Value::from(origin.to_owned())]))
        .await?;
    let Some(row) = row else { return Ok(None) };
    let size: i64 = row.try_get_by_index(0)?;
    let root: Vec<u8> = row.try_get_by_index(1)?;
    let root = Hash::try_from(root.as_slice()).map_err(|_| StoreError::Corrupt(format!("the stored root of `{origin}` is not 32 bytes")))?;
    Ok(Some((u64::try_from(size).map_err(|_| StoreError::Corrupt(format!("the stored size of `{origin}` is negative")))?, root)))
}

/// Holds `note` (with the witness's cosignature) as the latest checkpoint of its origin.
pub async fn hold(store: &Store, tx: &impl ConnectionTrait, origin: &str, size: u64, root: &Hash, note: String) -> Result<(), StoreError> {
    let logs = store.table("logs");
    tx.execute_raw(stmt(
        store,
        format!(
            "INSERT INTO {logs} (origin, size, root, note) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root = excluded.root, note = excluded.note, cosigned_at = {}",
            store.types().now
        ),
        vec![Value::from(origin.to_owned()), Value::from(size as i64), Value::from(root.to_vec()), Value::from(note)],
    ))
    .await?;
    Ok(())
}

/// How many evidence rows `origin` holds, counted up to `max` at most.
pub async fn evidence_kept(store: &Store, tx: &impl ConnectionTrait, origin: &str, max: u64) -> Result<u64, StoreError> {
    let row = tx
        .query_one_raw(stmt(
            store,
            format!("SELECT COUNT(*) FROM (SELECT 1 FROM {} WHERE origin = $1 LIMIT $2) AS kept", store.table("evidence")),
            vec![Value::from(origin.to_owned()), Value::from(max.min(i64::MAX as u64) as i64)],
        ))
        .await?;
    let kept: i64 = row.map(|row| row.try_get_by_index(0)).transpose()?.unwrap_or(0);
    Ok(u64::try_from(kept).unwrap_or(0))
}

/// Keeps a contradicting request as evidence.
pub async fn insert_evidence(store: &Store, tx: &impl ConnectionTrait, origin: &str, kind: &str, detail: String, request: &str) -> Result<(), StoreError> {
    tx.execute_raw(stmt(
        store,
        format!("INSERT INTO {} (origin, kind, detail, request) VALUES ($1, $2, $3, $4)", store.table("evidence")),
        vec![Value::from(origin.to_owned()), Value::from(kind.to_owned()), Value::from(detail), Value::from(request.to_owned())],
    ))
    .await?;
    Ok(())
}

/// A followed log's latest cosigned checkpoint.
pub struct HeldLog {
    pub origin: String,
    pub size: i64,
    /// The signed note with the witness's cosignature line.
    pub note: String,
}

/// Every followed log's latest cosigned checkpoint, by origin.
pub async fn logs(store: &Store) -> Result<Vec<HeldLog>, StoreError> {
    let rows = store.db().query_all_raw(stmt(store, format!("SELECT origin, size, note FROM {} ORDER BY origin", store.table("logs")), vec![])).await?;
    let mut logs = Vec::with_capacity(rows.len());
    for row in rows {
        logs.push(HeldLog { origin: row.try_get_by_index(0)?, size: row.try_get_by_index(1)?, note: row.try_get_by_index(2)? });
    }
    Ok(logs)
}
