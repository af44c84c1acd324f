//! Settlement's consumer: `claim.adjudicated.v1` and `claim.reversed.v1` in;
//! each booked ([`domain::decide`]) and stored ([`storage::insert_entry`]) in
//! the batch's transaction, `payable.booked.v1` out.

use async_trait::async_trait;
use claimtrail_events::{ClaimAdjudicated, ClaimReversed, ClaimsErased, DomainEvent, Envelope, Family, NewEvent, PayableBooked};
use claimtrail_runtime::{EventHandler, HandlerError};
use claimtrail_store::Store;
use sea_orm::DatabaseTransaction;
use uuid::Uuid;

use crate::domain::{self, Command, Event, Facts};
use crate::storage;

/// The event handler of settlement.
pub struct Booker {
    store: Store,
}

impl Booker {
    pub fn new(store: Store) -> Booker {
        Booker { store }
    }
}

#[async_trait]
impl EventHandler for Booker {
    fn families(&self) -> Vec<Family> {
        vec![Family::Claims]
    }

    fn event_types(&self) -> Option<&'static [&'static str]> {
        Some(&[ClaimAdjudicated::EVENT_TYPE, ClaimReversed::EVENT_TYPE, ClaimsErased::EVENT_TYPE])
    }

    async fn handle(&self, tx: &DatabaseTransaction, envelope: &Envelope) -> Result<Vec<NewEvent>, HandlerError> {
        if claimtrail_runtime::erasure::apply(&self.store, tx, envelope).await? {
            return Ok(vec![]);
        }
        let command = match envelope.domain_event().map_err(|e| HandlerError::Invalid(e.to_string()))? {
            DomainEvent::ClaimAdjudicated(decision) => Command::BookDecision(decision),
            DomainEvent::ClaimReversed(reversal) => Command::BookReversal(reversal),
            _ => return Ok(vec![]),
        };
        let events = domain::decide(&Facts { entry_id: Uuid::now_v7() }, &command).map_err(|rejection| HandlerError::Invalid(rejection.to_string()))?;
        let mut outgoing = Vec::with_capacity(events.len());
        for Event::Booked(entry) in events {
            storage::insert_entry(&self.store, tx, &entry).await?;
            let booked = PayableBooked {
                claim_id: entry.claim_id,
                journal_entry_id: entry.entry_id,
                payer_id: entry.payer_id,
                billing_npi: entry.billing_npi,
                amount: entry.amount,
                lines: entry.lines,
            };
            let aggregate = booked.claim_id.to_string();
            outgoing.push(NewEvent::new(booked, aggregate).caused_by(envelope));
        }
        Ok(outgoing)
    }
}
