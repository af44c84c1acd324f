//! X12 5010 at Claimtrail's edge: 837P (005010X222A1/A2) and 837I
//! (005010X223A2/A3) interchanges in, mapped to the domain's
//! [`MappedClaim`](claimtrail_events::MappedClaim); TA1, 999 and 277CA
//! acknowledgments out; an 837P writer for generated claims. Pure: no IO, no
//! async, never panics on any input.
//!
//! # Flow (what intake does with `POST /v1/claims/x12`)
//! 1. [`read`] the body. It fails only on the limits of the whole body
//!    ([`X12Error`]: too large, too many claims). Anything else, however
//!    broken, gives a [`Reading`]: per interchange its envelope and either a
//!    TA1 fault or its functional groups, per group a fault or its
//!    transactions, per transaction the 999 errors or its claims.
//! 2. Check [`Interchange::duplicate_key`] against the interchanges already
//!    received; for a repeat, answer [`render_duplicate_ta1`] and store nothing.
//! 3. Run the further edits (member, enrollment) on [`Reading::claims`], store
//!    them, and answer [`render_acknowledgments`] with each claim's
//!    [`ClaimOutcome`]: a TA1 (only for envelope faults), a 999 per
//!    interchange and a 277CA for the accepted transactions' claims.
//!
//! # Layout
//! - [`reader`]: [`read`], the envelope (ISA/IEA, GS/GE, ST/SE) and its checks; [`Reading`] and its parts.
//! - `lexer` (internal): separators from the ISA, segments and elements as slices of the input.
//! - `claim837` (internal): one 837 transaction → [`X12Claim`]s, the loop structure and the front-end edits.
//! - [`x12_claim`]: [`X12Claim`], a [`MappedClaim`](claimtrail_events::MappedClaim) plus what only X12 carries (parties, other payers, line adjudications).
//! - [`position`]: [`Position`], an X12 location written `loop/segment+element` (`2300/CLM02`).
//! - [`codes`]: the TA105, IK304, IK403, IK5, AK9 and claim status codes used.
//! - [`ack`]: [`render_acknowledgments`], [`render_ta1`], [`render_999`], [`render_277ca`], [`AckContext`], [`ControlNumbers`].
//! - [`writer`]: [`write_837p`], an 837P interchange from domain claims.
//! - [`remit835`]: [`write_835`], an 835 payment/advice for one remittance (settlement).
//! - `segments` (internal): the X12 text every writer here writes: segments, the ISA's fixed widths, the SE01 count.
//! - [`issue_code`]: the [`ClaimIssue`](claimtrail_events::ClaimIssue) codes this crate adds to the front-end edits' (`claimtrail_events::edits`).
//!
//! # Errors: where each fault goes
//! - The interchange envelope (ISA fixed widths, separators, ISA13 = IEA02,
//!   IEA01 = number of groups): a TA1 with TA104 `R` and the TA105 note code;
//!   nothing inside is processed.
//! - A functional group (GS/GE: version, GS06 = GE02, GE01 = number of
//!   transactions): the group's 999 has AK9 `R` with the AK905 code.
//! - A transaction (ST/SE, segment ids, the 837 loop structure, element
//!   syntax: numbers, dates, codes): IK3 (segment id, position, loop, code) and
//!   IK4 (element position, code, bad value) with IK5 `R`; none of its claims
//!   are taken.
//! - A well-formed claim that fails a front-end edit (NPI check digit, ICD-9
//!   or ill-shaped ICD-10, procedure code shape, future date, total, pointers,
//!   replacement without REF*F8, a billing ZIP without its 4-digit extension):
//!   the claim is mapped with its issues and rejected in the 277CA (STC
//!   `A3`/`A7`). ICD-9 qualifiers (BK, BF; in an 837I also BJ, PR, BN, BR,
//!   BQ) are valid X12 syntax, so they are such an edit, not a 999 error;
//!   an HI qualifier the guide does not have is a 999 error at that HI.
//!
//! # Limits
//! Named below; exceeding the body limits is an [`X12Error`], exceeding one
//! inside a transaction rejects that transaction in its 999.

pub mod ack;
pub mod codes;
pub mod position;
pub mod reader;
pub mod remit835;
pub mod writer;
pub mod x12_claim;

mod claim837;
mod lexer;
mod segments;
mod text;

pub use ack::{
    AckContext, Acknowledgments, ClaimDecision, ClaimOutcome, ControlNumbers, render_277ca, render_999, render_acknowledgments, render_duplicate_ta1,
    render_ta1,
};
pub use lexer::Delimiters;
pub use position::Position;
pub use reader::{
    ElementError, Group, GroupFault, Interchange, InterchangeFault, InterchangeHeader, Limits, ReadOptions, Reading, SegmentError, Transaction,
    TransactionFault, X12Error, read,
};
pub use remit835::{Cas835, Claim835, Envelope835, Line835, Party835, Payment835, Plb835, Remittance835, Unbalanced835, write_835};
pub use writer::{ClaimToWrite, Outgoing837, write_837p};
pub use x12_claim::{ClaimPosition, LineAdjudication, LineDetail, OtherPayer, Party, PersonName, X12Claim};

/// The implementation guides read: 837P.
pub const VERSIONS_837P: &[&str] = &["005010X222A1", "005010X222A2"];
/// The implementation guides read: 837I.
pub const VERSIONS_837I: &[&str] = &["005010X223A2", "005010X223A3"];
/// The version the writer and pyx12 use for 837P.
pub const VERSION_837P_WRITTEN: &str = "005010X222A1";

/// At most this many bytes in one body (16 MiB).
pub const BYTES_PER_FILE_MAX: usize = 16 * 1024 * 1024;
/// At most this many claims (CLM segments) in one body.
pub const CLAIMS_PER_FILE_MAX: usize = 10_000;
/// At most this many claims in one transaction, as the 837 guides recommend.
pub const CLAIMS_PER_TRANSACTION_MAX: usize = 5_000;
/// At most this many service lines (2400 loops) per 837P claim, as 005010X222 allows.
pub const LINES_PER_CLAIM_MAX_837P: usize = 50;
/// At most this many service lines (2400 loops) per 837I claim, as 005010X223 allows.
pub const LINES_PER_CLAIM_MAX_837I: usize = 999;
/// At most this many diagnoses (HI ABK + ABF) per 837P claim: one HI of 12.
pub const DIAGNOSES_PER_CLAIM_MAX_837P: usize = 12;
/// At most this many diagnoses per 837I claim: the principal and two HI of 12 others.
pub const DIAGNOSES_PER_CLAIM_MAX_837I: usize = 25;
/// At most this many other payers (2320 loops) per claim, as the guides allow.
pub const OTHER_PAYERS_PER_CLAIM_MAX: usize = 10;
/// At most this many other payers' line adjudications (2430 loops) per line.
pub const ADJUDICATIONS_PER_LINE_MAX: usize = 15;
/// At most this many modifiers per procedure (SV101-3..6, SV202-3..6).
pub const MODIFIERS_PER_LINE_MAX: usize = 4;
/// At most this many segment errors (IK3 loops) are reported per transaction.
pub const SEGMENT_ERRORS_PER_TRANSACTION_MAX: usize = 100;
/// The largest amount accepted, in cents (9,999,999,999.99), as for FHIR.
pub const MONEY_CENTS_MAX: i64 = claimtrail_events::MONEY_CENTS_MAX;
/// The largest number of units on a line, as for FHIR.
pub const QUANTITY_MAX: i64 = claimtrail_events::QUANTITY_MAX;

/// The machine codes of [`ClaimIssue::code`](claimtrail_events::ClaimIssue)
/// that this crate produces besides [`claimtrail_events::edits::issue_code`]'s.
pub mod issue_code {
    pub use claimtrail_events::edits::issue_code::*;
    /// A diagnosis is coded in ICD-9-CM (HI qualifier BF, or in an 837I BJ, PR or BN), not ICD-10-CM (ABF, ABJ, APR, ABN).
    pub const ICD9: &str = "icd9-not-accepted";
    /// The principal diagnosis is coded in ICD-9-CM (HI qualifier BK), not ICD-10-CM (ABK).
    pub const ICD9_PRINCIPAL: &str = "icd9-principal-not-accepted";
    /// An 837I procedure is coded in ICD-9-CM (HI qualifier BR or BQ), not ICD-10-PCS (BBR, BBQ).
    pub const ICD9_PROCEDURE: &str = "icd9-procedure-not-accepted";
    /// The billing provider's US ZIP code (2010AA N403) is not the 9 digits (ZIP+4) that 5010 requires.
    pub const BILLING_ZIP: &str = "billing-zip-not-9-digits";
    /// A replacement (frequency 7) or void (8) names no original claim (REF*F8).
    pub const RELATED_CLAIM_MISSING: &str = "related-claim-missing";
    /// The claim frequency (CLM05-3) is not 1, 7 or 8.
    pub const FREQUENCY_UNSUPPORTED: &str = "frequency-unsupported";
    /// A line has no HCPCS code (SV101-2 / SV202-2), and for 837I no 4-digit revenue code either.
    pub const PROCEDURE_CODE_MISSING: &str = "procedure-code-missing";
    /// Units of service are not more than 0 and at most [`QUANTITY_MAX`](crate::QUANTITY_MAX).
    pub const QUANTITY_RANGE: &str = "quantity-range";
    /// A charge is negative.
    pub const CHARGE_NEGATIVE: &str = "charge-negative";
    /// Given by intake, not the reader: the claim is billed under an NPI
    /// (2010AA NM109) that the submitting organization does not hold.
    pub const BILLING_NPI_NOT_HELD: &str = "billing-npi-not-held";
}
