//! The member's accumulator position after each claim, as adjudication
//! reported it (`accumulators.changed.v1` `applied`, its `balances`): what
//! the claim's status and its EOB show. Migration 31 creates the table.

use std::collections::HashMap;

use claimtrail_events::AccumulatorBalance;
use claimtrail_store::{Migration, Store, StoreError, stmt};
use sea_orm::{ConnectionTrait, Value};
use uuid::Uuid;

/// Version 31: `claim_balances`, one row per claim (the position after its latest decision).
pub fn migration() -> Migration {
    Migration {
        // Apart from 10.. so that other branches' next intake migrations do not collide.
        version: 31,
        name: "accumulator position after each claim",
        statements: |store| {
            vec![format!("CREATE TABLE {} (claim_id {} PRIMARY KEY, balances TEXT NOT NULL)", store.table("claim_balances"), store.types().uuid)]
        },
    }
}

/// Records (or replaces, when the claim is decided again) the position after
/// each claim of `positions`, in one multi-row upsert per
/// [`Store::rows_per_insert`] claims; of a claim listed twice, the later
/// position stands (an upsert may not touch one row twice).
pub async fn record_many(store: &Store, tx: &impl ConnectionTrait, positions: &[(Uuid, &[AccumulatorBalance])]) -> Result<(), StoreError> {
    let mut latest: HashMap<Uuid, usize> = HashMap::with_capacity(positions.len());
    for (position_idx, (claim_id, _)) in positions.iter().enumerate() {
        latest.insert(*claim_id, position_idx);
    }
    let mut rows = Vec::with_capacity(latest.len());
    for (position_idx, (claim_id, balances)) in positions.iter().enumerate() {
        if latest.get(claim_id) != Some(&position_idx) {
            continue;
        }
        let json = serde_json::to_string(balances).map_err(|e| StoreError::Corrupt(format!("balances of claim {claim_id}: {e}")))?;
        rows.push(vec![Value::from(*claim_id), Value::from(json)]);
    }
    let insert = format!("INSERT INTO {} (claim_id, balances) VALUES ", store.table("claim_balances"));
    claimtrail_store::insert_rows(store, tx, &insert, rows, " ON CONFLICT (claim_id) DO UPDATE SET balances = excluded.balances").await
}

/// The position after `claim_id` (empty: no cost sharing recorded for it).
pub async fn of_claim(store: &Store, claim_id: Uuid) -> Result<Vec<AccumulatorBalance>, StoreError> {
    let select = format!("SELECT balances FROM {} WHERE claim_id = $1", store.table("claim_balances"));
    let Some(row) = store.reader().query_one_raw(stmt(store, select, vec![Value::from(claim_id)])).await? else { return Ok(Vec::new()) };
    let json: String = row.try_get_by_index(0)?;
    serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(format!("balances of claim {claim_id}: {e}")))
}
