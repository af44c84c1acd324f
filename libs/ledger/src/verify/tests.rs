use super::*;
use crate::hash::leaf_hash;
use crate::leaf::LeafBatch;
use crate::merkle::root;
use crate::note::{Checkpoint, SignerKey};

const ORIGIN: &str = "claimtrail.test/ledger";

type Entry = (u64, Vec<u8>, Option<Hash>);

fn record(index: u64) -> LeafRecord {
    LeafRecord {
        index,
        event_id: format!("00000000-0000-7000-8000-{index:012}"),
        event_type: "ClaimSubmitted".to_string(),
        producer: "intake".to_string(),
        occurred_at: format!("2026-01-01T00:00:{:02}.000000Z", index % 60),
        commitment: hex::encode(leaf_hash(&index.to_be_bytes())),
        batch: None,
        verified: None,
    }
}

/// `n_entries` honest entries with their stored chain values.
fn ledger(n_entries: u64) -> Vec<Entry> {
    let mut chain = CHAIN_SEED;
    (0..n_entries)
        .map(|index| {
            let bytes = record(index).to_bytes();
            chain = chain_next(&chain, &leaf_hash(&bytes));
            (index, bytes, Some(chain))
        })
        .collect()
}

fn log_key() -> SignerKey {
    SignerKey::from_seed("claimtrail.test/anchor", &[42u8; 32]).unwrap()
}

fn checkpoint_for(entries: &[Entry], size: u64, signer: &SignerKey) -> String {
    let leaf_hashes: Vec<Hash> = entries[..size as usize].iter().map(|(_, bytes, _)| leaf_hash(bytes)).collect();
    Checkpoint { origin: ORIGIN.to_string(), size, root: root(&leaf_hashes), extensions: Vec::new() }.sign(&[signer]).unwrap()
}

/// Recomputes every stored chain value, as an attacker with write access would.
fn rechain(entries: &mut [Entry]) {
    let mut chain = CHAIN_SEED;
    for (_, bytes, stored) in entries.iter_mut() {
        chain = chain_next(&chain, &leaf_hash(bytes));
        *stored = Some(chain);
    }
}

fn check(entries: Vec<Entry>, checkpoints: &[String]) -> Result<Report, VerifyFailure> {
    verify_ledger(entries, checkpoints, vec![log_key().verifier()])
}

fn honest() -> (Vec<Entry>, Vec<String>) {
    let entries = ledger(20);
    let checkpoints = [5, 10, 16].iter().map(|&size| checkpoint_for(&entries, size, &log_key())).collect();
    (entries, checkpoints)
}

#[test]
fn an_honest_ledger_verifies() {
    let (entries, checkpoints) = honest();
    let expected_root_16 = root(&entries[..16].iter().map(|(_, bytes, _)| leaf_hash(bytes)).collect::<Vec<_>>());
    let report = check(entries.clone(), &checkpoints).unwrap();
    assert_eq!(report.entries, 20);
    assert_eq!(report.checkpoints_verified, 3);
    assert_eq!(report.last_size, 16);
    assert_eq!(report.last_root, expected_root_16);
    assert_eq!(report.chain_head, entries[19].2.unwrap());
    let all: Vec<Hash> = entries.iter().map(|(_, bytes, _)| leaf_hash(bytes)).collect();
    assert_eq!(report.tree_root, root(&all));
}

#[test]
fn an_empty_ledger_verifies_with_no_checkpoints_or_a_size_0_one() {
    let report = check(Vec::new(), &[]).unwrap();
    assert_eq!(report.entries, 0);
    assert_eq!(report.last_root, empty_root());
    let empty_checkpoint = checkpoint_for(&[], 0, &log_key());
    assert_eq!(check(Vec::new(), &[empty_checkpoint]).unwrap().checkpoints_verified, 1);
}

#[test]
fn entries_without_stored_chain_values_still_verify() {
    let (mut entries, checkpoints) = honest();
    for entry in &mut entries {
        entry.2 = None;
    }
    assert_eq!(check(entries, &checkpoints).unwrap().checkpoints_verified, 3);
}

#[test]
fn an_edited_leaf_is_named_by_the_chain() {
    let (mut entries, checkpoints) = honest();
    let mut edited = record(7);
    edited.event_type = "ClaimAdjudicated".to_string();
    entries[7].1 = edited.to_bytes();
    let failure = check(entries, &checkpoints).unwrap_err();
    assert_eq!(failure.first_bad_index, Some(7));
    assert!(failure.reason.contains("chain"), "{}", failure.reason);
}

#[test]
fn an_edited_leaf_without_chain_values_is_blamed_after_the_last_good_checkpoint() {
    let (mut entries, checkpoints) = honest();
    let mut edited = record(7);
    edited.producer = "mallory".to_string();
    entries[7].1 = edited.to_bytes();
    for entry in &mut entries {
        entry.2 = None;
    }
    let failure = check(entries, &checkpoints).unwrap_err();
    assert_eq!(failure.first_bad_index, Some(5));
}

#[test]
fn a_deleted_entry_is_named_as_missing() {
    let (mut entries, checkpoints) = honest();
    entries.remove(12);
    let failure = check(entries, &checkpoints).unwrap_err();
    assert_eq!(failure.first_bad_index, Some(12));
    assert!(failure.reason.contains("missing"), "{}", failure.reason);
}

#[test]
fn reordered_entries_are_named_at_the_first_displaced_index() {
    let (mut entries, checkpoints) = honest();
    entries.swap(3, 4);
    let failure = check(entries, &checkpoints).unwrap_err();
    assert_eq!(failure.first_bad_index, Some(3));
}

#[test]
fn renumbered_reordered_entries_are_caught_by_the_leaf_record_index() {
    let (mut entries, checkpoints) = honest();
    entries.swap(3, 4);
    entries[3].0 = 3;
    entries[4].0 = 4;
    rechain(&mut entries);
    let failure = check(entries, &checkpoints).unwrap_err();
    assert_eq!(failure.first_bad_index, Some(3));
    assert!(failure.reason.contains("moved"), "{}", failure.reason);
}

#[test]
fn a_duplicated_entry_is_named() {
    let (mut entries, checkpoints) = honest();
    let copy = entries[8].clone();
    entries.insert(9, copy);
    let failure = check(entries, &checkpoints).unwrap_err();
    assert_eq!(failure.first_bad_index, Some(9));
}

#[test]
fn a_consistently_rewritten_chain_is_caught_by_the_checkpoint_root() {
    let (mut entries, checkpoints) = honest();
    let mut edited = record(13);
    edited.commitment = "00".repeat(32);
    entries[13].1 = edited.to_bytes();
    rechain(&mut entries);
    let failure = check(entries, &checkpoints).unwrap_err();
    // 0..10 match the checkpoint at 10; the checkpoint at 16 does not match.
    assert_eq!(failure.first_bad_index, Some(10));
    assert!(failure.reason.contains("size 16"), "{}", failure.reason);
}

#[test]
fn a_rewrite_before_the_first_checkpoint_is_blamed_from_index_0() {
    let (mut entries, checkpoints) = honest();
    let mut edited = record(2);
    edited.occurred_at = "2020-01-01T00:00:00.000000Z".to_string();
    entries[2].1 = edited.to_bytes();
    rechain(&mut entries);
    assert_eq!(check(entries, &checkpoints).unwrap_err().first_bad_index, Some(0));
}

#[test]
fn a_forged_checkpoint_signature_is_rejected() {
    let (entries, mut checkpoints) = honest();
    // Same key name, different private key: not signed by a trusted key.
    let forger = SignerKey::from_seed("claimtrail.test/anchor", &[7u8; 32]).unwrap();
    checkpoints[1] = checkpoint_for(&entries, 10, &forger);
    let failure = check(entries.clone(), &checkpoints).unwrap_err();
    assert_eq!(failure.first_bad_index, None);
    assert!(failure.reason.contains("trusted"), "{}", failure.reason);

    // A trusted signature over an altered body.
    let (_, mut checkpoints) = honest();
    checkpoints[1] = checkpoints[1].replacen("\n10\n", "\n11\n", 1);
    let failure = check(entries, &checkpoints).unwrap_err();
    assert_eq!(failure.first_bad_index, None);
    assert!(failure.reason.contains("does not verify"), "{}", failure.reason);
}

#[test]
fn a_checkpoint_larger_than_the_ledger_means_entries_are_missing() {
    let (mut entries, checkpoints) = honest();
    entries.truncate(14);
    let failure = check(entries, &checkpoints).unwrap_err();
    assert_eq!(failure.first_bad_index, Some(14));
    assert!(failure.reason.contains("16"), "{}", failure.reason);
}

#[test]
fn conflicting_checkpoints_of_one_size_are_a_fork() {
    let (entries, mut checkpoints) = honest();
    let mut other_entries = entries.clone();
    other_entries[9].1 = record(99).to_bytes();
    checkpoints.push(checkpoint_for(&other_entries, 10, &log_key()));
    let failure = check(entries, &checkpoints).unwrap_err();
    assert_eq!(failure.first_bad_index, None);
    assert!(failure.reason.contains("fork"), "{}", failure.reason);
}

#[test]
fn checkpoints_of_another_origin_are_rejected() {
    let (entries, mut checkpoints) = honest();
    let foreign = Checkpoint { origin: "other.log".to_string(), size: 3, root: [0u8; 32], extensions: Vec::new() };
    checkpoints.push(foreign.sign(&[&log_key()]).unwrap());
    let failure = check(entries, &checkpoints).unwrap_err();
    assert!(failure.reason.contains("origin"), "{}", failure.reason);
}

#[test]
fn a_malformed_leaf_is_named() {
    let (mut entries, checkpoints) = honest();
    entries[4].1 = b"{\"index\":4}".to_vec();
    assert_eq!(check(entries, &checkpoints).unwrap_err().first_bad_index, Some(4));
}

#[test]
fn the_streaming_verifier_accepts_checkpoints_interleaved_ahead_of_entries() {
    let (entries, checkpoints) = honest();
    let mut verifier = Verifier::new(vec![log_key().verifier()]);
    let mut next_checkpoint = checkpoints.iter().zip([5u64, 10, 16]).peekable();
    for (index, bytes, chain) in &entries {
        while let Some((text, size)) = next_checkpoint.peek() {
            if *size > *index {
                break;
            }
            verifier.push_checkpoint(text).unwrap();
            next_checkpoint.next();
        }
        verifier.push_entry(*index, bytes, *chain).unwrap();
    }
    assert_eq!(verifier.finish().unwrap().checkpoints_verified, 3);
}

#[test]
fn a_checkpoint_pushed_after_its_entries_is_refused_and_failures_stick() {
    let (entries, checkpoints) = honest();
    let mut verifier = Verifier::new(vec![log_key().verifier()]);
    for (index, bytes, chain) in &entries[..7] {
        verifier.push_entry(*index, bytes, *chain).unwrap();
    }
    let failure = verifier.push_checkpoint(&checkpoints[0]).unwrap_err();
    assert!(failure.reason.contains("before"), "{}", failure.reason);
    let (index, bytes, chain) = &entries[7];
    assert_eq!(verifier.push_entry(*index, bytes, *chain), Err(failure.clone()));
    assert_eq!(verifier.finish(), Err(failure));
}

#[test]
fn the_failure_message_names_the_index() {
    let failure = VerifyFailure { first_bad_index: Some(12), reason: "entry 12 is missing".to_string() };
    assert_eq!(failure.to_string(), "first bad index 12: entry 12 is missing");
}

/// Entries whose events came in producer batches of 3, signed by `producer`;
/// entry `unverified` (if any) is recorded as the anchor records a failed signature.
fn signed_ledger(n_entries: u64, producer: &SignerKey, unverified: Option<u64>) -> Vec<Entry> {
    signed_ledger_in(n_entries, 3, producer, unverified)
}

/// [`signed_ledger`] with producer batches of `batch_size` events.
fn signed_ledger_in(n_entries: u64, batch_size: usize, producer: &SignerKey, unverified: Option<u64>) -> Vec<Entry> {
    let event_hashes: Vec<Hash> = (0..n_entries).map(|index| crate::batch::event_hash(format!("envelope {index}").as_bytes())).collect();
    let mut proofs = Vec::new();
    for (batch_idx, chunk) in event_hashes.chunks(batch_size).enumerate() {
        proofs.extend(crate::batch::sign(producer, "intake", &format!("batch-{batch_idx}"), chunk));
    }
    let label = producer.verifier().label();
    let mut chain = CHAIN_SEED;
    (0..n_entries)
        .map(|index| {
            let mut leaf = record(index);
            leaf.producer = format!("intake/{label}");
            leaf.batch = Some(LeafBatch::new(&event_hashes[index as usize], &proofs[index as usize]));
            leaf.verified = Some(true);
            if unverified == Some(index) {
                leaf.batch.as_mut().unwrap().signature = "AAAA".into();
                leaf.verified = Some(false);
            }
            let bytes = leaf.to_bytes();
            chain = chain_next(&chain, &leaf_hash(&bytes));
            (index, bytes, Some(chain))
        })
        .collect()
}

fn check_producers(entries: Vec<Entry>, producer_keys: Vec<(String, VerifierKey)>) -> Result<Report, VerifyFailure> {
    let mut verifier = Verifier::new(vec![log_key().verifier()]).with_producer_keys(producer_keys);
    for (index, bytes, chain) in entries {
        verifier.push_entry(index, &bytes, chain)?;
    }
    verifier.finish()
}

#[test]
fn producer_signatures_verify_with_the_producer_key_once_per_batch() {
    let producer = SignerKey::from_seed("intake-producer", &[9u8; 32]).unwrap();
    let report = check_producers(signed_ledger(10, &producer, Some(4)), vec![("intake".into(), producer.verifier())]).unwrap();
    assert!(report.producers.checked);
    assert_eq!(report.producers.signed_entries, 9);
    assert_eq!(report.producers.batches_verified, 4);
    assert_eq!(report.producers.unverified_entries, 1);
    assert_eq!(report.producers.first_unverified, Some(4));
    // Without producer keys nothing is checked, but the entries are counted.
    let unchecked = check_producers(signed_ledger(10, &producer, None), vec![]).unwrap();
    assert!(!unchecked.producers.checked);
    assert_eq!(unchecked.producers.signed_entries, 10);
}

#[test]
fn a_wrong_producer_key_or_a_forged_batch_names_the_first_entry_it_signs() {
    let producer = SignerKey::from_seed("intake-producer", &[9u8; 32]).unwrap();
    let impostor = SignerKey::from_seed("intake-producer", &[10u8; 32]).unwrap();
    let failure = check_producers(signed_ledger(10, &producer, None), vec![("intake".into(), impostor.verifier())]).unwrap_err();
    assert_eq!(failure.first_bad_index, Some(0));
    assert!(failure.reason.contains("not trusted"), "{}", failure.reason);
    // The right key, but for another service.
    let failure = check_producers(signed_ledger(10, &producer, None), vec![("settlement".into(), producer.verifier())]).unwrap_err();
    assert_eq!(failure.first_bad_index, Some(0));

    // A batch whose signature was replaced (and the chain recomputed to match).
    let mut entries = signed_ledger(10, &producer, None);
    for (index, bytes, _) in entries.iter_mut().skip(6) {
        let mut leaf = LeafRecord::from_bytes(bytes).unwrap();
        let batch = leaf.batch.as_mut().unwrap();
        batch.signature = crate::batch::sign(&impostor, "intake", &batch.id, &[[0u8; 32]])[0].signature.clone();
        *bytes = leaf.to_bytes();
        assert_eq!(leaf.index, *index);
    }
    rechain(&mut entries);
    let failure = check_producers(entries, vec![("intake".into(), producer.verifier())]).unwrap_err();
    assert_eq!(failure.first_bad_index, Some(6));
    assert!(failure.reason.contains("does not verify"), "{}", failure.reason);

    // An entry moved to another position of its batch.
    let mut entries = signed_ledger(10, &producer, None);
    let mut leaf = LeafRecord::from_bytes(&entries[7].1).unwrap();
    leaf.batch.as_mut().unwrap().index = 0;
    entries[7].1 = leaf.to_bytes();
    rechain(&mut entries);
    let failure = check_producers(entries, vec![("intake".into(), producer.verifier())]).unwrap_err();
    assert_eq!(failure.first_bad_index, Some(7));
}

#[test]
fn entries_pushed_in_runs_fail_exactly_as_one_by_one() {
    let entries = ledger(5_000);
    let checkpoints: Vec<String> = [1_000, 4_096, 5_000].iter().map(|&size| checkpoint_for(&entries, size, &log_key())).collect();
    let one_by_one = |entries: &[Entry]| {
        let mut verifier = Verifier::new(vec![log_key().verifier()]);
        for note in &checkpoints {
            verifier.push_checkpoint(note)?;
        }
        for (index, bytes, chain) in entries {
            verifier.push_entry(*index, bytes, *chain)?;
        }
        verifier.finish()
    };
    let honest = check(entries.clone(), &checkpoints).unwrap();
    assert_eq!(Ok(honest), one_by_one(&entries));
    let mut edited = entries.clone();
    edited[3_001].1[5] ^= 1;
    let in_runs = check(edited.clone(), &checkpoints).unwrap_err();
    assert_eq!(in_runs.first_bad_index, Some(3_001));
    assert_eq!(Err(in_runs), one_by_one(&edited));
    let mut moved = entries;
    moved.swap(4_500, 4_501);
    assert_eq!(check(moved.clone(), &checkpoints).unwrap_err(), one_by_one(&moved).unwrap_err());
}

/// Pushes `entries` in runs of `run_len` (the batch-root shortcut applies
/// to the batches a run holds whole).
fn check_producers_in_runs(entries: &[Entry], producer_keys: Vec<(String, VerifierKey)>, run_len: usize) -> Result<Report, VerifyFailure> {
    let mut verifier = Verifier::new(vec![log_key().verifier()]).with_producer_keys(producer_keys);
    for run in entries.chunks(run_len) {
        verifier.push_entries(run)?;
    }
    verifier.finish()
}

/// Edits the batch part of entry `index` and recomputes the chain.
fn edit_batch(entries: &[Entry], index: usize, edit: impl FnOnce(&mut LeafBatch)) -> Vec<Entry> {
    let mut entries = entries.to_vec();
    let mut leaf = LeafRecord::from_bytes(&entries[index].1).unwrap();
    edit(leaf.batch.as_mut().unwrap());
    entries[index].1 = leaf.to_bytes();
    rechain(&mut entries);
    entries
}

#[test]
fn the_batch_root_shortcut_accepts_exactly_what_the_paths_accept() {
    let producer = SignerKey::from_seed("intake-producer", &[9u8; 32]).unwrap();
    let impostor = SignerKey::from_seed("intake-producer", &[10u8; 32]).unwrap();
    let keys = || vec![("intake".to_string(), producer.verifier())];
    // Batches of 7: run lengths that hold them whole, split them, or are single entries.
    let honest = signed_ledger_in(40, 7, &producer, None);
    let one_by_one = check_producers(honest.clone(), keys()).unwrap();
    assert_eq!(one_by_one.producers.batches_verified, 6);
    assert_eq!(one_by_one.producers.signed_entries, 40);
    for run_len in [1, 5, 7, 14, 40] {
        assert_eq!(check_producers_in_runs(&honest, keys(), run_len), Ok(one_by_one.clone()), "runs of {run_len}");
    }

    let b64 = |hash: &Hash| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(hash)
    };
    let tampered: Vec<(&str, Vec<Entry>)> = vec![
        // A changed event hash inside a whole batch (entries 14..21).
        ("changed leaf", edit_batch(&honest, 17, |batch| batch.event_hash = b64(&crate::batch::event_hash(b"forged envelope")))),
        // A wrong path element (the root and every other entry still match).
        ("wrong path", edit_batch(&honest, 9, |batch| batch.path[1] = b64(&[7u8; 32]))),
        ("short path", edit_batch(&honest, 9, |batch| _ = batch.path.pop())),
        // A path moved: entry 8 claims position 0 of its batch.
        ("moved", edit_batch(&honest, 8, |batch| batch.index = 0)),
        // A batch signature forged on every entry of the batch 21..28.
        ("forged signature", {
            let forged = crate::batch::sign(&impostor, "intake", "batch-3", &[[0u8; 32]])[0].signature.clone();
            (21..28).fold(honest.clone(), |entries, index| edit_batch(&entries, index, |batch| batch.signature = forged.clone()))
        }),
        // A root claimed by one entry only.
        ("other root", edit_batch(&honest, 30, |batch| batch.root = b64(&[1u8; 32]))),
        // Two entries of one batch swap their batch parts (each event is still in the batch).
        ("swapped in batch", {
            let mut entries = honest.clone();
            let mut a = LeafRecord::from_bytes(&entries[15].1).unwrap();
            let mut b = LeafRecord::from_bytes(&entries[16].1).unwrap();
            std::mem::swap(&mut a.batch, &mut b.batch);
            entries[15].1 = a.to_bytes();
            entries[16].1 = b.to_bytes();
            rechain(&mut entries);
            entries
        }),
    ];
    for (what, entries) in &tampered {
        let expected = check_producers(entries.clone(), keys());
        for run_len in [1, 5, 7, 14, 40] {
            assert_eq!(check_producers_in_runs(entries, keys(), run_len), expected, "{what}, runs of {run_len}");
        }
        if *what != "swapped in batch" {
            let failure = expected.unwrap_err();
            assert!(failure.first_bad_index.is_some(), "{what}: {failure}");
        }
    }
    let blame = |what: &str| tampered.iter().find(|(name, _)| *name == what).map(|(_, entries)| check_producers(entries.clone(), keys()).unwrap_err()).unwrap();
    assert_eq!(blame("changed leaf").first_bad_index, Some(17));
    assert!(blame("changed leaf").reason.contains("inclusion proof does not lead to the given root"), "{}", blame("changed leaf"));
    assert_eq!(blame("wrong path").first_bad_index, Some(9));
    assert_eq!(blame("short path").first_bad_index, Some(9));
    assert_eq!(blame("moved").first_bad_index, Some(8));
    assert_eq!(blame("forged signature").first_bad_index, Some(21));
    assert!(blame("forged signature").reason.contains("does not verify"), "{}", blame("forged signature"));
    assert_eq!(blame("other root").first_bad_index, Some(30));
    // An untrusted key is refused at the first entry, whole batches or not.
    let untrusted = vec![("intake".to_string(), impostor.verifier())];
    let expected = check_producers(honest.clone(), untrusted.clone()).unwrap_err();
    assert_eq!(expected.first_bad_index, Some(0));
    assert_eq!(check_producers_in_runs(&honest, untrusted, 40), Err(expected));
}

#[test]
fn the_whole_batch_check_needs_every_entry_in_order() {
    let producer = SignerKey::from_seed("intake-producer", &[9u8; 32]).unwrap();
    let keys = vec![TrustedKey { service: "intake".into(), label: producer.verifier().label(), key: producer.verifier() }];
    let entries = signed_ledger_in(8, 8, &producer, None);
    let pending = |entries: &[Entry]| -> Vec<Pending> {
        entries
            .iter()
            .map(|(_, bytes, _)| match Producer::of(LeafRecord::from_bytes(bytes).unwrap(), Some(&keys)) {
                Early::Batch(pending) => pending,
                Early::Done(_) => panic!("a signed entry by a trusted key waits for its batch"),
            })
            .collect()
    };
    for size in (1..=20).chain([64, 100]) {
        let batch = signed_ledger_in(size, size as usize, &producer, None);
        assert!(check_whole_batch(&pending(&batch), &mut None).is_some(), "a whole batch of {size} passes");
    }
    let mut last = None;
    let memo = check_whole_batch(&pending(&entries), &mut last).expect("a whole batch passes");
    assert_eq!(last, Some(memo.clone()));
    // Again: the signature is remembered.
    assert_eq!(check_whole_batch(&pending(&entries), &mut last), Some(memo));
    let mut last = None;
    // Partial: a prefix, a suffix.
    assert_eq!(check_whole_batch(&pending(&entries[..7]), &mut last), None);
    assert_eq!(check_whole_batch(&pending(&entries[1..]), &mut last), None);
    // Reordered.
    let mut reordered = entries.clone();
    reordered.swap(2, 3);
    assert_eq!(check_whole_batch(&pending(&reordered), &mut last), None);
    // A tampered leaf inside the whole batch.
    let tampered = edit_batch(&entries, 5, |batch| batch.event_hash = batch.root.clone());
    assert_eq!(check_whole_batch(&pending(&tampered), &mut last), None);
    // A wrong path inside the whole batch.
    let tampered = edit_batch(&entries, 0, |batch| batch.path.swap(0, 1));
    assert_eq!(check_whole_batch(&pending(&tampered), &mut last), None);
    assert_eq!(last, None, "nothing was verified");
}
