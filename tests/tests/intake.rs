//! Intake's scoping, registries and claim lifecycle on the real stack:
//! payer-scoped publishing, NPI-scoped submission, the payer and timely
//! filing edits, signed submissions, and replacement and void acting on
//! the earlier claim downstream (reversal in adjudication and settlement).

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use claimtrail_e2e::{PAYER_ID, Stack, covered_period, day, sample_claim, wait_until};
use ed25519_dalek::Signer as _;
use serde_json::{Value, json};
use sha3::Digest as _;

async fn answer(response: reqwest::Response) -> anyhow::Result<(u16, Value)> {
    let status = response.status().as_u16();
    let text = response.text().await?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::String(text))))
}

/// The issue codes of the first outcome of a 202 answer.
fn issue_codes(answer: &Value) -> Vec<String> {
    answer["outcomes"][0]["issues"].as_array().map(|issues| issues.iter().filter_map(|i| i["code"].as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_are_scoped_to_their_payer_and_their_organization_npis() -> anyhow::Result<()> {
    let stack = Stack::start(&[]).await?;
    let intake = stack.url("intake").to_owned();
    let member = json!({"family_name": "Scoped", "given_name": "Sam", "birth_date": "1970-01-01", "sex": "male",
        "plan_id": "PPO", "coverage_start": covered_period().0, "coverage_end": covered_period().1});

    // A payer key publishes for its own payer only; a payer key needs a payer id.
    let output = stack.run_cli(&["keys", "create", "--tenant", "unscoped-plan", "--role", "payer"]).await?;
    assert!(!output.status.success(), "a payer key without --payer-id is refused");
    assert!(String::from_utf8_lossy(&output.stderr).contains("--payer-id"), "{}", String::from_utf8_lossy(&output.stderr));
    let own = stack.run_cli(&["keys", "create", "--tenant", "test-plan", "--role", "payer", "--payer-id", PAYER_ID]).await?;
    let own = String::from_utf8(own.stdout)?.trim().to_owned();
    let other = stack.run_cli(&["keys", "create", "--tenant", "other-plan", "--role", "payer", "--payer-id", "99999"]).await?;
    let other = String::from_utf8(other.stdout)?.trim().to_owned();
    let url = format!("{intake}/v1/payers/{PAYER_ID}/members/MBR-SCOPE");
    let (status, body) = answer(stack.client.put(&url).bearer_auth(&other).json(&member).send().await?).await?;
    assert_eq!(status, 403, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("99999"), "{body}");
    let (status, body) = answer(stack.client.put(&url).bearer_auth(&own).json(&member).send().await?).await?;
    assert_eq!(status, 200, "{body}");
    // Only an admin registers providers (the registration grants billing rights).
    let provider = json!({"entity_type": 1, "name": "Other Doc", "tin": "987654321", "taxonomy": "207Q00000X", "organization": "test-plan",
        "licence": null, "pay_to": {"name": "Other", "address_line": "1 St", "city": "X", "state": "IL", "postal_code": "62701"}, "bank_account": null});
    let (status, body) = answer(stack.client.put(format!("{intake}/v1/providers/1003000126")).bearer_auth(&own).json(&provider).send().await?).await?;
    assert_eq!(status, 403, "{body}");

    // Another organization's provider key may not bill under Riverside's NPI: 403, nothing stored.
    let intruder = stack.create_key("another-practice", "provider").await?;
    let claims_before = stack.count("intake", "claims").await?;
    let response = stack
        .client
        .post(format!("{intake}/v1/claims"))
        .bearer_auth(&intruder)
        .header("content-type", "application/fhir+json")
        .json(&sample_claim("PCN-INTRUDER"))
        .send()
        .await?;
    let (status, body) = answer(response).await?;
    assert_eq!(status, 403, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("1245319599"), "{body}");
    assert_eq!(stack.count("intake", "claims").await?, claims_before);

    // The registry is readable by the owning organization, with the account number masked; not by another.
    let (status, body) = answer(stack.client.get(format!("{intake}/v1/providers/1245319599")).bearer_auth(&stack.api_key).send().await?).await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["bank_account"]["account_number"], "********6789");
    assert_eq!(body["organization"], "riverside");
    let (status, _) = answer(stack.client.get(format!("{intake}/v1/providers/1245319599")).bearer_auth(&intruder).send().await?).await?;
    assert_eq!(status, 404);
    stack.cleanup().await
}

#[tokio::test(flavor = "multi_thread")]
async fn finance_and_auditor_keys_are_scoped_to_their_payers_and_see_nothing_of_another() -> anyhow::Result<()> {
    let stack = Stack::start(&[]).await?;
    let (intake, settlement) = (stack.url("intake").to_owned(), stack.url("settlement").to_owned());
    let claim_id = stack.submit_ok(&sample_claim("PCN-SCOPE-1")).await?.remove(0);
    stack.wait_settled(1, Duration::from_secs(60)).await?;
    stack.claim_status(&claim_id).await?;

    // An unscoped finance or auditor key is refused at creation, naming both ways to scope it, and nothing is stored.
    let keys = stack.table("registry", "api_keys");
    let n_keys = stack.scalar(&format!("SELECT COUNT(*) FROM {keys}")).await?;
    for role in ["finance", "auditor"] {
        let output = stack.run_cli(&["keys", "create", "--tenant", "unscoped", "--role", role]).await?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success() && stderr.contains("--payer-id") && stderr.contains("--all-payers"), "{stderr}");
    }
    assert_eq!(stack.scalar(&format!("SELECT COUNT(*) FROM {keys}")).await?, n_keys);

    let own_finance = stack.create_key_for("plan-finance", "finance", &[PAYER_ID, "99999"]).await?;
    let own_auditor = stack.create_key_for("plan-audit", "auditor", &[PAYER_ID]).await?;
    let other_finance = stack.create_key_for("other-finance", "finance", &["99999"]).await?;
    let other_auditor = stack.create_key_for("other-audit", "auditor", &["99999", "88888"]).await?;
    let wide = stack.run_cli(&["keys", "create", "--tenant", "operator-finance", "--role", "finance", "--all-payers"]).await?;
    assert!(wide.status.success(), "{}", String::from_utf8_lossy(&wide.stderr));
    let wide_finance = String::from_utf8(wide.stdout)?.trim().to_owned();
    let client = &stack.client;
    let get = |url: String, key: String| async move { answer(client.get(url).bearer_auth(key).send().await?).await };
    let expense = format!("expense:claims:{PAYER_ID}");

    // Another payer's keys: 404 for the claim and its journal, and lists without a trace of it.
    let balances_url = format!("{settlement}/v1/journal/balances");
    for key in [&other_finance, &other_auditor] {
        let (status, body) = get(balances_url.clone(), key.clone()).await?;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["accounts"], json!([]), "{body}");
        assert_eq!(body["total_debit"], "0.00", "{body}");
        let (status, body) = get(format!("{settlement}/v1/journal/entries?claim_id={claim_id}"), key.clone()).await?;
        assert_eq!(status, 404, "{body}");
        assert!(!body.to_string().contains("118.80"), "{body}");
    }
    for path in ["", "/claim-response", "/eob"] {
        let (status, body) = get(format!("{intake}/v1/claims/{claim_id}{path}"), other_auditor.clone()).await?;
        assert_eq!(status, 404, "{path}: {body}");
    }
    let (status, body) = get(format!("{intake}/v1/claims"), other_auditor.clone()).await?;
    assert_eq!((status, body["claims"].clone()), (200, json!([])), "{body}");
    let (status, body) = get(format!("{intake}/v1/access-log"), other_auditor.clone()).await?;
    assert_eq!((status, body["entries"].clone()), (200, json!([])), "{body}");
    let (status, body) = get(format!("{intake}/v1/access-log?claim_id={claim_id}"), other_auditor.clone()).await?;
    assert_eq!((status, body["entries"].clone()), (200, json!([])), "{body}");
    let (status, _) = get(format!("{intake}/v1/claims/{claim_id}"), own_finance.clone()).await?;
    assert_eq!(status, 404, "finance keys read journals, not claims");

    // The payer's own keys, and an explicit operator-wide key, see it.
    for key in [&own_finance, &own_auditor, &wide_finance] {
        let (status, body) = get(balances_url.clone(), key.clone()).await?;
        assert_eq!(status, 200, "{body}");
        assert!(body["accounts"].as_array().unwrap().iter().any(|a| a["account"] == expense.as_str() && a["debit"] == "118.80"), "{body}");
        let (status, body) = get(format!("{settlement}/v1/journal/entries?claim_id={claim_id}"), key.clone()).await?;
        assert_eq!((status, body["entries"][0]["amount"].as_str()), (200, Some("118.80")), "{body}");
    }
    let (status, body) = get(format!("{intake}/v1/claims/{claim_id}/eob"), own_auditor.clone()).await?;
    assert_eq!(status, 200, "{body}");
    let (status, body) = get(format!("{intake}/v1/claims"), own_auditor.clone()).await?;
    assert_eq!((status, body["claims"][0]["claim_id"].as_str()), (200, Some(claim_id.as_str())), "{body}");
    let (status, body) = get(format!("{intake}/v1/access-log?claim_id={claim_id}"), own_auditor.clone()).await?;
    assert_eq!(status, 200, "{body}");
    assert!(body["entries"].as_array().unwrap().iter().any(|e| e["reader_tenant"] == "riverside"), "{body}");

    // The ledger is global and carries no PHI: an auditor of another payer reads it.
    let (status, _) = get(format!("{}/v1/ledger/checkpoint", stack.url("anchor")), other_auditor.clone()).await?;
    assert_eq!(status, 200);
    stack.cleanup().await
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_payers_are_rejected_and_late_claims_denied_with_their_reasons() -> anyhow::Result<()> {
    let stack = Stack::start(&[]).await?;
    let intake = stack.url("intake").to_owned();
    let admin = stack.create_key("operator-edits", "admin").await?;

    let mut text = serde_json::to_string(&sample_claim("PCN-UNKNOWN-PAYER"))?;
    text = text.replace(&format!("\"{PAYER_ID}\""), "\"77777\"");
    let (status, body) = answer(stack.submit(&serde_json::from_str(&text)?).await?).await?;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["outcomes"][0]["status"], "rejected", "{body}");
    assert_eq!(issue_codes(&body), ["payer-unknown"], "{body}");

    // The payer shortens its timely-filing limit to 10 days: the sample claim's services, 30 days ago, are late.
    // Intake accepts it; adjudication, once it has recorded the new limit, denies it CO-29.
    let payer = json!({"name": "Test Health Plan", "timely_filing_days": 10});
    let response = stack.client.put(format!("{intake}/v1/payers/{PAYER_ID}")).bearer_auth(&admin).json(&payer).send().await?;
    assert_eq!(response.status(), 200);
    let payers = stack.table("adjudication", "payers");
    wait_until(Duration::from_secs(30), || async {
        let n = stack.scalar(&format!("SELECT COUNT(*) FROM {payers} WHERE payer_id = '{PAYER_ID}' AND timely_filing_days = 10")).await?;
        Ok((n == 1, format!("{n} versions of 10 days")))
    })
    .await?;
    let (status, body) = answer(stack.submit(&sample_claim("PCN-LATE")).await?).await?;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["outcomes"][0]["status"], "accepted", "{body}");
    let claim_id = body["claim_ids"][0].as_str().unwrap().to_owned();
    let status = stack.wait_decided(&claim_id, Duration::from_secs(30)).await?;
    assert_eq!((status["status"].as_str(), status["outcome"].as_str()), (Some("adjudicated"), Some("denied")), "{status}");
    assert_eq!(status["decision"]["lines"][0]["adjustments"][0]["reason"], "29", "{status}");

    let bad = json!({"name": "", "timely_filing_days": 0});
    let (status, body) = answer(stack.client.put(format!("{intake}/v1/payers/{PAYER_ID}")).bearer_auth(&admin).json(&bad).send().await?).await?;
    assert_eq!(status, 422);
    let paths: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["name", "timely_filing_days"]);
    stack.cleanup().await
}

#[tokio::test(flavor = "multi_thread")]
async fn signed_submissions_are_verified_and_the_signature_is_kept_with_the_claim_event() -> anyhow::Result<()> {
    let stack = Stack::start(&[]).await?;
    let intake = stack.url("intake").to_owned();
    let signing_key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    let public_key = BASE64.encode(signing_key.verifying_key().to_bytes());
    let register = json!({"public_key": public_key, "require_signed_submissions": false});
    let response = stack.client.put(format!("{intake}/v1/signing-keys/pms-2026")).bearer_auth(&stack.api_key).json(&register).send().await?;
    assert_eq!(response.status(), 200, "{}", response.text().await?);

    let post = |body: Vec<u8>, signature: Option<String>| {
        let mut request =
            stack.client.post(format!("{intake}/v1/claims")).bearer_auth(&stack.api_key).header("content-type", "application/fhir+json").body(body);
        if let Some(signature) = signature {
            request = request.header("Claimtrail-Signature", signature);
        }
        request.send()
    };
    let sign = |body: &[u8]| BASE64.encode(signing_key.sign(&sha3::Sha3_256::digest(body)).to_bytes());

    let body = serde_json::to_vec(&sample_claim("PCN-SIGNED"))?;
    let (status, answer_body) = answer(post(body.clone(), Some(format!("key=pms-2026, sig={}", sign(&body)))).await?).await?;
    assert_eq!(status, 202, "{answer_body}");
    let claim_id = answer_body["claim_ids"][0].as_str().unwrap().to_owned();
    let sql = format!(
        "SELECT convert_from(body, 'UTF8')::jsonb -> 'payload' -> 'submission_signature' ->> 'body_sha3_256' FROM {} WHERE aggregate_id = '{claim_id}'",
        stack.table("intake", "outbox")
    );
    let row = sea_orm::ConnectionTrait::query_one_raw(&stack.db, sea_orm::Statement::from_string(sea_orm::DbBackend::Postgres, sql)).await?.expect("the event");
    assert_eq!(row.try_get_by_index::<Option<String>>(0)?, Some(hex::encode(sha3::Sha3_256::digest(&body))));

    // A signature over other bytes, or by an unknown key: 401, nothing stored.
    let claims_before = stack.count("intake", "claims").await?;
    let other = serde_json::to_vec(&sample_claim("PCN-TAMPERED"))?;
    let (status, answer_body) = answer(post(other.clone(), Some(format!("key=pms-2026, sig={}", sign(&body)))).await?).await?;
    assert_eq!(status, 401, "{answer_body}");
    assert!(answer_body["detail"].as_str().unwrap().contains("does not verify"), "{answer_body}");
    let (status, _) = answer(post(other.clone(), Some(format!("key=nobody, sig={}", sign(&other)))).await?).await?;
    assert_eq!(status, 401);
    assert_eq!(stack.count("intake", "claims").await?, claims_before);

    // Once the organization requires signatures, an unsigned submission is refused.
    let register = json!({"public_key": public_key, "require_signed_submissions": true});
    stack.client.put(format!("{intake}/v1/signing-keys/pms-2026")).bearer_auth(&stack.api_key).json(&register).send().await?.error_for_status()?;
    let (status, answer_body) = answer(post(other.clone(), None).await?).await?;
    assert_eq!(status, 401, "{answer_body}");
    assert!(answer_body["detail"].as_str().unwrap().contains("requires signed submissions"), "{answer_body}");
    let (status, _) = answer(post(other.clone(), Some(format!("key=pms-2026, sig={}", sign(&other)))).await?).await?;
    assert_eq!(status, 202);
    stack.cleanup().await
}

/// A claim whose `related` names `original`: a replacement, or (cancelled) a void.
fn related_to(mut claim: Value, original: &str, void: bool) -> Value {
    claim["related"] = json!([{"claim": {"identifier": {"value": original}},
        "relationship": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/ex-relatedclaimrelationship", "code": "replaces"}]}}]);
    if void {
        claim["status"] = json!("cancelled");
    }
    claim
}

async fn journal_of(stack: &Stack, claim_id: &str) -> anyhow::Result<Vec<Value>> {
    let journal: Value = stack
        .client
        .get(format!("{}/v1/journal/entries?claim_id={claim_id}", stack.url("settlement")))
        .bearer_auth(&stack.admin_key)
        .send()
        .await?
        .json()
        .await?;
    Ok(journal["entries"].as_array().cloned().unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replacement_reverses_the_original_payment_and_a_void_reverses_the_replacement() -> anyhow::Result<()> {
    let stack = Stack::start(&[]).await?;
    let original = stack.submit_ok(&sample_claim("PCN-ORIG")).await?.remove(0);
    stack.wait_settled(1, Duration::from_secs(60)).await?;

    // The replacement drops the J1100 line: 99213 (92.00) + G0008 (25.00) = 117.00.
    let mut corrected = sample_claim("PCN-ORIG");
    corrected["item"].as_array_mut().unwrap().truncate(2);
    corrected["total"]["value"] = json!(145.0);
    let replacement = stack.submit_ok(&related_to(corrected.clone(), &original, false)).await?.remove(0);
    wait_until(Duration::from_secs(60), || async {
        let (a, b) = (stack.claim_status(&original).await?, stack.claim_status(&replacement).await?);
        Ok((
            a["status"] == "replaced" && b["status"] == "adjudicated" && journal_of(&stack, &original).await?.len() == 2,
            format!("{} / {}", a["status"], b["status"]),
        ))
    })
    .await?;
    let replacement_status = stack.claim_status(&replacement).await?;
    assert_eq!(replacement_status["total_paid"], "117.00");
    let amounts: Vec<String> = journal_of(&stack, &original).await?.iter().map(|e| e["amount"].as_str().unwrap().to_owned()).collect();
    assert_eq!(amounts, ["118.80", "-118.80"]);

    // The original cannot be replaced twice.
    let (status, body) = answer(stack.submit(&related_to(corrected.clone(), &original, false)).await?).await?;
    assert_eq!(status, 202);
    assert_eq!(issue_codes(&body), ["original-not-replaceable"], "{body}");
    // Nor can a claim that is not the organization's (or not a claim id) be replaced.
    let (_, body) = answer(stack.submit(&related_to(corrected.clone(), "0190c0de-0000-7000-8000-000000000000", false)).await?).await?;
    assert_eq!(issue_codes(&body), ["original-not-found"], "{body}");

    // A void of the replacement takes its 117.00 back.
    let void = stack.submit_ok(&related_to(corrected, &replacement, true)).await?.remove(0);
    wait_until(Duration::from_secs(60), || async {
        let (a, b) = (stack.claim_status(&replacement).await?, stack.claim_status(&void).await?);
        Ok((
            a["status"] == "voided" && b["status"] == "voided" && journal_of(&stack, &replacement).await?.len() == 2,
            format!("{} / {}", a["status"], b["status"]),
        ))
    })
    .await?;
    let balances: Value =
        stack.client.get(format!("{}/v1/journal/balances", stack.url("settlement"))).bearer_auth(&stack.admin_key).send().await?.json().await?;
    assert_eq!(balances["balanced"], true, "{balances}");
    let payable =
        balances["accounts"].as_array().unwrap().iter().find(|a| a["account"] == "liability:provider_payable:1245319599").cloned().unwrap_or_default();
    assert_eq!(payable["balance"], "0.00", "everything paid was reversed: {balances}");

    // The ledger holds every event, and verifies: the original's 3; the replacement's submitted, reversed,
    // adjudicated and two bookings; the two rejections; the void's submitted, reversed and booked.
    let anchored = stack.baseline_events + 3 + 5 + 2 + 3;
    wait_until(Duration::from_secs(60), || async {
        let (size, checkpoint) = (stack.ledger_size().await?, stack.checkpoint_size().await?);
        Ok((size == anchored && checkpoint == size, format!("ledger {size}/{anchored}, checkpoint {checkpoint}")))
    })
    .await?;
    let (verified, output) = stack.verify(&[]).await?;
    assert!(verified, "{output}");
    stack.cleanup().await
}

#[tokio::test(flavor = "multi_thread")]
async fn providers_and_enrollments_import_all_or_nothing_and_auditors_read_the_access_log() -> anyhow::Result<()> {
    let stack = Stack::start(&[]).await?;
    let intake = stack.url("intake").to_owned();
    let admin = stack.create_key("operator-imports", "admin").await?;
    let csv = |header: &str, rows: &[&str]| format!("{header}\n{}\n", rows.join("\n"));
    let provider_header = "npi,entity_type,name,tin,taxonomy,organization,licence_number,licence_state,licence_expires,\
pay_to_name,pay_to_address_line,pay_to_city,pay_to_state,pay_to_postal_code,routing_number,account_number,account_type";
    let good = format!("1003000126,1,Robin Example MD,123456789,207Q00000X,riverside,MD-1,IL,{},Riverside,100 River Road,Springfield,IL,62701,,,", day(365));
    let good = good.as_str();
    let bad = "1003000127,3,,12345,207Q00000X,riverside,,,,Riverside,100 River Road,Springfield,ZZ,62701,021000022,12,savings";
    let import =
        |body: String| stack.client.post(format!("{intake}/v1/providers/import")).bearer_auth(&admin).header("content-type", "text/csv").body(body).send();

    // One bad row: 422 naming its line and fields, and nothing stored (the good row neither).
    let (status, body) = answer(import(csv(provider_header, &[good, bad])).await?).await?;
    assert_eq!(status, 422, "{body}");
    let paths: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap()).collect();
    assert!(paths.contains(&"line 3: npi") && paths.contains(&"line 3: entity_type") && paths.contains(&"line 3: pay_to.state"), "{paths:?}");
    assert!(paths.contains(&"line 3: bank_account.routing_number") && paths.iter().all(|p| p.starts_with("line 3")), "{paths:?}");
    let (status, _) = answer(stack.client.get(format!("{intake}/v1/providers/1003000126")).bearer_auth(&admin).send().await?).await?;
    assert_eq!(status, 404, "nothing of a failed import is stored");
    let (status, body) = answer(import(csv(provider_header, &[good])).await?).await?;
    assert_eq!((status, body["imported"].as_u64()), (200, Some(1)), "{body}");
    let (status, body) = answer(import("npi,name\n1003000126,X\n".to_owned()).await?).await?;
    assert_eq!(status, 422);
    assert_eq!(body["errors"][0]["path"], "line 1");

    // Enrollments for the payer; then the newly registered and enrolled NPI bills for riverside.
    let (start, end) = covered_period();
    let enrollments = csv(
        "npi,entity_type,name,tin,taxonomy,enrollment_start,enrollment_end",
        &[&format!("1003000126,1,Robin Example MD,123456789,207Q00000X,{start},{end}")],
    );
    let response = stack
        .client
        .post(format!("{intake}/v1/payers/{PAYER_ID}/enrollments/import"))
        .bearer_auth(&admin)
        .header("content-type", "text/csv")
        .body(enrollments)
        .send()
        .await?;
    assert_eq!(response.status(), 200, "{}", response.text().await?);
    let mut claim = sample_claim("PCN-IMPORTED");
    claim["contained"][2]["identifier"][0]["value"] = json!("1003000126");
    let (status, body) = answer(stack.submit(&claim).await?).await?;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["outcomes"][0]["status"], "accepted", "{body}");
    let claim_id = body["claim_ids"][0].as_str().unwrap().to_owned();

    // Reads are logged; auditors read the log, providers may not.
    stack.claim_status(&claim_id).await?;
    let auditor = stack.create_key("state-audit", "auditor").await?;
    let log_url = format!("{intake}/v1/access-log?claim_id={claim_id}");
    let (status, body) = answer(stack.client.get(&log_url).bearer_auth(&auditor).send().await?).await?;
    assert_eq!(status, 200, "{body}");
    let entries = body["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{body}");
    assert_eq!((entries[0]["reader_tenant"].as_str(), entries[0]["view"].as_str()), (Some("riverside"), Some("status")), "{body}");
    let (status, _) = answer(stack.client.get(&log_url).bearer_auth(&stack.api_key).send().await?).await?;
    assert_eq!(status, 403);
    stack.cleanup().await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_generated_synthetic_world_imports_and_its_claims_are_accepted_and_paid() -> anyhow::Result<()> {
    let stack = Stack::start(&[]).await?;
    let (intake, adjudication) = (stack.url("intake").to_owned(), stack.url("adjudication").to_owned());
    let dir = tempfile::tempdir()?;
    let dir_text = dir.path().to_str().unwrap().to_owned();
    let args = ["generate", "--reference-dir", &dir_text, "--claims", "60", "--bundle-size", "30", "--seed", "11", "--providers", "12", "--members", "40"];
    let output = stack.run_cli(&args).await?;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(output.stdout, stack.run_cli(&args).await?.stdout, "the same seed gives the same claims");
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name));

    // The world's reference data, through the public APIs.
    let admin = &stack.admin_key;
    let payers: Vec<Value> = serde_json::from_str(&read("payers.json")?)?;
    assert_eq!(payers.len(), 2);
    for payer in &payers {
        let id = payer["payer_id"].as_str().unwrap();
        let body = json!({"name": payer["name"], "timely_filing_days": payer["timely_filing_days"]});
        stack.client.put(format!("{intake}/v1/payers/{id}")).bearer_auth(admin).json(&body).send().await?.error_for_status()?;
    }
    for schedule in serde_json::from_str::<Vec<Value>>(&read("fee-schedules.json")?)? {
        let id = schedule["payer_id"].as_str().unwrap();
        let body = json!({"fee_schedule_id": schedule["fee_schedule_id"], "entries": schedule["entries"]});
        stack.client.put(format!("{adjudication}/v1/payers/{id}/fee-schedule")).bearer_auth(admin).json(&body).send().await?.error_for_status()?;
    }
    let csv = |url: String, body: String| stack.client.post(url).bearer_auth(admin).header("content-type", "text/csv").body(body).send();
    let (status, body) = answer(csv(format!("{intake}/v1/providers/import"), read("providers.csv")?).await?).await?;
    assert_eq!((status, body["imported"].as_u64()), (200, Some(12)), "{body}");
    for payer in &payers {
        let id = payer["payer_id"].as_str().unwrap();
        let (status, body) = answer(csv(format!("{intake}/v1/payers/{id}/enrollments/import"), read("enrollments.csv")?).await?).await?;
        assert_eq!(status, 200, "{body}");
        let (status, body) = answer(csv(format!("{intake}/v1/payers/{id}/members/import"), read(&format!("members-{id}.csv"))?).await?).await?;
        assert_eq!(status, 200, "{body}");
    }

    // The synthetic organization's key submits every generated claim, and every edit accepts it.
    let key = stack.create_key("synthetic-practice", "provider").await?;
    for line in String::from_utf8(output.stdout)?.lines() {
        let response = stack
            .client
            .post(format!("{intake}/v1/claims"))
            .bearer_auth(&key)
            .header("content-type", "application/fhir+json")
            .body(line.to_owned())
            .send()
            .await?;
        let (status, body) = answer(response).await?;
        assert_eq!(status, 202, "{body}");
        for outcome in body["outcomes"].as_array().unwrap() {
            assert_eq!(outcome["status"], "accepted", "{outcome}");
        }
    }
    // The reference data added events after the stack's baseline: wait for the bookings, not a ledger size.
    let sql = format!("SELECT COUNT(*) FROM {} WHERE outcome = 'paid'", stack.table("intake", "claims"));
    wait_until(Duration::from_secs(120), || async {
        let paid = stack.scalar(&sql).await?;
        Ok((paid == 60, format!("{paid} of 60 paid")))
    })
    .await?;
    stack.cleanup().await
}
