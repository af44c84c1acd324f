//! Coordination of benefits as the secondary payer.
//!
//! The primary's figures per line come from the 837's 2320/2330B/2430 loops
//! or FHIR `Claim.insurance` (with the primary's ClaimResponse): its
//! allowed amount, what it paid and the patient's share it left. Under
//! [`CobMethod::LesserOf`] the secondary pays the lower of (its own allowed
//! − the primary's payment) and the primary's patient share, never below
//! zero. The rest of the charge is OA-23 (what the primary paid or wrote
//! off: the charge less the primary's patient share) plus CO-45 (the
//! primary's patient share the secondary does not pay). Reporting the
//! primary's money as anything but OA-23 would drive the provider's A/R
//! negative (claims-domain.md, scenario 12).

use claimtrail_codes::{Carc, GroupCode};
use claimtrail_events::{Adjustment, Money};
use serde::{Deserialize, Serialize};

use crate::plan::CobMethod;

/// One line as the secondary sees it: the charge, the primary's figures
/// and the secondary's own allowed amount (after its pricing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CobLine {
    pub sequence: u32,
    pub charge: Money,
    pub primary_allowed: Money,
    pub primary_paid: Money,
    /// The primary's PR adjustments on the line (deductible, coinsurance, copay).
    pub primary_patient_share: Money,
    pub secondary_allowed: Money,
}

/// The secondary's decision on a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CobLineDecision {
    pub sequence: u32,
    pub paid: Money,
    /// OA-23 then CO-45, the non-zero ones; with `paid` they sum to the charge.
    pub adjustments: Vec<Adjustment>,
    pub explanation: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CobError {
    #[error("line {sequence}: {field} {amount} is negative")]
    Negative { sequence: u32, field: &'static str, amount: Money },
    #[error("line {sequence}: the primary's allowed {allowed} is more than the charge {charge}")]
    AllowedOverCharge { sequence: u32, allowed: Money, charge: Money },
    #[error("line {sequence}: the primary's payment {paid} and patient share {patient_share} are more than its allowed {allowed}")]
    PrimaryOverAllowed { sequence: u32, paid: Money, patient_share: Money, allowed: Money },
    #[error("line {sequence}: an amount is out of range")]
    OutOfRange { sequence: u32 },
}

/// The secondary's payment on one line under `method`.
pub fn secondary_line(method: CobMethod, line: &CobLine) -> Result<CobLineDecision, CobError> {
    let sequence = line.sequence;
    let out_of_range = || CobError::OutOfRange { sequence };
    for (field, amount) in [
        ("the charge", line.charge),
        ("the primary's allowed", line.primary_allowed),
        ("the primary's payment", line.primary_paid),
        ("the primary's patient share", line.primary_patient_share),
        ("the secondary's allowed", line.secondary_allowed),
    ] {
        if amount.is_negative() {
            return Err(CobError::Negative { sequence, field, amount });
        }
    }
    if line.primary_allowed > line.charge {
        return Err(CobError::AllowedOverCharge { sequence, allowed: line.primary_allowed, charge: line.charge });
    }
    let primary_total = line.primary_paid.checked_add(line.primary_patient_share).ok_or_else(out_of_range)?;
    if primary_total > line.primary_allowed {
        return Err(CobError::PrimaryOverAllowed {
            sequence,
            paid: line.primary_paid,
            patient_share: line.primary_patient_share,
            allowed: line.primary_allowed,
        });
    }
    match method {
        CobMethod::LesserOf => {
            let secondary_room = line
                .secondary_allowed
                .checked_sub(line.primary_paid)
                .map(|room| if room.is_negative() { Money::ZERO } else { room })
                .ok_or_else(out_of_range)?;
            let paid = secondary_room.min(line.primary_patient_share);
            let prior_payer = line.charge.checked_sub(line.primary_patient_share).ok_or_else(out_of_range)?;
            let contractual = line.primary_patient_share.checked_sub(paid).ok_or_else(out_of_range)?;
            let adjustments: Vec<Adjustment> = [(GroupCode::Oa, Carc::PRIOR_PAYER, prior_payer), (GroupCode::Co, Carc::FEE_SCHEDULE, contractual)]
                .into_iter()
                .filter(|(_, _, amount)| !amount.is_zero())
                .map(|(group, reason, amount)| Adjustment { group, reason, amount })
                .collect();
            let adjusted = Money::checked_sum(adjustments.iter().map(|adjustment| &adjustment.amount)).and_then(|sum| sum.checked_add(paid));
            assert_eq!(adjusted, Some(line.charge), "line {sequence}: the secondary's decision does not balance");
            let explanation = vec![
                format!(
                    "lesser of: secondary allowed {} − primary paid {} = {secondary_room}, primary patient share {}; pays {paid}",
                    line.secondary_allowed, line.primary_paid, line.primary_patient_share
                ),
                format!("OA-23 {prior_payer}: the charge {} less the primary's patient share {}", line.charge, line.primary_patient_share),
                format!("CO-45 {contractual}: the primary's patient share the secondary does not pay"),
            ];
            Ok(CobLineDecision { sequence, paid, adjustments, explanation })
        }
    }
}

/// The secondary's payment on every line, in order; the first bad line is an error.
pub fn secondary_claim(method: CobMethod, lines: &[CobLine]) -> Result<Vec<CobLineDecision>, CobError> {
    lines.iter().map(|line| secondary_line(method, line)).collect()
}
