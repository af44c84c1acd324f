//! Settlement's HTTP API: the journal, read by finance, auditor, admin and
//! payer keys within their payer scope. Typed bodies with their OpenAPI schemas.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use claimtrail_events::Money;
use claimtrail_runtime::auth::{Role, Tenant};
use claimtrail_runtime::extract::{Authorized, JournalReader, PayerPermission};
use claimtrail_runtime::http::Problem;
use claimtrail_runtime::{Runtime, auth};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::storage;

pub mod bank;
pub mod payments;

#[derive(Debug, Deserialize)]
pub(crate) struct EntriesQuery {
    claim_id: Option<Uuid>,
}

/// One line of an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LineView {
    pub account: String,
    #[schema(value_type = String, example = "80.00")]
    pub debit: Money,
    #[schema(value_type = String, example = "0.00")]
    pub credit: Money,
}

/// One journal entry of a claim: its decision's, or a reversal's (a negative amount).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EntryView {
    #[schema(value_type = String, format = "uuid")]
    pub entry_id: Uuid,
    #[schema(value_type = String, format = "uuid")]
    pub claim_id: Uuid,
    #[schema(value_type = String, example = "80.00")]
    pub amount: Money,
    pub memo: String,
    pub lines: Vec<LineView>,
}

/// `GET /v1/journal/entries`: a claim's entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EntriesView {
    pub entries: Vec<EntryView>,
}

/// One account's totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AccountBalance {
    pub account: String,
    #[schema(value_type = String)]
    pub debit: Money,
    #[schema(value_type = String)]
    pub credit: Money,
    /// Debit minus credit.
    #[schema(value_type = String)]
    pub balance: Money,
}

/// `GET /v1/journal/balances`: every account the key reads, and whether debits equal credits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct BalancesView {
    pub accounts: Vec<AccountBalance>,
    #[schema(value_type = String)]
    pub total_debit: Money,
    #[schema(value_type = String)]
    pub total_credit: Money,
    pub balanced: bool,
}

/// `GET /v1/journal/entries?claim_id=` and `GET /v1/journal/balances`, and the payment routes ([`payments::routes`]).
pub fn routes(runtime: Runtime) -> Router {
    Router::new()
        .route("/v1/journal/entries", get(entries))
        .route("/v1/journal/balances", get(balances))
        .with_state(runtime.clone())
        .merge(payments::routes(runtime))
}

/// The payers whose journal the caller reads ([`JournalReader`]): a finance
/// or auditor key those it was created for (every payer only when created
/// `--all-payers`), a payer key its own, an admin key every payer's; a
/// provider key none (403).
fn journal_scope(reader: &Authorized<JournalReader>) -> &auth::PayerScope {
    &reader.tenant.payers
}

/// A finance key of the payer, or an admin key: payment runs, the payer's
/// banking, payment holds and bank statements.
pub(crate) struct PayerFinance;

impl PayerPermission for PayerFinance {
    fn allows(tenant: &Tenant, payer_id: &str) -> bool {
        matches!(tenant.role, Role::Finance | Role::Admin) && tenant.payers.includes(payer_id)
    }
    fn denied(_: &Tenant, payer_id: &str) -> String {
        format!("only a finance key of the payer or an admin key may do this for payer {payer_id}")
    }
}

/// The id in a path (a run, a remittance, an exception), or the 404 of the
/// thing it names (`missing`): an id that cannot be one names nothing.
pub(crate) fn path_id(text: &str, missing: impl FnOnce() -> String) -> Result<Uuid, Problem> {
    Uuid::parse_str(text).map_err(|_| Problem::not_found(missing()))
}

/// What a lookup `found`, when the caller reads its payer's payments
/// (finance, auditor, admin, or the payer's own key): else a 404, `missing`
/// when nothing was found and the same for every payer the key does not
/// read, so that an id tells nothing of another payer.
pub(crate) fn readable<T>(tenant: &Tenant, found: Option<T>, payer_of: impl FnOnce(&T) -> &str, missing: impl FnOnce() -> String) -> Result<T, Problem> {
    let found = found.ok_or_else(|| Problem::not_found(missing()))?;
    reads_payments_of(tenant, payer_of(&found))?;
    Ok(found)
}

/// Whether the caller reads `payer_id`'s payments; a 404 otherwise.
pub(crate) fn reads_payments_of(tenant: &Tenant, payer_id: &str) -> Result<(), Problem> {
    match tenant.journal_scope() {
        Some(scope) if scope.includes(payer_id) => Ok(()),
        _ => Err(Problem::not_found("no such payment run or remittance for a payer this key reads")),
    }
}

#[utoipa::path(get, path = "/v1/journal/entries", tag = "settlement",
    params(("claim_id" = String, Query, description = "Claim")),
    responses((status = 200, description = "The claim's entries with their lines", body = EntriesView),
              (status = 400, description = "No claim_id", body = Problem, content_type = "application/problem+json"),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "A provider key", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No entries of this claim for a payer the key reads", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn entries(
    State(runtime): State<Runtime>,
    reader: Authorized<JournalReader>,
    Query(query): Query<EntriesQuery>,
) -> Result<Json<EntriesView>, Problem> {
    let claim_id = query.claim_id.ok_or_else(|| Problem::bad_request("query parameter claim_id is required"))?;
    let stored = storage::entries_of(&runtime.store, claim_id, journal_scope(&reader)).await?;
    // The same answer whether the claim has no entries or only another payer's: nothing to tell apart.
    if stored.is_empty() {
        return Err(Problem::not_found(format!("no journal entries of claim {claim_id} that this key may read")));
    }
    let entries = stored
        .into_iter()
        .map(|entry| EntryView {
            entry_id: entry.entry_id,
            claim_id,
            amount: entry.amount,
            memo: entry.memo,
            lines: entry.lines.into_iter().map(|(account, debit, credit)| LineView { account, debit, credit }).collect(),
        })
        .collect();
    Ok(Json(EntriesView { entries }))
}

#[utoipa::path(get, path = "/v1/journal/balances", tag = "settlement",
    responses((status = 200, description = "The entries of the payers the key reads only (a payer key its own, finance and auditor keys those they were created for)", body = BalancesView),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "A provider key", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn balances(State(runtime): State<Runtime>, reader: Authorized<JournalReader>) -> Result<Json<BalancesView>, Problem> {
    let rows = storage::balances(&runtime.store, journal_scope(&reader)).await?;
    let (mut total_debit, mut total_credit) = (0i64, 0i64);
    let mut accounts = Vec::with_capacity(rows.len());
    for (account, debit, credit) in rows {
        total_debit = total_debit.checked_add(debit).ok_or_else(|| Problem::internal(&anyhow::anyhow!("total debits overflow")))?;
        total_credit = total_credit.checked_add(credit).ok_or_else(|| Problem::internal(&anyhow::anyhow!("total credits overflow")))?;
        let balance = debit.checked_sub(credit).ok_or_else(|| Problem::internal(&anyhow::anyhow!("balance of {account} overflows")))?;
        accounts.push(AccountBalance { account, debit: Money::from_cents(debit), credit: Money::from_cents(credit), balance: Money::from_cents(balance) });
    }
    Ok(Json(BalancesView {
        accounts,
        total_debit: Money::from_cents(total_debit),
        total_credit: Money::from_cents(total_credit),
        balanced: total_debit == total_credit,
    }))
}
