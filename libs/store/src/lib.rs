//! Storage for every Claimtrail service: sea-orm connections to Postgres
//! (production) or SQLite (embedded), versioned migrations, the transactional
//! outbox and the inbox of processed events.
//!
//! # Layout
//! - [`Store`]: one service's connection, and the names of its tables.
//!   On Postgres every service owns a schema (`<prefix>_<service>`); on SQLite
//!   every table name carries the service as a prefix instead, because
//!   attached databases are not atomic together.
//! - [`migrate`]: the versioned migration runner (per component, in one
//!   transaction each, serialised between processes).
//! - [`outbox`]: append events in the effect's transaction; claim unpublished
//!   rows for the relay (`FOR UPDATE SKIP LOCKED`), mark them after the ack.
//!   The events of one append are one producer batch, signed once.
//! - [`inbox`]: record a processed event id once (`ON CONFLICT DO NOTHING`).
//! - [`hosts`]: libpq's multi-host URL (`h1,h2` with
//!   `target_session_attrs=read-write`) for sqlx: the pool picks the primary
//!   and follows it through a failover.
//! - [`registry`]: the shared table where services publish their producer keys.
//! - [`embedded_log`]: the statements of the embedded event log of `claimtrail up`
//!   (cursors, dead letters, reads of the outboxes as the log).
//! - [`footprint`]: rows and bytes of a service's tables (for the bench).
//!
//! Architecture invariant: this crate is the only one that knows what the
//! outbox and inbox tables look like (and the producer key registry);
//! services own their other tables but go through [`Store::table`] for names.

pub mod embedded_log;
pub mod hosts;
pub mod inbox;
pub mod lease;
pub mod migrate;
pub mod outbox;
pub mod registry;

use std::time::Duration;

use sea_orm::{ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, TransactionTrait};

pub use migrate::Migration;
pub use sea_orm;

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Db(#[from] DbErr),
    #[error(transparent)]
    Event(#[from] claimtrail_events::EventError),
    #[error("invalid store configuration: {0}")]
    Config(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Whether the database could not be reached (see [`is_unavailable`]):
    /// worth retrying later, not a fault of the request.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Db(error) if is_unavailable(error))
    }

    /// Whether the database's disk is full (see [`is_disk_full`]).
    pub fn is_disk_full(&self) -> bool {
        matches!(self, StoreError::Db(error) if is_disk_full(error))
    }

    /// Whether a unique index refused the write: another writer stored the same thing first.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Db(error) if matches!(error.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))))
    }
}

/// Whether `error` means the database's disk (or its quota) is full: SQLite's
/// `SQLITE_FULL` (13, what it returns when a write meets ENOSPC) or Postgres's
/// class 53 `disk_full` (53100). Nothing of the failed transaction was
/// applied; writes can succeed again once space is freed.
pub fn is_disk_full(error: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx};
    match error {
        DbErr::Conn(RuntimeErr::SqlxError(inner)) | DbErr::Exec(RuntimeErr::SqlxError(inner)) | DbErr::Query(RuntimeErr::SqlxError(inner)) => {
            match inner.as_ref() {
                sqlx::Error::Database(database) => database.code().is_some_and(|code| matches!(code.as_ref(), "13" | "53100")),
                sqlx::Error::Io(io) => io.raw_os_error() == Some(28) || io.kind() == std::io::ErrorKind::StorageFull,
                _ => false,
            }
        }
        _ => false,
    }
}

/// How long a Postgres query waits for a pooled connection before it fails
/// as unavailable: bounded, so that while the database is down requests are
/// answered 503 within seconds instead of hanging (SQLite keeps its own limit).
pub const POSTGRES_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// The default bound on one Postgres statement (the server's
/// `statement_timeout`): a statement stuck on a lock or a stalled disk fails
/// after it instead of holding its request and connection.
pub const STATEMENT_TIMEOUT_DEFAULT: Duration = Duration::from_secs(30);

/// How long [`Store::ping`] waits for an answer: a database that accepts
/// connections but does not answer is as unreachable as one that is down.
pub const PING_TIMEOUT: Duration = Duration::from_secs(3);

/// Whether `error` means the database could not be reached, rather than that
/// a statement failed: no connection within the pool's limit, a connection
/// lost or refused (I/O, TLS, protocol), or the server ending sessions
/// (SQLSTATE class 08 connection exception, 57P01..57P03 shutdown and
/// "cannot connect now" while it starts), or a statement cancelled by the
/// statement timeout (57014: the database is hung or overloaded, see
/// [`StoreConfig::statement_timeout`]).
pub fn is_unavailable(error: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx};
    match error {
        DbErr::ConnectionAcquire(_) => true,
        DbErr::Conn(RuntimeErr::SqlxError(inner)) | DbErr::Exec(RuntimeErr::SqlxError(inner)) | DbErr::Query(RuntimeErr::SqlxError(inner)) => {
            match inner.as_ref() {
                sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => true,
                sqlx::Error::Database(database) => {
                    database.code().is_some_and(|code| code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03" | "57014"))
                }
                _ => false,
            }
        }
        DbErr::Conn(_) => true,
        _ => false,
    }
}

/// How to reach the database and name things in it.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// `postgres://...` or `sqlite://path?mode=rwc`.
    pub database_url: String,
    /// The owning service, e.g. `intake`.
    pub service: String,
    /// Name prefix shared by one stack (schemas, streams, subjects).
    pub prefix: String,
    pub max_connections: u32,
    /// Postgres's `statement_timeout` for every session of the pool (None:
    /// the server's own setting). Not used on SQLite.
    pub statement_timeout: Option<Duration>,
}

/// One service's database handle and table naming.
#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
    /// Connections for reads outside a transaction: on SQLite a pool of
    /// read-only connections beside the one writer; on Postgres `db`.
    reader: DatabaseConnection,
    backend: DbBackend,
    service: String,
    /// Postgres schema of this service, quoted; None on SQLite.
    schema: Option<String>,
    /// Table-name prefix on SQLite.
    table_prefix: String,
    statement_timeout: Option<Duration>,
}

impl Store {
    pub async fn connect(config: &StoreConfig) -> Result<Store, StoreError> {
        validate_name("service", &config.service)?;
        if !config.prefix.is_empty() {
            validate_name("prefix", &config.prefix)?;
        }
        let is_sqlite = config.database_url.starts_with("sqlite:");
        if !is_sqlite && !config.database_url.starts_with("postgres://") && !config.database_url.starts_with("postgresql://") {
            return Err(StoreError::Config(format!(
                "database URL must start with postgres://, postgresql:// or sqlite: (got `{}`)",
                redact_url(&config.database_url)
            )));
        }
        // Several hosts (or one that must take writes): connect to the primary, then follow it.
        let hosts = if is_sqlite { None } else { Some(hosts::parse(&config.database_url)?).filter(hosts::Hosts::is_selective) };
        let (url, candidates) = match &hosts {
            Some(hosts) => {
                let candidates = hosts::options(hosts)?;
                let primary = hosts::find_primary(&candidates, hosts.read_write).await?;
                let idx = candidates.iter().position(|candidate| hosts::address(candidate) == hosts::address(&primary)).unwrap_or(0);
                (hosts.urls[idx].clone(), candidates)
            }
            None => (config.database_url.clone(), Vec::new()),
        };
        let mut options = ConnectOptions::new(url);
        if !is_sqlite && let Some(timeout) = config.statement_timeout {
            options.statement_timeout(timeout);
        }
        if hosts.as_ref().is_some_and(|hosts| hosts.read_write) {
            // A connection that reaches a standby (the primary was demoted meanwhile) is refused, never used.
            options.map_sqlx_postgres_pool_opts(|pool| {
                pool.after_connect(|conn, _| Box::pin(async move { if hosts::is_read_write(conn).await? { Ok(()) } else { Err(hosts::read_only_error()) } }))
            });
        }
        options
            .max_connections(if is_sqlite { 1 } else { config.max_connections.max(1) })
            .min_connections(if is_sqlite { 1 } else { 0 })
            .acquire_timeout(if is_sqlite { Duration::from_secs(30) } else { POSTGRES_ACQUIRE_TIMEOUT })
            .sqlx_logging(false);
        if is_sqlite {
            options.map_sqlx_sqlite_opts(|opts| {
                sqlite_cache(opts)
                    .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Full)
                    .busy_timeout(Duration::from_secs(30))
                    .foreign_keys(true)
            });
            options.map_sqlx_sqlite_pool_opts(|pool| pool.after_release(|conn, _| Box::pin(release_sqlite_writer(conn))));
        }
        let db = Database::connect(options).await?;
        if let Some(hosts) = &hosts {
            tokio::spawn(hosts::follow_primary(db.get_postgres_connection_pool().clone(), candidates, hosts.read_write));
        }
        let reader = if is_sqlite {
            // Opened after the writer, which created the file and set WAL mode (a property of the file).
            let mut options = ConnectOptions::new(config.database_url.clone());
            options
                .max_connections(SQLITE_READERS)
                .min_connections(0)
                .acquire_timeout(Duration::from_secs(30))
                .sqlx_logging(false)
                .map_sqlx_sqlite_opts(|opts| sqlite_cache(opts).read_only(true).create_if_missing(false).busy_timeout(Duration::from_secs(30)));
            Database::connect(options).await?
        } else {
            db.clone()
        };
        let backend = db.get_database_backend();
        let joined = if config.prefix.is_empty() { config.service.clone() } else { format!("{}_{}", config.prefix, config.service) };
        let (schema, table_prefix) = match backend {
            DbBackend::Postgres => (Some(format!("\"{joined}\"")), String::new()),
            _ => (None, format!("{joined}_")),
        };
        Ok(Store { db, reader, backend, service: config.service.clone(), schema, table_prefix, statement_timeout: config.statement_timeout })
    }

    /// Another service's handle on the same connection pool (embedded mode:
    /// every service in one SQLite file, one writer).
    pub fn for_service(&self, service: &str, prefix: &str) -> Result<Store, StoreError> {
        validate_name("service", service)?;
        let joined = if prefix.is_empty() { service.to_owned() } else { format!("{prefix}_{service}") };
        let (schema, table_prefix) = match self.backend {
            DbBackend::Postgres => (Some(format!("\"{joined}\"")), String::new()),
            _ => (None, format!("{joined}_")),
        };
        Ok(Store {
            db: self.db.clone(),
            reader: self.reader.clone(),
            backend: self.backend,
            service: service.to_owned(),
            schema,
            table_prefix,
            statement_timeout: self.statement_timeout,
        })
    }

    /// The sea-orm connection (a pool). On SQLite it is the one writer.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Connections for reads outside any transaction, which see the last
    /// committed state: on SQLite a pool of read-only connections (WAL lets
    /// them read while the one writer writes, each on a thread of its own),
    /// on Postgres the same pool as [`Store::db`]. Reads that must see a
    /// transaction's own writes, or that decide a write, go in that transaction.
    pub fn reader(&self) -> &DatabaseConnection {
        &self.reader
    }

    /// This handle with every statement sent to the read connections
    /// ([`Store::reader`]): for one component reading another's tables from
    /// inside a transaction of its own, which in embedded mode holds the one
    /// writer (reading through [`Store::db`] would wait for itself). Only reads.
    pub fn reading(&self) -> Store {
        Store { db: self.reader.clone(), ..self.clone() }
    }

    pub fn backend(&self) -> DbBackend {
        self.backend
    }

    pub fn is_postgres(&self) -> bool {
        self.backend == DbBackend::Postgres
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    /// The quoted, qualified name of one of this service's tables.
    pub fn table(&self, name: &str) -> String {
        match &self.schema {
            Some(schema) => format!("{schema}.\"{name}\""),
            None => format!("\"{}{name}\"", self.table_prefix),
        }
    }

    /// The quoted name of an index on one of this service's tables.
    pub fn index(&self, name: &str) -> String {
        match &self.schema {
            Some(_) => format!("\"{name}\""),
            None => format!("\"{}{name}\"", self.table_prefix),
        }
    }

    /// An index of this service's as `DROP INDEX` names it (with its schema on Postgres).
    pub fn index_path(&self, name: &str) -> String {
        match &self.schema {
            Some(schema) => format!("{schema}.{}", self.index(name)),
            None => self.index(name),
        }
    }

    /// Backend-specific SQL type names, so migrations read the same on both.
    pub fn types(&self) -> SqlTypes {
        match self.backend {
            DbBackend::Postgres => SqlTypes {
                id: "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
                uuid: "UUID",
                bytes: "BYTEA",
                timestamp: "TIMESTAMPTZ",
                now: "now()",
                bigint: "BIGINT",
            },
            _ => SqlTypes {
                id: "INTEGER PRIMARY KEY AUTOINCREMENT",
                uuid: "BLOB",
                bytes: "BLOB",
                timestamp: "TEXT",
                now: "CURRENT_TIMESTAMP",
                bigint: "INTEGER",
            },
        }
    }

    /// Rows per multi-row insert. SQLite looks bound parameters up by a linear
    /// scan, so a statement with n parameters costs O(n²) to bind: keep its
    /// statements small. Postgres prefers fewer round trips (and allows 65,535
    /// parameters).
    pub fn rows_per_insert(&self) -> usize {
        if self.is_postgres() { 500 } else { 100 }
    }

    pub async fn begin(&self) -> Result<DatabaseTransaction, StoreError> {
        Ok(self.db.begin().await?)
    }

    /// Answers whether the database is reachable (for /readyz), within [`PING_TIMEOUT`].
    pub async fn ping(&self) -> bool {
        matches!(tokio::time::timeout(PING_TIMEOUT, self.db.ping()).await, Ok(Ok(())))
    }

    /// The bound on one Postgres statement ([`StoreConfig::statement_timeout`]).
    pub fn statement_timeout(&self) -> Option<Duration> {
        self.statement_timeout
    }

    /// Creates the service schema (Postgres) and applies the core migrations
    /// (outbox, inbox), then the service's own.
    pub async fn migrate(&self, service_migrations: &[Migration]) -> Result<(), StoreError> {
        migrate::run(self, "core", &outbox::core_migrations()).await?;
        migrate::run(self, &self.service, service_migrations).await
    }

    pub(crate) fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }
}

/// Rows and bytes of some of a service's tables.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Footprint {
    /// By table name (unqualified), in the order asked.
    pub tables: Vec<TableFootprint>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TableFootprint {
    pub table: String,
    pub rows: i64,
    /// On disk with its indexes (Postgres: `pg_total_relation_size`; SQLite:
    /// the pages of the table and its indexes, from `dbstat`).
    pub bytes: i64,
}

impl Footprint {
    pub fn rows(&self) -> i64 {
        self.tables.iter().map(|t| t.rows).sum()
    }

    pub fn bytes(&self) -> i64 {
        self.tables.iter().map(|t| t.bytes).sum()
    }

    /// The rows of one table (0 if it is not in the footprint).
    pub fn table_rows(&self, table: &str) -> i64 {
        self.tables.iter().filter(|t| t.table == table).map(|t| t.rows).sum()
    }
}

/// Every row of `table` (a name as given to [`Store::table`]), its
/// `columns` (comma-separated) as one text each, joined by `|`, in `order`:
/// what tests compare across two ways of writing the same rows. Ids and
/// NULLs read the same on both backends' side of a comparison (SQLite's
/// blobs through `quote()`, Postgres's values cast to text, NULL as `NULL`).
pub async fn rows_as_text(store: &Store, table: &str, columns: &str, order: &str) -> Result<Vec<String>, StoreError> {
    let text: Vec<String> = columns
        .split(',')
        .map(str::trim)
        .map(|column| if store.is_postgres() { format!("COALESCE(CAST({column} AS TEXT), 'NULL')") } else { format!("quote({column})") })
        .collect();
    let select = format!("SELECT {} FROM {} ORDER BY {order}", text.join(" || '|' || "), store.table(table));
    let rows = sea_orm::ConnectionTrait::query_all_raw(store.db(), stmt(store, select, vec![])).await?;
    rows.iter().map(|row| Ok(row.try_get_by_index::<String>(0)?)).collect()
}

/// The rows and bytes of `tables` (names as given to [`Store::table`]).
pub async fn footprint(store: &Store, tables: &[&str]) -> Result<Footprint, StoreError> {
    use sea_orm::{ConnectionTrait as _, Value};
    let mut footprint = Footprint::default();
    for name in tables {
        let qualified = store.table(name);
        let rows: i64 = store
            .db()
            .query_one_raw(stmt(store, format!("SELECT COUNT(*) FROM {qualified}"), vec![]))
            .await?
            .map(|row| row.try_get_by_index(0))
            .transpose()?
            .unwrap_or(0);
        let bytes_sql = if store.is_postgres() {
            stmt(store, "SELECT CAST(pg_total_relation_size(CAST($1 AS regclass)) AS BIGINT)", vec![Value::from(qualified.clone())])
        } else {
            // The table's pages and its indexes' (named after it by sqlite_master's tbl_name).
            let bare = qualified.trim_matches('"').to_owned();
            stmt(
                store,
                "SELECT CAST(COALESCE(SUM(pgsize), 0) AS BIGINT) FROM dbstat WHERE name IN (SELECT name FROM sqlite_master WHERE tbl_name = $1)",
                vec![Value::from(bare)],
            )
        };
        let bytes: i64 = store.db().query_one_raw(bytes_sql).await?.map(|row| row.try_get_by_index(0)).transpose()?.unwrap_or(0);
        footprint.tables.push(TableFootprint { table: (*name).to_owned(), rows, bytes });
    }
    Ok(footprint)
}

/// Read-only SQLite connections beside the writer.
pub const SQLITE_READERS: u32 = 4;

/// SQLite's page cache (32 MiB) and memory-mapped reads (up to 1 GiB of the
/// file, address space only), per connection: the embedded log is read back
/// by every consumer, and with the default 2 MiB cache each page came back
/// through a `pread` system call.
/// Whether the SQLite writer's connection goes back to the pool (else it is
/// closed, and SQLite rolls back whatever it still holds).
///
/// When SQLite rolls a transaction back by itself (a write that met a full
/// disk, `SQLITE_FULL`, or an I/O error), the `ROLLBACK` sqlx sends for the
/// dropped transaction fails ("no transaction is active") and sqlx goes on
/// counting a transaction open. Its next `BEGIN` is then a `SAVEPOINT`, and
/// once one of those is rolled back (`ROLLBACK TO` keeps the transaction
/// open) every later commit only releases a savepoint inside a transaction
/// that never commits: writes this connection sees, no reader does, and a
/// restart loses (the anchor's checkpointer read such entries and later found
/// the ledger's chain broken). A connection given back while sqlx still counts
/// a transaction is out of step with SQLite: it is closed, never reused.
async fn release_sqlite_writer(conn: &mut sea_orm::sqlx::SqliteConnection) -> Result<bool, sea_orm::sqlx::Error> {
    use sea_orm::sqlx::Connection as _;
    // The rollback of a dropped transaction is queued on the connection; the ping runs after it.
    conn.ping().await?;
    if conn.is_in_transaction() {
        tracing::warn!("the SQLite writer connection is out of step with its transaction after a failed write; closing it");
        return Ok(false);
    }
    Ok(true)
}

fn sqlite_cache(opts: sea_orm::sqlx::sqlite::SqliteConnectOptions) -> sea_orm::sqlx::sqlite::SqliteConnectOptions {
    opts.pragma("cache_size", "-32768").pragma("mmap_size", "1073741824")
}

/// SQL type names for the two backends.
#[derive(Debug, Clone, Copy)]
pub struct SqlTypes {
    /// An auto-incrementing 64-bit primary key.
    pub id: &'static str,
    pub uuid: &'static str,
    pub bytes: &'static str,
    pub timestamp: &'static str,
    pub now: &'static str,
    pub bigint: &'static str,
}

fn validate_name(what: &str, name: &str) -> Result<(), StoreError> {
    let valid = !name.is_empty()
        && name.len() <= 40
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    if valid { Ok(()) } else { Err(StoreError::Config(format!("{what} `{name}` must be 1-40 characters of a-z, 0-9 and _, starting with a letter"))) }
}

/// The URL without its password, for error messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..scheme_end + 3], &credentials[..colon], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Runs `insert` (`INSERT INTO t (..) VALUES `) for `rows` in multi-row
/// statements of [`Store::rows_per_insert`] rows, each followed by `suffix`
/// (e.g. ` ON CONFLICT (..) DO NOTHING`, or empty); neither holds parameters.
pub async fn insert_rows(
    store: &Store,
    conn: &impl sea_orm::ConnectionTrait,
    insert: &str,
    rows: Vec<Vec<sea_orm::Value>>,
    suffix: &str,
) -> Result<(), StoreError> {
    for statement in multi_row_statements(store, insert, rows, suffix) {
        conn.execute_raw(statement).await?;
    }
    Ok(())
}

/// [`insert_rows`] with a `RETURNING` clause in `suffix`: the rows the
/// statements return, in order (with ` ON CONFLICT .. DO NOTHING`, those
/// inserted).
pub async fn insert_rows_returning(
    store: &Store,
    conn: &impl sea_orm::ConnectionTrait,
    insert: &str,
    rows: Vec<Vec<sea_orm::Value>>,
    suffix: &str,
) -> Result<Vec<sea_orm::QueryResult>, StoreError> {
    let mut returned = Vec::new();
    for statement in multi_row_statements(store, insert, rows, suffix) {
        returned.extend(conn.query_all_raw(statement).await?);
    }
    Ok(returned)
}

/// The statements of [`insert_rows`]: `insert`, up to [`Store::rows_per_insert`] rows of placeholders, `suffix`.
fn multi_row_statements(store: &Store, insert: &str, rows: Vec<Vec<sea_orm::Value>>, suffix: &str) -> Vec<sea_orm::Statement> {
    let mut statements = Vec::new();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<sea_orm::Value>> = rows.by_ref().take(store.rows_per_insert()).collect();
        let n_values = chunk.iter().map(Vec::len).sum();
        let mut sql = String::with_capacity(insert.len() + suffix.len() + n_values * 7);
        sql.push_str(insert);
        let mut values = Vec::with_capacity(n_values);
        for (row_idx, row) in chunk.into_iter().enumerate() {
            sql.push_str(if row_idx > 0 { ",(" } else { "(" });
            for column_idx in 0..row.len() {
                if column_idx > 0 {
                    sql.push(',');
                }
                use std::fmt::Write as _;
                let _ = write!(sql, "${}", values.len() + column_idx + 1);
            }
            sql.push(')');
            values.extend(row);
        }
        sql.push_str(suffix);
        statements.push(stmt(store, sql, values));
    }
    statements
}

/// A condition that keeps the rows whose `column` is one of `allowed`, its
/// values pushed onto `values` (numbered after those already there); None
/// when every value is allowed (`allowed` is None), and a condition no row
/// meets when none is. Payer scopes of API keys become SQL this way.
pub fn one_of_condition(column: &str, allowed: Option<&[String]>, values: &mut Vec<sea_orm::Value>) -> Option<String> {
    let allowed = allowed?;
    if allowed.is_empty() {
        return Some("1 = 0".to_owned());
    }
    let placeholders: Vec<String> = allowed
        .iter()
        .map(|value| {
            values.push(sea_orm::Value::from(value.clone()));
            format!("${}", values.len())
        })
        .collect();
    Some(format!("{column} IN ({})", placeholders.join(", ")))
}

/// Shorthand for a statement with `$n` placeholders on this store's backend.
pub fn stmt(store: &Store, sql: impl Into<String>, values: Vec<sea_orm::Value>) -> sea_orm::Statement {
    let sql = sql.into();
    let sql = if store.backend == DbBackend::Sqlite { positional(sql) } else { sql };
    sea_orm::Statement::from_sql_and_values(store.backend, sql, values)
}

/// SQLite: `$1, $2, … $n`, each once and in order, become `?`. SQLite looks a
/// numbered parameter's name up by a linear scan for every bind
/// (`sqlite3_bind_parameter_name`), so binding a multi-row insert's
/// thousand parameters was quadratic and took the single writer's time;
/// anonymous `?` parameters bind by position. Any other use of `$` (a
/// number twice or out of order, or in a literal) keeps the text as it is.
fn positional(sql: String) -> String {
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let (mut next, mut copied, mut at) = (1u64, 0usize, 0usize);
    while at < bytes.len() {
        match bytes[at] {
            b'\'' => return sql,
            b'$' => {
                let digits = bytes[at + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
                if digits == 0 || sql[at + 1..at + 1 + digits].parse::<u64>().ok() != Some(next) {
                    return sql;
                }
                out.push_str(&sql[copied..at]);
                out.push('?');
                next += 1;
                at += 1 + digits;
                copied = at;
            }
            _ => at += 1,
        }
    }
    out.push_str(&sql[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::one_of_condition;

    #[test]
    fn a_list_becomes_a_bound_condition_numbered_after_earlier_values_and_no_list_none() {
        let mut values = vec![sea_orm::Value::from(1i64)];
        let allowed = vec!["60054".to_owned(), "61101".to_owned()];
        assert_eq!(one_of_condition("e.payer_id", Some(&allowed), &mut values).as_deref(), Some("e.payer_id IN ($2, $3)"));
        assert_eq!(values.len(), 3);
        assert_eq!(one_of_condition("payer_id", Some(&[]), &mut values).as_deref(), Some("1 = 0"));
        assert_eq!(one_of_condition("payer_id", None, &mut values), None);
        assert_eq!(values.len(), 3);
    }

    #[test]
    fn a_pool_timeout_a_refused_connection_and_a_server_shutdown_are_unavailable_and_a_failed_statement_is_not() {
        use std::sync::Arc;

        use sea_orm::{ConnAcquireErr, RuntimeErr, sqlx};
        assert!(is_unavailable(&DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)));
        let refused = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert!(is_unavailable(&DbErr::Query(RuntimeErr::SqlxError(Arc::new(refused)))));
        assert!(is_unavailable(&DbErr::Exec(RuntimeErr::SqlxError(Arc::new(sqlx::Error::PoolTimedOut)))));
        assert!(StoreError::Db(DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed)).is_unavailable());
        assert!(!is_unavailable(&DbErr::Exec(RuntimeErr::SqlxError(Arc::new(sqlx::Error::RowNotFound)))));
        assert!(!is_unavailable(&DbErr::Custom("a constraint".to_owned())));
        assert!(!StoreError::Corrupt("a bad row".to_owned()).is_unavailable());
    }

    #[tokio::test]
    async fn a_write_past_the_end_of_the_disk_is_disk_full_and_other_failures_are_not() {
        use sea_orm::{ConnectionTrait as _, RuntimeErr, sqlx};
        // SQLite answers SQLITE_FULL when a write meets ENOSPC, and the same when the file reaches max_page_count.
        let db = Database::connect("sqlite::memory:").await.unwrap();
        db.execute_unprepared("PRAGMA max_page_count = 8; CREATE TABLE t (b BLOB)").await.unwrap();
        let full = db.execute_unprepared("INSERT INTO t VALUES (zeroblob(1000000))").await.unwrap_err();
        assert!(is_disk_full(&full), "{full:?}");
        assert!(StoreError::Db(full).is_disk_full());
        let enospc = sqlx::Error::Io(std::io::Error::from_raw_os_error(28));
        assert!(is_disk_full(&DbErr::Exec(RuntimeErr::SqlxError(std::sync::Arc::new(enospc)))));
        let missing = db.execute_unprepared("INSERT INTO nowhere VALUES (1)").await.unwrap_err();
        assert!(!is_disk_full(&missing), "{missing:?}");
        assert!(!is_disk_full(&DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout)));
    }
    use super::*;

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(redact_url("postgres://app:secret@db:5432/x"), "postgres://app:***@db:5432/x");
        assert_eq!(redact_url("postgres://root@127.0.0.1/x"), "postgres://root@127.0.0.1/x");
    }

    #[test]
    fn sqlite_statements_bind_in_order_by_position() {
        assert_eq!(positional("INSERT INTO t (a, b) VALUES ($1,$2),($3,$4)".into()), "INSERT INTO t (a, b) VALUES (?,?),(?,?)");
        assert_eq!(positional("SELECT 1".into()), "SELECT 1");
        for kept in ["SELECT a FROM t WHERE a = $1 OR b = $1", "SELECT $2, $1", "UPDATE t SET a = '[]' WHERE b = $1", "SELECT $x"] {
            assert_eq!(positional(kept.into()), kept);
        }
        assert_eq!(positional("SELECT $10".into()), "SELECT $10");
    }

    #[test]
    fn names_are_checked_before_they_reach_sql() {
        assert!(validate_name("prefix", "t_0a").is_ok());
        assert!(validate_name("prefix", "T\"; drop").is_err());
        assert!(validate_name("prefix", "").is_err());
    }
}
