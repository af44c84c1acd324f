//! What a detector reports: a [`Finding`], the substance of an alert.

use time::Date;
use uuid::Uuid;

use crate::pattern::Pattern;

/// One claim a finding rests on, as its ledger entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Evidence {
    pub ledger_index: u64,
    pub claim_id: Uuid,
    /// The claim's payer: the service redacts evidence of another payer's claims to the ledger index and the pattern.
    pub payer_id: String,
}

/// A detector's finding.
///
/// Claim-level patterns name the flagged claim in `claim_ids` (one), and for
/// duplicates the claim it duplicates in `duplicates`; provider-level ones
/// (upcoding, velocity) name the provider in `npi` with the claims behind it
/// as evidence; impossible days name the provider and the `date`.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub pattern: Pattern,
    /// The flagged claims.
    pub claim_ids: Vec<Uuid>,
    /// The earlier claim the flagged one duplicates (duplicates, unbundling across claims).
    pub duplicates: Option<Uuid>,
    /// The provider (billing NPI for claim-level patterns, the counted NPI for provider-level ones).
    pub npi: Option<String>,
    /// The date (of service for claim-level and impossible days; of the spike for velocity).
    pub date: Option<Date>,
    /// How strong the finding is, from 0 (barely) to 1 (certain); not a probability.
    pub score: f64,
    /// The ledger entries it rests on, flagged claims first, at most [`EVIDENCE_MAX`].
    pub evidence: Vec<Evidence>,
    /// Why, in words an investigator reads (codes, counts, minutes; no member data).
    pub reason: String,
}

/// Evidence entries a finding carries, at most (provider-level findings keep the first ones).
pub const EVIDENCE_MAX: usize = 50;
