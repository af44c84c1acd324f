//! Provider contracts (no CMS layout): for each contract, the reimbursement
//! method of each code range, effective-dated.
//!
//! Layout (docs/policy-data.md): header
//! `contract_id,code_from,code_to,method,rate,effective_date,end_date`;
//! codes compare as text of the same length (`G0100`-`G0199`); `method` is
//! `fee_schedule` (rate blank), `rbrvs` (rate: the conversion factor, blank
//! for the PPRRVU one), `percent_of_charge` (rate: the percent), `drg`
//! (rate: the base rate) or `per_diem` (rate blank); dates `YYYYMMDD`, the
//! end date the last day in force. Where two rows cover a code, the
//! narrower range wins.

use std::collections::HashMap;
use std::io::Read;

use claimtrail_events::Money;
use rust_decimal::Decimal;
use time::Date;

use crate::code::CodeKey;
use crate::csv::{Failures, LoadErrors, Table, normalize, parse_optional_yyyymmdd, parse_yyyymmdd};

/// How a contract pays a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContractTerm {
    pub code_from: CodeKey,
    pub code_to: CodeKey,
    pub method: ReimbursementMethod,
    pub effective: Date,
    pub end: Option<Date>,
}

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
        let mut failures = Failures::default();
        let mut terms: HashMap<String, Vec<ContractTerm>> = HashMap::new();
        for row in table.rows(&mut failures) {
            let parsed = (|| -> Result<(String, ContractTerm), String> {
                let contract_id = row.cell(contract);
                if contract_id.is_empty() {
                    return Err("contract_id is blank".to_owned());
                }
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
                Ok((contract_id.to_owned(), ContractTerm { code_from, code_to, method, effective, end }))
            })();
            match parsed {
                Ok((contract_id, term)) => terms.entry(contract_id).or_default().push(term),
                Err(reason) => failures.push(row.line, reason),
            }
        }
        failures.finish(Contracts { terms })
    }

    /// The method `contract_id` pays `code` by on `service_date`: the
    /// narrowest range in force that holds the code.
    pub fn method(&self, contract_id: &str, code: CodeKey, service_date: Date) -> Option<ReimbursementMethod> {
        self.terms
            .get(contract_id)?
            .iter()
            .filter(|term| term.code_from <= code && code <= term.code_to && term.code_from.char_count() == code.char_count())
            .filter(|term| term.effective <= service_date && term.end.is_none_or(|end| service_date <= end))
            .min_by_key(|term| (term.code_to.distance(term.code_from), std::cmp::Reverse(term.effective)))
            .map(|term| term.method)
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
        assert_eq!(contracts.method("C-1", CodeKey::of("G0150"), day), Some(ReimbursementMethod::FeeSchedule));
        assert_eq!(contracts.method("C-1", CodeKey::of("G0250"), day), Some(ReimbursementMethod::Rbrvs { conversion_factor: Some(dec!(34.00)) }));
        assert_eq!(contracts.method("C-1", CodeKey::of("E0601"), date!(2027 - 01 - 01)), None);
        assert_eq!(contracts.method("C-2", CodeKey::of("470"), day), Some(ReimbursementMethod::Drg { base_rate: Money::from_cents(650_000) }));
        assert_eq!(contracts.method("C-3", CodeKey::of("G0150"), day), None);
    }

    #[test]
    fn a_bad_method_rate_or_range_is_refused_with_its_line() {
        let text =
            format!("{CONTRACTS}C-1,G0200,G0100,fee_schedule,,20260101,\nC-1,G0100,G0199,fee_schedule,12,20260101,\nC-1,A0000,A9999,capitation,,20260101,\n");
        let error = Contracts::load(text.as_bytes()).expect_err("bad rows");
        assert_eq!(error.errors.iter().map(|error| error.line).collect::<Vec<_>>(), vec![6, 7, 8], "{error}");
    }
}
