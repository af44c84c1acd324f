//! Pricing claim lines: the payer's fee schedule, RBRVS, percent of charge,
//! and the multiple-procedure reduction. Pure; every amount rounded half
//! away from zero to the cent, every step one sentence.
//!
//! Per line: the provider's contract, when it names a method for the code,
//! says which source prices it (with its conversion factor or percent);
//! otherwise the per-unit fee comes from the first source that has one:
//! 1. the payer's fee schedule row in force (code, modifier, place of service);
//! 2. RBRVS: (work RVU × PW GPCI + PE RVU × PE GPCI + MP RVU × MP GPCI) × CF,
//!    with the facility PE RVU for facility places of service and the
//!    non-facility one elsewhere, the GPCIs of the service location's ZIP
//!    code, rounded to the cent per unit;
//! 3. percent of charge, on the line's whole charge (the fallback also
//!    after a contract's source found no fee).
//!
//! Then fee = per-unit × allowed units; MPPR indicator 2 ranks those lines
//! of one date by fee and pays the first at 100%, the others at 50%
//! (add-on codes exempt; indicators 3, 4, 5, 6, 7 are priced at 100% and
//! say so: their family rules are not built). allowed = the lower of the
//! charge and the reduced fee. The adjustments balance the line:
//! charge − allowed = CO-45 (charge over the fee) + CO-151 (fee of units an
//! MUE took away) + CO-59 (multiple-procedure reduction). A line no source
//! prices is not covered: CO-96 for its charge. The payer's policy may turn
//! the multiple-procedure reduction off ([`PricingTables::multiple_procedure_off`]).
//!
//! Institutional claims ([`price_institutional`]): the contract's `drg`
//! method prices the stay (DRG weight × base rate, lesser of billed, shared
//! over the lines by charge) and its `per_diem` method the lines of a revenue
//! code (rate × days); the rest as above.

use claimtrail_codes::Carc;
use claimtrail_events::Money;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use time::Date;

use crate::code::CodeKey;
use crate::contracts::{Contracts, ReimbursementMethod};
use crate::fees::FeeSchedule;
use crate::institutional::{DrgWeights, InstitutionalPrice, PerDiemBasis, PerDiems};
use crate::line::{Cas, EditLine};
use crate::rbrvs::{GpciTable, Rvu, RvuTable, ZipLocalities};

/// Places of service CMS pays at the facility rate.
pub const FACILITY_PLACES_OF_SERVICE: &[&str] = &["19", "21", "22", "23", "24", "26", "31", "34", "41", "42", "51", "52", "53", "56", "61"];

/// The tables pricing reads, each optional.
#[derive(Debug, Clone, Copy, Default)]
pub struct PricingTables<'a> {
    pub fee_schedule: Option<&'a FeeSchedule>,
    pub rvus: Option<&'a RvuTable>,
    pub gpcis: Option<&'a GpciTable>,
    pub zip_localities: Option<&'a ZipLocalities>,
    /// The payer's RBRVS conversion factor; `None`: the PPRRVU row's.
    pub conversion_factor: Option<Decimal>,
    /// The fallback: this percent of the charge (60 means 60%).
    pub percent_of_charge: Option<Decimal>,
    /// The payer's contracts: the billing provider's method per code range, when one names it.
    pub contracts: Option<&'a Contracts>,
    /// Institutional: DRG weights (a contract's `drg` method) and per diem rates (its `per_diem` method).
    pub drg_weights: Option<&'a DrgWeights>,
    pub per_diems: Option<&'a PerDiems>,
    /// The payer's policy turns the multiple-procedure reduction off.
    pub multiple_procedure_off: bool,
}

/// One line to price: the units an MUE reduction left (the line's own units otherwise).
#[derive(Debug, Clone, Copy)]
pub struct LineToPrice<'a> {
    pub line: &'a EditLine,
    pub units_allowed: Decimal,
    /// Institutional: the line's revenue code (a contract's per diem method is keyed by it).
    pub revenue_code: Option<&'a str>,
}

/// Where a line's fee came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceSource {
    FeeSchedule,
    Rbrvs,
    PercentOfCharge,
    /// Institutional: the claim's DRG weight × the contract's base rate, shared over its lines.
    Drg,
    /// Institutional: the per diem rate of the line's revenue code × days.
    PerDiem,
    /// Institutional: the per diem rate of the claim's type of bill × the
    /// stay's days, shared over its lines.
    TypeOfBillPerDiem,
    NotPriced,
}

/// A priced line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinePrice {
    pub sequence: u32,
    pub source: PriceSource,
    /// The fee for the allowed units after any reduction; `None` when not priced.
    pub fee: Option<Money>,
    pub allowed: Money,
    pub adjustments: Vec<Cas>,
    pub steps: Vec<String>,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum PricingError {
    #[error("amount overflow while pricing line {0}")]
    Overflow(u32),
}

struct Priced {
    source: PriceSource,
    per_unit: Money,
    multiple_procedure: u8,
    add_on: bool,
    steps: Vec<String>,
    /// Percent of charge prices the whole line, not per unit.
    whole_line: Option<Money>,
}

/// Prices the lines of one claim (those no edit denied) under `tables`,
/// with the GPCIs of `service_zip`.
pub fn price_claim(tables: &PricingTables<'_>, service_zip: Option<&str>, lines: &[LineToPrice<'_>]) -> Result<Vec<LinePrice>, PricingError> {
    let mut priced = Vec::with_capacity(lines.len());
    for to_price in lines {
        priced.push(per_unit_fee(tables, service_zip, to_price.line)?);
    }
    // Fees of the billed and of the allowed units.
    let mut fees = Vec::with_capacity(lines.len());
    for (to_price, price) in lines.iter().zip(&priced) {
        let line = to_price.line;
        let overflow = PricingError::Overflow(line.sequence);
        let (billed, allowed_units) = match price.whole_line {
            Some(amount) => (Some(amount), Some(amount)),
            None if price.source == PriceSource::NotPriced => (None, None),
            None => {
                let times = |units: Decimal| price.per_unit.amount().checked_mul(units).map(Money::round_half_away_from_zero).ok_or(overflow.clone());
                (Some(times(line.units)?), Some(times(to_price.units_allowed.min(line.units))?))
            }
        };
        fees.push((billed, allowed_units));
    }
    // MPPR indicator 2: rank by fee within one date of service.
    let mut percent = vec![Decimal::ONE_HUNDRED; lines.len()];
    let mut ranked: Vec<usize> = (0..lines.len())
        .filter(|&line_idx| {
            !tables.multiple_procedure_off && priced[line_idx].multiple_procedure == 2 && !priced[line_idx].add_on && fees[line_idx].1.is_some()
        })
        .collect();
    ranked.sort_by(|&a, &b| {
        (lines[a].line.service_date, std::cmp::Reverse(fees[a].1), lines[a].line.sequence).cmp(&(
            lines[b].line.service_date,
            std::cmp::Reverse(fees[b].1),
            lines[b].line.sequence,
        ))
    });
    for pair in ranked.windows(2) {
        if lines[pair[0]].line.service_date == lines[pair[1]].line.service_date {
            percent[pair[1]] = Decimal::from(50);
        }
    }

    let mut results = Vec::with_capacity(lines.len());
    for (line_idx, (to_price, price)) in lines.iter().zip(priced).enumerate() {
        let line = to_price.line;
        let overflow = || PricingError::Overflow(line.sequence);
        let mut steps = price.steps;
        let mut adjustments = Vec::new();
        let (Some(billed_fee), Some(units_fee)) = fees[line_idx] else {
            results.push(not_priced(line, steps, format!("{} is not priced by the fee schedule, RBRVS or a percent of charge", line.procedure_code)));
            continue;
        };
        if units_fee != billed_fee {
            steps.push(format!("fee for the {} units the MUE allows = {units_fee} (billed units: {billed_fee})", to_price.units_allowed.normalize()));
        }
        let reduced_fee = if percent[line_idx] == Decimal::ONE_HUNDRED {
            if price.multiple_procedure == 2 && !price.add_on && tables.multiple_procedure_off {
                steps.push("multiple procedure (indicator 2): the payer's policy turns the reduction off; paid at 100%".to_owned());
            } else if price.multiple_procedure == 2 && !price.add_on {
                steps.push("multiple procedure (indicator 2): highest fee of the day, paid at 100%".to_owned());
            } else if price.add_on {
                steps.push("add-on code: exempt from the multiple-procedure reduction".to_owned());
            } else if (3..=7).contains(&price.multiple_procedure) {
                steps.push(format!("multiple procedure indicator {}: its family rule is not applied; priced at 100%", price.multiple_procedure));
            }
            units_fee
        } else {
            let reduced = Money::round_half_away_from_zero(units_fee.amount().checked_mul(percent[line_idx]).ok_or_else(overflow)? / Decimal::ONE_HUNDRED);
            steps.push(format!("multiple procedure (indicator 2): not the highest fee of the day, {units_fee} at 50% = {reduced}"));
            reduced
        };
        let base = line.charge.min(billed_fee);
        let after_units = line.charge.min(units_fee);
        let allowed = line.charge.min(reduced_fee);
        steps.push(format!("allowed = lower of charge {} and fee {reduced_fee} = {allowed}", line.charge));
        for (carc, amount, why) in [
            (Carc::FEE_SCHEDULE, line.charge.checked_sub(base).ok_or_else(overflow)?, "charge over the fee"),
            (Carc::UNITS_NOT_SUPPORTED, base.checked_sub(after_units).ok_or_else(overflow)?, "units over the MUE"),
            (Carc::MULTIPLE_PROCEDURE, after_units.checked_sub(allowed).ok_or_else(overflow)?, "multiple-procedure reduction"),
        ] {
            if !amount.is_zero() {
                steps.push(format!("CO-{carc} {amount}: {why}"));
                adjustments.push(Cas::co(carc, amount));
            }
        }
        let adjusted = Money::checked_sum(adjustments.iter().map(|cas| &cas.amount)).ok_or_else(overflow)?;
        assert_eq!(adjusted.checked_add(allowed), Some(line.charge), "line {} does not balance: charge = allowed + adjustments", line.sequence);
        results.push(LinePrice { sequence: line.sequence, source: price.source, fee: Some(reduced_fee), allowed, adjustments, steps });
    }
    Ok(results)
}

fn per_unit_fee(tables: &PricingTables<'_>, service_zip: Option<&str>, line: &EditLine) -> Result<Priced, PricingError> {
    let code = CodeKey::of(&line.procedure_code);
    let modifier = line.modifiers.first().map(|modifier| CodeKey::of(modifier)).unwrap_or(CodeKey::NONE);
    let rvu = tables.rvus.and_then(|rvus| rvus.rvu(code, modifier));
    let contract = tables.contracts.and_then(|contracts| contracts.method(&line.billing_npi, code, line.service_date));
    let priced = match contract {
        Some((contract_id, ReimbursementMethod::FeeSchedule)) => by_fee_schedule(tables, line, code, modifier, rvu).map(|priced| note(priced, contract_id)),
        Some((contract_id, ReimbursementMethod::Rbrvs { conversion_factor })) => {
            by_rbrvs(tables, service_zip, line, rvu, conversion_factor.or(tables.conversion_factor))?.map(|priced| note(priced, contract_id))
        }
        Some((contract_id, ReimbursementMethod::PercentOfCharge { percent })) => Some(note(by_percent(line, percent, rvu)?, contract_id)),
        // Institutional methods price the claim, not its lines (price_drg, price_per_diem); no contract: the default order.
        Some((_, ReimbursementMethod::Drg { .. } | ReimbursementMethod::PerDiem)) | None => match by_fee_schedule(tables, line, code, modifier, rvu) {
            Some(priced) => Some(priced),
            None => by_rbrvs(tables, service_zip, line, rvu, tables.conversion_factor)?,
        },
    };
    if let Some(priced) = priced {
        return Ok(priced);
    }
    if let Some(percent) = tables.percent_of_charge {
        return by_percent(line, percent, rvu);
    }
    Ok(Priced { source: PriceSource::NotPriced, per_unit: Money::ZERO, multiple_procedure: 9, add_on: false, steps: Vec::new(), whole_line: None })
}

fn note(mut priced: Priced, contract_id: &str) -> Priced {
    priced.steps.insert(
        0,
        format!(
            "contract {contract_id} pays this code by {}",
            match priced.source {
                PriceSource::FeeSchedule => "the fee schedule",
                PriceSource::Rbrvs => "RBRVS",
                PriceSource::PercentOfCharge => "a percent of charge",
                PriceSource::Drg => "DRG",
                PriceSource::PerDiem | PriceSource::TypeOfBillPerDiem => "per diem",
                PriceSource::NotPriced => "nothing",
            }
        ),
    );
    priced
}

fn by_fee_schedule(tables: &PricingTables<'_>, line: &EditLine, code: CodeKey, modifier: CodeKey, rvu: Option<&Rvu>) -> Option<Priced> {
    let pos = CodeKey::of(line.place_of_service.as_deref().unwrap_or(""));
    let fee = tables.fee_schedule?.fee(code, modifier, pos, line.service_date)?;
    Some(Priced {
        source: PriceSource::FeeSchedule,
        per_unit: fee.per_unit,
        multiple_procedure: fee.multiple_procedure.or(rvu.map(|rvu| rvu.multiple_procedure)).unwrap_or(9),
        add_on: rvu.is_some_and(|rvu| rvu.add_on),
        steps: vec![format!("fee schedule: {} per unit x {} units", fee.per_unit, line.units.normalize())],
        whole_line: None,
    })
}

fn by_rbrvs(
    tables: &PricingTables<'_>,
    service_zip: Option<&str>,
    line: &EditLine,
    rvu: Option<&Rvu>,
    conversion_factor: Option<Decimal>,
) -> Result<Option<Priced>, PricingError> {
    let Some(rvu) = rvu else { return Ok(None) };
    let locality = service_zip.and_then(|zip| tables.zip_localities?.locality(zip));
    let Some(gpci) = locality.and_then(|locality| tables.gpcis?.gpci(locality)) else { return Ok(None) };
    let overflow = || PricingError::Overflow(line.sequence);
    let pos_text = line.place_of_service.as_deref().unwrap_or("").trim();
    let facility = FACILITY_PLACES_OF_SERVICE.contains(&pos_text);
    let pe = if facility { rvu.pe_facility } else { rvu.pe_non_facility };
    let factor = conversion_factor.unwrap_or(rvu.conversion_factor);
    let weighted = [(rvu.work, gpci.work), (pe, gpci.practice_expense), (rvu.malpractice, gpci.malpractice)]
        .into_iter()
        .try_fold(Decimal::ZERO, |total, (units, index)| total.checked_add(units.checked_mul(index)?))
        .ok_or_else(overflow)?;
    let per_unit = Money::round_half_away_from_zero(weighted.checked_mul(factor).ok_or_else(overflow)?);
    Ok(Some(Priced {
        source: PriceSource::Rbrvs,
        per_unit,
        multiple_procedure: rvu.multiple_procedure,
        add_on: rvu.add_on,
        steps: vec![format!(
            "RBRVS ({}, POS {}): ({} x {} + {} x {} + {} x {}) x CF {} = {per_unit} per unit x {} units",
            if facility { "facility" } else { "non-facility" },
            if pos_text.is_empty() { "none" } else { pos_text },
            rvu.work,
            gpci.work,
            pe,
            gpci.practice_expense,
            rvu.malpractice,
            gpci.malpractice,
            factor,
            line.units.normalize()
        )],
        whole_line: None,
    }))
}

fn by_percent(line: &EditLine, percent: Decimal, rvu: Option<&Rvu>) -> Result<Priced, PricingError> {
    let amount =
        Money::round_half_away_from_zero(line.charge.amount().checked_mul(percent).ok_or(PricingError::Overflow(line.sequence))? / Decimal::ONE_HUNDRED);
    Ok(Priced {
        source: PriceSource::PercentOfCharge,
        per_unit: Money::ZERO,
        multiple_procedure: rvu.map_or(9, |rvu| rvu.multiple_procedure),
        add_on: rvu.is_some_and(|rvu| rvu.add_on),
        steps: vec![format!("{}% of the charge {} = {amount}", percent.normalize(), line.charge)],
        whole_line: Some(amount),
    })
}

/// A line no source prices: not covered, CO-96 for its charge.
fn not_priced(line: &EditLine, mut steps: Vec<String>, why: String) -> LinePrice {
    steps.push(format!("{why}: not covered, CO-96 {}", line.charge));
    let adjustments = if line.charge.is_zero() { Vec::new() } else { vec![Cas::co(Carc::NON_COVERED, line.charge)] };
    LinePrice { sequence: line.sequence, source: PriceSource::NotPriced, fee: None, allowed: Money::ZERO, adjustments, steps }
}

/// A line priced whole at `allowed` (at most its charge): CO-45 for the rest.
fn priced_whole(line: &EditLine, source: PriceSource, fee: Money, allowed: Money, mut steps: Vec<String>) -> Result<LinePrice, PricingError> {
    let contractual = line.charge.checked_sub(allowed).ok_or(PricingError::Overflow(line.sequence))?;
    let mut adjustments = Vec::new();
    if !contractual.is_zero() {
        steps.push(format!("CO-{} {contractual}: charge over the allowed amount", Carc::FEE_SCHEDULE));
        adjustments.push(Cas::co(Carc::FEE_SCHEDULE, contractual));
    }
    Ok(LinePrice { sequence: line.sequence, source, fee: Some(fee), allowed, adjustments, steps })
}

/// An institutional claim's stay: what its DRG and per diem pricing read.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stay<'a> {
    /// The MS-DRG the provider assigned (837I HI*DR).
    pub drg: Option<&'a str>,
    /// The type of bill (837I CLM05-1 then CLM05-3, e.g. `111`).
    pub type_of_bill: Option<&'a str>,
    pub admission: Option<Date>,
    pub statement_from: Option<Date>,
    pub statement_to: Option<Date>,
}

impl Stay<'_> {
    /// The date the stay's rates are chosen by: admission, else the statement's
    /// first day, else the earliest line date.
    pub fn priced_on(&self, lines: &[LineToPrice<'_>]) -> Option<Date> {
        self.admission.or(self.statement_from).or_else(|| lines.iter().map(|to_price| to_price.line.service_date).min())
    }

    /// The stay's days, when its dates are known: from admission (else the
    /// statement's first day) to the statement's last, the day of discharge
    /// not counted, at least 1.
    pub fn days(&self) -> Option<u32> {
        let start = self.admission.or(self.statement_from)?;
        let days = (self.statement_to? - start).whole_days().max(1);
        u32::try_from(days).ok()
    }
}

/// Prices an institutional claim's open lines (a professional claim's too:
/// without a DRG or revenue codes it is [`price_claim`]):
/// 1. when the claim carries a DRG and the billing provider's contract pays
///    that DRG by `drg`: the stay is paid DRG weight × base rate, the lesser
///    of that and the lines' billed total, shared over the lines in
///    proportion to their charges (to the cent, largest remainder first,
///    ties by line order), CO-45 for each line's rest; a DRG with no weight
///    in force leaves every line not covered (CO-96). No outlier payment:
///    the domain file gives none;
/// 2. else each line whose revenue code the contract pays `per_diem`: the
///    rate of that revenue code × days (the line's units, whole days, at most
///    the stay's days when its dates are known), lesser of that and the charge;
/// 3. the other lines by [`price_claim`] (fee schedule, RBRVS, percent of charge, MPPR).
pub fn price_institutional(
    tables: &PricingTables<'_>,
    service_zip: Option<&str>,
    stay: &Stay<'_>,
    lines: &[LineToPrice<'_>],
) -> Result<Vec<LinePrice>, PricingError> {
    if let Some(priced) = price_by_drg(tables, stay, lines)? {
        return Ok(priced);
    }
    if let Some(priced) = price_by_type_of_bill(tables, stay, lines)? {
        return Ok(priced);
    }
    let mut per_diem: Vec<Option<LinePrice>> = Vec::with_capacity(lines.len());
    for to_price in lines {
        per_diem.push(price_per_diem_line(tables, stay, to_price)?);
    }
    let rest: Vec<LineToPrice<'_>> = lines.iter().zip(&per_diem).filter(|(_, priced)| priced.is_none()).map(|(to_price, _)| *to_price).collect();
    let mut rest = price_claim(tables, service_zip, &rest)?.into_iter();
    Ok(per_diem.into_iter().map(|priced| priced.or_else(|| rest.next())).collect::<Option<Vec<_>>>().expect("every line priced once"))
}

fn price_by_drg(tables: &PricingTables<'_>, stay: &Stay<'_>, lines: &[LineToPrice<'_>]) -> Result<Option<Vec<LinePrice>>, PricingError> {
    let (Some(drg), Some(contracts), Some(first), Some(date)) = (stay.drg, tables.contracts, lines.first(), stay.priced_on(lines)) else {
        return Ok(None);
    };
    let Some(drg_key) = CodeKey::parse(drg) else { return Ok(None) };
    let Some((contract_id, ReimbursementMethod::Drg { base_rate })) = contracts.method(&first.line.billing_npi, drg_key, date) else {
        return Ok(None);
    };
    let contract_step = format!("contract {contract_id} pays DRG {drg} by weight x base rate {base_rate}");
    let Some(price) = tables.drg_weights.and_then(|weights| crate::institutional::price_drg(weights, drg, base_rate, date)) else {
        return Ok(Some(not_priced_stay(lines, &contract_step, &format!("DRG {drg} has no weight in force on {date}"))));
    };
    share_stay(lines, PriceSource::Drg, &contract_step, &price, "the DRG amount").map(Some)
}

/// Every line of a stay not priced, each with `step` and `why`.
fn not_priced_stay(lines: &[LineToPrice<'_>], step: &str, why: &str) -> Vec<LinePrice> {
    lines.iter().map(|to_price| not_priced(to_price.line, vec![step.to_owned()], why.to_owned())).collect()
}

/// A stay's price (DRG or type-of-bill per diem): allowed is the lesser of it
/// and the billed total, shared over the lines by charge.
fn share_stay(lines: &[LineToPrice<'_>], source: PriceSource, head: &str, price: &InstitutionalPrice, what: &str) -> Result<Vec<LinePrice>, PricingError> {
    let overflow = || PricingError::Overflow(lines.first().map_or(0, |to_price| to_price.line.sequence));
    let billed = Money::checked_sum(lines.iter().map(|to_price| &to_price.line.charge)).ok_or_else(overflow)?;
    let allowed = billed.min(price.amount);
    let shares = share_by_charge(allowed, lines).ok_or_else(overflow)?;
    let mut priced = Vec::with_capacity(lines.len());
    for (to_price, share) in lines.iter().zip(shares) {
        let line = to_price.line;
        let steps = vec![
            head.to_owned(),
            price.explanation.clone(),
            format!("stay allowed = lesser of the billed {billed} and {what} {} = {allowed}", price.amount),
            format!("line {}'s share by charge: {} of {billed} = {share}", line.sequence, line.charge),
        ];
        priced.push(priced_whole(line, source, share, share, steps)?);
    }
    Ok(priced)
}

/// A stay whose type of bill has a `type_of_bill` per diem rate in force on
/// its first day ([`crate::institutional::type_of_bill_rate`]) is paid that
/// rate × the stay's days, lesser of billed, shared by charge (the payer's
/// all-inclusive per diem: no revenue-code rate or contract term is read).
/// A stay without its dates is not priced (CO-96).
fn price_by_type_of_bill(tables: &PricingTables<'_>, stay: &Stay<'_>, lines: &[LineToPrice<'_>]) -> Result<Option<Vec<LinePrice>>, PricingError> {
    let (Some(type_of_bill), Some(rates), Some(date)) = (stay.type_of_bill, tables.per_diems, stay.priced_on(lines)) else {
        return Ok(None);
    };
    if lines.is_empty() {
        return Ok(None);
    }
    let Some((key, _)) = crate::institutional::type_of_bill_rate(rates, type_of_bill, date) else { return Ok(None) };
    let head = format!("type of bill {type_of_bill} is paid per diem (rate {key})");
    let Some(days) = stay.days() else {
        return Ok(Some(not_priced_stay(lines, &head, "the stay's days are unknown: no admission or statement dates")));
    };
    let Some(price) = crate::institutional::price_per_diem(rates, PerDiemBasis::TypeOfBill, &key, days, date) else {
        return Err(PricingError::Overflow(lines[0].line.sequence));
    };
    share_stay(lines, PriceSource::TypeOfBillPerDiem, &head, &price, "the per diem amount").map(Some)
}

/// `total` shared over the lines in proportion to their charges, in whole
/// cents: each line its floor, then the cents left one each to the largest
/// remainders (ties: line order). With `total` at most the billed sum, no
/// share exceeds its line's charge.
fn share_by_charge(total: Money, lines: &[LineToPrice<'_>]) -> Option<Vec<Money>> {
    let total = i128::from(total.to_cents()?);
    let charges: Vec<i128> = lines.iter().map(|to_price| to_price.line.charge.to_cents().map(|cents| i128::from(cents.max(0)))).collect::<Option<_>>()?;
    let billed: i128 = charges.iter().sum();
    if billed == 0 {
        return Some(vec![Money::ZERO; lines.len()]);
    }
    let mut shares: Vec<i128> = charges.iter().map(|charge| total * charge / billed).collect();
    let mut left = total - shares.iter().sum::<i128>();
    let mut by_remainder: Vec<usize> = (0..lines.len()).collect();
    by_remainder.sort_by_key(|&line_idx| (std::cmp::Reverse(total * charges[line_idx] % billed), line_idx));
    for line_idx in by_remainder {
        if left == 0 {
            break;
        }
        shares[line_idx] += 1;
        left -= 1;
    }
    shares.into_iter().map(|cents| i64::try_from(cents).ok().map(Money::from_cents)).collect()
}

fn price_per_diem_line(tables: &PricingTables<'_>, stay: &Stay<'_>, to_price: &LineToPrice<'_>) -> Result<Option<LinePrice>, PricingError> {
    let line = to_price.line;
    let (Some(revenue_code), Some(contracts)) = (to_price.revenue_code, tables.contracts) else { return Ok(None) };
    let Some(key) = CodeKey::parse(revenue_code) else { return Ok(None) };
    let date = stay.admission.or(stay.statement_from).unwrap_or(line.service_date);
    let Some((contract_id, ReimbursementMethod::PerDiem)) = contracts.method(&line.billing_npi, key, date) else { return Ok(None) };
    let mut steps = vec![format!("contract {contract_id} pays revenue code {revenue_code} per diem")];
    let units = to_price.units_allowed.min(line.units).trunc();
    let billed_days = units.to_u32().unwrap_or(0);
    let days = match stay.days() {
        Some(stay_days) if stay_days < billed_days => {
            steps.push(format!("{billed_days} days billed, the stay is {stay_days} days: {stay_days} paid"));
            stay_days
        }
        _ => billed_days,
    };
    let Some(price) = tables
        .per_diems
        .and_then(|rates| crate::institutional::price_per_diem(rates, crate::institutional::PerDiemBasis::RevenueCode, revenue_code, days, date))
    else {
        return Ok(Some(not_priced(line, steps, format!("revenue code {revenue_code} has no per diem rate in force on {date}"))));
    };
    steps.push(price.explanation);
    let allowed = line.charge.min(price.amount);
    steps.push(format!("allowed = lower of charge {} and the per diem amount {} = {allowed}", line.charge, price.amount));
    priced_whole(line, PriceSource::PerDiem, price.amount, allowed, steps).map(Some)
}
