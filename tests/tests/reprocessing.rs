//! Corrections that ripple and retroactive reprocessing (issue 17), on
//! Postgres and JetStream:
//! - two claims of one member share the deductible; voiding the first
//!   decides the second again, which now bears the deductible: its standing
//!   decision is reversed (CLP02 = 22 for settlement) and a new version pays
//!   less, settlement recouping the difference; replays of both stay exact;
//! - a fee-schedule correction (a new `fee-schedules` version for dates
//!   already served) re-prices the claims it affects as a job with progress;
//! - adjudication killed mid-job resumes after a restart without doubling.

use std::time::Duration;

use claimtrail_e2e::{PAYER_ID, Stack, gold_ppo_plan, one_line_claim, wait_until};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

const DECIDED: Duration = Duration::from_secs(30);

/// A void (FHIR `status: cancelled`) of claim `claim_id`.
fn void_of(pcn: &str, claim_id: &str, code: &str, units: u32, charge: &str) -> Value {
    let mut claim = one_line_claim(pcn, code, units, charge);
    claim["status"] = json!("cancelled");
    claim["related"] = json!([{"claim": {"identifier": {"value": claim_id}}}]);
    claim
}

/// The decision row of `claim_id` in adjudication: (paid cents, reversed by).
async fn decision(stack: &Stack, claim_id: &str) -> anyhow::Result<(i64, String)> {
    let decisions = stack.table("adjudication", "decisions");
    let paid = stack.scalar(&format!("SELECT total_paid_cents FROM {decisions} WHERE claim_id = '{claim_id}'")).await?;
    let reversed = stack.scalar(&format!("SELECT COUNT(*) FROM {decisions} WHERE claim_id = '{claim_id}' AND reversed_by IS NOT NULL")).await?;
    let by = if reversed == 1 {
        let row = stack
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                format!("SELECT reversed_by FROM {decisions} WHERE claim_id = '{claim_id}'"),
            ))
            .await?
            .ok_or_else(|| anyhow::anyhow!("no decision of {claim_id}"))?;
        row.try_get_by_index::<String>(0)?
    } else {
        String::new()
    };
    Ok((paid, by))
}

async fn replay_is_exact(stack: &Stack, key: &str, claim_id: &str) -> anyhow::Result<bool> {
    let adjudication = stack.url("adjudication");
    let replay: Value = stack.client.post(format!("{adjudication}/v1/claims/{claim_id}/replay")).bearer_auth(key).send().await?.json().await?;
    Ok(replay["byte_identical"] == true)
}

#[tokio::test(flavor = "multi_thread")]
async fn voiding_a_claim_decides_the_later_claim_that_shared_its_deductible_again() -> anyhow::Result<()> {
    let stack = Stack::start(&[]).await?;
    let adjudication = stack.url("adjudication").to_owned();
    let payer_key = stack.create_key_for("payer-60054", "payer", &[PAYER_ID]).await?;
    let fees =
        json!({"fee_schedule_id": "ripple", "entries": [{"procedure_code": "99213", "amount": "250.00"}, {"procedure_code": "99214", "amount": "250.00"}]});
    let response = stack.client.put(format!("{adjudication}/v1/payers/{PAYER_ID}/fee-schedule")).bearer_auth(&stack.admin_key).json(&fees).send().await?;
    anyhow::ensure!(response.status().is_success(), "fee schedule: {}", response.text().await?);
    let response = stack
        .client
        .put(format!("{adjudication}/v1/payers/{PAYER_ID}/plans/PPO-GOLD?effective_from=2020-01-01"))
        .bearer_auth(&payer_key)
        .json(&gold_ppo_plan())
        .send()
        .await?;
    assert_eq!(response.status(), 201, "{}", response.text().await?);

    // A: allowed 500, all of it the deductible, paid 0. B: the deductible met, 20% of 250, paid 200.
    let a = stack.submit_ok(&one_line_claim("PCN-RIPPLE-A", "99213", 2, "600.00")).await?.remove(0);
    let status = stack.wait_decided(&a, DECIDED).await?;
    assert_eq!(status["decision"]["total_paid"], "0.00", "{status}");
    let b = stack.submit_ok(&one_line_claim("PCN-RIPPLE-B", "99214", 1, "250.00")).await?.remove(0);
    let status = stack.wait_decided(&b, DECIDED).await?;
    assert_eq!(status["decision"]["total_paid"], "200.00", "{status}");

    // Void A: B saw a deductible A had met, so B is decided again, bearing 250 of it.
    let void = stack.submit_ok(&void_of("PCN-RIPPLE-VOID", &a, "99213", 2, "600.00")).await?.remove(0);
    wait_until(DECIDED, || async {
        let (_, by) = decision(&stack, &b).await?;
        Ok((!by.is_empty(), format!("B reversed by `{by}`")))
    })
    .await?;
    let (_, a_by) = decision(&stack, &a).await?;
    assert_eq!(a_by, void, "A is reversed by its void");
    let (b_paid, b_version) = decision(&stack, &b).await?;
    assert_eq!(b_paid, 20_000);
    let (version_paid, version_by) = decision(&stack, &b_version).await?;
    assert_eq!((version_paid, version_by.as_str()), (0, ""), "B's new version pays 0 and stands");
    let accumulators = stack.table("adjudication", "accumulators");
    let met = |bucket: &str| format!("SELECT met_cents FROM {accumulators} WHERE member_id = 'MBR-0001' AND bucket = '{bucket}'");
    assert_eq!(stack.scalar(&met("deductible_inn_individual")).await?, 25_000, "only B's 250 counts now");

    // Settlement books B's reversal (-200) and its new version (0) beside B's first decision (200): it recoups 200.
    let payables = stack.table("settlement", "payables");
    wait_until(DECIDED, || async {
        let n = stack.scalar(&format!("SELECT COUNT(*) FROM {payables} WHERE claim_id IN ('{b}', '{b_version}')")).await?;
        Ok((n == 3, format!("{n} of B's payables")))
    })
    .await?;
    let reversal = format!("SELECT paid_cents FROM {payables} WHERE claim_id = '{b}' AND kind = 'reversal'");
    assert_eq!(stack.scalar(&reversal).await?, -20_000);
    let new_version = format!("SELECT paid_cents FROM {payables} WHERE claim_id = '{b_version}' AND kind = 'decision'");
    assert_eq!(stack.scalar(&new_version).await?, 0);
    // B stays adjudicated in intake, now with its new version's decision (paid 0.00), the reversal in its history.
    wait_until(DECIDED, || async {
        let status = stack.claim_status(&b).await?;
        let shows_version = status["status"] == "adjudicated" && status["decision"]["claim_id"] == b_version.as_str() && status["total_paid"] == "0.00";
        Ok((shows_version, status.to_string()))
    })
    .await?;
    // The original decision still replays to its bytes; so does the new version.
    assert!(replay_is_exact(&stack, &payer_key, &b).await?, "B's original decision replays exactly");
    assert!(replay_is_exact(&stack, &payer_key, &b_version).await?, "B's new version replays exactly");
    stack.cleanup().await
}

/// A `fee-schedules` version in force from 2020-01-01: each code at its fee.
fn fee_table(fees: &[(&str, &str)]) -> String {
    let mut csv = "code,modifier,place_of_service,fee,effective_date,end_date,multiple_procedure\n".to_owned();
    for (code, fee) in fees {
        csv.push_str(&format!("{code},,,{fee},20200101,,\n"));
    }
    csv
}

/// Every code of [`CODES`] at `fee`.
fn every_code_at(fee: &str) -> Vec<(&'static str, &str)> {
    CODES.iter().map(|code| (*code, fee)).collect()
}

async fn upload_fee_table(stack: &Stack, key: &str, csv: String) -> anyhow::Result<String> {
    let response = stack
        .client
        .post(format!("{}/v1/payers/{PAYER_ID}/policy/fee-schedules?effective_from=2020-01-01", stack.url("adjudication")))
        .bearer_auth(key)
        .body(csv)
        .send()
        .await?;
    anyhow::ensure!(response.status() == 201, "fee table: {}", response.text().await?);
    let version: Value = response.json().await?;
    Ok(version["version_id"].as_str().unwrap_or_default().to_owned())
}

/// Codes of one claim each (no two alike: no suspect duplicates).
const CODES: [&str; 6] = ["99212", "99213", "99214", "99215", "99203", "99204"];

async fn job(stack: &Stack, key: &str, job_id: &str) -> anyhow::Result<Value> {
    let response = stack.client.get(format!("{}/v1/payers/{PAYER_ID}/reprocessing/{job_id}", stack.url("adjudication"))).bearer_auth(key).send().await?;
    anyhow::ensure!(response.status() == 200, "job {job_id}: {}", response.status());
    Ok(response.json().await?)
}

async fn wait_completed(stack: &Stack, key: &str, job_id: &str, timeout: Duration) -> anyhow::Result<Value> {
    wait_until(timeout, || async {
        let job = job(stack, key, job_id).await?;
        Ok((job["status"] == "completed", job.to_string()))
    })
    .await?;
    job(stack, key, job_id).await
}

/// Submits one claim per code at 150.00 and waits until each is decided; their ids.
async fn decided_claims(stack: &Stack, run: &str) -> anyhow::Result<Vec<String>> {
    let mut claims = Vec::new();
    for code in CODES {
        let claim = stack.submit_ok(&one_line_claim(&format!("PCN-{run}-{code}"), code, 1, "150.00")).await?.remove(0);
        claims.push(claim);
    }
    for claim in &claims {
        let status = stack.wait_decided(claim, DECIDED).await?;
        assert_eq!(status["decision"]["total_paid"], "92.00", "{status}");
    }
    Ok(claims)
}

async fn start_job(stack: &Stack, key: &str, body: &Value) -> anyhow::Result<reqwest::Response> {
    Ok(stack.client.post(format!("{}/v1/payers/{PAYER_ID}/reprocessing", stack.url("adjudication"))).bearer_auth(key).json(body).send().await?)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fee_schedule_correction_re_prices_the_claims_it_affects_as_a_job() -> anyhow::Result<()> {
    let stack = Stack::start(&[]).await?;
    let payer_key = stack.create_key_for("payer-60054", "payer", &[PAYER_ID]).await?;
    upload_fee_table(&stack, &payer_key, fee_table(&every_code_at("92.00"))).await?;
    let claims = decided_claims(&stack, "FEE").await?;

    // A request naming no fee-schedules version starts nothing, and says why.
    let response = start_job(&stack, &payer_key, &json!({"reason": "fee-schedule-correction", "version_id": "not-a-version"})).await?;
    assert_eq!(response.status(), 422);
    let problem: Value = response.json().await?;
    assert_eq!(problem["errors"][0]["path"], "version_id", "{problem}");

    // The correction: 99213 and 99214 were worth 100.00 from the start.
    let fees: Vec<(&str, &str)> = CODES.iter().map(|code| (*code, if ["99213", "99214"].contains(code) { "100.00" } else { "92.00" })).collect();
    let corrected = upload_fee_table(&stack, &payer_key, fee_table(&fees)).await?;
    let response = start_job(&stack, &payer_key, &json!({"reason": "fee-schedule-correction", "version_id": corrected})).await?;
    assert_eq!(response.status(), 202, "{}", response.text().await?);
    let started: Value = response.json().await?;
    let job_id = started["job_id"].as_str().expect("a job id").to_owned();
    assert_eq!(started["selected"], 6, "every claim bills a code of the version: {started}");
    let done = wait_completed(&stack, &payer_key, &job_id, Duration::from_secs(60)).await?;
    assert_eq!((done["changed"].as_i64(), done["unchanged"].as_i64(), done["skipped"].as_i64()), (Some(2), Some(4), Some(0)), "{done}");
    for (code, claim) in CODES.iter().zip(&claims) {
        let (paid, by) = decision(&stack, claim).await?;
        assert_eq!(paid, 9_200);
        if ["99213", "99214"].contains(code) {
            let (version_paid, _) = decision(&stack, &by).await?;
            assert_eq!(version_paid, 10_000, "{code} re-priced");
            assert!(replay_is_exact(&stack, &payer_key, claim).await?, "the original decision of {code} replays exactly");
        } else {
            assert_eq!(by, "", "{code} is priced the same: nothing emitted");
        }
    }
    // Run again, the job finds nothing more to change.
    let response = start_job(&stack, &payer_key, &json!({"reason": "fee-schedule-correction", "version_id": corrected})).await?;
    let again: Value = response.json().await?;
    let again = wait_completed(&stack, &payer_key, again["job_id"].as_str().unwrap_or_default(), Duration::from_secs(60)).await?;
    assert_eq!((again["changed"].as_i64(), again["unchanged"].as_i64()), (Some(0), Some(6)), "{again}");
    stack.cleanup().await
}

#[tokio::test(flavor = "multi_thread")]
async fn adjudication_killed_mid_job_resumes_without_doubling() -> anyhow::Result<()> {
    let mut stack = Stack::start(&[("CLAIMTRAIL_ACK_WAIT_SECONDS", "5")]).await?;
    let payer_key = stack.create_key_for("payer-60054", "payer", &[PAYER_ID]).await?;
    upload_fee_table(&stack, &payer_key, fee_table(&every_code_at("92.00"))).await?;
    let claims = decided_claims(&stack, "CRASH").await?;
    let corrected = upload_fee_table(&stack, &payer_key, fee_table(&every_code_at("101.00"))).await?;

    // Adjudication dies right after committing its first batch of the job, before acknowledging it.
    stack.kill("adjudication").await?;
    stack.spawn("adjudication", &[("CLAIMTRAIL_KILL_POINT", "after_commit_before_ack:1")]).await?;
    let response = start_job(&stack, &payer_key, &json!({"reason": "fee-schedule-correction", "version_id": corrected})).await?;
    assert_eq!(response.status(), 202, "{}", response.text().await?);
    let started: Value = response.json().await?;
    let job_id = started["job_id"].as_str().expect("a job id").to_owned();
    stack.wait_exit("adjudication", Duration::from_secs(60)).await?;
    stack.spawn("adjudication", &[]).await?;

    let done = wait_completed(&stack, &payer_key, &job_id, Duration::from_secs(120)).await?;
    assert_eq!((done["selected"].as_i64(), done["changed"].as_i64(), done["done"].as_i64()), (Some(6), Some(6), Some(6)), "{done}");
    // Each claim reversed once, one new version each, booked once each.
    let decisions = stack.table("adjudication", "decisions");
    assert_eq!(stack.count("adjudication", "decisions").await?, 12);
    assert_eq!(stack.scalar(&format!("SELECT COUNT(*) FROM {decisions} WHERE reversed_by IS NOT NULL")).await?, 6);
    assert_eq!(stack.count("adjudication", "claim_versions").await?, 6);
    for claim in &claims {
        let (_, by) = decision(&stack, claim).await?;
        assert_eq!(decision(&stack, &by).await?, (10_100, String::new()));
    }
    let payables = stack.table("settlement", "payables");
    wait_until(DECIDED, || async {
        let n = stack.scalar(&format!("SELECT COUNT(*) FROM {payables} WHERE kind = 'reversal'")).await?;
        Ok((n == 6, format!("{n} reversals booked")))
    })
    .await?;
    assert_eq!(stack.scalar(&format!("SELECT COUNT(*) FROM {payables}")).await?, 18, "6 decisions, 6 reversals, 6 new versions");
    stack.cleanup().await
}
