//! `claimtrail bench`: end-to-end load on a stack of its own, with the
//! per-claim budget (database rows and bytes, bus messages) beside the rates.
//!
//! It starts the four services in this process (embedded in a temporary
//! directory, or on Postgres + NATS under a fresh prefix), publishes a fee
//! schedule, submits `--claims` claims as batch Bundles over HTTP, and waits
//! until every claim is adjudicated, booked, anchored and covered by a
//! signed checkpoint.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use claimtrail_runtime::{Runtime, ServeSettings};
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::{demo, storage, up};

#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Claims to submit.
    #[arg(long, default_value_t = 10_000)]
    pub claims: usize,
    /// Claims per Bundle.
    #[arg(long, default_value_t = 100)]
    pub bundle: usize,
    /// Bundles in flight at once.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Run on Postgres (with --nats-url) instead of embedded; with --ledger, where the Postgres rates are measured.
    #[arg(long)]
    pub database_url: Option<String>,
    #[arg(long, requires = "database_url")]
    pub nats_url: Option<String>,
    /// Measure the audit ledger instead of the stack: raw SHA3-256, verify,
    /// and with --database-url the raw INSERT and COPY rates and the append path.
    #[arg(long)]
    pub ledger: bool,
    /// Ledger entries for --ledger.
    #[arg(long, default_value_t = 200_000)]
    pub ledger_entries: usize,
    /// Entries per transaction for --ledger.
    #[arg(long, default_value_t = 5_000)]
    pub ledger_batch: usize,
    /// Run intake alone, as on pods of its own, and report the accepted rate
    /// only (the other services would share the machine's cores with it).
    #[arg(long, conflicts_with = "ledger")]
    pub intake_only: bool,
    /// Submit FHIR Bundles to /v1/claims or X12 837P interchanges to /v1/claims/x12.
    #[arg(long, value_enum, default_value = "fhir")]
    pub format: crate::generate::Format,
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    if args.ledger {
        return crate::bench_ledger::run(args.ledger_entries, args.database_url.as_deref(), args.ledger_batch).await;
    }
    anyhow::ensure!(args.database_url.is_some() == args.nats_url.is_some(), "--database-url and --nats-url go together (or neither, for embedded)");
    anyhow::ensure!(args.claims > 0 && args.bundle > 0 && args.concurrency > 0, "--claims, --bundle and --concurrency must be positive");
    let work_dir = tempfile::tempdir()?;
    let prefix = format!("bench{}", &uuid::Uuid::now_v7().simple().to_string()[24..]);
    let embedded = args.database_url.is_none();
    let mut settings = ServeSettings::with_urls(
        args.database_url.as_deref().unwrap_or(&up::sqlite_url(work_dir.path())),
        args.nats_url.as_deref().unwrap_or(""),
        if embedded { "" } else { &prefix },
    );
    settings.key_dir = work_dir.path().join("keys");
    settings.listen = "127.0.0.1:0".into();
    settings.batch_max = 512;
    let stop = Arc::new(watch::channel(false).0);
    let runtimes: Vec<Runtime> = if embedded {
        up::embedded_runtimes(&settings, stop.clone()).await?
    } else {
        let mut runtimes = Vec::new();
        for (service, migrations) in up::service_migrations() {
            runtimes.push(Runtime::connect(&settings, service, &migrations).await?.with_stop(stop.clone()));
        }
        runtimes
    };
    let mut services = up::build(&runtimes).await?;
    if args.intake_only {
        services.retain(|(runtime, _)| runtime.store.service() == claimtrail_intake::SERVICE);
    }
    let (url_tx, url_rx) = tokio::sync::oneshot::channel();
    let on_listening: Box<dyn FnOnce(std::net::SocketAddr) -> anyhow::Result<()> + Send> = Box::new(move |address| {
        let _ = url_tx.send(format!("http://{address}"));
        Ok(())
    });
    let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
    let listen = settings.listen.clone();
    let server = tokio::spawn(async move {
        claimtrail_runtime::run_services(services, &listen, Some(on_listening), async {
            let _ = shutdown_rx.await;
        })
        .await
    });
    let url = url_rx.await.context("the stack did not start")?;
    let credentials = demo::seed(&runtimes, work_dir.path(), &url).await?;
    let key = credentials.tenants.iter().find(|t| t["role"] == "provider").and_then(|t| t["api_key"].as_str()).context("no provider key")?.to_owned();
    let members: Vec<String> = credentials.members.iter().filter_map(|m| m["member_id"].as_str().map(str::to_owned)).collect();
    // Events produced before the claims (reference data): every one reaches the ledger.
    let baseline_events = published_events(&runtimes).await? - footprint_of(&runtimes, claimtrail_anchor::SERVICE).await?.table_rows("outbox");

    // Bodies are built before the clock starts.
    let today = claimtrail_events::today();
    let n_bundles = args.claims.div_ceil(args.bundle);
    let mut bodies: Vec<Vec<u8>> = Vec::with_capacity(n_bundles);
    for bundle_idx in 0..n_bundles {
        let n = args.bundle.min(args.claims - bundle_idx * args.bundle);
        let claims: Vec<Value> = (0..n)
            .map(|claim_idx| {
                let sequence = (bundle_idx * args.bundle + claim_idx) as u64;
                demo::demo_claim(sequence, &members[sequence as usize % members.len()], today)
            })
            .collect();
        bodies.push(match args.format {
            crate::generate::Format::Fhir => {
                let entries: Vec<Value> =
                    claims.into_iter().map(|claim| json!({"fullUrl": format!("urn:uuid:{}", uuid::Uuid::now_v7()), "resource": claim})).collect();
                serde_json::to_vec(&json!({"resourceType": "Bundle", "type": "batch", "entry": entries}))?
            }
            crate::generate::Format::X12 => crate::generate::x12_interchange(&claims, today, 1, bundle_idx as u64 + 1, None)?.into_bytes(),
        });
    }
    let (path, content_type) = match args.format {
        crate::generate::Format::Fhir => ("/v1/claims", "application/fhir+json"),
        crate::generate::Format::X12 => ("/v1/claims/x12", "application/edi-x12"),
    };
    let request_bytes: usize = bodies.iter().map(Vec::len).sum();

    let progress = indicatif::ProgressBar::new(args.claims as u64);
    progress
        .set_style(indicatif::ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} claims").unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()));
    progress.set_message("submitting");
    let client = reqwest::Client::new();
    let started = Instant::now();
    let semaphore = Arc::new(tokio::sync::Semaphore::new(args.concurrency));
    let mut submissions = tokio::task::JoinSet::new();
    for body in bodies {
        let permit = semaphore.clone().acquire_owned().await?;
        let (client, url, key, progress) = (client.clone(), url.clone(), key.clone(), progress.clone());
        submissions.spawn(async move {
            let _permit = permit;
            let response = client.post(format!("{url}{path}")).bearer_auth(&key).header("content-type", content_type).body(body).send().await?;
            let status = response.status();
            let answer: Value = response.json().await?;
            anyhow::ensure!(status == 202, "submission answered {status}: {answer}");
            let accepted = answer["outcomes"]
                .as_array()
                .map(|o| o.iter().filter(|o| o["status"] == claimtrail_events::ClaimStatus::Accepted.as_str()).count())
                .unwrap_or(0);
            progress.inc(accepted as u64);
            Ok::<usize, anyhow::Error>(accepted)
        });
    }
    let mut accepted = 0usize;
    while let Some(result) = submissions.join_next().await {
        accepted += result??;
    }
    let accept_elapsed = started.elapsed();
    anyhow::ensure!(accepted == args.claims, "only {accepted} of {} claims were accepted", args.claims);
    if args.intake_only {
        progress.finish_and_clear();
        let n = args.claims as f64;
        println!("mode: {}, intake alone", if embedded { "embedded (SQLite)" } else { "Postgres + NATS JetStream" });
        println!("claims: {} in bundles of {}, {} in flight; request bytes {}", args.claims, args.bundle, args.concurrency, request_bytes);
        println!("accepted: {:.0} claims/s ({:.2} s)", n / accept_elapsed.as_secs_f64(), accept_elapsed.as_secs_f64());
        let _ = shutdown_tx.send(());
        let _ = server.await;
        if !embedded {
            cleanup(&runtimes, &settings, &prefix).await?;
        }
        return Ok(());
    }

    progress.set_message("settling");
    progress.set_position(0);
    let expected = baseline_events + 3 * args.claims as i64;
    loop {
        let booked = footprint_of(&runtimes, claimtrail_settlement::SERVICE).await?.table_rows("journal_entries");
        let checkpoint = claimtrail_anchor::storage::checkpointed_size(&runtime_of(&runtimes, claimtrail_anchor::SERVICE)?.store).await? as i64;
        progress.set_position(booked as u64);
        if booked == args.claims as i64 && checkpoint == expected {
            break;
        }
        anyhow::ensure!(started.elapsed() < Duration::from_secs(3_600), "not settled after an hour: {booked} booked, checkpoint {checkpoint}/{expected}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let settle_elapsed = started.elapsed();
    progress.finish_and_clear();

    // The budget per claim, from each service's own footprint.
    let mut rows = 0i64;
    let mut table_lines = Vec::new();
    for runtime in &runtimes {
        let service = runtime.store.service();
        for table in footprint_of(&runtimes, service).await?.tables {
            rows += table.rows;
            table_lines.push(format!("{service}.{}={}", table.table, table.rows));
        }
    }
    let outbox_messages = published_events(&runtimes).await?;
    let bytes = storage::database_bytes(&runtimes, work_dir.path(), embedded, &prefix).await?;
    let n = args.claims as f64;
    println!("mode: {}", if embedded { "embedded (SQLite, outbox-as-log)" } else { "Postgres + NATS JetStream (serve topology in one process)" });
    println!("claims: {} in bundles of {}, {} in flight; request bytes {}", args.claims, args.bundle, args.concurrency, request_bytes);
    println!("accepted: {:.0} claims/s ({:.2} s)", n / accept_elapsed.as_secs_f64(), accept_elapsed.as_secs_f64());
    println!(
        "end to end (adjudicated, booked, anchored, checkpointed): {:.0} claims/s ({:.2} s)",
        n / settle_elapsed.as_secs_f64(),
        settle_elapsed.as_secs_f64()
    );
    println!("per claim: {:.2} database rows, {:.0} database bytes, {:.2} events published", rows as f64 / n, bytes as f64 / n, outbox_messages as f64 / n);
    println!("rows by table: {}", table_lines.join(" "));

    let _ = shutdown_tx.send(());
    let _ = server.await;
    if !embedded {
        cleanup(&runtimes, &settings, &prefix).await?;
    }
    Ok(())
}

fn runtime_of<'a>(runtimes: &'a [Runtime], service: &str) -> anyhow::Result<&'a Runtime> {
    runtimes.iter().find(|r| r.store.service() == service).with_context(|| format!("no {service} in the stack"))
}

/// A service's tables, rows and bytes, as the service reports them.
async fn footprint_of(runtimes: &[Runtime], service: &str) -> anyhow::Result<claimtrail_store::Footprint> {
    let store = &runtime_of(runtimes, service)?.store;
    Ok(match service {
        claimtrail_intake::SERVICE => claimtrail_intake::footprint(store).await?,
        claimtrail_adjudication::SERVICE => claimtrail_adjudication::storage::footprint(store).await?,
        claimtrail_settlement::SERVICE => claimtrail_settlement::storage::footprint(store).await?,
        claimtrail_anchor::SERVICE => claimtrail_anchor::storage::footprint(store).await?,
        claimtrail_fraud_service::SERVICE => claimtrail_fraud_service::storage::footprint(store).await?,
        other => anyhow::bail!("no footprint for {other}"),
    })
}

/// Events every service has published (its outbox rows).
async fn published_events(runtimes: &[Runtime]) -> anyhow::Result<i64> {
    let mut total = 0;
    for runtime in runtimes {
        total += footprint_of(runtimes, runtime.store.service()).await?.table_rows("outbox");
    }
    Ok(total)
}

async fn cleanup(runtimes: &[Runtime], settings: &ServeSettings, prefix: &str) -> anyhow::Result<()> {
    storage::drop_schemas(runtimes, prefix).await;
    claimtrail_bus::jetstream::delete_streams(&settings.nats_url, &claimtrail_bus::Naming::new(prefix)).await?;
    Ok(())
}
