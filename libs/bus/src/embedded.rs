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
use claimtrail_store::{Store, outbox, stmt};
use sea_orm::{ConnectionTrait, TransactionTrait, Value};
use tokio::sync::Notify;

use crate::{Acker, Bus, BusError, ConsumerSpec, Delivery, Naming, OutgoingEvent, Subscription};

/// The embedded log's own tables live under this service name.
pub const BUS_SERVICE: &str = "bus";

/// Where events come from: the outbox of each producing service, plus the
/// log of events published from outside.
#[derive(Debug, Clone)]
struct Source {
    name: String,
    table: String,
    /// The source's producer batches (`outbox_batches`).
    batches: String,
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
        bus_store.migrate(&migrations()).await.map_err(|e| BusError::Declare { what: "embedded log tables".into(), reason: e.to_string() })?;
        let mut sources = Vec::new();
        for producer in producers {
            let producer_store =
                store.for_service(producer, prefix).map_err(|e| BusError::Declare { what: format!("source {producer}"), reason: e.to_string() })?;
            sources.push(Source { name: (*producer).to_owned(), table: producer_store.table("outbox"), batches: producer_store.table("outbox_batches") });
        }
        sources.push(Source { name: "external".into(), table: bus_store.table("outbox"), batches: bus_store.table("outbox_batches") });
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

fn migrations() -> Vec<claimtrail_store::Migration> {
    vec![claimtrail_store::Migration {
        version: 1,
        name: "cursors and dead letters",
        statements: |store| {
            let t = store.types();
            vec![
                format!(
                    "CREATE TABLE {} (consumer TEXT NOT NULL, source TEXT NOT NULL, acked_seq {} NOT NULL, PRIMARY KEY (consumer, source))",
                    store.table("cursors"),
                    t.bigint
                ),
                format!(
                    "CREATE TABLE {} (dead_letter_id {}, service TEXT NOT NULL, subject TEXT NOT NULL, reason TEXT NOT NULL, deliveries {} NOT NULL, body {} NOT NULL, created_at {} NOT NULL DEFAULT {})",
                    store.table("dead_letters"),
                    t.id,
                    t.bigint,
                    t.bytes,
                    t.timestamp,
                    t.now
                ),
            ]
        },
    }]
}

#[async_trait]
impl Bus for EmbeddedBus {
    async fn publish(&self, events: &[OutgoingEvent]) -> Result<(), BusError> {
        let tx = self.store.db().begin().await.map_err(db_error)?;
        for (event_idx, event) in events.iter().enumerate() {
            // The external log is an outbox like the others; the event id is its dedupe key.
            tx.execute_raw(stmt(
                &self.store,
                format!(
                    "INSERT INTO {} (event_id, event_type, aggregate_id, aggregate_seq, body, published_at) VALUES ($1, $2, $3, $4, $5, {}) ON CONFLICT (event_id) DO NOTHING",
                    self.store.table("outbox"),
                    self.store.types().now
                ),
                vec![
                    Value::from(event.event_id),
                    Value::from(event.event_type.clone()),
                    Value::from(format!("external:{}", event.event_id)),
                    Value::from(event_idx as i64 + 1),
                    Value::from(event.bytes.to_vec()),
                ],
            ))
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
            let row = self
                .store
                .db()
                .query_one_raw(stmt(
                    &self.store,
                    format!("SELECT acked_seq FROM {} WHERE consumer = $1 AND source = $2", self.store.table("cursors")),
                    vec![Value::from(consumer.clone()), Value::from(source.name.clone())],
                ))
                .await
                .map_err(db_error)?;
            let acked: i64 = match row {
                Some(row) => row.try_get_by_index(0).map_err(db_error)?,
                None => 0,
            };
            let types: Vec<String> = (0..spec.event_types.len()).map(|idx| format!("${}", idx + 3)).collect();
            let read_sql = format!(
                "SELECT o.seq, o.event_type, o.body, {} FROM {} o LEFT JOIN {} b ON b.batch_id = o.batch_id \
                 WHERE o.seq > $1 AND o.seq <= $2 AND o.event_type IN ({}) ORDER BY o.seq LIMIT ${}",
                outbox::BATCH_COLUMNS,
                source.table,
                source.batches,
                types.join(","),
                spec.event_types.len() + 3
            );
            sources.push(SourceCursor { source: source.clone(), read_sql, stored_floor: acked, floor: acked, fetched_upto: acked });
        }
        let event_types = spec.event_types.clone();
        let heads: Vec<String> = self.sources.iter().map(|source| format!("(SELECT COALESCE(MAX(seq), 0) FROM {})", source.table)).collect();
        let heads_sql = format!("SELECT {}", heads.join(", "));
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
        self.store
            .db()
            .execute_raw(stmt(
                &self.store,
                format!("INSERT INTO {} (service, subject, reason, deliveries, body) VALUES ($1, $2, $3, $4, $5)", self.store.table("dead_letters")),
                vec![
                    Value::from(service.to_owned()),
                    Value::from(delivery.subject.clone()),
                    Value::from(reason.to_owned()),
                    Value::from(delivery.delivered as i64),
                    Value::from(delivery.payload.to_vec()),
                ],
            ))
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
    /// From `event_type, body, <outbox::BATCH_COLUMNS>` starting at column `first`.
    fn from_row(row: &sea_orm::QueryResult, first: usize) -> Result<Message, BusError> {
        Ok(Message {
            event_type: row.try_get_by_index(first).map_err(db_error)?,
            body: row.try_get_by_index(first + 1).map_err(db_error)?,
            batch: outbox::batch_proof(row, first + 2).map_err(db_error)?,
        })
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
            let upsert = format!(
                "INSERT INTO {} (consumer, source, acked_seq) VALUES ($1, $2, $3) ON CONFLICT (consumer, source) DO UPDATE SET acked_seq = excluded.acked_seq",
                self.store.table("cursors")
            );
            self.store
                .db()
                .execute_raw(stmt(
                    &self.store,
                    upsert,
                    vec![Value::from(self.consumer.clone()), Value::from(cursor.source.name.clone()), Value::from(cursor.floor)],
                ))
                .await
                .map_err(db_error)?;
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
        let row = self
            .store
            .db()
            .query_one_raw(stmt(&self.store, self.heads_sql.clone(), vec![]))
            .await
            .map_err(db_error)?
            .ok_or_else(|| BusError::Fetch("no row for the sources' heads".into()))?;
        (0..self.sources.len()).map(|idx| row.try_get_by_index::<i64>(idx).map_err(db_error)).collect()
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
            let mut values = vec![Value::from(after), Value::from(upto)];
            values.extend(self.event_types.iter().cloned().map(Value::from));
            values.push(Value::from(limit as i64));
            let sql = self.sources[source_idx].read_sql.clone();
            let rows = self.store.db().query_all_raw(stmt(&self.store, sql, values)).await.map_err(db_error)?;
            let n_rows = rows.len();
            let mut messages = Vec::with_capacity(rows.len());
            let mut last_read = None;
            for row in rows {
                let seq: i64 = row.try_get_by_index(0).map_err(db_error)?;
                last_read = Some(seq);
                let message = Message::from_row(&row, 1)?;
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
        let row = self
            .store
            .db()
            .query_one_raw(stmt(
                &self.store,
                format!(
                    "SELECT o.event_type, o.body, {} FROM {} o LEFT JOIN {} b ON b.batch_id = o.batch_id WHERE o.seq = $1",
                    outbox::BATCH_COLUMNS,
                    source.table,
                    source.batches
                ),
                vec![Value::from(seq)],
            ))
            .await
            .map_err(db_error)?;
        match row {
            Some(row) => Ok(Some(Message::from_row(&row, 0)?)),
            None => Ok(None),
        }
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
            let row = self
                .store
                .db()
                .query_one_raw(stmt(
                    &self.store,
                    format!("SELECT COUNT(*) FROM {} WHERE seq > $1", source.table),
                    vec![Value::from(self.sources[source_idx].fetched_upto)],
                ))
                .await
                .ok()??;
            total += row.try_get_by_index::<i64>(0).ok()? as u64;
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
