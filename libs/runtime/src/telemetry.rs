//! Logs and traces.
//!
//! Logs: JSON lines on stderr, filtered by `RUST_LOG` (default `info`).
//!
//! Traces: when `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set, the `claimtrail*` spans at `info` and
//! above also go over OTLP gRPC (tonic) through a batch span processor, with
//! the resource attributes `service.name` (`OTEL_SERVICE_NAME`, default the
//! service's own name) and `service.version`. Without either variable nothing
//! is exported. [`flush`] sends what is pending; the runtime calls it at the
//! end of the shutdown drain.
//!
//! Spans carry ids (claim, event), event types, counts and outcomes, never
//! member data or payloads. One claim is one trace: [`set_parent`] continues
//! the W3C `traceparent` an event carries, and [`traceparent`] gives the one a
//! span passes on.

use std::collections::HashMap;
use std::sync::OnceLock;

use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry::trace::{TraceContextExt as _, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::filter::{EnvFilter, LevelFilter, Targets};
use tracing_subscriber::prelude::*;

/// The trace exporter's endpoint variables (the standard OTLP ones); either turns export on.
pub const OTLP_ENDPOINT_VARIABLES: [&str; 2] = ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"];

/// The crates whose spans are exported (a target prefix): ours, not the
/// libraries' (sqlx, async-nats, hyper, and above all the exporter's own tonic).
const EXPORTED_TARGETS: &str = "claimtrail";

static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// Installs the global subscriber once; later calls do nothing. `service`
/// names the process in traces unless `OTEL_SERVICE_NAME` says otherwise.
/// Must run inside the tokio runtime (the tonic exporter needs it).
pub fn init(default_filter: &str, service: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(format!("{default_filter},sqlx=warn,async_nats=warn")));
    let logs = tracing_subscriber::fmt::layer().json().with_writer(std::io::stderr).with_current_span(true).with_filter(filter);
    let (provider, exporter_error) = match otlp_endpoint() {
        None => (None, None),
        Some(_) => match tracer_provider(service) {
            Ok(provider) => (Some(provider), None),
            Err(e) => (None, Some(e)),
        },
    };
    let traces = provider.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("claimtrail"))
            .with_location(false)
            .with_threads(false)
            .with_filter(Targets::new().with_target(EXPORTED_TARGETS, LevelFilter::INFO))
    });
    if tracing_subscriber::registry().with(logs).with(traces).try_init().is_err() {
        return;
    }
    if let Some(provider) = provider {
        let _ = PROVIDER.set(provider);
        tracing::info!(endpoint = otlp_endpoint().unwrap_or_default(), "exporting traces over OTLP");
    }
    if let Some(error) = exporter_error {
        tracing::error!(error.message = %error, "cannot export traces; running without");
    }
}

/// Exports the spans still in the batch processor (blocking; at most the
/// exporter's timeout). Does nothing when traces are not exported.
pub fn flush() {
    if let Some(provider) = PROVIDER.get()
        && let Err(e) = provider.force_flush()
    {
        tracing::warn!(error.message = %e, "flushing traces failed");
    }
}

/// Makes the span a child of the W3C `traceparent` (an event's, a request's);
/// an absent or malformed one leaves the span where it is. Call it right
/// after creating the span. Without trace export it does nothing.
pub fn set_parent(span: &tracing::Span, traceparent: Option<&str>) {
    let Some(traceparent) = traceparent else {
        return;
    };
    let carrier = HashMap::from([("traceparent".to_owned(), traceparent.to_owned())]);
    let context = TraceContextPropagator::new().extract(&carrier);
    if context.span().span_context().is_valid() {
        let _ = span.set_parent(context);
    }
}

/// The W3C `traceparent` naming `span` as the parent, when traces are exported.
pub fn traceparent(span: &tracing::Span) -> Option<String> {
    let context = span.context();
    if !context.span().span_context().is_valid() {
        return None;
    }
    let mut carrier = HashMap::new();
    TraceContextPropagator::new().inject_context(&context, &mut carrier);
    carrier.remove("traceparent")
}

/// Links `span` to the span of the current context (a span that starts its
/// own trace, e.g. one claim of a Bundle, to the request that brought it).
pub fn link_to_current(span: &tracing::Span) {
    let current = tracing::Span::current().context();
    let current = current.span().span_context().clone();
    if current.is_valid() {
        span.add_link(current);
    }
}

fn otlp_endpoint() -> Option<String> {
    OTLP_ENDPOINT_VARIABLES.iter().find_map(|name| std::env::var(name).ok().filter(|value| !value.trim().is_empty()))
}

fn tracer_provider(service: &str) -> anyhow::Result<SdkTracerProvider> {
    // The exporter reads the endpoint (and headers, timeout) from the OTEL_EXPORTER_OTLP_* variables.
    let exporter = opentelemetry_otlp::SpanExporter::builder().with_tonic().build()?;
    let service_name = std::env::var("OTEL_SERVICE_NAME").ok().filter(|name| !name.trim().is_empty()).unwrap_or_else(|| service.to_owned());
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(service_name)
        .with_attribute(opentelemetry::KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
        .build();
    Ok(SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource).build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_trace_export_a_span_passes_on_no_traceparent() {
        let span = tracing::info_span!("handle");
        set_parent(&span, Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
        assert_eq!(traceparent(&span), None);
    }

    #[test]
    fn a_span_continues_the_trace_of_its_traceparent() {
        let provider = SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("handle");
            set_parent(&span, Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
            let passed_on = traceparent(&span).expect("a traceparent");
            assert!(passed_on.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"), "{passed_on}");
            assert!(!passed_on.contains("00f067aa0ba902b7"), "the span itself is the next parent: {passed_on}");

            let malformed = tracing::info_span!("handle");
            set_parent(&malformed, Some("00-not-a-trace"));
            assert!(!traceparent(&malformed).expect("a new trace").contains("4bf92f3577b34da6a3ce929d0e0e4736"));
        });
    }
}
