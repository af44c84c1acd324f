//! The backbone's test matrix on `claimtrail up` (embedded: one SQLite file,
//! the outboxes as the log, no servers).

use std::time::Duration;

use claimtrail_e2e::{BUNDLE_CLAIMS, Embedded, bundle, claims_bundle, forged_single_batch, metric, replay_as_new, sample_claim, verified_counts, wait_until};
use sea_orm::{ConnectionTrait as _, DbBackend, Statement, Value};

#[tokio::test(flavor = "multi_thread")]
async fn up_runs_a_claim_end_to_end_with_no_servers_and_the_ledger_verifies() -> anyhow::Result<()> {
    let up = Embedded::start(&[]).await?;
    let claim_id = up.submit_ok(&sample_claim("PCN-EMB-1")).await?.remove(0);
    up.wait_settled(1, Duration::from_secs(60)).await?;
    let status = up.claim_status(&claim_id).await?;
    assert_eq!(status["status"], "adjudicated");
    // 118.80 allowed; the demo plan (DEMO-PPO) leaves the member 21.80 (README).
    assert_eq!(status["total_paid"], "97.00");
    assert_eq!(status["history"].as_array().unwrap().len(), 3);
    let (verified, output) = up.verify().await?;
    assert!(verified, "{output}");
    // Every entry's producer batch signature verified, by the anchor and by verify.
    let leaves = up.leaves().await?;
    let n_entries = leaves.len();
    assert_eq!(verified_counts(&leaves), (n_entries, 0, 0), "{leaves:?}");
    assert!(output.contains(&format!("producer signatures verified: {n_entries} entries")), "{output}");

    // A forged batch in the log (a row and batch row added to the external log, signed by
    // another key in adjudication's name) is recorded unverified and raises the alert.
    let db = up.db().await?;
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT body FROM \"adjudication_outbox\" WHERE event_type = 'fee_schedule.published.v1'".to_owned(),
        ))
        .await?
        .expect("the demo fee schedule");
    let (body, event_id) = replay_as_new(&String::from_utf8(row.try_get_by_index::<Vec<u8>>(0)?)?)?;
    let key = leaves.iter().find(|leaf| leaf["event_type"] == "fee_schedule.published.v1").unwrap()["producer"]
        .as_str()
        .unwrap()
        .split_once('/')
        .unwrap()
        .1
        .to_owned();
    let proof = claimtrail_ledger::batch::BatchProof::parse(&forged_single_batch(body.as_bytes(), "adjudication", &key)?)?;
    let decoded = proof.decode()?;
    let batch_id = uuid::Uuid::parse_str(&proof.id)?;
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Sqlite,
        "INSERT INTO \"bus_outbox_batches\" (batch_id, key_id, size, root, signature) VALUES ($1, $2, 1, $3, $4)",
        vec![Value::from(batch_id), Value::from(key.clone()), Value::from(decoded.root.to_vec()), Value::from(decoded.signature.to_vec())],
    ))
    .await?;
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Sqlite,
        "INSERT INTO \"bus_outbox\" (event_id, event_type, aggregate_id, aggregate_seq, body, batch_id, batch_index, batch_path) \
         VALUES ($1, 'fee_schedule.published.v1', 'forged', 1, $2, $3, 0, X'')",
        vec![Value::from(uuid::Uuid::parse_str(&event_id)?), Value::from(body.into_bytes()), Value::from(batch_id)],
    ))
    .await?;
    db.close().await?;
    wait_until(Duration::from_secs(30), || async {
        let n = up.count("anchor", "ledger").await?;
        Ok((n as usize == n_entries + 1, format!("ledger {n}")))
    })
    .await?;
    let leaves = up.leaves().await?;
    assert_eq!(leaves.last().unwrap()["verified"], false, "{:?}", leaves.last());
    assert_eq!(metric(&up.client, &up.url, "claimtrail_ledger_unverified_entries_total{producer=\"adjudication\"}").await?, 1.0);
    let (verified, output) = up.verify().await?;
    assert!(verified && output.contains("1 entries were recorded unverified by the anchor"), "{output}");
    // One listen address serves the whole surface, described at /openapi.json.
    let openapi: serde_json::Value = up.client.get(format!("{}/openapi.json", up.url)).send().await?.json().await?;
    for path in ["/v1/claims", "/v1/ledger/checkpoint", "/v1/journal/balances", "/v1/payers/{payer_id}/fee-schedule"] {
        assert!(openapi["paths"].get(path).is_some(), "{path} missing from /openapi.json");
    }
    // The credentials are stable across restarts of the same data directory.
    let before = std::fs::read_to_string(up.data_dir.path().join("demo-credentials.json"))?;
    let mut up = up;
    up.kill().await?;
    up.spawn(&[]).await?;
    let after = std::fs::read_to_string(up.data_dir.path().join("demo-credentials.json"))?;
    assert_eq!(before, after);
    assert_eq!(up.claim_status(&claim_id).await?["status"], "adjudicated");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn embedded_redelivery_has_one_effect_and_poison_goes_to_dead_letters() -> anyhow::Result<()> {
    let up = Embedded::start(&[("CLAIMTRAIL_DELIVERIES_MAX", "3")]).await?;
    let claim_id = up.submit_ok(&sample_claim("PCN-EMB-R")).await?.remove(0);
    up.wait_settled(1, Duration::from_secs(60)).await?;

    // The same envelope delivered again through the log (under another row id), and a poison message.
    up.execute(
        "INSERT INTO \"bus_outbox\" (event_id, event_type, aggregate_id, aggregate_seq, body) \
         SELECT randomblob(16), event_type, 'replay', 1, body FROM \"adjudication_outbox\" WHERE event_type = 'claim.adjudicated.v1'",
    )
    .await?;
    up.execute("INSERT INTO \"bus_outbox\" (event_id, event_type, aggregate_id, aggregate_seq, body) VALUES (randomblob(16), 'claim.submitted.v1', 'poison', 1, X'7B7D')")
        .await?;
    let next = up.submit_ok(&sample_claim("PCN-EMB-R2")).await?.remove(0);
    up.wait_settled(2, Duration::from_secs(60)).await?;
    assert_eq!(up.claim_status(&next).await?["status"], "adjudicated");
    // Dead-lettered by the services that read claim.submitted.v1: adjudication, the anchor,
    // settlement (which keeps each claim's CLM01 and member for the 835) and fraud detection.
    wait_until(Duration::from_secs(30), || async {
        let n = up.count("bus", "dead_letters").await?;
        Ok((n == 4, format!("{n} dead letters")))
    })
    .await?;
    assert_eq!(up.scalar("SELECT COUNT(*) FROM \"bus_dead_letters\" WHERE service IN ('adjudication', 'anchor', 'settlement', 'fraud')").await?, 4);
    assert_eq!(up.scalar(&format!("SELECT COUNT(*) FROM \"settlement_journal_entries\" WHERE claim_id = X'{}'", claim_id.replace('-', ""))).await?, 1);
    let produced = up.produced_events().await?;
    assert!(produced >= up.baseline_events + 6, "{produced} events produced for two claims");
    assert_eq!(up.count("anchor", "ledger").await?, produced);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_of_up_at_random_and_at_kill_points_loses_and_doubles_nothing() -> anyhow::Result<()> {
    let mut up = Embedded::start(&[]).await?;
    let mut n_claims = 0i64;
    // Random kills during a 2,000-claim run.
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_nanos() as u64;
    println!("random seed {seed}");
    for bundle_idx in 0..20 {
        up.submit_ok(&claims_bundle("ER", bundle_idx)).await?;
        n_claims += BUNDLE_CLAIMS as i64;
        if bundle_idx % 5 == 4 {
            tokio::time::sleep(Duration::from_millis((seed >> bundle_idx) % 400)).await;
            up.kill().await?;
            up.spawn(&[]).await?;
        }
    }
    up.wait_settled(n_claims, Duration::from_secs(600)).await?;
    up.assert_exactly_once(n_claims).await?;

    // Deterministic points.
    for (scenario_idx, point) in ["after_commit_before_ack:3", "mid_checkpoint:2"].iter().enumerate() {
        up.kill().await?;
        up.spawn(&[("CLAIMTRAIL_KILL_POINT", point)]).await?;
        up.submit_ok(&claims_bundle(&format!("EK{scenario_idx}"), 0)).await?;
        n_claims += BUNDLE_CLAIMS as i64;
        up.wait_exit(Duration::from_secs(120)).await.map_err(|e| anyhow::anyhow!("at {point}: {e:#}"))?;
        up.spawn(&[]).await?;
        up.wait_settled(n_claims, Duration::from_secs(300)).await?;
        up.assert_exactly_once(n_claims).await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn tampering_with_a_ledger_row_in_the_sqlite_file_is_caught() -> anyhow::Result<()> {
    let mut up = Embedded::start(&[]).await?;
    up.submit_ok(&bundle((0..4).map(|n| sample_claim(&format!("PCN-EMB-T{n}"))).collect())).await?;
    up.wait_settled(4, Duration::from_secs(60)).await?;
    up.kill().await?;
    let (verified, output) = up.verify_export().await?;
    assert!(verified, "{output}");
    // An export whose entry line renames `chain`, or lacks it, is refused naming that line.
    let export = up.data_dir.path().join("export.jsonl");
    let text = std::fs::read_to_string(&export)?;
    let line_idx = text.lines().position(|line| line.contains(r#""type":"entry""#)).expect("an entry line");
    let renamed = |line: &str| line.replace(r#""chain":"#, r#""chian":"#);
    let dropped = |line: &str| {
        let mut entry: serde_json::Value = serde_json::from_str(line).unwrap();
        entry.as_object_mut().unwrap().remove("chain");
        entry.to_string()
    };
    for (edit, expected) in [(&renamed as &dyn Fn(&str) -> String, "unknown field `chian`"), (&dropped, "missing field `chain`")] {
        let edited: Vec<String> = text.lines().enumerate().map(|(idx, line)| if idx == line_idx { edit(line) } else { line.to_owned() }).collect();
        let path = up.data_dir.path().join("export-edited.jsonl");
        std::fs::write(&path, edited.join("\n") + "\n")?;
        let output = up.command(&["verify", path.to_str().unwrap()]).output().await?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{stderr}");
        assert!(stderr.contains(&format!("line {} is not a valid export line", line_idx + 1)) && stderr.contains(expected), "{stderr}");
    }

    up.execute("CREATE TABLE \"ledger_backup\" AS SELECT * FROM \"anchor_ledger\"").await?;
    let restore = || async {
        up.execute("DELETE FROM \"anchor_ledger\"").await?;
        up.execute("INSERT INTO \"anchor_ledger\" SELECT * FROM \"ledger_backup\"").await
    };
    up.execute("UPDATE \"anchor_ledger\" SET leaf = CAST(replace(CAST(leaf AS TEXT), '\"event_id\"', '\"event_iD\"') AS BLOB) WHERE idx = 6").await?;
    let (verified, output) = up.verify_export().await?;
    assert!(!verified);
    assert!(output.contains("first bad index: 6"), "{output}");
    restore().await?;

    up.execute("DELETE FROM \"anchor_ledger\" WHERE idx = 2").await?;
    let (verified, output) = up.verify_export().await?;
    assert!(!verified);
    assert!(output.contains("first bad index: 2"), "{output}");
    restore().await?;

    up.execute("UPDATE \"anchor_ledger\" SET idx = -1 WHERE idx = 8").await?;
    up.execute("UPDATE \"anchor_ledger\" SET idx = 8 WHERE idx = 9").await?;
    up.execute("UPDATE \"anchor_ledger\" SET idx = 9 WHERE idx = -1").await?;
    let (verified, output) = up.verify_export().await?;
    assert!(!verified);
    assert!(output.contains("first bad index: 8"), "{output}");
    restore().await?;

    let (verified, output) = up.verify_export().await?;
    assert!(verified, "{output}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn logs_carry_no_member_data() -> anyhow::Result<()> {
    // Info-level logs of a run with claims, a poison message and a restart.
    let mut up = Embedded::start(&[("RUST_LOG", "info"), ("CLAIMTRAIL_DELIVERIES_MAX", "2")]).await?;
    up.submit_ok(&bundle((0..5).map(|n| sample_claim(&format!("PCN-PHI-{n}"))).collect())).await?;
    up.execute("INSERT INTO \"bus_outbox\" (event_id, event_type, aggregate_id, aggregate_seq, body) VALUES (randomblob(16), 'member.enrolled.v1', 'poison', 1, X'7B7D')").await?;
    up.wait_settled(5, Duration::from_secs(60)).await?;
    up.kill().await?;
    up.spawn(&[]).await?;
    up.kill().await?;
    let logs = std::fs::read_dir(claimtrail_e2e::logs_dir())?
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().contains(&up.data_dir.path().to_string_lossy().replace('/', "_")))
        .map(|entry| std::fs::read_to_string(entry.path()).unwrap_or_default())
        .collect::<String>();
    assert!(logs.contains("\"level\":\"INFO\""), "the run logged at info level");
    let credentials: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(up.data_dir.path().join("demo-credentials.json"))?)?;
    for member in credentials["members"].as_array().unwrap() {
        for field in ["member_id", "family_name", "given_name", "birth_date"] {
            let value = member[field].as_str().unwrap();
            assert!(!logs.contains(value), "the logs contain a member's {field} ({value})");
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn generated_claims_pass_every_edit_and_are_adjudicated() -> anyhow::Result<()> {
    let up = Embedded::start(&[]).await?;
    let generate = |seed: &str| up.command(&["generate", "--claims", "60", "--bundle-size", "25", "--seed", seed]).output();
    let output = generate("7").await?;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(output.stdout, generate("7").await?.stdout, "the same seed gives the same bytes");
    assert_ne!(output.stdout, generate("8").await?.stdout);
    let bundles: Vec<serde_json::Value> = String::from_utf8(output.stdout)?.lines().map(serde_json::from_str).collect::<Result<_, _>>()?;
    assert_eq!(bundles.iter().map(|b| b["entry"].as_array().map_or(0, Vec::len)).collect::<Vec<_>>(), [25, 25, 10]);
    let mut claim_ids = Vec::new();
    for bundle in &bundles {
        let response = up
            .client
            .post(format!("{}/v1/claims", up.url))
            .bearer_auth(&up.api_key)
            .header("content-type", "application/fhir+json")
            .json(bundle)
            .send()
            .await?;
        assert_eq!(response.status(), 202);
        let answer: serde_json::Value = response.json().await?;
        for outcome in answer["outcomes"].as_array().unwrap() {
            assert_eq!(outcome["status"], "accepted", "{outcome}");
            claim_ids.push(outcome["claim_id"].as_str().unwrap().to_owned());
        }
    }
    up.wait_settled(60, Duration::from_secs(120)).await?;
    for claim_id in claim_ids.iter().step_by(7) {
        let status = up.claim_status(claim_id).await?;
        assert_eq!(status["status"], "adjudicated", "{status}");
        assert_ne!(status["outcome"], "denied", "{status}");
    }
    Ok(())
}

/// The README's "Try it" with the clock years ahead: `up --demo` and
/// `claimtrail generate` read the same moved clock
/// (`CLAIMTRAIL_CLOCK_OFFSET_DAYS`), so the generated claim is dated from that
/// day, covered by the demo's seeding, within timely filing, and paid.
#[tokio::test(flavor = "multi_thread")]
async fn the_readme_claim_is_accepted_and_paid_with_the_clock_years_ahead() -> anyhow::Result<()> {
    const OFFSET_DAYS: i64 = 1_500;
    let offset = OFFSET_DAYS.to_string();
    let up = Embedded::start(&[(claimtrail_events::CLOCK_OFFSET_ENV, &offset)]).await?;

    let generated =
        up.command(&["generate", "--claims", "1", "--bundle-size", "1", "--seed", "2"]).env(claimtrail_events::CLOCK_OFFSET_ENV, &offset).output().await?;
    assert!(generated.status.success(), "{}", String::from_utf8_lossy(&generated.stderr));
    let claim: serde_json::Value = serde_json::from_slice(&generated.stdout)?;
    // Dated from the moved clock's day: its services fall in the 28 days before it.
    let moved_today = time::OffsetDateTime::now_utc().date() + time::Duration::days(OFFSET_DAYS);
    let served = claim["entry"][0]["resource"]["item"][0]["servicedDate"].as_str().and_then(claimtrail_events::parse_date).expect("a date of service");
    assert!(served < moved_today && served >= moved_today - time::Duration::days(29), "served {served}, the moved clock's today {moved_today}");

    let response = up
        .client
        .post(format!("{}/v1/claims", up.url))
        .bearer_auth(&up.api_key)
        .header("content-type", "application/fhir+json")
        .body(serde_json::to_vec(&claim)?)
        .send()
        .await?;
    assert_eq!(response.status(), 202);
    let answer: serde_json::Value = response.json().await?;
    assert_eq!(answer["outcomes"][0]["status"], "accepted", "{answer}");
    let claim_id = answer["claim_ids"][0].as_str().expect("a claim id").to_owned();
    wait_until(Duration::from_secs(60), || async {
        let status = up.claim_status(&claim_id).await?;
        Ok((status["outcome"] == "paid", status.to_string()))
    })
    .await?;
    let status = up.claim_status(&claim_id).await?;
    assert_eq!((status["total_charge"].as_str(), status["total_paid"].as_str()), (Some("155.00"), Some("97.00")), "as the README says: {status}");
    assert_eq!(status["decision"]["total_patient_responsibility"], "21.80", "the demo plan's copay and deductible, as the README says: {status}");
    // The demo's finance key is scoped to the demo payer and reads its journal.
    let balances: serde_json::Value =
        up.client.get(format!("{}/v1/journal/balances", up.url)).bearer_auth(up.demo_key("finance")?).send().await?.error_for_status()?.json().await?;
    assert!(balances["accounts"].as_array().unwrap().iter().any(|a| a["account"] == "expense:claims:60054" && a["debit"] == "97.00"), "{balances}");
    // Intake received it on the moved clock's day too (give or take midnight).
    let received = status["received_at"].as_str().and_then(|at| at.get(..10)).and_then(claimtrail_events::parse_date).expect("received_at");
    assert!((received - moved_today).whole_days().abs() <= 1, "received {received}, the moved clock's today {moved_today}");
    Ok(())
}

/// Issue 20's regression: the fraud service held the demo practice's payments over unbundling alerts on the
/// demo payer's own sample claims, and the demo's payment run moved no money. With a small labelled fraud world
/// beside the sample claims (the world's payers publish NCCI pairs of their own), the run pays the practice and
/// writes a bank statement with money in it; the only unbundling alerts of the demo payer are the NCCI scenario's,
/// billed by the practitioner, whose visit the payer's own edit bundles.
#[tokio::test(flavor = "multi_thread")]
async fn up_demo_pays_the_practice_and_writes_a_bank_statement_with_money_in_it() -> anyhow::Result<()> {
    const PRACTICE: &str = "1245319599";
    const PRACTITIONER: &str = "1003000126";
    let up = Embedded::start(&[("CLAIMTRAIL_DEMO_CLAIMS", "20"), ("CLAIMTRAIL_DEMO_FRAUD_CLAIMS", "300")]).await?;
    let statement = up.data_dir.path().join("demo-bank-statement.bai2");
    let labels = up.data_dir.path().join("demo-fraud-labels.csv");
    wait_until(Duration::from_secs(240), || {
        let (statement, labels) = (statement.clone(), labels.clone());
        async move { Ok((statement.exists(), format!("no bank statement yet (fraud labels written: {})", labels.exists()))) }
    })
    .await?;

    // The statement's ACH debit (BAI2 type 466) carries money, and the run paid the practice by ACH.
    let bai2 = std::fs::read_to_string(&statement)?;
    let debits: Vec<i64> =
        bai2.lines().filter(|record| record.starts_with("16,466,")).map(|record| record.split(',').nth(2).unwrap().parse().unwrap()).collect();
    assert!(!debits.is_empty() && debits.iter().all(|cents| *cents > 0), "{bai2}");
    let finance = up.demo_key("finance")?;
    let runs: serde_json::Value =
        up.client.get(format!("{}/v1/payment-runs?payer_id=60054", up.url)).bearer_auth(&finance).send().await?.error_for_status()?.json().await?;
    let remittances = runs["runs"][0]["remittances"].as_array().cloned().unwrap_or_default();
    let practice = remittances.iter().find(|r| r["pay_to"] == PRACTICE).unwrap_or_else(|| panic!("no remittance to the practice: {runs}"));
    assert_eq!(practice["status"], "ach", "{runs}");
    assert!(practice["amount"].as_str().unwrap().parse::<f64>().unwrap() > 0.0, "{runs}");

    // Once every sample claim is scanned: the demo payer's unbundling alerts are the practitioner's NCCI-scenario claims only.
    let admin = up.demo_key("admin")?;
    wait_until(Duration::from_secs(60), || async {
        let unscanned = up.scalar("SELECT COUNT(*) FROM \"fraud_claims\" WHERE scanned = 0").await?;
        Ok((unscanned == 0, format!("{unscanned} claims not scanned")))
    })
    .await?;
    let alerts: serde_json::Value =
        up.client.get(format!("{}/v1/fraud/alerts?pattern=unbundling&limit=500", up.url)).bearer_auth(&admin).send().await?.error_for_status()?.json().await?;
    let alerts: Vec<&serde_json::Value> = alerts["alerts"].as_array().into_iter().flatten().filter(|alert| alert["payer_id"] == "60054").collect();
    assert!(!alerts.is_empty(), "the NCCI scenario (every tenth sample claim) is unbundling by the payer's own table");
    for alert in alerts {
        assert_eq!(alert["npi"], PRACTITIONER, "{alert}");
        assert!(alert["reason"].as_str().unwrap().contains("is included in 20610"), "{alert}");
    }
    Ok(())
}
