//! Excluded providers: a line whose date of service falls in an exclusion of
//! the billing or the rendering NPI (LEIE-like, [`Reference::exclusion_on`]).
//! A service before the exclusion, or after reinstatement, is not flagged.

use crate::facts::{ClaimFacts, Frequency};
use crate::finding::Finding;
use crate::pattern::Pattern;
use crate::reference::Reference;

use super::held::evidence_of;

pub fn check(reference: &Reference, claim: &ClaimFacts) -> Option<Finding> {
    if claim.frequency == Frequency::Void {
        return None;
    }
    let npis = std::iter::once(claim.billing_npi.as_str()).chain(claim.rendering_npi.as_deref());
    for npi in npis {
        if let Some(line) = claim.lines.iter().find(|line| reference.exclusion_on(npi, line.service_date).is_some()) {
            let period = reference.exclusion_on(npi, line.service_date).expect("just found");
            return Some(Finding {
                pattern: Pattern::ExcludedProvider,
                claim_ids: vec![claim.claim_id],
                duplicates: None,
                npi: Some(npi.to_owned()),
                date: Some(line.service_date),
                score: 1.0,
                evidence: vec![evidence_of(claim)],
                reason: format!("{npi} is excluded from {} on; service on {}", period.from, line.service_date),
            });
        }
    }
    None
}
