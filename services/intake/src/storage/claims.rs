//! The claims a request stores, their history, the status projection's
//! updates, the claim reads with the HIPAA access log, and erasure.

use std::collections::HashMap;

use claimtrail_events::{AsRead, ClaimStatus, Money, MoneyError, SubmittedClaim};
use claimtrail_runtime::auth::PayerScope;
use claimtrail_store::{Store, StoreError, outbox, stmt};
use sea_orm::{ConnectionTrait, Value};
use uuid::Uuid;

use super::placeholders;

/// A claim's row as a request stores it.
pub struct NewClaim<'a> {
    pub claim_id: Uuid,
    pub submitter: &'a str,
    pub channel: &'a str,
    pub status: ClaimStatus,
    /// As read: a rejected claim may hold values that do not parse.
    pub claim: &'a SubmittedClaim<AsRead>,
    /// The claim's content, kept only for a rejected claim (an accepted one's is in its event).
    pub claim_json: Option<String>,
    pub issues_json: String,
    pub received_at: &'a str,
    /// The original a live replacement or void names.
    pub related_claim_id: Option<String>,
}

impl NewClaim<'_> {
    /// Its row's values; a total that does not fit the cents column is an error, never another amount.
    pub fn row(self) -> Result<Vec<Value>, MoneyError> {
        let claim = self.claim;
        Ok(vec![
            Value::from(self.claim_id),
            Value::from(self.submitter.to_owned()),
            Value::from(self.channel.to_owned()),
            Value::from(self.status.as_str()),
            Value::from(claim.payer_id.clone()),
            Value::from(claim.billing_npi.clone()),
            Value::from(claim.total_charge.cents()?),
            Value::from(self.claim_json),
            Value::from(self.issues_json),
            Value::from(self.received_at.to_owned()),
            Value::from(self.related_claim_id),
            Value::from((!claim.member_id.is_empty()).then(|| claim.member_id.clone())),
        ])
    }
}

/// One step of a claim's story.
pub struct HistoryEntry<'a> {
    pub claim_id: Uuid,
    pub status: ClaimStatus,
    pub event_type: &'a str,
    pub event_id: Uuid,
    pub at: &'a str,
    pub detail: &'a str,
}

/// History rows gathered while storing a request or projecting a batch of
/// events, written in one statement at its end (in order, so `history_id`
/// keeps the story's order).
#[derive(Default)]
pub struct HistoryRows(Vec<Vec<Value>>);

impl HistoryRows {
    pub fn push(&mut self, entry: HistoryEntry<'_>) {
        self.0.push(vec![
            Value::from(entry.claim_id),
            Value::from(entry.status.as_str()),
            Value::from(entry.event_type.to_owned()),
            Value::from(entry.event_id),
            Value::from(entry.at.to_owned()),
            Value::from(entry.detail.to_owned()),
        ]);
    }

    /// Like [`HistoryRows::push`]; a second row for the same event (`secondary`,
    /// the void claim itself) gets a derived event id, as event ids are unique in the history.
    pub fn push_of(&mut self, entry: HistoryEntry<'_>, secondary: bool) {
        if secondary {
            let derived = Uuid::from_u128(entry.event_id.as_u128() ^ entry.claim_id.as_u128());
            self.push(HistoryEntry { event_id: derived, ..entry });
        } else {
            self.push(entry);
        }
    }

    /// Inserts the rows in the caller's transaction.
    pub async fn write(self, store: &Store, tx: &impl ConnectionTrait) -> Result<(), StoreError> {
        let insert = format!("INSERT INTO {} (claim_id, status, event_type, event_id, at, detail) VALUES ", store.table("claim_history"));
        claimtrail_store::insert_rows(store, tx, &insert, self.0, "").await
    }
}

/// Inserts a request's claims rows (from [`NewClaim::row`]), their sealed batch of events and their history, in `tx`.
pub async fn insert_submission(
    store: &Store,
    tx: &impl ConnectionTrait,
    producer: &outbox::ProducerIdentity,
    claim_rows: Vec<Vec<Value>>,
    batch: Option<&outbox::SignedBatch>,
    history: HistoryRows,
) -> Result<(), StoreError> {
    let claims_sql = format!(
        "INSERT INTO {} (claim_id, submitter, channel, status, payer_id, billing_npi, total_charge_cents, claim, issues, received_at, related_claim_id, member_id) VALUES ",
        store.table("claims")
    );
    claimtrail_store::insert_rows(store, tx, &claims_sql, claim_rows, "").await?;
    if let Some(batch) = batch {
        outbox::insert_batch(store, tx, producer, batch).await?;
    }
    history.write(store, tx).await
}

/// The current status of those of `claim_ids` that intake received.
pub async fn statuses(store: &Store, conn: &impl ConnectionTrait, claim_ids: &[Uuid]) -> Result<HashMap<Uuid, ClaimStatus>, StoreError> {
    let mut found = HashMap::with_capacity(claim_ids.len());
    for chunk in claim_ids.chunks(500) {
        let rows = conn
            .query_all_raw(stmt(
                store,
                format!("SELECT claim_id, status FROM {} WHERE claim_id IN ({})", store.table("claims"), placeholders(1, chunk.len())),
                chunk.iter().map(|id| Value::from(*id)).collect(),
            ))
            .await?;
        for row in rows {
            let status: String = row.try_get_by_index(1)?;
            let status = ClaimStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("claim status `{status}`")))?;
            found.insert(row.try_get_by_index(0)?, status);
        }
    }
    Ok(found)
}

/// What a batch of the status projection changes in one claim's row: its
/// latest status and, once decided, its latest decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusUpdate {
    pub status: ClaimStatus,
    /// Outcome, paid cents and the decision's JSON, when an event of the batch decided the claim.
    pub decision: Option<(String, i64, String)>,
}

/// The status projection's changes to the claims rows of one batch, in the
/// order the claims were first touched, written in one statement at its end
/// instead of one UPDATE per event: the row ends as the batch's events, one
/// after the other, would have left it.
#[derive(Default)]
pub struct StatusUpdates {
    order: Vec<Uuid>,
    by_claim: HashMap<Uuid, StatusUpdate>,
}

impl StatusUpdates {
    /// The claim moves to `status` (its decision, if any, stays).
    pub fn set_status(&mut self, claim_id: Uuid, status: ClaimStatus) {
        self.entry(claim_id, status).status = status;
    }

    /// The claim is decided: `adjudicated`, its outcome, what it pays and the decision itself.
    pub fn set_adjudicated(&mut self, claim_id: Uuid, outcome: &str, paid_cents: i64, decision_json: String) {
        let update = self.entry(claim_id, ClaimStatus::Adjudicated);
        update.status = ClaimStatus::Adjudicated;
        update.decision = Some((outcome.to_owned(), paid_cents, decision_json));
    }

    fn entry(&mut self, claim_id: Uuid, status: ClaimStatus) -> &mut StatusUpdate {
        let order = &mut self.order;
        self.by_claim.entry(claim_id).or_insert_with(|| {
            order.push(claim_id);
            StatusUpdate { status, decision: None }
        })
    }

    /// The pending change of `claim_id`, if the batch changed it.
    pub fn get(&self, claim_id: Uuid) -> Option<&StatusUpdate> {
        self.by_claim.get(&claim_id)
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Updates the rows in the caller's transaction: one statement per
    /// [`Store::rows_per_insert`] claims (a CTE of the new values joined to
    /// the table; a claim not decided in the batch keeps its decision).
    pub async fn write(mut self, store: &Store, tx: &impl ConnectionTrait) -> Result<(), StoreError> {
        let rows: Vec<Vec<Value>> = self
            .order
            .iter()
            .filter_map(|claim_id| self.by_claim.remove(claim_id).map(|update| (*claim_id, update)))
            .map(|(claim_id, update)| {
                let (outcome, paid, decision) = match update.decision {
                    Some((outcome, paid, decision)) => (Some(outcome), Some(paid), Some(decision)),
                    None => (None, None, None),
                };
                vec![Value::from(claim_id), Value::from(update.status.as_str()), Value::from(outcome), Value::from(paid), Value::from(decision)]
            })
            .collect();
        let head = "WITH v (claim_id, status, outcome, total_paid_cents, decision) AS (VALUES ";
        let tail = format!(
            ") UPDATE {} AS c SET status = v.status, outcome = COALESCE(v.outcome, c.outcome), \
             total_paid_cents = COALESCE(v.total_paid_cents, c.total_paid_cents), decision = COALESCE(v.decision, c.decision), updated_at = {} \
             FROM v WHERE c.claim_id = v.claim_id",
            store.table("claims"),
            store.types().now
        );
        claimtrail_store::insert_rows(store, tx, head, rows, &tail).await
    }
}

/// A claim as intake shows it.
pub struct StoredClaim {
    pub submitter: String,
    pub channel: String,
    pub status: String,
    pub outcome: Option<String>,
    pub payer_id: Option<String>,
    pub billing_npi: Option<String>,
    pub total_charge: Option<Money>,
    pub total_paid: Option<Money>,
    /// A rejected claim's content (an accepted one's is in its `claim.submitted.v1` event).
    pub claim: Option<String>,
    pub issues: String,
    pub decision: Option<String>,
    pub received_at: String,
    pub erased_at: Option<String>,
}

/// The claim `claim_id`, if intake received it.
pub async fn claim(store: &Store, claim_id: Uuid) -> Result<Option<StoredClaim>, StoreError> {
    let row = store
        .reader()
        .query_one_raw(stmt(
            store,
            format!(
                "SELECT submitter, channel, status, outcome, payer_id, billing_npi, total_charge_cents, total_paid_cents, claim, issues, decision, \
                 received_at, erased_at FROM {} WHERE claim_id = $1",
                store.table("claims")
            ),
            vec![Value::from(claim_id)],
        ))
        .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(StoredClaim {
        submitter: row.try_get_by_index(0)?,
        channel: row.try_get_by_index(1)?,
        status: row.try_get_by_index(2)?,
        outcome: row.try_get_by_index(3)?,
        payer_id: row.try_get_by_index(4)?,
        billing_npi: row.try_get_by_index(5)?,
        total_charge: row.try_get_by_index::<Option<i64>>(6)?.map(Money::from_cents),
        total_paid: row.try_get_by_index::<Option<i64>>(7)?.map(Money::from_cents),
        claim: row.try_get_by_index(8)?,
        issues: row.try_get_by_index(9)?,
        decision: row.try_get_by_index(10)?,
        received_at: row.try_get_by_index(11)?,
        erased_at: row.try_get_by_index(12)?,
    }))
}

/// One stored step of a claim's history.
pub struct StoredStep {
    pub status: String,
    pub event_type: String,
    pub event_id: Uuid,
    pub at: String,
    pub detail: String,
}

/// A claim's history, oldest first.
pub async fn history(store: &Store, claim_id: Uuid) -> Result<Vec<StoredStep>, StoreError> {
    let rows = store
        .reader()
        .query_all_raw(stmt(
            store,
            format!("SELECT status, event_type, event_id, at, detail FROM {} WHERE claim_id = $1 ORDER BY history_id", store.table("claim_history")),
            vec![Value::from(claim_id)],
        ))
        .await?;
    let mut steps = Vec::with_capacity(rows.len());
    for h in rows {
        steps.push(StoredStep {
            status: h.try_get_by_index(0)?,
            event_type: h.try_get_by_index(1)?,
            event_id: h.try_get_by_index(2)?,
            at: h.try_get_by_index(3)?,
            detail: h.try_get_by_index(4)?,
        });
    }
    Ok(steps)
}

/// Which claims a listing shows.
pub struct ListFilter<'a> {
    /// The caller: its own submissions.
    pub submitter: &'a str,
    /// For auditors and admins, the payers whose claims the key also reads.
    pub scope: Option<&'a PayerScope>,
    pub status: Option<ClaimStatus>,
    /// A stored timestamp: received at or after it.
    pub since: Option<String>,
    pub after: Option<Uuid>,
    /// Rows to read, at most.
    pub limit: u64,
}

/// One claim of a listing.
pub struct ListedClaim {
    pub claim_id: Uuid,
    pub status: String,
    pub outcome: Option<String>,
    pub received_at: String,
    pub total_charge: Option<Money>,
    pub total_paid: Option<Money>,
}

/// The claims `filter` selects, by claim id.
pub async fn list(store: &Store, filter: &ListFilter<'_>) -> Result<Vec<ListedClaim>, StoreError> {
    let mut conditions = Vec::new();
    let mut values = Vec::new();
    // Its own submissions, and for auditors and admins the claims of the payers the key reads.
    match filter.scope {
        Some(PayerScope::All) => {}
        Some(scope @ PayerScope::Only(payer_ids)) if !payer_ids.is_empty() => {
            values.push(Value::from(filter.submitter.to_owned()));
            let in_scope = scope.sql_condition("payer_id", &mut values).unwrap_or_default();
            conditions.push(format!("(submitter = $1 OR {in_scope})"));
        }
        _ => {
            values.push(Value::from(filter.submitter.to_owned()));
            conditions.push("submitter = $1".to_owned());
        }
    }
    if let Some(status) = filter.status {
        values.push(Value::from(status.as_str()));
        conditions.push(format!("status = ${}", values.len()));
    }
    if let Some(since) = &filter.since {
        values.push(Value::from(since.clone()));
        conditions.push(format!("received_at >= ${}", values.len()));
    }
    if let Some(after) = filter.after {
        values.push(Value::from(after));
        conditions.push(format!("claim_id > ${}", values.len()));
    }
    let where_clause = if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
    let rows = store
        .reader()
        .query_all_raw(stmt(
            store,
            format!(
                "SELECT claim_id, status, outcome, received_at, total_charge_cents, total_paid_cents FROM {} {where_clause} ORDER BY claim_id LIMIT {}",
                store.table("claims"),
                filter.limit
            ),
            values,
        ))
        .await?;
    let mut claims = Vec::with_capacity(rows.len());
    for row in rows {
        claims.push(ListedClaim {
            claim_id: row.try_get_by_index(0)?,
            status: row.try_get_by_index(1)?,
            outcome: row.try_get_by_index(2)?,
            received_at: row.try_get_by_index(3)?,
            total_charge: row.try_get_by_index::<Option<i64>>(4)?.map(Money::from_cents),
            total_paid: row.try_get_by_index::<Option<i64>>(5)?.map(Money::from_cents),
        });
    }
    Ok(claims)
}

/// Records a read of claims (HIPAA access log): who, which claims, which view, when; on `conn`
/// (the store for intake's own reads, the consumer's transaction for reads through another service).
pub async fn record_access(store: &Store, conn: &impl ConnectionTrait, tenant: &str, key_id: &str, claim_ids: &[Uuid], view: &str) -> Result<(), StoreError> {
    for chunk in claim_ids.chunks(500) {
        let mut values = vec![Value::from(tenant.to_owned()), Value::from(key_id.to_owned()), Value::from(view.to_owned())];
        let rows: Vec<String> = chunk
            .iter()
            .map(|claim_id| {
                values.push(Value::from(*claim_id));
                format!("(${}, $1, $2, $3)", values.len())
            })
            .collect();
        conn.execute_raw(stmt(
            store,
            format!("INSERT INTO {} (claim_id, reader_tenant, reader_key_id, view) VALUES {}", store.table("access_log"), rows.join(",")),
            values,
        ))
        .await?;
    }
    Ok(())
}

/// Which reads the access log shows.
pub struct AccessFilter<'a> {
    /// The payers whose claims' reads the key sees.
    pub scope: &'a PayerScope,
    pub claim_id: Option<Uuid>,
    pub reader: Option<String>,
    /// Entries after this access id.
    pub after: i64,
    pub limit: u64,
}

/// One read of a claim.
pub struct AccessEntry {
    pub access_id: i64,
    pub claim_id: Uuid,
    pub reader_tenant: String,
    pub reader_key_id: String,
    pub view: String,
    pub at: String,
}

/// The reads `filter` selects, oldest first.
pub async fn access_log(store: &Store, filter: &AccessFilter<'_>) -> Result<Vec<AccessEntry>, StoreError> {
    let mut conditions = vec!["access_id > $1".to_owned()];
    let mut values = vec![Value::from(filter.after)];
    // Reads of the claims of the payers the key reads only.
    if let Some(in_scope) = filter.scope.sql_condition("payer_id", &mut values) {
        conditions.push(format!("claim_id IN (SELECT claim_id FROM {} WHERE {in_scope})", store.table("claims")));
    }
    if let Some(claim_id) = filter.claim_id {
        values.push(Value::from(claim_id));
        conditions.push(format!("claim_id = ${}", values.len()));
    }
    if let Some(reader) = &filter.reader {
        values.push(Value::from(reader.clone()));
        conditions.push(format!("reader_tenant = ${}", values.len()));
    }
    let rows = store
        .reader()
        .query_all_raw(stmt(
            store,
            format!(
                "SELECT access_id, claim_id, reader_tenant, reader_key_id, view, CAST(at AS TEXT) FROM {} WHERE {} ORDER BY access_id LIMIT {}",
                store.table("access_log"),
                conditions.join(" AND "),
                filter.limit
            ),
            values,
        ))
        .await?;
    let mut entries = Vec::with_capacity(rows.len());
    for row in rows {
        entries.push(AccessEntry {
            access_id: row.try_get_by_index(0)?,
            claim_id: row.try_get_by_index(1)?,
            reader_tenant: row.try_get_by_index(2)?,
            reader_key_id: row.try_get_by_index(3)?,
            view: row.try_get_by_index(4)?,
            at: row.try_get_by_index(5)?,
        });
    }
    Ok(entries)
}

/// The member's claims not erased yet, by id, with their status.
pub async fn member_claims(store: &Store, tx: &impl ConnectionTrait, payer_id: &str, member_id: &str) -> Result<Vec<(Uuid, String)>, StoreError> {
    let rows = tx
        .query_all_raw(stmt(
            store,
            format!("SELECT claim_id, status FROM {} WHERE payer_id = $1 AND member_id = $2 AND erased_at IS NULL ORDER BY claim_id", store.table("claims")),
            vec![Value::from(payer_id.to_owned()), Value::from(member_id.to_owned())],
        ))
        .await?;
    let mut claims = Vec::with_capacity(rows.len());
    for row in rows {
        claims.push((row.try_get_by_index(0)?, row.try_get_by_index(1)?));
    }
    Ok(claims)
}

/// Removes the PHI of `claim_ids` from the claims and their history: the
/// submitted claim, the member id, the edit messages; status, amounts and
/// billing provider stay.
pub async fn erase(store: &Store, tx: &impl ConnectionTrait, claim_ids: &[Uuid], erased_at: &str) -> Result<(), StoreError> {
    let claims = store.table("claims");
    for chunk in claim_ids.chunks(500) {
        let list = placeholders(2, chunk.len());
        let ids = || chunk.iter().map(|id| Value::from(*id));
        let mut values = vec![Value::from(erased_at.to_owned())];
        values.extend(ids());
        tx.execute_raw(stmt(
            store,
            format!("UPDATE {claims} SET claim = NULL, member_id = NULL, issues = '[]', erased_at = $1 WHERE claim_id IN ({list})"),
            values,
        ))
        .await?;
        let mut values = vec![Value::from("erased on request".to_owned())];
        values.extend(ids());
        tx.execute_raw(stmt(store, format!("UPDATE {} SET detail = $1 WHERE claim_id IN ({list})", store.table("claim_history")), values)).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_leaves_each_claim_as_its_events_in_order_would() {
        let (first, second) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let mut updates = StatusUpdates::default();
        assert!(updates.is_empty());
        updates.set_status(second, ClaimStatus::Pended);
        updates.set_adjudicated(first, "paid", 1_250, "{\"a\":1}".to_owned());
        updates.set_status(first, ClaimStatus::Paid);
        updates.set_adjudicated(second, "denied", 0, "{\"b\":2}".to_owned());
        // Decided, then booked: paid, and the decision stays.
        assert_eq!(updates.get(first), Some(&StatusUpdate { status: ClaimStatus::Paid, decision: Some(("paid".to_owned(), 1_250, "{\"a\":1}".to_owned())) }));
        assert_eq!(
            updates.get(second),
            Some(&StatusUpdate { status: ClaimStatus::Adjudicated, decision: Some(("denied".to_owned(), 0, "{\"b\":2}".to_owned())) })
        );
        // Decided again (a replacement's ripple): the later decision stands.
        updates.set_adjudicated(first, "partial", 600, "{\"a\":2}".to_owned());
        assert_eq!(
            updates.get(first),
            Some(&StatusUpdate { status: ClaimStatus::Adjudicated, decision: Some(("partial".to_owned(), 600, "{\"a\":2}".to_owned())) })
        );
        // One row per claim, in the order the claims were first touched.
        assert_eq!(updates.order, vec![second, first]);
        assert_eq!(updates.get(Uuid::from_u128(3)), None);
    }
}
