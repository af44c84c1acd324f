//! Payment runs against a real store (SQLite in a temporary directory, the
//! embedded backend): claims booked through the consumer's storage, runs
//! made by `runs::execute`. Running twice pays nothing twice; a run that dies
//! between remittances (its transaction never committed) leaves nothing and
//! the retry pays once; a held provider is paid after finance releases it;
//! nothing to pay is an empty run; the same key answers the same run. On
//! the test Postgres (`CLAIMTRAIL_TEST_DATABASE_URL`), a refund check and a
//! run of the same payer at the same moment lose neither's debts.

use claimtrail_events::{BankAccount, Money, PayTo, Timestamp};
use claimtrail_ledger::note::SignerKey;
use claimtrail_settlement::domain::payment_run::{Payable, PayableKind, Payee, PayerBanking, RemittanceStatus};
use claimtrail_settlement::runs::{self, RunFailure, RunRequest};
use claimtrail_settlement::storage::payments;
use claimtrail_store::outbox::ProducerIdentity;
use claimtrail_store::{Store, StoreConfig};
use time::macros::date;
use uuid::Uuid;

const NPI_A: &str = "1234567893";
const NPI_B: &str = "1003000126";

async fn store(dir: &tempfile::TempDir) -> Store {
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("settlement.db").display());
    let store =
        Store::connect(&StoreConfig { database_url: url, service: "settlement".into(), prefix: String::new(), max_connections: 1, statement_timeout: None })
            .await
            .unwrap();
    store.migrate(&claimtrail_settlement::migrations()).await.unwrap();
    store
}

/// On the test Postgres, in schemas of a prefix of its own.
async fn postgres_store() -> Store {
    let url = std::env::var("CLAIMTRAIL_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let prefix = format!("race{}", Uuid::now_v7().simple());
    let store =
        Store::connect(&StoreConfig { database_url: url, service: "settlement".into(), prefix, max_connections: 4, statement_timeout: None }).await.unwrap();
    store.migrate(&claimtrail_settlement::migrations()).await.unwrap();
    store
}

fn producer() -> ProducerIdentity {
    ProducerIdentity::new("settlement", SignerKey::from_seed("settlement-producer", &[3u8; 32]).unwrap())
}

fn address() -> PayTo {
    PayTo { name: "CLINIC".into(), address_line: "1 MAIN ST".into(), city: "HARRISBURG".into(), state: "PA".into(), postal_code: "17101".into() }
}

async fn seed(store: &Store, claims: &[(u128, &str, PayableKind, i64)]) {
    let tx = store.begin().await.unwrap();
    payments::put_payer_banking(
        store,
        &tx,
        &PayerBanking {
            payer_id: "P1".into(),
            name: "ACME".into(),
            tin: "251234567".into(),
            routing_number: "031000053".into(),
            account_number: "12345".into(),
            address: address(),
        },
    )
    .await
    .unwrap();
    for npi in [NPI_A, NPI_B] {
        let payee = Payee {
            npi: npi.into(),
            name: "CLINIC".into(),
            tin: "987654321".into(),
            pay_to: address(),
            bank_account: Some(BankAccount { routing_number: "011000015".into(), account_number: "999".into(), account_type: "checking".into() }),
            prenote_effective_on: None,
            account_hold: None,
        };
        payments::upsert_payee(store, &tx, &payee).await.unwrap();
        payments::record_prenote(store, &tx, npi, date!(2026 - 01 - 05)).await.unwrap();
    }
    for &(claim, npi, kind, cents) in claims {
        payments::insert_payable(
            store,
            &tx,
            &Payable {
                claim_id: Uuid::from_u128(claim),
                kind,
                payer_id: "P1".into(),
                billing_npi: npi.into(),
                patient_control_number: format!("PCN{claim}"),
                member_id: "M1".into(),
                lines: vec![],
                total_charge: Money::from_cents(cents),
                total_paid: Money::from_cents(cents),
                total_patient_responsibility: Money::ZERO,
                adjudicated_on: date!(2026 - 02 - 20),
                payer_sequence: claimtrail_events::PayerSequence::Primary,
            },
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

fn request(key: &str) -> RunRequest {
    RunRequest {
        payer_id: "P1".into(),
        idempotency_key: key.into(),
        body_sha: "body".into(),
        run_date: date!(2026 - 03 - 02),
        now: Timestamp::parse("2026-03-02T10:00:00.000000Z").unwrap(),
    }
}

async fn paid_cents(store: &Store) -> i64 {
    let mut total = 0;
    for run in payments::runs_of(store, store.db(), "P1").await.unwrap() {
        for remittance in payments::remittances_of_run(store, store.db(), run.run_id).await.unwrap() {
            if remittance.issued.status == "ach" {
                total += remittance.issued.amount.to_cents().unwrap();
            }
        }
    }
    total
}

#[tokio::test]
async fn running_twice_pays_nothing_twice_and_nothing_to_pay_is_an_empty_run() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    seed(&store, &[(1, NPI_A, PayableKind::Decision, 8_000), (2, NPI_B, PayableKind::Decision, 12_000)]).await;
    let (first, created) = runs::execute(&store, &producer(), &request("k1")).await.unwrap();
    assert!(created);
    // The same key and body: the same run.
    assert_eq!(runs::execute(&store, &producer(), &request("k1")).await.unwrap(), (first, false));
    // The same key with another body: refused.
    let mut other = request("k1");
    other.body_sha = "other".into();
    assert!(matches!(runs::execute(&store, &producer(), &other).await, Err(RunFailure::KeyReused(_))));
    // A new key: nothing left to pay, an empty run.
    let (second, _) = runs::execute(&store, &producer(), &request("k2")).await.unwrap();
    assert!(payments::remittances_of_run(&store, store.db(), second).await.unwrap().is_empty());
    assert_eq!(paid_cents(&store).await, 20_000);
    let remittances = payments::remittances_of_run(&store, store.db(), first).await.unwrap();
    assert_eq!(remittances.len(), 2);
    for remittance in &remittances {
        assert!(remittance.x835.as_deref().unwrap().contains("BPR*I*"));
        assert!(remittance.reconciliation.as_deref().unwrap().contains("PaymentReconciliation"));
    }
    let batches = payments::ach_batches(&store, store.db(), first).await.unwrap();
    assert_eq!((batches.len(), batches[0].total_debit, batches[0].entries.len()), (1, Money::from_cents(20_000), 2));
    let run = payments::run(&store, store.db(), first).await.unwrap().unwrap();
    assert!(run.ach_file.unwrap().contains("HCCLAIMPMT"));
    // Every payment entry in the journal balances and the bank paid out exactly 200.00.
    let balances = claimtrail_settlement::storage::balances(&store, &claimtrail_runtime::auth::PayerScope::All).await.unwrap();
    let bank = balances.iter().find(|(account, _, _)| account == "asset:bank:P1").unwrap();
    assert_eq!((bank.1, bank.2), (0, 20_000));
    let (debits, credits) = balances.iter().fold((0, 0), |(d, c), (_, debit, credit)| (d + debit, c + credit));
    assert_eq!(debits, credits);
}

#[tokio::test]
async fn a_run_that_dies_between_remittances_leaves_nothing_and_the_retry_pays_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    seed(&store, &[(1, NPI_A, PayableKind::Decision, 8_000), (2, NPI_B, PayableKind::Decision, 12_000)]).await;
    // What a run does up to its first remittance, then the process dies: the transaction is never committed.
    {
        let tx = store.begin().await.unwrap();
        let taken = payments::take_unpaid_payables(&store, &tx, "P1").await.unwrap().unwrap();
        assert_eq!(taken.payables.len(), 2);
        drop(tx);
    }
    assert_eq!(payments::unpaid_payables(&store, store.db(), "P1").await.unwrap().len(), 2);
    let (run_id, _) = runs::execute(&store, &producer(), &request("retry")).await.unwrap();
    assert_eq!(payments::remittances_of_run(&store, store.db(), run_id).await.unwrap().len(), 2);
    assert_eq!(paid_cents(&store).await, 20_000);
    let (again, _) = runs::execute(&store, &producer(), &request("retry-2")).await.unwrap();
    assert!(payments::remittances_of_run(&store, store.db(), again).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_held_provider_is_paid_after_finance_releases_it_and_a_void_is_recovered_next_cycle() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    seed(&store, &[(1, NPI_A, PayableKind::Decision, 8_000), (7, NPI_B, PayableKind::Reversal, -30_000)]).await;
    let tx = store.begin().await.unwrap();
    payments::place_hold(&store, &tx, Uuid::now_v7(), "P1", NPI_A, "fraud alert", "finance").await.unwrap();
    tx.commit().await.unwrap();
    let (first, _) = runs::execute(&store, &producer(), &request("c1")).await.unwrap();
    let remittances = payments::remittances_of_run(&store, store.db(), first).await.unwrap();
    let status = |npi: &str| remittances.iter().find(|r| r.issued.billing_npi == npi).map(|r| (r.issued.status.clone(), r.issued.amount)).unwrap();
    assert_eq!(status(NPI_A), (RemittanceStatus::Held.as_str().to_owned(), Money::from_cents(8_000)));
    assert_eq!(status(NPI_B), ("zero".to_owned(), Money::ZERO));
    assert!(remittances.iter().find(|r| r.issued.billing_npi == NPI_A).unwrap().x835.is_none());
    assert_eq!(payments::debts(&store, store.db(), "P1").await.unwrap()[NPI_B][0].amount, Money::from_cents(30_000));

    let tx = store.begin().await.unwrap();
    assert_eq!(payments::release_holds(&store, &tx, "P1", NPI_A, "finance", "cleared by SIU").await.unwrap(), 1);
    tx.commit().await.unwrap();
    seed(&store, &[(8, NPI_B, PayableKind::Decision, 100_000)]).await;
    let mut next = request("c2");
    next.run_date = date!(2026 - 03 - 09);
    let (second, _) = runs::execute(&store, &producer(), &next).await.unwrap();
    let remittances = payments::remittances_of_run(&store, store.db(), second).await.unwrap();
    let amount = |npi: &str| remittances.iter().find(|r| r.issued.billing_npi == npi).map(|r| r.issued.amount).unwrap();
    assert_eq!((amount(NPI_A), amount(NPI_B)), (Money::from_cents(8_000), Money::from_cents(70_000)));
    assert!(payments::debts(&store, store.db(), "P1").await.unwrap().is_empty());
    let b = remittances.iter().find(|r| r.issued.billing_npi == NPI_B).unwrap();
    assert!(b.x835.as_deref().unwrap().contains(&format!("WO:{}*300.00", Uuid::from_u128(7))), "{}", b.x835.as_deref().unwrap());
}

#[tokio::test]
async fn a_run_takes_the_payers_queue_and_puts_back_what_it_does_not_settle() {
    let dir = tempfile::tempdir().unwrap();
    takes_the_queue_and_puts_back(&store(&dir).await).await;
}

#[tokio::test]
async fn a_run_takes_the_payers_queue_and_puts_back_what_it_does_not_settle_on_postgres() {
    takes_the_queue_and_puts_back(&postgres_store().await).await;
}

async fn takes_the_queue_and_puts_back(store: &Store) {
    // 250 claims (three statements of SQLite's 100 rows); claim 7 also has a reversal (same id, another kind).
    let mut claims: Vec<(u128, &str, PayableKind, i64)> =
        (1..=250).map(|n| (n, if n % 2 == 0 { NPI_A } else { NPI_B }, PayableKind::Decision, 1_000)).collect();
    claims.push((7, NPI_B, PayableKind::Reversal, -1_000));
    seed(store, &claims).await;
    // Booked again (a redelivery): neither recorded nor queued twice.
    seed(store, &claims[..10]).await;
    let tx = store.begin().await.unwrap();
    let taken = payments::take_unpaid_payables(store, &tx, "P1").await.unwrap().unwrap();
    assert_eq!(taken.payables.len(), 251);
    assert!(taken.booked_meanwhile.is_empty());
    assert!(taken.payables.windows(2).all(|pair| (pair[0].claim_id, pair[0].kind) < (pair[1].claim_id, pair[1].kind)), "in key order");
    // Taken in the run's transaction: nothing left to take, nothing unpaid as the transaction sees it.
    assert!(payments::take_unpaid_payables(store, &tx, "P1").await.unwrap().unwrap().payables.is_empty());
    // A's 125 go back (say A was held); B's stay taken.
    let held: Vec<_> = taken.payables.iter().filter(|p| p.billing_npi == NPI_A).map(|p| ("P1".to_owned(), p.billing_npi.clone(), p.claim_id, p.kind)).collect();
    assert_eq!(held.len(), 125);
    payments::requeue(store, &tx, &held).await.unwrap();
    tx.commit().await.unwrap();
    let unpaid = payments::unpaid_payables(store, store.db(), "P1").await.unwrap();
    assert_eq!(unpaid.len(), 125);
    assert!(unpaid.iter().all(|p| p.billing_npi == NPI_A));
    // B's decisions count as paid for fraud's recoupment; A's do not.
    let asked: Vec<Uuid> = (1..=4).map(Uuid::from_u128).collect();
    let paid: Vec<(Uuid, String)> = payments::paid_claims(store, store.db(), &asked).await.unwrap().into_iter().map(|c| (c.claim_id, c.billing_npi)).collect();
    assert_eq!(paid, [(Uuid::from_u128(1), NPI_B.to_owned()), (Uuid::from_u128(3), NPI_B.to_owned())]);
    // Booked again after being paid (a late redelivery): not queued again, so never paid twice.
    seed(store, &claims[..10]).await;
    assert_eq!(payments::unpaid_payables(store, store.db(), "P1").await.unwrap().len(), 125);
}

/// On Postgres a claim can be booked between a run's read and its delete of
/// the queue: the delete takes it off the queue too, and it goes back (it is
/// not in the run), so the next run pays it. A payable read but taken by
/// another transaction in between is a conflict.
#[tokio::test]
async fn a_payable_booked_between_a_runs_read_and_its_delete_is_left_for_the_next_run_on_postgres() {
    let store = postgres_store().await;
    seed(&store, &[(1, NPI_A, PayableKind::Decision, 8_000), (2, NPI_B, PayableKind::Decision, 12_000)]).await;
    let tx = store.begin().await.unwrap();
    let read = payments::unpaid_payables(&store, &tx, "P1").await.unwrap();
    assert_eq!(read.len(), 2);
    // Booked and committed by the consumer on another connection, between the run's two statements.
    seed(&store, &[(3, NPI_A, PayableKind::Decision, 5_000)]).await;
    let taken = payments::take_read(&store, &tx, "P1", read).await.unwrap().unwrap();
    assert_eq!(taken.payables.len(), 2);
    assert_eq!(taken.booked_meanwhile, [("P1".to_owned(), NPI_A.to_owned(), Uuid::from_u128(3), PayableKind::Decision)]);
    payments::requeue(&store, &tx, &taken.booked_meanwhile).await.unwrap();
    tx.commit().await.unwrap();
    let unpaid = payments::unpaid_payables(&store, store.db(), "P1").await.unwrap();
    assert_eq!(unpaid.iter().map(|p| p.claim_id).collect::<Vec<_>>(), [Uuid::from_u128(3)]);

    // Read, then taken by another transaction before the delete: not this run's to pay.
    let tx = store.begin().await.unwrap();
    let read = payments::unpaid_payables(&store, &tx, "P1").await.unwrap();
    let other = store.begin().await.unwrap();
    assert_eq!(payments::take_unpaid_payables(&store, &other, "P1").await.unwrap().unwrap().payables.len(), 1);
    other.commit().await.unwrap();
    assert!(payments::take_read(&store, &tx, "P1", read).await.unwrap().is_none());
}

fn refund(check_number: &str, cents: i64) -> runs::RefundRequest {
    runs::RefundRequest {
        payer_id: "P1".into(),
        npi: NPI_B.into(),
        check_number: check_number.into(),
        amount: Money::from_cents(cents),
        received_on: date!(2026 - 03 - 05),
        recorded_by: "finance".into(),
    }
}

#[tokio::test]
async fn a_debt_a_cycle_cannot_cover_is_forwarded_by_fb_and_a_refund_check_pays_it_and_is_acknowledged_by_72() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    // Cycle 1: B's claim 7 (paid 300.00 earlier) is voided: WO −300.00, a debt of claim 7.
    seed(&store, &[(7, NPI_B, PayableKind::Reversal, -30_000)]).await;
    runs::execute(&store, &producer(), &request("c1")).await.unwrap();
    // Cycle 2: 100.00 of claims cannot cover it: WO +300.00 in full, FB −200.00 forwarded; the debt is now that FB.
    seed(&store, &[(8, NPI_B, PayableKind::Decision, 10_000)]).await;
    let (second, _) = runs::execute(&store, &producer(), &request("c2")).await.unwrap();
    let [b] = payments::remittances_of_run(&store, store.db(), second).await.unwrap().try_into().unwrap();
    assert_eq!((b.issued.status.as_str(), b.issued.amount), ("zero", Money::ZERO));
    let x835 = b.x835.unwrap();
    let trn = claimtrail_settlement::domain::advice::non_payment_trace(b.issued.remittance_id);
    assert!(x835.contains(&format!("WO:{}*300.00*FB:{trn}*-200.00~", Uuid::from_u128(7))), "{x835}");
    let owed = payments::debts(&store, store.db(), "P1").await.unwrap().remove(NPI_B).unwrap();
    assert_eq!((owed.len(), owed[0].claim_id, owed[0].amount), (1, b.issued.remittance_id, Money::from_cents(20_000)));

    // Finance records B's refund check of 50.00: the forwarded balance drops to 150.00, the bank is debited.
    let (refund_id, parts) = runs::record_refund(&store, &refund("CHK-1001", 5_000)).await.unwrap();
    assert_eq!((parts.len(), parts[0].amount), (1, Money::from_cents(5_000)));
    assert!(matches!(runs::record_refund(&store, &refund("CHK-1001", 5_000)).await, Err(runs::RefundFailure::Recorded { .. })));
    assert!(matches!(runs::record_refund(&store, &refund("CHK-1002", 20_000)).await, Err(runs::RefundFailure::Refused(_))), "more than is owed");
    assert_eq!(payments::debts(&store, store.db(), "P1").await.unwrap()[NPI_B][0].amount, Money::from_cents(15_000));
    let entries = claimtrail_settlement::storage::entries_of(&store, refund_id, &claimtrail_runtime::auth::PayerScope::All).await.unwrap();
    assert_eq!(entries.len(), 1);

    // Cycle 3: 1,000.00 of claims: FB +150.00 applied, the refund acknowledged (72 −50.00 offset by FB +50.00): BPR02 850.00.
    seed(&store, &[(9, NPI_B, PayableKind::Decision, 100_000)]).await;
    let mut third = request("c3");
    third.run_date = date!(2026 - 03 - 09);
    let (third, _) = runs::execute(&store, &producer(), &third).await.unwrap();
    let [b] = payments::remittances_of_run(&store, store.db(), third).await.unwrap().try_into().unwrap();
    assert_eq!((b.issued.status.as_str(), b.issued.amount), ("ach", Money::from_cents(85_000)));
    assert!(b.x835.as_deref().unwrap().contains(&format!("FB:{trn}*150.00*72:{trn}*-50.00*FB:{trn}*50.00~")), "{}", b.x835.unwrap());
    assert!(payments::debts(&store, store.db(), "P1").await.unwrap().is_empty());
    assert!(payments::unacknowledged_refunds(&store, store.db(), "P1").await.unwrap().is_empty(), "acknowledged once");
    // The journal balances, and B's receivable is cleared: 300.00 opened, 100 + 150 recovered from payments, 50 by the check.
    let balances = claimtrail_settlement::storage::balances(&store, &claimtrail_runtime::auth::PayerScope::All).await.unwrap();
    let receivable = balances.iter().find(|(account, _, _)| account == &format!("asset:recoupment_receivable:{NPI_B}")).unwrap();
    assert_eq!(receivable.1, receivable.2);
    let (debits, credits) = balances.iter().fold((0, 0), |(d, c), (_, debit, credit)| (d + debit, c + credit));
    assert_eq!(debits, credits);
}

/// What `npi` owes by the debts table, and by its recoupment receivable in the journal (debits minus credits), in cents.
async fn owed_both_ways(store: &Store, npi: &str) -> (i64, i64) {
    let debts = payments::debts(store, store.db(), "P1").await.unwrap().remove(npi).unwrap_or_default();
    let by_debts = debts.iter().map(|debt| debt.amount.to_cents().unwrap()).sum();
    let balances = claimtrail_settlement::storage::balances(store, &claimtrail_runtime::auth::PayerScope::All).await.unwrap();
    let account = format!("asset:recoupment_receivable:{npi}");
    let by_journal = balances.iter().find(|(name, _, _)| name == &account).map_or(0, |(_, debit, credit)| debit - credit);
    (by_debts, by_journal)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_and_a_run_of_the_same_payer_at_the_same_moment_on_postgres_lose_no_debt() {
    const N_ROUNDS: u128 = 25;
    let store = postgres_store().await;
    let mut n_refunds = 0;
    for round in 0..N_ROUNDS {
        // Each round A's claim is voided (a reversal of 300.00): the run opens that debt beside what A owed
        // and writes A's debts back. B's 2,000 claims come first in the run (B's NPI sorts first), so the
        // run reads the debts well before it writes A's: the window a refund used to fall into.
        let base = 10_000 * (round + 1);
        let mut claims = vec![(base, NPI_A, PayableKind::Reversal, -30_000)];
        claims.extend((1..=2_000).map(|n| (base + n, NPI_B, PayableKind::Decision, 1_000)));
        seed(&store, &claims).await;
        let run_request = request(&format!("race-{round}"));
        let refund_request = runs::RefundRequest { npi: NPI_A.into(), ..refund(&format!("CHK-{round}"), 1_000) };
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
        let run = tokio::spawn({
            let (store, barrier) = (store.clone(), barrier.clone());
            async move {
                barrier.wait().await;
                runs::execute(&store, &producer(), &run_request).await
            }
        });
        let refund = tokio::spawn({
            let (store, barrier) = (store.clone(), barrier.clone());
            async move {
                barrier.wait().await;
                // Into the run's window: after it has begun reading, before it writes A's debts back.
                tokio::time::sleep(std::time::Duration::from_millis(u64::try_from(round % 5).unwrap() * 3)).await;
                runs::record_refund(&store, &refund_request).await
            }
        });
        let (run, refund) = (run.await.unwrap(), refund.await.unwrap());
        let (run_id, created) = run.unwrap_or_else(|error| panic!("round {round}: the run failed: {error}"));
        assert!(created);
        match refund {
            Ok(_) => n_refunds += 1,
            // Only before A owes anything (the first round, the refund first).
            Err(runs::RefundFailure::Refused(_)) if round == 0 => {}
            Err(error) => panic!("round {round}: the refund failed: {error}"),
        }
        assert_eq!(payments::remittances_of_run(&store, store.db(), run_id).await.unwrap().len(), 2, "round {round}");
        let (by_debts, by_journal) = owed_both_ways(&store, NPI_A).await;
        assert_eq!(by_debts, by_journal, "round {round}: A's debts and its receivable in the journal disagree (a refund or a debt was lost)");
    }
    // A owes what the rounds voided less the checks it sent: nothing lost, nothing counted twice.
    let (by_debts, _) = owed_both_ways(&store, NPI_A).await;
    assert_eq!(by_debts, i64::try_from(N_ROUNDS).unwrap() * 30_000 - n_refunds * 1_000);
    assert!(n_refunds >= i64::try_from(N_ROUNDS).unwrap() - 1, "{n_refunds} refunds recorded");
}
