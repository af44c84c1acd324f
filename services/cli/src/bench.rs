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
    /// Entries per transaction for --ledger (the anchor appends consumer batches of at most 256).
    #[arg(long, default_value_t = 256)]
    pub ledger_batch: usize,
    /// Run intake alone, as on pods of its own, and report the accepted rate
    /// only (the other services would share the machine's cores with it).
    #[arg(long, conflicts_with = "ledger")]
    pub intake_only: bool,
    /// Submit FHIR Bundles to /v1/claims or X12 837P interchanges to /v1/claims/x12.
    #[arg(long, value_enum, default_value = "fhir")]
    pub format: crate::generate::Format,
    /// Where the services run: `embedded` (one process, SQLite), `one-process`
    /// (one process, Postgres + NATS) or `deployed` (a `claimtrail serve`
    /// process per service, this process the load driver only). Default:
    /// embedded without URLs, one-process with them.
    #[arg(long, value_enum, conflicts_with_all = ["ledger", "intake_only"])]
    pub topology: Option<Topology>,
    /// Offered load in claims/s (Bundles sent when due, an open loop); flat out without it. Deployed topology.
    #[arg(long, value_parser = positive_rate)]
    pub rate: Option<f64>,
    /// Claims submitted and settled before the measured ones. Deployed topology.
    #[arg(long, default_value_t = 1_000)]
    pub warmup: usize,
    /// Members of the demo payer the claims are spread over, enrolled before
    /// the clock starts (0: the demo's six members). A member's claims are
    /// its history, which every later claim of the member reads and records:
    /// six members for thousands of claims measure a history no member has.
    #[arg(long, default_value_t = BENCH_MEMBERS_DEFAULT)]
    pub members: usize,
    /// The nats-server binary the deployed topology starts (its config pinned) when --nats-url is not given.
    #[arg(long, default_value = "nats-server")]
    pub nats_server: std::path::PathBuf,
    /// Write the deployed run's figures as JSON to this file.
    #[arg(long)]
    pub json: Option<std::path::PathBuf>,
    /// Add the deployed run's Markdown row to this file (docs/benchmarks.md).
    #[arg(long)]
    pub markdown: Option<std::path::PathBuf>,
}

/// Members the bench enrolls unless `--members` says otherwise: 10,000 claims make five each.
pub const BENCH_MEMBERS_DEFAULT: usize = 2_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Topology {
    Embedded,
    OneProcess,
    Deployed,
}

fn positive_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate > 0.0 && rate.is_finite() => Ok(rate),
        _ => Err(format!("`{text}` is not a positive number of claims per second")),
    }
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    if args.ledger {
        return crate::bench_ledger::run(args.ledger_entries, args.database_url.as_deref(), args.ledger_batch).await;
    }
    anyhow::ensure!(args.claims > 0 && args.bundle > 0 && args.concurrency > 0, "--claims, --bundle and --concurrency must be positive");
    let topology = args.topology.unwrap_or(if args.database_url.is_some() { Topology::OneProcess } else { Topology::Embedded });
    if topology == Topology::Deployed {
        return crate::bench_deployed::run(&args).await;
    }
    anyhow::ensure!(args.rate.is_none() && args.markdown.is_none(), "--rate and --markdown are for --topology deployed");
    anyhow::ensure!(args.database_url.is_some() == args.nats_url.is_some(), "--database-url and --nats-url go together (or neither, for embedded)");
    anyhow::ensure!(
        (topology == Topology::Embedded) == args.database_url.is_none(),
        "--topology embedded runs without --database-url and --nats-url, one-process with them"
    );
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
    let members = claim_members(&runtimes, &credentials, args.members).await?;
    // Events produced before the claims (reference data): every one reaches the ledger.
    let baseline_events = published_events(&runtimes).await? - footprint_of(&runtimes, claimtrail_anchor::SERVICE).await?.table_rows("outbox");
    let (rows_before, _) = rows_by_table(&runtimes).await?;
    let (events_before, bytes_before) = (published_events(&runtimes).await?, storage::database_bytes(&runtimes, work_dir.path(), embedded, &prefix).await?);
    let records_before = record_volume(&runtimes).await?;
    let load_average = std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim().to_owned();

    // Bodies are built before the clock starts.
    let today = claimtrail_events::today();
    let bodies = claim_bodies(&args, &members, today, 0, args.claims)?;
    let (path, content_type) = endpoint(args.format);
    let request_bytes: usize = bodies.iter().map(Vec::len).sum();

    let progress = indicatif::ProgressBar::new(args.claims as u64);
    style(&progress, "submitting");
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
            let accepted = accepted_ids(&answer).len();
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
        if let Some(path) = &args.json {
            let setup = json!({"members": members.len(), "bundle": args.bundle, "concurrency": args.concurrency, "load_average_at_start": load_average});
            write_json(
                path,
                &json!({"topology": topology_name(embedded), "intake_only": true, "claims": args.claims, "accepted_per_second": n / accept_elapsed.as_secs_f64(), "setup": setup}),
            )?;
        }
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
    wait_settled(&runtimes, args.claims as i64, expected, started, Some((&progress, 0))).await?;
    let settle_elapsed = started.elapsed();
    progress.finish_and_clear();

    // The budget per claim, from each service's own footprint (the seeding's rows, events and bytes left out).
    let (rows_after, table_lines) = rows_by_table(&runtimes).await?;
    let rows = rows_after - rows_before;
    let outbox_messages = published_events(&runtimes).await? - events_before;
    let bytes = storage::database_bytes(&runtimes, work_dir.path(), embedded, &prefix).await? - bytes_before;
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
    let records = record_volume(&runtimes).await?;
    let record_bytes = per_record(records_before, records);
    println!("decision records: {} bytes of canonical JSON per record", record_bytes.map_or("-".to_owned(), |bytes| format!("{bytes:.0}")));
    if let Some(path) = &args.json {
        // The deployed mode's keys that apply here (no per-claim latencies, ceilings or processes in these modes).
        let report = json!({
            "topology": topology_name(embedded),
            "claims": args.claims,
            "claims_per_second": n / settle_elapsed.as_secs_f64(),
            "accepted_per_second": n / accept_elapsed.as_secs_f64(),
            "duration_seconds": settle_elapsed.as_secs_f64(),
            "per_claim": {"rows": rows as f64 / n, "bytes": bytes as f64 / n, "events": outbox_messages as f64 / n, "decision_record_bytes": record_bytes},
            "setup": {
                "topology": if embedded { "embedded: every service in this process on SQLite, the outbox as the log" } else { "one-process: every service in this process on Postgres and JetStream" },
                "members": members.len(),
                "claims": args.claims,
                "bundle": args.bundle,
                "concurrency": args.concurrency,
                "batch_max": settings.batch_max,
                "cores": crate::bench_ceilings::cores(),
                "load_average_at_start": load_average,
            },
        });
        write_json(path, &report)?;
    }

    let _ = shutdown_tx.send(());
    let _ = server.await;
    if !embedded {
        cleanup(&runtimes, &settings, &prefix).await?;
    }
    Ok(())
}

fn topology_name(embedded: bool) -> &'static str {
    if embedded { "embedded" } else { "one-process" }
}

/// Writes the bench's `--json` report.
pub(crate) fn write_json(path: &std::path::Path, report: &Value) -> anyhow::Result<()> {
    std::fs::write(path, serde_json::to_string_pretty(report)? + "\n").with_context(|| format!("writing {}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}

/// Adjudication's decision records: how many, and their canonical JSON's length in all.
pub(crate) async fn record_volume(runtimes: &[Runtime]) -> anyhow::Result<(i64, i64)> {
    Ok(claimtrail_adjudication::storage::record_volume(&runtime_of(runtimes, claimtrail_adjudication::SERVICE)?.store).await?)
}

/// The mean length of the records written between two [`record_volume`]s (`None`: none written).
pub(crate) fn per_record(before: (i64, i64), after: (i64, i64)) -> Option<f64> {
    let records = after.0 - before.0;
    (records > 0).then(|| (after.1 - before.1) as f64 / records as f64)
}

/// Every service's rows in all, and per table (`service.table=rows`).
async fn rows_by_table(runtimes: &[Runtime]) -> anyhow::Result<(i64, Vec<String>)> {
    let mut rows = 0i64;
    let mut table_lines = Vec::new();
    for runtime in runtimes {
        let service = runtime.store.service();
        for table in footprint_of(runtimes, service).await?.tables {
            rows += table.rows;
            table_lines.push(format!("{service}.{}={}", table.table, table.rows));
        }
    }
    Ok((rows, table_lines))
}

/// `count` members of the demo payer, `BENCH-000000` on, with the demo
/// members' names and dates in turn.
pub(crate) fn bench_members(count: usize) -> Vec<Value> {
    let people = demo::demo_members();
    (0..count)
        .map(|n| {
            let mut member = people[n % people.len()].clone();
            member["member_id"] = json!(format!("BENCH-{n:06}"));
            member
        })
        .collect()
}

/// The members the claims go to: with `count` of 0 the demo's own, otherwise
/// `count` members enrolled through intake (as a member upload would, in
/// transactions of 500) and waited for until adjudication has recorded the
/// last of them, so that no measured claim waits for its member.
pub(crate) async fn claim_members(runtimes: &[Runtime], credentials: &demo::Credentials, count: usize) -> anyhow::Result<Vec<String>> {
    use sea_orm::TransactionTrait as _;
    if count == 0 {
        return Ok(credentials.members.iter().filter_map(|m| m["member_id"].as_str().map(str::to_owned)).collect());
    }
    let members = bench_members(count);
    let intake = runtime_of(runtimes, claimtrail_intake::SERVICE)?;
    for chunk in members.chunks(500) {
        let tx = intake.store.db().begin().await?;
        claimtrail_intake::reference::store_members(intake, &tx, demo::member_enrollments(chunk)?).await?;
        tx.commit().await?;
        intake.relay_wakeup.notify_waiters();
    }
    let ids: Vec<String> = members.iter().filter_map(|m| m["member_id"].as_str().map(str::to_owned)).collect();
    let last = ids.last().context("no member enrolled")?;
    let adjudication = &runtime_of(runtimes, claimtrail_adjudication::SERVICE)?.store;
    let deadline = Instant::now() + Duration::from_secs(600);
    while claimtrail_adjudication::storage::member(adjudication, adjudication.reader(), demo::DEMO_PAYER_ID, last, None).await?.is_none() {
        anyhow::ensure!(Instant::now() < deadline, "adjudication had not recorded member {last} after 10 minutes");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(ids)
}

pub(crate) fn runtime_of<'a>(runtimes: &'a [Runtime], service: &str) -> anyhow::Result<&'a Runtime> {
    runtimes.iter().find(|r| r.store.service() == service).with_context(|| format!("no {service} in the stack"))
}

/// A service's tables, rows and bytes, as the service reports them.
pub(crate) async fn footprint_of(runtimes: &[Runtime], service: &str) -> anyhow::Result<claimtrail_store::Footprint> {
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
pub(crate) async fn published_events(runtimes: &[Runtime]) -> anyhow::Result<i64> {
    let mut total = 0;
    for runtime in runtimes {
        total += footprint_of(runtimes, runtime.store.service()).await?.table_rows("outbox");
    }
    Ok(total)
}

/// The events every service but the anchor has published: what the ledger holds once it caught up.
async fn published_to_ledger(runtimes: &[Runtime]) -> anyhow::Result<i64> {
    Ok(published_events(runtimes).await? - footprint_of(runtimes, claimtrail_anchor::SERVICE).await?.table_rows("outbox"))
}

pub(crate) async fn cleanup(runtimes: &[Runtime], settings: &ServeSettings, prefix: &str) -> anyhow::Result<()> {
    storage::drop_schemas(runtimes, prefix).await;
    claimtrail_bus::jetstream::delete_streams(&settings.nats_url, &claimtrail_bus::Naming::new(prefix)).await?;
    Ok(())
}

/// The request bodies of claims `first..first + count` (demo claims, the
/// members in turn), `--bundle` claims each, built before any clock starts.
pub(crate) fn claim_bodies(args: &BenchArgs, members: &[String], today: time::Date, first: usize, count: usize) -> anyhow::Result<Vec<Vec<u8>>> {
    anyhow::ensure!(!members.is_empty(), "the demo seeded no members");
    let mut bodies = Vec::with_capacity(count.div_ceil(args.bundle));
    for (bundle_idx, start) in (first..first + count).step_by(args.bundle).enumerate() {
        let claims: Vec<Value> = (start..(start + args.bundle).min(first + count))
            .map(|sequence| demo::demo_claim(sequence as u64, &members[sequence % members.len()], today))
            .collect();
        bodies.push(match args.format {
            crate::generate::Format::Fhir => {
                let entries: Vec<Value> =
                    claims.into_iter().map(|claim| json!({"fullUrl": format!("urn:uuid:{}", uuid::Uuid::now_v7()), "resource": claim})).collect();
                serde_json::to_vec(&json!({"resourceType": "Bundle", "type": "batch", "entry": entries}))?
            }
            crate::generate::Format::X12 => {
                crate::generate::x12_interchange(&claims, today, 1, (first / args.bundle + bundle_idx) as u64 + 1, None)?.into_bytes()
            }
        });
    }
    Ok(bodies)
}

/// The submission path and content type of a format.
pub(crate) fn endpoint(format: crate::generate::Format) -> (&'static str, &'static str) {
    match format {
        crate::generate::Format::Fhir => ("/v1/claims", "application/fhir+json"),
        crate::generate::Format::X12 => ("/v1/claims/x12", "application/edi-x12"),
    }
}

/// The claim ids a submission answer accepted.
pub(crate) fn accepted_ids(answer: &Value) -> Vec<uuid::Uuid> {
    answer["outcomes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|o| o["status"] == claimtrail_events::ClaimStatus::Accepted.as_str())
        .filter_map(|o| o["claim_id"].as_str().and_then(|id| id.parse().ok()))
        .collect()
}

pub(crate) fn style(progress: &indicatif::ProgressBar, message: &str) {
    progress
        .set_style(indicatif::ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} claims").unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()));
    progress.set_message(message.to_owned());
}

/// Waits until `booked` claims are booked and the signed checkpoint covers
/// at least `checkpoint` ledger entries and every event published so far (an hour at most),
/// moving `progress` (less its offset) meanwhile.
pub(crate) async fn wait_settled(
    runtimes: &[Runtime],
    booked: i64,
    checkpoint: i64,
    started: Instant,
    progress: Option<(&indicatif::ProgressBar, u64)>,
) -> anyhow::Result<()> {
    loop {
        let now_booked = footprint_of(runtimes, claimtrail_settlement::SERVICE).await?.table_rows("journal_entries");
        let now_checkpoint = claimtrail_anchor::storage::checkpointed_size(&runtime_of(runtimes, claimtrail_anchor::SERVICE)?.store).await? as i64;
        if let Some((progress, offset)) = progress {
            progress.set_position((now_booked as u64).saturating_sub(offset));
        }
        // At least each claim's own events, and then every event published so far: a claim
        // may bring more (the member's accumulators when the payer has a plan).
        if now_booked == booked && now_checkpoint >= checkpoint && now_checkpoint >= published_to_ledger(runtimes).await? {
            return Ok(());
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(3_600),
            "not settled after an hour: {now_booked}/{booked} booked, checkpoint {now_checkpoint}/{checkpoint}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
