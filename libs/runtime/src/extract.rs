//! Request extractors shared by every service's API, so that a handler's
//! signature says who may call it and no handler repeats the checks:
//!
//! - [`Caller`]: the authenticated tenant (`Authorization: Bearer`, 401
//!   without a known key, 429 over the key's rate), as [`auth::authenticate`].
//! - [`Authorized<P>`]: a caller that the [`Permission`] `P` admits; 403 with
//!   `P`'s detail otherwise.
//! - [`ForPayer<P>`]: a caller acting on the `{payer_id}` of the path, within
//!   the key's payer scope as the [`PayerPermission`] `P` says; 403 otherwise.
//! - [`LimitedBody`]: the request body read whole up to the server's limit
//!   (`settings.body_bytes_max`); [`read_body`] reads one up to an explicit
//!   limit. Over it: 413, a problem naming the limit.
//!
//! Extractors run in the order of the handler's arguments, body last; put
//! the caller first so that a request without a key is refused before
//! anything else is read.

use std::marker::PhantomData;

use axum::body::{Body, Bytes};
use axum::extract::{FromRef, FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use crate::Runtime;
use crate::auth::{self, Tenant};
use crate::http::Problem;

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller(pub Tenant);

impl<S> FromRequestParts<S> for Caller
where
    Runtime: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Caller, Problem> {
        let runtime = Runtime::from_ref(state);
        auth::authenticate(&runtime, &parts.headers).await.map(Caller)
    }
}

/// Who may call an operation, and what a caller it refuses is told.
pub trait Permission {
    /// Whether `tenant` may call it.
    fn allows(tenant: &Tenant) -> bool;
    /// The 403's detail.
    fn denied(tenant: &Tenant) -> String;
}

/// A caller that the permission `P` admits.
pub struct Authorized<P> {
    pub tenant: Tenant,
    permission: PhantomData<P>,
}

// By hand: derived impls would ask the marker `P` for Debug and Clone too.
impl<P> std::fmt::Debug for Authorized<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorized").field("tenant", &self.tenant).field("permission", &std::any::type_name::<P>()).finish()
    }
}

impl<P> Clone for Authorized<P> {
    fn clone(&self) -> Authorized<P> {
        Authorized { tenant: self.tenant.clone(), permission: PhantomData }
    }
}

impl<P: Permission> Authorized<P> {
    /// Checks `tenant` against `P`: itself, or a 403 with `P`'s detail.
    pub fn check(tenant: Tenant) -> Result<Authorized<P>, Problem> {
        if P::allows(&tenant) { Ok(Authorized { tenant, permission: PhantomData }) } else { Err(Problem::forbidden(P::denied(&tenant))) }
    }
}

impl<S, P> FromRequestParts<S> for Authorized<P>
where
    Runtime: FromRef<S>,
    S: Send + Sync,
    P: Permission,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Authorized<P>, Problem> {
        let Caller(tenant) = Caller::from_request_parts(parts, state).await?;
        Authorized::check(tenant)
    }
}

/// Who may act on a payer's data named in the path, and what a caller it
/// refuses is told.
pub trait PayerPermission {
    /// Whether `tenant` may act on `payer_id`'s data; by default an admin key
    /// for any payer and a payer key for its own ([`auth::Role::may_publish_for`]).
    fn allows(tenant: &Tenant, payer_id: &str) -> bool {
        tenant.role.may_publish_for(tenant, payer_id)
    }
    /// The 403's detail.
    fn denied(tenant: &Tenant, payer_id: &str) -> String;
}

/// A caller acting on the payer of the path's `{payer_id}`, which the
/// permission `P` admits for it.
pub struct ForPayer<P> {
    pub tenant: Tenant,
    pub payer_id: String,
    permission: PhantomData<P>,
}

impl<P> std::fmt::Debug for ForPayer<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForPayer").field("tenant", &self.tenant).field("payer_id", &self.payer_id).field("permission", &std::any::type_name::<P>()).finish()
    }
}

impl<P> Clone for ForPayer<P> {
    fn clone(&self) -> ForPayer<P> {
        ForPayer { tenant: self.tenant.clone(), payer_id: self.payer_id.clone(), permission: PhantomData }
    }
}

impl<P: PayerPermission> ForPayer<P> {
    /// Checks `tenant` against `P` for `payer_id`: itself, or a 403 with `P`'s detail.
    pub fn check(tenant: Tenant, payer_id: String) -> Result<ForPayer<P>, Problem> {
        if P::allows(&tenant, &payer_id) {
            Ok(ForPayer { tenant, payer_id, permission: PhantomData })
        } else {
            Err(Problem::forbidden(P::denied(&tenant, &payer_id)))
        }
    }
}

impl<S, P> FromRequestParts<S> for ForPayer<P>
where
    Runtime: FromRef<S>,
    S: Send + Sync,
    P: PayerPermission,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<ForPayer<P>, Problem> {
        let Caller(tenant) = Caller::from_request_parts(parts, state).await?;
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|rejection| Problem::bad_request(format!("the path is not readable: {rejection}")))?;
        let payer_id = params
            .iter()
            .find(|(name, _)| *name == "payer_id")
            .map(|(_, value)| value.to_owned())
            .ok_or_else(|| Problem::internal(&anyhow::anyhow!("ForPayer on a route without {{payer_id}}")))?;
        ForPayer::check(tenant, payer_id)
    }
}

/// The ledger (DESIGN.md: "readable with an auditor key or the payer's
/// own"): auditor, admin and payer keys ([`Role::reads_ledger`]).
pub struct LedgerReader;

impl Permission for LedgerReader {
    fn allows(tenant: &Tenant) -> bool {
        tenant.role.reads_ledger()
    }
    fn denied(_: &Tenant) -> String {
        "the ledger is read with an auditor, admin or payer key".to_owned()
    }
}

/// The journal: finance, auditor, admin and payer keys, each within its
/// payers ([`Tenant::journal_scope`]); a provider key none.
pub struct JournalReader;

impl Permission for JournalReader {
    fn allows(tenant: &Tenant) -> bool {
        tenant.journal_scope().is_some()
    }
    fn denied(_: &Tenant) -> String {
        "the journal is for finance, auditor, admin and payer keys".to_owned()
    }
}

/// A request body read whole, up to the server's limit
/// (`settings.body_bytes_max`); over it, 413 naming the limit.
#[derive(Debug, Clone)]
pub struct LimitedBody(pub Bytes);

impl<S> FromRequest<S> for LimitedBody
where
    Runtime: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<LimitedBody, Problem> {
        read_request(request, Runtime::from_ref(state).settings.body_bytes_max).await.map(LimitedBody)
    }
}

/// A policy table file read whole, up to `settings.policy_bytes_max` (CMS
/// files are far larger than the request body limit); over it, 413 naming
/// the limit.
#[derive(Debug, Clone)]
pub struct PolicyFileBody(pub Bytes);

impl<S> FromRequest<S> for PolicyFileBody
where
    Runtime: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<PolicyFileBody, Problem> {
        read_request(request, Runtime::from_ref(state).settings.policy_bytes_max).await.map(PolicyFileBody)
    }
}

/// Bytes of an oversized body read and discarded before answering 413, so
/// that the client, still sending, receives the answer instead of a reset.
const OVERSIZE_DRAIN_MAX: usize = 4 * 1024 * 1024;

/// The whole body of `request`, up to `limit_bytes` ([`read_body`]).
async fn read_request(request: Request, limit_bytes: usize) -> Result<Bytes, Problem> {
    let (parts, body) = request.into_parts();
    read_body(&parts.headers, body, limit_bytes).await
}

/// Reads `body` up to `limit_bytes`; a larger one (by its Content-Length or
/// as it arrives) is a 413 naming the limit ([`Problem::payload_too_large`]).
pub async fn read_body(headers: &HeaderMap, body: Body, limit_bytes: usize) -> Result<Bytes, Problem> {
    use http_body_util::BodyExt as _;
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let mut body = body;
    let mut collected = Vec::with_capacity(declared.map_or(0, |length| length.min(limit_bytes as u64) as usize));
    let mut seen = 0usize;
    let mut too_large = declared.is_some_and(|length| length > limit_bytes as u64);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| Problem::bad_request(format!("the request body could not be read: {e}")))?;
        let Ok(data) = frame.into_data() else { continue };
        seen += data.len();
        if seen > limit_bytes {
            too_large = true;
        }
        if too_large {
            if seen > limit_bytes + OVERSIZE_DRAIN_MAX {
                break;
            }
            continue;
        }
        collected.extend_from_slice(&data);
    }
    if too_large {
        return Err(Problem::payload_too_large(limit_bytes));
    }
    Ok(Bytes::from(collected))
}

/// The longest Idempotency-Key a request may carry.
pub const IDEMPOTENCY_KEY_CHARS_MAX: usize = 255;

/// The request's `Idempotency-Key`, if it sends one: 1 to
/// [`IDEMPOTENCY_KEY_CHARS_MAX`] visible ASCII characters, else a 400.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, Problem> {
    let Some(value) = headers.get("idempotency-key") else { return Ok(None) };
    match value.to_str().ok().filter(|key| !key.is_empty() && key.len() <= IDEMPOTENCY_KEY_CHARS_MAX && key.bytes().all(|b| b.is_ascii_graphic())) {
        Some(key) => Ok(Some(key.to_owned())),
        None => Err(Problem::bad_request("Idempotency-Key must be 1-255 visible ASCII characters")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idempotency_key_is_one_to_255_visible_ascii_characters() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert("idempotency-key", value.parse().unwrap());
            idempotency_key(&headers)
        };
        assert_eq!(idempotency_key(&HeaderMap::new()).unwrap(), None);
        assert_eq!(with("appeal-1").unwrap().as_deref(), Some("appeal-1"));
        assert!(with("two words").is_err());
        assert!(with(&"k".repeat(256)).is_err());
    }
    use crate::auth::{PayerScope, Role};

    fn tenant(role: Role, payer_id: Option<&str>) -> Tenant {
        let payers = PayerScope::Only(payer_id.map(str::to_owned).into_iter().collect());
        Tenant { name: "t".into(), role, key_id: "k".into(), payer_id: payer_id.map(str::to_owned), payers }
    }

    struct AdminsOnly;
    impl Permission for AdminsOnly {
        fn allows(tenant: &Tenant) -> bool {
            tenant.role == Role::Admin
        }
        fn denied(tenant: &Tenant) -> String {
            format!("not for a {} key", tenant.role.as_str())
        }
    }

    struct Publishes;
    impl PayerPermission for Publishes {
        fn denied(_: &Tenant, payer_id: &str) -> String {
            format!("only payer {payer_id}'s own key")
        }
    }

    #[test]
    fn a_permission_admits_its_roles_and_refuses_others_with_its_detail() {
        assert!(Authorized::<AdminsOnly>::check(tenant(Role::Admin, None)).is_ok());
        let refused = Authorized::<AdminsOnly>::check(tenant(Role::Provider, None)).unwrap_err();
        assert_eq!((refused.status, refused.detail.as_str()), (403, "not for a provider key"));
        assert!(Authorized::<LedgerReader>::check(tenant(Role::Auditor, None)).is_ok());
        assert_eq!(Authorized::<LedgerReader>::check(tenant(Role::Finance, None)).unwrap_err().status, 403);
        assert!(Authorized::<JournalReader>::check(tenant(Role::Finance, None)).is_ok());
        assert_eq!(
            Authorized::<JournalReader>::check(tenant(Role::Provider, None)).unwrap_err().detail,
            "the journal is for finance, auditor, admin and payer keys"
        );
    }

    #[test]
    fn a_payer_key_acts_on_its_own_payer_only_and_an_admin_on_any() {
        let own = ForPayer::<Publishes>::check(tenant(Role::Payer, Some("60054")), "60054".into()).unwrap();
        assert_eq!(own.payer_id, "60054");
        let other = ForPayer::<Publishes>::check(tenant(Role::Payer, Some("60054")), "61101".into()).unwrap_err();
        assert_eq!((other.status, other.detail.as_str()), (403, "only payer 61101's own key"));
        assert!(ForPayer::<Publishes>::check(tenant(Role::Admin, None), "61101".into()).is_ok());
        assert!(ForPayer::<Publishes>::check(tenant(Role::Auditor, None), "61101".into()).is_err());
    }

    fn length(bytes: usize) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_LENGTH, bytes.into());
        headers
    }

    #[tokio::test]
    async fn a_body_within_the_limit_is_read_whole_and_one_over_it_is_a_413_naming_the_limit() {
        let read = read_body(&HeaderMap::new(), Body::from(vec![b'x'; 64]), 64).await.unwrap();
        assert_eq!(read.len(), 64);
        let streamed = read_body(&HeaderMap::new(), Body::from(vec![b'x'; 65]), 64).await.unwrap_err();
        assert_eq!(streamed.status, 413);
        assert_eq!(streamed.detail, "the request body is larger than the limit of 64 bytes");
        let declared = read_body(&length(1_000), Body::from(vec![b'x'; 10]), 64).await.unwrap_err();
        assert_eq!(declared.status, 413, "a declared length over the limit is refused");
    }
}
