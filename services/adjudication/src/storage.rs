//! All of adjudication's SQL: its migrations, the payer's fee schedules and
//! the decisions (ADR 0002: raw SQL with the store's dynamic names).

use std::collections::HashMap;

use claimtrail_events::{ClaimAdjudicated, FeeScheduleEntry, Money};
use claimtrail_store::{Migration, Store, StoreError, stmt};
use sea_orm::{ConnectionTrait, Value};
use uuid::Uuid;

use crate::domain::{DecisionState, FeeSchedule};

pub fn migrations() -> Vec<Migration> {
    vec![
        Migration {
            version: 1,
            name: "fee schedules and decisions",
            statements: |store| {
                let t = store.types();
                vec![
                    format!(
                        "CREATE TABLE {} (payer_id TEXT NOT NULL, procedure_code TEXT NOT NULL, amount_cents {} NOT NULL, PRIMARY KEY (payer_id, procedure_code))",
                        store.table("fees"),
                        t.bigint
                    ),
                    format!(
                        "CREATE TABLE {} (payer_id TEXT PRIMARY KEY, fee_schedule_id TEXT NOT NULL, content_hash TEXT NOT NULL, published_at {} NOT NULL DEFAULT {})",
                        store.table("fee_schedules"),
                        t.timestamp,
                        t.now
                    ),
                    format!(
                        "CREATE TABLE {} (claim_id {} PRIMARY KEY, outcome TEXT NOT NULL, rule_set_hash TEXT NOT NULL, total_paid_cents {} NOT NULL, decision TEXT NOT NULL, decided_at {} NOT NULL DEFAULT {})",
                        store.table("decisions"),
                        t.uuid,
                        t.bigint,
                        t.timestamp,
                        t.now
                    ),
                ]
            },
        },
        Migration { version: 2, name: "reversals", statements: |store| vec![format!("ALTER TABLE {} ADD COLUMN reversed_by TEXT", store.table("decisions"))] },
    ]
}

/// A payer's fee schedule as published: its id, content hash and entries by code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSchedule {
    pub fee_schedule_id: String,
    pub content_hash: String,
    pub entries: Vec<FeeScheduleEntry>,
}

/// Replaces `payer_id`'s schedule with `schedule` (entries sorted by code), in `tx`.
pub async fn replace_fee_schedule(store: &Store, tx: &impl ConnectionTrait, payer_id: &str, schedule: &StoredSchedule) -> Result<(), StoreError> {
    tx.execute_raw(stmt(store, format!("DELETE FROM {} WHERE payer_id = $1", store.table("fees")), vec![Value::from(payer_id.to_owned())])).await?;
    let mut rows = Vec::with_capacity(schedule.entries.len());
    for entry in &schedule.entries {
        let cents = entry.amount.cents().map_err(|e| StoreError::Corrupt(format!("fee of {}: {e}", entry.procedure_code)))?;
        rows.push(vec![Value::from(payer_id.to_owned()), Value::from(entry.procedure_code.clone()), Value::from(cents)]);
    }
    let insert = format!("INSERT INTO {} (payer_id, procedure_code, amount_cents) VALUES ", store.table("fees"));
    claimtrail_store::insert_rows(store, tx, &insert, rows, "").await?;
    let upsert = format!(
        "INSERT INTO {} (payer_id, fee_schedule_id, content_hash) VALUES ($1, $2, $3) \
         ON CONFLICT (payer_id) DO UPDATE SET fee_schedule_id = excluded.fee_schedule_id, content_hash = excluded.content_hash, published_at = {}",
        store.table("fee_schedules"),
        store.types().now
    );
    let values = vec![Value::from(payer_id.to_owned()), Value::from(schedule.fee_schedule_id.clone()), Value::from(schedule.content_hash.clone())];
    tx.execute_raw(stmt(store, upsert, values)).await?;
    Ok(())
}

/// `payer_id`'s schedule in force, entries by code, or `None` if it never published one.
pub async fn fee_schedule(store: &Store, conn: &impl ConnectionTrait, payer_id: &str) -> Result<Option<StoredSchedule>, StoreError> {
    let header = conn
        .query_one_raw(stmt(
            store,
            format!("SELECT fee_schedule_id, content_hash FROM {} WHERE payer_id = $1", store.table("fee_schedules")),
            vec![Value::from(payer_id.to_owned())],
        ))
        .await?;
    let Some(header) = header else { return Ok(None) };
    let rows = conn
        .query_all_raw(stmt(
            store,
            format!("SELECT procedure_code, amount_cents FROM {} WHERE payer_id = $1 ORDER BY procedure_code", store.table("fees")),
            vec![Value::from(payer_id.to_owned())],
        ))
        .await?;
    let mut entries = Vec::with_capacity(rows.len());
    for row in rows {
        entries.push(FeeScheduleEntry { procedure_code: row.try_get_by_index(0)?, amount: Money::from_cents(row.try_get_by_index(1)?) });
    }
    Ok(Some(StoredSchedule { fee_schedule_id: header.try_get_by_index(0)?, content_hash: header.try_get_by_index(1)?, entries }))
}

/// The schedule the pricing step uses, read on `conn` (the transaction of
/// the batch of claims it prices: one read per payer and batch). A payer
/// with none prices every line as not covered, under the hash `none`.
pub async fn pricing_schedule(store: &Store, conn: &impl ConnectionTrait, payer_id: &str) -> Result<FeeSchedule, StoreError> {
    Ok(match fee_schedule(store, conn, payer_id).await? {
        Some(stored) => {
            let fees: HashMap<String, Money> = stored.entries.into_iter().map(|entry| (entry.procedure_code, entry.amount)).collect();
            FeeSchedule { content_hash: stored.content_hash, fees }
        }
        None => FeeSchedule { content_hash: "none".into(), fees: HashMap::new() },
    })
}

/// The decision state of `claim_id`, as stored.
pub async fn decision_state(store: &Store, conn: &impl ConnectionTrait, claim_id: Uuid) -> Result<DecisionState, StoreError> {
    let row = conn
        .query_one_raw(stmt(store, format!("SELECT decision, reversed_by FROM {} WHERE claim_id = $1", store.table("decisions")), vec![Value::from(claim_id)]))
        .await?;
    let Some(row) = row else { return Ok(DecisionState::Undecided) };
    let decision: ClaimAdjudicated =
        serde_json::from_str(&row.try_get_by_index::<String>(0)?).map_err(|e| StoreError::Corrupt(format!("stored decision {claim_id}: {e}")))?;
    Ok(match row.try_get_by_index::<Option<String>>(1)? {
        Some(by_claim_id) => DecisionState::Reversed { decision, by_claim_id },
        None => DecisionState::Decided(decision),
    })
}

/// Stores a decision (for replays and reversals).
pub async fn insert_decision(store: &Store, tx: &impl ConnectionTrait, decision: &ClaimAdjudicated) -> Result<(), StoreError> {
    let decision_json = serde_json::to_string(decision).map_err(|e| StoreError::Corrupt(format!("decision {}: {e}", decision.claim_id)))?;
    let total_paid_cents = decision.total_paid.cents().map_err(|e| StoreError::Corrupt(format!("paid amount of claim {}: {e}", decision.claim_id)))?;
    tx.execute_raw(stmt(
        store,
        format!("INSERT INTO {} (claim_id, outcome, rule_set_hash, total_paid_cents, decision) VALUES ($1, $2, $3, $4, $5)", store.table("decisions")),
        vec![
            Value::from(decision.claim_id),
            Value::from(decision.outcome.as_str()),
            Value::from(decision.rule_set_hash.clone()),
            Value::from(total_paid_cents),
            Value::from(decision_json),
        ],
    ))
    .await?;
    Ok(())
}

/// Marks `original` reversed by `by`, unless another claim reversed it
/// first (conditional, so that of two concurrent replacements one wins);
/// false when it lost that race.
pub async fn mark_reversed(store: &Store, tx: &impl ConnectionTrait, original: Uuid, by: Uuid) -> Result<bool, StoreError> {
    let updated = tx
        .execute_raw(stmt(
            store,
            format!("UPDATE {} SET reversed_by = $2 WHERE claim_id = $1 AND reversed_by IS NULL", store.table("decisions")),
            vec![Value::from(original), Value::from(by.to_string())],
        ))
        .await?;
    Ok(updated.rows_affected() == 1)
}

/// Rows and bytes this service holds, for the bench.
pub async fn footprint(store: &Store) -> Result<claimtrail_store::Footprint, StoreError> {
    claimtrail_store::footprint(store, &["decisions", "fees", "fee_schedules", "outbox", "inbox"]).await
}
