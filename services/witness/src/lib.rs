//! A transparency-log witness (`claimtrail serve witness`) speaking the C2SP
//! tlog-witness protocol (<https://c2sp.org/tlog-witness>) over Claimtrail's
//! SHA3-256 Merkle tree, answering with C2SP tlog-cosignature/v1 lines.
//!
//! A witness is run by someone other than the ledger's operator. For each log
//! it trusts (by its checkpoint key, named after the log's origin) it keeps
//! the latest checkpoint it cosigned, and cosigns a new one only when the log
//! proves it consistent with that one. So a log that forks (shows two
//! different trees of one size) or rolls back (shrinks, then grows again
//! from another tree) cannot get the cosignatures verifiers require.
//!
//! Only a contradiction is evidence: a signed checkpoint of the held size
//! with another root (`fork`), or a consistency proof from the held
//! checkpoint that fails (`inconsistent`). Such a request is kept in
//! `evidence`, counted in `claimtrail_witness_alerts_total` and logged at
//! error level. An older checkpoint proves nothing against the held one (the
//! log signed it once, genuinely): it gets the spec's 409 with the held size
//! and nothing is stored.
//!
//! Anyone can post, so what a caller can make the witness store and compute
//! is bounded ([`Limits`]): the body size (413), the requests per second per
//! client address (429 with Retry-After) and the evidence rows per origin
//! (beyond it, evidence is counted in
//! `claimtrail_witness_evidence_dropped_total` and not stored).
//!
//! `POST /add-checkpoint`: the body is `old <size>\n`, up to 63 base64
//! consistency-proof lines, an empty line, then the signed checkpoint note.
//! Answers as the spec says: 200 with the cosignature line; 400 malformed or
//! old size above the checkpoint's; 403 no trusted signature; 404 unknown
//! origin; 409 (`text/x.tlog.size`, the size it holds) when the old size is
//! not the one it cosigned last, 409 when the same size comes with another
//! root; 422 when the consistency proof does not verify; 413 and 429 over
//! the limits. The check and the update
//! are one transaction holding the log's row lock, so two requests cannot
//! both advance from the same size.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request as HttpRequest, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use claimtrail_ledger::merkle::verify_consistency;
use claimtrail_ledger::note::{Cosigner, NoteError};
use claimtrail_ledger::{Checkpoint, CheckpointError, Hash, VerifierKey, open_checkpoint};
use claimtrail_runtime::ServeSettings;
use claimtrail_runtime::auth::RateLimiter;
use claimtrail_store::{Migration, Store, StoreConfig, stmt};
use sea_orm::{ConnectionTrait, TransactionTrait, Value};

pub const SERVICE: &str = "witness";

/// Consistency proof lines accepted at most (the spec's limit).
pub const PROOF_LINES_MAX: usize = 63;
/// The witness key's file in the key directory.
pub const KEY_FILE: &str = "witness.key";

pub fn migrations() -> Vec<Migration> {
    vec![
        Migration {
            version: 1,
            name: "cosigned checkpoints and evidence",
            statements: |store| {
                let t = store.types();
                vec![
                    format!(
                        "CREATE TABLE {} (origin TEXT PRIMARY KEY, size {} NOT NULL, root {} NOT NULL, note TEXT NOT NULL, cosigned_at {} NOT NULL DEFAULT {})",
                        store.table("logs"),
                        t.bigint,
                        t.bytes,
                        t.timestamp,
                        t.now
                    ),
                    format!(
                        "CREATE TABLE {} (evidence_id {}, origin TEXT NOT NULL, kind TEXT NOT NULL, detail TEXT NOT NULL, request TEXT NOT NULL, at {} NOT NULL DEFAULT {})",
                        store.table("evidence"),
                        t.id,
                        t.timestamp,
                        t.now
                    ),
                ]
            },
        },
        Migration {
            version: 2,
            name: "evidence counted per origin",
            statements: |store| vec![format!("CREATE INDEX {} ON {} (origin)", store.index("evidence_origin"), store.table("evidence"))],
        },
    ]
}

/// What an unauthenticated caller can make the witness store and compute.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The largest add-checkpoint body accepted (413 beyond).
    pub body_bytes_max: usize,
    /// Requests per second per client address, bursts up to twice that (429
    /// with Retry-After beyond); 0: no limit.
    pub rate_limit_per_second: u32,
    /// Evidence rows kept per origin; beyond it a contradiction is still
    /// refused, logged and counted, but not stored.
    pub evidence_per_origin_max: u64,
}

impl Limits {
    /// The limits of the serve settings (`CLAIMTRAIL_WITNESS_*`).
    pub fn from_settings(settings: &ServeSettings) -> Limits {
        Limits {
            body_bytes_max: settings.witness.witness_body_bytes_max,
            rate_limit_per_second: settings.witness.witness_rate_limit_per_second,
            evidence_per_origin_max: settings.witness.witness_evidence_per_origin_max,
        }
    }
}

/// The witness: its key, the logs it trusts, its store.
#[derive(Clone)]
pub struct Witness {
    store: Store,
    cosigner: Arc<Cosigner>,
    logs: Arc<Vec<VerifierKey>>,
    limits: Limits,
    /// Per client address.
    rate_limiter: Arc<RateLimiter>,
}

/// Loads the witness key or creates it on first start; writes the vkey beside it.
pub fn load_or_create_key(key_dir: &Path, name: &str) -> anyhow::Result<Cosigner> {
    let path = key_dir.join(KEY_FILE);
    let cosigner = match std::fs::read_to_string(&path) {
        Ok(text) => {
            let cosigner = Cosigner::parse(&text).with_context(|| format!("{} is not a cosigner key", path.display()))?;
            anyhow::ensure!(cosigner.name() == name, "{} is the key of `{}`, not of `{name}`", path.display(), cosigner.name());
            cosigner
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(key_dir).with_context(|| format!("creating {}", key_dir.display()))?;
            let cosigner = Cosigner::generate(name).with_context(|| format!("`{name}` cannot name a key"))?;
            let tmp = path.with_extension("tmp");
            std::fs::write(&tmp, cosigner.to_private_key_string() + "\n")?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
            }
            std::fs::rename(&tmp, &path)?;
            cosigner
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    std::fs::write(key_dir.join("witness.vkey"), cosigner.verifier().to_string() + "\n")?;
    Ok(cosigner)
}

impl Witness {
    pub fn new(store: Store, cosigner: Cosigner, logs: Vec<VerifierKey>, limits: Limits) -> Witness {
        let rate_limiter = Arc::new(RateLimiter::new(limits.rate_limit_per_second));
        Witness { store, cosigner: Arc::new(cosigner), logs: Arc::new(logs), limits, rate_limiter }
    }

    /// The routes; the two that reach the database are rate-limited per
    /// client address (`ConnectInfo<SocketAddr>`, see [`run`]).
    pub fn router(self) -> Router {
        claimtrail_runtime::http::metrics_handle();
        let limited = Router::new()
            .route("/add-checkpoint", post(add_checkpoint))
            .route("/v1/witness/logs", get(list_logs))
            .route_layer(axum::middleware::from_fn_with_state(self.clone(), rate_limit));
        Router::new()
            .merge(limited)
            .route("/healthz", get(|| async { (StatusCode::OK, "ok\n") }))
            .route("/readyz", get(readyz))
            .route("/metrics", get(|| async { claimtrail_runtime::http::metrics_handle().render() }))
            .with_state(self)
    }

    /// Handles one add-checkpoint body; the answer as the spec wants it.
    pub async fn add(&self, body: &str) -> Result<String, Refusal> {
        let request = parse_request(body)?;
        let trusted: Vec<VerifierKey> = self.logs.iter().filter(|key| key.name() == request.origin).cloned().collect();
        if trusted.is_empty() {
            return Err(Refusal::new(StatusCode::NOT_FOUND, format!("this witness does not follow a log with origin `{}`", request.origin)));
        }
        let opened = open_checkpoint(&request.note, &trusted).map_err(|e| match e {
            CheckpointError::Note(NoteError::NoTrustedSignature | NoteError::InvalidSignature { .. }) => {
                Refusal::new(StatusCode::FORBIDDEN, format!("no signature by a trusted key of `{}` verifies", request.origin))
            }
            other => Refusal::bad_request(format!("the checkpoint is malformed: {other}")),
        })?;
        let checkpoint = opened.checkpoint;
        if request.old_size > checkpoint.size {
            return Err(Refusal::bad_request(format!("old size {} is above the checkpoint size {}", request.old_size, checkpoint.size)));
        }
        if request.old_size == 0 && !request.proof.is_empty() {
            return Err(Refusal::bad_request("a request from old size 0 carries no consistency proof"));
        }
        self.advance(&checkpoint, &request, body).await
    }

    /// The check against the stored state and the update, atomically.
    async fn advance(&self, checkpoint: &Checkpoint, request: &Request, body: &str) -> Result<String, Refusal> {
        let store = &self.store;
        let logs = store.table("logs");
        let tx = store.db().begin().await.map_err(Refusal::internal)?;
        let lock = if store.is_postgres() { " FOR UPDATE" } else { "" };
        let row = tx
            .query_one_raw(stmt(store, format!("SELECT size, root FROM {logs} WHERE origin = $1{lock}"), vec![Value::from(checkpoint.origin.clone())]))
            .await
            .map_err(Refusal::internal)?;
        let held = match row {
            Some(row) => {
                let size: i64 = row.try_get_by_index(0).map_err(Refusal::internal)?;
                let root: Vec<u8> = row.try_get_by_index(1).map_err(Refusal::internal)?;
                Some((size as u64, Hash::try_from(root.as_slice()).map_err(|_| Refusal::internal("a stored root is not 32 bytes"))?))
            }
            None => None,
        };
        match judge(held, request.old_size, &request.proof, checkpoint) {
            // Dropping the transaction rolls it back: nothing is stored.
            Verdict::Refuse(refusal) => return Err(refusal),
            Verdict::Contradiction { kind, detail, refusal } => {
                self.keep_evidence(&tx, &checkpoint.origin, kind, detail, body).await?;
                tx.commit().await.map_err(Refusal::internal)?;
                return Err(refusal);
            }
            Verdict::Cosign => {}
        }
        let timestamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let cosignature = self.cosigner.cosign(&checkpoint.to_body(), timestamp);
        let note = format!("{}{cosignature}", request.note);
        tx.execute_raw(stmt(
            store,
            format!(
                "INSERT INTO {logs} (origin, size, root, note) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root = excluded.root, note = excluded.note, cosigned_at = {}",
                store.types().now
            ),
            vec![Value::from(checkpoint.origin.clone()), Value::from(checkpoint.size as i64), Value::from(checkpoint.root.to_vec()), Value::from(note)],
        ))
        .await
        .map_err(Refusal::internal)?;
        tx.commit().await.map_err(Refusal::internal)?;
        metrics::counter!("claimtrail_witness_cosigned_total", "origin" => checkpoint.origin.clone()).increment(1);
        metrics::gauge!("claimtrail_witness_log_size", "origin" => checkpoint.origin.clone()).set(checkpoint.size as f64);
        Ok(cosignature)
    }

    /// Raises the alert for a log that contradicts itself and keeps the
    /// request as evidence, unless the origin holds its maximum of evidence
    /// rows already (then only counted). Runs under the log row's lock, so
    /// concurrent requests cannot overshoot the maximum.
    async fn keep_evidence(&self, tx: &impl ConnectionTrait, origin: &str, kind: &'static str, detail: String, request: &str) -> Result<(), Refusal> {
        tracing::error!(origin, kind, detail = %detail, "witness alert: the log is not append-only as cosigned");
        metrics::counter!("claimtrail_witness_alerts_total", "origin" => origin.to_owned(), "kind" => kind).increment(1);
        let store = &self.store;
        let evidence = store.table("evidence");
        let max = self.limits.evidence_per_origin_max;
        let row = tx
            .query_one_raw(stmt(
                store,
                format!("SELECT COUNT(*) FROM (SELECT 1 FROM {evidence} WHERE origin = $1 LIMIT $2) AS kept"),
                vec![Value::from(origin.to_owned()), Value::from(max.min(i64::MAX as u64) as i64)],
            ))
            .await
            .map_err(Refusal::internal)?;
        let kept: i64 = row.map(|row| row.try_get_by_index(0)).transpose().map_err(Refusal::internal)?.unwrap_or(0);
        if kept as u64 >= max {
            tracing::warn!(origin, kind, evidence_per_origin_max = max, "evidence not stored: this origin holds the maximum of evidence rows");
            metrics::counter!("claimtrail_witness_evidence_dropped_total", "origin" => origin.to_owned(), "kind" => kind).increment(1);
            return Ok(());
        }
        tx.execute_raw(stmt(
            store,
            format!("INSERT INTO {evidence} (origin, kind, detail, request) VALUES ($1, $2, $3, $4)"),
            vec![Value::from(origin.to_owned()), Value::from(kind), Value::from(detail), Value::from(request.to_owned())],
        ))
        .await
        .map_err(Refusal::internal)?;
        Ok(())
    }
}

/// What the protocol makes of a request, given the checkpoint held for its origin.
#[derive(Debug)]
enum Verdict {
    /// Cosign it and hold it.
    Cosign,
    /// Refuse it; nothing is stored.
    Refuse(Refusal),
    /// Refuse it and keep it: the log contradicts what the witness cosigned.
    Contradiction { kind: &'static str, detail: String, refusal: Refusal },
}

/// The checks of a verified checkpoint against the held one (size and root;
/// none before first contact), in the spec's order, except that a checkpoint
/// of the held size with another root is a fork whatever old size the request
/// names. An older checkpoint names an old size that is not the held one and
/// gets 409 with the held size: the log signed it genuinely once, and without
/// a proof from it the witness holds nothing it contradicts.
fn judge(held: Option<(u64, Hash)>, old_size: u64, proof: &[Hash], checkpoint: &Checkpoint) -> Verdict {
    let Some((held_size, held_root)) = held else {
        // First contact: trusted as the start, from old size 0 only.
        return if old_size == 0 { Verdict::Cosign } else { Verdict::Refuse(Refusal::size_conflict(0)) };
    };
    if checkpoint.size == held_size && checkpoint.root != held_root {
        let detail = format!("two roots for size {held_size}: cosigned {}, now {}", BASE64.encode(held_root), BASE64.encode(checkpoint.root));
        let refusal = if old_size == held_size {
            Refusal::new(StatusCode::CONFLICT, format!("the log showed another root for size {held_size}: a fork"))
        } else {
            Refusal::size_conflict(held_size)
        };
        return Verdict::Contradiction { kind: "fork", detail, refusal };
    }
    if old_size != held_size {
        return Verdict::Refuse(Refusal::size_conflict(held_size));
    }
    if checkpoint.size == held_size {
        return Verdict::Cosign;
    }
    match verify_consistency(held_size, checkpoint.size, &held_root, &checkpoint.root, proof) {
        Ok(()) => Verdict::Cosign,
        Err(e) => Verdict::Contradiction {
            kind: "inconsistent",
            detail: format!("no consistency from {held_size} to {}: {e}", checkpoint.size),
            refusal: Refusal::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("the consistency proof from {held_size} to {} does not verify: {e}", checkpoint.size),
            ),
        },
    }
}

/// A parsed add-checkpoint body.
#[derive(Debug)]
struct Request {
    old_size: u64,
    proof: Vec<Hash>,
    origin: String,
    /// The signed checkpoint note, as sent.
    note: String,
}

fn parse_request(body: &str) -> Result<Request, Refusal> {
    let (old_line, mut rest) = body.split_once('\n').ok_or_else(|| Refusal::bad_request("the body must start with `old <size>` and a newline"))?;
    let old_size = old_line
        .strip_prefix("old ")
        .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && (digits.len() == 1 || !digits.starts_with('0')))
        .and_then(|digits| digits.parse::<u64>().ok())
        .ok_or_else(|| Refusal::bad_request(format!("`{old_line}` is not `old <decimal size>`")))?;
    let mut proof = Vec::new();
    loop {
        let (line, after) = rest.split_once('\n').ok_or_else(|| Refusal::bad_request("the proof lines must end with an empty line before the checkpoint"))?;
        rest = after;
        if line.is_empty() {
            break;
        }
        if proof.len() == PROOF_LINES_MAX {
            return Err(Refusal::bad_request(format!("more than {PROOF_LINES_MAX} consistency proof lines")));
        }
        let hash = BASE64.decode(line).ok().and_then(|bytes| Hash::try_from(bytes.as_slice()).ok());
        proof.push(hash.ok_or_else(|| Refusal::bad_request(format!("proof line {} is not base64 of 32 bytes", proof.len() + 1)))?);
    }
    let origin = rest.split('\n').next().unwrap_or_default().to_owned();
    if origin.is_empty() {
        return Err(Refusal::bad_request("no checkpoint after the empty line"));
    }
    Ok(Request { old_size, proof, origin, note: rest.to_owned() })
}

/// A refused add-checkpoint, with the status the spec asks for.
#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub message: String,
    /// For 409 on a size mismatch: the size the witness holds (`text/x.tlog.size`).
    pub size: Option<u64>,
}

impl Refusal {
    fn new(status: StatusCode, message: impl Into<String>) -> Refusal {
        Refusal { status, message: message.into(), size: None }
    }

    fn bad_request(message: impl Into<String>) -> Refusal {
        Refusal::new(StatusCode::BAD_REQUEST, message)
    }

    fn size_conflict(size: u64) -> Refusal {
        Refusal { status: StatusCode::CONFLICT, message: format!("{size}\n"), size: Some(size) }
    }

    fn internal(error: impl std::fmt::Display) -> Refusal {
        tracing::error!(error.message = %error, "witness storage failed");
        Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, "the witness could not record the checkpoint; nothing was cosigned")
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self.size {
            Some(size) => (self.status, [(header::CONTENT_TYPE, "text/x.tlog.size")], format!("{size}\n")).into_response(),
            None => (self.status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{}\n", self.message)).into_response(),
        }
    }
}

async fn add_checkpoint(State(witness): State<Witness>, body: Body) -> Response {
    use http_body_util::BodyExt as _;
    let body_bytes_max = witness.limits.body_bytes_max;
    let limited = http_body_util::Limited::new(body, body_bytes_max);
    let bytes = match limited.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Refusal::new(StatusCode::PAYLOAD_TOO_LARGE, format!("the body is over {body_bytes_max} bytes")).into_response(),
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return Refusal::bad_request("the body is not UTF-8").into_response();
    };
    match witness.add(text).await {
        Ok(cosignature) => (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], cosignature).into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

/// Takes a token of the client address's bucket, or answers 429 with
/// Retry-After. Without a peer address (a router served without connect
/// info) all requests share one bucket.
async fn rate_limit(State(witness): State<Witness>, request: HttpRequest, next: Next) -> Response {
    let client = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(peer)| peer.ip().to_string()).unwrap_or_default();
    match witness.rate_limiter.check(&client) {
        Ok(()) => next.run(request).await,
        Err(problem) => {
            let wait_seconds = problem.retry_after_seconds.unwrap_or(1);
            let per_second = witness.limits.rate_limit_per_second;
            let mut response =
                Refusal::new(StatusCode::TOO_MANY_REQUESTS, format!("a client may make {per_second} requests per second; retry after {wait_seconds} s"))
                    .into_response();
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(wait_seconds));
            response
        }
    }
}

/// `GET /v1/witness/logs`: per followed log, the latest cosigned checkpoint (note with the cosignature).
async fn list_logs(State(witness): State<Witness>) -> Response {
    let store = &witness.store;
    let rows = match store.db().query_all_raw(stmt(store, format!("SELECT origin, size, note FROM {} ORDER BY origin", store.table("logs")), vec![])).await {
        Ok(rows) => rows,
        Err(e) => return Refusal::internal(e).into_response(),
    };
    let logs: Vec<serde_json::Value> = rows
        .iter()
        .filter_map(|row| {
            let (origin, size, note): (String, i64, String) = (row.try_get_by_index(0).ok()?, row.try_get_by_index(1).ok()?, row.try_get_by_index(2).ok()?);
            Some(serde_json::json!({"origin": origin, "size": size, "checkpoint": note}))
        })
        .collect();
    Json(serde_json::json!({"witness": witness.cosigner.verifier().to_string(), "logs": logs})).into_response()
}

async fn readyz(State(witness): State<Witness>) -> Response {
    if witness.store.ping().await {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready: database unreachable\n").into_response()
    }
}

/// Runs the witness until `shutdown` (`claimtrail serve witness`).
/// Reads `database_url`, `listen`, `prefix`, `key_dir` and `db_pool_max` of
/// the serve settings, and its own [`claimtrail_runtime::WitnessSettings`]; no bus.
pub async fn run(settings: ServeSettings, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let logs = settings
        .witness
        .all_witness_log_keys()?
        .iter()
        .map(|key| VerifierKey::parse(key).with_context(|| format!("`{key}` is not a log key (C2SP vkey)")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    anyhow::ensure!(
        !logs.is_empty(),
        "a witness needs the key of at least one log (--witness-log-keys / CLAIMTRAIL_WITNESS_LOG_KEYS, or a file in CLAIMTRAIL_WITNESS_LOG_KEYS_FILE)"
    );
    let cosigner = load_or_create_key(&settings.key_dir, &settings.witness.witness_name)?;
    let store = Store::connect(&StoreConfig {
        database_url: settings.database_url.clone(),
        service: SERVICE.to_owned(),
        prefix: settings.prefix.clone(),
        max_connections: settings.db_pool_max,
    })
    .await
    .with_context(|| format!("connecting the witness to {}", claimtrail_store::redact_url(&settings.database_url)))?;
    store.migrate(&migrations()).await.context("migrating the witness schema")?;
    tracing::info!(vkey = %cosigner.verifier(), logs = logs.len(), "witness key loaded");
    let listener = tokio::net::TcpListener::bind(&settings.listen).await.with_context(|| format!("binding {}", settings.listen))?;
    claimtrail_runtime::http::announce(listener.local_addr()?);
    let app = Witness::new(store, cosigner, logs, Limits::from_settings(&settings)).router();
    claimtrail_runtime::http::serve_with_peer_addresses(listener, app, shutdown).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_parsed_strictly() {
        let note = "log.example\n2\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n\u{2014} log.example AAAA\n";
        let proof_line = BASE64.encode([7u8; 32]);
        let parsed = parse_request(&format!("old 1\n{proof_line}\n\n{note}")).unwrap();
        assert_eq!((parsed.old_size, parsed.proof.len(), parsed.origin.as_str()), (1, 1, "log.example"));
        assert_eq!(parsed.note, note);
        for bad in ["", "old 01\n\nx\n", "old -1\n\nx\n", "new 1\n\nx\n", "old 1\nnot base64\n\nx\n", "old 1\n", "old 1\n\n"] {
            assert_eq!(parse_request(bad).unwrap_err().status, StatusCode::BAD_REQUEST, "{bad:?}");
        }
        let too_many = format!("old 1\n{}\n{note}", format!("{proof_line}\n").repeat(64));
        assert!(parse_request(&too_many).unwrap_err().message.contains("63"));
    }

    fn tree(n: u64, salt: u8) -> Vec<Hash> {
        (0..n).map(|idx| claimtrail_ledger::leaf_hash(&[salt, idx as u8])).collect()
    }

    fn checkpoint_of(leaves: &[Hash]) -> Checkpoint {
        Checkpoint { origin: "log.example".to_owned(), size: leaves.len() as u64, root: claimtrail_ledger::merkle::root(leaves), extensions: vec![] }
    }

    fn held(leaves: &[Hash]) -> Option<(u64, Hash)> {
        Some((leaves.len() as u64, claimtrail_ledger::merkle::root(leaves)))
    }

    /// The status and, for a size conflict, the size of a refusal; whether it is evidence, and of what.
    fn outcome(verdict: Verdict) -> (u16, Option<u64>, Option<&'static str>) {
        match verdict {
            Verdict::Cosign => (200, None, None),
            Verdict::Refuse(refusal) => (refusal.status.as_u16(), refusal.size, None),
            Verdict::Contradiction { kind, refusal, .. } => (refusal.status.as_u16(), refusal.size, Some(kind)),
        }
    }

    #[test]
    fn an_older_genuine_checkpoint_gets_the_held_size_and_is_no_evidence() {
        let log = tree(12, 1);
        let proof = claimtrail_ledger::merkle::consistency_proof(4, 6, &log).unwrap();
        // From the size it grew from, from 0, and as a repeat of an old request.
        assert_eq!(outcome(judge(held(&log[..8]), 4, &proof, &checkpoint_of(&log[..6]))), (409, Some(8), None));
        assert_eq!(outcome(judge(held(&log[..8]), 0, &[], &checkpoint_of(&log[..6]))), (409, Some(8), None));
        assert_eq!(outcome(judge(held(&log[..8]), 6, &[], &checkpoint_of(&log[..6]))), (409, Some(8), None));
        // A stale old size with a newer checkpoint: the same 409, no evidence either.
        assert_eq!(outcome(judge(held(&log[..8]), 5, &[], &checkpoint_of(&log[..12]))), (409, Some(8), None));
        // First contact starts from 0 only.
        assert_eq!(outcome(judge(None, 3, &[], &checkpoint_of(&log[..6]))), (409, Some(0), None));
        assert_eq!(outcome(judge(None, 0, &[], &checkpoint_of(&log[..6]))), (200, None, None));
    }

    #[test]
    fn only_a_contradiction_is_evidence() {
        let log = tree(12, 1);
        let forked = tree(8, 2);
        // The held size with another root: a fork, whatever old size is named.
        assert_eq!(outcome(judge(held(&log[..8]), 8, &[], &checkpoint_of(&forked))), (409, None, Some("fork")));
        assert_eq!(outcome(judge(held(&log[..8]), 0, &[], &checkpoint_of(&forked))), (409, Some(8), Some("fork")));
        // Growth whose proof fails, and growth onto another tree.
        let mut bad_proof = claimtrail_ledger::merkle::consistency_proof(8, 12, &log).unwrap();
        bad_proof[0][0] ^= 1;
        assert_eq!(outcome(judge(held(&log[..8]), 8, &bad_proof, &checkpoint_of(&log))), (422, None, Some("inconsistent")));
        let other = tree(12, 3);
        let other_proof = claimtrail_ledger::merkle::consistency_proof(8, 12, &other).unwrap();
        assert_eq!(outcome(judge(held(&log[..8]), 8, &other_proof, &checkpoint_of(&other))), (422, None, Some("inconsistent")));
        // Consistent growth, and the held checkpoint again: cosigned.
        let proof = claimtrail_ledger::merkle::consistency_proof(8, 12, &log).unwrap();
        assert_eq!(outcome(judge(held(&log[..8]), 8, &proof, &checkpoint_of(&log))), (200, None, None));
        assert_eq!(outcome(judge(held(&log[..8]), 8, &[], &checkpoint_of(&log[..8]))), (200, None, None));
    }
}
