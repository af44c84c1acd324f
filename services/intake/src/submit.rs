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

use crate::status::{HistoryEntry, record_history};
use crate::{auth, idempotency};
use sha2::Digest as _;

pub fn routes(runtime: Runtime) -> Router {
    Router::new().route("/v1/claims", post(submit).get(crate::status::list)).with_state(runtime)
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

/// Bytes of an oversized body read and discarded before answering 413, so
/// that the client, still sending, receives the answer instead of a reset.
const OVERSIZE_DRAIN_MAX: usize = 4 * 1024 * 1024;

/// Reads the body up to `limit` bytes; more is a 413.
pub async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<axum::body::Bytes, Problem> {
    use http_body_util::BodyExt as _;
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let mut body = body;
    let mut collected = Vec::with_capacity(declared.map_or(0, |length| length.min(limit as u64) as usize));
    let mut seen = 0usize;
    let mut too_large = declared.is_some_and(|length| length > limit as u64);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| Problem::bad_request(format!("the request body could not be read: {e}")))?;
        let Ok(data) = frame.into_data() else { continue };
        seen += data.len();
        if seen > limit {
            too_large = true;
        }
        if too_large {
            if seen > limit + OVERSIZE_DRAIN_MAX {
                break;
            }
            continue;
        }
        collected.extend_from_slice(&data);
    }
    if too_large {
        return Err(Problem::payload_too_large(limit));
    }
    Ok(axum::body::Bytes::from(collected))
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

#[utoipa::path(post, path = "/v1/claims", tag = "intake",
    request_body(content = serde_json::Value, content_type = "application/fhir+json", description = "A FHIR R4 Claim, or a Bundle (batch, transaction or collection) of Claims with their Patient, Coverage, Practitioner and Organization"),
    params(("Idempotency-Key" = Option<String>, Header, description = "Same key and body: the same answer and claim ids; another body: 422; first still in flight: 409")),
    responses(
        (status = 202, description = "`{claim_ids, outcomes: [{claim_id, status: accepted|rejected|invalid, issues}]}` in entry order", body = serde_json::Value),
        (status = 400, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The first request with this Idempotency-Key is in flight", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not application/fhir+json or application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a valid FHIR R4 Claim or Bundle (errors name FHIRPath), or an Idempotency-Key reused with another body", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited (Retry-After)", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn submit(State(runtime): State<Runtime>, headers: HeaderMap, body: Body) -> Result<Response, Problem> {
    let store = &runtime.store;
    let tenant = auth::authenticate(&runtime, &headers).await?;
    check_content_type(&headers)?;
    let bytes = read_body(&headers, body, runtime.settings.body_bytes_max).await?;
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(value) => match value.to_str().ok().filter(|k| idempotency::valid_key(k)) {
            Some(key) => Some(key.to_owned()),
            None => return Err(Problem::bad_request("Idempotency-Key must be 1-255 visible ASCII characters")),
        },
    };
    let trace_header = headers.get("traceparent").and_then(|v| v.to_str().ok()).filter(|v| valid_traceparent(v)).map(str::to_owned);
    let Some(key) = key else {
        return accept(&runtime, &tenant, &bytes, None, trace_header).await;
    };
    let body_sha256 = hex::encode(sha2::Sha256::digest(&bytes));
    match idempotency::begin(store, &tenant.name, &key, &body_sha256).await? {
        idempotency::Begin::Started => {}
        idempotency::Begin::Replay(answer) => {
            let answer: serde_json::Value = serde_json::from_str(&answer).map_err(|e| Problem::internal(&e.into()))?;
            return Ok((StatusCode::ACCEPTED, Json(answer)).into_response());
        }
        idempotency::Begin::BodyMismatch => {
            return Err(Problem::unprocessable(format!("Idempotency-Key `{key}` was used before with another body; use a new key for a new request"), vec![]));
        }
        idempotency::Begin::InFlight => {
            return Err(Problem::new(
                StatusCode::CONFLICT,
                "in-flight",
                "Request in flight",
                format!("the first request with Idempotency-Key `{key}` is still being processed; retry later"),
            ));
        }
    }
    let result = accept(&runtime, &tenant, &bytes, Some(&key), trace_header).await;
    if result.is_err() {
        idempotency::release(store, &tenant.name, &key).await?;
    }
    result
}

/// A valid W3C `traceparent` (version 00): `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`.
fn valid_traceparent(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    parts.len() == 4
        && parts[0] == "00"
        && hex(parts[1], 32)
        && hex(parts[2], 16)
        && hex(parts[3], 2)
        && parts[1] != "0".repeat(32)
        && parts[2] != "0".repeat(16)
}

/// Starts each claim's trace: the caller's `traceparent` when it sent one,
/// else a new trace per claim; every event the claim causes downstream
/// carries it, so one claim is one trace across the services.
fn traced(event: NewEvent, caller: Option<&str>) -> NewEvent {
    let traceparent = match caller {
        Some(value) => value.to_owned(),
        None => {
            let mut ids = [0u8; 24];
            if getrandom::fill(&mut ids).is_err() {
                return event;
            }
            format!("00-{}-{}-01", hex::encode(&ids[..16]), hex::encode(&ids[16..]))
        }
    };
    NewEvent { traceparent: Some(traceparent), ..event }
}

/// Parses, edits and stores one request's claims; with a key, its answer is stored with them.
async fn accept(runtime: &Runtime, tenant: &auth::Tenant, bytes: &[u8], key: Option<&str>, trace_header: Option<String>) -> Result<Response, Problem> {
    let store = &runtime.store;
    let received_at = Timestamp::now();
    let submission = claimtrail_fhir::parse_submission(bytes, received_at.date()).map_err(|e| match e {
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

    // Map every entry first, then run the eligibility edits for the whole request at once.
    let mut mapped_entries = Vec::with_capacity(submission.entries.len());
    for entry in submission.entries {
        mapped_entries.push(entry.map(|mapped| {
            let claim_id = Uuid::now_v7();
            let issues = mapped.issues.clone();
            (claim_id, mapped.into_submitted(claim_id), issues)
        }));
    }
    let to_check: Vec<&claimtrail_events::SubmittedClaim> =
        mapped_entries.iter().filter_map(|e| e.as_ref().ok()).filter(|(_, _, issues)| issues.is_empty()).map(|(_, claim, _)| claim).collect();
    let mut eligibility = crate::reference::eligibility_issues(store, &to_check).await?.into_iter();

    let mut outcomes = Vec::with_capacity(mapped_entries.len());
    let mut accepted = Vec::with_capacity(mapped_entries.len());
    for entry in mapped_entries {
        match entry {
            Err(entry_error) => {
                outcomes.push(json!({"claim_id": null, "status": "invalid", "issues": field_errors(entry_error.errors)}));
            }
            Ok((claim_id, claim, mut issues)) => {
                if issues.is_empty() {
                    issues = eligibility.next().unwrap_or_default();
                }
                let claim_json = serde_json::to_string(&claim).map_err(|e| Problem::internal(&e.into()))?;
                let (status, event) = if issues.is_empty() {
                    let event = ClaimSubmitted { claim: claim.clone(), submitter: tenant.name.clone(), channel: "fhir".into(), received_at };
                    ("accepted", traced(NewEvent::new(event, claim_id.to_string()), trace_header.as_deref()))
                } else {
                    let event = ClaimRejected { claim_id, submitter: tenant.name.clone(), issues: issues.clone(), received_at };
                    ("rejected", traced(NewEvent::new(event, claim_id.to_string()), trace_header.as_deref()))
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

    let claim_ids: Vec<Uuid> = accepted.iter().map(|c| c.claim_id).collect();
    let answer = json!({"claim_ids": claim_ids, "outcomes": outcomes});
    if !accepted.is_empty() || key.is_some() {
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
        let sealed = if events.is_empty() { Vec::new() } else { outbox::append(store, &tx, &runtime.producer, events).await? };
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
        if let Some(key) = key {
            idempotency::finish(store, &tx, &tenant.name, key, &answer.to_string()).await?;
        }
        tx.commit().await?;
        runtime.relay_wakeup.notify_waiters();
    }
    Ok((StatusCode::ACCEPTED, Json(answer)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_traceparents_are_taken_from_the_caller() {
        assert!(valid_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
        assert!(!valid_traceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"));
        assert!(!valid_traceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01"));
        assert!(!valid_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7"));
    }
}
