//! An alert's life: raised open, acknowledged by an investigator, closed
//! with an outcome (confirmed or false positive) and a reason. A closed
//! alert stays closed; acknowledging twice is harmless and recorded once.

use claimtrail_events::{FraudAlertAcknowledged, FraudAlertClosed};
use uuid::Uuid;

use super::Rejection;

/// The longest reason an investigator may give, in characters.
pub const REASON_CHARS_MAX: usize = 2_000;

/// How an investigation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    Confirmed,
    FalsePositive,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Confirmed => "confirmed",
            Outcome::FalsePositive => "false_positive",
        }
    }
}

impl std::str::FromStr for Outcome {
    type Err = String;

    fn from_str(text: &str) -> Result<Outcome, String> {
        match text {
            "confirmed" => Ok(Outcome::Confirmed),
            "false_positive" => Ok(Outcome::FalsePositive),
            other => Err(format!("`{other}` is not an outcome (confirmed or false_positive)")),
        }
    }
}

/// Where an alert stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertStatus {
    Open,
    Acknowledged,
    Closed(Outcome),
}

impl AlertStatus {
    /// Its name in the API and the store: `open`, `acknowledged`, `confirmed`, `false_positive`.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Open => "open",
            AlertStatus::Acknowledged => "acknowledged",
            AlertStatus::Closed(outcome) => outcome.as_str(),
        }
    }

    pub fn parse(text: &str) -> Option<AlertStatus> {
        match text {
            "open" => Some(AlertStatus::Open),
            "acknowledged" => Some(AlertStatus::Acknowledged),
            other => other.parse().ok().map(AlertStatus::Closed),
        }
    }
}

/// Acknowledges an open (or already acknowledged) alert; a closed one is refused.
pub fn acknowledge(alert_id: Uuid, payer_id: &str, status: AlertStatus, by: &str) -> Result<FraudAlertAcknowledged, Rejection> {
    if let AlertStatus::Closed(_) = status {
        return Err(Rejection::AlreadyClosed { alert_id, status: status.as_str() });
    }
    Ok(FraudAlertAcknowledged { alert_id, payer_id: payer_id.to_owned(), by: by.to_owned() })
}

/// Closes an open or acknowledged alert with `outcome` and a non-empty `reason` of at most [`REASON_CHARS_MAX`] characters,
/// naming the claims it flagged (`flagged_claims`, for settlement's recoupment).
pub fn close(
    alert_id: Uuid,
    payer_id: &str,
    status: AlertStatus,
    outcome: Outcome,
    reason: &str,
    by: &str,
    flagged_claims: &[Uuid],
) -> Result<FraudAlertClosed, Rejection> {
    if let AlertStatus::Closed(_) = status {
        return Err(Rejection::AlreadyClosed { alert_id, status: status.as_str() });
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Rejection::ReasonMissing);
    }
    let len = reason.chars().count();
    if len > REASON_CHARS_MAX {
        return Err(Rejection::ReasonTooLong { len, max: REASON_CHARS_MAX });
    }
    Ok(FraudAlertClosed {
        alert_id,
        payer_id: payer_id.to_owned(),
        outcome: outcome.as_str().to_owned(),
        reason: reason.to_owned(),
        by: by.to_owned(),
        claim_ids: flagged_claims.to_vec(),
    })
}
