//! `claimtrail verify <URL>` against a hostile server: a ledger server that
//! lies in each way the ledger issue names (wrong sizes, truncated proofs,
//! bad or duplicate signature lines, a changed key) and some more (pages that
//! do not move forward, an endless answer, a rollback and a fork signed with
//! the real log key). Every lie must fail verification with a message that
//! names it; the honest server must pass, its proofs included.

use std::process::Output;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Query, State};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use claimtrail_e2e::claimtrail_bin;
use claimtrail_ledger::hash::{CHAIN_SEED, Hash, chain_next, leaf_hash};
use claimtrail_ledger::leaf::LeafRecord;
use claimtrail_ledger::merkle;
use claimtrail_ledger::note::{Checkpoint, SignerKey};
use serde_json::{Value, json};

const ORIGIN: &str = "claimtrail.test/hostile";
const ENTRIES: u64 = 300;
const CHECKPOINTS: [u64; 3] = [100, 200, 300];

fn log_key() -> SignerKey {
    SignerKey::from_seed(ORIGIN, &[7u8; 32]).unwrap()
}

fn other_key() -> SignerKey {
    SignerKey::from_seed(ORIGIN, &[8u8; 32]).unwrap()
}

fn record(index: u64, tag: &str) -> Vec<u8> {
    LeafRecord {
        index,
        event_id: format!("00000000-0000-7000-8000-{index:012}"),
        event_type: "claim.submitted.v1".into(),
        producer: "intake/intake-test".into(),
        occurred_at: "2026-11-25T00:00:00Z".into(),
        commitment: hex::encode(leaf_hash(format!("{tag} {index}").as_bytes())),
        batch: None,
        verified: None,
    }
    .to_bytes()
}

/// What the server serves, and how it lies.
#[derive(Clone)]
struct Ledger {
    leaves: Vec<Vec<u8>>,
    notes: Vec<(u64, String)>,
    keys: String,
    lie: Lie,
}

#[derive(Clone, Copy, PartialEq)]
enum Lie {
    Nothing,
    /// Serves fewer entries than the checkpoints cover.
    TruncatedEntries(u64),
    /// Flips a byte in every inclusion proof.
    WrongInclusionProof,
    /// Drops the last hash of every consistency proof.
    TruncatedConsistencyProof,
    /// Answers an inclusion proof for another tree size.
    InclusionProofOfAnotherSize,
    /// Ignores `from_size` and always answers every checkpoint.
    CheckpointPagesRepeat,
    /// An answer far larger than any honest one.
    EndlessCheckpoints,
}

impl Ledger {
    /// An honest ledger of `ENTRIES` entries with `tag` in its commitments,
    /// its checkpoints signed by `signer`.
    fn new(tag: &str, signer: &SignerKey, size: u64) -> Ledger {
        let leaves: Vec<Vec<u8>> = (0..size).map(|index| record(index, tag)).collect();
        let mut ledger = Ledger { leaves, notes: Vec::new(), keys: format!("{} log\n", signer.verifier()), lie: Lie::Nothing };
        ledger.sign(signer);
        ledger
    }

    fn hashes(&self) -> Vec<Hash> {
        self.leaves.iter().map(|leaf| leaf_hash(leaf)).collect()
    }

    fn sign(&mut self, signer: &SignerKey) {
        let hashes = self.hashes();
        self.notes = CHECKPOINTS
            .iter()
            .filter(|&&size| size <= hashes.len() as u64)
            .map(|&size| {
                let checkpoint = Checkpoint { origin: ORIGIN.into(), size, root: merkle::root(&hashes[..size as usize]), extensions: vec![] };
                (size, checkpoint.sign(&[signer]).unwrap())
            })
            .collect();
    }

    fn with_lie(mut self, lie: Lie) -> Ledger {
        self.lie = lie;
        self
    }

    /// Rewrites the latest note's signature block with `edit`.
    fn edit_latest_note(mut self, edit: impl Fn(&str) -> String) -> Ledger {
        let (_, note) = self.notes.last_mut().unwrap();
        *note = edit(note);
        self
    }
}

type Shared = State<Arc<Ledger>>;

#[derive(serde::Deserialize)]
struct Params {
    from_size: Option<u64>,
    start: Option<u64>,
    end: Option<u64>,
    index: Option<u64>,
    size: Option<u64>,
    from: Option<u64>,
    to: Option<u64>,
}

async fn keys(State(ledger): Shared) -> String {
    ledger.keys.clone()
}

async fn checkpoints(State(ledger): Shared, Query(params): Query<Params>) -> String {
    if ledger.lie == Lie::EndlessCheckpoints {
        return "x".repeat(65 << 20);
    }
    let from_size = if ledger.lie == Lie::CheckpointPagesRepeat { 0 } else { params.from_size.unwrap_or(0) };
    let list: Vec<Value> = ledger.notes.iter().filter(|(size, _)| *size >= from_size).map(|(size, note)| json!({"size": size, "note": note})).collect();
    json!({ "checkpoints": list }).to_string()
}

async fn entries(State(ledger): Shared, Query(params): Query<Params>) -> Json<Value> {
    let served = match ledger.lie {
        Lie::TruncatedEntries(n) => n,
        _ => ledger.leaves.len() as u64,
    };
    let start = params.start.unwrap_or(0).min(served);
    let end = params.end.unwrap_or(start + 1_000).min(served).min(start + 1_000);
    let mut chain = CHAIN_SEED;
    let mut list = Vec::new();
    for (index, leaf) in ledger.leaves.iter().enumerate().take(end as usize) {
        chain = chain_next(&chain, &leaf_hash(leaf));
        if index as u64 >= start {
            list.push(json!({"index": index, "event_id": "x", "leaf": BASE64.encode(leaf), "chain": BASE64.encode(chain)}));
        }
    }
    Json(json!({ "entries": list }))
}

fn encode(hashes: Vec<Hash>) -> Vec<String> {
    hashes.iter().map(|hash| BASE64.encode(hash)).collect()
}

async fn inclusion(State(ledger): Shared, Query(params): Query<Params>) -> Json<Value> {
    let (index, mut size) = (params.index.unwrap(), params.size.unwrap());
    if ledger.lie == Lie::InclusionProofOfAnotherSize {
        size -= 1;
    }
    let mut proof = merkle::inclusion_proof(index, size, &ledger.hashes()).unwrap();
    if ledger.lie == Lie::WrongInclusionProof {
        proof[0][3] ^= 1;
    }
    Json(json!({"index": index, "size": size, "hashes": encode(proof)}))
}

async fn consistency(State(ledger): Shared, Query(params): Query<Params>) -> Json<Value> {
    let (from, to) = (params.from.unwrap(), params.to.unwrap());
    let mut proof = merkle::consistency_proof(from, to, &ledger.hashes()).unwrap();
    if ledger.lie == Lie::TruncatedConsistencyProof {
        proof.pop();
    }
    Json(json!({"from": from, "to": to, "hashes": encode(proof)}))
}

/// Serves `ledger` on a free port until the test ends.
async fn serve(ledger: Ledger) -> anyhow::Result<String> {
    let app = axum::Router::new()
        .route("/v1/ledger/keys", get(keys))
        .route("/v1/ledger/checkpoints", get(checkpoints))
        .route("/v1/ledger/entries", get(entries))
        .route("/v1/ledger/proofs/inclusion", get(inclusion))
        .route("/v1/ledger/proofs/consistency", get(consistency))
        .with_state(Arc::new(ledger));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(url)
}

/// Runs `claimtrail verify` against `ledger` with `args`; a verifier that hangs fails the test.
async fn verify(ledger: Ledger, args: &[&str]) -> anyhow::Result<(bool, String)> {
    let url = serve(ledger).await?;
    let mut command = tokio::process::Command::new(claimtrail_bin());
    command.arg("verify").arg(&url).args(args).kill_on_drop(true);
    let output: Output = tokio::time::timeout(Duration::from_secs(60), command.output()).await??;
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    Ok((output.status.success(), text))
}

fn real_key_arg() -> String {
    log_key().verifier().to_string()
}

async fn expect_failure(ledger: Ledger, args: &[&str], needle: &str) -> anyhow::Result<()> {
    let (ok, text) = verify(ledger, args).await?;
    assert!(!ok, "verify passed against a lying server (expected `{needle}`):\n{text}");
    assert!(text.contains(needle), "expected `{needle}` in:\n{text}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_honest_server_passes_with_its_proofs_checked() -> anyhow::Result<()> {
    let key = real_key_arg();
    let (ok, text) = verify(Ledger::new("honest", &log_key(), ENTRIES), &["--key", &key]).await?;
    assert!(ok, "{text}");
    assert!(text.contains("ledger verified: 300 entries, 3 checkpoints"), "{text}");
    assert!(text.contains("verified: 8 inclusion, 2 consistency"), "{text}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_sizes_and_bad_proofs_are_named() -> anyhow::Result<()> {
    let key = real_key_arg();
    let args = ["--key", key.as_str()];
    let honest = || Ledger::new("honest", &log_key(), ENTRIES);
    expect_failure(honest().with_lie(Lie::TruncatedEntries(150)), &args, "first bad index: 150").await?;
    expect_failure(honest().with_lie(Lie::WrongInclusionProof), &args, "proof of inclusion of entry 0 in size 300 does not verify").await?;
    expect_failure(honest().with_lie(Lie::InclusionProofOfAnotherSize), &args, "proof of inclusion of entry 0 in size 300 does not verify").await?;
    expect_failure(honest().with_lie(Lie::TruncatedConsistencyProof), &args, "proof of consistency from size 100 to 300 does not verify").await?;
    expect_failure(honest().with_lie(Lie::CheckpointPagesRepeat), &args, "its pages do not move forward").await?;
    expect_failure(honest().with_lie(Lie::EndlessCheckpoints), &args, "answered more than").await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_duplicate_and_foreign_signature_lines_are_refused() -> anyhow::Result<()> {
    let key = real_key_arg();
    let args = ["--key", key.as_str()];
    let honest = || Ledger::new("honest", &log_key(), ENTRIES);
    // A signature line whose signature bytes were changed.
    let garbled = honest().edit_latest_note(|note| {
        let (body, line) = note.trim_end().rsplit_once('\n').unwrap();
        let (prefix, signature) = line.rsplit_once(' ').unwrap();
        let mut bytes = BASE64.decode(signature).unwrap();
        bytes[10] ^= 0xff;
        format!("{body}\n{prefix} {}\n", BASE64.encode(bytes))
    });
    expect_failure(garbled, &args, "does not verify").await?;
    // A line that is not a signature line.
    expect_failure(honest().edit_latest_note(|note| format!("{note}— {ORIGIN} not-base64!\n")), &args, "malformed signature line").await?;
    // The same signature twice.
    let doubled = honest().edit_latest_note(|note| {
        let line = note.trim_end().rsplit_once('\n').unwrap().1.to_owned();
        format!("{note}{line}\n")
    });
    expect_failure(doubled, &args, "duplicate signature").await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_key_a_rollback_and_a_fork_are_caught() -> anyhow::Result<()> {
    let key = real_key_arg();
    let dir = tempfile::tempdir()?;
    let state = dir.path().join("state.json");
    let state_arg = state.to_str().unwrap();

    // The operator re-signs a rewritten ledger with a key of its own.
    let rewritten = Ledger::new("rewritten", &other_key(), ENTRIES);
    expect_failure(rewritten.clone(), &["--key", &key], "not signed by any trusted key").await?;

    // A verifier that trusted the served key before, with a state file, notices it changed.
    let (ok, text) = verify(Ledger::new("honest", &log_key(), ENTRIES), &["--state", state_arg]).await?;
    assert!(ok, "{text}");
    expect_failure(rewritten, &["--state", state_arg], "the log key changed").await?;

    // With the real log key: serving fewer entries and older checkpoints than verified before.
    expect_failure(Ledger::new("honest", &log_key(), 200), &["--key", &key, "--state", state_arg], "first bad index: 200").await?;

    // With the real log key: a rewritten history, consistent in itself, passes alone...
    let mut fork = Ledger::new("honest", &log_key(), ENTRIES);
    fork.leaves[150] = record(150, "changed");
    fork.sign(&log_key());
    let (ok, text) = verify(fork.clone(), &["--key", &key]).await?;
    assert!(ok, "a self-consistent rewrite verifies without history:\n{text}");
    // ...but not against the checkpoint remembered from before.
    let (ok, text) = verify(fork, &["--key", &key, "--state", state_arg]).await?;
    assert!(!ok, "{text}");
    assert!(text.contains("first bad index"), "{text}");
    Ok(())
}
