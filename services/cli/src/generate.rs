//! `claimtrail generate`: realistic claims which the front-end edits accept,
//! for the demo's payer, providers and members or (with `--reference-dir`)
//! for a synthetic world of payers, providers of several specialties and
//! members whose reference data it writes beside them (see `world`), as FHIR R4 Bundles (one
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
use crate::world::World;

/// Claims per Bundle, at most: what intake accepts in one Bundle.
const BUNDLE_CLAIMS_MAX: u64 = claimtrail_fhir::CLAIMS_PER_BUNDLE_MAX as u64;

/// A progress bar from this many claims on (when writing to a file).
const PROGRESS_FROM: u64 = 10_000;

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
    /// Dates of service fall in the 28 days before this date (default: today, UTC, by the clock that
    /// `CLAIMTRAIL_CLOCK_OFFSET_DAYS` moves).
    #[arg(long)]
    date: Option<String>,
    /// Write here instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Demo claims that meet one part of the demo payer's policy (README, "The demo payer's policy").
    #[arg(long, value_enum, conflicts_with = "reference_dir")]
    policy_scenario: Option<demo::Scenario>,
    /// Bill every claim for this demo member (MBR-0001 to MBR-0006) instead of one by seed.
    #[arg(long, conflicts_with = "reference_dir")]
    member: Option<String>,
    /// Generate a synthetic world instead of using the demo's, and write its
    /// reference data here (payers.json, fee-schedules.json, providers.csv,
    /// enrollments.csv, members-<payer>.csv) in the shapes the APIs import.
    #[arg(long)]
    reference_dir: Option<PathBuf>,
    /// Payers of the synthetic world.
    #[arg(long, default_value_t = 2, requires = "reference_dir")]
    payers: u32,
    /// Providers of the synthetic world (by specialty: family medicine, orthopaedics, DME, ambulance, laboratory, optometry).
    #[arg(long, default_value_t = 20, requires = "reference_dir")]
    providers: u32,
    /// Members of the synthetic world.
    #[arg(long, default_value_t = 200, requires = "reference_dir")]
    members: u32,
    /// Generate the labelled fraud world instead (libs/fraud-world: several payers, dual coverage, specialties,
    /// injected fraud of the nine patterns) and write its labels and reference facts here (docs/fraud-detectors.md);
    /// `--claims` is then approximate, and dates of service end the day before `--date`.
    #[arg(long, conflicts_with_all = ["reference_dir", "policy_scenario", "member"])]
    fraud_labels: Option<PathBuf>,
    /// The organization (tenant) whose provider keys bill under the synthetic providers' NPIs.
    #[arg(long, default_value = "synthetic-practice", requires = "reference_dir")]
    organization: String,
}

/// Writes the world's reference data into `dir`.
fn write_reference(world: &World, dir: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let write = |name: &str, text: String| std::fs::write(dir.join(name), text).with_context(|| format!("writing {}", dir.join(name).display()));
    write("payers.json", serde_json::to_string_pretty(&world.payers_json())? + "\n")?;
    write("fee-schedules.json", serde_json::to_string_pretty(&world.fee_schedules_json())? + "\n")?;
    write("providers.csv", world.providers_csv())?;
    write("enrollments.csv", world.enrollments_csv())?;
    for (idx, payer) in world.payers.iter().enumerate() {
        write(&format!("members-{}.csv", payer.payer_id), world.members_csv(idx))?;
    }
    Ok(())
}

fn member_ids() -> Vec<String> {
    demo::demo_members().iter().filter_map(|m| m["member_id"].as_str().map(str::to_owned)).collect()
}

/// The `sequence`-th claim of a run: for `member`, or one of `members` by
/// sequence; with `scenario`'s lines added.
fn claim(seed: u64, index: u64, members: &[String], member: Option<&str>, scenario: Option<demo::Scenario>, today: time::Date) -> Value {
    let sequence = seed.wrapping_mul(1_000_003).wrapping_add(index);
    let member = member.unwrap_or(&members[(sequence % members.len() as u64) as usize]);
    let mut claim = demo::demo_claim(sequence, member, today);
    if let Some(scenario) = scenario {
        demo::with_scenario(&mut claim, scenario);
    }
    claim
}

pub fn run(args: GenerateArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.claims <= GENERATE_CLAIMS_MAX, "--claims is at most {GENERATE_CLAIMS_MAX}");
    anyhow::ensure!((1..=BUNDLE_CLAIMS_MAX).contains(&args.bundle_size), "--bundle-size must be 1 to {BUNDLE_CLAIMS_MAX}");
    let today = match &args.date {
        Some(text) => claimtrail_events::parse_date(text).with_context(|| format!("--date `{text}` is not a date (YYYY-MM-DD)"))?,
        None => claimtrail_events::today(),
    };
    let mut out: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(std::io::BufWriter::new(std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?)),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    if let Some(dir) = &args.fraud_labels {
        anyhow::ensure!(args.format == Format::Fhir, "--fraud-labels writes FHIR claims only");
        let end = today.previous_day().context("--date is the first day there is")?;
        return crate::fraud_world::generate(args.seed, args.claims, end, args.bundle_size, dir, &mut out);
    }
    let members = member_ids();
    if let Some(member) = &args.member {
        anyhow::ensure!(members.contains(member), "--member `{member}` is not a demo member ({})", members.join(", "));
    }
    let world = match &args.reference_dir {
        Some(dir) => {
            let world = World::new(args.seed, args.payers, args.providers, args.members, &args.organization, today);
            write_reference(&world, dir)?;
            Some(world)
        }
        None => None,
    };
    let progress = if args.claims >= PROGRESS_FROM && args.out.is_some() {
        let bar = indicatif::ProgressBar::new(args.claims);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} claims ({per_sec})").unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut index = 0u64;
    let mut batch_number = 0u64;
    while index < args.claims {
        let n = args.bundle_size.min(args.claims - index);
        let claims: Vec<Value> = (index..index + n)
            .map(|i| match &world {
                Some(world) => world.claim(args.seed, i, today),
                None => claim(args.seed, i, &members, args.member.as_deref(), args.policy_scenario, today),
            })
            .collect();
        batch_number += 1;
        match args.format {
            Format::X12 => out.write_all(x12_interchange(&claims, today, args.seed, batch_number, world.as_ref())?.as_bytes())?,
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
        progress.set_position(index);
    }
    progress.finish_and_clear();
    out.flush()?;
    Ok(())
}

/// The claims as domain claims, through the FHIR reader (so both formats
/// carry exactly the same claims), written as one 837P interchange from the
/// billing organization to the payer; names and birth dates from the world
/// (or the demo's members).
pub(crate) fn x12_interchange(claims: &[Value], today: time::Date, seed: u64, batch_number: u64, world: Option<&World>) -> anyhow::Result<String> {
    let mut mapped = Vec::with_capacity(claims.len());
    for (offset, claim) in claims.iter().enumerate() {
        let body = serde_json::to_vec(claim)?;
        let submission = claimtrail_fhir::parse_submission(&body, today).map_err(|e| anyhow::anyhow!("generated claim {offset} does not map: {e:?}"))?;
        let entry = submission.entries.into_iter().next().context("a generated claim")?;
        let claim = entry.map_err(|e| anyhow::anyhow!("generated claim {offset} does not map: {:?}", e.errors))?;
        anyhow::ensure!(claim.issues.is_empty(), "generated claim {offset} fails an edit: {:?}", claim.issues);
        mapped.push(claim.claim);
    }
    let demo_members = demo::demo_members();
    struct Extras {
        name: claimtrail_x12::PersonName,
        birth_date: time::Date,
        sex: &'static str,
        billing_name: String,
        billing_tin: String,
        payer_name: String,
    }
    let extras: Vec<Extras> = mapped
        .iter()
        .map(|claim| match world {
            Some(world) => {
                let (family, given, birth_date, sex) = world.person(&claim.member_id).unwrap_or((String::new(), String::new(), time::Date::MIN, "U"));
                let (billing_name, billing_tin) = world.provider(&claim.billing_npi).unwrap_or(("", ""));
                Extras {
                    name: claimtrail_x12::PersonName { last: family, first: given },
                    birth_date,
                    sex,
                    billing_name: billing_name.to_owned(),
                    billing_tin: billing_tin.to_owned(),
                    payer_name: world.payer_name(&claim.payer_id).unwrap_or_default().to_owned(),
                }
            }
            None => {
                let member = demo_members.iter().find(|m| m["member_id"] == claim.member_id.as_str());
                let field = |name: &str| member.and_then(|m| m[name].as_str()).unwrap_or_default().to_owned();
                Extras {
                    name: claimtrail_x12::PersonName { last: field("family_name"), first: field("given_name") },
                    birth_date: claimtrail_events::parse_date(&field("birth_date")).unwrap_or(time::Date::MIN),
                    sex: match field("sex").as_str() {
                        "female" => "F",
                        "male" => "M",
                        _ => "U",
                    },
                    billing_name: demo::DEMO_PROVIDER_ORGANIZATION.to_owned(),
                    billing_tin: demo::DEMO_PROVIDER_TIN.to_owned(),
                    payer_name: "Demo Health Plan".to_owned(),
                }
            }
        })
        .collect();
    let to_write: Vec<claimtrail_x12::ClaimToWrite<'_>> = mapped
        .iter()
        .zip(&extras)
        .map(|(claim, extra)| claimtrail_x12::ClaimToWrite {
            claim,
            billing_provider_name: &extra.billing_name,
            billing_tin: &extra.billing_tin,
            payer_name: &extra.payer_name,
            name: &extra.name,
            birth_date: extra.birth_date,
            sex: extra.sex,
        })
        .collect();
    let control_number = u32::try_from((seed.wrapping_mul(7919).wrapping_add(batch_number)) % 999_999_999 + 1).unwrap_or(1);
    let (sender, receiver_id, receiver_name) = match world {
        Some(world) => {
            (world.organization.to_ascii_uppercase().chars().filter(char::is_ascii_alphanumeric).take(15).collect::<String>(), "CLAIMTRAIL", "Claimtrail")
        }
        None => ("RIVERSIDEFP".to_owned(), demo::DEMO_PAYER_ID, "Demo Health Plan"),
    };
    let outgoing = claimtrail_x12::Outgoing837 {
        sender_qualifier: "ZZ".into(),
        sender_id: sender.clone(),
        receiver_qualifier: "ZZ".into(),
        receiver_id: "CLAIMTRAIL".into(),
        interchange_control_number: control_number,
        group_control_number: control_number,
        date: today,
        time: time::Time::MIDNIGHT,
        test: false,
        submitter: claimtrail_x12::Party { name: world.map_or(demo::DEMO_PROVIDER_ORGANIZATION.to_owned(), |w| w.organization.clone()), id: sender },
        receiver: claimtrail_x12::Party { name: receiver_name.into(), id: receiver_id.into() },
    };
    Ok(claimtrail_x12::write_837p(&outgoing, &to_write))
}
