use std::ops::Range;

use proptest::prelude::*;

use super::*;
use crate::hash::{Hash, empty_root, leaf_hash, node_hash};

fn leaves(n_leaves: u64) -> Vec<Hash> {
    (0..n_leaves).map(|leaf_idx| leaf_hash(format!("entry {leaf_idx}").as_bytes())).collect()
}

/// `MTH` written directly from the RFC 9162 recursion, as an oracle.
fn reference_root(leaf_hashes: &[Hash]) -> Hash {
    match leaf_hashes.len() {
        0 => empty_root(),
        1 => leaf_hashes[0],
        n => {
            let k = n.next_power_of_two() / 2;
            let k = if k == n { n / 2 } else { k };
            node_hash(&reference_root(&leaf_hashes[..k]), &reference_root(&leaf_hashes[k..]))
        }
    }
}

fn flip_bit(hash: &mut Hash) {
    hash[7] ^= 0x10;
}

#[test]
fn the_root_matches_the_rfc_recursion_for_every_size_up_to_70() {
    let all = leaves(70);
    for n_leaves in 0..=70 {
        let prefix = &all[..n_leaves];
        assert_eq!(root(prefix), reference_root(prefix), "size {n_leaves}");
    }
}

#[test]
fn the_root_of_one_leaf_is_its_leaf_hash_and_of_none_is_the_empty_hash() {
    assert_eq!(root(&[]), empty_root());
    let single = leaves(1);
    assert_eq!(root(&single), single[0]);
    let pair = leaves(2);
    assert_eq!(root(&pair), node_hash(&pair[0], &pair[1]));
}

#[test]
fn a_frontier_tracks_the_root_as_leaves_are_appended() {
    let all = leaves(100);
    let mut frontier = Frontier::new();
    assert_eq!(frontier.root(), empty_root());
    for (leaf_idx, leaf) in all.iter().enumerate() {
        frontier.push(*leaf);
        assert_eq!(frontier.size(), leaf_idx as u64 + 1);
        assert_eq!(frontier.hashes().len(), frontier.size().count_ones() as usize);
        assert_eq!(frontier.root(), reference_root(&all[..=leaf_idx]));
    }
}

#[test]
fn a_frontier_survives_a_round_trip_through_its_parts() {
    let all = leaves(37);
    let saved = Frontier::from_leaves(all[..23].iter().copied());
    let mut restored = Frontier::from_parts(saved.size(), saved.hashes().to_vec()).unwrap();
    assert_eq!(restored, saved);
    for leaf in &all[23..] {
        restored.push(*leaf);
    }
    assert_eq!(restored.root(), root(&all));
}

#[test]
fn a_frontier_with_the_wrong_number_of_hashes_is_rejected() {
    let hashes = leaves(3);
    assert_eq!(Frontier::from_parts(5, hashes.clone()), Err(FrontierError::HashCountMismatch { size: 5, expected: 2, actual: 3 }));
    assert!(Frontier::from_parts(0, hashes[..1].to_vec()).is_err());
    assert!(Frontier::from_parts(7, hashes).is_ok());
}

#[test]
fn every_inclusion_proof_up_to_size_40_verifies() {
    let all = leaves(40);
    for size in 1..=40u64 {
        let tree_root = root(&all[..size as usize]);
        for index in 0..size {
            let proof = inclusion_proof(index, size, &all).unwrap();
            assert_eq!(verify_inclusion(index, size, &all[index as usize], &proof, &tree_root), Ok(()), "index {index} size {size}");
        }
    }
}

#[test]
fn every_tampered_inclusion_proof_up_to_size_40_fails() {
    let all = leaves(40);
    for size in 1..=40u64 {
        let tree_root = root(&all[..size as usize]);
        for index in 0..size {
            let leaf = all[index as usize];
            let proof = inclusion_proof(index, size, &all).unwrap();
            for element_idx in 0..proof.len() {
                let mut tampered = proof.clone();
                flip_bit(&mut tampered[element_idx]);
                assert_eq!(verify_inclusion(index, size, &leaf, &tampered, &tree_root), Err(ProofError::RootMismatch));
            }
            let mut wrong_root = tree_root;
            flip_bit(&mut wrong_root);
            assert!(verify_inclusion(index, size, &leaf, &proof, &wrong_root).is_err());
            let mut wrong_leaf = leaf;
            flip_bit(&mut wrong_leaf);
            assert!(verify_inclusion(index, size, &wrong_leaf, &proof, &tree_root).is_err());
            let mut longer = proof.clone();
            longer.push(tree_root);
            assert!(matches!(verify_inclusion(index, size, &leaf, &longer, &tree_root), Err(ProofError::WrongProofLength { .. })));
            if !proof.is_empty() {
                assert!(matches!(verify_inclusion(index, size, &leaf, &proof[1..], &tree_root), Err(ProofError::WrongProofLength { .. })));
            }
            if size > 1 {
                let other_index = (index + 1) % size;
                assert!(verify_inclusion(other_index, size, &leaf, &proof, &tree_root).is_err());
            }
        }
    }
}

#[test]
fn an_inclusion_proof_for_an_index_outside_the_tree_is_refused() {
    let all = leaves(8);
    assert_eq!(inclusion_proof(8, 8, &all), Err(ProofError::IndexOutOfRange { index: 8, size: 8 }));
    assert_eq!(inclusion_proof(0, 9, &all), Err(ProofError::SizeExceedsLeaves { size: 9, leaf_count: 8 }));
    assert_eq!(verify_inclusion(3, 3, &all[0], &[], &root(&all[..3])), Err(ProofError::IndexOutOfRange { index: 3, size: 3 }));
    assert!(verify_inclusion(0, 0, &all[0], &[], &empty_root()).is_err());
}

#[test]
fn every_consistency_proof_up_to_size_40_verifies() {
    let all = leaves(40);
    for new_size in 0..=40u64 {
        let new_root = root(&all[..new_size as usize]);
        for old_size in 0..=new_size {
            let old_root = root(&all[..old_size as usize]);
            let proof = consistency_proof(old_size, new_size, &all).unwrap();
            assert_eq!(verify_consistency(old_size, new_size, &old_root, &new_root, &proof), Ok(()), "old {old_size} new {new_size}");
        }
    }
}

#[test]
fn every_tampered_consistency_proof_up_to_size_40_fails() {
    let all = leaves(40);
    for new_size in 1..=40u64 {
        let new_root = root(&all[..new_size as usize]);
        for old_size in 1..=new_size {
            let old_root = root(&all[..old_size as usize]);
            let proof = consistency_proof(old_size, new_size, &all).unwrap();
            for element_idx in 0..proof.len() {
                let mut tampered = proof.clone();
                flip_bit(&mut tampered[element_idx]);
                assert!(
                    verify_consistency(old_size, new_size, &old_root, &new_root, &tampered).is_err(),
                    "old {old_size} new {new_size} element {element_idx}"
                );
            }
            let mut wrong_old = old_root;
            flip_bit(&mut wrong_old);
            assert!(verify_consistency(old_size, new_size, &wrong_old, &new_root, &proof).is_err());
            let mut wrong_new = new_root;
            flip_bit(&mut wrong_new);
            assert!(verify_consistency(old_size, new_size, &old_root, &wrong_new, &proof).is_err());
            let mut longer = proof.clone();
            longer.push(new_root);
            assert!(matches!(verify_consistency(old_size, new_size, &old_root, &new_root, &longer), Err(ProofError::WrongProofLength { .. })));
            if !proof.is_empty() {
                assert!(matches!(verify_consistency(old_size, new_size, &old_root, &new_root, &proof[1..]), Err(ProofError::WrongProofLength { .. })));
            }
        }
    }
}

#[test]
fn consistency_edge_cases_follow_the_rules() {
    let all = leaves(9);
    let root_5 = root(&all[..5]);
    let root_9 = root(&all);
    // Equal sizes: empty proof, equal roots.
    assert_eq!(verify_consistency(5, 5, &root_5, &root_5, &[]), Ok(()));
    assert_eq!(verify_consistency(5, 5, &root_5, &root_9, &[]), Err(ProofError::EqualSizeRootsDiffer { size: 5 }));
    assert!(matches!(verify_consistency(5, 5, &root_5, &root_5, &[root_5]), Err(ProofError::WrongProofLength { expected: 0, actual: 1 })));
    // From the empty tree: empty proof, and the old root is the empty root.
    assert_eq!(verify_consistency(0, 9, &empty_root(), &root_9, &[]), Ok(()));
    assert_eq!(verify_consistency(0, 9, &root_5, &root_9, &[]), Err(ProofError::OldRootMismatch));
    assert!(verify_consistency(0, 9, &empty_root(), &root_9, &[root_5]).is_err());
    // Shrinking trees have no proof.
    assert_eq!(verify_consistency(9, 5, &root_9, &root_5, &[]), Err(ProofError::OldSizeExceedsNewSize { old_size: 9, new_size: 5 }));
    assert!(consistency_proof(9, 5, &all).is_err());
    // An empty proof between different non-zero sizes fails.
    assert!(matches!(verify_consistency(4, 9, &root(&all[..4]), &root_9, &[]), Err(ProofError::WrongProofLength { .. })));
}

#[test]
fn a_fork_is_not_consistent_with_the_original_tree() {
    let original = leaves(20);
    let mut forked = original.clone();
    forked[6] = leaf_hash(b"rewritten");
    let proof = consistency_proof(10, 20, &forked).unwrap();
    assert!(verify_consistency(10, 20, &root(&original[..10]), &root(&forked), &proof).is_err());
}

/// A source that stores perfect-subtree roots, as a database might.
struct CachedSubtrees {
    leaves: Vec<Hash>,
    perfect_roots_used: std::cell::Cell<usize>,
}

impl LeafSource for CachedSubtrees {
    fn leaf_count(&self) -> u64 {
        self.leaves.len() as u64
    }

    fn leaf(&self, index: u64) -> Hash {
        self.leaves[index as usize]
    }

    fn subtree_root(&self, range: Range<u64>) -> Hash {
        let width = range.end - range.start;
        if width.is_power_of_two() && range.start.is_multiple_of(width) {
            self.perfect_roots_used.set(self.perfect_roots_used.get() + 1);
        }
        root(&self.leaves[range.start as usize..range.end as usize])
    }
}

#[test]
fn proofs_ask_a_store_for_aligned_subtrees() {
    let all = leaves(1000);
    let store = CachedSubtrees { leaves: all.clone(), perfect_roots_used: std::cell::Cell::new(0) };
    let from_store = inclusion_proof(613, 1000, &store).unwrap();
    assert_eq!(from_store, inclusion_proof(613, 1000, &all).unwrap());
    assert!(store.perfect_roots_used.get() >= from_store.len() - 3);
    let closure_source = LeavesFn::new(1000, |leaf_idx| all[leaf_idx as usize]);
    assert_eq!(consistency_proof(377, 1000, &closure_source).unwrap(), consistency_proof(377, 1000, &store).unwrap());
    for range in inclusion_proof_ranges(613, 1000).unwrap().into_iter().chain(consistency_proof_ranges(377, 1000).unwrap()) {
        let width = range.end - range.start;
        let aligned = width.is_power_of_two() && range.start.is_multiple_of(width);
        assert!(aligned || range.end == 1000, "{range:?}");
    }
}

proptest! {
    #[test]
    fn random_inclusion_proofs_verify_and_reject_other_leaves(
        size in 1u64..3000,
        index_seed in any::<u64>(),
    ) {
        let all = leaves(size);
        let index = index_seed % size;
        let tree_root = Frontier::from_leaves(all.iter().copied()).root();
        let proof = inclusion_proof(index, size, &all).unwrap();
        prop_assert_eq!(verify_inclusion(index, size, &all[index as usize], &proof, &tree_root), Ok(()));
        let other = leaf_hash(b"not in the tree");
        prop_assert!(verify_inclusion(index, size, &other, &proof, &tree_root).is_err());
    }

    #[test]
    fn random_consistency_proofs_verify_and_reject_other_roots(
        new_size in 1u64..3000,
        old_seed in any::<u64>(),
    ) {
        let all = leaves(new_size);
        let old_size = old_seed % (new_size + 1);
        let old_root = root(&all[..old_size as usize]);
        let new_root = root(&all);
        let proof = consistency_proof(old_size, new_size, &all).unwrap();
        prop_assert_eq!(verify_consistency(old_size, new_size, &old_root, &new_root, &proof), Ok(()));
        // Every tree extends the empty tree, whatever its root.
        if old_size > 0 {
            let mut wrong = new_root;
            flip_bit(&mut wrong);
            prop_assert!(verify_consistency(old_size, new_size, &old_root, &wrong, &proof).is_err());
        }
    }
}

/// A stored tree built the way an appender builds it: leaf hashes, plus the
/// nodes [`Frontier::push_observing`] reports.
fn stored_tree(all: &[Hash]) -> std::collections::HashMap<stored::Node, Hash> {
    let mut nodes = std::collections::HashMap::new();
    let mut frontier = Frontier::new();
    for (leaf_idx, leaf) in all.iter().enumerate() {
        nodes.insert(stored::Node { level: 0, index: leaf_idx as u64 }, *leaf);
        frontier.push_observing(*leaf, &mut |node, hash| {
            assert!(nodes.insert(node, hash).is_none(), "{node:?} reported twice");
        });
    }
    nodes
}

#[test]
fn push_observing_reports_each_stored_level_node_once_with_its_root() {
    let all = leaves(65_536 + 300);
    let nodes = stored_tree(&all);
    let above: Vec<_> = nodes.keys().filter(|node| node.level > 0).copied().collect();
    assert_eq!(above.iter().filter(|node| node.level == 8).count(), (65_536 + 300) / 256);
    assert_eq!(above.iter().filter(|node| node.level == 16).count(), 1);
    assert_eq!(above.len(), (65_536 + 300) / 256 + 1);
    for node in above {
        let range = node.leaves();
        assert_eq!(nodes[&node], reference_root(&all[range.start as usize..range.end as usize]), "{node:?}");
    }
}

#[test]
fn proofs_from_stored_nodes_equal_proofs_from_the_leaves() {
    let all = leaves(65_536 * 2 + 1_000);
    let mut nodes = stored_tree(&all);
    let check = |nodes: &std::collections::HashMap<stored::Node, Hash>, ranges: Vec<Range<u64>>, expected: Vec<Hash>| {
        let mut reads = 0;
        let from_store: Vec<Hash> = ranges
            .into_iter()
            .map(|range| {
                let cover = stored::cover(range.clone());
                reads += cover.len();
                stored::subtree_root(range, &mut |node| nodes[&node])
            })
            .collect();
        assert_eq!(from_store, expected);
        // O(log n) stored reads: at most 2^(STRIDE-1) per level per proof hash.
        assert!(reads <= 18 * 2 * 128, "{reads} reads");
    };
    let sizes = [1u64, 2, 255, 256, 257, 1_000, 65_535, 65_536, 65_537, 100_000, 65_536 * 2, 65_536 * 2 + 1_000];
    for &size in &sizes {
        for index in [0, size / 3, size / 2, size - 1] {
            let expected = inclusion_proof(index, size, &all[..]).unwrap();
            check(&nodes, inclusion_proof_ranges(index, size).unwrap(), expected);
        }
        for &old in sizes.iter().filter(|&&old| old <= size) {
            let expected = consistency_proof(old, size, &all[..]).unwrap();
            check(&nodes, consistency_proof_ranges(old, size).unwrap(), expected);
        }
    }
    // A store missing upper nodes (entries after its last checkpoint) falls back to their children.
    nodes.retain(|node, _| node.level < 16);
    let node = stored::Node { level: 16, index: 1 };
    let children: Vec<Hash> = node.children().iter().map(|child| nodes[child]).collect();
    assert_eq!(stored::perfect_root(&children), reference_root(&all[65_536..131_072]));
}
