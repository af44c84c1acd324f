//! The payer's decision tables per claim line (issue 16: at most 25 µs per
//! line for a 200-row table). Figures in docs/benchmarks.md.
//!
//! `flock /tmp/cargo.lock cargo bench -p claimtrail-rules --bench rules`

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;

use claimtrail_rules::RuleSet;
use criterion::{Criterion, criterion_group, criterion_main};

fn compile(body: &serde_json::Value) -> RuleSet {
    match RuleSet::parse("bench", &serde_json::to_vec(body).unwrap_or_default()) {
        Ok(rule_set) => rule_set,
        Err(errors) => panic!("the bench rule set is refused: {errors}"),
    }
}

fn tables(c: &mut Criterion) {
    let indexed = compile(&common::chain(vec![common::code_table(200)]));
    let wide = compile(&common::chain(vec![common::wide_table(200)]));
    let demo = match RuleSet::parse("demo", include_bytes!("../tests/fixtures/demo-rule-set.json")) {
        Ok(rule_set) => rule_set,
        Err(errors) => panic!("the demo rule set is refused: {errors}"),
    };
    eprintln!(
        "compiled size (estimate): 200-row indexed table {} KiB, 200-row wide table {} KiB, demo rule set {} KiB",
        indexed.compiled_bytes_estimate() / 1024,
        wide.compiled_bytes_estimate() / 1024,
        demo.compiled_bytes_estimate() / 1024
    );

    // A code in the middle of the table: one candidate row plus the catch-all.
    let line = common::facts("C0123");
    assert_eq!(indexed.evaluate(&line).map(|fired| fired.len()), Ok(1));
    c.bench_function("rules/200-row table indexed by code, per line", |b| b.iter(|| indexed.evaluate(black_box(&line))));
    let unknown = common::facts("Z9999");
    c.bench_function("rules/200-row table indexed by code, code not in it, per line", |b| b.iter(|| indexed.evaluate(black_box(&unknown))));
    let wide_line = common::facts("G0008");
    c.bench_function("rules/200-row table no index can help (3 tests a row, collect), per line", |b| b.iter(|| wide.evaluate(black_box(&wide_line))));
    let mut demo_line = common::facts("J1100");
    demo_line.line.place_of_service = Some("22".to_owned());
    c.bench_function("rules/demo rule set (5 tables, switch, expressions), per line", |b| b.iter(|| demo.evaluate(black_box(&demo_line))));
    c.bench_function("rules/facts to the ZEN variable, per line", |b| b.iter(|| black_box(&line).to_variable()));
    let body = serde_json::to_vec(&common::chain(vec![common::code_table(200)])).unwrap_or_default();
    c.bench_function("rules/parse, validate and compile a 200-row table", |b| b.iter(|| RuleSet::parse("bench", black_box(&body)).is_ok()));
}

criterion_group!(benches, tables);
criterion_main!(benches);
