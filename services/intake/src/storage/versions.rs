//! Correction versions' claim ids: adjudication decides a claim again (a
//! ripple, a reprocessing job) as a new version with a derived id; intake
//! keeps each such id with the claim it received (`domain::Facts::resolve`).
//! Migration 32 creates the table.

use std::collections::HashMap;

use claimtrail_store::{Migration, Store, StoreError, stmt};
use sea_orm::{ConnectionTrait, Value};
use uuid::Uuid;

use super::placeholders;

/// Version 32: `claim_versions`, one row per correction version.
pub fn migration() -> Migration {
    Migration {
        // Beside benefits' 31, apart from 10.. so that other branches' next intake migrations do not collide.
        version: 32,
        name: "correction versions' claim ids",
        statements: |store| {
            let t = store.types();
            vec![format!("CREATE TABLE {} (version_id {} PRIMARY KEY, of_claim_id {} NOT NULL)", store.table("claim_versions"), t.uuid, t.uuid)]
        },
    }
}

/// Records that `version` is a version of `of_claim_id` (again: nothing changes).
pub async fn record(store: &Store, tx: &impl ConnectionTrait, version: Uuid, of_claim_id: Uuid) -> Result<(), StoreError> {
    let insert = format!("INSERT INTO {} (version_id, of_claim_id) VALUES ($1, $2) ON CONFLICT (version_id) DO NOTHING", store.table("claim_versions"));
    tx.execute_raw(stmt(store, insert, vec![Value::from(version), Value::from(of_claim_id)])).await?;
    Ok(())
}

/// Of `claim_ids`, the correction versions, each to the claim it is a version of.
pub async fn originals(store: &Store, conn: &impl ConnectionTrait, claim_ids: &[Uuid]) -> Result<HashMap<Uuid, Uuid>, StoreError> {
    let mut found = HashMap::new();
    for chunk in claim_ids.chunks(500) {
        let select = format!("SELECT version_id, of_claim_id FROM {} WHERE version_id IN ({})", store.table("claim_versions"), placeholders(1, chunk.len()));
        for row in conn.query_all_raw(stmt(store, select, chunk.iter().map(|id| Value::from(*id)).collect())).await? {
            found.insert(row.try_get_by_index(0)?, row.try_get_by_index(1)?);
        }
    }
    Ok(found)
}

/// The claim `version` is a correction version of, if it is one.
pub async fn original_of(store: &Store, version: Uuid) -> Result<Option<Uuid>, StoreError> {
    Ok(originals(store, store.reader(), &[version]).await?.remove(&version))
}
