//! A submitted claim as the detectors read it: [`ScannedClaim`], kept by the
//! fraud service until it is scanned (and after, for matching later claims
//! against it), and the [`ClaimFacts`] it becomes with its ledger index.

use claimtrail_events::{ClaimSubmitted, Frequency as ClaimFrequency};
use claimtrail_fraud::{ClaimFacts, Fingerprint, Frequency, LineFacts};
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};
use time::Date;
use uuid::Uuid;

/// What the fraud service keeps of a `claim.submitted.v1`: no names, no
/// diagnoses; the payer-local member id and the keyed fingerprints of one key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScannedClaim {
    pub claim_id: Uuid,
    pub payer_id: String,
    pub billing_npi: String,
    pub rendering_npi: Option<String>,
    pub member_id: String,
    /// `original`, `replacement` or `void`.
    pub frequency: String,
    pub replaces: Option<Uuid>,
    #[serde(with = "claimtrail_events::date")]
    pub received: Date,
    /// The key id of the fingerprints kept, if the claim carried any.
    pub fingerprint_key_id: Option<u32>,
    /// Hex of the person's fingerprint.
    pub person: Option<String>,
    /// Sent to a secondary or tertiary payer with an earlier payer's
    /// adjudication (coordination of benefits): not a double bill.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cob_secondary: bool,
    pub lines: Vec<ScannedLine>,
}

/// One line of a [`ScannedClaim`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScannedLine {
    pub code: String,
    pub modifiers: Vec<String>,
    #[serde(with = "claimtrail_events::date")]
    pub service_date: Date,
    pub units: u32,
    pub charge_cents: i64,
    pub place_of_service: Option<String>,
    /// Hex of the line's fingerprint.
    pub fingerprint: Option<String>,
}

/// Why a claim cannot be scanned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimError {
    #[error("claim {claim_id} line {sequence}: {reason}")]
    Line { claim_id: Uuid, sequence: u32, reason: String },
    #[error("claim {claim_id}: fingerprint {what} is not 32 bytes of hex")]
    Fingerprint { claim_id: Uuid, what: String },
    #[error("claim {claim_id}: {n_fingerprints} line fingerprints for {n_lines} lines")]
    FingerprintCount { claim_id: Uuid, n_fingerprints: usize, n_lines: usize },
}

impl ScannedClaim {
    /// The claim of `submitted`, with the fingerprints of key `match_key_id`
    /// (the first the claim carries when `None`; none when it carries none of that key).
    pub fn of(submitted: &ClaimSubmitted, match_key_id: Option<u32>) -> Result<ScannedClaim, ClaimError> {
        let claim = &submitted.claim;
        let claim_id = claim.claim_id;
        let fingerprints = submitted.fingerprints.iter().find(|set| match_key_id.is_none_or(|key_id| set.key_id == key_id));
        if let Some(set) = fingerprints {
            if set.lines.len() != claim.lines.len() {
                return Err(ClaimError::FingerprintCount { claim_id, n_fingerprints: set.lines.len(), n_lines: claim.lines.len() });
            }
            decode(claim_id, "person", &set.person)?;
            for (line_idx, line) in set.lines.iter().enumerate() {
                decode(claim_id, &format!("of line {}", line_idx + 1), line)?;
            }
        }
        let mut lines = Vec::with_capacity(claim.lines.len());
        for (line_idx, line) in claim.lines.iter().enumerate() {
            let line_error = |reason: String| ClaimError::Line { claim_id, sequence: line.sequence, reason };
            // A fractional quantity counts as the next whole unit.
            let units = line.quantity.ceil().to_u32().ok_or_else(|| line_error(format!("quantity {} is not a whole number of units", line.quantity)))?;
            let charge_cents = line.charge.cents().map_err(|e| line_error(e.to_string()))?;
            lines.push(ScannedLine {
                code: line.procedure_code.to_string().to_uppercase(),
                modifiers: line.modifiers.iter().map(|modifier| modifier.to_string().to_uppercase()).collect(),
                service_date: line.service_date,
                units,
                charge_cents,
                place_of_service: line.place_of_service.as_ref().map(ToString::to_string),
                fingerprint: fingerprints.map(|set| set.lines[line_idx].clone()),
            });
        }
        Ok(ScannedClaim {
            claim_id,
            payer_id: claim.payer_id.to_string(),
            billing_npi: claim.billing_npi.to_string(),
            rendering_npi: claim.rendering_npi.as_ref().map(ToString::to_string),
            member_id: claim.member_id.to_string(),
            frequency: match claim.frequency {
                ClaimFrequency::Original => "original",
                ClaimFrequency::Replacement => "replacement",
                ClaimFrequency::Void => "void",
            }
            .to_owned(),
            replaces: claim.related_claim_id.map(Uuid::from),
            received: submitted.received_at.date(),
            fingerprint_key_id: fingerprints.map(|set| set.key_id),
            person: fingerprints.map(|set| set.person.clone()),
            cob_secondary: claim.cob.as_ref().is_some_and(|cob| cob.is_secondary_with_prior_adjudication()),
            lines,
        })
    }

    /// What the detectors see of it, at `ledger_index`.
    pub fn facts(&self, ledger_index: u64) -> ClaimFacts {
        let fingerprint = |hex_text: &Option<String>| hex_text.as_deref().and_then(|text| decode(self.claim_id, "", text).ok());
        ClaimFacts {
            claim_id: self.claim_id,
            payer_id: self.payer_id.clone(),
            ledger_index,
            billing_npi: self.billing_npi.clone(),
            rendering_npi: self.rendering_npi.clone(),
            specialty: None,
            member_id: self.member_id.clone(),
            person: fingerprint(&self.person),
            fingerprint_key_id: self.fingerprint_key_id,
            cob_secondary: self.cob_secondary,
            frequency: match self.frequency.as_str() {
                "replacement" => Frequency::Replacement,
                "void" => Frequency::Void,
                _ => Frequency::Original,
            },
            replaces: self.replaces,
            received: self.received,
            lines: self
                .lines
                .iter()
                .map(|line| LineFacts {
                    code: line.code.clone(),
                    modifiers: line.modifiers.clone(),
                    service_date: line.service_date,
                    units: line.units,
                    charge_cents: line.charge_cents,
                    place_of_service: line.place_of_service.clone(),
                    fingerprint: fingerprint(&line.fingerprint),
                })
                .collect(),
        }
    }
}

fn decode(claim_id: Uuid, what: &str, hex_text: &str) -> Result<Fingerprint, ClaimError> {
    let error = || ClaimError::Fingerprint { claim_id, what: what.to_owned() };
    hex::decode(hex_text).map_err(|_| error())?.try_into().map_err(|_| error())
}

#[cfg(test)]
mod tests {
    use super::*;
    use claimtrail_events::{SubmittedClaim, Timestamp};

    fn submitted(cob: serde_json::Value) -> ClaimSubmitted {
        let claim: SubmittedClaim = serde_json::from_value(serde_json::json!({
            "claim_id": "00000000-0000-0000-0000-00000000000a", "claim_type": "professional", "frequency": "original", "related_claim_id": null,
            "patient_control_number": "PCN-1", "billing_npi": "1245319599", "rendering_npi": null, "payer_id": "MEDICAID", "member_id": "MBR-1",
            "diagnoses": [{"sequence": 1, "code": "J069"}],
            "lines": [{"sequence": 1, "procedure_code": "99213", "modifiers": [], "quantity": "1", "charge": "500.00",
                       "service_date": "2026-11-02", "place_of_service": "11", "diagnosis_pointers": [1]}],
            "total_charge": "500.00",
            "cob": cob
        }))
        .unwrap();
        ClaimSubmitted {
            claim,
            submitter: "riverside".into(),
            channel: "x12".into(),
            received_at: Timestamp::parse("2026-11-03T10:00:00.000000Z").unwrap(),
            submission_signature: None,
            fingerprints: vec![],
        }
    }

    #[test]
    fn a_secondary_claim_carrying_the_primary_s_adjudication_is_a_cob_secondary_to_the_detectors() {
        let primary_paid = serde_json::json!({"sequence": "secondary", "prior_payers": [
            {"sequence": "primary", "payer_id": "MEDICARE", "paid": "300.00",
             "lines": [{"sequence": 1, "paid": "300.00", "adjustments": [{"group": "PR", "reason": "1", "amount": "75.00"}, {"group": "CO", "reason": "45", "amount": "125.00"}]}]}
        ]});
        let secondary = ScannedClaim::of(&submitted(primary_paid), None).unwrap();
        assert!(secondary.cob_secondary && secondary.facts(7).cob_secondary);
        // Kept as JSON and read back the same; a claim without COB keeps the JSON it had.
        assert_eq!(serde_json::from_value::<ScannedClaim>(serde_json::to_value(&secondary).unwrap()).unwrap(), secondary);
        let alone = ScannedClaim::of(&submitted(serde_json::Value::Null), None).unwrap();
        assert!(!alone.facts(7).cob_secondary);
        assert!(!serde_json::to_string(&alone).unwrap().contains("cob"));
        // Saying "secondary" without the primary's adjudication does not make it one.
        let bare = ScannedClaim::of(&submitted(serde_json::json!({"sequence": "secondary", "prior_payers": []})), None).unwrap();
        assert!(!bare.facts(7).cob_secondary);
    }
}
