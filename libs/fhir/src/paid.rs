//! A claim's payment, once a remittance paid it by ACH (settlement's
//! `remittance.issued.v1`), added to its ClaimResponse or
//! ExplanationOfBenefit: `payment.date` (the ACH effective entry date, the
//! 835's BPR16), `payment.amount` (what the remittance paid for the claim,
//! its CLP04) and `payment.identifier` (the EFT trace number, the 835's
//! TRN02). Before it is paid, `payment` carries the type and the amount
//! adjudicated only.

use claimtrail_events::Money;
use serde_json::{Value, json};

use crate::output;

/// The identifier system of an EFT (ACH) trace number.
pub const EFT_TRACE_SYSTEM: &str = "urn:claimtrail:eft-trace-number";

/// How a claim was paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimPayment {
    /// The ACH effective entry date.
    pub date: time::Date,
    pub amount: Money,
    pub trace_number: String,
}

/// Sets `resource`'s (a ClaimResponse's or an ExplanationOfBenefit's) `payment` date, amount and identifier.
pub fn with_payment(resource: &mut Value, payment: &ClaimPayment) {
    let element = &mut resource["payment"];
    if !element.is_object() {
        *element = json!({});
    }
    element["date"] = json!(claimtrail_events::format_date(payment.date));
    element["amount"] = output::money(payment.amount);
    element["identifier"] = json!({ "system": EFT_TRACE_SYSTEM, "value": payment.trace_number });
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn a_paid_claims_payment_shows_its_date_amount_and_trace_and_keeps_its_type() {
        let mut resource = json!({"resourceType": "ClaimResponse", "payment": output::payment(Money::parse("118.80").unwrap())});
        let paid = ClaimPayment { date: date!(2026 - 12 - 08), amount: Money::parse("118.80").unwrap(), trace_number: "031000050000002".into() };
        with_payment(&mut resource, &paid);
        let payment = &resource["payment"];
        assert_eq!(payment["date"], "2026-12-08");
        assert_eq!(payment["amount"], json!({"value": 118.8, "currency": "USD"}));
        assert_eq!(payment["identifier"], json!({"system": EFT_TRACE_SYSTEM, "value": "031000050000002"}));
        assert_eq!(payment["type"]["coding"][0]["code"], "complete");
        // A resource without a payment element gets one.
        let mut bare = json!({"resourceType": "ExplanationOfBenefit"});
        with_payment(&mut bare, &paid);
        assert_eq!(bare["payment"]["identifier"]["value"], "031000050000002");
    }
}
