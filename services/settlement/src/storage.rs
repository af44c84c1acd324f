//! All of settlement's SQL: its migrations and the journal (ADR 0002: raw
//! SQL with the store's dynamic names); [`payments`] holds the payment runs'.

use std::collections::HashSet;

use claimtrail_events::Money;
use claimtrail_runtime::auth::PayerScope;
use claimtrail_store::{Migration, Store, StoreError, stmt};
use sea_orm::{ConnectionTrait, Value};
use uuid::Uuid;

use crate::domain::Entry;

pub mod bank;
pub mod payments;
pub mod pending;
pub mod schedules;
pub(crate) mod stored_lines;

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
        Migration { version: 3, name: "payments: payables, payees, holds, debts, runs, remittances, ACH batches", statements: payments::migration },
        Migration {
            version: 171,
            name: "payments: the payer's place in coordination of benefits (CLP02 2, 3)",
            statements: payments::payer_sequence_migration,
        },
        Migration { version: 201, name: "payments: a payee's account hold after an account-fault return", statements: payments::account_hold_migration },
        Migration { version: 181, name: "payments: forwarding balances (FB) and providers' refund checks (PLB 72)", statements: payments::refunds_migration },
        Migration {
            version: 211,
            name: "payments: a payable's lines in a table of their own; the index of unpaid payables only",
            statements: payments::payable_lines_migration,
        },
        Migration { version: 221, name: "payments: a remittance's texts compressed with lz4 on Postgres", statements: payments::remittance_lz4_migration },
        Migration {
            version: 231,
            name: "payments: the queue of unpaid payables; payables no longer updated when paid",
            statements: payments::unpaid_queue_migration,
        },
        Migration { version: 241, name: "payments: payers' payment cycles", statements: schedules::migration },
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

/// Stores a journal entry and its lines, in `tx`.
pub async fn insert_entry(store: &Store, tx: &impl ConnectionTrait, entry: &Entry) -> Result<(), StoreError> {
    insert_entries(store, tx, std::slice::from_ref(entry)).await
}

/// Stores journal entries and their lines, in `tx`: the entries in one
/// multi-row statement, then all of their lines in another (each chunked by
/// [`claimtrail_store::insert_rows`]), in the order given, so the lines take
/// the ids one entry at a time would give them.
pub async fn insert_entries(store: &Store, tx: &impl ConnectionTrait, entries: &[Entry]) -> Result<(), StoreError> {
    let mut rows = Vec::with_capacity(entries.len());
    let mut lines = Vec::with_capacity(entries.len() * 2);
    for entry in entries {
        let cents = |amount: Money| amount.cents().map_err(|e| StoreError::Corrupt(format!("journal entry of claim {}: {e}", entry.claim_id)));
        rows.push(vec![
            Value::from(entry.entry_id),
            Value::from(entry.claim_id),
            Value::from(entry.kind.as_str()),
            Value::from(entry.payer_id.clone()),
            Value::from(entry.billing_npi.clone()),
            Value::from(cents(entry.amount)?),
            Value::from(entry.memo.clone()),
        ]);
        for line in &entry.lines {
            lines.push(vec![Value::from(entry.entry_id), Value::from(line.account.clone()), Value::from(cents(line.debit)?), Value::from(cents(line.credit)?)]);
        }
    }
    let insert = format!("INSERT INTO {} (entry_id, claim_id, kind, payer_id, billing_npi, amount_cents, memo) VALUES ", store.table("journal_entries"));
    claimtrail_store::insert_rows(store, tx, &insert, rows, "").await?;
    let insert = format!("INSERT INTO {} (entry_id, account, debit_cents, credit_cents) VALUES ", store.table("journal_lines"));
    claimtrail_store::insert_rows(store, tx, &insert, lines, "").await?;
    Ok(())
}

/// Whether `claim_id` has a journal entry of `kind`.
pub async fn has_entry(store: &Store, conn: &impl ConnectionTrait, claim_id: Uuid, kind: crate::domain::EntryKind) -> Result<bool, StoreError> {
    let select = format!("SELECT 1 FROM {} WHERE claim_id = $1 AND kind = $2", store.table("journal_entries"));
    Ok(conn.query_one_raw(stmt(store, select, vec![Value::from(claim_id), Value::from(kind.as_str().to_owned())])).await?.is_some())
}

/// Claims per statement of the reads by claim ids (under SQLite's and Postgres's bind-parameter limits).
pub const CLAIMS_PER_READ: usize = 400;

/// Of `claim_ids`, those with a journal entry of `kind`: one statement per [`CLAIMS_PER_READ`] claims.
pub async fn claims_with_entry(
    store: &Store,
    conn: &impl ConnectionTrait,
    claim_ids: &[Uuid],
    kind: crate::domain::EntryKind,
) -> Result<HashSet<Uuid>, StoreError> {
    let mut with_entry = HashSet::new();
    for chunk in claim_ids.chunks(CLAIMS_PER_READ) {
        let placeholders: Vec<String> = (2..=chunk.len() + 1).map(|idx| format!("${idx}")).collect();
        let select = format!("SELECT claim_id FROM {} WHERE kind = $1 AND claim_id IN ({})", store.table("journal_entries"), placeholders.join(","));
        let mut values = vec![Value::from(kind.as_str().to_owned())];
        values.extend(chunk.iter().map(|claim_id| Value::from(*claim_id)));
        for row in conn.query_all_raw(stmt(store, select, values)).await? {
            with_entry.insert(row.try_get_by_index::<Uuid>(0)?);
        }
    }
    Ok(with_entry)
}

/// One stored entry with its lines, as the journal reads it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    pub entry_id: Uuid,
    pub amount: Money,
    pub memo: String,
    /// (account, debit, credit), in booking order.
    pub lines: Vec<(String, Money, Money)>,
}

/// The entries of `claim_id` for the payers `scope` reads, in booking order.
pub async fn entries_of(store: &Store, claim_id: Uuid, scope: &PayerScope) -> Result<Vec<StoredEntry>, StoreError> {
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
    let mut entries: Vec<StoredEntry> = Vec::new();
    for row in rows {
        let entry_id: Uuid = row.try_get_by_index(0)?;
        if entries.last().map(|e| e.entry_id) != Some(entry_id) {
            entries.push(StoredEntry { entry_id, amount: Money::from_cents(row.try_get_by_index(1)?), memo: row.try_get_by_index(2)?, lines: Vec::new() });
        }
        if let (Some(account), Some(entry)) = (row.try_get_by_index::<Option<String>>(3)?, entries.last_mut()) {
            entry.lines.push((account, Money::from_cents(row.try_get_by_index(4)?), Money::from_cents(row.try_get_by_index(5)?)));
        }
    }
    Ok(entries)
}

/// Debits and credits by account over the payers `scope` reads, in cents, by account name.
pub async fn balances(store: &Store, scope: &PayerScope) -> Result<Vec<(String, i64, i64)>, StoreError> {
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
    for row in rows {
        accounts.push((row.try_get_by_index(0)?, row.try_get_by_index(1)?, row.try_get_by_index(2)?));
    }
    Ok(accounts)
}

/// Rows and bytes of the tables settlement grows per claim, for the bench.
pub async fn footprint(store: &Store) -> Result<claimtrail_store::Footprint, StoreError> {
    claimtrail_store::footprint(store, &["journal_entries", "journal_lines", "outbox", "inbox"]).await
}
