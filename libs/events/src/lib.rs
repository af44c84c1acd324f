//! Claimtrail's domain events: value types, the event envelope and the
//! canonical bytes that every hash and signature covers. No IO.
//!
//! # Layout
//! - [`money`]: `Money`, rust_decimal at scale 2, rounding half away from zero.
//! - [`timestamp`]: UTC microsecond timestamps, `YYYY-MM-DD` dates and the clock (`Timestamp::now`, `today`).
//! - [`canonical`]: RFC 8785 canonical JSON (integers only, decimals as strings).
//! - [`claim`]: the domain claim, one definition in two forms (as read, and parsed into typed codes), and adjudication decision shapes.
//! - [`mapped_claim`]: [`MappedClaim`], a claim as an edge (FHIR, X12) read it with where each field came from, and its one parse into the typed claim; the edges' shared limits.
//! - [`edits`]: the front-end edits both edges apply to what they read, and their issue codes.
//! - [`reconciliation`]: the facts of reconciliation against the bank (statements, matches, returns, exceptions).
//! - [`event`]: the domain events (`ClaimSubmitted`, ...), their type names and families.
//! - [`envelope`]: the envelope, sealing into canonical bytes, the payload commitment.

pub mod canonical;
pub mod claim;
pub mod edits;
pub mod envelope;
pub mod event;
pub mod fraud;
pub mod mapped_claim;
pub mod money;
pub mod reconciliation;
pub mod timestamp;

pub use claim::*;
pub use envelope::{Envelope, EventHead, NewEvent, PARTITION_TOKEN_HEX, Producer, SealedEvent, commitment, partition_token, sha3_256};
pub use event::*;
pub use fraud::*;
pub use mapped_claim::{FieldPaths, LinePaths, MONEY_CENTS_MAX, MappedClaim, QUANTITY_MAX};
pub use money::{Money, MoneyError};
pub use reconciliation::*;
pub use timestamp::{CLOCK_OFFSET_ENV, ClockOffsetError, Timestamp, clock_offset, date, format_date, optional_date, parse_date, today};

/// Why an event could not be built or read.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("unknown event type `{0}`")]
    UnknownType(String),
    #[error("payload of `{event_type}` is invalid: {reason}")]
    Payload { event_type: String, reason: String },
    #[error("envelope is invalid: {0}")]
    Envelope(String),
    #[error("envelope bytes are not canonical (RFC 8785); they were altered after sealing")]
    NotCanonical,
    #[error(transparent)]
    Canonical(#[from] canonical::CanonicalError),
}
