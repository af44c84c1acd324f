//! `Idempotency-Key` on `POST /v1/claims` and `POST /v1/claims/x12`: the same
//! key with the same body gives the same answer and the same claim ids; the
//! same key with another body is refused (422); while the first request with
//! a key is in flight a second one gets 409 with `Retry-After`. Keys are per
//! tenant.
//!
//! A request in flight holds its key by a lease (docs/adr/0006): an attempt
//! token and an expiry, renewed by the live request every
//! [`LEASE_RENEW_MS`]. A process that dies stops renewing, so its lease runs
//! out at most [`LEASE_MS`] after the crash and the next attempt takes the
//! key over. The answer is stored in the transaction that stores the claims,
//! and only while the attempt still holds the lease ([`finish`] is fenced by
//! the token): an attempt that lost its lease stores nothing, so a key never
//! gets two sets of claims.

use claimtrail_store::{Store, StoreError, stmt};
use sea_orm::{ConnectionTrait, Value};
use uuid::Uuid;

/// How long a lease lasts without renewal: the longest a retry sees 409 after
/// the process holding the key died (on Postgres; embedded, a restart frees
/// the keys at once, see [`release_abandoned`]).
pub const LEASE_MS: i64 = 5_000;
/// How often a live request renews its lease.
pub const LEASE_RENEW_MS: u64 = 1_000;
// One slow renewal must not lose a live lease; a retry after a crash waits seconds, not minutes.
const _: () = assert!(LEASE_MS >= 3 * LEASE_RENEW_MS as i64 && LEASE_MS <= 10_000);
/// Longest key accepted.
pub const KEY_LENGTH_MAX: usize = 255;
/// How long a key and its answer are remembered after its first request: a
/// retry after that is a new request. X12 interchanges stay deduplicated by
/// their control numbers beyond it.
pub const KEY_RETENTION_MS: i64 = 7 * 24 * 3_600_000;
/// How often [`sweep`] runs.
pub const SWEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(3_600);

pub fn migration() -> claimtrail_store::Migration {
    claimtrail_store::Migration {
        version: 3,
        name: "idempotency keys",
        statements: |store| {
            let t = store.types();
            vec![format!(
                "CREATE TABLE {} (tenant TEXT NOT NULL, idempotency_key TEXT NOT NULL, body_sha256 TEXT NOT NULL, state TEXT NOT NULL, \
                 started_at_ms {} NOT NULL, response TEXT, PRIMARY KEY (tenant, idempotency_key))",
                store.table("idempotency_keys"),
                t.bigint
            )]
        },
    }
}

/// The lease columns: the attempt holding the key and when its lease runs out.
/// Rows from before it have neither, and count as expired a minute after they started.
pub fn lease_migration() -> claimtrail_store::Migration {
    claimtrail_store::Migration {
        version: 9,
        name: "idempotency key leases",
        statements: |store| {
            let (table, t) = (store.table("idempotency_keys"), store.types());
            vec![
                format!("ALTER TABLE {table} ADD COLUMN attempt TEXT"),
                format!("ALTER TABLE {table} ADD COLUMN lease_until_ms {}", t.bigint),
                format!("UPDATE {table} SET lease_until_ms = started_at_ms + 60000 WHERE state = 'in_flight'"),
            ]
        },
    }
}

/// The state a key's row is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyState {
    InFlight,
    Done,
}

impl KeyState {
    fn as_str(self) -> &'static str {
        match self {
            KeyState::InFlight => "in_flight",
            KeyState::Done => "done",
        }
    }

    fn parse(text: &str) -> Result<KeyState, StoreError> {
        match text {
            "in_flight" => Ok(KeyState::InFlight),
            "done" => Ok(KeyState::Done),
            other => Err(StoreError::Corrupt(format!("idempotency key state `{other}`"))),
        }
    }
}

/// One attempt's hold on a key: what [`finish`], [`renew`] and [`release`] are fenced by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub tenant: String,
    pub key: String,
    pub attempt: String,
}

/// What to do with a request that carries a key.
#[derive(Debug, PartialEq, Eq)]
pub enum Begin {
    /// First time, or the last attempt's lease ran out: process it under this lease.
    Started(Lease),
    /// Done before: answer this stored response.
    Replay(String),
    /// The key was used with another body.
    BodyMismatch,
    /// Another attempt holds the key for this long yet (milliseconds).
    InFlight { retry_after_ms: i64 },
}

/// What a stored row tells a new attempt, the decision without the database.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Mismatch,
    Replay(String),
    /// Held by a live lease for this many more milliseconds.
    Held(i64),
    /// In flight, but its lease ran out: take it over from this attempt (`None`: a row from before leases).
    Abandoned(Option<String>),
}

/// Decides on an existing row: pure, so that the rules are tested without a database.
fn judge(stored_hash: &str, state: KeyState, response: Option<String>, lease_until_ms: i64, attempt: Option<String>, body_sha256: &str, now_ms: i64) -> Seen {
    if stored_hash != body_sha256 {
        return Seen::Mismatch;
    }
    match (state, response) {
        (KeyState::Done, Some(response)) => Seen::Replay(response),
        // A done row always has its answer; read one without as held, briefly.
        (KeyState::Done, None) => Seen::Held(LEASE_RENEW_MS as i64),
        (KeyState::InFlight, _) if lease_until_ms > now_ms => Seen::Held(lease_until_ms - now_ms),
        (KeyState::InFlight, _) => Seen::Abandoned(attempt),
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// A key must be 1-255 visible ASCII characters.
pub fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= KEY_LENGTH_MAX && key.bytes().all(|b| b.is_ascii_graphic())
}

/// Takes the key for a new attempt, or says why not.
pub async fn begin(store: &Store, tenant: &str, key: &str, body_sha256: &str) -> Result<Begin, StoreError> {
    let table = store.table("idempotency_keys");
    // A row released between our insert and our read is gone: insert again (bounded, it cannot recur for long).
    for _ in 0..3 {
        let lease = Lease { tenant: tenant.to_owned(), key: key.to_owned(), attempt: Uuid::now_v7().to_string() };
        let now = now_ms();
        let inserted = store
            .db()
            .execute_raw(stmt(
                store,
                format!(
                    "INSERT INTO {table} (tenant, idempotency_key, body_sha256, state, started_at_ms, attempt, lease_until_ms) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (tenant, idempotency_key) DO NOTHING"
                ),
                vec![
                    Value::from(tenant.to_owned()),
                    Value::from(key.to_owned()),
                    Value::from(body_sha256.to_owned()),
                    Value::from(KeyState::InFlight.as_str()),
                    Value::from(now),
                    Value::from(lease.attempt.clone()),
                    Value::from(now + LEASE_MS),
                ],
            ))
            .await?;
        if inserted.rows_affected() == 1 {
            return Ok(Begin::Started(lease));
        }
        let row = store
            .db()
            .query_one_raw(stmt(
                store,
                format!("SELECT body_sha256, state, response, lease_until_ms, attempt, started_at_ms FROM {table} WHERE tenant = $1 AND idempotency_key = $2"),
                vec![Value::from(tenant.to_owned()), Value::from(key.to_owned())],
            ))
            .await?;
        let Some(row) = row else { continue };
        let stored_hash: String = row.try_get_by_index(0)?;
        let state = KeyState::parse(&row.try_get_by_index::<String>(1)?)?;
        let started_at_ms: i64 = row.try_get_by_index(5)?;
        let lease_until_ms = row.try_get_by_index::<Option<i64>>(3)?.unwrap_or(started_at_ms + 60_000);
        let now = now_ms();
        match judge(&stored_hash, state, row.try_get_by_index(2)?, lease_until_ms, row.try_get_by_index(4)?, body_sha256, now) {
            Seen::Mismatch => return Ok(Begin::BodyMismatch),
            Seen::Replay(response) => return Ok(Begin::Replay(response)),
            Seen::Held(retry_after_ms) => return Ok(Begin::InFlight { retry_after_ms }),
            Seen::Abandoned(previous) => {
                // Compare-and-set on the previous attempt: of two retries racing for the key, one wins.
                let (previous_clause, mut values) = match &previous {
                    Some(previous) => ("attempt = $6", vec![Value::from(previous.clone())]),
                    None => ("attempt IS NULL AND started_at_ms = $6", vec![Value::from(started_at_ms)]),
                };
                let mut params = vec![
                    Value::from(tenant.to_owned()),
                    Value::from(key.to_owned()),
                    Value::from(lease.attempt.clone()),
                    Value::from(now + LEASE_MS),
                    Value::from(KeyState::InFlight.as_str()),
                ];
                params.append(&mut values);
                params.push(Value::from(now));
                let taken = store
                    .db()
                    .execute_raw(stmt(
                        store,
                        format!(
                            "UPDATE {table} SET attempt = $3, lease_until_ms = $4, started_at_ms = $7 \
                             WHERE tenant = $1 AND idempotency_key = $2 AND state = $5 AND {previous_clause}"
                        ),
                        params,
                    ))
                    .await?;
                if taken.rows_affected() == 1 {
                    return Ok(Begin::Started(lease));
                }
                return Ok(Begin::InFlight { retry_after_ms: LEASE_RENEW_MS as i64 });
            }
        }
    }
    Ok(Begin::InFlight { retry_after_ms: LEASE_RENEW_MS as i64 })
}

/// Extends a live attempt's lease; false once another attempt has taken the key over.
pub async fn renew(store: &Store, lease: &Lease) -> Result<bool, StoreError> {
    let renewed = store
        .db()
        .execute_raw(stmt(
            store,
            format!(
                "UPDATE {} SET lease_until_ms = $4 WHERE tenant = $1 AND idempotency_key = $2 AND attempt = $3 AND state = $5",
                store.table("idempotency_keys")
            ),
            vec![
                Value::from(lease.tenant.clone()),
                Value::from(lease.key.clone()),
                Value::from(lease.attempt.clone()),
                Value::from(now_ms() + LEASE_MS),
                Value::from(KeyState::InFlight.as_str()),
            ],
        ))
        .await?;
    Ok(renewed.rows_affected() == 1)
}

/// The attempt no longer holds its key: another attempt took it over after its lease ran out.
#[derive(Debug, thiserror::Error)]
#[error("the lease on Idempotency-Key `{key}` ran out and another attempt took it over; nothing of this attempt was stored")]
pub struct LeaseLost {
    pub key: String,
}

/// Stores the answer, in the transaction that stores the claims, if this
/// attempt still holds the key; otherwise the caller must roll back.
pub async fn finish(store: &Store, tx: &impl ConnectionTrait, lease: &Lease, response: &str) -> Result<Result<(), LeaseLost>, StoreError> {
    let finished = tx
        .execute_raw(stmt(
            store,
            format!(
                "UPDATE {} SET state = $4, response = $5 WHERE tenant = $1 AND idempotency_key = $2 AND attempt = $3 AND state = $6",
                store.table("idempotency_keys")
            ),
            vec![
                Value::from(lease.tenant.clone()),
                Value::from(lease.key.clone()),
                Value::from(lease.attempt.clone()),
                Value::from(KeyState::Done.as_str()),
                Value::from(response.to_owned()),
                Value::from(KeyState::InFlight.as_str()),
            ],
        ))
        .await?;
    Ok(if finished.rows_affected() == 1 { Ok(()) } else { Err(LeaseLost { key: lease.key.clone() }) })
}

/// Frees a key whose attempt failed before storing anything, so it can be retried at once.
pub async fn release(store: &Store, lease: &Lease) -> Result<(), StoreError> {
    store
        .db()
        .execute_raw(stmt(
            store,
            format!("DELETE FROM {} WHERE tenant = $1 AND idempotency_key = $2 AND attempt = $3 AND state = $4", store.table("idempotency_keys")),
            vec![
                Value::from(lease.tenant.clone()),
                Value::from(lease.key.clone()),
                Value::from(lease.attempt.clone()),
                Value::from(KeyState::InFlight.as_str()),
            ],
        ))
        .await?;
    Ok(())
}

/// Frees every key left in flight by a process that died. Only where this
/// process is the one intake on its database (embedded: the data directory's
/// one process), at start; an attempt of another live process that lost its
/// key this way would store nothing ([`finish`] is fenced).
pub async fn release_abandoned(store: &Store) -> Result<u64, StoreError> {
    let released = store
        .db()
        .execute_raw(stmt(store, format!("DELETE FROM {} WHERE state = $1", store.table("idempotency_keys")), vec![Value::from(KeyState::InFlight.as_str())]))
        .await?;
    Ok(released.rows_affected())
}

/// Forgets the answered keys older than [`KEY_RETENTION_MS`]; returns how many.
pub async fn forget_expired(store: &Store) -> Result<u64, StoreError> {
    let forgotten = store
        .db()
        .execute_raw(stmt(
            store,
            format!("DELETE FROM {} WHERE state = $1 AND started_at_ms < $2", store.table("idempotency_keys")),
            vec![Value::from(KeyState::Done.as_str()), Value::from(now_ms() - KEY_RETENTION_MS)],
        ))
        .await?;
    Ok(forgotten.rows_affected())
}

/// Forgets the stored answers that name any of `claim_ids` (erasure: an answer names its claims and the issues of rejected ones).
pub async fn forget_answers_naming(store: &Store, tx: &impl ConnectionTrait, claim_ids: &[Uuid]) -> Result<(), StoreError> {
    for claim_id in claim_ids {
        tx.execute_raw(stmt(
            store,
            format!("DELETE FROM {} WHERE response LIKE $1", store.table("idempotency_keys")),
            vec![Value::from(format!("%{claim_id}%"))],
        ))
        .await?;
    }
    Ok(())
}

/// One sweep: [`forget_expired`], logged; a failure is tried again at the next sweep
/// (run every [`SWEEP_INTERVAL`] as a background task of the service).
pub async fn sweep(store: Store) {
    match forget_expired(&store).await {
        Ok(0) => {}
        Ok(forgotten) => tracing::info!(forgotten, "forgot Idempotency-Keys past their retention"),
        Err(e) => tracing::warn!(error = %e, "forgetting expired Idempotency-Keys failed; trying again at the next sweep"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_000_000;

    #[test]
    fn another_body_under_the_same_key_is_a_mismatch_whatever_the_state() {
        assert_eq!(judge("a", KeyState::Done, Some("{}".into()), 0, None, "b", NOW), Seen::Mismatch);
        assert_eq!(judge("a", KeyState::InFlight, None, NOW + 10, Some("t".into()), "b", NOW), Seen::Mismatch);
    }

    #[test]
    fn a_done_key_replays_its_answer_even_after_its_lease() {
        assert_eq!(judge("a", KeyState::Done, Some("{\"x\":1}".into()), NOW - 1, Some("t".into()), "a", NOW), Seen::Replay("{\"x\":1}".into()));
    }

    #[test]
    fn a_live_lease_holds_the_key_for_what_is_left_of_it() {
        assert_eq!(judge("a", KeyState::InFlight, None, NOW + 1_234, Some("t".into()), "a", NOW), Seen::Held(1_234));
    }

    #[test]
    fn a_lease_that_ran_out_is_taken_over_from_its_attempt() {
        assert_eq!(judge("a", KeyState::InFlight, None, NOW, Some("t".into()), "a", NOW), Seen::Abandoned(Some("t".into())));
        assert_eq!(judge("a", KeyState::InFlight, None, NOW - 1, None, "a", NOW), Seen::Abandoned(None));
    }

    #[test]
    fn keys_are_visible_ascii_up_to_the_limit() {
        assert!(valid_key("order-1"));
        assert!(!valid_key(""));
        assert!(!valid_key("has space"));
        assert!(!valid_key(&"k".repeat(KEY_LENGTH_MAX + 1)));
        assert!(valid_key(&"k".repeat(KEY_LENGTH_MAX)));
    }
}
