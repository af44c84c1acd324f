//! The envelope every event travels in, and its canonical bytes.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha3::{Digest, Sha3_256};
use uuid::Uuid;

use crate::EventError;
use crate::canonical::{canonicalize, to_canonical_vec};
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
    pub payload: serde_json::Value,
}

/// An event to be written, before it has an id and an envelope.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub event: DomainEvent,
    pub aggregate_id: String,
    pub correlation_id: Option<Uuid>,
    pub causation_id: Option<Uuid>,
    pub traceparent: Option<String>,
}

impl NewEvent {
    pub fn new(event: impl Into<DomainEvent>, aggregate_id: impl Into<String>) -> NewEvent {
        NewEvent { event: event.into(), aggregate_id: aggregate_id.into(), correlation_id: None, causation_id: None, traceparent: None }
    }

    /// Marks this event as caused by `cause`, inheriting its correlation id and trace.
    pub fn caused_by(mut self, cause: &Envelope) -> NewEvent {
        self.correlation_id = Some(cause.correlation_id);
        self.causation_id = Some(cause.event_id);
        self.traceparent = cause.traceparent.clone();
        self
    }
}

/// An envelope with its canonical bytes and the salt of its commitment.
#[derive(Debug, Clone)]
pub struct SealedEvent {
    pub envelope: Envelope,
    pub bytes: Vec<u8>,
    pub salt: [u8; 32],
}

impl SealedEvent {
    /// Builds the envelope and its canonical bytes.
    pub fn seal(new: NewEvent, aggregate_seq: u64, producer: Producer, salt: [u8; 32], occurred_at: Timestamp) -> Result<SealedEvent, EventError> {
        let event_id = Uuid::now_v7();
        let payload = new.event.to_payload();
        let payload_bytes = canonicalize(&payload)?;
        let envelope = Envelope {
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
            payload,
        };
        let bytes = to_canonical_vec(&envelope)?;
        Ok(SealedEvent { envelope, bytes, salt })
    }
}

impl Envelope {
    /// Parses bytes received from the bus or a store. The bytes must be canonical:
    /// anything else was altered on the way.
    pub fn from_bytes(bytes: &[u8]) -> Result<Envelope, EventError> {
        let envelope: Envelope = serde_json::from_slice(bytes).map_err(|e| EventError::Envelope(e.to_string()))?;
        let canonical = to_canonical_vec(&envelope)?;
        if canonical != bytes {
            return Err(EventError::NotCanonical);
        }
        Ok(envelope)
    }

    /// The typed payload.
    pub fn domain_event(&self) -> Result<DomainEvent, EventError> {
        DomainEvent::from_payload(&self.event_type, &self.payload)
    }
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
