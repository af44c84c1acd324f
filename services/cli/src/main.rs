//! `claimtrail`: one binary that links every service.

mod bench;
mod bench_ceilings;
mod bench_deployed;
mod bench_ledger;
mod bench_report;
mod config;
mod demo;
mod demo_fraud;
mod fraud_ledger;
mod fraud_world;
mod generate;
mod storage;
mod up;
mod verify;
mod world;

use std::path::PathBuf;

use anyhow::Context as _;
use claimtrail_runtime::ServeSettings;
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(name = "claimtrail", version, about = "Event-sourced healthcare claims and billing, with a verifiable audit ledger")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// A configuration file (`name = value` per line, names being long flags or
    /// their variables): defaults that the environment and flags override.
    #[arg(long, global = true, env = "CLAIMTRAIL_CONFIG")]
    config: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole stack in one process: embedded (SQLite and an in-process
    /// log under the data directory) or, with the URLs, on Postgres and NATS.
    Up(up::UpArgs),
    /// End-to-end load on a stack of its own, with the per-claim budget.
    Bench(bench::BenchArgs),
    /// Run one service on Postgres and NATS JetStream.
    Serve {
        service: ServiceName,
        #[command(flatten)]
        settings: Box<ServeSettings>,
        #[command(flatten)]
        dashboard: Box<claimtrail_dashboard::DashboardArgs>,
    },
    /// Manage API keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Verify the audit ledger from a running stack (URL) or an export file,
    /// recomputing the chain, the Merkle roots, every checkpoint signature and
    /// (with producer keys) every producer batch signature.
    Verify {
        /// `http(s)://host:port` of a stack serving /v1/ledger, or an export file.
        target: String,
        /// Trust only this verifier key (C2SP vkey); repeatable. `VKEY` alone is a
        /// log key; `"VKEY producer <service>"` (a line of /v1/ledger/keys) is the
        /// producer key of that service; `"VKEY witness"` a witness's cosignature
        /// key. Without it the keys come from the target itself, which proves
        /// integrity but not origin (and witnesses are then not checked).
        #[arg(long = "key")]
        keys: Vec<String>,
        /// Cosignatures by the trusted witness keys the latest checkpoint must
        /// hold (default: all the witness keys given).
        #[arg(long)]
        witness_quorum: Option<usize>,
        /// File keeping the last verified checkpoint per (origin, key id); a later
        /// run must find the ledger consistent with it and no smaller.
        #[arg(long)]
        state: Option<PathBuf>,
        /// API key sent to a URL target (an auditor, admin or payer key: the
        /// ledger endpoints need one). Not used with an export file.
        #[arg(long, env = "CLAIMTRAIL_API_KEY", hide_env_values = true)]
        api_key: Option<String>,
    },
    /// Write sample claims (for the demo's payer, providers and members) that the front-end edits accept.
    Generate(generate::GenerateArgs),
    /// Print the OpenAPI document of the whole HTTP surface (as served at /openapi.json).
    Openapi,
    /// Ledger tools.
    Ledger {
        #[command(subcommand)]
        command: LedgerCommand,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ServiceName {
    Intake,
    Adjudication,
    Settlement,
    Anchor,
    /// A C2SP tlog-witness of the ledger (needs only a database and the log's key).
    Witness,
    /// The dashboard: the pages at `/`, calling the services' APIs (--dashboard-*-url).
    Dashboard,
    /// Fraud detection on the ledger (--fraud-ledger-url, --fraud-ledger-key, --fingerprint-keys).
    Fraud,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create an API key for a tenant and print it (the secret is shown only once).
    Create {
        /// Tenant (organization) name.
        #[arg(long)]
        tenant: String,
        /// provider, payer, finance, auditor or admin.
        #[arg(long)]
        role: String,
        /// The payer a payer key publishes for (once, required), or a payer a
        /// finance or auditor key may read (repeatable; one is required unless --all-payers).
        #[arg(long = "payer-id", value_name = "PAYER_ID")]
        payer_ids: Vec<String>,
        /// An operator-wide finance or auditor key that reads every payer's
        /// journal, claims and access log (instead of --payer-id).
        #[arg(long)]
        all_payers: bool,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Create the ledger's log key in the key directory if it is not there
    /// (what the anchor would do on first start), write its vkey beside it
    /// (`ledger-log.vkey`) and print it: for witnesses and verifiers, before the anchor runs.
    Log {
        /// The ledger origin; the key is named after it.
        #[arg(long, env = "CLAIMTRAIL_LEDGER_ORIGIN", default_value = "claimtrail.local/ledger")]
        origin: String,
        #[arg(long, env = "CLAIMTRAIL_KEY_DIR", default_value = "./claimtrail-keys")]
        key_dir: PathBuf,
    },
    /// Create a witness's cosignature key in the key directory if it is not
    /// there, write its vkey beside it (`witness.vkey`) and print it.
    Witness {
        /// The witness's name (its key name in cosignatures).
        #[arg(long, env = "CLAIMTRAIL_WITNESS_NAME", default_value = "claimtrail.local/witness")]
        name: String,
        #[arg(long, env = "CLAIMTRAIL_KEY_DIR", default_value = "./claimtrail-keys")]
        key_dir: PathBuf,
    },
}

/// Which database: Postgres by URL, or the embedded file of a data directory.
#[derive(Debug, Clone, clap::Args)]
struct DatabaseArgs {
    /// Postgres URL of a `serve`/`up` stack.
    #[arg(long, env = "DATABASE_URL", conflicts_with = "data_dir")]
    database_url: Option<String>,
    /// Data directory of an embedded `claimtrail up` stack.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    #[arg(long, env = "CLAIMTRAIL_PREFIX", default_value = "")]
    prefix: String,
}

impl DatabaseArgs {
    fn url(&self) -> anyhow::Result<String> {
        match (&self.database_url, &self.data_dir) {
            (Some(url), _) => Ok(url.clone()),
            (None, Some(dir)) => {
                anyhow::ensure!(dir.join("claimtrail.db").exists(), "{} holds no claimtrail.db", dir.display());
                Ok(up::sqlite_url(dir))
            }
            (None, None) => Ok(up::sqlite_url(std::path::Path::new("./claimtrail-data"))),
        }
    }
}

#[derive(Subcommand)]
enum LedgerCommand {
    /// Write the ledger as JSON lines (keys, entries, checkpoints) for `claimtrail verify`.
    Export {
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

/// Parses the command line over the configuration file's defaults (if any).
fn parse_cli() -> anyhow::Result<Cli> {
    use clap::{CommandFactory as _, FromArgMatches as _};
    let args: Vec<String> = std::env::args_os().map(|arg| arg.to_string_lossy().into_owned()).collect();
    let mut command = Cli::command();
    if let Some(path) = config::config_path(&args) {
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading the configuration file {}", path.display()))?;
        let settings = config::parse(&text, &path)?;
        command = config::apply(command, &args, &settings, &path)?;
    }
    let matches = command.get_matches_from(std::env::args_os());
    Ok(Cli::from_arg_matches(&matches)?)
}

/// mimalloc rather than glibc malloc: see docs/benchmarks.md (allocator).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = match parse_cli() {
        Ok(cli) => cli,
        Err(error) => {
            eprintln!("claimtrail: {error:#}");
            std::process::exit(2);
        }
    };
    // Every command reads the clock: a bad offset stops it here, before any reading.
    if let Err(error) = claimtrail_events::clock_offset() {
        eprintln!("claimtrail: {error}");
        std::process::exit(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("claimtrail: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(error) = runtime.block_on(run(cli)) {
        eprintln!("claimtrail: {error:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Bench(args) => {
            claimtrail_runtime::telemetry::init("warn", "claimtrail");
            bench::run(args).await
        }
        Command::Up(args) => {
            claimtrail_runtime::telemetry::init("info", "claimtrail");
            up::run(args).await
        }
        Command::Serve { service, settings, dashboard } => {
            let service_name = match service {
                ServiceName::Intake => claimtrail_intake::SERVICE,
                ServiceName::Adjudication => claimtrail_adjudication::SERVICE,
                ServiceName::Settlement => claimtrail_settlement::SERVICE,
                ServiceName::Anchor => claimtrail_anchor::SERVICE,
                ServiceName::Witness => claimtrail_witness::SERVICE,
                ServiceName::Dashboard => claimtrail_dashboard::SERVICE,
                ServiceName::Fraud => claimtrail_fraud_service::SERVICE,
            };
            claimtrail_runtime::telemetry::init("info", service_name);
            let shutdown = claimtrail_runtime::shutdown_signal();
            match service {
                ServiceName::Intake => claimtrail_intake::run(*settings, shutdown).await,
                ServiceName::Adjudication => claimtrail_adjudication::run(*settings, shutdown).await,
                ServiceName::Settlement => claimtrail_settlement::run(*settings, shutdown).await,
                ServiceName::Anchor => claimtrail_anchor::run(*settings, shutdown).await,
                ServiceName::Witness => claimtrail_witness::run(*settings, shutdown).await,
                ServiceName::Dashboard => claimtrail_dashboard::run(*settings, *dashboard, shutdown).await,
                ServiceName::Fraud => claimtrail_fraud_service::run(*settings, shutdown).await,
            }
        }
        Command::Keys { command: KeysCommand::Create { tenant, role, payer_ids, all_payers, database } } => {
            let (database_url, prefix) = (database.url()?, database.prefix.clone());
            let role =
                claimtrail_intake::auth::Role::parse(&role).with_context(|| format!("unknown role `{role}` (provider, payer, finance, auditor, admin)"))?;
            anyhow::ensure!(!tenant.trim().is_empty(), "the tenant name must not be empty");
            // Refused before anything is opened or created.
            claimtrail_intake::auth::key_scope(role, &payer_ids, all_payers).map_err(|reason| anyhow::anyhow!(reason))?;
            let store = connect(&database_url, &prefix, claimtrail_intake::SERVICE, &claimtrail_intake::migrations()).await?;
            let registry = claimtrail_store::registry::open(&store, &prefix).await?;
            let key = claimtrail_intake::auth::create_key(&registry, tenant.trim(), role, &payer_ids, all_payers).await?;
            println!("{}", key.api_key);
            Ok(())
        }
        Command::Generate(args) => generate::run(args),
        Command::Keys { command: KeysCommand::Log { origin, key_dir } } => {
            let key = claimtrail_anchor::keys::load_or_create(&key_dir, &origin)?;
            let vkey = key.verifier().to_string();
            std::fs::write(key_dir.join("ledger-log.vkey"), format!("{vkey}\n")).with_context(|| format!("writing {}", key_dir.display()))?;
            println!("{vkey}");
            Ok(())
        }
        Command::Keys { command: KeysCommand::Witness { name, key_dir } } => {
            let key = claimtrail_witness::load_or_create_key(&key_dir, &name)?;
            println!("{}", key.verifier());
            Ok(())
        }
        Command::Openapi => {
            println!("{}", up::openapi().to_pretty_json()?);
            Ok(())
        }
        Command::Verify { target, keys, state, witness_quorum, api_key } => {
            verify::run(&target, &keys, state.as_deref(), witness_quorum, api_key.as_deref()).await
        }
        Command::Ledger { command: LedgerCommand::Export { out, database } } => {
            let (database_url, prefix) = (database.url()?, database.prefix.clone());
            let store = connect(&database_url, &prefix, claimtrail_anchor::SERVICE, &claimtrail_anchor::migrations()).await?;
            let registry = claimtrail_store::registry::open(&store, &prefix).await?;
            let file = std::fs::File::create(&out).with_context(|| format!("creating {}", out.display()))?;
            let mut writer = std::io::BufWriter::new(file);
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_message("exporting ledger entries");
            let (n_entries, n_checkpoints) = claimtrail_anchor::export::export(&store, &registry, &mut writer, |n| bar.set_position(n)).await?;
            bar.finish_and_clear();
            println!("exported {n_entries} entries and {n_checkpoints} checkpoints to {}", out.display());
            Ok(())
        }
    }
}

async fn connect(database_url: &str, prefix: &str, service: &str, migrations: &[claimtrail_store::Migration]) -> anyhow::Result<claimtrail_store::Store> {
    let store = claimtrail_store::Store::connect(&claimtrail_store::StoreConfig {
        database_url: database_url.to_owned(),
        service: service.to_owned(),
        prefix: prefix.to_owned(),
        max_connections: 2,
        statement_timeout: Some(claimtrail_store::STATEMENT_TIMEOUT_DEFAULT),
    })
    .await
    .with_context(|| format!("connecting to {}", claimtrail_store::redact_url(database_url)))?;
    store.migrate(migrations).await?;
    Ok(store)
}

#[cfg(test)]
mod tests {
    /// schemas/openapi.json is generated from the code; this fails when it drifts.
    /// Regenerate: `CLAIMTRAIL_UPDATE_SCHEMAS=1 cargo test -p claimtrail openapi`.
    #[test]
    fn the_committed_openapi_document_matches_the_routes() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/openapi.json");
        let generated = crate::up::openapi().to_pretty_json().expect("the document serializes") + "\n";
        if std::env::var_os("CLAIMTRAIL_UPDATE_SCHEMAS").is_some() {
            std::fs::write(&path, &generated).expect("writing schemas/openapi.json");
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(committed == generated, "schemas/openapi.json drifted from the code; run CLAIMTRAIL_UPDATE_SCHEMAS=1 cargo test -p claimtrail openapi");
        for path in ["/v1/claims", "/v1/claims/{claim_id}", "/v1/ledger/entries", "/v1/payers/{payer_id}/fee-schedule", "/v1/journal/balances", "/readyz"] {
            assert!(generated.contains(&format!("\"{path}\"")), "{path} is missing from the document");
        }
    }

    /// schemas/openapi.json is valid OpenAPI 3.1, as an independent validator
    /// says (scripts/validate-openapi: openapi-spec-validator from PyPI, with
    /// HL7's FHIR schema for the references). Skipped, loudly, only when the
    /// validator cannot be installed.
    #[test]
    fn the_committed_openapi_document_is_valid_openapi_3_1() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut command = std::process::Command::new(root.join("scripts/validate-openapi"));
        command.arg(root.join("schemas/openapi.json"));
        // The venv goes under the target directory: this test binary's, unless cargo was told one.
        if std::env::var_os("CARGO_TARGET_DIR").is_none()
            && let Some(target) = std::env::current_exe().ok().and_then(|exe| exe.ancestors().nth(3).map(std::path::Path::to_path_buf))
        {
            command.env("CARGO_TARGET_DIR", target);
        }
        let output = command.output().expect("running scripts/validate-openapi");
        let report = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        if output.status.code() == Some(3) {
            eprintln!("\n!!! SKIPPED: the OpenAPI validator could not be installed, schemas/openapi.json was NOT validated:\n{report}");
            return;
        }
        assert!(output.status.success(), "schemas/openapi.json is not valid OpenAPI 3.1:\n{report}");
        assert!(report.contains("valid OpenAPI 3.1"), "{report}");
    }

    /// Bodies allowed to stay free JSON, as (method, path, `request` or the
    /// response status): none. Every body is typed; see
    /// [`every_body_in_the_openapi_document_has_a_schema`].
    const FREE_FORM_BODIES_ALLOWED: &[(&str, &str, &str)] = &[];

    /// Why `schema` (of a body in `document`) says nothing about the body,
    /// or None when it constrains it: a missing schema, `{}`, an object with
    /// no properties, or a reference to a component that is one of these. A
    /// reference outside the document (HL7's FHIR schema) is a schema.
    fn free_form(document: &serde_json::Value, schema: Option<&serde_json::Value>) -> Option<String> {
        let Some(schema) = schema else { return Some("no schema".into()) };
        if let Some(reference) = schema.get("$ref").and_then(|reference| reference.as_str()) {
            let Some(name) = reference.strip_prefix("#/components/schemas/") else {
                return (!reference.starts_with("https://")).then(|| format!("a reference to {reference}, neither a component nor a published schema"));
            };
            return match document["components"]["schemas"].get(name) {
                Some(component) => free_form(document, Some(component)).map(|why| format!("component {name}: {why}")),
                None => Some(format!("a reference to {name}, which is not a component")),
            };
        }
        let constrained = ["type", "oneOf", "anyOf", "allOf", "enum", "const"].iter().any(|keyword| schema.get(keyword).is_some());
        if !constrained {
            return Some(format!("the unconstrained schema {schema}"));
        }
        let is_object = schema.get("type").and_then(|kind| kind.as_str()) == Some("object");
        let has_members = schema.get("properties").and_then(|properties| properties.as_object()).is_some_and(|properties| !properties.is_empty())
            || schema.get("additionalProperties").is_some_and(|additional| additional.is_object());
        if is_object && !has_members {
            return Some(format!("an object with no properties {schema}"));
        }
        if schema.get("type").and_then(|kind| kind.as_str()) == Some("array") {
            return free_form(document, schema.get("items")).map(|why| format!("array items: {why}"));
        }
        None
    }

    /// Every request and response body in /openapi.json (and in the
    /// witness's document) has a schema that constrains it; the FHIR ones
    /// refer to HL7's R4 definitions. Bodies in [`FREE_FORM_BODIES_ALLOWED`]
    /// are exempt until they are typed, and the list holds only bodies that
    /// are still free-form, so it shrinks as they are.
    #[test]
    fn every_body_in_the_openapi_document_has_a_schema() {
        let mut found = Vec::new();
        let mut checked = 0;
        for document in [crate::up::openapi(), claimtrail_witness::openapi()] {
            let document = serde_json::to_value(&document).expect("the document serializes");
            for (path, operations) in document["paths"].as_object().expect("paths") {
                for (method, operation) in operations.as_object().expect("operations") {
                    let mut bodies: Vec<(String, &serde_json::Value)> = Vec::new();
                    if let Some(request) = operation.get("requestBody") {
                        bodies.push(("request".into(), request));
                    }
                    for (status, response) in operation["responses"].as_object().into_iter().flatten() {
                        bodies.push((status.clone(), response));
                    }
                    for (place, body) in bodies {
                        for (content_type, media) in body.get("content").and_then(|content| content.as_object()).into_iter().flatten() {
                            checked += 1;
                            if let Some(why) = free_form(&document, media.get("schema")) {
                                found.push(((method.clone(), path.clone(), place.clone()), format!("{method} {path} {place} ({content_type}): {why}")));
                            }
                        }
                    }
                }
            }
        }
        assert!(checked > 100, "only {checked} bodies found: the walk is broken");
        let allowed =
            |key: &(String, String, String)| FREE_FORM_BODIES_ALLOWED.iter().any(|(m, p, w)| (*m, *p, *w) == (key.0.as_str(), key.1.as_str(), key.2.as_str()));
        let untyped: Vec<&String> = found.iter().filter(|(key, _)| !allowed(key)).map(|(_, why)| why).collect();
        assert!(untyped.is_empty(), "free-form bodies in the OpenAPI document:\n{}", untyped.iter().map(|why| why.as_str()).collect::<Vec<_>>().join("\n"));
        let stale: Vec<_> = FREE_FORM_BODIES_ALLOWED
            .iter()
            .filter(|(m, p, w)| !found.iter().any(|(key, _)| (key.0.as_str(), key.1.as_str(), key.2.as_str()) == (*m, *p, *w)))
            .collect();
        assert!(stale.is_empty(), "typed now, remove from FREE_FORM_BODIES_ALLOWED: {stale:?}");
    }

    #[test]
    fn a_free_form_schema_is_recognised_and_a_constrained_one_is_not() {
        let document = serde_json::json!({"components": {"schemas": {
            "Open": {"type": "object"},
            "View": {"type": "object", "properties": {"size": {"type": "integer"}}},
            "Fhir": {"$ref": "https://hl7.org/fhir/R4/fhir.schema.json#/definitions/Claim"}
        }}});
        for free in [
            None,
            Some(serde_json::json!({})),
            Some(serde_json::json!({"type": "object"})),
            Some(serde_json::json!({"$ref": "#/components/schemas/Open"})),
            Some(serde_json::json!({"$ref": "#/components/schemas/Missing"})),
            Some(serde_json::json!({"type": "array", "items": {}})),
        ] {
            assert!(free_form(&document, free.as_ref()).is_some(), "{free:?}");
        }
        for typed in [
            serde_json::json!({"type": "string"}),
            serde_json::json!({"$ref": "#/components/schemas/View"}),
            serde_json::json!({"$ref": "#/components/schemas/Fhir"}),
            serde_json::json!({"type": "object", "additionalProperties": {"type": "string"}}),
            serde_json::json!({"oneOf": [{"$ref": "#/components/schemas/View"}]}),
        ] {
            assert_eq!(free_form(&document, Some(&typed)), None, "{typed}");
        }
    }
}
