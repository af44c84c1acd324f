//! A claim as an edge read it (a FHIR Claim in claimtrail-fhir, an 837
//! claim in claimtrail-x12), mapped into the domain shape before intake gives
//! it an id, and the limits both edges hold what they read to.

use std::fmt;

use time::Date;
use uuid::Uuid;

use crate::claim::{ClaimIssue, ClaimLine, ClaimType, Diagnosis, Frequency, SubmittedClaim};
use crate::money::Money;

/// The largest amount an edge accepts, in cents (9,999,999,999.99).
pub const MONEY_CENTS_MAX: i64 = 999_999_999_999;
/// The largest number of units on a line.
pub const QUANTITY_MAX: i64 = 99_999;

/// The claim-level facts adjudication's edits and pricing read that not
/// every channel carries: each is absent when the submission did not say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClaimDetails {
    /// The subscriber of the member's family (the partition key).
    pub subscriber_id: Option<String>,
    /// The service location's ZIP code.
    pub service_zip: Option<String>,
    /// REF*G1 / `Claim.insurance.preAuthRef`.
    pub prior_authorization: Option<String>,
    /// 837I HI*DR.
    pub drg: Option<String>,
    pub admission_date: Option<Date>,
    pub statement_from: Option<Date>,
    pub statement_to: Option<Date>,
}

/// Everything of a [`SubmittedClaim`] except its id, plus the front-end edits
/// it failed. A claim with issues is well-formed: intake keeps it, with its
/// id, as `rejected`.
///
/// `Debug` masks the member id and the patient control number (PHI).
#[derive(Clone, PartialEq, Eq)]
pub struct MappedClaim {
    pub claim_type: ClaimType,
    pub frequency: Frequency,
    /// The payer's number of the claim replaced or voided.
    pub related_claim_id: Option<String>,
    pub patient_control_number: Option<String>,
    pub billing_npi: String,
    pub rendering_npi: Option<String>,
    pub payer_id: String,
    pub member_id: String,
    pub diagnoses: Vec<Diagnosis>,
    pub lines: Vec<ClaimLine>,
    pub total_charge: Money,
    pub details: ClaimDetails,
    /// Front-end edits failed, in document order; empty when the claim passes.
    pub issues: Vec<ClaimIssue>,
}

impl MappedClaim {
    /// True when a front-end edit failed: the claim is to be kept as `rejected`.
    pub fn is_rejected(&self) -> bool {
        !self.issues.is_empty()
    }

    /// The domain claim under the id intake assigned. The issues are not part
    /// of it: read them (or `std::mem::take` them) first.
    pub fn into_submitted(self, claim_id: Uuid) -> SubmittedClaim {
        SubmittedClaim {
            claim_id,
            claim_type: self.claim_type,
            frequency: self.frequency,
            related_claim_id: self.related_claim_id,
            patient_control_number: self.patient_control_number,
            billing_npi: self.billing_npi,
            rendering_npi: self.rendering_npi,
            payer_id: self.payer_id,
            member_id: self.member_id,
            diagnoses: self.diagnoses,
            lines: self.lines,
            total_charge: self.total_charge,
            subscriber_id: self.details.subscriber_id,
            service_zip: self.details.service_zip,
            prior_authorization: self.details.prior_authorization,
            drg: self.details.drg,
            admission_date: self.details.admission_date,
            statement_from: self.details.statement_from,
            statement_to: self.details.statement_to,
        }
    }
}

impl fmt::Debug for MappedClaim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MappedClaim")
            .field("claim_type", &self.claim_type)
            .field("frequency", &self.frequency)
            .field("related_claim_id", &self.related_claim_id)
            .field("patient_control_number", &self.patient_control_number.as_ref().map(|_| "[masked]"))
            .field("billing_npi", &self.billing_npi)
            .field("rendering_npi", &self.rendering_npi)
            .field("payer_id", &self.payer_id)
            .field("member_id", &"[masked]")
            .field("diagnoses", &self.diagnoses)
            .field("lines", &self.lines)
            .field("total_charge", &self.total_charge)
            .field("details", &self.details)
            .field("issues", &self.issues)
            .finish()
    }
}
