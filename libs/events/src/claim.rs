//! The domain claim as intake records it and adjudication reads it.

use rust_decimal::Decimal;
use schemars::JsonSchema;
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
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    /// 1
    Original,
    /// 7
    Replacement,
    /// 8
    Void,
}

/// A diagnosis code with its 1-based sequence (the pointer target).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Diagnosis {
    pub sequence: u32,
    /// ICD-10-CM code without the dot, e.g. `E119`.
    pub code: String,
}

/// One service line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ClaimLine {
    /// 1-based line number.
    pub sequence: u32,
    /// HCPCS Level II or CPT code.
    pub procedure_code: String,
    pub modifiers: Vec<String>,
    /// Units of service, a decimal string.
    #[schemars(with = "String")]
    pub quantity: Decimal,
    pub charge: Money,
    #[serde(with = "crate::timestamp::date")]
    #[schemars(with = "String")]
    pub service_date: Date,
    pub place_of_service: Option<String>,
    pub diagnosis_pointers: Vec<u32>,
}

/// A claim as submitted, after the mapping from FHIR or X12 into one shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SubmittedClaim {
    pub claim_id: Uuid,
    pub claim_type: ClaimType,
    pub frequency: Frequency,
    /// The payer's claim number of the claim replaced or voided.
    pub related_claim_id: Option<String>,
    /// The provider's own identifier (patient control number).
    pub patient_control_number: Option<String>,
    pub billing_npi: String,
    pub rendering_npi: Option<String>,
    pub payer_id: String,
    pub member_id: String,
    pub diagnoses: Vec<Diagnosis>,
    pub lines: Vec<ClaimLine>,
    pub total_charge: Money,
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

/// An adjustment on a line: CARC group and reason with the amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Adjustment {
    /// CO, PR, OA or PI.
    pub group: String,
    /// Claim adjustment reason code, e.g. `45`.
    pub reason: String,
    pub amount: Money,
}

/// How a line was priced, step by step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LineDecision {
    pub sequence: u32,
    pub procedure_code: String,
    pub charge: Money,
    pub allowed: Money,
    pub paid: Money,
    pub patient_responsibility: Money,
    pub adjustments: Vec<Adjustment>,
    /// One sentence per step, so that the amount can be explained.
    pub explanation: Vec<String>,
}

/// The outcome of adjudication for the whole claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Paid,
    PartiallyPaid,
    Denied,
}

impl Outcome {
    /// The name it has in JSON and in the databases.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Paid => "paid",
            Outcome::PartiallyPaid => "partially_paid",
            Outcome::Denied => "denied",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Outcome;

    #[test]
    fn an_outcome_has_the_same_name_in_json_and_in_the_databases() {
        for outcome in [Outcome::Paid, Outcome::PartiallyPaid, Outcome::Denied] {
            assert_eq!(serde_json::to_value(outcome).unwrap(), outcome.as_str());
        }
    }
}
