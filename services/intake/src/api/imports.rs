//! Bulk imports of providers and enrollments as CSV, like the member import:
//! all or nothing, every bad row named by its line and field, nothing stored
//! unless every row is valid; one transaction for the projection rows and
//! their reference events.
//!
//! - `POST /v1/providers/import` (admin): the provider registry, header
//!   [`PROVIDER_HEADER`]; empty licence or bank fields mean none.
//! - `POST /v1/payers/{payer_id}/enrollments/import` (admin or that payer's
//!   key): enrollments with the payer, header [`ENROLLMENT_HEADER`].
//!
//! Fields are separated by commas; quoted fields (with commas inside) are not
//! supported, and a row with the wrong number of fields says so.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use claimtrail_runtime::Runtime;
use claimtrail_runtime::extract::{Authorized, ForPayer, LimitedBody, PayerPermission, Permission};
use claimtrail_runtime::http::{FieldError, Problem};
use sea_orm::TransactionTrait;

use super::reference::{self, EnrollmentBody, IMPORT_ROWS_MAX, Imported};
use super::registry::{self, BankAccountBody, LicenceBody, PayToBody, ProviderBody};
use crate::auth::{Role, Tenant};
use crate::domain::registry::Invalid;

pub const PROVIDER_HEADER: &str = "npi,entity_type,name,tin,taxonomy,organization,licence_number,licence_state,licence_expires,\
pay_to_name,pay_to_address_line,pay_to_city,pay_to_state,pay_to_postal_code,routing_number,account_number,account_type";
pub const ENROLLMENT_HEADER: &str = "npi,entity_type,name,tin,taxonomy,enrollment_start,enrollment_end";

pub fn routes(runtime: Runtime) -> Router {
    Router::new()
        .route("/v1/providers/import", post(import_providers))
        .route("/v1/payers/{payer_id}/enrollments/import", post(import_enrollments))
        .with_state(runtime)
}

/// The data rows of a CSV with `header`: (1-based line number, fields), or the problem naming what is wrong.
fn rows<'a>(text: &'a str, header: &str) -> Result<Vec<(usize, Vec<&'a str>)>, Problem> {
    let n_fields = header.split(',').count();
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, first)) if first.trim() == header => {}
        _ => {
            return Err(Problem::unprocessable(
                format!("line 1 must be the header `{header}`"),
                vec![FieldError { path: "line 1".into(), message: format!("expected `{header}`") }],
            ));
        }
    }
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (line_idx, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != n_fields {
            errors.push(FieldError {
                path: format!("line {}", line_idx + 1),
                message: format!("has {} fields, expected {n_fields} (quoted commas are not supported)", fields.len()),
            });
            continue;
        }
        rows.push((line_idx + 1, fields));
        if rows.len() > IMPORT_ROWS_MAX {
            return Err(Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "too-large", "Too many rows", format!("an import holds at most {IMPORT_ROWS_MAX} rows")));
        }
    }
    if errors.is_empty() { Ok(rows) } else { Err(Problem::unprocessable("the import has malformed rows; nothing was stored", errors)) }
}

fn at_line(line: usize, errors: Vec<Invalid>) -> impl Iterator<Item = FieldError> {
    errors.into_iter().map(move |e| FieldError { path: format!("line {line}: {}", e.path), message: e.message })
}

fn finish(mut errors: Vec<FieldError>) -> Result<(), Problem> {
    if errors.is_empty() {
        return Ok(());
    }
    errors.truncate(100);
    Err(Problem::unprocessable("the import has invalid rows; nothing was stored", errors))
}

/// Imports the provider registry: admin keys only.
pub(crate) struct ImportsProviders;

impl Permission for ImportsProviders {
    fn allows(tenant: &Tenant) -> bool {
        tenant.role == Role::Admin
    }
    fn denied(_: &Tenant) -> String {
        "only an admin key registers providers".to_owned()
    }
}

/// Enrolls providers with payer `{payer_id}`: an admin key, or the payer's own.
pub(crate) struct EnrollsProviders;

impl PayerPermission for EnrollsProviders {
    fn denied(_: &Tenant, payer_id: &str) -> String {
        format!("only an admin key or payer {payer_id}'s own key enrolls providers with it")
    }
}

#[utoipa::path(post, path = "/v1/providers/import", tag = "reference",
    request_body(content = String, content_type = "text/csv", description = "Header `npi,entity_type,name,tin,taxonomy,organization,licence_number,licence_state,licence_expires,pay_to_name,pay_to_address_line,pay_to_city,pay_to_state,pay_to_postal_code,routing_number,account_number,account_type`; all or nothing"),
    responses((status = 200, description = "How many providers were stored; `provider.registered.v1` per row", body = Imported),
              (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "Invalid rows, each named by its line; nothing stored", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn import_providers(
    State(runtime): State<Runtime>,
    _admin: Authorized<ImportsProviders>,
    LimitedBody(bytes): LimitedBody,
) -> Result<Json<Imported>, Problem> {
    let text = std::str::from_utf8(&bytes).map_err(|_| Problem::bad_request("the CSV is not UTF-8"))?;
    let mut providers = Vec::new();
    let mut errors = Vec::new();
    for (line, f) in rows(text, PROVIDER_HEADER)? {
        let entity_type = f[1].parse::<u8>().unwrap_or(0);
        let optional = |value: &str| (!value.is_empty()).then(|| value.to_owned());
        let body = ProviderBody {
            entity_type,
            name: f[2].to_owned(),
            tin: f[3].to_owned(),
            taxonomy: f[4].to_owned(),
            organization: f[5].to_owned(),
            licence: optional(f[6]).map(|number| LicenceBody { number, state: f[7].to_owned(), expires: f[8].to_owned() }),
            pay_to: PayToBody {
                name: f[9].to_owned(),
                address_line: f[10].to_owned(),
                city: f[11].to_owned(),
                state: f[12].to_owned(),
                postal_code: f[13].to_owned(),
            },
            bank_account: optional(f[14]).map(|routing_number| BankAccountBody {
                routing_number,
                account_number: f[15].to_owned(),
                account_type: f[16].to_owned(),
            }),
        };
        match registry::validate_provider(f[0], &body) {
            Ok(provider) => providers.push(provider),
            Err(row_errors) => errors.extend(at_line(line, row_errors)),
        }
    }
    finish(errors)?;
    let n_providers = providers.len();
    let tx = runtime.store.db().begin().await?;
    for provider in providers {
        registry::store_provider(&runtime, &tx, provider).await?;
    }
    tx.commit().await?;
    runtime.relay_wakeup.notify_waiters();
    Ok(Json(Imported { imported: n_providers, payer_id: None }))
}

#[utoipa::path(post, path = "/v1/payers/{payer_id}/enrollments/import", tag = "reference",
    params(("payer_id" = String, Path, description = "Payer")),
    request_body(content = String, content_type = "text/csv", description = "Header `npi,entity_type,name,tin,taxonomy,enrollment_start,enrollment_end`; all or nothing"),
    responses((status = 200, description = "How many enrollments were stored; `provider.enrolled.v1` per row", body = Imported),
              (status = 403, description = "Not an admin key, nor this payer's key", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "Invalid rows, each named by its line; nothing stored", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn import_enrollments(
    State(runtime): State<Runtime>,
    ForPayer { payer_id, .. }: ForPayer<EnrollsProviders>,
    LimitedBody(bytes): LimitedBody,
) -> Result<Json<Imported>, Problem> {
    let text = std::str::from_utf8(&bytes).map_err(|_| Problem::bad_request("the CSV is not UTF-8"))?;
    let mut enrollments = Vec::new();
    let mut errors = Vec::new();
    for (line, f) in rows(text, ENROLLMENT_HEADER)? {
        let body = EnrollmentBody {
            entity_type: f[1].parse::<u8>().unwrap_or(0),
            name: f[2].to_owned(),
            tin: f[3].to_owned(),
            taxonomy: f[4].to_owned(),
            enrollment_start: f[5].to_owned(),
            enrollment_end: f[6].to_owned(),
            last_name: None,
            first_name: None,
            birth_date: None,
        };
        match reference::validate_enrollment(f[0], &payer_id, &body) {
            Ok(enrollment) => enrollments.push(enrollment),
            Err(row_errors) => errors.extend(at_line(line, row_errors)),
        }
    }
    finish(errors)?;
    let n_enrollments = enrollments.len();
    let tx = runtime.store.db().begin().await?;
    for enrollment in enrollments {
        reference::store_enrollment(&runtime, &tx, enrollment).await?;
    }
    tx.commit().await?;
    runtime.relay_wakeup.notify_waiters();
    Ok(Json(Imported { imported: n_enrollments, payer_id: Some(payer_id) }))
}
