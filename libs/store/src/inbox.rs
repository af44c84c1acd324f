//! The inbox: ids of the events a service has processed.
//!
//! Recording an id happens in the same transaction as the event's effect; a
//! redelivered event finds its id there and changes nothing.

use sea_orm::{ConnectionTrait, Value};
use uuid::Uuid;

use crate::{Store, StoreError, stmt};

/// Records `event_id` as processed; `true` when it was new, `false` when the
/// event was processed before (the caller then skips its effect).
pub async fn record(store: &Store, tx: &impl ConnectionTrait, event_id: Uuid) -> Result<bool, StoreError> {
    let result = tx
        .execute_raw(stmt(
            store,
            format!("INSERT INTO {} (event_id) VALUES ($1) ON CONFLICT (event_id) DO NOTHING", store.table("inbox")),
            vec![Value::from(event_id)],
        ))
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Whether `event_id` was processed.
pub async fn contains(store: &Store, conn: &impl ConnectionTrait, event_id: Uuid) -> Result<bool, StoreError> {
    let row = conn.query_one_raw(stmt(store, format!("SELECT 1 FROM {} WHERE event_id = $1", store.table("inbox")), vec![Value::from(event_id)])).await?;
    Ok(row.is_some())
}

/// Records many event ids in one statement; returns the ids that were new
/// (the caller applies only those).
pub async fn record_many(store: &Store, tx: &impl ConnectionTrait, event_ids: &[Uuid]) -> Result<std::collections::HashSet<Uuid>, StoreError> {
    let mut new_ids = std::collections::HashSet::with_capacity(event_ids.len());
    for chunk in event_ids.chunks(1_000) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|n| format!("(${n})")).collect();
        let rows = tx
            .query_all_raw(stmt(
                store,
                format!(
                    "INSERT INTO {} (event_id) VALUES {} ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
                    store.table("inbox"),
                    placeholders.join(",")
                ),
                chunk.iter().map(|id| Value::from(*id)).collect(),
            ))
            .await?;
        for row in rows {
            new_ids.insert(row.try_get_by_index::<Uuid>(0)?);
        }
    }
    Ok(new_ids)
}
