//! An 837 claim: the domain's [`MappedClaim`] plus what only X12 carries and
//! the acknowledgments or coordination of benefits need: the parties' names,
//! other payers (2320/2330B) and their line adjudications (2430).
//!
//! `Debug` masks names and member ids (PHI), as [`MappedClaim`] does.

use std::fmt;

use claimtrail_events::MappedClaim;
use claimtrail_events::{Adjustment, Money};
use rust_decimal::Decimal;
use time::Date;

/// Where a claim is in the body: 0-based indexes of its interchange, its
/// functional group in the interchange, its transaction in the group and the
/// claim in the transaction. Stable for a given body; the 277CA outcomes name claims by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClaimPosition {
    pub interchange: usize,
    pub group: usize,
    pub transaction: usize,
    pub claim: usize,
}

/// An organization or provider: its name (NM103) and id (NM109).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Party {
    pub name: String,
    pub id: String,
}

/// A person's name (NM103 last, NM104 first). PHI: `Debug` masks it.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct PersonName {
    pub last: String,
    pub first: String,
}

/// Another payer of the claim (loop 2320 with its 2330B payer), for coordination of benefits.
#[derive(Clone, PartialEq, Eq)]
pub struct OtherPayer {
    /// SBR01: P primary, S secondary, T tertiary, ...
    pub responsibility: String,
    /// 2330B NM109.
    pub payer_id: String,
    pub payer_name: String,
    /// 2330A NM109, the member id with that payer (PHI).
    pub member_id: Option<String>,
    /// AMT*D: what that payer paid on the claim.
    pub paid: Option<Money>,
    /// 2320 CAS: claim-level adjustments by that payer.
    pub adjustments: Vec<Adjustment>,
}

/// Another payer's adjudication of one line (loop 2430: SVD, CAS, DTP*573).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineAdjudication {
    /// The line's LX number.
    pub line: u32,
    /// SVD01, matching an [`OtherPayer::payer_id`].
    pub payer_id: String,
    /// SVD02.
    pub paid: Money,
    /// SVD03-2.
    pub procedure_code: String,
    /// SVD05.
    pub units: Option<Decimal>,
    pub adjustments: Vec<Adjustment>,
    /// DTP*573, the date that payer adjudicated the line.
    pub adjudicated_on: Option<Date>,
}

/// What a line carries beyond [`claimtrail_events::ClaimLine`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineDetail {
    /// The line's LX number (the domain line's `sequence`).
    pub line: u32,
    /// SV201, the revenue code of an institutional line.
    pub revenue_code: Option<String>,
    /// The last date of service (DTP*472 RD8 end; the start is the domain line's date).
    pub service_end: Date,
}

/// One claim (loop 2300) of an 837 with its context.
#[derive(Clone, PartialEq, Eq)]
pub struct X12Claim {
    pub position: ClaimPosition,
    /// 1-based position of the CLM segment in its transaction.
    pub clm_segment_position: u32,
    /// The domain claim and its front-end issues.
    pub claim: MappedClaim,
    /// 1000A.
    pub submitter: Party,
    /// 1000B.
    pub receiver: Party,
    /// 2010AA: name and NPI.
    pub billing_provider: Party,
    /// 2010AA REF*EI (or REF*SY).
    pub billing_tin: Option<String>,
    /// 2010BA.
    pub subscriber: PersonName,
    /// 2010CA, when the patient is not the subscriber.
    pub patient: Option<PersonName>,
    /// 2010BB NM103.
    pub payer_name: String,
    /// CLM05-1: place of service (837P) or facility type code (837I).
    pub facility_code: String,
    /// First and last date of service over the lines.
    pub service_period: (Date, Date),
    /// DTP*434 (837I statement dates).
    pub statement_period: Option<(Date, Date)>,
    /// DTP*431 (onset of current illness).
    pub onset_date: Option<Date>,
    /// REF*G1.
    pub prior_authorization: Option<String>,
    /// REF*D9, the clearinghouse's trace number.
    pub clearinghouse_trace: Option<String>,
    pub other_payers: Vec<OtherPayer>,
    pub line_details: Vec<LineDetail>,
    pub line_adjudications: Vec<LineAdjudication>,
}

impl X12Claim {
    /// The patient's name: 2010CA when present, else the subscriber's.
    pub fn patient_name(&self) -> &PersonName {
        self.patient.as_ref().unwrap_or(&self.subscriber)
    }
}

impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PersonName([masked])")
    }
}

impl fmt::Debug for OtherPayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtherPayer")
            .field("responsibility", &self.responsibility)
            .field("payer_id", &self.payer_id)
            .field("payer_name", &self.payer_name)
            .field("member_id", &self.member_id.as_ref().map(|_| "[masked]"))
            .field("paid", &self.paid)
            .field("adjustments", &self.adjustments)
            .finish()
    }
}

impl fmt::Debug for X12Claim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("X12Claim")
            .field("position", &self.position)
            .field("clm_segment_position", &self.clm_segment_position)
            .field("claim", &self.claim)
            .field("submitter", &self.submitter)
            .field("receiver", &self.receiver)
            .field("billing_provider", &self.billing_provider)
            .field("billing_tin", &self.billing_tin)
            .field("subscriber", &self.subscriber)
            .field("patient", &self.patient)
            .field("payer_name", &self.payer_name)
            .field("facility_code", &self.facility_code)
            .field("service_period", &self.service_period)
            .field("statement_period", &self.statement_period)
            .field("onset_date", &self.onset_date)
            .field("prior_authorization", &self.prior_authorization)
            .field("clearinghouse_trace", &self.clearinghouse_trace)
            .field("other_payers", &self.other_payers)
            .field("line_details", &self.line_details)
            .field("line_adjudications", &self.line_adjudications)
            .finish()
    }
}
