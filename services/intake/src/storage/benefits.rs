//! The member's accumulator position after each claim, as adjudication
//! reported it (`accumulators.changed.v1` `applied`, its `balances`): what
//! the claim's status and its EOB show. Migration 31 creates the table.

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

/// Records (or replaces, when the claim is decided again) the position after `claim_id`.
pub async fn record(store: &Store, tx: &impl ConnectionTrait, claim_id: Uuid, balances: &[AccumulatorBalance]) -> Result<(), StoreError> {
    let json = serde_json::to_string(balances).map_err(|e| StoreError::Corrupt(format!("balances of claim {claim_id}: {e}")))?;
    let upsert = format!(
        "INSERT INTO {} (claim_id, balances) VALUES ($1, $2) ON CONFLICT (claim_id) DO UPDATE SET balances = excluded.balances",
        store.table("claim_balances")
    );
    tx.execute_raw(stmt(store, upsert, vec![Value::from(claim_id), Value::from(json)])).await?;
    Ok(())
}

/// The position after `claim_id` (empty: no cost sharing recorded for it).
pub async fn of_claim(store: &Store, claim_id: Uuid) -> Result<Vec<AccumulatorBalance>, StoreError> {
    let select = format!("SELECT balances FROM {} WHERE claim_id = $1", store.table("claim_balances"));
    let Some(row) = store.reader().query_one_raw(stmt(store, select, vec![Value::from(claim_id)])).await? else { return Ok(Vec::new()) };
    let json: String = row.try_get_by_index(0)?;
    serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(format!("balances of claim {claim_id}: {e}")))
}
