//! Settlement: books adjudicated claims in a double-entry journal.
//!
//! # Layout
//! - [`journal`]: the pure construction of journal lines and the balance check.
//! - [`Booker`]: the event handler: `claim.adjudicated.v1` in, `payable.booked.v1` out.
//! - [`routes`]: `GET /v1/journal/entries?claim_id=`, `GET /v1/journal/balances`.
//! - [`run`]: the service (`claimtrail serve settlement`).

pub mod journal;

use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use claimtrail_events::{ClaimAdjudicated, ClaimReversed, ClaimsErased, DomainEvent, Envelope, Family, Money, NewEvent, PayableBooked};
use claimtrail_runtime::http::Problem;
use claimtrail_runtime::{EventHandler, HandlerError, Runtime, ServeSettings, ServiceParts, auth, http};
use claimtrail_store::{Migration, Store, stmt};
use sea_orm::{ConnectionTrait, DatabaseTransaction, Value};
use serde::Deserialize;
use uuid::Uuid;

pub const SERVICE: &str = "settlement";

pub fn migrations() -> Vec<Migration> {
    vec![
        Migration {
            version: 1,
            name: "journal",
            statements: |store| {
                let t = store.types();
                vec![
                    format!(
                        "CREATE TABLE {} (entry_id {} PRIMARY KEY, claim_id {} NOT NULL UNIQUE, payer_id TEXT NOT NULL, billing_npi TEXT NOT NULL, \
                 amount_cents {} NOT NULL, memo TEXT NOT NULL, posted_at {} NOT NULL DEFAULT {})",
                        store.table("journal_entries"),
                        t.uuid,
                        t.uuid,
                        t.bigint,
                        t.timestamp,
                        t.now
                    ),
                    format!(
                        "CREATE TABLE {} (line_id {}, entry_id {} NOT NULL REFERENCES {}(entry_id), account TEXT NOT NULL, debit_cents {} NOT NULL, credit_cents {} NOT NULL)",
                        store.table("journal_lines"),
                        t.id,
                        t.uuid,
                        store.table("journal_entries"),
                        t.bigint,
                        t.bigint
                    ),
                    format!("CREATE INDEX {} ON {} (account)", store.index("journal_lines_account"), store.table("journal_lines")),
                    format!("CREATE INDEX {} ON {} (entry_id)", store.index("journal_lines_entry"), store.table("journal_lines")),
                ]
            },
        },
        Migration { version: 2, name: "reversal entries: one entry per claim and kind", statements: reversal_entries },
    ]
}

/// A claim may now have two entries, its decision and the reversal of that
/// decision (by a replacement or void): `claim_id` alone is no longer
/// unique, `(claim_id, kind)` is. Postgres drops the constraint; SQLite
/// cannot, so the two journal tables are rebuilt (lines first, as they
/// reference the entries) and renamed into place.
fn reversal_entries(store: &Store) -> Vec<String> {
    let t = store.types();
    let entries = store.table("journal_entries");
    let lines = store.table("journal_lines");
    if store.is_postgres() {
        return vec![
            format!("ALTER TABLE {entries} ADD COLUMN kind TEXT NOT NULL DEFAULT 'decision'"),
            format!("ALTER TABLE {entries} DROP CONSTRAINT IF EXISTS journal_entries_claim_id_key"),
            format!("CREATE UNIQUE INDEX {} ON {entries} (claim_id, kind)", store.index("journal_entries_claim_kind")),
        ];
    }
    let (new_entries, new_lines) = (store.table("journal_entries_v2"), store.table("journal_lines_v2"));
    vec![
        format!(
            "CREATE TABLE {new_entries} (entry_id {} PRIMARY KEY, claim_id {} NOT NULL, kind TEXT NOT NULL DEFAULT 'decision', payer_id TEXT NOT NULL, \
             billing_npi TEXT NOT NULL, amount_cents {} NOT NULL, memo TEXT NOT NULL, posted_at {} NOT NULL DEFAULT {}, UNIQUE (claim_id, kind))",
            t.uuid, t.uuid, t.bigint, t.timestamp, t.now
        ),
        format!(
            "INSERT INTO {new_entries} (entry_id, claim_id, kind, payer_id, billing_npi, amount_cents, memo, posted_at) \
             SELECT entry_id, claim_id, 'decision', payer_id, billing_npi, amount_cents, memo, posted_at FROM {entries}"
        ),
        format!(
            "CREATE TABLE {new_lines} (line_id {}, entry_id {} NOT NULL REFERENCES {new_entries}(entry_id), account TEXT NOT NULL, debit_cents {} NOT NULL, credit_cents {} NOT NULL)",
            t.id, t.uuid, t.bigint, t.bigint
        ),
        format!(
            "INSERT INTO {new_lines} (line_id, entry_id, account, debit_cents, credit_cents) SELECT line_id, entry_id, account, debit_cents, credit_cents FROM {lines}"
        ),
        format!("DROP TABLE {lines}"),
        format!("DROP TABLE {entries}"),
        format!("ALTER TABLE {new_entries} RENAME TO {entries}"),
        format!("ALTER TABLE {new_lines} RENAME TO {lines}"),
        format!("CREATE INDEX {} ON {lines} (account)", store.index("journal_lines_account")),
        format!("CREATE INDEX {} ON {lines} (entry_id)", store.index("journal_lines_entry")),
    ]
}

/// The event handler of settlement.
pub struct Booker {
    store: Store,
}

impl Booker {
    pub fn new(store: Store) -> Booker {
        Booker { store }
    }
}

#[async_trait]
impl EventHandler for Booker {
    fn families(&self) -> Vec<Family> {
        vec![Family::Claims]
    }

    fn event_types(&self) -> Option<&'static [&'static str]> {
        Some(&[ClaimAdjudicated::EVENT_TYPE, ClaimReversed::EVENT_TYPE, ClaimsErased::EVENT_TYPE])
    }

    async fn handle(&self, tx: &DatabaseTransaction, envelope: &Envelope) -> Result<Vec<NewEvent>, HandlerError> {
        if claimtrail_runtime::erasure::apply(&self.store, tx, envelope).await? {
            return Ok(vec![]);
        }
        let entry = match envelope.domain_event().map_err(|e| HandlerError::Invalid(e.to_string()))? {
            DomainEvent::ClaimAdjudicated(decision) => {
                let outcome = decision.outcome.as_str();
                Entry {
                    claim_id: decision.claim_id,
                    kind: "decision",
                    payer_id: decision.payer_id.clone(),
                    billing_npi: decision.billing_npi.clone(),
                    amount: decision.total_paid,
                    memo: format!("claim {} adjudicated {outcome}, paid {}", decision.claim_id, decision.total_paid),
                    lines: journal::lines_for(&decision),
                }
            }
            DomainEvent::ClaimReversed(reversal) => Entry {
                claim_id: reversal.claim_id,
                kind: "reversal",
                payer_id: reversal.payer_id.clone(),
                billing_npi: reversal.billing_npi.clone(),
                amount: reversal.total_paid,
                memo: format!(
                    "claim {} reversed by claim {}: {} paid before is taken back",
                    reversal.claim_id,
                    reversal.by_claim_id,
                    reversal.total_paid.negated()
                ),
                lines: journal::reversal_lines(&reversal),
            },
            _ => return Ok(vec![]),
        };
        let booked = self.book(tx, entry).await?;
        let aggregate = booked.claim_id.to_string();
        Ok(vec![NewEvent::new(booked, aggregate).caused_by(envelope)])
    }
}

/// A journal entry to book: the claim, the signed amount payable (negative for a reversal) and its lines.
struct Entry {
    claim_id: Uuid,
    /// `decision` or `reversal`.
    kind: &'static str,
    payer_id: String,
    billing_npi: String,
    amount: claimtrail_events::Money,
    memo: String,
    lines: Vec<claimtrail_events::JournalLine>,
}

impl Booker {
    async fn book(&self, tx: &DatabaseTransaction, entry: Entry) -> Result<PayableBooked, HandlerError> {
        let store = &self.store;
        let entry_id = Uuid::now_v7();
        let amount_cents = entry.amount.to_cents().ok_or_else(|| HandlerError::Invalid("paid amount out of range".into()))?;
        tx.execute_raw(stmt(
            store,
            format!(
                "INSERT INTO {} (entry_id, claim_id, kind, payer_id, billing_npi, amount_cents, memo) VALUES ($1, $2, $7, $3, $4, $5, $6)",
                store.table("journal_entries")
            ),
            vec![
                Value::from(entry_id),
                Value::from(entry.claim_id),
                Value::from(entry.payer_id.clone()),
                Value::from(entry.billing_npi.clone()),
                Value::from(amount_cents),
                Value::from(entry.memo),
                Value::from(entry.kind),
            ],
        ))
        .await?;
        let lines = entry
            .lines
            .iter()
            .map(|line| {
                let cents = |amount: Money| amount.cents().map_err(|e| HandlerError::Invalid(format!("journal line of account {}: {e}", line.account)));
                Ok(vec![Value::from(entry_id), Value::from(line.account.clone()), Value::from(cents(line.debit)?), Value::from(cents(line.credit)?)])
            })
            .collect::<Result<Vec<_>, HandlerError>>()?;
        let insert = format!("INSERT INTO {} (entry_id, account, debit_cents, credit_cents) VALUES ", store.table("journal_lines"));
        claimtrail_store::insert_rows(store, tx, &insert, lines, "").await?;
        Ok(PayableBooked {
            claim_id: entry.claim_id,
            journal_entry_id: entry_id,
            payer_id: entry.payer_id,
            billing_npi: entry.billing_npi,
            amount: entry.amount,
            lines: entry.lines,
        })
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct EntriesQuery {
    claim_id: Option<Uuid>,
}

/// `GET /v1/journal/entries?claim_id=` and `GET /v1/journal/balances`.
pub fn routes(runtime: Runtime) -> Router {
    Router::new().route("/v1/journal/entries", get(entries)).route("/v1/journal/balances", get(balances)).with_state(runtime)
}

/// The payers whose journal the caller reads: a finance or auditor key those
/// it was created for (every payer only when created `--all-payers`), a payer
/// key its own, an admin key every payer's; a provider key none (403).
async fn journal_reader(runtime: &Runtime, headers: &HeaderMap) -> Result<auth::PayerScope, Problem> {
    let tenant = auth::authenticate(runtime, headers).await?;
    tenant.journal_scope().cloned().ok_or_else(|| Problem::forbidden("the journal is for finance, auditor, admin and payer keys"))
}

#[utoipa::path(get, path = "/v1/journal/entries", tag = "settlement",
    params(("claim_id" = String, Query, description = "Claim")),
    responses((status = 200, description = "`{entries: [{entry_id, claim_id, amount, memo, lines: [{account, debit, credit}]}]}`", body = serde_json::Value),
              (status = 400, description = "No claim_id", body = Problem, content_type = "application/problem+json"),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "A provider key", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No entries of this claim for a payer the key reads", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn entries(State(runtime): State<Runtime>, headers: HeaderMap, Query(query): Query<EntriesQuery>) -> Result<Json<serde_json::Value>, Problem> {
    let scope = journal_reader(&runtime, &headers).await?;
    let store = &runtime.store;
    let claim_id = query.claim_id.ok_or_else(|| Problem::bad_request("query parameter claim_id is required"))?;
    let mut values = vec![Value::from(claim_id)];
    let in_scope = scope.sql_condition("e.payer_id", &mut values).map(|condition| format!(" AND {condition}")).unwrap_or_default();
    let rows = store
        .db()
        .query_all_raw(stmt(
            store,
            format!(
                "SELECT e.entry_id, e.amount_cents, e.memo, l.account, l.debit_cents, l.credit_cents FROM {} e LEFT JOIN {} l ON l.entry_id = e.entry_id \
                 WHERE e.claim_id = $1{in_scope} ORDER BY l.line_id",
                store.table("journal_entries"),
                store.table("journal_lines")
            ),
            values,
        ))
        .await?;
    // The same answer whether the claim has no entries or only another payer's: nothing to tell apart.
    if rows.is_empty() {
        return Err(Problem::not_found(format!("no journal entries of claim {claim_id} that this key may read")));
    }
    let mut entries: Vec<serde_json::Value> = Vec::new();
    for row in rows {
        let entry_id: Uuid = row.try_get_by_index(0)?;
        if entries.last().and_then(|e| e["entry_id"].as_str()) != Some(entry_id.to_string().as_str()) {
            entries.push(serde_json::json!({
                "entry_id": entry_id, "claim_id": claim_id,
                "amount": Money::from_cents(row.try_get_by_index(1)?), "memo": row.try_get_by_index::<String>(2)?, "lines": []
            }));
        }
        if let Some(account) = row.try_get_by_index::<Option<String>>(3)? {
            let debit: i64 = row.try_get_by_index(4)?;
            let credit: i64 = row.try_get_by_index(5)?;
            if let Some(lines) = entries.last_mut().and_then(|e| e["lines"].as_array_mut()) {
                lines.push(serde_json::json!({"account": account, "debit": Money::from_cents(debit), "credit": Money::from_cents(credit)}));
            }
        }
    }
    Ok(Json(serde_json::json!({ "entries": entries })))
}

#[utoipa::path(get, path = "/v1/journal/balances", tag = "settlement",
    responses((status = 200, description = "`{accounts: [{account, debit, credit, balance}], total_debit, total_credit, balanced}`; the entries of the payers the key reads only (a payer key its own, finance and auditor keys those they were created for)", body = serde_json::Value),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "A provider key", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn balances(State(runtime): State<Runtime>, headers: HeaderMap) -> Result<Json<serde_json::Value>, Problem> {
    let scope = journal_reader(&runtime, &headers).await?;
    let store = &runtime.store;
    let mut values = Vec::new();
    let in_scope = scope.sql_condition("e.payer_id", &mut values).map(|condition| format!("WHERE {condition} ")).unwrap_or_default();
    let rows = store
        .db()
        .query_all_raw(stmt(
            store,
            format!(
                "SELECT l.account, CAST(SUM(l.debit_cents) AS BIGINT), CAST(SUM(l.credit_cents) AS BIGINT) FROM {} l JOIN {} e ON e.entry_id = l.entry_id \
                 {in_scope}GROUP BY l.account ORDER BY l.account",
                store.table("journal_lines"),
                store.table("journal_entries")
            ),
            values,
        ))
        .await?;
    let mut accounts = Vec::with_capacity(rows.len());
    let (mut total_debit, mut total_credit) = (0i64, 0i64);
    for row in rows {
        let account: String = row.try_get_by_index(0)?;
        let debit: i64 = row.try_get_by_index(1)?;
        let credit: i64 = row.try_get_by_index(2)?;
        total_debit += debit;
        total_credit += credit;
        accounts.push(serde_json::json!({"account": account, "debit": Money::from_cents(debit), "credit": Money::from_cents(credit),
            "balance": Money::from_cents(debit - credit)}));
    }
    Ok(Json(serde_json::json!({
        "accounts": accounts, "total_debit": Money::from_cents(total_debit), "total_credit": Money::from_cents(total_credit),
        "balanced": total_debit == total_credit
    })))
}

/// The service's routes, handler and tasks on `runtime`.
pub fn parts(runtime: &Runtime) -> ServiceParts {
    ServiceParts {
        openapi: openapi(),
        routes: routes(runtime.clone()),
        handler: Some(Arc::new(Booker::new(runtime.store.clone()))),
        readiness: http::always_ready(),
        background: vec![],
    }
}

/// Runs the settlement service alone until `shutdown` (`claimtrail serve settlement`).
pub async fn run(settings: ServeSettings, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let runtime = Runtime::connect(&settings, SERVICE, &migrations()).await?;
    let parts = parts(&runtime);
    runtime.run(parts, shutdown).await
}

/// The OpenAPI paths this service serves.
pub fn openapi() -> utoipa::openapi::OpenApi {
    #[derive(utoipa::OpenApi)]
    #[openapi(paths(entries, balances))]
    struct ApiDoc;
    <ApiDoc as utoipa::OpenApi>::openapi()
}

/// Rows and bytes of the tables settlement grows per claim, for the bench.
pub async fn footprint(store: &Store) -> Result<claimtrail_store::Footprint, claimtrail_store::StoreError> {
    claimtrail_store::footprint(store, &["journal_entries", "journal_lines", "outbox", "inbox"]).await
}
