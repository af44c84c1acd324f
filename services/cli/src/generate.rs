//! `claimtrail generate`: realistic claims for the demo's payer, providers
//! and members, which the front-end edits accept, as FHIR R4 Bundles (one
//! per line, at most `--bundle-size` claims each) or as X12 837P
//! interchanges (the same claims: they are mapped through the FHIR reader and
//! written by libs/x12's writer).
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
    /// X12 005010X222A1 837P, one interchange per `--bundle-size` claims.
    X12,
}

#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "fhir")]
    format: Format,
    /// How many claims.
    #[arg(long, default_value_t = 100)]
    claims: u64,
    /// Claims per Bundle or per interchange (at most 1,000).
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
    let mut batch_number = 0u64;
    while index < args.claims {
        let n = args.bundle_size.min(args.claims - index);
        let claims: Vec<Value> = (index..index + n).map(|i| claim(args.seed, i, &members, today)).collect();
        batch_number += 1;
        match args.format {
            Format::X12 => out.write_all(x12_interchange(&claims, today, args.seed, batch_number)?.as_bytes())?,
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

/// The claims as domain claims, through the FHIR reader (so both formats
/// carry exactly the same claims), written as one 837P interchange from the
/// demo provider organization to the demo payer.
pub(crate) fn x12_interchange(claims: &[Value], today: time::Date, seed: u64, batch_number: u64) -> anyhow::Result<String> {
    let mut mapped = Vec::with_capacity(claims.len());
    for (offset, claim) in claims.iter().enumerate() {
        let body = serde_json::to_vec(claim)?;
        let submission = claimtrail_fhir::parse_submission(&body, today).map_err(|e| anyhow::anyhow!("generated claim {offset} does not map: {e:?}"))?;
        let entry = submission.entries.into_iter().next().context("a generated claim")?;
        let claim = entry.map_err(|e| anyhow::anyhow!("generated claim {offset} does not map: {:?}", e.errors))?;
        anyhow::ensure!(claim.issues.is_empty(), "generated claim {offset} fails an edit: {:?}", claim.issues);
        mapped.push(claim);
    }
    let members = demo::demo_members();
    let people: Vec<(claimtrail_x12::PersonName, time::Date, &str)> = mapped
        .iter()
        .map(|claim| {
            let member = members.iter().find(|m| m["member_id"] == claim.member_id.as_str());
            let field = |name: &str| member.and_then(|m| m[name].as_str()).unwrap_or_default().to_owned();
            let birth_date = claimtrail_events::parse_date(&field("birth_date")).unwrap_or(time::Date::MIN);
            let sex = match field("sex").as_str() {
                "female" => "F",
                "male" => "M",
                _ => "U",
            };
            (claimtrail_x12::PersonName { last: field("family_name"), first: field("given_name") }, birth_date, sex)
        })
        .collect();
    let to_write: Vec<claimtrail_x12::ClaimToWrite<'_>> = mapped
        .iter()
        .zip(&people)
        .map(|(claim, (name, birth_date, sex))| claimtrail_x12::ClaimToWrite {
            claim,
            billing_provider_name: demo::DEMO_PROVIDER_ORGANIZATION,
            billing_tin: demo::DEMO_PROVIDER_TIN,
            payer_name: "Demo Health Plan",
            name,
            birth_date: *birth_date,
            sex,
        })
        .collect();
    let control_number = u32::try_from((seed.wrapping_mul(7919).wrapping_add(batch_number)) % 999_999_999 + 1).unwrap_or(1);
    let outgoing = claimtrail_x12::Outgoing837 {
        sender_qualifier: "ZZ".into(),
        sender_id: "RIVERSIDEFP".into(),
        receiver_qualifier: "ZZ".into(),
        receiver_id: "CLAIMTRAIL".into(),
        interchange_control_number: control_number,
        group_control_number: control_number,
        date: today,
        time: time::Time::MIDNIGHT,
        test: false,
        submitter: claimtrail_x12::Party { name: demo::DEMO_PROVIDER_ORGANIZATION.into(), id: "RIVERSIDEFP".into() },
        receiver: claimtrail_x12::Party { name: "Demo Health Plan".into(), id: demo::DEMO_PAYER_ID.into() },
    };
    Ok(claimtrail_x12::write_837p(&outgoing, &to_write))
}
