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
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use claimtrail_events::{ClaimRejected, ClaimSubmitted, Frequency, NewEvent, SubmissionSignature, Timestamp};
use claimtrail_fhir::{BundleType, FhirError};
use claimtrail_runtime::extract::{Caller, read_body};
use claimtrail_runtime::http::{FieldError, Problem};
use claimtrail_runtime::{Runtime, telemetry};
use claimtrail_store::outbox;
use sea_orm::{TransactionTrait, Value};
use serde::Serialize;
use uuid::Uuid;

use super::check_media_type;
use crate::api::registry;
use crate::auth;
use crate::domain::{self, Billing, Candidate, Channel, Command, Event, Rejection};
use crate::storage::claims::{HistoryEntry, HistoryRows, NewClaim};
use crate::storage::{self, idempotency};
use sha2::Digest as _;

pub fn routes(runtime: Runtime) -> Router {
    Router::new().route("/v1/claims", post(submit).get(super::claims::list)).with_state(runtime)
}

/// Accepts `application/fhir+json` and `application/json`, with any parameters
/// (charset, fhirVersion).
fn check_content_type(headers: &HeaderMap) -> Result<(), Problem> {
    check_media_type(headers, &["application/fhir+json", "application/json"], "application/fhir+json (or application/json)")
}

fn field_errors(errors: Vec<claimtrail_fhir::FieldError>) -> Vec<FieldError> {
    errors.into_iter().map(|e| FieldError { path: e.path, message: e.message }).collect()
}

/// The answer to `POST /v1/claims`: the ids of the claims kept, and each entry's outcome in entry order.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubmitAnswer {
    #[schema(value_type = Vec<String>)]
    pub claim_ids: Vec<Uuid>,
    pub outcomes: Vec<SubmitOutcome>,
}

/// One entry's fate.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubmitOutcome {
    /// The id intake gave the claim; null for an entry that is not a valid FHIR Claim (nothing kept).
    #[schema(value_type = Option<String>, format = "uuid")]
    pub claim_id: Option<Uuid>,
    pub issues: Vec<OutcomeIssue>,
    /// `accepted`, `rejected` or `invalid`.
    pub status: String,
}

impl SubmitOutcome {
    /// The status of an entry that is not a valid Claim: it is answered, not kept, so it has no claim status.
    pub const INVALID: &'static str = "invalid";
}

/// A front-end edit the claim failed (with its `code`), or for an invalid entry what is wrong with it (no code).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OutcomeIssue {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub message: String,
    /// The element, as a FHIRPath expression.
    pub path: String,
}

/// Checks that the caller may submit claims (403 otherwise, nothing stored),
/// and under which NPIs, then runs the registry edits on the claims the
/// reader passed. A claim billed under an NPI the caller's organization does
/// not hold refuses the whole FHIR request (403, nothing stored); in X12, whose
/// 277CA answers claim by claim, it rejects that claim only (`billing-npi-not-held`).
pub async fn run_edits(
    runtime: &Runtime,
    tenant: &auth::Tenant,
    channel: Channel,
    received_at: Timestamp,
    candidates: &mut Vec<Candidate>,
) -> Result<(), Problem> {
    let billing = if registry::bills_as_its_organization(tenant)? { Billing::AsOrganization } else { Billing::AnyNpi };
    let not_held = match billing {
        Billing::AnyNpi => Vec::new(),
        Billing::AsOrganization => {
            let npis = domain::billed_npis(candidates);
            let owners = storage::registry::organizations(&runtime.store, &npis).await?;
            domain::npis_not_held(&tenant.name, &npis, &owners)
        }
    };
    // The registry facts of the claims that the billing scope does not already reject (none when it refuses a FHIR request whole).
    let refused_whole = channel == Channel::Fhir && !not_held.is_empty();
    let to_check: Vec<&claimtrail_events::SubmittedClaim> =
        candidates.iter().filter(|c| !refused_whole && not_held.binary_search(&c.read.billing_npi).is_err()).filter_map(Candidate::accepted).collect();
    let edits = storage::registry::edit_facts(&runtime.store, &to_check).await?;
    let facts = domain::Facts { edits, not_held, ..domain::Facts::default() };
    let command = Command::Submit { channel, today: received_at.date(), submitter: tenant.name.clone(), billing, candidates: std::mem::take(candidates) };
    let events = domain::decide(&facts, &command).map_err(|rejection| match rejection {
        Rejection::BillingNpisNotHeld { .. } => Problem::forbidden(rejection.to_string()),
    })?;
    *candidates = events
        .into_iter()
        .filter_map(|event| match event {
            Event::Received(candidate) => Some(*candidate),
            _ => None,
        })
        .collect();
    stamp_fingerprints(runtime, candidates).await
}

/// Puts the keyed fingerprints of each accepted claim on it, with every fingerprint key intake holds (docs/fraud.md).
async fn stamp_fingerprints(runtime: &Runtime, candidates: &mut [Candidate]) -> Result<(), Problem> {
    let keys = fingerprint_keys(runtime)?;
    if keys.is_empty() {
        return Ok(());
    }
    let accepted: Vec<&claimtrail_events::SubmittedClaim> = candidates.iter().filter_map(Candidate::accepted).collect();
    let identities = storage::registry::identities(&runtime.store, &accepted).await?;
    for candidate in candidates.iter_mut() {
        if let Some(claim) = candidate.accepted() {
            let identity = identities.get(&(claim.payer_id.to_string(), claim.member_id.to_string()));
            candidate.fingerprints = domain::fingerprints::of(claim, identity, &keys);
        }
    }
    Ok(())
}

fn fingerprint_keys(runtime: &Runtime) -> Result<Vec<claimtrail_fraud::FingerprintKey>, Problem> {
    fingerprint_keys_of(&runtime.settings).map_err(|e| Problem::internal(&e))
}

/// Intake's fingerprint keys, from its settings (checked at start by [`crate::parts`]).
pub fn fingerprint_keys_of(settings: &claimtrail_runtime::ServeSettings) -> anyhow::Result<Vec<claimtrail_fraud::FingerprintKey>> {
    let keys = settings.fraud.fingerprint_keys()?;
    Ok(keys.into_iter().map(|(key_id, secret)| claimtrail_fraud::FingerprintKey::new(key_id, secret)).collect::<Result<_, _>>()?)
}

/// What one request stores besides its claims.
pub struct Recording<'a> {
    pub channel: Channel,
    pub received_at: Timestamp,
    /// The caller's `traceparent`, when valid.
    pub trace_header: Option<&'a str>,
    pub signature: Option<SubmissionSignature>,
    /// The Idempotency-Key's lease and the answer to replay for it.
    pub idempotent: Option<(&'a idempotency::Lease, &'a serde_json::Value)>,
}

/// Stores the claims (accepted or rejected, with their issues), their first
/// history rows and their events, and the idempotent answer, in one transaction.
pub async fn store_claims(runtime: &Runtime, tenant: &auth::Tenant, candidates: &[Candidate], recording: Recording<'_>) -> Result<(), Problem> {
    if candidates.is_empty() && recording.idempotent.is_none() {
        return Ok(());
    }
    // Everything but the inserts before the transaction: the connection is held only to write.
    let prepared = claimtrail_runtime::cpu_bound(|| prepare_claims(runtime, tenant, candidates, &recording))?;
    let tx = runtime.store.db().begin().await?;
    store_prepared_in(runtime, &tx, prepared, recording).await?;
    claimtrail_runtime::killpoint::reach("intake_stored_before_commit");
    tx.commit().await?;
    claimtrail_runtime::killpoint::reach("intake_committed_before_answer");
    runtime.relay_wakeup.notify_waiters();
    Ok(())
}

/// [`store_claims`] inside the caller's transaction (which also holds, for
/// X12, the interchange and control-number rows); the caller commits and wakes the relay.
pub async fn store_claims_in(
    runtime: &Runtime,
    tx: &sea_orm::DatabaseTransaction,
    tenant: &auth::Tenant,
    candidates: &[Candidate],
    recording: Recording<'_>,
) -> Result<(), Problem> {
    let prepared = claimtrail_runtime::cpu_bound(|| prepare_claims(runtime, tenant, candidates, &recording))?;
    store_prepared_in(runtime, tx, prepared, recording).await
}

/// A request's claims ready to store: rows built, events sealed and signed
/// (their claims are new aggregates), all without the database, so that the
/// transaction only inserts; on SQLite's one connection that is what lets
/// the requests overlap.
pub struct Prepared {
    claim_rows: Vec<Vec<Value>>,
    batch: Option<outbox::SignedBatch>,
    history: HistoryRows,
    /// One span per claim, open until its rows are stored.
    _claim_spans: Vec<tracing::Span>,
}

pub fn prepare_claims(runtime: &Runtime, tenant: &auth::Tenant, candidates: &[Candidate], recording: &Recording<'_>) -> Result<Prepared, Problem> {
    let at = recording.received_at.to_string();
    let mut events = Vec::with_capacity(candidates.len());
    // The claim's trace is the request's when the caller sent a traceparent or
    // the request holds one claim; each claim of a Bundle otherwise starts its own.
    let in_request_trace = recording.trace_header.is_some() || candidates.len() == 1;
    let mut claim_spans = Vec::with_capacity(candidates.len());
    let mut claim_rows: Vec<Vec<Value>> = Vec::with_capacity(candidates.len());
    for candidate in candidates {
        let claim_span = claim_span(candidate, in_request_trace);
        let claim = &candidate.read;
        // An accepted claim's content is stored once, in its claim.submitted.v1 event; a
        // rejected claim's is kept here (as read), since its event carries only the reasons.
        let accepted = candidate.accepted();
        let claim_json = if accepted.is_some() { None } else { Some(serde_json::to_string(claim).map_err(|e| Problem::internal(&e.into()))?) };
        let issues_json = serde_json::to_string(&candidate.issues).map_err(|e| Problem::internal(&e.into()))?;
        let related = (claim.frequency != Frequency::Original).then(|| claim.related_claim_id.clone()).flatten();
        let row = NewClaim {
            claim_id: candidate.claim_id,
            submitter: &tenant.name,
            channel: recording.channel.as_str(),
            status: candidate.status(),
            claim,
            claim_json,
            issues_json,
            received_at: &at,
            related_claim_id: if accepted.is_some() { related } else { None },
        };
        claim_rows.push(row.row().map_err(|e| Problem::unprocessable(format!("claim total: {e}"), vec![]))?);
        // The family's partition: the subscriber's (the 837's subscriber loop, or the member itself when the claim does not say).
        let family = claim.subscriber_id.as_deref().unwrap_or(&claim.member_id);
        let event = if let Some(parsed) = accepted {
            let event = ClaimSubmitted {
                claim: parsed.clone(),
                submitter: tenant.name.clone(),
                channel: recording.channel.as_str().into(),
                received_at: recording.received_at,
                submission_signature: recording.signature.clone(),
                fingerprints: candidate.fingerprints.clone(),
            };
            NewEvent::new(event, candidate.claim_id.to_string()).of_new_aggregate().partitioned(&claim.payer_id, family)
        } else {
            let event = ClaimRejected {
                claim_id: candidate.claim_id,
                submitter: tenant.name.clone(),
                issues: candidate.issues.clone(),
                received_at: recording.received_at,
            };
            NewEvent::new(event, candidate.claim_id.to_string()).of_new_aggregate().partitioned(&claim.payer_id, family)
        };
        let traceparent = telemetry::traceparent(&claim_span);
        events.push(traced(event, traceparent.as_deref().or(recording.trace_header)));
        claim_spans.push(claim_span);
    }
    let batch = if events.is_empty() { None } else { Some(outbox::seal_new(&runtime.producer, events)?) };
    let sealed: &[claimtrail_events::SealedEvent] = batch.as_ref().map_or(&[], |batch| &batch.sealed);
    for (claim_span, event) in claim_spans.iter().zip(sealed) {
        claim_span.record("event_id", tracing::field::display(event.head.event_id));
        claim_span.record("event_type", event.head.event_type.as_str());
    }
    let mut history = HistoryRows::default();
    for (candidate, event) in candidates.iter().zip(sealed) {
        let detail = if candidate.issues.is_empty() {
            "passed the front-end edits".to_owned()
        } else {
            candidate.issues.iter().map(|i| format!("{}: {}", i.path, i.message)).collect::<Vec<_>>().join("; ")
        };
        let entry = HistoryEntry {
            claim_id: candidate.claim_id,
            status: candidate.status(),
            event_type: &event.head.event_type,
            event_id: event.head.event_id,
            at: &at,
            detail: &detail,
        };
        history.push(entry);
    }
    Ok(Prepared { claim_rows, batch, history, _claim_spans: claim_spans })
}

/// Inserts what [`prepare_claims`] built, and the idempotent answer, in `tx`.
pub async fn store_prepared_in(runtime: &Runtime, tx: &sea_orm::DatabaseTransaction, prepared: Prepared, recording: Recording<'_>) -> Result<(), Problem> {
    let store = &runtime.store;
    storage::claims::insert_submission(store, tx, &runtime.producer, prepared.claim_rows, prepared.batch.as_ref(), prepared.history).await?;
    if let Some((lease, answer)) = recording.idempotent {
        idempotency::finish(store, tx, lease, &answer.to_string()).await?.map_err(lease_lost)?;
    }
    Ok(())
}

#[utoipa::path(post, path = "/v1/claims", tag = "intake",
    request_body(content((claimtrail_runtime::fhir_schemas::FhirClaimSubmission = "application/fhir+json"), (claimtrail_runtime::fhir_schemas::FhirClaimSubmission = "application/json")), description = "A FHIR R4 Claim, or a Bundle (batch, transaction or collection) of Claims with their Patient, Coverage, Practitioner and Organization"),
    params(("Idempotency-Key" = Option<String>, Header, description = "Same key and body: the same answer and claim ids; another body: 422; first still in flight: 409 with Retry-After")),
    responses(
        (status = 202, description = "The claim ids, and each entry's outcome in entry order", body = SubmitAnswer),
        (status = 400, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The first request with this Idempotency-Key is in flight: retry after Retry-After seconds", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not application/fhir+json or application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a valid FHIR R4 Claim or Bundle (errors name FHIRPath), or an Idempotency-Key reused with another body", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited (Retry-After)", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn submit(State(runtime): State<Runtime>, Caller(tenant): Caller, headers: HeaderMap, body: Body) -> Result<Response, Problem> {
    let request = prepare(&runtime, tenant, &headers, body, check_content_type).await?;
    run_idempotent(&runtime, &request, |lease| accept(&runtime, &request, lease)).await
}

/// What both claims endpoints read before the body's format, after the
/// caller (the [`Caller`] extractor): the content type, the body, the Idempotency-Key, the caller's trace and
/// the submission signature (each refusal stores nothing).
pub struct Request {
    pub tenant: auth::Tenant,
    pub bytes: axum::body::Bytes,
    pub key: Option<String>,
    pub trace_header: Option<String>,
    pub signature: Option<SubmissionSignature>,
}

pub async fn prepare(
    runtime: &Runtime,
    tenant: auth::Tenant,
    headers: &HeaderMap,
    body: Body,
    check_content_type: fn(&HeaderMap) -> Result<(), Problem>,
) -> Result<Request, Problem> {
    check_content_type(headers)?;
    let bytes = read_body(headers, body, runtime.settings.body_bytes_max).await?;
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(value) => match value.to_str().ok().filter(|k| idempotency::valid_key(k)) {
            Some(key) => Some(key.to_owned()),
            None => return Err(Problem::bad_request("Idempotency-Key must be 1-255 visible ASCII characters")),
        },
    };
    let trace_header = headers.get("traceparent").and_then(|v| v.to_str().ok()).filter(|v| valid_traceparent(v)).map(str::to_owned);
    let signature = registry::check_submission_signature(&runtime.store, &tenant, headers, &bytes).await?;
    Ok(Request { tenant, bytes, key, trace_header, signature })
}

/// Runs `run` once per Idempotency-Key: the same key and body replay the
/// stored answer, another body is a 422, a first request still running a 409
/// (with `Retry-After`). `run` stores its answer under the lease it is given,
/// in the transaction that stores its claims; while it runs, the lease is
/// renewed, so that it lapses soon after this process dies.
pub async fn run_idempotent<F, Fut>(runtime: &Runtime, request: &Request, run: F) -> Result<Response, Problem>
where
    F: FnOnce(Option<idempotency::Lease>) -> Fut,
    Fut: std::future::Future<Output = Result<Response, Problem>>,
{
    let store = &runtime.store;
    let Some(key) = &request.key else {
        return run(None).await;
    };
    let tenant = &request.tenant;
    let body_sha256 = hex::encode(sha2::Sha256::digest(&request.bytes));
    let lease = match idempotency::begin(store, &tenant.name, key, &body_sha256).await? {
        idempotency::Begin::Started(lease) => lease,
        idempotency::Begin::Replay(answer) => {
            let answer: serde_json::Value = serde_json::from_str(&answer).map_err(|e| Problem::internal(&e.into()))?;
            return Ok((StatusCode::ACCEPTED, Json(answer)).into_response());
        }
        idempotency::Begin::BodyMismatch => {
            return Err(Problem::unprocessable(format!("Idempotency-Key `{key}` was used before with another body; use a new key for a new request"), vec![]));
        }
        idempotency::Begin::InFlight { retry_after_ms } => return Err(in_flight(key, retry_after_ms)),
    };
    // Renewed from a task of its own: embedded, the request's transaction holds the one connection, and
    // the renewal waits for it without holding up the request. A lost lease is found again by `finish`,
    // which then stores nothing.
    let (done, mut finished) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn({
        let (store, lease) = (store.clone(), lease.clone());
        async move {
            let mut renewals = tokio::time::interval(std::time::Duration::from_millis(idempotency::LEASE_RENEW_MS));
            renewals.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            renewals.tick().await;
            loop {
                tokio::select! {
                    _ = &mut finished => return,
                    _ = renewals.tick() => {}
                }
                if let Err(e) = idempotency::renew(&store, &lease).await {
                    tracing::warn!(error = %e, "renewing an Idempotency-Key lease failed");
                }
            }
        }
    });
    let result = run(Some(lease.clone())).await;
    drop(done);
    if result.is_err() {
        idempotency::release(store, &lease).await?;
    }
    result
}

/// 409 for a key held by another attempt, with when to try again.
fn in_flight(key: &str, retry_after_ms: i64) -> Problem {
    let mut problem = Problem::new(
        StatusCode::CONFLICT,
        "in-flight",
        "Request in flight",
        format!("the first request with Idempotency-Key `{key}` is still being processed; retry after the Retry-After seconds"),
    );
    problem.retry_after_seconds = Some(u64::try_from(retry_after_ms.max(1)).unwrap_or(1).div_ceil(1000));
    problem
}

/// An attempt that lost its key's lease stores nothing (its transaction is dropped); the client retries.
pub fn lease_lost(lost: idempotency::LeaseLost) -> Problem {
    let mut problem = Problem::new(StatusCode::CONFLICT, "in-flight", "Request in flight", lost.to_string());
    problem.retry_after_seconds = Some(1);
    problem
}

/// The span of one claim's intake: its id, status and number of issues, and
/// the event it caused; never claim content. It is the parent that the
/// claim's events pass on. Outside the request's trace it starts a trace of
/// its own, linked to the request.
fn claim_span(candidate: &Candidate, in_request_trace: bool) -> tracing::Span {
    use tracing::field::Empty;
    let (claim_id, status, n_issues) = (tracing::field::display(candidate.claim_id), candidate.status().as_str(), candidate.issues.len());
    if in_request_trace {
        tracing::info_span!("intake.claim", claim_id = %claim_id, status, n_issues, event_id = Empty, event_type = Empty)
    } else {
        let span = tracing::info_span!(parent: None, "intake.claim", claim_id = %claim_id, status, n_issues, event_id = Empty, event_type = Empty);
        telemetry::link_to_current(&span);
        span
    }
}

/// A valid W3C `traceparent` (version 00): `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`.
pub fn valid_traceparent(value: &str) -> bool {
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

/// Starts each claim's trace: the given `traceparent` (the claim span's when
/// traces are exported, else the caller's) when there is one, else a new trace
/// per claim; every event the claim causes downstream carries it, so one claim
/// is one trace across the services.
pub fn traced(event: NewEvent, caller: Option<&str>) -> NewEvent {
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
async fn accept(runtime: &Runtime, request: &Request, lease: Option<idempotency::Lease>) -> Result<Response, Problem> {
    let (tenant, bytes) = (&request.tenant, &request.bytes[..]);
    let received_at = Timestamp::now();
    let submission = claimtrail_runtime::cpu_bound(|| claimtrail_fhir::parse_submission(bytes, received_at.date())).map_err(|e| match e {
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

    // Map every entry first, then run the registry edits for the whole request at once.
    let mut candidates = Vec::with_capacity(submission.entries.len());
    let mut entries = Vec::with_capacity(submission.entries.len());
    for entry in submission.entries {
        match entry {
            Ok(mapped) => {
                let claim_id = Uuid::now_v7();
                candidates.push(Candidate::new(claim_id, mapped));
                entries.push(Ok(candidates.len() - 1));
            }
            Err(entry_error) => entries.push(Err(entry_error)),
        }
    }
    run_edits(runtime, tenant, Channel::Fhir, received_at, &mut candidates).await?;
    let outcomes: Vec<SubmitOutcome> = entries
        .into_iter()
        .map(|entry| match entry {
            Ok(idx) => {
                let candidate = &candidates[idx];
                let issues = candidate
                    .issues
                    .iter()
                    .map(|issue| OutcomeIssue { code: Some(issue.code.clone()), message: issue.message.clone(), path: issue.path.clone() })
                    .collect();
                SubmitOutcome { claim_id: Some(candidate.claim_id), issues, status: candidate.status().as_str().to_owned() }
            }
            Err(entry_error) => {
                let issues =
                    field_errors(entry_error.errors).into_iter().map(|error| OutcomeIssue { code: None, message: error.message, path: error.path }).collect();
                SubmitOutcome { claim_id: None, issues, status: SubmitOutcome::INVALID.to_owned() }
            }
        })
        .collect();
    let claim_ids: Vec<Uuid> = candidates.iter().map(|c| c.claim_id).collect();
    // Through a JSON value, whose keys are sorted: the bytes stored for an Idempotency-Key replay stay as they were.
    let answer = serde_json::to_value(SubmitAnswer { claim_ids, outcomes }).map_err(|e| Problem::internal(&e.into()))?;
    let recording = Recording {
        channel: Channel::Fhir,
        received_at,
        trace_header: request.trace_header.as_deref(),
        signature: request.signature.clone(),
        idempotent: lease.as_ref().map(|lease| (lease, &answer)),
    };
    store_claims(runtime, tenant, &candidates, recording).await?;
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
