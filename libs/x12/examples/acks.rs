//! Prints the acknowledgments of an 837 file: `cargo run -p claimtrail-x12 --example acks -- FILE [YYYY-MM-DD]`.
//! Every accepted claim is given the claim id `CLAIM-<n>`; rejected ones keep their issues.

use claimtrail_x12::{AckContext, ClaimOutcome, ControlNumbers, Limits, ReadOptions, read, render_acknowledgments};
use time::macros::{date, time};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: acks FILE [YYYY-MM-DD]");
        std::process::exit(2);
    };
    let today = args.next().and_then(|text| claimtrail_events::parse_date(&text)).unwrap_or(date!(2026 - 03 - 01));
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(error) => {
            eprintln!("cannot read {path}: {error}");
            std::process::exit(1);
        }
    };
    let reading = match read(&bytes, &ReadOptions { today, limits: Limits::DEFAULT }) {
        Ok(reading) => reading,
        Err(error) => {
            eprintln!("{error}");
            std::process::exit(1);
        }
    };
    let outcomes: Vec<ClaimOutcome> = reading.claims().enumerate().map(|(idx, claim)| ClaimOutcome::as_read(claim, format!("CLAIM-{idx}"))).collect();
    let acks = render_acknowledgments(&reading, &outcomes, &AckContext { date: today, time: time!(10:30) }, &mut ControlNumbers::starting_at(1));
    for (name, text) in [("TA1", acks.ta1), ("999", acks.ack_999), ("277CA", acks.ack_277ca)] {
        println!("--- {name}\n{}", text.unwrap_or_else(|| "(none)\n".to_owned()));
    }
}
