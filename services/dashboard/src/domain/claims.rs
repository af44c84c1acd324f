//! Claims as payer operations look at them: counted per day of receipt by
//! outcome (the chart), and the outcome a listed claim is counted under.

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
}
