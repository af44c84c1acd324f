//! Impossible days: the minutes of timed services ([`Reference::minutes_of`]
//! times units) one provider (rendering, else billing NPI) bills for one date
//! of service, summed over all payers' claims; flagged once, when the sum
//! first passes `impossible_day_minutes`. Score: the sum over 24 hours, at most 1.

use std::collections::HashMap;

use time::Date;
use uuid::Uuid;

use crate::facts::{ClaimFacts, Frequency};
use crate::finding::{EVIDENCE_MAX, Evidence, Finding};
use crate::pattern::Pattern;
use crate::reference::Reference;

use super::held::evidence_of;

#[derive(Debug, Default)]
struct ProviderDay {
    minutes: u64,
    flagged: bool,
    evidence: Vec<Evidence>,
}

/// Minutes per provider and date, for dates inside the window.
#[derive(Debug, Default)]
pub struct Days {
    days: HashMap<(String, Date), ProviderDay>,
}

impl Days {
    /// Adds `claim`'s minutes; the findings of the provider-days it pushes over `minutes_max`.
    pub fn observe(&mut self, reference: &Reference, minutes_max: u32, claim: &ClaimFacts) -> Vec<Finding> {
        if claim.frequency != Frequency::Original {
            return Vec::new();
        }
        let npi = claim.provider_npi();
        let mut by_date: Vec<(Date, u64)> = Vec::new();
        for line in &claim.lines {
            let Some(minutes) = reference.minutes_of(&line.code) else { continue };
            let minutes = u64::from(minutes) * u64::from(line.units.max(1));
            match by_date.iter_mut().find(|(date, _)| *date == line.service_date) {
                Some((_, sum)) => *sum += minutes,
                None => by_date.push((line.service_date, minutes)),
            }
        }
        let mut findings = Vec::new();
        for (date, minutes) in by_date {
            let day = self.days.entry((npi.to_owned(), date)).or_default();
            day.minutes += minutes;
            if day.evidence.len() < EVIDENCE_MAX {
                day.evidence.push(evidence_of(claim));
            }
            if !day.flagged && day.minutes > u64::from(minutes_max) {
                day.flagged = true;
                let mut claim_ids: Vec<Uuid> = day.evidence.iter().map(|evidence| evidence.claim_id).collect();
                claim_ids.dedup();
                findings.push(Finding {
                    pattern: Pattern::ImpossibleDay,
                    claim_ids,
                    duplicates: None,
                    npi: Some(npi.to_owned()),
                    date: Some(date),
                    score: (day.minutes as f64 / (24.0 * 60.0)).min(1.0),
                    evidence: day.evidence.clone(),
                    reason: format!("{} minutes of timed services billed for one day (more than {minutes_max})", day.minutes),
                });
            }
        }
        findings
    }

    /// Forgets days before `before`.
    pub fn evict(&mut self, before: Date) {
        self.days.retain(|(_, date), _| *date >= before);
    }
}
