//! `GET /v1/access-log`: the HIPAA access log, for auditors and admins.
//!
//! Every read of a claim (its status, ClaimResponse, EOB, or a listing) is
//! recorded by `status.rs` with who read it (tenant and key id), which claim,
//! which view and when. Auditors page through it here, by claim, by reader or
//! by time.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use claimtrail_runtime::Runtime;
use claimtrail_runtime::extract::{Authorized, Permission};
use claimtrail_runtime::http::Problem;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Tenant;
use crate::storage::claims::{self as stored, AccessFilter};

/// One read of a claim.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccessEntryView {
    pub access_id: i64,
    pub at: String,
    #[schema(value_type = String, format = "uuid")]
    pub claim_id: Uuid,
    pub reader_key_id: String,
    pub reader_tenant: String,
    /// `status`, `claim-response`, `eob` or `list`; reads through adjudication `adjudication:explanation`, `adjudication:pended-queue` or `adjudication:replay`.
    pub view: String,
}

/// `GET /v1/access-log`: a page of reads, oldest first, and the cursor of the next (null on the last page).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccessLog {
    pub entries: Vec<AccessEntryView>,
    pub next_after: Option<i64>,
}

/// Entries per page at most (default 100).
pub const ACCESS_PAGE_MAX: u64 = 1_000;

pub fn routes(runtime: Runtime) -> Router {
    Router::new().route("/v1/access-log", get(list)).with_state(runtime)
}

#[derive(Debug, Deserialize)]
pub(crate) struct AccessQuery {
    claim_id: Option<Uuid>,
    reader: Option<String>,
    /// Entries after this access id (the cursor of the previous page).
    after: Option<i64>,
    limit: Option<u64>,
}

/// Reads the access log: auditor and admin keys ([`Tenant::claims_scope`]).
pub(crate) struct ReadsAccessLog;

impl Permission for ReadsAccessLog {
    fn allows(tenant: &Tenant) -> bool {
        tenant.claims_scope().is_some()
    }
    fn denied(_: &Tenant) -> String {
        "the access log is for auditor and admin keys".to_owned()
    }
}

#[utoipa::path(get, path = "/v1/access-log", tag = "intake", operation_id = "list_access_log",
    params(("claim_id" = Option<String>, Query, description = "Only reads of this claim"),
           ("reader" = Option<String>, Query, description = "Only reads by this tenant"),
           ("after" = Option<i64>, Query, description = "Cursor: the last access_id of the previous page"),
           ("limit" = Option<u64>, Query, description = "At most this many (default 100, at most 1,000)")),
    responses((status = 200, description = "A page of reads, oldest first", body = AccessLog),
              (status = 403, description = "Not an auditor or admin key", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn list(
    State(runtime): State<Runtime>,
    Authorized { tenant, .. }: Authorized<ReadsAccessLog>,
    Query(query): Query<AccessQuery>,
) -> Result<Json<AccessLog>, Problem> {
    // The permission admitted it: auditor and admin keys, within their payers.
    let scope = &tenant.payers;
    let limit = query.limit.unwrap_or(100).clamp(1, ACCESS_PAGE_MAX);
    let filter = AccessFilter { scope, claim_id: query.claim_id, reader: query.reader, after: query.after.unwrap_or(0), limit };
    let entries: Vec<AccessEntryView> = stored::access_log(&runtime.store, &filter)
        .await?
        .into_iter()
        .map(|entry| AccessEntryView {
            access_id: entry.access_id,
            at: entry.at,
            claim_id: entry.claim_id,
            reader_key_id: entry.reader_key_id,
            reader_tenant: entry.reader_tenant,
            view: entry.view,
        })
        .collect();
    let last = entries.last().map(|entry| entry.access_id);
    let next_after = if entries.len() as u64 == limit { last } else { None };
    Ok(Json(AccessLog { entries, next_after }))
}
