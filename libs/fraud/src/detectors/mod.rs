//! One detector per pattern, each a pure function of the claim, the
//! reference facts and the scanner's bounded state:
//!
//! - exact_duplicate, near_duplicate: [`duplicates`].
//! - cross_payer_duplicate (keyed fingerprints): [`cross_payer`].
//! - unbundling, on one claim or across two: [`unbundling`].
//! - upcoding, peer-outlier scoring of E/M levels at `close_window`: [`upcoding`].
//! - impossible_day: [`impossible_day`].
//! - excluded_provider: [`excluded_provider`].
//! - after_death: [`after_death`].
//! - velocity_spike: [`velocity`].
//! - the claims held for matching and their indexes: [`held`].

pub mod after_death;
pub mod cross_payer;
pub mod duplicates;
pub mod excluded_provider;
pub mod held;
pub mod impossible_day;
pub mod unbundling;
pub mod upcoding;
pub mod velocity;

use time::Date;

use crate::facts::ClaimFacts;
use crate::finding::Finding;
use crate::reference::Reference;
use crate::scanner::{PeerScore, ScanConfig};

/// The scanner's state: held claims, provider-days, velocity and E/M counts.
#[derive(Debug)]
pub(crate) struct State {
    held: held::Held,
    days: impossible_day::Days,
    velocity: velocity::Velocity,
    em: upcoding::EmCounts,
    newest: Option<Date>,
}

impl State {
    pub(crate) fn new(_config: &ScanConfig) -> State {
        State {
            held: held::Held::default(),
            days: impossible_day::Days::default(),
            velocity: velocity::Velocity::default(),
            em: upcoding::EmCounts::default(),
            newest: None,
        }
    }

    pub(crate) fn observe(&mut self, config: &ScanConfig, reference: &Reference, claim: &ClaimFacts) -> Vec<Finding> {
        let mut findings = Vec::new();
        findings.extend(excluded_provider::check(reference, claim));
        findings.extend(after_death::check(reference, claim));
        findings.extend(duplicates::check(&self.held, claim));
        findings.extend(cross_payer::check(&self.held, claim));
        if let Some(finding) = unbundling::within_claim(reference, claim).or_else(|| unbundling::across_claims(&self.held, reference, claim)) {
            findings.push(finding);
        }
        findings.extend(self.days.observe(reference, config.impossible_day_minutes, claim));
        findings.extend(self.velocity.observe(config, claim));
        self.em.observe(claim);
        self.held.insert(claim);
        if let Some((_, last)) = claim.service_span()
            && self.newest.is_none_or(|newest| last > newest)
        {
            self.newest = Some(last);
            let before = last - time::Duration::days(i64::from(config.window_days));
            self.days.evict(before);
            self.held.evict(config.claims_held_max, before);
        } else if self.held.n_claims() > config.claims_held_max {
            let before = self.newest.map_or(time::Date::MIN, |newest| newest - time::Duration::days(i64::from(config.window_days)));
            self.held.evict(config.claims_held_max, before);
        }
        findings
    }

    pub(crate) fn close_window(&mut self, config: &ScanConfig, reference: &Reference) -> Vec<Finding> {
        self.em.close(config, reference)
    }

    pub(crate) fn peer_scores(&self, config: &ScanConfig, reference: &Reference) -> Vec<PeerScore> {
        self.em.scores(config, reference)
    }

    pub(crate) fn newest_service_date(&self) -> Option<Date> {
        self.newest
    }

    pub(crate) fn n_claims_held(&self) -> usize {
        self.held.n_claims()
    }
}

#[cfg(test)]
mod tests;
