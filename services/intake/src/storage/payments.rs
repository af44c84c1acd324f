//! The claims' payments as settlement reported them (`remittance.issued.v1`,
//! `ach_entry.returned.v1`): what the ClaimResponse and the EOB show.
//! Migration 30 creates the table.

use claimtrail_events::Money;
use claimtrail_store::{Migration, Store, StoreError, stmt};
use sea_orm::{ConnectionTrait, Value};
use uuid::Uuid;

use crate::domain::payments::PaidClaim;

/// Version 30: `claim_payments`, one row per paid claim (its latest payment).
pub fn migration() -> Migration {
    Migration {
        // Apart from 10.. so that other branches' next intake migrations do not collide.
        version: 30,
        name: "claim payments reported by settlement",
        statements: |store| {
            let t = store.types();
            vec![
                format!(
                    "CREATE TABLE {} (claim_id {} PRIMARY KEY, remittance_id {} NOT NULL, paid_on TEXT NOT NULL, amount_cents {} NOT NULL, trace_number TEXT NOT NULL)",
                    store.table("claim_payments"),
                    t.uuid,
                    t.uuid,
                    t.bigint
                ),
                format!("CREATE INDEX {} ON {} (remittance_id)", store.index("claim_payments_remittance"), store.table("claim_payments")),
            ]
        },
    }
}

/// Records (or replaces) a claim's payment.
pub async fn record(store: &Store, tx: &impl ConnectionTrait, paid: &PaidClaim) -> Result<(), StoreError> {
    let cents = paid.amount.cents().map_err(|e| StoreError::Corrupt(format!("payment of claim {}: {e}", paid.claim_id)))?;
    let table = store.table("claim_payments");
    tx.execute_raw(stmt(store, format!("DELETE FROM {table} WHERE claim_id = $1"), vec![Value::from(paid.claim_id)])).await?;
    tx.execute_raw(stmt(
        store,
        format!("INSERT INTO {table} (claim_id, remittance_id, paid_on, amount_cents, trace_number) VALUES ($1, $2, $3, $4, $5)"),
        vec![
            Value::from(paid.claim_id),
            Value::from(paid.remittance_id),
            Value::from(claimtrail_events::format_date(paid.paid_on)),
            Value::from(cents),
            Value::from(paid.trace_number.clone()),
        ],
    ))
    .await?;
    Ok(())
}

/// Forgets the payments of a remittance the bank returned.
pub async fn unpay_remittance(store: &Store, tx: &impl ConnectionTrait, remittance_id: Uuid) -> Result<(), StoreError> {
    tx.execute_raw(stmt(store, format!("DELETE FROM {} WHERE remittance_id = $1", store.table("claim_payments")), vec![Value::from(remittance_id)])).await?;
    Ok(())
}

/// A claim's payment, when it was paid.
pub async fn of_claim(store: &Store, claim_id: Uuid) -> Result<Option<claimtrail_fhir::ClaimPayment>, StoreError> {
    let row = store
        .reader()
        .query_one_raw(stmt(
            store,
            format!("SELECT paid_on, amount_cents, trace_number FROM {} WHERE claim_id = $1", store.table("claim_payments")),
            vec![Value::from(claim_id)],
        ))
        .await?;
    let Some(row) = row else { return Ok(None) };
    let paid_on: String = row.try_get_by_index(0)?;
    Ok(Some(claimtrail_fhir::ClaimPayment {
        date: claimtrail_events::parse_date(&paid_on).ok_or_else(|| StoreError::Corrupt(format!("payment date `{paid_on}` of claim {claim_id}")))?,
        amount: Money::from_cents(row.try_get_by_index(1)?),
        trace_number: row.try_get_by_index(2)?,
    }))
}
