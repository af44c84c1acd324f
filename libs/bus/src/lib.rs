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

/// Partitions of a partitioned family when the settings name none.
pub const PARTITIONS_DEFAULT: u32 = 4;

/// The most partitions a stack may have: each is one durable consumer (and
/// one task) per service that consumes by partition.
pub const PARTITIONS_MAX: u32 = 256;

/// Names under one stack prefix, so that two stacks (or two tests) can share
/// one NATS server. With prefix `t1`: stream `T1_CLAIMS`, subjects
/// `t1.claims.<event type>`, durable `t1_<service>_claims`. With an empty
/// prefix the names are the plain `CLAIMS`, `claims.>` of DESIGN.md.
///
/// # Partitions
/// The claims family is partitioned by subscriber family (DESIGN.md "The
/// claims of one subscriber's family are decided in order"): its subjects
/// carry the partition number as their first token after the family,
/// `claims.p<n>.<event type>`, so that one consumer filters one partition
/// with `claims.p<n>.>` while another still reads the whole family with
/// `claims.>`. The partition is the event's partition token (a pseudonym of
/// payer and subscriber id, carried in the envelope) modulo the partition
/// count; the subject never holds the ids nor the token, because subjects
/// show in NATS monitoring, logs and dead-letter headers. An event of the
/// family without a token goes to partition 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Naming {
    prefix: String,
    partitions: u32,
}

impl Naming {
    /// Names with [`PARTITIONS_DEFAULT`] partitions.
    pub fn new(prefix: &str) -> Naming {
        Naming { prefix: prefix.to_owned(), partitions: PARTITIONS_DEFAULT }
    }

    /// The same names with `partitions` partitions, clamped to 1..=[`PARTITIONS_MAX`]
    /// (the settings refuse anything else before it comes here).
    pub fn with_partitions(mut self, partitions: u32) -> Naming {
        self.partitions = partitions.clamp(1, PARTITIONS_MAX);
        self
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// How many partitions a partitioned family has.
    pub fn partitions(&self) -> u32 {
        self.partitions
    }

    /// Whether `family`'s subjects carry a partition: the claims, which
    /// adjudication decides in order per subscriber family.
    pub fn is_partitioned(family: Family) -> bool {
        family == Family::Claims
    }

    /// The partition of a partition token: its first 64 bits modulo the
    /// count. Stable for a given count; a token that is not hex (or none)
    /// is partition 0.
    pub fn partition_of(&self, token: Option<&str>) -> u32 {
        let Some(bits) = token.and_then(|t| t.get(..claimtrail_events::PARTITION_TOKEN_HEX)).and_then(|hex| u64::from_str_radix(hex, 16).ok()) else {
            return 0;
        };
        // The remainder is below the count, a u32.
        u32::try_from(bits % u64::from(self.partitions)).unwrap_or(0)
    }

    fn subject_root(&self) -> String {
        if self.prefix.is_empty() { String::new() } else { format!("{}.", self.prefix) }
    }

    /// `claims.claim.submitted.v1`: the subject without a partition (events
    /// of unpartitioned families; tests that publish by hand).
    pub fn subject(&self, family: Family, event_type: &str) -> String {
        format!("{}{}.{}", self.subject_root(), family.as_str(), event_type)
    }

    /// The subject an event is published to: `claims.p3.claim.submitted.v1`
    /// for a partitioned family (the partition of `token`), otherwise
    /// [`Naming::subject`].
    pub fn event_subject(&self, family: Family, event_type: &str, token: Option<&str>) -> String {
        if Naming::is_partitioned(family) {
            format!("{}{}.p{}.{}", self.subject_root(), family.as_str(), self.partition_of(token), event_type)
        } else {
            self.subject(family, event_type)
        }
    }

    /// `claims.>`
    pub fn family_filter(&self, family: Family) -> String {
        format!("{}{}.>", self.subject_root(), family.as_str())
    }

    /// `claims.p3.>`: one partition of a family.
    pub fn partition_filter(&self, family: Family, partition: u32) -> String {
        format!("{}{}.p{partition}.>", self.subject_root(), family.as_str())
    }

    /// The event type in a subject of `family`, with or without a partition
    /// token; None when the subject is not the family's.
    pub fn event_type_in<'s>(&self, family: Family, subject: &'s str) -> Option<&'s str> {
        let rest = subject.strip_prefix(self.subject_root().as_str())?.strip_prefix(family.as_str())?.strip_prefix('.')?;
        match rest.split_once('.') {
            Some((token, event_type)) if is_partition_token(token) => Some(event_type),
            _ => Some(rest),
        }
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

    /// The durable of a consumer of `spec`: `<service>_claims_p3` for one
    /// partition, [`Naming::durable`] for the whole family.
    pub fn durable_of(&self, spec: &ConsumerSpec) -> String {
        match spec.partition {
            Some(partition) => format!("{}_p{partition}", self.durable(&spec.service, spec.family)),
            None => self.durable(&spec.service, spec.family),
        }
    }

    /// The filter of a consumer of `spec`: its partition, or the whole family.
    pub fn filter_of(&self, spec: &ConsumerSpec) -> String {
        match spec.partition {
            Some(partition) => self.partition_filter(spec.family, partition),
            None => self.family_filter(spec.family),
        }
    }
}

/// `p` and decimal digits: the partition token of a subject (no event type starts so).
fn is_partition_token(token: &str) -> bool {
    token.strip_prefix('p').is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
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
    /// The envelope's partition token, which picks the subject's partition.
    pub partition: Option<String>,
}

/// What a relay or the embedded log reads of an envelope's bytes to route
/// it, without the rest of the body: its trace context and partition token.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct EnvelopeRouting {
    pub traceparent: Option<String>,
    pub partition: Option<String>,
}

impl EnvelopeRouting {
    /// The routing fields of `body`; none when it is not an envelope.
    pub fn of(body: &[u8]) -> EnvelopeRouting {
        serde_json::from_slice(body).unwrap_or_default()
    }
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
    /// One partition of a partitioned family (its own durable and filter),
    /// or None for the whole family.
    pub partition: Option<u32>,
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

    /// Messages delivered to this consumer (by any process bound to it) and
    /// not yet acknowledged, when known.
    async fn ack_pending(&mut self) -> Option<u64> {
        None
    }
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

    fn spec(partition: Option<u32>) -> ConsumerSpec {
        ConsumerSpec {
            service: "adjudication".into(),
            family: Family::Claims,
            event_types: vec!["claim.submitted.v1".into()],
            ack_wait: Duration::from_secs(30),
            ack_pending_max: 8,
            partition,
        }
    }

    #[test]
    fn a_claim_event_is_published_to_its_partition_and_a_partition_consumer_filters_it() {
        let naming = Naming::new("t1").with_partitions(4);
        let token = claimtrail_events::partition_token("60054", "SUB-1");
        let partition = naming.partition_of(Some(&token));
        let subject = naming.event_subject(Family::Claims, "claim.submitted.v1", Some(&token));
        assert_eq!(subject, format!("t1.claims.p{partition}.claim.submitted.v1"));
        assert_eq!(naming.filter_of(&spec(Some(partition))), format!("t1.claims.p{partition}.>"));
        assert_eq!(naming.durable_of(&spec(Some(partition))), format!("t1_adjudication_claims_p{partition}"));
        assert_eq!(naming.filter_of(&spec(None)), "t1.claims.>");
        assert_eq!(naming.durable_of(&spec(None)), "t1_adjudication_claims");
        assert!(!subject.contains("SUB-1") && !subject.contains(&token), "the subject holds neither the id nor the token: {subject}");
    }

    #[test]
    fn unpartitioned_families_and_events_without_a_token_keep_their_place() {
        let naming = Naming::new("");
        assert_eq!(naming.event_subject(Family::Claims, "claims.erased.v1", None), "claims.p0.claims.erased.v1");
        assert_eq!(naming.event_subject(Family::Claims, "claim.submitted.v1", Some("not hex at all!!")), "claims.p0.claim.submitted.v1");
        assert_eq!(naming.event_subject(Family::Settlement, "payable.booked.v1", Some("00000000000000ff")), "settlement.payable.booked.v1");
    }

    #[test]
    fn the_event_type_is_read_back_from_a_subject_with_or_without_a_partition() {
        let naming = Naming::new("t1");
        assert_eq!(naming.event_type_in(Family::Claims, "t1.claims.p12.claim.submitted.v1"), Some("claim.submitted.v1"));
        assert_eq!(naming.event_type_in(Family::Claims, "t1.claims.claim.submitted.v1"), Some("claim.submitted.v1"));
        assert_eq!(naming.event_type_in(Family::Claims, "t1.claims.payable.booked.v1"), Some("payable.booked.v1"));
        assert_eq!(naming.event_type_in(Family::Claims, "t2.claims.claim.submitted.v1"), None);
        assert_eq!(naming.event_type_in(Family::Settlement, "t1.claims.p1.claim.submitted.v1"), None);
    }

    /// The mapping is part of the stored order: a token's partition for a
    /// count must never change between releases.
    #[test]
    fn the_mapping_from_token_to_partition_is_stable_and_spreads_families() {
        let naming = Naming::new("").with_partitions(4);
        assert_eq!(naming.partition_of(Some("0000000000000007")), 3);
        assert_eq!(naming.partition_of(Some("ffffffffffffffff")), 3);
        assert_eq!(naming.partition_of(Some("000000000000000800")), 0, "only the first 16 hex digits count");
        assert_eq!(claimtrail_events::partition_token("60054", "SUB-1"), claimtrail_events::partition_token("60054", "SUB-1"));
        assert_ne!(claimtrail_events::partition_token("60054", "SUB-1"), claimtrail_events::partition_token("60055", "SUB-1"));
        assert_ne!(claimtrail_events::partition_token("6005", "4SUB-1"), claimtrail_events::partition_token("60054", "SUB-1"));
        let mut counts = [0u32; 4];
        for n in 0..4_000 {
            let token = claimtrail_events::partition_token("60054", &format!("SUB-{n}"));
            counts[naming.partition_of(Some(&token)) as usize] += 1;
        }
        assert!(counts.iter().all(|&c| (800..=1_200).contains(&c)), "families spread over the partitions: {counts:?}");
        assert_eq!(Naming::new("").with_partitions(0).partitions(), 1);
        assert_eq!(Naming::new("").with_partitions(100_000).partitions(), PARTITIONS_MAX);
    }
}
