//! `claimtrail up --demo`: an idempotent demo payer, providers, members and
//! tenants of every role, written to `<data dir>/demo-credentials.json` and
//! stable across restarts; then a stream of sample claims.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use claimtrail_adjudication::api::FeeBody;
use claimtrail_adjudication::api::policy::PolicyKind;
use claimtrail_events::Money;
use claimtrail_intake::auth::{self, Role};
use claimtrail_runtime::Runtime;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::watch;

pub const CREDENTIALS_FILE: &str = "demo-credentials.json";

/// Sample claims one start of the demo submits, at most (`CLAIMTRAIL_DEMO_CLAIMS` overrides).
const DEMO_CLAIMS_PER_START: usize = 200;
/// Claims per submitted bundle.
const DEMO_BUNDLE_CLAIMS: usize = 10;

pub const DEMO_PAYER_ID: &str = "60054";
const DEMO_PROVIDER_NPIS: [&str; 2] = ["1245319599", "1003000126"];
pub const DEMO_PROVIDER_TIN: &str = "123456789";

/// The contract's credentials file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Credentials {
    pub tenants: Vec<Value>,
    pub members: Vec<Value>,
}

impl Credentials {
    /// The API key of the first tenant of `role`.
    pub fn key_of(&self, role: &str) -> Option<String> {
        self.tenants.iter().find(|t| t["role"] == role).and_then(|t| t["api_key"].as_str()).map(str::to_owned)
    }
}

fn runtime_of<'a>(runtimes: &'a [Runtime], service: &str) -> anyhow::Result<&'a Runtime> {
    runtimes.iter().find(|r| r.store.service() == service).with_context(|| format!("no {service} service"))
}

/// The demo fee schedule: HCPCS Level II and one E/M code, per unit.
fn fee_schedule() -> Vec<FeeBody> {
    [("99213", "92.00"), ("99214", "131.00"), ("G0008", "30.00"), ("G0009", "31.50"), ("J1100", "0.45"), ("J3420", "1.10"), ("36415", "3.00")]
        .iter()
        .map(|(code, amount)| FeeBody { procedure_code: (*code).to_owned(), amount: Money::parse(amount).expect("demo amounts are valid") })
        .collect()
}

/// The demo payer's policy data: the tables in `services/cli/demo/` (CMS
/// layouts where CMS has one, docs/policy-data.md otherwise), prior
/// authorizations dated around the clock, and the rule set of
/// `libs/rules/tests/fixtures/demo-rule-set.json` in force over the demo
/// period. README "The demo payer's policy" lists what each one does.
fn demo_policy_tables(today: time::Date) -> Vec<(PolicyKind, Vec<u8>)> {
    let (start, end) = demo_period_around(today);
    let compact = |date: time::Date| claimtrail_events::format_date(date).replace('-', "");
    let prior_authorizations = format!(
        "auth_number,member_id,provider_npi,code,units,start_date,end_date,status\n\
         PA-DEMO-0001,MBR-0002,{npi},C8908,1,{from},{to},approved\n\
         PA-DEMO-0002,MBR-0005,{npi},C8908,1,{from},{to},denied\n",
        npi = DEMO_PROVIDER_NPIS[1],
        from = compact(start),
        to = compact(end),
    );
    vec![
        (PolicyKind::NcciPtp, include_bytes!("../demo/ncci-ptp.csv").to_vec()),
        (PolicyKind::Mue, include_bytes!("../demo/mue.csv").to_vec()),
        (PolicyKind::Exclusions, include_bytes!("../demo/exclusions.csv").to_vec()),
        (PolicyKind::PriorAuthorizations, prior_authorizations.into_bytes()),
        (PolicyKind::Rvu, include_bytes!("../demo/pprrvu.csv").to_vec()),
        (PolicyKind::Gpci, include_bytes!("../demo/gpci.csv").to_vec()),
        (PolicyKind::ZipLocalities, include_bytes!("../demo/zip5.txt").to_vec()),
        (PolicyKind::FeeSchedules, include_bytes!("../demo/fee-schedule.csv").to_vec()),
    ]
}

/// The demo rule set, in force from the start of the demo period.
fn demo_rule_set(today: time::Date) -> anyhow::Result<Value> {
    let mut rule_set: Value = serde_json::from_str(include_str!("../../../libs/rules/tests/fixtures/demo-rule-set.json"))?;
    let (start, _) = demo_period_around(today);
    rule_set["policy"]["effective_from"] = json!(claimtrail_events::format_date(start));
    Ok(rule_set)
}

/// The name of the demo payer's rule set.
pub const DEMO_RULE_SET: &str = "demo-policy";

/// The demo members' benefit plan (the enrollments name it): office visits
/// a 20.00 copay, vaccines and their administration free, everything else a
/// 250.00 deductible then 20% (docs/benefits.md; README "The demo payer's policy").
pub const DEMO_PLAN_ID: &str = "DEMO-PPO";
const DEMO_PLAN: &str = include_str!("../demo/plan.json");

/// Uploads the demo payer's policy over the payer API, as a payer would:
/// each table and the rule set once (a kind the payer already has a version
/// of is left alone, so restarts add nothing).
async fn upload_policy(url: &str, payer_key: &str, today: time::Date) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let base = format!("{url}/v1/payers/{DEMO_PAYER_ID}");
    let listing: Value = client.get(format!("{base}/policy-versions")).bearer_auth(payer_key).send().await?.error_for_status()?.json().await?;
    let present: Vec<String> = listing["versions"].as_array().into_iter().flatten().filter_map(|v| v["kind"].as_str().map(str::to_owned)).collect();
    let (start, _) = demo_period_around(today);
    let effective_from = claimtrail_events::format_date(start);
    for (kind, body) in demo_policy_tables(today) {
        if present.iter().any(|k| k == kind.as_str()) {
            continue;
        }
        let section = if kind.is_edit_table() { "edit-tables" } else { "policy" };
        let response = client
            .post(format!("{base}/{section}/{}?effective_from={effective_from}", kind.as_str()))
            .bearer_auth(payer_key)
            .header("content-type", "text/csv")
            .body(body)
            .send()
            .await?;
        if !response.status().is_success() {
            anyhow::bail!("uploading the demo {} table: {} {}", kind.as_str(), response.status(), response.text().await.unwrap_or_default());
        }
    }
    if !present.iter().any(|k| k == PolicyKind::RuleSet.as_str()) {
        let response = client.put(format!("{base}/rule-sets/{DEMO_RULE_SET}")).bearer_auth(payer_key).json(&demo_rule_set(today)?).send().await?;
        if !response.status().is_success() {
            anyhow::bail!("uploading the demo rule set: {} {}", response.status(), response.text().await.unwrap_or_default());
        }
    }
    if !present.iter().any(|k| k == claimtrail_adjudication::api::plans::PLAN_KIND) {
        let response = client
            .put(format!("{base}/plans/{DEMO_PLAN_ID}?effective_from={effective_from}"))
            .bearer_auth(payer_key)
            .header("content-type", "application/json")
            .body(DEMO_PLAN)
            .send()
            .await?;
        if !response.status().is_success() {
            anyhow::bail!("uploading the demo plan: {} {}", response.status(), response.text().await.unwrap_or_default());
        }
    }
    Ok(())
}

/// Coverage, enrollment and licences span last year to next year (by the
/// clock, `claimtrail_events::today`), so that the demo's recent dates of
/// service are always covered.
fn demo_period() -> (time::Date, time::Date) {
    demo_period_around(claimtrail_events::today())
}

/// January 1 of the year before `today` to December 31 of the year after.
fn demo_period_around(today: time::Date) -> (time::Date, time::Date) {
    let year = today.year();
    let start = time::Date::from_calendar_date(year - 1, time::Month::January, 1).unwrap_or(time::Date::MIN);
    let end = time::Date::from_calendar_date(year + 1, time::Month::December, 31).unwrap_or(time::Date::MAX);
    (start, end)
}

/// Members and provider enrollments as reference events (idempotent: they are
/// published only when intake does not know them yet).
async fn publish_reference_data(intake: &Runtime) -> anyhow::Result<()> {
    use sea_orm::TransactionTrait;
    let store = &intake.store;
    if claimtrail_intake::reference::member_count(&intake.store, DEMO_PAYER_ID).await? > 0 {
        return Ok(());
    }
    let (start, end) = demo_period();
    let enrolled = member_enrollments(&demo_members())?;
    let tx = store.db().begin().await?;
    claimtrail_intake::reference::store_members(intake, &tx, enrolled).await?;
    // The individual carries the last name, first name and birth date the
    // exclusion list is matched on when its rows have no NPI.
    for (npi, entity_type, name, taxonomy, individual) in [
        ("1245319599", 2u8, "Riverside Family Practice", "261QP2300X", None),
        ("1003000126", 1u8, "Robin Example MD", "207Q00000X", Some(("EXAMPLE", "ROBIN", "1975-04-12"))),
    ] {
        let body = claimtrail_intake::reference::EnrollmentBody {
            entity_type,
            name: name.to_owned(),
            tin: DEMO_PROVIDER_TIN.to_owned(),
            taxonomy: taxonomy.to_owned(),
            enrollment_start: claimtrail_events::format_date(start),
            enrollment_end: claimtrail_events::format_date(end),
            last_name: individual.map(|(last, _, _)| last.to_owned()),
            first_name: individual.map(|(_, first, _)| first.to_owned()),
            birth_date: individual.map(|(_, _, born)| born.to_owned()),
        };
        let enrollment = claimtrail_intake::reference::validate_enrollment(npi, DEMO_PAYER_ID, &body)
            .map_err(|errors| anyhow::anyhow!("demo provider {npi} is invalid: {errors:?}"))?;
        claimtrail_intake::reference::store_enrollment(intake, &tx, enrollment).await?;
    }
    tx.commit().await?;
    intake.relay_wakeup.notify_waiters();
    Ok(())
}

/// The enrollments of `members` (as [`demo_members`] describes them) in the
/// demo payer's plan, validated as intake validates a member upload.
pub(crate) fn member_enrollments(members: &[Value]) -> anyhow::Result<Vec<claimtrail_events::MemberEnrolled>> {
    let mut enrolled = Vec::with_capacity(members.len());
    for member in members {
        let text = |field: &str| member[field].as_str().unwrap_or_default().to_owned();
        let body = claimtrail_intake::reference::MemberBody {
            family_name: text("family_name"),
            given_name: text("given_name"),
            birth_date: text("birth_date"),
            sex: text("sex"),
            plan_id: DEMO_PLAN_ID.to_owned(),
            coverage_start: text("coverage_start"),
            coverage_end: text("coverage_end"),
            date_of_death: None,
            subscriber_id: None,
            relationship: None,
            zip: None,
        };
        let member_id = text("member_id");
        enrolled.push(
            claimtrail_intake::reference::validate_member(DEMO_PAYER_ID, &member_id, &body, "")
                .map_err(|errors| anyhow::anyhow!("demo member {member_id} is invalid: {errors:?}"))?,
        );
    }
    Ok(enrolled)
}

/// The demo provider organization: the tenant whose keys bill under the demo NPIs.
pub const DEMO_PROVIDER_ORGANIZATION: &str = "Riverside Family Practice";

/// The payer (timely filing 365 days) and the providers' registrations,
/// both NPIs billed by the demo provider organization (idempotent: only
/// when the payer is not registered yet, so older demo data dirs get them too).
async fn publish_registry(intake: &Runtime) -> anyhow::Result<()> {
    use claimtrail_intake::registry::{self, BankAccountBody, LicenceBody, PayToBody, PayerBody, ProviderBody};
    use sea_orm::TransactionTrait;
    let store = &intake.store;
    if claimtrail_intake::reference::payer_registered(&intake.store, DEMO_PAYER_ID).await? {
        return Ok(());
    }
    let payer = registry::validate_payer(DEMO_PAYER_ID, &PayerBody { name: "Demo Health Plan".into(), timely_filing_days: 365 })
        .map_err(|errors| anyhow::anyhow!("demo payer is invalid: {errors:?}"))?;
    let (_, licence_end) = demo_period();
    let tx = store.db().begin().await?;
    registry::store_payer(intake, &tx, payer).await?;
    for (npi, entity_type, name, taxonomy, licence) in
        [("1245319599", 2u8, "Riverside Family Practice", "261QP2300X", None), ("1003000126", 1u8, "Robin Example MD", "207Q00000X", Some(("MD-48213", "IL")))]
    {
        let body = ProviderBody {
            entity_type,
            name: name.to_owned(),
            tin: DEMO_PROVIDER_TIN.to_owned(),
            taxonomy: taxonomy.to_owned(),
            organization: DEMO_PROVIDER_ORGANIZATION.to_owned(),
            licence: licence.map(|(number, state)| LicenceBody {
                number: number.to_owned(),
                state: state.to_owned(),
                expires: claimtrail_events::format_date(licence_end),
            }),
            pay_to: PayToBody {
                name: DEMO_PROVIDER_ORGANIZATION.to_owned(),
                address_line: "100 River Road".to_owned(),
                city: "Springfield".to_owned(),
                state: "IL".to_owned(),
                postal_code: "62701".to_owned(),
            },
            bank_account: Some(BankAccountBody { routing_number: "011000015".into(), account_number: "000123456789".into(), account_type: "checking".into() }),
        };
        let provider = registry::validate_provider(npi, &body).map_err(|errors| anyhow::anyhow!("demo provider {npi} is invalid: {errors:?}"))?;
        registry::store_provider(intake, &tx, provider).await?;
    }
    tx.commit().await?;
    intake.relay_wakeup.notify_waiters();
    Ok(())
}

/// The demo members, as the credentials file lists them.
pub fn demo_members() -> Vec<Value> {
    let (start, end) = demo_period();
    let (coverage_start, coverage_end) = (claimtrail_events::format_date(start), claimtrail_events::format_date(end));
    let people = [
        ("MBR-0001", "Synthetic", "Pat", "1961-04-12", "female"),
        ("MBR-0002", "Example", "Lee", "1975-09-30", "male"),
        ("MBR-0003", "Sample", "Jordan", "1988-01-17", "female"),
        ("MBR-0004", "Sample", "Avery", "2014-06-05", "male"),
        ("MBR-0005", "Testcase", "Morgan", "1949-11-23", "female"),
        ("MBR-0006", "Placeholder", "Casey", "1992-03-08", "male"),
    ];
    people
        .iter()
        .map(|(member_id, family, given, birth, sex)| {
            json!({"member_id": member_id, "payer_id": DEMO_PAYER_ID, "family_name": family, "given_name": given,
                   "birth_date": birth, "sex": sex, "coverage_start": coverage_start, "coverage_end": coverage_end})
        })
        .collect()
}

/// Waits until adjudication has recorded the demo payer, its last member and
/// a provider's enrollment: the registry reaches adjudication on another
/// stream than the claims, and a claim decided before its member is known pends.
async fn wait_for_adjudication_registry(adjudication: &Runtime) -> anyhow::Result<()> {
    let members = demo_members();
    let last_member = members.last().and_then(|member| member["member_id"].as_str()).unwrap_or_default().to_owned();
    let store = &adjudication.store;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let payer = claimtrail_adjudication::storage::payer(store, store.reader(), DEMO_PAYER_ID, None).await?;
        let member = claimtrail_adjudication::storage::member(store, store.reader(), DEMO_PAYER_ID, &last_member, None).await?;
        let provider = claimtrail_adjudication::storage::provider(store, store.reader(), DEMO_PROVIDER_NPIS[0], DEMO_PAYER_ID, None).await?;
        if payer.is_some() && member.is_some() && provider.is_some() {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            tracing::warn!("adjudication had not recorded the demo payer, members and providers after 30 s; early demo claims may pend");
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Seeds once; later starts reuse the credentials file when its keys still work.
pub async fn seed(runtimes: &[Runtime], data_dir: &Path, url: &str) -> anyhow::Result<Credentials> {
    let credentials = seed_registry(runtimes, data_dir).await?;
    let payer_key = credentials.key_of("payer").context("the demo credentials hold no payer key")?;
    upload_policy(url, &payer_key, claimtrail_events::today()).await.context("uploading the demo payer's policy")?;
    Ok(credentials)
}

/// The payer, providers, members and tenants, and the credentials file.
async fn seed_registry(runtimes: &[Runtime], data_dir: &Path) -> anyhow::Result<Credentials> {
    let intake = runtime_of(runtimes, claimtrail_intake::SERVICE)?;
    let adjudication = runtime_of(runtimes, claimtrail_adjudication::SERVICE)?;

    let schedule = claimtrail_adjudication::storage::fee_schedule(&adjudication.store, adjudication.store.db(), DEMO_PAYER_ID).await?;
    if schedule.is_none() {
        let body = claimtrail_adjudication::api::FeeScheduleBody { fee_schedule_id: "demo-2026".into(), entries: fee_schedule() };
        claimtrail_adjudication::api::publish_schedule(adjudication, DEMO_PAYER_ID, body)
            .await
            .map_err(|problem| anyhow::anyhow!("publishing the demo fee schedule: {}", problem.detail))?;
    }

    publish_reference_data(intake).await?;
    publish_registry(intake).await?;
    wait_for_adjudication_registry(adjudication).await?;

    let path = data_dir.join(CREDENTIALS_FILE);
    if let Ok(text) = std::fs::read_to_string(&path)
        && let Ok(credentials) = serde_json::from_str::<Credentials>(&text)
    {
        // Still known, and (finance and auditor keys of data dirs from before keys were scoped) reading the demo payer.
        let mut all_valid = true;
        for tenant in &credentials.tenants {
            let key = tenant["api_key"].as_str().unwrap_or_default();
            all_valid &=
                auth::verify_key(&intake.registry, key).await?.is_some_and(|tenant| tenant.role == Role::Provider || tenant.payers.includes(DEMO_PAYER_ID));
        }
        if all_valid && !credentials.tenants.is_empty() {
            return Ok(credentials);
        }
    }

    let mut tenants = Vec::new();
    let roles: [(&str, Role, Value); 5] = [
        (DEMO_PROVIDER_ORGANIZATION, Role::Provider, json!({"npis": DEMO_PROVIDER_NPIS, "tin": DEMO_PROVIDER_TIN, "payer_ids": [DEMO_PAYER_ID]})),
        ("Demo Health Plan", Role::Payer, json!({"payer_id": DEMO_PAYER_ID})),
        ("Demo Health Plan Finance", Role::Finance, json!({"payer_ids": [DEMO_PAYER_ID]})),
        ("State Audit Office", Role::Auditor, json!({"payer_ids": [DEMO_PAYER_ID]})),
        ("Claimtrail Operator", Role::Admin, json!({})),
    ];
    for (name, role, fields) in roles {
        let payer_ids = if matches!(role, Role::Payer | Role::Finance | Role::Auditor) { vec![DEMO_PAYER_ID.to_owned()] } else { vec![] };
        let key = auth::create_key(&intake.registry, name, role, &payer_ids, false).await?;
        let mut tenant = json!({"name": name, "role": role.as_str(), "api_key": key.api_key});
        if let (Some(tenant_map), Some(extra)) = (tenant.as_object_mut(), fields.as_object()) {
            for (field, value) in extra {
                tenant_map.insert(field.clone(), value.clone());
            }
        }
        tenants.push(tenant);
    }
    let credentials = Credentials { tenants, members: demo_members() };
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_string_pretty(&credentials)? + "\n").with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &path)?;
    Ok(credentials)
}

/// A realistic professional claim for a demo member: an office visit, maybe a
/// flu shot with its administration, maybe an injection; dates in the last weeks.
pub fn demo_claim(sequence: u64, member_id: &str, today: time::Date) -> Value {
    let mut claim: Value = serde_json::from_str(include_str!("../../../libs/fhir/tests/fixtures/claim-professional.json")).expect("fixture is JSON");
    let service_date = claimtrail_events::format_date(today - time::Duration::days((sequence % 28) as i64 + 1));
    claim["id"] = json!(format!("demo-{sequence}"));
    claim["identifier"][0]["value"] = json!(format!("DEMO-{sequence:08}"));
    claim["billablePeriod"] = json!({"start": service_date, "end": service_date});
    claim["created"] = json!(format!("{service_date}T12:00:00Z"));
    if let Some(contained) = claim["contained"].as_array_mut() {
        for resource in contained {
            if resource["resourceType"] == "Coverage" {
                let (start, end) = demo_period_around(today);
                resource["subscriberId"] = json!(member_id);
                resource["period"] = json!({"start": claimtrail_events::format_date(start), "end": claimtrail_events::format_date(end)});
            }
            if resource["resourceType"] == "Patient" {
                resource["identifier"][0]["value"] = json!(member_id);
            }
        }
    }
    let visit = if sequence.is_multiple_of(3) { ("99214", "165.00") } else { ("99213", "120.00") };
    let mut lines: Vec<(&str, u32, &str)> = vec![(visit.0, 1, visit.1)];
    if sequence.is_multiple_of(2) {
        lines.push(("G0008", 1, "25.00"));
    }
    if sequence % 5 == 1 {
        lines.push(("J1100", 4, "2.50"));
    }
    if sequence % 7 == 3 {
        lines.push(("36415", 1, "12.00"));
    }
    let mut total_cents = 0i64;
    let items: Vec<Value> = lines
        .iter()
        .enumerate()
        .map(|(line_idx, (code, units, unit_price))| {
            let unit = Money::parse(unit_price).expect("demo prices are valid");
            let net_cents = unit.cents().expect("demo prices fit in cents") * i64::from(*units);
            total_cents += net_cents;
            let system = if code.starts_with(char::is_alphabetic) { "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets" } else { "http://www.ama-assn.org/go/cpt" };
            json!({
                "sequence": line_idx + 1,
                "careTeamSequence": [1],
                "diagnosisSequence": [if *code == "G0008" { 2 } else { 1 }],
                "productOrService": {"coding": [{"system": system, "code": code}]},
                "servicedDate": service_date,
                "locationCodeableConcept": {"coding": [{"system": "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set", "code": "11"}]},
                "quantity": {"value": units},
                "unitPrice": {"value": number(unit), "currency": "USD"},
                "net": {"value": number(Money::from_cents(net_cents)), "currency": "USD"}
            })
        })
        .collect();
    claim["item"] = Value::Array(items);
    claim["total"] = json!({"value": number(Money::from_cents(total_cents)), "currency": "USD"});
    claim
}

/// The member the README's "Try it" claims bill (`generate --seed 2`): the
/// demo's stream leaves it alone, so that claim meets no duplicate.
pub const TRY_IT_MEMBER: &str = "MBR-0003";

/// The stream's `sequence`-th claim: a [`demo_claim`] for one of the other
/// members, dated so that a member's claims in a run of 280 fall on distinct
/// days (no accidental duplicates), and, every tenth claim in turn, a line
/// that meets the demo payer's policy: an NCCI pair (the visit denied
/// CO-97), an MUE (CO-151, N362), an advanced-imaging line needing a prior
/// authorization (paid for MBR-0002, who has one; CO-197 otherwise), an
/// unclassified drug (pended), or two joint injections with modifiers that
/// lift the pair (the second reduced 50%, CO-59).
pub fn stream_claim(sequence: u64, members: &[String], today: time::Date) -> Value {
    let members: Vec<&String> = members.iter().filter(|m| *m != TRY_IT_MEMBER).collect();
    let member = members[(sequence % members.len().max(1) as u64) as usize];
    let mut claim = demo_claim(sequence, member, today);
    let days_ago = (sequence / members.len().max(1) as u64) % 56 + 1;
    let service_date = claimtrail_events::format_date(today - time::Duration::days(days_ago as i64));
    claim["billablePeriod"] = json!({"start": service_date, "end": service_date});
    claim["created"] = json!(format!("{service_date}T12:00:00Z"));
    with_billing_address(&mut claim);
    let scenario = match sequence % 10 {
        1 => Some(Scenario::Ncci),
        3 => Some(Scenario::Mue),
        5 => Some(Scenario::Imaging),
        7 => Some(Scenario::UnclassifiedDrug),
        9 => Some(Scenario::MultipleProcedure),
        _ => None,
    };
    if let Some(scenario) = scenario {
        with_scenario(&mut claim, scenario);
    }
    for item in claim["item"].as_array_mut().into_iter().flatten() {
        item["servicedDate"] = json!(service_date);
    }
    claim
}

/// A claim that meets one part of the demo payer's policy (README, "The demo
/// payer's policy").
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// An arthrocentesis (20610) beside the office visit, without modifier 25:
    /// the visit is column two of an NCCI pair and is denied CO-97. Billed
    /// by the practitioner (Robin Example MD) rather than the practice: the
    /// pair is unbundling by the payer's own NCCI table, so the fraud service
    /// flags it and settlement holds that NPI's payments, not the practice's.
    Ncci,
    /// Three venipunctures (36415 × 3) on one day, over the MUE of 2: CO-151, N362.
    Mue,
    /// A breast MRI (C8908), which the rule set says needs a prior
    /// authorization: paid for MBR-0002 (PA-DEMO-0001), CO-197 for anyone else.
    Imaging,
    /// An unclassified drug (J3490): the claim pends for review.
    UnclassifiedDrug,
    /// Two joint injections (20610-RT, 20605-59-LT) with the visit marked 25
    /// (and no venipuncture, which 20610 bundles with indicator 0): the
    /// modifiers lift the NCCI pairs and the second procedure is reduced 50%
    /// (CO-59).
    MultipleProcedure,
}

/// Gives a [`demo_claim`]'s billing organization its address, whose ZIP
/// (35203) is the GPCI locality RBRVS prices the scenarios' procedures in.
fn with_billing_address(claim: &mut Value) {
    if let Some(contained) = claim["contained"].as_array_mut() {
        // The practitioner's too: it bills the NCCI scenario.
        for resource in contained.iter_mut().filter(|r| r["id"] == "billing" || r["id"] == "rendering") {
            resource["address"] = json!([{"line": ["1200 Riverside Dr"], "city": "Birmingham", "state": "AL", "postalCode": "35203"}]);
        }
    }
}

/// Adds `scenario`'s lines (and modifiers) to a [`demo_claim`], and the
/// billing address that prices them.
pub fn with_scenario(claim: &mut Value, scenario: Scenario) {
    with_billing_address(claim);
    match scenario {
        Scenario::Ncci => {
            add_line(claim, "20610", &[], 1, "140.00");
            claim["provider"] = json!({"reference": "#rendering"});
        }
        Scenario::Mue => add_line(claim, "36415", &[], 3, "12.00"),
        Scenario::Imaging => add_line(claim, "C8908", &[], 1, "950.00"),
        Scenario::UnclassifiedDrug => add_line(claim, "J3490", &[], 1, "80.00"),
        Scenario::MultipleProcedure => {
            // A venipuncture some visits carry is column two of 20610 with indicator 0, which no modifier lifts.
            remove_lines(claim, "36415");
            add_line(claim, "20610", &["RT"], 1, "140.00");
            add_line(claim, "20605", &["59", "LT"], 1, "110.00");
            set_modifiers(claim, &["25"]);
        }
    }
}

/// Appends a line to a [`demo_claim`] and adds its charge to the total.
fn add_line(claim: &mut Value, code: &str, modifiers: &[&str], units: u32, unit_price: &str) {
    let unit = Money::parse(unit_price).expect("demo prices are valid");
    let net = Money::from_cents(unit.cents().expect("demo prices fit in cents") * i64::from(units));
    let Some(items) = claim["item"].as_array_mut() else { return };
    items.retain(|item| item["productOrService"]["coding"][0]["code"] != code);
    let mut item = items[0].clone();
    item["sequence"] = json!(items.len() + 1);
    let system =
        if code.starts_with(char::is_alphabetic) { "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets" } else { "http://www.ama-assn.org/go/cpt" };
    item["productOrService"] = json!({"coding": [{"system": system, "code": code}]});
    if !modifiers.is_empty() {
        item["modifier"] = json!(modifiers.iter().map(|m| json!({"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": m}]})).collect::<Vec<_>>());
    }
    item["quantity"] = json!({"value": units});
    item["unitPrice"] = json!({"value": number(unit), "currency": "USD"});
    item["net"] = json!({"value": number(net), "currency": "USD"});
    items.push(item);
    retotal(claim);
}

/// Takes `code`'s lines off a [`demo_claim`], numbers the others again and totals it.
fn remove_lines(claim: &mut Value, code: &str) {
    let Some(items) = claim["item"].as_array_mut() else { return };
    items.retain(|item| item["productOrService"]["coding"][0]["code"] != code);
    for (line_idx, item) in items.iter_mut().enumerate() {
        item["sequence"] = json!(line_idx + 1);
    }
    retotal(claim);
}

/// Sets a [`demo_claim`]'s total to the sum of its lines.
fn retotal(claim: &mut Value) {
    let lines = claim["item"].as_array().into_iter().flatten();
    let total_cents = lines.filter_map(|item| Money::parse(&item["net"]["value"].to_string()).ok()?.cents().ok()).sum::<i64>();
    claim["total"] = json!({"value": number(Money::from_cents(total_cents)), "currency": "USD"});
}

/// Puts `modifiers` on the claim's first line (the office visit).
fn set_modifiers(claim: &mut Value, modifiers: &[&str]) {
    claim["item"][0]["modifier"] =
        json!(modifiers.iter().map(|m| json!({"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": m}]})).collect::<Vec<_>>());
}

fn number(money: Money) -> Value {
    serde_json::from_str::<serde_json::Number>(&money.to_string()).map(Value::Number).unwrap_or(Value::Null)
}

/// Submits sample claims through the public API, a bundle every few seconds;
/// answers how many it submitted.
pub async fn stream_claims(url: String, credentials: Credentials, mut stop: watch::Receiver<bool>) -> usize {
    let Some(key) = credentials.key_of("provider") else { return 0 };
    let member_ids: Vec<String> = credentials.members.iter().filter_map(|m| m["member_id"].as_str().map(str::to_owned)).collect();
    let client = reqwest::Client::new();
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let mut sequence = seed % 1_000_000 * 1_000;
    let mut submitted = 0usize;
    let claims_max = std::env::var("CLAIMTRAIL_DEMO_CLAIMS").ok().and_then(|v| v.parse().ok()).unwrap_or(DEMO_CLAIMS_PER_START);
    while submitted < claims_max && !*stop.borrow() {
        let today = claimtrail_events::today();
        let entries: Vec<Value> = (0..DEMO_BUNDLE_CLAIMS)
            .map(|_| {
                sequence += 1;
                json!({"fullUrl": format!("urn:uuid:{}", uuid::Uuid::now_v7()), "resource": stream_claim(sequence, &member_ids, today)})
            })
            .collect();
        let bundle = json!({"resourceType": "Bundle", "type": "batch", "entry": entries});
        match client.post(format!("{url}/v1/claims")).bearer_auth(&key).header("content-type", "application/fhir+json").json(&bundle).send().await {
            Ok(response) if response.status().is_success() => submitted += DEMO_BUNDLE_CLAIMS,
            Ok(response) => tracing::warn!(status = %response.status(), "demo submission refused"),
            Err(e) => tracing::warn!(error.message = %e, "demo submission failed"),
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(3)) => {}
            _ = stop.changed() => {}
        }
    }
    submitted
}

/// The file `up --demo` writes its payment cycle's bank statement to (BAI2), in the data directory.
pub const BANK_STATEMENT_FILE: &str = "demo-bank-statement.bai2";

/// The demo payer's bank account (ODFI routing number and account) and TIN.
const DEMO_PAYER_BANKING: (&str, &str, &str) = ("031000053", "4400012345", "251234567");

/// The demo's payment cycle, once its sample claims are in: the demo payer's
/// banking (`PUT /v1/payers/60054/banking`, as finance), the demo providers'
/// accounts counted as verified by a prenote a week before (so that the demo
/// pays by ACH at once; a real account waits 3 banking days), a payment run
/// (`POST /v1/payment-runs`, as finance), and the bank statement the payer's
/// bank would send for it, written to `<data dir>/demo-bank-statement.bai2`
/// for finance to import (README "Paying the demo claims").
pub async fn payment_cycle(runtimes: &[Runtime], data_dir: &Path, url: &str, credentials: &Credentials) -> anyhow::Result<Option<std::path::PathBuf>> {
    use claimtrail_settlement::domain::bank::{ExpectedDebit, bai2};
    use claimtrail_settlement::storage::payments;
    let settlement = runtime_of(runtimes, claimtrail_settlement::SERVICE)?;
    let store = &settlement.store;
    let finance = credentials.key_of("finance").context("the demo credentials hold no finance key")?;
    let today = claimtrail_events::today();

    // Settlement knows the demo providers (provider.registered.v1) and has booked what adjudication decided.
    let (mut last, mut quiet) = (usize::MAX, 0);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while tokio::time::Instant::now() < deadline && quiet < 3 {
        let payees = payments::payees(store, store.reader()).await?;
        let known = DEMO_PROVIDER_NPIS.iter().all(|npi| payees.contains_key(*npi));
        let unpaid = payments::unpaid_payables(store, store.reader(), DEMO_PAYER_ID).await?.len();
        quiet = if known && unpaid > 0 && unpaid == last { quiet + 1 } else { 0 };
        last = unpaid;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let known: Vec<&str> = {
        let payees = payments::payees(store, store.reader()).await?;
        DEMO_PROVIDER_NPIS.iter().copied().filter(|npi| payees.get(*npi).is_some_and(|payee| payee.bank_account.is_some())).collect()
    };
    claimtrail_settlement::accounts::prenoted_before(store, &known, today - time::Duration::days(7), today).await?;

    let client = reqwest::Client::new();
    let (routing_number, account_number, tin) = DEMO_PAYER_BANKING;
    let banking = json!({"name": "Demo Health Plan", "tin": tin, "routing_number": routing_number, "account_number": account_number,
        "address": {"name": "Demo Health Plan", "address_line": "1 Plan Way", "city": "Springfield", "state": "IL", "postal_code": "62701"}});
    let response = client.put(format!("{url}/v1/payers/{DEMO_PAYER_ID}/banking")).bearer_auth(&finance).json(&banking).send().await?;
    anyhow::ensure!(response.status().is_success(), "the demo payer's banking: {}", response.text().await?);
    let response = client
        .post(format!("{url}/v1/payment-runs"))
        .bearer_auth(&finance)
        .header("idempotency-key", format!("demo-cycle-{}", uuid::Uuid::now_v7()))
        .json(&json!({"payer_id": DEMO_PAYER_ID}))
        .send()
        .await?;
    anyhow::ensure!(response.status().is_success(), "the demo payment run: {}", response.text().await?);
    let run: Value = response.json().await?;
    let run_id: uuid::Uuid = run["run_id"].as_str().and_then(|id| id.parse().ok()).context("the run answered no run_id")?;
    let debits: Vec<ExpectedDebit> =
        payments::ach_batches(store, store.db(), run_id).await?.iter().map(|batch| ExpectedDebit::of_batch(run_id, batch)).collect();
    if debits.iter().all(|debit| debit.amount.is_zero()) {
        tracing::info!(%run_id, "the demo payment run moved no money; no bank statement written");
        return Ok(None);
    }
    // One file id per run of the payer: a statement is recognized by it, so each cycle's is new.
    let file_id = u32::try_from(payments::runs_of(store, store.db(), DEMO_PAYER_ID).await?.len()).unwrap_or(u32::MAX);
    let header = bai2::Bai2Header { sender: routing_number.into(), receiver: DEMO_PAYER_ID.into(), created_on: today, file_id, account: account_number.into() };
    let path = data_dir.join(BANK_STATEMENT_FILE);
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bai2::write_debits(&header, &debits)).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &path)?;
    tracing::info!(%run_id, remittances = run["remittances"].as_array().map_or(0, Vec::len), statement = %path.display(), "demo payment run made; its bank statement is written");
    Ok(Some(path))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use time::macros::date;

    fn member_ids() -> Vec<String> {
        demo_members().iter().filter_map(|m| m["member_id"].as_str().map(str::to_owned)).collect()
    }

    fn codes(claim: &Value) -> Vec<String> {
        claim["item"].as_array().into_iter().flatten().filter_map(|item| item["productOrService"]["coding"][0]["code"].as_str().map(str::to_owned)).collect()
    }

    #[test]
    fn the_demo_plan_compiles_and_puts_the_try_it_lines_in_their_categories() {
        let plan = claimtrail_benefits::Plan::from_json(DEMO_PLAN.as_bytes()).expect("the demo plan is valid");
        let category = |code: &str| plan.category_name(plan.category_of(code, Some("11"))).to_owned();
        assert_eq!([category("99213"), category("G0008"), category("J1100")], ["office_visit", "preventive", "medical"]);
    }

    #[test]
    fn the_stream_leaves_the_try_it_member_alone_and_never_repeats_a_member_day() {
        let today = date!(2031 - 03 - 15);
        let members = member_ids();
        let mut seen = HashSet::new();
        for sequence in 7_000..7_280 {
            let claim = stream_claim(sequence, &members, today);
            let member = claim["contained"].as_array().unwrap().iter().find(|r| r["resourceType"] == "Coverage").unwrap()["subscriberId"].clone();
            assert_ne!(member, json!(TRY_IT_MEMBER));
            let day = claim["billablePeriod"]["start"].clone();
            assert!(seen.insert((member, day.clone())), "sequence {sequence} repeats a member's day");
            for item in claim["item"].as_array().unwrap() {
                assert_eq!(item["servicedDate"], day);
            }
        }
    }

    #[test]
    fn every_stream_claim_maps_through_the_fhir_reader_with_its_total_and_the_policy_lines() {
        let today = date!(2031 - 03 - 15);
        let members = member_ids();
        for sequence in 100..120 {
            let claim = stream_claim(sequence, &members, today);
            let body = serde_json::to_vec(&claim).unwrap();
            let submission = claimtrail_fhir::parse_submission(&body, today).expect("maps");
            let mapped = submission.entries.into_iter().next().unwrap().expect("maps");
            assert!(mapped.issues.is_empty(), "sequence {sequence}: {:?}", mapped.issues);
            let lines: i64 = mapped.claim.lines.iter().map(|line| line.charge.cents().unwrap()).sum();
            assert_eq!(mapped.claim.total_charge.cents().unwrap(), lines, "sequence {sequence}");
            assert_eq!(mapped.claim.service_zip.as_deref(), Some("35203"), "sequence {sequence}: the billing address gives the GPCI locality");
            let expected = match sequence % 10 {
                1 => Some("20610"),
                3 => Some("36415"),
                5 => Some("C8908"),
                7 => Some("J3490"),
                9 => Some("20605"),
                _ => None,
            };
            if let Some(code) = expected {
                assert!(codes(&claim).iter().any(|c| c == code), "sequence {sequence} lacks {code}");
            }
        }
    }

    #[test]
    fn under_the_demo_payers_own_ncci_edits_the_scanner_flags_only_the_ncci_scenario_billed_by_the_practitioner() {
        // The regression of issue 20: the joint injections with 25, RT and 59/LT were flagged as unbundling, and
        // so were the demo's claims under the fraud world's payers' pairs. The NCCI scenario's pair is unlifted.
        use claimtrail_fraud::{Pattern, Reference, ScanConfig, Scanner};
        use claimtrail_fraud_service::domain::claim::ScannedClaim;
        use claimtrail_fraud_service::domain::policy::{InForce, NCCI_PTP, PolicyRows};
        let today = date!(2031 - 03 - 15);
        let (start, _) = demo_period_around(today);
        let mut reference = Reference::new();
        let demo_ncci = include_bytes!("../demo/ncci-ptp.csv");
        let world_ncci = crate::demo_fraud::ncci_csv().into_bytes();
        for (payer_id, body) in [(DEMO_PAYER_ID, demo_ncci.as_slice()), ("70001", world_ncci.as_slice())] {
            let rows = PolicyRows::of(NCCI_PTP, &hex::encode(claimtrail_events::sha3_256(body)), body).expect("the table loads");
            rows.add_to(payer_id, InForce { effective_from: start, effective_to: None }, &mut reference);
        }
        let mut scanner = Scanner::new(reference, ScanConfig::standard());
        let members = member_ids();
        for sequence in 100..300u64 {
            let claim = stream_claim(sequence, &members, today);
            let submission = claimtrail_fhir::parse_submission(&serde_json::to_vec(&claim).unwrap(), today).expect("maps");
            let mapped = submission.entries.into_iter().next().unwrap().expect("maps").parse().expect("every edit passes");
            let billing_npi = mapped.billing_npi.to_string();
            let submitted = claimtrail_events::ClaimSubmitted {
                claim: mapped,
                submitter: DEMO_PROVIDER_ORGANIZATION.into(),
                channel: "fhir".into(),
                received_at: claimtrail_events::Timestamp::parse("2031-03-15T10:00:00.000000Z").unwrap(),
                submission_signature: None,
                fingerprints: vec![],
            };
            let facts = ScannedClaim::of(&submitted, None).unwrap().facts(sequence);
            let unbundling: Vec<String> = scanner.observe(&facts).into_iter().filter(|f| f.pattern == Pattern::Unbundling).map(|f| f.reason).collect();
            let ncci_scenario = sequence % 10 == 1;
            assert_eq!(!unbundling.is_empty(), ncci_scenario, "sequence {sequence}: {unbundling:?}");
            assert_eq!(billing_npi, DEMO_PROVIDER_NPIS[usize::from(ncci_scenario)], "sequence {sequence}");
        }
    }

    #[test]
    fn the_policy_tables_load_and_the_prior_authorizations_span_the_demo_period() {
        let today = date!(2031 - 03 - 15);
        for (kind, body) in demo_policy_tables(today) {
            let rows = kind.load(&body).unwrap_or_else(|e| panic!("{}: {e:?}", kind.as_str()));
            assert!(rows > 0, "{} is empty", kind.as_str());
        }
        let (_, body) = demo_policy_tables(today).into_iter().find(|(kind, _)| *kind == PolicyKind::PriorAuthorizations).unwrap();
        let text = String::from_utf8(body).unwrap();
        assert!(text.contains("MBR-0002,1003000126,C8908,1,20300101,20321231,approved"), "{text}");
        let rule_set = demo_rule_set(today).unwrap();
        assert_eq!(rule_set["policy"]["effective_from"], json!("2030-01-01"));
        claimtrail_rules::RuleSet::parse(DEMO_RULE_SET, &serde_json::to_vec(&rule_set).unwrap()).expect("the demo rule set parses");
    }
}
