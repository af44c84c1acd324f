//! Publishes the pended queue's gauges (`domain::queue`) on /metrics:
//! `claimtrail_pended_claims` and `claimtrail_pended_oldest_age_seconds`,
//! labelled by payer and kind (`pended`, `appeal`), sampled every
//! [`SAMPLE_INTERVAL`] from adjudication's tables.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use claimtrail_runtime::{BackgroundTask, Runtime};
use claimtrail_store::Store;

use crate::domain::queue;
use crate::storage;

/// How often the queue is counted.
pub const SAMPLE_INTERVAL: Duration = Duration::from_secs(15);

/// The labels reported last time (a queue that empties is reported once as zero).
type Reported = Arc<Mutex<BTreeSet<(String, &'static str)>>>;

/// The sampler, as a background task of the service.
pub fn task(runtime: &Runtime) -> BackgroundTask {
    let store = runtime.store.clone();
    let reported = Reported::default();
    runtime.every(SAMPLE_INTERVAL, move || sample(store.clone(), reported.clone()))
}

/// Counts the queue once and sets the gauges; a failed count is logged and tried again at the next sample.
async fn sample(store: Store, reported: Reported) {
    let waiting = match storage::queue_waiting(&store, store.reader()).await {
        Ok(waiting) => waiting,
        Err(e) => return tracing::warn!(error = %e, "counting the pended queue failed; trying again at the next sample"),
    };
    let mut reported = reported.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let (samples, labels) = queue::gauges(&waiting, &reported, time::OffsetDateTime::now_utc().unix_timestamp());
    for sample in samples {
        let labels = [("payer_id", sample.payer_id), ("kind", sample.kind.to_owned())];
        metrics::gauge!("claimtrail_pended_claims", &labels).set(sample.count as f64);
        metrics::gauge!("claimtrail_pended_oldest_age_seconds", &labels).set(sample.oldest_age_seconds as f64);
    }
    *reported = labels;
}
