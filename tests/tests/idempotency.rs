//! Idempotency-Keys across a crash: intake killed (kill -9, or at a kill
//! point between storing the claims and answering) while keyed requests are
//! in flight; after a restart every request is sent again with its key, as
//! a client that never saw an answer must. Each retry gets the stored answer
//! (the same claim ids) or a fresh attempt, never both and never a key locked
//! for longer than the lease; no claim is lost or stored twice, every claim
//! is decided and the ledger verifies. Embedded (`claimtrail up`) and on
//! Postgres with intake as its own `serve` process, FHIR and X12.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use claimtrail_e2e::{Embedded, Stack, bundle, sample_claim};
use serde_json::Value;

/// Claims per Bundle and Bundles per run, sent from [`SENDERS`] tasks at once.
/// 1,200 claims: enough that a kill lands among requests in flight, and few
/// enough that a debug build on two loaded cores anchors every one of their
/// events within [`SETTLE_TIMEOUT`] (3,000 claims took 250-300 s there).
const BUNDLE_CLAIMS: usize = 10;
const BUNDLES: usize = 120;
const SENDERS: usize = 4;
/// How long a run may take to book, anchor and checkpoint every claim after the restart.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(300);
/// The lease of an Idempotency-Key (intake's `LEASE_MS`): the longest a
/// retry may see 409 after the process holding the key died, plus a second
/// of clock granularity (Retry-After is in whole seconds).
const LEASE_BOUND: Duration = Duration::from_secs(5 + 1);

/// Where keyed requests go.
#[derive(Clone)]
struct Target {
    client: reqwest::Client,
    url: String,
    api_key: String,
}

impl Target {
    fn of_embedded(up: &Embedded) -> Target {
        Target { client: up.client.clone(), url: up.url.clone(), api_key: up.api_key.clone() }
    }

    fn of_stack(stack: &Stack) -> Target {
        Target { client: stack.client.clone(), url: stack.url("intake").to_owned(), api_key: stack.api_key.clone() }
    }
}

/// One keyed request: its path, content type, key and body.
#[derive(Clone)]
struct Keyed {
    path: &'static str,
    content_type: &'static str,
    key: String,
    body: Vec<u8>,
}

/// What one send got back.
enum Sent {
    Answer(Value),
    /// 409, with its Retry-After seconds.
    InFlight(u64),
    /// No answer: the connection failed (the process died).
    Lost,
}

async fn send(target: &Target, request: &Keyed) -> anyhow::Result<Sent> {
    let response = target
        .client
        .post(format!("{}{}", target.url, request.path))
        .bearer_auth(&target.api_key)
        .header("content-type", request.content_type)
        .header("idempotency-key", &request.key)
        .body(request.body.clone())
        .send()
        .await;
    let response = match response {
        Ok(response) => response,
        Err(e) if e.is_connect() || e.is_request() || e.is_body() || e.is_timeout() => return Ok(Sent::Lost),
        Err(e) => return Err(e.into()),
    };
    let status = response.status();
    if status == 409 {
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .context("a 409 for a key in flight carries Retry-After in seconds")?;
        return Ok(Sent::InFlight(retry_after));
    }
    let text = match response.text().await {
        Ok(text) => text,
        Err(_) => return Ok(Sent::Lost),
    };
    anyhow::ensure!(status == 202, "{} with key {} answered {status}: {text}", request.path, request.key);
    Ok(Sent::Answer(serde_json::from_str(&text)?))
}

/// Sends until answered, honouring Retry-After; fails on a 409 later than `locked_until`.
async fn send_until_answered(target: &Target, request: &Keyed, locked_until: Instant) -> anyhow::Result<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        anyhow::ensure!(Instant::now() < deadline, "key {} got no answer within 60 s", request.key);
        match send(target, request).await? {
            Sent::Answer(answer) => return Ok(answer),
            Sent::InFlight(retry_after) => {
                anyhow::ensure!(Instant::now() <= locked_until, "key {} still answered 409 {:?} after the bound", request.key, Instant::now() - locked_until);
                anyhow::ensure!((1..=5).contains(&retry_after), "Retry-After {retry_after} s is outside the lease");
                tokio::time::sleep(Duration::from_secs(retry_after)).await;
            }
            Sent::Lost => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

fn claim_ids(answer: &Value) -> Vec<String> {
    answer["claim_ids"].as_array().map(|ids| ids.iter().filter_map(|id| id.as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

fn fhir_requests(run: &str) -> Vec<Keyed> {
    (0..BUNDLES)
        .map(|bundle_idx| {
            let claims = (0..BUNDLE_CLAIMS).map(|n| sample_claim(&format!("PCN-{run}-{bundle_idx}-{n}"))).collect();
            Keyed {
                path: "/v1/claims",
                content_type: "application/fhir+json",
                key: format!("{run}-bundle-{bundle_idx}"),
                body: serde_json::to_vec(&bundle(claims)).expect("a bundle serializes"),
            }
        })
        .collect()
}

/// Sends every request once from [`SENDERS`] tasks; `answered` counts answers as they come.
async fn send_all_once(target: &Target, requests: &[Keyed], answered: Arc<AtomicUsize>) -> anyhow::Result<Vec<Option<Value>>> {
    let mut tasks = Vec::new();
    for sender in 0..SENDERS {
        let (target, answered) = (target.clone(), answered.clone());
        let mine: Vec<(usize, Keyed)> = requests.iter().cloned().enumerate().filter(|(idx, _)| idx % SENDERS == sender).collect();
        tasks.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            for (idx, request) in mine {
                let answer = match send(&target, &request).await? {
                    Sent::Answer(answer) => {
                        answered.fetch_add(1, Ordering::SeqCst);
                        Some(answer)
                    }
                    Sent::InFlight(_) => anyhow::bail!("key {} answered 409 on its first send", request.key),
                    Sent::Lost => None,
                };
                answers.push((idx, answer));
            }
            anyhow::Ok(answers)
        }));
    }
    let mut answers = vec![None; requests.len()];
    for task in tasks {
        for (idx, answer) in task.await?? {
            answers[idx] = answer;
        }
    }
    Ok(answers)
}

/// Sends every request again, until answered; checks the answers of the first round are replayed.
async fn retry_all(target: &Target, requests: &[Keyed], first: &[Option<Value>], locked_until: Instant) -> anyhow::Result<Vec<Value>> {
    let mut tasks = Vec::new();
    for sender in 0..SENDERS {
        let target = target.clone();
        let mine: Vec<(usize, Keyed)> = requests.iter().cloned().enumerate().filter(|(idx, _)| idx % SENDERS == sender).collect();
        tasks.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            for (idx, request) in mine {
                answers.push((idx, send_until_answered(&target, &request, locked_until).await?));
            }
            anyhow::Ok(answers)
        }));
    }
    let mut answers = vec![Value::Null; requests.len()];
    for task in tasks {
        for (idx, answer) in task.await?? {
            answers[idx] = answer;
        }
    }
    for (idx, (before, after)) in first.iter().zip(&answers).enumerate() {
        if let Some(before) = before {
            assert_eq!(claim_ids(before), claim_ids(after), "request {idx} answered before the crash: the retry replays the same claim ids");
        }
    }
    Ok(answers)
}

/// Every answer's claims, each once: no request got two sets of claims, no two requests one claim.
fn all_claim_ids(answers: &[Value], claims_each: usize) -> HashSet<String> {
    let mut ids = HashSet::new();
    for answer in answers {
        let these = claim_ids(answer);
        assert_eq!(these.len(), claims_each, "{answer}");
        for id in these {
            assert!(ids.insert(id.clone()), "claim {id} answered twice");
        }
    }
    ids
}

/// A random moment in the run: after this many answers.
fn kill_after_answers() -> usize {
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(7) as usize;
    let at = 8 + seed % (BUNDLES / 2);
    println!("killing after {at} answers (seed {seed})");
    at
}

async fn wait_for(answered: &AtomicUsize, at: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while answered.load(Ordering::SeqCst) < at && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn embedded_kill_9_during_keyed_submissions_then_every_retry_gets_its_answer_or_a_fresh_attempt() -> anyhow::Result<()> {
    let mut up = Embedded::start(&[]).await?;
    let requests = fhir_requests("EK");
    let answered = Arc::new(AtomicUsize::new(0));
    let target = Target::of_embedded(&up);
    let sending = tokio::spawn({
        let (requests, answered) = (requests.clone(), answered.clone());
        async move { send_all_once(&target, &requests, answered).await }
    });
    wait_for(&answered, kill_after_answers()).await;
    up.kill().await?;
    let first = sending.await??;
    let unanswered = first.iter().filter(|a| a.is_none()).count();
    println!("{unanswered} of {BUNDLES} requests got no answer before the crash");
    assert!(unanswered > 0, "the crash came after every answer: nothing was tested");

    up.spawn(&[]).await?;
    // Embedded, the restarted process is the data directory's one intake: a dead process's keys are free at once.
    let answers = retry_all(&Target::of_embedded(&up), &requests, &first, Instant::now()).await?;
    let ids = all_claim_ids(&answers, BUNDLE_CLAIMS);
    let n_claims = (BUNDLES * BUNDLE_CLAIMS) as i64;
    assert_eq!(ids.len() as i64, n_claims);
    assert_eq!(up.count("intake", "claims").await?, n_claims, "exactly one copy of each claim");
    assert_eq!(up.scalar("SELECT COUNT(*) FROM \"intake_idempotency_keys\" WHERE state = 'done'").await?, BUNDLES as i64);
    up.wait_settled(n_claims, SETTLE_TIMEOUT).await?;
    let (verified, output) = up.verify().await?;
    assert!(verified, "{output}");
    Ok(())
}

/// A generated 837P file of `claims` claims in one interchange, with its own control number.
async fn x12_file(command: tokio::process::Command, claims: usize, seed: u64) -> anyhow::Result<Vec<u8>> {
    let mut command = command;
    let output = command.output().await?;
    anyhow::ensure!(output.status.success(), "generate: {}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout)?;
    anyhow::ensure!(text.matches("CLM*").count() == claims, "generate {claims} claims with seed {seed}");
    Ok(text.into_bytes())
}

#[tokio::test(flavor = "multi_thread")]
async fn embedded_kill_points_between_storing_and_answering_fhir_and_x12() -> anyhow::Result<()> {
    let mut up = Embedded::start(&[]).await?;
    let mut n_claims = 0i64;
    for (scenario, point) in ["intake_stored_before_commit:3", "intake_committed_before_answer:3"].iter().enumerate() {
        for format in ["fhir", "x12"] {
            up.kill().await?;
            up.spawn(&[("CLAIMTRAIL_KILL_POINT", point)]).await?;
            let run = format!("KP{scenario}{format}");
            let requests: Vec<Keyed> = match format {
                "fhir" => fhir_requests(&run).into_iter().take(4).collect(),
                _ => {
                    let mut requests = Vec::new();
                    for file_idx in 0..4u64 {
                        let seed = 100 * scenario as u64 + file_idx + 1;
                        let args = ["generate", "--format", "x12", "--claims", "10", "--bundle-size", "10", "--seed", &seed.to_string()];
                        requests.push(Keyed {
                            path: "/v1/claims/x12",
                            content_type: "application/edi-x12",
                            key: format!("{run}-file-{file_idx}"),
                            body: x12_file(up.command(&args), 10, seed).await?,
                        });
                    }
                    requests
                }
            };
            let claims_each = if format == "fhir" { BUNDLE_CLAIMS } else { 10 };
            // One at a time: the third request reaches the point and the process aborts there.
            let target = Target::of_embedded(&up);
            let mut first = Vec::new();
            for request in &requests {
                first.push(match send(&target, request).await? {
                    Sent::Answer(answer) => Some(answer),
                    Sent::InFlight(_) => anyhow::bail!("{run}: 409 on a first send"),
                    Sent::Lost => None,
                });
            }
            up.wait_exit(Duration::from_secs(30)).await.with_context(|| format!("{run}: the process did not stop at {point}"))?;
            assert!(first[0].is_some() && first[1].is_some() && first[2].is_none(), "{run}: the third request died at {point}");
            up.spawn(&[]).await?;
            let answers = retry_all(&Target::of_embedded(&up), &requests, &first, Instant::now()).await?;
            let ids = all_claim_ids(&answers, claims_each);
            n_claims += ids.len() as i64;
            assert_eq!(up.count("intake", "claims").await?, n_claims, "{run}: exactly one copy of each claim");
            if format == "x12" {
                for answer in &answers {
                    assert!(answer["ta1"].is_null(), "{run}: a retry after a crash is not a repeated interchange: {answer}");
                    assert_eq!(answer["ack_277ca"].as_str().unwrap_or_default().matches("STC*A1:20").count(), claims_each, "{run}: {answer}");
                }
            }
        }
    }
    up.wait_settled(n_claims, SETTLE_TIMEOUT).await?;
    let (verified, output) = up.verify().await?;
    assert!(verified, "{output}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_intake_killed_during_keyed_submissions_frees_its_keys_within_the_lease() -> anyhow::Result<()> {
    let mut stack = Stack::start(&[]).await?;
    let requests = fhir_requests("PK");
    let answered = Arc::new(AtomicUsize::new(0));
    let target = Target::of_stack(&stack);
    let sending = tokio::spawn({
        let (requests, answered) = (requests.clone(), answered.clone());
        async move { send_all_once(&target, &requests, answered).await }
    });
    wait_for(&answered, kill_after_answers()).await;
    stack.kill("intake").await?;
    let killed_at = Instant::now();
    let first = sending.await??;
    let unanswered = first.iter().filter(|a| a.is_none()).count();
    println!("{unanswered} of {BUNDLES} requests got no answer before the crash");
    assert!(unanswered > 0, "the crash came after every answer: nothing was tested");
    stack.spawn("intake", &[]).await?;
    // On Postgres another intake may hold keys: the dead one's are free once their leases run out.
    let answers = retry_all(&Target::of_stack(&stack), &requests, &first, killed_at + LEASE_BOUND).await?;
    let ids = all_claim_ids(&answers, BUNDLE_CLAIMS);
    let n_claims = (BUNDLES * BUNDLE_CLAIMS) as i64;
    assert_eq!(ids.len() as i64, n_claims);
    assert_eq!(stack.count("intake", "claims").await?, n_claims, "exactly one copy of each claim");
    stack.wait_settled(n_claims, SETTLE_TIMEOUT).await?;

    // X12 with the process dying with the claims written but not committed, then committed but not answered.
    let mut x12_claims = 0i64;
    for (scenario, point) in ["intake_stored_before_commit", "intake_committed_before_answer"].iter().enumerate() {
        stack.kill("intake").await?;
        stack.spawn("intake", &[("CLAIMTRAIL_KILL_POINT", point)]).await?;
        let seed = 500 + scenario as u64;
        let args = ["generate", "--format", "x12", "--claims", "10", "--bundle-size", "10", "--seed", &seed.to_string()];
        let request = Keyed {
            path: "/v1/claims/x12",
            content_type: "application/edi-x12",
            key: format!("PX-{scenario}"),
            body: x12_file(stack.command(&args), 10, seed).await?,
        };
        assert!(matches!(send(&Target::of_stack(&stack), &request).await?, Sent::Lost), "{point}: the process died before answering");
        stack.wait_exit("intake", Duration::from_secs(30)).await?;
        let died_at = Instant::now();
        stack.spawn("intake", &[]).await?;
        let answer = send_until_answered(&Target::of_stack(&stack), &request, died_at + LEASE_BOUND).await?;
        assert!(answer["ta1"].is_null(), "{point}: {answer}");
        assert_eq!(claim_ids(&answer).len(), 10, "{answer}");
        x12_claims += 10;
        assert_eq!(stack.count("intake", "claims").await?, n_claims + x12_claims, "{point}: exactly one copy of each claim");
        let again = send_until_answered(&Target::of_stack(&stack), &request, Instant::now()).await?;
        assert_eq!(claim_ids(&again), claim_ids(&answer), "{point}: then the stored answer");
    }

    // Every claim decided (the generated X12 claims are for the demo world: most are rejected here), and
    // every event anchored and checkpointed.
    let undecided = format!("SELECT COUNT(*) FROM {} WHERE status NOT IN ('adjudicated', 'rejected')", stack.table("intake", "claims"));
    claimtrail_e2e::wait_until(Duration::from_secs(120), || async {
        let (n, ledger, checkpoint) = (stack.scalar(&undecided).await?, stack.ledger_size().await?, stack.checkpoint_size().await?);
        Ok((n == 0 && ledger == checkpoint, format!("{n} claims not decided, ledger {ledger}, checkpoint {checkpoint}")))
    })
    .await?;
    let (verified, output) = stack.verify(&[]).await?;
    assert!(verified, "{output}");
    stack.cleanup().await
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_requests_with_one_key_store_one_set_of_claims() -> anyhow::Result<()> {
    let stack = Stack::start(&[]).await?;
    let claims = (0..100).map(|n| sample_claim(&format!("PCN-C-{n}"))).collect();
    let request = Keyed { path: "/v1/claims", content_type: "application/fhir+json", key: "same-key".into(), body: serde_json::to_vec(&bundle(claims))? };
    let target = Target::of_stack(&stack);
    let sends: Vec<_> = (0..8).map(|_| (target.clone(), request.clone())).map(|(t, r)| tokio::spawn(async move { send(&t, &r).await })).collect();
    let (mut answers, mut in_flight) = (Vec::new(), 0);
    for sent in sends {
        match sent.await?? {
            Sent::Answer(answer) => answers.push(claim_ids(&answer)),
            Sent::InFlight(retry_after) => {
                assert!((1..=5).contains(&retry_after), "Retry-After {retry_after}");
                in_flight += 1;
            }
            Sent::Lost => anyhow::bail!("a request got no answer"),
        }
    }
    println!("{} answered, {in_flight} in flight", answers.len());
    assert!(!answers.is_empty());
    assert!(answers.iter().all(|ids| ids == &answers[0] && ids.len() == 100), "every 202 gives the same claim ids");
    assert_eq!(stack.count("intake", "claims").await?, 100, "one set of claims");
    let replay = send_until_answered(&target, &request, Instant::now() + LEASE_BOUND).await?;
    assert_eq!(claim_ids(&replay), answers[0]);
    stack.cleanup().await
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idempotency_key_on_x12_replays_the_answer_and_refuses_another_file() -> anyhow::Result<()> {
    let up = Embedded::start(&[]).await?;
    let args = ["generate", "--format", "x12", "--claims", "5", "--bundle-size", "5", "--seed", "11"];
    let file = x12_file(up.command(&args), 5, 11).await?;
    let request = Keyed { path: "/v1/claims/x12", content_type: "application/edi-x12", key: "x12-key".into(), body: file };
    let target = Target::of_embedded(&up);
    let Sent::Answer(first) = send(&target, &request).await? else { anyhow::bail!("no answer") };
    let Sent::Answer(again) = send(&target, &request).await? else { anyhow::bail!("no answer") };
    assert_eq!(first, again, "the same key and file: the same answer, acknowledgments included");
    assert_eq!(claim_ids(&first).len(), 5);
    assert!(again["ta1"].is_null(), "a replay is not a repeated interchange: {again}");
    assert_eq!(up.count("intake", "claims").await?, 5);
    let args = ["generate", "--format", "x12", "--claims", "5", "--bundle-size", "5", "--seed", "12"];
    let other = Keyed { body: x12_file(up.command(&args), 5, 12).await?, ..request.clone() };
    let response = up
        .client
        .post(format!("{}/v1/claims/x12", up.url))
        .bearer_auth(&up.api_key)
        .header("content-type", "application/edi-x12")
        .header("idempotency-key", "x12-key")
        .body(other.body)
        .send()
        .await?;
    assert_eq!(response.status(), 422, "the key was used with another file");
    assert_eq!(up.count("intake", "claims").await?, 5);
    Ok(())
}
