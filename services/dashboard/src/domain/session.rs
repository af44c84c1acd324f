//! Sessions: one per sign-in, found by a random id in an HttpOnly cookie,
//! ended by sign-out or after an idle timeout without a request. Each carries
//! the CSRF token that every action (POST) must send back.
//!
//! Sessions are kept in the dashboard's own table (storage::sessions), so they
//! survive a restart and every replica sees them. What is stored gives a
//! reader of the database nothing to act with: the row is found by a hash of
//! the session id (the id itself is only in the browser's cookie), and the
//! API key is sealed with a keystream derived from that id ([`seal_key`]).

use std::time::Duration;

use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

use crate::domain::viewer::Viewer;

/// Bytes of a session id (hex in the cookie).
pub const SESSION_ID_BYTES: usize = 32;
/// The longest API key a session keeps.
pub const API_KEY_BYTES_MAX: usize = 512;

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

/// What a request at `now` does to a session last seen at `last_seen`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Touch {
    /// Still live: its idle clock restarts at `last_seen` (never moved back).
    Live { last_seen: OffsetDateTime },
    /// Idle for the timeout or longer: end it.
    Expired,
}

/// The idle-timeout rule: a session idle for `idle_timeout` or longer has ended.
pub fn touch(last_seen: OffsetDateTime, now: OffsetDateTime, idle_timeout: Duration) -> Touch {
    if now - last_seen >= idle_timeout { Touch::Expired } else { Touch::Live { last_seen: last_seen.max(now) } }
}

/// The error an expired session is shown with.
pub fn expired(idle_timeout: Duration) -> SessionError {
    SessionError::Expired { idle_minutes: idle_timeout.as_secs() / 60 }
}

/// The key a session's row is stored under: SHA-256 of the id, so that the
/// table does not hold the ids that the cookies carry.
pub fn row_key(session_id: &str) -> String {
    hex::encode(Sha256::new().chain_update(b"claimtrail-dashboard session row\0").chain_update(session_id.as_bytes()).finalize())
}

/// Whether `text` has the shape of a session id (hex of [`SESSION_ID_BYTES`]).
pub fn is_session_id(text: &str) -> bool {
    text.len() == SESSION_ID_BYTES * 2 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The keystream of a session: SHA-256 in counter mode over the session id
/// (a fresh 256-bit random value per session), under a label of its own.
fn keystream(session_id: &str, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 32);
    let mut counter: u32 = 0;
    while out.len() < len {
        let block =
            Sha256::new().chain_update(b"claimtrail-dashboard api key\0").chain_update(session_id.as_bytes()).chain_update(counter.to_be_bytes()).finalize();
        out.extend_from_slice(&block);
        counter += 1;
    }
    out.truncate(len);
    out
}

/// The API key as stored: XORed with the session's keystream. Only a holder
/// of the session id (the browser's cookie) can open it.
pub fn seal_key(session_id: &str, api_key: &str) -> Vec<u8> {
    api_key.as_bytes().iter().zip(keystream(session_id, api_key.len())).map(|(byte, pad)| byte ^ pad).collect()
}

/// The API key a sealed value holds, when the session id is the one it was sealed with.
pub fn open_key(session_id: &str, sealed: &[u8]) -> Option<String> {
    if sealed.len() > API_KEY_BYTES_MAX {
        return None;
    }
    let bytes: Vec<u8> = sealed.iter().zip(keystream(session_id, sealed.len())).map(|(byte, pad)| byte ^ pad).collect();
    String::from_utf8(bytes).ok()
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
    use time::macros::datetime;

    const ID: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

    #[test]
    fn a_session_used_within_the_idle_timeout_stays_and_its_clock_restarts() {
        let start = datetime!(2026-12-07 09:00 UTC);
        let timeout = Duration::from_secs(15 * 60);
        let Touch::Live { last_seen } = touch(start, start + Duration::from_secs(14 * 60), timeout) else { panic!("expired too early") };
        assert_eq!(last_seen, start + Duration::from_secs(14 * 60));
        // 14 minutes after the last request, not after sign-in.
        assert!(matches!(touch(last_seen, start + Duration::from_secs(28 * 60), timeout), Touch::Live { .. }));
    }

    #[test]
    fn a_session_idle_for_the_timeout_is_expired() {
        let start = datetime!(2026-12-07 09:00 UTC);
        let timeout = Duration::from_secs(15 * 60);
        assert_eq!(touch(start, start + Duration::from_secs(15 * 60), timeout), Touch::Expired);
        assert_eq!(touch(start, start + Duration::from_secs(15 * 60 - 1), timeout), Touch::Live { last_seen: start + Duration::from_secs(899) });
        assert_eq!(expired(timeout), SessionError::Expired { idle_minutes: 15 });
    }

    #[test]
    fn a_request_from_a_replica_whose_clock_is_behind_does_not_move_the_idle_clock_back() {
        let seen = datetime!(2026-12-07 09:10 UTC);
        assert_eq!(touch(seen, seen - Duration::from_secs(5), Duration::from_secs(60)), Touch::Live { last_seen: seen });
    }

    #[test]
    fn the_stored_key_opens_only_with_its_session_id_and_the_row_key_is_not_the_id() {
        let sealed = seal_key(ID, "ct_0123456789abcdef_secret");
        assert!(!sealed.windows(6).any(|w| w == b"secret"), "the key is not stored in clear");
        assert_eq!(open_key(ID, &sealed).as_deref(), Some("ct_0123456789abcdef_secret"));
        let other = ID.replace('0', "1");
        assert_ne!(open_key(&other, &sealed).as_deref(), Some("ct_0123456789abcdef_secret"));
        assert_eq!(row_key(ID).len(), 64);
        assert_ne!(row_key(ID), ID);
        assert_ne!(row_key(ID), row_key(&other));
        // A key longer than one SHA-256 block is sealed whole.
        let long = "k".repeat(100);
        assert_eq!(open_key(ID, &seal_key(ID, &long)).as_deref(), Some(long.as_str()));
        assert_eq!(open_key(ID, &vec![0; API_KEY_BYTES_MAX + 1]), None);
    }

    #[test]
    fn only_hex_of_the_right_length_is_a_session_id() {
        assert!(is_session_id(ID));
        assert!(!is_session_id(&ID[1..]));
        assert!(!is_session_id(&ID.replace('0', "g")));
        assert!(!is_session_id("' OR 1=1 --"));
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
