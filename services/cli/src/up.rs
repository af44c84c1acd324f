//! `claimtrail up`: every service in one process.
//!
//! Without `--database-url`/`--nats-url` it runs embedded: one SQLite file
//! under the data directory holds every service's tables (per-service table
//! prefixes) and the embedded log, with one writer. With the URLs it runs the
//! same services on Postgres and NATS JetStream. Once ready it prints
//! `listening on http://HOST:PORT` and writes the URL to `<data dir>/url`;
//! `/readyz` answers 200 only after start-up (and demo seeding) is done.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context as _;
use claimtrail_bus::Bus;
use claimtrail_bus::embedded::EmbeddedBus;
use claimtrail_runtime::{Runtime, ServeSettings, ServiceParts};
use claimtrail_store::{Store, StoreConfig};
use tokio::sync::watch;

use crate::demo;

/// Options of `claimtrail up`.
#[derive(Debug, Clone, clap::Args)]
pub struct UpArgs {
    /// Where the embedded database, keys, `url` and demo credentials live.
    #[arg(long, env = "CLAIMTRAIL_DATA_DIR", default_value = "./claimtrail-data")]
    pub data_dir: PathBuf,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "CLAIMTRAIL_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Seed a demo payer, providers, members and credentials, and submit sample claims.
    #[arg(long)]
    pub demo: bool,
    /// Run on Postgres instead of the embedded SQLite file (needs --nats-url too).
    #[arg(long, env = "DATABASE_URL", requires = "nats_url")]
    pub database_url: Option<String>,
    /// Run on NATS JetStream instead of the embedded log (needs --database-url too).
    #[arg(long, env = "NATS_URL", requires = "database_url")]
    pub nats_url: Option<String>,
    /// Name prefix (schemas, tables, streams, subjects).
    #[arg(long, env = "CLAIMTRAIL_PREFIX", default_value = "")]
    pub prefix: String,
    /// The dashboard's options (its API URLs are this listener's under `up`).
    #[command(flatten)]
    pub dashboard: claimtrail_dashboard::DashboardArgs,
}

/// The embedded database of a data directory.
pub fn sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join("claimtrail.db").display())
}

type ServiceList = Vec<(Runtime, ServiceParts)>;

pub async fn run(args: UpArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.data_dir).with_context(|| format!("creating the data directory {}", args.data_dir.display()))?;
    let data_dir = args.data_dir.canonicalize()?;
    let _ = std::fs::remove_file(data_dir.join("url"));
    let mut settings =
        ServeSettings::with_urls(args.database_url.as_deref().unwrap_or(&sqlite_url(&data_dir)), args.nats_url.as_deref().unwrap_or(""), &args.prefix);
    settings.listen = args.listen.clone();
    settings.key_dir = data_dir.join("keys");
    override_from_env(&mut settings);
    if settings.fraud.fingerprint_keys.is_empty() {
        settings.fraud.fingerprint_keys = vec![crate::fraud_ledger::data_dir_fingerprint_key(&settings.key_dir)?];
    }

    let stop = Arc::new(watch::channel(false).0);
    let runtimes: Vec<Runtime> = if args.database_url.is_some() {
        let mut runtimes = Vec::new();
        for (service, migrations) in service_migrations() {
            runtimes.push(Runtime::connect(&settings, service, &migrations).await?.with_stop(stop.clone()));
        }
        runtimes
    } else {
        embedded_runtimes(&settings, stop.clone()).await?
    };
    let mut services = build(&runtimes).await?;
    // The dashboard on the same listener, calling the APIs there once it is bound; keys are checked in intake's registry.
    let dashboard_urls = Arc::new(std::sync::OnceLock::new());
    let dashboard_store = runtimes[0].store.for_service(claimtrail_dashboard::SERVICE, &settings.prefix)?;
    let dashboard = claimtrail_dashboard::routes(dashboard_store, runtimes[0].registry.clone(), &args.dashboard, dashboard_urls.clone()).await?;
    if let Some((_, intake)) = services.first_mut() {
        intake.routes = std::mem::take(&mut intake.routes).merge(dashboard);
    }

    let seeded = Arc::new(AtomicBool::new(!args.demo));
    if let Some((_, parts)) = services.first_mut() {
        let seeded = seeded.clone();
        let previous = parts.readiness.clone();
        parts.readiness = Arc::new(move || {
            previous()?;
            if seeded.load(Ordering::SeqCst) { Ok(()) } else { Err("demo seeding in progress".into()) }
        });
    }
    let url_file = data_dir.join("url");
    let (listening_tx, listening_rx) = tokio::sync::oneshot::channel::<String>();
    let on_listening: Box<dyn FnOnce(std::net::SocketAddr) -> anyhow::Result<()> + Send> = Box::new(move |address| {
        let url = format!("http://{address}");
        let _ = dashboard_urls.set(claimtrail_dashboard::upstream::ApiUrls::one(&url));
        let tmp = url_file.with_extension("tmp");
        std::fs::write(&tmp, format!("{url}\n"))?;
        std::fs::rename(&tmp, &url_file)?;
        let _ = listening_tx.send(url);
        Ok(())
    });
    if args.demo {
        let runtimes = runtimes.clone();
        let data_dir = data_dir.clone();
        tokio::spawn(async move {
            let Ok(url) = listening_rx.await else { return };
            match demo::seed(&runtimes, &data_dir, &url).await {
                Ok(credentials) => {
                    seeded.store(true, Ordering::SeqCst);
                    tracing::info!("demo seeded; credentials in {}", data_dir.join(demo::CREDENTIALS_FILE).display());
                    // The labelled fraud world (`CLAIMTRAIL_DEMO_FRAUD_CLAIMS`, 0 skips it), once per data directory.
                    if let Err(e) = crate::demo_fraud::inject(&runtimes, &data_dir, &url, &credentials).await {
                        tracing::error!(error.message = %format!("{e:#}"), "the demo's fraud world failed");
                    }
                    // The payment cycle pays the demo's own claims: none streamed (`CLAIMTRAIL_DEMO_CLAIMS=0`), no cycle.
                    let streamed = demo::stream_claims(url.clone(), credentials.clone(), runtimes[0].stop_signal()).await;
                    if streamed > 0
                        && !*runtimes[0].stop_signal().borrow()
                        && let Err(e) = demo::payment_cycle(&runtimes, &data_dir, &url, &credentials).await
                    {
                        tracing::error!(error.message = %format!("{e:#}"), "the demo payment cycle failed");
                    }
                }
                Err(e) => tracing::error!(error.message = %format!("{e:#}"), "demo seeding failed"),
            }
        });
    }
    claimtrail_runtime::run_services(services, &settings.listen, Some(on_listening), claimtrail_runtime::shutdown_signal()).await
}

/// Environment overrides of the serve settings that `up` does not take as flags.
fn override_from_env(settings: &mut ServeSettings) {
    let parse = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    if let Some(v) = parse("CLAIMTRAIL_DELIVERIES_MAX") {
        settings.deliveries_max = v.max(1);
    }
    if let Some(v) = parse("CLAIMTRAIL_CHECKPOINT_INTERVAL_MS") {
        settings.anchor.checkpoint_interval_ms = v.max(10);
    }
    if let Some(v) = parse("CLAIMTRAIL_CHECKPOINT_ENTRIES") {
        settings.anchor.checkpoint_entries = v.max(1);
    }
    if let Some(v) = parse("CLAIMTRAIL_BODY_BYTES_MAX") {
        settings.body_bytes_max = v as usize;
    }
    if let Some(v) = parse("CLAIMTRAIL_BATCH_MAX") {
        settings.batch_max = v.clamp(1, 10_000) as u32;
    }
    if let Ok(origin) = std::env::var("CLAIMTRAIL_LEDGER_ORIGIN") {
        settings.anchor.ledger_origin = origin;
    }
}

pub fn service_migrations() -> Vec<(&'static str, Vec<claimtrail_store::Migration>)> {
    vec![
        (claimtrail_intake::SERVICE, claimtrail_intake::migrations()),
        (claimtrail_adjudication::SERVICE, claimtrail_adjudication::migrations()),
        (claimtrail_settlement::SERVICE, claimtrail_settlement::migrations()),
        (claimtrail_anchor::SERVICE, claimtrail_anchor::migrations()),
        (claimtrail_fraud_service::SERVICE, claimtrail_fraud_service::migrations()),
    ]
}

/// One SQLite pool (one writer) shared by every service and the embedded log.
pub async fn embedded_runtimes(settings: &ServeSettings, stop: Arc<watch::Sender<bool>>) -> anyhow::Result<Vec<Runtime>> {
    let first = Store::connect(&StoreConfig {
        database_url: settings.database_url.clone(),
        service: claimtrail_intake::SERVICE.to_owned(),
        prefix: settings.prefix.clone(),
        max_connections: 1,
        statement_timeout: settings.statement_timeout(),
    })
    .await
    .context("opening the embedded database")?;
    let mut stores = Vec::new();
    for (service, migrations) in service_migrations() {
        let store = first.for_service(service, &settings.prefix)?;
        store.migrate(&migrations).await.with_context(|| format!("migrating {service}"))?;
        stores.push(store);
    }
    let producers: Vec<&str> = service_migrations().iter().map(|(service, _)| *service).collect();
    let bus = EmbeddedBus::open(&first, &settings.prefix, &producers).await?.with_partitions(settings.partitions);
    let wakeup = bus.notifier();
    let bus: Arc<dyn Bus> = Arc::new(bus);
    let mut runtimes = Vec::with_capacity(stores.len());
    for store in stores {
        runtimes.push(Runtime::with_parts(store, bus.clone(), settings, wakeup.clone(), stop.clone()).await?);
    }
    Ok(runtimes)
}

/// The parts of the services.
pub async fn build(runtimes: &[Runtime]) -> anyhow::Result<ServiceList> {
    let mut services = Vec::new();
    for runtime in runtimes {
        let parts = match runtime.store.service() {
            claimtrail_intake::SERVICE => claimtrail_intake::parts(runtime).await?,
            claimtrail_adjudication::SERVICE => claimtrail_adjudication::parts(runtime),
            claimtrail_settlement::SERVICE => claimtrail_settlement::parts(runtime),
            claimtrail_anchor::SERVICE => claimtrail_anchor::parts(runtime).await?,
            claimtrail_fraud_service::SERVICE => {
                // In one process the fraud service reads the anchor's ledger directly, through the read
                // connections: it scans inside its consumer's transaction, which holds the one writer.
                let anchor = runtimes.iter().find(|r| r.store.service() == claimtrail_anchor::SERVICE).context("no anchor in the stack")?;
                let ledger: Arc<dyn claimtrail_fraud_service::LedgerSource> = Arc::new(crate::fraud_ledger::AnchorLedger::new(anchor.store.reading()));
                let adjudication = runtimes.iter().find(|r| r.store.service() == claimtrail_adjudication::SERVICE).context("no adjudication in the stack")?;
                let policy: Arc<dyn claimtrail_fraud_service::PolicySource> =
                    Arc::new(crate::fraud_ledger::AdjudicationPolicy::new(adjudication.store.clone()));
                claimtrail_fraud_service::parts_with(runtime, Some(ledger), Some(policy))?
            }
            other => anyhow::bail!("unknown service {other}"),
        };
        services.push((runtime.clone(), parts));
    }
    Ok(services)
}

/// The OpenAPI document of the whole HTTP surface (what `up` serves at /openapi.json).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut openapi = claimtrail_runtime::http::base_openapi();
    openapi.merge(claimtrail_intake::openapi());
    openapi.merge(claimtrail_adjudication::openapi());
    openapi.merge(claimtrail_settlement::openapi());
    openapi.merge(claimtrail_anchor::openapi());
    openapi.merge(claimtrail_fraud_service::openapi());
    openapi
}
