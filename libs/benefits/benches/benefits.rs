//! Cost sharing per claim line: plan lookup, copay, deductible,
//! coinsurance, the out-of-pocket cap and the accumulator events, on 2,000
//! claims of 4 lines for 500 families, each claim applied before the next
//! (as the per-family order decides them). Figures and the command:
//! docs/benchmarks.md ("libs/benefits").

use std::hint::black_box;

use claimtrail_benefits::*;
use claimtrail_codes::{ClaimId, MemberId};
use claimtrail_events::Money;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const N_CLAIMS: u32 = 2_000;
const N_LINES: u32 = 4;
const N_FAMILIES: u32 = 500;

fn plan() -> CompiledPlan {
    let body = r#"{
        "name": "bench PPO",
        "categories": ["medical", "office_visit", "preventive", "imaging"],
        "default_category": "medical",
        "category_map": [
            {"category": "preventive", "codes": ["G0438-G0439"]},
            {"category": "imaging", "codes": ["70010-79999"]},
            {"category": "office_visit", "codes": ["99202-99215"], "places_of_service": ["11"]}
        ],
        "tiers": {
            "inn": {
                "deductible": {"individual": "1500.00", "family": "3000.00"},
                "oop_max": {"individual": "5000.00", "family": "10000.00"},
                "coinsurance_percent": "20",
                "category_benefits": [
                    {"category": "office_visit", "copay": "25.00", "skips_deductible": true, "coinsurance_percent": "0"},
                    {"category": "preventive", "skips_deductible": true, "coinsurance_percent": "0"}
                ]
            },
            "oon": {
                "deductible": {"individual": "3000.00", "family": "6000.00"},
                "oop_max": {"individual": "10000.00", "family": "20000.00"},
                "coinsurance_percent": "40"
            }
        }
    }"#;
    Plan::from_json(body.as_bytes()).unwrap()
}

fn claims() -> Vec<BenefitClaim> {
    let codes = ["99213", "J1100", "71046", "G0439"];
    (0..N_CLAIMS)
        .map(|claim_idx| {
            let family_idx = claim_idx % N_FAMILIES;
            BenefitClaim {
                claim: ClaimVersion { claim_id: ClaimId::parse(&format!("0190f3a4-7c1e-7d2b-9a41-{claim_idx:012x}")).unwrap(), version: 1 },
                member_id: MemberId::parse(&format!("M{family_idx}-{}", claim_idx / N_FAMILIES % 4)).unwrap(),
                family_id: Some(MemberId::parse(&format!("S{family_idx}")).unwrap()),
                plan_year: 2026,
                tier: if claim_idx % 10 == 0 { Tier::Oon } else { Tier::Inn },
                lines: (0..N_LINES)
                    .map(|line_idx| BenefitLine {
                        sequence: line_idx + 1,
                        procedure_code: codes[((claim_idx + line_idx) % 4) as usize].into(),
                        place_of_service: Some("11".into()),
                        allowed: Money::from_cents(i64::from(5_000 + (claim_idx * 7_919 + line_idx * 104_729) % 60_000)),
                        denied: false,
                    })
                    .collect(),
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let plan = plan();
    let claims = claims();
    let mut group = c.benchmark_group("benefits");
    group.throughput(Throughput::Elements(u64::from(N_CLAIMS * N_LINES)));
    group.bench_function("cost_share_and_apply", |b| {
        b.iter(|| {
            let mut state = Accumulators::new();
            let mut paid = Money::ZERO;
            for claim in &claims {
                let benefits = cost_share(&plan, claim, &state).unwrap();
                paid = paid.checked_add(benefits.paid).unwrap();
                state.apply(&AccumulatorEvent::Applied(benefits.applied));
            }
            black_box(paid)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
