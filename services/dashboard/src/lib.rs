//! `claimtrail-dashboard`: the dashboard (`GET /`), one origin that serves
//! the pages and calls the services' public APIs with the signed-in key.
//!
//! # Layout
//! - `domain`: the pure core (sessions, CSRF, pages per role, tables, CSV,
//!   amounts, run totals, claims per day, chart layout, multipart forms).
//! - `storage`: the dashboard's own table (sessions) and all of its SQL.
//! - `api`: the HTTP surface (sign-in, sign-out, assets, pages; `api::finance`
//!   for payment runs, holds and reconciliation, `api::claims` for the
//!   claims list and the pended queue).
//! - `upstream`: the HTTP client of the services' APIs.
//! - `views`: the maud templates; `assets`: the embedded CSS and scripts.
//!
//! Under `claimtrail up` it is mounted on the one listener and calls that
//! listener; `claimtrail serve dashboard` runs it alone with the services'
//! URLs. Its one table holds the sessions (so they survive a restart and
//! work across replicas); keys are checked against the shared key registry.

pub mod api;
pub mod assets;
pub mod domain;
pub mod storage;
pub mod upstream;
pub mod views;

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use claimtrail_runtime::auth::{PayerScope, Role, Tenant};
use claimtrail_runtime::{ServeSettings, http};
use claimtrail_store::{Store, StoreConfig};

use crate::api::DashboardState;
use crate::domain::viewer::{self, Viewer};
use crate::storage::sessions::SessionStore;
use crate::upstream::{ApiUrls, Upstream};

pub use crate::storage::migrations;

pub const SERVICE: &str = "dashboard";

/// The dashboard's own options (`claimtrail serve dashboard`, `claimtrail up`).
#[derive(Debug, Clone, clap::Args)]
pub struct DashboardArgs {
    /// Minutes without a request after which a dashboard session ends.
    #[arg(long, env = "CLAIMTRAIL_DASHBOARD_IDLE_TIMEOUT_MINUTES", default_value_t = 15)]
    pub dashboard_idle_timeout_minutes: u64,
    /// `serve dashboard`: base URL of intake's API.
    #[arg(long, env = "CLAIMTRAIL_DASHBOARD_INTAKE_URL")]
    pub dashboard_intake_url: Option<String>,
    /// `serve dashboard`: base URL of adjudication's API.
    #[arg(long, env = "CLAIMTRAIL_DASHBOARD_ADJUDICATION_URL")]
    pub dashboard_adjudication_url: Option<String>,
    /// `serve dashboard`: base URL of settlement's API.
    #[arg(long, env = "CLAIMTRAIL_DASHBOARD_SETTLEMENT_URL")]
    pub dashboard_settlement_url: Option<String>,
    /// `serve dashboard`: base URL of the anchor's API (the ledger).
    #[arg(long, env = "CLAIMTRAIL_DASHBOARD_ANCHOR_URL")]
    pub dashboard_anchor_url: Option<String>,
    /// `serve dashboard`: base URL of the fraud service's API (the alerts).
    #[arg(long, env = "CLAIMTRAIL_DASHBOARD_FRAUD_URL")]
    pub dashboard_fraud_url: Option<String>,
}

impl DashboardArgs {
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.dashboard_idle_timeout_minutes.max(1) * 60)
    }

    /// The five services' URLs; each is required for `serve dashboard`.
    pub fn api_urls(&self) -> anyhow::Result<ApiUrls> {
        let need = |url: &Option<String>, flag: &str| {
            url.as_deref().map(|url| url.trim_end_matches('/').to_owned()).with_context(|| format!("serve dashboard needs --{flag} (the service's base URL)"))
        };
        Ok(ApiUrls {
            intake: need(&self.dashboard_intake_url, "dashboard-intake-url")?,
            adjudication: need(&self.dashboard_adjudication_url, "dashboard-adjudication-url")?,
            settlement: need(&self.dashboard_settlement_url, "dashboard-settlement-url")?,
            anchor: need(&self.dashboard_anchor_url, "dashboard-anchor-url")?,
            fraud: need(&self.dashboard_fraud_url, "dashboard-fraud-url")?,
        })
    }
}

/// The dashboard's viewer of a tenant.
pub fn viewer(tenant: Tenant) -> Viewer {
    let role = match tenant.role {
        Role::Provider => viewer::Role::Provider,
        Role::Payer => viewer::Role::Payer,
        Role::Finance => viewer::Role::Finance,
        Role::Auditor => viewer::Role::Auditor,
        Role::Admin => viewer::Role::Admin,
    };
    let payers = match tenant.payers {
        PayerScope::All => None,
        PayerScope::Only(payers) => Some(payers),
    };
    Viewer { name: tenant.name, role, payer_id: tenant.payer_id, payers }
}

/// The dashboard's routes, keeping sessions in `store` (the dashboard's own,
/// migrated here), checking keys in `registry` (the shared key registry) and
/// calling the APIs at `urls` (set later under `up`, once the listener is bound).
pub async fn routes(store: Store, registry: Store, args: &DashboardArgs, urls: Arc<OnceLock<ApiUrls>>) -> anyhow::Result<Router> {
    store.migrate(&migrations()).await.context("migrating the dashboard's session table")?;
    let check_key: api::KeyCheck = Arc::new(move |key: String| {
        let registry = registry.clone();
        Box::pin(async move { Ok(claimtrail_runtime::auth::verify_key(&registry, &key).await?.map(viewer)) })
    });
    let state = DashboardState {
        sessions: SessionStore::new(store, args.idle_timeout()),
        upstream: Upstream::new(urls)?,
        check_key,
        clock: Arc::new(time::OffsetDateTime::now_utc),
    };
    Ok(api::routes(state))
}

/// `claimtrail serve dashboard`: the pages and the operational endpoints. It
/// needs only the database (the key registry and its session table) and the
/// services' URLs (no bus, no producer key: it publishes nothing).
pub async fn run(settings: ServeSettings, args: DashboardArgs, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let urls = Arc::new(OnceLock::new());
    let _ = urls.set(args.api_urls()?);
    let store = Store::connect(&StoreConfig {
        database_url: settings.database_url.clone(),
        service: SERVICE.to_owned(),
        prefix: settings.prefix.clone(),
        max_connections: settings.db_pool_max,
        statement_timeout: settings.statement_timeout(),
    })
    .await
    .with_context(|| format!("connecting the dashboard to {}", claimtrail_store::redact_url(&settings.database_url)))?;
    let registry = claimtrail_store::registry::open(&store, &settings.prefix).await.context("opening the key registry")?;
    http::metrics_handle();
    let app = routes(store, registry, &args, urls)
        .await?
        .route("/healthz", get(|| async { (StatusCode::OK, "ok\n") }))
        .route("/readyz", get(|| async { (StatusCode::OK, "ready\n") }))
        .route("/metrics", get(|| async { http::metrics_handle().render() }));
    let listener = tokio::net::TcpListener::bind(&settings.listen).await.with_context(|| format!("binding {}", settings.listen))?;
    http::announce(listener.local_addr()?);
    http::serve(listener, app, shutdown).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    claimtrail_runtime::domain_purity_test!();
}
