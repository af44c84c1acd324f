//! Adjudication's domain core: what a claim's decision is, given the facts
//! the service holds. Pure: no IO, no SQL, no HTTP, no bus (a test in the
//! crate's root fails on any such import); [`crate::consumer`] loads the
//! [`Facts`], calls [`decide`] and persists what it returns.
//!
//! - [`Command::Adjudicate`]: a submitted claim. An original is priced; a
//!   replacement (frequency 7) first reverses its original's decision, then
//!   is priced; a void (8) only reverses. An original already reversed by
//!   another claim denies the replacement or void whole (CO-129).
//! - [`DecisionState`] and [`apply`]: one claim's decision as its events
//!   leave it (decided, then perhaps reversed).
//! - [`pricing`]: the pricing steps (fee schedule, CO-45, CO-96).

pub mod pricing;

use claimtrail_events::{ClaimAdjudicated, ClaimReversed, Frequency, SubmittedClaim};
use uuid::Uuid;

pub use pricing::{FeeSchedule, PricingError};

/// What adjudication is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Decide a claim intake accepted.
    Adjudicate(SubmittedClaim),
}

/// One claim's decision, as its events leave it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum DecisionState {
    /// Not decided (yet).
    #[default]
    Undecided,
    Decided(ClaimAdjudicated),
    /// Decided, then reversed by a replacement or void.
    Reversed {
        decision: ClaimAdjudicated,
        by_claim_id: String,
    },
}

/// What [`decide`] needs to know besides the command.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    /// The payer's fee schedule in force (borrowed: one read serves a batch's claims).
    pub schedule: &'a FeeSchedule,
    /// For a replacement or void: the decision of the claim it names.
    pub original: DecisionState,
}

/// What adjudication decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The original's decision, every amount negated.
    Reversed(ClaimReversed),
    Adjudicated(ClaimAdjudicated),
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
}

impl Rejection {
    /// True when the same command may succeed later (the facts will change).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Rejection::OriginalNotDecided { .. })
    }
}

/// The claim id a replacement or void names, if it names a well-formed one.
pub fn related_claim(claim: &SubmittedClaim) -> Option<Uuid> {
    claim.related_claim_id.as_deref().and_then(|id| Uuid::parse_str(id).ok())
}

/// Decides `command` under `facts`: the events to record, in order, or why not.
pub fn decide(facts: &Facts<'_>, command: &Command) -> Result<Vec<Event>, Rejection> {
    let Command::Adjudicate(claim) = command;
    let mut events = Vec::with_capacity(2);
    if claim.frequency != Frequency::Original {
        related_claim(claim).ok_or(Rejection::NoRelatedClaim(claim.claim_id))?;
        match &facts.original {
            DecisionState::Undecided => {
                return Err(Rejection::OriginalNotDecided { claim: claim.claim_id, original: claim.related_claim_id.clone().unwrap_or_default() });
            }
            DecisionState::Decided(original) => {
                events.push(Event::Reversed(pricing::reverse(original, claim)));
                if claim.frequency == Frequency::Void {
                    return Ok(events);
                }
            }
            DecisionState::Reversed { decision, by_claim_id } => {
                return Ok(vec![Event::Adjudicated(pricing::deny_already_reversed(claim, by_claim_id, &decision.rule_set_hash))]);
            }
        }
    }
    events.push(Event::Adjudicated(pricing::adjudicate(claim, facts.schedule)?));
    Ok(events)
}

/// The state of the claim `event` concerns, after it.
pub fn apply(state: DecisionState, event: &Event) -> DecisionState {
    match (state, event) {
        (_, Event::Adjudicated(decision)) => DecisionState::Decided(decision.clone()),
        (DecisionState::Decided(decision), Event::Reversed(reversal)) => DecisionState::Reversed { decision, by_claim_id: reversal.by_claim_id.to_string() },
        // A reversal of something not decided here changes nothing (decide never emits one).
        (state, Event::Reversed(_)) => state,
    }
}

/// Claims for the core's tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use claimtrail_events::{ClaimLine, ClaimType, Frequency, Money, SubmittedClaim};
    use rust_decimal::Decimal;
    use uuid::Uuid;

    /// A professional claim with `lines` of (code, charge, units), served 2026-11-01.
    pub fn claim(frequency: Frequency, related: Option<Uuid>, lines: &[(&str, &str, i64)]) -> SubmittedClaim {
        SubmittedClaim {
            claim_id: Uuid::now_v7(),
            claim_type: ClaimType::Professional,
            frequency,
            related_claim_id: related.map(|id| id.to_string()),
            patient_control_number: None,
            billing_npi: "1234567893".into(),
            rendering_npi: None,
            payer_id: "PAYER1".into(),
            member_id: "M1".into(),
            diagnoses: vec![],
            lines: lines
                .iter()
                .enumerate()
                .map(|(idx, (code, charge, units))| ClaimLine {
                    sequence: idx as u32 + 1,
                    procedure_code: (*code).into(),
                    modifiers: vec![],
                    quantity: Decimal::from(*units),
                    charge: Money::parse(charge).unwrap(),
                    service_date: time::macros::date!(2026 - 11 - 01),
                    place_of_service: Some("11".into()),
                    diagnosis_pointers: vec![1],
                })
                .collect(),
            total_charge: Money::ZERO,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use claimtrail_events::{Adjustment, Money, Outcome};

    fn claim(frequency: Frequency, related: Option<Uuid>, lines: &[(&str, &str)]) -> SubmittedClaim {
        let lines: Vec<(&str, &str, i64)> = lines.iter().map(|(code, charge)| (*code, *charge, 1)).collect();
        fixtures::claim(frequency, related, &lines)
    }

    fn schedule() -> FeeSchedule {
        FeeSchedule { content_hash: "abcdef0123456789".into(), fees: [("99213".to_owned(), Money::parse("120.00").unwrap())].into() }
    }

    /// Given `facts`, when `command`, then `expected` (cqrs-es style).
    fn check(given: Facts<'_>, when: Command, then: impl FnOnce(Result<Vec<Event>, Rejection>)) {
        then(decide(&given, &when));
    }

    fn decided(claim: &SubmittedClaim) -> ClaimAdjudicated {
        pricing::adjudicate(claim, &schedule()).unwrap()
    }

    #[test]
    fn an_original_is_priced() {
        let original = claim(Frequency::Original, None, &[("99213", "180.00")]);
        check(Facts { schedule: &schedule(), original: DecisionState::Undecided }, Command::Adjudicate(original.clone()), |then| {
            let events = then.unwrap();
            assert_eq!(events, vec![Event::Adjudicated(decided(&original))]);
        });
    }

    #[test]
    fn a_replacement_reverses_its_original_then_is_priced() {
        let original = claim(Frequency::Original, None, &[("99213", "180.00")]);
        let replacement = claim(Frequency::Replacement, Some(original.claim_id), &[("99213", "100.00")]);
        check(Facts { schedule: &schedule(), original: DecisionState::Decided(decided(&original)) }, Command::Adjudicate(replacement.clone()), |then| {
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
        check(Facts { schedule: &schedule(), original: DecisionState::Decided(decided(&original)) }, Command::Adjudicate(void), |then| {
            let events = then.unwrap();
            assert!(matches!(events.as_slice(), [Event::Reversed(r)] if r.total_paid.to_string() == "-120.00"), "{events:?}");
        });
    }

    #[test]
    fn a_second_replacement_of_a_reversed_original_is_denied_with_co_129() {
        let original = claim(Frequency::Original, None, &[("99213", "180.00")]);
        let state = DecisionState::Reversed { decision: decided(&original), by_claim_id: "first-replacement".into() };
        let second = claim(Frequency::Replacement, Some(original.claim_id), &[("99213", "90.00")]);
        check(Facts { schedule: &schedule(), original: state }, Command::Adjudicate(second), |then| {
            let events = then.unwrap();
            let [Event::Adjudicated(denial)] = events.as_slice() else { panic!("{events:?}") };
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
        check(Facts { schedule: &schedule(), original: DecisionState::Undecided }, Command::Adjudicate(replacement), |then| {
            let rejection = then.unwrap_err();
            assert!(matches!(rejection, Rejection::OriginalNotDecided { .. }) && rejection.is_retryable(), "{rejection}");
        });
    }

    #[test]
    fn a_replacement_naming_no_claim_is_refused_for_good() {
        let mut replacement = claim(Frequency::Replacement, None, &[("99213", "100.00")]);
        replacement.related_claim_id = Some("not-a-uuid".into());
        check(Facts { schedule: &schedule(), original: DecisionState::Undecided }, Command::Adjudicate(replacement.clone()), |then| {
            assert_eq!(then.unwrap_err(), Rejection::NoRelatedClaim(replacement.claim_id));
        });
    }

    #[test]
    fn applying_a_decision_then_its_reversal_leaves_it_reversed() {
        let original = claim(Frequency::Original, None, &[("99213", "180.00")]);
        let replacement = claim(Frequency::Replacement, Some(original.claim_id), &[("99213", "100.00")]);
        let decision = decided(&original);
        let state = apply(DecisionState::Undecided, &Event::Adjudicated(decision.clone()));
        assert_eq!(state, DecisionState::Decided(decision.clone()));
        let state = apply(state, &Event::Reversed(pricing::reverse(&decision, &replacement)));
        assert_eq!(state, DecisionState::Reversed { decision, by_claim_id: replacement.claim_id.to_string() });
    }
}
