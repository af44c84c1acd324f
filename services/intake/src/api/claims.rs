//! The claim reads: `GET /v1/claims` (the caller's claims, paged),
//! `GET /v1/claims/{id}` (status, outcome, totals, issues, decision,
//! history), and the decision as FHIR R4 ClaimResponse and
//! ExplanationOfBenefit. Every read is recorded in the access log.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use claimtrail_events::{ClaimAdjudicated, ClaimSubmitted, DomainEvent, Envelope, Money};
use claimtrail_runtime::Runtime;
use claimtrail_runtime::extract::Caller;
use claimtrail_runtime::fhir_schemas::{FhirClaimResponse, FhirExplanationOfBenefit};
use claimtrail_runtime::http::Problem;
use claimtrail_store::Store;
use serde::Serialize;
use uuid::Uuid;

use super::IssueView;
use crate::auth;
use crate::storage::claims::{self as stored, StoredClaim};

/// One claim of `GET /v1/claims`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClaimSummary {
    #[schema(value_type = String, format = "uuid")]
    pub claim_id: Uuid,
    /// `paid`, `partially_paid` or `denied` once adjudicated.
    pub outcome: Option<String>,
    pub received_at: String,
    /// received, rejected, accepted, pended, adjudicated, paid, replaced or voided.
    pub status: String,
    #[schema(value_type = Option<String>, example = "120.00")]
    pub total_charge: Option<Money>,
    #[schema(value_type = Option<String>, example = "80.00")]
    pub total_paid: Option<Money>,
}

/// One of the member's accumulator buckets after the claim, beside the plan's limit.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BalanceView {
    /// `{deductible|oop}_{inn|oon}_{individual|family}`.
    pub bucket: String,
    /// The plan's deductible or out-of-pocket maximum.
    #[schema(value_type = String, example = "500.00")]
    pub limit: Money,
    /// What is met of it after the claim.
    #[schema(value_type = String, example = "350.00")]
    pub met: Money,
    pub plan_year: i32,
}

/// `GET /v1/claims`: a page of claims, and the cursor of the next (null on the last page).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClaimList {
    pub claims: Vec<ClaimSummary>,
    #[schema(value_type = Option<String>, format = "uuid")]
    pub next: Option<Uuid>,
}

/// One step of a claim's history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HistoryStep {
    pub at: String,
    pub detail: String,
    #[schema(value_type = String, format = "uuid")]
    pub event_id: Uuid,
    pub event_type: String,
    pub status: String,
}

/// `GET /v1/claims/{claim_id}`: where a claim stands and how it got there.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClaimView {
    /// The member's deductible and out-of-pocket buckets after the claim (its network tier; none without cost sharing).
    pub accumulators: Vec<BalanceView>,
    pub billing_npi: Option<String>,
    /// `fhir` or `x12`.
    pub channel: String,
    #[schema(value_type = String, format = "uuid")]
    pub claim_id: Uuid,
    /// The `claim.adjudicated.v1` payload once adjudicated: outcome, totals and every line explained.
    pub decision: Option<ClaimAdjudicated>,
    pub history: Vec<HistoryStep>,
    /// The front-end edits the claim failed (none when accepted).
    #[schema(value_type = Vec<IssueView>)]
    pub issues: serde_json::Value,
    pub outcome: Option<String>,
    pub payer_id: Option<String>,
    pub received_at: String,
    pub status: String,
    #[schema(value_type = Option<String>, example = "120.00")]
    pub total_charge: Option<Money>,
    #[schema(value_type = Option<String>, example = "80.00")]
    pub total_paid: Option<Money>,
}

pub fn routes(runtime: Runtime) -> Router {
    Router::new()
        .route("/v1/claims/{claim_id}", get(show))
        .route("/v1/claims/{claim_id}/claim-response", get(claim_response))
        .route("/v1/claims/{claim_id}/eob", get(explanation_of_benefit))
        .with_state(runtime)
}

/// Records a read of a claim (HIPAA access log): who, which claim, which view, when.
async fn record_access(store: &Store, tenant: &auth::Tenant, claim_ids: &[Uuid], view: &str) -> Result<(), Problem> {
    Ok(stored::record_access(store, store.db(), &tenant.name, &tenant.key_id, claim_ids, view).await?)
}

/// Reads a claim the caller may see: its own, or any for auditor and admin
/// keys; a correction version's id reads the claim it is a version of. Another tenant's claim, like an unknown one, is `not_found`; an
/// erased one is 410.
async fn readable_claim(
    runtime: &Runtime,
    tenant: auth::Tenant,
    claim_id: &str,
    not_found: impl Fn() -> Problem,
) -> Result<(auth::Tenant, Uuid, StoredClaim), Problem> {
    let mut claim_uuid = Uuid::parse_str(claim_id).map_err(|_| not_found())?;
    let mut claim = stored::claim(&runtime.store, claim_uuid).await?;
    // A correction version adjudication made (a ripple, a reprocessing job) reads as the claim it is a version of.
    if claim.is_none()
        && let Some(original) = crate::storage::versions::original_of(&runtime.store, claim_uuid).await?
    {
        claim_uuid = original;
        claim = stored::claim(&runtime.store, original).await?;
    }
    let claim = claim.ok_or_else(&not_found)?;
    if !tenant.reads_claim(&claim.submitter, claim.payer_id.as_deref()) {
        return Err(not_found());
    }
    if let Some(erased_at) = &claim.erased_at {
        return Err(Problem::new(StatusCode::GONE, "erased", "Erased", format!("claim {claim_uuid} was erased on request at {erased_at}")));
    }
    Ok((tenant, claim_uuid, claim))
}

/// The submitted claim and its decision, for a tenant allowed to see them (404 otherwise,
/// and 404 before adjudication).
async fn adjudicated_claim(
    runtime: &Runtime,
    tenant: auth::Tenant,
    claim_id: &str,
    view: &str,
) -> Result<(claimtrail_events::SubmittedClaim, ClaimAdjudicated, String), Problem> {
    let not_found = || Problem::not_found(format!("no adjudicated claim `{claim_id}`"));
    let (tenant, claim_uuid, row) = readable_claim(runtime, tenant, claim_id, not_found).await?;
    let Some(decision) = row.decision else {
        return Err(not_found());
    };
    let claim = match row.claim {
        // Claims stored before the claim was kept in its event only.
        Some(claim) => serde_json::from_str(&claim).map_err(|e| Problem::internal(&anyhow::anyhow!("stored claim {claim_uuid} is unreadable: {e}")))?,
        None => submitted_claim(&runtime.store, claim_uuid).await?,
    };
    let decision = serde_json::from_str(&decision).map_err(|e| Problem::internal(&anyhow::anyhow!("stored decision {claim_uuid} is unreadable: {e}")))?;
    record_access(&runtime.store, &tenant, &[claim_uuid], view).await?;
    Ok((claim, decision, row.received_at))
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
    responses((status = 200, description = "A page of the caller's own claims (every tenant's for auditor and admin keys), and the next page's cursor", body = ClaimList),
              (status = 400, description = "Bad filter", body = Problem, content_type = "application/problem+json"),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub async fn list(
    State(runtime): State<Runtime>,
    Caller(tenant): Caller,
    axum::extract::Query(query): axum::extract::Query<ListQuery>,
) -> Result<Json<ClaimList>, Problem> {
    let store = &runtime.store;
    let limit = query.limit.unwrap_or(100).clamp(1, LIST_PAGE_MAX);
    let status = match &query.status {
        None => None,
        Some(status) => match claimtrail_events::ClaimStatus::parse(status) {
            Some(status) => Some(status),
            None => {
                let all: Vec<&str> = claimtrail_events::ClaimStatus::ALL.iter().map(|s| s.as_str()).collect();
                return Err(Problem::bad_request(format!("status `{status}` is not one of {}", all.join(", "))));
            }
        },
    };
    let since = match &query.since {
        None => None,
        Some(since) => {
            let since = time::OffsetDateTime::parse(since, &time::format_description::well_known::Rfc3339)
                .map_err(|_| Problem::bad_request(format!("since `{since}` is not an RFC 3339 time")))?;
            Some(claimtrail_events::Timestamp::from_datetime(since).to_string())
        }
    };
    let filter = stored::ListFilter { submitter: &tenant.name, scope: tenant.claims_scope(), status, since, after: query.after, limit: limit + 1 };
    let rows = stored::list(store, &filter).await?;
    let has_more = rows.len() as u64 > limit;
    let claims: Vec<ClaimSummary> = rows
        .into_iter()
        .take(limit as usize)
        .map(|row| ClaimSummary {
            claim_id: row.claim_id,
            outcome: row.outcome,
            received_at: row.received_at,
            status: row.status,
            total_charge: row.total_charge,
            total_paid: row.total_paid,
        })
        .collect();
    let listed: Vec<Uuid> = claims.iter().map(|claim| claim.claim_id).collect();
    record_access(store, &tenant, &listed, "list").await?;
    let next = if has_more { listed.last().copied() } else { None };
    Ok(Json(ClaimList { claims, next }))
}

fn fhir_json(resource: serde_json::Value) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    ([(axum::http::header::CONTENT_TYPE, "application/fhir+json")], Json(resource)).into_response()
}

/// A FHIR view of an adjudicated claim: its handler and its OpenAPI operation
/// (the payment shown once settled; the same 404 for a claim not adjudicated, unknown, or another tenant's;
/// the read recorded in the access log as `$access`).
macro_rules! fhir_view {
    ($handler:ident, $path:tt, $description:tt, $schema:ident, $access:tt, $render:path) => {
        #[utoipa::path(get, path = $path, tag = "intake",
            params(("claim_id" = String, Path, description = "The claim id")),
            responses((status = 200, description = $description, body = $schema, content_type = "application/fhir+json"),
                      (status = 404, description = "Not adjudicated, unknown, or another tenant's", body = Problem, content_type = "application/problem+json")),
            security(("api_key" = [])))]
        pub(crate) async fn $handler(
            State(runtime): State<Runtime>,
            Caller(tenant): Caller,
            Path(claim_id): Path<String>,
        ) -> Result<axum::response::Response, Problem> {
            let (claim, decision, received_at) = adjudicated_claim(&runtime, tenant, &claim_id, $access).await?;
            let mut resource = $render(&decision, &claim, &received_at);
            if let Some(payment) = crate::storage::payments::of_claim(&runtime.store, decision.claim_id).await? {
                claimtrail_fhir::with_payment(&mut resource, &payment);
            }
            // The EOB's benefitBalance: the member's accumulators after the claim.
            claimtrail_fhir::with_balances(&mut resource, &crate::storage::benefits::of_claim(&runtime.store, decision.claim_id).await?);
            Ok(fhir_json(resource))
        }
    };
}

fhir_view!(
    claim_response,
    "/v1/claims/{claim_id}/claim-response",
    "FHIR R4 ClaimResponse",
    FhirClaimResponse,
    "claim-response",
    claimtrail_fhir::claim_response
);
fhir_view!(
    explanation_of_benefit,
    "/v1/claims/{claim_id}/eob",
    "FHIR R4 ExplanationOfBenefit (CARIN Blue Button shape)",
    FhirExplanationOfBenefit,
    "eob",
    claimtrail_fhir::explanation_of_benefit
);

#[utoipa::path(get, path = "/v1/claims/{claim_id}", tag = "intake", operation_id = "show_claim",
    params(("claim_id" = String, Path, description = "The claim id from the POST answer")),
    responses((status = 200, description = "The claim's status, outcome, totals, issues, decision and history", body = ClaimView),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No such claim, or another tenant's", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn show(State(runtime): State<Runtime>, Caller(tenant): Caller, Path(claim_id): Path<String>) -> Result<Json<ClaimView>, Problem> {
    let store = &runtime.store;
    let not_found = || Problem::not_found(format!("no claim `{claim_id}`"));
    let (tenant, claim_uuid, row) = readable_claim(&runtime, tenant, &claim_id, not_found).await?;
    record_access(store, &tenant, &[claim_uuid], "status").await?;
    let issues: serde_json::Value = serde_json::from_str(&row.issues).unwrap_or_default();
    let decision: Option<ClaimAdjudicated> = row.decision.and_then(|d| serde_json::from_str(&d).ok());
    let history = stored::history(store, claim_uuid)
        .await?
        .into_iter()
        .map(|step| HistoryStep { at: step.at, detail: step.detail, event_id: step.event_id, event_type: step.event_type, status: step.status })
        .collect();
    let accumulators = crate::storage::benefits::of_claim(store, claim_uuid)
        .await?
        .into_iter()
        .map(|balance| BalanceView { bucket: balance.bucket, limit: balance.limit, met: balance.met, plan_year: balance.plan_year })
        .collect();
    Ok(Json(ClaimView {
        accumulators,
        billing_npi: row.billing_npi,
        channel: row.channel,
        claim_id: claim_uuid,
        decision,
        history,
        issues,
        outcome: row.outcome,
        payer_id: row.payer_id,
        received_at: row.received_at,
        status: row.status,
        total_charge: row.total_charge,
        total_paid: row.total_paid,
    }))
}
