//! Deterministic crash points for the crash tests.
//!
//! `CLAIMTRAIL_KILL_POINT=<name>[:<n>]` makes the process abort (no
//! clean-up, like kill -9) the n-th time (default the first) it reaches the
//! named point. Points: `after_commit_before_ack` (consumer),
//! `after_publish_before_mark` (relay), `mid_checkpoint` (anchor: signed,
//! not yet stored), `after_ledger_copy` (anchor on Postgres: entries
//! committed by COPY, the consumer's transaction not yet),
//! `intake_stored_before_commit` (intake: a request's claims, events and
//! idempotent answer written, not committed), `intake_committed_before_answer`
//! (intake: committed, no answer sent yet). Unset in production; reaching a point costs one atomic
//! increment.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

struct KillPoint {
    name: String,
    nth: u64,
    seen: AtomicU64,
}

fn configured() -> Option<&'static KillPoint> {
    static POINT: OnceLock<Option<KillPoint>> = OnceLock::new();
    POINT
        .get_or_init(|| {
            let value = std::env::var("CLAIMTRAIL_KILL_POINT").ok()?;
            let (name, nth) = match value.split_once(':') {
                Some((name, nth)) => (name.to_owned(), nth.parse().unwrap_or(1)),
                None => (value, 1),
            };
            Some(KillPoint { name, nth: nth.max(1), seen: AtomicU64::new(0) })
        })
        .as_ref()
}

/// Aborts the process if `name` is the configured kill point and this is its n-th visit.
pub fn reach(name: &str) {
    if let Some(point) = configured()
        && point.name == name
        && point.seen.fetch_add(1, Ordering::SeqCst) + 1 == point.nth
    {
        eprintln!("kill point {name} reached: aborting");
        std::process::abort();
    }
}
