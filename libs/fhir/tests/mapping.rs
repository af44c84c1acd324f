//! FHIR Claims and Bundles in: what maps, what is an issue, what is refused and where.

mod common;

use claimtrail_events::{ClaimType, Diagnosis, Frequency, Money};
use claimtrail_fhir::{BundleType, CLAIMS_PER_BUNDLE_MAX, FhirError, parse_submission};
use common::*;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use time::macros::date;
use uuid::Uuid;

fn money(text: &str) -> Money {
    Money::parse(text).unwrap()
}

#[test]
fn the_complete_professional_claim_maps_every_field() {
    let claim = mapped(&professional_claim());

    assert!(claim.issues.is_empty(), "{:?}", claim.issues);
    assert_eq!(claim.claim.claim_type, ClaimType::Professional);
    assert_eq!(claim.claim.frequency, Frequency::Original);
    assert_eq!(claim.claim.related_claim_id, None);
    assert_eq!(claim.claim.patient_control_number.as_deref(), Some("PCN-20260210-0042"));
    assert_eq!(claim.claim.billing_npi, "1245319599");
    assert_eq!(claim.claim.rendering_npi.as_deref(), Some("1003000126"));
    assert_eq!(claim.claim.payer_id, "60054");
    assert_eq!(claim.claim.member_id, "MBR-0001", "Coverage.subscriberId comes before the Patient's identifier");
    assert_eq!(claim.claim.diagnoses, vec![Diagnosis { sequence: 1, code: "J069".into() }, Diagnosis { sequence: 2, code: "Z23".into() }]);
    assert_eq!(claim.claim.total_charge, money("155.00"));

    let lines: Vec<_> = claim
        .claim
        .lines
        .iter()
        .map(|line| (line.sequence, line.procedure_code.as_str(), line.modifiers.clone(), line.quantity, line.charge, line.diagnosis_pointers.clone()))
        .collect();
    assert_eq!(
        lines,
        vec![
            (1, "99213", vec!["25".to_owned()], Decimal::ONE, money("120.00"), vec![1]),
            (2, "G0008", vec![], Decimal::ONE, money("25.00"), vec![2]),
            (3, "J1100", vec![], Decimal::from(4), money("10.00"), vec![1]),
        ]
    );
    for line in &claim.claim.lines {
        assert_eq!(line.service_date, date!(2026 - 02 - 10));
        assert_eq!(line.place_of_service.as_deref(), Some("11"));
    }
}

#[test]
fn a_mapped_claim_becomes_the_domain_claim_under_the_id_intake_gives_it() {
    let claim = mapped(&professional_claim());
    let claim_id = Uuid::now_v7();
    let submitted = claim.clone().with_id(claim_id).parse().expect("a well-formed claim parses");
    assert_eq!(submitted.claim_id, claim_id);
    assert_eq!(serde_json::to_value(&submitted.lines).unwrap(), serde_json::to_value(&claim.claim.lines).unwrap());
    assert_eq!(submitted.member_id, claim.claim.member_id);
    assert_eq!(submitted.total_charge, claim.claim.total_charge);
}

#[test]
fn debug_output_masks_the_member_id_and_patient_control_number() {
    let text = format!("{:?}", mapped(&professional_claim()));
    assert!(!text.contains("MBR-0001"), "{text}");
    assert!(!text.contains("PCN-20260210"), "{text}");
    assert!(text.contains("1245319599"));
}

#[test]
fn a_batch_bundle_maps_each_claim_with_referenced_supporting_resources() {
    let submission = submit(&fixture("bundle-batch.json")).unwrap();
    assert_eq!(submission.bundle_type, Some(BundleType::Batch));
    assert_eq!(submission.entries.len(), 2, "supporting resources are not entries of the answer");

    let first = submission.entries[0].as_ref().unwrap();
    assert!(first.issues.is_empty(), "{:?}", first.issues);
    assert_eq!(first.claim.billing_npi, "1245319599", "by fullUrl urn:uuid");
    assert_eq!(first.claim.payer_id, "60054", "Coverage.payor `Organization/payer-1` resolves by type and id against an absolute fullUrl");
    assert_eq!(first.claim.member_id, "SUB-0002");
    assert_eq!(first.claim.rendering_npi, None);
    assert_eq!(first.claim.total_charge, money("25.00"));

    let second = submission.entries[1].as_ref().unwrap();
    assert!(second.issues.is_empty(), "{:?}", second.issues);
    assert_eq!(second.claim.billing_npi, "1234567893", "a Practitioner as billing provider");
    assert_eq!(second.claim.payer_id, "87726", "payor by logical identifier");
    assert_eq!(second.claim.member_id, "MBR-0003-02", "no subscriberId or identifier on the Coverage: the Patient's MB identifier");
    assert_eq!(second.claim.frequency, Frequency::Replacement);
    assert_eq!(second.claim.related_claim_id.as_deref(), Some("ICN-2026-000123"));
    assert_eq!(second.claim.diagnoses, vec![Diagnosis { sequence: 1, code: "E119".into() }], "icd-10 accepted, dot removed, upper-case");
    assert_eq!(second.claim.lines[0].service_date, date!(2026 - 02 - 04), "servicedPeriod.start");
    assert_eq!(second.claim.lines[0].charge, money("95.50"));
    assert_eq!(second.claim.lines[1].service_date, date!(2026 - 02 - 05), "Claim.billablePeriod.start");
    assert_eq!(second.claim.lines[1].charge, money("10.05"), "3 × 3.35");
    assert_eq!(second.claim.total_charge, money("105.55"), "no Claim.total: the sum of the lines");
    assert_eq!(second.claim.patient_control_number, None);
}

#[test]
fn a_batch_bundle_judges_each_claim_on_its_own() {
    let mut bundle = fixture("bundle-batch.json");
    remove(&mut bundle, "/entry/8/resource/provider");
    let submission = submit(&bundle).unwrap();
    assert!(submission.entries[0].is_ok());
    let error = submission.entries[1].as_ref().unwrap_err();
    assert_eq!(error.entry_index, 8);
    assert_eq!(error.errors[0].path, "Bundle.entry[8].resource.provider");
    assert_eq!(submission.claims().count(), 1);
}

#[test]
fn a_transaction_or_collection_with_one_bad_claim_is_refused_whole() {
    for bundle_type in ["transaction", "collection"] {
        let mut bundle = fixture("bundle-batch.json");
        set(&mut bundle, "/type", json!(bundle_type));
        set(&mut bundle, "/entry/0/resource/item/0/unitPrice/value", json!("25.00"));
        let errors = invalid(&bundle);
        assert_eq!(errors[0].path, "Bundle.entry[0].resource.item[0].unitPrice.value", "{bundle_type}");

        set(&mut bundle, "/entry/0/resource/item/0/unitPrice/value", json!(25));
        let submission = submit(&bundle).unwrap();
        assert_eq!(submission.bundle_type.map(BundleType::as_str), Some(bundle_type));
        assert!(submission.entries.iter().all(Result::is_ok));
    }
}

#[test]
fn structural_faults_are_refused_with_their_fhirpath() {
    type Mutation = fn(&mut Value);
    let cases: Vec<(&str, Mutation, &str, &str)> = vec![
        ("status draft", |c| set(c, "/status", json!("draft")), "Claim.status", "not accepted"),
        ("status missing", |c| remove(c, "/status"), "Claim.status", "is required"),
        ("preauthorization", |c| set(c, "/use", json!("preauthorization")), "Claim.use", "not supported yet"),
        ("unknown use", |c| set(c, "/use", json!("bill")), "Claim.use", "not a Claim.use code"),
        ("oral claim", |c| set(c, "/type/coding/0/code", json!("oral")), "Claim.type.coding", "not supported"),
        ("type without claim-type coding", |c| set(c, "/type", json!({"text": "professional"})), "Claim.type.coding", "claim-type"),
        ("patient missing", |c| remove(c, "/patient"), "Claim.patient", "is required"),
        ("created missing", |c| remove(c, "/created"), "Claim.created", "is required"),
        ("created not a dateTime", |c| set(c, "/created", json!("yesterday")), "Claim.created", "dateTime"),
        ("priority missing", |c| remove(c, "/priority"), "Claim.priority", "is required"),
        ("provider missing", |c| remove(c, "/provider"), "Claim.provider", "is required"),
        ("provider dangling", |c| set(c, "/provider/reference", json!("#nowhere")), "Claim.provider.reference", "resolves to no"),
        ("provider is a Patient", |c| set(c, "/provider/reference", json!("#patient")), "Claim.provider.reference", "is a Patient"),
        ("provider without NPI", |c| remove(c, "/contained/2/identifier/0"), "Claim.provider", "no identifier with system http://hl7.org/fhir/sid/us-npi"),
        (
            "provider identifier of another system",
            |c| set(c, "/provider", json!({"identifier": {"system": "urn:oid:2.16.840.1.113883.4.4", "value": "123456789"}})),
            "Claim.provider.identifier.system",
            "us-npi",
        ),
        ("provider neither reference nor identifier", |c| set(c, "/provider", json!({"display": "Dr. X"})), "Claim.provider", "needs a reference"),
        ("rendering without NPI", |c| remove(c, "/contained/3/identifier"), "Claim.careTeam[0].provider", "no identifier"),
        ("insurance missing", |c| remove(c, "/insurance"), "Claim.insurance", "is required"),
        ("insurance empty", |c| set(c, "/insurance", json!([])), "Claim.insurance", "at least one"),
        ("coverage by display only", |c| set(c, "/insurance/0/coverage", json!({"display": "Medicaid"})), "Claim.insurance[0].coverage", "needs a reference"),
        ("coverage without payor", |c| remove(c, "/contained/4/payor"), "Claim.contained[4].payor", "is required"),
        (
            "payor is a Patient",
            |c| set(c, "/contained/4/payor/0/reference", json!("#patient")),
            "Claim.contained[4].payor[0].reference",
            "expected Organization",
        ),
        (
            "no member id anywhere",
            |c| {
                remove(c, "/contained/4/subscriberId");
                remove(c, "/contained/0/identifier");
            },
            "Claim.insurance[0].coverage",
            "no member id",
        ),
        ("contained without id", |c| remove(c, "/contained/1/id"), "Claim.contained[1].id", "is required"),
        (
            "diagnosis without ICD-10",
            |c| set(c, "/diagnosis/0/diagnosisCodeableConcept/coding/0/system", json!("http://snomed.info/sct")),
            "Claim.diagnosis[0].diagnosisCodeableConcept.coding",
            "icd-10-cm",
        ),
        (
            "diagnosis by reference",
            |c| set(c, "/diagnosis/0", json!({"sequence": 1, "diagnosisReference": {"reference": "Condition/1"}})),
            "Claim.diagnosis[0].diagnosisReference",
            "not supported",
        ),
        ("duplicate diagnosis sequence", |c| set(c, "/diagnosis/1/sequence", json!(1)), "Claim.diagnosis[1].sequence", "repeats"),
        ("item missing", |c| remove(c, "/item"), "Claim.item", "is required"),
        ("item empty", |c| set(c, "/item", json!([])), "Claim.item", "at least one item"),
        ("item sequence zero", |c| set(c, "/item/0/sequence", json!(0)), "Claim.item[0].sequence", "positive integer"),
        ("item sequence fractional", |c| set(c, "/item/0/sequence", json!(1.5)), "Claim.item[0].sequence", "positive integer"),
        ("duplicate item sequence", |c| set(c, "/item/1/sequence", json!(1)), "Claim.item[1].sequence", "repeats Claim.item[0]"),
        ("no procedure code", |c| set(c, "/item/0/productOrService", json!({"text": "visit"})), "Claim.item[0].productOrService.coding", "HCPCS or CPT"),
        ("unit price as a string", |c| set(c, "/item/0/unitPrice/value", json!("120.00")), "Claim.item[0].unitPrice.value", "JSON number"),
        ("unit price with three places", |c| set(c, "/item/1/unitPrice/value", json!(25.005)), "Claim.item[1].unitPrice.value", "more than two decimal places"),
        ("unit price with an exponent", |c| set(c, "/item/1/unitPrice/value", json!(1e21)), "Claim.item[1].unitPrice.value", "exponent"),
        ("negative net", |c| set(c, "/item/0/net/value", json!(-120)), "Claim.item[0].net.value", "negative"),
        ("net disagrees with quantity × unit price", |c| set(c, "/item/2/net/value", json!(10.01)), "Claim.item[2].net.value", "4 × unitPrice 2.50 = 10.00"),
        (
            "neither net nor unit price",
            |c| {
                remove(c, "/item/1/unitPrice");
            },
            "Claim.item[1].net",
            "no charge",
        ),
        ("not USD", |c| set(c, "/item/0/unitPrice/currency", json!("EUR")), "Claim.item[0].unitPrice.currency", "USD"),
        ("zero units", |c| set(c, "/item/0/quantity/value", json!(0)), "Claim.item[0].quantity.value", "not more than 0"),
        ("partial date of service", |c| set(c, "/item/0/servicedDate", json!("2026-02")), "Claim.item[0].servicedDate", "full date"),
        (
            "no date of service at all",
            |c| {
                remove(c, "/item/0/servicedDate");
                remove(c, "/billablePeriod");
            },
            "Claim.item[0].servicedDate",
            "no date of service",
        ),
        (
            "five modifiers",
            |c| set(c, "/item/0/modifier", Value::Array(vec![json!({"coding": [{"code": "25"}]}); 5])),
            "Claim.item[0].modifier",
            "MODIFIERS_PER_LINE_MAX",
        ),
        ("pointer zero", |c| set(c, "/item/0/diagnosisSequence", json!([0])), "Claim.item[0].diagnosisSequence[0]", "positive integer"),
        ("negative total", |c| set(c, "/total/value", json!(-1)), "Claim.total.value", "negative"),
        (
            "replacement naming no claim",
            |c| set(c, "/related", json!([{"relationship": {"coding": [{"code": "replaces"}]}}])),
            "Claim.related[0].claim",
            "must name the claim it replaces",
        ),
        ("cancelled naming no claim", |c| set(c, "/status", json!("cancelled")), "Claim.status", "voids an earlier claim"),
        ("item not an object", |c| set(c, "/item/1", json!("G0008")), "Claim.item[1]", "JSON object"),
        ("identifier not an array", |c| set(c, "/identifier", json!({"value": "x"})), "Claim.identifier", "JSON array"),
    ];
    for (name, mutate, path, message) in cases {
        let mut claim = professional_claim();
        mutate(&mut claim);
        let errors = invalid(&claim);
        assert!(
            errors.iter().any(|error| error.path == path && error.message.contains(message)),
            "{name}: expected `{path}: ...{message}...`, got {errors:#?}"
        );
    }
}

#[test]
fn more_than_fifty_lines_is_refused_naming_the_limit() {
    let mut claim = professional_claim();
    let item = claim["item"][1].clone();
    let items: Vec<Value> = (1..=51)
        .map(|sequence| {
            let mut item = item.clone();
            item["sequence"] = json!(sequence);
            item
        })
        .collect();
    set(&mut claim, "/item", Value::Array(items.clone()));
    let errors = invalid(&claim);
    assert_eq!(errors[0].path, "Claim.item");
    assert!(errors[0].message.contains("51 items; at most 50 lines per claim (LINES_PER_CLAIM_MAX"), "{errors:?}");

    set(&mut claim, "/item", Value::Array(items[..50].to_vec()));
    set(&mut claim, "/total/value", json!(1250));
    assert_eq!(mapped(&claim).claim.lines.len(), 50);
}

#[test]
fn more_than_a_thousand_claims_in_a_bundle_is_refused_naming_the_limit() {
    let claim = professional_claim();
    let bundle_of = |n_claims: usize| {
        let entries: Vec<Value> = (0..n_claims).map(|_| json!({ "resource": claim })).collect();
        json!({ "resourceType": "Bundle", "type": "batch", "entry": entries })
    };
    let errors = invalid(&bundle_of(CLAIMS_PER_BUNDLE_MAX + 1));
    assert_eq!(errors[0].path, "Bundle.entry");
    assert!(errors[0].message.contains("1001 Claims; at most 1000 claims per Bundle (CLAIMS_PER_BUNDLE_MAX)"), "{errors:?}");

    let submission = submit(&bundle_of(CLAIMS_PER_BUNDLE_MAX)).unwrap();
    assert_eq!(submission.claims().count(), CLAIMS_PER_BUNDLE_MAX);
}

#[test]
fn each_front_end_edit_keeps_the_claim_with_its_issue() {
    type Mutation = fn(&mut Value);
    let cases: Vec<(&str, Mutation, &str, &str)> = vec![
        ("billing NPI check digit", |c| set(c, "/contained/2/identifier/0/value", json!("1245319598")), "Claim.provider", "npi-check-digit"),
        ("billing NPI too short", |c| set(c, "/contained/2/identifier/0/value", json!("124531959")), "Claim.provider", "npi-check-digit"),
        ("rendering NPI check digit", |c| set(c, "/contained/3/identifier/0/value", json!("1003000127")), "Claim.careTeam[0].provider", "npi-check-digit"),
        (
            "ICD-10-CM shape",
            |c| set(c, "/diagnosis/1/diagnosisCodeableConcept/coding/0/code", json!("2Z3")),
            "Claim.diagnosis[1].diagnosisCodeableConcept.coding[0].code",
            "icd10-shape",
        ),
        (
            "procedure code shape",
            |c| set(c, "/item/1/productOrService/coding/0/code", json!("G008")),
            "Claim.item[1].productOrService.coding[0].code",
            "procedure-code-shape",
        ),
        ("service date in the future", |c| set(c, "/item/2/servicedDate", json!("2026-03-02")), "Claim.item[2].servicedDate", "service-date-future"),
        ("total is not the sum", |c| set(c, "/total/value", json!(150)), "Claim.total.value", "total-mismatch"),
        ("pointer to no diagnosis", |c| set(c, "/item/0/diagnosisSequence", json!([3])), "Claim.item[0].diagnosisSequence[0]", "diagnosis-pointer"),
    ];
    for (name, mutate, path, code) in cases {
        let mut claim = professional_claim();
        mutate(&mut claim);
        let mapped = mapped(&claim);
        assert_eq!(issues(&mapped), vec![(path.to_owned(), code.to_owned())], "{name}");
        assert!(mapped.is_rejected());
    }
}

#[test]
fn a_future_billable_period_is_one_issue_not_one_per_line() {
    let mut claim = professional_claim();
    for item_idx in 0..3 {
        remove(&mut claim, &format!("/item/{item_idx}/servicedDate"));
    }
    set(&mut claim, "/billablePeriod/start", json!("2026-04-01"));
    let mapped = mapped(&claim);
    assert_eq!(issues(&mapped), vec![("Claim.billablePeriod.start".to_owned(), "service-date-future".to_owned())]);
    assert!(mapped.claim.lines.iter().all(|line| line.service_date == date!(2026 - 04 - 01)));
}

#[test]
fn a_cancelled_claim_naming_an_earlier_one_is_a_void() {
    let mut claim = professional_claim();
    set(&mut claim, "/status", json!("cancelled"));
    set(&mut claim, "/related", json!([{ "claim": { "reference": "Claim/ICN-77" }, "relationship": { "coding": [{ "code": "prior" }] } }]));
    let mapped = mapped(&claim);
    assert_eq!(mapped.claim.frequency, Frequency::Void);
    assert_eq!(mapped.claim.related_claim_id.as_deref(), Some("ICN-77"));
}

#[test]
fn a_prior_claim_alone_does_not_make_a_replacement() {
    let mut claim = professional_claim();
    set(&mut claim, "/related", json!([{ "claim": { "identifier": { "value": "ICN-1" } }, "relationship": { "coding": [{ "code": "prior" }] } }]));
    let mapped = mapped(&claim);
    assert_eq!((mapped.claim.frequency, mapped.claim.related_claim_id), (Frequency::Original, None));
}

#[test]
fn providers_may_be_named_by_logical_or_conditional_references() {
    let mut claim = professional_claim();
    set(&mut claim, "/provider", json!({ "identifier": { "system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567893" } }));
    set(&mut claim, "/careTeam/0/provider", json!({ "reference": "Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|1245319599" }));
    let mapped = mapped(&claim);
    assert_eq!(mapped.claim.billing_npi, "1234567893");
    assert_eq!(mapped.claim.rendering_npi.as_deref(), Some("1245319599"));
}

#[test]
fn member_id_precedence_is_subscriber_then_coverage_identifier_then_insurance_then_patient() {
    let mut claim = professional_claim();
    set(&mut claim, "/contained/4/identifier", json!([{ "value": "COV-ID" }]));
    set(&mut claim, "/insurance/0/identifier", json!({ "value": "INS-ID" }));
    assert_eq!(mapped(&claim).claim.member_id, "MBR-0001");
    remove(&mut claim, "/contained/4/subscriberId");
    assert_eq!(mapped(&claim).claim.member_id, "COV-ID");
    remove(&mut claim, "/contained/4/identifier");
    assert_eq!(mapped(&claim).claim.member_id, "INS-ID");
    remove(&mut claim, "/insurance/0/identifier");
    assert_eq!(mapped(&claim).claim.member_id, "MBR-0001-77");
}

#[test]
fn the_payer_falls_back_to_the_organization_id_and_to_claim_insurer() {
    let mut claim = professional_claim();
    remove(&mut claim, "/contained/1/identifier");
    assert_eq!(mapped(&claim).claim.payer_id, "payer");

    set(&mut claim, "/insurance/0/coverage", json!({ "identifier": { "value": "MBR-9" } }));
    let errors = invalid(&claim);
    assert_eq!(errors[0].path, "Claim.insurance[0].coverage");
    set(&mut claim, "/insurer", json!({ "identifier": { "value": "87726" } }));
    let mapped = mapped(&claim);
    assert_eq!((mapped.claim.payer_id.as_str(), mapped.claim.member_id.as_str()), ("87726", "MBR-9"));
}

#[test]
fn the_focal_insurance_is_chosen_over_the_first() {
    let mut claim = professional_claim();
    set(
        &mut claim,
        "/insurance",
        json!([
            { "sequence": 1, "focal": false, "coverage": { "display": "secondary, not read" } },
            { "sequence": 2, "focal": true, "coverage": { "reference": "#coverage" } }
        ]),
    );
    assert_eq!(mapped(&claim).claim.member_id, "MBR-0001");
}

#[test]
fn bodies_that_are_not_json_are_malformed() {
    for body in [&b""[..], b"{", b"<Claim/>", b"{\"resourceType\": \"Claim\"} trailing", b"\xff\xfe{}", b"{\"a\": \"\xc3\x28\"}"] {
        assert!(matches!(parse_submission(body, TODAY), Err(FhirError::Malformed { .. })), "{body:?}");
    }
}

#[test]
fn deeply_nested_json_is_refused_without_overflowing_the_stack() {
    let body = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(matches!(parse_submission(body.as_bytes(), TODAY), Err(FhirError::Malformed { .. })));
}

#[test]
fn json_that_is_not_a_claim_or_bundle_names_resource_type() {
    for body in [json!([1, 2]), json!("Claim"), json!({}), json!({"resourceType": 7}), json!({"resourceType": "ExplanationOfBenefit"})] {
        let errors = invalid(&body);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].path, "resourceType", "{body}");
    }
}

#[test]
fn bundles_of_other_types_or_resources_are_refused() {
    let mut bundle = fixture("bundle-batch.json");
    set(&mut bundle, "/type", json!("searchset"));
    assert_eq!(invalid(&bundle)[0].path, "Bundle.type");

    let mut bundle = fixture("bundle-batch.json");
    set(&mut bundle, "/entry/3/resource", json!({ "resourceType": "Encounter", "id": "e1" }));
    let errors = invalid(&bundle);
    assert_eq!(errors[0].path, "Bundle.entry[3].resource.resourceType");
    assert!(errors[0].message.contains("`Encounter` is not accepted"));

    let mut bundle = fixture("bundle-batch.json");
    remove(&mut bundle, "/entry/8");
    remove(&mut bundle, "/entry/0");
    assert_eq!(invalid(&bundle)[0].path, "Bundle.entry");

    let mut bundle = fixture("bundle-batch.json");
    set(&mut bundle, "/entry/2/fullUrl", json!("urn:uuid:3c2a1f00-8d1e-4c8e-a3c4-2b7f6f0c0a11"));
    let errors = invalid(&bundle);
    assert_eq!(errors[0].path, "Bundle.entry[2].fullUrl");
    assert!(errors[0].message.contains("Bundle.entry[1]"));
}

#[test]
fn a_reference_to_another_claim_entry_is_named_as_the_wrong_type() {
    let mut bundle = fixture("bundle-batch.json");
    set(&mut bundle, "/entry/0/resource/provider/reference", json!("urn:uuid:0b8d4a43-5c0b-4f55-9d8e-9f0a7f5e1a02"));
    let submission = submit(&bundle).unwrap();
    let error = submission.entries[0].as_ref().unwrap_err();
    assert_eq!(error.errors[0].path, "Bundle.entry[0].resource.provider.reference");
    assert!(error.errors[0].message.contains("is a Claim"));
}

/// Every FHIR file of the shared test data that holds Claims or EOBs: all are
/// refused cleanly (EOBs, searchsets, Synthea bundles with Encounters...),
/// and the Claims inside Synthea bundles, submitted alone, name their faults.
#[test]
fn the_shared_fhir_test_data_is_refused_cleanly_naming_resource_type() {
    let testdata = shared_dir().join("testdata");
    let mut files = Vec::new();
    let mut pending = vec![testdata.clone()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "json") {
                let text = std::fs::read_to_string(&path).unwrap();
                let claimish = ["\"Claim\"", "\"ExplanationOfBenefit\""].iter().any(|name| text.contains(name));
                if claimish && text.contains("\"resourceType\"") {
                    files.push((path, text));
                }
            }
        }
    }
    assert!(files.len() >= 15, "expected the Claim/EOB files of {}, found {}", testdata.display(), files.len());

    let mut n_synthea_claims = 0;
    for (path, text) in &files {
        match parse_submission(text.as_bytes(), TODAY) {
            Err(FhirError::Invalid { errors }) => {
                assert!(errors.iter().any(|error| error.path.ends_with("resourceType")), "{}: {errors:?}", path.display());
            }
            other => panic!("{}: expected Invalid, got {other:?}", path.display()),
        }
        let value: Value = serde_json::from_str(text).unwrap();
        let claims = value["entry"].as_array().into_iter().flatten().map(|entry| &entry["resource"]).filter(|resource| resource["resourceType"] == "Claim");
        for claim in claims {
            n_synthea_claims += 1;
            let errors = invalid(claim);
            assert!(errors.iter().all(|error| error.path.starts_with("Claim")), "{errors:?}");
            assert!(errors.iter().any(|error| error.path == "Claim.insurance[0].coverage"), "coverage by display only: {errors:?}");
        }
    }
    assert!(n_synthea_claims > 0);
}

/// CARIN BB's `supportingInfo[typeofbill]`, coded from the NUBC Type of Bill
/// system with the leading zero, is the claim's type of bill in the 837I's
/// three characters; Blue Button's frequency-only entry is not one.
#[test]
fn an_institutional_claim_s_type_of_bill_is_carin_s_typeofbill_supporting_info() {
    let type_of_bill = |code: &str, system: &str| {
        json!({"sequence": 9,
            "category": {"coding": [{"system": "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBSupportingInfoType", "code": "typeofbill"}]},
            "code": {"coding": [{"system": system, "code": code}]}})
    };
    let institutional = |info: Value| {
        let mut claim = professional_claim();
        set(&mut claim, "/type/coding/0/code", json!("institutional"));
        set(&mut claim, "/supportingInfo", json!([info]));
        claim
    };
    let nubc = "https://www.nubc.org/CodeSystem/TypeOfBill";
    let claim = mapped(&institutional(type_of_bill("0111", nubc)));
    assert_eq!(claim.claim.claim_type, ClaimType::Institutional);
    assert_eq!(claim.claim.type_of_bill.as_deref(), Some("111"));
    assert_eq!(mapped(&institutional(type_of_bill("217", nubc))).claim.type_of_bill.as_deref(), Some("217"));
    // CMS Blue Button codes the frequency alone: no type of bill.
    let frequency_only = type_of_bill("1", "https://bluebutton.cms.gov/resources/variables/clm_freq_cd");
    assert_eq!(mapped(&institutional(frequency_only)).claim.type_of_bill, None);
    // A professional claim has none.
    let mut professional = professional_claim();
    set(&mut professional, "/supportingInfo", json!([type_of_bill("0111", nubc)]));
    assert_eq!(mapped(&professional).claim.type_of_bill, None);
    // A malformed one is refused at its path.
    let errors = invalid(&institutional(type_of_bill("11", nubc)));
    assert!(errors.iter().any(|error| error.path.ends_with("supportingInfo[0].code.coding[0].code")), "{errors:?}");
}
