//! The stored Merkle tree against the in-memory proofs, on Postgres and on
//! SQLite: proofs read from leaf hashes alone (no stored nodes), after the
//! rebuild, and past the last stored node; sizes beyond the ledger; a
//! rebuild that does not reach the checkpoint's root.

use claimtrail_anchor::storage::tree::{self, TreeError, TreeStore};
use claimtrail_ledger::hash::{Hash, leaf_hash};
use claimtrail_ledger::merkle::{self, Frontier};
use claimtrail_store::{Store, StoreConfig, stmt};
use sea_orm::{ConnectionTrait, Value};

/// A little over one level-16 node, so every stored level and the fallback are used.
const ENTRIES: u64 = 65_536 + 4_000;

async fn store(database_url: &str, prefix: &str) -> anyhow::Result<Store> {
    let store = Store::connect(&StoreConfig {
        database_url: database_url.into(),
        service: "anchor".into(),
        prefix: prefix.into(),
        max_connections: 4,
        statement_timeout: None,
    })
    .await?;
    store.migrate(&claimtrail_anchor::migrations()).await?;
    Ok(store)
}

/// Ledger rows with only the leaf hash meaningful (proofs read nothing else).
async fn fill(store: &Store, leaves: &[Hash]) -> anyhow::Result<()> {
    for (chunk_idx, chunk) in leaves.chunks(store.rows_per_insert()).enumerate() {
        let mut sql = format!("INSERT INTO {} (idx, event_id, leaf, leaf_hash, chain) VALUES ", store.table("ledger"));
        let mut values = Vec::new();
        for (row, hash) in chunk.iter().enumerate() {
            let idx = (chunk_idx * store.rows_per_insert() + row) as i64;
            if row > 0 {
                sql.push(',');
            }
            sql.push_str(&format!("(${},${},${},${},${})", row * 5 + 1, row * 5 + 2, row * 5 + 3, row * 5 + 4, row * 5 + 5));
            values.extend([
                Value::from(idx),
                Value::from(uuid::Uuid::from_u128(idx as u128 + 1)),
                Value::from(b"leaf".to_vec()),
                Value::from(hash.to_vec()),
                Value::from(vec![0u8; 32]),
            ]);
        }
        store.db().execute_raw(stmt(store, sql, values)).await?;
    }
    Ok(())
}

async fn check_proofs(trees: &TreeStore, leaves: &[Hash]) -> anyhow::Result<()> {
    let sizes = [1, 2, 255, 256, 257, 1_000, 65_535, 65_536, 65_537, ENTRIES - 1, ENTRIES];
    for &size in &sizes {
        for index in [0, size / 3, size - 1] {
            assert_eq!(trees.inclusion(index, size).await?, merkle::inclusion_proof(index, size, leaves)?, "inclusion {index} in {size}");
        }
        for &old in sizes.iter().filter(|&&old| old <= size) {
            assert_eq!(trees.consistency(old, size).await?, merkle::consistency_proof(old, size, leaves)?, "consistency {old} -> {size}");
        }
    }
    Ok(())
}

async fn exercise(store: Store) -> anyhow::Result<()> {
    let leaves: Vec<Hash> = (0..ENTRIES).map(|i| leaf_hash(format!("entry {i}").as_bytes())).collect();
    fill(&store, &leaves).await?;
    let trees = TreeStore::new(store.clone());

    // No stored nodes: every proof hash comes from the leaf hashes.
    check_proofs(&trees, &leaves).await?;

    // A checkpoint at 66,000: the rebuild stores its nodes and checks its root.
    let checkpoint = 66_000u64;
    let root = merkle::root(&leaves[..checkpoint as usize]);
    assert!(matches!(tree::ensure_built(&store, checkpoint, &[7; 32]).await, Err(e) if e.to_string().contains("do not give the root")));
    let written = tree::ensure_built(&store, checkpoint, &root).await?;
    assert_eq!(written as u64, checkpoint / 256 + 1, "level-8 nodes and the one level-16 node");
    assert_eq!(tree::ensure_built(&store, checkpoint, &root).await?, 0, "complete already");
    // The stored nodes are the frontier's.
    let mut expected = Vec::new();
    let mut frontier = Frontier::new();
    for leaf in &leaves[..checkpoint as usize] {
        frontier.push_observing(*leaf, &mut |node, hash| expected.push((node.level as i64, node.index as i64, hash.to_vec())));
    }
    let rows =
        store.db().query_all_raw(stmt(&store, format!("SELECT level, idx, hash FROM {} ORDER BY level, idx", store.table("ledger_tree")), vec![])).await?;
    let mut stored: Vec<(i64, i64, Vec<u8>)> = Vec::new();
    for row in rows {
        stored.push((row.try_get_by_index::<i32>(0)? as i64, row.try_get_by_index(1)?, row.try_get_by_index(2)?));
    }
    expected.sort();
    assert_eq!(stored, expected);

    // Stored nodes up to the checkpoint, leaves after it.
    check_proofs(&trees, &leaves).await?;

    // Beyond the ledger, and malformed requests, are the caller's fault.
    assert!(matches!(trees.inclusion(0, ENTRIES + 1).await, Err(TreeError::BeyondLedger { size, entries }) if size == ENTRIES + 1 && entries == ENTRIES));
    assert!(matches!(trees.consistency(10, 5).await, Err(TreeError::Request(_))));
    assert!(matches!(trees.inclusion(5, 5).await, Err(TreeError::Request(_))));

    // An entry deleted under the tree is reported, not papered over.
    store.db().execute_raw(stmt(&store, format!("DELETE FROM {} WHERE idx = 66500", store.table("ledger")), vec![])).await?;
    let err = trees.inclusion(66_501, ENTRIES - 1).await.expect_err("missing entry");
    assert!(err.to_string().contains("66500"), "{err}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proofs_from_the_stored_tree_on_sqlite() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("tree.db").display());
    exercise(store(&url, "").await?).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proofs_from_the_stored_tree_on_postgres() -> anyhow::Result<()> {
    let url = std::env::var("CLAIMTRAIL_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let prefix = format!("tree{}", uuid::Uuid::now_v7().simple());
    let store = store(&url, &prefix).await?;
    let result = exercise(store.clone()).await;
    store.db().execute_unprepared(&format!("DROP SCHEMA IF EXISTS \"{prefix}_anchor\" CASCADE")).await?;
    result
}
