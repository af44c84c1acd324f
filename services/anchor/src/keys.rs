//! The log's Ed25519 signing key, kept in a file of the key directory in the
//! C2SP signer-key encoding (`PRIVATE+KEY+<name>+<id>+<base64>`), mode 0600.
//! In Kubernetes the directory is a mounted Secret.

use std::path::Path;

use anyhow::Context as _;
use claimtrail_ledger::note::{SignerKey, VerifierKey};
use claimtrail_store::{Store, stmt};
use sea_orm::{ConnectionTrait, Value};

/// File name of the log key inside the key directory.
pub const LOG_KEY_FILE: &str = "ledger-log.key";

/// Loads the log key, or creates it (named after the origin) on first start.
pub fn load_or_create(key_dir: &Path, origin: &str) -> anyhow::Result<SignerKey> {
    let path = key_dir.join(LOG_KEY_FILE);
    if path.exists() {
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading the log key {}", path.display()))?;
        let key = SignerKey::parse(text.trim()).with_context(|| format!("the log key {} is not a C2SP signer key", path.display()))?;
        anyhow::ensure!(key.name() == origin, "the log key {} is named `{}` but the ledger origin is `{origin}`", path.display(), key.name());
        return Ok(key);
    }
    std::fs::create_dir_all(key_dir).with_context(|| format!("creating the key directory {}", key_dir.display()))?;
    let key = SignerKey::generate(origin).with_context(|| format!("`{origin}` cannot name a key"))?;
    write_private(&path, &format!("{}\n", key.to_private_key_string()))?;
    tracing::info!(path = %path.display(), key_id = %key.key_id(), "created the ledger log key");
    Ok(key)
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).with_context(|| format!("creating {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

/// Records a public key with its role (`log`, `producer <service>`, `witness`).
/// Keys are never removed, so checkpoints signed before a rotation still verify.
pub async fn publish(store: &Store, key: &VerifierKey, role: &str) -> anyhow::Result<()> {
    publish_vkey(store, &key.to_string(), role).await
}

/// Records any vkey string (e.g. a witness's cosignature key) with its role.
pub async fn publish_vkey(store: &Store, vkey: &str, role: &str) -> anyhow::Result<()> {
    store
        .db()
        .execute_raw(stmt(
            store,
            format!("INSERT INTO {} (vkey, role) VALUES ($1, $2) ON CONFLICT (vkey) DO NOTHING", store.table("keys")),
            vec![Value::from(vkey.to_owned()), Value::from(role.to_owned())],
        ))
        .await?;
    Ok(())
}

/// Every published key with its role, oldest first.
pub async fn published(store: &Store) -> anyhow::Result<Vec<(String, String)>> {
    let rows = store.db().query_all_raw(stmt(store, format!("SELECT vkey, role FROM {} ORDER BY added_at, vkey", store.table("keys")), vec![])).await?;
    let mut keys = Vec::with_capacity(rows.len());
    for row in rows {
        keys.push((row.try_get_by_index(0)?, row.try_get_by_index(1)?));
    }
    Ok(keys)
}
