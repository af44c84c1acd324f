//! Services after death: a line dated after the member's date of death, as
//! the payer recorded it for the member or as any payer recorded it for the
//! person (keyed person fingerprint). A service on the day of death is not
//! flagged (an emergency visit that day is real).

use crate::facts::{ClaimFacts, Frequency};
use crate::finding::Finding;
use crate::pattern::Pattern;
use crate::reference::Reference;

use super::held::evidence_of;

pub fn check(reference: &Reference, claim: &ClaimFacts) -> Option<Finding> {
    if claim.frequency == Frequency::Void || !reference.has_deaths() {
        return None;
    }
    let person = claim.fingerprint_key_id.zip(claim.person);
    let died = reference.death_of(&claim.payer_id, &claim.member_id, person)?;
    let line = claim.lines.iter().find(|line| line.service_date > died)?;
    Some(Finding {
        pattern: Pattern::AfterDeath,
        claim_ids: vec![claim.claim_id],
        duplicates: None,
        npi: Some(claim.billing_npi.clone()),
        date: Some(line.service_date),
        score: 1.0,
        evidence: vec![evidence_of(claim)],
        reason: format!("service on {} is {} day(s) after the date of death", line.service_date, (line.service_date - died).whole_days()),
    })
}
