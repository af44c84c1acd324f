//! Appeals (issue 17): `POST /v1/claims/{claim_id}/appeals`.
//!
//! The provider key of the organization that submitted the claim (or an
//! admin key) appeals its decision with a reason, naming the lines it
//! appeals (none named: every line an edit denied or reduced). The lines are
//! checked against the decision ([`crate::domain::appeal::appealable_lines`],
//! docs/appeals.md): an MUE indicator 2 denial, an NCCI modifier indicator 0
//! denial, an exact duplicate (CO-18) or a denial no appeal reopens is
//! refused with a 422 naming the line and why. A claim is
//! appealed once: the appeal is stored (`appeals`) with its
//! `claim.appealed.v1` in one transaction, published on the claim's family
//! partition, and waits in the payer's pended queue (reason `appeal`) for a
//! review (`POST /v1/claims/{id}/review`, `overturn` or `uphold`).
//!
//! Idempotency-Key as elsewhere: the same key and body answer the appeal
//! made (200), the same key with another body is a 422; another appeal of
//! an appealed claim is a 409.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use claimtrail_events::{ClaimAdjudicated, ClaimAppealed, NewEvent};
use claimtrail_runtime::Runtime;
use claimtrail_runtime::auth::Role;
use claimtrail_runtime::extract::{Caller, LimitedBody, idempotency_key};
use claimtrail_runtime::http::{FieldError, Problem};
use claimtrail_store::outbox;
use sea_orm::TransactionTrait;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{DecisionRecord, DecisionState, appeal};
use crate::storage::{self, StoredAppeal};

/// The body of `POST /v1/claims/{claim_id}/appeals`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct AppealBody {
    /// Why the decision should be reopened, 1 to 500 characters (e.g. the records that justify the units).
    pub reason: String,
    /// The lines appealed, by sequence; none: every line an edit denied or reduced.
    #[serde(default)]
    pub lines: Vec<u32>,
}

/// An appeal, as filed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AppealView {
    pub appeal_id: String,
    pub claim_id: String,
    /// `open` until a review decides it: `upheld` or `overturned`.
    pub status: String,
    /// The organization that appealed.
    pub appellant: String,
    pub reason: String,
    /// The lines appealed.
    pub lines: Vec<u32>,
    /// The day it was filed (YYYY-MM-DD).
    pub filed_on: String,
}

fn view(stored: &StoredAppeal) -> AppealView {
    let appeal = &stored.appeal;
    AppealView {
        appeal_id: appeal.appeal_id.to_string(),
        claim_id: appeal.claim_id.to_string(),
        status: stored.status.clone(),
        appellant: appeal.appellant.clone(),
        reason: appeal.reason.clone(),
        lines: appeal.lines.clone(),
        filed_on: claimtrail_events::format_date(stored.filed_on),
    }
}

fn conflict(kind: &str, title: &str, detail: String) -> Problem {
    Problem::new(StatusCode::CONFLICT, kind, title, detail)
}

/// The answer to a claim appealed before: the same request again, or a conflict.
fn appealed_before(claim_id: &str, stored: &StoredAppeal, key: Option<&str>, request_sha3: &str) -> Result<Response, Problem> {
    match (key, stored.idempotency_key.as_deref()) {
        (Some(key), Some(stored_key)) if key == stored_key && stored.request_sha3 == request_sha3 => Ok((StatusCode::OK, Json(view(stored))).into_response()),
        (Some(key), Some(stored_key)) if key == stored_key => {
            Err(Problem::unprocessable(format!("Idempotency-Key `{key}` was used for another body; nothing was recorded"), vec![]))
        }
        _ => Err(conflict(
            "already-appealed",
            "Already appealed",
            format!("claim {claim_id} was appealed already (appeal {}, {}): a claim is appealed once", stored.appeal.appeal_id, stored.status),
        )),
    }
}

#[utoipa::path(post, path = "/v1/claims/{claim_id}/appeals", tag = "adjudication",
    params(("claim_id" = String, Path, description = "The decided claim"),
           ("Idempotency-Key" = Option<String>, Header, description = "The same key and body answer the same appeal; another body 422")),
    request_body(content = AppealBody, description = "The reason, and the lines appealed"),
    responses((status = 202, description = "The appeal is recorded (`claim.appealed.v1`) and waits in the payer's pended queue", body = AppealView),
              (status = 200, description = "The appeal this Idempotency-Key filed before", body = AppealView),
              (status = 400, description = "Not JSON, or a malformed Idempotency-Key", body = Problem, content_type = "application/problem+json"),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No decided claim this key submitted", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Pended, reversed, or appealed already", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "A line that may not be appealed (MUE indicator 2, NCCI modifier indicator 0, CO-18, an edit no appeal reopens), or no reason: every fault with its path; nothing recorded", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn appeal_claim(
    State(runtime): State<Runtime>,
    Caller(tenant): Caller,
    Path(claim_id): Path<String>,
    headers: HeaderMap,
    LimitedBody(body): LimitedBody,
) -> Result<Response, Problem> {
    let key = idempotency_key(&headers)?;
    let parsed: AppealBody = claimtrail_runtime::http::json_body(&body, "an appeal ({\"reason\", \"lines\"?})")?;
    let request_sha3 = hex::encode(claimtrail_events::sha3_256(&body));
    let not_found = || Problem::not_found(format!("no decided claim {claim_id} that this key submitted"));
    let claim_uuid = Uuid::parse_str(&claim_id).map_err(|_| not_found())?;
    let store = &runtime.store;
    let stored = storage::record(store, store.reader(), claim_uuid).await?.ok_or_else(not_found)?;
    if tenant.role != Role::Admin && !(tenant.role == Role::Provider && tenant.name == stored.submitter) {
        return Err(not_found());
    }
    if let Some(before) = storage::appeal_of(store, store.reader(), claim_uuid).await? {
        return appealed_before(&claim_id, &before, key.as_deref(), &request_sha3);
    }
    if stored.event_type != ClaimAdjudicated::EVENT_TYPE {
        return Err(conflict("not-decided", "Not decided", format!("claim {claim_id} is {}: only a decision is appealed", stored.event_type)));
    }
    let decision = match storage::decision_state(store, store.reader(), claim_uuid).await? {
        DecisionState::Decided { decision } => decision,
        DecisionState::Reversed { by_claim_id, .. } => {
            return Err(conflict("reversed", "Reversed", format!("claim {claim_id}'s decision was reversed by claim {by_claim_id}: appeal that claim")));
        }
        DecisionState::Undecided => return Err(not_found()),
    };
    let record: DecisionRecord = serde_json::from_slice(&stored.record)
        .map_err(|e| Problem::internal(&anyhow::anyhow!("the decision record of claim {claim_id} does not read back: {e}")))?;
    let rows = appeal::AppealRows {
        mue: record.policy.mue.as_ref().map(|mue| mue.rows.as_slice()).unwrap_or_default(),
        ncci: record.policy.ncci.as_ref().map(|ncci| ncci.rows.as_slice()).unwrap_or_default(),
    };
    let mut faults: Vec<(String, String)> = appeal::reason_fault(&parsed.reason).into_iter().collect();
    let lines = match appeal::appealable_lines(&decision, rows, &parsed.lines) {
        Ok(lines) => lines,
        Err(refused) => {
            faults.extend(refused);
            Vec::new()
        }
    };
    if !faults.is_empty() {
        let errors = faults.into_iter().map(|(path, message)| FieldError { path, message }).collect();
        return Err(Problem::unprocessable(format!("claim {claim_id} cannot be appealed as asked; nothing was recorded"), errors));
    }
    let appealed = ClaimAppealed {
        appeal_id: Uuid::now_v7(),
        claim_id: claim_uuid,
        payer_id: stored.payer_id.clone(),
        appellant: tenant.name.clone(),
        reason: parsed.reason.trim().to_owned(),
        lines,
    };
    let filed_on = claimtrail_events::today();
    let claim = &record.claim;
    let family = claim.subscriber_id.as_deref().unwrap_or(claim.member_id.as_str());
    let tx = store.db().begin().await?;
    if !storage::insert_appeal(store, &tx, &appealed, key.as_deref(), &request_sha3, filed_on).await? {
        tx.rollback().await?;
        // Appealed meanwhile by a concurrent request: answer as if it had come first.
        let before = storage::appeal_of(store, store.db(), claim_uuid).await?.ok_or_else(not_found)?;
        return appealed_before(&claim_id, &before, key.as_deref(), &request_sha3);
    }
    let stored_appeal =
        StoredAppeal { appeal: appealed.clone(), status: storage::APPEAL_OPEN.to_owned(), idempotency_key: key.clone(), request_sha3, filed_on };
    let event = NewEvent::new(appealed, claim_uuid.to_string()).partitioned(&stored.payer_id, family);
    outbox::append(store, &tx, &runtime.producer, vec![event]).await?;
    tx.commit().await?;
    runtime.relay_wakeup.notify_waiters();
    Ok((StatusCode::ACCEPTED, Json(view(&stored_appeal))).into_response())
}
