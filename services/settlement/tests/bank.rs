//! Reconciliation over HTTP, in process on SQLite with the embedded bus:
//! a BAI2 statement matches a payment run's batch and reopens a returned
//! remittance; the same statement again changes nothing; a malformed file
//! applies nothing and names its record; a camt.053 statement with a wrong
//! amount opens an exception that finance resolves, once; keys are scoped.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use claimtrail_events::Money;
use claimtrail_runtime::auth::{self, Role};
use claimtrail_runtime::{Runtime, ServeSettings};
use claimtrail_settlement::api::bank::{ExceptionView, ExceptionsView, ImportView};
use claimtrail_settlement::domain::bank::{ExpectedDebit, ExpectedEntry};
use claimtrail_settlement::storage;
use claimtrail_store::{Store, StoreConfig, stmt};
use http_body_util::BodyExt;
use sea_orm::{ConnectionTrait, TransactionTrait};
use serde::de::DeserializeOwned;
use time::macros::date;
use tower::ServiceExt;
use uuid::Uuid;

const PAYER: &str = "PAYER1";
const RUN: Uuid = Uuid::from_u128(0xA1);

const BAI2: &str = "\
01,121000248,PAYERCO01,261208,0600,42,80,1,2/
02,PAYERCO01,121000248,1,261208,0600,USD,2/
03,1234567890,USD,010,5000000,,,015,3978200,,/
16,466,113540,0,BR100001,1123456789,ACH SETTLEMENT HCCLAIMPMT CO ID 1123456789/
16,257,12000,0,BR100002,,ACH RETURN R03/
88,TRACE 091000010000002/
16,475,260,0,BR100003,,ACCOUNT ANALYSIS FEE/
49,9104000,6/
98,9104000,1,8/
99,9104000,1,10/
";

fn camt(msg_id: &str, amount: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>{msg_id}</MsgId><CreDtTm>2026-12-09T18:00:00Z</CreDtTm></GrpHdr>
    <Stmt>
      <Acct><Id><Othr><Id>1234567890</Id></Othr></Id></Acct>
      <FrToDt><FrDtTm>2026-12-09T00:00:00Z</FrDtTm><ToDtTm>2026-12-09T23:59:59Z</ToDtTm></FrToDt>
      <Ntry>
        <Amt Ccy="USD">{amount}</Amt>
        <CdtDbtInd>DBIT</CdtDbtInd>
        <BookgDt><Dt>2026-12-09</Dt></BookgDt>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>ACDT</SubFmlyCd></Fmly></Domn></BkTxCd>
        <AddtlNtryInf>ACH SETTLEMENT CO ID 1123456789</AddtlNtryInf>
      </Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>
"#
    )
}

struct TestApp {
    runtime: Runtime,
    router: axum::Router,
    finance_key: String,
    other_finance_key: String,
    prefix: String,
    _dir: tempfile::TempDir,
}

impl TestApp {
    /// On SQLite in a temporary directory.
    async fn spawn() -> anyhow::Result<TestApp> {
        let dir = tempfile::tempdir()?;
        let database_url = format!("sqlite://{}?mode=rwc", dir.path().join("claimtrail.db").display());
        TestApp::spawn_on(database_url, "t".into(), dir).await
    }

    /// On the test Postgres, in schemas of a prefix of its own.
    async fn spawn_on_postgres() -> anyhow::Result<TestApp> {
        let url = std::env::var("CLAIMTRAIL_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        TestApp::spawn_on(url, format!("bank{}", Uuid::now_v7().simple()), tempfile::tempdir()?).await
    }

    async fn spawn_on(database_url: String, prefix: String, dir: tempfile::TempDir) -> anyhow::Result<TestApp> {
        let mut settings = ServeSettings::with_urls(&database_url, "nats://unused", &prefix);
        settings.key_dir = dir.path().join("keys");
        let store =
            Store::connect(&StoreConfig { database_url, service: "settlement".into(), prefix: prefix.clone(), max_connections: 2, statement_timeout: None })
                .await?;
        store.migrate(&claimtrail_settlement::migrations()).await?;
        let bus = claimtrail_bus::embedded::EmbeddedBus::open(&store, &prefix, &["settlement"]).await?;
        let wakeup = bus.notifier();
        let stop = Arc::new(tokio::sync::watch::channel(false).0);
        let runtime = Runtime::with_parts(store, Arc::new(bus), &settings, wakeup, stop).await?;
        let finance_key = auth::create_key(&runtime.registry, "finance-team", Role::Finance, &[PAYER.to_owned()], false).await?.api_key;
        let other_finance_key = auth::create_key(&runtime.registry, "other-finance", Role::Finance, &["PAYER2".to_owned()], false).await?.api_key;
        let router = claimtrail_settlement::api::bank::routes(runtime.clone());
        let app = TestApp { runtime, router, finance_key, other_finance_key, prefix, _dir: dir };
        app.expect_batches().await?;
        Ok(app)
    }

    /// The payment run's two batches: batch 1 on 2026-12-08 (1,015.40 and 120.00), batch 2 on 2026-12-09 (500.00).
    async fn expect_batches(&self) -> anyhow::Result<()> {
        let store = &self.runtime.store;
        let tx = store.db().begin().await?;
        let entry = |trace: &str, remittance: u128, amount: &str| ExpectedEntry {
            trace_number: trace.into(),
            remittance_id: Uuid::from_u128(remittance),
            amount: Money::parse(amount).unwrap(),
        };
        let batches = [
            ExpectedDebit {
                run_id: RUN,
                batch_number: 1,
                company_id: "1123456789".into(),
                effective_date: date!(2026 - 12 - 08),
                amount: Money::parse("1135.40")?,
                entries: vec![entry("091000010000001", 11, "1015.40"), entry("091000010000002", 12, "120.00")],
            },
            ExpectedDebit {
                run_id: RUN,
                batch_number: 2,
                company_id: "1123456789".into(),
                effective_date: date!(2026 - 12 - 09),
                amount: Money::parse("500.00")?,
                entries: vec![entry("091000010000003", 13, "500.00")],
            },
        ];
        for batch in &batches {
            storage::bank::insert_expected_debit(store, &tx, PAYER, batch).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn send(&self, request: Request<Body>) -> anyhow::Result<(StatusCode, serde_json::Value)> {
        let response = self.router.clone().oneshot(request).await?;
        let status = response.status();
        let bytes = response.into_body().collect().await?.to_bytes();
        let body = if bytes.is_empty() { serde_json::Value::Null } else { serde_json::from_slice(&bytes)? };
        Ok((status, body))
    }

    async fn import(&self, key: &str, content_type: &str, body: &str) -> anyhow::Result<(StatusCode, serde_json::Value)> {
        let request = Request::post(format!("/v1/payers/{PAYER}/bank-statements"))
            .header(header::AUTHORIZATION, format!("Bearer {key}"))
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body.to_owned()))?;
        self.send(request).await
    }

    async fn exceptions(&self, status: &str) -> anyhow::Result<ExceptionsView> {
        let request = Request::get(format!("/v1/payers/{PAYER}/reconciliation/exceptions?status={status}"))
            .header(header::AUTHORIZATION, format!("Bearer {}", self.finance_key))
            .body(Body::empty())?;
        let (status, body) = self.send(request).await?;
        assert_eq!(status, StatusCode::OK, "{body}");
        parse(body)
    }

    async fn resolve(&self, key: &str, exception_id: Uuid, body: &str) -> anyhow::Result<(StatusCode, serde_json::Value)> {
        let request = Request::post(format!("/v1/payers/{PAYER}/reconciliation/exceptions/{exception_id}/resolve"))
            .header(header::AUTHORIZATION, format!("Bearer {key}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_owned()))?;
        self.send(request).await
    }

    /// Rows of one of settlement's tables.
    async fn count(&self, table: &str) -> anyhow::Result<i64> {
        let store = &self.runtime.store;
        let row = store.db().query_one_raw(stmt(store, format!("SELECT COUNT(*) FROM {}", store.table(table)), vec![])).await?.expect("a count");
        Ok(row.try_get_by_index(0)?)
    }

    /// Event types in the outbox, in order.
    async fn outbox_types(&self) -> anyhow::Result<Vec<String>> {
        let store = &self.runtime.store;
        let rows = store.db().query_all_raw(stmt(store, format!("SELECT event_type FROM {} ORDER BY seq", store.table("outbox")), vec![])).await?;
        rows.iter().map(|row| Ok(row.try_get_by_index(0)?)).collect()
    }
}

fn parse<T: DeserializeOwned>(value: serde_json::Value) -> anyhow::Result<T> {
    Ok(serde_json::from_value(value)?)
}

#[tokio::test]
async fn a_bai2_statement_matches_the_batch_and_reopens_the_returned_remittance_once() -> anyhow::Result<()> {
    // Arrange
    let app = TestApp::spawn().await?;

    // Act
    let (status, body) = app.import(&app.finance_key, "application/x-bai2", BAI2).await?;

    // Assert
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let view: ImportView = parse(body)?;
    assert_eq!(
        (view.statement_id.as_str(), view.format.as_str(), view.already_imported, view.line_count),
        ("bai2:121000248:PAYERCO01:261208:0600:42", "bai2", false, 3)
    );
    assert_eq!(view.matched.len(), 1);
    assert_eq!((view.matched[0].batch_number, view.matched[0].amount.to_string(), view.matched[0].position.as_str()), (1, "1135.40".into(), "line 4"));
    assert_eq!(view.returned.len(), 1);
    let returned = &view.returned[0];
    assert_eq!(
        (returned.kind.as_str(), returned.remittance_id, returned.reason_code.as_str(), returned.amount.to_string()),
        ("return", Uuid::from_u128(12), "R03", "120.00".into())
    );
    assert!(view.exceptions.is_empty(), "{:?}", view.exceptions);
    let events = app.outbox_types().await?;
    assert_eq!(events, ["bank_statement.imported.v1", "bank_debit.matched.v1", "ach_entry.returned.v1"]);

    // Act: the same statement again.
    let (status, body) = app.import(&app.finance_key, "text/plain", BAI2).await?;

    // Assert: nothing changed.
    assert_eq!(status, StatusCode::OK, "{body}");
    let again: ImportView = parse(body)?;
    assert!(again.already_imported);
    assert_eq!((again.matched, again.returned, again.exceptions), (view.matched, view.returned, view.exceptions));
    assert_eq!(app.outbox_types().await?.len(), 3);
    assert_eq!((app.count("bank_statements").await?, app.count("bank_statement_lines").await?, app.count("bank_matches").await?), (1, 3, 1));
    Ok(())
}

#[tokio::test]
async fn a_malformed_statement_applies_nothing_and_names_its_record() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let wrong_total = BAI2.replace("49,9104000,6/", "49,9104001,6/");

    let (status, body) = app.import(&app.finance_key, "application/x-bai2", &wrong_total).await?;

    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["detail"], "the bai2 file is invalid at line 8; nothing of it was applied");
    assert_eq!(body["errors"][0]["path"], "line 8, record 49 (account trailer), field account control total");
    assert_eq!(body["errors"][0]["message"], "9104001 does not equal the account's amounts, 9104000");
    assert_eq!((app.count("bank_statements").await?, app.count("bank_statement_lines").await?), (0, 0));
    assert!(app.outbox_types().await?.is_empty());

    let (status, body) = app.import(&app.finance_key, "application/json", "{}").await?;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
    Ok(())
}

#[tokio::test]
async fn an_amount_mismatch_is_an_exception_that_finance_resolves_once() -> anyhow::Result<()> {
    // Arrange
    let app = TestApp::spawn().await?;

    // Act: batch 2 (500.00) shows as 499.00.
    let (status, body) = app.import(&app.finance_key, "application/xml", &camt("STMT-20261209", "499.00")).await?;

    // Assert
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let view: ImportView = parse(body)?;
    assert!(view.matched.is_empty());
    let [exception]: [ExceptionView; 1] = view.exceptions.try_into().expect("one exception");
    assert_eq!((exception.kind.as_str(), exception.batch_number, exception.status.as_str()), ("amount-mismatch", Some(2), "open"));
    assert_eq!(
        (exception.expected_amount.map(|m| m.to_string()), exception.actual_amount.map(|m| m.to_string())),
        (Some("500.00".into()), Some("499.00".into()))
    );
    assert_eq!(app.exceptions("open").await?.exceptions.len(), 1);

    // Another payer's finance key may neither resolve nor read it.
    let (status, _) = app.resolve(&app.other_finance_key, exception.exception_id, r#"{"reason": "x"}"#).await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A resolution needs a reason.
    let (status, body) = app.resolve(&app.finance_key, exception.exception_id, r#"{"reason": "  "}"#).await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // Act: finance resolves it.
    let (status, body) = app.resolve(&app.finance_key, exception.exception_id, r#"{"reason": "bank fee of 1.00 netted; booked to fees"}"#).await?;

    // Assert
    assert_eq!(status, StatusCode::OK, "{body}");
    let resolved: ExceptionView = parse(body)?;
    assert_eq!((resolved.status.as_str(), resolved.resolved_by.as_deref()), ("resolved", Some("finance-team")));
    assert!(app.exceptions("open").await?.exceptions.is_empty());
    assert_eq!(app.exceptions("all").await?.exceptions.len(), 1);
    let (status, _) = app.resolve(&app.finance_key, exception.exception_id, r#"{"reason": "again"}"#).await?;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = app.resolve(&app.finance_key, Uuid::from_u128(99), r#"{"reason": "x"}"#).await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let events = app.outbox_types().await?;
    assert_eq!(events, ["bank_statement.imported.v1", "reconciliation_exception.opened.v1", "reconciliation_exception.resolved.v1"]);
    Ok(())
}

#[tokio::test]
async fn another_payers_finance_key_cannot_import() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let (status, _) = app.import(&app.other_finance_key, "application/x-bai2", BAI2).await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("bank_statements").await?, 0);
    Ok(())
}

#[tokio::test]
async fn on_postgres_a_statement_matches_and_is_applied_once() -> anyhow::Result<()> {
    let app = TestApp::spawn_on_postgres().await?;
    let (status, body) = app.import(&app.finance_key, "application/x-bai2", BAI2).await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let view: ImportView = parse(body)?;
    assert_eq!((view.matched.len(), view.returned.len(), view.exceptions.len()), (1, 1, 0));
    let (status, body) = app.import(&app.finance_key, "application/x-bai2", BAI2).await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(parse::<ImportView>(body)?.already_imported);
    let (status, body) = app.import(&app.finance_key, "application/xml", &camt("STMT-20261209", "499.00")).await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let exception = parse::<ImportView>(body)?.exceptions.remove(0);
    let (status, body) = app.resolve(&app.finance_key, exception.exception_id, r#"{"reason": "netted fee"}"#).await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(app.outbox_types().await?.len(), 6);
    for component in ["settlement", "bus", "registry"] {
        app.runtime.store.db().execute_unprepared(&format!("DROP SCHEMA IF EXISTS \"{}_{component}\" CASCADE", app.prefix)).await?;
    }
    Ok(())
}
