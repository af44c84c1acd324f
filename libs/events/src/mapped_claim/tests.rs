use rust_decimal::Decimal;
use time::macros::date;

use super::*;
use crate::money::Money;

fn read_line(procedure_code: &str) -> ClaimLine<AsRead> {
    ClaimLine {
        sequence: 1,
        procedure_code: procedure_code.to_owned(),
        modifiers: vec!["25".to_owned()],
        quantity: Decimal::ONE,
        charge: Money::from_cents(12_000),
        service_date: date!(2026 - 03 - 02),
        place_of_service: Some("11".to_owned()),
        diagnosis_pointers: vec![1],
        revenue_code: None,
    }
}

fn read_claim() -> SubmittedClaim<AsRead> {
    SubmittedClaim {
        claim_id: Uuid::nil(),
        claim_type: ClaimType::Professional,
        frequency: Frequency::Original,
        related_claim_id: None,
        patient_control_number: Some("PCN-77".to_owned()),
        billing_npi: "1245319599".to_owned(),
        rendering_npi: Some("1234567893".to_owned()),
        payer_id: "60054".to_owned(),
        member_id: "MBR-0001".to_owned(),
        diagnoses: vec![Diagnosis { sequence: 1, code: "E119".to_owned() }],
        lines: vec![read_line("99213")],
        total_charge: Money::from_cents(12_000),
        subscriber_id: Some("SUB-0001".to_owned()),
        service_zip: Some("17111".to_owned()),
        prior_authorization: Some("PA-1".to_owned()),
        drg: None,
        admission_date: None,
        statement_from: None,
        statement_to: None,
        type_of_bill: None,
        cob: None,
    }
}

fn fhir_paths() -> FieldPaths {
    FieldPaths {
        billing_npi: "Claim.provider".to_owned(),
        rendering_npi: "Claim.careTeam[0].provider".to_owned(),
        payer_id: "Claim.insurance[0].coverage".to_owned(),
        member_id: "Claim.insurance[0].coverage".to_owned(),
        subscriber_id: "Coverage.subscriberId".to_owned(),
        related_claim_id: "Claim.related[0].claim".to_owned(),
        diagnoses: vec!["Claim.diagnosis[0].diagnosisCodeableConcept.coding[0].code".to_owned()],
        lines: vec![LinePaths {
            procedure_code: "Claim.item[0].productOrService.coding[0].code".to_owned(),
            modifiers: vec!["Claim.item[0].modifier[0]".to_owned()],
            place_of_service: "Claim.item[0].locationCodeableConcept".to_owned(),
            revenue_code: "Claim.item[0].revenue".to_owned(),
        }],
    }
}

fn issues_of(claim: SubmittedClaim<AsRead>) -> Vec<(String, String)> {
    let mapped = MappedClaim::new(claim, fhir_paths());
    mapped.parse().expect_err("a field does not parse").into_iter().map(|issue| (issue.path, issue.code)).collect()
}

#[test]
fn a_well_formed_claim_parses_into_its_typed_form_with_the_same_json() {
    let claim = read_claim();
    let parsed = MappedClaim::new(claim.clone(), fhir_paths()).parse().expect("parses");
    assert_eq!(parsed.billing_npi, "1245319599");
    assert_eq!(parsed.lines[0].procedure_code, "99213");
    assert_eq!(parsed.lines[0].modifiers[0], "25");
    assert_eq!(parsed.subscriber_id.as_ref().map(|id| id.as_str()), Some("SUB-0001"));
    assert_eq!(serde_json::to_string(&parsed).unwrap(), serde_json::to_string(&claim).unwrap());
    let back: SubmittedClaim<AsRead> = serde_json::from_str(&serde_json::to_string(&parsed).unwrap()).unwrap();
    assert_eq!(back, claim);
}

#[test]
fn each_value_that_does_not_parse_is_an_issue_at_the_path_it_was_read_from() {
    let mut claim = read_claim();
    claim.billing_npi = "1245319598".to_owned();
    claim.payer_id = "600/54".to_owned();
    claim.member_id = String::new();
    claim.diagnoses[0].code = "11.9E".to_owned();
    claim.lines[0].modifiers = vec!["255".to_owned()];
    claim.lines[0].place_of_service = Some("O1".to_owned());
    claim.lines[0].revenue_code = Some("45".to_owned());
    assert_eq!(
        issues_of(claim),
        [
            ("Claim.provider", "npi-check-digit"),
            ("Claim.insurance[0].coverage", "payer-id-shape"),
            ("Claim.insurance[0].coverage", "member-id-shape"),
            ("Claim.diagnosis[0].diagnosisCodeableConcept.coding[0].code", "icd10-shape"),
            ("Claim.item[0].modifier[0]", "modifier-shape"),
            ("Claim.item[0].locationCodeableConcept", "place-of-service-shape"),
            ("Claim.item[0].revenue", "revenue-code-shape"),
        ]
        .map(|(path, code)| (path.to_owned(), code.to_owned()))
    );
}

#[test]
fn a_field_whose_reader_gave_no_path_is_named_by_the_field() {
    let mut claim = read_claim();
    claim.lines[0].modifiers = vec!["25".to_owned(), "L-".to_owned()];
    let mapped = MappedClaim::new(claim, FieldPaths::default());
    let issues = mapped.parse().unwrap_err();
    assert_eq!((issues[0].path.as_str(), issues[0].code.as_str()), ("lines[0].modifiers[1]", "modifier-shape"));
    assert!(issues[0].message.contains("`L-`"), "{}", issues[0].message);
}

#[test]
fn an_issue_the_reader_already_reported_is_not_repeated_and_the_claim_stays_rejected() {
    let mut claim = read_claim();
    claim.billing_npi = "1245319598".to_owned();
    let mut mapped = MappedClaim::new(claim, fhir_paths());
    mapped.issues.push(ClaimIssue { path: "Claim.provider".to_owned(), code: "npi-check-digit".to_owned(), message: "reader".to_owned() });
    assert_eq!(mapped.parse(), Err(vec![]));
    let mut clean = MappedClaim::new(read_claim(), fhir_paths());
    clean.issues.push(ClaimIssue { path: "Claim.total.value".to_owned(), code: "total-mismatch".to_owned(), message: "reader".to_owned() });
    assert_eq!(clean.parse(), Err(vec![]), "a claim with a reader issue does not parse, even with every field well-formed");
}

#[test]
fn only_an_institutional_line_may_be_named_by_a_revenue_code_alone() {
    let mut claim = read_claim();
    claim.lines[0] = ClaimLine { revenue_code: Some("0120".to_owned()), place_of_service: None, ..read_line("0120") };
    assert_eq!(issues_of(claim.clone()), [("Claim.item[0].productOrService.coding[0].code".to_owned(), "procedure-code-shape".to_owned())]);
    claim.claim_type = ClaimType::Institutional;
    let parsed = MappedClaim::new(claim, fhir_paths()).parse().expect("an 837I room-and-board line");
    assert!(!parsed.lines[0].procedure_code.is_procedure_code());
    assert_eq!(parsed.lines[0].revenue_code.as_ref().map(|code| code.category()), Some("012"));
}

#[test]
fn a_replacement_names_its_original_by_intake_s_id_and_an_original_drops_any_other_number() {
    let original = Uuid::now_v7();
    let mut claim = read_claim();
    claim.frequency = Frequency::Replacement;
    claim.related_claim_id = Some(original.to_string());
    let parsed = MappedClaim::new(claim.clone(), fhir_paths()).parse().expect("a replacement of a known id");
    assert_eq!(parsed.related_claim_id.map(Uuid::from), Some(original));

    claim.related_claim_id = Some("PAYERICN0001".to_owned());
    assert_eq!(issues_of(claim.clone()), [("Claim.related[0].claim".to_owned(), "original-not-found".to_owned())]);

    claim.frequency = Frequency::Original;
    assert_eq!(MappedClaim::new(claim, fhir_paths()).parse().expect("an original").related_claim_id, None);
}

#[test]
fn debug_output_of_either_form_never_shows_member_subscriber_or_patient_control_number() {
    let claim = read_claim();
    let parsed = MappedClaim::new(claim.clone(), fhir_paths()).parse().unwrap();
    let mapped = MappedClaim::new(claim, fhir_paths());
    for shown in [format!("{mapped:?}"), format!("{parsed:?}"), format!("{:?}", mapped.claim)] {
        for secret in ["MBR-0001", "SUB-0001", "PCN-77"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("1245319599"), "the NPI is not PHI: {shown}");
    }
}

#[test]
fn with_id_gives_the_claim_intake_s_id() {
    let claim_id = Uuid::now_v7();
    let mapped = MappedClaim::new(read_claim(), fhir_paths()).with_id(claim_id);
    assert_eq!(mapped.parse().unwrap().claim_id, claim_id);
}
