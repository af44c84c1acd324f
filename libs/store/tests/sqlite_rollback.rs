//! SQLite can end a transaction by itself (a write that meets a full disk,
//! `SQLITE_FULL`, or an I/O error rolls the whole transaction back). The
//! writer's connection must not stay out of step with it: a later commit
//! reaches the readers, and so the disk.

use claimtrail_store::{Store, StoreConfig, stmt};
use sea_orm::ConnectionTrait as _;

#[tokio::test]
async fn after_sqlite_ends_a_transaction_by_itself_later_commits_reach_the_readers() -> anyhow::Result<()> {
    let path = std::env::temp_dir().join(format!("claimtrail-store-rollback-{}.db", uuid::Uuid::now_v7()));
    let config = StoreConfig {
        database_url: format!("sqlite://{}?mode=rwc", path.display()),
        service: "rollback".into(),
        prefix: String::new(),
        max_connections: 1,
        statement_timeout: None,
    };
    let store = Store::connect(&config).await?;
    let table = store.table("rows");
    store.db().execute_unprepared(&format!("CREATE TABLE {table} (n INTEGER NOT NULL)")).await?;

    // Given a transaction that SQLite ended by itself, as it does on SQLITE_FULL
    // (the ROLLBACK sent for it when it is dropped then fails: no transaction is active),
    let tx = store.begin().await?;
    tx.execute_unprepared(&format!("INSERT INTO {table} VALUES (1)")).await?;
    tx.execute_unprepared("ROLLBACK").await?;
    drop(tx);
    // and a later transaction rolled back (had the connection gone on counting the
    // first one open, this one would be a savepoint, and its rollback would leave
    // a transaction open that nothing commits),
    let tx = store.begin().await?;
    tx.execute_unprepared(&format!("INSERT INTO {table} VALUES (2)")).await?;
    drop(tx);

    // When a third transaction commits
    let tx = store.begin().await?;
    tx.execute_unprepared(&format!("INSERT INTO {table} VALUES (3)")).await?;
    tx.commit().await?;

    // Then its row is committed: the readers see it, and only it.
    let rows = store.reader().query_all_raw(stmt(&store, format!("SELECT n FROM {table} ORDER BY n"), vec![])).await?;
    let seen: Vec<i64> = rows.iter().map(|row| row.try_get_by_index::<i64>(0)).collect::<Result<_, _>>()?;
    assert_eq!(seen, [3]);
    drop(store);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    Ok(())
}
