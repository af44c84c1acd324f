//! The witness's domain core: what the C2SP tlog-witness protocol makes of
//! an add-checkpoint request, given the checkpoint held for its log. Pure:
//! no IO, no SQL, no HTTP (a test in the crate's root fails on any such
//! import); [`crate::api`] loads the held checkpoint under its row lock,
//! calls [`judge`], and stores what it decides in the same transaction.
//!
//! - [`request`]: the body, parsed strictly.
//! - [`admit`]: the checks before the stored state: a followed origin, a
//!   trusted signature, a sane old size.
//! - [`judge`]: cosign, refuse, or refuse and keep the request as evidence.
//!   Only a contradiction is evidence: a checkpoint of the held size with
//!   another root (a fork), or a consistency proof from the held checkpoint
//!   that fails. An older checkpoint proves nothing against the held one
//!   (the log signed it once, genuinely): a size conflict, nothing kept.
//! - [`keeps_evidence`]: evidence is capped per origin.

pub mod request;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use claimtrail_ledger::merkle::verify_consistency;
use claimtrail_ledger::note::NoteError;
use claimtrail_ledger::{Checkpoint, CheckpointError, Hash, VerifierKey, open_checkpoint};

pub use request::{PROOF_LINES_MAX, Request, parse_request};

/// Why a request is not cosigned, in the protocol's terms (the API gives each its status).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A malformed body or an impossible request (400).
    #[error("{0}")]
    Malformed(String),
    /// No trusted key of the origin signed the checkpoint (403).
    #[error("no signature by a trusted key of `{origin}` verifies")]
    Untrusted { origin: String },
    /// The witness follows no log of that origin (404).
    #[error("this witness does not follow a log with origin `{origin}`")]
    UnknownOrigin { origin: String },
    /// The old size is not the size the witness holds (409 with `text/x.tlog.size`).
    #[error("{held}\n")]
    SizeConflict { held: u64 },
    /// The held size, proven from, with another root (409).
    #[error("the log showed another root for size {size}: a fork")]
    Fork { size: u64 },
    /// The consistency proof from the held checkpoint does not verify (422).
    #[error("the consistency proof from {from} to {to} does not verify: {reason}")]
    Inconsistent { from: u64, to: u64, reason: String },
}

impl Refusal {
    pub fn malformed(message: impl Into<String>) -> Refusal {
        Refusal::Malformed(message.into())
    }
}

/// What a contradiction shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvidenceKind {
    /// Two roots for one size.
    Fork,
    /// No consistency from the held checkpoint to the new one.
    Inconsistent,
}

impl EvidenceKind {
    /// The name stored with the evidence and used as a metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceKind::Fork => "fork",
            EvidenceKind::Inconsistent => "inconsistent",
        }
    }
}

/// What the protocol makes of a request, given the checkpoint held for its origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Cosign it and hold it.
    Cosign,
    /// Refuse it; nothing is stored.
    Refuse(Refusal),
    /// Refuse it and keep it: the log contradicts what the witness cosigned.
    Contradiction { kind: EvidenceKind, detail: String, refusal: Refusal },
}

/// The checks before the stored state: the origin is one the witness
/// follows (`logs`), a trusted key of it signed the checkpoint, and the old
/// size is possible. Returns the verified checkpoint.
pub fn admit(request: &Request, logs: &[VerifierKey]) -> Result<Checkpoint, Refusal> {
    let trusted: Vec<VerifierKey> = logs.iter().filter(|key| key.name() == request.origin).cloned().collect();
    if trusted.is_empty() {
        return Err(Refusal::UnknownOrigin { origin: request.origin.clone() });
    }
    let opened = open_checkpoint(&request.note, &trusted).map_err(|e| match e {
        CheckpointError::Note(NoteError::NoTrustedSignature | NoteError::InvalidSignature { .. }) => Refusal::Untrusted { origin: request.origin.clone() },
        other => Refusal::malformed(format!("the checkpoint is malformed: {other}")),
    })?;
    let checkpoint = opened.checkpoint;
    if request.old_size > checkpoint.size {
        return Err(Refusal::malformed(format!("old size {} is above the checkpoint size {}", request.old_size, checkpoint.size)));
    }
    if request.old_size == 0 && !request.proof.is_empty() {
        return Err(Refusal::malformed("a request from old size 0 carries no consistency proof"));
    }
    Ok(checkpoint)
}

/// The checks of a verified checkpoint against the held one (size and root;
/// none before first contact), in the spec's order, except that a checkpoint
/// of the held size with another root is a fork whatever old size the request
/// names. An older checkpoint names an old size that is not the held one and
/// gets 409 with the held size: the log signed it genuinely once, and without
/// a proof from it the witness holds nothing it contradicts.
pub fn judge(held: Option<(u64, Hash)>, old_size: u64, proof: &[Hash], checkpoint: &Checkpoint) -> Verdict {
    let Some((held_size, held_root)) = held else {
        // First contact: trusted as the start, from old size 0 only.
        return if old_size == 0 { Verdict::Cosign } else { Verdict::Refuse(Refusal::SizeConflict { held: 0 }) };
    };
    if checkpoint.size == held_size && checkpoint.root != held_root {
        let detail = format!("two roots for size {held_size}: cosigned {}, now {}", BASE64.encode(held_root), BASE64.encode(checkpoint.root));
        let refusal = if old_size == held_size { Refusal::Fork { size: held_size } } else { Refusal::SizeConflict { held: held_size } };
        return Verdict::Contradiction { kind: EvidenceKind::Fork, detail, refusal };
    }
    if old_size != held_size {
        return Verdict::Refuse(Refusal::SizeConflict { held: held_size });
    }
    if checkpoint.size == held_size {
        return Verdict::Cosign;
    }
    match verify_consistency(held_size, checkpoint.size, &held_root, &checkpoint.root, proof) {
        Ok(()) => Verdict::Cosign,
        Err(e) => Verdict::Contradiction {
            kind: EvidenceKind::Inconsistent,
            detail: format!("no consistency from {held_size} to {}: {e}", checkpoint.size),
            refusal: Refusal::Inconsistent { from: held_size, to: checkpoint.size, reason: e.to_string() },
        },
    }
}

/// Whether a contradiction is stored, with `kept` evidence rows already
/// held for its origin and at most `max` kept per origin (beyond it, only
/// logged and counted).
pub fn keeps_evidence(kept: u64, max: u64) -> bool {
    kept < max
}

#[cfg(test)]
mod tests {
    use super::*;
    use claimtrail_ledger::merkle::{consistency_proof, root};
    use claimtrail_ledger::note::SignerKey;

    fn tree(n: u64, salt: u8) -> Vec<Hash> {
        (0..n).map(|idx| claimtrail_ledger::leaf_hash(&[salt, idx as u8])).collect()
    }

    fn checkpoint_of(leaves: &[Hash]) -> Checkpoint {
        Checkpoint { origin: "log.example".to_owned(), size: leaves.len() as u64, root: root(leaves), extensions: vec![] }
    }

    fn held(leaves: &[Hash]) -> Option<(u64, Hash)> {
        Some((leaves.len() as u64, root(leaves)))
    }

    /// Given the held checkpoint, when a verified checkpoint comes from `old_size` with `proof`, then this verdict.
    fn check(given: Option<(u64, Hash)>, when: (u64, &[Hash], &Checkpoint), then: Verdict) {
        let (old_size, proof, checkpoint) = when;
        assert_eq!(judge(given, old_size, proof, checkpoint), then);
    }

    fn evidence(verdict: &Verdict) -> Option<EvidenceKind> {
        match verdict {
            Verdict::Contradiction { kind, .. } => Some(*kind),
            _ => None,
        }
    }

    #[test]
    fn the_first_checkpoint_is_cosigned_from_old_size_zero_only() {
        let log = tree(6, 1);
        check(None, (0, &[], &checkpoint_of(&log)), Verdict::Cosign);
        check(None, (3, &[], &checkpoint_of(&log)), Verdict::Refuse(Refusal::SizeConflict { held: 0 }));
    }

    #[test]
    fn consistent_growth_and_the_held_checkpoint_again_are_cosigned() {
        let log = tree(12, 1);
        let proof = consistency_proof(8, 12, &log).unwrap();
        check(held(&log[..8]), (8, &proof, &checkpoint_of(&log)), Verdict::Cosign);
        check(held(&log[..8]), (8, &[], &checkpoint_of(&log[..8])), Verdict::Cosign);
    }

    #[test]
    fn an_older_genuine_checkpoint_gets_the_held_size_and_is_no_evidence() {
        let log = tree(12, 1);
        let proof = consistency_proof(4, 6, &log).unwrap();
        let conflict = Verdict::Refuse(Refusal::SizeConflict { held: 8 });
        // From the size it grew from, from 0, and as a repeat of an old request.
        check(held(&log[..8]), (4, &proof, &checkpoint_of(&log[..6])), conflict.clone());
        check(held(&log[..8]), (0, &[], &checkpoint_of(&log[..6])), conflict.clone());
        check(held(&log[..8]), (6, &[], &checkpoint_of(&log[..6])), conflict.clone());
        // A stale old size with a newer checkpoint: the same conflict, no evidence either.
        check(held(&log[..8]), (5, &[], &checkpoint_of(&log)), conflict);
    }

    #[test]
    fn another_root_for_the_held_size_is_a_fork_whatever_old_size_is_named() {
        let (log, forked) = (tree(8, 1), tree(8, 2));
        let verdict = judge(held(&log), 8, &[], &checkpoint_of(&forked));
        assert_eq!((evidence(&verdict), verdict_refusal(&verdict)), (Some(EvidenceKind::Fork), Some(Refusal::Fork { size: 8 })));
        let verdict = judge(held(&log), 0, &[], &checkpoint_of(&forked));
        assert_eq!((evidence(&verdict), verdict_refusal(&verdict)), (Some(EvidenceKind::Fork), Some(Refusal::SizeConflict { held: 8 })));
    }

    #[test]
    fn growth_whose_proof_fails_is_evidence_of_inconsistency() {
        let log = tree(12, 1);
        let mut bad_proof = consistency_proof(8, 12, &log).unwrap();
        bad_proof[0][0] ^= 1;
        let verdict = judge(held(&log[..8]), 8, &bad_proof, &checkpoint_of(&log));
        assert_eq!(evidence(&verdict), Some(EvidenceKind::Inconsistent));
        assert!(matches!(verdict_refusal(&verdict), Some(Refusal::Inconsistent { from: 8, to: 12, .. })));
        // Growth onto another tree.
        let other = tree(12, 3);
        let other_proof = consistency_proof(8, 12, &other).unwrap();
        assert_eq!(evidence(&judge(held(&log[..8]), 8, &other_proof, &checkpoint_of(&other))), Some(EvidenceKind::Inconsistent));
    }

    fn verdict_refusal(verdict: &Verdict) -> Option<Refusal> {
        match verdict {
            Verdict::Cosign => None,
            Verdict::Refuse(refusal) | Verdict::Contradiction { refusal, .. } => Some(refusal.clone()),
        }
    }

    #[test]
    fn evidence_is_kept_up_to_the_maximum_per_origin() {
        assert!(keeps_evidence(0, 1));
        assert!(!keeps_evidence(1, 1));
        assert!(!keeps_evidence(0, 0));
    }

    fn request_for(note: &str, old_size: u64, proof: Vec<Hash>) -> Request {
        Request { old_size, proof, origin: note.split('\n').next().unwrap_or_default().to_owned(), note: note.to_owned() }
    }

    #[test]
    fn only_a_followed_origin_signed_by_its_trusted_key_is_admitted() {
        let log_key = SignerKey::generate("log.example").unwrap();
        let impostor = SignerKey::generate("log.example").unwrap();
        let checkpoint = checkpoint_of(&tree(4, 1));
        let note = checkpoint.sign(&[&log_key]).unwrap();
        let logs = [log_key.verifier()];
        assert_eq!(admit(&request_for(&note, 0, vec![]), &logs).map(|admitted| admitted.size), Ok(4));
        assert_eq!(admit(&request_for(&note, 0, vec![]), &[]), Err(Refusal::UnknownOrigin { origin: "log.example".into() }));
        let forged = checkpoint.sign(&[&impostor]).unwrap();
        assert_eq!(admit(&request_for(&forged, 0, vec![]), &logs), Err(Refusal::Untrusted { origin: "log.example".into() }));
        assert!(matches!(admit(&request_for(&note, 5, vec![]), &logs), Err(Refusal::Malformed(_))));
        assert!(matches!(admit(&request_for(&note, 0, vec![[0; 32]]), &logs), Err(Refusal::Malformed(_))));
    }
}
