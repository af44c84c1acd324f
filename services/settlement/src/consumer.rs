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

use async_trait::async_trait;
use claimtrail_events::{
    ClaimAdjudicated, ClaimReversed, ClaimSubmitted, ClaimsErased, DomainEvent, Envelope, Family, FraudAlertClosed, FraudAlertRaised, NewEvent, PayableBooked,
    PayerSequence, ProviderRegistered,
};
use claimtrail_runtime::{EventHandler, HandlerError};
use claimtrail_store::Store;
use sea_orm::DatabaseTransaction;
use uuid::Uuid;

use crate::domain::payment_run::{Payable, PayableKind, Payee};
use crate::domain::{self, Command, EntryKind, Event, Facts};
use crate::storage::{self, payments};

/// The event handler of settlement.
pub struct Booker {
    store: Store,
}

impl Booker {
    pub fn new(store: Store) -> Booker {
        Booker { store }
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
                    let recouped = domain::fraud::recoup(Uuid::now_v7(), closed.alert_id, &closed.payer_id, &claim)
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

    /// Records a claim's decision or reversal as payable by the next run, with its CLM01 and member id when its submission was seen.
    async fn record_payable(&self, tx: &DatabaseTransaction, mut payable: Payable) -> Result<(), HandlerError> {
        let claim_ref = payments::claim_ref(&self.store, tx, payable.claim_id).await?.unwrap_or_else(|| payments::ClaimRef {
            patient_control_number: payable.claim_id.to_string(),
            member_id: String::new(),
            payer_sequence: PayerSequence::Primary,
        });
        payable.patient_control_number = claim_ref.patient_control_number;
        payable.member_id = claim_ref.member_id;
        payable.payer_sequence = claim_ref.payer_sequence;
        payments::insert_payable(&self.store, tx, &payable).await?;
        Ok(())
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
        let command = match envelope.domain_event().map_err(|e| HandlerError::Invalid(e.to_string()))? {
            DomainEvent::ClaimSubmitted(submitted) => {
                let claim = &submitted.claim;
                let pcn = claim.patient_control_number.clone().unwrap_or_else(|| claim.claim_id.to_string());
                let payer_sequence = claim.cob.as_ref().map_or(PayerSequence::Primary, |cob| cob.sequence);
                let claim_ref = payments::ClaimRef { patient_control_number: pcn, member_id: claim.member_id.to_string(), payer_sequence };
                payments::upsert_claim_ref(&self.store, tx, claim.claim_id, &claim_ref).await?;
                return Ok(vec![]);
            }
            DomainEvent::FraudAlertRaised(alert) => {
                // A flagged claim not yet paid: hold the provider's payments from the payer until finance releases them.
                if !alert.claim_ids.is_empty() && payments::n_paid(&self.store, tx, &alert.claim_ids).await? < alert.claim_ids.len() {
                    let reason = domain::fraud::hold_reason(&alert);
                    payments::place_hold(&self.store, tx, Uuid::now_v7(), &alert.payer_id, &alert.npi, &reason, "fraud").await?;
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
                self.record_payable(tx, payable).await?;
                if corrected { Command::BookCorrection(decision) } else { Command::BookDecision(decision) }
            }
            DomainEvent::ClaimReversed(reversal) => {
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
                self.record_payable(tx, payable).await?;
                Command::BookReversal(reversal)
            }
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
