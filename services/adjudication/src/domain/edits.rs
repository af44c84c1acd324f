//! The standard edits that need the registry, run on each line before
//! pricing. Each is a pure function of the line's date of service and the
//! facts; a failed edit is a line denial (CO group, the whole charge), with
//! an 835 to come, never an intake rejection.
//!
//! | edit | CARC | when |
//! |---|---|---|
//! | `coverage-not-in-effect` | 26 | the date of service is before the member's coverage starts |
//! | `coverage-ended` | 27 | the date of service is after the member's coverage ends |
//! | `after-date-of-death` | 13 | the date of service is after the member's date of death |
//! | `timely-filing` | 29 | the claim was received more than the payer's limit after the date of service |
//! | `provider-not-enrolled` | B7 | the billing provider is not enrolled with the payer on the date of service |
//!
//! The first edit that fails decides the line (in the order of the table).
//! Still to come from libs/policy: exact duplicates (CO-18) and suspect
//! duplicates (pend) over [`super::HistoryFact`]s, NCCI (CO-97), MUE
//! (CO-151/N362), exclusion (CO-B7) and prior authorization (CO-197); their
//! call point is [`line_denial`], after the registry edits.

use claimtrail_codes::{Carc, Rarc};
use claimtrail_events::{ClaimLine, format_date};
use time::Date;

use super::registry::{MemberFacts, PayerFacts, ProviderFacts, RegistryFacts};

/// A line denied by a standard edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    /// The edit's machine name, e.g. `coverage-ended`.
    pub edit: &'static str,
    /// The claim adjustment reason code (group CO), e.g. `27`.
    pub carc: Carc,
    /// Remark codes sent with it (N362 with an MUE denial).
    pub remarks: Vec<Rarc>,
    /// The registry fact that decided it, e.g. `member coverage 2026-01-01..2026-06-30 recorded 2026-...`.
    pub source: String,
    /// Why, in a sentence.
    pub detail: String,
}

fn coverage_source(member: &MemberFacts) -> String {
    format!("member coverage {}..{} (recorded {})", format_date(member.coverage_start), format_date(member.coverage_end), member.recorded_at)
}

/// CO-26 before the coverage starts, CO-27 after it ends.
pub fn coverage(service_date: Date, member: &MemberFacts) -> Option<Denial> {
    if service_date < member.coverage_start {
        return Some(Denial {
            edit: "coverage-not-in-effect",
            carc: Carc::BEFORE_COVERAGE,
            remarks: Vec::new(),
            source: coverage_source(member),
            detail: format!(
                "the date of service {} is before the member's coverage starts on {}: CO-26",
                format_date(service_date),
                format_date(member.coverage_start)
            ),
        });
    }
    if service_date > member.coverage_end {
        return Some(Denial {
            edit: "coverage-ended",
            carc: Carc::AFTER_COVERAGE,
            remarks: Vec::new(),
            source: coverage_source(member),
            detail: format!(
                "the date of service {} is after the member's coverage ended on {}: CO-27",
                format_date(service_date),
                format_date(member.coverage_end)
            ),
        });
    }
    None
}

/// CO-13 for a service after the member's date of death (the day itself is covered).
pub fn date_of_death(service_date: Date, member: &MemberFacts) -> Option<Denial> {
    let died = member.date_of_death?;
    (service_date > died).then(|| Denial {
        edit: "after-date-of-death",
        carc: Carc::DATE_OF_DEATH,
        remarks: Vec::new(),
        source: format!("member date of death {} (recorded {})", format_date(died), member.recorded_at),
        detail: format!("the date of service {} is after the member's date of death {}: CO-13", format_date(service_date), format_date(died)),
    })
}

/// CO-29 when the claim was received more than the payer's limit after the
/// date of service (the limit's last day is still timely).
pub fn timely_filing(service_date: Date, received_on: Date, payer: &PayerFacts) -> Option<Denial> {
    let age = (received_on - service_date).whole_days();
    (age > i64::from(payer.timely_filing_days)).then(|| Denial {
        edit: "timely-filing",
        carc: Carc::TIMELY_FILING,
        remarks: Vec::new(),
        source: format!("payer {} timely filing {} days (recorded {})", payer.payer_id, payer.timely_filing_days, payer.recorded_at),
        detail: format!(
            "the claim was received on {}, {age} days after the date of service {}; payer {} pays claims received within {} days: CO-29",
            format_date(received_on),
            format_date(service_date),
            payer.payer_id,
            payer.timely_filing_days
        ),
    })
}

/// CO-B7 when the billing provider is not enrolled with the payer on the date of service.
pub fn provider_enrollment(service_date: Date, npi: &str, payer_id: &str, provider: Option<&ProviderFacts>) -> Option<Denial> {
    match provider {
        None => Some(Denial {
            edit: "provider-not-enrolled",
            carc: Carc::PROVIDER_NOT_ELIGIBLE,
            remarks: Vec::new(),
            source: format!("no enrollment of provider {npi} with payer {payer_id}"),
            detail: format!("billing provider {npi} is not enrolled with payer {payer_id}: CO-B7"),
        }),
        Some(enrolled) if service_date < enrolled.enrollment_start || service_date > enrolled.enrollment_end => Some(Denial {
            edit: "provider-not-enrolled",
            carc: Carc::PROVIDER_NOT_ELIGIBLE,
            remarks: Vec::new(),
            source: format!(
                "provider enrollment {}..{} (recorded {})",
                format_date(enrolled.enrollment_start),
                format_date(enrolled.enrollment_end),
                enrolled.recorded_at
            ),
            detail: format!(
                "billing provider {npi} is enrolled with payer {payer_id} from {} to {}, not on the date of service {}: CO-B7",
                format_date(enrolled.enrollment_start),
                format_date(enrolled.enrollment_end),
                format_date(service_date)
            ),
        }),
        Some(_) => None,
    }
}

/// The first standard edit `line` fails, if any. `member` and `payer` are
/// known here (a claim without them pends before its lines are edited).
pub fn line_denial(line: &ClaimLine, npi: &str, member: &MemberFacts, payer: &PayerFacts, registry: &RegistryFacts, received_on: Date) -> Option<Denial> {
    let date = line.service_date;
    coverage(date, member)
        .or_else(|| date_of_death(date, member))
        .or_else(|| timely_filing(date, received_on, payer))
        .or_else(|| provider_enrollment(date, npi, &payer.payer_id, registry.provider.as_ref()))
    // Integration point (libs/policy): duplicates over the claim history, NCCI, MUE, exclusion, prior authorization.
}

#[cfg(test)]
mod tests {
    use super::*;
    use claimtrail_events::Timestamp;
    use time::macros::date;

    fn member() -> MemberFacts {
        MemberFacts {
            member_id: "M1".into(),
            plan_id: "PPO".into(),
            subscriber_id: None,
            coverage_start: date!(2026 - 01 - 01),
            coverage_end: date!(2026 - 06 - 30),
            date_of_death: None,
            birth_date: None,
            sex: None,
            relationship: None,
            recorded_at: Timestamp::parse("2026-01-02T00:00:00.000000Z").unwrap(),
        }
    }

    fn payer(days: u32) -> PayerFacts {
        PayerFacts { payer_id: "P1".into(), timely_filing_days: days, recorded_at: Timestamp::parse("2025-12-01T00:00:00.000000Z").unwrap() }
    }

    fn provider() -> ProviderFacts {
        ProviderFacts {
            npi: "1234567893".into(),
            enrollment_start: date!(2026 - 03 - 01),
            enrollment_end: date!(2026 - 12 - 31),
            entity_type: None,
            taxonomy: None,
            last_name: None,
            first_name: None,
            birth_date: None,
            recorded_at: Timestamp::parse("2026-02-01T00:00:00.000000Z").unwrap(),
        }
    }

    /// Given a check, when a date, then a CARC (or none).
    fn check(given: impl Fn(Date) -> Option<Denial>, when: Date, then: Option<&str>) {
        assert_eq!(given(when).map(|denial| denial.carc.to_string()).as_deref(), then, "on {when}");
    }

    #[test]
    fn a_service_before_the_coverage_starts_is_denied_co_26() {
        check(|d| coverage(d, &member()), date!(2025 - 12 - 31), Some("26"));
        check(|d| coverage(d, &member()), date!(2026 - 01 - 01), None);
    }

    #[test]
    fn a_service_after_the_coverage_ended_is_denied_co_27() {
        check(|d| coverage(d, &member()), date!(2026 - 06 - 30), None);
        check(|d| coverage(d, &member()), date!(2026 - 07 - 01), Some("27"));
        let denial = coverage(date!(2026 - 07 - 01), &member()).unwrap();
        assert!(denial.detail.contains("ended on 2026-06-30") && denial.source.contains("recorded 2026-01-02"), "{denial:?}");
    }

    #[test]
    fn a_service_after_the_date_of_death_is_denied_co_13_and_the_day_itself_is_not() {
        let died = MemberFacts { date_of_death: Some(date!(2026 - 03 - 10)), ..member() };
        check(|d| date_of_death(d, &died), date!(2026 - 03 - 10), None);
        check(|d| date_of_death(d, &died), date!(2026 - 03 - 11), Some("13"));
        check(|d| date_of_death(d, &member()), date!(2026 - 03 - 11), None);
    }

    #[test]
    fn timely_filing_counts_from_the_date_of_receipt_and_its_last_day_is_timely() {
        let received = date!(2026 - 05 - 01);
        check(|d| timely_filing(d, received, &payer(90)), received - time::Duration::days(90), None);
        check(|d| timely_filing(d, received, &payer(90)), received - time::Duration::days(91), Some("29"));
        let denial = timely_filing(date!(2026 - 01 - 30), received, &payer(90)).unwrap();
        assert!(denial.detail.contains("91 days after the date of service 2026-01-30"), "{}", denial.detail);
    }

    #[test]
    fn a_provider_not_enrolled_on_the_date_of_service_or_at_all_is_denied_co_b7() {
        check(|d| provider_enrollment(d, "1234567893", "P1", Some(&provider())), date!(2026 - 02 - 28), Some("B7"));
        check(|d| provider_enrollment(d, "1234567893", "P1", Some(&provider())), date!(2026 - 03 - 01), None);
        check(|d| provider_enrollment(d, "1234567893", "P1", None), date!(2026 - 03 - 01), Some("B7"));
    }

    #[test]
    fn the_first_failed_edit_decides_the_line_in_table_order() {
        let line = crate::domain::fixtures::claim(claimtrail_events::Frequency::Original, None, &[("99213", "100.00", 1)]).lines[0].clone();
        let line = ClaimLine { service_date: date!(2026 - 08 - 01), ..line };
        let died = MemberFacts { date_of_death: Some(date!(2026 - 03 - 10)), ..member() };
        let registry = RegistryFacts { member: Some(died.clone()), provider: None, payer: Some(payer(30)), rendering_provider: None };
        let denial = line_denial(&line, "1234567893", &died, &payer(30), &registry, date!(2027 - 01 - 01)).unwrap();
        assert_eq!((denial.edit, denial.carc.as_ref()), ("coverage-ended", "27"));
        let covered = MemberFacts { coverage_end: date!(2026 - 12 - 31), ..died };
        let denial = line_denial(&line, "1234567893", &covered, &payer(30), &registry, date!(2027 - 01 - 01)).unwrap();
        assert_eq!(denial.carc, Carc::DATE_OF_DEATH);
    }
}
