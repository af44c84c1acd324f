//! What a detector sees of one claim: [`ClaimFacts`], built by the fraud
//! service from the claim event and its ledger entry (or by the measurement
//! from generated claims), never from anything else.

use time::Date;
use uuid::Uuid;

/// A keyed fingerprint ([`crate::fingerprint`]): HMAC-SHA3-256 output.
pub type Fingerprint = [u8; 32];

/// What a claim is to the one it relates to (837 CLM05-3, FHIR `Claim.related`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Frequency {
    /// A new claim.
    Original,
    /// Replaces [`ClaimFacts::replaces`]: not a duplicate of it.
    Replacement,
    /// Voids [`ClaimFacts::replaces`]: takes it out of what was billed.
    Void,
}

/// One claim, as the detectors see it.
///
/// Member data is reduced to what matching needs: the payer-local member id
/// (which never leaves the payer) and the keyed person fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimFacts {
    /// The claim's id (as `GET /v1/claims/{id}` knows it).
    pub claim_id: Uuid,
    pub payer_id: String,
    /// The claim's entry on the shared ledger: the evidence an alert points at.
    pub ledger_index: u64,
    pub billing_npi: String,
    pub rendering_npi: Option<String>,
    /// The provider's specialty (NUCC taxonomy code or the registry's specialty), if known;
    /// else [`crate::Reference`]'s specialty of the billing NPI is used.
    pub specialty: Option<String>,
    /// The member id at this payer (ids differ between payers).
    pub member_id: String,
    /// The keyed fingerprint of the person alone ([`crate::person_fingerprint`]), if the producer put one on the entry.
    pub person: Option<Fingerprint>,
    /// The id of the key the fingerprints were made with (keys rotate; only equal key ids compare).
    pub fingerprint_key_id: Option<u32>,
    /// A secondary claim carrying the primary payer's adjudication (COB): not a double bill.
    pub cob_secondary: bool,
    pub frequency: Frequency,
    /// The claim a replacement or void refers to.
    pub replaces: Option<Uuid>,
    /// The date the payer received the claim (velocity counts by it).
    pub received: Date,
    pub lines: Vec<LineFacts>,
}

/// One service line of a [`ClaimFacts`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LineFacts {
    /// CPT/HCPCS (or revenue) code, upper case, no modifiers.
    pub code: String,
    /// Modifiers, upper case, in billed order.
    pub modifiers: Vec<String>,
    pub service_date: Date,
    /// Units of service, whole (a fractional quantity rounds up).
    pub units: u32,
    pub charge_cents: i64,
    /// CMS place-of-service code (`11` office, `21` inpatient, ...).
    pub place_of_service: Option<String>,
    /// The keyed fingerprint of (person, billing NPI, date of service, code) ([`crate::fingerprint`]), if present.
    pub fingerprint: Option<Fingerprint>,
}

impl ClaimFacts {
    /// The first and last dates of service.
    pub fn service_span(&self) -> Option<(Date, Date)> {
        let first = self.lines.iter().map(|line| line.service_date).min()?;
        let last = self.lines.iter().map(|line| line.service_date).max()?;
        Some((first, last))
    }

    /// The NPI a provider-level detector counts the claim under: the rendering provider, else the billing one.
    pub fn provider_npi(&self) -> &str {
        self.rendering_npi.as_deref().unwrap_or(&self.billing_npi)
    }
}
