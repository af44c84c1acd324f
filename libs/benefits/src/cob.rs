//! Coordination of benefits as the secondary payer.
//!
//! The primary's figures per line come from the 837's 2320/2330B/2430 loops
//! or FHIR `Claim.insurance` (with the primary's ClaimResponse): its
//! allowed amount, what it paid and the patient's share it left. The
//! secondary pays at most that patient share: the provider took the
//! primary's allowed amount (the NAIC COB model regulation, section 3: when
//! the primary pays on negotiated fees, its arrangement is the allowable
//! expense), so the share is all of it still unpaid. Per [`CobMethod`]:
//! - `lesser_of`: the lower of (its own allowed − the primary's payment,
//!   never below zero) and the share; the share it does not pay is CO-45
//!   (written off: the member owes nothing, as Medicaid requires);
//! - `standard` (the NAIC model's own procedure, section 7: the secondary
//!   "calculates the benefits it would have paid in the absence of other
//!   coverage" and pays them toward the allowable expense the primary left
//!   unpaid): the lower of its own benefit and the share;
//! - `non_duplication`: the difference, if any, between its own benefit and
//!   what the earlier payers paid, never more than the share.
//!
//! Its own benefit is what this plan would pay as primary: its allowed less
//! its own cost sharing ([`CobLine::secondary_benefit`]). Under `standard`
//! and `non_duplication` the share not paid stays the member's, as PR with
//! the earlier payer's own reasons (its PR adjustments, in order, each up to
//! its amount). In every method the rest of the charge is OA-23 (what the
//! primary paid or wrote off: the charge less the primary's patient share).
//! Reporting the primary's money as anything but OA-23 would drive the
//! provider's A/R negative (claims-domain.md, scenario 12).

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
    /// Those PR adjustments, in the earlier payer's order; they sum to `primary_patient_share`.
    pub primary_patient_adjustments: Vec<Adjustment>,
    pub secondary_allowed: Money,
    /// What this plan would pay as primary: its allowed less its own cost
    /// sharing (`standard` and `non_duplication` read it). [`cob_line`] sets
    /// it to `secondary_allowed` (a plan without cost sharing).
    pub secondary_benefit: Money,
}

/// The secondary's decision on a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CobLineDecision {
    pub sequence: u32,
    pub paid: Money,
    /// OA-23, then CO-45 (`lesser_of`) or the member's PR (the other methods), the non-zero ones; with `paid` they sum to the charge.
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
    #[error("line {sequence}: the secondary's own benefit {benefit} is more than its allowed {allowed}")]
    BenefitOverAllowed { sequence: u32, benefit: Money, allowed: Money },
    #[error("line {sequence}: the primary's PR adjustments add up to {sum}, not its patient share {patient_share}")]
    ShareUnbalanced { sequence: u32, sum: Money, patient_share: Money },
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
    let patient_adjustments_of =
        |adjustments: &[Adjustment]| adjustments.iter().filter(|adjustment| adjustment.group == GroupCode::Pr).cloned().collect::<Vec<_>>();
    let mut paid = Money::ZERO;
    let mut patient_adjustments = Vec::new();
    for payer in &cob.prior_payers {
        let line = payer.lines.iter().find(|line| line.sequence == sequence);
        let (line_paid, line_share) = match line {
            Some(line) => {
                let mut share = patient_adjustments_of(&line.adjustments);
                if single_line {
                    share.extend(patient_adjustments_of(&payer.adjustments));
                }
                (line.paid, share)
            }
            None if single_line && payer.lines.is_empty() => (payer.paid, patient_adjustments_of(&payer.adjustments)),
            None => (Money::ZERO, Vec::new()),
        };
        paid = paid.checked_add(line_paid).ok_or_else(out_of_range)?;
        // Payers are in order: the last one's share is what is left to the patient.
        patient_adjustments = line_share;
    }
    let patient_share = Money::checked_sum(patient_adjustments.iter().map(|adjustment| &adjustment.amount)).ok_or_else(out_of_range)?;
    let primary_allowed = paid.checked_add(patient_share).ok_or_else(out_of_range)?;
    if primary_allowed > charge {
        return Err(CobError::PriorOverCharge { sequence, paid, patient_share, charge });
    }
    Ok(CobLine {
        sequence,
        charge,
        primary_allowed,
        primary_paid: paid,
        primary_patient_share: patient_share,
        primary_patient_adjustments: patient_adjustments,
        secondary_allowed,
        secondary_benefit: secondary_allowed,
    })
}

/// `amount` of the member's share, as PR with the earlier payer's reasons
/// in their order, each up to its own amount.
fn member_share(amount: Money, primary: &[Adjustment], sequence: u32) -> Result<Vec<Adjustment>, CobError> {
    let mut left = amount;
    let mut share = Vec::new();
    for adjustment in primary {
        if left.is_zero() {
            break;
        }
        let taken = left.min(adjustment.amount);
        left = left.checked_sub(taken).ok_or(CobError::OutOfRange { sequence })?;
        share.push(Adjustment { group: GroupCode::Pr, reason: adjustment.reason.clone(), amount: taken });
    }
    if left.is_zero() { Ok(share) } else { Err(CobError::OutOfRange { sequence }) }
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
        ("the secondary's own benefit", line.secondary_benefit),
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
    if method.reads_own_benefit() && line.secondary_benefit > line.secondary_allowed {
        return Err(CobError::BenefitOverAllowed { sequence, benefit: line.secondary_benefit, allowed: line.secondary_allowed });
    }
    let share = line.primary_patient_share;
    let shares_sum = Money::checked_sum(line.primary_patient_adjustments.iter().map(|adjustment| &adjustment.amount)).ok_or_else(out_of_range)?;
    if method != CobMethod::LesserOf && shares_sum != share {
        return Err(CobError::ShareUnbalanced { sequence, sum: shares_sum, patient_share: share });
    }
    let less_paid =
        |amount: Money| amount.checked_sub(line.primary_paid).map(|room| if room.is_negative() { Money::ZERO } else { room }).ok_or_else(out_of_range);
    let (paid, basis) = match method {
        CobMethod::LesserOf => {
            let room = less_paid(line.secondary_allowed)?;
            let paid = room.min(share);
            (
                paid,
                format!(
                    "lesser of: secondary allowed {} − primary paid {} = {room}, primary patient share {share}; pays {paid}",
                    line.secondary_allowed, line.primary_paid
                ),
            )
        }
        CobMethod::Standard => {
            let paid = line.secondary_benefit.min(share);
            (paid, format!("standard: own benefit {} up to the primary's patient share {share}; pays {paid}", line.secondary_benefit))
        }
        CobMethod::NonDuplication => {
            let room = less_paid(line.secondary_benefit)?;
            let paid = room.min(share);
            (
                paid,
                format!(
                    "non-duplication: own benefit {} − primary paid {} = {room}, up to the primary's patient share {share}; pays {paid}",
                    line.secondary_benefit, line.primary_paid
                ),
            )
        }
    };
    let prior_payer = line.charge.checked_sub(share).ok_or_else(out_of_range)?;
    let unpaid = share.checked_sub(paid).ok_or_else(out_of_range)?;
    let mut adjustments = vec![Adjustment { group: GroupCode::Oa, reason: Carc::PRIOR_PAYER, amount: prior_payer }];
    let mut explanation = vec![basis, format!("OA-23 {prior_payer}: the charge {} less the primary's patient share {share}", line.charge)];
    if method == CobMethod::LesserOf {
        adjustments.push(Adjustment { group: GroupCode::Co, reason: Carc::FEE_SCHEDULE, amount: unpaid });
        explanation.push(format!("CO-45 {unpaid}: the primary's patient share the secondary does not pay"));
    } else {
        adjustments.extend(member_share(unpaid, &line.primary_patient_adjustments, sequence)?);
        explanation.push(format!("the member owes {unpaid}: the primary's patient share the secondary does not pay (PR, the primary's reasons)"));
    }
    adjustments.retain(|adjustment| !adjustment.amount.is_zero());
    let adjusted = Money::checked_sum(adjustments.iter().map(|adjustment| &adjustment.amount)).and_then(|sum| sum.checked_add(paid));
    assert_eq!(adjusted, Some(line.charge), "line {sequence}: the secondary's decision does not balance");
    Ok(CobLineDecision { sequence, paid, adjustments, explanation })
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

    /// A payer that paid 200.00 of a 400.00 charge and left PR-1 50.00 then PR-2 30.00, after CO-45 120.00.
    fn two_reason_cob() -> Coordination {
        let mut primary = payer(PayerSequence::Primary, 20_000, 5_000, 12_000);
        primary.lines[0].adjustments.insert(1, adjustment(GroupCode::Pr, "2", 3_000));
        Coordination { sequence: PayerSequence::Secondary, prior_payers: vec![primary] }
    }

    #[test]
    fn standard_pays_the_own_benefit_up_to_the_patient_share_and_non_duplication_only_what_it_exceeds_the_primary_payment_by() {
        let scenario_12 = Coordination { sequence: PayerSequence::Secondary, prior_payers: vec![payer(PayerSequence::Primary, 30_000, 7_500, 12_500)] };
        // Scenario 12's line; the secondary's own benefit is 80% of its 365.00 allowed: 292.00.
        let line = CobLine { secondary_benefit: money("292.00"), ..cob_line(&scenario_12, 1, money("500.00"), money("365.00"), false).unwrap() };
        let standard = secondary_line(CobMethod::Standard, &line).unwrap();
        assert_eq!((standard.paid, standard.adjustments.clone()), (money("75.00"), vec![adjustment(GroupCode::Oa, "23", 42_500)]));
        assert!(standard.explanation[0].contains("own benefit 292.00 up to the primary's patient share 75.00"), "{:?}", standard.explanation);
        // Non-duplication: 292 − 300 is below zero, so nothing; the member keeps the primary's PR-1 75.00.
        let non_duplication = secondary_line(CobMethod::NonDuplication, &line).unwrap();
        assert_eq!(non_duplication.paid, Money::ZERO);
        assert_eq!(non_duplication.adjustments, vec![adjustment(GroupCode::Oa, "23", 42_500), adjustment(GroupCode::Pr, "1", 7_500)]);
        // Lesser of, on the same line: 365 − 300 = 65, CO-45 10.
        assert_eq!(secondary_line(CobMethod::LesserOf, &line).unwrap().paid, money("65.00"));

        // Charge 400: primary paid 200, PR-1 50 and PR-2 30 (share 80), CO-45 120.
        let line = cob_line(&two_reason_cob(), 1, money("400.00"), money("300.00"), false).unwrap();
        assert_eq!((line.primary_patient_share, line.primary_patient_adjustments.len()), (money("80.00"), 2));
        // Own benefit 260: standard pays the whole share; non-duplication 260 − 200 = 60 and the member owes 20, on the first reason.
        let own_260 = CobLine { secondary_benefit: money("260.00"), ..line.clone() };
        let standard = secondary_line(CobMethod::Standard, &own_260).unwrap();
        assert_eq!((standard.paid, standard.adjustments.len()), (money("80.00"), 1));
        let non_duplication = secondary_line(CobMethod::NonDuplication, &own_260).unwrap();
        assert_eq!(non_duplication.paid, money("60.00"));
        assert_eq!(non_duplication.adjustments, vec![adjustment(GroupCode::Oa, "23", 32_000), adjustment(GroupCode::Pr, "1", 2_000)]);
        // Own benefit 40: standard pays 40 and the member owes PR-1 40 (of 50); non-duplication pays nothing, PR-1 50 and PR-2 30.
        let own_40 = CobLine { secondary_benefit: money("40.00"), ..line.clone() };
        let standard = secondary_line(CobMethod::Standard, &own_40).unwrap();
        assert_eq!((standard.paid, standard.adjustments[1].clone()), (money("40.00"), adjustment(GroupCode::Pr, "1", 4_000)));
        let non_duplication = secondary_line(CobMethod::NonDuplication, &own_40).unwrap();
        assert_eq!(non_duplication.adjustments[1..], [adjustment(GroupCode::Pr, "1", 5_000), adjustment(GroupCode::Pr, "2", 3_000)]);
        // An own benefit over the allowed amount is refused, naming the line.
        let over = CobLine { secondary_benefit: money("300.01"), ..line };
        assert_eq!(
            secondary_line(CobMethod::Standard, &over).unwrap_err().to_string(),
            "line 1: the secondary's own benefit 300.01 is more than its allowed 300.00"
        );
    }

    /// The reference, in whole cents, written from the methods' words: the
    /// room is (secondary allowed − primary paid) under lesser of, the own
    /// benefit under standard, (own benefit − primary paid) under
    /// non-duplication, never below zero; pay the lower of the room and the
    /// primary's patient share; OA-23 is the charge less that share; the
    /// share not paid is CO-45 under lesser of and the member's (PR) otherwise.
    /// Returns (paid, OA-23, CO-45, PR).
    fn reference(method: CobMethod, charge: i64, primary_paid: i64, patient_share: i64, secondary_allowed: i64, own_benefit: i64) -> (i64, i64, i64, i64) {
        let room = match method {
            CobMethod::LesserOf => secondary_allowed - primary_paid,
            CobMethod::Standard => own_benefit,
            CobMethod::NonDuplication => own_benefit - primary_paid,
        };
        let room = if room < 0 { 0 } else { room };
        let paid = if room < patient_share { room } else { patient_share };
        let unpaid = patient_share - paid;
        match method {
            CobMethod::LesserOf => (paid, charge - patient_share, unpaid, 0),
            _ => (paid, charge - patient_share, 0, unpaid),
        }
    }

    proptest! {
        #[test]
        fn every_method_matches_the_reference_on_other_numbers(
            method in prop::sample::select(vec![CobMethod::LesserOf, CobMethod::Standard, CobMethod::NonDuplication]),
            charge in 1i64..5_000_000,
            paid_share in 0u32..=100,
            patient_share_share in 0u32..=100,
            allowed_share in 0u32..=100,
            benefit_share in 0u32..=100,
        ) {
            // The primary's split of the charge: paid, then the patient's share of what is left, the rest CO-45.
            let primary_paid = charge * i64::from(paid_share) / 100;
            let patient_share = (charge - primary_paid) * i64::from(patient_share_share) / 100;
            let contractual = charge - primary_paid - patient_share;
            let secondary_allowed = charge * i64::from(allowed_share) / 100;
            let own_benefit = secondary_allowed * i64::from(benefit_share) / 100;
            let cob = Coordination { sequence: PayerSequence::Secondary, prior_payers: vec![payer(PayerSequence::Primary, primary_paid, patient_share, contractual)] };
            let line = cob_line(&cob, 1, Money::from_cents(charge), Money::from_cents(secondary_allowed), false).unwrap();
            let line = CobLine { secondary_benefit: Money::from_cents(own_benefit), ..line };
            let decided = secondary_line(method, &line).unwrap();
            let (paid, oa_23, co_45, pr) = reference(method, charge, primary_paid, patient_share, secondary_allowed, own_benefit);
            prop_assert_eq!(decided.paid, Money::from_cents(paid));
            let amount_of = |group: GroupCode| decided.adjustments.iter().filter(|a| a.group == group).map(|a| a.amount.cents().unwrap()).sum::<i64>();
            prop_assert_eq!(amount_of(GroupCode::Oa), oa_23);
            prop_assert_eq!(amount_of(GroupCode::Co), co_45);
            prop_assert_eq!(amount_of(GroupCode::Pr), pr);
            prop_assert!(decided.adjustments.iter().all(|a| !a.amount.is_zero()), "no zero CAS");
            prop_assert_eq!(paid + oa_23 + co_45 + pr, charge);
        }
    }
}
