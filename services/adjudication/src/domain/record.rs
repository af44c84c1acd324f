//! The decision record: everything a decision used, so that it can be
//! replayed to the byte and explained later. Stored as RFC 8785 canonical
//! JSON beside the decision.
//!
//! It holds the engine and fact-model versions, the clock the decision ran
//! under, the claim, the fee schedule's content hash with the fees of the
//! claim's codes (the only rows pricing reads), the registry facts as seen
//! (each with its `recorded_at`), the claim-history facts and, for a
//! replacement or void, the original's decision state; the payer's policy
//! as read ([`PolicyUsed`]: each table version's hash and the rows read, the
//! rule set's hash and name), the member's plan and accumulator position,
//! and a review or appeal that decided it.
//!
//! The record is pure data and replay a pure function of it: a record of
//! format 3 names its rule set by hash only, so the service loads that
//! document from its store and passes it in, verified, to
//! [`DecisionRecord::replay_with`].

use std::collections::BTreeMap;

use claimtrail_events::{Money, SubmittedClaim};
use serde::{Deserialize, Serialize};
use time::Date;

use super::policy::{PolicyReplayError, ResolvedRuleSet, RuleSetUsed};
use super::{
    BenefitFacts, Command, DecisionState, Event, Facts, FeeSchedule, HistoryCounts, HistoryFact, PolicyInForce, PolicyUsed, RegistryFacts, Rejection, decide,
};

/// The engine that decided: this crate and its version.
pub const ENGINE_VERSION: &str = concat!("claimtrail-adjudication/", env!("CARGO_PKG_VERSION"));

/// The version of the facts' shape ([`Facts`]); bumped when a fact is added
/// or changes meaning, so a record says which model it was decided under.
///
/// - 1: `history` holds the billing provider's lines of the member's other
///   claims over 365 days before the claim (at most 200), and the rule set's
///   365-day counts are counted from them on replay.
/// - 2: `history` holds only the lines on the claim's dates of service (and
///   the lines a prior authorization's units used need), and the 365-day
///   counts are recorded as `history_counts`, counted by the store.
///
/// - 3: as 2, but the rule set is recorded by its content hash and name
///   only (`policy.rule_set` without `canonical`); its canonical document is
///   stored once, with the payer's policy versions, and a replay resolves it
///   by that hash and checks the bytes against it ([`ResolvedRuleSet`]).
///
/// A record of any format replays as it was decided.
pub const FACT_MODEL_VERSION: u32 = 3;

/// The fee schedule a decision priced with: its content hash and the
/// per-unit fees of the claim's codes that it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleUsed {
    pub content_hash: String,
    pub fees: BTreeMap<String, Money>,
}

/// Everything one decision used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionRecord {
    pub engine_version: String,
    pub fact_model_version: u32,
    /// The clock the decision ran under.
    #[serde(with = "claimtrail_events::date")]
    pub decided_on: Date,
    #[serde(with = "claimtrail_events::date")]
    pub received_on: Date,
    /// The organization that submitted the claim (who may read the record).
    pub submitter: String,
    pub claim: SubmittedClaim,
    /// `None`: the payer had published no fee schedule.
    pub fee_schedule: Option<ScheduleUsed>,
    pub registry: RegistryFacts,
    pub history: Vec<HistoryFact>,
    /// The rule set's 365-day history counts (format 2, with a rule set in force; absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_counts: Option<Vec<HistoryCounts>>,
    pub original: DecisionState,
    /// The payer's policy the decision read: each table version's hash and
    /// the rows it read, and the rule set (absent: none was in force).
    #[serde(default, skip_serializing_if = "PolicyUsed::is_empty")]
    pub policy: PolicyUsed,
    /// The member's plan and the accumulator position the benefit step read (absent: no plan).
    #[serde(default, skip_serializing_if = "BenefitFacts::is_empty")]
    pub benefits: BenefitFacts,
    /// The reviewer's decision that decided the pended claim (absent: the engine decided).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<claimtrail_events::ClaimReviewed>,
    /// The appeal whose overturn decided the claim again (absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appeal: Option<super::appeal::AppealFacts>,
}

impl DecisionRecord {
    /// The record of deciding `claim` under `facts`.
    pub fn of(facts: &Facts<'_>, claim: &SubmittedClaim, submitter: &str) -> DecisionRecord {
        let fee_schedule = facts.schedule.map(|schedule| ScheduleUsed {
            content_hash: schedule.content_hash.clone(),
            fees: claim
                .lines
                .iter()
                .filter_map(|line| schedule.fees.get(line.procedure_code.as_str()).map(|fee| (line.procedure_code.to_string(), *fee)))
                .collect(),
        });
        DecisionRecord {
            engine_version: ENGINE_VERSION.to_owned(),
            fact_model_version: FACT_MODEL_VERSION,
            decided_on: facts.decided_on,
            received_on: facts.received_on,
            submitter: submitter.to_owned(),
            claim: claim.clone(),
            fee_schedule,
            registry: facts.registry.clone(),
            history: facts.history.clone(),
            history_counts: facts.history_counts.clone(),
            original: facts.original.clone(),
            policy: facts.policy.map(|policy| PolicyUsed::of(policy, claim, &facts.history, &facts.registry)).unwrap_or_default(),
            benefits: facts.benefits.clone(),
            review: facts.review.clone(),
            appeal: facts.appeal.clone(),
        }
    }

    /// The fee schedule as far as the decision read it.
    pub fn schedule(&self) -> Option<FeeSchedule> {
        self.fee_schedule
            .as_ref()
            .map(|used| FeeSchedule { content_hash: used.content_hash.clone(), fees: used.fees.iter().map(|(code, fee)| (code.clone(), *fee)).collect() })
    }

    /// The facts as recorded, pricing with `schedule` (from [`DecisionRecord::schedule`]).
    pub fn facts<'a>(&self, schedule: Option<&'a FeeSchedule>, policy: Option<&'a PolicyInForce>) -> Facts<'a> {
        Facts {
            schedule,
            policy,
            original: self.original.clone(),
            registry: self.registry.clone(),
            history: self.history.clone(),
            history_counts: self.history_counts.clone(),
            received_on: self.received_on,
            decided_on: self.decided_on,
            benefits: self.benefits.clone(),
            review: self.review.clone(),
            appeal: self.appeal.clone(),
        }
    }

    /// The rule set this record cites by hash without carrying its document
    /// (format 3): what the caller loads from its store and verifies
    /// ([`ResolvedRuleSet::verify`]) before [`DecisionRecord::replay_with`].
    pub fn rule_set_to_resolve(&self) -> Option<&RuleSetUsed> {
        self.policy.rule_set_to_resolve()
    }

    /// The policy the record rebuilds (`None`: it read none), its rule set
    /// from the record or from `rule_set` ([`PolicyUsed::tables_with`]).
    pub fn policy_tables(&self, rule_set: Option<&ResolvedRuleSet>) -> Result<Option<PolicyInForce>, PolicyReplayError> {
        if self.policy.is_empty() { Ok(None) } else { self.policy.tables_with(rule_set).map(Some) }
    }

    /// Decides the recorded claim again on exactly the recorded facts; a
    /// record of format 3 that ran a rule set needs [`DecisionRecord::replay_with`].
    pub fn replay(&self) -> Result<Vec<Event>, Rejection> {
        self.replay_with(None)
    }

    /// Decides the recorded claim again on exactly the recorded facts, with
    /// the rule set the record cites by hash resolved as `rule_set`. Without
    /// it such a record is refused ([`PolicyReplayError::Unresolved`]), and
    /// with another rule set too ([`PolicyReplayError::HashMismatch`]):
    /// never a decision on a different document.
    pub fn replay_with(&self, rule_set: Option<&ResolvedRuleSet>) -> Result<Vec<Event>, Rejection> {
        let schedule = self.schedule();
        let policy = self.policy_tables(rule_set)?;
        decide(&self.facts(schedule.as_ref(), policy.as_ref()), &Command::Adjudicate(self.claim.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures;
    use claimtrail_events::canonical::to_canonical_vec;
    use claimtrail_events::{Frequency, Timestamp};

    fn schedule() -> FeeSchedule {
        FeeSchedule {
            content_hash: "ab".repeat(32),
            fees: [("99213", "120.00"), ("G0008", "30.00"), ("J1100", "0.45")].iter().map(|(c, a)| ((*c).into(), Money::parse(a).unwrap())).collect(),
        }
    }

    fn last_payload(events: &[Event]) -> Vec<u8> {
        events.last().expect("an event").canonical_payload().expect("canonical")
    }

    #[test]
    fn a_replay_on_the_record_gives_the_same_bytes() {
        let claim = fixtures::claim(Frequency::Original, None, &[("99213", "180.00", 1), ("J1100", "10.00", 3), ("99999", "5.00", 1)]);
        let schedule = schedule();
        let facts = fixtures::facts(&schedule, DecisionState::Undecided);
        let original = decide(&facts, &Command::Adjudicate(claim.clone())).unwrap();
        let record = DecisionRecord::of(&facts, &claim, "riverside");
        assert_eq!(record.fee_schedule.as_ref().map(|used| used.fees.len()), Some(2), "only the claim's codes on the schedule");
        assert_eq!(last_payload(&record.replay().unwrap()), last_payload(&original));
    }

    #[test]
    fn a_record_survives_its_canonical_bytes_and_replays_the_same() {
        let claim = fixtures::claim(Frequency::Original, None, &[("99213", "180.00", 1)]);
        let schedule = schedule();
        let mut facts = fixtures::facts(&schedule, DecisionState::Undecided);
        if let Some(member) = facts.registry.member.as_mut() {
            member.date_of_death = Some(time::macros::date!(2026 - 10 - 01));
        }
        let original = decide(&facts, &Command::Adjudicate(claim.clone())).unwrap();
        let bytes = to_canonical_vec(&DecisionRecord::of(&facts, &claim, "riverside")).unwrap();
        let record: DecisionRecord = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(to_canonical_vec(&record).unwrap(), bytes);
        assert_eq!((record.engine_version.as_str(), record.fact_model_version), (ENGINE_VERSION, FACT_MODEL_VERSION));
        assert_eq!(last_payload(&record.replay().unwrap()), last_payload(&original));
    }

    #[test]
    fn a_late_fact_does_not_change_a_replay_which_sees_what_the_decision_saw() {
        let claim = fixtures::claim(Frequency::Original, None, &[("99213", "180.00", 1)]);
        let schedule = schedule();
        let facts = fixtures::facts(&schedule, DecisionState::Undecided);
        let original = decide(&facts, &Command::Adjudicate(claim.clone())).unwrap();
        let record = DecisionRecord::of(&facts, &claim, "riverside");
        // The date of death arrives after the decision: a later version, not an edit of the record.
        let mut now_known = facts.clone();
        if let Some(member) = now_known.registry.member.as_mut() {
            member.date_of_death = Some(time::macros::date!(2026 - 10 - 01));
            member.recorded_at = Timestamp::parse("2026-11-20T00:00:00.000000Z").unwrap();
        }
        assert_ne!(last_payload(&decide(&now_known, &Command::Adjudicate(claim)).unwrap()), last_payload(&original));
        assert_eq!(last_payload(&record.replay().unwrap()), last_payload(&original));
    }

    #[test]
    fn a_replacement_replays_from_the_original_state_it_saw() {
        let original_claim = fixtures::claim(Frequency::Original, None, &[("99213", "180.00", 1)]);
        let schedule = schedule();
        let facts = fixtures::facts(&schedule, DecisionState::Undecided);
        let Event::Adjudicated(decision) = decide(&facts, &Command::Adjudicate(original_claim.clone())).unwrap().remove(0) else { panic!() };
        let replacement = fixtures::claim(Frequency::Replacement, Some(original_claim.claim_id), &[("99213", "90.00", 1)]);
        let facts = fixtures::facts(&schedule, DecisionState::Decided { decision });
        let events = decide(&facts, &Command::Adjudicate(replacement.clone())).unwrap();
        let record = DecisionRecord::of(&facts, &replacement, "riverside");
        let bytes = to_canonical_vec(&record).unwrap();
        let record: DecisionRecord = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(last_payload(&record.replay().unwrap()), last_payload(&events));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

        /// Random claims against random registry facts and schedules: decided,
        /// recorded as canonical bytes, read back, replayed, compared byte for byte.
        #[test]
        fn any_decision_replays_byte_identical_from_its_canonical_record(
            lines in proptest::collection::vec((0usize..4, 0i64..100_000, 1i64..5, 0i64..60), 1..8),
            coverage_end_offset in -30i64..30,
            died_offset in proptest::option::of(-30i64..30),
            timely_days in 1u32..400,
            received_offset in 0i64..400,
            enrolled in proptest::bool::ANY,
            with_schedule in proptest::bool::ANY,
        ) {
            let codes = ["99213", "G0008", "J1100", "99999"];
            let base = time::macros::date!(2026 - 06 - 01);
            let mut claim = fixtures::claim(Frequency::Original, None, &[]);
            claim.lines = lines
                .iter()
                .enumerate()
                .map(|(idx, (code, cents, units, day))| claimtrail_events::ClaimLine {
                    sequence: idx as u32 + 1,
                    procedure_code: codes[*code].parse().unwrap(),
                    modifiers: vec![],
                    quantity: rust_decimal::Decimal::from(*units),
                    charge: Money::from_cents(*cents),
                    service_date: base + time::Duration::days(*day),
                    place_of_service: Some("11".parse().unwrap()),
                    diagnosis_pointers: vec![1],
                    revenue_code: None,
                })
                .collect();
            let schedule = schedule();
            let mut facts = fixtures::facts(&schedule, DecisionState::Undecided);
            if !with_schedule {
                facts.schedule = None;
            }
            if let Some(member) = facts.registry.member.as_mut() {
                member.coverage_end = base + time::Duration::days(30 + coverage_end_offset);
                member.date_of_death = died_offset.map(|offset| base + time::Duration::days(30 + offset));
            }
            if let Some(payer) = facts.registry.payer.as_mut() {
                payer.timely_filing_days = timely_days;
            }
            if !enrolled {
                facts.registry.provider = None;
            }
            facts.received_on = base + time::Duration::days(received_offset);
            let decided = decide(&facts, &Command::Adjudicate(claim.clone())).unwrap();
            let bytes = to_canonical_vec(&DecisionRecord::of(&facts, &claim, "riverside")).unwrap();
            let record: DecisionRecord = serde_json::from_slice(&bytes).unwrap();
            proptest::prop_assert_eq!(last_payload(&record.replay().unwrap()), last_payload(&decided));
        }
    }
}
