//! The bus on NATS JetStream (async-nats).
//!
//! Streams (one per family, plus dead letters) and durable pull consumers
//! are declared at start-up, idempotently. Publishing sets `Nats-Msg-Id` to
//! the event id and waits for every acknowledgement, pipelined. Consumers
//! acknowledge explicitly; the server redelivers forever (`max_deliver` is
//! unlimited) and the service itself moves a message to the dead-letter
//! subject after its own limit, so that the poison message is kept.

use std::pin::Pin;
use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer::pull, stream};
use async_trait::async_trait;
use bytes::Bytes;
use claimtrail_events::{DomainEvent, Family};
use futures::{FutureExt, Stream, StreamExt};

use crate::{Acker, Bus, BusError, ConsumerSpec, Delivery, Naming, OutgoingEvent, Subscription};

/// How long JetStream remembers message ids for deduplication. A help, not
/// the guarantee: consumers dedupe through their inbox.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// Publish acknowledgements awaited at once.
pub const ACKS_IN_FLIGHT_MAX: usize = 1_024;

/// Connection to NATS with JetStream.
pub struct JetStreamBus {
    client: async_nats::Client,
    context: jetstream::Context,
    naming: Naming,
}

impl JetStreamBus {
    /// Connects and declares every stream of the stack, each stored on
    /// `stream_replicas` servers (1 on a single server, 3 on a 3-node cluster).
    /// `max_age`: how long a stream keeps a message (zero: until deleted).
    /// `url` may name several servers of a cluster, separated by commas: the
    /// client connects to any that answers and fails over between them.
    pub async fn connect(url: &str, naming: Naming, stream_replicas: usize, max_age: Duration) -> Result<JetStreamBus, BusError> {
        let servers: Vec<&str> = url.split(',').map(str::trim).filter(|server| !server.is_empty()).collect();
        let client = async_nats::ConnectOptions::new()
            .name("claimtrail")
            .retry_on_initial_connect()
            .connection_timeout(Duration::from_secs(5))
            .connect(servers)
            .await
            .map_err(|e| BusError::Connect { url: url.to_owned(), reason: e.to_string() })?;
        // Fail fast when the server is unreachable instead of retrying forever in the background.
        tokio::time::timeout(Duration::from_secs(10), client.flush())
            .await
            .map_err(|_| BusError::Connect { url: url.to_owned(), reason: "no answer from the server within 10 s".into() })?
            .map_err(|e| BusError::Connect { url: url.to_owned(), reason: e.to_string() })?;
        let context = jetstream::ContextBuilder::new().max_ack_inflight(ACKS_IN_FLIGHT_MAX).build(client.clone());
        let bus = JetStreamBus { client, context, naming };
        bus.declare_streams(stream_replicas, max_age).await?;
        Ok(bus)
    }

    async fn declare_streams(&self, stream_replicas: usize, max_age: Duration) -> Result<(), BusError> {
        let mut declarations: Vec<(String, String)> =
            Family::ALL.iter().map(|family| (self.naming.stream(*family), self.naming.family_filter(*family))).collect();
        declarations.push((self.naming.dead_letter_stream(), self.naming.dead_letter_filter()));
        for (name, subject) in declarations {
            let config = stream::Config {
                name: name.clone(),
                subjects: vec![subject],
                storage: stream::StorageType::File,
                retention: stream::RetentionPolicy::Limits,
                duplicate_window: DUPLICATE_WINDOW,
                num_replicas: stream_replicas,
                max_age,
                ..Default::default()
            };
            let stream =
                self.context.get_or_create_stream(config).await.map_err(|e| BusError::Declare { what: format!("stream {name}"), reason: e.to_string() })?;
            // An existing stream keeps its configuration, except the replica count and the maximum age, which follow the settings.
            let existing = &stream.cached_info().config;
            if existing.num_replicas != stream_replicas || existing.max_age != max_age {
                let config = stream::Config { num_replicas: stream_replicas, max_age, ..existing.clone() };
                self.context.update_stream(config).await.map_err(|e| BusError::Declare {
                    what: format!("replicas ({stream_replicas}) and maximum age ({}s) of stream {name}", max_age.as_secs()),
                    reason: e.to_string(),
                })?;
                tracing::info!(stream = %name, replicas = stream_replicas, max_age_seconds = max_age.as_secs(), "changed the stream's replicas or maximum age");
            }
        }
        Ok(())
    }

    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }
}

fn subject_for(naming: &Naming, event: &OutgoingEvent) -> Result<String, BusError> {
    let family = DomainEvent::family_of(&event.event_type).ok_or_else(|| BusError::UnknownEventType(event.event_type.clone()))?;
    Ok(naming.event_subject(family, &event.event_type, event.partition.as_deref()))
}

#[async_trait]
impl Bus for JetStreamBus {
    async fn publish(&self, events: &[OutgoingEvent]) -> Result<(), BusError> {
        let mut pending = Vec::with_capacity(events.len());
        for event in events {
            let subject = subject_for(&self.naming, event)?;
            let mut message = jetstream::message::PublishMessage::build().payload(event.bytes.clone()).message_id(event.event_id.to_string());
            if let Some(traceparent) = &event.traceparent {
                message = message.header("traceparent", traceparent.as_str());
            }
            if let Some(batch) = &event.batch {
                message = message.header(crate::BATCH_HEADER, batch.as_str());
            }
            let ack =
                self.context.send_publish(subject.clone(), message).await.map_err(|e| BusError::Publish { subject: subject.clone(), reason: e.to_string() })?;
            pending.push((subject, ack));
        }
        for (subject, ack) in pending {
            ack.await.map_err(|e| BusError::Publish { subject, reason: e.to_string() })?;
        }
        Ok(())
    }

    async fn subscribe(&self, spec: &ConsumerSpec) -> Result<Box<dyn Subscription>, BusError> {
        let stream_name = self.naming.stream(spec.family);
        let durable = self.naming.durable_of(spec);
        let stream =
            self.context.get_stream(&stream_name).await.map_err(|e| BusError::Declare { what: format!("stream {stream_name}"), reason: e.to_string() })?;
        let config = pull::Config {
            durable_name: Some(durable.clone()),
            filter_subject: self.naming.filter_of(spec),
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            ack_wait: spec.ack_wait,
            max_deliver: -1,
            max_ack_pending: spec.ack_pending_max,
            ..Default::default()
        };
        let consumer = stream
            .get_or_create_consumer(&durable, config)
            .await
            .map_err(|e| BusError::Declare { what: format!("consumer {durable}"), reason: e.to_string() })?;
        let messages = consumer
            .stream()
            .max_messages_per_batch(500)
            .heartbeat(Duration::from_secs(5))
            .expires(Duration::from_secs(30))
            .messages()
            .await
            .map_err(|e| BusError::Declare { what: format!("consumer {durable} message stream"), reason: e.to_string() })?;
        Ok(Box::new(JetStreamSubscription { consumer, messages: Box::pin(messages) }))
    }

    async fn dead_letter(&self, service: &str, delivery: &Delivery, reason: &str) -> Result<(), BusError> {
        let subject = self.naming.dead_letter_subject(service);
        let reason: String = reason.chars().filter(|c| !c.is_control()).take(500).collect();
        let message = jetstream::message::PublishMessage::build()
            .payload(delivery.payload.clone())
            .header("Claimtrail-Original-Subject", delivery.subject.as_str())
            .header("Claimtrail-Stream-Sequence", delivery.stream_sequence.to_string().as_str())
            .header("Claimtrail-Deliveries", delivery.delivered.to_string().as_str())
            .header("Claimtrail-Reason", reason.as_str())
            .message_id(format!("{}:{}:{}", service, delivery.subject, delivery.stream_sequence));
        let ack =
            self.context.send_publish(subject.clone(), message).await.map_err(|e| BusError::Publish { subject: subject.clone(), reason: e.to_string() })?;
        ack.await.map_err(|e| BusError::Publish { subject, reason: e.to_string() })?;
        Ok(())
    }

    fn is_connected(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }

    fn naming(&self) -> &Naming {
        &self.naming
    }
}

type MessageStream = Pin<Box<dyn Stream<Item = Result<jetstream::Message, pull::MessagesError>> + Send>>;

struct JetStreamSubscription {
    consumer: jetstream::consumer::Consumer<pull::Config>,
    messages: MessageStream,
}

#[async_trait]
impl Subscription for JetStreamSubscription {
    async fn fetch(&mut self, max: usize, wait: Duration) -> Result<Vec<Delivery>, BusError> {
        let mut deliveries = Vec::new();
        let first = match tokio::time::timeout(wait, self.messages.next()).await {
            Err(_) => return Ok(deliveries),
            Ok(None) => return Err(BusError::Fetch("the consumer's message stream ended".into())),
            Ok(Some(message)) => message,
        };
        deliveries.push(to_delivery(first)?);
        while deliveries.len() < max {
            match self.messages.next().now_or_never() {
                Some(Some(message)) => deliveries.push(to_delivery(message)?),
                Some(None) => break,
                None => break,
            }
        }
        Ok(deliveries)
    }

    async fn lag(&mut self) -> Option<u64> {
        self.consumer.info().await.ok().map(|info| info.num_pending)
    }

    async fn ack_pending(&mut self) -> Option<u64> {
        self.consumer.info().await.ok().and_then(|info| u64::try_from(info.num_ack_pending).ok())
    }
}

fn to_delivery(message: Result<jetstream::Message, pull::MessagesError>) -> Result<Delivery, BusError> {
    let message = message.map_err(|e| BusError::Fetch(e.to_string()))?;
    let (delivered, stream_sequence) = match message.info() {
        Ok(info) => (u64::try_from(info.delivered).unwrap_or(1), info.stream_sequence),
        Err(e) => return Err(BusError::Fetch(format!("message without JetStream metadata: {e}"))),
    };
    let traceparent = message.headers.as_ref().and_then(|h| h.get("traceparent")).map(|v| v.to_string());
    let batch = message.headers.as_ref().and_then(|h| h.get(crate::BATCH_HEADER)).map(|v| v.to_string());
    Ok(Delivery {
        subject: message.subject.to_string(),
        payload: message.payload.clone(),
        delivered,
        stream_sequence,
        traceparent,
        batch,
        acker: Box::new(JetStreamAcker { message }),
    })
}

struct JetStreamAcker {
    message: jetstream::Message,
}

#[async_trait]
impl Acker for JetStreamAcker {
    async fn ack(&self) -> Result<(), BusError> {
        self.message.ack().await.map_err(|e| BusError::Ack(e.to_string()))
    }

    async fn nak(&self, delay: Duration) -> Result<(), BusError> {
        self.message.ack_with(AckKind::Nak(Some(delay))).await.map_err(|e| BusError::Ack(e.to_string()))
    }

    async fn term(&self) -> Result<(), BusError> {
        self.message.ack_with(AckKind::Term).await.map_err(|e| BusError::Ack(e.to_string()))
    }
}

/// Publishes raw bytes (tests use it to inject duplicates, poison and forged batches).
pub async fn publish_raw(bus: &JetStreamBus, subject: &str, message_id: Option<&str>, payload: Bytes) -> Result<(), BusError> {
    publish_raw_with_batch(bus, subject, message_id, payload, None).await
}

/// [`publish_raw`] with a `Claimtrail-Batch` header.
pub async fn publish_raw_with_batch(bus: &JetStreamBus, subject: &str, message_id: Option<&str>, payload: Bytes, batch: Option<&str>) -> Result<(), BusError> {
    let mut message = jetstream::message::PublishMessage::build().payload(payload);
    if let Some(id) = message_id {
        message = message.message_id(id);
    }
    if let Some(batch) = batch {
        message = message.header(crate::BATCH_HEADER, batch);
    }
    let ack =
        bus.context.send_publish(subject.to_owned(), message).await.map_err(|e| BusError::Publish { subject: subject.to_owned(), reason: e.to_string() })?;
    ack.await.map_err(|e| BusError::Publish { subject: subject.to_owned(), reason: e.to_string() })?;
    Ok(())
}

/// Deletes every stream of a stack (the benchmark cleans up with it).
pub async fn delete_streams(url: &str, naming: &Naming) -> Result<(), BusError> {
    let client = async_nats::connect(url).await.map_err(|e| BusError::Connect { url: url.to_owned(), reason: e.to_string() })?;
    let context = jetstream::new(client);
    let mut names: Vec<String> = Family::ALL.iter().map(|family| naming.stream(*family)).collect();
    names.push(naming.dead_letter_stream());
    for name in names {
        let _ = context.delete_stream(&name).await;
    }
    Ok(())
}
