//! Where the fraud service reads the shared ledger: a claim's ledger index
//! and the inclusion proof of an entry. [`HttpLedger`] reads the anchor's
//! public API (`GET /v1/ledger/entries?event_id=`, `GET
//! /v1/ledger/proofs/inclusion`) with an auditor or admin key; `claimtrail up`
//! gives the anchor's own reads in the same process instead.

use anyhow::Context as _;
use async_trait::async_trait;
use serde::Deserialize;
use uuid::Uuid;

/// Seconds one request to the anchor may take.
pub const LEDGER_REQUEST_TIMEOUT_SECONDS: u64 = 10;

/// The ledger as the fraud service reads it.
#[async_trait]
pub trait LedgerSource: Send + Sync {
    /// The index of the entry of event `event_id`, if it is on the ledger yet.
    async fn index_of(&self, event_id: Uuid) -> anyhow::Result<Option<u64>>;
    /// The RFC 9162 inclusion proof of entry `index` in the tree of the first `size` entries (base64 hashes, nearest the leaf first).
    async fn inclusion(&self, index: u64, size: u64) -> anyhow::Result<Vec<String>>;
}

/// The anchor's public API.
pub struct HttpLedger {
    client: reqwest::Client,
    base_url: String,
    api_key: String,
}

#[derive(Deserialize)]
struct EntriesAnswer {
    entries: Vec<EntryAnswer>,
}

#[derive(Deserialize)]
struct EntryAnswer {
    index: u64,
}

#[derive(Deserialize)]
struct InclusionAnswer {
    hashes: Vec<String>,
}

impl HttpLedger {
    pub fn new(base_url: &str, api_key: &str) -> anyhow::Result<HttpLedger> {
        let client =
            reqwest::Client::builder().timeout(std::time::Duration::from_secs(LEDGER_REQUEST_TIMEOUT_SECONDS)).build().context("building the ledger client")?;
        Ok(HttpLedger { client, base_url: base_url.trim_end_matches('/').to_owned(), api_key: api_key.to_owned() })
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, path_and_query: &str) -> anyhow::Result<T> {
        let url = format!("{}{path_and_query}", self.base_url);
        let response = self.client.get(&url).bearer_auth(&self.api_key).send().await.with_context(|| format!("GET {url}"))?;
        let status = response.status();
        anyhow::ensure!(status.is_success(), "GET {url}: {status}: {}", response.text().await.unwrap_or_default());
        response.json().await.with_context(|| format!("reading the answer of GET {url}"))
    }
}

#[async_trait]
impl LedgerSource for HttpLedger {
    async fn index_of(&self, event_id: Uuid) -> anyhow::Result<Option<u64>> {
        let answer: EntriesAnswer = self.get(&format!("/v1/ledger/entries?event_id={event_id}")).await?;
        Ok(answer.entries.first().map(|entry| entry.index))
    }

    async fn inclusion(&self, index: u64, size: u64) -> anyhow::Result<Vec<String>> {
        let answer: InclusionAnswer = self.get(&format!("/v1/ledger/proofs/inclusion?index={index}&size={size}")).await?;
        Ok(answer.hashes)
    }
}
