//! FHIR R4 at Claimtrail's edge: Claims (and Bundles of them) in, mapped to
//! the domain's [`SubmittedClaim`](claimtrail_events::SubmittedClaim);
//! ClaimResponse and ExplanationOfBenefit out. Pure: no IO, no async, never
//! panics on any input.
//!
//! # Layout
//! - [`submission`]: [`parse_submission`], the body (a Claim or a Bundle) and its limits.
//! - [`claim`]: one FHIR Claim → [`MappedClaim`]; which element gives which field.
//! - re-exported from `claimtrail-events`, which X12 shares: [`MappedClaim`]
//!   (a domain claim as read, where each field was read, and its issues), [`edits`] (the
//!   front-end edits that make a well-formed claim `rejected`, and their
//!   codes), [`FieldError`], [`MONEY_CENTS_MAX`] and [`QUANTITY_MAX`]; and
//!   from `claimtrail-codes`, [`Npi`], [`Icd10Code`], [`ProcedureCode`].
//! - [`mod@claim_response`], [`eob`]: the decision as a ClaimResponse or ExplanationOfBenefit.
//! - [`mod@payment_reconciliation`]: a remittance as a PaymentReconciliation (settlement).
//! - [`paid`]: a paid claim's payment (date, amount, EFT trace) on its ClaimResponse or EOB.
//! - [`balance`]: the member's accumulator position after the claim as the EOB's `benefitBalance`.
//! - [`error`]: [`FhirError`] (400 / 422), [`FieldError`] (FHIRPath + message), [`EntryError`].
//! - internal: `node` (reading JSON with FHIRPaths), `resolve` (references),
//!   `amount` (exact decimals), `output` (shared output pieces).
//!
//! # Money
//! FHIR carries amounts as JSON numbers. They are read into `rust_decimal`
//! from their text, refusing more than two places, exponents and amounts over
//! [`MONEY_CENTS_MAX`] (so every accepted amount is exact; see `amount`),
//! and written from the decimal's text, so `80.10` goes out as `80.1`.

pub mod balance;
pub mod claim;
pub mod claim_response;
pub mod eob;
pub mod error;
pub mod paid;
pub mod payment_reconciliation;
pub mod submission;

mod amount;
mod cob;
mod node;
mod output;
mod resolve;

pub use balance::with_balances;
pub use claim_response::claim_response;
pub use claimtrail_codes::{CodeSet, Icd10Code, Icd10Error, Npi, NpiError, ProcedureCode, ProcedureCodeError};
pub use claimtrail_events::edits::{self, issue_code};
pub use claimtrail_events::{FieldPaths, LinePaths, MONEY_CENTS_MAX, MappedClaim, QUANTITY_MAX};
pub use eob::explanation_of_benefit;
pub use error::{EntryError, FhirError, FieldError};
pub use output::CARC;
pub use paid::{ClaimPayment, with_payment};
pub use payment_reconciliation::{Reconciliation, ReconciliationDetail, payment_reconciliation, payment_reconciliation_json};
pub use submission::{BundleType, EntryResult, SUPPORTING_RESOURCE_TYPES, Submission, parse_submission};

/// At most this many Claims in one Bundle.
pub const CLAIMS_PER_BUNDLE_MAX: usize = 1_000;
/// At most this many entries (Claims and supporting resources) in one Bundle.
pub const ENTRIES_PER_BUNDLE_MAX: usize = 10_000;
/// At most this many service lines (`Claim.item`) per claim, as X12 837P allows.
pub const LINES_PER_CLAIM_MAX: usize = 50;
/// At most this many diagnoses per claim (837I: principal + 24 others).
pub const DIAGNOSES_PER_CLAIM_MAX: usize = 25;
/// At most this many modifiers per line, as X12 SV101 allows.
pub const MODIFIERS_PER_LINE_MAX: usize = 4;
/// Units may have at most this many decimal places.
pub const QUANTITY_DECIMAL_PLACES_MAX: u32 = 3;
/// At most this many field errors are reported for one body.
pub const FIELD_ERRORS_MAX: usize = 100;
