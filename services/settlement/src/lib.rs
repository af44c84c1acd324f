//! Settlement: books adjudicated claims in a double-entry journal and pays them.
//!
//! # Layout
//! The shape every service copies (ARCHITECTURE.md, "The shape of a service"):
//! - [`domain`]: the pure core: [`domain::decide`] books a decision or a
//!   reversal as a balanced entry; [`domain::journal`] has the accounts and
//!   lines. No IO; a test below enforces it.
//! - [`storage`]: the migrations and all the SQL (journal entries and lines,
//!   balances), and [`storage::footprint`].
//! - [`api`]: `GET /v1/journal/entries?claim_id=`, `GET /v1/journal/balances`,
//!   within the key's payer scope, typed bodies with their OpenAPI schemas.
//!   [`api::payments`]: payment runs, ACH files, 835s, PaymentReconciliations,
//!   the payer's banking and payment holds.
//! - [`domain::bank`], [`storage::bank`], [`api::bank`]: reconciliation against
//!   the bank (BAI2, camt.053, NACHA returns; the exception queue).
//! - [`runs`]: the payment run use case (load the facts, plan, persist in one
//!   transaction); returns and notifications of change on the payment side.
//! - [`accounts`]: provider accounts prenoted before settlement paid them.
//! - [`consumer`]: [`consumer::Booker`]: `claim.adjudicated.v1` and
//!   `claim.reversed.v1` in, `payable.booked.v1` out; each kept as a payable;
//!   `claim.submitted.v1` and `provider.registered.v1` for the 835 and pay-to.
//!   A batch is booked in runs ([`consumer::plan`]) whose rows
//!   [`storage::pending::Writes`] holds and writes one statement per table.
//! - [`run`]: the service (`claimtrail serve settlement`).

pub mod accounts;
pub mod api;
pub mod consumer;
pub mod domain;
pub mod runs;
pub mod storage;

use std::future::Future;
use std::sync::Arc;

use claimtrail_runtime::{Runtime, ServeSettings, ServiceParts, http};
use claimtrail_store::Migration;

pub use api::routes;
pub use consumer::Booker;

pub const SERVICE: &str = "settlement";

pub fn migrations() -> Vec<Migration> {
    storage::migrations().into_iter().chain(storage::bank::migrations()).collect()
}

/// The service's routes, handler and tasks on `runtime`.
pub fn parts(runtime: &Runtime) -> ServiceParts {
    ServiceParts {
        openapi: openapi(),
        routes: routes(runtime.clone()).merge(api::bank::routes(runtime.clone())),
        handler: Some(Arc::new(Booker::new(runtime.store.clone()))),
        readiness: http::always_ready(),
        background: vec![scheduler(runtime)],
    }
}

/// How often the scheduler looks for a payment cycle's slot that is due.
pub const SCHEDULE_TICK: std::time::Duration = std::time::Duration::from_secs(30);

/// The payers' payment cycles ([`runs::run_due`]), every [`SCHEDULE_TICK`].
fn scheduler(runtime: &Runtime) -> claimtrail_runtime::BackgroundTask {
    let ticking = runtime.clone();
    runtime.every(SCHEDULE_TICK, move || {
        let runtime = ticking.clone();
        async move {
            let now = claimtrail_events::Timestamp::now().datetime();
            match runs::run_due(&runtime.store, &runtime.producer, time::PrimitiveDateTime::new(now.date(), now.time())).await {
                Ok(made) if made.iter().any(|run| run.created) => runtime.relay_wakeup.notify_waiters(),
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "reading the payment schedules failed; the next tick tries again"),
            }
        }
    })
}

/// Runs the settlement service alone until `shutdown` (`claimtrail serve settlement`).
pub async fn run(settings: ServeSettings, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let runtime = Runtime::connect(&settings, SERVICE, &migrations()).await?;
    let parts = parts(&runtime);
    runtime.run(parts, shutdown).await
}

/// The OpenAPI paths this service serves.
pub fn openapi() -> utoipa::openapi::OpenApi {
    #[derive(utoipa::OpenApi)]
    #[openapi(paths(
        api::entries,
        api::balances,
        api::payments::create_run,
        api::payments::list_runs,
        api::payments::show_run,
        api::payments::ach_file,
        api::payments::remittance_835,
        api::payments::payment_reconciliation,
        api::payments::put_banking,
        api::payments::place_hold,
        api::payments::release_hold,
        api::payments::record_refund,
        api::payments::put_schedule,
        api::payments::show_schedule,
        api::payments::delete_schedule,
        api::bank::import_statement,
        api::bank::list_exceptions,
        api::bank::resolve
    ))]
    struct ApiDoc;
    <ApiDoc as utoipa::OpenApi>::openapi()
}

#[cfg(test)]
mod tests {
    claimtrail_runtime::domain_purity_test!();
}
