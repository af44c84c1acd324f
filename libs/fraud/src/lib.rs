//! Fraud detection's pure core (issue 20): what a detector sees of a claim,
//! the reference facts beside it, one detector per pattern, peer-outlier
//! scoring of E/M levels, and the keyed fingerprints that let payers match
//! services across payers without seeing each other's members.
//!
//! Pure: no IO, no tokio, no SQL, no bus. The fraud service (services/fraud)
//! builds [`ClaimFacts`] from the claim events and ledger entries, feeds a
//! [`Scanner`] and turns [`Finding`]s into alerts; the measurement feeds it
//! generated claims (libs/fraud-world) and compares with their labels.
//!
//! # Layout
//!
//! - [`pattern`]: [`Pattern`], the fixed names, and the [`Level`] each is labelled at.
//! - [`facts`]: [`ClaimFacts`] and [`LineFacts`].
//! - [`reference`]: [`Reference`]: exclusions, deaths, each payer's NCCI edits by version, minutes per code, specialties.
//! - [`finding`]: [`Finding`] and its [`Evidence`].
//! - [`fingerprint`]: HMAC-SHA3-256 keyed fingerprints, [`FingerprintKey`] with its id for rotation.
//! - [`scanner`]: [`Scanner`] (`observe`, `close_window`) and [`ScanConfig`].
//! - [`detectors`]: one module per pattern, each a pure function of the scanner's state and the claim.

pub mod detectors;
pub mod facts;
pub mod finding;
pub mod fingerprint;
pub mod pattern;
pub mod reference;
pub mod scanner;

pub use facts::{ClaimFacts, Fingerprint, Frequency, LineFacts};
pub use finding::{EVIDENCE_MAX, Evidence, Finding};
pub use fingerprint::{FingerprintKey, KeyTooShort, PersonIdentity, Sex, fingerprint, normalize_name, person_fingerprint};
pub use pattern::{Level, Pattern, UnknownPattern};
pub use reference::{ExclusionPeriod, Reference};
pub use scanner::{PeerScore, ScanConfig, Scanner};
