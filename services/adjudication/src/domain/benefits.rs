//! The benefit step (issue 17): after pricing and the payer's rules, the
//! member's plan decides what the member owes (libs/benefits: copay PR-3,
//! deductible PR-1, coinsurance PR-2, the out-of-pocket cap) against the
//! accumulators of the member and the family, and the accumulators change
//! by exactly what the claim applied.
//!
//! [`apply`] runs on the events [`super::decide`] produced:
//! - a reversal (replacement or void) of a claim whose cost sharing still
//!   stands first reverses exactly those accumulator entries
//!   (`accumulators.changed.v1`, `reversed`);
//! - a decision under a plan gets PR adjustments, paid amount, patient
//!   responsibility and benefit steps per line, the outcome rule (denied
//!   only when every line was denied by an edit or rule; zero paid because
//!   of cost sharing is paid), and its entries are applied
//!   (`accumulators.changed.v1`, `applied`), emitted before the decision.
//!
//! The plan and the accumulator position read are facts ([`BenefitFacts`]),
//! recorded with the decision, so a replay decides on the same numbers.
//! Network tier ([`network_tier`]): with a contract table in force, the
//! billing provider is in the payer's network (`inn` buckets and terms) when
//! a row of its own binds it on the claim's first date of service, and out
//! of network (`oon`) otherwise; a payer that uploaded no contracts has
//! every enrolled provider in network.

use std::sync::Arc;

use claimtrail_benefits::{
    AccumulatorEntry, AccumulatorEvent, Accumulators, AccumulatorsApplied, BenefitClaim, BenefitError, BenefitLine, BenefitRule, Bucket, BucketKind,
    ClaimVersion, CobMethod, CompiledPlan, Level, Plan, Tier, claim_outcome, cob_line, cost_share, secondary_line,
};
use claimtrail_codes::{GroupCode, MemberId};
use claimtrail_events::{AccumulatorBalance, ClaimAdjudicated, Coordination, DecisionStep, LineDecision, Money, StepKind, SubmittedClaim};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Event;

/// The member's plan in force on the claim's first date of service.
#[derive(Debug, Clone)]
pub struct PlanInForce {
    pub plan_id: String,
    pub plan: Arc<CompiledPlan>,
}

impl PartialEq for PlanInForce {
    fn eq(&self, other: &PlanInForce) -> bool {
        self.plan_id == other.plan_id && self.plan.content_hash() == other.plan.content_hash()
    }
}

impl Eq for PlanInForce {}

/// A plan as a decision record holds it: its id, hash and the whole plan.
#[derive(Serialize, Deserialize)]
struct PlanRecord {
    plan_id: String,
    content_hash: String,
    plan: Plan,
}

impl Serialize for PlanInForce {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        PlanRecord { plan_id: self.plan_id.clone(), content_hash: self.plan.content_hash_hex(), plan: self.plan.plan().clone() }.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for PlanInForce {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<PlanInForce, D::Error> {
        let record = PlanRecord::deserialize(deserializer)?;
        let plan = record.plan.compile().map_err(serde::de::Error::custom)?;
        if plan.content_hash_hex() != record.content_hash {
            return Err(serde::de::Error::custom(format!("the recorded plan {} does not hash to {}", record.plan_id, record.content_hash)));
        }
        Ok(PlanInForce { plan_id: record.plan_id, plan: Arc::new(plan) })
    }
}

/// What the benefit step reads, recorded with the decision.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BenefitFacts {
    /// The member's plan (none uploaded: no cost sharing, as before plans existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanInForce>,
    /// The family's subscriber, when the registry enrolls more than one member under it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_id: Option<MemberId>,
    /// The totals of the member's and the family's buckets in the plan years concerned, as read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub position: Vec<AccumulatorEntry>,
    /// For a replacement or void: the entries its original applied, while they stand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_applied: Option<AccumulatorsApplied>,
}

impl BenefitFacts {
    pub fn is_empty(&self) -> bool {
        *self == BenefitFacts::default()
    }
}

/// The accumulator version of a claim decided once (a replacement is a
/// claim of its own): 1. A claim decided again after an overturned appeal
/// applies the version after the one it reverses.
pub fn claim_version(claim_id: Uuid) -> ClaimVersion {
    ClaimVersion { claim_id: claim_id.into(), version: 1 }
}

/// A line denied by an edit or a rule: nothing allowed of a non-zero charge.
fn denied(line: &LineDecision) -> bool {
    line.allowed.is_zero() && !line.charge.is_zero()
}

fn rule_name(rule: BenefitRule) -> &'static str {
    match rule {
        BenefitRule::Copay => "copay",
        BenefitRule::Deductible => "deductible",
        BenefitRule::Coinsurance => "coinsurance",
        BenefitRule::OopMaximum => "oop-maximum",
    }
}

/// The network tier of `claim` under the payer's `policy` (see the module doc).
pub fn network_tier(claim: &SubmittedClaim, policy: Option<&super::PolicyInForce>) -> Tier {
    match (policy.and_then(|policy| policy.contracts.as_ref()), super::policy_date(claim)) {
        (Some(contracts), Some(date)) if contracts.table.own_term(&claim.billing_npi, date).is_none() => Tier::Oon,
        _ => Tier::Inn,
    }
}

/// The benefit step on `events`, in network `tier` (see the module doc).
pub fn apply(claim: &SubmittedClaim, facts: &BenefitFacts, tier: Tier, events: Vec<Event>) -> Result<Vec<Event>, BenefitError> {
    let cob = claim.cob.as_ref().filter(|cob| cob.is_secondary_with_prior_adjudication());
    if facts.plan.is_none() && facts.original_applied.is_none() && cob.is_none() {
        return Ok(events);
    }
    let mut state = Accumulators::from_stored(&facts.position, facts.original_applied.as_slice());
    let payer_id = claim.payer_id.as_str();
    let mut out = Vec::with_capacity(events.len() + 2);
    for event in events {
        match event {
            Event::Reversed(reversal) => {
                if let Some(applied) = facts.original_applied.as_ref().filter(|applied| Uuid::from(applied.claim.claim_id) == reversal.claim_id) {
                    let reversed = AccumulatorEvent::Reversed(state.reverse(&applied.claim)?);
                    state.apply(&reversed);
                    out.push(Event::Accumulators(reversed.to_changed(payer_id)));
                }
                out.push(Event::Reversed(reversal));
            }
            Event::Adjudicated(decision) => {
                // A claim decided again (an overturned appeal) applies its next version.
                let version = facts
                    .original_applied
                    .as_ref()
                    .filter(|applied| Uuid::from(applied.claim.claim_id) == claim.claim_id)
                    .map_or(1, |applied| applied.claim.version + 1);
                let version = ClaimVersion { claim_id: claim.claim_id.into(), version };
                match (cob, &facts.plan) {
                    (Some(cob), plan) => {
                        let method = plan.as_ref().map_or_else(CobMethod::default, |plan| plan.plan.plan().cob_method);
                        // Standard and non-duplication read this plan's own benefit, and credit its
                        // deductible with what it would have credited as primary (docs/benefits.md).
                        let own = match plan.as_ref().filter(|_| method.reads_own_benefit()) {
                            Some(plan) => {
                                let (own, mut applied) = with_cost_share(claim, version, tier, plan, facts.family_id.clone(), &state, decision.clone())?;
                                applied.entries.retain(|entry| entry.bucket.kind() == BucketKind::Deductible);
                                out.extend(applied_event(claim, plan, tier, facts.family_id.as_ref(), &state, applied));
                                Some(own)
                            }
                            None => None,
                        };
                        out.push(Event::Adjudicated(as_secondary(claim, cob, method, own.as_ref(), decision)?));
                    }
                    (None, Some(plan)) => {
                        let (decision, applied) = with_cost_share(claim, version, tier, plan, facts.family_id.clone(), &state, decision)?;
                        out.extend(applied_event(claim, plan, tier, facts.family_id.as_ref(), &state, applied));
                        out.push(Event::Adjudicated(decision));
                    }
                    (None, None) => out.push(Event::Adjudicated(decision)),
                }
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

/// `applied` as `accumulators.changed.v1` with the balances after it, unless it applies nothing.
fn applied_event(
    claim: &SubmittedClaim,
    plan: &PlanInForce,
    tier: Tier,
    family_id: Option<&MemberId>,
    state: &Accumulators,
    applied: AccumulatorsApplied,
) -> Option<Event> {
    if applied.entries.is_empty() {
        return None;
    }
    let applied = AccumulatorEvent::Applied(applied);
    let mut changed = applied.to_changed(claim.payer_id.as_str());
    let mut after = state.clone();
    after.apply(&applied);
    changed.balances = balances(claim, plan, tier, family_id, &after);
    Some(Event::Accumulators(changed))
}

/// `decision` as a secondary (or tertiary) payer's: each line not denied by
/// an edit or rule pays what the plan's COB method gives after the earlier
/// payers (libs/benefits `cob`), with OA-23 for what they paid or wrote off;
/// under `lesser_of` the rest is CO-45 and the member owes nothing more,
/// under `standard` and `non_duplication` (which read `own`, the decision
/// with this plan's cost sharing, as its own benefit) the rest stays the
/// member's as PR (docs/benefits.md, "Coordination of benefits").
fn as_secondary(
    claim: &SubmittedClaim,
    cob: &Coordination,
    method: CobMethod,
    own: Option<&ClaimAdjudicated>,
    mut decision: ClaimAdjudicated,
) -> Result<ClaimAdjudicated, BenefitError> {
    let single_line = claim.lines.len() == 1;
    let earlier: Vec<String> = cob.prior_payers.iter().map(|payer| format!("{} ({})", payer.payer_id, payer.sequence.as_str())).collect();
    let source = format!("cob:{} after {}", cob.sequence.as_str(), earlier.join(", "));
    for line in &mut decision.lines {
        if denied(line) {
            continue;
        }
        let mut cob_line = cob_line(cob, line.sequence, line.charge, line.allowed, single_line)?;
        if let Some(own_line) = own.and_then(|own| own.lines.iter().find(|own_line| own_line.sequence == line.sequence)) {
            cob_line.secondary_benefit = own_line.paid;
        }
        let decided = secondary_line(method, &cob_line)?;
        line.steps.push(DecisionStep {
            kind: StepKind::Benefit,
            rule: format!("cob-{}", method.name().replace('_', "-")),
            source: Some(source.clone()),
            adjustment: decided.adjustments.iter().find(|adjustment| adjustment.group == GroupCode::Oa).cloned(),
            before: line.paid,
            after: decided.paid,
            detail: decided.explanation.join("; "),
        });
        line.explanation.extend(decided.explanation);
        line.patient_responsibility =
            Money::checked_sum(decided.adjustments.iter().filter(|adjustment| adjustment.group == GroupCode::Pr).map(|adjustment| &adjustment.amount))
                .ok_or(BenefitError::OutOfRange { sequence: line.sequence })?;
        line.adjustments = decided.adjustments;
        line.paid = decided.paid;
    }
    decision.total_paid = Money::checked_sum(decision.lines.iter().map(|line| &line.paid)).ok_or(BenefitError::OutOfRange { sequence: 0 })?;
    decision.total_patient_responsibility =
        Money::checked_sum(decision.lines.iter().map(|line| &line.patient_responsibility)).ok_or(BenefitError::OutOfRange { sequence: 0 })?;
    decision.outcome = claim_outcome(decision.lines.iter().map(denied));
    Ok(decision)
}

/// The member's (and family's) deductible and out-of-pocket buckets of
/// `tier` in the claim's plan year, as `after` holds them, each with the
/// plan's limit.
fn balances(claim: &SubmittedClaim, plan: &PlanInForce, tier: Tier, family_id: Option<&MemberId>, after: &Accumulators) -> Vec<AccumulatorBalance> {
    let Some(first_date) = super::policy_date(claim) else { return Vec::new() };
    let plan_year = plan.plan.plan_year(first_date);
    let limits = plan.plan.tier(tier);
    let mut holders = vec![(&claim.member_id, Level::Individual)];
    holders.extend(family_id.map(|family| (family, Level::Family)));
    let mut balances = Vec::with_capacity(4);
    for (holder, level) in holders {
        for (kind, limit) in [(BucketKind::Deductible, limits.deductible), (BucketKind::Oop, limits.oop_max)] {
            let bucket = Bucket::of(kind, tier, level);
            let limit = if level == Level::Individual { limit.individual } else { limit.family };
            balances.push(AccumulatorBalance {
                member_id: holder.to_string(),
                plan_year,
                bucket: bucket.name().to_owned(),
                limit,
                met: after.met(holder, plan_year, bucket),
            });
        }
    }
    balances
}

/// `decision` with the plan's cost sharing on each line, and the entries it applies.
fn with_cost_share(
    claim: &SubmittedClaim,
    version: ClaimVersion,
    tier: Tier,
    plan: &PlanInForce,
    family_id: Option<MemberId>,
    position: &Accumulators,
    mut decision: ClaimAdjudicated,
) -> Result<(ClaimAdjudicated, AccumulatorsApplied), BenefitError> {
    let first_date = super::policy_date(claim).ok_or(BenefitError::NoLines)?;
    let place_of =
        |sequence: u32| claim.lines.iter().find(|line| line.sequence == sequence).and_then(|line| line.place_of_service.as_deref().map(str::to_owned));
    let input = BenefitClaim {
        claim: version,
        member_id: claim.member_id.clone(),
        family_id,
        plan_year: plan.plan.plan_year(first_date),
        tier,
        lines: decision
            .lines
            .iter()
            .map(|line| BenefitLine {
                sequence: line.sequence,
                procedure_code: line.procedure_code.clone(),
                place_of_service: place_of(line.sequence),
                allowed: line.allowed,
                denied: denied(line),
            })
            .collect(),
    };
    let benefits = cost_share(&plan.plan, &input, position)?;
    let source = |category: &str| format!("plan:{}:{}#{category}", plan.plan_id, plan.plan.content_hash_hex());
    for (line, shared) in decision.lines.iter_mut().zip(&benefits.lines) {
        let sequence = line.sequence;
        let out_of_range = || BenefitError::OutOfRange { sequence };
        if shared.denied || shared.steps.is_empty() {
            continue;
        }
        line.paid = line.paid.checked_sub(shared.patient_share).filter(|paid| !paid.is_negative()).ok_or_else(out_of_range)?;
        line.patient_responsibility = line.patient_responsibility.checked_add(shared.patient_share).ok_or_else(out_of_range)?;
        line.adjustments.extend(shared.adjustments.iter().cloned());
        for step in &shared.steps {
            line.explanation.push(step.detail.clone());
            line.steps.push(DecisionStep {
                kind: StepKind::Benefit,
                rule: rule_name(step.rule).to_owned(),
                source: Some(source(&shared.category)),
                adjustment: step.adjustment.clone(),
                before: step.before,
                after: step.after,
                detail: step.detail.clone(),
            });
        }
        line.explanation.push(format!("member owes {}, paid {}", shared.patient_share, line.paid));
        // 835 balancing: charge − every CAS amount (CO and PR) = paid.
        let adjusted = Money::checked_sum(line.adjustments.iter().map(|adjustment| &adjustment.amount)).and_then(|sum| line.charge.checked_sub(sum));
        if adjusted != Some(line.paid) {
            return Err(out_of_range());
        }
    }
    let total_paid = Money::checked_sum(decision.lines.iter().map(|line| &line.paid));
    let total_patient_responsibility = Money::checked_sum(decision.lines.iter().map(|line| &line.patient_responsibility));
    decision.total_paid = total_paid.ok_or(BenefitError::OutOfRange { sequence: 0 })?;
    decision.total_patient_responsibility = total_patient_responsibility.ok_or(BenefitError::OutOfRange { sequence: 0 })?;
    decision.outcome = claim_outcome(decision.lines.iter().map(denied));
    Ok((decision, benefits.applied))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Command, DecisionRecord, DecisionState, FeeSchedule, decide, fixtures};
    use claimtrail_benefits::{AccumulatorEntry, Bucket};
    use claimtrail_codes::{Carc, GroupCode};
    use claimtrail_events::canonical::to_canonical_vec;
    use claimtrail_events::{Adjustment, Frequency, Outcome};

    fn money(text: &str) -> Money {
        Money::parse(text).unwrap()
    }

    fn schedule() -> FeeSchedule {
        FeeSchedule { content_hash: "cd".repeat(32), fees: [("99213", "120.00"), ("J1100", "250.00")].iter().map(|(c, a)| ((*c).into(), money(a))).collect() }
    }

    /// docs/benefits.md's plan: INN deductible 500/1,000, OOP 3,000/6,000,
    /// coinsurance 20%; office visits (99202-99215 at POS 11) copay 25, no deductible.
    fn plan() -> PlanInForce {
        let body = serde_json::json!({
            "name": "Copay PPO",
            "categories": ["medical", "office_visit"],
            "default_category": "medical",
            "category_map": [{"category": "office_visit", "codes": ["99202-99215"], "places_of_service": ["11"]}],
            "tiers": {
                "inn": {
                    "deductible": {"individual": "500.00", "family": "1000.00"},
                    "oop_max": {"individual": "3000.00", "family": "6000.00"},
                    "coinsurance_percent": "20",
                    "category_benefits": [{"category": "office_visit", "copay": "25.00", "skips_deductible": true, "coinsurance_percent": "0"}]
                },
                "oon": {"deductible": {"individual": "1000.00", "family": "2000.00"}, "oop_max": {"individual": "6000.00", "family": "12000.00"}, "coinsurance_percent": "40"}
            }
        });
        PlanInForce { plan_id: "PPO".into(), plan: Arc::new(Plan::from_json(body.to_string().as_bytes()).unwrap()) }
    }

    fn entry(bucket: Bucket, amount: &str) -> AccumulatorEntry {
        AccumulatorEntry { member_id: MemberId::parse("M1").unwrap(), plan_year: 2026, bucket, amount: money(amount) }
    }

    fn with_plan(position: Vec<AccumulatorEntry>) -> BenefitFacts {
        BenefitFacts { plan: Some(plan()), family_id: None, position, original_applied: None }
    }

    /// Given the fixture's facts with `benefits`, when `claim` is decided, then the events.
    fn check(benefits: BenefitFacts, original: DecisionState, claim: &SubmittedClaim) -> Vec<Event> {
        let schedule = schedule();
        let mut facts = fixtures::facts(&schedule, original);
        facts.benefits = benefits;
        decide(&facts, &Command::Adjudicate(claim.clone())).unwrap()
    }

    fn pr(reason: Carc, amount: &str) -> Adjustment {
        Adjustment { group: GroupCode::Pr, reason, amount: money(amount) }
    }

    fn applied_and_decision(events: &[Event]) -> (&claimtrail_events::AccumulatorsChanged, &ClaimAdjudicated) {
        let [Event::Accumulators(applied), Event::Adjudicated(decision)] = events else { panic!("{events:?}") };
        (applied, decision)
    }

    #[test]
    fn scenario_4_deductible_partly_met_then_coinsurance_on_the_decision_to_the_cent() {
        let claim = fixtures::claim(Frequency::Original, None, &[("J1100", "400.00", 1)]);
        let events = check(
            with_plan(vec![entry(Bucket::DeductibleInnIndividual, "350.00"), entry(Bucket::OopInnIndividual, "1000.00")]),
            DecisionState::Undecided,
            &claim,
        );
        let (applied, decision) = applied_and_decision(&events);
        let line = &decision.lines[0];
        assert_eq!(
            line.adjustments,
            vec![
                Adjustment { group: GroupCode::Co, reason: Carc::FEE_SCHEDULE, amount: money("150.00") },
                pr(Carc::DEDUCTIBLE, "150.00"),
                pr(Carc::COINSURANCE, "20.00")
            ]
        );
        assert_eq!((line.allowed, line.paid, line.patient_responsibility), (money("250.00"), money("80.00"), money("170.00")));
        assert_eq!((decision.total_paid, decision.total_patient_responsibility, decision.outcome), (money("80.00"), money("170.00"), Outcome::Paid));
        let benefit_steps: Vec<(&str, Money, Money)> =
            line.steps.iter().filter(|step| step.kind == StepKind::Benefit).map(|step| (step.rule.as_str(), step.before, step.after)).collect();
        assert_eq!(benefit_steps, vec![("deductible", money("250.00"), money("100.00")), ("coinsurance", money("100.00"), money("80.00"))]);
        assert!(line.steps.last().unwrap().source.as_deref().unwrap().starts_with("plan:PPO:"));
        let entries: Vec<(&str, Money)> = applied.entries.iter().map(|entry| (entry.bucket.as_str(), entry.amount)).collect();
        assert_eq!(applied.change, "applied");
        assert_eq!(entries, vec![("deductible_inn_individual", money("150.00")), ("oop_inn_individual", money("170.00"))]);
        // The position after the claim, beside the plan's limits: what the EOB's benefitBalance shows.
        let balances: Vec<(&str, Money, Money)> = applied.balances.iter().map(|balance| (balance.bucket.as_str(), balance.met, balance.limit)).collect();
        assert_eq!(balances, vec![("deductible_inn_individual", money("500.00"), money("500.00")), ("oop_inn_individual", money("1170.00"), money("3000.00"))]);
    }

    #[test]
    fn scenario_5_the_out_of_pocket_maximum_caps_the_member_s_share() {
        let claim = fixtures::claim(Frequency::Original, None, &[("J1100", "600.00", 2)]);
        let events = check(
            with_plan(vec![entry(Bucket::DeductibleInnIndividual, "500.00"), entry(Bucket::OopInnIndividual, "2990.00")]),
            DecisionState::Undecided,
            &claim,
        );
        let (_, decision) = applied_and_decision(&events);
        assert_eq!(decision.lines[0].adjustments[1..], [pr(Carc::COINSURANCE, "10.00")], "after CO-45 100.00");
        assert_eq!((decision.total_paid, decision.total_patient_responsibility), (money("490.00"), money("10.00")));
        let cap = decision.lines[0].steps.last().unwrap();
        assert_eq!((cap.rule.as_str(), cap.before, cap.after), ("oop-maximum", money("400.00"), money("490.00")));
    }

    #[test]
    fn an_office_visit_takes_its_copay_and_no_deductible() {
        let claim = fixtures::claim(Frequency::Original, None, &[("99213", "180.00", 1)]);
        let events = check(with_plan(vec![]), DecisionState::Undecided, &claim);
        let (_, decision) = applied_and_decision(&events);
        assert_eq!(decision.lines[0].adjustments[1..], [pr(Carc::COPAYMENT, "25.00")]);
        assert_eq!(decision.total_paid, money("95.00"));
    }

    #[test]
    fn zero_paid_because_of_the_deductible_is_paid_and_a_denied_line_makes_it_partially_paid() {
        let all_deductible = fixtures::claim(Frequency::Original, None, &[("J1100", "250.00", 1)]);
        let events = check(with_plan(vec![]), DecisionState::Undecided, &all_deductible);
        let (_, decision) = applied_and_decision(&events);
        assert_eq!((decision.total_paid, decision.outcome), (Money::ZERO, Outcome::Paid));
        // 99999 is on no schedule: nothing allowed, the line is denied.
        let one_denied = fixtures::claim(Frequency::Original, None, &[("J1100", "250.00", 1), ("99999", "40.00", 1)]);
        let events = check(with_plan(vec![]), DecisionState::Undecided, &one_denied);
        let (_, decision) = applied_and_decision(&events);
        assert_eq!((decision.total_paid, decision.outcome), (Money::ZERO, Outcome::PartiallyPaid));
        assert!(decision.lines[1].adjustments.iter().all(|adjustment| adjustment.group != GroupCode::Pr), "no cost sharing on a denied line");
        let all_denied = fixtures::claim(Frequency::Original, None, &[("99999", "40.00", 1)]);
        let events = check(with_plan(vec![]), DecisionState::Undecided, &all_denied);
        let [Event::Adjudicated(decision)] = events.as_slice() else { panic!("{events:?}: nothing applied") };
        assert_eq!(decision.outcome, Outcome::Denied);
    }

    /// Scenario 12's secondary claim: billed 500 for J1100 (the secondary's fee 365); the
    /// primary (Medicare) paid 300 and left PR-1 75 after CO-45 125.
    fn scenario_12_claim() -> SubmittedClaim {
        let mut claim = fixtures::claim(Frequency::Original, None, &[("J1100", "500.00", 1)]);
        claim.cob = Some(Coordination {
            sequence: claimtrail_events::PayerSequence::Secondary,
            prior_payers: vec![claimtrail_events::PriorPayer {
                sequence: claimtrail_events::PayerSequence::Primary,
                payer_id: "MEDICARE".into(),
                paid: money("300.00"),
                adjustments: vec![],
                lines: vec![claimtrail_events::PriorLine {
                    sequence: 1,
                    paid: money("300.00"),
                    adjustments: vec![pr(Carc::DEDUCTIBLE, "75.00"), Adjustment { group: GroupCode::Co, reason: Carc::FEE_SCHEDULE, amount: money("125.00") }],
                }],
            }],
        });
        claim
    }

    fn decide_secondary(benefits: BenefitFacts, claim: &SubmittedClaim) -> Vec<Event> {
        let schedule = FeeSchedule { content_hash: "cd".repeat(32), fees: [("J1100".into(), money("365.00"))].into_iter().collect() };
        let mut facts = fixtures::facts(&schedule, DecisionState::Undecided);
        facts.benefits = benefits;
        decide(&facts, &Command::Adjudicate(claim.clone())).unwrap()
    }

    #[test]
    fn scenario_12_the_secondary_pays_the_lesser_of_with_oa_23_and_co_45_to_the_cent() {
        // Under the member's plan (a deductible not met) and without one: the same, as the plan's COB method is the default.
        for benefits in [with_plan(vec![]), BenefitFacts::default()] {
            let events = decide_secondary(benefits, &scenario_12_claim());
            let [Event::Adjudicated(decision)] = events.as_slice() else { panic!("no accumulator change for a secondary: {events:?}") };
            let line = &decision.lines[0];
            let oa_23 = Adjustment { group: GroupCode::Oa, reason: Carc::PRIOR_PAYER, amount: money("425.00") };
            let co_45 = Adjustment { group: GroupCode::Co, reason: Carc::FEE_SCHEDULE, amount: money("10.00") };
            assert_eq!(line.adjustments, vec![oa_23.clone(), co_45]);
            assert_eq!((line.charge, line.allowed, line.paid, line.patient_responsibility), (money("500.00"), money("365.00"), money("65.00"), Money::ZERO));
            assert_eq!((decision.total_paid, decision.total_patient_responsibility, decision.outcome), (money("65.00"), Money::ZERO, Outcome::Paid));
            let cob = line.steps.last().unwrap();
            assert_eq!((cob.kind, cob.rule.as_str(), cob.before, cob.after), (StepKind::Benefit, "cob-lesser-of", money("365.00"), money("65.00")));
            assert_eq!(cob.adjustment, Some(oa_23));
            assert_eq!(cob.source.as_deref(), Some("cob:secondary after MEDICARE (primary)"));
            assert!(cob.detail.contains("secondary allowed 365.00 − primary paid 300.00 = 65.00"), "{}", cob.detail);
            // 835 balancing: 65 + 425 + 10 = 500, and the patient owes nothing.
            let adjusted: Money = Money::checked_sum(line.adjustments.iter().map(|adjustment| &adjustment.amount)).unwrap();
            assert_eq!(adjusted.checked_add(line.paid), Some(line.charge));
        }
    }

    /// The plan with `method` as its COB method, the member having met `position`.
    fn with_cob_method(method: CobMethod, position: Vec<AccumulatorEntry>) -> BenefitFacts {
        let mut body = plan().plan.plan().clone();
        body.cob_method = method;
        BenefitFacts { plan: Some(PlanInForce { plan_id: "PPO".into(), plan: Arc::new(body.compile().unwrap()) }), ..with_plan(position) }
    }

    #[test]
    fn scenario_12_under_standard_and_non_duplication_reads_the_secondary_s_own_benefit_and_credits_its_deductible() {
        // 440.00 of the 500.00 deductible met. Own benefit on the 365.00 allowed: 60.00 deductible, 20% of 305.00 (61.00): 244.00.
        let met = vec![entry(Bucket::DeductibleInnIndividual, "440.00")];
        // Standard: the lesser of 244.00 and the primary's patient share 75.00: 75.00; the member owes nothing.
        let events = decide_secondary(with_cob_method(CobMethod::Standard, met.clone()), &scenario_12_claim());
        let [Event::Accumulators(credited), Event::Adjudicated(decision)] = events.as_slice() else { panic!("{events:?}") };
        // The deductible is credited with what the plan would have credited as primary; the out-of-pocket maximum is not.
        let credits: Vec<(&str, Money)> = credited.entries.iter().map(|entry| (entry.bucket.as_str(), entry.amount)).collect();
        assert_eq!(credits, vec![("deductible_inn_individual", money("60.00"))]);
        let line = &decision.lines[0];
        assert_eq!((line.paid, line.patient_responsibility), (money("75.00"), Money::ZERO));
        assert_eq!(line.adjustments, vec![Adjustment { group: GroupCode::Oa, reason: Carc::PRIOR_PAYER, amount: money("425.00") }]);
        let step = line.steps.last().unwrap();
        assert_eq!((step.rule.as_str(), step.before, step.after), ("cob-standard", money("365.00"), money("75.00")));
        // Non-duplication: 244.00 − the primary's 300.00 is below zero: nothing paid; the member owes the primary's PR-1 75.00.
        let events = decide_secondary(with_cob_method(CobMethod::NonDuplication, met), &scenario_12_claim());
        let [Event::Accumulators(_), Event::Adjudicated(decision)] = events.as_slice() else { panic!("{events:?}") };
        assert_eq!((decision.total_paid, decision.total_patient_responsibility, decision.outcome), (Money::ZERO, money("75.00"), Outcome::Paid));
        assert_eq!(decision.lines[0].adjustments[1], pr(Carc::DEDUCTIBLE, "75.00"));
        assert_eq!(decision.lines[0].steps.last().unwrap().rule, "cob-non-duplication");
        // The deductible met in full: own benefit 80% of 365.00 = 292.00, still under 300.00; with the primary paying 250.00, 42.00.
        let full = vec![entry(Bucket::DeductibleInnIndividual, "500.00")];
        let mut claim = scenario_12_claim();
        let primary = &mut claim.cob.as_mut().unwrap().prior_payers[0];
        (primary.paid, primary.lines[0].paid, primary.lines[0].adjustments[1].amount) = (money("250.00"), money("250.00"), money("175.00"));
        let events = decide_secondary(with_cob_method(CobMethod::NonDuplication, full), &claim);
        let [Event::Adjudicated(decision)] = events.as_slice() else { panic!("nothing left to credit: {events:?}") };
        assert_eq!((decision.total_paid, decision.total_patient_responsibility), (money("42.00"), money("33.00")));
    }

    #[test]
    fn a_secondary_line_denied_by_an_edit_stays_denied_and_a_claim_without_the_primary_s_adjudication_is_decided_as_primary() {
        let mut claim = scenario_12_claim();
        claim.lines[0].procedure_code = "99999".parse().unwrap();
        let events = decide_secondary(BenefitFacts::default(), &claim);
        let [Event::Adjudicated(decision)] = events.as_slice() else { panic!("{events:?}") };
        assert_eq!((decision.total_paid, decision.outcome), (Money::ZERO, Outcome::Denied));
        assert!(decision.lines[0].adjustments.iter().all(|adjustment| adjustment.group != GroupCode::Oa), "{:?}", decision.lines[0].adjustments);
        let mut bare = scenario_12_claim();
        bare.cob.as_mut().unwrap().prior_payers.clear();
        let events = decide_secondary(BenefitFacts::default(), &bare);
        let [Event::Adjudicated(decision)] = events.as_slice() else { panic!("{events:?}") };
        assert_eq!(decision.total_paid, money("365.00"));
    }

    #[test]
    fn a_secondary_decision_replays_byte_identical_from_its_canonical_record() {
        let claim = scenario_12_claim();
        let schedule = FeeSchedule { content_hash: "cd".repeat(32), fees: [("J1100".into(), money("365.00"))].into_iter().collect() };
        let mut facts = fixtures::facts(&schedule, DecisionState::Undecided);
        facts.benefits = with_plan(vec![]);
        let events = decide(&facts, &Command::Adjudicate(claim.clone())).unwrap();
        let bytes = to_canonical_vec(&DecisionRecord::of(&facts, &claim, "riverside")).unwrap();
        let record: DecisionRecord = serde_json::from_slice(&bytes).unwrap();
        let replayed = record.replay().unwrap();
        assert_eq!(replayed.last().unwrap().canonical_payload().unwrap(), events.last().unwrap().canonical_payload().unwrap());
    }

    #[test]
    fn without_a_plan_nothing_changes() {
        let claim = fixtures::claim(Frequency::Original, None, &[("J1100", "400.00", 1)]);
        let events = check(BenefitFacts::default(), DecisionState::Undecided, &claim);
        let [Event::Adjudicated(decision)] = events.as_slice() else { panic!("{events:?}") };
        assert_eq!((decision.total_paid, decision.total_patient_responsibility), (money("250.00"), Money::ZERO));
    }

    /// The original decided under the plan, and the entries it applied.
    fn decided_original(claim: &SubmittedClaim) -> (ClaimAdjudicated, AccumulatorsApplied) {
        let events = check(with_plan(vec![entry(Bucket::DeductibleInnIndividual, "350.00")]), DecisionState::Undecided, claim);
        let (_, decision) = applied_and_decision(&events);
        (decision.clone(), crate::domain::ripple::applied_of(&events).unwrap().expect("entries applied"))
    }

    #[test]
    fn a_replacement_restores_what_its_original_applied_then_shares_the_cost_again() {
        let original = fixtures::claim(Frequency::Original, None, &[("J1100", "400.00", 1)]);
        let (decision, applied) = decided_original(&original);
        // The store now holds 350 + 150 of the deductible and 170 of the out-of-pocket maximum.
        let replacement = fixtures::claim(Frequency::Replacement, Some(original.claim_id), &[("J1100", "400.00", 1)]);
        let benefits = BenefitFacts {
            original_applied: Some(applied),
            ..with_plan(vec![entry(Bucket::DeductibleInnIndividual, "500.00"), entry(Bucket::OopInnIndividual, "170.00")])
        };
        let events = check(benefits, DecisionState::Decided { decision: decision.clone() }, &replacement);
        let [Event::Accumulators(reversed), Event::Reversed(reversal), Event::Accumulators(reapplied), Event::Adjudicated(again)] = events.as_slice() else {
            panic!("{events:?}")
        };
        assert_eq!((reversed.change.as_str(), reversed.claim_id), ("reversed", Some(original.claim_id)));
        assert_eq!(reversed.entries.iter().map(|entry| entry.amount).collect::<Vec<_>>(), vec![money("-150.00"), money("-170.00")]);
        assert_eq!(reversal.total_patient_responsibility, money("-170.00"));
        assert_eq!(reapplied.entries.iter().map(|entry| entry.amount).collect::<Vec<_>>(), vec![money("150.00"), money("170.00")]);
        assert_eq!((again.total_paid, again.total_patient_responsibility), (decision.total_paid, decision.total_patient_responsibility));
        // A void only reverses, accumulators included, with no plan read.
        let void = fixtures::claim(Frequency::Void, Some(original.claim_id), &[("J1100", "400.00", 1)]);
        let (_, applied) = decided_original(&original);
        let benefits = BenefitFacts {
            original_applied: Some(applied),
            position: vec![entry(Bucket::DeductibleInnIndividual, "500.00"), entry(Bucket::OopInnIndividual, "170.00")],
            ..BenefitFacts::default()
        };
        let events = check(benefits, DecisionState::Decided { decision }, &void);
        assert!(matches!(events.as_slice(), [Event::Accumulators(r), Event::Reversed(_)] if r.change == "reversed"), "{events:?}");
    }

    #[test]
    fn a_decision_with_cost_sharing_replays_byte_identical_from_its_canonical_record() {
        let claim = fixtures::claim(Frequency::Original, None, &[("J1100", "400.00", 1), ("99213", "180.00", 1)]);
        let schedule = schedule();
        let mut facts = fixtures::facts(&schedule, DecisionState::Undecided);
        facts.benefits = with_plan(vec![entry(Bucket::DeductibleInnIndividual, "350.00"), entry(Bucket::OopInnIndividual, "1000.00")]);
        let events = decide(&facts, &Command::Adjudicate(claim.clone())).unwrap();
        let bytes = to_canonical_vec(&DecisionRecord::of(&facts, &claim, "riverside")).unwrap();
        let record: DecisionRecord = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(to_canonical_vec(&record).unwrap(), bytes);
        let replayed = record.replay().unwrap();
        assert_eq!(replayed.len(), events.len());
        for (replayed, decided) in replayed.iter().zip(&events) {
            assert_eq!(replayed.canonical_payload().unwrap(), decided.canonical_payload().unwrap());
        }
        // A different position read would have decided differently: the record is what makes the replay exact.
        facts.benefits.position.clear();
        assert_ne!(
            decide(&facts, &Command::Adjudicate(claim)).unwrap().last().unwrap().canonical_payload().unwrap(),
            events.last().unwrap().canonical_payload().unwrap()
        );
    }
}

#[cfg(test)]
mod tier_tests {
    use super::*;
    use crate::domain::{Command, DecisionState, FeeSchedule, PolicyInForce, TableInForce, decide, fixtures};
    use claimtrail_benefits::{AccumulatorEntry, Bucket};
    use claimtrail_events::Frequency;
    use claimtrail_policy::{CodeKey, ContractTerm, Contracts, Fee, FeeSchedule as PolicyFees, ReimbursementMethod};
    use time::macros::date;

    fn money(text: &str) -> Money {
        Money::parse(text).unwrap()
    }

    /// J1100 at 250.00, and a contract row binding `npi` (the fixture's billing provider is 1234567893).
    fn policy(npi: &str) -> PolicyInForce {
        let fee = Fee {
            code: CodeKey::of("J1100"),
            modifier: CodeKey::NONE,
            place_of_service: CodeKey::NONE,
            per_unit: money("250.00"),
            effective: date!(2026 - 01 - 01),
            end: None,
            multiple_procedure: None,
        };
        let term = ContractTerm {
            contract_id: "PPO-NETWORK".into(),
            billing_npi: Some(npi.into()),
            code_from: CodeKey::of("A0000"),
            code_to: CodeKey::of("Z9999"),
            method: ReimbursementMethod::FeeSchedule,
            effective: date!(2026 - 01 - 01),
            end: None,
        };
        PolicyInForce {
            fee_schedule: Some(TableInForce::new("f".repeat(64), PolicyFees::from_fees(vec![fee]))),
            contracts: Some(TableInForce::new("d".repeat(64), Contracts::from_terms(vec![term]))),
            ..PolicyInForce::default()
        }
    }

    /// The demo plan, the member having met 200.00 of the in-network deductible.
    fn benefits() -> BenefitFacts {
        let plan = PlanInForce { plan_id: "DEMO-PPO".into(), plan: Arc::new(Plan::from_json(include_bytes!("../../../cli/demo/plan.json")).unwrap()) };
        let met =
            AccumulatorEntry { member_id: MemberId::parse("M1").unwrap(), plan_year: 2026, bucket: Bucket::DeductibleInnIndividual, amount: money("200.00") };
        BenefitFacts { plan: Some(plan), position: vec![met], ..BenefitFacts::default() }
    }

    /// (paid, patient share, buckets applied) of the claim decided under `policy`.
    fn shared(policy: &PolicyInForce) -> (Money, Money, Vec<String>) {
        let claim = fixtures::claim(Frequency::Original, None, &[("J1100", "400.00", 1)]);
        let schedule = FeeSchedule { content_hash: "c".repeat(64), fees: Default::default() };
        let mut facts = fixtures::facts(&schedule, DecisionState::Undecided);
        facts.policy = Some(policy);
        facts.benefits = benefits();
        let events = decide(&facts, &Command::Adjudicate(claim)).unwrap();
        let [Event::Accumulators(applied), Event::Adjudicated(decision)] = events.as_slice() else { panic!("{events:?}") };
        (decision.total_paid, decision.total_patient_responsibility, applied.entries.iter().map(|entry| entry.bucket.clone()).collect())
    }

    #[test]
    fn a_provider_with_a_contract_of_its_own_is_in_network() {
        // 250 allowed: the 50 left of the 250 deductible, then 20% of 200.
        assert_eq!(shared(&policy("1234567893")), (money("160.00"), money("90.00"), vec!["deductible_inn_individual".into(), "oop_inn_individual".into()]));
    }

    #[test]
    fn a_provider_without_a_contract_of_its_own_is_out_of_network_when_the_payer_has_contracts() {
        // Out of network: the 500 deductible takes all 250; nothing met in network counts.
        assert_eq!(shared(&policy("1245319599")), (Money::ZERO, money("250.00"), vec!["deductible_oon_individual".into(), "oop_oon_individual".into()]));
    }

    #[test]
    fn without_contracts_every_enrolled_provider_is_in_network() {
        let claim = fixtures::claim(Frequency::Original, None, &[("J1100", "400.00", 1)]);
        assert_eq!(network_tier(&claim, None), Tier::Inn);
        assert_eq!(network_tier(&claim, Some(&PolicyInForce::default())), Tier::Inn);
        assert_eq!(network_tier(&claim, Some(&policy("1245319599"))), Tier::Oon);
    }
}
