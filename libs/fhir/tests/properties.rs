//! Properties over hostile input: nothing panics, and every refusal names a FHIRPath.

mod common;

use claimtrail_events::Money;
use claimtrail_fhir::{FhirError, MONEY_CENTS_MAX, Submission, parse_submission};
use common::*;
use proptest::prelude::*;
use serde_json::{Value, json};

/// Element names and values that steer random JSON into the mapping's paths.
const NAMES: &[&str] = &[
    "resourceType",
    "type",
    "entry",
    "resource",
    "fullUrl",
    "status",
    "use",
    "patient",
    "created",
    "provider",
    "priority",
    "insurance",
    "coverage",
    "focal",
    "careTeam",
    "role",
    "identifier",
    "system",
    "value",
    "reference",
    "contained",
    "id",
    "payor",
    "subscriberId",
    "diagnosis",
    "sequence",
    "diagnosisCodeableConcept",
    "coding",
    "code",
    "item",
    "productOrService",
    "modifier",
    "quantity",
    "unitPrice",
    "net",
    "currency",
    "servicedDate",
    "servicedPeriod",
    "start",
    "billablePeriod",
    "locationCodeableConcept",
    "diagnosisSequence",
    "total",
    "related",
    "claim",
    "relationship",
    "insurer",
];
const WORDS: &[&str] = &[
    "Claim",
    "Bundle",
    "batch",
    "transaction",
    "collection",
    "active",
    "cancelled",
    "claim",
    "professional",
    "institutional",
    "Coverage",
    "Patient",
    "Organization",
    "Practitioner",
    "#patient",
    "#coverage",
    "#payer",
    "#billing",
    "#",
    "http://hl7.org/fhir/sid/us-npi",
    "http://hl7.org/fhir/sid/icd-10-cm",
    "1234567893",
    "2026-02-10",
    "2026-02",
    "Organization?identifier=|",
    "Coverage/",
    "/_history/",
    "USD",
    "replaces",
    "primary",
    "MB",
    "E11.9",
    "G0008",
    "é",
];

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter("JSON numbers are finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        (0i64..100_000, 0u32..6).prop_map(|(n, scale)| serde_json::from_str(&rust_decimal::Decimal::new(n, scale).to_string()).unwrap()),
        "\\PC{0,16}".prop_map(Value::String),
        prop::sample::select(WORDS).prop_map(|word| json!(word)),
    ];
    leaf.prop_recursive(5, 96, 8, |inner| {
        let key = prop_oneof![3 => prop::sample::select(NAMES).prop_map(str::to_owned), 1 => "\\PC{0,8}"];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key, inner), 0..8).prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

/// Every JSON pointer inside `value` (not the root).
fn pointers(value: &Value, prefix: String, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let pointer = format!("{prefix}/{key}");
                found.push(pointer.clone());
                pointers(child, pointer, found);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                let pointer = format!("{prefix}/{index}");
                found.push(pointer.clone());
                pointers(child, pointer, found);
            }
        }
        _ => {}
    }
}

fn all_pointers(value: &Value) -> Vec<String> {
    let mut found = Vec::new();
    pointers(value, String::new(), &mut found);
    found
}

/// Ok, or Invalid with at least one error, and every path (errors and issues) under `root`.
fn check_outcome(outcome: Result<Submission, FhirError>, root: &str) -> Result<(), TestCaseError> {
    match outcome {
        Ok(submission) => {
            for entry in &submission.entries {
                match entry {
                    Ok(claim) => {
                        for issue in &claim.issues {
                            prop_assert!(issue.path.starts_with(root), "issue path {}", issue.path);
                        }
                    }
                    Err(error) => {
                        prop_assert!(!error.errors.is_empty());
                        for field in &error.errors {
                            prop_assert!(field.path.starts_with(root), "entry error path {}", field.path);
                        }
                    }
                }
            }
        }
        Err(FhirError::Invalid { errors }) => {
            prop_assert!(!errors.is_empty());
            for error in &errors {
                prop_assert!(error.path.starts_with(root) || error.path == "resourceType", "error path {}", error.path);
                prop_assert!(!error.message.is_empty());
            }
        }
        Err(FhirError::Malformed { reason }) => {
            prop_assert!(false, "valid JSON reported as malformed: {reason}")
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_submission(&body, TODAY);
    }

    #[test]
    fn arbitrary_json_never_panics_and_is_never_malformed(value in arb_json()) {
        check_outcome(parse_submission(value.to_string().as_bytes(), TODAY), "")?;
    }

    #[test]
    fn arbitrary_claim_shaped_json_never_panics(mut value in arb_json(), resource_type in prop::sample::select(vec!["Claim", "Bundle"])) {
        if let Value::Object(map) = &mut value {
            map.insert("resourceType".into(), json!(resource_type));
        }
        check_outcome(parse_submission(value.to_string().as_bytes(), TODAY), "")?;
    }

    #[test]
    fn replacing_any_element_of_a_valid_claim_yields_a_claim_or_path_naming_errors(
        pick in any::<prop::sample::Index>(),
        replacement in arb_json(),
        delete in any::<bool>(),
    ) {
        let mut claim = professional_claim();
        let pointers = all_pointers(&claim);
        let pointer = pick.get(&pointers);
        if delete {
            remove(&mut claim, pointer);
        } else {
            *claim.pointer_mut(pointer).unwrap() = replacement;
        }
        if pointer == "/resourceType" {
            return Ok(());
        }
        check_outcome(parse_submission(claim.to_string().as_bytes(), TODAY), "Claim")?;
    }

    #[test]
    fn replacing_any_element_of_a_valid_bundle_yields_claims_or_path_naming_errors(
        pick in any::<prop::sample::Index>(),
        replacement in arb_json(),
        delete in any::<bool>(),
    ) {
        let mut bundle = fixture("bundle-batch.json");
        let pointers = all_pointers(&bundle);
        let pointer = pick.get(&pointers);
        if delete {
            remove(&mut bundle, pointer);
        } else {
            *bundle.pointer_mut(pointer).unwrap() = replacement;
        }
        if pointer == "/resourceType" {
            return Ok(());
        }
        check_outcome(parse_submission(bundle.to_string().as_bytes(), TODAY), "Bundle")?;
    }

    #[test]
    fn any_whole_cent_unit_price_is_read_exactly(cents in 0..=MONEY_CENTS_MAX) {
        let mut claim = professional_claim();
        let amount = Money::from_cents(cents);
        let number: serde_json::Number = serde_json::from_str(&amount.to_string()).unwrap();
        set(&mut claim, "/item/1/unitPrice/value", Value::Number(number));
        remove(&mut claim, "/total");
        let mapped = mapped(&claim);
        prop_assert_eq!(mapped.claim.lines[1].charge, amount);
    }
}
