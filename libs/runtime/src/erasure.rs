//! `claims.erased.v1` in the services that did not take the request.

use claimtrail_events::{ClaimsErased, DomainEvent, Envelope};
use claimtrail_store::{Store, outbox};
use sea_orm::DatabaseTransaction;

use crate::HandlerError;

/// If `envelope` is `claims.erased.v1`, deletes the commitment salts (and on
/// Postgres the published bodies) of this service's events about those
/// claims, and returns true; false for any other event.
pub async fn apply(store: &Store, tx: &DatabaseTransaction, envelope: &Envelope) -> Result<bool, HandlerError> {
    if envelope.event_type != ClaimsErased::EVENT_TYPE {
        return Ok(false);
    }
    let DomainEvent::ClaimsErased(erasure) = envelope.domain_event().map_err(|e| HandlerError::Invalid(e.to_string()))? else {
        return Ok(false);
    };
    let aggregates: Vec<String> = erasure.claim_ids.iter().map(uuid::Uuid::to_string).collect();
    let erased = outbox::erase(store, tx, &aggregates, erasure.erasure_id).await?;
    tracing::info!(erasure_id = %erasure.erasure_id, claims = aggregates.len(), salts_deleted = erased.salts_deleted, bodies_redacted = erased.bodies_redacted,
        "erased this service's events of the claims");
    Ok(true)
}
