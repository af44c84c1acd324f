//! What the benefit step reads for one claim ([`crate::domain::BenefitFacts`]),
//! on the batch's transaction (so a family's earlier claims in the same
//! batch are counted): the member's plan, chosen by the enrollment's
//! `plan_id` among the payer's plan versions in force on the claim's first
//! date of service; whether the member's subscriber has a family; the
//! accumulator totals of the member and the family; and, for a replacement
//! or void, what its original applied.
//!
//! Plans are parsed and compiled once per content hash for the life of the process.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use claimtrail_benefits::{AccumulatorEntry, CompiledPlan, Plan};
use claimtrail_codes::MemberId;
use claimtrail_events::{Frequency, SubmittedClaim};
use claimtrail_runtime::HandlerError;
use claimtrail_store::Store;
use sea_orm::ConnectionTrait;

use crate::api::plans::PLAN_KIND;
use crate::domain::{self, BenefitFacts, HistoryCounts, PlanInForce, RegistryFacts};
use crate::storage::{self, PolicyVersion};

/// Compiled plans kept at most; past it the cache starts over.
const CACHED_PLANS_MAX: usize = 256;

/// The process's compiled plans, by content hash.
#[derive(Default)]
pub struct PlanCache {
    compiled: Mutex<HashMap<String, Arc<CompiledPlan>>>,
}

impl PlanCache {
    /// `member`'s plan `plan_id` of `payer_id` in force on `date`, if the payer uploaded one.
    async fn plan(
        &self,
        store: &Store,
        conn: &impl ConnectionTrait,
        payer_id: &str,
        plan_id: &str,
        date: time::Date,
        versions: Option<&[PolicyVersion]>,
    ) -> Result<Option<PlanInForce>, HandlerError> {
        // The version's metadata per claim (from the versions in force the batch read, when it did);
        // its bytes only for a content hash not compiled yet.
        let version = match versions {
            Some(versions) => versions.iter().find(|version| version.kind == PLAN_KIND && version.name == plan_id).cloned(),
            None => storage::policy_version_meta_in_force(store, conn, payer_id, PLAN_KIND, plan_id, date, None).await?,
        };
        let Some(version) = version else {
            return Ok(None);
        };
        let cached = self.compiled.lock().expect("plan cache lock").get(&version.content_hash).cloned();
        let plan = match cached {
            Some(plan) => plan,
            None => {
                let body = storage::policy_body(store, conn, version.version_id).await?;
                let plan = Arc::new(Plan::from_json(&body).map_err(|errors| {
                    HandlerError::Unexpected(anyhow::anyhow!("stored plan {plan_id} version {} does not compile: {errors}", version.version_id))
                })?);
                let mut cache = self.compiled.lock().expect("plan cache lock");
                if cache.len() >= CACHED_PLANS_MAX {
                    cache.clear();
                }
                cache.insert(version.content_hash.clone(), plan.clone());
                plan
            }
        };
        Ok(Some(PlanInForce { plan_id: plan_id.to_owned(), plan }))
    }

    /// What the benefit step of `claim` reads, on `conn` (the batch's transaction).
    pub async fn facts(
        &self,
        store: &Store,
        conn: &impl ConnectionTrait,
        claim: &SubmittedClaim,
        registry: &RegistryFacts,
    ) -> Result<BenefitFacts, HandlerError> {
        self.facts_for(store, conn, claim, registry, domain::related_claim(claim)).await
    }

    /// [`PlanCache::facts`], a replacement or void reversing `original` (the
    /// standing version of the claim it names: a correction may have
    /// decided one in its place).
    pub async fn facts_for(
        &self,
        store: &Store,
        conn: &impl ConnectionTrait,
        claim: &SubmittedClaim,
        registry: &RegistryFacts,
        original: Option<uuid::Uuid>,
    ) -> Result<BenefitFacts, HandlerError> {
        let reversing = original.filter(|_| claim.frequency != Frequency::Original);
        self.facts_reversing(store, conn, claim, registry, reversing).await
    }

    /// [`PlanCache::facts`] of a decision that reverses what `reversing`
    /// applied: a replacement's or void's original, or the claim itself when
    /// an overturned appeal decides it again.
    pub async fn facts_reversing(
        &self,
        store: &Store,
        conn: &impl ConnectionTrait,
        claim: &SubmittedClaim,
        registry: &RegistryFacts,
        reversing: Option<uuid::Uuid>,
    ) -> Result<BenefitFacts, HandlerError> {
        self.facts_known(store, conn, claim, registry, reversing, &Known::default()).await
    }

    /// [`PlanCache::facts_reversing`], with what the batch read already ([`Known`]) taken from it.
    pub async fn facts_known(
        &self,
        store: &Store,
        conn: &impl ConnectionTrait,
        claim: &SubmittedClaim,
        registry: &RegistryFacts,
        reversing: Option<uuid::Uuid>,
        known: &Known<'_>,
    ) -> Result<BenefitFacts, HandlerError> {
        let payer_id = claim.payer_id.as_str();
        let original_applied = match reversing {
            Some(reversed) => storage::applied_accumulators(store, conn, payer_id, reversed).await?,
            None => None,
        };
        let mut facts = BenefitFacts { original_applied, ..BenefitFacts::default() };
        let member = registry.member.as_ref().filter(|_| claim.frequency != Frequency::Void);
        if let (Some(member), Some(date)) = (member, domain::policy_date(claim)) {
            facts.plan = self.plan(store, conn, payer_id, &member.plan_id, date, known.versions).await?;
            if facts.plan.is_some()
                && let Some(subscriber) = member.subscriber_id.as_deref()
            {
                let size = match known.reads.and_then(|reads| reads.family_sizes.get(&(payer_id.to_owned(), subscriber.to_owned()))) {
                    Some(size) => *size,
                    None => storage::family_size(store, conn, payer_id, subscriber).await?,
                };
                if size > 1 {
                    facts.family_id = MemberId::parse(subscriber).ok();
                }
            }
        }
        let mut years: Vec<i32> = facts.original_applied.iter().flat_map(|applied| applied.entries.iter().map(|entry| entry.plan_year)).collect();
        if let (Some(plan), Some(date)) = (&facts.plan, domain::policy_date(claim)) {
            years.push(plan.plan.plan_year(date));
        }
        years.sort_unstable();
        years.dedup();
        if !years.is_empty() {
            let mut members: Vec<&str> = vec![claim.member_id.as_str()];
            members.extend(facts.family_id.as_ref().map(|family| family.as_str()));
            members.extend(facts.original_applied.iter().flat_map(|applied| applied.entries.iter().map(|entry| entry.member_id.as_str())));
            members.sort_unstable();
            members.dedup();
            let served = known.reads.and_then(|reads| reads.totals.get(payer_id)).and_then(|totals| storage::position_of(totals, &members, &years));
            facts.position = match served {
                Some(position) => position,
                None => storage::accumulator_position(store, conn, payer_id, &members, &years).await?,
            };
        }
        Ok(facts)
    }
}

/// What the benefit step of one claim takes from its batch's reads instead of reading it itself.
#[derive(Default, Clone, Copy)]
pub struct Known<'a> {
    /// The payer's versions in force on the claim's date of service, as the batch's policy read listed them.
    pub versions: Option<&'a [PolicyVersion]>,
    /// The batch's reads of family sizes and accumulators, when they hold the claim's as they stand.
    pub reads: Option<&'a BatchReads>,
}

/// What one batch reads once for all of its claims (issue 21): family sizes,
/// accumulator totals, the families' next places in their order and the rule
/// set's 365-day counts, each one statement for the batch's claims instead of
/// one per claim. A claim is served from them only while nothing the batch
/// wrote since touches its member or family (the consumer checks
/// [`storage::pending::Writes::written_touches`]); otherwise it reads its own,
/// after the batch's writes are written.
#[derive(Default)]
pub struct BatchReads {
    /// (payer, member or subscriber) of every claim the reads cover.
    covered: HashSet<(String, String)>,
    family_sizes: HashMap<(String, String), i64>,
    /// Non-zero totals by payer, then member (any plan year).
    totals: HashMap<String, HashMap<String, Vec<AccumulatorEntry>>>,
    next_positions: HashMap<(String, String), i64>,
    counts: HashMap<uuid::Uuid, Vec<HistoryCounts>>,
}

impl BatchReads {
    pub fn clear(&mut self) {
        *self = BatchReads::default();
    }

    /// Whether the reads hold `ids` (member, subscriber, family) of `payer_id`.
    pub fn covers<'i>(&self, payer_id: &str, ids: impl IntoIterator<Item = &'i str>) -> bool {
        ids.into_iter().all(|id| self.covered.contains(&(payer_id.to_owned(), id.to_owned())))
    }

    /// The family's next place, as read.
    pub fn next_position(&self, payer_id: &str, family_key: &str) -> Option<i64> {
        self.next_positions.get(&(payer_id.to_owned(), family_key.to_owned())).copied()
    }

    /// The claim's 365-day counts, if they were read.
    pub fn counts(&self, claim_id: uuid::Uuid) -> Option<&Vec<HistoryCounts>> {
        self.counts.get(&claim_id)
    }

    /// Reads for `claims` (their registry facts in `registry`): one statement per
    /// payer and table, and the 365-day counts of all of them when `with_counts`.
    pub async fn read(
        &mut self,
        store: &Store,
        conn: &impl ConnectionTrait,
        claims: &[&SubmittedClaim],
        registry: &HashMap<uuid::Uuid, RegistryFacts>,
        with_counts: bool,
    ) -> Result<(), HandlerError> {
        self.clear();
        let mut by_payer: std::collections::BTreeMap<&str, (std::collections::BTreeSet<String>, std::collections::BTreeSet<String>)> = Default::default();
        for claim in claims {
            let (ids, subscribers) = by_payer.entry(claim.payer_id.as_str()).or_default();
            ids.insert(claim.member_id.to_string());
            ids.extend(claim.subscriber_id.as_ref().map(ToString::to_string));
            if let Some(subscriber) = registry.get(&claim.claim_id).and_then(|facts| facts.member.as_ref()).and_then(|member| member.subscriber_id.clone()) {
                ids.insert(subscriber.clone());
                subscribers.insert(subscriber);
            }
        }
        for (payer_id, (ids, subscribers)) in by_payer {
            let ids: Vec<String> = ids.into_iter().collect();
            let subscribers: Vec<String> = subscribers.into_iter().collect();
            for (subscriber, size) in storage::family_sizes(store, conn, payer_id, &subscribers).await? {
                self.family_sizes.insert((payer_id.to_owned(), subscriber), size);
            }
            self.totals.insert(payer_id.to_owned(), storage::accumulator_totals(store, conn, payer_id, &ids).await?);
            for (family_key, next) in storage::reprocess::next_positions(store, conn, payer_id, &ids).await? {
                self.next_positions.insert((payer_id.to_owned(), family_key), next);
            }
            self.covered.extend(ids.into_iter().map(|id| (payer_id.to_owned(), id)));
        }
        if with_counts {
            self.counts = storage::history_counts_of(store, conn, claims).await?;
        }
        Ok(())
    }
}
