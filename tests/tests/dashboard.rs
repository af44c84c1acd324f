//! The dashboard in a real browser: `claimtrail up --demo` (embedded), a
//! claim submitted and anchored and one pended, then tests/browser/dashboard.mjs
//! in headless Debian chromium driven by playwright-core. It signs in as each
//! role, checks a claim's proofs in the page (and sees a tampered proof and a
//! changed pinned key fail), exports CSV, tries another payer's claim by URL,
//! starts a payment run (twice with one Idempotency-Key) and downloads its ACH
//! file, places and releases a hold, uploads a bank statement and resolves the
//! exception it opens, works the pended queue down to the explanation (an
//! auditor) and approves a pended claim from it (payer operations, from the
//! keyboard), tries another payer's queue and review by URL, submits a
//! duplicate and acknowledges and closes the fraud alert it raises, reads
//! the SVG charts, runs axe-core on every page, acts from the keyboard, and
//! saves a screenshot of each page under `<target>/e2e-logs/dashboard-<run>/`.
//!
//! `a_claims_page_over_100000_claims_renders_in_under_a_second` times the
//! claims pages over 100,000 claims on SQLite (`up`), and
//! `a_claims_page_over_100000_claims_on_postgres_renders_in_under_a_second`
//! the same on Postgres with each service and the dashboard a `serve`
//! process (docs/benchmarks.md).
//! scripts/test installs chromium and the npm packages when they are missing;
//! this test installs the npm packages too when run on its own.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context as _;
use claimtrail_e2e::{Embedded, Stack, claimtrail_bin, logs_dir, sample_claim, wait_until};
use sea_orm::ConnectionTrait as _;
use serde_json::{Value, json};

/// The whole browser run's budget.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(300);
/// The demo's payer and the demo provider the sample claim pays.
const PAYER_ID: &str = "60054";
const PROVIDER_NPI: &str = "1245319599";

/// A camt.053 statement with one debit that no payment run expects (an exception to resolve).
fn unexpected_debit_statement() -> String {
    r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>DASH-STMT-1</MsgId><CreDtTm>2026-12-09T18:00:00Z</CreDtTm></GrpHdr>
    <Stmt>
      <Acct><Id><Othr><Id>000123456789</Id></Othr></Id></Acct>
      <FrToDt><FrDtTm>2026-12-09T00:00:00Z</FrDtTm><ToDtTm>2026-12-09T23:59:59Z</ToDtTm></FrToDt>
      <Ntry>
        <Amt Ccy="USD">12.34</Amt>
        <CdtDbtInd>DBIT</CdtDbtInd>
        <BookgDt><Dt>2026-12-09</Dt></BookgDt>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>ACDT</SubFmlyCd></Fmly></Domn></BkTxCd>
        <AddtlNtryInf>ACCOUNT ANALYSIS FEE</AddtlNtryInf>
      </Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>
"#
    .to_owned()
}

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("browser")
}

fn chromium() -> anyhow::Result<PathBuf> {
    let path = std::env::var_os("CLAIMTRAIL_CHROMIUM").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    anyhow::ensure!(path.exists(), "no chromium at {} (scripts/test installs Debian's `chromium`; or set CLAIMTRAIL_CHROMIUM)", path.display());
    Ok(path)
}

async fn npm_packages() -> anyhow::Result<()> {
    if browser_dir().join("node_modules/playwright-core/package.json").exists() && browser_dir().join("node_modules/axe-core/axe.min.js").exists() {
        return Ok(());
    }
    let status = tokio::process::Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(browser_dir())
        .status()
        .await
        .context("running npm ci in tests/browser (is node installed?)")?;
    anyhow::ensure!(status.success(), "npm ci in tests/browser failed");
    Ok(())
}

async fn cli(up: &Embedded, args: &[&str]) -> anyhow::Result<String> {
    let output = up.command(args).output().await?;
    anyhow::ensure!(output.status.success(), "claimtrail {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    Ok(String::from_utf8(output.stdout)?.trim().to_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn each_role_signs_in_and_an_auditor_checks_a_claims_proofs_in_the_browser() -> anyhow::Result<()> {
    let chromium = chromium()?;
    npm_packages().await?;
    let _ = claimtrail_bin();

    // Arrange: a stack, a claim adjudicated, booked and in a signed checkpoint.
    let up = Embedded::start(&[("CLAIMTRAIL_DASHBOARD_IDLE_TIMEOUT_MINUTES", "30")]).await?;
    let claim_id = up.submit_ok(&sample_claim("PCN-DASH-1")).await?.remove(0);
    up.wait_settled(1, Duration::from_secs(60)).await?;
    let ledger_size = "SELECT COUNT(*) FROM \"anchor_ledger\"";
    let checkpointed = "SELECT COALESCE(MAX(size), 0) FROM \"anchor_checkpoints\"";
    wait_until(Duration::from_secs(30), || async {
        let (size, signed) = (up.scalar(ledger_size).await?, up.scalar(checkpointed).await?);
        Ok((signed >= size && size > 0, format!("checkpoint covers {signed} of {size} entries")))
    })
    .await?;
    let data_dir = up.data_dir.path().to_str().context("data dir")?.to_owned();
    // The log's key as its operator hands it out (not from the server the page checks).
    let log_key = cli(&up, &["keys", "log", "--key-dir", &format!("{data_dir}/keys")]).await?;
    let other_dir = tempfile::tempdir()?;
    let other_log_key = cli(&up, &["keys", "log", "--key-dir", other_dir.path().to_str().context("dir")?]).await?;
    assert_ne!(log_key, other_log_key);
    let created = cli(&up, &["keys", "create", "--tenant", "Other Audit Office", "--role", "auditor", "--payer-id", "99999", "--data-dir", &data_dir]).await?;
    let other_auditor = created.split_whitespace().find(|word| word.starts_with("ct_")).context("no key printed")?.to_owned();
    let created = cli(&up, &["keys", "create", "--tenant", "Other Health Plan", "--role", "payer", "--payer-id", "99999", "--data-dir", &data_dir]).await?;
    let other_payer = created.split_whitespace().find(|word| word.starts_with("ct_")).context("no key printed")?.to_owned();

    // The payer's banking (a run needs it), and a claim that pends (J3490 is on the demo policy's pend list).
    let banking = json!({
        "name": "Demo Health Plan", "tin": "987654321", "routing_number": "121000248", "account_number": "000123456789",
        "address": {"name": "Demo Health Plan", "address_line": "1 Plan Way", "city": "Birmingham", "state": "AL", "postal_code": "35203"},
    });
    let put = up.client.put(format!("{}/v1/payers/{PAYER_ID}/banking", up.url)).bearer_auth(up.demo_key("finance")?).json(&banking).send().await?;
    anyhow::ensure!(put.status().is_success(), "banking: {} {}", put.status(), put.text().await?);
    let generated = cli(&up, &["generate", "--claims", "1", "--bundle-size", "1", "--policy-scenario", "unclassified-drug"]).await?;
    let pended_claim_id = up.submit_ok(&serde_json::from_str(&generated)?).await?.remove(0);
    wait_until(Duration::from_secs(60), || async {
        let status = up.claim_status(&pended_claim_id).await?;
        Ok((status["status"] == "pended", format!("claim {pended_claim_id} is {}", status["status"])))
    })
    .await?;

    let out_dir = logs_dir().join(format!("dashboard-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&out_dir)?;
    let config = json!({
        "url": up.url,
        "chromium": chromium,
        "out_dir": out_dir,
        "claim_id": claim_id,
        "log_key": log_key,
        "other_log_key": other_log_key,
        "payer_id": PAYER_ID,
        "provider_npi": PROVIDER_NPI,
        "pended_claim_id": pended_claim_id,
        "statement": unexpected_debit_statement(),
        // Submitted again by the browser run (after finance's pages): an exact duplicate, which the fraud service alerts on.
        "duplicate_claim": sample_claim("PCN-DASH-1"),
        "keys": {
            "auditor": up.demo_key("auditor")?,
            "payer": up.demo_key("payer")?,
            "finance": up.demo_key("finance")?,
            "admin": up.demo_key("admin")?,
            "provider": up.demo_key("provider")?,
            "other_auditor": other_auditor,
            "other_payer": other_payer,
        },
    });

    // Act: the browser run.
    let mut node = tokio::process::Command::new("node");
    node.arg(browser_dir().join("dashboard.mjs"))
        .env("CLAIMTRAIL_BROWSER_TEST", config.to_string())
        .current_dir(browser_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let output = tokio::time::timeout(BROWSER_TIMEOUT, node.output()).await.context("the browser run took longer than its budget")??;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    std::fs::write(out_dir.join("node.log"), format!("{stdout}\n{stderr}"))?;
    assert!(output.status.success(), "the browser run failed (screenshots in {}):\n{stdout}\n{stderr}", out_dir.display());

    // Assert: the script's own checks passed, its screenshots exist, and the
    // claim the auditor saw in the dashboard is in the access log as an API read.
    let summary: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default()).with_context(|| format!("no summary line:\n{stdout}"))?;
    assert_eq!(summary["failed"], 0, "{summary}");
    let screenshots = summary["screenshots"].as_array().context("screenshots")?;
    for role in ["auditor", "payer", "finance"] {
        assert!(screenshots.iter().any(|shot| shot.as_str().is_some_and(|name| name.starts_with(role))), "no screenshot of the {role}'s pages: {summary}");
    }
    for shot in screenshots {
        let path = out_dir.join(shot.as_str().context("name")?);
        assert!(std::fs::metadata(&path).map(|m| m.len() > 1000).unwrap_or(false), "{} is missing or empty", path.display());
    }
    let access_log: Value = up.client.get(format!("{}/v1/access-log", up.url)).bearer_auth(up.demo_key("admin")?).send().await?.json().await?;
    let reads = access_log.to_string();
    assert!(reads.contains(&claim_id) && reads.contains("State Audit Office"), "the auditor's read of {claim_id} is not in the access log: {access_log}");
    // The pended queue and the explanation come from adjudication: those reads reach intake's access log too (through its consumer).
    let admin = up.demo_key("admin")?;
    wait_until(Duration::from_secs(30), || async {
        let url = format!("{}/v1/access-log?claim_id={pended_claim_id}", up.url);
        let log: Value = up.client.get(url).bearer_auth(&admin).send().await?.json().await?;
        let views: Vec<String> = log["entries"].as_array().into_iter().flatten().filter_map(|entry| entry["view"].as_str().map(str::to_owned)).collect();
        let seen = ["adjudication:pended-queue", "adjudication:explanation"].iter().all(|view| views.iter().any(|v| v == view));
        Ok((seen, format!("reads of pended claim {pended_claim_id}: {views:?}")))
    })
    .await?;
    for shot in [
        "finance-payment-run.png",
        "finance-reconciliation-resolved.png",
        "auditor-pended.png",
        "auditor-claims-per-day.png",
        "payer-pended.png",
        "payer-review.png",
        "payer-pended-approved.png",
        "payer-fraud-alerts.png",
        "payer-fraud-alerts-closed.png",
        "payer-auto-adjudication.png",
    ] {
        assert!(screenshots.iter().any(|s| s == shot), "no screenshot {shot}: {summary}");
    }
    Ok(())
}

/// Claims inserted for the timing.
const TIMED_CLAIMS: i64 = 100_000;
/// Each page is timed this many times (the median is reported and checked).
const TIMED_RUNS: usize = 5;
/// The issue's bound on a page's server time at 100,000 claims.
const PAGE_TIME_MAX: Duration = Duration::from_secs(1);

/// Signs in through the form (no redirects followed); the session cookie to send.
async fn browser_session(client: &reqwest::Client, url: &str, api_key: &str) -> anyhow::Result<String> {
    let form = client.get(format!("{url}/")).send().await?;
    let token = form
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|value| value.strip_prefix("claimtrail_sign_in="))
        .and_then(|rest| rest.split(';').next())
        .context("no sign-in token cookie")?
        .to_owned();
    let answer = client
        .post(format!("{url}/ui/sign-in"))
        .header(reqwest::header::COOKIE, format!("claimtrail_sign_in={token}"))
        .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!("api_key={api_key}&csrf_token={token}"))
        .send()
        .await?;
    anyhow::ensure!(answer.status() == 303, "sign-in answered {}", answer.status());
    let session = answer
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|value| value.strip_prefix("claimtrail_session="))
        .and_then(|rest| rest.split(';').next())
        .context("no session cookie")?;
    Ok(format!("claimtrail_session={session}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_claims_page_over_100000_claims_renders_in_under_a_second() -> anyhow::Result<()> {
    let _ = claimtrail_bin();
    // Arrange: `up --demo` and 100,000 claims in intake's table, received over the last 20 days
    // (relative to now): 2% pended, 8% denied, the rest paid.
    let up = Embedded::start(&[]).await?;
    up.submit_ok(&sample_claim("PCN-DASH-TIMING")).await?;
    up.wait_settled(1, Duration::from_secs(60)).await?;
    let inserted = up
        .execute(&format!(
            "INSERT INTO \"intake_claims\" (claim_id, submitter, channel, status, outcome, payer_id, billing_npi, total_charge_cents, total_paid_cents, issues, received_at) \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {TIMED_CLAIMS}) \
             SELECT randomblob(16), 'Riverside Family Practice', 'fhir', \
                    CASE WHEN i % 50 = 0 THEN 'pended' WHEN i % 10 = 0 THEN 'adjudicated' ELSE 'paid' END, \
                    CASE WHEN i % 50 = 0 THEN NULL WHEN i % 10 = 0 THEN 'denied' ELSE 'paid' END, \
                    '{PAYER_ID}', '{PROVIDER_NPI}', 12000, CASE WHEN i % 10 = 0 THEN 0 ELSE 11880 END, '[]', \
                    strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-' || (i % 20) || ' days', '-' || (i % 86400) || ' seconds') \
             FROM n"
        ))
        .await?;
    assert_eq!(inserted, TIMED_CLAIMS as u64);
    // A cursor 99% of the way through the claims (the keyset page there costs what the first does).
    let db = up.db().await?;
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            format!("SELECT lower(hex(claim_id)) FROM \"intake_claims\" ORDER BY claim_id LIMIT 1 OFFSET {}", TIMED_CLAIMS * 99 / 100),
        ))
        .await?
        .context("no claim at the offset")?;
    let hex: String = row.try_get_by_index(0)?;
    db.close().await?;
    let deep = format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..]);

    let report = time_claims_pages(&up.url, &up.demo_key("admin")?, &deep).await?;
    println!("{}", json!({"database": "sqlite", "claims": TIMED_CLAIMS + 1, "runs": TIMED_RUNS, "pages": report}));
    Ok(())
}

/// Times the claims pages (an admin session on the dashboard at `url`), `deep` a cursor near the end; fails on a median over [`PAGE_TIME_MAX`].
async fn time_claims_pages(url: &str, admin_key: &str, deep: &str) -> anyhow::Result<Vec<Value>> {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).timeout(Duration::from_secs(60)).build()?;
    let cookie = browser_session(&client, url, admin_key).await?;
    let pages = [
        ("claims, first page", "/ui/claims".to_owned()),
        ("claims, page at 99,000", format!("/ui/claims?after={deep}&n=1981")),
        ("claims adjudicated (a status filter), page at 99,000", format!("/ui/claims?status=adjudicated&after={deep}")),
        ("claims pended (a status filter), first page", "/ui/claims?status=pended".to_owned()),
        ("claims per day by outcome (chart, 5,000 claims read)", "/ui/claims/per-day".to_owned()),
    ];
    let mut report = Vec::new();
    for (name, path) in &pages {
        let mut times = Vec::with_capacity(TIMED_RUNS);
        for run in 0..=TIMED_RUNS {
            let started = std::time::Instant::now();
            let response = client.get(format!("{url}{path}")).header(reqwest::header::COOKIE, &cookie).send().await?;
            let status = response.status();
            let body = response.text().await?;
            let elapsed = started.elapsed();
            anyhow::ensure!(status == 200, "{path} answered {status}: {body}");
            anyhow::ensure!(body.contains("<table"), "{path} has no table");
            // The first request warms the caches; it is not counted.
            if run > 0 {
                times.push(elapsed);
            }
        }
        times.sort();
        let (median, max) = (times[times.len() / 2], times[times.len() - 1]);
        report.push(json!({"page": name, "path": path, "median_ms": median.as_millis(), "max_ms": max.as_millis()}));
        assert!(median < PAGE_TIME_MAX, "{name} ({path}) took {median:?} (median of {TIMED_RUNS}) over {TIMED_CLAIMS} claims");
    }
    Ok(report)
}

/// The same pages on Postgres: the four services as separate `serve` processes
/// (the deployed topology) and `claimtrail serve dashboard` calling their APIs,
/// 100,000 claims inserted into intake's table the same way.
#[tokio::test(flavor = "multi_thread")]
async fn a_claims_page_over_100000_claims_on_postgres_renders_in_under_a_second() -> anyhow::Result<()> {
    let _ = claimtrail_bin();
    let mut stack = Stack::start(&[]).await?;
    let urls = [
        ("CLAIMTRAIL_DASHBOARD_INTAKE_URL", stack.url("intake").to_owned()),
        ("CLAIMTRAIL_DASHBOARD_ADJUDICATION_URL", stack.url("adjudication").to_owned()),
        ("CLAIMTRAIL_DASHBOARD_SETTLEMENT_URL", stack.url("settlement").to_owned()),
        ("CLAIMTRAIL_DASHBOARD_ANCHOR_URL", stack.url("anchor").to_owned()),
        // The claims pages call intake only; no fraud service runs in this stack.
        ("CLAIMTRAIL_DASHBOARD_FRAUD_URL", stack.url("intake").to_owned()),
    ];
    let env: Vec<(&str, &str)> = urls.iter().map(|(name, url)| (*name, url.as_str())).collect();
    stack.spawn("dashboard", &env).await?;
    stack.submit_ok(&sample_claim("PCN-DASH-PG-TIMING")).await?;
    let claims = stack.table("intake", "claims");
    let inserted = stack
        .execute(&format!(
            "INSERT INTO {claims} (claim_id, submitter, channel, status, outcome, payer_id, billing_npi, total_charge_cents, total_paid_cents, issues, received_at) \
             SELECT gen_random_uuid(), 'riverside', 'fhir', \
                    CASE WHEN i % 50 = 0 THEN 'pended' WHEN i % 10 = 0 THEN 'adjudicated' ELSE 'paid' END, \
                    CASE WHEN i % 50 = 0 THEN NULL WHEN i % 10 = 0 THEN 'denied' ELSE 'paid' END, \
                    '{PAYER_ID}', '{PROVIDER_NPI}', 12000, CASE WHEN i % 10 = 0 THEN 0 ELSE 11880 END, '[]', \
                    to_char((now() - (i % 20) * interval '1 day' - (i % 86400) * interval '1 second') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') \
             FROM generate_series(1, {TIMED_CLAIMS}) AS i"
        ))
        .await?;
    assert_eq!(inserted, TIMED_CLAIMS as u64);
    stack.execute(&format!("ANALYZE {claims}")).await?;
    let row = stack
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            format!("SELECT claim_id::text FROM {claims} ORDER BY claim_id LIMIT 1 OFFSET {}", TIMED_CLAIMS * 99 / 100),
        ))
        .await?
        .context("no claim at the offset")?;
    let deep: String = row.try_get_by_index(0)?;
    let admin_key = stack.admin_key.clone();
    let report = time_claims_pages(stack.url("dashboard"), &admin_key, &deep).await?;
    println!("{}", json!({"database": "postgres", "claims": TIMED_CLAIMS + 1, "runs": TIMED_RUNS, "pages": report}));
    stack.kill("dashboard").await?;
    stack.execute(&format!("DROP SCHEMA IF EXISTS \"{}_dashboard\" CASCADE", stack.prefix)).await?;
    stack.cleanup().await
}
