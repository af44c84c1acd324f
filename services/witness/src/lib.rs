//! A transparency-log witness (`claimtrail serve witness`) speaking the C2SP
//! tlog-witness protocol (<https://c2sp.org/tlog-witness>) over Claimtrail's
//! SHA3-256 Merkle tree, answering with C2SP tlog-cosignature/v1 lines.
//!
//! A witness is run by someone other than the ledger's operator. For each log
//! it trusts (by its checkpoint key, named after the log's origin) it keeps
//! the latest checkpoint it cosigned, and cosigns a new one only when the log
//! proves it consistent with that one. So a log that forks (shows two
//! different trees of one size) or rolls back (shrinks, then grows again
//! from another tree) cannot get the cosignatures verifiers require.
//!
//! Only a contradiction is evidence: a signed checkpoint of the held size
//! with another root (`fork`), or a consistency proof from the held
//! checkpoint that fails (`inconsistent`). Such a request is kept in
//! `evidence`, counted in `claimtrail_witness_alerts_total` and logged at
//! error level. An older checkpoint proves nothing against the held one (the
//! log signed it once, genuinely): it gets the spec's 409 with the held size
//! and nothing is stored.
//!
//! Anyone can post, so what a caller can make the witness store and compute
//! is bounded ([`Limits`]): the body size (413), the requests per second per
//! client address (429 with Retry-After) and the evidence rows per origin
//! (beyond it, evidence is counted in
//! `claimtrail_witness_evidence_dropped_total` and not stored).
//!
//! `POST /add-checkpoint`: the body is `old <size>\n`, up to 63 base64
//! consistency-proof lines, an empty line, then the signed checkpoint note.
//! Answers as the spec says: 200 with the cosignature line; 400 malformed or
//! old size above the checkpoint's; 403 no trusted signature; 404 unknown
//! origin; 409 (`text/x.tlog.size`, the size it holds) when the old size is
//! not the one it cosigned last, 409 when the same size comes with another
//! root; 422 when the consistency proof does not verify; 413 and 429 over
//! the limits. The check and the update
//! are one transaction holding the log's row lock, so two requests cannot
//! both advance from the same size.
//!
//! # Layout
//! The shape every service copies (ARCHITECTURE.md, "The shape of a service"):
//! - [`domain`]: the pure protocol: the request parsed strictly
//!   ([`domain::request`]), [`domain::admit`] (followed origin, trusted
//!   signature, sane old size), [`domain::judge`] (cosign, refuse, or refuse
//!   and keep the request as evidence) and the evidence cap. No IO; a test
//!   below enforces it.
//! - [`storage`]: all of the service's SQL and migrations, and [`storage::footprint`].
//! - [`api`]: [`Witness`], its routes and handlers, typed bodies with their
//!   OpenAPI schemas ([`openapi`]; the witness serves no document of its own).
//! - [`run`]: the service (`claimtrail serve witness`). No bus, so no consumer.

pub mod api;
pub mod domain;
pub mod storage;

use std::future::Future;
use std::path::Path;

use anyhow::Context as _;
use claimtrail_ledger::VerifierKey;
use claimtrail_ledger::note::Cosigner;
use claimtrail_runtime::ServeSettings;
use claimtrail_store::{Migration, Store, StoreConfig};

pub use api::{Refusal, Witness};
pub use domain::PROOF_LINES_MAX;

pub const SERVICE: &str = "witness";

/// The witness key's file in the key directory.
pub const KEY_FILE: &str = "witness.key";

pub fn migrations() -> Vec<Migration> {
    storage::migrations()
}

/// What an unauthenticated caller can make the witness store and compute.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The largest add-checkpoint body accepted (413 beyond).
    pub body_bytes_max: usize,
    /// Requests per second per client address, bursts up to twice that (429
    /// with Retry-After beyond); 0: no limit.
    pub rate_limit_per_second: u32,
    /// Evidence rows kept per origin; beyond it a contradiction is still
    /// refused, logged and counted, but not stored.
    pub evidence_per_origin_max: u64,
}

impl Limits {
    /// The limits of the serve settings (`CLAIMTRAIL_WITNESS_*`).
    pub fn from_settings(settings: &ServeSettings) -> Limits {
        Limits {
            body_bytes_max: settings.witness.witness_body_bytes_max,
            rate_limit_per_second: settings.witness.witness_rate_limit_per_second,
            evidence_per_origin_max: settings.witness.witness_evidence_per_origin_max,
        }
    }
}

/// Loads the witness key or creates it on first start; writes the vkey beside it.
pub fn load_or_create_key(key_dir: &Path, name: &str) -> anyhow::Result<Cosigner> {
    let path = key_dir.join(KEY_FILE);
    let cosigner = match std::fs::read_to_string(&path) {
        Ok(text) => {
            let cosigner = Cosigner::parse(&text).with_context(|| format!("{} is not a cosigner key", path.display()))?;
            anyhow::ensure!(cosigner.name() == name, "{} is the key of `{}`, not of `{name}`", path.display(), cosigner.name());
            cosigner
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(key_dir).with_context(|| format!("creating {}", key_dir.display()))?;
            let cosigner = Cosigner::generate(name).with_context(|| format!("`{name}` cannot name a key"))?;
            let tmp = path.with_extension("tmp");
            std::fs::write(&tmp, cosigner.to_private_key_string() + "\n")?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
            }
            std::fs::rename(&tmp, &path)?;
            cosigner
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    std::fs::write(key_dir.join("witness.vkey"), cosigner.verifier().to_string() + "\n")?;
    Ok(cosigner)
}

/// Runs the witness until `shutdown` (`claimtrail serve witness`).
/// Reads `database_url`, `listen`, `prefix`, `key_dir` and `db_pool_max` of
/// the serve settings, and its own [`claimtrail_runtime::WitnessSettings`]; no bus.
pub async fn run(settings: ServeSettings, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let logs = settings
        .witness
        .all_witness_log_keys()?
        .iter()
        .map(|key| VerifierKey::parse(key).with_context(|| format!("`{key}` is not a log key (C2SP vkey)")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    anyhow::ensure!(
        !logs.is_empty(),
        "a witness needs the key of at least one log (--witness-log-keys / CLAIMTRAIL_WITNESS_LOG_KEYS, or a file in CLAIMTRAIL_WITNESS_LOG_KEYS_FILE)"
    );
    let cosigner = load_or_create_key(&settings.key_dir, &settings.witness.witness_name)?;
    let store = Store::connect(&StoreConfig {
        database_url: settings.database_url.clone(),
        service: SERVICE.to_owned(),
        prefix: settings.prefix.clone(),
        max_connections: settings.db_pool_max,
        statement_timeout: settings.statement_timeout(),
    })
    .await
    .with_context(|| format!("connecting the witness to {}", claimtrail_store::redact_url(&settings.database_url)))?;
    store.migrate(&migrations()).await.context("migrating the witness schema")?;
    tracing::info!(vkey = %cosigner.verifier(), logs = logs.len(), "witness key loaded");
    let listener = tokio::net::TcpListener::bind(&settings.listen).await.with_context(|| format!("binding {}", settings.listen))?;
    claimtrail_runtime::http::announce(listener.local_addr()?);
    let app = Witness::new(store, cosigner, logs, Limits::from_settings(&settings)).router();
    claimtrail_runtime::http::serve_with_peer_addresses(listener, app, shutdown).await?;
    Ok(())
}

/// The OpenAPI paths the witness serves (not merged into the ledger
/// operator's `/openapi.json`: a witness is run by someone else).
pub fn openapi() -> utoipa::openapi::OpenApi {
    #[derive(utoipa::OpenApi)]
    #[openapi(paths(api::add_checkpoint, api::list_logs))]
    struct ApiDoc;
    <ApiDoc as utoipa::OpenApi>::openapi()
}

#[cfg(test)]
mod tests {
    claimtrail_runtime::domain_purity_test!();
}
