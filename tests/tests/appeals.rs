//! Appeals end to end on Postgres and NATS JetStream, over HTTP only
//! (issue 17): the payer's MUE table gives J1100 2 units a day with
//! indicator 3, so the sample claim's J1100 × 4 is denied CO-151 and the
//! claim is paid for its other lines, by ACH, after the provider's prenote.
//! The provider appeals the J1100 line (Idempotency-Key: the same request
//! again answers the same appeal, another body 422, another appeal 409); the
//! claim shows `appealed` and waits in the payer's pended queue (reason
//! `appeal`); the payer overturns it; the claim is decided again and paid in
//! full (118.80), its history telling the appeal's story; settlement books
//! the reversal and the correction, and the next payment run pays exactly
//! the difference. Then, with J1100's MUE at indicator 2, a repeat claim of
//! the same day (its other lines exact duplicates) cannot be appealed: the
//! indicator 2 line and the CO-18 lines are each refused with a 422 naming
//! the line and the reason.

use std::time::Duration;

use claimtrail_e2e::{PAYER_ID, Stack, sample_claim, wait_until};
use serde_json::{Value, json};

const DECIDED: Duration = Duration::from_secs(30);
const MUE_HEADER: &str = "HCPCS/CPT Code,Practitioner Services MUE Values,MUE Adjudication Indicator,MUE Rationale\n";

/// Cents of a "12.34" amount.
fn cents(amount: &str) -> i64 {
    let (units, fraction) = amount.split_once('.').unwrap_or((amount, "00"));
    units.parse::<i64>().expect("units") * 100 + fraction.parse::<i64>().expect("cents")
}

/// The reason codes of each line's adjustments.
fn reasons(status: &Value) -> Vec<Vec<String>> {
    status["decision"]["lines"]
        .as_array()
        .map(|lines| {
            lines
                .iter()
                .map(|line| line["adjustments"].as_array().into_iter().flatten().map(|a| a["reason"].as_str().unwrap_or("").to_owned()).collect())
                .collect()
        })
        .unwrap_or_default()
}

/// One payment run of the payer, by a finance key.
async fn run(stack: &Stack, finance: &str, idempotency_key: &str) -> anyhow::Result<Value> {
    let response = stack
        .client
        .post(format!("{}/v1/payment-runs", stack.url("settlement")))
        .bearer_auth(finance)
        .header("idempotency-key", idempotency_key)
        .json(&json!({"payer_id": PAYER_ID}))
        .send()
        .await?;
    anyhow::ensure!(response.status() == 201, "payment run {idempotency_key}: {}", response.text().await?);
    Ok(response.json().await?)
}

/// A new version of the payer's MUE table, of `rows`.
async fn upload_mue(stack: &Stack, payer_key: &str, rows: &str) -> anyhow::Result<()> {
    let response = stack
        .client
        .post(format!("{}/v1/payers/{PAYER_ID}/edit-tables/mue?effective_from=2020-01-01", stack.url("adjudication")))
        .bearer_auth(payer_key)
        .body(format!("{MUE_HEADER}{rows}"))
        .send()
        .await?;
    anyhow::ensure!(response.status() == 201, "mue: {}", response.text().await?);
    Ok(())
}

async fn appeal(stack: &Stack, claim_id: &str, key: &str, body: &Value) -> anyhow::Result<(u16, Value)> {
    let response = stack
        .client
        .post(format!("{}/v1/claims/{claim_id}/appeals", stack.url("adjudication")))
        .bearer_auth(&stack.api_key)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await?;
    let status = response.status().as_u16();
    let text = response.text().await?;
    Ok((status, serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{e}: {text}"))?))
}

#[tokio::test(flavor = "multi_thread")]
async fn an_mue_3_denial_is_appealed_overturned_and_the_difference_paid_while_mue_2_and_co_18_lines_cannot_be_appealed() -> anyhow::Result<()> {
    // Arrange: J1100's MUE (2 a day, indicator 3), the payer's banking, a paid claim with J1100 denied.
    let mut stack = Stack::start(&[]).await?;
    let adjudication = stack.url("adjudication").to_owned();
    let payer_key = stack.create_key_for("payer-60054", "payer", &[PAYER_ID]).await?;
    let finance = stack.create_key("finance-team", "finance").await?;
    upload_mue(&stack, &payer_key, "J1100,2,3 Date of Service Edit: Clinical\n").await?;
    let banking = json!({"name": "TEST HEALTH PLAN", "tin": "251234567", "routing_number": "031000053", "account_number": "12345",
        "address": {"name": "TEST HEALTH PLAN", "address_line": "1 PLAN WAY", "city": "HARRISBURG", "state": "PA", "postal_code": "17101"}});
    let response = stack.client.put(format!("{}/v1/payers/{PAYER_ID}/banking", stack.url("settlement"))).bearer_auth(&finance).json(&banking).send().await?;
    assert_eq!(response.status(), 200, "{}", response.text().await?);
    let claim = stack.submit_ok(&sample_claim("PCN-APPEAL-1")).await?.remove(0);
    let status = stack.wait_decided(&claim, DECIDED).await?;
    assert_eq!(status["outcome"], "partially_paid", "{status}");
    assert_eq!(reasons(&status)[2], ["151"], "{status}");
    let paid_before = status["total_paid"].as_str().expect("total_paid").to_owned();
    // The first run prenotes the provider's account; ten days later the next pays the claim.
    stack.wait_settled(1, Duration::from_secs(60)).await?;
    let first = run(&stack, &finance, "appeal-cycle-1").await?;
    assert_eq!(first["remittances"][0]["status"], "awaiting_prenote", "{first}");
    stack.kill("settlement").await?;
    stack.spawn("settlement", &[("CLAIMTRAIL_CLOCK_OFFSET_DAYS", "10")]).await?;
    let second = run(&stack, &finance, "appeal-cycle-2").await?;
    assert_eq!(
        (second["remittances"][0]["status"].as_str(), second["remittances"][0]["amount"].as_str()),
        (Some("ach"), Some(paid_before.as_str())),
        "{second}"
    );

    // Act 1: the provider appeals line 3 (the same request twice is one appeal).
    let body = json!({"reason": "Records show four doses were medically necessary", "lines": [3]});
    let (code, filed) = appeal(&stack, &claim, "appeal-1", &body).await?;
    assert_eq!(code, 202, "{filed}");
    assert_eq!((filed["status"].as_str(), filed["lines"].clone()), (Some("open"), json!([3])), "{filed}");
    let (code, again) = appeal(&stack, &claim, "appeal-1", &body).await?;
    assert_eq!((code, again["appeal_id"].clone()), (200, filed["appeal_id"].clone()), "{again}");
    let (code, problem) = appeal(&stack, &claim, "appeal-1", &json!({"reason": "another body"})).await?;
    assert_eq!(code, 422, "{problem}");
    let (code, problem) = appeal(&stack, &claim, "appeal-2", &body).await?;
    assert_eq!(code, 409, "{problem}");
    wait_until(DECIDED, || async {
        let status = stack.claim_status(&claim).await?;
        Ok((status["status"] == "appealed", status.to_string()))
    })
    .await?;
    let queue: Value = stack.client.get(format!("{adjudication}/v1/payers/{PAYER_ID}/pended")).bearer_auth(&payer_key).send().await?.json().await?;
    let queued = queue["claims"].as_array().expect("claims").iter().find(|c| c["claim_id"] == claim.as_str()).cloned().unwrap_or_default();
    assert_eq!((queued["reason"].as_str(), queued["step"].as_str()), (Some("appeal"), Some("appeal")), "{queue}");

    // Act 2: the payer overturns it (a review of an appeal takes no amounts).
    let review = |body: Value| stack.client.post(format!("{adjudication}/v1/claims/{claim}/review")).bearer_auth(&payer_key).json(&body).send();
    let response = review(json!({"action": "adjust", "reason": "records reviewed", "lines": [{"sequence": 3, "allowed": "1.00"}]})).await?;
    assert_eq!(response.status(), 422, "{}", response.text().await?);
    let response = review(json!({"action": "overturn", "reason": "records support four doses"})).await?;
    assert_eq!(response.status(), 202, "{}", response.text().await?);

    // Assert: decided again and paid in full, the history telling the story, the appeal out of the queue.
    wait_until(DECIDED, || async {
        let status = stack.claim_status(&claim).await?;
        Ok((status["status"] == "adjudicated" && status["total_paid"] == "118.80", status.to_string()))
    })
    .await?;
    let status = stack.claim_status(&claim).await?;
    assert_eq!(status["outcome"], "paid", "{status}");
    assert_eq!(reasons(&status)[2], ["45"], "priced, no longer denied CO-151: {status}");
    let history = status["history"].to_string();
    for step in ["appealed by riverside", "to be decided again", "overturned by payer-60054", &format!("paid {paid_before} before, 118.80 now")] {
        assert!(history.contains(step), "{step}: {history}");
    }
    let replay: Value = stack.client.post(format!("{adjudication}/v1/claims/{claim}/replay")).bearer_auth(&payer_key).send().await?.json().await?;
    assert_eq!(replay["byte_identical"], true, "{replay}");
    let queue: Value = stack.client.get(format!("{adjudication}/v1/payers/{PAYER_ID}/pended")).bearer_auth(&payer_key).send().await?.json().await?;
    assert!(!queue.to_string().contains(&claim), "{queue}");
    let response = review(json!({"action": "overturn", "reason": "again"})).await?;
    assert_eq!(response.status(), 409, "decided: {}", response.text().await?);

    // Settlement: the reversal and the correction are booked, and the next run pays the difference.
    let entries = stack.table("settlement", "journal_entries");
    wait_until(DECIDED, || async {
        let n_entries = stack.scalar(&format!("SELECT COUNT(*) FROM {entries} WHERE claim_id = '{claim}'")).await?;
        Ok((n_entries == 3, format!("{n_entries} journal entries of the claim: decision, reversal, correction expected")))
    })
    .await?;
    let third = run(&stack, &finance, "appeal-cycle-3").await?;
    let remittances = third["remittances"].as_array().expect("remittances");
    assert_eq!(remittances.len(), 1, "{third}");
    assert_eq!(cents(remittances[0]["amount"].as_str().unwrap_or("0")), cents("118.80") - cents(&paid_before), "{third}");
    assert_eq!(remittances[0]["status"], "ach", "{third}");

    // MUE indicator 2 now; a repeat J1100 (76) of the same day, its other lines exact duplicates of the paid claim.
    upload_mue(&stack, &payer_key, "J1100,2,2 Date of Service Edit: Policy\n").await?;
    let mut repeat = sample_claim("PCN-APPEAL-2");
    repeat["item"][2]["modifier"] = json!([{"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "76"}]}]);
    let repeat_id = stack.submit_ok(&repeat).await?.remove(0);
    let status = stack.wait_decided(&repeat_id, DECIDED).await?;
    assert_eq!(reasons(&status), [vec!["18".to_owned()], vec!["18".to_owned()], vec!["151".to_owned()]], "{status}");
    let (code, problem) = appeal(&stack, &repeat_id, "appeal-3", &json!({"reason": "medically necessary", "lines": [3]})).await?;
    assert_eq!(code, 422, "{problem}");
    let message = problem["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("line 3 (J1100)") && message.contains("indicator 2"), "{problem}");
    let (code, problem) = appeal(&stack, &repeat_id, "appeal-4", &json!({"reason": "not a duplicate", "lines": [1]})).await?;
    assert_eq!(code, 422, "{problem}");
    let message = problem["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("line 1 (99213)") && message.contains("CO-18"), "{problem}");
    assert_eq!(stack.claim_status(&repeat_id).await?["status"], "adjudicated", "nothing recorded");
    stack.cleanup().await
}
