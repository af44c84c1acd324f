//! Adjudication's domain core: what a claim's decision is, given the facts
//! the service holds. Pure: no IO, no SQL, no HTTP, no bus, no clock (a test
//! in the crate's root fails on any such import); [`crate::consumer`] loads
//! the [`Facts`], calls [`decide`] and persists what it returns with its
//! [`DecisionRecord`].
//!
//! - [`Command::Adjudicate`]: a submitted claim. An original is edited and
//!   priced; a replacement (frequency 7) first reverses its original's
//!   decision, then is edited and priced; a void (8) only reverses. An
//!   original already reversed by another claim denies the replacement or
//!   void whole (CO-129). A claim whose member or payer the registry does not
//!   hold is pended (`claim.pended.v1`), not guessed at.
//! - [`edits`]: the standard edits that need the registry (CO-26, CO-27,
//!   CO-13, CO-29, CO-B7), each line denied by the first that fails.
//! - [`pricing`]: the pricing steps (fee schedule, CO-45, CO-96).
//! - [`registry`]: the registry and claim-history facts, bitemporal.
//! - [`record`]: everything a decision used, stored canonically, and replay.
//! - [`access`]: claim reads through this API, for intake's access log.
//! - [`DecisionState`] and [`apply`]: one claim's decision as its events
//!   leave it (decided, then perhaps reversed).
//!
//! Integration points still to fill (as data in [`Facts`], not code here):
//! `policy` (libs/policy: NCCI, MUE, duplicates exact/suspect over
//! [`Facts::history`], RBRVS/MPR/DRG pricing, LEIE, prior authorizations)
//! and `rule_set` (libs/rules: the payer's decision tables and policy
//! switches, whose hash then replaces the fee schedule's as `rule_set_hash`).

pub mod access;
pub mod appeal;
pub mod auto_rate;
pub mod benefits;
pub mod edits;
pub mod engine;
pub mod policy;
pub mod pricing;
pub mod queue;
pub mod record;
pub mod registry;
pub mod review;
pub mod ripple;
pub mod rules;

use claimtrail_events::{AccumulatorsChanged, ClaimAdjudicated, ClaimAppealDecided, ClaimPended, ClaimReversed, ClaimReviewed, Frequency, SubmittedClaim};
use serde::{Deserialize, Serialize};
use time::Date;
use uuid::Uuid;

pub use benefits::{BenefitFacts, PlanInForce};
pub use policy::{PolicyInForce, PolicyUsed, ResolvedRuleSet, TableInForce, policy_date};
pub use pricing::{EMPTY_SCHEDULE, FeeSchedule, PricingError};
pub use record::{DecisionRecord, ENGINE_VERSION, FACT_MODEL_VERSION};
pub use registry::{HistoryCounts, HistoryFact, HistoryReach, HistoryStatus, MemberFacts, PayerFacts, ProviderFacts, RegistryFacts};

/// What adjudication is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Decide a claim intake accepted.
    Adjudicate(SubmittedClaim),
}

/// One claim's decision, as its events leave it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum DecisionState {
    /// Not decided (yet).
    #[default]
    Undecided,
    Decided {
        decision: ClaimAdjudicated,
    },
    /// Decided, then reversed by a replacement or void.
    Reversed {
        decision: ClaimAdjudicated,
        by_claim_id: String,
    },
}

/// What [`decide`] needs to know besides the command. Everything in it is
/// recorded with the decision ([`DecisionRecord`]), so a replay decides on
/// exactly the same facts.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    /// The payer's fee schedule in force (borrowed: one read serves a batch's
    /// claims); `None` when the payer never published one.
    pub schedule: Option<&'a FeeSchedule>,
    /// The payer's policy in force on the claim's first date of service
    /// (edit tables, pricing tables, rule set; [`policy`]), borrowed from the
    /// consumer's cache; `None`: nothing uploaded.
    pub policy: Option<&'a PolicyInForce>,
    /// For a replacement or void: the decision of the claim it names.
    pub original: DecisionState,
    /// The member, billing provider and payer as the registry held them.
    pub registry: RegistryFacts,
    /// The member's other claims' lines from the billing provider on the
    /// claim's dates of service (and, for a prior authorization's units
    /// used, of its code within its dates: [`registry::HistoryReach`]).
    pub history: Vec<HistoryFact>,
    /// The rule set's 365-day counts per date of service, counted by the
    /// storage layer; `None` (records of format 1, and decisions without a
    /// rule set): counted from `history`.
    pub history_counts: Option<Vec<HistoryCounts>>,
    /// The date the claim was received (timely filing counts to it).
    pub received_on: Date,
    /// The clock the decision runs under, injected by the caller.
    pub decided_on: Date,
    /// The member's plan and accumulators ([`benefits`]); empty: no cost sharing.
    pub benefits: BenefitFacts,
    /// A reviewer's decision of the pended claim ([`review`]): it decides the claim instead of the engine.
    pub review: Option<ClaimReviewed>,
    /// An appeal a reviewer decided ([`appeal`]): upheld, or overturned and the claim decided again.
    pub appeal: Option<appeal::AppealFacts>,
}

/// What adjudication decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The original's decision, every amount negated.
    Reversed(ClaimReversed),
    Adjudicated(ClaimAdjudicated),
    /// Set aside for review: no outcome yet.
    Pended(ClaimPended),
    /// The member's (family's) accumulators changed: applied or reversed.
    Accumulators(AccumulatorsChanged),
    /// An appeal's outcome, after the claim's events.
    AppealDecided(ClaimAppealDecided),
}

impl Event {
    /// The payload's RFC 8785 canonical bytes: what a replay compares.
    pub fn canonical_payload(&self) -> Result<Vec<u8>, claimtrail_events::canonical::CanonicalError> {
        use claimtrail_events::canonical::to_canonical_vec;
        match self {
            Event::Reversed(reversal) => to_canonical_vec(reversal),
            Event::Adjudicated(decision) => to_canonical_vec(decision),
            Event::Pended(pended) => to_canonical_vec(pended),
            Event::Accumulators(changed) => to_canonical_vec(changed),
            Event::AppealDecided(decided) => to_canonical_vec(decided),
        }
    }

    /// The payload's event type name.
    pub fn event_type(&self) -> &'static str {
        match self {
            Event::Reversed(_) => ClaimReversed::EVENT_TYPE,
            Event::Adjudicated(_) => ClaimAdjudicated::EVENT_TYPE,
            Event::Pended(_) => ClaimPended::EVENT_TYPE,
            Event::Accumulators(_) => AccumulatorsChanged::EVENT_TYPE,
            Event::AppealDecided(_) => ClaimAppealDecided::EVENT_TYPE,
        }
    }

    /// The claim the event is about.
    pub fn claim_id(&self) -> Uuid {
        match self {
            Event::Reversed(reversal) => reversal.claim_id,
            Event::Adjudicated(decision) => decision.claim_id,
            Event::Pended(pended) => pended.claim_id,
            Event::Accumulators(changed) => changed.claim_id.unwrap_or_default(),
            Event::AppealDecided(decided) => decided.claim_id,
        }
    }

    /// Whether this is the claim's own event (a decision, a reversal, a pend),
    /// not one beside it (accumulators, an appeal's outcome).
    pub fn is_claim_event(&self) -> bool {
        matches!(self, Event::Reversed(_) | Event::Adjudicated(_) | Event::Pended(_))
    }
}

/// The claim's own event among `events`: the last decision, reversal or pend
/// (what a decision record stores and a replay compares).
pub fn claim_event(events: &[Event]) -> Option<&Event> {
    events.iter().rev().find(|event| event.is_claim_event())
}

/// Why a command cannot be decided now.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Rejection {
    #[error("claim {0} replaces or voids no claim id")]
    NoRelatedClaim(Uuid),
    /// Delivered before its original was decided: retried later.
    #[error("the original claim {original} of claim {claim} is not decided yet")]
    OriginalNotDecided { claim: Uuid, original: String },
    #[error(transparent)]
    Pricing(#[from] PricingError),
    /// A recorded policy that cannot be rebuilt (replay only).
    #[error(transparent)]
    Policy(#[from] policy::PolicyReplayError),
    /// The benefit step could not share the cost (an amount out of range,
    /// accumulators that would count a claim twice).
    #[error(transparent)]
    Benefits(#[from] claimtrail_benefits::BenefitError),
    /// A review that does not fit the claim (every fault, with its path).
    #[error("the review does not fit the claim: {0}")]
    Review(String),
    /// A correction or reprocessing that cannot be decided (accumulators that would go below zero, no standing decision).
    #[error("reprocessing: {0}")]
    Reprocessing(String),
}

impl Rejection {
    /// True when the same command may succeed later (the facts will change).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Rejection::OriginalNotDecided { .. })
    }
}

/// The claim id a replacement or void names, if it names a well-formed one.
pub fn related_claim(claim: &SubmittedClaim) -> Option<Uuid> {
    claim.related_claim_id.map(Uuid::from)
}

/// The member and payer a claim is decided against, or the pend of a claim
/// whose member or payer the registry does not hold: intake accepted it
/// against its own registry, so adjudication's lags or disagrees, and a
/// person should look rather than a denial go out.
fn member_and_payer<'r>(claim: &SubmittedClaim, registry: &'r RegistryFacts) -> Result<(&'r MemberFacts, &'r PayerFacts), Box<ClaimPended>> {
    let pend = |reason: &str, step: &str, detail: String| {
        Box::new(ClaimPended {
            claim_id: claim.claim_id,
            payer_id: claim.payer_id.to_string(),
            billing_npi: claim.billing_npi.to_string(),
            reason: reason.into(),
            step: step.into(),
            detail,
        })
    };
    let Some(member) = &registry.member else {
        return Err(pend("member-not-in-registry", "eligibility", format!("payer {}'s enrollments name no such member", claim.payer_id)));
    };
    let Some(payer) = &registry.payer else {
        return Err(pend("payer-not-in-registry", "timely-filing", format!("payer {} is not in adjudication's registry", claim.payer_id)));
    };
    Ok((member, payer))
}

/// Decides `command` under `facts`: the events to record, in order, or why
/// not. The claim's own event (decision, reversal of a void, pend) is last;
/// accumulator changes come before the claim event that causes them.
pub fn decide(facts: &Facts<'_>, command: &Command) -> Result<Vec<Event>, Rejection> {
    let Command::Adjudicate(claim) = command;
    let events = decide_claim(facts, command)?;
    let tier = benefits::network_tier(claim, facts.policy);
    let mut events = benefits::apply(claim, &facts.benefits, tier, events)?;
    if let Some(appeal) = &facts.appeal {
        let outcome = appeal::outcome(appeal, &events);
        events.push(Event::AppealDecided(outcome));
    }
    Ok(events)
}

/// Edits, pricing and rules ([`engine`]), and reversals: [`decide`] before the benefit step.
fn decide_claim(facts: &Facts<'_>, command: &Command) -> Result<Vec<Event>, Rejection> {
    let Command::Adjudicate(claim) = command;
    if let Some(appeal) = &facts.appeal {
        return appeal::decide(claim, facts, appeal);
    }
    if let Some(review) = &facts.review {
        return review::decide(claim, facts, review);
    }
    let mut events = Vec::with_capacity(2);
    if claim.frequency != Frequency::Original {
        related_claim(claim).ok_or(Rejection::NoRelatedClaim(claim.claim_id))?;
        match &facts.original {
            DecisionState::Undecided => {
                return Err(Rejection::OriginalNotDecided {
                    claim: claim.claim_id,
                    original: claim.related_claim_id.map(|id| id.to_string()).unwrap_or_default(),
                });
            }
            DecisionState::Decided { decision: original } => {
                if claim.frequency == Frequency::Void {
                    return Ok(vec![Event::Reversed(pricing::reverse(original, claim))]);
                }
                if let Err(pended) = member_and_payer(claim, &facts.registry) {
                    return Ok(vec![Event::Pended(*pended)]);
                }
                events.push(Event::Reversed(pricing::reverse(original, claim)));
            }
            DecisionState::Reversed { decision, by_claim_id } => {
                return Ok(vec![Event::Adjudicated(pricing::deny_already_reversed(claim, by_claim_id, &decision.rule_set_hash))]);
            }
        }
    }
    let registry = &facts.registry;
    let (member, payer) = match member_and_payer(claim, registry) {
        Ok(found) => found,
        Err(pended) => return Ok(vec![Event::Pended(*pended)]),
    };
    let empty = PolicyInForce::default();
    let policy = facts.policy.unwrap_or(&empty);
    match engine::decide_original(claim, facts, member, payer, policy)? {
        // A pend sets the claim aside whole: a replacement's reversal waits with it.
        pended @ Event::Pended(_) => return Ok(vec![pended]),
        event => events.push(event),
    }
    Ok(events)
}

/// The state of the claim `event` concerns, after it.
pub fn apply(state: DecisionState, event: &Event) -> DecisionState {
    match (state, event) {
        (_, Event::Adjudicated(decision)) => DecisionState::Decided { decision: decision.clone() },
        (DecisionState::Decided { decision }, Event::Reversed(reversal)) => DecisionState::Reversed { decision, by_claim_id: reversal.by_claim_id.to_string() },
        // A reversal of something not decided here changes nothing (decide never emits one).
        (state, Event::Reversed(_)) => state,
        // Pended: still undecided.
        (state, Event::Pended(_)) => state,
        // Accumulators are the member's, not the claim's decision.
        (state, Event::Accumulators(_)) => state,
        // An appeal's outcome: an overturn's corrected decision came before it.
        (state, Event::AppealDecided(_)) => state,
    }
}

/// Claims and facts for the core's tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use claimtrail_events::{ClaimLine, ClaimType, Frequency, Money, SubmittedClaim, Timestamp};
    use rust_decimal::Decimal;
    use time::macros::date;
    use uuid::Uuid;

    use super::{
        Command, DecisionRecord, DecisionState, Event, Facts, FeeSchedule, MemberFacts, PayerFacts, PolicyInForce, ProviderFacts, RegistryFacts, Rejection,
        ResolvedRuleSet, decide,
    };

    /// Replays `record` as the service does: the rule set it cites by hash
    /// (format 3) is resolved from `policy`, standing in for the store, and
    /// verified against the hash.
    pub fn replayed(record: &DecisionRecord, policy: Option<&PolicyInForce>) -> Result<Vec<Event>, Rejection> {
        let resolved = record.rule_set_to_resolve().map(|used| {
            let stored = policy.and_then(|policy| policy.rule_set.as_ref()).expect("the rule set the record cites");
            ResolvedRuleSet::verify(used, stored.canonical_bytes()).expect("the stored document is the one the record cites")
        });
        record.replay_with(resolved.as_ref())
    }

    /// Given `facts`, when `command`, then `expected` (cqrs-es style).
    pub fn check(given: Facts<'_>, when: Command, then: impl FnOnce(Result<Vec<Event>, Rejection>)) {
        then(decide(&given, &when));
    }

    /// The fixture claim's member, provider and payer: covered and enrolled
    /// through 2026, 365 days to file, received on 2026-11-05.
    pub fn facts(schedule: &FeeSchedule, original: DecisionState) -> Facts<'_> {
        let recorded_at = Timestamp::parse("2026-01-02T00:00:00.000000Z").expect("a timestamp");
        Facts {
            schedule: Some(schedule),
            policy: None,
            original,
            registry: RegistryFacts {
                member: Some(MemberFacts {
                    member_id: "M1".into(),
                    plan_id: "PPO".into(),
                    subscriber_id: Some("M1".into()),
                    coverage_start: date!(2026 - 01 - 01),
                    coverage_end: date!(2026 - 12 - 31),
                    date_of_death: None,
                    birth_date: None,
                    sex: None,
                    relationship: None,
                    recorded_at,
                }),
                provider: Some(ProviderFacts {
                    npi: "1234567893".into(),
                    enrollment_start: date!(2026 - 01 - 01),
                    enrollment_end: date!(2026 - 12 - 31),
                    entity_type: None,
                    taxonomy: None,
                    last_name: None,
                    first_name: None,
                    birth_date: None,
                    recorded_at,
                }),
                payer: Some(PayerFacts { payer_id: "PAYER1".into(), timely_filing_days: 365, recorded_at }),
                rendering_provider: None,
            },
            history: vec![],
            history_counts: None,
            received_on: date!(2026 - 11 - 05),
            decided_on: date!(2026 - 11 - 05),
            benefits: super::BenefitFacts::default(),
            review: None,
            appeal: None,
        }
    }

    /// A professional claim with `lines` of (code, charge, units), served 2026-11-01.
    pub fn claim(frequency: Frequency, related: Option<Uuid>, lines: &[(&str, &str, i64)]) -> SubmittedClaim {
        SubmittedClaim {
            claim_id: Uuid::now_v7(),
            claim_type: ClaimType::Professional,
            frequency,
            related_claim_id: related.map(Into::into),
            patient_control_number: None,
            billing_npi: "1234567893".parse().unwrap(),
            rendering_npi: None,
            payer_id: "PAYER1".parse().unwrap(),
            member_id: "M1".parse().unwrap(),
            diagnoses: vec![],
            lines: lines
                .iter()
                .enumerate()
                .map(|(idx, (code, charge, units))| ClaimLine {
                    sequence: idx as u32 + 1,
                    procedure_code: code.parse().unwrap(),
                    modifiers: vec![],
                    quantity: Decimal::from(*units),
                    charge: Money::parse(charge).unwrap(),
                    service_date: time::macros::date!(2026 - 11 - 01),
                    place_of_service: Some("11".parse().unwrap()),
                    diagnosis_pointers: vec![1],
                    revenue_code: None,
                })
                .collect(),
            total_charge: Money::ZERO,
            subscriber_id: None,
            service_zip: None,
            prior_authorization: None,
            drg: None,
            admission_date: None,
            statement_from: None,
            statement_to: None,
            type_of_bill: None,
            cob: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use claimtrail_events::{Adjustment, Money, Outcome, Timestamp};
    use time::macros::date;

    fn claim(frequency: Frequency, related: Option<Uuid>, lines: &[(&str, &str)]) -> SubmittedClaim {
        let lines: Vec<(&str, &str, i64)> = lines.iter().map(|(code, charge)| (*code, *charge, 1)).collect();
        fixtures::claim(frequency, related, &lines)
    }

    fn schedule() -> FeeSchedule {
        FeeSchedule { content_hash: "abcdef0123456789".into(), fees: [("99213".to_owned(), Money::parse("120.00").unwrap())].into() }
    }

    /// The fixture's member, provider and payer, covered and enrolled through 2026, 365 days to file.
    fn facts<'a>(schedule: &'a FeeSchedule, original: DecisionState) -> Facts<'a> {
        fixtures::facts(schedule, original)
    }

    use super::fixtures::check;

    fn decided(claim: &SubmittedClaim) -> ClaimAdjudicated {
        pricing::adjudicate(claim, Some(&schedule()), &[]).unwrap()
    }

    fn only_decision(then: Result<Vec<Event>, Rejection>) -> ClaimAdjudicated {
        let events = then.unwrap();
        let [Event::Adjudicated(decision)] = events.as_slice() else { panic!("{events:?}") };
        decision.clone()
    }

    #[test]
    fn an_original_is_priced() {
        let original = claim(Frequency::Original, None, &[("99213", "180.00")]);
        check(facts(&schedule(), DecisionState::Undecided), Command::Adjudicate(original.clone()), |then| {
            assert_eq!(then.unwrap(), vec![Event::Adjudicated(decided(&original))]);
        });
    }

    #[test]
    fn a_claim_after_the_coverage_ended_is_denied_co_27_not_rejected() {
        let original = claim(Frequency::Original, None, &[("99213", "180.00")]);
        let schedule = schedule();
        let mut given = facts(&schedule, DecisionState::Undecided);
        if let Some(member) = given.registry.member.as_mut() {
            member.coverage_end = date!(2026 - 10 - 31);
        }
        check(given, Command::Adjudicate(original), |then| {
            let decision = only_decision(then);
            assert_eq!(decision.outcome, Outcome::Denied);
            assert_eq!(
                decision.lines[0].adjustments,
                vec![Adjustment {
                    group: claimtrail_codes::GroupCode::Co,
                    reason: claimtrail_codes::Carc::AFTER_COVERAGE,
                    amount: Money::parse("180.00").unwrap()
                }]
            );
        });
    }

    #[test]
    fn a_service_after_a_date_of_death_is_denied_co_13() {
        let original = claim(Frequency::Original, None, &[("99213", "180.00")]);
        let schedule = schedule();
        let mut given = facts(&schedule, DecisionState::Undecided);
        if let Some(member) = given.registry.member.as_mut() {
            member.date_of_death = Some(date!(2026 - 10 - 15));
        }
        check(given, Command::Adjudicate(original), |then| {
            assert_eq!(only_decision(then).lines[0].adjustments[0].reason, claimtrail_codes::Carc::DATE_OF_DEATH)
        });
    }

    #[test]
    fn a_claim_received_after_the_payer_s_limit_is_denied_co_29() {
        let original = claim(Frequency::Original, None, &[("99213", "180.00")]);
        let schedule = schedule();
        let mut given = facts(&schedule, DecisionState::Undecided);
        given.received_on = date!(2027 - 11 - 02);
        check(given, Command::Adjudicate(original), |then| {
            assert_eq!(only_decision(then).lines[0].adjustments[0].reason, claimtrail_codes::Carc::TIMELY_FILING)
        });
    }

    #[test]
    fn a_provider_the_registry_does_not_enroll_is_denied_co_b7() {
        let original = claim(Frequency::Original, None, &[("99213", "180.00")]);
        let schedule = schedule();
        let mut given = facts(&schedule, DecisionState::Undecided);
        given.registry.provider = None;
        check(given, Command::Adjudicate(original), |then| {
            assert_eq!(only_decision(then).lines[0].adjustments[0].reason, claimtrail_codes::Carc::PROVIDER_NOT_ELIGIBLE)
        });
    }

    #[test]
    fn a_member_the_registry_does_not_hold_pends_the_claim_with_no_outcome() {
        let original = claim(Frequency::Original, None, &[("99213", "180.00")]);
        let schedule = schedule();
        let mut given = facts(&schedule, DecisionState::Undecided);
        given.registry.member = None;
        check(given, Command::Adjudicate(original.clone()), |then| {
            let events = then.unwrap();
            let [Event::Pended(pended)] = events.as_slice() else { panic!("{events:?}") };
            assert_eq!((pended.claim_id, pended.reason.as_str(), pended.step.as_str()), (original.claim_id, "member-not-in-registry", "eligibility"));
        });
        assert_eq!(
            apply(
                DecisionState::Undecided,
                &Event::Pended(ClaimPended {
                    claim_id: original.claim_id,
                    payer_id: "P".into(),
                    billing_npi: "N".into(),
                    reason: "r".into(),
                    step: "s".into(),
                    detail: "d".into(),
                })
            ),
            DecisionState::Undecided
        );
    }

    #[test]
    fn a_payer_the_registry_does_not_hold_pends_the_claim() {
        let schedule = schedule();
        let mut given = facts(&schedule, DecisionState::Undecided);
        given.registry.payer = None;
        check(given, Command::Adjudicate(claim(Frequency::Original, None, &[("99213", "1.00")])), |then| {
            assert!(matches!(then.unwrap().as_slice(), [Event::Pended(p)] if p.reason == "payer-not-in-registry"));
        });
    }

    #[test]
    fn the_decision_date_changes_nothing_timely_filing_counts_to_receipt() {
        let original = claim(Frequency::Original, None, &[("99213", "180.00")]);
        let schedule = schedule();
        let mut later = facts(&schedule, DecisionState::Undecided);
        later.decided_on = date!(2031 - 01 - 01);
        assert_eq!(decide(&later, &Command::Adjudicate(original.clone())), decide(&facts(&schedule, DecisionState::Undecided), &Command::Adjudicate(original)));
    }

    #[test]
    fn a_replacement_reverses_its_original_then_is_priced() {
        let original = claim(Frequency::Original, None, &[("99213", "180.00")]);
        let replacement = claim(Frequency::Replacement, Some(original.claim_id), &[("99213", "100.00")]);
        check(facts(&schedule(), DecisionState::Decided { decision: decided(&original) }), Command::Adjudicate(replacement.clone()), |then| {
            let events = then.unwrap();
            let [Event::Reversed(reversal), Event::Adjudicated(decision)] = events.as_slice() else { panic!("{events:?}") };
            assert_eq!((reversal.claim_id, reversal.by_claim_id), (original.claim_id, replacement.claim_id));
            assert_eq!(reversal.total_paid.to_string(), "-120.00");
            assert_eq!(decision.claim_id, replacement.claim_id);
            assert_eq!(decision.total_paid.to_string(), "100.00");
        });
    }

    #[test]
    fn a_void_only_reverses() {
        let original = claim(Frequency::Original, None, &[("99213", "180.00")]);
        let void = claim(Frequency::Void, Some(original.claim_id), &[("99213", "180.00")]);
        check(facts(&schedule(), DecisionState::Decided { decision: decided(&original) }), Command::Adjudicate(void), |then| {
            let events = then.unwrap();
            assert!(matches!(events.as_slice(), [Event::Reversed(r)] if r.total_paid.to_string() == "-120.00"), "{events:?}");
        });
    }

    #[test]
    fn a_second_replacement_of_a_reversed_original_is_denied_with_co_129() {
        let original = claim(Frequency::Original, None, &[("99213", "180.00")]);
        let state = DecisionState::Reversed { decision: decided(&original), by_claim_id: "first-replacement".into() };
        let second = claim(Frequency::Replacement, Some(original.claim_id), &[("99213", "90.00")]);
        check(facts(&schedule(), state), Command::Adjudicate(second), |then| {
            let denial = only_decision(then);
            assert_eq!(denial.outcome, Outcome::Denied);
            assert_eq!(
                denial.lines[0].adjustments,
                vec![Adjustment {
                    group: claimtrail_codes::GroupCode::Co,
                    reason: claimtrail_codes::Carc::PRIOR_PROCESSING,
                    amount: Money::parse("90.00").unwrap()
                }]
            );
            assert!(denial.lines[0].explanation[0].contains("first-replacement"));
        });
    }

    #[test]
    fn a_replacement_before_its_original_is_decided_waits() {
        let replacement = claim(Frequency::Replacement, Some(Uuid::now_v7()), &[("99213", "100.00")]);
        check(facts(&schedule(), DecisionState::Undecided), Command::Adjudicate(replacement), |then| {
            let rejection = then.unwrap_err();
            assert!(matches!(rejection, Rejection::OriginalNotDecided { .. }) && rejection.is_retryable(), "{rejection}");
        });
    }

    #[test]
    fn a_replacement_naming_no_claim_is_refused_for_good() {
        // No related claim id at all (one that is not a claim id cannot be held: intake rejects it).
        let replacement = claim(Frequency::Replacement, None, &[("99213", "100.00")]);
        check(facts(&schedule(), DecisionState::Undecided), Command::Adjudicate(replacement.clone()), |then| {
            assert_eq!(then.unwrap_err(), Rejection::NoRelatedClaim(replacement.claim_id));
        });
    }

    #[test]
    fn applying_a_decision_then_its_reversal_leaves_it_reversed() {
        let original = claim(Frequency::Original, None, &[("99213", "180.00")]);
        let replacement = claim(Frequency::Replacement, Some(original.claim_id), &[("99213", "100.00")]);
        let decision = decided(&original);
        let state = apply(DecisionState::Undecided, &Event::Adjudicated(decision.clone()));
        assert_eq!(state, DecisionState::Decided { decision: decision.clone() });
        let state = apply(state, &Event::Reversed(pricing::reverse(&decision, &replacement)));
        assert_eq!(state, DecisionState::Reversed { decision, by_claim_id: replacement.claim_id.to_string() });
    }

    #[test]
    fn the_recorded_at_of_a_fact_is_kept_as_seen() {
        let schedule = schedule();
        let given = facts(&schedule, DecisionState::Undecided);
        assert_eq!(given.registry.member.as_ref().map(|m| m.recorded_at), Some(Timestamp::parse("2026-01-02T00:00:00.000000Z").unwrap()));
    }
}

#[cfg(test)]
mod scenarios;
