//! The labelled world: [`LabelledWorld::generate`].
//!
//! Payers, members (some covered by two payers, some dying in the period),
//! providers of the [`catalogue`](crate::catalogue)'s specialties, and their
//! claims day by day; then benign look-alikes of each pattern (replacements,
//! voids and rebills, repeat labs with modifier 91, COB secondaries, distinct
//! services with modifier 59, weekly batch submitters, busy providers,
//! specialty differences in E/M levels, reinstated providers, services on the
//! day of death) and injected fraud of the nine patterns, with its labels.
//! Claims come out in ledger order (by received date).

use std::collections::HashSet;

use claimtrail_fraud::{
    ClaimFacts, ExclusionPeriod, FingerprintKey, Frequency, LineFacts, Pattern, PersonIdentity, Reference, Sex, fingerprint, person_fingerprint,
};
use time::{Date, Duration, Weekday};
use uuid::Uuid;

use crate::catalogue::{EM_FEES_CENTS, GIVEN_NAMES, PAIRS, SPECIALTIES, SYLLABLES, Specialty, paired};
use crate::rng::Rng;

/// Payers of the world.
pub const PAYERS: [&str; 3] = ["70001", "70002", "70003"];
/// Members' share of each payer as primary.
const PAYER_WEIGHTS: [u32; 3] = [50, 30, 20];

/// What to generate. No `Default`: take [`WorldConfig::for_claims`] or spell it out.
#[derive(Debug, Clone, PartialEq)]
pub struct WorldConfig {
    pub seed: u64,
    pub n_providers: u32,
    /// Days of service, ending on `end`.
    pub days: u32,
    pub end: Date,
    /// Scales every provider's daily volume (1.0: the catalogue's).
    pub volume: f64,
    /// The patterns injected (and labelled); [`Pattern::ALL`] for the measurement. A world
    /// without one has none of its fraud (no upcoders, no spikes, ...), only its look-alikes.
    pub injected: Vec<Pattern>,
}

/// Claims a provider makes over a day, on average over the week, at volume 1 (for sizing).
const CLAIMS_PER_PROVIDER_DAY: f64 = 11.0;
/// Providers of a world, at least (enough peers per specialty).
pub const PROVIDERS_MIN: u32 = 40;

impl WorldConfig {
    /// About `n_claims` claims over the 56 days to `end`: more providers for more claims, and below
    /// [`PROVIDERS_MIN`] providers a lower volume (small worlds make provider-level patterns hard to see).
    pub fn for_claims(seed: u64, n_claims: u64, end: Date) -> WorldConfig {
        let days = 56u32;
        let per_provider = CLAIMS_PER_PROVIDER_DAY * f64::from(days);
        let n_providers = ((n_claims as f64 / per_provider).round() as u32).max(PROVIDERS_MIN);
        let volume = (n_claims as f64 / (per_provider * f64::from(n_providers))).min(1.0);
        WorldConfig { seed, n_providers, days, end, volume, injected: Pattern::ALL.to_vec() }
    }

    /// The same world without `pattern`'s fraud.
    pub fn without(mut self, pattern: Pattern) -> WorldConfig {
        self.injected.retain(|injected| *injected != pattern);
        self
    }

    pub fn start(&self) -> Date {
        self.end - Duration::days(i64::from(self.days.max(1)) - 1)
    }
}

/// One service line of a generated claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthLine {
    pub code: String,
    pub modifiers: Vec<String>,
    pub service_date: Date,
    pub units: u32,
    pub charge_cents: i64,
    pub place_of_service: String,
}

/// A generated claim: what a provider sends, plus the patient's identity (PHI the producer fingerprints).
#[derive(Debug, Clone, PartialEq)]
pub struct SynthClaim {
    pub claim_id: Uuid,
    /// The provider's own number for it (FHIR `Claim.identifier`, 837 CLM01).
    pub control_number: String,
    pub payer_id: String,
    pub member_id: String,
    pub person: PersonIdentity,
    pub billing_npi: String,
    pub taxonomy: String,
    pub cob_secondary: bool,
    pub frequency: Frequency,
    pub replaces: Option<Uuid>,
    pub received: Date,
    pub lines: Vec<SynthLine>,
}

#[derive(Debug, Clone)]
pub struct SynthProvider {
    pub npi: String,
    pub name: String,
    pub specialty: &'static Specialty,
    /// Starts billing on this date (new practices open mid-period).
    pub starts: Date,
    /// Sends its claims once a week, on Mondays.
    pub weekly_batches: bool,
    volume: f64,
    /// Chance a visit is billed a level up, and a level down (each practice's own habits).
    level_up: f64,
    level_up_twice: f64,
    level_down: f64,
    /// Minutes of timed services it can do in a day.
    capacity_minutes: u32,
}

#[derive(Debug, Clone)]
pub struct SynthMember {
    pub person: PersonIdentity,
    /// (payer id, member id there), the primary first; a second one means COB.
    pub coverages: Vec<(String, String)>,
    pub died: Option<Date>,
}

/// A claim-level label: `claim_id,pattern[,duplicates]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClaimLabel {
    pub claim_id: Uuid,
    pub pattern: Pattern,
    pub duplicates: Option<Uuid>,
}

/// A provider or provider-day label: `npi,date,pattern`, the date empty for provider-level patterns.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProviderLabel {
    pub npi: String,
    pub date: Option<Date>,
    pub pattern: Pattern,
}

/// A recorded death: by the member's primary payer, for its member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Death {
    pub payer_id: String,
    pub member_id: String,
    pub date: Date,
    /// Whose death (the producer fingerprints it for matching at other payers).
    pub person: PersonIdentity,
}

/// The generated world: reference data, claims in ledger order, labels.
#[derive(Debug, Clone)]
pub struct LabelledWorld {
    pub config: WorldConfig,
    pub providers: Vec<SynthProvider>,
    pub members: Vec<SynthMember>,
    pub claims: Vec<SynthClaim>,
    pub exclusions: Vec<(String, ExclusionPeriod)>,
    pub deaths: Vec<Death>,
    pub claim_labels: Vec<ClaimLabel>,
    pub provider_labels: Vec<ProviderLabel>,
}

/// How a claim came to be, for choosing what to inject on (never seen by a detector).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// An ordinary claim, free for one injection or look-alike.
    Plain,
    /// Used: a COB secondary, a replacement, an injected copy, or one already built on.
    Used,
}

struct Builder {
    rng: Rng,
    config: WorldConfig,
    providers: Vec<SynthProvider>,
    members: Vec<SynthMember>,
    claims: Vec<(SynthClaim, Origin, usize)>,
    encounters: HashSet<(usize, usize, Date)>,
    /// (provider, date) -> timed minutes billed.
    minutes: std::collections::HashMap<(usize, Date), u32>,
    claim_labels: Vec<ClaimLabel>,
    provider_labels: Vec<ProviderLabel>,
    exclusions: Vec<(String, ExclusionPeriod)>,
    n_ids: u64,
}

impl LabelledWorld {
    /// The world of `config`: deterministic in it.
    pub fn generate(config: WorldConfig) -> LabelledWorld {
        let mut builder = Builder::new(config);
        if builder.injects(Pattern::Upcoding) {
            builder.choose_upcoders();
        }
        builder.ordinary_claims();
        builder.look_alikes();
        builder.inject();
        builder.finish()
    }

    /// What the producers put on the ledger entry of `claim`, as the detectors see it: fingerprints made with `key`.
    pub fn facts(&self, claim: &SynthClaim, ledger_index: u64, key: &FingerprintKey) -> ClaimFacts {
        ClaimFacts {
            claim_id: claim.claim_id,
            payer_id: claim.payer_id.clone(),
            ledger_index,
            billing_npi: claim.billing_npi.clone(),
            rendering_npi: None,
            specialty: Some(claim.taxonomy.clone()),
            member_id: claim.member_id.clone(),
            person: Some(person_fingerprint(key, &claim.person)),
            fingerprint_key_id: Some(key.id()),
            cob_secondary: claim.cob_secondary,
            frequency: claim.frequency,
            replaces: claim.replaces,
            received: claim.received,
            lines: claim
                .lines
                .iter()
                .map(|line| LineFacts {
                    code: line.code.clone(),
                    modifiers: line.modifiers.clone(),
                    service_date: line.service_date,
                    units: line.units,
                    charge_cents: line.charge_cents,
                    place_of_service: Some(line.place_of_service.clone()),
                    fingerprint: Some(fingerprint(key, &claim.person, &claim.billing_npi, line.service_date, &line.code)),
                })
                .collect(),
        }
    }

    /// The reference facts the fraud service would load: the exclusion list, the payers' recorded deaths
    /// (and their persons' fingerprints under `key`), each payer's NCCI table of the pairs, minutes per code, specialties.
    pub fn reference(&self, key: &FingerprintKey) -> Reference {
        let mut reference = Reference::new();
        for (npi, period) in &self.exclusions {
            reference.add_exclusion(npi, *period);
        }
        for death in &self.deaths {
            reference.add_member_death(&death.payer_id, &death.member_id, death.date);
            reference.add_person_death(key.id(), person_fingerprint(key, &death.person), death.date);
        }
        let ncci = std::sync::Arc::new(crate::catalogue::ncci_table());
        for payer_id in PAYERS {
            reference.add_ncci_version(payer_id, crate::catalogue::PAIRS_EFFECTIVE, None, ncci.clone());
        }
        reference.add_standard_minutes();
        for provider in &self.providers {
            reference.add_specialty(&provider.npi, provider.specialty.taxonomy);
        }
        reference
    }

    /// How many of each pattern were injected, and over what: claims (claim-level), providers (provider-level), provider-days.
    pub fn prevalence(&self) -> Vec<Prevalence> {
        let n_provider_days =
            self.claims.iter().flat_map(|claim| claim.lines.iter().map(|line| (claim.billing_npi.as_str(), line.service_date))).collect::<HashSet<_>>().len();
        Pattern::ALL
            .into_iter()
            .map(|pattern| {
                let (n_labelled, n_of, of) = match pattern.level() {
                    claimtrail_fraud::Level::Claim => (self.claim_labels.iter().filter(|label| label.pattern == pattern).count(), self.claims.len(), "claims"),
                    claimtrail_fraud::Level::Provider => {
                        (self.provider_labels.iter().filter(|label| label.pattern == pattern).count(), self.providers.len(), "providers")
                    }
                    claimtrail_fraud::Level::ProviderDay => {
                        (self.provider_labels.iter().filter(|label| label.pattern == pattern).count(), n_provider_days, "provider-days")
                    }
                };
                Prevalence { pattern, n_labelled, n_of, of }
            })
            .collect()
    }

    /// `claim_id,pattern,duplicates` (the claim a duplicate duplicates, else empty), one row per label.
    pub fn claim_labels_csv(&self) -> String {
        let mut csv = String::from("claim_id,pattern,duplicates\n");
        for label in &self.claim_labels {
            let duplicates = label.duplicates.map(|id| id.to_string()).unwrap_or_default();
            csv.push_str(&format!("{},{},{duplicates}\n", label.claim_id, label.pattern));
        }
        csv
    }

    /// `npi,date,pattern`, the date empty for provider-level patterns.
    pub fn provider_labels_csv(&self) -> String {
        let mut csv = String::from("npi,date,pattern\n");
        for label in &self.provider_labels {
            let date = label.date.map(|date| date.to_string()).unwrap_or_default();
            csv.push_str(&format!("{},{date},{}\n", label.npi, label.pattern));
        }
        csv
    }
}

/// One pattern's prevalence in a world.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prevalence {
    pub pattern: Pattern,
    pub n_labelled: usize,
    pub n_of: usize,
    /// What `n_of` counts: claims, providers or provider-days.
    pub of: &'static str,
}

impl std::fmt::Display for Prevalence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let share = if self.n_of == 0 { 0.0 } else { 100.0 * self.n_labelled as f64 / self.n_of as f64 };
        write!(f, "{:<22} {:>6} of {:>8} {:<13} ({share:.2}%)", self.pattern.as_str(), self.n_labelled, self.n_of, self.of)
    }
}

/// The ten-digit NPI whose first nine digits are `base`: the Luhn check digit over 80840 and those nine digits.
pub fn npi_with_check_digit(base: u64) -> String {
    let digits = format!("80840{:09}", base % 1_000_000_000);
    let sum: u32 = digits
        .chars()
        .rev()
        .enumerate()
        .map(|(idx, c)| {
            let digit = c.to_digit(10).unwrap_or(0);
            if idx % 2 == 0 {
                let doubled = digit * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                digit
            }
        })
        .sum();
    format!("{:09}{}", base % 1_000_000_000, (10 - sum % 10) % 10)
}

fn em_code(level: u8, new_patient: bool) -> String {
    if new_patient { format!("9920{}", level.max(2)) } else { format!("9921{level}") }
}

fn minutes_of(code: &str) -> u32 {
    claimtrail_fraud::reference::STANDARD_MINUTES.iter().find(|(known, _)| *known == code).map_or(0, |(_, minutes)| *minutes)
}

fn line_minutes(lines: &[SynthLine]) -> u32 {
    lines.iter().map(|line| minutes_of(&line.code) * line.units.max(1)).sum()
}

impl Builder {
    fn new(config: WorldConfig) -> Builder {
        let mut rng = Rng::new(config.seed);
        let start = config.start();
        let weights: Vec<u32> = SPECIALTIES.iter().map(|specialty| specialty.weight).collect();
        let providers: Vec<SynthProvider> = (0..config.n_providers)
            .map(|idx| {
                // The first providers cover every specialty, so every world has peers to compare.
                let specialty =
                    if (idx as usize) < SPECIALTIES.len() * 5 { &SPECIALTIES[idx as usize % SPECIALTIES.len()] } else { &SPECIALTIES[rng.weighted(&weights)] };
                let starts = if rng.chance(0.05) { start + Duration::days(rng.below(u64::from(config.days) / 2 + 1) as i64) } else { start };
                SynthProvider {
                    npi: npi_with_check_digit(100_000_000 + config.seed % 1_000 * 100_000 + u64::from(idx)),
                    name: format!("{} {}", specialty.label, idx + 1),
                    specialty,
                    starts,
                    weekly_batches: rng.chance(0.15),
                    volume: config.volume * (0.7 + 0.6 * rng.unit()),
                    level_up: 0.15 * rng.unit(),
                    level_up_twice: 0.0,
                    level_down: 0.15 * rng.unit(),
                    capacity_minutes: 480 + rng.below(271) as u32,
                }
            })
            .collect();
        let expected_claims = CLAIMS_PER_PROVIDER_DAY * f64::from(config.days) * f64::from(config.n_providers) * config.volume;
        let n_members = ((expected_claims / 3.0) as usize).max(200);
        let members = (0..n_members)
            .map(|idx| {
                let family: String = (0..3).map(|_| SYLLABLES[rng.below(SYLLABLES.len() as u64) as usize]).collect();
                let mut family_chars = family.chars();
                let family = family_chars.next().map(|c| c.to_ascii_uppercase().to_string() + family_chars.as_str()).unwrap_or_default();
                let person = PersonIdentity {
                    family_name: family,
                    given_name: GIVEN_NAMES[rng.below(GIVEN_NAMES.len() as u64) as usize].into(),
                    birth_date: Date::from_julian_day(
                        Date::from_calendar_date(1935, time::Month::January, 1).expect("a date").to_julian_day() + rng.below(85 * 365) as i32,
                    )
                    .expect("a date"),
                    sex: if rng.chance(0.52) { Sex::Female } else { Sex::Male },
                };
                let primary = rng.weighted(&PAYER_WEIGHTS);
                let mut coverages = vec![(PAYERS[primary].to_owned(), format!("M{}-{:07}", primary + 1, idx))];
                if rng.chance(0.15) {
                    let secondary = (primary + 1 + rng.below(2) as usize) % PAYERS.len();
                    coverages.push((PAYERS[secondary].to_owned(), format!("S{}-{:08}", secondary + 1, idx * 7 + 3)));
                }
                let died = rng.chance(0.004).then(|| start + Duration::days(rng.below(u64::from(config.days)) as i64));
                SynthMember { person, coverages, died }
            })
            .collect();
        Builder {
            rng,
            config,
            providers,
            members,
            claims: Vec::new(),
            encounters: HashSet::new(),
            minutes: std::collections::HashMap::new(),
            claim_labels: Vec::new(),
            provider_labels: Vec::new(),
            exclusions: Vec::new(),
            n_ids: 0,
        }
    }

    fn next_id(&mut self) -> (Uuid, String) {
        self.n_ids += 1;
        (Uuid::from_u64_pair(0xF4A0_D000_0000_0000 | (self.config.seed & 0xFFFF_FFFF), self.n_ids), format!("SYN-{}-{:08}", self.config.seed, self.n_ids))
    }

    /// The level of one visit by `provider`, by its specialty's mix and its habits.
    fn em_level(&mut self, provider: usize) -> Option<u8> {
        let mix = self.providers[provider].specialty.em_mix?;
        let mut level = self.rng.weighted(&mix) as i32 + 1;
        let (up, up_twice, down) = (self.providers[provider].level_up, self.providers[provider].level_up_twice, self.providers[provider].level_down);
        let draw = self.rng.unit();
        if draw < up_twice {
            level += 2;
        } else if draw < up_twice + up {
            level += 1;
        } else if draw > 1.0 - down {
            level -= 1;
        }
        Some(level.clamp(1, 5) as u8)
    }

    fn charge(&mut self, fee_cents: i64, units: u32) -> i64 {
        let multiplier = 100 + self.rng.below(151) as i64; // 1.00 to 2.50 times the fee
        fee_cents * multiplier / 100 * i64::from(units)
    }

    /// The lines of one encounter of `provider` on `date`.
    fn encounter_lines(&mut self, provider: usize, date: Date) -> Vec<SynthLine> {
        let specialty = self.providers[provider].specialty;
        let place = specialty.places[self.rng.weighted(&specialty.places.iter().map(|(_, weight)| *weight).collect::<Vec<_>>())].0.to_owned();
        let mut lines = Vec::new();
        let push = |lines: &mut Vec<SynthLine>, code: &str, modifiers: Vec<String>, units: u32, charge_cents: i64| {
            lines.push(SynthLine { code: code.into(), modifiers, service_date: date, units, charge_cents, place_of_service: place.clone() });
        };
        if let Some(level) = self.em_level(provider) {
            let new_patient = self.rng.chance(specialty.new_patient_chance);
            let fee = EM_FEES_CENTS[usize::from(level - 1)] * if new_patient { 4 } else { 3 } / 3;
            let charge = self.charge(fee, 1);
            push(&mut lines, &em_code(level, new_patient), Vec::new(), 1, charge);
            for extra in specialty.extras {
                if self.rng.chance(extra.chance) {
                    let units = 1 + self.rng.below(u64::from(extra.units_max)) as u32;
                    let charge = self.charge(extra.fee_cents, units);
                    push(&mut lines, extra.code, Vec::new(), units, charge);
                    if extra.code == "29881" && self.rng.chance(0.2) {
                        // A distinct compartment: the component billed with 59, as the pair allows.
                        let charge = self.charge(40_000, 1);
                        push(&mut lines, "29877", vec!["59".into()], 1, charge);
                    }
                }
            }
        } else {
            let n_lines = 1 + self.rng.below(u64::from(specialty.lines_max)) as usize;
            let mut codes: Vec<usize> = Vec::new();
            while codes.len() < n_lines {
                let code = self.rng.below(specialty.services.len() as u64) as usize;
                let pairs_with_chosen = codes.iter().any(|chosen| paired(specialty.services[*chosen].0, specialty.services[code].0));
                // Labs never bill a panel with its component; therapy bills the pair with 59 on the component.
                if codes.contains(&code) || (pairs_with_chosen && specialty.entity_type == 2) {
                    if codes.len() + 1 >= specialty.services.len() {
                        break;
                    }
                    continue;
                }
                codes.push(code);
            }
            let chosen: Vec<&str> = codes.iter().map(|code| specialty.services[*code].0).collect();
            for code in &codes {
                let (code, fee, units_max) = specialty.services[*code];
                let units = 1 + self.rng.below(u64::from(units_max)) as u32;
                let distinct = code == "97140" && chosen.contains(&"97530");
                let charge = self.charge(fee, units);
                push(&mut lines, code, if distinct { vec!["59".into()] } else { Vec::new() }, units, charge);
            }
        }
        lines
    }

    fn received_for(&mut self, provider: usize, service: Date) -> Date {
        if self.providers[provider].weekly_batches {
            let days_to_monday = (7 - i64::from(service.weekday().number_days_from_monday())) % 7;
            service + Duration::days(days_to_monday.max(1) + if days_to_monday == 0 { 6 } else { 0 })
        } else {
            service + Duration::days(1 + i64::from(self.rng.poisson(3.0)))
        }
    }

    fn push_claim(&mut self, claim: SynthClaim, origin: Origin, provider: usize) -> usize {
        self.claims.push((claim, origin, provider));
        self.claims.len() - 1
    }

    /// A claim for `member`'s primary coverage (or `coverage`) from `provider`.
    fn new_claim(&mut self, provider: usize, member: usize, coverage: usize, lines: Vec<SynthLine>, received: Date) -> SynthClaim {
        let (claim_id, control_number) = self.next_id();
        let (payer_id, member_id) = self.members[member].coverages[coverage].clone();
        SynthClaim {
            claim_id,
            control_number,
            payer_id,
            member_id,
            person: self.members[member].person.clone(),
            billing_npi: self.providers[provider].npi.clone(),
            taxonomy: self.providers[provider].specialty.taxonomy.to_owned(),
            cob_secondary: coverage > 0,
            frequency: Frequency::Original,
            replaces: None,
            received,
            lines,
        }
    }

    /// A member alive on `date` and free of an encounter with `provider` that day.
    fn pick_member(&mut self, provider: usize, date: Date) -> Option<usize> {
        for _ in 0..20 {
            let member = self.rng.below(self.members.len() as u64) as usize;
            if self.members[member].died.is_none_or(|died| date <= died) && self.encounters.insert((member, provider, date)) {
                return Some(member);
            }
        }
        None
    }

    fn ordinary_claims(&mut self) {
        let start = self.config.start();
        for day_idx in 0..self.config.days {
            let date = start + Duration::days(i64::from(day_idx));
            let weekend = matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday);
            for provider in 0..self.providers.len() {
                if date < self.providers[provider].starts {
                    continue;
                }
                let specialty = self.providers[provider].specialty;
                let mean = specialty.daily_encounters * self.providers[provider].volume * if weekend { specialty.weekend_share } else { 1.0 };
                let n_encounters = self.rng.poisson(mean);
                for _ in 0..n_encounters {
                    let lines = self.encounter_lines(provider, date);
                    let minutes = line_minutes(&lines);
                    let used = self.minutes.get(&(provider, date)).copied().unwrap_or(0);
                    if used + minutes > self.providers[provider].capacity_minutes {
                        break;
                    }
                    let Some(member) = self.pick_member(provider, date) else { continue };
                    *self.minutes.entry((provider, date)).or_default() += minutes;
                    let received = self.received_for(provider, date);
                    let claim = self.new_claim(provider, member, 0, lines, received);
                    let secondary = (self.members[member].coverages.len() > 1 && self.rng.chance(0.3)).then(|| {
                        let secondary_received = received + Duration::days(7 + self.rng.below(14) as i64);
                        let mut secondary = self.new_claim(provider, member, 1, claim.lines.clone(), secondary_received);
                        secondary.cob_secondary = true;
                        secondary
                    });
                    let origin = if secondary.is_some() { Origin::Used } else { Origin::Plain };
                    self.push_claim(claim, origin, provider);
                    if let Some(secondary) = secondary {
                        self.push_claim(secondary, Origin::Used, provider);
                    }
                }
            }
        }
    }

    /// A plain claim chosen at random (marked used), matching `accept`.
    fn take_plain(&mut self, accept: impl Fn(&SynthClaim, &SynthProvider, &SynthMember) -> bool) -> Option<usize> {
        for _ in 0..200 {
            let idx = self.rng.below(self.claims.len() as u64) as usize;
            let (claim, origin, provider) = &self.claims[idx];
            let member = self.member_of(claim);
            if *origin == Origin::Plain && accept(claim, &self.providers[*provider], &self.members[member]) {
                self.claims[idx].1 = Origin::Used;
                return Some(idx);
            }
        }
        None
    }

    fn member_of(&self, claim: &SynthClaim) -> usize {
        // Member ids end in the member's index (primary) or 7 * index + 3 (secondary).
        let number: usize = claim.member_id.rsplit('-').next().and_then(|digits| digits.parse().ok()).unwrap_or(0);
        if claim.member_id.starts_with('S') { (number - 3) / 7 } else { number }
    }

    fn copy_of(&mut self, idx: usize, received: Date) -> SynthClaim {
        let (claim_id, control_number) = self.next_id();
        SynthClaim { claim_id, control_number, received, ..self.claims[idx].0.clone() }
    }

    /// Benign look-alikes: replacements, voids with a rebill, repeat labs with modifier 91, a reinstated provider.
    fn look_alikes(&mut self) {
        let n_claims = self.claims.len();
        for _ in 0..(n_claims / 200).max(1) {
            let Some(idx) = self.take_plain(|_, _, _| true) else { break };
            let received = self.claims[idx].0.received + Duration::days(3 + self.rng.below(27) as i64);
            let mut replacement = self.copy_of(idx, received);
            replacement.frequency = Frequency::Replacement;
            replacement.replaces = Some(self.claims[idx].0.claim_id);
            if self.rng.chance(0.5) {
                replacement.lines[0].charge_cents += 500;
            }
            let provider = self.claims[idx].2;
            self.push_claim(replacement, Origin::Used, provider);
        }
        for _ in 0..(n_claims / 500).max(1) {
            let Some(idx) = self.take_plain(|_, _, _| true) else { break };
            let void_received = self.claims[idx].0.received + Duration::days(2 + self.rng.below(8) as i64);
            let mut void = self.copy_of(idx, void_received);
            void.frequency = Frequency::Void;
            void.replaces = Some(self.claims[idx].0.claim_id);
            let rebill_received = void_received + Duration::days(1 + self.rng.below(5) as i64);
            let rebill = self.copy_of(idx, rebill_received);
            let provider = self.claims[idx].2;
            self.push_claim(void, Origin::Used, provider);
            self.push_claim(rebill, Origin::Used, provider);
        }
        for _ in 0..(n_claims / 400).max(1) {
            let Some(idx) = self.take_plain(|_, provider, _| provider.specialty.entity_type == 2) else { break };
            let received = self.claims[idx].0.received + Duration::days(self.rng.below(3) as i64);
            let mut repeat = self.copy_of(idx, received);
            repeat.lines.truncate(1);
            repeat.lines[0].modifiers = vec!["91".into()];
            let provider = self.claims[idx].2;
            self.push_claim(repeat, Origin::Used, provider);
        }
        // A provider excluded long ago and reinstated before the period: its claims are fine.
        let start = self.config.start();
        let reinstated = self.rng.below(self.providers.len() as u64) as usize;
        self.exclusions
            .push((self.providers[reinstated].npi.clone(), ExclusionPeriod { from: start - Duration::days(400), until: Some(start - Duration::days(30)) }));
    }

    fn inject(&mut self) {
        let n_claims = self.claims.len();
        let share = |permille: usize| (n_claims * permille / 1000).max(1);
        let (exact, near, cross, unbundled) = (share(5), share(5), share(4), share(4));
        if self.injects(Pattern::ExactDuplicate) {
            self.inject_exact_duplicates(exact);
        }
        if self.injects(Pattern::NearDuplicate) {
            self.inject_near_duplicates(near);
        }
        if self.injects(Pattern::CrossPayerDuplicate) {
            self.inject_cross_payer(cross);
        }
        if self.injects(Pattern::Unbundling) {
            self.inject_unbundling(unbundled);
        }
        if self.injects(Pattern::ImpossibleDay) {
            self.inject_impossible_days();
        }
        if self.injects(Pattern::VelocitySpike) {
            self.inject_velocity_spikes();
        }
        if self.injects(Pattern::AfterDeath) {
            self.inject_after_death();
        }
        if self.injects(Pattern::ExcludedProvider) {
            self.inject_exclusions();
        }
    }

    fn injects(&self, pattern: Pattern) -> bool {
        self.config.injected.contains(&pattern)
    }

    fn inject_exact_duplicates(&mut self, n: usize) {
        for _ in 0..n {
            let Some(idx) = self.take_plain(|_, _, _| true) else { break };
            let received = self.claims[idx].0.received + Duration::days(5 + self.rng.below(35) as i64);
            let copy = self.copy_of(idx, received);
            self.claim_labels.push(ClaimLabel { claim_id: copy.claim_id, pattern: Pattern::ExactDuplicate, duplicates: Some(self.claims[idx].0.claim_id) });
            let provider = self.claims[idx].2;
            self.push_claim(copy, Origin::Used, provider);
        }
    }

    fn inject_near_duplicates(&mut self, n: usize) {
        for _ in 0..n {
            let Some(idx) = self.take_plain(|_, _, _| true) else { break };
            let received = self.claims[idx].0.received + Duration::days(5 + self.rng.below(35) as i64);
            let mut copy = self.copy_of(idx, received);
            let provider = self.claims[idx].2;
            match self.rng.below(4) {
                0 => copy.lines[0].charge_cents = copy.lines[0].charge_cents * (110 + self.rng.below(30) as i64) / 100,
                1 if copy.lines.len() > 1 => {
                    copy.lines.pop();
                }
                2 => {
                    let date = copy.lines[0].service_date;
                    let extra = self
                        .encounter_lines(provider, date)
                        .into_iter()
                        .find(|line| copy.lines.iter().all(|ours| ours.code != line.code && !paired(&ours.code, &line.code)));
                    match extra {
                        Some(line) => copy.lines.push(line),
                        None => copy.lines[0].units += 1,
                    }
                }
                _ => copy.lines[0].modifiers.push("25".into()),
            }
            self.claim_labels.push(ClaimLabel { claim_id: copy.claim_id, pattern: Pattern::NearDuplicate, duplicates: Some(self.claims[idx].0.claim_id) });
            self.push_claim(copy, Origin::Used, provider);
        }
    }

    fn inject_cross_payer(&mut self, n: usize) {
        for _ in 0..n {
            let Some(idx) = self.take_plain(|claim, _, member| member.coverages.len() > 1 && !claim.cob_secondary) else { break };
            let member = self.member_of(&self.claims[idx].0);
            let (payer_id, member_id) = self.members[member].coverages[1].clone();
            let received = self.claims[idx].0.received + Duration::days(1 + self.rng.below(20) as i64);
            let mut copy = self.copy_of(idx, received);
            copy.payer_id = payer_id;
            copy.member_id = member_id;
            self.claim_labels.push(ClaimLabel {
                claim_id: copy.claim_id,
                pattern: Pattern::CrossPayerDuplicate,
                duplicates: Some(self.claims[idx].0.claim_id),
            });
            let provider = self.claims[idx].2;
            self.push_claim(copy, Origin::Used, provider);
        }
    }

    fn inject_unbundling(&mut self, n: usize) {
        let comprehensive_of = |claim: &SynthClaim| {
            PAIRS.iter().find(|(comprehensive, component, _)| {
                claim.lines.iter().any(|line| line.code == *comprehensive) && claim.lines.iter().all(|line| line.code != *component)
            })
        };
        for _ in 0..n {
            let Some(idx) = self.take_plain(|claim, _, _| comprehensive_of(claim).is_some()) else { break };
            let (_, component, _) = *comprehensive_of(&self.claims[idx].0).expect("chosen for it");
            let template = self.claims[idx].0.lines[0].clone();
            let charge = self.charge(1_500, 1);
            let line = SynthLine { code: component.into(), modifiers: Vec::new(), units: 1, charge_cents: charge, ..template };
            if self.rng.chance(0.6) {
                self.claims[idx].0.lines.push(line);
                self.claim_labels.push(ClaimLabel { claim_id: self.claims[idx].0.claim_id, pattern: Pattern::Unbundling, duplicates: None });
            } else {
                let received = self.claims[idx].0.received + Duration::days(self.rng.below(10) as i64 + 1);
                let mut split = self.copy_of(idx, received);
                split.lines = vec![line];
                self.claim_labels.push(ClaimLabel { claim_id: split.claim_id, pattern: Pattern::Unbundling, duplicates: None });
                let provider = self.claims[idx].2;
                self.push_claim(split, Origin::Used, provider);
            }
        }
    }

    /// Upcoders bill their visits a level or two up, most of the time (chosen before any claim is made,
    /// so their days stay within what they can do and their duplicates copy upcoded claims).
    fn choose_upcoders(&mut self) {
        let visiting: Vec<usize> = (0..self.providers.len()).filter(|idx| self.providers[*idx].specialty.em_mix.is_some()).collect();
        let n_upcoders = (visiting.len() * 7 / 100).max(1).min(visiting.len());
        let mut upcoders = Vec::new();
        while upcoders.len() < n_upcoders {
            let provider = visiting[self.rng.below(visiting.len() as u64) as usize];
            if !upcoders.contains(&provider) {
                upcoders.push(provider);
            }
        }
        for provider in upcoders {
            let upcoder = &mut self.providers[provider];
            upcoder.level_up = 0.55 + 0.2 * self.rng.unit();
            upcoder.level_up_twice = 0.1;
            upcoder.level_down = 0.0;
            self.provider_labels.push(ProviderLabel { npi: upcoder.npi.clone(), date: None, pattern: Pattern::Upcoding });
        }
    }

    /// Impossible days: a provider bills 20 to 30 hours of visits on one weekday (the extra claims are made up).
    fn inject_impossible_days(&mut self) {
        let timed: Vec<usize> = (0..self.providers.len())
            .filter(|idx| matches!(self.providers[*idx].specialty.taxonomy, "207Q00000X" | "207R00000X" | "2084P0800X" | "225100000X"))
            .collect();
        let n_days = (timed.len() * 5 / 100).max(2);
        let start = self.config.start();
        let mut done = HashSet::new();
        for _ in 0..n_days * 20 {
            if done.len() >= n_days {
                break;
            }
            let provider = timed[self.rng.below(timed.len() as u64) as usize];
            let date = start + Duration::days(7 + self.rng.below(u64::from(self.config.days.saturating_sub(7)).max(1)) as i64);
            if matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday) || date < self.providers[provider].starts || done.contains(&provider) {
                continue;
            }
            done.insert(provider);
            let target = 1_200 + self.rng.below(600) as u32;
            let mut billed = self.minutes.get(&(provider, date)).copied().unwrap_or(0);
            let mut guard = 0;
            while billed <= target && guard < 500 {
                guard += 1;
                let lines = self.encounter_lines(provider, date);
                let Some(member) = self.pick_member(provider, date) else { continue };
                billed += line_minutes(&lines);
                let received = self.received_for(provider, date);
                let claim = self.new_claim(provider, member, 0, lines, received);
                self.push_claim(claim, Origin::Used, provider);
            }
            self.minutes.insert((provider, date), billed);
            self.provider_labels.push(ProviderLabel { npi: self.providers[provider].npi.clone(), date: Some(date), pattern: Pattern::ImpossibleDay });
        }
    }

    /// Velocity spikes: a laboratory sends six to ten times its daily claims in a day (services of the ten days before, made up).
    fn inject_velocity_spikes(&mut self) {
        let labs: Vec<usize> = (0..self.providers.len())
            .filter(|idx| {
                self.providers[*idx].specialty.entity_type == 2 && !self.providers[*idx].weekly_batches && self.providers[*idx].starts == self.config.start()
            })
            .collect();
        if labs.is_empty() {
            return;
        }
        let n_spikes = (labs.len() / 5).max(1);
        let mut spiking = Vec::new();
        while spiking.len() < n_spikes {
            let provider = labs[self.rng.below(labs.len() as u64) as usize];
            if !spiking.contains(&provider) {
                spiking.push(provider);
            }
        }
        for provider in spiking {
            let daily = self.providers[provider].specialty.daily_encounters * self.providers[provider].volume;
            let n_claims = (daily * (6.0 + 4.0 * self.rng.unit())).round() as u32;
            let spike_day = self.config.end - Duration::days(3 + self.rng.below(18) as i64);
            for _ in 0..n_claims {
                let date = spike_day - Duration::days(1 + self.rng.below(10) as i64);
                let lines = self.encounter_lines(provider, date);
                let Some(member) = self.pick_member(provider, date) else { continue };
                let claim = self.new_claim(provider, member, 0, lines, spike_day);
                self.push_claim(claim, Origin::Used, provider);
            }
            self.provider_labels.push(ProviderLabel { npi: self.providers[provider].npi.clone(), date: None, pattern: Pattern::VelocitySpike });
        }
    }

    /// Services after death: one to three made-up claims for some members who died, after the date of death.
    fn inject_after_death(&mut self) {
        let dead: Vec<usize> = (0..self.members.len()).filter(|idx| self.members[*idx].died.is_some_and(|died| died < self.config.end)).collect();
        for member in dead {
            if !self.rng.chance(0.5) {
                continue;
            }
            let died = self.members[member].died.expect("filtered");
            for _ in 0..1 + self.rng.below(3) {
                let provider = self.rng.below(self.providers.len() as u64) as usize;
                let date = died + Duration::days(1 + self.rng.below((self.config.end - died).whole_days() as u64) as i64);
                if !self.encounters.insert((member, provider, date)) {
                    continue;
                }
                let lines = self.encounter_lines(provider, date);
                let coverage = self.rng.below(self.members[member].coverages.len() as u64) as usize;
                let received = self.received_for(provider, date);
                let mut claim = self.new_claim(provider, member, coverage, lines, received);
                claim.cob_secondary = false;
                self.push_claim(claim, Origin::Used, provider);
            }
        }
    }

    /// Excluded providers: some providers are excluded from a date in the period and keep billing.
    fn inject_exclusions(&mut self) {
        let n_excluded = (self.providers.len() * 2 / 100).max(1);
        let start = self.config.start();
        for _ in 0..n_excluded {
            let provider = self.rng.below(self.providers.len() as u64) as usize;
            if self.exclusions.iter().any(|(npi, _)| *npi == self.providers[provider].npi) {
                continue;
            }
            let from = start + Duration::days(7 + self.rng.below(u64::from(self.config.days.saturating_sub(14)).max(1)) as i64);
            self.exclusions.push((self.providers[provider].npi.clone(), ExclusionPeriod { from, until: None }));
        }
    }

    /// Ledger order, and the labels that follow from the world's facts (exclusions, deaths).
    fn finish(mut self) -> LabelledWorld {
        let mut claims: Vec<SynthClaim> = self.claims.into_iter().map(|(claim, _, _)| claim).collect();
        // Stable: claims received the same day keep the order they were made in (a copy after its original).
        claims.sort_by_key(|claim| claim.received);
        let mut deaths = Vec::new();
        let mut died_on: std::collections::HashMap<(&str, &str, Date), Date> = std::collections::HashMap::new();
        for member in &self.members {
            if let Some(date) = member.died {
                let (payer_id, member_id) = member.coverages[0].clone();
                deaths.push(Death { payer_id, member_id, date, person: member.person.clone() });
                died_on.insert((&member.person.family_name, &member.person.given_name, member.person.birth_date), date);
            }
        }
        for claim in &claims {
            if claim.frequency == Frequency::Void {
                continue;
            }
            let excluded = self.exclusions.iter().any(|(npi, period)| {
                *npi == claim.billing_npi
                    && claim.lines.iter().any(|line| period.from <= line.service_date && period.until.is_none_or(|until| line.service_date < until))
            });
            if excluded {
                self.claim_labels.push(ClaimLabel { claim_id: claim.claim_id, pattern: Pattern::ExcludedProvider, duplicates: None });
            }
            let died = died_on.get(&(claim.person.family_name.as_str(), claim.person.given_name.as_str(), claim.person.birth_date));
            let dead = died.is_some_and(|died| claim.lines.iter().any(|line| line.service_date > *died));
            if dead {
                self.claim_labels.push(ClaimLabel { claim_id: claim.claim_id, pattern: Pattern::AfterDeath, duplicates: None });
            }
        }
        self.claim_labels.sort();
        self.provider_labels.sort();
        LabelledWorld {
            config: self.config,
            providers: self.providers,
            members: self.members,
            claims,
            exclusions: self.exclusions,
            deaths,
            claim_labels: self.claim_labels,
            provider_labels: self.provider_labels,
        }
    }
}
