//! The registry facts a decision reads, as adjudication knew them: its own
//! projections of `reference.>` (member enrollments, provider enrollments,
//! payers) and of the claims it decided (the claim history).
//!
//! Bitemporal: each fact carries its valid period (coverage, enrollment) and
//! `recorded_at`, when adjudication learned it. A date of death or a
//! retroactive termination that arrives after a claim was decided is a later
//! version; the decision keeps the version it saw, so a replay sees it too.

use std::collections::{BTreeMap, BTreeSet};

use claimtrail_events::{Money, SubmittedClaim, Timestamp};
use serde::{Deserialize, Serialize};
use time::Date;

/// How far back the rule set's `history.*_last_365_days` counts reach, and
/// the prior authorizations' units used by earlier claims.
pub const HISTORY_DAYS: i64 = 365;

/// A member's enrollment with the payer, one recorded version of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberFacts {
    pub member_id: String,
    pub plan_id: String,
    /// The subscriber of the member's family, when the enrollment named one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscriber_id: Option<String>,
    #[serde(with = "claimtrail_events::date")]
    pub coverage_start: Date,
    #[serde(with = "claimtrail_events::date")]
    pub coverage_end: Date,
    #[serde(default, with = "claimtrail_events::optional_date", skip_serializing_if = "Option::is_none")]
    pub date_of_death: Option<Date>,
    /// For the rule set's fact model (`member.age`): absent in versions recorded before it.
    #[serde(default, with = "claimtrail_events::optional_date", skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<Date>,
    /// `male`, `female`, ... as enrolled (`member.sex`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<String>,
    /// To the subscriber: `self`, `spouse`, `child`, ... (`member.relationship`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relationship: Option<String>,
    /// When adjudication recorded this version.
    pub recorded_at: Timestamp,
}

/// A billing provider's enrollment with the payer, one recorded version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderFacts {
    pub npi: String,
    #[serde(with = "claimtrail_events::date")]
    pub enrollment_start: Date,
    #[serde(with = "claimtrail_events::date")]
    pub enrollment_end: Date,
    /// NPI entity type: 1 individual, 2 organization (`provider.entity_type`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_type: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxonomy: Option<String>,
    /// An individual's last name, first name and birth date as enrolled: what
    /// the OIG exclusion list is matched on when its row has no NPI. Absent
    /// for organizations and in versions recorded before they existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, with = "claimtrail_events::optional_date", skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<Date>,
    pub recorded_at: Timestamp,
}

/// The payer's own terms adjudication holds, one recorded version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayerFacts {
    pub payer_id: String,
    /// Claims are timely within this many days of each date of service, counted to the date of receipt.
    pub timely_filing_days: u32,
    pub recorded_at: Timestamp,
}

/// What the registry held for one claim when it was decided; `None` where it held nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryFacts {
    pub member: Option<MemberFacts>,
    pub provider: Option<ProviderFacts>,
    pub payer: Option<PayerFacts>,
    /// The rendering provider's enrollment, when another NPI than the billing
    /// provider renders (the exclusion edit matches the renderer). Absent
    /// when the billing provider renders, when the registry holds no such
    /// enrollment, and in records made before it was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rendering_provider: Option<ProviderFacts>,
}

impl RegistryFacts {
    /// Who the exclusion edit checks: the rendering NPI, with the name and
    /// birth date of its enrollment when the registry holds them.
    pub fn exclusion_identity<'a>(&'a self, rendering_npi: &'a str) -> claimtrail_policy::ProviderIdentity<'a> {
        let enrolled = [self.provider.as_ref(), self.rendering_provider.as_ref()].into_iter().flatten().find(|facts| facts.npi == rendering_npi);
        claimtrail_policy::ProviderIdentity {
            npi: rendering_npi,
            last_name: enrolled.and_then(|facts| facts.last_name.as_deref()),
            first_name: enrolled.and_then(|facts| facts.first_name.as_deref()),
            birth_date: enrolled.and_then(|facts| facts.birth_date),
        }
    }
}

/// One line of another claim of the same member, as adjudication's claim
/// history holds it (member × provider × date of service × code × modifiers
/// × units × charge × status): what the duplicate, NCCI-across-claims and
/// MUE-per-day edits read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryFact {
    pub claim_id: uuid::Uuid,
    pub sequence: u32,
    pub billing_npi: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rendering_npi: Option<String>,
    #[serde(with = "claimtrail_events::date")]
    pub service_date: Date,
    pub procedure_code: String,
    pub modifiers: Vec<String>,
    /// Units, as the claim gave them (a decimal string).
    pub units: String,
    pub charge: Money,
    pub status: HistoryStatus,
}

/// Where a line of the claim history stands (its JSON and stored name in lower case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HistoryStatus {
    /// Decided with money paid.
    Paid,
    /// Decided with nothing paid.
    Denied,
    /// Pended for review, not decided yet.
    Pended,
    /// Reversed by a replacement or a void.
    Reversed,
}

impl HistoryStatus {
    pub const ALL: [HistoryStatus; 4] = [HistoryStatus::Paid, HistoryStatus::Denied, HistoryStatus::Pended, HistoryStatus::Reversed];

    /// Its name in JSON and in the claim history's table.
    pub fn as_str(self) -> &'static str {
        match self {
            HistoryStatus::Paid => "paid",
            HistoryStatus::Denied => "denied",
            HistoryStatus::Pended => "pended",
            HistoryStatus::Reversed => "reversed",
        }
    }

    pub fn parse(text: &str) -> Option<HistoryStatus> {
        HistoryStatus::ALL.into_iter().find(|status| status.as_str() == text)
    }

    /// Whether the line still stands beside new claims (paid, or pended and so possibly paid).
    pub fn stands(self) -> bool {
        matches!(self, HistoryStatus::Paid | HistoryStatus::Pended)
    }
}

/// The rule set's 365-day history counts on one of the claim's dates of
/// service: the member's other claims from the same billing provider, their
/// standing (paid or pended) lines dated in the 365 days through `through`.
/// Recorded with the decision instead of the lines they count (decision
/// record format 2): the storage layer counts them in SQL
/// ([`crate::storage::history_counts`]); [`HistoryCounts::of`] is the same
/// count over lines (the reference, and what a format-1 record replays with).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryCounts {
    #[serde(with = "claimtrail_events::date")]
    pub through: Date,
    /// Distinct claims with such a line (`history.claims_last_365_days`).
    pub claims: u32,
    /// Such lines per procedure code, for the codes of the claim's lines on
    /// `through` (`history.same_code_last_365_days`); a code with none is absent.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub codes: BTreeMap<String, u32>,
}

impl HistoryCounts {
    /// The counts through each of `claim`'s dates of service (ascending),
    /// over `history`: lines of the member's other claims from the claim's
    /// billing provider.
    pub fn of(history: &[HistoryFact], claim: &SubmittedClaim) -> Vec<HistoryCounts> {
        codes_by_date(claim).into_iter().map(|(through, codes)| HistoryCounts::through(history, through, &codes)).collect()
    }

    /// The counts through `through` over `history`, for `codes`.
    pub fn through(history: &[HistoryFact], through: Date, codes: &BTreeSet<String>) -> HistoryCounts {
        let year_before = through - time::Duration::days(HISTORY_DAYS);
        let in_year: Vec<&HistoryFact> =
            history.iter().filter(|fact| fact.status.stands() && fact.service_date > year_before && fact.service_date <= through).collect();
        let claims: BTreeSet<uuid::Uuid> = in_year.iter().map(|fact| fact.claim_id).collect();
        let codes = codes
            .iter()
            .map(|code| (code.clone(), in_year.iter().filter(|fact| fact.procedure_code.trim().eq_ignore_ascii_case(code.trim())).count() as u32))
            .filter(|(_, count)| *count > 0)
            .collect();
        HistoryCounts { through, claims: claims.len() as u32, codes }
    }

    /// Lines with `code` and distinct claims, through `date`, from the counts
    /// of that date (none recorded: zero).
    pub fn find(counts: &[HistoryCounts], date: Date, code: &str) -> (u32, u32) {
        counts.iter().find(|counts| counts.through == date).map_or((0, 0), |counts| (counts.codes.get(code).copied().unwrap_or(0), counts.claims))
    }
}

/// `claim`'s dates of service (ascending), each with the procedure codes of its lines on it.
pub fn codes_by_date(claim: &SubmittedClaim) -> BTreeMap<Date, BTreeSet<String>> {
    let mut dates: BTreeMap<Date, BTreeSet<String>> = BTreeMap::new();
    for line in &claim.lines {
        dates.entry(line.service_date).or_default().insert(line.procedure_code.to_string());
    }
    dates
}

/// What of the member's claim history one decision reads as lines: every
/// line on the claim's dates of service (duplicates, NCCI across claims, MUE
/// per day), and the lines of a code an approved prior authorization of the
/// member may approve on this claim (same rendering NPI and code, one of the
/// claim's lines inside its period), over the authorization's whole period:
/// its units are used by every line the period covers, also by claims dated
/// after this one that were decided first (domain file 8).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryReach {
    pub dates: Vec<Date>,
    /// (procedure code, first date, last date).
    pub authorized: Vec<(String, Date, Date)>,
}

impl HistoryReach {
    /// The reach of `claim` under the prior authorizations of the policy in force (if any).
    pub fn of(claim: &SubmittedClaim, authorizations: Option<&claimtrail_policy::PriorAuthorizations>) -> HistoryReach {
        let dates: Vec<Date> = codes_by_date(claim).into_keys().collect();
        if dates.is_empty() {
            return HistoryReach::default();
        }
        let renderer = claim.rendering_npi.as_deref().unwrap_or(&claim.billing_npi);
        let mut authorized = BTreeSet::new();
        for row in authorizations.into_iter().flat_map(|table| table.rows_of_member(&claim.member_id)) {
            if row.status != claimtrail_policy::AuthStatus::Approved || row.provider_npi != renderer {
                continue;
            }
            let covered = |line: &&claimtrail_events::ClaimLine| {
                claimtrail_policy::CodeKey::of(&line.procedure_code) == row.code && row.start <= line.service_date && line.service_date <= row.end
            };
            for line in claim.lines.iter().filter(covered) {
                authorized.insert((line.procedure_code.to_string(), row.start, row.end));
            }
        }
        HistoryReach { dates, authorized: authorized.into_iter().collect() }
    }

    /// Whether the line `fact` is within the reach.
    pub fn holds(&self, fact: &HistoryFact) -> bool {
        self.dates.contains(&fact.service_date)
            || self.authorized.iter().any(|(code, from, to)| fact.procedure_code == *code && *from <= fact.service_date && fact.service_date <= *to)
    }
}

#[cfg(test)]
mod tests {
    use claimtrail_events::Frequency;
    use time::macros::date;
    use uuid::Uuid;

    use super::*;
    use crate::domain::fixtures;

    fn fact(claim: u128, code: &str, date: Date, status: HistoryStatus) -> HistoryFact {
        HistoryFact {
            claim_id: Uuid::from_u128(claim),
            sequence: 1,
            billing_npi: "1234567893".into(),
            rendering_npi: None,
            service_date: date,
            procedure_code: code.into(),
            modifiers: vec![],
            units: "1".into(),
            charge: Money::parse("100.00").unwrap(),
            status,
        }
    }

    #[test]
    fn the_counts_take_standing_lines_in_the_365_days_through_each_date_of_service() {
        // The fixture claim's lines are on 2026-11-01; one line is moved to 2026-11-20.
        let mut claim = fixtures::claim(Frequency::Original, None, &[("99213", "100.00", 1), ("G0008", "25.00", 1)]);
        claim.lines[1].service_date = date!(2026 - 11 - 20);
        let history = [
            fact(1, "99213", date!(2026 - 11 - 01), HistoryStatus::Paid),
            fact(1, "G0008", date!(2026 - 11 - 01), HistoryStatus::Paid),
            // 365 days before 2026-11-01 is out of its year; the next day is in.
            fact(2, "99213", date!(2025 - 11 - 01), HistoryStatus::Paid),
            fact(3, "99213", date!(2025 - 11 - 02), HistoryStatus::Pended),
            // Denied and reversed lines are not counted.
            fact(4, "99213", date!(2026 - 06 - 01), HistoryStatus::Denied),
            fact(5, "G0008", date!(2026 - 06 - 01), HistoryStatus::Reversed),
            // After the first date, within the second's year.
            fact(6, "G0008", date!(2026 - 11 - 10), HistoryStatus::Paid),
            fact(6, "g0008 ", date!(2026 - 11 - 10), HistoryStatus::Paid),
        ];
        let counts = HistoryCounts::of(&history, &claim);
        assert_eq!(
            counts,
            vec![
                HistoryCounts { through: date!(2026 - 11 - 01), claims: 2, codes: [("99213".to_owned(), 2)].into() },
                HistoryCounts { through: date!(2026 - 11 - 20), claims: 2, codes: [("G0008".to_owned(), 3)].into() },
            ]
        );
        assert_eq!(HistoryCounts::find(&counts, date!(2026 - 11 - 01), "99213"), (2, 2));
        assert_eq!(HistoryCounts::find(&counts, date!(2026 - 11 - 01), "G0008"), (0, 2), "G0008 is not on the claim on that date");
        assert_eq!(HistoryCounts::find(&counts, date!(2026 - 12 - 01), "99213"), (0, 0));
        assert_eq!(HistoryCounts::of(&[], &claim)[0], HistoryCounts { through: date!(2026 - 11 - 01), claims: 0, codes: BTreeMap::new() });
    }

    #[test]
    fn the_reach_is_the_claim_s_dates_and_its_authorized_codes_within_the_authorization() {
        let claim = fixtures::claim(Frequency::Original, None, &[("70553", "500.00", 1), ("99213", "100.00", 1)]);
        assert_eq!(HistoryReach::of(&claim, None), HistoryReach { dates: vec![date!(2026 - 11 - 01)], authorized: vec![] });
        let authorization = |member: &str, code: &str, start: Date, end: Date| claimtrail_policy::PriorAuthorization {
            auth_number: "PA-1".into(),
            member_id: member.into(),
            provider_npi: "1234567893".into(),
            code: claimtrail_policy::CodeKey::of(code),
            units: rust_decimal::Decimal::TEN,
            start,
            end,
            status: claimtrail_policy::AuthStatus::Approved,
        };
        let table = claimtrail_policy::PriorAuthorizations::from_rows(vec![
            authorization("M1", "70553", date!(2024 - 01 - 01), date!(2027 - 01 - 01)),
            authorization("M2", "99213", date!(2026 - 01 - 01), date!(2026 - 12 - 31)),
            authorization("M1", "J1100", date!(2026 - 01 - 01), date!(2026 - 12 - 31)),
        ]);
        let reach = HistoryReach::of(&claim, Some(&table));
        // The authorization's whole period, also after the claim's last date of service.
        assert_eq!(reach.authorized, vec![("70553".to_owned(), date!(2024 - 01 - 01), date!(2027 - 01 - 01))]);
        assert!(reach.holds(&fact(1, "99213", date!(2026 - 11 - 01), HistoryStatus::Paid)));
        assert!(reach.holds(&fact(1, "70553", date!(2026 - 03 - 01), HistoryStatus::Paid)));
        assert!(reach.holds(&fact(1, "70553", date!(2026 - 12 - 15), HistoryStatus::Paid)), "dated later, decided first");
        assert!(!reach.holds(&fact(1, "99213", date!(2026 - 03 - 01), HistoryStatus::Paid)), "another code on another date");
        assert!(!reach.holds(&fact(1, "70553", date!(2023 - 12 - 31), HistoryStatus::Paid)), "before the period");
        // Authorizations that cannot approve the claim's line do not widen the reach.
        for other in [
            claimtrail_policy::PriorAuthorization {
                status: claimtrail_policy::AuthStatus::Denied,
                ..authorization("M1", "70553", date!(2024 - 01 - 01), date!(2027 - 01 - 01))
            },
            claimtrail_policy::PriorAuthorization {
                provider_npi: "1003000126".into(),
                ..authorization("M1", "70553", date!(2024 - 01 - 01), date!(2027 - 01 - 01))
            },
            authorization("M1", "70553", date!(2026 - 11 - 02), date!(2027 - 01 - 01)),
        ] {
            let table = claimtrail_policy::PriorAuthorizations::from_rows(vec![other.clone()]);
            assert!(HistoryReach::of(&claim, Some(&table)).authorized.is_empty(), "{other:?}");
        }
    }
}
