//! Benefit plans and accumulator imports over HTTP (issue 17), as payer
//! policy data beside the tables of [`super::policy`]:
//!
//! - `PUT /v1/payers/{payer_id}/plans/{plan_id}?effective_from=YYYY-MM-DD[&effective_to=YYYY-MM-DD]`:
//!   a [`Plan`] (docs/benefits.md). It is checked whole ([`Plan::compile`]):
//!   a plan that contradicts itself stores nothing and answers 422 with every
//!   fault, each with its JSON path (`tiers.inn.deductible.family`) and
//!   reason. A valid plan is stored as a new version of kind `plan`, named
//!   by its plan id, with its canonical JSON (content hash: SHA3-256 of it),
//!   effective-dated and bitemporal like every policy version, and
//!   `policy_version.published.v1` goes to the outbox in the same transaction.
//!   The member's plan is the one the registry's enrollment names (`plan_id`).
//! - `GET /v1/payers/{payer_id}/plans`: every plan version stored.
//! - `POST /v1/payers/{payer_id}/accumulators/import`: the CSV of mid-year
//!   onboarding (`member_id,plan_year,bucket,amount`), all or nothing, every
//!   bad line named; recorded as one `accumulators.changed.v1` (`imported`,
//!   with the file's SHA3-256). The same file twice is refused (409).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use claimtrail_benefits::{AccumulatorEvent, Plan, parse_import};
use claimtrail_events::canonical::to_canonical_vec;
use claimtrail_events::{NewEvent, Timestamp};
use claimtrail_runtime::Runtime;
use claimtrail_runtime::extract::{ForPayer, LimitedBody};
use claimtrail_runtime::http::{FieldError, Problem};
use claimtrail_store::outbox;
use sea_orm::TransactionTrait;
use serde::Serialize;
use uuid::Uuid;

use super::policy::{self, EffectiveQuery, PolicyVersionView, PolicyVersionsView, ReadsPolicy, UploadsPolicy};
use crate::storage::{self, PolicyVersion};

/// The kind of a plan's versions among the payer's policy versions.
pub const PLAN_KIND: &str = "plan";

/// The answer of an accumulator import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AccumulatorImportView {
    pub payer_id: String,
    /// Hex SHA3-256 of the file.
    pub source_sha3: String,
    /// The rows imported.
    pub entries: usize,
}

fn check_plan_id(plan_id: &str) -> Result<(), Problem> {
    if plan_id.is_empty() || plan_id.len() > 80 || !plan_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(Problem::unprocessable(
            "the plan id is invalid; nothing was stored",
            vec![FieldError { path: "plan_id".into(), message: "a plan id is 1-80 letters, digits, - or _".into() }],
        ));
    }
    Ok(())
}

#[utoipa::path(put, path = "/v1/payers/{payer_id}/plans/{plan_id}", tag = "adjudication",
    params(("payer_id" = String, Path, description = "Payer"), ("plan_id" = String, Path, description = "The plan, as enrollments name it"), EffectiveQuery),
    request_body(content = Plan, description = "The benefit plan (docs/benefits.md); money and percentages as strings"),
    responses((status = 201, description = "Stored as a new version, with its content hash", body = PolicyVersionView),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Not an admin key, nor this payer's key", body = Problem, content_type = "application/problem+json"),
              (status = 413, description = "Larger than the server's body limit", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "Refused: every fault with its JSON path and reason; nothing stored", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn put_plan(
    State(runtime): State<Runtime>,
    ForPayer { payer_id, .. }: ForPayer<UploadsPolicy>,
    Path((_, plan_id)): Path<(String, String)>,
    Query(query): Query<EffectiveQuery>,
    LimitedBody(body): LimitedBody,
) -> Result<(StatusCode, Json<PolicyVersionView>), Problem> {
    policy::check_payer_id(&payer_id)?;
    check_plan_id(&plan_id)?;
    let (effective_from, effective_to) =
        policy::effective_span(&query).map_err(|errors| Problem::unprocessable("the plan's effective dates are invalid; nothing was stored", errors))?;
    let plan = Plan::from_json(&body).map_err(|errors| {
        Problem::unprocessable(
            format!("plan `{plan_id}` is refused; nothing was stored"),
            errors.errors.into_iter().map(|error| FieldError { path: error.path, message: error.message }).collect(),
        )
    })?;
    let canonical = to_canonical_vec(plan.plan()).map_err(|e| Problem::internal(&anyhow::anyhow!("plan {plan_id} is not canonical JSON: {e}")))?;
    let version = PolicyVersion {
        version_id: Uuid::now_v7(),
        payer_id,
        kind: PLAN_KIND.to_owned(),
        name: plan_id,
        content_hash: plan.content_hash_hex(),
        row_count: plan.plan().categories.len() as u64,
        effective_from,
        effective_to,
        recorded_at: Timestamp::now(),
    };
    Ok((StatusCode::CREATED, Json(policy::store_version(&runtime, version, &canonical).await?)))
}

#[utoipa::path(get, path = "/v1/payers/{payer_id}/plans", tag = "adjudication",
    params(("payer_id" = String, Path, description = "Payer")),
    responses((status = 200, description = "Every plan version the payer uploaded (kind `plan`, named by plan id)", body = PolicyVersionsView),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Not a key of this payer (payer, admin or auditor)", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn list_plans(State(runtime): State<Runtime>, ForPayer { payer_id, .. }: ForPayer<ReadsPolicy>) -> Result<Json<PolicyVersionsView>, Problem> {
    let versions = storage::policy_versions(&runtime.store, runtime.store.reader(), &payer_id).await?;
    Ok(Json(PolicyVersionsView { versions: versions.into_iter().filter(|version| version.kind == PLAN_KIND).map(policy::view).collect() }))
}

#[utoipa::path(post, path = "/v1/payers/{payer_id}/accumulators/import", tag = "adjudication",
    params(("payer_id" = String, Path, description = "Payer")),
    request_body(content = String, content_type = "text/csv", description = "`member_id,plan_year,bucket,amount`, one row per member (or family subscriber), plan year and bucket"),
    responses((status = 201, description = "Imported: the amounts add to the accumulators", body = AccumulatorImportView),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Not an admin key, nor this payer's key", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "This file was imported already", body = Problem, content_type = "application/problem+json"),
              (status = 413, description = "Larger than the server's body limit", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "Invalid file: every bad line with its number and reason; nothing imported", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn import_accumulators(
    State(runtime): State<Runtime>,
    ForPayer { payer_id, .. }: ForPayer<UploadsPolicy>,
    LimitedBody(body): LimitedBody,
) -> Result<(StatusCode, Json<AccumulatorImportView>), Problem> {
    policy::check_payer_id(&payer_id)?;
    let imported = parse_import(&body)
        .map_err(|errors| Problem::unprocessable(format!("the accumulator file is invalid ({errors}); nothing was imported"), policy::load_errors(&errors)))?;
    let store = &runtime.store;
    let tx = store.db().begin().await?;
    if storage::import_recorded(store, &tx, &payer_id, &imported.source_sha3).await? {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "conflict",
            "Conflict",
            format!("the accumulator file {} was imported already; nothing was imported again", imported.source_sha3),
        ));
    }
    let view = AccumulatorImportView { payer_id: payer_id.clone(), source_sha3: imported.source_sha3.clone(), entries: imported.entries.len() };
    let changed = AccumulatorEvent::Imported(imported).to_changed(&payer_id);
    storage::record_accumulators(store, &tx, &changed).await?;
    let key = format!("accumulators:{payer_id}:{}", view.source_sha3);
    outbox::append(store, &tx, &runtime.producer, vec![NewEvent::new(changed, key)]).await?;
    tx.commit().await?;
    runtime.relay_wakeup.notify_waiters();
    Ok((StatusCode::CREATED, Json(view)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_id_is_the_registry_s_shape() {
        assert!(check_plan_id("PPO-2026_a").is_ok());
        for bad in ["", "PPO 2026", "PPO/2026", &"P".repeat(81)] {
            let refused = check_plan_id(bad).unwrap_err();
            assert_eq!((refused.status, refused.errors[0].path.as_str()), (422, "plan_id"), "{bad:?}");
        }
    }
}
