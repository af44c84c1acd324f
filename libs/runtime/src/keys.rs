//! Ed25519 keys on disk, in the C2SP signer-key encoding
//! (`PRIVATE+KEY+<name>+<id>+<base64>`), mode 0600, in the key directory
//! (`CLAIMTRAIL_KEY_DIR`; under `claimtrail up`, `<data dir>/keys`; in
//! Kubernetes a mounted Secret). Each service signs its event batches with
//! its producer key, `<service>-producer.key`, created on first start.

use std::path::Path;

use anyhow::Context as _;
use claimtrail_ledger::note::SignerKey;

/// File name of a service's producer key inside the key directory.
pub fn producer_key_file(service: &str) -> String {
    format!("{service}-producer.key")
}

/// Name of a service's producer key (its vkey reads `<service>-producer+<id>+<key>`).
pub fn producer_key_name(service: &str) -> String {
    format!("{service}-producer")
}

/// The service's producer key: `<service>-producer.key` in `key_dir`, created
/// on first start. Where the directory cannot be written (a read-only Secret
/// mount without that file, a read-only root filesystem), the process makes
/// an ephemeral key instead and says so: it is registered like any other, so
/// what it signs stays verifiable, but every start adds a key to the
/// registry. Mount the key file to keep one identity.
pub fn producer_key(key_dir: &Path, service: &str) -> anyhow::Result<SignerKey> {
    let (file, name) = (producer_key_file(service), producer_key_name(service));
    if key_dir.join(&file).exists() {
        return load_or_create(key_dir, &file, &name);
    }
    match load_or_create(key_dir, &file, &name) {
        Ok(key) => Ok(key),
        Err(e) => {
            tracing::warn!(error.message = %format!("{e:#}"), service, "cannot store a producer key; signing with an ephemeral key for this process");
            Ok(SignerKey::generate(&name)?)
        }
    }
}

/// Loads the key in `key_dir/file`, or creates one named `name` on first
/// start. A key file whose key is named otherwise is refused.
pub fn load_or_create(key_dir: &Path, file: &str, name: &str) -> anyhow::Result<SignerKey> {
    let path = key_dir.join(file);
    if !path.exists() {
        std::fs::create_dir_all(key_dir).with_context(|| format!("creating the key directory {}", key_dir.display()))?;
        let key = SignerKey::generate(name).with_context(|| format!("`{name}` cannot name a key"))?;
        match write_private(&path, &format!("{}\n", key.to_private_key_string())) {
            Ok(()) => {
                tracing::info!(path = %path.display(), key_id = %key.key_id(), "created a signing key");
                return Ok(key);
            }
            // Another process of the same service created it first: use that one.
            Err(e) if path.exists() => tracing::debug!(error.message = %e, "the key file appeared meanwhile"),
            Err(e) => return Err(e),
        }
    }
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading the key {}", path.display()))?;
    let key = SignerKey::parse(text.trim()).with_context(|| format!("the key {} is not a C2SP signer key", path.display()))?;
    anyhow::ensure!(key.name() == name, "the key {} is named `{}`, expected `{name}`", path.display(), key.name());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_created_once_and_loaded_after() {
        let dir = tempfile::tempdir().unwrap();
        let created = load_or_create(dir.path(), "intake-producer.key", "intake-producer").unwrap();
        let loaded = load_or_create(dir.path(), "intake-producer.key", "intake-producer").unwrap();
        assert_eq!(created.verifier(), loaded.verifier());
        assert!(load_or_create(dir.path(), "intake-producer.key", "settlement-producer").is_err());
        assert_eq!(producer_key(dir.path(), "intake").unwrap().verifier(), created.verifier());
    }

    #[cfg(unix)]
    #[test]
    fn an_unwritable_key_dir_gives_an_ephemeral_producer_key() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let key_dir = dir.path().join("keys");
        std::fs::create_dir(&key_dir).unwrap();
        std::fs::set_permissions(&key_dir, std::fs::Permissions::from_mode(0o500)).unwrap();
        // Root ignores permissions; the fallback is only observable otherwise.
        let key = producer_key(&key_dir, "intake").unwrap();
        assert_eq!(key.name(), "intake-producer");
    }
}
