//! Anchor: the audit ledger's single writer.
//!
//! # Layout
//! The shape every service copies (ARCHITECTURE.md, "The shape of a service"):
//! - [`domain`]: the pure core: judging each event's producer batch proof
//!   ([`domain::check_proof`], [`domain::signing_key`]), the ledger entries
//!   of a delivery after the tail ([`domain::entries`]: leaf record, leaf
//!   hash, chain value; no payload, no PHI), and in [`domain::checkpoint`]
//!   the re-check of stored entries, when a checkpoint is due and the witness
//!   quorum. No IO; a test below enforces it.
//! - [`storage`]: all of the service's SQL and migrations, [`storage::footprint`]
//!   and [`storage::checkpointed_size`] for the bench; [`storage::copy`], the
//!   append by binary COPY on Postgres; [`storage::tree`], the stored Merkle
//!   tree (subtree roots every 8 levels) that proofs read.
//! - [`api`]: the ledger endpoints of the contract, typed bodies with their OpenAPI schemas.
//! - [`consumer`]: [`Appender`], the event handler: every event of every
//!   family but `ledger` in, verified, appended under the writer lock.
//! - [`checkpointer`]: the background task that re-checks committed
//!   entries, extends the Merkle frontier and signs a checkpoint every N
//!   entries or T milliseconds, then hands it to the [`sinks`] (an
//!   append-only directory, C2SP witnesses) and keeps their cosignatures.
//! - [`keys`]: the log's signing key on disk, the published keys, and the
//!   producer keys read from the shared registry.
//! - [`export`]: the JSON-lines export that `claimtrail verify` reads.
//! - [`run`]: the service (`claimtrail serve anchor`).
//!
//! Architecture invariant: only the anchor writes the `ledger` table, and
//! only while holding the writer lock (`pg_advisory_xact_lock`); the unique
//! index on `idx` and on `event_id` makes a second writer fail, never fork.

pub mod api;
pub mod checkpointer;
pub mod consumer;
pub mod domain;
pub mod export;
pub mod keys;
pub mod sinks;
pub mod storage;

use std::future::Future;
use std::sync::Arc;

use claimtrail_runtime::{Runtime, ServeSettings, ServiceParts};
use claimtrail_store::Migration;

pub use consumer::Appender;

pub const SERVICE: &str = "anchor";

pub fn migrations() -> Vec<Migration> {
    storage::migrations()
}

/// The anchor's routes, handler, readiness (the stored ledger checks out)
/// and checkpointer, on `runtime`.
pub async fn parts(runtime: &Runtime) -> anyhow::Result<ServiceParts> {
    let settings = &runtime.settings;
    let signer = keys::load_or_create(&settings.key_dir, &settings.anchor.ledger_origin)?;
    keys::publish(&runtime.store, &signer.verifier(), "log").await?;
    let sinks = sinks::from_settings(settings)?;
    for vkey in settings.anchor.all_witness_keys()? {
        keys::publish_vkey(&runtime.store, &vkey, "witness").await?;
    }
    let checkpointer = checkpointer::Checkpointer::start(runtime.clone(), signer, sinks).await?;
    let readiness = checkpointer.health();
    let stop = runtime.stop_signal();
    Ok(ServiceParts {
        openapi: openapi(),
        routes: api::routes(runtime.clone()),
        handler: Some(Arc::new(Appender::new(
            runtime.store.clone(),
            runtime.registry.clone(),
            storage::copy::CopyWriter::for_store(&runtime.store, &settings.database_url),
        ))),
        readiness,
        background: vec![Box::pin(checkpointer.run(stop))],
    })
}

/// Runs the anchor service alone until `shutdown` (`claimtrail serve anchor`).
pub async fn run(settings: ServeSettings, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let runtime = Runtime::connect(&settings, SERVICE, &migrations()).await?;
    let parts = parts(&runtime).await?;
    runtime.run(parts, shutdown).await
}

/// The OpenAPI paths this service serves.
pub fn openapi() -> utoipa::openapi::OpenApi {
    #[derive(utoipa::OpenApi)]
    #[openapi(paths(api::checkpoint, api::checkpoints, api::keys_text, api::entries, api::inclusion, api::consistency))]
    struct ApiDoc;
    <ApiDoc as utoipa::OpenApi>::openapi()
}

#[cfg(test)]
mod tests {
    claimtrail_runtime::domain_purity_test!();
}
