//! The fraud service's consumer, [`Scanning`]: `claim.submitted.v1` kept
//! ([`ScannedClaim`]); `claim.adjudicated.v1` and `claim.pended.v1` mark it
//! decided (a void, which has no decision: the `claim.reversed.v1` it causes);
//! `policy_version.published.v1` (exclusion lists, NCCI edits: each version
//! kept with the dates of service it is in force for),
//! `member.enrolled.v1` (dates of death) and
//! `provider.registered.v1` (taxonomy) feed the reference facts;
//! `checkpoint.signed.v1` (and each decision, once a checkpoint is known)
//! runs a scan pass: the decided claims whose submission is on the ledger,
//! in ledger order, through the [`Scanner`]; the findings become alerts
//! ([`domain::decide`]), stored and published on `fraud.>` in the batch's
//! transaction, with the inclusion proofs of their evidence in the tree of
//! the newest checkpoint.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use claimtrail_events::Frequency as ClaimFrequency;
use claimtrail_events::{
    CheckpointSigned, ClaimAdjudicated, ClaimPended, ClaimReversed, ClaimSubmitted, ClaimsErased, DomainEvent, Envelope, Family, InclusionProof,
    MemberEnrolled, NewEvent, PolicyVersionPublished, ProviderRegistered,
};
use claimtrail_fraud::{Finding, Reference, ScanConfig, Scanner};
use claimtrail_runtime::{EventHandler, HandlerError};
use claimtrail_store::Store;
use sea_orm::DatabaseTransaction;
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::domain::claim::ScannedClaim;
use crate::domain::policy::{self as policy_rows, PolicyRows};
use crate::domain::{self, Command, Event, Facts};
use crate::ledger::LedgerSource;
use crate::policy::PolicySource;
use crate::storage;

/// The event handler of the fraud service.
pub struct Scanning {
    store: Store,
    ledger: Option<Arc<dyn LedgerSource>>,
    /// Where the payers' exclusion lists and NCCI edits are read (none: the detectors go without them).
    policy: Option<Arc<dyn PolicySource>>,
    /// The fingerprint key id claims are matched on (the first configured key), if any.
    match_key_id: Option<u32>,
    scan_claims_max: u64,
    /// The size of the newest signed checkpoint seen (0: none yet).
    tree_size: AtomicU64,
    scanner: Mutex<Option<ScanState>>,
}

/// The scanner with what it has seen; rebuilt from the store when the reference facts change or a pass fails.
struct ScanState {
    scanner: Scanner,
    observed: HashSet<Uuid>,
    /// The (year, month) of service of the scanner's current window.
    window: Option<(i32, u8)>,
}

impl Scanning {
    pub fn new(
        store: Store,
        ledger: Option<Arc<dyn LedgerSource>>,
        policy: Option<Arc<dyn PolicySource>>,
        match_key_id: Option<u32>,
        scan_claims_max: u64,
    ) -> Scanning {
        Scanning { store, ledger, policy, match_key_id, scan_claims_max, tree_size: AtomicU64::new(0), scanner: Mutex::new(None) }
    }

    /// A payer's new exclusion list or NCCI edits: fetched by version, checked against the published hash, kept.
    async fn record_policy(&self, tx: &DatabaseTransaction, published: &PolicyVersionPublished) -> Result<(), HandlerError> {
        if !policy_rows::KINDS.contains(&published.kind.as_str()) {
            return Ok(());
        }
        let Some(policy) = self.policy.as_ref() else {
            tracing::warn!(payer_id = %published.payer_id, kind = %published.kind, "no policy source: the detectors go without this version");
            return Ok(());
        };
        let version_id = Uuid::parse_str(&published.version_id).map_err(|e| HandlerError::Invalid(format!("version id {}: {e}", published.version_id)))?;
        let body = policy.content(&published.payer_id, version_id).await?;
        let rows = PolicyRows::of(&published.kind, &published.content_hash, &body)
            .map_err(|e| HandlerError::Invalid(format!("policy version {} of payer {}: {e}", published.version_id, published.payer_id)))?;
        storage::set_policy(&self.store, tx, published, &rows).await?;
        tracing::info!(payer_id = %published.payer_id, kind = %published.kind, rows = rows.len(), "policy rows loaded for the detectors");
        *self.scanner.lock().await = None;
        Ok(())
    }

    async fn rebuild(&self, tx: &DatabaseTransaction) -> Result<ScanState, HandlerError> {
        let (deaths, specialties) = storage::reference(&self.store, tx).await?;
        let mut reference = Reference::new();
        reference.add_standard_minutes();
        for ((payer_id, member_id), date) in deaths {
            reference.add_member_death(&payer_id, &member_id, date);
        }
        for (npi, taxonomy) in specialties {
            reference.add_specialty(&npi, &taxonomy);
        }
        let versions = storage::policy_versions(&self.store, tx).await?;
        for (version_idx, version) in versions.iter().enumerate() {
            // Each payer's NCCI versions by the dates they are in force; of an exclusion list (whose rows carry
            // their own dates), the payer's latest only.
            let later_of_same = versions.get(version_idx + 1).is_some_and(|next| next.payer_id == version.payer_id && next.kind == version.kind);
            if version.kind == policy_rows::EXCLUSIONS && later_of_same {
                continue;
            }
            version.rows.add_to(&version.payer_id, version.in_force, &mut reference);
        }
        let mut state = ScanState { scanner: Scanner::new(reference, ScanConfig::standard()), observed: HashSet::new(), window: None };
        for (claim, ledger_index) in storage::scanned(&self.store, tx).await? {
            let facts = claim.facts(ledger_index);
            state.close_window_before(&facts);
            // Seen before: its alerts were raised then.
            let _ = state.scanner.observe(&facts);
            state.observed.insert(claim.claim_id);
        }
        Ok(state)
    }

    /// One scan pass against the checkpoint of `tree_size` entries: the events of the alerts it raised.
    async fn scan(&self, tx: &DatabaseTransaction, envelope: &Envelope) -> Result<Vec<NewEvent>, HandlerError> {
        let tree_size = self.tree_size.load(Ordering::SeqCst);
        let Some(ledger) = self.ledger.as_ref().filter(|_| tree_size > 0) else { return Ok(vec![]) };
        let mut guard = self.scanner.lock().await;
        let result = self.scan_locked(tx, envelope, ledger.as_ref(), tree_size, &mut guard).await;
        if result.is_err() {
            // The scanner may have seen claims whose pass did not commit: start again from what did.
            *guard = None;
        }
        result
    }

    async fn scan_locked(
        &self,
        tx: &DatabaseTransaction,
        envelope: &Envelope,
        ledger: &dyn LedgerSource,
        tree_size: u64,
        guard: &mut Option<ScanState>,
    ) -> Result<Vec<NewEvent>, HandlerError> {
        let pending = storage::pending(&self.store, tx, self.scan_claims_max).await?;
        if pending.is_empty() {
            return Ok(vec![]);
        }
        let mut ready: Vec<(ScannedClaim, u64)> = Vec::with_capacity(pending.len());
        for claim in pending {
            let ledger_index = match claim.ledger_index {
                Some(index) => Some(index),
                None => {
                    let found = ledger.index_of(claim.event_id).await?;
                    if let Some(index) = found {
                        storage::set_ledger_index(&self.store, tx, claim.claim.claim_id, index).await?;
                    }
                    found
                }
            };
            if let Some(index) = ledger_index.filter(|index| *index < tree_size) {
                ready.push((claim.claim, index));
            }
        }
        if ready.is_empty() {
            return Ok(vec![]);
        }
        ready.sort_by_key(|(_, index)| *index);
        if guard.is_none() {
            *guard = Some(self.rebuild(tx).await?);
        }
        let state = guard.as_mut().expect("rebuilt above");
        let mut findings: Vec<Finding> = Vec::new();
        for (claim, ledger_index) in &ready {
            if !state.observed.insert(claim.claim_id) {
                continue;
            }
            let facts = claim.facts(*ledger_index);
            findings.extend(state.close_window_before(&facts));
            findings.extend(state.scanner.observe(&facts));
        }
        let scanned: Vec<Uuid> = ready.iter().map(|(claim, _)| claim.claim_id).collect();
        storage::mark_scanned(&self.store, tx, &scanned).await?;
        self.raise(tx, envelope, ledger, tree_size, findings).await
    }

    /// Stores and returns the alerts of `findings` that are new.
    async fn raise(
        &self,
        tx: &DatabaseTransaction,
        envelope: &Envelope,
        ledger: &dyn LedgerSource,
        tree_size: u64,
        findings: Vec<Finding>,
    ) -> Result<Vec<NewEvent>, HandlerError> {
        if findings.is_empty() {
            return Ok(vec![]);
        }
        let indices: BTreeSet<u64> = findings.iter().flat_map(|finding| finding.evidence.iter().map(|evidence| evidence.ledger_index)).collect();
        let mut proofs = BTreeMap::new();
        for index in indices {
            proofs.insert(index, InclusionProof { tree_size, hashes: ledger.inclusion(index, tree_size).await? });
        }
        let npis: Vec<String> = findings.iter().filter(|finding| finding.evidence.is_empty()).filter_map(|finding| finding.npi.clone()).collect();
        let provider_payers = storage::provider_payers(&self.store, tx, &npis).await?;
        let facts = Facts { proofs, provider_payers, ..Facts::default() };
        let events = domain::decide(&facts, &Command::Raise { findings }).map_err(|rejection| HandlerError::Invalid(rejection.to_string()))?;
        let mut outgoing = Vec::with_capacity(events.len());
        for event in events {
            if let Event::Raised(alert) = event
                && storage::insert_alert(&self.store, tx, &alert).await?
            {
                tracing::info!(alert_id = %alert.alert_id, pattern = %alert.pattern, payer_id = %alert.payer_id, "fraud alert raised");
                let aggregate = alert.alert_id.to_string();
                outgoing.push(NewEvent::new(alert, aggregate).caused_by(envelope));
            }
        }
        Ok(outgoing)
    }
}

impl ScanState {
    /// Closes the scanner's window when `facts` is of a later month of service than the window's: its provider-level findings.
    fn close_window_before(&mut self, facts: &claimtrail_fraud::ClaimFacts) -> Vec<Finding> {
        let Some((_, last)) = facts.service_span() else { return vec![] };
        let month = (last.year(), u8::from(last.month()));
        match self.window {
            Some(window) if month > window => {
                self.window = Some(month);
                self.scanner.close_window()
            }
            Some(_) => vec![],
            None => {
                self.window = Some(month);
                vec![]
            }
        }
    }
}

#[async_trait]
impl EventHandler for Scanning {
    fn families(&self) -> Vec<Family> {
        vec![Family::Claims, Family::Reference, Family::Ledger]
    }

    fn event_types(&self) -> Option<&'static [&'static str]> {
        Some(&[
            ClaimSubmitted::EVENT_TYPE,
            ClaimAdjudicated::EVENT_TYPE,
            ClaimPended::EVENT_TYPE,
            ClaimReversed::EVENT_TYPE,
            ClaimsErased::EVENT_TYPE,
            MemberEnrolled::EVENT_TYPE,
            ProviderRegistered::EVENT_TYPE,
            PolicyVersionPublished::EVENT_TYPE,
            CheckpointSigned::EVENT_TYPE,
        ])
    }

    async fn handle(&self, tx: &DatabaseTransaction, envelope: &Envelope) -> Result<Vec<NewEvent>, HandlerError> {
        if claimtrail_runtime::erasure::apply(&self.store, tx, envelope).await? {
            if let Ok(DomainEvent::ClaimsErased(erasure)) = envelope.domain_event() {
                storage::erase_claims(&self.store, tx, &erasure.claim_ids).await?;
                *self.scanner.lock().await = None;
            }
            return Ok(vec![]);
        }
        match envelope.domain_event().map_err(|e| HandlerError::Invalid(e.to_string()))? {
            DomainEvent::ClaimSubmitted(submitted) => {
                let claim = ScannedClaim::of(&submitted, self.match_key_id).map_err(|e| HandlerError::Invalid(e.to_string()))?;
                storage::insert_claim(&self.store, tx, envelope.event_id, &claim).await?;
                Ok(vec![])
            }
            DomainEvent::ClaimAdjudicated(ClaimAdjudicated { claim_id, .. }) | DomainEvent::ClaimPended(ClaimPended { claim_id, .. }) => {
                storage::mark_decided(&self.store, tx, claim_id).await?;
                self.scan(tx, envelope).await
            }
            // A void is decided by the reversal it causes (it has no decision of its own).
            DomainEvent::ClaimReversed(ClaimReversed { by_claim_id, frequency: ClaimFrequency::Void, .. }) => {
                storage::mark_decided(&self.store, tx, by_claim_id).await?;
                self.scan(tx, envelope).await
            }
            DomainEvent::MemberEnrolled(member) => {
                storage::set_death(&self.store, tx, &member.payer_id, &member.member_id, member.date_of_death).await?;
                *self.scanner.lock().await = None;
                Ok(vec![])
            }
            DomainEvent::ProviderRegistered(provider) => {
                storage::set_specialty(&self.store, tx, &provider.npi, &provider.taxonomy).await?;
                *self.scanner.lock().await = None;
                Ok(vec![])
            }
            DomainEvent::PolicyVersionPublished(published) => {
                self.record_policy(tx, &published).await?;
                Ok(vec![])
            }
            DomainEvent::CheckpointSigned(checkpoint) => {
                self.tree_size.fetch_max(checkpoint.tree_size, Ordering::SeqCst);
                self.scan(tx, envelope).await
            }
            _ => Ok(vec![]),
        }
    }
}
