//! The member's accumulator position after a claim (adjudication's
//! `accumulators.changed.v1` balances), added to its ExplanationOfBenefit as
//! `benefitBalance`: one entry per network tier and unit (individual or
//! family), each with the deductible (`deductible`) and the out-of-pocket
//! maximum (`benefit`, texted "Out-of-pocket maximum": the base benefit-type
//! system has no code of its own for it), the plan's amount as
//! `allowedMoney` and what is met after the claim as `usedMoney`; the plan
//! year is the `annual` term.

use claimtrail_events::AccumulatorBalance;
use serde_json::{Value, json};

use crate::output::{self, concept};

const BENEFIT_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/ex-benefitcategory";
const BENEFIT_NETWORK: &str = "http://terminology.hl7.org/CodeSystem/benefit-network";
const BENEFIT_UNIT: &str = "http://terminology.hl7.org/CodeSystem/benefit-unit";
const BENEFIT_TERM: &str = "http://terminology.hl7.org/CodeSystem/benefit-term";
const BENEFIT_TYPE: &str = "http://terminology.hl7.org/CodeSystem/benefit-type";

/// The `financial` entry of one bucket, by its name (`{deductible|oop}_{inn|oon}_{individual|family}`).
fn financial(balance: &AccumulatorBalance) -> Value {
    let kind = if balance.bucket.starts_with("deductible") {
        concept(BENEFIT_TYPE, "deductible", "Deductible")
    } else {
        json!({ "coding": [{ "system": BENEFIT_TYPE, "code": "benefit", "display": "Benefit" }], "text": "Out-of-pocket maximum" })
    };
    json!({ "type": kind, "allowedMoney": output::money(balance.limit), "usedMoney": output::money(balance.met) })
}

/// Sets an ExplanationOfBenefit's `benefitBalance` from `balances` (none:
/// left as it is). Any other resource (a ClaimResponse has no such element)
/// is left as it is.
pub fn with_balances(resource: &mut Value, balances: &[AccumulatorBalance]) {
    if resource["resourceType"] != "ExplanationOfBenefit" {
        return;
    }
    let mut groups: Vec<(&str, &str, Vec<Value>)> = Vec::new();
    for balance in balances {
        let network = if balance.bucket.contains("_oon_") { "out" } else { "in" };
        let unit = if balance.bucket.ends_with("_family") { "family" } else { "individual" };
        match groups.iter_mut().find(|(n, u, _)| *n == network && *u == unit) {
            Some((_, _, financials)) => financials.push(financial(balance)),
            None => groups.push((network, unit, vec![financial(balance)])),
        }
    }
    if groups.is_empty() {
        return;
    }
    let entries: Vec<Value> = groups
        .into_iter()
        .map(|(network, unit, financials)| {
            let (network_display, unit_display) =
                (if network == "in" { "In Network" } else { "Out of Network" }, if unit == "family" { "Family" } else { "Individual" });
            json!({
                "category": concept(BENEFIT_CATEGORY, "1", "Medical Care"),
                "network": concept(BENEFIT_NETWORK, network, network_display),
                "unit": concept(BENEFIT_UNIT, unit, unit_display),
                "term": concept(BENEFIT_TERM, "annual", "Annual"),
                "financial": financials,
            })
        })
        .collect();
    resource["benefitBalance"] = Value::Array(entries);
}

#[cfg(test)]
mod tests {
    use super::*;
    use claimtrail_events::Money;

    fn balance(bucket: &str, limit: &str, met: &str) -> AccumulatorBalance {
        AccumulatorBalance {
            member_id: "M1".into(),
            plan_year: 2026,
            bucket: bucket.into(),
            limit: Money::parse(limit).unwrap(),
            met: Money::parse(met).unwrap(),
        }
    }

    #[test]
    fn the_position_after_the_claim_is_one_benefit_balance_per_network_and_unit() {
        let mut eob = json!({"resourceType": "ExplanationOfBenefit"});
        with_balances(
            &mut eob,
            &[
                balance("deductible_inn_individual", "500.00", "500.00"),
                balance("oop_inn_individual", "3000.00", "1170.00"),
                balance("deductible_inn_family", "1000.00", "650.00"),
                balance("oop_inn_family", "6000.00", "1300.00"),
            ],
        );
        let entries = eob["benefitBalance"].as_array().unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!((entries[0]["network"]["coding"][0]["code"].as_str(), entries[0]["unit"]["coding"][0]["code"].as_str()), (Some("in"), Some("individual")));
        assert_eq!(entries[1]["unit"]["coding"][0]["code"], "family");
        let deductible = &entries[0]["financial"][0];
        assert_eq!((deductible["type"]["coding"][0]["code"].as_str(), deductible["allowedMoney"]["value"].as_f64()), (Some("deductible"), Some(500.0)));
        let oop = &entries[0]["financial"][1];
        assert_eq!((oop["type"]["text"].as_str(), oop["usedMoney"]["value"].as_f64()), (Some("Out-of-pocket maximum"), Some(1170.0)));
        let mut untouched = json!({"resourceType": "ExplanationOfBenefit"});
        with_balances(&mut untouched, &[]);
        assert!(untouched.get("benefitBalance").is_none());
        let mut response = json!({"resourceType": "ClaimResponse"});
        with_balances(&mut response, &[balance("deductible_inn_individual", "500.00", "500.00")]);
        assert!(response.get("benefitBalance").is_none(), "a ClaimResponse has no benefitBalance");
    }
}
