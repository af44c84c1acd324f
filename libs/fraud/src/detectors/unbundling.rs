//! Unbundling: a comprehensive code and a component it includes billed for
//! one member by one billing provider on one date, on one claim, or split
//! over two claims of the same payer (the later claim is flagged).
//!
//! "Includes" is the claim's payer's NCCI PTP edit in force on the date of
//! service ([`Reference::ptp_edit`]), and whether it applies is
//! adjudication's rule ([`claimtrail_policy::ptp_edit_applies`]): modifier
//! indicator 9 never, 1 unless either line carries an NCCI-associated
//! modifier (59, X{EPSU}, 24, 25, 27, 57, 58, 78, 79, 91, the anatomic
//! ones), 0 always. Another payer's edits are never read.

use claimtrail_policy::ptp_edit_applies;

use crate::facts::{ClaimFacts, Frequency, LineFacts};
use crate::finding::Finding;
use crate::pattern::Pattern;
use crate::reference::Reference;

use super::held::{Held, evidence_of};

/// Whether `a` and `b` (same date) form an unbundled pair under `payer_id`'s edits, either way round:
/// the (comprehensive, component) codes.
fn unbundled<'a>(reference: &Reference, payer_id: &str, a: &'a LineFacts, b: &'a LineFacts) -> Option<(&'a str, &'a str)> {
    if a.service_date != b.service_date || a.code == b.code {
        return None;
    }
    for (comprehensive, component) in [(a, b), (b, a)] {
        if let Some(edit) = reference.ptp_edit(payer_id, &comprehensive.code, &component.code, component.service_date)
            && ptp_edit_applies(edit.modifier_indicator, &comprehensive.modifiers, &component.modifiers)
        {
            return Some((&comprehensive.code, &component.code));
        }
    }
    None
}

/// A claim whose own lines hold an unbundled pair.
pub fn within_claim(reference: &Reference, claim: &ClaimFacts) -> Option<Finding> {
    if claim.frequency == Frequency::Void || !reference.has_ncci(&claim.payer_id) {
        return None;
    }
    for (idx, line) in claim.lines.iter().enumerate() {
        for other in &claim.lines[idx + 1..] {
            if let Some((comprehensive, component)) = unbundled(reference, &claim.payer_id, line, other) {
                return Some(Finding {
                    pattern: Pattern::Unbundling,
                    claim_ids: vec![claim.claim_id],
                    duplicates: None,
                    npi: Some(claim.billing_npi.clone()),
                    date: Some(line.service_date),
                    score: 0.9,
                    evidence: vec![evidence_of(claim)],
                    reason: format!("{component} is included in {comprehensive}, billed on the same claim for the same date"),
                });
            }
        }
    }
    None
}

/// A claim with a line that pairs with a line of a held claim (same payer, member, billing NPI, date).
pub fn across_claims(held: &Held, reference: &Reference, claim: &ClaimFacts) -> Option<Finding> {
    if claim.frequency == Frequency::Void || !reference.has_ncci(&claim.payer_id) {
        return None;
    }
    for candidate in held.same_days(claim) {
        for line in &claim.lines {
            for theirs in &candidate.claim.lines {
                if let Some((comprehensive, component)) = unbundled(reference, &claim.payer_id, line, theirs) {
                    return Some(Finding {
                        pattern: Pattern::Unbundling,
                        claim_ids: vec![claim.claim_id],
                        duplicates: Some(candidate.claim.claim_id),
                        npi: Some(claim.billing_npi.clone()),
                        date: Some(line.service_date),
                        score: 0.85,
                        evidence: vec![evidence_of(claim), candidate.evidence()],
                        reason: format!("{component} is included in {comprehensive}, billed apart on two claims for the same date"),
                    });
                }
            }
        }
    }
    None
}
