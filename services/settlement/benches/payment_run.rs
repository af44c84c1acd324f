//! A payment run over 1,000,000 adjudicated claims, seeded through the
//! settlement library (not the whole pipeline): 2,000 providers of 500
//! claims each (two lines, CO-45 and PR-2 adjustments; one claim in 100 a
//! reversal), every account verified. One iteration is the whole run as
//! `runs::execute` computes it: grouping and netting (`plan_run`), every
//! remittance's 835 (`advice::remittance_835`) and the ACH batch and file.
//! A second group measures 835 generation alone in MB/s. A third,
//! `payment_run_stored`, is the whole `runs::execute` on a store: the
//! 1,000,000 payables, the payees (prenoted) and the payer's banking are
//! seeded once through the settlement library into a SQLite file (untimed),
//! each iteration works on a fresh copy of that file, and the time counts
//! reading the payables, planning, the 835s and PaymentReconciliations, the
//! ACH file and writing it all (remittances, claims marked paid, journal,
//! outbox events) in one transaction. `CLAIMTRAIL_BENCH_CLAIMS` sets the
//! number of claims; `CLAIMTRAIL_BENCH_POSTGRES_URL` also times the run
//! once on Postgres (printed). Figures and the command: docs/benchmarks.md
//! ("Settlement: a payment run").

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Duration;

use claimtrail_codes::{Carc, GroupCode};
use claimtrail_events::{Adjustment, BankAccount, LineDecision, Money};
use claimtrail_settlement::domain::ach::{self, FileHeader};
use claimtrail_settlement::domain::advice::{self, Written};
use claimtrail_settlement::domain::payment_run::{Payable, PayableKind, Payee, PaymentRun, PromptPay, RunFacts, plan_run};
use claimtrail_settlement::runs::{self, RunRequest};
use claimtrail_settlement::storage::payments;
use claimtrail_store::outbox::ProducerIdentity;
use claimtrail_store::{Store, StoreConfig};
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use time::macros::{date, time};
use uuid::Uuid;

/// The `claimtrail` binary's global allocator (services/cli): the bench
/// measures the run on the allocator it runs on in production.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "../tests/support/fixtures.rs"]
mod fixtures;
use fixtures::{address, payer};

const N_CLAIMS_DEFAULT: usize = 1_000_000;
const N_PROVIDERS: usize = 2_000;

/// The `n`-th NPI: 9 digits and the Luhn check digit over the `80840` prefix.
fn npi(n: usize) -> String {
    let base = format!("{:09}", 100_000_000 + n);
    let digits: Vec<u32> = format!("80840{base}").chars().filter_map(|c| c.to_digit(10)).collect();
    let sum: u32 = digits.iter().rev().enumerate().map(|(idx, digit)| if idx % 2 == 0 { (digit * 2) / 10 + (digit * 2) % 10 } else { *digit }).sum();
    format!("{base}{}", (10 - sum % 10) % 10)
}

fn line(sequence: u32, code: &str, charge: i64, contractual: i64, patient: i64) -> LineDecision {
    let adjustments = vec![
        Adjustment { group: GroupCode::Co, reason: Carc::parse("45").unwrap(), amount: Money::from_cents(contractual) },
        Adjustment { group: GroupCode::Pr, reason: Carc::parse("2").unwrap(), amount: Money::from_cents(patient) },
    ];
    LineDecision {
        sequence,
        procedure_code: code.into(),
        charge: Money::from_cents(charge),
        allowed: Money::from_cents(charge - contractual),
        paid: Money::from_cents(charge - contractual - patient),
        patient_responsibility: Money::from_cents(patient),
        adjustments,
        remarks: vec![],
        explanation: vec![],
        steps: vec![],
    }
}

fn facts(n_claims: usize) -> RunFacts {
    let npis: Vec<String> = (0..N_PROVIDERS).map(npi).collect();
    let payables = (0..n_claims)
        .map(|n| {
            let mut lines = vec![line(1, "99213", 12_000 + (n % 100) as i64, 2_800, 1_000), line(2, "G0008", 3_000, 500, 0)];
            let kind = if n % 100 == 99 { PayableKind::Reversal } else { PayableKind::Decision };
            if kind == PayableKind::Reversal {
                lines = lines.iter().map(LineDecision::amounts_negated).collect();
            }
            let sum = |f: fn(&LineDecision) -> Money| Money::checked_sum(lines.iter().map(f).collect::<Vec<_>>().iter()).unwrap();
            Payable {
                claim_id: Uuid::from_u128(n as u128 + 1),
                kind,
                payer_id: "P1".into(),
                billing_npi: npis[n % N_PROVIDERS].clone(),
                patient_control_number: format!("PCN{n}"),
                member_id: format!("M{:07}", n % 250_000),
                total_charge: sum(|l| l.charge),
                total_paid: sum(|l| l.paid),
                total_patient_responsibility: sum(|l| l.patient_responsibility),
                lines,
                adjudicated_on: date!(2026 - 02 - 20),
                payer_sequence: claimtrail_events::PayerSequence::Primary,
            }
        })
        .collect();
    let payees = npis
        .iter()
        .map(|npi| {
            let payee = Payee {
                npi: npi.clone(),
                name: format!("CLINIC {npi}"),
                tin: "987654321".into(),
                pay_to: address("CLINIC"),
                bank_account: Some(BankAccount { routing_number: "011000015".into(), account_number: "55501234".into(), account_type: "checking".into() }),
                prenote_effective_on: Some(date!(2026 - 01 - 05)),
                account_hold: None,
            };
            (npi.clone(), payee)
        })
        .collect();
    RunFacts {
        run_id: Uuid::from_u128(0xAAAA),
        payer: payer(),
        run_date: date!(2026 - 03 - 02),
        prompt_pay: PromptPay::DEFAULT,
        payables,
        payees,
        debts: BTreeMap::new(),
        holds: BTreeMap::new(),
        refunds: BTreeMap::new(),
        first_entry_sequence: 1,
    }
}

fn plan(facts: &RunFacts) -> PaymentRun {
    let mut n = 0u128;
    plan_run(facts, || {
        n += 1;
        Uuid::from_u128(0xB000 + n)
    })
    .unwrap()
}

/// Every remittance's 835; their total size in bytes.
fn write_835s(facts: &RunFacts, run: &PaymentRun) -> usize {
    let payer = payer();
    let mut bytes = 0;
    for (idx, remittance) in run.remittances.iter().enumerate() {
        let payee = &facts.payees[&remittance.npi];
        let written = Written { date: facts.run_date, time: time!(10:30), control_number: idx as u32 + 1 };
        bytes += black_box(advice::remittance_835(run, remittance, &payer, payee, written).unwrap()).len();
    }
    bytes
}

/// The run as `runs::execute` computes it, without the store: plan, 835s, ACH batch and file.
fn whole_run(facts: &RunFacts) -> usize {
    let run = plan(facts);
    let bytes = write_835s(facts, &run);
    let batch = ach::batch_of(&run, &facts.payer, |npi| facts.payees.get(npi).and_then(|payee| payee.bank_account.clone())).unwrap();
    let file = ach::write_file(&facts.payer, &FileHeader { created_on: facts.run_date, created_at: time!(10:30), file_id_modifier: 'A' }, &[batch]);
    bytes + file.len()
}

fn n_claims() -> usize {
    std::env::var("CLAIMTRAIL_BENCH_CLAIMS").ok().and_then(|n| n.parse().ok()).unwrap_or(N_CLAIMS_DEFAULT)
}

async fn open(path: &std::path::Path) -> Store {
    open_url(format!("sqlite://{}?mode=rwc", path.display()), String::new()).await
}

async fn open_url(url: String, prefix: String) -> Store {
    let config = StoreConfig { database_url: url, service: "settlement".into(), prefix, max_connections: 1, statement_timeout: None };
    let store = Store::connect(&config).await.expect("a store");
    store.migrate(&claimtrail_settlement::migrations()).await.expect("settlement's migrations");
    store
}

/// Seeds `facts` into a new SQLite file at `path` through the settlement library, then folds its WAL into the file.
async fn seed(path: &std::path::Path, facts: &RunFacts) {
    use sea_orm::ConnectionTrait;
    let store = open(path).await;
    seed_store(&store, facts).await;
    store.db().execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)").await.unwrap();
}

/// Seeds `facts` into `store` through the settlement library.
async fn seed_store(store: &Store, facts: &RunFacts) {
    let tx = store.begin().await.unwrap();
    payments::put_payer_banking(store, &tx, &facts.payer).await.unwrap();
    for payee in facts.payees.values() {
        payments::upsert_payee(store, &tx, &Payee { prenote_effective_on: None, ..payee.clone() }).await.unwrap();
    }
    for chunk in facts.payables.chunks(10_000) {
        payments::insert_payables(store, &tx, chunk).await.unwrap();
    }
    tx.commit().await.unwrap();
    let npis: Vec<&str> = facts.payees.keys().map(String::as_str).collect();
    claimtrail_settlement::accounts::prenoted_before(store, &npis, date!(2026 - 01 - 05), facts.run_date).await.unwrap();
}

/// With `CLAIMTRAIL_BENCH_POSTGRES_URL`: the same run once on Postgres (the
/// production store), seeded into schemas of a prefix of its own that are
/// dropped afterwards; printed, not a criterion group.
fn postgres_run_once(runtime: &tokio::runtime::Runtime, url: String, facts: &RunFacts, n_claims: usize) {
    use sea_orm::ConnectionTrait;
    runtime.block_on(async {
        let prefix = format!("bench{}", Uuid::now_v7().simple());
        let store = open_url(url, prefix.clone()).await;
        let started = std::time::Instant::now();
        seed_store(&store, facts).await;
        store.db().execute_unprepared(&format!("VACUUM ANALYZE {}", store.table("payables"))).await.unwrap();
        eprintln!("seeded {n_claims} payables into Postgres in {:.1} s (untimed)", started.elapsed().as_secs_f64());
        let elapsed = execute_once(&store, facts, n_claims).await;
        eprintln!("runs::execute on Postgres, {n_claims} claims: {:.2} s", elapsed.as_secs_f64());
        store.db().execute_unprepared(&format!("DROP SCHEMA \"{prefix}_settlement\" CASCADE")).await.unwrap();
    });
}

/// `runs::execute` once on `store` (seeded with `facts`): its time alone, after checking that it paid every claim.
async fn execute_once(store: &Store, facts: &RunFacts, n_claims: usize) -> Duration {
    let producer = ProducerIdentity::new("settlement", claimtrail_ledger::note::SignerKey::from_seed("settlement-producer", &[3u8; 32]).unwrap());
    let request = RunRequest {
        payer_id: facts.payer.payer_id.clone(),
        idempotency_key: "bench".into(),
        body_sha: "bench".into(),
        run_date: facts.run_date,
        now: claimtrail_events::Timestamp::now(),
    };
    let started = std::time::Instant::now();
    let (run_id, new) = runs::execute(store, &producer, &request).await.unwrap();
    let elapsed = started.elapsed();
    let remittances = payments::remittances_of_run(store, store.db(), run_id).await.unwrap();
    let n_paid: usize = remittances.iter().map(|r| r.issued.claims.len()).sum();
    assert!(new && n_paid == n_claims, "the stored run paid {n_paid} of {n_claims} claims");
    elapsed
}

/// The payment run of `runs::execute` on a fresh copy of the seeded `template`: its time alone.
fn stored_run(runtime: &tokio::runtime::Runtime, template: &std::path::Path, facts: &RunFacts, n_claims: usize) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("settlement.db");
    std::fs::copy(template, &path).unwrap();
    runtime.block_on(async { execute_once(&open(&path).await, facts, n_claims).await })
}

fn bench(c: &mut Criterion) {
    // Each run's log line names where its time went (`runs::execute`'s phases).
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "claimtrail_settlement::runs=info".into()))
        .with_writer(std::io::stderr)
        .init();
    let n_claims = n_claims();
    let facts = facts(n_claims);
    let started = std::time::Instant::now();
    let run = plan(&facts);
    let bytes_835 = write_835s(&facts, &run);
    eprintln!(
        "one run over {n_claims} claims: {} remittances, {:.1} MB of 835s, {:.2} s (plan + 835s), BPR02 total {}",
        run.remittances.len(),
        bytes_835 as f64 / 1e6,
        started.elapsed().as_secs_f64(),
        Money::checked_sum(run.remittances.iter().map(|r| &r.amount)).unwrap()
    );

    let mut group = c.benchmark_group("payment_run");
    group.sample_size(10).measurement_time(Duration::from_secs(60)).throughput(Throughput::Elements(n_claims as u64));
    group.bench_function("plan_835s_ach_1m_claims", |b| b.iter(|| whole_run(black_box(&facts))));
    group.bench_function("plan_only_1m_claims", |b| b.iter(|| plan(black_box(&facts)).remittances.len()));
    group.finish();

    let mut group = c.benchmark_group("x835");
    group.sample_size(10).measurement_time(Duration::from_secs(30)).throughput(Throughput::Bytes(bytes_835 as u64));
    group.bench_function("write_835s_1m_claims", |b| b.iter(|| write_835s(black_box(&facts), black_box(&run))));
    group.finish();

    // The same run through runs::execute on SQLite: read, plan, 835s, ACH and the write, in one transaction.
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    if let Ok(url) = std::env::var("CLAIMTRAIL_BENCH_POSTGRES_URL") {
        postgres_run_once(&runtime, url, &facts, n_claims);
    }
    let template_dir = tempfile::tempdir().unwrap();
    let template = template_dir.path().join("template.db");
    let started = std::time::Instant::now();
    runtime.block_on(seed(&template, &facts));
    eprintln!("seeded {n_claims} payables into SQLite in {:.1} s (untimed)", started.elapsed().as_secs_f64());
    let mut group = c.benchmark_group("payment_run_stored");
    // Flat: every sample one run (criterion's linear sampling would make 55 runs of ten samples).
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(n_claims as u64));
    group.bench_function("execute_sqlite_1m_claims", |b| b.iter_custom(|iters| (0..iters).map(|_| stored_run(&runtime, &template, &facts, n_claims)).sum()));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
