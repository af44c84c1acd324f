//! The claim-status projection: intake consumes adjudication's and
//! settlement's events about the claims it received, and keeps per claim
//! its current status and its whole history. For each batch it loads the
//! status of the claims the events name, decides each event with
//! [`domain::decide`] (applying it, so that the next event of the batch sees
//! it), and writes the status changes, the history and the accumulator
//! positions in one statement each at the batch's end.
//! It also writes claim reads through other services (`claims.accessed.v1`)
//! to the access log, as intake's own API reads are.

use std::collections::HashMap;

use async_trait::async_trait;
use claimtrail_events::{
    AccumulatorBalance, AccumulatorsChanged, AchEntryReturned, ClaimAdjudicated, ClaimAppealDecided, ClaimAppealed, ClaimPended, ClaimReversed, ClaimStatus,
    ClaimsAccessed, DomainEvent, Envelope, Family, NewEvent, PayableBooked, RemittanceIssued,
};
use claimtrail_runtime::{EventHandler, HandlerError};
use claimtrail_store::Store;
use sea_orm::DatabaseTransaction;
use tracing::Instrument as _;
use uuid::Uuid;

use crate::domain::{self, Command, Event};
use crate::storage::claims::{self, HistoryEntry, HistoryRows, StatusUpdates};
use crate::storage::versions;

/// Keeps the status of the claims this intake received.
pub struct StatusProjection {
    store: Store,
}

impl StatusProjection {
    pub fn new(store: Store) -> StatusProjection {
        StatusProjection { store }
    }
}

/// The command an event asks of the projection, if it is one the projection reads.
fn command_of(envelope: &Envelope) -> Result<Option<Command>, HandlerError> {
    Ok(match envelope.domain_event().map_err(|e| HandlerError::Invalid(e.to_string()))? {
        DomainEvent::ClaimAdjudicated(decision) => Some(Command::Adjudicate(decision)),
        DomainEvent::ClaimPended(pended) => Some(Command::Pend(pended)),
        DomainEvent::ClaimReversed(reversed) => Some(Command::Reverse(reversed)),
        DomainEvent::PayableBooked(booked) => Some(Command::Book(booked)),
        DomainEvent::ClaimAppealed(appealed) => Some(Command::Appeal(appealed)),
        DomainEvent::ClaimAppealDecided(decided) => Some(Command::DecideAppeal(decided)),
        _ => None,
    })
}

#[async_trait]
impl EventHandler for StatusProjection {
    fn families(&self) -> Vec<claimtrail_events::Family> {
        vec![Family::Claims, Family::Settlement]
    }

    fn event_types(&self) -> Option<&'static [&'static str]> {
        Some(&[
            ClaimAdjudicated::EVENT_TYPE,
            ClaimPended::EVENT_TYPE,
            ClaimReversed::EVENT_TYPE,
            PayableBooked::EVENT_TYPE,
            ClaimAppealed::EVENT_TYPE,
            ClaimAppealDecided::EVENT_TYPE,
            AccumulatorsChanged::EVENT_TYPE,
            RemittanceIssued::EVENT_TYPE,
            AchEntryReturned::EVENT_TYPE,
            ClaimsAccessed::EVENT_TYPE,
        ])
    }

    async fn handle(&self, tx: &DatabaseTransaction, envelope: &Envelope) -> Result<Vec<NewEvent>, HandlerError> {
        self.handle_batch(tx, &[envelope]).await
    }

    /// The batch's claims rows updated event by event, its history rows in one statement.
    async fn handle_batch(&self, tx: &DatabaseTransaction, events: &[&Envelope]) -> Result<Vec<NewEvent>, HandlerError> {
        let mut commands = Vec::with_capacity(events.len());
        let mut positions = Vec::new();
        for envelope in events {
            // Settlement's payments: what the ClaimResponse and the EOB show (domain/payments.rs).
            match envelope.domain_event() {
                Ok(DomainEvent::RemittanceIssued(issued)) => {
                    for paid in domain::payments::paid_claims(&issued) {
                        crate::storage::payments::record(&self.store, tx, &paid).await?;
                    }
                    continue;
                }
                Ok(DomainEvent::AchEntryReturned(returned)) => {
                    crate::storage::payments::unpay_remittance(&self.store, tx, returned.remittance_id).await?;
                    continue;
                }
                // Claims read through another service's API (adjudication's explanation, pended queue, replay): the access log.
                Ok(DomainEvent::ClaimsAccessed(read)) => {
                    claims::record_access(&self.store, tx, &read.reader_tenant, &read.reader_key_id, &read.claim_ids, &read.view).await?;
                    continue;
                }
                // The member's position after a claim's cost sharing: what its status and EOB show.
                // Recorded once the batch's claims are projected: a correction version's position is its claim's.
                Ok(DomainEvent::AccumulatorsChanged(changed)) => {
                    if let Some(claim_id) = changed.claim_id.filter(|_| changed.change == "applied" && !changed.balances.is_empty()) {
                        positions.push((claim_id, changed.balances));
                    }
                    continue;
                }
                _ => {}
            }
            if let Some(command) = command_of(envelope)? {
                commands.push((*envelope, command));
            }
        }
        let mut claim_ids = Vec::with_capacity(commands.len() * 2 + positions.len());
        for (_, command) in &commands {
            match command {
                Command::Adjudicate(decision) => claim_ids.push(decision.claim_id),
                Command::Pend(pended) => claim_ids.push(pended.claim_id),
                Command::Reverse(reversed) => claim_ids.extend([reversed.claim_id, reversed.by_claim_id]),
                Command::Book(booked) => claim_ids.push(booked.claim_id),
                Command::Appeal(appealed) => claim_ids.push(appealed.claim_id),
                Command::DecideAppeal(decided) => claim_ids.push(decided.claim_id),
                Command::Submit { .. } => {}
            }
        }
        // The positions' claims are read with the commands'.
        claim_ids.extend(positions.iter().map(|(claim_id, _)| *claim_id));
        claim_ids.sort();
        claim_ids.dedup();
        let (statuses, versions) = Self::statuses_and_versions(&self.store, tx, &claim_ids).await?;
        let mut facts = domain::Facts { claims: statuses, versions, ..domain::Facts::default() };
        let mut writes = Writes::default();
        for (envelope, command) in commands {
            facts = self.project(tx, envelope, &command, facts, &mut writes).instrument(claimtrail_runtime::event_span(envelope)).await?;
        }
        writes.statuses.write(&self.store, tx).await?;
        writes.history.write(&self.store, tx).await?;
        // Each position goes to the claim intake received (a correction version's to its claim), if intake received it.
        let mut recorded: Vec<(Uuid, &[AccumulatorBalance])> = Vec::with_capacity(positions.len());
        let mut unknown: Vec<(Uuid, &[AccumulatorBalance])> = Vec::new();
        for (claim_id, balances) in &positions {
            match facts.resolve(*claim_id) {
                Some(received) => recorded.push((received, balances.as_slice())),
                None => unknown.push((facts.versions.get(claim_id).copied().unwrap_or(*claim_id), balances.as_slice())),
            }
        }
        if !unknown.is_empty() {
            // Not read above: the original of a version learned in this batch (rare).
            let ids: Vec<Uuid> = unknown.iter().map(|(claim_id, _)| *claim_id).collect();
            let received = claims::statuses(&self.store, tx, &ids).await?;
            recorded.extend(unknown.into_iter().filter(|(claim_id, _)| received.contains_key(claim_id)));
        }
        if !recorded.is_empty() {
            crate::storage::benefits::record_many(&self.store, tx, &recorded).await?;
        }
        Ok(vec![])
    }
}

impl StatusProjection {
    /// The status of those of `claim_ids` that intake received, and of the
    /// others those that are correction versions, each to its claim (with that
    /// claim's status). A received claim is never a version, so only the ids
    /// not received are looked up as versions: one statement per batch when
    /// every event names a claim intake received, as nearly all do.
    async fn statuses_and_versions(
        store: &Store,
        tx: &DatabaseTransaction,
        claim_ids: &[Uuid],
    ) -> Result<(HashMap<Uuid, ClaimStatus>, HashMap<Uuid, Uuid>), HandlerError> {
        let mut statuses = claims::statuses(store, tx, claim_ids).await?;
        let not_received: Vec<Uuid> = claim_ids.iter().copied().filter(|claim_id| !statuses.contains_key(claim_id)).collect();
        if not_received.is_empty() {
            return Ok((statuses, HashMap::new()));
        }
        let versions = versions::originals(store, tx, &not_received).await?;
        let mut originals: Vec<Uuid> = versions.values().copied().filter(|original| !statuses.contains_key(original)).collect();
        originals.sort();
        originals.dedup();
        if !originals.is_empty() {
            statuses.extend(claims::statuses(store, tx, &originals).await?);
        }
        Ok((statuses, versions))
    }

    /// Decides one event; its status changes and history rows go to `writes`,
    /// written once for the batch (a version learned is written at once).
    async fn project(
        &self,
        tx: &DatabaseTransaction,
        envelope: &Envelope,
        command: &Command,
        facts: domain::Facts,
        writes: &mut Writes,
    ) -> Result<domain::Facts, HandlerError> {
        let store = &self.store;
        let at = envelope.occurred_at.to_string();
        let events = domain::decide(&facts, command).map_err(|rejection| HandlerError::Invalid(rejection.to_string()))?;
        for event in &events {
            match (event, command) {
                (Event::StatusChanged { claim_id, status, .. }, Command::Adjudicate(decision)) => {
                    let decision_json = serde_json::to_string(decision).map_err(|e| HandlerError::Unexpected(e.into()))?;
                    let paid_cents = decision.total_paid.cents().map_err(|e| HandlerError::Invalid(format!("paid amount: {e}")))?;
                    writes.statuses.set_adjudicated(*claim_id, decision.outcome.as_str(), paid_cents, decision_json);
                    debug_assert_eq!(*status, claimtrail_events::ClaimStatus::Adjudicated);
                }
                (Event::StatusChanged { claim_id, status, .. }, _) => writes.statuses.set_status(*claim_id, *status),
                _ => {}
            }
            match event {
                Event::StatusChanged { claim_id, status, detail, secondary } => {
                    let entry =
                        HistoryEntry { claim_id: *claim_id, status: *status, event_type: &envelope.event_type, event_id: envelope.event_id, at: &at, detail };
                    writes.history.push_of(entry, *secondary);
                }
                Event::Noted { claim_id, status, detail } => {
                    writes.history.push(HistoryEntry {
                        claim_id: *claim_id,
                        status: *status,
                        event_type: &envelope.event_type,
                        event_id: envelope.event_id,
                        at: &at,
                        detail,
                    });
                }
                Event::VersionLearned { version, of_claim_id } => versions::record(store, tx, *version, *of_claim_id).await?,
                Event::Received(_) => {}
            }
        }
        Ok(events.iter().fold(facts, domain::apply))
    }
}

/// What a batch of the projection writes at its end, one statement per table.
#[derive(Default)]
struct Writes {
    statuses: StatusUpdates,
    history: HistoryRows,
}
