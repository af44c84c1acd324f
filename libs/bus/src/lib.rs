//! The event bus. [`Bus`] is the interface every service uses; the
//! JetStream implementation ([`jetstream::JetStreamBus`]) is the production
//! one, and the embedded log of `claimtrail up` implements the same trait.
//!
//! Architecture invariant: this is the only crate that knows NATS, its
//! subjects, headers and acknowledgement policy.
//!
//! # Layout
//! - [`Naming`]: stream, subject and consumer names under the stack prefix.
//! - [`Bus`], [`Subscription`], [`Delivery`]: publish with acknowledgement,
//!   durable pull consumers, ack / nak / term, dead letters.
//! - [`jetstream`]: async-nats JetStream.
//! - [`embedded`]: the embedded log of `claimtrail up` over SQLite (the outboxes are the log).

pub mod embedded;
pub mod jetstream;

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use claimtrail_events::Family;
use uuid::Uuid;

/// The header that carries an event's producer batch proof.
pub const BATCH_HEADER: &str = "Claimtrail-Batch";

/// Why a bus operation failed.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("cannot connect to the bus at {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("declaring {what} failed: {reason}")]
    Declare { what: String, reason: String },
    #[error("publishing to {subject} failed: {reason}")]
    Publish { subject: String, reason: String },
    #[error("fetching messages failed: {0}")]
    Fetch(String),
    #[error("acknowledging a message failed: {0}")]
    Ack(String),
    #[error("unknown event type `{0}`: no stream carries it")]
    UnknownEventType(String),
}

/// Names under one stack prefix, so that two stacks (or two tests) can share
/// one NATS server. With prefix `t1`: stream `T1_CLAIMS`, subjects
/// `t1.claims.<event type>`, durable `t1_<service>_claims`. With an empty
/// prefix the names are the plain `CLAIMS`, `claims.>` of DESIGN.md.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Naming {
    prefix: String,
}

impl Naming {
    pub fn new(prefix: &str) -> Naming {
        Naming { prefix: prefix.to_owned() }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn subject_root(&self) -> String {
        if self.prefix.is_empty() { String::new() } else { format!("{}.", self.prefix) }
    }

    /// `claims.claim.submitted.v1`
    pub fn subject(&self, family: Family, event_type: &str) -> String {
        format!("{}{}.{}", self.subject_root(), family.as_str(), event_type)
    }

    /// `claims.>`
    pub fn family_filter(&self, family: Family) -> String {
        format!("{}{}.>", self.subject_root(), family.as_str())
    }

    /// Dead letters of one service: outside every consumer's filter.
    pub fn dead_letter_subject(&self, service: &str) -> String {
        format!("{}deadletter.{service}", self.subject_root())
    }

    pub fn dead_letter_filter(&self) -> String {
        format!("{}deadletter.>", self.subject_root())
    }

    pub fn stream(&self, family: Family) -> String {
        self.stream_named(family.as_str())
    }

    pub fn dead_letter_stream(&self) -> String {
        self.stream_named("deadletter")
    }

    fn stream_named(&self, name: &str) -> String {
        if self.prefix.is_empty() { name.to_ascii_uppercase() } else { format!("{}_{}", self.prefix, name).to_ascii_uppercase() }
    }

    pub fn durable(&self, service: &str, family: Family) -> String {
        if self.prefix.is_empty() { format!("{service}_{}", family.as_str()) } else { format!("{}_{service}_{}", self.prefix, family.as_str()) }
    }
}

/// An event ready to publish: its canonical bytes and its id (the dedupe key).
#[derive(Debug, Clone)]
pub struct OutgoingEvent {
    pub event_id: Uuid,
    pub event_type: String,
    pub bytes: Bytes,
    /// W3C trace context, carried as the `traceparent` header.
    pub traceparent: Option<String>,
    /// The producer's batch proof (compact JSON), carried beside the event
    /// as the `Claimtrail-Batch` header, never inside its bytes.
    pub batch: Option<String>,
}

/// What one consumer reads.
#[derive(Debug, Clone)]
pub struct ConsumerSpec {
    pub service: String,
    pub family: Family,
    /// The family's event types the consumer acts on. A bus may skip the
    /// others (the embedded log does); the consumer acknowledges any that come.
    pub event_types: Vec<String>,
    /// How long the server waits for an ack before redelivering.
    pub ack_wait: Duration,
    /// Messages delivered but not yet acknowledged, at most.
    pub ack_pending_max: i64,
}

/// The bus: publish with acknowledgement, durable consumers, dead letters.
#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Publishes every event and returns once the bus acknowledged all of
    /// them (pipelined), or fails naming the first that was not.
    async fn publish(&self, events: &[OutgoingEvent]) -> Result<(), BusError>;

    /// Opens (declaring if needed) the durable consumer of `spec`.
    async fn subscribe(&self, spec: &ConsumerSpec) -> Result<Box<dyn Subscription>, BusError>;

    /// Publishes a poison message to the service's dead-letter subject,
    /// with the reason and origin as headers.
    async fn dead_letter(&self, service: &str, delivery: &Delivery, reason: &str) -> Result<(), BusError>;

    /// Whether the bus connection is up (for /readyz).
    fn is_connected(&self) -> bool;

    /// Whether outboxes must be relayed to this bus. The embedded log reads
    /// the outboxes themselves, so it needs no relay.
    fn needs_relay(&self) -> bool {
        true
    }

    fn naming(&self) -> &Naming;
}

/// A durable consumer's message source.
#[async_trait]
pub trait Subscription: Send {
    /// Waits up to `wait` for messages and returns at most `max` of them
    /// (possibly none).
    async fn fetch(&mut self, max: usize, wait: Duration) -> Result<Vec<Delivery>, BusError>;

    /// Messages the server holds for this consumer and has not delivered
    /// (consumer lag), when known.
    async fn lag(&mut self) -> Option<u64>;
}

/// How a delivery is settled.
#[async_trait]
pub trait Acker: Send + Sync {
    async fn ack(&self) -> Result<(), BusError>;
    async fn nak(&self, delay: Duration) -> Result<(), BusError>;
    async fn term(&self) -> Result<(), BusError>;
}

/// One delivered message.
pub struct Delivery {
    pub subject: String,
    pub payload: Bytes,
    /// 1 on first delivery.
    pub delivered: u64,
    pub stream_sequence: u64,
    pub traceparent: Option<String>,
    /// The producer's batch proof that came beside the event, if any.
    pub batch: Option<String>,
    pub acker: Box<dyn Acker>,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("subject", &self.subject)
            .field("delivered", &self.delivered)
            .field("stream_sequence", &self.stream_sequence)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_without_a_prefix_are_the_plain_names_of_the_design() {
        let naming = Naming::new("");
        assert_eq!(naming.subject(Family::Claims, "claim.submitted.v1"), "claims.claim.submitted.v1");
        assert_eq!(naming.family_filter(Family::Claims), "claims.>");
        assert_eq!(naming.stream(Family::Claims), "CLAIMS");
        assert_eq!(naming.durable("intake", Family::Settlement), "intake_settlement");
    }

    #[test]
    fn a_prefix_separates_two_stacks_on_one_server() {
        let naming = Naming::new("t1");
        assert_eq!(naming.subject(Family::Ledger, "checkpoint.signed.v1"), "t1.ledger.checkpoint.signed.v1");
        assert_eq!(naming.stream(Family::Reference), "T1_REFERENCE");
        assert_eq!(naming.dead_letter_subject("anchor"), "t1.deadletter.anchor");
        assert_eq!(naming.durable("anchor", Family::Claims), "t1_anchor_claims");
    }
}
