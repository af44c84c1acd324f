//! Intake: accepts claims from providers and answers their status.
//!
//! # Layout
//! - [`domain`]: the pure core. The front-end edits ([`domain::edits`]) and
//!   the billing-scope check decide which claims of a request are accepted
//!   or rejected; the status projection's transitions (accepted →
//!   adjudicated → replaced or voided). No IO (`the_domain_core_does_no_io`).
//! - [`storage`]: the migrations and every SQL statement: claims and their
//!   history, the registries, Idempotency-Keys, X12 interchanges, the access
//!   log; `footprint()` for the bench.
//! - [`api`]: the typed axum handlers: claims in (FHIR and X12), claim
//!   reads, payers, providers, signing keys, members, enrollments, CSV
//!   imports, the access log, erasure.
//! - [`consumer`]: the claim-status projection, on the `claims` and
//!   `settlement` families.
//! - [`auth`]: API keys and tenants (the shared registry's).
//! - here: [`SERVICE`], [`migrations`], [`parts`], [`run`] and [`openapi`].

pub mod api;
pub mod auth;
pub mod consumer;
pub mod domain;
pub mod storage;

/// The library paths the CLI's demo and world generator call.
pub use api::{imports, reference, registry};
/// The bench's measure of intake's tables.
pub use storage::footprint;

use std::future::Future;
use std::sync::Arc;

use claimtrail_runtime::{Runtime, ServeSettings, ServiceParts, http};
use claimtrail_store::Migration;

pub const SERVICE: &str = "intake";

/// Intake's migrations, in order.
pub fn migrations() -> Vec<Migration> {
    storage::migrations()
}

/// Every intake route.
pub fn routes(runtime: Runtime) -> axum::Router {
    api::routes(runtime)
}

/// The service's routes, handler and tasks on `runtime`. API keys created
/// before they moved to the shared registry are copied there first; embedded,
/// Idempotency-Keys that a dead process left in flight are freed.
pub async fn parts(runtime: &Runtime) -> anyhow::Result<ServiceParts> {
    storage::copy_legacy_keys(&runtime.store, &runtime.registry).await?;
    // Fail at start, not on the first claim, when a fingerprint key is malformed.
    api::submit::fingerprint_keys_of(&runtime.settings)?;
    if !runtime.store.is_postgres() {
        // Embedded, this process is the data directory's one intake: a key left in flight was a dead process's.
        let released = storage::idempotency::release_abandoned(&runtime.store).await?;
        if released > 0 {
            tracing::info!(released, "released Idempotency-Keys left in flight by the last process");
        }
    }
    Ok(ServiceParts {
        openapi: openapi(),
        routes: routes(runtime.clone()),
        handler: Some(Arc::new(consumer::StatusProjection::new(runtime.store.clone()))),
        readiness: http::always_ready(),
        background: vec![{
            let store = runtime.store.clone();
            runtime.every(storage::idempotency::SWEEP_INTERVAL, move || storage::idempotency::sweep(store.clone()))
        }],
    })
}

/// Runs the intake service alone until `shutdown` (`claimtrail serve intake`).
pub async fn run(settings: ServeSettings, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let runtime = Runtime::connect(&settings, SERVICE, &migrations()).await?;
    let parts = parts(&runtime).await?;
    runtime.run(parts, shutdown).await
}

/// The OpenAPI paths this service serves.
pub fn openapi() -> utoipa::openapi::OpenApi {
    use api::{access, claims, erasure, imports, reference, registry, submit, x12};
    #[derive(utoipa::OpenApi)]
    #[openapi(paths(
        submit::submit,
        x12::submit_x12,
        claims::list,
        claims::show,
        claims::claim_response,
        claims::explanation_of_benefit,
        reference::put_member,
        reference::import_members,
        reference::put_enrollment,
        registry::put_payer,
        registry::put_provider,
        registry::show_provider,
        registry::put_signing_key,
        registry::list_signing_keys,
        imports::import_providers,
        imports::import_enrollments,
        access::list,
        erasure::erase
    ))]
    struct ApiDoc;
    <ApiDoc as utoipa::OpenApi>::openapi()
}

#[cfg(test)]
mod tests {
    claimtrail_runtime::domain_purity_test!();
}
