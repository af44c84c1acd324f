//! Intake's HTTP API: typed axum handlers. A handler takes its caller,
//! checked for its role and payer scope, from the shared extractors
//! (`claimtrail_runtime::extract`), parses, calls the domain or storage, and answers; every request and response body
//! of the non-FHIR operations is a struct deriving its OpenAPI schema, whose
//! fields are declared in the order their JSON has always been written
//! (alphabetical), so that answers stay byte for byte what they were.
//!
//! - [`submit`]: `POST /v1/claims` (FHIR R4 Claim or Bundle) and the
//!   submission pipeline X12 shares: credentials, content type, size,
//!   Idempotency-Key, signature, edits, one transaction.
//! - [`x12`]: `POST /v1/claims/x12` (837P/837I, answered with TA1, 999, 277CA).
//! - [`claims`]: `GET /v1/claims`, `/v1/claims/{id}`, its ClaimResponse and EOB.
//! - [`registry`]: payers, providers and the organizations' signing keys.
//! - [`reference`]: members with coverage, provider enrollments.
//! - [`imports`]: CSV imports of providers and enrollments.
//! - [`access`]: the HIPAA access log.
//! - [`erasure`]: `POST /v1/erasures`.

pub mod access;
pub mod claims;
pub mod erasure;
pub mod imports;
pub mod reference;
pub mod registry;
pub mod submit;
pub mod x12;

use axum::Router;
use axum::http::{HeaderMap, header};
use claimtrail_runtime::Runtime;
use claimtrail_runtime::http::{FieldError, Problem};
use serde::Serialize;

use crate::domain::registry::Invalid;

/// Every intake route.
pub fn routes(runtime: Runtime) -> Router {
    submit::routes(runtime.clone())
        .merge(claims::routes(runtime.clone()))
        .merge(reference::routes(runtime.clone()))
        .merge(registry::routes(runtime.clone()))
        .merge(x12::routes(runtime.clone()))
        .merge(imports::routes(runtime.clone()))
        .merge(erasure::routes(runtime.clone()))
        .merge(access::routes(runtime))
}

/// 415 unless the Content-Type's essence (parameters ignored) is one of
/// `accepted`; `wanted` names them in the answer, as `a (or b)`.
pub fn check_media_type(headers: &HeaderMap, accepted: &[&str], wanted: &str) -> Result<(), Problem> {
    let value = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if accepted.contains(&essence.as_str()) {
        return Ok(());
    }
    if essence.is_empty() {
        return Err(Problem::unsupported_media_type(format!("send Content-Type: {wanted}")));
    }
    Err(Problem::unsupported_media_type(format!(
        "content type `{essence}` is not accepted here; send {}",
        wanted.replace(" (or ", " or ").trim_end_matches(')')
    )))
}

/// The domain's field faults as the problem's `errors`.
pub(crate) fn field_errors(invalid: Vec<Invalid>) -> Vec<FieldError> {
    invalid.into_iter().map(|Invalid { path, message }| FieldError { path, message }).collect()
}

/// A front-end edit a claim failed: the element (FHIRPath or X12 position), the edit's code and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct IssueView {
    pub code: String,
    pub message: String,
    pub path: String,
}

impl From<&claimtrail_events::ClaimIssue> for IssueView {
    fn from(issue: &claimtrail_events::ClaimIssue) -> IssueView {
        IssueView { code: issue.code.clone(), message: issue.message.clone(), path: issue.path.clone() }
    }
}
