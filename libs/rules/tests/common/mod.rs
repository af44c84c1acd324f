//! Shared by the tests and the bench: a line's facts and a body around
//! decision tables.

#![allow(dead_code)]

use claimtrail_events::Money;
use claimtrail_rules::{ClaimFacts, ClaimType, DecisionFacts, EntityType, Facts, HistoryFacts, LineFacts, MemberFacts, ProviderFacts, Relationship, Sex};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use time::macros::date;

/// An office visit for an adult, in network, with no history.
pub fn facts(procedure_code: &str) -> Facts {
    Facts {
        claim: ClaimFacts {
            claim_type: ClaimType::Professional,
            frequency: "1".to_owned(),
            total_charge: Money::from_cents(18_000),
            place_of_service: Some("11".to_owned()),
            diagnosis_codes: vec!["Z0000".to_owned()],
            received_date: date!(2026 - 03 - 10),
            days_from_service_to_receipt: 8,
            billing_npi: "1234567893".to_owned(),
            rendering_npi: Some("1245319599".to_owned()),
        },
        line: LineFacts {
            sequence: 1,
            procedure_code: procedure_code.to_owned(),
            modifiers: Vec::new(),
            units: Decimal::ONE,
            charge: Money::from_cents(18_000),
            place_of_service: Some("11".to_owned()),
            service_date: date!(2026 - 03 - 02),
            revenue_code: None,
            allowed: Some(Money::from_cents(12_000)),
        },
        member: MemberFacts {
            age: 42,
            sex: Sex::Female,
            plan_id: Some("ppo-gold".to_owned()),
            relationship: Relationship::Subscriber,
            network_tier: Some("1".to_owned()),
        },
        provider: ProviderFacts {
            npi: "1245319599".to_owned(),
            taxonomy: Some("207Q00000X".to_owned()),
            entity_type: EntityType::Individual,
            in_network: true,
            contract_id: Some("c-2026".to_owned()),
        },
        history: HistoryFacts { same_code_last_365_days: 0, same_code_same_date: 0, claims_same_date: 0, claims_last_365_days: 3 },
        decision: DecisionFacts { date: date!(2026 - 03 - 11) },
    }
}

pub fn policy() -> Value {
    json!({
        "effective_from": "2026-01-01",
        "mue_action": "deny",
        "timely_filing_days": 365,
        "standard_edits": ["coverage", "timely_filing"]
    })
}

/// A decision-table node with these columns and rules.
pub fn table(id: &str, hit_policy: &str, inputs: Value, outputs: Value, rules: Value) -> Value {
    json!({
        "type": "decisionTableNode",
        "id": id,
        "name": format!("Table {id}"),
        "position": {"x": 400, "y": 100},
        "content": {"hitPolicy": hit_policy, "inputs": inputs, "outputs": outputs, "rules": rules,
                    "passThrough": true, "inputField": null, "outputPath": null, "executionMode": "single"}
    })
}

/// A body whose input node feeds each of `nodes` in turn (a chain), ending
/// in an output node.
pub fn chain(nodes: Vec<Value>) -> Value {
    let mut all = vec![json!({"type": "inputNode", "id": "in", "name": "Request", "position": {"x": 0, "y": 0}})];
    all.extend(nodes);
    all.push(json!({"type": "outputNode", "id": "out", "name": "Response", "position": {"x": 900, "y": 0}}));
    let edges: Vec<Value> = all
        .windows(2)
        .enumerate()
        .map(|(index, pair)| json!({"id": format!("e{index}"), "sourceId": pair[0]["id"], "targetId": pair[1]["id"], "type": "edge"}))
        .collect();
    json!({"contentType": "application/vnd.gorules.decision", "nodes": all, "edges": edges, "policy": policy()})
}

/// `count` rows keyed by code (`C0000`, `C0001`, ...), each denying with
/// CARC 96 when the member is at least `row % 90` years old; the last row
/// matches any code and pends.
pub fn code_table(count: usize) -> Value {
    let mut rules: Vec<Value> = (0..count.saturating_sub(1))
        .map(|row| json!({"_id": format!("r{row}"), "i1": format!("'C{row:04}'"), "i2": format!(">= {}", row % 90), "o1": "'deny'", "o2": "'96'", "o3": "'N130'"}))
        .collect();
    rules.push(json!({"_id": "fallback", "i1": "", "i2": "> 200", "o1": "'pend'", "o4": "'Over 200 years old'"}));
    table(
        "codes",
        "first",
        json!([{"id": "i1", "name": "Code", "field": "line.procedure_code"}, {"id": "i2", "name": "Age", "field": "member.age"}]),
        json!([{"id": "o1", "name": "Action", "field": "action"}, {"id": "o2", "name": "CARC", "field": "carc"},
               {"id": "o3", "name": "RARC", "field": "rarc"}, {"id": "o4", "name": "Reason", "field": "reason"}]),
        Value::Array(rules),
    )
}

/// `count` rows that no index can help: each tests the charge, the age and
/// the modifiers with expressions.
pub fn wide_table(count: usize) -> Value {
    let rules: Vec<Value> = (0..count)
        .map(|row| {
            json!({"_id": format!("w{row}"), "i1": format!("> {}", 10_000 + row), "i2": format!("[{}..{}]", row % 50, row % 50 + 5),
                   "i3": format!("some(line.modifiers, # == 'X{row}')"), "o1": "'reduce_percent'", "o2": "10"})
        })
        .collect();
    table(
        "wide",
        "collect",
        json!([{"id": "i1", "name": "Charge", "field": "line.charge"}, {"id": "i2", "name": "Age", "field": "member.age"}, {"id": "i3", "name": "Modifier"}]),
        json!([{"id": "o1", "name": "Action", "field": "action"}, {"id": "o2", "name": "Percent", "field": "percent"}]),
        Value::Array(rules),
    )
}
