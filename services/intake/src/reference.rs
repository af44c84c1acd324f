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
use claimtrail_events::{MemberEnrolled, NewEvent, ProviderEnrolled, format_date, parse_date};
use claimtrail_runtime::Runtime;
use claimtrail_runtime::http::{FieldError, Problem};
use claimtrail_store::{Migration, StoreError, outbox, stmt};
use sea_orm::{ConnectionTrait, TransactionTrait, Value};
use serde::Deserialize;

use crate::auth::{self, Role};

/// Rows in one CSV import, at most.
pub const IMPORT_ROWS_MAX: usize = 100_000;

pub fn migration() -> Migration {
    Migration {
        version: 4,
        name: "members and provider enrollments",
        statements: |store| {
            vec![
                format!(
                    "CREATE TABLE {} (payer_id TEXT NOT NULL, member_id TEXT NOT NULL, plan_id TEXT NOT NULL, family_name TEXT NOT NULL, given_name TEXT NOT NULL, \
                     birth_date TEXT NOT NULL, sex TEXT NOT NULL, coverage_start TEXT NOT NULL, coverage_end TEXT NOT NULL, PRIMARY KEY (payer_id, member_id))",
                    store.table("members")
                ),
                format!(
                    "CREATE TABLE {} (npi TEXT NOT NULL, payer_id TEXT NOT NULL, entity_type INTEGER NOT NULL, name TEXT NOT NULL, tin TEXT NOT NULL, \
                     taxonomy TEXT NOT NULL, enrollment_start TEXT NOT NULL, enrollment_end TEXT NOT NULL, PRIMARY KEY (npi, payer_id))",
                    store.table("provider_enrollments")
                ),
            ]
        },
    }
}

pub fn routes(runtime: Runtime) -> Router {
    Router::new()
        .route("/v1/payers/{payer_id}/members/{member_id}", put(put_member))
        .route("/v1/payers/{payer_id}/members/import", post(import_members))
        .route("/v1/providers/{npi}/enrollments/{payer_id}", put(put_enrollment))
        .with_state(runtime)
}

/// The body of `PUT /v1/payers/{payer_id}/members/{member_id}`.
#[derive(Debug, Deserialize)]
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
#[derive(Debug, Deserialize)]
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
    let store = &runtime.store;
    let upsert = format!(
        "INSERT INTO {} (payer_id, member_id, plan_id, family_name, given_name, birth_date, sex, coverage_start, coverage_end) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (payer_id, member_id) DO UPDATE SET plan_id = excluded.plan_id, \
         family_name = excluded.family_name, given_name = excluded.given_name, birth_date = excluded.birth_date, sex = excluded.sex, \
         coverage_start = excluded.coverage_start, coverage_end = excluded.coverage_end",
        store.table("members")
    );
    let mut events = Vec::with_capacity(members.len());
    for member in members {
        tx.execute_raw(stmt(
            store,
            upsert.clone(),
            vec![
                Value::from(member.payer_id.clone()),
                Value::from(member.member_id.clone()),
                Value::from(member.plan_id.clone()),
                Value::from(member.family_name.clone()),
                Value::from(member.given_name.clone()),
                Value::from(format_date(member.birth_date)),
                Value::from(member.sex.clone()),
                Value::from(format_date(member.coverage_start)),
                Value::from(format_date(member.coverage_end)),
            ],
        ))
        .await?;
        let aggregate = member_aggregate(&member.payer_id, &member.member_id);
        events.push(NewEvent::new(member, aggregate));
    }
    outbox::append(store, tx, &runtime.producer, events).await?;
    Ok(())
}

#[utoipa::path(put, path = "/v1/payers/{payer_id}/members/{member_id}", tag = "reference",
    params(("payer_id" = String, Path, description = "Payer"), ("member_id" = String, Path, description = "Member")),
    request_body(content = serde_json::Value, description = "`{family_name, given_name, birth_date, sex, plan_id, coverage_start, coverage_end}`"),
    responses((status = 200, description = "Stored; `member.enrolled.v1` emitted", body = serde_json::Value),
              (status = 403, description = "Not a payer or admin key", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "Invalid member, naming the field", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn put_member(
    State(runtime): State<Runtime>,
    headers: HeaderMap,
    Path((payer_id, member_id)): Path<(String, String)>,
    body: Body,
) -> Result<Json<serde_json::Value>, Problem> {
    let store = &runtime.store;
    require_publisher(&runtime, &headers, &payer_id).await?;
    let bytes = crate::submit::read_body(&headers, body, runtime.settings.body_bytes_max).await?;
    let body: MemberBody = claimtrail_runtime::http::json_body(&bytes, "a member")?;
    let member =
        validate_member(&payer_id, &member_id, &body, "").map_err(|errors| Problem::unprocessable("the member is invalid; nothing was stored", errors))?;
    let tx = store.db().begin().await?;
    store_members(&runtime, &tx, vec![member]).await?;
    tx.commit().await?;
    runtime.relay_wakeup.notify_waiters();
    Ok(Json(serde_json::json!({"payer_id": payer_id, "member_id": member_id, "stored": true})))
}

/// `POST /v1/payers/{payer_id}/members/import`: CSV with the header
/// `member_id,family_name,given_name,birth_date,sex,plan_id,coverage_start,coverage_end`.
/// All or nothing: any bad row fails the whole file, naming its line.
#[utoipa::path(post, path = "/v1/payers/{payer_id}/members/import", tag = "reference",
    params(("payer_id" = String, Path, description = "Payer")),
    request_body(content = String, content_type = "text/csv", description = "Header `member_id,family_name,given_name,birth_date,sex,plan_id,coverage_start,coverage_end`; all or nothing"),
    responses((status = 200, description = "`{payer_id, imported}`", body = serde_json::Value),
              (status = 422, description = "Invalid rows, each named by its line; nothing stored", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn import_members(
    State(runtime): State<Runtime>,
    headers: HeaderMap,
    Path(payer_id): Path<String>,
    body: Body,
) -> Result<Json<serde_json::Value>, Problem> {
    const HEADER: &str = "member_id,family_name,given_name,birth_date,sex,plan_id,coverage_start,coverage_end";
    let store = &runtime.store;
    require_publisher(&runtime, &headers, &payer_id).await?;
    let bytes = crate::submit::read_body(&headers, body, runtime.settings.body_bytes_max).await?;
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
    Ok(Json(serde_json::json!({"payer_id": payer_id, "imported": n_members})))
}

/// Checks an enrollment.
pub fn validate_enrollment(npi: &str, payer_id: &str, body: &EnrollmentBody) -> Result<ProviderEnrolled, Vec<FieldError>> {
    let mut errors = Vec::new();
    if let Err(e) = claimtrail_codes::Npi::parse(npi) {
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
    let store = &runtime.store;
    tx.execute_raw(stmt(
        store,
        format!(
            "INSERT INTO {} (npi, payer_id, entity_type, name, tin, taxonomy, enrollment_start, enrollment_end) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (npi, payer_id) DO UPDATE SET entity_type = excluded.entity_type, name = excluded.name, tin = excluded.tin, \
             taxonomy = excluded.taxonomy, enrollment_start = excluded.enrollment_start, enrollment_end = excluded.enrollment_end",
            store.table("provider_enrollments")
        ),
        vec![
            Value::from(enrollment.npi.clone()),
            Value::from(enrollment.payer_id.clone()),
            Value::from(i32::from(enrollment.entity_type)),
            Value::from(enrollment.name.clone()),
            Value::from(enrollment.tin.clone()),
            Value::from(enrollment.taxonomy.clone()),
            Value::from(format_date(enrollment.enrollment_start)),
            Value::from(format_date(enrollment.enrollment_end)),
        ],
    ))
    .await?;
    let aggregate = format!("provider:{}:{}", enrollment.npi, enrollment.payer_id);
    outbox::append(store, tx, &runtime.producer, vec![NewEvent::new(enrollment, aggregate)]).await?;
    Ok(())
}

#[utoipa::path(put, path = "/v1/providers/{npi}/enrollments/{payer_id}", tag = "reference",
    params(("npi" = String, Path, description = "Provider NPI"), ("payer_id" = String, Path, description = "Payer")),
    request_body(content = serde_json::Value, description = "`{entity_type, name, tin, taxonomy, enrollment_start, enrollment_end}`"),
    responses((status = 200, description = "Stored; `provider.enrolled.v1` emitted", body = serde_json::Value),
              (status = 403, description = "Not a payer or admin key", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "Invalid enrollment, naming the field", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn put_enrollment(
    State(runtime): State<Runtime>,
    headers: HeaderMap,
    Path((npi, payer_id)): Path<(String, String)>,
    body: Body,
) -> Result<Json<serde_json::Value>, Problem> {
    let store = &runtime.store;
    require_publisher(&runtime, &headers, &payer_id).await?;
    let bytes = crate::submit::read_body(&headers, body, runtime.settings.body_bytes_max).await?;
    let body: EnrollmentBody = claimtrail_runtime::http::json_body(&bytes, "an enrollment")?;
    let enrollment =
        validate_enrollment(&npi, &payer_id, &body).map_err(|errors| Problem::unprocessable("the enrollment is invalid; nothing was stored", errors))?;
    let tx = store.db().begin().await?;
    store_enrollment(&runtime, &tx, enrollment).await?;
    tx.commit().await?;
    runtime.relay_wakeup.notify_waiters();
    Ok(Json(serde_json::json!({"npi": npi, "payer_id": payer_id, "stored": true})))
}

/// The aggregate id of a member's enrollment events.
pub fn member_aggregate(payer_id: &str, member_id: &str) -> String {
    format!("member:{payer_id}:{member_id}")
}

/// How many members intake knows for `payer_id` (the demo seeds a payer once).
pub async fn member_count(store: &claimtrail_store::Store, payer_id: &str) -> Result<i64, StoreError> {
    payer_rows(store, "members", payer_id).await
}

/// Whether intake's registry holds `payer_id`.
pub async fn payer_registered(store: &claimtrail_store::Store, payer_id: &str) -> Result<bool, StoreError> {
    Ok(payer_rows(store, "payers", payer_id).await? > 0)
}

async fn payer_rows(store: &claimtrail_store::Store, table: &str, payer_id: &str) -> Result<i64, StoreError> {
    let sql = format!("SELECT COUNT(*) FROM {} WHERE payer_id = $1", store.table(table));
    let row = store.db().query_one_raw(stmt(store, sql, vec![Value::from(payer_id.to_owned())])).await?;
    Ok(row.map(|row| row.try_get_by_index::<i64>(0)).transpose()?.unwrap_or(0))
}
