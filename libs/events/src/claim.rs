//! The domain claim as intake records it and adjudication reads it.

use std::fmt;

use claimtrail_codes::{Carc, ClaimId, GroupCode, Icd10Code, MemberId, Modifier, Npi, PayerId, PlaceOfService, Rarc, RevenueCode, ServiceCode};
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use time::Date;
use uuid::Uuid;

use crate::money::Money;

/// Professional (837P / CMS-1500) or institutional (837I / UB-04).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClaimType {
    Professional,
    Institutional,
}

/// Claim frequency (CLM05-3): original, replacement of an earlier claim, or void.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    /// 1
    Original,
    /// 7
    Replacement,
    /// 8
    Void,
}

/// How a claim holds its identifiers and codes. One definition of the claim
/// ([`SubmittedClaim`], [`ClaimLine`], [`Diagnosis`]) serves both forms, so
/// a new field is added once:
/// - [`AsRead`]: as a FHIR or X12 reader found them, plain strings (the
///   readers' [`crate::MappedClaim`], and a rejected claim as intake keeps it);
/// - [`Parsed`]: parsed once, at intake's front-end edits, into the types of
///   `claimtrail-codes`, so that nothing past intake holds an invalid value.
///
/// Both serialize to the same JSON (the typed codes are their plain strings).
pub trait ClaimForm: Clone + fmt::Debug + PartialEq + Eq + JsonSchema + 'static {
    /// Billing and rendering NPIs.
    type Npi: FormField;
    type PayerId: FormField;
    /// The member's and the subscriber's ids (PHI).
    type MemberId: FormField;
    /// The claim a replacement or void names.
    type ClaimRef: FormField;
    /// A line's HCPCS / CPT code (or an 837I revenue-only line's revenue code).
    type ServiceCode: FormField;
    type Modifier: FormField;
    type PlaceOfService: FormField;
    type RevenueCode: FormField;
    type Icd10Code: FormField;
}

/// What a field of either form can do: compare, print, and travel as JSON.
pub trait FormField: Clone + fmt::Debug + fmt::Display + PartialEq + Eq + Serialize + DeserializeOwned + JsonSchema {}

impl<T> FormField for T where T: Clone + fmt::Debug + fmt::Display + PartialEq + Eq + Serialize + DeserializeOwned + JsonSchema {}

/// A claim as an edge read it: every identifier and code a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
pub struct AsRead;

/// A claim whose identifiers and codes are parsed (see [`ClaimForm`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
pub struct Parsed;

/// Both forms from one list of the fields: [`AsRead`] holds each as a
/// `String`, [`Parsed`] as its type.
macro_rules! claim_forms {
    ($($field:ident: $parsed:ty),* $(,)?) => {
        impl ClaimForm for AsRead {
            $(type $field = String;)*
        }

        impl ClaimForm for Parsed {
            $(type $field = $parsed;)*
        }
    };
}

claim_forms!(
    Npi: Npi,
    PayerId: PayerId,
    MemberId: MemberId,
    ClaimRef: ClaimId,
    ServiceCode: ServiceCode,
    Modifier: Modifier,
    PlaceOfService: PlaceOfService,
    RevenueCode: RevenueCode,
    Icd10Code: Icd10Code,
);

/// A diagnosis code with its 1-based sequence (the pointer target).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(bound = "")]
#[schemars(rename = "Diagnosis")]
pub struct Diagnosis<F: ClaimForm = Parsed> {
    pub sequence: u32,
    /// ICD-10-CM code without the dot, e.g. `E119`.
    pub code: F::Icd10Code,
}

/// One service line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(bound = "")]
#[schemars(rename = "ClaimLine")]
pub struct ClaimLine<F: ClaimForm = Parsed> {
    /// 1-based line number.
    pub sequence: u32,
    /// HCPCS Level II or CPT code; on an 837I line billed by revenue code
    /// alone, that revenue code.
    pub procedure_code: F::ServiceCode,
    pub modifiers: Vec<F::Modifier>,
    /// Units of service, a decimal string.
    #[schemars(with = "String")]
    pub quantity: Decimal,
    pub charge: Money,
    #[serde(with = "crate::timestamp::date")]
    #[schemars(with = "String")]
    pub service_date: Date,
    pub place_of_service: Option<F::PlaceOfService>,
    pub diagnosis_pointers: Vec<u32>,
    /// Institutional: the NUBC revenue code (837I SV201, FHIR `Claim.item.revenue`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revenue_code: Option<F::RevenueCode>,
}

/// A claim as submitted, after the mapping from FHIR or X12 into one shape:
/// as read (identifiers and codes as strings) or parsed (typed, the default,
/// what `claim.submitted.v1` carries); both have the same JSON.
///
/// `Debug` masks the member, subscriber and patient control number (PHI).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(bound = "")]
#[schemars(rename = "SubmittedClaim")]
pub struct SubmittedClaim<F: ClaimForm = Parsed> {
    pub claim_id: Uuid,
    pub claim_type: ClaimType,
    pub frequency: Frequency,
    /// The payer's claim number of the claim replaced or voided (the id
    /// intake gave it).
    pub related_claim_id: Option<F::ClaimRef>,
    /// The provider's own identifier (patient control number).
    pub patient_control_number: Option<String>,
    pub billing_npi: F::Npi,
    pub rendering_npi: Option<F::Npi>,
    pub payer_id: F::PayerId,
    pub member_id: F::MemberId,
    pub diagnoses: Vec<Diagnosis<F>>,
    pub lines: Vec<ClaimLine<F>>,
    pub total_charge: Money,
    /// The subscriber of the member's family (the member when the member is the
    /// subscriber): the partition key of the family's claims. Absent on claims
    /// recorded before it existed, and when the channel did not carry it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscriber_id: Option<F::MemberId>,
    /// The service location's ZIP code (837 2310C/2310E N403, else 2010AA
    /// N403; FHIR `item.locationAddress.postalCode`, else the facility's or
    /// the billing provider's address), which picks the GPCI locality; 5 or 9 digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_zip: Option<String>,
    /// The payer's prior authorization number (837 REF*G1, FHIR `Claim.insurance.preAuthRef`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prior_authorization: Option<String>,
    /// Institutional: the MS-DRG the provider assigned (837I HI*DR, FHIR
    /// `Claim.diagnosis.packageCode`); there is no grouper.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drg: Option<String>,
    /// Institutional: the admission date (837I DTP*435, FHIR
    /// `supportingInfo` of category `admissionperiod`).
    #[serde(default, with = "crate::timestamp::optional_date", skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub admission_date: Option<Date>,
    /// Institutional: the statement period's first day (837I DTP*434, FHIR `billablePeriod.start`).
    #[serde(default, with = "crate::timestamp::optional_date", skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub statement_from: Option<Date>,
    /// Institutional: the statement period's last day (837I DTP*434, FHIR `billablePeriod.end`).
    #[serde(default, with = "crate::timestamp::optional_date", skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub statement_to: Option<Date>,
    /// Institutional: the type of bill in the 837I's three characters (UB-04
    /// form locator 4 without its leading zero): facility type and care
    /// classification (837I CLM05-1), then the claim frequency (CLM05-3);
    /// FHIR `supportingInfo` of category `typeofbill` (CARIN BB), its code
    /// from `https://www.nubc.org/CodeSystem/TypeOfBill`. Picks a per diem
    /// rate of the `type_of_bill` basis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_of_bill: Option<String>,
    /// Coordination of benefits: this payer's place after other payers and
    /// their adjudications of the claim (837 2000B SBR01 with 2320/2330B/2430;
    /// FHIR `Claim.insurance` with each earlier payer's ClaimResponse).
    /// Absent when the claim goes to its primary payer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cob: Option<Coordination>,
}

/// A payer's place in coordination of benefits (837 SBR01 `P`, `S`, `T`;
/// FHIR `Claim.insurance.sequence` 1, 2, 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PayerSequence {
    Primary,
    Secondary,
    Tertiary,
}

impl PayerSequence {
    /// The name it has in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            PayerSequence::Primary => "primary",
            PayerSequence::Secondary => "secondary",
            PayerSequence::Tertiary => "tertiary",
        }
    }

    /// 1, 2 or 3: FHIR's `Claim.insurance.sequence`, and the 835's CLP02 for a processed claim.
    pub fn number(self) -> u8 {
        match self {
            PayerSequence::Primary => 1,
            PayerSequence::Secondary => 2,
            PayerSequence::Tertiary => 3,
        }
    }

    /// The place numbered 1, 2 or 3.
    pub fn from_number(number: u64) -> Option<PayerSequence> {
        match number {
            1 => Some(PayerSequence::Primary),
            2 => Some(PayerSequence::Secondary),
            3 => Some(PayerSequence::Tertiary),
            _ => None,
        }
    }

    /// The 837 SBR01 payer responsibility code `P`, `S` or `T`.
    pub fn from_x12(code: &str) -> Option<PayerSequence> {
        match code {
            "P" => Some(PayerSequence::Primary),
            "S" => Some(PayerSequence::Secondary),
            "T" => Some(PayerSequence::Tertiary),
            _ => None,
        }
    }
}

/// Coordination of benefits on a claim sent to a secondary or tertiary payer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Coordination {
    /// This payer's place.
    pub sequence: PayerSequence,
    /// The payers before this one, in their order, with what each decided.
    pub prior_payers: Vec<PriorPayer>,
}

impl Coordination {
    /// True when this payer is not the first and the claim carries what an earlier payer decided.
    pub fn is_secondary_with_prior_adjudication(&self) -> bool {
        self.sequence > PayerSequence::Primary && !self.prior_payers.is_empty()
    }
}

/// An earlier payer's adjudication of the claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PriorPayer {
    pub sequence: PayerSequence,
    /// That payer's id (837 2330B NM109; FHIR the Coverage's payor or the ClaimResponse's insurer), as sent.
    pub payer_id: String,
    /// What it paid on the claim (837 2320 AMT*D; FHIR `ClaimResponse.payment.amount`).
    pub paid: Money,
    /// Its claim-level adjustments (837 2320 CAS; FHIR `ClaimResponse.adjudication` with a CARC reason).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adjustments: Vec<Adjustment>,
    /// Its decision per line (837 2430 SVD/CAS; FHIR `ClaimResponse.item`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<PriorLine>,
}

/// An earlier payer's decision on one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PriorLine {
    /// The claim line's sequence (837 LX; FHIR `ClaimResponse.item.itemSequence`).
    pub sequence: u32,
    /// 837 SVD02; FHIR the item's `benefit` adjudication.
    pub paid: Money,
    /// 837 2430 CAS; FHIR the item's adjudications with a CARC reason.
    pub adjustments: Vec<Adjustment>,
}

/// A type of bill as [`SubmittedClaim::type_of_bill`] holds it: the 837I's
/// three characters (`111`: facility type and care classification digits,
/// then the frequency, a digit or a letter) as they are; NUBC's four with the
/// leading zero (`0111`) without it; `None` for anything else.
pub fn type_of_bill(text: &str) -> Option<String> {
    let text = text.trim();
    let text = if text.len() == 4 { text.strip_prefix('0')? } else { text };
    let bytes = text.as_bytes();
    (bytes.len() == 3 && bytes[..2].iter().all(u8::is_ascii_digit) && bytes[2].is_ascii_alphanumeric()).then(|| text.to_ascii_uppercase())
}

impl<F: ClaimForm> fmt::Debug for SubmittedClaim<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let masked = |present: bool| if present { Some("[masked]") } else { None };
        f.debug_struct("SubmittedClaim")
            .field("claim_id", &self.claim_id)
            .field("claim_type", &self.claim_type)
            .field("frequency", &self.frequency)
            .field("related_claim_id", &self.related_claim_id)
            .field("patient_control_number", &masked(self.patient_control_number.is_some()))
            .field("billing_npi", &self.billing_npi)
            .field("rendering_npi", &self.rendering_npi)
            .field("payer_id", &self.payer_id)
            .field("member_id", &"[masked]")
            .field("diagnoses", &self.diagnoses)
            .field("lines", &self.lines)
            .field("total_charge", &self.total_charge)
            .field("subscriber_id", &masked(self.subscriber_id.is_some()))
            .field("service_zip", &self.service_zip)
            .field("prior_authorization", &self.prior_authorization)
            .field("drg", &self.drg)
            .field("admission_date", &self.admission_date)
            .field("statement_from", &self.statement_from)
            .field("statement_to", &self.statement_to)
            .field("type_of_bill", &self.type_of_bill)
            .field("cob", &self.cob)
            .finish()
    }
}

/// A front-end edit that a claim failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ClaimIssue {
    /// Where: a FHIRPath expression or an X12 position.
    pub path: String,
    /// A short machine code, e.g. `npi-check-digit`.
    pub code: String,
    pub message: String,
}

/// One structural fault of a body an edge read, located by a FHIRPath
/// expression (`Claim.item[0].unitPrice.value`) or an X12 position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub path: String,
    pub message: String,
}

impl FieldError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError { path: path.into(), message: message.into() }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// An adjustment on a line: CARC group and reason with the amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct Adjustment {
    /// CO, PR, OA or PI (CR only as read from an 837's other payers).
    pub group: GroupCode,
    /// Claim adjustment reason code, e.g. `45`.
    pub reason: Carc,
    pub amount: Money,
}

/// How a line was priced, step by step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct LineDecision {
    pub sequence: u32,
    pub procedure_code: String,
    pub charge: Money,
    pub allowed: Money,
    pub paid: Money,
    pub patient_responsibility: Money,
    pub adjustments: Vec<Adjustment>,
    /// Remittance advice remark codes (RARC) for the line; absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remarks: Vec<Rarc>,
    /// One sentence per step, so that the amount can be explained.
    pub explanation: Vec<String>,
    /// The same steps, structured: which edit or pricing rule acted, on what
    /// table row, and the line's payable amount before and after it. Absent
    /// on decisions recorded before steps existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<DecisionStep>,
}

impl LineDecision {
    /// The line with every amount negated (charge, allowed, paid, patient
    /// responsibility and each adjustment's): what a reversal (the 835's
    /// CLP02 = 22) carries for it. Its explanation and steps are kept as
    /// they were; a reversal writes its own.
    pub fn amounts_negated(&self) -> LineDecision {
        LineDecision {
            charge: self.charge.negated(),
            allowed: self.allowed.negated(),
            paid: self.paid.negated(),
            patient_responsibility: self.patient_responsibility.negated(),
            adjustments: self.adjustments.iter().map(|a| Adjustment { amount: a.amount.negated(), ..a.clone() }).collect(),
            ..self.clone()
        }
    }
}

/// What kind of step of adjudication acted on a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// A standard edit (eligibility, enrollment, timely filing, ...).
    Edit,
    /// A pricing rule (fee schedule, contractual adjustment).
    Pricing,
    /// A reversal of an earlier decision, or a denial because of one.
    Reversal,
    /// A benefit step after pricing: copay (PR-3), deductible (PR-1),
    /// coinsurance (PR-2) or the out-of-pocket maximum.
    Benefit,
    /// A reviewer's decision of a pended claim.
    Review,
}

/// One step of a line's decision (`GET /v1/claims/{id}/explanation`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct DecisionStep {
    pub kind: StepKind,
    /// The rule, a short machine name, e.g. `coverage-ended` or `fee-schedule`.
    pub rule: String,
    /// The table row or reference fact that fired, when there is one, e.g.
    /// `fee_schedule:<hash>#99213` or `member:coverage 2026-01-01..2026-06-30 (recorded 2026-...)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The adjustment this step made, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjustment: Option<Adjustment>,
    /// The line's payable amount before this step.
    pub before: Money,
    /// The line's payable amount after it.
    pub after: Money,
    /// The step in a sentence.
    pub detail: String,
}

/// The outcome of adjudication for the whole claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Paid,
    PartiallyPaid,
    Denied,
}

/// Where a claim stands, as intake shows it (`GET /v1/claims/{id}`, and the
/// `status` of each submission outcome).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClaimStatus {
    Received,
    /// Failed the front-end edits; kept with its reasons.
    Rejected,
    /// Passed the front-end edits; not decided yet.
    Accepted,
    Pended,
    Adjudicated,
    Paid,
    /// Reversed by a replacement (frequency 7).
    Replaced,
    /// Reversed by a void (frequency 8).
    Voided,
    /// Decided, then appealed by its provider: the appeal waits in the
    /// payer's pended queue; upheld or overturned, it is `adjudicated` again.
    Appealed,
}

impl ClaimStatus {
    pub const ALL: [ClaimStatus; 9] = [
        ClaimStatus::Received,
        ClaimStatus::Rejected,
        ClaimStatus::Accepted,
        ClaimStatus::Pended,
        ClaimStatus::Adjudicated,
        ClaimStatus::Paid,
        ClaimStatus::Replaced,
        ClaimStatus::Voided,
        ClaimStatus::Appealed,
    ];

    /// The names of [`ClaimStatus::ALL`], in the same order.
    pub const ALL_NAMES: [&'static str; ClaimStatus::ALL.len()] = {
        let mut names = [""; ClaimStatus::ALL.len()];
        let mut idx = 0;
        while idx < names.len() {
            names[idx] = ClaimStatus::ALL[idx].as_str();
            idx += 1;
        }
        names
    };

    /// The name it has in JSON and in the databases.
    pub const fn as_str(self) -> &'static str {
        match self {
            ClaimStatus::Received => "received",
            ClaimStatus::Rejected => "rejected",
            ClaimStatus::Accepted => "accepted",
            ClaimStatus::Pended => "pended",
            ClaimStatus::Adjudicated => "adjudicated",
            ClaimStatus::Paid => "paid",
            ClaimStatus::Replaced => "replaced",
            ClaimStatus::Voided => "voided",
            ClaimStatus::Appealed => "appealed",
        }
    }

    /// The status named `text`, if it is one.
    pub fn parse(text: &str) -> Option<ClaimStatus> {
        ClaimStatus::ALL.into_iter().find(|status| status.as_str() == text)
    }

    /// Not decided yet: an erasure waits for these.
    pub fn is_in_flight(self) -> bool {
        matches!(self, ClaimStatus::Received | ClaimStatus::Accepted | ClaimStatus::Pended)
    }

    /// A replacement or void may not name a claim in this state.
    pub fn is_replaceable(self) -> bool {
        !matches!(self, ClaimStatus::Rejected | ClaimStatus::Replaced | ClaimStatus::Voided)
    }
}

impl std::fmt::Display for ClaimStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Outcome {
    pub const ALL: [Outcome; 3] = [Outcome::Paid, Outcome::PartiallyPaid, Outcome::Denied];

    /// The outcome named `text`, if it is one.
    pub fn parse(text: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|outcome| outcome.as_str() == text)
    }

    /// The name it has in JSON and in the databases.
    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::Paid => "paid",
            Outcome::PartiallyPaid => "partially_paid",
            Outcome::Denied => "denied",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_type_of_bill_is_kept_in_the_837i_s_three_characters() {
        assert_eq!(type_of_bill("111").as_deref(), Some("111"), "837I CLM05-1 11 + CLM05-3 1");
        assert_eq!(type_of_bill("0111").as_deref(), Some("111"), "NUBC's four, leading zero dropped");
        assert_eq!(type_of_bill(" 0217 ").as_deref(), Some("217"));
        assert_eq!(type_of_bill("81a").as_deref(), Some("81A"), "frequency letters (hospice, reopening) kept, upper case");
        for bad in ["", "11", "1111", "0x11", "A11", "11-", "01111"] {
            assert_eq!(type_of_bill(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_claim_status_has_the_same_name_in_json_and_in_the_databases_and_parses_back() {
        for status in ClaimStatus::ALL {
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
            assert_eq!(ClaimStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(ClaimStatus::ALL_NAMES.map(ClaimStatus::parse), ClaimStatus::ALL.map(Some));
        assert_eq!(ClaimStatus::parse("lost"), None);
        assert!(ClaimStatus::Accepted.is_in_flight() && !ClaimStatus::Adjudicated.is_in_flight());
        assert!(ClaimStatus::Adjudicated.is_replaceable() && !ClaimStatus::Voided.is_replaceable());
    }

    #[test]
    fn an_outcome_has_the_same_name_in_json_and_in_the_databases_and_parses_back() {
        for outcome in Outcome::ALL {
            assert_eq!(serde_json::to_value(outcome).unwrap(), outcome.as_str());
            assert_eq!(Outcome::parse(outcome.as_str()), Some(outcome));
        }
        assert_eq!(Outcome::parse("pended"), None, "pended is a status, not an outcome");
    }

    #[test]
    fn typed_adjustment_codes_keep_the_json_of_plain_strings_and_no_remarks_add_nothing() {
        let adjustment = Adjustment { group: GroupCode::Co, reason: Carc::FEE_SCHEDULE, amount: Money::from_cents(6_000) };
        assert_eq!(serde_json::to_string(&adjustment).unwrap(), r#"{"group":"CO","reason":"45","amount":"60.00"}"#);
        let line = LineDecision {
            sequence: 1,
            procedure_code: "99213".into(),
            charge: Money::from_cents(10_000),
            allowed: Money::from_cents(4_000),
            paid: Money::from_cents(4_000),
            patient_responsibility: Money::ZERO,
            adjustments: vec![adjustment],
            remarks: vec![],
            explanation: vec![],
            steps: vec![],
        };
        let json = serde_json::to_string(&line).unwrap();
        assert!(!json.contains("remarks"), "{json}");
        assert_eq!(serde_json::from_str::<LineDecision>(&json).unwrap(), line);
        let with_remark = LineDecision { remarks: vec![Rarc::UNITS_OVER_MAXIMUM], ..line };
        assert!(serde_json::to_string(&with_remark).unwrap().contains(r#""remarks":["N362"]"#));
        assert!(serde_json::from_str::<Adjustment>(r#"{"group":"XX","reason":"45","amount":"1.00"}"#).is_err());
    }
}
