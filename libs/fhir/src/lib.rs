//! FHIR R4 at Claimtrail's edge: Claims (and Bundles of them) in, mapped to
//! the domain's [`SubmittedClaim`](claimtrail_events::SubmittedClaim);
//! ClaimResponse and ExplanationOfBenefit out. Pure: no IO, no async, never
//! panics on any input.
//!
//! # Layout
//! - [`submission`]: [`parse_submission`], the body (a Claim or a Bundle) and its limits.
//! - [`claim`]: one FHIR Claim → [`MappedClaim`]; which element gives which field.
//! - [`mapped_claim`]: [`MappedClaim`], a domain claim without its id, plus its issues.
//! - [`edits`]: the front-end edits that make a well-formed claim `rejected`, and their codes.
//! - [`npi`], [`icd10`], [`procedure_code`]: one domain value each, parsed.
//! - [`mod@claim_response`], [`eob`]: the decision as a ClaimResponse or ExplanationOfBenefit.
//! - [`error`]: [`FhirError`] (400 / 422), [`FieldError`] (FHIRPath + message), [`EntryError`].
//! - internal: `node` (reading JSON with FHIRPaths), `resolve` (references),
//!   `amount` (exact decimals), `output` (shared output pieces).
//!
//! # Money
//! FHIR carries amounts as JSON numbers. They are read into `rust_decimal`
//! from their text, refusing more than two places, exponents and amounts over
//! [`MONEY_CENTS_MAX`] (so every accepted amount is exact; see `amount`),
//! and written from the decimal's text, so `80.10` goes out as `80.1`.

pub mod claim;
pub mod claim_response;
pub mod edits;
pub mod eob;
pub mod error;
pub mod icd10;
pub mod mapped_claim;
pub mod npi;
pub mod procedure_code;
pub mod submission;

mod amount;
mod node;
mod output;
mod resolve;

pub use claim_response::claim_response;
pub use edits::issue_code;
pub use eob::explanation_of_benefit;
pub use error::{EntryError, FhirError, FieldError};
pub use icd10::{Icd10Code, Icd10Error};
pub use mapped_claim::{ClaimDetails, MappedClaim};
pub use npi::{Npi, NpiError};
pub use output::CARC;
pub use procedure_code::{CodeSet, ProcedureCode, ProcedureCodeError};
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
/// The largest amount accepted, in cents (9,999,999,999.99).
pub const MONEY_CENTS_MAX: i64 = 999_999_999_999;
/// The largest number of units on a line.
pub const QUANTITY_MAX: i64 = 99_999;
/// Units may have at most this many decimal places.
pub const QUANTITY_DECIMAL_PLACES_MAX: u32 = 3;
/// At most this many field errors are reported for one body.
pub const FIELD_ERRORS_MAX: usize = 100;
