//! The claims held for matching (duplicates, cross-payer, unbundling across
//! claims), with their indexes, bounded by the window and `claims_held_max`.

use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};

use time::Date;
use uuid::Uuid;

use crate::facts::{ClaimFacts, Fingerprint, Frequency};
use crate::finding::Evidence;

/// A held claim.
#[derive(Debug)]
pub struct HeldClaim {
    pub claim: ClaimFacts,
    /// A replacement or void arrived for it: it no longer counts as billed.
    pub superseded: bool,
    /// The hash of its lines as a multiset and its rendering NPI (exact duplicates share it).
    pub content: u64,
}

impl HeldClaim {
    pub fn evidence(&self) -> Evidence {
        evidence_of(&self.claim)
    }
}

pub fn evidence_of(claim: &ClaimFacts) -> Evidence {
    Evidence { ledger_index: claim.ledger_index, claim_id: claim.claim_id, payer_id: claim.payer_id.clone() }
}

/// The held claims in arrival order, each with a sequence number, and the indexes over them.
#[derive(Debug, Default)]
pub struct Held {
    claims: VecDeque<HeldClaim>,
    /// The sequence number of `claims[0]`.
    first_seq: u64,
    /// (payer, member, billing NPI, date of service) -> sequence numbers.
    by_day: HashMap<u64, Vec<u64>>,
    /// (key id, line fingerprint) -> sequence numbers.
    by_fingerprint: HashMap<(u32, Fingerprint), Vec<u64>>,
    by_id: HashMap<Uuid, u64>,
}

/// The key of one member's services by one billing provider on one day (a hash; candidates are checked field by field).
pub fn day_key(claim: &ClaimFacts, date: Date) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    (claim.payer_id.as_str(), claim.member_id.as_str(), claim.billing_npi.as_str(), date).hash(&mut hasher);
    hasher.finish()
}

/// The hash of a claim's lines as a multiset (order aside) and its rendering NPI.
pub fn content_hash(claim: &ClaimFacts) -> u64 {
    let mut line_hashes: Vec<u64> = claim
        .lines
        .iter()
        .map(|line| {
            let mut hasher = std::hash::DefaultHasher::new();
            (&line.code, &line.modifiers, line.service_date, line.units, line.charge_cents).hash(&mut hasher);
            hasher.finish()
        })
        .collect();
    line_hashes.sort_unstable();
    let mut hasher = std::hash::DefaultHasher::new();
    (line_hashes, claim.rendering_npi.as_deref()).hash(&mut hasher);
    hasher.finish()
}

/// Whether two claims are for the same member at the same payer by the same billing provider.
pub fn same_member_and_biller(a: &ClaimFacts, b: &ClaimFacts) -> bool {
    a.payer_id == b.payer_id && a.member_id == b.member_id && a.billing_npi == b.billing_npi
}

impl Held {
    pub fn get(&self, seq: u64) -> Option<&HeldClaim> {
        let idx = seq.checked_sub(self.first_seq)?;
        self.claims.get(usize::try_from(idx).ok()?)
    }

    pub fn n_claims(&self) -> usize {
        self.claims.len()
    }

    /// The held claims of the same payer, member and billing provider with a service on a date of `claim`'s,
    /// in arrival order, once each; superseded ones and the one `claim` replaces left out.
    pub fn same_days(&self, claim: &ClaimFacts) -> Vec<&HeldClaim> {
        let mut seqs: Vec<u64> = Vec::new();
        for line in &claim.lines {
            if let Some(found) = self.by_day.get(&day_key(claim, line.service_date)) {
                seqs.extend(found);
            }
        }
        seqs.sort_unstable();
        seqs.dedup();
        seqs.into_iter()
            .filter_map(|seq| self.get(seq))
            .filter(|held| !held.superseded && same_member_and_biller(&held.claim, claim) && Some(held.claim.claim_id) != claim.replaces)
            .collect()
    }

    /// The held claims with a line fingerprint equal to one of `claim`'s (same key id), in arrival order, once each.
    pub fn same_fingerprints(&self, claim: &ClaimFacts) -> Vec<&HeldClaim> {
        let Some(key_id) = claim.fingerprint_key_id else { return Vec::new() };
        let mut seqs: Vec<u64> = Vec::new();
        for fingerprint in claim.lines.iter().filter_map(|line| line.fingerprint) {
            if let Some(found) = self.by_fingerprint.get(&(key_id, fingerprint)) {
                seqs.extend(found);
            }
        }
        seqs.sort_unstable();
        seqs.dedup();
        seqs.into_iter().filter_map(|seq| self.get(seq)).filter(|held| !held.superseded && Some(held.claim.claim_id) != claim.replaces).collect()
    }

    /// Holds `claim` (a void only marks what it voids).
    pub fn insert(&mut self, claim: &ClaimFacts) {
        if let Some(replaced) = claim.replaces.and_then(|id| self.by_id.get(&id).copied()) {
            let first_seq = self.first_seq;
            if let Some(held) = self.claims.get_mut((replaced - first_seq) as usize) {
                held.superseded = true;
            }
        }
        if claim.frequency == Frequency::Void {
            return;
        }
        let seq = self.first_seq + self.claims.len() as u64;
        let mut days: Vec<u64> = claim.lines.iter().map(|line| day_key(claim, line.service_date)).collect();
        days.sort_unstable();
        days.dedup();
        for day in days {
            self.by_day.entry(day).or_default().push(seq);
        }
        if let Some(key_id) = claim.fingerprint_key_id {
            for fingerprint in claim.lines.iter().filter_map(|line| line.fingerprint) {
                let seqs = self.by_fingerprint.entry((key_id, fingerprint)).or_default();
                if seqs.last() != Some(&seq) {
                    seqs.push(seq);
                }
            }
        }
        self.by_id.insert(claim.claim_id, seq);
        self.claims.push_back(HeldClaim { content: content_hash(claim), claim: claim.clone(), superseded: false });
    }

    /// Drops the oldest claims while more than `held_max` are held or the oldest's last service is before `before`.
    pub fn evict(&mut self, held_max: usize, before: Date) {
        while let Some(front) = self.claims.front() {
            let last_service = front.claim.service_span().map(|(_, last)| last);
            if self.claims.len() <= held_max && last_service.is_none_or(|last| last >= before) {
                break;
            }
            let held = self.claims.pop_front().expect("the front exists");
            let seq = self.first_seq;
            self.first_seq += 1;
            for line in &held.claim.lines {
                remove_seq(&mut self.by_day, &day_key(&held.claim, line.service_date), seq);
                if let (Some(key_id), Some(fingerprint)) = (held.claim.fingerprint_key_id, line.fingerprint) {
                    remove_seq(&mut self.by_fingerprint, &(key_id, fingerprint), seq);
                }
            }
            if self.by_id.get(&held.claim.claim_id) == Some(&seq) {
                self.by_id.remove(&held.claim.claim_id);
            }
        }
    }
}

fn remove_seq<K: Hash + Eq>(index: &mut HashMap<K, Vec<u64>>, key: &K, seq: u64) {
    if let Some(seqs) = index.get_mut(key) {
        seqs.retain(|&held| held != seq);
        if seqs.is_empty() {
            index.remove(key);
        }
    }
}
