//! Upcoding: peer-outlier scoring of office E/M levels (99211-99215 and
//! 99202-99205: the last digit is the level) against specialty peers.
//!
//! Over a window, per provider (rendering, else billing NPI) with at least
//! `upcoding_claims_min` E/M lines, in a specialty with at least
//! `upcoding_peers_min` such providers:
//!
//! - the peer centre is the median of the providers' mean levels (robust to
//!   a few upcoders among the peers);
//! - the spread is the pooled within-provider standard deviation of levels;
//! - the score is the lower 2-sigma bound of the provider's excess,
//!   `mean - centre - 2 * spread / sqrt(n)`, in levels, clamped to 0..1:
//!   a small practice needs a larger excess to be flagged.
//!
//! A provider scoring at least `upcoding_score_min` is flagged.

use std::collections::{BTreeMap, HashMap};

use crate::facts::{ClaimFacts, Frequency};
use crate::finding::{EVIDENCE_MAX, Evidence, Finding};
use crate::pattern::Pattern;
use crate::reference::Reference;
use crate::scanner::{PeerScore, ScanConfig};

use super::held::evidence_of;

/// The E/M level of an office visit code, 1 to 5.
pub fn em_level(code: &str) -> Option<u8> {
    match code {
        "99211" => Some(1),
        "99202" | "99212" => Some(2),
        "99203" | "99213" => Some(3),
        "99204" | "99214" => Some(4),
        "99205" | "99215" => Some(5),
        _ => None,
    }
}

#[derive(Debug, Default)]
struct Provider {
    specialty: Option<String>,
    /// Lines at levels 1..=5.
    by_level: [u32; 5],
    evidence: Vec<Evidence>,
}

impl Provider {
    fn n(&self) -> u32 {
        self.by_level.iter().sum()
    }

    fn mean(&self) -> f64 {
        let total: f64 = self.by_level.iter().enumerate().map(|(idx, n)| (idx + 1) as f64 * f64::from(*n)).sum();
        total / f64::from(self.n().max(1))
    }

    fn variance(&self) -> f64 {
        let mean = self.mean();
        let total: f64 = self.by_level.iter().enumerate().map(|(idx, n)| ((idx + 1) as f64 - mean).powi(2) * f64::from(*n)).sum();
        total / f64::from(self.n().max(1))
    }
}

/// E/M level counts per provider, since the last close.
#[derive(Debug, Default)]
pub struct EmCounts {
    providers: HashMap<String, Provider>,
}

impl EmCounts {
    pub fn observe(&mut self, claim: &ClaimFacts) {
        if claim.frequency != Frequency::Original {
            return;
        }
        let mut levels = claim.lines.iter().filter_map(|line| em_level(&line.code)).peekable();
        if levels.peek().is_none() {
            return;
        }
        let provider = self.providers.entry(claim.provider_npi().to_owned()).or_default();
        if provider.specialty.is_none() {
            provider.specialty = claim.specialty.clone();
        }
        for level in levels {
            provider.by_level[usize::from(level - 1)] += 1;
        }
        if provider.evidence.len() < EVIDENCE_MAX {
            provider.evidence.push(evidence_of(claim));
        }
    }

    /// Every scored provider's peer score, by NPI.
    pub fn scores(&self, config: &ScanConfig, reference: &Reference) -> Vec<PeerScore> {
        let mut by_specialty: BTreeMap<&str, Vec<(&str, &Provider)>> = BTreeMap::new();
        for (npi, provider) in &self.providers {
            if provider.n() < config.upcoding_claims_min {
                continue;
            }
            let Some(specialty) = provider.specialty.as_deref().or_else(|| reference.specialty_of(npi)) else { continue };
            by_specialty.entry(specialty).or_default().push((npi, provider));
        }
        let mut scores = Vec::new();
        for (specialty, peers) in by_specialty {
            if peers.len() < config.upcoding_peers_min as usize {
                continue;
            }
            let mut means: Vec<f64> = peers.iter().map(|(_, provider)| provider.mean()).collect();
            means.sort_by(f64::total_cmp);
            let centre = median(&means);
            let n_total: f64 = peers.iter().map(|(_, provider)| f64::from(provider.n())).sum();
            let spread = (peers.iter().map(|(_, provider)| provider.variance() * f64::from(provider.n())).sum::<f64>() / n_total).sqrt().max(0.25);
            for (npi, provider) in peers {
                let excess = provider.mean() - centre;
                let bound = excess - 2.0 * spread / f64::from(provider.n()).sqrt();
                scores.push(PeerScore {
                    npi: npi.to_owned(),
                    specialty: specialty.to_owned(),
                    n_claims: provider.n(),
                    mean_level_excess: excess,
                    score: bound.clamp(0.0, 1.0),
                });
            }
        }
        scores.sort_by(|a, b| a.npi.cmp(&b.npi));
        scores
    }

    /// The flagged providers of the window; the counts start again.
    pub fn close(&mut self, config: &ScanConfig, reference: &Reference) -> Vec<Finding> {
        let findings = self
            .scores(config, reference)
            .into_iter()
            .filter(|score| score.score >= config.upcoding_score_min)
            .map(|score| {
                let evidence = self.providers.get(&score.npi).map(|provider| provider.evidence.clone()).unwrap_or_default();
                Finding {
                    pattern: Pattern::Upcoding,
                    claim_ids: evidence.iter().map(|evidence| evidence.claim_id).collect(),
                    duplicates: None,
                    date: None,
                    score: score.score,
                    evidence,
                    reason: format!(
                        "mean E/M level {:+.2} above the {} peers' median over {} E/M lines",
                        score.mean_level_excess, score.specialty, score.n_claims
                    ),
                    npi: Some(score.npi),
                }
            })
            .collect();
        self.providers.clear();
        findings
    }
}

fn median(sorted: &[f64]) -> f64 {
    let mid = sorted.len() / 2;
    if sorted.len().is_multiple_of(2) { (sorted[mid - 1] + sorted[mid]) / 2.0 } else { sorted[mid] }
}
