//! Settlement's consumer: `claim.adjudicated.v1` and `claim.reversed.v1` in
//! (a decision of a claim whose decision was reversed, as an overturned
//! appeal decides it again, is its correction);
//! each booked ([`domain::decide`]) and stored ([`storage::insert_entry`]) in
//! the batch's transaction, `payable.booked.v1` out, and kept as a payable
//! for the next payment run. `claim.submitted.v1` gives a claim's CLM01,
//! member id and the payer's COB place (for its 835: CLP01, NM1*QC, CLP02), `provider.registered.v1` the provider's pay-to
//! and bank account (a changed account must be prenoted again).
//! `fraud.alert.raised.v1` about a claim not yet paid holds the provider's
//! payments from that payer (the payment holds finance releases);
//! `fraud.alert.closed.v1` releases that alert's hold when it was a false
//! positive, and recoups its paid claims when it was confirmed
//! ([`domain::fraud`]).
//!
//! A batch ([`Booker::handle_batch`], issue 21) is cut into runs
//! ([`plan`]): in a run of submissions, decisions and reversals, each claim
//! booked at most once, the run reads which of its decided claims have a
//! reversal entry and its claims' references once each, books every event
//! in memory (a reference from a submission earlier in the run is kept in
//! memory) and writes the claim references, payables, payable lines,
//! journal entries and journal lines as one multi-row statement each at the
//! run's end ([`storage::pending::Writes`]). A claim's second booking starts
//! a new run (which reads what the first wrote); any other event (erasure,
//! fraud alert, provider) is handled alone on the per-event path
//! ([`Booker::handle`]) after the run before it is written. The effects,
//! their order and the outgoing events are those of handling each event alone.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use claimtrail_events::{
    ClaimAdjudicated, ClaimReversed, ClaimSubmitted, ClaimsErased, DomainEvent, Envelope, Family, FraudAlertClosed, FraudAlertRaised, NewEvent, PayableBooked,
    PayerSequence, ProviderRegistered,
};
use claimtrail_runtime::consumer::continue_trace;
use claimtrail_runtime::{EventHandler, HandlerError, event_span};
use claimtrail_store::Store;
use sea_orm::DatabaseTransaction;
use time::Date;
use tracing::Instrument as _;
use uuid::Uuid;

use crate::domain::payment_run::{Payable, PayableKind, Payee};
use crate::domain::{self, Command, Entry, EntryKind, Event, Facts};
use crate::storage::payments::ClaimRef;
use crate::storage::pending::Writes;
use crate::storage::{self, payments};

#[cfg(test)]
mod tests;

/// Where new ids come from: entries, recoupments and holds (UUIDv7; a test gives its own, to compare runs).
type IdSource = Arc<dyn Fn() -> Uuid + Send + Sync>;

/// The event handler of settlement.
pub struct Booker {
    store: Store,
    new_id: IdSource,
}

/// What the batch path does with one event ([`plan`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `claim.submitted.v1`: its claim's reference, held.
    Submission,
    /// `claim.adjudicated.v1` or `claim.reversed.v1` of the claim: booked in memory, held.
    Booking(Uuid),
    /// Anything else (erasure, fraud alerts, providers, an unreadable payload): handled alone, on the per-event path.
    Alone,
}

/// A step of a batch ([`plan`]): a run of events booked together, or one event handled alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Submissions, decisions and reversals, each claim booked at most once: one read of each kind, one write per table.
    Together(Range<usize>),
    /// One event on the per-event path, after everything before it is written.
    Alone(usize),
}

/// Cuts a batch of events of these shapes into steps, in order: an
/// [`Shape::Alone`] event ends the run before it and is a step of its own; a
/// claim's second booking in a run ends the run and begins the next (which
/// reads what the first wrote: a correction sees the reversal before it).
pub fn plan(shapes: &[Shape]) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut run_start = 0;
    let mut booked: HashSet<Uuid> = HashSet::new();
    for (event_idx, shape) in shapes.iter().enumerate() {
        match shape {
            Shape::Submission => {}
            Shape::Booking(claim_id) => {
                if !booked.insert(*claim_id) {
                    steps.push(Step::Together(run_start..event_idx));
                    run_start = event_idx;
                    booked.clear();
                    booked.insert(*claim_id);
                }
            }
            Shape::Alone => {
                if run_start < event_idx {
                    steps.push(Step::Together(run_start..event_idx));
                }
                steps.push(Step::Alone(event_idx));
                run_start = event_idx + 1;
                booked.clear();
            }
        }
    }
    if run_start < shapes.len() {
        steps.push(Step::Together(run_start..shapes.len()));
    }
    steps
}

/// An event the batch path books in memory.
enum Batchable {
    Submitted(Box<ClaimSubmitted>),
    Decided(ClaimAdjudicated),
    Reversed(ClaimReversed),
}

impl Batchable {
    /// The event of `envelope` if the batch path books it; None for the rest (and for a payload that does not read).
    fn of(envelope: &Envelope) -> Option<Batchable> {
        match envelope.domain_event().ok()? {
            DomainEvent::ClaimSubmitted(submitted) => Some(Batchable::Submitted(Box::new(submitted))),
            DomainEvent::ClaimAdjudicated(decision) => Some(Batchable::Decided(decision)),
            DomainEvent::ClaimReversed(reversal) => Some(Batchable::Reversed(reversal)),
            _ => None,
        }
    }

    fn shape(batchable: Option<&Batchable>) -> Shape {
        match batchable {
            Some(Batchable::Submitted(_)) => Shape::Submission,
            Some(Batchable::Decided(decision)) => Shape::Booking(decision.claim_id),
            Some(Batchable::Reversed(reversal)) => Shape::Booking(reversal.claim_id),
            None => Shape::Alone,
        }
    }
}

/// What a run reads once for all of its bookings.
struct RunFacts {
    /// Its decided claims that have a reversal entry (their decisions are corrections).
    reversed: HashSet<Uuid>,
    /// Its booked claims' stored references.
    stored_refs: HashMap<Uuid, ClaimRef>,
    /// References from the run's submissions so far, the first of each claim (a stored one wins, as the upsert keeps it).
    submitted_refs: HashMap<Uuid, ClaimRef>,
}

impl RunFacts {
    fn claim_ref(&self, claim_id: Uuid) -> Option<ClaimRef> {
        self.stored_refs.get(&claim_id).or_else(|| self.submitted_refs.get(&claim_id)).cloned()
    }
}

/// A claim's CLM01, member id and the payer's place, from its submission.
fn claim_ref_of(submitted: &ClaimSubmitted) -> (Uuid, ClaimRef) {
    let claim = &submitted.claim;
    let pcn = claim.patient_control_number.clone().unwrap_or_else(|| claim.claim_id.to_string());
    let payer_sequence = claim.cob.as_ref().map_or(PayerSequence::Primary, |cob| cob.sequence);
    (claim.claim_id, ClaimRef { patient_control_number: pcn, member_id: claim.member_id.to_string(), payer_sequence })
}

/// A decision's payable (a correction's, after a reversal) and what it books.
fn decision_booking(decision: ClaimAdjudicated, adjudicated_on: Date, corrected: bool) -> (Payable, Command) {
    let payable = Payable {
        claim_id: decision.claim_id,
        kind: if corrected { PayableKind::Correction } else { PayableKind::Decision },
        payer_id: decision.payer_id.clone(),
        billing_npi: decision.billing_npi.clone(),
        patient_control_number: String::new(),
        member_id: String::new(),
        lines: decision.lines.clone(),
        total_charge: decision.total_charge,
        total_paid: decision.total_paid,
        total_patient_responsibility: decision.total_patient_responsibility,
        adjudicated_on,
        payer_sequence: PayerSequence::Primary,
    };
    (payable, if corrected { Command::BookCorrection(decision) } else { Command::BookDecision(decision) })
}

/// A reversal's payable and what it books.
fn reversal_booking(reversal: ClaimReversed, adjudicated_on: Date) -> (Payable, Command) {
    let payable = Payable {
        claim_id: reversal.claim_id,
        kind: PayableKind::Reversal,
        payer_id: reversal.payer_id.clone(),
        billing_npi: reversal.billing_npi.clone(),
        patient_control_number: String::new(),
        member_id: String::new(),
        lines: reversal.lines.clone(),
        total_charge: reversal.total_charge,
        total_paid: reversal.total_paid,
        total_patient_responsibility: reversal.total_patient_responsibility,
        adjudicated_on,
        payer_sequence: PayerSequence::Primary,
    };
    (payable, Command::BookReversal(reversal))
}

/// `payable` with its claim's CLM01, member id and payer's place when its submission was seen, else the claim id, no member, primary.
fn referenced(mut payable: Payable, claim_ref: Option<ClaimRef>) -> Payable {
    let claim_ref = claim_ref.unwrap_or_else(|| ClaimRef {
        patient_control_number: payable.claim_id.to_string(),
        member_id: String::new(),
        payer_sequence: PayerSequence::Primary,
    });
    payable.patient_control_number = claim_ref.patient_control_number;
    payable.member_id = claim_ref.member_id;
    payable.payer_sequence = claim_ref.payer_sequence;
    payable
}

impl Booker {
    pub fn new(store: Store) -> Booker {
        Booker { store, new_id: Arc::new(Uuid::now_v7) }
    }

    /// A booker whose new ids come from `new_id` (tests compare two runs' rows, ids included).
    #[cfg(test)]
    pub(crate) fn with_ids(store: Store, new_id: IdSource) -> Booker {
        Booker { store, new_id }
    }

    /// A false positive releases the hold its alert placed; a confirmed alert recoups its flagged claims already paid.
    async fn alert_closed(&self, tx: &DatabaseTransaction, closed: &FraudAlertClosed) -> Result<(), HandlerError> {
        match closed.outcome.as_str() {
            "false_positive" => {
                let marker = domain::fraud::hold_marker(closed.alert_id);
                let reason = format!("fraud alert {} closed as a false positive: {}", closed.alert_id, closed.reason);
                let n_released = payments::release_fraud_holds(&self.store, tx, &closed.payer_id, &marker, &reason).await?;
                tracing::info!(alert_id = %closed.alert_id, n_released, "a false positive's payment hold released");
            }
            "confirmed" => {
                for claim in payments::paid_claims(&self.store, tx, &closed.claim_ids).await? {
                    if storage::has_entry(&self.store, tx, claim.claim_id, domain::EntryKind::Recoupment).await? {
                        continue;
                    }
                    let recouped = domain::fraud::recoup((self.new_id)(), closed.alert_id, &closed.payer_id, &claim)
                        .map_err(|rejection| HandlerError::Invalid(rejection.to_string()))?;
                    if let Some(recoupment) = recouped {
                        storage::insert_entry(&self.store, tx, &recoupment.entry).await?;
                        payments::add_debt(&self.store, tx, &closed.payer_id, &claim.billing_npi, &recoupment.debt).await?;
                        tracing::info!(alert_id = %closed.alert_id, claim_id = %claim.claim_id, amount = %claim.paid, "a paid claim recouped");
                    }
                }
            }
            other => return Err(HandlerError::Invalid(format!("alert {} closed with the unknown outcome `{other}`", closed.alert_id))),
        }
        Ok(())
    }

    /// Books `command` ([`domain::decide`], with a new entry id): the entries to store and the `payable.booked.v1` they cause.
    fn book(&self, command: &Command, envelope: &Envelope) -> Result<(Vec<Entry>, Vec<NewEvent>), HandlerError> {
        let events = domain::decide(&Facts { entry_id: (self.new_id)() }, command).map_err(|rejection| HandlerError::Invalid(rejection.to_string()))?;
        let mut entries = Vec::with_capacity(events.len());
        let mut outgoing = Vec::with_capacity(events.len());
        for Event::Booked(entry) in events {
            let booked = PayableBooked {
                claim_id: entry.claim_id,
                journal_entry_id: entry.entry_id,
                payer_id: entry.payer_id.clone(),
                billing_npi: entry.billing_npi.clone(),
                amount: entry.amount,
                lines: entry.lines.clone(),
            };
            let aggregate = booked.claim_id.to_string();
            outgoing.push(NewEvent::new(booked, aggregate).caused_by(envelope));
            entries.push(entry);
        }
        Ok((entries, outgoing))
    }

    /// Books a run of submissions, decisions and reversals (each claim at most
    /// once, [`plan`]): two reads, the bookings in memory, one multi-row write per table.
    async fn book_together(&self, tx: &DatabaseTransaction, envelopes: &[&Envelope], events: Vec<Batchable>) -> Result<Vec<NewEvent>, HandlerError> {
        let store = &self.store;
        let mut decided = Vec::new();
        let mut booked = Vec::new();
        for event in &events {
            match event {
                Batchable::Submitted(_) => {}
                Batchable::Decided(decision) => {
                    decided.push(decision.claim_id);
                    booked.push(decision.claim_id);
                }
                Batchable::Reversed(reversal) => booked.push(reversal.claim_id),
            }
        }
        let mut facts = RunFacts {
            reversed: if decided.is_empty() { HashSet::new() } else { storage::claims_with_entry(store, tx, &decided, EntryKind::Reversal).await? },
            stored_refs: if booked.is_empty() { HashMap::new() } else { payments::claim_refs(store, tx, &booked).await? },
            submitted_refs: HashMap::new(),
        };
        let mut writes = Writes::default();
        let mut outgoing = Vec::new();
        for (envelope, event) in envelopes.iter().zip(events) {
            let span = event_span(envelope);
            let caused = span.in_scope(|| self.hold(envelope, event, &mut facts, &mut writes))?;
            outgoing.extend(continue_trace(caused, envelope, &span));
        }
        writes.flush(store, tx).await?;
        Ok(outgoing)
    }

    /// Books one event of a run in memory, as [`Booker::handle`] would in the database.
    fn hold(&self, envelope: &Envelope, event: Batchable, facts: &mut RunFacts, writes: &mut Writes) -> Result<Vec<NewEvent>, HandlerError> {
        let adjudicated_on = envelope.occurred_at.date();
        let (payable, command) = match event {
            Batchable::Submitted(submitted) => {
                let (claim_id, claim_ref) = claim_ref_of(&submitted);
                facts.submitted_refs.entry(claim_id).or_insert_with(|| claim_ref.clone());
                writes.claim_ref(claim_id, claim_ref);
                return Ok(vec![]);
            }
            Batchable::Decided(decision) => {
                let corrected = facts.reversed.contains(&decision.claim_id);
                decision_booking(decision, adjudicated_on, corrected)
            }
            Batchable::Reversed(reversal) => reversal_booking(reversal, adjudicated_on),
        };
        let claim_ref = facts.claim_ref(payable.claim_id);
        writes.payable(referenced(payable, claim_ref));
        let (entries, outgoing) = self.book(&command, envelope)?;
        for entry in entries {
            writes.entry(entry);
        }
        Ok(outgoing)
    }
}

#[async_trait]
impl EventHandler for Booker {
    fn families(&self) -> Vec<Family> {
        vec![Family::Claims, Family::Reference, Family::Fraud]
    }

    fn event_types(&self) -> Option<&'static [&'static str]> {
        Some(&[
            ClaimSubmitted::EVENT_TYPE,
            ClaimAdjudicated::EVENT_TYPE,
            ClaimReversed::EVENT_TYPE,
            ClaimsErased::EVENT_TYPE,
            ProviderRegistered::EVENT_TYPE,
            FraudAlertRaised::EVENT_TYPE,
            FraudAlertClosed::EVENT_TYPE,
        ])
    }

    async fn handle(&self, tx: &DatabaseTransaction, envelope: &Envelope) -> Result<Vec<NewEvent>, HandlerError> {
        if claimtrail_runtime::erasure::apply(&self.store, tx, envelope).await? {
            if let Ok(DomainEvent::ClaimsErased(erasure)) = envelope.domain_event() {
                payments::erase_claims(&self.store, tx, &erasure.claim_ids).await?;
            }
            return Ok(vec![]);
        }
        let adjudicated_on = envelope.occurred_at.date();
        let (payable, command) = match envelope.domain_event().map_err(|e| HandlerError::Invalid(e.to_string()))? {
            DomainEvent::ClaimSubmitted(submitted) => {
                let (claim_id, claim_ref) = claim_ref_of(&submitted);
                payments::upsert_claim_ref(&self.store, tx, claim_id, &claim_ref).await?;
                return Ok(vec![]);
            }
            DomainEvent::FraudAlertRaised(alert) => {
                // A flagged claim not yet paid: hold the provider's payments from the payer until finance releases them.
                if !alert.claim_ids.is_empty() && payments::n_paid(&self.store, tx, &alert.claim_ids).await? < alert.claim_ids.len() {
                    let reason = domain::fraud::hold_reason(&alert);
                    payments::place_hold(&self.store, tx, (self.new_id)(), &alert.payer_id, &alert.npi, &reason, "fraud").await?;
                }
                return Ok(vec![]);
            }
            DomainEvent::FraudAlertClosed(closed) => {
                self.alert_closed(tx, &closed).await?;
                return Ok(vec![]);
            }
            DomainEvent::ProviderRegistered(provider) => {
                let payee = Payee {
                    npi: provider.npi,
                    name: provider.name,
                    tin: provider.tin,
                    pay_to: provider.pay_to,
                    bank_account: provider.bank_account,
                    prenote_effective_on: None,
                    account_hold: None,
                };
                payments::upsert_payee(&self.store, tx, &payee).await?;
                return Ok(vec![]);
            }
            DomainEvent::ClaimAdjudicated(decision) => {
                // A claim decided again after its decision was reversed (an overturned appeal) books a correction.
                let corrected = storage::has_entry(&self.store, tx, decision.claim_id, EntryKind::Reversal).await?;
                decision_booking(decision, adjudicated_on, corrected)
            }
            DomainEvent::ClaimReversed(reversal) => reversal_booking(reversal, adjudicated_on),
            _ => return Ok(vec![]),
        };
        // Payable by the next run, with its CLM01 and member id when its submission was seen.
        let claim_ref = payments::claim_ref(&self.store, tx, payable.claim_id).await?;
        payments::insert_payable(&self.store, tx, &referenced(payable, claim_ref)).await?;
        let (entries, outgoing) = self.book(&command, envelope)?;
        for entry in &entries {
            storage::insert_entry(&self.store, tx, entry).await?;
        }
        Ok(outgoing)
    }

    /// The batch in [`plan`]'s steps: runs booked together
    /// (`book_together`), the other events alone on the per-event path.
    async fn handle_batch(&self, tx: &DatabaseTransaction, events: &[&Envelope]) -> Result<Vec<NewEvent>, HandlerError> {
        let mut batchable: Vec<Option<Batchable>> = events.iter().map(|envelope| Batchable::of(envelope)).collect();
        let shapes: Vec<Shape> = batchable.iter().map(|event| Batchable::shape(event.as_ref())).collect();
        let mut outgoing = Vec::new();
        for step in plan(&shapes) {
            match step {
                Step::Alone(event_idx) => {
                    let envelope = events[event_idx];
                    let span = event_span(envelope);
                    let caused = self.handle(tx, envelope).instrument(span.clone()).await?;
                    outgoing.extend(continue_trace(caused, envelope, &span));
                }
                Step::Together(range) => {
                    let run: Vec<Batchable> = batchable[range.clone()].iter_mut().filter_map(Option::take).collect();
                    if run.len() != range.len() {
                        return Err(HandlerError::Unexpected(anyhow::anyhow!("a run of the batch holds an event it does not book")));
                    }
                    outgoing.extend(self.book_together(tx, &events[range], run).await?);
                }
            }
        }
        Ok(outgoing)
    }
}
