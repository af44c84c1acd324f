//! The scanning rate: claims a second through one [`Scanner`], every detector on, facts built beforehand
//! (fingerprints are the producer's work). `cargo bench -p claimtrail-fraud-world --bench scan`.

use claimtrail_fraud::{ClaimFacts, Pattern, ScanConfig, Scanner};
use claimtrail_fraud_world::{LabelledWorld, WorldConfig, measurement_key};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use time::macros::date;

fn scan_rate(c: &mut Criterion) {
    let world =
        LabelledWorld::generate(WorldConfig { seed: 7, n_providers: 120, days: 56, end: date!(2026 - 10 - 31), volume: 1.0, injected: Pattern::ALL.to_vec() });
    let key = measurement_key();
    let reference = world.reference(&key);
    let facts: Vec<ClaimFacts> = world.claims.iter().enumerate().map(|(idx, claim)| world.facts(claim, idx as u64, &key)).collect();
    let mut group = c.benchmark_group("fraud_scan");
    group.throughput(Throughput::Elements(facts.len() as u64));
    group.sample_size(10);
    group.bench_function(format!("{}_claims", facts.len()), |b| {
        b.iter(|| {
            let mut scanner = Scanner::new(reference.clone(), ScanConfig::standard());
            let mut n_findings = 0usize;
            for claim in &facts {
                n_findings += scanner.observe(claim).len();
            }
            n_findings + scanner.close_window().len()
        })
    });
    group.finish();
}

criterion_group!(benches, scan_rate);
criterion_main!(benches);
