//! A payer's own rules: a GoRules JSON Decision Model (JDM) graph of
//! decision tables whose cells are in the ZEN expression language, plus the
//! payer's policy switches, parsed, validated and compiled once per version
//! and evaluated per claim line, deterministically. Pure: no IO, no clock.
//!
//! # Layout
//!
//! - `rule_set`: [`RuleSet::parse`] (every problem with its path, or a
//!   whole compiled rule set), [`RuleSet::evaluate`] (the [`Fired`] rules in
//!   a fixed order), the content hash.
//! - `facts`: the fact model a cell reads ([`Facts`], [`FACT_FIELDS`],
//!   [`FACT_MODEL_VERSION`]).
//! - `action`: the fixed set of [`Action`]s a table can take and the output
//!   columns that name them.
//! - `policy`: the payer's policy switches ([`Policy`]).
//! - `error`: [`RuleSetErrors`] (upload) and [`EvaluationError`] (a cell
//!   that failed: the engine pends the claim).
//! - `cell`: compiling one cell, refusing clock reads and unknown fields.
//! - `document`: limits, layout numbers and the canonical bytes.
//! - `zone`: the time zone date functions run in.
//!
//! docs/rules.md describes the body, the fact model, the actions and the
//! determinism rules for payers; the bench is `benches/rules.rs`.
//!
//! # Determinism
//!
//! A decision must replay byte for byte, so: each cell is compiled once
//! (evaluation never parses); the system clock is never read (`now`,
//! `d()`, `rand`, `isToday` and the like are refused at upload, and
//! `decision.date` carries the recorded clock); a cell that fails is an
//! error, never a skipped row; nodes run in one topological order, ties
//! broken by document order; numbers are `rust_decimal`.

mod action;
mod cell;
mod document;
mod error;
mod facts;
mod policy;
mod rule_set;
mod zone;

// The shared test helpers name this crate as the tests outside it do.
#[cfg(test)]
extern crate self as claimtrail_rules;
#[cfg(test)]
mod tests;

pub use action::{ACTION_NAMES, Action, OUTPUT_FIELDS};
pub use cell::CELL_LENGTH_MAX;
pub use document::{BODY_BYTES_MAX, COLUMNS_MAX, NAME_LENGTH_MAX, NODES_MAX, RULES_MAX};
pub use error::{CellPath, EvaluationError, RuleSetError, RuleSetErrors};
pub use facts::{
    ClaimFacts, ClaimType, DecisionFacts, EntityType, FACT_FIELDS, FACT_MODEL_VERSION, FACT_ROOTS, FactType, Facts, HistoryFacts, LineFacts, MemberFacts,
    ProviderFacts, Relationship, Sex,
};
pub use policy::{MueAction, PEND_CODES_MAX, Policy, StandardEdit, TIMELY_FILING_DAYS_MAX};
pub use rule_set::{Fired, RuleSet};

/// The evaluator recorded with each decision: this crate's rules of
/// evaluation and the zen-expression version that runs the cells. A replay
/// under another evaluator version may decide differently, and says so.
pub const EVALUATOR_VERSION: &str = concat!("claimtrail-rules/1 zen-expression/", "2.1.6");
