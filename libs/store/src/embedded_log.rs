//! The SQL of the embedded event log of `claimtrail up`
//! (`claimtrail_bus::embedded`): its own tables (each durable consumer's
//! cursor per source, dead letters, and the log of events published from
//! outside an outbox) and its reads of the producing services' outboxes.
//! The bus keeps the delivery logic; every statement is here.

use sea_orm::{ConnectionTrait, QueryResult, Value};
use uuid::Uuid;

use crate::{Migration, Store, StoreError, outbox, stmt};

/// The log's own tables: cursors and dead letters (its external log is an
/// outbox, created with the store's outbox migrations).
pub fn migrations() -> Vec<Migration> {
    vec![Migration {
        version: 1,
        name: "cursors and dead letters",
        statements: |store| {
            let t = store.types();
            vec![
                format!(
                    "CREATE TABLE {} (consumer TEXT NOT NULL, source TEXT NOT NULL, acked_seq {} NOT NULL, PRIMARY KEY (consumer, source))",
                    store.table("cursors"),
                    t.bigint
                ),
                format!(
                    "CREATE TABLE {} (dead_letter_id {}, service TEXT NOT NULL, subject TEXT NOT NULL, reason TEXT NOT NULL, deliveries {} NOT NULL, body {} NOT NULL, created_at {} NOT NULL DEFAULT {})",
                    store.table("dead_letters"),
                    t.id,
                    t.bigint,
                    t.bytes,
                    t.timestamp,
                    t.now
                ),
            ]
        },
    }]
}

/// One event published from outside an outbox, for the log's own outbox.
pub struct ExternalEvent<'a> {
    pub event_id: Uuid,
    pub event_type: &'a str,
    pub aggregate_id: String,
    pub aggregate_seq: i64,
    pub body: &'a [u8],
}

/// Appends `event` to the log's own outbox, in `conn`; the event id is its
/// dedupe key (a second append of it does nothing).
pub async fn append_external(store: &Store, conn: &impl ConnectionTrait, event: ExternalEvent<'_>) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO {} (event_id, event_type, aggregate_id, aggregate_seq, body, published_at) VALUES ($1, $2, $3, $4, $5, {}) ON CONFLICT (event_id) DO NOTHING",
        store.table("outbox"),
        store.types().now
    );
    let values = vec![
        Value::from(event.event_id),
        Value::from(event.event_type.to_owned()),
        Value::from(event.aggregate_id),
        Value::from(event.aggregate_seq),
        Value::from(event.body.to_vec()),
    ];
    conn.execute_raw(stmt(store, sql, values)).await?;
    Ok(())
}

/// The sequence up to which `consumer` acknowledged `source`; 0 before its first.
pub async fn cursor(store: &Store, consumer: &str, source: &str) -> Result<i64, StoreError> {
    let sql = format!("SELECT acked_seq FROM {} WHERE consumer = $1 AND source = $2", store.table("cursors"));
    let row = store.db().query_one_raw(stmt(store, sql, vec![Value::from(consumer.to_owned()), Value::from(source.to_owned())])).await?;
    Ok(match row {
        Some(row) => row.try_get_by_index(0)?,
        None => 0,
    })
}

/// Stores `consumer`'s cursor of `source` at `acked_seq`.
pub async fn store_cursor(store: &Store, consumer: &str, source: &str, acked_seq: i64) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO {} (consumer, source, acked_seq) VALUES ($1, $2, $3) ON CONFLICT (consumer, source) DO UPDATE SET acked_seq = excluded.acked_seq",
        store.table("cursors")
    );
    let values = vec![Value::from(consumer.to_owned()), Value::from(source.to_owned()), Value::from(acked_seq)];
    store.db().execute_raw(stmt(store, sql, values)).await?;
    Ok(())
}

/// A message that could not be handled, kept with why.
pub struct DeadLetter<'a> {
    pub service: &'a str,
    pub subject: &'a str,
    pub reason: &'a str,
    pub deliveries: i64,
    pub body: &'a [u8],
}

/// Keeps `letter` in the log's dead letters.
pub async fn insert_dead_letter(store: &Store, letter: DeadLetter<'_>) -> Result<(), StoreError> {
    let sql = format!("INSERT INTO {} (service, subject, reason, deliveries, body) VALUES ($1, $2, $3, $4, $5)", store.table("dead_letters"));
    let values = vec![
        Value::from(letter.service.to_owned()),
        Value::from(letter.subject.to_owned()),
        Value::from(letter.reason.to_owned()),
        Value::from(letter.deliveries),
        Value::from(letter.body.to_vec()),
    ];
    store.db().execute_raw(stmt(store, sql, values)).await?;
    Ok(())
}

/// An outbox read as the log: its table and its producer batches (`outbox_batches`).
#[derive(Debug, Clone)]
pub struct LogSource {
    pub table: String,
    pub batches: String,
}

/// One log row: its type, its bytes and the producer's batch proof.
#[derive(Debug, Clone)]
pub struct LogRow {
    pub event_type: String,
    pub body: Vec<u8>,
    pub batch: Option<String>,
}

impl LogRow {
    /// From `event_type, body, <outbox::BATCH_COLUMNS>` starting at column `first`.
    fn from_row(row: &QueryResult, first: usize) -> Result<LogRow, StoreError> {
        Ok(LogRow { event_type: row.try_get_by_index(first)?, body: row.try_get_by_index(first + 1)?, batch: outbox::batch_proof(row, first + 2)? })
    }
}

/// The statement reading a window of `source` for `n_event_types` event
/// types, built once per subscription: `$1 < seq <= $2`, the types, then the limit.
pub fn window_sql(source: &LogSource, n_event_types: usize) -> String {
    let types: Vec<String> = (0..n_event_types).map(|idx| format!("${}", idx + 3)).collect();
    format!(
        "SELECT o.seq, o.event_type, o.body, {} FROM {} o LEFT JOIN {} b ON b.batch_id = o.batch_id \
         WHERE o.seq > $1 AND o.seq <= $2 AND o.event_type IN ({}) ORDER BY o.seq LIMIT ${}",
        outbox::BATCH_COLUMNS,
        source.table,
        source.batches,
        types.join(","),
        n_event_types + 3
    )
}

/// The rows of `event_types` with `after < seq <= upto`, at most `limit`, in
/// order, by the statement [`window_sql`] built.
pub async fn read_window(
    store: &Store,
    window_sql: &str,
    after: i64,
    upto: i64,
    event_types: &[String],
    limit: usize,
) -> Result<Vec<(i64, LogRow)>, StoreError> {
    let mut values = vec![Value::from(after), Value::from(upto)];
    values.extend(event_types.iter().cloned().map(Value::from));
    values.push(Value::from(limit as i64));
    let rows = store.db().query_all_raw(stmt(store, window_sql.to_owned(), values)).await?;
    rows.iter().map(|row| Ok((row.try_get_by_index(0)?, LogRow::from_row(row, 1)?))).collect()
}

/// The row of `source` at `seq`, if any.
pub async fn read_one(store: &Store, source: &LogSource, seq: i64) -> Result<Option<LogRow>, StoreError> {
    let sql = format!(
        "SELECT o.event_type, o.body, {} FROM {} o LEFT JOIN {} b ON b.batch_id = o.batch_id WHERE o.seq = $1",
        outbox::BATCH_COLUMNS,
        source.table,
        source.batches
    );
    match store.db().query_one_raw(stmt(store, sql, vec![Value::from(seq)])).await? {
        Some(row) => Ok(Some(LogRow::from_row(&row, 0)?)),
        None => Ok(None),
    }
}

/// The statement reading the last sequence number of every source at once.
pub fn heads_sql(sources: &[LogSource]) -> String {
    let heads: Vec<String> = sources.iter().map(|source| format!("(SELECT COALESCE(MAX(seq), 0) FROM {})", source.table)).collect();
    format!("SELECT {}", heads.join(", "))
}

/// The last sequence number of each of `n_sources` sources, by the statement [`heads_sql`] built.
pub async fn heads(store: &Store, heads_sql: &str, n_sources: usize) -> Result<Vec<i64>, StoreError> {
    let row = store
        .db()
        .query_one_raw(stmt(store, heads_sql.to_owned(), vec![]))
        .await?
        .ok_or_else(|| StoreError::Corrupt("no row for the sources' heads".into()))?;
    (0..n_sources).map(|idx| Ok(row.try_get_by_index::<i64>(idx)?)).collect()
}

/// How many rows of `source` come after `seq`.
pub async fn count_after(store: &Store, source: &LogSource, seq: i64) -> Result<i64, StoreError> {
    let sql = format!("SELECT COUNT(*) FROM {} WHERE seq > $1", source.table);
    let row = store.db().query_one_raw(stmt(store, sql, vec![Value::from(seq)])).await?.ok_or_else(|| StoreError::Corrupt("no row for a count".into()))?;
    Ok(row.try_get_by_index(0)?)
}
