//! Sessions in the dashboard's table: found by [`row_key`] of the cookie's
//! id, the API key sealed with it (domain::session), the idle clock in unix
//! seconds. Every replica reads the same rows, and a restart keeps them.

use std::time::Duration;

use claimtrail_store::{Store, StoreError, stmt};
use sea_orm::{ConnectionTrait, Value};
use time::OffsetDateTime;

use crate::domain::session::{self, Session, SessionError, Touch, open_key, row_key, seal_key};
use crate::domain::viewer::Viewer;

/// The session table and its idle timeout.
#[derive(Clone)]
pub struct SessionStore {
    store: Store,
    idle_timeout: Duration,
}

impl SessionStore {
    /// Sessions in `store` (the dashboard's, migrated with [`super::migrations`]).
    pub fn new(store: Store, idle_timeout: Duration) -> SessionStore {
        SessionStore { store, idle_timeout }
    }

    pub fn idle_timeout(&self) -> Duration {
        self.idle_timeout
    }

    /// Starts a session under `session_id` (random, chosen by the caller) and
    /// ends every session idle past the timeout.
    pub async fn start(&self, session_id: &str, session: &Session) -> Result<(), StoreError> {
        let store = &self.store;
        let table = store.table("sessions");
        let now = session.last_seen.unix_timestamp();
        let viewer = serde_json::to_string(&session.viewer).map_err(|e| StoreError::Corrupt(format!("a viewer does not serialize: {e}")))?;
        store
            .db()
            .execute_raw(stmt(store, format!("DELETE FROM {table} WHERE last_seen_unix <= $1"), vec![Value::from(now - self.idle_timeout.as_secs() as i64)]))
            .await?;
        store
            .db()
            .execute_raw(stmt(
                store,
                format!("INSERT INTO {table} (row_key, sealed_key, viewer, csrf_token, last_seen_unix, started_unix) VALUES ($1, $2, $3, $4, $5, $5)"),
                vec![
                    Value::from(row_key(session_id)),
                    Value::from(hex::encode(seal_key(session_id, &session.api_key))),
                    Value::from(viewer),
                    Value::from(session.csrf_token.clone()),
                    Value::from(now),
                ],
            ))
            .await?;
        Ok(())
    }

    /// The session `session_id` names at `now`, its idle clock restarted; an expired one is ended.
    pub async fn touch(&self, session_id: Option<&str>, now: OffsetDateTime) -> Result<Result<Session, SessionError>, StoreError> {
        let Some(session_id) = session_id.filter(|id| session::is_session_id(id)) else { return Ok(Err(SessionError::Missing)) };
        let store = &self.store;
        let table = store.table("sessions");
        let key = row_key(session_id);
        let row = store
            .db()
            .query_one_raw(stmt(
                store,
                format!("SELECT sealed_key, viewer, csrf_token, last_seen_unix FROM {table} WHERE row_key = $1"),
                vec![Value::from(key.clone())],
            ))
            .await?;
        let Some(row) = row else { return Ok(Err(SessionError::Missing)) };
        let (sealed, viewer, csrf_token, last_seen): (String, String, String, i64) =
            (row.try_get_by_index(0)?, row.try_get_by_index(1)?, row.try_get_by_index(2)?, row.try_get_by_index(3)?);
        let corrupt = |what: &str| StoreError::Corrupt(format!("dashboard session {}…: {what}", &key[..8]));
        let last_seen = OffsetDateTime::from_unix_timestamp(last_seen).map_err(|_| corrupt("last_seen_unix out of range"))?;
        match session::touch(last_seen, now, self.idle_timeout) {
            Touch::Expired => {
                self.end(session_id).await?;
                Ok(Err(session::expired(self.idle_timeout)))
            }
            Touch::Live { last_seen: seen } => {
                let api_key =
                    hex::decode(&sealed).ok().and_then(|sealed| open_key(session_id, &sealed)).ok_or_else(|| corrupt("the sealed key does not open"))?;
                let viewer: Viewer = serde_json::from_str(&viewer).map_err(|e| corrupt(&format!("viewer: {e}")))?;
                if seen != last_seen {
                    store
                        .db()
                        .execute_raw(stmt(
                            store,
                            format!("UPDATE {table} SET last_seen_unix = $2 WHERE row_key = $1 AND last_seen_unix < $2"),
                            vec![Value::from(key), Value::from(seen.unix_timestamp())],
                        ))
                        .await?;
                }
                Ok(Ok(Session { api_key, viewer, csrf_token, last_seen: seen }))
            }
        }
    }

    /// Ends the session `session_id` names, if any.
    pub async fn end(&self, session_id: &str) -> Result<(), StoreError> {
        let store = &self.store;
        store
            .db()
            .execute_raw(stmt(store, format!("DELETE FROM {} WHERE row_key = $1", store.table("sessions")), vec![Value::from(row_key(session_id))]))
            .await?;
        Ok(())
    }

    /// Live sessions (for tests and metrics).
    pub async fn count(&self) -> Result<i64, StoreError> {
        let store = &self.store;
        let row = store.db().query_one_raw(stmt(store, format!("SELECT COUNT(*) FROM {}", store.table("sessions")), vec![])).await?;
        Ok(row.map(|row| row.try_get_by_index::<i64>(0)).transpose()?.unwrap_or(0))
    }
}
