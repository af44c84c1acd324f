//! `claimtrail generate`: realistic claims for the demo's payer, providers
//! and members, which the front-end edits accept, as FHIR R4 Bundles (one
//! per line, at most `--bundle-size` claims each).
//!
//! Deterministic: the same `--seed`, `--claims` and `--date` give the same
//! bytes (apart from the Bundle entries' `fullUrl`s, which are derived from
//! the seed too), so a generated file can be committed or diffed.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::ValueEnum;
use serde_json::{Value, json};

use crate::demo;

/// Claims per Bundle, at most: what intake accepts in one Bundle.
const BUNDLE_CLAIMS_MAX: u64 = claimtrail_fhir::CLAIMS_PER_BUNDLE_MAX as u64;

/// Claims one run writes, at most.
pub const GENERATE_CLAIMS_MAX: u64 = 10_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// FHIR R4 batch Bundles, one JSON document per line (NDJSON).
    Fhir,
}

#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "fhir")]
    format: Format,
    /// How many claims.
    #[arg(long, default_value_t = 100)]
    claims: u64,
    /// Claims per Bundle (at most 1,000).
    #[arg(long, default_value_t = 100)]
    bundle_size: u64,
    /// Varies the claims; the same seed gives the same output.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Dates of service fall in the 28 days before this date (default: today, UTC).
    #[arg(long)]
    date: Option<String>,
    /// Write here instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
}

fn member_ids() -> Vec<String> {
    demo::demo_members().iter().filter_map(|m| m["member_id"].as_str().map(str::to_owned)).collect()
}

/// The `sequence`-th claim of a run.
fn claim(seed: u64, index: u64, members: &[String], today: time::Date) -> Value {
    let sequence = seed.wrapping_mul(1_000_003).wrapping_add(index);
    let member = &members[(sequence % members.len() as u64) as usize];
    demo::demo_claim(sequence, member, today)
}

pub fn run(args: GenerateArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.claims <= GENERATE_CLAIMS_MAX, "--claims is at most {GENERATE_CLAIMS_MAX}");
    anyhow::ensure!((1..=BUNDLE_CLAIMS_MAX).contains(&args.bundle_size), "--bundle-size must be 1 to {BUNDLE_CLAIMS_MAX}");
    let today = match &args.date {
        Some(text) => claimtrail_events::parse_date(text).with_context(|| format!("--date `{text}` is not a date (YYYY-MM-DD)"))?,
        None => time::OffsetDateTime::now_utc().date(),
    };
    let mut out: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(std::io::BufWriter::new(std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?)),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let members = member_ids();
    let mut index = 0u64;
    while index < args.claims {
        let n = args.bundle_size.min(args.claims - index);
        let claims: Vec<Value> = (index..index + n).map(|i| claim(args.seed, i, &members, today)).collect();
        match args.format {
            Format::Fhir => {
                let entries: Vec<Value> = claims
                    .into_iter()
                    .enumerate()
                    .map(|(offset, resource)| {
                        let full_url = format!("urn:uuid:{}", uuid::Uuid::from_u128(u128::from(args.seed) << 64 | u128::from(index + offset as u64)));
                        json!({"fullUrl": full_url, "resource": resource})
                    })
                    .collect();
                let bundle = json!({"resourceType": "Bundle", "type": "batch", "entry": entries});
                serde_json::to_writer(&mut out, &bundle)?;
                out.write_all(b"\n")?;
            }
        }
        index += n;
    }
    out.flush()?;
    Ok(())
}
