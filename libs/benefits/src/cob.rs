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
use claimtrail_events::{Adjustment, Coordination, Money};
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
    #[error("line {sequence}: the earlier payers paid {paid} and left the patient {patient_share}, more than the charge {charge}")]
    PriorOverCharge { sequence: u32, paid: Money, patient_share: Money, charge: Money },
}

/// Line `sequence` (of `charge`, allowed `secondary_allowed` by this payer)
/// as the claim's coordination gives it: what every earlier payer paid on
/// it, and the patient's share the last of them left (its PR adjustments).
/// A payer that decided the claim only as a whole counts on a claim of one
/// line (`single_line`); on a longer claim intake has refused that already
/// (`cob-lines-missing`), so it counts nothing. A one-line claim's
/// claim-level PR adjustments add to the line's. The earlier payers' allowed
/// amount is what they paid plus that share.
pub fn cob_line(cob: &Coordination, sequence: u32, charge: Money, secondary_allowed: Money, single_line: bool) -> Result<CobLine, CobError> {
    let out_of_range = || CobError::OutOfRange { sequence };
    let patient_share_of = |adjustments: &[Adjustment]| {
        Money::checked_sum(adjustments.iter().filter(|adjustment| adjustment.group == GroupCode::Pr).map(|adjustment| &adjustment.amount))
    };
    let mut paid = Money::ZERO;
    let mut patient_share = Money::ZERO;
    for payer in &cob.prior_payers {
        let line = payer.lines.iter().find(|line| line.sequence == sequence);
        let (line_paid, line_share) = match line {
            Some(line) => {
                let mut share = patient_share_of(&line.adjustments).ok_or_else(out_of_range)?;
                if single_line {
                    share = share.checked_add(patient_share_of(&payer.adjustments).ok_or_else(out_of_range)?).ok_or_else(out_of_range)?;
                }
                (line.paid, share)
            }
            None if single_line && payer.lines.is_empty() => (payer.paid, patient_share_of(&payer.adjustments).ok_or_else(out_of_range)?),
            None => (Money::ZERO, Money::ZERO),
        };
        paid = paid.checked_add(line_paid).ok_or_else(out_of_range)?;
        // Payers are in order: the last one's share is what is left to the patient.
        patient_share = line_share;
    }
    let primary_allowed = paid.checked_add(patient_share).ok_or_else(out_of_range)?;
    if primary_allowed > charge {
        return Err(CobError::PriorOverCharge { sequence, paid, patient_share, charge });
    }
    Ok(CobLine { sequence, charge, primary_allowed, primary_paid: paid, primary_patient_share: patient_share, secondary_allowed })
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

#[cfg(test)]
mod tests {
    use claimtrail_events::{PayerSequence, PriorLine, PriorPayer};
    use proptest::prelude::*;

    use super::*;

    fn money(text: &str) -> Money {
        Money::parse(text).unwrap()
    }

    fn adjustment(group: GroupCode, reason: &str, cents: i64) -> Adjustment {
        Adjustment { group, reason: Carc::parse(reason).unwrap(), amount: Money::from_cents(cents) }
    }

    /// A payer at `sequence` that paid `paid` cents and left `deductible` (PR-1) after CO-45 on line 1.
    fn payer(sequence: PayerSequence, paid: i64, deductible: i64, contractual: i64) -> PriorPayer {
        PriorPayer {
            sequence,
            payer_id: format!("{sequence:?}").to_uppercase(),
            paid: Money::from_cents(paid),
            adjustments: vec![],
            lines: vec![PriorLine {
                sequence: 1,
                paid: Money::from_cents(paid),
                adjustments: vec![adjustment(GroupCode::Pr, "1", deductible), adjustment(GroupCode::Co, "45", contractual)],
            }],
        }
    }

    #[test]
    fn scenario_12_s_line_from_the_primary_s_2430() {
        let cob = Coordination { sequence: PayerSequence::Secondary, prior_payers: vec![payer(PayerSequence::Primary, 30_000, 7_500, 12_500)] };
        let line = cob_line(&cob, 1, money("500.00"), money("365.00"), false).unwrap();
        assert_eq!((line.primary_paid, line.primary_patient_share, line.primary_allowed), (money("300.00"), money("75.00"), money("375.00")));
        assert_eq!(secondary_line(CobMethod::LesserOf, &line).unwrap().paid, money("65.00"));
        // A line the primary did not decide on a longer claim: nothing paid before, nothing left to the patient by it.
        assert_eq!(cob_line(&cob, 2, money("80.00"), money("60.00"), false).unwrap().primary_paid, Money::ZERO);
    }

    #[test]
    fn a_one_line_claim_decided_only_as_a_whole_uses_the_claim_level_figures() {
        let mut primary = payer(PayerSequence::Primary, 30_000, 0, 0);
        primary.lines.clear();
        primary.adjustments = vec![adjustment(GroupCode::Pr, "1", 7_500), adjustment(GroupCode::Co, "45", 12_500)];
        let cob = Coordination { sequence: PayerSequence::Secondary, prior_payers: vec![primary] };
        let line = cob_line(&cob, 1, money("500.00"), money("365.00"), true).unwrap();
        assert_eq!((line.primary_paid, line.primary_patient_share), (money("300.00"), money("75.00")));
    }

    #[test]
    fn a_tertiary_counts_every_earlier_payment_and_the_share_the_secondary_left() {
        let cob = Coordination {
            sequence: PayerSequence::Tertiary,
            prior_payers: vec![payer(PayerSequence::Primary, 30_000, 7_500, 12_500), payer(PayerSequence::Secondary, 5_000, 2_500, 42_500)],
        };
        let line = cob_line(&cob, 1, money("500.00"), money("400.00"), false).unwrap();
        assert_eq!((line.primary_paid, line.primary_patient_share), (money("350.00"), money("25.00")));
        let decided = secondary_line(CobMethod::LesserOf, &line).unwrap();
        assert_eq!(decided.paid, money("25.00"));
        assert_eq!(decided.adjustments, vec![adjustment(GroupCode::Oa, "23", 47_500)]);
    }

    #[test]
    fn earlier_payers_accounting_for_more_than_the_charge_are_refused_naming_the_line() {
        let cob = Coordination { sequence: PayerSequence::Secondary, prior_payers: vec![payer(PayerSequence::Primary, 45_000, 7_500, 0)] };
        let error = cob_line(&cob, 1, money("500.00"), money("365.00"), false).unwrap_err();
        assert_eq!(error.to_string(), "line 1: the earlier payers paid 450.00 and left the patient 75.00, more than the charge 500.00");
    }

    /// The reference, in whole cents, written from the words: pay the
    /// lower of (secondary allowed − primary paid, not below zero) and the
    /// primary's patient share; OA-23 is the charge less that share; CO-45 the
    /// share not paid.
    fn reference(charge: i64, primary_paid: i64, patient_share: i64, secondary_allowed: i64) -> (i64, i64, i64) {
        let room = if secondary_allowed > primary_paid { secondary_allowed - primary_paid } else { 0 };
        let paid = if room < patient_share { room } else { patient_share };
        (paid, charge - patient_share, patient_share - paid)
    }

    proptest! {
        #[test]
        fn lesser_of_matches_the_reference_on_other_numbers(
            charge in 1i64..5_000_000,
            paid_share in 0u32..=100,
            patient_share_share in 0u32..=100,
            allowed_share in 0u32..=100,
        ) {
            // The primary's split of the charge: paid, then the patient's share of what is left, the rest CO-45.
            let primary_paid = charge * i64::from(paid_share) / 100;
            let patient_share = (charge - primary_paid) * i64::from(patient_share_share) / 100;
            let contractual = charge - primary_paid - patient_share;
            let secondary_allowed = charge * i64::from(allowed_share) / 100;
            let cob = Coordination { sequence: PayerSequence::Secondary, prior_payers: vec![payer(PayerSequence::Primary, primary_paid, patient_share, contractual)] };
            let line = cob_line(&cob, 1, Money::from_cents(charge), Money::from_cents(secondary_allowed), false).unwrap();
            let decided = secondary_line(CobMethod::LesserOf, &line).unwrap();
            let (paid, oa_23, co_45) = reference(charge, primary_paid, patient_share, secondary_allowed);
            prop_assert_eq!(decided.paid, Money::from_cents(paid));
            let amount_of = |group: GroupCode| decided.adjustments.iter().find(|a| a.group == group).map_or(0, |a| a.amount.cents().unwrap());
            prop_assert_eq!(amount_of(GroupCode::Oa), oa_23);
            prop_assert_eq!(amount_of(GroupCode::Co), co_45);
            prop_assert!(decided.adjustments.iter().all(|a| !a.amount.is_zero() && a.group != GroupCode::Pr), "no zero CAS, no patient balance");
            prop_assert_eq!(paid + oa_23 + co_45, charge);
        }
    }
}
