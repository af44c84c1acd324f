//! Where the fraud service reads the payers' policy versions (the exclusion
//! list and the NCCI edits, [`crate::domain::policy`]): [`HttpPolicy`] asks
//! adjudication's public API (`GET /v1/payers/{payer_id}/policy-versions/{version_id}`)
//! with an auditor or admin key; `claimtrail up` reads adjudication's own
//! store in the same process instead.

use anyhow::Context as _;
use async_trait::async_trait;
use uuid::Uuid;

/// Seconds one request to adjudication may take (a national NCCI table is tens of megabytes).
pub const POLICY_REQUEST_TIMEOUT_SECONDS: u64 = 60;

/// The payers' policy versions as the fraud service reads them.
#[async_trait]
pub trait PolicySource: Send + Sync {
    /// The stored bytes of `payer_id`'s version `version_id`.
    async fn content(&self, payer_id: &str, version_id: Uuid) -> anyhow::Result<Vec<u8>>;
}

/// Adjudication's public API.
pub struct HttpPolicy {
    client: reqwest::Client,
    base_url: String,
    api_key: String,
}

impl HttpPolicy {
    pub fn new(base_url: &str, api_key: &str) -> anyhow::Result<HttpPolicy> {
        let client =
            reqwest::Client::builder().timeout(std::time::Duration::from_secs(POLICY_REQUEST_TIMEOUT_SECONDS)).build().context("building the policy client")?;
        Ok(HttpPolicy { client, base_url: base_url.trim_end_matches('/').to_owned(), api_key: api_key.to_owned() })
    }
}

#[async_trait]
impl PolicySource for HttpPolicy {
    async fn content(&self, payer_id: &str, version_id: Uuid) -> anyhow::Result<Vec<u8>> {
        let url = format!("{}/v1/payers/{payer_id}/policy-versions/{version_id}", self.base_url);
        let response = self.client.get(&url).bearer_auth(&self.api_key).send().await.with_context(|| format!("GET {url}"))?;
        let status = response.status();
        anyhow::ensure!(status.is_success(), "GET {url}: {status}: {}", response.text().await.unwrap_or_default());
        Ok(response.bytes().await.with_context(|| format!("reading the answer of GET {url}"))?.to_vec())
    }
}
