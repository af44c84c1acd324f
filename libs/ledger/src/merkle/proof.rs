//! Inclusion and consistency proofs (RFC 9162 sections 2.1.3 and 2.1.4).
//!
//! Generation is split in two steps so the hashes can come from anywhere:
//! [`inclusion_proof_ranges`] and [`consistency_proof_ranges`] name the leaf
//! ranges whose subtree roots form the proof, and [`inclusion_proof`] /
//! [`consistency_proof`] fill them in from a [`LeafSource`]. A store that
//! caches subtree roots overrides [`LeafSource::subtree_root`].

use std::ops::Range;

use thiserror::Error;

use crate::hash::{Hash, empty_root, node_hash};
use crate::merkle::Frontier;

/// Why a proof could not be produced or did not verify.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProofError {
    /// The leaf index is not inside the tree (`index >= size`).
    #[error("leaf index {index} is outside a tree of size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    /// A consistency proof was asked for from a larger tree to a smaller one.
    #[error("old tree size {old_size} is larger than new tree size {new_size}")]
    OldSizeExceedsNewSize { old_size: u64, new_size: u64 },
    /// The leaf source holds fewer leaves than the requested tree size.
    #[error("tree size {size} exceeds the {leaf_count} leaves available")]
    SizeExceedsLeaves { size: u64, leaf_count: u64 },
    /// The proof has the wrong number of hashes for these tree sizes.
    #[error("proof has {actual} hashes, expected {expected}")]
    WrongProofLength { expected: usize, actual: usize },
    /// The inclusion proof leads to a different root.
    #[error("inclusion proof does not lead to the given root")]
    RootMismatch,
    /// The consistency proof does not reproduce the old root.
    #[error("consistency proof does not reproduce the old root")]
    OldRootMismatch,
    /// The consistency proof does not reproduce the new root.
    #[error("consistency proof does not reproduce the new root")]
    NewRootMismatch,
    /// Two trees of the same size must have the same root.
    #[error("trees of equal size {size} have different roots")]
    EqualSizeRootsDiffer { size: u64 },
}

/// Where proof generation reads leaf hashes (and, optionally, subtree roots).
pub trait LeafSource {
    /// Number of leaves available; proofs may only cover trees up to this size.
    fn leaf_count(&self) -> u64;

    /// The leaf hash at `index`; only called with `index < leaf_count()`.
    fn leaf(&self, index: u64) -> Hash;

    /// `MTH(D[range])`, the root of the subtree over the leaves in `range`.
    ///
    /// The default hashes the leaves one by one. Proof generation only asks
    /// for ranges `start..end` where `end - start` is a power of two and
    /// `start` is a multiple of it, or the rightmost range of a tree, so a
    /// store that keeps perfect-subtree roots can answer in O(log n).
    fn subtree_root(&self, range: Range<u64>) -> Hash {
        Frontier::from_leaves(range.map(|leaf_idx| self.leaf(leaf_idx))).root()
    }
}

impl LeafSource for [Hash] {
    fn leaf_count(&self) -> u64 {
        self.len() as u64
    }

    fn leaf(&self, index: u64) -> Hash {
        self[index as usize]
    }
}

impl LeafSource for Vec<Hash> {
    fn leaf_count(&self) -> u64 {
        self.len() as u64
    }

    fn leaf(&self, index: u64) -> Hash {
        self[index as usize]
    }
}

/// A [`LeafSource`] backed by a closure: `LeavesFn::new(n_leaves, |leaf_idx| ..)`.
pub struct LeavesFn<F> {
    leaf_count: u64,
    leaf: F,
}

impl<F: Fn(u64) -> Hash> LeavesFn<F> {
    /// `leaf(i)` must return the leaf hash at `i` for every `i < leaf_count`.
    pub fn new(leaf_count: u64, leaf: F) -> LeavesFn<F> {
        LeavesFn { leaf_count, leaf }
    }
}

impl<F: Fn(u64) -> Hash> LeafSource for LeavesFn<F> {
    fn leaf_count(&self) -> u64 {
        self.leaf_count
    }

    fn leaf(&self, index: u64) -> Hash {
        (self.leaf)(index)
    }
}

/// `MTH(D[0:n])` of RFC 9162 over a slice of leaf hashes.
pub fn root(leaf_hashes: &[Hash]) -> Hash {
    Frontier::from_leaves(leaf_hashes.iter().copied()).root()
}

/// The largest power of two strictly less than `n` (`k` in RFC 9162); `n >= 2`.
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (u64::BITS - 1 - (n - 1).leading_zeros())
}

/// The leaf ranges whose subtree roots form `PATH(index, D[0:size])`,
/// in proof order (nearest the leaf first).
pub fn inclusion_proof_ranges(index: u64, size: u64) -> Result<Vec<Range<u64>>, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    // Walk from the root down to the leaf, then reverse: PATH lists the
    // sibling of the deepest subtree first.
    let mut ranges = Vec::new();
    let mut subtree = 0..size;
    while subtree.end - subtree.start > 1 {
        let middle = subtree.start + split_point(subtree.end - subtree.start);
        if index < middle {
            ranges.push(middle..subtree.end);
            subtree = subtree.start..middle;
        } else {
            ranges.push(subtree.start..middle);
            subtree = middle..subtree.end;
        }
    }
    ranges.reverse();
    Ok(ranges)
}

/// The leaf ranges whose subtree roots form `PROOF(old_size, D[0:new_size])`,
/// in proof order. Empty when `old_size` is 0 or equals `new_size`.
pub fn consistency_proof_ranges(old_size: u64, new_size: u64) -> Result<Vec<Range<u64>>, ProofError> {
    if old_size > new_size {
        return Err(ProofError::OldSizeExceedsNewSize { old_size, new_size });
    }
    if old_size == 0 || old_size == new_size {
        return Ok(Vec::new());
    }
    // SUBPROOF(m, D[start:end], b), unrolled from the root down.
    let mut ranges = Vec::new();
    let mut subtree = 0..new_size;
    let old_end = old_size;
    let mut old_root_is_known = true;
    while old_end != subtree.end {
        let middle = subtree.start + split_point(subtree.end - subtree.start);
        if old_end <= middle {
            ranges.push(middle..subtree.end);
            subtree = subtree.start..middle;
        } else {
            ranges.push(subtree.start..middle);
            subtree = middle..subtree.end;
            old_root_is_known = false;
        }
    }
    if !old_root_is_known {
        ranges.push(subtree);
    }
    ranges.reverse();
    Ok(ranges)
}

/// `PATH(index, D[0:size])`: the inclusion proof of leaf `index` in the tree of
/// the first `size` leaves of `leaves`.
pub fn inclusion_proof<S: LeafSource + ?Sized>(index: u64, size: u64, leaves: &S) -> Result<Vec<Hash>, ProofError> {
    check_size(size, leaves)?;
    let ranges = inclusion_proof_ranges(index, size)?;
    Ok(ranges.into_iter().map(|range| leaves.subtree_root(range)).collect())
}

/// `PROOF(old_size, D[0:new_size])`: the consistency proof between the trees of
/// the first `old_size` and `new_size` leaves of `leaves`.
pub fn consistency_proof<S: LeafSource + ?Sized>(old_size: u64, new_size: u64, leaves: &S) -> Result<Vec<Hash>, ProofError> {
    check_size(new_size, leaves)?;
    let ranges = consistency_proof_ranges(old_size, new_size)?;
    Ok(ranges.into_iter().map(|range| leaves.subtree_root(range)).collect())
}

fn check_size<S: LeafSource + ?Sized>(size: u64, leaves: &S) -> Result<(), ProofError> {
    let leaf_count = leaves.leaf_count();
    if size > leaf_count {
        return Err(ProofError::SizeExceedsLeaves { size, leaf_count });
    }
    Ok(())
}

/// Checks that `leaf_hash` is leaf `index` of the tree of `size` leaves with
/// root `root`, following RFC 9162 section 2.1.3.2 step by step.
pub fn verify_inclusion(index: u64, size: u64, leaf_hash: &Hash, proof: &[Hash], root: &Hash) -> Result<(), ProofError> {
    // 1. leaf_index must be inside the tree.
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let expected = inclusion_proof_ranges(index, size)?.len();
    if proof.len() != expected {
        return Err(ProofError::WrongProofLength { expected, actual: proof.len() });
    }
    // 2. fn = leaf_index, sn = tree_size - 1.
    let mut f_n = index;
    let mut s_n = size - 1;
    // 3. r = hash.
    let mut r = *leaf_hash;
    // 4. Fold in each proof element.
    for p in proof {
        if s_n == 0 {
            return Err(ProofError::WrongProofLength { expected, actual: proof.len() });
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = node_hash(p, &r);
            while f_n & 1 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    // 5. sn must be 0 and r must equal the root.
    if s_n != 0 {
        return Err(ProofError::WrongProofLength { expected, actual: proof.len() });
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Checks that the tree of `old_size` leaves with root `old_root` is a prefix of
/// the tree of `new_size` leaves with root `new_root`, following RFC 9162
/// section 2.1.4.2 step by step.
///
/// Edge cases, where RFC 9162 defines no proof: equal sizes need an empty proof
/// and equal roots; `old_size == 0` needs an empty proof and `old_root` equal
/// to the empty-tree root (any tree extends the empty tree).
pub fn verify_consistency(old_size: u64, new_size: u64, old_root: &Hash, new_root: &Hash, proof: &[Hash]) -> Result<(), ProofError> {
    let expected = consistency_proof_ranges(old_size, new_size)?.len();
    if proof.len() != expected {
        return Err(ProofError::WrongProofLength { expected, actual: proof.len() });
    }
    if old_size == new_size {
        if old_root != new_root {
            return Err(ProofError::EqualSizeRootsDiffer { size: old_size });
        }
        return Ok(());
    }
    if old_size == 0 {
        if *old_root != empty_root() {
            return Err(ProofError::OldRootMismatch);
        }
        return Ok(());
    }
    let wrong_length = ProofError::WrongProofLength { expected, actual: proof.len() };
    // 1. An empty consistency_path fails (0 < first < second from here on).
    let Some((first_element, rest)) = proof.split_first() else {
        return Err(wrong_length);
    };
    // 2. If first is an exact power of 2, prepend first_hash to the path.
    let (start, path): (&Hash, &[Hash]) = if old_size.is_power_of_two() { (old_root, proof) } else { (first_element, rest) };
    // 3. fn = first - 1, sn = second - 1.
    let mut f_n = old_size - 1;
    let mut s_n = new_size - 1;
    // 4. While LSB(fn) is set, shift both right.
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    // 5. fr = sr = first value of the path.
    let mut f_r = *start;
    let mut s_r = *start;
    // 6. Fold in each subsequent value.
    for c in path {
        if s_n == 0 {
            return Err(wrong_length);
        }
        if f_n & 1 == 1 || f_n == s_n {
            f_r = node_hash(c, &f_r);
            s_r = node_hash(c, &s_r);
            while f_n & 1 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            s_r = node_hash(&s_r, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    // 7. fr must equal first_hash, sr must equal second_hash, sn must be 0.
    if s_n != 0 {
        return Err(wrong_length);
    }
    if f_r != *old_root {
        return Err(ProofError::OldRootMismatch);
    }
    if s_r != *new_root {
        return Err(ProofError::NewRootMismatch);
    }
    Ok(())
}
