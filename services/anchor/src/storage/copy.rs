//! The ledger append on Postgres by binary COPY, through tokio-postgres.
//!
//! A multi-row INSERT of the ledger row runs at about a third of the speed
//! of binary COPY on this machine (docs/benchmarks.md), and sea-orm cannot
//! COPY, so on Postgres the anchor writes its entries over a connection of
//! its own: one transaction per delivery batch that takes the writer lock
//! (the same `pg_advisory_xact_lock` as [`super::lock_writer`]), reads the
//! tail and COPYs the rows (four round trips: BEGIN, lock and tail in one
//! simple query; the COPY, prepared once per connection, and its end; COMMIT); if the unique event id index refuses one (an
//! event already appended), it rolls back and appends the others.
//!
//! That transaction commits before the consumer's own (which writes no inbox
//! rows for the anchor) and the acknowledgement. If the consumer's then
//! fails, or the acknowledgement is lost, the batch is delivered again and
//! the events found in the ledger are left out: the ledger's unique event ids
//! are the anchor's idempotency record, so every event is still appended
//! exactly once.
//!
//! TLS: the side channel connects without TLS. A database URL that asks for
//! it (`sslmode=require`, `verify-ca`, `verify-full`) keeps the anchor on the
//! multi-row INSERT inside the consumer's transaction.

use std::collections::HashSet;
use std::time::Duration;

use anyhow::Context as _;
use claimtrail_ledger::hash::{CHAIN_SEED, Hash};
use claimtrail_store::Store;

use crate::domain::Entry;
use tokio::sync::Mutex;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{ToSql, Type};

/// The anchor's COPY connection to Postgres, reconnected when it drops.
pub struct CopyWriter {
    database_url: String,
    table: String,
    /// The store's bound on one statement, applied to this session too.
    statement_timeout: Option<Duration>,
    client: Mutex<Option<Channel>>,
}

/// The open connection, with its COPY statement prepared once.
struct Channel {
    client: tokio_postgres::Client,
    copy: tokio_postgres::Statement,
}

/// How long connecting the COPY channel may take, unless the URL says (`connect_timeout=`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

impl CopyWriter {
    /// A writer for `store`'s ledger, or None when the store is not Postgres
    /// or its URL asks for TLS.
    pub fn for_store(store: &Store, database_url: &str) -> Option<CopyWriter> {
        let wants_tls = ["sslmode=require", "sslmode=verify-ca", "sslmode=verify-full"].iter().any(|mode| database_url.contains(mode));
        if !store.is_postgres() || wants_tls {
            return None;
        }
        let mut writer = CopyWriter::new(database_url, &store.table("ledger"));
        writer.statement_timeout = store.statement_timeout();
        Some(writer)
    }

    /// A writer for the ledger table `table` (schema-qualified, quoted as needed).
    pub fn new(database_url: &str, table: &str) -> CopyWriter {
        CopyWriter { database_url: database_url.to_owned(), table: table.to_owned(), statement_timeout: None, client: Mutex::new(None) }
    }

    /// Appends under the writer lock, in a transaction of its own: `build`
    /// gets the events already in the ledger (to leave out), the next index
    /// and the chain value before it, and yields the rows to write; they are
    /// built as the COPY streams, so hashing overlaps the server's work.
    ///
    /// Redeliveries are rare, so the first attempt does not look for events
    /// already appended: if the unique event id index refuses one, the
    /// transaction rolls back whole and the second attempt leaves them out.
    /// Returns the ledger size after the append.
    ///
    /// A lost or refused connection (the database down, or failing over) is
    /// returned as an unavailable [`claimtrail_store::StoreError`], so that the
    /// delivery waits for the database instead of counting towards dead-lettering.
    pub async fn append<F, I>(&self, event_ids: &[uuid::Uuid], build: F) -> anyhow::Result<u64>
    where
        F: FnMut(HashSet<uuid::Uuid>, u64, Hash) -> I,
        I: Iterator<Item = anyhow::Result<Entry>>,
    {
        self.append_rows(event_ids, build).await.map_err(|e| {
            let lost = e.chain().filter_map(|cause| cause.downcast_ref::<tokio_postgres::Error>()).any(connection_lost);
            if lost {
                let unavailable = sea_orm::DbErr::Conn(sea_orm::RuntimeErr::Internal(format!("the ledger's COPY channel: {e:#}")));
                anyhow::Error::new(claimtrail_store::StoreError::Db(unavailable))
            } else {
                e
            }
        })
    }

    async fn append_rows<F, I>(&self, event_ids: &[uuid::Uuid], mut build: F) -> anyhow::Result<u64>
    where
        F: FnMut(HashSet<uuid::Uuid>, u64, Hash) -> I,
        I: Iterator<Item = anyhow::Result<Entry>>,
    {
        let mut guard = self.client.lock().await;
        if guard.as_ref().is_none_or(|channel| channel.client.is_closed()) {
            // tokio-postgres reads a multi-host URL with target_session_attrs=read-write itself: it lands on the primary.
            let mut config: tokio_postgres::Config =
                self.database_url.parse().with_context(|| format!("parsing the database URL {}", claimtrail_store::redact_url(&self.database_url)))?;
            if config.get_connect_timeout().is_none() {
                config.connect_timeout(CONNECT_TIMEOUT);
            }
            if let Some(timeout) = self.statement_timeout
                && config.get_options().is_none()
            {
                config.options(format!("-c statement_timeout={}", timeout.as_millis()));
            }
            let (client, connection) = config
                .connect(tokio_postgres::NoTls)
                .await
                .with_context(|| format!("connecting the ledger's COPY channel to {}", claimtrail_store::redact_url(&self.database_url)))?;
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::warn!(error.message = %e, "the ledger's COPY connection closed");
                }
            });
            let copy = client.prepare(&format!("COPY {} (idx, event_id, leaf, leaf_hash, chain) FROM STDIN BINARY", self.table)).await?;
            *guard = Some(Channel { client, copy });
        }
        let channel = guard.as_ref().expect("connected above");
        // One round trip opens the transaction, takes the writer lock (the
        // key of [`super::lock_writer`]) and reads the tail; the COPY
        // statement is prepared; the commit is the last round trip. (The
        // index is read as text under another name: `ORDER BY idx` must
        // sort the column, not the text.)
        let begin = format!(
            "BEGIN; SELECT pg_advisory_xact_lock(hashtext({table_literal})); SELECT idx::text AS tail_idx, encode(chain, 'hex') FROM {table} ORDER BY idx DESC LIMIT 1",
            table_literal = sql_literal(&self.table),
            table = self.table,
        );
        let mut present = HashSet::new();
        let mut attempt = 0;
        loop {
            let result = async {
                let (next, chain) = begin_and_tail(&channel.client, &begin).await?;
                if attempt > 0 {
                    present = channel
                        .client
                        .query(&format!("SELECT event_id FROM {} WHERE event_id = ANY($1)", self.table), &[&event_ids])
                        .await?
                        .iter()
                        .map(|row| row.get(0))
                        .collect();
                }
                let size = copy_rows(&channel.client, &channel.copy, next, build(present.clone(), next, chain)).await?;
                channel.client.batch_execute("COMMIT").await?;
                Ok::<u64, CopyFailure>(size)
            }
            .await;
            match result {
                Ok(size) => return Ok(size),
                Err(failure) => {
                    // Leaves the session outside a transaction (a no-op, with a warning, when none is open).
                    if !channel.client.is_closed() {
                        let _ = channel.client.batch_execute("ROLLBACK").await;
                    }
                    match failure {
                        CopyFailure::Postgres(e) if attempt == 0 && e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                            // Rolled back; try again without the events already there.
                            tracing::info!("some events of the batch are in the ledger already (a redelivery); appending the others");
                            attempt += 1;
                        }
                        CopyFailure::Postgres(e) => return Err(e.into()),
                        CopyFailure::Rows(e) => return Err(e),
                    }
                }
            }
        }
    }
}

/// `text` as a SQL string literal.
fn sql_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Whether `error` is the connection's rather than the statement's: closed,
/// refused, timed out (no server error at all), or the server ending the
/// session (class 08, 57P01..57P03).
fn connection_lost(error: &tokio_postgres::Error) -> bool {
    match error.as_db_error() {
        None => true,
        Some(db) => {
            let code = db.code().code();
            code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03")
        }
    }
}

enum CopyFailure {
    Postgres(tokio_postgres::Error),
    Rows(anyhow::Error),
}

impl From<tokio_postgres::Error> for CopyFailure {
    fn from(e: tokio_postgres::Error) -> CopyFailure {
        CopyFailure::Postgres(e)
    }
}

/// Runs `begin` (BEGIN, the writer lock, the tail query) as one simple
/// query; returns the next index and the chain value of the last entry.
async fn begin_and_tail(client: &tokio_postgres::Client, begin: &str) -> Result<(u64, Hash), CopyFailure> {
    let messages = client.simple_query(begin).await?;
    let tail = messages.iter().find_map(|message| match message {
        tokio_postgres::SimpleQueryMessage::Row(row) if row.len() == 2 => Some(row),
        _ => None,
    });
    let Some(row) = tail else {
        return Ok((0, CHAIN_SEED));
    };
    let tail = || -> anyhow::Result<(u64, Hash)> {
        let idx: i64 = row.get(0).context("the ledger tail has no index")?.parse().context("the ledger tail's index is not an integer")?;
        let chain: Hash = from_hex(row.get(1).context("the ledger tail has no chain value")?)
            .ok_or_else(|| anyhow::anyhow!("ledger entry {idx} has a chain value that is not 32 bytes"))?;
        Ok((u64::try_from(idx).context("negative ledger index")? + 1, chain))
    };
    tail().map_err(CopyFailure::Rows)
}

/// 64 hex digits as 32 bytes.
fn from_hex(text: &str) -> Option<Hash> {
    let digits = text.as_bytes();
    if digits.len() != 64 {
        return None;
    }
    let mut hash = [0u8; 32];
    for (byte, pair) in hash.iter_mut().zip(digits.chunks(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(hash)
}

/// COPYs `rows` with the prepared `copy`; returns the size after the last (`next` when there are none).
async fn copy_rows(
    client: &tokio_postgres::Client,
    copy: &tokio_postgres::Statement,
    next: u64,
    rows: impl Iterator<Item = anyhow::Result<Entry>>,
) -> Result<u64, CopyFailure> {
    let mut rows = rows.peekable();
    if rows.peek().is_none() {
        return Ok(next);
    }
    let sink = client.copy_in(copy).await?;
    let writer = BinaryCopyInWriter::new(sink, &[Type::INT8, Type::UUID, Type::BYTEA, Type::BYTEA, Type::BYTEA]);
    let mut writer = std::pin::pin!(writer);
    let mut size = next;
    for row in rows {
        let row = row.map_err(CopyFailure::Rows)?;
        let (leaf, leaf_hash, chain) = (row.leaf.as_slice(), row.leaf_hash.as_slice(), row.chain.as_slice());
        let values: [&(dyn ToSql + Sync); 5] = [&row.index, &row.event_id, &leaf, &leaf_hash, &chain];
        writer.as_mut().write(&values).await?;
        size = row.index as u64 + 1;
    }
    writer.finish().await?;
    Ok(size)
}
