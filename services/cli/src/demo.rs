//! `claimtrail up --demo`: an idempotent demo payer, providers, members and
//! tenants of every role, written to `<data dir>/demo-credentials.json` and
//! stable across restarts; then a stream of sample claims.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use claimtrail_adjudication::api::FeeBody;
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
    fn key_of(&self, role: &str) -> Option<String> {
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
    let mut enrolled = Vec::new();
    for member in demo_members() {
        let body = claimtrail_intake::reference::MemberBody {
            family_name: member["family_name"].as_str().unwrap_or_default().to_owned(),
            given_name: member["given_name"].as_str().unwrap_or_default().to_owned(),
            birth_date: member["birth_date"].as_str().unwrap_or_default().to_owned(),
            sex: member["sex"].as_str().unwrap_or_default().to_owned(),
            plan_id: "DEMO-PPO".to_owned(),
            coverage_start: member["coverage_start"].as_str().unwrap_or_default().to_owned(),
            coverage_end: member["coverage_end"].as_str().unwrap_or_default().to_owned(),
            date_of_death: None,
            subscriber_id: None,
            relationship: None,
            zip: None,
        };
        let member_id = member["member_id"].as_str().unwrap_or_default();
        enrolled.push(
            claimtrail_intake::reference::validate_member(DEMO_PAYER_ID, member_id, &body, "")
                .map_err(|errors| anyhow::anyhow!("demo member {member_id} is invalid: {errors:?}"))?,
        );
    }
    let tx = store.db().begin().await?;
    claimtrail_intake::reference::store_members(intake, &tx, enrolled).await?;
    for (npi, entity_type, name, taxonomy) in
        [("1245319599", 2u8, "Riverside Family Practice", "261QP2300X"), ("1003000126", 1u8, "Robin Example MD", "207Q00000X")]
    {
        let body = claimtrail_intake::reference::EnrollmentBody {
            entity_type,
            name: name.to_owned(),
            tin: DEMO_PROVIDER_TIN.to_owned(),
            taxonomy: taxonomy.to_owned(),
            enrollment_start: claimtrail_events::format_date(start),
            enrollment_end: claimtrail_events::format_date(end),
        };
        let enrollment = claimtrail_intake::reference::validate_enrollment(npi, DEMO_PAYER_ID, &body)
            .map_err(|errors| anyhow::anyhow!("demo provider {npi} is invalid: {errors:?}"))?;
        claimtrail_intake::reference::store_enrollment(intake, &tx, enrollment).await?;
    }
    tx.commit().await?;
    intake.relay_wakeup.notify_waiters();
    Ok(())
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
pub async fn seed(runtimes: &[Runtime], data_dir: &Path) -> anyhow::Result<Credentials> {
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

fn number(money: Money) -> Value {
    serde_json::from_str::<serde_json::Number>(&money.to_string()).map(Value::Number).unwrap_or(Value::Null)
}

/// Submits sample claims through the public API, a bundle every few seconds.
pub async fn stream_claims(url: String, credentials: Credentials, mut stop: watch::Receiver<bool>) {
    let Some(key) = credentials.key_of("provider") else { return };
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
                let member = &member_ids[(sequence as usize) % member_ids.len().max(1)];
                json!({"fullUrl": format!("urn:uuid:{}", uuid::Uuid::now_v7()), "resource": demo_claim(sequence, member, today)})
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
}
