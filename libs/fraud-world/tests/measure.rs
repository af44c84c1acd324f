//! The detectors measured on labelled worlds (docs/benchmarks.md, "Fraud detectors").
//!
//! Seeds 1 to 5 and 11 to 15 are the worlds the thresholds and the generator
//! were tuned on (11 to 15 were first meant to be held out, and were seen once
//! before tuning ended, so they count as tuning seeds); the figures come from
//! seeds 21 to 25, run once tuning was over. Run with `--nocapture` for the tables.

use claimtrail_fraud::{Pattern, ScanConfig};
use claimtrail_fraud_world::{LabelledWorld, RocPoint, Score, WorldConfig, labelled_peer_scores, peer_roc, scan, score};
use time::macros::date;

const HELD_OUT_SEEDS: [u64; 5] = [21, 22, 23, 24, 25];
const TUNING_SEEDS: [u64; 10] = [1, 2, 3, 4, 5, 11, 12, 13, 14, 15];

fn world(seed: u64) -> LabelledWorld {
    LabelledWorld::generate(WorldConfig { seed, n_providers: 60, days: 56, end: date!(2026 - 10 - 31), volume: 1.0, injected: Pattern::ALL.to_vec() })
}

#[test]
fn the_same_seed_gives_the_same_world_and_another_seed_another() {
    let (a, b) = (world(3), world(3));
    assert_eq!(a.claims, b.claims);
    assert_eq!((a.claim_labels_csv(), a.provider_labels_csv()), (b.claim_labels_csv(), b.provider_labels_csv()));
    assert_ne!(a.claims, world(4).claims);
}

#[test]
fn every_pattern_is_injected_and_labelled() {
    let world = world(2);
    for prevalence in world.prevalence() {
        assert!(prevalence.n_labelled > 0, "{prevalence}");
    }
    assert!(world.claim_labels_csv().starts_with("claim_id,pattern,duplicates\n"));
    assert!(world.provider_labels_csv().lines().skip(1).all(|row| row.split(',').count() == 3));
}

#[test]
fn precision_and_recall_per_detector_on_held_out_seeds() {
    let mut totals: Vec<Score> = Pattern::ALL.into_iter().map(|pattern| Score { pattern, n_labelled: 0, n_found: 0, n_true: 0 }).collect();
    let mut scored = Vec::new();
    for seed in HELD_OUT_SEEDS {
        let world = world(seed);
        let scan = scan(&world, ScanConfig::standard());
        let scores = score(&world, &scan.findings);
        println!("seed {seed}: {} claims", world.claims.len());
        for (total, one) in totals.iter_mut().zip(&scores) {
            println!(
                "  {:<22} labelled {:>4} found {:>4} true {:>4}  precision {:.3} recall {:.3}",
                one.pattern.as_str(),
                one.n_labelled,
                one.n_found,
                one.n_true,
                one.precision(),
                one.recall()
            );
            total.add(one);
        }
        scored.extend(labelled_peer_scores(&world, &scan));
    }
    println!("| pattern | labelled | found | true | precision | recall |");
    println!("|---|---:|---:|---:|---:|---:|");
    for total in &totals {
        println!(
            "| {} | {} | {} | {} | {:.3} | {:.3} |",
            total.pattern.as_str(),
            total.n_labelled,
            total.n_found,
            total.n_true,
            total.precision(),
            total.recall()
        );
    }
    let roc: Vec<RocPoint> = peer_roc(&scored, &[0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]);
    println!("| threshold | flagged | true positive rate | false positive rate |");
    println!("|---:|---:|---:|---:|");
    for point in &roc {
        println!("| {:.1} | {} | {:.3} | {:.3} |", point.threshold, point.n_flagged, point.true_positive_rate, point.false_positive_rate);
    }
    for total in &totals {
        assert!(total.n_labelled > 0, "{} was never injected", total.pattern);
        assert!(
            total.precision() >= 0.95 && total.recall() >= 0.90,
            "{}: precision {:.3}, recall {:.3} (target 0.95 / 0.90)",
            total.pattern,
            total.precision(),
            total.recall()
        );
    }
}

/// The tuning worlds: each detector's false positives and misses, to tune on (never the held-out seeds).
#[test]
fn tuning_report() {
    for seed in TUNING_SEEDS {
        let world = world(seed);
        let scan = scan(&world, ScanConfig::standard());
        for one in score(&world, &scan.findings) {
            if one.n_true != one.n_found || one.n_true != one.n_labelled {
                println!("seed {seed}: {:<22} labelled {:>4} found {:>4} true {:>4}", one.pattern.as_str(), one.n_labelled, one.n_found, one.n_true);
            }
        }
        for finding in scan.findings.iter().filter(|finding| finding.pattern == Pattern::VelocitySpike) {
            let labelled = world.provider_labels.iter().any(|label| label.pattern == Pattern::VelocitySpike && Some(&label.npi) == finding.npi.as_ref());
            let provider = world.providers.iter().find(|provider| Some(&provider.npi) == finding.npi.as_ref()).expect("a provider of the world");
            println!(
                "seed {seed}: velocity {} {} {:?} weekly {} starts {} labelled {labelled}: {}",
                provider.npi, provider.specialty.label, finding.date, provider.weekly_batches, provider.starts, finding.reason
            );
        }
        for (peer, upcoder) in labelled_peer_scores(&world, &scan) {
            if upcoder || peer.score > 0.0 {
                println!(
                    "seed {seed}: peer {} {} n {} excess {:.2} score {:.2} upcoder {upcoder}",
                    peer.npi, peer.specialty, peer.n_claims, peer.mean_level_excess, peer.score
                );
            }
        }
    }
}
