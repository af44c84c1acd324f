//! A payer's payment cycle: the weekdays and the time of day (UTC) at which
//! settlement makes a payment run on its own, beside the runs finance asks
//! for. Pure: which slot is due at a given moment, and the Idempotency-Key
//! that makes each slot's run happen once, however many replicas tick and
//! however often.

use time::{Date, PrimitiveDateTime, Time, Weekday};

/// The weekdays' names as a schedule spells them.
const WEEKDAYS: [(&str, Weekday); 7] = [
    ("mon", Weekday::Monday),
    ("tue", Weekday::Tuesday),
    ("wed", Weekday::Wednesday),
    ("thu", Weekday::Thursday),
    ("fri", Weekday::Friday),
    ("sat", Weekday::Saturday),
    ("sun", Weekday::Sunday),
];

/// A payer's payment cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentSchedule {
    /// Monday first, each once.
    pub weekdays: Vec<Weekday>,
    /// The time of day, UTC, to the minute.
    pub at: Time,
    /// When the schedule was set: no slot before it is run (setting a
    /// schedule at 10:00 for 06:00 today does not pay at once).
    pub since: PrimitiveDateTime,
}

/// Why a schedule was refused; each names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("weekdays: a schedule needs at least one weekday")]
    NoWeekday,
    #[error("weekdays: `{0}` is not one of mon, tue, wed, thu, fri, sat, sun")]
    Weekday(String),
    #[error("at: `{0}` is not a time of day as HH:MM (UTC, 00:00 to 23:59)")]
    At(String),
}

impl PaymentSchedule {
    /// The schedule of `weekdays` (`mon`..`sun`, any case, repeats ignored) at `at` (`HH:MM`, UTC), set at `since`.
    pub fn parse(weekdays: &[String], at: &str, since: PrimitiveDateTime) -> Result<PaymentSchedule, ScheduleError> {
        let mut days = Vec::with_capacity(weekdays.len());
        for name in weekdays {
            let lower = name.trim().to_ascii_lowercase();
            let (_, day) = WEEKDAYS.iter().find(|(short, _)| *short == lower).ok_or_else(|| ScheduleError::Weekday(name.clone()))?;
            days.push(*day);
        }
        days.sort_by_key(|day| day.number_days_from_monday());
        days.dedup();
        if days.is_empty() {
            return Err(ScheduleError::NoWeekday);
        }
        Ok(PaymentSchedule { weekdays: days, at: parse_at(at)?, since })
    }

    /// The weekdays as a schedule spells them, Monday first.
    pub fn weekday_names(&self) -> Vec<&'static str> {
        self.weekdays.iter().filter_map(|day| WEEKDAYS.iter().find(|(_, d)| d == day).map(|(name, _)| *name)).collect()
    }

    /// `HH:MM`.
    pub fn at_text(&self) -> String {
        format!("{:02}:{:02}", self.at.hour(), self.at.minute())
    }

    /// The latest slot at or before `now` and not before [`PaymentSchedule::since`]:
    /// the run that should have been made by now. None when no slot has come
    /// since the schedule was set. A service down over several slots makes
    /// one run for the latest (a run pays everything unpaid).
    pub fn due(&self, now: PrimitiveDateTime) -> Option<PrimitiveDateTime> {
        (0..7)
            .filter_map(|days_back| now.date().checked_sub(time::Duration::days(days_back)))
            .filter(|date| self.weekdays.contains(&date.weekday()))
            .map(|date| PrimitiveDateTime::new(date, self.at))
            .find(|slot| *slot <= now)
            .filter(|slot| *slot >= self.since)
    }

    /// The first slot after `now`.
    pub fn next(&self, now: PrimitiveDateTime) -> PrimitiveDateTime {
        (0..=7)
            .filter_map(|days_ahead| now.date().checked_add(time::Duration::days(days_ahead)))
            .filter(|date| self.weekdays.contains(&date.weekday()))
            .map(|date| PrimitiveDateTime::new(date, self.at))
            .find(|slot| *slot > now)
            .unwrap_or(now)
    }
}

/// The Idempotency-Key of a slot's run: one run per payer and slot.
pub fn slot_key(slot: PrimitiveDateTime) -> String {
    format!("schedule/{}T{:02}:{:02}Z", slot_date(slot.date()), slot.hour(), slot.minute())
}

fn slot_date(date: Date) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day())
}

fn parse_at(at: &str) -> Result<Time, ScheduleError> {
    let refused = || ScheduleError::At(at.to_owned());
    let (hour, minute) = at.split_once(':').ok_or_else(refused)?;
    if hour.len() != 2 || minute.len() != 2 {
        return Err(refused());
    }
    let (hour, minute) = (hour.parse::<u8>().map_err(|_| refused())?, minute.parse::<u8>().map_err(|_| refused())?);
    Time::from_hms(hour, minute, 0).map_err(|_| refused())
}

#[cfg(test)]
mod tests {
    use time::macros::{datetime, time};

    use super::*;

    fn schedule(days: &[&str], at: &str, since: PrimitiveDateTime) -> PaymentSchedule {
        PaymentSchedule::parse(&days.iter().map(|d| (*d).to_owned()).collect::<Vec<_>>(), at, since).unwrap()
    }

    #[test]
    fn weekdays_are_read_in_any_case_once_each_monday_first() {
        let s = schedule(&["Fri", "mon", "FRI", " wed "], "06:30", datetime!(2026-03-01 00:00));
        assert_eq!(s.weekdays, [Weekday::Monday, Weekday::Wednesday, Weekday::Friday]);
        assert_eq!(s.weekday_names(), ["mon", "wed", "fri"]);
        assert_eq!((s.at, s.at_text()), (time!(06:30), "06:30".to_owned()));
    }

    #[test]
    fn a_bad_schedule_names_its_field() {
        let since = datetime!(2026-03-01 00:00);
        let parse = |days: &[&str], at: &str| PaymentSchedule::parse(&days.iter().map(|d| (*d).to_owned()).collect::<Vec<_>>(), at, since).unwrap_err();
        assert_eq!(parse(&[], "06:00"), ScheduleError::NoWeekday);
        assert_eq!(parse(&["monday"], "06:00"), ScheduleError::Weekday("monday".into()));
        for at in ["6:00", "24:00", "06:60", "06-00", "0600", "", "06:00:00", "-1:00"] {
            assert_eq!(parse(&["mon"], at), ScheduleError::At(at.into()), "{at}");
        }
        assert!(parse(&["mon"], "24:00").to_string().starts_with("at: "));
    }

    #[test]
    fn the_latest_slot_at_or_before_now_is_due() {
        // 2026-03-02 is a Monday.
        let s = schedule(&["mon", "thu"], "06:00", datetime!(2026-02-01 00:00));
        assert_eq!(s.due(datetime!(2026-03-02 05:59)), Some(datetime!(2026-02-26 06:00)), "before Monday's slot: Thursday's");
        assert_eq!(s.due(datetime!(2026-03-02 06:00)), Some(datetime!(2026-03-02 06:00)), "at the slot");
        assert_eq!(s.due(datetime!(2026-03-04 23:00)), Some(datetime!(2026-03-02 06:00)));
        assert_eq!(s.due(datetime!(2026-03-05 06:01)), Some(datetime!(2026-03-05 06:00)));
        // Down for two weeks: one run, for the latest slot.
        assert_eq!(s.due(datetime!(2026-03-19 12:00)), Some(datetime!(2026-03-19 06:00)));
    }

    #[test]
    fn no_slot_before_the_schedule_was_set_is_due() {
        let s = schedule(&["mon"], "06:00", datetime!(2026-03-02 10:00));
        assert_eq!(s.due(datetime!(2026-03-02 10:00)), None);
        assert_eq!(s.due(datetime!(2026-03-08 23:59)), None);
        assert_eq!(s.due(datetime!(2026-03-09 06:00)), Some(datetime!(2026-03-09 06:00)));
    }

    #[test]
    fn the_next_slot_is_after_now() {
        let s = schedule(&["mon", "thu"], "06:00", datetime!(2026-02-01 00:00));
        assert_eq!(s.next(datetime!(2026-03-02 05:00)), datetime!(2026-03-02 06:00));
        assert_eq!(s.next(datetime!(2026-03-02 06:00)), datetime!(2026-03-05 06:00));
        assert_eq!(schedule(&["mon"], "06:00", datetime!(2026-02-01 00:00)).next(datetime!(2026-03-02 07:00)), datetime!(2026-03-09 06:00));
    }

    #[test]
    fn each_slot_has_a_key_of_its_own() {
        assert_eq!(slot_key(datetime!(2026-03-02 06:05)), "schedule/2026-03-02T06:05Z");
        assert_ne!(slot_key(datetime!(2026-03-02 06:05)), slot_key(datetime!(2026-03-05 06:05)));
    }
}
