//! The SQL of reconciliation against the bank (ADR 0002: raw SQL with the
//! store's dynamic names): the batches expected at the bank, the statements
//! imported with their lines, the matches, the returns and notifications of
//! change, and the exception queue. Dates are stored as `YYYY-MM-DD` text,
//! amounts as integer cents (ADR 0003).

use claimtrail_events::{Money, format_date, parse_date};
use claimtrail_store::{Migration, Store, StoreError, stmt};
use sea_orm::{ConnectionTrait, QueryResult, Value};
use uuid::Uuid;

use crate::domain::bank::matcher::{Applied, ExceptionKind, Reconciliation};
use crate::domain::bank::{BankStatement, BatchKey, ExpectedDebit, ExpectedEntry, StatementLine};

/// Reconciliation's migrations, numbered from 101 so that they never collide with the journal's and the payment runs'.
pub fn migrations() -> Vec<Migration> {
    vec![
        Migration { version: 101, name: "bank reconciliation: expected debits, statements, matches, returns, exceptions", statements: tables },
        Migration { version: 191, name: "reconciliation exceptions: the date each was opened", statements: opened_on },
    ]
}

/// Each exception's opening date (`YYYY-MM-DD`, the service's clock on the
/// day its statement was imported). Rows from before take the date of their
/// `opened_at` timestamp, the moment their statement's import inserted them.
fn opened_on(store: &Store) -> Vec<String> {
    let table = store.table("reconciliation_exceptions");
    let backfill = if store.is_postgres() { "to_char(opened_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')" } else { "substr(opened_at, 1, 10)" };
    vec![format!("ALTER TABLE {table} ADD COLUMN opened_on TEXT"), format!("UPDATE {table} SET opened_on = {backfill} WHERE opened_on IS NULL")]
}

fn tables(store: &Store) -> Vec<String> {
    let t = store.types();
    vec![
        format!(
            "CREATE TABLE {} (payer_id TEXT NOT NULL, run_id {} NOT NULL, batch_number {} NOT NULL, company_id TEXT NOT NULL, \
             effective_date TEXT NOT NULL, amount_cents {} NOT NULL, PRIMARY KEY (run_id, batch_number))",
            store.table("bank_expected_debits"),
            t.uuid,
            t.bigint,
            t.bigint
        ),
        format!(
            "CREATE TABLE {} (payer_id TEXT NOT NULL, run_id {} NOT NULL, batch_number {} NOT NULL, trace_number TEXT NOT NULL, \
             remittance_id {} NOT NULL, amount_cents {} NOT NULL, PRIMARY KEY (payer_id, trace_number))",
            store.table("bank_expected_entries"),
            t.uuid,
            t.bigint,
            t.uuid,
            t.bigint
        ),
        format!(
            "CREATE TABLE {} (payer_id TEXT NOT NULL, statement_id TEXT NOT NULL, format TEXT NOT NULL, account TEXT NOT NULL, \
             from_date TEXT NOT NULL, to_date TEXT NOT NULL, content_sha3_256 TEXT NOT NULL, line_count {} NOT NULL, \
             imported_by TEXT NOT NULL, imported_at {} NOT NULL DEFAULT {}, PRIMARY KEY (payer_id, statement_id))",
            store.table("bank_statements"),
            t.bigint,
            t.timestamp,
            t.now
        ),
        format!(
            "CREATE TABLE {} (line_id {}, payer_id TEXT NOT NULL, statement_id TEXT NOT NULL, position TEXT NOT NULL, direction TEXT NOT NULL, \
             kind TEXT NOT NULL, amount_cents {} NOT NULL, value_date TEXT NOT NULL, type_code TEXT NOT NULL, reference TEXT NOT NULL, \
             original_trace TEXT, reason_code TEXT, corrected_data TEXT)",
            store.table("bank_statement_lines"),
            t.id,
            t.bigint
        ),
        format!("CREATE INDEX {} ON {} (payer_id, statement_id)", store.index("bank_statement_lines_statement"), store.table("bank_statement_lines")),
        format!(
            "CREATE TABLE {} (payer_id TEXT NOT NULL, statement_id TEXT NOT NULL, position TEXT NOT NULL, run_id {} NOT NULL, \
             batch_number {} NOT NULL, amount_cents {} NOT NULL, value_date TEXT NOT NULL, PRIMARY KEY (run_id, batch_number))",
            store.table("bank_matches"),
            t.uuid,
            t.bigint,
            t.bigint
        ),
        format!(
            "CREATE TABLE {} (payer_id TEXT NOT NULL, statement_id TEXT NOT NULL, position TEXT NOT NULL, kind TEXT NOT NULL, \
             run_id {} NOT NULL, batch_number {} NOT NULL, remittance_id {} NOT NULL, trace_number TEXT NOT NULL, reason_code TEXT NOT NULL, \
             amount_cents {} NOT NULL, corrected_data TEXT NOT NULL, PRIMARY KEY (payer_id, trace_number, reason_code))",
            store.table("bank_returns"),
            t.uuid,
            t.bigint,
            t.uuid,
            t.bigint
        ),
        format!(
            "CREATE TABLE {} (exception_id {} PRIMARY KEY, payer_id TEXT NOT NULL, statement_id TEXT NOT NULL, kind TEXT NOT NULL, \
             position TEXT, run_id {}, batch_number {}, trace_number TEXT, expected_cents {}, actual_cents {}, detail TEXT NOT NULL, \
             status TEXT NOT NULL, resolved_by TEXT, resolution_reason TEXT, opened_at {} NOT NULL DEFAULT {}, resolved_at {})",
            store.table("reconciliation_exceptions"),
            t.uuid,
            t.uuid,
            t.bigint,
            t.bigint,
            t.bigint,
            t.timestamp,
            t.now,
            t.timestamp
        ),
        format!("CREATE INDEX {} ON {} (payer_id, status)", store.index("reconciliation_exceptions_status"), store.table("reconciliation_exceptions")),
    ]
}

fn cents(amount: Money, what: &str) -> Result<i64, StoreError> {
    amount.cents().map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

fn date_value(date: time::Date) -> Value {
    Value::from(format_date(date))
}

fn read_date(row: &QueryResult, idx: usize) -> Result<time::Date, StoreError> {
    let text: String = row.try_get_by_index(idx)?;
    parse_date(&text).ok_or_else(|| StoreError::Corrupt(format!("`{text}` is not a stored date")))
}

/// Records a batch a payment run sent, as the bank should show it (the payment run's writer calls this in its transaction).
pub async fn insert_expected_debit(store: &Store, tx: &impl ConnectionTrait, payer_id: &str, debit: &ExpectedDebit) -> Result<(), StoreError> {
    tx.execute_raw(stmt(
        store,
        format!(
            "INSERT INTO {} (payer_id, run_id, batch_number, company_id, effective_date, amount_cents) VALUES ($1, $2, $3, $4, $5, $6)",
            store.table("bank_expected_debits")
        ),
        vec![
            Value::from(payer_id.to_owned()),
            Value::from(debit.run_id),
            Value::from(i64::from(debit.batch_number)),
            Value::from(debit.company_id.clone()),
            date_value(debit.effective_date),
            Value::from(cents(debit.amount, "batch total")?),
        ],
    ))
    .await?;
    let mut rows = Vec::with_capacity(debit.entries.len());
    for entry in &debit.entries {
        rows.push(vec![
            Value::from(payer_id.to_owned()),
            Value::from(debit.run_id),
            Value::from(i64::from(debit.batch_number)),
            Value::from(entry.trace_number.clone()),
            Value::from(entry.remittance_id),
            Value::from(cents(entry.amount, "entry amount")?),
        ]);
    }
    let insert =
        format!("INSERT INTO {} (payer_id, run_id, batch_number, trace_number, remittance_id, amount_cents) VALUES ", store.table("bank_expected_entries"));
    claimtrail_store::insert_rows(store, tx, &insert, rows, "").await
}

/// The payer's batches expected at the bank, with their entries.
pub async fn expected_debits(store: &Store, conn: &impl ConnectionTrait, payer_id: &str) -> Result<Vec<ExpectedDebit>, StoreError> {
    let rows = conn
        .query_all_raw(stmt(
            store,
            format!(
                "SELECT run_id, batch_number, company_id, effective_date, amount_cents FROM {} WHERE payer_id = $1 ORDER BY run_id, batch_number",
                store.table("bank_expected_debits")
            ),
            vec![Value::from(payer_id.to_owned())],
        ))
        .await?;
    let mut debits = Vec::with_capacity(rows.len());
    for row in rows {
        let batch_number: i64 = row.try_get_by_index(1)?;
        debits.push(ExpectedDebit {
            run_id: row.try_get_by_index(0)?,
            batch_number: u32::try_from(batch_number).map_err(|_| StoreError::Corrupt(format!("batch number {batch_number}")))?,
            company_id: row.try_get_by_index(2)?,
            effective_date: read_date(&row, 3)?,
            amount: Money::from_cents(row.try_get_by_index(4)?),
            entries: Vec::new(),
        });
    }
    let rows = conn
        .query_all_raw(stmt(
            store,
            format!(
                "SELECT run_id, batch_number, trace_number, remittance_id, amount_cents FROM {} WHERE payer_id = $1 ORDER BY trace_number",
                store.table("bank_expected_entries")
            ),
            vec![Value::from(payer_id.to_owned())],
        ))
        .await?;
    for row in rows {
        let (run_id, batch_number): (Uuid, i64) = (row.try_get_by_index(0)?, row.try_get_by_index(1)?);
        let entry = ExpectedEntry {
            trace_number: row.try_get_by_index(2)?,
            remittance_id: row.try_get_by_index(3)?,
            amount: Money::from_cents(row.try_get_by_index(4)?),
        };
        if let Some(debit) = debits.iter_mut().find(|debit| debit.run_id == run_id && i64::from(debit.batch_number) == batch_number) {
            debit.entries.push(entry);
        }
    }
    Ok(debits)
}

/// What earlier statements of the payer applied: batches matched, traces returned, changes recorded.
pub async fn applied(store: &Store, conn: &impl ConnectionTrait, payer_id: &str) -> Result<Applied, StoreError> {
    let mut applied = Applied::default();
    let rows = conn
        .query_all_raw(stmt(
            store,
            format!("SELECT run_id, batch_number FROM {} WHERE payer_id = $1", store.table("bank_matches")),
            vec![Value::from(payer_id.to_owned())],
        ))
        .await?;
    for row in rows {
        let batch_number: i64 = row.try_get_by_index(1)?;
        applied.matched_batches.insert(BatchKey { run_id: row.try_get_by_index(0)?, batch_number: batch_number as u32 });
    }
    let rows = conn
        .query_all_raw(stmt(
            store,
            format!("SELECT kind, trace_number, reason_code FROM {} WHERE payer_id = $1", store.table("bank_returns")),
            vec![Value::from(payer_id.to_owned())],
        ))
        .await?;
    for row in rows {
        let (kind, trace, reason): (String, String, String) = (row.try_get_by_index(0)?, row.try_get_by_index(1)?, row.try_get_by_index(2)?);
        if kind == "return" {
            applied.returned_traces.insert(trace);
        } else {
            applied.changes.insert((trace, reason));
        }
    }
    Ok(applied)
}

/// Whether the payer already imported the statement `statement_id`.
pub async fn statement_exists(store: &Store, conn: &impl ConnectionTrait, payer_id: &str, statement_id: &str) -> Result<bool, StoreError> {
    let row = conn
        .query_one_raw(stmt(
            store,
            format!("SELECT 1 FROM {} WHERE payer_id = $1 AND statement_id = $2", store.table("bank_statements")),
            vec![Value::from(payer_id.to_owned()), Value::from(statement_id.to_owned())],
        ))
        .await?;
    Ok(row.is_some())
}

/// Stores a statement, its lines and everything its reconciliation did, in `tx`.
/// `exception_ids` are the ids of `reconciliation.exceptions`, in order.
#[allow(clippy::too_many_arguments)]
pub async fn insert_statement(
    store: &Store,
    tx: &impl ConnectionTrait,
    payer_id: &str,
    imported_by: &str,
    statement: &BankStatement,
    content_sha3_256: &str,
    reconciliation: &Reconciliation,
    exception_ids: &[Uuid],
    opened_on: time::Date,
) -> Result<(), StoreError> {
    assert_eq!(exception_ids.len(), reconciliation.exceptions.len(), "one id per exception");
    let payer = || Value::from(payer_id.to_owned());
    let statement_id = || Value::from(statement.statement_id.clone());
    tx.execute_raw(stmt(
        store,
        format!(
            "INSERT INTO {} (payer_id, statement_id, format, account, from_date, to_date, content_sha3_256, line_count, imported_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            store.table("bank_statements")
        ),
        vec![
            payer(),
            statement_id(),
            Value::from(statement.format.as_str()),
            Value::from(statement.account.clone()),
            date_value(statement.from_date),
            date_value(statement.to_date),
            Value::from(content_sha3_256.to_owned()),
            Value::from(statement.lines.len() as i64),
            Value::from(imported_by.to_owned()),
        ],
    ))
    .await?;
    let mut rows = Vec::with_capacity(statement.lines.len());
    for line in &statement.lines {
        let info = line.return_info.as_ref();
        rows.push(vec![
            payer(),
            statement_id(),
            Value::from(line.position.clone()),
            Value::from(line.direction.as_str()),
            Value::from(line.kind.as_str()),
            Value::from(cents(line.amount, &line.position)?),
            date_value(line.date),
            Value::from(line.type_code.clone()),
            Value::from(line.reference.clone()),
            Value::from(info.map(|info| info.original_trace.clone())),
            Value::from(info.map(|info| info.reason.to_string())),
            Value::from(info.and_then(|info| info.corrected_data.clone())),
        ]);
    }
    let insert = format!(
        "INSERT INTO {} (payer_id, statement_id, position, direction, kind, amount_cents, value_date, type_code, reference, original_trace, reason_code, corrected_data) VALUES ",
        store.table("bank_statement_lines")
    );
    claimtrail_store::insert_rows(store, tx, &insert, rows, "").await?;

    let mut rows = Vec::new();
    for matched in &reconciliation.matched {
        rows.push(vec![
            payer(),
            statement_id(),
            Value::from(matched.line.position.clone()),
            Value::from(matched.batch.run_id),
            Value::from(i64::from(matched.batch.batch_number)),
            Value::from(cents(matched.line.amount, &matched.line.position)?),
            date_value(matched.line.date),
        ]);
    }
    let insert =
        format!("INSERT INTO {} (payer_id, statement_id, position, run_id, batch_number, amount_cents, value_date) VALUES ", store.table("bank_matches"));
    claimtrail_store::insert_rows(store, tx, &insert, rows, "").await?;

    let mut rows = Vec::new();
    for returned in &reconciliation.returned {
        rows.push(return_row(
            payer_id,
            &statement.statement_id,
            "return",
            &returned.line,
            returned.batch,
            returned.remittance_id,
            &returned.trace_number,
            returned.reason.as_str(),
            "",
        )?);
    }
    for change in &reconciliation.changes {
        rows.push(return_row(
            payer_id,
            &statement.statement_id,
            "change",
            &change.line,
            change.batch,
            change.remittance_id,
            &change.trace_number,
            change.reason.as_str(),
            &change.corrected_data,
        )?);
    }
    let insert = format!(
        "INSERT INTO {} (payer_id, statement_id, position, kind, run_id, batch_number, remittance_id, trace_number, reason_code, amount_cents, corrected_data) VALUES ",
        store.table("bank_returns")
    );
    claimtrail_store::insert_rows(store, tx, &insert, rows, "").await?;

    let mut rows = Vec::new();
    for (exception, exception_id) in reconciliation.exceptions.iter().zip(exception_ids) {
        rows.push(vec![
            Value::from(*exception_id),
            payer(),
            statement_id(),
            Value::from(exception.kind.as_str()),
            Value::from(exception.line.as_ref().map(|line| line.position.clone())),
            Value::from(exception.batch.map(|batch| batch.run_id)),
            Value::from(exception.batch.map(|batch| i64::from(batch.batch_number))),
            Value::from(exception.trace_number.clone()),
            Value::from(exception.expected.map(|amount| cents(amount, "expected amount")).transpose()?),
            Value::from(exception.actual.map(|amount| cents(amount, "actual amount")).transpose()?),
            Value::from(exception.detail.clone()),
            Value::from("open"),
            date_value(opened_on),
        ]);
    }
    let insert = format!(
        "INSERT INTO {} (exception_id, payer_id, statement_id, kind, position, run_id, batch_number, trace_number, expected_cents, actual_cents, detail, status, opened_on) VALUES ",
        store.table("reconciliation_exceptions")
    );
    claimtrail_store::insert_rows(store, tx, &insert, rows, "").await
}

#[allow(clippy::too_many_arguments)]
fn return_row(
    payer_id: &str,
    statement_id: &str,
    kind: &str,
    line: &StatementLine,
    batch: BatchKey,
    remittance_id: Uuid,
    trace: &str,
    reason: &str,
    corrected_data: &str,
) -> Result<Vec<Value>, StoreError> {
    Ok(vec![
        Value::from(payer_id.to_owned()),
        Value::from(statement_id.to_owned()),
        Value::from(line.position.clone()),
        Value::from(kind.to_owned()),
        Value::from(batch.run_id),
        Value::from(i64::from(batch.batch_number)),
        Value::from(remittance_id),
        Value::from(trace.to_owned()),
        Value::from(reason.to_owned()),
        Value::from(cents(line.amount, &line.position)?),
        Value::from(corrected_data.to_owned()),
    ])
}

/// A stored match of a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMatch {
    pub position: String,
    pub batch: BatchKey,
    pub amount: Money,
    pub date: time::Date,
}

/// A stored return or notification of change of a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReturn {
    pub position: String,
    /// `return` or `change`.
    pub kind: String,
    pub batch: BatchKey,
    pub remittance_id: Uuid,
    pub trace_number: String,
    pub reason_code: String,
    pub amount: Money,
    pub corrected_data: String,
}

/// An exception as stored, with its resolution once resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredException {
    pub exception_id: Uuid,
    pub statement_id: String,
    pub kind: ExceptionKind,
    pub position: Option<String>,
    pub batch: Option<BatchKey>,
    pub trace_number: Option<String>,
    pub expected: Option<Money>,
    pub actual: Option<Money>,
    pub detail: String,
    /// `open` or `resolved`.
    pub status: String,
    pub resolved_by: Option<String>,
    pub resolution_reason: Option<String>,
    /// The day its statement was imported.
    pub opened_on: time::Date,
}

/// Everything a stored statement did: its format, line count, matches, returns and changes, and exceptions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredOutcome {
    pub format: String,
    pub line_count: i64,
    pub matches: Vec<StoredMatch>,
    pub returns: Vec<StoredReturn>,
    pub exceptions: Vec<StoredException>,
}

/// What the payer's statement `statement_id` did, if it was imported.
pub async fn statement_outcome(store: &Store, payer_id: &str, statement_id: &str) -> Result<Option<StoredOutcome>, StoreError> {
    let db = store.db();
    let values = || vec![Value::from(payer_id.to_owned()), Value::from(statement_id.to_owned())];
    let Some(row) = db
        .query_one_raw(stmt(
            store,
            format!("SELECT format, line_count FROM {} WHERE payer_id = $1 AND statement_id = $2", store.table("bank_statements")),
            values(),
        ))
        .await?
    else {
        return Ok(None);
    };
    let (format, line_count): (String, i64) = (row.try_get_by_index(0)?, row.try_get_by_index(1)?);
    let rows = db
        .query_all_raw(stmt(
            store,
            format!(
                "SELECT position, run_id, batch_number, amount_cents, value_date FROM {} WHERE payer_id = $1 AND statement_id = $2 ORDER BY run_id, batch_number",
                store.table("bank_matches")
            ),
            values(),
        ))
        .await?;
    let mut matches = Vec::with_capacity(rows.len());
    for row in rows {
        let batch_number: i64 = row.try_get_by_index(2)?;
        matches.push(StoredMatch {
            position: row.try_get_by_index(0)?,
            batch: BatchKey { run_id: row.try_get_by_index(1)?, batch_number: batch_number as u32 },
            amount: Money::from_cents(row.try_get_by_index(3)?),
            date: read_date(&row, 4)?,
        });
    }
    let rows = db
        .query_all_raw(stmt(
            store,
            format!(
                "SELECT position, kind, run_id, batch_number, remittance_id, trace_number, reason_code, amount_cents, corrected_data FROM {} \
                 WHERE payer_id = $1 AND statement_id = $2 ORDER BY trace_number, reason_code",
                store.table("bank_returns")
            ),
            values(),
        ))
        .await?;
    let mut returns = Vec::with_capacity(rows.len());
    for row in rows {
        let batch_number: i64 = row.try_get_by_index(3)?;
        returns.push(StoredReturn {
            position: row.try_get_by_index(0)?,
            kind: row.try_get_by_index(1)?,
            batch: BatchKey { run_id: row.try_get_by_index(2)?, batch_number: batch_number as u32 },
            remittance_id: row.try_get_by_index(4)?,
            trace_number: row.try_get_by_index(5)?,
            reason_code: row.try_get_by_index(6)?,
            amount: Money::from_cents(row.try_get_by_index(7)?),
            corrected_data: row.try_get_by_index(8)?,
        });
    }
    let exceptions = exceptions_where(store, "payer_id = $1 AND statement_id = $2", values()).await?;
    Ok(Some(StoredOutcome { format, line_count, matches, returns, exceptions }))
}

const EXCEPTION_COLUMNS: &str = "exception_id, statement_id, kind, position, run_id, batch_number, trace_number, expected_cents, actual_cents, detail, status, resolved_by, resolution_reason, opened_on";

async fn exceptions_where(store: &Store, condition: &str, values: Vec<Value>) -> Result<Vec<StoredException>, StoreError> {
    let rows = store
        .db()
        .query_all_raw(stmt(
            store,
            format!("SELECT {EXCEPTION_COLUMNS} FROM {} WHERE {condition} ORDER BY opened_at, exception_id", store.table("reconciliation_exceptions")),
            values,
        ))
        .await?;
    rows.iter().map(exception_of).collect()
}

fn exception_of(row: &QueryResult) -> Result<StoredException, StoreError> {
    let kind: String = row.try_get_by_index(2)?;
    let run_id: Option<Uuid> = row.try_get_by_index(4)?;
    let batch_number: Option<i64> = row.try_get_by_index(5)?;
    Ok(StoredException {
        exception_id: row.try_get_by_index(0)?,
        statement_id: row.try_get_by_index(1)?,
        kind: ExceptionKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("exception kind `{kind}`")))?,
        position: row.try_get_by_index(3)?,
        batch: run_id.zip(batch_number).map(|(run_id, batch_number)| BatchKey { run_id, batch_number: batch_number as u32 }),
        trace_number: row.try_get_by_index(6)?,
        expected: row.try_get_by_index::<Option<i64>>(7)?.map(Money::from_cents),
        actual: row.try_get_by_index::<Option<i64>>(8)?.map(Money::from_cents),
        detail: row.try_get_by_index(9)?,
        status: row.try_get_by_index(10)?,
        resolved_by: row.try_get_by_index(11)?,
        resolution_reason: row.try_get_by_index(12)?,
        opened_on: read_date(row, 13)?,
    })
}

/// The payer's exceptions, open ones only unless `include_resolved`.
pub async fn exceptions(store: &Store, payer_id: &str, include_resolved: bool) -> Result<Vec<StoredException>, StoreError> {
    let condition = if include_resolved { "payer_id = $1" } else { "payer_id = $1 AND status = 'open'" };
    exceptions_where(store, condition, vec![Value::from(payer_id.to_owned())]).await
}

/// Why an exception cannot be resolved.
#[derive(Debug, PartialEq, Eq)]
pub enum ResolveOutcome {
    Resolved(StoredException),
    NotFound,
    AlreadyResolved(StoredException),
}

/// Resolves the payer's open exception `exception_id` with `reason`, in `tx`.
pub async fn resolve_exception(
    store: &Store,
    tx: &impl ConnectionTrait,
    payer_id: &str,
    exception_id: Uuid,
    resolved_by: &str,
    reason: &str,
) -> Result<ResolveOutcome, StoreError> {
    let updated = tx
        .execute_raw(stmt(
            store,
            format!(
                "UPDATE {} SET status = 'resolved', resolved_by = $1, resolution_reason = $2, resolved_at = {} \
                 WHERE exception_id = $3 AND payer_id = $4 AND status = 'open'",
                store.table("reconciliation_exceptions"),
                store.types().now
            ),
            vec![Value::from(resolved_by.to_owned()), Value::from(reason.to_owned()), Value::from(exception_id), Value::from(payer_id.to_owned())],
        ))
        .await?
        .rows_affected();
    let row = tx
        .query_one_raw(stmt(
            store,
            format!("SELECT {EXCEPTION_COLUMNS} FROM {} WHERE exception_id = $1 AND payer_id = $2", store.table("reconciliation_exceptions")),
            vec![Value::from(exception_id), Value::from(payer_id.to_owned())],
        ))
        .await?;
    Ok(match (row, updated) {
        (None, _) => ResolveOutcome::NotFound,
        (Some(row), 0) => ResolveOutcome::AlreadyResolved(exception_of(&row)?),
        (Some(row), _) => ResolveOutcome::Resolved(exception_of(&row)?),
    })
}
