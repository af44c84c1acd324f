//! Fraud: scans every decided claim against the others on the shared ledger
//! and raises alerts with their evidence (docs/fraud.md).
//!
//! # Layout
//! The shape every service copies (ARCHITECTURE.md, "The shape of a service"):
//! - [`domain`]: the pure core: [`domain::decide`] turns a scan's findings
//!   into alerts, one per payer with another payer's evidence redacted
//!   ([`domain::alerts`]), and acknowledges and closes them
//!   ([`domain::lifecycle`]); [`domain::claim`] is what the detectors read of
//!   a claim. No IO; a test below enforces it.
//! - [`storage`]: the migrations and all the SQL (claims, alerts, deaths,
//!   specialties), and [`storage::footprint`].
//! - [`api`]: `GET /v1/fraud/alerts`, `POST .../acknowledge`, `POST .../close`,
//!   within the key's payer scope, typed bodies with their OpenAPI schemas.
//! - [`consumer`]: [`consumer::Scanning`]: claims and reference events in,
//!   a scan pass per checkpoint, `fraud.alert.raised.v1` out.
//! - [`ledger`]: where the ledger is read ([`ledger::LedgerSource`]): the
//!   anchor's public API ([`ledger::HttpLedger`]), or in `up` the anchor's own reads.
//! - [`policy`]: where the payers' exclusion lists and NCCI edits are read
//!   ([`policy::PolicySource`]): adjudication's public API ([`policy::HttpPolicy`]),
//!   or in `up` adjudication's own reads.
//! - [`run`]: the service (`claimtrail serve fraud`).

pub mod api;
pub mod consumer;
pub mod domain;
pub mod ledger;
pub mod policy;
pub mod storage;

use std::future::Future;
use std::sync::Arc;

use claimtrail_runtime::{Runtime, ServeSettings, ServiceParts, http};
use claimtrail_store::Migration;

pub use api::routes;
pub use consumer::Scanning;
pub use ledger::{HttpLedger, LedgerSource};
pub use policy::{HttpPolicy, PolicySource};

pub const SERVICE: &str = "fraud";

pub fn migrations() -> Vec<Migration> {
    storage::migrations()
}

/// The ledger the settings name: the anchor's API at `--fraud-ledger-url`
/// with `--fraud-ledger-key`; none when either is missing or empty (then
/// claims are kept but no scan runs, and a warning says so).
pub fn ledger_from_settings(settings: &ServeSettings) -> anyhow::Result<Option<Arc<dyn LedgerSource>>> {
    let non_empty = |value: &Option<String>| value.clone().filter(|value| !value.trim().is_empty());
    match (non_empty(&settings.fraud.fraud_ledger_url), non_empty(&settings.fraud.fraud_ledger_key)) {
        (Some(url), Some(key)) => Ok(Some(Arc::new(HttpLedger::new(&url, &key)?))),
        (url, _) => {
            let missing = if url.is_none() { "--fraud-ledger-url" } else { "--fraud-ledger-key (an auditor or admin API key)" };
            tracing::warn!(missing, "the fraud service cannot read the ledger: claims are kept but not scanned");
            Ok(None)
        }
    }
}

/// Adjudication's policy API at `--fraud-policy-url` with `--fraud-ledger-key`; none when either is
/// missing or empty (then the detectors go without the payers' exclusion lists and NCCI edits).
pub fn policy_from_settings(settings: &ServeSettings) -> anyhow::Result<Option<Arc<dyn PolicySource>>> {
    let non_empty = |value: &Option<String>| value.clone().filter(|value| !value.trim().is_empty());
    match (non_empty(&settings.fraud.fraud_policy_url), non_empty(&settings.fraud.fraud_ledger_key)) {
        (Some(url), Some(key)) => Ok(Some(Arc::new(HttpPolicy::new(&url, &key)?))),
        _ => {
            tracing::warn!("the fraud service cannot read the payers' policy (--fraud-policy-url, --fraud-ledger-key): no exclusion lists, no NCCI pairs");
            Ok(None)
        }
    }
}

/// The service's routes, handler and tasks on `runtime`, reading the ledger from `ledger` and the payers' policy from `policy`.
pub fn parts_with(runtime: &Runtime, ledger: Option<Arc<dyn LedgerSource>>, policy: Option<Arc<dyn PolicySource>>) -> anyhow::Result<ServiceParts> {
    let keys = runtime.settings.fraud.fingerprint_keys()?;
    let match_key_id = keys.first().map(|(key_id, _)| *key_id);
    let scanning = Scanning::new(runtime.store.clone(), ledger, policy, match_key_id, runtime.settings.fraud.fraud_scan_claims_max);
    Ok(ServiceParts {
        openapi: openapi(),
        routes: routes(runtime.clone()),
        handler: Some(Arc::new(scanning)),
        readiness: http::always_ready(),
        background: vec![],
    })
}

/// The service's parts with the ledger and policy its settings name ([`ledger_from_settings`], [`policy_from_settings`]).
pub fn parts(runtime: &Runtime) -> anyhow::Result<ServiceParts> {
    parts_with(runtime, ledger_from_settings(&runtime.settings)?, policy_from_settings(&runtime.settings)?)
}

/// Runs the fraud service alone until `shutdown` (`claimtrail serve fraud`).
pub async fn run(settings: ServeSettings, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let runtime = Runtime::connect(&settings, SERVICE, &migrations()).await?;
    let parts = parts(&runtime)?;
    runtime.run(parts, shutdown).await
}

/// The OpenAPI paths this service serves.
pub fn openapi() -> utoipa::openapi::OpenApi {
    #[derive(utoipa::OpenApi)]
    #[openapi(paths(api::alerts, api::acknowledge, api::close))]
    struct ApiDoc;
    <ApiDoc as utoipa::OpenApi>::openapi()
}

#[cfg(test)]
mod tests {
    claimtrail_runtime::domain_purity_test!();
}
