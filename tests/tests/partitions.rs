//! The claims of one subscriber's family are decided in order (DESIGN.md):
//! one member's claims, submitted at the same time over FHIR and X12, are
//! decided in the order intake committed them, and every partition's
//! consumer reads its share, so the claims of every family are decided.

use std::collections::BTreeMap;
use std::time::Duration;

use claimtrail_e2e::Embedded;
use sea_orm::ConnectionTrait as _;
use serde_json::Value;

const PARTITIONS: u32 = 4;

async fn generated(up: &Embedded, format: &str, claims: u64, bundle_size: u64, seed: u64) -> anyhow::Result<String> {
    let (claims, bundle_size, seed) = (claims.to_string(), bundle_size.to_string(), seed.to_string());
    let output = up.command(&["generate", "--format", format, "--claims", &claims, "--bundle-size", &bundle_size, "--seed", &seed]).output().await?;
    anyhow::ensure!(output.status.success(), "generate {format}: {}", String::from_utf8_lossy(&output.stderr));
    Ok(String::from_utf8(output.stdout)?)
}

async fn post(up: &Embedded, path: &str, content_type: &str, body: String) -> anyhow::Result<usize> {
    let response = up.client.post(format!("{}{path}", up.url)).bearer_auth(&up.api_key).header("content-type", content_type).body(body).send().await?;
    let status = response.status();
    let answer: Value = response.json().await?;
    anyhow::ensure!(status == 202, "{path} answered {status}: {answer}");
    Ok(answer["claim_ids"].as_array().map_or(0, Vec::len))
}

/// `(claim id, sequence)` of the events of `event_type` in a service's outbox, in sequence order.
async fn outbox_order(up: &Embedded, service: &str, event_type: &str) -> anyhow::Result<Vec<(String, i64)>> {
    let db = up.db().await?;
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            format!("SELECT aggregate_id, seq FROM \"{service}_outbox\" WHERE event_type = '{event_type}' ORDER BY seq"),
        ))
        .await?;
    db.close().await?;
    rows.iter().map(|row| Ok((row.try_get_by_index::<String>(0)?, row.try_get_by_index::<i64>(1)?))).collect()
}

/// The partition of a family, as docs/operations.md states the mapping: the
/// token's first 64 bits modulo the count.
fn partition_of(payer_id: &str, member_id: &str) -> anyhow::Result<u64> {
    let token = claimtrail_events::partition_token(payer_id, member_id);
    Ok(u64::from_str_radix(&token[..16], 16)? % u64::from(PARTITIONS))
}

#[tokio::test(flavor = "multi_thread")]
async fn one_familys_claims_over_fhir_and_x12_at_once_are_decided_in_commit_order_and_every_partition_is_consumed() -> anyhow::Result<()> {
    let up = Embedded::start(&[("CLAIMTRAIL_PARTITIONS", &PARTITIONS.to_string())]).await?;
    // The generator deals the demo's members in turn, so each member has claims in both files.
    let x12 = generated(&up, "x12", 24, 4, 7).await?;
    let fhir = generated(&up, "fhir", 24, 4, 8).await?;
    let starts: Vec<usize> = x12.match_indices("ISA*").map(|(at, _)| at).chain([x12.len()]).collect();
    let x12_files: Vec<String> = starts.windows(2).map(|pair| x12[pair[0]..pair[1]].to_owned()).collect();
    let fhir_bundles: Vec<String> = fhir.lines().filter(|line| !line.trim().is_empty()).map(str::to_owned).collect();
    anyhow::ensure!(x12_files.len() == 6 && fhir_bundles.len() == 6, "{} interchanges, {} bundles", x12_files.len(), fhir_bundles.len());

    // Both channels at once, each file by itself, interleaved on the wire.
    let mut submissions = Vec::new();
    for (x12_file, bundle) in x12_files.into_iter().zip(fhir_bundles) {
        submissions.push(post(&up, "/v1/claims/x12", "application/edi-x12", x12_file));
        submissions.push(post(&up, "/v1/claims", "application/fhir+json", bundle));
    }
    let accepted: usize = futures::future::try_join_all(submissions).await?.into_iter().sum();
    assert_eq!(accepted, 48);
    up.wait_settled(48, Duration::from_secs(180)).await?;

    // Intake's commit order (the embedded log has one writer: sequence order is commit order)
    // against adjudication's decision order, per member.
    let db = up.db().await?;
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            "SELECT claim_id, member_id, channel, payer_id FROM \"intake_claims\"".to_owned(),
        ))
        .await?;
    db.close().await?;
    let mut member_of = BTreeMap::new();
    let mut channels_of: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    let mut partitions_used = std::collections::BTreeSet::new();
    for row in &rows {
        let claim_id = row.try_get_by_index::<uuid::Uuid>(0)?.to_string();
        let member: String = row.try_get_by_index::<Option<String>>(1)?.unwrap_or_default();
        channels_of.entry(member.clone()).or_default().insert(row.try_get_by_index::<String>(2)?);
        partitions_used.insert(partition_of(&row.try_get_by_index::<String>(3)?, &member)?);
        member_of.insert(claim_id, member);
    }
    let submitted = outbox_order(&up, "intake", "claim.submitted.v1").await?;
    let decided = outbox_order(&up, "adjudication", "claim.adjudicated.v1").await?;
    assert_eq!(decided.len(), 48, "every claim of every family is decided");
    let by_member = |order: &[(String, i64)]| {
        let mut families: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (claim_id, _) in order {
            let claim_id = claim_id.to_lowercase();
            families.entry(member_of.get(&claim_id).cloned().unwrap_or_default()).or_default().push(claim_id);
        }
        families
    };
    let (committed, decisions) = (by_member(&submitted), by_member(&decided));
    let both_channels = channels_of.values().filter(|channels| channels.len() >= 2).count();
    assert!(both_channels >= 2, "members with claims on both channels: {channels_of:?}");
    assert!(committed.len() >= 4, "several families: {committed:?}");
    for (member, claims) in &committed {
        assert_eq!(decisions.get(member), Some(claims), "member {member}'s claims are decided in commit order");
    }

    // One consumer per partition of adjudication: each partition that holds families moved its own cursor.
    assert!(partitions_used.len() >= 2, "the families spread over several partitions: {partitions_used:?}");
    for partition in &partitions_used {
        let cursor = up.scalar(&format!("SELECT COUNT(*) FROM \"bus_cursors\" WHERE consumer = 'adjudication_claims_p{partition}' AND acked_seq > 0")).await?;
        assert_eq!(cursor, 1, "partition {partition}'s consumer read its claims");
    }
    assert_eq!(up.scalar("SELECT COUNT(*) FROM \"bus_cursors\" WHERE consumer = 'adjudication_claims'").await?, 0, "no consumer of the whole family");
    Ok(())
}

/// The claim ids of a stack's events of `event_types` in `service`'s outbox, in sequence order.
async fn stack_outbox_order(stack: &claimtrail_e2e::Stack, service: &str, event_types: &[&str]) -> anyhow::Result<Vec<String>> {
    let types = event_types.iter().map(|event_type| format!("'{event_type}'")).collect::<Vec<_>>().join(", ");
    let rows = stack
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            format!("SELECT aggregate_id FROM {} WHERE event_type IN ({types}) ORDER BY seq", stack.table(service, "outbox")),
        ))
        .await?;
    rows.iter().map(|row| Ok(row.try_get_by_index::<String>(0)?.to_lowercase())).collect()
}

/// Two adjudication processes on one stack (k8s runs 2-4 replicas): each
/// partition is consumed by the one holding its lease, so one family's
/// claims are decided in intake's commit order; when the holder is killed,
/// the other takes the partition over and the order still holds.
#[tokio::test(flavor = "multi_thread")]
async fn two_adjudication_replicas_decide_one_familys_claims_in_order_and_the_second_takes_over_when_the_first_dies() -> anyhow::Result<()> {
    use tokio::io::AsyncBufReadExt as _;
    // A short ack wait: the standby that takes over waits it when deliveries are pending.
    let mut stack = claimtrail_e2e::Stack::start(&[("CLAIMTRAIL_ACK_WAIT_SECONDS", "3")]).await?;
    let log_path = claimtrail_e2e::logs_dir().join(format!("{}-adjudication-second.log", stack.prefix));
    let mut second = stack.command(&["serve", "adjudication", "--listen", "127.0.0.1:0"]);
    second
        .env("CLAIMTRAIL_ACK_WAIT_SECONDS", "3")
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::from(std::fs::File::create(&log_path)?))
        .kill_on_drop(true);
    let mut second = second.spawn()?;
    let mut lines = tokio::io::BufReader::new(second.stdout.take().expect("piped")).lines();
    let first_line = tokio::time::timeout(Duration::from_secs(60), lines.next_line()).await??.unwrap_or_default();
    anyhow::ensure!(first_line.starts_with("listening on "), "the second adjudication did not start: {first_line}");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

    // One family (MBR-0001), one partition.
    let mut submitted = Vec::new();
    for n in 0..12 {
        submitted.extend(stack.submit_ok(&claimtrail_e2e::sample_claim(&format!("PCN-LEASE-{n}"))).await?);
    }
    for claim_id in &submitted {
        stack.wait_decided(claim_id, Duration::from_secs(60)).await?;
    }
    let log = std::fs::read_to_string(&log_path)?;
    assert!(log.contains("another replica holds this partition; standing by"), "the second replica stood by: {log}");

    // The holder dies; the second replica takes the partition over.
    stack.kill("adjudication").await?;
    for n in 12..24 {
        submitted.extend(stack.submit_ok(&claimtrail_e2e::sample_claim(&format!("PCN-LEASE-{n}"))).await?);
    }
    for claim_id in &submitted {
        stack.wait_decided(claim_id, Duration::from_secs(90)).await?;
    }
    let log = std::fs::read_to_string(&log_path)?;
    assert!(log.contains("holding this partition"), "the second replica took the partition over: {log}");

    let committed = stack_outbox_order(&stack, "intake", &["claim.submitted.v1"]).await?;
    let decided = stack_outbox_order(&stack, "adjudication", &["claim.adjudicated.v1", "claim.pended.v1"]).await?;
    let ours: Vec<String> = committed.into_iter().filter(|claim_id| submitted.iter().any(|id| id.eq_ignore_ascii_case(claim_id))).collect();
    assert_eq!(ours.len(), 24);
    assert_eq!(decided, ours, "the family's claims are decided in intake's commit order, once each");
    second.kill().await?;
    stack.cleanup().await
}
