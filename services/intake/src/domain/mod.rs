//! Intake's domain core: which claims of a request pass the front-end edits,
//! and how a claim's status moves as adjudication and settlement decide it.
//! Pure: no IO, no SQL, no HTTP, no bus (a test in the crate's root fails on
//! any such import); [`crate::api`] and [`crate::consumer`] load the
//! [`Facts`], call [`decide`] and persist what it returns.
//!
//! - [`Command::Submit`]: a request's claims, after the FHIR or X12 reader's
//!   structural edits (NPI check digit, code shapes, totals) and the one
//!   parse of their identifiers and codes into types ([`Candidate::new`]),
//!   through the billing-scope check and the registry edits of [`edits`]. Each claim is
//!   [`Event::Received`] `accepted` or `rejected` with its issues; a FHIR
//!   request billed under an NPI that the organization does not hold is
//!   refused whole ([`Rejection::BillingNpisNotHeld`]).
//! - [`registry`]: the registrations (payers, providers, members,
//!   enrollments) checked field by field before they are stored.
//! - [`Command::Adjudicate`], [`Command::Pend`], [`Command::Reverse`], [`Command::Book`]: the
//!   status projection. A claim intake received moves
//!
//! ```text
//! received ──edits pass──▶ accepted ──claim.adjudicated.v1──▶ adjudicated ──claim.reversed.v1──▶ replaced | voided
//!     └──────edits fail──▶ rejected
//! ```
//!
//!   (a void claim itself becomes `voided` with its original), and
//!   `payable.booked.v1` adds a history step without moving it. Events about
//!   claims intake did not receive change nothing. No event moves a claim to
//!   `pended` or `paid` yet.
//! - Correction versions: adjudication decides a claim again (a ripple after
//!   a replacement or void, a reprocessing job) as a new version with a
//!   derived id that intake never received. Its `claim.reversed.v1`
//!   (frequency 7, `by_claim_id` unknown here) is a history step of the claim
//!   intake received, which stays `adjudicated`, and teaches intake the
//!   version's id ([`Event::VersionLearned`]); the version's decision,
//!   payable and accumulators then land on that claim ([`Facts::resolve`]),
//!   and `GET /v1/claims/{version}` answers with it.

pub mod edits;
pub mod fingerprints;
pub mod payments;
pub mod registry;

use std::collections::HashMap;

use claimtrail_events::{
    AsRead, ClaimAdjudicated, ClaimAppealDecided, ClaimAppealed, ClaimIssue, ClaimPended, ClaimReversed, ClaimStatus, Frequency, MappedClaim, PayableBooked,
    SubmittedClaim,
};
use time::Date;
use uuid::Uuid;

pub use edits::Channel;

/// A claim of a request with its id, as read and as parsed, and the issues
/// of the reader's structural edits and of the parse; [`decide`] adds the
/// registry edits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub claim_id: Uuid,
    /// The claim as read: what a rejected claim keeps (its JSON is the
    /// parsed claim's when it parsed).
    pub read: SubmittedClaim<AsRead>,
    /// The claim with its identifiers and codes parsed; `None` when one did
    /// not parse or the reader found an issue (the claim is then rejected).
    pub claim: Option<SubmittedClaim>,
    pub issues: Vec<ClaimIssue>,
    /// The keyed fingerprints its `claim.submitted.v1` carries ([`fingerprints`]), once accepted.
    pub fingerprints: Vec<claimtrail_events::ClaimFingerprints>,
}

impl Candidate {
    /// The claim `mapped` under `claim_id`, its identifiers and codes parsed
    /// once, here: each that does not parse is an issue at the path it was
    /// read from ([`MappedClaim::parse`]).
    pub fn new(claim_id: Uuid, mapped: MappedClaim) -> Candidate {
        let mapped = mapped.with_id(claim_id);
        let parsed = mapped.parse();
        let MappedClaim { claim: read, mut issues, .. } = mapped;
        let claim = match parsed {
            Ok(claim) => Some(claim),
            Err(found) => {
                issues.extend(found);
                None
            }
        };
        Candidate { claim_id, read, claim, issues, fingerprints: Vec::new() }
    }

    /// The parsed claim, while the claim passes the edits.
    pub fn accepted(&self) -> Option<&SubmittedClaim> {
        self.claim.as_ref().filter(|_| self.issues.is_empty())
    }

    /// `accepted` without issues, `rejected` with any.
    pub fn status(&self) -> ClaimStatus {
        if self.issues.is_empty() { ClaimStatus::Accepted } else { ClaimStatus::Rejected }
    }
}

/// Under which NPIs the caller bills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Billing {
    /// An admin key: any NPI.
    AnyNpi,
    /// A provider key: only the NPIs registered to its organization.
    AsOrganization,
}

/// What intake is asked to decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Run the edits on the claims of one request, received `today` from `submitter`.
    Submit { channel: Channel, today: Date, submitter: String, billing: Billing, candidates: Vec<Candidate> },
    /// Adjudication decided a claim.
    Adjudicate(ClaimAdjudicated),
    /// Adjudication pended a claim for review: no outcome yet.
    Pend(ClaimPended),
    /// A replacement or void reversed a claim's decision.
    Reverse(ClaimReversed),
    /// Settlement booked what a claim's decision pays.
    Book(PayableBooked),
    /// The claim's provider appealed its decision.
    Appeal(ClaimAppealed),
    /// A reviewer upheld or overturned the claim's appeal.
    DecideAppeal(ClaimAppealDecided),
}

/// What a decision reads: for a submission the registries' [`edits::Facts`]
/// and the billed NPIs the submitter does not hold; for the projection the
/// current status of the claims intake received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub edits: edits::Facts,
    /// NPIs of the request that the submitter's organization does not hold (sorted, each once).
    pub not_held: Vec<String>,
    /// The status of each claim the command names that intake received.
    pub claims: HashMap<Uuid, ClaimStatus>,
    /// Correction versions the command names, each to the claim intake received that it is a version of.
    pub versions: HashMap<Uuid, Uuid>,
}

impl Facts {
    /// The claim intake received that `claim_id` is, or is a correction version of.
    pub fn resolve(&self, claim_id: Uuid) -> Option<Uuid> {
        if self.claims.contains_key(&claim_id) {
            return Some(claim_id);
        }
        self.versions.get(&claim_id).copied().filter(|original| self.claims.contains_key(original))
    }
}

/// What intake decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A claim of a request, accepted or rejected (its [`Candidate::status`]) with its issues.
    Received(Box<Candidate>),
    /// A claim moved to `status`; `detail` is its history step. `secondary`
    /// marks the second claim one event moves (the void claim itself).
    StatusChanged { claim_id: Uuid, status: ClaimStatus, detail: String, secondary: bool },
    /// A history step that leaves the claim's status as it is.
    Noted { claim_id: Uuid, status: ClaimStatus, detail: String },
    /// Adjudication decides `of_claim_id` (a claim intake received) again as `version`.
    VersionLearned { version: Uuid, of_claim_id: Uuid },
}

/// Why a command is refused as a whole.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum Rejection {
    /// A FHIR request answers as a whole: one NPI not held refuses it (X12 rejects those claims one by one instead).
    #[error(
        "this key's organization `{organization}` may not bill under NPI {}: an admin registers an NPI to its organization (PUT /v1/providers/{{npi}}); nothing was stored",
        npis.join(", ")
    )]
    BillingNpisNotHeld { organization: String, npis: Vec<String> },
}

/// The billed NPIs of `candidates` whose ownership the billing-scope check
/// reads: an NPI with a bad check digit belongs to nobody, and its claim is
/// rejected by the reader's edit, not refused.
pub fn billed_npis(candidates: &[Candidate]) -> Vec<String> {
    let mut npis: Vec<String> = candidates.iter().map(|c| c.read.billing_npi.clone()).filter(|npi| claimtrail_codes::Npi::parse(npi).is_ok()).collect();
    npis.sort();
    npis.dedup();
    npis
}

/// The NPIs of `npis` that `organization` does not hold: registered to
/// another organization or to none (`owners` maps NPI to organization and
/// licence expiry). Sorted, each once.
pub fn npis_not_held(organization: &str, npis: &[String], owners: &HashMap<String, (String, Option<String>)>) -> Vec<String> {
    let mut not_held: Vec<String> = npis.iter().filter(|npi| owners.get(*npi).is_none_or(|(owner, _)| owner != organization)).cloned().collect();
    not_held.sort();
    not_held.dedup();
    not_held
}

/// Decides `command` on `facts`: the events to record, or why the whole command is refused.
pub fn decide(facts: &Facts, command: &Command) -> Result<Vec<Event>, Rejection> {
    match command {
        Command::Submit { channel, today, submitter, billing, candidates } => submit(facts, *channel, *today, submitter, *billing, candidates),
        Command::Adjudicate(decision) => Ok(facts
            .resolve(decision.claim_id)
            .map(|claim_id| Event::StatusChanged {
                claim_id,
                status: ClaimStatus::Adjudicated,
                detail: format!(
                    "{}{}: allowed {}, paid {} (rule set {})",
                    if claim_id == decision.claim_id { String::new() } else { format!("decided again as version {}: ", decision.claim_id) },
                    decision.outcome.as_str(),
                    decision.total_allowed,
                    decision.total_paid,
                    decision.rule_set_hash
                ),
                secondary: false,
            })
            .into_iter()
            .collect()),
        Command::Pend(pended) => Ok(facts
            .claims
            .contains_key(&pended.claim_id)
            .then(|| Event::StatusChanged {
                claim_id: pended.claim_id,
                status: ClaimStatus::Pended,
                detail: format!("pended at {} ({}): {}", pended.step, pended.reason, pended.detail),
                secondary: false,
            })
            .into_iter()
            .collect()),
        // An overturned appeal reverses the claim's own decision before deciding it again: a history step.
        Command::Reverse(reversed) if reversed.by_claim_id == reversed.claim_id => Ok(facts
            .claims
            .get(&reversed.claim_id)
            .map(|status| Event::Noted {
                claim_id: reversed.claim_id,
                status: *status,
                detail: format!("the decision is reversed ({} paid) to be decided again: its appeal was overturned", reversed.total_paid),
            })
            .into_iter()
            .collect()),
        // Adjudication's correction version (a ripple, a reprocessing job): a history step; the claim stays decided.
        Command::Reverse(reversed) if reversed.frequency == Frequency::Replacement && !facts.claims.contains_key(&reversed.by_claim_id) => {
            let Some(claim_id) = facts.resolve(reversed.claim_id) else { return Ok(vec![]) };
            let status = facts.claims[&claim_id];
            let of = if claim_id == reversed.claim_id { String::new() } else { format!(" (of version {})", reversed.claim_id) };
            Ok(vec![
                Event::VersionLearned { version: reversed.by_claim_id, of_claim_id: claim_id },
                Event::Noted {
                    claim_id,
                    status,
                    detail: format!(
                        "the decision{of} is reversed ({} paid) to be decided again as version {}: a correction (a corrected claim of the family or a reprocessing job changed what it reads)",
                        reversed.total_paid, reversed.by_claim_id
                    ),
                },
            ])
        }
        Command::Appeal(appealed) => Ok(facts
            .claims
            .contains_key(&appealed.claim_id)
            .then(|| {
                let lines: Vec<String> = appealed.lines.iter().map(u32::to_string).collect();
                Event::StatusChanged {
                    claim_id: appealed.claim_id,
                    status: ClaimStatus::Appealed,
                    detail: format!("appealed by {} (appeal {}) on line {}: {}", appealed.appellant, appealed.appeal_id, lines.join(", "), appealed.reason),
                    secondary: false,
                }
            })
            .into_iter()
            .collect()),
        Command::DecideAppeal(decided) => Ok(facts
            .claims
            .contains_key(&decided.claim_id)
            .then(|| Event::StatusChanged {
                claim_id: decided.claim_id,
                status: ClaimStatus::Adjudicated,
                detail: format!(
                    "appeal {} {} by {}: {}; paid {} before, {} now",
                    decided.appeal_id, decided.outcome, decided.reviewer, decided.reason, decided.paid_before, decided.paid_after
                ),
                secondary: false,
            })
            .into_iter()
            .collect()),
        Command::Reverse(reversed) => {
            let status = match reversed.frequency {
                Frequency::Void => ClaimStatus::Voided,
                _ => ClaimStatus::Replaced,
            };
            let original_detail = format!("{status} by claim {}; the decision is reversed ({} paid)", reversed.by_claim_id, reversed.total_paid);
            // The standing decision may be a correction version's: the claim intake received is replaced.
            let mut steps = vec![(facts.resolve(reversed.claim_id).unwrap_or(reversed.claim_id), original_detail, false)];
            if reversed.frequency == Frequency::Void {
                steps.push((reversed.by_claim_id, format!("this void reversed claim {} ({} paid)", reversed.claim_id, reversed.total_paid), true));
            }
            Ok(steps
                .into_iter()
                .filter(|(claim_id, ..)| facts.claims.contains_key(claim_id))
                .map(|(claim_id, detail, secondary)| Event::StatusChanged { claim_id, status, detail, secondary })
                .collect())
        }
        Command::Book(booked) => Ok(facts
            .resolve(booked.claim_id)
            .map(|claim_id| Event::Noted {
                claim_id,
                status: facts.claims[&claim_id],
                detail: if claim_id == booked.claim_id {
                    format!("booked in the journal: {} payable to {}", booked.amount, booked.billing_npi)
                } else {
                    format!("booked in the journal: {} payable to {} for version {}", booked.amount, booked.billing_npi, booked.claim_id)
                },
            })
            .into_iter()
            .collect()),
    }
}

/// The billing-scope check, then the registry edits on the claims that the reader and the check passed.
fn submit(facts: &Facts, channel: Channel, today: Date, submitter: &str, billing: Billing, candidates: &[Candidate]) -> Result<Vec<Event>, Rejection> {
    let mut candidates = candidates.to_vec();
    let not_held: &[String] = match billing {
        Billing::AnyNpi => &[],
        Billing::AsOrganization => &facts.not_held,
    };
    match channel {
        Channel::Fhir if !not_held.is_empty() => {
            let billed = billed_npis(&candidates);
            let npis: Vec<String> = not_held.iter().filter(|npi| billed.binary_search(npi).is_ok()).cloned().collect();
            if !npis.is_empty() {
                return Err(Rejection::BillingNpisNotHeld { organization: submitter.to_owned(), npis });
            }
        }
        Channel::Fhir => {}
        Channel::X12 => {
            for candidate in candidates.iter_mut() {
                candidate.issues.extend(edits::billing_npi_issue(channel, submitter, &candidate.read.billing_npi, not_held));
            }
        }
    }
    let to_check: Vec<&SubmittedClaim> = candidates.iter().filter_map(Candidate::accepted).collect();
    let found = edits::issues(&facts.edits, channel, today, submitter, &to_check);
    for (candidate, issues) in candidates.iter_mut().filter(|c| c.accepted().is_some()).zip(found) {
        candidate.issues = issues;
    }
    Ok(candidates.into_iter().map(|candidate| Event::Received(Box::new(candidate))).collect())
}

/// `facts` after `event`: the claim's new status, so that the next event of a batch sees it.
pub fn apply(mut facts: Facts, event: &Event) -> Facts {
    match event {
        Event::Received(candidate) => {
            facts.claims.insert(candidate.claim_id, candidate.status());
        }
        Event::StatusChanged { claim_id, status, .. } => {
            facts.claims.insert(*claim_id, *status);
        }
        Event::VersionLearned { version, of_claim_id } => {
            facts.versions.insert(*version, *of_claim_id);
        }
        Event::Noted { .. } => {}
    }
    facts
}

#[cfg(test)]
mod tests;
