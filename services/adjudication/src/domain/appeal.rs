//! Appeals (issue 17): a provider's appeal reopens a decision
//! (`POST /v1/claims/{id}/appeals`, `claim.appealed.v1`), the appeal waits in
//! the payer's pended queue (reason `appeal`), and a review upholds or
//! overturns it (`claim.reviewed.v1` with action `uphold` or `overturn`).
//!
//! What may be appealed ([`appealable_lines`]), line by line, read from the
//! decision and the MUE rows its record kept:
//! - a line denied or reduced by an MUE with indicator 1 (per line) or 3
//!   (per date of service, clinical: records may justify the units);
//! - never a line denied by an MUE with indicator 2 (per date of service,
//!   policy: absolute), nor an exact duplicate (CO-18);
//! - nothing else: the other denials are answered by a corrected claim
//!   (frequency 7) or a registry change, not by an appeal.
//!
//! An overturn ([`decide`]) decides the claim again on the facts its
//! decision recorded, with the MUE findings of the appealed lines lifted
//! (each such line gets an `appeal-overturned` step), so pricing and the
//! benefit step pay them; it first reverses the decision appealed
//! (`claim.reversed.v1` whose `by_claim_id` is the claim itself), and the
//! benefit step reverses that decision's accumulator entries and applies
//! the new ones as the claim's next version. Settlement books the reversal
//! and the corrected decision, so it pays the difference. The outcome is
//! `claim.appeal_decided.v1`, after the claim's events. An upheld appeal
//! changes nothing but its outcome.

use claimtrail_codes::Carc;
use claimtrail_events::{ClaimAdjudicated, ClaimAppealDecided, ClaimAppealed, ClaimReversed, ClaimReviewed, LineDecision, StepKind, SubmittedClaim};
use claimtrail_policy::{CodeKey, Mue, MueIndicator};
use serde::{Deserialize, Serialize};

use super::{Event, Facts, Rejection, pricing};

/// The review actions on an appealed claim. `approve` and `deny` (the
/// pended queue's buttons) mean `overturn` and `uphold` there.
pub const UPHOLD: &str = "uphold";
pub const OVERTURN: &str = "overturn";
/// The outcomes of `claim.appeal_decided.v1`.
pub const UPHELD: &str = "upheld";
pub const OVERTURNED: &str = "overturned";
/// The pended queue's reason and step for an appeal.
pub const QUEUE_REASON: &str = "appeal";
/// The longest reason an appeal may give.
pub const REASON_CHARS_MAX: usize = super::review::REASON_CHARS_MAX;

/// An appeal being decided: the appeal, the reviewer's decision of it and
/// the decision appealed. A fact of the decision it causes, recorded with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppealFacts {
    pub appeal: ClaimAppealed,
    /// Its action is `uphold` or `overturn` ([`review_action`]).
    pub review: ClaimReviewed,
    /// The decision appealed, as it stood.
    pub decision: ClaimAdjudicated,
}

impl AppealFacts {
    /// Whether the overturn lifts `finding` (an MUE finding on an appealed line).
    pub fn lifts(&self, finding: &claimtrail_policy::Finding) -> bool {
        self.review.action == OVERTURN && finding.edit == claimtrail_policy::Edit::Mue && self.appeal.lines.contains(&finding.sequence)
    }
}

/// Why one line may or may not be appealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineAppeal {
    /// Denied or reduced by an MUE with indicator 1 or 3.
    Reopens { indicator: u8 },
    /// Not appealable, in a sentence naming the line and why.
    Refused(String),
}

/// Whether `line` of a decision may be appealed, given the MUE rows the decision read.
pub fn line_appeal(line: &LineDecision, mue_rows: &[Mue]) -> LineAppeal {
    let code = &line.procedure_code;
    let seq = line.sequence;
    let duplicate = line.adjustments.iter().any(|adjustment| adjustment.reason == Carc::DUPLICATE)
        || line.steps.iter().any(|step| step.kind == StepKind::Edit && step.rule == "duplicate");
    if duplicate {
        return LineAppeal::Refused(format!(
            "line {seq} ({code}) was denied CO-18 as an exact duplicate of an earlier claim: an exact duplicate cannot be appealed"
        ));
    }
    let by_mue = line.steps.iter().any(|step| step.kind == StepKind::Edit && step.rule == "mue");
    if !by_mue {
        return LineAppeal::Refused(format!(
            "line {seq} ({code}) was not denied or reduced by an MUE: an appeal reopens MUE indicator 1 and 3 denials; other denials are corrected by a replacement claim"
        ));
    }
    let key = CodeKey::of(code);
    match mue_rows.iter().find(|row| row.code == key).map(|row| row.indicator) {
        Some(MueIndicator::DateOfServicePolicy) => LineAppeal::Refused(format!(
            "line {seq} ({code}) was denied CO-151 by an MUE with indicator 2 (date of service, policy): indicator 2 is absolute and no appeal overrides it"
        )),
        Some(indicator) => LineAppeal::Reopens { indicator: indicator.number() },
        None => LineAppeal::Refused(format!("line {seq} ({code}): the MUE row that denied it is not in the decision's record")),
    }
}

/// The lines an appeal of `decision` reopens: the ones `requested` names
/// (empty: every line an edit denied or reduced), each checked; or every
/// fault as (path, reason).
pub fn appealable_lines(decision: &ClaimAdjudicated, mue_rows: &[Mue], requested: &[u32]) -> Result<Vec<u32>, Vec<(String, String)>> {
    let mut faults = Vec::new();
    let mut lines = Vec::new();
    if requested.is_empty() {
        let edited = decision.lines.iter().filter(|line| line.steps.iter().any(|step| step.kind == StepKind::Edit));
        for line in edited {
            match line_appeal(line, mue_rows) {
                LineAppeal::Reopens { .. } => lines.push(line.sequence),
                LineAppeal::Refused(reason) => faults.push((format!("lines (line {})", line.sequence), reason)),
            }
        }
        if lines.is_empty() && faults.is_empty() {
            faults.push(("lines".to_owned(), format!("no line of claim {} was denied or reduced by an edit: there is nothing to appeal", decision.claim_id)));
        }
        return if faults.is_empty() { Ok(lines) } else { Err(faults) };
    }
    for (idx, sequence) in requested.iter().enumerate() {
        if requested[..idx].contains(sequence) {
            faults.push((format!("lines[{idx}]"), format!("line {sequence} is named twice")));
            continue;
        }
        match decision.lines.iter().find(|line| line.sequence == *sequence) {
            None => faults.push((format!("lines[{idx}]"), format!("claim {} has no line {sequence}", decision.claim_id))),
            Some(line) => match line_appeal(line, mue_rows) {
                LineAppeal::Reopens { .. } => lines.push(*sequence),
                LineAppeal::Refused(reason) => faults.push((format!("lines[{idx}]"), reason)),
            },
        }
    }
    if faults.is_empty() { Ok(lines) } else { Err(faults) }
}

/// What is wrong with an appeal's reason: (path, reason), if anything.
pub fn reason_fault(reason: &str) -> Option<(String, String)> {
    (reason.trim().is_empty() || reason.chars().count() > REASON_CHARS_MAX)
        .then(|| ("reason".to_owned(), format!("an appeal gives its reason, 1 to {REASON_CHARS_MAX} characters")))
}

/// A reviewer's action on an appealed claim, as recorded: `overturn` or
/// `uphold` (`approve` and `deny` mean the same), or the fault.
pub fn review_action(action: &str, carc: Option<&str>, n_lines: usize) -> Result<&'static str, Vec<(String, String)>> {
    let mut faults = Vec::new();
    let action = match action {
        OVERTURN | super::review::APPROVE => Some(OVERTURN),
        UPHOLD | super::review::DENY => Some(UPHOLD),
        other => {
            faults.push(("action".to_owned(), format!("an appealed claim is reviewed with `overturn` (or `approve`) or `uphold` (or `deny`), not `{other}`")));
            None
        }
    };
    if carc.is_some() {
        faults.push(("carc".to_owned(), "an appeal's review names no CARC: an upheld appeal keeps the decision's".to_owned()));
    }
    if n_lines > 0 {
        faults.push(("lines".to_owned(), "an overturned appeal is priced again, not given amounts: no lines".to_owned()));
    }
    match action {
        Some(action) if faults.is_empty() => Ok(action),
        _ => Err(faults),
    }
}

/// The reversal of the decision appealed: the decision negated, caused by the claim itself.
fn reversal(facts: &AppealFacts, claim: &SubmittedClaim) -> ClaimReversed {
    let mut reversal = pricing::reverse(&facts.decision, claim);
    let detail = format!("appeal {} overturned by {}: the decision is reversed and decided again", facts.appeal.appeal_id, facts.review.reviewer);
    for line in &mut reversal.lines {
        line.explanation = vec![detail.clone()];
        for step in &mut line.steps {
            step.rule = "appeal-overturned".into();
            step.source = Some(format!("appeal:{}", facts.appeal.appeal_id));
            step.detail = detail.clone();
        }
    }
    reversal
}

/// The appeal's outcome, once the claim's events are decided (benefits included).
pub fn outcome(facts: &AppealFacts, events: &[Event]) -> ClaimAppealDecided {
    let paid_after = events
        .iter()
        .rev()
        .find_map(|event| match event {
            Event::Adjudicated(decision) => Some(decision.total_paid),
            _ => None,
        })
        .unwrap_or(facts.decision.total_paid);
    ClaimAppealDecided {
        appeal_id: facts.appeal.appeal_id,
        claim_id: facts.appeal.claim_id,
        payer_id: facts.appeal.payer_id.clone(),
        outcome: if facts.review.action == OVERTURN { OVERTURNED } else { UPHELD }.to_owned(),
        reviewer: facts.review.reviewer.clone(),
        reason: facts.review.reason.trim().to_owned(),
        paid_before: facts.decision.total_paid,
        paid_after,
    }
}

/// Decides an appeal under `facts` (whose `appeal` is `appeal`), before the
/// benefit step: nothing for an upheld appeal; for an overturn, the
/// reversal of the decision appealed, then the claim decided again with the
/// appealed MUE findings lifted.
pub fn decide(claim: &SubmittedClaim, facts: &Facts<'_>, appeal: &AppealFacts) -> Result<Vec<Event>, Rejection> {
    if appeal.review.action == UPHOLD {
        return Ok(vec![]);
    }
    if appeal.review.action != OVERTURN {
        return Err(Rejection::Review(format!("action: `{}` does not decide an appeal", appeal.review.action)));
    }
    let registry = &facts.registry;
    let (Some(member), Some(payer)) = (&registry.member, &registry.payer) else {
        return Err(Rejection::Review(format!("claim {} was decided without its member or payer: an appeal reopens no such decision", claim.claim_id)));
    };
    let empty = super::PolicyInForce::default();
    let policy = facts.policy.unwrap_or(&empty);
    match super::engine::decide_original(claim, facts, member, payer, policy)? {
        Event::Adjudicated(decision) => Ok(vec![Event::Reversed(reversal(appeal, claim)), Event::Adjudicated(decision)]),
        Event::Pended(pended) => {
            Err(Rejection::Review(format!("decided again, claim {} pends ({}: {}); the appeal stays open", claim.claim_id, pended.reason, pended.detail)))
        }
        other => Err(Rejection::Review(format!("decided again, claim {} gave {}", claim.claim_id, other.event_type()))),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use claimtrail_benefits::{AccumulatorEntry, AccumulatorsApplied, Bucket, ClaimVersion, Plan};
    use claimtrail_codes::MemberId;
    use claimtrail_events::{Frequency, Money, Outcome};
    use claimtrail_policy::{Fee, FeeSchedule as PolicyFees, MueTable, Setting};
    use time::macros::date;
    use uuid::Uuid;

    use super::*;
    use crate::domain::fixtures::{self, check};
    use crate::domain::{
        BenefitFacts, Command, DecisionRecord, DecisionState, FeeSchedule, HistoryFact, HistoryStatus, PlanInForce, PolicyInForce, TableInForce,
        decide as decide_claim,
    };

    fn money(text: &str) -> Money {
        Money::parse(text).unwrap()
    }

    fn legacy() -> FeeSchedule {
        FeeSchedule { content_hash: "c".repeat(64), fees: Default::default() }
    }

    /// Fees of 300.00 for J1100, 50.00 a unit for G0422 and 120.00 for 99213, and G0422's MUE of 6 units with `indicator`.
    fn policy(indicator: MueIndicator) -> PolicyInForce {
        let fee = |code: &str, amount: &str| Fee {
            code: CodeKey::of(code),
            modifier: CodeKey::NONE,
            place_of_service: CodeKey::NONE,
            per_unit: money(amount),
            effective: date!(2026 - 01 - 01),
            end: None,
            multiple_procedure: None,
        };
        let mue = Mue { code: CodeKey::of("G0422"), units_max: 6, indicator };
        PolicyInForce {
            mue: Some(TableInForce::new("b".repeat(64), MueTable::from_mues(Setting::Practitioner, vec![mue]))),
            fee_schedule: Some(TableInForce::new(
                "f".repeat(64),
                PolicyFees::from_fees(vec![fee("J1100", "300.00"), fee("G0422", "50.00"), fee("99213", "120.00")]),
            )),
            ..PolicyInForce::default()
        }
    }

    /// An earlier claim's paid line of the member on the same date by the same provider.
    fn earlier(code: &str, units: &str, charge: &str) -> HistoryFact {
        HistoryFact {
            claim_id: Uuid::from_u128(7),
            sequence: 1,
            billing_npi: "1234567893".into(),
            rendering_npi: None,
            service_date: date!(2026 - 11 - 01),
            procedure_code: code.into(),
            modifiers: vec![],
            units: units.into(),
            charge: money(charge),
            status: HistoryStatus::Paid,
        }
    }

    /// The demo plan (deductible 250.00, coinsurance 20%).
    fn plan() -> PlanInForce {
        PlanInForce { plan_id: "DEMO-PPO".into(), plan: Arc::new(Plan::from_json(include_bytes!("../../../cli/demo/plan.json")).unwrap()) }
    }

    /// The claim decided under `policy` and `history` (and `benefits`): its events and the MUE rows its record keeps.
    fn decided(policy: &PolicyInForce, history: Vec<HistoryFact>, benefits: BenefitFacts, claim: &SubmittedClaim) -> (Vec<Event>, Vec<Mue>) {
        let schedule = legacy();
        let mut facts = fixtures::facts(&schedule, DecisionState::Undecided);
        facts.policy = Some(policy);
        facts.history = history;
        facts.benefits = benefits;
        let events = decide_claim(&facts, &Command::Adjudicate(claim.clone())).unwrap();
        let record = DecisionRecord::of(&facts, claim, "riverside");
        (events, record.policy.mue.map(|mue| mue.rows).unwrap_or_default())
    }

    fn decision_of(events: &[Event]) -> ClaimAdjudicated {
        match super::super::claim_event(events) {
            Some(Event::Adjudicated(decision)) => decision.clone(),
            other => panic!("not adjudicated: {other:?}"),
        }
    }

    fn appeal_facts(decision: &ClaimAdjudicated, action: &str, lines: Vec<u32>) -> AppealFacts {
        let appeal_id = Uuid::from_u128(42);
        AppealFacts {
            appeal: ClaimAppealed {
                appeal_id,
                claim_id: decision.claim_id,
                payer_id: decision.payer_id.clone(),
                appellant: "riverside".into(),
                reason: "the records justify the seventh unit".into(),
                lines,
            },
            review: ClaimReviewed {
                claim_id: decision.claim_id,
                payer_id: decision.payer_id.clone(),
                reviewer: "Demo Health Plan".into(),
                action: action.into(),
                reason: "records reviewed".into(),
                carc: None,
                lines: vec![],
            },
            decision: decision.clone(),
        }
    }

    /// A claim of J1100 (paid) and G0422 × 3, over G0422's MUE with the earlier claim's 4 units.
    /// G0422 is a repeat session of the day (76): not a duplicate of the earlier one, but its units count with it.
    fn two_lines() -> SubmittedClaim {
        let mut claim = fixtures::claim(Frequency::Original, None, &[("J1100", "300.00", 1), ("G0422", "150.00", 3)]);
        claim.lines[1].modifiers = vec!["76".parse().unwrap()];
        claim
    }

    #[test]
    fn an_mai_3_denial_may_be_appealed_and_an_overturn_pays_it_after_reversing_the_decision() {
        let claim = two_lines();
        let policy = policy(MueIndicator::DateOfServiceClinical);
        let history = vec![earlier("G0422", "4", "200.00")];
        let (events, rows) = decided(&policy, history.clone(), BenefitFacts::default(), &claim);
        let decision = decision_of(&events);
        assert_eq!((decision.total_paid, decision.lines[1].adjustments[0].reason.clone()), (money("300.00"), Carc::UNITS_NOT_SUPPORTED));
        // Given the decision, when the provider appeals every edited line, then line 2 is reopened.
        assert_eq!(appealable_lines(&decision, &rows, &[]), Ok(vec![2]));
        assert_eq!(line_appeal(&decision.lines[1], &rows), LineAppeal::Reopens { indicator: 3 });
        // Given the overturn, when the claim is decided again, then the decision is reversed, line 2 paid, the outcome last.
        let schedule = legacy();
        let mut given = fixtures::facts(&schedule, DecisionState::Undecided);
        given.policy = Some(&policy);
        given.history = history;
        given.appeal = Some(appeal_facts(&decision, OVERTURN, vec![2]));
        check(given, Command::Adjudicate(claim.clone()), |then| {
            let events = then.unwrap();
            let [Event::Reversed(reversal), Event::Adjudicated(again), Event::AppealDecided(outcome)] = events.as_slice() else { panic!("{events:?}") };
            assert_eq!((reversal.claim_id, reversal.by_claim_id, reversal.total_paid), (claim.claim_id, claim.claim_id, money("-300.00")));
            assert_eq!(reversal.lines[0].steps[0].rule, "appeal-overturned");
            assert_eq!((again.total_paid, again.outcome), (money("450.00"), Outcome::Paid));
            assert!(again.lines[1].adjustments.is_empty(), "{:?}", again.lines[1].adjustments);
            let lifted = &again.lines[1].steps[0];
            assert_eq!((lifted.kind, lifted.rule.as_str()), (StepKind::Review, "appeal-overturned"));
            assert!(lifted.detail.contains("indicator 3") && lifted.detail.contains("Demo Health Plan"), "{}", lifted.detail);
            assert_eq!(
                (outcome.outcome.as_str(), outcome.paid_before, outcome.paid_after, outcome.appeal_id),
                (OVERTURNED, money("300.00"), money("450.00"), Uuid::from_u128(42))
            );
        });
    }

    #[test]
    fn an_mai_1_denial_may_be_appealed() {
        let claim = fixtures::claim(Frequency::Original, None, &[("G0422", "450.00", 9)]);
        let (events, rows) = decided(&policy(MueIndicator::Line), vec![], BenefitFacts::default(), &claim);
        let decision = decision_of(&events);
        assert_eq!(decision.outcome, Outcome::Denied);
        assert_eq!(appealable_lines(&decision, &rows, &[1]), Ok(vec![1]));
    }

    #[test]
    fn an_mai_2_denial_is_never_appealed_and_the_refusal_names_the_line_and_the_reason() {
        let claim = two_lines();
        let (events, rows) = decided(&policy(MueIndicator::DateOfServicePolicy), vec![earlier("G0422", "4", "200.00")], BenefitFacts::default(), &claim);
        let decision = decision_of(&events);
        let faults = appealable_lines(&decision, &rows, &[2]).unwrap_err();
        assert_eq!(faults.len(), 1, "{faults:?}");
        assert_eq!(faults[0].0, "lines[0]");
        assert!(faults[0].1.contains("line 2 (G0422)") && faults[0].1.contains("indicator 2"), "{}", faults[0].1);
        // Appealing every edited line names the same line.
        assert!(appealable_lines(&decision, &rows, &[]).unwrap_err()[0].1.contains("indicator 2"));
    }

    #[test]
    fn an_exact_duplicate_co_18_cannot_be_appealed() {
        let claim = fixtures::claim(Frequency::Original, None, &[("99213", "180.00", 1)]);
        let (events, rows) = decided(&policy(MueIndicator::Line), vec![earlier("99213", "1", "180.00")], BenefitFacts::default(), &claim);
        let decision = decision_of(&events);
        assert_eq!(decision.lines[0].adjustments[0].reason, Carc::DUPLICATE);
        let faults = appealable_lines(&decision, &rows, &[]).unwrap_err();
        assert!(faults[0].1.contains("line 1 (99213)") && faults[0].1.contains("CO-18"), "{faults:?}");
    }

    #[test]
    fn a_line_no_mue_denied_is_not_appealed_and_a_claim_without_edits_has_nothing_to_appeal() {
        let claim = two_lines();
        let (events, rows) = decided(&policy(MueIndicator::DateOfServiceClinical), vec![earlier("G0422", "4", "200.00")], BenefitFacts::default(), &claim);
        let decision = decision_of(&events);
        let faults = appealable_lines(&decision, &rows, &[1, 3, 2, 2]).unwrap_err();
        let paths: Vec<&str> = faults.iter().map(|(path, _)| path.as_str()).collect();
        assert_eq!(paths, ["lines[0]", "lines[1]", "lines[3]"], "{faults:?}");
        assert!(faults[0].1.contains("not denied or reduced by an MUE"));
        let paid = fixtures::claim(Frequency::Original, None, &[("J1100", "300.00", 1)]);
        let (events, rows) = decided(&policy(MueIndicator::Line), vec![], BenefitFacts::default(), &paid);
        assert!(appealable_lines(&decision_of(&events), &rows, &[]).unwrap_err()[0].1.contains("nothing to appeal"));
    }

    #[test]
    fn an_upheld_appeal_changes_nothing_but_its_outcome() {
        let claim = two_lines();
        let policy = policy(MueIndicator::DateOfServiceClinical);
        let (events, _) = decided(&policy, vec![earlier("G0422", "4", "200.00")], BenefitFacts::default(), &claim);
        let decision = decision_of(&events);
        let schedule = legacy();
        let mut given = fixtures::facts(&schedule, DecisionState::Undecided);
        given.policy = Some(&policy);
        given.appeal = Some(appeal_facts(&decision, UPHOLD, vec![2]));
        check(given, Command::Adjudicate(claim), |then| {
            let events = then.unwrap();
            let [Event::AppealDecided(outcome)] = events.as_slice() else { panic!("{events:?}") };
            assert_eq!((outcome.outcome.as_str(), outcome.paid_before, outcome.paid_after), (UPHELD, money("300.00"), money("300.00")));
            assert!(super::super::claim_event(&events).is_none(), "nothing for the record to store");
        });
    }

    #[test]
    fn an_overturn_reverses_the_decision_s_accumulator_entries_and_applies_the_claim_s_next_version() {
        let claim = two_lines();
        let policy = policy(MueIndicator::DateOfServiceClinical);
        let history = vec![earlier("G0422", "4", "200.00")];
        let with_plan = BenefitFacts { plan: Some(plan()), ..BenefitFacts::default() };
        let (events, _) = decided(&policy, history.clone(), with_plan.clone(), &claim);
        let [Event::Accumulators(applied), Event::Adjudicated(decision)] = events.as_slice() else { panic!("{events:?}") };
        // 300 allowed: the 250 deductible, 20% of 50: the member owes 260, the plan pays 40.
        assert_eq!((decision.total_paid, decision.total_patient_responsibility), (money("40.00"), money("260.00")));
        let entries: Vec<AccumulatorEntry> = applied
            .entries
            .iter()
            .map(|entry| AccumulatorEntry {
                member_id: MemberId::parse(&entry.member_id).unwrap(),
                plan_year: entry.plan_year,
                bucket: Bucket::parse(&entry.bucket).unwrap(),
                amount: entry.amount,
            })
            .collect();
        let benefits = BenefitFacts {
            position: entries.clone(),
            original_applied: Some(AccumulatorsApplied { claim: ClaimVersion { claim_id: claim.claim_id.into(), version: 1 }, entries }),
            ..with_plan
        };
        let schedule = legacy();
        let mut given = fixtures::facts(&schedule, DecisionState::Undecided);
        given.policy = Some(&policy);
        given.history = history;
        given.benefits = benefits;
        given.appeal = Some(appeal_facts(decision, OVERTURN, vec![2]));
        let record = DecisionRecord::of(&given, &claim, "riverside");
        check(given, Command::Adjudicate(claim.clone()), |then| {
            let events = then.unwrap();
            let [Event::Accumulators(reversed), Event::Reversed(_), Event::Accumulators(reapplied), Event::Adjudicated(again), Event::AppealDecided(outcome)] =
                events.as_slice()
            else {
                panic!("{events:?}")
            };
            assert_eq!((reversed.change.as_str(), reversed.claim_version), ("reversed", Some(1)));
            assert_eq!(reversed.entries.iter().map(|entry| entry.amount).collect::<Vec<_>>(), vec![money("-250.00"), money("-260.00")]);
            assert_eq!((reapplied.change.as_str(), reapplied.claim_version), ("applied", Some(2)));
            // The deductible met again by line 1; line 2's 150 allowed: 20% coinsurance 30, paid 120.
            assert_eq!(reapplied.entries.iter().map(|entry| entry.amount).collect::<Vec<_>>(), vec![money("250.00"), money("290.00")]);
            assert_eq!((again.total_paid, again.total_patient_responsibility), (money("160.00"), money("290.00")));
            assert_eq!((outcome.paid_before, outcome.paid_after), (money("40.00"), money("160.00")));
            // The record of the overturn replays to the byte.
            let bytes = claimtrail_events::canonical::to_canonical_vec(&record).unwrap();
            let read: DecisionRecord = serde_json::from_slice(&bytes).unwrap();
            let replayed = read.replay().unwrap();
            assert_eq!(
                super::super::claim_event(&replayed).unwrap().canonical_payload().unwrap(),
                super::super::claim_event(&events).unwrap().canonical_payload().unwrap()
            );
        });
    }

    #[test]
    fn a_review_of_an_appeal_overturns_or_upholds_with_a_reason_and_nothing_else() {
        assert_eq!(review_action("approve", None, 0), Ok(OVERTURN));
        assert_eq!(review_action("overturn", None, 0), Ok(OVERTURN));
        assert_eq!(review_action("deny", None, 0), Ok(UPHOLD));
        let faults = review_action("adjust", Some("50"), 1).unwrap_err();
        let paths: Vec<&str> = faults.iter().map(|(path, _)| path.as_str()).collect();
        assert_eq!(paths, ["action", "carc", "lines"]);
        assert!(reason_fault(" ").is_some() && reason_fault(&"x".repeat(REASON_CHARS_MAX + 1)).is_some() && reason_fault("records").is_none());
    }
}
