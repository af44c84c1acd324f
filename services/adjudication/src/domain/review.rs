//! A reviewer's decision of a pended claim (`claim.reviewed.v1`, from
//! `POST /v1/claims/{id}/review`): the pended queue's way out.
//!
//! - **approve**: each line the review lists is allowed the reviewer's
//!   amount (at most its charge; the rest CO-45), every other line its
//!   charge; then the benefit step shares the cost as for any decision;
//! - **adjust**: the same, naming at least one line;
//! - **deny**: every line is denied with the reviewer's CARC for its charge.
//!
//! Each line gets a `review` step naming the reviewer and the reason. A
//! replacement's original is reversed first, as when it is decided without
//! review. The decision's `rule_set_hash` is the SHA3-256 of the review's
//! canonical JSON: what decided it. The review is a fact of the decision
//! ([`super::Facts::review`]) and recorded, so the decision replays.

use claimtrail_codes::{Carc, GroupCode};
use claimtrail_events::canonical::to_canonical_vec;
use claimtrail_events::{Adjustment, ClaimReviewed, DecisionStep, Frequency, LineDecision, Money, StepKind, SubmittedClaim, sha3_256};

use super::{DecisionState, Event, Facts, Rejection, pricing};

/// The actions a reviewer takes.
pub const APPROVE: &str = "approve";
pub const ADJUST: &str = "adjust";
pub const DENY: &str = "deny";
/// The longest reason a review may give.
pub const REASON_CHARS_MAX: usize = 500;

/// What is wrong with `review` of `claim`: (path, reason) for every fault; empty when none.
pub fn check(claim: &SubmittedClaim, review: &ClaimReviewed) -> Vec<(String, String)> {
    let mut faults = Vec::new();
    let reason = review.reason.trim();
    if reason.is_empty() || review.reason.chars().count() > REASON_CHARS_MAX {
        faults.push(("reason".to_owned(), format!("a review gives its reason, 1 to {REASON_CHARS_MAX} characters")));
    }
    match review.action.as_str() {
        APPROVE | ADJUST => {
            if review.carc.is_some() {
                faults.push(("carc".to_owned(), "an approval names no CARC (a denial does)".to_owned()));
            }
            if review.action == ADJUST && review.lines.is_empty() {
                faults.push(("lines".to_owned(), "an adjustment names the lines it allows an amount on".to_owned()));
            }
            for (idx, reviewed) in review.lines.iter().enumerate() {
                match claim.lines.iter().find(|line| line.sequence == reviewed.sequence) {
                    None => faults.push((format!("lines[{idx}].sequence"), format!("the claim has no line {}", reviewed.sequence))),
                    Some(line) if reviewed.allowed.is_negative() || reviewed.allowed > line.charge => faults.push((
                        format!("lines[{idx}].allowed"),
                        format!("line {} is allowed 0.00 to its charge {}, not {}", line.sequence, line.charge, reviewed.allowed),
                    )),
                    Some(_) => {}
                }
                if review.lines[..idx].iter().any(|earlier| earlier.sequence == reviewed.sequence) {
                    faults.push((format!("lines[{idx}].sequence"), format!("line {} is reviewed twice", reviewed.sequence)));
                }
            }
        }
        DENY => {
            if !review.lines.is_empty() {
                faults.push(("lines".to_owned(), "a denial allows nothing: no lines".to_owned()));
            }
            match review.carc.as_deref().map(Carc::parse) {
                Some(Ok(_)) => {}
                Some(Err(error)) => faults.push(("carc".to_owned(), error.to_string())),
                None => faults.push(("carc".to_owned(), "a denial names the CARC it denies with, e.g. `50`".to_owned())),
            }
        }
        other => faults.push(("action".to_owned(), format!("`approve`, `adjust` or `deny`, not `{other}`"))),
    }
    faults
}

/// Decides `claim` on `review`: the original's reversal for a replacement, then the reviewer's decision.
pub fn decide(claim: &SubmittedClaim, facts: &Facts<'_>, review: &ClaimReviewed) -> Result<Vec<Event>, Rejection> {
    let faults = check(claim, review);
    if !faults.is_empty() {
        let faults: Vec<String> = faults.into_iter().map(|(path, reason)| format!("{path}: {reason}")).collect();
        return Err(Rejection::Review(faults.join("; ")));
    }
    let hash = hex::encode(sha3_256(&to_canonical_vec(review).map_err(|e| Rejection::Review(format!("the review is not canonical JSON: {e}")))?));
    let mut events = Vec::with_capacity(2);
    if claim.frequency != Frequency::Original {
        match &facts.original {
            DecisionState::Decided { decision } => events.push(Event::Reversed(pricing::reverse(decision, claim))),
            DecisionState::Reversed { decision, by_claim_id } => {
                return Ok(vec![Event::Adjudicated(pricing::deny_already_reversed(claim, by_claim_id, &decision.rule_set_hash))]);
            }
            DecisionState::Undecided => {}
        }
    }
    let detail = |what: String| format!("reviewed by {}: {what} ({})", review.reviewer, review.reason.trim());
    let mut lines = Vec::with_capacity(claim.lines.len());
    for line in &claim.lines {
        let (allowed, adjustment, what) = match review.carc.as_deref() {
            Some(carc) => {
                let carc = Carc::parse(carc).map_err(|e| Rejection::Review(e.to_string()))?;
                let what = format!("denied CO-{carc}");
                (Money::ZERO, Some(Adjustment { group: GroupCode::Co, reason: carc, amount: line.charge }), what)
            }
            None => {
                let allowed = review.lines.iter().find(|reviewed| reviewed.sequence == line.sequence).map(|reviewed| reviewed.allowed).unwrap_or(line.charge);
                let contractual = line.charge.checked_sub(allowed).ok_or(Rejection::Review(format!("line {}: amounts out of range", line.sequence)))?;
                let adjustment = (!contractual.is_zero()).then_some(Adjustment { group: GroupCode::Co, reason: Carc::FEE_SCHEDULE, amount: contractual });
                (allowed, adjustment, format!("approved, allowed {allowed}"))
            }
        };
        let adjustment = adjustment.filter(|adjustment| !adjustment.amount.is_zero());
        lines.push(LineDecision {
            remarks: Vec::new(),
            sequence: line.sequence,
            procedure_code: line.procedure_code.to_string(),
            charge: line.charge,
            allowed,
            paid: allowed,
            patient_responsibility: Money::ZERO,
            adjustments: adjustment.iter().cloned().collect(),
            explanation: vec![detail(what.clone()), format!("paid {allowed}")],
            steps: vec![DecisionStep {
                kind: StepKind::Review,
                rule: format!("review-{}", review.action),
                source: Some(format!("review:{hash}")),
                adjustment,
                before: line.charge,
                after: allowed,
                detail: detail(what),
            }],
        });
    }
    events.push(Event::Adjudicated(pricing::finish(claim, lines, hash)?));
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{BenefitFacts, Command, DecisionRecord, FeeSchedule, decide as decide_claim, fixtures};
    use claimtrail_events::{ClaimReviewed, Outcome, ReviewedLine};

    fn money(text: &str) -> Money {
        Money::parse(text).unwrap()
    }

    fn review(claim: &SubmittedClaim, action: &str, carc: Option<&str>, lines: &[(u32, &str)]) -> ClaimReviewed {
        ClaimReviewed {
            claim_id: claim.claim_id,
            payer_id: claim.payer_id.to_string(),
            reviewer: "Demo Health Plan".into(),
            action: action.into(),
            reason: "records support the service".into(),
            carc: carc.map(str::to_owned),
            lines: lines.iter().map(|(sequence, allowed)| ReviewedLine { sequence: *sequence, allowed: money(allowed) }).collect(),
        }
    }

    /// Given the fixture's facts and `review`, when the claim is decided, then the events.
    fn check_review(claim: &SubmittedClaim, review: ClaimReviewed) -> Result<Vec<Event>, Rejection> {
        let schedule = FeeSchedule { content_hash: "ef".repeat(32), fees: Default::default() };
        let mut facts = fixtures::facts(&schedule, DecisionState::Undecided);
        // The member the claim pended for is unknown: the reviewer's decision stands anyway.
        facts.registry.member = None;
        facts.review = Some(review);
        decide_claim(&facts, &Command::Adjudicate(claim.clone()))
    }

    #[test]
    fn an_approval_allows_the_reviewer_s_amounts_and_names_the_reviewer() {
        let claim = fixtures::claim(Frequency::Original, None, &[("J3490", "300.00", 1), ("99213", "120.00", 1)]);
        let events = check_review(&claim, review(&claim, APPROVE, None, &[(1, "180.00")])).unwrap();
        let [Event::Adjudicated(decision)] = events.as_slice() else { panic!("{events:?}") };
        assert_eq!((decision.outcome, decision.total_paid), (Outcome::Paid, money("300.00")));
        assert_eq!(decision.lines[0].adjustments, vec![Adjustment { group: GroupCode::Co, reason: Carc::FEE_SCHEDULE, amount: money("120.00") }]);
        assert!(decision.lines[1].adjustments.is_empty());
        let step = &decision.lines[0].steps[0];
        assert_eq!((step.kind, step.rule.as_str()), (StepKind::Review, "review-approve"));
        assert!(step.detail.contains("Demo Health Plan") && step.detail.contains("records support"), "{}", step.detail);
        assert_eq!(decision.rule_set_hash.len(), 64);
    }

    #[test]
    fn a_denial_denies_every_line_with_the_reviewer_s_carc() {
        let claim = fixtures::claim(Frequency::Original, None, &[("J3490", "300.00", 1)]);
        let events = check_review(&claim, review(&claim, DENY, Some("50"), &[])).unwrap();
        let [Event::Adjudicated(decision)] = events.as_slice() else { panic!("{events:?}") };
        assert_eq!((decision.outcome, decision.total_paid), (Outcome::Denied, Money::ZERO));
        assert_eq!(decision.lines[0].adjustments[0].reason.as_str(), "50");
        assert_eq!(decision.lines[0].adjustments[0].amount, money("300.00"));
    }

    #[test]
    fn a_review_that_does_not_fit_the_claim_names_every_fault() {
        let claim = fixtures::claim(Frequency::Original, None, &[("J3490", "300.00", 1), ("99213", "120.00", 1)]);
        let faults = check(&claim, &review(&claim, APPROVE, Some("50"), &[(1, "301.00"), (1, "1.00"), (7, "1.00")]));
        let paths: Vec<&str> = faults.iter().map(|(path, _)| path.as_str()).collect();
        assert_eq!(paths, ["carc", "lines[0].allowed", "lines[1].sequence", "lines[2].sequence"], "{faults:?}");
        assert_eq!(
            check(&claim, &review(&claim, ADJUST, None, &[])),
            [("lines".to_owned(), "an adjustment names the lines it allows an amount on".to_owned())]
        );
        let mut bad = review(&claim, "maybe", None, &[]);
        bad.reason = " ".into();
        let paths: Vec<String> = check(&claim, &bad).into_iter().map(|(path, _)| path).collect();
        assert_eq!(paths, ["reason", "action"]);
        assert_eq!(check(&claim, &review(&claim, DENY, Some("not a carc"), &[]))[0].0, "carc");
        assert!(matches!(check_review(&claim, review(&claim, DENY, None, &[])), Err(Rejection::Review(_))));
    }

    #[test]
    fn an_approved_claim_shares_the_cost_under_the_member_s_plan_and_replays() {
        let claim = fixtures::claim(Frequency::Original, None, &[("J3490", "300.00", 1)]);
        let schedule = FeeSchedule { content_hash: "ef".repeat(32), fees: Default::default() };
        let mut facts = fixtures::facts(&schedule, DecisionState::Undecided);
        facts.review = Some(review(&claim, APPROVE, None, &[(1, "200.00")]));
        let plan = claimtrail_benefits::Plan::from_json(include_bytes!("../../../cli/demo/plan.json")).unwrap();
        facts.benefits =
            BenefitFacts { plan: Some(super::super::PlanInForce { plan_id: "DEMO-PPO".into(), plan: std::sync::Arc::new(plan) }), ..BenefitFacts::default() };
        let events = decide_claim(&facts, &Command::Adjudicate(claim.clone())).unwrap();
        let [Event::Accumulators(_), Event::Adjudicated(decision)] = events.as_slice() else { panic!("{events:?}") };
        // 200 allowed: the 250 deductible takes all of it.
        assert_eq!((decision.total_paid, decision.total_patient_responsibility, decision.outcome), (Money::ZERO, money("200.00"), Outcome::Paid));
        let bytes = to_canonical_vec(&DecisionRecord::of(&facts, &claim, "riverside")).unwrap();
        let record: DecisionRecord = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(record.replay().unwrap().last().unwrap().canonical_payload().unwrap(), events.last().unwrap().canonical_payload().unwrap());
    }
}
