//! The SQL of payments: the payables (adjudicated claims and reversals not
//! yet paid), the providers' pay-to projection, the payers' banking, holds,
//! debts, runs, remittances (with their 835 and PaymentReconciliation) and
//! ACH batches. Migration 3 creates them.

use std::collections::{BTreeMap, HashMap};

use claimtrail_events::{BankAccount, Money, PayTo, PayerSequence, RemittanceIssued};
use claimtrail_store::{Store, StoreError, stmt};
use sea_orm::{ConnectionTrait, QueryResult, Value};
use time::Date;
use uuid::Uuid;

use crate::domain::ach::AchBatch;
use crate::domain::payment_run::{Debt, DebtBasis, Payable, PayableKind, Payee, PayerBanking, RefundPart, RemittanceStatus};
use crate::domain::returned::Reopening;

pub(crate) fn migration(store: &Store) -> Vec<String> {
    let t = store.types();
    let table = |name: &str| store.table(name);
    vec![
        format!("CREATE TABLE {} (claim_id {} PRIMARY KEY, patient_control_number TEXT NOT NULL, member_id TEXT NOT NULL)", table("claim_refs"), t.uuid),
        format!(
            "CREATE TABLE {} (claim_id {uuid} NOT NULL, kind TEXT NOT NULL, payer_id TEXT NOT NULL, billing_npi TEXT NOT NULL, \
             patient_control_number TEXT NOT NULL, member_id TEXT NOT NULL, lines TEXT NOT NULL, charge_cents {big} NOT NULL, paid_cents {big} NOT NULL, \
             patient_cents {big} NOT NULL, adjudicated_on TEXT NOT NULL, remittance_id {uuid}, PRIMARY KEY (claim_id, kind))",
            table("payables"),
            uuid = t.uuid,
            big = t.bigint
        ),
        format!("CREATE INDEX {} ON {} (payer_id, remittance_id)", store.index("payables_unpaid"), table("payables")),
        format!(
            "CREATE TABLE {} (npi TEXT PRIMARY KEY, name TEXT NOT NULL, tin TEXT NOT NULL, pay_to TEXT NOT NULL, bank_account TEXT, prenote_effective_on TEXT)",
            table("payees")
        ),
        format!(
            "CREATE TABLE {} (payer_id TEXT PRIMARY KEY, name TEXT NOT NULL, tin TEXT NOT NULL, routing_number TEXT NOT NULL, account_number TEXT NOT NULL, address TEXT NOT NULL)",
            table("payer_banking")
        ),
        format!(
            "CREATE TABLE {} (hold_id {} PRIMARY KEY, payer_id TEXT NOT NULL, npi TEXT NOT NULL, reason TEXT NOT NULL, placed_by TEXT NOT NULL, \
             released_by TEXT, release_reason TEXT)",
            table("holds"),
            t.uuid
        ),
        format!(
            "CREATE TABLE {} (payer_id TEXT NOT NULL, npi TEXT NOT NULL, claim_id {} NOT NULL, amount_cents {} NOT NULL, since_run {} NOT NULL, \
             PRIMARY KEY (payer_id, npi, claim_id))",
            table("debts"),
            t.uuid,
            t.bigint,
            t.uuid
        ),
        format!(
            "CREATE TABLE {} (run_id {} PRIMARY KEY, payer_id TEXT NOT NULL, idempotency_key TEXT NOT NULL, body_sha TEXT NOT NULL, run_date TEXT NOT NULL, \
             effective_date TEXT NOT NULL, next_entry_sequence {} NOT NULL, ach_file TEXT, created_at {} NOT NULL DEFAULT {}, UNIQUE (payer_id, idempotency_key))",
            table("payment_runs"),
            t.uuid,
            t.bigint,
            t.timestamp,
            t.now
        ),
        format!(
            "CREATE TABLE {} (remittance_id {} PRIMARY KEY, run_id {} NOT NULL, payer_id TEXT NOT NULL, npi TEXT NOT NULL, status TEXT NOT NULL, \
             amount_cents {} NOT NULL, body TEXT NOT NULL, x835 TEXT, reconciliation TEXT)",
            table("remittances"),
            t.uuid,
            t.uuid,
            t.bigint
        ),
        format!("CREATE INDEX {} ON {} (run_id)", store.index("remittances_run"), table("remittances")),
        format!(
            "CREATE TABLE {} (run_id {} NOT NULL, batch_number {} NOT NULL, body TEXT NOT NULL, PRIMARY KEY (run_id, batch_number))",
            table("ach_batches"),
            t.uuid,
            t.bigint
        ),
    ]
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

fn cents(amount: Money) -> Result<i64, StoreError> {
    amount.cents().map_err(corrupt)
}

fn date_of(text: &str) -> Result<Date, StoreError> {
    claimtrail_events::parse_date(text).ok_or_else(|| corrupt(format!("date `{text}`")))
}

/// The payer's place in coordination of benefits (1 primary, 2 secondary,
/// 3 tertiary: the 835's CLP02 for a processed claim), kept with the claim's
/// reference and its payables; 1 for every claim recorded before.
pub(crate) fn payer_sequence_migration(store: &Store) -> Vec<String> {
    ["claim_refs", "payables"]
        .iter()
        .map(|table| format!("ALTER TABLE {} ADD COLUMN payer_sequence {} NOT NULL DEFAULT 1", store.table(table), store.types().bigint))
        .collect()
}

/// What settlement keeps of a claim's submission for its 835.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRef {
    /// CLM01.
    pub patient_control_number: String,
    pub member_id: String,
    pub payer_sequence: PayerSequence,
}

/// Keeps a claim's CLM01, member id and the payer's place (from `claim.submitted.v1`) for its 835.
pub async fn upsert_claim_ref(store: &Store, tx: &impl ConnectionTrait, claim_id: Uuid, claim_ref: &ClaimRef) -> Result<(), StoreError> {
    upsert_claim_refs(store, tx, &[(claim_id, claim_ref.clone())]).await
}

/// Keeps claims' references in multi-row statements; a claim's first kept
/// stays (a claim listed twice in one statement is the caller's to avoid).
pub async fn upsert_claim_refs(store: &Store, tx: &impl ConnectionTrait, claim_refs: &[(Uuid, ClaimRef)]) -> Result<(), StoreError> {
    let rows = claim_refs
        .iter()
        .map(|(claim_id, claim_ref)| {
            vec![
                Value::from(*claim_id),
                Value::from(claim_ref.patient_control_number.clone()),
                Value::from(claim_ref.member_id.clone()),
                Value::from(i64::from(claim_ref.payer_sequence.number())),
            ]
        })
        .collect();
    let insert = format!("INSERT INTO {} (claim_id, patient_control_number, member_id, payer_sequence) VALUES ", store.table("claim_refs"));
    claimtrail_store::insert_rows(store, tx, &insert, rows, " ON CONFLICT (claim_id) DO NOTHING").await
}

/// Deletes what payments keep of erased claims (the member ids).
pub async fn erase_claims(store: &Store, tx: &impl ConnectionTrait, claim_ids: &[Uuid]) -> Result<(), StoreError> {
    for claim_id in claim_ids {
        for table in ["claim_refs"] {
            tx.execute_raw(stmt(store, format!("DELETE FROM {} WHERE claim_id = $1", store.table(table)), vec![Value::from(*claim_id)])).await?;
        }
        tx.execute_raw(stmt(store, format!("UPDATE {} SET member_id = '' WHERE claim_id = $1", store.table("payables")), vec![Value::from(*claim_id)])).await?;
    }
    Ok(())
}

/// CLM01, member id and the payer's place of a claim, when its submission was seen.
pub async fn claim_ref(store: &Store, tx: &impl ConnectionTrait, claim_id: Uuid) -> Result<Option<ClaimRef>, StoreError> {
    let row = tx
        .query_one_raw(stmt(
            store,
            format!("SELECT patient_control_number, member_id, payer_sequence FROM {} WHERE claim_id = $1", store.table("claim_refs")),
            vec![Value::from(claim_id)],
        ))
        .await?;
    Ok(match row {
        Some(row) => Some(ClaimRef {
            patient_control_number: row.try_get_by_index(0)?,
            member_id: row.try_get_by_index(1)?,
            payer_sequence: payer_sequence_of(row.try_get_by_index(2)?)?,
        }),
        None => None,
    })
}

/// The references of those of `claim_ids` whose submission was seen: one
/// statement per [`crate::storage::CLAIMS_PER_READ`] claims.
pub async fn claim_refs(store: &Store, tx: &impl ConnectionTrait, claim_ids: &[Uuid]) -> Result<HashMap<Uuid, ClaimRef>, StoreError> {
    let mut refs = HashMap::with_capacity(claim_ids.len());
    for chunk in claim_ids.chunks(crate::storage::CLAIMS_PER_READ) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|idx| format!("${idx}")).collect();
        let select = format!(
            "SELECT claim_id, patient_control_number, member_id, payer_sequence FROM {} WHERE claim_id IN ({})",
            store.table("claim_refs"),
            placeholders.join(",")
        );
        for row in tx.query_all_raw(stmt(store, select, chunk.iter().map(|claim_id| Value::from(*claim_id)).collect())).await? {
            let claim_ref = ClaimRef {
                patient_control_number: row.try_get_by_index(1)?,
                member_id: row.try_get_by_index(2)?,
                payer_sequence: payer_sequence_of(row.try_get_by_index(3)?)?,
            };
            refs.insert(row.try_get_by_index::<Uuid>(0)?, claim_ref);
        }
    }
    Ok(refs)
}

fn payer_sequence_of(stored: i64) -> Result<PayerSequence, StoreError> {
    u64::try_from(stored).ok().and_then(PayerSequence::from_number).ok_or_else(|| corrupt(format!("payer sequence {stored}")))
}

/// Records a payable (once per claim and kind).
pub async fn insert_payable(store: &Store, tx: &impl ConnectionTrait, payable: &Payable) -> Result<(), StoreError> {
    insert_payables(store, tx, std::slice::from_ref(payable)).await
}

/// Records payables (each once per claim and kind) in multi-row statements,
/// and queues the new ones as unpaid ([`take_unpaid_payables`]).
pub async fn insert_payables(store: &Store, tx: &impl ConnectionTrait, payables: &[Payable]) -> Result<(), StoreError> {
    let mut rows = Vec::with_capacity(payables.len());
    let mut lines = Vec::with_capacity(payables.len());
    for payable in payables {
        lines.push(vec![
            Value::from(payable.claim_id),
            Value::from(payable.kind.as_str()),
            Value::from(super::stored_lines::encode(&payable.lines).map_err(corrupt)?),
        ]);
        rows.push(vec![
            Value::from(payable.claim_id),
            Value::from(payable.kind.as_str()),
            Value::from(payable.payer_id.clone()),
            Value::from(payable.billing_npi.clone()),
            Value::from(payable.patient_control_number.clone()),
            Value::from(payable.member_id.clone()),
            Value::from(cents(payable.total_charge)?),
            Value::from(cents(payable.total_paid)?),
            Value::from(cents(payable.total_patient_responsibility)?),
            Value::from(claimtrail_events::format_date(payable.adjudicated_on)),
            Value::from(i64::from(payable.payer_sequence.number())),
        ]);
    }
    let insert = format!(
        "INSERT INTO {} (claim_id, kind, payer_id, billing_npi, patient_control_number, member_id, charge_cents, paid_cents, patient_cents, adjudicated_on, \
         payer_sequence) VALUES ",
        store.table("payables")
    );
    let inserted = claimtrail_store::insert_rows_returning(
        store,
        tx,
        &insert,
        rows,
        " ON CONFLICT (claim_id, kind) DO NOTHING RETURNING payer_id, billing_npi, claim_id, kind",
    )
    .await?;
    // Queued unpaid only if new: a payable recorded before (and perhaps paid since) is not queued again.
    let unpaid = inserted
        .iter()
        .map(|row| {
            Ok(vec![
                Value::from(row.try_get_by_index::<String>(0)?),
                Value::from(row.try_get_by_index::<String>(1)?),
                Value::from(row.try_get_by_index::<Uuid>(2)?),
                Value::from(row.try_get_by_index::<String>(3)?),
            ])
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let queue = format!("INSERT INTO {} (payer_id, billing_npi, claim_id, kind) VALUES ", store.table("unpaid_payables"));
    claimtrail_store::insert_rows(store, tx, &queue, unpaid, "").await?;
    let insert = format!("INSERT INTO {} (claim_id, kind, lines) VALUES ", store.table("payable_lines"));
    claimtrail_store::insert_rows(store, tx, &insert, lines, " ON CONFLICT (claim_id, kind) DO NOTHING").await
}

/// The payer's payables not yet paid, with their lines.
pub async fn unpaid_payables(store: &Store, tx: &impl ConnectionTrait, payer_id: &str) -> Result<Vec<Payable>, StoreError> {
    let rows = tx
        .query_all_raw(stmt(
            store,
            format!(
                "SELECT p.claim_id, p.kind, p.payer_id, p.billing_npi, p.patient_control_number, p.member_id, l.lines, p.charge_cents, p.paid_cents, \
                 p.patient_cents, p.adjudicated_on, p.payer_sequence \
                 FROM {} u JOIN {} p ON p.claim_id = u.claim_id AND p.kind = u.kind JOIN {} l ON l.claim_id = u.claim_id AND l.kind = u.kind \
                 WHERE u.payer_id = $1",
                store.table("unpaid_payables"),
                store.table("payables"),
                store.table("payable_lines")
            ),
            vec![Value::from(payer_id.to_owned())],
        ))
        .await?;
    let mut payables = payables_of(&rows)?;
    // In key order (the claim, then the kind as text, as `ORDER BY claim_id, kind` gave them), sorted here: for a
    // large run SQLite sorted the 1,000,000 joined rows in a temporary B-tree (its plan: the unpaid index, then the sort).
    payables.sort_unstable_by(|a, b| (a.claim_id, a.kind.as_str()).cmp(&(b.claim_id, b.kind.as_str())));
    Ok(payables)
}

/// How many rows one thread turns into payables (a run over 1,000,000 claims uses two threads where there are two cores).
const PAYABLE_ROWS_PER_THREAD_MIN: usize = 50_000;

/// The payables of `rows`, in order: on up to four threads when there are many (about a second per 1,000,000 on one).
fn payables_of(rows: &[QueryResult]) -> Result<Vec<Payable>, StoreError> {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get).min(4).min(rows.len() / PAYABLE_ROWS_PER_THREAD_MIN).max(1);
    if threads == 1 {
        return rows.iter().map(payable_of).collect();
    }
    let chunk = rows.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = rows.chunks(chunk).map(|rows| scope.spawn(move || rows.iter().map(payable_of).collect::<Result<Vec<_>, _>>())).collect();
        let mut payables = Vec::with_capacity(rows.len());
        for handle in handles {
            payables.extend(handle.join().map_err(|_| corrupt("reading the payables panicked"))??);
        }
        Ok(payables)
    })
}

/// What a payment run took off the queue of unpaid payables.
#[derive(Debug)]
pub struct Taken {
    /// The payer's unpaid payables, with their lines, in key order: all of them leave the queue.
    pub payables: Vec<Payable>,
    /// Payables booked after the read, taken off the queue by the same
    /// statement: not in this run, so put back ([`requeue`]) with the
    /// payables the run does not settle.
    pub booked_meanwhile: Vec<(String, String, Uuid, PayableKind)>,
}

/// Takes the payer's unpaid payables off the queue for a payment run, in the
/// run's transaction: reads them ([`unpaid_payables`]), then deletes the
/// payer's queue in one statement, which returns what it deleted. Only a
/// run (holding [`lock_debts`]) removes queue rows, so what the read saw is
/// still there; a payable booked between the two statements is deleted
/// too and comes back in [`Taken::booked_meanwhile`]. `None` when a payable
/// read is no longer queued (a concurrent run took it: a conflict).
///
/// Marking 1,000,000 payables paid by key cost 17.7 s on Postgres (each
/// update a new tuple and a new key entry); deleting the payer's queue rows
/// by the key's prefix costs about half a second (docs/benchmarks.md).
pub async fn take_unpaid_payables(store: &Store, tx: &impl ConnectionTrait, payer_id: &str) -> Result<Option<Taken>, StoreError> {
    let payables = unpaid_payables(store, tx, payer_id).await?;
    take_read(store, tx, payer_id, payables).await
}

/// The second statement of [`take_unpaid_payables`]: deletes the payer's
/// queue, which held (at least) `payables` when they were read.
pub async fn take_read(store: &Store, tx: &impl ConnectionTrait, payer_id: &str, payables: Vec<Payable>) -> Result<Option<Taken>, StoreError> {
    let deleted = tx
        .query_all_raw(stmt(
            store,
            format!("DELETE FROM {} WHERE payer_id = $1 RETURNING billing_npi, claim_id, kind", store.table("unpaid_payables")),
            vec![Value::from(payer_id.to_owned())],
        ))
        .await?;
    if deleted.len() == payables.len() {
        return Ok(Some(Taken { payables, booked_meanwhile: Vec::new() }));
    }
    let read: std::collections::HashSet<(Uuid, PayableKind)> = payables.iter().map(|payable| (payable.claim_id, payable.kind)).collect();
    let mut booked_meanwhile = Vec::new();
    let mut n_read = 0;
    for row in &deleted {
        let kind: String = row.try_get_by_index(2)?;
        let key = (row.try_get_by_index::<Uuid>(1)?, PayableKind::parse(&kind).ok_or_else(|| corrupt(format!("payable kind `{kind}`")))?);
        if read.contains(&key) {
            n_read += 1;
        } else {
            booked_meanwhile.push((payer_id.to_owned(), row.try_get_by_index::<String>(0)?, key.0, key.1));
        }
    }
    Ok((n_read == payables.len()).then_some(Taken { payables, booked_meanwhile }))
}

/// Puts payables back on the queue of unpaid payables: those of the run's
/// remittances that do not settle (held, awaiting a prenote), and those
/// booked while it read ([`Taken::booked_meanwhile`]). Each is `(payer,
/// billing NPI, claim, kind)`.
pub async fn requeue(store: &Store, tx: &impl ConnectionTrait, unpaid: &[(String, String, Uuid, PayableKind)]) -> Result<(), StoreError> {
    let rows = unpaid
        .iter()
        .map(|(payer_id, npi, claim_id, kind)| {
            vec![Value::from(payer_id.clone()), Value::from(npi.clone()), Value::from(*claim_id), Value::from(kind.as_str())]
        })
        .collect();
    let insert = format!("INSERT INTO {} (payer_id, billing_npi, claim_id, kind) VALUES ", store.table("unpaid_payables"));
    claimtrail_store::insert_rows(store, tx, &insert, rows, "").await
}

/// Migration 211: a payable's lines in a table of their own, and the index
/// of unpaid payables only. A run marks each payable it pays: with the lines
/// (about 500 bytes of JSON each) in the same row, marking 1,000,000
/// payables rewrote every page of the table (about 650 MB of WAL, and as much
/// again at the checkpoint); now it rewrites rows of about 120 bytes. The
/// index kept every paid payable too (`(payer_id, remittance_id)`), which
/// nothing reads: the partial index holds the unpaid ones, and marking one
/// paid only removes its entry.
pub(crate) fn payable_lines_migration(store: &Store) -> Vec<String> {
    let t = store.types();
    let (payables, lines) = (store.table("payables"), store.table("payable_lines"));
    vec![
        format!("CREATE TABLE {lines} (claim_id {} NOT NULL, kind TEXT NOT NULL, lines TEXT NOT NULL, PRIMARY KEY (claim_id, kind))", t.uuid),
        format!("INSERT INTO {lines} (claim_id, kind, lines) SELECT claim_id, kind, lines FROM {payables}"),
        format!("ALTER TABLE {payables} DROP COLUMN lines"),
        format!("DROP INDEX {}", store.index_path("payables_unpaid")),
        format!("CREATE INDEX {} ON {payables} (payer_id) WHERE remittance_id IS NULL", store.index("payables_unpaid")),
    ]
}

/// Migration 231: the queue of unpaid payables, a table of its own keyed by
/// payer, billing NPI, claim and kind. A payment run takes the payer's rows
/// off it in one statement ([`take_unpaid_payables`]) and puts back those it
/// does not settle ([`requeue`]); payables are no longer updated when paid.
/// Their `remittance_id` goes (the remittance's body names its claims), and
/// with it the partial index whose predicate named it, which kept every
/// update from being HOT.
pub(crate) fn unpaid_queue_migration(store: &Store) -> Vec<String> {
    let (payables, unpaid) = (store.table("payables"), store.table("unpaid_payables"));
    vec![
        format!(
            "CREATE TABLE {unpaid} (payer_id TEXT NOT NULL, billing_npi TEXT NOT NULL, claim_id {} NOT NULL, kind TEXT NOT NULL, \
             PRIMARY KEY (payer_id, billing_npi, claim_id, kind)){}",
            store.types().uuid,
            if store.is_postgres() { "" } else { " WITHOUT ROWID" }
        ),
        format!(
            "INSERT INTO {unpaid} (payer_id, billing_npi, claim_id, kind) SELECT payer_id, billing_npi, claim_id, kind FROM {payables} WHERE remittance_id IS NULL"
        ),
        format!("DROP INDEX {}", store.index_path("payables_unpaid")),
        format!("ALTER TABLE {payables} DROP COLUMN remittance_id"),
    ]
}

/// Migration 221: on Postgres, a remittance's texts (its 835, PaymentReconciliation
/// and event body, about 300 KB for 500 claims) compressed with lz4 instead of
/// pglz: about 13 s against 2.5 s for the 600 MB of text of a run over
/// 1,000,000 claims, estimated from psql (pglz about 45 MB/s here, lz4 about
/// 230 MB/s; docs/benchmarks.md). Rows
/// stored before stay pglz and read as before. A server built without lz4
/// keeps pglz (the statement's error is caught). SQLite does not compress.
pub(crate) fn remittance_lz4_migration(store: &Store) -> Vec<String> {
    if !store.is_postgres() {
        return vec![];
    }
    let remittances = store.table("remittances");
    vec![format!(
        "DO $$ BEGIN ALTER TABLE {remittances} ALTER COLUMN body SET COMPRESSION lz4, ALTER COLUMN x835 SET COMPRESSION lz4, \
         ALTER COLUMN reconciliation SET COMPRESSION lz4; EXCEPTION WHEN feature_not_supported THEN NULL; END $$"
    )]
}

/// Migration 201: a payee's account hold (an account-fault return holds its
/// payments until new banking is registered). Numbered apart from 1-3 and
/// the bank's 101 so that migrations added beside it elsewhere do not collide.
pub(crate) fn account_hold_migration(store: &Store) -> Vec<String> {
    vec![format!("ALTER TABLE {} ADD COLUMN account_hold TEXT", store.table("payees"))]
}

/// A debt's basis (a claim's WO, or a forwarding balance: its `claim_id` the
/// forwarding remittance), refund checks received from providers and the
/// parts of them the next 835 acknowledges (PLB 72).
pub(crate) fn refunds_migration(store: &Store) -> Vec<String> {
    let t = store.types();
    vec![
        format!("ALTER TABLE {} ADD COLUMN basis TEXT NOT NULL DEFAULT 'claim'", store.table("debts")),
        format!(
            "CREATE TABLE {} (refund_id {} PRIMARY KEY, payer_id TEXT NOT NULL, npi TEXT NOT NULL, check_number TEXT NOT NULL, amount_cents {} NOT NULL, \
             received_on TEXT NOT NULL, recorded_by TEXT NOT NULL, UNIQUE (payer_id, npi, check_number))",
            store.table("refunds"),
            t.uuid,
            t.bigint
        ),
        format!(
            "CREATE TABLE {} (refund_id {} NOT NULL, payer_id TEXT NOT NULL, npi TEXT NOT NULL, claim_id {} NOT NULL, basis TEXT NOT NULL, \
             amount_cents {} NOT NULL, remittance_id {}, PRIMARY KEY (refund_id, claim_id))",
            store.table("refund_parts"),
            t.uuid,
            t.uuid,
            t.bigint,
            t.uuid
        ),
    ]
}

/// A refund check as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRefund {
    pub refund_id: Uuid,
    pub payer_id: String,
    pub npi: String,
    pub check_number: String,
    pub amount: Money,
    pub received_on: Date,
    pub recorded_by: String,
}

/// Records a refund check and the debts it paid: false (nothing written) if
/// the payer already recorded this check number from this provider.
pub async fn insert_refund(store: &Store, tx: &impl ConnectionTrait, refund: &StoredRefund, parts: &[RefundPart]) -> Result<bool, StoreError> {
    let inserted = tx
        .execute_raw(stmt(
            store,
            format!(
                "INSERT INTO {} (refund_id, payer_id, npi, check_number, amount_cents, received_on, recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (payer_id, npi, check_number) DO NOTHING",
                store.table("refunds")
            ),
            vec![
                Value::from(refund.refund_id),
                Value::from(refund.payer_id.clone()),
                Value::from(refund.npi.clone()),
                Value::from(refund.check_number.clone()),
                Value::from(cents(refund.amount)?),
                Value::from(refund.received_on.to_string()),
                Value::from(refund.recorded_by.clone()),
            ],
        ))
        .await?;
    if inserted.rows_affected() != 1 {
        return Ok(false);
    }
    for part in parts {
        tx.execute_raw(stmt(
            store,
            format!("INSERT INTO {} (refund_id, payer_id, npi, claim_id, basis, amount_cents) VALUES ($1, $2, $3, $4, $5, $6)", store.table("refund_parts")),
            vec![
                Value::from(part.refund_id),
                Value::from(refund.payer_id.clone()),
                Value::from(refund.npi.clone()),
                Value::from(part.claim_id),
                Value::from(part.basis.as_str()),
                Value::from(cents(part.amount)?),
            ],
        ))
        .await?;
    }
    Ok(true)
}

/// The payer's refund parts no 835 has acknowledged yet, by NPI, in the order received.
pub async fn unacknowledged_refunds(store: &Store, tx: &impl ConnectionTrait, payer_id: &str) -> Result<BTreeMap<String, Vec<RefundPart>>, StoreError> {
    let rows = tx
        .query_all_raw(stmt(
            store,
            format!(
                "SELECT npi, refund_id, claim_id, basis, amount_cents FROM {} WHERE payer_id = $1 AND remittance_id IS NULL ORDER BY refund_id, claim_id",
                store.table("refund_parts")
            ),
            vec![Value::from(payer_id.to_owned())],
        ))
        .await?;
    let mut parts: BTreeMap<String, Vec<RefundPart>> = BTreeMap::new();
    for row in rows {
        let npi: String = row.try_get_by_index(0)?;
        let basis: String = row.try_get_by_index(3)?;
        parts.entry(npi).or_default().push(RefundPart {
            refund_id: row.try_get_by_index(1)?,
            claim_id: row.try_get_by_index(2)?,
            basis: DebtBasis::parse(&basis).ok_or_else(|| corrupt(format!("refund part basis `{basis}`")))?,
            amount: Money::from_cents(row.try_get_by_index(4)?),
        });
    }
    Ok(parts)
}

/// Marks refund parts acknowledged by the 835 of `remittance_id`.
pub async fn mark_acknowledged(store: &Store, tx: &impl ConnectionTrait, remittance_id: Uuid, parts: &[RefundPart]) -> Result<(), StoreError> {
    for part in parts {
        tx.execute_raw(stmt(
            store,
            format!("UPDATE {} SET remittance_id = $1 WHERE refund_id = $2 AND claim_id = $3 AND remittance_id IS NULL", store.table("refund_parts")),
            vec![Value::from(remittance_id), Value::from(part.refund_id), Value::from(part.claim_id)],
        ))
        .await?;
    }
    Ok(())
}

fn payable_of(row: &QueryResult) -> Result<Payable, StoreError> {
    let kind: String = row.try_get_by_index(1)?;
    let lines: String = row.try_get_by_index(6)?;
    let adjudicated_on: String = row.try_get_by_index(10)?;
    Ok(Payable {
        claim_id: row.try_get_by_index(0)?,
        kind: PayableKind::parse(&kind).ok_or_else(|| corrupt(format!("payable kind `{kind}`")))?,
        payer_id: row.try_get_by_index(2)?,
        billing_npi: row.try_get_by_index(3)?,
        patient_control_number: row.try_get_by_index(4)?,
        member_id: row.try_get_by_index(5)?,
        lines: super::stored_lines::decode(&lines).map_err(corrupt)?,
        total_charge: Money::from_cents(row.try_get_by_index(7)?),
        total_paid: Money::from_cents(row.try_get_by_index(8)?),
        total_patient_responsibility: Money::from_cents(row.try_get_by_index(9)?),
        adjudicated_on: date_of(&adjudicated_on)?,
        payer_sequence: payer_sequence_of(row.try_get_by_index(11)?)?,
    })
}

/// Holds `npi`'s account after an account-fault return ([`crate::domain::account`]):
/// its payments are held with `reason` until new banking is registered. False when settlement knows no such payee.
pub async fn hold_account(store: &Store, tx: &impl ConnectionTrait, npi: &str, reason: &str) -> Result<bool, StoreError> {
    let result = tx
        .execute_raw(stmt(
            store,
            format!("UPDATE {} SET account_hold = $2 WHERE npi = $1", store.table("payees")),
            vec![Value::from(npi.to_owned()), Value::from(reason.to_owned())],
        ))
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Replaces `npi`'s bank account with the one a notification of change
/// corrected. The RDFI itself gave the data, so the account stays verified
/// (its prenote is kept).
pub async fn correct_account(store: &Store, tx: &impl ConnectionTrait, npi: &str, account: &BankAccount) -> Result<(), StoreError> {
    tx.execute_raw(stmt(
        store,
        format!("UPDATE {} SET bank_account = $2 WHERE npi = $1", store.table("payees")),
        vec![Value::from(npi.to_owned()), Value::from(serde_json::to_string(account).map_err(corrupt)?)],
    ))
    .await?;
    Ok(())
}

/// Records (or updates) a provider's pay-to and bank account from the registry;
/// a changed account must be verified again (its prenote is forgotten), and
/// it releases an account-fault hold of the old account (new banking is registered).
pub async fn upsert_payee(store: &Store, tx: &impl ConnectionTrait, payee: &Payee) -> Result<(), StoreError> {
    let bank = payee.bank_account.as_ref().map(serde_json::to_string).transpose().map_err(corrupt)?;
    let existing = tx
        .query_one_raw(stmt(store, format!("SELECT bank_account FROM {} WHERE npi = $1", store.table("payees")), vec![Value::from(payee.npi.clone())]))
        .await?;
    let pay_to = serde_json::to_string(&payee.pay_to).map_err(corrupt)?;
    match existing {
        None => {
            tx.execute_raw(stmt(
                store,
                format!("INSERT INTO {} (npi, name, tin, pay_to, bank_account) VALUES ($1, $2, $3, $4, $5)", store.table("payees")),
                vec![Value::from(payee.npi.clone()), Value::from(payee.name.clone()), Value::from(payee.tin.clone()), Value::from(pay_to), Value::from(bank)],
            ))
            .await?;
        }
        Some(row) => {
            let stored: Option<String> = row.try_get_by_index(0)?;
            let same_account = stored == bank;
            tx.execute_raw(stmt(
                store,
                format!(
                    "UPDATE {} SET name = $2, tin = $3, pay_to = $4, bank_account = $5{} WHERE npi = $1",
                    store.table("payees"),
                    if same_account { "" } else { ", prenote_effective_on = NULL, account_hold = NULL" }
                ),
                vec![Value::from(payee.npi.clone()), Value::from(payee.name.clone()), Value::from(payee.tin.clone()), Value::from(pay_to), Value::from(bank)],
            ))
            .await?;
        }
    }
    Ok(())
}

/// Every payee settlement knows, by NPI.
pub async fn payees(store: &Store, tx: &impl ConnectionTrait) -> Result<BTreeMap<String, Payee>, StoreError> {
    let rows = tx
        .query_all_raw(stmt(
            store,
            format!("SELECT npi, name, tin, pay_to, bank_account, prenote_effective_on, account_hold FROM {}", store.table("payees")),
            vec![],
        ))
        .await?;
    let mut payees = BTreeMap::new();
    for row in rows {
        let pay_to: String = row.try_get_by_index(3)?;
        let bank: Option<String> = row.try_get_by_index(4)?;
        let prenote: Option<String> = row.try_get_by_index(5)?;
        let payee = Payee {
            npi: row.try_get_by_index(0)?,
            name: row.try_get_by_index(1)?,
            tin: row.try_get_by_index(2)?,
            pay_to: serde_json::from_str::<PayTo>(&pay_to).map_err(corrupt)?,
            bank_account: bank.map(|bank| serde_json::from_str::<BankAccount>(&bank)).transpose().map_err(corrupt)?,
            prenote_effective_on: prenote.map(|date| date_of(&date)).transpose()?,
            account_hold: row.try_get_by_index(6)?,
        };
        payees.insert(payee.npi.clone(), payee);
    }
    Ok(payees)
}

/// Records that a prenote for `npi`'s current account goes out effective `on`.
pub async fn record_prenote(store: &Store, tx: &impl ConnectionTrait, npi: &str, on: Date) -> Result<(), StoreError> {
    tx.execute_raw(stmt(
        store,
        format!("UPDATE {} SET prenote_effective_on = $2 WHERE npi = $1", store.table("payees")),
        vec![Value::from(npi.to_owned()), Value::from(claimtrail_events::format_date(on))],
    ))
    .await?;
    Ok(())
}

/// Sets a payer's banking (replacing it).
pub async fn put_payer_banking(store: &Store, tx: &impl ConnectionTrait, banking: &PayerBanking) -> Result<(), StoreError> {
    let address = serde_json::to_string(&banking.address).map_err(corrupt)?;
    tx.execute_raw(stmt(store, format!("DELETE FROM {} WHERE payer_id = $1", store.table("payer_banking")), vec![Value::from(banking.payer_id.clone())]))
        .await?;
    tx.execute_raw(stmt(
        store,
        format!("INSERT INTO {} (payer_id, name, tin, routing_number, account_number, address) VALUES ($1, $2, $3, $4, $5, $6)", store.table("payer_banking")),
        vec![
            Value::from(banking.payer_id.clone()),
            Value::from(banking.name.clone()),
            Value::from(banking.tin.clone()),
            Value::from(banking.routing_number.clone()),
            Value::from(banking.account_number.clone()),
            Value::from(address),
        ],
    ))
    .await?;
    Ok(())
}

pub async fn payer_banking(store: &Store, conn: &impl ConnectionTrait, payer_id: &str) -> Result<Option<PayerBanking>, StoreError> {
    let row = conn
        .query_one_raw(stmt(
            store,
            format!("SELECT payer_id, name, tin, routing_number, account_number, address FROM {} WHERE payer_id = $1", store.table("payer_banking")),
            vec![Value::from(payer_id.to_owned())],
        ))
        .await?;
    let Some(row) = row else { return Ok(None) };
    let address: String = row.try_get_by_index(5)?;
    Ok(Some(PayerBanking {
        payer_id: row.try_get_by_index(0)?,
        name: row.try_get_by_index(1)?,
        tin: row.try_get_by_index(2)?,
        routing_number: row.try_get_by_index(3)?,
        account_number: row.try_get_by_index(4)?,
        address: serde_json::from_str(&address).map_err(corrupt)?,
    }))
}

/// How many of `claim_ids` a remittance has paid already (their decisions).
pub async fn n_paid(store: &Store, tx: &impl ConnectionTrait, claim_ids: &[Uuid]) -> Result<usize, StoreError> {
    Ok(paid_claims(store, tx, claim_ids).await?.len())
}

/// Places a hold on a provider's payments from a payer.
pub async fn place_hold(
    store: &Store,
    tx: &impl ConnectionTrait,
    hold_id: Uuid,
    payer_id: &str,
    npi: &str,
    reason: &str,
    placed_by: &str,
) -> Result<(), StoreError> {
    tx.execute_raw(stmt(
        store,
        format!("INSERT INTO {} (hold_id, payer_id, npi, reason, placed_by) VALUES ($1, $2, $3, $4, $5)", store.table("holds")),
        vec![
            Value::from(hold_id),
            Value::from(payer_id.to_owned()),
            Value::from(npi.to_owned()),
            Value::from(reason.to_owned()),
            Value::from(placed_by.to_owned()),
        ],
    ))
    .await?;
    Ok(())
}

/// Releases a provider's active holds: how many were released.
pub async fn release_holds(store: &Store, tx: &impl ConnectionTrait, payer_id: &str, npi: &str, released_by: &str, reason: &str) -> Result<u64, StoreError> {
    let result = tx
        .execute_raw(stmt(
            store,
            format!("UPDATE {} SET released_by = $3, release_reason = $4 WHERE payer_id = $1 AND npi = $2 AND released_by IS NULL", store.table("holds")),
            vec![Value::from(payer_id.to_owned()), Value::from(npi.to_owned()), Value::from(released_by.to_owned()), Value::from(reason.to_owned())],
        ))
        .await?;
    Ok(result.rows_affected())
}

/// Releases the active fraud holds of the payer whose reason begins with `marker` (one alert's): how many.
pub async fn release_fraud_holds(store: &Store, tx: &impl ConnectionTrait, payer_id: &str, marker: &str, reason: &str) -> Result<u64, StoreError> {
    // The marker is an alert id in fixed words: no LIKE wildcard can occur in it, but escape them anyway.
    let pattern = format!("{}%", marker.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    let result = tx
        .execute_raw(stmt(
            store,
            format!(
                "UPDATE {} SET released_by = 'fraud', release_reason = $3 \
                 WHERE payer_id = $1 AND placed_by = 'fraud' AND released_by IS NULL AND reason LIKE $2 ESCAPE '\\'",
                store.table("holds")
            ),
            vec![Value::from(payer_id.to_owned()), Value::from(pattern), Value::from(reason.to_owned())],
        ))
        .await?;
    Ok(result.rows_affected())
}

/// Of `claim_ids`, those a payment run has paid (no longer queued unpaid), with what their decisions paid.
pub async fn paid_claims(store: &Store, tx: &impl ConnectionTrait, claim_ids: &[Uuid]) -> Result<Vec<crate::domain::fraud::PaidClaim>, StoreError> {
    let mut paid = Vec::new();
    for chunk in claim_ids.chunks(400) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|idx| format!("${idx}")).collect();
        let rows = tx
            .query_all_raw(stmt(
                store,
                format!(
                    "SELECT claim_id, billing_npi, paid_cents FROM {} p WHERE kind = 'decision' AND claim_id IN ({}) AND NOT EXISTS \
                     (SELECT 1 FROM {} u WHERE u.payer_id = p.payer_id AND u.billing_npi = p.billing_npi AND u.claim_id = p.claim_id AND u.kind = p.kind) \
                     ORDER BY claim_id",
                    store.table("payables"),
                    placeholders.join(","),
                    store.table("unpaid_payables")
                ),
                chunk.iter().map(|claim_id| Value::from(*claim_id)).collect(),
            ))
            .await?;
        for row in rows {
            paid.push(crate::domain::fraud::PaidClaim {
                claim_id: row.try_get_by_index(0)?,
                billing_npi: row.try_get_by_index(1)?,
                paid: Money::from_cents(row.try_get_by_index(2)?),
            });
        }
    }
    Ok(paid)
}

/// Adds `debt` to what `npi` owes the payer (to an existing debt of the same claim, if any).
pub async fn add_debt(store: &Store, tx: &impl ConnectionTrait, payer_id: &str, npi: &str, debt: &Debt) -> Result<(), StoreError> {
    lock_debts(store, tx, payer_id).await?;
    let mut debts = debts(store, tx, payer_id).await?.remove(npi).unwrap_or_default();
    match debts.iter_mut().find(|owed| owed.claim_id == debt.claim_id) {
        Some(owed) => {
            owed.amount = owed.amount.checked_add(debt.amount).ok_or_else(|| StoreError::Corrupt(format!("the debt of claim {} overflows", debt.claim_id)))?
        }
        None => debts.push(debt.clone()),
    }
    replace_debts(store, tx, payer_id, npi, &debts).await
}

/// The payer's active holds: NPI → reason (the first placed, when several).
pub async fn active_holds(store: &Store, tx: &impl ConnectionTrait, payer_id: &str) -> Result<BTreeMap<String, String>, StoreError> {
    let rows = tx
        .query_all_raw(stmt(
            store,
            format!("SELECT npi, reason FROM {} WHERE payer_id = $1 AND released_by IS NULL ORDER BY hold_id", store.table("holds")),
            vec![Value::from(payer_id.to_owned())],
        ))
        .await?;
    let mut holds = BTreeMap::new();
    for row in rows {
        let npi: String = row.try_get_by_index(0)?;
        let reason: String = row.try_get_by_index(1)?;
        holds.entry(npi).or_insert(reason);
    }
    Ok(holds)
}

/// Serializes the transactions that read a payer's debts and write them
/// back (a payment run, a refund check, a recoupment, a returned payment):
/// on Postgres, a transaction-scoped advisory lock on the payer (its key the
/// debts table's qualified name and the payer id, so that two schema
/// prefixes do not share it), held until the caller's transaction ends.
/// Without it two such transactions at READ COMMITTED each read the same
/// debts and the later `replace_debts` overwrote the earlier (a refund
/// lost, or a run's new debt). SQLite needs nothing: its one writer
/// connection serializes every write transaction. Take it before reading
/// the debts; a transaction may take it again (it is reentrant).
pub async fn lock_debts(store: &Store, tx: &impl ConnectionTrait, payer_id: &str) -> Result<(), StoreError> {
    if store.is_postgres() {
        let key = format!("{}/{payer_id}", store.table("debts"));
        tx.execute_raw(stmt(store, "SELECT pg_advisory_xact_lock(hashtext($1))", vec![Value::from(key)])).await?;
    }
    Ok(())
}

/// The payer's debts by NPI, oldest first.
pub async fn debts(store: &Store, tx: &impl ConnectionTrait, payer_id: &str) -> Result<BTreeMap<String, Vec<Debt>>, StoreError> {
    let rows = tx
        .query_all_raw(stmt(
            store,
            format!("SELECT npi, claim_id, amount_cents, since_run, basis FROM {} WHERE payer_id = $1 ORDER BY since_run, claim_id", store.table("debts")),
            vec![Value::from(payer_id.to_owned())],
        ))
        .await?;
    let mut debts: BTreeMap<String, Vec<Debt>> = BTreeMap::new();
    for row in rows {
        let npi: String = row.try_get_by_index(0)?;
        let basis: String = row.try_get_by_index(4)?;
        debts.entry(npi).or_default().push(Debt {
            claim_id: row.try_get_by_index(1)?,
            amount: Money::from_cents(row.try_get_by_index(2)?),
            since_run: row.try_get_by_index(3)?,
            basis: DebtBasis::parse(&basis).ok_or_else(|| corrupt(format!("debt basis `{basis}`")))?,
        });
    }
    Ok(debts)
}

/// Replaces `npi`'s debts with `debts`.
pub async fn replace_debts(store: &Store, tx: &impl ConnectionTrait, payer_id: &str, npi: &str, debts: &[Debt]) -> Result<(), StoreError> {
    tx.execute_raw(stmt(
        store,
        format!("DELETE FROM {} WHERE payer_id = $1 AND npi = $2", store.table("debts")),
        vec![Value::from(payer_id.to_owned()), Value::from(npi.to_owned())],
    ))
    .await?;
    for debt in debts {
        tx.execute_raw(stmt(
            store,
            format!("INSERT INTO {} (payer_id, npi, claim_id, amount_cents, since_run, basis) VALUES ($1, $2, $3, $4, $5, $6)", store.table("debts")),
            vec![
                Value::from(payer_id.to_owned()),
                Value::from(npi.to_owned()),
                Value::from(debt.claim_id),
                Value::from(cents(debt.amount)?),
                Value::from(debt.since_run),
                Value::from(debt.basis.as_str()),
            ],
        ))
        .await?;
    }
    Ok(())
}

/// A run as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRun {
    pub run_id: Uuid,
    pub payer_id: String,
    pub body_sha: String,
    pub run_date: Date,
    pub effective_date: Date,
    pub ach_file: Option<String>,
}

/// The run made with `idempotency_key` for `payer_id`, if any.
pub async fn run_by_key(store: &Store, conn: &impl ConnectionTrait, payer_id: &str, idempotency_key: &str) -> Result<Option<StoredRun>, StoreError> {
    let rows =
        runs_where(store, conn, "payer_id = $1 AND idempotency_key = $2", vec![Value::from(payer_id.to_owned()), Value::from(idempotency_key.to_owned())])
            .await?;
    Ok(rows.into_iter().next())
}

pub async fn run(store: &Store, conn: &impl ConnectionTrait, run_id: Uuid) -> Result<Option<StoredRun>, StoreError> {
    Ok(runs_where(store, conn, "run_id = $1", vec![Value::from(run_id)]).await?.into_iter().next())
}

/// The payer's runs, newest first.
pub async fn runs_of(store: &Store, conn: &impl ConnectionTrait, payer_id: &str) -> Result<Vec<StoredRun>, StoreError> {
    runs_where(store, conn, "payer_id = $1", vec![Value::from(payer_id.to_owned())]).await
}

async fn runs_where(store: &Store, conn: &impl ConnectionTrait, condition: &str, values: Vec<Value>) -> Result<Vec<StoredRun>, StoreError> {
    let rows = conn
        .query_all_raw(stmt(
            store,
            format!(
                "SELECT run_id, payer_id, body_sha, run_date, effective_date, ach_file FROM {} WHERE {condition} ORDER BY created_at DESC, run_id DESC",
                store.table("payment_runs")
            ),
            values,
        ))
        .await?;
    let mut runs = Vec::with_capacity(rows.len());
    for row in rows {
        let run_date: String = row.try_get_by_index(3)?;
        let effective_date: String = row.try_get_by_index(4)?;
        runs.push(StoredRun {
            run_id: row.try_get_by_index(0)?,
            payer_id: row.try_get_by_index(1)?,
            body_sha: row.try_get_by_index(2)?,
            run_date: date_of(&run_date)?,
            effective_date: date_of(&effective_date)?,
            ach_file: row.try_get_by_index(5)?,
        });
    }
    Ok(runs)
}

/// The payer's next free ACH entry sequence number.
pub async fn next_entry_sequence(store: &Store, conn: &impl ConnectionTrait, payer_id: &str) -> Result<u64, StoreError> {
    let row = conn
        .query_one_raw(stmt(
            store,
            format!("SELECT CAST(MAX(next_entry_sequence) AS BIGINT) FROM {} WHERE payer_id = $1", store.table("payment_runs")),
            vec![Value::from(payer_id.to_owned())],
        ))
        .await?;
    let max: Option<i64> = match row {
        Some(row) => row.try_get_by_index(0)?,
        None => None,
    };
    Ok(max.map_or(1, |max| u64::try_from(max).unwrap_or(1)))
}

/// Stores a run's header. Fails with a unique violation when the key was used concurrently.
pub async fn insert_run(store: &Store, tx: &impl ConnectionTrait, run: &StoredRun, idempotency_key: &str, next_entry_sequence: u64) -> Result<(), StoreError> {
    tx.execute_raw(stmt(
        store,
        format!(
            "INSERT INTO {} (run_id, payer_id, idempotency_key, body_sha, run_date, effective_date, next_entry_sequence, ach_file) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            store.table("payment_runs")
        ),
        vec![
            Value::from(run.run_id),
            Value::from(run.payer_id.clone()),
            Value::from(idempotency_key.to_owned()),
            Value::from(run.body_sha.clone()),
            Value::from(claimtrail_events::format_date(run.run_date)),
            Value::from(claimtrail_events::format_date(run.effective_date)),
            Value::from(i64::try_from(next_entry_sequence).map_err(corrupt)?),
            Value::from(run.ach_file.clone()),
        ],
    ))
    .await?;
    Ok(())
}

/// A remittance as stored: its event body, and its 835 and PaymentReconciliation once settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRemittance {
    pub issued: RemittanceIssued,
    pub x835: Option<String>,
    pub reconciliation: Option<String>,
}

pub async fn insert_remittance(store: &Store, tx: &impl ConnectionTrait, remittance: &StoredRemittance) -> Result<(), StoreError> {
    let issued = &remittance.issued;
    tx.execute_raw(stmt(
        store,
        format!(
            "INSERT INTO {} (remittance_id, run_id, payer_id, npi, status, amount_cents, body, x835, reconciliation) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            store.table("remittances")
        ),
        vec![
            Value::from(issued.remittance_id),
            Value::from(issued.run_id),
            Value::from(issued.payer_id.clone()),
            Value::from(issued.billing_npi.clone()),
            Value::from(issued.status.clone()),
            Value::from(cents(issued.amount)?),
            Value::from(serde_json::to_string(issued).map_err(corrupt)?),
            Value::from(remittance.x835.clone()),
            Value::from(remittance.reconciliation.clone()),
        ],
    ))
    .await?;
    Ok(())
}

fn remittance_of(row: &QueryResult) -> Result<StoredRemittance, StoreError> {
    let body: String = row.try_get_by_index(0)?;
    let issued: RemittanceIssued = serde_json::from_str(&body).map_err(corrupt)?;
    if RemittanceStatus::parse(&issued.status).is_none() {
        return Err(corrupt(format!("remittance status `{}`", issued.status)));
    }
    Ok(StoredRemittance { issued, x835: row.try_get_by_index(1)?, reconciliation: row.try_get_by_index(2)? })
}

pub async fn remittances_of_run(store: &Store, conn: &impl ConnectionTrait, run_id: Uuid) -> Result<Vec<StoredRemittance>, StoreError> {
    let rows = conn
        .query_all_raw(stmt(
            store,
            format!("SELECT body, x835, reconciliation FROM {} WHERE run_id = $1 ORDER BY npi", store.table("remittances")),
            vec![Value::from(run_id)],
        ))
        .await?;
    rows.iter().map(remittance_of).collect()
}

pub async fn remittance(store: &Store, conn: &impl ConnectionTrait, remittance_id: Uuid) -> Result<Option<StoredRemittance>, StoreError> {
    let row = conn
        .query_one_raw(stmt(
            store,
            format!("SELECT body, x835, reconciliation FROM {} WHERE remittance_id = $1", store.table("remittances")),
            vec![Value::from(remittance_id)],
        ))
        .await?;
    row.as_ref().map(remittance_of).transpose()
}

pub async fn insert_ach_batch(store: &Store, tx: &impl ConnectionTrait, run_id: Uuid, batch: &AchBatch) -> Result<(), StoreError> {
    tx.execute_raw(stmt(
        store,
        format!("INSERT INTO {} (run_id, batch_number, body) VALUES ($1, $2, $3)", store.table("ach_batches")),
        vec![Value::from(run_id), Value::from(i64::from(batch.batch_number)), Value::from(serde_json::to_string(batch).map_err(corrupt)?)],
    ))
    .await?;
    Ok(())
}

/// The ACH batches a run sent (what the bank side matches statement debits against).
pub async fn ach_batches(store: &Store, conn: &impl ConnectionTrait, run_id: Uuid) -> Result<Vec<AchBatch>, StoreError> {
    let rows = conn
        .query_all_raw(stmt(
            store,
            format!("SELECT body FROM {} WHERE run_id = $1 ORDER BY batch_number", store.table("ach_batches")),
            vec![Value::from(run_id)],
        ))
        .await?;
    let mut batches = Vec::with_capacity(rows.len());
    for row in rows {
        let body: String = row.try_get_by_index(0)?;
        batches.push(serde_json::from_str(&body).map_err(corrupt)?);
    }
    Ok(batches)
}

/// Stores what a returned ACH entry undoes ([`crate::domain::returned::reopen`]):
/// the remittance becomes `returned` (only if it is still `ach`: false
/// otherwise, and nothing is written), its claims are unpaid again, and the
/// debts it recovered are owed again (added to what is still owed for that claim).
pub async fn reopen_remittance(store: &Store, tx: &impl ConnectionTrait, reopening: &Reopening) -> Result<bool, StoreError> {
    let remittance = &reopening.remittance;
    let updated = tx
        .execute_raw(stmt(
            store,
            format!("UPDATE {} SET status = $2, body = $3 WHERE remittance_id = $1 AND status = 'ach'", store.table("remittances")),
            vec![
                Value::from(remittance.remittance_id),
                Value::from(remittance.status.clone()),
                Value::from(serde_json::to_string(remittance).map_err(corrupt)?),
            ],
        ))
        .await?;
    if updated.rows_affected() != 1 {
        return Ok(false);
    }
    // Unpaid again: queued for the next run.
    for (claim_id, kind) in &reopening.claims {
        tx.execute_raw(stmt(
            store,
            format!(
                "INSERT INTO {} (payer_id, billing_npi, claim_id, kind) SELECT payer_id, billing_npi, claim_id, kind FROM {} WHERE claim_id = $1 AND kind = $2 \
                 ON CONFLICT DO NOTHING",
                store.table("unpaid_payables"),
                store.table("payables")
            ),
            vec![Value::from(*claim_id), Value::from(kind.as_str())],
        ))
        .await?;
    }
    for debt in &reopening.debts_restored {
        let key = vec![Value::from(remittance.payer_id.clone()), Value::from(remittance.billing_npi.clone()), Value::from(debt.claim_id)];
        let owed = tx
            .query_one_raw(stmt(
                store,
                format!("SELECT amount_cents FROM {} WHERE payer_id = $1 AND npi = $2 AND claim_id = $3", store.table("debts")),
                key.clone(),
            ))
            .await?;
        let mut values = key;
        values.push(Value::from(cents(debt.amount)?));
        let sql = match owed {
            Some(_) => format!("UPDATE {} SET amount_cents = amount_cents + $4 WHERE payer_id = $1 AND npi = $2 AND claim_id = $3", store.table("debts")),
            None => {
                values.push(Value::from(debt.since_run));
                values.push(Value::from(debt.basis.as_str()));
                format!("INSERT INTO {} (payer_id, npi, claim_id, amount_cents, since_run, basis) VALUES ($1, $2, $3, $4, $5, $6)", store.table("debts"))
            }
        };
        tx.execute_raw(stmt(store, sql, values)).await?;
    }
    Ok(true)
}
