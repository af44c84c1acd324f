//! [`read`]: a body of one or more interchanges (ISA/IEA), each of functional
//! groups (GS/GE) of 837 transactions (ST/SE), checked envelope by envelope
//! and mapped claim by claim.
//!
//! Envelope checks, and what a failure gives:
//! - ISA: 106 characters with fixed widths, valid separators, ISA01/03/05/07
//!   codes, ISA06/08 not blank, ISA09 date, ISA10 time, ISA12 `00501`, ISA13
//!   nine digits, ISA14 0/1, ISA15 P/T; IEA present, IEA01 = number of GS,
//!   IEA02 = ISA13; nothing but GS..GE between ISA and IEA; ISA13 not repeated
//!   by the same sender in the body: an [`InterchangeFault`] (TA1).
//! - GS01 `HC`, GS08 one of [`VERSIONS_837P`] or
//!   [`VERSIONS_837I`], GE present, GE01 = number of ST,
//!   GE02 = GS06: a [`GroupFault`] (999 AK9 `R`).
//! - ST01 `837`, ST02 unique in the group, ST03 = GS08 (or absent), SE present,
//!   SE01 = number of segments, SE02 = ST02: a [`TransactionFault`] (999 IK5 `R`);
//!   the 837 structure and elements: [`SegmentError`]s (999 IK3/IK4, IK5 `R`).

use std::collections::HashSet;

use claimtrail_events::ClaimType;
use claimtrail_events::FieldError;
use time::Date;

use crate::claim837::{TransactionContext, map_transaction};
use crate::codes::{element_error, group_error, segment_error, ta1, transaction_error};
use crate::lexer::{Cursor, Delimiters, RawSegment, Segment, decode, parse_isa, skip_whitespace};
use crate::position::Position;
use crate::x12_claim::X12Claim;
use crate::{BYTES_PER_FILE_MAX, CLAIMS_PER_FILE_MAX, VERSIONS_837I, VERSIONS_837P};

/// What [`read`] needs besides the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadOptions {
    /// The day the body was received: later dates of service are an issue.
    pub today: Date,
    pub limits: Limits,
}

/// The limits of one body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub bytes_max: usize,
    pub claims_max: usize,
}

impl Limits {
    /// [`BYTES_PER_FILE_MAX`] and [`CLAIMS_PER_FILE_MAX`].
    pub const DEFAULT: Limits = Limits { bytes_max: BYTES_PER_FILE_MAX, claims_max: CLAIMS_PER_FILE_MAX };
}

/// The only ways [`read`] fails: the body as a whole is over a limit (HTTP 413).
/// Every other fault is answered in a TA1 or a 999.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum X12Error {
    #[error("the body has {n_bytes} bytes; at most {bytes_max} are accepted (BYTES_PER_FILE_MAX)")]
    TooLarge { n_bytes: usize, bytes_max: usize },
    #[error("the body has more than {claims_max} claims (CLM segments); at most {claims_max} are accepted in one body (CLAIMS_PER_FILE_MAX)")]
    TooManyClaims { claims_max: usize },
}

/// Everything read from one body, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    pub interchanges: Vec<Interchange>,
}

/// One ISA..IEA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interchange {
    /// `None` when no ISA could be read at all (the body does not start with one).
    pub header: Option<InterchangeHeader>,
    /// Set when the envelope is at fault: answer a TA1; `groups` is then empty.
    pub fault: Option<InterchangeFault>,
    pub groups: Vec<Group>,
}

/// The ISA's fields, trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterchangeHeader {
    /// ISA05.
    pub sender_qualifier: String,
    /// ISA06.
    pub sender_id: String,
    /// ISA07.
    pub receiver_qualifier: String,
    /// ISA08.
    pub receiver_id: String,
    /// ISA09, `YYMMDD` as sent.
    pub date: String,
    /// ISA10, `HHMM` as sent.
    pub time: String,
    /// ISA13, as sent (nine digits when the interchange is not at fault).
    pub control_number: String,
    /// ISA15, `P` or `T`.
    pub usage_indicator: String,
    pub delimiters: Option<Delimiters>,
}

/// Why an interchange is rejected (TA104 `R`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterchangeFault {
    /// TA105, see [`codes::ta1`](crate::codes::ta1).
    pub note_code: &'static str,
    pub position: Position,
    pub message: String,
}

/// One GS..GE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// GS01.
    pub functional_id: String,
    /// GS02.
    pub application_sender: String,
    /// GS03.
    pub application_receiver: String,
    /// GS06.
    pub control_number: String,
    /// GS08.
    pub version: String,
    /// GE01 when it is a number.
    pub n_transactions_declared: Option<usize>,
    /// Set when the group is rejected whole (AK9 `R` with AK905); its transactions are then not mapped.
    pub fault: Option<GroupFault>,
    pub transactions: Vec<Transaction>,
}

/// Why a functional group is rejected whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupFault {
    /// AK905, see [`codes::group_error`](crate::codes::group_error).
    pub code: &'static str,
    pub position: Position,
    pub message: String,
}

/// One ST..SE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// ST01.
    pub id: String,
    /// ST02.
    pub control_number: String,
    /// ST03, or GS08 when absent.
    pub version: String,
    pub claim_type: Option<ClaimType>,
    /// An envelope fault of the transaction (IK5 `R` with this IK502).
    pub fault: Option<TransactionFault>,
    /// Structure and element faults (IK3/IK4); any makes IK5 `R`.
    pub errors: Vec<SegmentError>,
    /// The claims, only when the transaction is accepted.
    pub claims: Vec<X12Claim>,
}

/// A transaction envelope fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionFault {
    /// IK502, see [`codes::transaction_error`](crate::codes::transaction_error).
    pub code: &'static str,
    pub position: Position,
    pub message: String,
    /// Segment and element detail for the 999, when a segment is to blame (ST03).
    pub segment_error: Option<SegmentError>,
}

/// One IK3 loop: a segment at fault, and its IK4 elements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentError {
    /// Segment id, position in the transaction and loop (IK301..IK303).
    pub position: Position,
    /// IK304, see [`codes::segment_error`](crate::codes::segment_error).
    pub code: &'static str,
    pub elements: Vec<ElementError>,
    pub message: String,
}

/// One IK4: an element at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElementError {
    /// IK401-1.
    pub element: u8,
    /// IK401-2.
    pub component: Option<u8>,
    /// IK403, see [`codes::element_error`](crate::codes::element_error).
    pub code: &'static str,
    /// IK404, the value sent (cleaned of separators).
    pub bad_value: Option<String>,
    pub message: String,
}

impl Reading {
    /// Every claim of the accepted transactions, in body order.
    pub fn claims(&self) -> impl Iterator<Item = &X12Claim> {
        self.transactions().flat_map(|transaction| transaction.claims.iter())
    }

    /// The number of claims of the accepted transactions.
    pub fn n_claims(&self) -> usize {
        self.claims().count()
    }

    fn transactions(&self) -> impl Iterator<Item = &Transaction> {
        self.interchanges.iter().flat_map(|interchange| interchange.groups.iter()).flat_map(|group| group.transactions.iter())
    }

    /// True when nothing is at fault anywhere (every envelope and transaction accepted).
    pub fn is_clean(&self) -> bool {
        self.interchanges.iter().all(|interchange| {
            interchange.fault.is_none()
                && interchange.groups.iter().all(|group| group.fault.is_none() && group.transactions.iter().all(Transaction::is_accepted))
        })
    }

    /// Every fault as a path and a message, for a problem's `errors` list.
    pub fn problems(&self) -> Vec<FieldError> {
        let mut problems = Vec::new();
        for interchange in &self.interchanges {
            if let Some(fault) = &interchange.fault {
                problems.push(FieldError::new(fault.position.to_string(), format!("TA1 {}: {}", fault.note_code, fault.message)));
            }
            for group in &interchange.groups {
                if let Some(fault) = &group.fault {
                    problems.push(FieldError::new(fault.position.to_string(), format!("AK9 {}: {}", fault.code, fault.message)));
                }
                for transaction in &group.transactions {
                    if let Some(fault) = &transaction.fault {
                        problems.push(FieldError::new(fault.position.to_string(), format!("IK5 {}: {}", fault.code, fault.message)));
                    }
                    for error in &transaction.errors {
                        if error.elements.is_empty() {
                            problems.push(FieldError::new(error.position.to_string(), error.message.clone()));
                        }
                        for element in &error.elements {
                            let mut position = error.position.clone().element(element.element);
                            position.component = element.component;
                            problems.push(FieldError::new(position.to_string(), element.message.clone()));
                        }
                    }
                }
            }
        }
        problems
    }
}

impl Interchange {
    /// (ISA05, ISA06, ISA13): intake answers [`render_duplicate_ta1`](crate::render_duplicate_ta1)
    /// when it has seen this key before. `None` when the ISA could not be read.
    pub fn duplicate_key(&self) -> Option<(&str, &str, &str)> {
        let header = self.header.as_ref()?;
        Some((&header.sender_qualifier, &header.sender_id, &header.control_number))
    }
}

impl Transaction {
    pub fn is_accepted(&self) -> bool {
        self.fault.is_none() && self.errors.is_empty()
    }
}

/// Reads a body. Fails only when it is over a [`Limits`]; see the module docs for the rest.
pub fn read(input: &[u8], options: &ReadOptions) -> Result<Reading, X12Error> {
    if input.len() > options.limits.bytes_max {
        return Err(X12Error::TooLarge { n_bytes: input.len(), bytes_max: options.limits.bytes_max });
    }
    let text = decode(input);
    let mut reader = Reader { text: &text, options, n_claims: 0, seen: HashSet::new(), interchanges: Vec::new() };
    let mut at = skip_whitespace(&text, 0);
    if at >= text.len() {
        reader.unreadable("the body is empty: an interchange starts with an ISA segment");
    }
    while at < text.len() {
        if !text.get(at..).is_some_and(|rest| rest.starts_with("ISA")) {
            reader.unreadable("expected an ISA segment: an interchange starts with ISA");
            break;
        }
        at = reader.interchange(at)?;
        at = skip_whitespace(&text, at);
    }
    let mut interchanges = reader.interchanges;
    number_claims(&mut interchanges);
    Ok(Reading { interchanges })
}

/// Sets each claim's [`ClaimPosition`](crate::ClaimPosition); drops the claims of groups at fault.
fn number_claims(interchanges: &mut [Interchange]) {
    for (interchange_idx, interchange) in interchanges.iter_mut().enumerate() {
        for (group_idx, group) in interchange.groups.iter_mut().enumerate() {
            let group_at_fault = group.fault.is_some();
            for (transaction_idx, transaction) in group.transactions.iter_mut().enumerate() {
                if group_at_fault {
                    transaction.claims.clear();
                }
                for (claim_idx, claim) in transaction.claims.iter_mut().enumerate() {
                    claim.position = crate::ClaimPosition { interchange: interchange_idx, group: group_idx, transaction: transaction_idx, claim: claim_idx };
                }
            }
        }
    }
}

struct Reader<'t, 'o> {
    text: &'t str,
    options: &'o ReadOptions,
    n_claims: usize,
    /// (ISA05, ISA06, ISA13) of the interchanges read so far.
    seen: HashSet<(String, String, String)>,
    interchanges: Vec<Interchange>,
}

/// How a functional group ended.
enum GroupEnd {
    Ended(Group),
    /// A segment that belongs to no transaction: the interchange's content is invalid.
    Stray(Group, Position),
}

impl<'t> Reader<'t, '_> {
    fn unreadable(&mut self, message: &str) {
        let fault = InterchangeFault { note_code: ta1::CONTROL_STRUCTURE, position: Position::segment(None, "ISA", 0), message: message.to_owned() };
        self.interchanges.push(Interchange { header: None, fault: Some(fault), groups: Vec::new() });
    }

    /// Reads the interchange whose ISA is at `at`; returns where the next one may start.
    fn interchange(&mut self, at: usize) -> Result<usize, X12Error> {
        let isa = match parse_isa(self.text, at) {
            Ok(isa) => isa,
            Err(fault) => {
                let header = fault.fields.map(|fields| header_of(&fields, fault.delimiters));
                let mut position = Position::segment(None, "ISA", 0);
                position.element = fault.element;
                let interchange_fault = InterchangeFault { note_code: fault.note_code, position, message: fault.message };
                self.interchanges.push(Interchange { header, fault: Some(interchange_fault), groups: Vec::new() });
                return Ok(match fault.delimiters {
                    Some(delimiters) => self.skip_to_end(fault.end, delimiters),
                    None => self.text.len(),
                });
            }
        };
        let header = header_of(&isa.fields, Some(isa.delimiters));
        let delimiters = isa.delimiters;
        let mut fault = None;
        let key = (header.sender_qualifier.clone(), header.sender_id.clone(), header.control_number.clone());
        if !self.seen.insert(key) {
            let message = format!("interchange control number {} from this sender repeats an earlier interchange of the body", header.control_number);
            fault = Some(InterchangeFault { note_code: ta1::DUPLICATE, position: Position::segment(None, "ISA", 0).element(13), message });
        }
        let n_claims_before = self.n_claims;
        let mut cursor = Cursor::new(self.text, isa.end, delimiters);
        let mut groups = Vec::new();
        let end = loop {
            let before = cursor.offset();
            let Some(raw) = cursor.next_segment() else {
                let message = "the body ends before the interchange's IEA".to_owned();
                fault = fault.or(Some(InterchangeFault { note_code: ta1::END_OF_FILE, position: Position::segment(None, "IEA", 0), message }));
                break self.text.len();
            };
            match raw.id(&delimiters) {
                "IEA" => {
                    let iea = Segment::split(raw.text, &delimiters, 0);
                    if iea.element(1).parse::<usize>().ok() != Some(groups.len()) {
                        let message = format!("IEA01 is `{}` but the interchange has {} functional groups", iea.element(1), groups.len());
                        fault =
                            fault.or(Some(InterchangeFault { note_code: ta1::GROUP_COUNT, position: Position::segment(None, "IEA", 0).element(1), message }));
                    }
                    if groups.is_empty() {
                        let message = "the interchange holds no functional group (GS..GE): there is nothing to process".to_owned();
                        fault = fault.or(Some(InterchangeFault { note_code: ta1::CONTENT, position: Position::segment(None, "IEA", 0), message }));
                    }
                    if iea.element(2) != header.control_number {
                        let message = format!("IEA02 `{}` is not ISA13 `{}`", iea.element(2), header.control_number);
                        let position = Position::segment(None, "IEA", 0).element(2);
                        fault = fault.or(Some(InterchangeFault { note_code: ta1::CONTROL_NUMBER_MISMATCH, position, message }));
                    }
                    break cursor.offset();
                }
                "ISA" => {
                    let message = "a new ISA starts before this interchange's IEA".to_owned();
                    fault = fault.or(Some(InterchangeFault { note_code: ta1::END_OF_FILE, position: Position::segment(None, "IEA", 0), message }));
                    break before;
                }
                "GS" => match self.group(raw, &mut cursor, delimiters)? {
                    GroupEnd::Ended(group) => groups.push(group),
                    GroupEnd::Stray(group, position) => {
                        groups.push(group);
                        let message = format!("segment {} is outside any transaction set (ST..SE)", position.segment_id);
                        fault = fault.or(Some(InterchangeFault { note_code: ta1::CONTENT, position, message }));
                    }
                },
                other => {
                    let message = format!("segment {} is outside any functional group (GS..GE)", crate::text::clean(other, 3));
                    fault = fault.or(Some(InterchangeFault { note_code: ta1::CONTENT, position: Position::segment(None, other, 0), message }));
                }
            }
        };
        if fault.is_some() {
            groups.clear();
            self.n_claims = n_claims_before;
        }
        self.interchanges.push(Interchange { header: Some(header), fault, groups });
        Ok(end)
    }

    /// After an unreadable ISA: just past the next IEA, or at the next ISA.
    fn skip_to_end(&self, from: usize, delimiters: Delimiters) -> usize {
        let mut cursor = Cursor::new(self.text, from, delimiters);
        loop {
            let before = cursor.offset();
            let Some(raw) = cursor.next_segment() else {
                return self.text.len();
            };
            match raw.id(&delimiters) {
                "IEA" => return cursor.offset(),
                "ISA" => return before,
                _ => {}
            }
        }
    }

    fn group(&mut self, gs_raw: RawSegment<'t>, cursor: &mut Cursor<'t>, delimiters: Delimiters) -> Result<GroupEnd, X12Error> {
        let gs = Segment::split(gs_raw.text, &delimiters, 0);
        let mut group = Group {
            functional_id: gs.element(1).to_owned(),
            application_sender: gs.element(2).to_owned(),
            application_receiver: gs.element(3).to_owned(),
            control_number: gs.element(6).to_owned(),
            version: gs.element(8).to_owned(),
            n_transactions_declared: None,
            fault: None,
            transactions: Vec::new(),
        };
        let gs_position = |element| Position::segment(None, "GS", 0).element(element);
        let claim_type = claim_type_of(&group.version);
        if group.functional_id != "HC" {
            let message = format!("GS01 `{}` is not HC: only health care claims (837) are read", group.functional_id);
            group.fault = Some(GroupFault { code: group_error::NOT_SUPPORTED, position: gs_position(1), message });
        } else if claim_type.is_none() {
            let message =
                format!("GS08 `{}` is not a supported version: {} (837P) or {} (837I)", group.version, VERSIONS_837P.join(", "), VERSIONS_837I.join(", "));
            group.fault = Some(GroupFault { code: group_error::VERSION_NOT_SUPPORTED, position: gs_position(8), message });
        } else if !(1..=9).contains(&group.control_number.len()) || !group.control_number.bytes().all(|byte| byte.is_ascii_digit()) {
            let message = format!("GS06 `{}` is not a group control number (1 to 9 digits)", group.control_number);
            group.fault = Some(GroupFault { code: "6", position: gs_position(6), message });
        }
        let mut control_numbers = HashSet::new();
        loop {
            let before = cursor.offset();
            let Some(raw) = cursor.next_segment() else {
                let message = "the body ends before the group's GE".to_owned();
                group.fault = group.fault.or(Some(GroupFault { code: group_error::TRAILER_MISSING, position: Position::segment(None, "GE", 0), message }));
                return Ok(GroupEnd::Ended(group));
            };
            match raw.id(&delimiters) {
                "ST" => {
                    let map = group.fault.is_none();
                    let transaction = self.transaction(raw, cursor, delimiters, &group, map, &mut control_numbers)?;
                    group.transactions.push(transaction);
                }
                "GE" => {
                    let ge = Segment::split(raw.text, &delimiters, 0);
                    group.n_transactions_declared = ge.element(1).parse().ok();
                    if group.n_transactions_declared != Some(group.transactions.len()) {
                        let message = format!("GE01 is `{}` but the group has {} transaction sets", ge.element(1), group.transactions.len());
                        let fault = GroupFault { code: group_error::TRANSACTION_COUNT, position: Position::segment(None, "GE", 0).element(1), message };
                        group.fault = group.fault.or(Some(fault));
                    }
                    if ge.element(2) != group.control_number {
                        let message = format!("GE02 `{}` is not GS06 `{}`", ge.element(2), group.control_number);
                        let fault = GroupFault { code: group_error::CONTROL_NUMBER_MISMATCH, position: Position::segment(None, "GE", 0).element(2), message };
                        group.fault = group.fault.or(Some(fault));
                    }
                    return Ok(GroupEnd::Ended(group));
                }
                "GS" | "IEA" | "ISA" => {
                    *cursor = Cursor::new(self.text, before, delimiters);
                    let message = "the group has no GE before the next envelope segment".to_owned();
                    group.fault = group.fault.or(Some(GroupFault { code: group_error::TRAILER_MISSING, position: Position::segment(None, "GE", 0), message }));
                    return Ok(GroupEnd::Ended(group));
                }
                other => {
                    let position = Position::segment(None, &crate::text::clean(other, 3), 0);
                    // Read on to the GE so that the interchange's end is found.
                    while let Some(raw) = cursor.next_segment() {
                        if matches!(raw.id(&delimiters), "GE" | "IEA" | "ISA") {
                            *cursor = Cursor::new(self.text, raw.offset, delimiters);
                            break;
                        }
                    }
                    return Ok(GroupEnd::Stray(group, position));
                }
            }
        }
    }

    fn transaction(
        &mut self,
        st_raw: RawSegment<'t>,
        cursor: &mut Cursor<'t>,
        delimiters: Delimiters,
        group: &Group,
        map: bool,
        control_numbers: &mut HashSet<String>,
    ) -> Result<Transaction, X12Error> {
        let st = Segment::split(st_raw.text, &delimiters, 1);
        let version = if st.element(3).is_empty() { group.version.clone() } else { st.element(3).to_owned() };
        let mut transaction = Transaction {
            id: st.element(1).to_owned(),
            control_number: st.element(2).to_owned(),
            version,
            claim_type: claim_type_of(&group.version),
            fault: None,
            errors: Vec::new(),
            claims: Vec::new(),
        };
        let mut body: Vec<RawSegment<'t>> = Vec::new();
        let mut se = None;
        loop {
            let before = cursor.offset();
            let Some(raw) = cursor.next_segment() else {
                break;
            };
            match raw.id(&delimiters) {
                "SE" => {
                    se = Some(Segment::split(raw.text, &delimiters, position_of(body.len() + 2)));
                    break;
                }
                "ST" | "GE" | "GS" | "IEA" | "ISA" => {
                    *cursor = Cursor::new(self.text, before, delimiters);
                    break;
                }
                _ => body.push(raw),
            }
        }
        let fault = |code, position: Position, message: String| Some(TransactionFault { code, position, message, segment_error: None });
        transaction.fault = if transaction.id != "837" {
            fault(transaction_error::NOT_SUPPORTED, Position::segment(None, "ST", 1).element(1), format!("ST01 `{}` is not 837", transaction.id))
        } else if !(4..=9).contains(&transaction.control_number.len()) {
            fault(
                transaction_error::SEGMENTS_IN_ERROR,
                Position::segment(None, "ST", 1).element(2),
                format!("ST02 `{}` is not a control number of 4 to 9 characters", transaction.control_number),
            )
        } else if !control_numbers.insert(transaction.control_number.clone()) {
            let message = format!("ST02 `{}` repeats another transaction set's control number in the group", transaction.control_number);
            fault(transaction_error::CONTROL_NUMBER_NOT_UNIQUE, Position::segment(None, "ST", 1).element(2), message)
        } else if transaction.version != group.version {
            let message = format!("ST03 `{}` is not GS08 `{}`", transaction.version, group.version);
            let position = Position::segment(None, "ST", 1).element(3);
            let segment_error = SegmentError {
                position: Position::segment(None, "ST", 1),
                code: segment_error::HAS_ELEMENT_ERRORS,
                elements: vec![ElementError {
                    element: 3,
                    component: None,
                    code: element_error::INVALID_CODE_VALUE,
                    bad_value: Some(crate::text::clean(&transaction.version, 35)),
                    message: message.clone(),
                }],
                message: message.clone(),
            };
            Some(TransactionFault { code: transaction_error::CONVENTION_NOT_SUPPORTED, position, message, segment_error: Some(segment_error) })
        } else {
            match &se {
                None => fault(
                    transaction_error::TRAILER_MISSING,
                    Position::segment(None, "SE", position_of(body.len() + 2)),
                    "the transaction set has no SE".to_owned(),
                ),
                Some(se) if se.element(1).parse::<usize>().ok() != Some(body.len() + 2) => {
                    let message = format!("SE01 is `{}` but the transaction set has {} segments", se.element(1), body.len() + 2);
                    fault(transaction_error::SEGMENT_COUNT, Position::segment(None, "SE", se.position).element(1), message)
                }
                Some(se) if se.element(2) != transaction.control_number => {
                    let message = format!("SE02 `{}` is not ST02 `{}`", se.element(2), transaction.control_number);
                    fault(transaction_error::CONTROL_NUMBER_MISMATCH, Position::segment(None, "SE", se.position).element(2), message)
                }
                Some(_) => None,
            }
        };
        // The content is read even when only the trailer is wrong, so that the 999 names its errors too.
        let content_readable = transaction.fault.as_ref().is_none_or(|fault| {
            matches!(fault.code, transaction_error::SEGMENT_COUNT | transaction_error::CONTROL_NUMBER_MISMATCH | transaction_error::TRAILER_MISSING)
        });
        if let (true, true, Some(claim_type)) = (map, content_readable, transaction.claim_type) {
            let context = TransactionContext { delimiters, claim_type, today: self.options.today };
            let (claims, errors) = map_transaction(&body, &context);
            self.n_claims += claims.len();
            if self.n_claims > self.options.limits.claims_max {
                return Err(X12Error::TooManyClaims { claims_max: self.options.limits.claims_max });
            }
            transaction.errors = errors;
            if transaction.is_accepted() {
                transaction.claims = claims;
            }
        }
        Ok(transaction)
    }
}

fn position_of(index: usize) -> u32 {
    u32::try_from(index).unwrap_or(u32::MAX)
}

fn claim_type_of(version: &str) -> Option<ClaimType> {
    if VERSIONS_837P.contains(&version) {
        Some(ClaimType::Professional)
    } else if VERSIONS_837I.contains(&version) {
        Some(ClaimType::Institutional)
    } else {
        None
    }
}

fn header_of(fields: &[&str; 16], delimiters: Option<Delimiters>) -> InterchangeHeader {
    InterchangeHeader {
        sender_qualifier: fields[4].trim().to_owned(),
        sender_id: fields[5].trim().to_owned(),
        receiver_qualifier: fields[6].trim().to_owned(),
        receiver_id: fields[7].trim().to_owned(),
        date: fields[8].trim().to_owned(),
        time: fields[9].trim().to_owned(),
        control_number: fields[12].trim().to_owned(),
        usage_indicator: fields[14].trim().to_owned(),
        delimiters,
    }
}
