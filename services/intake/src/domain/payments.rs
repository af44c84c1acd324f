//! Which claims a remittance paid, and how (settlement's
//! `remittance.issued.v1`, each part self-contained): only a remittance
//! that moved money by ACH (`ach`, with its trace number) pays; each of its
//! claim decisions (or corrected decisions, after an overturned appeal) is
//! paid its CLP04 on the effective date under that trace.
//! A reversal entry takes an earlier payment back and a zero-net, held or
//! waiting remittance pays nothing, so they give no payment. A returned
//! entry (`ach_entry.returned.v1`) unpays every claim of its remittance
//! until a later run pays them again.

use claimtrail_events::{Money, RemittanceIssued};
use time::Date;
use uuid::Uuid;

/// A claim paid by a remittance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaidClaim {
    pub claim_id: Uuid,
    pub remittance_id: Uuid,
    /// The ACH effective entry date.
    pub paid_on: Date,
    pub amount: Money,
    pub trace_number: String,
}

/// The claims `issued` paid.
pub fn paid_claims(issued: &RemittanceIssued) -> Vec<PaidClaim> {
    let Some(trace_number) = issued.trace_number.as_ref().filter(|_| issued.status == "ach") else { return vec![] };
    issued
        .claims
        .iter()
        .filter(|claim| claim.kind == "decision" || claim.kind == "correction")
        .map(|claim| PaidClaim {
            claim_id: claim.claim_id,
            remittance_id: issued.remittance_id,
            paid_on: issued.effective_date,
            amount: claim.paid,
            trace_number: trace_number.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use claimtrail_events::RemittedClaim;
    use time::macros::date;

    fn issued(status: &str, trace: Option<&str>) -> RemittanceIssued {
        let claim = |n: u128, kind: &str, paid: &str| RemittedClaim { claim_id: Uuid::from_u128(n), kind: kind.into(), paid: Money::parse(paid).unwrap() };
        RemittanceIssued {
            remittance_id: Uuid::from_u128(9),
            run_id: Uuid::from_u128(8),
            payer_id: "60054".into(),
            billing_npi: "1245319599".into(),
            status: status.into(),
            amount: Money::parse("38.80").unwrap(),
            trace_number: trace.map(str::to_owned),
            effective_date: date!(2026 - 12 - 08),
            hold_reason: None,
            claims: vec![claim(1, "decision", "118.80"), claim(2, "reversal", "-80.00")],
            provider_adjustments: vec![],
            part: None,
            parts: None,
        }
    }

    #[test]
    fn an_ach_remittance_pays_its_decisions_on_the_effective_date_under_its_trace() {
        let paid = paid_claims(&issued("ach", Some("031000050000002")));
        assert_eq!(
            paid,
            [PaidClaim {
                claim_id: Uuid::from_u128(1),
                remittance_id: Uuid::from_u128(9),
                paid_on: date!(2026 - 12 - 08),
                amount: Money::parse("118.80").unwrap(),
                trace_number: "031000050000002".into()
            }]
        );
    }

    #[test]
    fn a_zero_held_or_waiting_remittance_pays_nothing() {
        for status in ["zero", "held", "awaiting_prenote"] {
            assert!(paid_claims(&issued(status, None)).is_empty(), "{status}");
        }
        assert!(paid_claims(&issued("zero", Some("x"))).is_empty());
    }
}
