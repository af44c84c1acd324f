//! Checkpoint decisions: which stored entries the checkpointer may cover,
//! when a checkpoint is due, and when one is published.
//!
//! A checkpoint covers only entries re-checked here: contiguous indexes,
//! each leaf hash recomputed from its leaf bytes and each chain value from
//! the one before. A checkpoint is published (served at
//! `/v1/ledger/checkpoint`) once it holds the configured quorum of witness
//! cosignatures, counted by distinct witness key, never by sink.

use std::collections::BTreeSet;
use std::time::Duration;

use claimtrail_ledger::hash::{Hash, chain_next, leaf_hash};
use claimtrail_ledger::note::CosignatureVerifier;

/// Why a stored entry does not check out: the ledger was edited, and nothing more is signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryFault {
    #[error("entry {expected} is missing (found {found} next)")]
    Missing { expected: u64, found: i64 },
    #[error("entry {index}: stored leaf hash does not match its leaf bytes")]
    LeafHash { index: u64 },
    #[error("entry {index}: chain value does not follow from the previous entry")]
    Chain { index: u64 },
}

/// Checks the stored entry at `found` (its leaf bytes, stored leaf hash and
/// chain value) as the next one after `expected - 1`, whose chain value is
/// `previous_chain`; returns its leaf hash and chain value.
pub fn check_entry(
    expected: u64,
    previous_chain: &Hash,
    found: i64,
    leaf: &[u8],
    stored_leaf_hash: &[u8],
    stored_chain: &[u8],
) -> Result<(Hash, Hash), EntryFault> {
    if u64::try_from(found).ok() != Some(expected) {
        return Err(EntryFault::Missing { expected, found });
    }
    let computed = leaf_hash(leaf);
    if stored_leaf_hash != computed {
        return Err(EntryFault::LeafHash { index: expected });
    }
    let chain = chain_next(previous_chain, &computed);
    if stored_chain != chain {
        return Err(EntryFault::Chain { index: expected });
    }
    Ok((computed, chain))
}

/// Whether to sign now: some entries are not covered yet, and either
/// `entries_max` of them wait or `interval` has passed since the last signature.
pub fn checkpoint_due(pending: u64, entries_max: u64, since_last: Duration, interval: Duration) -> bool {
    pending > 0 && (pending >= entries_max || since_last >= interval)
}

/// Whether a checkpoint with `cosigned` witness cosignatures is served, given the quorum.
pub fn is_published(cosigned: usize, quorum: usize) -> bool {
    cosigned >= quorum
}

/// The cosignature lines a checkpoint keeps and the quorum they make: one
/// line per distinct witness key (name and key id) whose line is a valid
/// cosignature of `checkpoint_body`, in the order given. A witness configured
/// twice (two URLs, one key) counts once; sinks are not witnesses.
pub fn quorum_of<'a>(checkpoint_body: &str, answers: impl IntoIterator<Item = (&'a CosignatureVerifier, &'a str)>) -> (String, usize) {
    let mut seen = BTreeSet::new();
    let mut lines = String::new();
    for (witness, line) in answers {
        if witness.verify_line(checkpoint_body, line).is_ok() && seen.insert((witness.name().to_owned(), witness.key_id())) {
            lines.push_str(line.trim_end_matches('\n'));
            lines.push('\n');
        }
    }
    (lines, seen.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use claimtrail_ledger::hash::CHAIN_SEED;
    use claimtrail_ledger::note::Cosigner;

    /// Given the checkpointer's position (next index, chain value), when it reads a stored row, then this.
    fn check(given: (u64, Hash), when: (i64, &[u8], &[u8], &[u8]), then: impl FnOnce(Result<(Hash, Hash), EntryFault>)) {
        let (found, leaf, stored_leaf_hash, stored_chain) = when;
        then(check_entry(given.0, &given.1, found, leaf, stored_leaf_hash, stored_chain));
    }

    #[test]
    fn an_entry_that_follows_checks_out() {
        let hash = leaf_hash(b"leaf");
        let chain = chain_next(&CHAIN_SEED, &hash);
        check((0, CHAIN_SEED), (0, b"leaf", &hash, &chain), |then| assert_eq!(then, Ok((hash, chain))));
    }

    #[test]
    fn a_gap_an_edited_leaf_and_a_broken_chain_are_named() {
        let hash = leaf_hash(b"leaf");
        let chain = chain_next(&CHAIN_SEED, &hash);
        check((0, CHAIN_SEED), (1, b"leaf", &hash, &chain), |then| assert_eq!(then, Err(EntryFault::Missing { expected: 0, found: 1 })));
        check((0, CHAIN_SEED), (0, b"edited", &hash, &chain), |then| assert_eq!(then, Err(EntryFault::LeafHash { index: 0 })));
        check((0, [9; 32]), (0, b"leaf", &hash, &chain), |then| assert_eq!(then, Err(EntryFault::Chain { index: 0 })));
        check((5, CHAIN_SEED), (0, b"leaf", &hash, &chain), |then| assert_eq!(then.unwrap_err().to_string(), "entry 5 is missing (found 0 next)"));
    }

    #[test]
    fn a_checkpoint_is_due_after_enough_entries_or_time_and_never_for_nothing() {
        let (second, interval) = (Duration::from_secs(1), Duration::from_secs(2));
        assert!(!checkpoint_due(0, 1, Duration::from_secs(60), interval));
        assert!(!checkpoint_due(9, 10, second, interval));
        assert!(checkpoint_due(10, 10, second, interval));
        assert!(checkpoint_due(1, 10, interval, interval));
    }

    #[test]
    fn a_checkpoint_is_published_once_it_holds_the_quorum() {
        assert!(is_published(0, 0));
        assert!(!is_published(1, 2));
        assert!(is_published(2, 2));
    }

    #[test]
    fn the_quorum_counts_distinct_witness_keys_with_a_valid_cosignature() {
        let body = "claimtrail.test/ledger\n8\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
        let one = Cosigner::generate("witness.test/w1").unwrap();
        let two = Cosigner::generate("witness.test/w2").unwrap();
        // Another key under w1's name is another witness.
        let one_again = Cosigner::generate("witness.test/w1").unwrap();
        let (v1, v2, v1_again) = (one.verifier(), two.verifier(), one_again.verifier());
        let (line1, line1_later, line2, line1_again) =
            (one.cosign(body, 1_000), one.cosign(body, 2_000), two.cosign(body, 1_000), one_again.cosign(body, 1_000));

        // w1 configured twice (each sink got its own line): one witness.
        let (lines, count) = quorum_of(body, [(&v1, line1.as_str()), (&v1, line1_later.as_str())]);
        assert_eq!((lines.as_str(), count), (line1.as_str(), 1));
        let (_, count) = quorum_of(body, [(&v1, line1.as_str()), (&v1, line1_later.as_str()), (&v2, line2.as_str())]);
        assert_eq!(count, 2);
        // A line that does not verify by its sink's key counts for nothing, nor does another body's.
        let (lines, count) = quorum_of(body, [(&v1, line2.as_str()), (&v2, two.cosign("other\n1\nAA==\n", 1_000).as_str())]);
        assert_eq!((lines.as_str(), count), ("", 0));
        // Same name, another key: counted apart.
        let (lines, count) = quorum_of(body, [(&v1, line1.as_str()), (&v1_again, line1_again.as_str())]);
        assert_eq!((lines, count), (format!("{line1}{line1_again}"), 2));
    }
}
