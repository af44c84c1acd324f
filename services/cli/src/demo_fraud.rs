//! `up --demo`'s labelled fraud world (issue 20): a small world of
//! libs/fraud-world, its payers, providers and members registered (intake's
//! registry functions, as the demo's own payer is), its exclusion list and
//! NCCI pairs uploaded as each payer's policy (adjudication's API, with the
//! demo admin key), its claims submitted in ledger order over
//! `POST /v1/claims` (the generator's claim ids mapped to the ids intake
//! gives), and its labels written with those ids:
//!
//! - `<data dir>/demo-fraud-labels.csv`: `claim_id,pattern`;
//! - `<data dir>/demo-fraud-labels-providers.csv`: `npi,date,pattern`.
//!
//! Every claim reaches intake on the day `up` runs, so the world leaves out
//! velocity spikes (a spike is many claims *received* on one day against the
//! days before), and at this size upcoding (peer scoring needs 30 E/M
//! claims of a provider in a month): both are measured on generated data
//! (docs/benchmarks.md). `CLAIMTRAIL_DEMO_FRAUD_CLAIMS` sizes the world
//! (0 skips it); the labels files mark it done, so a restart adds nothing.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use claimtrail_events::format_date;
use claimtrail_fraud::{Level, Pattern, Sex};
use claimtrail_fraud_world::{LabelledWorld, SynthClaim, WorldConfig};
use claimtrail_intake::auth::{self, Role};
use claimtrail_runtime::Runtime;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::demo::Credentials;

pub const LABELS_FILE: &str = "demo-fraud-labels.csv";
pub const PROVIDER_LABELS_FILE: &str = "demo-fraud-labels-providers.csv";
/// Claims of the demo's fraud world, about (`CLAIMTRAIL_DEMO_FRAUD_CLAIMS` overrides; 0 skips it).
pub const DEMO_FRAUD_CLAIMS: u64 = 2_000;
/// The world's seed (`CLAIMTRAIL_DEMO_FRAUD_SEED` overrides): not one the detectors were tuned on.
pub const DEMO_FRAUD_SEED: u64 = 31;
/// The organization whose key bills under the world's NPIs.
pub const NETWORK: &str = "Synthetic Provider Network";
/// Claims per submitted bundle.
const BUNDLE_CLAIMS: usize = 50;

/// The demo's world: about `n_claims` claims with services up to the day before `today`,
/// without the patterns a demo cannot show (see the module doc).
pub fn demo_world(seed: u64, n_claims: u64, today: time::Date) -> LabelledWorld {
    let config = WorldConfig::for_claims(seed, n_claims, today - time::Duration::days(1)).without(Pattern::VelocitySpike).without(Pattern::Upcoding);
    LabelledWorld::generate(config)
}

/// The size and seed from the environment.
pub fn configured() -> (u64, u64) {
    let parse = |name: &str| std::env::var(name).ok().and_then(|value| value.trim().parse::<u64>().ok());
    (parse("CLAIMTRAIL_DEMO_FRAUD_CLAIMS").unwrap_or(DEMO_FRAUD_CLAIMS), parse("CLAIMTRAIL_DEMO_FRAUD_SEED").unwrap_or(DEMO_FRAUD_SEED))
}

/// Injects the world once per data directory; answers how many claims it submitted (0 when skipped or done before).
pub async fn inject(runtimes: &[Runtime], data_dir: &Path, url: &str, credentials: &Credentials) -> anyhow::Result<usize> {
    let (n_claims, seed) = configured();
    if n_claims == 0 || data_dir.join(LABELS_FILE).exists() {
        return Ok(0);
    }
    let world = demo_world(seed, n_claims, claimtrail_events::today());
    let intake = runtime_of(runtimes, claimtrail_intake::SERVICE)?;
    register(intake, &world).await.context("registering the fraud world's payers, providers and members")?;
    let admin = credentials.key_of("admin").context("the demo credentials hold no admin key")?;
    upload_policy(url, &admin, &world).await.context("uploading the fraud world's exclusion list and NCCI pairs")?;
    wait_for_reference(runtimes, &world).await?;
    let provider_key = auth::create_key(&intake.registry, NETWORK, Role::Provider, &[], false).await?.api_key;
    let ids = submit(url, &provider_key, &world).await.context("submitting the fraud world's claims")?;
    write_labels(&world, &ids, data_dir)?;
    tracing::info!(claims = ids.len(), labels = %data_dir.join(LABELS_FILE).display(), "the demo's fraud world is submitted; its labels are written");
    Ok(ids.len())
}

fn runtime_of<'a>(runtimes: &'a [Runtime], service: &str) -> anyhow::Result<&'a Runtime> {
    runtimes.iter().find(|r| r.store.service() == service).with_context(|| format!("no {service} service"))
}

/// The dates every registration spans: a year either side of the world's period.
fn coverage(world: &LabelledWorld) -> (time::Date, time::Date) {
    (world.config.start() - time::Duration::days(365), world.config.end + time::Duration::days(365))
}

fn tin_of(npi: &str) -> String {
    format!("8{}", &npi[1..9])
}

/// The payers (timely filing 365 days), the providers (billed by [`NETWORK`]) and their
/// enrollment with every payer, and each member at each payer covering them, with the
/// date of death where there is one (every payer of a member records it).
async fn register(intake: &Runtime, world: &LabelledWorld) -> anyhow::Result<()> {
    use claimtrail_intake::reference::{self, EnrollmentBody, MemberBody};
    use claimtrail_intake::registry::{self, LicenceBody, PayToBody, PayerBody, ProviderBody};
    use sea_orm::TransactionTrait;
    let (start, end) = coverage(world);
    let tx = intake.store.db().begin().await?;
    for payer_id in claimtrail_fraud_world::world::PAYERS {
        let payer = registry::validate_payer(payer_id, &PayerBody { name: format!("Synthetic Health Plan {payer_id}"), timely_filing_days: 365 })
            .map_err(|errors| anyhow::anyhow!("payer {payer_id} is invalid: {errors:?}"))?;
        registry::store_payer(intake, &tx, payer).await?;
    }
    for provider in &world.providers {
        let entity_type = provider.specialty.entity_type;
        let body = ProviderBody {
            entity_type,
            name: provider.name.clone(),
            tin: tin_of(&provider.npi),
            taxonomy: provider.specialty.taxonomy.to_owned(),
            organization: NETWORK.to_owned(),
            licence: (entity_type == 1).then(|| LicenceBody { number: format!("MD-{}", &provider.npi[4..10]), state: "AL".into(), expires: format_date(end) }),
            pay_to: PayToBody {
                name: provider.name.clone(),
                address_line: "1200 Riverside Dr".into(),
                city: "Birmingham".into(),
                state: "AL".into(),
                postal_code: "35203".into(),
            },
            bank_account: None,
        };
        let registered =
            registry::validate_provider(&provider.npi, &body).map_err(|errors| anyhow::anyhow!("provider {} is invalid: {errors:?}", provider.npi))?;
        registry::store_provider(intake, &tx, registered).await?;
        for payer_id in claimtrail_fraud_world::world::PAYERS {
            let body = EnrollmentBody {
                entity_type,
                name: provider.name.clone(),
                tin: tin_of(&provider.npi),
                taxonomy: provider.specialty.taxonomy.to_owned(),
                enrollment_start: format_date(start),
                enrollment_end: format_date(end),
                last_name: None,
                first_name: None,
                birth_date: None,
            };
            let enrollment = reference::validate_enrollment(&provider.npi, payer_id, &body)
                .map_err(|errors| anyhow::anyhow!("enrollment of {} with {payer_id} is invalid: {errors:?}", provider.npi))?;
            reference::store_enrollment(intake, &tx, enrollment).await?;
        }
    }
    let mut members = Vec::new();
    for member in &world.members {
        let person = &member.person;
        let date_of_death = member.died;
        for (payer_id, member_id) in &member.coverages {
            let body = MemberBody {
                family_name: person.family_name.clone(),
                given_name: person.given_name.clone(),
                birth_date: format_date(person.birth_date),
                sex: match person.sex {
                    Sex::Female => "female",
                    Sex::Male => "male",
                    Sex::Unknown => "unknown",
                }
                .to_owned(),
                plan_id: "SYNTHETIC".to_owned(),
                coverage_start: format_date(start),
                coverage_end: format_date(end),
                date_of_death: date_of_death.map(format_date),
                subscriber_id: None,
                relationship: None,
                zip: None,
            };
            members.push(
                reference::validate_member(payer_id, member_id, &body, "").map_err(|errors| anyhow::anyhow!("member {member_id} is invalid: {errors:?}"))?,
            );
        }
    }
    reference::store_members(intake, &tx, members).await?;
    tx.commit().await?;
    intake.relay_wakeup.notify_waiters();
    Ok(())
}

/// The world's exclusion list as an OIG LEIE file (docs/policy-data.md).
pub fn exclusions_csv(world: &LabelledWorld) -> String {
    let compact = |date: time::Date| format_date(date).replace('-', "");
    let mut csv = String::from(
        "LASTNAME,FIRSTNAME,MIDNAME,BUSNAME,GENERAL,SPECIALTY,UPIN,NPI,DOB,ADDRESS,CITY,STATE,ZIP,EXCLTYPE,EXCLDATE,REINDATE,WAIVERDATE,WVRSTATE\n",
    );
    for (npi, period) in &world.exclusions {
        let name = world.providers.iter().find(|provider| &provider.npi == npi).map_or("SYNTHETIC PROVIDER", |provider| provider.name.as_str());
        let reinstated = period.until.map_or_else(|| "00000000".to_owned(), compact);
        csv.push_str(&format!(
            "\"\",\"\",\"\",\"{}\",\"BUSINESS\",\"\",\"\",{npi},00000000,\"1200 RIVERSIDE DR\",\"BIRMINGHAM\",\"AL\",35203,1128a1,{},{reinstated},00000000,\"\"\n",
            name.to_uppercase(),
            compact(period.from)
        ));
    }
    csv
}

/// The world's NCCI-like pairs as a CMS practitioner PTP file.
pub fn ncci_csv() -> String {
    let mut csv = String::from(
        "\"Synthetic world: Practitioner PTP Edits (the labelled fraud world's pairs)\"\n\
         Column 1,Column 2,*=in existence prior to 1996,Effective Date,Deletion Date *=no data,Modifier 0=not allowed 1=allowed 9=not applicable,PTP Edit Rationale\n",
    );
    for (comprehensive, component, modifier_allowed) in claimtrail_fraud_world::catalogue::PAIRS {
        let effective = format_date(claimtrail_fraud_world::catalogue::PAIRS_EFFECTIVE).replace('-', "");
        csv.push_str(&format!("{comprehensive},{component},,{effective},*,{},Synthetic world pair\n", u8::from(*modifier_allowed)));
    }
    csv
}

/// Each payer's exclusion list and NCCI pairs, as payers upload them (a version in force from well before the period).
async fn upload_policy(url: &str, admin_key: &str, world: &LabelledWorld) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let effective_from = format_date(world.config.start() - time::Duration::days(3 * 365));
    for payer_id in claimtrail_fraud_world::world::PAYERS {
        for (table, body) in [("exclusions", exclusions_csv(world)), ("ncci-ptp", ncci_csv())] {
            let response = client
                .post(format!("{url}/v1/payers/{payer_id}/edit-tables/{table}?effective_from={effective_from}"))
                .bearer_auth(admin_key)
                .header("content-type", "text/csv")
                .body(body)
                .send()
                .await?;
            anyhow::ensure!(
                response.status().is_success(),
                "uploading {payer_id}'s {table}: {} {}",
                response.status(),
                response.text().await.unwrap_or_default()
            );
        }
    }
    Ok(())
}

/// Waits until adjudication knows the world's last member and the fraud service holds every payer's
/// policy and the world's deaths and specialties: those travel on the reference stream, the claims on
/// another, and a claim scanned before them would be scanned without them.
async fn wait_for_reference(runtimes: &[Runtime], world: &LabelledWorld) -> anyhow::Result<()> {
    let adjudication = runtime_of(runtimes, claimtrail_adjudication::SERVICE)?;
    let fraud = runtime_of(runtimes, claimtrail_fraud_service::SERVICE)?;
    let last = world.members.last().and_then(|member| member.coverages.last()).context("the world has no members")?;
    let n_deaths = world.members.iter().filter(|member| member.died.is_some()).map(|member| member.coverages.len()).sum::<usize>();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let (adjudication_store, fraud_store) = (&adjudication.store, &fraud.store);
        let member = claimtrail_adjudication::storage::member(adjudication_store, adjudication_store.reader(), &last.0, &last.1, None).await?;
        let (deaths, specialties) = claimtrail_fraud_service::storage::reference(fraud_store, fraud_store.reader()).await?;
        let mut n_policies = 0;
        for payer_id in claimtrail_fraud_world::world::PAYERS {
            for kind in claimtrail_fraud_service::domain::policy::KINDS {
                n_policies +=
                    usize::from(!claimtrail_fraud_service::storage::policy_version_ids(fraud_store, fraud_store.reader(), payer_id, kind).await?.is_empty());
            }
        }
        let n_known = world.providers.iter().filter(|provider| specialties.iter().any(|(npi, _)| *npi == provider.npi)).count();
        let ready =
            member.is_some() && deaths.len() >= n_deaths && n_known == world.providers.len() && n_policies == 2 * claimtrail_fraud_world::world::PAYERS.len();
        if ready {
            return Ok(());
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "after 120 s adjudication {} the world's members; the fraud service holds {} of {n_deaths} deaths, {n_known} of {} providers, {n_policies} of 6 policies",
            if member.is_some() { "knows" } else { "does not know" },
            deaths.len(),
            world.providers.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Submits the world's claims in ledger order (COB secondaries left out, see `fraud_world::fhir_claims`),
/// a replacement or void naming its original by the id intake gave it; answers generator id → intake id.
async fn submit(url: &str, provider_key: &str, world: &LabelledWorld) -> anyhow::Result<HashMap<Uuid, Uuid>> {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(120)).build()?;
    // Bundles of at most BUNDLE_CLAIMS, a new one before a replacement or void of a claim in the current one
    // (it names its original by intake's id, known once the original's bundle is answered).
    let mut bundles: Vec<Vec<&SynthClaim>> = vec![Vec::new()];
    for claim in world.claims.iter().filter(|claim| !claim.cob_secondary) {
        let current = bundles.last_mut().expect("one bundle at least");
        let names_current = claim.replaces.is_some_and(|original| current.iter().any(|earlier| earlier.claim_id == original));
        if current.len() >= BUNDLE_CLAIMS || names_current {
            bundles.push(Vec::new());
        }
        bundles.last_mut().expect("pushed").push(claim);
    }
    let mut ids: HashMap<Uuid, Uuid> = HashMap::new();
    for chunk in bundles.iter().filter(|bundle| !bundle.is_empty()) {
        let entries: Vec<Value> = chunk
            .iter()
            .map(|claim| {
                let mut fhir = crate::fraud_world::fhir_claim(world, claim);
                if let Some(original) = claim.replaces.and_then(|original| ids.get(&original)) {
                    fhir["related"][0]["claim"]["identifier"]["value"] = json!(original.to_string());
                }
                json!({"fullUrl": format!("urn:uuid:{}", claim.claim_id), "resource": fhir})
            })
            .collect();
        let bundle = json!({"resourceType": "Bundle", "type": "batch", "entry": entries});
        let mut n_refused = 0;
        let (status, answer) = loop {
            let response =
                client.post(format!("{url}/v1/claims")).bearer_auth(provider_key).header("content-type", "application/fhir+json").json(&bundle).send().await?;
            // Over the key's rate: wait a second and send it again (nothing of a refused request is kept).
            if response.status() == reqwest::StatusCode::TOO_MANY_REQUESTS && n_refused < 30 {
                n_refused += 1;
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            break (response.status(), response.json::<Value>().await?);
        };
        anyhow::ensure!(status.is_success(), "the fraud world's bundle was refused: {status} {answer}");
        let outcomes = answer["outcomes"].as_array().context("no outcomes in the answer")?;
        anyhow::ensure!(outcomes.len() == chunk.len(), "{} outcomes for {} claims", outcomes.len(), chunk.len());
        for (claim, outcome) in chunk.iter().zip(outcomes) {
            if outcome["status"] != "accepted" {
                tracing::warn!(claim = %claim.control_number, outcome = %outcome, "a claim of the fraud world was not accepted");
            }
            if let Some(id) = outcome["claim_id"].as_str().and_then(|id| Uuid::parse_str(id).ok()) {
                ids.insert(claim.claim_id, id);
            }
        }
    }
    Ok(ids)
}

/// The labels with intake's claim ids: claim-level ones of submitted claims, and the provider ones.
pub fn labels_csv(world: &LabelledWorld, ids: &HashMap<Uuid, Uuid>) -> (String, String) {
    let mut claims = String::from("claim_id,pattern\n");
    for label in &world.claim_labels {
        if let Some(id) = ids.get(&label.claim_id) {
            claims.push_str(&format!("{id},{}\n", label.pattern));
        }
    }
    let mut providers = String::from("npi,date,pattern\n");
    for label in world.provider_labels.iter().filter(|label| label.pattern.level() != Level::Claim) {
        providers.push_str(&format!("{},{},{}\n", label.npi, label.date.map(format_date).unwrap_or_default(), label.pattern));
    }
    (claims, providers)
}

fn write_labels(world: &LabelledWorld, ids: &HashMap<Uuid, Uuid>, data_dir: &Path) -> anyhow::Result<()> {
    let (claims, providers) = labels_csv(world, ids);
    // The provider labels first: the claim labels mark the world done.
    for (name, text) in [(PROVIDER_LABELS_FILE, providers), (LABELS_FILE, claims)] {
        let path = data_dir.join(name);
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use claimtrail_fraud::ScanConfig;
    use claimtrail_fraud_world::{scan, score};
    use time::macros::date;

    #[test]
    fn the_demo_world_leaves_out_velocity_and_upcoding_and_labels_the_rest() {
        let world = demo_world(DEMO_FRAUD_SEED, DEMO_FRAUD_CLAIMS, date!(2031 - 03 - 15));
        for prevalence in world.prevalence() {
            let expected_none = matches!(prevalence.pattern, Pattern::VelocitySpike | Pattern::Upcoding);
            assert_eq!(prevalence.n_labelled == 0, expected_none, "{prevalence}");
        }
        assert!(world.claims.iter().all(|claim| claim.lines.iter().all(|line| line.service_date < date!(2031 - 03 - 15))));
    }

    #[test]
    fn the_detectors_meet_the_targets_on_the_demo_world_scanned_in_process() {
        // The world size measured through the running stack (README; 1,000 claims); here scanned directly, with the
        // generator's received dates, as a check of the world itself. (At 2,000 claims a benign provider's received
        // dates make one velocity spike here; in the demo every claim is received on one day, so none can.)
        let n_claims = 1_000;
        let world = demo_world(DEMO_FRAUD_SEED, n_claims, date!(2031 - 03 - 15));
        let scan = scan(&world, ScanConfig::standard());
        for one in score(&world, &scan.findings) {
            assert!(
                one.precision() >= 0.95 && one.recall() >= 0.90,
                "{n_claims} claims, {}: labelled {} found {} true {}",
                one.pattern,
                one.n_labelled,
                one.n_found,
                one.n_true
            );
        }
    }

    #[test]
    fn the_labels_carry_intakes_ids_and_leave_out_claims_never_submitted() {
        let world = demo_world(DEMO_FRAUD_SEED, 1_000, date!(2031 - 03 - 15));
        let labelled = &world.claim_labels[0];
        let ids = HashMap::from([(labelled.claim_id, Uuid::from_u128(7))]);
        let (claims, providers) = labels_csv(&world, &ids);
        assert_eq!(claims, format!("claim_id,pattern\n{},{}\n", Uuid::from_u128(7), labelled.pattern));
        assert!(providers.starts_with("npi,date,pattern\n"));
        assert_eq!(providers.lines().count(), world.provider_labels.len() + 1, "{providers}");
    }

    #[test]
    fn the_policy_files_load_as_adjudication_reads_them() {
        let world = demo_world(DEMO_FRAUD_SEED, 1_000, date!(2031 - 03 - 15));
        let rows = claimtrail_adjudication::api::policy::PolicyKind::Exclusions.load(exclusions_csv(&world).as_bytes()).expect("the LEIE file loads");
        assert_eq!(rows, world.exclusions.len());
        let pairs = claimtrail_adjudication::api::policy::PolicyKind::NcciPtp.load(ncci_csv().as_bytes()).expect("the PTP file loads");
        assert_eq!(pairs, claimtrail_fraud_world::catalogue::PAIRS.len());
    }
}
