//! Cross-payer duplicates: the same service (equal keyed fingerprints, made
//! with the same key) billed to two payers. Neither claim may be a COB
//! secondary: a secondary carrying the primary's adjudication is the one
//! legitimate second bill. Score: the matched share of the claim's lines.
//! The finding's evidence names the other payer's claim; the service
//! redacts it to the ledger index and the pattern.

use crate::facts::{ClaimFacts, Frequency};
use crate::finding::Finding;
use crate::pattern::Pattern;

use super::held::{Held, evidence_of};

pub fn check(held: &Held, claim: &ClaimFacts) -> Option<Finding> {
    if claim.cob_secondary || claim.frequency == Frequency::Void || claim.fingerprint_key_id.is_none() {
        return None;
    }
    let original = held.same_fingerprints(claim).into_iter().find(|held| held.claim.payer_id != claim.payer_id && !held.claim.cob_secondary)?;
    let key_id = claim.fingerprint_key_id;
    let n_matched = claim
        .lines
        .iter()
        .filter(|line| {
            line.fingerprint.is_some()
                && original.claim.fingerprint_key_id == key_id
                && original.claim.lines.iter().any(|theirs| theirs.fingerprint == line.fingerprint)
        })
        .count();
    Some(Finding {
        pattern: Pattern::CrossPayerDuplicate,
        claim_ids: vec![claim.claim_id],
        duplicates: Some(original.claim.claim_id),
        npi: Some(claim.billing_npi.clone()),
        date: claim.service_span().map(|(first, _)| first),
        score: n_matched as f64 / claim.lines.len().max(1) as f64,
        evidence: vec![evidence_of(claim), original.evidence()],
        reason: format!("{n_matched} of {} line(s) were billed to another payer as well (not as a COB secondary)", claim.lines.len()),
    })
}
