//! Reference data intake needs for its edits: members with their coverage,
//! and providers with their enrollment per payer. A payer (or an admin)
//! publishes them through this API, one at a time or by CSV import; each
//! write updates intake's projection and emits `member.enrolled.v1` /
//! `provider.enrolled.v1` on `reference.>` in one transaction, so other
//! services build their own projections from the events.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{post, put};
use axum::{Json, Router};
use claimtrail_events::{MemberEnrolled, NewEvent, ProviderEnrolled, parse_date};
use claimtrail_runtime::Runtime;
use claimtrail_runtime::http::{FieldError, Problem};
use claimtrail_store::{StoreError, outbox};
use sea_orm::{ConnectionTrait, TransactionTrait};
use serde::{Deserialize, Serialize};

use super::read_body;
use crate::auth::{self, Role};
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

/// The body of `PUT /v1/payers/{payer_id}/members/{member_id}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberBody {
    pub family_name: String,
    pub given_name: String,
    pub birth_date: String,
    pub sex: String,
    pub plan_id: String,
    pub coverage_start: String,
    pub coverage_end: String,
}

/// The body of `PUT /v1/providers/{npi}/enrollments/{payer_id}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrollmentBody {
    pub entity_type: u8,
    pub name: String,
    pub tin: String,
    pub taxonomy: String,
    pub enrollment_start: String,
    pub enrollment_end: String,
}

fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 80 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// An admin key, or the key of the payer whose data this is.
async fn require_publisher(runtime: &Runtime, headers: &HeaderMap, payer_id: &str) -> Result<auth::Tenant, Problem> {
    let tenant = auth::authenticate(runtime, headers).await?;
    if tenant.role.may_publish_for(&tenant, payer_id) {
        return Ok(tenant);
    }
    let detail = match tenant.role {
        Role::Payer => format!("this payer key publishes for payer {}, not {payer_id}", tenant.payer_id.as_deref().unwrap_or("(none)")),
        _ => "only payer and admin keys publish reference data".to_owned(),
    };
    Err(Problem::forbidden(detail))
}

/// Checks a member; errors name the field (prefixed with `at`, e.g. a CSV line).
pub fn validate_member(payer_id: &str, member_id: &str, body: &MemberBody, at: &str) -> Result<MemberEnrolled, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut error = |path: &str, message: String| errors.push(FieldError { path: format!("{at}{path}"), message });
    if !valid_id(payer_id) {
        error("payer_id", "must be 1-80 letters, digits, - or _".into());
    }
    if !valid_id(member_id) {
        error("member_id", "must be 1-80 letters, digits, - or _".into());
    }
    if body.family_name.trim().is_empty() {
        error("family_name", "must not be empty".into());
    }
    if body.given_name.trim().is_empty() {
        error("given_name", "must not be empty".into());
    }
    if !matches!(body.sex.as_str(), "female" | "male" | "other" | "unknown") {
        error("sex", format!("`{}` is not female, male, other or unknown", body.sex));
    }
    if !valid_id(&body.plan_id) {
        error("plan_id", "must be 1-80 letters, digits, - or _".into());
    }
    let mut date = |path: &str, text: &str| match parse_date(text) {
        Some(date) => Some(date),
        None => {
            error(path, format!("`{text}` is not a date (YYYY-MM-DD)"));
            None
        }
    };
    let birth_date = date("birth_date", &body.birth_date);
    let start = date("coverage_start", &body.coverage_start);
    let end = date("coverage_end", &body.coverage_end);
    if let (Some(start), Some(end)) = (start, end)
        && end < start
    {
        errors.push(FieldError { path: format!("{at}coverage_end"), message: "is before coverage_start".into() });
    }
    match (birth_date, start, end) {
        (Some(birth_date), Some(coverage_start), Some(coverage_end)) if errors.is_empty() => Ok(MemberEnrolled {
            payer_id: payer_id.to_owned(),
            member_id: member_id.to_owned(),
            family_name: body.family_name.trim().to_owned(),
            given_name: body.given_name.trim().to_owned(),
            birth_date,
            sex: body.sex.clone(),
            plan_id: body.plan_id.clone(),
            coverage_start,
            coverage_end,
        }),
        _ => Err(errors),
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
    headers: HeaderMap,
    Path((payer_id, member_id)): Path<(String, String)>,
    body: Body,
) -> Result<Json<MemberStored>, Problem> {
    let store = &runtime.store;
    require_publisher(&runtime, &headers, &payer_id).await?;
    let bytes = read_body(&headers, body, runtime.settings.body_bytes_max).await?;
    let body: MemberBody = claimtrail_runtime::http::json_body(&bytes, "a member")?;
    let member =
        validate_member(&payer_id, &member_id, &body, "").map_err(|errors| Problem::unprocessable("the member is invalid; nothing was stored", errors))?;
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
    headers: HeaderMap,
    Path(payer_id): Path<String>,
    body: Body,
) -> Result<Json<Imported>, Problem> {
    const HEADER: &str = "member_id,family_name,given_name,birth_date,sex,plan_id,coverage_start,coverage_end";
    let store = &runtime.store;
    require_publisher(&runtime, &headers, &payer_id).await?;
    let bytes = read_body(&headers, body, runtime.settings.body_bytes_max).await?;
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
        };
        match validate_member(&payer_id, fields[0], &body, &at) {
            Ok(member) => members.push(member),
            Err(line_errors) => errors.extend(line_errors),
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

/// Checks an enrollment.
pub fn validate_enrollment(npi: &str, payer_id: &str, body: &EnrollmentBody) -> Result<ProviderEnrolled, Vec<FieldError>> {
    let mut errors = Vec::new();
    if let Err(e) = claimtrail_fhir::Npi::parse(npi) {
        errors.push(FieldError { path: "npi".into(), message: e.to_string() });
    }
    if !valid_id(payer_id) {
        errors.push(FieldError { path: "payer_id".into(), message: "must be 1-80 letters, digits, - or _".into() });
    }
    if !matches!(body.entity_type, 1 | 2) {
        errors.push(FieldError { path: "entity_type".into(), message: "must be 1 (individual) or 2 (organization)".into() });
    }
    if body.name.trim().is_empty() {
        errors.push(FieldError { path: "name".into(), message: "must not be empty".into() });
    }
    if body.tin.len() != 9 || !body.tin.chars().all(|c| c.is_ascii_digit()) {
        errors.push(FieldError { path: "tin".into(), message: "must be 9 digits".into() });
    }
    if body.taxonomy.len() != 10 || !body.taxonomy.chars().all(|c| c.is_ascii_alphanumeric()) {
        errors.push(FieldError { path: "taxonomy".into(), message: "must be a 10-character NUCC taxonomy code".into() });
    }
    let start = parse_date(&body.enrollment_start);
    let end = parse_date(&body.enrollment_end);
    if start.is_none() {
        errors.push(FieldError { path: "enrollment_start".into(), message: format!("`{}` is not a date (YYYY-MM-DD)", body.enrollment_start) });
    }
    if end.is_none() {
        errors.push(FieldError { path: "enrollment_end".into(), message: format!("`{}` is not a date (YYYY-MM-DD)", body.enrollment_end) });
    }
    match (start, end) {
        (Some(start), Some(end)) if end < start => {
            errors.push(FieldError { path: "enrollment_end".into(), message: "is before enrollment_start".into() });
            Err(errors)
        }
        (Some(enrollment_start), Some(enrollment_end)) if errors.is_empty() => Ok(ProviderEnrolled {
            npi: npi.to_owned(),
            entity_type: body.entity_type,
            name: body.name.trim().to_owned(),
            tin: body.tin.clone(),
            taxonomy: body.taxonomy.clone(),
            payer_id: payer_id.to_owned(),
            enrollment_start,
            enrollment_end,
        }),
        _ => Err(errors),
    }
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
    headers: HeaderMap,
    Path((npi, payer_id)): Path<(String, String)>,
    body: Body,
) -> Result<Json<EnrollmentStored>, Problem> {
    let store = &runtime.store;
    require_publisher(&runtime, &headers, &payer_id).await?;
    let bytes = read_body(&headers, body, runtime.settings.body_bytes_max).await?;
    let body: EnrollmentBody = claimtrail_runtime::http::json_body(&bytes, "an enrollment")?;
    let enrollment =
        validate_enrollment(&npi, &payer_id, &body).map_err(|errors| Problem::unprocessable("the enrollment is invalid; nothing was stored", errors))?;
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
