//! Payment runs as finance reads them: totals by payer, by pay-to provider
//! and by day, the paid amount of each run and of each day (the charts' bars).

use std::collections::BTreeMap;

use crate::domain::chart::{BarChart, CATEGORIES_MAX, Unit};

/// One remittance of a run, as the settlement API lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remittance {
    pub pay_to: String,
    pub amount_cents: i64,
    /// `ach`, `held`, `awaiting_prenote` or `zero`.
    pub status: String,
}

/// One payment run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub run_id: String,
    pub payer_id: String,
    /// YYYY-MM-DD.
    pub run_date: String,
    pub remittances: Vec<Remittance>,
}

/// A total: how many remittances and their amount.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Total {
    pub remittances: u64,
    pub amount_cents: i64,
}

/// Totals of some runs, each key once, in key order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    pub by_payer: Vec<(String, Total)>,
    pub by_provider: Vec<(String, Total)>,
    pub by_day: Vec<(String, Total)>,
    /// Money that moves: `ach` remittances only (held and prenote-waiting ones pay nothing yet).
    pub paid: Total,
}

impl Run {
    /// What the run pays now: the amounts of its `ach` remittances.
    pub fn paid_cents(&self) -> i64 {
        self.remittances.iter().filter(|r| r.status == "ach").map(|r| r.amount_cents).sum()
    }
}

/// Totals by payer, provider and run day of every remittance that moves money (`ach`).
pub fn totals(runs: &[Run]) -> Totals {
    let mut by_payer: BTreeMap<String, Total> = BTreeMap::new();
    let mut by_provider: BTreeMap<String, Total> = BTreeMap::new();
    let mut by_day: BTreeMap<String, Total> = BTreeMap::new();
    let mut paid = Total::default();
    let add = |total: &mut Total, cents: i64| {
        total.remittances += 1;
        total.amount_cents += cents;
    };
    for run in runs {
        for remittance in run.remittances.iter().filter(|r| r.status == "ach") {
            add(by_payer.entry(run.payer_id.clone()).or_default(), remittance.amount_cents);
            add(by_provider.entry(remittance.pay_to.clone()).or_default(), remittance.amount_cents);
            add(by_day.entry(run.run_date.clone()).or_default(), remittance.amount_cents);
            add(&mut paid, remittance.amount_cents);
        }
    }
    Totals { by_payer: by_payer.into_iter().collect(), by_provider: by_provider.into_iter().collect(), by_day: by_day.into_iter().collect(), paid }
}

/// Paid by ACH per run day as a chart: one bar per day, the latest [`CATEGORIES_MAX`] days, oldest first.
pub fn paid_by_day(by_day: &[(String, Total)], payer_id: &str) -> BarChart {
    let days = &by_day[by_day.len().saturating_sub(CATEGORIES_MAX)..];
    BarChart {
        title: format!("Paid by day, payer {payer_id}"),
        description: format!(
            "Amount sent by ACH on each of the latest {} run days of payer {payer_id}, oldest first (held and prenote-waiting remittances pay nothing yet).",
            days.len()
        ),
        unit: Unit::Cents,
        categories: days.iter().map(|(day, _)| day.clone()).collect(),
        series: vec!["paid".into()],
        values: days.iter().map(|(_, total)| vec![total.amount_cents]).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remittance(pay_to: &str, amount_cents: i64, status: &str) -> Remittance {
        Remittance { pay_to: pay_to.into(), amount_cents, status: status.into() }
    }

    #[test]
    fn totals_count_what_moves_by_payer_provider_and_day() {
        // Given two runs on two days, one remittance held and one awaiting its prenote,
        let runs = vec![
            Run {
                run_id: "r1".into(),
                payer_id: "60054".into(),
                run_date: "2026-12-07".into(),
                remittances: vec![remittance("1111111112", 11_880, "ach"), remittance("2222222220", 5_000, "held")],
            },
            Run {
                run_id: "r2".into(),
                payer_id: "60054".into(),
                run_date: "2026-12-08".into(),
                remittances: vec![remittance("1111111112", -1_000, "ach"), remittance("3333333338", 700, "awaiting_prenote")],
            },
        ];
        // when totalled,
        let totals = totals(&runs);
        // then only `ach` remittances count, a recovery nets, and each key appears once.
        assert_eq!(totals.paid, Total { remittances: 2, amount_cents: 10_880 });
        assert_eq!(totals.by_payer, [("60054".to_owned(), Total { remittances: 2, amount_cents: 10_880 })]);
        assert_eq!(totals.by_provider, [("1111111112".to_owned(), Total { remittances: 2, amount_cents: 10_880 })]);
        assert_eq!(
            totals.by_day,
            [
                ("2026-12-07".to_owned(), Total { remittances: 1, amount_cents: 11_880 }),
                ("2026-12-08".to_owned(), Total { remittances: 1, amount_cents: -1_000 })
            ]
        );
        assert_eq!(runs[0].paid_cents(), 11_880);
        assert_eq!(runs[1].paid_cents(), -1_000);
    }

    #[test]
    fn paid_by_day_charts_the_latest_days_oldest_first() {
        let by_day: Vec<(String, Total)> =
            (1..=CATEGORIES_MAX as i64 + 2).map(|day| (format!("2026-01-{day:02}"), Total { remittances: 1, amount_cents: day * 100 })).collect();
        let chart = paid_by_day(&by_day, "60054");
        assert_eq!(chart.categories.len(), CATEGORIES_MAX);
        assert_eq!(chart.categories[0], "2026-01-03");
        assert_eq!(chart.values[0], [300]);
        assert_eq!(chart.unit, Unit::Cents);
        assert!(chart.title.contains("60054"));
        assert!(paid_by_day(&[], "60054").categories.is_empty());
    }

    #[test]
    fn no_runs_total_nothing() {
        assert_eq!(totals(&[]), Totals::default());
    }
}
