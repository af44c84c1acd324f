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
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use claimtrail_events::{ClaimStatus, ClaimsErased, NewEvent};
use claimtrail_runtime::Runtime;
use claimtrail_runtime::auth::Role;
use claimtrail_runtime::extract::{Authorized, LimitedBody, Permission};
use claimtrail_runtime::http::Problem;
use claimtrail_store::outbox;
use sea_orm::TransactionTrait;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Tenant;
use crate::storage;

/// The answer to `POST /v1/erasures`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErasureAnswer {
    /// Published bodies replaced (on Postgres).
    pub bodies_redacted: u64,
    /// How many of the member's claims were erased.
    pub claims: usize,
    #[schema(value_type = String, format = "uuid")]
    pub erasure_id: Uuid,
    pub salts_deleted: u64,
}

/// The longest reason accepted.
pub const REASON_CHARS_MAX: usize = 500;

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

/// Erases a member's data: admin keys only.
pub(crate) struct ErasesMembers;

impl Permission for ErasesMembers {
    fn allows(tenant: &Tenant) -> bool {
        tenant.role == Role::Admin
    }
    fn denied(_: &Tenant) -> String {
        "only an admin key erases a member's data".to_owned()
    }
}

#[utoipa::path(post, path = "/v1/erasures", tag = "intake",
    request_body(content = ErasureRequest, content_type = "application/json"),
    responses((status = 200, description = "Erased; `claims.erased.v1` follows to the other services", body = ErasureAnswer),
              (status = 400, description = "A field is missing or empty, or the reason is too long", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "A claim of the member is still being adjudicated or is pended; retry once it is decided", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn erase(
    State(runtime): State<Runtime>,
    Authorized { tenant, .. }: Authorized<ErasesMembers>,
    LimitedBody(body): LimitedBody,
) -> Result<Json<ErasureAnswer>, Problem> {
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
    let tx = store.db().begin().await?;
    let rows = storage::claims::member_claims(store, &tx, &request.payer_id, &request.member_id).await?;
    let mut claim_ids: Vec<Uuid> = Vec::with_capacity(rows.len());
    let mut in_flight: Vec<String> = Vec::new();
    for (claim_id, status) in rows {
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
    storage::claims::erase(store, &tx, &claim_ids, &erased_at).await?;
    // Stored idempotent answers name the claims (and the issues of rejected ones).
    storage::idempotency::forget_answers_naming(store, &tx, &claim_ids).await?;
    storage::registry::delete_member(store, &tx, &request.payer_id, &request.member_id).await?;
    let mut aggregates: Vec<String> = claim_ids.iter().map(Uuid::to_string).collect();
    aggregates.push(crate::api::reference::member_aggregate(&request.payer_id, &request.member_id));
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
    Ok(Json(ErasureAnswer { bodies_redacted: erased.bodies_redacted, claims: claim_ids.len(), erasure_id, salts_deleted: erased.salts_deleted }))
}
