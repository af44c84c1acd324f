//! A settled remittance as the provider reads it: the X12 835 and the FHIR
//! PaymentReconciliation. Pure mappings from [`Remittance`] and the facts of
//! its run.
//!
//! CLP02 is 1, 2 or 3 for a claim processed as the primary, secondary or
//! tertiary payer (the place `claim.submitted.v1` gave it, coordination of
//! benefits) and 22 for a reversal (its amounts are the original's, negated,
//! as adjudication's `claim.reversed.v1` carries them). Adjudication pends a
//! claim whose member it does not know, so 4 does not arise here; when it
//! does, [`clp02`] is the one place to say so.

use claimtrail_events::{Money, PayTo};
use claimtrail_fhir::{Reconciliation, ReconciliationDetail};
use claimtrail_x12::{Cas835, Claim835, Envelope835, Line835, Party835, Payment835, Plb835, Remittance835, Unbalanced835};
use time::{Date, Time};

use super::payment_run::{Payable, PayableKind, Payee, PayerBanking, PaymentRun, PlbReason, ProviderAdjustment, Remittance, RemittanceStatus};

/// CLP02 for a payable.
pub fn clp02(payable: &Payable) -> u8 {
    match payable.kind {
        PayableKind::Decision | PayableKind::Correction => payable.payer_sequence.number(),
        PayableKind::Reversal => 22,
    }
}

/// When and under which control number the 835 is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub date: Date,
    pub time: Time,
    pub control_number: u32,
}

/// The 835 of a settled remittance (`ach` or `zero`).
pub fn remittance_835(run: &PaymentRun, remittance: &Remittance, payer: &PayerBanking, payee: &Payee, written: Written) -> Result<String, Unbalanced835> {
    let payment = match (&remittance.status, &payee.bank_account) {
        (RemittanceStatus::Ach, Some(account)) => Payment835::Ach {
            payer_routing: payer.routing_number.clone(),
            payer_account: payer.account_number.clone(),
            payee_routing: account.routing_number.clone(),
            payee_account: account.account_number.clone(),
            payee_account_is_savings: account.account_type == "savings",
        },
        _ => Payment835::NonPayment,
    };
    let claims = remittance
        .payables
        .iter()
        .map(|payable| Claim835 {
            patient_control_number: payable.patient_control_number.clone(),
            status_code: clp02(payable),
            charge: payable.total_charge,
            paid: payable.total_paid,
            patient_responsibility: payable.total_patient_responsibility,
            payer_claim_id: payable.claim_id.to_string(),
            member_id: payable.member_id.clone(),
            lines: payable
                .lines
                .iter()
                .map(|line| Line835 {
                    procedure_code: line.procedure_code.clone(),
                    charge: line.charge,
                    paid: line.paid,
                    allowed: line.allowed,
                    adjustments: line
                        .adjustments
                        .iter()
                        .map(|adjustment| Cas835 {
                            group: adjustment.group.as_str().to_owned(),
                            reason: adjustment.reason.as_ref().to_owned(),
                            amount: adjustment.amount,
                        })
                        .collect(),
                    remarks: line.remarks.iter().map(|remark| remark.as_ref().to_owned()).collect(),
                })
                .collect(),
        })
        .collect();
    let advice = Remittance835 {
        envelope: Envelope835 {
            sender_id: payer.payer_id.clone(),
            receiver_id: payee.npi.clone(),
            control_number: written.control_number,
            date: written.date,
            time: written.time,
            test: false,
        },
        amount: remittance.amount,
        payment,
        effective_date: run.effective_date,
        trace_number: trace_or_remittance(remittance),
        payer_tin: payer.tin.clone(),
        payer: party(&payer.name, &payer.payer_id, &payer.address),
        payee: party(&payee.pay_to.name, &payee.npi, &payee.pay_to),
        payee_tin: payee.tin.clone(),
        claims,
        provider_adjustments: remittance
            .provider_adjustments
            .iter()
            .map(|adjustment| Plb835 {
                reason: adjustment.reason.code().to_owned(),
                reference: Some(plb_reference(remittance, adjustment)),
                amount: adjustment.amount,
            })
            .collect(),
    };
    claimtrail_x12::write_835(&advice)
}

/// TRN02: the ACH trace number, or for a remittance that moves no money its own id's digits (unique, 15 wide).
pub fn trace_or_remittance(remittance: &Remittance) -> String {
    remittance.trace_number.clone().unwrap_or_else(|| non_payment_trace(remittance.remittance_id))
}

/// TRN02 of a remittance that moves no money: its id's last 15 digits.
pub fn non_payment_trace(remittance_id: uuid::Uuid) -> String {
    format!("{:015}", remittance_id.as_u128() % 1_000_000_000_000_000)
}

/// PLB03-2 of one of `remittance`'s adjustments: the claim a `WO` or `L6`
/// cites; for an `FB` the TRN02 of the 835 that forwarded the balance (the
/// negative FB is written by a remittance that moves no money, so its TRN02
/// is [`non_payment_trace`]; X12 RFI 222: the same reference on the negative
/// and the positive FB). A `72` cites what its offset cites.
pub fn plb_reference(remittance: &Remittance, adjustment: &ProviderAdjustment) -> String {
    let forwarded = |id| remittance.provider_adjustments.iter().any(|other| other.reason == PlbReason::ForwardingBalance && other.claim_id == id);
    match adjustment.reason {
        PlbReason::ForwardingBalance => non_payment_trace(adjustment.claim_id),
        PlbReason::AuthorizedReturn if forwarded(adjustment.claim_id) => non_payment_trace(adjustment.claim_id),
        PlbReason::WriteOff | PlbReason::Interest | PlbReason::AuthorizedReturn => adjustment.claim_id.to_string(),
    }
}

fn party(name: &str, id: &str, address: &PayTo) -> Party835 {
    Party835 {
        name: name.to_owned(),
        id: id.to_owned(),
        address_line: address.address_line.clone(),
        city: address.city.clone(),
        state: address.state.clone(),
        postal_code: address.postal_code.clone(),
    }
}

/// The PaymentReconciliation of a settled remittance; `created` is RFC 3339.
pub fn reconciliation(run: &PaymentRun, remittance: &Remittance, payer: &PayerBanking, created: &str) -> serde_json::Value {
    claimtrail_fhir::payment_reconciliation(&reconciliation_of(run, remittance, payer, created))
}

/// [`reconciliation`] as the JSON text that is stored, written without a `Value` tree.
pub fn reconciliation_json(run: &PaymentRun, remittance: &Remittance, payer: &PayerBanking, created: &str) -> String {
    claimtrail_fhir::payment_reconciliation_json(&reconciliation_of(run, remittance, payer, created))
}

fn reconciliation_of<'a>(run: &PaymentRun, remittance: &'a Remittance, payer: &'a PayerBanking, created: &'a str) -> Reconciliation<'a> {
    let mut details: Vec<ReconciliationDetail> = remittance
        .payables
        .iter()
        .map(|payable| ReconciliationDetail {
            claim_id: payable.claim_id,
            kind: "payment",
            amount: payable.total_paid,
            predecessor: (payable.kind == PayableKind::Reversal).then_some(payable.claim_id),
        })
        .collect();
    details.extend(remittance.provider_adjustments.iter().map(|adjustment| ReconciliationDetail {
        claim_id: adjustment.claim_id,
        kind: "adjustment",
        // PLB amounts reduce the payment; the detail shows what it adds to it.
        amount: adjustment.amount.negated(),
        predecessor: None,
    }));
    Reconciliation {
        remittance_id: remittance.remittance_id,
        created,
        payment_date: run.effective_date,
        amount: remittance.amount,
        trace_number: remittance.trace_number.as_deref(),
        payer_name: &payer.name,
        payee_npi: &remittance.npi,
        details,
    }
}

/// ΣCLP04 − ΣPLB of a remittance: its BPR02 (asserted equal by the run).
pub fn bpr02(remittance: &Remittance) -> Option<Money> {
    let plb = Money::checked_sum(remittance.provider_adjustments.iter().map(|adjustment| &adjustment.amount))?;
    remittance.claims_total.checked_sub(plb)
}

#[cfg(test)]
mod tests {
    use super::*;
    use claimtrail_events::PayerSequence;
    use time::macros::date;
    use uuid::Uuid;

    fn payable(kind: PayableKind, payer_sequence: PayerSequence) -> Payable {
        Payable {
            claim_id: Uuid::from_u128(1),
            kind,
            payer_id: "P1".into(),
            billing_npi: "1234567893".into(),
            patient_control_number: "PCN1".into(),
            member_id: "M1".into(),
            lines: vec![],
            total_charge: Money::from_cents(50_000),
            total_paid: Money::from_cents(6_500),
            total_patient_responsibility: Money::ZERO,
            adjudicated_on: date!(2026 - 02 - 20),
            payer_sequence,
        }
    }

    #[test]
    fn clp02_is_the_payer_s_place_for_a_processed_claim_and_22_for_any_reversal() {
        let cases = [
            (PayableKind::Decision, PayerSequence::Primary, 1),
            (PayableKind::Decision, PayerSequence::Secondary, 2),
            (PayableKind::Decision, PayerSequence::Tertiary, 3),
            (PayableKind::Reversal, PayerSequence::Secondary, 22),
        ];
        for (kind, sequence, expected) in cases {
            assert_eq!(clp02(&payable(kind, sequence)), expected, "{kind:?} as {sequence:?}");
        }
    }
}
