//! The ledger's COPY append on Postgres: the tail it hands on, a redelivered
//! event left out after the unique index refuses it, and a session that
//! stays usable after a failed append (its transaction rolled back).

use std::collections::HashSet;
use std::sync::Mutex;

use claimtrail_anchor::domain::Entry;
use claimtrail_anchor::storage::copy::CopyWriter;
use claimtrail_ledger::hash::{CHAIN_SEED, Hash, chain_next, leaf_hash};

fn database_url() -> String {
    std::env::var("CLAIMTRAIL_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// The entries of `ids` not in `present`, from `next` on after `chain`.
fn entries(ids: &[uuid::Uuid], present: &HashSet<uuid::Uuid>, next: u64, mut chain: Hash) -> Vec<anyhow::Result<Entry>> {
    ids.iter()
        .filter(|id| !present.contains(id))
        .enumerate()
        .map(|(offset, id)| {
            let leaf = format!("leaf of {id}").into_bytes();
            let leaf_hash = leaf_hash(&leaf);
            chain = chain_next(&chain, &leaf_hash);
            Ok(Entry { index: (next + offset as u64) as i64, event_id: *id, leaf, leaf_hash, chain })
        })
        .collect()
}

/// A connection and a fresh schema holding an empty ledger table.
async fn scratch_ledger(url: &str) -> anyhow::Result<(tokio_postgres::Client, String)> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    let schema = format!("copytest{}", &uuid::Uuid::now_v7().simple().to_string()[20..]);
    client
        .batch_execute(&format!(
            "CREATE SCHEMA {schema}; CREATE TABLE {schema}.ledger (idx BIGINT PRIMARY KEY, event_id UUID NOT NULL UNIQUE, \
             leaf BYTEA NOT NULL, leaf_hash BYTEA NOT NULL, chain BYTEA NOT NULL)"
        ))
        .await?;
    Ok((client, schema))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_copy_append_chains_on_the_tail_skips_redelivered_events_and_recovers_from_a_failure() -> anyhow::Result<()> {
    let url = database_url();
    let (client, schema) = scratch_ledger(&url).await?;
    let result = async {
        let writer = CopyWriter::new(&url, &format!("{schema}.ledger"));
        let ids: Vec<uuid::Uuid> = (0..8).map(|_| uuid::Uuid::now_v7()).collect();
        let calls: Mutex<Vec<(usize, u64, Hash)>> = Mutex::new(Vec::new());
        let (writer, calls) = (&writer, &calls);
        let append = |batch: Vec<uuid::Uuid>| async move {
            let ids = batch.clone();
            writer
                .append(&batch, move |present, next, chain| {
                    calls.lock().unwrap().push((present.len(), next, chain));
                    entries(&ids, &present, next, chain).into_iter()
                })
                .await
        };

        // An empty ledger: index 0 after the seed.
        assert_eq!(append(ids[..5].to_vec()).await?, 5);
        assert_eq!(calls.lock().unwrap().drain(..).collect::<Vec<_>>(), vec![(0, 0, CHAIN_SEED)]);

        // A redelivery of 3 and 4 with two new events: refused once, then only the new ones.
        let tail_chain = entries(&ids[..5], &HashSet::new(), 0, CHAIN_SEED).pop().unwrap()?.chain;
        assert_eq!(append(ids[3..7].to_vec()).await?, 7);
        assert_eq!(calls.lock().unwrap().drain(..).collect::<Vec<_>>(), vec![(0, 5, tail_chain), (2, 5, tail_chain)]);

        // A failed build rolls back; the next append continues from the same tail.
        let failed = writer.append(&ids[7..], |_, _, _| std::iter::once(Err(anyhow::anyhow!("no leaf")))).await;
        assert!(failed.is_err());
        assert_eq!(append(ids[7..].to_vec()).await?, 8);

        // The stored chain runs unbroken over 0..8.
        let rows = client.query(&format!("SELECT idx, event_id, leaf_hash, chain FROM {schema}.ledger ORDER BY idx"), &[]).await?;
        assert_eq!(rows.len(), 8);
        let mut chain = CHAIN_SEED;
        for (position, row) in rows.iter().enumerate() {
            assert_eq!(row.get::<_, i64>(0), position as i64);
            assert_eq!(row.get::<_, uuid::Uuid>(1), ids[position]);
            let hash: Hash = row.get::<_, Vec<u8>>(2).try_into().unwrap();
            chain = chain_next(&chain, &hash);
            assert_eq!(row.get::<_, Vec<u8>>(3), chain.to_vec(), "chain of {position}");
        }
        Ok::<(), anyhow::Error>(())
    }
    .await;
    client.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).await?;
    result
}

/// Past 100 entries, where the tail read as text would sort "99" last.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_of_256_continue_from_the_numeric_tail() -> anyhow::Result<()> {
    let url = database_url();
    let (client, schema) = scratch_ledger(&url).await?;
    let writer = CopyWriter::new(&url, &format!("{schema}.ledger"));
    let mut expected = 0u64;
    for batch in 0..5 {
        let ids: Vec<uuid::Uuid> = (0..256).map(|_| uuid::Uuid::now_v7()).collect();
        let size = writer
            .append(&ids, |present, next, mut chain| {
                assert!(present.is_empty(), "batch {batch}");
                assert_eq!(next, expected, "batch {batch}");
                ids.clone().into_iter().enumerate().map(move |(offset, id)| {
                    let leaf = vec![b'x'; 943];
                    let leaf_hash = leaf_hash(&leaf);
                    chain = chain_next(&chain, &leaf_hash);
                    Ok(Entry { index: (next + offset as u64) as i64, event_id: id, leaf, leaf_hash, chain })
                })
            })
            .await?;
        expected += 256;
        assert_eq!(size, expected);
    }
    client.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).await?;
    Ok(())
}
