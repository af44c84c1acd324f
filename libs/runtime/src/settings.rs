//! Settings of `claimtrail serve <service>`: flags, each with an environment
//! variable, validated at start. [`ServeSettings`] holds what every service
//! needs, and each service with options of its own has its group
//! ([`AnchorSettings`], [`WitnessSettings`]); the flags and variables keep
//! their names.

/// The largest policy table file (`--policy-bytes-max`, its default and its ceiling): libs/policy's `FILE_BYTES_MAX`.
pub const POLICY_BYTES_MAX: usize = 256 * 1024 * 1024;

/// What every service needs to run on Postgres and NATS JetStream.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeSettings {
    /// Postgres URL (postgres://user@host:port/db).
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: String,

    /// NATS URL of a server with JetStream enabled.
    #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:4222")]
    pub nats_url: String,

    /// Address the HTTP API listens on; port 0 picks a free port.
    #[arg(long, env = "CLAIMTRAIL_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,

    /// Name prefix for schemas, streams, consumers and subjects, so that two
    /// stacks can share one Postgres and one NATS. Empty: the plain names.
    #[arg(long, env = "CLAIMTRAIL_PREFIX", default_value = "")]
    pub prefix: String,

    /// Servers each JetStream stream is stored on (1 on a single server; 3 on
    /// a 3-node cluster, so a stream survives the loss of one server). Applies
    /// when a stream is created; an existing stream keeps its replica count.
    #[arg(long, env = "CLAIMTRAIL_STREAM_REPLICAS", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=5))]
    pub stream_replicas: u64,

    /// Days a JetStream stream keeps a message (0: until deleted). Events
    /// carry PHI in their payloads, so this bounds how long an erasure
    /// request leaves them on the bus; a consumer must not lag behind it (the
    /// outbox keeps every event regardless). Applies to existing streams too.
    #[arg(long, env = "CLAIMTRAIL_STREAM_MAX_AGE_DAYS", default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=36_500))]
    pub stream_max_age_days: u64,

    /// Partitions of the claims family: the claims of one subscriber's family
    /// all go to one partition, and a service that needs them in order
    /// (adjudication) runs one consumer per partition. Every service of a
    /// stack must have the same count; change it only with the claims
    /// family drained (docs/operations.md "Partitions").
    #[arg(long, env = "CLAIMTRAIL_PARTITIONS", default_value_t = claimtrail_bus::PARTITIONS_DEFAULT, value_parser = clap::value_parser!(u32).range(1..=claimtrail_bus::PARTITIONS_MAX as i64))]
    pub partitions: u32,

    /// Messages fetched and processed in one transaction, at most.
    #[arg(long, env = "CLAIMTRAIL_BATCH_MAX", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub batch_max: u32,

    /// Deliveries of a failing message before it goes to the dead-letter subject.
    #[arg(long, env = "CLAIMTRAIL_DELIVERIES_MAX", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=1_000))]
    pub deliveries_max: u64,

    /// Seconds the bus waits for an acknowledgement before redelivering.
    #[arg(long, env = "CLAIMTRAIL_ACK_WAIT_SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub ack_wait_seconds: u64,

    /// Database connections in the pool, at most.
    #[arg(long, env = "CLAIMTRAIL_DB_POOL_MAX", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub db_pool_max: u32,

    /// Milliseconds one Postgres statement may run before the server cancels
    /// it (its `statement_timeout`); the request then fails instead of
    /// hanging. 0 leaves the server's own setting.
    #[arg(long, env = "CLAIMTRAIL_DB_STATEMENT_TIMEOUT_MS", default_value_t = 30_000, value_parser = clap::value_parser!(u64).range(0..=3_600_000))]
    pub db_statement_timeout_ms: u64,

    /// Milliseconds to finish in-flight work after SIGTERM.
    #[arg(long, env = "CLAIMTRAIL_SHUTDOWN_TIMEOUT_MS", default_value_t = 10_000)]
    pub shutdown_timeout_ms: u64,

    /// Directory with the service's signing keys (created on first start).
    #[arg(long, env = "CLAIMTRAIL_KEY_DIR", default_value = "./claimtrail-keys")]
    pub key_dir: std::path::PathBuf,

    /// Largest request body accepted, in bytes.
    #[arg(long, env = "CLAIMTRAIL_BODY_BYTES_MAX", default_value_t = 10 * 1024 * 1024)]
    pub body_bytes_max: usize,

    /// Largest policy table file a payer may upload (NCCI, MUE, LEIE, RVU,
    /// fee schedules, ...), in bytes: CMS publishes files far above the
    /// request body limit. At most 256 MiB, libs/policy's limit per file.
    #[arg(long, env = "CLAIMTRAIL_POLICY_BYTES_MAX", default_value_t = POLICY_BYTES_MAX,
          value_parser = clap::builder::TypedValueParser::map(clap::value_parser!(u64).range(1024..=POLICY_BYTES_MAX as u64), |v| v as usize))]
    pub policy_bytes_max: usize,

    /// Requests per second each API key may make (bursts up to twice that); 0: no limit.
    #[arg(long, env = "CLAIMTRAIL_RATE_LIMIT_PER_SECOND", default_value_t = 200)]
    pub rate_limit_per_second: u32,

    /// The anchor's own settings.
    #[command(flatten)]
    pub anchor: AnchorSettings,

    /// The witness's own settings (`serve witness`).
    #[command(flatten)]
    pub witness: WitnessSettings,

    /// The fraud service's own settings (`serve fraud`), and the fingerprint
    /// keys it shares with the producers.
    #[command(flatten)]
    pub fraud: FraudSettings,
}

/// The fraud service's settings (docs/fraud.md), and the keyed-fingerprint
/// keys, which only the producers (intake) and the fraud service are given.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FraudSettings {
    /// Fingerprint keys, `<key id>:<64 hex digits>` separated by commas
    /// (intake and fraud only). A producer stamps each claim with every key
    /// listed; the fraud service matches on the first. Rotation: docs/fraud.md.
    #[arg(long, env = "CLAIMTRAIL_FINGERPRINT_KEYS", value_delimiter = ',', hide_env_values = true)]
    pub fingerprint_keys: Vec<String>,

    /// The anchor's base URL, where the fraud service reads ledger indices
    /// and inclusion proofs (`/v1/ledger/...`).
    #[arg(long, env = "CLAIMTRAIL_FRAUD_LEDGER_URL")]
    pub fraud_ledger_url: Option<String>,

    /// Adjudication's base URL, where the fraud service reads the payers'
    /// exclusion lists and NCCI edits by version (`/v1/payers/{id}/policy-versions/{version}`),
    /// with `--fraud-ledger-key`.
    #[arg(long, env = "CLAIMTRAIL_FRAUD_POLICY_URL")]
    pub fraud_policy_url: Option<String>,

    /// An API key that may read the ledger (auditor or admin), for the fraud service.
    #[arg(long, env = "CLAIMTRAIL_FRAUD_LEDGER_KEY", hide_env_values = true)]
    pub fraud_ledger_key: Option<String>,

    /// Claims the fraud service scans in one pass, at most.
    #[arg(long, env = "CLAIMTRAIL_FRAUD_SCAN_CLAIMS_MAX", default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub fraud_scan_claims_max: u64,
}

impl FraudSettings {
    /// [`FraudSettings::fingerprint_keys`] parsed into (key id, secret): an
    /// error names the entry that is not `<id>:<64 hex digits>` or a repeated id.
    pub fn fingerprint_keys(&self) -> anyhow::Result<Vec<(u32, Vec<u8>)>> {
        let mut keys: Vec<(u32, Vec<u8>)> = Vec::with_capacity(self.fingerprint_keys.len());
        for (entry_idx, entry) in self.fingerprint_keys.iter().enumerate().filter(|(_, entry)| !entry.trim().is_empty()) {
            let (id, secret) = entry.split_once(':').ok_or_else(|| anyhow::anyhow!("fingerprint key {} is not `<key id>:<64 hex digits>`", entry_idx + 1))?;
            let key_id: u32 = id.trim().parse().map_err(|_| anyhow::anyhow!("fingerprint key {}: the key id `{id}` is not a number", entry_idx + 1))?;
            let bytes = hex::decode(secret.trim()).map_err(|_| anyhow::anyhow!("fingerprint key {key_id}: the secret is not hex"))?;
            anyhow::ensure!(bytes.len() == 32, "fingerprint key {key_id}: the secret must be 32 bytes (64 hex digits), not {}", bytes.len());
            anyhow::ensure!(keys.iter().all(|(id, _)| *id != key_id), "fingerprint key id {key_id} is listed twice");
            keys.push((key_id, bytes));
        }
        Ok(keys)
    }
}

/// The anchor's settings: its checkpoints and the witnesses it asks.
#[derive(Debug, Clone, clap::Args)]
pub struct AnchorSettings {
    /// Origin line of the ledger's checkpoints (anchor).
    #[arg(long, env = "CLAIMTRAIL_LEDGER_ORIGIN", default_value = "claimtrail.local/ledger")]
    pub ledger_origin: String,

    /// Sign a checkpoint after this many new entries (anchor).
    #[arg(long, env = "CLAIMTRAIL_CHECKPOINT_ENTRIES", default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub checkpoint_entries: u64,

    /// Sign a checkpoint at least this often when there are new entries (anchor).
    #[arg(long, env = "CLAIMTRAIL_CHECKPOINT_INTERVAL_MS", default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(10..))]
    pub checkpoint_interval_ms: u64,

    /// An append-only directory the anchor writes every checkpoint note to
    /// (`<size>.checkpoint`, never overwritten); unset: none.
    #[arg(long, env = "CLAIMTRAIL_ANCHOR_DIR")]
    pub anchor_dir: Option<std::path::PathBuf>,

    /// Witnesses the anchor asks to cosign each checkpoint: base URLs (their
    /// `/add-checkpoint`), comma-separated, in the order of `--witness-keys`.
    #[arg(long, env = "CLAIMTRAIL_WITNESS_URLS", value_delimiter = ',')]
    pub witness_urls: Vec<String>,

    /// The witnesses' cosignature keys (C2SP vkeys), comma-separated, one per URL.
    #[arg(long, env = "CLAIMTRAIL_WITNESS_KEYS", value_delimiter = ',')]
    pub witness_keys: Vec<String>,

    /// A file of more witness cosignature keys, one vkey per line (e.g. the
    /// `witness.vkey` a witness writes), read at start.
    #[arg(long, env = "CLAIMTRAIL_WITNESS_KEYS_FILE")]
    pub witness_keys_file: Option<std::path::PathBuf>,

    /// Cosignatures a checkpoint needs before the anchor publishes it; 0: none.
    #[arg(long, env = "CLAIMTRAIL_WITNESS_QUORUM", default_value_t = 0)]
    pub witness_quorum: usize,
}

/// A witness's settings (`claimtrail serve witness`): its name, the logs it
/// follows, and the limits on what an unauthenticated caller can make it do.
#[derive(Debug, Clone, clap::Args)]
pub struct WitnessSettings {
    /// This witness's name, its key name in cosignatures (`serve witness`).
    #[arg(long, env = "CLAIMTRAIL_WITNESS_NAME", default_value = "claimtrail.local/witness")]
    pub witness_name: String,

    /// The checkpoint keys (C2SP vkeys) of the logs this witness follows,
    /// comma-separated; a key's name is its log's origin (`serve witness`).
    #[arg(long, env = "CLAIMTRAIL_WITNESS_LOG_KEYS", value_delimiter = ',')]
    pub witness_log_keys: Vec<String>,

    /// A file of more log keys for the witness, one vkey per line (e.g. the
    /// `ledger-log.vkey` that `claimtrail keys log` writes), read at start.
    #[arg(long, env = "CLAIMTRAIL_WITNESS_LOG_KEYS_FILE")]
    pub witness_log_keys_file: Option<std::path::PathBuf>,

    /// Largest add-checkpoint body a witness accepts, in bytes (413 beyond; `serve witness`).
    #[arg(long, env = "CLAIMTRAIL_WITNESS_BODY_BYTES_MAX", default_value_t = 64 * 1024, value_parser = clap::builder::TypedValueParser::map(clap::value_parser!(u64).range(1024..=16 * 1024 * 1024), |v| v as usize))]
    pub witness_body_bytes_max: usize,

    /// Requests per second a witness takes from one client address, bursts
    /// up to twice that (429 with Retry-After beyond); 0: no limit (`serve witness`).
    #[arg(long, env = "CLAIMTRAIL_WITNESS_RATE_LIMIT_PER_SECOND", default_value_t = 20)]
    pub witness_rate_limit_per_second: u32,

    /// Evidence rows (forks, failed consistency proofs) a witness keeps per
    /// origin; beyond it they are counted, not stored (`serve witness`).
    #[arg(long, env = "CLAIMTRAIL_WITNESS_EVIDENCE_PER_ORIGIN_MAX", default_value_t = 1_000)]
    pub witness_evidence_per_origin_max: u64,
}

impl AnchorSettings {
    /// The witness cosignature keys: `witness_keys` and the lines of `witness_keys_file`.
    pub fn all_witness_keys(&self) -> anyhow::Result<Vec<String>> {
        keys_and_file(&self.witness_keys, self.witness_keys_file.as_deref())
    }
}

impl Default for AnchorSettings {
    /// The flags' defaults.
    fn default() -> AnchorSettings {
        AnchorSettings {
            ledger_origin: "claimtrail.local/ledger".to_owned(),
            checkpoint_entries: 1_000,
            checkpoint_interval_ms: 1_000,
            anchor_dir: None,
            witness_urls: Vec::new(),
            witness_keys: Vec::new(),
            witness_keys_file: None,
            witness_quorum: 0,
        }
    }
}

impl WitnessSettings {
    /// The log keys a witness follows: `witness_log_keys` and the lines of `witness_log_keys_file`.
    pub fn all_witness_log_keys(&self) -> anyhow::Result<Vec<String>> {
        keys_and_file(&self.witness_log_keys, self.witness_log_keys_file.as_deref())
    }
}

impl Default for WitnessSettings {
    /// The flags' defaults.
    fn default() -> WitnessSettings {
        WitnessSettings {
            witness_name: "claimtrail.local/witness".to_owned(),
            witness_log_keys: Vec::new(),
            witness_log_keys_file: None,
            witness_body_bytes_max: 64 * 1024,
            witness_rate_limit_per_second: 20,
            witness_evidence_per_origin_max: 1_000,
        }
    }
}

impl ServeSettings {
    /// [`ServeSettings::db_statement_timeout_ms`] as the store takes it.
    pub fn statement_timeout(&self) -> Option<std::time::Duration> {
        (self.db_statement_timeout_ms > 0).then(|| std::time::Duration::from_millis(self.db_statement_timeout_ms))
    }

    /// Settings for tests and embedded callers, with the defaults of the flags.
    pub fn with_urls(database_url: &str, nats_url: &str, prefix: &str) -> ServeSettings {
        ServeSettings {
            database_url: database_url.to_owned(),
            nats_url: nats_url.to_owned(),
            listen: "127.0.0.1:0".to_owned(),
            prefix: prefix.to_owned(),
            stream_replicas: 1,
            stream_max_age_days: 0,
            partitions: claimtrail_bus::PARTITIONS_DEFAULT,
            batch_max: 256,
            deliveries_max: 5,
            ack_wait_seconds: 30,
            db_pool_max: 8,
            db_statement_timeout_ms: 30_000,
            shutdown_timeout_ms: 10_000,
            key_dir: std::path::PathBuf::from("./claimtrail-keys"),
            body_bytes_max: 10 * 1024 * 1024,
            policy_bytes_max: POLICY_BYTES_MAX,
            rate_limit_per_second: 200,
            anchor: AnchorSettings::default(),
            witness: WitnessSettings::default(),
            fraud: FraudSettings { fraud_scan_claims_max: 1_000, ..FraudSettings::default() },
        }
    }
}

/// Non-empty keys from the list and from the file (one per line), in that order.
fn keys_and_file(keys: &[String], file: Option<&std::path::Path>) -> anyhow::Result<Vec<String>> {
    use anyhow::Context as _;
    let mut all: Vec<String> = keys.iter().map(|k| k.trim().to_owned()).filter(|k| !k.is_empty()).collect();
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading the key file {}", path.display()))?;
        all.extend(text.lines().map(str::trim).filter(|line| !line.is_empty() && !line.starts_with('#')).map(str::to_owned));
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::FraudSettings;

    fn keys(entries: &[&str]) -> anyhow::Result<Vec<(u32, Vec<u8>)>> {
        FraudSettings { fingerprint_keys: entries.iter().map(|entry| (*entry).to_owned()).collect(), ..FraudSettings::default() }.fingerprint_keys()
    }

    #[test]
    fn fingerprint_keys_are_ids_with_32_hex_bytes_in_the_order_given() {
        let parsed = keys(&[&format!("2:{}", "ab".repeat(32)), &format!(" 1 : {} ", "0F".repeat(32)), ""]).unwrap();
        assert_eq!(parsed, [(2, vec![0xab; 32]), (1, vec![0x0f; 32])]);
        assert!(keys(&[""]).unwrap().is_empty(), "an empty setting is no key");
    }

    #[test]
    fn a_malformed_fingerprint_key_is_refused_naming_what_is_wrong() {
        let error = |entries: &[&str]| keys(entries).unwrap_err().to_string();
        assert!(error(&["abc"]).contains("not `<key id>:<64 hex digits>`"));
        assert!(error(&[&format!("x:{}", "ab".repeat(32))]).contains("key id `x` is not a number"));
        assert!(error(&["3:zz"]).contains("fingerprint key 3: the secret is not hex"));
        assert!(error(&["3:abcd"]).contains("must be 32 bytes (64 hex digits), not 2"));
        let twice = format!("4:{}", "ab".repeat(32));
        assert!(error(&[&twice, &twice]).contains("key id 4 is listed twice"));
    }
}
