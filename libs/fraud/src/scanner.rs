//! The [`Scanner`]: claims in, findings out, one detector per pattern.
//!
//! Streaming and deterministic: [`Scanner::observe`] takes claims in ledger
//! order and returns the claim-level findings (and provider-day ones as they
//! cross their line) at once; [`Scanner::close_window`] returns the
//! provider-level ones (upcoding against specialty peers) over the claims
//! seen since the last close. State is bounded by [`ScanConfig`]: claims
//! older than the window (by date of service) are dropped, and at most
//! `claims_held_max` are held.

use time::Date;

use crate::facts::ClaimFacts;
use crate::finding::Finding;
use crate::reference::Reference;

/// The scanner's limits and thresholds. No `Default`: spell them out, or take [`ScanConfig::standard`].
#[derive(Debug, Clone, PartialEq)]
pub struct ScanConfig {
    /// How far back (days of service before the newest seen) duplicates and unbundling look.
    pub window_days: u32,
    /// Claims held for matching, at most; the oldest go first.
    pub claims_held_max: usize,
    /// Minutes of timed services one provider may bill on one day before it is impossible.
    pub impossible_day_minutes: u32,
    /// Days of a provider's own history its velocity baseline is taken over.
    pub velocity_baseline_days: u32,
    /// A day with more than this many times the provider's baseline daily claims is a spike...
    pub velocity_spike_factor: f64,
    /// ...and more than this many times its busiest day in the baseline (weekly batch submitters are not spikes)...
    pub velocity_peak_factor: f64,
    /// ...and at least this many claims.
    pub velocity_spike_claims_min: u32,
    /// Days with claims in the baseline period a provider needs before a spike can be called.
    pub velocity_history_days_min: u32,
    /// E/M claims a provider needs in a window to be scored against peers.
    pub upcoding_claims_min: u32,
    /// Peer-outlier score at or above which a provider is flagged for upcoding.
    pub upcoding_score_min: f64,
    /// Peers a specialty needs (providers with enough E/M claims) for its distribution to count.
    pub upcoding_peers_min: u32,
}

impl ScanConfig {
    /// The thresholds the measurement (docs/benchmarks.md) was made with.
    pub fn standard() -> ScanConfig {
        ScanConfig {
            window_days: 120,
            claims_held_max: 2_000_000,
            impossible_day_minutes: 16 * 60,
            velocity_baseline_days: 28,
            velocity_spike_factor: 4.0,
            velocity_peak_factor: 2.0,
            velocity_spike_claims_min: 20,
            velocity_history_days_min: 7,
            upcoding_claims_min: 30,
            upcoding_score_min: 0.3,
            upcoding_peers_min: 5,
        }
    }
}

/// A provider's peer-outlier score for one window (the upcoding detector's input, and the ROC's).
#[derive(Debug, Clone, PartialEq)]
pub struct PeerScore {
    pub npi: String,
    pub specialty: String,
    /// E/M claims of the provider in the window.
    pub n_claims: u32,
    /// The provider's mean E/M level minus its peers' (levels 1 to 5).
    pub mean_level_excess: f64,
    /// The score: see [`crate::detectors::upcoding`].
    pub score: f64,
}

/// Claims in, findings out.
#[derive(Debug)]
pub struct Scanner {
    config: ScanConfig,
    reference: Reference,
    state: crate::detectors::State,
}

impl Scanner {
    pub fn new(reference: Reference, config: ScanConfig) -> Scanner {
        Scanner { state: crate::detectors::State::new(&config), config, reference }
    }

    pub fn config(&self) -> &ScanConfig {
        &self.config
    }

    pub fn reference(&self) -> &Reference {
        &self.reference
    }

    /// One claim, in ledger order: the findings it makes now (claim-level, impossible days, velocity spikes).
    pub fn observe(&mut self, claim: &ClaimFacts) -> Vec<Finding> {
        self.state.observe(&self.config, &self.reference, claim)
    }

    /// The end of a window (a month, or the end of a batch): the provider-level findings over the claims
    /// since the last close (upcoding), after which those counts start again.
    pub fn close_window(&mut self) -> Vec<Finding> {
        self.state.close_window(&self.config, &self.reference)
    }

    /// The peer-outlier scores of the current window, every scored provider, by NPI (what `close_window` thresholds).
    pub fn peer_scores(&self) -> Vec<PeerScore> {
        self.state.peer_scores(&self.config, &self.reference)
    }

    /// The newest date of service seen.
    pub fn newest_service_date(&self) -> Option<Date> {
        self.state.newest_service_date()
    }

    /// Claims held for matching now (bounded by `claims_held_max`).
    pub fn n_claims_held(&self) -> usize {
        self.state.n_claims_held()
    }
}
