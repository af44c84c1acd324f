//! The stored Merkle tree: proofs in O(log n) reads, memory flat.
//!
//! Beside each entry's leaf hash (the `ledger` table, level 0), the
//! `ledger_tree` table keeps the root of every complete aligned subtree whose
//! height is a multiple of 8 (see [`claimtrail_ledger::merkle::stored`]): one
//! row per 255 entries. The checkpointer writes the nodes each checkpoint
//! completes in the checkpoint's own transaction, so every node below the
//! latest checkpoint is stored; a node above it (entries appended since) is
//! computed from the level below. At start, a ledger whose tree table is
//! behind its checkpoint (a ledger from before this table) is rebuilt from its
//! leaf hashes in one streaming pass.
//!
//! The table holds only hashes that anyone can recompute from the entries:
//! an edit there makes the served proofs fail to verify, it cannot hide one.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use anyhow::Context as _;
use claimtrail_ledger::hash::Hash;
use claimtrail_ledger::merkle::stored::{self, Node};
use claimtrail_ledger::merkle::{Frontier, ProofError, consistency_proof_ranges, inclusion_proof_ranges};
use claimtrail_store::{Store, StoreError, stmt};
use sea_orm::{ConnectionTrait, TransactionTrait, Value};

/// Leaf hashes read per query while rebuilding.
const REBUILD_BATCH: u64 = 50_000;

/// Why a proof was not produced.
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    /// The request names sizes or indexes the ledger cannot answer.
    #[error("{0}")]
    Request(String),
    /// The tree size is larger than the ledger.
    #[error("tree size {size} is beyond the ledger's {entries} entries")]
    BeyondLedger { size: u64, entries: u64 },
    #[error(transparent)]
    Store(#[from] anyhow::Error),
}

impl From<ProofError> for TreeError {
    fn from(e: ProofError) -> TreeError {
        TreeError::Request(e.to_string())
    }
}

impl From<StoreError> for TreeError {
    fn from(e: StoreError) -> TreeError {
        TreeError::Store(e.into())
    }
}

/// Proofs read from the stored tree.
#[derive(Clone)]
pub struct TreeStore {
    store: Store,
}

impl TreeStore {
    pub fn new(store: Store) -> TreeStore {
        TreeStore { store }
    }

    /// `PATH(index, D[0:size])`.
    pub async fn inclusion(&self, index: u64, size: u64) -> Result<Vec<Hash>, TreeError> {
        let ranges = inclusion_proof_ranges(index, size)?;
        self.within_ledger(size).await?;
        Ok(self.roots(ranges).await?)
    }

    /// `PROOF(old_size, D[0:new_size])`.
    pub async fn consistency(&self, old_size: u64, new_size: u64) -> Result<Vec<Hash>, TreeError> {
        let ranges = consistency_proof_ranges(old_size, new_size)?;
        self.within_ledger(new_size).await?;
        Ok(self.roots(ranges).await?)
    }

    async fn within_ledger(&self, size: u64) -> Result<(), TreeError> {
        let entries = ledger_size(&self.store, self.store.db()).await?;
        if size > entries {
            return Err(TreeError::BeyondLedger { size, entries });
        }
        Ok(())
    }

    /// `MTH(D[range])` of each range.
    async fn roots(&self, ranges: Vec<Range<u64>>) -> anyhow::Result<Vec<Hash>> {
        let mut wanted: Vec<Node> = ranges.iter().flat_map(|range| stored::cover(range.clone())).collect();
        wanted.sort_unstable();
        wanted.dedup();
        let known = self.resolve(wanted).await?;
        Ok(ranges.into_iter().map(|range| stored::subtree_root(range, &mut |node| known[&node])).collect())
    }

    /// The hashes of `nodes`: leaf hashes from the ledger, upper nodes from
    /// the tree table, and an upper node the table lacks from its children.
    async fn resolve(&self, nodes: Vec<Node>) -> anyhow::Result<HashMap<Node, Hash>> {
        let mut known: HashMap<Node, Hash> = HashMap::with_capacity(nodes.len());
        let mut derived: Vec<Node> = Vec::new();
        let mut todo = nodes;
        while !todo.is_empty() {
            let mut next = Vec::new();
            for (level, run) in runs(&todo) {
                let found = self.read(level, run.clone()).await?;
                for index in run {
                    let node = Node { level, index };
                    match found.get(&index) {
                        Some(hash) => {
                            known.insert(node, *hash);
                        }
                        None if level == 0 => anyhow::bail!("ledger entry {index} is missing"),
                        None => {
                            derived.push(node);
                            next.extend(node.children());
                        }
                    }
                }
            }
            todo = next;
        }
        // Children before parents: lower levels first.
        derived.sort_unstable();
        for node in derived {
            let children: Vec<Hash> = node.children().iter().map(|child| known[child]).collect();
            known.insert(node, stored::perfect_root(&children));
        }
        Ok(known)
    }

    /// Stored hashes of level `level` with indexes in `run`.
    async fn read(&self, level: u32, run: Range<u64>) -> anyhow::Result<HashMap<u64, Hash>> {
        let store = &self.store;
        let (start, end) = (to_i64(run.start)?, to_i64(run.end)?);
        let query = if level == 0 {
            stmt(
                store,
                format!("SELECT idx, leaf_hash FROM {} WHERE idx >= $1 AND idx < $2", store.table("ledger")),
                vec![Value::from(start), Value::from(end)],
            )
        } else {
            stmt(
                store,
                format!("SELECT idx, hash FROM {} WHERE level = $1 AND idx >= $2 AND idx < $3", store.table("ledger_tree")),
                vec![Value::from(level as i32), Value::from(start), Value::from(end)],
            )
        };
        let rows = store.db().query_all_raw(query).await?;
        let mut found = HashMap::with_capacity(rows.len());
        for row in rows {
            let index: i64 = row.try_get_by_index(0)?;
            let hash: Vec<u8> = row.try_get_by_index(1)?;
            let hash: Hash = hash.try_into().map_err(|_| anyhow::anyhow!("stored hash of level {level} index {index} is not 32 bytes"))?;
            found.insert(u64::try_from(index).context("negative stored index")?, hash);
        }
        Ok(found)
    }
}

/// `nodes` (sorted) as runs of consecutive indexes per level.
fn runs(nodes: &[Node]) -> Vec<(u32, Range<u64>)> {
    let mut by_level: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
    for node in nodes {
        by_level.entry(node.level).or_default().push(node.index);
    }
    let mut runs = Vec::new();
    for (level, mut indexes) in by_level {
        indexes.sort_unstable();
        indexes.dedup();
        let mut run: Option<Range<u64>> = None;
        for index in indexes {
            run = match run {
                Some(r) if r.end == index => Some(r.start..index + 1),
                Some(r) => {
                    runs.push((level, r));
                    Some(index..index + 1)
                }
                None => Some(index..index + 1),
            };
        }
        runs.extend(run.map(|r| (level, r)));
    }
    runs
}

fn to_i64(value: u64) -> anyhow::Result<i64> {
    i64::try_from(value).context("index beyond i64")
}

/// Committed entries: one past the last index.
pub async fn ledger_size(store: &Store, conn: &impl ConnectionTrait) -> Result<u64, StoreError> {
    Ok(super::tail(store, conn).await?.map_or(0, |(last, _)| last + 1))
}

/// Writes tree nodes (idempotent: a node already stored is left alone).
pub async fn write_nodes(store: &Store, conn: &impl ConnectionTrait, nodes: &[(Node, Hash)]) -> Result<(), StoreError> {
    let mut rows = Vec::with_capacity(nodes.len());
    for (node, hash) in nodes {
        let index = i64::try_from(node.index).map_err(|_| StoreError::Corrupt("tree node index beyond i64".into()))?;
        rows.push(vec![Value::from(node.level as i32), Value::from(index), Value::from(hash.to_vec())]);
    }
    let insert = format!("INSERT INTO {} (level, idx, hash) VALUES ", store.table("ledger_tree"));
    claimtrail_store::insert_rows(store, conn, &insert, rows, " ON CONFLICT (level, idx) DO NOTHING").await
}

/// Makes the tree table complete up to `size` (the last checkpoint's, with
/// root `root`): if it holds fewer level-8 nodes than `size` implies, rebuilds
/// every node from the leaf hashes in one streaming pass, checking that they
/// give `root` (or writing nothing if they do not). Returns the number of
/// nodes written.
pub async fn ensure_built(store: &Store, size: u64, root: &Hash) -> anyhow::Result<usize> {
    let row = store
        .db()
        .query_one_raw(stmt(store, format!("SELECT COUNT(*) FROM {} WHERE level = $1", store.table("ledger_tree")), vec![Value::from(stored::STRIDE as i32)]))
        .await?;
    let stored_nodes: i64 = match row {
        Some(row) => row.try_get_by_index(0)?,
        None => 0,
    };
    if u64::try_from(stored_nodes).unwrap_or(0) >= size >> stored::STRIDE {
        return Ok(0);
    }
    tracing::info!(size, stored_nodes, "rebuilding the stored Merkle tree from the ledger's leaf hashes");
    // One transaction: nothing is kept unless the leaves give the checkpoint's root.
    let tx = store.db().begin().await?;
    let mut frontier = Frontier::new();
    let mut written = 0;
    while frontier.size() < size {
        let end = (frontier.size() + REBUILD_BATCH).min(size);
        let rows = tx
            .query_all_raw(stmt(
                store,
                format!("SELECT idx, leaf_hash FROM {} WHERE idx >= $1 AND idx < $2 ORDER BY idx", store.table("ledger")),
                vec![Value::from(to_i64(frontier.size())?), Value::from(to_i64(end)?)],
            ))
            .await?;
        let mut nodes = Vec::new();
        for row in rows {
            let index: i64 = row.try_get_by_index(0)?;
            anyhow::ensure!(index == to_i64(frontier.size())?, "ledger entry {} is missing", frontier.size());
            let hash: Vec<u8> = row.try_get_by_index(1)?;
            let hash: Hash = hash.try_into().map_err(|_| anyhow::anyhow!("leaf hash of entry {index} is not 32 bytes"))?;
            frontier.push_observing(hash, &mut |node, hash| nodes.push((node, hash)));
        }
        anyhow::ensure!(frontier.size() == end, "ledger entry {} is missing", frontier.size());
        write_nodes(store, &tx, &nodes).await?;
        written += nodes.len();
    }
    anyhow::ensure!(frontier.root() == *root, "the ledger's leaf hashes do not give the root of its checkpoint of size {size}");
    tx.commit().await?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_group_consecutive_indexes_per_level() {
        let nodes = [Node { level: 0, index: 3 }, Node { level: 0, index: 4 }, Node { level: 0, index: 9 }, Node { level: 8, index: 1 }];
        assert_eq!(runs(&nodes), vec![(0, 3..5), (0, 9..10), (8, 1..2)]);
    }
}
