//! Pricing a claim from a fee schedule: pure, no IO.
//!
//! Per line: fee = per-unit fee × units, rounded half away from zero to the
//! cent; allowed = the lower of the charge and the fee; the difference is a
//! contractual adjustment CO-45. A code absent from the payer's schedule is
//! not covered: CO-96 for the whole charge; a payer with no schedule at all
//! prices under the empty one ([`EMPTY_SCHEDULE`]). A line a standard edit
//! denied ([`super::edits`]) is not priced: its CARC takes the whole charge.
//! Each step appends one sentence to the explanation and one structured
//! [`DecisionStep`].

use std::collections::HashMap;

use claimtrail_codes::{Carc, GroupCode};
use claimtrail_events::{
    Adjustment, ClaimAdjudicated, ClaimReversed, DecisionStep, Frequency, LineDecision, Money, Outcome, StepKind, SubmittedClaim, sha3_256,
};

use super::edits::Denial;

/// The fee schedule a payer has in force: per-unit amounts by procedure code.
#[derive(Debug, Clone, Default)]
pub struct FeeSchedule {
    pub content_hash: String,
    pub fees: HashMap<String, Money>,
}

/// What a payer that never published a schedule prices under: no fees, and
/// the content hash of the canonical empty entry list (`[]`), which is what
/// its decisions cite.
pub struct EmptySchedule;

/// See [`EmptySchedule`].
pub const EMPTY_SCHEDULE: EmptySchedule = EmptySchedule;

impl EmptySchedule {
    /// Hex SHA3-256 of `[]`.
    pub fn content_hash(&self) -> String {
        hex::encode(sha3_256(b"[]"))
    }
}

/// Why a claim could not be priced at all.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PricingError {
    #[error("amount overflow while pricing line {0}")]
    Overflow(u32),
}

/// The schedule's content hash, or the empty schedule's.
pub fn schedule_hash(schedule: Option<&FeeSchedule>) -> String {
    schedule.map_or_else(|| EMPTY_SCHEDULE.content_hash(), |schedule| schedule.content_hash.clone())
}

/// A line a standard edit denied: nothing allowed, the edit's CARC for the whole charge.
pub fn denied_line(line: &claimtrail_events::ClaimLine, denial: &Denial) -> LineDecision {
    let adjustment = (!line.charge.is_zero()).then_some(Adjustment { group: GroupCode::Co, reason: denial.carc.clone(), amount: line.charge });
    LineDecision {
        remarks: denial.remarks.clone(),
        sequence: line.sequence,
        procedure_code: line.procedure_code.to_string(),
        charge: line.charge,
        allowed: Money::ZERO,
        paid: Money::ZERO,
        patient_responsibility: Money::ZERO,
        adjustments: adjustment.iter().cloned().collect(),
        explanation: vec![denial.detail.clone(), "paid 0.00".into()],
        steps: vec![DecisionStep {
            kind: StepKind::Edit,
            rule: denial.edit.into(),
            source: Some(denial.source.clone()),
            adjustment,
            before: line.charge,
            after: Money::ZERO,
            detail: denial.detail.clone(),
        }],
    }
}

/// Decides `claim` under `schedule` (none: the empty one), each line denied
/// by `denials[i]` (by position) left unpriced.
pub fn adjudicate(claim: &SubmittedClaim, schedule: Option<&FeeSchedule>, denials: &[Option<Denial>]) -> Result<ClaimAdjudicated, PricingError> {
    let content_hash = schedule_hash(schedule);
    let mut lines = Vec::with_capacity(claim.lines.len());
    for (line_idx, line) in claim.lines.iter().enumerate() {
        match denials.get(line_idx) {
            Some(Some(denial)) => lines.push(denied_line(line, denial)),
            _ => lines.push(price_line(claim, line, schedule, line.quantity)?),
        }
    }
    finish(claim, lines, content_hash)
}

/// Prices one line under the legacy per-code `schedule`, paying at most
/// `units_allowed` units (an MUE reduction; the rest CO-151).
pub fn price_line(
    claim: &SubmittedClaim,
    line: &claimtrail_events::ClaimLine,
    schedule: Option<&FeeSchedule>,
    units_allowed: rust_decimal::Decimal,
) -> Result<LineDecision, PricingError> {
    let content_hash = schedule_hash(schedule);
    {
        let mut explanation = Vec::new();
        let mut adjustments = Vec::new();
        let mut steps = Vec::new();
        let allowed = match schedule.and_then(|schedule| schedule.fees.get(line.procedure_code.as_str())) {
            Some(fee_per_unit) => {
                let units = units_allowed.min(line.quantity);
                if units < line.quantity {
                    let full = Money::round_half_away_from_zero(fee_per_unit.amount().checked_mul(line.quantity).ok_or(PricingError::Overflow(line.sequence))?);
                    let kept = Money::round_half_away_from_zero(fee_per_unit.amount().checked_mul(units).ok_or(PricingError::Overflow(line.sequence))?);
                    let cut = line.charge.min(full).checked_sub(line.charge.min(kept)).ok_or(PricingError::Overflow(line.sequence))?;
                    if !cut.is_zero() {
                        let adjustment = Adjustment { group: GroupCode::Co, reason: Carc::UNITS_NOT_SUPPORTED, amount: cut };
                        let sentence = format!("MUE: {} of {} units paid; CO-151 {cut}", units.normalize(), line.quantity.normalize());
                        explanation.push(sentence.clone());
                        steps.push(DecisionStep {
                            kind: StepKind::Edit,
                            rule: "mue".into(),
                            source: None,
                            adjustment: Some(adjustment.clone()),
                            before: line.charge.min(full),
                            after: line.charge.min(kept),
                            detail: sentence,
                        });
                        adjustments.push(adjustment);
                    }
                }
                let fee_exact = fee_per_unit.amount().checked_mul(units).ok_or(PricingError::Overflow(line.sequence))?;
                let fee = Money::round_half_away_from_zero(fee_exact);
                let fee_sentence = format!("fee schedule {}: {} per unit x {} units = {}", short(&content_hash), fee_per_unit, units.normalize(), fee);
                explanation.push(fee_sentence.clone());
                let allowed = line.charge.min(fee);
                let charge_left = line
                    .charge
                    .checked_sub(Money::checked_sum(adjustments.iter().map(|a: &Adjustment| &a.amount)).ok_or(PricingError::Overflow(line.sequence))?)
                    .ok_or(PricingError::Overflow(line.sequence))?;
                let allowed_sentence = format!("allowed = lower of charge {} and fee {} = {}", line.charge, fee, allowed);
                explanation.push(allowed_sentence.clone());
                let contractual = charge_left.checked_sub(allowed).ok_or(PricingError::Overflow(line.sequence))?;
                let adjustment = (!contractual.is_zero() && !allowed.is_zero()).then_some(Adjustment {
                    group: GroupCode::Co,
                    reason: Carc::FEE_SCHEDULE,
                    amount: contractual,
                });
                steps.push(DecisionStep {
                    kind: StepKind::Pricing,
                    rule: "fee-schedule".into(),
                    source: Some(format!("fee_schedule:{content_hash}#{}", line.procedure_code)),
                    adjustment: adjustment.clone(),
                    before: line.charge,
                    after: allowed,
                    detail: format!("{fee_sentence}; {allowed_sentence}"),
                });
                if let Some(adjustment) = adjustment {
                    explanation.push(format!("CO-45 {contractual}: charge exceeds the fee schedule amount"));
                    adjustments.push(adjustment);
                }
                allowed
            }
            None => {
                let sentence = match schedule {
                    Some(_) => format!("procedure {} is not on the payer's fee schedule: not covered", line.procedure_code),
                    None => format!("payer {} has published no fee schedule: procedure {} is not covered", claim.payer_id, line.procedure_code),
                };
                explanation.push(sentence.clone());
                let adjustment = (!line.charge.is_zero()).then_some(Adjustment { group: GroupCode::Co, reason: Carc::NON_COVERED, amount: line.charge });
                adjustments.extend(adjustment.clone());
                steps.push(DecisionStep {
                    kind: StepKind::Pricing,
                    rule: "not-on-fee-schedule".into(),
                    source: Some(format!("fee_schedule:{content_hash}")),
                    adjustment,
                    before: line.charge,
                    after: Money::ZERO,
                    detail: sentence,
                });
                Money::ZERO
            }
        };
        let paid = allowed;
        explanation.push(format!("paid {paid}"));
        Ok(LineDecision {
            remarks: Vec::new(),
            sequence: line.sequence,
            procedure_code: line.procedure_code.to_string(),
            charge: line.charge,
            allowed,
            paid,
            patient_responsibility: Money::ZERO,
            adjustments,
            explanation,
            steps,
        })
    }
}

/// The claim's decision from its decided lines: totals, the balance of each
/// line checked, and the outcome (paid, partially paid or denied).
pub fn finish(claim: &SubmittedClaim, lines: Vec<LineDecision>, content_hash: String) -> Result<ClaimAdjudicated, PricingError> {
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
        payer_id: claim.payer_id.to_string(),
        billing_npi: claim.billing_npi.to_string(),
        outcome,
        rule_set_hash: content_hash,
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
            explanation: vec![format!("claim {verb} by claim {}: paid {} reversed", by.claim_id, line.paid)],
            steps: vec![DecisionStep {
                kind: StepKind::Reversal,
                rule: format!("claim-{verb}"),
                source: Some(format!("claim:{}", by.claim_id)),
                adjustment: None,
                before: line.paid,
                after: line.paid.negated(),
                detail: format!("claim {verb} by claim {}: paid {} reversed", by.claim_id, line.paid),
            }],
            ..line.amounts_negated()
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
    let original = claim.related_claim_id.map_or_else(|| "?".to_owned(), |id| id.to_string());
    let lines: Vec<LineDecision> = claim
        .lines
        .iter()
        .map(|line| LineDecision {
            remarks: Vec::new(),
            sequence: line.sequence,
            procedure_code: line.procedure_code.to_string(),
            charge: line.charge,
            allowed: Money::ZERO,
            paid: Money::ZERO,
            patient_responsibility: Money::ZERO,
            adjustments: if line.charge.is_zero() {
                vec![]
            } else {
                vec![Adjustment { group: GroupCode::Co, reason: Carc::PRIOR_PROCESSING, amount: line.charge }]
            },
            explanation: vec![format!("claim {original} was already reversed by claim {reversed_by}: CO-129, not paid")],
            steps: vec![DecisionStep {
                kind: StepKind::Reversal,
                rule: "original-already-reversed".into(),
                source: Some(format!("claim:{reversed_by}")),
                adjustment: (!line.charge.is_zero()).then_some(Adjustment { group: GroupCode::Co, reason: Carc::PRIOR_PROCESSING, amount: line.charge }),
                before: line.charge,
                after: Money::ZERO,
                detail: format!("claim {original} was already reversed by claim {reversed_by}: CO-129, not paid"),
            }],
        })
        .collect();
    ClaimAdjudicated {
        claim_id: claim.claim_id,
        payer_id: claim.payer_id.to_string(),
        billing_npi: claim.billing_npi.to_string(),
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
        let decision = adjudicate(&claim(&[("99213", "180.00", 1)]), Some(&schedule(&[("99213", "120.00")])), &[]).unwrap();
        let line = &decision.lines[0];
        assert_eq!((line.allowed.to_string(), line.paid.to_string()), ("120.00".into(), "120.00".into()));
        assert_eq!(line.adjustments, vec![Adjustment { group: GroupCode::Co, reason: Carc::FEE_SCHEDULE, amount: Money::parse("60").unwrap() }]);
        assert_eq!(decision.outcome, Outcome::Paid);
    }

    #[test]
    fn a_charge_below_the_fee_is_allowed_in_full() {
        let decision = adjudicate(&claim(&[("J1100", "5.00", 2)]), Some(&schedule(&[("J1100", "3.00")])), &[]).unwrap();
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
        let decision = adjudicate(&claim, Some(&schedule), &[]).unwrap();
        assert_eq!(decision.lines[0].allowed.to_string(), "0.68");
        assert_eq!(decision.lines[0].adjustments[0].amount.to_string(), "99.32");
    }

    #[test]
    fn a_code_off_the_schedule_is_denied_with_co_96() {
        let decision = adjudicate(&claim(&[("99213", "180.00", 1), ("G0008", "40.00", 1)]), Some(&schedule(&[("99213", "120.00")])), &[]).unwrap();
        assert_eq!(decision.outcome, Outcome::PartiallyPaid);
        assert_eq!(decision.lines[1].adjustments[0].reason, Carc::NON_COVERED);
        assert_eq!(decision.total_paid.to_string(), "120.00");
        let all_off = adjudicate(&claim(&[("G0008", "40.00", 1)]), Some(&schedule(&[])), &[]).unwrap();
        assert_eq!(all_off.outcome, Outcome::Denied);
    }

    #[test]
    fn a_payer_without_a_schedule_prices_under_the_empty_one_and_cites_its_hash() {
        let decision = adjudicate(&claim(&[("99213", "180.00", 1)]), None, &[]).unwrap();
        assert_eq!(decision.outcome, Outcome::Denied);
        assert_eq!(decision.rule_set_hash, EMPTY_SCHEDULE.content_hash());
        assert_eq!(decision.rule_set_hash.len(), 64);
        assert_eq!(decision.lines[0].steps[0].rule, "not-on-fee-schedule");
    }

    #[test]
    fn each_pricing_step_records_the_amount_before_and_after_and_the_row_that_fired() {
        let decision = adjudicate(&claim(&[("99213", "180.00", 1)]), Some(&schedule(&[("99213", "120.00")])), &[]).unwrap();
        let step = &decision.lines[0].steps[0];
        assert_eq!((step.kind, step.rule.as_str(), step.source.as_deref()), (StepKind::Pricing, "fee-schedule", Some("fee_schedule:abc#99213")));
        assert_eq!((step.before.to_string(), step.after.to_string()), ("180.00".into(), "120.00".into()));
        assert_eq!(step.adjustment.as_ref().map(|a| a.reason.as_ref()), Some("45"));
    }

    #[test]
    fn a_line_an_edit_denied_is_not_priced_and_carries_the_edit_s_carc() {
        let denial = Denial {
            edit: "coverage-ended",
            carc: Carc::AFTER_COVERAGE,
            remarks: vec![],
            source: "member coverage".into(),
            detail: "after coverage: CO-27".into(),
        };
        let decision =
            adjudicate(&claim(&[("99213", "180.00", 1), ("99213", "90.00", 1)]), Some(&schedule(&[("99213", "120.00")])), &[Some(denial), None]).unwrap();
        assert_eq!(
            decision.lines[0].adjustments,
            vec![Adjustment { group: GroupCode::Co, reason: Carc::AFTER_COVERAGE, amount: Money::parse("180.00").unwrap() }]
        );
        assert_eq!(decision.lines[0].steps[0].kind, StepKind::Edit);
        assert_eq!(decision.lines[1].paid.to_string(), "90.00");
        assert_eq!(decision.outcome, Outcome::PartiallyPaid);
    }
}
