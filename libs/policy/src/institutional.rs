//! Institutional pricing tables (no CMS layout the payer uses as is): DRG
//! relative weights and per diem rates.
//!
//! Layouts (docs/policy-data.md):
//! - DRG weights: `drg,weight,effective_date,end_date`; the DRG comes from
//!   the claim (837I HI*DR), there is no grouper; the base rate is the
//!   contract's.
//! - Per diem: `basis,key,rate,effective_date,end_date` where basis is
//!   `revenue_code` (key: 4 digits, e.g. 0120) or `type_of_bill` (key: 3
//!   characters, e.g. 111, or 11X for any frequency; NUBC's 0111 is read as 111).

use std::io::Read;

use claimtrail_events::Money;
use rust_decimal::Decimal;
use time::Date;

use crate::code::CodeKey;
use crate::csv::{Failures, LoadErrors, Table, normalize, parse_optional_yyyymmdd, parse_yyyymmdd};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DrgWeight {
    pub drg: CodeKey,
    pub weight: Decimal,
    #[serde(with = "claimtrail_events::date")]
    pub effective: Date,
    #[serde(default, with = "claimtrail_events::optional_date")]
    pub end: Option<Date>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PerDiemBasis {
    RevenueCode,
    TypeOfBill,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PerDiem {
    pub basis: PerDiemBasis,
    pub key: CodeKey,
    pub rate: Money,
    #[serde(with = "claimtrail_events::date")]
    pub effective: Date,
    #[serde(default, with = "claimtrail_events::optional_date")]
    pub end: Option<Date>,
}

#[derive(Debug, Clone, Default)]
pub struct DrgWeights {
    weights: Vec<DrgWeight>,
}

#[derive(Debug, Clone, Default)]
pub struct PerDiems {
    rates: Vec<PerDiem>,
}

fn in_force(effective: Date, end: Option<Date>, service_date: Date) -> bool {
    effective <= service_date && end.is_none_or(|end| service_date <= end)
}

fn dates(row: &crate::csv::Row<'_>, effective: usize, end: usize) -> Result<(Date, Option<Date>), String> {
    let from = parse_yyyymmdd(row.cell(effective)).map_err(|reason| format!("effective_date: {reason}"))?;
    let to = parse_optional_yyyymmdd(row.cell(end)).map_err(|reason| format!("end_date: {reason}"))?;
    if to.is_some_and(|to| to < from) {
        return Err("end_date is before effective_date".to_owned());
    }
    Ok((from, to))
}

impl DrgWeights {
    /// The table of these rows (a decision's recorded rows, for replay).
    pub fn from_weights(rows: impl IntoIterator<Item = DrgWeight>) -> DrgWeights {
        let mut weights: Vec<DrgWeight> = rows.into_iter().collect();
        weights.sort_by_key(|weight| (weight.drg, weight.effective));
        DrgWeights { weights }
    }

    /// How many rows the table holds.
    pub fn len(&self) -> usize {
        self.weights.len()
    }

    pub fn is_empty(&self) -> bool {
        self.weights.is_empty()
    }

    pub fn load(input: impl Read) -> Result<DrgWeights, LoadErrors> {
        let table = Table::read(input, "DRG weights", |cells| cells.first().is_some_and(|cell| normalize(cell) == "drg"))?;
        let column = |name: &'static str| table.column(name, move |header| header == name);
        let (drg, weight, effective, end) = (column("drg")?, column("weight")?, column("effective_date")?, column("end_date")?);
        let mut failures = Failures::default();
        let mut weights = Vec::new();
        for row in table.rows(&mut failures) {
            let parsed = (|| -> Result<DrgWeight, String> {
                let (from, to) = dates(&row, effective, end)?;
                let value: Decimal = row.cell(weight).parse().map_err(|_| format!("weight `{}` is not a decimal", row.cell(weight)))?;
                if value.is_sign_negative() {
                    return Err(format!("weight {value} is negative"));
                }
                Ok(DrgWeight {
                    drg: CodeKey::parse(row.cell(drg)).ok_or_else(|| format!("`{}` is not a DRG", row.cell(drg)))?,
                    weight: value,
                    effective: from,
                    end: to,
                })
            })();
            match parsed {
                Ok(weight) => weights.push(weight),
                Err(reason) => failures.push(row.line, reason),
            }
        }
        failures.finish(DrgWeights::from_weights(weights))
    }

    pub fn weight(&self, drg: CodeKey, service_date: Date) -> Option<&DrgWeight> {
        let start = self.weights.partition_point(|weight| weight.drg < drg);
        self.weights[start..].iter().take_while(|weight| weight.drg == drg).filter(|weight| in_force(weight.effective, weight.end, service_date)).last()
    }
}

impl PerDiems {
    /// The table of these rows (a decision's recorded rows, for replay).
    pub fn from_rates(rows: impl IntoIterator<Item = PerDiem>) -> PerDiems {
        let mut rates: Vec<PerDiem> = rows.into_iter().collect();
        rates.sort_by_key(|rate| (rate.basis, rate.key, rate.effective));
        PerDiems { rates }
    }

    /// How many rows the table holds.
    pub fn len(&self) -> usize {
        self.rates.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rates.is_empty()
    }

    pub fn load(input: impl Read) -> Result<PerDiems, LoadErrors> {
        let table = Table::read(input, "per diem", |cells| cells.first().is_some_and(|cell| normalize(cell) == "basis"))?;
        let column = |name: &'static str| table.column(name, move |header| header == name);
        let (basis, key, rate, effective, end) = (column("basis")?, column("key")?, column("rate")?, column("effective_date")?, column("end_date")?);
        let mut failures = Failures::default();
        let mut rates = Vec::new();
        for row in table.rows(&mut failures) {
            let parsed = (|| -> Result<PerDiem, String> {
                let (from, to) = dates(&row, effective, end)?;
                let basis = match row.cell(basis) {
                    "revenue_code" => PerDiemBasis::RevenueCode,
                    "type_of_bill" => PerDiemBasis::TypeOfBill,
                    other => return Err(format!("basis `{other}` is neither revenue_code nor type_of_bill")),
                };
                let rate = Money::parse(row.cell(rate)).map_err(|error| format!("rate: {error}"))?;
                Ok(PerDiem {
                    basis,
                    key: match basis {
                        PerDiemBasis::RevenueCode => CodeKey::parse(row.cell(key)),
                        PerDiemBasis::TypeOfBill => claimtrail_events::type_of_bill(row.cell(key)).as_deref().and_then(CodeKey::parse),
                    }
                    .ok_or_else(|| match basis {
                        PerDiemBasis::RevenueCode => format!("key `{}` is not a code", row.cell(key)),
                        PerDiemBasis::TypeOfBill => {
                            format!("key `{}` is not a type of bill: 3 characters (111, or 11X for any frequency) or NUBC's 4 (0111)", row.cell(key))
                        }
                    })?,
                    rate,
                    effective: from,
                    end: to,
                })
            })();
            match parsed {
                Ok(rate) => rates.push(rate),
                Err(reason) => failures.push(row.line, reason),
            }
        }
        failures.finish(PerDiems::from_rates(rates))
    }

    pub fn rate(&self, basis: PerDiemBasis, key: CodeKey, service_date: Date) -> Option<&PerDiem> {
        let start = self.rates.partition_point(|rate| (rate.basis, rate.key) < (basis, key));
        self.rates[start..]
            .iter()
            .take_while(|rate| (rate.basis, rate.key) == (basis, key))
            .filter(|rate| in_force(rate.effective, rate.end, service_date))
            .last()
    }
}

/// What an institutional claim is paid before benefits, with its one-sentence step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstitutionalPrice {
    pub amount: Money,
    pub explanation: String,
}

/// DRG weight × the contract's base rate, rounded half away from zero; `None`
/// when the DRG has no weight in force on the admission date, or on overflow.
pub fn price_drg(weights: &DrgWeights, drg: &str, base_rate: Money, admission_date: Date) -> Option<InstitutionalPrice> {
    let weight = weights.weight(CodeKey::parse(drg)?, admission_date)?;
    let amount = Money::round_half_away_from_zero(weight.weight.checked_mul(base_rate.amount())?);
    Some(InstitutionalPrice { amount, explanation: format!("DRG {drg}: weight {} x base rate {base_rate} = {amount}", weight.weight) })
}

/// The `type_of_bill` rate for a claim's type of bill (the 837I's three
/// characters) in force on `date`: the row keyed by the type of bill itself,
/// else the one keyed by its first two characters and `X` (CMS's `11X`: any
/// frequency, so a replacement is priced as its original). Answers the key
/// of the row found.
pub fn type_of_bill_rate<'a>(rates: &'a PerDiems, type_of_bill: &str, date: Date) -> Option<(String, &'a PerDiem)> {
    let exact = type_of_bill.trim().to_ascii_uppercase();
    let any_frequency = format!("{}X", exact.get(..2)?);
    [exact, any_frequency].into_iter().find_map(|key| Some((key.clone(), rates.rate(PerDiemBasis::TypeOfBill, CodeKey::parse(&key)?, date)?)))
}

/// Per diem rate × days, the rate in force on the admission date.
pub fn price_per_diem(rates: &PerDiems, basis: PerDiemBasis, key: &str, days: u32, admission_date: Date) -> Option<InstitutionalPrice> {
    let rate = rates.rate(basis, CodeKey::parse(key)?, admission_date)?;
    let amount = Money::round_half_away_from_zero(rate.rate.amount().checked_mul(Decimal::from(days))?);
    let basis = match basis {
        PerDiemBasis::RevenueCode => "revenue code",
        PerDiemBasis::TypeOfBill => "type of bill",
    };
    Some(InstitutionalPrice { amount, explanation: format!("per diem for {basis} {key}: {} x {days} days = {amount}", rate.rate) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn a_drg_is_priced_as_weight_times_base_rate_to_the_cent() {
        let weights = DrgWeights::load("drg,weight,effective_date,end_date\n470,1.9047,20251001,\n".as_bytes()).expect("loads");
        let price = price_drg(&weights, "470", Money::from_cents(650_000), date!(2026 - 01 - 15)).expect("priced");
        // 1.9047 x 6500.00 = 12380.55
        assert_eq!(price.amount, Money::from_cents(1_238_055));
        assert!(price_drg(&weights, "470", Money::from_cents(650_000), date!(2025 - 09 - 30)).is_none());
    }

    #[test]
    fn a_per_diem_is_the_rate_times_the_days() {
        let rates =
            PerDiems::load("basis,key,rate,effective_date,end_date\nrevenue_code,0120,1250.50,20260101,\ntype_of_bill,111,900.00,20260101,\n".as_bytes())
                .expect("loads");
        let price = price_per_diem(&rates, PerDiemBasis::RevenueCode, "0120", 3, date!(2026 - 02 - 01)).expect("priced");
        assert_eq!(price.amount, Money::from_cents(375_150));
        assert_eq!(price_per_diem(&rates, PerDiemBasis::TypeOfBill, "111", 2, date!(2026 - 02 - 01)).map(|p| p.amount), Some(Money::from_cents(180_000)));
    }

    #[test]
    fn an_unknown_per_diem_basis_is_refused_with_its_line() {
        let error = PerDiems::load("basis,key,rate,effective_date,end_date\ndrg,470,1.00,20260101,\n".as_bytes()).expect_err("bad basis");
        assert_eq!(error.errors[0].line, 2);
    }
}
