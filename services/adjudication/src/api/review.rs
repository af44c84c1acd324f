//! The pended queue (issue 17):
//!
//! - `GET /v1/payers/{payer_id}/pended`: the payer's pended claims, each
//!   with the reason, the step that pended it and what a reviewer needs to
//!   know, its total charge and its age in days; highest charge first, then
//!   oldest. A claim leaves the queue once it is decided.
//!   Open appeals (`claim.appealed.v1`, [`super::appeals`]) are in it too,
//!   with reason and step `appeal`.
//! - `POST /v1/claims/{claim_id}/review`: the payer's key (or an admin key)
//!   decides an appealed claim's appeal (`overturn` or `approve`, `uphold`
//!   or `deny`, with a reason: [`crate::domain::appeal`]), or
//!   approves the pended claim with the amount allowed on each line, or
//!   denies it with a CARC, giving a reason. The review is checked against
//!   the claim (every fault with its path, 422), then published as
//!   `claim.reviewed.v1` naming the reviewer, on the claim's family
//!   partition; adjudication decides the claim on it in the family's order
//!   (benefits and accumulators included) and records the review with the
//!   decision, so the decision replays. 202: the review is recorded; the
//!   claim's status shows the decision a moment later.
//! - `GET /v1/payers/{payer_id}/auto-adjudication?days=`: the auto-adjudication
//!   rate over time: per day received, the payer's claims the engine decided,
//!   those a reviewer decided after a pend, and those still pended.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use claimtrail_events::{ClaimPended, ClaimReviewed, Money, NewEvent, ReviewedLine, format_date};
use claimtrail_runtime::Runtime;
use claimtrail_runtime::extract::{Caller, ForPayer, LimitedBody};
use claimtrail_runtime::http::{FieldError, Problem};
use claimtrail_store::outbox;
use sea_orm::TransactionTrait;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::policy::ReadsPolicy;
use crate::domain::auto_rate::{self, Passage};
use crate::domain::{DecisionRecord, appeal, review};
use crate::storage;

/// Pended claims one listing shows, at most.
pub const PENDED_LISTED_MAX: usize = 1_000;

/// One pended claim in the payer's queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PendedClaimView {
    pub claim_id: String,
    /// A short machine code, e.g. `suspect-duplicate`.
    pub reason: String,
    /// The step of adjudication that pended it, e.g. `duplicate`.
    pub step: String,
    pub detail: String,
    #[schema(value_type = String, example = "950.00")]
    pub total_charge: Money,
    /// The day it was pended (YYYY-MM-DD).
    pub pended_on: String,
    /// Whole days since it pended, by the service's clock.
    pub age: i64,
    /// Its place in the queue: 1 is reviewed first (highest charge, then oldest).
    pub priority: usize,
    /// The claim's lines, what a review allows amounts on.
    pub lines: Vec<PendedLineView>,
}

/// One line of a pended claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PendedLineView {
    pub sequence: u32,
    /// The procedure code (or revenue code on an institutional line).
    pub procedure_code: String,
    #[schema(value_type = String, example = "180.00")]
    pub charge: Money,
}

/// The answer of `GET /v1/payers/{payer_id}/pended`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PendedQueueView {
    pub payer_id: String,
    /// How many claims are pended (the list shows at most 1,000).
    pub count: usize,
    /// Highest total charge first, then the oldest.
    pub claims: Vec<PendedClaimView>,
}

/// One line of an approval.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ReviewLineBody {
    pub sequence: u32,
    /// The amount allowed, at most the line's charge.
    #[schema(example = "180.00")]
    pub allowed: String,
}

/// The body of `POST /v1/claims/{claim_id}/review`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ReviewBody {
    /// `approve` (every line its charge, or the amount `lines` give it), `adjust` (the same, naming at least one line) or `deny`.
    pub action: String,
    /// Why, 1 to 500 characters.
    pub reason: String,
    /// A denial's CARC, e.g. `50`.
    pub carc: Option<String>,
    /// The amount allowed on a line (lines not listed: their charge).
    #[serde(default)]
    pub lines: Vec<ReviewLineBody>,
}

/// The answer of a review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ReviewAnswer {
    pub claim_id: String,
    /// `review-recorded`: adjudication decides the claim on it next.
    pub status: String,
    pub reviewer: String,
}

#[utoipa::path(get, path = "/v1/payers/{payer_id}/pended", tag = "adjudication",
    params(("payer_id" = String, Path, description = "Payer")),
    responses((status = 200, description = "The payer's pended claims, highest charge first, then oldest", body = PendedQueueView),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Not a key of this payer (payer, admin or auditor)", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn pended_queue(
    State(runtime): State<Runtime>,
    ForPayer { tenant, payer_id, .. }: ForPayer<ReadsPolicy>,
) -> Result<Json<PendedQueueView>, Problem> {
    let store = &runtime.store;
    let stored = storage::pended_records(store, store.reader(), &payer_id).await?;
    let today = claimtrail_events::today();
    let mut claims = Vec::with_capacity(stored.len());
    for stored in &stored {
        let corrupt = |e: serde_json::Error| Problem::internal(&anyhow::anyhow!("the pend of claim {} does not read back: {e}", stored.claim_id));
        let pended: ClaimPended = serde_json::from_slice(&stored.payload).map_err(corrupt)?;
        let record: DecisionRecord = serde_json::from_slice(&stored.record).map_err(corrupt)?;
        let total_charge = Money::checked_sum(record.claim.lines.iter().map(|line| &line.charge))
            .ok_or_else(|| Problem::internal(&anyhow::anyhow!("the charges of claim {} overflow", stored.claim_id)))?;
        claims.push(PendedClaimView {
            claim_id: stored.claim_id.to_string(),
            reason: pended.reason,
            step: pended.step,
            detail: pended.detail,
            total_charge,
            pended_on: format_date(record.decided_on),
            age: (today - record.decided_on).whole_days(),
            priority: 0,
            lines: record
                .claim
                .lines
                .iter()
                .map(|line| PendedLineView { sequence: line.sequence, procedure_code: line.procedure_code.to_string(), charge: line.charge })
                .collect(),
        });
    }
    for open in storage::open_appeals(store, store.reader(), &payer_id).await? {
        let appealed = &open.appeal;
        let Some(decided) = storage::record(store, store.reader(), appealed.claim_id).await? else { continue };
        let record: DecisionRecord = serde_json::from_slice(&decided.record)
            .map_err(|e| Problem::internal(&anyhow::anyhow!("the decision record of appealed claim {} does not read back: {e}", appealed.claim_id)))?;
        let total_charge = Money::checked_sum(record.claim.lines.iter().map(|line| &line.charge))
            .ok_or_else(|| Problem::internal(&anyhow::anyhow!("the charges of claim {} overflow", appealed.claim_id)))?;
        let lines: Vec<String> = appealed.lines.iter().map(u32::to_string).collect();
        claims.push(PendedClaimView {
            claim_id: appealed.claim_id.to_string(),
            reason: appeal::QUEUE_REASON.to_owned(),
            step: appeal::QUEUE_REASON.to_owned(),
            detail: format!("appeal {} by {} of line {}: {}", appealed.appeal_id, appealed.appellant, lines.join(", "), appealed.reason),
            total_charge,
            pended_on: format_date(open.filed_on),
            age: (today - open.filed_on).whole_days(),
            priority: 0,
            lines: record
                .claim
                .lines
                .iter()
                .map(|line| PendedLineView { sequence: line.sequence, procedure_code: line.procedure_code.to_string(), charge: line.charge })
                .collect(),
        });
    }
    claims.sort_by(|a, b| b.total_charge.cmp(&a.total_charge).then(b.age.cmp(&a.age)).then(a.claim_id.cmp(&b.claim_id)));
    for (idx, claim) in claims.iter_mut().enumerate() {
        claim.priority = idx + 1;
    }
    let count = claims.len();
    claims.truncate(PENDED_LISTED_MAX);
    // The claims this answer shows, in intake's access log.
    let shown = claims.iter().filter_map(|claim| Uuid::parse_str(&claim.claim_id).ok());
    super::record_read(&runtime, &tenant, &payer_id, crate::domain::access::PENDED_QUEUE_VIEW, shown.collect::<Vec<_>>()).await?;
    Ok(Json(PendedQueueView { payer_id, count, claims }))
}

/// Days the auto-adjudication rate covers by default, and at most.
pub const RATE_DAYS_DEFAULT: i64 = 30;
pub const RATE_DAYS_MAX: i64 = 366;

#[derive(Debug, Deserialize)]
pub(crate) struct RateQuery {
    days: Option<i64>,
}

/// One day of the auto-adjudication rate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DayRateView {
    /// The day the claims were received (YYYY-MM-DD).
    pub day: String,
    /// Decided by the engine alone (denials included).
    pub auto: u64,
    /// Decided by a reviewer after a pend.
    pub reviewed: u64,
    /// Still pended.
    pub pended: u64,
    /// `auto` per thousand of the day's claims, rounded down.
    pub rate_permille: u32,
}

/// The answer of `GET /v1/payers/{payer_id}/auto-adjudication`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AutoRateView {
    pub payer_id: String,
    /// The first day counted (YYYY-MM-DD), by the service's clock.
    pub since: String,
    /// Days with claims, oldest first.
    pub days: Vec<DayRateView>,
}

/// What the rate reads of a decision record.
#[derive(Deserialize)]
struct Passed {
    #[serde(with = "claimtrail_events::date")]
    received_on: time::Date,
    #[serde(default)]
    review: Option<serde::de::IgnoredAny>,
}

#[utoipa::path(get, path = "/v1/payers/{payer_id}/auto-adjudication", tag = "adjudication",
    params(("payer_id" = String, Path, description = "Payer"),
           ("days" = Option<i64>, Query, description = "Days up to today (default 30, at most 366)")),
    responses((status = 200, description = "Per day received: claims decided by the engine, by a reviewer, still pended; the share decided by the engine", body = AutoRateView),
              (status = 400, description = "days out of range", body = Problem, content_type = "application/problem+json"),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Not a key of this payer (payer, admin or auditor)", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn auto_adjudication(
    State(runtime): State<Runtime>,
    ForPayer { payer_id, .. }: ForPayer<ReadsPolicy>,
    Query(query): Query<RateQuery>,
) -> Result<Json<AutoRateView>, Problem> {
    let days = query.days.unwrap_or(RATE_DAYS_DEFAULT);
    if !(1..=RATE_DAYS_MAX).contains(&days) {
        return Err(Problem::bad_request(format!("days is 1 to {RATE_DAYS_MAX}, not {days}")));
    }
    let since = claimtrail_events::today() - time::Duration::days(days - 1);
    let store = &runtime.store;
    let stored = storage::records_decided_since(store, store.reader(), &payer_id, &format!("{} 00:00:00", format_date(since))).await?;
    let mut claims = Vec::with_capacity(stored.len());
    for (event_type, record) in &stored {
        let passed: Passed =
            serde_json::from_slice(record).map_err(|e| Problem::internal(&anyhow::anyhow!("a decision record of payer {payer_id} does not read back: {e}")))?;
        let passage = if event_type == ClaimPended::EVENT_TYPE {
            Passage::Pended
        } else if passed.review.is_some() {
            Passage::Reviewed
        } else {
            Passage::Auto
        };
        claims.push((passed.received_on, passage));
    }
    let days = auto_rate::by_day(claims, since)
        .into_iter()
        .map(|day| DayRateView { day: format_date(day.day), auto: day.auto, reviewed: day.reviewed, pended: day.pended, rate_permille: day.rate_permille() })
        .collect();
    Ok(Json(AutoRateView { payer_id, since: format_date(since), days }))
}

#[utoipa::path(post, path = "/v1/claims/{claim_id}/review", tag = "adjudication",
    params(("claim_id" = String, Path, description = "The pended claim")),
    request_body(content = ReviewBody, description = "Approve or adjust with the lines' allowed amounts, or deny with a CARC; with a reason"),
    responses((status = 202, description = "The review is recorded (`claim.reviewed.v1`); adjudication decides the claim on it", body = ReviewAnswer),
              (status = 400, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No claim of a payer this key reviews", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "The claim is not pended (decided already)", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "The review does not fit the claim: every fault with its path; nothing recorded", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn review_claim(
    State(runtime): State<Runtime>,
    Caller(tenant): Caller,
    Path(claim_id): Path<String>,
    LimitedBody(body): LimitedBody,
) -> Result<(StatusCode, Json<ReviewAnswer>), Problem> {
    let body: ReviewBody = claimtrail_runtime::http::json_body(&body, "a review")?;
    let not_found = || Problem::not_found(format!("no claim {claim_id} of a payer this key reviews"));
    let (stored, record) = super::decision_record(&runtime, &claim_id, not_found, |stored| tenant.role.may_publish_for(&tenant, &stored.payer_id)).await?;
    let (store, claim_uuid) = (&runtime.store, stored.claim_id);
    if stored.event_type != ClaimPended::EVENT_TYPE {
        // A decided claim is reviewed only while an appeal of it is open.
        let open = storage::appeal_of(store, store.reader(), claim_uuid).await?.filter(|appeal| appeal.status == storage::APPEAL_OPEN);
        if open.is_none() {
            return Err(Problem::new(
                StatusCode::CONFLICT,
                "not-pended",
                "Not pended",
                format!("claim {claim_id} is not pended and has no open appeal: it was decided already"),
            ));
        }
        return review_appeal(&runtime, tenant, claim_uuid, &stored, body).await;
    }
    let mut errors = Vec::new();
    let mut lines = Vec::with_capacity(body.lines.len());
    for (idx, line) in body.lines.iter().enumerate() {
        match Money::parse(&line.allowed) {
            Ok(allowed) => lines.push(ReviewedLine { sequence: line.sequence, allowed }),
            Err(error) => errors.push(FieldError { path: format!("lines[{idx}].allowed"), message: error.to_string() }),
        }
    }
    let reviewed = ClaimReviewed {
        claim_id: claim_uuid,
        payer_id: stored.payer_id.clone(),
        reviewer: tenant.name.clone(),
        action: body.action,
        reason: body.reason,
        carc: body.carc,
        lines,
    };
    if errors.is_empty() {
        errors.extend(review::check(&record.claim, &reviewed).into_iter().map(|(path, message)| FieldError { path, message }));
    }
    if !errors.is_empty() {
        return Err(Problem::unprocessable(format!("the review of claim {claim_id} does not fit it; nothing was recorded"), errors));
    }
    publish_review(&runtime, &record, &stored, reviewed).await
}

/// Publishes `reviewed` on the claim's family partition: 202.
async fn publish_review(
    runtime: &Runtime,
    record: &DecisionRecord,
    stored: &storage::StoredRecord,
    reviewed: ClaimReviewed,
) -> Result<(StatusCode, Json<ReviewAnswer>), Problem> {
    let store = &runtime.store;
    let claim = &record.claim;
    let family = claim.subscriber_id.as_deref().unwrap_or(claim.member_id.as_str());
    let answer = ReviewAnswer { claim_id: reviewed.claim_id.to_string(), status: "review-recorded".into(), reviewer: reviewed.reviewer.clone() };
    let event = NewEvent::new(reviewed, stored.claim_id.to_string()).partitioned(&stored.payer_id, family);
    let tx = store.db().begin().await?;
    outbox::append(store, &tx, &runtime.producer, vec![event]).await?;
    tx.commit().await?;
    runtime.relay_wakeup.notify_waiters();
    Ok((StatusCode::ACCEPTED, Json(answer)))
}

/// The review of a claim's open appeal: `overturn` (or `approve`) or
/// `uphold` (or `deny`), with a reason and nothing else; recorded as
/// `claim.reviewed.v1` with the action `overturn` or `uphold`.
async fn review_appeal(
    runtime: &Runtime,
    tenant: claimtrail_runtime::auth::Tenant,
    claim_uuid: uuid::Uuid,
    stored: &storage::StoredRecord,
    body: ReviewBody,
) -> Result<(StatusCode, Json<ReviewAnswer>), Problem> {
    let mut faults: Vec<(String, String)> = appeal::reason_fault(&body.reason).into_iter().collect();
    let action = match appeal::review_action(&body.action, body.carc.as_deref(), body.lines.len()) {
        Ok(action) => action,
        Err(refused) => {
            faults.extend(refused);
            ""
        }
    };
    if !faults.is_empty() {
        let errors = faults.into_iter().map(|(path, message)| FieldError { path, message }).collect();
        return Err(Problem::unprocessable(format!("the review of claim {claim_uuid}'s appeal does not fit it; nothing was recorded"), errors));
    }
    let record: DecisionRecord = serde_json::from_slice(&stored.record)
        .map_err(|e| Problem::internal(&anyhow::anyhow!("the decision record of claim {claim_uuid} does not read back: {e}")))?;
    let reviewed = ClaimReviewed {
        claim_id: claim_uuid,
        payer_id: stored.payer_id.clone(),
        reviewer: tenant.name,
        action: action.to_owned(),
        reason: body.reason.trim().to_owned(),
        carc: None,
        lines: Vec::new(),
    };
    publish_review(runtime, &record, stored, reviewed).await
}
