//! The consumer loop: exactly-once effect on at-least-once delivery.
//!
//! A batch of messages is handled in one transaction: for each event the id
//! goes into the inbox (a redelivered event finds it there and has no
//! effect), the handler's state change and outgoing events are written, the
//! transaction commits, and only then are the messages acknowledged. If the
//! batch fails, every message is retried alone so that one poison message
//! cannot roll back its neighbours; after `deliveries_max` deliveries the
//! service publishes it to its dead-letter subject and terminates it.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use claimtrail_bus::{ConsumerSpec, Delivery};
use claimtrail_events::{DomainEvent, Envelope, Family, NewEvent};
use claimtrail_store::lease::{LEASE_RETRY, Lease};
use claimtrail_store::{StoreError, inbox, outbox};
use sea_orm::{DatabaseTransaction, TransactionTrait};
use tokio::sync::watch;
use tracing::Instrument as _;

use crate::{Runtime, killpoint, telemetry};

/// Why a handler could not apply an event.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The event can never be applied (its payload is invalid for this service).
    #[error("cannot apply event: {0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl HandlerError {
    /// Whether the database failed rather than the event: unreachable, or its
    /// disk full. Such an event waits and is retried; it never counts towards
    /// dead-lettering.
    pub fn is_infrastructure(&self) -> bool {
        match self {
            HandlerError::Invalid(_) => false,
            HandlerError::Store(e) => e.is_unavailable() || e.is_disk_full(),
            HandlerError::Db(e) => claimtrail_store::is_unavailable(e) || claimtrail_store::is_disk_full(e),
            HandlerError::Unexpected(e) => crate::http::database_unreachable(e) || crate::http::database_disk_full(e),
        }
    }
}

/// How long a message waits before it is redelivered after the database failed it.
pub const INFRASTRUCTURE_RETRY_DELAY: Duration = Duration::from_secs(2);

/// One event as it was received: the parsed envelope, its canonical bytes
/// and the producer's batch proof that came beside it.
#[derive(Debug, Clone, Copy)]
pub struct Received<'a> {
    pub envelope: &'a Envelope,
    pub bytes: &'a [u8],
    pub batch: Option<&'a str>,
}

/// A service's reaction to events.
#[async_trait]
pub trait EventHandler: Send + Sync + 'static {
    /// The stream families this service consumes.
    fn families(&self) -> Vec<Family>;

    /// The event types [`EventHandler::handle`] acts on, when fewer than
    /// every type of its families (None: all of them). Deliveries of the
    /// others are acknowledged unread, without a transaction or an inbox row,
    /// and the embedded log does not read them at all: intake's status
    /// projection, for one, would otherwise read back every claim it submitted.
    fn event_types(&self) -> Option<&'static [&'static str]> {
        None
    }

    /// Whether the handler's effect is its own record of what it has applied,
    /// so that a redelivered event finds itself there and changes nothing
    /// without an inbox row: the anchor's ledger, whose event ids are unique.
    /// The consumer then writes no inbox rows for this service and hands the
    /// handler every event of a batch once (duplicates within the batch
    /// removed); the handler must leave out the events it applied before.
    fn deduplicates_itself(&self) -> bool {
        false
    }

    /// Whether this service needs the events of one subscriber's family in
    /// order (adjudication's accumulators and claim history): it then reads
    /// a partitioned family with one consumer per partition, each handling
    /// its partition in stream order. Others read the whole family with one
    /// consumer, which is also in stream order but shares one cursor.
    fn partitioned(&self) -> bool {
        false
    }

    /// Applies one event inside `tx` and returns the events it causes (they
    /// go to the outbox in the same transaction). Events of types the service
    /// does not care about return `Ok(vec![])`.
    async fn handle(&self, tx: &DatabaseTransaction, event: &Envelope) -> Result<Vec<NewEvent>, HandlerError>;

    /// Applies a batch of new events, in order, inside `tx`. The default calls
    /// [`EventHandler::handle`] for each; a handler that can do the batch in
    /// fewer statements overrides it.
    async fn handle_batch(&self, tx: &DatabaseTransaction, events: &[&Envelope]) -> Result<Vec<NewEvent>, HandlerError> {
        let mut outgoing = Vec::new();
        for envelope in events {
            let span = event_span(envelope);
            let caused = self.handle(tx, envelope).instrument(span.clone()).await?;
            outgoing.extend(continue_trace(caused, envelope, &span));
        }
        Ok(outgoing)
    }

    /// Applies a batch of new events with what came beside them. The default
    /// hands the envelopes to [`EventHandler::handle_batch`]; a handler that
    /// needs the bytes or the producer's batch proof (the anchor) overrides it.
    async fn handle_received(&self, tx: &DatabaseTransaction, events: &[Received<'_>]) -> Result<Vec<NewEvent>, HandlerError> {
        let envelopes: Vec<&Envelope> = events.iter().map(|received| received.envelope).collect();
        self.handle_batch(tx, &envelopes).await
    }
}

/// `events` cut before each `claims.erased.v1` that has events before it,
/// so that a handler's batch never holds an erasure after other events: the
/// events caused by those before it reach the outbox before the erasure
/// deletes the salts of the service's events about its claims, as when
/// each event is handled alone. No slice is empty; none when `events` is.
pub fn erasure_segments<T>(events: &[T], event_type: impl Fn(&T) -> &str) -> Vec<&[T]> {
    let mut segments = Vec::new();
    let mut start = 0;
    for (idx, event) in events.iter().enumerate() {
        if idx > start && event_type(event) == claimtrail_events::ClaimsErased::EVENT_TYPE {
            segments.push(&events[start..idx]);
            start = idx;
        }
    }
    if start < events.len() {
        segments.push(&events[start..]);
    }
    segments
}

fn received<'a>(delivery: &'a Delivery, envelope: &'a Envelope) -> Received<'a> {
    Received { envelope, bytes: &delivery.payload, batch: delivery.batch.as_deref() }
}

/// The events `envelope` caused, with the handling `span` as the parent they
/// pass on (when traces are exported), so that the trace follows the chain of
/// services rather than fanning out of intake.
pub fn continue_trace(mut caused: Vec<NewEvent>, envelope: &Envelope, span: &tracing::Span) -> Vec<NewEvent> {
    if let Some(traceparent) = telemetry::traceparent(span) {
        for event in caused.iter_mut().filter(|event| event.traceparent == envelope.traceparent) {
            event.traceparent = Some(traceparent.clone());
        }
    }
    caused
}

/// The span of handling one event: its id and type and the trace id, never
/// the payload (nor the aggregate id, which for reference data is a member
/// id). Its parent is the event's `traceparent`, so that the handling joins
/// the claim's trace. A handler that overrides
/// [`EventHandler::handle_batch`] opens one per event itself.
pub fn event_span(envelope: &Envelope) -> tracing::Span {
    let trace_id = envelope.traceparent.as_deref().and_then(|t| t.split('-').nth(1)).unwrap_or("");
    let span = tracing::info_span!("handle", otel.kind = "consumer", event_id = %envelope.event_id, event_type = %envelope.event_type, trace_id);
    telemetry::set_parent(&span, envelope.traceparent.as_deref());
    span
}

pub(crate) struct Consumer {
    runtime: Runtime,
    handler: Arc<dyn EventHandler>,
    family: Family,
    /// The one partition of the family this consumer reads, or None for all.
    partition: Option<u32>,
    /// A partition's lease (Postgres): only the replica holding it fetches,
    /// and its transactions run on the lease's session (fenced).
    lease: Option<Lease>,
}

enum Parsed {
    Event(Box<Envelope>),
    Poison(String),
}

impl Consumer {
    pub(crate) fn new(runtime: Runtime, handler: Arc<dyn EventHandler>, family: Family, partition: Option<u32>) -> Consumer {
        Consumer { runtime, handler, family, partition, lease: None }
    }

    fn labels(&self) -> [(&'static str, String); 3] {
        let partition = self.partition.map_or_else(|| "all".to_owned(), |p| p.to_string());
        [("service", self.runtime.producer.service.clone()), ("family", self.family.as_str().to_owned()), ("partition", partition)]
    }

    pub(crate) async fn run(mut self, mut stop: watch::Receiver<bool>) -> anyhow::Result<()> {
        if let Some(unknown) = self.handler.event_types().and_then(|types| types.iter().find(|t| DomainEvent::family_of(t).is_none())) {
            anyhow::bail!("{}'s handler acts on `{unknown}`, which is not a Claimtrail event type", self.runtime.producer.service);
        }
        let event_types = self.event_types();
        // With a narrower handler, the types it acts on (the rest are acknowledged unread).
        let wanted: Option<std::collections::HashSet<String>> = self.handler.event_types().map(|_| event_types.iter().cloned().collect());
        let spec = ConsumerSpec {
            service: self.runtime.producer.service.clone(),
            family: self.family,
            event_types,
            ack_wait: Duration::from_secs(self.runtime.settings.ack_wait_seconds),
            ack_pending_max: i64::from(self.runtime.settings.batch_max) * 8,
            partition: self.partition,
        };
        let mut subscription = self.runtime.bus.subscribe(&spec).await?;
        // Several replicas of a service share Postgres: one of them at a time consumes a partition.
        if let Some(partition) = self.partition.filter(|_| self.runtime.store.is_postgres()) {
            let name = format!("{}.p{partition}", self.runtime.store.table(self.family.as_str()));
            self.lease = Some(Lease::new(&self.runtime.store, &name).await?);
        }
        let mut lag_checked = std::time::Instant::now();
        loop {
            if *stop.borrow() {
                return Ok(());
            }
            if let Some(lease) = &self.lease
                && !self.own(lease, &mut *subscription, &mut stop).await
            {
                return Ok(());
            }
            let fetching = std::time::Instant::now();
            let batch = tokio::select! {
                batch = subscription.fetch(self.runtime.settings.batch_max as usize, Duration::from_millis(500)) => batch,
                _ = stop.changed() => return Ok(()),
            };
            let batch = match batch {
                Ok(batch) => batch,
                Err(e) => {
                    tracing::warn!(error.message = %e, family = self.family.as_str(), "fetch failed; retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                }
            };
            if !batch.is_empty() {
                metrics::counter!("claimtrail_messages_received_total", &self.labels()).increment(batch.len() as u64);
                let started = std::time::Instant::now();
                let n_messages = batch.len();
                self.process_batch(batch, wanted.as_ref()).await;
                metrics::histogram!("claimtrail_batch_seconds", &self.labels()).record(started.elapsed().as_secs_f64());
                tracing::debug!(
                    family = self.family.as_str(),
                    partition = ?self.partition,
                    n_messages,
                    fetch_ms = started.duration_since(fetching).as_secs_f64() * 1e3,
                    process_ms = started.elapsed().as_secs_f64() * 1e3,
                    "batch handled"
                );
            }
            if lag_checked.elapsed() > Duration::from_secs(5) {
                lag_checked = std::time::Instant::now();
                if let Some(lag) = subscription.lag().await {
                    metrics::gauge!("claimtrail_consumer_lag", &self.labels()).set(lag as f64);
                }
            }
        }
    }

    /// Waits until this replica holds the partition's lease: true, or false
    /// when stopped first. Having just taken it while deliveries are pending
    /// (a replica that held it died, or lost it, with a batch in flight), it
    /// waits the ack wait before fetching: those deliveries are redelivered
    /// then, ahead of newer messages, so the partition's order holds.
    async fn own(&self, lease: &Lease, subscription: &mut dyn claimtrail_bus::Subscription, stop: &mut watch::Receiver<bool>) -> bool {
        if matches!(lease.held().await, Ok(true)) {
            return true;
        }
        let mut standing_by = false;
        loop {
            match lease.try_take().await {
                Ok(true) => break,
                Ok(false) if !standing_by => {
                    standing_by = true;
                    tracing::info!(lease = lease.name(), "another replica holds this partition; standing by");
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(error.message = %e, lease = lease.name(), "taking the partition's lease failed; retrying"),
            }
            tokio::select! {
                () = tokio::time::sleep(LEASE_RETRY) => {}
                _ = stop.changed() => return false,
            }
            if *stop.borrow() {
                return false;
            }
        }
        tracing::info!(lease = lease.name(), "holding this partition");
        if subscription.ack_pending().await.unwrap_or(0) > 0 {
            let ack_wait = Duration::from_secs(self.runtime.settings.ack_wait_seconds);
            tracing::info!(
                lease = lease.name(),
                ack_wait_s = ack_wait.as_secs(),
                "deliveries of the previous holder are pending; waiting for their redelivery"
            );
            tokio::select! {
                () = tokio::time::sleep(ack_wait) => {}
                _ = stop.changed() => return false,
            }
        }
        true
    }

    /// The types of this consumer's family that its handler acts on.
    fn event_types(&self) -> Vec<String> {
        let wanted = self.handler.event_types();
        claimtrail_events::EVENT_TYPES
            .iter()
            .filter(|t| DomainEvent::family_of(t) == Some(self.family) && wanted.is_none_or(|wanted| wanted.contains(t)))
            .map(|t| (*t).to_owned())
            .collect()
    }

    /// Handles a fetched batch; with `wanted` (the event types the handler
    /// acts on), the other deliveries are acknowledged unread first.
    ///
    /// The batch is applied in the order it was delivered, which is stream
    /// order (per partition, for a partition's consumer): events go to the
    /// handler in that order, in one transaction, so that the decisions do
    /// not depend on where one batch ends and the next begins.
    async fn process_batch(&self, batch: Vec<Delivery>, wanted: Option<&std::collections::HashSet<String>>) {
        let naming = self.runtime.bus.naming();
        let batch = if let Some(wanted) = wanted {
            // A stable split: the wanted keep their delivery order.
            let (batch, others): (Vec<Delivery>, Vec<Delivery>) =
                batch.into_iter().partition(|delivery| naming.event_type_in(self.family, &delivery.subject).is_some_and(|t| wanted.contains(t)));
            for delivery in &others {
                if let Err(e) = delivery.acker.ack().await {
                    tracing::warn!(error.message = %e, "ack of an event type this service does not act on failed; it will be redelivered");
                }
            }
            batch
        } else {
            batch
        };
        if batch.is_empty() {
            return;
        }
        let parsed: Vec<(Delivery, Parsed)> = batch
            .into_iter()
            .map(|delivery| {
                let parsed = match Envelope::from_bytes(&delivery.payload) {
                    Ok(envelope) => Parsed::Event(Box::new(envelope)),
                    Err(e) => Parsed::Poison(e.to_string()),
                };
                (delivery, parsed)
            })
            .collect();
        let all_events: Vec<Received<'_>> = parsed
            .iter()
            .filter_map(|(delivery, p)| match p {
                Parsed::Event(e) => Some(received(delivery, e)),
                Parsed::Poison(_) => None,
            })
            .collect();
        let has_poison = all_events.len() < parsed.len();
        if !has_poison {
            match self.apply(&all_events).await {
                Ok(()) => {
                    killpoint::reach("after_commit_before_ack");
                    for (delivery, _) in &parsed {
                        if let Err(e) = delivery.acker.ack().await {
                            tracing::warn!(error.message = %e, "ack failed; the message will be redelivered and found in the inbox");
                        }
                    }
                    metrics::counter!("claimtrail_messages_processed_total", &self.labels()).increment(parsed.len() as u64);
                    return;
                }
                Err(e) if e.is_infrastructure() => {
                    self.wait_for_database(parsed.iter().map(|(delivery, _)| delivery), &e).await;
                    return;
                }
                Err(e) if parsed.len() == 1 => {
                    let (delivery, _) = &parsed[0];
                    self.failed(delivery, &e.to_string()).await;
                    return;
                }
                Err(e) => {
                    tracing::info!(error.message = %e, n_messages = parsed.len(), "batch failed; retrying each message alone");
                }
            }
        }
        for (delivery, parsed) in &parsed {
            match parsed {
                Parsed::Poison(reason) => self.failed(delivery, reason).await,
                Parsed::Event(envelope) => match self.apply(&[received(delivery, envelope)]).await {
                    Ok(()) => {
                        killpoint::reach("after_commit_before_ack");
                        if let Err(e) = delivery.acker.ack().await {
                            tracing::warn!(error.message = %e, "ack failed; the message will be redelivered and found in the inbox");
                        }
                        metrics::counter!("claimtrail_messages_processed_total", &self.labels()).increment(1);
                    }
                    Err(e) if e.is_infrastructure() => self.wait_for_database(std::iter::once(delivery), &e).await,
                    Err(e) => self.failed(delivery, &e.to_string()).await,
                },
            }
        }
    }

    /// One transaction: inbox, effect, outbox; commit.
    async fn apply(&self, events: &[Received<'_>]) -> Result<(), HandlerError> {
        let store = &self.runtime.store;
        let tx = match &self.lease {
            Some(lease) => lease.begin().await?,
            None => store.db().begin().await?,
        };
        let mut seen = std::collections::HashSet::with_capacity(events.len());
        let fresh: Vec<Received<'_>> = if self.handler.deduplicates_itself() {
            // Each once (a batch may hold a redelivery twice); the handler leaves out what it applied before.
            events.iter().copied().filter(|e| seen.insert(e.envelope.event_id)).collect()
        } else {
            let ids: Vec<uuid::Uuid> = events.iter().map(|e| e.envelope.event_id).collect();
            let new_ids = inbox::record_many(store, &tx, &ids).await?;
            // Only events new to the inbox, each once (a batch may hold a redelivery twice).
            events.iter().copied().filter(|e| new_ids.contains(&e.envelope.event_id) && seen.insert(e.envelope.event_id)).collect()
        };
        let n_duplicates = events.len() - fresh.len();
        if n_duplicates > 0 {
            metrics::counter!("claimtrail_messages_duplicate_total", &self.labels()).increment(n_duplicates as u64);
        }
        let mut appended = false;
        // An erasure deletes the salts of this service's events about its claims: those caused earlier in the batch are appended first.
        for segment in erasure_segments(&fresh, |received| received.envelope.event_type.as_str()) {
            let outgoing = self.handler.handle_received(&tx, segment).await?;
            if !outgoing.is_empty() {
                outbox::append(store, &tx, &self.runtime.producer, outgoing).await?;
                appended = true;
            }
        }
        tx.commit().await?;
        if appended {
            self.runtime.relay_wakeup.notify_waiters();
        }
        Ok(())
    }

    /// The database failed `deliveries` (unreachable, disk full): they are
    /// redelivered after [`INFRASTRUCTURE_RETRY_DELAY`], however often that
    /// happens, and this consumer pauses as long before fetching more.
    async fn wait_for_database<'d>(&self, deliveries: impl Iterator<Item = &'d Delivery>, error: &HandlerError) {
        let mut n_messages = 0;
        for delivery in deliveries {
            n_messages += 1;
            if let Err(e) = delivery.acker.nak(INFRASTRUCTURE_RETRY_DELAY).await {
                tracing::warn!(error.message = %e, "nak failed; the message will be redelivered after the ack wait");
            }
        }
        tracing::warn!(error.message = %error, n_messages, family = self.family.as_str(), "the database failed; the messages wait and are retried");
        metrics::counter!("claimtrail_messages_waiting_for_database_total", &self.labels()).increment(n_messages);
        tokio::time::sleep(INFRASTRUCTURE_RETRY_DELAY).await;
    }

    async fn failed(&self, delivery: &Delivery, reason: &str) {
        let deliveries_max = self.runtime.settings.deliveries_max;
        if delivery.delivered >= deliveries_max {
            tracing::error!(subject = %delivery.subject, stream_sequence = delivery.stream_sequence, deliveries = delivery.delivered, reason, "dead-lettering a message");
            match self.runtime.bus.dead_letter(&self.runtime.producer.service, delivery, reason).await {
                Ok(()) => {
                    metrics::counter!("claimtrail_dead_letters_total", &self.labels()).increment(1);
                    if let Err(e) = delivery.acker.term().await {
                        tracing::warn!(error.message = %e, "terminating a dead-lettered message failed");
                    }
                }
                Err(e) => {
                    tracing::error!(error.message = %e, "publishing to the dead-letter subject failed; the message stays");
                    let _ = delivery.acker.nak(Duration::from_secs(1)).await;
                }
            }
        } else {
            let delay = Duration::from_millis(100 * delivery.delivered.min(50));
            tracing::warn!(subject = %delivery.subject, deliveries = delivery.delivered, reason, "message failed; it will be redelivered");
            metrics::counter!("claimtrail_messages_failed_total", &self.labels()).increment(1);
            if let Err(e) = delivery.acker.nak(delay).await {
                tracing::warn!(error.message = %e, "nak failed; the message will be redelivered after the ack wait");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use claimtrail_bus::OutgoingEvent;
    use claimtrail_events::{ClaimsErased, Producer, SealedEvent, Timestamp};
    use sea_orm::ConnectionTrait as _;

    use super::*;
    use crate::ServeSettings;

    /// Records the aggregate ids it is handed, in the order it is handed them.
    struct Recorder {
        seen: Mutex<Vec<String>>,
    }

    #[async_trait]
    impl EventHandler for Recorder {
        fn families(&self) -> Vec<Family> {
            vec![Family::Claims]
        }

        fn partitioned(&self) -> bool {
            true
        }

        async fn handle(&self, _tx: &DatabaseTransaction, event: &Envelope) -> Result<Vec<NewEvent>, HandlerError> {
            self.seen.lock().map_err(|_| anyhow::anyhow!("recorder poisoned"))?.push(event.aggregate_id.clone());
            Ok(Vec::new())
        }
    }

    /// Events of six families, interleaved, each with its family's token.
    fn events(n: usize) -> anyhow::Result<Vec<OutgoingEvent>> {
        let producer = Producer { service: "intake".into(), key_id: "intake-producer+00000000".into() };
        (0..n)
            .map(|i| {
                let erased = ClaimsErased {
                    erasure_id: uuid::Uuid::now_v7(),
                    payer_id: "60054".into(),
                    claim_ids: Vec::new(),
                    requested_by: "test".into(),
                    reason: "order".into(),
                };
                let new = NewEvent::new(erased, format!("e{i}")).partitioned("60054", &format!("SUB-{}", (i * 5) % 6));
                let sealed = SealedEvent::seal(new, 1, producer.clone(), [1; 32], Timestamp::now())?;
                Ok(OutgoingEvent {
                    event_id: sealed.head.event_id,
                    event_type: sealed.head.event_type.clone(),
                    bytes: sealed.bytes.clone().into(),
                    traceparent: None,
                    batch: None,
                    partition: sealed.head.partition.clone(),
                })
            })
            .collect()
    }

    #[test]
    fn a_batch_is_cut_before_each_erasure_that_follows_other_events() {
        let erased = ClaimsErased::EVENT_TYPE;
        let cut = |types: &[&'static str]| -> Vec<Vec<&'static str>> { erasure_segments(types, |t| t).into_iter().map(<[_]>::to_vec).collect() };
        assert_eq!(cut(&[]), Vec::<Vec<&str>>::new());
        assert_eq!(cut(&["a", "b"]), [vec!["a", "b"]]);
        assert_eq!(cut(&[erased, "a"]), [vec![erased, "a"]]);
        assert_eq!(cut(&["a", erased, "b", erased, erased]), [vec!["a"], vec![erased, "b"], vec![erased], vec![erased]]);
    }

    /// Two consumers of one partition, one fetching a message at a time and
    /// one up to seven, hand the handler the partition's events in publish
    /// order: the split into batches changes nothing.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_partitions_batches_are_handled_in_publish_order_whatever_their_size() -> anyhow::Result<()> {
        let database_url = std::env::var("CLAIMTRAIL_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let nats_url = std::env::var("CLAIMTRAIL_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned());
        let prefix = format!("cp{}", &uuid::Uuid::now_v7().simple().to_string()[20..]);
        let keys = tempfile::tempdir()?;
        let events = events(60)?;
        let mut orders = Vec::new();
        for (service, batch_max) in [("settlement", 1), ("adjudication", 7)] {
            let mut settings = ServeSettings::with_urls(&database_url, &nats_url, &prefix);
            settings.key_dir = keys.path().to_owned();
            settings.batch_max = batch_max;
            settings.partitions = 2;
            let runtime = Runtime::connect(&settings, service, &[]).await?;
            if orders.is_empty() {
                for chunk in events.chunks(4) {
                    runtime.bus.publish(chunk).await?;
                }
            }
            let naming = runtime.bus.naming().clone();
            let expected: Vec<String> =
                (0..events.len()).filter(|i| naming.partition_of(events[*i].partition.as_deref()) == 1).map(|i| format!("e{i}")).collect();
            let recorder = Arc::new(Recorder { seen: Mutex::new(Vec::new()) });
            let consumer = Consumer::new(runtime.clone(), recorder.clone(), Family::Claims, Some(1));
            let (stop_tx, stop_rx) = watch::channel(false);
            let task = tokio::spawn(consumer.run(stop_rx));
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            while recorder.seen.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.len() < expected.len() && std::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            stop_tx.send(true)?;
            task.await??;
            let seen = recorder.seen.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.clone();
            assert_eq!(seen, expected, "{service} with batches of {batch_max}");
            orders.push(seen);
            runtime.store.db().execute_unprepared(&format!("DROP SCHEMA IF EXISTS \"{prefix}_{service}\" CASCADE")).await?;
            if orders.len() == 2 {
                runtime.store.db().execute_unprepared(&format!("DROP SCHEMA IF EXISTS \"{prefix}_{}\" CASCADE", claimtrail_store::registry::COMPONENT)).await?;
            }
        }
        assert!(!orders[0].is_empty());
        claimtrail_bus::jetstream::delete_streams(&nats_url, &claimtrail_bus::Naming::new(&prefix)).await?;
        Ok(())
    }
}
