//! The standard edits and pricing per claim line on tables of production
//! size: 10,000 fee rows, 500,000 NCCI pairs, 10,000 MUEs, 10,000 RVUs.
//! Figures and the command: docs/benchmarks.md ("libs/policy").

use std::hint::black_box;

use claimtrail_events::Money;
use claimtrail_policy::*;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rust_decimal::Decimal;
use time::Date;
use time::macros::date;
use uuid::Uuid;

mod synthetic;

use synthetic::{Lcg, N_CODES, code};

const N_CLAIMS: u32 = 2_000;
const DOS: Date = date!(2026 - 03 - 02);

struct Tables {
    ncci: NcciTable,
    mues: MueTable,
    fees: FeeSchedule,
    rvus: RvuTable,
    gpcis: GpciTable,
    zips: ZipLocalities,
}

fn tables() -> Tables {
    let rvus = (0..N_CODES)
        .map(|n| Rvu {
            code: CodeKey::of(&code(n)),
            modifier: CodeKey::NONE,
            work: Decimal::new(i64::from(n % 500), 2),
            pe_non_facility: Decimal::new(i64::from(n % 300), 2),
            pe_facility: Decimal::new(i64::from(n % 200), 2),
            malpractice: Decimal::new(i64::from(n % 50), 2),
            multiple_procedure: 2,
            add_on: false,
            conversion_factor: Decimal::new(323_500, 4),
        })
        .collect();
    let localities: Vec<Locality> = (0..100).map(|n| Locality { carrier: 10_000 + n / 4, locality: (n % 4) as u16 }).collect();
    let gpcis = GpciTable::from_gpcis(
        localities.iter().map(|&locality| (locality, Gpci { work: Decimal::ONE, practice_expense: Decimal::new(950, 3), malpractice: Decimal::new(800, 3) })),
    );
    let zips = ZipLocalities::from_zips((0..40_000u32).map(|zip| (zip, localities[(zip % 100) as usize])));
    Tables { ncci: synthetic::ncci(), mues: synthetic::mues(), fees: synthetic::fees(), rvus: RvuTable::from_rvus(rvus), gpcis, zips }
}

/// Claims of 1-4 lines, each with 0-3 history lines of the same member and day.
fn claims() -> Vec<(Vec<EditLine>, Vec<EditLine>)> {
    let mut random = Lcg(42);
    let make = |claim_id: Uuid, sequence: u32, status: LineStatus, random: &mut Lcg| {
        let base = random.next(N_CODES);
        EditLine {
            claim_id,
            sequence,
            procedure_code: code(base),
            modifiers: if random.next(5) == 0 { vec!["59".to_owned()] } else { Vec::new() },
            units: Decimal::from(1 + random.next(3)),
            charge: Money::from_cents(i64::from(5_000 + random.next(100_000))),
            rendering_npi: "1000000004".to_owned(),
            billing_npi: "1000000012".to_owned(),
            member_id: format!("M-{}", claim_id.as_u128() % 1_000),
            service_date: DOS,
            place_of_service: Some(if random.next(4) == 0 { "22" } else { "11" }.to_owned()),
            status,
        }
    };
    (0..N_CLAIMS)
        .map(|claim_idx| {
            let claim_id = Uuid::from_u128(u128::from(claim_idx) + 1);
            let n_lines = 1 + random.next(4);
            let current: Vec<EditLine> = (1..=n_lines).map(|sequence| make(claim_id, sequence, LineStatus::Submitted, &mut random)).collect();
            let history_claim = Uuid::from_u128(u128::from(claim_idx) + 1_000_000);
            let history = (1..=random.next(4)).map(|sequence| make(history_claim, sequence, LineStatus::Paid, &mut random)).collect();
            (current, history)
        })
        .collect()
}

/// Everything one claim goes through here: NCCI, MUE, duplicates, pricing
/// of the lines no edit denied. Returns a count so nothing is optimized away.
fn decide(tables: &Tables, current: &[EditLine], history: &[EditLine]) -> usize {
    let mut findings = ncci_edits(&tables.ncci, current, history);
    findings.extend(mue_edits(&tables.mues, EditPolicy::default(), current, history));
    findings.extend(duplicate_edits(current, history));
    let to_price: Vec<LineToPrice<'_>> = current
        .iter()
        .filter(|line| !findings.iter().any(|finding| finding.sequence == line.sequence && matches!(finding.action, Action::Deny { .. })))
        .map(|line| LineToPrice { line, units_allowed: line.units, revenue_code: None })
        .collect();
    let pricing = PricingTables {
        fee_schedule: Some(&tables.fees),
        rvus: Some(&tables.rvus),
        gpcis: Some(&tables.gpcis),
        zip_localities: Some(&tables.zips),
        conversion_factor: None,
        percent_of_charge: None,
        ..PricingTables::default()
    };
    let prices = price_claim(&pricing, Some("00042"), &to_price).map(|prices| prices.len()).unwrap_or(0);
    findings.len() + prices
}

fn bench(c: &mut Criterion) {
    let tables = tables();
    let claims = claims();
    let n_lines: usize = claims.iter().map(|(current, _)| current.len()).sum();
    let memory = tables.ncci.memory_bytes() + tables.mues.memory_bytes() + tables.fees.memory_bytes() + tables.rvus.memory_bytes();
    eprintln!(
        "tables: {} NCCI pairs {} B, {} MUEs {} B, {} fee rows {} B, {} RVUs {} B; total {:.1} MiB; {} claims, {} lines",
        tables.ncci.len(),
        tables.ncci.memory_bytes(),
        tables.mues.len(),
        tables.mues.memory_bytes(),
        tables.fees.len(),
        tables.fees.memory_bytes(),
        tables.rvus.len(),
        tables.rvus.memory_bytes(),
        memory as f64 / (1024.0 * 1024.0),
        claims.len(),
        n_lines
    );
    let mut group = c.benchmark_group("policy");
    group.throughput(Throughput::Elements(n_lines as u64));
    group.bench_function("edits_and_pricing", |b| {
        b.iter(|| claims.iter().map(|(current, history)| decide(&tables, black_box(current), black_box(history))).sum::<usize>())
    });
    group.bench_function("ncci_only", |b| {
        b.iter(|| claims.iter().map(|(current, history)| ncci_edits(&tables.ncci, black_box(current), black_box(history)).len()).sum::<usize>())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
