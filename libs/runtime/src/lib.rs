//! The runtime every Claimtrail service runs on: settings, telemetry, the
//! consumer loop (exactly-once effect on at-least-once delivery), the outbox
//! relay, HTTP plumbing (problem+json, health, metrics) and graceful shutdown.
//!
//! # Layout
//! - [`settings`]: the `serve` settings shared by every service (flags and environment).
//! - [`telemetry`]: the tracing subscriber (JSON logs, `RUST_LOG`) and, with
//!   `OTEL_EXPORTER_OTLP_ENDPOINT`, OTLP trace export; W3C trace context in and out of spans.
//! - [`consumer`]: fetch a batch, one transaction with inbox and outbox, ack after commit;
//!   a failing batch is retried one message at a time; poison goes to the dead-letter subject.
//! - [`relay`]: publish the outbox, mark rows only after the bus acknowledged them.
//! - [`http`]: problem+json errors, `/healthz`, `/readyz`, `/metrics`, the server loop.
//! - [`extract`]: the request extractors every API shares: the caller, its role and
//!   payer scope, the body within its limit.
//! - [`killpoint`]: deterministic crash points for the crash tests.
//! - [`purity`]: the check that a service's domain core names no IO.
//! - [`fhir_schemas`]: the FHIR R4 bodies of the OpenAPI document, as references to HL7's JSON Schema.
//! - [`keys`]: signing keys on disk; each service's producer key.
//! - [`Runtime`]: one service's store, bus and producer identity (the key that
//!   signs its event batches, registered in the shared key registry), and `run`.

pub mod auth;
pub mod consumer;
pub mod erasure;
pub mod extract;
pub mod fhir_schemas;
pub mod http;
pub mod keys;
pub mod killpoint;
pub mod purity;
pub mod relay;
pub mod settings;
pub mod telemetry;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use claimtrail_bus::jetstream::JetStreamBus;
use claimtrail_bus::{Bus, Naming};
use claimtrail_store::outbox::ProducerIdentity;
use claimtrail_store::{Migration, Store, StoreConfig, registry};
use tokio::sync::{Notify, watch};

pub use consumer::{EventHandler, HandlerError, Received, event_span};

/// Runs CPU-bound work of a request (parsing a body of a hundred claims,
/// sealing their events) so that it does not hold up the runtime's other
/// tasks: on a multi-threaded runtime the worker hands its queue to another
/// thread first ([`tokio::task::block_in_place`]). Otherwise a task between
/// two statements of a transaction waits behind it, and on SQLite's one
/// writer every other request waits with it. On a current-thread runtime
/// (tests) it runs in place.
pub fn cpu_bound<R>(work: impl FnOnce() -> R) -> R {
    match tokio::runtime::Handle::try_current().map(|handle| handle.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(work),
        _ => work(),
    }
}
pub use settings::{AnchorSettings, FraudSettings, ServeSettings, WitnessSettings};

/// One service's connections and identity.
#[derive(Clone)]
pub struct Runtime {
    pub store: Store,
    pub bus: Arc<dyn Bus>,
    /// The service's name and producer key: every outbox append is one batch signed with it.
    pub producer: ProducerIdentity,
    /// The shared producer key registry (the anchor reads the keys it verifies with from it).
    pub registry: Store,
    pub settings: ServeSettings,
    /// Woken after every commit that appended to the outbox.
    pub relay_wakeup: Arc<Notify>,
    stop: Arc<watch::Sender<bool>>,
}

/// A service's own background work (beside consumers and relay); it ends when
/// the stop signal it was given turns true.
pub type BackgroundTask = std::pin::Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>;

/// Runs `tick` at once and then every `period` until `stop` turns true ([`Runtime::every`]).
pub async fn every<F, Fut>(period: std::time::Duration, mut stop: watch::Receiver<bool>, mut tick: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let mut interval = tokio::time::interval(period);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            return Ok(());
        }
        tick().await;
    }
}

impl Runtime {
    /// Connects to Postgres and NATS, applies migrations and declares streams.
    pub async fn connect(settings: &ServeSettings, service: &str, migrations: &[Migration]) -> anyhow::Result<Runtime> {
        claimtrail_events::clock_offset()?;
        let store = Store::connect(&StoreConfig {
            database_url: settings.database_url.clone(),
            service: service.to_owned(),
            prefix: settings.prefix.clone(),
            max_connections: settings.db_pool_max,
            statement_timeout: settings.statement_timeout(),
        })
        .await
        .with_context(|| format!("connecting {service} to {}", claimtrail_store::redact_url(&settings.database_url)))?;
        store.migrate(migrations).await.with_context(|| format!("migrating the {service} schema"))?;
        let (producer, registry) = producer_identity(&store, settings, service).await?;
        let bus = JetStreamBus::connect(
            &settings.nats_url,
            Naming::new(&settings.prefix).with_partitions(settings.partitions),
            settings.stream_replicas as usize,
            std::time::Duration::from_secs(settings.stream_max_age_days * 86_400),
        )
        .await
        .with_context(|| format!("connecting {service} to NATS"))?;
        Ok(Runtime {
            store,
            bus: Arc::new(bus),
            producer,
            registry,
            settings: settings.clone(),
            relay_wakeup: Arc::new(Notify::new()),
            stop: Arc::new(watch::channel(false).0),
        })
    }

    /// A receiver that turns true when the service is stopping.
    pub fn stop_signal(&self) -> watch::Receiver<bool> {
        self.stop.subscribe()
    }

    /// A background task that runs `tick` at once and then every `period`
    /// until the service stops (a sweep, a sampled gauge). `tick` handles
    /// its own failures: a periodic task logs and tries again next time.
    pub fn every<F, Fut>(&self, period: std::time::Duration, tick: F) -> BackgroundTask
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Box::pin(every(period, self.stop_signal(), tick))
    }

    /// A runtime over a store and bus opened by the caller (embedded mode,
    /// where every service shares one SQLite pool and the embedded log).
    pub async fn with_parts(
        store: Store,
        bus: Arc<dyn Bus>,
        settings: &ServeSettings,
        wakeup: Arc<Notify>,
        stop: Arc<watch::Sender<bool>>,
    ) -> anyhow::Result<Runtime> {
        claimtrail_events::clock_offset()?;
        let service = store.service().to_owned();
        let (producer, registry) = producer_identity(&store, settings, &service).await?;
        Ok(Runtime { producer, registry, store, bus, settings: settings.clone(), relay_wakeup: wakeup, stop })
    }

    /// Shares `stop` with other services of this process (before building their parts).
    pub fn with_stop(mut self, stop: Arc<watch::Sender<bool>>) -> Runtime {
        self.stop = stop;
        self
    }

    /// The stop signal's sender, to share one stop among several services.
    pub fn stop_sender(&self) -> Arc<watch::Sender<bool>> {
        self.stop.clone()
    }

    /// Serves this one service on `settings.listen` until `shutdown` (`claimtrail serve`).
    pub async fn run(self, parts: ServiceParts, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let listen = self.settings.listen.clone();
        run_services(vec![(self, parts)], &listen, None, shutdown).await
    }
}

/// Loads (or creates) the service's producer key from the key directory and
/// registers its verifier key, before the service appends anything.
async fn producer_identity(store: &Store, settings: &ServeSettings, service: &str) -> anyhow::Result<(ProducerIdentity, Store)> {
    let signer = keys::producer_key(&settings.key_dir, service).with_context(|| format!("loading the {service} producer key"))?;
    let registry = registry::open(store, &settings.prefix).await.context("opening the producer key registry")?;
    registry::register(&registry, service, &signer.verifier().to_string()).await.context("registering the producer key")?;
    Ok((ProducerIdentity::new(service, signer), registry))
}

/// What a service adds to the runtime: its routes, its event handler, its
/// readiness condition and its own background work.
pub struct ServiceParts {
    pub routes: Router,
    /// The OpenAPI paths of `routes`.
    pub openapi: utoipa::openapi::OpenApi,
    pub handler: Option<Arc<dyn EventHandler>>,
    pub readiness: http::Readiness,
    pub background: Vec<BackgroundTask>,
}

/// Runs services in this process behind one HTTP listener: one consumer per
/// family each handler reads, one outbox relay per service (when the bus
/// needs one), and the services' background tasks, until `shutdown` resolves
/// or a task fails. On shutdown consumers stop pulling and in-flight work
/// finishes under the shutdown timeout. `on_listening` is told the address
/// once the listener is bound.
/// Last, the spans still pending are exported.
pub async fn run_services(
    services: Vec<(Runtime, ServiceParts)>,
    listen: &str,
    on_listening: Option<Box<dyn FnOnce(std::net::SocketAddr) -> anyhow::Result<()> + Send>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let result = serve_until_stopped(services, listen, on_listening, shutdown).await;
    // The flush blocks on the exporter, which runs on this runtime's other threads.
    let _ = tokio::task::spawn_blocking(telemetry::flush).await;
    result
}

async fn serve_until_stopped(
    services: Vec<(Runtime, ServiceParts)>,
    listen: &str,
    on_listening: Option<Box<dyn FnOnce(std::net::SocketAddr) -> anyhow::Result<()> + Send>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let Some((first, _)) = services.first() else {
        anyhow::bail!("no service to run");
    };
    let stop_tx = first.stop.clone();
    let shutdown_timeout_ms = first.settings.shutdown_timeout_ms;
    let ops_runtime = first.clone();
    let stop_rx = stop_tx.subscribe();
    let mut tasks = tokio::task::JoinSet::new();
    let mut app = Router::new();
    let mut conditions = Vec::new();
    let mut openapi = http::base_openapi();
    for (runtime, parts) in services {
        app = app.merge(parts.routes);
        openapi.merge(parts.openapi);
        conditions.push(parts.readiness);
        for task in parts.background {
            tasks.spawn(task);
        }
        if let Some(handler) = parts.handler {
            for family in handler.families() {
                // One consumer per partition where the handler needs a family's events in order, one for the whole family otherwise.
                let partitions: Vec<Option<u32>> = if handler.partitioned() && Naming::is_partitioned(family) {
                    (0..runtime.bus.naming().partitions()).map(Some).collect()
                } else {
                    vec![None]
                };
                for partition in partitions {
                    let consumer = consumer::Consumer::new(runtime.clone(), handler.clone(), family, partition);
                    let stop = stop_rx.clone();
                    tasks.spawn(async move { consumer.run(stop).await });
                }
            }
        }
        if runtime.bus.needs_relay() {
            let relay = relay::Relay::new(runtime.clone());
            conditions.push(relay.health());
            let stop_relay = stop_rx.clone();
            tasks.spawn(async move { relay.run(stop_relay).await });
        }
    }
    let readiness: http::Readiness = Arc::new(move || conditions.iter().try_for_each(|condition| condition()));

    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("binding {listen}"))?;
    let address = listener.local_addr()?;
    // A span per API request (not for the operational endpoints, which probes call every few seconds).
    let app = app.layer(axum::middleware::from_fn(http::request_span)).merge(http::ops_router(ops_runtime, readiness, openapi));
    let stop_http = stop_rx.clone();
    tasks.spawn(async move {
        http::serve(listener, app, wait_for_stop(stop_http)).await.context("HTTP server")?;
        Ok::<_, anyhow::Error>(())
    });
    if let Some(on_listening) = on_listening {
        on_listening(address)?;
    }
    http::announce(address);

    tokio::select! {
        () = shutdown => {
            tracing::info!("shutdown requested: stop pulling, finish in-flight work");
        }
        Some(result) = tasks.join_next() => {
            let _ = stop_tx.send(true);
            let error = match result {
                Ok(Ok(())) => anyhow::anyhow!("a service task ended unexpectedly"),
                Ok(Err(e)) => e,
                Err(e) => anyhow::anyhow!("a service task panicked: {e}"),
            };
            tasks.abort_all();
            return Err(error);
        }
    }
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(Duration::from_millis(shutdown_timeout_ms), async {
        while let Some(result) = tasks.join_next().await {
            if let Ok(Err(e)) = result {
                tracing::warn!(error.message = %e, "task failed during shutdown");
            }
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!(timeout_ms = shutdown_timeout_ms, "in-flight work did not finish in time; abandoning it (it will be redelivered)");
        tasks.abort_all();
    }
    Ok(())
}

/// Resolves when `stop` turns true (or its sender is gone).
pub async fn wait_for_stop(mut stop: watch::Receiver<bool>) {
    while !*stop.borrow() {
        if stop.changed().await.is_err() {
            return;
        }
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
