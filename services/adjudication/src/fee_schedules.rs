//! Fee schedules: the payer publishes one per payer (a new version replaces
//! the old), adjudication projects it and prices with it.
//!
//! `PUT /v1/payers/{payer_id}/fee-schedule` stores the schedule and emits
//! `fee_schedule.published.v1` in one transaction; the schedule's content hash
//! (SHA3-256 of its canonical entries) is recorded in every decision priced with it.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::put;
use axum::{Json, Router};
use claimtrail_events::canonical::to_canonical_vec;
use claimtrail_events::{FeeScheduleEntry, FeeSchedulePublished, Money, NewEvent, sha3_256};
use claimtrail_runtime::http::{FieldError, Problem};
use claimtrail_runtime::{Runtime, auth};
use claimtrail_store::{Store, StoreError, outbox, stmt};
use sea_orm::{ConnectionTrait, TransactionTrait, Value};
use serde::Deserialize;

use crate::pricing::FeeSchedule;

/// Entries in one fee schedule, at most.
pub const FEE_SCHEDULE_ENTRIES_MAX: usize = 100_000;

/// The body of `PUT /v1/payers/{payer_id}/fee-schedule`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeScheduleBody {
    pub fee_schedule_id: String,
    pub entries: Vec<FeeScheduleEntry>,
}

pub fn routes(runtime: Runtime) -> Router {
    Router::new().route("/v1/payers/{payer_id}/fee-schedule", put(publish).get(show)).with_state(runtime)
}

fn validate(payer_id: &str, body: &FeeScheduleBody) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if payer_id.is_empty() || payer_id.len() > 80 || !payer_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        errors.push(FieldError { path: "payer_id".into(), message: "payer id must be 1-80 letters, digits, - or _".into() });
    }
    if body.fee_schedule_id.trim().is_empty() {
        errors.push(FieldError { path: "fee_schedule_id".into(), message: "must not be empty".into() });
    }
    if body.entries.len() > FEE_SCHEDULE_ENTRIES_MAX {
        errors.push(FieldError { path: "entries".into(), message: format!("at most {FEE_SCHEDULE_ENTRIES_MAX} entries") });
    }
    let mut seen = std::collections::HashSet::new();
    for (entry_idx, entry) in body.entries.iter().enumerate() {
        let code = &entry.procedure_code;
        if code.len() != 5 || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
            errors.push(FieldError { path: format!("entries[{entry_idx}].procedure_code"), message: format!("`{code}` is not a 5-character HCPCS/CPT code") });
        }
        if entry.amount.is_negative() {
            errors.push(FieldError { path: format!("entries[{entry_idx}].amount"), message: "must not be negative".into() });
        }
        if !seen.insert(code.clone()) {
            errors.push(FieldError { path: format!("entries[{entry_idx}].procedure_code"), message: format!("`{code}` appears twice") });
        }
    }
    errors
}

#[utoipa::path(put, path = "/v1/payers/{payer_id}/fee-schedule", tag = "adjudication",
    params(("payer_id" = String, Path, description = "Payer")),
    request_body(content = serde_json::Value, description = "`{fee_schedule_id, entries: [{procedure_code, amount}]}`, amounts as strings"),
    responses((status = 200, description = "`{payer_id, fee_schedule_id, content_hash, entries}`", body = serde_json::Value),
              (status = 400, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Not an admin key, nor this payer's key", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "Invalid schedule", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn publish(
    State(runtime): State<Runtime>,
    headers: HeaderMap,
    Path(payer_id): Path<String>,
    body: axum::body::Bytes,
) -> Result<impl IntoResponse, Problem> {
    let tenant = auth::authenticate(&runtime, &headers).await?;
    if !tenant.role.may_publish_for(&tenant, &payer_id) {
        return Err(Problem::forbidden(format!("only an admin key or payer {payer_id}'s own key publishes its fee schedule")));
    }
    let body: FeeScheduleBody = claimtrail_runtime::http::json_body(&body, "a fee schedule")?;
    Ok((StatusCode::OK, Json(publish_schedule(&runtime, &payer_id, body).await?)))
}

/// Validates and stores a payer's fee schedule and emits `fee_schedule.published.v1`,
/// in one transaction; answers a summary with the content hash.
pub async fn publish_schedule(runtime: &Runtime, payer_id: &str, body: FeeScheduleBody) -> Result<serde_json::Value, Problem> {
    let payer_id = payer_id.to_owned();
    let errors = validate(&payer_id, &body);
    if !errors.is_empty() {
        return Err(Problem::unprocessable("the fee schedule is invalid; nothing was stored", errors));
    }
    let mut entries = body.entries;
    entries.sort_by(|a, b| a.procedure_code.cmp(&b.procedure_code));
    let canonical = to_canonical_vec(&entries).map_err(|e| Problem::internal(&e.into()))?;
    let content_hash = hex::encode(sha3_256(&canonical));
    let store = &runtime.store;
    let tx = store.db().begin().await?;
    tx.execute_raw(stmt(store, format!("DELETE FROM {} WHERE payer_id = $1", store.table("fees")), vec![Value::from(payer_id.clone())])).await?;
    for chunk in entries.chunks(1_000) {
        let mut sql = format!("INSERT INTO {} (payer_id, procedure_code, amount_cents) VALUES ", store.table("fees"));
        let mut values = Vec::with_capacity(chunk.len() * 3);
        for (row_idx, entry) in chunk.iter().enumerate() {
            if row_idx > 0 {
                sql.push(',');
            }
            sql.push_str(&format!("(${},${},${})", row_idx * 3 + 1, row_idx * 3 + 2, row_idx * 3 + 3));
            values.push(Value::from(payer_id.clone()));
            values.push(Value::from(entry.procedure_code.clone()));
            values.push(Value::from(entry.amount.to_cents().ok_or_else(|| Problem::unprocessable("amount out of range", vec![]))?));
        }
        tx.execute_raw(stmt(store, sql, values)).await?;
    }
    let upsert = format!(
        "INSERT INTO {} (payer_id, fee_schedule_id, content_hash) VALUES ($1, $2, $3) \
         ON CONFLICT (payer_id) DO UPDATE SET fee_schedule_id = excluded.fee_schedule_id, content_hash = excluded.content_hash, published_at = {}",
        store.table("fee_schedules"),
        store.types().now
    );
    tx.execute_raw(stmt(store, upsert, vec![Value::from(payer_id.clone()), Value::from(body.fee_schedule_id.clone()), Value::from(content_hash.clone())]))
        .await?;
    let event = FeeSchedulePublished { payer_id: payer_id.clone(), fee_schedule_id: body.fee_schedule_id.clone(), content_hash: content_hash.clone(), entries };
    let n_entries = event.entries.len();
    outbox::append(store, &tx, &runtime.producer, vec![NewEvent::new(event, format!("fee_schedule:{payer_id}"))]).await?;
    tx.commit().await?;
    runtime.relay_wakeup.notify_waiters();
    Ok(serde_json::json!({"payer_id": payer_id, "fee_schedule_id": body.fee_schedule_id, "content_hash": content_hash, "entries": n_entries}))
}

#[utoipa::path(get, path = "/v1/payers/{payer_id}/fee-schedule", tag = "adjudication",
    params(("payer_id" = String, Path, description = "Payer")),
    responses((status = 200, description = "The schedule in force", body = serde_json::Value),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No schedule", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn show(State(runtime): State<Runtime>, headers: HeaderMap, Path(payer_id): Path<String>) -> Result<impl IntoResponse, Problem> {
    auth::authenticate(&runtime, &headers).await?;
    let store = &runtime.store;
    let header = store
        .db()
        .query_one_raw(stmt(
            store,
            format!("SELECT fee_schedule_id, content_hash FROM {} WHERE payer_id = $1", store.table("fee_schedules")),
            vec![Value::from(payer_id.clone())],
        ))
        .await?
        .ok_or_else(|| Problem::not_found(format!("payer `{payer_id}` has no fee schedule")))?;
    let fee_schedule_id: String = header.try_get_by_index(0)?;
    let content_hash: String = header.try_get_by_index(1)?;
    let rows = store
        .db()
        .query_all_raw(stmt(
            store,
            format!("SELECT procedure_code, amount_cents FROM {} WHERE payer_id = $1 ORDER BY procedure_code", store.table("fees")),
            vec![Value::from(payer_id.clone())],
        ))
        .await?;
    let mut entries = Vec::with_capacity(rows.len());
    for row in rows {
        entries.push(FeeScheduleEntry { procedure_code: row.try_get_by_index(0)?, amount: Money::from_cents(row.try_get_by_index(1)?) });
    }
    Ok(Json(serde_json::json!({"payer_id": payer_id, "fee_schedule_id": fee_schedule_id, "content_hash": content_hash, "entries": entries})))
}

/// The payer's whole schedule in force, read on `conn` (the transaction of
/// the batch of claims it prices: one read per payer and batch).
pub async fn load(store: &Store, conn: &impl ConnectionTrait, payer_id: &str) -> Result<FeeSchedule, StoreError> {
    let header = conn
        .query_one_raw(stmt(
            store,
            format!("SELECT content_hash FROM {} WHERE payer_id = $1", store.table("fee_schedules")),
            vec![Value::from(payer_id.to_owned())],
        ))
        .await?;
    let Some(header) = header else {
        return Ok(FeeSchedule { content_hash: "none".into(), fees: HashMap::new() });
    };
    let content_hash: String = header.try_get_by_index(0)?;
    let rows = conn
        .query_all_raw(stmt(
            store,
            format!("SELECT procedure_code, amount_cents FROM {} WHERE payer_id = $1", store.table("fees")),
            vec![Value::from(payer_id.to_owned())],
        ))
        .await?;
    let mut fees = HashMap::with_capacity(rows.len());
    for row in rows {
        let code: String = row.try_get_by_index(0)?;
        fees.insert(code, Money::from_cents(row.try_get_by_index(1)?));
    }
    Ok(FeeSchedule { content_hash, fees })
}
