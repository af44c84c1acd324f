//! Leases: one process at a time owns a named piece of work (a partition's
//! consumer) among the replicas that share one Postgres.
//!
//! A lease is a Postgres session advisory lock held on a connection of its
//! own (a pool of exactly one, never recycled). The owner's work runs in
//! transactions on that same connection ([`Lease::begin`]), and each checks
//! first that its session still holds the lock. So the lease is fenced: a
//! replica that dies, or whose connection is lost, loses the lock only when
//! its session ends, which rolls back whatever it had not committed; another
//! replica can take the lease only then. A reconnected session does not
//! hold the lock, so its transactions are refused until it takes the lease
//! again. On SQLite (one process, the embedded mode) there is nothing to
//! share: [`Lease::try_take`] always succeeds and [`Lease::begin`] opens an
//! ordinary transaction.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, RuntimeErr, TransactionTrait, Value};

use crate::{Store, StoreError};

/// The first key of every Claimtrail lease's two-key advisory lock ("CT").
const LEASE_NAMESPACE: i32 = 0x4354;

/// A lease by name, taken or not.
pub struct Lease {
    name: String,
    /// The second advisory-lock key: FNV-1a of the name (stable across builds), non-negative.
    key: i32,
    /// Postgres: a pool of one connection, the lock's session. SQLite: the store's own.
    db: DatabaseConnection,
    /// The store's own pool, whose host the lease's session follows after a failover.
    store_db: DatabaseConnection,
    postgres: bool,
}

/// FNV-1a (32 bits) of `name`, as a non-negative `i32`: the same in every
/// build and replica, so every process names the same lock.
pub fn lease_key(name: &str) -> i32 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in name.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    i32::try_from(hash & 0x7fff_ffff).unwrap_or(0)
}

impl Lease {
    /// A lease named `name` (unique within the database: callers include the
    /// store's schema), not yet taken. Opens its own connection on Postgres.
    pub async fn new(store: &Store, name: &str) -> Result<Lease, StoreError> {
        let key = lease_key(name);
        if !store.is_postgres() {
            return Ok(Lease { name: name.to_owned(), key, db: store.db().clone(), store_db: store.db().clone(), postgres: false });
        }
        let mut options = (*store.db().get_postgres_connection_pool().connect_options()).clone();
        if let Some(timeout) = store.statement_timeout() {
            // As the store's own sessions: a stalled statement fails instead of holding the partition.
            options = options.options([("statement_timeout", timeout.as_millis().to_string())]);
        }
        let pool = sea_orm::sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .min_connections(0)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(crate::POSTGRES_ACQUIRE_TIMEOUT)
            .connect_lazy_with(options);
        let db = sea_orm::SqlxPostgresConnector::from_sqlx_postgres_pool(pool);
        Ok(Lease { name: name.to_owned(), key, db, store_db: store.db().clone(), postgres: true })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Points the lease's session at the host the store's pool uses now:
    /// after a failover the store follows the new primary
    /// ([`crate::hosts::follow_primary`]), and a lease still aimed at the old
    /// one could never be taken again.
    fn follow_store_host(&self) {
        let (store_pool, own) = (self.store_db.get_postgres_connection_pool(), self.db.get_postgres_connection_pool());
        let (current, mine) = (store_pool.connect_options(), own.connect_options());
        if (current.get_host(), current.get_port()) != (mine.get_host(), mine.get_port()) {
            tracing::warn!(lease = %self.name, to = %crate::hosts::address(&current), "the database primary moved; the lease's session follows it");
            own.set_connect_options((*mine).clone().host(current.get_host()).port(current.get_port()));
        }
    }

    /// Takes the lease if no other session holds it; true when this one
    /// holds it now (also when it already did).
    pub async fn try_take(&self) -> Result<bool, StoreError> {
        if !self.postgres {
            return Ok(true);
        }
        self.follow_store_host();
        if self.held().await? {
            return Ok(true);
        }
        let row = self
            .db
            .query_one_raw(sea_orm::Statement::from_sql_and_values(
                sea_orm::DbBackend::Postgres,
                "SELECT pg_try_advisory_lock($1, $2)",
                vec![Value::from(LEASE_NAMESPACE), Value::from(self.key)],
            ))
            .await?;
        Ok(row.map(|row| row.try_get_by_index::<bool>(0)).transpose()?.unwrap_or(false))
    }

    /// Whether this lease's session holds the lock now.
    pub async fn held(&self) -> Result<bool, StoreError> {
        if !self.postgres {
            return Ok(true);
        }
        held_on(&self.db, self.key).await.map_err(StoreError::from)
    }

    /// A transaction on the lease's session, refused (as the database being
    /// unavailable, so the work is retried) when the session does not hold
    /// the lock: the fence against a replica that lost its lease.
    pub async fn begin(&self) -> Result<DatabaseTransaction, DbErr> {
        let tx = self.db.begin().await?;
        if self.postgres && !held_on(&tx, self.key).await? {
            tx.rollback().await?;
            return Err(DbErr::Conn(RuntimeErr::Internal(format!("the lease {} is not held by this replica", self.name))));
        }
        Ok(tx)
    }

    /// Gives the lease up (the connection closes; the lock goes with it).
    pub async fn release(self) {
        if self.postgres {
            let _ = self.db.close().await;
        }
    }
}

async fn held_on(conn: &impl ConnectionTrait, key: i32) -> Result<bool, DbErr> {
    let row = conn
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted \
             AND classid::text = $1 AND objid::text = $2 AND objsubid = 2)",
            vec![Value::from(LEASE_NAMESPACE.to_string()), Value::from(key.to_string())],
        ))
        .await?;
    Ok(row.map(|row| row.try_get_by_index::<bool>(0)).transpose()?.unwrap_or(false))
}

/// How often a replica that does not hold a lease tries again.
pub const LEASE_RETRY: Duration = Duration::from_secs(2);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_key_is_stable_and_non_negative() {
        assert_eq!(lease_key(""), 0x011c_9dc5, "the FNV-1a offset basis, top bit cleared");
        assert_eq!(lease_key("\"t_adjudication\".claims.p0"), lease_key("\"t_adjudication\".claims.p0"));
        assert_ne!(lease_key("\"t_adjudication\".claims.p0"), lease_key("\"t_adjudication\".claims.p1"));
        for name in ["a", "claims.p3", "\u{e9}"] {
            assert!(lease_key(name) >= 0, "{name}");
        }
    }
}
