//! The reference facts the detectors read beside the claims: exclusions,
//! deaths, unbundling pairs, minutes per code and provider specialties.
//! The fraud service loads them from the registry, the policy tables (LEIE,
//! NCCI) and enrollment; the measurement from the generated world's files.

use std::collections::HashMap;

use time::Date;

use crate::facts::Fingerprint;

/// An exclusion of a provider: from `from` on, up to `until` (reinstatement) if set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExclusionPeriod {
    pub from: Date,
    pub until: Option<Date>,
}

/// A comprehensive code and the component code it includes (NCCI PTP column 1 / column 2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnbundlingPair {
    pub comprehensive: String,
    pub component: String,
    /// Whether a modifier (59, XE, XS, XP, XU) may bypass the edit (NCCI modifier indicator 1).
    pub modifier_allowed: bool,
}

/// The reference facts, indexed for the detectors.
#[derive(Debug, Clone, Default)]
pub struct Reference {
    exclusions: HashMap<String, Vec<ExclusionPeriod>>,
    member_deaths: HashMap<(String, String), Date>,
    person_deaths: HashMap<(u32, Fingerprint), Date>,
    /// component code -> comprehensive code -> modifier allowed
    unbundling: HashMap<String, HashMap<String, bool>>,
    minutes: HashMap<String, u32>,
    specialties: HashMap<String, String>,
}

/// Modifiers that mark a distinct procedural service (NCCI-associated).
pub const DISTINCT_SERVICE_MODIFIERS: [&str; 5] = ["59", "XE", "XS", "XP", "XU"];

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

    pub fn add_unbundling_pair(&mut self, pair: UnbundlingPair) {
        self.unbundling.entry(pair.component).or_default().insert(pair.comprehensive, pair.modifier_allowed);
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

    /// Whether `component` is bundled into `comprehensive`: `Some(modifier_allowed)` if so.
    pub fn bundled(&self, comprehensive: &str, component: &str) -> Option<bool> {
        self.unbundling.get(component)?.get(comprehensive).copied()
    }

    /// Whether `code` is the component of any pair (a cheap first test).
    pub fn is_component(&self, code: &str) -> bool {
        self.unbundling.contains_key(code)
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

/// Whether `modifiers` hold a distinct-service modifier.
pub fn has_distinct_service_modifier(modifiers: &[String]) -> bool {
    modifiers.iter().any(|modifier| DISTINCT_SERVICE_MODIFIERS.contains(&modifier.as_str()))
}
