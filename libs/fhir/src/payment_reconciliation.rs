//! A FHIR R4 PaymentReconciliation for one remittance: the payment (its
//! trace number as `paymentIdentifier`, amount and date) and a `detail` per
//! claim paid or reversed (`type` payment) and per provider-level
//! adjustment (`type` adjustment), each pointing at its ClaimResponse.

use claimtrail_events::Money;
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};
use serde_json::Value;
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

/// The PaymentReconciliation resource as a JSON value (built from
/// [`payment_reconciliation_json`]'s typed form).
pub fn payment_reconciliation(reconciliation: &Reconciliation<'_>) -> Value {
    let date = claimtrail_events::format_date(reconciliation.payment_date);
    serde_json::to_value(resource(reconciliation, &date)).unwrap_or(Value::Null)
}

/// The PaymentReconciliation resource as JSON text, written straight from
/// typed structs (no `Value` tree): the same text as
/// `payment_reconciliation(..).to_string()`, its keys in the same (sorted) order.
pub fn payment_reconciliation_json(reconciliation: &Reconciliation<'_>) -> String {
    let date = claimtrail_events::format_date(reconciliation.payment_date);
    serde_json::to_string(&resource(reconciliation, &date)).unwrap_or_default()
}

/// The typed resource; `date` is the payment date as FHIR writes it.
fn resource<'a>(reconciliation: &'a Reconciliation<'a>, date: &'a str) -> Resource<'a> {
    let payee = Payee { identifier: SystemValue { system: US_NPI, value: reconciliation.payee_npi } };
    let details = reconciliation
        .details
        .iter()
        .map(|detail| Detail {
            amount: Amount(detail.amount),
            date,
            payee,
            predecessor: detail.predecessor.map(|predecessor| Predecessor { system: "urn:claimtrail:claim", value: predecessor }),
            response: Response { reference: ClaimResponseReference(detail.claim_id) },
            kind: Type { coding: [Coding { code: detail.kind, system: PAYMENT_TYPE }] },
        })
        .collect();
    Resource {
        created: reconciliation.created,
        detail: details,
        disposition: if reconciliation.amount.is_zero() { "No payment: the remittance nets to zero" } else { "Paid by ACH" },
        id: reconciliation.remittance_id,
        outcome: "complete",
        payment_amount: Amount(reconciliation.amount),
        payment_date: date,
        payment_identifier: reconciliation.trace_number.map(|trace| SystemValue { system: TRACE_NUMBER_SYSTEM, value: trace }),
        payment_issuer: Display { display: reconciliation.payer_name },
        resource_type: "PaymentReconciliation",
        status: "active",
    }
}

// The typed resource. Fields in byte order of their JSON names: the order a
// `serde_json::Value` object (a BTreeMap) writes them in, so the text stays
// the same as the old `Value`-built one.

#[derive(Serialize)]
struct Resource<'a> {
    created: &'a str,
    detail: Vec<Detail<'a>>,
    disposition: &'static str,
    id: Uuid,
    outcome: &'static str,
    #[serde(rename = "paymentAmount")]
    payment_amount: Amount,
    #[serde(rename = "paymentDate")]
    payment_date: &'a str,
    #[serde(rename = "paymentIdentifier", skip_serializing_if = "Option::is_none")]
    payment_identifier: Option<SystemValue<'a>>,
    #[serde(rename = "paymentIssuer")]
    payment_issuer: Display<'a>,
    #[serde(rename = "resourceType")]
    resource_type: &'static str,
    status: &'static str,
}

#[derive(Serialize)]
struct Detail<'a> {
    amount: Amount,
    date: &'a str,
    payee: Payee<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    predecessor: Option<Predecessor>,
    response: Response,
    #[serde(rename = "type")]
    kind: Type,
}

#[derive(Serialize, Clone, Copy)]
struct SystemValue<'a> {
    system: &'static str,
    value: &'a str,
}

#[derive(Serialize, Clone, Copy)]
struct Payee<'a> {
    identifier: SystemValue<'a>,
}

#[derive(Serialize)]
struct Predecessor {
    system: &'static str,
    value: Uuid,
}

#[derive(Serialize)]
struct Display<'a> {
    display: &'a str,
}

#[derive(Serialize)]
struct Response {
    reference: ClaimResponseReference,
}

#[derive(Serialize)]
struct Type {
    coding: [Coding; 1],
}

#[derive(Serialize)]
struct Coding {
    code: &'static str,
    system: &'static str,
}

/// `ClaimResponse/{id}`, written without an intermediate String.
struct ClaimResponseReference(Uuid);

impl Serialize for ClaimResponseReference {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut text = [0u8; 14 + uuid::fmt::Hyphenated::LENGTH];
        text[..14].copy_from_slice(b"ClaimResponse/");
        self.0.hyphenated().encode_lower(&mut text[14..]);
        serializer.serialize_str(std::str::from_utf8(&text).map_err(serde::ser::Error::custom)?)
    }
}

/// A FHIR Money: `{ "currency": "USD", "value": <decimal> }`.
struct Amount(Money);

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_struct("Money", 2)?;
        map.serialize_field("currency", "USD")?;
        map.serialize_field("value", &value(self.0))?;
        map.end()
    }
}

/// A FHIR decimal of an amount, zero without a sign.
fn value(amount: Money) -> Value {
    money_json(if amount.is_zero() { Money::ZERO } else { amount })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::date;

    /// The resource as it was built before the typed form: a `Value` tree.
    fn old_value(reconciliation: &Reconciliation<'_>) -> Value {
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

    fn detail(claim: u128, kind: &'static str, cents: i64, predecessor: Option<u128>) -> ReconciliationDetail {
        ReconciliationDetail { claim_id: Uuid::from_u128(claim), kind, amount: Money::from_cents(cents), predecessor: predecessor.map(Uuid::from_u128) }
    }

    fn fixture(amount_cents: i64, trace_number: Option<&str>) -> Reconciliation<'_> {
        Reconciliation {
            remittance_id: Uuid::from_u128(0xabc),
            created: "2026-03-02T10:30:00Z",
            payment_date: date!(2026 - 03 - 03),
            amount: Money::from_cents(amount_cents),
            trace_number,
            payer_name: "Acme \"Health\" Plan",
            payee_npi: "1234567893",
            details: vec![
                detail(1, "payment", 8_010, None),
                detail(2, "payment", 12_345_678_999, None),
                // A reversal: takes back claim 3's payment.
                detail(3, "payment", -6_500, Some(3)),
                detail(4, "payment", 0, None),
                detail(5, "adjustment", -1_505, None),
                detail(6, "adjustment", 200, None),
            ],
        }
    }

    #[test]
    fn the_typed_resource_is_the_same_json_as_the_value_tree_it_replaces() {
        for reconciliation in [fixture(12_345_686_814, Some("TRACE0001")), fixture(0, None)] {
            let old = old_value(&reconciliation);
            let text = payment_reconciliation_json(&reconciliation);
            assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), old);
            // The same bytes too: what is stored does not change.
            assert_eq!(text, old.to_string());
            assert_eq!(payment_reconciliation(&reconciliation), old);
        }
    }

    #[test]
    fn a_reversal_names_its_predecessor_and_a_zero_amount_has_no_sign() {
        let reconciliation = fixture(0, None);
        let resource = payment_reconciliation(&reconciliation);
        assert_eq!(resource["detail"][2]["predecessor"]["value"], Uuid::from_u128(3).to_string());
        assert_eq!(resource["detail"][3]["amount"]["value"].to_string(), "0.0");
        assert!(resource.get("paymentIdentifier").is_none());
        assert_eq!(resource["disposition"], "No payment: the remittance nets to zero");
    }
}
