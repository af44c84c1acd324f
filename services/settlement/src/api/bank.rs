//! Reconciliation against the bank over HTTP (docs/reconciliation.md):
//!
//! - `POST /v1/payers/{payer_id}/bank-statements`: a BAI2 file, a camt.053
//!   document or a NACHA return file, told by `?format=bai2|camt053|nacha-returns`,
//!   else by the media type, else by its first bytes. Read whole
//!   ([`crate::domain::bank`]); a fault is a 422 naming the record and field
//!   and nothing is applied. Reconciled against the payer's expected debits,
//!   stored with its matches, returns and exceptions and their events in
//!   one transaction: 201. The same statement (BAI2 file id, camt.053
//!   MsgId, NACHA file id) again changes nothing: 200 with what it did the
//!   first time and `already_imported`.
//! - `GET /v1/payers/{payer_id}/reconciliation/exceptions[?status=open|all]`.
//! - `POST /v1/payers/{payer_id}/reconciliation/exceptions/{exception_id}/resolve`
//!   with `{"reason": ...}`: finance resolves an open exception.
//!
//! Importing is for finance keys of the payer and admin keys; resolving for
//! finance keys of the payer; reading for any key that reads the payer's journal.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use claimtrail_events::{Money, NewEvent, ReconciliationExceptionResolved, format_date, sha3_256};
use claimtrail_runtime::Runtime;
use claimtrail_runtime::auth::{Role, Tenant};
use claimtrail_runtime::extract::{ForPayer, LimitedBody, PayerPermission};
use claimtrail_runtime::http::{FieldError, Problem};
use claimtrail_store::outbox;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{PayerFinance, path_id};
use crate::domain::bank::StatementFormat;
use crate::domain::bank::events::statement_events;
use crate::domain::bank::matcher;
use crate::storage;
use crate::storage::bank::{ResolveOutcome, StoredException, StoredOutcome};

/// The longest resolution reason kept.
pub const RESOLUTION_REASON_CHARS_MAX: usize = 1_000;

/// `?format=` of an import.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `bai2`, `camt053` or `nacha-returns`; when absent, the media type
    /// (`application/x-bai2`, `application/xml`, `application/x-nacha`) or the first bytes tell.
    pub format: Option<String>,
}

/// `?status=` of the exception queue.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExceptionsQuery {
    /// `open` (the default) or `all` (resolved ones too).
    pub status: Option<String>,
}

/// A bank debit matched to its ACH batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MatchView {
    /// Where in the file: `line 4`, `Document/BkToCstmrStmt/Stmt[1]/Ntry[1]`.
    pub position: String,
    #[schema(value_type = String, format = "uuid")]
    pub run_id: Uuid,
    pub batch_number: u32,
    #[schema(value_type = String, example = "1015.40")]
    pub amount: Money,
    /// The value date, YYYY-MM-DD.
    pub date: String,
}

/// A returned entry (its remittance reopened) or a notification of change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReturnView {
    pub position: String,
    /// `return` or `change`.
    pub kind: String,
    #[schema(value_type = String, format = "uuid")]
    pub run_id: Uuid,
    pub batch_number: u32,
    #[schema(value_type = String, format = "uuid")]
    pub remittance_id: Uuid,
    /// The original entry's trace number.
    pub trace_number: String,
    /// `R03`, `AC04`, or a change code `C01`.
    pub reason_code: String,
    #[schema(value_type = String, example = "120.00")]
    pub amount: Money,
    /// A notification of change's corrected data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrected_data: Option<String>,
}

/// An item of the exception queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExceptionView {
    #[schema(value_type = String, format = "uuid")]
    pub exception_id: Uuid,
    pub statement_id: String,
    /// `unmatched-debit`, `amount-mismatch`, `missing-debit`, `unmatched-return` or `return-amount-mismatch`.
    pub kind: String,
    pub position: Option<String>,
    #[schema(value_type = Option<String>, format = "uuid")]
    pub run_id: Option<Uuid>,
    pub batch_number: Option<u32>,
    pub trace_number: Option<String>,
    #[schema(value_type = Option<String>, example = "1135.40")]
    pub expected_amount: Option<Money>,
    #[schema(value_type = Option<String>, example = "1135.00")]
    pub actual_amount: Option<Money>,
    pub detail: String,
    /// `open` or `resolved`.
    pub status: String,
    pub resolved_by: Option<String>,
    pub resolution_reason: Option<String>,
    /// The day the exception was opened (its statement imported), YYYY-MM-DD: its age for the queue.
    #[schema(value_type = String, format = "date", example = "2026-03-04")]
    pub opened_on: String,
}

/// What a bank file did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportView {
    pub statement_id: String,
    /// `bai2`, `camt053` or `nacha-returns`.
    pub format: String,
    /// True when this statement was imported before: nothing was applied now.
    pub already_imported: bool,
    pub line_count: i64,
    pub matched: Vec<MatchView>,
    pub returned: Vec<ReturnView>,
    pub exceptions: Vec<ExceptionView>,
}

/// `GET /v1/payers/{payer_id}/reconciliation/exceptions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExceptionsView {
    pub exceptions: Vec<ExceptionView>,
}

/// The body of a resolution.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ResolveRequest {
    /// Why the exception is settled, as finance sees it (1 to 1,000 characters).
    pub reason: String,
}

/// The routes of reconciliation.
pub fn routes(runtime: Runtime) -> Router {
    Router::new()
        .route("/v1/payers/{payer_id}/bank-statements", post(import_statement))
        .route("/v1/payers/{payer_id}/reconciliation/exceptions", get(list_exceptions))
        .route("/v1/payers/{payer_id}/reconciliation/exceptions/{exception_id}/resolve", post(resolve))
        .with_state(runtime)
}

fn exception_view(exception: StoredException) -> ExceptionView {
    ExceptionView {
        exception_id: exception.exception_id,
        statement_id: exception.statement_id,
        kind: exception.kind.as_str().to_owned(),
        position: exception.position,
        run_id: exception.batch.map(|batch| batch.run_id),
        batch_number: exception.batch.map(|batch| batch.batch_number),
        trace_number: exception.trace_number,
        expected_amount: exception.expected,
        actual_amount: exception.actual,
        detail: exception.detail,
        status: exception.status,
        resolved_by: exception.resolved_by,
        resolution_reason: exception.resolution_reason,
        opened_on: claimtrail_events::format_date(exception.opened_on),
    }
}

fn import_view(statement_id: String, already_imported: bool, outcome: StoredOutcome) -> ImportView {
    ImportView {
        statement_id,
        format: outcome.format,
        already_imported,
        line_count: outcome.line_count,
        matched: outcome
            .matches
            .into_iter()
            .map(|m| MatchView {
                position: m.position,
                run_id: m.batch.run_id,
                batch_number: m.batch.batch_number,
                amount: m.amount,
                date: format_date(m.date),
            })
            .collect(),
        returned: outcome
            .returns
            .into_iter()
            .map(|r| ReturnView {
                position: r.position,
                corrected_data: (r.kind == "change").then_some(r.corrected_data),
                kind: r.kind,
                run_id: r.batch.run_id,
                batch_number: r.batch.batch_number,
                remittance_id: r.remittance_id,
                trace_number: r.trace_number,
                reason_code: r.reason_code,
                amount: r.amount,
            })
            .collect(),
        exceptions: outcome.exceptions.into_iter().map(exception_view).collect(),
    }
}

/// A finance key of the payer (not an admin key): resolving an exception is finance's judgment.
pub(crate) struct PayerFinanceOnly;

impl PayerPermission for PayerFinanceOnly {
    fn allows(tenant: &Tenant, payer_id: &str) -> bool {
        tenant.role == Role::Finance && tenant.payers.includes(payer_id)
    }
    fn denied(_: &Tenant, payer_id: &str) -> String {
        format!("only a finance key of the payer may do this for payer {payer_id}")
    }
}

/// A key that reads the payer's journal ([`Tenant::journal_scope`]): the exception queue.
pub(crate) struct ReadsReconciliation;

impl PayerPermission for ReadsReconciliation {
    fn allows(tenant: &Tenant, payer_id: &str) -> bool {
        tenant.journal_scope().is_some_and(|scope| scope.includes(payer_id))
    }
    fn denied(_: &Tenant, payer_id: &str) -> String {
        format!("this key does not read payer {payer_id}'s reconciliation")
    }
}

#[utoipa::path(post, path = "/v1/payers/{payer_id}/bank-statements", tag = "settlement",
    params(("payer_id" = String, Path, description = "Payer"), ImportQuery),
    request_body(content = String, content_type = "application/x-bai2", description = "A BAI2 file, a camt.053 XML document (application/xml) or a NACHA return file (application/x-nacha), whole"),
    responses((status = 201, description = "Read, reconciled and applied: what matched, what was returned and what became an exception", body = ImportView),
              (status = 200, description = "Imported before (same file id or MsgId): nothing applied now; what it did then", body = ImportView),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Not a finance key of the payer nor an admin key", body = Problem, content_type = "application/problem+json"),
              (status = 415, description = "The format cannot be told", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "A fault in the file, naming its line (or XML path), record and field; nothing applied", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn import_statement(
    State(runtime): State<Runtime>,
    ForPayer { tenant, payer_id, .. }: ForPayer<PayerFinance>,
    headers: HeaderMap,
    Query(query): Query<ImportQuery>,
    LimitedBody(body): LimitedBody,
) -> Result<(StatusCode, Json<ImportView>), Problem> {
    let format = match query.format.as_deref() {
        Some(text) => StatementFormat::parse(text).ok_or_else(|| {
            Problem::unprocessable(
                "unknown format; nothing was applied",
                vec![FieldError { path: "format".into(), message: format!("`{text}` is not bai2, camt053 or nacha-returns") }],
            )
        })?,
        None => {
            let content_type = headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok());
            StatementFormat::detect(content_type, &body).ok_or_else(|| {
                Problem::unsupported_media_type(
                    "send BAI2 as application/x-bai2, camt.053 as application/xml, a NACHA return file as application/x-nacha, or give ?format=",
                )
            })?
        }
    };
    let statement = format.read(&body).map_err(|error| {
        Problem::unprocessable(
            format!("the {} file is invalid at {}; nothing of it was applied", format.as_str(), error.position),
            vec![FieldError { path: format!("{}, record {}, field {}", error.position, error.record, error.field), message: error.message }],
        )
    })?;
    let store = &runtime.store;
    let statement_id = statement.statement_id.clone();
    if storage::bank::statement_exists(store, store.db(), &payer_id, &statement_id).await? {
        return already_imported(&runtime, &payer_id, statement_id).await;
    }
    let tx = store.begin().await?;
    let expected = storage::bank::expected_debits(store, &tx, &payer_id).await?;
    let applied = storage::bank::applied(store, &tx, &payer_id).await?;
    let reconciliation = matcher::reconcile(&statement, &expected, &applied);
    let exception_ids: Vec<Uuid> = reconciliation.exceptions.iter().map(|_| Uuid::now_v7()).collect();
    let content_sha3_256 = hex::encode(sha3_256(&body));
    if let Err(error) = storage::bank::insert_statement(
        store,
        &tx,
        &payer_id,
        &tenant.name,
        &statement,
        &content_sha3_256,
        &reconciliation,
        &exception_ids,
        claimtrail_events::today(),
    )
    .await
    {
        // The same statement imported at the same moment by another request: that one applied it.
        if error.is_unique_violation() {
            tx.rollback().await?;
            if storage::bank::statement_exists(store, store.db(), &payer_id, &statement_id).await? {
                return already_imported(&runtime, &payer_id, statement_id).await;
            }
            return Err(Problem::new(StatusCode::CONFLICT, "conflict", "Conflict", "another statement applied the same batch at the same moment; retry"));
        }
        return Err(error.into());
    }
    // The payment side: each returned entry's remittance is reopened in this same transaction.
    for returned in &reconciliation.returned {
        crate::runs::reopen_returned(store, &tx, returned.remittance_id, returned.amount, returned.reason.as_str(), &returned.trace_number).await.map_err(
            |error| {
                Problem::new(
                    StatusCode::CONFLICT,
                    "conflict",
                    "Conflict",
                    format!("the return at {} cannot reopen remittance {}: {error}; nothing was applied", returned.line.position, returned.remittance_id),
                )
            },
        )?;
    }
    // Each notification of change corrects the account its entry was sent to; bad corrected data refuses the whole file.
    for change in &reconciliation.changes {
        crate::runs::apply_change(store, &tx, change.remittance_id, change.reason.as_str(), &change.corrected_data).await.map_err(|error| {
            Problem::unprocessable(
                format!("the notification of change at {} cannot be applied; nothing of the file was applied", change.line.position),
                vec![FieldError { path: format!("{}, record addenda, field corrected data", change.line.position), message: error.to_string() }],
            )
        })?;
    }
    let events = statement_events(&payer_id, &statement, &content_sha3_256, &reconciliation, &exception_ids);
    outbox::append(store, &tx, &runtime.producer, events).await?;
    tx.commit().await?;
    runtime.relay_wakeup.notify_waiters();
    tracing::info!(payer_id = %payer_id, statement_id = %statement_id, matched = reconciliation.matched.len(), exceptions = reconciliation.exceptions.len(), "bank statement applied");
    let outcome = storage::bank::statement_outcome(store, &payer_id, &statement_id)
        .await?
        .ok_or_else(|| Problem::internal(&anyhow::anyhow!("statement {statement_id} is not there after its commit")))?;
    Ok((StatusCode::CREATED, Json(import_view(statement_id, false, outcome))))
}

async fn already_imported(runtime: &Runtime, payer_id: &str, statement_id: String) -> Result<(StatusCode, Json<ImportView>), Problem> {
    let outcome = storage::bank::statement_outcome(&runtime.store, payer_id, &statement_id)
        .await?
        .ok_or_else(|| Problem::internal(&anyhow::anyhow!("statement {statement_id} vanished")))?;
    Ok((StatusCode::OK, Json(import_view(statement_id, true, outcome))))
}

#[utoipa::path(get, path = "/v1/payers/{payer_id}/reconciliation/exceptions", tag = "settlement",
    params(("payer_id" = String, Path, description = "Payer"), ExceptionsQuery),
    responses((status = 200, description = "The payer's exceptions, oldest first", body = ExceptionsView),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "A key that does not read this payer's journal", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "An unknown status", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn list_exceptions(
    State(runtime): State<Runtime>,
    ForPayer { payer_id, .. }: ForPayer<ReadsReconciliation>,
    Query(query): Query<ExceptionsQuery>,
) -> Result<Json<ExceptionsView>, Problem> {
    let include_resolved = match query.status.as_deref() {
        None | Some("open") => false,
        Some("all") => true,
        Some(other) => {
            return Err(Problem::unprocessable("unknown status", vec![FieldError { path: "status".into(), message: format!("`{other}` is not open or all") }]));
        }
    };
    let exceptions = storage::bank::exceptions(&runtime.store, &payer_id, include_resolved).await?;
    Ok(Json(ExceptionsView { exceptions: exceptions.into_iter().map(exception_view).collect() }))
}

#[utoipa::path(post, path = "/v1/payers/{payer_id}/reconciliation/exceptions/{exception_id}/resolve", tag = "settlement",
    params(("payer_id" = String, Path, description = "Payer"), ("exception_id" = String, Path, description = "Exception")),
    request_body(content = ResolveRequest, content_type = "application/json"),
    responses((status = 200, description = "Resolved", body = ExceptionView),
              (status = 400, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Not a finance key of the payer", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No such exception of this payer", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Already resolved", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "No reason, or one too long", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn resolve(
    State(runtime): State<Runtime>,
    ForPayer { tenant, payer_id, .. }: ForPayer<PayerFinanceOnly>,
    Path((_, exception_id)): Path<(String, String)>,
    LimitedBody(body): LimitedBody,
) -> Result<Json<ExceptionView>, Problem> {
    let exception_id = path_id(&exception_id, || format!("no exception {exception_id} of payer {payer_id}"))?;
    let request: ResolveRequest = claimtrail_runtime::http::json_body(&body, "a resolution ({\"reason\": ...})")?;
    let reason = request.reason.trim();
    if reason.is_empty() || reason.chars().count() > RESOLUTION_REASON_CHARS_MAX {
        return Err(Problem::unprocessable(
            "a resolution needs its reason; nothing was changed",
            vec![FieldError { path: "reason".into(), message: format!("required, 1 to {RESOLUTION_REASON_CHARS_MAX} characters") }],
        ));
    }
    let store = &runtime.store;
    let tx = store.begin().await?;
    match storage::bank::resolve_exception(store, &tx, &payer_id, exception_id, &tenant.name, reason).await? {
        ResolveOutcome::NotFound => Err(Problem::not_found(format!("no exception {exception_id} of payer {payer_id}"))),
        ResolveOutcome::AlreadyResolved(exception) => Err(Problem::new(
            StatusCode::CONFLICT,
            "conflict",
            "Conflict",
            format!("exception {exception_id} was already resolved by {}", exception.resolved_by.unwrap_or_default()),
        )),
        ResolveOutcome::Resolved(exception) => {
            let event =
                ReconciliationExceptionResolved { payer_id: payer_id.clone(), exception_id, resolved_by: tenant.name.clone(), reason: reason.to_owned() };
            outbox::append(store, &tx, &runtime.producer, vec![NewEvent::new(event, format!("reconciliation_exception:{exception_id}"))]).await?;
            tx.commit().await?;
            runtime.relay_wakeup.notify_waiters();
            Ok(Json(exception_view(exception)))
        }
    }
}
