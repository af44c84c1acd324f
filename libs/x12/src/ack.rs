//! Acknowledgments as X12 5010 text, separators `*` `:` `^` `~` and a newline
//! after each segment. Each goes back in its own interchange with sender and
//! receiver swapped (the ISA08 received becomes ISA06) and control numbers
//! taken from the caller's [`ControlNumbers`].
//!
//! - TA1: only for an interchange at fault ([`render_ta1`]) or a duplicate
//!   ([`render_duplicate_ta1`]): TA104 `R` with the TA105 note code.
//! - 999 (005010X231A1): per functional group AK1, per transaction AK2 with
//!   IK3/IK4 for each segment/element at fault and IK5 `A`/`R`, then AK9
//!   `A` (all accepted), `P` (some), `R` (none, or the group at fault, with AK905).
//! - 277CA (005010X214): per accepted 837 transaction, the receiver (2000A),
//!   the submitter with the batch totals (2000B), per billing provider its
//!   totals (2000C) and per claim (2000D) STC `A1:20` with REF*1K carrying the
//!   claim id, or STC `A3|A7:<status>:<entity>` per distinct issue; REF*D9 the
//!   clearinghouse trace (else CLM01); DTP*472 the dates of service. Claims
//!   the caller gives no outcome for are left out.

use std::collections::HashMap;
use std::fmt::Write as _;

use claimtrail_events::{ClaimIssue, Money};
use time::{Date, Time};

use crate::codes::{status, status_category, ta1};
use crate::reader::{Group, Interchange, InterchangeHeader, Reading, Transaction};
use crate::segments::{Isa, Segments, hhmm, name_or, yymmdd};
use crate::text::{clean, d8};
use crate::x12_claim::{ClaimPosition, X12Claim};

/// IK301 for a segment whose id is empty (IK301 is required).
pub const EMPTY_SEGMENT_ID: &str = "ZZZ";

/// At most this many STC segments (distinct reasons) per rejected claim in a 277CA.
pub const STC_PER_CLAIM_MAX: usize = 10;

/// When the acknowledgments are written (the caller's clock; this crate has none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckContext {
    pub date: Date,
    pub time: Time,
}

/// The next control numbers to use; each rendering takes what it needs and
/// advances them, so the caller stores them back. They wrap from 999,999,999 to 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlNumbers {
    /// ISA13 / IEA02.
    pub next_interchange: u32,
    /// GS06 / GE02.
    pub next_group: u32,
    /// ST02 / SE02.
    pub next_transaction: u32,
}

/// The three answers of `POST /v1/claims/x12`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Acknowledgments {
    /// TA1 interchanges for the interchanges at fault, `None` when there is none.
    pub ta1: Option<String>,
    /// 999 interchanges, one per interchange not at fault.
    pub ack_999: Option<String>,
    /// 277CA interchanges for the claims of the accepted transactions given an outcome.
    pub ack_277ca: Option<String>,
}

/// What intake decided for one claim of a [`Reading`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimOutcome {
    pub position: ClaimPosition,
    pub decision: ClaimDecision,
}

impl ClaimOutcome {
    /// `claim` decided as the reader left it: rejected with its issues, else
    /// accepted as `claim_id`. For acknowledgments without intake's registry
    /// edits (examples, tests, the fuzz check).
    pub fn as_read(claim: &X12Claim, claim_id: impl Into<String>) -> ClaimOutcome {
        let decision = if claim.claim.is_rejected() {
            ClaimDecision::Rejected { issues: claim.claim.issues.clone() }
        } else {
            ClaimDecision::Accepted { claim_id: claim_id.into() }
        };
        ClaimOutcome { position: claim.position, decision }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimDecision {
    /// Accepted for adjudication under this claim id (277CA REF*1K).
    Accepted { claim_id: String },
    /// Rejected with these issues (the mapping's and intake's own edits).
    Rejected { issues: Vec<ClaimIssue> },
}

const MAX_CONTROL_NUMBER: u32 = 999_999_999;

impl ControlNumbers {
    pub fn starting_at(first: u32) -> ControlNumbers {
        let first = first.clamp(1, MAX_CONTROL_NUMBER);
        ControlNumbers { next_interchange: first, next_group: first, next_transaction: first }
    }

    fn take(next: &mut u32) -> u32 {
        let taken = (*next).clamp(1, MAX_CONTROL_NUMBER);
        *next = if taken >= MAX_CONTROL_NUMBER { 1 } else { taken + 1 };
        taken
    }
}

/// All the acknowledgments of a body: TA1s, 999s and 277CAs, each kind concatenated.
pub fn render_acknowledgments(reading: &Reading, outcomes: &[ClaimOutcome], context: &AckContext, numbers: &mut ControlNumbers) -> Acknowledgments {
    let mut acknowledgments = Acknowledgments::default();
    for (interchange_idx, interchange) in reading.interchanges.iter().enumerate() {
        append(&mut acknowledgments.ta1, render_ta1(interchange, context, numbers));
        append(&mut acknowledgments.ack_999, render_999(interchange, context, numbers));
        append(&mut acknowledgments.ack_277ca, render_277ca(interchange, interchange_idx, outcomes, context, numbers));
    }
    acknowledgments
}

fn append(all: &mut Option<String>, one: Option<String>) {
    if let Some(one) = one {
        all.get_or_insert_with(String::new).push_str(&one);
    }
}

/// A TA1 rejecting an interchange at fault; `None` when it is not.
pub fn render_ta1(interchange: &Interchange, context: &AckContext, numbers: &mut ControlNumbers) -> Option<String> {
    let fault = interchange.fault.as_ref()?;
    Some(ta1_interchange(interchange.header.as_ref(), fault.note_code, context, numbers))
}

/// A TA1 rejecting an interchange whose ISA13 the sender used before (TA105 `025`).
pub fn render_duplicate_ta1(header: &InterchangeHeader, context: &AckContext, numbers: &mut ControlNumbers) -> String {
    ta1_interchange(Some(header), ta1::DUPLICATE, context, numbers)
}

fn ta1_interchange(header: Option<&InterchangeHeader>, note_code: &str, context: &AckContext, numbers: &mut ControlNumbers) -> String {
    let mut out = Segments::default();
    let control_number = ControlNumbers::take(&mut numbers.next_interchange);
    isa(&mut out, header, context, control_number);
    let received = header.map(|header| header.control_number.as_str()).filter(|number| number.len() == 9 && number.bytes().all(|byte| byte.is_ascii_digit()));
    let date = header.map(|header| header.date.as_str()).filter(|date| crate::text::parse_yymmdd(date).is_some());
    let time = header.map(|header| header.time.as_str()).filter(|time| time.len() == 4 && crate::text::is_hhmm(time));
    let now_date = yymmdd(context.date);
    let now_time = hhmm(context.time);
    out.segment(&["TA1", received.unwrap_or("000000000"), date.unwrap_or(&now_date), time.unwrap_or(&now_time), "R", note_code]);
    out.segment(&["IEA", "0", &format!("{control_number:09}")]);
    out.text
}

/// The 999 of an interchange: one functional group (GS*FA) per group received.
/// `None` when the interchange is at fault (it gets a TA1) or holds no group.
pub fn render_999(interchange: &Interchange, context: &AckContext, numbers: &mut ControlNumbers) -> Option<String> {
    if interchange.fault.is_some() || interchange.groups.is_empty() {
        return None;
    }
    let header = interchange.header.as_ref();
    let mut out = Segments::default();
    let interchange_control = ControlNumbers::take(&mut numbers.next_interchange);
    isa(&mut out, header, context, interchange_control);
    for group in &interchange.groups {
        let group_control = ControlNumbers::take(&mut numbers.next_group);
        gs(&mut out, "FA", group, header, context, group_control, "005010X231A1");
        let transaction_control = format!("{:04}", ControlNumbers::take(&mut numbers.next_transaction));
        out.start_transaction(&["ST", "999", &transaction_control, "005010X231A1"]);
        out.segment(&["AK1", &clean(&group.functional_id, 2), &clean(&group.control_number, 9), &clean(&group.version, 12)]);
        let n_received = group.transactions.len();
        let mut n_accepted = 0;
        if group.fault.is_none() {
            for transaction in &group.transactions {
                n_accepted += usize::from(transaction.is_accepted());
                transaction_response(&mut out, transaction);
            }
        }
        let n_included = group.n_transactions_declared.unwrap_or(n_received);
        let code = match (&group.fault, n_accepted) {
            (Some(_), _) | (None, 0) => "R",
            (None, accepted) if accepted == n_received => "A",
            (None, _) => "P",
        };
        let (n_included, n_received, n_accepted) = (n_included.to_string(), n_received.to_string(), n_accepted.to_string());
        let mut ak9 = vec!["AK9", code, &n_included, &n_received, &n_accepted];
        if let Some(fault) = &group.fault {
            ak9.push(fault.code);
        }
        out.segment(&ak9);
        out.end_transaction(&transaction_control);
        out.segment(&["GE", "1", &group_control.to_string()]);
    }
    out.segment(&["IEA", &interchange.groups.len().to_string(), &format!("{interchange_control:09}")]);
    Some(out.text)
}

fn transaction_response(out: &mut Segments, transaction: &Transaction) {
    out.segment(&["AK2", &clean(&transaction.id, 3), &clean(&transaction.control_number, 9), &clean(&transaction.version, 35)]);
    let fault_segment_error = transaction.fault.as_ref().and_then(|fault| fault.segment_error.as_ref());
    for error in fault_segment_error.into_iter().chain(&transaction.errors) {
        let position = error.position.segment_position.to_string();
        let loop_id =
            error.position.loop_id.filter(|loop_id| loop_id.starts_with(|c: char| c.is_ascii_digit())).map_or(String::new(), |loop_id| clean(loop_id, 4));
        let segment_id = clean(&error.position.segment_id, 3);
        let segment_id = if segment_id.is_empty() { EMPTY_SEGMENT_ID.to_owned() } else { segment_id };
        out.segment(&["IK3", &segment_id, &position, &loop_id, error.code]);
        for element in &error.elements {
            let mut c030 = element.element.to_string();
            if let Some(component) = element.component {
                let _ = write!(c030, ":{component}");
            }
            let bad_value = element.bad_value.as_deref().unwrap_or("");
            out.segment(&["IK4", &c030, "", element.code, bad_value]);
        }
    }
    let in_error = if transaction.errors.is_empty() { "" } else { crate::codes::transaction_error::SEGMENTS_IN_ERROR };
    match &transaction.fault {
        Some(fault) => out.segment(&["IK5", "R", fault.code, in_error]),
        None if transaction.errors.is_empty() => out.segment(&["IK5", "A"]),
        None => out.segment(&["IK5", "R", in_error]),
    }
}

/// The 277CA of an interchange's claims that have an outcome; `None` when there is none.
pub fn render_277ca(
    interchange: &Interchange,
    interchange_index: usize,
    outcomes: &[ClaimOutcome],
    context: &AckContext,
    numbers: &mut ControlNumbers,
) -> Option<String> {
    let decisions: HashMap<ClaimPosition, &ClaimDecision> =
        outcomes.iter().filter(|outcome| outcome.position.interchange == interchange_index).map(|outcome| (outcome.position, &outcome.decision)).collect();
    if decisions.is_empty() || interchange.fault.is_some() {
        return None;
    }
    let header = interchange.header.as_ref();
    let mut out = Segments::default();
    let interchange_control = ControlNumbers::take(&mut numbers.next_interchange);
    let mut n_groups = 0;
    isa(&mut out, header, context, interchange_control);
    for group in &interchange.groups {
        let decided: Vec<(&Transaction, Vec<(&X12Claim, &ClaimDecision)>)> = group
            .transactions
            .iter()
            .map(|transaction| {
                let claims = transaction.claims.iter().filter_map(|claim| decisions.get(&claim.position).map(|decision| (claim, *decision))).collect();
                (transaction, claims)
            })
            .filter(|(_, claims): &(_, Vec<_>)| !claims.is_empty())
            .collect();
        if decided.is_empty() {
            continue;
        }
        n_groups += 1;
        let group_control = ControlNumbers::take(&mut numbers.next_group);
        gs(&mut out, "HN", group, header, context, group_control, "005010X214");
        for (transaction, claims) in &decided {
            claim_acknowledgment(&mut out, transaction, claims, context, numbers);
        }
        out.segment(&["GE", &decided.len().to_string(), &group_control.to_string()]);
    }
    if n_groups == 0 {
        return None;
    }
    out.segment(&["IEA", &n_groups.to_string(), &format!("{interchange_control:09}")]);
    Some(out.text)
}

/// Totals of a set of claims: (accepted count, accepted amount, rejected count, rejected amount).
fn totals(claims: &[&(&X12Claim, &ClaimDecision)]) -> (usize, Money, usize, Money) {
    let mut totals = (0, Money::ZERO, 0, Money::ZERO);
    for (claim, decision) in claims {
        let charge = claim.claim.claim.total_charge;
        if matches!(decision, ClaimDecision::Accepted { .. }) {
            totals.0 += 1;
            totals.1 = totals.1.checked_add(charge).unwrap_or(totals.1);
        } else {
            totals.2 += 1;
            totals.3 = totals.3.checked_add(charge).unwrap_or(totals.3);
        }
    }
    totals
}

fn write_totals(out: &mut Segments, totals: (usize, Money, usize, Money), quantity_codes: (&str, &str)) {
    if totals.0 > 0 {
        out.segment(&["QTY", quantity_codes.0, &totals.0.to_string()]);
    }
    if totals.2 > 0 {
        out.segment(&["QTY", quantity_codes.1, &totals.2.to_string()]);
    }
    if totals.0 > 0 {
        out.segment(&["AMT", "YU", &totals.1.to_string()]);
    }
    if totals.2 > 0 {
        out.segment(&["AMT", "YY", &totals.3.to_string()]);
    }
}

fn claim_acknowledgment(
    out: &mut Segments,
    transaction: &Transaction,
    claims: &[(&X12Claim, &ClaimDecision)],
    context: &AckContext,
    numbers: &mut ControlNumbers,
) {
    let transaction_control = format!("{:04}", ControlNumbers::take(&mut numbers.next_transaction));
    let today = d8(context.date);
    out.start_transaction(&["ST", "277", &transaction_control, "005010X214"]);
    out.segment(&["BHT", "0085", "08", &clean(&transaction.control_number, 30), &today, &hhmm(context.time), "TH"]);
    let Some((first, _)) = claims.first() else { return };
    let all: Vec<&(&X12Claim, &ClaimDecision)> = claims.iter().collect();
    let batch = totals(&all);
    let batch_total = batch.1.checked_add(batch.3).unwrap_or(batch.1);
    // 2000A: the information source, the receiver of the 837.
    out.segment(&["HL", "1", "", "20", "1"]);
    out.segment(&["NM1", "PR", "2", &name_or(&first.receiver.name, "CLAIMTRAIL"), "", "", "", "", "46", &name_or(&first.receiver.id, "CLAIMTRAIL")]);
    out.segment(&["TRN", "1", &clean(&transaction.control_number, 50)]);
    out.segment(&["DTP", "050", "D8", &today]);
    out.segment(&["DTP", "009", "D8", &today]);
    // 2000B: the information receiver, the submitter of the 837.
    out.segment(&["HL", "2", "1", "21", "1"]);
    out.segment(&["NM1", "41", "2", &name_or(&first.submitter.name, "SUBMITTER"), "", "", "", "", "46", &name_or(&first.submitter.id, "UNKNOWN")]);
    out.segment(&["TRN", "2", &clean(&transaction.control_number, 50)]);
    out.segment(&["STC", &format!("{}:{}", status_category::RECEIPT, status::RECEIVED), &today, "WQ", &batch_total.to_string()]);
    write_totals(out, batch, ("90", "AA"));
    // 2000C per billing provider, in order of first appearance.
    let mut providers: Vec<(&str, Vec<&(&X12Claim, &ClaimDecision)>)> = Vec::new();
    for entry in claims {
        let npi = entry.0.billing_provider.id.as_str();
        match providers.iter_mut().find(|(provider, _)| *provider == npi) {
            Some((_, entries)) => entries.push(entry),
            None => providers.push((npi, vec![entry])),
        }
    }
    let mut hl_id = 2;
    for (_, entries) in &providers {
        let Some((provider_claim, _)) = entries.first() else { continue };
        hl_id += 1;
        let provider_hl = hl_id;
        let provider_totals = totals(entries);
        let provider_total = provider_totals.1.checked_add(provider_totals.3).unwrap_or(provider_totals.1);
        out.segment(&["HL", &provider_hl.to_string(), "2", "19", "1"]);
        let provider = &provider_claim.billing_provider;
        out.segment(&["NM1", "85", "2", &name_or(&provider.name, "BILLING PROVIDER"), "", "", "", "", "XX", &name_or(&provider.id, "UNKNOWN")]);
        out.segment(&["TRN", "1", "0"]);
        // 2200C STC02 is not used.
        out.segment(&["STC", &format!("{}:{}", status_category::RECEIPT, status::RECEIVED), "", "WQ", &provider_total.to_string()]);
        write_totals(out, provider_totals, ("QA", "QC"));
        for (claim, decision) in entries {
            hl_id += 1;
            out.segment(&["HL", &hl_id.to_string(), &provider_hl.to_string(), "PT"]);
            let patient = claim.patient_name();
            out.segment(&[
                "NM1",
                "QC",
                "1",
                &name_or(&patient.last, "UNKNOWN"),
                &clean(&patient.first, 35),
                "",
                "",
                "",
                "MI",
                &name_or(&claim.claim.claim.member_id, "UNKNOWN"),
            ]);
            let pcn = claim.claim.claim.patient_control_number.as_deref().unwrap_or("");
            out.segment(&["TRN", "2", &name_or(pcn, "0")]);
            let charge = claim.claim.claim.total_charge.to_string();
            match decision {
                ClaimDecision::Accepted { claim_id } => {
                    out.segment(&["STC", &format!("{}:{}", status_category::RECEIPT, status::ACCEPTED), &today, "WQ", &charge]);
                    out.segment(&["REF", "1K", &clean(claim_id, 50)]);
                }
                ClaimDecision::Rejected { issues } => {
                    let mut reasons: Vec<String> = Vec::new();
                    for issue in issues {
                        let reason = reason_of(issue);
                        if !reasons.contains(&reason) && reasons.len() < STC_PER_CLAIM_MAX {
                            reasons.push(reason);
                        }
                    }
                    if reasons.is_empty() {
                        reasons.push(format!("{}:{}", status_category::UNPROCESSABLE, status::MISSING_OR_INVALID));
                    }
                    for reason in &reasons {
                        out.segment(&["STC", reason, &today, "U", &charge]);
                    }
                }
            }
            let trace = claim.clearinghouse_trace.as_deref().unwrap_or(pcn);
            if !trace.is_empty() {
                out.segment(&["REF", "D9", &clean(trace, 50)]);
            }
            let (start, end) = claim.service_period;
            if start == end {
                out.segment(&["DTP", "472", "D8", &d8(start)]);
            } else {
                out.segment(&["DTP", "472", "RD8", &format!("{}-{}", d8(start), d8(end))]);
            }
        }
    }
    out.end_transaction(&transaction_control);
}

/// STC01 for an issue: the category (A7 for information the claim carries
/// but that is not valid here, A3 otherwise), the claim status code, and the
/// entity when one is to blame (85 billing provider, 82 rendering, IL
/// subscriber, PR payer).
fn reason_of(issue: &ClaimIssue) -> String {
    use crate::issue_code as code;
    let (category, status_code, entity) = match issue.code.as_str() {
        code::ICD9_PRINCIPAL => (status_category::INVALID_INFORMATION, status::PRINCIPAL_DIAGNOSIS, None),
        code::ICD9 => (status_category::INVALID_INFORMATION, status::DIAGNOSIS, None),
        code::ICD9_PROCEDURE => (status_category::INVALID_INFORMATION, status::PROCEDURE_CODE, None),
        code::BILLING_ZIP => (status_category::INVALID_INFORMATION, status::POSTAL_CODE, Some("85")),
        code::BILLING_NPI_NOT_HELD => (status_category::INVALID_INFORMATION, status::NPI, Some("85")),
        other => {
            let (status_code, entity) = match other {
                code::NPI_CHECK_DIGIT if issue.path.starts_with("2010AA") => (status::NPI, Some("85")),
                code::NPI_CHECK_DIGIT => (status::NPI, Some("82")),
                code::ICD10_SHAPE if issue.path.contains("/HI01-") => (status::PRINCIPAL_DIAGNOSIS, None),
                code::ICD10_SHAPE => (status::DIAGNOSIS, None),
                code::PROCEDURE_CODE_SHAPE | code::PROCEDURE_CODE_MISSING => (status::PROCEDURE_CODE, None),
                code::SERVICE_DATE_FUTURE => (status::DATES_OF_SERVICE, None),
                code::TOTAL_MISMATCH => (status::CLAIM_OUT_OF_BALANCE, None),
                code::CHARGE_NEGATIVE => (status::SUBMITTED_CHARGES, None),
                code::RELATED_CLAIM_MISSING => (status::PAYER_CLAIM_CONTROL_NUMBER, None),
                code::FREQUENCY_UNSUPPORTED => (status::CLAIM_FREQUENCY, None),
                "member-unknown" => (status::SUBSCRIBER_NOT_FOUND, Some("IL")),
                "coverage-inactive" => (status::NOT_ELIGIBLE, Some("IL")),
                "provider-not-enrolled" => (status::MISSING_OR_INVALID, Some("85")),
                "provider-licence-expired" => (status::LICENSE, Some("85")),
                "payer-unknown" => (status::INCORRECT_PAYER, Some("PR")),
                "timely-filing" => (status::DATES_OF_SERVICE, None),
                "original-required" | "original-not-found" | "original-mismatch" | "original-not-replaceable" => (status::PAYER_CLAIM_CONTROL_NUMBER, None),
                _ => (status::MISSING_OR_INVALID, None),
            };
            (status_category::UNPROCESSABLE, status_code, entity)
        }
    };
    match entity {
        Some(entity) => format!("{category}:{status_code}:{entity}"),
        None => format!("{category}:{status_code}"),
    }
}

/// An ISA answering `received` (sender and receiver swapped).
fn isa(out: &mut Segments, received: Option<&InterchangeHeader>, context: &AckContext, control_number: u32) {
    let (sender_qualifier, sender_id, receiver_qualifier, receiver_id, test) = match received {
        Some(header) => (
            header.receiver_qualifier.as_str(),
            header.receiver_id.as_str(),
            header.sender_qualifier.as_str(),
            header.sender_id.as_str(),
            header.usage_indicator == "T",
        ),
        None => ("ZZ", "CLAIMTRAIL", "ZZ", "UNKNOWN", false),
    };
    out.isa(&Isa { sender_qualifier, sender_id, receiver_qualifier, receiver_id, date: context.date, time: context.time, control_number, test });
}

fn gs(out: &mut Segments, functional_id: &str, group: &Group, received: Option<&InterchangeHeader>, context: &AckContext, control_number: u32, version: &str) {
    let fallback_sender = received.map_or("CLAIMTRAIL", |header| header.receiver_id.as_str());
    let fallback_receiver = received.map_or("UNKNOWN", |header| header.sender_id.as_str());
    let sender = name_or(&clean(&group.application_receiver, 15), &clean(fallback_sender, 15));
    let receiver = name_or(&clean(&group.application_sender, 15), &clean(fallback_receiver, 15));
    out.segment(&["GS", functional_id, &sender, &receiver, &d8(context.date), &hhmm(context.time), &control_number.to_string(), "X", version]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issue_code;

    fn reason(code: &str, path: &str) -> String {
        reason_of(&ClaimIssue { path: path.to_owned(), code: code.to_owned(), message: String::new() })
    }

    #[test]
    fn each_issue_gets_its_claim_status_code() {
        // A7: rejected for invalid information, the code naming what and, where one is to blame, who (85 billing provider).
        assert_eq!(reason(issue_code::BILLING_NPI_NOT_HELD, "2010AA/NM109"), "A7:562:85");
        assert_eq!(reason(issue_code::BILLING_ZIP, "2010AA/N403"), "A7:500:85");
        assert_eq!(reason(issue_code::ICD9_PRINCIPAL, "2300/HI01-2"), "A7:254");
        assert_eq!(reason(issue_code::ICD9, "2300/HI01-2"), "A7:255");
        assert_eq!(reason(issue_code::ICD9_PROCEDURE, "2300/HI01-2"), "A7:454");
        assert_eq!(reason(issue_code::NPI_CHECK_DIGIT, "2010AA/NM109"), "A3:562:85");
        assert_eq!(reason(issue_code::NPI_CHECK_DIGIT, "2310B/NM109"), "A3:562:82");
        assert_eq!(reason("member-unknown", "2010BA/NM109"), "A3:33:IL");
        assert_eq!(reason("something-new", "2300"), "A3:21");
    }
}
