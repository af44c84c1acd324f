//! The decision on a claim as a FHIR R4 ClaimResponse.

use claimtrail_events::{ClaimAdjudicated, SubmittedClaim};
use serde_json::{Value, json};

use crate::output::{self, ADJUDICATION};

/// A FHIR R4 ClaimResponse for `adjudicated`, the decision on `claim`;
/// `created` is a FHIR dateTime (when the response was made).
///
/// The patient is a logical reference by member id only; each line carries
/// `submitted` (charge), `eligible` (allowed), one entry per adjustment (see
/// the crate's output notes: the member's share as `copay`, `deductible`,
/// `coinsurance`) and `benefit` (paid); `total[]` carries submitted,
/// eligible and benefit, and the member's copay, deductible and coinsurance
/// when not zero; `payment.amount` the amount paid.
pub fn claim_response(adjudicated: &ClaimAdjudicated, claim: &SubmittedClaim, created: &str) -> Value {
    let items: Vec<Value> = adjudicated
        .lines
        .iter()
        .map(|line| {
            let mut adjudications = vec![
                output::adjudication(ADJUDICATION, "submitted", "Submitted Amount", line.charge),
                output::adjudication(ADJUDICATION, "eligible", "Eligible Amount", line.allowed),
            ];
            adjudications.extend(line.adjustments.iter().map(output::adjustment));
            adjudications.push(output::adjudication(ADJUDICATION, "benefit", "Benefit Amount", line.paid));
            json!({ "itemSequence": line.sequence, "adjudication": adjudications })
        })
        .collect();
    let mut totals = vec![
        output::total(ADJUDICATION, "submitted", "Submitted Amount", adjudicated.total_charge),
        output::total(ADJUDICATION, "eligible", "Eligible Amount", adjudicated.total_allowed),
        output::total(ADJUDICATION, "benefit", "Benefit Amount", adjudicated.total_paid),
    ];
    totals.extend(output::cost_share_totals(adjudicated));
    json!({
        "resourceType": "ClaimResponse",
        "status": "active",
        "type": output::claim_type(claim.claim_type),
        "use": "claim",
        "patient": output::patient(&claim.member_id),
        "created": created,
        "insurer": output::insurer(&adjudicated.payer_id),
        "requestor": output::provider(&adjudicated.billing_npi),
        "request": { "type": "Claim", "identifier": output::claim_identifier(adjudicated.claim_id) },
        "outcome": "complete",
        "disposition": output::disposition(adjudicated.outcome),
        "item": items,
        "total": totals,
        "payment": output::payment(adjudicated.total_paid),
    })
}
