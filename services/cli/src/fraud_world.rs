//! `claimtrail generate --fraud-labels DIR`: the labelled fraud world
//! (libs/fraud-world) as FHIR claims, with its labels and the reference
//! facts the detectors need written into `DIR`:
//!
//! - `fraud-labels.csv`: `claim_id,pattern,duplicates` (the claim a duplicate duplicates, else empty);
//! - `fraud-labels-providers.csv`: `npi,date,pattern` (the date empty for upcoding and velocity);
//! - `fraud-exclusions.csv` (`npi,from,until`), `fraud-deaths.csv` (`payer_id,member_id,date_of_death`),
//!   `fraud-providers.csv` (`npi,taxonomy,name`).
//!
//! Claim ids are the generator's: `Claim.id`; the provider's number is `Claim.identifier`.
//! COB secondary claims of the world are left out of the FHIR (the FHIR reader carries no
//! COB yet); they are benign, so no label refers to them.

use std::path::Path;

use anyhow::Context as _;
use claimtrail_events::{Money, format_date};
use claimtrail_fraud::{Frequency, Sex};
use claimtrail_fraud_world::{LabelledWorld, SynthClaim, WorldConfig};
use serde_json::{Value, json};

use crate::world::{Patient, claim_template, number, set_parties};

/// The labelled world of about `n_claims` claims with services up to `end`, for `generate` and `up --demo`.
pub fn labelled_world(seed: u64, n_claims: u64, end: time::Date) -> LabelledWorld {
    LabelledWorld::generate(WorldConfig::for_claims(seed, n_claims, end))
}

/// The FHIR claims of the world in ledger order (COB secondaries left out), each with the generator's claim.
pub fn fhir_claims(world: &LabelledWorld) -> Vec<(&SynthClaim, Value)> {
    world.claims.iter().filter(|claim| !claim.cob_secondary).map(|claim| (claim, fhir_claim(world, claim))).collect()
}

fn diagnosis_of(taxonomy: &str) -> &'static str {
    match taxonomy {
        "207RC0000X" => "I25.10",
        "207X00000X" => "M17.11",
        "2084P0800X" => "F41.1",
        "225100000X" => "M54.50",
        "291U00000X" => "E78.5",
        _ => "I10",
    }
}

/// One generated claim as a FHIR R4 Claim (the template of `generate`'s other claims).
pub fn fhir_claim(world: &LabelledWorld, claim: &SynthClaim) -> Value {
    let first = claim.lines.iter().map(|line| line.service_date).min().unwrap_or(claim.received);
    let last = claim.lines.iter().map(|line| line.service_date).max().unwrap_or(claim.received);
    let mut fhir = claim_template();
    fhir["id"] = json!(claim.claim_id.to_string());
    fhir["identifier"][0]["value"] = json!(claim.control_number);
    fhir["billablePeriod"] = json!({"start": format_date(first), "end": format_date(last)});
    fhir["created"] = json!(format!("{}T12:00:00Z", format_date(claim.received)));
    let gender = match claim.person.sex {
        Sex::Female => "female",
        Sex::Male => "male",
        Sex::Unknown => "unknown",
    };
    let patient = Patient {
        member_id: &claim.member_id,
        family: &claim.person.family_name,
        given: &claim.person.given_name,
        gender,
        birth_date: claim.person.birth_date,
    };
    let provider_name =
        world.providers.iter().find(|provider| provider.npi == claim.billing_npi).map_or("Synthetic Provider", |provider| provider.name.as_str());
    let tin = format!("8{}", &claim.billing_npi[1..9]);
    let payer_name = format!("Synthetic Health Plan {}", claim.payer_id);
    let coverage = (world.config.start() - time::Duration::days(365), world.config.end + time::Duration::days(365));
    set_parties(&mut fhir, &patient, (&claim.payer_id, &payer_name), (&claim.billing_npi, &tin, provider_name), coverage);
    fhir["diagnosis"] = json!([{"sequence": 1, "diagnosisCodeableConcept": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": diagnosis_of(&claim.taxonomy)}]}}]);
    let items: Vec<Value> = claim
        .lines
        .iter()
        .enumerate()
        .map(|(line_idx, line)| {
            let system = if line.code.starts_with(char::is_alphabetic) { "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets" } else { "http://www.ama-assn.org/go/cpt" };
            let unit_cents = line.charge_cents / i64::from(line.units.max(1));
            let mut item = json!({
                "sequence": line_idx + 1,
                "careTeamSequence": [1],
                "diagnosisSequence": [1],
                "productOrService": {"coding": [{"system": system, "code": line.code}]},
                "servicedDate": format_date(line.service_date),
                "locationCodeableConcept": {"coding": [{"system": "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set", "code": line.place_of_service}]},
                "quantity": {"value": line.units},
                "unitPrice": {"value": number(Money::from_cents(unit_cents)), "currency": "USD"},
                "net": {"value": number(Money::from_cents(unit_cents * i64::from(line.units.max(1)))), "currency": "USD"}
            });
            if !line.modifiers.is_empty() {
                item["modifier"] = Value::Array(line.modifiers.iter().map(|modifier| json!({"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": modifier}]})).collect());
            }
            item
        })
        .collect();
    let total_cents: i64 = claim.lines.iter().map(|line| line.charge_cents / i64::from(line.units.max(1)) * i64::from(line.units.max(1))).sum();
    fhir["item"] = Value::Array(items);
    fhir["total"] = json!({"value": number(Money::from_cents(total_cents)), "currency": "USD"});
    if let Some(replaces) = claim.replaces {
        let related = json!([{"claim": {"identifier": {"value": replaces.to_string()}}, "relationship": {"coding": [{"code": "replaces"}]}}]);
        fhir["related"] = related;
        if claim.frequency == Frequency::Void {
            fhir["status"] = json!("cancelled");
            fhir["related"][0].as_object_mut().map(|relation| relation.remove("relationship"));
        }
    }
    fhir
}

/// Writes the labels and the reference facts into `dir`.
pub fn write_labels(world: &LabelledWorld, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let write = |name: &str, text: String| std::fs::write(dir.join(name), text).with_context(|| format!("writing {}", dir.join(name).display()));
    write("fraud-labels.csv", world.claim_labels_csv())?;
    write("fraud-labels-providers.csv", world.provider_labels_csv())?;
    let mut exclusions = String::from("npi,from,until\n");
    for (npi, period) in &world.exclusions {
        exclusions.push_str(&format!("{npi},{},{}\n", format_date(period.from), period.until.map(format_date).unwrap_or_default()));
    }
    write("fraud-exclusions.csv", exclusions)?;
    let mut deaths = String::from("payer_id,member_id,date_of_death\n");
    for death in &world.deaths {
        deaths.push_str(&format!("{},{},{}\n", death.payer_id, death.member_id, format_date(death.date)));
    }
    write("fraud-deaths.csv", deaths)?;
    let mut providers = String::from("npi,taxonomy,name\n");
    for provider in &world.providers {
        providers.push_str(&format!("{},{},{}\n", provider.npi, provider.specialty.taxonomy, provider.name));
    }
    write("fraud-providers.csv", providers)
}

/// `generate --fraud-labels`: the world's claims as FHIR Bundles of `bundle_size` on `out`, labels in `dir`, prevalence on stderr.
pub fn generate(seed: u64, n_claims: u64, end: time::Date, bundle_size: u64, dir: &Path, out: &mut dyn std::io::Write) -> anyhow::Result<()> {
    let world = labelled_world(seed, n_claims, end);
    write_labels(&world, dir)?;
    let claims = fhir_claims(&world);
    for chunk in claims.chunks(bundle_size.max(1) as usize) {
        let entries: Vec<Value> = chunk.iter().map(|(claim, fhir)| json!({"fullUrl": format!("urn:uuid:{}", claim.claim_id), "resource": fhir})).collect();
        serde_json::to_writer(&mut *out, &json!({"resourceType": "Bundle", "type": "batch", "entry": entries}))?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    eprintln!(
        "{} claims ({} providers, {} days to {}); labels in {}; prevalence (seed {seed}):",
        claims.len(),
        world.providers.len(),
        world.config.days,
        format_date(end),
        dir.display()
    );
    for prevalence in world.prevalence() {
        eprintln!("  {prevalence}");
    }
    Ok(())
}
