//! Given/when/then, one test per rule of the fraud core.

use std::collections::BTreeMap;

use claimtrail_events::{ClaimFingerprints, ClaimSubmitted, InclusionProof, SubmittedClaim, Timestamp};
use claimtrail_fraud::{Evidence, Finding, Pattern};
use time::macros::date;
use uuid::Uuid;

use super::claim::ScannedClaim;
use super::*;

const CLAIM_A: Uuid = Uuid::from_u128(0xa);
const CLAIM_A2: Uuid = Uuid::from_u128(0xa2);
const CLAIM_B: Uuid = Uuid::from_u128(0xb);
const ALERT: Uuid = Uuid::from_u128(0xa1e);

fn check(given: Facts, when: Command, then: impl FnOnce(Result<Vec<Event>, Rejection>)) {
    then(decide(&given, &when));
}

fn evidence(claim_id: Uuid, payer_id: &str, ledger_index: u64) -> Evidence {
    Evidence { ledger_index, claim_id, payer_id: payer_id.into() }
}

fn proof(tree_size: u64) -> InclusionProof {
    InclusionProof { tree_size, hashes: vec!["aGFzaA==".into()] }
}

fn duplicate_of(pattern: Pattern, flagged: (Uuid, &str, u64), original: (Uuid, &str, u64)) -> Finding {
    Finding {
        pattern,
        claim_ids: vec![flagged.0],
        duplicates: Some(original.0),
        npi: Some("1245319599".into()),
        date: Some(date!(2026 - 11 - 02)),
        score: 0.97,
        evidence: vec![evidence(flagged.0, flagged.1, flagged.2), evidence(original.0, original.1, original.2)],
        reason: format!("same service as claim {}", original.0),
    }
}

fn raised(then: Result<Vec<Event>, Rejection>) -> Vec<claimtrail_events::FraudAlertRaised> {
    then.unwrap()
        .into_iter()
        .map(|event| match event {
            Event::Raised(alert) => alert,
            other => panic!("not raised: {other:?}"),
        })
        .collect()
}

#[test]
fn a_duplicate_within_one_payer_is_one_alert_naming_both_claims_with_their_proofs() {
    let facts = Facts { proofs: BTreeMap::from([(3, proof(10)), (7, proof(10))]), ..Facts::default() };
    check(facts, Command::Raise { findings: vec![duplicate_of(Pattern::ExactDuplicate, (CLAIM_A2, "PA", 7), (CLAIM_A, "PA", 3))] }, |then| {
        let [alert] = raised(then).try_into().unwrap();
        assert_eq!((alert.payer_id.as_str(), alert.pattern.as_str(), alert.score_permille), ("PA", "exact_duplicate", 970));
        assert_eq!(alert.claim_ids, [CLAIM_A2, CLAIM_A]);
        assert!(alert.evidence.iter().all(|e| !e.other_payer && e.claim_id.is_some() && e.inclusion_proof == Some(proof(10))));
        assert_eq!(alert.evidence.iter().map(|e| e.ledger_index).collect::<Vec<_>>(), [7, 3]);
        assert!(alert.reason.contains("same service"));
    });
}

#[test]
fn a_cross_payer_duplicate_raises_one_alert_per_payer_each_redacting_the_other_payers_claim() {
    let facts = Facts { proofs: BTreeMap::from([(3, proof(10)), (7, proof(10))]), ..Facts::default() };
    check(facts, Command::Raise { findings: vec![duplicate_of(Pattern::CrossPayerDuplicate, (CLAIM_B, "PB", 7), (CLAIM_A, "PA", 3))] }, |then| {
        let alerts = raised(then);
        assert_eq!(alerts.len(), 2);
        for alert in &alerts {
            let (own, other) = if alert.payer_id == "PA" { (CLAIM_A, CLAIM_B) } else { (CLAIM_B, CLAIM_A) };
            assert_eq!(alert.claim_ids, [own], "{alert:?}");
            let text = serde_json::to_string(alert).unwrap();
            assert!(!text.contains(&other.to_string()), "the other payer's claim leaks: {text}");
            assert!(!text.contains(if alert.payer_id == "PA" { "PB" } else { "PA" }), "the other payer leaks: {text}");
            let redacted = alert.evidence.iter().find(|e| e.other_payer).unwrap();
            assert_eq!((redacted.claim_id, &redacted.inclusion_proof, redacted.pattern.as_str()), (None, &None, "cross_payer_duplicate"));
            assert!(alert.reason.is_empty(), "the detector's words may name the other claim");
        }
    });
}

#[test]
fn only_the_flagged_claim_of_the_alerts_payer_is_marked_flagged_never_the_original_nor_another_payers() {
    let facts = Facts { proofs: BTreeMap::from([(3, proof(10)), (7, proof(10))]), ..Facts::default() };
    check(facts.clone(), Command::Raise { findings: vec![duplicate_of(Pattern::ExactDuplicate, (CLAIM_A2, "PA", 7), (CLAIM_A, "PA", 3))] }, |then| {
        let [alert] = raised(then).try_into().unwrap();
        let flagged: Vec<Option<Uuid>> = alert.evidence.iter().filter(|e| e.flagged).map(|e| e.claim_id).collect();
        assert_eq!(flagged, [Some(CLAIM_A2)], "{alert:?}");
    });
    check(facts, Command::Raise { findings: vec![duplicate_of(Pattern::CrossPayerDuplicate, (CLAIM_B, "PB", 7), (CLAIM_A, "PA", 3))] }, |then| {
        for alert in raised(then) {
            let flagged: Vec<Option<Uuid>> = alert.evidence.iter().filter(|e| e.flagged).map(|e| e.claim_id).collect();
            // Payer B's claim is the second bill; payer A's alert flags nothing of its own, and says nothing of B's.
            let expected: Vec<Option<Uuid>> = if alert.payer_id == "PB" { vec![Some(CLAIM_B)] } else { vec![] };
            assert_eq!(flagged, expected, "{alert:?}");
        }
    });
}

#[test]
fn a_provider_level_finding_without_evidence_goes_to_every_payer_the_provider_bills() {
    let finding = Finding {
        pattern: Pattern::Upcoding,
        claim_ids: vec![],
        duplicates: None,
        npi: Some("1245319599".into()),
        date: None,
        score: 1.7,
        evidence: vec![],
        reason: "E/M levels above peers".into(),
    };
    let facts = Facts { provider_payers: BTreeMap::from([("1245319599".into(), vec!["PA".into(), "PB".into()])]), ..Facts::default() };
    check(facts, Command::Raise { findings: vec![finding] }, |then| {
        let alerts = raised(then);
        assert_eq!(alerts.iter().map(|a| a.payer_id.as_str()).collect::<Vec<_>>(), ["PA", "PB"]);
        assert!(alerts.iter().all(|a| a.claim_ids.is_empty() && a.score_permille == 1000 && a.npi == "1245319599"));
    });
}

#[test]
fn the_same_finding_for_the_same_payer_always_gets_the_same_alert_id() {
    let finding = duplicate_of(Pattern::ExactDuplicate, (CLAIM_A2, "PA", 7), (CLAIM_A, "PA", 3));
    assert_eq!(alerts::alert_id(&finding, "PA"), alerts::alert_id(&finding.clone(), "PA"));
    assert_ne!(alerts::alert_id(&finding, "PA"), alerts::alert_id(&finding, "PB"));
    let mut other = finding.clone();
    other.pattern = Pattern::NearDuplicate;
    assert_ne!(alerts::alert_id(&finding, "PA"), alerts::alert_id(&other, "PA"));
}

#[test]
fn a_score_outside_zero_to_one_is_clamped_and_nan_is_zero() {
    assert_eq!(
        (alerts::score_permille(-0.2), alerts::score_permille(0.5004), alerts::score_permille(3.0), alerts::score_permille(f64::NAN)),
        (0, 500, 1000, 0)
    );
}

#[test]
fn an_open_alert_is_acknowledged() {
    check(Facts { alert: Some(("PA".into(), AlertStatus::Open)), ..Facts::default() }, Command::Acknowledge { alert_id: ALERT, by: "inv".into() }, |then| {
        let events = then.unwrap();
        let [Event::Acknowledged(event)] = events.as_slice() else { panic!("not acknowledged") };
        assert_eq!((event.alert_id, event.payer_id.as_str(), event.by.as_str()), (ALERT, "PA", "inv"));
    });
}

#[test]
fn an_unknown_alert_is_refused() {
    check(Facts::default(), Command::Acknowledge { alert_id: ALERT, by: "inv".into() }, |then| assert_eq!(then, Err(Rejection::UnknownAlert(ALERT))));
}

#[test]
fn an_acknowledged_alert_is_closed_with_its_outcome_and_reason() {
    let close =
        Command::Close { alert_id: ALERT, outcome: Outcome::FalsePositive, reason: "  same-day visit, two distinct services ".into(), by: "inv".into() };
    check(Facts { alert: Some(("PA".into(), AlertStatus::Acknowledged)), ..Facts::default() }, close, |then| {
        let events = then.unwrap();
        let [Event::Closed(event)] = events.as_slice() else { panic!("not closed") };
        assert_eq!((event.outcome.as_str(), event.reason.as_str()), ("false_positive", "same-day visit, two distinct services"));
        assert_eq!(apply(Some(AlertStatus::Acknowledged), &events[0]), Some(AlertStatus::Closed(Outcome::FalsePositive)));
    });
}

#[test]
fn a_closed_alert_names_the_claims_it_flagged_for_settlements_recoupment() {
    let facts = Facts { alert: Some(("PA".into(), AlertStatus::Open)), flagged_claims: vec![CLAIM_A2], ..Facts::default() };
    check(facts, Command::Close { alert_id: ALERT, outcome: Outcome::Confirmed, reason: "billed twice".into(), by: "inv".into() }, |then| {
        let events = then.unwrap();
        let [Event::Closed(event)] = events.as_slice() else { panic!("not closed") };
        assert_eq!(event.claim_ids, [CLAIM_A2]);
    });
}

#[test]
fn a_closed_alert_cannot_be_acknowledged_or_closed_again() {
    let closed = || Facts { alert: Some(("PA".into(), AlertStatus::Closed(Outcome::Confirmed))), ..Facts::default() };
    check(closed(), Command::Acknowledge { alert_id: ALERT, by: "inv".into() }, |then| {
        assert_eq!(then, Err(Rejection::AlreadyClosed { alert_id: ALERT, status: "confirmed" }));
    });
    check(closed(), Command::Close { alert_id: ALERT, outcome: Outcome::FalsePositive, reason: "changed my mind".into(), by: "inv".into() }, |then| {
        assert_eq!(then, Err(Rejection::AlreadyClosed { alert_id: ALERT, status: "confirmed" }));
    });
}

#[test]
fn closing_needs_a_reason_of_at_most_two_thousand_characters() {
    let open = || Facts { alert: Some(("PA".into(), AlertStatus::Open)), ..Facts::default() };
    let close = |reason: String| Command::Close { alert_id: ALERT, outcome: Outcome::Confirmed, reason, by: "inv".into() };
    check(open(), close("   ".into()), |then| assert_eq!(then, Err(Rejection::ReasonMissing)));
    check(open(), close("x".repeat(2_001)), |then| assert_eq!(then, Err(Rejection::ReasonTooLong { len: 2_001, max: 2_000 })));
    check(open(), close("x".repeat(2_000)), |then| assert!(then.is_ok()));
}

#[test]
fn outcomes_and_statuses_round_trip_through_their_names() {
    for status in [AlertStatus::Open, AlertStatus::Acknowledged, AlertStatus::Closed(Outcome::Confirmed), AlertStatus::Closed(Outcome::FalsePositive)] {
        assert_eq!(AlertStatus::parse(status.as_str()), Some(status));
    }
    assert!("fraud".parse::<Outcome>().unwrap_err().contains("confirmed or false_positive"));
}

fn submitted(fingerprints: Vec<ClaimFingerprints>) -> ClaimSubmitted {
    let claim: SubmittedClaim = serde_json::from_value(serde_json::json!({
        "claim_id": CLAIM_A, "claim_type": "professional", "frequency": "original", "related_claim_id": null,
        "patient_control_number": "PCN-1", "billing_npi": "1245319599", "rendering_npi": null, "payer_id": "PA", "member_id": "MBR-1",
        "diagnoses": [{"sequence": 1, "code": "J069"}],
        "lines": [{"sequence": 1, "procedure_code": "99213", "modifiers": ["25"], "quantity": "1.5", "charge": "120.00",
                   "service_date": "2026-11-02", "place_of_service": "11", "diagnosis_pointers": [1]}],
        "total_charge": "120.00"
    }))
    .unwrap();
    ClaimSubmitted {
        claim,
        submitter: "riverside".into(),
        channel: "fhir".into(),
        received_at: Timestamp::parse("2026-11-03T10:00:00.000000Z").unwrap(),
        submission_signature: None,
        fingerprints,
    }
}

fn fingerprints(key_id: u32, byte: u8) -> ClaimFingerprints {
    ClaimFingerprints { key_id, person: hex::encode([byte; 32]), lines: vec![hex::encode([byte + 1; 32])] }
}

#[test]
fn a_claim_is_read_with_whole_units_cents_and_the_fingerprints_of_the_matching_key() {
    let claim = ScannedClaim::of(&submitted(vec![fingerprints(1, 1), fingerprints(2, 5)]), Some(2)).unwrap();
    let facts = claim.facts(42);
    assert_eq!((facts.ledger_index, facts.payer_id.as_str(), facts.member_id.as_str(), facts.fingerprint_key_id), (42, "PA", "MBR-1", Some(2)));
    assert_eq!(facts.person, Some([5; 32]));
    let [line] = facts.lines.as_slice() else { panic!("one line") };
    assert_eq!((line.code.as_str(), line.units, line.charge_cents, line.fingerprint), ("99213", 2, 12_000, Some([6; 32])));
    assert_eq!(facts.received, date!(2026 - 11 - 03));
}

#[test]
fn a_claim_without_the_matching_keys_fingerprints_has_none() {
    let facts = ScannedClaim::of(&submitted(vec![fingerprints(1, 1)]), Some(2)).unwrap().facts(0);
    assert_eq!((facts.person, facts.fingerprint_key_id, facts.lines[0].fingerprint), (None, None, None));
}

#[test]
fn fingerprints_that_do_not_match_the_lines_are_refused() {
    let mut wrong = fingerprints(1, 1);
    wrong.lines.push(hex::encode([9u8; 32]));
    assert!(matches!(ScannedClaim::of(&submitted(vec![wrong]), None), Err(claim::ClaimError::FingerprintCount { n_fingerprints: 2, n_lines: 1, .. })));
    let mut short = fingerprints(1, 1);
    short.person = "abcd".into();
    assert!(matches!(ScannedClaim::of(&submitted(vec![short]), None), Err(claim::ClaimError::Fingerprint { .. })));
}
