//! The outbox relay: claims unpublished rows, publishes them with
//! `Nats-Msg-Id` = event id, and marks them only after every publish was
//! acknowledged, in the transaction that claimed them. Each event goes with
//! its producer batch proof as stored in the outbox, so a republish after a
//! crash sends the identical batch, and with its partition token (read from
//! the envelope), which picks the subject's partition.
//!
//! Passes look above the highest `seq` this relay has published (its floor),
//! and a sweep from the start runs at least every [`RELAY_SWEEP_INTERVAL`]
//! (and first of all): a row whose transaction committed after rows above it
//! were published waits at most that long, and is never skipped. The floor
//! only spares the passes the index entries that marking leaves below it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use claimtrail_bus::{EnvelopeRouting, OutgoingEvent};
use claimtrail_store::outbox;
use sea_orm::TransactionTrait;
use tokio::sync::watch;

use crate::{Runtime, killpoint};

/// Rows published per transaction.
pub const RELAY_BATCH_MAX: u64 = 500;
/// How often the relay looks without being woken (rows committed by another process).
pub const RELAY_POLL_INTERVAL: Duration = Duration::from_millis(200);
/// The longest time between two passes over every unpublished row, which
/// find rows that committed below the floor; the backlog gauge is counted as often.
pub const RELAY_SWEEP_INTERVAL: Duration = Duration::from_secs(1);

/// Failed passes in a row after which the relay makes its service not ready
/// (a lost bus quorum, a paused server): one failure is a blip, three with
/// their backoff are a few hundred milliseconds of nothing leaving the outbox.
pub const RELAY_NOT_READY_AFTER: u32 = 3;

/// How long one publish may wait for the bus's acknowledgements before the
/// relay makes its service not ready (a paused or overloaded server, which
/// keeps its connections open): a publish on loopback takes milliseconds.
pub const RELAY_STALLED_AFTER: Duration = Duration::from_secs(2);

pub(crate) struct Relay {
    runtime: Runtime,
    /// Why the relay cannot publish, for /readyz; None while it can.
    fault: Arc<Mutex<Option<String>>>,
    /// When the publish now waiting for its acknowledgements started; None between publishes.
    publishing_since: Arc<Mutex<Option<Instant>>>,
    /// The highest `seq` this relay published; None until it publishes.
    floor: Option<i64>,
    last_sweep: Option<Instant>,
}

impl Relay {
    pub(crate) fn new(runtime: Runtime) -> Relay {
        Relay { runtime, fault: Arc::new(Mutex::new(None)), publishing_since: Arc::new(Mutex::new(None)), floor: None, last_sweep: None }
    }

    /// Not ready after [`RELAY_NOT_READY_AFTER`] failed passes in a row, with
    /// the last error, or while a publish has waited longer than
    /// [`RELAY_STALLED_AFTER`] for its acknowledgements.
    pub(crate) fn health(&self) -> crate::http::Readiness {
        let fault = self.fault.clone();
        let publishing_since = self.publishing_since.clone();
        Arc::new(move || {
            let since = publishing_since.lock().map(|since| *since).map_err(|_| "relay state poisoned".to_owned())?;
            if let Some(reason) = stalled(since, Instant::now()) {
                return Err(reason);
            }
            match fault.lock().map(|f| f.clone()) {
                Ok(None) => Ok(()),
                Ok(Some(reason)) => Err(reason),
                Err(_) => Err("relay state poisoned".into()),
            }
        })
    }

    fn set_publishing_since(&self, since: Option<Instant>) {
        if let Ok(mut publishing_since) = self.publishing_since.lock() {
            *publishing_since = since;
        }
    }

    fn set_fault(&self, reason: Option<String>) {
        if let Ok(mut fault) = self.fault.lock() {
            *fault = reason;
        }
    }

    pub(crate) async fn run(mut self, mut stop: watch::Receiver<bool>) -> anyhow::Result<()> {
        let mut failures: u32 = 0;
        let wakeup = self.runtime.relay_wakeup.clone();
        loop {
            // Registered before the pass, so that a commit notifying while
            // the pass runs wakes the next one at once instead of after
            // RELAY_POLL_INTERVAL (notify_waiters keeps no permit).
            let woken = wakeup.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            match self.drain().await {
                Ok(_) => {
                    failures = 0;
                    self.set_fault(None);
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    if failures >= RELAY_NOT_READY_AFTER {
                        self.set_fault(Some(format!("outbox relay cannot publish ({failures} passes failed): {e:#}")));
                    }
                    tracing::warn!(error.message = %e, failures, "relay pass failed; rows stay unpublished and are retried");
                    let backoff = Duration::from_millis(100 * u64::from(failures.min(50)));
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        _ = stop.changed() => {}
                    }
                }
            }
            if *stop.borrow() {
                // One last sweep so that committed work leaves before exit.
                self.last_sweep = None;
                let _ = self.drain().await;
                return Ok(());
            }
            tokio::select! {
                () = woken => {}
                () = tokio::time::sleep(RELAY_POLL_INTERVAL) => {}
                _ = stop.changed() => {}
            }
        }
    }

    /// Publishes until no row is left to claim (above the floor, or anywhere
    /// on a sweep); returns the number of rows published.
    async fn drain(&mut self) -> anyhow::Result<u64> {
        let store = &self.runtime.store;
        let sweep = self.last_sweep.is_none_or(|at| at.elapsed() >= RELAY_SWEEP_INTERVAL);
        if sweep {
            self.last_sweep = Some(Instant::now());
            if let Ok(backlog) = outbox::backlog(store).await {
                metrics::gauge!("claimtrail_outbox_backlog", "service" => self.runtime.producer.service.clone()).set(backlog as f64);
            }
        }
        let mut published = 0;
        // A sweep's first claim starts from the lowest unpublished row; its later ones go on above what it published.
        let mut after = if sweep { None } else { self.floor };
        loop {
            let tx = store.db().begin().await?;
            let pending = outbox::claim_unpublished(store, &tx, RELAY_BATCH_MAX, after).await?;
            if pending.is_empty() {
                tx.commit().await?;
                return Ok(published);
            }
            let events: Vec<OutgoingEvent> = pending
                .iter()
                .map(|row| {
                    let routing = EnvelopeRouting::of(&row.body);
                    OutgoingEvent {
                        event_id: row.event_id,
                        event_type: row.event_type.clone(),
                        bytes: Bytes::from(row.body.clone()),
                        traceparent: routing.traceparent,
                        batch: row.batch.clone(),
                        partition: routing.partition,
                    }
                })
                .collect();
            let publishing = Instant::now();
            self.set_publishing_since(Some(publishing));
            let acknowledged = self.runtime.bus.publish(&events).await;
            self.set_publishing_since(None);
            acknowledged?;
            killpoint::reach("after_publish_before_mark");
            let seqs: Vec<i64> = pending.iter().map(|row| row.seq).collect();
            outbox::mark_published(store, &tx, &seqs).await?;
            tx.commit().await?;
            tracing::debug!(n_events = seqs.len(), publish_ms = publishing.elapsed().as_secs_f64() * 1e3, sweep, "relay published");
            let highest = seqs.iter().copied().max();
            self.floor = self.floor.max(highest);
            after = highest.max(after);
            published += seqs.len() as u64;
            metrics::counter!("claimtrail_events_published_total", "service" => self.runtime.producer.service.clone()).increment(seqs.len() as u64);
        }
    }
}

/// Why the relay is stalled, when a publish started at `since` has waited
/// [`RELAY_STALLED_AFTER`] or more by `now`.
fn stalled(since: Option<Instant>, now: Instant) -> Option<String> {
    let waited = now.saturating_duration_since(since?);
    (waited >= RELAY_STALLED_AFTER).then(|| format!("outbox relay waiting {} s for the bus to acknowledge a publish", waited.as_secs()))
}

#[cfg(test)]
mod tests {
    use claimtrail_events::{NewEvent, PayerRegistered};
    use sea_orm::ConnectionTrait as _;

    use super::*;
    use crate::ServeSettings;

    fn payer(n: u32) -> NewEvent {
        NewEvent::new(PayerRegistered { payer_id: n.to_string(), name: format!("Plan {n}"), timely_filing_days: 90 }, format!("payer:{n}"))
    }

    #[test]
    fn a_publish_waiting_on_the_bus_past_the_limit_is_a_stall_that_says_so_and_a_quick_one_is_not() {
        let now = Instant::now() + Duration::from_secs(60);
        assert_eq!(stalled(None, now), None);
        assert_eq!(stalled(Some(now - Duration::from_millis(300)), now), None);
        let reason = stalled(Some(now - Duration::from_secs(7)), now).expect("stalled");
        assert_eq!(reason, "outbox relay waiting 7 s for the bus to acknowledge a publish");
        assert!(stalled(Some(now - RELAY_STALLED_AFTER), now).is_some());
    }

    /// A row whose transaction commits after a row above it was published
    /// lies below the relay's floor: quick passes do not see it, the next
    /// sweep publishes it.
    #[tokio::test]
    async fn a_row_committed_below_the_floor_is_published_by_the_next_sweep() -> anyhow::Result<()> {
        let database_url = std::env::var("CLAIMTRAIL_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let nats_url = std::env::var("CLAIMTRAIL_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned());
        let prefix = format!("rl{}", &uuid::Uuid::now_v7().simple().to_string()[20..]);
        let keys = tempfile::tempdir()?;
        let mut settings = ServeSettings::with_urls(&database_url, &nats_url, &prefix);
        settings.key_dir = keys.path().to_owned();
        let runtime = Runtime::connect(&settings, "intake", &[]).await?;
        let store = &runtime.store;
        let backlog = || outbox::backlog(store);

        // The late row takes its seq first and commits last.
        let late = store.db().begin().await?;
        outbox::append(store, &late, &runtime.producer, vec![payer(1)]).await?;
        let early = store.db().begin().await?;
        outbox::append(store, &early, &runtime.producer, vec![payer(2)]).await?;
        early.commit().await?;

        let mut relay = Relay::new(runtime.clone());
        assert_eq!(relay.drain().await?, 1, "the first pass is a sweep and publishes the committed row");
        late.commit().await?;
        assert_eq!(backlog().await?, 1);
        assert_eq!(relay.drain().await?, 0, "a quick pass looks above the floor only");
        assert_eq!(backlog().await?, 1);
        tokio::time::sleep(RELAY_SWEEP_INTERVAL).await;
        assert_eq!(relay.drain().await?, 1, "the sweep finds the row below the floor");
        assert_eq!(backlog().await?, 0);

        store.db().execute_unprepared(&format!("DROP SCHEMA IF EXISTS \"{prefix}_intake\" CASCADE")).await?;
        store.db().execute_unprepared(&format!("DROP SCHEMA IF EXISTS \"{prefix}_{}\" CASCADE", claimtrail_store::registry::COMPONENT)).await?;
        claimtrail_bus::jetstream::delete_streams(&nats_url, &claimtrail_bus::Naming::new(&prefix)).await?;
        Ok(())
    }
}
