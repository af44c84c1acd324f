//! Adjudication's consumer: `claim.submitted.v1` in; for each claim, load
//! the facts ([`storage`]), decide ([`domain::decide`]) and persist the
//! decision with the events it causes, in the batch's transaction.

use std::collections::HashMap;

use async_trait::async_trait;
use claimtrail_events::{ClaimSubmitted, ClaimsErased, DomainEvent, Envelope, Family, Frequency, NewEvent, SubmittedClaim};
use claimtrail_runtime::{EventHandler, HandlerError};
use claimtrail_store::Store;
use sea_orm::DatabaseTransaction;
use tracing::Instrument as _;

use crate::domain::{self, Command, DecisionState, Event, Facts, FeeSchedule};
use crate::storage;

/// The event handler of adjudication.
pub struct Adjudicator {
    store: Store,
}

impl Adjudicator {
    pub fn new(store: Store) -> Adjudicator {
        Adjudicator { store }
    }
}

#[async_trait]
impl EventHandler for Adjudicator {
    fn families(&self) -> Vec<Family> {
        vec![Family::Claims]
    }

    fn event_types(&self) -> Option<&'static [&'static str]> {
        Some(&[ClaimSubmitted::EVENT_TYPE, ClaimsErased::EVENT_TYPE])
    }

    /// The claims of one subscriber's family are decided in order: one consumer per partition.
    fn partitioned(&self) -> bool {
        true
    }

    async fn handle(&self, tx: &DatabaseTransaction, envelope: &Envelope) -> Result<Vec<NewEvent>, HandlerError> {
        self.handle_with(tx, envelope, &mut HashMap::new()).await
    }

    /// Each event as [`EventHandler::handle`] does, with each payer's fee
    /// schedule read once for the whole batch (its transaction).
    async fn handle_batch(&self, tx: &DatabaseTransaction, events: &[&Envelope]) -> Result<Vec<NewEvent>, HandlerError> {
        let mut schedules = HashMap::new();
        let mut outgoing = Vec::new();
        for envelope in events {
            let span = claimtrail_runtime::event_span(envelope);
            let caused = self.handle_with(tx, envelope, &mut schedules).instrument(span.clone()).await?;
            outgoing.extend(claimtrail_runtime::consumer::continue_trace(caused, envelope, &span));
        }
        Ok(outgoing)
    }
}

/// The fee schedules read in one batch, by payer.
type Schedules = HashMap<String, FeeSchedule>;

impl Adjudicator {
    async fn handle_with(&self, tx: &DatabaseTransaction, envelope: &Envelope, schedules: &mut Schedules) -> Result<Vec<NewEvent>, HandlerError> {
        if claimtrail_runtime::erasure::apply(&self.store, tx, envelope).await? {
            return Ok(vec![]);
        }
        match envelope.domain_event().map_err(|e| HandlerError::Invalid(e.to_string()))? {
            DomainEvent::ClaimSubmitted(submitted) => self.adjudicate(tx, envelope, submitted.claim, schedules).await,
            _ => Ok(vec![]),
        }
    }

    async fn adjudicate(
        &self,
        tx: &DatabaseTransaction,
        envelope: &Envelope,
        claim: SubmittedClaim,
        schedules: &mut Schedules,
    ) -> Result<Vec<NewEvent>, HandlerError> {
        let store = &self.store;
        if !schedules.contains_key(&claim.payer_id) {
            schedules.insert(claim.payer_id.clone(), storage::pricing_schedule(store, tx, &claim.payer_id).await?);
        }
        let command = Command::Adjudicate(claim);
        let Command::Adjudicate(claim) = &command;
        // Decided at most twice: a replacement that loses the race to reverse its original (another
        // replacement reversed it meanwhile) is decided again against what the winner left.
        for _ in 0..2 {
            let original = match domain::related_claim(claim) {
                Some(original_id) if claim.frequency != Frequency::Original => storage::decision_state(store, tx, original_id).await?,
                _ => DecisionState::Undecided,
            };
            let facts = Facts { schedule: &schedules[&claim.payer_id], original };
            let events = domain::decide(&facts, &command).map_err(|rejection| {
                if rejection.is_retryable() {
                    HandlerError::Unexpected(anyhow::anyhow!("{rejection}; retrying"))
                } else {
                    HandlerError::Invalid(rejection.to_string())
                }
            })?;
            if let Some(outgoing) = self.persist(tx, envelope, events).await? {
                return Ok(outgoing);
            }
        }
        Err(HandlerError::Unexpected(anyhow::anyhow!("claim {} could not reverse its original twice in a row; retrying", claim.claim_id)))
    }

    /// Stores the decided events and returns them to publish; `None` when a
    /// reversal lost the race for its original (the caller decides again).
    async fn persist(&self, tx: &DatabaseTransaction, envelope: &Envelope, events: Vec<Event>) -> Result<Option<Vec<NewEvent>>, HandlerError> {
        let store = &self.store;
        let mut outgoing = Vec::with_capacity(events.len());
        for event in events {
            match event {
                Event::Reversed(reversal) => {
                    // Conditional: of two concurrent replacements only one reverses.
                    if !storage::mark_reversed(store, tx, reversal.claim_id, reversal.by_claim_id).await? {
                        return Ok(None);
                    }
                    let aggregate = reversal.claim_id.to_string();
                    outgoing.push(NewEvent::new(reversal, aggregate).caused_by(envelope));
                }
                Event::Adjudicated(decision) => {
                    storage::insert_decision(store, tx, &decision).await?;
                    let aggregate = decision.claim_id.to_string();
                    outgoing.push(NewEvent::new(decision, aggregate).caused_by(envelope));
                }
            }
        }
        Ok(Some(outgoing))
    }
}
