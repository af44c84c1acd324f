//! Benefits through the API (issue 17): the payer uploads its plan and the
//! member's accumulators from a prior system; the sample member's claims
//! then carry the member's cost share (PR-1 deductible, PR-2 coinsurance),
//! to the cent, as claims-domain.md's scenarios 4 and 5 give them; the
//! accumulators are updated with each decision, and a decision replays
//! byte-identical; the claim's status, ClaimResponse and EOB show the
//! member's share (copay, deductible, coinsurance) and the accumulators
//! after the claim (`benefitBalance`), and pass validate-fhir. A plan that contradicts itself is refused with the path
//! of every fault. A pended claim waits in the payer's queue until a
//! reviewer decides it.

use std::time::Duration;

use claimtrail_e2e::{
    PAYER_ID, Stack, adjustment_pair, first_line_adjustments, gold_ppo_plan, one_line_claim, sample_claim, service_date, validate, wait_until,
};
use serde_json::{Value, json};

const DECIDED: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread")]
async fn an_uploaded_plan_and_imported_accumulators_give_scenarios_4_and_5_to_the_cent() -> anyhow::Result<()> {
    let stack = Stack::start(&[]).await?;
    let adjudication = stack.url("adjudication").to_owned();
    let payer_key = stack.create_key_for("payer-60054", "payer", &[PAYER_ID]).await?;
    // 99212-99214 are allowed 250.00 a unit.
    let fees = json!({"fee_schedule_id": "benefits", "entries": [{"procedure_code": "99212", "amount": "250.00"},
        {"procedure_code": "99213", "amount": "250.00"}, {"procedure_code": "99214", "amount": "250.00"}]});
    let response = stack.client.put(format!("{adjudication}/v1/payers/{PAYER_ID}/fee-schedule")).bearer_auth(&stack.admin_key).json(&fees).send().await?;
    anyhow::ensure!(response.status().is_success(), "fee schedule: {}", response.text().await?);

    // A plan that contradicts itself stores nothing and names every fault.
    let mut bad = gold_ppo_plan();
    bad["tiers"]["inn"]["deductible"]["family"] = json!("400.00");
    bad["tiers"]["inn"]["coinsurance_percent"] = json!("120");
    let response = stack
        .client
        .put(format!("{adjudication}/v1/payers/{PAYER_ID}/plans/PPO-GOLD?effective_from=2020-01-01"))
        .bearer_auth(&payer_key)
        .json(&bad)
        .send()
        .await?;
    assert_eq!(response.status(), 422);
    let problem: Value = response.json().await?;
    let paths: Vec<&str> = problem["errors"].as_array().expect("errors").iter().filter_map(|e| e["path"].as_str()).collect();
    assert!(paths.contains(&"tiers.inn.deductible.family") && paths.contains(&"tiers.inn.coinsurance_percent"), "{problem}");

    // The member's plan (the enrollment names PPO-GOLD), then what the prior system says was met this plan year.
    let response = stack
        .client
        .put(format!("{adjudication}/v1/payers/{PAYER_ID}/plans/PPO-GOLD?effective_from=2020-01-01"))
        .bearer_auth(&payer_key)
        .json(&gold_ppo_plan())
        .send()
        .await?;
    assert_eq!(response.status(), 201, "{}", response.text().await?);
    let listed: Value = stack.client.get(format!("{adjudication}/v1/payers/{PAYER_ID}/plans")).bearer_auth(&payer_key).send().await?.json().await?;
    assert_eq!(listed["versions"][0]["name"], "PPO-GOLD", "{listed}");
    assert_eq!(listed["versions"][0]["kind"], "plan", "{listed}");
    let plan_year = &service_date()[..4];
    let import = |csv: String| {
        let request = stack.client.post(format!("{adjudication}/v1/payers/{PAYER_ID}/accumulators/import")).bearer_auth(&payer_key).body(csv);
        async move { anyhow::Ok(request.send().await?) }
    };
    let first_file =
        format!("member_id,plan_year,bucket,amount\nMBR-0001,{plan_year},deductible_inn_individual,350.00\nMBR-0001,{plan_year},oop_inn_individual,1000.00\n");
    assert_eq!(import(first_file.clone()).await?.status(), 201);
    assert_eq!(import(first_file).await?.status(), 409, "the same file twice");
    let response = import(format!("member_id,plan_year,bucket,amount\nMBR-0001,{plan_year},deductible_in_individual,1.00\n")).await?;
    assert_eq!(response.status(), 422);
    assert!(response.text().await?.contains("line 2"));

    // Scenario 4: charge 400, allowed 250; deductible 150 of 500 left, then 20% of 100.
    let claim = stack.submit_ok(&one_line_claim("PCN-SCEN4", "99213", 1, "400.00")).await?.remove(0);
    let status = stack.wait_decided(&claim, DECIDED).await?;
    assert_eq!(status["outcome"], "paid", "{status}");
    assert_eq!(
        first_line_adjustments(&status),
        [adjustment_pair("CO-45", "150.00"), adjustment_pair("PR-1", "150.00"), adjustment_pair("PR-2", "20.00")],
        "{status}"
    );
    assert_eq!((status["decision"]["total_paid"].as_str(), status["decision"]["total_patient_responsibility"].as_str()), (Some("80.00"), Some("170.00")));
    let response = stack.client.post(format!("{adjudication}/v1/claims/{claim}/replay")).bearer_auth(&stack.api_key).send().await?;
    let replay: Value = response.json().await?;
    assert_eq!(replay["byte_identical"], true, "{replay}");
    let explanation: Value = stack.client.get(format!("{adjudication}/v1/claims/{claim}/explanation")).bearer_auth(&payer_key).send().await?.json().await?;
    let kinds: Vec<(&str, &str)> = explanation["lines"][0]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| (s["kind"].as_str().unwrap_or(""), s["rule"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(kinds, [("pricing", "fee-schedule"), ("benefit", "deductible"), ("benefit", "coinsurance")], "{explanation}");
    assert_eq!(explanation["lines"][0]["patient_responsibility"], "170.00", "{explanation}");
    // The status, the ClaimResponse and the EOB carry the member's share and the accumulators after the claim.
    let balances = |status: &Value| -> Vec<(String, String, String)> {
        status["accumulators"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|b| (b["bucket"].as_str().unwrap_or("").to_owned(), b["met"].as_str().unwrap_or("").to_owned(), b["limit"].as_str().unwrap_or("").to_owned()))
            .collect()
    };
    let shown = |bucket: &str, met: &str, limit: &str| (bucket.to_owned(), met.to_owned(), limit.to_owned());
    wait_until(DECIDED, || async {
        let status = stack.claim_status(&claim).await?;
        Ok((!balances(&status).is_empty(), status.to_string()))
    })
    .await?;
    let status = stack.claim_status(&claim).await?;
    assert_eq!(balances(&status), [shown("deductible_inn_individual", "500.00", "500.00"), shown("oop_inn_individual", "1170.00", "3000.00")], "{status}");
    let dir = tempfile::tempdir()?;
    let mut files = Vec::new();
    for view in ["claim-response", "eob"] {
        let resource: Value =
            stack.client.get(format!("{}/v1/claims/{claim}/{view}", stack.url("intake"))).bearer_auth(&stack.api_key).send().await?.json().await?;
        let totals: Vec<(&str, f64)> = resource["total"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| (t["category"]["coding"][0]["code"].as_str().unwrap_or(""), t["amount"]["value"].as_f64().unwrap_or(-1.0)))
            .collect();
        assert!(totals.contains(&("deductible", 150.0)) && totals.contains(&("coinsurance", 20.0)), "{view}: {totals:?}");
        if view == "eob" {
            let deductible = &resource["benefitBalance"][0]["financial"][0];
            assert_eq!((deductible["allowedMoney"]["value"].as_f64(), deductible["usedMoney"]["value"].as_f64()), (Some(500.0), Some(500.0)), "{resource}");
            assert_eq!(resource["benefitBalance"][0]["network"]["coding"][0]["code"], "in", "{resource}");
        }
        let path = dir.path().join(format!("{view}.json"));
        std::fs::write(&path, serde_json::to_vec_pretty(&resource)?)?;
        files.push(path);
    }
    validate("validate-fhir", &files);

    // Scenario 5: 1,820 more out of pocket elsewhere brings the member to 2,990 of 3,000;
    // allowed 500, coinsurance 100 is capped at the 10 left, the payer pays 490.
    let response = import(format!("member_id,plan_year,bucket,amount\nMBR-0001,{plan_year},oop_inn_individual,1820.00\n")).await?;
    assert_eq!(response.status(), 201);
    let claim = stack.submit_ok(&one_line_claim("PCN-SCEN5", "99214", 2, "600.00")).await?.remove(0);
    let status = stack.wait_decided(&claim, DECIDED).await?;
    assert_eq!(first_line_adjustments(&status), [adjustment_pair("CO-45", "100.00"), adjustment_pair("PR-2", "10.00")], "{status}");
    assert_eq!(status["decision"]["total_paid"], "490.00", "{status}");
    // Later claims pay 100% of the allowed amount.
    let claim = stack.submit_ok(&one_line_claim("PCN-AFTER-OOP", "99212", 1, "250.00")).await?.remove(0);
    let status = stack.wait_decided(&claim, DECIDED).await?;
    assert_eq!((status["decision"]["total_paid"].as_str(), status["decision"]["total_patient_responsibility"].as_str()), (Some("250.00"), Some("0.00")));

    // The accumulators as stored: 500 of the deductible, exactly 3,000 out of pocket.
    let accumulators = stack.table("adjudication", "accumulators");
    let met = |bucket: &str| format!("SELECT met_cents FROM {accumulators} WHERE member_id = 'MBR-0001' AND bucket = '{bucket}'");
    assert_eq!(stack.scalar(&met("deductible_inn_individual")).await?, 50_000);
    assert_eq!(stack.scalar(&met("oop_inn_individual")).await?, 300_000);
    stack.cleanup().await
}

/// A rule set whose policy pends every claim billing J1100 (its one table denies nothing the sample claim bills).
fn pend_j1100() -> Value {
    let table = json!({"type": "decisionTableNode", "id": "codes", "name": "Codes", "position": {"x": 400, "y": 100},
        "content": {"hitPolicy": "first", "passThrough": true, "inputField": null, "outputPath": null, "executionMode": "single",
            "inputs": [{"id": "i1", "name": "Code", "field": "line.procedure_code"}],
            "outputs": [{"id": "o1", "name": "Action", "field": "action"}, {"id": "o2", "name": "CARC", "field": "carc"}],
            "rules": [{"_id": "deny-g0009", "i1": "'G0009'", "o1": "'deny'", "o2": "'96'"}]}});
    json!({"contentType": "application/vnd.gorules.decision",
        "nodes": [{"type": "inputNode", "id": "in", "name": "Request", "position": {"x": 0, "y": 0}}, table,
                  {"type": "outputNode", "id": "out", "name": "Response", "position": {"x": 900, "y": 0}}],
        "edges": [{"id": "e0", "sourceId": "in", "targetId": "codes", "type": "edge"}, {"id": "e1", "sourceId": "codes", "targetId": "out", "type": "edge"}],
        "policy": {"effective_from": "2020-01-01", "mue_action": "deny", "timely_filing_days": 365, "pend_codes": ["J1100"],
                   "standard_edits": ["coverage", "death", "timely_filing", "enrollment"]}})
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pended_claim_waits_in_the_payer_s_queue_until_a_reviewer_approves_it_with_amounts() -> anyhow::Result<()> {
    let stack = Stack::start(&[]).await?;
    let adjudication = stack.url("adjudication").to_owned();
    let payer_key = stack.create_key_for("payer-60054", "payer", &[PAYER_ID]).await?;
    let response = stack.client.put(format!("{adjudication}/v1/payers/{PAYER_ID}/rule-sets/review")).bearer_auth(&payer_key).json(&pend_j1100()).send().await?;
    assert_eq!(response.status(), 201, "{}", response.text().await?);
    let claim = stack.submit_ok(&sample_claim("PCN-QUEUE")).await?.remove(0);
    let status = stack.wait_decided(&claim, DECIDED).await?;
    assert_eq!(status["status"], "pended", "{status}");

    let queue = || async {
        let response = stack.client.get(format!("{adjudication}/v1/payers/{PAYER_ID}/pended")).bearer_auth(&payer_key).send().await?;
        anyhow::ensure!(response.status() == 200, "the queue answered {}", response.status());
        anyhow::Ok(response.json::<Value>().await?)
    };
    let listed = queue().await?;
    assert_eq!((listed["count"].as_u64(), listed["claims"][0]["claim_id"].as_str()), (Some(1), Some(claim.as_str())), "{listed}");
    assert_eq!(listed["claims"][0]["reason"], "code-pended-by-policy", "{listed}");
    assert_eq!((listed["claims"][0]["total_charge"].as_str(), listed["claims"][0]["priority"].as_u64()), (Some("155.00"), Some(1)), "{listed}");
    assert!(listed["claims"][0]["age"].as_i64().is_some_and(|age| (0..=1).contains(&age)), "{listed}");
    // The submitting provider may not review; another payer's key sees no such claim.
    let review = |key: String, body: Value| {
        let request = stack.client.post(format!("{adjudication}/v1/claims/{claim}/review")).bearer_auth(key).json(&body);
        async move { anyhow::Ok(request.send().await?) }
    };
    // Approved: the visit at its 92.00 fee, the rest at their charges (25.00 and 10.00).
    let approval = json!({"action": "approve", "reason": "the injection was medically necessary", "lines": [{"sequence": 1, "allowed": "92.00"}]});
    assert_eq!(review(stack.api_key.clone(), approval.clone()).await?.status(), 404);
    // A review that does not fit the claim names every fault and records nothing.
    let response = review(
        payer_key.clone(),
        json!({"action": "adjust", "reason": "", "lines": [{"sequence": 1, "allowed": "500.00"}, {"sequence": 9, "allowed": "1.00"}]}),
    )
    .await?;
    assert_eq!(response.status(), 422);
    let problem: Value = response.json().await?;
    let paths: Vec<&str> = problem["errors"].as_array().expect("errors").iter().filter_map(|e| e["path"].as_str()).collect();
    assert_eq!(paths, ["reason", "lines[0].allowed", "lines[1].sequence"], "{problem}");

    let response = review(payer_key.clone(), approval.clone()).await?;
    assert_eq!(response.status(), 202, "{}", response.text().await?);
    wait_until(DECIDED, || async {
        let status = stack.claim_status(&claim).await?;
        Ok((status["status"] != "pended", status.to_string()))
    })
    .await?;
    let status = stack.claim_status(&claim).await?;
    assert_eq!((status["outcome"].as_str(), status["decision"]["total_paid"].as_str()), (Some("paid"), Some("127.00")), "{status}");
    assert_eq!(queue().await?["count"], 0, "a decided claim leaves the queue");
    assert_eq!(review(payer_key.clone(), approval).await?.status(), 409, "decided already");
    // The decision names the reviewer and replays byte-identical from its record.
    let explanation: Value = stack.client.get(format!("{adjudication}/v1/claims/{claim}/explanation")).bearer_auth(&payer_key).send().await?.json().await?;
    let step = &explanation["lines"][0]["steps"][0];
    assert_eq!((step["kind"].as_str(), step["rule"].as_str()), (Some("review"), Some("review-approve")), "{explanation}");
    assert!(step["detail"].as_str().is_some_and(|detail| detail.contains("payer-60054") && detail.contains("medically necessary")), "{explanation}");
    let replay: Value = stack.client.post(format!("{adjudication}/v1/claims/{claim}/replay")).bearer_auth(&payer_key).send().await?.json().await?;
    assert_eq!(replay["byte_identical"], true, "{replay}");
    stack.cleanup().await
}
