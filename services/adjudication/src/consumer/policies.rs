//! The payer's policy tables, parsed once per content hash and shared.
//!
//! A table version is immutable and content-addressed, so its parsed form
//! is cached by (kind, hash) for the life of the process: a 500,000-row NCCI
//! table is parsed once (on a blocking thread), not per claim or batch.
//! Per batch, [`BatchPolicies`] asks storage once per payer and date which
//! versions are in force (hashes only) and assembles a [`PolicyInForce`]
//! of `Arc`s from the cache; a claim borrows it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use claimtrail_policy as policy;
use claimtrail_rules::RuleSet;
use claimtrail_runtime::HandlerError;
use claimtrail_store::Store;
use sea_orm::ConnectionTrait;
use time::Date;

use crate::api::policy::PolicyKind;
use crate::domain::{PolicyInForce, TableInForce};
use crate::storage::{self, PolicyVersion};

/// One parsed table or rule set.
#[derive(Clone)]
enum Parsed {
    Ncci(Arc<policy::NcciTable>),
    Mue(Arc<policy::MueTable>),
    Exclusions(Arc<policy::ExclusionList>),
    PriorAuthorizations(Arc<policy::PriorAuthorizations>),
    FeeSchedule(Arc<policy::FeeSchedule>),
    Rvu(Arc<policy::RvuTable>),
    Gpci(Arc<policy::GpciTable>),
    ZipLocalities(Arc<policy::ZipLocalities>),
    Contracts(Arc<policy::Contracts>),
    DrgWeights(Arc<policy::DrgWeights>),
    PerDiems(Arc<policy::PerDiems>),
    RuleSet(Arc<RuleSet>),
}

/// Parsed versions kept at most; past it the cache starts over (versions
/// change quarterly, so this is rare).
const CACHED_VERSIONS_MAX: usize = 64;

/// The process's cache of parsed policy versions.
#[derive(Default)]
pub struct PolicyCache {
    parsed: Mutex<HashMap<(String, String), Parsed>>,
}

fn parse(kind: PolicyKind, name: &str, body: &[u8]) -> Result<Parsed, String> {
    let errors = |errors: policy::LoadErrors| errors.to_string();
    Ok(match kind {
        PolicyKind::NcciPtp => Parsed::Ncci(Arc::new(policy::NcciTable::load(body).map_err(errors)?)),
        PolicyKind::Mue => Parsed::Mue(Arc::new(policy::MueTable::load(body).map_err(errors)?)),
        PolicyKind::Exclusions => Parsed::Exclusions(Arc::new(policy::ExclusionList::load(body).map_err(errors)?)),
        PolicyKind::PriorAuthorizations => Parsed::PriorAuthorizations(Arc::new(policy::PriorAuthorizations::load(body).map_err(errors)?)),
        PolicyKind::FeeSchedules => Parsed::FeeSchedule(Arc::new(policy::FeeSchedule::load(body).map_err(errors)?)),
        PolicyKind::Rvu => Parsed::Rvu(Arc::new(policy::RvuTable::load(body).map_err(errors)?)),
        PolicyKind::Gpci => Parsed::Gpci(Arc::new(policy::GpciTable::load(body).map_err(errors)?)),
        PolicyKind::ZipLocalities => Parsed::ZipLocalities(Arc::new(policy::ZipLocalities::load(body).map_err(errors)?)),
        PolicyKind::RuleSet => Parsed::RuleSet(Arc::new(RuleSet::parse(name, body).map_err(|errors| errors.to_string())?)),
        PolicyKind::Contracts => Parsed::Contracts(Arc::new(policy::Contracts::load(body).map_err(errors)?)),
        PolicyKind::DrgWeights => Parsed::DrgWeights(Arc::new(policy::DrgWeights::load(body).map_err(errors)?)),
        PolicyKind::PerDiems => Parsed::PerDiems(Arc::new(policy::PerDiems::load(body).map_err(errors)?)),
    })
}

impl PolicyCache {
    async fn parsed(&self, store: &Store, conn: &impl ConnectionTrait, version: &PolicyVersion, kind: PolicyKind) -> Result<Parsed, HandlerError> {
        let key = (version.kind.clone(), version.content_hash.clone());
        let cached = self.parsed.lock().expect("policy cache lock").get(&key).cloned();
        if let Some(parsed) = cached {
            return Ok(parsed);
        }
        let body = storage::policy_body(store, conn, version.version_id).await?;
        let name = version.name.clone();
        let parsed = tokio::task::spawn_blocking(move || parse(kind, &name, &body))
            .await
            .map_err(|e| HandlerError::Unexpected(anyhow::anyhow!("parsing policy version: {e}")))?
            .map_err(|reason| {
                HandlerError::Unexpected(anyhow::anyhow!(
                    "stored {} version {} ({}) does not parse: {reason}",
                    version.kind,
                    version.version_id,
                    version.content_hash
                ))
            })?;
        let mut cache = self.parsed.lock().expect("policy cache lock");
        if cache.len() >= CACHED_VERSIONS_MAX {
            cache.clear();
        }
        cache.insert(key, parsed.clone());
        Ok(parsed)
    }

    /// The policy of `payer_id` in force on `date`. Of several rule sets in
    /// force, the one effective latest applies (ties: the first by name).
    pub async fn in_force(&self, store: &Store, conn: &impl ConnectionTrait, payer_id: &str, date: Date) -> Result<PolicyInForce, HandlerError> {
        let versions = storage::policy_versions_in_force(store, conn, payer_id, date).await?;
        self.of_versions(store, conn, &versions).await
    }

    /// The policy the `versions` in force make.
    async fn of_versions(&self, store: &Store, conn: &impl ConnectionTrait, versions: &[PolicyVersion]) -> Result<PolicyInForce, HandlerError> {
        let mut policy = PolicyInForce::default();
        let mut rule_set_from: Option<Date> = None;
        for version in versions {
            let kind = if version.kind == PolicyKind::RuleSet.as_str() {
                PolicyKind::RuleSet
            } else {
                match PolicyKind::table(&version.kind) {
                    Some(kind) => kind,
                    None => continue,
                }
            };
            let hash = version.content_hash.clone();
            match self.parsed(store, conn, version, kind).await? {
                Parsed::Ncci(table) => policy.ncci = Some(TableInForce { content_hash: hash, table }),
                Parsed::Mue(table) => policy.mue = Some(TableInForce { content_hash: hash, table }),
                Parsed::Exclusions(table) => policy.exclusions = Some(TableInForce { content_hash: hash, table }),
                Parsed::PriorAuthorizations(table) => policy.prior_authorizations = Some(TableInForce { content_hash: hash, table }),
                Parsed::FeeSchedule(table) => policy.fee_schedule = Some(TableInForce { content_hash: hash, table }),
                Parsed::Rvu(table) => policy.rvu = Some(TableInForce { content_hash: hash, table }),
                Parsed::Gpci(table) => policy.gpci = Some(TableInForce { content_hash: hash, table }),
                Parsed::ZipLocalities(table) => policy.zip_localities = Some(TableInForce { content_hash: hash, table }),
                Parsed::Contracts(table) => policy.contracts = Some(TableInForce { content_hash: hash, table }),
                Parsed::DrgWeights(table) => policy.drg_weights = Some(TableInForce { content_hash: hash, table }),
                Parsed::PerDiems(table) => policy.per_diems = Some(TableInForce { content_hash: hash, table }),
                Parsed::RuleSet(rule_set) => {
                    if rule_set_from.is_none_or(|from| version.effective_from > from) {
                        rule_set_from = Some(version.effective_from);
                        policy.rule_set = Some(rule_set);
                    }
                }
            }
        }
        Ok(policy)
    }
}

/// The policies one batch read, by payer and date: one storage query each.
#[derive(Default)]
pub struct BatchPolicies {
    by_payer_and_date: HashMap<(String, Date), Arc<PolicyInForce>>,
    /// The versions in force that made each (plans among them: [`super::benefits`] picks the member's).
    versions: HashMap<(String, Date), Arc<Vec<PolicyVersion>>>,
}

impl BatchPolicies {
    pub async fn get(
        &mut self,
        cache: &PolicyCache,
        store: &Store,
        conn: &impl ConnectionTrait,
        payer_id: &str,
        date: Date,
    ) -> Result<Arc<PolicyInForce>, HandlerError> {
        let key = (payer_id.to_owned(), date);
        if let Some(policy) = self.by_payer_and_date.get(&key) {
            return Ok(policy.clone());
        }
        let versions = storage::policy_versions_in_force(store, conn, payer_id, date).await?;
        let policy = Arc::new(cache.of_versions(store, conn, &versions).await?);
        self.by_payer_and_date.insert(key.clone(), policy.clone());
        self.versions.insert(key, Arc::new(versions));
        Ok(policy)
    }

    /// Every version of `payer_id` in force on `date` (each kind and name's), if this batch read them.
    pub fn versions(&self, payer_id: &str, date: Date) -> Option<Arc<Vec<PolicyVersion>>> {
        self.versions.get(&(payer_id.to_owned(), date)).cloned()
    }
}
