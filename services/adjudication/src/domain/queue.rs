//! The pended queue's gauges on /metrics (issue 17: "age and counts appear on
//! /metrics"): per payer and kind of entry (`pended` claims, open `appeal`s),
//! how many wait and how long the oldest has waited. A payer whose queue
//! empties is reported once more, as zero, so a scrape never keeps showing a
//! queue that is gone.

use std::collections::BTreeSet;

/// What waits in one payer's queue, of one kind, as storage counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub payer_id: String,
    /// `pended` or `appeal`.
    pub kind: &'static str,
    pub count: u64,
    /// When the oldest entered the queue, in Unix seconds.
    pub oldest_since: Option<i64>,
}

/// The kinds of entry the queue holds.
pub const PENDED: &str = "pended";
pub const APPEAL: &str = "appeal";

/// One gauge sample: the labels and the two values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueGauge {
    pub payer_id: String,
    pub kind: &'static str,
    pub count: u64,
    /// Whole seconds since the oldest entered; 0 for an empty queue or a clock behind the entry.
    pub oldest_age_seconds: u64,
}

/// The gauges for `waiting` at `now` (Unix seconds), plus a zero for every
/// (payer, kind) reported `before` that no longer waits. Returns the samples,
/// sorted by payer and kind, and the labels to remember for the next round.
pub fn gauges(waiting: &[Waiting], before: &BTreeSet<(String, &'static str)>, now: i64) -> (Vec<QueueGauge>, BTreeSet<(String, &'static str)>) {
    let mut samples: Vec<QueueGauge> = waiting
        .iter()
        .filter(|w| w.count > 0)
        .map(|w| QueueGauge {
            payer_id: w.payer_id.clone(),
            kind: w.kind,
            count: w.count,
            oldest_age_seconds: w.oldest_since.map_or(0, |since| u64::try_from(now.saturating_sub(since)).unwrap_or(0)),
        })
        .collect();
    let now_reported: BTreeSet<(String, &'static str)> = samples.iter().map(|g| (g.payer_id.clone(), g.kind)).collect();
    for (payer_id, kind) in before.difference(&now_reported) {
        samples.push(QueueGauge { payer_id: payer_id.clone(), kind, count: 0, oldest_age_seconds: 0 });
    }
    samples.sort_by(|a, b| (&a.payer_id, a.kind).cmp(&(&b.payer_id, b.kind)));
    (samples, now_reported)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiting(payer: &str, kind: &'static str, count: u64, oldest_since: Option<i64>) -> Waiting {
        Waiting { payer_id: payer.to_owned(), kind, count, oldest_since }
    }

    #[test]
    fn each_payer_and_kind_reports_its_count_and_the_oldest_entrys_age() {
        let (samples, labels) = gauges(&[waiting("60054", PENDED, 3, Some(1_000)), waiting("60054", APPEAL, 1, Some(4_000))], &BTreeSet::new(), 5_000);
        assert_eq!(
            samples,
            vec![
                QueueGauge { payer_id: "60054".into(), kind: APPEAL, count: 1, oldest_age_seconds: 1_000 },
                QueueGauge { payer_id: "60054".into(), kind: PENDED, count: 3, oldest_age_seconds: 4_000 },
            ]
        );
        assert_eq!(labels.len(), 2);
    }

    #[test]
    fn a_queue_that_empties_is_reported_once_as_zero_then_forgotten() {
        let (_, labels) = gauges(&[waiting("A", PENDED, 2, Some(10))], &BTreeSet::new(), 20);
        let (samples, labels) = gauges(&[], &labels, 30);
        assert_eq!(samples, vec![QueueGauge { payer_id: "A".into(), kind: PENDED, count: 0, oldest_age_seconds: 0 }]);
        assert!(labels.is_empty());
        let (samples, _) = gauges(&[], &labels, 40);
        assert!(samples.is_empty());
    }

    #[test]
    fn an_entry_from_the_future_or_without_a_time_has_age_zero() {
        let (samples, _) = gauges(&[waiting("A", PENDED, 1, Some(100)), waiting("B", APPEAL, 1, None)], &BTreeSet::new(), 50);
        assert!(samples.iter().all(|g| g.oldest_age_seconds == 0), "{samples:?}");
    }
}
