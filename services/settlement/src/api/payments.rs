//! Payments over HTTP: payment runs (finance or admin keys of the payer),
//! their ACH file, each remittance's 835 and PaymentReconciliation, the
//! payer's banking details, payment holds placed and released by finance,
//! providers' refund checks finance records (acknowledged by PLB 72), and
//! the payer's payment cycle (the weekdays and time a run is made on its own).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use claimtrail_events::{Money, PayTo, RemittanceIssued, RemittedClaim, Timestamp};
use claimtrail_runtime::Runtime;
use claimtrail_runtime::auth::Tenant;
use claimtrail_runtime::extract::{Caller, ForPayer, LimitedBody};
use claimtrail_runtime::http::{FieldError, Problem};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{PayerFinance, path_id, readable, reads_payments_of};
use crate::domain::account::valid_routing_number;
use crate::domain::payment_run::{PayerBanking, RemittanceStatus};
use crate::runs::{self, RunFailure, RunRequest};
use crate::storage::payments;

/// The payment routes.
pub fn routes(runtime: Runtime) -> Router {
    Router::new()
        .route("/v1/payment-runs", post(create_run).get(list_runs))
        .route("/v1/payment-runs/{run_id}", get(show_run))
        .route("/v1/payment-runs/{run_id}/ach", get(ach_file))
        .route("/v1/remittances/{remittance_id}/835", get(remittance_835))
        .route("/v1/remittances/{remittance_id}/payment-reconciliation", get(payment_reconciliation))
        .route("/v1/payers/{payer_id}/banking", put(put_banking))
        .route("/v1/payers/{payer_id}/payment-holds", post(place_hold))
        .route("/v1/payers/{payer_id}/payment-holds/{npi}/release", post(release_hold))
        .route("/v1/payers/{payer_id}/providers/{npi}/refunds", post(record_refund))
        .route("/v1/payers/{payer_id}/payment-schedule", put(put_schedule).get(show_schedule).delete(delete_schedule))
        .with_state(runtime)
}

/// `POST /v1/payment-runs`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunBody {
    pub payer_id: String,
}

/// One remittance of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RemittanceView {
    #[schema(value_type = String, format = "uuid")]
    pub id: Uuid,
    /// The pay-to provider's NPI.
    pub pay_to: String,
    /// BPR02.
    #[schema(value_type = String, example = "1015.40")]
    pub amount: Money,
    pub status: RemittanceStatus,
    pub hold_reason: Option<String>,
    /// TRN02, the ACH trace number, when money moves.
    pub trace_number: Option<String>,
    /// The claims it settles (none while held or awaiting a prenote).
    pub claims: Vec<RemittedClaim>,
}

/// A payment run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RunView {
    #[schema(value_type = String, format = "uuid")]
    pub run_id: Uuid,
    pub payer_id: String,
    pub run_date: String,
    /// The ACH effective entry date (BPR16).
    pub effective_date: String,
    pub remittances: Vec<RemittanceView>,
}

/// `GET /v1/payment-runs?payer_id=`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RunsView {
    pub runs: Vec<RunView>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RunsQuery {
    payer_id: Option<String>,
}

/// `PUT /v1/payers/{payer_id}/banking`: the payer's TIN and the account its payments leave from.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BankingBody {
    pub name: String,
    /// 9 digits.
    pub tin: String,
    /// The ODFI's ABA routing number (9 digits, check digit verified).
    pub routing_number: String,
    pub account_number: String,
    pub address: PayTo,
}

/// `POST /v1/payers/{payer_id}/payment-holds`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldBody {
    pub npi: String,
    pub reason: String,
}

/// `POST /v1/payers/{payer_id}/payment-holds/{npi}/release`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseBody {
    pub reason: String,
}

/// The answer of a hold or a release.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HoldView {
    pub npi: String,
    /// `held` or `released`.
    pub status: String,
    pub n_holds: u64,
}

/// `POST /v1/payers/{payer_id}/providers/{npi}/refunds`: a refund check received from the provider.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundBody {
    /// The provider's check number (once per provider).
    pub check_number: String,
    #[schema(value_type = String, example = "300.00")]
    pub amount: Money,
}

/// What a refund paid: one debt (a claim's, or a forwarding balance's) and how much of it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RefundPartView {
    /// The claim, or for a forwarding balance the remittance whose 835 forwarded it.
    #[schema(value_type = String, format = "uuid")]
    pub claim_id: Uuid,
    /// `claim` (acknowledged by 72 and WO) or `forward` (72 and FB).
    pub basis: String,
    #[schema(value_type = String, example = "300.00")]
    pub amount: Money,
}

/// The refund recorded: the provider's next settled 835 acknowledges each part.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RefundView {
    #[schema(value_type = String, format = "uuid")]
    pub refund_id: Uuid,
    pub npi: String,
    pub check_number: String,
    #[schema(value_type = String, example = "300.00")]
    pub amount: Money,
    pub paid: Vec<RefundPartView>,
}

#[utoipa::path(post, path = "/v1/payers/{payer_id}/providers/{npi}/refunds", tag = "settlement", request_body = RefundBody,
    params(("payer_id" = String, Path, description = "Payer"), ("npi" = String, Path, description = "The provider who sent the check")),
    responses((status = 201, description = "Recorded: the debts it paid; the next settled 835 acknowledges it (PLB 72 offset by WO or FB)", body = RefundView),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Not a finance or admin key of the payer", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "This check number from this provider was recorded before", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "No check number, an amount not above zero, or more than the provider owes", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn record_refund(
    State(runtime): State<Runtime>,
    ForPayer { tenant, payer_id, .. }: ForPayer<PayerFinance>,
    Path((_, npi)): Path<(String, String)>,
    LimitedBody(body): LimitedBody,
) -> Result<Response, Problem> {
    let refund: RefundBody = claimtrail_runtime::http::json_body(&body, "a refund check ({\"check_number\", \"amount\"})")?;
    let check_number = refund.check_number.trim();
    if check_number.is_empty() {
        return Err(Problem::unprocessable("a refund needs the check number", vec![FieldError { path: "check_number".into(), message: "empty".into() }]));
    }
    let request = runs::RefundRequest {
        payer_id,
        npi: npi.clone(),
        check_number: check_number.to_owned(),
        amount: refund.amount,
        received_on: claimtrail_events::today(),
        recorded_by: tenant.name.clone(),
    };
    let (refund_id, parts) = runs::record_refund(&runtime.store, &request).await.map_err(|error| match error {
        runs::RefundFailure::Refused(refused) => {
            Problem::unprocessable(refused.to_string(), vec![FieldError { path: "amount".into(), message: refused.to_string() }])
        }
        runs::RefundFailure::Recorded { .. } => Problem::new(StatusCode::CONFLICT, "conflict", "Conflict", error.to_string()),
        runs::RefundFailure::Journal(rejection) => Problem::unprocessable(rejection.to_string(), vec![]),
        runs::RefundFailure::Store(error) => error.into(),
    })?;
    let paid = parts.into_iter().map(|part| RefundPartView { claim_id: part.claim_id, basis: part.basis.as_str().to_owned(), amount: part.amount }).collect();
    Ok((StatusCode::CREATED, Json(RefundView { refund_id, npi, check_number: request.check_number, amount: request.amount, paid })).into_response())
}

fn failure(error: RunFailure) -> Problem {
    match error {
        RunFailure::NoBanking(_) | RunFailure::KeyReused(_) | RunFailure::Plan(_) | RunFailure::Invalid(_) => Problem::unprocessable(error.to_string(), vec![]),
        RunFailure::Conflict => Problem::new(StatusCode::CONFLICT, "conflict", "Conflict", error.to_string()),
        RunFailure::Store(error) => error.into(),
    }
}

#[utoipa::path(post, path = "/v1/payment-runs", tag = "settlement", request_body = RunBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "The same key and body answer the same run; another body 422")),
    responses((status = 201, description = "The run made, with its remittances (none when there is nothing to pay)", body = RunView),
              (status = 200, description = "The run this Idempotency-Key made before", body = RunView),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Not a finance or admin key of the payer", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "A concurrent run of the payer took the same claims; retry", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "No banking details for the payer, or the key reused with another body", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn create_run(
    State(runtime): State<Runtime>,
    Caller(tenant): Caller,
    headers: HeaderMap,
    LimitedBody(body): LimitedBody,
) -> Result<Response, Problem> {
    let parsed: RunBody = claimtrail_runtime::http::json_body(&body, "a payment run request ({\"payer_id\"})")?;
    ForPayer::<PayerFinance>::check(tenant, parsed.payer_id.clone())?;
    let idempotency_key = match headers.get("idempotency-key") {
        None => Uuid::now_v7().to_string(),
        Some(value) => match value.to_str().ok().filter(|key| !key.is_empty() && key.len() <= 255 && key.bytes().all(|b| b.is_ascii_graphic())) {
            Some(key) => key.to_owned(),
            None => return Err(Problem::bad_request("Idempotency-Key must be 1-255 visible ASCII characters")),
        },
    };
    let request = RunRequest {
        payer_id: parsed.payer_id.clone(),
        idempotency_key,
        body_sha: hex::encode(claimtrail_events::sha3_256(&body)),
        run_date: claimtrail_events::today(),
        now: Timestamp::now(),
    };
    let (run_id, created) = runs::execute(&runtime.store, &runtime.producer, &request).await.map_err(failure)?;
    if created {
        runtime.relay_wakeup.notify_waiters();
    }
    let view = run_view(&runtime, run_id).await?.ok_or_else(|| Problem::internal(&anyhow::anyhow!("run {run_id} vanished")))?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(view)).into_response())
}

async fn run_view(runtime: &Runtime, run_id: Uuid) -> Result<Option<RunView>, Problem> {
    let store = &runtime.store;
    let Some(run) = payments::run(store, store.reader(), run_id).await? else { return Ok(None) };
    let remittances = payments::remittances_of_run(store, store.reader(), run_id).await?;
    Ok(Some(RunView {
        run_id,
        payer_id: run.payer_id,
        run_date: claimtrail_events::format_date(run.run_date),
        effective_date: claimtrail_events::format_date(run.effective_date),
        remittances: remittances.into_iter().map(|stored| remittance_view(stored.issued)).collect(),
    }))
}

fn remittance_view(issued: RemittanceIssued) -> RemittanceView {
    RemittanceView {
        id: issued.remittance_id,
        pay_to: issued.billing_npi,
        amount: issued.amount,
        status: RemittanceStatus::parse(&issued.status).unwrap_or(RemittanceStatus::Held),
        hold_reason: issued.hold_reason,
        trace_number: issued.trace_number,
        claims: issued.claims,
    }
}

#[utoipa::path(get, path = "/v1/payment-runs", tag = "settlement",
    params(("payer_id" = String, Query, description = "Payer")),
    responses((status = 200, description = "The payer's runs, newest first", body = RunsView),
              (status = 400, description = "No payer_id", body = Problem, content_type = "application/problem+json"),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "A payer the key does not read", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn list_runs(State(runtime): State<Runtime>, Caller(tenant): Caller, Query(query): Query<RunsQuery>) -> Result<Json<RunsView>, Problem> {
    let payer_id = query.payer_id.ok_or_else(|| Problem::bad_request("query parameter payer_id is required"))?;
    reads_payments_of(&tenant, &payer_id)?;
    let store = &runtime.store;
    let mut runs = Vec::new();
    for run in payments::runs_of(store, store.reader(), &payer_id).await? {
        if let Some(view) = run_view(&runtime, run.run_id).await? {
            runs.push(view);
        }
    }
    Ok(Json(RunsView { runs }))
}

/// Run `{run_id}` of the path, when the caller reads its payer's payments.
async fn readable_run(runtime: &Runtime, tenant: &Tenant, run_id: &str) -> Result<payments::StoredRun, Problem> {
    let missing = || format!("no payment run {run_id}");
    let store = &runtime.store;
    let found = payments::run(store, store.reader(), path_id(run_id, missing)?).await?;
    readable(tenant, found, |run| &run.payer_id, missing)
}

/// Remittance `{remittance_id}` of the path, when the caller reads its payer's payments.
async fn readable_remittance(runtime: &Runtime, tenant: &Tenant, remittance_id: &str) -> Result<payments::StoredRemittance, Problem> {
    let missing = || format!("no remittance {remittance_id}");
    let store = &runtime.store;
    let found = payments::remittance(store, store.reader(), path_id(remittance_id, missing)?).await?;
    readable(tenant, found, |remittance| &remittance.issued.payer_id, missing)
}

#[utoipa::path(get, path = "/v1/payment-runs/{run_id}", tag = "settlement",
    params(("run_id" = String, Path, description = "Run")),
    responses((status = 200, description = "The run and its remittances", body = RunView),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No such run for a payer the key reads", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn show_run(State(runtime): State<Runtime>, Caller(tenant): Caller, Path(run_id): Path<String>) -> Result<Json<RunView>, Problem> {
    let run = readable_run(&runtime, &tenant, &run_id).await?;
    run_view(&runtime, run.run_id).await?.map(Json).ok_or_else(|| Problem::not_found(format!("no payment run {run_id}")))
}

#[utoipa::path(get, path = "/v1/payment-runs/{run_id}/ach", tag = "settlement",
    params(("run_id" = String, Path, description = "Run")),
    responses((status = 200, description = "The NACHA file (CCD+, 94-character records)", body = String, content_type = "text/plain"),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No such run, or a run that sent no ACH entries", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn ach_file(State(runtime): State<Runtime>, Caller(tenant): Caller, Path(run_id): Path<String>) -> Result<Response, Problem> {
    let run = readable_run(&runtime, &tenant, &run_id).await?;
    let file = run.ach_file.ok_or_else(|| Problem::not_found(format!("payment run {run_id} sent no ACH entries")))?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=us-ascii")], file).into_response())
}

#[utoipa::path(get, path = "/v1/remittances/{remittance_id}/835", tag = "settlement",
    params(("remittance_id" = String, Path, description = "Remittance")),
    responses((status = 200, description = "The stored 835, the same bytes on every GET", body = String, content_type = "application/edi-x12"),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No such remittance, or one held or awaiting a prenote (no 835 yet)", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn remittance_835(State(runtime): State<Runtime>, Caller(tenant): Caller, Path(remittance_id): Path<String>) -> Result<Response, Problem> {
    let remittance = readable_remittance(&runtime, &tenant, &remittance_id).await?;
    let x835 = remittance.x835.ok_or_else(|| Problem::not_found(format!("remittance {remittance_id} is {}: it has no 835", remittance.issued.status)))?;
    Ok(([(header::CONTENT_TYPE, "application/edi-x12")], x835).into_response())
}

#[utoipa::path(get, path = "/v1/remittances/{remittance_id}/payment-reconciliation", tag = "settlement",
    params(("remittance_id" = String, Path, description = "Remittance")),
    responses((status = 200, description = "A FHIR R4 PaymentReconciliation", body = claimtrail_runtime::fhir_schemas::FhirPaymentReconciliation, content_type = "application/fhir+json"),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No such remittance, or one not settled", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn payment_reconciliation(
    State(runtime): State<Runtime>,
    Caller(tenant): Caller,
    Path(remittance_id): Path<String>,
) -> Result<Response, Problem> {
    let remittance = readable_remittance(&runtime, &tenant, &remittance_id).await?;
    let resource = remittance
        .reconciliation
        .ok_or_else(|| Problem::not_found(format!("remittance {remittance_id} is {}: it has no PaymentReconciliation", remittance.issued.status)))?;
    Ok(([(header::CONTENT_TYPE, "application/fhir+json")], resource).into_response())
}

#[utoipa::path(put, path = "/v1/payers/{payer_id}/banking", tag = "settlement", request_body = BankingBody,
    params(("payer_id" = String, Path, description = "Payer")),
    responses((status = 200, description = "Stored", body = BankingBody),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Not a finance or admin key of the payer", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "A field is invalid (errors name it)", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn put_banking(
    State(runtime): State<Runtime>,
    ForPayer { payer_id, .. }: ForPayer<PayerFinance>,
    LimitedBody(body): LimitedBody,
) -> Result<Json<BankingBody>, Problem> {
    let banking: BankingBody = claimtrail_runtime::http::json_body(&body, "a payer's banking details")?;
    let mut errors = Vec::new();
    if banking.tin.len() != 9 || !banking.tin.bytes().all(|b| b.is_ascii_digit()) {
        errors.push(FieldError { path: "tin".into(), message: format!("`{}` is not 9 digits", banking.tin) });
    }
    if !valid_routing_number(&banking.routing_number) {
        errors.push(FieldError {
            path: "routing_number".into(),
            message: format!("`{}` is not a 9-digit ABA routing number with a valid check digit", banking.routing_number),
        });
    }
    if banking.account_number.is_empty() || banking.account_number.len() > 17 || !banking.account_number.bytes().all(|b| b.is_ascii_alphanumeric()) {
        errors.push(FieldError { path: "account_number".into(), message: "an account number is 1-17 letters or digits".into() });
    }
    if banking.name.trim().is_empty() {
        errors.push(FieldError { path: "name".into(), message: "the payer's name is required".into() });
    }
    if !errors.is_empty() {
        return Err(Problem::unprocessable("the banking details are invalid; nothing was stored", errors));
    }
    let store = &runtime.store;
    let tx = store.begin().await?;
    payments::put_payer_banking(
        store,
        &tx,
        &PayerBanking {
            payer_id,
            name: banking.name.clone(),
            tin: banking.tin.clone(),
            routing_number: banking.routing_number.clone(),
            account_number: banking.account_number.clone(),
            address: banking.address.clone(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Json(banking))
}

#[utoipa::path(post, path = "/v1/payers/{payer_id}/payment-holds", tag = "settlement", request_body = HoldBody,
    params(("payer_id" = String, Path, description = "Payer")),
    responses((status = 201, description = "The provider's payments are held until finance releases them", body = HoldView),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Not a finance or admin key of the payer", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "No reason given", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn place_hold(
    State(runtime): State<Runtime>,
    ForPayer { tenant, payer_id, .. }: ForPayer<PayerFinance>,
    LimitedBody(body): LimitedBody,
) -> Result<Response, Problem> {
    let hold: HoldBody = claimtrail_runtime::http::json_body(&body, "a payment hold ({\"npi\", \"reason\"})")?;
    if hold.reason.trim().is_empty() {
        return Err(Problem::unprocessable("a hold needs a reason", vec![FieldError { path: "reason".into(), message: "empty".into() }]));
    }
    let store = &runtime.store;
    let tx = store.begin().await?;
    payments::place_hold(store, &tx, Uuid::now_v7(), &payer_id, &hold.npi, hold.reason.trim(), &tenant.name).await?;
    let n_holds = payments::active_holds(store, &tx, &payer_id).await?.len() as u64;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(HoldView { npi: hold.npi, status: "held".into(), n_holds })).into_response())
}

#[utoipa::path(post, path = "/v1/payers/{payer_id}/payment-holds/{npi}/release", tag = "settlement", request_body = ReleaseBody,
    params(("payer_id" = String, Path, description = "Payer"), ("npi" = String, Path, description = "The provider held")),
    responses((status = 200, description = "Released: the next run pays the provider's claims", body = HoldView),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Not a finance or admin key of the payer", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No active hold on this provider", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "No reason given", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn release_hold(
    State(runtime): State<Runtime>,
    ForPayer { tenant, payer_id, .. }: ForPayer<PayerFinance>,
    Path((_, npi)): Path<(String, String)>,
    LimitedBody(body): LimitedBody,
) -> Result<Json<HoldView>, Problem> {
    let release: ReleaseBody = claimtrail_runtime::http::json_body(&body, "a release ({\"reason\"})")?;
    if release.reason.trim().is_empty() {
        return Err(Problem::unprocessable("a release needs a reason", vec![FieldError { path: "reason".into(), message: "empty".into() }]));
    }
    let store = &runtime.store;
    let tx = store.begin().await?;
    let n_released = payments::release_holds(store, &tx, &payer_id, &npi, &tenant.name, release.reason.trim()).await?;
    if n_released == 0 {
        return Err(Problem::not_found(format!("no active payment hold on NPI {npi} for payer {payer_id}")));
    }
    tx.commit().await?;
    Ok(Json(HoldView { npi, status: "released".into(), n_holds: n_released }))
}

/// `PUT /v1/payers/{payer_id}/payment-schedule`: the payer's payment cycle.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleBody {
    /// The days a run is made: `mon`, `tue`, `wed`, `thu`, `fri`, `sat`, `sun`.
    #[schema(example = json!(["tue", "fri"]))]
    pub weekdays: Vec<String>,
    /// The time of day, UTC, as `HH:MM`.
    #[schema(example = "06:00")]
    pub at: String,
}

/// A payer's payment cycle, and when its next scheduled run is.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ScheduleView {
    pub payer_id: String,
    pub weekdays: Vec<String>,
    /// UTC.
    pub at: String,
    /// The next slot (UTC, RFC 3339); its run uses the Idempotency-Key `schedule/<slot>`.
    pub next_run_at: String,
    pub set_by: String,
}

fn schedule_view(stored: &crate::storage::schedules::StoredSchedule, now: time::PrimitiveDateTime) -> ScheduleView {
    let next = stored.schedule.next(now);
    ScheduleView {
        payer_id: stored.payer_id.clone(),
        weekdays: stored.schedule.weekday_names().into_iter().map(str::to_owned).collect(),
        at: stored.schedule.at_text(),
        next_run_at: format!("{}T{:02}:{:02}:00Z", claimtrail_events::format_date(next.date()), next.hour(), next.minute()),
        set_by: stored.set_by.clone(),
    }
}

/// Now, from the services' clock, UTC.
fn clock_now() -> time::PrimitiveDateTime {
    let now = Timestamp::now().datetime();
    time::PrimitiveDateTime::new(now.date(), now.time())
}

#[utoipa::path(put, path = "/v1/payers/{payer_id}/payment-schedule", tag = "settlement", request_body = ScheduleBody,
    params(("payer_id" = String, Path, description = "Payer")),
    responses((status = 200, description = "Set: settlement makes a payment run at each slot (a slot before now is not run)", body = ScheduleView),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Not a finance or admin key of the payer", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "No weekday, an unknown weekday, or a time not HH:MM", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn put_schedule(
    State(runtime): State<Runtime>,
    ForPayer { tenant, payer_id, .. }: ForPayer<PayerFinance>,
    LimitedBody(body): LimitedBody,
) -> Result<Json<ScheduleView>, Problem> {
    use crate::domain::schedule::{PaymentSchedule, ScheduleError};
    let asked: ScheduleBody = claimtrail_runtime::http::json_body(&body, "a payment schedule ({\"weekdays\", \"at\"})")?;
    let now = clock_now();
    let schedule = PaymentSchedule::parse(&asked.weekdays, &asked.at, now).map_err(|error| {
        let path = match error {
            ScheduleError::NoWeekday | ScheduleError::Weekday(_) => "weekdays",
            ScheduleError::At(_) => "at",
        };
        Problem::unprocessable(error.to_string(), vec![FieldError { path: path.into(), message: error.to_string() }])
    })?;
    let stored = crate::storage::schedules::StoredSchedule { payer_id, schedule, set_by: tenant.name.clone() };
    crate::storage::schedules::put(&runtime.store, runtime.store.db(), &stored).await?;
    Ok(Json(schedule_view(&stored, now)))
}

#[utoipa::path(get, path = "/v1/payers/{payer_id}/payment-schedule", tag = "settlement",
    params(("payer_id" = String, Path, description = "Payer")),
    responses((status = 200, description = "The payer's payment cycle", body = ScheduleView),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Not a finance or admin key of the payer", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "The payer has no payment cycle: runs are made on demand only", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn show_schedule(State(runtime): State<Runtime>, ForPayer { payer_id, .. }: ForPayer<PayerFinance>) -> Result<Json<ScheduleView>, Problem> {
    let stored = crate::storage::schedules::of_payer(&runtime.store, runtime.store.reader(), &payer_id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("payer {payer_id} has no payment schedule; runs are made on demand (POST /v1/payment-runs)")))?;
    Ok(Json(schedule_view(&stored, clock_now())))
}

#[utoipa::path(delete, path = "/v1/payers/{payer_id}/payment-schedule", tag = "settlement",
    params(("payer_id" = String, Path, description = "Payer")),
    responses((status = 204, description = "Removed: runs are made on demand only"),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Not a finance or admin key of the payer", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "The payer had no payment cycle", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn delete_schedule(State(runtime): State<Runtime>, ForPayer { payer_id, .. }: ForPayer<PayerFinance>) -> Result<StatusCode, Problem> {
    if !crate::storage::schedules::delete(&runtime.store, runtime.store.db(), &payer_id).await? {
        return Err(Problem::not_found(format!("payer {payer_id} has no payment schedule")));
    }
    Ok(StatusCode::NO_CONTENT)
}
