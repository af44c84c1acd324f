//! Corrections that ripple, and retroactive reprocessing (issue 17): the
//! pure part. No IO; [`crate::consumer::reprocess`] loads the facts and
//! persists what these functions decide.
//!
//! **Ripple.** When claim A's decision is reversed (a void, a replacement,
//! or a reprocessing that changes it), every claim of A's family decided
//! after A in the same plan year saw accumulators that included A. Those
//! later claims are taken back first ([`without`]: the position as if none
//! of them had applied anything), then decided again one by one in their
//! original order ([`redecide`]), each against the accumulators the claims
//! before it left. A claim whose decision comes out the same (outcome,
//! amounts, adjustments and accumulator entries; explanations aside) is left
//! alone and emits nothing. One that changes is corrected the way a
//! replacement is: its standing version is reversed (`claim.reversed.v1`,
//! CLP02 = 22, its accumulator entries reversed exactly) and a new version
//! is decided (`claim.adjudicated.v1` under a new claim id, [`version_id`]),
//! so settlement pays or recoups the difference. A replacement of A takes
//! A's place in that order: it is decided before the later claims are.
//!
//! **Retroactive reprocessing.** A late date of death, a retroactive
//! coverage termination or a fee-schedule correction ([`ReferenceChange`])
//! selects the claims it affects ([`affected`], by member and dates or by
//! code and dates); each is decided again under the corrected reference data
//! and, when that changes it, corrected as above, then its later claims
//! ripple. The original decision's record is never touched: its replay still
//! gives the original bytes (bitemporal: the new version records the facts
//! it used).

use std::collections::{BTreeMap, BTreeSet};

use claimtrail_benefits::{AccumulatorEntry, AccumulatorsApplied, Bucket};
use claimtrail_codes::MemberId;
use claimtrail_events::{AccumulatorsChanged, ClaimAdjudicated, Frequency, LineDecision, Money, SubmittedClaim, sha3_256};
use time::Date;
use uuid::Uuid;

use super::{Command, DecisionState, Event, Facts, HistoryStatus, MemberFacts, Rejection, decide};

/// The id of the version of `claim_id` that `cause` (the reversing claim,
/// or the reprocessing job) decides: the same for the same pair, so a
/// correction is idempotent by claim and cause.
pub fn version_id(claim_id: Uuid, cause: Uuid) -> Uuid {
    let mut bytes = Vec::with_capacity(64);
    bytes.extend_from_slice(b"claimtrail:reprocessed-version:");
    bytes.extend_from_slice(claim_id.as_bytes());
    bytes.extend_from_slice(cause.as_bytes());
    let digest = sha3_256(&bytes);
    let mut custom = [0u8; 16];
    custom.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(custom).into_uuid()
}

/// The new version of `standing` (the claim as its standing decision
/// recorded it): the same lines, replacing it, under `version`.
pub fn reprocessed_claim(standing: &SubmittedClaim, version: Uuid) -> SubmittedClaim {
    let mut claim = standing.clone();
    claim.claim_id = version;
    claim.frequency = Frequency::Replacement;
    claim.related_claim_id = Some(standing.claim_id.into());
    claim
}

/// What a line decides, explanations aside.
fn line_key(line: &LineDecision) -> impl PartialEq + '_ {
    (line.sequence, &line.procedure_code, line.charge, line.allowed, line.paid, line.patient_responsibility, &line.adjustments, &line.remarks)
}

/// Whether two decisions of one claim decide the same: outcome, totals and
/// every line's amounts and adjustments (their explanations and sources aside).
pub fn same_decision(before: &ClaimAdjudicated, after: &ClaimAdjudicated) -> bool {
    before.outcome == after.outcome
        && before.total_charge == after.total_charge
        && before.total_allowed == after.total_allowed
        && before.total_paid == after.total_paid
        && before.total_patient_responsibility == after.total_patient_responsibility
        && before.lines.len() == after.lines.len()
        && before.lines.iter().zip(&after.lines).all(|(a, b)| line_key(a) == line_key(b))
}

/// Whether `applied` (a decision's `accumulators.changed.v1`, if any) applies exactly `standing`'s entries.
fn same_entries(standing: Option<&AccumulatorsApplied>, applied: Option<&AccumulatorsChanged>) -> bool {
    let before: Vec<(&str, i32, &str, Money)> = standing
        .map(|applied| applied.entries.iter().map(|entry| (entry.member_id.as_str(), entry.plan_year, entry.bucket.name(), entry.amount)).collect())
        .unwrap_or_default();
    let after: Vec<(&str, i32, &str, Money)> = applied
        .map(|changed| changed.entries.iter().map(|entry| (entry.member_id.as_str(), entry.plan_year, entry.bucket.as_str(), entry.amount)).collect())
        .unwrap_or_default();
    before == after
}

/// The accumulator totals `position` as if the claims of `taken_back` had
/// applied nothing. Entries of members or years the position does not hold
/// (not read) are left alone; a total that would go below zero is an error.
pub fn without(position: &[AccumulatorEntry], taken_back: &[&AccumulatorsApplied]) -> Result<Vec<AccumulatorEntry>, Rejection> {
    let mut totals = totals_of(position);
    for applied in taken_back {
        for entry in &applied.entries {
            let key = (entry.member_id.clone(), entry.plan_year, entry.bucket);
            let Some(total) = totals.get_mut(&key) else { continue };
            *total = total.checked_sub(entry.amount).filter(|left| !left.is_negative()).ok_or_else(|| {
                Rejection::Reprocessing(format!(
                    "taking back claim {}'s {} {} from bucket {} of plan year {} leaves less than zero",
                    applied.claim.claim_id, entry.bucket, entry.amount, entry.member_id, entry.plan_year
                ))
            })?;
        }
    }
    Ok(entries_of(totals))
}

/// A position's totals by (holder, plan year, bucket).
type Totals = BTreeMap<(MemberId, i32, Bucket), Money>;

fn totals_of(position: &[AccumulatorEntry]) -> Totals {
    position.iter().map(|entry| ((entry.member_id.clone(), entry.plan_year, entry.bucket), entry.amount)).collect()
}

/// The non-zero totals as a position.
fn entries_of(totals: Totals) -> Vec<AccumulatorEntry> {
    totals
        .into_iter()
        .filter(|(_, amount)| !amount.is_zero())
        .map(|((member_id, plan_year, bucket), amount)| AccumulatorEntry { member_id, plan_year, bucket, amount })
        .collect()
}

/// What deciding a standing claim again came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redecided {
    /// The same decision: nothing to emit.
    Unchanged,
    /// The reversal of the standing version and the new version's decision,
    /// accumulators included, in the order to record them.
    Changed(Vec<Event>),
    /// The facts now pend the claim (a member or payer the registry no
    /// longer holds): a paid claim is not taken back for that; left alone.
    WouldPend,
}

/// Decides `standing` (a claim whose decision stands, as its record holds
/// it) again as `version` under `facts`: `facts.original` is its standing
/// decision, `facts.benefits` the accumulators the claims before it left
/// (with `original_applied` its own entries, if it applied any).
pub fn redecide(facts: &Facts<'_>, standing: &SubmittedClaim, version: Uuid) -> Result<(SubmittedClaim, Redecided), Rejection> {
    let DecisionState::Decided { decision: before } = &facts.original else {
        return Err(Rejection::Reprocessing(format!("claim {} has no standing decision to decide again", standing.claim_id)));
    };
    let claim = reprocessed_claim(standing, version);
    let events = decide(facts, &Command::Adjudicate(claim.clone()))?;
    let after = events.iter().find_map(|event| match event {
        Event::Adjudicated(decision) => Some(decision),
        _ => None,
    });
    let Some(after) = after else {
        return Ok((claim, Redecided::WouldPend));
    };
    let applied = events.iter().find_map(|event| match event {
        Event::Accumulators(changed) if changed.change == "applied" => Some(changed),
        _ => None,
    });
    if same_decision(before, after) && same_entries(facts.benefits.original_applied.as_ref(), applied) {
        return Ok((claim, Redecided::Unchanged));
    }
    Ok((claim, Redecided::Changed(events)))
}

/// The entries a new version applied, as the accumulators hold them (for the next claim's position).
pub fn applied_of(events: &[Event]) -> Result<Option<AccumulatorsApplied>, Rejection> {
    let Some((claim_id, changed)) = events.iter().find_map(|event| match event {
        Event::Accumulators(changed) if changed.change == "applied" => changed.claim_id.map(|claim_id| (claim_id, changed)),
        _ => None,
    }) else {
        return Ok(None);
    };
    let mut entries = Vec::with_capacity(changed.entries.len());
    for entry in &changed.entries {
        entries.push(AccumulatorEntry {
            member_id: MemberId::parse(&entry.member_id).map_err(|e| Rejection::Reprocessing(format!("accumulator member id: {e}")))?,
            plan_year: entry.plan_year,
            bucket: Bucket::parse(&entry.bucket).map_err(|e| Rejection::Reprocessing(e.to_string()))?,
            amount: entry.amount,
        });
    }
    Ok(Some(AccumulatorsApplied { claim: super::benefits::claim_version(claim_id), entries }))
}

/// The totals `position` after `applied` too.
pub fn with(position: &[AccumulatorEntry], applied: &AccumulatorsApplied) -> Result<Vec<AccumulatorEntry>, Rejection> {
    let mut totals = totals_of(position);
    for entry in &applied.entries {
        let total = totals.entry((entry.member_id.clone(), entry.plan_year, entry.bucket)).or_insert(Money::ZERO);
        *total = total
            .checked_add(entry.amount)
            .filter(|sum| !sum.is_negative())
            .ok_or_else(|| Rejection::Reprocessing(format!("bucket {} of {} in plan year {} out of range", entry.bucket, entry.member_id, entry.plan_year)))?;
    }
    Ok(entries_of(totals))
}

/// A correction of reference data that may change decided claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReferenceChange {
    /// The member died on `died`: services after it are denied CO-13.
    DateOfDeath { member_id: String, died: Date },
    /// The member's coverage now runs only `coverage_start..=coverage_end`: services outside it are denied CO-26/CO-27.
    CoverageTermination { member_id: String, coverage_start: Date, coverage_end: Date },
    /// A fee schedule version in force from `from` (to `to`, exclusive) prices `codes` anew.
    FeeSchedule { from: Date, to: Option<Date>, codes: BTreeSet<String> },
}

impl ReferenceChange {
    /// `date-of-death`, `coverage-termination` or `fee-schedule-correction`.
    pub fn reason(&self) -> &'static str {
        match self {
            ReferenceChange::DateOfDeath { .. } => "date-of-death",
            ReferenceChange::CoverageTermination { .. } => "coverage-termination",
            ReferenceChange::FeeSchedule { .. } => "fee-schedule-correction",
        }
    }

    /// Whether one line of a decided claim falls under the change.
    fn touches(&self, line: &CandidateLine) -> bool {
        match self {
            ReferenceChange::DateOfDeath { member_id, died } => line.member_id == *member_id && line.service_date > *died,
            ReferenceChange::CoverageTermination { member_id, coverage_start, coverage_end } => {
                line.member_id == *member_id && (line.service_date < *coverage_start || line.service_date > *coverage_end)
            }
            ReferenceChange::FeeSchedule { from, to, codes } => {
                *from <= line.service_date && to.is_none_or(|to| line.service_date < to) && codes.contains(&line.procedure_code)
            }
        }
    }
}

/// One line of the claim history, as the selection reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateLine {
    pub claim_id: Uuid,
    pub member_id: String,
    pub service_date: Date,
    pub procedure_code: String,
    pub status: HistoryStatus,
}

/// The claims `change` affects among `lines`: those whose decision stands
/// (every line paid or denied: neither reversed nor pended) with at least
/// one line under the change; each once, by claim id.
pub fn affected(change: &ReferenceChange, lines: &[CandidateLine]) -> Vec<Uuid> {
    let mut standing: BTreeMap<Uuid, bool> = BTreeMap::new();
    let mut excluded: BTreeSet<Uuid> = BTreeSet::new();
    for line in lines {
        if matches!(line.status, HistoryStatus::Reversed | HistoryStatus::Pended) {
            excluded.insert(line.claim_id);
            continue;
        }
        *standing.entry(line.claim_id).or_default() |= change.touches(line);
    }
    standing.into_iter().filter(|(claim_id, touched)| *touched && !excluded.contains(claim_id)).map(|(claim_id, _)| claim_id).collect()
}

/// What a new version of a member's enrollment corrects retroactively,
/// compared with the version before it: a date of death that is new (or
/// earlier), coverage that now ends earlier or starts later.
pub fn member_changes(before: Option<&MemberFacts>, after: &MemberFacts) -> Vec<ReferenceChange> {
    let Some(before) = before else { return Vec::new() };
    let mut changes = Vec::new();
    if let Some(died) = after.date_of_death
        && before.date_of_death.is_none_or(|earlier| died < earlier)
    {
        changes.push(ReferenceChange::DateOfDeath { member_id: after.member_id.clone(), died });
    }
    if after.coverage_end < before.coverage_end || after.coverage_start > before.coverage_start {
        changes.push(ReferenceChange::CoverageTermination {
            member_id: after.member_id.clone(),
            coverage_start: after.coverage_start,
            coverage_end: after.coverage_end,
        });
    }
    changes
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use claimtrail_benefits::Plan;
    use claimtrail_codes::{Carc, GroupCode};
    use claimtrail_events::{Adjustment, Outcome};
    use time::macros::date;

    use super::*;
    use crate::domain::{BenefitFacts, FeeSchedule, PlanInForce, fixtures};

    fn money(text: &str) -> Money {
        Money::parse(text).unwrap()
    }

    /// J1100 allowed 250.00 a unit; 99213 120.00.
    fn schedule() -> FeeSchedule {
        FeeSchedule { content_hash: "ef".repeat(32), fees: [("J1100", "250.00"), ("99213", "120.00")].iter().map(|(c, a)| ((*c).into(), money(a))).collect() }
    }

    /// Deductible 500 (family 1,000), OOP 3,000 (6,000), coinsurance 20%, every line "medical".
    fn plan() -> PlanInForce {
        let body = serde_json::json!({
            "name": "Gold PPO",
            "categories": ["medical"],
            "default_category": "medical",
            "tiers": {
                "inn": {"deductible": {"individual": "500.00", "family": "1000.00"}, "oop_max": {"individual": "3000.00", "family": "6000.00"}, "coinsurance_percent": "20"},
                "oon": {"deductible": {"individual": "1000.00", "family": "2000.00"}, "oop_max": {"individual": "6000.00", "family": "12000.00"}, "coinsurance_percent": "40"}
            }
        });
        PlanInForce { plan_id: "GOLD".into(), plan: Arc::new(Plan::from_json(body.to_string().as_bytes()).unwrap()) }
    }

    /// A family's claims decided in order, as the store would hold them: the
    /// accumulator totals, and per claim its standing decision and entries.
    #[derive(Default)]
    struct Family {
        position: Vec<AccumulatorEntry>,
        decided: Vec<(SubmittedClaim, ClaimAdjudicated, Option<AccumulatorsApplied>)>,
    }

    impl Family {
        /// Given: `claim` decided now, against the family's accumulators.
        fn decide(&mut self, claim: SubmittedClaim) {
            let schedule = schedule();
            let mut facts = fixtures::facts(&schedule, DecisionState::Undecided);
            facts.benefits = BenefitFacts { plan: Some(plan()), position: self.position.clone(), ..BenefitFacts::default() };
            let events = decide(&facts, &Command::Adjudicate(claim.clone())).unwrap();
            let applied = applied_of(&events).unwrap();
            if let Some(applied) = &applied {
                self.position = with(&self.position, applied).unwrap();
            }
            let Some(Event::Adjudicated(decision)) = events.last() else { panic!("{events:?}") };
            self.decided.push((claim, decision.clone(), applied));
        }

        /// When the claim at `reversed_idx` is taken back (a void): its
        /// entries reversed, then each later claim decided again in order.
        /// Then: per later claim, what came of it.
        fn void(&mut self, reversed_idx: usize, cause: Uuid) -> Vec<Redecided> {
            let (_, _, reversed_applied) = &self.decided[reversed_idx];
            let mut position = without(&self.position, &reversed_applied.iter().collect::<Vec<_>>()).unwrap();
            let later: Vec<_> = self.decided[reversed_idx + 1..].to_vec();
            let later_applied: Vec<&AccumulatorsApplied> = later.iter().filter_map(|(_, _, applied)| applied.as_ref()).collect();
            position = without(&position, &later_applied).unwrap();
            let schedule = schedule();
            let mut outcomes = Vec::new();
            for (claim, decision, applied) in &later {
                let mut facts = fixtures::facts(&schedule, DecisionState::Decided { decision: decision.clone() });
                let own = applied.as_ref().map(|applied| with(&position, applied).unwrap()).unwrap_or_else(|| position.clone());
                facts.benefits = BenefitFacts { plan: Some(plan()), position: own, original_applied: applied.clone(), ..BenefitFacts::default() };
                let (_, redecided) = redecide(&facts, claim, version_id(claim.claim_id, cause)).unwrap();
                let now_applied = match &redecided {
                    Redecided::Changed(events) => applied_of(events).unwrap(),
                    _ => applied.clone(),
                };
                if let Some(now_applied) = &now_applied {
                    position = with(&position, now_applied).unwrap();
                }
                outcomes.push(redecided);
            }
            self.position = position;
            outcomes
        }
    }

    fn j1100(charge: &str) -> SubmittedClaim {
        fixtures::claim(Frequency::Original, None, &[("J1100", charge, 1)])
    }

    fn met(position: &[AccumulatorEntry], bucket: Bucket) -> Money {
        position.iter().find(|entry| entry.bucket == bucket).map(|entry| entry.amount).unwrap_or(Money::ZERO)
    }

    #[test]
    fn a_later_claim_the_void_does_not_change_is_left_alone() {
        // Given A (allowed 250, all deductible, paid 0) then B (allowed 250: 250 more deductible, paid 0).
        let mut family = Family::default();
        family.decide(j1100("400.00"));
        family.decide(j1100("300.00"));
        assert_eq!(family.decided[1].1.total_paid, Money::ZERO);
        assert_eq!(met(&family.position, Bucket::DeductibleInnIndividual), money("500.00"));
        // When A is voided.
        let cause = Uuid::now_v7();
        let outcomes = family.void(0, cause);
        // Then B is reversed and decided again: still 250 of deductible (A no longer counts), paid 0 — unchanged.
        assert_eq!(outcomes, vec![Redecided::Unchanged]);
        assert_eq!(met(&family.position, Bucket::DeductibleInnIndividual), money("250.00"));
    }

    #[test]
    fn a_later_claim_that_found_the_deductible_met_shares_it_again_after_the_void() {
        // Given A meets the whole deductible (allowed 500 = 2 units), B then pays 80% of 250 = 200.
        let mut family = Family::default();
        family.decide(fixtures::claim(Frequency::Original, None, &[("J1100", "600.00", 2)]));
        family.decide(j1100("250.00"));
        let (b_claim, b_before, _) = family.decided[1].clone();
        assert_eq!(b_before.total_paid, money("200.00"));
        // When A is voided.
        let cause = Uuid::now_v7();
        let outcomes = family.void(0, cause);
        // Then B's standing version is reversed and a new one pays 0 (its 250 goes to the deductible).
        let [Redecided::Changed(events)] = outcomes.as_slice() else { panic!("{outcomes:?}") };
        let [Event::Accumulators(reversed), Event::Reversed(reversal), Event::Accumulators(applied), Event::Adjudicated(after)] = events.as_slice() else {
            panic!("{events:?}")
        };
        assert_eq!((reversed.change.as_str(), reversed.claim_id), ("reversed", Some(b_claim.claim_id)));
        assert_eq!((reversal.claim_id, reversal.by_claim_id), (b_claim.claim_id, version_id(b_claim.claim_id, cause)));
        assert_eq!(reversal.total_paid, money("-200.00"));
        assert_eq!(
            applied.entries.iter().map(|entry| (entry.bucket.as_str(), entry.amount)).collect::<Vec<_>>(),
            [("deductible_inn_individual", money("250.00")), ("oop_inn_individual", money("250.00"))]
        );
        assert_eq!((after.claim_id, after.total_paid, after.outcome), (version_id(b_claim.claim_id, cause), Money::ZERO, Outcome::Paid));
        assert_eq!(after.lines[0].adjustments, [Adjustment { group: GroupCode::Pr, reason: Carc::DEDUCTIBLE, amount: money("250.00") }]);
        assert_eq!(met(&family.position, Bucket::DeductibleInnIndividual), money("250.00"));
    }

    #[test]
    fn later_claims_are_taken_back_first_then_decided_again_in_their_original_order() {
        // Given A (deductible 200), B (deductible 250, paid 0), C (50 deductible left, then 20% of 200).
        let mut family = Family::default();
        family.decide(j1100("200.00"));
        family.decide(j1100("250.00"));
        family.decide(j1100("250.00"));
        assert_eq!(family.decided[2].1.total_paid, money("160.00"));
        // When A is voided: B still owes 250 of deductible (unchanged); C now owes 250 of it, paid 0.
        let outcomes = family.void(0, Uuid::now_v7());
        assert_eq!(outcomes[0], Redecided::Unchanged, "B");
        let Redecided::Changed(events) = &outcomes[1] else { panic!("{outcomes:?}") };
        let Some(Event::Adjudicated(c_after)) = events.last() else { panic!("{events:?}") };
        assert_eq!((c_after.total_paid, c_after.total_patient_responsibility), (Money::ZERO, money("250.00")));
        // The deductible as it stands: B's 250 and C's 250, nothing of A.
        assert_eq!(met(&family.position, Bucket::DeductibleInnIndividual), money("500.00"));
    }

    #[test]
    fn the_version_id_is_the_same_for_the_same_claim_and_cause_and_differs_otherwise() {
        let (claim, cause) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(version_id(claim, cause), version_id(claim, cause));
        assert_ne!(version_id(claim, cause), version_id(claim, Uuid::now_v7()));
        assert_ne!(version_id(claim, cause), version_id(cause, claim));
        assert_eq!(version_id(claim, cause).get_version_num(), 8);
    }

    #[test]
    fn taking_back_more_than_a_bucket_holds_is_refused_with_the_bucket() {
        let claim = Uuid::now_v7();
        let member = MemberId::parse("M1").unwrap();
        let position = vec![AccumulatorEntry { member_id: member.clone(), plan_year: 2026, bucket: Bucket::DeductibleInnIndividual, amount: money("100.00") }];
        let applied = AccumulatorsApplied {
            claim: crate::domain::benefits::claim_version(claim),
            entries: vec![AccumulatorEntry { member_id: member, plan_year: 2026, bucket: Bucket::DeductibleInnIndividual, amount: money("150.00") }],
        };
        let refused = without(&position, &[&applied]).unwrap_err();
        assert!(refused.to_string().contains("deductible_inn_individual"), "{refused}");
    }

    fn line(claim: u128, member: &str, day: Date, code: &str, status: HistoryStatus) -> CandidateLine {
        CandidateLine { claim_id: Uuid::from_u128(claim), member_id: member.into(), service_date: day, procedure_code: code.into(), status }
    }

    #[test]
    fn a_late_date_of_death_selects_the_member_s_standing_claims_served_after_it() {
        let lines = [
            line(1, "M1", date!(2026 - 03 - 09), "99213", HistoryStatus::Paid),
            line(2, "M1", date!(2026 - 03 - 10), "99213", HistoryStatus::Paid),
            line(3, "M1", date!(2026 - 03 - 10), "99213", HistoryStatus::Paid),
            line(3, "M1", date!(2026 - 03 - 15), "99213", HistoryStatus::Paid),
            line(4, "M1", date!(2026 - 03 - 20), "99213", HistoryStatus::Denied),
            line(5, "M1", date!(2026 - 03 - 20), "99213", HistoryStatus::Reversed),
            line(6, "M1", date!(2026 - 03 - 20), "99213", HistoryStatus::Pended),
            line(7, "M2", date!(2026 - 03 - 20), "99213", HistoryStatus::Paid),
        ];
        let change = ReferenceChange::DateOfDeath { member_id: "M1".into(), died: date!(2026 - 03 - 10) };
        // The day of death itself is covered; a reversed or pended claim is not a standing decision; M2 is someone else.
        assert_eq!(affected(&change, &lines), [Uuid::from_u128(3), Uuid::from_u128(4)]);
    }

    #[test]
    fn a_retroactive_termination_selects_services_outside_the_new_coverage() {
        let lines = [
            line(1, "M1", date!(2026 - 06 - 30), "99213", HistoryStatus::Paid),
            line(2, "M1", date!(2026 - 07 - 01), "99213", HistoryStatus::Paid),
            line(3, "M1", date!(2025 - 12 - 31), "99213", HistoryStatus::Paid),
        ];
        let change =
            ReferenceChange::CoverageTermination { member_id: "M1".into(), coverage_start: date!(2026 - 01 - 01), coverage_end: date!(2026 - 06 - 30) };
        assert_eq!(affected(&change, &lines), [Uuid::from_u128(2), Uuid::from_u128(3)]);
    }

    #[test]
    fn a_fee_schedule_correction_selects_claims_by_code_and_date() {
        let lines = [
            line(1, "M1", date!(2026 - 02 - 01), "99213", HistoryStatus::Paid),
            line(2, "M2", date!(2026 - 02 - 01), "J1100", HistoryStatus::Paid),
            line(3, "M3", date!(2026 - 04 - 01), "99213", HistoryStatus::Denied),
            line(4, "M3", date!(2025 - 12 - 31), "99213", HistoryStatus::Paid),
        ];
        let change = ReferenceChange::FeeSchedule { from: date!(2026 - 01 - 01), to: Some(date!(2026 - 04 - 01)), codes: ["99213".to_owned()].into() };
        assert_eq!(affected(&change, &lines), [Uuid::from_u128(1)]);
        let open = ReferenceChange::FeeSchedule { from: date!(2026 - 01 - 01), to: None, codes: ["99213".to_owned()].into() };
        assert_eq!(affected(&open, &lines), [Uuid::from_u128(1), Uuid::from_u128(3)]);
    }

    #[test]
    fn a_new_enrollment_version_names_what_it_corrects_retroactively() {
        let schedule = schedule();
        let before = fixtures::facts(&schedule, DecisionState::Undecided).registry.member.unwrap();
        assert_eq!(member_changes(None, &before), []);
        assert_eq!(member_changes(Some(&before), &before), []);
        let mut died = before.clone();
        died.date_of_death = Some(date!(2026 - 03 - 10));
        assert_eq!(member_changes(Some(&before), &died), [ReferenceChange::DateOfDeath { member_id: "M1".into(), died: date!(2026 - 03 - 10) }]);
        assert_eq!(member_changes(Some(&died), &died), [], "the same date again changes nothing");
        let mut ended = before.clone();
        ended.coverage_end = date!(2026 - 06 - 30);
        assert_eq!(member_changes(Some(&before), &ended)[0].reason(), "coverage-termination");
        let mut extended = before.clone();
        extended.coverage_end = date!(2027 - 12 - 31);
        assert_eq!(member_changes(Some(&before), &extended), [], "longer coverage denies nothing that was paid");
    }

    #[test]
    fn a_date_of_death_denies_the_re_decided_claim_co_13_and_reverses_what_it_paid() {
        // Given a claim paid under the registry as it was.
        let claim = fixtures::claim(Frequency::Original, None, &[("99213", "180.00", 1)]);
        let schedule = schedule();
        let facts = fixtures::facts(&schedule, DecisionState::Undecided);
        let Some(Event::Adjudicated(paid)) = decide(&facts, &Command::Adjudicate(claim.clone())).unwrap().pop() else { panic!() };
        // When it is decided again now that the registry knows the member died before the service.
        let mut now = fixtures::facts(&schedule, DecisionState::Decided { decision: paid.clone() });
        if let Some(member) = now.registry.member.as_mut() {
            member.date_of_death = Some(date!(2026 - 10 - 15));
        }
        let job = Uuid::now_v7();
        let (version, redecided) = redecide(&now, &claim, version_id(claim.claim_id, job)).unwrap();
        // Then the paid decision is reversed and the new version is denied CO-13.
        let Redecided::Changed(events) = redecided else { panic!("{redecided:?}") };
        let [Event::Reversed(reversal), Event::Adjudicated(denied)] = events.as_slice() else { panic!("{events:?}") };
        assert_eq!((reversal.claim_id, reversal.total_paid), (claim.claim_id, paid.total_paid.negated()));
        assert_eq!((denied.claim_id, denied.outcome, denied.lines[0].adjustments[0].reason.clone()), (version.claim_id, Outcome::Denied, Carc::DATE_OF_DEATH));
        // Decided again under the same facts, nothing changes.
        let (_, again) = redecide(&fixtures::facts(&schedule, DecisionState::Decided { decision: paid }), &claim, version.claim_id).unwrap();
        assert_eq!(again, Redecided::Unchanged);
    }
}
