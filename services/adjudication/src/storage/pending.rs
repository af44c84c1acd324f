//! The rows one consumer batch writes, held in memory and written at its end
//! ([`Writes::flush`]): one multi-row statement per table for all of the
//! batch's claims instead of one (or more) per claim (issue 21).
//!
//! The statements are those the per-claim writes made, with the rows of many
//! claims in one: `decisions`, `claim_order`, `claim_lines`,
//! `accumulator_entries` and `decision_records` as multi-row inserts (chunked
//! under the bind-parameter limits by [`claimtrail_store::insert_rows`]),
//! and the `accumulators` upserts summed per key into one multi-row upsert
//! (a sum of increments applied at once leaves the totals the increments
//! applied one by one leave). The per-claim writes ([`super::insert_decision`]
//! and the others) are these with one claim's rows, flushed at once.
//!
//! A read of a table the held rows would change must see them: the consumer
//! flushes before reading what a held row touches ([`Writes::touches`]: the
//! member, subscriber and family keys of the claims held), and before any
//! event other than an original claim's adjudication. A row held for a key
//! already held (the same claim written twice in one batch) flushes the
//! first before it is held, so that no statement carries one key twice.

use std::collections::{HashMap, HashSet};

use claimtrail_events::{AccumulatorsChanged, ClaimAdjudicated, SubmittedClaim, format_date};
use claimtrail_store::{Store, StoreError};
use sea_orm::{ConnectionTrait, Value};
use uuid::Uuid;

use super::StoredRecord;
use super::batch::{self, HistoryRow};
use super::reprocess::OrderRow;
use crate::domain::HistoryStatus;

/// An accumulator total's key: payer, member (or family subscriber), plan year, bucket.
type TotalKey = (String, String, i64, String);

/// The rows written and not yet flushed, per table, in the order they were written.
#[derive(Default)]
pub struct Writes {
    decisions: Vec<Vec<Value>>,
    orders: Vec<Vec<Value>>,
    lines: Vec<Vec<Value>>,
    entries: Vec<Vec<Value>>,
    records: Vec<Vec<Value>>,
    /// The accumulator increments summed per key, in the order keys were first written.
    totals: Vec<(TotalKey, i64)>,
    total_at: HashMap<TotalKey, usize>,
    /// The claims held in `decisions`, `claim_order`, `claim_lines` and `decision_records`.
    claims: HashSet<Uuid>,
    /// (payer, member / subscriber / family key) of every row held.
    keys: HashSet<(String, String)>,
    /// The same keys of every row held or written since [`Writes::reset_written`] (a flush keeps them).
    written: HashSet<(String, String)>,
}

impl Writes {
    pub fn is_empty(&self) -> bool {
        self.decisions.is_empty()
            && self.orders.is_empty()
            && self.lines.is_empty()
            && self.entries.is_empty()
            && self.records.is_empty()
            && self.totals.is_empty()
    }

    /// Whether a held row is of `payer_id` and one of `ids` (members, subscribers, family keys).
    pub fn touches<'i>(&self, payer_id: &str, ids: impl IntoIterator<Item = &'i str>) -> bool {
        !self.keys.is_empty() && ids.into_iter().any(|id| self.keys.contains(&(payer_id.to_owned(), id.to_owned())))
    }

    /// Whether a row held or written since [`Writes::reset_written`] is of `payer_id` and one of `ids`.
    pub fn written_touches<'i>(&self, payer_id: &str, ids: impl IntoIterator<Item = &'i str>) -> bool {
        !self.written.is_empty() && ids.into_iter().any(|id| self.written.contains(&(payer_id.to_owned(), id.to_owned())))
    }

    /// Forgets what was written (once the batch has read afresh, with nothing held).
    pub fn reset_written(&mut self) {
        debug_assert!(self.is_empty(), "rows held when the batch reads afresh");
        self.written.clear();
    }

    /// Whether a row of `claim_id` is held.
    pub fn holds(&self, claim_id: Uuid) -> bool {
        self.claims.contains(&claim_id)
    }

    fn key(&mut self, payer_id: &str, id: &str) {
        let key = (payer_id.to_owned(), id.to_owned());
        self.written.insert(key.clone());
        self.keys.insert(key);
    }

    /// Holds `claim`'s keys (member and subscriber), so that reads of them flush first.
    pub fn note_claim(&mut self, claim: &SubmittedClaim) {
        self.key(claim.payer_id.as_str(), claim.member_id.as_str());
        if let Some(subscriber) = &claim.subscriber_id {
            self.key(claim.payer_id.as_str(), subscriber.as_str());
        }
    }

    /// A decision (for replays and reversals).
    pub fn decision(&mut self, decision: &ClaimAdjudicated) -> Result<(), StoreError> {
        let decision_json = serde_json::to_string(decision).map_err(|e| StoreError::Corrupt(format!("decision {}: {e}", decision.claim_id)))?;
        let total_paid_cents = decision.total_paid.cents().map_err(|e| StoreError::Corrupt(format!("paid amount of claim {}: {e}", decision.claim_id)))?;
        self.claims.insert(decision.claim_id);
        self.decisions.push(vec![
            Value::from(decision.claim_id),
            Value::from(decision.outcome.as_str()),
            Value::from(decision.rule_set_hash.clone()),
            Value::from(total_paid_cents),
            Value::from(decision_json),
        ]);
        Ok(())
    }

    /// `claim_id`'s place in its family's order.
    pub fn order(&mut self, claim_id: Uuid, order: &OrderRow) {
        self.claims.insert(claim_id);
        self.key(&order.payer_id, &order.family_key);
        self.orders.push(vec![
            Value::from(claim_id),
            Value::from(order.payer_id.clone()),
            Value::from(order.family_key.clone()),
            Value::from(i64::from(order.plan_year)),
            Value::from(order.position),
        ]);
    }

    /// `claim`'s history lines, each with its status; returns them as a later read returns them.
    pub fn lines(&mut self, claim: &SubmittedClaim, status_of: impl Fn(u32) -> HistoryStatus) -> Result<Vec<HistoryRow>, StoreError> {
        let lines = batch::history_rows(claim, status_of)?;
        self.claims.insert(claim.claim_id);
        self.note_claim(claim);
        for line in &lines {
            let fact = &line.fact;
            self.lines.push(vec![
                Value::from(fact.claim_id),
                Value::from(i64::from(fact.sequence)),
                Value::from(line.payer_id.clone()),
                Value::from(line.member_id.clone()),
                Value::from(claim.subscriber_id.as_ref().map(ToString::to_string)),
                Value::from(fact.billing_npi.clone()),
                Value::from(fact.rendering_npi.clone()),
                Value::from(format_date(fact.service_date)),
                Value::from(fact.procedure_code.clone()),
                Value::from(fact.modifiers.join(",")),
                Value::from(fact.units.clone()),
                Value::from(fact.charge.cents().map_err(|e| StoreError::Corrupt(format!("charge of line {}: {e}", fact.sequence)))?),
                Value::from(fact.status.as_str()),
            ]);
        }
        Ok(lines)
    }

    /// One accumulator change: its entries, in order, and the increments of their totals.
    pub fn accumulators(&mut self, changed: &AccumulatorsChanged) -> Result<(), StoreError> {
        for (position, entry) in changed.entries.iter().enumerate() {
            let cents = entry.amount.cents().map_err(|e| StoreError::Corrupt(format!("accumulator amount: {e}")))?;
            self.entries.push(vec![
                Value::from(Uuid::now_v7()),
                Value::from(changed.payer_id.clone()),
                Value::from(changed.change.clone()),
                Value::from(changed.claim_id),
                Value::from(changed.claim_version.map(i64::from)),
                Value::from(changed.source_sha3.clone()),
                Value::from(position as i64),
                Value::from(entry.member_id.clone()),
                Value::from(i64::from(entry.plan_year)),
                Value::from(entry.bucket.clone()),
                Value::from(cents),
            ]);
            self.key(&changed.payer_id, &entry.member_id);
            let key = (changed.payer_id.clone(), entry.member_id.clone(), i64::from(entry.plan_year), entry.bucket.clone());
            match self.total_at.get(&key) {
                Some(at) => self.totals[*at].1 += cents,
                None => {
                    self.total_at.insert(key.clone(), self.totals.len());
                    self.totals.push((key, cents));
                }
            }
        }
        Ok(())
    }

    /// The record of a decision (a claim decided again, after a pend, replaces it).
    pub fn record(&mut self, stored: &StoredRecord, engine_version: &str) -> Result<(), StoreError> {
        let text = |bytes: &[u8], what: &str| {
            String::from_utf8(bytes.to_vec()).map_err(|_| StoreError::Corrupt(format!("{what} of claim {} is not UTF-8", stored.claim_id)))
        };
        self.claims.insert(stored.claim_id);
        self.records.push(vec![
            Value::from(stored.claim_id),
            Value::from(stored.event_type.clone()),
            Value::from(stored.payer_id.clone()),
            Value::from(stored.submitter.clone()),
            Value::from(engine_version.to_owned()),
            Value::from(text(&stored.payload, "payload")?),
            Value::from(text(&stored.record, "record")?),
        ]);
        Ok(())
    }

    /// Writes every row held, one multi-row statement per table (chunked), and forgets them.
    pub async fn flush(&mut self, store: &Store, tx: &impl ConnectionTrait) -> Result<(), StoreError> {
        let written = std::mem::take(&mut self.written);
        let writes = std::mem::take(self);
        self.written = written;
        if writes.is_empty() {
            return Ok(());
        }
        let insert = |table: &str, columns: &str| format!("INSERT INTO {} ({columns}) VALUES ", store.table(table));
        claimtrail_store::insert_rows(store, tx, &insert("decisions", "claim_id, outcome, rule_set_hash, total_paid_cents, decision"), writes.decisions, "")
            .await?;
        claimtrail_store::insert_rows(
            store,
            tx,
            &insert("claim_order", "claim_id, payer_id, family_key, plan_year, position"),
            writes.orders,
            " ON CONFLICT (claim_id) DO NOTHING",
        )
        .await?;
        claimtrail_store::insert_rows(
            store,
            tx,
            &insert(
                "claim_lines",
                "claim_id, sequence, payer_id, member_id, subscriber_id, billing_npi, rendering_npi, service_date, procedure_code, modifiers, units, charge_cents, status",
            ),
            writes.lines,
            " ON CONFLICT (claim_id, sequence) DO UPDATE SET status = excluded.status",
        )
        .await?;
        let totals = writes
            .totals
            .into_iter()
            .map(|((payer_id, member_id, plan_year, bucket), cents)| {
                vec![Value::from(payer_id), Value::from(member_id), Value::from(plan_year), Value::from(bucket), Value::from(cents)]
            })
            .collect();
        claimtrail_store::insert_rows(
            store,
            tx,
            &format!("INSERT INTO {} AS acc (payer_id, member_id, plan_year, bucket, met_cents) VALUES ", store.table("accumulators")),
            totals,
            " ON CONFLICT (payer_id, member_id, plan_year, bucket) DO UPDATE SET met_cents = acc.met_cents + excluded.met_cents",
        )
        .await?;
        claimtrail_store::insert_rows(
            store,
            tx,
            &insert(
                "accumulator_entries",
                "entry_id, payer_id, change_kind, claim_id, claim_version, source_sha3, entry_index, member_id, plan_year, bucket, amount_cents",
            ),
            writes.entries,
            "",
        )
        .await?;
        let records_upsert = format!(
            " ON CONFLICT (claim_id) DO UPDATE SET event_type = excluded.event_type, engine_version = excluded.engine_version, payload = excluded.payload, \
             record = excluded.record, decided_at = {}",
            store.types().now
        );
        claimtrail_store::insert_rows(
            store,
            tx,
            &insert("decision_records", "claim_id, event_type, payer_id, submitter, engine_version, payload, record"),
            writes.records,
            &records_upsert,
        )
        .await?;
        Ok(())
    }
}
