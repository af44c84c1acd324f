//! The services' public APIs, called over HTTP with the signed-in key. The
//! browser never talks to the services; the APIs enforce every scope, and a
//! claim read here is in the access log as any API read is.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde_json::Value;

/// Time one API call may take.
pub const CALL_TIMEOUT_MS: u64 = 10_000;

/// Which service answers a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Intake,
    Adjudication,
    Settlement,
    Anchor,
    Fraud,
}

/// The base URLs of the services (all the same under `claimtrail up`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiUrls {
    pub intake: String,
    pub adjudication: String,
    pub settlement: String,
    pub anchor: String,
    pub fraud: String,
}

impl ApiUrls {
    /// One origin serving every service (`claimtrail up`).
    pub fn one(url: &str) -> ApiUrls {
        let url = url.trim_end_matches('/').to_owned();
        ApiUrls { intake: url.clone(), adjudication: url.clone(), settlement: url.clone(), anchor: url.clone(), fraud: url }
    }

    fn of(&self, service: Service) -> &str {
        match service {
            Service::Intake => &self.intake,
            Service::Adjudication => &self.adjudication,
            Service::Settlement => &self.settlement,
            Service::Anchor => &self.anchor,
            Service::Fraud => &self.fraud,
        }
    }
}

/// Why an API call gave no answer to show.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// The API refused or did not find it; `detail` is its problem's detail.
    #[error("{detail}")]
    Status { status: u16, detail: String },
    #[error("the {service:?} API could not be reached: {reason}")]
    Unreachable { service: Service, reason: String },
    #[error("the dashboard does not know the APIs' address yet")]
    NotConfigured,
}

/// An HTTP client of the services' APIs.
#[derive(Clone)]
pub struct Upstream {
    client: reqwest::Client,
    urls: Arc<OnceLock<ApiUrls>>,
}

impl Upstream {
    /// `urls` may be set later (under `up`, once the listener is bound).
    pub fn new(urls: Arc<OnceLock<ApiUrls>>) -> anyhow::Result<Upstream> {
        let client = reqwest::Client::builder().timeout(Duration::from_millis(CALL_TIMEOUT_MS)).build()?;
        Ok(Upstream { client, urls })
    }

    async fn send(
        &self,
        service: Service,
        api_key: &str,
        build: impl FnOnce(&reqwest::Client, &str) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, UpstreamError> {
        let base = self.urls.get().ok_or(UpstreamError::NotConfigured)?.of(service);
        let unreachable = |e: reqwest::Error| UpstreamError::Unreachable { service, reason: e.to_string() };
        let response = build(&self.client, base).bearer_auth(api_key).send().await.map_err(unreachable)?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = response.text().await.unwrap_or_default();
        let detail = serde_json::from_str::<Value>(&body)
            .ok()
            .map(|problem| {
                let detail = problem["detail"].as_str().map(str::to_owned).unwrap_or_else(|| format!("the API answered {status}"));
                // A 422's field errors name what is wrong; keep them.
                let fields: Vec<String> =
                    problem["errors"].as_array().into_iter().flatten().map(|error| format!("{}: {}", cell(&error["path"]), cell(&error["message"]))).collect();
                if fields.is_empty() { detail } else { format!("{detail} ({})", fields.join("; ")) }
            })
            .unwrap_or_else(|| format!("the API answered {status}"));
        Err(UpstreamError::Status { status: status.as_u16(), detail })
    }

    async fn get(&self, service: Service, api_key: &str, path: &str, query: &[(&str, String)]) -> Result<reqwest::Response, UpstreamError> {
        self.send(service, api_key, |client, base| client.get(format!("{base}{path}")).query(query)).await
    }

    /// POSTs a JSON body (with extra headers such as Idempotency-Key); the answer's status and JSON.
    pub async fn post_json(
        &self,
        service: Service,
        api_key: &str,
        path: &str,
        body: &Value,
        headers: &[(&str, String)],
    ) -> Result<(u16, Value), UpstreamError> {
        let response = self
            .send(service, api_key, |client, base| {
                headers.iter().fold(client.post(format!("{base}{path}")).json(body), |request, (name, value)| request.header(*name, value))
            })
            .await?;
        let status = response.status().as_u16();
        let answer = response.json().await.map_err(|e| UpstreamError::Unreachable { service, reason: format!("the answer is not JSON: {e}") })?;
        Ok((status, answer))
    }

    /// POSTs raw bytes as `content_type` (a file); the answer's status and JSON.
    pub async fn post_bytes(
        &self,
        service: Service,
        api_key: &str,
        path: &str,
        query: &[(&str, String)],
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<(u16, Value), UpstreamError> {
        let response = self
            .send(service, api_key, |client, base| {
                client.post(format!("{base}{path}")).query(query).header(reqwest::header::CONTENT_TYPE, content_type).body(body)
            })
            .await?;
        let status = response.status().as_u16();
        let answer = response.json().await.map_err(|e| UpstreamError::Unreachable { service, reason: format!("the answer is not JSON: {e}") })?;
        Ok((status, answer))
    }

    /// GETs a file: its bytes and media type.
    pub async fn file(&self, service: Service, api_key: &str, path: &str) -> Result<(Vec<u8>, String), UpstreamError> {
        let response = self.get(service, api_key, path, &[]).await?;
        let content_type = response.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("application/octet-stream").to_owned();
        let bytes = response.bytes().await.map_err(|e| UpstreamError::Unreachable { service, reason: e.to_string() })?;
        Ok((bytes.to_vec(), content_type))
    }

    pub async fn json(&self, service: Service, api_key: &str, path: &str, query: &[(&str, String)]) -> Result<Value, UpstreamError> {
        let response = self.get(service, api_key, path, query).await?;
        response.json().await.map_err(|e| UpstreamError::Unreachable { service, reason: format!("the answer is not JSON: {e}") })
    }

    pub async fn text(&self, service: Service, api_key: &str, path: &str, query: &[(&str, String)]) -> Result<String, UpstreamError> {
        let response = self.get(service, api_key, path, query).await?;
        response.text().await.map_err(|e| UpstreamError::Unreachable { service, reason: e.to_string() })
    }
}

/// A JSON value as a table cell: strings as they are, null as empty.
pub fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}
