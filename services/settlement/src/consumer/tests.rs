//! The batch path (issue 21): the same events booked each alone on the
//! per-event path ([`Booker::handle`], as before), one per batch and all in
//! one batch ([`Booker::handle_batch`]) leave the same rows, byte for byte,
//! and the same outgoing events in the same order; [`plan`]'s steps; and the
//! statements a batch takes.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use claimtrail_codes::{Carc, GroupCode};
use claimtrail_events::{
    Adjustment, ClaimAdjudicated, ClaimLine, ClaimReversed, ClaimSubmitted, ClaimType, ClaimsErased, Coordination, Envelope, FraudAlertRaised, Frequency,
    LineDecision, Money, NewEvent, Outcome, PayTo, PayerSequence, Producer, ProviderRegistered, SealedEvent, SubmittedClaim, Timestamp,
};
use claimtrail_runtime::EventHandler;
use claimtrail_store::outbox::{self, ProducerIdentity};
use claimtrail_store::{Store, StoreConfig, stmt};
use rust_decimal::Decimal;
use sea_orm::ConnectionTrait;
use time::macros::date;
use uuid::Uuid;

use super::{Booker, Shape, Step, plan};

const PAYER: &str = "PAYER1";
const NPI: &str = "1234567893";
const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn claim_id(n: u128) -> Uuid {
    Uuid::from_u128(0xC1A1_0000 + n)
}

/// A counter from the same start in every run, so that entry and hold ids compare.
fn counter() -> Arc<dyn Fn() -> Uuid + Send + Sync> {
    let next = Arc::new(AtomicU64::new(0));
    Arc::new(move || Uuid::from_u128(0xE000_0000 + u128::from(next.fetch_add(1, Ordering::SeqCst))))
}

fn money(text: &str) -> Money {
    Money::parse(text).unwrap()
}

fn seal(event: NewEvent, day: u8) -> Envelope {
    let producer = Producer { service: "adjudication".into(), key_id: "adjudication-test".into() };
    let occurred_at = Timestamp::parse(&format!("2026-11-{day:02}T09:00:00.000000Z")).unwrap();
    SealedEvent::seal(event, 1, producer, [7; 32], occurred_at).unwrap().envelope().unwrap()
}

fn submitted(n: u128, pcn: Option<&str>, member_id: &str, sequence: PayerSequence) -> Envelope {
    let claim = SubmittedClaim {
        claim_id: claim_id(n),
        claim_type: ClaimType::Professional,
        frequency: Frequency::Original,
        related_claim_id: None,
        patient_control_number: pcn.map(str::to_owned),
        billing_npi: NPI.parse().unwrap(),
        rendering_npi: None,
        payer_id: PAYER.parse().unwrap(),
        member_id: member_id.parse().unwrap(),
        diagnoses: vec![],
        lines: vec![ClaimLine {
            sequence: 1,
            procedure_code: "99213".parse().unwrap(),
            modifiers: vec![],
            quantity: Decimal::ONE,
            charge: money("150.00"),
            service_date: date!(2026 - 11 - 01),
            place_of_service: Some("11".parse().unwrap()),
            diagnosis_pointers: vec![1],
            revenue_code: None,
        }],
        total_charge: money("150.00"),
        subscriber_id: None,
        service_zip: None,
        prior_authorization: None,
        drg: None,
        admission_date: None,
        statement_from: None,
        statement_to: None,
        type_of_bill: None,
        cob: (sequence != PayerSequence::Primary).then(|| Coordination { sequence, prior_payers: vec![] }),
    };
    let event = ClaimSubmitted {
        claim,
        submitter: "riverside".into(),
        channel: "fhir".into(),
        received_at: Timestamp::parse("2026-11-01T09:00:00.000000Z").unwrap(),
        submission_signature: None,
        fingerprints: Default::default(),
    };
    seal(NewEvent::new(event, claim_id(n).to_string()), 1)
}

fn line(paid: &str) -> LineDecision {
    let adjusted = money("150.00").checked_sub(money(paid)).unwrap();
    LineDecision {
        sequence: 1,
        procedure_code: "99213".into(),
        charge: money("150.00"),
        allowed: money(paid),
        paid: money(paid),
        patient_responsibility: Money::ZERO,
        adjustments: vec![Adjustment { group: GroupCode::Co, reason: Carc::parse("45").unwrap(), amount: adjusted }],
        remarks: vec![],
        explanation: vec![format!("paid {paid}")],
        steps: vec![],
    }
}

fn decision(n: u128, paid: &str) -> ClaimAdjudicated {
    ClaimAdjudicated {
        claim_id: claim_id(n),
        payer_id: PAYER.into(),
        billing_npi: NPI.into(),
        outcome: if money(paid) == Money::ZERO { Outcome::Denied } else { Outcome::Paid },
        rule_set_hash: "a".repeat(64),
        lines: vec![line(paid)],
        total_charge: money("150.00"),
        total_allowed: money(paid),
        total_paid: money(paid),
        total_patient_responsibility: Money::ZERO,
    }
}

fn decided(n: u128, paid: &str, day: u8) -> Envelope {
    seal(NewEvent::new(decision(n, paid), format!("decision-{n}")), day)
}

fn reversed(n: u128, paid: &str, day: u8) -> Envelope {
    let original = decision(n, paid);
    let reversal = ClaimReversed {
        claim_id: original.claim_id,
        by_claim_id: claim_id(1000 + n),
        frequency: Frequency::Void,
        payer_id: original.payer_id,
        billing_npi: original.billing_npi,
        rule_set_hash: original.rule_set_hash,
        lines: original.lines.iter().map(LineDecision::amounts_negated).collect(),
        total_charge: original.total_charge.negated(),
        total_allowed: original.total_allowed.negated(),
        total_paid: original.total_paid.negated(),
        total_patient_responsibility: original.total_patient_responsibility.negated(),
    };
    seal(NewEvent::new(reversal, format!("reversal-{n}")), day)
}

fn erased(claims: &[u128]) -> Envelope {
    let erasure = ClaimsErased {
        erasure_id: Uuid::from_u128(0xE2A5E),
        payer_id: PAYER.into(),
        claim_ids: claims.iter().map(|n| claim_id(*n)).collect(),
        requested_by: "admin".into(),
        reason: "member's request".into(),
    };
    seal(NewEvent::new(erasure, "erasure"), 4)
}

fn provider() -> Envelope {
    let provider = ProviderRegistered {
        npi: NPI.into(),
        entity_type: 2,
        name: "RIVERSIDE CLINIC".into(),
        tin: "251234567".into(),
        taxonomy: "207Q00000X".into(),
        organization: "riverside".into(),
        licence: None,
        pay_to: PayTo {
            name: "RIVERSIDE CLINIC".into(),
            address_line: "1 RIVER RD".into(),
            city: "HARRISBURG".into(),
            state: "PA".into(),
            postal_code: "17101".into(),
        },
        bank_account: None,
    };
    seal(NewEvent::new(provider, NPI), 2)
}

fn alert(claims: &[u128]) -> Envelope {
    let alert = FraudAlertRaised {
        alert_id: Uuid::from_u128(0xA1E27),
        payer_id: PAYER.into(),
        pattern: "exact_duplicate".into(),
        claim_ids: claims.iter().map(|n| claim_id(*n)).collect(),
        npi: NPI.into(),
        date: None,
        score_permille: 900,
        reason: "two claims alike".into(),
        evidence: vec![],
    };
    seal(NewEvent::new(alert, "alert"), 5)
}

/// Decisions of claims submitted earlier in the batch, before it, after it
/// and never; a denial; a reversal after a decision of the same claim and a
/// correction after that reversal; a reversal with no decision in the batch;
/// a claim submitted twice (again in a later run, the stored reference
/// winning); a secondary payer's claim; an erasure, a
/// provider and a fraud alert among them (each handled alone).
fn events() -> Vec<Envelope> {
    let mut traced = NewEvent::new(decision(12, "95.00"), "decision-12");
    traced.traceparent = Some(TRACEPARENT.to_owned());
    vec![
        submitted(1, Some("PCN-1"), "M1", PayerSequence::Primary),
        decided(1, "120.00", 2),
        decided(2, "80.00", 2),
        submitted(3, None, "M3", PayerSequence::Secondary),
        decided(3, "0.00", 2),
        submitted(4, Some("PCN-4"), "M4", PayerSequence::Primary),
        decided(4, "100.00", 2),
        reversed(4, "100.00", 3),
        decided(4, "60.00", 3),
        reversed(5, "40.00", 3),
        decided(0, "70.00", 3),
        submitted(9, Some("PCN-9"), "M9", PayerSequence::Primary),
        provider(),
        submitted(9, Some("PCN-9B"), "M9B", PayerSequence::Primary),
        decided(9, "65.00", 3),
        decided(6, "55.00", 3),
        submitted(6, Some("PCN-6"), "M6", PayerSequence::Primary),
        submitted(7, Some("PCN-7A"), "M7", PayerSequence::Primary),
        submitted(7, Some("PCN-7B"), "M7B", PayerSequence::Primary),
        decided(7, "45.00", 3),
        submitted(8, Some("PCN-8"), "M8", PayerSequence::Primary),
        erased(&[1, 8]),
        decided(8, "30.00", 4),
        alert(&[2]),
        seal(traced, 5),
        reversed(1, "120.00", 5),
    ]
}

/// Every row of the tables booking writes, as text (`posted_at`, the clock's, left out), and the outbox's events.
async fn rows(store: &Store) -> Vec<String> {
    let tables: [(&str, &str, &str); 8] = [
        ("claim_refs", "claim_id, patient_control_number, member_id, payer_sequence", "claim_id"),
        (
            "payables",
            "claim_id, kind, payer_id, billing_npi, patient_control_number, member_id, charge_cents, paid_cents, patient_cents, adjudicated_on, \
             payer_sequence",
            "claim_id, kind",
        ),
        ("unpaid_payables", "payer_id, billing_npi, claim_id, kind", "payer_id, billing_npi, claim_id, kind"),
        ("payable_lines", "claim_id, kind, lines", "claim_id, kind"),
        ("journal_entries", "entry_id, claim_id, kind, payer_id, billing_npi, amount_cents, memo", "entry_id"),
        ("journal_lines", "line_id, entry_id, account, debit_cents, credit_cents", "line_id"),
        ("holds", "hold_id, payer_id, npi, reason, placed_by, released_by, release_reason", "hold_id"),
        ("payees", "npi, name, tin, pay_to, bank_account, prenote_effective_on", "npi"),
    ];
    let mut all = Vec::new();
    for (table, columns, order) in tables {
        all.extend(claimtrail_store::rows_as_text(store, table, columns, order).await.unwrap().into_iter().map(|row| format!("{table}: {row}")));
    }
    // The outbox's events in append order, every field but the generated (event id, time, commitment).
    // Whether its salt is kept: an erasure deletes the salts of the events about its claims.
    let select = format!("SELECT seq, body, CASE WHEN salt IS NULL THEN 'erased' ELSE 'salted' END FROM {} ORDER BY seq", store.table("outbox"));
    for row in store.db().query_all_raw(stmt(store, select, vec![])).await.unwrap() {
        let seq: i64 = row.try_get_by_index(0).unwrap();
        let event = Envelope::from_bytes(&row.try_get_by_index::<Vec<u8>>(1).unwrap()).unwrap();
        let salt: String = row.try_get_by_index(2).unwrap();
        all.push(format!(
            "outbox: {seq}|{salt}|{}|{}|{}|{}|{:?}|{:?}|{:?}|{}",
            event.event_type,
            event.aggregate_id,
            event.aggregate_seq,
            event.correlation_id,
            event.causation_id,
            event.traceparent,
            event.partition,
            event.payload
        ));
    }
    all
}

/// How the events go to the booker.
#[derive(Debug, Clone, Copy)]
enum Way {
    /// Each on the per-event path ([`Booker::handle`]), a transaction each: as before issue 21.
    EachAlone,
    /// [`Booker::handle_batch`] with one event a batch.
    OnePerBatch,
    /// [`Booker::handle_batch`] with all of them.
    AllInOneBatch,
}

async fn book(store: &Store, way: Way, events: &[Envelope]) {
    let booker = Booker::with_ids(store.clone(), counter());
    let identity = ProducerIdentity::new("settlement", claimtrail_ledger::note::SignerKey::from_seed("settlement-producer", &[9; 32]).unwrap());
    let batches: Vec<Vec<&Envelope>> = match way {
        Way::EachAlone | Way::OnePerBatch => events.iter().map(|envelope| vec![envelope]).collect(),
        Way::AllInOneBatch => vec![events.iter().collect()],
    };
    for batch in batches {
        let tx = store.begin().await.unwrap();
        let outgoing = match way {
            Way::EachAlone => booker.handle(&tx, batch[0]).await.unwrap(),
            Way::OnePerBatch | Way::AllInOneBatch => {
                // As the runtime's consumer hands a batch over: cut before each erasure, each part's events appended before the next.
                for part in claimtrail_runtime::consumer::erasure_segments(&batch, |envelope| envelope.event_type.as_str()) {
                    let outgoing = booker.handle_batch(&tx, part).await.unwrap();
                    outbox::append(store, &tx, &identity, outgoing).await.unwrap();
                }
                Vec::new()
            }
        };
        outbox::append(store, &tx, &identity, outgoing).await.unwrap();
        tx.commit().await.unwrap();
    }
}

async fn sqlite(dir: &tempfile::TempDir, name: &str) -> Store {
    let url = format!("sqlite://{}?mode=rwc", dir.path().join(name).display());
    let config = StoreConfig { database_url: url, service: "settlement".into(), prefix: String::new(), max_connections: 1, statement_timeout: None };
    let store = Store::connect(&config).await.unwrap();
    store.migrate(&crate::migrations()).await.unwrap();
    store
}

async fn postgres(which: &str) -> Store {
    let url = std::env::var("CLAIMTRAIL_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let tag = Uuid::now_v7().simple().to_string();
    let prefix = format!("setb{which}{}", &tag[tag.len() - 10..]);
    let config = StoreConfig { database_url: url, service: "settlement".into(), prefix, max_connections: 2, statement_timeout: None };
    let store = Store::connect(&config).await.unwrap();
    store.migrate(&crate::migrations()).await.unwrap();
    store
}

/// Drops a Postgres store's schema (the scratch schemas of one test).
async fn drop_schema(store: &Store) {
    let schema = store.table("x");
    let schema = &schema[..schema.find('.').unwrap()];
    store.db().execute_unprepared(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).await.unwrap();
}

/// The rows after each way, checked against each other and for what the events must have left.
async fn assert_same_rows(stores: [&Store; 3]) {
    let events = events();
    let mut all_rows = Vec::new();
    for (store, way) in stores.into_iter().zip([Way::EachAlone, Way::OnePerBatch, Way::AllInOneBatch]) {
        book(store, way, &events).await;
        all_rows.push(rows(store).await);
    }
    let reference = &all_rows[0];
    let count = |table: &str| reference.iter().filter(|row| row.starts_with(&format!("{table}: "))).count();
    // Claims 3, 4, 6, 7, 9 referenced (1's and 8's erased); 14 payables (4: decision, reversal, correction; 1: decision, reversal).
    assert_eq!(
        [count("claim_refs"), count("payables"), count("payable_lines"), count("journal_entries"), count("outbox"), count("holds"), count("payees")],
        [5, 14, 14, 14, 14, 1, 1],
        "{reference:#?}"
    );
    assert!(count("journal_lines") >= 20, "{reference:#?}");
    let has = |needle: &str| reference.iter().any(|row| row.contains(needle));
    assert!(has("correction"), "claim 4's second decision is a correction: {reference:#?}");
    assert!(has("PCN-7A") && !has("PCN-7B"), "a claim's first submission is kept: {reference:#?}");
    assert!(has("PCN-9") && !has("PCN-9B"), "a claim's stored reference is kept: {reference:#?}");
    assert!(has(TRACEPARENT), "a traced decision's event carries its trace: {reference:#?}");
    for (way, rows) in [Way::OnePerBatch, Way::AllInOneBatch].into_iter().zip(&all_rows[1..]) {
        for (expected, found) in reference.iter().zip(rows) {
            assert_eq!(expected, found, "{way:?}");
        }
        assert_eq!(reference.len(), rows.len(), "{way:?}");
    }
}

#[tokio::test]
async fn each_event_alone_one_per_batch_and_all_in_one_batch_write_the_same_rows_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let (alone, one, all) = (sqlite(&dir, "alone.db").await, sqlite(&dir, "one.db").await, sqlite(&dir, "all.db").await);
    assert_same_rows([&alone, &one, &all]).await;
}

#[tokio::test]
async fn each_event_alone_one_per_batch_and_all_in_one_batch_write_the_same_rows_on_postgres() {
    let (alone, one, all) = (postgres("alone").await, postgres("one").await, postgres("all").await);
    assert_same_rows([&alone, &one, &all]).await;
    for store in [&alone, &one, &all] {
        drop_schema(store).await;
    }
}

/// More claims in one run than one read takes ([`crate::storage::CLAIMS_PER_READ`]):
/// 450 claims submitted and decided, then a third of them reversed beside
/// 450 new decisions. Booked each event alone and all in one batch (the
/// first 900 events one run), the rows and events are the same.
#[tokio::test]
async fn a_run_longer_than_one_read_writes_the_same_rows_as_each_event_alone() {
    const N: u128 = 450;
    assert!(N as usize > crate::storage::CLAIMS_PER_READ);
    let first: Vec<Envelope> = (1..=N).flat_map(|n| [submitted(n, Some("PCN"), "M1", PayerSequence::Primary), decided(n, "80.00", 2)]).collect();
    let second: Vec<Envelope> =
        (1..=N).filter(|n| n % 3 == 0).map(|n| reversed(n, "80.00", 3)).chain((1..=N).map(|n| decided(5_000 + n, "40.00", 3))).collect();
    let dir = tempfile::tempdir().unwrap();
    let (alone, all) = (sqlite(&dir, "alone.db").await, sqlite(&dir, "all.db").await);
    // One booker each (its entry ids count from one): the reversals begin new runs inside the one batch.
    let events: Vec<Envelope> = first.into_iter().chain(second).collect();
    book(&alone, Way::EachAlone, &events).await;
    book(&all, Way::AllInOneBatch, &events).await;
    let (expected, found) = (rows(&alone).await, rows(&all).await);
    let count = |table: &str| expected.iter().filter(|row| row.starts_with(&format!("{table}: "))).count();
    // 450 decisions, 150 reversals, 450 more decisions; the reversed claims' queue rows stay until a run (both kinds).
    assert_eq!([count("payables"), count("unpaid_payables"), count("journal_entries")], [1_050, 1_050, 1_050]);
    assert_eq!(expected.len(), found.len());
    for (expected, found) in expected.iter().zip(&found) {
        assert_eq!(expected, found);
    }
}

#[test]
fn a_batch_of_submissions_decisions_and_reversals_of_distinct_claims_is_one_run() {
    let shapes = [Shape::Submission, Shape::Booking(claim_id(1)), Shape::Booking(claim_id(2)), Shape::Submission, Shape::Booking(claim_id(3))];
    assert_eq!(plan(&shapes), vec![Step::Together(0..5)]);
}

#[test]
fn a_claims_second_booking_begins_a_new_run() {
    let shapes = [
        Shape::Booking(claim_id(1)),
        Shape::Booking(claim_id(2)),
        Shape::Booking(claim_id(1)),
        Shape::Submission,
        Shape::Booking(claim_id(2)),
        Shape::Booking(claim_id(1)),
    ];
    assert_eq!(plan(&shapes), vec![Step::Together(0..2), Step::Together(2..5), Step::Together(5..6)]);
}

#[test]
fn other_events_are_handled_alone_between_runs() {
    let shapes = [Shape::Alone, Shape::Submission, Shape::Booking(claim_id(1)), Shape::Alone, Shape::Alone, Shape::Booking(claim_id(1)), Shape::Alone];
    assert_eq!(plan(&shapes), vec![Step::Alone(0), Step::Together(1..3), Step::Alone(3), Step::Alone(4), Step::Together(5..6), Step::Alone(6)]);
}

#[test]
fn a_run_after_an_event_alone_forgets_the_claims_booked_before_it() {
    let shapes = [Shape::Booking(claim_id(1)), Shape::Alone, Shape::Booking(claim_id(1)), Shape::Booking(claim_id(2))];
    assert_eq!(plan(&shapes), vec![Step::Together(0..1), Step::Alone(1), Step::Together(2..4)]);
}

#[test]
fn an_empty_batch_has_no_steps() {
    assert_eq!(plan(&[]), vec![]);
}

/// Counts the statements sea-orm runs in transactions (its `execute_raw`,
/// `query_one_raw` and `query_all_raw` spans) while it is the thread's subscriber.
struct StatementCounter {
    n_statements: Arc<AtomicU64>,
    next_span: AtomicU64,
}

impl tracing::Subscriber for StatementCounter {
    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        metadata.target().starts_with("sea_orm")
    }

    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let metadata = span.metadata();
        if metadata.target() == "sea_orm::database::transaction" && matches!(metadata.name(), "execute_raw" | "query_one_raw" | "query_all_raw") {
            self.n_statements.fetch_add(1, Ordering::SeqCst);
        }
        tracing::span::Id::from_u64(self.next_span.fetch_add(1, Ordering::SeqCst) + 1)
    }

    fn record(&self, _span: &tracing::span::Id, _values: &tracing::span::Record<'_>) {}

    fn record_follows_from(&self, _span: &tracing::span::Id, _follows: &tracing::span::Id) {}

    fn event(&self, _event: &tracing::Event<'_>) {}

    fn enter(&self, _span: &tracing::span::Id) {}

    fn exit(&self, _span: &tracing::span::Id) {}
}

/// The statements the booker runs for `n_claims` claims, each submitted and
/// then decided (paid, two journal lines), in one transaction: each event on
/// the per-event path (what the runtime's default `handle_batch` did), and
/// all of them through [`Booker::handle_batch`].
async fn statements(store: &Store, n_claims: u128) -> (u64, u64) {
    // Claims of their own for each count and each way (the journal takes one decision a claim).
    let first = 1_000_000 * n_claims;
    let events: Vec<Envelope> =
        (first..first + 2 * n_claims).flat_map(|n| [submitted(n, Some("PCN"), "M1", PayerSequence::Primary), decided(n, "80.00", 2)]).collect();
    let (per_event, batch) = events.split_at(events.len() / 2);
    let n_statements = Arc::new(AtomicU64::new(0));
    let _counting = tracing::subscriber::set_default(StatementCounter { n_statements: n_statements.clone(), next_span: AtomicU64::new(0) });
    let booker = Booker::new(store.clone());
    let tx = store.begin().await.unwrap();
    for envelope in per_event {
        booker.handle(&tx, envelope).await.unwrap();
    }
    let n_per_event = n_statements.swap(0, Ordering::SeqCst);
    booker.handle_batch(&tx, &batch.iter().collect::<Vec<_>>()).await.unwrap();
    let n_batch = n_statements.swap(0, Ordering::SeqCst);
    tx.commit().await.unwrap();
    (n_per_event, n_batch)
}

/// Per event: the reference upsert, then per decision the reversal check,
/// the reference read, the payable's queue row, the payable, its lines, the
/// entry and its lines (8 a claim). Per batch: two reads per 400 claims and one multi-row insert per
/// table per chunk of [`Store::rows_per_insert`] rows.
async fn assert_statements(store: &Store) {
    for n_claims in [1, 10, 100, 250] {
        let (n_per_event, n_batch) = statements(store, n_claims).await;
        let n = n_claims as usize;
        let chunks = |n_rows: usize| n_rows.div_ceil(store.rows_per_insert()) as u64;
        let reads = 2 * n.div_ceil(crate::storage::CLAIMS_PER_READ) as u64;
        println!(
            "{} claims on {}: {n_per_event} statements each event alone ({:.2} a claim), {n_batch} in one batch ({:.3} a claim)",
            n_claims,
            if store.is_postgres() { "Postgres" } else { "SQLite" },
            n_per_event as f64 / n as f64,
            n_batch as f64 / n as f64
        );
        assert_eq!(n_per_event, 8 * n_claims as u64);
        assert_eq!(n_batch, reads + 5 * chunks(n) + chunks(2 * n));
    }
}

#[tokio::test]
async fn a_batch_takes_a_few_statements_per_table_not_several_per_claim_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    assert_statements(&sqlite(&dir, "count.db").await).await;
}

#[tokio::test]
async fn a_batch_takes_a_few_statements_per_table_not_several_per_claim_on_postgres() {
    let store = postgres("count").await;
    assert_statements(&store).await;
    drop_schema(&store).await;
}
