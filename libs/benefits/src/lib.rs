//! Benefits: what a member owes and what the payer pays after pricing and
//! the payer's rules. Benefit plans, cost sharing per line, event-sourced
//! accumulators, corrections and coordination of benefits as the secondary
//! payer. Pure: no IO, no tokio, no SQL, no HTTP; the adjudication engine
//! stores plans and accumulator events and calls these. docs/benefits.md
//! describes the model.
//!
//! # Layout
//!
//! - [`plan`]: [`Plan`] (the JSON body of `PUT /v1/payers/{payer_id}/plans/{plan_id}`),
//!   its validation with every path and reason, [`CompiledPlan`] and its content hash.
//! - [`bucket`]: [`Bucket`], the eight fixed accumulator buckets, and [`Tier`].
//! - [`accumulators`]: the accumulator events and [`Accumulators`], their fold.
//! - [`cost_share`]: copay, deductible, coinsurance and the out-of-pocket cap per
//!   line ([`cost_share()`]), and the claim outcome rule ([`claim_outcome`]).
//! - [`corrections`]: reversal of a claim and re-adjudication of the later
//!   claims that used the same accumulators ([`reverse_and_replay`]).
//! - [`cob`]: coordination of benefits as the secondary payer ([`secondary_line`]).
//! - [`import`]: the accumulator CSV of mid-year onboarding ([`parse_import`]).

pub mod accumulators;
pub mod bucket;
pub mod cob;
pub mod corrections;
pub mod cost_share;
pub mod import;
pub mod plan;

#[cfg(test)]
mod scenarios;

pub use accumulators::{
    AccumulatorEntry, AccumulatorError, AccumulatorEvent, Accumulators, AccumulatorsApplied, AccumulatorsImported, AccumulatorsReversed, ClaimVersion,
};
pub use bucket::{Bucket, BucketError, BucketKind, Level, Tier};
pub use cob::{CobError, CobLine, CobLineDecision, cob_line, secondary_claim, secondary_line};
pub use corrections::{Correction, LineCorrection, RecordedClaim, RecordedLine, Replayed, reverse_and_replay};
pub use cost_share::{
    BenefitClaim, BenefitError, BenefitLine, BenefitRule, BenefitStep, BucketPosition, ClaimBenefits, LineBenefits, claim_outcome, cost_share,
};
pub use import::parse_import;
pub use plan::{
    CategoryBenefit, CategoryMapping, CategoryTerms, CobMethod, CompiledPlan, CompiledTier, FamilyRule, Limits, Plan, PlanErrors, TierBenefits, Tiers,
};
