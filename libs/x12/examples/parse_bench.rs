//! Parsing throughput on one core: generates an 837P of about `MB` megabytes
//! (default 50) with the writer, then reads it `RUNS` times (default 3) and
//! prints MB/s for the best run: by the wall clock, and per second of this
//! thread's own CPU time (Linux `/proc/thread-self/schedstat`), which other
//! processes on a busy machine do not distort.
//!
//! `cargo run --release -p claimtrail-x12 --example parse_bench -- [MB] [RUNS]`

use std::time::Instant;

use claimtrail_events::{AsRead, ClaimType, Frequency, Money, SubmittedClaim};
use claimtrail_x12::{ClaimToWrite, Limits, Outgoing837, Party, PersonName, ReadOptions, read, write_837p};
use rust_decimal::Decimal;
use time::macros::{date, time};

type ClaimLine = claimtrail_events::ClaimLine<AsRead>;
type Diagnosis = claimtrail_events::Diagnosis<AsRead>;
type Claim = SubmittedClaim<AsRead>;

fn claim(seed: usize) -> Claim {
    let n_lines = 1 + seed % 6;
    let lines: Vec<ClaimLine> = (0..n_lines)
        .map(|idx| ClaimLine {
            sequence: u32::try_from(idx + 1).unwrap_or(1),
            procedure_code: ["99213", "G0008", "J1100", "99214"][(seed + idx) % 4].to_owned(),
            modifiers: if idx % 3 == 0 { vec!["25".to_owned()] } else { Vec::new() },
            quantity: Decimal::ONE,
            charge: Money::from_cents(i64::try_from(2_500 + (seed * 37 + idx) % 20_000).unwrap_or(2_500)),
            service_date: date!(2025 - 10 - 01),
            place_of_service: Some("11".to_owned()),
            diagnosis_pointers: vec![1],
            revenue_code: None,
        })
        .collect();
    let total_charge = Money::checked_sum(lines.iter().map(|line| &line.charge)).unwrap_or(Money::ZERO);
    Claim {
        claim_id: uuid::Uuid::nil(),
        claim_type: ClaimType::Professional,
        frequency: Frequency::Original,
        related_claim_id: None,
        patient_control_number: Some(format!("PCN{seed:09}")),
        billing_npi: "1234567893".to_owned(),
        rendering_npi: Some("1245319599".to_owned()),
        payer_id: "PAYER01".to_owned(),
        member_id: format!("M{seed:09}"),
        diagnoses: vec![Diagnosis { sequence: 1, code: "E119".to_owned() }, Diagnosis { sequence: 2, code: "I10".to_owned() }],
        lines,
        total_charge,
        subscriber_id: None,
        service_zip: None,
        prior_authorization: None,
        drg: None,
        admission_date: None,
        statement_from: None,
        statement_to: None,
        type_of_bill: None,
        cob: None,
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let megabytes: usize = args.next().and_then(|text| text.parse().ok()).unwrap_or(50);
    let runs: usize = args.next().and_then(|text| text.parse().ok()).unwrap_or(3);
    let name = PersonName { last: "DOE".to_owned(), first: "JANE".to_owned() };
    let outgoing = Outgoing837 {
        sender_qualifier: "ZZ".to_owned(),
        sender_id: "BENCH".to_owned(),
        receiver_qualifier: "ZZ".to_owned(),
        receiver_id: "PAYER01".to_owned(),
        interchange_control_number: 1,
        group_control_number: 1,
        date: date!(2026 - 01 - 05),
        time: time!(12:00),
        test: true,
        submitter: Party { name: "BENCH".to_owned(), id: "BENCH".to_owned() },
        receiver: Party { name: "PAYER".to_owned(), id: "PAYER01".to_owned() },
    };
    // About 1.1 KB per claim: estimate from a sample, then write the whole file.
    let sample: Vec<Claim> = (0..100).map(claim).collect();
    let to_write = |claims: &[Claim]| -> String {
        let writes: Vec<ClaimToWrite<'_>> = claims
            .iter()
            .map(|claim| ClaimToWrite {
                claim,
                billing_provider_name: "BENCH CLINIC",
                billing_tin: "123456789",
                payer_name: "PAYER",
                name: &name,
                birth_date: date!(1980 - 05 - 17),
                sex: "F",
            })
            .collect();
        write_837p(&outgoing, &writes)
    };
    let bytes_per_claim = to_write(&sample).len() / sample.len();
    let n_claims = megabytes * 1_000_000 / bytes_per_claim.max(1);
    let claims: Vec<Claim> = (0..n_claims).map(claim).collect();
    let text = to_write(&claims);
    let options = ReadOptions { today: date!(2026 - 03 - 01), limits: Limits { bytes_max: usize::MAX, claims_max: usize::MAX } };
    println!("837P of {:.1} MB, {n_claims} claims", text.len() as f64 / 1e6);
    let mut best = f64::MAX;
    let mut best_cpu = f64::MAX;
    for run in 1..=runs {
        let cpu_started = thread_cpu_seconds();
        let started = Instant::now();
        let reading = match read(text.as_bytes(), &options) {
            Ok(reading) => reading,
            Err(error) => {
                eprintln!("{error}");
                std::process::exit(1);
            }
        };
        let seconds = started.elapsed().as_secs_f64();
        assert!(reading.is_clean() && reading.n_claims() == n_claims, "the generated file reads back clean");
        let cpu_seconds = thread_cpu_seconds().zip(cpu_started).map(|(end, start)| end - start);
        best = best.min(seconds);
        let cpu_text = match cpu_seconds {
            Some(cpu) => {
                best_cpu = best_cpu.min(cpu);
                format!(", CPU {cpu:.3} s, {:.1} MB per CPU-second", text.len() as f64 / 1e6 / cpu)
            }
            None => String::new(),
        };
        println!("run {run}: {seconds:.3} s, {:.1} MB/s{cpu_text}", text.len() as f64 / 1e6 / seconds);
    }
    println!("best: {:.1} MB/s ({:.0} claims/s) by the wall clock", text.len() as f64 / 1e6 / best, n_claims as f64 / best);
    if best_cpu < f64::MAX {
        println!("best: {:.1} MB per CPU-second ({:.0} claims per CPU-second)", text.len() as f64 / 1e6 / best_cpu, n_claims as f64 / best_cpu);
    }
}

/// This thread's time on a CPU, in seconds (Linux only).
fn thread_cpu_seconds() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanoseconds: f64 = text.split_whitespace().next()?.parse().ok()?;
    Some(nanoseconds / 1e9)
}
