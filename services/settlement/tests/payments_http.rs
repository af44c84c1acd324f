//! Payment runs over HTTP, in process on SQLite with the embedded bus
//! (the routes `claimtrail serve settlement` mounts): the payer's banking
//! (`PUT /v1/payers/{id}/banking`), `POST /v1/payment-runs` with its
//! Idempotency-Key (replay and conflict), `GET /v1/payment-runs[/{id}]`,
//! holds placed and released, the prenote wait, the 835, the
//! PaymentReconciliation and the ACH file, and every refusal as
//! `application/problem+json` naming the fault.
//!
//! The claims are booked through the storage the consumer uses (the whole
//! pipeline is `tests/tests/settlement.rs`); dates are relative to the
//! services' clock, so no test depends on the day it runs.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use claimtrail_events::{BankAccount, Money, PayTo};
use claimtrail_runtime::auth::{self, Role};
use claimtrail_runtime::{Runtime, ServeSettings};
use claimtrail_settlement::domain::payment_run::{Payable, PayableKind, Payee};
use claimtrail_settlement::storage::payments;
use claimtrail_store::{Store, StoreConfig};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;
use uuid::Uuid;

const PAYER: &str = "P1";
/// Prenoted long ago: paid by ACH.
const NPI_VERIFIED: &str = "1234567893";
/// Registered with a bank account never prenoted.
const NPI_NEW: &str = "1003000126";

struct TestApp {
    runtime: Runtime,
    router: axum::Router,
    finance: String,
    other_finance: String,
    provider: String,
    _dir: tempfile::TempDir,
}

struct Answer {
    status: StatusCode,
    content_type: String,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// A problem+json answer of `status`; its body.
    fn problem(&self, status: StatusCode) -> Value {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(self.content_type, "application/problem+json", "{}", self.text);
        self.json()
    }
}

fn address(name: &str) -> PayTo {
    PayTo { name: name.into(), address_line: "1 MAIN ST".into(), city: "HARRISBURG".into(), state: "PA".into(), postal_code: "171010000".into() }
}

fn banking() -> Value {
    json!({"name": "ACME HEALTH", "tin": "251234567", "routing_number": "031000053", "account_number": "12345",
           "address": {"name": "ACME HEALTH", "address_line": "1 PLAN WAY", "city": "HARRISBURG", "state": "PA", "postal_code": "17101"}})
}

impl TestApp {
    async fn spawn() -> anyhow::Result<TestApp> {
        let dir = tempfile::tempdir()?;
        let database_url = format!("sqlite://{}?mode=rwc", dir.path().join("claimtrail.db").display());
        let mut settings = ServeSettings::with_urls(&database_url, "nats://unused", "t");
        settings.key_dir = dir.path().join("keys");
        let store =
            Store::connect(&StoreConfig { database_url, service: "settlement".into(), prefix: "t".into(), max_connections: 2, statement_timeout: None })
                .await?;
        store.migrate(&claimtrail_settlement::migrations()).await?;
        let bus = claimtrail_bus::embedded::EmbeddedBus::open(&store, "t", &["settlement"]).await?;
        let wakeup = bus.notifier();
        let stop = Arc::new(tokio::sync::watch::channel(false).0);
        let runtime = Runtime::with_parts(store, Arc::new(bus), &settings, wakeup, stop).await?;
        let finance = auth::create_key(&runtime.registry, "finance-team", Role::Finance, &[PAYER.to_owned()], false).await?.api_key;
        let other_finance = auth::create_key(&runtime.registry, "other-finance", Role::Finance, &["P2".to_owned()], false).await?.api_key;
        let provider = auth::create_key(&runtime.registry, "clinic", Role::Provider, &[], false).await?.api_key;
        let router = claimtrail_settlement::parts(&runtime).routes;
        let app = TestApp { runtime, router, finance, other_finance, provider, _dir: dir };
        app.register_payees().await?;
        Ok(app)
    }

    /// Two providers with bank accounts: one verified by a prenote a month ago, one never prenoted.
    async fn register_payees(&self) -> anyhow::Result<()> {
        let store = &self.runtime.store;
        let tx = store.begin().await?;
        for npi in [NPI_VERIFIED, NPI_NEW] {
            let payee = Payee {
                npi: npi.into(),
                name: format!("CLINIC {npi}"),
                tin: "987654321".into(),
                pay_to: address("CLINIC"),
                bank_account: Some(BankAccount { routing_number: "011000015".into(), account_number: format!("ACCT{npi}"), account_type: "checking".into() }),
                prenote_effective_on: None,
                account_hold: None,
            };
            payments::upsert_payee(store, &tx, &payee).await?;
        }
        payments::record_prenote(store, &tx, NPI_VERIFIED, claimtrail_events::today() - time::Duration::days(30)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Books adjudicated claims (id, NPI, cents paid) as the consumer does, adjudicated two days ago (no interest due).
    async fn book(&self, claims: &[(u128, &str, i64)]) -> anyhow::Result<()> {
        let store = &self.runtime.store;
        let tx = store.begin().await?;
        for &(claim, npi, cents) in claims {
            let payable = Payable {
                claim_id: Uuid::from_u128(claim),
                kind: PayableKind::Decision,
                payer_id: PAYER.into(),
                billing_npi: npi.into(),
                patient_control_number: format!("PCN{claim}"),
                member_id: "M1".into(),
                lines: vec![],
                total_charge: Money::from_cents(cents),
                total_paid: Money::from_cents(cents),
                total_patient_responsibility: Money::ZERO,
                adjudicated_on: claimtrail_events::today() - time::Duration::days(2),
                payer_sequence: claimtrail_events::PayerSequence::Primary,
            };
            payments::insert_payable(store, &tx, &payable).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn send(&self, method: &str, uri: &str, key: Option<&str>, headers: &[(&str, &str)], body: &str) -> anyhow::Result<Answer> {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(key) = key {
            request = request.header(header::AUTHORIZATION, format!("Bearer {key}"));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = self.router.clone().oneshot(request.body(Body::from(body.to_owned()))?).await?;
        let status = response.status();
        let content_type = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let bytes = response.into_body().collect().await?.to_bytes();
        Ok(Answer { status, content_type, text: String::from_utf8(bytes.to_vec())? })
    }

    async fn put_banking(&self, key: &str, body: &Value) -> anyhow::Result<Answer> {
        self.send("PUT", &format!("/v1/payers/{PAYER}/banking"), Some(key), &[("content-type", "application/json")], &body.to_string()).await
    }

    async fn run(&self, key: &str, idempotency_key: &str, body: &str) -> anyhow::Result<Answer> {
        self.send("POST", "/v1/payment-runs", Some(key), &[("content-type", "application/json"), ("idempotency-key", idempotency_key)], body).await
    }

    /// A new run for the payer that must be made (201); its body.
    async fn run_ok(&self, idempotency_key: &str) -> anyhow::Result<Value> {
        let answer = self.run(&self.finance, idempotency_key, &json!({"payer_id": PAYER}).to_string()).await?;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
        Ok(answer.json())
    }

    async fn get(&self, key: &str, uri: &str) -> anyhow::Result<Answer> {
        self.send("GET", uri, Some(key), &[], "").await
    }
}

fn remittance_of<'a>(run: &'a Value, npi: &str) -> &'a Value {
    run["remittances"].as_array().unwrap().iter().find(|r| r["pay_to"] == npi).unwrap_or_else(|| panic!("no remittance to {npi} in {run}"))
}

#[tokio::test]
async fn banking_is_refused_field_by_field_and_a_run_without_it_says_what_is_missing() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.book(&[(1, NPI_VERIFIED, 8_000)]).await?;

    // No banking yet: the run names what to do.
    let answer = app.run(&app.finance, "k0", &json!({"payer_id": PAYER}).to_string()).await?;
    let problem = answer.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["detail"], "payer P1 has no banking details; PUT /v1/payers/P1/banking first");

    // A bad TIN and a routing number failing its check digit: both named, nothing stored.
    let mut bad = banking();
    bad["tin"] = json!("25-123456");
    bad["routing_number"] = json!("031000054");
    let problem = app.put_banking(&app.finance, &bad).await?.problem(StatusCode::UNPROCESSABLE_ENTITY);
    let paths: Vec<&str> = problem["errors"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["tin", "routing_number"], "{problem}");
    assert!(problem["errors"][1]["message"].as_str().unwrap().contains("check digit"), "{problem}");
    assert!(payments::payer_banking(&app.runtime.store, app.runtime.store.db(), PAYER).await?.is_none());
    // An unknown member is refused by name; not JSON is a 400.
    let mut extra = banking();
    extra["swift"] = json!("X");
    let problem = app.put_banking(&app.finance, &extra).await?.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(problem["detail"].as_str().unwrap().contains("swift"), "{problem}");
    let answer = app.send("PUT", &format!("/v1/payers/{PAYER}/banking"), Some(&app.finance), &[], "{").await?;
    answer.problem(StatusCode::BAD_REQUEST);

    // Who may: not a provider, not another payer's finance, not without a key.
    app.put_banking(&app.provider, &banking()).await?.problem(StatusCode::FORBIDDEN);
    app.put_banking(&app.other_finance, &banking()).await?.problem(StatusCode::FORBIDDEN);
    app.send("PUT", &format!("/v1/payers/{PAYER}/banking"), None, &[], &banking().to_string()).await?.problem(StatusCode::UNAUTHORIZED);

    // Stored, echoed; then the run is made.
    let answer = app.put_banking(&app.finance, &banking()).await?;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.json()["tin"], "251234567");
    let run = app.run_ok("k1").await?;
    assert_eq!(remittance_of(&run, NPI_VERIFIED)["amount"], "80.00");
    Ok(())
}

#[tokio::test]
async fn a_run_answers_its_remittances_and_the_same_key_replays_it_while_another_body_conflicts() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    assert_eq!(app.put_banking(&app.finance, &banking()).await?.status, StatusCode::OK);
    app.book(&[(1, NPI_VERIFIED, 8_000), (2, NPI_VERIFIED, 12_000), (3, NPI_VERIFIED, 0)]).await?;

    let run = app.run_ok("cycle-1").await?;
    let run_id = run["run_id"].as_str().unwrap().to_owned();
    let [remittance] = run["remittances"].as_array().unwrap().clone().try_into().unwrap();
    assert_eq!((remittance["status"].as_str(), remittance["amount"].as_str()), (Some("ach"), Some("200.00")));
    assert_eq!(remittance["claims"].as_array().unwrap().len(), 3);
    let trace = remittance["trace_number"].as_str().unwrap().to_owned();
    assert_eq!(trace.len(), 15);
    let effective = run["effective_date"].as_str().unwrap().to_owned();
    assert!(effective.as_str() > run["run_date"].as_str().unwrap(), "{run}");

    // The same key and the same body: the same run, 200, nothing paid twice.
    let answer = app.run(&app.finance, "cycle-1", &json!({"payer_id": PAYER}).to_string()).await?;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.json(), run);
    // The same key, another body (the same payer, other bytes): refused, naming the key.
    let answer = app.run(&app.finance, "cycle-1", &format!("{{ \"payer_id\": \"{PAYER}\" }}")).await?;
    let problem = answer.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(problem["detail"].as_str().unwrap().contains("Idempotency-Key `cycle-1` was used before with another body"), "{problem}");
    // A key that is not visible ASCII.
    let answer = app.run(&app.finance, "", &json!({"payer_id": PAYER}).to_string()).await?;
    assert!(answer.problem(StatusCode::BAD_REQUEST)["detail"].as_str().unwrap().contains("Idempotency-Key"));
    // A body that is not a run request: the unknown member is named.
    let answer = app.run(&app.finance, "cycle-x", r#"{"payer_id": "P1", "amount": 5}"#).await?;
    assert!(answer.problem(StatusCode::UNPROCESSABLE_ENTITY)["detail"].as_str().unwrap().contains("amount"));
    // Who may run: the payer's finance (or an admin), not another payer's, not a provider.
    let body = json!({"payer_id": PAYER}).to_string();
    app.run(&app.other_finance, "cycle-2", &body).await?.problem(StatusCode::FORBIDDEN);
    app.run(&app.provider, "cycle-2", &body).await?.problem(StatusCode::FORBIDDEN);

    // A new key: nothing left to pay is an empty run, not an error.
    let empty = app.run_ok("cycle-2").await?;
    assert_eq!(empty["remittances"], json!([]));

    // Listed newest first, shown one by one; another payer's key sees nothing.
    let listed = app.get(&app.finance, &format!("/v1/payment-runs?payer_id={PAYER}")).await?;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let ids: Vec<String> = listed.json()["runs"].as_array().unwrap().iter().map(|r| r["run_id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids, [empty["run_id"].as_str().unwrap().to_owned(), run_id.clone()]);
    let shown = app.get(&app.finance, &format!("/v1/payment-runs/{run_id}")).await?;
    assert_eq!(shown.json(), run);
    app.get(&app.other_finance, &format!("/v1/payment-runs/{run_id}")).await?.problem(StatusCode::NOT_FOUND);
    app.get(&app.other_finance, &format!("/v1/payment-runs?payer_id={PAYER}")).await?.problem(StatusCode::NOT_FOUND);
    app.get(&app.finance, "/v1/payment-runs").await?.problem(StatusCode::BAD_REQUEST);
    app.get(&app.finance, &format!("/v1/payment-runs/{}", Uuid::from_u128(5))).await?.problem(StatusCode::NOT_FOUND);

    // The 835 (stored: the same bytes twice), the PaymentReconciliation and the ACH file.
    let remittance_id = remittance["id"].as_str().unwrap();
    let x835 = app.get(&app.finance, &format!("/v1/remittances/{remittance_id}/835")).await?;
    assert_eq!((x835.status, x835.content_type.as_str()), (StatusCode::OK, "application/edi-x12"));
    assert!(x835.text.contains("BPR*I*200.00*C*ACH*CCP*"), "{}", x835.text);
    assert!(x835.text.contains(&format!("TRN*1*{trace}*1251234567~")), "{}", x835.text);
    assert_eq!(app.get(&app.finance, &format!("/v1/remittances/{remittance_id}/835")).await?.text, x835.text);
    let resource = app.get(&app.finance, &format!("/v1/remittances/{remittance_id}/payment-reconciliation")).await?;
    assert_eq!(resource.content_type, "application/fhir+json");
    let resource = resource.json();
    assert_eq!((resource["resourceType"].as_str(), resource["paymentIdentifier"]["value"].as_str()), (Some("PaymentReconciliation"), Some(trace.as_str())));
    let ach = app.get(&app.finance, &format!("/v1/payment-runs/{run_id}/ach")).await?;
    assert_eq!(ach.status, StatusCode::OK);
    let entry = ach.text.lines().find(|record| record.starts_with("622")).expect("a CCD credit");
    assert_eq!((&entry[29..39], &entry[79..94]), ("0000020000", trace.as_str()), "{entry}");
    assert!(ach.text.contains("HCCLAIMPMT"));
    // The empty run sent no file.
    let problem = app.get(&app.finance, &format!("/v1/payment-runs/{}/ach", empty["run_id"].as_str().unwrap())).await?.problem(StatusCode::NOT_FOUND);
    assert!(problem["detail"].as_str().unwrap().contains("sent no ACH entries"));
    Ok(())
}

#[tokio::test]
async fn a_held_provider_waits_until_finance_releases_it() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    assert_eq!(app.put_banking(&app.finance, &banking()).await?.status, StatusCode::OK);
    app.book(&[(1, NPI_VERIFIED, 8_000)]).await?;
    let holds = format!("/v1/payers/{PAYER}/payment-holds");
    let json_type = [("content-type", "application/json")];

    // A hold needs a reason; a provider may not place one.
    let answer = app.send("POST", &holds, Some(&app.finance), &json_type, r#"{"npi": "1234567893", "reason": " "}"#).await?;
    assert_eq!(answer.problem(StatusCode::UNPROCESSABLE_ENTITY)["errors"][0]["path"], "reason");
    app.send("POST", &holds, Some(&app.provider), &json_type, r#"{"npi": "1234567893", "reason": "x"}"#).await?.problem(StatusCode::FORBIDDEN);
    let answer = app.send("POST", &holds, Some(&app.finance), &json_type, r#"{"npi": "1234567893", "reason": "fraud alert 42"}"#).await?;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    assert_eq!((answer.json()["status"].as_str(), answer.json()["n_holds"].as_u64()), (Some("held"), Some(1)));

    let run = app.run_ok("held").await?;
    let remittance = remittance_of(&run, NPI_VERIFIED);
    assert_eq!((remittance["status"].as_str(), remittance["hold_reason"].as_str()), (Some("held"), Some("fraud alert 42")));
    assert_eq!((remittance["claims"].as_array().unwrap().len(), &remittance["trace_number"]), (0, &Value::Null));
    let problem = app.get(&app.finance, &format!("/v1/remittances/{}/835", remittance["id"].as_str().unwrap())).await?.problem(StatusCode::NOT_FOUND);
    assert!(problem["detail"].as_str().unwrap().contains("is held: it has no 835"), "{problem}");
    // Still held: the next run holds it again.
    assert_eq!(remittance_of(&app.run_ok("held-again").await?, NPI_VERIFIED)["status"], "held");

    // Released (with a reason) by finance: the next run pays it; a second release finds no hold.
    let release = format!("{holds}/{NPI_VERIFIED}/release");
    app.send("POST", &release, Some(&app.finance), &json_type, r#"{"reason": ""}"#).await?.problem(StatusCode::UNPROCESSABLE_ENTITY);
    let answer = app.send("POST", &release, Some(&app.finance), &json_type, r#"{"reason": "cleared by SIU"}"#).await?;
    assert_eq!((answer.status, answer.json()["status"].as_str()), (StatusCode::OK, Some("released")), "{}", answer.text);
    let problem = app.send("POST", &release, Some(&app.finance), &json_type, r#"{"reason": "again"}"#).await?.problem(StatusCode::NOT_FOUND);
    assert!(problem["detail"].as_str().unwrap().contains("no active payment hold on NPI 1234567893"));
    let paid = app.run_ok("released").await?;
    let remittance = remittance_of(&paid, NPI_VERIFIED);
    assert_eq!((remittance["status"].as_str(), remittance["amount"].as_str()), (Some("ach"), Some("80.00")));
    Ok(())
}

#[tokio::test]
async fn an_account_never_prenoted_gets_a_prenote_and_its_claims_wait() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    assert_eq!(app.put_banking(&app.finance, &banking()).await?.status, StatusCode::OK);
    app.book(&[(1, NPI_NEW, 5_000), (2, NPI_VERIFIED, 7_000)]).await?;

    let run = app.run_ok("first").await?;
    let waiting = remittance_of(&run, NPI_NEW);
    assert_eq!((waiting["status"].as_str(), waiting["amount"].as_str(), &waiting["trace_number"]), (Some("awaiting_prenote"), Some("50.00"), &Value::Null));
    assert_eq!(remittance_of(&run, NPI_VERIFIED)["status"], "ach");
    // The ACH file carries the zero-dollar prenote (transaction code 23) for the new account and the credit for the verified one.
    let ach = app.get(&app.finance, &format!("/v1/payment-runs/{}/ach", run["run_id"].as_str().unwrap())).await?.text;
    let mut entries: Vec<(&str, &str, &str)> = ach.lines().filter(|r| r.starts_with('6')).map(|r| (&r[1..3], r[12..29].trim_end(), &r[29..39])).collect();
    entries.sort();
    assert_eq!(entries, [("22", "ACCT1234567893", "0000007000"), ("23", "ACCT1003000126", "0000000000")], "{ach}");

    // The same day (within the 3 banking days' wait): still waiting, and no second prenote.
    let again = app.run_ok("second").await?;
    assert_eq!(remittance_of(&again, NPI_NEW)["status"], "awaiting_prenote");
    let problem = app.get(&app.finance, &format!("/v1/payment-runs/{}/ach", again["run_id"].as_str().unwrap())).await?.problem(StatusCode::NOT_FOUND);
    assert!(problem["detail"].as_str().unwrap().contains("sent no ACH entries"));
    // Its claims are still unpaid: they come back in every run until the account is verified.
    assert_eq!(payments::unpaid_payables(&app.runtime.store, app.runtime.store.db(), PAYER).await?.len(), 1);
    Ok(())
}

/// A NACHA return file (modifier `modifier`) of one batch: per item the
/// entry's cents, its addenda (`"99"` return or `"98"` notification of
/// change), the R- or C-code, the original entry's trace and the corrected
/// data (NOC). Counts, hashes and totals as the rules compute them.
fn nacha_return_file(modifier: char, items: &[(i64, &str, &str, &str, &str)]) -> String {
    let mut records = vec![
        format!("101 121000248 0910000102612091200{modifier}094101PAYER BANK             PAYERCO"),
        "5200PAYERCO                             1123456789PPDHCCLAIMPMT      261208   1091000010000001".to_owned(),
    ];
    let mut credit_cents = 0;
    for (idx, (cents, addenda, code, original_trace, corrected)) in items.iter().enumerate() {
        let trace = format!("09100001{:07}", idx + 101);
        records.push(format!("621091000019{:<17}{cents:010}{:<15}{:<22}  1{trace}", "987654321", "PROV", "PROVIDER"));
        records.push(format!("7{addenda}{code}{original_trace}      09100001{corrected:<29}{:15}{trace}", ""));
        credit_cents += cents;
    }
    let n = items.len() as u64;
    let hash = 9_100_001 * n;
    records.push(format!("8200{:06}{hash:010}{:012}{credit_cents:012}1123456789{:25}091000010000001", 2 * n, 0, ""));
    records.push(format!("9000001{:06}{:08}{hash:010}{:012}{credit_cents:012}", (records.len() as u64 + 1).div_ceil(10), 2 * n, 0));
    while records.len() % 10 != 0 {
        records.push("9".repeat(94));
    }
    records.iter().map(|record| format!("{record:<94}\n")).collect()
}

#[tokio::test]
async fn a_notification_of_change_corrects_the_account_and_an_account_fault_return_holds_payments_until_new_banking() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    assert_eq!(app.put_banking(&app.finance, &banking()).await?.status, StatusCode::OK);
    let store = &app.runtime.store;
    let import = |file: String| {
        let app = &app;
        async move { app.send("POST", &format!("/v1/payers/{PAYER}/bank-statements"), Some(&app.finance), &[("content-type", "application/x-nacha")], &file).await }
    };
    app.book(&[(1, NPI_VERIFIED, 7_000)]).await?;
    let first = app.run_ok("first").await?;
    let trace = remittance_of(&first, NPI_VERIFIED)["trace_number"].as_str().unwrap().to_owned();

    // A C02 whose routing number fails its check digit is refused by name, and nothing of the file is applied.
    let refused = import(nacha_return_file('A', &[(0, "98", "C02", &trace, "021000022")])).await?;
    let problem = refused.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(problem.to_string().contains("C02: the routing number is not 9 digits with a valid check digit"), "{problem}");
    // C01: the bank posted the entry and gives the right account number; the next payment goes there, without a new prenote.
    let changed = import(nacha_return_file('B', &[(0, "98", "C01", &trace, "55501234")])).await?;
    assert_eq!(changed.status, StatusCode::CREATED, "{}", changed.text);
    let account = payments::payees(store, store.db()).await?[NPI_VERIFIED].bank_account.clone().unwrap();
    assert_eq!((account.routing_number.as_str(), account.account_number.as_str()), ("011000015", "55501234"));
    app.book(&[(2, NPI_VERIFIED, 3_000)]).await?;
    let second = app.run_ok("second").await?;
    let paid = remittance_of(&second, NPI_VERIFIED);
    assert_eq!((paid["status"].as_str(), paid["amount"].as_str()), (Some("ach"), Some("30.00")), "{second}");
    let ach = app.get(&app.finance, &format!("/v1/payment-runs/{}/ach", second["run_id"].as_str().unwrap())).await?.text;
    assert!(ach.lines().any(|r| r.starts_with("622") && r[12..29].trim_end() == "55501234"), "{ach}");

    // R03 (no account): the payment is reopened and the provider's payments are held with the reason.
    let trace = paid["trace_number"].as_str().unwrap().to_owned();
    let returned = import(nacha_return_file('C', &[(3_000, "99", "R03", &trace, "")])).await?;
    assert_eq!(returned.status, StatusCode::CREATED, "{}", returned.text);
    let held = app.run_ok("third").await?;
    let remittance = remittance_of(&held, NPI_VERIFIED);
    assert_eq!((remittance["status"].as_str(), remittance["amount"].as_str()), (Some("held"), Some("30.00")), "{held}");
    let reason = remittance["hold_reason"].as_str().unwrap();
    assert!(reason.contains("R03") && reason.contains(&trace) && reason.contains("new banking"), "{reason}");
    assert!(app.run_ok("fourth").await?["remittances"][0]["status"] == "held");

    // New banking registered (provider.registered.v1 as the consumer applies it): the hold is released, the new account is prenoted first.
    let tx = store.begin().await?;
    let mut payee = payments::payees(store, &tx).await?.remove(NPI_VERIFIED).unwrap();
    payee.bank_account = Some(BankAccount { routing_number: "021000021".into(), account_number: "777000111".into(), account_type: "savings".into() });
    payments::upsert_payee(store, &tx, &payee).await?;
    tx.commit().await?;
    let after = app.run_ok("fifth").await?;
    let remittance = remittance_of(&after, NPI_VERIFIED);
    assert_eq!((remittance["status"].as_str(), &remittance["hold_reason"]), (Some("awaiting_prenote"), &Value::Null), "{after}");
    let ach = app.get(&app.finance, &format!("/v1/payment-runs/{}/ach", after["run_id"].as_str().unwrap())).await?.text;
    assert!(ach.lines().any(|r| r.starts_with("633") && r[12..29].trim_end() == "777000111"), "{ach}");
    Ok(())
}

/// A payment cycle set by finance: refused field by field, shown with its
/// next slot, run once per slot by the scheduler's tick (`runs::run_due`,
/// given the moment instead of waiting for it), and removed.
#[tokio::test]
async fn a_payment_cycle_runs_once_per_slot_and_finance_sets_shows_and_removes_it() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    assert_eq!(app.put_banking(&app.finance, &banking()).await?.status, StatusCode::OK);
    app.book(&[(1, NPI_VERIFIED, 8_000)]).await?;
    let uri = format!("/v1/payers/{PAYER}/payment-schedule");
    let put = |body: Value| {
        let (app, uri) = (&app, uri.clone());
        async move { app.send("PUT", &uri, Some(&app.finance), &[("content-type", "application/json")], &body.to_string()).await }
    };
    // No cycle yet: on demand only.
    assert!(app.get(&app.finance, &uri).await?.problem(StatusCode::NOT_FOUND)["detail"].as_str().unwrap().contains("on demand"));
    for (body, path) in [
        (json!({"weekdays": [], "at": "06:00"}), "weekdays"),
        (json!({"weekdays": ["monday"], "at": "06:00"}), "weekdays"),
        (json!({"weekdays": ["mon"], "at": "6am"}), "at"),
    ] {
        let problem = put(body.clone()).await?.problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"][0]["path"], path, "{body}: {problem}");
    }
    // Another payer's finance key may not set it.
    let other = app.send("PUT", &uri, Some(&app.other_finance), &[("content-type", "application/json")], r#"{"weekdays":["mon"],"at":"06:00"}"#).await?;
    assert_eq!(other.status, StatusCode::FORBIDDEN, "{}", other.text);

    let every_day = json!({"weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "at": "06:00"});
    let set = put(every_day).await?;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    let shown = app.get(&app.finance, &uri).await?.json();
    assert_eq!((shown["weekdays"].as_array().unwrap().len(), shown["at"].as_str()), (7, Some("06:00")));
    let next = claimtrail_events::Timestamp::parse(&format!("{}.000000Z", shown["next_run_at"].as_str().unwrap().trim_end_matches('Z')))?.datetime();
    let slot = time::PrimitiveDateTime::new(next.date(), next.time());

    // Before the first slot (the schedule was set after today's 06:00, or it is still to come): nothing.
    let producer = &app.runtime.producer;
    let store = &app.runtime.store;
    assert!(claimtrail_settlement::runs::run_due(store, producer, slot - time::Duration::minutes(1)).await?.iter().all(|run| !run.created));
    // At the slot, and again a minute later (the next tick, or another replica): one run, under the slot's key.
    let first = claimtrail_settlement::runs::run_due(store, producer, slot).await?;
    assert_eq!(first.len(), 1);
    assert!(first[0].created);
    assert_eq!(first[0].key, claimtrail_settlement::domain::schedule::slot_key(slot));
    let again = claimtrail_settlement::runs::run_due(store, producer, slot + time::Duration::minutes(1)).await?;
    assert_eq!((again[0].run_id, again[0].created), (first[0].run_id, false));
    let runs = app.get(&app.finance, &format!("/v1/payment-runs?payer_id={PAYER}")).await?.json();
    assert_eq!(runs["runs"].as_array().unwrap().len(), 1, "{runs}");
    assert_eq!(remittance_of(&runs["runs"][0], NPI_VERIFIED)["amount"], "80.00");
    // The next day's slot is a run of its own (nothing left to pay: an empty run).
    let next_day = claimtrail_settlement::runs::run_due(store, producer, slot + time::Duration::days(1)).await?;
    assert!(next_day[0].created && next_day[0].run_id != first[0].run_id);

    // Removed: no more scheduled runs.
    assert_eq!(app.send("DELETE", &uri, Some(&app.finance), &[], "").await?.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&app.finance, &uri).await?.status, StatusCode::NOT_FOUND);
    assert!(claimtrail_settlement::runs::run_due(store, producer, slot + time::Duration::days(2)).await?.is_empty());
    assert_eq!(app.send("DELETE", &uri, Some(&app.finance), &[], "").await?.status, StatusCode::NOT_FOUND);
    Ok(())
}
