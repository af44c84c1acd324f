//! Adjudication's consumer: `claim.submitted.v1` in; for each claim, load
//! the facts ([`storage`]), decide ([`domain::decide`]) and persist the
//! decision, its record and the events it causes, in the batch's
//! transaction. `member.enrolled.v1`, `provider.enrolled.v1` and
//! `payer.registered.v1` in: a new version in the registry projections,
//! recorded at the time adjudication learned it.
//!
//! The registry and the claims travel on different streams, so a claim may
//! arrive before its member's enrollment: intake accepted it against its own
//! registry, so on Postgres the consumer waits up to [`REGISTRY_WAIT`] for a
//! missing member, provider or payer to be recorded before deciding without
//! it (a missing member or payer pends the claim; a missing provider denies
//! CO-B7). On SQLite one connection writes, so waiting would only delay.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use claimtrail_events::canonical::to_canonical_vec;
use claimtrail_events::{
    ClaimReprocessingQueued, ClaimReviewed, ClaimSubmitted, ClaimsErased, DomainEvent, Envelope, Family, Frequency, MemberEnrolled, NewEvent, PayerRegistered,
    ProviderEnrolled, Timestamp,
};
use claimtrail_runtime::{EventHandler, HandlerError};
use claimtrail_store::Store;
use sea_orm::DatabaseTransaction;
use tracing::Instrument as _;

use crate::domain::{self, Command, DecisionRecord, DecisionState, Event, Facts, FeeSchedule, HistoryStatus, RegistryFacts};
use crate::storage::{self, StoredRecord};

pub mod benefits;
pub mod policies;
pub mod reprocess;
#[cfg(test)]
mod tests;

pub use policies::{BatchPolicies, PolicyCache};

/// How long a claim waits for a member, provider or payer its registry does not hold yet (Postgres).
pub const REGISTRY_WAIT: Duration = Duration::from_secs(3);

/// The event handler of adjudication.
pub struct Adjudicator {
    store: Store,
    /// Parsed policy versions, by content hash, for the life of the process.
    policies: std::sync::Arc<PolicyCache>,
    /// Compiled benefit plans, by content hash, for the life of the process.
    plans: std::sync::Arc<benefits::PlanCache>,
}

impl Adjudicator {
    pub fn new(store: Store) -> Adjudicator {
        Adjudicator { store, policies: std::sync::Arc::default(), plans: std::sync::Arc::default() }
    }
}

/// What one batch reads once: each payer's legacy fee schedule, each
/// payer's policy in force per date, and the registry facts and claim
/// history of all its claims (one query per table, [`storage::batch`]).
#[derive(Default)]
pub struct BatchFacts {
    schedules: Schedules,
    policies: BatchPolicies,
    /// The batch's claims, whose registry facts and history are read together.
    claims: Vec<claimtrail_events::SubmittedClaim>,
    registry: HashMap<uuid::Uuid, RegistryFacts>,
    history: storage::batch::BatchHistory,
    /// The batch's history is over [`storage::batch::BATCH_HISTORY_ROWS_MAX`] rows: read per claim.
    history_per_claim: bool,
    /// What the batch's original claims wrote, written at the batch's end
    /// (or before a read of what it touches): [`storage::pending`].
    writes: storage::pending::Writes,
    /// Family sizes, accumulators, family places and 365-day counts, read once for the batch's claims.
    reads: benefits::BatchReads,
    /// The claim being decided takes what it reads from `reads` (nothing written since touches it).
    served: bool,
}

impl BatchFacts {
    /// The batch of `events`: its claims noted, nothing read yet.
    fn of(events: &[&Envelope]) -> BatchFacts {
        let claims = events
            .iter()
            .filter_map(|envelope| match envelope.domain_event() {
                Ok(DomainEvent::ClaimSubmitted(submitted)) => Some(submitted.claim),
                _ => None,
            })
            .collect();
        BatchFacts { claims, ..BatchFacts::default() }
    }

    /// `claim` and the batch's other claims: what one read covers.
    fn with_others<'c>(
        &'c self,
        claim: &'c claimtrail_events::SubmittedClaim,
        skip: impl Fn(uuid::Uuid) -> bool,
    ) -> Vec<&'c claimtrail_events::SubmittedClaim> {
        let mut claims = vec![claim];
        claims.extend(self.claims.iter().filter(|other| other.claim_id != claim.claim_id && !skip(other.claim_id)));
        claims
    }

    /// What the batch read of the registry and history no longer holds (an erasure, a registry event).
    fn forget(&mut self) {
        self.registry.clear();
        self.reads.clear();
        self.history = storage::batch::BatchHistory::default();
    }
}

#[async_trait]
impl EventHandler for Adjudicator {
    fn families(&self) -> Vec<Family> {
        vec![Family::Claims, Family::Reference]
    }

    fn event_types(&self) -> Option<&'static [&'static str]> {
        Some(&[
            ClaimSubmitted::EVENT_TYPE,
            ClaimReviewed::EVENT_TYPE,
            ClaimReprocessingQueued::EVENT_TYPE,
            ClaimsErased::EVENT_TYPE,
            MemberEnrolled::EVENT_TYPE,
            ProviderEnrolled::EVENT_TYPE,
            PayerRegistered::EVENT_TYPE,
        ])
    }

    /// The claims of one subscriber's family are decided in order: one consumer per partition.
    fn partitioned(&self) -> bool {
        true
    }

    async fn handle(&self, tx: &DatabaseTransaction, envelope: &Envelope) -> Result<Vec<NewEvent>, HandlerError> {
        let mut batch = BatchFacts::default();
        let outgoing = self.handle_with(tx, envelope, &mut batch).await?;
        batch.writes.flush(&self.store, tx).await?;
        Ok(outgoing)
    }

    /// Each event as [`EventHandler::handle`] does, with each payer's fee
    /// schedule read once for the whole batch (its transaction).
    async fn handle_batch(&self, tx: &DatabaseTransaction, events: &[&Envelope]) -> Result<Vec<NewEvent>, HandlerError> {
        let mut batch = BatchFacts::of(events);
        let mut outgoing = Vec::new();
        for envelope in events {
            let span = claimtrail_runtime::event_span(envelope);
            let caused = self.handle_with(tx, envelope, &mut batch).instrument(span.clone()).await?;
            outgoing.extend(claimtrail_runtime::consumer::continue_trace(caused, envelope, &span));
        }
        batch.writes.flush(&self.store, tx).await?;
        Ok(outgoing)
    }
}

/// The fee schedules read in one batch, by payer (`None`: the payer has none).
type Schedules = HashMap<String, Option<FeeSchedule>>;

impl Adjudicator {
    async fn handle_with(&self, tx: &DatabaseTransaction, envelope: &Envelope, batch: &mut BatchFacts) -> Result<Vec<NewEvent>, HandlerError> {
        let store = &self.store;
        // Only an original claim's adjudication leaves its writes held (it flushes what it reads itself).
        if envelope.event_type != ClaimSubmitted::EVENT_TYPE {
            batch.writes.flush(store, tx).await?;
            // What it writes beside them (reversals, ripples, erasures) the batch reads afresh.
            batch.reads.clear();
        }
        if claimtrail_runtime::erasure::apply(store, tx, envelope).await? {
            if let Ok(DomainEvent::ClaimsErased(erasure)) = envelope.domain_event() {
                storage::erase_claims(store, tx, &erasure.claim_ids).await?;
                batch.forget();
            }
            return Ok(vec![]);
        }
        let recorded_at = Timestamp::now();
        let event = envelope.domain_event().map_err(|e| HandlerError::Invalid(e.to_string()))?;
        if matches!(event, DomainEvent::MemberEnrolled(_) | DomainEvent::ProviderEnrolled(_) | DomainEvent::PayerRegistered(_)) {
            // Later claims of the batch read the registry (and so their history) afresh.
            batch.forget();
        }
        match event {
            DomainEvent::ClaimSubmitted(submitted) => self.adjudicate(tx, envelope, submitted, batch).await,
            DomainEvent::ClaimReviewed(review) => self.review(tx, envelope, review, batch).await,
            DomainEvent::ClaimReprocessingQueued(queued) => self.reprocess(tx, envelope, queued, batch).await,
            DomainEvent::MemberEnrolled(member) => {
                let before = storage::member(store, tx, &member.payer_id, &member.member_id, None).await?;
                storage::record_member(store, tx, envelope.event_id, &member, envelope.occurred_at, recorded_at).await?;
                // A late date of death or a retroactive termination reprocesses the claims it affects.
                self.member_corrected(tx, &member.payer_id, &member.member_id, before.as_ref()).await
            }
            DomainEvent::ProviderEnrolled(enrolled) => {
                storage::record_provider(store, tx, envelope.event_id, &enrolled, envelope.occurred_at, recorded_at).await?;
                Ok(vec![])
            }
            DomainEvent::PayerRegistered(payer) => {
                storage::record_payer(store, tx, envelope.event_id, &payer, envelope.occurred_at, recorded_at).await?;
                Ok(vec![])
            }
            _ => Ok(vec![]),
        }
    }

    /// The registry facts of `claim`, read with the batch's other claims,
    /// waiting (Postgres) up to [`REGISTRY_WAIT`] for any that are missing.
    async fn registry_facts(&self, claim: &claimtrail_events::SubmittedClaim, batch: &mut BatchFacts) -> Result<RegistryFacts, HandlerError> {
        let store = &self.store;
        if !batch.registry.contains_key(&claim.claim_id) {
            let claims = batch.with_others(claim, |other| batch.registry.contains_key(&other));
            let read = storage::batch::registry_facts_of(store, store.reader(), &claims).await?;
            batch.registry.extend(read);
        }
        let facts = batch.registry.get(&claim.claim_id).cloned().unwrap_or_default();
        if facts.member.is_some() && facts.provider.is_some() && facts.payer.is_some() || !store.is_postgres() {
            return Ok(facts);
        }
        let deadline = tokio::time::Instant::now() + REGISTRY_WAIT;
        loop {
            let facts = storage::registry_facts(store, store.reader(), claim).await?;
            let complete = facts.member.is_some() && facts.provider.is_some() && facts.payer.is_some();
            if complete || !store.is_postgres() || tokio::time::Instant::now() >= deadline {
                return Ok(facts);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The member's history `claim` reads within `reach`: from the batch's
    /// one read (made at its first claim), or per claim when the batch's is
    /// too large or the claim also reads an authorization's dates.
    async fn claim_history(
        &self,
        tx: &DatabaseTransaction,
        claim: &claimtrail_events::SubmittedClaim,
        reach: &domain::HistoryReach,
        batch: &mut BatchFacts,
    ) -> Result<Vec<domain::HistoryFact>, HandlerError> {
        let store = &self.store;
        if batch.history_per_claim || !reach.authorized.is_empty() {
            batch.writes.flush(store, tx).await?;
            return Ok(storage::claim_history(store, tx, claim, reach).await?);
        }
        if !batch.history.covers(claim.claim_id) {
            batch.writes.flush(store, tx).await?;
            let claims = batch.with_others(claim, |other| batch.history.covers(other));
            match storage::batch::history_of(store, tx, &claims).await? {
                Some(rows) => {
                    let claim_ids: Vec<uuid::Uuid> = claims.iter().map(|claim| claim.claim_id).collect();
                    batch.history.read(&claim_ids, rows);
                }
                None => {
                    batch.history_per_claim = true;
                    return Ok(storage::claim_history(store, tx, claim, reach).await?);
                }
            }
        }
        Ok(batch.history.history(claim))
    }

    async fn adjudicate(
        &self,
        tx: &DatabaseTransaction,
        envelope: &Envelope,
        submitted: ClaimSubmitted,
        batch: &mut BatchFacts,
    ) -> Result<Vec<NewEvent>, HandlerError> {
        let store = &self.store;
        let ClaimSubmitted { claim, submitter, received_at, .. } = submitted;
        // An original claim's writes are held to the batch's end; a replacement or void reads and
        // changes earlier decisions, so it starts from everything written and writes at once.
        let defer = claim.frequency == Frequency::Original;
        if !defer {
            batch.writes.flush(store, tx).await?;
            batch.reads.clear();
        }
        let schedules = &mut batch.schedules;
        if !schedules.contains_key(claim.payer_id.as_str()) {
            schedules.insert(claim.payer_id.to_string(), storage::pricing_schedule(store, tx, &claim.payer_id).await?);
        }
        // The policy in force on the claim's first date of service (one version per table per claim).
        let policy = match domain::policy_date(&claim) {
            Some(date) if claim.frequency != Frequency::Void => Some(batch.policies.get(&self.policies, store, tx, &claim.payer_id, date).await?),
            _ => None,
        };
        let policy = policy.filter(|policy| !policy.is_empty());
        let registry = if claim.frequency == Frequency::Void { RegistryFacts::default() } else { self.registry_facts(&claim, batch).await? };
        // What this claim reads of its member's and family's history, accumulators and order must see
        // the batch's earlier claims of the same member or family: written first when held.
        let payer_id = claim.payer_id.as_str();
        let family = registry.member.as_ref().and_then(|member| member.subscriber_id.as_deref());
        let keys: Vec<&str> = [claim.member_id.as_str()].into_iter().chain(claim.subscriber_id.as_deref()).chain(family).collect();
        if batch.writes.touches(payer_id, keys.iter().copied()) {
            batch.writes.flush(store, tx).await?;
        }
        // An original claim takes its family size, accumulators, family place and counts from the
        // batch's one read of them, unless the batch wrote its member's or family's since.
        let rule_set = policy.as_deref().is_some_and(|policy| policy.rule_set.is_some());
        batch.served = false;
        if defer {
            if !batch.reads.covers(payer_id, keys.iter().copied()) {
                batch.writes.flush(store, tx).await?;
                batch.writes.reset_written();
                let mut claims = vec![&claim];
                claims.extend(batch.claims.iter().filter(|other| other.claim_id != claim.claim_id && other.frequency == Frequency::Original));
                batch.reads.read(store, tx, &claims, &batch.registry, rule_set).await?;
            }
            batch.served = !batch.writes.written_touches(payer_id, keys.iter().copied());
        }
        let authorizations = policy.as_deref().and_then(|policy| policy.prior_authorizations.as_ref()).map(|table| &*table.table);
        let history = self.claim_history(tx, &claim, &domain::HistoryReach::of(&claim, authorizations), batch).await?;
        // The rule set's 365-day counts, counted in this transaction (so the batch's earlier decisions count).
        let history_counts = match policy.as_deref().and_then(|policy| policy.rule_set.as_ref()) {
            Some(_) => match batch.reads.counts(claim.claim_id).filter(|_| batch.served) {
                Some(counts) => Some(counts.clone()),
                None => Some(storage::history_counts(store, tx, &claim).await?),
            },
            None => None,
        };
        // What a replacement or void reverses: the claim it names, or the version a correction decided in its place.
        let original_id = match domain::related_claim(&claim) {
            Some(named) if claim.frequency != Frequency::Original => Some(storage::reprocess::standing_version(store, tx, named).await?),
            _ => None,
        };
        let versions = match domain::policy_date(&claim) {
            Some(date) if claim.frequency != Frequency::Void => batch.policies.versions(payer_id, date),
            _ => None,
        };
        let known = benefits::Known { versions: versions.as_deref().map(Vec::as_slice), reads: batch.served.then_some(&batch.reads) };
        let reversing = original_id.filter(|_| claim.frequency != Frequency::Original);
        let benefits = self.plans.facts_known(store, tx, &claim, &registry, reversing, &known).await?;
        // The family's claims decided after the original in its plan year: taken back before the
        // replacement is decided in the original's place, then decided again after it (domain::ripple).
        let later = match original_id {
            Some(original_id) => self.later_than(tx, original_id).await?,
            None => Vec::new(),
        };
        // The clock the decision runs under, read here and handed to the pure core.
        let decided_on = Timestamp::now().date();
        let command = Command::Adjudicate(claim);
        let Command::Adjudicate(claim) = &command;
        // Decided at most twice: a replacement that loses the race to reverse its original (another
        // replacement reversed it meanwhile) is decided again against what the winner left.
        for _ in 0..2 {
            let original = match original_id {
                Some(original_id) => storage::decision_state(store, tx, original_id).await?,
                None => DecisionState::Undecided,
            };
            let later: &[uuid::Uuid] = if matches!(original, DecisionState::Decided { .. }) { &later } else { &[] };
            let mut benefits = benefits.clone();
            if !later.is_empty() {
                let mut taken_back = Vec::with_capacity(later.len());
                for later_id in later {
                    taken_back.extend(storage::applied_accumulators(store, tx, claim.payer_id.as_str(), *later_id).await?);
                }
                benefits.position = domain::ripple::without(&benefits.position, &taken_back.iter().collect::<Vec<_>>())
                    .map_err(|rejection| HandlerError::Unexpected(anyhow::anyhow!("claim {}: {rejection}", claim.claim_id)))?;
            }
            let facts = Facts {
                schedule: batch.schedules[claim.payer_id.as_str()].as_ref(),
                policy: policy.as_deref(),
                original,
                registry: registry.clone(),
                history: history.clone(),
                history_counts: history_counts.clone(),
                received_on: received_at.date(),
                decided_on,
                benefits,
                review: None,
                appeal: None,
            };
            let events = domain::decide(&facts, &command).map_err(|rejection| {
                if rejection.is_retryable() {
                    HandlerError::Unexpected(anyhow::anyhow!("{rejection}; retrying"))
                } else {
                    HandlerError::Invalid(rejection.to_string())
                }
            })?;
            let record = DecisionRecord::of(&facts, claim, &submitter);
            let reversed = events.iter().any(|event| matches!(event, Event::Reversed(_)));
            if let Some(mut outgoing) = self.persist(tx, envelope, claim, &record, events, batch, defer).await? {
                if reversed && !later.is_empty() {
                    let (_, rippled) = self.ripple(tx, envelope, later, claim.claim_id, batch).await?;
                    outgoing.extend(rippled);
                }
                return Ok(outgoing);
            }
        }
        Err(HandlerError::Unexpected(anyhow::anyhow!("claim {} could not reverse its original twice in a row; retrying", claim.claim_id)))
    }

    /// Decides a pended claim on its reviewer's decision (`claim.reviewed.v1`),
    /// on the facts its pend recorded, with the member's plan and accumulators
    /// as they stand now. A claim that is no longer pended (decided by an
    /// earlier review) is left alone.
    async fn review(
        &self,
        tx: &DatabaseTransaction,
        envelope: &Envelope,
        review: ClaimReviewed,
        batch: &mut BatchFacts,
    ) -> Result<Vec<NewEvent>, HandlerError> {
        let store = &self.store;
        let Some(stored) = storage::record(store, tx, review.claim_id).await? else {
            tracing::warn!(claim_id = %review.claim_id, "a review of a claim adjudication never decided; ignored");
            return Ok(vec![]);
        };
        if matches!(review.action.as_str(), domain::appeal::UPHOLD | domain::appeal::OVERTURN) {
            return self.decide_appeal(tx, envelope, review, stored, batch).await;
        }
        if stored.event_type != claimtrail_events::ClaimPended::EVENT_TYPE {
            tracing::info!(claim_id = %review.claim_id, "a review of a claim no longer pended; ignored");
            return Ok(vec![]);
        }
        let pended: DecisionRecord = serde_json::from_slice(&stored.record)
            .map_err(|e| HandlerError::Unexpected(anyhow::anyhow!("the pend record of claim {} does not read back: {e}", review.claim_id)))?;
        let claim = pended.claim.clone();
        let benefits = self.plans.facts(store, tx, &claim, &pended.registry).await?;
        let original = match domain::related_claim(&claim) {
            Some(original_id) if claim.frequency != Frequency::Original => storage::decision_state(store, tx, original_id).await?,
            _ => DecisionState::Undecided,
        };
        let facts = Facts {
            schedule: None,
            policy: None,
            original,
            registry: pended.registry.clone(),
            history: pended.history.clone(),
            history_counts: pended.history_counts.clone(),
            received_on: pended.received_on,
            decided_on: Timestamp::now().date(),
            benefits,
            review: Some(review),
            appeal: None,
        };
        let command = Command::Adjudicate(claim);
        let Command::Adjudicate(claim) = &command;
        let events = domain::decide(&facts, &command).map_err(|rejection| HandlerError::Invalid(rejection.to_string()))?;
        let record = DecisionRecord::of(&facts, claim, &pended.submitter);
        self.persist(tx, envelope, claim, &record, events, batch, false)
            .await?
            .ok_or_else(|| HandlerError::Unexpected(anyhow::anyhow!("claim {} lost the race to reverse its original; retrying", claim.claim_id)))
    }

    /// Records the place of `claim_id` (decided under a plan) in its family's
    /// order: the place of the claim it reverses, or the family's next (from
    /// the batch's read of it, `reads`, when that serves the claim). Held in `writes`.
    #[allow(clippy::too_many_arguments)]
    async fn place_in_family_order(
        &self,
        tx: &DatabaseTransaction,
        claim: &claimtrail_events::SubmittedClaim,
        record: &DecisionRecord,
        claim_id: uuid::Uuid,
        reversed_id: Option<uuid::Uuid>,
        writes: &mut storage::pending::Writes,
        reads: Option<&benefits::BatchReads>,
    ) -> Result<(), HandlerError> {
        let store = &self.store;
        let (Some(plan), Some(date)) = (&record.benefits.plan, domain::policy_date(claim)) else { return Ok(()) };
        let family_key = record.benefits.family_id.as_ref().map(ToString::to_string).unwrap_or_else(|| claim.member_id.to_string());
        let plan_year = plan.plan.plan_year(date);
        let inherited = match reversed_id {
            Some(reversed_id) => storage::reprocess::order_of(store, tx, reversed_id)
                .await?
                .filter(|order| order.family_key == family_key && order.plan_year == plan_year)
                .map(|order| order.position),
            None => None,
        };
        let position = match inherited {
            Some(position) => position,
            None => match reads.and_then(|reads| reads.next_position(claim.payer_id.as_str(), &family_key)) {
                Some(next) => next,
                None => storage::reprocess::next_position(store, tx, claim.payer_id.as_str(), &family_key).await?,
            },
        };
        let order = storage::reprocess::OrderRow { payer_id: claim.payer_id.to_string(), family_key, plan_year, position };
        writes.order(claim_id, &order);
        Ok(())
    }

    /// Decides the open appeal of a claim on its review (`uphold` or
    /// `overturn`): an overturn decides the claim again on the facts its
    /// decision recorded, with the appealed MUE findings lifted, and the
    /// member's plan and accumulators as they stand now (the decision's own
    /// entries reversed first). A claim replaced or voided meanwhile keeps its
    /// reversal: the appeal is upheld. An appeal already decided is left alone.
    async fn decide_appeal(
        &self,
        tx: &DatabaseTransaction,
        envelope: &Envelope,
        mut review: ClaimReviewed,
        stored: StoredRecord,
        batch: &mut BatchFacts,
    ) -> Result<Vec<NewEvent>, HandlerError> {
        let store = &self.store;
        let claim_id = review.claim_id;
        let Some(appeal) = storage::appeal_of(store, tx, claim_id).await?.filter(|appeal| appeal.status == storage::APPEAL_OPEN) else {
            tracing::info!(claim_id = %claim_id, "a review of an appeal no longer open; ignored");
            return Ok(vec![]);
        };
        let decision = match storage::decision_state(store, tx, claim_id).await? {
            DecisionState::Decided { decision } => decision,
            DecisionState::Reversed { decision, by_claim_id } => {
                review.action = domain::appeal::UPHOLD.to_owned();
                review.reason = format!("claim {claim_id} was reversed by claim {by_claim_id} before its appeal was decided ({})", review.reason.trim());
                decision
            }
            DecisionState::Undecided => {
                return Err(HandlerError::Invalid(format!("claim {claim_id} is appealed but adjudication holds no decision of it")));
            }
        };
        let record: DecisionRecord = serde_json::from_slice(&stored.record)
            .map_err(|e| HandlerError::Unexpected(anyhow::anyhow!("the decision record of claim {claim_id} does not read back: {e}")))?;
        let claim = record.claim.clone();
        let schedule = record.schedule();
        // A record of format 3 cites its rule set by hash: the document comes from the store, checked against the hash.
        let rule_set =
            storage::resolve_rule_set(store, tx, &stored.payer_id, &record).await?.map_err(|e| HandlerError::Invalid(format!("claim {claim_id}: {e}")))?;
        let policy = record.policy_tables(rule_set.as_ref()).map_err(|e| HandlerError::Invalid(format!("claim {claim_id}: {e}")))?;
        let benefits = self.plans.facts_reversing(store, tx, &claim, &record.registry, Some(claim_id)).await?;
        let facts = Facts {
            schedule: schedule.as_ref(),
            policy: policy.as_ref(),
            original: record.original.clone(),
            registry: record.registry.clone(),
            history: record.history.clone(),
            history_counts: record.history_counts.clone(),
            received_on: record.received_on,
            decided_on: Timestamp::now().date(),
            benefits,
            review: None,
            appeal: Some(domain::appeal::AppealFacts { appeal: appeal.appeal, review, decision }),
        };
        let command = Command::Adjudicate(claim);
        let Command::Adjudicate(claim) = &command;
        let events = domain::decide(&facts, &command).map_err(|rejection| HandlerError::Invalid(rejection.to_string()))?;
        let record = DecisionRecord::of(&facts, claim, &record.submitter);
        self.persist(tx, envelope, claim, &record, events, batch, false)
            .await?
            .ok_or_else(|| HandlerError::Unexpected(anyhow::anyhow!("claim {claim_id} was reversed while its appeal was decided; retrying")))
    }

    /// Stores the decided events, the claim's history lines and the decision
    /// record, and returns the events to publish; `None` when a reversal lost
    /// the race for its original (the caller decides again). The inserts are
    /// held in the batch's [`storage::pending::Writes`]: to its end when
    /// `defer` (an original claim's), else written before returning.
    #[allow(clippy::too_many_arguments)]
    async fn persist(
        &self,
        tx: &DatabaseTransaction,
        envelope: &Envelope,
        claim: &claimtrail_events::SubmittedClaim,
        record: &DecisionRecord,
        events: Vec<Event>,
        batch: &mut BatchFacts,
        defer: bool,
    ) -> Result<Option<Vec<NewEvent>>, HandlerError> {
        let store = &self.store;
        if batch.writes.holds(claim.claim_id) {
            // The same claim written twice in one batch: the first goes in first.
            batch.writes.flush(store, tx).await?;
        }
        let history = &mut batch.history;
        let writes = &mut batch.writes;
        // What the batch read for this claim, when it serves it (an original claim's, nothing written over it).
        let reads = (defer && batch.served).then_some(&batch.reads);
        let canonical = |what: &str, result: Result<Vec<u8>, claimtrail_events::canonical::CanonicalError>| {
            result.map_err(|e| HandlerError::Unexpected(anyhow::anyhow!("the {what} of claim {} is not canonical JSON: {e}", claim.claim_id)))
        };
        // The claim's own event is what the record stores (an upheld appeal has none: the record stays).
        let stored = match domain::claim_event(&events) {
            Some(last) => Some(StoredRecord {
                claim_id: claim.claim_id,
                event_type: last.event_type().to_owned(),
                payer_id: claim.payer_id.to_string(),
                submitter: record.submitter.clone(),
                payload: canonical("decision", last.canonical_payload())?,
                record: canonical("decision record", to_canonical_vec(record))?,
            }),
            None => None,
        };
        let decided_again = record.appeal.is_some();
        let mut outgoing = Vec::with_capacity(events.len());
        let mut reversed_id = None;
        for event in events {
            match event {
                Event::Reversed(reversal) if reversal.by_claim_id == reversal.claim_id => {
                    // An overturned appeal reverses the claim's own decision: it is decided again next, not reversed for good.
                    storage::reverse_claim_lines(store, tx, reversal.claim_id).await?;
                    history.reverse(reversal.claim_id);
                    let aggregate = reversal.claim_id.to_string();
                    outgoing.push(NewEvent::new(reversal, aggregate).caused_by(envelope));
                }
                Event::Reversed(reversal) => {
                    reversed_id = Some(reversal.claim_id);
                    // Conditional: of two concurrent replacements only one reverses.
                    if !storage::mark_reversed(store, tx, reversal.claim_id, reversal.by_claim_id).await? {
                        return Ok(None);
                    }
                    storage::reverse_claim_lines(store, tx, reversal.claim_id).await?;
                    history.reverse(reversal.claim_id);
                    let aggregate = reversal.claim_id.to_string();
                    outgoing.push(NewEvent::new(reversal, aggregate).caused_by(envelope));
                }
                Event::Adjudicated(decision) => {
                    if !decided_again {
                        writes.decision(&decision)?;
                        self.place_in_family_order(tx, claim, record, decision.claim_id, reversed_id, writes, reads).await?;
                    } else if !storage::replace_decision(store, tx, &decision).await? {
                        return Ok(None);
                    }
                    let paid: HashMap<u32, bool> = decision.lines.iter().map(|line| (line.sequence, !line.paid.is_zero())).collect();
                    history
                        .record(writes.lines(claim, |sequence| if paid.get(&sequence) == Some(&true) { HistoryStatus::Paid } else { HistoryStatus::Denied })?);
                    let aggregate = decision.claim_id.to_string();
                    outgoing.push(NewEvent::new(decision, aggregate).caused_by(envelope));
                }
                Event::Pended(pended) => {
                    history.record(writes.lines(claim, |_| HistoryStatus::Pended)?);
                    let aggregate = pended.claim_id.to_string();
                    outgoing.push(NewEvent::new(pended, aggregate).caused_by(envelope));
                }
                Event::Accumulators(changed) => {
                    writes.accumulators(&changed)?;
                    let aggregate = changed.claim_id.map(|id| id.to_string()).unwrap_or_else(|| changed.payer_id.clone());
                    outgoing.push(NewEvent::new(changed, aggregate).caused_by(envelope));
                }
                Event::AppealDecided(decided) => {
                    if !storage::close_appeal(store, tx, decided.appeal_id, &decided.outcome).await? {
                        return Err(HandlerError::Unexpected(anyhow::anyhow!("appeal {} of claim {} is no longer open", decided.appeal_id, decided.claim_id)));
                    }
                    let aggregate = decided.claim_id.to_string();
                    outgoing.push(NewEvent::new(decided, aggregate).caused_by(envelope));
                }
            }
        }
        if let Some(stored) = stored {
            writes.record(&stored, &record.engine_version)?;
        }
        if !defer {
            writes.flush(store, tx).await?;
        }
        Ok(Some(outgoing))
    }
}
