//! Reconciliation exceptions as finance ages them: open exceptions counted by
//! how many days they have been open (settlement's `opened_on`, the day
//! their statement was imported), stacked by kind (the chart).

use std::collections::BTreeSet;

use time::Date;

use crate::domain::chart::{BarChart, Unit};

/// The age buckets, in days open: (first day, last day or open-ended, label).
pub const AGE_BUCKETS: [(i64, Option<i64>, &str); 5] =
    [(0, Some(2), "0-2 days"), (3, Some(7), "3-7 days"), (8, Some(14), "8-14 days"), (15, Some(30), "15-30 days"), (31, None, "over 30 days")];

/// One open exception: its kind and the day it was opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenException {
    pub kind: String,
    pub opened_on: Date,
}

/// Whole days `opened_on` is before `today` (0 for today, or for a date
/// after it: the service's clock may run ahead of the dashboard's).
pub fn age_days(opened_on: Date, today: Date) -> i64 {
    (today - opened_on).whole_days().max(0)
}

/// The bucket of an age in days.
pub fn bucket_of(age: i64) -> usize {
    AGE_BUCKETS.iter().position(|(from, to, _)| age >= *from && to.is_none_or(|to| age <= to)).unwrap_or(AGE_BUCKETS.len() - 1)
}

/// Open exceptions per age bucket, stacked by kind (kinds in name order); every bucket is shown.
pub fn by_age(exceptions: &[OpenException], today: Date, payer_id: &str) -> BarChart {
    let kinds: Vec<String> = exceptions.iter().map(|e| e.kind.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    let mut values = vec![vec![0i64; kinds.len()]; AGE_BUCKETS.len()];
    for exception in exceptions {
        let series = kinds.iter().position(|kind| *kind == exception.kind).expect("every kind is a series");
        values[bucket_of(age_days(exception.opened_on, today))][series] += 1;
    }
    BarChart {
        title: format!("Open exceptions by age, payer {payer_id}"),
        description: format!(
            "{} open reconciliation exceptions of payer {payer_id} by days open on {today} (since the day their statement was imported), stacked by kind.",
            exceptions.len()
        ),
        unit: Unit::Count,
        categories: AGE_BUCKETS.iter().map(|(_, _, label)| (*label).to_owned()).collect(),
        series: kinds,
        values,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 12 - 07);

    fn open(kind: &str, days_ago: i64) -> OpenException {
        OpenException { kind: kind.into(), opened_on: TODAY - time::Duration::days(days_ago) }
    }

    #[test]
    fn ages_fall_in_their_buckets_at_each_edge() {
        let cases = [(0, 0), (2, 0), (3, 1), (7, 1), (8, 2), (14, 2), (15, 3), (30, 3), (31, 4), (400, 4)];
        for (age, bucket) in cases {
            assert_eq!(bucket_of(age), bucket, "{age} days");
        }
        assert_eq!(age_days(TODAY + time::Duration::days(1), TODAY), 0, "a date after today counts as today");
        assert_eq!(age_days(date!(2026 - 11 - 30), TODAY), 7);
    }

    #[test]
    fn open_exceptions_are_counted_per_age_bucket_stacked_by_kind() {
        // Given two missing debits (opened today and 10 days ago) and an amount mismatch 45 days old,
        let exceptions = [open("missing-debit", 0), open("missing-debit", 10), open("amount-mismatch", 45)];
        // when charted,
        let chart = by_age(&exceptions, TODAY, "60054");
        // then each falls in its bucket under its kind, and every bucket is drawn.
        assert_eq!(chart.series, ["amount-mismatch", "missing-debit"]);
        assert_eq!(chart.categories, ["0-2 days", "3-7 days", "8-14 days", "15-30 days", "over 30 days"]);
        assert_eq!(chart.values, [vec![0, 1], vec![0, 0], vec![0, 1], vec![0, 0], vec![1, 0]]);
        assert!(chart.description.starts_with("3 open reconciliation exceptions"), "{}", chart.description);
    }

    #[test]
    fn no_open_exceptions_draw_empty_buckets() {
        let chart = by_age(&[], TODAY, "60054");
        assert!(chart.series.is_empty());
        assert_eq!(chart.values.len(), AGE_BUCKETS.len());
    }
}
