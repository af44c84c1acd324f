//! Versioned migrations, recorded per component in `schema_migrations`.

use sea_orm::{ConnectionTrait, TransactionTrait, Value};

use crate::{Store, StoreError, stmt};

/// One migration: a version, a name and the statements it runs (built for
/// the store's backend and naming).
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub statements: fn(&Store) -> Vec<String>,
}

/// Applies, in order and each in its own transaction, the migrations of
/// `component` that are not yet recorded. On Postgres an advisory lock per
/// schema serialises concurrent starts.
pub async fn run(store: &Store, component: &str, migrations: &[Migration]) -> Result<(), StoreError> {
    let table = store.table("schema_migrations");
    let types = store.types();
    let tx = store.db().begin().await?;
    if let Some(schema) = store.schema() {
        tx.execute_raw(stmt(store, "SELECT pg_advisory_xact_lock(hashtext($1))", vec![Value::from(schema.to_owned())])).await?;
        tx.execute_unprepared(&format!("CREATE SCHEMA IF NOT EXISTS {schema}")).await?;
    }
    tx.execute_unprepared(&format!(
        "CREATE TABLE IF NOT EXISTS {table} (component TEXT NOT NULL, version BIGINT NOT NULL, name TEXT NOT NULL, \
         applied_at {} NOT NULL DEFAULT {}, PRIMARY KEY (component, version))",
        types.timestamp, types.now
    ))
    .await?;
    let rows = tx.query_all_raw(stmt(store, format!("SELECT version FROM {table} WHERE component = $1"), vec![Value::from(component.to_owned())])).await?;
    let mut applied = Vec::with_capacity(rows.len());
    for row in rows {
        applied.push(row.try_get_by_index::<i64>(0)?);
    }
    for migration in migrations {
        if applied.contains(&migration.version) {
            continue;
        }
        for sql in (migration.statements)(store) {
            tx.execute_unprepared(&sql)
                .await
                .map_err(|e| StoreError::Config(format!("migration {component} {} `{}` failed: {e}", migration.version, migration.name)))?;
        }
        tx.execute_raw(stmt(
            store,
            format!("INSERT INTO {table} (component, version, name) VALUES ($1, $2, $3)"),
            vec![Value::from(component.to_owned()), Value::from(migration.version), Value::from(migration.name.to_owned())],
        ))
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
