//! Times and dates as the canonical bytes carry them, and the one clock that
//! every domain decision reads ([`Timestamp::now`], [`today`]).

use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{Date, OffsetDateTime, UtcOffset};

const TIMESTAMP_FORMAT: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
const DATE_FORMAT: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]");

/// A UTC instant with microsecond precision, written `2026-01-02T03:04:05.123456Z`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not an RFC 3339 UTC time with microseconds (YYYY-MM-DDTHH:MM:SS.ffffffZ)")]
pub struct TimestampError(String);

/// Moves this process's clock by whole days, e.g. `1500` to run as if it were
/// four years later: a test and operations facility (docs/operations.md).
pub const CLOCK_OFFSET_ENV: &str = "CLAIMTRAIL_CLOCK_OFFSET_DAYS";
/// The largest offset, either way: about a century keeps every date in range.
pub const CLOCK_OFFSET_DAYS_MAX: i64 = 36_600;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{CLOCK_OFFSET_ENV}={0:?} is not a whole number of days between -{CLOCK_OFFSET_DAYS_MAX} and {CLOCK_OFFSET_DAYS_MAX}")]
pub struct ClockOffsetError(String);

/// Parses a clock offset in days; unset or empty is no offset.
pub fn parse_clock_offset(text: Option<&str>) -> Result<time::Duration, ClockOffsetError> {
    match text.map(str::trim) {
        None | Some("") => Ok(time::Duration::ZERO),
        Some(text) => match text.parse::<i64>() {
            Ok(days) if days.abs() <= CLOCK_OFFSET_DAYS_MAX => Ok(time::Duration::days(days)),
            _ => Err(ClockOffsetError(text.to_owned())),
        },
    }
}

/// This process's clock offset, read from [`CLOCK_OFFSET_ENV`] once. Startup
/// calls it so that a bad value stops the process with this error before any
/// clock reading.
pub fn clock_offset() -> Result<time::Duration, ClockOffsetError> {
    static OFFSET: OnceLock<Result<time::Duration, ClockOffsetError>> = OnceLock::new();
    OFFSET.get_or_init(|| parse_clock_offset(std::env::var(CLOCK_OFFSET_ENV).ok().as_deref())).clone()
}

/// Today (UTC) by [`Timestamp::now`]'s clock.
pub fn today() -> Date {
    Timestamp::now().date()
}

impl Timestamp {
    /// Now: the system clock, moved by [`clock_offset`]. Every "now" that a
    /// domain decision reads (receipt, timely filing, event times, the demo's
    /// and the generator's dates) comes from here.
    pub fn now() -> Timestamp {
        // Startup has already refused a bad offset (`clock_offset`); reaching this with one is a bug.
        let offset = clock_offset().expect("the clock offset was checked at startup");
        Timestamp::from_datetime(OffsetDateTime::now_utc() + offset)
    }

    /// Truncates to microseconds and converts to UTC.
    pub fn from_datetime(at: OffsetDateTime) -> Timestamp {
        let at = at.to_offset(UtcOffset::UTC);
        let micros = at.nanosecond() / 1_000 * 1_000;
        Timestamp(at.replace_nanosecond(micros).unwrap_or(at))
    }

    pub fn parse(text: &str) -> Result<Timestamp, TimestampError> {
        let at = time::PrimitiveDateTime::parse(text, TIMESTAMP_FORMAT).map_err(|_| TimestampError(text.to_owned()))?;
        Ok(Timestamp(at.assume_utc()))
    }

    pub fn datetime(self) -> OffsetDateTime {
        self.0
    }

    pub fn date(self) -> Date {
        self.0.date()
    }

    pub fn unix_micros(self) -> i64 {
        (self.0.unix_timestamp_nanos() / 1_000) as i64
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0.format(TIMESTAMP_FORMAT).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
        let text = String::deserialize(deserializer)?;
        Timestamp::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for Timestamp {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Timestamp".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z$",
            "description": "UTC time, RFC 3339 with exactly six fractional digits"
        })
    }
}

/// Formats a calendar date as `YYYY-MM-DD`.
pub fn format_date(date: Date) -> String {
    date.format(DATE_FORMAT).unwrap_or_default()
}

/// Parses a `YYYY-MM-DD` calendar date.
pub fn parse_date(text: &str) -> Option<Date> {
    Date::parse(text, DATE_FORMAT).ok()
}

/// Serde for `time::Date` as `YYYY-MM-DD`; use with `#[serde(with = "claimtrail_events::date")]`.
pub mod date {
    use super::*;

    pub fn serialize<S: Serializer>(date: &Date, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format_date(*date))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Date, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_date(&text).ok_or_else(|| serde::de::Error::custom(format!("`{text}` is not a date (YYYY-MM-DD)")))
    }
}

/// Serde for `Option<time::Date>` as `YYYY-MM-DD` or absent; use with
/// `#[serde(default, with = "claimtrail_events::optional_date", skip_serializing_if = "Option::is_none")]`.
pub mod optional_date {
    use super::*;

    pub fn serialize<S: Serializer>(date: &Option<Date>, serializer: S) -> Result<S::Ok, S::Error> {
        match date {
            Some(date) => serializer.serialize_some(&format_date(*date)),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Date>, D::Error> {
        match Option::<String>::deserialize(deserializer)? {
            None => Ok(None),
            Some(text) => parse_date(&text).map(Some).ok_or_else(|| serde::de::Error::custom(format!("`{text}` is not a date (YYYY-MM-DD)"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_exactly_six_fraction_digits_in_utc() {
        let at = Timestamp::parse("2026-11-24T23:48:53.000100Z").unwrap();
        assert_eq!(at.to_string(), "2026-11-24T23:48:53.000100Z");
        let truncated = Timestamp::from_datetime(time::macros::datetime!(2026-01-02 03:04:05.123456789 +02:00));
        assert_eq!(truncated.to_string(), "2026-01-02T01:04:05.123456Z");
    }

    #[test]
    fn a_clock_offset_is_whole_days_and_unset_is_none() {
        assert_eq!(parse_clock_offset(None), Ok(time::Duration::ZERO));
        assert_eq!(parse_clock_offset(Some("")), Ok(time::Duration::ZERO));
        assert_eq!(parse_clock_offset(Some("1500")), Ok(time::Duration::days(1500)));
        assert_eq!(parse_clock_offset(Some(" -30 ")), Ok(time::Duration::days(-30)));
        assert_eq!(parse_clock_offset(Some("36600")), Ok(time::Duration::days(36_600)));
    }

    #[test]
    fn a_clock_offset_that_is_not_whole_days_in_range_is_refused_naming_the_variable() {
        for bad in ["1.5", "4y", "36601", "-36601", "99999999999999999999"] {
            let error = parse_clock_offset(Some(bad)).unwrap_err().to_string();
            assert!(error.starts_with("CLAIMTRAIL_CLOCK_OFFSET_DAYS=") && error.contains(bad), "{error}");
        }
    }

    #[test]
    fn a_time_without_microseconds_is_refused() {
        assert!(Timestamp::parse("2026-11-24T23:48:53Z").is_err());
    }
}
