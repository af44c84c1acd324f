//! Precision and recall per detector: scan a world's claims as the fraud
//! service would (facts with fingerprints, the world's reference data), then
//! compare the findings with the labels, at each pattern's level: claim
//! (claim id), provider (NPI) or provider-day (NPI and date).

use std::collections::HashSet;

use claimtrail_fraud::{Finding, FingerprintKey, Level, Pattern, PeerScore, ScanConfig, Scanner};
use time::Date;

use crate::world::LabelledWorld;

/// The key the measurement fingerprints with (any key of 32 bytes or more does).
pub fn measurement_key() -> FingerprintKey {
    FingerprintKey::new(1, b"claimtrail-fraud-measurement-key-0001".to_vec()).expect("long enough")
}

/// What a scan of a world found: the findings and the peer scores at the window's close.
#[derive(Debug)]
pub struct Scan {
    pub findings: Vec<Finding>,
    pub peer_scores: Vec<PeerScore>,
}

/// Every claim of `world` through one scanner, in ledger order, and one window closed at the end.
pub fn scan(world: &LabelledWorld, config: ScanConfig) -> Scan {
    let key = measurement_key();
    let mut scanner = Scanner::new(world.reference(&key), config);
    let mut findings = Vec::new();
    for (ledger_idx, claim) in world.claims.iter().enumerate() {
        findings.extend(scanner.observe(&world.facts(claim, ledger_idx as u64, &key)));
    }
    let peer_scores = scanner.peer_scores();
    findings.extend(scanner.close_window());
    Scan { findings, peer_scores }
}

/// One pattern's confusion counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    pub pattern: Pattern,
    pub n_labelled: usize,
    pub n_found: usize,
    pub n_true: usize,
}

impl Score {
    /// Found and labelled over found (1 when nothing was found).
    pub fn precision(&self) -> f64 {
        if self.n_found == 0 { 1.0 } else { self.n_true as f64 / self.n_found as f64 }
    }

    /// Found and labelled over labelled (1 when nothing was labelled).
    pub fn recall(&self) -> f64 {
        if self.n_labelled == 0 { 1.0 } else { self.n_true as f64 / self.n_labelled as f64 }
    }

    /// Adds another world's counts.
    pub fn add(&mut self, other: &Score) {
        self.n_labelled += other.n_labelled;
        self.n_found += other.n_found;
        self.n_true += other.n_true;
    }
}

/// What a finding or label is counted as: a claim, a provider or a provider-day.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Unit {
    Claim(uuid::Uuid),
    Provider(String),
    ProviderDay(String, Date),
}

fn units_of(finding: &Finding) -> Vec<Unit> {
    match finding.pattern.level() {
        Level::Claim => finding.claim_ids.iter().map(|id| Unit::Claim(*id)).collect(),
        Level::Provider => finding.npi.iter().map(|npi| Unit::Provider(npi.clone())).collect(),
        Level::ProviderDay => finding.npi.iter().zip(finding.date).map(|(npi, date)| Unit::ProviderDay(npi.clone(), date)).collect(),
    }
}

/// Precision and recall of each pattern's detector on `world`, from `findings`.
pub fn score(world: &LabelledWorld, findings: &[Finding]) -> Vec<Score> {
    Pattern::ALL
        .into_iter()
        .map(|pattern| {
            let labelled: HashSet<Unit> = match pattern.level() {
                Level::Claim => world.claim_labels.iter().filter(|label| label.pattern == pattern).map(|label| Unit::Claim(label.claim_id)).collect(),
                Level::Provider => {
                    world.provider_labels.iter().filter(|label| label.pattern == pattern).map(|label| Unit::Provider(label.npi.clone())).collect()
                }
                Level::ProviderDay => world
                    .provider_labels
                    .iter()
                    .filter(|label| label.pattern == pattern)
                    .filter_map(|label| label.date.map(|date| Unit::ProviderDay(label.npi.clone(), date)))
                    .collect(),
            };
            let found: HashSet<Unit> = findings.iter().filter(|finding| finding.pattern == pattern).flat_map(units_of).collect();
            let n_true = found.intersection(&labelled).count();
            Score { pattern, n_labelled: labelled.len(), n_found: found.len(), n_true }
        })
        .collect()
}

/// One row of the peer-outlier ROC: at `threshold`, the upcoders flagged and the honest providers flagged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RocPoint {
    pub threshold: f64,
    pub true_positive_rate: f64,
    pub false_positive_rate: f64,
    pub n_flagged: usize,
}

/// The peer-outlier score's ROC over `thresholds`, from scored providers and the upcoding labels of their worlds.
pub fn peer_roc(scored: &[(PeerScore, bool)], thresholds: &[f64]) -> Vec<RocPoint> {
    let n_positive = scored.iter().filter(|(_, upcoder)| *upcoder).count().max(1) as f64;
    let n_negative = scored.iter().filter(|(_, upcoder)| !*upcoder).count().max(1) as f64;
    thresholds
        .iter()
        .map(|threshold| {
            let flagged: Vec<bool> = scored.iter().filter(|(score, _)| score.score >= *threshold).map(|(_, upcoder)| *upcoder).collect();
            RocPoint {
                threshold: *threshold,
                true_positive_rate: flagged.iter().filter(|upcoder| **upcoder).count() as f64 / n_positive,
                false_positive_rate: flagged.iter().filter(|upcoder| !**upcoder).count() as f64 / n_negative,
                n_flagged: flagged.len(),
            }
        })
        .collect()
}

/// The scored providers of a scan, each with whether the world labelled it an upcoder.
pub fn labelled_peer_scores(world: &LabelledWorld, scan: &Scan) -> Vec<(PeerScore, bool)> {
    let upcoders: HashSet<&str> = world.provider_labels.iter().filter(|label| label.pattern == Pattern::Upcoding).map(|label| label.npi.as_str()).collect();
    scan.peer_scores.iter().map(|score| (score.clone(), upcoders.contains(score.npi.as_str()))).collect()
}
