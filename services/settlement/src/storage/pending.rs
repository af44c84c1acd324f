//! The rows one run of a consumer batch writes, held in memory and written
//! at its end ([`Writes::flush`]): one multi-row statement per table for all
//! of its claims instead of several per claim (issue 21).
//!
//! The statements are those the per-event writes make
//! ([`super::payments::upsert_claim_ref`], [`super::payments::insert_payable`],
//! [`super::insert_entry`]) with the rows of many events in one, in the
//! order the events came, chunked under the bind-parameter limits by
//! [`claimtrail_store::insert_rows`]. The consumer holds at most one booking
//! per claim ([`crate::consumer`] starts a new run at a claim's second), so
//! no statement carries a key twice; a claim's reference is held once, the
//! first (the upsert keeps the first too).

use std::collections::HashSet;

use claimtrail_store::{Store, StoreError};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::payments::{self, ClaimRef};
use crate::domain::Entry;
use crate::domain::payment_run::Payable;

/// The rows written and not yet flushed, per table, in the order they were written.
#[derive(Default)]
pub struct Writes {
    claim_refs: Vec<(Uuid, ClaimRef)>,
    claims_referenced: HashSet<Uuid>,
    payables: Vec<Payable>,
    entries: Vec<Entry>,
}

impl Writes {
    pub fn is_empty(&self) -> bool {
        self.claim_refs.is_empty() && self.payables.is_empty() && self.entries.is_empty()
    }

    /// A claim's reference from its submission; a second of the same claim changes nothing (as the upsert).
    pub fn claim_ref(&mut self, claim_id: Uuid, claim_ref: ClaimRef) {
        if self.claims_referenced.insert(claim_id) {
            self.claim_refs.push((claim_id, claim_ref));
        }
    }

    /// A decision's, correction's or reversal's payable.
    pub fn payable(&mut self, payable: Payable) {
        self.payables.push(payable);
    }

    /// A journal entry with its lines.
    pub fn entry(&mut self, entry: Entry) {
        self.entries.push(entry);
    }

    /// Writes every row held (claim references, payables and their lines,
    /// journal entries and their lines: one multi-row statement each, chunked)
    /// and forgets them.
    pub async fn flush(&mut self, store: &Store, tx: &impl ConnectionTrait) -> Result<(), StoreError> {
        let writes = std::mem::take(self);
        if writes.is_empty() {
            return Ok(());
        }
        payments::upsert_claim_refs(store, tx, &writes.claim_refs).await?;
        payments::insert_payables(store, tx, &writes.payables).await?;
        super::insert_entries(store, tx, &writes.entries).await?;
        Ok(())
    }
}
