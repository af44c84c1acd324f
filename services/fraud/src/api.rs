//! The investigators' API: `GET /v1/fraud/alerts` (the alerts of the payers
//! the key reads), `POST /v1/fraud/alerts/{alert_id}/acknowledge` and
//! `POST /v1/fraud/alerts/{alert_id}/close` (an outcome and a reason; each
//! recorded as an event on `fraud.>`). Typed bodies with their OpenAPI schemas.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use claimtrail_events::{AlertEvidence, NewEvent};
use claimtrail_runtime::Runtime;
use claimtrail_runtime::auth::{Role, Tenant};
use claimtrail_runtime::extract::{Authorized, LimitedBody, Permission};
use claimtrail_runtime::http::{FieldError, Problem};
use claimtrail_store::outbox;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{self, AlertStatus, Command, Event, Facts, Outcome, Rejection};
use crate::storage;

/// Alerts one answer lists, at most (and by default).
pub const ALERTS_PER_PAGE_MAX: u64 = 500;

/// The alerts: payer keys (their own payer's), auditor keys (read only) and
/// admin keys, each within its payer scope; acknowledging and closing take a
/// payer or admin key.
pub struct FraudInvestigator;

impl Permission for FraudInvestigator {
    fn allows(tenant: &Tenant) -> bool {
        matches!(tenant.role, Role::Payer | Role::Auditor | Role::Admin)
    }
    fn denied(_: &Tenant) -> String {
        "fraud alerts are for payer, auditor and admin keys".to_owned()
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct AlertsQuery {
    status: Option<String>,
    pattern: Option<String>,
    limit: Option<u64>,
}

/// One piece of evidence: a claim's entry on the ledger (another payer's: its index and the pattern only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EvidenceView {
    #[schema(value_type = Option<String>, format = "uuid")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim_id: Option<Uuid>,
    /// Base64 hashes of the RFC 9162 inclusion proof, nearest the leaf first (the alert's payer's claims only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inclusion_proof: Option<Vec<String>>,
    pub ledger_index: u64,
    /// Another payer's claim: redacted to its ledger index and the pattern.
    pub other_payer: bool,
    /// One of the claims the alert flags (see `flagged_claim_ids`).
    pub flagged: bool,
    pub pattern: String,
    /// The tree size the inclusion proof is for (a signed checkpoint's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tree_size: Option<u64>,
}

/// One alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AlertView {
    #[schema(value_type = String, format = "uuid")]
    pub alert_id: Uuid,
    /// The payer's claims it is about.
    #[schema(value_type = Vec<String>)]
    pub claim_ids: Vec<Uuid>,
    /// The reason it was closed with, once closed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_reason: Option<String>,
    /// The day, for a provider-and-day pattern.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    pub evidence: Vec<EvidenceView>,
    /// The payer's claims the alert flags (for a claim-level pattern: the
    /// later duplicate, the unbundled claim, the excluded provider's or the
    /// after-death claim), of `claim_ids`; the others are what they were
    /// matched against. Empty for provider-level patterns, which flag `npi`.
    #[schema(value_type = Vec<String>)]
    pub flagged_claim_ids: Vec<Uuid>,
    pub npi: String,
    pub pattern: String,
    pub payer_id: String,
    /// The detector's words (empty when the finding spans payers).
    pub reason: String,
    /// From 0 to 1000.
    pub score_permille: u32,
    /// `open`, `acknowledged`, `confirmed` or `false_positive`.
    pub status: String,
}

/// `GET /v1/fraud/alerts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AlertsView {
    pub alerts: Vec<AlertView>,
}

/// `POST /v1/fraud/alerts/{alert_id}/close`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
pub struct CloseBody {
    /// `confirmed` or `false_positive`.
    pub outcome: String,
    /// Why, in words (at most 2,000 characters).
    pub reason: String,
}

/// An alert's status after an investigator's action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AlertStatusView {
    #[schema(value_type = String, format = "uuid")]
    pub alert_id: Uuid,
    pub status: String,
}

pub fn routes(runtime: Runtime) -> Router {
    Router::new()
        .route("/v1/fraud/alerts", get(alerts))
        .route("/v1/fraud/alerts/{alert_id}/acknowledge", post(acknowledge))
        .route("/v1/fraud/alerts/{alert_id}/close", post(close))
        .with_state(runtime)
}

fn view(stored: storage::StoredAlert) -> AlertView {
    let alert = stored.alert;
    AlertView {
        alert_id: alert.alert_id,
        claim_ids: alert.claim_ids,
        closed_reason: stored.closed_reason,
        date: alert.date.map(claimtrail_events::format_date),
        flagged_claim_ids: flagged_claims(&alert.pattern, &alert.evidence),
        evidence: alert.evidence.into_iter().map(evidence_view).collect(),
        npi: alert.npi,
        pattern: alert.pattern,
        payer_id: alert.payer_id,
        reason: alert.reason,
        score_permille: alert.score_permille,
        status: stored.status.as_str().to_owned(),
    }
}

/// The claims a claim-level alert flags: its payer's evidence marked flagged, in evidence order.
fn flagged_claims(pattern: &str, evidence: &[AlertEvidence]) -> Vec<Uuid> {
    let claim_level = pattern.parse::<claimtrail_fraud::Pattern>().is_ok_and(|pattern| pattern.level() == claimtrail_fraud::Level::Claim);
    if !claim_level {
        return vec![];
    }
    let mut flagged: Vec<Uuid> = evidence.iter().filter(|evidence| evidence.flagged).filter_map(|evidence| evidence.claim_id).collect();
    flagged.dedup();
    flagged
}

fn evidence_view(evidence: AlertEvidence) -> EvidenceView {
    EvidenceView {
        claim_id: evidence.claim_id,
        tree_size: evidence.inclusion_proof.as_ref().map(|proof| proof.tree_size),
        inclusion_proof: evidence.inclusion_proof.map(|proof| proof.hashes),
        ledger_index: evidence.ledger_index,
        other_payer: evidence.other_payer,
        flagged: evidence.flagged,
        pattern: evidence.pattern,
    }
}

#[utoipa::path(get, path = "/v1/fraud/alerts", tag = "fraud", operation_id = "fraud_alerts",
    params(("status" = Option<String>, Query, description = "open, acknowledged, confirmed or false_positive"),
           ("pattern" = Option<String>, Query, description = "One pattern, e.g. exact_duplicate"),
           ("limit" = Option<u64>, Query, description = "At most this many (default and maximum 500)")),
    responses((status = 200, description = "The alerts of the payers the key reads, newest first", body = AlertsView),
              (status = 400, description = "An unknown status or pattern", body = Problem, content_type = "application/problem+json"),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Not a payer, auditor or admin key", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn alerts(
    investigator: Authorized<FraudInvestigator>,
    State(runtime): State<Runtime>,
    Query(query): Query<AlertsQuery>,
) -> Result<Json<AlertsView>, Problem> {
    if let Some(status) = &query.status
        && AlertStatus::parse(status).is_none()
    {
        return Err(Problem::bad_request(format!("`{status}` is not an alert status (open, acknowledged, confirmed, false_positive)")));
    }
    if let Some(pattern) = &query.pattern {
        pattern.parse::<claimtrail_fraud::Pattern>().map_err(|e| Problem::bad_request(e.to_string()))?;
    }
    let limit = query.limit.unwrap_or(ALERTS_PER_PAGE_MAX).clamp(1, ALERTS_PER_PAGE_MAX);
    let stored = storage::alerts(&runtime.store, &investigator.tenant.payers, query.status.as_deref(), query.pattern.as_deref(), limit).await?;
    Ok(Json(AlertsView { alerts: stored.into_iter().map(view).collect() }))
}

#[utoipa::path(post, path = "/v1/fraud/alerts/{alert_id}/acknowledge", tag = "fraud", operation_id = "fraud_alert_acknowledge",
    params(("alert_id" = String, Path, description = "Alert")),
    responses((status = 200, description = "Acknowledged (`fraud.alert.acknowledged.v1`)", body = AlertStatusView),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Not a payer or admin key", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No such alert of a payer the key reads", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "The alert is closed", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn acknowledge(
    investigator: Authorized<FraudInvestigator>,
    State(runtime): State<Runtime>,
    Path(alert_id): Path<Uuid>,
) -> Result<Json<AlertStatusView>, Problem> {
    let by = investigator.tenant.name.clone();
    act(&runtime, &investigator.tenant, alert_id, Command::Acknowledge { alert_id, by }).await
}

#[utoipa::path(post, path = "/v1/fraud/alerts/{alert_id}/close", tag = "fraud", operation_id = "fraud_alert_close", request_body = CloseBody,
    params(("alert_id" = String, Path, description = "Alert")),
    responses((status = 200, description = "Closed with its outcome (`fraud.alert.closed.v1`)", body = AlertStatusView),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Not a payer or admin key", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No such alert of a payer the key reads", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "The alert is closed already", body = Problem, content_type = "application/problem+json"),
              (status = 413, description = "Body over the limit", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "An unknown outcome, or no reason (or one over 2,000 characters)", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn close(
    investigator: Authorized<FraudInvestigator>,
    State(runtime): State<Runtime>,
    Path(alert_id): Path<Uuid>,
    LimitedBody(body): LimitedBody,
) -> Result<Json<AlertStatusView>, Problem> {
    let close: CloseBody = claimtrail_runtime::http::json_body(&body, "an alert's closing ({\"outcome\", \"reason\"})")?;
    let outcome: Outcome =
        close.outcome.parse().map_err(|message: String| Problem::unprocessable("unknown outcome", vec![FieldError { path: "outcome".into(), message }]))?;
    let by = investigator.tenant.name.clone();
    act(&runtime, &investigator.tenant, alert_id, Command::Close { alert_id, outcome, reason: close.reason, by }).await
}

/// Decides an investigator's `command` on the alert and records it (status and event) in one transaction.
async fn act(runtime: &Runtime, tenant: &Tenant, alert_id: Uuid, command: Command) -> Result<Json<AlertStatusView>, Problem> {
    if tenant.role == Role::Auditor {
        return Err(Problem::forbidden("auditor keys read alerts; a payer or admin key acknowledges and closes them"));
    }
    let store = &runtime.store;
    let tx = store.begin().await?;
    // Another payer's alert is answered as one that does not exist.
    let alert = storage::alert_state(store, &tx, alert_id).await?.filter(|(payer_id, _)| tenant.payers.includes(payer_id));
    let status = alert.as_ref().map(|(_, status)| *status);
    let flagged_claims = if alert.is_some() { storage::flagged_claims(store, &tx, alert_id).await? } else { vec![] };
    let events = domain::decide(&Facts { alert, flagged_claims, ..Facts::default() }, &command).map_err(|rejection| match rejection {
        Rejection::UnknownAlert(_) => Problem::not_found(format!("no fraud alert {alert_id} of a payer this key reads")),
        Rejection::AlreadyClosed { .. } => Problem::new(StatusCode::CONFLICT, "alert-closed", "Alert closed", rejection.to_string()),
        Rejection::ReasonMissing | Rejection::ReasonTooLong { .. } => {
            Problem::unprocessable(rejection.to_string(), vec![FieldError { path: "reason".into(), message: rejection.to_string() }])
        }
    })?;
    let mut status = status;
    let mut outgoing = Vec::with_capacity(events.len());
    for event in events {
        status = domain::apply(status, &event);
        let new_status = status.expect("an acted-on alert has a status");
        match event {
            Event::Acknowledged(acknowledged) => {
                storage::set_status(store, &tx, alert_id, new_status, None).await?;
                outgoing.push(NewEvent::new(acknowledged, alert_id.to_string()));
            }
            Event::Closed(closed) => {
                storage::set_status(store, &tx, alert_id, new_status, Some(&closed.reason)).await?;
                outgoing.push(NewEvent::new(closed, alert_id.to_string()));
            }
            Event::Raised(_) => {}
        }
    }
    outbox::append(store, &tx, &runtime.producer, outgoing).await?;
    tx.commit().await?;
    runtime.relay_wakeup.notify_waiters();
    Ok(Json(AlertStatusView { alert_id, status: status.map(AlertStatus::as_str).unwrap_or("open").to_owned() }))
}
