//! `claimtrail serve witness` against the C2SP tlog-witness protocol: a log
//! built in the test (its own key, leaves and proofs from libs/ledger) asks
//! for cosignatures; forks, bad proofs, older checkpoints, unknown origins
//! and untrusted keys are refused with the spec's status codes, only
//! contradictions are kept as evidence, what a caller can make the witness
//! store is bounded, and the state survives a restart. The anchor publishes a
//! checkpoint only with a quorum of distinct honest witnesses.

use std::process::Stdio;
use std::time::Duration;

use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use claimtrail_e2e::{Stack, claimtrail_bin, database_url, logs_dir, sample_claim, wait_until};
use claimtrail_ledger::merkle::{consistency_proof, root};
use claimtrail_ledger::note::CosignatureVerifier;
use claimtrail_ledger::{Checkpoint, Hash, SignerKey, leaf_hash};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

const ORIGIN: &str = "test.example/log";

struct Witness {
    child: Child,
    url: String,
}

async fn start_witness(prefix: &str, key_dir: &std::path::Path, log_vkey: &str) -> anyhow::Result<Witness> {
    start_witness_with(prefix, key_dir, log_vkey, "127.0.0.1:0", "witness.test/w1", &[]).await
}

async fn start_witness_on(prefix: &str, key_dir: &std::path::Path, log_vkey: &str, listen: &str) -> anyhow::Result<Witness> {
    start_witness_with(prefix, key_dir, log_vkey, listen, "witness.test/w1", &[]).await
}

/// A witness named `name` under `prefix` (its schema `<prefix>_witness`), with `env` added.
async fn start_witness_with(
    prefix: &str,
    key_dir: &std::path::Path,
    log_vkey: &str,
    listen: &str,
    name: &str,
    env: &[(&str, &str)],
) -> anyhow::Result<Witness> {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(logs_dir().join(format!("{prefix}-witness.log")))?;
    let mut child = Command::new(claimtrail_bin())
        .args(["serve", "witness", "--listen", listen])
        .envs(env.iter().copied())
        .env("DATABASE_URL", database_url())
        .env("CLAIMTRAIL_PREFIX", prefix)
        .env("CLAIMTRAIL_KEY_DIR", key_dir)
        .env("CLAIMTRAIL_WITNESS_NAME", name)
        // The log key comes from a file, as `claimtrail keys log` writes it beside the log's key.
        .env("CLAIMTRAIL_WITNESS_LOG_KEYS_FILE", {
            let file = key_dir.join("followed-logs.vkey");
            std::fs::create_dir_all(key_dir)?;
            std::fs::write(&file, format!("# the logs this witness follows\n{log_vkey}\n"))?;
            file
        })
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .kill_on_drop(true)
        .spawn()?;
    let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
    let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await??.context("the witness exited")?;
    let url = first.strip_prefix("listening on ").with_context(|| format!("unexpected first line {first}"))?.to_owned();
    Ok(Witness { child, url })
}

/// A log of `n` leaves, deterministic in `salt`.
fn leaves(n: u64, salt: u8) -> Vec<Hash> {
    (0..n).map(|idx| leaf_hash(&[salt, idx as u8, (idx >> 8) as u8])).collect()
}

fn checkpoint(key: &SignerKey, leaves: &[Hash]) -> String {
    Checkpoint { origin: key.name().to_owned(), size: leaves.len() as u64, root: root(leaves), extensions: vec![] }.sign(&[key]).unwrap()
}

fn request(old: u64, proof: &[Hash], note: &str) -> String {
    let mut body = format!("old {old}\n");
    for hash in proof {
        body.push_str(&BASE64.encode(hash));
        body.push('\n');
    }
    body.push('\n');
    body.push_str(note);
    body
}

async fn add(client: &reqwest::Client, url: &str, body: String) -> anyhow::Result<(u16, String, String)> {
    let response = client.post(format!("{url}/add-checkpoint")).body(body).send().await?;
    let status = response.status().as_u16();
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    Ok((status, content_type, response.text().await?))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_witness_cosigns_only_consistent_growth_and_remembers_what_it_cosigned() -> anyhow::Result<()> {
    let prefix = format!("w{}", &uuid::Uuid::now_v7().simple().to_string()[20..]);
    let key_dir = tempfile::tempdir()?;
    let log_key = SignerKey::generate(ORIGIN)?;
    let mut witness = start_witness(&prefix, key_dir.path(), &log_key.verifier().to_string()).await?;
    let verifier = CosignatureVerifier::parse(&std::fs::read_to_string(key_dir.path().join("witness.vkey"))?)?;
    let client = reqwest::Client::new();
    let url = witness.url.clone();
    let log = leaves(40, 1);

    // First contact: old 0, no proof.
    let note5 = checkpoint(&log_key, &log[..5]);
    let (status, _, body) = add(&client, &url, request(0, &[], &note5)).await?;
    assert_eq!(status, 200, "{body}");
    let body5 = &note5[..note5.find("\n\n").unwrap() + 1];
    let timestamp = verifier.verify_line(body5, &body)?;
    assert!(timestamp > 1_700_000_000);

    // A stale old size: 409 with the size the witness holds.
    let note8 = checkpoint(&log_key, &log[..8]);
    let (status, content_type, body) = add(&client, &url, request(0, &[], &note8)).await?;
    assert_eq!((status, content_type.as_str(), body.as_str()), (409, "text/x.tlog.size", "5\n"));
    // Growth with a consistency proof from 5 to 8.
    let (status, _, body) = add(&client, &url, request(5, &consistency_proof(5, 8, &log)?, &note8)).await?;
    assert_eq!(status, 200, "{body}");

    // A proof that does not prove: 422, nothing cosigned.
    let note12 = checkpoint(&log_key, &log[..12]);
    let mut bad_proof = consistency_proof(8, 12, &log)?;
    bad_proof[0][0] ^= 1;
    let (status, _, body) = add(&client, &url, request(8, &bad_proof, &note12)).await?;
    assert_eq!(status, 422, "{body}");

    // A fork: another tree of size 8.
    let forked = leaves(8, 2);
    let (status, _, body) = add(&client, &url, request(8, &[], &checkpoint(&log_key, &forked))).await?;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("fork"), "{body}");
    // Older genuine checkpoints, consistent with the held one (anyone can
    // replay them): 409 with the held size, and no evidence, no alert.
    let (status, content_type, body) = add(&client, &url, request(6, &[], &checkpoint(&log_key, &log[..6]))).await?;
    assert_eq!((status, content_type.as_str(), body.as_str()), (409, "text/x.tlog.size", "8\n"));
    let (status, _, body) = add(&client, &url, request(5, &consistency_proof(5, 6, &log)?, &checkpoint(&log_key, &log[..6]))).await?;
    assert_eq!((status, body.as_str()), (409, "8\n"));
    // Old size above the checkpoint's: 400.
    let (status, ..) = add(&client, &url, request(9, &[], &note8)).await?;
    assert_eq!(status, 400);
    let metrics = client.get(format!("{url}/metrics")).send().await?.text().await?;
    let alerts: Vec<&str> = metrics.lines().filter(|l| l.starts_with("claimtrail_witness_alerts_total")).collect();
    for kind in ["fork", "inconsistent"] {
        assert!(alerts.iter().any(|l| l.contains(&format!("kind=\"{kind}\""))), "{kind}: {metrics}");
    }
    assert_eq!(alerts.len(), 2, "only the fork and the failed proof raise alerts: {alerts:?}");
    let db = sea_orm::Database::connect(database_url()).await?;
    assert_eq!(evidence_kinds(&db, &prefix).await?, ["fork", "inconsistent"], "only contradictions are evidence");

    // Unknown origin: 404. The right origin signed by a key the witness does not trust: 403.
    let stranger = SignerKey::generate("other.example/log")?;
    assert_eq!(add(&client, &url, request(0, &[], &checkpoint(&stranger, &log[..3]))).await?.0, 404);
    let impostor = SignerKey::generate(ORIGIN)?;
    assert_eq!(add(&client, &url, request(8, &consistency_proof(8, 12, &log)?, &checkpoint(&impostor, &log[..12]))).await?.0, 403);
    assert_eq!(add(&client, &url, "old 8\nnot a hash\n\n".to_owned()).await?.0, 400);

    // Two requests racing from the same old size: exactly one wins.
    let (a, b) = tokio::join!(
        add(&client, &url, request(8, &consistency_proof(8, 12, &log)?, &note12)),
        add(&client, &url, request(8, &consistency_proof(8, 20, &log)?, &checkpoint(&log_key, &log[..20])))
    );
    let mut statuses = [a?.0, b?.0];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);

    // The state survives a restart.
    let held = client.get(format!("{url}/v1/witness/logs")).send().await?.json::<serde_json::Value>().await?;
    let held_size = held["logs"][0]["size"].as_u64().context("a followed log")?;
    assert!(held_size == 12 || held_size == 20, "{held}");
    assert!(verifier.find_in_note(held["logs"][0]["checkpoint"].as_str().unwrap()).is_some(), "{held}");
    witness.child.kill().await?;
    let witness = start_witness(&prefix, key_dir.path(), &log_key.verifier().to_string()).await?;
    let (status, _, body) = add(&client, &witness.url, request(0, &[], &note5)).await?;
    assert_eq!((status, body), (409, format!("{held_size}\n")));
    let note40 = checkpoint(&log_key, &log);
    let (status, _, body) = add(&client, &witness.url, request(held_size, &consistency_proof(held_size, 40, &log)?, &note40)).await?;
    assert_eq!(status, 200, "{body}");

    sea_orm::ConnectionTrait::execute_unprepared(&db, &format!("DROP SCHEMA IF EXISTS \"{prefix}_witness\" CASCADE")).await?;
    Ok(())
}

/// The kinds of the evidence rows a witness under `prefix` keeps, sorted.
async fn evidence_kinds(db: &sea_orm::DatabaseConnection, prefix: &str) -> anyhow::Result<Vec<String>> {
    use sea_orm::ConnectionTrait as _;
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(db.get_database_backend(), format!("SELECT kind FROM \"{prefix}_witness\".evidence ORDER BY kind")))
        .await?;
    Ok(rows.iter().map(|row| row.try_get_by_index::<String>(0)).collect::<Result<_, _>>()?)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_witness_bounds_the_body_the_request_rate_and_the_evidence_it_keeps() -> anyhow::Result<()> {
    let prefix = format!("w{}", &uuid::Uuid::now_v7().simple().to_string()[20..]);
    let key_dir = tempfile::tempdir()?;
    let log_key = SignerKey::generate(ORIGIN)?;
    let limits =
        [("CLAIMTRAIL_WITNESS_BODY_BYTES_MAX", "2048"), ("CLAIMTRAIL_WITNESS_RATE_LIMIT_PER_SECOND", "4"), ("CLAIMTRAIL_WITNESS_EVIDENCE_PER_ORIGIN_MAX", "3")];
    let witness = start_witness_with(&prefix, key_dir.path(), &log_key.verifier().to_string(), "127.0.0.1:0", "witness.test/w1", &limits).await?;
    let client = reqwest::Client::new();
    let url = witness.url.clone();
    let log = leaves(12, 1);
    let db = sea_orm::Database::connect(database_url()).await?;

    // Evidence: five failed proofs from a genuine checkpoint, three kept, two counted.
    let (status, _, body) = add(&client, &url, request(0, &[], &checkpoint(&log_key, &log[..4]))).await?;
    assert_eq!(status, 200, "{body}");
    let note12 = checkpoint(&log_key, &log);
    for attempt in 0..5u8 {
        let mut bad_proof = consistency_proof(4, 12, &log)?;
        bad_proof[0][0] ^= attempt + 1;
        let (status, _, body) = add(&client, &url, request(4, &bad_proof, &note12)).await?;
        assert_eq!(status, 422, "{body}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(evidence_kinds(&db, &prefix).await?, ["inconsistent"; 3]);
    let metrics = client.get(format!("{url}/metrics")).send().await?.text().await?;
    let dropped = metrics.lines().find(|l| l.starts_with("claimtrail_witness_evidence_dropped_total")).with_context(|| metrics.clone())?;
    assert!(dropped.ends_with(" 2") && dropped.contains(ORIGIN), "{dropped}");

    // A body over the limit: 413, before anything is parsed.
    let mut too_big = request(4, &[], &note12);
    too_big.push_str(&"x".repeat(2048));
    let (status, ..) = add(&client, &url, too_big).await?;
    assert_eq!(status, 413);

    // Requests over the rate of one client: 429 with Retry-After; the health check is not limited.
    let mut refused = None;
    for _ in 0..20 {
        let response = client.post(format!("{url}/add-checkpoint")).body("old 0\n").send().await?;
        if response.status() == 429 {
            refused = Some(response);
            break;
        }
        assert_eq!(response.status(), 400);
    }
    let refused = refused.context("20 requests at once at 4 per second were all taken")?;
    let retry_after: u64 = refused.headers().get("retry-after").context("no Retry-After")?.to_str()?.parse()?;
    assert!(retry_after >= 1, "{retry_after}");
    assert_eq!(client.get(format!("{url}/healthz")).send().await?.status(), 200);
    // The bucket refills: after the wait, the same client is served again.
    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    assert_eq!(add(&client, &url, request(4, &consistency_proof(4, 12, &log)?, &note12)).await?.0, 200);

    sea_orm::ConnectionTrait::execute_unprepared(&db, &format!("DROP SCHEMA IF EXISTS \"{prefix}_witness\" CASCADE")).await?;
    Ok(())
}

/// The served checkpoint's size, and whether `verifier` cosigned it.
async fn served_checkpoint(stack: &Stack, verifier: &CosignatureVerifier) -> anyhow::Result<(u64, bool)> {
    let response = stack.client.get(format!("{}/v1/ledger/checkpoint", stack.url("anchor"))).bearer_auth(&stack.admin_key).send().await?;
    if response.status() == 404 {
        return Ok((0, false));
    }
    let note = response.text().await?;
    let size = note.lines().nth(1).and_then(|line| line.parse().ok()).context("a size line")?;
    Ok((size, verifier.find_in_note(&note).is_some()))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_anchor_publishes_checkpoints_only_with_their_witness_quorum_and_catches_up_after_an_outage() -> anyhow::Result<()> {
    let mut stack = Stack::start(&[]).await?;
    let keys = stack.client.get(format!("{}/v1/ledger/keys", stack.url("anchor"))).bearer_auth(&stack.admin_key).send().await?.text().await?;
    let log_vkey = keys.lines().find(|line| line.ends_with(" log")).and_then(|line| line.split(' ').next()).context("the log key")?.to_owned();
    let witness_dir = tempfile::tempdir()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let listen = format!("127.0.0.1:{port}");
    let mut witness = start_witness_on(&stack.prefix, witness_dir.path(), &log_vkey, &listen).await?;
    let witness_vkey = std::fs::read_to_string(witness_dir.path().join("witness.vkey"))?.trim().to_owned();
    let verifier = CosignatureVerifier::parse(&witness_vkey)?;

    // The anchor, restarted with one witness, a quorum of one and an append-only directory.
    let anchor_dir = tempfile::tempdir()?;
    let anchor_dir_text = anchor_dir.path().to_str().context("path")?.to_owned();
    let env = [
        ("CLAIMTRAIL_WITNESS_URLS", witness.url.as_str()),
        ("CLAIMTRAIL_WITNESS_KEYS", witness_vkey.as_str()),
        ("CLAIMTRAIL_WITNESS_QUORUM", "1"),
        ("CLAIMTRAIL_ANCHOR_DIR", anchor_dir_text.as_str()),
    ];
    stack.kill("anchor").await?;
    stack.env.insert("anchor", env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect());
    stack.spawn("anchor", &[]).await?;
    let keys = stack.client.get(format!("{}/v1/ledger/keys", stack.url("anchor"))).bearer_auth(&stack.admin_key).send().await?.text().await?;
    assert!(keys.contains(&format!("{witness_vkey} witness")), "{keys}");

    stack.submit_ok(&sample_claim("PCN-WITNESSED-1")).await?;
    stack.wait_settled(1, Duration::from_secs(60)).await?;
    let ledger = stack.ledger_size().await? as u64;
    wait_until(Duration::from_secs(30), || async {
        let (size, cosigned) = served_checkpoint(&stack, &verifier).await?;
        Ok((size == ledger && cosigned, format!("served {size} (cosigned {cosigned}) of {ledger}")))
    })
    .await?;
    assert!(anchor_dir.path().join(format!("{ledger}.checkpoint")).exists());

    // The witness goes away: new checkpoints are signed but not published without their cosignature.
    witness.child.kill().await?;
    stack.submit_ok(&sample_claim("PCN-WITNESSED-2")).await?;
    stack.wait_settled(2, Duration::from_secs(60)).await?;
    let grown = stack.ledger_size().await? as u64;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(served_checkpoint(&stack, &verifier).await?, (ledger, true), "the last cosigned checkpoint stays the published one");
    let metrics = stack.client.get(format!("{}/metrics", stack.url("anchor"))).send().await?.text().await?;
    assert!(metrics.contains("claimtrail_anchor_sink_failures_total"), "{metrics}");

    // Back on the same address: the anchor retries and the latest checkpoint is cosigned from the witness's last size.
    let _witness = start_witness_on(&stack.prefix, witness_dir.path(), &log_vkey, &listen).await?;
    wait_until(Duration::from_secs(30), || async {
        let (size, cosigned) = served_checkpoint(&stack, &verifier).await?;
        Ok((size == grown && cosigned, format!("served {size} (cosigned {cosigned}) of {grown}")))
    })
    .await?;
    let (verified, output) = stack.verify(&[]).await?;
    assert!(verified, "{output}");
    // A verifier that trusts the witness requires its cosignature; another witness key gives no quorum.
    let witness_key = format!("{witness_vkey} witness");
    let (verified, output) = stack.verify(&["--key", &log_vkey, "--key", &witness_key]).await?;
    assert!(verified, "{output}");
    assert!(output.contains(&format!("checkpoint of size {grown} holds 1 of 1 trusted witness cosignatures")), "{output}");
    let stranger = claimtrail_ledger::note::Cosigner::generate("witness.test/w1")?.verifier().to_string();
    let stranger_key = format!("{stranger} witness");
    let (verified, output) = stack.verify(&["--key", &log_vkey, "--key", &stranger_key]).await?;
    assert!(!verified && output.contains("no checkpoint holds 1 cosignatures"), "{output}");
    let db = sea_orm::Database::connect(database_url()).await?;
    sea_orm::ConnectionTrait::execute_unprepared(&db, &format!("DROP SCHEMA IF EXISTS \"{}_witness\" CASCADE", stack.prefix)).await?;
    stack.cleanup().await
}

/// The served checkpoint note, when one holds the quorum.
async fn served_note(stack: &Stack) -> anyhow::Result<Option<String>> {
    let response = stack.client.get(format!("{}/v1/ledger/checkpoint", stack.url("anchor"))).bearer_auth(&stack.admin_key).send().await?;
    if response.status() == 404 {
        return Ok(None);
    }
    anyhow::ensure!(response.status() == 200, "GET /v1/ledger/checkpoint: {}", response.status());
    Ok(Some(response.text().await?))
}

#[tokio::test(flavor = "multi_thread")]
async fn two_of_three_witnesses_publish_a_checkpoint_only_with_two_honest_cosignatures() -> anyhow::Result<()> {
    let mut stack = Stack::start(&[]).await?;
    let log_key = SignerKey::parse(std::fs::read_to_string(stack.key_dir.path().join("ledger-log.key"))?.trim())?;
    let log_vkey = log_key.verifier().to_string();
    let dirs = [tempfile::tempdir()?, tempfile::tempdir()?, tempfile::tempdir()?];
    let prefixes: Vec<String> = (1..=3).map(|n| format!("{}w{n}", stack.prefix)).collect();
    let names = ["witness.test/w1", "witness.test/w2", "witness.test/w3"];
    let listens: Vec<String> =
        (0..3).map(|_| Ok(format!("127.0.0.1:{}", std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port()))).collect::<anyhow::Result<_>>()?;
    let vkeys: Vec<String> = (0..3)
        .map(|n| {
            let key = claimtrail_ledger::note::Cosigner::generate(names[n])?;
            std::fs::write(dirs[n].path().join("witness.key"), key.to_private_key_string() + "\n")?;
            Ok(key.verifier().to_string())
        })
        .collect::<anyhow::Result<_>>()?;
    let verifiers: Vec<CosignatureVerifier> = vkeys.iter().map(|vkey| CosignatureVerifier::parse(vkey)).collect::<Result<_, _>>()?;

    // w1 is honest; w2 is down; w3 holds a fork of the log (a checkpoint of
    // size 1 the log key signed over another first entry), so it refuses
    // every later checkpoint of the real ledger.
    let _w1 = start_witness_with(&prefixes[0], dirs[0].path(), &log_vkey, &listens[0], names[0], &[]).await?;
    let w3 = start_witness_with(&prefixes[2], dirs[2].path(), &log_vkey, &listens[2], names[2], &[]).await?;
    let fork = checkpoint(&log_key, &[leaf_hash(b"another first entry")]);
    let (status, _, body) = add(&stack.client, &w3.url, request(0, &[], &fork)).await?;
    assert_eq!(status, 200, "{body}");

    // The anchor, with w1 listed twice (it still counts once) and a quorum of 2.
    let urls = [&listens[0], &listens[0], &listens[1], &listens[2]].map(|listen| format!("http://{listen}")).join(",");
    let keys = [&vkeys[0], &vkeys[0], &vkeys[1], &vkeys[2]].map(String::as_str).join(",");
    stack.kill("anchor").await?;
    stack.env.insert(
        "anchor",
        vec![("CLAIMTRAIL_WITNESS_URLS".into(), urls), ("CLAIMTRAIL_WITNESS_KEYS".into(), keys), ("CLAIMTRAIL_WITNESS_QUORUM".into(), "2".into())],
    );
    stack.spawn("anchor", &[]).await?;
    stack.submit_ok(&sample_claim("PCN-QUORUM-1")).await?;
    stack.wait_settled(1, Duration::from_secs(60)).await?;
    let ledger = stack.ledger_size().await?;
    // Signed and cosigned by w1 (twice), refused by w3, w2 unreachable: one witness, not published.
    let anchor_checkpoints = stack.table("anchor", "checkpoints");
    wait_until(Duration::from_secs(30), || async {
        let cosigned = stack.scalar(&format!("SELECT COALESCE(MAX(cosigned), -1)::bigint FROM {anchor_checkpoints} WHERE size = {ledger}")).await?;
        Ok((cosigned == 1, format!("checkpoint {ledger} holds {cosigned} cosignatures")))
    })
    .await?;
    let db = sea_orm::Database::connect(database_url()).await?;
    wait_until(Duration::from_secs(30), || async {
        let kinds = evidence_kinds(&db, &prefixes[2]).await?;
        Ok((kinds.contains(&"inconsistent".to_owned()), format!("w3 holds evidence {kinds:?}")))
    })
    .await?;
    assert_eq!(served_note(&stack).await?, None, "one distinct witness is not a quorum of 2");

    // w2 comes up: the anchor's retry gets the second honest cosignature and the checkpoint is published.
    let _w2 = start_witness_with(&prefixes[1], dirs[1].path(), &log_vkey, &listens[1], names[1], &[]).await?;
    wait_until(Duration::from_secs(30), || async {
        let served = served_note(&stack).await?.unwrap_or_default();
        let size: i64 = served.lines().nth(1).and_then(|line| line.parse().ok()).unwrap_or(0);
        Ok((size == ledger, format!("served size {size} of {ledger}")))
    })
    .await?;
    let published = served_note(&stack).await?.context("the published checkpoint")?;
    let holders: Vec<bool> = verifiers.iter().map(|verifier| verifier.find_in_note(&published).is_some()).collect();
    assert_eq!(holders, [true, true, false], "{published}");
    assert_eq!(published.matches(&format!("\u{2014} {} ", names[0])).count(), 1, "w1's cosignature once: {published}");

    // The verifier agrees: 2 of the 3 witness keys hold; 3 do not; w1 given twice is still one.
    let witness_keys: Vec<String> = vkeys.iter().map(|vkey| format!("{vkey} witness")).collect();
    let mut args = vec!["--key", &log_vkey];
    for key in &witness_keys {
        args.extend(["--key", key.as_str()]);
    }
    let (verified, output) = stack.verify(&[args.clone(), vec!["--witness-quorum", "2"]].concat()).await?;
    assert!(verified, "{output}");
    assert!(output.contains(&format!("checkpoint of size {ledger} holds 2 of 3 trusted witness cosignatures (quorum 2)")), "{output}");
    let (verified, output) = stack.verify(&[args, vec!["--witness-quorum", "3"]].concat()).await?;
    assert!(!verified && output.contains("no checkpoint holds 3 cosignatures"), "{output}");
    let twice = ["--key", &log_vkey, "--key", &witness_keys[0], "--key", &witness_keys[0], "--key", &witness_keys[2], "--witness-quorum", "2"];
    let (verified, output) = stack.verify(&twice).await?;
    assert!(!verified && output.contains("no checkpoint holds 2 cosignatures"), "{output}");

    for prefix in &prefixes {
        sea_orm::ConnectionTrait::execute_unprepared(&db, &format!("DROP SCHEMA IF EXISTS \"{prefix}_witness\" CASCADE")).await?;
    }
    stack.cleanup().await
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_log_and_keys_witness_create_a_key_once_and_print_its_vkey() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let dir_text = dir.path().to_str().context("path")?.to_owned();
    let run = |args: Vec<String>| async move { Command::new(claimtrail_bin()).args(&args).output().await };
    for (args, vkey_file) in [
        (vec!["keys".to_owned(), "log".into(), "--origin".into(), "test.example/log".into(), "--key-dir".into(), dir_text.clone()], "ledger-log.vkey"),
        (vec!["keys".to_owned(), "witness".into(), "--name".into(), "witness.test/w9".into(), "--key-dir".into(), dir_text.clone()], "witness.vkey"),
    ] {
        let first = run(args.clone()).await?;
        assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
        let again = run(args).await?;
        assert_eq!(first.stdout, again.stdout, "the key is created once, then reused");
        let printed = String::from_utf8(first.stdout)?;
        assert_eq!(std::fs::read_to_string(dir.path().join(vkey_file))?, printed);
    }
    let log_vkey = std::fs::read_to_string(dir.path().join("ledger-log.vkey"))?;
    claimtrail_ledger::VerifierKey::parse(log_vkey.trim())?;
    CosignatureVerifier::parse(std::fs::read_to_string(dir.path().join("witness.vkey"))?.trim())?;
    Ok(())
}
