//! The auto-adjudication rate over time: of the claims received on a day
//! (and decided or pended since), the share no person looked at. A claim
//! counts as `auto` when the engine decided it, `reviewed` when a reviewer
//! decided it after a pend (the pended queue's way out), and `pended` while
//! it waits in the queue. The rate is `auto` per thousand of them all,
//! rounded down; denials are decisions too, so they count as `auto`.

use std::collections::BTreeMap;

use time::Date;

/// How a claim went through adjudication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Passage {
    Auto,
    Reviewed,
    Pended,
}

/// The claims received on one day, by how they went through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayRate {
    pub day: Date,
    pub auto: u64,
    pub reviewed: u64,
    pub pended: u64,
}

impl DayRate {
    pub fn total(&self) -> u64 {
        self.auto + self.reviewed + self.pended
    }

    /// `auto` per thousand claims of the day, rounded down (0 for none).
    pub fn rate_permille(&self) -> u32 {
        match self.total() {
            0 => 0,
            total => u32::try_from(self.auto * 1000 / total).unwrap_or(1000),
        }
    }
}

/// Claims (day received, passage) counted per day received, from `since` on, days in order.
pub fn by_day(claims: impl IntoIterator<Item = (Date, Passage)>, since: Date) -> Vec<DayRate> {
    let mut days: BTreeMap<Date, DayRate> = BTreeMap::new();
    for (day, passage) in claims.into_iter().filter(|(day, _)| *day >= since) {
        let rate = days.entry(day).or_insert(DayRate { day, auto: 0, reviewed: 0, pended: 0 });
        match passage {
            Passage::Auto => rate.auto += 1,
            Passage::Reviewed => rate.reviewed += 1,
            Passage::Pended => rate.pended += 1,
        }
    }
    days.into_values().collect()
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn claims_are_counted_per_day_received_and_the_rate_is_the_share_decided_by_the_engine() {
        // Given claims received over three days, one before the window,
        let claims = [
            (date!(2026 - 12 - 01), Passage::Auto),
            (date!(2026 - 12 - 05), Passage::Auto),
            (date!(2026 - 12 - 05), Passage::Auto),
            (date!(2026 - 12 - 05), Passage::Reviewed),
            (date!(2026 - 12 - 07), Passage::Pended),
            (date!(2026 - 12 - 07), Passage::Auto),
            (date!(2026 - 12 - 05), Passage::Pended),
        ];
        // when counted from 2026-12-02,
        let days = by_day(claims, date!(2026 - 12 - 02));
        // then each day in the window is counted, in order, with its rate rounded down.
        assert_eq!(
            days,
            [DayRate { day: date!(2026 - 12 - 05), auto: 2, reviewed: 1, pended: 1 }, DayRate { day: date!(2026 - 12 - 07), auto: 1, reviewed: 0, pended: 1 },]
        );
        assert_eq!(days[0].rate_permille(), 500);
        assert_eq!(days[1].rate_permille(), 500);
        assert_eq!(DayRate { day: date!(2026 - 12 - 05), auto: 2, reviewed: 1, pended: 0 }.rate_permille(), 666);
        assert_eq!(DayRate { day: date!(2026 - 12 - 05), auto: 0, reviewed: 0, pended: 0 }.rate_permille(), 0);
        assert!(by_day([], date!(2026 - 12 - 02)).is_empty());
    }
}
