//! The fraud service's facts (docs/fraud.md): alerts raised with their
//! evidence on the shared ledger, acknowledged and closed by investigators;
//! and the keyed fingerprints producers put on a claim for cross-payer matching.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Keyed fingerprints of a claim, made by its producer (intake) with one
/// fingerprint key: HMAC-SHA3-256 under the key of the normalized person
/// identity (family and given name, birth date, sex from the payer's member
/// registry), and of that person with the billing NPI, the date of service
/// and the code of each line. Without the key nobody can tell whose they
/// are; equal values under one key id mean the same person and service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ClaimFingerprints {
    /// The fingerprint key's id (keys rotate; only equal ids compare).
    pub key_id: u32,
    /// Hex of the person's fingerprint.
    pub person: String,
    /// Hex of each line's fingerprint, in line order.
    pub lines: Vec<String>,
}

/// One piece of an alert's evidence: a claim's entry on the shared ledger.
/// About a claim of another payer than the alert's, only `ledger_index` and
/// `pattern` are given (`claim_id` and the proof are left out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AlertEvidence {
    /// The pattern this claim is evidence of.
    pub pattern: String,
    /// The index of the claim's `claim.submitted.v1` entry on the ledger.
    pub ledger_index: u64,
    /// The claim, when it is the alert's payer's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_id: Option<Uuid>,
    /// Whether this is another payer's claim (redacted).
    pub other_payer: bool,
    /// Whether this claim is one the alert flags (the later duplicate, the
    /// unbundled claim, ...), not one it was matched against; given for the
    /// alert's payer's claims only, and left out when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub flagged: bool,
    /// The RFC 9162 inclusion proof of the entry in the tree of
    /// `tree_size` entries (a signed checkpoint's), when it is the alert's payer's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inclusion_proof: Option<InclusionProof>,
}

/// An RFC 9162 inclusion proof, as `GET /v1/ledger/proofs/inclusion` serves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct InclusionProof {
    pub tree_size: u64,
    /// Base64 hashes, nearest the leaf first.
    pub hashes: Vec<String>,
}

/// The fraud service found a pattern in one payer's claims. A finding that
/// spans payers (a cross-payer duplicate) raises one alert per payer, each
/// naming only that payer's claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FraudAlertRaised {
    pub alert_id: Uuid,
    /// The payer whose claims the alert names, and who may read it.
    pub payer_id: String,
    /// One of the fixed pattern names (`exact_duplicate`, ...).
    pub pattern: String,
    /// The payer's claims the alert is about (empty for a provider-level pattern seen only in aggregate).
    pub claim_ids: Vec<Uuid>,
    /// The provider the finding is about.
    pub npi: String,
    /// The day, for a provider-and-day pattern.
    #[serde(with = "crate::timestamp::optional_date", default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub date: Option<time::Date>,
    /// The detector's score in thousandths (0 to 1000): how strongly it holds.
    pub score_permille: u32,
    /// Why, in the detector's words (codes, counts, minutes; never member
    /// data); empty when the finding rests on another payer's claims too.
    pub reason: String,
    pub evidence: Vec<AlertEvidence>,
}

/// An investigator took an alert up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FraudAlertAcknowledged {
    pub alert_id: Uuid,
    pub payer_id: String,
    /// The tenant of the key that acknowledged it.
    pub by: String,
}

/// An investigator closed an alert with an outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FraudAlertClosed {
    pub alert_id: Uuid,
    pub payer_id: String,
    /// `confirmed` or `false_positive`.
    pub outcome: String,
    pub reason: String,
    pub by: String,
    /// The payer's claims the alert flagged (its `flagged` evidence): what
    /// settlement recoups on `confirmed` once paid. Left out when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claim_ids: Vec<Uuid>,
}
