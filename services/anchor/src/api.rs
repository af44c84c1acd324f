//! The ledger endpoints of the contract.
//!
//! - `GET /v1/ledger/checkpoint`: the latest signed note (text/plain).
//! - `GET /v1/ledger/checkpoints?from_size=`: every checkpoint from a size on, oldest first (JSON, 1,000 a page).
//! - `GET /v1/ledger/keys`: one vkey per line with its role.
//! - `GET /v1/ledger/entries?start=&end=`: entries (0-based, end exclusive, at most 1,000).
//! - `GET /v1/ledger/proofs/inclusion?index=&size=` and `/consistency?from=&to=`.
//!
//! Every one needs an auditor, admin or payer API key (401 without a key, 403
//! with another role), as DESIGN.md's contract says. The JSON bodies are
//! typed ([`CheckpointsView`], [`LedgerEntriesView`], [`InclusionProofView`],
//! [`ConsistencyProofView`]) with their OpenAPI schemas; their members are
//! declared in name order, the order the bodies have always had.

use axum::extract::{FromRef, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use claimtrail_runtime::Runtime;
use claimtrail_runtime::extract::{Authorized, LedgerReader};
use claimtrail_runtime::http::Problem;
use serde::{Deserialize, Serialize};

use crate::storage::{self, tree::TreeError, tree::TreeStore};

/// Entries per page, at most.
pub const ENTRIES_PAGE_MAX: u64 = 1_000;
/// Checkpoints per page, at most.
pub const CHECKPOINTS_PAGE_MAX: u64 = 1_000;

/// One signed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CheckpointView {
    /// The C2SP signed note, followed by the witness cosignature lines gathered for it.
    pub note: String,
    /// The tree size it covers.
    pub size: i64,
}

/// `GET /v1/ledger/checkpoints`: checkpoints oldest first, 1,000 a page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CheckpointsView {
    pub checkpoints: Vec<CheckpointView>,
}

/// One ledger entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LedgerEntryView {
    /// The chain value after this entry, base64 (docs/ledger-format.md).
    #[schema(format = Byte)]
    pub chain: String,
    #[schema(value_type = String, format = "uuid")]
    pub event_id: uuid::Uuid,
    /// 0-based.
    pub index: i64,
    /// The exact leaf bytes, base64 with padding.
    #[schema(format = Byte)]
    pub leaf: String,
}

/// `GET /v1/ledger/entries`: entries in index order, at most 1,000.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LedgerEntriesView {
    pub entries: Vec<LedgerEntryView>,
}

/// `GET /v1/ledger/proofs/inclusion`: an RFC 9162 inclusion proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct InclusionProofView {
    /// The proof's node hashes, base64, in RFC 9162 order.
    pub hashes: Vec<String>,
    pub index: u64,
    pub size: u64,
}

/// `GET /v1/ledger/proofs/consistency`: an RFC 9162 consistency proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ConsistencyProofView {
    pub from: u64,
    /// The proof's node hashes, base64, in RFC 9162 order.
    pub hashes: Vec<String>,
    pub to: u64,
}

#[derive(Clone)]
pub(crate) struct ApiState {
    runtime: Runtime,
}

pub fn routes(runtime: Runtime) -> Router {
    Router::new()
        .route("/v1/ledger/checkpoint", get(checkpoint))
        .route("/v1/ledger/checkpoints", get(checkpoints))
        .route("/v1/ledger/keys", get(keys_text))
        .route("/v1/ledger/entries", get(entries))
        .route("/v1/ledger/proofs/inclusion", get(inclusion))
        .route("/v1/ledger/proofs/consistency", get(consistency))
        .with_state(ApiState { runtime })
}

impl FromRef<ApiState> for Runtime {
    fn from_ref(state: &ApiState) -> Runtime {
        state.runtime.clone()
    }
}

fn text(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

#[utoipa::path(get, path = "/v1/ledger/checkpoint", tag = "ledger",
    responses((status = 200, description = "The latest C2SP signed checkpoint note that holds the configured quorum of witness cosignatures (their lines follow the log's signature)", body = String, content_type = "text/plain"),
              (status = 404, description = "None signed yet", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn checkpoint(State(state): State<ApiState>, _reader: Authorized<LedgerReader>) -> Result<Response, Problem> {
    let quorum = state.runtime.settings.anchor.witness_quorum;
    let note = storage::published_checkpoint(&state.runtime.store, quorum).await?.ok_or_else(|| match quorum {
        0 => Problem::not_found("no checkpoint has been signed yet"),
        quorum => Problem::not_found(format!("no checkpoint has the {quorum} witness cosignatures it needs yet")),
    })?;
    Ok(text(note))
}

#[derive(Deserialize)]
pub(crate) struct CheckpointsQuery {
    from_size: Option<u64>,
}

#[utoipa::path(get, path = "/v1/ledger/checkpoints", tag = "ledger",
    params(("from_size" = Option<u64>, Query, description = "Smallest tree size")),
    responses((status = 200, description = "Checkpoints (notes with the witness cosignatures gathered), oldest first, 1,000 a page", body = CheckpointsView),
              (status = 400, description = "from_size is too large", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn checkpoints(
    State(state): State<ApiState>,
    _reader: Authorized<LedgerReader>,
    Query(query): Query<CheckpointsQuery>,
) -> Result<Json<CheckpointsView>, Problem> {
    let from_size = i64::try_from(query.from_size.unwrap_or(0)).map_err(|_| Problem::bad_request("from_size is too large"))?;
    let checkpoints = storage::checkpoints(&state.runtime.store, from_size, Some(CHECKPOINTS_PAGE_MAX)).await?;
    Ok(Json(CheckpointsView { checkpoints: checkpoints.into_iter().map(|(size, note)| CheckpointView { note, size }).collect() }))
}

#[utoipa::path(get, path = "/v1/ledger/keys", tag = "ledger",
    responses((status = 200, description = "One C2SP vkey per line, followed by its role (`log`, `producer <service>`, `witness`)", body = String, content_type = "text/plain")),
    security(("api_key" = [])))]
pub(crate) async fn keys_text(State(state): State<ApiState>, _reader: Authorized<LedgerReader>) -> Result<Response, Problem> {
    let mut body = String::new();
    for (key, role) in crate::keys::published(&state.runtime.store, &state.runtime.registry).await? {
        body.push_str(&format!("{key} {role}\n"));
    }
    Ok(text(body))
}

#[derive(Deserialize)]
pub(crate) struct EntriesQuery {
    start: Option<u64>,
    end: Option<u64>,
    event_id: Option<String>,
}

#[utoipa::path(get, path = "/v1/ledger/entries", tag = "ledger", operation_id = "ledger_entries",
    params(("start" = Option<u64>, Query, description = "First index (0-based)"), ("end" = Option<u64>, Query, description = "End, exclusive; at most 1,000 entries"),
           ("event_id" = Option<String>, Query, description = "Instead of a range: the entry of this event (none when it is not on the ledger)")),
    responses((status = 200, description = "Entries in index order, leaf and chain base64", body = LedgerEntriesView),
              (status = 400, description = "end before start, or an event id that is not a UUID", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn entries(
    State(state): State<ApiState>,
    _reader: Authorized<LedgerReader>,
    Query(query): Query<EntriesQuery>,
) -> Result<Json<LedgerEntriesView>, Problem> {
    let entries = if let Some(event_id) = &query.event_id {
        let event_id = uuid::Uuid::parse_str(event_id.trim()).map_err(|_| Problem::bad_request(format!("event_id `{event_id}` is not a UUID")))?;
        storage::entry_of_event(&state.runtime.store, event_id).await?
    } else {
        let start = query.start.unwrap_or(0);
        let end = query.end.unwrap_or(start + ENTRIES_PAGE_MAX);
        if end < start {
            return Err(Problem::bad_request(format!("end ({end}) is before start ({start})")));
        }
        let end = end.min(start.saturating_add(ENTRIES_PAGE_MAX));
        storage::entries_between(&state.runtime.store, start, end).await?
    };
    let entries = entries
        .into_iter()
        .map(|entry| LedgerEntryView { chain: BASE64.encode(entry.chain), event_id: entry.event_id, index: entry.index, leaf: BASE64.encode(entry.leaf) })
        .collect();
    Ok(Json(LedgerEntriesView { entries }))
}

impl From<TreeError> for Problem {
    fn from(e: TreeError) -> Problem {
        match e {
            TreeError::Request(reason) => Problem::bad_request(reason),
            e @ TreeError::BeyondLedger { .. } => Problem::new(StatusCode::BAD_REQUEST, "beyond-ledger", "Beyond the ledger", e.to_string()),
            TreeError::Store(e) => Problem::internal(&e),
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct InclusionQuery {
    index: u64,
    size: u64,
}

#[utoipa::path(get, path = "/v1/ledger/proofs/inclusion", tag = "ledger",
    params(("index" = u64, Query, description = "Leaf index"), ("size" = u64, Query, description = "Tree size")),
    responses((status = 200, description = "The proof's hashes (RFC 9162 order, base64)", body = InclusionProofView),
              (status = 400, description = "Out of range", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn inclusion(
    State(state): State<ApiState>,
    _reader: Authorized<LedgerReader>,
    Query(query): Query<InclusionQuery>,
) -> Result<Json<InclusionProofView>, Problem> {
    if query.index >= query.size {
        return Err(Problem::bad_request(format!("index {} is not below size {}", query.index, query.size)));
    }
    let proof = TreeStore::new(state.runtime.store.clone()).inclusion(query.index, query.size).await?;
    Ok(Json(InclusionProofView { hashes: proof.iter().map(|h| BASE64.encode(h)).collect(), index: query.index, size: query.size }))
}

#[derive(Deserialize)]
pub(crate) struct ConsistencyQuery {
    from: u64,
    to: u64,
}

#[utoipa::path(get, path = "/v1/ledger/proofs/consistency", tag = "ledger",
    params(("from" = u64, Query, description = "Old size"), ("to" = u64, Query, description = "New size")),
    responses((status = 200, description = "The proof's hashes (RFC 9162 order, base64)", body = ConsistencyProofView),
              (status = 400, description = "Out of range", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn consistency(
    State(state): State<ApiState>,
    _reader: Authorized<LedgerReader>,
    Query(query): Query<ConsistencyQuery>,
) -> Result<Json<ConsistencyProofView>, Problem> {
    if query.from > query.to {
        return Err(Problem::bad_request(format!("from {} is above to {}", query.from, query.to)));
    }
    let proof = TreeStore::new(state.runtime.store.clone()).consistency(query.from, query.to).await?;
    Ok(Json(ConsistencyProofView { from: query.from, hashes: proof.iter().map(|h| BASE64.encode(h)).collect(), to: query.to }))
}
