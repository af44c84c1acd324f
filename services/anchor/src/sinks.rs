//! Anchor sinks: where each signed checkpoint goes besides the anchor's own
//! table, behind one trait, [`AnchorSink`].
//!
//! - [`DirectorySink`] writes every checkpoint note to an append-only
//!   directory (`<size>.checkpoint`, created once, never overwritten), e.g. a
//!   WORM-mounted volume or a bucket synced elsewhere.
//! - [`WitnessSink`] asks a C2SP tlog-witness (`claimtrail serve witness`, or
//!   any witness that follows this SHA3-256 tree) to cosign, with a
//!   consistency proof from the size the witness last cosigned, and returns
//!   the verified cosignature line.
//!
//! Other anchors plug in the same way. An RFC 3161 timestamp authority sink
//! would send a TimeStampReq over SHA3-256 of the note body and keep the
//! TimeStampResp beside the checkpoint (the TSA's signature then dates the
//! tree head); a public-chain sink would publish the root in a transaction
//! and keep its id. Both return `Ok(None)`: they add evidence, not note
//! signatures.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context as _;
use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use claimtrail_ledger::hash::Hash;
use claimtrail_ledger::note::{Checkpoint, CosignatureVerifier};

/// Consistency proofs between two sizes of this ledger.
#[async_trait]
pub trait ProofSource: Send + Sync {
    async fn consistency(&self, old_size: u64, new_size: u64) -> anyhow::Result<Vec<Hash>>;
}

/// A signed checkpoint handed to the sinks.
pub struct Signed<'a> {
    pub checkpoint: &'a Checkpoint,
    /// The signed note, as stored.
    pub note: &'a str,
}

/// A destination for signed checkpoints.
#[async_trait]
pub trait AnchorSink: Send + Sync {
    /// For logs and metrics, e.g. `witness witness.example/w1`.
    fn describe(&self) -> String;

    /// Delivers `signed`. A witness answers with its cosignature line (with
    /// the final newline), checked against its key; other sinks with `None`.
    async fn anchor(&self, signed: &Signed<'_>, proofs: &dyn ProofSource) -> anyhow::Result<Option<String>>;

    /// A witness's cosignature key, by which the quorum counts it; none for other sinks.
    fn cosigner(&self) -> Option<&CosignatureVerifier> {
        None
    }
}

/// Writes each checkpoint note once to `<dir>/<size>.checkpoint`.
pub struct DirectorySink {
    dir: PathBuf,
}

impl DirectorySink {
    pub fn new(dir: PathBuf) -> anyhow::Result<DirectorySink> {
        std::fs::create_dir_all(&dir).with_context(|| format!("creating the anchor directory {}", dir.display()))?;
        Ok(DirectorySink { dir })
    }
}

#[async_trait]
impl AnchorSink for DirectorySink {
    fn describe(&self) -> String {
        format!("directory {}", self.dir.display())
    }

    async fn anchor(&self, signed: &Signed<'_>, _proofs: &dyn ProofSource) -> anyhow::Result<Option<String>> {
        use std::io::Write as _;
        let path = self.dir.join(format!("{}.checkpoint", signed.checkpoint.size));
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(mut file) => {
                file.write_all(signed.note.as_bytes())?;
                file.sync_all()?;
                Ok(None)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let existing = std::fs::read_to_string(&path)?;
                anyhow::ensure!(
                    existing == signed.note,
                    "{} already holds another checkpoint of size {}: the ledger was rewritten (the directory is append-only; not overwritten)",
                    path.display(),
                    signed.checkpoint.size
                );
                Ok(None)
            }
            Err(e) => Err(e).with_context(|| format!("writing {}", path.display())),
        }
    }
}

/// A C2SP tlog-witness: `POST <url>/add-checkpoint`.
pub struct WitnessSink {
    url: String,
    verifier: CosignatureVerifier,
    client: reqwest::Client,
    /// The size the witness last cosigned, when known.
    known_size: Mutex<Option<u64>>,
}

impl WitnessSink {
    pub fn new(url: &str, verifier: CosignatureVerifier) -> anyhow::Result<WitnessSink> {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
        Ok(WitnessSink { url: url.trim_end_matches('/').to_owned(), verifier, client, known_size: Mutex::new(None) })
    }

    fn request_body(old_size: u64, proof: &[Hash], note: &str) -> String {
        let mut body = format!("old {old_size}\n");
        for hash in proof {
            body.push_str(&BASE64.encode(hash));
            body.push('\n');
        }
        body.push('\n');
        body.push_str(note);
        body
    }
}

#[async_trait]
impl AnchorSink for WitnessSink {
    fn describe(&self) -> String {
        format!("witness {} at {}", self.verifier.name(), self.url)
    }

    fn cosigner(&self) -> Option<&CosignatureVerifier> {
        Some(&self.verifier)
    }

    async fn anchor(&self, signed: &Signed<'_>, proofs: &dyn ProofSource) -> anyhow::Result<Option<String>> {
        let size = signed.checkpoint.size;
        let mut old_size = self.known_size.lock().ok().and_then(|known| *known).unwrap_or(0);
        // One retry: a 409 tells the size the witness holds.
        for _ in 0..2 {
            anyhow::ensure!(
                old_size <= size,
                "witness {} has cosigned size {old_size}, above this checkpoint's {size}: the ledger was rolled back",
                self.verifier.name()
            );
            let proof = if old_size == 0 || old_size == size { Vec::new() } else { proofs.consistency(old_size, size).await? };
            let response = self
                .client
                .post(format!("{}/add-checkpoint", self.url))
                .body(WitnessSink::request_body(old_size, &proof, signed.note))
                .send()
                .await
                .with_context(|| format!("reaching witness {} at {}", self.verifier.name(), self.url))?;
            let status = response.status();
            let content_type = response.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
            let text = response.text().await.unwrap_or_default();
            if status == reqwest::StatusCode::CONFLICT && content_type.starts_with("text/x.tlog.size") {
                old_size = text.trim().parse().with_context(|| format!("witness {} answered 409 with size `{}`", self.verifier.name(), text.trim()))?;
                continue;
            }
            anyhow::ensure!(status.is_success(), "witness {} refused checkpoint {size} with {status}: {}", self.verifier.name(), text.trim());
            let body = signed.checkpoint.to_body();
            let line = text
                .lines()
                .find(|line| self.verifier.verify_line(&body, line).is_ok())
                .with_context(|| format!("witness {} answered without a valid cosignature by its key", self.verifier.name()))?;
            if let Ok(mut known) = self.known_size.lock() {
                *known = Some(size);
            }
            return Ok(Some(format!("{line}\n")));
        }
        anyhow::bail!("witness {} keeps answering 409 for checkpoint {size}", self.verifier.name())
    }
}

/// The sinks configured in the settings: the directory (if any) and one witness per URL and key.
pub fn from_settings(settings: &claimtrail_runtime::ServeSettings) -> anyhow::Result<Vec<Box<dyn AnchorSink>>> {
    let mut sinks: Vec<Box<dyn AnchorSink>> = Vec::new();
    if let Some(dir) = &settings.anchor.anchor_dir {
        sinks.push(Box::new(DirectorySink::new(dir.clone())?));
    }
    let urls: Vec<&String> = settings.anchor.witness_urls.iter().filter(|u| !u.trim().is_empty()).collect();
    let all_keys = settings.anchor.all_witness_keys()?;
    let keys: Vec<&String> = all_keys.iter().collect();
    anyhow::ensure!(urls.len() == keys.len(), "{} witness URLs but {} witness keys: give one key per URL, in the same order", urls.len(), keys.len());
    let mut distinct = std::collections::BTreeSet::new();
    for (url, key) in urls.into_iter().zip(keys) {
        let verifier = CosignatureVerifier::parse(key.trim()).with_context(|| format!("`{key}` is not a witness cosignature key (C2SP vkey, type 0x04)"))?;
        distinct.insert((verifier.name().to_owned(), verifier.key_id()));
        sinks.push(Box::new(WitnessSink::new(url.trim(), verifier)?));
    }
    // The quorum counts witness keys, not URLs: one witness listed twice is one cosignature.
    anyhow::ensure!(
        settings.anchor.witness_quorum <= distinct.len(),
        "a quorum of {} cosignatures needs at least that many distinct witness keys, not {}",
        settings.anchor.witness_quorum,
        distinct.len()
    );
    Ok(sinks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use claimtrail_ledger::note::Cosigner;

    #[test]
    fn a_quorum_above_the_distinct_witness_keys_is_refused_at_start() {
        let one = Cosigner::generate("witness.example/w1").unwrap().verifier().to_string();
        let two = Cosigner::generate("witness.example/w2").unwrap().verifier().to_string();
        let mut settings = claimtrail_runtime::ServeSettings::with_urls("postgres://unused", "nats://unused", "");
        // One witness listed twice, at two addresses: one key.
        settings.anchor.witness_urls = vec!["http://127.0.0.1:1".into(), "http://127.0.0.2:1".into()];
        settings.anchor.witness_keys = vec![one.clone(), one.clone()];
        settings.anchor.witness_quorum = 2;
        let error = from_settings(&settings).err().expect("two URLs of one witness cannot make a quorum of 2");
        assert!(error.to_string().contains("distinct witness keys, not 1"), "{error}");
        settings.anchor.witness_quorum = 1;
        assert_eq!(from_settings(&settings).unwrap().len(), 2);
        settings.anchor.witness_keys = vec![one, two];
        settings.anchor.witness_quorum = 2;
        assert_eq!(from_settings(&settings).unwrap().len(), 2);
    }
}
