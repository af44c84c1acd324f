//! `Idempotency-Key` on `POST /v1/claims`: the same key with the same body
//! gives the same answer and the same claim ids; the same key with another
//! body is refused (422); while the first request with a key is in flight a
//! second one gets 409. Keys are per tenant. A request that died in flight
//! (crash) releases its key after [`IN_FLIGHT_EXPIRY_MS`].

use claimtrail_store::{Store, StoreError, stmt};
use sea_orm::{ConnectionTrait, Value};

/// After this long an in-flight key is considered abandoned and may be taken over.
pub const IN_FLIGHT_EXPIRY_MS: i64 = 60_000;
/// Longest key accepted.
pub const KEY_LENGTH_MAX: usize = 255;

pub fn migration() -> claimtrail_store::Migration {
    claimtrail_store::Migration {
        version: 3,
        name: "idempotency keys",
        statements: |store| {
            let t = store.types();
            vec![format!(
                "CREATE TABLE {} (tenant TEXT NOT NULL, idempotency_key TEXT NOT NULL, body_sha256 TEXT NOT NULL, state TEXT NOT NULL, \
                 started_at_ms {} NOT NULL, response TEXT, PRIMARY KEY (tenant, idempotency_key))",
                store.table("idempotency_keys"),
                t.bigint
            )]
        },
    }
}

/// What to do with a request that carries a key.
#[derive(Debug, PartialEq, Eq)]
pub enum Begin {
    /// First time (or an abandoned attempt): process it.
    Started,
    /// Done before: answer this stored response.
    Replay(String),
    /// The key was used with another body.
    BodyMismatch,
    /// The first request with this key is still being processed.
    InFlight,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// A key must be 1-255 visible ASCII characters.
pub fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= KEY_LENGTH_MAX && key.bytes().all(|b| b.is_ascii_graphic())
}

pub async fn begin(store: &Store, tenant: &str, key: &str, body_sha256: &str) -> Result<Begin, StoreError> {
    let table = store.table("idempotency_keys");
    let now = now_ms();
    let inserted = store
        .db()
        .execute_raw(stmt(
            store,
            format!(
                "INSERT INTO {table} (tenant, idempotency_key, body_sha256, state, started_at_ms) VALUES ($1, $2, $3, 'in_flight', $4) \
                 ON CONFLICT (tenant, idempotency_key) DO NOTHING"
            ),
            vec![Value::from(tenant.to_owned()), Value::from(key.to_owned()), Value::from(body_sha256.to_owned()), Value::from(now)],
        ))
        .await?;
    if inserted.rows_affected() == 1 {
        return Ok(Begin::Started);
    }
    let row = store
        .db()
        .query_one_raw(stmt(
            store,
            format!("SELECT body_sha256, state, started_at_ms, response FROM {table} WHERE tenant = $1 AND idempotency_key = $2"),
            vec![Value::from(tenant.to_owned()), Value::from(key.to_owned())],
        ))
        .await?;
    let Some(row) = row else {
        // Released between our insert and our read: try once more as new.
        return Ok(Begin::InFlight);
    };
    let stored_hash: String = row.try_get_by_index(0)?;
    let state: String = row.try_get_by_index(1)?;
    let started_at_ms: i64 = row.try_get_by_index(2)?;
    if stored_hash != body_sha256 {
        return Ok(Begin::BodyMismatch);
    }
    if state == "done" {
        return Ok(row.try_get_by_index::<Option<String>>(3)?.map(Begin::Replay).unwrap_or(Begin::InFlight));
    }
    if started_at_ms < now - IN_FLIGHT_EXPIRY_MS {
        let taken = store
            .db()
            .execute_raw(stmt(
                store,
                format!("UPDATE {table} SET started_at_ms = $3 WHERE tenant = $1 AND idempotency_key = $2 AND state = 'in_flight' AND started_at_ms = $4"),
                vec![Value::from(tenant.to_owned()), Value::from(key.to_owned()), Value::from(now), Value::from(started_at_ms)],
            ))
            .await?;
        if taken.rows_affected() == 1 {
            return Ok(Begin::Started);
        }
    }
    Ok(Begin::InFlight)
}

/// Stores the answer, in the transaction that stores the claims.
pub async fn finish(store: &Store, tx: &impl ConnectionTrait, tenant: &str, key: &str, response: &str) -> Result<(), StoreError> {
    tx.execute_raw(stmt(
        store,
        format!("UPDATE {} SET state = 'done', response = $3 WHERE tenant = $1 AND idempotency_key = $2", store.table("idempotency_keys")),
        vec![Value::from(tenant.to_owned()), Value::from(key.to_owned()), Value::from(response.to_owned())],
    ))
    .await?;
    Ok(())
}

/// Frees a key whose request failed before storing anything, so it can be retried.
pub async fn release(store: &Store, tenant: &str, key: &str) -> Result<(), StoreError> {
    store
        .db()
        .execute_raw(stmt(
            store,
            format!("DELETE FROM {} WHERE tenant = $1 AND idempotency_key = $2 AND state = 'in_flight'", store.table("idempotency_keys")),
            vec![Value::from(tenant.to_owned()), Value::from(key.to_owned())],
        ))
        .await?;
    Ok(())
}
