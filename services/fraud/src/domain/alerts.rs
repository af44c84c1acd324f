//! A finding becomes alerts: one per payer whose claims it rests on, each
//! naming only that payer's claims. Evidence about another payer's claim is
//! redacted to its ledger index and the pattern: the payer learns that
//! another payer was billed, not which one, nor the member's coverage there.

use std::collections::{BTreeMap, BTreeSet};

use claimtrail_events::{AlertEvidence, FraudAlertRaised, InclusionProof, sha3_256};
use claimtrail_fraud::Finding;
use uuid::Uuid;

/// The payers a finding's alerts go to: those of its evidence, or, for a
/// provider-level finding without evidence, every payer the provider bills.
pub fn payers_of(finding: &Finding, provider_payers: &BTreeMap<String, Vec<String>>) -> BTreeSet<String> {
    let payers: BTreeSet<String> = finding.evidence.iter().map(|evidence| evidence.payer_id.clone()).collect();
    if !payers.is_empty() {
        return payers;
    }
    finding.npi.as_ref().and_then(|npi| provider_payers.get(npi)).map(|payers| payers.iter().cloned().collect()).unwrap_or_default()
}

/// The alerts of `finding`, one per payer ([`payers_of`]), with the inclusion
/// proofs of the payer's own evidence from `proofs`.
pub fn alerts_of(finding: &Finding, proofs: &BTreeMap<u64, InclusionProof>, provider_payers: &BTreeMap<String, Vec<String>>) -> Vec<FraudAlertRaised> {
    let payer_of: BTreeMap<Uuid, &str> = finding.evidence.iter().map(|evidence| (evidence.claim_id, evidence.payer_id.as_str())).collect();
    let pattern = finding.pattern.as_str();
    let payers = payers_of(finding, provider_payers);
    let spans_payers = payers.len() > 1;
    let named: Vec<Uuid> = finding.claim_ids.iter().copied().chain(finding.duplicates).collect();
    payers
        .into_iter()
        .map(|payer_id| {
            let mut claim_ids: Vec<Uuid> = named.iter().copied().filter(|claim_id| payer_of.get(claim_id) == Some(&payer_id.as_str())).collect();
            claim_ids.dedup();
            let evidence = finding
                .evidence
                .iter()
                .map(|evidence| {
                    let own = evidence.payer_id == payer_id;
                    AlertEvidence {
                        pattern: pattern.to_owned(),
                        ledger_index: evidence.ledger_index,
                        claim_id: own.then_some(evidence.claim_id),
                        other_payer: !own,
                        flagged: own && finding.claim_ids.contains(&evidence.claim_id),
                        inclusion_proof: if own { proofs.get(&evidence.ledger_index).cloned() } else { None },
                    }
                })
                .collect();
            FraudAlertRaised {
                alert_id: alert_id(finding, &payer_id),
                payer_id,
                pattern: pattern.to_owned(),
                claim_ids,
                npi: finding.npi.clone().unwrap_or_default(),
                date: finding.date,
                score_permille: score_permille(finding.score),
                // The detector's words may name the other payer's claim: left out when the finding spans payers.
                reason: if spans_payers { String::new() } else { finding.reason.clone() },
                evidence,
            }
        })
        .collect()
}

/// A score from 0 to 1 in thousandths (outside that range, clamped).
pub fn score_permille(score: f64) -> u32 {
    if score.is_nan() {
        return 0;
    }
    let permille = (score.clamp(0.0, 1.0) * 1000.0).round();
    // In 0..=1000 after the clamp, so the conversion is exact.
    permille as u32
}

/// The alert's id: the same finding for the same payer always gets the same
/// id, so a finding seen again (a redelivery, a rescan after a restart) is
/// not a second alert.
pub fn alert_id(finding: &Finding, payer_id: &str) -> Uuid {
    let mut flagged = finding.claim_ids.clone();
    flagged.sort_unstable();
    let key = format!(
        "{}|{}|{}|{}|{}|{}",
        finding.pattern.as_str(),
        flagged.iter().map(Uuid::to_string).collect::<Vec<_>>().join(","),
        finding.duplicates.map(|claim_id| claim_id.to_string()).unwrap_or_default(),
        finding.npi.as_deref().unwrap_or_default(),
        finding.date.map(|date| date.to_string()).unwrap_or_default(),
        payer_id
    );
    let digest = sha3_256(key.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}
