//! API keys: `ct_<key id>_<secret>`, a 64-bit key id and a 256-bit random
//! secret. Only SHA-256 of the secret is stored; it is compared in constant
//! time (a slow password hash per request would cap the API, and the secret
//! has full entropy, so a fast hash suffices).

use crate::http::Problem;
use axum::http::{HeaderMap, StatusCode, header};
use claimtrail_store::{Store, StoreError, stmt};
use sea_orm::{ConnectionTrait, Value};
use sha2::{Digest, Sha256};

/// Roles of DESIGN.md "Security and privacy".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Provider,
    Payer,
    Finance,
    Auditor,
    Admin,
}

impl Role {
    pub fn parse(text: &str) -> Option<Role> {
        Some(match text {
            "provider" => Role::Provider,
            "payer" => Role::Payer,
            "finance" => Role::Finance,
            "auditor" => Role::Auditor,
            "admin" => Role::Admin,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Provider => "provider",
            Role::Payer => "payer",
            Role::Finance => "finance",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }

    /// Whether this tenant may publish reference data for `payer_id`: an
    /// admin for any payer, a payer key only for its own.
    pub fn may_publish_for(self, tenant: &Tenant, payer_id: &str) -> bool {
        match self {
            Role::Admin => true,
            Role::Payer => tenant.payer_id.as_deref() == Some(payer_id),
            _ => false,
        }
    }

    /// Whether this tenant reads the journal of `payer_id`: finance, auditor
    /// and admin keys every payer's, a payer key its own.
    pub fn reads_journal_of(self, tenant: &Tenant, payer_id: &str) -> bool {
        match self {
            Role::Finance | Role::Auditor | Role::Admin => true,
            Role::Payer => tenant.payer_id.as_deref() == Some(payer_id),
            Role::Provider => false,
        }
    }

    /// Whether this role reads every tenant's claims.
    pub fn reads_all_claims(self) -> bool {
        matches!(self, Role::Auditor | Role::Admin)
    }

    /// The ledger (DESIGN.md: "readable with an auditor key or the payer's
    /// own"): auditors, admins and payers. It carries no PHI, but who reads
    /// it is still an authenticated tenant.
    pub fn reads_ledger(self) -> bool {
        matches!(self, Role::Auditor | Role::Admin | Role::Payer)
    }
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub name: String,
    pub role: Role,
    pub key_id: String,
    /// For a payer key, the payer it publishes for; none for other roles.
    pub payer_id: Option<String>,
}

/// A freshly created key: the only time the secret is seen.
pub struct CreatedKey {
    pub key_id: String,
    pub api_key: String,
}

fn unauthorized(detail: &str) -> Problem {
    Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized", detail)
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Creates a key for `tenant` with `role` in the registry; a payer key needs the `payer_id`
/// it publishes reference data for (its scope), other roles take none.
pub async fn create_key(store: &Store, tenant: &str, role: Role, payer_id: Option<&str>) -> Result<CreatedKey, StoreError> {
    match (role, payer_id) {
        (Role::Payer, None) => return Err(StoreError::Config("a payer key needs the payer id it publishes for (--payer-id)".into())),
        (Role::Payer, Some(_)) => {}
        (_, Some(_)) => return Err(StoreError::Config(format!("only payer keys take a payer id, not {} keys", role.as_str()))),
        (_, None) => {}
    }
    let mut key_id = [0u8; 8];
    let mut secret = [0u8; 32];
    getrandom::fill(&mut key_id).and_then(|()| getrandom::fill(&mut secret)).map_err(|e| StoreError::Config(format!("no system randomness: {e}")))?;
    let key_id = hex::encode(key_id);
    let secret = hex::encode(secret);
    store
        .db()
        .execute_raw(stmt(
            store,
            format!("INSERT INTO {} (key_id, secret_sha256, tenant, role, payer_id) VALUES ($1, $2, $3, $4, $5)", store.table("api_keys")),
            vec![
                Value::from(key_id.clone()),
                Value::from(sha256(secret.as_bytes()).to_vec()),
                Value::from(tenant.to_owned()),
                Value::from(role.as_str().to_owned()),
                Value::from(payer_id.map(str::to_owned)),
            ],
        ))
        .await?;
    Ok(CreatedKey { api_key: format!("ct_{key_id}_{secret}"), key_id })
}

/// Authenticates `Authorization: Bearer <api key>` (none or unknown: 401) and
/// applies the per-key rate limit (429 with Retry-After).
pub async fn authenticate(runtime: &crate::Runtime, headers: &HeaderMap) -> Result<Tenant, Problem> {
    let tenant = authenticate_key(&runtime.registry, headers).await?;
    rate_limiter(runtime.settings.rate_limit_per_second).check(&tenant.key_id)?;
    Ok(tenant)
}

/// A token bucket per API key, in this process: `per_second` tokens a second,
/// up to twice that in a burst. Several intake replicas each allow the rate.
pub struct RateLimiter {
    per_second: f64,
    buckets: std::sync::Mutex<std::collections::HashMap<String, (f64, std::time::Instant)>>,
}

/// Keys tracked at most; the least recently used half is forgotten beyond it.
const RATE_LIMIT_KEYS_MAX: usize = 100_000;

impl RateLimiter {
    pub fn new(per_second: u32) -> RateLimiter {
        RateLimiter { per_second: f64::from(per_second), buckets: std::sync::Mutex::new(std::collections::HashMap::new()) }
    }

    /// Takes one token for `key_id`, or answers 429 with the seconds to wait.
    pub fn check(&self, key_id: &str) -> Result<(), Problem> {
        if self.per_second <= 0.0 {
            return Ok(());
        }
        let burst = self.per_second * 2.0;
        let now = std::time::Instant::now();
        let Ok(mut buckets) = self.buckets.lock() else { return Ok(()) };
        if buckets.len() > RATE_LIMIT_KEYS_MAX {
            let mut by_age: Vec<(String, std::time::Instant)> = buckets.iter().map(|(k, (_, at))| (k.clone(), *at)).collect();
            by_age.sort_by_key(|(_, at)| *at);
            for (key, _) in by_age.into_iter().take(RATE_LIMIT_KEYS_MAX / 2) {
                buckets.remove(&key);
            }
        }
        let (tokens, at) = buckets.entry(key_id.to_owned()).or_insert((burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.per_second).min(burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            return Ok(());
        }
        let wait_seconds = ((1.0 - *tokens) / self.per_second).ceil().max(1.0) as u64;
        let mut problem = Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "Too many requests",
            format!("this API key may make {} requests per second; retry after {wait_seconds} s", self.per_second),
        );
        problem.retry_after_seconds = Some(wait_seconds);
        Err(problem)
    }
}

fn rate_limiter(per_second: u32) -> &'static RateLimiter {
    static LIMITER: std::sync::OnceLock<RateLimiter> = std::sync::OnceLock::new();
    LIMITER.get_or_init(|| RateLimiter::new(per_second))
}

/// Authenticates `Authorization: Bearer <api key>`; none or unknown: 401.
pub async fn authenticate_key(store: &Store, headers: &HeaderMap) -> Result<Tenant, Problem> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| unauthorized("send `Authorization: Bearer <api key>`"))?
        .to_str()
        .map_err(|_| unauthorized("the Authorization header is not text"))?;
    let key = value.strip_prefix("Bearer ").ok_or_else(|| unauthorized("the Authorization scheme must be Bearer"))?.trim();
    check_key(store, key).await
}

/// The tenant of an API key, or None when the key is unknown.
pub async fn verify_key(store: &Store, key: &str) -> Result<Option<Tenant>, StoreError> {
    match check_key(store, key).await {
        Ok(tenant) => Ok(Some(tenant)),
        Err(problem) if problem.status == 401 => Ok(None),
        Err(problem) => Err(StoreError::Corrupt(problem.detail)),
    }
}

async fn check_key(store: &Store, key: &str) -> Result<Tenant, Problem> {
    let mut parts = key.splitn(3, '_');
    let (Some("ct"), Some(key_id), Some(secret)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(unauthorized("the API key is not of the form ct_<key id>_<secret>"));
    };
    let row = store
        .reader()
        .query_one_raw(stmt(
            store,
            format!("SELECT secret_sha256, tenant, role, payer_id FROM {} WHERE key_id = $1", store.table("api_keys")),
            vec![Value::from(key_id.to_owned())],
        ))
        .await?;
    let presented = sha256(secret.as_bytes());
    // Compare against a dummy when the key id is unknown, so timing does not tell which ids exist.
    let (stored, tenant, role, payer_id) = match row {
        Some(row) => (
            row.try_get_by_index::<Vec<u8>>(0)?,
            row.try_get_by_index::<String>(1)?,
            row.try_get_by_index::<String>(2)?,
            row.try_get_by_index::<Option<String>>(3)?,
        ),
        None => (vec![0u8; 32], String::new(), String::new(), None),
    };
    if !constant_time_eq(&stored, &presented) || tenant.is_empty() {
        return Err(unauthorized("unknown API key"));
    }
    let role = Role::parse(&role).ok_or_else(|| Problem::internal(&anyhow::anyhow!("stored key {key_id} has an unknown role")))?;
    Ok(Tenant { name: tenant, role, key_id: key_id.to_owned(), payer_id })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_over_its_rate_gets_429_with_retry_after_and_others_are_unaffected() {
        let limiter = RateLimiter::new(5);
        for _ in 0..10 {
            assert!(limiter.check("a").is_ok(), "the burst is twice the rate");
        }
        let refused = limiter.check("a").unwrap_err();
        assert_eq!(refused.status, 429);
        assert_eq!(refused.retry_after_seconds, Some(1));
        assert!(limiter.check("b").is_ok());
        assert!(RateLimiter::new(0).check("a").is_ok());
    }

    #[test]
    fn equal_and_unequal_digests_compare_as_expected() {
        assert!(constant_time_eq(&[1, 2, 3], &[1, 2, 3]));
        assert!(!constant_time_eq(&[1, 2, 3], &[1, 2, 4]));
        assert!(!constant_time_eq(&[1, 2], &[1, 2, 3]));
    }
}
