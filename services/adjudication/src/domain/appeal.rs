//! Appeals (issue 17): a provider's appeal reopens a decision
//! (`POST /v1/claims/{id}/appeals`, `claim.appealed.v1`), the appeal waits in
//! the payer's pended queue (reason `appeal`), and a review upholds or
//! overturns it (`claim.reviewed.v1` with action `uphold` or `overturn`).
//!
//! What may be appealed ([`appealable_lines`]), line by line, read from the
//! decision and the policy rows its record kept (docs/appeals.md has the
//! table and the reasons). A line reopens when the edit that denied or
//! reduced it is one records can answer ([`REOPENED_EDITS`]):
//! - an MUE with indicator 1 (per line) or 3 (per date of service,
//!   clinical): records may justify the units (CO-151);
//! - an NCCI procedure-to-procedure edit whose modifier indicator is 1:
//!   records may show a distinct service (CO-97);
//! - a missing prior authorization: the authorization obtained (CO-197);
//! - timely filing: proof the claim was filed in time (CO-29);
//! - a provider not enrolled on the date of service: proof of enrollment
//!   (CO-B7 of the registry edit).
//!
//! Never: an MUE with indicator 2 (policy, absolute), an NCCI pair with
//! modifier indicator 0, an exact duplicate (CO-18), a provider on the
//! exclusion list (CO-B7 of the exclusion edit: no appeal pays an excluded
//! provider), and the member's coverage or date of death (CO-26/27/13:
//! the registry is corrected and retroactive reprocessing decides again);
//! nor a line a payer's rule or a reviewer denied.
//!
//! An overturn ([`decide`]) decides the claim again on the facts its
//! decision recorded, with the edit that denied each appealed line lifted
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
use claimtrail_policy::{CodeKey, ModifierIndicator, Mue, MueIndicator, PtpEdit};
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

/// The edits (their step rule) an appeal may lift, each with what answers it.
pub const REOPENED_EDITS: [(&str, &str); 5] = [
    ("mue", "records that justify the units (MUE indicator 1 or 3)"),
    ("ncci-ptp", "records of a distinct service (NCCI modifier indicator 1)"),
    ("prior-authorization", "the authorization obtained"),
    ("timely-filing", "proof of timely filing"),
    ("provider-not-enrolled", "proof of the provider's enrollment on the date of service"),
];

impl AppealFacts {
    /// Whether the overturn lifts `edit` (a step rule of [`REOPENED_EDITS`])
    /// on line `sequence`: an appealed line that edit denied or reduced in the decision appealed.
    pub fn lifts_edit(&self, sequence: u32, edit: &str) -> bool {
        self.review.action == OVERTURN
            && self.appeal.lines.contains(&sequence)
            && REOPENED_EDITS.iter().any(|(reopened, _)| *reopened == edit)
            && self
                .decision
                .lines
                .iter()
                .any(|line| line.sequence == sequence && line.steps.iter().any(|step| step.kind == StepKind::Edit && step.rule == edit))
    }

    /// Whether the overturn lifts `finding` (see [`AppealFacts::lifts_edit`]).
    pub fn lifts(&self, finding: &claimtrail_policy::Finding) -> bool {
        self.lifts_edit(finding.sequence, finding.edit.as_str())
    }

    /// The step of a line whose `lifted` denial (its explanation) the overturn lifts; the line is priced in full.
    pub fn lifted_step(&self, charge: claimtrail_events::Money, lifted: &str) -> claimtrail_events::DecisionStep {
        claimtrail_events::DecisionStep {
            kind: StepKind::Review,
            rule: "appeal-overturned".into(),
            source: Some(format!("appeal:{}", self.appeal.appeal_id)),
            adjustment: None,
            before: charge,
            after: charge,
            detail: format!("appeal {} overturned by {} ({}): lifted \"{lifted}\"", self.appeal.appeal_id, self.review.reviewer, self.review.reason.trim()),
        }
    }
}

/// Why one line may or may not be appealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineAppeal {
    /// Denied or reduced by `edit`, one of [`REOPENED_EDITS`].
    Reopens { edit: &'static str },
    /// Not appealable, in a sentence naming the line and why.
    Refused(String),
}

/// The policy rows a decision's record kept that decide whether its lines may be appealed.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppealRows<'a> {
    pub mue: &'a [Mue],
    pub ncci: &'a [PtpEdit],
}

/// Whether `line` of a decision may be appealed, given the policy rows the decision read.
pub fn line_appeal(line: &LineDecision, rows: AppealRows<'_>) -> LineAppeal {
    let code = &line.procedure_code;
    let seq = line.sequence;
    let duplicate = line.adjustments.iter().any(|adjustment| adjustment.reason == Carc::DUPLICATE)
        || line.steps.iter().any(|step| step.kind == StepKind::Edit && step.rule == "duplicate");
    if duplicate {
        return LineAppeal::Refused(format!(
            "line {seq} ({code}) was denied CO-18 as an exact duplicate of an earlier claim: an exact duplicate cannot be appealed"
        ));
    }
    let edited = |rule: &str| line.steps.iter().any(|step| step.kind == StepKind::Edit && step.rule == rule);
    let key = CodeKey::of(code);
    if edited("mue") {
        return match rows.mue.iter().find(|row| row.code == key).map(|row| row.indicator) {
            Some(MueIndicator::DateOfServicePolicy) => LineAppeal::Refused(format!(
                "line {seq} ({code}) was denied CO-151 by an MUE with indicator 2 (date of service, policy): indicator 2 is absolute and no appeal overrides it"
            )),
            Some(_) => LineAppeal::Reopens { edit: "mue" },
            None => LineAppeal::Refused(format!("line {seq} ({code}): the MUE row that denied it is not in the decision's record")),
        };
    }
    if edited("ncci-ptp") {
        let pairs: Vec<&PtpEdit> = rows.ncci.iter().filter(|row| row.column_two == key).collect();
        return if pairs.is_empty() {
            LineAppeal::Refused(format!("line {seq} ({code}): the NCCI pair that denied it is not in the decision's record"))
        } else if pairs.iter().any(|row| row.modifier_indicator == ModifierIndicator::NotAllowed) {
            LineAppeal::Refused(format!(
                "line {seq} ({code}) was denied CO-97 by an NCCI pair with modifier indicator 0: the two codes are never paid together, and no appeal overrides it"
            ))
        } else {
            LineAppeal::Reopens { edit: "ncci-ptp" }
        };
    }
    if let Some((edit, _)) = REOPENED_EDITS.iter().find(|(edit, _)| edited(edit)) {
        return LineAppeal::Reopens { edit };
    }
    let what: Vec<&str> = REOPENED_EDITS.iter().map(|(_, what)| *what).collect();
    let cause = line.steps.iter().find(|step| step.kind == StepKind::Edit).map(|step| step.rule.clone());
    LineAppeal::Refused(match cause {
        Some(rule) => format!(
            "line {seq} ({code}) was denied by the `{rule}` edit, which no appeal reopens: an appeal brings {}; \
             coverage and date of death are corrected in the registry (retroactive reprocessing), the rest by a replacement claim",
            what.join(", ")
        ),
        None => format!(
            "line {seq} ({code}) was not denied or reduced by an edit an appeal reopens (a payer's rule or a reviewer decided it, or it was paid): \
             a replacement claim corrects it"
        ),
    })
}

/// The lines an appeal of `decision` reopens: the ones `requested` names
/// (empty: every line an edit denied or reduced), each checked; or every
/// fault as (path, reason).
pub fn appealable_lines(decision: &ClaimAdjudicated, rows: AppealRows<'_>, requested: &[u32]) -> Result<Vec<u32>, Vec<(String, String)>> {
    let mut faults = Vec::new();
    let mut lines = Vec::new();
    if requested.is_empty() {
        let edited = decision.lines.iter().filter(|line| line.steps.iter().any(|step| step.kind == StepKind::Edit));
        for line in edited {
            match line_appeal(line, rows) {
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
            Some(line) => match line_appeal(line, rows) {
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

    use claimtrail_benefits::Plan;
    use claimtrail_events::{Frequency, Money, Outcome};
    use claimtrail_policy::{Fee, FeeSchedule as PolicyFees, MueTable, NcciTable, Setting};
    use time::macros::date;
    use uuid::Uuid;

    use super::*;
    use crate::domain::fixtures::{self, check};
    use crate::domain::{
        BenefitFacts, Command, DecisionRecord, DecisionState, Facts, FeeSchedule, HistoryFact, HistoryStatus, PlanInForce, PolicyInForce, TableInForce,
        decide as decide_claim,
    };

    fn mue_only(mue: &[Mue]) -> AppealRows<'_> {
        AppealRows { mue, ncci: &[] }
    }

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
        assert_eq!(appealable_lines(&decision, mue_only(&rows), &[]), Ok(vec![2]));
        assert_eq!(line_appeal(&decision.lines[1], mue_only(&rows)), LineAppeal::Reopens { edit: "mue" });
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
        assert_eq!(appealable_lines(&decision, mue_only(&rows), &[1]), Ok(vec![1]));
    }

    #[test]
    fn an_mai_2_denial_is_never_appealed_and_the_refusal_names_the_line_and_the_reason() {
        let claim = two_lines();
        let (events, rows) = decided(&policy(MueIndicator::DateOfServicePolicy), vec![earlier("G0422", "4", "200.00")], BenefitFacts::default(), &claim);
        let decision = decision_of(&events);
        let faults = appealable_lines(&decision, mue_only(&rows), &[2]).unwrap_err();
        assert_eq!(faults.len(), 1, "{faults:?}");
        assert_eq!(faults[0].0, "lines[0]");
        assert!(faults[0].1.contains("line 2 (G0422)") && faults[0].1.contains("indicator 2"), "{}", faults[0].1);
        // Appealing every edited line names the same line.
        assert!(appealable_lines(&decision, mue_only(&rows), &[]).unwrap_err()[0].1.contains("indicator 2"));
    }

    #[test]
    fn an_exact_duplicate_co_18_cannot_be_appealed() {
        let claim = fixtures::claim(Frequency::Original, None, &[("99213", "180.00", 1)]);
        let (events, rows) = decided(&policy(MueIndicator::Line), vec![earlier("99213", "1", "180.00")], BenefitFacts::default(), &claim);
        let decision = decision_of(&events);
        assert_eq!(decision.lines[0].adjustments[0].reason, Carc::DUPLICATE);
        let faults = appealable_lines(&decision, mue_only(&rows), &[]).unwrap_err();
        assert!(faults[0].1.contains("line 1 (99213)") && faults[0].1.contains("CO-18"), "{faults:?}");
    }

    #[test]
    fn a_line_no_mue_denied_is_not_appealed_and_a_claim_without_edits_has_nothing_to_appeal() {
        let claim = two_lines();
        let (events, rows) = decided(&policy(MueIndicator::DateOfServiceClinical), vec![earlier("G0422", "4", "200.00")], BenefitFacts::default(), &claim);
        let decision = decision_of(&events);
        let faults = appealable_lines(&decision, mue_only(&rows), &[1, 3, 2, 2]).unwrap_err();
        let paths: Vec<&str> = faults.iter().map(|(path, _)| path.as_str()).collect();
        assert_eq!(paths, ["lines[0]", "lines[1]", "lines[3]"], "{faults:?}");
        assert!(faults[0].1.contains("not denied or reduced by an edit an appeal reopens"), "{}", faults[0].1);
        let paid = fixtures::claim(Frequency::Original, None, &[("J1100", "300.00", 1)]);
        let (events, rows) = decided(&policy(MueIndicator::Line), vec![], BenefitFacts::default(), &paid);
        assert!(appealable_lines(&decision_of(&events), mue_only(&rows), &[]).unwrap_err()[0].1.contains("nothing to appeal"));
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
        let [Event::Accumulators(_), Event::Adjudicated(decision)] = events.as_slice() else { panic!("{events:?}") };
        // 300 allowed: the 250 deductible, 20% of 50: the member owes 260, the plan pays 40.
        assert_eq!((decision.total_paid, decision.total_patient_responsibility), (money("40.00"), money("260.00")));
        let applied = crate::domain::ripple::applied_of(&events).unwrap().expect("entries applied");
        let benefits = BenefitFacts { position: applied.entries.clone(), original_applied: Some(applied), ..with_plan };
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

    /// J1100 (300.00) and 99213 (120.00) under an NCCI pair J1100/99213 with `indicator`.
    fn ncci_policy(indicator: ModifierIndicator) -> PolicyInForce {
        let pair = PtpEdit {
            column_one: CodeKey::of("J1100"),
            column_two: CodeKey::of("99213"),
            prior_1996: false,
            effective: date!(2026 - 01 - 01),
            deletion: None,
            modifier_indicator: indicator,
        };
        PolicyInForce { ncci: Some(TableInForce::new("e".repeat(64), NcciTable::from_edits(Setting::Practitioner, vec![pair]))), ..policy(MueIndicator::Line) }
    }

    /// The decision, the lines an appeal of every edited line reopens (or the faults), the overturn's events.
    type Appealed = (ClaimAdjudicated, Result<Vec<u32>, Vec<(String, String)>>, Option<Vec<Event>>);

    /// `claim` decided under `policy` and the fixture's facts as `change` leaves them; then every edited line
    /// appealed and, when that may be, overturned: (the decision, the lines the appeal reopens, the overturn's events).
    fn appealed(policy: &PolicyInForce, claim: &SubmittedClaim, change: impl Fn(&mut Facts<'_>)) -> Appealed {
        let schedule = legacy();
        let mut facts = fixtures::facts(&schedule, DecisionState::Undecided);
        facts.policy = Some(policy);
        change(&mut facts);
        let decision = decision_of(&decide_claim(&facts, &Command::Adjudicate(claim.clone())).unwrap());
        let record = DecisionRecord::of(&facts, claim, "riverside");
        let mue = record.policy.mue.map(|mue| mue.rows).unwrap_or_default();
        let ncci = record.policy.ncci.map(|ncci| ncci.rows).unwrap_or_default();
        let lines = appealable_lines(&decision, AppealRows { mue: &mue, ncci: &ncci }, &[]);
        let overturned = lines.clone().ok().map(|lines| {
            facts.appeal = Some(appeal_facts(&decision, OVERTURN, lines));
            decide_claim(&facts, &Command::Adjudicate(claim.clone())).unwrap()
        });
        (decision, lines, overturned)
    }

    /// The overturn's corrected decision: (paid, the lifted line's first step rule and detail).
    fn corrected(events: &[Event], sequence: u32) -> (Money, String, String) {
        let [Event::Reversed(_), Event::Adjudicated(again), Event::AppealDecided(_)] = events else { panic!("{events:?}") };
        let line = again.lines.iter().find(|line| line.sequence == sequence).unwrap();
        (again.total_paid, line.steps[0].rule.clone(), line.steps[0].detail.clone())
    }

    #[test]
    fn a_timely_filing_denial_co_29_is_appealed_with_proof_and_an_overturn_pays_the_line() {
        let claim = fixtures::claim(Frequency::Original, None, &[("J1100", "300.00", 1)]);
        // Served 2026-11-01, received 2026-11-05, with 3 days to file: late.
        let (decision, lines, overturned) = appealed(&policy(MueIndicator::Line), &claim, |facts| {
            facts.registry.payer.as_mut().unwrap().timely_filing_days = 3;
        });
        assert_eq!((decision.outcome, decision.lines[0].adjustments[0].reason.clone()), (Outcome::Denied, Carc::TIMELY_FILING));
        assert_eq!(lines, Ok(vec![1]));
        let (paid, rule, detail) = corrected(&overturned.unwrap(), 1);
        assert_eq!((paid, rule.as_str()), (money("300.00"), "appeal-overturned"));
        assert!(detail.contains("lifted") && detail.contains("within 3 days: CO-29"), "{detail}");
    }

    #[test]
    fn a_provider_not_enrolled_co_b7_is_appealed_but_the_next_edit_still_applies() {
        let claim = fixtures::claim(Frequency::Original, None, &[("J1100", "300.00", 1)]);
        let not_enrolled = |facts: &mut Facts<'_>| facts.registry.provider.as_mut().unwrap().enrollment_start = date!(2026 - 11 - 02);
        let (decision, lines, overturned) = appealed(&policy(MueIndicator::Line), &claim, not_enrolled);
        assert_eq!(decision.lines[0].adjustments[0].reason, Carc::PROVIDER_NOT_ELIGIBLE);
        assert_eq!(lines, Ok(vec![1]));
        assert_eq!(corrected(&overturned.unwrap(), 1).0, money("300.00"));
        // Lifting enrollment lifts nothing else: late as well, the line is denied CO-29 again (the appeal named enrollment only).
        let (decision, _, overturned) = appealed(&policy(MueIndicator::Line), &claim, |facts| {
            not_enrolled(facts);
            facts.registry.payer.as_mut().unwrap().timely_filing_days = 3;
        });
        assert_eq!(decision.lines[0].adjustments[0].reason, Carc::TIMELY_FILING, "timely filing comes first in table order");
        let events = overturned.unwrap();
        let [Event::Reversed(_), Event::Adjudicated(again), Event::AppealDecided(_)] = events.as_slice() else { panic!("{events:?}") };
        assert_eq!(
            (again.lines[0].adjustments[0].reason.clone(), again.lines[0].steps[0].rule.as_str()),
            (Carc::PROVIDER_NOT_ELIGIBLE, "provider-not-enrolled")
        );
    }

    #[test]
    fn an_ncci_denial_co_97_is_appealed_when_its_modifier_indicator_is_1_and_never_when_0() {
        let claim = fixtures::claim(Frequency::Original, None, &[("J1100", "300.00", 1), ("99213", "120.00", 1)]);
        let (decision, lines, overturned) = appealed(&ncci_policy(ModifierIndicator::Allowed), &claim, |_| {});
        assert_eq!((decision.total_paid, decision.lines[1].adjustments[0].reason.clone()), (money("300.00"), Carc::BUNDLED));
        assert_eq!(lines, Ok(vec![2]));
        let (paid, rule, _) = corrected(&overturned.unwrap(), 2);
        assert_eq!((paid, rule.as_str()), (money("420.00"), "appeal-overturned"));
        let (_, lines, overturned) = appealed(&ncci_policy(ModifierIndicator::NotAllowed), &claim, |_| {});
        let faults = lines.unwrap_err();
        assert!(faults[0].1.contains("line 2 (99213)") && faults[0].1.contains("modifier indicator 0"), "{faults:?}");
        assert!(overturned.is_none());
    }

    #[test]
    fn a_missing_authorization_co_197_reopens_and_coverage_death_and_exclusion_denials_do_not() {
        let line = fixtures::claim(Frequency::Original, None, &[("J1100", "300.00", 1)]).lines.remove(0);
        let denied_by = |edit: &'static str, carc: Carc| {
            pricing::denied_line(
                &line,
                &super::super::edits::Denial { edit, carc, remarks: vec![], source: "test".into(), detail: format!("denied by {edit}") },
            )
        };
        let rows = AppealRows::default();
        assert_eq!(line_appeal(&denied_by("prior-authorization", Carc::AUTHORIZATION_ABSENT), rows), LineAppeal::Reopens { edit: "prior-authorization" });
        for (edit, carc) in [("coverage-ended", Carc::AFTER_COVERAGE), ("after-date-of-death", Carc::DATE_OF_DEATH), ("exclusion", Carc::PROVIDER_NOT_ELIGIBLE)]
        {
            let LineAppeal::Refused(reason) = line_appeal(&denied_by(edit, carc), rows) else { panic!("{edit} reopened") };
            assert!(reason.contains(&format!("`{edit}` edit, which no appeal reopens")) && reason.contains("line 1 (J1100)"), "{reason}");
        }
        // An overturn lifts only what denied the appealed line in the decision appealed.
        let claim = fixtures::claim(Frequency::Original, None, &[("J1100", "300.00", 1)]);
        let decision = ClaimAdjudicated {
            lines: vec![denied_by("timely-filing", Carc::TIMELY_FILING)],
            ..decision_of(&decided(&policy(MueIndicator::Line), vec![], BenefitFacts::default(), &claim).0)
        };
        let facts = appeal_facts(&decision, OVERTURN, vec![1]);
        assert!(facts.lifts_edit(1, "timely-filing"));
        assert!(!facts.lifts_edit(1, "provider-not-enrolled") && !facts.lifts_edit(2, "timely-filing"));
        assert!(!appeal_facts(&decision, UPHOLD, vec![1]).lifts_edit(1, "timely-filing"));
    }
}
