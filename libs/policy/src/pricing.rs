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
//! prices is not covered: CO-96 for its charge.

use claimtrail_codes::Carc;
use claimtrail_events::Money;
use rust_decimal::Decimal;

use crate::code::CodeKey;
use crate::contracts::{Contracts, ReimbursementMethod};
use crate::fees::FeeSchedule;
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
    /// The provider's contract and its id: the method per code range, when it names one.
    pub contract: Option<(&'a Contracts, &'a str)>,
}

/// One line to price: the units an MUE reduction left (the line's own units otherwise).
#[derive(Debug, Clone, Copy)]
pub struct LineToPrice<'a> {
    pub line: &'a EditLine,
    pub units_allowed: Decimal,
}

/// Where a line's fee came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceSource {
    FeeSchedule,
    Rbrvs,
    PercentOfCharge,
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
    let mut ranked: Vec<usize> =
        (0..lines.len()).filter(|&line_idx| priced[line_idx].multiple_procedure == 2 && !priced[line_idx].add_on && fees[line_idx].1.is_some()).collect();
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
            steps.push(format!("{} is not priced by the fee schedule, RBRVS or a percent of charge: not covered, CO-96 {}", line.procedure_code, line.charge));
            if !line.charge.is_zero() {
                adjustments.push(Cas::co(Carc::NON_COVERED, line.charge));
            }
            results.push(LinePrice { sequence: line.sequence, source: PriceSource::NotPriced, fee: None, allowed: Money::ZERO, adjustments, steps });
            continue;
        };
        if units_fee != billed_fee {
            steps.push(format!("fee for the {} units the MUE allows = {units_fee} (billed units: {billed_fee})", to_price.units_allowed.normalize()));
        }
        let reduced_fee = if percent[line_idx] == Decimal::ONE_HUNDRED {
            if price.multiple_procedure == 2 && !price.add_on {
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
    let contract = tables.contract.and_then(|(contracts, contract_id)| Some((contract_id, contracts.method(contract_id, code, line.service_date)?)));
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
