//! Adjudication's standard edits, replay and explanation on the real stack:
//! coverage, date of death and timely filing are adjudication denials
//! (CO-27, CO-13, CO-29), not intake rejections; a decision replays
//! byte-identical; its explanation names each line's steps, and both reads
//! are in intake's access log.

use std::time::Duration;

use claimtrail_e2e::{PAYER_ID, Stack, covered_period, day, metric, sample_claim, wait_until};
use serde_json::{Value, json};

const DECIDED: Duration = Duration::from_secs(30);

fn with_member(pcn: &str, member: &str) -> Value {
    let mut claim = sample_claim(pcn);
    claim["contained"][4]["subscriberId"] = json!(member);
    claim
}

/// The CARCs of each line of a decided claim's status.
fn reasons(status: &Value) -> Vec<String> {
    status["decision"]["lines"]
        .as_array()
        .map(|lines| lines.iter().filter_map(|line| line["adjustments"][0]["reason"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

async fn put_member(stack: &Stack, member_id: &str, body: Value) -> anyhow::Result<()> {
    let url = format!("{}/v1/payers/{PAYER_ID}/members/{member_id}", stack.url("intake"));
    let response = stack.client.put(url).bearer_auth(&stack.admin_key).json(&body).send().await?;
    anyhow::ensure!(response.status() == 200, "member {member_id}: {}", response.text().await?);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn coverage_ended_date_of_death_and_late_filing_are_denials_with_their_carcs() -> anyhow::Result<()> {
    let stack = Stack::start(&[]).await?;
    // Coverage ended 90 days ago; the sample claim's services are 30 days ago.
    put_member(
        &stack,
        "MBR-0101",
        json!({"family_name": "Roe", "given_name": "Kim", "birth_date": "1980-12-01", "sex": "male", "plan_id": "PPO",
        "coverage_start": day(-400), "coverage_end": day(-90)}),
    )
    .await?;
    // Covered, but died 40 days ago.
    let (start, end) = covered_period();
    put_member(
        &stack,
        "MBR-0102",
        json!({"family_name": "Poe", "given_name": "Lee", "birth_date": "1940-05-01", "sex": "female", "plan_id": "PPO",
        "coverage_start": start, "coverage_end": end, "date_of_death": day(-40)}),
    )
    .await?;

    let lapsed = stack.submit_ok(&with_member("PCN-CO27", "MBR-0101")).await?.remove(0);
    let status = stack.wait_decided(&lapsed, DECIDED).await?;
    assert_eq!((status["status"].as_str(), status["outcome"].as_str()), (Some("adjudicated"), Some("denied")), "{status}");
    assert_eq!(reasons(&status), ["27", "27", "27"], "{status}");

    let died = stack.submit_ok(&with_member("PCN-CO13", "MBR-0102")).await?.remove(0);
    let status = stack.wait_decided(&died, DECIDED).await?;
    assert_eq!(status["outcome"], "denied", "{status}");
    assert_eq!(reasons(&status), ["13", "13", "13"], "{status}");

    // The payer shortens its timely-filing limit to 10 days; once adjudication
    // has recorded that, the sample claim (services 30 days ago) is late.
    let payer = json!({"name": "Test Health Plan", "timely_filing_days": 10});
    let response = stack.client.put(format!("{}/v1/payers/{PAYER_ID}", stack.url("intake"))).bearer_auth(&stack.admin_key).json(&payer).send().await?;
    assert_eq!(response.status(), 200);
    let payers = stack.table("adjudication", "payers");
    wait_until(DECIDED, || async {
        let n = stack.scalar(&format!("SELECT COUNT(*) FROM {payers} WHERE payer_id = '{PAYER_ID}' AND timely_filing_days = 10")).await?;
        Ok((n == 1, format!("{n} versions of 10 days")))
    })
    .await?;
    let late = stack.submit_ok(&sample_claim("PCN-CO29")).await?.remove(0);
    let status = stack.wait_decided(&late, DECIDED).await?;
    assert_eq!(status["outcome"], "denied", "{status}");
    assert_eq!(reasons(&status), ["29", "29", "29"], "{status}");
    // Both versions of the payer's terms are kept, each with when adjudication learned it.
    let versions = stack.scalar(&format!("SELECT COUNT(*) FROM {payers} WHERE payer_id = '{PAYER_ID}'")).await?;
    assert_eq!(versions, 2);
    stack.cleanup().await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_decision_replays_byte_identical_and_its_explanation_shows_each_line_s_steps() -> anyhow::Result<()> {
    let stack = Stack::start(&[]).await?;
    let claim_id = stack.submit_ok(&sample_claim("PCN-REPLAY")).await?.remove(0);
    let status = stack.wait_decided(&claim_id, DECIDED).await?;
    assert_eq!(status["status"], "adjudicated", "{status}");
    let adjudication = stack.url("adjudication").to_owned();

    // The submitting organization replays its own claim.
    let response = stack.client.post(format!("{adjudication}/v1/claims/{claim_id}/replay")).bearer_auth(&stack.api_key).send().await?;
    assert_eq!(response.status(), 200);
    let replay: Value = response.json().await?;
    assert_eq!(replay["byte_identical"], true, "{replay}");
    assert_eq!(replay["decision"]["claim_id"], claim_id.as_str());
    assert_eq!(replay["decision"]["total_paid"], status["decision"]["total_paid"], "{replay}");

    // The payer's own key reads the explanation: each line's pricing step with the row that fired.
    let payer_key = stack.create_key_for("payer-60054", "payer", &[PAYER_ID]).await?;
    let response = stack.client.get(format!("{adjudication}/v1/claims/{claim_id}/explanation")).bearer_auth(&payer_key).send().await?;
    assert_eq!(response.status(), 200);
    let explanation: Value = response.json().await?;
    assert_eq!(explanation["status"], "adjudicated", "{explanation}");
    let lines = explanation["lines"].as_array().expect("lines");
    assert_eq!(lines.len(), 3, "{explanation}");
    for line in lines {
        let step = &line["steps"][0];
        assert_eq!(step["kind"], "pricing", "{explanation}");
        assert!(step["source"].as_str().is_some_and(|source| source.starts_with("fee_schedule:")), "{explanation}");
        assert_eq!(step["before"], line["charge"], "{explanation}");
        assert_eq!(step["after"], line["allowed"], "{explanation}");
    }
    assert!(explanation["facts"].to_string().contains("recorded"), "{explanation}");

    // Both reads through adjudication reach intake's access log, as intake's own reads do: who, which claim, which view.
    let intake = stack.url("intake").to_owned();
    wait_until(DECIDED, || async {
        let url = format!("{intake}/v1/access-log?claim_id={claim_id}");
        let log: Value = stack.client.get(url).bearer_auth(&stack.admin_key).send().await?.json().await?;
        let views: Vec<(String, String)> = log["entries"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|entry| (entry["reader_tenant"].as_str().unwrap_or_default().to_owned(), entry["view"].as_str().unwrap_or_default().to_owned()))
            .collect();
        let explained = views.iter().any(|(reader, view)| reader == "payer-60054" && view == "adjudication:explanation");
        let replayed = views.iter().any(|(_, view)| view == "adjudication:replay");
        Ok((explained && replayed, format!("{views:?}")))
    })
    .await?;

    // Another organization, and another payer's key, see no such claim.
    let stranger = stack.create_key("elsewhere", "provider").await?;
    let response = stack.client.post(format!("{adjudication}/v1/claims/{claim_id}/replay")).bearer_auth(&stranger).send().await?;
    assert_eq!(response.status(), 404);
    let other_payer = stack.create_key_for("payer-61101", "payer", &["61101"]).await?;
    let response = stack.client.get(format!("{adjudication}/v1/claims/{claim_id}/explanation")).bearer_auth(&other_payer).send().await?;
    assert_eq!(response.status(), 404);
    stack.cleanup().await
}

/// A rule set of one decision table: code G0009 is denied CO-96 with N130.
fn rule_set(extra_node: Option<Value>) -> Value {
    let table = json!({"type": "decisionTableNode", "id": "codes", "name": "Codes", "position": {"x": 400, "y": 100},
        "content": {"hitPolicy": "first", "passThrough": true, "inputField": null, "outputPath": null, "executionMode": "single",
            "inputs": [{"id": "i1", "name": "Code", "field": "line.procedure_code"}],
            "outputs": [{"id": "o1", "name": "Action", "field": "action"}, {"id": "o2", "name": "CARC", "field": "carc"}, {"id": "o3", "name": "RARC", "field": "rarc"}],
            "rules": [{"_id": "deny-g0009", "i1": "'G0009'", "o1": "'deny'", "o2": "'96'", "o3": "'N130'"}]}});
    let mut nodes = vec![json!({"type": "inputNode", "id": "in", "name": "Request", "position": {"x": 0, "y": 0}}), table];
    nodes.extend(extra_node);
    nodes.push(json!({"type": "outputNode", "id": "out", "name": "Response", "position": {"x": 900, "y": 0}}));
    let edges: Vec<Value> = nodes
        .windows(2)
        .enumerate()
        .map(|(index, pair)| json!({"id": format!("e{index}"), "sourceId": pair[0]["id"], "targetId": pair[1]["id"], "type": "edge"}))
        .collect();
    json!({"contentType": "application/vnd.gorules.decision", "nodes": nodes, "edges": edges,
        "policy": {"effective_from": "2020-01-01", "mue_action": "deny", "timely_filing_days": 365,
                   "standard_edits": ["coverage", "death", "timely_filing", "enrollment", "ncci", "mue"]}})
}

#[tokio::test(flavor = "multi_thread")]
async fn policy_tables_and_rule_sets_are_stored_as_versions_each_on_the_ledger_and_a_bad_one_stores_nothing() -> anyhow::Result<()> {
    let stack = Stack::start(&[]).await?;
    let adjudication = stack.url("adjudication").to_owned();
    let payer_key = stack.create_key_for("payer-60054", "payer", &[PAYER_ID]).await?;
    let ncci = "\"Practitioner PTP Edits\"\n\nColumn 1,Column 2,*=in existence prior to 1996,Effective Date,Deletion Date *=no data,Modifier 0=not allowed 1=allowed 9=not applicable,PTP Edit Rationale\n\
                G0008,G0009,,20200101,*,0,Mutually exclusive procedures\n";
    let response = stack
        .client
        .post(format!("{adjudication}/v1/payers/{PAYER_ID}/edit-tables/ncci-ptp?effective_from=2020-01-01"))
        .bearer_auth(&payer_key)
        .body(ncci)
        .send()
        .await?;
    assert_eq!(response.status(), 201);
    let version: Value = response.json().await?;
    assert_eq!((version["kind"].as_str(), version["row_count"].as_u64()), (Some("ncci-ptp"), Some(1)), "{version}");
    assert_eq!(version["content_hash"].as_str().map(str::len), Some(64), "{version}");

    // A malformed MUE table answers 422 naming the line, and stores nothing.
    let mue = "HCPCS/CPT Code,Practitioner Services MUE Values,MUE Adjudication Indicator,MUE Rationale\n99213,1,1 Line Edit,Clinical\nJ1100,lots,1 Line Edit,Clinical\n";
    let response = stack
        .client
        .post(format!("{adjudication}/v1/payers/{PAYER_ID}/edit-tables/mue?effective_from=2020-01-01"))
        .bearer_auth(&payer_key)
        .body(mue)
        .send()
        .await?;
    assert_eq!(response.status(), 422);
    let problem: Value = response.json().await?;
    assert_eq!(problem["errors"][0]["path"], "line 3", "{problem}");

    // A rule set answers its content hash; one with a function node is refused naming its path.
    let response =
        stack.client.put(format!("{adjudication}/v1/payers/{PAYER_ID}/rule-sets/standard")).bearer_auth(&payer_key).json(&rule_set(None)).send().await?;
    assert_eq!(response.status(), 201);
    let stored: Value = response.json().await?;
    assert_eq!((stored["kind"].as_str(), stored["name"].as_str(), stored["row_count"].as_u64()), (Some("rule-set"), Some("standard"), Some(1)), "{stored}");
    let function =
        json!({"type": "functionNode", "id": "js", "name": "Script", "position": {"x": 600, "y": 0}, "content": "export const handler = () => ({})"});
    let response = stack
        .client
        .put(format!("{adjudication}/v1/payers/{PAYER_ID}/rule-sets/scripted"))
        .bearer_auth(&payer_key)
        .json(&rule_set(Some(function)))
        .send()
        .await?;
    assert_eq!(response.status(), 422);
    let problem: Value = response.json().await?;
    assert!(problem["errors"].as_array().is_some_and(|errors| errors.iter().any(|error| error["path"] == "nodes[2].type")), "{problem}");

    // Another payer's key uploads nothing here.
    let other_payer = stack.create_key_for("payer-61101", "payer", &["61101"]).await?;
    let response = stack
        .client
        .post(format!("{adjudication}/v1/payers/{PAYER_ID}/edit-tables/ncci-ptp?effective_from=2020-01-01"))
        .bearer_auth(&other_payer)
        .body(ncci)
        .send()
        .await?;
    assert_eq!(response.status(), 403);

    // The listing shows the two versions stored; each is one event on reference.> and so on the ledger.
    let response = stack.client.get(format!("{adjudication}/v1/payers/{PAYER_ID}/policy-versions")).bearer_auth(&payer_key).send().await?;
    assert_eq!(response.status(), 200);
    let listing: Value = response.json().await?;
    let kinds: Vec<&str> = listing["versions"].as_array().expect("versions").iter().filter_map(|v| v["kind"].as_str()).collect();
    assert_eq!(kinds, ["ncci-ptp", "rule-set"], "{listing}");
    wait_until(DECIDED, || async {
        let leaves = stack.leaves().await?;
        let published = leaves.iter().filter(|leaf| leaf["event_type"] == "policy_version.published.v1").count();
        Ok((published == 2, format!("{published} policy versions on the ledger")))
    })
    .await?;
    stack.cleanup().await
}

/// CMS publishes NCCI PTP files of hundreds of thousands of rows, far above
/// the 10 MiB request body limit: a policy table upload takes up to
/// `--policy-bytes-max` (256 MiB), so such a file is one version.
#[tokio::test(flavor = "multi_thread")]
async fn an_ncci_file_larger_than_the_request_body_limit_uploads_as_one_version() -> anyhow::Result<()> {
    let stack = Stack::start(&[]).await?;
    let adjudication = stack.url("adjudication").to_owned();
    let payer_key = stack.create_key_for("payer-60054", "payer", &[PAYER_ID]).await?;
    const ROWS: u32 = 300_000;
    let mut ncci = String::from(
        "\"Practitioner PTP Edits\"\n\nColumn 1,Column 2,*=in existence prior to 1996,Effective Date,Deletion Date *=no data,Modifier 0=not allowed 1=allowed 9=not applicable,PTP Edit Rationale\n",
    );
    for n in 0..ROWS {
        ncci.push_str(&format!("{},{},,20200101,*,1,Misuse of column two code with column one code\n", 10_000 + n / 1_000, 20_000 + n % 1_000));
    }
    assert!(ncci.len() > 10 * 1024 * 1024, "{} bytes", ncci.len());
    let response = stack
        .client
        .post(format!("{adjudication}/v1/payers/{PAYER_ID}/edit-tables/ncci-ptp?effective_from=2020-01-01"))
        .bearer_auth(&payer_key)
        .body(ncci)
        .send()
        .await?;
    assert_eq!(response.status(), 201, "{}", response.text().await?);
    let version: Value = response.json().await?;
    assert_eq!((version["kind"].as_str(), version["row_count"].as_u64()), (Some("ncci-ptp"), Some(u64::from(ROWS))), "{version}");
    // A rule set keeps the request body limit.
    let response = stack
        .client
        .put(format!("{adjudication}/v1/payers/{PAYER_ID}/rule-sets/huge"))
        .bearer_auth(&payer_key)
        .header("content-type", "application/json")
        .body(vec![b' '; 11 * 1024 * 1024])
        .send()
        .await?;
    assert_eq!(response.status(), 413);
    stack.cleanup().await
}

/// The CARCs of each line's adjustments of a decided claim's status.
fn all_reasons(status: &Value) -> Vec<Vec<String>> {
    status["decision"]["lines"]
        .as_array()
        .map(|lines| {
            lines
                .iter()
                .map(|line| {
                    line["adjustments"].as_array().into_iter().flatten().filter_map(|adjustment| adjustment["reason"].as_str().map(str::to_owned)).collect()
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn uploaded_ncci_mue_and_rule_set_deny_co_97_and_co_151_then_pend_and_the_decision_replays() -> anyhow::Result<()> {
    let stack = Stack::start(&[]).await?;
    let adjudication = stack.url("adjudication").to_owned();
    let payer_key = stack.create_key_for("payer-60054", "payer", &[PAYER_ID]).await?;
    let upload = |path: &'static str, body: &'static str| {
        let request = stack.client.post(format!("{adjudication}/v1/payers/{PAYER_ID}/edit-tables/{path}?effective_from=2020-01-01")).bearer_auth(&payer_key);
        async move {
            let response = request.body(body).send().await?;
            anyhow::ensure!(response.status() == 201, "{path}: {}", response.text().await?);
            anyhow::Ok(())
        }
    };
    // The sample claim's G0008 is the column-two code of its 99213 (indicator 0); J1100 allows 2 units per line (it bills 4).
    upload(
        "ncci-ptp",
        "\"Practitioner PTP Edits\"\n\nColumn 1,Column 2,*=in existence prior to 1996,Effective Date,Deletion Date *=no data,Modifier 0=not allowed 1=allowed 9=not applicable,PTP Edit Rationale\n\
         99213,G0008,,20200101,*,0,Mutually exclusive procedures\n",
    )
    .await?;
    upload("mue", "HCPCS/CPT Code,Practitioner Services MUE Values,MUE Adjudication Indicator,MUE Rationale\nJ1100,2,1 Line Edit,Clinical\n").await?;

    let first = stack.submit_ok(&sample_claim("PCN-NCCI")).await?.remove(0);
    let status = stack.wait_decided(&first, DECIDED).await?;
    assert_eq!((status["status"].as_str(), status["outcome"].as_str()), (Some("adjudicated"), Some("partially_paid")), "{status}");
    let reasons = all_reasons(&status);
    assert_eq!(reasons[1], ["97"], "{status}");
    assert_eq!(reasons[2], ["151"], "{status}");
    assert_eq!(status["decision"]["lines"][2]["remarks"], json!(["N362"]), "{status}");
    let response = stack.client.post(format!("{adjudication}/v1/claims/{first}/replay")).bearer_auth(&stack.api_key).send().await?;
    let replay: Value = response.json().await?;
    assert_eq!(replay["byte_identical"], true, "{replay}");
    let response = stack.client.get(format!("{adjudication}/v1/claims/{first}/explanation")).bearer_auth(&payer_key).send().await?;
    let explanation: Value = response.json().await?;
    assert_eq!(explanation["lines"][1]["steps"][0]["rule"], "ncci-ptp", "{explanation}");

    // A rule set that pends J1100 (and leaves duplicates and MUE to the rule's reviewer).
    let table = json!({"type": "decisionTableNode", "id": "review", "name": "Review", "position": {"x": 400, "y": 100},
        "content": {"hitPolicy": "first", "passThrough": true, "inputField": null, "outputPath": null, "executionMode": "single",
            "inputs": [{"id": "i1", "name": "Code", "field": "line.procedure_code"}],
            "outputs": [{"id": "o1", "name": "Action", "field": "action"}, {"id": "o2", "name": "Reason", "field": "reason"}],
            "rules": [{"_id": "j1100", "i1": "'J1100'", "o1": "'pend'", "o2": "'Injections need review'"}]}});
    let rule_set = json!({"contentType": "application/vnd.gorules.decision",
        "nodes": [{"type": "inputNode", "id": "in", "name": "Request", "position": {"x": 0, "y": 0}}, table,
                  {"type": "outputNode", "id": "out", "name": "Response", "position": {"x": 900, "y": 0}}],
        "edges": [{"id": "e0", "sourceId": "in", "targetId": "review", "type": "edge"}, {"id": "e1", "sourceId": "review", "targetId": "out", "type": "edge"}],
        "policy": {"effective_from": "2020-01-01", "mue_action": "deny", "timely_filing_days": 365,
                   "standard_edits": ["coverage", "death", "timely_filing", "enrollment", "ncci"]}});
    let response = stack.client.put(format!("{adjudication}/v1/payers/{PAYER_ID}/rule-sets/review")).bearer_auth(&payer_key).json(&rule_set).send().await?;
    let created = response.status();
    let published: Value = response.json().await?;
    assert_eq!(created, 201, "{published}");
    let rule_set_hash = published["content_hash"].as_str().unwrap_or_default().to_owned();
    assert_eq!(rule_set_hash.len(), 64, "{published}");
    let second = stack.submit_ok(&sample_claim("PCN-PEND")).await?.remove(0);
    let status = stack.wait_decided(&second, DECIDED).await?;
    assert_eq!(status["status"], "pended", "{status}");

    // Its record (format 3) cites the rule set by hash and name, without the document, which is stored once with
    // the payer's policy versions; the replay resolves it by that hash and decides again to the byte.
    let records = stack.table("adjudication", "decision_records");
    let cites_by_hash = format!(
        "SELECT COUNT(*) FROM {records} WHERE claim_id = '{second}' AND record LIKE '%\"fact_model_version\":3,%' \
         AND record LIKE '%\"content_hash\":\"{rule_set_hash}\",%' AND record NOT LIKE '%\"canonical\"%' AND record NOT LIKE '%decisionTableNode%'"
    );
    assert_eq!(stack.scalar(&cites_by_hash).await?, 1, "the pend's record cites rule set {rule_set_hash} by hash only");
    let replay_of = |claim: String| {
        let request = stack.client.post(format!("{adjudication}/v1/claims/{claim}/replay")).bearer_auth(&payer_key);
        async move {
            let response = request.send().await?;
            let status = response.status().as_u16();
            anyhow::Ok((status, response.json::<Value>().await?))
        }
    };
    let (replayed, replay) = replay_of(second.clone()).await?;
    assert_eq!((replayed, &replay["byte_identical"]), (200, &json!(true)), "{replay}");
    assert_eq!(replay["event_type"], "claim.pended.v1", "{replay}");
    let explanation: Value = stack.client.get(format!("{adjudication}/v1/claims/{second}/explanation")).bearer_auth(&payer_key).send().await?.json().await?;
    assert_eq!(explanation["fact_model_version"], 3, "{explanation}");

    // The queue's count and age on adjudication's /metrics (sampled every 15 s).
    let series = format!("claimtrail_pended_claims{{payer_id=\"{PAYER_ID}\",kind=\"pended\"}}");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while metric(&stack.client, &adjudication, &series).await? != 1.0 {
        anyhow::ensure!(std::time::Instant::now() < deadline, "{series} never reached 1 on adjudication's /metrics");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let age_series = series.replace("claimtrail_pended_claims", "claimtrail_pended_oldest_age_seconds");
    assert!(metric(&stack.client, &adjudication, &age_series).await? >= 0.0);

    // A stored document that is not the one the hash names (here: another code pended) is refused, naming the
    // hash, never decided on.
    let versions = stack.table("adjudication", "policy_versions");
    let tampered = stack
        .scalar(&format!(
            "WITH changed AS (UPDATE {versions} SET body = convert_to(replace(convert_from(body, 'UTF8'), 'J1100', 'J1200'), 'UTF8') \
             WHERE kind = 'rule-set' AND content_hash = '{rule_set_hash}' RETURNING 1) SELECT COUNT(*) FROM changed"
        ))
        .await?;
    assert_eq!(tampered, 1);
    let (refused, problem) = replay_of(second.clone()).await?;
    assert_eq!(refused, 409, "{problem}");
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(detail.contains(&rule_set_hash) && detail.contains("refused"), "{problem}");
    stack.cleanup().await
}

/// Most LEIE rows carry no NPI: an individual renderer whose enrollment's
/// last name, first name and birth date match such a row is pended with a
/// reason naming the exclusion list, not denied; the decision replays.
#[tokio::test(flavor = "multi_thread")]
async fn a_renderer_matching_an_leie_row_without_npi_by_name_and_birth_date_pends_the_claim() -> anyhow::Result<()> {
    let stack = Stack::start(&[]).await?;
    let adjudication = stack.url("adjudication").to_owned();
    let payer_key = stack.create_key_for("payer-60054", "payer", &[PAYER_ID]).await?;
    // The OIG file as published: no NPI (0000000000) on the row, a birth date.
    let leie = "LASTNAME,FIRSTNAME,MIDNAME,BUSNAME,GENERAL,SPECIALTY,UPIN,NPI,DOB,ADDRESS,CITY,STATE,ZIP,EXCLTYPE,EXCLDATE,REINDATE,WAIVERDATE,WVRSTATE\n\
                \"EXAMPLE\",\"ROBIN\",\"\",\"\",\"IND- LIC HC SERV PRO\",\"FAMILY PRACTICE\",\"\",0000000000,19750412,\"1 MAIN ST\",\"SPRINGFIELD\",\"IL\",62701,1128b4,20200101,00000000,00000000,\"\"\n";
    let response = stack
        .client
        .post(format!("{adjudication}/v1/payers/{PAYER_ID}/edit-tables/exclusions?effective_from=2020-01-01"))
        .bearer_auth(&payer_key)
        .body(leie)
        .send()
        .await?;
    assert_eq!(response.status(), 201, "{}", response.text().await?);

    // The sample claim's renderer (1003000126, Dr. Robin Example) enrolled as an individual.
    let (start, end) = covered_period();
    let enroll = |birth_date: &str| {
        json!({"entity_type": 1, "name": "Robin Example MD", "tin": "123456789", "taxonomy": "207Q00000X",
            "enrollment_start": start, "enrollment_end": end, "last_name": "Example", "first_name": "Robin", "birth_date": birth_date})
    };
    let enrollment_url = format!("{}/v1/providers/1003000126/enrollments/{PAYER_ID}", stack.url("intake"));
    let providers = stack.table("adjudication", "provider_enrollments");
    let enrolled = |birth_date: &'static str| {
        let sql = format!("SELECT COUNT(*) FROM {providers} WHERE npi = '1003000126' AND last_name = 'Example' AND birth_date = '{birth_date}'");
        let stack = &stack;
        async move {
            wait_until(DECIDED, || async {
                let n = stack.scalar(&sql).await?;
                Ok((n == 1, format!("{n} versions born {birth_date}")))
            })
            .await
        }
    };
    let response = stack.client.put(&enrollment_url).bearer_auth(&stack.admin_key).json(&enroll("1975-04-13")).send().await?;
    assert_eq!(response.status(), 200, "{}", response.text().await?);
    enrolled("1975-04-13").await?;
    // A birth date a day off is no match: paid.
    let other = stack.submit_ok(&sample_claim("PCN-LEIE-OTHER")).await?.remove(0);
    let status = stack.wait_decided(&other, DECIDED).await?;
    assert_eq!(status["status"], "adjudicated", "{status}");

    let response = stack.client.put(&enrollment_url).bearer_auth(&stack.admin_key).json(&enroll("1975-04-12")).send().await?;
    assert_eq!(response.status(), 200, "{}", response.text().await?);
    enrolled("1975-04-12").await?;
    let matched = stack.submit_ok(&sample_claim("PCN-LEIE")).await?.remove(0);
    let status = stack.wait_decided(&matched, DECIDED).await?;
    assert_eq!((status["status"].as_str(), status["outcome"].as_str()), (Some("pended"), None), "{status}");
    let response = stack.client.post(format!("{adjudication}/v1/claims/{matched}/replay")).bearer_auth(&stack.api_key).send().await?;
    let replay: Value = response.json().await?;
    assert_eq!(replay["byte_identical"], true, "{replay}");
    assert_eq!(replay["decision"]["reason"], "possible-exclusion", "{replay}");
    assert!(replay["decision"]["detail"].as_str().is_some_and(|detail| detail.contains("OIG LEIE")), "{replay}");

    // An organization cannot carry a birth date.
    let organization = json!({"entity_type": 2, "name": "Riverside Family Practice", "tin": "123456789", "taxonomy": "207Q00000X",
        "enrollment_start": start, "enrollment_end": end, "birth_date": "1975-04-12"});
    let url = format!("{}/v1/providers/1245319599/enrollments/{PAYER_ID}", stack.url("intake"));
    let response = stack.client.put(url).bearer_auth(&stack.admin_key).json(&organization).send().await?;
    assert_eq!(response.status(), 422);
    assert!(response.text().await?.contains("birth_date"));
    stack.cleanup().await
}
