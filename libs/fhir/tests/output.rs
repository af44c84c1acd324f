//! Decisions out: ClaimResponse and ExplanationOfBenefit, checked by content
//! and by the independent HL7 validators.

mod common;

use std::process::Command;

use claimtrail_codes::{Carc, GroupCode};
use claimtrail_events::{Adjustment, ClaimAdjudicated, ClaimType, LineDecision, Money, Outcome, SubmittedClaim};
use claimtrail_fhir::{claim_response, explanation_of_benefit};
use common::*;
use rust_decimal::Decimal;
use serde_json::Value;
use uuid::Uuid;

const CREATED: &str = "2026-02-12T08:00:00Z";

fn money(text: &str) -> Money {
    Money::parse(text).unwrap()
}

fn adjustment(group: &str, reason: &str, amount: &str) -> Adjustment {
    Adjustment { group: GroupCode::parse(group).unwrap(), reason: Carc::parse(reason).unwrap(), amount: money(amount) }
}

fn line(sequence: u32, code: &str, amounts: [&str; 4], adjustments: Vec<Adjustment>) -> LineDecision {
    let [charge, allowed, paid, patient] = amounts;
    LineDecision {
        sequence,
        procedure_code: code.into(),
        charge: money(charge),
        allowed: money(allowed),
        paid: money(paid),
        patient_responsibility: money(patient),
        adjustments,
        remarks: vec![],
        explanation: vec![],
        steps: vec![],
    }
}

/// The professional fixture, decided: the visit allowed 95 with a 20 copay,
/// the vaccine administration paid in full, the injection denied (CO-97).
fn sample() -> (ClaimAdjudicated, SubmittedClaim) {
    let claim = mapped(&professional_claim()).with_id(Uuid::now_v7()).parse().expect("a well-formed claim parses");
    let adjudicated = ClaimAdjudicated {
        claim_id: claim.claim_id,
        payer_id: claim.payer_id.to_string(),
        billing_npi: claim.billing_npi.to_string(),
        outcome: Outcome::PartiallyPaid,
        rule_set_hash: "00".repeat(32),
        lines: vec![
            line(1, "99213", ["120.00", "95.00", "75.00", "20.00"], vec![adjustment("CO", "45", "25.00"), adjustment("PR", "3", "20.00")]),
            line(2, "G0008", ["25.00", "25.00", "25.00", "0.00"], vec![]),
            line(3, "J1100", ["10.00", "0.00", "0.00", "0.00"], vec![adjustment("CO", "97", "10.00")]),
        ],
        total_charge: money("155.00"),
        total_allowed: money("120.00"),
        total_paid: money("100.00"),
        total_patient_responsibility: money("20.00"),
    };
    (adjudicated, claim)
}

/// The second claim of the batch fixture (no rendering provider, fractional
/// amounts), decided with a deductible and coinsurance.
fn sample_without_care_team() -> (ClaimAdjudicated, SubmittedClaim) {
    let submission = submit(&fixture("bundle-batch.json")).unwrap();
    let mut mapped = submission.entries[1].clone().unwrap();
    // The fixture replaces a payer's ICN; intake names an original by the id it gave it.
    mapped.claim.related_claim_id = Some(Uuid::now_v7().to_string());
    let claim = mapped.with_id(Uuid::now_v7()).parse().expect("a well-formed claim parses");
    let adjudicated = ClaimAdjudicated {
        claim_id: claim.claim_id,
        payer_id: claim.payer_id.to_string(),
        billing_npi: claim.billing_npi.to_string(),
        outcome: Outcome::Paid,
        rule_set_hash: "11".repeat(32),
        lines: vec![
            line(
                1,
                "99213",
                ["95.50", "80.10", "48.08", "32.02"],
                vec![adjustment("CO", "45", "15.40"), adjustment("PR", "1", "20.00"), adjustment("PR", "2", "12.02")],
            ),
            line(2, "J1100", ["10.05", "10.05", "10.05", "0.00"], vec![]),
        ],
        total_charge: money("105.55"),
        total_allowed: money("90.15"),
        total_paid: money("58.13"),
        total_patient_responsibility: money("32.02"),
    };
    (adjudicated, claim)
}

/// A FHIR number as an exact decimal.
fn decimal(value: &Value) -> Decimal {
    Decimal::from_str_exact(&value.as_number().unwrap_or_else(|| panic!("not a number: {value}")).to_string()).unwrap()
}

fn dec(text: &str) -> Decimal {
    Decimal::from_str_exact(text).unwrap()
}

/// (category code, amount) of an adjudication or total list.
fn categories(list: &Value) -> Vec<(String, Decimal)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|entry| (entry["category"]["coding"][0]["code"].as_str().unwrap().to_owned(), decimal(&entry["amount"]["value"])))
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, Decimal)> {
    expected.iter().map(|(code, amount)| ((*code).to_owned(), dec(amount))).collect()
}

#[test]
fn the_claim_response_carries_each_line_and_total_to_the_cent() {
    let (adjudicated, claim) = sample();
    let response = claim_response(&adjudicated, &claim, CREATED);

    assert_eq!(response["resourceType"], "ClaimResponse");
    assert_eq!(response["status"], "active");
    assert_eq!(response["use"], "claim");
    assert_eq!(response["outcome"], "complete");
    assert_eq!(response["created"], CREATED);
    assert_eq!(response["type"]["coding"][0]["code"], "professional");
    assert_eq!(response["insurer"]["identifier"]["value"], "60054");
    assert_eq!(response["requestor"]["identifier"]["value"], "1245319599");
    assert_eq!(response["request"]["identifier"]["value"], format!("urn:uuid:{}", claim.claim_id));
    let patient = response["patient"].as_object().unwrap();
    assert_eq!(patient.keys().collect::<Vec<_>>(), ["identifier", "type"], "a logical reference only, no display or PHI");
    assert_eq!(patient["identifier"]["value"], "MBR-0001");

    let items = response["item"].as_array().unwrap();
    assert_eq!(items.iter().map(|item| item["itemSequence"].as_u64().unwrap()).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(
        categories(&items[0]["adjudication"]),
        pairs(&[("submitted", "120"), ("eligible", "95"), ("discount", "25"), ("copay", "20"), ("benefit", "75")])
    );
    let contractual = &items[0]["adjudication"][2];
    assert_eq!(contractual["reason"]["coding"][0]["system"], "https://x12.org/codes/claim-adjustment-reason-codes");
    assert_eq!(contractual["reason"]["coding"][0]["code"], "45");
    assert_eq!(contractual["reason"]["text"], "CO-45");
    assert_eq!(items[0]["adjudication"][3]["category"]["coding"][0]["system"], "http://terminology.hl7.org/CodeSystem/adjudication");
    assert_eq!(categories(&items[2]["adjudication"]), pairs(&[("submitted", "10"), ("eligible", "0"), ("noncovered", "10"), ("benefit", "0")]));

    // The member's cost share in total[] too (copay: the other categories are zero).
    assert_eq!(categories(&response["total"]), pairs(&[("submitted", "155"), ("eligible", "120"), ("benefit", "100"), ("copay", "20")]));
    assert_eq!(decimal(&response["payment"]["amount"]["value"]), dec("100"));
    assert_eq!(response["payment"]["amount"]["currency"], "USD");
}

#[test]
fn fractional_amounts_go_out_with_exactly_their_value() {
    let (adjudicated, claim) = sample_without_care_team();
    let response = claim_response(&adjudicated, &claim, CREATED);
    assert_eq!(
        categories(&response["item"][0]["adjudication"]),
        pairs(&[("submitted", "95.50"), ("eligible", "80.10"), ("discount", "15.40"), ("deductible", "20"), ("coinsurance", "12.02"), ("benefit", "48.08")])
    );
    assert_eq!(decimal(&response["payment"]["amount"]["value"]), dec("58.13"));
    let totals = categories(&response["total"]);
    assert_eq!(totals[3..], pairs(&[("deductible", "20"), ("coinsurance", "12.02")]), "the member's deductible and coinsurance totals");
}

#[test]
fn the_explanation_of_benefit_has_the_carin_professional_shape() {
    let (adjudicated, claim) = sample();
    let eob = explanation_of_benefit(&adjudicated, &claim, CREATED);

    assert_eq!(eob["resourceType"], "ExplanationOfBenefit");
    assert_eq!((eob["status"].as_str(), eob["use"].as_str(), eob["outcome"].as_str()), (Some("active"), Some("claim"), Some("complete")));
    assert_eq!(eob["identifier"][0]["type"]["coding"][0]["code"], "uc");
    assert_eq!(eob["billablePeriod"]["start"], "2026-02-10");
    assert_eq!(eob["billablePeriod"]["end"], "2026-02-10");
    assert_eq!(eob["provider"]["identifier"]["value"], "1245319599");
    assert_eq!(eob["careTeam"][0]["provider"]["identifier"]["value"], "1003000126");
    assert_eq!(eob["insurance"][0]["focal"], true);
    assert_eq!(eob["insurance"][0]["coverage"]["identifier"]["value"], "MBR-0001");
    assert_eq!(eob["diagnosis"][0]["diagnosisCodeableConcept"]["coding"][0]["code"], "J06.9");

    let items = eob["item"].as_array().unwrap();
    assert_eq!(items[0]["productOrService"]["coding"][0]["system"], "http://www.ama-assn.org/go/cpt");
    assert_eq!(items[1]["productOrService"]["coding"][0]["system"], "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets");
    assert_eq!(items[1]["productOrService"]["coding"][0]["code"], "G0008");
    assert_eq!(items[0]["servicedDate"], "2026-02-10");
    assert_eq!(items[0]["modifier"][0]["coding"][0]["code"], "25");
    assert_eq!(items[0]["locationCodeableConcept"]["coding"][0]["code"], "11");
    assert_eq!(decimal(&items[2]["quantity"]["value"]), dec("4"));
    assert_eq!(
        categories(&items[0]["adjudication"]),
        pairs(&[
            ("submitted", "120"),
            ("eligible", "95"),
            ("benefit", "75"),
            ("paidtoprovider", "75"),
            ("memberliability", "20"),
            ("discount", "25"),
            ("copay", "20"),
        ])
    );
    assert_eq!(
        categories(&eob["total"]),
        pairs(&[("submitted", "155"), ("eligible", "120"), ("benefit", "100"), ("paidtoprovider", "100"), ("memberliability", "20"), ("copay", "20")])
    );
    assert_eq!(decimal(&eob["payment"]["amount"]["value"]), dec("100"));
}

#[test]
fn outputs_never_carry_the_patients_name_or_birth_date() {
    let (adjudicated, claim) = sample();
    for resource in [claim_response(&adjudicated, &claim, CREATED), explanation_of_benefit(&adjudicated, &claim, CREATED)] {
        let text = resource.to_string();
        for phi in ["Synthetic", "1961-04-12", "PCN-20260210-0042"] {
            assert!(!text.contains(phi), "{phi} in {text}");
        }
    }
}

#[test]
fn an_institutional_claim_is_typed_institutional() {
    let (adjudicated, mut claim) = sample();
    claim.claim_type = ClaimType::Institutional;
    assert_eq!(claim_response(&adjudicated, &claim, CREATED)["type"]["coding"][0]["code"], "institutional");
}

/// Writes ClaimResponses and EOBs for sample decisions (and this crate's
/// input fixtures) and runs the shared independent validator over them: the
/// official FHIR R4 JSON schema and fhir.resources. Fails if the tool is missing.
#[test]
fn outputs_and_fixtures_pass_the_independent_fhir_validators() {
    let validator = shared_dir().join("tools/validate-fhir");
    assert!(validator.is_file(), "the FHIR validator is missing at {}", validator.display());
    let dir = tempfile::tempdir().unwrap();
    for (name, (adjudicated, claim)) in [("professional", sample()), ("no-care-team", sample_without_care_team())] {
        let response = claim_response(&adjudicated, &claim, CREATED);
        let eob = explanation_of_benefit(&adjudicated, &claim, CREATED);
        std::fs::write(dir.path().join(format!("claim-response-{name}.json")), serde_json::to_vec_pretty(&response).unwrap()).unwrap();
        std::fs::write(dir.path().join(format!("eob-{name}.json")), serde_json::to_vec_pretty(&eob).unwrap()).unwrap();
    }
    for fixture in ["claim-professional.json", "bundle-batch.json"] {
        std::fs::copy(crate_dir().join("tests/fixtures").join(fixture), dir.path().join(fixture)).unwrap();
    }

    let output = Command::new(&validator).arg(dir.path()).output().unwrap_or_else(|e| panic!("cannot run {}: {e}", validator.display()));
    let report = format!("{}\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "validate-fhir failed:\n{report}");
    assert_eq!(report.matches("schema=ok\tpydantic=ok").count(), 6, "{report}");
}
