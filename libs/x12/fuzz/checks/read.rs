//! What the `read` fuzz target checks on any bytes, shared with the test
//! that replays the corpus (`tests/fuzz_corpus.rs`) on stable Rust: the
//! reader never panics, every interchange is answered (a TA1 or a 999), and
//! all acknowledgments render.

use claimtrail_x12::{AckContext, ClaimOutcome, ControlNumbers, Limits, ReadOptions, read, render_acknowledgments};
use time::macros::{date, time};

pub fn check(data: &[u8]) {
    let options = ReadOptions { today: date!(2026 - 03 - 01), limits: Limits::DEFAULT };
    let Ok(reading) = read(data, &options) else { return };
    let outcomes: Vec<ClaimOutcome> = reading.claims().map(|claim| ClaimOutcome::as_read(claim, "claim")).collect();
    let context = AckContext { date: date!(2026 - 03 - 01), time: time!(12:00) };
    let acks = render_acknowledgments(&reading, &outcomes, &context, &mut ControlNumbers::starting_at(1));
    assert!(acks.ta1.is_some() || acks.ack_999.is_some(), "every body is answered");
}
