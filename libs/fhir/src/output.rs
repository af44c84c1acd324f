//! Building blocks shared by the ClaimResponse and the ExplanationOfBenefit.
//!
//! Adjustments (CARC group + reason) become an `adjudication` whose `reason`
//! is the X12 CARC coding (text `GROUP-REASON`, e.g. `CO-45`, so the group
//! travels with it) and whose `category` is the closest code available:
//! `deductible` (PR-1) and `copay` (PR-3) from the base R4 adjudication code
//! system; `coinsurance` (PR-2), `memberliability` (other PR),
//! `priorpayerpaid` (OA-23), `discount` (CO-45) and `noncovered` (anything
//! else) from CARIN Blue Button's C4BBAdjudication, since the base system has
//! no codes for them.

use claimtrail_events::{Adjustment, ClaimAdjudicated, ClaimType, Money};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::amount::money_json;
use crate::claim::{CLAIM_TYPE_SYSTEM, US_NPI};

pub(crate) const ADJUDICATION: &str = "http://terminology.hl7.org/CodeSystem/adjudication";
pub(crate) const C4BB_ADJUDICATION: &str = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudication";
/// X12 claim adjustment reason codes (CARC).
pub const CARC: &str = "https://x12.org/codes/claim-adjustment-reason-codes";
const V2_0203: &str = "http://terminology.hl7.org/CodeSystem/v2-0203";
const PAYMENT_TYPE: &str = "http://terminology.hl7.org/CodeSystem/ex-paymenttype";

pub(crate) fn concept(system: &str, code: &str, display: &str) -> Value {
    json!({ "coding": [{ "system": system, "code": code, "display": display }] })
}

pub(crate) fn money(amount: Money) -> Value {
    json!({ "value": money_json(amount), "currency": "USD" })
}

/// An adjudication entry of a category with an amount.
pub(crate) fn adjudication(system: &str, code: &str, display: &str, amount: Money) -> Value {
    json!({ "category": concept(system, code, display), "amount": money(amount) })
}

/// A `total[]` entry.
pub(crate) fn total(system: &str, code: &str, display: &str, amount: Money) -> Value {
    adjudication(system, code, display, amount)
}

pub(crate) fn adjustment(adjustment: &Adjustment) -> Value {
    let (system, code, display) = match (adjustment.group.as_str(), adjustment.reason.as_ref()) {
        ("PR", "1") => (ADJUDICATION, "deductible", "Deductible"),
        ("PR", "3") => (ADJUDICATION, "copay", "CoPay"),
        ("PR", "2") => (C4BB_ADJUDICATION, "coinsurance", "Co-insurance"),
        ("PR", _) => (C4BB_ADJUDICATION, "memberliability", "Member liability"),
        ("OA", "23") => (C4BB_ADJUDICATION, "priorpayerpaid", "Prior payer paid"),
        (_, "45") => (C4BB_ADJUDICATION, "discount", "Discount"),
        _ => (C4BB_ADJUDICATION, "noncovered", "Noncovered"),
    };
    let group_and_reason = format!("{}-{}", adjustment.group, adjustment.reason);
    json!({
        "category": concept(system, code, display),
        "reason": { "coding": [{ "system": CARC, "code": adjustment.reason }], "text": group_and_reason },
        "amount": money(adjustment.amount),
    })
}

/// The `total[]` entries of the member's cost share, each category that is
/// not zero: copay (PR-3), deductible (PR-1), coinsurance (PR-2), summed
/// over the lines, in the categories the lines' adjudications use.
pub(crate) fn cost_share_totals(adjudicated: &ClaimAdjudicated) -> Vec<Value> {
    [(ADJUDICATION, "copay", "CoPay", "3"), (ADJUDICATION, "deductible", "Deductible", "1"), (C4BB_ADJUDICATION, "coinsurance", "Co-insurance", "2")]
        .into_iter()
        .filter_map(|(system, code, display, carc)| {
            let amounts = adjudicated.lines.iter().flat_map(|line| &line.adjustments).filter(|a| a.group.as_str() == "PR" && a.reason.as_ref() == carc);
            let sum = Money::checked_sum(amounts.map(|adjustment| &adjustment.amount))?;
            (!sum.is_zero()).then(|| total(system, code, display, sum))
        })
        .collect()
}

pub(crate) fn claim_type(claim_type: ClaimType) -> Value {
    match claim_type {
        ClaimType::Professional => concept(CLAIM_TYPE_SYSTEM, "professional", "Professional"),
        ClaimType::Institutional => concept(CLAIM_TYPE_SYSTEM, "institutional", "Institutional"),
    }
}

/// The claim id as a FHIR business identifier.
pub(crate) fn claim_identifier(claim_id: Uuid) -> Value {
    json!({ "system": "urn:ietf:rfc:3986", "value": format!("urn:uuid:{claim_id}") })
}

/// A logical reference to the member: the member id only, no other PHI.
pub(crate) fn patient(member_id: &str) -> Value {
    json!({
        "type": "Patient",
        "identifier": { "type": concept(V2_0203, "MB", "Member Number"), "value": member_id },
    })
}

pub(crate) fn insurer(payer_id: &str) -> Value {
    json!({ "type": "Organization", "identifier": { "value": payer_id } })
}

pub(crate) fn provider(npi: &str) -> Value {
    json!({ "identifier": { "system": US_NPI, "value": npi } })
}

pub(crate) fn payment(amount: Money) -> Value {
    json!({ "type": concept(PAYMENT_TYPE, "complete", "Complete"), "amount": money(amount) })
}

pub(crate) fn disposition(outcome: claimtrail_events::Outcome) -> &'static str {
    match outcome {
        claimtrail_events::Outcome::Paid => "Claim paid",
        claimtrail_events::Outcome::PartiallyPaid => "Claim partially paid",
        claimtrail_events::Outcome::Denied => "Claim denied",
    }
}
