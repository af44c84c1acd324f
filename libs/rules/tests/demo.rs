//! The demo rule set (tests/fixtures/demo-rule-set.json, also shown in
//! docs/rules.md), in the editor's export shape, deciding realistic lines.

mod common;

use claimtrail_codes::{Carc, Rarc};
use claimtrail_events::Money;
use claimtrail_rules::{Action, ClaimType, EVALUATOR_VERSION, FACT_MODEL_VERSION, MueAction, RuleSet, StandardEdit};
use rust_decimal_macros::dec;
use time::macros::date;

const DEMO: &[u8] = include_bytes!("fixtures/demo-rule-set.json");

fn demo() -> RuleSet {
    match RuleSet::parse("demo-payer-rules", DEMO) {
        Ok(rule_set) => rule_set,
        Err(errors) => panic!("the demo rule set is refused: {errors}"),
    }
}

fn actions(rule_set: &RuleSet, facts: &claimtrail_rules::Facts) -> Vec<(String, String, Action)> {
    match rule_set.evaluate(facts) {
        Ok(fired) => fired.into_iter().map(|fired| (fired.table_node_id, fired.rule_id, fired.action)).collect(),
        Err(error) => panic!("evaluation failed: {error}"),
    }
}

#[test]
fn the_demo_rule_set_in_the_editors_export_shape_is_accepted_with_its_policy() {
    let rule_set = demo();
    assert_eq!(rule_set.name(), "demo-payer-rules");
    assert_eq!(rule_set.effective_from(), date!(2026 - 01 - 01));
    assert_eq!(rule_set.effective_to(), None);
    let policy = rule_set.policy();
    assert_eq!(policy.mue_action, MueAction::Deny);
    assert_eq!(policy.timely_filing_days, 365);
    assert_eq!(policy.pend_amount_over, Some(Money::from_cents(500_000)));
    assert!(policy.pend_codes.contains("J3490"));
    assert!(StandardEdit::ALL.iter().all(|edit| policy.applies(*edit)));
    assert!(policy.is_in_force_on(date!(2026 - 06 - 30)));
    assert!(!policy.is_in_force_on(date!(2025 - 12 - 31)));
    assert_eq!(rule_set.table_and_rule_counts(), (5, 9));
    assert_eq!(rule_set.content_hash().len(), 64);
}

#[test]
fn the_content_hash_ignores_key_order_and_whitespace_and_survives_a_round_trip() {
    let rule_set = demo();
    let value: serde_json::Value = serde_json::from_slice(DEMO).unwrap_or_default();
    let compact = serde_json::to_vec(&value).unwrap_or_default();
    let again = RuleSet::parse("demo-payer-rules", &compact).map(|rule_set| rule_set.content_hash().to_owned());
    assert_eq!(again.as_deref(), Ok(rule_set.content_hash()));
    let reparsed = RuleSet::parse("demo-payer-rules", rule_set.canonical_bytes()).map(|rule_set| rule_set.content_hash().to_owned());
    assert_eq!(reparsed.as_deref(), Ok(rule_set.content_hash()));
    // Half-pixel positions from the editor are rounded, not refused.
    let canonical = String::from_utf8_lossy(rule_set.canonical_bytes()).into_owned();
    assert!(canonical.contains(r#""position":{"x":1000,"y":41}"#), "{canonical}");
}

#[test]
fn a_change_to_any_cell_changes_the_content_hash() {
    let changed = String::from_utf8_lossy(DEMO).replace("\"o2\": \"10\"", "\"o2\": \"11\"");
    let hash = RuleSet::parse("demo-payer-rules", changed.as_bytes()).map(|rule_set| rule_set.content_hash().to_owned());
    assert!(hash.is_ok_and(|hash| hash != demo().content_hash()));
}

#[test]
fn advanced_imaging_requires_a_prior_authorization() {
    let fired = actions(&demo(), &common::facts("C8905"));
    assert_eq!(fired, vec![("prior-auth-imaging".to_owned(), "mri-breast".to_owned(), Action::RequirePriorAuthorization)]);
}

#[test]
fn screening_colonoscopy_for_a_member_under_18_is_denied_co_6_with_n129() {
    let mut facts = common::facts("G0121");
    facts.member.age = 16;
    assert_eq!(
        actions(&demo(), &facts),
        vec![(
            "age-frequency".to_owned(),
            "colonoscopy-age".to_owned(),
            Action::Deny { carc: Carc::parse("6").unwrap(), rarcs: vec![Rarc::parse("N129").unwrap()] }
        )]
    );
    facts.member.age = 18;
    assert_eq!(actions(&demo(), &facts), vec![]);
}

#[test]
fn a_collect_table_fires_every_matching_rule_in_rule_order() {
    let mut facts = common::facts("G0202");
    facts.member.age = 30;
    facts.history.same_code_last_365_days = 1;
    let fired = actions(&demo(), &facts);
    assert_eq!(
        fired,
        vec![
            (
                "age-frequency".to_owned(),
                "mammography-frequency".to_owned(),
                Action::Deny { carc: Carc::parse("119").unwrap(), rarcs: vec![Rarc::SEE_BENEFIT_DOCUMENTS] }
            ),
            ("age-frequency".to_owned(), "mammography-age".to_owned(), Action::Pend { reason: "Screening mammography for a member under 35".to_owned() }),
        ]
    );
}

#[test]
fn dexamethasone_in_an_outpatient_hospital_is_reduced_by_ten_percent() {
    let mut facts = common::facts("J1100");
    facts.line.place_of_service = Some("22".to_owned());
    assert_eq!(
        actions(&demo(), &facts),
        vec![(
            "site-of-service".to_owned(),
            "j1100-facility".to_owned(),
            Action::ReducePercent { percent: dec!(10), carc: Some(Carc::FEE_SCHEDULE), rarcs: vec![] }
        )]
    );
    facts.line.place_of_service = Some("11".to_owned());
    assert_eq!(actions(&demo(), &facts), vec![]);
}

#[test]
fn an_out_of_network_line_over_a_thousand_pends_through_the_derived_facts() {
    let mut facts = common::facts("99213");
    facts.provider.in_network = false;
    facts.line.charge = Money::from_cents(120_000);
    assert_eq!(
        actions(&demo(), &facts),
        vec![("out-of-network".to_owned(), "oon-high-charge".to_owned(), Action::Pend { reason: "Out-of-network line charged over 1,000.00".to_owned() })]
    );
}

#[test]
fn the_switch_sends_institutional_claims_to_their_own_table_only() {
    let mut facts = common::facts("C8905");
    facts.claim.claim_type = ClaimType::Institutional;
    facts.line.revenue_code = Some("0450".to_owned());
    assert_eq!(
        actions(&demo(), &facts),
        vec![(
            "institutional-review".to_owned(),
            "emergency-room".to_owned(),
            Action::Pend { reason: "Emergency-room revenue code: clinical review".to_owned() }
        )]
    );
}

#[test]
fn the_versions_to_record_name_the_fact_model_and_the_zen_expression_release_in_the_lock_file() {
    assert_eq!(FACT_MODEL_VERSION, "claimtrail-facts/1");
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.lock")).unwrap_or_default();
    let version = lock
        .split("[[package]]")
        .find(|package| package.contains("name = \"zen-expression\""))
        .and_then(|package| package.lines().find_map(|line| line.strip_prefix("version = \"").and_then(|rest| rest.strip_suffix('"')).map(str::to_owned)));
    assert_eq!(version.map(|version| format!("claimtrail-rules/1 zen-expression/{version}")).as_deref(), Some(EVALUATOR_VERSION));
}
