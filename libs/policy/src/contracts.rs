//! Provider contracts (no CMS layout): for each contract, the reimbursement
//! method of each code range, effective-dated, and the billing providers it
//! binds.
//!
//! Layout (docs/policy-data.md): header
//! `contract_id,code_from,code_to,method,rate,effective_date,end_date[,billing_npi]`;
//! codes compare as text of the same length (`G0100`-`G0199`); `method` is
//! `fee_schedule` (rate blank), `rbrvs` (rate: the conversion factor, blank
//! for the PPRRVU one), `percent_of_charge` (rate: the percent), `drg`
//! (rate: the base rate) or `per_diem` (rate blank); dates `YYYYMMDD`, the
//! end date the last day in force. `billing_npi` (optional column) names the
//! billing provider a row binds; blank: every provider of the payer (the
//! payer's default terms). The registry's provider events carry no contract
//! id, so the contract table itself says whose contract a row is.
//!
//! A line's method: among the rows in force that hold the code, the billing
//! provider's own rows first, else the default rows; of those the narrowest
//! range, then the latest effective, then the first by contract id.

use std::collections::HashMap;
use std::io::Read;

use claimtrail_events::Money;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::Date;

use crate::code::CodeKey;
use crate::csv::{Failures, LoadErrors, Table, normalize, parse_optional_yyyymmdd, parse_yyyymmdd};

/// How a contract pays a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum ReimbursementMethod {
    FeeSchedule,
    /// RBRVS with the contract's conversion factor, or the PPRRVU one.
    Rbrvs {
        conversion_factor: Option<Decimal>,
    },
    /// This percent of the charge.
    PercentOfCharge {
        percent: Decimal,
    },
    /// Institutional: DRG weight × this base rate ([`crate::price_drg`]).
    Drg {
        base_rate: Money,
    },
    /// Institutional: the per diem table ([`crate::price_per_diem`]).
    PerDiem,
}

/// One row of the contract table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractTerm {
    pub contract_id: String,
    /// The billing provider the row binds; `None`: every provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_npi: Option<String>,
    pub code_from: CodeKey,
    pub code_to: CodeKey,
    pub method: ReimbursementMethod,
    #[serde(with = "claimtrail_events::date")]
    pub effective: Date,
    #[serde(default, with = "claimtrail_events::optional_date")]
    pub end: Option<Date>,
}

impl ContractTerm {
    fn holds(&self, code: CodeKey, service_date: Date) -> bool {
        self.code_from <= code
            && code <= self.code_to
            && self.code_from.char_count() == code.char_count()
            && self.effective <= service_date
            && self.end.is_none_or(|end| service_date <= end)
    }
}

/// The terms by billing NPI (`""`: the default terms), each list in the order loaded.
#[derive(Debug, Clone, Default)]
pub struct Contracts {
    terms: HashMap<String, Vec<ContractTerm>>,
}

impl Contracts {
    /// How many terms the table holds, over every contract.
    pub fn len(&self) -> usize {
        self.terms.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The table of these rows (a decision's recorded rows, for replay).
    pub fn from_terms(rows: impl IntoIterator<Item = ContractTerm>) -> Contracts {
        let mut terms: HashMap<String, Vec<ContractTerm>> = HashMap::new();
        for term in rows {
            terms.entry(term.billing_npi.clone().unwrap_or_default()).or_default().push(term);
        }
        Contracts { terms }
    }

    pub fn load(input: impl Read) -> Result<Contracts, LoadErrors> {
        let table = Table::read(input, "provider contract", |cells| cells.first().is_some_and(|cell| normalize(cell) == "contract_id"))?;
        let column = |name: &'static str| table.column(name, move |header| header == name);
        let (contract, from, to, method, rate, effective, end) = (
            column("contract_id")?,
            column("code_from")?,
            column("code_to")?,
            column("method")?,
            column("rate")?,
            column("effective_date")?,
            column("end_date")?,
        );
        let npi = table.column("billing_npi", |header| header == "billing_npi").ok();
        let mut failures = Failures::default();
        let mut terms = Vec::new();
        for row in table.rows(&mut failures) {
            let parsed = (|| -> Result<ContractTerm, String> {
                let contract_id = row.cell(contract);
                if contract_id.is_empty() {
                    return Err("contract_id is blank".to_owned());
                }
                let billing_npi = match npi.map(|column_idx| row.cell(column_idx)).filter(|cell| !cell.is_empty()) {
                    None => None,
                    Some(cell) if cell.len() == 10 && cell.bytes().all(|byte| byte.is_ascii_digit()) => Some(cell.to_owned()),
                    Some(cell) => return Err(format!("billing_npi `{cell}` is not 10 digits")),
                };
                let code = |column_idx: usize, name: &str| {
                    CodeKey::parse(row.cell(column_idx)).ok_or_else(|| format!("{name} `{}` is not a code", row.cell(column_idx)))
                };
                let (code_from, code_to) = (code(from, "code_from")?, code(to, "code_to")?);
                if code_to < code_from || row.cell(from).len() != row.cell(to).len() {
                    return Err(format!("`{}`-`{}` is not a range of codes of one length", row.cell(from), row.cell(to)));
                }
                let rate_cell = row.cell(rate);
                let decimal = || rate_cell.parse::<Decimal>().map_err(|_| format!("rate `{rate_cell}` is not a decimal"));
                let method_name = row.cell(method);
                let blank = |method: ReimbursementMethod| if rate_cell.is_empty() { Ok(method) } else { Err(format!("rate must be blank for {method_name}")) };
                let method = match method_name {
                    "fee_schedule" => blank(ReimbursementMethod::FeeSchedule)?,
                    "per_diem" => blank(ReimbursementMethod::PerDiem)?,
                    "rbrvs" => ReimbursementMethod::Rbrvs { conversion_factor: if rate_cell.is_empty() { None } else { Some(decimal()?) } },
                    "percent_of_charge" => ReimbursementMethod::PercentOfCharge { percent: decimal()? },
                    "drg" => ReimbursementMethod::Drg { base_rate: Money::parse(rate_cell).map_err(|error| format!("rate: {error}"))? },
                    other => return Err(format!("method `{other}` is not fee_schedule, rbrvs, percent_of_charge, drg or per_diem")),
                };
                let effective = parse_yyyymmdd(row.cell(effective)).map_err(|reason| format!("effective_date: {reason}"))?;
                let end = parse_optional_yyyymmdd(row.cell(end)).map_err(|reason| format!("end_date: {reason}"))?;
                if end.is_some_and(|end| end < effective) {
                    return Err("end_date is before effective_date".to_owned());
                }
                Ok(ContractTerm { contract_id: contract_id.to_owned(), billing_npi, code_from, code_to, method, effective, end })
            })();
            match parsed {
                Ok(term) => terms.push(term),
                Err(reason) => failures.push(row.line, reason),
            }
        }
        failures.finish(Contracts::from_terms(terms))
    }

    /// The term `billing_npi`'s contract pays `code` by on `service_date`
    /// (see the module doc for which row wins).
    pub fn term(&self, billing_npi: &str, code: CodeKey, service_date: Date) -> Option<&ContractTerm> {
        fn narrowest(terms: Option<&Vec<ContractTerm>>, code: CodeKey, service_date: Date) -> Option<&ContractTerm> {
            terms?.iter().filter(|term| term.holds(code, service_date)).min_by(|a, b| {
                (a.code_to.distance(a.code_from), std::cmp::Reverse(a.effective), &a.contract_id).cmp(&(
                    b.code_to.distance(b.code_from),
                    std::cmp::Reverse(b.effective),
                    &b.contract_id,
                ))
            })
        }
        narrowest(self.terms.get(billing_npi), code, service_date).or_else(|| narrowest(self.terms.get(""), code, service_date))
    }

    /// The method of [`Contracts::term`], with the contract's id.
    /// A row of the billing provider's own in force on `service_date` (not a
    /// default row): the provider has a contract with the payer then, and
    /// is in its network.
    pub fn own_term(&self, billing_npi: &str, service_date: Date) -> Option<&ContractTerm> {
        if billing_npi.is_empty() {
            return None;
        }
        self.terms.get(billing_npi)?.iter().find(|term| term.effective <= service_date && term.end.is_none_or(|end| service_date <= end))
    }

    pub fn method(&self, billing_npi: &str, code: CodeKey, service_date: Date) -> Option<(&str, ReimbursementMethod)> {
        self.term(billing_npi, code, service_date).map(|term| (term.contract_id.as_str(), term.method))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;
    use time::macros::date;

    const CONTRACTS: &str = "contract_id,code_from,code_to,method,rate,effective_date,end_date\n\
C-1,G0000,G9999,rbrvs,34.00,20260101,\n\
C-1,G0100,G0199,fee_schedule,,20260101,\n\
C-1,E0000,E9999,percent_of_charge,65,20260101,20261231\n\
C-2,100,999,drg,6500.00,20260101,\n";

    #[test]
    fn the_narrowest_range_in_force_gives_the_method() {
        let contracts = Contracts::load(CONTRACTS.as_bytes()).expect("loads");
        let day = date!(2026 - 05 - 01);
        let method = |code: &str, day: Date| contracts.method("1234567893", CodeKey::of(code), day).map(|(_, method)| method);
        assert_eq!(method("G0150", day), Some(ReimbursementMethod::FeeSchedule));
        assert_eq!(method("G0250", day), Some(ReimbursementMethod::Rbrvs { conversion_factor: Some(dec!(34.00)) }));
        assert_eq!(method("E0601", date!(2027 - 01 - 01)), None);
        assert_eq!(contracts.method("1234567893", CodeKey::of("470"), day), Some(("C-2", ReimbursementMethod::Drg { base_rate: Money::from_cents(650_000) })));
        assert_eq!(method("A0150", day), None);
    }

    #[test]
    fn a_provider_s_own_rows_come_before_the_default_terms() {
        let text = "contract_id,code_from,code_to,method,rate,effective_date,end_date,billing_npi\n\
DEFAULT,G0000,G9999,fee_schedule,,20260101,,\n\
C-9,G0100,G9999,percent_of_charge,70,20260101,20260630,1234567893\n\
C-9,G0100,G9999,percent_of_charge,75,20260701,,1234567893\n";
        let contracts = Contracts::load(text.as_bytes()).expect("loads");
        let percent = |npi: &str, code: &str, day: Date| contracts.method(npi, CodeKey::of(code), day);
        assert_eq!(percent("1234567893", "G0150", date!(2026 - 05 - 01)), Some(("C-9", ReimbursementMethod::PercentOfCharge { percent: dec!(70) })));
        assert_eq!(percent("1234567893", "G0150", date!(2026 - 07 - 01)), Some(("C-9", ReimbursementMethod::PercentOfCharge { percent: dec!(75) })));
        // Outside the provider's range, and for another provider: the default terms.
        assert_eq!(percent("1234567893", "G0050", date!(2026 - 05 - 01)), Some(("DEFAULT", ReimbursementMethod::FeeSchedule)));
        assert_eq!(percent("1999999984", "G0150", date!(2026 - 05 - 01)), Some(("DEFAULT", ReimbursementMethod::FeeSchedule)));
        // The rows a lookup returned answer the same lookup alone (what a replay rebuilds).
        let used = contracts.term("1234567893", CodeKey::of("G0150"), date!(2026 - 05 - 01)).cloned().expect("a term");
        let rebuilt = Contracts::from_terms([used]);
        assert_eq!(rebuilt.method("1234567893", CodeKey::of("G0150"), date!(2026 - 05 - 01)), percent("1234567893", "G0150", date!(2026 - 05 - 01)));
        let error = Contracts::load(format!("{text}C-9,G0100,G0199,fee_schedule,,20260101,,123\n").as_bytes()).expect_err("bad NPI");
        assert_eq!(error.errors[0].line, 5, "{error}");
    }

    #[test]
    fn a_bad_method_rate_or_range_is_refused_with_its_line() {
        let text =
            format!("{CONTRACTS}C-1,G0200,G0100,fee_schedule,,20260101,\nC-1,G0100,G0199,fee_schedule,12,20260101,\nC-1,A0000,A9999,capitation,,20260101,\n");
        let error = Contracts::load(text.as_bytes()).expect_err("bad rows");
        assert_eq!(error.errors.iter().map(|error| error.line).collect::<Vec<_>>(), vec![6, 7, 8], "{error}");
    }
}
