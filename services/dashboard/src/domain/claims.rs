//! Claims as payer operations look at them: counted per day of receipt by
//! outcome (the chart), the outcome a listed claim is counted under, and the
//! auto-adjudication rate per day received (adjudication's counts, charted).

use std::collections::BTreeMap;

use claimtrail_events::{ClaimStatus, Outcome};

use crate::domain::chart::{BarChart, Unit};

/// The series of the claims chart, in drawing order: the outcomes, then
/// pended, then every other claim.
pub const OUTCOMES: [&str; 5] = [Outcome::Paid.as_str(), Outcome::PartiallyPaid.as_str(), Outcome::Denied.as_str(), ClaimStatus::Pended.as_str(), "other"];

/// One listed claim: when it was received (RFC 3339), its status and outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedClaim {
    pub received_at: String,
    pub status: String,
    pub outcome: Option<String>,
}

/// The series a claim is counted under: its outcome once decided, `pended`
/// while pended, else `other` (received, accepted, rejected, ...).
pub fn series_of(claim: &ListedClaim) -> usize {
    let key = match (claim.outcome.as_deref().and_then(Outcome::parse), ClaimStatus::parse(&claim.status)) {
        (Some(outcome), _) => outcome.as_str(),
        (None, Some(ClaimStatus::Pended)) => ClaimStatus::Pended.as_str(),
        _ => return OUTCOMES.len() - 1,
    };
    OUTCOMES.iter().position(|name| *name == key).unwrap_or(OUTCOMES.len() - 1)
}

/// Claims per day of receipt (the date part of `received_at`) by outcome, days in order.
pub fn per_day_by_outcome(claims: &[ListedClaim], title: &str, description: &str) -> BarChart {
    let mut days: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for claim in claims {
        let day: String = claim.received_at.chars().take(10).collect();
        days.entry(day).or_insert_with(|| vec![0; OUTCOMES.len()])[series_of(claim)] += 1;
    }
    BarChart {
        title: title.to_owned(),
        description: description.to_owned(),
        unit: Unit::Count,
        categories: days.keys().cloned().collect(),
        series: OUTCOMES.iter().map(|name| name.replace('_', " ")).collect(),
        values: days.into_values().collect(),
    }
}

/// One day of adjudication's auto-adjudication rate: claims received that
/// day, decided by the engine, by a reviewer, or still pended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateDay {
    pub day: String,
    pub auto: i64,
    pub reviewed: i64,
    pub pended: i64,
    pub rate_permille: i64,
}

/// The series of the auto-adjudication chart, in drawing order.
pub const PASSAGES: [&str; 3] = ["decided by the engine", "decided by a reviewer", "still pended"];

/// The days as stacked bars: decided by the engine, by a reviewer, still pended.
pub fn auto_rate_chart(days: &[RateDay], title: &str, description: &str) -> BarChart {
    BarChart {
        title: title.to_owned(),
        description: description.to_owned(),
        unit: Unit::Count,
        categories: days.iter().map(|day| day.day.clone()).collect(),
        series: PASSAGES.iter().map(|name| (*name).to_owned()).collect(),
        values: days.iter().map(|day| vec![day.auto, day.reviewed, day.pended]).collect(),
    }
}

/// A share per thousand as a percentage with one decimal: `985` → `98.5%`.
pub fn percent(permille: i64) -> String {
    format!("{}.{}%", permille / 10, (permille % 10).abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(at: &str, status: &str, outcome: Option<&str>) -> ListedClaim {
        ListedClaim { received_at: at.into(), status: status.into(), outcome: outcome.map(str::to_owned) }
    }

    #[test]
    fn claims_are_counted_per_day_under_their_outcome() {
        // Given claims over two days, decided, pended and not yet decided,
        let claims = [
            claim("2026-12-06T23:59:59Z", "adjudicated", Some("paid")),
            claim("2026-12-07T00:00:00Z", "paid", Some("paid")),
            claim("2026-12-07T08:00:00Z", "adjudicated", Some("partially_paid")),
            claim("2026-12-07T09:00:00Z", "adjudicated", Some("denied")),
            claim("2026-12-07T10:00:00Z", "pended", None),
            claim("2026-12-07T11:00:00Z", "rejected", None),
        ];
        // when charted,
        let chart = per_day_by_outcome(&claims, "Claims", "per day");
        // then each day is a category and each outcome a series.
        assert_eq!(chart.categories, ["2026-12-06", "2026-12-07"]);
        assert_eq!(chart.series, ["paid", "partially paid", "denied", "pended", "other"]);
        assert_eq!(chart.values, [vec![1, 0, 0, 0, 0], vec![1, 1, 1, 1, 1]]);
    }

    #[test]
    fn the_auto_adjudication_rate_is_stacked_by_how_claims_went_through_and_said_in_percent() {
        let days = [
            RateDay { day: "2026-12-06".into(), auto: 98, reviewed: 1, pended: 1, rate_permille: 980 },
            RateDay { day: "2026-12-07".into(), auto: 2, reviewed: 0, pended: 1, rate_permille: 666 },
        ];
        let chart = auto_rate_chart(&days, "Auto-adjudication", "per day");
        assert_eq!(chart.categories, ["2026-12-06", "2026-12-07"]);
        assert_eq!(chart.series, PASSAGES);
        assert_eq!(chart.values, [vec![98, 1, 1], vec![2, 0, 1]]);
        assert_eq!(percent(980), "98.0%");
        assert_eq!(percent(666), "66.6%");
        assert_eq!(percent(1000), "100.0%");
        assert_eq!(percent(5), "0.5%");
    }
}
