//! The witness's HTTP API: `POST /add-checkpoint` as the C2SP
//! tlog-witness spec says, `GET /v1/witness/logs`, and `/healthz`,
//! `/readyz`, `/metrics`. The two routes that reach the database are
//! rate-limited per client address.
//!
//! `POST /add-checkpoint` answers 200 with the cosignature line; 400
//! malformed or old size above the checkpoint's; 403 no trusted signature;
//! 404 unknown origin; 409 (`text/x.tlog.size`, the size it holds) when the
//! old size is not the one it cosigned last, 409 when the same size comes
//! with another root; 422 when the consistency proof does not verify; 413
//! and 429 over the limits. The check against the held checkpoint and the
//! update are one transaction holding the log's row lock.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request as HttpRequest, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use claimtrail_ledger::note::Cosigner;
use claimtrail_ledger::{Checkpoint, VerifierKey};
use claimtrail_runtime::auth::RateLimiter;
use claimtrail_store::Store;
use sea_orm::{ConnectionTrait, TransactionTrait};
use serde::Serialize;

use crate::Limits;
use crate::domain::{self, EvidenceKind, Request, Verdict};
use crate::storage;

/// One followed log's latest cosigned checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct WitnessedLogView {
    /// The signed checkpoint note with the witness's cosignature line.
    pub checkpoint: String,
    pub origin: String,
    pub size: i64,
}

/// `GET /v1/witness/logs`: the witness's key and, per followed log, the latest checkpoint it cosigned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct WitnessLogsView {
    pub logs: Vec<WitnessedLogView>,
    /// The witness's cosignature key (C2SP vkey).
    pub witness: String,
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

/// A refused add-checkpoint, with the status the spec asks for.
#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub message: String,
    /// For 409 on a size mismatch: the size the witness holds (`text/x.tlog.size`).
    pub size: Option<u64>,
}

impl Witness {
    pub fn new(store: Store, cosigner: Cosigner, logs: Vec<VerifierKey>, limits: Limits) -> Witness {
        let rate_limiter = Arc::new(RateLimiter::new(limits.rate_limit_per_second));
        Witness { store, cosigner: Arc::new(cosigner), logs: Arc::new(logs), limits, rate_limiter }
    }

    /// The routes; the two that reach the database are rate-limited per
    /// client address (`ConnectInfo<SocketAddr>`, see [`crate::run`]).
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
        let request = domain::parse_request(body)?;
        let checkpoint = domain::admit(&request, &self.logs)?;
        self.advance(&checkpoint, &request, body).await
    }

    /// The check against the stored state and the update, atomically.
    async fn advance(&self, checkpoint: &Checkpoint, request: &Request, body: &str) -> Result<String, Refusal> {
        let store = &self.store;
        let tx = store.db().begin().await.map_err(Refusal::internal)?;
        let held = storage::held_for_update(store, &tx, &checkpoint.origin).await.map_err(Refusal::internal)?;
        match domain::judge(held, request.old_size, &request.proof, checkpoint) {
            // Dropping the transaction rolls it back: nothing is stored.
            Verdict::Refuse(refusal) => return Err(refusal.into()),
            Verdict::Contradiction { kind, detail, refusal } => {
                self.keep_evidence(&tx, &checkpoint.origin, kind, detail, body).await?;
                tx.commit().await.map_err(Refusal::internal)?;
                return Err(refusal.into());
            }
            Verdict::Cosign => {}
        }
        let timestamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let cosignature = self.cosigner.cosign(&checkpoint.to_body(), timestamp);
        let note = format!("{}{cosignature}", request.note);
        storage::hold(store, &tx, &checkpoint.origin, checkpoint.size, &checkpoint.root, note).await.map_err(Refusal::internal)?;
        tx.commit().await.map_err(Refusal::internal)?;
        metrics::counter!("claimtrail_witness_cosigned_total", "origin" => checkpoint.origin.clone()).increment(1);
        metrics::gauge!("claimtrail_witness_log_size", "origin" => checkpoint.origin.clone()).set(checkpoint.size as f64);
        Ok(cosignature)
    }

    /// Raises the alert for a log that contradicts itself and keeps the
    /// request as evidence, unless the origin holds its maximum of evidence
    /// rows already (then only counted). Runs under the log row's lock, so
    /// concurrent requests cannot overshoot the maximum.
    async fn keep_evidence(&self, tx: &impl ConnectionTrait, origin: &str, kind: EvidenceKind, detail: String, request: &str) -> Result<(), Refusal> {
        let kind = kind.as_str();
        tracing::error!(origin, kind, detail = %detail, "witness alert: the log is not append-only as cosigned");
        metrics::counter!("claimtrail_witness_alerts_total", "origin" => origin.to_owned(), "kind" => kind).increment(1);
        let max = self.limits.evidence_per_origin_max;
        let kept = storage::evidence_kept(&self.store, tx, origin, max).await.map_err(Refusal::internal)?;
        if !domain::keeps_evidence(kept, max) {
            tracing::warn!(origin, kind, evidence_per_origin_max = max, "evidence not stored: this origin holds the maximum of evidence rows");
            metrics::counter!("claimtrail_witness_evidence_dropped_total", "origin" => origin.to_owned(), "kind" => kind).increment(1);
            return Ok(());
        }
        storage::insert_evidence(&self.store, tx, origin, kind, detail, request).await.map_err(Refusal::internal)
    }
}

impl Refusal {
    fn new(status: StatusCode, message: impl Into<String>) -> Refusal {
        Refusal { status, message: message.into(), size: None }
    }

    fn internal(error: impl std::fmt::Display) -> Refusal {
        tracing::error!(error.message = %error, "witness storage failed");
        Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, "the witness could not record the checkpoint; nothing was cosigned")
    }
}

/// The status the spec gives each refusal of the protocol.
impl From<domain::Refusal> for Refusal {
    fn from(refusal: domain::Refusal) -> Refusal {
        let status = match &refusal {
            domain::Refusal::Malformed(_) => StatusCode::BAD_REQUEST,
            domain::Refusal::Untrusted { .. } => StatusCode::FORBIDDEN,
            domain::Refusal::UnknownOrigin { .. } => StatusCode::NOT_FOUND,
            domain::Refusal::SizeConflict { held } => return Refusal { status: StatusCode::CONFLICT, message: format!("{held}\n"), size: Some(*held) },
            domain::Refusal::Fork { .. } => StatusCode::CONFLICT,
            domain::Refusal::Inconsistent { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        };
        Refusal::new(status, refusal.to_string())
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

#[utoipa::path(post, path = "/add-checkpoint", tag = "witness",
    request_body(content = String, content_type = "text/plain", description = "`old <size>`, up to 63 base64 consistency-proof lines, an empty line, then the signed checkpoint note (C2SP tlog-witness)"),
    responses((status = 200, description = "The C2SP tlog-cosignature/v1 line", body = String, content_type = "text/plain"),
              (status = 400, description = "Malformed, or old size above the checkpoint's", body = String, content_type = "text/plain"),
              (status = 403, description = "No signature by a trusted key of the origin", body = String, content_type = "text/plain"),
              (status = 404, description = "An origin this witness does not follow", body = String, content_type = "text/plain"),
              (status = 409, description = "The old size is not the size held (the body is the size held), or another root for the size held", body = String, content_type = "text/x.tlog.size"),
              (status = 413, description = "Body over the limit", body = String, content_type = "text/plain"),
              (status = 422, description = "The consistency proof does not verify", body = String, content_type = "text/plain"),
              (status = 429, description = "Rate limited (Retry-After)", body = String, content_type = "text/plain")))]
pub(crate) async fn add_checkpoint(State(witness): State<Witness>, headers: HeaderMap, body: Body) -> Response {
    let body_bytes_max = witness.limits.body_bytes_max;
    // The shared reader's limit, answered in the witness protocol's text/plain.
    let bytes = match claimtrail_runtime::extract::read_body(&headers, body, body_bytes_max).await {
        Ok(bytes) => bytes,
        Err(_) => return Refusal::new(StatusCode::PAYLOAD_TOO_LARGE, format!("the body is over {body_bytes_max} bytes")).into_response(),
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return Refusal::from(domain::Refusal::malformed("the body is not UTF-8")).into_response();
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

#[utoipa::path(get, path = "/v1/witness/logs", tag = "witness",
    responses((status = 200, description = "The witness's key and, per followed log, the latest checkpoint it cosigned", body = WitnessLogsView),
              (status = 429, description = "Rate limited (Retry-After)", body = String, content_type = "text/plain")))]
pub(crate) async fn list_logs(State(witness): State<Witness>) -> Response {
    let logs = match storage::logs(&witness.store).await {
        Ok(logs) => logs,
        Err(e) => return Refusal::internal(e).into_response(),
    };
    let logs = logs.into_iter().map(|log| WitnessedLogView { checkpoint: log.note, origin: log.origin, size: log.size }).collect();
    Json(WitnessLogsView { logs, witness: witness.cosigner.verifier().to_string() }).into_response()
}

async fn readyz(State(witness): State<Witness>) -> Response {
    if witness.store.ping().await {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready: database unreachable\n").into_response()
    }
}
