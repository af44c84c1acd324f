//! HTTP plumbing shared by the services: RFC 9457 problem details, the
//! operational endpoints and the server loop.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde::Serialize;
use tracing::Instrument as _;

use crate::{Runtime, telemetry};

/// One field-level validation error.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldError {
    /// A FHIRPath expression or an X12 position.
    pub path: String,
    pub message: String,
}

/// An RFC 9457 problem, sent as `application/problem+json`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    #[serde(skip)]
    pub retry_after_seconds: Option<u64>,
}

impl Problem {
    pub fn new(status: StatusCode, slug: &str, title: &str, detail: impl Into<String>) -> Problem {
        Problem {
            type_uri: format!("https://claimtrail.dev/problems/{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            retry_after_seconds: None,
        }
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Problem {
        self.errors = errors;
        self
    }

    pub fn bad_request(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, "malformed", "Malformed request", detail)
    }

    pub fn unprocessable(detail: impl Into<String>, errors: Vec<FieldError>) -> Problem {
        Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", "Invalid request", detail).with_errors(errors)
    }

    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    /// 403: authenticated, but this key may not do this.
    pub fn forbidden(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden", detail)
    }

    pub fn unsupported_media_type(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type", "Unsupported media type", detail)
    }

    pub fn payload_too_large(limit_bytes: usize) -> Problem {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            "Request body too large",
            format!("the request body is larger than the limit of {limit_bytes} bytes"),
        )
    }

    /// 503: the database cannot be reached; nothing was applied, and the
    /// client may retry after [`DATABASE_RETRY_AFTER_SECONDS`].
    pub fn database_unavailable() -> Problem {
        let mut problem = Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Service unavailable",
            "the database cannot be reached; the request was not applied, retry after the Retry-After seconds",
        );
        problem.retry_after_seconds = Some(DATABASE_RETRY_AFTER_SECONDS);
        problem
    }

    /// 503: the database's disk is full; nothing was applied, and the client
    /// may retry after [`DISK_FULL_RETRY_AFTER_SECONDS`] (an operator has to
    /// free space first).
    pub fn database_disk_full() -> Problem {
        let mut problem = Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage-full",
            "Service unavailable",
            "the database's disk is full; the request was not applied, retry after the Retry-After seconds",
        );
        problem.retry_after_seconds = Some(DISK_FULL_RETRY_AFTER_SECONDS);
        problem
    }

    /// A failure on our side: the client gets a generic message, the log gets
    /// the cause chain. An unreachable database is no fault of the request
    /// and passes: it is a 503 with Retry-After ([`Problem::database_unavailable`]).
    pub fn internal(error: &anyhow::Error) -> Problem {
        if database_disk_full(error) {
            tracing::error!(error.message = %error, "request refused: the database's disk is full");
            metrics::counter!("claimtrail_database_disk_full_total").increment(1);
            return Problem::database_disk_full();
        }
        if database_unreachable(error) {
            tracing::warn!(error.message = %error, "request refused: the database cannot be reached");
            metrics::counter!("claimtrail_database_unavailable_total").increment(1);
            return Problem::database_unavailable();
        }
        tracing::error!(error.cause_chain = ?error, error.message = %error, "request failed");
        Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "Internal error", "the request could not be completed; it was not applied")
    }
}

/// The Retry-After of a 503 for an unreachable database: about the time a
/// restarting Postgres takes, and more than the pool's acquire limit.
pub const DATABASE_RETRY_AFTER_SECONDS: u64 = 5;

/// The Retry-After of a 503 for a full disk: freeing space takes an operator.
pub const DISK_FULL_RETRY_AFTER_SECONDS: u64 = 60;

/// Whether any cause in `error`'s chain says the database's disk is full
/// ([`claimtrail_store::is_disk_full`]).
pub fn database_disk_full(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        if let Some(store) = cause.downcast_ref::<claimtrail_store::StoreError>() {
            store.is_disk_full()
        } else if let Some(db) = cause.downcast_ref::<sea_orm::DbErr>() {
            claimtrail_store::is_disk_full(db)
        } else {
            false
        }
    })
}

/// Whether any cause in `error`'s chain says the database could not be
/// reached ([`claimtrail_store::is_unavailable`]).
pub fn database_unreachable(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        if let Some(store) = cause.downcast_ref::<claimtrail_store::StoreError>() {
            store.is_unavailable()
        } else if let Some(db) = cause.downcast_ref::<sea_orm::DbErr>() {
            claimtrail_store::is_unavailable(db)
        } else {
            false
        }
    })
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry_after = self.retry_after_seconds;
        let mut response = (status, Json(self)).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Some(seconds) = retry_after
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// Parses a JSON request body into `T`: not JSON is a 400, JSON of the wrong
/// shape a 422 that says what `what` was expected.
pub fn json_body<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, Problem> {
    serde_json::from_slice(bytes).map_err(|e| {
        if e.is_syntax() || e.is_eof() {
            Problem::bad_request(format!("body is not JSON: {e}"))
        } else {
            Problem::unprocessable(format!("body is not {what}: {e}"), vec![])
        }
    })
}

impl From<anyhow::Error> for Problem {
    fn from(error: anyhow::Error) -> Problem {
        Problem::internal(&error)
    }
}

impl From<claimtrail_store::StoreError> for Problem {
    fn from(error: claimtrail_store::StoreError) -> Problem {
        Problem::internal(&anyhow::Error::new(error))
    }
}

impl From<sea_orm::DbErr> for Problem {
    fn from(error: sea_orm::DbErr) -> Problem {
        Problem::internal(&anyhow::Error::new(error))
    }
}

/// A service-specific readiness condition (e.g. the anchor's lease), beside database and bus.
pub type Readiness = Arc<dyn Fn() -> Result<(), String> + Send + Sync>;

/// Always ready, as far as the service itself is concerned.
pub fn always_ready() -> Readiness {
    Arc::new(|| Ok(()))
}

/// The process-wide Prometheus recorder.
pub fn metrics_handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

#[derive(Clone)]
struct OpsState {
    runtime: Runtime,
    readiness: Readiness,
}

/// `/healthz`, `/readyz`, `/metrics` and `/openapi.json` (of `openapi`).
pub fn ops_router(runtime: Runtime, readiness: Readiness, openapi: utoipa::openapi::OpenApi) -> Router {
    metrics_handle();
    let openapi = Arc::new(openapi.to_pretty_json().unwrap_or_default());
    Router::new()
        .route("/healthz", get(|| async { (StatusCode::OK, "ok\n") }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(|| async { metrics_handle().render() }))
        .route(
            "/openapi.json",
            get(move || {
                let openapi = openapi.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], openapi.as_str().to_owned()) }
            }),
        )
        .with_state(OpsState { runtime, readiness })
}

/// The operational endpoints and the document's header (title, version,
/// security scheme, the Problem schema); services merge their paths into it.
pub fn base_openapi() -> utoipa::openapi::OpenApi {
    #[derive(utoipa::OpenApi)]
    #[openapi(
        info(title = "Claimtrail", description = "Healthcare claims and billing with a verifiable audit ledger"),
        paths(healthz_doc, readyz_doc, metrics_doc),
        components(schemas(Problem, FieldError)),
        modifiers(&ApiKeyScheme)
    )]
    struct OpsDoc;
    struct ApiKeyScheme;
    impl utoipa::Modify for ApiKeyScheme {
        fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
            use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
            let components = openapi.components.get_or_insert_with(Default::default);
            components.add_security_scheme(
                "api_key",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some("API key `ct_<key id>_<secret>`")).build()),
            );
        }
    }
    use utoipa::OpenApi as _;
    OpsDoc::openapi()
}

#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "The process is alive", body = String, content_type = "text/plain")))]
#[allow(dead_code)]
fn healthz_doc() {}

#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "Database, bus and service conditions are fine", body = String, content_type = "text/plain"),
              (status = 503, description = "Not ready, with the reasons", body = String, content_type = "text/plain")))]
#[allow(dead_code)]
fn readyz_doc() {}

#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text exposition", body = String, content_type = "text/plain")))]
#[allow(dead_code)]
fn metrics_doc() {}

async fn readyz(State(state): State<OpsState>) -> Response {
    let mut problems = Vec::new();
    if !state.runtime.store.ping().await {
        problems.push("database unreachable".to_owned());
    }
    if !state.runtime.bus.is_connected() {
        problems.push("bus disconnected".to_owned());
    }
    if let Err(reason) = (state.readiness)() {
        problems.push(reason);
    }
    if problems.is_empty() {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {}\n", problems.join("; "))).into_response()
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve(listener: tokio::net::TcpListener, app: Router, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
    let app = app.layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
        Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "Internal error", "the request could not be completed").into_response()
    }));
    axum::serve(without_nagle(listener), app).with_graceful_shutdown(shutdown).await
}

/// `listener` with Nagle's algorithm off on every accepted connection
/// (`TCP_NODELAY`; axum 0.8 leaves it on): a response larger than the
/// socket's send buffer otherwise goes in two writes, and the second waits
/// for the client's delayed ACK of the first, about 40 ms on Linux.
fn without_nagle(listener: tokio::net::TcpListener) -> axum::serve::TapIo<tokio::net::TcpListener, fn(&mut tokio::net::TcpStream)> {
    use axum::serve::ListenerExt as _;
    fn set_nodelay(stream: &mut tokio::net::TcpStream) {
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error.message = %e, "TCP_NODELAY not set on an accepted connection");
        }
    }
    listener.tap_io(set_nodelay as fn(&mut tokio::net::TcpStream))
}

/// As [`serve`], with each request's peer address in its extensions as
/// `ConnectInfo<SocketAddr>`, for per-client limits on unauthenticated routes.
pub async fn serve_with_peer_addresses(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = app.layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
        Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "Internal error", "the request could not be completed").into_response()
    }));
    axum::serve(without_nagle(listener), app.into_make_service_with_connect_info::<std::net::SocketAddr>()).with_graceful_shutdown(shutdown).await
}

/// Runs each request in an `http.request` span: method, route template
/// (never the path itself, which can hold a member id) and status. Its parent
/// is the caller's W3C `traceparent`, when valid. Counts it in
/// `claimtrail_http_requests_total{method, route, status}` and times it in
/// `claimtrail_http_request_seconds{method, route}`.
pub async fn request_span(request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let route = request.extensions().get::<MatchedPath>().map(|path| path.as_str().to_owned()).unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().as_str().to_owned();
    let span = tracing::info_span!(
        "http.request",
        otel.kind = "server",
        otel.name = format!("{method} {route}"),
        otel.status_code = tracing::field::Empty,
        http.request.method = %method,
        http.route = %route,
        http.response.status_code = tracing::field::Empty,
    );
    telemetry::set_parent(&span, request.headers().get("traceparent").and_then(|value| value.to_str().ok()));
    let response = next.run(request).instrument(span.clone()).await;
    span.record("http.response.status_code", response.status().as_u16());
    if response.status().is_server_error() {
        span.record("otel.status_code", "error");
    }
    let status = response.status().as_u16().to_string();
    metrics::counter!("claimtrail_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!("claimtrail_http_request_seconds", "method" => method, "route" => route).record(started.elapsed().as_secs_f64());
    response
}

/// Prints the contract's `listening on http://HOST:PORT` line on stdout.
pub fn announce(address: SocketAddr) {
    println!("listening on http://{address}");
    tracing::info!(%address, "listening");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_accepted_connection_has_nagles_algorithm_off() {
        use axum::serve::Listener as _;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let addr = listener.local_addr().expect("has an address");
        let mut listener = without_nagle(listener);
        for _ in 0..2 {
            let _client = tokio::net::TcpStream::connect(addr).await.expect("connects");
            let (stream, _) = listener.accept().await;
            assert!(stream.nodelay().expect("reads TCP_NODELAY"), "an accepted connection keeps Nagle's algorithm on");
        }
    }

    #[test]
    fn an_unreachable_database_anywhere_in_the_cause_chain_is_a_503_with_retry_after() {
        let lost = sea_orm::DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout);
        let error = anyhow::Error::new(claimtrail_store::StoreError::Db(lost)).context("storing the submission");
        let problem = Problem::internal(&error);
        assert_eq!(problem.status, 503);
        assert_eq!(problem.retry_after_seconds, Some(DATABASE_RETRY_AFTER_SECONDS));
        let response = problem.into_response();
        assert_eq!(response.headers().get(header::RETRY_AFTER).and_then(|value| value.to_str().ok()), Some("5"));
    }

    #[test]
    fn a_full_disk_anywhere_in_the_cause_chain_is_a_503_that_says_so() {
        let enospc = sea_orm::sqlx::Error::Io(std::io::Error::from_raw_os_error(28));
        let full = sea_orm::DbErr::Exec(sea_orm::RuntimeErr::SqlxError(Arc::new(enospc)));
        let error = anyhow::Error::new(claimtrail_store::StoreError::Db(full)).context("storing the submission");
        let problem = Problem::internal(&error);
        assert_eq!(problem.status, 503);
        assert!(problem.detail.contains("disk is full"), "{}", problem.detail);
        assert_eq!(problem.retry_after_seconds, Some(DISK_FULL_RETRY_AFTER_SECONDS));
    }

    #[test]
    fn any_other_failure_stays_a_500_without_retry_after() {
        let problem = Problem::from(sea_orm::DbErr::Custom("a constraint".to_owned()));
        assert_eq!(problem.status, 500);
        assert_eq!(problem.retry_after_seconds, None);
    }
}
