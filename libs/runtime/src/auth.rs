//! API keys: `ct_<key id>_<secret>`, a 64-bit key id and a 256-bit random
//! secret. Only SHA-256 of the secret is stored; it is compared in constant
//! time (a slow password hash per request would cap the API, and the secret
//! has full entropy, so a fast hash suffices).

use crate::http::Problem;
use axum::http::{HeaderMap, StatusCode, header};
use claimtrail_store::registry::StoredKey;
use claimtrail_store::{Store, StoreError};
use sea_orm::Value;
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

    /// The ledger (DESIGN.md: "readable with an auditor key or the payer's
    /// own"): auditors, admins and payers. It carries no PHI, but who reads
    /// it is still an authenticated tenant.
    pub fn reads_ledger(self) -> bool {
        matches!(self, Role::Auditor | Role::Admin | Role::Payer)
    }
}

/// The payers whose claims, journal and access log a key may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayerScope {
    /// Every payer: admin keys, and finance or auditor keys created with `--all-payers`.
    All,
    /// These payers only (none for a provider key, or a finance or auditor
    /// key created before keys were scoped).
    Only(Vec<String>),
}

/// How `api_keys.payer_ids` writes [`PayerScope::All`]; a list is the ids joined by commas.
const ALL_PAYERS: &str = "*";

impl PayerScope {
    pub fn includes(&self, payer_id: &str) -> bool {
        match self {
            PayerScope::All => true,
            PayerScope::Only(payer_ids) => payer_ids.iter().any(|id| id == payer_id),
        }
    }

    /// The payers in scope, or None for every payer.
    pub fn payer_ids(&self) -> Option<&[String]> {
        match self {
            PayerScope::All => None,
            PayerScope::Only(payer_ids) => Some(payer_ids),
        }
    }

    /// A condition that keeps the rows whose `column` is one of these payers,
    /// its values pushed onto `values` (numbered after those already there);
    /// None for every payer. The SQL is [`claimtrail_store::one_of_condition`]'s.
    pub fn sql_condition(&self, column: &str, values: &mut Vec<Value>) -> Option<String> {
        claimtrail_store::one_of_condition(column, self.payer_ids(), values)
    }

    fn stored(&self) -> String {
        match self {
            PayerScope::All => ALL_PAYERS.to_owned(),
            PayerScope::Only(payer_ids) => payer_ids.join(","),
        }
    }

    fn from_stored(text: Option<&str>) -> PayerScope {
        match text {
            Some(ALL_PAYERS) => PayerScope::All,
            Some(text) => PayerScope::Only(text.split(',').filter(|id| !id.is_empty()).map(str::to_owned).collect()),
            None => PayerScope::Only(Vec::new()),
        }
    }
}

/// What a new key acts for, checked against its role by [`key_scope`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyScope {
    /// A payer key's payer (`api_keys.payer_id`).
    pub payer_id: Option<String>,
    /// A finance or auditor key's payers (`api_keys.payer_ids`).
    pub payers: Option<PayerScope>,
}

/// Checks the payers given for a new key of `role` (`--payer-id`, repeatable,
/// and `--all-payers`): a payer key acts for exactly one payer; finance and
/// auditor keys read the payers named, or every payer only when that is asked
/// for explicitly; provider and admin keys take neither.
pub fn key_scope(role: Role, payer_ids: &[String], all_payers: bool) -> Result<KeyScope, String> {
    for payer_id in payer_ids {
        if payer_id.is_empty() || payer_id.len() > 80 || payer_id.contains(|c: char| c == ',' || c == '*' || c.is_whitespace() || c.is_control()) {
            return Err(format!("--payer-id `{payer_id}` is not a payer id (1 to 80 characters, without commas, `*` or spaces)"));
        }
    }
    let mut unique: Vec<String> = payer_ids.to_vec();
    unique.sort();
    unique.dedup();
    match role {
        Role::Payer if all_payers => Err("--all-payers is for finance and auditor keys; a payer key acts for one payer (--payer-id)".into()),
        Role::Payer => match unique.as_slice() {
            [payer_id] => Ok(KeyScope { payer_id: Some(payer_id.clone()), payers: None }),
            [] => Err("a payer key needs the payer id it publishes for (--payer-id)".into()),
            _ => Err(format!("a payer key acts for one payer, not {} (give --payer-id once)", unique.len())),
        },
        Role::Finance | Role::Auditor => match (unique.is_empty(), all_payers) {
            (true, false) => {
                Err(format!("a {} key needs the payers it may read: --payer-id ID (repeatable), or --all-payers for an operator-wide key", role.as_str()))
            }
            (false, true) => Err("give either --payer-id or --all-payers, not both".into()),
            (true, true) => Ok(KeyScope { payer_id: None, payers: Some(PayerScope::All) }),
            (false, false) => Ok(KeyScope { payer_id: None, payers: Some(PayerScope::Only(unique)) }),
        },
        Role::Provider | Role::Admin if all_payers || !unique.is_empty() => {
            Err(format!("only payer, finance and auditor keys take --payer-id or --all-payers, not {} keys", role.as_str()))
        }
        Role::Provider | Role::Admin => Ok(KeyScope { payer_id: None, payers: None }),
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
    /// The payers whose data it reads: every one for an admin key, a payer
    /// key's own, a finance or auditor key's list (or every one when created
    /// with `--all-payers`), none for a provider key.
    pub payers: PayerScope,
}

impl Tenant {
    /// Whose journal this tenant reads (None: it may not read journals at all).
    pub fn journal_scope(&self) -> Option<&PayerScope> {
        (self.role != Role::Provider).then_some(&self.payers)
    }

    /// Whose claims (submitted by other tenants) this tenant reads: auditors
    /// and admins, within their payers. Every tenant reads the claims it submitted.
    pub fn claims_scope(&self) -> Option<&PayerScope> {
        matches!(self.role, Role::Auditor | Role::Admin).then_some(&self.payers)
    }

    /// Whether this tenant reads a claim that `submitter` submitted to `payer_id`
    /// (none when the claim was rejected before its payer was known).
    pub fn reads_claim(&self, submitter: &str, payer_id: Option<&str>) -> bool {
        submitter == self.name
            || self.claims_scope().is_some_and(|scope| match payer_id {
                Some(payer_id) => scope.includes(payer_id),
                None => *scope == PayerScope::All,
            })
    }
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

/// Creates a key for `tenant` with `role` in the registry, acting for the
/// payers `payer_ids` names (or every payer, with `all_payers`), as [`key_scope`] allows.
pub async fn create_key(store: &Store, tenant: &str, role: Role, payer_ids: &[String], all_payers: bool) -> Result<CreatedKey, StoreError> {
    let scope = key_scope(role, payer_ids, all_payers).map_err(StoreError::Config)?;
    let mut key_id = [0u8; 8];
    let mut secret = [0u8; 32];
    getrandom::fill(&mut key_id).and_then(|()| getrandom::fill(&mut secret)).map_err(|e| StoreError::Config(format!("no system randomness: {e}")))?;
    let key_id = hex::encode(key_id);
    let secret = hex::encode(secret);
    let stored = StoredKey {
        key_id: key_id.clone(),
        secret_sha256: sha256(secret.as_bytes()).to_vec(),
        tenant: tenant.to_owned(),
        role: role.as_str().to_owned(),
        payer_id: scope.payer_id,
        payer_ids: scope.payers.map(|payers| payers.stored()),
    };
    claimtrail_store::registry::insert_api_key(store, &stored).await?;
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
    let row = claimtrail_store::registry::api_key(store, key_id).await?;
    let presented = sha256(secret.as_bytes());
    // Compare against a dummy when the key id is unknown, so timing does not tell which ids exist.
    let (stored, tenant, role, payer_id, payer_ids) = match row {
        Some(key) => (key.secret_sha256, key.tenant, key.role, key.payer_id, key.payer_ids),
        None => (vec![0u8; 32], String::new(), String::new(), None, None),
    };
    if !constant_time_eq(&stored, &presented) || tenant.is_empty() {
        return Err(unauthorized("unknown API key"));
    }
    let role = Role::parse(&role).ok_or_else(|| Problem::internal(&anyhow::anyhow!("stored key {key_id} has an unknown role")))?;
    let payers = tenant_payers(role, payer_id.as_deref(), payer_ids.as_deref());
    Ok(Tenant { name: tenant, role, key_id: key_id.to_owned(), payer_id, payers })
}

/// The payers a stored key reads, from its role and columns.
fn tenant_payers(role: Role, payer_id: Option<&str>, payer_ids: Option<&str>) -> PayerScope {
    match role {
        Role::Admin => PayerScope::All,
        Role::Payer => PayerScope::Only(payer_id.map(str::to_owned).into_iter().collect()),
        Role::Finance | Role::Auditor => PayerScope::from_stored(payer_ids),
        Role::Provider => PayerScope::Only(Vec::new()),
    }
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

    fn ids(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|id| (*id).to_owned()).collect()
    }

    #[test]
    fn finance_and_auditor_keys_without_payers_are_refused_unless_operator_wide_is_explicit() {
        for role in [Role::Finance, Role::Auditor] {
            let error = key_scope(role, &[], false).unwrap_err();
            assert!(error.contains("--payer-id") && error.contains("--all-payers") && error.contains(role.as_str()), "{error}");
            assert_eq!(key_scope(role, &[], true).unwrap().payers, Some(PayerScope::All));
            let scoped = key_scope(role, &ids(&["60054", "61101", "60054"]), false).unwrap();
            assert_eq!(scoped, KeyScope { payer_id: None, payers: Some(PayerScope::Only(ids(&["60054", "61101"]))) });
            assert!(key_scope(role, &ids(&["60054"]), true).unwrap_err().contains("not both"));
        }
    }

    #[test]
    fn a_payer_key_acts_for_exactly_one_payer_and_other_roles_take_none() {
        assert_eq!(key_scope(Role::Payer, &ids(&["60054"]), false).unwrap(), KeyScope { payer_id: Some("60054".into()), payers: None });
        assert!(key_scope(Role::Payer, &[], false).unwrap_err().contains("--payer-id"));
        assert!(key_scope(Role::Payer, &ids(&["60054", "61101"]), false).unwrap_err().contains("one payer"));
        assert!(key_scope(Role::Payer, &ids(&["60054"]), true).unwrap_err().contains("--all-payers"));
        for role in [Role::Provider, Role::Admin] {
            assert_eq!(key_scope(role, &[], false).unwrap(), KeyScope { payer_id: None, payers: None });
            assert!(key_scope(role, &ids(&["60054"]), false).unwrap_err().contains(role.as_str()));
            assert!(key_scope(role, &[], true).is_err());
        }
    }

    #[test]
    fn a_payer_id_that_could_not_be_stored_in_a_list_is_refused_naming_it() {
        for bad in ["", "600,54", "*", "60 054"] {
            let error = key_scope(Role::Finance, &ids(&[bad]), false).unwrap_err();
            assert!(error.contains(&format!("`{bad}`")), "{error}");
        }
    }

    #[test]
    fn a_stored_scope_reads_back_as_written_and_a_legacy_unscoped_key_reads_no_payer() {
        for scope in [PayerScope::All, PayerScope::Only(ids(&["60054"])), PayerScope::Only(ids(&["60054", "61101"]))] {
            assert_eq!(PayerScope::from_stored(Some(&scope.stored())), scope);
        }
        assert_eq!(tenant_payers(Role::Finance, None, None), PayerScope::Only(vec![]));
        assert_eq!(tenant_payers(Role::Auditor, None, Some("*")), PayerScope::All);
        assert_eq!(tenant_payers(Role::Payer, Some("60054"), None), PayerScope::Only(ids(&["60054"])));
        assert_eq!(tenant_payers(Role::Admin, None, None), PayerScope::All);
        assert_eq!(tenant_payers(Role::Provider, None, Some("*")), PayerScope::Only(vec![]));
    }

    fn tenant(role: Role, payers: PayerScope) -> Tenant {
        Tenant { name: "t".into(), role, key_id: "k".into(), payer_id: None, payers }
    }

    #[test]
    fn another_payers_claim_and_journal_are_outside_a_scoped_key() {
        let auditor = tenant(Role::Auditor, PayerScope::Only(ids(&["60054"])));
        assert!(auditor.reads_claim("riverside", Some("60054")));
        assert!(!auditor.reads_claim("riverside", Some("61101")));
        assert!(!auditor.reads_claim("riverside", None), "a claim without a payer is only for every-payer keys");
        assert!(tenant(Role::Auditor, PayerScope::All).reads_claim("riverside", None));
        assert!(tenant(Role::Admin, PayerScope::All).reads_claim("riverside", Some("61101")));
        let finance = tenant(Role::Finance, PayerScope::Only(ids(&["60054"])));
        assert!(!finance.reads_claim("riverside", Some("60054")), "finance reads journals, not claims");
        assert!(finance.reads_claim("t", Some("61101")), "its own submissions");
        assert_eq!(finance.journal_scope(), Some(&PayerScope::Only(ids(&["60054"]))));
        assert_eq!(tenant(Role::Provider, PayerScope::Only(vec![])).journal_scope(), None);
    }

    #[test]
    fn a_scope_becomes_a_bound_sql_condition_numbered_after_earlier_values() {
        let mut values = vec![Value::from(1i64)];
        let condition = PayerScope::Only(ids(&["60054", "61101"])).sql_condition("e.payer_id", &mut values);
        assert_eq!(condition.as_deref(), Some("e.payer_id IN ($2, $3)"));
        assert_eq!(values.len(), 3);
        assert_eq!(PayerScope::Only(vec![]).sql_condition("payer_id", &mut values).as_deref(), Some("1 = 0"));
        assert_eq!(PayerScope::All.sql_condition("payer_id", &mut values), None);
        assert_eq!(values.len(), 3);
    }

    #[test]
    fn equal_and_unequal_digests_compare_as_expected() {
        assert!(constant_time_eq(&[1, 2, 3], &[1, 2, 3]));
        assert!(!constant_time_eq(&[1, 2, 3], &[1, 2, 4]));
        assert!(!constant_time_eq(&[1, 2], &[1, 2, 3]));
    }
}
