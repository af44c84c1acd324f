//! The domain file's edit and pricing scenarios (claims-domain.md (c)),
//! to the cent, through [`super::decide`] with the payer's policy in force;
//! and the replay and batch properties over random claims and tables.

use claimtrail_codes::{Carc, GroupCode, Rarc};
use claimtrail_events::canonical::to_canonical_vec;
use claimtrail_events::{Adjustment, ClaimAdjudicated, Frequency, Money, Outcome, SubmittedClaim};
use claimtrail_policy::{
    AuthStatus, CodeKey, Exclusion, ExclusionList, Fee, FeeSchedule as PolicyFees, Gpci, GpciTable, Locality, ModifierIndicator, Mue, MueIndicator, MueTable,
    NcciTable, PriorAuthorization, PriorAuthorizations, PtpEdit, Rvu, RvuTable, Setting, ZipLocalities,
};
use claimtrail_rules::RuleSet;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use time::Date;
use time::macros::date;
use uuid::Uuid;

use super::{
    Command, DecisionRecord, DecisionState, Event, FeeSchedule, HistoryFact, HistoryStatus, PolicyInForce, RegistryFacts, TableInForce, decide, fixtures,
};

const DOS: Date = date!(2026 - 11 - 01);

fn key(code: &str) -> CodeKey {
    CodeKey::of(code)
}

fn money(text: &str) -> Money {
    Money::parse(text).unwrap()
}

fn fee(code: &str, amount: &str, multiple_procedure: Option<u8>) -> Fee {
    Fee {
        code: key(code),
        modifier: CodeKey::NONE,
        place_of_service: CodeKey::NONE,
        per_unit: money(amount),
        effective: date!(2026 - 01 - 01),
        end: None,
        multiple_procedure,
    }
}

fn fees(rows: Vec<Fee>) -> Option<TableInForce<PolicyFees>> {
    Some(TableInForce::new("f".repeat(64), PolicyFees::from_fees(rows)))
}

fn ptp(one: &str, two: &str, indicator: ModifierIndicator) -> PtpEdit {
    PtpEdit { column_one: key(one), column_two: key(two), prior_1996: false, effective: date!(2026 - 01 - 01), deletion: None, modifier_indicator: indicator }
}

fn ncci(edits: Vec<PtpEdit>) -> Option<TableInForce<NcciTable>> {
    Some(TableInForce::new("a".repeat(64), NcciTable::from_edits(Setting::Practitioner, edits)))
}

fn mue(code: &str, units_max: u32, indicator: MueIndicator) -> Option<TableInForce<MueTable>> {
    Some(TableInForce::new("b".repeat(64), MueTable::from_mues(Setting::Practitioner, vec![Mue { code: key(code), units_max, indicator }])))
}

/// A rule set of `rules` over (line.procedure_code, line.revenue_code,
/// history.same_code_last_365_days) with `policy` switches.
fn rule_set(rules: Value, policy: Value) -> std::sync::Arc<RuleSet> {
    let body = json!({
        "contentType": "application/vnd.gorules.decision",
        "nodes": [
            {"type": "inputNode", "id": "in", "name": "Request", "position": {"x": 0, "y": 0}},
            {"type": "decisionTableNode", "id": "t", "name": "Payer rules", "position": {"x": 400, "y": 0},
             "content": {"hitPolicy": "collect", "passThrough": true, "inputField": null, "outputPath": null, "executionMode": "single",
                "inputs": [{"id": "i1", "name": "Code", "field": "line.procedure_code"}, {"id": "i2", "name": "Revenue code", "field": "line.revenue_code"},
                           {"id": "i3", "name": "Same code in 365 days", "field": "history.same_code_last_365_days"}],
                "outputs": [{"id": "o1", "name": "Action", "field": "action"}, {"id": "o2", "name": "CARC", "field": "carc"},
                            {"id": "o3", "name": "RARC", "field": "rarc"}, {"id": "o4", "name": "Reason", "field": "reason"},
                            {"id": "o5", "name": "Percent", "field": "percent"}, {"id": "o6", "name": "Amount", "field": "amount"}],
                "rules": rules}},
            {"type": "outputNode", "id": "out", "name": "Response", "position": {"x": 900, "y": 0}}
        ],
        "edges": [{"id": "e0", "sourceId": "in", "targetId": "t", "type": "edge"}, {"id": "e1", "sourceId": "t", "targetId": "out", "type": "edge"}],
        "policy": policy
    });
    match RuleSet::parse("payer-rules", &serde_json::to_vec(&body).unwrap()) {
        Ok(rule_set) => std::sync::Arc::new(rule_set),
        Err(errors) => panic!("{errors}"),
    }
}

fn switches(extra: Value) -> Value {
    let mut policy = json!({
        "effective_from": "2026-01-01", "mue_action": "deny", "timely_filing_days": 365,
        "standard_edits": ["coverage", "death", "timely_filing", "enrollment", "exclusion", "duplicate", "ncci", "mue", "prior_authorization", "multiple_procedure"]
    });
    if let (Some(policy), Some(extra)) = (policy.as_object_mut(), extra.as_object()) {
        policy.extend(extra.clone());
    }
    policy
}

/// A professional claim served on [`DOS`]: (code, modifiers, charge, units).
fn claim(lines: &[(&str, &[&str], &str, i64)]) -> SubmittedClaim {
    let plain: Vec<(&str, &str, i64)> = lines.iter().map(|(code, _, charge, units)| (*code, *charge, *units)).collect();
    let mut claim = fixtures::claim(Frequency::Original, None, &plain);
    for (line, (_, modifiers, _, _)) in claim.lines.iter_mut().zip(lines) {
        line.modifiers = modifiers.iter().map(|modifier| claimtrail_codes::Modifier::parse(modifier).expect("a modifier")).collect();
    }
    claim
}

/// A paid (or other `status`) line of another claim of the member, same provider and date.
fn history(code: &str, modifiers: &[&str], charge: &str, units: &str, status: HistoryStatus) -> HistoryFact {
    HistoryFact {
        claim_id: Uuid::from_u128(7),
        sequence: 1,
        billing_npi: "1234567893".into(),
        rendering_npi: None,
        service_date: DOS,
        procedure_code: code.into(),
        modifiers: modifiers.iter().map(|modifier| (*modifier).to_owned()).collect(),
        units: units.into(),
        charge: money(charge),
        status,
    }
}

fn legacy() -> FeeSchedule {
    FeeSchedule { content_hash: "c".repeat(64), fees: Default::default() }
}

/// Decides `claim` under `policy` and `history`, checks the record replays
/// it to the byte, and returns the one event.
fn decided(policy: &PolicyInForce, history: Vec<HistoryFact>, claim: &SubmittedClaim) -> Event {
    decided_with(policy, history, claim, |_| {})
}

/// [`decided`], with the registry facts changed by `registry` first.
fn decided_with(policy: &PolicyInForce, history: Vec<HistoryFact>, claim: &SubmittedClaim, registry: impl FnOnce(&mut RegistryFacts)) -> Event {
    let schedule = legacy();
    let mut facts = fixtures::facts(&schedule, DecisionState::Undecided);
    facts.policy = Some(policy);
    facts.history = history;
    registry(&mut facts.registry);
    let events = decide(&facts, &Command::Adjudicate(claim.clone())).unwrap();
    let record = DecisionRecord::of(&facts, claim, "riverside");
    let bytes = to_canonical_vec(&record).unwrap();
    let record: DecisionRecord = serde_json::from_slice(&bytes).unwrap();
    let replayed = fixtures::replayed(&record, Some(policy)).unwrap();
    assert_eq!(replayed.last().unwrap().canonical_payload().unwrap(), events.last().unwrap().canonical_payload().unwrap(), "replay differs");
    let [event] = <[Event; 1]>::try_from(events).unwrap();
    event
}

/// A record of format 1 (written before the counts: 365 days of lines, no
/// counts) replays to the byte from its lines; a decision now reads the
/// counts the store made, and its record (format 2) replays from them.
#[test]
fn a_format_1_record_replays_from_its_lines_and_a_format_2_record_from_its_counts() {
    let rules = rule_set(json!([{"_id": "repeat", "i1": "'99213'", "i3": ">= 2", "o1": "'deny'", "o2": "'119'"}]), switches(json!({})));
    let policy = PolicyInForce { fee_schedule: fees(vec![fee("99213", "100.00", None)]), rule_set: Some(rules), ..PolicyInForce::default() };
    let visit = claim(&[("99213", &[], "150.00", 1)]);
    // Two earlier visits this year, neither on the claim's date of service.
    let earlier: Vec<HistoryFact> = [(1, 100), (2, 200)]
        .into_iter()
        .map(|(id, days)| HistoryFact {
            claim_id: Uuid::from_u128(id),
            service_date: DOS - time::Duration::days(days),
            ..history("99213", &[], "150.00", "1", HistoryStatus::Paid)
        })
        .collect();
    let schedule = legacy();
    let decided = |history: Vec<HistoryFact>, counts: Option<Vec<super::HistoryCounts>>, version: u32| {
        let mut facts = fixtures::facts(&schedule, DecisionState::Undecided);
        facts.policy = Some(&policy);
        facts.history = history;
        facts.history_counts = counts;
        let events = decide(&facts, &Command::Adjudicate(visit.clone())).unwrap();
        let mut record = DecisionRecord::of(&facts, &visit, "riverside");
        record.fact_model_version = version;
        if version < 3 {
            // Formats 1 and 2 carried the rule set's document.
            with_rule_set_document(&mut record, &policy);
        }
        (events.last().unwrap().canonical_payload().unwrap(), to_canonical_vec(&record).unwrap())
    };
    let replayed = |bytes: &[u8]| {
        let record: DecisionRecord = serde_json::from_slice(bytes).unwrap();
        assert_eq!(to_canonical_vec(&record).unwrap(), bytes, "the record reads back to the same bytes");
        // A record of format 1 or 2 replays on its own; one of format 3 with its rule set resolved.
        let resolved = if record.fact_model_version < 3 { None } else { Some(&policy) };
        fixtures::replayed(&record, resolved).unwrap().last().unwrap().canonical_payload().unwrap()
    };
    let denied =
        |payload: &[u8]| serde_json::from_slice::<ClaimAdjudicated>(payload).unwrap().lines[0].adjustments == vec![co(Carc::parse("119").unwrap(), "150.00")];

    // Format 1: the 365 days of lines, counted on replay.
    let (payload, old) = decided(earlier.clone(), None, 1);
    let old_text = String::from_utf8(old.clone()).unwrap();
    assert!(!old_text.contains("history_counts") && old_text.contains("\"fact_model_version\":1"), "{old_text}");
    assert!(denied(&payload), "the rule counted two earlier visits");
    assert_eq!(replayed(&old), payload);

    // Format 2: no line off the claim's date, the counts instead; the same decision.
    let counts = super::HistoryCounts::of(&earlier, &visit);
    let (now, new) = decided(vec![], Some(counts.clone()), 2);
    assert_eq!(now, payload);
    assert!(String::from_utf8(new.clone()).unwrap().contains("\"history\":[],\"history_counts\":[{\"claims\":2,\"codes\":{\"99213\":2}"));
    assert_eq!(replayed(&new), payload);

    // Format 3: the counts, and the rule set by hash only; the same decision.
    let (now, new) = decided(vec![], Some(counts), super::FACT_MODEL_VERSION);
    assert_eq!(now, payload);
    assert!(!String::from_utf8(new.clone()).unwrap().contains("\"canonical\""));
    assert_eq!(replayed(&new), payload);

    // The recorded counts are what the rule reads, not the lines beside them.
    let (paid, _) = decided(earlier, Some(super::HistoryCounts::of(&[], &visit)), super::FACT_MODEL_VERSION);
    assert!(!denied(&paid));
}

/// Puts the rule set's canonical document inside `record`, as formats 1 and 2 wrote it.
fn with_rule_set_document(record: &mut DecisionRecord, policy: &PolicyInForce) {
    if let (Some(used), Some(rule_set)) = (record.policy.rule_set.as_mut(), policy.rule_set.as_ref()) {
        used.canonical = Some(String::from_utf8(rule_set.canonical_bytes().to_vec()).unwrap());
    }
}

/// A record of format 3 cites its rule set by hash and name, without the
/// document: it replays to the byte only with that document resolved; a
/// missing document or another one (even a rule set of the same name) is
/// refused naming the hash, never decided on. The same decision recorded
/// in format 2 carries the document, replays on its own, and reads back to
/// its bytes; it is the format-3 record plus the document and nothing else.
#[test]
fn a_format_3_record_replays_only_on_the_rule_set_document_its_hash_names() {
    use super::ResolvedRuleSet;
    use super::policy::PolicyReplayError;
    let rules = rule_set(json!([{"_id": "j1100", "i1": "'J1100'", "o1": "'deny'", "o2": "'96'", "o3": "'N130'"}]), switches(json!({})));
    let policy = PolicyInForce {
        fee_schedule: fees(vec![fee("99213", "100.00", None), fee("J1100", "5.00", None)]),
        rule_set: Some(rules.clone()),
        ..PolicyInForce::default()
    };
    let visit = claim(&[("99213", &[], "150.00", 1), ("J1100", &[], "20.00", 2)]);
    let schedule = legacy();
    let mut facts = fixtures::facts(&schedule, DecisionState::Undecided);
    facts.policy = Some(&policy);
    let events = decide(&facts, &Command::Adjudicate(visit.clone())).unwrap();
    let payload = events.last().unwrap().canonical_payload().unwrap();
    assert!(adjudicated(events.last().unwrap().clone()).lines[1].adjustments.iter().any(|adjustment| adjustment.reason == Carc::parse("96").unwrap()));

    let bytes = to_canonical_vec(&DecisionRecord::of(&facts, &visit, "riverside")).unwrap();
    let record: DecisionRecord = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(record.fact_model_version, 3);
    let used = record.rule_set_to_resolve().expect("a format-3 record cites its rule set by hash").clone();
    assert_eq!((used.content_hash.as_str(), used.name.as_str(), used.canonical.as_deref()), (rules.content_hash(), "payer-rules", None));
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(!text.contains("\"canonical\"") && !text.contains("decisionTableNode"), "{text}");

    // With the document resolved (as the store holds it): the same bytes.
    let resolved = ResolvedRuleSet::verify(&used, rules.canonical_bytes()).unwrap();
    assert_eq!(record.replay_with(Some(&resolved)).unwrap().last().unwrap().canonical_payload().unwrap(), payload);

    // Without it: refused, naming the hash.
    let unresolved = record.replay().unwrap_err().to_string();
    assert!(unresolved.contains(rules.content_hash()), "{unresolved}");
    // Bytes that are not the document the hash names: refused before parsing.
    let mut tampered = rules.canonical_bytes().to_vec();
    let at = tampered.windows(4).position(|window| window == b"'96'").unwrap();
    tampered[at + 2] = b'7';
    let Err(PolicyReplayError::HashMismatch { hash, actual }) = ResolvedRuleSet::verify(&used, &tampered) else { panic!("tampered bytes accepted") };
    assert_eq!(hash, rules.content_hash());
    assert_ne!(actual, hash);
    // Another valid rule set, verified against its own hash, handed to this record: refused.
    let other = rule_set(json!([{"_id": "never", "i1": "'ZZZZZ'", "o1": "'pend'", "o4": "'never'"}]), switches(json!({})));
    let mut other_used = used.clone();
    other_used.content_hash = other.content_hash().to_owned();
    let other = ResolvedRuleSet::verify(&other_used, other.canonical_bytes()).unwrap();
    let refused = record.replay_with(Some(&other)).unwrap_err().to_string();
    assert!(refused.contains(rules.content_hash()) && refused.contains(other.content_hash()), "{refused}");

    // The same decision in format 2: the document inside, replayed on its own, to the byte; nothing else differs.
    let mut old = record.clone();
    old.fact_model_version = 2;
    with_rule_set_document(&mut old, &policy);
    let old_bytes = to_canonical_vec(&old).unwrap();
    let old: DecisionRecord = serde_json::from_slice(&old_bytes).unwrap();
    assert_eq!(to_canonical_vec(&old).unwrap(), old_bytes, "a format-2 record reads back to its bytes");
    assert!(old.rule_set_to_resolve().is_none());
    assert_eq!(old.replay().unwrap().last().unwrap().canonical_payload().unwrap(), payload);
    let mut stripped = old.clone();
    stripped.fact_model_version = 3;
    stripped.policy.rule_set.as_mut().unwrap().canonical = None;
    assert_eq!(stripped, record);
    assert!(old_bytes.len() > bytes.len() + rules.canonical_bytes().len(), "{} vs {}", old_bytes.len(), bytes.len());
}

fn adjudicated(event: Event) -> ClaimAdjudicated {
    match event {
        Event::Adjudicated(decision) => decision,
        other => panic!("not adjudicated: {other:?}"),
    }
}

fn co(carc: Carc, amount: &str) -> Adjustment {
    Adjustment { group: GroupCode::Co, reason: carc, amount: money(amount) }
}

fn pend_reason(event: Event) -> (String, String) {
    match event {
        Event::Pended(pended) => (pended.reason, pended.detail),
        other => panic!("not pended: {other:?}"),
    }
}

fn priced_pair() -> PolicyInForce {
    PolicyInForce { fee_schedule: fees(vec![fee("11042", "120.00", None), fee("97597", "80.00", None)]), ..PolicyInForce::default() }
}

#[test]
fn scenario_1_an_ncci_column_two_line_without_modifier_is_denied_co_97_for_its_full_charge() {
    let policy = PolicyInForce { ncci: ncci(vec![ptp("11042", "97597", ModifierIndicator::Allowed)]), ..priced_pair() };
    let decision = adjudicated(decided(&policy, vec![], &claim(&[("11042", &[], "150.00", 1), ("97597", &[], "100.00", 1)])));
    assert_eq!((decision.lines[0].allowed, decision.lines[0].adjustments.clone()), (money("120.00"), vec![co(Carc::FEE_SCHEDULE, "30.00")]));
    assert_eq!((decision.lines[1].paid, decision.lines[1].adjustments.clone()), (Money::ZERO, vec![co(Carc::BUNDLED, "100.00")]));
    assert_eq!(decision.lines[1].steps[0].rule, "ncci-ptp");
    assert!(decision.lines[1].steps[0].source.as_deref().unwrap().starts_with(&format!("ncci-ptp:{}", "a".repeat(64))));
    assert_eq!((decision.outcome, decision.total_paid), (Outcome::PartiallyPaid, money("120.00")));
}

#[test]
fn scenario_1_variants_modifier_59_lifts_indicator_1_not_0_and_9_does_nothing() {
    let with_59 = claim(&[("11042", &[], "150.00", 1), ("97597", &["59"], "100.00", 1)]);
    let lifted = PolicyInForce { ncci: ncci(vec![ptp("11042", "97597", ModifierIndicator::Allowed)]), ..priced_pair() };
    assert_eq!(adjudicated(decided(&lifted, vec![], &with_59)).total_paid, money("200.00"));
    let never = PolicyInForce { ncci: ncci(vec![ptp("11042", "97597", ModifierIndicator::NotAllowed)]), ..priced_pair() };
    assert_eq!(adjudicated(decided(&never, vec![], &with_59)).lines[1].adjustments, vec![co(Carc::BUNDLED, "100.00")]);
    let deleted = PolicyInForce { ncci: ncci(vec![ptp("11042", "97597", ModifierIndicator::NotApplicable)]), ..priced_pair() };
    assert_eq!(adjudicated(decided(&deleted, vec![], &claim(&[("11042", &[], "150.00", 1), ("97597", &[], "100.00", 1)]))).total_paid, money("200.00"));
}

#[test]
fn scenario_1_across_claims_a_column_two_line_after_a_paid_column_one_line_is_denied() {
    let policy = PolicyInForce { ncci: ncci(vec![ptp("11042", "97597", ModifierIndicator::Allowed)]), ..priced_pair() };
    let decision = adjudicated(decided(&policy, vec![history("11042", &[], "150.00", "1", HistoryStatus::Paid)], &claim(&[("97597", &[], "100.00", 1)])));
    assert_eq!((decision.outcome, decision.lines[0].adjustments.clone()), (Outcome::Denied, vec![co(Carc::BUNDLED, "100.00")]));
    // A denied earlier line bundles nothing.
    let decision = adjudicated(decided(&policy, vec![history("11042", &[], "150.00", "1", HistoryStatus::Denied)], &claim(&[("97597", &[], "100.00", 1)])));
    assert_eq!(decision.total_paid, money("80.00"));
}

#[test]
fn the_column_one_code_after_its_column_two_code_was_paid_pends_the_claim_for_a_reviewer() {
    let policy = PolicyInForce { ncci: ncci(vec![ptp("11042", "97597", ModifierIndicator::Allowed)]), ..priced_pair() };
    let (reason, detail) =
        pend_reason(decided(&policy, vec![history("97597", &[], "100.00", "1", HistoryStatus::Paid)], &claim(&[("11042", &[], "150.00", 1)])));
    assert_eq!(reason, "ncci-column-one-after-column-two");
    assert!(detail.contains(&Uuid::from_u128(7).to_string()), "{detail}");
}

#[test]
fn scenario_2_units_over_an_mai_1_mue_deny_the_whole_line_co_151_n362() {
    let policy = PolicyInForce { mue: mue("82374", 2, MueIndicator::Line), fee_schedule: fees(vec![fee("82374", "10.00", None)]), ..PolicyInForce::default() };
    let decision = adjudicated(decided(&policy, vec![], &claim(&[("82374", &[], "45.00", 3)])));
    assert_eq!(decision.lines[0].adjustments, vec![co(Carc::UNITS_NOT_SUPPORTED, "45.00")]);
    assert_eq!(decision.lines[0].remarks, vec![Rarc::UNITS_OVER_MAXIMUM]);
    // Two lines of 2 + 1 units are each assessed alone.
    let decision = adjudicated(decided(&policy, vec![], &claim(&[("82374", &[], "30.00", 2), ("82374", &["59"], "15.00", 1)])));
    assert_eq!(decision.total_paid, money("30.00"));
}

#[test]
fn scenario_2_a_payer_that_reduces_to_the_mue_pays_the_units_allowed_and_adjusts_the_rest_co_151() {
    let rules = rule_set(json!([{"_id": "never", "i1": "'ZZZZZ'", "o1": "'pend'", "o4": "'never'"}]), switches(json!({"mue_action": "reduce"})));
    let policy = PolicyInForce {
        mue: mue("82374", 2, MueIndicator::Line),
        fee_schedule: fees(vec![fee("82374", "10.00", None)]),
        rule_set: Some(rules.clone()),
        ..PolicyInForce::default()
    };
    let decision = adjudicated(decided(&policy, vec![], &claim(&[("82374", &[], "45.00", 3)])));
    // 3 x 10.00 = 30.00 billed fee; 2 units allowed = 20.00: CO-45 15.00, CO-151 10.00.
    assert_eq!(decision.lines[0].allowed, money("20.00"));
    assert_eq!(decision.lines[0].adjustments, vec![co(Carc::FEE_SCHEDULE, "15.00"), co(Carc::UNITS_NOT_SUPPORTED, "10.00")]);
    assert_eq!(decision.rule_set_hash, rules.content_hash());
}

#[test]
fn scenario_2_an_mai_2_mue_sums_units_across_lines_and_claims_of_the_date() {
    let policy = PolicyInForce {
        mue: mue("G0422", 6, MueIndicator::DateOfServicePolicy),
        fee_schedule: fees(vec![fee("G0422", "50.00", None)]),
        ..PolicyInForce::default()
    };
    // A repeat session (76) of the day: not a duplicate, but its units count with the earlier claim's.
    let decision = adjudicated(decided(&policy, vec![history("G0422", &[], "200.00", "4", HistoryStatus::Paid)], &claim(&[("G0422", &["76"], "150.00", 3)])));
    assert_eq!(decision.lines[0].adjustments, vec![co(Carc::UNITS_NOT_SUPPORTED, "150.00")]);
    let decision = adjudicated(decided(&policy, vec![history("G0422", &[], "100.00", "2", HistoryStatus::Paid)], &claim(&[("G0422", &["76"], "150.00", 3)])));
    assert_eq!(decision.total_paid, money("150.00"));
}

#[test]
fn scenario_3_an_exact_duplicate_is_denied_co_18_a_suspect_one_pends_and_76_is_a_repeat() {
    let policy = PolicyInForce { fee_schedule: fees(vec![fee("99213", "120.00", None)]), ..PolicyInForce::default() };
    let paid = history("99213", &[], "180.00", "1", HistoryStatus::Paid);
    let decision = adjudicated(decided(&policy, vec![paid.clone()], &claim(&[("99213", &[], "180.00", 1)])));
    assert_eq!(decision.lines[0].adjustments, vec![co(Carc::DUPLICATE, "180.00")]);
    let (reason, _) = pend_reason(decided(&policy, vec![paid.clone()], &claim(&[("99213", &[], "175.00", 1)])));
    assert_eq!(reason, "suspect-duplicate");
    assert_eq!(adjudicated(decided(&policy, vec![paid], &claim(&[("99213", &["76"], "180.00", 1)]))).total_paid, money("120.00"));
}

#[test]
fn scenario_7_the_second_surgical_procedure_of_the_day_is_paid_at_50_percent_co_59() {
    let policy = PolicyInForce { fee_schedule: fees(vec![fee("27447", "800.00", Some(2)), fee("27446", "500.00", Some(2))]), ..PolicyInForce::default() };
    let decision = adjudicated(decided(&policy, vec![], &claim(&[("27446", &[], "600.00", 1), ("27447", &[], "1000.00", 1)])));
    assert_eq!((decision.lines[1].allowed, decision.lines[1].adjustments.clone()), (money("800.00"), vec![co(Carc::FEE_SCHEDULE, "200.00")]));
    assert_eq!(decision.lines[0].allowed, money("250.00"));
    assert_eq!(decision.lines[0].adjustments, vec![co(Carc::FEE_SCHEDULE, "100.00"), co(Carc::MULTIPLE_PROCEDURE, "250.00")]);
    assert_eq!(decision.lines[0].steps.last().unwrap().rule, "multiple-procedure");
}

fn rbrvs() -> PolicyInForce {
    let locality = Locality { carrier: 1112, locality: 5 };
    let rvu = Rvu {
        code: key("99214"),
        modifier: CodeKey::NONE,
        work: Decimal::new(130, 2),
        pe_non_facility: Decimal::new(120, 2),
        pe_facility: Decimal::new(50, 2),
        malpractice: Decimal::new(10, 2),
        multiple_procedure: 0,
        add_on: false,
        conversion_factor: Decimal::new(3235, 2),
    };
    PolicyInForce {
        rvu: Some(TableInForce::new("d".repeat(64), RvuTable::from_rvus(vec![rvu]))),
        gpci: Some(TableInForce::new(
            "e".repeat(64),
            GpciTable::from_gpcis([(locality, Gpci { work: Decimal::ONE, practice_expense: Decimal::new(950, 3), malpractice: Decimal::new(800, 3) })]),
        )),
        zip_localities: Some(TableInForce::new("9".repeat(64), ZipLocalities::from_zips([(94110, locality)]))),
        ..PolicyInForce::default()
    }
}

#[test]
fn scenario_8_rbrvs_prices_by_the_service_zip_s_locality_and_the_place_of_service() {
    let mut office = claim(&[("99214", &[], "100.00", 1)]);
    office.service_zip = Some("94110".into());
    let decision = adjudicated(decided(&rbrvs(), vec![], &office));
    assert_eq!((decision.lines[0].allowed, decision.lines[0].adjustments.clone()), (money("81.52"), vec![co(Carc::FEE_SCHEDULE, "18.48")]));
    assert_eq!(decision.lines[0].steps[0].rule, "rbrvs");
    let mut facility = office.clone();
    facility.lines[0].place_of_service = Some(claimtrail_codes::PlaceOfService::parse("22").expect("a place of service"));
    assert_eq!(adjudicated(decided(&rbrvs(), vec![], &facility)).lines[0].allowed, money("60.01"));
}

#[test]
fn scenario_13_and_16_date_of_death_co_13_and_an_excluded_renderer_co_b7() {
    let excluded = Exclusion {
        last_name: "DOE".into(),
        first_name: "JOHN".into(),
        business_name: String::new(),
        npi: Some("1234567893".into()),
        birth_date: None,
        exclusion_type: "1128a1".into(),
        excluded: date!(2025 - 01 - 01),
        reinstated: None,
    };
    let policy = PolicyInForce { exclusions: Some(TableInForce::new("1".repeat(64), ExclusionList::from_rows(vec![excluded]))), ..priced_pair() };
    let decision = adjudicated(decided(&policy, vec![], &claim(&[("11042", &[], "150.00", 1)])));
    assert_eq!(decision.lines[0].adjustments, vec![co(Carc::PROVIDER_NOT_ELIGIBLE, "150.00")]);
    assert_eq!(decision.lines[0].steps[0].rule, "exclusion");
}

/// Domain file (c) 16: most LEIE rows carry no NPI; an individual renderer
/// matching one by last name, first name and birth date is pended, not denied.
#[test]
fn scenario_16_a_renderer_matching_an_leie_row_without_npi_by_name_and_birth_date_is_pended() {
    let row = Exclusion {
        last_name: "DOE".into(),
        first_name: "JOHN".into(),
        business_name: String::new(),
        npi: None,
        birth_date: Some(date!(1970 - 05 - 04)),
        exclusion_type: "1128b4".into(),
        excluded: date!(2025 - 01 - 01),
        reinstated: None,
    };
    let policy = PolicyInForce { exclusions: Some(TableInForce::new("1".repeat(64), ExclusionList::from_rows(vec![row]))), ..priced_pair() };
    let named = |born: Date| {
        move |registry: &mut RegistryFacts| {
            let provider = registry.provider.as_mut().expect("the fixture's billing provider");
            (provider.entity_type, provider.last_name, provider.first_name, provider.birth_date) =
                (Some(1), Some("Doe".into()), Some("John".into()), Some(born));
        }
    };
    let solo = claim(&[("11042", &[], "150.00", 1)]);
    let (reason, detail) = pend_reason(decided_with(&policy, vec![], &solo, named(date!(1970 - 05 - 04))));
    assert_eq!(reason, "possible-exclusion");
    assert!(detail.contains("OIG LEIE") && detail.contains("1128b4"), "{detail}");

    // Another birth date, or no name on the enrollment: no match, paid.
    let paid = adjudicated(decided_with(&policy, vec![], &solo, named(date!(1970 - 05 - 05))));
    assert_eq!(paid.lines[0].allowed, money("120.00"));
    assert_eq!(adjudicated(decided(&policy, vec![], &solo)).lines[0].allowed, money("120.00"));

    // A renderer other than the billing provider is matched on its own enrollment.
    let mut rendered = solo.clone();
    rendered.rendering_npi = Some(claimtrail_codes::Npi::parse("1003000126").expect("an NPI"));
    let renderer_named = |registry: &mut RegistryFacts| {
        let billing = registry.provider.clone().expect("the fixture's billing provider");
        registry.rendering_provider = Some(super::ProviderFacts {
            npi: "1003000126".into(),
            entity_type: Some(1),
            last_name: Some("DOE".into()),
            first_name: Some("JOHN".into()),
            birth_date: Some(date!(1970 - 05 - 04)),
            ..billing
        });
    };
    assert_eq!(pend_reason(decided_with(&policy, vec![], &rendered, renderer_named)).0, "possible-exclusion");
    // The billing provider's name does not stand for another renderer's.
    assert_eq!(adjudicated(decided_with(&policy, vec![], &rendered, named(date!(1970 - 05 - 04)))).lines[0].allowed, money("120.00"));
}

/// Member M1's approved authorization of one 70553 (an MRI) by the fixture's provider, from `start` to `end`.
fn mri_authorization(start: Date, end: Date) -> PriorAuthorization {
    PriorAuthorization {
        auth_number: "PA-1".into(),
        member_id: "M1".into(),
        provider_npi: "1234567893".into(),
        code: key("70553"),
        units: Decimal::ONE,
        start,
        end,
        status: AuthStatus::Approved,
    }
}

#[test]
fn a_rule_that_requires_a_prior_authorization_denies_co_197_without_an_approved_one() {
    let rules = rule_set(json!([{"_id": "mri", "i1": "'70553'", "o1": "'require_prior_authorization'"}]), switches(json!({})));
    let authorization = mri_authorization(date!(2026 - 10 - 01), date!(2026 - 12 - 31));
    let table = |rows| Some(TableInForce::new("2".repeat(64), PriorAuthorizations::from_rows(rows)));
    let base = PolicyInForce { fee_schedule: fees(vec![fee("70553", "400.00", None)]), rule_set: Some(rules), ..PolicyInForce::default() };
    let mri = claim(&[("70553", &[], "500.00", 1)]);
    let without = PolicyInForce { prior_authorizations: table(vec![]), ..base.clone() };
    assert_eq!(adjudicated(decided(&without, vec![], &mri)).lines[0].adjustments, vec![co(Carc::AUTHORIZATION_ABSENT, "500.00")]);
    let with = PolicyInForce { prior_authorizations: table(vec![authorization]), ..base };
    assert_eq!(adjudicated(decided(&with, vec![], &mri)).total_paid, money("400.00"));
    let mut other_number = mri.clone();
    other_number.prior_authorization = Some("PA-9".into());
    assert_eq!(adjudicated(decided(&with, vec![], &other_number)).lines[0].adjustments, vec![co(Carc::AUTHORIZATION_ABSENT, "500.00")]);
    // The member's earlier claim already used the authorization's one unit (paid or pended): CO-197.
    let earlier = |status: HistoryStatus| HistoryFact { service_date: date!(2026 - 10 - 15), ..history("70553", &[], "500.00", "1", status) };
    for status in [HistoryStatus::Paid, HistoryStatus::Pended] {
        let decision = adjudicated(decided(&with, vec![earlier(status)], &mri));
        assert_eq!(decision.lines[0].adjustments, vec![co(Carc::AUTHORIZATION_ABSENT, "500.00")], "{status:?}");
        assert!(decision.lines[0].steps.last().unwrap().detail.contains("has fewer than 1 units left"), "{:?}", decision.lines[0].steps);
    }
    // A denied earlier line, or one outside the authorization's dates, used none.
    assert_eq!(adjudicated(decided(&with, vec![earlier(HistoryStatus::Denied)], &mri)).total_paid, money("400.00"));
    let before = HistoryFact { service_date: date!(2026 - 09 - 30), ..earlier(HistoryStatus::Paid) };
    assert_eq!(adjudicated(decided(&with, vec![before], &mri)).total_paid, money("400.00"));
}

/// Domain file 8 (prior authorizations: codes/units over a date span): the
/// units count over the authorization's whole period, so the history a
/// decision reads reaches to the period's end, past the claim's last date of
/// service: a later-dated claim decided first used the unit.
#[test]
fn prior_authorization_units_count_over_the_authorization_s_whole_period() {
    let authorization = mri_authorization(date!(2025 - 06 - 01), date!(2027 - 03 - 31));
    let table = |rows| Some(TableInForce::new("2".repeat(64), PriorAuthorizations::from_rows(rows)));
    let mri = claim(&[("70553", &[], "500.00", 1)]);
    let reach = |policy: &PolicyInForce| super::HistoryReach::of(&mri, policy.prior_authorizations.as_ref().map(|table| &*table.table));
    assert!(super::HistoryReach::of(&mri, None).authorized.is_empty());
    let with = PolicyInForce { prior_authorizations: table(vec![authorization.clone()]), ..PolicyInForce::default() };
    assert_eq!(reach(&with).authorized, vec![("70553".to_owned(), date!(2025 - 06 - 01), date!(2027 - 03 - 31))], "the period's ends");
    // Authorizations that cannot approve the claim's lines do not widen it.
    for other in [
        PriorAuthorization { status: AuthStatus::Denied, ..authorization.clone() },
        PriorAuthorization { provider_npi: "1003000126".into(), ..authorization.clone() },
        PriorAuthorization { code: key("70551"), ..authorization.clone() },
        PriorAuthorization { member_id: "M2".into(), ..authorization.clone() },
        PriorAuthorization { start: DOS + time::Duration::days(1), ..authorization.clone() },
    ] {
        let policy = PolicyInForce { prior_authorizations: table(vec![other.clone()]), ..PolicyInForce::default() };
        assert!(reach(&policy).authorized.is_empty(), "{other:?}");
    }
    // A line dated after this claim, inside the period, used the one unit: CO-197.
    let rules = rule_set(json!([{"_id": "mri", "i1": "'70553'", "o1": "'require_prior_authorization'"}]), switches(json!({})));
    let policy = PolicyInForce { fee_schedule: fees(vec![fee("70553", "400.00", None)]), rule_set: Some(rules), ..with };
    let later = HistoryFact { service_date: date!(2026 - 11 - 03), ..history("70553", &[], "500.00", "1", HistoryStatus::Paid) };
    let decision = adjudicated(decided(&policy, vec![later], &mri));
    assert_eq!(decision.lines[0].adjustments, vec![co(Carc::AUTHORIZATION_ABSENT, "500.00")]);
    assert_eq!(adjudicated(decided(&policy, vec![], &mri)).total_paid, money("400.00"));
}

#[test]
fn rule_actions_deny_with_carc_and_rarc_reduce_by_a_percent_and_pend() {
    let rules = rule_set(
        json!([
            {"_id": "cosmetic", "i1": "'15780'", "o1": "'deny'", "o2": "'96'", "o3": "'N130'"},
            {"_id": "ten-off", "i1": "'99213'", "o1": "'reduce_percent'", "o5": "10"},
            {"_id": "review", "i1": "'J3490'", "o1": "'pend'", "o4": "'Unlisted drug: needs review'"}
        ]),
        switches(json!({})),
    );
    let policy = PolicyInForce {
        fee_schedule: fees(vec![fee("15780", "900.00", None), fee("99213", "120.00", None), fee("J3490", "10.00", None)]),
        rule_set: Some(rules.clone()),
        ..PolicyInForce::default()
    };
    let decision = adjudicated(decided(&policy, vec![], &claim(&[("15780", &[], "1000.00", 1), ("99213", &[], "180.00", 1)])));
    assert_eq!(
        (decision.lines[0].adjustments.clone(), decision.lines[0].remarks.clone()),
        (vec![co(Carc::NON_COVERED, "1000.00")], vec![Rarc::SEE_BENEFIT_DOCUMENTS])
    );
    // 120.00 less 10% = 108.00; CO-45 60.00 + 12.00.
    assert_eq!((decision.lines[1].allowed, decision.lines[1].adjustments.clone()), (money("108.00"), vec![co(Carc::FEE_SCHEDULE, "72.00")]));
    let step = decision.lines[1].steps.last().unwrap();
    assert_eq!((step.before, step.after), (money("120.00"), money("108.00")));
    assert!(step.source.as_deref().unwrap().ends_with("#Payer rules/ten-off"), "{step:?}");
    assert_eq!(decision.rule_set_hash, rules.content_hash());
    let (reason, detail) = pend_reason(decided(&policy, vec![], &claim(&[("J3490", &[], "50.00", 1)])));
    assert_eq!(reason, "pended-by-rule");
    assert!(detail.contains("Unlisted drug"), "{detail}");
}

#[test]
fn a_cell_that_fails_to_evaluate_pends_the_claim_with_the_rule_s_path() {
    let rules = rule_set(json!([{"_id": "by-revenue", "i1": "", "i2": "> 100", "o1": "'pend'", "o4": "'x'"}]), switches(json!({})));
    let policy = PolicyInForce { rule_set: Some(rules), ..priced_pair() };
    let (reason, detail) = pend_reason(decided(&policy, vec![], &claim(&[("11042", &[], "150.00", 1)])));
    assert_eq!(reason, "rule-evaluation-failed");
    assert!(detail.contains("by-revenue") && detail.contains("i2"), "{detail}");
}

#[test]
fn policy_switches_pend_thresholds_timely_filing_days_and_which_edits_apply() {
    let never = json!([{"_id": "never", "i1": "'ZZZZZ'", "o1": "'pend'", "o4": "'never'"}]);
    let bundled = claim(&[("11042", &[], "150.00", 1), ("97597", &[], "100.00", 1)]);
    let with = |policy: Value| PolicyInForce {
        ncci: ncci(vec![ptp("11042", "97597", ModifierIndicator::Allowed)]),
        rule_set: Some(rule_set(never.clone(), policy)),
        ..priced_pair()
    };
    assert_eq!(pend_reason(decided(&with(switches(json!({"pend_amount_over": "200.00"}))), vec![], &bundled)).0, "amount-over-threshold");
    assert_eq!(pend_reason(decided(&with(switches(json!({"pend_codes": ["97597"]}))), vec![], &bundled)).0, "code-pended-by-policy");
    let no_ncci = switches(json!({"standard_edits": ["coverage", "timely_filing"]}));
    assert_eq!(adjudicated(decided(&with(no_ncci), vec![], &bundled)).total_paid, money("200.00"));
    // Received 2026-11-05, served 2026-11-01: 4 days, over a 3-day limit.
    let decision = adjudicated(decided(&with(switches(json!({"timely_filing_days": 3}))), vec![], &bundled));
    assert_eq!(decision.lines[0].adjustments, vec![co(Carc::TIMELY_FILING, "150.00")]);
}

/// An 837I stay of the fixture's billing provider: (revenue code, charge, units), admitted 2026-10-28, discharged 2026-11-01.
fn stay(drg: Option<&str>, lines: &[(&str, &str, i64)]) -> SubmittedClaim {
    let mut claim = fixtures::claim(Frequency::Original, None, lines);
    claim.claim_type = claimtrail_events::ClaimType::Institutional;
    claim.drg = drg.map(str::to_owned);
    claim.admission_date = Some(date!(2026 - 10 - 28));
    claim.statement_from = Some(date!(2026 - 10 - 28));
    claim.statement_to = Some(date!(2026 - 11 - 01));
    for line in &mut claim.lines {
        line.revenue_code = Some(claimtrail_codes::RevenueCode::parse(&line.procedure_code).expect("a revenue code"));
        line.place_of_service = None;
    }
    claim
}

fn institutional() -> PolicyInForce {
    let contracts = "contract_id,code_from,code_to,method,rate,effective_date,end_date,billing_npi\n\
H-1,001,999,drg,6500.00,20251001,,1234567893\n\
H-1,0100,0219,per_diem,,20260101,,1234567893\n\
DEFAULT,0300,0399,percent_of_charge,55,20260101,,\n";
    PolicyInForce {
        contracts: Some(TableInForce::new("3".repeat(64), claimtrail_policy::Contracts::load(contracts.as_bytes()).unwrap())),
        drg_weights: Some(TableInForce::new(
            "4".repeat(64),
            claimtrail_policy::DrgWeights::load("drg,weight,effective_date,end_date\n470,1.9047,20251001,\n".as_bytes()).unwrap(),
        )),
        per_diems: Some(TableInForce::new(
            "5".repeat(64),
            claimtrail_policy::PerDiems::load("basis,key,rate,effective_date,end_date\nrevenue_code,0120,1250.50,20260101,\n".as_bytes()).unwrap(),
        )),
        ..PolicyInForce::default()
    }
}

#[test]
fn an_inpatient_stay_with_a_drg_is_paid_weight_times_the_contract_s_base_rate_lesser_of_billed() {
    // Billed 15,000.00; DRG 470: 1.9047 x 6500.00 = 12,380.55, shared by charge: 8,253.70 and 4,126.85.
    let decision = adjudicated(decided(&institutional(), vec![], &stay(Some("470"), &[("0120", "10000.00", 4), ("0250", "5000.00", 10)])));
    assert_eq!(decision.total_allowed, money("12380.55"));
    assert_eq!((decision.lines[0].allowed, decision.lines[1].allowed), (money("8253.70"), money("4126.85")));
    assert_eq!(decision.lines[0].adjustments, vec![co(Carc::FEE_SCHEDULE, "1746.30")]);
    let step = &decision.lines[0].steps[0];
    assert_eq!((step.rule.as_str(), step.source.as_deref()), ("drg", Some(&*format!("drg-weights:{}#470", "4".repeat(64)))));
    assert!(step.detail.contains("contract H-1 pays DRG 470"), "{step:?}");
    // Billed under the DRG amount: allowed what was billed.
    let cheap = adjudicated(decided(&institutional(), vec![], &stay(Some("470"), &[("0120", "9000.00", 4)])));
    assert_eq!((cheap.total_allowed, cheap.lines[0].adjustments.clone()), (money("9000.00"), vec![]));
}

#[test]
fn an_inpatient_stay_without_a_drg_is_paid_per_diem_for_its_room_days_and_percent_of_charge_for_the_rest() {
    // Admitted 10-28, discharged 11-01: 4 days (5 billed). 1,250.50 x 4 = 5,002.00; 55% of 300.00 = 165.00.
    let decision = adjudicated(decided(&institutional(), vec![], &stay(None, &[("0120", "6000.00", 5), ("0300", "300.00", 1)])));
    assert_eq!((decision.lines[0].allowed, decision.lines[0].adjustments.clone()), (money("5002.00"), vec![co(Carc::FEE_SCHEDULE, "998.00")]));
    assert_eq!(decision.lines[0].steps[0].rule, "per-diem");
    assert_eq!((decision.lines[1].allowed, decision.lines[1].steps[0].rule.as_str()), (money("165.00"), "percent-of-charge"));
    // A DRG the weights do not hold: the stay is not covered, CO-96.
    let unknown = adjudicated(decided(&institutional(), vec![], &stay(Some("871"), &[("0120", "6000.00", 5)])));
    assert_eq!(unknown.lines[0].adjustments, vec![co(Carc::NON_COVERED, "6000.00")]);
}

/// The per diem basis chosen by the claim's type of bill (837I CLM05, FHIR
/// `supportingInfo[typeofbill]`): a `type_of_bill` rate prices the whole
/// stay; without one the revenue-code basis prices line by line. The record
/// keeps the rate row read, so the decision replays (checked by `decided`).
#[test]
fn an_inpatient_stay_whose_type_of_bill_has_a_per_diem_rate_is_paid_rate_times_its_days() {
    let mut policy = institutional();
    policy.per_diems = Some(TableInForce::new(
        "5".repeat(64),
        claimtrail_policy::PerDiems::load(
            "basis,key,rate,effective_date,end_date\nrevenue_code,0120,1250.50,20260101,\ntype_of_bill,11X,900.00,20260101,\n".as_bytes(),
        )
        .unwrap(),
    ));
    // Admitted 10-28, discharged 11-01: 4 days. 900.00 x 4 = 3,600.00 of 6,300.00 billed, shared by charge.
    let mut claim = stay(None, &[("0120", "6000.00", 5), ("0300", "300.00", 1)]);
    claim.type_of_bill = Some("111".into());
    let decision = adjudicated(decided(&policy, vec![], &claim));
    assert_eq!((decision.lines[0].allowed, decision.lines[1].allowed), (money("3428.57"), money("171.43")));
    assert_eq!(decision.lines[0].steps[0].rule, "per-diem-type-of-bill");
    assert_eq!(decision.lines[0].steps[0].source.as_deref(), Some(format!("per-diems:{}#111", "5".repeat(64)).as_str()));
    // An outpatient type of bill without a rate: the revenue-code basis, as before.
    claim.type_of_bill = Some("131".into());
    let decision = adjudicated(decided(&policy, vec![], &claim));
    assert_eq!((decision.lines[0].allowed, decision.lines[0].steps[0].rule.as_str()), (money("5002.00"), "per-diem"));
}

#[test]
fn the_rule_set_s_multiple_procedure_switch_off_pays_every_procedure_in_full() {
    let never = json!([{"_id": "never", "i1": "'ZZZZZ'", "o1": "'pend'", "o4": "'never'"}]);
    let edits = json!({"standard_edits": ["coverage", "death", "timely_filing", "enrollment", "duplicate", "ncci", "mue"]});
    let policy = PolicyInForce {
        fee_schedule: fees(vec![fee("27447", "800.00", Some(2)), fee("27446", "500.00", Some(2))]),
        rule_set: Some(rule_set(never, switches(edits))),
        ..PolicyInForce::default()
    };
    let decision = adjudicated(decided(&policy, vec![], &claim(&[("27446", &[], "600.00", 1), ("27447", &[], "1000.00", 1)])));
    assert_eq!((decision.lines[0].allowed, decision.lines[0].adjustments.clone()), (money("500.00"), vec![co(Carc::FEE_SCHEDULE, "100.00")]));
    assert_eq!(decision.total_allowed, money("1300.00"));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    const CODES: [&str; 4] = ["11042", "97597", "82374", "99213"];

    fn tables(pairs: &[(usize, usize, u8)], mues: &[(usize, u32, u8)], priced: &[(usize, i64)], reduce: bool) -> PolicyInForce {
        let indicator = |n: u8| match n % 3 {
            0 => ModifierIndicator::NotAllowed,
            1 => ModifierIndicator::Allowed,
            _ => ModifierIndicator::NotApplicable,
        };
        let mai = |n: u8| match n % 3 {
            0 => MueIndicator::Line,
            1 => MueIndicator::DateOfServicePolicy,
            _ => MueIndicator::DateOfServiceClinical,
        };
        let mut seen = std::collections::BTreeSet::new();
        let mue_rows = mues
            .iter()
            .filter(|(code, _, _)| seen.insert(*code))
            .map(|(code, max, n)| Mue { code: key(CODES[*code]), units_max: *max, indicator: mai(*n) })
            .collect();
        PolicyInForce {
            ncci: ncci(pairs.iter().filter(|(a, b, _)| a != b).map(|(a, b, n)| ptp(CODES[*a], CODES[*b], indicator(*n))).collect()),
            mue: Some(TableInForce::new("b".repeat(64), MueTable::from_mues(Setting::Practitioner, mue_rows))),
            fee_schedule: fees(priced.iter().map(|(code, cents)| Fee { per_unit: Money::from_cents(*cents), ..fee(CODES[*code], "1.00", Some(2)) }).collect()),
            rule_set: reduce
                .then(|| rule_set(json!([{"_id": "cap", "i1": "'99213'", "o1": "'reduce_to'", "o6": "50"}]), switches(json!({"mue_action": "reduce"})))),
            ..PolicyInForce::default()
        }
    }

    fn random_claim(lines: &[(usize, i64, i64, bool)]) -> SubmittedClaim {
        let rows: Vec<(&str, &[&str], String, i64)> = lines
            .iter()
            .map(|(code, cents, units, m59)| (CODES[*code], if *m59 { &["59"][..] } else { &[][..] }, Money::from_cents(*cents).to_string(), *units))
            .collect();
        let borrowed: Vec<(&str, &[&str], &str, i64)> =
            rows.iter().map(|(code, modifiers, charge, units)| (*code, *modifiers, charge.as_str(), *units)).collect();
        claim(&borrowed)
    }

    fn random_history(rows: &[(usize, i64, i64, u8)]) -> Vec<HistoryFact> {
        rows.iter()
            .enumerate()
            .map(|(row_idx, (code, cents, units, status))| HistoryFact {
                claim_id: Uuid::from_u128(100 + row_idx as u128 / 2),
                sequence: row_idx as u32 + 1,
                units: units.to_string(),
                charge: Money::from_cents(*cents),
                ..history(CODES[*code], &[], "0.00", "1", [HistoryStatus::Paid, HistoryStatus::Pended, HistoryStatus::Denied][*status as usize % 3])
            })
            .collect()
    }

    fn payloads(policy: &PolicyInForce, history: &[HistoryFact], claims: &[SubmittedClaim]) -> Vec<Vec<u8>> {
        let schedule = legacy();
        claims
            .iter()
            .map(|claim| {
                let mut facts = fixtures::facts(&schedule, DecisionState::Undecided);
                facts.policy = Some(policy);
                facts.history = history.to_vec();
                decide(&facts, &Command::Adjudicate(claim.clone())).unwrap().last().unwrap().canonical_payload().unwrap()
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Random claims against random tables: decided, recorded (only the
        /// rows read), read back from canonical bytes, replayed on the small
        /// tables the record rebuilds, compared byte for byte.
        #[test]
        fn any_decision_under_policy_replays_byte_identical_from_its_record(
            pairs in proptest::collection::vec((0usize..4, 0usize..4, 0u8..3), 0..6),
            mues in proptest::collection::vec((0usize..4, 1u32..4, 0u8..3), 0..4),
            priced in proptest::collection::vec((0usize..4, 1i64..100_000), 0..4),
            reduce in proptest::bool::ANY,
            lines in proptest::collection::vec((0usize..4, 0i64..100_000, 1i64..5, proptest::bool::ANY), 1..6),
            earlier in proptest::collection::vec((0usize..4, 0i64..100_000, 1i64..4, 0u8..3), 0..5),
        ) {
            let policy = tables(&pairs, &mues, &priced, reduce);
            let claim = random_claim(&lines);
            let history = random_history(&earlier);
            let schedule = legacy();
            let mut facts = fixtures::facts(&schedule, DecisionState::Undecided);
            facts.policy = Some(&policy);
            facts.history = history;
            let events = decide(&facts, &Command::Adjudicate(claim.clone())).unwrap();
            let bytes = to_canonical_vec(&DecisionRecord::of(&facts, &claim, "riverside")).unwrap();
            let record: DecisionRecord = serde_json::from_slice(&bytes).unwrap();
            prop_assert_eq!(to_canonical_vec(&record).unwrap(), bytes);
            prop_assert_eq!(fixtures::replayed(&record, Some(&policy)).unwrap().last().unwrap().canonical_payload().unwrap(), events.last().unwrap().canonical_payload().unwrap());
        }

        /// The same claims decided in one batch (one policy assembled once and
        /// shared) or split in two batches (each assembling its own from the
        /// same versions, as the consumer's per-batch cache does) decide the same.
        #[test]
        fn two_batch_splits_give_the_same_decisions(
            pairs in proptest::collection::vec((0usize..4, 0usize..4, 0u8..3), 0..6),
            mues in proptest::collection::vec((0usize..4, 1u32..4, 0u8..3), 0..4),
            priced in proptest::collection::vec((0usize..4, 1i64..100_000), 0..4),
            claims in proptest::collection::vec(proptest::collection::vec((0usize..4, 0i64..100_000, 1i64..5, proptest::bool::ANY), 1..4), 1..6),
            split in 0usize..6,
            earlier in proptest::collection::vec((0usize..4, 0i64..100_000, 1i64..4, 0u8..3), 0..4),
        ) {
            let claims: Vec<SubmittedClaim> = claims.iter().map(|lines| random_claim(lines)).collect();
            let history = random_history(&earlier);
            let whole = payloads(&tables(&pairs, &mues, &priced, false), &history, &claims);
            let split = split.min(claims.len());
            let mut parts = payloads(&tables(&pairs, &mues, &priced, false), &history, &claims[..split]);
            parts.extend(payloads(&tables(&pairs, &mues, &priced, false), &history, &claims[split..]));
            prop_assert_eq!(whole, parts);
        }
    }
}
