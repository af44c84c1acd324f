//! The registry facts a decision reads, as adjudication knew them: its own
//! projections of `reference.>` (member enrollments, provider enrollments,
//! payers) and of the claims it decided (the claim history).
//!
//! Bitemporal: each fact carries its valid period (coverage, enrollment) and
//! `recorded_at`, when adjudication learned it. A date of death or a
//! retroactive termination that arrives after a claim was decided is a later
//! version; the decision keeps the version it saw, so a replay sees it too.

use claimtrail_events::{Money, Timestamp};
use serde::{Deserialize, Serialize};
use time::Date;

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
