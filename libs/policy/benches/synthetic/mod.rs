//! Synthetic tables of production size and a tiny deterministic generator,
//! shared by this crate's bench and adjudication's engine bench (which
//! includes this file by path): 500,000 NCCI pairs, 10,000 MUEs and 10,000
//! fee-schedule rows over 10,000 HCPCS-shaped codes.

#![allow(dead_code)]

use claimtrail_events::Money;
use claimtrail_policy::{CodeKey, Fee, FeeSchedule, ModifierIndicator, Mue, MueIndicator, MueTable, NcciTable, PtpEdit, Setting};
use time::macros::date;

pub const N_CODES: u32 = 10_000;
pub const N_NCCI_PAIRS: u32 = 500_000;

/// Synthetic code number `n`: a letter and four digits.
pub fn code(n: u32) -> String {
    let letter = (b'A' + (n / 10_000 % 26) as u8) as char;
    format!("{letter}{:04}", n % 10_000)
}

/// A tiny deterministic generator (no rand dependency for a bench).
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self, below: u32) -> u32 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % u64::from(below)) as u32
    }
}

pub fn ncci() -> NcciTable {
    let edits = (0..N_NCCI_PAIRS)
        .map(|pair_idx| {
            let column_one = pair_idx % N_CODES;
            let column_two = (column_one + 1 + pair_idx / N_CODES * 7) % N_CODES;
            PtpEdit {
                column_one: CodeKey::of(&code(column_one)),
                column_two: CodeKey::of(&code(column_two)),
                prior_1996: false,
                effective: date!(2020 - 01 - 01),
                deletion: None,
                modifier_indicator: if pair_idx % 3 == 0 { ModifierIndicator::NotAllowed } else { ModifierIndicator::Allowed },
            }
        })
        .collect();
    NcciTable::from_edits(Setting::Practitioner, edits)
}

pub fn mues() -> MueTable {
    let mues = (0..N_CODES)
        .map(|n| Mue {
            code: CodeKey::of(&code(n)),
            units_max: 1 + n % 4,
            indicator: match n % 3 {
                0 => MueIndicator::Line,
                1 => MueIndicator::DateOfServicePolicy,
                _ => MueIndicator::DateOfServiceClinical,
            },
        })
        .collect();
    MueTable::from_mues(Setting::Practitioner, mues)
}

pub fn fees() -> FeeSchedule {
    let fees = (0..N_CODES)
        .map(|n| Fee {
            code: CodeKey::of(&code(n)),
            modifier: CodeKey::NONE,
            place_of_service: CodeKey::NONE,
            per_unit: Money::from_cents(i64::from(1_000 + n * 7 % 90_000)),
            effective: date!(2026 - 01 - 01),
            end: None,
            multiple_procedure: Some(if n % 2 == 0 { 2 } else { 0 }),
        })
        .collect();
    FeeSchedule::from_fees(fees)
}
