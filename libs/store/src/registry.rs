//! The shared registry: where each service publishes the public key it signs
//! its event batches with, so that the anchor (and through it,
//! `/v1/ledger/keys` and the export) can verify them; and the API keys
//! (key id, SHA-256 of the secret, tenant, role, payer scope) that every
//! service's API authenticates against (`claimtrail_runtime::auth`).
//!
//! A shared table in a component of its own (schema `<prefix>_registry` on
//! Postgres, `registry_producer_keys` in the embedded SQLite file): every
//! service inserts its verifier key at start, before it appends anything;
//! rows are never updated or removed, so a key rotation adds a key and
//! entries signed by the old one still verify. Whoever can write to the
//! database can register a key, which is no more than whoever can already
//! write a service's outbox; an auditor pins the keys with `claimtrail verify --key`.

use sea_orm::{ConnectionTrait, Value};

use crate::{Migration, Store, StoreError, migrate, stmt};

/// The registry's component (schema or table prefix) name.
pub const COMPONENT: &str = "registry";

fn migrations() -> Vec<Migration> {
    vec![
        Migration {
            version: 1,
            name: "producer keys",
            statements: |store| {
                let t = store.types();
                vec![format!(
                    "CREATE TABLE {} (vkey TEXT PRIMARY KEY, service TEXT NOT NULL, added_at {} NOT NULL DEFAULT {})",
                    store.table("producer_keys"),
                    t.timestamp,
                    t.now
                )]
            },
        },
        Migration {
            version: 2,
            name: "api keys, shared by every service's API",
            statements: |store| {
                let t = store.types();
                vec![format!(
                    "CREATE TABLE {} (key_id TEXT PRIMARY KEY, secret_sha256 {} NOT NULL, tenant TEXT NOT NULL, role TEXT NOT NULL, payer_id TEXT, \
                     created_at {} NOT NULL DEFAULT {})",
                    store.table("api_keys"),
                    t.bytes,
                    t.timestamp,
                    t.now
                )]
            },
        },
        Migration {
            version: 3,
            name: "the payers a finance or auditor key reads",
            // `*` for every payer, else the ids joined by commas; NULL (keys made before): none.
            statements: |store| vec![format!("ALTER TABLE {} ADD COLUMN payer_ids TEXT", store.table("api_keys"))],
        },
    ]
}

/// The registry's store on `store`'s pool, its table created if needed.
pub async fn open(store: &Store, prefix: &str) -> Result<Store, StoreError> {
    let registry = store.for_service(COMPONENT, prefix)?;
    migrate::run(&registry, COMPONENT, &migrations()).await?;
    Ok(registry)
}

/// Publishes `service`'s producer verifier key (idempotent).
pub async fn register(registry: &Store, service: &str, vkey: &str) -> Result<(), StoreError> {
    registry
        .db()
        .execute_raw(stmt(
            registry,
            format!("INSERT INTO {} (vkey, service) VALUES ($1, $2) ON CONFLICT (vkey) DO NOTHING", registry.table("producer_keys")),
            vec![Value::from(vkey.to_owned()), Value::from(service.to_owned())],
        ))
        .await?;
    Ok(())
}

/// Every registered (service, vkey), oldest first, read on `conn` (a
/// transaction of any service on the same database, or the pool).
pub async fn producer_keys(registry: &Store, conn: &impl ConnectionTrait) -> Result<Vec<(String, String)>, StoreError> {
    let rows =
        conn.query_all_raw(stmt(registry, format!("SELECT service, vkey FROM {} ORDER BY added_at, vkey", registry.table("producer_keys")), vec![])).await?;
    let mut keys = Vec::with_capacity(rows.len());
    for row in rows {
        keys.push((row.try_get_by_index(0)?, row.try_get_by_index(1)?));
    }
    Ok(keys)
}

/// One stored API key: the key id, the SHA-256 of its secret, and whom it
/// stands for (the role and payer columns as `claimtrail_runtime::auth` writes them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub key_id: String,
    pub secret_sha256: Vec<u8>,
    pub tenant: String,
    pub role: String,
    pub payer_id: Option<String>,
    pub payer_ids: Option<String>,
}

/// Stores a new API key.
pub async fn insert_api_key(registry: &Store, key: &StoredKey) -> Result<(), StoreError> {
    registry
        .db()
        .execute_raw(stmt(
            registry,
            format!("INSERT INTO {} (key_id, secret_sha256, tenant, role, payer_id, payer_ids) VALUES ($1, $2, $3, $4, $5, $6)", registry.table("api_keys")),
            vec![
                Value::from(key.key_id.clone()),
                Value::from(key.secret_sha256.clone()),
                Value::from(key.tenant.clone()),
                Value::from(key.role.clone()),
                Value::from(key.payer_id.clone()),
                Value::from(key.payer_ids.clone()),
            ],
        ))
        .await?;
    Ok(())
}

/// The API key with `key_id`, if one is stored.
pub async fn api_key(registry: &Store, key_id: &str) -> Result<Option<StoredKey>, StoreError> {
    let row = registry
        .reader()
        .query_one_raw(stmt(
            registry,
            format!("SELECT secret_sha256, tenant, role, payer_id, payer_ids FROM {} WHERE key_id = $1", registry.table("api_keys")),
            vec![Value::from(key_id.to_owned())],
        ))
        .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(StoredKey {
        key_id: key_id.to_owned(),
        secret_sha256: row.try_get_by_index(0)?,
        tenant: row.try_get_by_index(1)?,
        role: row.try_get_by_index(2)?,
        payer_id: row.try_get_by_index(3)?,
        payer_ids: row.try_get_by_index(4)?,
    }))
}
