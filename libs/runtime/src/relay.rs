//! The outbox relay: claims unpublished rows, publishes them with
//! `Nats-Msg-Id` = event id, and marks them only after every publish was
//! acknowledged, in the transaction that claimed them. Each event goes with
//! its producer batch proof as stored in the outbox, so a republish after a
//! crash sends the identical batch.

use std::time::Duration;

use bytes::Bytes;
use claimtrail_bus::OutgoingEvent;
use claimtrail_store::outbox;
use sea_orm::TransactionTrait;
use tokio::sync::watch;

use crate::{Runtime, killpoint};

/// Rows published per transaction.
pub const RELAY_BATCH_MAX: u64 = 500;
/// How often the relay looks without being woken (rows committed by another process).
pub const RELAY_POLL_INTERVAL: Duration = Duration::from_millis(200);

pub(crate) struct Relay {
    runtime: Runtime,
}

impl Relay {
    pub(crate) fn new(runtime: Runtime) -> Relay {
        Relay { runtime }
    }

    pub(crate) async fn run(self, mut stop: watch::Receiver<bool>) -> anyhow::Result<()> {
        let mut failures: u32 = 0;
        loop {
            match self.drain().await {
                Ok(_) => failures = 0,
                Err(e) => {
                    failures = failures.saturating_add(1);
                    tracing::warn!(error.message = %e, failures, "relay pass failed; rows stay unpublished and are retried");
                    let backoff = Duration::from_millis(100 * u64::from(failures.min(50)));
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        _ = stop.changed() => {}
                    }
                }
            }
            if *stop.borrow() {
                // One last pass so that committed work leaves before exit.
                let _ = self.drain().await;
                return Ok(());
            }
            tokio::select! {
                () = self.runtime.relay_wakeup.notified() => {}
                () = tokio::time::sleep(RELAY_POLL_INTERVAL) => {}
                _ = stop.changed() => {}
            }
            if let Ok(backlog) = outbox::backlog(&self.runtime.store).await {
                metrics::gauge!("claimtrail_outbox_backlog", "service" => self.runtime.producer.service.clone()).set(backlog as f64);
            }
        }
    }

    /// Publishes until the outbox is empty; returns the number of rows published.
    async fn drain(&self) -> anyhow::Result<u64> {
        let store = &self.runtime.store;
        let mut published = 0;
        loop {
            let tx = store.db().begin().await?;
            let pending = outbox::claim_unpublished(store, &tx, RELAY_BATCH_MAX).await?;
            if pending.is_empty() {
                tx.commit().await?;
                return Ok(published);
            }
            let events: Vec<OutgoingEvent> = pending
                .iter()
                .map(|row| OutgoingEvent {
                    event_id: row.event_id,
                    event_type: row.event_type.clone(),
                    bytes: Bytes::from(row.body.clone()),
                    traceparent: traceparent_of(&row.body),
                    batch: row.batch.clone(),
                })
                .collect();
            self.runtime.bus.publish(&events).await?;
            killpoint::reach("after_publish_before_mark");
            let seqs: Vec<i64> = pending.iter().map(|row| row.seq).collect();
            outbox::mark_published(store, &tx, &seqs).await?;
            tx.commit().await?;
            published += seqs.len() as u64;
            metrics::counter!("claimtrail_events_published_total", "service" => self.runtime.producer.service.clone()).increment(seqs.len() as u64);
        }
    }
}

/// The envelope's W3C trace context, sent as the `traceparent` header.
fn traceparent_of(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Trace {
        traceparent: Option<String>,
    }
    serde_json::from_slice::<Trace>(body).ok().and_then(|trace| trace.traceparent)
}
