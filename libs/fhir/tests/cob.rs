//! Coordination of benefits from `Claim.insurance`: this payer's place and
//! the earlier payers' ClaimResponses, mapped into the claim's `cob`, with
//! the front-end edits and the refusals at their paths.

mod common;

use claimtrail_codes::{Carc, GroupCode};
use claimtrail_events::{Adjustment, Money, PayerSequence};
use claimtrail_fhir::claim_response;
use common::*;
use serde_json::{Value, json};

fn money(text: &str) -> Money {
    Money::parse(text).unwrap()
}

const ADJUDICATION: &str = "http://terminology.hl7.org/CodeSystem/adjudication";
const CARC: &str = "https://x12.org/codes/claim-adjustment-reason-codes";

fn amount(value: f64) -> Value {
    json!({"value": value, "currency": "USD"})
}

/// The professional fixture sent to payer 60054 as the secondary, after Medicare's `response`.
fn secondary(response: Value) -> Value {
    let mut claim = professional_claim();
    claim["contained"].as_array_mut().unwrap().extend([
        response,
        json!({"resourceType": "Coverage", "id": "medicare", "status": "active", "subscriberId": "1EG4TE5MK73",
               "beneficiary": {"reference": "#patient"}, "payor": [{"identifier": {"value": "MEDICARE01"}}]}),
    ]);
    claim["insurance"] = json!([
        {"sequence": 2, "focal": true, "coverage": {"reference": "#coverage"}},
        {"sequence": 1, "focal": false, "coverage": {"reference": "#medicare"}, "claimResponse": {"reference": "#primary"}}
    ]);
    claim
}

/// Medicare's decision of the fixture's three lines (120.00, 25.00, 10.00): line 1 paid 70 with PR-1 20 and CO-45 30 (by category only),
/// line 2 paid 25, line 3 paid 0 with CO-97 10.
fn medicare() -> Value {
    let adjudication = |code: &str, value: f64| json!({"category": {"coding": [{"system": ADJUDICATION, "code": code}]}, "amount": amount(value)});
    let carc = |category: &str, reason: &str, text: Option<&str>, value: f64| {
        let mut reason = json!({"coding": [{"system": CARC, "code": reason}]});
        if let Some(text) = text {
            reason["text"] = json!(text);
        }
        json!({"category": {"coding": [{"system": ADJUDICATION, "code": category}]}, "reason": reason, "amount": amount(value)})
    };
    json!({"resourceType": "ClaimResponse", "id": "primary", "status": "active", "use": "claim", "outcome": "complete",
        "insurer": {"identifier": {"value": "MEDICARE01"}},
        "item": [
            {"itemSequence": 1, "adjudication": [adjudication("submitted", 120.0), carc("deductible", "1", None, 20.0), carc("eligible", "45", Some("CO-45"), 30.0), adjudication("benefit", 70.0)]},
            {"itemSequence": 2, "adjudication": [adjudication("benefit", 25.0)]},
            {"itemSequence": 3, "adjudication": [carc("noncovered", "97", Some("CO-97"), 10.0), adjudication("benefit", 0.0)]}
        ],
        "payment": {"amount": amount(95.0)}})
}

#[test]
fn the_focal_insurance_s_sequence_and_the_earlier_payer_s_claim_response_give_the_claim_s_cob() {
    let claim = mapped(&secondary(medicare()));
    assert!(claim.issues.is_empty(), "{:?}", claim.issues);
    assert_eq!(claim.claim.payer_id, "60054", "the focal insurance is still the payer");
    let cob = claim.claim.cob.as_ref().expect("cob");
    assert_eq!(cob.sequence, PayerSequence::Secondary);
    let [primary] = cob.prior_payers.as_slice() else { panic!("{cob:?}") };
    assert_eq!((primary.sequence, primary.payer_id.as_str(), primary.paid), (PayerSequence::Primary, "MEDICARE01", money("95.00")));
    let lines: Vec<(u32, Money, Vec<Adjustment>)> = primary.lines.iter().map(|line| (line.sequence, line.paid, line.adjustments.clone())).collect();
    let adjustment = |group, reason: &str, value: &str| Adjustment { group, reason: Carc::parse(reason).unwrap(), amount: money(value) };
    assert_eq!(
        lines,
        vec![
            (1, money("70.00"), vec![adjustment(GroupCode::Pr, "1", "20.00"), adjustment(GroupCode::Co, "45", "30.00")]),
            (2, money("25.00"), vec![]),
            (3, Money::ZERO, vec![adjustment(GroupCode::Co, "97", "10.00")]),
        ]
    );
    // The claim parses with it, and a claim to its primary payer carries none.
    assert_eq!(claim.clone().with_id(uuid::Uuid::now_v7()).parse().unwrap().cob, claim.claim.cob);
    assert_eq!(mapped(&professional_claim()).claim.cob, None);
}

#[test]
fn a_claim_response_claimtrail_wrote_as_the_primary_reads_back_as_the_primary_s_decision() {
    // Claimtrail as the primary decided the fixture; its ClaimResponse goes with the secondary claim as it is.
    let as_read = mapped(&professional_claim()).with_id(uuid::Uuid::now_v7()).parse().unwrap();
    let line = |sequence: u32, charge: &str, paid: &str, adjustments: Vec<Adjustment>| claimtrail_events::LineDecision {
        sequence,
        procedure_code: "X".into(),
        charge: money(charge),
        allowed: money(paid),
        paid: money(paid),
        patient_responsibility: Money::ZERO,
        adjustments,
        remarks: vec![],
        explanation: vec![],
        steps: vec![],
    };
    let pr_2 = Adjustment { group: GroupCode::Pr, reason: Carc::COINSURANCE, amount: money("18.40") };
    let co_45 = Adjustment { group: GroupCode::Co, reason: Carc::FEE_SCHEDULE, amount: money("28.00") };
    let decided = claimtrail_events::ClaimAdjudicated {
        claim_id: as_read.claim_id,
        payer_id: "MEDICARE01".into(),
        billing_npi: "1245319599".into(),
        outcome: claimtrail_events::Outcome::Paid,
        rule_set_hash: "ab".repeat(32),
        lines: vec![line(1, "120.00", "73.60", vec![co_45, pr_2.clone()]), line(2, "25.00", "25.00", vec![]), line(3, "10.00", "10.00", vec![])],
        total_charge: money("155.00"),
        total_allowed: money("127.00"),
        total_paid: money("108.60"),
        total_patient_responsibility: money("18.40"),
    };
    let mut response = claim_response(&decided, &as_read, "2026-02-20T10:00:00Z");
    response["id"] = json!("primary");
    let claim = mapped(&secondary(response));
    assert!(claim.issues.is_empty(), "{:?}", claim.issues);
    let primary = &claim.claim.cob.as_ref().unwrap().prior_payers[0];
    assert_eq!((primary.payer_id.as_str(), primary.paid), ("MEDICARE01", money("108.60")));
    assert_eq!(primary.lines[0].adjustments[1], pr_2, "PR-2 keeps its group through reason.text");
}

#[test]
fn cob_faults_are_issues_or_errors_at_their_paths() {
    // An earlier payer whose line does not balance: the claim is rejected with the item's path.
    let mut unbalanced = medicare();
    unbalanced["item"][1]["adjudication"][0]["amount"]["value"] = json!(24.0);
    let claim = mapped(&secondary(unbalanced));
    assert_eq!(issues(&claim), vec![("Claim.contained[5].item[1]".to_owned(), "cob-line-unbalanced".to_owned())], "{:?}", claim.issues);
    assert!(claim.issues[0].message.contains("paid 24.00 + adjustments = 24.00, the line's charge is 25.00"), "{}", claim.issues[0].message);
    // A line the claim does not have.
    let mut unknown = medicare();
    unknown["item"][2]["itemSequence"] = json!(9);
    assert_eq!(issues(&mapped(&secondary(unknown)))[0].1, "cob-line-unknown");
    // Decided only as a whole on a claim of three lines.
    let mut whole = medicare();
    whole.as_object_mut().unwrap().remove("item");
    assert_eq!(issues(&mapped(&secondary(whole))), vec![("Claim.insurance[1].claimResponse".to_owned(), "cob-lines-missing".to_owned())]);
    // Secondary without the primary's ClaimResponse.
    let mut bare = secondary(medicare());
    bare["insurance"][1].as_object_mut().unwrap().remove("claimResponse");
    assert_eq!(issues(&mapped(&bare)), vec![("Claim.insurance[0].sequence".to_owned(), "cob-prior-payer-missing".to_owned())]);
    // Structural faults refuse the body: a logical ClaimResponse reference, a fourth payer, a CARC that is no code.
    let mut logical = secondary(medicare());
    logical["insurance"][1]["claimResponse"] = json!({"identifier": {"value": "ICN-1"}});
    assert!(invalid(&logical).iter().any(|error| error.path == "Claim.insurance[1].claimResponse"), "{:?}", invalid(&logical));
    let mut fourth = secondary(medicare());
    fourth["insurance"][0]["sequence"] = json!(4);
    assert!(invalid(&fourth).iter().any(|error| error.path == "Claim.insurance[0].sequence" && error.message.contains("1 to 3")), "{:?}", invalid(&fourth));
    let mut bad_reason = medicare();
    bad_reason["item"][0]["adjudication"][1]["reason"]["coding"][0]["code"] = json!("1.5");
    let errors = invalid(&secondary(bad_reason));
    assert!(errors.iter().any(|error| error.path == "Claim.contained[5].item[0].adjudication[1].reason.coding[0].code"), "{errors:?}");
}
