//! The claim-status projection and `GET /v1/claims/{id}`.
//!
//! Intake consumes adjudication and settlement events for the claims it
//! received and keeps, per claim, the current status and its whole history.

use async_trait::async_trait;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use claimtrail_events::{
    ClaimAdjudicated, ClaimReversed, ClaimStatus, ClaimSubmitted, DomainEvent, Envelope, Family, Frequency, Money, NewEvent, PayableBooked,
};
use claimtrail_runtime::http::Problem;
use claimtrail_runtime::{EventHandler, HandlerError, Runtime};
use claimtrail_store::{Store, stmt};
use sea_orm::{ConnectionTrait, DatabaseTransaction, Value};
use serde_json::json;
use tracing::Instrument as _;
use uuid::Uuid;

use crate::auth;

/// Keeps the status of the claims this intake received.
pub struct StatusProjection {
    store: Store,
}

impl StatusProjection {
    pub fn new(store: Store) -> StatusProjection {
        StatusProjection { store }
    }
}

/// One step of a claim's story.
pub struct HistoryEntry<'a> {
    pub claim_id: Uuid,
    pub status: &'a str,
    pub event_type: &'a str,
    pub event_id: Uuid,
    pub at: &'a str,
    pub detail: &'a str,
}

/// History rows gathered while projecting a batch of events, written in one
/// statement at its end (in event order, so `history_id` keeps the story's order).
#[derive(Default)]
pub struct HistoryRows(Vec<Vec<Value>>);

impl HistoryRows {
    pub fn push(&mut self, entry: HistoryEntry<'_>) {
        self.0.push(vec![
            Value::from(entry.claim_id),
            Value::from(entry.status.to_owned()),
            Value::from(entry.event_type.to_owned()),
            Value::from(entry.event_id),
            Value::from(entry.at.to_owned()),
            Value::from(entry.detail.to_owned()),
        ]);
    }

    /// Like [`HistoryRows::push`]; a second row for the same event (`secondary`,
    /// the void claim itself) gets a derived event id, as event ids are unique in the history.
    fn push_of(&mut self, entry: HistoryEntry<'_>, secondary: bool) {
        if secondary {
            let derived = Uuid::from_u128(entry.event_id.as_u128() ^ entry.claim_id.as_u128());
            self.push(HistoryEntry { event_id: derived, ..entry });
        } else {
            self.push(entry);
        }
    }

    /// Inserts the rows in the caller's transaction.
    pub async fn write(self, store: &Store, tx: &impl ConnectionTrait) -> Result<(), claimtrail_store::StoreError> {
        let insert = format!("INSERT INTO {} (claim_id, status, event_type, event_id, at, detail) VALUES ", store.table("claim_history"));
        claimtrail_store::insert_rows(store, tx, &insert, self.0, "").await
    }
}

#[async_trait]
impl EventHandler for StatusProjection {
    fn families(&self) -> Vec<Family> {
        vec![Family::Claims, Family::Settlement]
    }

    fn event_types(&self) -> Option<&'static [&'static str]> {
        Some(&[ClaimAdjudicated::EVENT_TYPE, ClaimReversed::EVENT_TYPE, PayableBooked::EVENT_TYPE])
    }

    async fn handle(&self, tx: &DatabaseTransaction, envelope: &Envelope) -> Result<Vec<NewEvent>, HandlerError> {
        let mut history = HistoryRows::default();
        self.project(tx, envelope, &mut history).await?;
        history.write(&self.store, tx).await?;
        Ok(vec![])
    }

    /// The batch's claims rows updated event by event, its history rows in one statement.
    async fn handle_batch(&self, tx: &DatabaseTransaction, events: &[&Envelope]) -> Result<Vec<NewEvent>, HandlerError> {
        let mut history = HistoryRows::default();
        for envelope in events {
            self.project(tx, envelope, &mut history).instrument(claimtrail_runtime::event_span(envelope)).await?;
        }
        history.write(&self.store, tx).await?;
        Ok(vec![])
    }
}

impl StatusProjection {
    /// Applies one event to the claims rows; its history rows go to `history`.
    async fn project(&self, tx: &DatabaseTransaction, envelope: &Envelope, history: &mut HistoryRows) -> Result<(), HandlerError> {
        let store = &self.store;
        let at = envelope.occurred_at.to_string();
        match envelope.domain_event().map_err(|e| HandlerError::Invalid(e.to_string()))? {
            DomainEvent::ClaimAdjudicated(decision) => {
                let outcome = decision.outcome.as_str();
                let decision_json = serde_json::to_string(&decision).map_err(|e| HandlerError::Unexpected(e.into()))?;
                let updated = tx
                    .execute_raw(stmt(
                        store,
                        format!(
                            "UPDATE {} SET status = $5, outcome = $2, total_paid_cents = $3, decision = $4, updated_at = {} WHERE claim_id = $1",
                            store.table("claims"),
                            store.types().now
                        ),
                        vec![
                            Value::from(decision.claim_id),
                            Value::from(outcome),
                            Value::from(decision.total_paid.cents().map_err(|e| HandlerError::Invalid(format!("paid amount: {e}")))?),
                            Value::from(decision_json),
                            Value::from(ClaimStatus::Adjudicated.as_str()),
                        ],
                    ))
                    .await?;
                if updated.rows_affected() == 1 {
                    let detail = format!("{outcome}: allowed {}, paid {} (rule set {})", decision.total_allowed, decision.total_paid, decision.rule_set_hash);
                    let entry = HistoryEntry {
                        claim_id: decision.claim_id,
                        status: ClaimStatus::Adjudicated.as_str(),
                        event_type: &envelope.event_type,
                        event_id: envelope.event_id,
                        at: &at,
                        detail: &detail,
                    };
                    history.push(entry);
                }
            }
            DomainEvent::ClaimReversed(reversed) => {
                let status = match reversed.frequency {
                    Frequency::Void => ClaimStatus::Voided,
                    _ => ClaimStatus::Replaced,
                };
                let status = status.as_str();
                let original_detail = format!("{status} by claim {}; the decision is reversed ({} paid)", reversed.by_claim_id, reversed.total_paid);
                let mut steps = vec![(reversed.claim_id, original_detail)];
                if reversed.frequency == Frequency::Void {
                    steps.push((reversed.by_claim_id, format!("this void reversed claim {} ({} paid)", reversed.claim_id, reversed.total_paid)));
                }
                for (claim_id, detail) in steps {
                    let updated = tx
                        .execute_raw(stmt(
                            store,
                            format!("UPDATE {} SET status = $2, updated_at = {} WHERE claim_id = $1", store.table("claims"), store.types().now),
                            vec![Value::from(claim_id), Value::from(status)],
                        ))
                        .await?;
                    if updated.rows_affected() == 1 {
                        let entry = HistoryEntry { claim_id, status, event_type: &envelope.event_type, event_id: envelope.event_id, at: &at, detail: &detail };
                        history.push_of(entry, claim_id == reversed.by_claim_id);
                    }
                }
            }
            DomainEvent::PayableBooked(booked) => {
                let known = tx
                    .query_one_raw(stmt(store, format!("SELECT status FROM {} WHERE claim_id = $1", store.table("claims")), vec![Value::from(booked.claim_id)]))
                    .await?;
                if let Some(row) = known {
                    let status: String = row.try_get_by_index(0)?;
                    let detail = format!("booked in the journal: {} payable to {}", booked.amount, booked.billing_npi);
                    let entry = HistoryEntry {
                        claim_id: booked.claim_id,
                        status: &status,
                        event_type: &envelope.event_type,
                        event_id: envelope.event_id,
                        at: &at,
                        detail: &detail,
                    };
                    history.push(entry);
                }
            }
            _ => {}
        }
        Ok(())
    }
}

pub fn routes(runtime: Runtime) -> Router {
    Router::new()
        .route("/v1/claims/{claim_id}", get(show))
        .route("/v1/claims/{claim_id}/claim-response", get(claim_response))
        .route("/v1/claims/{claim_id}/eob", get(explanation_of_benefit))
        .with_state(runtime)
}

/// Records a read of a claim (HIPAA access log): who, which claim, which view, when.
async fn record_access(store: &Store, tenant: &auth::Tenant, claim_ids: &[Uuid], view: &str) -> Result<(), sea_orm::DbErr> {
    for chunk in claim_ids.chunks(500) {
        let mut values = vec![Value::from(tenant.name.clone()), Value::from(tenant.key_id.clone()), Value::from(view.to_owned())];
        let rows: Vec<String> = chunk
            .iter()
            .map(|claim_id| {
                values.push(Value::from(*claim_id));
                format!("(${}, $1, $2, $3)", values.len())
            })
            .collect();
        store
            .db()
            .execute_raw(stmt(
                store,
                format!("INSERT INTO {} (claim_id, reader_tenant, reader_key_id, view) VALUES {}", store.table("access_log"), rows.join(",")),
                values,
            ))
            .await?;
    }
    Ok(())
}

/// Authenticates the caller and reads `columns` of a claim it may see: its
/// own, or any for auditor and admin keys. Another tenant's claim, like an
/// unknown one, is `not_found`.
async fn readable_claim(
    runtime: &Runtime,
    headers: &HeaderMap,
    claim_id: &str,
    columns: &str,
    not_found: impl Fn() -> Problem,
) -> Result<(auth::Tenant, Uuid, sea_orm::QueryResult), Problem> {
    let store = &runtime.store;
    let tenant = auth::authenticate(runtime, headers).await?;
    let claim_uuid = Uuid::parse_str(claim_id).map_err(|_| not_found())?;
    let row = store
        .reader()
        .query_one_raw(stmt(
            store,
            format!("SELECT submitter, {columns}, erased_at, payer_id FROM {} WHERE claim_id = $1", store.table("claims")),
            vec![Value::from(claim_uuid)],
        ))
        .await?
        .ok_or_else(&not_found)?;
    let submitter: String = row.try_get_by_index(0)?;
    let n_columns = columns.split(',').count();
    let payer_id: Option<String> = row.try_get_by_index(n_columns + 2)?;
    if !tenant.reads_claim(&submitter, payer_id.as_deref()) {
        return Err(not_found());
    }
    let erased_at: Option<String> = row.try_get_by_index(n_columns + 1)?;
    if let Some(erased_at) = erased_at {
        return Err(Problem::new(StatusCode::GONE, "erased", "Erased", format!("claim {claim_uuid} was erased on request at {erased_at}")));
    }
    Ok((tenant, claim_uuid, row))
}

/// The submitted claim and its decision, for a tenant allowed to see them (404 otherwise,
/// and 404 before adjudication).
async fn adjudicated_claim(
    runtime: &Runtime,
    headers: &HeaderMap,
    claim_id: &str,
    view: &str,
) -> Result<(claimtrail_events::SubmittedClaim, claimtrail_events::ClaimAdjudicated, String), Problem> {
    let not_found = || Problem::not_found(format!("no adjudicated claim `{claim_id}`"));
    let (tenant, claim_uuid, row) = readable_claim(runtime, headers, claim_id, "claim, decision, received_at", not_found).await?;
    let Some(decision) = row.try_get_by_index::<Option<String>>(2)? else {
        return Err(not_found());
    };
    let claim = match row.try_get_by_index::<Option<String>>(1)? {
        // Claims stored before the claim was kept in its event only.
        Some(claim) => serde_json::from_str(&claim).map_err(|e| Problem::internal(&anyhow::anyhow!("stored claim {claim_uuid} is unreadable: {e}")))?,
        None => submitted_claim(&runtime.store, claim_uuid).await?,
    };
    let decision = serde_json::from_str(&decision).map_err(|e| Problem::internal(&anyhow::anyhow!("stored decision {claim_uuid} is unreadable: {e}")))?;
    record_access(&runtime.store, &tenant, &[claim_uuid], view).await?;
    Ok((claim, decision, row.try_get_by_index::<String>(3)?))
}

/// An accepted claim as its `claim.submitted.v1` event carries it: the one
/// copy of an accepted claim's content (the claims row holds only a rejected
/// claim's, which no event carries).
async fn submitted_claim(store: &Store, claim_id: Uuid) -> Result<claimtrail_events::SubmittedClaim, Problem> {
    let unreadable = |reason: String| Problem::internal(&anyhow::anyhow!("the submission event of claim {claim_id} {reason}"));
    let body = claimtrail_store::outbox::first_event_body(store, store.reader(), &claim_id.to_string(), ClaimSubmitted::EVENT_TYPE)
        .await?
        .ok_or_else(|| unreadable("is missing".into()))?;
    let envelope = Envelope::from_bytes(&body).map_err(|e| unreadable(format!("is unreadable: {e}")))?;
    match envelope.domain_event().map_err(|e| unreadable(format!("is unreadable: {e}")))? {
        DomainEvent::ClaimSubmitted(submitted) => Ok(submitted.claim),
        _ => Err(unreadable("is of another type".into())),
    }
}

/// Claims per page of `GET /v1/claims`, at most.
pub const LIST_PAGE_MAX: u64 = 500;

#[derive(Debug, serde::Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    /// RFC 3339 UTC time: claims received at or after it.
    since: Option<String>,
    /// The `next` cursor of the previous page.
    after: Option<Uuid>,
    limit: Option<u64>,
}

/// `GET /v1/claims?status=&since=&after=&limit=`: the caller's own claims
/// (every tenant's for auditor and admin keys), oldest first, paged by claim id.
#[utoipa::path(get, path = "/v1/claims", tag = "intake",
    params(("status" = Option<String>, Query, description = "received, rejected, accepted, pended, adjudicated, paid, replaced or voided"),
           ("since" = Option<String>, Query, description = "RFC 3339 time: claims received at or after it"),
           ("after" = Option<String>, Query, description = "The `next` cursor of the previous page"),
           ("limit" = Option<u64>, Query, description = "Claims per page, 1-500, default 100")),
    responses((status = 200, description = "`{claims: [{claim_id, status, outcome, received_at, total_charge, total_paid}], next}`; the caller's own claims only", body = serde_json::Value),
              (status = 400, description = "Bad filter", body = Problem, content_type = "application/problem+json"),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub async fn list(
    State(runtime): State<Runtime>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<ListQuery>,
) -> Result<Json<serde_json::Value>, Problem> {
    let store = &runtime.store;
    let tenant = auth::authenticate(&runtime, &headers).await?;
    let limit = query.limit.unwrap_or(100).clamp(1, LIST_PAGE_MAX);
    let mut conditions = Vec::new();
    let mut values = Vec::new();
    // Its own submissions, and for auditors and admins the claims of the payers the key reads.
    match tenant.claims_scope() {
        Some(auth::PayerScope::All) => {}
        Some(scope @ auth::PayerScope::Only(payer_ids)) if !payer_ids.is_empty() => {
            values.push(Value::from(tenant.name.clone()));
            let in_scope = scope.sql_condition("payer_id", &mut values).unwrap_or_default();
            conditions.push(format!("(submitter = $1 OR {in_scope})"));
        }
        _ => {
            values.push(Value::from(tenant.name.clone()));
            conditions.push("submitter = $1".to_owned());
        }
    }
    if let Some(status) = &query.status {
        let Some(status) = ClaimStatus::parse(status) else {
            let all: Vec<&str> = ClaimStatus::ALL.iter().map(|s| s.as_str()).collect();
            return Err(Problem::bad_request(format!("status `{status}` is not one of {}", all.join(", "))));
        };
        values.push(Value::from(status.as_str()));
        conditions.push(format!("status = ${}", values.len()));
    }
    if let Some(since) = &query.since {
        let since = time::OffsetDateTime::parse(since, &time::format_description::well_known::Rfc3339)
            .map_err(|_| Problem::bad_request(format!("since `{since}` is not an RFC 3339 time")))?;
        values.push(Value::from(claimtrail_events::Timestamp::from_datetime(since).to_string()));
        conditions.push(format!("received_at >= ${}", values.len()));
    }
    if let Some(after) = query.after {
        values.push(Value::from(after));
        conditions.push(format!("claim_id > ${}", values.len()));
    }
    let filter = if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
    let rows = store
        .reader()
        .query_all_raw(stmt(
            store,
            format!(
                "SELECT claim_id, status, outcome, received_at, total_charge_cents, total_paid_cents FROM {} {filter} ORDER BY claim_id LIMIT {}",
                store.table("claims"),
                limit + 1
            ),
            values,
        ))
        .await?;
    let has_more = rows.len() as u64 > limit;
    let mut claims = Vec::with_capacity(rows.len());
    let mut listed = Vec::with_capacity(rows.len());
    for row in rows.into_iter().take(limit as usize) {
        let claim_id: Uuid = row.try_get_by_index(0)?;
        listed.push(claim_id);
        claims.push(json!({
            "claim_id": claim_id,
            "status": row.try_get_by_index::<String>(1)?,
            "outcome": row.try_get_by_index::<Option<String>>(2)?,
            "received_at": row.try_get_by_index::<String>(3)?,
            "total_charge": row.try_get_by_index::<Option<i64>>(4)?.map(Money::from_cents),
            "total_paid": row.try_get_by_index::<Option<i64>>(5)?.map(Money::from_cents),
        }));
    }
    record_access(store, &tenant, &listed, "list").await?;
    let next = if has_more { listed.last().map(|id| json!(id)) } else { None };
    Ok(Json(json!({ "claims": claims, "next": next })))
}

fn fhir_json(resource: serde_json::Value) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    ([(axum::http::header::CONTENT_TYPE, "application/fhir+json")], Json(resource)).into_response()
}

#[utoipa::path(get, path = "/v1/claims/{claim_id}/claim-response", tag = "intake",
    params(("claim_id" = String, Path, description = "The claim id")),
    responses((status = 200, description = "FHIR R4 ClaimResponse", body = claimtrail_runtime::fhir_schemas::FhirClaimResponse, content_type = "application/fhir+json"),
              (status = 404, description = "Not adjudicated, unknown, or another tenant's", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn claim_response(
    State(runtime): State<Runtime>,
    headers: HeaderMap,
    Path(claim_id): Path<String>,
) -> Result<axum::response::Response, Problem> {
    let (claim, decision, received_at) = adjudicated_claim(&runtime, &headers, &claim_id, "claim-response").await?;
    Ok(fhir_json(claimtrail_fhir::claim_response(&decision, &claim, &received_at)))
}

#[utoipa::path(get, path = "/v1/claims/{claim_id}/eob", tag = "intake",
    params(("claim_id" = String, Path, description = "The claim id")),
    responses((status = 200, description = "FHIR R4 ExplanationOfBenefit (CARIN Blue Button shape)", body = claimtrail_runtime::fhir_schemas::FhirExplanationOfBenefit, content_type = "application/fhir+json"),
              (status = 404, description = "Not adjudicated, unknown, or another tenant's", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn explanation_of_benefit(
    State(runtime): State<Runtime>,
    headers: HeaderMap,
    Path(claim_id): Path<String>,
) -> Result<axum::response::Response, Problem> {
    let (claim, decision, received_at) = adjudicated_claim(&runtime, &headers, &claim_id, "eob").await?;
    Ok(fhir_json(claimtrail_fhir::explanation_of_benefit(&decision, &claim, &received_at)))
}

#[utoipa::path(get, path = "/v1/claims/{claim_id}", tag = "intake",
    params(("claim_id" = String, Path, description = "The claim id from the POST answer")),
    responses((status = 200, description = "`{claim_id, status, outcome, history: [{status, event_type, event_id, at, detail}], decision, ...}`", body = serde_json::Value),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No such claim, or another tenant's", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn show(State(runtime): State<Runtime>, headers: HeaderMap, Path(claim_id): Path<String>) -> Result<Json<serde_json::Value>, Problem> {
    let store = &runtime.store;
    let not_found = || Problem::not_found(format!("no claim `{claim_id}`"));
    let columns = "channel, status, outcome, payer_id, billing_npi, total_charge_cents, total_paid_cents, issues, decision, received_at";
    let (tenant, claim_uuid, row) = readable_claim(&runtime, &headers, &claim_id, columns, not_found).await?;
    record_access(store, &tenant, &[claim_uuid], "status").await?;
    let issues: serde_json::Value = serde_json::from_str(&row.try_get_by_index::<String>(8)?).unwrap_or_default();
    let decision: Option<serde_json::Value> = row.try_get_by_index::<Option<String>>(9)?.and_then(|d| serde_json::from_str(&d).ok());
    let history_rows = store
        .reader()
        .query_all_raw(stmt(
            store,
            format!("SELECT status, event_type, event_id, at, detail FROM {} WHERE claim_id = $1 ORDER BY history_id", store.table("claim_history")),
            vec![Value::from(claim_uuid)],
        ))
        .await?;
    let mut history = Vec::with_capacity(history_rows.len());
    for h in history_rows {
        history.push(json!({
            "status": h.try_get_by_index::<String>(0)?,
            "event_type": h.try_get_by_index::<String>(1)?,
            "event_id": h.try_get_by_index::<Uuid>(2)?,
            "at": h.try_get_by_index::<String>(3)?,
            "detail": h.try_get_by_index::<String>(4)?,
        }));
    }
    Ok(Json(json!({
        "claim_id": claim_uuid,
        "status": row.try_get_by_index::<String>(2)?,
        "outcome": row.try_get_by_index::<Option<String>>(3)?,
        "channel": row.try_get_by_index::<String>(1)?,
        "payer_id": row.try_get_by_index::<Option<String>>(4)?,
        "billing_npi": row.try_get_by_index::<Option<String>>(5)?,
        "total_charge": row.try_get_by_index::<Option<i64>>(6)?.map(Money::from_cents),
        "total_paid": row.try_get_by_index::<Option<i64>>(7)?.map(Money::from_cents),
        "received_at": row.try_get_by_index::<String>(10)?,
        "issues": issues,
        "decision": decision,
        "history": history,
    })))
}
