//! Keys: the log's Ed25519 signing key, kept in a file of the key directory
//! in the C2SP signer-key encoding (`PRIVATE+KEY+<name>+<id>+<base64>`), mode
//! 0600 (in Kubernetes the directory is a mounted Secret); the published
//! verifier keys (`keys` table, roles `log` and `witness`); and the producer
//! keys that services register in the shared key registry
//! (`claimtrail_store::registry`), listed with role `producer <service>`.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Mutex;

use claimtrail_ledger::note::{SignerKey, VerifierKey};
use claimtrail_store::{Store, StoreError, registry};
use sea_orm::ConnectionTrait;

use crate::storage;

/// File name of the log key inside the key directory.
pub const LOG_KEY_FILE: &str = "ledger-log.key";

/// A batch signature: (key label, batch id, root, signature), as the proof writes them.
pub type BatchMemo = (String, String, String, String);

/// Verified batch signatures remembered, at most (then the memory starts over).
const VERIFIED_BATCHES_MAX: usize = 16_384;

/// Loads the log key, or creates it (named after the origin) on first start.
pub fn load_or_create(key_dir: &Path, origin: &str) -> anyhow::Result<SignerKey> {
    claimtrail_runtime::keys::load_or_create(key_dir, LOG_KEY_FILE, origin)
}

/// Records a public key with its role (`log`, `witness`).
/// Keys are never removed, so checkpoints signed before a rotation still verify.
pub async fn publish(store: &Store, key: &VerifierKey, role: &str) -> anyhow::Result<()> {
    publish_vkey(store, &key.to_string(), role).await
}

/// Records any vkey string (e.g. a witness's cosignature key) with its role.
pub async fn publish_vkey(store: &Store, vkey: &str, role: &str) -> anyhow::Result<()> {
    Ok(storage::publish_vkey(store, vkey, role).await?)
}

/// Every published key with its role: the anchor's own keys (`log`,
/// `witness`) first, then every producer key of the registry (role
/// `producer <service>`), each oldest first.
pub async fn published(store: &Store, registry: &Store) -> anyhow::Result<Vec<(String, String)>> {
    Ok(storage::published_keys(store, registry).await?)
}

/// The producer keys the appender verifies with, by label (`<name>+<key
/// id>`), read from the registry when a batch names a key not seen yet; and
/// the batch signatures already verified, so that a batch split over
/// several deliveries is verified once.
pub struct ProducerKeys {
    registry: Store,
    keys: Mutex<HashMap<String, (String, VerifierKey)>>,
    verified: Mutex<HashSet<BatchMemo>>,
}

impl ProducerKeys {
    pub fn new(registry: Store) -> ProducerKeys {
        ProducerKeys { registry, keys: Mutex::new(HashMap::new()), verified: Mutex::new(HashSet::new()) }
    }

    /// The (service, key) of a label, reading the registry on `conn` when it is not known yet.
    pub async fn lookup(&self, conn: &impl ConnectionTrait, labels: &[&str]) -> Result<HashMap<String, (String, VerifierKey)>, StoreError> {
        let missing = {
            let keys = self.keys.lock().map_err(|_| StoreError::Config("producer key cache poisoned".into()))?;
            labels.iter().any(|label| !keys.contains_key(*label))
        };
        if missing {
            let registered = registry::producer_keys(&self.registry, conn).await?;
            let mut keys = self.keys.lock().map_err(|_| StoreError::Config("producer key cache poisoned".into()))?;
            for (service, vkey) in registered {
                match VerifierKey::parse(&vkey) {
                    Ok(key) => {
                        keys.insert(key.label(), (service, key));
                    }
                    Err(e) => tracing::warn!(error.message = %e, service, "a registered producer key is not a verifier key; ignored"),
                }
            }
        }
        let keys = self.keys.lock().map_err(|_| StoreError::Config("producer key cache poisoned".into()))?;
        Ok(labels.iter().filter_map(|label| keys.get(*label).map(|entry| ((*label).to_owned(), entry.clone()))).collect())
    }

    /// Whether this batch signature was verified before.
    pub fn was_verified(&self, memo: &BatchMemo) -> bool {
        self.verified.lock().map(|verified| verified.contains(memo)).unwrap_or(false)
    }

    pub fn remember_verified(&self, memo: BatchMemo) {
        if let Ok(mut verified) = self.verified.lock() {
            if verified.len() >= VERIFIED_BATCHES_MAX {
                verified.clear();
            }
            verified.insert(memo);
        }
    }
}
