//! Erasure on request: `POST /v1/erasures` (admin keys).
//!
//! Crypto-shredding, as DESIGN.md's ledger section describes: the ledger
//! holds only SHA3-256(salt || payload) of each event, so deleting the salts
//! of a member's events leaves nothing in the ledger that can be linked to
//! the member, and the ledger stays verifiable (it never needs a salt).
//!
//! In one transaction intake:
//! - finds the member's claims (by payer and member id) and refuses, naming
//!   them, while any is still being adjudicated or is pended (its later events would
//!   escape the erasure);
//! - removes their PHI from its projections: the submitted claim, the member
//!   id, the edit messages in issues and history, the stored idempotent
//!   answers that name them, and the member's enrollment. Status, amounts,
//!   billing provider and the access log stay (financial and HIPAA audit
//!   records); reads of an erased claim answer 410 Gone;
//! - deletes the salts of its own events about them (the claims and the
//!   member's enrollment), and on Postgres replaces their published bodies
//!   ([`claimtrail_store::outbox::erase`]);
//! - publishes `claims.erased.v1` (claim ids, no member id), on which
//!   adjudication and settlement do the same to their own events.
//!
//! The bus keeps the original messages for the streams' retention (see
//! docs/operations.md, "Erasure requests").

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use claimtrail_events::{ClaimStatus, ClaimsErased, NewEvent};
use claimtrail_runtime::Runtime;
use claimtrail_runtime::auth::Role;
use claimtrail_runtime::http::Problem;
use claimtrail_store::{Migration, outbox, stmt};
use sea_orm::{ConnectionTrait, TransactionTrait, Value};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::auth;

/// The longest reason accepted.
pub const REASON_CHARS_MAX: usize = 500;

pub fn migration() -> Migration {
    Migration {
        version: 7,
        name: "erasure: member id and erasure time per claim",
        statements: |store| {
            let claims = store.table("claims");
            let member_of_claim = if store.is_postgres() { "(claim::jsonb ->> 'member_id')" } else { "json_extract(claim, '$.member_id')" };
            vec![
                format!("ALTER TABLE {claims} ADD COLUMN member_id TEXT"),
                format!("ALTER TABLE {claims} ADD COLUMN erased_at TEXT"),
                format!("UPDATE {claims} SET member_id = {member_of_claim} WHERE claim IS NOT NULL"),
                format!("CREATE INDEX {} ON {claims} (payer_id, member_id)", store.index("claims_member")),
            ]
        },
    }
}

pub fn routes(runtime: Runtime) -> Router {
    Router::new().route("/v1/erasures", post(erase)).with_state(runtime)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErasureRequest {
    pub payer_id: String,
    pub member_id: String,
    /// Why (e.g. the request's reference); at most 500 characters, no PHI.
    pub reason: String,
}

#[utoipa::path(post, path = "/v1/erasures", tag = "intake",
    request_body(content = ErasureRequest, content_type = "application/json"),
    responses((status = 200, description = "`{erasure_id, claims, salts_deleted, bodies_redacted}`; `claims.erased.v1` follows to the other services", body = serde_json::Value),
              (status = 400, description = "A field is missing or empty, or the reason is too long", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "A claim of the member is still being adjudicated or is pended; retry once it is decided", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn erase(State(runtime): State<Runtime>, headers: HeaderMap, body: axum::body::Bytes) -> Result<Json<serde_json::Value>, Problem> {
    let tenant = auth::authenticate(&runtime, &headers).await?;
    if tenant.role != Role::Admin {
        return Err(Problem::forbidden("only an admin key erases a member's data"));
    }
    let request: ErasureRequest = serde_json::from_slice(&body).map_err(|e| Problem::bad_request(format!("the erasure request is not valid: {e}")))?;
    for (field, value) in [("payer_id", &request.payer_id), ("member_id", &request.member_id), ("reason", &request.reason)] {
        if value.trim().is_empty() {
            return Err(Problem::bad_request(format!("`{field}` is empty")));
        }
    }
    if request.reason.chars().count() > REASON_CHARS_MAX {
        return Err(Problem::bad_request(format!("`reason` is longer than {REASON_CHARS_MAX} characters")));
    }
    let store = &runtime.store;
    let claims = store.table("claims");
    let tx = store.db().begin().await?;
    let rows = tx
        .query_all_raw(stmt(
            store,
            format!("SELECT claim_id, status FROM {claims} WHERE payer_id = $1 AND member_id = $2 AND erased_at IS NULL ORDER BY claim_id"),
            vec![Value::from(request.payer_id.clone()), Value::from(request.member_id.clone())],
        ))
        .await?;
    let mut claim_ids: Vec<Uuid> = Vec::with_capacity(rows.len());
    let mut in_flight: Vec<String> = Vec::new();
    for row in rows {
        let claim_id: Uuid = row.try_get_by_index(0)?;
        let status: String = row.try_get_by_index(1)?;
        if ClaimStatus::parse(&status).is_some_and(ClaimStatus::is_in_flight) {
            in_flight.push(claim_id.to_string());
        }
        claim_ids.push(claim_id);
    }
    if !in_flight.is_empty() {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "erasure-in-flight",
            "Claims still in flight",
            format!("the member's claims {} are still being adjudicated or pended; nothing was erased, retry once they are decided", in_flight.join(", ")),
        ));
    }
    let erasure_id = Uuid::now_v7();
    let erased_at = time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    for chunk in claim_ids.chunks(500) {
        let list = (0..chunk.len()).map(|k| format!("${}", k + 2)).collect::<Vec<_>>().join(",");
        let ids = || chunk.iter().map(|id| Value::from(*id));
        let mut values = vec![Value::from(erased_at.clone())];
        values.extend(ids());
        tx.execute_raw(stmt(
            store,
            format!("UPDATE {claims} SET claim = NULL, member_id = NULL, issues = '[]', erased_at = $1 WHERE claim_id IN ({list})"),
            values,
        ))
        .await?;
        let mut values = vec![Value::from("erased on request".to_owned())];
        values.extend(ids());
        tx.execute_raw(stmt(store, format!("UPDATE {} SET detail = $1 WHERE claim_id IN ({list})", store.table("claim_history")), values)).await?;
    }
    // Stored idempotent answers name the claims (and the issues of rejected ones).
    for claim_id in &claim_ids {
        tx.execute_raw(stmt(
            store,
            format!("DELETE FROM {} WHERE response LIKE $1", store.table("idempotency_keys")),
            vec![Value::from(format!("%{claim_id}%"))],
        ))
        .await?;
    }
    tx.execute_raw(stmt(
        store,
        format!("DELETE FROM {} WHERE payer_id = $1 AND member_id = $2", store.table("members")),
        vec![Value::from(request.payer_id.clone()), Value::from(request.member_id.clone())],
    ))
    .await?;
    let mut aggregates: Vec<String> = claim_ids.iter().map(Uuid::to_string).collect();
    aggregates.push(crate::reference::member_aggregate(&request.payer_id, &request.member_id));
    let erased = outbox::erase(store, &tx, &aggregates, erasure_id).await?;
    let event = ClaimsErased {
        erasure_id,
        payer_id: request.payer_id.clone(),
        claim_ids: claim_ids.clone(),
        requested_by: tenant.name.clone(),
        reason: request.reason,
    };
    outbox::append(
        store,
        &tx,
        &runtime.producer,
        vec![NewEvent::new(event, format!("erasure:{erasure_id}")).partitioned(&request.payer_id, &request.member_id)],
    )
    .await?;
    tx.commit().await?;
    runtime.relay_wakeup.notify_waiters();
    tracing::info!(%erasure_id, claims = claim_ids.len(), salts_deleted = erased.salts_deleted, bodies_redacted = erased.bodies_redacted, by = %tenant.name,
        "member data erased on request");
    Ok(Json(json!({
        "erasure_id": erasure_id,
        "claims": claim_ids.len(),
        "salts_deleted": erased.salts_deleted,
        "bodies_redacted": erased.bodies_redacted,
    })))
}
