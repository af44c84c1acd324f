//! The payer's policy in force for one claim: its edit tables, pricing
//! tables and rule set, parsed once per content hash by the consumer
//! ([`crate::consumer`]) and held behind `Arc`s, borrowed by [`super::Facts`].
//!
//! Versions are chosen **per claim**, by the claim's first date of service
//! (the earliest line date, or the statement's from date when earlier): one
//! claim is decided wholly under one version of each table, so its record
//! cites one hash per table. A claim whose lines straddle a version boundary
//! is decided under the version in force on its first day.
//!
//! [`PolicyUsed`] is what a decision read of them: per table its content
//! hash and only the rows the decision's lookups returned (the NCCI pairs
//! among the claim's and its history's codes, the MUEs of its codes, the
//! fee, RVU, GPCI and ZIP rows of its lines, the member's authorizations, the
//! exclusion rows that matched), and the rule set's content hash and name. A
//! lookup on the rows kept answers what it answered on the whole table
//! (each lookup returns the most specific row present, and the rows kept
//! include every answer), so [`PolicyUsed::tables`] rebuilds small tables
//! that decide the claim exactly as the whole ones did: a replay is small.
//!
//! The rule set is the exception: its canonical document (about 11 KB for
//! the demo payer's) is the same for every claim of a payer, so a record of
//! format 3 cites it by content hash only, and the document stays where it
//! was stored once when published (adjudication's policy versions). A replay
//! loads it by that hash and hands it in as a [`ResolvedRuleSet`], whose only
//! constructor checks that the bytes hash to what the record cites. Records
//! of formats 1 and 2 carry the document (`canonical`) and replay from it.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use claimtrail_events::{ClaimLine, SubmittedClaim};
use claimtrail_policy::{
    CodeKey, Contracts, DrgWeights, ExclusionCheck, ExclusionList, FeeSchedule, GpciTable, MueTable, NcciTable, PerDiemBasis, PerDiems, PriorAuthorizations,
    RvuTable, Setting, ZipLocalities,
};
use claimtrail_rules::RuleSet;
use serde::{Deserialize, Serialize};
use time::Date;

use super::{HistoryFact, RegistryFacts};

/// One table version in force: its content hash and the parsed table.
#[derive(Clone)]
pub struct TableInForce<T> {
    pub content_hash: String,
    pub table: Arc<T>,
}

impl<T> TableInForce<T> {
    pub fn new(content_hash: impl Into<String>, table: T) -> TableInForce<T> {
        TableInForce { content_hash: content_hash.into(), table: Arc::new(table) }
    }
}

/// The payer's policy in force on a claim's first date of service; every
/// part is optional (a payer uploads what it has).
#[derive(Clone, Default)]
pub struct PolicyInForce {
    pub ncci: Option<TableInForce<NcciTable>>,
    pub mue: Option<TableInForce<MueTable>>,
    pub exclusions: Option<TableInForce<ExclusionList>>,
    pub prior_authorizations: Option<TableInForce<PriorAuthorizations>>,
    pub fee_schedule: Option<TableInForce<FeeSchedule>>,
    pub rvu: Option<TableInForce<RvuTable>>,
    pub gpci: Option<TableInForce<GpciTable>>,
    pub zip_localities: Option<TableInForce<ZipLocalities>>,
    pub contracts: Option<TableInForce<Contracts>>,
    pub drg_weights: Option<TableInForce<DrgWeights>>,
    pub per_diems: Option<TableInForce<PerDiems>>,
    pub rule_set: Option<Arc<RuleSet>>,
}

impl fmt::Debug for PolicyInForce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn hash<T>(table: &Option<TableInForce<T>>) -> Option<&str> {
            table.as_ref().map(|table| table.content_hash.as_str())
        }
        f.debug_struct("PolicyInForce")
            .field("ncci", &hash(&self.ncci))
            .field("mue", &hash(&self.mue))
            .field("exclusions", &hash(&self.exclusions))
            .field("prior_authorizations", &hash(&self.prior_authorizations))
            .field("fee_schedule", &hash(&self.fee_schedule))
            .field("rvu", &hash(&self.rvu))
            .field("gpci", &hash(&self.gpci))
            .field("zip_localities", &hash(&self.zip_localities))
            .field("contracts", &hash(&self.contracts))
            .field("drg_weights", &hash(&self.drg_weights))
            .field("per_diems", &hash(&self.per_diems))
            .field("rule_set", &self.rule_set.as_ref().map(|rule_set| rule_set.content_hash().to_owned()))
            .finish()
    }
}

impl PolicyInForce {
    /// Whether any pricing table is in force: then lines are priced by
    /// libs/policy (the provider's contract; fee schedule by code, modifier
    /// and place of service; RBRVS; DRG and per diem), not by the legacy
    /// per-code schedule.
    pub fn prices(&self) -> bool {
        self.fee_schedule.is_some() || self.rvu.is_some() || self.contracts.is_some()
    }

    pub fn is_empty(&self) -> bool {
        self.ncci.is_none()
            && self.mue.is_none()
            && self.exclusions.is_none()
            && self.prior_authorizations.is_none()
            && self.fee_schedule.is_none()
            && self.rvu.is_none()
            && self.gpci.is_none()
            && self.zip_localities.is_none()
            && self.contracts.is_none()
            && self.drg_weights.is_none()
            && self.per_diems.is_none()
            && self.rule_set.is_none()
    }
}

/// The date a claim's table versions are chosen by: its first date of service.
pub fn policy_date(claim: &SubmittedClaim) -> Option<Date> {
    let first_line = claim.lines.iter().map(|line| line.service_date).min();
    match (first_line, claim.statement_from) {
        (Some(line), Some(from)) => Some(line.min(from)),
        (line, from) => line.or(from),
    }
}

/// The date an institutional claim's DRG and per diems are priced by:
/// admission, else the statement's first day, else its first line date (the
/// engine passes that as the stay's first day, so libs/policy's
/// `Stay::priced_on` is this date).
pub fn stay_date(claim: &SubmittedClaim) -> Option<Date> {
    claim.admission_date.or(claim.statement_from).or_else(|| claim.lines.iter().map(|line| line.service_date).min())
}

/// The rows of one table a decision read, with the version's hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowsUsed<R> {
    pub content_hash: String,
    /// The CMS setting of an NCCI or MUE table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setting: Option<Setting>,
    pub rows: Vec<R>,
}

/// The rule set a decision ran: its hash and name (and, in records of
/// formats 1 and 2, its canonical JSON), with the fact-model and evaluator
/// versions it was evaluated under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSetUsed {
    pub content_hash: String,
    pub name: String,
    /// The canonical JSON the hash covers (what [`RuleSet::parse`] reads
    /// back), in records of formats 1 and 2; absent from format 3 on, whose
    /// replay resolves the document by `content_hash` ([`ResolvedRuleSet`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canonical: Option<String>,
    pub fact_model_version: String,
    pub evaluator_version: String,
}

/// A rule set's canonical document loaded by the content hash a record
/// cites, checked against that hash and parsed under the recorded name: what
/// [`PolicyUsed::tables_with`] needs for a record that does not carry the
/// document. Built only by [`ResolvedRuleSet::verify`], so a
/// `ResolvedRuleSet` is always the rule set the record names.
#[derive(Debug, Clone)]
pub struct ResolvedRuleSet {
    rule_set: Arc<RuleSet>,
}

impl ResolvedRuleSet {
    /// Checks that `canonical` (as loaded from the store) is the document
    /// `used` cites: its SHA3-256 is `used.content_hash`, it parses under
    /// `used.name`, and the parsed rule set has that hash too.
    pub fn verify(used: &RuleSetUsed, canonical: &[u8]) -> Result<ResolvedRuleSet, PolicyReplayError> {
        let actual = hex::encode(claimtrail_events::sha3_256(canonical));
        if actual != used.content_hash {
            return Err(PolicyReplayError::HashMismatch { hash: used.content_hash.clone(), actual });
        }
        let rule_set = RuleSet::parse(&used.name, canonical)
            .map_err(|errors| PolicyReplayError::DoesNotParse { hash: used.content_hash.clone(), reason: errors.to_string() })?;
        if rule_set.content_hash() != used.content_hash {
            return Err(PolicyReplayError::HashMismatch { hash: used.content_hash.clone(), actual: rule_set.content_hash().to_owned() });
        }
        Ok(ResolvedRuleSet { rule_set: Arc::new(rule_set) })
    }

    pub fn content_hash(&self) -> &str {
        self.rule_set.content_hash()
    }
}

/// Everything of the payer's policy one decision read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyUsed {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ncci: Option<RowsUsed<claimtrail_policy::PtpEdit>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mue: Option<RowsUsed<claimtrail_policy::Mue>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclusions: Option<RowsUsed<claimtrail_policy::Exclusion>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prior_authorizations: Option<RowsUsed<claimtrail_policy::PriorAuthorization>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_schedule: Option<RowsUsed<claimtrail_policy::Fee>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rvu: Option<RowsUsed<claimtrail_policy::Rvu>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpci: Option<RowsUsed<(claimtrail_policy::Locality, claimtrail_policy::Gpci)>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip_localities: Option<RowsUsed<(u32, claimtrail_policy::Locality)>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contracts: Option<RowsUsed<claimtrail_policy::ContractTerm>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drg_weights: Option<RowsUsed<claimtrail_policy::institutional::DrgWeight>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_diems: Option<RowsUsed<claimtrail_policy::institutional::PerDiem>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_set: Option<RuleSetUsed>,
}

/// Why a recorded policy cannot be rebuilt. Each names the rule set's hash.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PolicyReplayError {
    /// The recorded (or resolved) document no longer parses.
    #[error("the recorded rule set {hash} does not parse: {reason}")]
    DoesNotParse { hash: String, reason: String },
    /// A record of format 3 cites the rule set by hash, and no document was
    /// resolved for it.
    #[error("the rule set {hash} that the record cites by hash was not resolved")]
    Unresolved { hash: String },
    /// No document is stored under the hash a record cites.
    #[error("no document of the rule set {hash} that the record cites is stored")]
    NotStored { hash: String },
    /// The document loaded for the hash is another document: refused rather
    /// than deciding on it.
    #[error("the document loaded for rule set {hash} hashes to {actual}: refused, a replay decides only on the rule set the record cites")]
    HashMismatch { hash: String, actual: String },
}

fn used<T, R>(table: &Option<TableInForce<T>>, setting: Option<Setting>, rows: impl FnOnce(&T) -> Vec<R>) -> Option<RowsUsed<R>> {
    table.as_ref().map(|table| RowsUsed { content_hash: table.content_hash.clone(), setting, rows: rows(&table.table) })
}

/// The modifier and place of service a line is priced by (as libs/policy keys them).
fn pricing_keys(line: &ClaimLine) -> (CodeKey, CodeKey, CodeKey) {
    let code = CodeKey::of(&line.procedure_code);
    let modifier = line.modifiers.first().map(|modifier| CodeKey::of(modifier)).unwrap_or(CodeKey::NONE);
    let pos = CodeKey::of(line.place_of_service.as_deref().unwrap_or(""));
    (code, modifier, pos)
}

fn dedup<R: Clone + PartialEq>(rows: Vec<&R>) -> Vec<R> {
    let mut kept: Vec<R> = Vec::with_capacity(rows.len());
    for row in rows {
        if !kept.contains(row) {
            kept.push(row.clone());
        }
    }
    kept
}

impl PolicyUsed {
    /// What deciding `claim` with `history` under `policy` reads.
    pub fn of(policy: &PolicyInForce, claim: &SubmittedClaim, history: &[HistoryFact], registry: &RegistryFacts) -> PolicyUsed {
        let dates: BTreeSet<Date> = claim.lines.iter().map(|line| line.service_date).collect();
        let claim_codes: BTreeSet<CodeKey> = claim.lines.iter().map(|line| CodeKey::of(&line.procedure_code)).filter(|key| !key.is_none()).collect();
        let history_codes: BTreeSet<CodeKey> = history
            .iter()
            .filter(|fact| dates.contains(&fact.service_date))
            .map(|fact| CodeKey::of(&fact.procedure_code))
            .filter(|key| !key.is_none())
            .collect();
        let all_codes: BTreeSet<CodeKey> = claim_codes.union(&history_codes).copied().collect();
        let renderer = claim.rendering_npi.as_deref().unwrap_or(&claim.billing_npi).to_owned();
        PolicyUsed {
            ncci: used(&policy.ncci, policy.ncci.as_ref().map(|t| t.table.setting()), |table| {
                let mut rows = Vec::new();
                for &one in &all_codes {
                    for &two in &all_codes {
                        if !claim_codes.contains(&one) && !claim_codes.contains(&two) {
                            continue;
                        }
                        rows.extend(dates.iter().filter_map(|&date| table.edit(one, two, date)));
                    }
                }
                dedup(rows)
            }),
            mue: used(&policy.mue, policy.mue.as_ref().map(|t| t.table.setting()), |table| {
                claim_codes.iter().filter_map(|&code| table.mue(code)).copied().collect()
            }),
            exclusions: used(&policy.exclusions, None, |list| {
                let identity = registry.exclusion_identity(&renderer);
                dedup(
                    dates
                        .iter()
                        .filter_map(|&date| match list.check(identity, date) {
                            ExclusionCheck::Clear => None,
                            ExclusionCheck::Excluded(row) | ExclusionCheck::PossibleMatch(row) => Some(row),
                        })
                        .collect(),
                )
            }),
            prior_authorizations: used(&policy.prior_authorizations, None, |table| table.rows_of_member(&claim.member_id).cloned().collect()),
            fee_schedule: used(&policy.fee_schedule, None, |table| {
                dedup(
                    claim
                        .lines
                        .iter()
                        .filter_map(|line| {
                            let (code, modifier, pos) = pricing_keys(line);
                            table.fee(code, modifier, pos, line.service_date)
                        })
                        .collect(),
                )
            }),
            rvu: used(&policy.rvu, None, |table| {
                dedup(
                    claim
                        .lines
                        .iter()
                        .filter_map(|line| {
                            let (code, modifier, _) = pricing_keys(line);
                            table.rvu(code, modifier)
                        })
                        .collect(),
                )
            }),
            zip_localities: used(&policy.zip_localities, None, |table| claim.service_zip.as_deref().and_then(|zip| table.entry(zip)).into_iter().collect()),
            gpci: used(&policy.gpci, None, |table| {
                let locality = claim.service_zip.as_deref().and_then(|zip| policy.zip_localities.as_ref()?.table.locality(zip));
                locality.and_then(|locality| table.gpci(locality).map(|gpci| (locality, *gpci))).into_iter().collect()
            }),
            contracts: used(&policy.contracts, None, |table| {
                let billing = claim.billing_npi.to_string();
                let mut lookups: Vec<(CodeKey, Date)> = Vec::new();
                if let (Some(drg), Some(date)) = (claim.drg.as_deref(), stay_date(claim)) {
                    lookups.push((CodeKey::of(drg), date));
                }
                for line in &claim.lines {
                    lookups.push((CodeKey::of(&line.procedure_code), line.service_date));
                    if let (Some(revenue_code), Some(date)) = (&line.revenue_code, stay_date(claim)) {
                        lookups.push((CodeKey::of(revenue_code), date));
                    }
                }
                let mut rows: Vec<&claimtrail_policy::ContractTerm> =
                    lookups.into_iter().filter(|(code, _)| !code.is_none()).filter_map(|(code, date)| table.term(&billing, code, date)).collect();
                // The provider's own term that puts it in the payer's network (the benefit step's tier).
                rows.extend(policy_date(claim).and_then(|date| table.own_term(&billing, date)));
                dedup(rows)
            }),
            drg_weights: used(&policy.drg_weights, None, |table| {
                let drg = claim.drg.as_deref().and_then(CodeKey::parse);
                drg.zip(stay_date(claim)).and_then(|(drg, date)| table.weight(drg, date).copied()).into_iter().collect()
            }),
            per_diems: used(&policy.per_diems, None, |table| {
                let by_type_of_bill = claim
                    .type_of_bill
                    .as_deref()
                    .zip(stay_date(claim))
                    .and_then(|(type_of_bill, date)| claimtrail_policy::type_of_bill_rate(table, type_of_bill, date).map(|(_, rate)| rate));
                dedup(
                    claim
                        .lines
                        .iter()
                        .filter_map(|line| {
                            let key = CodeKey::parse(line.revenue_code.as_deref()?)?;
                            table.rate(PerDiemBasis::RevenueCode, key, stay_date(claim)?)
                        })
                        .chain(by_type_of_bill)
                        .collect(),
                )
            }),
            rule_set: policy.rule_set.as_ref().map(|rule_set| RuleSetUsed {
                content_hash: rule_set.content_hash().to_owned(),
                name: rule_set.name().to_owned(),
                canonical: None,
                fact_model_version: claimtrail_rules::FACT_MODEL_VERSION.to_owned(),
                evaluator_version: claimtrail_rules::EVALUATOR_VERSION.to_owned(),
            }),
        }
    }

    /// The small tables the recorded rows make (see the module doc), for a
    /// record that carries its rule set's document or ran none.
    pub fn tables(&self) -> Result<PolicyInForce, PolicyReplayError> {
        self.tables_with(None)
    }

    /// The rule set whose document a replay must resolve by hash: the one
    /// this policy cites without carrying its canonical JSON (format 3).
    pub fn rule_set_to_resolve(&self) -> Option<&RuleSetUsed> {
        self.rule_set.as_ref().filter(|used| used.canonical.is_none())
    }

    /// [`PolicyUsed::tables`], with the rule set a record of format 3 cites
    /// by hash resolved from the store (ignored when the record carries its
    /// document, or ran no rule set).
    pub fn tables_with(&self, resolved: Option<&ResolvedRuleSet>) -> Result<PolicyInForce, PolicyReplayError> {
        fn rebuilt<R: Clone, T>(used: &Option<RowsUsed<R>>, build: impl FnOnce(Option<Setting>, Vec<R>) -> T) -> Option<TableInForce<T>> {
            used.as_ref().map(|used| TableInForce::new(used.content_hash.clone(), build(used.setting, used.rows.clone())))
        }
        let rule_set = match &self.rule_set {
            None => None,
            Some(RuleSetUsed { content_hash, name, canonical: Some(canonical), .. }) => Some(Arc::new(
                RuleSet::parse(name, canonical.as_bytes())
                    .map_err(|errors| PolicyReplayError::DoesNotParse { hash: content_hash.clone(), reason: errors.to_string() })?,
            )),
            Some(RuleSetUsed { content_hash, name, canonical: None, .. }) => match resolved {
                None => return Err(PolicyReplayError::Unresolved { hash: content_hash.clone() }),
                Some(resolved) if resolved.rule_set.content_hash() != content_hash => {
                    return Err(PolicyReplayError::HashMismatch { hash: content_hash.clone(), actual: resolved.content_hash().to_owned() });
                }
                Some(resolved) if resolved.rule_set.name() != name => {
                    return Err(PolicyReplayError::DoesNotParse {
                        hash: content_hash.clone(),
                        reason: format!("it was resolved under the name `{}`, the record names it `{name}`", resolved.rule_set.name()),
                    });
                }
                Some(resolved) => Some(resolved.rule_set.clone()),
            },
        };
        Ok(PolicyInForce {
            ncci: rebuilt(&self.ncci, |setting, rows| NcciTable::from_edits(setting.unwrap_or(Setting::Practitioner), rows)),
            mue: rebuilt(&self.mue, |setting, rows| MueTable::from_mues(setting.unwrap_or(Setting::Practitioner), rows)),
            exclusions: rebuilt(&self.exclusions, |_, rows| ExclusionList::from_rows(rows)),
            prior_authorizations: rebuilt(&self.prior_authorizations, |_, rows| PriorAuthorizations::from_rows(rows)),
            fee_schedule: rebuilt(&self.fee_schedule, |_, rows| FeeSchedule::from_fees(rows)),
            rvu: rebuilt(&self.rvu, |_, rows| RvuTable::from_rvus(rows)),
            gpci: rebuilt(&self.gpci, |_, rows| GpciTable::from_gpcis(rows)),
            zip_localities: rebuilt(&self.zip_localities, |_, rows| ZipLocalities::from_zips(rows)),
            contracts: rebuilt(&self.contracts, |_, rows| Contracts::from_terms(rows)),
            drg_weights: rebuilt(&self.drg_weights, |_, rows| DrgWeights::from_weights(rows)),
            per_diems: rebuilt(&self.per_diems, |_, rows| PerDiems::from_rates(rows)),
            rule_set,
        })
    }

    pub fn is_empty(&self) -> bool {
        *self == PolicyUsed::default()
    }
}
