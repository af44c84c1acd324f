//! `POST /v1/claims/x12`: an 837P or 837I file (one or more interchanges).
//!
//! The reader (libs/x12) answers every envelope and structure fault with a
//! TA1 or a 999; the claims of accepted transactions go through the same
//! registry edits and the same storage as FHIR claims (`claim.submitted.v1`
//! or `claim.rejected.v1`, channel `x12`), and the 277CA tells each claim's
//! fate with the claim id intake assigned (REF*1K). A provider key always
//! gets its acknowledgments: a claim billed under an NPI that the key's
//! organization does not hold is rejected alone (`billing-npi-not-held`,
//! STC `A7:562:85`) and the file's other claims go on; only a key that may
//! not submit claims at all is refused (403). An interchange control
//! number already received from the same sender (ISA05/ISA06/ISA13) is
//! answered with a TA1 (TA105 `025`) and not processed twice. The
//! interchanges, the claims, their events, the outbound control numbers and
//! the idempotent answer commit in one transaction.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use claimtrail_events::Timestamp;
use claimtrail_runtime::Runtime;
use claimtrail_runtime::extract::Caller;
use claimtrail_runtime::http::Problem;
use claimtrail_store::Store;
use claimtrail_x12::{AckContext, ClaimDecision, ClaimOutcome, Interchange, Limits, ReadOptions, X12Error};
use sea_orm::TransactionTrait;
use serde::Serialize;
use uuid::Uuid;

use super::IssueView;
use super::submit::{self, Recording, Request};
use crate::domain::{Candidate, Channel};
use crate::storage;

/// One claim of an X12 file: its id, `accepted` or `rejected`, and why.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct X12ClaimOutcome {
    #[schema(value_type = String, format = "uuid")]
    pub claim_id: Uuid,
    pub issues: Vec<IssueView>,
    /// `accepted` or `rejected`.
    #[schema(value_type = String)]
    pub status: claimtrail_events::ClaimStatus,
}

/// The answer to `POST /v1/claims/x12`: the claims' ids and outcomes, and the acknowledgments as X12 text.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct X12Answer {
    /// The 277CA: each claim's fate, with the claim id intake assigned (REF*1K).
    pub ack_277ca: Option<String>,
    /// The 999 of each functional group.
    pub ack_999: Option<String>,
    #[schema(value_type = Vec<String>)]
    pub claim_ids: Vec<Uuid>,
    pub outcomes: Vec<X12ClaimOutcome>,
    /// A TA1 when an envelope is at fault or repeated; null otherwise.
    pub ta1: Option<String>,
}

pub fn routes(runtime: Runtime) -> Router {
    Router::new().route("/v1/claims/x12", post(submit_x12)).with_state(runtime)
}

/// Accepts `application/edi-x12`, `application/x12` and `text/plain`, with any parameters.
fn check_content_type(headers: &HeaderMap) -> Result<(), Problem> {
    super::check_media_type(headers, &["application/edi-x12", "application/x12", "text/plain"], "application/edi-x12 (or text/plain)")
}

#[utoipa::path(post, path = "/v1/claims/x12", tag = "intake",
    request_body(content = String, content_type = "application/edi-x12", description = "An X12 5010 837P (005010X222A1/A2) or 837I (005010X223A2/A3) file: one or more interchanges"),
    params(("Idempotency-Key" = Option<String>, Header, description = "Same key and body: the same answer and claim ids; another body: 422; first still in flight: 409 with Retry-After")),
    responses(
        (status = 202, description = "The claim ids and outcomes, and the acknowledgments as X12 text (ta1 null unless an envelope is at fault or repeated)", body = X12Answer),
        (status = 401, description = "No or unknown API key, or a bad submission signature", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key may not submit claims (not a provider or admin key); a claim billed under an NPI that the key's organization does not hold is rejected in the 277CA instead (STC A7:562:85)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The first request with this Idempotency-Key, or with one of these interchanges, is in flight: retry after Retry-After seconds", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the byte or claim limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not application/edi-x12 or text/plain", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn submit_x12(State(runtime): State<Runtime>, Caller(tenant): Caller, headers: HeaderMap, body: Body) -> Result<Response, Problem> {
    let request = submit::prepare(&runtime, tenant, &headers, body, check_content_type).await?;
    submit::run_idempotent(&runtime, &request, |lease| accept(&runtime, &request, lease)).await
}

/// The interchanges of `interchanges` (by index) already received from their sender.
async fn seen_before(store: &Store, interchanges: &[Interchange]) -> Result<Vec<bool>, Problem> {
    let mut seen = Vec::with_capacity(interchanges.len());
    for interchange in interchanges {
        let Some((qualifier, sender, control_number)) = interchange.duplicate_key() else {
            seen.push(false);
            continue;
        };
        let seen_before = storage::x12::interchange_seen(store, qualifier, sender, control_number).await?;
        seen.push(seen_before && interchange.fault.is_none());
    }
    Ok(seen)
}

fn append(into: &mut Option<String>, text: Option<String>) {
    if let Some(text) = text {
        into.get_or_insert_with(String::new).push_str(&text);
    }
}

async fn accept(runtime: &Runtime, request: &Request, lease: Option<storage::idempotency::Lease>) -> Result<Response, Problem> {
    let store = &runtime.store;
    let tenant = &request.tenant;
    let received_at = Timestamp::now();
    let options =
        ReadOptions { today: received_at.date(), limits: Limits { bytes_max: runtime.settings.body_bytes_max, claims_max: Limits::DEFAULT.claims_max } };
    let reading = claimtrail_runtime::cpu_bound(|| claimtrail_x12::read(&request.bytes, &options)).map_err(|e| match e {
        X12Error::TooLarge { bytes_max, .. } => Problem::payload_too_large(bytes_max),
        too_many @ X12Error::TooManyClaims { .. } => Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "too-large", "Too many claims", too_many.to_string()),
    })?;
    let seen = seen_before(store, &reading.interchanges).await?;

    // The claims of new interchanges, with ids, through the registry edits.
    let mut positions = Vec::new();
    let mut candidates = Vec::new();
    for x12_claim in reading.claims().filter(|c| !seen.get(c.position.interchange).copied().unwrap_or(false)) {
        positions.push(x12_claim.position);
        candidates.push(Candidate::new(Uuid::now_v7(), x12_claim.claim.clone()));
    }
    submit::run_edits(runtime, tenant, Channel::X12, received_at, &mut candidates).await?;
    let outcomes: Vec<ClaimOutcome> = positions
        .iter()
        .zip(&candidates)
        .map(|(position, candidate)| ClaimOutcome {
            position: *position,
            decision: if candidate.issues.is_empty() {
                ClaimDecision::Accepted { claim_id: candidate.claim_id.to_string() }
            } else {
                ClaimDecision::Rejected { issues: candidate.issues.clone() }
            },
        })
        .collect();

    let tx = store.db().begin().await?;
    for (interchange, _) in reading.interchanges.iter().zip(&seen).filter(|(interchange, seen)| !**seen && interchange.fault.is_none()) {
        let Some((qualifier, sender, control_number)) = interchange.duplicate_key() else { continue };
        let inserted = storage::x12::insert_interchange(store, &tx, (qualifier, sender, control_number), &tenant.name).await?;
        if !inserted {
            let mut problem = Problem::new(
                StatusCode::CONFLICT,
                "in-flight",
                "Interchange in flight",
                format!("interchange {control_number} from {qualifier}/{sender} is being received by another request; send it again to get its TA1"),
            );
            problem.retry_after_seconds = Some(1);
            return Err(problem);
        }
    }
    let mut numbers = storage::x12::control_numbers(store, &tx).await?;
    let now = received_at.datetime();
    let context = AckContext { date: now.date(), time: now.time() };
    let (mut ta1, mut ack_999, mut ack_277ca) = (None, None, None);
    for (interchange_idx, interchange) in reading.interchanges.iter().enumerate() {
        match (seen[interchange_idx], &interchange.header) {
            (true, Some(header)) => append(&mut ta1, Some(claimtrail_x12::render_duplicate_ta1(header, &context, &mut numbers))),
            _ => {
                append(&mut ta1, claimtrail_x12::render_ta1(interchange, &context, &mut numbers));
                append(&mut ack_999, claimtrail_x12::render_999(interchange, &context, &mut numbers));
                append(&mut ack_277ca, claimtrail_x12::render_277ca(interchange, interchange_idx, &outcomes, &context, &mut numbers));
            }
        }
    }
    storage::x12::set_control_numbers(store, &tx, &numbers).await?;

    let claim_ids: Vec<Uuid> = candidates.iter().map(|c| c.claim_id).collect();
    let outcomes: Vec<X12ClaimOutcome> = candidates
        .iter()
        .map(|c| X12ClaimOutcome { claim_id: c.claim_id, issues: c.issues.iter().map(IssueView::from).collect(), status: c.status() })
        .collect();
    let answer = X12Answer { ack_277ca, ack_999, claim_ids, outcomes, ta1 };
    let stored = serde_json::to_value(&answer).map_err(|e| Problem::internal(&e.into()))?;
    let recording = Recording {
        channel: Channel::X12,
        received_at,
        trace_header: request.trace_header.as_deref(),
        signature: request.signature.clone(),
        idempotent: lease.as_ref().map(|lease| (lease, &stored)),
    };
    submit::store_claims_in(runtime, &tx, tenant, &candidates, recording).await?;
    claimtrail_runtime::killpoint::reach("intake_stored_before_commit");
    tx.commit().await?;
    claimtrail_runtime::killpoint::reach("intake_committed_before_answer");
    runtime.relay_wakeup.notify_waiters();
    Ok((StatusCode::ACCEPTED, Json(answer)).into_response())
}
