//! The payer's own fee schedule (no CMS layout): a per-unit amount keyed by
//! code, modifier and place of service, effective-dated.
//!
//! Layout (docs/policy-data.md): header
//! `code,modifier,place_of_service,fee,effective_date,end_date,multiple_procedure`;
//! a blank modifier or place of service matches any; dates `YYYYMMDD`, the
//! end date the last day in force (blank: open); `multiple_procedure` the
//! MPPR indicator (blank: take the RVU file's).

use std::io::Read;

use claimtrail_events::Money;
use time::Date;

use crate::code::CodeKey;
use crate::csv::{Failures, LoadErrors, Table, normalize, parse_optional_yyyymmdd, parse_yyyymmdd};

/// One fee schedule row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Fee {
    pub code: CodeKey,
    /// [`CodeKey::NONE`]: any modifier.
    pub modifier: CodeKey,
    /// [`CodeKey::NONE`]: any place of service.
    pub place_of_service: CodeKey,
    pub per_unit: Money,
    #[serde(with = "claimtrail_events::date")]
    pub effective: Date,
    /// The last day in force.
    #[serde(default, with = "claimtrail_events::optional_date")]
    pub end: Option<Date>,
    pub multiple_procedure: Option<u8>,
}

impl Fee {
    pub fn in_force_on(&self, service_date: Date) -> bool {
        self.effective <= service_date && self.end.is_none_or(|end| service_date <= end)
    }
}

/// Rows sorted by (code, modifier, place of service, effective date).
#[derive(Debug, Clone, Default)]
pub struct FeeSchedule {
    fees: Vec<Fee>,
}

impl FeeSchedule {
    pub fn load(input: impl Read) -> Result<FeeSchedule, LoadErrors> {
        let table = Table::read(input, "fee schedule", |cells| cells.first().is_some_and(|cell| normalize(cell) == "code"))?;
        let column = |name: &'static str| table.column(name, move |header| header == name);
        let (code, modifier, pos, fee, effective, end) =
            (column("code")?, column("modifier")?, column("place_of_service")?, column("fee")?, column("effective_date")?, column("end_date")?);
        let multiple_procedure = table.column("multiple_procedure", |header| header == "multiple_procedure").ok();
        let mut failures = Failures::default();
        let mut fees = Vec::new();
        for row in table.rows(&mut failures) {
            let parsed = (|| -> Result<Fee, String> {
                let optional_code = |column_idx: usize, name: &str| -> Result<CodeKey, String> {
                    let cell = row.cell(column_idx);
                    if cell.is_empty() { Ok(CodeKey::NONE) } else { CodeKey::parse(cell).ok_or_else(|| format!("{name} `{cell}` is not a code")) }
                };
                let per_unit = Money::parse(row.cell(fee)).map_err(|error| format!("fee: {error}"))?;
                if per_unit.is_negative() {
                    return Err(format!("fee {per_unit} is negative"));
                }
                Ok(Fee {
                    code: CodeKey::parse(row.cell(code)).ok_or_else(|| format!("`{}` is not a procedure code", row.cell(code)))?,
                    modifier: optional_code(modifier, "modifier")?,
                    place_of_service: optional_code(pos, "place of service")?,
                    per_unit,
                    effective: parse_yyyymmdd(row.cell(effective)).map_err(|reason| format!("effective_date: {reason}"))?,
                    end: parse_optional_yyyymmdd(row.cell(end)).map_err(|reason| format!("end_date: {reason}"))?,
                    multiple_procedure: match multiple_procedure.map(|column_idx| row.cell(column_idx)) {
                        None | Some("") => None,
                        Some(digit) => {
                            Some(digit.parse::<u8>().ok().filter(|digit| *digit <= 9).ok_or_else(|| format!("multiple_procedure `{digit}` is not 0-9"))?)
                        }
                    },
                })
            })();
            match parsed {
                Ok(fee) if fee.end.is_some_and(|end| end < fee.effective) => failures.push(row.line, "end_date is before effective_date"),
                Ok(fee) => fees.push(fee),
                Err(reason) => failures.push(row.line, reason),
            }
        }
        failures.finish(FeeSchedule::from_fees(fees))
    }

    pub fn from_fees(mut fees: Vec<Fee>) -> FeeSchedule {
        fees.sort_by_key(|fee| (fee.code, fee.modifier, fee.place_of_service, fee.effective));
        FeeSchedule { fees }
    }

    /// The row in force on `service_date`, the most specific first: (code,
    /// modifier, POS), (code, modifier, any), (code, any, POS), (code, any, any).
    pub fn fee(&self, code: CodeKey, modifier: CodeKey, place_of_service: CodeKey, service_date: Date) -> Option<&Fee> {
        let find = |modifier: CodeKey, place_of_service: CodeKey| {
            let key = (code, modifier, place_of_service);
            let start = self.fees.partition_point(|fee| (fee.code, fee.modifier, fee.place_of_service) < key);
            self.fees[start..].iter().take_while(|fee| (fee.code, fee.modifier, fee.place_of_service) == key).filter(|fee| fee.in_force_on(service_date)).last()
        };
        let with_modifier = !modifier.is_none();
        let with_pos = !place_of_service.is_none();
        (with_modifier && with_pos)
            .then(|| find(modifier, place_of_service))
            .flatten()
            .or_else(|| with_modifier.then(|| find(modifier, CodeKey::NONE)).flatten())
            .or_else(|| with_pos.then(|| find(CodeKey::NONE, place_of_service)).flatten())
            .or_else(|| find(CodeKey::NONE, CodeKey::NONE))
    }

    pub fn len(&self) -> usize {
        self.fees.len()
    }

    /// The distinct codes the schedule prices, as written (what a correction re-prices).
    pub fn codes(&self) -> Vec<String> {
        let mut codes: Vec<String> = self.fees.iter().map(|fee| fee.code.to_string()).collect();
        codes.dedup();
        codes
    }

    pub fn is_empty(&self) -> bool {
        self.fees.is_empty()
    }

    pub fn memory_bytes(&self) -> usize {
        self.fees.capacity() * size_of::<Fee>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const SCHEDULE: &str = "code,modifier,place_of_service,fee,effective_date,end_date,multiple_procedure\n\
G0101,,,80.00,20260101,,2\n\
G0101,,22,60.00,20260101,,\n\
G0101,RT,,85.00,20260101,20260630,\n\
G0101,RT,,90.00,20260701,,\n";

    #[test]
    fn the_most_specific_row_in_force_is_chosen() {
        let schedule = FeeSchedule::load(SCHEDULE.as_bytes()).expect("loads");
        let code = CodeKey::of("G0101");
        let per_unit =
            |modifier: &str, pos: &str, day: Date| schedule.fee(code, CodeKey::of(modifier), CodeKey::of(pos), day).map(|fee| fee.per_unit.to_string());
        assert_eq!(per_unit("", "11", date!(2026 - 03 - 01)).as_deref(), Some("80.00"));
        assert_eq!(per_unit("", "22", date!(2026 - 03 - 01)).as_deref(), Some("60.00"));
        assert_eq!(per_unit("RT", "11", date!(2026 - 06 - 30)).as_deref(), Some("85.00"));
        assert_eq!(per_unit("RT", "11", date!(2026 - 07 - 01)).as_deref(), Some("90.00"));
        assert_eq!(per_unit("", "11", date!(2025 - 12 - 31)), None);
    }

    #[test]
    fn a_fee_with_three_decimals_or_backwards_dates_is_refused_with_its_line() {
        let text = format!("{SCHEDULE}G0102,,,1.005,20260101,,\nG0103,,,1.00,20260101,20251231,\n");
        let error = FeeSchedule::load(text.as_bytes()).expect_err("bad rows");
        assert_eq!(error.errors.iter().map(|error| error.line).collect::<Vec<_>>(), vec![6, 7], "{error}");
    }
}
