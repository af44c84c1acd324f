//! X12 simple data types read exactly: dates (DT), times (TM), decimals (R).

use claimtrail_events::Money;
use rust_decimal::Decimal;
use time::{Date, Month};

use crate::MONEY_CENTS_MAX;
use crate::codes::element_error;

fn digits(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `CCYYMMDD`.
pub(crate) fn parse_d8(text: &str) -> Option<Date> {
    if text.len() != 8 {
        return None;
    }
    let year = i32::try_from(digits(text.get(..4)?)?).ok()?;
    let month = Month::try_from(u8::try_from(digits(text.get(4..6)?)?).ok()?).ok()?;
    let day = u8::try_from(digits(text.get(6..8)?)?).ok()?;
    Date::from_calendar_date(year, month, day).ok()
}

/// `CCYYMMDD-CCYYMMDD`, the end not before the start.
pub(crate) fn parse_rd8(text: &str) -> Option<(Date, Date)> {
    let (start, end) = text.split_once('-')?;
    let (start, end) = (parse_d8(start)?, parse_d8(end)?);
    (start <= end).then_some((start, end))
}

/// A date in a DTP: `D8` or `RD8` (start, end).
pub(crate) fn parse_period(qualifier: &str, text: &str) -> Result<(Date, Date), &'static str> {
    match qualifier {
        "D8" => parse_d8(text).map(|date| (date, date)).ok_or(element_error::INVALID_DATE),
        "RD8" => parse_rd8(text).ok_or(element_error::INVALID_DATE),
        _ => Err(element_error::INVALID_CODE_VALUE),
    }
}

/// ISA09 `YYMMDD`.
pub(crate) fn parse_yymmdd(text: &str) -> Option<Date> {
    if text.len() != 6 {
        return None;
    }
    parse_d8(&format!("20{text}"))
}

/// `HHMM`, also the start of GS05's `HHMMSS[dd]`.
pub(crate) fn is_hhmm(text: &str) -> bool {
    let (Some(hours), Some(minutes)) = (text.get(..2).and_then(digits), text.get(2..4).and_then(digits)) else {
        return false;
    };
    text.len() >= 4 && text.bytes().all(|byte| byte.is_ascii_digit()) && hours < 24 && minutes < 60
}

/// An X12 R (decimal number): an optional `-`, digits with at most one `.`.
pub(crate) fn parse_decimal(text: &str) -> Result<Decimal, &'static str> {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let n_dots = unsigned.bytes().filter(|byte| *byte == b'.').count();
    let n_digits = unsigned.bytes().filter(u8::is_ascii_digit).count();
    if n_dots > 1 || n_digits == 0 || n_digits + n_dots != unsigned.len() {
        return Err(element_error::INVALID_CHARACTER);
    }
    if n_digits > 18 {
        return Err(element_error::TOO_LONG);
    }
    Decimal::from_str_exact(text).map_err(|_| element_error::INVALID_CHARACTER)
}

/// A monetary amount: an R with at most two decimal places and at most [`MONEY_CENTS_MAX`] cents.
pub(crate) fn parse_money(text: &str) -> Result<Money, &'static str> {
    let amount = parse_decimal(text)?;
    let money = Money::from_decimal(amount).map_err(|_| element_error::INVALID_CHARACTER)?;
    if money.amount().abs() > Money::from_cents(MONEY_CENTS_MAX).amount() {
        return Err(element_error::TOO_LONG);
    }
    Ok(money)
}

/// Formats a date `CCYYMMDD`.
pub(crate) fn d8(date: Date) -> String {
    format!("{:04}{:02}{:02}", date.year(), u8::from(date.month()), date.day())
}

/// An element value fit to be echoed in a 999 IK404 or a 277CA: without
/// separators and control characters, at most `max` characters.
pub(crate) fn clean(text: &str, max: usize) -> String {
    text.chars().filter(|c| !c.is_control() && !matches!(c, '*' | ':' | '^' | '~')).take(max).collect::<String>().trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn dates_are_read_and_refused_exactly() {
        assert_eq!(parse_d8("20240229"), Some(date!(2024 - 02 - 29)));
        for bad in ["20230229", "2024022", "2024-02-", "202402299", "ABCDEFGH", "20241301", "+2024010"] {
            assert_eq!(parse_d8(bad), None, "{bad}");
        }
        assert_eq!(parse_rd8("20240101-20240103"), Some((date!(2024 - 01 - 01), date!(2024 - 01 - 03))));
        assert_eq!(parse_rd8("20240103-20240101"), None);
        assert_eq!(parse_yymmdd("131031"), Some(date!(2013 - 10 - 31)));
        assert!(is_hhmm("1147") && is_hhmm("114759") && !is_hhmm("2460") && !is_hhmm("11"));
    }

    #[test]
    fn amounts_are_exact_to_the_cent() {
        assert_eq!(parse_money("100").map(|m| m.to_string()), Ok("100.00".to_owned()));
        assert_eq!(parse_money("12.25").map(|m| m.to_string()), Ok("12.25".to_owned()));
        assert_eq!(parse_money(".5").map(|m| m.to_string()), Ok("0.50".to_owned()));
        assert_eq!(parse_money("-5").map(|m| m.to_string()), Ok("-5.00".to_owned()));
        for bad in ["", "1.2.3", "1,00", "1e5", "12.255", "abc", "-", "."] {
            assert!(parse_money(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_money("99999999999999999999"), Err(element_error::TOO_LONG));
    }
}
