//! The standard edits that read the CMS tables and the member's history:
//! NCCI PTP pairs, MUE units, duplicates, date of death. Pure functions of
//! the current claim's lines, the history lines the caller passes (the same
//! member's other claims, paid or pending) and the tables; each returns
//! [`Finding`]s in line order, never an error.

use std::collections::BTreeMap;

use claimtrail_codes::{Carc, Rarc};
use rust_decimal::Decimal;
use time::Date;

use crate::code::{CodeKey, has_any_modifier};
use crate::line::{Action, Cas, Edit, EditLine, Finding, LineStatus, PendReason};
use crate::mue::{MueIndicator, MueTable};
use crate::ncci::{ModifierIndicator, NcciTable};

/// The NCCI-associated modifiers that lift a pair with modifier indicator 1:
/// distinct service (59, X{EPSU}), global surgery and E/M (24, 25, 27, 57,
/// 58, 78, 79), repeat lab (91), and the anatomic modifiers.
pub const NCCI_ASSOCIATED_MODIFIERS: &[&str] = &[
    "59", "XE", "XP", "XS", "XU", "24", "25", "27", "57", "58", "78", "79", "91", "E1", "E2", "E3", "E4", "FA", "F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8",
    "F9", "TA", "T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9", "LT", "RT", "LC", "LD", "LM", "RC", "RI",
];

/// Whether an NCCI PTP edit with `indicator` applies to a column-one line
/// and a column-two line carrying these modifiers: indicator 9 never (the
/// edit was deleted retroactively), indicator 1 unless either line carries
/// an [`NCCI_ASSOCIATED_MODIFIERS`] modifier, indicator 0 always.
/// Adjudication's [`ncci_edits`] and fraud detection's unbundling detector
/// (libs/fraud) both decide by it.
pub fn ptp_edit_applies(indicator: ModifierIndicator, column_one_modifiers: &[String], column_two_modifiers: &[String]) -> bool {
    match indicator {
        ModifierIndicator::NotApplicable => false,
        ModifierIndicator::Allowed => {
            !has_any_modifier(column_one_modifiers, NCCI_ASSOCIATED_MODIFIERS) && !has_any_modifier(column_two_modifiers, NCCI_ASSOCIATED_MODIFIERS)
        }
        ModifierIndicator::NotAllowed => true,
    }
}

/// Repeat-procedure modifiers: a line carrying one is never a duplicate.
pub const REPEAT_MODIFIERS: &[&str] = &["76", "77", "91"];

/// The payer's switches for these edits (part of its rule set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EditPolicy {
    /// Reduce units to the MUE instead of denying the line (commercial payers may).
    pub mue_reduce: bool,
}

/// Whether two lines are the same provider, member and day: the scope of
/// NCCI and of date-of-service MUEs.
fn same_encounter(a: &EditLine, b: &EditLine) -> bool {
    a.service_date == b.service_date && a.rendering_npi == b.rendering_npi && a.member_id == b.member_id
}

/// NCCI PTP edits over `current` (the claim being decided) and `history`.
///
/// For each pair of lines by the same rendering provider for the same
/// member and date of service, with an edit in force: indicator 9 does
/// nothing; indicator 1 is lifted when either line carries an NCCI-associated
/// modifier; indicator 0 never is. Then the column-two line is denied CO-97
/// for its full charge when it is on the current claim; when the column-two
/// line was already paid (or is pending) on an earlier claim and the
/// column-one line arrives now, the column-one line is paid and the earlier
/// line is to be reversed ([`Action::ReverseEarlierLine`], CO-97).
pub fn ncci_edits(table: &NcciTable, current: &[EditLine], history: &[EditLine]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let keys: Vec<CodeKey> = current.iter().map(|line| CodeKey::of(&line.procedure_code)).collect();
    let history_keys: Vec<CodeKey> = history.iter().map(|line| CodeKey::of(&line.procedure_code)).collect();
    let applies = |column_one: &EditLine, one: CodeKey, column_two: &EditLine, two: CodeKey| -> Option<ModifierIndicator> {
        if one.is_none() || two.is_none() || !same_encounter(column_one, column_two) {
            return None;
        }
        let edit = table.edit(one, two, column_two.service_date)?;
        ptp_edit_applies(edit.modifier_indicator, &column_one.modifiers, &column_two.modifiers).then_some(edit.modifier_indicator)
    };
    for (line_idx, line) in current.iter().enumerate() {
        let two = keys[line_idx];
        let same_claim = current.iter().zip(&keys).enumerate().filter(|(other_idx, _)| *other_idx != line_idx).map(|(_, pair)| pair);
        let earlier = history.iter().zip(&history_keys).filter(|(other, _)| other.claim_id != line.claim_id);
        if let Some((column_one, indicator)) =
            same_claim.chain(earlier).find_map(|(other, &one)| applies(other, one, line, two).map(|indicator| (other, indicator)))
        {
            let lifted =
                if indicator == ModifierIndicator::Allowed { "no NCCI-associated modifier was reported" } else { "modifier indicator 0 allows no modifier" };
            findings.push(Finding {
                sequence: line.sequence,
                edit: Edit::Ncci,
                action: Action::Deny { cas: Cas::co(Carc::BUNDLED, line.charge), remarks: Vec::new() },
                explanation: format!(
                    "NCCI PTP: {} is the column-two code of {} (line {} of {}) on {} and {lifted}: CO-97 for the full charge {}",
                    line.procedure_code,
                    column_one.procedure_code,
                    column_one.sequence,
                    if column_one.claim_id == line.claim_id { "this claim".to_owned() } else { format!("claim {}", column_one.claim_id) },
                    line.service_date,
                    line.charge
                ),
            });
        }
    }
    for (line_idx, line) in current.iter().enumerate() {
        let one = keys[line_idx];
        for (earlier, &two) in history.iter().zip(&history_keys) {
            if earlier.claim_id == line.claim_id || applies(line, one, earlier, two).is_none() {
                continue;
            }
            let state = if earlier.status == LineStatus::Pending { "pending" } else { "paid" };
            findings.push(Finding {
                sequence: line.sequence,
                edit: Edit::Ncci,
                action: Action::ReverseEarlierLine { claim_id: earlier.claim_id, sequence: earlier.sequence, carc: Carc::BUNDLED },
                explanation: format!(
                    "NCCI PTP: {} is the column-one code of {} already {state} on claim {} line {}: this line is paid and that line is reversed with CO-97",
                    line.procedure_code, earlier.procedure_code, earlier.claim_id, earlier.sequence
                ),
            });
        }
    }
    findings.sort_by_key(|finding| finding.sequence);
    findings
}

/// MUE edits over `current` and `history`.
///
/// Indicator 1 applies to each line alone: over the limit, the whole line
/// is denied CO-151 with N362 (not cut back), or with `policy.mue_reduce`
/// reduced to the limit. Indicators 2 and 3 sum the units of the code for
/// the member, rendering provider and date of service across the current
/// claim and the history: over the limit, every current line of the code
/// that day is denied, or with `mue_reduce` the current lines keep, in line
/// order, what the history left of the limit.
pub fn mue_edits(table: &MueTable, policy: EditPolicy, current: &[EditLine], history: &[EditLine]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut days: BTreeMap<(CodeKey, Date, &str, &str), Vec<&EditLine>> = BTreeMap::new();
    for line in current {
        let code = CodeKey::of(&line.procedure_code);
        let Some(mue) = table.mue(code) else { continue };
        let units_max = Decimal::from(mue.units_max);
        match mue.indicator {
            MueIndicator::Line => {
                if line.units > units_max {
                    findings.push(mue_finding(line, units_max, line.units, policy, mue.indicator, "on this line"));
                }
            }
            MueIndicator::DateOfServicePolicy | MueIndicator::DateOfServiceClinical => {
                days.entry((code, line.service_date, &line.rendering_npi, &line.member_id)).or_default().push(line);
            }
        }
    }
    for ((code, _, _, _), lines) in days {
        let Some(mue) = table.mue(code) else { continue };
        let units_max = Decimal::from(mue.units_max);
        let first = lines[0];
        let earlier: Decimal = history
            .iter()
            .filter(|other| other.claim_id != first.claim_id && same_encounter(other, first) && CodeKey::of(&other.procedure_code) == code)
            .map(|other| other.units)
            .sum();
        let total = earlier + lines.iter().map(|line| line.units).sum::<Decimal>();
        if total <= units_max {
            continue;
        }
        let mut left = (units_max - earlier).max(Decimal::ZERO);
        for line in lines {
            let scope = format!("with {} units on this date across lines and claims", total.normalize());
            let keep = line.units.min(left);
            left -= keep;
            if policy.mue_reduce && keep == line.units {
                continue;
            }
            let mut finding = mue_finding(line, units_max, total, policy, mue.indicator, &scope);
            if let Action::ReduceUnits { units, .. } = &mut finding.action {
                *units = keep;
            }
            findings.push(finding);
        }
    }
    findings.sort_by_key(|finding| finding.sequence);
    findings
}

fn mue_finding(line: &EditLine, units_max: Decimal, units: Decimal, policy: EditPolicy, indicator: MueIndicator, scope: &str) -> Finding {
    let appeal = match indicator {
        MueIndicator::Line => "",
        MueIndicator::DateOfServicePolicy => " (policy edit: no appeal override)",
        MueIndicator::DateOfServiceClinical => " (clinical edit: an appeal with records may pay)",
    };
    let (action, verdict) = if policy.mue_reduce {
        (
            Action::ReduceUnits { units: units_max, carc: Carc::UNITS_NOT_SUPPORTED, remarks: vec![Rarc::UNITS_OVER_MAXIMUM] },
            "units reduced to the limit, CO-151 N362".to_owned(),
        )
    } else {
        (
            Action::Deny { cas: Cas::co(Carc::UNITS_NOT_SUPPORTED, line.charge), remarks: vec![Rarc::UNITS_OVER_MAXIMUM] },
            format!("whole line denied CO-151 N362 for {}", line.charge),
        )
    };
    Finding {
        sequence: line.sequence,
        edit: Edit::Mue,
        action,
        explanation: format!(
            "MUE: {} allows {} units (indicator {}) and {} {scope}: {verdict}{appeal}",
            line.procedure_code,
            units_max,
            indicator.number(),
            units.normalize()
        ),
    }
}

/// Duplicate edits of the current claim's lines against earlier claims'
/// lines (paid or pending) of the same member, date and code.
///
/// Exact (same rendering and billing provider, modifiers, units and charge):
/// denied CO-18. Suspect (the same provider with other modifiers, units or
/// charge, or another renderer of the same billing provider): pended. A line
/// carrying 76, 77 or 91 is a repeat service and never a duplicate.
pub fn duplicate_edits(current: &[EditLine], history: &[EditLine]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for line in current {
        if has_any_modifier(&line.modifiers, REPEAT_MODIFIERS) {
            continue;
        }
        let candidates = history.iter().filter(|earlier| {
            earlier.claim_id != line.claim_id
                && earlier.member_id == line.member_id
                && earlier.service_date == line.service_date
                && earlier.procedure_code.trim().eq_ignore_ascii_case(line.procedure_code.trim())
        });
        let mut suspect = None;
        let mut exact = None;
        for earlier in candidates {
            let same_provider = earlier.rendering_npi == line.rendering_npi && earlier.billing_npi == line.billing_npi;
            if same_provider && same_modifiers(&earlier.modifiers, &line.modifiers) && earlier.units == line.units && earlier.charge == line.charge {
                exact = Some(earlier);
                break;
            }
            if suspect.is_none() && (same_provider || earlier.billing_npi == line.billing_npi) {
                suspect = Some(earlier);
            }
        }
        if let Some(earlier) = exact {
            findings.push(Finding {
                sequence: line.sequence,
                edit: Edit::Duplicate,
                action: Action::Deny { cas: Cas::co(Carc::DUPLICATE, line.charge), remarks: Vec::new() },
                explanation: format!(
                    "exact duplicate of claim {} line {} (same member, provider, date, code, modifiers, units and charge): CO-18",
                    earlier.claim_id, earlier.sequence
                ),
            });
        } else if let Some(earlier) = suspect {
            findings.push(Finding {
                sequence: line.sequence,
                edit: Edit::Duplicate,
                action: Action::Pend { reason: PendReason::SuspectDuplicate { claim_id: earlier.claim_id, sequence: earlier.sequence } },
                explanation: format!(
                    "suspect duplicate of claim {} line {} (same member, date and code; another modifier, units, charge or renderer of the same group): pended for review",
                    earlier.claim_id, earlier.sequence
                ),
            });
        }
    }
    findings
}

fn same_modifiers(a: &[String], b: &[String]) -> bool {
    let normalized = |modifiers: &[String]| {
        let mut set: Vec<String> = modifiers.iter().map(|modifier| modifier.trim().to_ascii_uppercase()).filter(|m| !m.is_empty()).collect();
        set.sort();
        set
    };
    normalized(a) == normalized(b)
}

/// A service after the member's date of death: denied CO-13 for its full charge.
pub fn date_of_death_edit(line: &EditLine, date_of_death: Option<Date>) -> Option<Finding> {
    let date_of_death = date_of_death?;
    (line.service_date > date_of_death).then(|| Finding {
        sequence: line.sequence,
        edit: Edit::DateOfDeath,
        action: Action::Deny { cas: Cas::co(Carc::DATE_OF_DEATH, line.charge), remarks: Vec::new() },
        explanation: format!("the service date {} is after the member's date of death {date_of_death}: CO-13", line.service_date),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn modifiers(list: &[&str]) -> Vec<String> {
        list.iter().map(|modifier| (*modifier).to_owned()).collect()
    }

    #[test]
    fn indicator_1_is_lifted_by_an_ncci_associated_modifier_on_either_line() {
        let none = modifiers(&[]);
        assert!(ptp_edit_applies(ModifierIndicator::Allowed, &none, &none));
        for lifting in ["59", "XU", "25", "57", "79", "91", "RT", "LT", "F2", "t3", " 25 "] {
            assert!(!ptp_edit_applies(ModifierIndicator::Allowed, &none, &modifiers(&[lifting])), "{lifting} on column two");
            assert!(!ptp_edit_applies(ModifierIndicator::Allowed, &modifiers(&[lifting]), &none), "{lifting} on column one");
        }
        assert!(ptp_edit_applies(ModifierIndicator::Allowed, &modifiers(&["26"]), &modifiers(&["TC", "76"])), "not NCCI-associated");
    }

    #[test]
    fn indicator_0_always_applies_and_indicator_9_never() {
        let distinct = modifiers(&["59", "25"]);
        assert!(ptp_edit_applies(ModifierIndicator::NotAllowed, &distinct, &distinct));
        assert!(!ptp_edit_applies(ModifierIndicator::NotApplicable, &[], &[]));
    }
}
