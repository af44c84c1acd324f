//! The payment run use case: load the facts, plan the run
//! ([`domain::payment_run::plan_run`]), and persist it in one transaction:
//! the run, each remittance with its 835 and PaymentReconciliation, the
//! payables it settles taken off the queue of unpaid payables (those it does
//! not settle put back), the debts, the prenotes, the ACH batch and file, the
//! journal entries and the events (`remittance.issued.v1` per remittance,
//! `payment_run.completed.v1` as the header).
//!
//! Exactly once: the run commits whole or not at all, so a crash between
//! remittances (the kill point `settlement_run_between_remittances`) leaves
//! nothing, and the retry (same Idempotency-Key) makes the run afresh. Runs
//! of a payer take its queue one at a time ([`payments::lock_debts`]); a run
//! that finds a payable it read already taken rolls back
//! ([`RunFailure::Conflict`]). The same
//! key with the same body answers the run it made; with another body, 422.

use claimtrail_events::{NewEvent, PaymentRunCompleted, RemittanceIssued, RemittedAdjustment, RemittedClaim, Timestamp};
use claimtrail_store::outbox::{self, ProducerIdentity};
use claimtrail_store::{Store, StoreError};
use time::Date;
use uuid::Uuid;

use crate::domain;
use crate::domain::ach::{self, FileHeader};
use crate::domain::advice::{self, Written};
use crate::domain::payment_run::{EVENT_PART_BYTES_MAX, PaymentRun, PromptPay, RemittanceStatus, RunError, RunFacts, event_parts, plan_run};
use crate::storage as journal_storage;
use crate::storage::payments::{self, StoredRemittance, StoredRun};

/// What a run is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRequest {
    pub payer_id: String,
    pub idempotency_key: String,
    /// SHA-256 (hex) of the request body, to tell a replay from a reused key.
    pub body_sha: String,
    /// Today, from the clock (injected: `claimtrail_events::today()` honours the clock offset).
    pub run_date: Date,
    pub now: Timestamp,
}

/// Why a run was not made.
#[derive(Debug, thiserror::Error)]
pub enum RunFailure {
    #[error("payer {0} has no banking details; PUT /v1/payers/{0}/banking first")]
    NoBanking(String),
    #[error("Idempotency-Key `{0}` was used before with another body; use a new key for a new request")]
    KeyReused(String),
    #[error("another payment run of this payer took some of the same claims at the same time; retry")]
    Conflict,
    #[error(transparent)]
    Plan(#[from] RunError),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sea_orm::DbErr> for RunFailure {
    fn from(error: sea_orm::DbErr) -> RunFailure {
        RunFailure::Store(StoreError::Db(error))
    }
}

/// Makes the run (or finds the one this key made): its id, and whether it is new.
pub async fn execute(store: &Store, producer: &ProducerIdentity, request: &RunRequest) -> Result<(Uuid, bool), RunFailure> {
    if let Some(existing) = payments::run_by_key(store, store.db(), &request.payer_id, &request.idempotency_key).await? {
        return if existing.body_sha == request.body_sha { Ok((existing.run_id, false)) } else { Err(RunFailure::KeyReused(request.idempotency_key.clone())) };
    }
    let mut phases = Phases::start();
    let tx = store.begin().await?;
    // A refund check (or another run) of this payer at the same moment waits for this run, and this run for it.
    payments::lock_debts(store, &tx, &request.payer_id).await?;
    let payer = payments::payer_banking(store, &tx, &request.payer_id).await?.ok_or_else(|| RunFailure::NoBanking(request.payer_id.clone()))?;
    // Off the queue of unpaid payables; what this run does not settle goes back on it below.
    let taken = payments::take_unpaid_payables(store, &tx, &request.payer_id).await?.ok_or(RunFailure::Conflict)?;
    let mut unpaid_after = taken.booked_meanwhile;
    let facts = RunFacts {
        run_id: Uuid::now_v7(),
        payer: payer.clone(),
        run_date: request.run_date,
        prompt_pay: PromptPay::DEFAULT,
        payables: taken.payables,
        payees: payments::payees(store, &tx).await?,
        debts: payments::debts(store, &tx, &request.payer_id).await?,
        holds: payments::active_holds(store, &tx, &request.payer_id).await?,
        refunds: payments::unacknowledged_refunds(store, &tx, &request.payer_id).await?,
        first_entry_sequence: payments::next_entry_sequence(store, &tx, &request.payer_id).await?,
    };
    phases.end("read");
    let run = plan_run(&facts, Uuid::now_v7)?;
    phases.end("plan");
    let created = request.now.to_string();
    let (date, time) = (request.now.datetime().date(), request.now.datetime().time());
    let mut events = Vec::with_capacity(run.remittances.len() + 1);
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get).min(TEXT_THREADS_MAX);
    let mut texts = Vec::new().into_iter();
    for (remittance_idx, remittance) in run.remittances.iter().enumerate() {
        if remittance_idx > 0 {
            claimtrail_runtime::killpoint::reach("settlement_run_between_remittances");
        }
        if remittance_idx % TEXT_WINDOW == 0 {
            let window = remittance_idx..(remittance_idx + TEXT_WINDOW).min(run.remittances.len());
            texts = remittance_texts(&run, &facts, window, threads, Written { date, time, control_number: 0 }, &created)?.into_iter();
        }
        let text = texts.next().ok_or_else(|| RunFailure::Invalid("a remittance without its texts".into()))?;
        let (x835, reconciliation) = if let Some((x835, reconciliation)) = text {
            if facts.debts.contains_key(&remittance.npi) || !remittance.debts_after.is_empty() {
                payments::replace_debts(store, &tx, &run.payer_id, &remittance.npi, &remittance.debts_after).await?;
            }
            payments::mark_acknowledged(store, &tx, remittance.remittance_id, &remittance.acknowledged).await?;
            let entry = domain::payment_entry(Uuid::now_v7(), &run.payer_id, remittance).map_err(|e| RunFailure::Invalid(e.to_string()))?;
            journal_storage::insert_entry(store, &tx, &entry).await?;
            (Some(x835), Some(reconciliation))
        } else {
            // Held or awaiting a prenote: its payables stay unpaid.
            unpaid_after.extend(remittance.payables.iter().map(|payable| (run.payer_id.clone(), remittance.npi.clone(), payable.claim_id, payable.kind)));
            (None, None)
        };
        let issued = issued(&run, remittance_idx);
        payments::insert_remittance(store, &tx, &StoredRemittance { issued: issued.clone(), x835, reconciliation }).await?;
        let aggregate = issued.remittance_id.to_string();
        // Stored whole; published in parts when it would near NATS's 1 MB.
        for part in event_parts(issued, EVENT_PART_BYTES_MAX) {
            events.push(NewEvent::new(part, aggregate.clone()));
        }
    }
    phases.end("remittances");
    payments::requeue(store, &tx, &unpaid_after).await?;
    phases.end("requeue");
    for prenote in &run.prenotes {
        payments::record_prenote(store, &tx, &prenote.npi, run.effective_date).await?;
    }
    let ach_file = if run.remittances.iter().any(|r| r.status == RemittanceStatus::Ach) || !run.prenotes.is_empty() {
        let batch = ach::batch_of(&run, &payer, |npi| facts.payees.get(npi).and_then(|payee| payee.bank_account.clone()))
            .map_err(|e| RunFailure::Invalid(e.to_string()))?;
        payments::insert_ach_batch(store, &tx, run.run_id, &batch).await?;
        // What reconciliation will look for on the payer's bank statement.
        crate::storage::bank::insert_expected_debit(store, &tx, &run.payer_id, &crate::domain::bank::ExpectedDebit::of_batch(run.run_id, &batch)).await?;
        Some(ach::write_file(&payer, &FileHeader { created_on: date, created_at: time, file_id_modifier: 'A' }, std::slice::from_ref(&batch)))
    } else {
        None
    };
    let stored = StoredRun {
        run_id: run.run_id,
        payer_id: run.payer_id.clone(),
        body_sha: request.body_sha.clone(),
        run_date: run.run_date,
        effective_date: run.effective_date,
        ach_file,
    };
    if let Err(error) = payments::insert_run(store, &tx, &stored, &request.idempotency_key, run.next_entry_sequence).await {
        return Err(if is_unique_violation(&error) { RunFailure::Conflict } else { error.into() });
    }
    let total_paid = claimtrail_events::Money::checked_sum(run.remittances.iter().filter(|r| r.status == RemittanceStatus::Ach).map(|r| &r.amount))
        .ok_or_else(|| RunFailure::Invalid("the run's total overflows".into()))?;
    events.push(NewEvent::new(
        PaymentRunCompleted {
            run_id: run.run_id,
            payer_id: run.payer_id.clone(),
            run_date: run.run_date,
            effective_date: run.effective_date,
            n_remittances: run.remittances.len() as u64,
            total_paid,
            n_prenotes: run.prenotes.len() as u64,
        },
        run.run_id.to_string(),
    ));
    phases.end("ach_and_run");
    outbox::append(store, &tx, producer, events).await?;
    phases.end("outbox");
    tx.commit().await?;
    phases.end("commit");
    tracing::info!(run_id = %run.run_id, payer_id = %run.payer_id, n_payables = facts.payables.len(), n_remittances = run.remittances.len(),
        phases = %phases, "payment run made");
    Ok((run.run_id, true))
}

/// A scheduled run made (or found made) by [`run_due`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledRun {
    pub payer_id: String,
    /// The slot's Idempotency-Key ([`domain::schedule::slot_key`]).
    pub key: String,
    pub run_id: Uuid,
    /// False when an earlier tick (or another replica) made it.
    pub created: bool,
}

/// Makes the run of every payer whose payment cycle has a slot due at
/// `now` (UTC, from the clock: `claimtrail_events::Timestamp::now`), once
/// per slot: the slot's Idempotency-Key finds the run an earlier tick, a
/// restart or another replica made. A payer's failure (no banking, a
/// conflict) is logged and left for the next tick; the others go on.
pub async fn run_due(store: &Store, producer: &ProducerIdentity, now: time::PrimitiveDateTime) -> Result<Vec<ScheduledRun>, StoreError> {
    let mut made = Vec::new();
    for stored in crate::storage::schedules::all(store, store.db()).await? {
        let Some(slot) = stored.schedule.due(now) else { continue };
        let key = domain::schedule::slot_key(slot);
        let request = RunRequest {
            payer_id: stored.payer_id.clone(),
            idempotency_key: key.clone(),
            body_sha: hex::encode(claimtrail_events::sha3_256(key.as_bytes())),
            run_date: now.date(),
            now: Timestamp::from_datetime(now.assume_utc()),
        };
        match execute(store, producer, &request).await {
            Ok((run_id, created)) => {
                if created {
                    tracing::info!(payer_id = %stored.payer_id, %key, %run_id, "scheduled payment run made");
                }
                made.push(ScheduledRun { payer_id: stored.payer_id, key, run_id, created });
            }
            Err(error) => tracing::warn!(payer_id = %stored.payer_id, %key, %error, "the scheduled payment run was not made; the next tick tries again"),
        }
    }
    Ok(made)
}

/// Where a run's time went, phase by phase: logged with each run, so that
/// finance's operators (and the payment-run benchmark) see which part of a
/// slow run was slow.
struct Phases {
    last: std::time::Instant,
    ended: Vec<(&'static str, std::time::Duration)>,
}

impl Phases {
    fn start() -> Phases {
        Phases { last: std::time::Instant::now(), ended: Vec::new() }
    }

    /// Ends the phase running since the previous end (or the start).
    fn end(&mut self, phase: &'static str) {
        let now = std::time::Instant::now();
        self.ended.push((phase, now - self.last));
        self.last = now;
    }
}

/// `read=8.80s plan=1.10s ... total=29.75s`.
impl std::fmt::Display for Phases {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (phase, took) in &self.ended {
            write!(f, "{phase}={:.2}s ", took.as_secs_f64())?;
        }
        write!(f, "total={:.2}s", self.ended.iter().map(|(_, took)| took.as_secs_f64()).sum::<f64>())
    }
}

/// How many remittances' texts are written at a time (on up to [`TEXT_THREADS_MAX`] threads) before the store writes them.
const TEXT_WINDOW: usize = 32;
/// The most threads that write a run's 835s and PaymentReconciliations.
const TEXT_THREADS_MAX: usize = 4;

/// The 835 and PaymentReconciliation of each remittance of `window` (none
/// for one that does not settle), in order: pure text, about a third of a
/// large run's time, so written on up to `threads` threads (each takes every
/// `threads`-th remittance of the window).
fn remittance_texts(
    run: &PaymentRun,
    facts: &RunFacts,
    window: std::ops::Range<usize>,
    threads: usize,
    written: Written,
    created: &str,
) -> Result<Vec<Option<(String, String)>>, RunFailure> {
    let text_of = |remittance_idx: usize| -> Result<Option<(String, String)>, RunFailure> {
        let remittance = &run.remittances[remittance_idx];
        if !remittance.status.settles() {
            return Ok(None);
        }
        let payee = facts.payees.get(&remittance.npi).ok_or_else(|| RunFailure::Invalid(format!("no payee for NPI {}", remittance.npi)))?;
        let control_number = u32::try_from((run.next_entry_sequence + remittance_idx as u64) % 1_000_000_000).unwrap_or(1);
        let x835 = advice::remittance_835(run, remittance, &facts.payer, payee, Written { control_number, ..written })
            .map_err(|e| RunFailure::Invalid(format!("the 835 of NPI {} does not balance: {e}", remittance.npi)))?;
        Ok(Some((x835, advice::reconciliation_json(run, remittance, &facts.payer, created))))
    };
    let n = window.len();
    if threads <= 1 || n <= 1 {
        return window.map(text_of).collect();
    }
    let start = window.start;
    let mut texts: Vec<Option<(String, String)>> = (0..n).map(|_| None).collect();
    std::thread::scope(|scope| -> Result<(), RunFailure> {
        let text_of = &text_of;
        let handles: Vec<_> = (0..threads.min(n))
            .map(|first| {
                scope.spawn(move || (first..n).step_by(threads).map(|offset| text_of(start + offset).map(|text| (offset, text))).collect::<Result<Vec<_>, _>>())
            })
            .collect();
        for handle in handles {
            let written = handle.join().map_err(|_| RunFailure::Invalid("writing a remittance's 835 panicked".into()))??;
            for (offset, text) in written {
                texts[offset] = text;
            }
        }
        Ok(())
    })?;
    Ok(texts)
}

/// A provider's refund check, as finance records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    pub payer_id: String,
    pub npi: String,
    pub check_number: String,
    pub amount: claimtrail_events::Money,
    /// Today, from the clock.
    pub received_on: Date,
    pub recorded_by: String,
}

/// Why a refund was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum RefundFailure {
    #[error(transparent)]
    Refused(#[from] domain::payment_run::RefundError),
    #[error("check {check_number} from NPI {npi} was recorded before")]
    Recorded { npi: String, check_number: String },
    #[error(transparent)]
    Journal(#[from] domain::Rejection),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sea_orm::DbErr> for RefundFailure {
    fn from(error: sea_orm::DbErr) -> RefundFailure {
        RefundFailure::Store(StoreError::Db(error))
    }
}

/// Records a provider's refund check in one transaction: it pays what the
/// provider owes, oldest first ([`domain::payment_run::apply_refund`]), the
/// journal books the cash received against the recoupment receivable, and
/// the parts wait for the provider's next settled 835 to acknowledge them
/// (PLB 72 offset by WO or FB). Its id, and the parts.
pub async fn record_refund(store: &Store, request: &RefundRequest) -> Result<(Uuid, Vec<domain::payment_run::RefundPart>), RefundFailure> {
    let tx = store.begin().await?;
    // A payment run of this payer at the same moment reads and rewrites these debts too: one waits for the other.
    payments::lock_debts(store, &tx, &request.payer_id).await?;
    let owes = payments::debts(store, &tx, &request.payer_id).await?.remove(&request.npi).unwrap_or_default();
    let refund_id = Uuid::now_v7();
    let (left, parts) = domain::payment_run::apply_refund(refund_id, &request.npi, &owes, request.amount)?;
    let refund = payments::StoredRefund {
        refund_id,
        payer_id: request.payer_id.clone(),
        npi: request.npi.clone(),
        check_number: request.check_number.clone(),
        amount: request.amount,
        received_on: request.received_on,
        recorded_by: request.recorded_by.clone(),
    };
    if !payments::insert_refund(store, &tx, &refund, &parts).await? {
        return Err(RefundFailure::Recorded { npi: request.npi.clone(), check_number: request.check_number.clone() });
    }
    payments::replace_debts(store, &tx, &request.payer_id, &request.npi, &left).await?;
    let entry = domain::refund_entry(Uuid::now_v7(), refund_id, &request.payer_id, &request.npi, request.amount, &request.check_number)?;
    journal_storage::insert_entry(store, &tx, &entry).await?;
    tx.commit().await?;
    Ok((refund_id, parts))
}

fn is_unique_violation(error: &StoreError) -> bool {
    let text = error.to_string();
    text.contains("23505") || text.contains("UNIQUE constraint failed") || text.contains("duplicate key")
}

/// The event of the run's `idx`-th remittance.
pub fn issued(run: &PaymentRun, idx: usize) -> RemittanceIssued {
    let remittance = &run.remittances[idx];
    let settles = remittance.status.settles();
    RemittanceIssued {
        remittance_id: remittance.remittance_id,
        run_id: run.run_id,
        payer_id: run.payer_id.clone(),
        billing_npi: remittance.npi.clone(),
        status: remittance.status.as_str().to_owned(),
        amount: remittance.amount,
        trace_number: remittance.trace_number.clone(),
        effective_date: run.effective_date,
        hold_reason: remittance.hold_reason.clone(),
        claims: if settles {
            remittance.payables.iter().map(|p| RemittedClaim { claim_id: p.claim_id, kind: p.kind.as_str().to_owned(), paid: p.total_paid }).collect()
        } else {
            vec![]
        },
        provider_adjustments: if settles {
            remittance
                .provider_adjustments
                .iter()
                .map(|a| RemittedAdjustment { reason: a.reason.code().to_owned(), claim_id: a.claim_id, amount: a.amount })
                .collect()
        } else {
            vec![]
        },
        part: None,
        parts: None,
    }
}

/// Reopens the remittance whose ACH entry the bank returned (`amount`, for
/// `reason`), in the caller's transaction (the statement's import): the
/// remittance becomes `returned`, its claims unpaid (the next run pays them
/// again), the debts it recovered owed again, and the journal books the
/// mirror of its payment ([`domain::returned::reopen`]). An account-fault
/// return ([`domain::account::account_fault`]: R02, R03, R04, R20, ...) also
/// holds the provider's account, so that the next runs hold its payments
/// until new banking is registered (and prenoted). `None` when no
/// remittance of this service has that id (an expected debit recorded
/// without a run, as reconciliation's own tests seed them).
pub async fn reopen_returned(
    store: &Store,
    tx: &impl sea_orm::ConnectionTrait,
    remittance_id: Uuid,
    amount: claimtrail_events::Money,
    reason: &str,
    trace_number: &str,
) -> Result<Option<domain::returned::Reopening>, RunFailure> {
    let Some(stored) = payments::remittance(store, tx, remittance_id).await? else {
        tracing::warn!(%remittance_id, "a returned entry names no remittance of this service; nothing to reopen");
        return Ok(None);
    };
    let reopening = domain::returned::reopen(Uuid::now_v7(), &stored.issued, amount, reason).map_err(|e| RunFailure::Invalid(e.to_string()))?;
    // The debts it restores are added to the payer's: not while a run or a refund rewrites them.
    payments::lock_debts(store, tx, &stored.issued.payer_id).await?;
    if !payments::reopen_remittance(store, tx, &reopening).await? {
        return Err(RunFailure::Conflict);
    }
    journal_storage::insert_entry(store, tx, &reopening.entry).await?;
    if let Some(meaning) = domain::account::account_fault(reason) {
        let npi = &stored.issued.billing_npi;
        payments::hold_account(store, tx, npi, &domain::account::hold_reason(reason, meaning, trace_number)).await?;
        tracing::info!(%npi, %reason, "an account-fault return holds the provider's payments until new banking is registered");
    }
    Ok(Some(reopening))
}

/// Applies a notification of change to the account of the provider its
/// entry paid ([`domain::account::apply_change`]), in the caller's
/// transaction. Nothing changes for a code that does not correct the
/// account, without corrected data (a statement line that only names the
/// C-code: BAI2 text, camt.053 `Rsn`), or when the remittance or payee is
/// unknown to this service.
pub async fn apply_change(store: &Store, tx: &impl sea_orm::ConnectionTrait, remittance_id: Uuid, code: &str, corrected: &str) -> Result<(), RunFailure> {
    if corrected.trim().is_empty() {
        return Ok(());
    }
    let Some(stored) = payments::remittance(store, tx, remittance_id).await? else {
        return Ok(());
    };
    let npi = &stored.issued.billing_npi;
    let Some(account) = payments::payees(store, tx).await?.remove(npi).and_then(|payee| payee.bank_account) else {
        return Ok(());
    };
    if let Some(corrected) = domain::account::apply_change(&account, code, corrected).map_err(|e| RunFailure::Invalid(e.to_string()))? {
        payments::correct_account(store, tx, npi, &corrected).await?;
        tracing::info!(%npi, %code, "a notification of change corrected the provider's account");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::Phases;

    #[test]
    fn a_runs_phases_print_each_phase_in_order_and_the_total() {
        let phases = Phases { last: Instant::now(), ended: vec![("read", Duration::from_millis(8_800)), ("commit", Duration::from_millis(1_250))] };
        assert_eq!(phases.to_string(), "read=8.80s commit=1.25s total=10.05s");
    }
}
