//! Exact and near duplicates: the same service billed again to the same payer.
//!
//! Candidates are held claims of the same payer, member and billing NPI with
//! a service on one of the claim's dates (not superseded, and not the claim
//! this one replaces). A void is never a duplicate.
//!
//! - exact: the lines are equal as a multiset (code, modifiers, date, units,
//!   charge) and so is the rendering NPI. Score 1.
//! - near: not exact, and at least half the lines of the smaller claim match
//!   a line of the other on (code, date of service), counting no line that
//!   carries a repeat-procedure modifier (76, 77, 91: a second service the
//!   same day, billed as such). Score: the matched share of the claim's lines.

use crate::facts::{ClaimFacts, Frequency, LineFacts};
use crate::finding::Finding;
use crate::pattern::Pattern;

use super::held::{Held, HeldClaim, content_hash, evidence_of};

/// Modifiers that say "a repeat of the same service, the same day".
pub const REPEAT_MODIFIERS: [&str; 3] = ["76", "77", "91"];

fn is_repeat(line: &LineFacts) -> bool {
    line.modifiers.iter().any(|modifier| REPEAT_MODIFIERS.contains(&modifier.as_str()))
}

/// Lines of `claim` (no repeat modifier) with a line of `other` on the same code and date.
fn n_matched(claim: &ClaimFacts, other: &ClaimFacts) -> usize {
    claim
        .lines
        .iter()
        .filter(|line| {
            !is_repeat(line) && other.lines.iter().any(|theirs| !is_repeat(theirs) && theirs.code == line.code && theirs.service_date == line.service_date)
        })
        .count()
}

/// Whether the lines of `a` and `b` are equal as multisets.
fn same_lines(a: &ClaimFacts, b: &ClaimFacts) -> bool {
    let key = |line: &LineFacts| (line.code.clone(), line.modifiers.clone(), line.service_date, line.units, line.charge_cents);
    let mut a_lines: Vec<_> = a.lines.iter().map(key).collect();
    let mut b_lines: Vec<_> = b.lines.iter().map(key).collect();
    a_lines.sort();
    b_lines.sort();
    a_lines == b_lines
}

/// The exact or near duplicate finding for `claim` against the held claims, if any (exact wins; then the best overlap, earliest first).
pub fn check(held: &Held, claim: &ClaimFacts) -> Option<Finding> {
    if claim.frequency == Frequency::Void || claim.lines.is_empty() {
        return None;
    }
    let candidates = held.same_days(claim);
    if candidates.is_empty() {
        return None;
    }
    let content = content_hash(claim);
    if let Some(original) =
        candidates.iter().find(|held| held.content == content && held.claim.rendering_npi == claim.rendering_npi && same_lines(&held.claim, claim))
    {
        return Some(finding(Pattern::ExactDuplicate, claim, original, 1.0, format!("the same {} line(s) billed again", claim.lines.len())));
    }
    let mut best: Option<(&HeldClaim, usize)> = None;
    for candidate in candidates {
        let matched = n_matched(claim, &candidate.claim);
        let smaller = claim.lines.len().min(candidate.claim.lines.len());
        if matched > 0 && matched * 2 >= smaller && best.is_none_or(|(_, best_matched)| matched > best_matched) {
            best = Some((candidate, matched));
        }
    }
    let (original, matched) = best?;
    let score = (matched as f64 / claim.lines.len() as f64).min(1.0);
    Some(finding(Pattern::NearDuplicate, claim, original, score, format!("{matched} of {} line(s) bill a code and date already billed", claim.lines.len())))
}

fn finding(pattern: Pattern, claim: &ClaimFacts, original: &HeldClaim, score: f64, reason: String) -> Finding {
    Finding {
        pattern,
        claim_ids: vec![claim.claim_id],
        duplicates: Some(original.claim.claim_id),
        npi: Some(claim.billing_npi.clone()),
        date: claim.service_span().map(|(first, _)| first),
        score,
        evidence: vec![evidence_of(claim), original.evidence()],
        reason,
    }
}
