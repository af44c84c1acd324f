//! The accumulator import of mid-year onboarding
//! (`POST /v1/payers/{payer_id}/accumulators/import`): a CSV of what each
//! member (or family) met in the prior system.
//!
//! ```text
//! member_id,plan_year,bucket,amount
//! M1001,2026,deductible_inn_individual,350.00
//! S2001,2026,deductible_inn_family,800.00
//! ```
//!
//! `member_id` is the member for an individual bucket and the family's
//! subscriber for a family bucket. All or nothing: every bad line is
//! reported with its 1-based number and reason (up to
//! [`claimtrail_policy::csv::ERRORS_MAX`]) and nothing is imported. The
//! amounts add to what the accumulators hold (claims already adjudicated
//! here stay counted). The result is one [`AccumulatorsImported`] event.

use claimtrail_codes::MemberId;
use claimtrail_events::{Money, sha3_256};
use claimtrail_policy::csv::ERRORS_MAX;
use claimtrail_policy::{LoadError, LoadErrors};

use crate::accumulators::{AccumulatorEntry, AccumulatorsImported};
use crate::bucket::Bucket;

/// The header, exactly (case and spaces aside).
pub const HEADER: [&str; 4] = ["member_id", "plan_year", "bucket", "amount"];
/// The most rows one import may hold.
pub const IMPORT_ROWS_MAX: usize = 1_000_000;
/// The plan years an import may name.
pub const PLAN_YEARS: std::ops::RangeInclusive<i32> = 1900..=2999;

/// Parses the CSV whole; every failure or one event.
pub fn parse_import(bytes: &[u8]) -> Result<AccumulatorsImported, LoadErrors> {
    let mut failures = Failures::default();
    let mut fail = |line: usize, reason: String| failures.push(line, reason);
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text.strip_prefix('\u{feff}').unwrap_or(text),
        Err(error) => return Err(LoadErrors { errors: vec![LoadError { line: 0, reason: format!("the file is not UTF-8: {error}") }], more: 0 }),
    };
    let mut lines = text.lines().enumerate().map(|(line_idx, line)| (line_idx + 1, line.trim())).filter(|(_, line)| !line.is_empty());
    match lines.next() {
        Some((_, header)) if header.split(',').map(|cell| cell.trim().to_ascii_lowercase()).eq(HEADER.iter().map(|name| name.to_string())) => {}
        Some((line, header)) => fail(line, format!("the header must be `{}`, not `{header}`", HEADER.join(","))),
        None => fail(0, format!("the file is empty; it needs the header `{}` and at least one row", HEADER.join(","))),
    }
    let mut entries: Vec<AccumulatorEntry> = Vec::new();
    let mut seen = std::collections::HashMap::new();
    let mut n_rows = 0usize;
    for (line, row) in lines {
        n_rows += 1;
        if n_rows > IMPORT_ROWS_MAX {
            fail(line, format!("more than {IMPORT_ROWS_MAX} rows"));
            break;
        }
        let cells: Vec<&str> = row.split(',').map(str::trim).collect();
        if cells.len() != HEADER.len() {
            fail(line, format!("{} cells, expected {} ({})", cells.len(), HEADER.len(), HEADER.join(",")));
            continue;
        }
        let member_id = MemberId::parse(cells[0]).map_err(|error| fail(line, format!("member_id: {error}"))).ok();
        let plan_year = match cells[1].parse::<i32>() {
            Ok(year) if PLAN_YEARS.contains(&year) => Some(year),
            _ => {
                fail(line, format!("plan_year: `{}` is not a year from {} to {}", cells[1], PLAN_YEARS.start(), PLAN_YEARS.end()));
                None
            }
        };
        let bucket = Bucket::parse(cells[2]).map_err(|error| fail(line, format!("bucket: {error}"))).ok();
        let amount = match Money::parse(cells[3]) {
            Ok(amount) if amount.is_negative() => {
                fail(line, format!("amount: {amount} is negative"));
                None
            }
            Ok(amount) => Some(amount),
            Err(error) => {
                fail(line, format!("amount: {error}"));
                None
            }
        };
        if let (Some(member_id), Some(plan_year), Some(bucket), Some(amount)) = (member_id, plan_year, bucket, amount) {
            if let Some(first_line) = seen.insert((member_id.clone(), plan_year, bucket), line) {
                fail(line, format!("the same member, plan year and bucket as line {first_line}"));
                continue;
            }
            entries.push(AccumulatorEntry { member_id, plan_year, bucket, amount });
        }
    }
    if failures.errors.is_empty() && entries.is_empty() {
        failures.push(0, "the file has a header and no rows".into());
    }
    if failures.errors.is_empty() {
        Ok(AccumulatorsImported { source_sha3: hex::encode(sha3_256(bytes)), entries })
    } else {
        Err(LoadErrors { errors: failures.errors, more: failures.more })
    }
}

/// Failures up to [`ERRORS_MAX`], the rest counted.
#[derive(Default)]
struct Failures {
    errors: Vec<LoadError>,
    more: usize,
}

impl Failures {
    fn push(&mut self, line: usize, reason: String) {
        if self.errors.len() < ERRORS_MAX {
            self.errors.push(LoadError { line, reason });
        } else {
            self.more += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_good_file_becomes_one_event_with_its_hash() {
        let csv = "\u{feff}member_id,plan_year,bucket,amount\r\nM1001,2026,deductible_inn_individual,350.00\r\n\r\nS2001,2026,oop_inn_family,1000\r\n";
        let imported = parse_import(csv.as_bytes()).unwrap();
        assert_eq!(imported.entries.len(), 2);
        assert_eq!(imported.entries[0].bucket, Bucket::DeductibleInnIndividual);
        assert_eq!(imported.entries[0].amount, Money::from_cents(35_000));
        assert_eq!(imported.entries[1].member_id.as_ref(), "S2001");
        assert_eq!(imported.entries[1].amount, Money::from_cents(100_000));
        assert_eq!(imported.source_sha3, hex::encode(sha3_256(csv.as_bytes())));
    }

    #[test]
    fn every_bad_line_is_named_and_nothing_is_imported() {
        let csv = "member_id,plan_year,bucket,amount\n\
                   M1001,2026,deductible_inn_individual,350.00\n\
                   M 1002,2026,deductible_inn_individual,1.00\n\
                   M1003,26,deductible_inn_individual,1.00\n\
                   M1004,2026,deductible,1.00\n\
                   M1005,2026,oop_oon_family,-3.00\n\
                   M1006,2026,oop_oon_family,1.234\n\
                   M1007,2026,oop_oon_family\n\
                   M1001,2026,deductible_inn_individual,10.00\n";
        let errors = parse_import(csv.as_bytes()).unwrap_err();
        let lines: Vec<usize> = errors.errors.iter().map(|error| error.line).collect();
        assert_eq!(lines, vec![3, 4, 5, 6, 7, 8, 9], "{errors}");
        assert!(errors.errors[0].reason.starts_with("member_id:"), "{errors}");
        assert!(errors.errors[1].reason.starts_with("plan_year: `26`"), "{errors}");
        assert!(errors.errors[2].reason.contains("`deductible`"), "{errors}");
        assert_eq!(errors.errors[3].reason, "amount: -3.00 is negative");
        assert!(errors.errors[4].reason.contains("more than two decimal places"), "{errors}");
        assert!(errors.errors[5].reason.starts_with("3 cells"), "{errors}");
        assert_eq!(errors.errors[6].reason, "the same member, plan year and bucket as line 2");
    }

    #[test]
    fn a_wrong_header_or_an_empty_file_is_refused() {
        let errors = parse_import(b"member,year,bucket,amount\nM1,2026,oop_inn_individual,1.00\n").unwrap_err();
        assert_eq!(errors.errors[0].line, 1);
        assert!(errors.errors[0].reason.starts_with("the header must be"), "{errors}");
        assert_eq!(parse_import(b"").unwrap_err().errors[0].line, 0);
        assert!(parse_import(b"member_id,plan_year,bucket,amount\n").unwrap_err().to_string().contains("no rows"));
        assert!(parse_import(&[0xff, 0xfe]).unwrap_err().to_string().contains("not UTF-8"));
    }
}
