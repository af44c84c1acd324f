//! X12 interchanges received (deduplicated by sender and control number)
//! and the outbound control numbers of the acknowledgments.

use claimtrail_store::{Store, StoreError, stmt};
use claimtrail_x12::ControlNumbers;
use sea_orm::{ConnectionTrait, DatabaseTransaction, Value};

/// Whether the interchange `(qualifier, sender, control_number)` was received before.
pub async fn interchange_seen(store: &Store, qualifier: &str, sender: &str, control_number: &str) -> Result<bool, StoreError> {
    let row = store
        .db()
        .query_one_raw(stmt(
            store,
            format!("SELECT 1 FROM {} WHERE sender_qualifier = $1 AND sender_id = $2 AND control_number = $3", store.table("x12_interchanges")),
            vec![Value::from(qualifier.to_owned()), Value::from(sender.to_owned()), Value::from(control_number.to_owned())],
        ))
        .await?;
    Ok(row.is_some())
}

/// Records an interchange as received from `submitter`; false when another request recorded it first.
pub async fn insert_interchange(
    store: &Store,
    tx: &impl ConnectionTrait,
    (qualifier, sender, control_number): (&str, &str, &str),
    submitter: &str,
) -> Result<bool, StoreError> {
    let inserted = tx
        .execute_raw(stmt(
            store,
            format!(
                "INSERT INTO {} (sender_qualifier, sender_id, control_number, submitter) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                store.table("x12_interchanges")
            ),
            vec![Value::from(qualifier.to_owned()), Value::from(sender.to_owned()), Value::from(control_number.to_owned()), Value::from(submitter.to_owned())],
        ))
        .await?;
    Ok(inserted.rows_affected() > 0)
}

/// Locks and reads the next outbound control numbers (one row, so that
/// concurrent requests never reuse one).
pub async fn control_numbers(store: &Store, tx: &DatabaseTransaction) -> Result<ControlNumbers, StoreError> {
    let lock = if store.is_postgres() { " FOR UPDATE" } else { "" };
    let row = tx
        .query_one_raw(stmt(
            store,
            format!("SELECT next_interchange, next_group, next_transaction FROM {} WHERE id = 1{lock}", store.table("x12_control_numbers")),
            vec![],
        ))
        .await?
        .ok_or_else(|| StoreError::Corrupt("the x12 control number row is missing".into()))?;
    let number = |idx: usize| -> Result<u32, StoreError> {
        let value: i64 = row.try_get_by_index(idx)?;
        u32::try_from(value).map_err(|_| StoreError::Corrupt(format!("stored control number {value} is out of range")))
    };
    Ok(ControlNumbers { next_interchange: number(0)?, next_group: number(1)?, next_transaction: number(2)? })
}

/// Stores the next outbound control numbers.
pub async fn set_control_numbers(store: &Store, tx: &impl ConnectionTrait, numbers: &ControlNumbers) -> Result<(), StoreError> {
    tx.execute_raw(stmt(
        store,
        format!("UPDATE {} SET next_interchange = $1, next_group = $2, next_transaction = $3 WHERE id = 1", store.table("x12_control_numbers")),
        vec![Value::from(i64::from(numbers.next_interchange)), Value::from(i64::from(numbers.next_group)), Value::from(i64::from(numbers.next_transaction))],
    ))
    .await?;
    Ok(())
}
