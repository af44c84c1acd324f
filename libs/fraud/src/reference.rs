//! The reference facts the detectors read beside the claims: exclusions,
//! deaths, each payer's NCCI PTP edits by version, minutes per code and
//! provider specialties. The fraud service loads them from the registry, the
//! policy tables (LEIE, NCCI) and enrollment; the measurement from the
//! generated world's files.
//!
//! NCCI edits are the claim's payer's own, in the version in force on the
//! date of service (libs/policy [`Versions`]: the latest effective on or
//! before it, unless its end date has passed), and within it the edit in
//! force on that date ([`NcciTable::edit`]): the same lookup adjudication
//! makes, so a pair adjudication does not apply is not unbundling here.

use std::collections::HashMap;
use std::sync::Arc;

use claimtrail_policy::{CodeKey, NcciTable, PtpEdit, Version, Versions};
use time::Date;

use crate::facts::Fingerprint;

/// An exclusion of a provider: from `from` on, up to `until` (reinstatement) if set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExclusionPeriod {
    pub from: Date,
    pub until: Option<Date>,
}

/// The reference facts, indexed for the detectors.
#[derive(Debug, Clone, Default)]
pub struct Reference {
    exclusions: HashMap<String, Vec<ExclusionPeriod>>,
    member_deaths: HashMap<(String, String), Date>,
    person_deaths: HashMap<(u32, Fingerprint), Date>,
    /// payer id -> the versions of its NCCI PTP table
    ncci: HashMap<String, Versions<Arc<NcciTable>>>,
    minutes: HashMap<String, u32>,
    specialties: HashMap<String, String>,
}

impl Reference {
    /// Empty reference facts (no exclusions, deaths, pairs, minutes or specialties).
    pub fn new() -> Reference {
        Reference::default()
    }

    /// `npi` is excluded over `period`.
    pub fn add_exclusion(&mut self, npi: &str, period: ExclusionPeriod) {
        self.exclusions.entry(npi.to_owned()).or_default().push(period);
    }

    /// The member `member_id` of `payer_id` died on `date`.
    pub fn add_member_death(&mut self, payer_id: &str, member_id: &str, date: Date) {
        self.member_deaths.insert((payer_id.to_owned(), member_id.to_owned()), date);
    }

    /// The person with this keyed person fingerprint (made with key `key_id`) died on `date`.
    pub fn add_person_death(&mut self, key_id: u32, person: Fingerprint, date: Date) {
        self.person_deaths.insert((key_id, person), date);
    }

    /// A version of payer `payer_id`'s NCCI PTP table, for dates of service from `effective_from` until
    /// `effective_to` (exclusive) or the next version's effective date. Add a payer's versions in the order
    /// they were published: a later one with the same effective date replaces the earlier (a corrected upload).
    pub fn add_ncci_version(&mut self, payer_id: &str, effective_from: Date, effective_to: Option<Date>, table: Arc<NcciTable>) {
        self.ncci.entry(payer_id.to_owned()).or_default().insert(Version { effective: effective_from, ends: effective_to, table });
    }

    /// A service of `code` takes at least `minutes` per unit (CMS typical times; the impossible-day detector sums them).
    pub fn add_minutes(&mut self, code: &str, minutes: u32) {
        self.minutes.insert(code.to_owned(), minutes);
    }

    /// `npi`'s specialty, for peer comparison when a claim does not carry one.
    pub fn add_specialty(&mut self, npi: &str, specialty: &str) {
        self.specialties.insert(npi.to_owned(), specialty.to_owned());
    }

    /// The exclusion in force for `npi` on `date`, if any.
    pub fn exclusion_on(&self, npi: &str, date: Date) -> Option<ExclusionPeriod> {
        self.exclusions.get(npi)?.iter().copied().find(|period| period.from <= date && period.until.is_none_or(|until| date < until))
    }

    /// The date of death of the member, by the payer's record or by the person's fingerprint.
    pub fn death_of(&self, payer_id: &str, member_id: &str, person: Option<(u32, Fingerprint)>) -> Option<Date> {
        // A borrowed lookup of a (String, String) key would need a second map; deaths are rare, so this allocation is cheap.
        let by_member = self.member_deaths.get(&(payer_id.to_owned(), member_id.to_owned())).copied();
        let by_person = person.and_then(|key| self.person_deaths.get(&key).copied());
        match (by_member, by_person) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether any death is recorded at all (the detector skips its lookups when none is).
    pub fn has_deaths(&self) -> bool {
        !self.member_deaths.is_empty() || !self.person_deaths.is_empty()
    }

    /// Payer `payer_id`'s NCCI edit with column one `comprehensive` and column two `component` in force on
    /// `service_date`, in the version of its table in force then (whatever its modifier indicator).
    pub fn ptp_edit(&self, payer_id: &str, comprehensive: &str, component: &str, service_date: Date) -> Option<&PtpEdit> {
        let table = &self.ncci.get(payer_id)?.in_force(service_date)?.table;
        table.edit(CodeKey::parse(comprehensive)?, CodeKey::parse(component)?, service_date)
    }

    /// Whether payer `payer_id` has NCCI edits at all (the unbundling detector skips other payers' claims at once).
    pub fn has_ncci(&self, payer_id: &str) -> bool {
        self.ncci.contains_key(payer_id)
    }

    /// The minutes one unit of `code` takes, if known.
    pub fn minutes_of(&self, code: &str) -> Option<u32> {
        self.minutes.get(code).copied()
    }

    pub fn specialty_of(&self, npi: &str) -> Option<&str> {
        self.specialties.get(npi).map(String::as_str)
    }

    /// CMS typical times of the office E/M codes and common timed codes, in minutes per unit.
    pub fn add_standard_minutes(&mut self) {
        for (code, minutes) in STANDARD_MINUTES {
            self.add_minutes(code, minutes);
        }
    }
}

/// Minutes per unit: office E/M (the 2021 total-time floors), psychotherapy, timed therapy (15 min per unit).
pub const STANDARD_MINUTES: [(&str, u32); 17] = [
    ("99202", 15),
    ("99203", 30),
    ("99204", 45),
    ("99205", 60),
    ("99211", 5),
    ("99212", 10),
    ("99213", 20),
    ("99214", 30),
    ("99215", 40),
    ("90832", 16),
    ("90834", 38),
    ("90837", 53),
    ("97110", 15),
    ("97112", 15),
    ("97140", 15),
    ("97530", 15),
    ("90853", 45),
];
