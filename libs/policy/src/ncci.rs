//! NCCI procedure-to-procedure (PTP) edits: the CMS quarterly table and its
//! lookup by code pair and date of service.
//!
//! The file as CMS publishes it: notice lines, then a header whose columns
//! are "Column 1", "Column 2", "*=in existence prior to 1996", "Effective
//! Date", "Deletion Date *=no data", "Modifier 0=not allowed 1=allowed 9=not
//! applicable" and "PTP Edit Rationale" (tab- or comma-separated). The
//! title lines or header name the setting: practitioner or outpatient
//! hospital. Dates are `YYYYMMDD`; a deletion date of `*` means none.
//!
//! An edit is in force on a date of service when its effective date is on
//! or before it and it has no deletion date or the date of service is on or
//! before the deletion date: CMS's deletion dates are the last day of a
//! quarter, the last day the edit applies (docs/policy-data.md).

use std::io::Read;

use time::Date;

use crate::code::CodeKey;
use crate::csv::{Failures, LoadErrors, Table, normalize, parse_optional_yyyymmdd, parse_yyyymmdd};
use crate::setting::Setting;

/// Whether an NCCI-associated modifier may lift the edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ModifierIndicator {
    /// 0: never lifted; the column-two code is never paid with the column-one code.
    NotAllowed,
    /// 1: lifted when an NCCI-associated modifier is reported.
    Allowed,
    /// 9: not applicable; the edit was deleted retroactively and does nothing.
    NotApplicable,
}

/// One row of the PTP table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PtpEdit {
    pub column_one: CodeKey,
    pub column_two: CodeKey,
    /// The edit existed before 1996 (`*` in the file).
    pub prior_1996: bool,
    #[serde(with = "claimtrail_events::date")]
    pub effective: Date,
    /// The last date of service the edit applies to; `None` while it stands.
    #[serde(default, with = "claimtrail_events::optional_date")]
    pub deletion: Option<Date>,
    pub modifier_indicator: ModifierIndicator,
}

impl PtpEdit {
    /// Whether the edit is in force on `service_date` (see the module doc).
    pub fn in_force_on(&self, service_date: Date) -> bool {
        self.effective <= service_date && self.deletion.is_none_or(|deletion| service_date <= deletion)
    }
}

/// The PTP edits of one setting, sorted by (column one, column two, effective date).
#[derive(Debug, Clone)]
pub struct NcciTable {
    setting: Setting,
    edits: Vec<PtpEdit>,
}

impl NcciTable {
    /// Reads a CMS PTP file: all or nothing (see [`crate::LoadErrors`]).
    pub fn load(input: impl Read) -> Result<NcciTable, LoadErrors> {
        let table = Table::read(input, "NCCI PTP", |cells| {
            cells.first().is_some_and(|cell| {
                let cell = normalize(cell);
                cell.starts_with("column 1") || cell.starts_with("column1")
            })
        })?;
        let title = table.title_text();
        let setting = match (title.contains("practitioner"), title.contains("hospital")) {
            (true, false) => Setting::Practitioner,
            (false, true) => Setting::OutpatientHospital,
            _ => return Err(LoadErrors::one(0, "the title lines and header do not say practitioner or outpatient hospital (exactly one)")),
        };
        let column_one = table.column("Column 1", |name| name.starts_with("column 1") || name.starts_with("column1"))?;
        let column_two = table.column("Column 2", |name| name.starts_with("column 2") || name.starts_with("column2"))?;
        // The header may wrap onto a second line ("*=in existence" / "prior to 1996"): either half names the column.
        let prior = table.column("prior to 1996", |name| name.contains("1996") || name.starts_with("*=in existence"))?;
        let effective = table.column("Effective Date", |name| name.starts_with("effective"))?;
        let deletion = table.column("Deletion Date", |name| name.starts_with("deletion"))?;
        let modifier = table.column("Modifier", |name| name.starts_with("modifier"))?;

        let mut failures = Failures::default();
        let mut edits = Vec::new();
        let mut lines = Vec::new();
        let mut in_data = false;
        for row in table.rows(&mut failures) {
            if !in_data && row.cell(column_one).is_empty() {
                continue; // the header's continuation line
            }
            in_data = true;
            let parsed = (|| -> Result<PtpEdit, String> {
                let code = |column_idx: usize, name: &str| {
                    CodeKey::parse(row.cell(column_idx)).ok_or_else(|| format!("{name} `{}` is not a procedure code", row.cell(column_idx)))
                };
                Ok(PtpEdit {
                    column_one: code(column_one, "column 1")?,
                    column_two: code(column_two, "column 2")?,
                    prior_1996: match row.cell(prior) {
                        "*" => true,
                        "" => false,
                        other => return Err(format!("prior-1996 flag `{other}` is neither `*` nor blank")),
                    },
                    effective: parse_yyyymmdd(row.cell(effective)).map_err(|reason| format!("effective date: {reason}"))?,
                    deletion: parse_optional_yyyymmdd(row.cell(deletion)).map_err(|reason| format!("deletion date: {reason}"))?,
                    modifier_indicator: parse_modifier_indicator(row.cell(modifier))?,
                })
            })();
            match parsed {
                Ok(edit) if edit.deletion.is_some_and(|deletion| deletion < edit.effective) => {
                    failures.push(row.line, "the deletion date is before the effective date")
                }
                Ok(edit) => {
                    edits.push(edit);
                    lines.push(row.line);
                }
                Err(reason) => failures.push(row.line, reason),
            }
        }
        let mut order: Vec<usize> = (0..edits.len()).collect();
        order.sort_by_key(|&edit_idx| sort_key(&edits[edit_idx]));
        for pair in order.windows(2) {
            if sort_key(&edits[pair[0]]) == sort_key(&edits[pair[1]]) {
                failures.push(lines[pair[1]], format!("repeats the pair and effective date of line {}", lines[pair[0]]));
            }
        }
        let edits = order.into_iter().map(|edit_idx| edits[edit_idx]).collect();
        failures.finish(NcciTable { setting, edits })
    }

    /// A table from edits already parsed (tests, benchmarks, the engine's own storage).
    pub fn from_edits(setting: Setting, mut edits: Vec<PtpEdit>) -> NcciTable {
        edits.sort_by_key(sort_key);
        NcciTable { setting, edits }
    }

    /// Every edit, sorted by (column one, column two, effective date).
    pub fn edits(&self) -> &[PtpEdit] {
        &self.edits
    }

    pub fn setting(&self) -> Setting {
        self.setting
    }

    pub fn len(&self) -> usize {
        self.edits.len()
    }

    pub fn is_empty(&self) -> bool {
        self.edits.is_empty()
    }

    /// The edit with `column_one` and `column_two` in force on `service_date`.
    pub fn edit(&self, column_one: CodeKey, column_two: CodeKey, service_date: Date) -> Option<&PtpEdit> {
        let start = self.edits.partition_point(|edit| (edit.column_one, edit.column_two) < (column_one, column_two));
        self.edits[start..]
            .iter()
            .take_while(|edit| edit.column_one == column_one && edit.column_two == column_two)
            .filter(|edit| edit.in_force_on(service_date))
            .last()
    }

    /// Bytes the table holds in memory (its rows; the struct itself aside).
    pub fn memory_bytes(&self) -> usize {
        self.edits.capacity() * size_of::<PtpEdit>()
    }
}

fn sort_key(edit: &PtpEdit) -> (CodeKey, CodeKey, Date) {
    (edit.column_one, edit.column_two, edit.effective)
}

fn parse_modifier_indicator(cell: &str) -> Result<ModifierIndicator, String> {
    match cell {
        "0" => Ok(ModifierIndicator::NotAllowed),
        "1" => Ok(ModifierIndicator::Allowed),
        "9" => Ok(ModifierIndicator::NotApplicable),
        other => Err(format!("modifier indicator `{other}` is not 0, 1 or 9")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const PRACTITIONER: &str = "CPT codes, descriptions and other data only are copyright 2025 American Medical Association.\n\
Practitioner PTP Edits v320r0\n\
Column 1,Column 2,*=in existence prior to 1996,Effective Date,Deletion Date *=no data,Modifier 0=not allowed 1=allowed 9=not applicable,PTP Edit Rationale\n\
G0101,G0102,*,19960101,*,1,Misuse of column two code with column one code\n\
G0101,G0102,,20260101,*,0,Mutually exclusive procedures\n\
G0101,G0103,,20200101,20231231,9,Standards of medical / surgical practice\n";

    #[test]
    fn a_practitioner_file_loads_with_its_preamble_skipped() {
        let table = NcciTable::load(PRACTITIONER.as_bytes()).expect("loads");
        assert_eq!(table.setting(), Setting::Practitioner);
        assert_eq!(table.len(), 3);
        let edit = table.edit(CodeKey::of("G0101"), CodeKey::of("G0102"), date!(2025 - 06 - 01)).expect("edit");
        assert!(edit.prior_1996);
        assert_eq!(edit.modifier_indicator, ModifierIndicator::Allowed);
    }

    #[test]
    fn the_row_in_force_on_the_date_of_service_is_the_one_returned() {
        let table = NcciTable::load(PRACTITIONER.as_bytes()).expect("loads");
        let edit = table.edit(CodeKey::of("G0101"), CodeKey::of("G0102"), date!(2026 - 02 - 01)).expect("edit");
        assert_eq!(edit.modifier_indicator, ModifierIndicator::NotAllowed);
    }

    #[test]
    fn the_deletion_date_is_the_last_day_the_edit_applies() {
        let table = NcciTable::load(PRACTITIONER.as_bytes()).expect("loads");
        let (one, two) = (CodeKey::of("G0101"), CodeKey::of("G0103"));
        assert!(table.edit(one, two, date!(2023 - 12 - 31)).is_some());
        assert!(table.edit(one, two, date!(2024 - 01 - 01)).is_none());
        assert!(table.edit(one, two, date!(2019 - 12 - 31)).is_none());
    }

    #[test]
    fn a_tab_separated_file_with_a_wrapped_header_loads() {
        let text = "Practitioner PTP Edits\n\
Column 1\tColumn 2\t*=in existence\tEffective\tDeletion\tModifier\tPTP Edit Rationale\n\
\t\tprior to 1996\tDate\tDate *=no data\t0=not allowed 1=allowed 9=not applicable\t\n\
G0101\tG0102\t*\t19960101\t*\t1\tMisuse of column two code with column one code\n";
        let table = NcciTable::load(text.as_bytes()).expect("loads");
        assert!(table.edit(CodeKey::of("G0101"), CodeKey::of("G0102"), date!(2026 - 01 - 01)).is_some_and(|edit| edit.prior_1996));
    }

    #[test]
    fn an_outpatient_hospital_file_says_so_in_its_title() {
        let text = PRACTITIONER.replace("Practitioner PTP Edits", "Outpatient Hospital PTP Edits");
        assert_eq!(NcciTable::load(text.as_bytes()).expect("loads").setting(), Setting::OutpatientHospital);
    }

    #[test]
    fn a_file_that_does_not_name_its_setting_is_refused() {
        let text = PRACTITIONER.replace("Practitioner PTP Edits v320r0\n", "");
        let error = NcciTable::load(text.as_bytes()).expect_err("no setting");
        assert!(error.to_string().contains("practitioner or outpatient hospital"), "{error}");
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line_and_nothing_is_built() {
        let text = format!("{PRACTITIONER}G0101,G0104,,2026-01-01,*,1,x\nG0101,G0105,,20260101,*,2,x\nG0101,G0102,,20260101,*,1,x\n");
        let error = NcciTable::load(text.as_bytes()).expect_err("bad rows");
        let lines: Vec<usize> = error.errors.iter().map(|error| error.line).collect();
        assert_eq!(lines, vec![7, 8, 9]);
        assert!(error.errors[0].reason.contains("effective date"), "{error}");
        assert!(error.errors[1].reason.contains("modifier indicator `2`"), "{error}");
        assert!(error.errors[2].reason.contains("repeats the pair"), "{error}");
    }
}

#[cfg(test)]
mod lookup_properties {
    use super::*;
    use proptest::prelude::*;
    use time::Duration;
    use time::macros::date;

    fn edit_strategy() -> impl Strategy<Value = PtpEdit> {
        (0u32..6, 0u32..6, 0i64..400, proptest::option::of(0i64..400), 0u8..3).prop_map(|(one, two, start, length, indicator)| {
            let effective = date!(2025 - 01 - 01) + Duration::days(start);
            PtpEdit {
                column_one: CodeKey::of(&format!("G{one:04}")),
                column_two: CodeKey::of(&format!("G{two:04}")),
                prior_1996: false,
                effective,
                deletion: length.map(|length| effective + Duration::days(length)),
                modifier_indicator: [ModifierIndicator::NotAllowed, ModifierIndicator::Allowed, ModifierIndicator::NotApplicable][indicator as usize],
            }
        })
    }

    proptest! {
        #[test]
        fn the_lookup_agrees_with_a_scan_for_the_latest_edit_in_force(
            edits in proptest::collection::vec(edit_strategy(), 0..60),
            one in 0u32..6,
            two in 0u32..6,
            day in 0i64..800,
        ) {
            let service_date = date!(2025 - 01 - 01) + Duration::days(day);
            let (one, two) = (CodeKey::of(&format!("G{one:04}")), CodeKey::of(&format!("G{two:04}")));
            let table = NcciTable::from_edits(Setting::Practitioner, edits.clone());
            let scanned = edits
                .iter()
                .filter(|edit| edit.column_one == one && edit.column_two == two && edit.in_force_on(service_date))
                .map(|edit| edit.effective)
                .max();
            prop_assert_eq!(table.edit(one, two, service_date).map(|edit| edit.effective), scanned);
        }
    }
}
