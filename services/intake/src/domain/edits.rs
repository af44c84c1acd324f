//! The front-end edits that need intake's registries and claims, run for a
//! whole request at once (a handful of queries, however many claims):
//!
//! | code | when |
//! |---|---|
//! | `billing-npi-not-held` | X12: the billing NPI is not registered to the submitting organization (the other edits are skipped; FHIR answers 403 instead) |
//! | `payer-unknown` | the payer is not registered (the other edits are skipped) |
//! | `member-unknown` | the payer has no member with this id |
//! | `provider-licence-expired` | the billing provider's licence expired before a date of service |
//! | `original-required` | a replacement (7) or void (8) names no original claim |
//! | `original-not-found` | the original is not a claim of this organization |
//! | `original-mismatch` | the original has another payer or billing provider |
//! | `original-not-replaceable` | the original was rejected, or is already replaced or voided (or being) |
//!
//! Coverage on the date of service, the provider's enrollment and timely
//! filing are not rejections here: a claim that can be adjudicated goes to
//! adjudication, which denies it (CO-26/27, CO-B7, CO-29) with an 835 to
//! come. The structural edits (NPI check digit, code shapes, totals) run in
//! the FHIR and X12 readers, and a claim's identifiers and codes are parsed
//! into types before these edits ([`super::Candidate::new`]): a value that
//! does not parse rejects the claim at its path, and the edits here see
//! only parsed claims. Issue paths are FHIRPath or X12 positions, by [`Channel`].
//! Pure: [`crate::storage::registry::edit_facts`] reads the [`Facts`] of a
//! whole request, [`issues`] judges its claims.

use std::collections::{HashMap, HashSet};

use claimtrail_events::{ClaimIssue, ClaimStatus, Frequency, SubmittedClaim, format_date};
use time::Date;
use uuid::Uuid;

/// Where a claim came from, which decides how an issue names its element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Fhir,
    X12,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Fhir => "fhir",
            Channel::X12 => "x12",
        }
    }

    fn payer(self) -> String {
        match self {
            Channel::Fhir => "Claim.insurer".into(),
            Channel::X12 => "2010BB/NM109".into(),
        }
    }

    fn member(self) -> String {
        match self {
            Channel::Fhir => "Claim.insurance[0].coverage".into(),
            Channel::X12 => "2010BA/NM109".into(),
        }
    }

    fn provider(self) -> String {
        match self {
            Channel::Fhir => "Claim.provider".into(),
            Channel::X12 => "2010AA/NM109".into(),
        }
    }

    fn related(self) -> String {
        match self {
            Channel::Fhir => "Claim.related[0].claim".into(),
            Channel::X12 => "2300/REF02".into(),
        }
    }
}

fn issue(path: String, code: &str, message: String) -> ClaimIssue {
    ClaimIssue { path, code: code.to_owned(), message }
}

/// The issue of a claim billed under `npi` when it is one of the NPIs that
/// `organization` does not hold (`not_held`, sorted); `None` otherwise.
pub fn billing_npi_issue(channel: Channel, organization: &str, npi: &str, not_held: &[String]) -> Option<ClaimIssue> {
    not_held.binary_search_by(|held| held.as_str().cmp(npi)).ok()?;
    let message = format!(
        "organization `{organization}` does not hold NPI {npi}, so it may not bill under it: an admin registers an NPI to its organization (PUT /v1/providers/{{npi}})"
    );
    Some(issue(channel.provider(), claimtrail_x12::issue_code::BILLING_NPI_NOT_HELD, message))
}

/// What the edits read, fetched for the whole request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// payer id → timely-filing days.
    pub payers: HashMap<String, i64>,
    /// (payer, member) → (coverage start, end).
    pub coverage: HashMap<(String, String), (String, String)>,
    /// npi → licence expiry.
    pub licences: HashMap<String, Option<String>>,
    /// original claim id → (submitter, status, payer, billing npi).
    pub originals: HashMap<Uuid, (String, String, String, String)>,
    /// Originals some live claim already replaces or voids.
    pub taken: HashSet<String>,
}

/// The issues of each claim (in order), for claims received `today` from
/// `submitter`: a replacement or void claims its original for the rest of the
/// request, so a second one naming it is rejected.
pub fn issues(facts: &Facts, channel: Channel, today: Date, submitter: &str, claims: &[&SubmittedClaim]) -> Vec<Vec<ClaimIssue>> {
    let mut claimed_in_request = HashSet::new();
    claims.iter().map(|claim| issues_for(claim, channel, today, submitter, facts, &mut claimed_in_request)).collect()
}

fn issues_for(claim: &SubmittedClaim, channel: Channel, _today: Date, submitter: &str, facts: &Facts, claimed: &mut HashSet<String>) -> Vec<ClaimIssue> {
    let mut issues = Vec::new();
    if !facts.payers.contains_key(claim.payer_id.as_str()) {
        issues.push(issue(channel.payer(), "payer-unknown", format!("payer {} is not registered with Claimtrail", claim.payer_id)));
        return issues;
    }
    if !facts.coverage.contains_key(&(claim.payer_id.to_string(), claim.member_id.to_string())) {
        issues.push(issue(channel.member(), "member-unknown", format!("payer {} has no member with this id", claim.payer_id)));
    }
    if let Some(Some(expires)) = facts.licences.get(claim.billing_npi.as_str())
        && let Some(line) = claim.lines.iter().find(|line| &format_date(line.service_date) > expires)
    {
        issues.push(issue(
            channel.provider(),
            "provider-licence-expired",
            format!("billing provider {}'s licence expired on {expires}, before the date of service {}", claim.billing_npi, format_date(line.service_date)),
        ));
    }
    if claim.frequency != Frequency::Original {
        let what = if claim.frequency == Frequency::Void { "a void (frequency 8)" } else { "a replacement (frequency 7)" };
        match claim.related_claim_id {
            None => issues.push(issue(channel.related(), "original-required", format!("{what} must name the original claim's number"))),
            Some(original_id) => {
                let original = original_id.to_string();
                let found = facts.originals.get(&Uuid::from(original_id)).filter(|(owner, ..)| owner == submitter);
                match found {
                    None => issues.push(issue(channel.related(), "original-not-found", format!("{original} is not a claim this organization submitted"))),
                    Some((_, _, payer, npi)) if claim.payer_id != *payer || claim.billing_npi != *npi => issues.push(issue(
                        channel.related(),
                        "original-mismatch",
                        format!("the original claim {original} was billed by {npi} to payer {payer}; {what} must keep both"),
                    )),
                    Some((_, status, ..)) if ClaimStatus::parse(status).is_some_and(|status| !status.is_replaceable()) => issues.push(issue(
                        channel.related(),
                        "original-not-replaceable",
                        format!("the original claim {original} is {status}; submit a new original claim instead"),
                    )),
                    Some(_) if facts.taken.contains(&original) || claimed.contains(&original) => issues.push(issue(
                        channel.related(),
                        "original-not-replaceable",
                        format!("the original claim {original} is already replaced or voided by another claim"),
                    )),
                    Some(_) => {
                        if issues.is_empty() {
                            claimed.insert(original);
                        }
                    }
                }
            }
        }
    }
    issues
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::Duration;
    use time::macros::date;

    const PAYER: &str = "60054";
    const MEMBER: &str = "MBR-0001";
    const NPI: &str = "1245319599";

    fn claim_served(service_date: Date) -> SubmittedClaim {
        serde_json::from_value(json!({
            "claim_id": Uuid::nil(), "claim_type": "professional", "frequency": "original", "related_claim_id": null,
            "patient_control_number": "PCN-1", "billing_npi": NPI, "rendering_npi": null, "payer_id": PAYER, "member_id": MEMBER,
            "diagnoses": [{"sequence": 1, "code": "E119"}],
            "lines": [{"sequence": 1, "procedure_code": "99213", "modifiers": [], "quantity": "1", "charge": "120.00",
                       "service_date": format_date(service_date), "place_of_service": "11", "diagnosis_pointers": [1]}],
            "total_charge": "120.00"
        }))
        .expect("a valid claim")
    }

    /// The registry as a payer sets it up on `today`: coverage, enrollment and licence a year either side.
    fn facts_around(today: Date) -> Facts {
        let period = (format_date(today - Duration::days(365)), format_date(today + Duration::days(365)));
        Facts {
            payers: HashMap::from([(PAYER.to_owned(), 365)]),
            coverage: HashMap::from([((PAYER.to_owned(), MEMBER.to_owned()), period)]),
            licences: HashMap::from([(NPI.to_owned(), Some(format_date(today + Duration::days(365))))]),
            originals: HashMap::new(),
            taken: HashSet::new(),
        }
    }

    fn codes(claim: &SubmittedClaim, today: Date, facts: &Facts) -> Vec<String> {
        issues_for(claim, Channel::Fhir, today, "riverside", facts, &mut HashSet::new()).into_iter().map(|issue| issue.code).collect()
    }

    #[test]
    fn a_recent_claim_passes_the_edits_whatever_year_the_clock_says() {
        for years_ahead in [0, 1, 3, 10, 40] {
            let today = date!(2026 - 12 - 06) + Duration::days(365 * years_ahead);
            let claim = claim_served(today - Duration::days(30));
            assert_eq!(codes(&claim, today, &facts_around(today)), Vec::<String>::new(), "{years_ahead} years ahead");
        }
    }

    #[test]
    fn a_late_claim_is_not_rejected_here_adjudication_denies_it() {
        let served = date!(2026 - 02 - 10);
        let years_later = date!(2031 - 03 - 01);
        assert!(codes(&claim_served(served), years_later, &facts_around(served)).is_empty());
    }

    #[test]
    fn coverage_and_enrollment_are_adjudication_s_and_the_licence_is_judged_on_the_date_of_service() {
        let today = date!(2031 - 06 - 15);
        let claim = claim_served(today - Duration::days(30));
        let mut facts = facts_around(today);
        facts.coverage.insert((PAYER.to_owned(), MEMBER.to_owned()), (format_date(today - Duration::days(400)), format_date(today - Duration::days(31))));
        facts.licences.insert(NPI.to_owned(), Some(format_date(today - Duration::days(31))));
        assert_eq!(codes(&claim, today, &facts), ["provider-licence-expired"]);
        facts.coverage.clear();
        assert_eq!(codes(&claim, today, &facts), ["member-unknown", "provider-licence-expired"]);
    }

    #[test]
    fn a_claim_billed_under_an_npi_not_held_is_rejected_naming_the_billing_provider() {
        let not_held = vec!["1093817465".to_owned(), "1234567893".to_owned()];
        let found = billing_npi_issue(Channel::X12, "riverside", "1234567893", &not_held).expect("not held");
        assert_eq!((found.path.as_str(), found.code.as_str()), ("2010AA/NM109", "billing-npi-not-held"));
        assert!(found.message.contains("`riverside` does not hold NPI 1234567893"), "{}", found.message);
        assert_eq!(billing_npi_issue(Channel::X12, "riverside", "1245319599", &not_held), None, "its own");
        assert_eq!(billing_npi_issue(Channel::X12, "riverside", "1245319599", &[]), None);
    }
}
