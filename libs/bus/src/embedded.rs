//! The embedded event log of `claimtrail up`: the bus inside the one SQLite
//! file that holds every service's tables, with the guarantees of the
//! JetStream bus and no server.
//!
//! Every service's outbox doubles as the log (DESIGN.md "Exactly-once
//! effect"): a subscription reads the outboxes of the producing services
//! directly, in each outbox's order, so there is no relay and no copy. Events
//! published from outside an outbox (`Bus::publish`) go to one more log table,
//! read the same way. Each durable consumer keeps one cursor per source
//! table; a message is redelivered until it is acknowledged, and the cursor
//! only passes acknowledged messages. The cursor is stored after the effect's
//! transaction (at the next fetch), and the consumer's inbox makes a
//! redelivery after a crash a no-op: kill -9 at any moment loses nothing
//! and doubles nothing.
//!
//! Each delivery carries the producer's batch proof from the outbox's batch
//! columns, as the JetStream bus carries it in the `Claimtrail-Batch` header.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use claimtrail_events::Family;
use claimtrail_store::Store;
use claimtrail_store::embedded_log::{self, DeadLetter, ExternalEvent, LogRow, LogSource};
use sea_orm::TransactionTrait;
use tokio::sync::Notify;

use crate::{Acker, Bus, BusError, ConsumerSpec, Delivery, Naming, OutgoingEvent, Subscription};

/// The embedded log's own tables live under this service name.
pub const BUS_SERVICE: &str = "bus";

/// Where events come from: the outbox of each producing service, plus the
/// log of events published from outside.
#[derive(Debug, Clone)]
struct Source {
    name: String,
    /// Its outbox and producer batches.
    log: LogSource,
}

/// The bus over SQLite.
pub struct EmbeddedBus {
    store: Store,
    sources: Vec<Source>,
    naming: Naming,
    wakeup: Arc<Notify>,
}

fn db_error(e: impl std::fmt::Display) -> BusError {
    BusError::Fetch(e.to_string())
}

impl EmbeddedBus {
    /// Opens the log in `store`'s database, reading the outboxes of `producers`.
    pub async fn open(store: &Store, prefix: &str, producers: &[&str]) -> Result<EmbeddedBus, BusError> {
        let bus_store = store.for_service(BUS_SERVICE, prefix).map_err(|e| BusError::Declare { what: "embedded log".into(), reason: e.to_string() })?;
        bus_store.migrate(&embedded_log::migrations()).await.map_err(|e| BusError::Declare { what: "embedded log tables".into(), reason: e.to_string() })?;
        let mut sources = Vec::new();
        for producer in producers {
            let producer_store =
                store.for_service(producer, prefix).map_err(|e| BusError::Declare { what: format!("source {producer}"), reason: e.to_string() })?;
            sources.push(Source {
                name: (*producer).to_owned(),
                log: LogSource { table: producer_store.table("outbox"), batches: producer_store.table("outbox_batches") },
            });
        }
        sources.push(Source { name: "external".into(), log: LogSource { table: bus_store.table("outbox"), batches: bus_store.table("outbox_batches") } });
        Ok(EmbeddedBus { store: bus_store, sources, naming: Naming::new(prefix), wakeup: Arc::new(Notify::new()) })
    }

    /// The same log with `partitions` partitions of the claims family (see [`Naming::with_partitions`]).
    pub fn with_partitions(mut self, partitions: u32) -> EmbeddedBus {
        self.naming = self.naming.with_partitions(partitions);
        self
    }

    /// Wakes waiting subscriptions; call after a commit that appended to an outbox.
    pub fn notifier(&self) -> Arc<Notify> {
        self.wakeup.clone()
    }
}

#[async_trait]
impl Bus for EmbeddedBus {
    async fn publish(&self, events: &[OutgoingEvent]) -> Result<(), BusError> {
        let tx = self.store.db().begin().await.map_err(db_error)?;
        for (event_idx, event) in events.iter().enumerate() {
            // The external log is an outbox like the others; the event id is its dedupe key.
            let external = ExternalEvent {
                event_id: event.event_id,
                event_type: &event.event_type,
                aggregate_id: format!("external:{}", event.event_id),
                aggregate_seq: event_idx as i64 + 1,
                body: &event.bytes,
            };
            embedded_log::append_external(&self.store, &tx, external)
                .await
                .map_err(|e| BusError::Publish { subject: event.event_type.clone(), reason: e.to_string() })?;
        }
        tx.commit().await.map_err(db_error)?;
        self.wakeup.notify_waiters();
        Ok(())
    }

    async fn subscribe(&self, spec: &ConsumerSpec) -> Result<Box<dyn Subscription>, BusError> {
        let consumer = self.naming.durable_of(spec);
        let mut sources = Vec::with_capacity(self.sources.len());
        for source in &self.sources {
            let acked = embedded_log::cursor(&self.store, &consumer, &source.name).await.map_err(db_error)?;
            let read_sql = embedded_log::window_sql(&source.log, spec.event_types.len());
            sources.push(SourceCursor { source: source.clone(), read_sql, stored_floor: acked, floor: acked, fetched_upto: acked });
        }
        let event_types = spec.event_types.clone();
        let logs: Vec<LogSource> = self.sources.iter().map(|source| source.log.clone()).collect();
        let heads_sql = embedded_log::heads_sql(&logs);
        Ok(Box::new(EmbeddedSubscription {
            store: self.store.clone(),
            consumer,
            family: spec.family,
            partition: spec.partition,
            naming: self.naming.clone(),
            event_types,
            sources,
            heads_sql,
            shared: Arc::new(Mutex::new(Settlements::default())),
            wakeup: self.wakeup.clone(),
        }))
    }

    async fn dead_letter(&self, service: &str, delivery: &Delivery, reason: &str) -> Result<(), BusError> {
        let letter = DeadLetter { service, subject: &delivery.subject, reason, deliveries: delivery.delivered as i64, body: &delivery.payload };
        embedded_log::insert_dead_letter(&self.store, letter)
            .await
            .map_err(|e| BusError::Publish { subject: self.naming.dead_letter_subject(service), reason: e.to_string() })?;
        Ok(())
    }

    fn is_connected(&self) -> bool {
        true
    }

    fn naming(&self) -> &Naming {
        &self.naming
    }

    fn needs_relay(&self) -> bool {
        false
    }
}

/// One log row: its type, its bytes and the producer's batch proof.
struct Message {
    event_type: String,
    body: Vec<u8>,
    batch: Option<String>,
}

impl Message {
    fn from_row(row: LogRow) -> Message {
        Message { event_type: row.event_type, body: row.body, batch: row.batch }
    }

    /// The envelope's partition token, read without the rest of the body (a
    /// body that is not an envelope has none, and is delivered to partition
    /// 0, whose consumer dead-letters it).
    fn partition_token(&self) -> Option<String> {
        crate::EnvelopeRouting::of(&self.body).partition
    }
}

struct SourceCursor {
    source: Source,
    /// This family's rows in a window of sequence numbers: `$1 < seq <= $2`,
    /// the event types, then the limit.
    read_sql: String,
    /// The cursor as stored: everything up to here is acknowledged.
    stored_floor: i64,
    /// Everything up to here is acknowledged or of another family; it is
    /// stored when acknowledgements moved it, or once it is
    /// [`FLOOR_STORE_STEP`] past the stored one.
    floor: i64,
    /// Highest sequence read: handed out, or passed as another family's.
    fetched_upto: i64,
}

/// Rows of a source scanned per statement. The statement holds the one
/// connection, so a long run of other families' events is passed in steps.
const SCAN_WINDOW: i64 = 8_192;

/// How far a floor moved only by other families' events may run ahead of the
/// stored one. Storing it after every commit of every producer would cost
/// each subscription a write per commit; after a restart at most this many
/// rows per source are read again (and passed again).
const FLOOR_STORE_STEP: i64 = 16_384;

/// A message handed out and not yet acknowledged.
#[derive(Debug)]
struct Outstanding {
    delivered: u64,
    state: Settle,
}

#[derive(Debug, PartialEq)]
enum Settle {
    InFlight,
    Acked,
    RetryAt(Instant),
}

/// Outstanding messages per (source index, seq), shared with the ackers.
#[derive(Debug, Default)]
struct Settlements {
    outstanding: BTreeMap<(usize, i64), Outstanding>,
}

struct EmbeddedSubscription {
    store: Store,
    consumer: String,
    family: Family,
    /// The one partition this subscription reads, if any: it passes the
    /// family's other events as it passes other families'.
    partition: Option<u32>,
    naming: Naming,
    event_types: Vec<String>,
    /// Every source's last `seq`, in one statement.
    heads_sql: String,
    sources: Vec<SourceCursor>,
    shared: Arc<Mutex<Settlements>>,
    wakeup: Arc<Notify>,
}

impl EmbeddedSubscription {
    /// Moves each source's floor past acknowledged messages (and other
    /// families' events) and stores it when acknowledgements moved it or it
    /// ran [`FLOOR_STORE_STEP`] ahead of the stored one.
    async fn store_floors(&mut self) -> Result<(), BusError> {
        let mut to_store: Vec<usize> = Vec::new();
        {
            let mut shared = self.shared.lock().map_err(|_| BusError::Fetch("subscription state poisoned".into()))?;
            for (source_idx, cursor) in self.sources.iter_mut().enumerate() {
                let range = (source_idx, i64::MIN)..=(source_idx, i64::MAX);
                let settled: Vec<i64> = shared
                    .outstanding
                    .range(range.clone())
                    .take_while(|(_, outstanding)| outstanding.state == Settle::Acked)
                    .map(|((_, seq), _)| *seq)
                    .collect();
                for seq in &settled {
                    shared.outstanding.remove(&(source_idx, *seq));
                }
                // Messages between fetched ones that did not belong to this family are passed too.
                cursor.floor = match shared.outstanding.range(range).next() {
                    // Below the first open message everything is acknowledged or another family's.
                    Some(((_, first_open), _)) => (first_open - 1).max(cursor.floor),
                    None => cursor.fetched_upto,
                };
                if cursor.floor != cursor.stored_floor && (!settled.is_empty() || cursor.floor - cursor.stored_floor >= FLOOR_STORE_STEP) {
                    to_store.push(source_idx);
                }
            }
        }
        for source_idx in to_store {
            let cursor = &mut self.sources[source_idx];
            embedded_log::store_cursor(&self.store, &self.consumer, &cursor.source.name, cursor.floor).await.map_err(db_error)?;
            cursor.stored_floor = cursor.floor;
        }
        Ok(())
    }

    fn delivery(&self, source_idx: usize, seq: i64, message: Message, delivered: u64) -> Delivery {
        Delivery {
            subject: self.naming.event_subject(self.family, &message.event_type, message.partition_token().as_deref()),
            payload: Bytes::from(message.body),
            delivered,
            stream_sequence: seq as u64,
            traceparent: None,
            batch: message.batch,
            acker: Box::new(EmbeddedAcker { shared: self.shared.clone(), key: (source_idx, seq), wakeup: self.wakeup.clone() }),
        }
    }

    /// The last sequence number of every source, in one statement: a
    /// subscription is woken by every commit in the process, and most
    /// wake-ups find nothing new in most sources.
    async fn heads(&self) -> Result<Vec<i64>, BusError> {
        embedded_log::heads(&self.store, &self.heads_sql, self.sources.len()).await.map_err(db_error)
    }

    /// The next messages of this family from one source up to its `head`, at
    /// most `limit`, moving `fetched_upto` past what was read, other families'
    /// events included.
    ///
    /// Passing rows by sequence is sound because SQLite has one writer at a
    /// time: a sequence number is drawn inside a write transaction, so once
    /// `MAX(seq)` is visible every lower sequence has committed or never will.
    async fn read(&mut self, source_idx: usize, head: i64, limit: usize) -> Result<Vec<(i64, Message)>, BusError> {
        if self.sources[source_idx].fetched_upto >= head {
            return Ok(Vec::new());
        }
        while self.sources[source_idx].fetched_upto < head {
            let after = self.sources[source_idx].fetched_upto;
            let upto = head.min(after.saturating_add(SCAN_WINDOW));
            let rows =
                embedded_log::read_window(&self.store, &self.sources[source_idx].read_sql, after, upto, &self.event_types, limit).await.map_err(db_error)?;
            let n_rows = rows.len();
            let mut messages = Vec::with_capacity(rows.len());
            let mut last_read = None;
            for (seq, row) in rows {
                last_read = Some(seq);
                let message = Message::from_row(row);
                // Another partition's event is passed like another family's: in stream order, unseen.
                if let Some(partition) = self.partition
                    && self.naming.partition_of(message.partition_token().as_deref()) != partition
                {
                    continue;
                }
                messages.push((seq, message));
            }
            // A full page stops at its last row; a short one saw the whole window.
            self.sources[source_idx].fetched_upto = match last_read {
                Some(last) if n_rows >= limit => last,
                _ => upto,
            };
            if !messages.is_empty() {
                return Ok(messages);
            }
        }
        Ok(Vec::new())
    }

    async fn read_one(&self, source_idx: usize, seq: i64) -> Result<Option<Message>, BusError> {
        let source = &self.sources[source_idx].source;
        Ok(embedded_log::read_one(&self.store, &source.log, seq).await.map_err(db_error)?.map(Message::from_row))
    }

    async fn fetch_once(&mut self, max: usize) -> Result<Vec<Delivery>, BusError> {
        self.store_floors().await?;
        let mut deliveries = Vec::new();
        // Redeliveries first: naked messages whose delay is over.
        let due: Vec<((usize, i64), u64)> = {
            let mut shared = self.shared.lock().map_err(|_| BusError::Fetch("subscription state poisoned".into()))?;
            let now = Instant::now();
            let mut due = Vec::new();
            for (key, outstanding) in shared.outstanding.iter_mut() {
                if due.len() >= max {
                    break;
                }
                if let Settle::RetryAt(at) = outstanding.state
                    && at <= now
                {
                    outstanding.state = Settle::InFlight;
                    outstanding.delivered += 1;
                    due.push((*key, outstanding.delivered));
                }
            }
            due
        };
        for ((source_idx, seq), delivered) in due {
            if let Some(message) = self.read_one(source_idx, seq).await? {
                deliveries.push(self.delivery(source_idx, seq, message, delivered));
            }
        }
        let heads = self.heads().await?;
        for (source_idx, head) in heads.into_iter().enumerate() {
            if deliveries.len() >= max {
                break;
            }
            let messages = self.read(source_idx, head, max - deliveries.len()).await?;
            let mut shared = self.shared.lock().map_err(|_| BusError::Fetch("subscription state poisoned".into()))?;
            for (seq, _) in &messages {
                shared.outstanding.insert((source_idx, *seq), Outstanding { delivered: 1, state: Settle::InFlight });
            }
            drop(shared);
            for (seq, message) in messages {
                deliveries.push(self.delivery(source_idx, seq, message, 1));
            }
        }
        Ok(deliveries)
    }
}

#[async_trait]
impl Subscription for EmbeddedSubscription {
    async fn fetch(&mut self, max: usize, wait: Duration) -> Result<Vec<Delivery>, BusError> {
        let deadline = Instant::now() + wait;
        let wakeup = self.wakeup.clone();
        loop {
            let notified = wakeup.notified();
            let deliveries = self.fetch_once(max).await?;
            if !deliveries.is_empty() {
                return Ok(deliveries);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(deliveries);
            }
            // Commits in this process notify; poll anyway, at least every 250 ms.
            let nap = (deadline - now).min(Duration::from_millis(250));
            let _ = tokio::time::timeout(nap, notified).await;
        }
    }

    async fn lag(&mut self) -> Option<u64> {
        let mut total = 0u64;
        for source_idx in 0..self.sources.len() {
            let source = &self.sources[source_idx].source;
            total += embedded_log::count_after(&self.store, &source.log, self.sources[source_idx].fetched_upto).await.ok()? as u64;
        }
        Some(total)
    }
}

struct EmbeddedAcker {
    shared: Arc<Mutex<Settlements>>,
    key: (usize, i64),
    wakeup: Arc<Notify>,
}

impl EmbeddedAcker {
    fn settle(&self, state: Settle) -> Result<(), BusError> {
        let mut shared = self.shared.lock().map_err(|_| BusError::Ack("subscription state poisoned".into()))?;
        if let Some(outstanding) = shared.outstanding.get_mut(&self.key) {
            outstanding.state = state;
        }
        Ok(())
    }
}

#[async_trait]
impl Acker for EmbeddedAcker {
    async fn ack(&self) -> Result<(), BusError> {
        self.settle(Settle::Acked)
    }

    async fn nak(&self, delay: Duration) -> Result<(), BusError> {
        self.settle(Settle::RetryAt(Instant::now() + delay))?;
        self.wakeup.notify_waiters();
        Ok(())
    }

    async fn term(&self) -> Result<(), BusError> {
        self.settle(Settle::Acked)
    }
}
