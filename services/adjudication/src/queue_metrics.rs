//! Publishes the pended queue's gauges (`domain::queue`) on /metrics:
//! `claimtrail_pended_claims` and `claimtrail_pended_oldest_age_seconds`,
//! labelled by payer and kind (`pended`, `appeal`), sampled every
//! [`SAMPLE_INTERVAL`] from adjudication's tables.

use std::collections::BTreeSet;
use std::time::Duration;

use claimtrail_store::Store;

use crate::domain::queue;
use crate::storage;

/// How often the queue is counted.
pub const SAMPLE_INTERVAL: Duration = Duration::from_secs(15);

/// Counts the queue every [`SAMPLE_INTERVAL`] until `stop`; a failed count is logged and tried again.
pub async fn run(store: Store, mut stop: tokio::sync::watch::Receiver<bool>) -> anyhow::Result<()> {
    let mut interval = tokio::time::interval(SAMPLE_INTERVAL);
    let mut reported = BTreeSet::new();
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            return Ok(());
        }
        match storage::queue_waiting(&store, store.reader()).await {
            Ok(waiting) => {
                let (samples, labels) = queue::gauges(&waiting, &reported, time::OffsetDateTime::now_utc().unix_timestamp());
                for sample in samples {
                    let labels = [("payer_id", sample.payer_id), ("kind", sample.kind.to_owned())];
                    metrics::gauge!("claimtrail_pended_claims", &labels).set(sample.count as f64);
                    metrics::gauge!("claimtrail_pended_oldest_age_seconds", &labels).set(sample.oldest_age_seconds as f64);
                }
                reported = labels;
            }
            Err(e) => tracing::warn!(error = %e, "counting the pended queue failed; trying again at the next sample"),
        }
    }
}
