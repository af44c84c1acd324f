//! Adjudication's HTTP API: the payer's fee schedule. The payer publishes
//! one per payer (a new version replaces the old); adjudication prices with
//! it and records its content hash (SHA3-256 of its canonical entries) in
//! every decision.
//!
//! `PUT /v1/payers/{payer_id}/fee-schedule` stores the schedule and emits
//! `fee_schedule.published.v1` in one transaction.

use std::collections::HashSet;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::put;
use axum::{Json, Router};
use claimtrail_events::canonical::to_canonical_vec;
use claimtrail_events::{FeeScheduleEntry, FeeSchedulePublished, Money, NewEvent, sha3_256};
use claimtrail_runtime::http::{FieldError, Problem};
use claimtrail_runtime::{Runtime, auth};
use claimtrail_store::outbox;
use sea_orm::TransactionTrait;
use serde::{Deserialize, Serialize};

use crate::storage::{self, StoredSchedule};

/// Entries in one fee schedule, at most.
pub const FEE_SCHEDULE_ENTRIES_MAX: usize = 100_000;

/// One fee: a per-unit amount for a procedure code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeeBody {
    /// A 5-character HCPCS/CPT code.
    #[schema(example = "99213")]
    pub procedure_code: String,
    /// The per-unit amount in USD, as a string with at most two decimals.
    #[schema(value_type = String, example = "80.00")]
    pub amount: Money,
}

/// The body of `PUT /v1/payers/{payer_id}/fee-schedule`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeeScheduleBody {
    /// The payer's name for this version.
    pub fee_schedule_id: String,
    pub entries: Vec<FeeBody>,
}

/// What publishing a schedule stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PublishedSchedule {
    pub payer_id: String,
    pub fee_schedule_id: String,
    /// Hex SHA3-256 of the canonical entries, sorted by code: what decisions cite.
    pub content_hash: String,
    /// How many entries it holds.
    pub entries: usize,
}

/// The schedule in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FeeScheduleView {
    pub payer_id: String,
    pub fee_schedule_id: String,
    pub content_hash: String,
    /// By procedure code.
    pub entries: Vec<FeeBody>,
}

pub fn routes(runtime: Runtime) -> Router {
    Router::new().route("/v1/payers/{payer_id}/fee-schedule", put(publish).get(show)).with_state(runtime)
}

/// Every fault of a schedule, each naming its field.
fn validate(payer_id: &str, body: &FeeScheduleBody) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if payer_id.is_empty() || payer_id.len() > 80 || !payer_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        errors.push(FieldError { path: "payer_id".into(), message: "payer id must be 1-80 letters, digits, - or _".into() });
    }
    if body.fee_schedule_id.trim().is_empty() {
        errors.push(FieldError { path: "fee_schedule_id".into(), message: "must not be empty".into() });
    }
    if body.entries.len() > FEE_SCHEDULE_ENTRIES_MAX {
        errors.push(FieldError { path: "entries".into(), message: format!("at most {FEE_SCHEDULE_ENTRIES_MAX} entries") });
    }
    let mut seen = HashSet::new();
    for (entry_idx, entry) in body.entries.iter().enumerate() {
        let code = &entry.procedure_code;
        if code.len() != 5 || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
            errors.push(FieldError { path: format!("entries[{entry_idx}].procedure_code"), message: format!("`{code}` is not a 5-character HCPCS/CPT code") });
        }
        if entry.amount.is_negative() {
            errors.push(FieldError { path: format!("entries[{entry_idx}].amount"), message: "must not be negative".into() });
        } else if let Err(e) = entry.amount.cents() {
            errors.push(FieldError { path: format!("entries[{entry_idx}].amount"), message: e.to_string() });
        }
        if !seen.insert(code.clone()) {
            errors.push(FieldError { path: format!("entries[{entry_idx}].procedure_code"), message: format!("`{code}` appears twice") });
        }
    }
    errors
}

#[utoipa::path(put, path = "/v1/payers/{payer_id}/fee-schedule", tag = "adjudication",
    params(("payer_id" = String, Path, description = "Payer")),
    request_body(content = FeeScheduleBody, description = "The whole schedule: it replaces the one in force"),
    responses((status = 200, description = "Stored, with its content hash", body = PublishedSchedule),
              (status = 400, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Not an admin key, nor this payer's key", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "Invalid schedule", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn publish(
    State(runtime): State<Runtime>,
    headers: HeaderMap,
    Path(payer_id): Path<String>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<PublishedSchedule>), Problem> {
    let tenant = auth::authenticate(&runtime, &headers).await?;
    if !tenant.role.may_publish_for(&tenant, &payer_id) {
        return Err(Problem::forbidden(format!("only an admin key or payer {payer_id}'s own key publishes its fee schedule")));
    }
    let body: FeeScheduleBody = claimtrail_runtime::http::json_body(&body, "a fee schedule")?;
    Ok((StatusCode::OK, Json(publish_schedule(&runtime, &payer_id, body).await?)))
}

/// Validates and stores a payer's fee schedule and emits `fee_schedule.published.v1`,
/// in one transaction; answers a summary with the content hash.
pub async fn publish_schedule(runtime: &Runtime, payer_id: &str, body: FeeScheduleBody) -> Result<PublishedSchedule, Problem> {
    let errors = validate(payer_id, &body);
    if !errors.is_empty() {
        return Err(Problem::unprocessable("the fee schedule is invalid; nothing was stored", errors));
    }
    let mut entries: Vec<FeeScheduleEntry> =
        body.entries.into_iter().map(|e| FeeScheduleEntry { procedure_code: e.procedure_code, amount: e.amount }).collect();
    entries.sort_by(|a, b| a.procedure_code.cmp(&b.procedure_code));
    let canonical = to_canonical_vec(&entries).map_err(|e| Problem::internal(&e.into()))?;
    let schedule = StoredSchedule { fee_schedule_id: body.fee_schedule_id, content_hash: hex::encode(sha3_256(&canonical)), entries };
    let store = &runtime.store;
    let tx = store.db().begin().await?;
    storage::replace_fee_schedule(store, &tx, payer_id, &schedule).await?;
    let published = PublishedSchedule {
        payer_id: payer_id.to_owned(),
        fee_schedule_id: schedule.fee_schedule_id.clone(),
        content_hash: schedule.content_hash.clone(),
        entries: schedule.entries.len(),
    };
    let event = FeeSchedulePublished {
        payer_id: payer_id.to_owned(),
        fee_schedule_id: schedule.fee_schedule_id,
        content_hash: schedule.content_hash,
        entries: schedule.entries,
    };
    outbox::append(store, &tx, &runtime.producer, vec![NewEvent::new(event, format!("fee_schedule:{payer_id}"))]).await?;
    tx.commit().await?;
    runtime.relay_wakeup.notify_waiters();
    Ok(published)
}

#[utoipa::path(get, path = "/v1/payers/{payer_id}/fee-schedule", tag = "adjudication",
    params(("payer_id" = String, Path, description = "Payer")),
    responses((status = 200, description = "The schedule in force", body = FeeScheduleView),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No schedule", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn show(State(runtime): State<Runtime>, headers: HeaderMap, Path(payer_id): Path<String>) -> Result<Json<FeeScheduleView>, Problem> {
    auth::authenticate(&runtime, &headers).await?;
    let stored = storage::fee_schedule(&runtime.store, runtime.store.db(), &payer_id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("payer `{payer_id}` has no fee schedule")))?;
    Ok(Json(FeeScheduleView {
        payer_id,
        fee_schedule_id: stored.fee_schedule_id,
        content_hash: stored.content_hash,
        entries: stored.entries.into_iter().map(|e| FeeBody { procedure_code: e.procedure_code, amount: e.amount }).collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(entries: &[(&str, &str)]) -> FeeScheduleBody {
        FeeScheduleBody {
            fee_schedule_id: "2026".into(),
            entries: entries.iter().map(|(code, amount)| FeeBody { procedure_code: (*code).into(), amount: Money::parse(amount).unwrap() }).collect(),
        }
    }

    #[test]
    fn a_valid_schedule_has_no_errors() {
        assert!(validate("60054", &body(&[("99213", "80.00"), ("J1100", "0.45")])).is_empty());
    }

    #[test]
    fn each_fault_names_its_field() {
        let errors = validate("bad payer!", &body(&[("9921", "80.00"), ("99213", "-1.00"), ("99213", "5.00")]));
        let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["payer_id", "entries[0].procedure_code", "entries[1].amount", "entries[2].procedure_code"], "{errors:?}");
    }

    #[test]
    fn an_amount_too_large_for_cents_is_refused_not_stored_as_zero() {
        let errors = validate("60054", &body(&[("99213", "92233720368547758.08")]));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].path, "entries[0].amount");
    }

    #[test]
    fn the_body_refuses_unknown_fields() {
        let parsed = serde_json::from_str::<FeeScheduleBody>(r#"{"fee_schedule_id":"x","entries":[],"extra":1}"#);
        assert!(parsed.unwrap_err().to_string().contains("extra"));
    }
}
