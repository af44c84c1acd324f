//! The backbone end to end: four `claimtrail serve` processes on real
//! Postgres and NATS JetStream.

use std::time::Duration;

use claimtrail_e2e::{Stack, bundle, covered_period, day, forged_single_batch, metric, replay_as_new, sample_claim, verified_counts, wait_until};
use sea_orm::ConnectionTrait as _;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread")]
async fn a_claim_over_http_is_adjudicated_booked_and_anchored_and_the_ledger_verifies() -> anyhow::Result<()> {
    // Arrange
    let mut stack = Stack::start(&[]).await?;

    // Act
    let claim_ids = stack.submit_ok(&sample_claim("PCN-E2E-1")).await?;

    // Assert
    assert_eq!(claim_ids.len(), 1);
    let claim_id = &claim_ids[0];
    stack.wait_settled(1, Duration::from_secs(60)).await?;
    let status = stack.claim_status(claim_id).await?;
    assert_eq!(status["status"], "adjudicated");
    assert_eq!(status["outcome"], "paid");
    // 99213: 120.00 charged, fee 92.00; G0008: 25.00 under the 30.00 fee; J1100 x4: 10.00 against 4 x 0.45.
    assert_eq!(status["total_paid"], "118.80");
    let history: Vec<&str> = status["history"].as_array().unwrap().iter().map(|h| h["event_type"].as_str().unwrap()).collect();
    assert_eq!(history, ["claim.submitted.v1", "claim.adjudicated.v1", "payable.booked.v1"]);

    // One claim is one trace: the events it caused in three services carry intake's traceparent.
    let mut traces = std::collections::HashSet::new();
    for service in ["intake", "adjudication", "settlement"] {
        let sql =
            format!("SELECT convert_from(body, 'UTF8')::jsonb ->> 'traceparent' FROM {} WHERE aggregate_id = '{claim_id}'", stack.table(service, "outbox"));
        let row = stack.db.query_one_raw(sea_orm::Statement::from_string(sea_orm::DbBackend::Postgres, sql)).await?.expect("an event of the claim");
        traces.insert(row.try_get_by_index::<Option<String>>(0)?.expect("a traceparent"));
    }
    assert_eq!(traces.len(), 1, "{traces:?}");

    let journal: Value = stack
        .client
        .get(format!("{}/v1/journal/entries?claim_id={claim_id}", stack.url("settlement")))
        .bearer_auth(&stack.admin_key)
        .send()
        .await?
        .json()
        .await?;
    let entries = journal["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["amount"], "118.80");
    let balances: Value =
        stack.client.get(format!("{}/v1/journal/balances", stack.url("settlement"))).bearer_auth(&stack.admin_key).send().await?.json().await?;
    // Request rates and latencies per route template, on each service's /metrics.
    let metrics = stack.client.get(format!("{}/metrics", stack.url("intake"))).send().await?.text().await?;
    let posted =
        metrics.lines().find(|l| l.starts_with("claimtrail_http_requests_total") && l.contains("route=\"/v1/claims\"") && l.contains("status=\"202\""));
    assert!(posted.is_some_and(|line| line.ends_with(" 1")), "{metrics}");
    assert!(metrics.contains("claimtrail_http_request_seconds"), "{metrics}");
    // The journal is not the providers' to read; the fee schedule is the payer's (or an admin's) to change.
    let response = stack.client.get(format!("{}/v1/journal/balances", stack.url("settlement"))).bearer_auth(&stack.api_key).send().await?;
    assert_eq!(response.status(), 403);
    let schedule_url = format!("{}/v1/payers/60054/fee-schedule", stack.url("adjudication"));
    let schedule = json!({"fee_schedule_id": "forged", "entries": [{"procedure_code": "99213", "amount": "9999.00"}]});
    assert_eq!(stack.client.put(&schedule_url).json(&schedule).send().await?.status(), 401);
    assert_eq!(stack.client.put(&schedule_url).bearer_auth(&stack.api_key).json(&schedule).send().await?.status(), 403);
    let other_payer = stack.run_cli(&["keys", "create", "--tenant", "other-plan", "--role", "payer", "--payer-id", "99999"]).await?;
    let other_payer = String::from_utf8(other_payer.stdout)?.trim().to_owned();
    assert_eq!(stack.client.put(&schedule_url).bearer_auth(&other_payer).json(&schedule).send().await?.status(), 403);
    assert_eq!(stack.client.get(&schedule_url).bearer_auth(&stack.api_key).send().await?.status(), 200, "anyone with a key reads the schedule");
    assert_eq!(balances["balanced"], true);
    assert_eq!(balances["total_debit"], "118.80");

    // The ledger is read with an auditor, admin or payer key: none is a 401, a provider's a 403.
    let entries_url = format!("{}/v1/ledger/entries?start=0&end=10", stack.url("anchor"));
    assert_eq!(stack.client.get(&entries_url).send().await?.status(), 401);
    assert_eq!(stack.client.get(&entries_url).bearer_auth(&stack.api_key).send().await?.status(), 403);
    let auditor = stack.create_key("audit-firm", "auditor").await?;
    assert_eq!(stack.client.get(&entries_url).bearer_auth(&auditor).send().await?.status(), 200);
    let ledger: Value = stack.client.get(&entries_url).bearer_auth(&stack.admin_key).send().await?.json().await?;
    let n_entries = stack.baseline_events + 3;
    assert_eq!(ledger["entries"].as_array().unwrap().len() as i64, n_entries);
    let checkpoint = stack.client.get(format!("{}/v1/ledger/checkpoint", stack.url("anchor"))).bearer_auth(&stack.admin_key).send().await?.text().await?;
    assert!(checkpoint.starts_with(&format!("claimtrail.local/ledger\n{n_entries}\n")), "checkpoint: {checkpoint}");

    let (verified, output) = stack.verify(&[]).await?;
    assert!(verified, "verify failed: {output}");
    assert!(output.contains(&format!("ledger verified: {n_entries} entries")), "{output}");
    let keyless = stack.run_cli(&["verify", stack.url("anchor")]).await?;
    assert!(!keyless.status.success());
    assert!(String::from_utf8_lossy(&keyless.stderr).contains("an auditor, admin or payer key (--api-key or CLAIMTRAIL_API_KEY)"));

    // Every service signed its batches with its own key, registered and listed; the anchor verified each entry.
    let key_lines = stack.key_lines().await?;
    for role in ["log", "producer intake", "producer adjudication", "producer settlement"] {
        assert!(key_lines.iter().any(|line| line.ends_with(&format!(" {role}"))), "no {role} key in {key_lines:?}");
    }
    let leaves = stack.leaves().await?;
    assert_eq!(verified_counts(&leaves), (n_entries as usize, 0, 0), "{leaves:?}");
    assert!(leaves.iter().all(|leaf| leaf["producer"].as_str().unwrap().contains("-producer+")), "{leaves:?}");
    assert!(output.contains(&format!("producer signatures verified: {n_entries} entries")), "{output}");
    // Pinned keys only: the listing's lines as --key; then the adjudication key passed off as intake's.
    let pinned: Vec<&str> = key_lines.iter().flat_map(|line| ["--key", line.as_str()]).collect();
    let (verified, output) = stack.verify(&pinned).await?;
    assert!(verified && output.contains("producer signatures verified"), "{output}");
    let line_of = |role: &str| key_lines.iter().find(|line| line.ends_with(&format!(" {role}"))).unwrap().split(' ').next().unwrap().to_owned();
    let wrong_intake = format!("{} producer intake", line_of("producer adjudication"));
    let log_key = line_of("log");
    let mut wrong = vec!["--key", log_key.as_str(), "--key", wrong_intake.as_str()];
    let (adjudication_line, settlement_line) =
        (format!("{} producer adjudication", line_of("producer adjudication")), format!("{} producer settlement", line_of("producer settlement")));
    wrong.extend(["--key", adjudication_line.as_str(), "--key", settlement_line.as_str()]);
    let (verified, output) = stack.verify(&wrong).await?;
    let first_intake = leaves.iter().position(|leaf| leaf["producer"].as_str().unwrap().starts_with("intake/")).unwrap();
    assert!(!verified, "{output}");
    assert!(output.contains(&format!("first bad index: {first_intake}")) && output.contains("not trusted for intake"), "{output}");

    // The FHIR views of the decision.
    for (view, resource_type) in [("claim-response", "ClaimResponse"), ("eob", "ExplanationOfBenefit")] {
        let response = stack.client.get(format!("{}/v1/claims/{claim_id}/{view}", stack.url("intake"))).bearer_auth(&stack.api_key).send().await?;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "application/fhir+json");
        let resource: Value = response.json().await?;
        assert_eq!(resource["resourceType"], resource_type);
    }
    // Every read was recorded in the access log.
    assert_eq!(stack.count("intake", "access_log").await?, 3);

    // Key rotation: intake starts with a new producer key; the old one stays listed and its entries still verify.
    stack.kill("intake").await?;
    std::fs::remove_file(stack.key_dir.path().join("intake-producer.key"))?;
    stack.spawn("intake", &[]).await?;
    stack.submit_ok(&sample_claim("PCN-E2E-2")).await?;
    stack.wait_settled(2, Duration::from_secs(60)).await?;
    let intake_keys = stack.key_lines().await?.into_iter().filter(|line| line.ends_with(" producer intake")).count();
    assert_eq!(intake_keys, 2);
    let intake_producers: std::collections::HashSet<String> =
        stack.leaves().await?.iter().filter_map(|leaf| leaf["producer"].as_str().filter(|p| p.starts_with("intake/")).map(str::to_owned)).collect();
    assert_eq!(intake_producers.len(), 2, "{intake_producers:?}");
    let (verified, output) = stack.verify(&[]).await?;
    assert!(verified && output.contains("0 entries recorded unverified"), "{output}");

    stack.cleanup().await
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_gets_a_problem_that_names_the_fault_and_stores_nothing() -> anyhow::Result<()> {
    let stack = Stack::start(&[("CLAIMTRAIL_BODY_BYTES_MAX", "65536")]).await?;
    let url = format!("{}/v1/claims", stack.url("intake"));
    let post =
        |content_type: &'static str, body: Vec<u8>| stack.client.post(&url).bearer_auth(&stack.api_key).header("content-type", content_type).body(body).send();
    let expect_problem = |status: u16, detail_contains: &'static str| {
        move |response: reqwest::Response| async move {
            assert_eq!(response.status().as_u16(), status);
            assert_eq!(response.headers()["content-type"], "application/problem+json");
            let problem: Value = response.json().await.unwrap();
            assert_eq!(problem["status"], status);
            assert!(problem["type"].is_string() && problem["title"].is_string());
            let detail = problem["detail"].as_str().unwrap().to_owned();
            assert!(detail.contains(detail_contains), "detail `{detail}` should contain `{detail_contains}`");
            problem
        }
    };

    expect_problem(400, "not JSON")(post("application/fhir+json", b"{\"resourceType\": \"Claim\",".to_vec()).await?).await;
    expect_problem(415, "text/xml")(post("text/xml", b"<Claim/>".to_vec()).await?).await;
    expect_problem(413, "65536 bytes")(post("application/fhir+json", vec![b' '; 100_000]).await?).await;
    let mut invalid = sample_claim("PCN-BAD-1");
    invalid["item"][0]["unitPrice"]["value"] = json!("a lot");
    let problem = expect_problem(422, "not a valid FHIR R4")(post("application/fhir+json; fhirVersion=4.0", serde_json::to_vec(&invalid)?).await?).await;
    let paths: Vec<&str> = problem["errors"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap()).collect();
    assert!(paths.iter().any(|p| p.starts_with("Claim.item[0].unitPrice")), "errors should name the element: {paths:?}");
    let unauthenticated = stack.client.post(&url).header("content-type", "application/fhir+json").body("{}").send().await?;
    assert_eq!(unauthenticated.status(), 401);

    // Nothing stored, nothing published.
    assert_eq!(stack.scalar(&format!("SELECT COUNT(*) FROM {}", stack.table("intake", "claims"))).await?, 0);
    assert_eq!(stack.scalar(&format!("SELECT COUNT(*) FROM {} WHERE event_type LIKE 'claim.%'", stack.table("intake", "outbox"))).await?, 0);

    // A well-formed claim failing a front-end edit is kept, rejected, with its reason.
    let mut bad_npi = sample_claim("PCN-BAD-2");
    bad_npi["contained"][2]["identifier"][0]["value"] = json!("1245319598");
    let answer: Value = stack.submit(&bad_npi).await?.json().await?;
    assert_eq!(answer["outcomes"][0]["status"], "rejected", "{answer}");
    assert!(answer["outcomes"][0]["issues"].to_string().contains("npi"), "{answer}");
    let claim_id = answer["claim_ids"][0].as_str().unwrap().to_owned();
    assert_eq!(stack.claim_status(&claim_id).await?["status"], "rejected");
    let response = stack.client.get(format!("{}/v1/claims/{claim_id}/eob", stack.url("intake"))).bearer_auth(&stack.api_key).send().await?;
    assert_eq!(response.status(), 404, "no EOB for a claim that was never adjudicated");

    stack.cleanup().await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_bundle_is_judged_per_entry_and_another_tenant_cannot_see_the_claims() -> anyhow::Result<()> {
    let stack = Stack::start(&[]).await?;
    let mut broken = sample_claim("PCN-B-2");
    broken["item"] = json!("not a list");
    let answer: Value = stack.submit(&bundle(vec![sample_claim("PCN-B-1"), broken, sample_claim("PCN-B-3")])).await?.json().await?;
    let statuses: Vec<&str> = answer["outcomes"].as_array().unwrap().iter().map(|o| o["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["accepted", "invalid", "accepted"], "{answer}");
    assert_eq!(answer["claim_ids"].as_array().unwrap().len(), 2);
    stack.wait_settled(2, Duration::from_secs(60)).await?;

    // The provider's own claims, paged, filtered by status.
    let list_url = format!("{}/v1/claims", stack.url("intake"));
    let page: Value = stack.client.get(format!("{list_url}?status=adjudicated&limit=1")).bearer_auth(&stack.api_key).send().await?.json().await?;
    assert_eq!(page["claims"].as_array().unwrap().len(), 1, "{page}");
    let next = page["next"].as_str().expect("a second page").to_owned();
    let page: Value = stack.client.get(format!("{list_url}?status=adjudicated&limit=1&after={next}")).bearer_auth(&stack.api_key).send().await?.json().await?;
    assert_eq!(page["claims"].as_array().unwrap().len(), 1, "{page}");
    assert!(page["next"].is_null(), "{page}");
    let response = stack.client.get(format!("{list_url}?status=lost")).bearer_auth(&stack.api_key).send().await?;
    assert_eq!(response.status(), 400);

    let other = stack.create_key("another-practice", "provider").await?;
    let page: Value = stack.client.get(&list_url).bearer_auth(&other).send().await?.json().await?;
    assert_eq!(page["claims"].as_array().unwrap().len(), 0, "another tenant lists none of them: {page}");
    let claim_id = answer["claim_ids"][0].as_str().unwrap();
    let response = stack.client.get(format!("{}/v1/claims/{claim_id}", stack.url("intake"))).bearer_auth(&other).send().await?;
    assert_eq!(response.status(), 404);
    for view in ["claim-response", "eob"] {
        let url = format!("{}/v1/claims/{claim_id}/{view}", stack.url("intake"));
        assert_eq!(stack.client.get(&url).bearer_auth(&stack.api_key).send().await?.status(), 200, "the owner reads its {view}");
        let response = stack.client.get(&url).bearer_auth(&other).send().await?;
        assert_eq!(response.status(), 404, "another tenant's {view}");
        let text = response.text().await?;
        assert!(!text.contains("MBR-0001") && !text.contains("1245319599") && !text.contains("Synthetic"), "nothing of the claim leaks: {text}");
    }

    // Intake stores a request's claims and events before it answers, so nothing to wait for.
    let n_events = stack.count("intake", "outbox").await?;
    let mut transaction = bundle(vec![sample_claim("PCN-T-1"), json!({"resourceType": "Claim"})]);
    transaction["type"] = json!("transaction");
    let response = stack.submit(&transaction).await?;
    assert_eq!(response.status(), 422, "a transaction Bundle with a bad entry is refused whole");
    assert_eq!(stack.scalar(&format!("SELECT COUNT(*) FROM {}", stack.table("intake", "claims"))).await?, 2);
    assert_eq!(stack.count("intake", "outbox").await?, n_events, "nor is any event of its good entry");

    stack.cleanup().await
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idempotency_key_replays_the_first_answer_and_refuses_another_body() -> anyhow::Result<()> {
    let stack = Stack::start(&[]).await?;
    let url = format!("{}/v1/claims", stack.url("intake"));
    let send = |key: &'static str, claim: Value| {
        stack
            .client
            .post(&url)
            .bearer_auth(&stack.api_key)
            .header("content-type", "application/fhir+json")
            .header("idempotency-key", key)
            .body(serde_json::to_vec(&claim).unwrap())
            .send()
    };
    let first: Value = send("order-1", sample_claim("PCN-I-1")).await?.json().await?;
    let again = send("order-1", sample_claim("PCN-I-1")).await?;
    assert_eq!(again.status(), 202);
    let again: Value = again.json().await?;
    assert_eq!(first["claim_ids"], again["claim_ids"], "the same key and body give the same claim ids");
    let other = send("order-1", sample_claim("PCN-I-2")).await?;
    assert_eq!(other.status(), 422);
    assert_eq!(stack.count("intake", "claims").await?, 1);

    // A request with this key held by another live attempt (as another intake would hold it): 409 with Retry-After.
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis();
    let keys = stack.table("intake", "idempotency_keys");
    stack
        .execute(&format!(
            "INSERT INTO {keys} (tenant, idempotency_key, body_sha256, state, started_at_ms, attempt, lease_until_ms) \
             SELECT tenant, 'order-2', body_sha256, 'in_flight', {now_ms}, 'another-attempt', {} FROM {keys} WHERE idempotency_key = 'order-1'",
            now_ms + 30_000
        ))
        .await?;
    let in_flight = send("order-2", sample_claim("PCN-I-1")).await?;
    assert_eq!(in_flight.status(), 409);
    let retry_after: u64 = in_flight.headers()["retry-after"].to_str()?.parse()?;
    assert!((25..=30).contains(&retry_after), "Retry-After is what is left of the lease: {retry_after}");
    assert_eq!(stack.count("intake", "claims").await?, 1);
    // Its lease ran out (the process holding it died): the next attempt takes the key over and runs.
    stack.execute(&format!("UPDATE {keys} SET lease_until_ms = {} WHERE idempotency_key = 'order-2'", now_ms - 1)).await?;
    let taken_over = send("order-2", sample_claim("PCN-I-1")).await?;
    assert_eq!(taken_over.status(), 202);
    let taken_over: Value = taken_over.json().await?;
    assert_ne!(taken_over["claim_ids"], first["claim_ids"]);
    assert_eq!(stack.count("intake", "claims").await?, 2);
    // The attempt that lost the key stores nothing: its answer would go to a row it no longer holds.
    let stale = stack.execute(&format!("UPDATE {keys} SET response = 'x' WHERE idempotency_key = 'order-2' AND attempt = 'another-attempt'")).await?;
    assert_eq!(stale, 0);
    stack.wait_settled(2, Duration::from_secs(60)).await?;
    stack.cleanup().await
}

#[tokio::test(flavor = "multi_thread")]
async fn intake_rejects_unknown_members_and_adjudication_denies_lapsed_coverage() -> anyhow::Result<()> {
    let stack = Stack::start(&[]).await?;
    let admin = stack.create_key("operator-2", "admin").await?;

    // CSV import: all or nothing, naming the bad line.
    let import_url = format!("{}/v1/payers/60054/members/import", stack.url("intake"));
    let header = "member_id,family_name,given_name,birth_date,sex,plan_id,coverage_start,coverage_end\n";
    let (start, end) = covered_period();
    let bad = format!("{header}MBR-0100,Doe,Sam,1970-01-01,female,PPO,{start},{end}\nMBR-0101,Roe,Kim,1980-13-01,male,PPO,{start},{end}\n");
    let response = stack.client.post(&import_url).bearer_auth(&admin).header("content-type", "text/csv").body(bad).send().await?;
    assert_eq!(response.status(), 422);
    let problem: Value = response.json().await?;
    assert!(problem["errors"].to_string().contains("line 3"), "{problem}");
    assert_eq!(stack.scalar(&format!("SELECT COUNT(*) FROM {} WHERE member_id LIKE 'MBR-01%'", stack.table("intake", "members"))).await?, 0);
    // MBR-0101's coverage ended before the sample claim's date of service (30 days ago).
    let (lapsed_start, lapsed_end) = (day(-120), day(-90));
    let good = format!("{header}MBR-0100,Doe,Sam,1970-01-01,female,PPO,{start},{end}\nMBR-0101,Roe,Kim,1980-12-01,male,PPO,{lapsed_start},{lapsed_end}\n");
    let response = stack.client.post(&import_url).bearer_auth(&admin).header("content-type", "text/csv").body(good).send().await?;
    assert_eq!(response.status(), 200, "{}", response.text().await?);
    // A malformed body is a 400, a body of the wrong shape a 422 naming the field.
    let member_url = format!("{}/v1/payers/60054/members/MBR-0200", stack.url("intake"));
    let response = stack.client.put(&member_url).bearer_auth(&admin).body("{\"family_name\":").send().await?;
    assert_eq!(response.status(), 400);
    let wrong = json!({"family_name": "Doe", "given_name": "Sam", "birth_date": "1970-02-30", "sex": "female", "plan_id": "PPO",
        "coverage_start": "2026-01-01", "coverage_end": "2026-12-31"});
    let response = stack.client.put(&member_url).bearer_auth(&admin).json(&wrong).send().await?;
    assert_eq!(response.status(), 422);
    let problem: Value = response.json().await?;
    assert_eq!(problem["errors"][0]["path"], "birth_date", "{problem}");
    // A provider key may not publish reference data.
    let response = stack.client.post(&import_url).bearer_auth(&stack.api_key).body(header.to_owned()).send().await?;
    assert_eq!(response.status(), 403);

    let with_member = |pcn: &str, member: &str| {
        let mut claim = sample_claim(pcn);
        claim["contained"][4]["subscriberId"] = json!(member);
        claim
    };
    let outcome = |answer: &Value| (answer["outcomes"][0]["status"].as_str().unwrap_or("").to_owned(), answer["outcomes"][0]["issues"].to_string());

    let answer: Value = stack.submit(&with_member("PCN-E-1", "MBR-9999")).await?.json().await?;
    let (status, issues) = outcome(&answer);
    assert_eq!(status, "rejected");
    assert!(issues.contains("member-unknown"), "{issues}");

    // MBR-0101's coverage ended 90 days ago; the sample claim's services are 30 days ago:
    // accepted, then denied by adjudication (CO-27), not rejected.
    let answer: Value = stack.submit(&with_member("PCN-E-2", "MBR-0101")).await?.json().await?;
    assert_eq!(outcome(&answer).0, "accepted", "{answer}");
    let lapsed = answer["claim_ids"][0].as_str().unwrap_or_default().to_owned();
    let decided = stack.wait_decided(&lapsed, Duration::from_secs(30)).await?;
    assert_eq!(decided["outcome"], "denied", "{decided}");
    assert_eq!(decided["decision"]["lines"][0]["adjustments"][0]["reason"], "27", "{decided}");

    // MBR-0100 is covered, and the provider enrolled: accepted.
    let answer: Value = stack.submit(&with_member("PCN-E-3", "MBR-0100")).await?.json().await?;
    assert_eq!(outcome(&answer).0, "accepted", "{answer}");

    // A valid NPI of the organization that is not enrolled with the payer (adjudication's CO-B7), and whose licence expired 60 days ago (intake's rejection).
    let provider = json!({"entity_type": 1, "name": "Lapsed Doc", "tin": "123456789", "taxonomy": "207Q00000X", "organization": "riverside",
        "licence": {"number": "MD-1", "state": "IL", "expires": day(-60)},
        "pay_to": {"name": "Riverside", "address_line": "100 River Road", "city": "Springfield", "state": "IL", "postal_code": "62701"}, "bank_account": null});
    let response = stack.client.put(format!("{}/v1/providers/1234567893", stack.url("intake"))).bearer_auth(&admin).json(&provider).send().await?;
    assert_eq!(response.status(), 200, "{}", response.text().await?);
    let mut claim = sample_claim("PCN-E-4");
    claim["contained"][2]["identifier"][0]["value"] = json!("1234567893");
    let answer: Value = stack.submit(&claim).await?.json().await?;
    let (status, issues) = outcome(&answer);
    assert_eq!(status, "rejected");
    assert!(issues.contains("provider-licence-expired") && !issues.contains("provider-not-enrolled"), "{issues}");

    stack.cleanup().await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_over_its_request_rate_gets_429_with_retry_after() -> anyhow::Result<()> {
    let stack = Stack::start(&[("CLAIMTRAIL_RATE_LIMIT_PER_SECOND", "2")]).await?;
    let url = format!("{}/v1/claims", stack.url("intake"));
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let response = stack.client.get(&url).bearer_auth(&stack.api_key).send().await?;
        if response.status() == 429 {
            assert!(response.headers().contains_key("retry-after"));
            assert_eq!(response.headers()["content-type"], "application/problem+json");
        }
        statuses.push(response.status().as_u16());
    }
    assert_eq!(&statuses[..4], &[200, 200, 200, 200], "a burst of twice the rate passes: {statuses:?}");
    assert!(statuses.contains(&429), "{statuses:?}");
    stack.cleanup().await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forged_producer_batch_is_recorded_unverified_and_raises_the_alert_while_other_events_flow() -> anyhow::Result<()> {
    // Arrange: the fee schedule event as adjudication produced it, and its ledger entry.
    let mut stack = Stack::start(&[]).await?;
    wait_until(Duration::from_secs(30), || async {
        let n = stack.ledger_size().await?;
        Ok((n == stack.baseline_events, format!("ledger {n}/{}", stack.baseline_events)))
    })
    .await?;
    let sql = format!("SELECT convert_from(body, 'UTF8') FROM {} WHERE event_type = 'fee_schedule.published.v1'", stack.table("adjudication", "outbox"));
    let row = stack.db.query_one_raw(sea_orm::Statement::from_string(sea_orm::DbBackend::Postgres, sql)).await?.expect("the fee schedule event");
    let body: String = row.try_get_by_index(0)?;
    let original = stack.leaves().await?.into_iter().find(|leaf| leaf["event_type"] == "fee_schedule.published.v1").expect("its ledger entry");
    let key = original["producer"].as_str().unwrap().split_once('/').unwrap().1.to_owned();
    let mut copied_proof = original["batch"].clone();
    copied_proof.as_object_mut().unwrap().remove("event_hash");

    // Act: three events "by adjudication" injected on the bus: a batch signed by another key,
    // an altered event under the original batch proof, and one with no proof at all.
    let (forged_body, forged_id) = replay_as_new(&body)?;
    let (altered_body, altered_id) = replay_as_new(&body)?;
    let (bare_body, bare_id) = replay_as_new(&body)?;
    let injected = [
        (forged_body.clone(), forged_id, Some(forged_single_batch(forged_body.as_bytes(), "adjudication", &key)?)),
        (altered_body, altered_id, Some(copied_proof.to_string())),
        (bare_body, bare_id, None),
    ];
    let jetstream = async_nats::jetstream::new(async_nats::connect(claimtrail_e2e::nats_url()).await?);
    let subject = format!("{}.reference.fee_schedule.published.v1", stack.prefix);
    for (body, event_id, proof) in injected {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", event_id.as_str());
        if let Some(proof) = proof {
            headers.insert("Claimtrail-Batch", proof.as_str());
        }
        jetstream.publish_with_headers(subject.clone(), headers, body.into_bytes().into()).await?.await?;
    }
    stack.baseline_events += 3;
    stack.injected_events += 3;
    let claim_id = stack.submit_ok(&sample_claim("PCN-FORGED-1")).await?.remove(0);

    // Assert: recorded, marked unverified, counted; the claim went through, verified.
    stack.wait_settled(1, Duration::from_secs(60)).await?;
    assert_eq!(stack.claim_status(&claim_id).await?["status"], "adjudicated");
    let leaves = stack.leaves().await?;
    let unverified: Vec<&serde_json::Value> = leaves.iter().filter(|leaf| leaf["verified"] == false).collect();
    assert_eq!(unverified.len(), 3, "{unverified:?}");
    assert!(unverified.iter().all(|leaf| leaf["event_type"] == "fee_schedule.published.v1"));
    assert_eq!(verified_counts(&leaves), (leaves.len() - 3, 3, 0));
    let alerts = metric(&stack.client, stack.url("anchor"), "claimtrail_ledger_unverified_entries_total{producer=\"adjudication\"}").await?;
    assert_eq!(alerts, 3.0);
    // The ledger itself is intact: verify passes and reports them.
    let (verified, output) = stack.verify(&[]).await?;
    assert!(verified, "{output}");
    assert!(output.contains("3 entries were recorded unverified by the anchor"), "{output}");
    stack.cleanup().await
}
