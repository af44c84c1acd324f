//! `claimtrail bench --topology deployed`: the services as the product runs
//! them, each a `claimtrail serve <service>` process of this binary, on
//! Postgres and JetStream; this process is the load driver and nothing else.
//!
//! One run: start NATS (a `nats-server` of the bench's own, its config
//! pinned and printed, unless `--nats-url` names one) and the services under
//! a fresh prefix (a witness, following the ledger's log key; intake,
//! adjudication, settlement; the anchor, asking the witness to cosign each
//! checkpoint with a quorum of one; the fraud service, reading the anchor's
//! ledger and adjudication's policy through their APIs with an auditor key,
//! and matching on the fingerprint key intake stamps); seed the demo payer; measure the ceilings
//! (`bench_ceilings`); submit `--warmup` claims and wait until they are
//! settled; then the measured claims, flat out or at `--rate`, until every
//! one is adjudicated, booked and in the ledger under a signed checkpoint.
//! Latencies come from the streams' own timestamps (when JetStream stored the
//! decision, the checkpoint), so the driver's lag in reading does not count;
//! CPU and RSS per process from /proc; rows, bytes and events from each
//! service's `footprint()`; bus deliveries from the JetStream consumers; the
//! witness's cosignature lag from the anchor's checkpoints (sampled), and
//! the fraud service's claims and alerts from its tables.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context as _;
use claimtrail_events::{CheckpointSigned, ClaimAdjudicated, ClaimPended, ClaimSubmitted, PayableBooked};
use claimtrail_runtime::{Runtime, ServeSettings};
use futures::StreamExt as _;
use sea_orm::ConnectionTrait as _;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

use crate::bench::{self, BenchArgs};
use crate::bench_report::{self, ClaimTimes, ProcessUse, Report, Resource};
use crate::{demo, storage, up};

/// The bench's witness's name (its key name in cosignatures).
const WITNESS_NAME: &str = "bench.claimtrail.local/witness";
/// How long the driver waits after the last claim for the witness to cosign the last checkpoint.
const COSIGNATURE_WAIT: Duration = Duration::from_secs(30);

/// Events per claim on the ledger: submitted, adjudicated, booked.
const EVENTS_PER_CLAIM: usize = 3;
/// SHA3-256 computations per event (its batch leaf hash, the Merkle tree over the batch, the ledger's leaf hash and chain): an estimate.
const HASHES_PER_EVENT: f64 = 4.0;

struct Process {
    name: String,
    child: Child,
    url: Option<String>,
}

fn now_ms() -> f64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

pub async fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let database_url = args.database_url.clone().context("--topology deployed runs on Postgres: give --database-url")?;
    let work_dir = tempfile::Builder::new().prefix("claimtrail-bench").tempdir()?;
    let prefix = format!("bench{}", &uuid::Uuid::now_v7().simple().to_string()[24..]);
    let mut processes: Vec<Process> = Vec::new();
    let result = run_in(args, &database_url, work_dir.path(), &prefix, &mut processes).await;
    for process in processes.iter_mut().rev() {
        stop(process).await;
    }
    if result.is_err() {
        // Keep the services' logs for the error's reader.
        let kept = work_dir.keep();
        eprintln!("the services' logs are in {}", kept.display());
    }
    result
}

async fn run_in(args: &BenchArgs, database_url: &str, work_dir: &Path, prefix: &str, processes: &mut Vec<Process>) -> anyhow::Result<()> {
    // NATS: the caller's, or a server of our own with its configuration pinned.
    let (nats_url, nats_setup) = match &args.nats_url {
        Some(url) => {
            let client = async_nats::connect(url.as_str()).await.with_context(|| format!("connecting to {url}"))?;
            let version = client.server_info().version;
            (
                url.clone(),
                json!({"server": url, "version": version, "spawned_by_bench": false,
                "durability": "the server's own configuration (a client cannot read it): see its sync_interval"}),
            )
        }
        None => {
            let (process, url, setup) = spawn_nats(&args.nats_server, work_dir).await?;
            processes.push(process);
            (url, setup)
        }
    };
    let db = sea_orm::Database::connect(database_url).await.context("connecting to Postgres")?;
    let postgres_setup = storage::postgres_durability(&db).await?;
    drop(db);

    let key_dir = work_dir.join("keys");
    std::fs::create_dir_all(&key_dir)?;
    let mut settings = ServeSettings::with_urls(database_url, &nats_url, prefix);
    // Intake stamps each claim with the fingerprint key the fraud service matches on (as `up` does).
    let fingerprint_keys = crate::fraud_ledger::data_dir_fingerprint_key(&key_dir)?;
    // The witness, run apart (its own key directory), follows the ledger's log key, made before the anchor starts
    // (`claimtrail keys log`); the anchor asks it to cosign every checkpoint, with a quorum of one.
    let log_vkey = claimtrail_anchor::keys::load_or_create(&key_dir, &settings.anchor.ledger_origin)?.verifier().to_string();
    let witness_dir = work_dir.join("witness-keys");
    let witness = spawn_service(
        claimtrail_witness::SERVICE,
        database_url,
        &nats_url,
        prefix,
        &witness_dir,
        work_dir,
        &[("CLAIMTRAIL_WITNESS_LOG_KEYS", log_vkey.clone()), ("CLAIMTRAIL_WITNESS_NAME", WITNESS_NAME.to_owned())],
    )
    .await?;
    let witness_url = witness.url.clone().context("the witness has no URL")?;
    processes.push(witness);
    let witness_vkey = std::fs::read_to_string(witness_dir.join("witness.vkey")).context("the witness wrote no witness.vkey")?.trim().to_owned();
    for service in [claimtrail_intake::SERVICE, claimtrail_adjudication::SERVICE, claimtrail_settlement::SERVICE, claimtrail_anchor::SERVICE] {
        let env = match service {
            claimtrail_intake::SERVICE => vec![("CLAIMTRAIL_FINGERPRINT_KEYS", fingerprint_keys.clone())],
            claimtrail_anchor::SERVICE => vec![
                ("CLAIMTRAIL_WITNESS_URLS", witness_url.clone()),
                ("CLAIMTRAIL_WITNESS_KEYS", witness_vkey.clone()),
                ("CLAIMTRAIL_WITNESS_QUORUM", "1".to_owned()),
            ],
            _ => vec![],
        };
        let process = spawn_service(service, database_url, &nats_url, prefix, &key_dir, work_dir, &env).await?;
        processes.push(process);
    }
    let url_of = |service: &str| processes.iter().find(|p| p.name == service).and_then(|p| p.url.clone()).context("a service has no URL");
    let (intake_url, adjudication_url, anchor_url) =
        (url_of(claimtrail_intake::SERVICE)?, url_of(claimtrail_adjudication::SERVICE)?, url_of(claimtrail_anchor::SERVICE)?);

    // The driver's own connections: seeding (through the services' libraries,
    // whose outboxes the serve processes relay) and the footprints.
    settings.key_dir = key_dir.clone();
    settings.db_pool_max = 2;
    let mut runtimes = Vec::new();
    for (service, migrations) in up::service_migrations() {
        runtimes.push(Runtime::connect(&settings, service, &migrations).await?);
    }
    // The fraud service reads the anchor's ledger and adjudication's policy through their APIs, with an auditor key of every payer.
    let intake_runtime = bench::runtime_of(&runtimes, claimtrail_intake::SERVICE)?;
    let fraud_key = claimtrail_intake::auth::create_key(&intake_runtime.registry, "bench fraud detection", claimtrail_intake::auth::Role::Auditor, &[], true)
        .await?
        .api_key;
    let fraud_env = [
        ("CLAIMTRAIL_FRAUD_LEDGER_URL", anchor_url),
        ("CLAIMTRAIL_FRAUD_POLICY_URL", adjudication_url.clone()),
        ("CLAIMTRAIL_FRAUD_LEDGER_KEY", fraud_key),
        ("CLAIMTRAIL_FINGERPRINT_KEYS", fingerprint_keys),
    ];
    let fraud = spawn_service(claimtrail_fraud_service::SERVICE, database_url, &nats_url, prefix, &key_dir, work_dir, &fraud_env).await;
    let result = match fraud {
        Ok(process) => {
            processes.push(process);
            measure(args, &runtimes, &intake_url, &adjudication_url, work_dir, prefix, &nats_url, database_url, processes, nats_setup, postgres_setup).await
        }
        Err(e) => Err(e),
    };
    // The services stop before their schemas and streams go (NATS last).
    for process in processes.iter_mut().rev().filter(|p| p.url.is_some()) {
        stop(process).await;
    }
    if let Err(e) = bench::cleanup(&runtimes, &settings, prefix).await {
        eprintln!("cleaning up the bench's schemas and streams: {e:#}");
    }
    // The witness's schema is not one of the driver's runtimes'.
    let _ = runtimes[0].store.db().execute_unprepared(&format!("DROP SCHEMA IF EXISTS \"{prefix}_{}\" CASCADE", claimtrail_witness::SERVICE)).await;
    result
}

#[allow(clippy::too_many_arguments)]
async fn measure(
    args: &BenchArgs,
    runtimes: &[Runtime],
    intake_url: &str,
    adjudication_url: &str,
    work_dir: &Path,
    prefix: &str,
    nats_url: &str,
    database_url: &str,
    processes: &[Process],
    nats_setup: Value,
    postgres_setup: Value,
) -> anyhow::Result<()> {
    let credentials = demo::seed(runtimes, work_dir, adjudication_url).await?;
    let key = credentials.tenants.iter().find(|t| t["role"] == "provider").and_then(|t| t["api_key"].as_str()).context("no provider key")?.to_owned();
    let members = bench::claim_members(runtimes, &credentials, args.members).await?;
    let baseline_events = bench::published_events(runtimes).await? - bench::footprint_of(runtimes, claimtrail_anchor::SERVICE).await?.table_rows("outbox");

    let ceilings = crate::bench_ceilings::measure(database_url, nats_url, prefix).await?;

    let today = claimtrail_events::today();
    let driver = format!("this process (pid {}), the load driver only, on the same {}-core machine", std::process::id(), crate::bench_ceilings::cores());
    let setup = json!({
        "topology": "deployed: intake, adjudication, settlement, anchor, fraud and a witness as separate `claimtrail serve` processes (the anchor asks the witness to cosign each checkpoint, quorum 1)",
        "driver": driver,
        "nats": nats_setup,
        "postgres": postgres_setup,
        "service_settings": "the serve defaults (batch_max 256, checkpoint every 1,000 entries or 1 s), rate limit off",
        "warmup_claims": args.warmup,
        "members": members.len(),
        "claims": args.claims,
        "bundle": args.bundle,
        "concurrency": if args.rate.is_some() { Value::Null } else { Value::from(args.concurrency) },
        "offered_rate": args.rate,
        "cores": crate::bench_ceilings::cores(),
        "load_average_at_start": std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim(),
    });
    println!("setup: {}", serde_json::to_string_pretty(&setup)?);

    // Warm-up: claims of their own, settled before the clock starts.
    let client = reqwest::Client::new();
    if args.warmup > 0 {
        let bodies = bench::claim_bodies(args, &members, today, 0, args.warmup)?;
        submit(&client, intake_url, &key, args, bodies, None, "warm-up").await?;
        bench::wait_settled(runtimes, args.warmup as i64, baseline_events + (EVENTS_PER_CLAIM * args.warmup) as i64, Instant::now(), None).await?;
    }

    let before = Snapshot::take(runtimes, work_dir, prefix, nats_url, processes).await?;
    // A Postgres on this machine shares its cores: its processes' CPU counts in the window.
    let postgres_local = bench_report::database_is_local(database_url);
    let postgres_before = if postgres_local { local_postgres_ticks() } else { None };
    let pids: Vec<(String, u32)> =
        processes.iter().filter_map(|p| p.child.id().map(|pid| (p.name.clone(), pid))).chain([("driver".to_owned(), std::process::id())]).collect();
    let (sample_stop, sample_stopped) = tokio::sync::watch::channel(false);
    let sampler = tokio::spawn(sample_rss(pids.clone(), sample_stopped));
    // The witness's cosignatures, as the anchor stores them (sampled every 100 ms).
    let anchor_store = bench::runtime_of(runtimes, claimtrail_anchor::SERVICE)?.store.clone();
    let (cosigned_stop, cosigned_stopped) = tokio::sync::watch::channel(false);
    let cosigned_latest = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let cosigned_sampler = tokio::spawn(sample_cosignatures(anchor_store.clone(), cosigned_stopped, cosigned_latest.clone()));

    let bodies = bench::claim_bodies(args, &members, today, args.warmup, args.claims)?;
    let started = Instant::now();
    let started_ms = now_ms();
    let submitted = submit(&client, intake_url, &key, args, bodies, args.rate, "submitting").await?;
    let accepted_seconds = started.elapsed().as_secs_f64();
    let total = args.warmup + args.claims;
    let progress = indicatif::ProgressBar::new(args.claims as u64);
    bench::style(&progress, "settling");
    bench::wait_settled(runtimes, total as i64, baseline_events + (EVENTS_PER_CLAIM * total) as i64, started, Some((&progress, args.warmup as u64))).await?;
    let settled_ms = now_ms();
    progress.finish_and_clear();
    let _ = sample_stop.send(true);
    let rss_series = sampler.await.unwrap_or_default();
    let after = Snapshot::take(runtimes, work_dir, prefix, nats_url, processes).await?;
    let postgres_after = if postgres_local { local_postgres_ticks() } else { None };
    // Outside the window: the witness's cosignature of the last checkpoint (COSIGNATURE_WAIT at most).
    let last_signed = claimtrail_anchor::storage::checkpointed_size(&anchor_store).await?;
    let cosignature_deadline = Instant::now() + COSIGNATURE_WAIT;
    while cosigned_latest.load(std::sync::atomic::Ordering::SeqCst) < last_signed && Instant::now() < cosignature_deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = cosigned_stop.send(true);
    let cosigned = cosigned_sampler.await.unwrap_or_default();

    // Latencies, from the streams' timestamps and the ledger's order.
    let mut claims: HashMap<uuid::Uuid, ClaimTimes> =
        submitted.into_iter().map(|(id, at)| (id, ClaimTimes { submitted_ms: at, ..ClaimTimes::default() })).collect();
    let checkpoints = collect_times(runtimes, nats_url, prefix, &mut claims).await?;
    let latencies = bench_report::latency_report(&claims, &checkpoints, EVENTS_PER_CLAIM);
    anyhow::ensure!(
        latencies.completed == args.claims,
        "only {} of {} claims were seen under a checkpoint ({} decided, {} with all their events in the ledger, {} checkpoints, the last of size {:?})",
        latencies.completed,
        args.claims,
        claims.values().filter(|c| c.decided_ms.is_some()).count(),
        claims.values().filter(|c| c.events_in_ledger >= EVENTS_PER_CLAIM).count(),
        checkpoints.len(),
        checkpoints.iter().map(|(size, _)| size).max()
    );
    let last_ms = latencies.last_completed_ms.unwrap_or(settled_ms);
    let duration = ((last_ms - started_ms) / 1000.0).max(1e-3);
    let n = args.claims as f64;

    let ticks = clock_ticks().await;
    let mut uses = Vec::new();
    for (name, pid) in &pids {
        let cpu_seconds = (after.cpu_ticks.get(pid).copied().unwrap_or(0).saturating_sub(before.cpu_ticks.get(pid).copied().unwrap_or(0))) as f64 / ticks;
        let peak_rss_kb = std::fs::read_to_string(format!("/proc/{pid}/status")).ok().and_then(|s| bench_report::status_kb(&s, "VmHWM")).unwrap_or(0);
        let series = rss_series.iter().map(|(at, sample)| (*at, sample.get(pid).copied().unwrap_or(0))).collect();
        uses.push(ProcessUse { name: name.clone(), pid: *pid, cpu_seconds, peak_rss_kb, rss_kb_over_time: series });
    }
    if let (Some((pid, ticks_before)), Some((_, ticks_after))) = (postgres_before, postgres_after) {
        // Every process of the machine's Postgres (backends of other users too, if any: none on a bench machine).
        let cpu_seconds = ticks_after.saturating_sub(ticks_before) as f64 / ticks;
        uses.push(ProcessUse { name: "postgres".to_owned(), pid, cpu_seconds, peak_rss_kb: 0, rss_kb_over_time: Vec::new() });
    }
    let cpu_seconds: f64 = uses.iter().map(|u| u.cpu_seconds).sum();
    let rows = (after.rows - before.rows) as f64;
    let events = (after.events - before.events) as f64;
    let deliveries = (after.deliveries - before.deliveries) as f64;
    let resources = vec![
        // The services, the driver, a nats-server of the bench's own, and Postgres when it runs on this machine.
        Resource::new("cpu", "cores", cpu_seconds / duration, crate::bench_ceilings::cores() as f64),
        // Rows written, against the batched INSERT ceiling.
        Resource::new("postgres-rows", "rows/s", rows / duration, ceilings.postgres_insert_rows),
        Resource::new("jetstream-publish", "msgs/s", events / duration, ceilings.jetstream_publish),
        // An estimate: HASHES_PER_EVENT per event.
        Resource::new("sha3-256", "hashes/s", HASHES_PER_EVENT * events / duration, ceilings.sha3_256),
        // An upper bound: the anchor verifies a batch's signature once.
        Resource::new("ed25519-verify", "verifications/s", events / duration, ceilings.ed25519_verify),
    ];
    // The checkpoints up to the last one signed when the claims had settled (the anchor goes on signing for the fraud service's alerts).
    let signed: Vec<(u64, f64)> = checkpoints.iter().copied().filter(|(size, _)| *size <= last_signed).collect();
    let (lags, uncovered) = bench_report::cosignature_lags(&signed, &cosigned, started_ms);
    let witness = json!({
        "checkpoints_signed": lags.len() + uncovered,
        "checkpoints_not_cosigned": uncovered,
        "cosignature_lag": bench_report::Latencies::of(lags).map(bench_report::Latencies::to_json),
        "measured_as": "from JetStream's storing each checkpoint.signed.v1 to the driver first seeing a cosigned checkpoint of that size or more in the anchor's table (sampled every 100 ms)",
    });
    let delta = |table: &str| after.tables.get(table).copied().unwrap_or(0) - before.tables.get(table).copied().unwrap_or(0);
    let fraud = json!({
        "claims_recorded": delta("fraud.claims"),
        "claims_recorded_per_second": delta("fraud.claims") as f64 / duration,
        "alerts": delta("fraud.alerts"),
        "claims_recorded_in_all": after.tables.get("fraud.claims").copied().unwrap_or(0),
    });
    let report = Report {
        topology: "deployed".into(),
        claims: args.claims,
        offered_rate: args.rate,
        claims_per_second: n / duration,
        accepted_per_second: n / accepted_seconds,
        duration_seconds: duration,
        decision: latencies.decision,
        checkpoint: latencies.checkpoint,
        per_claim_rows: rows / n,
        per_claim_bytes: (after.bytes - before.bytes) as f64 / n,
        per_claim_events: events / n,
        per_claim_deliveries: deliveries / n,
        per_record_bytes: bench::per_record(before.records, after.records),
        ceilings,
        resources,
        processes: uses,
        setup,
        witness: Some(witness),
        fraud: Some(fraud),
    };
    print_report(&report, rows, &before, &after);
    if let Some(path) = &args.json {
        bench::write_json(path, &report.to_json())?;
    }
    let row = report.markdown_row(&claimtrail_events::format_date(today), &commit());
    println!("markdown: {row}");
    if let Some(path) = &args.markdown {
        let document = std::fs::read_to_string(path).unwrap_or_default();
        std::fs::write(path, bench_report::insert_row(&document, &row)).with_context(|| format!("writing {}", path.display()))?;
        println!("added the row to {}", path.display());
    }
    Ok(())
}

fn print_report(report: &Report, rows: f64, before: &Snapshot, after: &Snapshot) {
    let ms = |l: Option<bench_report::Latencies>| {
        l.map_or("-".to_owned(), |l| format!("p50 {:.1} ms, p99 {:.1} ms, p99.9 {:.1} ms, max {:.1} ms", l.p50, l.p99, l.p999, l.max))
    };
    println!(
        "offered: {}; accepted {:.0} claims/s",
        report.offered_rate.map_or("flat out".to_owned(), |r| format!("{r:.0} claims/s")),
        report.accepted_per_second
    );
    println!(
        "completed (adjudicated, booked, in the ledger under a signed checkpoint): {} claims in {:.2} s = {:.0} claims/s",
        report.claims, report.duration_seconds, report.claims_per_second
    );
    println!("submission -> decision:   {}", ms(report.decision));
    println!("submission -> checkpoint: {}", ms(report.checkpoint));
    println!(
        "per claim: {:.2} rows, {:.0} bytes, {:.2} events, {:.2} bus deliveries ({} rows in the window)",
        report.per_claim_rows, report.per_claim_bytes, report.per_claim_events, report.per_claim_deliveries, rows
    );
    println!("decision records: {} bytes of canonical JSON per record", report.per_record_bytes.map_or("-".to_owned(), |bytes| format!("{bytes:.0}")));
    let mut tables: Vec<String> = after
        .tables
        .iter()
        .map(|(table, rows)| (table, rows - before.tables.get(table).copied().unwrap_or(0)))
        .filter(|(_, rows)| *rows != 0)
        .map(|(table, rows)| format!("{table}={rows}"))
        .collect();
    tables.sort();
    println!("rows by table (measured window): {}", tables.join(" "));
    for process in &report.processes {
        if process.rss_kb_over_time.is_empty() {
            // Postgres: many processes sharing memory, so no one RSS.
            println!(
                "process {:<13} pid {:>7}: {:>7.2} CPU s ({:.2} cores), every process of the server on this machine",
                process.name,
                process.pid,
                process.cpu_seconds,
                process.cpu_seconds / report.duration_seconds
            );
            continue;
        }
        let last = process.rss_kb_over_time.last().map_or(0, |(_, kb)| *kb);
        println!(
            "process {:<13} pid {:>7}: {:>7.2} CPU s ({:.2} cores), peak RSS {:.1} MB, RSS at the end {:.1} MB",
            process.name,
            process.pid,
            process.cpu_seconds,
            process.cpu_seconds / report.duration_seconds,
            process.peak_rss_kb as f64 / 1024.0,
            last as f64 / 1024.0
        );
    }
    for resource in &report.resources {
        println!(
            "{:<18} {:>12.1} {} of a ceiling of {:>12.1}: {}",
            resource.name,
            resource.used,
            resource.unit,
            resource.ceiling,
            resource.ratio().map_or("-".to_owned(), |r| format!("{r:.3}"))
        );
    }
    let json = report.to_json();
    if let Some(witness) = &report.witness {
        let lag = &witness["cosignature_lag"];
        println!(
            "witness: {} checkpoints signed in the window, {} not cosigned; cosignature lag p50 {} ms, p99 {} ms, max {} ms",
            witness["checkpoints_signed"], witness["checkpoints_not_cosigned"], lag["p50_ms"], lag["p99_ms"], lag["max_ms"]
        );
    }
    if let Some(fraud) = &report.fraud {
        println!(
            "fraud: {} claims recorded in the window ({:.0}/s), {} alerts raised; {} claims recorded in all",
            fraud["claims_recorded"],
            fraud["claims_recorded_per_second"].as_f64().unwrap_or(0.0),
            fraud["alerts"],
            fraud["claims_recorded_in_all"]
        );
    }
    println!("bottleneck: {} at {} of its ceiling", json["bottleneck"], json["bottleneck_ceiling_ratio"]);
}

/// The commit the binary runs at (git, best effort).
fn commit() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map_or("-".to_owned(), |o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
}

/// Posts the bodies, flat out (`--concurrency` in flight) or at `rate`
/// claims/s (each Bundle sent when due, however many are in flight: an open
/// loop, so a slow answer does not hide the wait it causes). Returns each
/// accepted claim with the time its Bundle was due or sent (ms since the epoch).
async fn submit(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    args: &BenchArgs,
    bodies: Vec<Vec<u8>>,
    rate: Option<f64>,
    label: &str,
) -> anyhow::Result<Vec<(uuid::Uuid, f64)>> {
    let claims: usize = bodies.len() * args.bundle;
    let progress = indicatif::ProgressBar::new(claims as u64);
    bench::style(&progress, label);
    let (path, content_type) = bench::endpoint(args.format);
    let semaphore = Arc::new(tokio::sync::Semaphore::new(if rate.is_some() { 4_096 } else { args.concurrency }));
    let mut submissions = tokio::task::JoinSet::new();
    let started = tokio::time::Instant::now();
    let started_ms = now_ms();
    for (idx, body) in bodies.into_iter().enumerate() {
        let due_ms = match rate {
            Some(rate) => {
                let offset = Duration::from_secs_f64((idx * args.bundle) as f64 / rate);
                tokio::time::sleep_until(started + offset).await;
                Some(started_ms + offset.as_secs_f64() * 1000.0)
            }
            None => None,
        };
        let permit = semaphore.clone().acquire_owned().await?;
        let (client, url, key, progress) = (client.clone(), format!("{url}{path}"), key.to_owned(), progress.clone());
        submissions.spawn(async move {
            let _permit = permit;
            let sent_ms = due_ms.unwrap_or_else(now_ms);
            let response = client.post(url).bearer_auth(&key).header("content-type", content_type).body(body).send().await?;
            let status = response.status();
            let answer: Value = response.json().await?;
            anyhow::ensure!(status == 202, "submission answered {status}: {answer}");
            let accepted = bench::accepted_ids(&answer);
            progress.inc(accepted.len() as u64);
            Ok::<Vec<(uuid::Uuid, f64)>, anyhow::Error>(accepted.into_iter().map(|id| (id, sent_ms)).collect())
        });
    }
    let mut accepted = Vec::with_capacity(claims);
    while let Some(result) = submissions.join_next().await {
        accepted.extend(result??);
    }
    progress.finish_and_clear();
    anyhow::ensure!(accepted.len() == claims, "only {} of {claims} claims were accepted ({label})", accepted.len());
    Ok(accepted)
}

/// The lowest pid of the machine's `postgres` processes (the postmaster) and
/// the CPU ticks of them all; `None` when none runs here.
fn local_postgres_ticks() -> Option<(u32, u64)> {
    let mut found: Option<(u32, u64)> = None;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|name| name.parse::<u32>().ok()) else { continue };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        if bench_report::stat_comm(&stat) != Some("postgres") {
            continue;
        }
        let ticks = bench_report::stat_cpu_ticks(&stat).unwrap_or(0);
        found = Some(match found {
            Some((lowest, sum)) => (lowest.min(pid), sum + ticks),
            None => (pid, ticks),
        });
    }
    found
}

/// Counts before and after the measured window.
struct Snapshot {
    rows: i64,
    tables: HashMap<String, i64>,
    bytes: i64,
    events: i64,
    deliveries: i64,
    cpu_ticks: HashMap<u32, u64>,
    /// Adjudication's decision records and their length in all.
    records: (i64, i64),
}

impl Snapshot {
    async fn take(runtimes: &[Runtime], work_dir: &Path, prefix: &str, nats_url: &str, processes: &[Process]) -> anyhow::Result<Snapshot> {
        let mut tables = HashMap::new();
        for runtime in runtimes {
            let service = runtime.store.service();
            for table in bench::footprint_of(runtimes, service).await?.tables {
                tables.insert(format!("{service}.{}", table.table), table.rows);
            }
        }
        let mut cpu_ticks = HashMap::new();
        for pid in processes.iter().filter_map(|p| p.child.id()).chain([std::process::id()]) {
            if let Some(ticks) = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok().and_then(|s| bench_report::stat_cpu_ticks(&s)) {
                cpu_ticks.insert(pid, ticks);
            }
        }
        Ok(Snapshot {
            rows: tables.values().sum(),
            tables,
            bytes: storage::database_bytes(runtimes, work_dir, false, prefix).await?,
            events: bench::published_events(runtimes).await?,
            deliveries: deliveries(nats_url, prefix).await?,
            cpu_ticks,
            records: bench::record_volume(runtimes).await?,
        })
    }
}

/// Messages delivered by every consumer of the prefix's streams (redeliveries included).
async fn deliveries(nats_url: &str, prefix: &str) -> anyhow::Result<i64> {
    let client = async_nats::connect(nats_url).await?;
    let context = async_nats::jetstream::new(client);
    let stream_prefix = format!("{}_", prefix.to_ascii_uppercase());
    let mut names = context.stream_names();
    let mut total = 0i64;
    while let Some(name) = names.next().await {
        let name = name?;
        if !name.starts_with(&stream_prefix) {
            continue;
        }
        let stream = context.get_stream(&name).await?;
        let mut consumers = stream.consumers();
        while let Some(info) = consumers.next().await {
            total += info?.delivered.consumer_sequence as i64;
        }
    }
    Ok(total)
}

/// Every message of a stream with the time JetStream stored it (ms since the epoch).
async fn stream_messages(context: &async_nats::jetstream::Context, name: &str) -> anyhow::Result<Vec<(Value, f64)>> {
    use async_nats::jetstream::consumer;
    let mut stream = context.get_stream(name).await.with_context(|| format!("stream {name}"))?;
    let last = stream.info().await?.state.last_sequence;
    let mut out = Vec::new();
    if last == 0 {
        return Ok(out);
    }
    let consumer = stream
        .create_consumer(consumer::pull::Config { ack_policy: consumer::AckPolicy::None, deliver_policy: consumer::DeliverPolicy::All, ..Default::default() })
        .await?;
    let mut messages = consumer.messages().await?;
    while let Some(message) = tokio::time::timeout(Duration::from_secs(30), messages.next()).await.context("the stream stopped delivering")? {
        let message = message.map_err(|e| anyhow::anyhow!("reading {name}: {e}"))?;
        let info = message.info().map_err(|e| anyhow::anyhow!("{e}"))?;
        let (sequence, published) = (info.stream_sequence, info.published.unix_timestamp_nanos() as f64 / 1e6);
        if let Ok(envelope) = serde_json::from_slice::<Value>(&message.payload) {
            out.push((envelope, published));
        }
        if sequence >= last {
            break;
        }
    }
    Ok(out)
}

/// Fills in each claim's decision time and ledger position; returns the
/// checkpoints as (tree size, time).
async fn collect_times(runtimes: &[Runtime], nats_url: &str, prefix: &str, claims: &mut HashMap<uuid::Uuid, ClaimTimes>) -> anyhow::Result<Vec<(u64, f64)>> {
    let client = async_nats::connect(nats_url).await?;
    let context = async_nats::jetstream::new(client);
    let stream = |family: &str| format!("{}_{family}", prefix.to_ascii_uppercase());
    // `claim.submitted.v1` carries the claim (with its id) whole; the others its id.
    let claim_of = |envelope: &Value| {
        let payload = &envelope["payload"];
        payload["claim_id"].as_str().or_else(|| payload["claim"]["claim_id"].as_str()).and_then(|id| id.parse::<uuid::Uuid>().ok())
    };
    let event_of = |envelope: &Value| envelope["event_id"].as_str().and_then(|id| id.parse::<uuid::Uuid>().ok());
    let mut claim_of_event: HashMap<uuid::Uuid, uuid::Uuid> = HashMap::new();
    for family in ["CLAIMS", "SETTLEMENT"] {
        for (envelope, published) in stream_messages(&context, &stream(family)).await? {
            let (Some(claim_id), Some(event_id)) = (claim_of(&envelope), event_of(&envelope)) else { continue };
            let Some(claim) = claims.get_mut(&claim_id) else { continue };
            let event_type = envelope["event_type"].as_str().unwrap_or_default();
            if [ClaimSubmitted::EVENT_TYPE, ClaimAdjudicated::EVENT_TYPE, PayableBooked::EVENT_TYPE].contains(&event_type) {
                claim_of_event.insert(event_id, claim_id);
            }
            if [ClaimAdjudicated::EVENT_TYPE, ClaimPended::EVENT_TYPE].contains(&event_type) {
                claim.decided_ms = Some(claim.decided_ms.map_or(published, |at: f64| at.min(published)));
            }
        }
    }
    let checkpoints: Vec<(u64, f64)> = stream_messages(&context, &stream("LEDGER"))
        .await?
        .into_iter()
        .filter(|(envelope, _)| envelope["event_type"] == CheckpointSigned::EVENT_TYPE)
        .filter_map(|(envelope, at)| envelope["payload"]["tree_size"].as_u64().map(|size| (size, at)))
        .collect();
    let anchor = &bench::runtime_of(runtimes, claimtrail_anchor::SERVICE)?.store;
    let mut from = 0u64;
    loop {
        let entries = claimtrail_anchor::storage::entries_from(anchor, from, 5_000).await?;
        let Some(last) = entries.last() else { break };
        from = last.index as u64 + 1;
        for entry in entries {
            let Ok(leaf) = serde_json::from_slice::<Value>(&entry.leaf) else { continue };
            let Some(claim_id) = leaf["event_id"].as_str().and_then(|id| id.parse::<uuid::Uuid>().ok()).and_then(|id| claim_of_event.get(&id)) else {
                continue;
            };
            if let Some(claim) = claims.get_mut(claim_id) {
                claim.events_in_ledger += 1;
                claim.last_ledger_index = Some(claim.last_ledger_index.map_or(entry.index as u64, |index| index.max(entry.index as u64)));
            }
        }
    }
    Ok(checkpoints)
}

/// Each new largest cosigned checkpoint size with the time the driver first
/// saw it (ms since the epoch), every 100 ms until `stop`; `latest` follows it.
async fn sample_cosignatures(
    anchor: claimtrail_store::Store,
    mut stop: tokio::sync::watch::Receiver<bool>,
    latest: Arc<std::sync::atomic::AtomicU64>,
) -> Vec<(u64, f64)> {
    let mut seen = Vec::new();
    loop {
        if let Ok(size) = crate::storage::cosigned_size(&anchor).await
            && size > latest.load(std::sync::atomic::Ordering::SeqCst)
        {
            latest.store(size, std::sync::atomic::Ordering::SeqCst);
            seen.push((size, now_ms()));
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            _ = stop.changed() => break,
        }
    }
    seen
}

/// RSS of each process every 250 ms until `stop`: (seconds, pid -> kB).
async fn sample_rss(pids: Vec<(String, u32)>, mut stop: tokio::sync::watch::Receiver<bool>) -> Vec<(f64, HashMap<u32, u64>)> {
    let started = Instant::now();
    let mut series = Vec::new();
    loop {
        let sample: HashMap<u32, u64> = pids
            .iter()
            .filter_map(|(_, pid)| {
                std::fs::read_to_string(format!("/proc/{pid}/status")).ok().and_then(|s| bench_report::status_kb(&s, "VmRSS")).map(|kb| (*pid, kb))
            })
            .collect();
        series.push((started.elapsed().as_secs_f64(), sample));
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
            _ = stop.changed() => break,
        }
    }
    series
}

/// Clock ticks per second for /proc CPU times (`getconf CLK_TCK`; 100 when that fails).
async fn clock_ticks() -> f64 {
    let output = Command::new("getconf").arg("CLK_TCK").output().await.ok();
    output.and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse::<f64>().ok()).filter(|t| *t > 0.0).unwrap_or(100.0)
}

/// A free TCP port on 127.0.0.1 (bound, then released).
fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Whether a `nats-server` version takes `sync_interval: always` (2.10 and later).
pub fn syncs_every_write(version: &str) -> bool {
    let digits = version.trim().trim_start_matches("nats-server:").trim().trim_start_matches('v');
    let mut parts = digits.split('.').map(|p| p.chars().take_while(char::is_ascii_digit).collect::<String>().parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) >= (2, 10)
}

/// A JetStream server of the bench's own, file storage in the work directory,
/// fsync on every write where the server version allows it.
async fn spawn_nats(binary: &Path, work_dir: &Path) -> anyhow::Result<(Process, String, Value)> {
    let version_output = Command::new(binary).arg("--version").output().await.with_context(|| format!("running {} --version", binary.display()))?;
    let version = String::from_utf8_lossy(&version_output.stdout).trim().to_owned();
    let port = free_port()?;
    let store_dir = work_dir.join("nats");
    let always = syncs_every_write(&version);
    let config = format!(
        "listen: 127.0.0.1:{port}\njetstream {{\n  store_dir: \"{}\"\n{}}}\n",
        store_dir.display(),
        if always { "  sync_interval: always\n" } else { "" }
    );
    let config_path = work_dir.join("nats-server.conf");
    std::fs::write(&config_path, &config)?;
    let log = std::fs::File::create(work_dir.join("nats-server.log"))?;
    let child = Command::new(binary)
        .arg("-c")
        .arg(&config_path)
        .stdout(Stdio::from(log.try_clone()?))
        .stderr(Stdio::from(log))
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("spawning {}", binary.display()))?;
    let url = format!("nats://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(client) = async_nats::connect(url.as_str()).await
            && client.flush().await.is_ok()
        {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "{} did not answer on {url} within 20 s", binary.display());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let durability = if always {
        "fsync on every write (sync_interval: always)".to_owned()
    } else {
        format!(
            "{version} predates sync_interval (2.10): JetStream writes every message to its file store and fsyncs on the server's default interval (2 minutes), not per write"
        )
    };
    let setup = json!({"server": url, "version": version, "spawned_by_bench": true, "config": config, "durability": durability});
    Ok((Process { name: "nats-server".into(), child, url: None }, url, setup))
}

/// `claimtrail serve <service>` of this binary; waits for its `listening on URL` line.
async fn spawn_service(
    service: &str,
    database_url: &str,
    nats_url: &str,
    prefix: &str,
    key_dir: &Path,
    work_dir: &Path,
    env: &[(&str, String)],
) -> anyhow::Result<Process> {
    let log_path: PathBuf = work_dir.join(format!("{service}.log"));
    let log = std::fs::File::create(&log_path)?;
    let mut child = Command::new(std::env::current_exe()?)
        .args(["serve", service, "--listen", "127.0.0.1:0"])
        .env("DATABASE_URL", database_url)
        .env("NATS_URL", nats_url)
        .env("CLAIMTRAIL_PREFIX", prefix)
        .env("CLAIMTRAIL_KEY_DIR", key_dir)
        .env("CLAIMTRAIL_RATE_LIMIT_PER_SECOND", "0")
        .env("RUST_LOG", std::env::var("CLAIMTRAIL_BENCH_LOG").unwrap_or_else(|_| "warn".to_owned()))
        .envs(env.iter().map(|(name, value)| (*name, value.as_str())))
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("spawning {service}"))?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let first = tokio::time::timeout(Duration::from_secs(120), lines.next_line())
        .await
        .with_context(|| format!("{service} did not start within 120 s (log: {})", log_path.display()))??
        .with_context(|| format!("{service} exited before listening (log: {})", log_path.display()))?;
    let url = first.strip_prefix("listening on ").with_context(|| format!("unexpected first line from {service}: {first}"))?.to_owned();
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(Process { name: service.to_owned(), child, url: Some(url) })
}

/// SIGTERM, then SIGKILL after 10 s.
async fn stop(process: &mut Process) {
    if let Some(pid) = process.child.id() {
        let _ = Command::new("kill").args(["-TERM", &pid.to_string()]).status().await;
        if tokio::time::timeout(Duration::from_secs(10), process.child.wait()).await.is_err() {
            let _ = process.child.kill().await;
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sync_interval_always_needs_nats_2_10() {
        assert!(!super::syncs_every_write("nats-server: v2.9.10"));
        assert!(super::syncs_every_write("nats-server: v2.10.0"));
        assert!(super::syncs_every_write("nats-server: v2.11.4"));
        assert!(super::syncs_every_write("v3.0.0-beta"));
        assert!(!super::syncs_every_write("garbage"));
    }
}
