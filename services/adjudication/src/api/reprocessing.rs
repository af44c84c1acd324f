//! Retroactive reprocessing over HTTP (issue 17):
//!
//! - `POST /v1/payers/{payer_id}/reprocessing`: the payer's key (or an
//!   admin key) starts a job for a correction of reference data: a late
//!   `date-of-death` or a `coverage-termination` of `member_id` (as
//!   adjudication's registry now holds it, from intake's
//!   `member.enrolled.v1`), or a `fee-schedule-correction` (the
//!   `fee-schedules` policy version `version_id`, effective from a date that
//!   decided claims were served on). The job selects the claims the
//!   correction affects (by member and dates, or by code and dates), stores
//!   itself with each claim pending and queues each claim on its family's
//!   partition (`claim.reprocessing_queued.v1`), all in one transaction;
//!   202 with the job. A registry correction that arrives as an event starts
//!   the same job by itself.
//! - `GET /v1/payers/{payer_id}/reprocessing/{job_id}`: the job's progress:
//!   how many claims it selected, how many changed (reversed and decided
//!   again), stayed the same or were skipped, how many later claims of their
//!   families rippled, and each claim's state.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use claimtrail_runtime::Runtime;
use claimtrail_runtime::extract::{ForPayer, LimitedBody};
use claimtrail_runtime::http::{FieldError, Problem};
use claimtrail_store::outbox;
use sea_orm::TransactionTrait;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::policy::{PolicyKind, ReadsPolicy, UploadsPolicy};
use crate::consumer::reprocess::start_job;
use crate::domain::ripple::ReferenceChange;
use crate::storage::{self, reprocess::JobRow};

/// The body of `POST /v1/payers/{payer_id}/reprocessing`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ReprocessingBody {
    /// `date-of-death`, `coverage-termination` or `fee-schedule-correction`.
    pub reason: String,
    /// The member whose date of death or coverage the registry corrected (the first two reasons).
    pub member_id: Option<String>,
    /// The corrected `fee-schedules` policy version (a fee-schedule correction).
    pub version_id: Option<String>,
}

/// One claim a job selected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct JobClaimView {
    pub claim_id: String,
    /// `pending`, `changed` (reversed and decided again), `unchanged` or `skipped`.
    pub state: String,
    /// The new version a change decided (its claim id).
    pub version_id: Option<String>,
}

/// A reprocessing job and its progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ReprocessingJobView {
    pub job_id: String,
    pub payer_id: String,
    /// `date-of-death`, `coverage-termination` or `fee-schedule-correction`.
    pub reason: String,
    /// What the job corrects.
    pub detail: String,
    /// `running` or `completed`.
    pub status: String,
    /// Claims the correction affects.
    pub selected: i64,
    /// Claims decided again so far (changed, unchanged or skipped).
    pub done: i64,
    /// Reversed and decided again: settlement pays or recoups the difference.
    pub changed: i64,
    /// Decided the same: nothing emitted.
    pub unchanged: i64,
    /// Not decided again (no standing decision any more).
    pub skipped: i64,
    /// Later claims of the same families that changed with them.
    pub rippled: i64,
    pub created_at: String,
    pub finished_at: Option<String>,
    /// Each selected claim (at most 1,000), by claim id.
    pub claims: Vec<JobClaimView>,
}

fn view(job: JobRow, claims: Vec<storage::reprocess::JobClaim>) -> ReprocessingJobView {
    ReprocessingJobView {
        job_id: job.job_id.to_string(),
        payer_id: job.payer_id,
        reason: job.reason,
        detail: job.detail,
        status: job.status,
        selected: job.n_selected,
        done: job.n_changed + job.n_unchanged + job.n_skipped,
        changed: job.n_changed,
        unchanged: job.n_unchanged,
        skipped: job.n_skipped,
        rippled: job.n_rippled,
        created_at: job.created_at,
        finished_at: job.finished_at,
        claims: claims
            .into_iter()
            .map(|claim| JobClaimView { claim_id: claim.claim_id.to_string(), state: claim.state, version_id: claim.version_id.map(|id| id.to_string()) })
            .collect(),
    }
}

fn unprocessable(errors: Vec<FieldError>) -> Problem {
    Problem::unprocessable("the reprocessing request is invalid; no job was started", errors)
}

/// The correction `body` names, as adjudication's registry and policy versions hold it now, and its detail.
async fn change_of(runtime: &Runtime, payer_id: &str, body: &ReprocessingBody) -> Result<(ReferenceChange, String), Problem> {
    let store = &runtime.store;
    let field = |path: &str, message: String| unprocessable(vec![FieldError { path: path.into(), message }]);
    match body.reason.as_str() {
        reason @ ("date-of-death" | "coverage-termination") => {
            let member_id = body.member_id.as_deref().ok_or_else(|| field("member_id", format!("required for `{reason}`")))?;
            let member = storage::member(store, store.reader(), payer_id, member_id, None)
                .await?
                .ok_or_else(|| field("member_id", format!("payer {payer_id}'s registry holds no member `{member_id}`")))?;
            if reason == "date-of-death" {
                let died = member.date_of_death.ok_or_else(|| field("member_id", format!("the registry holds no date of death for member `{member_id}`")))?;
                let detail = format!("member date of death {}", claimtrail_events::format_date(died));
                return Ok((ReferenceChange::DateOfDeath { member_id: member_id.to_owned(), died }, detail));
            }
            let detail =
                format!("member coverage {} to {}", claimtrail_events::format_date(member.coverage_start), claimtrail_events::format_date(member.coverage_end));
            Ok((
                ReferenceChange::CoverageTermination {
                    member_id: member_id.to_owned(),
                    coverage_start: member.coverage_start,
                    coverage_end: member.coverage_end,
                },
                detail,
            ))
        }
        "fee-schedule-correction" => {
            let text = body.version_id.as_deref().ok_or_else(|| field("version_id", "required for `fee-schedule-correction`".into()))?;
            let not_found = || field("version_id", format!("payer {payer_id} has no fee-schedules version `{text}`"));
            let version_id = Uuid::parse_str(text).map_err(|_| not_found())?;
            let version = storage::policy_versions(store, store.reader(), payer_id)
                .await?
                .into_iter()
                .find(|version| version.version_id == version_id && version.kind == PolicyKind::FeeSchedules.as_str())
                .ok_or_else(not_found)?;
            let bytes = storage::policy_body(store, store.reader(), version_id).await?;
            let table = claimtrail_policy::FeeSchedule::load(bytes.as_slice())
                .map_err(|errors| Problem::internal(&anyhow::anyhow!("stored fee schedule {version_id} does not load: {errors}")))?;
            let detail = format!(
                "fee-schedules version {version_id} ({}) in force from {}",
                version.content_hash,
                claimtrail_events::format_date(version.effective_from)
            );
            Ok((ReferenceChange::FeeSchedule { from: version.effective_from, to: version.effective_to, codes: table.codes().into_iter().collect() }, detail))
        }
        other => Err(field("reason", format!("`{other}` is not one of date-of-death, coverage-termination, fee-schedule-correction"))),
    }
}

#[utoipa::path(post, path = "/v1/payers/{payer_id}/reprocessing", tag = "adjudication", operation_id = "start_reprocessing",
    params(("payer_id" = String, Path, description = "Payer")),
    request_body(content = ReprocessingBody, description = "The correction: a member's date of death or coverage, or a fee-schedules version"),
    responses((status = 202, description = "The job is started: its claims are queued on their families' partitions", body = ReprocessingJobView),
              (status = 400, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Not an admin key, nor this payer's key", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "The correction is not one adjudication holds: the field and why; no job started", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn start(
    State(runtime): State<Runtime>,
    ForPayer { payer_id, .. }: ForPayer<UploadsPolicy>,
    LimitedBody(body): LimitedBody,
) -> Result<(StatusCode, Json<ReprocessingJobView>), Problem> {
    let body: ReprocessingBody = claimtrail_runtime::http::json_body(&body, "a reprocessing request")?;
    let (change, detail) = change_of(&runtime, &payer_id, &body).await?;
    let store = &runtime.store;
    let tx = store.db().begin().await?;
    let Some((job, events)) = start_job(store, &tx, &payer_id, &change, detail, true).await? else {
        return Err(Problem::internal(&anyhow::anyhow!("a job kept even when empty was not started")));
    };
    if !events.is_empty() {
        outbox::append(store, &tx, &runtime.producer, events).await?;
    }
    tx.commit().await?;
    runtime.relay_wakeup.notify_waiters();
    let claims = storage::reprocess::job_claims(store, store.reader(), job.job_id).await?;
    Ok((StatusCode::ACCEPTED, Json(view(job, claims))))
}

#[utoipa::path(get, path = "/v1/payers/{payer_id}/reprocessing/{job_id}", tag = "adjudication", operation_id = "show_reprocessing",
    params(("payer_id" = String, Path, description = "Payer"), ("job_id" = String, Path, description = "The job")),
    responses((status = 200, description = "The job's progress", body = ReprocessingJobView),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Not a key of this payer (payer, admin or auditor)", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No such job of this payer", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn show(
    State(runtime): State<Runtime>,
    ForPayer { payer_id, .. }: ForPayer<ReadsPolicy>,
    Path((_, job_id)): Path<(String, String)>,
) -> Result<Json<ReprocessingJobView>, Problem> {
    let not_found = || Problem::not_found(format!("payer {payer_id} has no reprocessing job {job_id}"));
    let job_uuid = Uuid::parse_str(&job_id).map_err(|_| not_found())?;
    let store = &runtime.store;
    let job = storage::reprocess::job(store, store.reader(), &payer_id, job_uuid).await?.ok_or_else(not_found)?;
    let claims = storage::reprocess::job_claims(store, store.reader(), job_uuid).await?;
    Ok(Json(view(job, claims)))
}
