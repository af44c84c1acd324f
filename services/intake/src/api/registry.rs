//! The registries behind intake's scoping and edits: payers (with their
//! timely-filing limit), providers (NPI, the organization whose keys bill
//! under it, licence, pay-to and bank account) and the organizations'
//! submission signing keys.
//!
//! Payers and providers are reference data: each write updates intake's
//! projection and emits `payer.registered.v1` / `provider.registered.v1` on
//! `reference.>` in the same transaction. Signing keys are intake's own:
//! an organization registers a public key, signs SHA3-256 of each request
//! body, and intake keeps the verified signature with the claim event.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, put};
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use claimtrail_events::{NewEvent, PayerRegistered, ProviderRegistered, SubmissionSignature, format_date};
use claimtrail_runtime::Runtime;
use claimtrail_runtime::extract::{Authorized, Caller, ForPayer, LimitedBody, PayerPermission, Permission, read_body};
use claimtrail_runtime::http::{FieldError, Problem};
use claimtrail_store::{Store, StoreError, outbox};
use sea_orm::{ConnectionTrait, TransactionTrait};
use serde::{Deserialize, Serialize};
use sha3::Digest as _;

use super::field_errors;
use crate::auth::{Role, Tenant};
pub use crate::domain::registry::{
    BankAccountBody, LicenceBody, PayToBody, PayerBody, ProviderBody, TIMELY_FILING_DAYS_MAX, mask, valid_id, valid_routing_number, validate_payer,
    validate_provider,
};
use crate::storage;

/// Signing keys one organization may hold at once.
pub const SIGNING_KEYS_PER_ORGANIZATION_MAX: usize = 10;
/// The request header carrying a submission signature.
pub const SIGNATURE_HEADER: &str = "claimtrail-signature";

pub fn routes(runtime: Runtime) -> Router {
    Router::new()
        .route("/v1/payers/{payer_id}", put(put_payer))
        .route("/v1/providers/{npi}", put(put_provider).get(show_provider))
        .route("/v1/signing-keys", get(list_signing_keys))
        .route("/v1/signing-keys/{key_name}", put(put_signing_key))
        .with_state(runtime)
}

/// Registers payer `{payer_id}`: an admin key, or the payer's own.
pub(crate) struct RegistersPayer;

impl PayerPermission for RegistersPayer {
    fn denied(_: &Tenant, payer_id: &str) -> String {
        format!("only an admin key or payer {payer_id}'s own key registers payer {payer_id}")
    }
}

/// Registers providers: admin keys only, since the registration decides who bills under the NPI.
pub(crate) struct RegistersProviders;

impl Permission for RegistersProviders {
    fn allows(tenant: &Tenant) -> bool {
        tenant.role == Role::Admin
    }
    fn denied(_: &Tenant) -> String {
        "only an admin key registers providers: the registration decides which organization may bill under the NPI".to_owned()
    }
}

/// Holds signing keys: provider keys, for their organization.
pub(crate) struct HoldsSigningKeys;

impl Permission for HoldsSigningKeys {
    fn allows(tenant: &Tenant) -> bool {
        tenant.role == Role::Provider
    }
    fn denied(_: &Tenant) -> String {
        "signing keys belong to provider organizations; use a provider key".to_owned()
    }
}

/// The answer to `PUT /v1/payers/{payer_id}`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PayerStored {
    pub payer_id: String,
    pub stored: bool,
}

/// Upserts a payer and emits its event, in `tx`.
pub async fn store_payer(runtime: &Runtime, tx: &impl ConnectionTrait, payer: PayerRegistered) -> Result<(), StoreError> {
    storage::registry::upsert_payer(&runtime.store, tx, &payer).await?;
    let aggregate = format!("payer:{}", payer.payer_id);
    outbox::append(&runtime.store, tx, &runtime.producer, vec![NewEvent::new(payer, aggregate)]).await?;
    Ok(())
}

#[utoipa::path(put, path = "/v1/payers/{payer_id}", tag = "reference",
    params(("payer_id" = String, Path, description = "Payer")),
    request_body(content = PayerBody, content_type = "application/json"),
    responses((status = 200, description = "Stored; `payer.registered.v1` emitted", body = PayerStored),
              (status = 403, description = "Not an admin key, nor this payer's key", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "Invalid payer, naming the field", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn put_payer(
    State(runtime): State<Runtime>,
    ForPayer { payer_id, .. }: ForPayer<RegistersPayer>,
    LimitedBody(bytes): LimitedBody,
) -> Result<Json<PayerStored>, Problem> {
    let body: PayerBody = claimtrail_runtime::http::json_body(&bytes, "a payer")?;
    let payer = validate_payer(&payer_id, &body).map_err(|errors| Problem::unprocessable("the payer is invalid; nothing was stored", field_errors(errors)))?;
    let tx = runtime.store.db().begin().await?;
    store_payer(&runtime, &tx, payer).await?;
    tx.commit().await?;
    runtime.relay_wakeup.notify_waiters();
    Ok(Json(PayerStored { payer_id, stored: true }))
}

/// The answer to `PUT /v1/providers/{npi}`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProviderStored {
    pub npi: String,
    pub stored: bool,
}

/// Upserts a provider and emits its event, in `tx`.
pub async fn store_provider(runtime: &Runtime, tx: &impl ConnectionTrait, provider: ProviderRegistered) -> Result<(), StoreError> {
    storage::registry::upsert_provider(&runtime.store, tx, &provider).await?;
    let aggregate = format!("provider:{}", provider.npi);
    outbox::append(&runtime.store, tx, &runtime.producer, vec![NewEvent::new(provider, aggregate)]).await?;
    Ok(())
}

#[utoipa::path(put, path = "/v1/providers/{npi}", tag = "reference",
    params(("npi" = String, Path, description = "Provider NPI")),
    request_body(content = ProviderBody, content_type = "application/json"),
    responses((status = 200, description = "Stored; `provider.registered.v1` emitted", body = ProviderStored),
              (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "Invalid registration, naming the field", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn put_provider(
    State(runtime): State<Runtime>,
    _admin: Authorized<RegistersProviders>,
    Path(npi): Path<String>,
    LimitedBody(bytes): LimitedBody,
) -> Result<Json<ProviderStored>, Problem> {
    let body: ProviderBody = claimtrail_runtime::http::json_body(&bytes, "a provider")?;
    let provider =
        validate_provider(&npi, &body).map_err(|errors| Problem::unprocessable("the provider is invalid; nothing was stored", field_errors(errors)))?;
    let tx = runtime.store.db().begin().await?;
    store_provider(&runtime, &tx, provider).await?;
    tx.commit().await?;
    runtime.relay_wakeup.notify_waiters();
    Ok(Json(ProviderStored { npi, stored: true }))
}

#[utoipa::path(get, path = "/v1/providers/{npi}", tag = "reference",
    params(("npi" = String, Path, description = "Provider NPI")),
    responses((status = 200, description = "The registration, the bank account number masked to its last four digits", body = ProviderView),
              (status = 404, description = "Not registered, or another organization's provider", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn show_provider(State(runtime): State<Runtime>, Caller(tenant): Caller, Path(npi): Path<String>) -> Result<Json<ProviderView>, Problem> {
    let not_found = || Problem::not_found(format!("no provider `{npi}` registered"));
    let (organization, details) = storage::registry::provider(&runtime.store, &npi).await?.ok_or_else(not_found)?;
    if tenant.role == Role::Provider && organization != tenant.name {
        return Err(not_found());
    }
    let mut provider: ProviderRegistered = serde_json::from_str(&details).map_err(|e| Problem::internal(&e.into()))?;
    if let Some(account) = provider.bank_account.as_mut() {
        account.account_number = mask(&account.account_number);
    }
    Ok(Json(ProviderView::from(provider)))
}

/// A licence as registered.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LicenceView {
    /// `YYYY-MM-DD`.
    pub expires: String,
    pub number: String,
    pub state: String,
}

/// A pay-to address as registered.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PayToView {
    pub address_line: String,
    pub city: String,
    pub name: String,
    pub postal_code: String,
    pub state: String,
}

/// A bank account as shown: the account number masked to its last four digits.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BankAccountView {
    pub account_number: String,
    pub account_type: String,
    pub routing_number: String,
}

/// `GET /v1/providers/{npi}`: the registration (as `provider.registered.v1` carries it), masked.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProviderView {
    pub bank_account: Option<BankAccountView>,
    pub entity_type: u8,
    pub licence: Option<LicenceView>,
    pub name: String,
    pub npi: String,
    pub organization: String,
    pub pay_to: PayToView,
    pub taxonomy: String,
    pub tin: String,
}

impl From<ProviderRegistered> for ProviderView {
    fn from(provider: ProviderRegistered) -> ProviderView {
        ProviderView {
            bank_account: provider.bank_account.map(|account| BankAccountView {
                account_number: account.account_number,
                account_type: account.account_type,
                routing_number: account.routing_number,
            }),
            entity_type: provider.entity_type,
            licence: provider.licence.map(|licence| LicenceView { expires: format_date(licence.expires), number: licence.number, state: licence.state }),
            name: provider.name,
            npi: provider.npi,
            organization: provider.organization,
            pay_to: PayToView {
                address_line: provider.pay_to.address_line,
                city: provider.pay_to.city,
                name: provider.pay_to.name,
                postal_code: provider.pay_to.postal_code,
                state: provider.pay_to.state,
            },
            taxonomy: provider.taxonomy,
            tin: provider.tin,
        }
    }
}

/// Whether the caller bills only under its organization's NPIs: provider
/// keys do, admin keys bill under any; other roles submit no claims (403).
pub fn bills_as_its_organization(tenant: &Tenant) -> Result<bool, Problem> {
    match tenant.role {
        Role::Admin => Ok(false),
        Role::Provider => Ok(true),
        other => Err(Problem::forbidden(format!("{} keys do not submit claims; use a provider key", other.as_str()))),
    }
}

/// The body of `PUT /v1/signing-keys/{key_name}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SigningKeyBody {
    /// Base64 of the 32-byte Ed25519 public key.
    pub public_key: String,
    /// When true, this organization's unsigned submissions are refused (401).
    #[serde(default)]
    pub require_signed_submissions: bool,
}

#[utoipa::path(put, path = "/v1/signing-keys/{key_name}", tag = "intake",
    params(("key_name" = String, Path, description = "The organization's name for the key")),
    request_body(content = SigningKeyBody, content_type = "application/json"),
    responses((status = 200, description = "Registered for the caller's organization", body = SigningKeyView),
              (status = 403, description = "Not a provider key", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "Not an Ed25519 public key, or too many keys", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn put_signing_key(
    State(runtime): State<Runtime>,
    Authorized { tenant, .. }: Authorized<HoldsSigningKeys>,
    headers: HeaderMap,
    Path(key_name): Path<String>,
    body: Body,
) -> Result<Json<SigningKeyView>, Problem> {
    let store = &runtime.store;
    if !valid_id(&key_name) {
        return Err(Problem::unprocessable(
            "the key name is invalid",
            vec![FieldError { path: "key_name".into(), message: "must be 1-80 letters, digits, - or _".into() }],
        ));
    }
    let bytes = read_body(&headers, body, runtime.settings.body_bytes_max).await?;
    let body: SigningKeyBody = claimtrail_runtime::http::json_body(&bytes, "a signing key")?;
    let public_key = parse_public_key(&body.public_key)
        .map_err(|message| Problem::unprocessable("the public key is invalid; nothing was stored", vec![FieldError { path: "public_key".into(), message }]))?;
    let tx = store.db().begin().await?;
    let existing = storage::registry::other_signing_keys(store, &tx, &tenant.name, &key_name).await?;
    if existing as usize >= SIGNING_KEYS_PER_ORGANIZATION_MAX {
        return Err(Problem::unprocessable(
            format!("an organization holds at most {SIGNING_KEYS_PER_ORGANIZATION_MAX} signing keys"),
            vec![FieldError { path: "key_name".into(), message: "too many keys".into() }],
        ));
    }
    storage::registry::upsert_signing_key(store, &tx, &tenant.name, &key_name, &public_key.to_bytes(), body.require_signed_submissions).await?;
    tx.commit().await?;
    Ok(Json(SigningKeyView { key_name, public_key: body.public_key, require_signed_submissions: body.require_signed_submissions }))
}

#[utoipa::path(get, path = "/v1/signing-keys", tag = "intake",
    responses((status = 200, description = "The signing keys of the caller's organization", body = SigningKeysView)),
    security(("api_key" = [])))]
pub(crate) async fn list_signing_keys(State(runtime): State<Runtime>, Caller(tenant): Caller) -> Result<Json<SigningKeysView>, Problem> {
    let keys = storage::registry::signing_keys(&runtime.store, &tenant.name)
        .await?
        .into_iter()
        .map(|key| SigningKeyView { key_name: key.key_name, public_key: BASE64.encode(key.public_key), require_signed_submissions: key.required })
        .collect();
    Ok(Json(SigningKeysView { keys }))
}

/// One of an organization's signing keys.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SigningKeyView {
    pub key_name: String,
    /// Base64 of the 32-byte Ed25519 public key.
    pub public_key: String,
    pub require_signed_submissions: bool,
}

/// `GET /v1/signing-keys`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SigningKeysView {
    pub keys: Vec<SigningKeyView>,
}

fn parse_public_key(text: &str) -> Result<ed25519_dalek::VerifyingKey, String> {
    let bytes = BASE64.decode(text.trim()).map_err(|e| format!("is not base64: {e}"))?;
    let bytes: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| format!("is {} bytes; an Ed25519 public key is 32", b.len()))?;
    ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|_| "is not a valid Ed25519 point".to_owned())
}

fn unauthorized(detail: impl Into<String>) -> Problem {
    Problem::new(StatusCode::UNAUTHORIZED, "bad-signature", "Signature not accepted", detail)
}

/// Checks the `Claimtrail-Signature: key=<name>, sig=<base64>` header, an
/// Ed25519 signature by one of the organization's registered keys over
/// SHA3-256 of the exact body. Absent: fine unless the organization
/// requires signatures. Present: it must verify (401 otherwise, nothing stored).
pub async fn check_submission_signature(store: &Store, tenant: &Tenant, headers: &HeaderMap, body: &[u8]) -> Result<Option<SubmissionSignature>, Problem> {
    let header = headers.get(SIGNATURE_HEADER).map(|value| value.to_str().map_err(|_| unauthorized("the Claimtrail-Signature header is not text")));
    let Some(header) = header.transpose()? else {
        let required = storage::registry::signatures_required(store, &tenant.name).await?;
        if required {
            return Err(unauthorized(format!(
                "organization `{}` requires signed submissions: send Claimtrail-Signature: key=<name>, sig=<base64 Ed25519 signature over SHA3-256 of the body>",
                tenant.name
            )));
        }
        return Ok(None);
    };
    let (mut key_name, mut signature) = (None, None);
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("key", value)) => key_name = Some(value.trim().to_owned()),
            Some(("sig", value)) => signature = Some(value.trim().to_owned()),
            _ => return Err(unauthorized(format!("Claimtrail-Signature: `{}` is not key=<name> or sig=<base64>", part.trim()))),
        }
    }
    let (Some(key_name), Some(signature_b64)) = (key_name, signature) else {
        return Err(unauthorized("Claimtrail-Signature needs both key=<name> and sig=<base64>"));
    };
    let public_key = storage::registry::signing_key(store, &tenant.name, &key_name)
        .await?
        .ok_or_else(|| unauthorized(format!("organization `{}` has no signing key `{key_name}`", tenant.name)))?;
    let public_key: [u8; 32] = public_key.try_into().map_err(|_| Problem::internal(&anyhow::anyhow!("stored signing key `{key_name}` is not 32 bytes")))?;
    let verifying_key = ed25519_dalek::VerifyingKey::from_bytes(&public_key).map_err(|e| Problem::internal(&anyhow::anyhow!("stored signing key: {e}")))?;
    let signature_bytes = BASE64.decode(&signature_b64).map_err(|_| unauthorized("the signature is not base64"))?;
    let signature = ed25519_dalek::Signature::from_slice(&signature_bytes).map_err(|_| unauthorized("the signature is not 64 bytes"))?;
    let digest: [u8; 32] = sha3::Sha3_256::digest(body).into();
    verifying_key
        .verify_strict(&digest, &signature)
        .map_err(|_| unauthorized(format!("the signature does not verify with key `{key_name}` over SHA3-256 of the body; nothing was stored")))?;
    Ok(Some(SubmissionSignature {
        key_name,
        public_key: BASE64.encode(public_key),
        body_sha3_256: hex::encode(digest),
        signature: BASE64.encode(signature.to_bytes()),
    }))
}
