//! What the world's providers bill: specialties with their share of
//! providers, daily volume, office E/M level mix, other codes, places of
//! service and fees; and the NCCI-like pairs the world's payers publish.
//!
//! The E/M mixes follow the shape of CMS's published E/M utilization by
//! specialty (level 3 and 4 dominate; cardiology and internal medicine sit
//! higher than family medicine). Fees are round illustrative figures.

/// A code a specialty bills beside (or instead of) an office visit.
#[derive(Debug, Clone, Copy)]
pub struct Extra {
    pub code: &'static str,
    /// Chance per encounter.
    pub chance: f64,
    pub fee_cents: i64,
    /// Units, from 1 to this.
    pub units_max: u32,
}

#[derive(Debug)]
pub struct Specialty {
    pub taxonomy: &'static str,
    pub label: &'static str,
    /// Share of the providers.
    pub weight: u32,
    /// Mean encounters per weekday.
    pub daily_encounters: f64,
    /// Share of a weekday's volume on a weekend day.
    pub weekend_share: f64,
    /// Office E/M lines at levels 1..=5 (per 100), or none for a specialty that bills no visits.
    pub em_mix: Option<[u32; 5]>,
    /// Chance an encounter is a new patient's (99202-99205).
    pub new_patient_chance: f64,
    pub extras: &'static [Extra],
    /// Codes an encounter bills instead of a visit (therapy, labs): up to `lines_max` of them.
    pub services: &'static [(&'static str, i64, u32)],
    pub lines_max: u32,
    /// (place of service, weight).
    pub places: &'static [(&'static str, u32)],
    /// A NPI of an organization (2) or an individual (1).
    pub entity_type: u8,
}

/// Fee per office visit level 1..=5, in cents (established; new patients a third more).
pub const EM_FEES_CENTS: [i64; 5] = [2_500, 5_600, 9_200, 13_100, 18_300];

pub const SPECIALTIES: &[Specialty] = &[
    Specialty {
        taxonomy: "207Q00000X",
        label: "Family Medicine",
        weight: 32,
        daily_encounters: 18.0,
        weekend_share: 0.1,
        em_mix: Some([2, 12, 46, 33, 7]),
        new_patient_chance: 0.08,
        extras: &[
            Extra { code: "36415", chance: 0.15, fee_cents: 300, units_max: 1 },
            Extra { code: "81002", chance: 0.08, fee_cents: 350, units_max: 1 },
            Extra { code: "90471", chance: 0.06, fee_cents: 2_500, units_max: 2 },
            Extra { code: "93000", chance: 0.04, fee_cents: 1_700, units_max: 1 },
        ],
        services: &[],
        lines_max: 0,
        places: &[("11", 85), ("02", 15)],
        entity_type: 1,
    },
    Specialty {
        taxonomy: "207R00000X",
        label: "Internal Medicine",
        weight: 18,
        daily_encounters: 16.0,
        weekend_share: 0.1,
        em_mix: Some([1, 7, 38, 42, 12]),
        new_patient_chance: 0.06,
        extras: &[
            Extra { code: "36415", chance: 0.2, fee_cents: 300, units_max: 1 },
            Extra { code: "93000", chance: 0.08, fee_cents: 1_700, units_max: 1 },
            Extra { code: "85025", chance: 0.05, fee_cents: 1_000, units_max: 1 },
        ],
        services: &[],
        lines_max: 0,
        places: &[("11", 90), ("02", 10)],
        entity_type: 1,
    },
    Specialty {
        taxonomy: "207RC0000X",
        label: "Cardiovascular Disease",
        weight: 8,
        daily_encounters: 14.0,
        weekend_share: 0.05,
        em_mix: Some([0, 4, 30, 46, 20]),
        new_patient_chance: 0.12,
        extras: &[
            Extra { code: "93000", chance: 0.35, fee_cents: 1_700, units_max: 1 },
            Extra { code: "93306", chance: 0.12, fee_cents: 22_000, units_max: 1 },
            Extra { code: "93017", chance: 0.06, fee_cents: 2_400, units_max: 1 },
        ],
        services: &[],
        lines_max: 0,
        places: &[("11", 80), ("22", 20)],
        entity_type: 1,
    },
    Specialty {
        taxonomy: "207X00000X",
        label: "Orthopaedic Surgery",
        weight: 8,
        daily_encounters: 15.0,
        weekend_share: 0.05,
        em_mix: Some([0, 6, 42, 40, 12]),
        new_patient_chance: 0.2,
        extras: &[
            Extra { code: "20610", chance: 0.15, fee_cents: 6_500, units_max: 1 },
            Extra { code: "73562", chance: 0.2, fee_cents: 4_200, units_max: 1 },
            Extra { code: "29881", chance: 0.04, fee_cents: 95_000, units_max: 1 },
        ],
        services: &[],
        lines_max: 0,
        places: &[("11", 75), ("22", 15), ("24", 10)],
        entity_type: 1,
    },
    Specialty {
        taxonomy: "2084P0800X",
        label: "Psychiatry",
        weight: 8,
        daily_encounters: 8.0,
        weekend_share: 0.05,
        em_mix: None,
        new_patient_chance: 0.0,
        extras: &[],
        services: &[("90834", 11_000, 1), ("90837", 15_500, 1), ("90832", 7_500, 1)],
        lines_max: 1,
        places: &[("11", 70), ("02", 30)],
        entity_type: 1,
    },
    Specialty {
        taxonomy: "225100000X",
        label: "Physical Therapist",
        weight: 10,
        daily_encounters: 8.0,
        weekend_share: 0.05,
        em_mix: None,
        new_patient_chance: 0.0,
        extras: &[],
        services: &[("97110", 3_200, 2), ("97140", 3_000, 1), ("97530", 3_600, 2), ("97112", 3_300, 1)],
        lines_max: 3,
        places: &[("11", 100)],
        entity_type: 1,
    },
    Specialty {
        taxonomy: "291U00000X",
        label: "Clinical Medical Laboratory",
        weight: 10,
        daily_encounters: 24.0,
        weekend_share: 0.3,
        em_mix: None,
        new_patient_chance: 0.0,
        extras: &[],
        services: &[
            ("80053", 1_450, 1),
            ("80048", 1_150, 1),
            ("85025", 1_050, 1),
            ("85027", 850, 1),
            ("36415", 300, 1),
            ("81001", 450, 1),
            ("84443", 2_300, 1),
            ("83036", 1_300, 1),
        ],
        lines_max: 3,
        places: &[("81", 100)],
        entity_type: 2,
    },
];

/// NCCI-like pairs: (comprehensive, component, a distinct-service modifier may bypass).
pub const PAIRS: &[(&str, &str, bool)] =
    &[("80053", "80048", false), ("85025", "85027", false), ("93000", "93010", false), ("29881", "29877", true), ("97530", "97140", true)];

/// The date the world's pairs take effect (in its payers' PTP files and tables).
pub const PAIRS_EFFECTIVE: time::Date = time::macros::date!(2000 - 01 - 01);

/// [`PAIRS`] as the NCCI PTP table each of the world's payers publishes (in force from [`PAIRS_EFFECTIVE`]).
pub fn ncci_table() -> claimtrail_policy::NcciTable {
    use claimtrail_policy::{CodeKey, ModifierIndicator, PtpEdit};
    let edits = PAIRS
        .iter()
        .map(|(comprehensive, component, modifier_allowed)| PtpEdit {
            column_one: CodeKey::of(comprehensive),
            column_two: CodeKey::of(component),
            prior_1996: false,
            effective: PAIRS_EFFECTIVE,
            deletion: None,
            modifier_indicator: if *modifier_allowed { ModifierIndicator::Allowed } else { ModifierIndicator::NotAllowed },
        })
        .collect();
    claimtrail_policy::NcciTable::from_edits(claimtrail_policy::Setting::Practitioner, edits)
}

/// Whether `a` and `b` form a pair either way round.
pub fn paired(a: &str, b: &str) -> bool {
    PAIRS.iter().any(|(comprehensive, component, _)| (*comprehensive == a && *component == b) || (*comprehensive == b && *component == a))
}

/// Syllables family names are made of (three each: 8,000 names).
pub const SYLLABLES: [&str; 20] =
    ["an", "bel", "cor", "dal", "en", "fer", "gar", "hol", "is", "jor", "kel", "lam", "mor", "nes", "or", "pal", "quin", "ros", "sal", "tev"];
pub const GIVEN_NAMES: [&str; 24] = [
    "Pat", "Jordan", "Morgan", "Casey", "Robin", "Alex", "Sam", "Avery", "Lee", "Taylor", "Jamie", "Drew", "Quinn", "Reese", "Sky", "Kai", "Ana", "Noor",
    "Ivo", "Mira", "Tomas", "Lena", "Omar", "Rhea",
];
