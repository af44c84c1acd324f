//! The fraud service's pure core. No IO: no SQL, no HTTP, no bus (a test in
//! the crate's root fails on any such import).
//!
//! - [`claim`]: a `claim.submitted.v1` reduced to what the detectors read
//!   ([`claim::ScannedClaim`]), and the [`claimtrail_fraud::ClaimFacts`] it
//!   becomes once its ledger index is known.
//! - [`alerts`]: a detector's finding split into one alert per payer whose
//!   claims it names, with another payer's evidence redacted.
//! - [`lifecycle`]: an alert's status (open, acknowledged, closed) and what
//!   an investigator may do to it.
//! - [`policy`]: the payers' exclusion lists and NCCI edits, checked against
//!   their published hash and reduced to what the detectors read.
//!
//! [`decide`] takes a [`Command`] and the [`Facts`] the caller loaded and
//! returns the events to record; [`apply`] folds an alert's status.

pub mod alerts;
pub mod claim;
pub mod lifecycle;
pub mod policy;

use std::collections::BTreeMap;

use claimtrail_events::{FraudAlertAcknowledged, FraudAlertClosed, FraudAlertRaised, InclusionProof};
use claimtrail_fraud::Finding;
use uuid::Uuid;

pub use lifecycle::{AlertStatus, Outcome};

/// What the fraud service is asked to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Raise the alerts of a scan's findings.
    Raise { findings: Vec<Finding> },
    /// An investigator takes an alert up.
    Acknowledge { alert_id: Uuid, by: String },
    /// An investigator closes an alert with an outcome and a reason.
    Close { alert_id: Uuid, outcome: Outcome, reason: String, by: String },
}

/// What a decision reads, loaded by the caller.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// Inclusion proofs of the evidence's ledger entries, by index (in the tree of a signed checkpoint).
    pub proofs: BTreeMap<u64, InclusionProof>,
    /// For a provider-level finding without evidence: the payers the provider bills, by NPI.
    pub provider_payers: BTreeMap<String, Vec<String>>,
    /// The alert acted on (acknowledge, close): its payer and status, if it exists.
    pub alert: Option<(String, AlertStatus)>,
    /// The claims of the alert acted on that it flags (its `flagged` evidence).
    pub flagged_claims: Vec<Uuid>,
}

/// What the fraud service records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Raised(FraudAlertRaised),
    Acknowledged(FraudAlertAcknowledged),
    Closed(FraudAlertClosed),
}

/// Why a command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("no fraud alert {0}")]
    UnknownAlert(Uuid),
    #[error("fraud alert {alert_id} is {status} already")]
    AlreadyClosed { alert_id: Uuid, status: &'static str },
    #[error("a closed alert needs a reason")]
    ReasonMissing,
    #[error("the reason is {len} characters; at most {max}")]
    ReasonTooLong { len: usize, max: usize },
}

/// Decides `command` on `facts`.
pub fn decide(facts: &Facts, command: &Command) -> Result<Vec<Event>, Rejection> {
    match command {
        Command::Raise { findings } => {
            Ok(findings.iter().flat_map(|finding| alerts::alerts_of(finding, &facts.proofs, &facts.provider_payers)).map(Event::Raised).collect())
        }
        Command::Acknowledge { alert_id, by } => {
            let (payer_id, status) = facts.alert.as_ref().ok_or(Rejection::UnknownAlert(*alert_id))?;
            lifecycle::acknowledge(*alert_id, payer_id, *status, by).map(|event| vec![Event::Acknowledged(event)])
        }
        Command::Close { alert_id, outcome, reason, by } => {
            let (payer_id, status) = facts.alert.as_ref().ok_or(Rejection::UnknownAlert(*alert_id))?;
            lifecycle::close(*alert_id, payer_id, *status, *outcome, reason, by, &facts.flagged_claims).map(|event| vec![Event::Closed(event)])
        }
    }
}

/// An alert's status after `event`.
pub fn apply(status: Option<AlertStatus>, event: &Event) -> Option<AlertStatus> {
    match event {
        Event::Raised(_) => Some(status.unwrap_or(AlertStatus::Open)),
        Event::Acknowledged(_) => Some(AlertStatus::Acknowledged),
        Event::Closed(closed) => closed.outcome.parse::<Outcome>().ok().map(AlertStatus::Closed).or(status),
    }
}

#[cfg(test)]
mod tests;
