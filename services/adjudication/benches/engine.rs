//! The adjudication engine alone ([`decide`], then the [`DecisionRecord`] a
//! decision stores) on the table sizes: 10,000 fee-schedule rows,
//! 500,000 NCCI pairs, 10,000 MUEs and 100,000 members, without payer
//! decision tables (libs/rules has its own bench). One core, no IO.
//! Figures and the command: docs/benchmarks.md ("The adjudication engine").

use std::hint::black_box;

use claimtrail_adjudication::domain::{
    BenefitFacts, Command, DecisionRecord, DecisionState, Facts, FeeSchedule, HistoryFact, HistoryStatus, MemberFacts, PayerFacts, PolicyInForce,
    ProviderFacts, RegistryFacts, TableInForce, decide,
};
use claimtrail_events::canonical::to_canonical_vec;
use claimtrail_events::{ClaimLine, ClaimType, Frequency, Money, SubmittedClaim, Timestamp};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rust_decimal::Decimal;
use time::Date;
use time::macros::date;
use uuid::Uuid;

#[path = "../../../libs/policy/benches/synthetic/mod.rs"]
mod synthetic;

use synthetic::{Lcg, N_CODES, code};

const N_MEMBERS: u32 = 100_000;
const N_CLAIMS: u32 = 2_000;
const DOS: Date = date!(2026 - 11 - 02);
const NPI: &str = "1234567893";

fn policy() -> PolicyInForce {
    PolicyInForce {
        ncci: Some(TableInForce::new("a".repeat(64), synthetic::ncci())),
        mue: Some(TableInForce::new("b".repeat(64), synthetic::mues())),
        fee_schedule: Some(TableInForce::new("c".repeat(64), synthetic::fees())),
        ..PolicyInForce::default()
    }
}

fn members() -> Vec<MemberFacts> {
    let recorded_at = Timestamp::parse("2026-01-02T00:00:00.000000Z").expect("a timestamp");
    (0..N_MEMBERS)
        .map(|n| MemberFacts {
            member_id: format!("M{n:06}"),
            plan_id: "PPO".into(),
            subscriber_id: Some(format!("M{:06}", n - n % 4)),
            coverage_start: date!(2026 - 01 - 01),
            coverage_end: date!(2026 - 12 - 31),
            date_of_death: None,
            birth_date: Some(date!(1980 - 01 - 01)),
            sex: Some("female".into()),
            relationship: None,
            recorded_at,
        })
        .collect()
}

/// Claims of 1-4 lines for members spread over the 100,000, each with 0-3
/// history lines of the same member, provider and day.
fn claims(members: &[MemberFacts]) -> Vec<(SubmittedClaim, MemberFacts, Vec<HistoryFact>)> {
    let mut random = Lcg(42);
    (0..N_CLAIMS)
        .map(|claim_idx| {
            let member = members[random.next(N_MEMBERS) as usize].clone();
            let lines: Vec<ClaimLine> = (1..=1 + random.next(4))
                .map(|sequence| ClaimLine {
                    sequence,
                    procedure_code: code(random.next(N_CODES)).parse().expect("a code"),
                    modifiers: if random.next(5) == 0 { vec!["59".parse().expect("a modifier")] } else { Vec::new() },
                    quantity: Decimal::from(1 + random.next(3)),
                    charge: Money::from_cents(i64::from(5_000 + random.next(100_000))),
                    service_date: DOS,
                    place_of_service: Some((if random.next(4) == 0 { "22" } else { "11" }).parse().expect("a place of service")),
                    diagnosis_pointers: vec![1],
                    revenue_code: None,
                })
                .collect();
            let history = (1..=random.next(4))
                .map(|sequence| HistoryFact {
                    claim_id: Uuid::from_u128(u128::from(claim_idx) + 1_000_000),
                    sequence,
                    billing_npi: NPI.into(),
                    rendering_npi: None,
                    service_date: DOS,
                    procedure_code: code(random.next(N_CODES)),
                    modifiers: Vec::new(),
                    units: "1".into(),
                    charge: Money::from_cents(i64::from(5_000 + random.next(100_000))),
                    status: HistoryStatus::Paid,
                })
                .collect();
            let claim = SubmittedClaim {
                claim_id: Uuid::from_u128(u128::from(claim_idx) + 1),
                claim_type: ClaimType::Professional,
                frequency: Frequency::Original,
                related_claim_id: None,
                patient_control_number: None,
                billing_npi: NPI.parse().expect("an NPI"),
                rendering_npi: None,
                payer_id: "PAYER1".parse().expect("a payer id"),
                member_id: member.member_id.parse().expect("a member id"),
                diagnoses: Vec::new(),
                total_charge: Money::checked_sum(lines.iter().map(|line| &line.charge)).expect("a total"),
                lines,
                subscriber_id: None,
                service_zip: None,
                prior_authorization: None,
                drg: None,
                admission_date: None,
                statement_from: None,
                statement_to: None,
                type_of_bill: None,
                cob: None,
            };
            (claim, member, history)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let policy = policy();
    let members = members();
    let claims = claims(&members);
    let legacy = FeeSchedule { content_hash: "d".repeat(64), fees: Default::default() };
    let recorded_at = Timestamp::parse("2026-01-02T00:00:00.000000Z").expect("a timestamp");
    let provider = ProviderFacts {
        npi: NPI.into(),
        enrollment_start: date!(2026 - 01 - 01),
        enrollment_end: date!(2026 - 12 - 31),
        entity_type: Some(2),
        taxonomy: None,
        last_name: None,
        first_name: None,
        birth_date: None,
        recorded_at,
    };
    let payer = PayerFacts { payer_id: "PAYER1".into(), timely_filing_days: 365, recorded_at };
    let decided: Vec<(Command, Facts<'_>)> = claims
        .iter()
        .map(|(claim, member, history)| {
            let facts = Facts {
                schedule: Some(&legacy),
                policy: Some(&policy),
                original: DecisionState::Undecided,
                registry: RegistryFacts {
                    member: Some(member.clone()),
                    provider: Some(provider.clone()),
                    payer: Some(payer.clone()),
                    rendering_provider: None,
                },
                history: history.clone(),
                // As a decision of record format 1 counts: from the lines.
                history_counts: None,
                received_on: date!(2026 - 11 - 05),
                decided_on: date!(2026 - 11 - 05),
                benefits: BenefitFacts::default(),
                review: None,
                appeal: None,
            };
            (Command::Adjudicate(claim.clone()), facts)
        })
        .collect();
    let n_lines: usize = claims.iter().map(|(claim, _, _)| claim.lines.len()).sum();
    let (ncci, mue, fees) = (policy.ncci.as_ref().expect("ncci"), policy.mue.as_ref().expect("mue"), policy.fee_schedule.as_ref().expect("fees"));
    let member_bytes: usize = members.iter().map(|member| std::mem::size_of::<MemberFacts>() + member.member_id.len() + 16 + 8).sum();
    let table_bytes = ncci.table.memory_bytes() + mue.table.memory_bytes() + fees.table.memory_bytes();
    let outcomes = decided.iter().map(|(command, facts)| decide(facts, command).expect("decided")).fold([0usize; 2], |mut counts, events| {
        counts[usize::from(matches!(events.last(), Some(claimtrail_adjudication::domain::Event::Pended(_))))] += 1;
        counts
    });
    eprintln!(
        "tables: {} NCCI pairs {} B, {} MUEs {} B, {} fee rows {} B; {:.1} MiB; {} members about {:.1} MiB; {} claims, {} lines; decided {} pended {}",
        ncci.table.len(),
        ncci.table.memory_bytes(),
        mue.table.len(),
        mue.table.memory_bytes(),
        fees.table.len(),
        fees.table.memory_bytes(),
        table_bytes as f64 / (1024.0 * 1024.0),
        members.len(),
        member_bytes as f64 / (1024.0 * 1024.0),
        claims.len(),
        n_lines,
        outcomes[0],
        outcomes[1],
    );
    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Elements(n_lines as u64));
    group.bench_function("decide", |b| {
        b.iter(|| decided.iter().map(|(command, facts)| decide(black_box(facts), black_box(command)).map(|events| events.len()).unwrap_or(0)).sum::<usize>())
    });
    group.bench_function("decide_and_record", |b| {
        b.iter(|| {
            decided
                .iter()
                .map(|(command, facts)| {
                    let events = decide(black_box(facts), black_box(command)).expect("decided");
                    let Command::Adjudicate(claim) = command;
                    let record = DecisionRecord::of(facts, claim, "bench");
                    let payload = events.last().and_then(|event| event.canonical_payload().ok()).map_or(0, |bytes| bytes.len());
                    payload + to_canonical_vec(&record).map_or(0, |bytes| bytes.len())
                })
                .sum::<usize>()
        })
    });
    // The same claims with benefits on: the demo's plan (copay, deductible,
    // coinsurance, out-of-pocket cap, member and family buckets), each member
    // with a part of the deductible met, so every line runs the cost-share steps.
    let plan = claimtrail_adjudication::domain::PlanInForce {
        plan_id: "DEMO-PPO".into(),
        plan: std::sync::Arc::new(claimtrail_benefits::Plan::from_json(include_bytes!("../../cli/demo/plan.json")).expect("the demo plan")),
    };
    let with_benefits: Vec<(Command, Facts<'_>)> = decided
        .iter()
        .map(|(command, facts)| {
            let Command::Adjudicate(claim) = command;
            let met = claimtrail_benefits::AccumulatorEntry {
                member_id: claim.member_id.clone(),
                plan_year: 2026,
                bucket: claimtrail_benefits::Bucket::parse("deductible_inn_individual").expect("a bucket"),
                amount: Money::parse("100.00").expect("an amount"),
            };
            let benefits = BenefitFacts { plan: Some(plan.clone()), position: vec![met], ..BenefitFacts::default() };
            (command.clone(), Facts { benefits, ..facts.clone() })
        })
        .collect();
    group.bench_function("decide_with_benefits", |b| {
        b.iter(|| {
            with_benefits.iter().map(|(command, facts)| decide(black_box(facts), black_box(command)).map(|events| events.len()).unwrap_or(0)).sum::<usize>()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
