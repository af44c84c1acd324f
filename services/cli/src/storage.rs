//! The CLI's own SQL: what the benchmarks measure against (the raw
//! ceilings of `bench ledger`) and clean up. Every service's tables are read
//! through that service's library (`footprint()`, `checkpointed_size()`),
//! never here.

use claimtrail_ledger::hash::Hash;
use claimtrail_runtime::Runtime;
use claimtrail_store::stmt;
use sea_orm::{ConnectionTrait, DatabaseConnection};

/// One ledger row as the raw ceilings write it: index, event id, leaf, leaf hash, chain.
pub type LedgerRow<'a> = (i64, uuid::Uuid, &'a Vec<u8>, Hash, Hash);

/// A schema of `bench ledger`'s own, with a table for each measured path.
pub async fn create_bench_ledger_schema(db: &DatabaseConnection, schema: &str) -> anyhow::Result<()> {
    db.execute_unprepared(&format!("CREATE SCHEMA {schema}")).await?;
    let columns = "(idx BIGINT PRIMARY KEY, event_id UUID NOT NULL UNIQUE, leaf BYTEA NOT NULL, leaf_hash BYTEA NOT NULL, chain BYTEA NOT NULL)";
    for table in ["raw_insert", "raw_copy", "ledger"] {
        db.execute_unprepared(&format!("CREATE TABLE {schema}.{table} {columns}")).await?;
    }
    Ok(())
}

pub async fn drop_schema(db: &DatabaseConnection, schema: &str) -> anyhow::Result<()> {
    db.execute_unprepared(&format!("DROP SCHEMA {schema} CASCADE")).await?;
    Ok(())
}

/// The raw multi-row INSERT ceiling: 500 rows a statement.
pub async fn insert_ledger_rows(tx: &impl ConnectionTrait, table: &str, rows: &[LedgerRow<'_>]) -> anyhow::Result<()> {
    for chunk in rows.chunks(500) {
        let mut sql = format!("INSERT INTO {table} (idx, event_id, leaf, leaf_hash, chain) VALUES ");
        let mut values: Vec<sea_orm::Value> = Vec::with_capacity(chunk.len() * 5);
        for (row_idx, (idx, id, leaf, hash, chain)) in chunk.iter().enumerate() {
            if row_idx > 0 {
                sql.push(',');
            }
            let base = row_idx * 5;
            sql.push_str(&format!("(${},${},${},${},${})", base + 1, base + 2, base + 3, base + 4, base + 5));
            values.extend([
                sea_orm::Value::from(*idx),
                sea_orm::Value::from(*id),
                sea_orm::Value::from((*leaf).clone()),
                sea_orm::Value::from(hash.to_vec()),
                sea_orm::Value::from(chain.to_vec()),
            ]);
        }
        tx.execute_raw(sea_orm::Statement::from_sql_and_values(sea_orm::DbBackend::Postgres, sql, values)).await?;
    }
    Ok(())
}

/// The raw binary COPY ceiling.
pub async fn copy_ledger_rows(client: &tokio_postgres::Client, table: &str, rows: &[LedgerRow<'_>]) -> anyhow::Result<()> {
    use tokio_postgres::binary_copy::BinaryCopyInWriter;
    use tokio_postgres::types::{ToSql, Type};
    let sink = client.copy_in(&format!("COPY {table} (idx, event_id, leaf, leaf_hash, chain) FROM STDIN BINARY")).await?;
    let writer = BinaryCopyInWriter::new(sink, &[Type::INT8, Type::UUID, Type::BYTEA, Type::BYTEA, Type::BYTEA]);
    let mut writer = std::pin::pin!(writer);
    for (idx, id, leaf, hash, chain) in rows {
        let (hash, chain) = (hash.as_slice(), chain.as_slice());
        let row: [&(dyn ToSql + Sync); 5] = [idx, id, &leaf.as_slice(), &hash, &chain];
        writer.as_mut().write(&row).await?;
    }
    writer.finish().await?;
    Ok(())
}

/// The database's size: the embedded file (and its WAL), or every schema of the bench's prefix on Postgres.
pub async fn database_bytes(runtimes: &[Runtime], dir: &std::path::Path, embedded: bool, prefix: &str) -> anyhow::Result<i64> {
    use anyhow::Context as _;
    if embedded {
        let mut total = 0u64;
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            if entry.file_name().to_string_lossy().starts_with("claimtrail.db") {
                total += entry.metadata()?.len();
            }
        }
        return Ok(total as i64);
    }
    let store = &runtimes[0].store;
    let row = store
        .db()
        .query_one_raw(stmt(
            store,
            "SELECT CAST(COALESCE(SUM(pg_total_relation_size(c.oid)), 0) AS BIGINT) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname LIKE $1 AND c.relkind IN ('r', 'm')",
            vec![sea_orm::Value::from(format!("{prefix}\\_%"))],
        ))
        .await?
        .context("no row")?;
    Ok(row.try_get_by_index(0)?)
}

/// Drops every schema of the bench's stack (the services' and the shared registry's); best effort.
pub async fn drop_schemas(runtimes: &[Runtime], prefix: &str) {
    for runtime in runtimes {
        let _ = runtime.store.db().execute_unprepared(&format!("DROP SCHEMA IF EXISTS \"{prefix}_{}\" CASCADE", runtime.store.service())).await;
    }
    if let Some(runtime) = runtimes.first() {
        let registry = claimtrail_store::registry::COMPONENT;
        let _ = runtime.store.db().execute_unprepared(&format!("DROP SCHEMA IF EXISTS \"{prefix}_{registry}\" CASCADE")).await;
    }
}

/// The Postgres server's version and durability settings, as the deployed bench prints them.
pub async fn postgres_durability(db: &DatabaseConnection) -> anyhow::Result<serde_json::Value> {
    let mut settings = serde_json::Map::new();
    for name in ["server_version", "fsync", "synchronous_commit", "wal_sync_method", "full_page_writes", "commit_delay"] {
        let row =
            db.query_one_raw(sea_orm::Statement::from_string(sea_orm::DbBackend::Postgres, format!("SELECT CAST(current_setting('{name}') AS TEXT)"))).await?;
        let value: String = match row {
            Some(row) => row.try_get_by_index(0)?,
            None => String::new(),
        };
        settings.insert(name.to_owned(), serde_json::Value::from(value));
    }
    Ok(serde_json::Value::Object(settings))
}

/// The largest checkpoint size the anchor holds with a witness cosignature (0: none yet).
pub async fn cosigned_size(anchor: &claimtrail_store::Store) -> anyhow::Result<u64> {
    let sql = format!("SELECT CAST(COALESCE(MAX(size), 0) AS BIGINT) FROM {} WHERE cosigned >= 1", anchor.table("checkpoints"));
    let row = anchor.db().query_one_raw(stmt(anchor, sql, vec![])).await?;
    Ok(row.map(|row| row.try_get_by_index::<i64>(0)).transpose()?.unwrap_or(0).max(0) as u64)
}
