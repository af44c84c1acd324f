//! The stored tree: which subtree roots a ledger keeps beside its leaf
//! hashes, so that proofs read O(log n) rows and memory stays flat.
//!
//! A ledger stores the leaf hashes (level 0) and the root of every complete,
//! aligned subtree whose height is a multiple of [`STRIDE`]: level 8 (256
//! leaves), level 16 (65,536 leaves), and so on. That is one row per 255
//! leaves, like the tiles of C2SP tlog-tiles with height 8, without the
//! intermediate levels (which are recomputed, at most 255 hashes per tile).
//!
//! [`cover`] names the stored [`Node`]s whose hashes give `MTH(D[range])`,
//! [`subtree_root`] computes it from them, and [`Node::children`] lets a
//! store that misses a node (entries after the last checkpoint) fall back to
//! the level below. [`Frontier::push_observing`] reports each node as it is
//! completed, so an appender writes them as it goes.

use std::ops::Range;

use crate::hash::{Hash, node_hash};
use crate::merkle::Frontier;

/// Heights between stored levels.
pub const STRIDE: u32 = 8;

/// The root of the perfect subtree over leaves `index << level .. (index + 1) << level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Node {
    pub level: u32,
    pub index: u64,
}

impl Node {
    /// The leaves under this node.
    pub fn leaves(&self) -> Range<u64> {
        (self.index << self.level)..((self.index + 1) << self.level)
    }

    /// The stored nodes one stored level down whose root this is (2^STRIDE of
    /// them, left to right); empty for a leaf.
    pub fn children(&self) -> Vec<Node> {
        if self.level == 0 {
            return Vec::new();
        }
        let level = self.level - STRIDE;
        let first = self.index << STRIDE;
        (first..first + (1 << STRIDE)).map(|index| Node { level, index }).collect()
    }
}

/// The root of a perfect subtree from its children's hashes (as listed by [`Node::children`]).
pub fn perfect_root(children: &[Hash]) -> Hash {
    debug_assert!(children.len().is_power_of_two());
    Frontier::from_leaves(children.iter().copied()).root()
}

/// The stored nodes whose hashes give `MTH(D[range])`, left to right.
///
/// Proof ranges (see [`super::inclusion_proof_ranges`]) are aligned, so each
/// perfect part of the range takes at most 2^(STRIDE-1) nodes of one level.
pub fn cover(range: Range<u64>) -> Vec<Node> {
    let mut nodes = Vec::new();
    walk(range, &mut |node| {
        nodes.push(node);
        [0; 32]
    });
    nodes
}

/// `MTH(D[range])` from the hashes of its [`cover`], given by `hash_of`.
pub fn subtree_root(range: Range<u64>, hash_of: &mut impl FnMut(Node) -> Hash) -> Hash {
    walk(range, hash_of)
}

/// RFC 9162's recursion, stopping at the highest stored level of each
/// aligned perfect subtree.
fn walk(range: Range<u64>, hash_of: &mut impl FnMut(Node) -> Hash) -> Hash {
    let n = range.end - range.start;
    debug_assert!(n > 0, "MTH of an empty range has no stored nodes");
    if n.is_power_of_two() && range.start.is_multiple_of(n) {
        let height = n.trailing_zeros();
        let level = height - height % STRIDE;
        let first = range.start >> level;
        if level == height {
            return hash_of(Node { level, index: first });
        }
        let parts: Vec<Hash> = (first..first + (1 << (height - level))).map(|index| hash_of(Node { level, index })).collect();
        return perfect_root(&parts);
    }
    let split = 1u64 << (u64::BITS - 1 - (n - 1).leading_zeros());
    let left = walk(range.start..range.start + split, hash_of);
    let right = walk(range.start + split..range.end, hash_of);
    node_hash(&left, &right)
}
