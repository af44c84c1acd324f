//! The fraud service's ledger under `claimtrail up`: the anchor's own reads
//! in the same process (the entry of an event, the stored tree's inclusion
//! proofs), instead of its HTTP API with a key; likewise the payers' policy
//! versions, from adjudication's reads; and the fingerprint key a data
//! directory keeps when none is configured.

use std::path::Path;

use anyhow::Context as _;
use async_trait::async_trait;
use base64::Engine as _;
use claimtrail_anchor::storage::tree::TreeStore;
use claimtrail_fraud_service::{LedgerSource, PolicySource};
use claimtrail_store::Store;
use uuid::Uuid;

/// The file under the key directory that holds `up`'s fingerprint key (`<id>:<hex>`).
pub const FINGERPRINT_KEY_FILE: &str = "fingerprint.key";

/// The anchor's store, read directly.
pub struct AnchorLedger {
    store: Store,
}

impl AnchorLedger {
    pub fn new(store: Store) -> AnchorLedger {
        AnchorLedger { store }
    }
}

#[async_trait]
impl LedgerSource for AnchorLedger {
    async fn index_of(&self, event_id: Uuid) -> anyhow::Result<Option<u64>> {
        let entries = claimtrail_anchor::storage::entry_of_event(&self.store, event_id).await?;
        entries.first().map(|entry| u64::try_from(entry.index).context("a negative ledger index")).transpose()
    }

    async fn inclusion(&self, index: u64, size: u64) -> anyhow::Result<Vec<String>> {
        let hashes =
            TreeStore::new(self.store.clone()).inclusion(index, size).await.map_err(|e| anyhow::anyhow!("inclusion proof of {index} in {size}: {e}"))?;
        Ok(hashes.iter().map(|hash| base64::engine::general_purpose::STANDARD.encode(hash)).collect())
    }
}

/// Adjudication's store, read directly (through its read connections: the fraud
/// service reads inside its consumer's transaction, which holds the one writer).
pub struct AdjudicationPolicy {
    store: Store,
}

impl AdjudicationPolicy {
    pub fn new(store: Store) -> AdjudicationPolicy {
        AdjudicationPolicy { store: store.reading() }
    }
}

#[async_trait]
impl PolicySource for AdjudicationPolicy {
    async fn content(&self, payer_id: &str, version_id: Uuid) -> anyhow::Result<Vec<u8>> {
        let (_, body) = claimtrail_adjudication::storage::policy_version(&self.store, self.store.db(), payer_id, version_id)
            .await?
            .with_context(|| format!("payer {payer_id} has no policy version {version_id}"))?;
        Ok(body)
    }
}

/// `up`'s fingerprint key when `CLAIMTRAIL_FINGERPRINT_KEYS` names none: key 1,
/// made from the system's randomness on the first start and kept in the key directory.
pub fn data_dir_fingerprint_key(key_dir: &Path) -> anyhow::Result<String> {
    let path = key_dir.join(FINGERPRINT_KEY_FILE);
    if let Ok(text) = std::fs::read_to_string(&path) {
        return Ok(text.trim().to_owned());
    }
    std::fs::create_dir_all(key_dir).with_context(|| format!("creating {}", key_dir.display()))?;
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
    let entry = format!("1:{}", hex::encode(secret));
    std::fs::write(&path, format!("{entry}\n")).with_context(|| format!("writing {}", path.display()))?;
    Ok(entry)
}
