//! Adjudication: decides submitted claims.
//!
//! # Layout
//! The shape every service copies (ARCHITECTURE.md, "The shape of a service"):
//! - [`domain`]: the pure core: commands, facts, [`domain::decide`] and
//!   [`domain::apply`], the standard edits in [`domain::edits`] (CO-26,
//!   CO-27, CO-13, CO-29, CO-B7), the pricing steps in [`domain::pricing`]
//!   (fee schedule, CO-45, CO-96, reversals), the decision record and
//!   replay in [`domain::record`]. No IO; a test below enforces it.
//! - [`storage`]: all of the service's SQL and migrations, and [`storage::footprint`].
//! - [`api`]: the payer's fee schedule, and each decision's replay and
//!   explanation, over HTTP: typed bodies with their OpenAPI schemas.
//! - [`consumer`]: [`consumer::Adjudicator`], the event handler: the registry
//!   (`member.enrolled.v1`, `provider.enrolled.v1`, `payer.registered.v1`)
//!   into bitemporal projections; `claim.submitted.v1` in, facts loaded,
//!   decided, recorded, `claim.adjudicated.v1` (or `claim.pended.v1`, and
//!   `claim.reversed.v1`) out; after a reversal the family's later claims
//!   decided again, and reprocessing jobs' claims
//!   (`claim.reprocessing_queued.v1`) decided again under corrected
//!   reference data ([`consumer::reprocess`], [`domain::ripple`]).
//! - [`queue_metrics`]: the pended queue's counts and ages on /metrics.
//! - [`run`]: the service (`claimtrail serve adjudication`).

pub mod api;
pub mod consumer;
pub mod domain;
pub mod queue_metrics;
pub mod storage;

use std::future::Future;
use std::sync::Arc;

use claimtrail_runtime::{Runtime, ServeSettings, ServiceParts, http};
use claimtrail_store::Migration;

pub use consumer::Adjudicator;

pub const SERVICE: &str = "adjudication";

pub fn migrations() -> Vec<Migration> {
    storage::migrations()
}

/// The service's routes, handler and tasks on `runtime`.
pub fn parts(runtime: &Runtime) -> ServiceParts {
    ServiceParts {
        openapi: openapi(),
        routes: api::routes(runtime.clone()),
        handler: Some(Arc::new(Adjudicator::new(runtime.store.clone()))),
        readiness: http::always_ready(),
        background: vec![queue_metrics::task(runtime)],
    }
}

/// Runs the adjudication service alone until `shutdown` (`claimtrail serve adjudication`).
pub async fn run(settings: ServeSettings, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let runtime = Runtime::connect(&settings, SERVICE, &migrations()).await?;
    let parts = parts(&runtime);
    runtime.run(parts, shutdown).await
}

/// The OpenAPI paths this service serves.
pub fn openapi() -> utoipa::openapi::OpenApi {
    #[derive(utoipa::OpenApi)]
    #[openapi(paths(
        api::publish,
        api::show,
        api::policy::upload_edit_table,
        api::policy::upload_pricing_table,
        api::policy::put_rule_set,
        api::policy::list_versions,
        api::policy::version_content,
        api::plans::put_plan,
        api::plans::list_plans,
        api::plans::import_accumulators,
        api::review::pended_queue,
        api::review::auto_adjudication,
        api::review::review_claim,
        api::reprocessing::start,
        api::reprocessing::show,
        api::appeals::appeal_claim,
        api::replay,
        api::explanation
    ))]
    struct ApiDoc;
    <ApiDoc as utoipa::OpenApi>::openapi()
}

#[cfg(test)]
mod tests {
    claimtrail_runtime::domain_purity_test!();
}
