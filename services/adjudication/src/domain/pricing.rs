//! Pricing a claim from a fee schedule: pure, no IO.
//!
//! Per line: fee = per-unit fee × units, rounded half away from zero to the
//! cent; allowed = the lower of the charge and the fee; the difference is a
//! contractual adjustment CO-45. A code absent from the payer's schedule is
//! not covered: CO-96 for the whole charge. Later rule sets (benefits,
//! edits) add steps; each step appends one sentence to the explanation.

use std::collections::HashMap;

use claimtrail_codes::{Carc, GroupCode};
use claimtrail_events::{Adjustment, ClaimAdjudicated, ClaimReversed, Frequency, LineDecision, Money, Outcome, SubmittedClaim};

/// The fee schedule a payer has in force: per-unit amounts by procedure code.
#[derive(Debug, Clone, Default)]
pub struct FeeSchedule {
    pub content_hash: String,
    pub fees: HashMap<String, Money>,
}

/// Why a claim could not be priced at all.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PricingError {
    #[error("amount overflow while pricing line {0}")]
    Overflow(u32),
}

/// Decides `claim` under `schedule`.
pub fn adjudicate(claim: &SubmittedClaim, schedule: &FeeSchedule) -> Result<ClaimAdjudicated, PricingError> {
    let mut lines = Vec::with_capacity(claim.lines.len());
    for line in &claim.lines {
        let mut explanation = Vec::new();
        let mut adjustments = Vec::new();
        let allowed = match schedule.fees.get(&line.procedure_code) {
            Some(fee_per_unit) => {
                let fee_exact = fee_per_unit.amount().checked_mul(line.quantity).ok_or(PricingError::Overflow(line.sequence))?;
                let fee = Money::round_half_away_from_zero(fee_exact);
                explanation.push(format!(
                    "fee schedule {}: {} per unit x {} units = {}",
                    short(&schedule.content_hash),
                    fee_per_unit,
                    line.quantity.normalize(),
                    fee
                ));
                let allowed = line.charge.min(fee);
                explanation.push(format!("allowed = lower of charge {} and fee {} = {}", line.charge, fee, allowed));
                allowed
            }
            None => {
                explanation.push(format!("procedure {} is not on the payer's fee schedule: not covered", line.procedure_code));
                if !line.charge.is_zero() {
                    adjustments.push(Adjustment { group: GroupCode::Co, reason: Carc::NON_COVERED, amount: line.charge });
                }
                Money::ZERO
            }
        };
        let contractual = line.charge.checked_sub(allowed).ok_or(PricingError::Overflow(line.sequence))?;
        if !contractual.is_zero() && !allowed.is_zero() {
            explanation.push(format!("CO-45 {contractual}: charge exceeds the fee schedule amount"));
            adjustments.push(Adjustment { group: GroupCode::Co, reason: Carc::FEE_SCHEDULE, amount: contractual });
        }
        let paid = allowed;
        explanation.push(format!("paid {paid}"));
        lines.push(LineDecision {
            sequence: line.sequence,
            procedure_code: line.procedure_code.clone(),
            charge: line.charge,
            allowed,
            paid,
            patient_responsibility: Money::ZERO,
            adjustments,
            remarks: Vec::new(),
            explanation,
        });
    }
    let sum = |pick: fn(&LineDecision) -> Money| Money::checked_sum(lines.iter().map(pick).collect::<Vec<_>>().iter()).ok_or(PricingError::Overflow(0));
    let total_charge = sum(|l| l.charge)?;
    let total_allowed = sum(|l| l.allowed)?;
    let total_paid = sum(|l| l.paid)?;
    let total_patient_responsibility = sum(|l| l.patient_responsibility)?;
    for line in &lines {
        // Balancing (835: SVC02 - sum CAS = SVC03) holds by construction; check it anyway.
        let adjusted = Money::checked_sum(line.adjustments.iter().map(|a| &a.amount)).and_then(|a| line.charge.checked_sub(a));
        assert_eq!(adjusted, Some(line.paid.checked_add(line.patient_responsibility).unwrap_or(Money::ZERO)), "line {} does not balance", line.sequence);
    }
    let outcome = if total_paid.is_zero() {
        Outcome::Denied
    } else if lines.iter().any(|l| l.paid.is_zero() && !l.charge.is_zero()) {
        Outcome::PartiallyPaid
    } else {
        Outcome::Paid
    };
    Ok(ClaimAdjudicated {
        claim_id: claim.claim_id,
        payer_id: claim.payer_id.clone(),
        billing_npi: claim.billing_npi.clone(),
        outcome,
        rule_set_hash: schedule.content_hash.clone(),
        lines,
        total_charge,
        total_allowed,
        total_paid,
        total_patient_responsibility,
    })
}

/// The reversal of `original`'s decision because `by` replaces or voids it:
/// every amount negated (the 835's CLP02 = 22), each line explained.
pub fn reverse(original: &ClaimAdjudicated, by: &SubmittedClaim) -> ClaimReversed {
    let verb = if by.frequency == Frequency::Void { "voided" } else { "replaced" };
    let lines = original
        .lines
        .iter()
        .map(|line| LineDecision {
            sequence: line.sequence,
            procedure_code: line.procedure_code.clone(),
            charge: line.charge.negated(),
            allowed: line.allowed.negated(),
            paid: line.paid.negated(),
            patient_responsibility: line.patient_responsibility.negated(),
            adjustments: line.adjustments.iter().map(|a| Adjustment { group: a.group, reason: a.reason.clone(), amount: a.amount.negated() }).collect(),
            remarks: line.remarks.clone(),
            explanation: vec![format!("claim {verb} by claim {}: paid {} reversed", by.claim_id, line.paid)],
        })
        .collect();
    ClaimReversed {
        claim_id: original.claim_id,
        by_claim_id: by.claim_id,
        frequency: by.frequency,
        payer_id: original.payer_id.clone(),
        billing_npi: original.billing_npi.clone(),
        rule_set_hash: original.rule_set_hash.clone(),
        lines,
        total_charge: original.total_charge.negated(),
        total_allowed: original.total_allowed.negated(),
        total_paid: original.total_paid.negated(),
        total_patient_responsibility: original.total_patient_responsibility.negated(),
    }
}

/// A replacement or void whose original was already reversed by another
/// claim (a race intake's edit cannot always see): denied whole, CO-129
/// (prior processing information appears incorrect), nothing reversed twice.
pub fn deny_already_reversed(claim: &SubmittedClaim, reversed_by: &str, rule_set_hash: &str) -> ClaimAdjudicated {
    let original = claim.related_claim_id.as_deref().unwrap_or("?");
    let lines: Vec<LineDecision> = claim
        .lines
        .iter()
        .map(|line| LineDecision {
            sequence: line.sequence,
            procedure_code: line.procedure_code.clone(),
            charge: line.charge,
            allowed: Money::ZERO,
            paid: Money::ZERO,
            patient_responsibility: Money::ZERO,
            adjustments: if line.charge.is_zero() {
                vec![]
            } else {
                vec![Adjustment { group: GroupCode::Co, reason: Carc::PRIOR_PROCESSING, amount: line.charge }]
            },
            remarks: Vec::new(),
            explanation: vec![format!("claim {original} was already reversed by claim {reversed_by}: CO-129, not paid")],
        })
        .collect();
    ClaimAdjudicated {
        claim_id: claim.claim_id,
        payer_id: claim.payer_id.clone(),
        billing_npi: claim.billing_npi.clone(),
        outcome: Outcome::Denied,
        rule_set_hash: rule_set_hash.to_owned(),
        total_charge: claim.total_charge,
        total_allowed: Money::ZERO,
        total_paid: Money::ZERO,
        total_patient_responsibility: Money::ZERO,
        lines,
    }
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    fn claim(lines: &[(&str, &str, i64)]) -> SubmittedClaim {
        crate::domain::fixtures::claim(Frequency::Original, None, lines)
    }

    fn schedule(fees: &[(&str, &str)]) -> FeeSchedule {
        FeeSchedule { content_hash: "abc".into(), fees: fees.iter().map(|(c, a)| ((*c).into(), Money::parse(a).unwrap())).collect() }
    }

    #[test]
    fn a_charge_above_the_fee_is_cut_to_the_fee_with_co_45() {
        let decision = adjudicate(&claim(&[("99213", "180.00", 1)]), &schedule(&[("99213", "120.00")])).unwrap();
        let line = &decision.lines[0];
        assert_eq!((line.allowed.to_string(), line.paid.to_string()), ("120.00".into(), "120.00".into()));
        assert_eq!(line.adjustments, vec![Adjustment { group: GroupCode::Co, reason: Carc::FEE_SCHEDULE, amount: Money::parse("60").unwrap() }]);
        assert_eq!(decision.outcome, Outcome::Paid);
    }

    #[test]
    fn a_charge_below_the_fee_is_allowed_in_full() {
        let decision = adjudicate(&claim(&[("J1100", "5.00", 2)]), &schedule(&[("J1100", "3.00")])).unwrap();
        let line = &decision.lines[0];
        assert_eq!(line.allowed.to_string(), "5.00");
        assert!(line.adjustments.is_empty());
        assert_eq!(decision.total_paid.to_string(), "5.00");
    }

    #[test]
    fn units_multiply_the_fee_and_round_half_away_from_zero() {
        let mut schedule = schedule(&[]);
        schedule.fees.insert("J1100".into(), Money::parse("0.45").unwrap());
        let mut claim = claim(&[("J1100", "100.00", 1)]);
        claim.lines[0].quantity = Decimal::new(15, 1); // 1.5 units x 0.45 = 0.675 -> 0.68
        let decision = adjudicate(&claim, &schedule).unwrap();
        assert_eq!(decision.lines[0].allowed.to_string(), "0.68");
        assert_eq!(decision.lines[0].adjustments[0].amount.to_string(), "99.32");
    }

    #[test]
    fn a_code_off_the_schedule_is_denied_with_co_96() {
        let decision = adjudicate(&claim(&[("99213", "180.00", 1), ("G0008", "40.00", 1)]), &schedule(&[("99213", "120.00")])).unwrap();
        assert_eq!(decision.outcome, Outcome::PartiallyPaid);
        assert_eq!(decision.lines[1].adjustments[0].reason, Carc::NON_COVERED);
        assert_eq!(decision.total_paid.to_string(), "120.00");
        let all_off = adjudicate(&claim(&[("G0008", "40.00", 1)]), &schedule(&[])).unwrap();
        assert_eq!(all_off.outcome, Outcome::Denied);
    }
}
