//! The store against the machine's Postgres (`CLAIMTRAIL_TEST_DATABASE_URL`,
//! default `postgres://postgres@127.0.0.1:5432/postgres`): the statement
//! timeout and the multi-host URL.

use std::time::{Duration, Instant};

use claimtrail_store::{Store, StoreConfig};
use sea_orm::ConnectionTrait as _;

fn database_url() -> String {
    std::env::var("CLAIMTRAIL_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn config(database_url: String, statement_timeout: Option<Duration>) -> StoreConfig {
    StoreConfig { database_url, service: "storetest".to_owned(), prefix: String::new(), max_connections: 2, statement_timeout }
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binding a port");
    listener.local_addr().expect("bound").port()
}

#[tokio::test]
async fn a_statement_past_the_timeout_is_cancelled_promptly_and_counts_as_unavailable() -> anyhow::Result<()> {
    let store = Store::connect(&config(database_url(), Some(Duration::from_millis(300)))).await?;
    let started = Instant::now();
    let error = store.db().execute_unprepared("SELECT pg_sleep(10)").await.expect_err("pg_sleep(10) outlives a 300 ms statement timeout");
    assert!(started.elapsed() < Duration::from_secs(5), "cancelled after {:?}", started.elapsed());
    assert!(claimtrail_store::is_unavailable(&error), "{error:?}");
    // The session is fine afterwards.
    store.db().execute_unprepared("SELECT 1").await?;
    Ok(())
}

#[tokio::test]
async fn a_multi_host_url_connects_to_the_host_that_answers_and_takes_writes() -> anyhow::Result<()> {
    let url = database_url();
    // postgres://postgres@127.0.0.1:5432/postgres -> a dead host first, then the real one.
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (userinfo, host_and_path) = rest.rsplit_once('@').map_or(("", rest), |(u, h)| (u, h));
    let at = if userinfo.is_empty() { String::new() } else { format!("{userinfo}@") };
    let multi = format!("{scheme}://{at}127.0.0.1:{},{host_and_path}?target_session_attrs=read-write", closed_port());
    let store = Store::connect(&config(multi, None)).await?;
    let row = store.db().query_one_raw(sea_orm::Statement::from_string(store.backend(), "SHOW transaction_read_only".to_owned())).await?.expect("a row");
    assert_eq!(row.try_get_by_index::<String>(0)?, "off");
    assert!(store.ping().await);

    // Every host dead: a clear error that names them, and is retryable.
    let dead = format!("{scheme}://{at}127.0.0.1:{},127.0.0.1:{}/postgres?target_session_attrs=read-write", closed_port(), closed_port());
    let error = Store::connect(&config(dead, None)).await.err().expect("no host answers");
    assert!(error.is_unavailable(), "{error}");
    assert!(error.to_string().contains("no database host is a read-write primary"), "{error}");
    Ok(())
}

/// A lease is held by one session at a time; its transactions are fenced by
/// the lock; when its holder goes (process death closes the connection), the
/// next replica takes it.
#[tokio::test]
async fn a_lease_is_held_by_one_replica_at_a_time_fences_its_transactions_and_passes_on_when_released() -> anyhow::Result<()> {
    use claimtrail_store::lease::Lease;
    let store = Store::connect(&config(database_url(), None)).await?;
    let name = format!("storetest.lease.{}", uuid::Uuid::now_v7());
    let (first, second) = (Lease::new(&store, &name).await?, Lease::new(&store, &name).await?);
    assert!(!first.held().await?, "not taken yet");
    let error = first.begin().await.expect_err("no transaction before the lease is taken");
    assert!(claimtrail_store::is_unavailable(&error), "a lost lease counts as unavailable (retried): {error:?}");
    assert!(first.try_take().await?);
    assert!(first.try_take().await?, "taking it again while held answers true");
    assert!(!second.try_take().await?, "the other replica does not get it");
    let tx = first.begin().await?;
    tx.execute_unprepared("SELECT 1").await?;
    tx.commit().await?;
    first.release().await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while !second.try_take().await? {
        assert!(Instant::now() < deadline, "the released lease was not taken");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(second.held().await?);
    second.begin().await?.commit().await?;
    Ok(())
}
