//! The end-to-end harness: real `claimtrail` processes on real Postgres and
//! NATS JetStream, each test under its own name prefix so that tests share
//! one server of each without seeing each other.
//!
//! - [`claimtrail_bin`]: builds the current binary once (nested cargo) and returns its path.
//! - [`Stack`]: the four services as separate processes, with helpers per endpoint,
//!   kill -9 and restart, SQL counts for assertions, and clean-up.
//! - [`sample_claim`], [`bundle`]: FHIR R4 request bodies, dated from [`today`].
//!
//! No test depends on the day it runs: dates are relative to [`today`], the
//! services' own clock (`claimtrail_events::today`). Setting
//! `CLAIMTRAIL_CLOCK_OFFSET_DAYS` for the test run moves the harness and every
//! process it starts (they inherit it) to another day together.
//!
//! Environment: `CLAIMTRAIL_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) and `CLAIMTRAIL_TEST_NATS_URL`
//! (default `nats://127.0.0.1:4222`). Service logs go to
//! `<target>/e2e-logs/<prefix>-<service>.log`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub mod servers;

/// ../shared (the validators), or `CLAIMTRAIL_SHARED`.
pub fn shared_dir() -> PathBuf {
    std::env::var_os("CLAIMTRAIL_SHARED").map(PathBuf::from).unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
}

/// Runs one of ../shared/tools (`validate-fhir`, `validate-x12`, `x835-balance`) on `files`, panicking with its report.
pub fn validate(tool: &str, files: &[PathBuf]) {
    let output = std::process::Command::new(shared_dir().join("tools").join(tool)).args(files).output().expect("running a shared validator");
    assert!(output.status.success(), "{tool} refused {files:?}:\n{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
}

pub const SERVICES: [&str; 4] = ["intake", "adjudication", "settlement", "anchor"];

/// The payer of the sample claims, with a fee schedule for their codes.
pub const PAYER_ID: &str = "60054";

pub fn database_url() -> String {
    std::env::var("CLAIMTRAIL_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// `url` with only the first host of a libpq multi-host list
/// (`postgres://u@h1:1,h2:2/db?target_session_attrs=read-write` gives
/// `postgres://u@h1:1/db`): the harness's own connection, for assertions.
pub fn first_host_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|idx| idx + 3) else { return url.to_owned() };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let hosts_start = authority.rfind('@').map_or(0, |at| at + 1);
    let first = authority[hosts_start..].split(',').next().unwrap_or_default();
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let kept: Vec<&str> = query.split('&').filter(|pair| !pair.starts_with("target_session_attrs=")).collect();
            if kept.is_empty() { path.to_owned() } else { format!("{path}?{}", kept.join("&")) }
        }
        None => tail.to_owned(),
    };
    format!("{}{}{first}{tail}", &url[..scheme_end], &authority[..hosts_start])
}

pub fn nats_url() -> String {
    std::env::var("CLAIMTRAIL_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned())
}

/// Builds `claimtrail` (once per test binary) with the cargo running the tests,
/// so the tests never run a stale binary, and returns its path.
pub fn claimtrail_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        // A clean environment: the variables cargo sets for a running test would
        // otherwise look like a changed build environment and force a rebuild.
        let mut command = std::process::Command::new(cargo);
        command.env_clear();
        for (key, value) in std::env::vars_os() {
            let keep = matches!(key.to_str(), Some("PATH" | "HOME" | "CARGO_HOME" | "RUSTUP_HOME" | "RUSTUP_TOOLCHAIN" | "CARGO_TARGET_DIR" | "TMPDIR"));
            if keep {
                command.env(key, value);
            }
        }
        let output = command
            .args(["build", "--quiet", "-p", "claimtrail", "--bin", "claimtrail", "--message-format=json"])
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
            .stderr(Stdio::inherit())
            .output()
            .expect("running cargo build for the claimtrail binary");
        assert!(output.status.success(), "cargo build -p claimtrail failed");
        let stdout = String::from_utf8_lossy(&output.stdout);
        stdout
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|message| message["reason"] == "compiler-artifact" && message["target"]["name"] == "claimtrail")
            .find_map(|message| message["executable"].as_str().map(PathBuf::from))
            .expect("cargo reported no claimtrail executable")
    })
    .clone()
}

/// Where the services started by the tests write their logs.
pub fn logs_dir() -> PathBuf {
    let bin = claimtrail_bin();
    let dir = bin.parent().map(|p| p.join("e2e-logs")).unwrap_or_else(|| PathBuf::from("e2e-logs"));
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// One running service process.
pub struct ServiceProcess {
    pub child: Child,
    pub url: String,
}

/// Four services under one prefix.
pub struct Stack {
    pub prefix: String,
    pub key_dir: tempfile::TempDir,
    pub processes: HashMap<&'static str, ServiceProcess>,
    /// Extra environment per service, applied at every (re)start.
    pub env: HashMap<&'static str, Vec<(String, String)>>,
    pub api_key: String,
    /// An admin key of the stack (fee schedules, reference data, the journal).
    pub admin_key: String,
    pub client: reqwest::Client,
    pub db: DatabaseConnection,
    /// Events produced before any claim (reference data), all on the ledger.
    pub baseline_events: i64,
    /// Events a test published straight to the bus (no service's outbox holds them), on the ledger too.
    pub injected_events: i64,
    /// The database and NATS of this stack: the shared ones, or a test's own ([`servers`]).
    pub database_url: String,
    pub nats_url: String,
}

impl Stack {
    /// Starts the four services with `env` applied to every one (e.g. a low
    /// deliveries limit), creates a provider key and publishes the payer's fee schedule.
    pub async fn start(env: &[(&str, &str)]) -> anyhow::Result<Stack> {
        Stack::start_on(&database_url(), &nats_url(), env).await
    }

    /// As [`Stack::start`], on the database at `database_url` and the NATS at
    /// `nats_url` (servers the test started itself, to make them fail).
    pub async fn start_on(database_url: &str, nats_url: &str, env: &[(&str, &str)]) -> anyhow::Result<Stack> {
        let prefix = format!("t{}", &uuid::Uuid::now_v7().simple().to_string()[20..]);
        // The harness's own connection goes to the first host of a multi-host URL (sqlx reads one host).
        let db = Database::connect(first_host_url(database_url)).await.context("connecting to the test database")?;
        let common: Vec<(String, String)> = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let mut stack = Stack {
            prefix,
            key_dir: tempfile::tempdir()?,
            processes: HashMap::new(),
            env: SERVICES.iter().map(|s| (*s, common.clone())).collect(),
            api_key: String::new(),
            admin_key: String::new(),
            client: reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?,
            db,
            baseline_events: 0,
            injected_events: 0,
            database_url: database_url.to_owned(),
            nats_url: nats_url.to_owned(),
        };
        for service in SERVICES {
            stack.spawn(service, &[]).await?;
        }
        stack.api_key = stack.create_key("riverside", "provider").await?;
        stack.admin_key = stack.create_key("operator", "admin").await?;
        stack.put_fee_schedule().await?;
        let admin_key = stack.admin_key.clone();
        stack.put_reference_data(&admin_key).await?;
        stack.baseline_events = stack.count("intake", "outbox").await? + stack.count("adjudication", "outbox").await?;
        Ok(stack)
    }

    /// The sample claim's member (MBR-0001) and billing provider (NPI
    /// 1245319599) for payer 60054, covered and enrolled over [`covered_period`].
    pub async fn put_reference_data(&self, admin_key: &str) -> anyhow::Result<()> {
        let payer = json!({"name": "Test Health Plan", "timely_filing_days": 365});
        let response = self.client.put(format!("{}/v1/payers/{PAYER_ID}", self.url("intake"))).bearer_auth(admin_key).json(&payer).send().await?;
        anyhow::ensure!(response.status().is_success(), "payer: {}", response.text().await?);
        let provider = json!({"entity_type": 2, "name": "Riverside Family Practice", "tin": "123456789", "taxonomy": "207Q00000X",
            "organization": "riverside", "licence": null,
            "pay_to": {"name": "Riverside Family Practice", "address_line": "100 River Road", "city": "Springfield", "state": "IL", "postal_code": "62701"},
            "bank_account": {"routing_number": "011000015", "account_number": "000123456789", "account_type": "checking"}});
        let response = self.client.put(format!("{}/v1/providers/1245319599", self.url("intake"))).bearer_auth(admin_key).json(&provider).send().await?;
        anyhow::ensure!(response.status().is_success(), "provider: {}", response.text().await?);
        let (start, end) = covered_period();
        let member = json!({"family_name": "Synthetic", "given_name": "Pat", "birth_date": "1961-04-12", "sex": "female",
            "plan_id": "PPO-GOLD", "coverage_start": start, "coverage_end": end});
        let response =
            self.client.put(format!("{}/v1/payers/{PAYER_ID}/members/MBR-0001", self.url("intake"))).bearer_auth(admin_key).json(&member).send().await?;
        anyhow::ensure!(response.status().is_success(), "member: {}", response.text().await?);
        let enrollment = json!({"entity_type": 2, "name": "Riverside Family Practice", "tin": "123456789", "taxonomy": "207Q00000X",
            "enrollment_start": start, "enrollment_end": end});
        let response = self
            .client
            .put(format!("{}/v1/providers/1245319599/enrollments/{PAYER_ID}", self.url("intake")))
            .bearer_auth(admin_key)
            .json(&enrollment)
            .send()
            .await?;
        anyhow::ensure!(response.status().is_success(), "enrollment: {}", response.text().await?);
        Ok(())
    }

    /// `claimtrail ARGS` with this stack's database, NATS, prefix and key directory.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(claimtrail_bin());
        command
            .args(args)
            .env("DATABASE_URL", &self.database_url)
            .env("NATS_URL", &self.nats_url)
            .env("CLAIMTRAIL_PREFIX", &self.prefix)
            .env("CLAIMTRAIL_KEY_DIR", self.key_dir.path())
            .env("CLAIMTRAIL_CHECKPOINT_INTERVAL_MS", "200")
            .env("RUST_LOG", std::env::var("TEST_LOG").unwrap_or_else(|_| "warn".to_owned()))
            .env_remove("CLAIMTRAIL_KILL_POINT");
        command
    }

    /// Starts (or restarts) `service`; `extra_env` applies to this start only.
    pub async fn spawn(&mut self, service: &'static str, extra_env: &[(&str, &str)]) -> anyhow::Result<()> {
        let log_path = logs_dir().join(format!("{}-{service}.log", self.prefix));
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&log_path)?;
        let mut command = self.command(&["serve", service, "--listen", "127.0.0.1:0"]);
        for (key, value) in self.env.get(service).into_iter().flatten() {
            command.env(key, value);
        }
        for (key, value) in extra_env {
            command.env(key, value);
        }
        command.stdout(Stdio::piped()).stderr(Stdio::from(log)).kill_on_drop(true);
        let mut child = command.spawn().with_context(|| format!("spawning {service}"))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .with_context(|| format!("{service} did not start within 60 s (log: {})", log_path.display()))??
            .with_context(|| format!("{service} exited before listening (log: {})", log_path.display()))?;
        let url = first.strip_prefix("listening on ").with_context(|| format!("unexpected first line from {service}: {first}"))?.to_owned();
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        self.processes.insert(service, ServiceProcess { child, url });
        Ok(())
    }

    /// kill -9.
    pub async fn kill(&mut self, service: &str) -> anyhow::Result<()> {
        if let Some(mut process) = self.processes.remove(service) {
            process.child.kill().await?;
        }
        Ok(())
    }

    /// SIGTERM: the graceful stop (drain, flush); waits for the exit and forgets it.
    pub async fn terminate(&mut self, service: &str, timeout: Duration) -> anyhow::Result<()> {
        let process = self.processes.get_mut(service).with_context(|| format!("{service} is not running"))?;
        let pid = process.child.id().with_context(|| format!("{service} has exited already"))?;
        let status = Command::new("kill").args(["-TERM", &pid.to_string()]).status().await?;
        anyhow::ensure!(status.success(), "kill -TERM {pid} failed");
        self.wait_exit(service, timeout).await
    }

    /// Waits for `service` to exit by itself (a kill point) and forgets it.
    pub async fn wait_exit(&mut self, service: &str, timeout: Duration) -> anyhow::Result<()> {
        let process = self.processes.get_mut(service).with_context(|| format!("{service} is not running"))?;
        tokio::time::timeout(timeout, process.child.wait()).await.with_context(|| format!("{service} did not exit within {timeout:?}"))??;
        self.processes.remove(service);
        Ok(())
    }

    pub fn url(&self, service: &str) -> &str {
        &self.processes[service].url
    }

    pub async fn run_cli(&self, args: &[&str]) -> anyhow::Result<std::process::Output> {
        Ok(self.command(args).output().await?)
    }

    /// A new API key of `role`; finance and auditor keys read [`PAYER_ID`] (see [`Stack::create_key_for`]).
    pub async fn create_key(&self, tenant: &str, role: &str) -> anyhow::Result<String> {
        let payer_ids: &[&str] = if matches!(role, "finance" | "auditor") { &[PAYER_ID] } else { &[] };
        self.create_key_for(tenant, role, payer_ids).await
    }

    /// A new API key of `role` for `payer_ids` (`--payer-id` each).
    pub async fn create_key_for(&self, tenant: &str, role: &str, payer_ids: &[&str]) -> anyhow::Result<String> {
        let mut args = vec!["keys", "create", "--tenant", tenant, "--role", role];
        for payer_id in payer_ids {
            args.extend(["--payer-id", payer_id]);
        }
        let output = self.run_cli(&args).await?;
        anyhow::ensure!(output.status.success(), "keys create failed: {}", String::from_utf8_lossy(&output.stderr));
        Ok(String::from_utf8(output.stdout)?.trim().to_owned())
    }

    pub async fn put_fee_schedule(&self) -> anyhow::Result<()> {
        let body = json!({"fee_schedule_id": "2026-q4", "entries": [
            {"procedure_code": "99213", "amount": "92.00"},
            {"procedure_code": "G0008", "amount": "30.00"},
            {"procedure_code": "G0009", "amount": "31.50"},
            {"procedure_code": "J1100", "amount": "0.45"}]});
        let response =
            self.client.put(format!("{}/v1/payers/{PAYER_ID}/fee-schedule", self.url("adjudication"))).bearer_auth(&self.admin_key).json(&body).send().await?;
        anyhow::ensure!(response.status().is_success(), "fee schedule: {}", response.text().await?);
        Ok(())
    }

    /// POSTs a FHIR body to intake with the provider key.
    pub async fn submit(&self, body: &Value) -> anyhow::Result<reqwest::Response> {
        Ok(self
            .client
            .post(format!("{}/v1/claims", self.url("intake")))
            .bearer_auth(&self.api_key)
            .header("content-type", "application/fhir+json")
            .body(serde_json::to_vec(body)?)
            .send()
            .await?)
    }

    /// Submits and returns the new claim ids, failing unless the answer is 202.
    pub async fn submit_ok(&self, body: &Value) -> anyhow::Result<Vec<String>> {
        let response = self.submit(body).await?;
        let status = response.status();
        let answer: Value = response.json().await?;
        anyhow::ensure!(status == 202, "submission answered {status}: {answer}");
        Ok(answer["claim_ids"].as_array().context("no claim_ids")?.iter().filter_map(|id| id.as_str().map(str::to_owned)).collect())
    }

    pub async fn claim_status(&self, claim_id: &str) -> anyhow::Result<Value> {
        let response = self.client.get(format!("{}/v1/claims/{claim_id}", self.url("intake"))).bearer_auth(&self.api_key).send().await?;
        anyhow::ensure!(response.status() == 200, "GET claim {claim_id}: {}", response.status());
        Ok(response.json().await?)
    }

    /// The claim's status once adjudication decided (or pended) it.
    pub async fn wait_decided(&self, claim_id: &str, timeout: Duration) -> anyhow::Result<Value> {
        let started = Instant::now();
        loop {
            let status = self.claim_status(claim_id).await?;
            if matches!(status["status"].as_str(), Some("adjudicated" | "pended" | "paid")) {
                return Ok(status);
            }
            if started.elapsed() >= timeout {
                bail!("claim {claim_id} was not decided after {timeout:?}: {status}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Qualified table name of a service's table.
    pub fn table(&self, service: &str, table: &str) -> String {
        format!("\"{}_{service}\".\"{table}\"", self.prefix)
    }

    /// `SELECT COUNT(*) ...` (or any single bigint) as i64.
    pub async fn scalar(&self, sql: &str) -> anyhow::Result<i64> {
        let row = self
            .db
            .query_one_raw(sea_orm::Statement::from_string(sea_orm::DbBackend::Postgres, sql.to_owned()))
            .await
            .with_context(|| format!("running {sql}"))?
            .context("no row")?;
        Ok(row.try_get_by_index::<i64>(0)?)
    }

    /// Rows in one of a service's tables.
    pub async fn count(&self, service: &str, table: &str) -> anyhow::Result<i64> {
        self.scalar(&format!("SELECT COUNT(*) FROM {}", self.table(service, table))).await
    }

    pub async fn execute(&self, sql: &str) -> anyhow::Result<u64> {
        Ok(self.db.execute_unprepared(sql).await.with_context(|| format!("running {sql}"))?.rows_affected())
    }

    /// The size of the latest checkpoint, 0 when none.
    pub async fn checkpoint_size(&self) -> anyhow::Result<i64> {
        self.scalar(&format!("SELECT COALESCE(MAX(size), 0) FROM {}", self.table("anchor", "checkpoints"))).await
    }

    pub async fn ledger_size(&self) -> anyhow::Result<i64> {
        self.scalar(&format!("SELECT COUNT(*) FROM {}", self.table("anchor", "ledger"))).await
    }

    /// Waits until every accepted claim is booked and anchored and a
    /// checkpoint covers the whole ledger: `n_claims` claims give
    /// 3 events each (submitted, adjudicated, booked), plus the reference data.
    pub async fn wait_settled(&self, n_claims: i64, timeout: Duration) -> anyhow::Result<()> {
        let least = self.baseline_events + 3 * n_claims;
        let journal = self.table("settlement", "journal_entries");
        wait_until(timeout, || async {
            let booked = self.scalar(&format!("SELECT COUNT(*) FROM {journal}")).await?;
            let produced = self.produced_events().await?;
            let ledger = self.ledger_size().await?;
            let checkpoint = self.checkpoint_size().await?;
            Ok((
                booked == n_claims && produced >= least && ledger == produced && checkpoint == produced,
                format!("booked {booked}/{n_claims}, ledger {ledger}/{produced} produced (at least {least}), checkpoint {checkpoint}"),
            ))
        })
        .await
    }

    /// Every event the services other than the anchor produced (their outboxes keep
    /// each once): each claim's three, the reference data, and what a claim may
    /// bring besides (a member's accumulators, a fraud alert, a payment hold);
    /// and what the test published straight to the bus.
    pub async fn produced_events(&self) -> anyhow::Result<i64> {
        let mut produced = 0;
        for service in ["intake", "adjudication", "settlement"] {
            produced += self.count(service, "outbox").await?;
        }
        // The fraud service runs in some stacks only.
        Ok(produced + self.count("fraud", "outbox").await.unwrap_or(0) + self.injected_events)
    }

    /// Exactly-once checks over the whole stack once it has settled
    /// ([`Stack::wait_settled`]): `n_claims` claims stored, each decided once,
    /// booked once and its three events on the ledger once, every entry
    /// verified, and `claimtrail verify` content.
    pub async fn assert_exactly_once(&self, n_claims: i64) -> anyhow::Result<()> {
        assert_eq!(self.count("intake", "claims").await?, n_claims);
        // Settled means booked and anchored; intake's status projection (a consumer of its own) may still be
        // catching up after a restart, so wait for it before counting exactly.
        let adjudicated = format!("SELECT COUNT(*) FROM {} WHERE status = 'adjudicated'", self.table("intake", "claims"));
        wait_until(Duration::from_secs(120), || async {
            let (n, history) = (self.scalar(&adjudicated).await?, self.count("intake", "claim_history").await?);
            Ok((n >= n_claims && history >= 3 * n_claims, format!("intake shows {n} of {n_claims} adjudicated, {history} history rows")))
        })
        .await?;
        assert_eq!(self.scalar(&adjudicated).await?, n_claims);
        assert_eq!(self.count("adjudication", "decisions").await?, n_claims);
        assert_eq!(self.count("settlement", "journal_entries").await?, n_claims);
        assert_eq!(self.scalar(&format!("SELECT COUNT(DISTINCT claim_id) FROM {}", self.table("settlement", "journal_entries"))).await?, n_claims);
        // Each claim: submitted, adjudicated, booked; plus the reference data and
        // what claims brought besides: every event produced is in the ledger once.
        let produced = self.produced_events().await?;
        assert!(produced >= self.baseline_events + 3 * n_claims, "{produced} events produced for {n_claims} claims");
        assert_eq!(self.ledger_size().await?, produced);
        assert_eq!(self.scalar(&format!("SELECT COUNT(DISTINCT event_id) FROM {}", self.table("anchor", "ledger"))).await?, produced);
        // History rows: one per event the claim went through, no doubles.
        assert_eq!(self.count("intake", "claim_history").await?, 3 * n_claims);
        // Republished batches are the identical signed batches: every entry verified, none twice.
        let leaves = self.leaves().await?;
        assert_eq!(verified_counts(&leaves), (leaves.len(), 0, 0));
        let (verified, output) = self.verify(&[]).await?;
        assert!(verified, "{output}");
        assert!(output.contains("0 entries recorded unverified"), "{output}");
        Ok(())
    }

    /// Every ledger leaf, in index order, parsed.
    pub async fn leaves(&self) -> anyhow::Result<Vec<Value>> {
        let sql = format!("SELECT convert_from(leaf, 'UTF8') FROM {} ORDER BY idx", self.table("anchor", "ledger"));
        let rows = self.db.query_all_raw(sea_orm::Statement::from_string(sea_orm::DbBackend::Postgres, sql)).await?;
        rows.iter().map(|row| Ok(serde_json::from_str(&row.try_get_by_index::<String>(0)?)?)).collect()
    }

    /// The `/v1/ledger/keys` lines of the anchor.
    pub async fn key_lines(&self) -> anyhow::Result<Vec<String>> {
        let text = self.client.get(format!("{}/v1/ledger/keys", self.url("anchor"))).bearer_auth(&self.admin_key).send().await?.text().await?;
        Ok(text.lines().map(str::to_owned).collect())
    }

    /// Runs `claimtrail verify` against the anchor; returns (success, stdout + stderr).
    pub async fn verify(&self, extra: &[&str]) -> anyhow::Result<(bool, String)> {
        let mut args = vec!["verify", self.url("anchor")];
        args.extend_from_slice(extra);
        let output = self.command(&args).env("CLAIMTRAIL_API_KEY", &self.admin_key).output().await?;
        Ok((output.status.success(), format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))))
    }

    /// Stops every process, drops the schemas and deletes the streams of this prefix.
    pub async fn cleanup(mut self) -> anyhow::Result<()> {
        for service in SERVICES {
            self.kill(service).await?;
        }
        for schema in SERVICES.iter().chain(&["registry"]) {
            self.execute(&format!("DROP SCHEMA IF EXISTS \"{}_{schema}\" CASCADE", self.prefix)).await?;
        }
        // A cluster's URL names every node, separated by commas.
        let servers: Vec<&str> = self.nats_url.split(',').collect();
        let client = async_nats::ConnectOptions::new().connection_timeout(Duration::from_secs(5)).connect(servers).await?;
        let jetstream = async_nats::jetstream::new(client);
        for family in ["REFERENCE", "CLAIMS", "SETTLEMENT", "LEDGER", "FRAUD", "DEADLETTER"] {
            let _ = jetstream.delete_stream(format!("{}_{family}", self.prefix.to_uppercase())).await;
        }
        Ok(())
    }
}

/// The value of one Prometheus series (`name{labels}` exactly as served) at `base`/metrics, 0 when absent.
pub async fn metric(client: &reqwest::Client, base: &str, series: &str) -> anyhow::Result<f64> {
    let text = client.get(format!("{base}/metrics")).send().await?.text().await?;
    Ok(text
        .lines()
        .find_map(|line| line.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')).and_then(|value| value.trim().parse().ok()))
        .unwrap_or(0.0))
}

/// How many leaves the anchor marked verified, unverified, and neither.
pub fn verified_counts(leaves: &[Value]) -> (usize, usize, usize) {
    let verified = leaves.iter().filter(|leaf| leaf["verified"] == true).count();
    let unverified = leaves.iter().filter(|leaf| leaf["verified"] == false).count();
    (verified, unverified, leaves.len() - verified - unverified)
}

/// A canonical envelope as if produced anew: `body` (an event's canonical
/// bytes) with its event id replaced, and that new id.
pub fn replay_as_new(body: &str) -> anyhow::Result<(String, String)> {
    let envelope: Value = serde_json::from_str(body)?;
    let old = envelope["event_id"].as_str().context("no event_id")?.to_owned();
    let new = uuid::Uuid::now_v7().to_string();
    Ok((body.replace(&old, &new), new))
}

/// A one-event producer batch proof for `body` that names `key` but carries
/// another key's signature: the inclusion holds, the signature does not.
pub fn forged_single_batch(body: &[u8], service: &str, key: &str) -> anyhow::Result<String> {
    use claimtrail_ledger::batch;
    let impostor = claimtrail_ledger::note::SignerKey::generate("impostor")?;
    let id = uuid::Uuid::now_v7().to_string();
    let mut proof = batch::sign(&impostor, service, &id, &[batch::event_hash(body)]).remove(0);
    proof.key = key.to_owned();
    Ok(proof.to_text())
}

/// Polls `check` every 200 ms until it answers true or `timeout` passes; the
/// message of the last check goes into the error.
pub async fn wait_until<F, Fut>(timeout: Duration, mut check: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<(bool, String)>>,
{
    let started = Instant::now();
    let mut last = String::new();
    while started.elapsed() < timeout {
        match check().await {
            Ok((true, _)) => return Ok(()),
            Ok((false, message)) => last = message,
            Err(e) => last = format!("{e:#}"),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    bail!("timed out after {timeout:?}: {last}")
}

/// Today by the services' clock: the system clock moved by
/// `CLAIMTRAIL_CLOCK_OFFSET_DAYS`, as in every process the harness starts.
pub fn today() -> time::Date {
    claimtrail_events::today()
}

/// `YYYY-MM-DD` of the day `days` after [`today`] (before it when negative).
pub fn day(days: i64) -> String {
    claimtrail_events::format_date(today() + time::Duration::days(days))
}

/// The sample claim's date of service: 30 days before [`today`].
pub fn service_date() -> String {
    day(-30)
}

/// A coverage or enrollment period around [`today`]: a year before to a year after.
pub fn covered_period() -> (String, String) {
    (day(-365), day(365))
}

/// A valid professional FHIR R4 Claim (the committed fixture) with its own
/// patient control number: 99213, G0008 and J1100 x4 for payer 60054, served
/// on [`service_date`] (the fixture's own dates are fixed, and would age out
/// of the payer's timely-filing limit).
pub fn sample_claim(patient_control_number: &str) -> Value {
    static TEMPLATE: OnceLock<Value> = OnceLock::new();
    let mut claim =
        TEMPLATE.get_or_init(|| serde_json::from_str(include_str!("../../libs/fhir/tests/fixtures/claim-professional.json")).expect("fixture is JSON")).clone();
    claim["identifier"][0]["value"] = json!(patient_control_number);
    claim["id"] = json!(patient_control_number.to_ascii_lowercase());
    let served = service_date();
    claim["billablePeriod"] = json!({"start": served, "end": served});
    claim["created"] = json!(format!("{}T09:30:00-05:00", day(-29)));
    for item in claim["item"].as_array_mut().expect("the fixture has items") {
        item["servicedDate"] = json!(served);
    }
    let (start, end) = covered_period();
    for resource in claim["contained"].as_array_mut().expect("the fixture has contained resources") {
        if resource["resourceType"] == "Coverage" {
            resource["period"] = json!({"start": start, "end": end});
        }
    }
    claim
}

/// Claims per bundle in the long runs (crash, faults, embedded).
pub const BUNDLE_CLAIMS: usize = 100;

/// A Bundle of [`BUNDLE_CLAIMS`] sample claims, `PCN-<run>-<bundle_idx>-<n>`.
pub fn claims_bundle(run: &str, bundle_idx: usize) -> Value {
    bundle((0..BUNDLE_CLAIMS).map(|n| sample_claim(&format!("PCN-{run}-{bundle_idx}-{n}"))).collect())
}

/// A batch Bundle of `claims`.
pub fn bundle(claims: Vec<Value>) -> Value {
    let entries: Vec<Value> = claims.into_iter().map(|claim| json!({"fullUrl": format!("urn:uuid:{}", uuid::Uuid::now_v7()), "resource": claim})).collect();
    json!({"resourceType": "Bundle", "type": "batch", "entry": entries})
}

/// `claimtrail up --demo` on a data directory of its own: the whole stack in
/// one process on the embedded SQLite file and log.
pub struct Embedded {
    pub data_dir: tempfile::TempDir,
    pub process: Option<Child>,
    pub url: String,
    pub api_key: String,
    pub client: reqwest::Client,
    /// Environment applied at every start.
    pub env: Vec<(String, String)>,
    /// Events produced by the demo seeding, all on the ledger.
    pub baseline_events: i64,
}

impl Embedded {
    /// Starts with demo seeding (no sample claims: the tests submit their own).
    pub async fn start(env: &[(&str, &str)]) -> anyhow::Result<Embedded> {
        Embedded::start_in(tempfile::tempdir()?, env).await
    }

    /// As [`Embedded::start`], on the data directory `data_dir` (e.g. one on a small filesystem).
    pub async fn start_in(data_dir: tempfile::TempDir, env: &[(&str, &str)]) -> anyhow::Result<Embedded> {
        let mut embedded = Embedded {
            data_dir,
            process: None,
            url: String::new(),
            api_key: String::new(),
            client: reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?,
            env: env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            baseline_events: 0,
        };
        embedded.spawn(&[]).await?;
        embedded.baseline_events = embedded.count("intake", "outbox").await? + embedded.count("adjudication", "outbox").await?;
        let credentials: Value = serde_json::from_str(&std::fs::read_to_string(embedded.data_dir.path().join("demo-credentials.json"))?)?;
        embedded.api_key = credentials["tenants"]
            .as_array()
            .and_then(|tenants| tenants.iter().find(|t| t["role"] == "provider"))
            .and_then(|t| t["api_key"].as_str())
            .context("no provider key in demo-credentials.json")?
            .to_owned();
        Ok(embedded)
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(claimtrail_bin());
        command
            .args(args)
            .env_remove("DATABASE_URL")
            .env_remove("NATS_URL")
            .env_remove("CLAIMTRAIL_KILL_POINT")
            .env("CLAIMTRAIL_DEMO_CLAIMS", "0")
            .env("CLAIMTRAIL_DEMO_FRAUD_CLAIMS", "0")
            .env("CLAIMTRAIL_CHECKPOINT_INTERVAL_MS", "200")
            .env("RUST_LOG", std::env::var("TEST_LOG").unwrap_or_else(|_| "warn".to_owned()));
        command
    }

    /// Starts (or restarts) `claimtrail up --demo` and waits for /readyz.
    pub async fn spawn(&mut self, extra_env: &[(&str, &str)]) -> anyhow::Result<()> {
        let data_dir = self.data_dir.path().to_str().context("data dir path")?.to_owned();
        let log_path = logs_dir().join(format!("embedded-{}.log", data_dir.replace('/', "_")));
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&log_path)?;
        let mut command = self.command(&["up", "--demo", "--data-dir", &data_dir, "--listen", "127.0.0.1:0"]);
        for (key, value) in self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())).chain(extra_env.iter().copied()) {
            command.env(key, value);
        }
        command.stdout(Stdio::piped()).stderr(Stdio::from(log)).kill_on_drop(true);
        let mut child = command.spawn().context("spawning claimtrail up")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .with_context(|| format!("claimtrail up did not start within 60 s (log: {})", log_path.display()))??
            .with_context(|| format!("claimtrail up exited before listening (log: {})", log_path.display()))?;
        self.url = first.strip_prefix("listening on ").with_context(|| format!("unexpected first line: {first}"))?.to_owned();
        let written = std::fs::read_to_string(self.data_dir.path().join("url"))?;
        anyhow::ensure!(written.trim() == self.url, "<data dir>/url says {written} but the process printed {}", self.url);
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        self.process = Some(child);
        let client = self.client.clone();
        let url = self.url.clone();
        wait_until(Duration::from_secs(60), || {
            let (client, url) = (client.clone(), url.clone());
            async move {
                let status = client.get(format!("{url}/readyz")).send().await?.status();
                Ok((status == 200, format!("/readyz answered {status}")))
            }
        })
        .await
    }

    pub async fn kill(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.process.take() {
            child.kill().await?;
        }
        Ok(())
    }

    pub async fn wait_exit(&mut self, timeout: Duration) -> anyhow::Result<()> {
        let child = self.process.as_mut().context("not running")?;
        tokio::time::timeout(timeout, child.wait()).await.context("claimtrail up did not exit")??;
        self.process = None;
        Ok(())
    }

    /// POSTs a FHIR body with the demo's provider key.
    pub async fn submit(&self, body: &Value) -> anyhow::Result<reqwest::Response> {
        Ok(self
            .client
            .post(format!("{}/v1/claims", self.url))
            .bearer_auth(&self.api_key)
            .header("content-type", "application/fhir+json")
            .body(serde_json::to_vec(body)?)
            .send()
            .await?)
    }

    pub async fn submit_ok(&self, body: &Value) -> anyhow::Result<Vec<String>> {
        let response = self.submit(body).await?;
        let status = response.status();
        let answer: Value = response.json().await?;
        anyhow::ensure!(status == 202, "submission answered {status}: {answer}");
        Ok(answer["claim_ids"].as_array().context("no claim_ids")?.iter().filter_map(|id| id.as_str().map(str::to_owned)).collect())
    }

    pub async fn claim_status(&self, claim_id: &str) -> anyhow::Result<Value> {
        let response = self.client.get(format!("{}/v1/claims/{claim_id}", self.url)).bearer_auth(&self.api_key).send().await?;
        anyhow::ensure!(response.status() == 200, "GET claim {claim_id}: {}", response.status());
        Ok(response.json().await?)
    }

    /// A read-write connection to the embedded file (for assertions and tampering).
    pub async fn db(&self) -> anyhow::Result<DatabaseConnection> {
        let url = format!("sqlite://{}?mode=rw", self.data_dir.path().join("claimtrail.db").display());
        Ok(Database::connect(url).await?)
    }

    pub async fn scalar(&self, sql: &str) -> anyhow::Result<i64> {
        let db = self.db().await?;
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(sea_orm::DbBackend::Sqlite, sql.to_owned()))
            .await
            .with_context(|| format!("running {sql}"))?
            .context("no row")?;
        let value = row.try_get_by_index::<i64>(0)?;
        db.close().await?;
        Ok(value)
    }

    pub async fn execute(&self, sql: &str) -> anyhow::Result<u64> {
        let db = self.db().await?;
        let affected = db.execute_unprepared(sql).await.with_context(|| format!("running {sql}"))?.rows_affected();
        db.close().await?;
        Ok(affected)
    }

    pub async fn count(&self, service: &str, table: &str) -> anyhow::Result<i64> {
        self.scalar(&format!("SELECT COUNT(*) FROM \"{service}_{table}\"")).await
    }

    /// `PRAGMA integrity_check` of the embedded file, over a read-only connection: `ok` when sound.
    pub async fn integrity_check(&self) -> anyhow::Result<String> {
        let url = format!("sqlite://{}?mode=ro", self.data_dir.path().join("claimtrail.db").display());
        let db = Database::connect(url).await?;
        let rows = db.query_all_raw(sea_orm::Statement::from_string(sea_orm::DbBackend::Sqlite, "PRAGMA integrity_check".to_owned())).await?;
        db.close().await?;
        let lines: Vec<String> = rows.iter().map(|row| row.try_get_by_index::<String>(0)).collect::<Result<_, _>>()?;
        Ok(lines.join("\n"))
    }

    /// Like [`Stack::wait_settled`]: booked, anchored and checkpointed.
    pub async fn wait_settled(&self, n_claims: i64, timeout: Duration) -> anyhow::Result<()> {
        let least = self.baseline_events + 3 * n_claims;
        wait_until(timeout, || async {
            let booked = self.count("settlement", "journal_entries").await?;
            let produced = self.produced_events().await?;
            let ledger = self.count("anchor", "ledger").await?;
            let checkpoint = self.scalar("SELECT COALESCE(MAX(size), 0) FROM \"anchor_checkpoints\"").await?;
            Ok((
                booked == n_claims && produced >= least && ledger == produced && checkpoint == produced,
                format!("booked {booked}/{n_claims}, ledger {ledger}/{produced} produced (at least {least}), checkpoint {checkpoint}"),
            ))
        })
        .await
    }

    /// As [`Stack::produced_events`], on the embedded file.
    pub async fn produced_events(&self) -> anyhow::Result<i64> {
        let mut produced = 0;
        for service in ["intake", "adjudication", "settlement"] {
            produced += self.count(service, "outbox").await?;
        }
        Ok(produced + self.count("fraud", "outbox").await.unwrap_or(0))
    }

    /// As [`Stack::assert_exactly_once`], on the embedded file.
    pub async fn assert_exactly_once(&self, n_claims: i64) -> anyhow::Result<()> {
        assert_eq!(self.count("intake", "claims").await?, n_claims);
        // Settled means booked and anchored; intake's status projection may still be catching up.
        let adjudicated = "SELECT COUNT(*) FROM \"intake_claims\" WHERE status = 'adjudicated'";
        wait_until(Duration::from_secs(120), || async {
            let (n, history) = (self.scalar(adjudicated).await?, self.count("intake", "claim_history").await?);
            Ok((n >= n_claims && history >= 3 * n_claims, format!("intake shows {n} of {n_claims} adjudicated, {history} history rows")))
        })
        .await?;
        assert_eq!(self.scalar(adjudicated).await?, n_claims);
        assert_eq!(self.count("adjudication", "decisions").await?, n_claims);
        assert_eq!(self.count("settlement", "journal_entries").await?, n_claims);
        assert_eq!(self.count("intake", "claim_history").await?, 3 * n_claims);
        let produced = self.produced_events().await?;
        assert!(produced >= self.baseline_events + 3 * n_claims, "{produced} events produced for {n_claims} claims");
        assert_eq!(self.count("anchor", "ledger").await?, produced);
        assert_eq!(self.scalar("SELECT COUNT(DISTINCT event_id) FROM \"anchor_ledger\"").await?, produced);
        let leaves = self.leaves().await?;
        assert_eq!(verified_counts(&leaves), (leaves.len(), 0, 0));
        let (verified, output) = self.verify().await?;
        assert!(verified, "{output}");
        Ok(())
    }

    /// Every ledger leaf, in index order, parsed.
    pub async fn leaves(&self) -> anyhow::Result<Vec<Value>> {
        let db = self.db().await?;
        let rows =
            db.query_all_raw(sea_orm::Statement::from_string(sea_orm::DbBackend::Sqlite, "SELECT leaf FROM \"anchor_ledger\" ORDER BY idx".to_owned())).await?;
        db.close().await?;
        rows.iter().map(|row| Ok(serde_json::from_slice(&row.try_get_by_index::<Vec<u8>>(0)?)?)).collect()
    }

    /// `claimtrail verify` against the running stack.
    pub async fn verify(&self) -> anyhow::Result<(bool, String)> {
        let output = self.command(&["verify", &self.url]).env("CLAIMTRAIL_API_KEY", self.demo_key("auditor")?).output().await?;
        Ok((output.status.success(), format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))))
    }

    /// The demo's API key of `role`, from the data directory's credentials file.
    pub fn demo_key(&self, role: &str) -> anyhow::Result<String> {
        let credentials: Value = serde_json::from_str(&std::fs::read_to_string(self.data_dir.path().join("demo-credentials.json"))?)?;
        credentials["tenants"]
            .as_array()
            .and_then(|tenants| tenants.iter().find(|t| t["role"] == role))
            .and_then(|t| t["api_key"].as_str())
            .map(str::to_owned)
            .with_context(|| format!("no {role} key in the demo credentials"))
    }

    /// `claimtrail ledger export --data-dir` then `claimtrail verify FILE` (works with the process stopped).
    pub async fn verify_export(&self) -> anyhow::Result<(bool, String)> {
        let data_dir = self.data_dir.path().to_str().context("data dir")?.to_owned();
        let export = self.data_dir.path().join("export.jsonl");
        let export = export.to_str().context("export path")?;
        let exported = self.command(&["ledger", "export", "--data-dir", &data_dir, "--out", export]).output().await?;
        anyhow::ensure!(exported.status.success(), "export failed: {}", String::from_utf8_lossy(&exported.stderr));
        let output = self.command(&["verify", export]).output().await?;
        Ok((output.status.success(), format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))))
    }
}

/// (group-reason, amount) of each adjustment of the decision's first line, from a claim status.
pub fn first_line_adjustments(status: &Value) -> Vec<(String, String)> {
    status["decision"]["lines"][0]["adjustments"]
        .as_array()
        .unwrap_or_else(|| panic!("no adjustments in {status}"))
        .iter()
        .map(|a| (format!("{}-{}", a["group"].as_str().unwrap_or(""), a["reason"].as_str().unwrap_or("")), a["amount"].as_str().unwrap_or("").to_owned()))
        .collect()
}

/// A (group-reason, amount) pair as [`first_line_adjustments`] gives them.
pub fn adjustment_pair(code: &str, amount: &str) -> (String, String) {
    (code.to_owned(), amount.to_owned())
}

/// A benefit plan for the tests: every line "medical"; in network deductible
/// 500/1,000, out-of-pocket maximum 3,000/6,000, coinsurance 20% (out of
/// network twice each, 40%).
pub fn gold_ppo_plan() -> Value {
    json!({
        "name": "Gold PPO",
        "categories": ["medical"],
        "default_category": "medical",
        "tiers": {
            "inn": {"deductible": {"individual": "500.00", "family": "1000.00"}, "oop_max": {"individual": "3000.00", "family": "6000.00"}, "coinsurance_percent": "20"},
            "oon": {"deductible": {"individual": "1000.00", "family": "2000.00"}, "oop_max": {"individual": "6000.00", "family": "12000.00"}, "coinsurance_percent": "40"}
        }
    })
}

/// The sample claim with one line: `code`, `units` units at `charge` (a FHIR decimal).
pub fn one_line_claim(pcn: &str, code: &str, units: u32, charge: &str) -> Value {
    let mut claim = sample_claim(pcn);
    let mut item = claim["item"][0].clone();
    item["productOrService"]["coding"][0]["code"] = json!(code);
    let net: f64 = charge.parse().expect("a charge");
    item["quantity"] = json!({"value": units});
    item["unitPrice"] = json!({"value": net / f64::from(units), "currency": "USD"});
    item["net"] = json!({"value": net, "currency": "USD"});
    claim["item"] = json!([item]);
    claim["total"] = json!({"value": net, "currency": "USD"});
    claim
}
