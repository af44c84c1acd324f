//! OpenTelemetry end to end: the four `claimtrail serve` processes export
//! OTLP gRPC to a receiver this test runs; one claim is one trace across
//! them, and no span carries member data.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use claimtrail_e2e::{SERVICES, Stack, sample_claim};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{TraceService, TraceServiceServer};
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use sea_orm::ConnectionTrait as _;

/// The claim's patient control number, and the member data of the sample
/// claim (libs/fhir/tests/fixtures/claim-professional.json) and of the
/// member record the harness publishes.
const PATIENT_CONTROL_NUMBER: &str = "PCN-OTEL-1";
const MEMBER_DATA: [(&str, &str); 5] = [
    ("member id", "MBR-0001"),
    ("family name", "Synthetic"),
    ("given name", "\"Pat\""),
    ("birth date", "1961-04-12"),
    ("patient control number", PATIENT_CONTROL_NUMBER),
];

/// One span as received.
#[derive(Debug, Clone)]
struct ReceivedSpan {
    service: String,
    trace_id: String,
    span_id: String,
    parent_span_id: String,
    name: String,
    attributes: HashMap<String, String>,
}

/// An OTLP gRPC trace receiver: keeps every span, and the debug text of every
/// request (names, attributes, events, links, resources) for the PHI scan.
#[derive(Default, Clone)]
struct Receiver {
    spans: Arc<Mutex<Vec<ReceivedSpan>>>,
    texts: Arc<Mutex<Vec<String>>>,
}

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(&self, request: tonic::Request<ExportTraceServiceRequest>) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let request = request.into_inner();
        self.texts.lock().unwrap().push(format!("{request:?}"));
        let mut spans = self.spans.lock().unwrap();
        for resource_spans in request.resource_spans {
            let resource = resource_spans.resource.map(|r| attributes(&r.attributes)).unwrap_or_default();
            let service = resource.get("service.name").cloned().unwrap_or_default();
            for span in resource_spans.scope_spans.into_iter().flat_map(|scope| scope.spans) {
                spans.push(ReceivedSpan {
                    service: service.clone(),
                    trace_id: hex::encode(&span.trace_id),
                    span_id: hex::encode(&span.span_id),
                    parent_span_id: hex::encode(&span.parent_span_id),
                    name: span.name.clone(),
                    attributes: attributes(&span.attributes),
                });
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse { partial_success: None }))
    }
}

impl Receiver {
    /// Serves on a free local port; returns the receiver and its address.
    async fn start() -> anyhow::Result<(Receiver, SocketAddr)> {
        let receiver = Receiver::default();
        let incoming = tonic::transport::server::TcpIncoming::bind("127.0.0.1:0".parse()?)?;
        let address = incoming.local_addr()?;
        let service = TraceServiceServer::new(receiver.clone());
        tokio::spawn(tonic::transport::Server::builder().serve_with_incoming(service, incoming));
        Ok((receiver, address))
    }

    fn spans_of(&self, trace_id: &str) -> Vec<ReceivedSpan> {
        self.spans.lock().unwrap().iter().filter(|span| span.trace_id == trace_id).cloned().collect()
    }
}

fn attributes(key_values: &[KeyValue]) -> HashMap<String, String> {
    key_values.iter().map(|kv| (kv.key.clone(), kv.value.as_ref().map(text).unwrap_or_default())).collect()
}

fn text(value: &AnyValue) -> String {
    match &value.value {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        other => format!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn one_claim_is_one_trace_across_the_services_and_no_span_carries_member_data() -> anyhow::Result<()> {
    // Arrange: the services batch spans for ten minutes, so only the flush of a graceful stop exports them.
    let (receiver, address) = Receiver::start().await?;
    let endpoint = format!("http://{address}");
    let mut stack = Stack::start(&[("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()), ("OTEL_BSP_SCHEDULE_DELAY", "600000")]).await?;

    // Act
    let claim_id = stack.submit_ok(&sample_claim(PATIENT_CONTROL_NUMBER)).await?.remove(0);
    stack.wait_settled(1, Duration::from_secs(60)).await?;
    let sql = format!("SELECT convert_from(body, 'UTF8')::jsonb ->> 'traceparent' FROM {} WHERE aggregate_id = '{claim_id}'", stack.table("intake", "outbox"));
    let row = stack.db.query_one_raw(sea_orm::Statement::from_string(sea_orm::DbBackend::Postgres, sql)).await?.expect("the claim's event");
    let traceparent = row.try_get_by_index::<Option<String>>(0)?.expect("a traceparent");
    let trace_id = traceparent.split('-').nth(1).expect("a W3C traceparent").to_owned();
    assert!(receiver.spans_of(&trace_id).is_empty(), "spans were exported before the stop; the batch delay is not in effect");
    for service in SERVICES {
        stack.terminate(service, Duration::from_secs(30)).await?;
    }

    // Assert: the claim's trace holds spans of every service.
    let spans = receiver.spans_of(&trace_id);
    let names_by_service = |service: &str| spans.iter().filter(|s| s.service == service).map(|s| s.name.as_str()).collect::<HashSet<_>>();
    assert!(names_by_service("intake").is_superset(&HashSet::from(["POST /v1/claims", "intake.claim", "handle"])), "{spans:#?}");
    for service in ["adjudication", "settlement", "anchor"] {
        assert!(names_by_service(service).contains("handle"), "no span of {service} in the claim's trace: {spans:#?}");
    }

    // One tree: the request span is the root, every other span's parent is in the trace.
    let span_ids: HashSet<&str> = spans.iter().map(|s| s.span_id.as_str()).collect();
    let roots: Vec<&ReceivedSpan> = spans.iter().filter(|s| s.parent_span_id.is_empty()).collect();
    assert_eq!(roots.len(), 1, "{roots:#?}");
    assert_eq!(roots[0].name, "POST /v1/claims");
    assert_eq!(roots[0].attributes.get("http.route").map(String::as_str), Some("/v1/claims"));
    assert_eq!(roots[0].attributes.get("http.response.status_code").map(String::as_str), Some("202"));
    for span in &spans {
        assert!(span.parent_span_id.is_empty() || span_ids.contains(span.parent_span_id.as_str()), "a dangling parent: {span:#?}");
    }
    // The chain follows the services: intake's claim span -> adjudication -> settlement.
    let find = |service: &str, name: &str, event_type: &str| {
        spans
            .iter()
            .find(|s| s.service == service && s.name == name && s.attributes.get("event_type").is_some_and(|t| t == event_type))
            .unwrap_or_else(|| panic!("no {name} span of {event_type} in {service}: {spans:#?}"))
    };
    let claim = find("intake", "intake.claim", "claim.submitted.v1");
    assert_eq!(claim.attributes.get("claim_id"), Some(&claim_id));
    assert_eq!(claim.attributes.get("status").map(String::as_str), Some("accepted"));
    let adjudicated = find("adjudication", "handle", "claim.submitted.v1");
    assert_eq!(adjudicated.parent_span_id, claim.span_id);
    let booked = find("settlement", "handle", "claim.adjudicated.v1");
    assert_eq!(booked.parent_span_id, adjudicated.span_id);
    assert_eq!(find("anchor", "handle", "payable.booked.v1").parent_span_id, booked.span_id);

    // No span anywhere (any trace, its names, attributes, events, links or resource) carries member data.
    let texts = receiver.texts.lock().unwrap().join("\n");
    assert!(texts.contains("PUT /v1/payers/{payer_id}/members/{member_id}"), "the member's PUT was traced");
    for (what, value) in MEMBER_DATA {
        assert!(!texts.contains(value), "a span carries the {what} ({value})");
    }

    stack.cleanup().await
}
