//! Banking days: Monday to Friday except the Federal Reserve's holidays,
//! computed for any year (never a per-year list).
//!
//! The Fed observes New Year's Day (1 January), Martin Luther King Jr. Day
//! (third Monday of January), Washington's Birthday (third Monday of
//! February), Memorial Day (last Monday of May), Juneteenth (19 June, from
//! 2022), Independence Day (4 July), Labor Day (first Monday of September),
//! Columbus Day (second Monday of October), Veterans Day (11 November),
//! Thanksgiving (fourth Thursday of November) and Christmas (25 December).
//! A fixed-date holiday on a Sunday is observed the Monday after; one on a
//! Saturday is not moved (the Fed is open the Friday before).

use time::{Date, Month, Weekday};

/// Whether ACH entries settle on `date`.
pub fn is_banking_day(date: Date) -> bool {
    !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday) && !is_fed_holiday(date)
}

/// The first banking day strictly after `date`.
pub fn next_banking_day(date: Date) -> Date {
    let mut day = date;
    loop {
        day = day.next_day().expect("a date before the end of time");
        if is_banking_day(day) {
            return day;
        }
    }
}

/// `date` moved forward by `n_days` banking days (`date` itself need not be one).
pub fn add_banking_days(date: Date, n_days: u32) -> Date {
    (0..n_days).fold(date, |day, _| next_banking_day(day))
}

/// Whether the Federal Reserve is closed for a holiday on `date`.
pub fn is_fed_holiday(date: Date) -> bool {
    let year = date.year();
    let fixed = |month: Month, day: u8| Date::from_calendar_date(year, month, day).ok().map(observed);
    let mut holidays = vec![
        fixed(Month::January, 1),
        nth_weekday(year, Month::January, Weekday::Monday, 3),
        nth_weekday(year, Month::February, Weekday::Monday, 3),
        last_weekday(year, Month::May, Weekday::Monday),
        fixed(Month::July, 4),
        nth_weekday(year, Month::September, Weekday::Monday, 1),
        nth_weekday(year, Month::October, Weekday::Monday, 2),
        fixed(Month::November, 11),
        nth_weekday(year, Month::November, Weekday::Thursday, 4),
        fixed(Month::December, 25),
    ];
    if year >= 2022 {
        holidays.push(fixed(Month::June, 19));
    }
    holidays.into_iter().flatten().any(|holiday| holiday == date)
}

/// A Sunday holiday is observed on Monday; any other day stays.
fn observed(date: Date) -> Date {
    if date.weekday() == Weekday::Sunday { date.next_day().unwrap_or(date) } else { date }
}

fn nth_weekday(year: i32, month: Month, weekday: Weekday, n: u8) -> Option<Date> {
    let first = Date::from_calendar_date(year, month, 1).ok()?;
    let offset = (7 + weekday.number_days_from_monday() - first.weekday().number_days_from_monday()) % 7;
    Date::from_calendar_date(year, month, 1 + offset + 7 * (n - 1)).ok()
}

fn last_weekday(year: i32, month: Month, weekday: Weekday) -> Option<Date> {
    let last = Date::from_calendar_date(year, month, month.length(year)).ok()?;
    let back = (7 + last.weekday().number_days_from_monday() - weekday.number_days_from_monday()) % 7;
    Date::from_calendar_date(year, month, last.day() - back).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn the_feds_2025_and_2026_holidays_are_computed() {
        // The Federal Reserve's published schedules for 2025 and 2026.
        let published = [
            date!(2025 - 01 - 01),
            date!(2025 - 01 - 20),
            date!(2025 - 02 - 17),
            date!(2025 - 05 - 26),
            date!(2025 - 06 - 19),
            date!(2025 - 07 - 04),
            date!(2025 - 09 - 01),
            date!(2025 - 10 - 13),
            date!(2025 - 11 - 11),
            date!(2025 - 11 - 27),
            date!(2025 - 12 - 25),
            date!(2026 - 01 - 01),
            date!(2026 - 01 - 19),
            date!(2026 - 02 - 16),
            date!(2026 - 05 - 25),
            date!(2026 - 06 - 19),
            // 4 July 2026 is a Saturday: the Fed does not close on Friday the 3rd.
            date!(2026 - 07 - 04),
            date!(2026 - 09 - 07),
            date!(2026 - 10 - 12),
            date!(2026 - 11 - 11),
            date!(2026 - 11 - 26),
            date!(2026 - 12 - 25),
        ];
        let mut computed = Vec::new();
        let mut day = date!(2025 - 01 - 01);
        while day <= date!(2026 - 12 - 31) {
            if is_fed_holiday(day) {
                computed.push(day);
            }
            day = day.next_day().unwrap();
        }
        assert_eq!(computed, published);
        assert!(is_banking_day(date!(2026 - 07 - 03)));
    }

    #[test]
    fn a_sunday_holiday_is_observed_on_monday() {
        // Christmas 2022 and New Year's Day 2023 were Sundays.
        assert!(is_fed_holiday(date!(2022 - 12 - 26)));
        assert!(is_fed_holiday(date!(2023 - 01 - 02)));
        assert!(!is_banking_day(date!(2023 - 01 - 02)));
    }

    #[test]
    fn the_next_banking_day_skips_weekends_and_holidays() {
        // Friday 2026-01-16 → Monday the 19th is MLK day → Tuesday the 20th.
        assert_eq!(next_banking_day(date!(2026 - 01 - 16)), date!(2026 - 01 - 20));
        // Wednesday 2026-11-25 → Thanksgiving the 26th → Friday the 27th.
        assert_eq!(next_banking_day(date!(2026 - 11 - 25)), date!(2026 - 11 - 27));
        assert_eq!(add_banking_days(date!(2026 - 12 - 23), 3), date!(2026 - 12 - 29));
        assert!(!is_banking_day(date!(2026 - 03 - 07)));
        assert!(is_banking_day(date!(2026 - 03 - 09)));
    }
}
