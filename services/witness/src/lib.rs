//! A transparency-log witness (`claimtrail serve witness`) speaking the C2SP
//! tlog-witness protocol (<https://c2sp.org/tlog-witness>) over Claimtrail's
//! SHA3-256 Merkle tree, answering with C2SP tlog-cosignature/v1 lines.
//!
//! A witness is run by someone other than the ledger's operator. For each log
//! it trusts (by its checkpoint key, named after the log's origin) it keeps
//! the latest checkpoint it cosigned, and cosigns a new one only when the log
//! proves it consistent with that one. So a log that forks (shows two
//! different trees of one size) or rolls back (shrinks) cannot get the
//! cosignatures verifiers require. Every such attempt is kept as evidence,
//! counted in `claimtrail_witness_alerts_total` and logged at error level.
//!
//! `POST /add-checkpoint`: the body is `old <size>\n`, up to 63 base64
//! consistency-proof lines, an empty line, then the signed checkpoint note.
//! Answers as the spec says: 200 with the cosignature line; 400 malformed or
//! old size above the checkpoint's; 403 no trusted signature; 404 unknown
//! origin; 409 (`text/x.tlog.size`, the size it holds) when the old size is
//! not the one it cosigned last, or the same size comes with another root;
//! 422 when the consistency proof does not verify. The check and the update
//! are one transaction holding the log's row lock, so two requests cannot
//! both advance from the same size.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use claimtrail_ledger::merkle::verify_consistency;
use claimtrail_ledger::note::{Cosigner, NoteError};
use claimtrail_ledger::{Checkpoint, CheckpointError, Hash, VerifierKey, open_checkpoint};
use claimtrail_runtime::ServeSettings;
use claimtrail_store::{Migration, Store, StoreConfig, stmt};
use sea_orm::{ConnectionTrait, TransactionTrait, Value};

pub const SERVICE: &str = "witness";

/// The largest add-checkpoint body accepted.
pub const REQUEST_BYTES_MAX: usize = 64 * 1024;
/// Consistency proof lines accepted at most (the spec's limit).
pub const PROOF_LINES_MAX: usize = 63;
/// The witness key's file in the key directory.
pub const KEY_FILE: &str = "witness.key";

pub fn migrations() -> Vec<Migration> {
    vec![Migration {
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
    }]
}

/// The witness: its key, the logs it trusts, its store.
#[derive(Clone)]
pub struct Witness {
    store: Store,
    cosigner: Arc<Cosigner>,
    logs: Arc<Vec<VerifierKey>>,
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
    pub fn new(store: Store, cosigner: Cosigner, logs: Vec<VerifierKey>) -> Witness {
        Witness { store, cosigner: Arc::new(cosigner), logs: Arc::new(logs) }
    }

    pub fn router(self) -> Router {
        claimtrail_runtime::http::metrics_handle();
        Router::new()
            .route("/add-checkpoint", post(add_checkpoint))
            .route("/v1/witness/logs", get(list_logs))
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
        let (stored_size, stored_root) = match row {
            Some(row) => {
                let size: i64 = row.try_get_by_index(0).map_err(Refusal::internal)?;
                let root: Vec<u8> = row.try_get_by_index(1).map_err(Refusal::internal)?;
                (size as u64, Some(Hash::try_from(root.as_slice()).map_err(|_| Refusal::internal("a stored root is not 32 bytes"))?))
            }
            None => (0, None),
        };
        if checkpoint.size < stored_size {
            let detail = format!("checkpoint size {} is below the cosigned size {stored_size}", checkpoint.size);
            self.alert(&tx, &checkpoint.origin, "rollback", detail, body).await?;
            tx.commit().await.map_err(Refusal::internal)?;
            return Err(Refusal::size_conflict(stored_size));
        }
        if request.old_size != stored_size {
            return Err(Refusal::size_conflict(stored_size));
        }
        if let Some(stored_root) = stored_root {
            if checkpoint.size == stored_size {
                if checkpoint.root != stored_root {
                    let detail = format!("two roots for size {stored_size}: cosigned {}, now {}", BASE64.encode(stored_root), BASE64.encode(checkpoint.root));
                    self.alert(&tx, &checkpoint.origin, "fork", detail, body).await?;
                    tx.commit().await.map_err(Refusal::internal)?;
                    return Err(Refusal::new(StatusCode::CONFLICT, format!("the log showed another root for size {stored_size}: a fork")));
                }
            } else if let Err(e) = verify_consistency(stored_size, checkpoint.size, &stored_root, &checkpoint.root, &request.proof) {
                let detail = format!("no consistency from {stored_size} to {}: {e}", checkpoint.size);
                self.alert(&tx, &checkpoint.origin, "inconsistent", detail, body).await?;
                tx.commit().await.map_err(Refusal::internal)?;
                return Err(Refusal::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("the consistency proof from {stored_size} to {} does not verify: {e}", checkpoint.size),
                ));
            }
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

    /// Keeps the evidence of a misbehaving log and raises the alert.
    async fn alert(&self, tx: &impl ConnectionTrait, origin: &str, kind: &'static str, detail: String, request: &str) -> Result<(), Refusal> {
        tracing::error!(origin, kind, detail = %detail, "witness alert: the log is not append-only as cosigned");
        metrics::counter!("claimtrail_witness_alerts_total", "origin" => origin.to_owned(), "kind" => kind).increment(1);
        let store = &self.store;
        tx.execute_raw(stmt(
            store,
            format!("INSERT INTO {} (origin, kind, detail, request) VALUES ($1, $2, $3, $4)", store.table("evidence")),
            vec![Value::from(origin.to_owned()), Value::from(kind), Value::from(detail), Value::from(request.to_owned())],
        ))
        .await
        .map_err(Refusal::internal)?;
        Ok(())
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
    let limited = http_body_util::Limited::new(body, REQUEST_BYTES_MAX);
    let bytes = match limited.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Refusal::new(StatusCode::PAYLOAD_TOO_LARGE, format!("the body is over {REQUEST_BYTES_MAX} bytes")).into_response(),
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return Refusal::bad_request("the body is not UTF-8").into_response();
    };
    match witness.add(text).await {
        Ok(cosignature) => (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], cosignature).into_response(),
        Err(refusal) => refusal.into_response(),
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
/// Reads `database_url`, `listen`, `prefix`, `key_dir`, `db_pool_max`,
/// `witness_name`, `witness_log_keys` and `witness_log_keys_file` of the serve settings; no bus.
pub async fn run(settings: ServeSettings, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let logs = settings
        .all_witness_log_keys()?
        .iter()
        .map(|key| VerifierKey::parse(key).with_context(|| format!("`{key}` is not a log key (C2SP vkey)")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    anyhow::ensure!(
        !logs.is_empty(),
        "a witness needs the key of at least one log (--witness-log-keys / CLAIMTRAIL_WITNESS_LOG_KEYS, or a file in CLAIMTRAIL_WITNESS_LOG_KEYS_FILE)"
    );
    let cosigner = load_or_create_key(&settings.key_dir, &settings.witness_name)?;
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
    let app = Witness::new(store, cosigner, logs).router();
    claimtrail_runtime::http::serve(listener, app, shutdown).await?;
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
}
