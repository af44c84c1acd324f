//! What the benefit step reads for one claim ([`crate::domain::BenefitFacts`]),
//! on the batch's transaction (so a family's earlier claims in the same
//! batch are counted): the member's plan, chosen by the enrollment's
//! `plan_id` among the payer's plan versions in force on the claim's first
//! date of service; whether the member's subscriber has a family; the
//! accumulator totals of the member and the family; and, for a replacement
//! or void, what its original applied.
//!
//! Plans are parsed and compiled once per content hash for the life of the process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use claimtrail_benefits::{CompiledPlan, Plan};
use claimtrail_codes::MemberId;
use claimtrail_events::{Frequency, SubmittedClaim};
use claimtrail_runtime::HandlerError;
use claimtrail_store::Store;
use sea_orm::ConnectionTrait;

use crate::api::plans::PLAN_KIND;
use crate::domain::{self, BenefitFacts, PlanInForce, RegistryFacts};
use crate::storage;

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
    ) -> Result<Option<PlanInForce>, HandlerError> {
        // The version's metadata per claim; its bytes only for a content hash not compiled yet.
        let Some(version) = storage::policy_version_meta_in_force(store, conn, payer_id, PLAN_KIND, plan_id, date, None).await? else {
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
        let payer_id = claim.payer_id.as_str();
        let original_applied = match reversing {
            Some(reversed) => storage::applied_accumulators(store, conn, payer_id, reversed).await?,
            None => None,
        };
        let mut facts = BenefitFacts { original_applied, ..BenefitFacts::default() };
        let member = registry.member.as_ref().filter(|_| claim.frequency != Frequency::Void);
        if let (Some(member), Some(date)) = (member, domain::policy_date(claim)) {
            facts.plan = self.plan(store, conn, payer_id, &member.plan_id, date).await?;
            if facts.plan.is_some()
                && let Some(subscriber) = member.subscriber_id.as_deref()
                && storage::family_size(store, conn, payer_id, subscriber).await? > 1
            {
                facts.family_id = MemberId::parse(subscriber).ok();
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
            facts.position = storage::accumulator_position(store, conn, payer_id, &members, &years).await?;
        }
        Ok(facts)
    }
}
