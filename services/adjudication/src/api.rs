//! Adjudication's HTTP API: the payer's fee schedule, its policy data and
//! rule sets ([`policy`]: edit and pricing tables, rule sets, versions), and
//! each decision's replay and explanation.
//!
//! The payer publishes one schedule per payer (a new version replaces the
//! old); adjudication prices with it and records its content hash (SHA3-256
//! of its canonical entries) in every decision.
//! `PUT /v1/payers/{payer_id}/fee-schedule` stores the schedule and emits
//! `fee_schedule.published.v1` in one transaction.
//!
//! `POST /v1/claims/{claim_id}/replay` decides the claim again on exactly
//! what its decision record holds and says whether the decision payload came
//! out byte-identical; `GET /v1/claims/{claim_id}/explanation` shows each
//! line's steps. Both answer the payer's key, admin and auditor keys within
//! their payers, and the organization that submitted the claim; to anyone
//! else the claim does not exist (404).

pub mod appeals;
pub mod plans;
pub mod policy;
pub mod reprocessing;
pub mod review;

use std::collections::HashSet;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Extension, Json, Router};
use claimtrail_events::canonical::to_canonical_vec;
use claimtrail_events::{
    Adjustment, ClaimAdjudicated, ClaimPended, ClaimReversed, ClaimStatus, DecisionStep, DomainEvent, FeeScheduleEntry, FeeSchedulePublished, Money, NewEvent,
    StepKind, format_date, sha3_256,
};
use claimtrail_runtime::Runtime;
use claimtrail_runtime::auth::{Role, Tenant};
use claimtrail_runtime::extract::{Caller, ForPayer, LimitedBody, PayerPermission};
use claimtrail_runtime::http::{FieldError, Problem};
use claimtrail_store::outbox;
use sea_orm::TransactionTrait;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{DecisionRecord, ENGINE_VERSION, Event};
use crate::storage::{self, StoredRecord, StoredSchedule};

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
    Router::new()
        .route("/v1/payers/{payer_id}/fee-schedule", put(publish).get(show))
        .route("/v1/payers/{payer_id}/edit-tables/{table}", post(policy::upload_table).layer(Extension(policy::TableFamily::Edit)))
        .route("/v1/payers/{payer_id}/policy/{table}", post(policy::upload_table).layer(Extension(policy::TableFamily::Pricing)))
        .route("/v1/payers/{payer_id}/rule-sets/{name}", put(policy::put_rule_set))
        .route("/v1/payers/{payer_id}/policy-versions", get(policy::list_versions))
        .route("/v1/payers/{payer_id}/policy-versions/{version_id}", get(policy::version_content))
        .route("/v1/payers/{payer_id}/plans", get(plans::list_plans))
        .route("/v1/payers/{payer_id}/plans/{plan_id}", put(plans::put_plan))
        .route("/v1/payers/{payer_id}/accumulators/import", post(plans::import_accumulators))
        .route("/v1/payers/{payer_id}/pended", get(review::pended_queue))
        .route("/v1/payers/{payer_id}/auto-adjudication", get(review::auto_adjudication))
        .route("/v1/claims/{claim_id}/review", post(review::review_claim))
        .route("/v1/payers/{payer_id}/reprocessing", post(reprocessing::start))
        .route("/v1/payers/{payer_id}/reprocessing/{job_id}", get(reprocessing::show))
        .route("/v1/claims/{claim_id}/appeals", post(appeals::appeal_claim))
        .route("/v1/claims/{claim_id}/replay", post(replay))
        .route("/v1/claims/{claim_id}/explanation", get(explanation))
        .with_state(runtime)
}

/// The answer of `POST /v1/claims/{claim_id}/replay`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReplayView {
    pub claim_id: String,
    /// `claim.adjudicated.v1`, `claim.reversed.v1` (a void) or `claim.pended.v1`.
    pub event_type: String,
    /// The decision payload the replay produced.
    pub decision: ReplayedDecision,
    /// Whether its RFC 8785 canonical bytes equal the recorded decision's (envelope ids and times aside).
    pub byte_identical: bool,
    /// The engine that made the recorded decision.
    pub engine_version: String,
    /// The engine that replayed it.
    pub replayed_by: String,
}

/// A replayed decision: the payload of its event, `claim.adjudicated.v1`,
/// `claim.reversed.v1` or `claim.pended.v1` (`ReplayView::event_type` says which).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum ReplayedDecision {
    Adjudicated(ClaimAdjudicated),
    Reversed(ClaimReversed),
    Pended(ClaimPended),
}

impl ReplayedDecision {
    /// The decision an event of the engine carries; none for an accumulators change.
    fn of(event: &Event) -> Option<ReplayedDecision> {
        match event {
            Event::Adjudicated(decision) => Some(ReplayedDecision::Adjudicated(decision.clone())),
            Event::Reversed(reversal) => Some(ReplayedDecision::Reversed(reversal.clone())),
            Event::Pended(pended) => Some(ReplayedDecision::Pended(pended.clone())),
            Event::Accumulators(_) | Event::AppealDecided(_) => None,
        }
    }
}

/// An adjustment in an explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AdjustmentView {
    /// CO, PR, OA or PI.
    pub group: String,
    /// The CARC.
    pub reason: String,
    #[schema(value_type = String, example = "60.00")]
    pub amount: Money,
}

/// One step of a line's decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StepView {
    /// `edit`, `pricing`, `reversal`, `benefit` (copay, deductible, coinsurance, out-of-pocket maximum) or `review`.
    pub kind: String,
    /// The edit or pricing rule, e.g. `coverage-ended` or `fee-schedule`.
    pub rule: String,
    /// The table row or registry fact that fired.
    pub source: Option<String>,
    pub adjustment: Option<AdjustmentView>,
    /// The line's payable amount before the step.
    #[schema(value_type = String)]
    pub before: Money,
    /// And after it.
    #[schema(value_type = String)]
    pub after: Money,
    pub detail: String,
}

/// One line's decision, step by step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LineExplanation {
    pub sequence: u32,
    pub procedure_code: String,
    #[schema(value_type = String)]
    pub charge: Money,
    #[schema(value_type = String)]
    pub allowed: Money,
    #[schema(value_type = String)]
    pub paid: Money,
    /// What the member owes on the line (PR-1 + PR-2 + PR-3).
    #[schema(value_type = String)]
    pub patient_responsibility: Money,
    pub steps: Vec<StepView>,
}

/// Why a claim is pended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PendView {
    pub reason: String,
    pub step: String,
    pub detail: String,
}

/// The answer of `GET /v1/claims/{claim_id}/explanation`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExplanationView {
    pub claim_id: String,
    /// `adjudicated`, `pended`, or `voided` (a void's decision is the reversal of its original).
    pub status: String,
    /// `paid`, `partially_paid` or `denied`; none while pended.
    pub outcome: Option<String>,
    /// The content hash of the rule set (today the fee schedule) that priced it.
    pub rule_set_hash: Option<String>,
    pub pended: Option<PendView>,
    /// The clock the decision ran under.
    pub decided_on: String,
    pub received_on: String,
    pub engine_version: String,
    pub fact_model_version: u32,
    /// The registry facts as the decision saw them, each with when adjudication recorded it.
    pub facts: Vec<String>,
    pub lines: Vec<LineExplanation>,
}

fn step_view(step: &DecisionStep) -> StepView {
    let kind = match step.kind {
        StepKind::Edit => "edit",
        StepKind::Pricing => "pricing",
        StepKind::Reversal => "reversal",
        StepKind::Benefit => "benefit",
        StepKind::Review => "review",
    };
    StepView {
        kind: kind.into(),
        rule: step.rule.clone(),
        source: step.source.clone(),
        adjustment: step.adjustment.as_ref().map(adjustment_view),
        before: step.before,
        after: step.after,
        detail: step.detail.clone(),
    }
}

fn adjustment_view(adjustment: &Adjustment) -> AdjustmentView {
    AdjustmentView { group: adjustment.group.as_str().to_owned(), reason: adjustment.reason.to_string(), amount: adjustment.amount }
}

/// The claim's stored decision record, if the caller may read it: the
/// payer's own key, an admin or auditor key within its payers, or the
/// organization that submitted the claim. Anything else is 404, as for an
/// unknown claim.
/// Records that `tenant` read `claim_ids` of `payer_id` through `view`: a
/// `claims.accessed.v1` on the outbox, which intake writes to its access log
/// ([`crate::domain::access`]). Nothing for an answer without claims.
pub(crate) async fn record_read(
    runtime: &Runtime,
    tenant: &Tenant,
    payer_id: &str,
    view: &str,
    claim_ids: impl IntoIterator<Item = Uuid>,
) -> Result<(), Problem> {
    let reader = crate::domain::access::Reader { tenant: &tenant.name, key_id: &tenant.key_id };
    let read_id = Uuid::now_v7();
    let Some(read) = crate::domain::access::claims_read(read_id, payer_id, &reader, view, claim_ids) else {
        return Ok(());
    };
    let event = NewEvent::new(read, read_id.to_string()).partitioned(payer_id, &read_id.to_string());
    let store = &runtime.store;
    let tx = store.db().begin().await?;
    outbox::append(store, &tx, &runtime.producer, vec![event]).await?;
    tx.commit().await?;
    runtime.relay_wakeup.notify_waiters();
    Ok(())
}

async fn readable_record(runtime: &Runtime, tenant: &Tenant, claim_id: &str) -> Result<(StoredRecord, DecisionRecord), Problem> {
    let not_found = || Problem::not_found(format!("no decision of claim {claim_id} that this key may read"));
    decision_record(runtime, claim_id, not_found, |stored| {
        let payer_key = tenant.role == Role::Payer && tenant.payers.includes(&stored.payer_id);
        payer_key || tenant.reads_claim(&stored.submitter, Some(&stored.payer_id))
    })
    .await
}

/// The claim's stored decision record and what it recorded, when `may_see`
/// lets the caller see it. A malformed id, an unknown claim and one the
/// caller may not see are all `not_found`, so that another payer's claim
/// looks like no claim at all.
pub(crate) async fn decision_record(
    runtime: &Runtime,
    claim_id: &str,
    not_found: impl Fn() -> Problem,
    may_see: impl FnOnce(&StoredRecord) -> bool,
) -> Result<(StoredRecord, DecisionRecord), Problem> {
    let claim_uuid = Uuid::parse_str(claim_id).map_err(|_| not_found())?;
    let store = &runtime.store;
    let stored = storage::record(store, store.reader(), claim_uuid).await?.ok_or_else(&not_found)?;
    if !may_see(&stored) {
        return Err(not_found());
    }
    let record: DecisionRecord = serde_json::from_slice(&stored.record)
        .map_err(|e| Problem::internal(&anyhow::anyhow!("the decision record of claim {claim_uuid} does not read back: {e}")))?;
    Ok((stored, record))
}

#[utoipa::path(post, path = "/v1/claims/{claim_id}/replay", tag = "adjudication",
    params(("claim_id" = String, Path, description = "Claim")),
    responses((status = 200, description = "Decided again on what the decision recorded", body = ReplayView),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No decision of this claim that the key may read", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "The recorded facts no longer decide the claim", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn replay(State(runtime): State<Runtime>, Caller(tenant): Caller, Path(claim_id): Path<String>) -> Result<Json<ReplayView>, Problem> {
    let (stored, record) = readable_record(&runtime, &tenant, &claim_id).await?;
    record_read(&runtime, &tenant, &stored.payer_id, crate::domain::access::REPLAY_VIEW, [stored.claim_id]).await?;
    let replay_failed = |reason: String| {
        Problem::new(StatusCode::CONFLICT, "replay-failed", "Replay failed", format!("the recorded facts of claim {claim_id} no longer decide it: {reason}"))
    };
    // A record of format 3 cites its rule set by hash: the document comes from the store, checked against the hash.
    let store = &runtime.store;
    let rule_set = storage::resolve_rule_set(store, store.reader(), &stored.payer_id, &record).await?.map_err(|e| replay_failed(e.to_string()))?;
    let events = record.replay_with(rule_set.as_ref()).map_err(|rejection| replay_failed(rejection.to_string()))?;
    let engine_version = record.engine_version;
    // The decision is the last event; accumulator changes come before it.
    let (last, decision) = events
        .iter()
        .rev()
        .find_map(|event| ReplayedDecision::of(event).map(|decision| (event, decision)))
        .ok_or_else(|| Problem::internal(&anyhow::anyhow!("the replay of claim {claim_id} decided nothing")))?;
    let bytes = last.canonical_payload().map_err(|e| Problem::internal(&e.into()))?;
    Ok(Json(ReplayView {
        claim_id: stored.claim_id.to_string(),
        event_type: last.event_type().to_owned(),
        decision,
        byte_identical: bytes == stored.payload,
        engine_version,
        replayed_by: ENGINE_VERSION.to_owned(),
    }))
}

#[utoipa::path(get, path = "/v1/claims/{claim_id}/explanation", tag = "adjudication",
    params(("claim_id" = String, Path, description = "Claim")),
    responses((status = 200, description = "Each line's steps", body = ExplanationView),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No decision of this claim that the key may read", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn explanation(
    State(runtime): State<Runtime>,
    Caller(tenant): Caller,
    Path(claim_id): Path<String>,
) -> Result<Json<ExplanationView>, Problem> {
    let (stored, record) = readable_record(&runtime, &tenant, &claim_id).await?;
    record_read(&runtime, &tenant, &stored.payer_id, crate::domain::access::EXPLANATION_VIEW, [stored.claim_id]).await?;
    let corrupt = |e: serde_json::Error| Problem::internal(&anyhow::anyhow!("the decision of claim {claim_id} does not read back: {e}"));
    let mut facts = Vec::new();
    if let Some(member) = &record.registry.member {
        let death = member.date_of_death.map(|died| format!(", died {}", format_date(died))).unwrap_or_default();
        facts.push(format!(
            "member: plan {}, covered {} to {}{death} (recorded {})",
            member.plan_id,
            format_date(member.coverage_start),
            format_date(member.coverage_end),
            member.recorded_at
        ));
    }
    if let Some(provider) = &record.registry.provider {
        facts.push(format!(
            "provider {}: enrolled {} to {} (recorded {})",
            provider.npi,
            format_date(provider.enrollment_start),
            format_date(provider.enrollment_end),
            provider.recorded_at
        ));
    }
    if let Some(payer) = &record.registry.payer {
        facts.push(format!("payer {}: timely filing {} days (recorded {})", payer.payer_id, payer.timely_filing_days, payer.recorded_at));
    }
    if let Some(schedule) = &record.fee_schedule {
        facts.push(format!("fee schedule {}", schedule.content_hash));
    }
    if let Some(plan) = &record.benefits.plan {
        facts.push(format!("plan {} {}", plan.plan_id, plan.plan.content_hash_hex()));
    }
    for entry in &record.benefits.position {
        facts.push(format!("accumulator {} {} {}: {} met before the claim", entry.member_id, entry.plan_year, entry.bucket, entry.amount));
    }
    let mut view = ExplanationView {
        claim_id: stored.claim_id.to_string(),
        status: String::new(),
        outcome: None,
        rule_set_hash: None,
        pended: None,
        decided_on: format_date(record.decided_on),
        received_on: format_date(record.received_on),
        engine_version: record.engine_version.clone(),
        fact_model_version: record.fact_model_version,
        facts,
        lines: vec![],
    };
    let lines = |lines: &[claimtrail_events::LineDecision]| -> Vec<LineExplanation> {
        lines
            .iter()
            .map(|line| LineExplanation {
                sequence: line.sequence,
                procedure_code: line.procedure_code.clone(),
                charge: line.charge,
                allowed: line.allowed,
                paid: line.paid,
                patient_responsibility: line.patient_responsibility,
                steps: line.steps.iter().map(step_view).collect(),
            })
            .collect()
    };
    let payload: serde_json::Value = serde_json::from_slice(&stored.payload).map_err(corrupt)?;
    let decided = DomainEvent::from_payload(&stored.event_type, &payload)
        .map_err(|e| Problem::internal(&anyhow::anyhow!("the decision of claim {claim_id} does not read back: {e}")))?;
    match decided {
        DomainEvent::ClaimAdjudicated(decision) => {
            view.status = ClaimStatus::Adjudicated.as_str().to_owned();
            view.outcome = Some(decision.outcome.as_str().to_owned());
            view.rule_set_hash = Some(decision.rule_set_hash.clone());
            view.lines = lines(&decision.lines);
        }
        DomainEvent::ClaimPended(pended) => {
            view.status = ClaimStatus::Pended.as_str().to_owned();
            view.pended = Some(PendView { reason: pended.reason, step: pended.step, detail: pended.detail });
        }
        DomainEvent::ClaimReversed(reversal) => {
            view.status = ClaimStatus::Voided.as_str().to_owned();
            view.rule_set_hash = Some(reversal.rule_set_hash.clone());
            view.lines = lines(&reversal.lines);
        }
        other => return Err(Problem::internal(&anyhow::anyhow!("claim {claim_id} holds a {} as its decision", other.event_type()))),
    }
    Ok(Json(view))
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

/// Publishes payer `{payer_id}`'s fee schedule: an admin key, or the payer's own.
pub(crate) struct PublishesFeeSchedule;

impl PayerPermission for PublishesFeeSchedule {
    fn denied(_: &Tenant, payer_id: &str) -> String {
        format!("only an admin key or payer {payer_id}'s own key publishes its fee schedule")
    }
}

#[utoipa::path(put, path = "/v1/payers/{payer_id}/fee-schedule", tag = "adjudication",
    params(("payer_id" = String, Path, description = "Payer")),
    request_body(content = FeeScheduleBody, description = "The whole schedule: it replaces the one in force"),
    responses((status = 200, description = "Stored, with its content hash", body = PublishedSchedule),
              (status = 400, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Not an admin key, nor this payer's key", body = Problem, content_type = "application/problem+json"),
              (status = 413, description = "Larger than the server's body limit", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "Invalid schedule", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn publish(
    State(runtime): State<Runtime>,
    ForPayer { payer_id, .. }: ForPayer<PublishesFeeSchedule>,
    LimitedBody(body): LimitedBody,
) -> Result<(StatusCode, Json<PublishedSchedule>), Problem> {
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
pub(crate) async fn show(State(runtime): State<Runtime>, _caller: Caller, Path(payer_id): Path<String>) -> Result<Json<FeeScheduleView>, Problem> {
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
