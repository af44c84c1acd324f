//! The OIG List of Excluded Individuals/Entities (LEIE), `UPDATED.csv` as
//! OIG publishes it monthly: header `LASTNAME,FIRSTNAME,MIDNAME,BUSNAME,
//! GENERAL,SPECIALTY,UPIN,NPI,DOB,ADDRESS,CITY,STATE,ZIP,EXCLTYPE,EXCLDATE,
//! REINDATE,WAIVERDATE,WVRSTATE`; dates `YYYYMMDD` with `00000000` for none;
//! most rows carry no NPI (`0000000000` or blank).
//!
//! A provider whose NPI is on a row in force on the date of service is
//! excluded (denied CO-B7). A provider matching a row without an NPI by last
//! name, first name and birth date is a possible match: the engine pends,
//! it does not deny. A row is in force from its exclusion date until its
//! reinstatement date (exclusive), if any.

use std::collections::HashMap;
use std::io::Read;

use time::Date;

use claimtrail_codes::Carc;

use crate::csv::{Failures, LoadErrors, Table, normalize, parse_optional_yyyymmdd, parse_yyyymmdd};
use crate::line::{Action, Cas, Edit, EditLine, Finding, PendReason};

/// One exclusion.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Exclusion {
    pub last_name: String,
    pub first_name: String,
    pub business_name: String,
    pub npi: Option<String>,
    #[serde(default, with = "claimtrail_events::optional_date")]
    pub birth_date: Option<Date>,
    /// The statute (e.g. `1128a1`).
    pub exclusion_type: String,
    #[serde(with = "claimtrail_events::date")]
    pub excluded: Date,
    #[serde(default, with = "claimtrail_events::optional_date")]
    pub reinstated: Option<Date>,
}

impl Exclusion {
    pub fn in_force_on(&self, service_date: Date) -> bool {
        self.excluded <= service_date && self.reinstated.is_none_or(|reinstated| service_date < reinstated)
    }
}

#[derive(Debug, Clone, Default)]
pub struct ExclusionList {
    rows: Vec<Exclusion>,
    by_npi: HashMap<String, Vec<usize>>,
    /// (LAST, FIRST, birth date) of rows without an NPI.
    by_name: HashMap<(String, String, Date), Vec<usize>>,
}

/// Who is being checked: the NPI always; name and birth date when the
/// provider registry has them (individuals).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderIdentity<'a> {
    pub npi: &'a str,
    pub last_name: Option<&'a str>,
    pub first_name: Option<&'a str>,
    pub birth_date: Option<Date>,
}

/// What the list says about a provider on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExclusionCheck<'a> {
    Clear,
    Excluded(&'a Exclusion),
    PossibleMatch(&'a Exclusion),
}

impl ExclusionList {
    /// How many exclusions the list holds.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn load(input: impl Read) -> Result<ExclusionList, LoadErrors> {
        let table = Table::read(input, "LEIE", |cells| cells.first().is_some_and(|cell| normalize(cell) == "lastname"))?;
        let column = |name: &'static str| table.column(name, move |header| header == name);
        let (last, first, business, npi, dob, kind, excluded, reinstated) = (
            column("lastname")?,
            column("firstname")?,
            column("busname")?,
            column("npi")?,
            column("dob")?,
            column("excltype")?,
            column("excldate")?,
            column("reindate")?,
        );
        let mut failures = Failures::default();
        let mut rows = Vec::new();
        for row in table.rows(&mut failures) {
            let parsed = (|| -> Result<Exclusion, String> {
                let npi_cell = row.cell(npi);
                let npi = if npi_cell.is_empty() || npi_cell.bytes().all(|byte| byte == b'0') {
                    None
                } else if npi_cell.len() == 10 && npi_cell.bytes().all(|byte| byte.is_ascii_digit()) {
                    Some(npi_cell.to_owned())
                } else {
                    return Err(format!("NPI `{npi_cell}` is not 10 digits"));
                };
                Ok(Exclusion {
                    last_name: row.cell(last).to_ascii_uppercase(),
                    first_name: row.cell(first).to_ascii_uppercase(),
                    business_name: row.cell(business).to_owned(),
                    npi,
                    birth_date: parse_optional_yyyymmdd(row.cell(dob)).map_err(|reason| format!("DOB: {reason}"))?,
                    exclusion_type: row.cell(kind).to_owned(),
                    excluded: parse_yyyymmdd(row.cell(excluded)).map_err(|reason| format!("EXCLDATE: {reason}"))?,
                    reinstated: parse_optional_yyyymmdd(row.cell(reinstated)).map_err(|reason| format!("REINDATE: {reason}"))?,
                })
            })();
            match parsed {
                Ok(exclusion) => rows.push(exclusion),
                Err(reason) => failures.push(row.line, reason),
            }
        }
        failures.finish(ExclusionList::from_rows(rows))
    }

    pub fn from_rows(rows: Vec<Exclusion>) -> ExclusionList {
        let mut by_npi: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_name: HashMap<(String, String, Date), Vec<usize>> = HashMap::new();
        for (row_idx, row) in rows.iter().enumerate() {
            match (&row.npi, row.birth_date) {
                (Some(npi), _) => by_npi.entry(npi.clone()).or_default().push(row_idx),
                (None, Some(birth_date)) if !row.last_name.is_empty() => {
                    by_name.entry((row.last_name.clone(), row.first_name.clone(), birth_date)).or_default().push(row_idx)
                }
                _ => {}
            }
        }
        ExclusionList { rows, by_npi, by_name }
    }

    /// Every row, for fraud detection's own matching.
    pub fn rows(&self) -> &[Exclusion] {
        &self.rows
    }

    pub fn check(&self, provider: ProviderIdentity<'_>, service_date: Date) -> ExclusionCheck<'_> {
        let in_force =
            |indices: Option<&Vec<usize>>| indices.into_iter().flatten().map(|&row_idx| &self.rows[row_idx]).find(|row| row.in_force_on(service_date));
        if let Some(row) = in_force(self.by_npi.get(provider.npi.trim())) {
            return ExclusionCheck::Excluded(row);
        }
        if let (Some(last), Some(first), Some(birth_date)) = (provider.last_name, provider.first_name, provider.birth_date) {
            let key = (last.trim().to_ascii_uppercase(), first.trim().to_ascii_uppercase(), birth_date);
            if let Some(row) = in_force(self.by_name.get(&key)) {
                return ExclusionCheck::PossibleMatch(row);
            }
        }
        ExclusionCheck::Clear
    }
}

/// The exclusion edit for one line: CO-B7 when the rendering provider is
/// excluded on the date of service, a pend on a name-and-birth-date match.
pub fn exclusion_edit(list: &ExclusionList, line: &EditLine, provider: ProviderIdentity<'_>) -> Option<Finding> {
    match list.check(provider, line.service_date) {
        ExclusionCheck::Clear => None,
        ExclusionCheck::Excluded(row) => Some(Finding {
            sequence: line.sequence,
            edit: Edit::Exclusion,
            action: Action::Deny { cas: Cas::co(Carc::PROVIDER_NOT_ELIGIBLE, line.charge), remarks: Vec::new() },
            explanation: format!(
                "the rendering provider {} is on the OIG exclusion list ({} since {}) on {}: CO-B7",
                provider.npi, row.exclusion_type, row.excluded, line.service_date
            ),
        }),
        ExclusionCheck::PossibleMatch(row) => Some(Finding {
            sequence: line.sequence,
            edit: Edit::Exclusion,
            action: Action::Pend { reason: PendReason::PossibleExclusion },
            explanation: format!(
                "the rendering provider {} matches an OIG LEIE exclusion without an NPI by name and birth date ({} since {}): pended for review",
                provider.npi, row.exclusion_type, row.excluded
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const LEIE: &str = "LASTNAME,FIRSTNAME,MIDNAME,BUSNAME,GENERAL,SPECIALTY,UPIN,NPI,DOB,ADDRESS,CITY,STATE,ZIP,EXCLTYPE,EXCLDATE,REINDATE,WAIVERDATE,WVRSTATE\n\
\"SYNTHETIC\",\"ALEX\",\"\",\"\",\"IND- LIC HC SERV PRO\",\"NURSE\",\"\",1234567893,19700101,\"1 MAIN ST\",\"TOWN\",\"AL\",35004,1128a1,20250115,00000000,00000000,\"\"\n\
\"EXAMPLE\",\"JO\",\"\",\"\",\"IND- LIC HC SERV PRO\",\"\",\"\",0000000000,19800202,\"2 MAIN ST\",\"TOWN\",\"AL\",35004,1128b4,20240101,20260101,00000000,\"\"\n";

    fn identity(npi: &str) -> ProviderIdentity<'_> {
        ProviderIdentity { npi, last_name: None, first_name: None, birth_date: None }
    }

    #[test]
    fn an_npi_on_the_list_is_excluded_from_its_exclusion_date() {
        let list = ExclusionList::load(LEIE.as_bytes()).expect("loads");
        assert!(matches!(list.check(identity("1234567893"), date!(2025 - 01 - 15)), ExclusionCheck::Excluded(_)));
        assert_eq!(list.check(identity("1234567893"), date!(2025 - 01 - 14)), ExclusionCheck::Clear);
    }

    #[test]
    fn a_row_without_npi_matches_by_name_and_birth_date_as_possible_until_reinstatement() {
        let list = ExclusionList::load(LEIE.as_bytes()).expect("loads");
        let provider = ProviderIdentity { npi: "1999999992", last_name: Some("Example"), first_name: Some("jo"), birth_date: Some(date!(1980 - 02 - 02)) };
        assert!(matches!(list.check(provider, date!(2025 - 06 - 01)), ExclusionCheck::PossibleMatch(_)));
        assert_eq!(list.check(provider, date!(2026 - 01 - 01)), ExclusionCheck::Clear);
        let other_birthday = ProviderIdentity { birth_date: Some(date!(1980 - 02 - 03)), ..provider };
        assert_eq!(list.check(other_birthday, date!(2025 - 06 - 01)), ExclusionCheck::Clear);
    }

    #[test]
    fn a_malformed_npi_is_refused_with_its_line() {
        let text = LEIE.replace("1234567893", "12345");
        let error = ExclusionList::load(text.as_bytes()).expect_err("bad npi");
        assert_eq!(error.errors[0].line, 2);
    }
}
