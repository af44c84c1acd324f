//! Every way an upload is refused: each problem with its path and reason,
//! all of them at once, and nothing half-built.

mod common;

use claimtrail_rules::{EvaluationError, RuleSet, RuleSetError};
use serde_json::{Value, json};

fn refused(body: &Value) -> Vec<RuleSetError> {
    refused_bytes(&serde_json::to_vec(body).unwrap_or_default())
}

fn refused_bytes(body: &[u8]) -> Vec<RuleSetError> {
    match RuleSet::parse("rules", body) {
        Ok(_) => panic!("the rule set was accepted"),
        Err(errors) => errors.0,
    }
}

#[track_caller]
fn assert_refused(errors: &[RuleSetError], path: &str, reason: &str) {
    assert!(errors.iter().any(|error| error.path == path && error.reason.contains(reason)), "no `{path}`: ..{reason}.. in {errors:#?}");
}

fn one_table(hit_policy: &str, inputs: Value, outputs: Value, rules: Value) -> Value {
    common::chain(vec![common::table("t", hit_policy, inputs, outputs, rules)])
}

fn code_inputs() -> Value {
    json!([{"id": "i1", "name": "Code", "field": "line.procedure_code"}])
}

fn action_outputs() -> Value {
    json!([{"id": "o1", "name": "Action", "field": "action"}, {"id": "o2", "name": "CARC", "field": "carc"}, {"id": "o3", "name": "Reason", "field": "reason"}])
}

/// A table with one rule whose cells are given.
fn with_rule(rule: Value) -> Value {
    one_table("first", code_inputs(), action_outputs(), json!([rule]))
}

#[test]
fn a_well_formed_table_is_accepted() {
    let body = with_rule(json!({"_id": "r1", "i1": "'G0008'", "o1": "'deny'", "o2": "'96'"}));
    assert!(RuleSet::parse("rules", &serde_json::to_vec(&body).unwrap_or_default()).is_ok());
}

#[test]
fn bad_json_is_refused_with_where_it_broke() {
    let errors = refused_bytes(b"{\"nodes\": [");
    assert_refused(&errors, "body", "not JSON");
}

#[test]
fn a_bad_rule_set_name_is_refused() {
    let body = serde_json::to_vec(&with_rule(json!({"i1": "'G0008'", "o1": "'deny'", "o2": "'96'"}))).unwrap_or_default();
    let errors = match RuleSet::parse("no spaces/please", &body) {
        Ok(_) => panic!("accepted"),
        Err(errors) => errors.0,
    };
    assert_refused(&errors, "name", "not a rule-set name");
}

#[test]
fn an_unknown_node_type_is_refused_with_its_path() {
    let body = common::chain(vec![json!({"type": "spreadsheetNode", "id": "x", "name": "X"})]);
    assert_refused(&refused(&body), "nodes[1].type", "unknown node type `spreadsheetNode`");
}

#[test]
fn a_function_node_is_refused_with_its_path() {
    let body =
        common::chain(vec![json!({"type": "functionNode", "id": "js", "name": "Script", "content": {"source": "export const handler = async () => ({})"}})]);
    assert_refused(&refused(&body), "nodes[1].type", "function (JavaScript) nodes are refused");
}

#[test]
fn an_edge_to_nowhere_is_refused() {
    let mut body = with_rule(json!({"i1": "'G0008'", "o1": "'deny'", "o2": "'96'"}));
    if let Some(edges) = body["edges"].as_array_mut() {
        edges.push(json!({"id": "dangling", "sourceId": "t", "targetId": "nowhere"}));
    }
    assert_refused(&refused(&body), "edges[2].targetId", "`nowhere` is not the id of any node");
}

#[test]
fn a_cycle_is_refused_naming_its_nodes() {
    let mut body = common::chain(vec![
        json!({"type": "expressionNode", "id": "a", "name": "A", "content": {"expressions": [{"id": "e", "key": "x", "value": "1"}]}}),
        json!({"type": "expressionNode", "id": "b", "name": "B", "content": {"expressions": [{"id": "e", "key": "y", "value": "2"}]}}),
    ]);
    if let Some(edges) = body["edges"].as_array_mut() {
        edges.push(json!({"id": "back", "sourceId": "b", "targetId": "a"}));
    }
    let errors = refused(&body);
    assert_refused(&errors, "edges", "cycle through node `a` (A), node `b` (B)");
}

#[test]
fn a_table_the_input_never_reaches_is_refused() {
    let mut body = with_rule(json!({"i1": "'G0008'", "o1": "'deny'", "o2": "'96'"}));
    body["edges"] = json!([{"id": "e", "sourceId": "t", "targetId": "out"}]);
    assert_refused(&refused(&body), "nodes[1]", "not reachable from the input node");
}

#[test]
fn a_rule_set_needs_exactly_one_input_node() {
    let mut body = with_rule(json!({"i1": "'G0008'", "o1": "'deny'", "o2": "'96'"}));
    if let Some(nodes) = body["nodes"].as_array_mut() {
        nodes.push(json!({"type": "inputNode", "id": "in2", "name": "Second"}));
    }
    assert_refused(&refused(&body), "nodes", "exactly one inputNode; this one has 2");
}

#[test]
fn an_input_field_outside_the_fact_model_is_refused() {
    let body = one_table("first", json!([{"id": "i1", "name": "Cost", "field": "serviceDetails.cost"}]), action_outputs(), json!([]));
    assert_refused(&refused(&body), "nodes[1].content.inputs[0].field", "`serviceDetails.cost` is not a field of the fact model");
    let body = one_table("first", json!([{"id": "i1", "name": "Code", "field": "line.procedureCode"}]), action_outputs(), json!([]));
    assert_refused(&refused(&body), "nodes[1].content.inputs[0].field", "`line.procedureCode` is not a field of the fact model");
    let body = one_table("first", json!([{"id": "i1", "name": "Code", "field": "line.procedure_code.first"}]), action_outputs(), json!([]));
    assert_refused(&refused(&body), "nodes[1].content.inputs[0].field", "has no member `first`");
}

#[test]
fn a_cell_reading_an_unknown_field_is_refused() {
    let body = with_rule(json!({"i1": "'G0008'", "o1": "'pend'", "o3": "patient.name"}));
    assert_refused(&refused(&body), "nodes[1].content.rules[0].o3", "`patient.name` is not a field of the fact model");
}

#[test]
fn a_cell_that_does_not_compile_is_refused() {
    let errors = refused(&with_rule(json!({"_id": "r1", "i1": "'G0008", "o1": "'deny'", "o2": "'96'"})));
    assert_refused(&errors, "nodes[1].content.rules[0].i1", "does not compile as a unary test");
    let errors = refused(&with_rule(json!({"_id": "r1", "i1": "'G0008'", "o1": "'deny' +", "o2": "'96'"})));
    assert_refused(&errors, "nodes[1].content.rules[0].o1", "does not compile");
}

#[test]
fn an_output_outside_the_action_set_is_refused() {
    let body = one_table(
        "first",
        code_inputs(),
        json!([{"id": "o1", "name": "Action", "field": "action"}, {"id": "o2", "name": "Pay", "field": "payBonus"}]),
        json!([]),
    );
    assert_refused(&refused(&body), "nodes[1].content.outputs[1].field", "`payBonus` is not an action field");
    let body = one_table("first", code_inputs(), json!([{"id": "o2", "name": "CARC", "field": "carc"}]), json!([]));
    assert_refused(&refused(&body), "nodes[1].content.outputs", "needs an output column with the field `action`");
}

#[test]
fn an_unknown_action_or_an_incomplete_one_is_refused_at_upload() {
    assert_refused(&refused(&with_rule(json!({"i1": "'G0008'", "o1": "'approve'"}))), "nodes[1].content.rules[0].o1", "`approve` is not an action");
    assert_refused(&refused(&with_rule(json!({"i1": "'G0008'", "o1": "'deny'"}))), "nodes[1].content.rules[0].o2", "a `deny` needs a `carc`");
    assert_refused(&refused(&with_rule(json!({"i1": "'G0008'", "o1": "'deny'", "o2": "'CO-96'"}))), "nodes[1].content.rules[0].o2", "expected a CARC");
    assert_refused(&refused(&with_rule(json!({"i1": "'G0008'", "o1": "'pend'"}))), "nodes[1].content.rules[0].o3", "a `pend` needs a `reason`");
    let percent = one_table(
        "first",
        code_inputs(),
        json!([{"id": "o1", "name": "Action", "field": "action"}, {"id": "o2", "name": "Percent", "field": "percent"}]),
        json!([{"i1": "'J1100'", "o1": "'reduce_percent'", "o2": "150"}]),
    );
    assert_refused(&refused(&percent), "nodes[1].content.rules[0].o2", "expected more than 0 and at most 100");
    let amount = one_table(
        "first",
        code_inputs(),
        json!([{"id": "o1", "name": "Action", "field": "action"}, {"id": "o2", "name": "Amount", "field": "amount"}]),
        json!([{"i1": "'J1100'", "o1": "'set_allowed'", "o2": "12.345"}]),
    );
    assert_refused(&refused(&amount), "nodes[1].content.rules[0].o2", "more than two decimal places");
}

#[test]
fn a_bad_hit_policy_is_refused() {
    let body = one_table("unique", code_inputs(), action_outputs(), json!([]));
    assert_refused(&refused(&body), "nodes[1].content.hitPolicy", "expected \"first\" or \"collect\"");
}

#[test]
fn a_cell_for_a_column_the_table_does_not_have_is_refused() {
    assert_refused(&refused(&with_rule(json!({"i1": "'G0008'", "i9": "> 1", "o1": "'deny'", "o2": "'96'"}))), "nodes[1].content.rules[0].i9", "not a column");
}

#[test]
fn reading_the_system_clock_or_randomness_is_refused() {
    for (cell, reason) in [
        ("d() > d('2026-01-01')", "reads the system clock"),
        ("date('now') > 0", "`now` reads the system clock"),
        ("d('Europe/Berlin').year() > 2000", "a time-zone name gives the current time"),
        ("d('Europe/Berlin', 'UTC').year() > 2000", "a time-zone name gives the current time"),
        ("d(line.service_date).isToday()", "compares with the system clock"),
        ("rand(10) > 5", "not deterministic"),
    ] {
        let body = one_table("first", json!([{"id": "i1", "name": "Test"}]), action_outputs(), json!([{"i1": cell, "o1": "'deny'", "o2": "'96'"}]));
        assert_refused(&refused(&body), "nodes[1].content.rules[0].i1", reason);
    }
}

#[test]
fn dates_compare_against_the_recorded_clock() {
    let body = one_table(
        "first",
        json!([{"id": "i1", "name": "Old service"}]),
        action_outputs(),
        json!([{"i1": "d(line.service_date).add(90, 'd') < d(decision.date)", "o1": "'pend'", "o3": "'Serviced over 90 days before the decision'"}]),
    );
    let rule_set = RuleSet::parse("rules", &serde_json::to_vec(&body).unwrap_or_default());
    let Ok(rule_set) = rule_set else { panic!("refused: {rule_set:?}") };
    let mut facts = common::facts("G0008");
    assert_eq!(rule_set.evaluate(&facts).map(|fired| fired.len()), Ok(0));
    facts.decision.date = time::macros::date!(2026 - 09 - 01);
    assert_eq!(rule_set.evaluate(&facts).map(|fired| fired.len()), Ok(1));
}

#[test]
fn bad_policy_switches_are_each_refused() {
    let mut body = with_rule(json!({"i1": "'G0008'", "o1": "'deny'", "o2": "'96'"}));
    body["policy"] = json!({
        "effective_from": "2026-13-01",
        "mue_action": "ignore",
        "timely_filing_days": 0,
        "pend_amount_over": 5000,
        "pend_codes": ["j3490"],
        "standard_edits": ["ncci", "ncci", "astrology"],
        "colour": "blue"
    });
    let errors = refused(&body);
    assert_refused(&errors, "policy.effective_from", "YYYY-MM-DD");
    assert_refused(&errors, "policy.mue_action", "\"deny\" or \"reduce\"");
    assert_refused(&errors, "policy.timely_filing_days", "from 1 to 3650");
    assert_refused(&errors, "policy.pend_amount_over", "as a string");
    assert_refused(&errors, "policy.pend_codes[0]", "procedure code");
    assert_refused(&errors, "policy.standard_edits[1]", "listed twice");
    assert_refused(&errors, "policy.standard_edits[2]", "expected one of coverage");
    assert_refused(&errors, "policy.colour", "unknown policy switch");
    if let Some(members) = body.as_object_mut() {
        members.remove("policy");
    }
    assert_refused(&refused(&body), "policy", "has no `policy`");
}

#[test]
fn an_effective_range_that_ends_before_it_starts_is_refused() {
    let mut body = with_rule(json!({"i1": "'G0008'", "o1": "'deny'", "o2": "'96'"}));
    body["policy"]["effective_to"] = json!("2025-12-31");
    assert_refused(&refused(&body), "policy.effective_to", "before effective_from");
}

#[test]
fn a_decimal_number_outside_the_layout_is_refused() {
    let mut body = with_rule(json!({"i1": "'G0008'", "o1": "'deny'", "o2": "'96'"}));
    body["policy"]["timely_filing_days"] = json!(90.5);
    assert_refused(&refused(&body), "policy.timely_filing_days", "not an integer");
}

#[test]
fn every_problem_is_reported_at_once() {
    let mut body = common::chain(vec![
        json!({"type": "functionNode", "id": "js", "name": "Script", "content": {"source": ""}}),
        common::table(
            "t",
            "sometimes",
            json!([{"id": "i1", "name": "X", "field": "nope"}]),
            json!([{"id": "o1", "name": "Action", "field": "action"}]),
            json!([{"i1": "'a'", "o1": "'deny'"}]),
        ),
    ]);
    body["policy"]["mue_action"] = json!("maybe");
    let errors = refused(&body);
    let paths: Vec<&str> = errors.iter().map(|error| error.path.as_str()).collect();
    for path in ["nodes[1].type", "nodes[2].content.hitPolicy", "nodes[2].content.inputs[0].field", "policy.mue_action"] {
        assert!(paths.contains(&path), "{path} missing from {paths:?}");
    }
}

#[test]
fn an_expression_node_cannot_overwrite_the_fact_model_and_later_nodes_read_its_keys() {
    let body = common::chain(vec![
        json!({"type": "expressionNode", "id": "x", "name": "X", "content": {"expressions": [{"id": "e", "key": "line.charge", "value": "0"}]}}),
    ]);
    assert_refused(&refused(&body), "nodes[1].content.expressions[0].key", "would overwrite the fact model");
    let body = common::chain(vec![
        common::table("t", "first", json!([{"id": "i1", "name": "Flag", "field": "flags.big"}]), action_outputs(), json!([])),
        json!({"type": "expressionNode", "id": "x", "name": "X", "content": {"expressions": [{"id": "e", "key": "flags.big", "value": "line.charge > 100"}]}}),
    ]);
    assert_refused(&refused(&body), "nodes[1].content.inputs[0].field", "nor the key of an expression node before this one");
}

#[test]
fn a_switch_edge_must_name_a_statement() {
    let body = json!({
        "nodes": [
            {"type": "inputNode", "id": "in", "name": "In"},
            {"type": "switchNode", "id": "s", "name": "S", "content": {"hitPolicy": "first", "statements": [{"id": "a", "condition": "line.units > 1"}]}},
            {"type": "outputNode", "id": "out", "name": "Out"}
        ],
        "edges": [{"id": "e1", "sourceId": "in", "targetId": "s"}, {"id": "e2", "sourceId": "s", "targetId": "out", "sourceHandle": "b"}, {"id": "e3", "sourceId": "s", "targetId": "out"}],
        "policy": common::policy()
    });
    let errors = refused(&body);
    assert_refused(&errors, "edges[1].sourceHandle", "`b` is not a statement of the switch node");
    assert_refused(&errors, "edges[2].sourceHandle", "must name the statement");
}

#[test]
fn unsupported_transform_attributes_are_refused() {
    let mut table = common::table("t", "first", code_inputs(), action_outputs(), json!([]));
    table["content"]["executionMode"] = json!("loop");
    table["content"]["inputField"] = json!("claim.lines");
    let errors = refused(&common::chain(vec![table]));
    assert_refused(&errors, "nodes[1].content.executionMode", "only `single`");
    assert_refused(&errors, "nodes[1].content.inputField", "not supported");
}

#[test]
fn a_cell_that_fails_at_evaluation_names_its_rule_instead_of_being_skipped() {
    let body = one_table(
        "first",
        json!([{"id": "i1", "name": "Code", "field": "line.procedure_code"}, {"id": "i2", "name": "Allowed", "field": "line.allowed"}]),
        action_outputs(),
        json!([{"_id": "cap", "i1": "'G0008'", "i2": "> 100", "o1": "'pend'", "o3": "'High allowed'"}, {"_id": "catch-all", "i1": "", "o1": "'pend'", "o3": "'Fallback'"}]),
    );
    let Ok(rule_set) = RuleSet::parse("rules", &serde_json::to_vec(&body).unwrap_or_default()) else { panic!("refused") };
    let mut facts = common::facts("G0008");
    facts.line.allowed = None;
    match rule_set.evaluate(&facts) {
        Err(EvaluationError::Cell { at, source_text, .. }) => {
            assert_eq!((at.node_id.as_str(), at.index, at.item_id.as_str(), at.column.as_str()), ("t", 0, "cap", "i2 (Allowed)"));
            assert_eq!(source_text, "> 100");
        }
        other => panic!("expected a cell error, got {other:?}"),
    }
}

#[test]
fn an_action_computed_at_evaluation_is_checked_then() {
    let body = with_rule(json!({"_id": "computed", "i1": "'G0008'", "o1": "line.units > 1 ? 'deny' : 'pend'", "o3": "'Single unit'"}));
    let Ok(rule_set) = RuleSet::parse("rules", &serde_json::to_vec(&body).unwrap_or_default()) else { panic!("refused") };
    let mut facts = common::facts("G0008");
    assert!(rule_set.evaluate(&facts).is_ok());
    facts.line.units = rust_decimal::Decimal::TWO;
    match rule_set.evaluate(&facts) {
        Err(EvaluationError::BadAction { at, reason }) => {
            assert_eq!(at.item_id, "computed");
            assert!(reason.contains("needs a `carc`") || reason.contains("means nothing"), "{reason}");
        }
        other => panic!("expected a bad action, got {other:?}"),
    }
}

#[test]
fn a_first_hit_table_stops_at_the_first_match_and_a_collect_table_does_not() {
    let rules = json!([
        {"_id": "a", "i1": "'G0008'", "o1": "'deny'", "o2": "'96'"},
        {"_id": "b", "i1": "", "o1": "'pend'", "o3": "'Any code'"}
    ]);
    for (policy, expected) in [("first", vec!["a"]), ("collect", vec!["a", "b"])] {
        let body = one_table(policy, code_inputs(), action_outputs(), rules.clone());
        let Ok(rule_set) = RuleSet::parse("rules", &serde_json::to_vec(&body).unwrap_or_default()) else { panic!("refused") };
        let fired = rule_set.evaluate(&common::facts("G0008")).map(|fired| fired.into_iter().map(|fired| fired.rule_id).collect::<Vec<_>>());
        assert_eq!(fired, Ok(expected.into_iter().map(str::to_owned).collect()), "{policy}");
        let other = rule_set.evaluate(&common::facts("G0009")).map(|fired| fired.into_iter().map(|fired| fired.rule_id).collect::<Vec<_>>());
        assert_eq!(other, Ok(vec!["b".to_owned()]), "{policy}");
    }
}
