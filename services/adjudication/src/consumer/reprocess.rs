//! Corrections that ripple and reprocessing jobs, in the consumer
//! (issue 17; the decisions are [`crate::domain::ripple`]'s):
//!
//! - after a replacement or void reverses claim A, the family's later
//!   claims of A's plan year are decided again in their order
//!   ([`Adjudicator::ripple`]), in the same transaction;
//! - `claim.reprocessing_queued.v1` (a job's claim, on the family's
//!   partition) decides the claim's standing version again under the
//!   reference data as known now, then ripples, and counts the claim done
//!   in the same transaction ([`Adjudicator::reprocess`]);
//! - a new enrollment version that corrects a date of death or the coverage
//!   retroactively starts a job by itself ([`Adjudicator::member_corrected`]).
//!
//! Each decision again reads the facts as known now (registry, policy in
//! force, fee schedule, plan, accumulators), keeps what the standing
//! decision recorded of the claim's history and receipt, and is recorded
//! with its own [`DecisionRecord`]; the standing decision's record is not
//! touched, so its replay still gives its bytes.

use claimtrail_benefits::AccumulatorsApplied;
use claimtrail_events::{ClaimReprocessingQueued, Envelope, NewEvent, SubmittedClaim, Timestamp};
use claimtrail_runtime::HandlerError;
use claimtrail_store::{Store, StoreError};
use sea_orm::{ConnectionTrait, DatabaseTransaction};
use uuid::Uuid;

use super::{Adjudicator, BatchFacts};
use crate::domain::ripple::{self, Redecided, ReferenceChange};
use crate::domain::{self, DecisionRecord, DecisionState, Facts};
use crate::storage::{self, reprocess::JobRow};

/// What deciding one standing claim again came to.
#[derive(Debug)]
pub enum Outcome {
    /// Decided the same: nothing emitted.
    Unchanged,
    /// Reversed and decided again as `version`; the events to publish.
    Changed { version: Uuid, events: Vec<NewEvent> },
    /// Not decided again: no standing decision, a decision that would pend, or facts that cannot decide it.
    Skipped(String),
}

/// A job selecting the claims `change` affects, and its events; `None` when it selects none and `keep_empty` is false.
pub async fn start_job(
    store: &Store,
    tx: &impl ConnectionTrait,
    payer_id: &str,
    change: &ReferenceChange,
    detail: String,
    keep_empty: bool,
) -> Result<Option<(JobRow, Vec<NewEvent>)>, StoreError> {
    let lines = match change {
        ReferenceChange::DateOfDeath { member_id, .. } | ReferenceChange::CoverageTermination { member_id, .. } => {
            storage::reprocess::member_lines(store, tx, payer_id, member_id).await?
        }
        ReferenceChange::FeeSchedule { from, to, codes } => {
            let codes: Vec<String> = codes.iter().cloned().collect();
            storage::reprocess::code_lines(store, tx, payer_id, *from, *to, &codes).await?
        }
    };
    let candidates: Vec<ripple::CandidateLine> = lines.iter().map(|(line, _)| line.clone()).collect();
    let selected = ripple::affected(change, &candidates);
    if selected.is_empty() && !keep_empty {
        return Ok(None);
    }
    let now = Timestamp::now().to_string();
    let job = JobRow {
        job_id: Uuid::now_v7(),
        payer_id: payer_id.to_owned(),
        reason: change.reason().to_owned(),
        detail,
        status: if selected.is_empty() { "completed" } else { "running" }.to_owned(),
        n_selected: selected.len() as i64,
        n_changed: 0,
        n_unchanged: 0,
        n_skipped: 0,
        n_rippled: 0,
        created_at: now.clone(),
        finished_at: selected.is_empty().then_some(now),
    };
    storage::reprocess::insert_job(store, tx, &job, &selected).await?;
    let events = selected
        .iter()
        .map(|claim_id| {
            let family = lines.iter().find(|(line, _)| line.claim_id == *claim_id).map(|(_, family)| family.as_str()).unwrap_or_default();
            let queued = ClaimReprocessingQueued { job_id: job.job_id, claim_id: *claim_id, payer_id: payer_id.to_owned(), reason: job.reason.clone() };
            NewEvent::new(queued, claim_id.to_string()).partitioned(payer_id, family)
        })
        .collect();
    Ok(Some((job, events)))
}

impl Adjudicator {
    /// Decides `standing` (a claim whose decision stands) again as its
    /// version of `cause`, under the facts as known now, with the
    /// accumulators as if the claims `rewind` (decided after it) had applied
    /// nothing; persists and returns a change.
    pub(crate) async fn redecide_standing(
        &self,
        tx: &DatabaseTransaction,
        envelope: &Envelope,
        standing: Uuid,
        cause: Uuid,
        rewind: &[Uuid],
        batch: &mut BatchFacts,
    ) -> Result<Outcome, HandlerError> {
        let store = &self.store;
        let DecisionState::Decided { decision } = storage::decision_state(store, tx, standing).await? else {
            return Ok(Outcome::Skipped(format!("claim {standing} has no standing decision")));
        };
        let Some(stored) = storage::record(store, tx, standing).await? else {
            return Ok(Outcome::Skipped(format!("claim {standing} has no decision record")));
        };
        let record: DecisionRecord = serde_json::from_slice(&stored.record)
            .map_err(|e| HandlerError::Unexpected(anyhow::anyhow!("the decision record of claim {standing} does not read back: {e}")))?;
        let version = ripple::version_id(standing, cause);
        if storage::decision_state(store, tx, version).await? != DecisionState::Undecided {
            return Ok(Outcome::Skipped(format!("claim {standing}'s version {version} is decided already")));
        }
        let claim: &SubmittedClaim = &record.claim;
        let payer_id = claim.payer_id.as_str();
        if !batch.schedules.contains_key(payer_id) {
            batch.schedules.insert(payer_id.to_owned(), storage::pricing_schedule(store, tx, &claim.payer_id).await?);
        }
        let policy = match domain::policy_date(claim) {
            Some(date) => Some(batch.policies.get(&self.policies, store, tx, payer_id, date).await?),
            None => None,
        };
        let policy = policy.filter(|policy| !policy.is_empty());
        let new_claim = ripple::reprocessed_claim(claim, version);
        let registry = storage::registry_facts(store, tx, &new_claim).await?;
        let mut benefits = self.plans.facts_for(store, tx, &new_claim, &registry, Some(standing)).await?;
        let mut taken_back: Vec<AccumulatorsApplied> = Vec::with_capacity(rewind.len());
        for later in rewind {
            taken_back.extend(storage::applied_accumulators(store, tx, payer_id, *later).await?);
        }
        let taken_back: Vec<&AccumulatorsApplied> = taken_back.iter().collect();
        benefits.position = match ripple::without(&benefits.position, &taken_back) {
            Ok(position) => position,
            Err(rejection) => return Ok(Outcome::Skipped(rejection.to_string())),
        };
        let facts = Facts {
            schedule: batch.schedules[payer_id].as_ref(),
            policy: policy.as_deref(),
            original: DecisionState::Decided { decision },
            registry,
            history: record.history.clone(),
            history_counts: record.history_counts.clone(),
            received_on: record.received_on,
            decided_on: Timestamp::now().date(),
            benefits,
            review: record.review.clone(),
            // An overturned appeal's lifted findings are not carried into a correction's new version.
            appeal: None,
        };
        let (new_claim, redecided) = match ripple::redecide(&facts, claim, version) {
            Ok(redecided) => redecided,
            Err(rejection) => return Ok(Outcome::Skipped(rejection.to_string())),
        };
        let events = match redecided {
            Redecided::Unchanged => return Ok(Outcome::Unchanged),
            Redecided::WouldPend => return Ok(Outcome::Skipped(format!("claim {standing} would pend under the facts known now"))),
            Redecided::Changed(events) => events,
        };
        let new_record = DecisionRecord::of(&facts, &new_claim, &record.submitter);
        let Some(events) = self.persist(tx, envelope, &new_claim, &new_record, events, batch, false).await? else {
            return Err(HandlerError::Unexpected(anyhow::anyhow!("claim {standing} was reversed while it was decided again; retrying")));
        };
        storage::reprocess::insert_version(store, tx, version, standing, cause).await?;
        tracing::info!(claim_id = %standing, %version, %cause, "a standing decision was corrected");
        Ok(Outcome::Changed { version, events })
    }

    /// Decides `later` (the family's claims after a reversed one, in order)
    /// again, each with the ones after it taken back; the events of those that change.
    pub(crate) async fn ripple(
        &self,
        tx: &DatabaseTransaction,
        envelope: &Envelope,
        later: &[Uuid],
        cause: Uuid,
        batch: &mut BatchFacts,
    ) -> Result<(usize, Vec<NewEvent>), HandlerError> {
        let mut outgoing = Vec::new();
        let mut n_changed = 0;
        for (later_idx, claim_id) in later.iter().enumerate() {
            match self.redecide_standing(tx, envelope, *claim_id, cause, &later[later_idx + 1..], batch).await? {
                Outcome::Changed { events, .. } => {
                    n_changed += 1;
                    outgoing.extend(events);
                }
                Outcome::Unchanged => {}
                Outcome::Skipped(why) => tracing::warn!(claim_id = %claim_id, %cause, why, "a later claim was not decided again"),
            }
        }
        Ok((n_changed, outgoing))
    }

    /// The family's standing claims after `claim_id` in its plan year, in order (none without a plan).
    pub(crate) async fn later_than(&self, tx: &DatabaseTransaction, claim_id: Uuid) -> Result<Vec<Uuid>, HandlerError> {
        let store = &self.store;
        Ok(match storage::reprocess::order_of(store, tx, claim_id).await? {
            Some(order) => storage::reprocess::later_claims(store, tx, &order).await?,
            None => Vec::new(),
        })
    }

    /// One claim of a reprocessing job: its standing version decided again,
    /// then its later claims, and the job's count, in this transaction.
    pub(crate) async fn reprocess(
        &self,
        tx: &DatabaseTransaction,
        envelope: &Envelope,
        queued: ClaimReprocessingQueued,
        batch: &mut BatchFacts,
    ) -> Result<Vec<NewEvent>, HandlerError> {
        let store = &self.store;
        match storage::reprocess::job_claim_state(store, tx, queued.job_id, queued.claim_id).await? {
            Some(state) if state == "pending" => {}
            Some(_) => return Ok(vec![]),
            None => {
                tracing::warn!(job_id = %queued.job_id, claim_id = %queued.claim_id, "a claim no reprocessing job selected; ignored");
                return Ok(vec![]);
            }
        }
        let standing = storage::reprocess::standing_version(store, tx, queued.claim_id).await?;
        let later = self.later_than(tx, standing).await?;
        let (state, version, outgoing, n_rippled) = match self.redecide_standing(tx, envelope, standing, queued.job_id, &later, batch).await? {
            Outcome::Changed { version, events } => {
                let (n_rippled, rippled) = self.ripple(tx, envelope, &later, queued.job_id, batch).await?;
                let mut events = events;
                events.extend(rippled);
                ("changed", Some(version), events, n_rippled)
            }
            Outcome::Unchanged => ("unchanged", None, vec![], 0),
            Outcome::Skipped(why) => {
                tracing::info!(job_id = %queued.job_id, claim_id = %queued.claim_id, why, "a job's claim was skipped");
                ("skipped", None, vec![], 0)
            }
        };
        storage::reprocess::finish_job_claim(store, tx, queued.job_id, queued.claim_id, state, version, n_rippled as i64).await?;
        Ok(outgoing)
    }

    /// A new enrollment version of `member_id` was recorded after `before`:
    /// a job for each retroactive correction it makes that affects decided claims.
    pub(crate) async fn member_corrected(
        &self,
        tx: &DatabaseTransaction,
        payer_id: &str,
        member_id: &str,
        before: Option<&domain::MemberFacts>,
    ) -> Result<Vec<NewEvent>, HandlerError> {
        let store = &self.store;
        let Some(after) = storage::member(store, tx, payer_id, member_id, None).await? else { return Ok(vec![]) };
        let mut outgoing = Vec::new();
        for change in ripple::member_changes(before, &after) {
            let detail = match &change {
                ReferenceChange::DateOfDeath { died, .. } => format!("member date of death {} recorded late", claimtrail_events::format_date(*died)),
                ReferenceChange::CoverageTermination { coverage_start, coverage_end, .. } => {
                    format!("member coverage now {} to {}", claimtrail_events::format_date(*coverage_start), claimtrail_events::format_date(*coverage_end))
                }
                ReferenceChange::FeeSchedule { .. } => continue,
            };
            if let Some((job, events)) = start_job(store, tx, payer_id, &change, detail, false).await? {
                tracing::info!(job_id = %job.job_id, reason = job.reason, n_selected = job.n_selected, "a registry correction started a reprocessing job");
                outgoing.extend(events);
            }
        }
        Ok(outgoing)
    }
}
