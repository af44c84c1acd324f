//! Payers' payment cycles ([`crate::domain::schedule`]): one row per payer.

use claimtrail_events::Timestamp;
use claimtrail_store::{Store, StoreError, stmt};
use sea_orm::{ConnectionTrait, QueryResult, Value};

use crate::domain::schedule::PaymentSchedule;

/// Migration 241: the table of payment cycles.
pub(crate) fn migration(store: &Store) -> Vec<String> {
    vec![format!(
        "CREATE TABLE {} (payer_id TEXT PRIMARY KEY, weekdays TEXT NOT NULL, at TEXT NOT NULL, since TEXT NOT NULL, set_by TEXT NOT NULL)",
        store.table("payment_schedules")
    )]
}

/// A payer's schedule as stored, and who set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSchedule {
    pub payer_id: String,
    pub schedule: PaymentSchedule,
    pub set_by: String,
}

/// Sets (or replaces) the payer's schedule.
pub async fn put(store: &Store, conn: &impl ConnectionTrait, stored: &StoredSchedule) -> Result<(), StoreError> {
    let since = Timestamp::from_datetime(stored.schedule.since.assume_utc()).to_string();
    conn.execute_raw(stmt(
        store,
        format!(
            "INSERT INTO {} (payer_id, weekdays, at, since, set_by) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (payer_id) DO UPDATE SET weekdays = excluded.weekdays, at = excluded.at, since = excluded.since, set_by = excluded.set_by",
            store.table("payment_schedules")
        ),
        vec![
            Value::from(stored.payer_id.clone()),
            Value::from(stored.schedule.weekday_names().join(",")),
            Value::from(stored.schedule.at_text()),
            Value::from(since),
            Value::from(stored.set_by.clone()),
        ],
    ))
    .await?;
    Ok(())
}

/// Removes the payer's schedule: true if it had one.
pub async fn delete(store: &Store, conn: &impl ConnectionTrait, payer_id: &str) -> Result<bool, StoreError> {
    let result = conn
        .execute_raw(stmt(store, format!("DELETE FROM {} WHERE payer_id = $1", store.table("payment_schedules")), vec![Value::from(payer_id.to_owned())]))
        .await?;
    Ok(result.rows_affected() == 1)
}

/// The payer's schedule, if it has one.
pub async fn of_payer(store: &Store, conn: &impl ConnectionTrait, payer_id: &str) -> Result<Option<StoredSchedule>, StoreError> {
    let row = conn
        .query_one_raw(stmt(
            store,
            format!("SELECT payer_id, weekdays, at, since, set_by FROM {} WHERE payer_id = $1", store.table("payment_schedules")),
            vec![Value::from(payer_id.to_owned())],
        ))
        .await?;
    row.as_ref().map(stored_of).transpose()
}

/// Every payer's schedule, by payer.
pub async fn all(store: &Store, conn: &impl ConnectionTrait) -> Result<Vec<StoredSchedule>, StoreError> {
    let rows = conn
        .query_all_raw(stmt(store, format!("SELECT payer_id, weekdays, at, since, set_by FROM {} ORDER BY payer_id", store.table("payment_schedules")), vec![]))
        .await?;
    rows.iter().map(stored_of).collect()
}

fn stored_of(row: &QueryResult) -> Result<StoredSchedule, StoreError> {
    let weekdays: String = row.try_get_by_index(1)?;
    let at: String = row.try_get_by_index(2)?;
    let since: String = row.try_get_by_index(3)?;
    let since = Timestamp::parse(&since).map_err(|e| StoreError::Corrupt(format!("a payment schedule's time set: {e}")))?.datetime();
    let since = time::PrimitiveDateTime::new(since.date(), since.time());
    let days: Vec<String> = weekdays.split(',').map(str::to_owned).collect();
    let schedule = PaymentSchedule::parse(&days, &at, since).map_err(|e| StoreError::Corrupt(format!("a payment schedule: {e}")))?;
    Ok(StoredSchedule { payer_id: row.try_get_by_index(0)?, schedule, set_by: row.try_get_by_index(4)? })
}
