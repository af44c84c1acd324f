//! Sessions: one per sign-in, found by a random id in an HttpOnly cookie,
//! ended by sign-out or after `idle_timeout` without a request. Each carries
//! the CSRF token that every action (POST) must send back.

use std::collections::HashMap;
use std::time::Duration;

use crate::domain::viewer::Viewer;
use time::OffsetDateTime;

/// Sessions kept at most; beyond it the one idle longest is dropped.
pub const SESSIONS_MAX: usize = 10_000;

/// A signed-in browser.
#[derive(Clone)]
pub struct Session {
    /// The API key the dashboard calls the services with; never sent back to the browser.
    pub api_key: String,
    pub viewer: Viewer,
    pub csrf_token: String,
    pub last_seen: OffsetDateTime,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("viewer", &self.viewer.name).field("role", &self.viewer.role).field("last_seen", &self.last_seen).finish()
    }
}

/// Why a request has no session.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("you are not signed in")]
    Missing,
    #[error("your session ended after {idle_minutes} minutes without activity; sign in again")]
    Expired { idle_minutes: u64 },
}

/// Why an action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsrfError {
    #[error("the form carried no CSRF token; reload the page and try again")]
    Missing,
    #[error("the form's CSRF token does not match this session; reload the page and try again")]
    Mismatch,
}

/// The live sessions, by id.
#[derive(Debug)]
pub struct Sessions {
    idle_timeout: Duration,
    by_id: HashMap<String, Session>,
}

impl Sessions {
    pub fn new(idle_timeout: Duration) -> Sessions {
        Sessions { idle_timeout, by_id: HashMap::new() }
    }

    pub fn idle_timeout(&self) -> Duration {
        self.idle_timeout
    }

    /// Starts a session under `id` (random, chosen by the caller).
    pub fn start(&mut self, id: String, session: Session) {
        if self.by_id.len() >= SESSIONS_MAX
            && let Some(oldest) = self.by_id.iter().min_by_key(|(_, s)| s.last_seen).map(|(id, _)| id.clone())
        {
            self.by_id.remove(&oldest);
        }
        self.by_id.insert(id, session);
    }

    /// The session `id` names at `now`, its idle clock restarted; an expired one is ended.
    pub fn touch(&mut self, id: Option<&str>, now: OffsetDateTime) -> Result<Session, SessionError> {
        let id = id.ok_or(SessionError::Missing)?;
        let session = self.by_id.get_mut(id).ok_or(SessionError::Missing)?;
        let idle = now - session.last_seen;
        if idle >= self.idle_timeout {
            self.by_id.remove(id);
            return Err(SessionError::Expired { idle_minutes: self.idle_timeout.as_secs() / 60 });
        }
        session.last_seen = session.last_seen.max(now);
        Ok(session.clone())
    }

    /// Ends the session `id` names, if any.
    pub fn end(&mut self, id: &str) {
        self.by_id.remove(id);
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

/// Checks the CSRF token a form sent against the expected one, in constant time.
pub fn check_csrf(expected: &str, presented: Option<&str>) -> Result<(), CsrfError> {
    let presented = presented.filter(|token| !token.is_empty()).ok_or(CsrfError::Missing)?;
    let same = expected.len() == presented.len() && expected.bytes().zip(presented.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
    if same && !expected.is_empty() { Ok(()) } else { Err(CsrfError::Mismatch) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::viewer::Role;
    use time::macros::datetime;

    fn session(at: OffsetDateTime) -> Session {
        Session {
            api_key: "ct_1_2".into(),
            viewer: Viewer { name: "State Audit Office".into(), role: Role::Auditor, payer_id: None, payers: None },
            csrf_token: "token".into(),
            last_seen: at,
        }
    }

    #[test]
    fn a_session_used_within_the_idle_timeout_stays_and_its_clock_restarts() {
        let start = datetime!(2026-12-07 09:00 UTC);
        let mut sessions = Sessions::new(Duration::from_secs(15 * 60));
        sessions.start("s1".into(), session(start));
        assert!(sessions.touch(Some("s1"), start + Duration::from_secs(14 * 60)).is_ok());
        // 14 minutes after the last request, not after sign-in.
        assert!(sessions.touch(Some("s1"), start + Duration::from_secs(28 * 60)).is_ok());
    }

    #[test]
    fn a_session_idle_for_the_timeout_is_expired_and_ended() {
        let start = datetime!(2026-12-07 09:00 UTC);
        let mut sessions = Sessions::new(Duration::from_secs(15 * 60));
        sessions.start("s1".into(), session(start));
        assert_eq!(sessions.touch(Some("s1"), start + Duration::from_secs(15 * 60)).unwrap_err(), SessionError::Expired { idle_minutes: 15 });
        assert_eq!(sessions.touch(Some("s1"), start + Duration::from_secs(15 * 60)).unwrap_err(), SessionError::Missing, "the expired session is gone");
        assert!(sessions.is_empty());
    }

    #[test]
    fn an_unknown_or_absent_session_id_is_missing_and_sign_out_ends_a_session() {
        let start = datetime!(2026-12-07 09:00 UTC);
        let mut sessions = Sessions::new(Duration::from_secs(60));
        assert_eq!(sessions.touch(None, start).unwrap_err(), SessionError::Missing);
        sessions.start("s1".into(), session(start));
        assert_eq!(sessions.touch(Some("s2"), start).unwrap_err(), SessionError::Missing);
        sessions.end("s1");
        assert_eq!(sessions.touch(Some("s1"), start).unwrap_err(), SessionError::Missing);
    }

    #[test]
    fn beyond_the_session_limit_the_longest_idle_one_is_dropped() {
        let start = datetime!(2026-12-07 09:00 UTC);
        let mut sessions = Sessions::new(Duration::from_secs(3600));
        for n in 0..SESSIONS_MAX {
            sessions.start(format!("s{n}"), session(start + Duration::from_secs(n as u64 % 1000 + 1)));
        }
        sessions.start("old".into(), session(start));
        sessions.start("new".into(), session(start + Duration::from_secs(2000)));
        assert_eq!(sessions.len(), SESSIONS_MAX);
        assert!(sessions.touch(Some("old"), start + Duration::from_secs(2000)).is_err());
        assert!(sessions.touch(Some("new"), start + Duration::from_secs(2000)).is_ok());
    }

    #[test]
    fn an_action_without_the_sessions_csrf_token_is_refused() {
        assert_eq!(check_csrf("abc", None), Err(CsrfError::Missing));
        assert_eq!(check_csrf("abc", Some("")), Err(CsrfError::Missing));
        assert_eq!(check_csrf("abc", Some("abd")), Err(CsrfError::Mismatch));
        assert_eq!(check_csrf("abc", Some("abcd")), Err(CsrfError::Mismatch));
        assert_eq!(check_csrf("", Some("x")), Err(CsrfError::Mismatch));
        assert_eq!(check_csrf("abc", Some("abc")), Ok(()));
    }
}
