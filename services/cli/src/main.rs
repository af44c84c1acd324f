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

    /// Schemas allowed to say nothing about what they hold, as (where, why):
    /// none. `where` is a location as [`FreeForms`] reports it (`component
    /// Name.member[]`, or `METHOD /path status (content type)` for a body's
    /// own schema). Every member of every body is typed; see
    /// [`every_body_in_the_openapi_document_has_a_schema`].
    const FREE_FORM_ALLOWED: &[(&str, &str)] = &[];

    /// The schemas in a document that say nothing about what they hold, with
    /// where they are: a missing schema, `{}`, an object with no properties
    /// (and no schema for additional ones), an array with no `items`, or a
    /// reference to none of the document's components. It walks into
    /// properties, items, additional properties, `oneOf`/`anyOf`/`allOf`
    /// and every component referenced (each once). A reference outside the
    /// document (HL7's FHIR schema) is a schema.
    struct FreeForms<'a> {
        document: &'a serde_json::Value,
        components_walked: std::collections::HashSet<String>,
        found: Vec<(String, String)>,
    }

    impl<'a> FreeForms<'a> {
        fn new(document: &'a serde_json::Value) -> FreeForms<'a> {
            FreeForms { document, components_walked: std::collections::HashSet::new(), found: Vec::new() }
        }

        fn walk(&mut self, schema: Option<&serde_json::Value>, at: &str) {
            let Some(schema) = schema else {
                self.found.push((at.to_owned(), "no schema".into()));
                return;
            };
            if let Some(reference) = schema.get("$ref").and_then(|reference| reference.as_str()) {
                match reference.strip_prefix("#/components/schemas/") {
                    None if reference.starts_with("https://") => {}
                    None => self.found.push((at.to_owned(), format!("a reference to {reference}, neither a component nor a published schema"))),
                    Some(name) => match self.document["components"]["schemas"].get(name) {
                        None => self.found.push((at.to_owned(), format!("a reference to {name}, which is not a component"))),
                        Some(component) => {
                            if self.components_walked.insert(name.to_owned()) {
                                self.walk(Some(component), &format!("component {name}"));
                            }
                        }
                    },
                }
                return;
            }
            let compositions = ["oneOf", "anyOf", "allOf"];
            let constrained = ["type", "enum", "const"].iter().chain(&compositions).any(|keyword| schema.get(keyword).is_some());
            if !constrained {
                self.found.push((at.to_owned(), format!("the unconstrained schema {schema}")));
                return;
            }
            let types: Vec<&str> = match schema.get("type") {
                Some(serde_json::Value::String(kind)) => vec![kind.as_str()],
                Some(serde_json::Value::Array(kinds)) => kinds.iter().filter_map(|kind| kind.as_str()).collect(),
                _ => vec![],
            };
            let properties = schema.get("properties").and_then(|properties| properties.as_object());
            let additional = schema.get("additionalProperties").filter(|additional| additional.is_object());
            let composed = compositions.iter().any(|keyword| schema.get(keyword).is_some());
            if types.contains(&"object") && properties.is_none_or(|properties| properties.is_empty()) && additional.is_none() && !composed {
                self.found.push((at.to_owned(), format!("an object with no properties {schema}")));
            }
            if types.contains(&"array") && schema.get("items").is_none() && schema.get("prefixItems").is_none() {
                self.found.push((at.to_owned(), format!("an array with no items {schema}")));
            }
            for (name, property) in properties.into_iter().flatten() {
                self.walk(Some(property), &format!("{at}.{name}"));
            }
            if let Some(items) = schema.get("items") {
                self.walk(Some(items), &format!("{at}[]"));
            }
            if additional.is_some() {
                self.walk(additional, &format!("{at}{{}}"));
            }
            for keyword in compositions {
                for (index, part) in schema.get(keyword).and_then(|parts| parts.as_array()).into_iter().flatten().enumerate() {
                    self.walk(Some(part), &format!("{at}/{keyword}[{index}]"));
                }
            }
        }
    }

    /// Every request and response body in /openapi.json (and in the
    /// witness's document) has a schema that types it all the way down: no
    /// member, item or variant of it is free JSON; the FHIR ones refer to
    /// HL7's R4 definitions. Schemas in [`FREE_FORM_ALLOWED`] are exempt, and
    /// the list holds only schemas that are still free-form.
    #[test]
    fn every_body_in_the_openapi_document_has_a_schema() {
        let mut found = Vec::new();
        let mut checked = 0;
        let mut n_components = 0;
        for document in [crate::up::openapi(), claimtrail_witness::openapi()] {
            let document = serde_json::to_value(&document).expect("the document serializes");
            let mut free_forms = FreeForms::new(&document);
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
                            free_forms.walk(media.get("schema"), &format!("{} {path} {place} ({content_type})", method.to_uppercase()));
                        }
                    }
                }
            }
            n_components += free_forms.components_walked.len();
            found.extend(free_forms.found);
        }
        assert!(checked > 100, "only {checked} bodies found: the walk is broken");
        assert!(n_components > 50, "only {n_components} components reached: the walk is broken");
        let allowed = |at: &str| FREE_FORM_ALLOWED.iter().any(|(where_, _)| *where_ == at);
        let untyped: Vec<String> = found.iter().filter(|(at, _)| !allowed(at)).map(|(at, why)| format!("{at}: {why}")).collect();
        assert!(untyped.is_empty(), "free-form schemas in the OpenAPI document:\n{}", untyped.join("\n"));
        let stale: Vec<_> = FREE_FORM_ALLOWED.iter().filter(|(where_, _)| !found.iter().any(|(at, _)| at == where_)).collect();
        assert!(stale.is_empty(), "typed now, remove from FREE_FORM_ALLOWED: {stale:?}");
    }

    /// The free-form schemas [`FreeForms`] finds in `schema`, by location.
    fn free_forms_in(document: &serde_json::Value, schema: Option<&serde_json::Value>) -> Vec<String> {
        let mut free_forms = FreeForms::new(document);
        free_forms.walk(schema, "body");
        free_forms.found.into_iter().map(|(at, _)| at).collect()
    }

    #[test]
    fn a_free_form_schema_is_recognised_and_a_constrained_one_is_not() {
        let document = serde_json::json!({"components": {"schemas": {
            "Open": {"type": "object"},
            "View": {"type": "object", "properties": {"size": {"type": "integer"}}},
            "Fhir": {"$ref": "https://hl7.org/fhir/R4/fhir.schema.json#/definitions/Claim"},
            "Holder": {"type": "object", "properties": {"inner": {"type": ["object", "null"], "description": "free"}}},
            "Tree": {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/components/schemas/Tree"}}}}
        }}});
        for (free, at) in [
            (None, "body"),
            (Some(serde_json::json!({})), "body"),
            (Some(serde_json::json!({"type": "object"})), "body"),
            (Some(serde_json::json!({"$ref": "#/components/schemas/Open"})), "component Open"),
            (Some(serde_json::json!({"$ref": "#/components/schemas/Missing"})), "body"),
            (Some(serde_json::json!({"type": "array", "items": {}})), "body[]"),
            (Some(serde_json::json!({"type": "array"})), "body"),
            // Inside: a member, an item, a variant, additional properties, a component's member.
            (Some(serde_json::json!({"type": "object", "properties": {"address": {"type": "object"}}})), "body.address"),
            (Some(serde_json::json!({"type": "object", "properties": {"claims": {"type": "array", "items": {"type": "object"}}}})), "body.claims[]"),
            (Some(serde_json::json!({"oneOf": [{"$ref": "#/components/schemas/View"}, {"type": "object"}]})), "body/oneOf[1]"),
            (Some(serde_json::json!({"allOf": [{"$ref": "#/components/schemas/Open"}]})), "component Open"),
            (Some(serde_json::json!({"type": "object", "additionalProperties": {"type": "object"}})), "body{}"),
            (Some(serde_json::json!({"type": "array", "items": {"$ref": "#/components/schemas/Holder"}})), "component Holder.inner"),
        ] {
            assert_eq!(free_forms_in(&document, free.as_ref()), [at], "{free:?}");
        }
        for typed in [
            serde_json::json!({"type": "string"}),
            serde_json::json!({"$ref": "#/components/schemas/View"}),
            serde_json::json!({"$ref": "#/components/schemas/Fhir"}),
            serde_json::json!({"$ref": "#/components/schemas/Tree"}),
            serde_json::json!({"type": "object", "additionalProperties": {"type": "string"}}),
            serde_json::json!({"oneOf": [{"$ref": "#/components/schemas/View"}, {"type": "null"}]}),
            serde_json::json!({"type": "object", "properties": {"views": {"type": "array", "items": {"$ref": "#/components/schemas/View"}}}}),
        ] {
            assert_eq!(free_forms_in(&document, Some(&typed)), Vec::<String>::new(), "{typed}");
        }
    }
}
