//! A FHIR R4 PaymentReconciliation for one remittance: the payment (its
//! trace number as `paymentIdentifier`, amount and date) and a `detail` per
//! claim paid or reversed (`type` payment) and per provider-level
//! adjustment (`type` adjustment), each pointing at its ClaimResponse.

use claimtrail_events::Money;
use serde_json::{Value, json};
use time::Date;
use uuid::Uuid;

use crate::amount::money_json;
use crate::claim::US_NPI;

/// The payment-type code system of `PaymentReconciliation.detail.type`.
pub const PAYMENT_TYPE: &str = "http://terminology.hl7.org/CodeSystem/payment-type";
/// The system of the ACH trace number (TRN02) in `paymentIdentifier`.
pub const TRACE_NUMBER_SYSTEM: &str = "urn:claimtrail:ach-trace-number";

/// What one remittance paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconciliation<'a> {
    pub remittance_id: Uuid,
    /// `dateTime` the resource was created (RFC 3339).
    pub created: &'a str,
    pub payment_date: Date,
    pub amount: Money,
    /// TRN02; none for a remittance that moved no money.
    pub trace_number: Option<&'a str>,
    pub payer_name: &'a str,
    pub payee_npi: &'a str,
    pub details: Vec<ReconciliationDetail>,
}

/// One `detail`: a claim's payment (or reversal, negative) or a provider-level adjustment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconciliationDetail {
    pub claim_id: Uuid,
    /// `payment` or `adjustment`.
    pub kind: &'static str,
    pub amount: Money,
    /// For a reversal, the claim whose payment it takes back.
    pub predecessor: Option<Uuid>,
}

/// The PaymentReconciliation resource.
pub fn payment_reconciliation(reconciliation: &Reconciliation<'_>) -> Value {
    let date = claimtrail_events::format_date(reconciliation.payment_date);
    let details: Vec<Value> = reconciliation
        .details
        .iter()
        .map(|detail| {
            let mut value = json!({
                "type": { "coding": [{ "system": PAYMENT_TYPE, "code": detail.kind }] },
                "response": { "reference": format!("ClaimResponse/{}", detail.claim_id) },
                "payee": { "identifier": { "system": US_NPI, "value": reconciliation.payee_npi } },
                "date": date,
                "amount": { "value": value(detail.amount), "currency": "USD" },
            });
            if let Some(predecessor) = detail.predecessor {
                value["predecessor"] = json!({ "system": "urn:claimtrail:claim", "value": predecessor.to_string() });
            }
            value
        })
        .collect();
    let mut resource = json!({
        "resourceType": "PaymentReconciliation",
        "id": reconciliation.remittance_id.to_string(),
        "status": "active",
        "created": reconciliation.created,
        "paymentIssuer": { "display": reconciliation.payer_name },
        "outcome": "complete",
        "disposition": if reconciliation.amount.is_zero() { "No payment: the remittance nets to zero" } else { "Paid by ACH" },
        "paymentDate": date,
        "paymentAmount": { "value": value(reconciliation.amount), "currency": "USD" },
        "detail": details,
    });
    if let Some(trace) = reconciliation.trace_number {
        resource["paymentIdentifier"] = json!({ "system": TRACE_NUMBER_SYSTEM, "value": trace });
    }
    resource
}

/// A FHIR decimal of an amount, zero without a sign.
fn value(amount: Money) -> Value {
    money_json(if amount.is_zero() { Money::ZERO } else { amount })
}
