//! `POST /v1/claims`: a FHIR R4 Claim, or a Bundle of Claims.
//!
//! Order of checks, each answering with problem+json and storing nothing:
//! credentials (401), content type (415), body size (413), JSON (400),
//! FHIR structure (422; for a transaction Bundle any bad entry fails the
//! whole). Then each claim gets an id and goes through the front-end edits:
//! passing claims are `accepted` (`claim.submitted.v1`), failing ones are
//! `rejected` with their issues (`claim.rejected.v1`) and kept. All claims of
//! one request, their history rows and their events commit in one transaction.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use claimtrail_events::{ClaimIssue, ClaimRejected, ClaimSubmitted, NewEvent, Timestamp};
use claimtrail_fhir::{BundleType, FhirError};
use claimtrail_runtime::Runtime;
use claimtrail_runtime::http::{FieldError, Problem};
use claimtrail_store::{outbox, stmt};
use sea_orm::{ConnectionTrait, TransactionTrait, Value};
use serde_json::json;
use uuid::Uuid;

use crate::auth;
use crate::status::{HistoryEntry, record_history};

pub fn routes(runtime: Runtime) -> Router {
    Router::new().route("/v1/claims", post(submit)).with_state(runtime)
}

/// Accepts `application/fhir+json` and `application/json`, with any parameters
/// (charset, fhirVersion).
fn check_content_type(headers: &HeaderMap) -> Result<(), Problem> {
    let value = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match essence.as_str() {
        "application/fhir+json" | "application/json" => Ok(()),
        "" => Err(Problem::unsupported_media_type("send Content-Type: application/fhir+json (or application/json)")),
        other => Err(Problem::unsupported_media_type(format!("content type `{other}` is not accepted here; send application/fhir+json or application/json"))),
    }
}

/// Reads the body up to `limit` bytes; more is a 413.
pub async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<axum::body::Bytes, Problem> {
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(Problem::payload_too_large(limit));
    }
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        let too_large =
            std::error::Error::source(&e).is_some_and(|source| source.is::<http_body_util::LengthLimitError>()) || e.to_string().contains("length limit");
        if too_large { Problem::payload_too_large(limit) } else { Problem::bad_request(format!("the request body could not be read: {e}")) }
    })
}

fn field_errors(errors: Vec<claimtrail_fhir::FieldError>) -> Vec<FieldError> {
    errors.into_iter().map(|e| FieldError { path: e.path, message: e.message }).collect()
}

/// One claim of the request, as it will be stored.
struct Accepted {
    claim_id: Uuid,
    event: NewEvent,
    status: &'static str,
    issues: Vec<ClaimIssue>,
    payer_id: String,
    billing_npi: String,
    total_charge_cents: i64,
    claim_json: String,
}

async fn submit(State(runtime): State<Runtime>, headers: HeaderMap, body: Body) -> Result<Response, Problem> {
    let store = &runtime.store;
    let tenant = auth::authenticate(store, &headers).await?;
    check_content_type(&headers)?;
    let bytes = read_body(&headers, body, runtime.settings.body_bytes_max).await?;
    let received_at = Timestamp::now();
    let submission = claimtrail_fhir::parse_submission(&bytes, received_at.date()).map_err(|e| match e {
        FhirError::Malformed { reason } => Problem::bad_request(format!("the body is not JSON: {reason}")),
        FhirError::Invalid { errors } => {
            Problem::unprocessable("the body is not a valid FHIR R4 Claim or Bundle of Claims; nothing was stored", field_errors(errors))
        }
    })?;
    if submission.bundle_type == Some(BundleType::Transaction) {
        let errors: Vec<FieldError> = submission.entries.iter().filter_map(|e| e.as_ref().err()).flat_map(|e| field_errors(e.errors.clone())).collect();
        if !errors.is_empty() {
            return Err(Problem::unprocessable("a transaction Bundle is all or nothing, and some entries are invalid; nothing was stored", errors));
        }
    }

    let mut outcomes = Vec::with_capacity(submission.entries.len());
    let mut accepted = Vec::with_capacity(submission.entries.len());
    for entry in submission.entries {
        match entry {
            Err(entry_error) => {
                outcomes.push(json!({"claim_id": null, "status": "invalid", "issues": field_errors(entry_error.errors)}));
            }
            Ok(mapped) => {
                let claim_id = Uuid::now_v7();
                let issues = mapped.issues.clone();
                let claim = mapped.into_submitted(claim_id);
                let claim_json = serde_json::to_string(&claim).map_err(|e| Problem::internal(&e.into()))?;
                let (status, event) = if issues.is_empty() {
                    let event = ClaimSubmitted { claim: claim.clone(), submitter: tenant.name.clone(), channel: "fhir".into(), received_at };
                    ("accepted", NewEvent::new(event, claim_id.to_string()))
                } else {
                    let event = ClaimRejected { claim_id, submitter: tenant.name.clone(), issues: issues.clone(), received_at };
                    ("rejected", NewEvent::new(event, claim_id.to_string()))
                };
                outcomes.push(json!({"claim_id": claim_id, "status": status, "issues": issues}));
                accepted.push(Accepted {
                    claim_id,
                    event,
                    status,
                    issues,
                    payer_id: claim.payer_id,
                    billing_npi: claim.billing_npi,
                    total_charge_cents: claim.total_charge.to_cents().unwrap_or(0),
                    claim_json,
                });
            }
        }
    }

    if !accepted.is_empty() {
        let tx = store.db().begin().await?;
        let at = received_at.to_string();
        let mut events = Vec::with_capacity(accepted.len());
        for claim in &accepted {
            let issues_json = serde_json::to_string(&claim.issues).map_err(|e| Problem::internal(&e.into()))?;
            tx.execute_raw(stmt(
                store,
                format!(
                    "INSERT INTO {} (claim_id, submitter, channel, status, payer_id, billing_npi, total_charge_cents, claim, issues, received_at) \
                     VALUES ($1, $2, 'fhir', $3, $4, $5, $6, $7, $8, $9)",
                    store.table("claims")
                ),
                vec![
                    Value::from(claim.claim_id),
                    Value::from(tenant.name.clone()),
                    Value::from(claim.status.to_owned()),
                    Value::from(claim.payer_id.clone()),
                    Value::from(claim.billing_npi.clone()),
                    Value::from(claim.total_charge_cents),
                    Value::from(claim.claim_json.clone()),
                    Value::from(issues_json),
                    Value::from(at.clone()),
                ],
            ))
            .await?;
            events.push(claim.event.clone());
        }
        let sealed = outbox::append(store, &tx, &runtime.producer, events).await?;
        for (claim, event) in accepted.iter().zip(&sealed) {
            let detail = if claim.issues.is_empty() {
                "passed the front-end edits".to_owned()
            } else {
                claim.issues.iter().map(|i| format!("{}: {}", i.path, i.message)).collect::<Vec<_>>().join("; ")
            };
            let entry = HistoryEntry {
                claim_id: claim.claim_id,
                status: claim.status,
                event_type: &event.envelope.event_type,
                event_id: event.envelope.event_id,
                at: &at,
                detail: &detail,
            };
            record_history(store, &tx, entry).await?;
        }
        tx.commit().await?;
        runtime.relay_wakeup.notify_waiters();
    }
    let claim_ids: Vec<Uuid> = accepted.iter().map(|c| c.claim_id).collect();
    Ok((StatusCode::ACCEPTED, Json(json!({"claim_ids": claim_ids, "outcomes": outcomes}))).into_response())
}
