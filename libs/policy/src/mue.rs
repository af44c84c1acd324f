//! Medically unlikely edits (MUE): the CMS quarterly tables and their lookup.
//!
//! The file as CMS publishes it: notice lines, then the header "HCPCS/CPT
//! Code", "<Setting> MUE Values", "MUE Adjudication Indicator", "MUE
//! Rationale", where the second column's name says the setting:
//! "Practitioner Services MUE Values", "Outpatient Hospital Services MUE
//! Values" or "DME Supplier Services MUE Values". Indicator cells read like
//! "1 Line Edit", "2 Date of Service Edit: Policy", "3 Date of Service Edit:
//! Clinical". A file has no dates: the whole table is one quarterly version
//! (see [`crate::Versions`]).

use std::io::Read;

use crate::code::CodeKey;
use crate::csv::{Failures, LoadErrors, Table, normalize};
use crate::setting::Setting;

/// The MUE adjudication indicator (MAI).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum MueIndicator {
    /// 1: per claim line.
    Line,
    /// 2: per date of service, across lines and claims; absolute (policy), no appeal.
    DateOfServicePolicy,
    /// 3: per date of service, across lines and claims; clinical, an appeal with records may pay.
    DateOfServiceClinical,
}

impl MueIndicator {
    pub fn number(self) -> u8 {
        match self {
            MueIndicator::Line => 1,
            MueIndicator::DateOfServicePolicy => 2,
            MueIndicator::DateOfServiceClinical => 3,
        }
    }
}

/// One row: the most units of `code` a provider reports for one member on
/// one line (MAI 1) or one date of service (MAI 2, 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Mue {
    pub code: CodeKey,
    pub units_max: u32,
    pub indicator: MueIndicator,
}

/// The MUEs of one setting, sorted by code.
#[derive(Debug, Clone)]
pub struct MueTable {
    setting: Setting,
    mues: Vec<Mue>,
}

impl MueTable {
    /// Reads a CMS MUE file: all or nothing.
    pub fn load(input: impl Read) -> Result<MueTable, LoadErrors> {
        let table = Table::read(input, "MUE", |cells| cells.iter().any(|cell| normalize(cell).ends_with("mue values")))?;
        let values = table.column("MUE Values", |name| name.ends_with("mue values"))?;
        let setting = match normalize(&table.header[values]).as_str() {
            "practitioner services mue values" => Setting::Practitioner,
            "outpatient hospital services mue values" => Setting::OutpatientHospital,
            "dme supplier services mue values" => Setting::DmeSupplier,
            other => return Err(LoadErrors::one(0, format!("`{other}` names no setting CMS publishes MUEs for"))),
        };
        let code = table.column("HCPCS/CPT Code", |name| name.starts_with("hcpcs"))?;
        let indicator = table.column("MUE Adjudication Indicator", |name| name.contains("adjudication indicator"))?;

        let mut failures = Failures::default();
        let mut mues = Vec::new();
        let mut lines = Vec::new();
        for row in table.rows(&mut failures) {
            let parsed = (|| -> Result<Mue, String> {
                Ok(Mue {
                    code: CodeKey::parse(row.cell(code)).ok_or_else(|| format!("`{}` is not a procedure code", row.cell(code)))?,
                    units_max: row.cell(values).parse().map_err(|_| format!("MUE value `{}` is not a whole number of units", row.cell(values)))?,
                    indicator: parse_indicator(row.cell(indicator))?,
                })
            })();
            match parsed {
                Ok(mue) => {
                    mues.push(mue);
                    lines.push(row.line);
                }
                Err(reason) => failures.push(row.line, reason),
            }
        }
        let mut order: Vec<usize> = (0..mues.len()).collect();
        order.sort_by_key(|&mue_idx| mues[mue_idx].code);
        for pair in order.windows(2) {
            if mues[pair[0]].code == mues[pair[1]].code {
                failures.push(lines[pair[1]], format!("repeats code {} of line {}", mues[pair[1]].code, lines[pair[0]]));
            }
        }
        let mues = order.into_iter().map(|mue_idx| mues[mue_idx]).collect();
        failures.finish(MueTable { setting, mues })
    }

    /// A table from rows already parsed; a repeated code keeps its last row.
    pub fn from_mues(setting: Setting, mut mues: Vec<Mue>) -> MueTable {
        mues.sort_by_key(|mue| mue.code);
        mues.dedup_by_key(|mue| mue.code);
        MueTable { setting, mues }
    }

    pub fn setting(&self) -> Setting {
        self.setting
    }

    pub fn len(&self) -> usize {
        self.mues.len()
    }

    pub fn is_empty(&self) -> bool {
        self.mues.is_empty()
    }

    pub fn mue(&self, code: CodeKey) -> Option<&Mue> {
        self.mues.binary_search_by_key(&code, |mue| mue.code).ok().map(|mue_idx| &self.mues[mue_idx])
    }

    pub fn memory_bytes(&self) -> usize {
        self.mues.capacity() * size_of::<Mue>()
    }
}

/// "1 Line Edit", "2 Date of Service Edit: Policy", "3 Date of Service Edit:
/// Clinical", or the bare digit.
fn parse_indicator(cell: &str) -> Result<MueIndicator, String> {
    let text = normalize(cell);
    let indicator = match text.split(' ').next() {
        Some("1") => MueIndicator::Line,
        Some("2") => MueIndicator::DateOfServicePolicy,
        Some("3") => MueIndicator::DateOfServiceClinical,
        _ => return Err(format!("MUE adjudication indicator `{cell}` is not 1, 2 or 3")),
    };
    let rest = text.split_once(' ').map(|(_, rest)| rest).unwrap_or("");
    let expected = match indicator {
        MueIndicator::Line => "line edit",
        MueIndicator::DateOfServicePolicy => "date of service edit: policy",
        MueIndicator::DateOfServiceClinical => "date of service edit: clinical",
    };
    if !rest.is_empty() && rest != expected {
        return Err(format!("MUE adjudication indicator `{cell}` does not match its number ({} is `{expected}`)", indicator.number()));
    }
    Ok(indicator)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRACTITIONER: &str = "\"CPT codes, descriptions and other data only are copyright 2025 American Medical Association. All rights reserved.\"\n\
\"Applicable FARS/HHSARS apply.\"\n\
HCPCS/CPT Code,Practitioner Services MUE Values,MUE Adjudication Indicator,MUE Rationale\n\
82374,2,1 Line Edit,Clinical: Data\n\
G0422,6,2 Date of Service Edit: Policy,CMS Policy\n\
J1100,30,3 Date of Service Edit: Clinical,Clinical: CMS Workgroup\n";

    #[test]
    fn a_practitioner_file_loads_and_indicator_cells_read_as_cms_writes_them() {
        let table = MueTable::load(PRACTITIONER.as_bytes()).expect("loads");
        assert_eq!(table.setting(), Setting::Practitioner);
        assert_eq!(table.mue(CodeKey::of("82374")), Some(&Mue { code: CodeKey::of("82374"), units_max: 2, indicator: MueIndicator::Line }));
        assert_eq!(table.mue(CodeKey::of("G0422")).map(|mue| mue.indicator), Some(MueIndicator::DateOfServicePolicy));
        assert_eq!(table.mue(CodeKey::of("J1100")).map(|mue| mue.indicator), Some(MueIndicator::DateOfServiceClinical));
    }

    #[test]
    fn the_header_tells_the_outpatient_hospital_and_dme_tables_apart() {
        let hospital = PRACTITIONER.replace("Practitioner Services", "Outpatient Hospital Services");
        assert_eq!(MueTable::load(hospital.as_bytes()).expect("loads").setting(), Setting::OutpatientHospital);
        let dme = PRACTITIONER.replace("Practitioner Services", "DME Supplier Services");
        assert_eq!(MueTable::load(dme.as_bytes()).expect("loads").setting(), Setting::DmeSupplier);
    }

    #[test]
    fn a_bad_indicator_or_value_is_reported_with_its_line() {
        let text = format!("{PRACTITIONER}A0001,two,1 Line Edit,x\nA0002,1,2 Line Edit,x\nA0003,1,4,x\n");
        let error = MueTable::load(text.as_bytes()).expect_err("bad rows");
        let lines: Vec<usize> = error.errors.iter().map(|error| error.line).collect();
        assert_eq!(lines, vec![7, 8, 9], "{error}");
    }
}
