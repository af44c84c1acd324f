//! Accumulators, event-sourced: what each member (and each family) has met
//! of each bucket in a plan year.
//!
//! The state is a fold of three events: [`AccumulatorsApplied`] (a claim
//! version's entries), [`AccumulatorsReversed`] (exactly those entries,
//! negated, when the version is replaced or voided) and
//! [`AccumulatorsImported`] (amounts met in a prior system). Deciding
//! (cost sharing, [`Accumulators::reverse`]) reads the state and returns
//! events; [`Accumulators::apply`] only folds them in.
//!
//! An entry is keyed by the member for `*_individual` buckets and by the
//! family's subscriber (the member id the family is known by) for
//! `*_family` buckets.

use std::collections::{BTreeMap, HashMap};

use claimtrail_codes::{ClaimId, MemberId};
use claimtrail_events::Money;
use serde::{Deserialize, Serialize};

use crate::bucket::Bucket;

/// One version of a claim: what accumulator entries belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ClaimVersion {
    pub claim_id: ClaimId,
    pub version: u32,
}

/// An amount added to one bucket of one member (or family) and plan year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AccumulatorEntry {
    /// The member for an individual bucket, the family's subscriber for a family bucket.
    pub member_id: MemberId,
    pub plan_year: i32,
    pub bucket: Bucket,
    /// Positive when applied or imported, negative when reversed.
    pub amount: Money,
}

/// A claim version's cost sharing added to the accumulators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AccumulatorsApplied {
    pub claim: ClaimVersion,
    pub entries: Vec<AccumulatorEntry>,
}

/// A claim version's entries taken back, exactly, as negated amounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AccumulatorsReversed {
    pub claim: ClaimVersion,
    pub entries: Vec<AccumulatorEntry>,
}

/// Amounts met in a prior system (mid-year onboarding), from one CSV file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AccumulatorsImported {
    /// SHA3-256 of the file, hex: the same file imported twice is the same import.
    pub source_sha3: String,
    pub entries: Vec<AccumulatorEntry>,
}

/// The accumulator events, tagged by `type` on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AccumulatorEvent {
    Applied(AccumulatorsApplied),
    Reversed(AccumulatorsReversed),
    Imported(AccumulatorsImported),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccumulatorError {
    #[error("claim {} version {} has no accumulator entries to reverse (never applied, or already reversed)", .0.claim_id, .0.version)]
    NotApplied(ClaimVersion),
    #[error("claim {} version {} is already applied to the accumulators; reverse it first", .0.claim_id, .0.version)]
    AlreadyApplied(ClaimVersion),
}

/// The fold of accumulator events: totals per member (or family), plan year
/// and bucket, and each applied claim version's entries (for exact reversal).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Accumulators {
    totals: HashMap<MemberId, BTreeMap<(i32, Bucket), Money>>,
    applied: HashMap<ClaimVersion, Vec<AccumulatorEntry>>,
}

impl Accumulators {
    pub fn new() -> Accumulators {
        Accumulators::default()
    }

    /// The state after `events`, in order.
    pub fn fold<'a>(events: impl IntoIterator<Item = &'a AccumulatorEvent>) -> Accumulators {
        let mut state = Accumulators::new();
        for event in events {
            state.apply(event);
        }
        state
    }

    /// The state as a store holds it: `totals` (one entry per member or
    /// family, plan year and bucket; zero entries are ignored) and the
    /// entries of the claim versions still applied that a decision may
    /// reverse. Nothing is added twice: `applied` is only remembered.
    pub fn from_stored(totals: &[AccumulatorEntry], applied: &[AccumulatorsApplied]) -> Accumulators {
        let mut state = Accumulators::new();
        state.add_all(totals);
        for version in applied {
            state.applied.insert(version.claim, version.entries.clone());
        }
        state
    }

    /// Folds one event in. Decisions were made before (an applied version
    /// not yet applied, a reversal of exactly its entries); breaking them is
    /// a bug, and asserted.
    pub fn apply(&mut self, event: &AccumulatorEvent) {
        match event {
            AccumulatorEvent::Applied(applied) => {
                self.add_all(&applied.entries);
                let earlier = self.applied.insert(applied.claim, applied.entries.clone());
                assert!(earlier.is_none(), "claim {} version {} applied twice", applied.claim.claim_id, applied.claim.version);
            }
            AccumulatorEvent::Reversed(reversed) => {
                self.add_all(&reversed.entries);
                let earlier = self.applied.remove(&reversed.claim);
                assert!(
                    earlier.is_some_and(|entries| entries.iter().map(|entry| entry.amount.negated()).eq(reversed.entries.iter().map(|entry| entry.amount))),
                    "claim {} version {} reversed without being applied, or not exactly",
                    reversed.claim.claim_id,
                    reversed.claim.version
                );
            }
            AccumulatorEvent::Imported(imported) => self.add_all(&imported.entries),
        }
    }

    fn add_all(&mut self, entries: &[AccumulatorEntry]) {
        for entry in entries {
            let buckets = match self.totals.get_mut(&entry.member_id) {
                Some(buckets) => buckets,
                None => self.totals.entry(entry.member_id.clone()).or_default(),
            };
            let key = (entry.plan_year, entry.bucket);
            let total =
                buckets.get(&key).copied().unwrap_or(Money::ZERO).checked_add(entry.amount).expect("an accumulator total stays far inside the decimal range");
            assert!(!total.is_negative(), "bucket {} of plan year {} went below zero", entry.bucket, entry.plan_year);
            // Zero is kept as absence, so equal totals are equal states.
            if total.is_zero() {
                buckets.remove(&key);
                if buckets.is_empty() {
                    self.totals.remove(&entry.member_id);
                }
            } else {
                buckets.insert(key, total);
            }
        }
    }

    /// What `member_id` (a family's subscriber for a family bucket) has met of `bucket` in `plan_year`.
    pub fn met(&self, member_id: &MemberId, plan_year: i32, bucket: Bucket) -> Money {
        self.totals.get(member_id).and_then(|buckets| buckets.get(&(plan_year, bucket))).copied().unwrap_or(Money::ZERO)
    }

    /// The entries a claim version applied, while they stand.
    pub fn applied_entries(&self, claim: &ClaimVersion) -> Option<&[AccumulatorEntry]> {
        self.applied.get(claim).map(Vec::as_slice)
    }

    /// Every non-zero total, sorted: (member or subscriber, plan year, bucket, amount).
    pub fn totals(&self) -> Vec<(MemberId, i32, Bucket, Money)> {
        let mut totals: Vec<_> = self
            .totals
            .iter()
            .flat_map(|(member_id, buckets)| {
                buckets.iter().filter(|(_, amount)| !amount.is_zero()).map(|(&(year, bucket), &amount)| (member_id.clone(), year, bucket, amount))
            })
            .collect();
        totals.sort();
        totals
    }

    /// Decides the reversal of a claim version: exactly its entries, negated.
    pub fn reverse(&self, claim: &ClaimVersion) -> Result<AccumulatorsReversed, AccumulatorError> {
        let entries = self.applied.get(claim).ok_or(AccumulatorError::NotApplied(*claim))?;
        let entries = entries.iter().map(|entry| AccumulatorEntry { amount: entry.amount.negated(), ..entry.clone() }).collect();
        Ok(AccumulatorsReversed { claim: *claim, entries })
    }

    /// Refuses a claim version that is already applied (it would count twice).
    pub fn check_not_applied(&self, claim: &ClaimVersion) -> Result<(), AccumulatorError> {
        if self.applied.contains_key(claim) { Err(AccumulatorError::AlreadyApplied(*claim)) } else { Ok(()) }
    }
}

impl AccumulatorEvent {
    /// The event as it travels on the bus (`accumulators.changed.v1`).
    pub fn to_changed(&self, payer_id: &str) -> claimtrail_events::AccumulatorsChanged {
        let (change, claim, source_sha3, entries) = match self {
            AccumulatorEvent::Applied(applied) => ("applied", Some(applied.claim), None, &applied.entries),
            AccumulatorEvent::Reversed(reversed) => ("reversed", Some(reversed.claim), None, &reversed.entries),
            AccumulatorEvent::Imported(imported) => ("imported", None, Some(imported.source_sha3.clone()), &imported.entries),
        };
        claimtrail_events::AccumulatorsChanged {
            payer_id: payer_id.to_owned(),
            change: change.to_owned(),
            claim_id: claim.map(|claim| claim.claim_id.into()),
            claim_version: claim.map(|claim| claim.version),
            source_sha3,
            entries: entries
                .iter()
                .map(|entry| claimtrail_events::AccumulatorChange {
                    member_id: entry.member_id.to_string(),
                    plan_year: entry.plan_year,
                    bucket: entry.bucket.name().to_owned(),
                    amount: entry.amount,
                })
                .collect(),
            balances: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: &str) -> MemberId {
        MemberId::parse(id).unwrap()
    }

    fn claim(n: u32) -> ClaimVersion {
        ClaimVersion { claim_id: ClaimId::parse(&format!("0190f3a4-7c1e-7d2b-9a41-5f0c3e2d1b{n:02x}")).unwrap(), version: 1 }
    }

    fn entry(id: &str, bucket: Bucket, cents: i64) -> AccumulatorEntry {
        AccumulatorEntry { member_id: member(id), plan_year: 2026, bucket, amount: Money::from_cents(cents) }
    }

    #[test]
    fn the_state_is_the_fold_of_applied_imported_and_reversed_events() {
        let imported =
            AccumulatorEvent::Imported(AccumulatorsImported { source_sha3: "00".into(), entries: vec![entry("M1", Bucket::DeductibleInnIndividual, 35_000)] });
        let applied = AccumulatorEvent::Applied(AccumulatorsApplied {
            claim: claim(1),
            entries: vec![entry("M1", Bucket::DeductibleInnIndividual, 15_000), entry("S1", Bucket::DeductibleInnFamily, 15_000)],
        });
        let mut state = Accumulators::fold([&imported, &applied]);
        assert_eq!(state.met(&member("M1"), 2026, Bucket::DeductibleInnIndividual), Money::from_cents(50_000));
        assert_eq!(state.met(&member("S1"), 2026, Bucket::DeductibleInnFamily), Money::from_cents(15_000));
        assert_eq!(state.met(&member("M1"), 2025, Bucket::DeductibleInnIndividual), Money::ZERO);
        assert_eq!(state.met(&member("M1"), 2026, Bucket::DeductibleOonIndividual), Money::ZERO);
        assert_eq!(state.check_not_applied(&claim(1)), Err(AccumulatorError::AlreadyApplied(claim(1))));

        let reversed = state.reverse(&claim(1)).unwrap();
        assert_eq!(reversed.entries[0].amount, Money::from_cents(-15_000));
        state.apply(&AccumulatorEvent::Reversed(reversed));
        assert_eq!(state.met(&member("M1"), 2026, Bucket::DeductibleInnIndividual), Money::from_cents(35_000));
        assert_eq!(state.totals(), vec![(member("M1"), 2026, Bucket::DeductibleInnIndividual, Money::from_cents(35_000))]);
        assert_eq!(state.reverse(&claim(1)), Err(AccumulatorError::NotApplied(claim(1))));
        assert!(state.check_not_applied(&claim(1)).is_ok());
    }

    #[test]
    fn the_stored_state_reverses_what_it_remembers_without_counting_it_twice() {
        let applied = AccumulatorsApplied { claim: claim(1), entries: vec![entry("M1", Bucket::DeductibleInnIndividual, 15_000)] };
        let mut state = Accumulators::from_stored(&[entry("M1", Bucket::DeductibleInnIndividual, 40_000)], std::slice::from_ref(&applied));
        assert_eq!(state.met(&member("M1"), 2026, Bucket::DeductibleInnIndividual), Money::from_cents(40_000));
        assert_eq!(state.check_not_applied(&claim(1)), Err(AccumulatorError::AlreadyApplied(claim(1))));
        let reversed = state.reverse(&claim(1)).unwrap();
        state.apply(&AccumulatorEvent::Reversed(reversed.clone()));
        assert_eq!(state.met(&member("M1"), 2026, Bucket::DeductibleInnIndividual), Money::from_cents(25_000));
        let wire = AccumulatorEvent::Reversed(reversed).to_changed("P1");
        assert_eq!((wire.change.as_str(), wire.claim_version, wire.entries[0].bucket.as_str()), ("reversed", Some(1), "deductible_inn_individual"));
        assert_eq!(wire.entries[0].amount, Money::from_cents(-15_000));
    }

    #[test]
    fn events_travel_as_tagged_json() {
        let applied = AccumulatorEvent::Applied(AccumulatorsApplied { claim: claim(1), entries: vec![entry("M1", Bucket::OopInnIndividual, 2_000)] });
        let json = serde_json::to_value(&applied).unwrap();
        assert_eq!(json["type"], "applied");
        assert_eq!(json["entries"][0]["bucket"], "oop_inn_individual");
        assert_eq!(json["entries"][0]["amount"], "20.00");
        assert_eq!(serde_json::from_value::<AccumulatorEvent>(json).unwrap(), applied);
    }
}
