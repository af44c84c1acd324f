//! The envelope every event travels in, and its canonical bytes.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha3::{Digest, Sha3_256};
use uuid::Uuid;

use crate::EventError;
use crate::canonical::{canonicalize, to_canonical_vec_around};
use crate::event::DomainEvent;
use crate::timestamp::Timestamp;

/// Who produced an event: the service and the id of its signing key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Producer {
    pub service: String,
    pub key_id: String,
}

/// DESIGN.md "Events": the envelope around every payload.
///
/// Its canonical bytes (RFC 8785) are produced once, stored as produced and
/// sent as is; every hash is over those bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// UUIDv7; also the Nats-Msg-Id and the dedupe key everywhere.
    pub event_id: Uuid,
    /// Type with version, e.g. `claim.submitted.v1`.
    pub event_type: String,
    /// The aggregate within the producing service (a claim's decision is not its submission).
    pub aggregate_id: String,
    /// 1-based sequence of this event within its aggregate.
    pub aggregate_seq: u64,
    pub occurred_at: Timestamp,
    pub producer: Producer,
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
    /// W3C trace context (`traceparent` header value).
    pub traceparent: Option<String>,
    /// Hex SHA3-256(salt || canonical payload). The salt stays with the producer,
    /// so the ledger can hold this commitment without holding the payload.
    pub commitment: String,
    /// The pseudonymous partition token of the subscriber's family the event
    /// is about ([`partition_token`]); the bus maps it to a partition, whose
    /// number is in the subject. Absent on events of no family, and on every
    /// event written before partitions existed (so their bytes are unchanged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
    pub payload: serde_json::Value,
}

/// Every field of [`Envelope`] but the payload: what a sealed event keeps
/// beside its canonical bytes (which hold the payload). It serializes under
/// the envelope's names, so that the envelope's bytes are written around it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventHead {
    pub event_id: Uuid,
    pub event_type: String,
    pub aggregate_id: String,
    pub aggregate_seq: u64,
    pub occurred_at: Timestamp,
    pub producer: Producer,
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
    pub traceparent: Option<String>,
    pub commitment: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
}

/// Every field of [`Envelope`] but the payload, by reference, serialized
/// under the same names (so the two canonicalize alike).
#[derive(Serialize)]
struct EnvelopeHead<'a> {
    event_id: Uuid,
    event_type: &'a str,
    aggregate_id: &'a str,
    aggregate_seq: u64,
    occurred_at: &'a Timestamp,
    producer: &'a Producer,
    correlation_id: Uuid,
    causation_id: Option<Uuid>,
    traceparent: Option<&'a str>,
    commitment: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    partition: Option<&'a str>,
}

/// An event to be written, before it has an id and an envelope.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub event: DomainEvent,
    pub aggregate_id: String,
    pub correlation_id: Option<Uuid>,
    pub causation_id: Option<Uuid>,
    pub traceparent: Option<String>,
    /// The producer just created the aggregate (a fresh UUIDv7 claim id, say),
    /// so this is its first event and the outbox need not look up its
    /// sequence. A wrong claim is caught by the outbox's unique
    /// (aggregate, sequence) index, which fails the transaction.
    pub new_aggregate: bool,
    /// The partition token of the subscriber's family (see [`NewEvent::partitioned`]).
    pub partition: Option<String>,
}

impl NewEvent {
    pub fn new(event: impl Into<DomainEvent>, aggregate_id: impl Into<String>) -> NewEvent {
        NewEvent {
            event: event.into(),
            aggregate_id: aggregate_id.into(),
            correlation_id: None,
            causation_id: None,
            traceparent: None,
            new_aggregate: false,
            partition: None,
        }
    }

    /// Puts this event in the partition of one subscriber's family of one
    /// payer, so that the family's events are consumed in order (DESIGN.md
    /// "The claims of one subscriber's family are decided in order"). The
    /// envelope carries the pseudonymous [`partition_token`], never the ids.
    pub fn partitioned(mut self, payer_id: &str, subscriber_id: &str) -> NewEvent {
        self.partition = Some(partition_token(payer_id, subscriber_id));
        self
    }

    /// The first event of an aggregate created with it (see [`NewEvent::new_aggregate`]).
    pub fn of_new_aggregate(mut self) -> NewEvent {
        self.new_aggregate = true;
        self
    }

    /// Marks this event as caused by `cause`, inheriting its correlation id and trace.
    pub fn caused_by(mut self, cause: &Envelope) -> NewEvent {
        self.correlation_id = Some(cause.correlation_id);
        self.causation_id = Some(cause.event_id);
        self.traceparent = cause.traceparent.clone();
        // What a family's event causes stays in the family's partition.
        if self.partition.is_none() {
            self.partition = cause.partition.clone();
        }
        self
    }
}

/// An event's canonical bytes (the whole envelope, payload included), its
/// envelope's other fields, and the salt of its commitment.
#[derive(Debug, Clone)]
pub struct SealedEvent {
    pub head: EventHead,
    pub bytes: Vec<u8>,
    pub salt: [u8; 32],
}

impl SealedEvent {
    /// Builds the envelope's canonical bytes, the payload's written straight
    /// from the event (no JSON tree in between).
    pub fn seal(new: NewEvent, aggregate_seq: u64, producer: Producer, salt: [u8; 32], occurred_at: Timestamp) -> Result<SealedEvent, EventError> {
        let event_id = Uuid::now_v7();
        let payload_bytes = new.event.canonical_payload()?;
        let head = EventHead {
            event_id,
            event_type: new.event.event_type().to_owned(),
            aggregate_id: new.aggregate_id,
            aggregate_seq,
            occurred_at,
            producer,
            correlation_id: new.correlation_id.unwrap_or(event_id),
            causation_id: new.causation_id,
            traceparent: new.traceparent,
            commitment: hex::encode(commitment(&salt, &payload_bytes)),
            partition: new.partition,
        };
        let bytes = to_canonical_vec_around(&head, "payload", &payload_bytes)?;
        Ok(SealedEvent { head, bytes, salt })
    }

    /// The whole envelope, read back from the bytes.
    pub fn envelope(&self) -> Result<Envelope, EventError> {
        Envelope::from_bytes(&self.bytes)
    }
}

impl Envelope {
    /// Parses bytes received from the bus or a store. The bytes must be canonical:
    /// anything else was altered on the way.
    pub fn from_bytes(bytes: &[u8]) -> Result<Envelope, EventError> {
        let envelope: Envelope = serde_json::from_slice(bytes).map_err(|e| EventError::Envelope(e.to_string()))?;
        let canonical = envelope.canonical_bytes_around(&canonicalize(&envelope.payload)?)?;
        if canonical != bytes {
            return Err(EventError::NotCanonical);
        }
        Ok(envelope)
    }

    /// The canonical bytes of this envelope, given its payload's canonical
    /// bytes: the same as `to_canonical_vec(self)`, without copying the
    /// payload into a second JSON tree or writing it twice.
    fn canonical_bytes_around(&self, payload_bytes: &[u8]) -> Result<Vec<u8>, EventError> {
        let head = EnvelopeHead {
            event_id: self.event_id,
            event_type: &self.event_type,
            aggregate_id: &self.aggregate_id,
            aggregate_seq: self.aggregate_seq,
            occurred_at: &self.occurred_at,
            producer: &self.producer,
            correlation_id: self.correlation_id,
            causation_id: self.causation_id,
            traceparent: self.traceparent.as_deref(),
            commitment: &self.commitment,
            partition: self.partition.as_deref(),
        };
        Ok(to_canonical_vec_around(&head, "payload", payload_bytes)?)
    }

    /// The typed payload.
    pub fn domain_event(&self) -> Result<DomainEvent, EventError> {
        DomainEvent::from_payload(&self.event_type, &self.payload)
    }
}

/// Hex digits of a [`partition_token`]: 64 bits, enough that two families
/// share a token with negligible chance (and sharing one only orders them together).
pub const PARTITION_TOKEN_HEX: usize = 16;

/// The pseudonymous partition token of one subscriber's family: the first
/// [`PARTITION_TOKEN_HEX`] hex digits of SHA3-256 over a domain tag, the
/// payer id and the subscriber id (NUL-separated, so no two pairs collide by
/// concatenation). Stable across releases: changing it reorders families.
///
/// Member and subscriber ids are PHI. The token is a pseudonym, not an
/// anonymisation (ids are guessable, so it can be confirmed by hashing a
/// guess): it stays inside the envelope, and the subject carries only the
/// partition number derived from it.
pub fn partition_token(payer_id: &str, subscriber_id: &str) -> String {
    let mut hasher = Sha3_256::new();
    hasher.update(b"claimtrail.partition.v1\0");
    hasher.update(payer_id.as_bytes());
    hasher.update(b"\0");
    hasher.update(subscriber_id.as_bytes());
    let digest: [u8; 32] = hasher.finalize().into();
    hex::encode(&digest[..PARTITION_TOKEN_HEX / 2])
}

/// SHA3-256(salt || canonical payload).
pub fn commitment(salt: &[u8; 32], payload_bytes: &[u8]) -> [u8; 32] {
    let mut hasher = Sha3_256::new();
    hasher.update(salt);
    hasher.update(payload_bytes);
    hasher.finalize().into()
}

/// SHA3-256 of some bytes (of an event's canonical bytes, most often).
pub fn sha3_256(bytes: &[u8]) -> [u8; 32] {
    Sha3_256::digest(bytes).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canonical::to_canonical_vec;
    use crate::event::PayerRegistered;

    fn sealed(name: &str) -> SealedEvent {
        let event = PayerRegistered { payer_id: "60054".into(), name: name.into(), timely_filing_days: 365 };
        let producer = Producer { service: "intake".into(), key_id: "intake-producer+abcd1234".into() };
        SealedEvent::seal(NewEvent::new(event, "payer:60054"), 1, producer, [7; 32], Timestamp::now()).unwrap()
    }

    #[test]
    fn sealed_bytes_are_the_canonical_bytes_of_the_whole_envelope() {
        for name in ["Test Health Plan", "Plan \"Ünïcode\" \\ \u{1}\n", "😀 plan"] {
            let first = sealed(name);
            let first_envelope = first.envelope().unwrap();
            assert_eq!(first.bytes, to_canonical_vec(&first_envelope).unwrap());
            assert_eq!(first.bytes, canonicalize(&serde_json::to_value(&first_envelope).unwrap()).unwrap());
            assert_eq!((first_envelope.event_id, &first_envelope.event_type), (first.head.event_id, &first.head.event_type));
            assert_eq!(first_envelope.payload, serde_json::json!({"name": name, "payer_id": "60054", "timely_filing_days": 365}));
            // With a cause: causation id and traceparent set.
            let mut caused = NewEvent::new(PayerRegistered { payer_id: "1".into(), name: name.into(), timely_filing_days: 1 }, "payer:1");
            caused =
                caused.caused_by(&Envelope { traceparent: Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into()), ..first_envelope.clone() });
            let second = SealedEvent::seal(caused, 2, first.head.producer.clone(), [9; 32], Timestamp::now()).unwrap();
            let second_envelope = second.envelope().unwrap();
            assert!(second_envelope.causation_id.is_some() && second_envelope.traceparent.is_some());
            assert_eq!(second.bytes, to_canonical_vec(&second_envelope).unwrap());
            assert_eq!(second.bytes, canonicalize(&serde_json::to_value(&second_envelope).unwrap()).unwrap());
        }
    }

    #[test]
    fn any_payload_canonicalizes_like_the_whole_envelope() {
        let mut envelope = sealed("x").envelope().unwrap();
        envelope.payload = serde_json::json!({"é": 1, "b": [{"z": "1", "a": null}], "\u{20ac}": "e", "\u{1f600}": true, "A": {}});
        let bytes = to_canonical_vec(&envelope).unwrap();
        assert_eq!(envelope.canonical_bytes_around(&canonicalize(&envelope.payload).unwrap()).unwrap(), bytes);
        assert_eq!(Envelope::from_bytes(&bytes).unwrap(), envelope);
    }

    #[test]
    fn a_partitioned_event_carries_the_token_and_passes_it_to_what_it_causes() {
        let producer = Producer { service: "intake".into(), key_id: "intake-producer+abcd1234".into() };
        let event = || PayerRegistered { payer_id: "60054".into(), name: "Plan".into(), timely_filing_days: 365 };
        let plain = sealed("Plan");
        assert!(!String::from_utf8_lossy(&plain.bytes).contains("partition"), "no member when there is no partition");
        let partitioned =
            SealedEvent::seal(NewEvent::new(event(), "c1").partitioned("60054", "SUB-1"), 1, producer.clone(), [7; 32], Timestamp::now()).unwrap();
        let envelope = partitioned.envelope().unwrap();
        let token = partition_token("60054", "SUB-1");
        assert_eq!(envelope.partition.as_deref(), Some(token.as_str()));
        assert_eq!(token.len(), PARTITION_TOKEN_HEX);
        assert!(!String::from_utf8_lossy(&partitioned.bytes).contains("SUB-1"), "the envelope holds the token, not the id");
        assert_eq!(partitioned.bytes, to_canonical_vec(&envelope).unwrap());
        let caused = NewEvent::new(event(), "c1").caused_by(&envelope);
        assert_eq!(caused.partition, envelope.partition);
    }

    /// The token is part of the stored order of every family; it must never change.
    #[test]
    fn the_partition_token_is_pinned() {
        // python3 -c "import hashlib; print(hashlib.sha3_256(b'claimtrail.partition.v1\x0060054\x00MBR-0001').hexdigest()[:16])"
        assert_eq!(partition_token("60054", "MBR-0001"), "cdb321420dc43c2f");
    }

    #[test]
    fn altered_bytes_are_refused() {
        let bytes = String::from_utf8(sealed("Test Health Plan").bytes).unwrap();
        let variants = [
            bytes.replacen(":", ": ", 1),
            format!("{bytes}\n"),
            bytes.replacen("\"aggregate_id\"", "\"zz\":1,\"aggregate_id\"", 1),
            bytes.replacen("Test Health Plan", "Test Health Plan\\u0021", 1),
        ];
        for variant in variants {
            assert!(Envelope::from_bytes(variant.as_bytes()).is_err(), "{variant}");
        }
    }
}
