//! `GET /v1/access-log`: the HIPAA access log, for auditors and admins.
//!
//! Every read of a claim (its status, ClaimResponse, EOB, or a listing) is
//! recorded by `status.rs` with who read it (tenant and key id), which claim,
//! which view and when. Auditors page through it here, by claim, by reader or
//! by time.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use claimtrail_runtime::Runtime;
use claimtrail_runtime::http::Problem;
use claimtrail_store::stmt;
use sea_orm::{ConnectionTrait, Value};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth;

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

#[utoipa::path(get, path = "/v1/access-log", tag = "intake",
    params(("claim_id" = Option<String>, Query, description = "Only reads of this claim"),
           ("reader" = Option<String>, Query, description = "Only reads by this tenant"),
           ("after" = Option<i64>, Query, description = "Cursor: the last access_id of the previous page"),
           ("limit" = Option<u64>, Query, description = "At most this many (default 100, at most 1,000)")),
    responses((status = 200, description = "`{entries: [{access_id, claim_id, reader_tenant, reader_key_id, view, at}], next_after}` oldest first", body = serde_json::Value),
              (status = 403, description = "Not an auditor or admin key", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn list(State(runtime): State<Runtime>, headers: HeaderMap, Query(query): Query<AccessQuery>) -> Result<Json<serde_json::Value>, Problem> {
    let store = &runtime.store;
    let tenant = auth::authenticate(&runtime, &headers).await?;
    let Some(scope) = tenant.claims_scope() else {
        return Err(Problem::forbidden("the access log is for auditor and admin keys"));
    };
    let limit = query.limit.unwrap_or(100).clamp(1, ACCESS_PAGE_MAX);
    let mut conditions = vec!["access_id > $1".to_owned()];
    let mut values = vec![Value::from(query.after.unwrap_or(0))];
    // Reads of the claims of the payers the key reads only.
    if let Some(in_scope) = scope.sql_condition("payer_id", &mut values) {
        conditions.push(format!("claim_id IN (SELECT claim_id FROM {} WHERE {in_scope})", store.table("claims")));
    }
    if let Some(claim_id) = query.claim_id {
        values.push(Value::from(claim_id));
        conditions.push(format!("claim_id = ${}", values.len()));
    }
    if let Some(reader) = &query.reader {
        values.push(Value::from(reader.clone()));
        conditions.push(format!("reader_tenant = ${}", values.len()));
    }
    let rows = store
        .reader()
        .query_all_raw(stmt(
            store,
            format!(
                "SELECT access_id, claim_id, reader_tenant, reader_key_id, view, CAST(at AS TEXT) FROM {} WHERE {} ORDER BY access_id LIMIT {limit}",
                store.table("access_log"),
                conditions.join(" AND ")
            ),
            values,
        ))
        .await?;
    let mut entries = Vec::with_capacity(rows.len());
    let mut last = None;
    for row in rows {
        let access_id: i64 = row.try_get_by_index(0)?;
        let claim_id: Uuid = row.try_get_by_index(1)?;
        last = Some(access_id);
        entries.push(serde_json::json!({
            "access_id": access_id,
            "claim_id": claim_id,
            "reader_tenant": row.try_get_by_index::<String>(2)?,
            "reader_key_id": row.try_get_by_index::<String>(3)?,
            "view": row.try_get_by_index::<String>(4)?,
            "at": row.try_get_by_index::<String>(5)?,
        }));
    }
    let next_after = if entries.len() as u64 == limit { last } else { None };
    Ok(Json(serde_json::json!({"entries": entries, "next_after": next_after})))
}
