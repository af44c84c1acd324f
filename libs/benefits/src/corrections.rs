//! Corrections: what a replacement (frequency 7) or a void (frequency 8)
//! of claim A does to the accumulators, and to the later claims that used
//! them.
//!
//! A's entries are reversed exactly ([`Accumulators::reverse`]); a
//! replacement A' is then cost-shared in A's place. Every later claim of the
//! same member or family in the plan year saw accumulators that included A,
//! so each is re-adjudicated in its original order against the corrected
//! accumulators (all later claims are taken back first, then decided again
//! one by one, so each sees exactly the claims before it). A later claim
//! whose adjustments, payment or entries come out the same is left alone;
//! one that changes yields a [`Correction`]: the reversal of its recorded
//! version, its new version (`version + 1`) and the difference in payment
//! that settlement pays (positive) or recoups (negative).

use claimtrail_events::{Adjustment, Money};

use crate::accumulators::{AccumulatorEvent, Accumulators, AccumulatorsReversed, ClaimVersion};
use crate::cost_share::{BenefitClaim, BenefitError, ClaimBenefits, cost_share};
use crate::plan::CompiledPlan;

/// A claim decided earlier: its input as recorded, and what was paid per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedClaim {
    pub input: BenefitClaim,
    pub lines: Vec<RecordedLine>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedLine {
    pub sequence: u32,
    pub paid: Money,
    pub adjustments: Vec<Adjustment>,
}

impl RecordedClaim {
    /// The record of a claim decided as `benefits`.
    pub fn new(input: BenefitClaim, benefits: &ClaimBenefits) -> RecordedClaim {
        let lines =
            benefits.lines.iter().map(|line| RecordedLine { sequence: line.sequence, paid: line.paid, adjustments: line.adjustments.clone() }).collect();
        RecordedClaim { input, lines }
    }
}

/// A later claim decided again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correction {
    /// The version that was recorded, now reversed.
    pub reversed: AccumulatorsReversed,
    /// The new decision, as version `reversed.claim.version + 1`.
    pub benefits: ClaimBenefits,
    pub lines: Vec<LineCorrection>,
    /// New paid − recorded paid: settlement pays it when positive, recoups it when negative.
    pub paid_difference: Money,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineCorrection {
    pub sequence: u32,
    pub paid_before: Money,
    pub paid_after: Money,
    pub adjustments_before: Vec<Adjustment>,
    pub adjustments_after: Vec<Adjustment>,
}

/// Everything a reversal of A caused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replayed {
    /// The accumulator events to record, in order: A reversed, A' applied
    /// (a replacement), then each changed later claim reversed and applied.
    pub events: Vec<AccumulatorEvent>,
    /// A' decided, for a replacement.
    pub replacement: Option<ClaimBenefits>,
    pub corrections: Vec<Correction>,
}

/// Reverses `reversed` (and, for a replacement, decides `replacement` in
/// its place), then re-adjudicates `later` (the claims decided after it
/// that share its accumulators, in their original order).
pub fn reverse_and_replay(
    plan: &CompiledPlan,
    position: &Accumulators,
    reversed: &ClaimVersion,
    replacement: Option<&BenefitClaim>,
    later: &[RecordedClaim],
) -> Result<Replayed, BenefitError> {
    let mut events = Vec::new();
    let reversal = position.reverse(reversed)?;
    let mut scratch = position.clone();
    scratch.apply(&AccumulatorEvent::Reversed(reversal.clone()));
    events.push(AccumulatorEvent::Reversed(reversal));

    // Take every later claim back first, so each is decided again seeing only what came before it.
    let mut later_reversals = Vec::with_capacity(later.len());
    for recorded in later.iter().rev() {
        let later_reversal = scratch.reverse(&recorded.input.claim)?;
        scratch.apply(&AccumulatorEvent::Reversed(later_reversal.clone()));
        later_reversals.push(later_reversal);
    }
    later_reversals.reverse();

    let replacement = match replacement {
        Some(claim) => {
            let benefits = cost_share(plan, claim, &scratch)?;
            let applied = AccumulatorEvent::Applied(benefits.applied.clone());
            scratch.apply(&applied);
            events.push(applied);
            Some(benefits)
        }
        None => None,
    };

    let mut corrections = Vec::new();
    for (recorded, later_reversal) in later.iter().zip(later_reversals) {
        let mut input = recorded.input.clone();
        input.claim.version += 1;
        let benefits = cost_share(plan, &input, &scratch)?;
        scratch.apply(&AccumulatorEvent::Applied(benefits.applied.clone()));
        let same_entries = later_reversal.entries.iter().map(|entry| (&entry.member_id, entry.plan_year, entry.bucket, entry.amount.negated())).eq(benefits
            .applied
            .entries
            .iter()
            .map(|entry| (&entry.member_id, entry.plan_year, entry.bucket, entry.amount)));
        let same_lines = recorded.lines.len() == benefits.lines.len()
            && recorded.lines.iter().zip(&benefits.lines).all(|(before, after)| before.paid == after.paid && before.adjustments == after.adjustments);
        if same_entries && same_lines {
            continue;
        }
        let lines: Vec<LineCorrection> = recorded
            .lines
            .iter()
            .zip(&benefits.lines)
            .map(|(before, after)| LineCorrection {
                sequence: after.sequence,
                paid_before: before.paid,
                paid_after: after.paid,
                adjustments_before: before.adjustments.clone(),
                adjustments_after: after.adjustments.clone(),
            })
            .collect();
        let paid_before = Money::checked_sum(recorded.lines.iter().map(|line| &line.paid)).ok_or(BenefitError::OutOfRange { sequence: 0 })?;
        let paid_difference = benefits.paid.checked_sub(paid_before).ok_or(BenefitError::OutOfRange { sequence: 0 })?;
        events.push(AccumulatorEvent::Reversed(later_reversal.clone()));
        events.push(AccumulatorEvent::Applied(benefits.applied.clone()));
        corrections.push(Correction { reversed: later_reversal, benefits, lines, paid_difference });
    }
    Ok(Replayed { events, replacement, corrections })
}
