//! The compact range (frontier) of an append-only Merkle tree.

use thiserror::Error;

use crate::hash::{Hash, empty_root, node_hash};
use crate::merkle::stored::{Node, STRIDE};

/// The right edge of an RFC 9162 Merkle tree: enough to append leaves and
/// compute the root in O(log n) memory, without the leaves themselves.
///
/// It holds one hash per set bit of `size`: the roots of the perfect
/// subtrees that the tree of `size` leaves decomposes into, largest (leftmost)
/// first. A service persists [`Frontier::size`] and [`Frontier::hashes`] and
/// restores them with [`Frontier::from_parts`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Frontier {
    size: u64,
    hashes: Vec<Hash>,
}

/// A persisted frontier that cannot describe a tree.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FrontierError {
    /// A tree of `size` leaves has exactly `size.count_ones()` frontier hashes.
    #[error("a frontier of size {size} needs {expected} hashes, got {actual}")]
    HashCountMismatch { size: u64, expected: usize, actual: usize },
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Frontier {
        Frontier::default()
    }

    /// The frontier of the tree over `leaf_hashes`, in order.
    pub fn from_leaves(leaf_hashes: impl IntoIterator<Item = Hash>) -> Frontier {
        let mut frontier = Frontier::new();
        for leaf_hash in leaf_hashes {
            frontier.push(leaf_hash);
        }
        frontier
    }

    /// Restores a frontier saved from [`Frontier::size`] and [`Frontier::hashes`].
    pub fn from_parts(size: u64, hashes: Vec<Hash>) -> Result<Frontier, FrontierError> {
        let expected = size.count_ones() as usize;
        if hashes.len() != expected {
            return Err(FrontierError::HashCountMismatch { size, expected, actual: hashes.len() });
        }
        Ok(Frontier { size, hashes })
    }

    /// Number of leaves appended so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The perfect-subtree roots, largest subtree first; see [`Frontier::from_parts`].
    pub fn hashes(&self) -> &[Hash] {
        &self.hashes
    }

    /// Appends one leaf hash (already `SHA3-256(0x00 ‖ leaf_bytes)`).
    ///
    /// # Panics
    /// If the tree already holds `u64::MAX` leaves.
    pub fn push(&mut self, leaf_hash: Hash) {
        self.push_observing(leaf_hash, &mut |_, _| {});
    }

    /// [`Frontier::push`], reporting every stored-level node (a positive
    /// multiple of [`STRIDE`] high, see [`super::stored`]) that this leaf
    /// completes, lowest first.
    pub fn push_observing(&mut self, leaf_hash: Hash, completed: &mut impl FnMut(Node, Hash)) {
        let new_size = self.size.checked_add(1).expect("tree size overflows u64");
        let mut merged = leaf_hash;
        // Each trailing one bit of the old size is a perfect subtree of the same
        // height as `merged`, so the two combine into one twice as large.
        let mut size_bits = self.size;
        let mut height = 0;
        while size_bits & 1 == 1 {
            let left = self.hashes.pop().expect("frontier holds one hash per set bit of its size");
            merged = node_hash(&left, &merged);
            size_bits >>= 1;
            height += 1;
            if height % STRIDE == 0 {
                completed(Node { level: height, index: (new_size >> height) - 1 }, merged);
            }
        }
        self.hashes.push(merged);
        self.size = new_size;
        debug_assert_eq!(self.hashes.len(), self.size.count_ones() as usize);
    }

    /// The RFC 9162 Merkle tree hash `MTH(D[0:size])`.
    pub fn root(&self) -> Hash {
        // RFC 9162 trees are left-balanced, so the root folds the subtree roots
        // from the right: MTH = node(s0, node(s1, node(.., s_last))).
        let mut subtree_roots = self.hashes.iter().rev();
        let Some(smallest) = subtree_roots.next() else {
            return empty_root();
        };
        subtree_roots.fold(*smallest, |right, left| node_hash(left, &right))
    }
}
