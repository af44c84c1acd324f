//! The ledger endpoints of the contract.
//!
//! - `GET /v1/ledger/checkpoint`: the latest signed note (text/plain).
//! - `GET /v1/ledger/checkpoints?from_size=`: every checkpoint from a size on, oldest first (JSON, 1,000 a page).
//! - `GET /v1/ledger/keys`: one vkey per line with its role.
//! - `GET /v1/ledger/entries?start=&end=`: entries (0-based, end exclusive, at most 1,000).
//! - `GET /v1/ledger/proofs/inclusion?index=&size=` and `/consistency?from=&to=`.
//!
//! Every one needs an auditor, admin or payer API key (401 without a key, 403
//! with another role), as DESIGN.md's contract says.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use claimtrail_runtime::Runtime;
use claimtrail_runtime::http::Problem;
use claimtrail_store::stmt;
use sea_orm::{ConnectionTrait, Value};
use serde::Deserialize;
use serde_json::json;

use crate::tree::{TreeError, TreeStore};

/// Entries per page, at most.
pub const ENTRIES_PAGE_MAX: u64 = 1_000;
/// Checkpoints per page, at most.
pub const CHECKPOINTS_PAGE_MAX: u64 = 1_000;

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

/// Authenticates the caller: the ledger is read with an auditor, admin or payer key.
async fn reader(runtime: &Runtime, headers: &HeaderMap) -> Result<(), Problem> {
    let tenant = claimtrail_runtime::auth::authenticate(runtime, headers).await?;
    if !tenant.role.reads_ledger() {
        return Err(Problem::forbidden("the ledger is read with an auditor, admin or payer key"));
    }
    Ok(())
}

fn text(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

#[utoipa::path(get, path = "/v1/ledger/checkpoint", tag = "ledger",
    responses((status = 200, description = "The latest C2SP signed checkpoint note that holds the configured quorum of witness cosignatures (their lines follow the log's signature)", body = String, content_type = "text/plain"),
              (status = 404, description = "None signed yet", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn checkpoint(State(state): State<ApiState>, headers: HeaderMap) -> Result<Response, Problem> {
    reader(&state.runtime, &headers).await?;
    let store = &state.runtime.store;
    let row = store
        .db()
        .query_one_raw(stmt(
            store,
            format!("SELECT note, cosignatures FROM {} WHERE cosigned >= $1 ORDER BY size DESC LIMIT 1", store.table("checkpoints")),
            vec![Value::from(state.runtime.settings.anchor.witness_quorum as i64)],
        ))
        .await?
        .ok_or_else(|| match state.runtime.settings.anchor.witness_quorum {
            0 => Problem::not_found("no checkpoint has been signed yet"),
            quorum => Problem::not_found(format!("no checkpoint has the {quorum} witness cosignatures it needs yet")),
        })?;
    let note: String = row.try_get_by_index(0)?;
    let cosignatures: String = row.try_get_by_index(1)?;
    Ok(text(note + &cosignatures))
}

#[derive(Deserialize)]
pub(crate) struct CheckpointsQuery {
    from_size: Option<u64>,
}

#[utoipa::path(get, path = "/v1/ledger/checkpoints", tag = "ledger",
    params(("from_size" = Option<u64>, Query, description = "Smallest tree size")),
    responses((status = 200, description = "`{checkpoints: [{size, note}]}` (notes with the witness cosignatures gathered), oldest first, 1,000 a page", body = serde_json::Value)),
    security(("api_key" = [])))]
pub(crate) async fn checkpoints(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Query(query): Query<CheckpointsQuery>,
) -> Result<Json<serde_json::Value>, Problem> {
    reader(&state.runtime, &headers).await?;
    let store = &state.runtime.store;
    let from_size = i64::try_from(query.from_size.unwrap_or(0)).map_err(|_| Problem::bad_request("from_size is too large"))?;
    let rows = store
        .db()
        .query_all_raw(stmt(
            store,
            format!("SELECT size, note, cosignatures FROM {} WHERE size >= $1 ORDER BY size LIMIT {CHECKPOINTS_PAGE_MAX}", store.table("checkpoints")),
            vec![Value::from(from_size)],
        ))
        .await?;
    let mut list = Vec::with_capacity(rows.len());
    for row in rows {
        let note = row.try_get_by_index::<String>(1)? + &row.try_get_by_index::<String>(2)?;
        list.push(json!({"size": row.try_get_by_index::<i64>(0)?, "note": note}));
    }
    Ok(Json(json!({ "checkpoints": list })))
}

#[utoipa::path(get, path = "/v1/ledger/keys", tag = "ledger",
    responses((status = 200, description = "One C2SP vkey per line, followed by its role (`log`, `producer <service>`, `witness`)", body = String, content_type = "text/plain")),
    security(("api_key" = [])))]
pub(crate) async fn keys_text(State(state): State<ApiState>, headers: HeaderMap) -> Result<Response, Problem> {
    reader(&state.runtime, &headers).await?;
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
}

#[utoipa::path(get, path = "/v1/ledger/entries", tag = "ledger",
    params(("start" = Option<u64>, Query, description = "First index (0-based)"), ("end" = Option<u64>, Query, description = "End, exclusive; at most 1,000 entries")),
    responses((status = 200, description = "`{entries: [{index, event_id, leaf, chain}]}`, leaf and chain base64", body = serde_json::Value),
              (status = 400, description = "end before start", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn entries(State(state): State<ApiState>, headers: HeaderMap, Query(query): Query<EntriesQuery>) -> Result<Json<serde_json::Value>, Problem> {
    reader(&state.runtime, &headers).await?;
    let store = &state.runtime.store;
    let start = query.start.unwrap_or(0);
    let end = query.end.unwrap_or(start + ENTRIES_PAGE_MAX);
    if end < start {
        return Err(Problem::bad_request(format!("end ({end}) is before start ({start})")));
    }
    let end = end.min(start.saturating_add(ENTRIES_PAGE_MAX));
    let rows = store
        .db()
        .query_all_raw(stmt(
            store,
            format!("SELECT idx, event_id, leaf, chain FROM {} WHERE idx >= $1 AND idx < $2 ORDER BY idx", store.table("ledger")),
            vec![Value::from(i64::try_from(start).unwrap_or(i64::MAX)), Value::from(i64::try_from(end).unwrap_or(i64::MAX))],
        ))
        .await?;
    let mut list = Vec::with_capacity(rows.len());
    for row in rows {
        list.push(json!({
            "index": row.try_get_by_index::<i64>(0)?,
            "event_id": row.try_get_by_index::<uuid::Uuid>(1)?,
            "leaf": BASE64.encode(row.try_get_by_index::<Vec<u8>>(2)?),
            "chain": BASE64.encode(row.try_get_by_index::<Vec<u8>>(3)?),
        }));
    }
    Ok(Json(json!({ "entries": list })))
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
    responses((status = 200, description = "`{index, size, hashes}` (RFC 9162 order, base64)", body = serde_json::Value),
              (status = 400, description = "Out of range", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn inclusion(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Query(query): Query<InclusionQuery>,
) -> Result<Json<serde_json::Value>, Problem> {
    reader(&state.runtime, &headers).await?;
    if query.index >= query.size {
        return Err(Problem::bad_request(format!("index {} is not below size {}", query.index, query.size)));
    }
    let proof = TreeStore::new(state.runtime.store.clone()).inclusion(query.index, query.size).await?;
    Ok(Json(json!({"index": query.index, "size": query.size, "hashes": proof.iter().map(|h| BASE64.encode(h)).collect::<Vec<_>>()})))
}

#[derive(Deserialize)]
pub(crate) struct ConsistencyQuery {
    from: u64,
    to: u64,
}

#[utoipa::path(get, path = "/v1/ledger/proofs/consistency", tag = "ledger",
    params(("from" = u64, Query, description = "Old size"), ("to" = u64, Query, description = "New size")),
    responses((status = 200, description = "`{from, to, hashes}` (RFC 9162 order, base64)", body = serde_json::Value),
              (status = 400, description = "Out of range", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn consistency(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Query(query): Query<ConsistencyQuery>,
) -> Result<Json<serde_json::Value>, Problem> {
    reader(&state.runtime, &headers).await?;
    if query.from > query.to {
        return Err(Problem::bad_request(format!("from {} is above to {}", query.from, query.to)));
    }
    let proof = TreeStore::new(state.runtime.store.clone()).consistency(query.from, query.to).await?;
    Ok(Json(json!({"from": query.from, "to": query.to, "hashes": proof.iter().map(|h| BASE64.encode(h)).collect::<Vec<_>>()})))
}
