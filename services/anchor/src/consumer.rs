//! The anchor's event handler: every event of every family but `ledger`
//! becomes one ledger entry. It loads the facts (the registered producer
//! keys, the ledger's tail), lets [`crate::domain`] judge each producer batch
//! proof and build the entries, verifies the batch signatures of a delivery
//! together (one Ed25519 batch verification, one by one only when that
//! fails), and appends under the writer lock: by binary COPY on Postgres
//! ([`crate::storage::copy`]), by multi-row insert in the consumer's
//! transaction otherwise. An event that does not verify is still appended,
//! with `verified: false`, logged with `alert=true` and counted: other
//! services may already have acted on it.
//!
//! Exactly once without an inbox ([`EventHandler::deduplicates_itself`]):
//! the ledger's unique event ids are the record of what was appended, and a
//! redelivered event found there is left out.

use std::collections::HashMap;

use async_trait::async_trait;
use claimtrail_events::{Envelope, Family, NewEvent};
use claimtrail_ledger::batch::{self, BatchProof};
use claimtrail_ledger::hash::Hash;
use claimtrail_ledger::note::VerifierKey;
use claimtrail_runtime::{EventHandler, HandlerError, Received};
use claimtrail_store::Store;
use sea_orm::DatabaseTransaction;

use crate::domain::{self, BatchVerdict, Entry, ProofCheck};
use crate::keys;
use crate::storage::{self, copy};

/// The event handler: one ledger entry per event.
pub struct Appender {
    store: Store,
    producers: keys::ProducerKeys,
    /// Postgres: the COPY side channel; None on SQLite (and with TLS), where
    /// rows are inserted in the consumer's transaction.
    copy: Option<copy::CopyWriter>,
}

impl Appender {
    pub fn new(store: Store, registry: Store, copy: Option<copy::CopyWriter>) -> Appender {
        Appender { store, producers: keys::ProducerKeys::new(registry), copy }
    }

    /// Checks each event's batch proof ([`domain::check_proof`]); then every
    /// distinct batch signature not verified before, in one Ed25519 batch
    /// verification (one by one if it fails).
    async fn verify(&self, tx: &DatabaseTransaction, events: &[Received<'_>]) -> Result<Vec<BatchVerdict>, HandlerError> {
        let mut verdicts = Vec::with_capacity(events.len());
        // (event position, proof, decoded root and signature) of the events whose signature is still to check.
        let mut pending: Vec<(usize, Box<BatchProof>, Hash, [u8; 64])> = Vec::new();
        for (position, received) in events.iter().enumerate() {
            match domain::check_proof(received.envelope, received.bytes, received.batch) {
                ProofCheck::Fault(verdict) => verdicts.push(verdict),
                ProofCheck::Signed { verdict, proof, root, signature } => {
                    pending.push((position, proof, root, signature));
                    verdicts.push(verdict);
                }
            }
        }
        if pending.is_empty() {
            return Ok(verdicts);
        }
        let labels: Vec<&str> = pending.iter().map(|(_, proof, _, _)| proof.key.as_str()).collect();
        let known = self.producers.lookup(tx, &labels).await?;
        // Distinct signatures to verify now, and which pending events each covers.
        let mut to_verify: Vec<(VerifierKey, Vec<u8>, [u8; 64], keys::BatchMemo)> = Vec::new();
        let mut covers: Vec<Vec<usize>> = Vec::new();
        let mut memo_slot: HashMap<keys::BatchMemo, usize> = HashMap::new();
        for (position, proof, root, signature) in &pending {
            let service = &events[*position].envelope.producer.service;
            let key = match domain::signing_key(&known, &proof.key, service) {
                Ok(key) => key,
                Err(fault) => {
                    verdicts[*position].fault = Some(fault);
                    continue;
                }
            };
            let memo = (proof.key.clone(), proof.id.clone(), proof.root.clone(), proof.signature.clone());
            if self.producers.was_verified(&memo) {
                continue;
            }
            let slot = *memo_slot.entry(memo.clone()).or_insert_with(|| {
                to_verify.push((key.clone(), proof.message(service, root), *signature, memo));
                covers.push(Vec::new());
                to_verify.len() - 1
            });
            covers[slot].push(*position);
        }
        let triples: Vec<(&VerifierKey, &[u8], &[u8; 64])> =
            to_verify.iter().map(|(key, message, signature, _)| (key, message.as_slice(), signature)).collect();
        let results = batch::verify_signatures(&triples);
        for ((ok, (_, _, _, memo)), positions) in results.into_iter().zip(to_verify).zip(covers) {
            if ok {
                self.producers.remember_verified(memo);
            } else {
                for position in positions {
                    verdicts[position].fault = Some(format!("the batch signature by {} does not verify", memo.0));
                }
            }
        }
        Ok(verdicts)
    }

    /// Appends one entry per event under the writer lock: by COPY in a
    /// transaction of its own on Postgres, by multi-row insert in the
    /// consumer's transaction otherwise.
    async fn append(&self, tx: &DatabaseTransaction, envelopes: &[&Envelope], verdicts: Vec<BatchVerdict>) -> Result<(), HandlerError> {
        // One span per event, in the event's trace, open until its row is written.
        let _spans: Vec<tracing::Span> = envelopes.iter().map(|envelope| claimtrail_runtime::event_span(envelope)).collect();
        if let Some(copy) = &self.copy {
            let event_ids: Vec<uuid::Uuid> = envelopes.iter().map(|envelope| envelope.event_id).collect();
            let size = copy
                .append(&event_ids, |present, index, chain| {
                    domain::entries(envelopes, &verdicts, present, index, chain, observe).map(|entry| entry.map_err(anyhow::Error::from))
                })
                .await?;
            // The entries are committed, the consumer's transaction and the ack not yet.
            claimtrail_runtime::killpoint::reach("after_ledger_copy");
            metrics::gauge!("claimtrail_ledger_size").set(size as f64);
            return Ok(());
        }
        let store = &self.store;
        storage::lock_writer(store, tx).await?;
        let event_ids: Vec<uuid::Uuid> = envelopes.iter().map(|envelope| envelope.event_id).collect();
        let present = storage::present(store, tx, &event_ids).await?;
        let (index, chain) = domain::next_after(storage::tail(store, tx).await?);
        let entries = domain::entries(envelopes, &verdicts, present, index, chain, observe)
            .collect::<Result<Vec<Entry>, domain::Rejection>>()
            .map_err(|e| HandlerError::Invalid(e.to_string()))?;
        storage::insert_entries(store, tx, &entries).await?;
        metrics::gauge!("claimtrail_ledger_size").set(entries.last().map_or(index, |entry| entry.index as u64 + 1) as f64);
        Ok(())
    }
}

/// Logs and counts each event as it is appended: an alert for one whose producer signature did not verify.
fn observe(envelope: &Envelope, verdict: &BatchVerdict, index: u64) {
    if let Some(fault) = &verdict.fault {
        // No payload here: ids, type, producer and the reason only.
        tracing::error!(alert = true, event_id = %envelope.event_id, event_type = %envelope.event_type, producer = %domain::producer_of(envelope), index, reason = %fault,
            "producer signature not verified; the event is recorded as unverified");
    }
    let counter = if verdict.is_verified() { "claimtrail_ledger_verified_entries_total" } else { "claimtrail_ledger_unverified_entries_total" };
    metrics::counter!(counter, "producer" => metric_label(&envelope.producer.service)).increment(1);
}

#[async_trait]
impl EventHandler for Appender {
    fn families(&self) -> Vec<Family> {
        // Not Ledger: the anchor does not anchor its own output.
        vec![Family::Reference, Family::Claims, Family::Settlement, Family::Fraud]
    }

    /// The ledger's unique event ids are the anchor's record of what it
    /// appended: a redelivered event is found there (the COPY's unique index,
    /// or [`storage::present`]) and left out, so no inbox row is written for
    /// it (about 4 rows per claim fewer; issue 21).
    fn deduplicates_itself(&self) -> bool {
        true
    }

    async fn handle(&self, tx: &DatabaseTransaction, envelope: &Envelope) -> Result<Vec<NewEvent>, HandlerError> {
        self.handle_batch(tx, &[envelope]).await
    }

    /// Without what came beside the events there is no proof: every entry is unverified.
    async fn handle_batch(&self, tx: &DatabaseTransaction, envelopes: &[&Envelope]) -> Result<Vec<NewEvent>, HandlerError> {
        let verdicts = envelopes.iter().map(|_| BatchVerdict::unproven()).collect();
        self.append(tx, envelopes, verdicts).await?;
        Ok(vec![])
    }

    /// Verifies the producers' batches, then one writer lock, one tail read
    /// and one multi-row insert per delivery batch.
    async fn handle_received(&self, tx: &DatabaseTransaction, events: &[Received<'_>]) -> Result<Vec<NewEvent>, HandlerError> {
        let verdicts = self.verify(tx, events).await?;
        let envelopes: Vec<&Envelope> = events.iter().map(|received| received.envelope).collect();
        self.append(tx, &envelopes, verdicts).await?;
        Ok(vec![])
    }
}

/// A bounded metric label: the services Claimtrail knows, `other` for anything a forged envelope claims.
fn metric_label(service: &str) -> &'static str {
    const KNOWN: [&str; 6] = ["intake", "adjudication", "settlement", "anchor", "fraud", "witness"];
    KNOWN.iter().find(|known| **known == service).copied().unwrap_or("other")
}

#[cfg(test)]
mod tests {
    use claimtrail_events::{ClaimsErased, Producer, SealedEvent, Timestamp};
    use claimtrail_store::StoreConfig;
    use sea_orm::TransactionTrait as _;

    use super::*;

    fn envelope(i: usize) -> Envelope {
        let erased = ClaimsErased {
            erasure_id: uuid::Uuid::now_v7(),
            payer_id: "60054".into(),
            claim_ids: Vec::new(),
            requested_by: "test".into(),
            reason: format!("event {i}"),
        };
        let producer = Producer { service: "intake".into(), key_id: "intake-producer+00000000".into() };
        let sealed = SealedEvent::seal(NewEvent::new(erased, format!("e{i}")), 1, producer, [1; 32], Timestamp::now()).expect("seals");
        Envelope::from_bytes(&sealed.bytes).expect("reads back")
    }

    async fn appended(appender: &Appender, store: &Store, batch: &[&Envelope]) {
        let tx = store.db().begin().await.expect("begins");
        appender.handle_batch(&tx, batch).await.expect("appends");
        tx.commit().await.expect("commits");
    }

    /// Without an inbox (`deduplicates_itself`), a redelivered batch and a
    /// batch holding an event twice append each event once, chained on
    /// (the SQLite path; Postgres's COPY path: tests/copy.rs).
    #[tokio::test]
    async fn a_redelivered_event_is_left_out_by_the_ledgers_own_event_ids() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("anchor.db").display());
        let config = StoreConfig { database_url: url, service: "anchor".into(), prefix: String::new(), max_connections: 1, statement_timeout: None };
        let store = Store::connect(&config).await.expect("opens");
        store.migrate(&crate::migrations()).await.expect("migrates");
        let appender = Appender::new(store.clone(), store.clone(), None);
        assert!(appender.deduplicates_itself());
        let events: Vec<Envelope> = (0..6).map(envelope).collect();
        appended(&appender, &store, &[&events[0], &events[1], &events[2]]).await;
        // A redelivery of 1 and 2 beside 3, and 4 twice in one batch.
        appended(&appender, &store, &[&events[1], &events[2], &events[3], &events[4], &events[4]]).await;
        appended(&appender, &store, &[&events[5], &events[0]]).await;
        let rows = storage::entries_between(&store, 0, 100).await.expect("reads the ledger");
        let ids: Vec<uuid::Uuid> = rows.iter().map(|row| row.event_id).collect();
        assert_eq!(ids, events.iter().map(|e| e.event_id).collect::<Vec<_>>(), "each event once, in first-seen order");
        assert_eq!(rows.iter().map(|row| row.index).collect::<Vec<_>>(), (0..6).collect::<Vec<i64>>());
        let (last, _) = storage::tail(&store, store.db()).await.expect("reads the tail").expect("a tail");
        assert_eq!(last, 5);
    }
}
