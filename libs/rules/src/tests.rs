//! Properties of evaluation that need the crate's insides: the code index
//! never changes a result, and neither do a second run, a round trip of the
//! body through its canonical bytes, or a round trip of the facts through JSON.

#[path = "../tests/common/mod.rs"]
mod common;

use proptest::prelude::*;
use serde_json::{Value, json};
use zen_expression::Variable;

use crate::{FACT_FIELDS, FactType, Facts, RuleSet};

const CODES: [&str; 5] = ["G0008", "G0009", "J1100", "C8905", "99213"];

fn code_cell() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        prop::sample::select(CODES.to_vec()).prop_map(|code| format!("'{code}'")),
        prop::sample::subsequence(CODES.to_vec(), 1..3).prop_map(|codes| codes.iter().map(|code| format!("\"{code}\"")).collect::<Vec<_>>().join(", ")),
    ]
}

fn age_cell() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        (0u32..100).prop_map(|age| format!("< {age}")),
        (0u32..100).prop_map(|age| format!(">= {age}")),
        (0u32..90).prop_map(|age| format!("[{age}..{}]", age + 10)),
    ]
}

fn modifier_cell() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), prop::sample::select(vec!["25", "59", "XU"]).prop_map(|modifier| format!("some(line.modifiers, # == '{modifier}')"))]
}

fn outputs() -> impl Strategy<Value = (String, String, String, String)> {
    prop_oneof![
        prop::sample::select(vec!["'96'", "'B7'", "'119'"]).prop_map(|carc| ("'deny'".to_owned(), carc.to_owned(), String::new(), String::new())),
        Just(("'pend'".to_owned(), String::new(), String::new(), "'Review'".to_owned())),
        (1u32..=100).prop_map(|percent| ("'reduce_percent'".to_owned(), String::new(), percent.to_string(), String::new())),
        Just(("line.units > 2 ? 'deny' : 'require_prior_authorization'".to_owned(), String::new(), String::new(), String::new())),
    ]
}

fn rule() -> impl Strategy<Value = Value> {
    (code_cell(), age_cell(), modifier_cell(), outputs()).prop_map(|(code, age, modifier, (action, carc, percent, reason))| {
        json!({"i1": code, "i2": age, "i3": modifier, "o1": action, "o2": carc, "o3": percent, "o4": reason})
    })
}

fn body() -> impl Strategy<Value = Value> {
    (prop::bool::ANY, prop::collection::vec(rule(), 0..30)).prop_map(|(collect, rules)| {
        let rules: Vec<Value> = rules
            .into_iter()
            .enumerate()
            .map(|(index, mut rule)| {
                rule["_id"] = json!(format!("r{index}"));
                // A computed deny needs a CARC: give every such rule one.
                if rule["o1"].as_str().is_some_and(|action| action.contains('?')) {
                    rule["o2"] = json!("'197'");
                }
                rule
            })
            .collect();
        common::chain(vec![common::table(
            "random",
            if collect { "collect" } else { "first" },
            json!([{"id": "i1", "name": "Code", "field": "line.procedure_code"}, {"id": "i2", "name": "Age", "field": "member.age"}, {"id": "i3", "name": "Modifier"}]),
            json!([{"id": "o1", "name": "Action", "field": "action"}, {"id": "o2", "name": "CARC", "field": "carc"},
                   {"id": "o3", "name": "Percent", "field": "percent"}, {"id": "o4", "name": "Reason", "field": "reason"}]),
            Value::Array(rules),
        )])
    })
}

fn facts() -> impl Strategy<Value = Facts> {
    (prop::sample::select(CODES.to_vec()), 0u32..100, 1i64..5, prop::sample::subsequence(vec!["25", "59", "XU"], 0..2)).prop_map(
        |(code, age, units, modifiers)| {
            let mut facts = common::facts(code);
            facts.member.age = age;
            facts.line.units = rust_decimal::Decimal::from(units);
            facts.line.modifiers = modifiers.into_iter().map(str::to_owned).collect();
            facts
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn evaluation_is_the_same_twice_with_or_without_the_index_and_after_round_trips(body in body(), lines in prop::collection::vec(facts(), 1..8)) {
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let rule_set = RuleSet::parse("random", &bytes);
        prop_assert!(rule_set.is_ok(), "refused: {:?}", rule_set.err());
        let Ok(rule_set) = rule_set else { return Ok(()) };
        let (_, rules) = rule_set.table_and_rule_counts();
        prop_assert_eq!(rules, body["nodes"][1]["content"]["rules"].as_array().map_or(0, Vec::len));
        let reparsed = RuleSet::parse("random", rule_set.canonical_bytes());
        prop_assert!(reparsed.is_ok());
        let Ok(reparsed) = reparsed else { return Ok(()) };
        prop_assert_eq!(reparsed.content_hash(), rule_set.content_hash());
        for facts in &lines {
            let first = rule_set.evaluate(facts);
            prop_assert_eq!(&first, &rule_set.evaluate(facts));
            prop_assert_eq!(&first, &rule_set.evaluate_with(facts, false));
            prop_assert_eq!(&first, &reparsed.evaluate(facts));
            let recorded: Result<Facts, _> = serde_json::from_slice(&serde_json::to_vec(facts).unwrap_or_default());
            prop_assert_eq!(recorded.as_ref().ok(), Some(facts));
            if let Ok(recorded) = recorded {
                prop_assert_eq!(&first, &rule_set.evaluate(&recorded));
            }
        }
    }
}

#[test]
fn a_table_keyed_by_literal_codes_is_indexed_and_one_with_a_computed_code_cell_is_not() {
    let indexed = RuleSet::parse("codes", &serde_json::to_vec(&common::chain(vec![common::code_table(50)])).unwrap_or_default());
    let Ok(indexed) = indexed else { panic!("refused: {indexed:?}") };
    assert!(indexed.is_indexed("codes"));
    let mut body = common::chain(vec![common::code_table(50)]);
    body["nodes"][1]["content"]["rules"][3]["i1"] = json!("startsWith($, 'C00')");
    let plain = RuleSet::parse("codes", &serde_json::to_vec(&body).unwrap_or_default());
    let Ok(plain) = plain else { panic!("refused: {plain:?}") };
    assert!(!plain.is_indexed("codes"));
}

#[test]
fn every_field_of_the_fact_model_is_in_the_variable_with_its_type_and_nothing_else_is() {
    let mut facts = common::facts("G0008");
    facts.claim.rendering_npi = None;
    let variable = facts.to_variable();
    for (path, kind) in FACT_FIELDS {
        let value = variable.dot(path);
        let ok = match (kind, &value) {
            (FactType::Text, Some(Variable::String(_))) => true,
            (FactType::OptionalText, Some(Variable::String(_) | Variable::Null)) => true,
            (FactType::Number, Some(Variable::Number(_))) => true,
            (FactType::OptionalNumber, Some(Variable::Number(_) | Variable::Null)) => true,
            (FactType::Integer, Some(Variable::Number(number))) => number.fract().is_zero(),
            (FactType::Boolean, Some(Variable::Bool(_))) => true,
            (FactType::Date, Some(Variable::String(text))) => claimtrail_events::parse_date(text.as_str()).is_some(),
            (FactType::TextList, Some(Variable::Array(items))) => items.borrow().iter().all(|item| item.as_str().is_some()),
            _ => false,
        };
        assert!(ok, "{path}: {value:?} is not {kind:?}");
    }
    let mut count = 0;
    if let Some(root) = variable.as_object() {
        for group in root.borrow().values() {
            count += group.as_object().map_or(0, |group| group.borrow().len());
        }
    }
    assert_eq!(count, FACT_FIELDS.len());
}

#[test]
fn docs_rules_md_documents_every_fact_field_and_action() {
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/rules.md")).unwrap_or_default();
    for (path, _) in FACT_FIELDS {
        assert!(docs.contains(&format!("`{path}`")), "docs/rules.md does not document `{path}`");
    }
    for name in crate::ACTION_NAMES.iter().chain(crate::OUTPUT_FIELDS.iter()) {
        assert!(docs.contains(&format!("`{name}`")), "docs/rules.md does not document `{name}`");
    }
    assert!(docs.contains(crate::FACT_MODEL_VERSION));
}
