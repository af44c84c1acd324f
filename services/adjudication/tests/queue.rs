//! The pended queue's counts and ages (`storage::queue_waiting`, sampled onto
//! /metrics) on both backends: SQLite in a temporary directory and the test
//! Postgres in schemas of a prefix of its own.

use claimtrail_adjudication::domain::queue::{APPEAL, PENDED};
use claimtrail_adjudication::storage::{self, StoredRecord};
use claimtrail_events::{ClaimAdjudicated, ClaimAppealed, ClaimPended};
use claimtrail_store::{Store, StoreConfig};
use uuid::Uuid;

async fn store(database_url: String, prefix: String) -> anyhow::Result<Store> {
    let store = Store::connect(&StoreConfig { database_url, service: "adjudication".into(), prefix, max_connections: 2, statement_timeout: None }).await?;
    store.migrate(&claimtrail_adjudication::migrations()).await?;
    Ok(store)
}

fn record(payer_id: &str, event_type: &str) -> StoredRecord {
    StoredRecord {
        claim_id: Uuid::now_v7(),
        event_type: event_type.to_owned(),
        payer_id: payer_id.to_owned(),
        submitter: "clinic".into(),
        payload: b"{}".to_vec(),
        record: b"{}".to_vec(),
    }
}

/// Two pended claims and one decided of payer A, one open appeal of payer B
/// filed five days ago and one already decided: A has 2 pended, B 1 appeal.
async fn counts_pended_claims_and_open_appeals_per_payer(store: &Store) -> anyhow::Result<()> {
    let before = time::OffsetDateTime::now_utc().unix_timestamp();
    let tx = store.begin().await?;
    for stored in [record("A", ClaimPended::EVENT_TYPE), record("A", ClaimPended::EVENT_TYPE), record("A", ClaimAdjudicated::EVENT_TYPE)] {
        storage::insert_record(store, &tx, &stored, "test").await?;
    }
    let filed_on = claimtrail_events::today() - time::Duration::days(5);
    for (n, close) in [(0, false), (1, true)] {
        let appeal = ClaimAppealed {
            appeal_id: Uuid::now_v7(),
            claim_id: Uuid::now_v7(),
            payer_id: "B".into(),
            appellant: "clinic".into(),
            reason: format!("appeal {n}"),
            lines: vec![1],
        };
        assert!(storage::insert_appeal(store, &tx, &appeal, None, "sha3", filed_on).await?);
        if close {
            assert!(storage::close_appeal(store, &tx, appeal.appeal_id, "upheld").await?);
        }
    }
    tx.commit().await?;
    let after = time::OffsetDateTime::now_utc().unix_timestamp();

    let mut waiting = storage::queue_waiting(store, store.reader()).await?;
    waiting.sort_by(|a, b| a.payer_id.cmp(&b.payer_id));
    assert_eq!(waiting.len(), 2, "{waiting:?}");
    let (a, b) = (&waiting[0], &waiting[1]);
    assert_eq!((a.payer_id.as_str(), a.kind, a.count), ("A", PENDED, 2), "{waiting:?}");
    let since = a.oldest_since.expect("the pended claims' recording time");
    assert!((before - 1..=after + 1).contains(&since), "pended since {since}, recorded between {before} and {after}");
    assert_eq!((b.payer_id.as_str(), b.kind, b.count), ("B", APPEAL, 1), "{waiting:?}");
    assert_eq!(b.oldest_since, Some(filed_on.midnight().assume_utc().unix_timestamp()));
    Ok(())
}

#[tokio::test]
async fn on_sqlite() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = store(format!("sqlite://{}?mode=rwc", dir.path().join("adjudication.db").display()), String::new()).await?;
    counts_pended_claims_and_open_appeals_per_payer(&store).await
}

#[tokio::test]
async fn on_postgres() -> anyhow::Result<()> {
    let url = std::env::var("CLAIMTRAIL_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let store = store(url, format!("queue{}", Uuid::now_v7().simple())).await?;
    counts_pended_claims_and_open_appeals_per_payer(&store).await
}
