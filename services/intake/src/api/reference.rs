//! Reference data intake needs for its edits: members with their coverage,
//! and providers with their enrollment per payer. A payer (or an admin)
//! publishes them through this API, one at a time or by CSV import; each
//! write updates intake's projection and emits `member.enrolled.v1` /
//! `provider.enrolled.v1` on `reference.>` in one transaction, so other
//! services build their own projections from the events.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{post, put};
use axum::{Json, Router};
use claimtrail_events::{MemberEnrolled, NewEvent, ProviderEnrolled};
use claimtrail_runtime::Runtime;
use claimtrail_runtime::extract::{ForPayer, LimitedBody, PayerPermission};
use claimtrail_runtime::http::{FieldError, Problem};
use claimtrail_store::{StoreError, outbox};
use sea_orm::{ConnectionTrait, TransactionTrait};
use serde::Serialize;

use super::field_errors;
use crate::auth::{Role, Tenant};
pub use crate::domain::registry::{EnrollmentBody, MemberBody, validate_enrollment, validate_member};
use crate::storage;
/// The demo's reads of the registry, through intake's library rather than its tables.
pub use crate::storage::registry::{member_count, payer_registered};

/// Rows in one CSV import, at most.
pub const IMPORT_ROWS_MAX: usize = 100_000;

pub fn routes(runtime: Runtime) -> Router {
    Router::new()
        .route("/v1/payers/{payer_id}/members/{member_id}", put(put_member))
        .route("/v1/payers/{payer_id}/members/import", post(import_members))
        .route("/v1/providers/{npi}/enrollments/{payer_id}", put(put_enrollment))
        .with_state(runtime)
}

/// Publishes reference data of payer `{payer_id}`: an admin key, or the payer's own.
pub(crate) struct PublishesReference;

impl PayerPermission for PublishesReference {
    fn denied(tenant: &Tenant, payer_id: &str) -> String {
        match tenant.role {
            Role::Payer => format!("this payer key publishes for payer {}, not {payer_id}", tenant.payer_id.as_deref().unwrap_or("(none)")),
            _ => "only payer and admin keys publish reference data".to_owned(),
        }
    }
}

/// Upserts members into the projection and emits their events, in `tx`.
pub async fn store_members(runtime: &Runtime, tx: &impl ConnectionTrait, members: Vec<MemberEnrolled>) -> Result<(), StoreError> {
    storage::registry::upsert_members(&runtime.store, tx, &members).await?;
    let events = members
        .into_iter()
        .map(|member| {
            let aggregate = member_aggregate(&member.payer_id, &member.member_id);
            NewEvent::new(member, aggregate)
        })
        .collect();
    outbox::append(&runtime.store, tx, &runtime.producer, events).await?;
    Ok(())
}

/// The answer to `PUT /v1/payers/{payer_id}/members/{member_id}`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MemberStored {
    pub member_id: String,
    pub payer_id: String,
    pub stored: bool,
}

/// The answer to a CSV import: how many rows it stored (and for whose payer, when the path names one).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Imported {
    pub imported: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payer_id: Option<String>,
}

/// The answer to `PUT /v1/providers/{npi}/enrollments/{payer_id}`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EnrollmentStored {
    pub npi: String,
    pub payer_id: String,
    pub stored: bool,
}

#[utoipa::path(put, path = "/v1/payers/{payer_id}/members/{member_id}", tag = "reference",
    params(("payer_id" = String, Path, description = "Payer"), ("member_id" = String, Path, description = "Member")),
    request_body(content = MemberBody, content_type = "application/json"),
    responses((status = 200, description = "Stored; `member.enrolled.v1` emitted", body = MemberStored),
              (status = 403, description = "Not a payer or admin key", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "Invalid member, naming the field", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn put_member(
    State(runtime): State<Runtime>,
    _publisher: ForPayer<PublishesReference>,
    Path((payer_id, member_id)): Path<(String, String)>,
    LimitedBody(bytes): LimitedBody,
) -> Result<Json<MemberStored>, Problem> {
    let store = &runtime.store;
    let body: MemberBody = claimtrail_runtime::http::json_body(&bytes, "a member")?;
    let member = validate_member(&payer_id, &member_id, &body, "")
        .map_err(|errors| Problem::unprocessable("the member is invalid; nothing was stored", field_errors(errors)))?;
    let tx = store.db().begin().await?;
    store_members(&runtime, &tx, vec![member]).await?;
    tx.commit().await?;
    runtime.relay_wakeup.notify_waiters();
    Ok(Json(MemberStored { member_id, payer_id, stored: true }))
}

/// `POST /v1/payers/{payer_id}/members/import`: CSV with the header
/// `member_id,family_name,given_name,birth_date,sex,plan_id,coverage_start,coverage_end`.
/// All or nothing: any bad row fails the whole file, naming its line.
#[utoipa::path(post, path = "/v1/payers/{payer_id}/members/import", tag = "reference",
    params(("payer_id" = String, Path, description = "Payer")),
    request_body(content = String, content_type = "text/csv", description = "Header `member_id,family_name,given_name,birth_date,sex,plan_id,coverage_start,coverage_end`; all or nothing"),
    responses((status = 200, description = "How many members were stored", body = Imported),
              (status = 422, description = "Invalid rows, each named by its line; nothing stored", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn import_members(
    State(runtime): State<Runtime>,
    ForPayer { payer_id, .. }: ForPayer<PublishesReference>,
    LimitedBody(bytes): LimitedBody,
) -> Result<Json<Imported>, Problem> {
    const HEADER: &str = "member_id,family_name,given_name,birth_date,sex,plan_id,coverage_start,coverage_end";
    let store = &runtime.store;
    let text = std::str::from_utf8(&bytes).map_err(|_| Problem::bad_request("the CSV is not UTF-8"))?;
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, header)) if header.trim() == HEADER => {}
        _ => {
            return Err(Problem::unprocessable(
                format!("line 1 must be the header `{HEADER}`"),
                vec![FieldError { path: "line 1".into(), message: format!("expected `{HEADER}`") }],
            ));
        }
    }
    let mut members = Vec::new();
    let mut errors = Vec::new();
    for (line_idx, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let at = format!("line {}: ", line_idx + 1);
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != 8 {
            errors.push(FieldError {
                path: format!("line {}", line_idx + 1),
                message: format!("has {} fields, expected 8 (quoted commas are not supported)", fields.len()),
            });
            continue;
        }
        let body = MemberBody {
            family_name: fields[1].to_owned(),
            given_name: fields[2].to_owned(),
            birth_date: fields[3].to_owned(),
            sex: fields[4].to_owned(),
            plan_id: fields[5].to_owned(),
            coverage_start: fields[6].to_owned(),
            coverage_end: fields[7].to_owned(),
            date_of_death: None,
            subscriber_id: None,
            relationship: None,
            zip: None,
        };
        match validate_member(&payer_id, fields[0], &body, &at) {
            Ok(member) => members.push(member),
            Err(line_errors) => errors.extend(field_errors(line_errors)),
        }
        if members.len() > IMPORT_ROWS_MAX {
            return Err(Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "too-large", "Too many rows", format!("an import holds at most {IMPORT_ROWS_MAX} rows")));
        }
    }
    if !errors.is_empty() {
        errors.truncate(100);
        return Err(Problem::unprocessable("the import has invalid rows; nothing was stored", errors));
    }
    let n_members = members.len();
    let tx = store.db().begin().await?;
    store_members(&runtime, &tx, members).await?;
    tx.commit().await?;
    runtime.relay_wakeup.notify_waiters();
    Ok(Json(Imported { imported: n_members, payer_id: Some(payer_id) }))
}

/// Upserts an enrollment into the projection and emits its event, in `tx`.
pub async fn store_enrollment(runtime: &Runtime, tx: &impl ConnectionTrait, enrollment: ProviderEnrolled) -> Result<(), StoreError> {
    storage::registry::upsert_enrollment(&runtime.store, tx, &enrollment).await?;
    let aggregate = format!("provider:{}:{}", enrollment.npi, enrollment.payer_id);
    outbox::append(&runtime.store, tx, &runtime.producer, vec![NewEvent::new(enrollment, aggregate)]).await?;
    Ok(())
}

#[utoipa::path(put, path = "/v1/providers/{npi}/enrollments/{payer_id}", tag = "reference",
    params(("npi" = String, Path, description = "Provider NPI"), ("payer_id" = String, Path, description = "Payer")),
    request_body(content = EnrollmentBody, content_type = "application/json"),
    responses((status = 200, description = "Stored; `provider.enrolled.v1` emitted", body = EnrollmentStored),
              (status = 403, description = "Not a payer or admin key", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "Invalid enrollment, naming the field", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn put_enrollment(
    State(runtime): State<Runtime>,
    _publisher: ForPayer<PublishesReference>,
    Path((npi, payer_id)): Path<(String, String)>,
    LimitedBody(bytes): LimitedBody,
) -> Result<Json<EnrollmentStored>, Problem> {
    let store = &runtime.store;
    let body: EnrollmentBody = claimtrail_runtime::http::json_body(&bytes, "an enrollment")?;
    let enrollment = validate_enrollment(&npi, &payer_id, &body)
        .map_err(|errors| Problem::unprocessable("the enrollment is invalid; nothing was stored", field_errors(errors)))?;
    let tx = store.db().begin().await?;
    store_enrollment(&runtime, &tx, enrollment).await?;
    tx.commit().await?;
    runtime.relay_wakeup.notify_waiters();
    Ok(Json(EnrollmentStored { npi, payer_id, stored: true }))
}

/// The aggregate id of a member's enrollment events.
pub fn member_aggregate(payer_id: &str, member_id: &str) -> String {
    format!("member:{payer_id}:{member_id}")
}
