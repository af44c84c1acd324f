//! Velocity spikes: a billing provider's claims received on one day against
//! its own baseline, the mean daily count over the `velocity_baseline_days`
//! before (days without claims count as zero). A day is a spike when its
//! count passes `velocity_spike_factor` times the baseline (at least one a
//! day), `velocity_peak_factor` times the busiest day of the baseline (a
//! weekly batch submitter's Monday is not a spike) and
//! `velocity_spike_claims_min`, once the provider has claims on
//! `velocity_history_days_min` days of the baseline period. Flagged once when the day
//! crosses, and not again within the baseline period. Claims arrive in
//! ledger order, so by received date; a late one counts toward its day but
//! raises nothing. Score: the count over twice the spike line, at most 1.

use std::collections::{HashMap, VecDeque};

use time::Date;

use crate::facts::{ClaimFacts, Frequency};
use crate::finding::{EVIDENCE_MAX, Evidence, Finding};
use crate::pattern::Pattern;
use crate::scanner::ScanConfig;

use super::held::evidence_of;

#[derive(Debug)]
struct Provider {
    first_day: Date,
    day: Date,
    n_claims: u32,
    /// Earlier days with claims, oldest first, within the baseline period.
    history: VecDeque<(Date, u32)>,
    flagged_on: Option<Date>,
    evidence: Vec<Evidence>,
}

/// Daily counts per billing NPI.
#[derive(Debug, Default)]
pub struct Velocity {
    providers: HashMap<String, Provider>,
}

impl Velocity {
    pub fn observe(&mut self, config: &ScanConfig, claim: &ClaimFacts) -> Option<Finding> {
        if claim.frequency != Frequency::Original {
            return None;
        }
        let today = claim.received;
        let provider = self.providers.entry(claim.billing_npi.clone()).or_insert_with(|| Provider {
            first_day: today,
            day: today,
            n_claims: 0,
            history: VecDeque::new(),
            flagged_on: None,
            evidence: Vec::new(),
        });
        if today < provider.day {
            if let Some((_, n_claims)) = provider.history.iter_mut().find(|(date, _)| *date == today) {
                *n_claims += 1;
            }
            return None;
        }
        if today > provider.day {
            if provider.n_claims > 0 {
                provider.history.push_back((provider.day, provider.n_claims));
            }
            provider.day = today;
            provider.n_claims = 0;
            provider.evidence.clear();
        }
        let baseline_from = today - time::Duration::days(i64::from(config.velocity_baseline_days));
        while provider.history.front().is_some_and(|(date, _)| *date < baseline_from) {
            provider.history.pop_front();
        }
        provider.n_claims += 1;
        if provider.evidence.len() < EVIDENCE_MAX {
            provider.evidence.push(evidence_of(claim));
        }
        let history_days = (today - provider.first_day).whole_days();
        // Days with claims, not days since the first: a weekly submitter's first batch after a few stray claims has no baseline yet.
        if provider.history.len() < config.velocity_history_days_min as usize {
            return None;
        }
        if provider.flagged_on.is_some_and(|flagged| (today - flagged).whole_days() <= i64::from(config.velocity_baseline_days)) {
            return None;
        }
        let baseline_days = history_days.min(i64::from(config.velocity_baseline_days)) as f64;
        let baseline = provider.history.iter().map(|(_, n)| f64::from(*n)).sum::<f64>() / baseline_days;
        let peak = provider.history.iter().map(|(_, n)| *n).max().unwrap_or(0);
        let line = (config.velocity_spike_factor * baseline.max(1.0))
            .max(config.velocity_peak_factor * f64::from(peak))
            .max(f64::from(config.velocity_spike_claims_min) - 1.0);
        if f64::from(provider.n_claims) <= line {
            return None;
        }
        provider.flagged_on = Some(today);
        Some(Finding {
            pattern: Pattern::VelocitySpike,
            claim_ids: provider.evidence.iter().map(|evidence| evidence.claim_id).collect(),
            duplicates: None,
            npi: Some(claim.billing_npi.clone()),
            date: Some(today),
            score: (f64::from(provider.n_claims) / (2.0 * line)).min(1.0),
            evidence: provider.evidence.clone(),
            reason: format!("{} claims received in one day against a baseline of {baseline:.1} a day (busiest day {peak})", provider.n_claims),
        })
    }
}
