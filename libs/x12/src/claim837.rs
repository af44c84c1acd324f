//! One 837 transaction (the segments between ST and SE) → claims.
//!
//! Loops are told apart by the segment and where it stands, as the guides
//! define them: the header (BHT, 1000A NM1*41 submitter, 1000B NM1*40
//! receiver), the HL hierarchy (20 billing provider 2000A with 2010AA NM1*85,
//! 22 subscriber 2000B with SBR, 2010BA NM1*IL and 2010BB NM1*PR, 23 patient
//! 2000C with PAT and 2010CA NM1*QC), the claim 2300 (CLM, DTP, REF, HI, its
//! providers 2310, other payers 2320 SBR/AMT/CAS with 2330 NM1), the lines
//! 2400 (LX, SV1 or SV2, DTP*472, 2420 NM1) and other payers' line
//! adjudications 2430 (SVD, CAS, DTP*573).
//!
//! Which field comes from where:
//! - billing NPI: 2010AA NM109 (NM108 `XX`); TIN: 2010AA REF*EI (or SY);
//! - member id: 2010BA NM109 (NM108 `MI` or `II`); payer id: 2010BB NM109;
//! - patient control number CLM01, total charge CLM02, CLM05 = facility code :
//!   qualifier : frequency (1 original, 7 replacement, 8 void);
//! - related claim REF*F8, prior authorization REF*G1, trace REF*D9;
//! - subscriber id (the family's partition key): 2010BA NM109, the member id
//!   (5010 names a dependent patient in 2010CA without an id of its own);
//! - service ZIP: the service facility's N403 (837P 2310C, 837I 2310E NM1*77),
//!   else the billing provider's (2010AA N403); 5 or 9 digits;
//! - 837I: DRG HI*DR (HI01-2), admission date DTP*435 (D8, or the date of a
//!   DT date-time), statement period DTP*434 (RD8 from-to), type of bill
//!   CLM05-1 (facility type and care classification) then CLM05-3 (frequency);
//! - diagnoses: HI ABK (principal) and ABF (others), numbered in order from 1;
//!   BK/BF (ICD-9) are kept but are an issue;
//! - rendering NPI: 2310B (837P) / 2310D (837I) NM1*82 NM109;
//! - 837P line: SV101 `HC:code:mod1..mod4`, SV102 charge, SV104 units, SV105
//!   place of service (else CLM05-1), SV107 pointers, DTP*472 D8 or RD8 (start);
//! - 837I line: SV201 revenue code, SV202 `HC:code:mods`, SV203 charge, SV205
//!   units, DTP*472, else the claim's statement dates (DTP*434); no place of service.
//!
//! Syntax and structure faults become [`SegmentError`]s (the transaction is
//! rejected in the 999); front-end edits become issues on the claim.

use std::collections::HashMap;

use claimtrail_codes::{Carc, GroupCode, Icd10Code, ProcedureCode};
use claimtrail_events::{
    Adjustment, AsRead, ClaimIssue, ClaimType, Coordination, FieldPaths, Frequency, LinePaths, MappedClaim, Money, PayerSequence, PriorLine, PriorPayer,
    SubmittedClaim, edits,
};
use uuid::Uuid;

type ClaimLine = claimtrail_events::ClaimLine<AsRead>;
type Diagnosis = claimtrail_events::Diagnosis<AsRead>;
use rust_decimal::Decimal;
use time::Date;

use crate::codes::{element_error, segment_error};
use crate::lexer::{Delimiters, RawSegment, Segment, component};
use crate::position::Position;
use crate::reader::{ElementError, SegmentError};
use crate::text::{clean, parse_decimal, parse_money, parse_period};
use crate::x12_claim::{ClaimPosition, LineAdjudication, LineDetail, OtherPayer, Party, PersonName, X12Claim};
use crate::{
    ADJUDICATIONS_PER_LINE_MAX, CLAIMS_PER_TRANSACTION_MAX, DIAGNOSES_PER_CLAIM_MAX_837I, DIAGNOSES_PER_CLAIM_MAX_837P, LINES_PER_CLAIM_MAX_837I,
    LINES_PER_CLAIM_MAX_837P, MODIFIERS_PER_LINE_MAX, OTHER_PAYERS_PER_CLAIM_MAX, QUANTITY_MAX, SEGMENT_ERRORS_PER_TRANSACTION_MAX, issue_code,
};

/// True for the segment ids an 837 (5010, and the 4010 ones senders still send) may hold between ST and SE.
fn is_837_segment(id: &str) -> bool {
    matches!(
        id,
        "BHT"
            | "REF"
            | "NM1"
            | "N2"
            | "N3"
            | "N4"
            | "PER"
            | "HL"
            | "PRV"
            | "CUR"
            | "SBR"
            | "PAT"
            | "DMG"
            | "CLM"
            | "DTP"
            | "CL1"
            | "PWK"
            | "CN1"
            | "DN1"
            | "DN2"
            | "AMT"
            | "K3"
            | "NTE"
            | "CR1"
            | "CR2"
            | "CR3"
            | "CR4"
            | "CR5"
            | "CR6"
            | "CR7"
            | "CR8"
            | "CRC"
            | "HI"
            | "HCP"
            | "HSD"
            | "QTY"
            | "MEA"
            | "PS1"
            | "LX"
            | "SV1"
            | "SV2"
            | "SV3"
            | "SV4"
            | "SV5"
            | "SV6"
            | "SV7"
            | "TOO"
            | "LIN"
            | "CTP"
            | "SVD"
            | "CAS"
            | "OI"
            | "MIA"
            | "MOA"
            | "LQ"
            | "FRM"
            | "UR"
    )
}

/// A location in the claim being read, cheap to copy; written as a [`Position`] only for an issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Loc {
    loop_id: &'static str,
    line: Option<u32>,
    segment_id: &'static str,
    segment_position: u32,
    element: u8,
    component: Option<u8>,
}

impl Loc {
    fn new(loop_id: &'static str, line: Option<u32>, segment_id: &'static str, segment_position: u32) -> Loc {
        Loc { loop_id, line, segment_id, segment_position, element: 0, component: None }
    }

    fn element(self, element: u8) -> Loc {
        Loc { element, component: None, ..self }
    }

    fn component(self, component: u8) -> Loc {
        Loc { component: Some(component), ..self }
    }

    fn path(&self) -> String {
        let mut position = Position::segment(Some(self.loop_id), self.segment_id, self.segment_position).line(self.line);
        if self.element > 0 {
            position = position.element(self.element);
            position.component = self.component;
        }
        position.to_string()
    }
}

/// What a transaction's claims need from its envelope.
pub(crate) struct TransactionContext {
    pub delimiters: Delimiters,
    pub claim_type: ClaimType,
    pub today: Date,
}

/// Maps the segments between ST and SE. Claims come with positions whose
/// envelope indexes are 0 (the reader sets them).
pub(crate) fn map_transaction(body: &[RawSegment<'_>], context: &TransactionContext) -> (Vec<X12Claim>, Vec<SegmentError>) {
    let mut mapper = Mapper::new(context);
    let mut last_position = 1;
    let mut segment = Segment { elements: Vec::with_capacity(24), position: 0 };
    for (idx, raw) in body.iter().enumerate() {
        let position = u32::try_from(idx + 2).unwrap_or(u32::MAX);
        last_position = position;
        segment.refill(raw.text, &context.delimiters, position);
        if idx == 0 && segment.id() != "BHT" {
            mapper.missing("BHT", position, None, "the transaction set starts with BHT");
        }
        if idx == 0 && segment.id() == "BHT" && segment.element(1) != "0019" {
            mapper.element_error(&segment, 1, None, element_error::INVALID_CODE_VALUE, "BHT01 is 0019 (information source, subscriber, dependent)".to_owned());
        }
        mapper.segment(&segment);
        if mapper.errors.len() >= SEGMENT_ERRORS_PER_TRANSACTION_MAX {
            break;
        }
    }
    mapper.finish(last_position.saturating_add(1));
    if mapper.errors.is_empty() && mapper.claims.is_empty() {
        mapper.missing("CLM", last_position.saturating_add(1), Some("2300"), "the transaction set has no claim (CLM)");
    }
    (mapper.claims, mapper.errors)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Header,
    BillingProvider,
    Subscriber,
    Patient,
}

#[derive(Default)]
struct BillingProvider {
    party: Option<Party>,
    tin: Option<String>,
    has_n3: bool,
    has_n4: bool,
    /// The ZIP code (N403) and country (N404) of the N4.
    postal: (String, String),
}

#[derive(Default, Clone)]
struct Subscriber {
    hl_id: String,
    has_sbr: bool,
    /// 2000B SBR01: this payer's place in coordination of benefits (P, S, T, ...).
    responsibility: String,
    name: Option<PersonName>,
    member_id: Option<String>,
    payer: Option<Party>,
}

#[derive(Default)]
struct Patient {
    has_pat: bool,
    name: Option<PersonName>,
}

/// A claim being read.
struct ClaimDraft {
    clm_position: u32,
    /// An element of the claim is at fault: the transaction is rejected, no claim is built.
    broken: bool,
    patient_control_number: String,
    total_charge: Money,
    facility_code: String,
    frequency_code: String,
    statement_period: Option<(Date, Date)>,
    onset_date: Option<Date>,
    related_claim_id: Option<String>,
    prior_authorization: Option<String>,
    clearinghouse_trace: Option<String>,
    has_principal: bool,
    /// An HI of the claim is at fault (reported where it stands, so the claim is not also missing one).
    hi_at_fault: bool,
    n_hi_diagnosis_segments: usize,
    diagnoses: Vec<Diagnosis>,
    /// Where each diagnosis code was read.
    diagnosis_paths: Vec<String>,
    /// Issues found while reading (diagnoses, rendering NPI), before the line and total edits.
    issues: Vec<ClaimIssue>,
    rendering_npi: Option<String>,
    /// `2310B/NM109` or `2310D/NM109`.
    rendering_path: String,
    /// The service facility's N403 (2310C on an 837P, 2310E on an 837I).
    facility_zip: Option<String>,
    /// 837I HI*DR.
    drg: Option<String>,
    /// 837I DTP*435.
    admission_date: Option<Date>,
    other_payers: Vec<OtherPayer>,
    in_other_payer: bool,
    lines: Vec<LineDraft>,
    line_adjudications: Vec<LineAdjudication>,
    in_adjudication: bool,
    /// Past the line limit: the segments of the lines beyond it are not read (one error says so).
    over_line_limit: bool,
}

struct LineDraft {
    number: u32,
    has_service: bool,
    procedure_code: String,
    procedure_position: Loc,
    modifiers: Vec<String>,
    quantity: Decimal,
    quantity_position: Loc,
    charge: Money,
    charge_position: Loc,
    place_of_service: Option<String>,
    pointers: Vec<(u32, Loc)>,
    revenue_code: Option<String>,
    service: Option<(Date, Date, Loc)>,
}

struct Mapper<'c> {
    context: &'c TransactionContext,
    errors: Vec<SegmentError>,
    /// The loop of the segment being read.
    loop_id: &'static str,
    level: Level,
    submitter: Option<Party>,
    receiver: Option<Party>,
    /// HL01 → HL03 of the HLs read.
    hl_levels: HashMap<u64, &'static str>,
    last_hl_id: u64,
    billing: Option<BillingProvider>,
    subscriber: Option<Subscriber>,
    patient: Option<Patient>,
    /// (N3 seen, N4 seen) in the current name loop.
    address: (bool, bool),
    claim: Option<ClaimDraft>,
    n_claims: usize,
    claims: Vec<X12Claim>,
}

impl<'c> Mapper<'c> {
    fn new(context: &'c TransactionContext) -> Mapper<'c> {
        Mapper {
            context,
            errors: Vec::new(),
            loop_id: "HEADER",
            level: Level::Header,
            submitter: None,
            receiver: None,
            hl_levels: HashMap::new(),
            last_hl_id: 0,
            billing: None,
            subscriber: None,
            patient: None,
            address: (false, false),
            claim: None,
            n_claims: 0,
            claims: Vec::new(),
        }
    }

    fn is_professional(&self) -> bool {
        self.context.claim_type == ClaimType::Professional
    }

    fn component<'s>(&self, composite: &'s str, index: usize) -> &'s str {
        component(composite, index, &self.context.delimiters)
    }

    // ----- errors -----

    fn push_error(&mut self, error: SegmentError) {
        if self.errors.len() < SEGMENT_ERRORS_PER_TRANSACTION_MAX {
            self.errors.push(error);
        }
    }

    fn here(&self, segment: &Segment<'_>) -> Position {
        Position::segment(Some(self.loop_id), segment.id(), segment.position).line(self.current_line())
    }

    fn current_line(&self) -> Option<u32> {
        if self.loop_id.starts_with("24") { self.claim.as_ref().and_then(|claim| claim.lines.last()).map(|line| line.number) } else { None }
    }

    fn segment_error(&mut self, segment: &Segment<'_>, code: &'static str, message: String) {
        let position = self.here(segment);
        self.mark_broken();
        self.push_error(SegmentError { position, code, elements: Vec::new(), message });
    }

    fn missing(&mut self, segment_id: &str, at_position: u32, loop_id: Option<&'static str>, message: &str) {
        self.mark_broken();
        let position = Position::segment(loop_id, segment_id, at_position);
        self.push_error(SegmentError { position, code: segment_error::REQUIRED_SEGMENT_MISSING, elements: Vec::new(), message: message.to_owned() });
    }

    fn element_error(&mut self, segment: &Segment<'_>, element: u8, component: Option<u8>, code: &'static str, message: String) {
        self.mark_broken();
        let mut position = self.here(segment).element(element);
        position.component = component;
        let bad = segment.element(usize::from(element));
        let bad_value = if bad.is_empty() {
            None
        } else {
            let value = component.map_or(bad, |index| self.component(bad, usize::from(index)));
            Some(clean(value, 99)).filter(|value| !value.is_empty())
        };
        let message = format!("{position}: {message}");
        let error = ElementError { element, component, code, bad_value, message: message.clone() };
        if let Some(last) = self.errors.last_mut()
            && last.position.segment_position == segment.position
            && last.code == segment_error::HAS_ELEMENT_ERRORS
        {
            last.elements.push(error);
            return;
        }
        let segment_position = Position::segment(Some(self.loop_id), segment.id(), segment.position).line(self.current_line());
        self.push_error(SegmentError { position: segment_position, code: segment_error::HAS_ELEMENT_ERRORS, elements: vec![error], message });
    }

    fn mark_broken(&mut self) {
        if let Some(claim) = &mut self.claim {
            claim.broken = true;
        }
    }

    /// Element `index`, reporting it when empty.
    fn required<'s>(&mut self, segment: &Segment<'s>, index: u8, what: &str) -> Option<&'s str> {
        let value = segment.element(usize::from(index));
        if value.is_empty() {
            self.element_error(segment, index, None, element_error::REQUIRED_MISSING, format!("{what} is required"));
            return None;
        }
        Some(value)
    }

    fn money(&mut self, segment: &Segment<'_>, index: u8, what: &str) -> Option<Money> {
        let text = self.required(segment, index, what)?;
        match parse_money(text) {
            Ok(money) => Some(money),
            Err(code) => {
                self.element_error(segment, index, None, code, format!("`{}` is not an amount in dollars and cents", clean(text, 20)));
                None
            }
        }
    }

    // ----- dispatch -----

    fn segment(&mut self, segment: &Segment<'_>) {
        let id = segment.id();
        let id_ok = (2..=3).contains(&id.len())
            && id.bytes().next().is_some_and(|byte| byte.is_ascii_uppercase())
            && id.bytes().all(|byte| byte.is_ascii_uppercase() || byte.is_ascii_digit());
        if !id_ok {
            self.segment_error(segment, segment_error::UNRECOGNIZED_SEGMENT_ID, format!("`{}` is not a segment id", clean(id, 10)));
            return;
        }
        if !is_837_segment(id) {
            self.segment_error(segment, segment_error::NOT_IN_TRANSACTION_SET, format!("segment {id} is not part of an 837"));
            return;
        }
        match id {
            "HL" => self.hl(segment),
            "NM1" => self.nm1(segment),
            "N3" | "N4" => self.address_line(segment),
            "REF" => self.reference(segment),
            "SBR" => self.sbr(segment),
            "PAT" => self.pat(segment),
            "CLM" => self.clm(segment),
            "DTP" => self.dtp(segment),
            "HI" => self.hi(segment),
            "LX" => self.lx(segment),
            "SV1" => self.sv1(segment),
            "SV2" => self.sv2(segment),
            "SVD" => self.svd(segment),
            "CAS" => self.cas(segment),
            "AMT" => self.amt(segment),
            _ => {}
        }
    }

    // ----- hierarchy -----

    fn hl(&mut self, segment: &Segment<'_>) {
        self.finish_claim(segment.position);
        self.finish_level(segment.position);
        self.loop_id = match segment.element(3) {
            "20" => "2000A",
            "22" => "2000B",
            "23" => "2000C",
            _ => self.loop_id,
        };
        let id = segment.element(1);
        let parent = segment.element(2);
        let level = segment.element(3);
        match id.parse::<u64>() {
            Ok(number) if number > self.last_hl_id => self.last_hl_id = number,
            Ok(_) => self.element_error(
                segment,
                1,
                None,
                element_error::INVALID_CODE_VALUE,
                format!("HL01 {id} does not follow the previous HL, {}", self.last_hl_id),
            ),
            Err(_) => self.element_error(segment, 1, None, element_error::INVALID_CHARACTER, "HL01 is a number".to_owned()),
        }
        let expected_parent = match level {
            "20" => None,
            "22" => Some("20"),
            "23" => Some("22"),
            _ => {
                self.element_error(
                    segment,
                    3,
                    None,
                    element_error::INVALID_CODE_VALUE,
                    "HL03 is 20 (billing provider), 22 (subscriber) or 23 (patient)".to_owned(),
                );
                return;
            }
        };
        match expected_parent {
            None if !parent.is_empty() => {
                self.element_error(segment, 2, None, element_error::INVALID_CODE_VALUE, "a billing provider HL (20) has no parent".to_owned());
            }
            Some(expected) if parent.parse::<u64>().ok().and_then(|parent| self.hl_levels.get(&parent)).copied() != Some(expected) => {
                let message = format!("HL02 `{}` does not name a preceding HL of level {expected}", clean(parent, 12));
                self.element_error(segment, 2, None, element_error::INVALID_CODE_VALUE, message);
            }
            _ => {}
        }
        if let Ok(number) = id.parse::<u64>() {
            self.hl_levels.insert(
                number,
                if level == "20" {
                    "20"
                } else if level == "22" {
                    "22"
                } else {
                    "23"
                },
            );
        }
        match level {
            "20" => {
                self.level = Level::BillingProvider;
                self.billing = Some(BillingProvider::default());
                self.subscriber = None;
                self.patient = None;
            }
            "22" => {
                self.level = Level::Subscriber;
                self.subscriber = Some(Subscriber { hl_id: id.to_owned(), ..Subscriber::default() });
                self.patient = None;
                if self.billing.is_none() {
                    self.segment_error(
                        segment,
                        segment_error::UNEXPECTED_SEGMENT,
                        "a subscriber HL (22) needs a billing provider HL (20) before it".to_owned(),
                    );
                }
            }
            _ => {
                self.level = Level::Patient;
                self.patient = Some(Patient::default());
                if self.subscriber.as_ref().is_none_or(|subscriber| subscriber.hl_id != parent) {
                    self.segment_error(segment, segment_error::UNEXPECTED_SEGMENT, "a patient HL (23) follows its subscriber HL (22)".to_owned());
                }
            }
        }
    }

    /// Checks the required parts of the HL level being left.
    fn finish_level(&mut self, at_position: u32) {
        match self.level {
            Level::Header => {
                if self.submitter.is_none() {
                    self.missing("NM1", at_position, Some("1000A"), "the submitter (1000A NM1*41) is required");
                }
                if self.receiver.is_none() {
                    self.missing("NM1", at_position, Some("1000B"), "the receiver (1000B NM1*40) is required");
                }
            }
            Level::BillingProvider => {
                let Some(billing) = &self.billing else { return };
                let (has_party, has_n3, has_n4, has_tin) = (billing.party.is_some(), billing.has_n3, billing.has_n4, billing.tin.is_some());
                if !has_party {
                    self.missing("NM1", at_position, Some("2010AA"), "the billing provider (2010AA NM1*85) is required");
                } else {
                    if !has_n3 {
                        self.missing("N3", at_position, Some("2010AA"), "the billing provider's address (N3) is required");
                    }
                    if !has_n4 {
                        self.missing("N4", at_position, Some("2010AA"), "the billing provider's city, state and ZIP (N4) are required");
                    }
                    if !has_tin {
                        self.missing("REF", at_position, Some("2010AA"), "the billing provider's tax id (REF*EI or REF*SY) is required");
                    }
                }
            }
            Level::Subscriber => {
                let Some(subscriber) = &self.subscriber else { return };
                let (has_sbr, has_name, has_payer) = (subscriber.has_sbr, subscriber.name.is_some(), subscriber.payer.is_some());
                if !has_sbr {
                    self.missing("SBR", at_position, Some("2000B"), "the subscriber information (SBR) is required");
                }
                if !has_name {
                    self.missing("NM1", at_position, Some("2010BA"), "the subscriber (2010BA NM1*IL) is required");
                }
                if !has_payer {
                    self.missing("NM1", at_position, Some("2010BB"), "the payer (2010BB NM1*PR) is required");
                }
            }
            Level::Patient => {
                let Some(patient) = &self.patient else { return };
                let (has_pat, has_name) = (patient.has_pat, patient.name.is_some());
                if !has_pat {
                    self.missing("PAT", at_position, Some("2000C"), "the patient information (PAT) is required");
                }
                if !has_name {
                    self.missing("NM1", at_position, Some("2010CA"), "the patient (2010CA NM1*QC) is required");
                }
            }
        }
    }

    // ----- names -----

    fn nm1(&mut self, segment: &Segment<'_>) {
        self.address = (false, false);
        let entity = segment.element(1);
        if entity.is_empty() {
            self.required(segment, 1, "NM101, the entity identifier code,");
            return;
        }
        if !matches!(segment.element(2), "1" | "2") {
            if segment.element(2).is_empty() {
                self.required(segment, 2, "NM102, the entity type (1 person, 2 organization),");
            } else {
                self.element_error(segment, 2, None, element_error::INVALID_CODE_VALUE, "NM102 is 1 (person) or 2 (organization)".to_owned());
            }
        }
        if self.claim.is_some() {
            self.claim_nm1(segment, entity);
            return;
        }
        match (self.level, entity) {
            (Level::Header, "41") => {
                self.loop_id = "1000A";
                self.submitter = Some(Party { name: segment.element(3).to_owned(), id: segment.element(9).to_owned() });
            }
            (Level::Header, "40") => {
                self.loop_id = "1000B";
                self.receiver = Some(Party { name: segment.element(3).to_owned(), id: segment.element(9).to_owned() });
            }
            (Level::BillingProvider, "85") => {
                self.loop_id = "2010AA";
                if self.billing.as_ref().is_some_and(|billing| billing.party.is_some()) {
                    self.segment_error(segment, segment_error::LOOP_OVER_MAXIMUM, "the billing provider loop (2010AA) occurs once per HL".to_owned());
                    return;
                }
                if segment.element(8) != "XX" {
                    self.element_error(segment, 8, None, element_error::INVALID_CODE_VALUE, "the billing provider is named by its NPI: NM108 is XX".to_owned());
                }
                let npi = self.required(segment, 9, "NM109, the billing provider's NPI,").unwrap_or_default();
                let party = Party { name: segment.element(3).to_owned(), id: npi.to_owned() };
                if let Some(billing) = &mut self.billing {
                    billing.party = Some(party);
                }
            }
            (Level::BillingProvider, "87") => self.loop_id = "2010AB",
            (Level::BillingProvider, "PE") => self.loop_id = "2010AC",
            (Level::Subscriber, "IL") => {
                self.loop_id = "2010BA";
                if self.subscriber.as_ref().is_some_and(|subscriber| subscriber.name.is_some()) {
                    self.segment_error(segment, segment_error::LOOP_OVER_MAXIMUM, "the subscriber loop (2010BA) occurs once per HL".to_owned());
                    return;
                }
                if !matches!(segment.element(8), "MI" | "II") {
                    self.element_error(
                        segment,
                        8,
                        None,
                        element_error::INVALID_CODE_VALUE,
                        "the subscriber is named by member id: NM108 is MI (or II)".to_owned(),
                    );
                }
                self.required(segment, 3, "NM103, the subscriber's last name,");
                let member_id = self.required(segment, 9, "NM109, the member id,").unwrap_or_default().to_owned();
                let name = person(segment);
                if let Some(subscriber) = &mut self.subscriber {
                    subscriber.name = Some(name);
                    subscriber.member_id = Some(member_id);
                }
            }
            (Level::Subscriber, "PR") => {
                self.loop_id = "2010BB";
                if self.subscriber.as_ref().is_some_and(|subscriber| subscriber.payer.is_some()) {
                    self.segment_error(segment, segment_error::LOOP_OVER_MAXIMUM, "the payer loop (2010BB) occurs once per HL".to_owned());
                    return;
                }
                let payer_id = self.required(segment, 9, "NM109, the payer id,").unwrap_or_default();
                let payer = Party { name: segment.element(3).to_owned(), id: payer_id.to_owned() };
                if let Some(subscriber) = &mut self.subscriber {
                    subscriber.payer = Some(payer);
                }
            }
            (Level::Patient, "QC") => {
                self.loop_id = "2010CA";
                if self.patient.as_ref().is_some_and(|patient| patient.name.is_some()) {
                    self.segment_error(segment, segment_error::LOOP_OVER_MAXIMUM, "the patient loop (2010CA) occurs once per HL".to_owned());
                    return;
                }
                self.required(segment, 3, "NM103, the patient's last name,");
                let name = person(segment);
                if let Some(patient) = &mut self.patient {
                    patient.name = Some(name);
                }
            }
            _ => {
                let message = format!("NM1*{} is not expected in loop {}", clean(entity, 3), self.loop_id);
                self.element_error(segment, 1, None, element_error::INVALID_CODE_VALUE, message);
            }
        }
    }

    fn claim_nm1(&mut self, segment: &Segment<'_>, entity: &str) {
        let professional = self.is_professional();
        let Some(claim) = &mut self.claim else { return };
        if !claim.lines.is_empty() {
            self.loop_id = "2420";
            return;
        }
        if claim.in_other_payer {
            self.loop_id = match entity {
                "IL" => "2330A",
                "PR" => "2330B",
                _ => "2330",
            };
            match entity {
                "IL" => {
                    if let Some(payer) = claim.other_payers.last_mut() {
                        payer.member_id = Some(segment.element(9).to_owned());
                    }
                }
                "PR" => {
                    if let Some(payer) = claim.other_payers.last_mut() {
                        payer.payer_id = segment.element(9).to_owned();
                        payer.payer_name = segment.element(3).to_owned();
                    }
                    if segment.element(9).is_empty() {
                        self.required(segment, 9, "NM109, the other payer's id,");
                    }
                }
                _ => {}
            }
            return;
        }
        let (loop_id, rendering) = match (professional, entity) {
            (true, "DN") => ("2310A", false),
            (true, "82") => ("2310B", true),
            (true, "77") => ("2310C", false),
            (true, "DQ") => ("2310D", false),
            (true, "PW") => ("2310E", false),
            (true, "45") => ("2310F", false),
            (false, "71") => ("2310A", false),
            (false, "72") => ("2310B", false),
            (false, "ZZ") => ("2310C", false),
            (false, "82") => ("2310D", true),
            (false, "77") => ("2310E", false),
            (false, "DN") => ("2310F", false),
            _ => {
                let message = format!("NM1*{} is not a claim-level provider of an {}", clean(entity, 3), if professional { "837P" } else { "837I" });
                self.element_error(segment, 1, None, element_error::INVALID_CODE_VALUE, message);
                return;
            }
        };
        self.loop_id = loop_id;
        if rendering {
            let npi = segment.element(9);
            if segment.element(8) != "XX" || npi.is_empty() {
                self.element_error(segment, 8, None, element_error::INVALID_CODE_VALUE, "the rendering provider is named by its NPI: NM108 is XX".to_owned());
                return;
            }
            if let Some(claim) = &mut self.claim {
                if !npi_is_valid(npi) {
                    claim.issues.extend(edits::npi(npi, &format!("{loop_id}/NM109")));
                }
                claim.rendering_npi = Some(npi.to_owned());
                claim.rendering_path = format!("{loop_id}/NM109");
            }
        }
    }

    fn address_line(&mut self, segment: &Segment<'_>) {
        let is_n3 = segment.id() == "N3";
        if is_n3 && self.address.1 {
            self.segment_error(segment, segment_error::OUT_OF_SEQUENCE, "N3 (address) comes before N4 (city, state, ZIP)".to_owned());
            return;
        }
        if (is_n3 && self.address.0) || (!is_n3 && self.address.1) {
            self.segment_error(segment, segment_error::SEGMENT_OVER_MAXIMUM_USE, format!("{} occurs once per name loop", segment.id()));
            return;
        }
        if is_n3 {
            self.address.0 = true;
        } else {
            self.address.1 = true;
        }
        let facility_loop = if self.is_professional() { "2310C" } else { "2310E" };
        if !is_n3
            && self.loop_id == facility_loop
            && let Some(claim) = &mut self.claim
        {
            claim.facility_zip = Some(segment.element(3).to_owned());
        }
        if self.loop_id == "2010AA"
            && let Some(billing) = &mut self.billing
        {
            if is_n3 {
                billing.has_n3 = true;
            } else {
                billing.has_n4 = true;
                billing.postal = (segment.element(3).to_owned(), segment.element(4).to_owned());
            }
        }
    }

    fn reference(&mut self, segment: &Segment<'_>) {
        let qualifier = segment.element(1);
        if qualifier.is_empty() {
            self.required(segment, 1, "REF01, the reference qualifier,");
            return;
        }
        if segment.element(2).is_empty() {
            self.required(segment, 2, "REF02, the reference,");
            return;
        }
        let value = segment.element(2).to_owned();
        if self.loop_id == "2010AA" && matches!(qualifier, "EI" | "SY") {
            if self.billing.as_ref().is_some_and(|billing| billing.tin.is_some()) {
                self.segment_error(segment, segment_error::SEGMENT_OVER_MAXIMUM_USE, "the billing provider's tax id (REF*EI/SY) occurs once".to_owned());
            } else if let Some(billing) = &mut self.billing {
                billing.tin = Some(value);
            }
            return;
        }
        if self.loop_id != "2300" {
            return;
        }
        let Some(claim) = &mut self.claim else { return };
        let slot = match qualifier {
            "F8" => &mut claim.related_claim_id,
            "G1" => &mut claim.prior_authorization,
            "D9" => &mut claim.clearinghouse_trace,
            _ => return,
        };
        if slot.is_some() {
            self.segment_error(segment, segment_error::SEGMENT_OVER_MAXIMUM_USE, format!("REF*{qualifier} occurs once per claim"));
            return;
        }
        *slot = Some(value);
    }

    fn sbr(&mut self, segment: &Segment<'_>) {
        if segment.element(1).is_empty() {
            self.required(segment, 1, "SBR01, the payer responsibility sequence,");
        }
        let Some(claim) = &mut self.claim else {
            match (self.level, &mut self.subscriber) {
                (Level::Subscriber, Some(subscriber)) if !subscriber.has_sbr => {
                    subscriber.has_sbr = true;
                    subscriber.responsibility = segment.element(1).to_owned();
                }
                (Level::Subscriber, Some(_)) => {
                    self.segment_error(segment, segment_error::SEGMENT_OVER_MAXIMUM_USE, "SBR occurs once per subscriber HL".to_owned());
                }
                _ => self.segment_error(
                    segment,
                    segment_error::UNEXPECTED_SEGMENT,
                    "SBR belongs to a subscriber HL (22) or a claim's other payer (2320)".to_owned(),
                ),
            }
            return;
        };
        if !claim.lines.is_empty() {
            self.segment_error(segment, segment_error::OUT_OF_SEQUENCE, "other payers (2320 SBR) come before the service lines".to_owned());
            return;
        }
        if claim.other_payers.len() >= OTHER_PAYERS_PER_CLAIM_MAX {
            let message = format!("at most {OTHER_PAYERS_PER_CLAIM_MAX} other payers (2320) per claim (OTHER_PAYERS_PER_CLAIM_MAX)");
            self.segment_error(segment, segment_error::LOOP_OVER_MAXIMUM, message);
            return;
        }
        claim.in_other_payer = true;
        claim.other_payers.push(OtherPayer {
            responsibility: segment.element(1).to_owned(),
            payer_id: String::new(),
            payer_name: String::new(),
            member_id: None,
            paid: None,
            adjustments: Vec::new(),
        });
        self.loop_id = "2320";
    }

    fn pat(&mut self, segment: &Segment<'_>) {
        match (&mut self.patient, &self.claim) {
            (Some(patient), None) if !patient.has_pat => patient.has_pat = true,
            (Some(_), None) => self.segment_error(segment, segment_error::SEGMENT_OVER_MAXIMUM_USE, "PAT occurs once per patient HL".to_owned()),
            // PAT in 2000B (patient is the subscriber, with a death date or weight) is allowed.
            (None, None) if self.level == Level::Subscriber => {}
            _ => self.segment_error(segment, segment_error::UNEXPECTED_SEGMENT, "PAT belongs to a patient HL (23)".to_owned()),
        }
    }

    // ----- claim -----

    fn clm(&mut self, segment: &Segment<'_>) {
        self.finish_claim(segment.position);
        self.loop_id = "2300";
        self.address = (false, false);
        let under_subscriber_or_patient = match self.level {
            Level::Subscriber => true,
            Level::Patient => true,
            Level::Header | Level::BillingProvider => false,
        };
        self.claim = Some(ClaimDraft {
            clm_position: segment.position,
            broken: false,
            patient_control_number: segment.element(1).to_owned(),
            total_charge: Money::ZERO,
            facility_code: String::new(),
            frequency_code: String::new(),
            statement_period: None,
            onset_date: None,
            related_claim_id: None,
            prior_authorization: None,
            clearinghouse_trace: None,
            has_principal: false,
            hi_at_fault: false,
            n_hi_diagnosis_segments: 0,
            diagnoses: Vec::new(),
            diagnosis_paths: Vec::new(),
            issues: Vec::new(),
            rendering_npi: None,
            rendering_path: String::new(),
            facility_zip: None,
            drg: None,
            admission_date: None,
            other_payers: Vec::new(),
            in_other_payer: false,
            lines: Vec::new(),
            line_adjudications: Vec::new(),
            in_adjudication: false,
            over_line_limit: false,
        });
        if !under_subscriber_or_patient {
            self.segment_error(segment, segment_error::UNEXPECTED_SEGMENT, "a claim (CLM) belongs under a subscriber (22) or patient (23) HL".to_owned());
        }
        self.n_claims += 1;
        if self.n_claims > CLAIMS_PER_TRANSACTION_MAX {
            let message = format!("at most {CLAIMS_PER_TRANSACTION_MAX} claims per transaction set (CLAIMS_PER_TRANSACTION_MAX)");
            self.segment_error(segment, segment_error::LOOP_OVER_MAXIMUM, message);
        }
        if let Some(pcn) = self.required(segment, 1, "CLM01, the patient control number,")
            && pcn.chars().count() > 38
        {
            self.element_error(segment, 1, None, element_error::TOO_LONG, "CLM01 has at most 38 characters".to_owned());
        }
        let total = self.money(segment, 2, "CLM02, the total charge,");
        let composite = segment.element(5);
        if composite.is_empty() {
            self.required(segment, 5, "CLM05, facility code : qualifier : frequency,");
            return;
        }
        let facility_code = self.component(composite, 1).to_owned();
        let qualifier = self.component(composite, 2);
        let expected_qualifier = if self.is_professional() { "B" } else { "A" };
        if qualifier != expected_qualifier {
            let message =
                format!("CLM05-2, the facility code qualifier, is {expected_qualifier} in an {}", if self.is_professional() { "837P" } else { "837I" });
            self.element_error(segment, 5, Some(2), element_error::INVALID_CODE_VALUE, message);
        }
        let frequency_code = self.component(composite, 3).to_owned();
        if facility_code.is_empty() {
            self.element_error(segment, 5, Some(1), element_error::REQUIRED_MISSING, "CLM05-1, the place of service or facility code, is required".to_owned());
        }
        if frequency_code.is_empty() {
            self.element_error(segment, 5, Some(3), element_error::REQUIRED_MISSING, "CLM05-3, the claim frequency code, is required".to_owned());
        }
        if let Some(claim) = &mut self.claim {
            claim.total_charge = total.unwrap_or(Money::ZERO);
            claim.facility_code = facility_code;
            claim.frequency_code = frequency_code;
        }
    }

    fn dtp(&mut self, segment: &Segment<'_>) {
        let qualifier = segment.element(1);
        let in_line = self.loop_id == "2400";
        let in_adjudication = self.loop_id == "2430";
        let used = match qualifier {
            "472" => in_line,
            "434" | "431" | "435" => self.loop_id == "2300",
            "573" => in_adjudication,
            _ => false,
        };
        if !used || self.claim.as_ref().is_some_and(|claim| claim.over_line_limit) {
            return;
        }
        let mut format = segment.element(2);
        let Some(mut value) = self.required(segment, 3, "DTP03, the date,") else { return };
        // The admission is a date-time (DT, CCYYMMDDHHMM) or a date; the date is what adjudication reads.
        if qualifier == "435" && format == "DT" && value.len() == 12 {
            (format, value) = ("D8", &value[..8]);
        }
        let period = match parse_period(format, value) {
            Ok(period) => period,
            Err(code) => {
                let (element, message) = if code == element_error::INVALID_DATE {
                    (3, format!("`{}` is not a valid {format} date", clean(value, 20)))
                } else {
                    (2, format!("DTP02 `{}` is not D8 or RD8", clean(format, 5)))
                };
                self.element_error(segment, element, None, code, message);
                return;
            }
        };
        let position = Loc::new(self.loop_id, self.current_line(), "DTP", segment.position).element(3);
        let Some(claim) = &mut self.claim else { return };
        match qualifier {
            "472" => {
                if let Some(line) = claim.lines.last_mut() {
                    line.service = Some((period.0, period.1, position));
                }
            }
            "434" => claim.statement_period = Some(period),
            "435" => claim.admission_date = Some(period.0),
            "431" => claim.onset_date = Some(period.0),
            _ => {
                if let Some(adjudication) = claim.line_adjudications.last_mut() {
                    adjudication.adjudicated_on = Some(period.0);
                }
            }
        }
    }

    fn hi(&mut self, segment: &Segment<'_>) {
        if self.claim.is_none() || self.loop_id != "2300" {
            self.segment_error(segment, segment_error::UNEXPECTED_SEGMENT, "HI (health care codes) belongs to the claim (2300)".to_owned());
            return;
        }
        let n_errors = self.errors.len();
        let first_qualifier = self.component(segment.element(1), 1);
        match hi_qualifier(first_qualifier, self.is_professional()) {
            Some(HiCode::Diagnosis { .. }) => self.diagnosis_hi(segment),
            Some(_) => self.other_hi(segment),
            None => {
                let message = format!("`{}` is not an HI01-1 qualifier of an {}", clean(first_qualifier, 8), self.transaction_name());
                self.element_error(segment, 1, Some(1), element_error::INVALID_CODE_VALUE, message);
            }
        }
        if self.errors.len() > n_errors
            && let Some(claim) = &mut self.claim
        {
            claim.hi_at_fault = true;
        }
    }

    fn transaction_name(&self) -> &'static str {
        if self.is_professional() { "837P" } else { "837I" }
    }

    /// HI*ABK/ABF (ICD-10-CM) or BK/BF (ICD-9-CM, a code-set issue): the claim's diagnoses.
    fn diagnosis_hi(&mut self, segment: &Segment<'_>) {
        let diagnoses_max = if self.is_professional() { DIAGNOSES_PER_CLAIM_MAX_837P } else { DIAGNOSES_PER_CLAIM_MAX_837I };
        for index in 1..=segment.n_elements() {
            let Ok(element) = u8::try_from(index) else { break };
            let composite = segment.element(index);
            if composite.is_empty() {
                continue;
            }
            let qualifier = self.component(composite, 1);
            let code = self.component(composite, 2);
            let Some(HiCode::Diagnosis { principal, icd9 }) = hi_qualifier(qualifier, self.is_professional()) else {
                let message = format!("`{}` is not a diagnosis qualifier: ABK (principal) or ABF (other), BK/BF for ICD-9", clean(qualifier, 5));
                self.element_error(segment, element, Some(1), element_error::INVALID_CODE_VALUE, message);
                continue;
            };
            if code.is_empty() {
                self.element_error(segment, element, Some(2), element_error::REQUIRED_MISSING, "the diagnosis code is required".to_owned());
                continue;
            }
            let Some(claim) = &self.claim else { return };
            if principal && (index != 1 || claim.has_principal) {
                self.element_error(segment, element, Some(1), element_error::INVALID_CODE_VALUE, "the principal diagnosis (ABK) comes once, first".to_owned());
                continue;
            }
            if !principal && !claim.has_principal {
                self.element_error(
                    segment,
                    element,
                    Some(1),
                    element_error::INVALID_CODE_VALUE,
                    "the principal diagnosis (ABK) comes before the others".to_owned(),
                );
                continue;
            }
            if claim.diagnoses.len() >= diagnoses_max {
                let message = format!("at most {diagnoses_max} diagnoses per claim (DIAGNOSES_PER_CLAIM_MAX)");
                self.element_error(segment, element, None, element_error::TOO_MANY_ELEMENTS, message);
                break;
            }
            let path = || Loc::new("2300", None, "HI", segment.position).element(element).component(2).path();
            let Some(claim) = &mut self.claim else { return };
            let sequence = u32::try_from(claim.diagnoses.len() + 1).unwrap_or(u32::MAX);
            if icd9 {
                claim.issues.push(icd9_issue(qualifier, code, path()));
            } else if !icd10_is_valid(code) {
                claim.issues.extend(edits::icd10(code, &path()));
            }
            claim.has_principal |= principal;
            claim.diagnoses.push(Diagnosis { sequence, code: Icd10Code::normalize(code) });
            claim.diagnosis_paths.push(path());
        }
        if let Some(claim) = &mut self.claim {
            claim.n_hi_diagnosis_segments += 1;
        }
    }

    /// Any other HI of the guide (837I admitting, reason for visit, external
    /// cause, procedures, DRG, occurrences, values, conditions; 837P anesthesia
    /// and conditions): not mapped, but every qualifier is one of the guide's,
    /// and an ICD-9-CM one is a code-set issue on the claim.
    fn other_hi(&mut self, segment: &Segment<'_>) {
        for index in 1..=segment.n_elements() {
            let Ok(element) = u8::try_from(index) else { break };
            let composite = segment.element(index);
            if composite.is_empty() {
                continue;
            }
            let qualifier = self.component(composite, 1);
            let kind = match hi_qualifier(qualifier, self.is_professional()) {
                Some(HiCode::Diagnosis { .. }) | None => {
                    let message = format!("`{}` is not a qualifier of this HI of an {}", clean(qualifier, 8), self.transaction_name());
                    self.element_error(segment, element, Some(1), element_error::INVALID_CODE_VALUE, message);
                    continue;
                }
                Some(kind) => kind,
            };
            let code = self.component(composite, 2);
            if code.is_empty() {
                self.element_error(segment, element, Some(2), element_error::REQUIRED_MISSING, "the code (HI0n-2) is required".to_owned());
                continue;
            }
            let path = Loc::new("2300", None, "HI", segment.position).element(element).component(2).path();
            let Some(claim) = &mut self.claim else { return };
            if qualifier == "DR" && claim.drg.is_none() {
                claim.drg = Some(code.to_owned());
            }
            match kind {
                HiCode::OtherDiagnosis { icd9: true } => claim.issues.push(icd9_issue(qualifier, code, path)),
                HiCode::Procedure { icd9: true } => {
                    let message = format!("`{}` is an ICD-9-CM procedure ({qualifier}); 5010 claims use ICD-10-PCS (BBR, BBQ)", clean(code, 10));
                    claim.issues.push(ClaimIssue { path, code: issue_code::ICD9_PROCEDURE.to_owned(), message });
                }
                _ => {}
            }
        }
    }

    fn amt(&mut self, segment: &Segment<'_>) {
        if self.loop_id != "2320" || segment.element(1) != "D" {
            return;
        }
        let paid = self.money(segment, 2, "AMT02, the amount paid,");
        if let Some(payer) = self.claim.as_mut().and_then(|claim| claim.other_payers.last_mut()) {
            payer.paid = paid;
        }
    }

    fn cas(&mut self, segment: &Segment<'_>) {
        if !matches!(self.loop_id, "2320" | "2430") {
            self.segment_error(segment, segment_error::UNEXPECTED_SEGMENT, "CAS belongs to an other payer (2320) or a line adjudication (2430)".to_owned());
            return;
        }
        let Some(group) = self.required(segment, 1, "CAS01, the adjustment group code,") else { return };
        let Ok(group) = GroupCode::parse(group) else {
            self.element_error(segment, 1, None, element_error::INVALID_CODE_VALUE, "CAS01 is CO, CR, OA, PI or PR".to_owned());
            return;
        };
        let mut adjustments = Vec::new();
        for triple in 0..6u8 {
            let reason_index = 2 + triple * 3;
            let reason = segment.element(usize::from(reason_index));
            if reason.is_empty() {
                if triple == 0 {
                    self.required(segment, 2, "CAS02, the adjustment reason,");
                }
                continue;
            }
            let Ok(reason) = Carc::parse(reason) else {
                let message = format!("CAS{reason_index:02} is a claim adjustment reason code, 1 to 3 upper-case letters or digits");
                self.element_error(segment, reason_index, None, element_error::INVALID_CODE_VALUE, message);
                continue;
            };
            let Some(amount) = self.money(segment, reason_index + 1, "the adjustment amount") else { continue };
            adjustments.push(Adjustment { group, reason, amount });
        }
        let Some(claim) = &mut self.claim else { return };
        if self.loop_id == "2320" {
            if let Some(payer) = claim.other_payers.last_mut() {
                payer.adjustments.extend(adjustments);
            }
        } else if let Some(adjudication) = claim.line_adjudications.last_mut() {
            adjudication.adjustments.extend(adjustments);
        }
    }

    // ----- lines -----

    fn lx(&mut self, segment: &Segment<'_>) {
        let lines_max = if self.is_professional() { LINES_PER_CLAIM_MAX_837P } else { LINES_PER_CLAIM_MAX_837I };
        let Some(claim) = &self.claim else {
            self.segment_error(segment, segment_error::UNEXPECTED_SEGMENT, "a service line (LX) belongs to a claim (CLM)".to_owned());
            return;
        };
        let n_lines = claim.lines.len();
        self.finish_line(segment.position);
        self.loop_id = "2400";
        if n_lines >= lines_max {
            let already_over = self.claim.as_ref().is_some_and(|claim| claim.over_line_limit);
            if let Some(claim) = &mut self.claim {
                claim.over_line_limit = true;
            }
            if !already_over {
                let message = format!("at most {lines_max} service lines per claim (LINES_PER_CLAIM_MAX)");
                self.segment_error(segment, segment_error::LOOP_OVER_MAXIMUM, message);
            }
            return;
        }
        let number = match segment.element(1).parse::<u32>() {
            Ok(number) if number == u32::try_from(n_lines + 1).unwrap_or(0) => number,
            _ => {
                let message = format!("LX01 numbers the lines from 1; this is line {}", n_lines + 1);
                self.element_error(segment, 1, None, element_error::INVALID_CODE_VALUE, message);
                u32::try_from(n_lines + 1).unwrap_or(u32::MAX)
            }
        };
        let here = Loc::new("2400", Some(number), "LX", segment.position);
        if let Some(claim) = &mut self.claim {
            claim.in_other_payer = false;
            claim.in_adjudication = false;
            claim.lines.push(LineDraft {
                number,
                has_service: false,
                procedure_code: String::new(),
                procedure_position: here,
                modifiers: Vec::new(),
                quantity: Decimal::ONE,
                quantity_position: here,
                charge: Money::ZERO,
                charge_position: here,
                place_of_service: None,
                pointers: Vec::new(),
                revenue_code: None,
                service: None,
            });
        }
    }

    /// The procedure composite (SV101 / SV202): (code, modifiers).
    fn procedure(&mut self, segment: &Segment<'_>, index: u8) -> Option<(String, Vec<String>)> {
        let composite = segment.element(usize::from(index));
        let qualifier = self.component(composite, 1);
        let code = self.component(composite, 2);
        if qualifier.is_empty() || code.is_empty() {
            let component = if qualifier.is_empty() { 1 } else { 2 };
            self.element_error(segment, index, Some(component), element_error::REQUIRED_MISSING, "the procedure is qualifier : code (HC:99213)".to_owned());
            return None;
        }
        let n_components = composite.split(char::from(self.context.delimiters.component)).count();
        let modifiers: Vec<String> =
            (3..3 + MODIFIERS_PER_LINE_MAX).map(|idx| self.component(composite, idx)).filter(|modifier| !modifier.is_empty()).map(str::to_owned).collect();
        if n_components > 8 {
            self.element_error(segment, index, None, element_error::TOO_MANY_COMPONENTS, "the procedure composite has at most 8 components".to_owned());
        }
        Some((code.to_owned(), modifiers))
    }

    fn quantity(&mut self, segment: &Segment<'_>, index: u8) -> Option<Decimal> {
        let text = self.required(segment, index, "the units of service")?;
        match parse_decimal(text) {
            Ok(quantity) => Some(quantity.normalize()),
            Err(code) => {
                self.element_error(segment, index, None, code, format!("`{}` is not a number of units", clean(text, 20)));
                None
            }
        }
    }

    fn line_segment_ok(&mut self, segment: &Segment<'_>, professional_segment: bool) -> bool {
        if self.claim.as_ref().is_some_and(|claim| claim.over_line_limit) {
            return false;
        }
        if professional_segment != self.is_professional() {
            let message = format!("{} is for {} claims", segment.id(), if professional_segment { "professional (837P)" } else { "institutional (837I)" });
            self.segment_error(segment, segment_error::UNEXPECTED_SEGMENT, message);
            return false;
        }
        let has_open_line = self.loop_id == "2400" && self.claim.as_ref().and_then(|claim| claim.lines.last()).is_some_and(|line| !line.has_service);
        if !has_open_line {
            self.segment_error(segment, segment_error::UNEXPECTED_SEGMENT, format!("{} follows a line's LX, once", segment.id()));
            return false;
        }
        true
    }

    fn sv1(&mut self, segment: &Segment<'_>) {
        if !self.line_segment_ok(segment, true) {
            return;
        }
        let here = Loc::new("2400", self.current_line(), "SV1", segment.position);
        let procedure = self.procedure(segment, 1);
        let charge = self.money(segment, 2, "SV102, the line charge,");
        if !matches!(segment.element(3), "UN" | "MJ") {
            self.element_error(segment, 3, None, element_error::INVALID_CODE_VALUE, "SV103 is UN (units) or MJ (minutes)".to_owned());
        }
        let quantity = self.quantity(segment, 4);
        let place_of_service = Some(segment.element(5)).filter(|pos| !pos.is_empty()).map(str::to_owned);
        let pointers_composite = segment.element(7);
        let mut pointers = Vec::new();
        if pointers_composite.is_empty() {
            self.required(segment, 7, "SV107, the diagnosis pointers,");
        }
        for (idx, pointer) in pointers_composite.split(char::from(self.context.delimiters.component)).enumerate().filter(|(_, pointer)| !pointer.is_empty()) {
            let component = u8::try_from(idx + 1).unwrap_or(u8::MAX);
            match pointer.parse::<u32>() {
                Ok(number @ 1..=12) if idx < 4 => pointers.push((number, here.element(7).component(component))),
                _ => {
                    let message = "SV107 holds up to four diagnosis pointers, each 1 to 12".to_owned();
                    self.element_error(segment, 7, Some(component), element_error::INVALID_CODE_VALUE, message);
                }
            }
        }
        let Some(line) = self.claim.as_mut().and_then(|claim| claim.lines.last_mut()) else { return };
        line.has_service = true;
        if let Some((code, modifiers)) = procedure {
            line.procedure_code = code;
            line.modifiers = modifiers;
        }
        line.procedure_position = here.element(1).component(2);
        line.charge = charge.unwrap_or(Money::ZERO);
        line.charge_position = here.element(2);
        line.quantity = quantity.unwrap_or(Decimal::ONE);
        line.quantity_position = here.element(4);
        line.place_of_service = place_of_service;
        line.pointers = pointers;
    }

    fn sv2(&mut self, segment: &Segment<'_>) {
        if !self.line_segment_ok(segment, false) {
            return;
        }
        let here = Loc::new("2400", self.current_line(), "SV2", segment.position);
        let revenue_code = self.required(segment, 1, "SV201, the revenue code,").map(str::to_owned);
        let procedure = if segment.element(2).is_empty() { None } else { self.procedure(segment, 2) };
        let charge = self.money(segment, 3, "SV203, the line charge,");
        if !matches!(segment.element(4), "UN" | "DA") {
            self.element_error(segment, 4, None, element_error::INVALID_CODE_VALUE, "SV204 is UN (units) or DA (days)".to_owned());
        }
        let quantity = self.quantity(segment, 5);
        let Some(line) = self.claim.as_mut().and_then(|claim| claim.lines.last_mut()) else { return };
        line.has_service = true;
        line.revenue_code = revenue_code;
        match procedure {
            Some((code, modifiers)) => {
                line.procedure_code = code;
                line.modifiers = modifiers;
                line.procedure_position = here.element(2).component(2);
            }
            None => line.procedure_position = here.element(2),
        }
        line.charge = charge.unwrap_or(Money::ZERO);
        line.charge_position = here.element(3);
        line.quantity = quantity.unwrap_or(Decimal::ONE);
        line.quantity_position = here.element(5);
    }

    fn svd(&mut self, segment: &Segment<'_>) {
        if self.claim.as_ref().is_some_and(|claim| claim.over_line_limit) {
            return;
        }
        let Some(line_number) = self.claim.as_ref().and_then(|claim| claim.lines.last()).map(|line| line.number) else {
            self.segment_error(segment, segment_error::UNEXPECTED_SEGMENT, "SVD (line adjudication) belongs to a service line".to_owned());
            return;
        };
        self.loop_id = "2430";
        let n_for_line = self.claim.as_ref().map_or(0, |claim| claim.line_adjudications.iter().filter(|adjudication| adjudication.line == line_number).count());
        if n_for_line >= ADJUDICATIONS_PER_LINE_MAX {
            let message = format!("at most {ADJUDICATIONS_PER_LINE_MAX} line adjudications (2430) per line (ADJUDICATIONS_PER_LINE_MAX)");
            self.segment_error(segment, segment_error::LOOP_OVER_MAXIMUM, message);
            return;
        }
        let payer_id = self.required(segment, 1, "SVD01, the other payer's id,").unwrap_or_default().to_owned();
        let paid = self.money(segment, 2, "SVD02, the amount paid,");
        let procedure_code = self.component(segment.element(3), 2).to_owned();
        let units = Some(segment.element(5)).filter(|units| !units.is_empty()).and_then(|units| parse_decimal(units).ok());
        if let Some(claim) = &mut self.claim {
            claim.in_adjudication = true;
            claim.line_adjudications.push(LineAdjudication {
                line: line_number,
                payer_id,
                paid: paid.unwrap_or(Money::ZERO),
                procedure_code,
                units,
                adjustments: Vec::new(),
                adjudicated_on: None,
            });
        }
    }

    // ----- finishing -----

    /// Checks the open line's required segments.
    fn finish_line(&mut self, at_position: u32) {
        let professional = self.is_professional();
        let Some(claim) = &self.claim else { return };
        let Some(line) = claim.lines.last() else { return };
        let (has_service, has_date, statement) = (line.has_service, line.service.is_some(), claim.statement_period);
        if !has_service {
            let id = if professional { "SV1" } else { "SV2" };
            self.missing(id, at_position, Some("2400"), "a service line has its service (SV1 for 837P, SV2 for 837I)");
        }
        if !has_date && (professional || statement.is_none()) {
            self.missing("DTP", at_position, Some("2400"), "a service line has its date of service (DTP*472), or the claim its statement dates (DTP*434)");
        }
    }

    fn finish_claim(&mut self, at_position: u32) {
        if self.claim.is_none() {
            return;
        }
        self.finish_line(at_position);
        let Some(draft) = self.claim.take() else { return };
        if draft.lines.is_empty() {
            self.missing("LX", at_position, Some("2400"), "a claim has at least one service line (LX)");
            return;
        }
        if !draft.has_principal {
            // An HI at fault was reported where it stands; without any HI, the principal diagnosis is missing.
            if !draft.hi_at_fault {
                self.missing("HI", at_position, Some("2300"), "a claim has its principal diagnosis (HI*ABK)");
            }
            return;
        }
        if draft.broken || !self.errors.is_empty() {
            return;
        }
        if let Some(claim) = self.build_claim(draft) {
            self.claims.push(claim);
        }
    }

    fn build_claim(&self, draft: ClaimDraft) -> Option<X12Claim> {
        let billing = self.billing.as_ref()?;
        let billing_party = billing.party.as_ref()?;
        let subscriber = self.subscriber.as_ref()?;
        let payer = subscriber.payer.as_ref()?;
        let professional = self.is_professional();
        let today = self.context.today;
        let mut issues = Vec::new();
        if !npi_is_valid(&billing_party.id) {
            issues.extend(edits::npi(&billing_party.id, "2010AA/NM109"));
        }
        issues.extend(billing_zip_issue(&billing.postal.0, &billing.postal.1));
        let clm = Loc::new("2300", None, "CLM", draft.clm_position);
        let frequency = match draft.frequency_code.as_str() {
            "1" => Frequency::Original,
            "7" => Frequency::Replacement,
            "8" => Frequency::Void,
            other => {
                let message = format!("claim frequency `{}` is not supported: 1 (original), 7 (replacement) or 8 (void)", clean(other, 3));
                issues.push(ClaimIssue { path: clm.element(5).component(3).path(), code: issue_code::FREQUENCY_UNSUPPORTED.to_owned(), message });
                Frequency::Original
            }
        };
        if matches!(frequency, Frequency::Replacement | Frequency::Void) && draft.related_claim_id.is_none() {
            let message = "a replacement (7) or void (8) names the payer's claim number of the original in REF*F8".to_owned();
            issues.push(ClaimIssue { path: "2300/REF02".to_owned(), code: issue_code::RELATED_CLAIM_MISSING.to_owned(), message });
        }
        issues.extend(draft.issues);
        let mut lines = Vec::with_capacity(draft.lines.len());
        let mut line_paths = Vec::with_capacity(draft.lines.len());
        let mut line_details = Vec::with_capacity(draft.lines.len());
        let mut future_dates: Vec<Option<Loc>> = Vec::new();
        for line in draft.lines {
            let (start, end, date_loc) = match line.service {
                Some((start, end, loc)) => (start, end, Some(loc)),
                None => {
                    let (start, end) = draft.statement_period?;
                    (start, end, None)
                }
            };
            // 837I: SV202 is situational; a room-and-board or supply line is a
            // revenue code alone (4 digits, e.g. 0120), priced later by the
            // institutional rules. 837P lines always carry a HCPCS/CPT code.
            let revenue_only = !professional && line.revenue_code.as_deref().is_some_and(|code| code.len() == 4 && code.bytes().all(|b| b.is_ascii_digit()));
            if line.procedure_code.is_empty() && !revenue_only {
                let revenue_code = line.revenue_code.as_deref().map_or(String::new(), |code| clean(code, 8));
                let message = format!("line {} has revenue code {revenue_code} but no HCPCS code", line.number);
                issues.push(ClaimIssue { path: line.procedure_position.path(), code: issue_code::PROCEDURE_CODE_MISSING.to_owned(), message });
            } else if !line.procedure_code.is_empty() && !procedure_code_is_valid(&line.procedure_code) {
                issues.extend(edits::procedure_code(&line.procedure_code, &line.procedure_position.path()));
            }
            if line.quantity <= Decimal::ZERO || line.quantity > Decimal::from(QUANTITY_MAX) {
                let message = format!("{} units is not more than 0 and at most {QUANTITY_MAX}", line.quantity);
                issues.push(ClaimIssue { path: line.quantity_position.path(), code: issue_code::QUANTITY_RANGE.to_owned(), message });
            }
            if line.charge.is_negative() {
                let message = format!("the line charge {} is negative", line.charge);
                issues.push(ClaimIssue { path: line.charge_position.path(), code: issue_code::CHARGE_NEGATIVE.to_owned(), message });
            }
            if end > today && !future_dates.contains(&date_loc) {
                let path = date_loc.map_or_else(|| "2300/DTP03".to_owned(), |loc| loc.path());
                future_dates.push(date_loc);
                issues.extend(edits::service_date(end, today, &path));
            }
            for (pointer, loc) in &line.pointers {
                if !draft.diagnoses.iter().any(|diagnosis| diagnosis.sequence == *pointer) {
                    issues.extend(edits::diagnosis_pointer(*pointer, &draft.diagnoses, &loc.path()));
                }
            }
            let modifier_paths = (0..line.modifiers.len())
                .map(|modifier_idx| line.procedure_position.component(u8::try_from(modifier_idx + 3).unwrap_or(u8::MAX)).path())
                .collect();
            let place_of_service_path = match &line.place_of_service {
                Some(_) => line.procedure_position.element(5).path(),
                None => clm.element(5).component(1).path(),
            };
            let revenue_code_path = line.procedure_position.element(1).path();
            line_paths.push(LinePaths {
                procedure_code: if line.procedure_code.is_empty() { revenue_code_path.clone() } else { line.procedure_position.path() },
                modifiers: modifier_paths,
                place_of_service: place_of_service_path,
                revenue_code: revenue_code_path,
            });
            let place_of_service = if professional { line.place_of_service.or_else(|| Some(draft.facility_code.clone())) } else { None };
            let procedure_code = if line.procedure_code.is_empty() { line.revenue_code.clone().unwrap_or_default() } else { line.procedure_code };
            lines.push(ClaimLine {
                sequence: line.number,
                procedure_code,
                modifiers: line.modifiers,
                quantity: line.quantity,
                charge: line.charge,
                service_date: start,
                place_of_service,
                diagnosis_pointers: line.pointers.iter().map(|(pointer, _)| *pointer).collect(),
                revenue_code: if professional { None } else { line.revenue_code.clone() },
            });
            line_details.push(LineDetail { line: line.number, revenue_code: line.revenue_code, service_end: end });
        }
        if draft.total_charge.is_negative() {
            let message = format!("the total charge {} is negative", draft.total_charge);
            issues.push(ClaimIssue { path: clm.element(2).path(), code: issue_code::CHARGE_NEGATIVE.to_owned(), message });
        }
        if let Some(sum) = Money::checked_sum(lines.iter().map(|line| &line.charge))
            && sum != draft.total_charge
        {
            issues.extend(edits::total(draft.total_charge, sum, &clm.element(2).path()));
        }
        let first = lines.iter().map(|line| line.service_date).min()?;
        let last = line_details.iter().map(|line| line.service_end).max()?;
        let paths = FieldPaths {
            billing_npi: "2010AA/NM109".to_owned(),
            rendering_npi: draft.rendering_path,
            payer_id: "2010BB/NM109".to_owned(),
            member_id: "2010BA/NM109".to_owned(),
            subscriber_id: "2010BA/NM109".to_owned(),
            related_claim_id: "2300/REF02".to_owned(),
            diagnoses: draft.diagnosis_paths,
            lines: line_paths,
        };
        let service_zip = draft.facility_zip.as_deref().and_then(zip_digits).or_else(|| zip_digits(&billing.postal.0));
        let cob = coordination(&subscriber.responsibility, &draft.other_payers, &draft.line_adjudications);
        if let Some(cob) = &cob {
            issues.extend(edits::coordination(
                cob,
                &lines,
                "2000B/SBR01",
                |payer_idx| format!("2320/AMT02 (payer {})", cob.prior_payers[payer_idx].payer_id),
                |payer_idx, line_idx| format!("2430[{}]/SVD02", cob.prior_payers[payer_idx].lines[line_idx].sequence),
            ));
        }
        let claim = SubmittedClaim {
            claim_id: Uuid::nil(),
            claim_type: self.context.claim_type,
            frequency,
            related_claim_id: draft.related_claim_id,
            patient_control_number: Some(draft.patient_control_number),
            billing_npi: billing_party.id.clone(),
            rendering_npi: draft.rendering_npi,
            payer_id: payer.id.clone(),
            member_id: subscriber.member_id.clone().unwrap_or_default(),
            diagnoses: draft.diagnoses,
            lines,
            total_charge: draft.total_charge,
            subscriber_id: subscriber.member_id.clone(),
            service_zip,
            prior_authorization: draft.prior_authorization.clone(),
            drg: if professional { None } else { draft.drg },
            admission_date: if professional { None } else { draft.admission_date },
            statement_from: draft.statement_period.map(|(from, _)| from),
            statement_to: draft.statement_period.map(|(_, to)| to),
            type_of_bill: if professional { None } else { claimtrail_events::type_of_bill(&format!("{}{}", draft.facility_code, draft.frequency_code)) },
            cob,
        };
        let claim = MappedClaim { claim, paths, issues };
        Some(X12Claim {
            position: ClaimPosition { interchange: 0, group: 0, transaction: 0, claim: self.claims.len() },
            clm_segment_position: draft.clm_position,
            claim,
            submitter: self.submitter.clone().unwrap_or_default(),
            receiver: self.receiver.clone().unwrap_or_default(),
            billing_provider: billing_party.clone(),
            billing_tin: billing.tin.clone(),
            subscriber: subscriber.name.clone().unwrap_or_default(),
            patient: self.patient.as_ref().and_then(|patient| patient.name.clone()),
            payer_name: payer.name.clone(),
            facility_code: draft.facility_code,
            service_period: (first, last),
            statement_period: draft.statement_period,
            onset_date: draft.onset_date,
            prior_authorization: draft.prior_authorization,
            clearinghouse_trace: draft.clearinghouse_trace,
            other_payers: draft.other_payers,
            line_details,
            line_adjudications: draft.line_adjudications,
        })
    }

    fn finish(&mut self, at_position: u32) {
        self.finish_claim(at_position);
        self.finish_level(at_position);
        if self.billing.is_none() {
            self.missing("HL", at_position, Some("2000A"), "the transaction set has a billing provider HL (20)");
        }
    }
}

/// The claim's coordination of benefits from the 2000B SBR01 (this payer's
/// place) and the other payers (2320 SBR01, AMT*D, CAS; 2330B NM109) with
/// their line decisions (2430 SVD, CAS). `None` when the claim goes to its
/// primary payer or the SBR01 is not P, S or T. An earlier payer is one
/// whose place is before this payer's and that decided something (AMT*D or
/// a 2430): its paid amount is AMT*D, else the sum of its lines' SVD02.
fn coordination(responsibility: &str, other_payers: &[OtherPayer], adjudications: &[LineAdjudication]) -> Option<Coordination> {
    let sequence = PayerSequence::from_x12(responsibility).filter(|sequence| *sequence > PayerSequence::Primary)?;
    let mut prior_payers: Vec<PriorPayer> = other_payers
        .iter()
        .filter_map(|payer| {
            let their_sequence = PayerSequence::from_x12(&payer.responsibility).filter(|theirs| *theirs < sequence)?;
            let lines: Vec<PriorLine> = adjudications
                .iter()
                .filter(|adjudication| adjudication.payer_id == payer.payer_id)
                .map(|adjudication| PriorLine { sequence: adjudication.line, paid: adjudication.paid, adjustments: adjudication.adjustments.clone() })
                .collect();
            if payer.paid.is_none() && lines.is_empty() {
                return None;
            }
            let paid = match payer.paid {
                Some(paid) => paid,
                None => Money::checked_sum(lines.iter().map(|line| &line.paid))?,
            };
            Some(PriorPayer { sequence: their_sequence, payer_id: payer.payer_id.clone(), paid, adjustments: payer.adjustments.clone(), lines })
        })
        .collect();
    prior_payers.sort_by_key(|payer| payer.sequence);
    Some(Coordination { sequence, prior_payers })
}

/// The shape and check digit of an NPI without allocating; `false` sends the
/// value to [`Npi::parse`] for the issue's wording. Same rule as libs/codes.
/// The 5010 edit on the billing provider's ZIP code (2010AA N403): a US
/// address (no country, N404, or `US`) carries the 9-digit ZIP+4; 5 digits,
/// enough on paper, is not. Other countries' postal codes are not checked.
fn billing_zip_issue(zip: &str, country: &str) -> Option<ClaimIssue> {
    if !(country.is_empty() || country == "US") || (zip.len() == 9 && zip.bytes().all(|byte| byte.is_ascii_digit())) {
        return None;
    }
    let message = format!("the billing provider's ZIP code `{}` is not 9 digits: 5010 requires the ZIP+4 in 2010AA N403", clean(zip, 15));
    Some(ClaimIssue { path: "2010AA/N403".to_owned(), code: issue_code::BILLING_ZIP.to_owned(), message })
}

/// A ZIP or ZIP+4 of 5 or 9 digits (the GPCI locality's key), else `None`.
fn zip_digits(zip: &str) -> Option<String> {
    (matches!(zip.len(), 5 | 9) && zip.bytes().all(|byte| byte.is_ascii_digit())).then(|| zip.to_owned())
}

/// What an HI composite's qualifier (HIxx-1) codes, by the 837P/837I guides (005010X222A1, X223A2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HiCode {
    /// ABK/BK principal, ABF/BF other: the claim's diagnoses. BK/BF are ICD-9-CM.
    Diagnosis { principal: bool, icd9: bool },
    /// 837I admitting (ABJ/BJ), patient's reason for visit (APR/PR), external cause (ABN/BN).
    OtherDiagnosis { icd9: bool },
    /// 837I principal and other procedures: ICD-10-PCS (BBR, BBQ), ICD-9-CM (BR, BQ), or HCPCS (CAH); 837P anesthesia (BP, BO).
    Procedure { icd9: bool },
    /// DRG (mapped: the claim's DRG), occurrence span, occurrence, value, condition, treatment codes (not mapped).
    Other,
}

/// The kind of an HI qualifier in an 837P (`professional`) or 837I; `None` when the guide has no such qualifier.
fn hi_qualifier(qualifier: &str, professional: bool) -> Option<HiCode> {
    let code = match qualifier {
        "ABK" => HiCode::Diagnosis { principal: true, icd9: false },
        "BK" => HiCode::Diagnosis { principal: true, icd9: true },
        "ABF" => HiCode::Diagnosis { principal: false, icd9: false },
        "BF" => HiCode::Diagnosis { principal: false, icd9: true },
        "BG" => HiCode::Other,
        "BP" | "BO" if professional => HiCode::Procedure { icd9: false },
        _ if professional => return None,
        "ABJ" | "APR" | "ABN" => HiCode::OtherDiagnosis { icd9: false },
        "BJ" | "PR" | "BN" => HiCode::OtherDiagnosis { icd9: true },
        "BBR" | "BBQ" | "CAH" => HiCode::Procedure { icd9: false },
        "BR" | "BQ" => HiCode::Procedure { icd9: true },
        "DR" | "BI" | "BH" | "BE" | "TC" => HiCode::Other,
        _ => return None,
    };
    Some(code)
}

/// The code-set issue of an ICD-9-CM diagnosis (qualifier BK, BF, BJ, PR or BN) in a 5010 claim.
fn icd9_issue(qualifier: &str, code: &str, path: String) -> ClaimIssue {
    let (issue_code, what) = if qualifier == "BK" { (issue_code::ICD9_PRINCIPAL, "principal diagnosis") } else { (issue_code::ICD9, "diagnosis") };
    let message = format!("`{}` is an ICD-9-CM {what} ({qualifier}); 5010 claims are coded in ICD-10-CM (ABK, ABF, ABJ, APR, ABN)", clean(code, 10));
    ClaimIssue { path, code: issue_code.to_owned(), message }
}

fn npi_is_valid(npi: &str) -> bool {
    let bytes = npi.as_bytes();
    if bytes.len() != 10 || !bytes.iter().all(u8::is_ascii_digit) || !matches!(bytes[0], b'1' | b'2') {
        return false;
    }
    // Luhn over 80840 (whose doubled-digit sum is 24) and the ten digits.
    let sum: u32 = bytes
        .iter()
        .rev()
        .enumerate()
        .map(|(position_from_right, byte)| {
            let digit = u32::from(byte - b'0');
            if position_from_right % 2 == 1 {
                let doubled = digit * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                digit
            }
        })
        .sum();
    (sum + 24).is_multiple_of(10)
}

/// An upper-case HCPCS/CPT code of the right shape, without allocating; otherwise [`ProcedureCode::parse`] decides.
fn procedure_code_is_valid(code: &str) -> bool {
    ProcedureCode::code_set(code).is_some() || ProcedureCode::parse(code).is_ok()
}

/// An ICD-10-CM code as 837s send it (upper-case, no dot), without allocating; otherwise [`Icd10Code::parse`] decides.
fn icd10_is_valid(code: &str) -> bool {
    let bytes = code.as_bytes();
    let plain = (3..=7).contains(&bytes.len())
        && bytes[0].is_ascii_uppercase()
        && bytes[1].is_ascii_digit()
        && bytes[2..].iter().all(|byte| byte.is_ascii_uppercase() || byte.is_ascii_digit());
    plain || Icd10Code::parse(code).is_ok()
}

fn person(segment: &Segment<'_>) -> PersonName {
    PersonName { last: segment.element(3).to_owned(), first: segment.element(4).to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use claimtrail_codes::Npi;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn the_fast_checks_agree_with_libs_codes(npi in "[0-9]{9,11}", code in "[A-Za-z0-9.]{2,8}") {
            prop_assert_eq!(npi_is_valid(&npi), Npi::parse(&npi).is_ok());
            prop_assert_eq!(procedure_code_is_valid(&code), ProcedureCode::parse(&code).is_ok());
            prop_assert_eq!(icd10_is_valid(&code), Icd10Code::parse(&code).is_ok());
        }
    }

    #[test]
    fn known_npis_pass_the_fast_check() {
        for npi in ["1234567893", "1245319599", "1003000126"] {
            assert!(npi_is_valid(npi), "{npi}");
        }
        for npi in ["1234567890", "3234567893", "123456789", "12345678A3"] {
            assert!(!npi_is_valid(npi), "{npi}");
        }
    }

    #[test]
    fn a_us_billing_zip_must_have_nine_digits() {
        assert_eq!(billing_zip_issue("171110000", ""), None);
        assert_eq!(billing_zip_issue("171110000", "US"), None);
        for zip in ["17111", "1711100", "17111-0000", "", "17111000A"] {
            let issue = billing_zip_issue(zip, "").unwrap_or_else(|| panic!("{zip:?} passed"));
            assert_eq!((issue.path.as_str(), issue.code.as_str()), ("2010AA/N403", issue_code::BILLING_ZIP), "{zip}");
        }
        assert!(billing_zip_issue("17111", "US").is_some());
        // Outside the US, the postal code has its own shape.
        assert_eq!(billing_zip_issue("K1A0B1", "CA"), None);
    }

    #[test]
    fn hi_qualifiers_follow_each_guide() {
        use HiCode::*;
        for professional in [true, false] {
            assert_eq!(hi_qualifier("ABK", professional), Some(Diagnosis { principal: true, icd9: false }));
            assert_eq!(hi_qualifier("BK", professional), Some(Diagnosis { principal: true, icd9: true }));
            assert_eq!(hi_qualifier("ABF", professional), Some(Diagnosis { principal: false, icd9: false }));
            assert_eq!(hi_qualifier("BF", professional), Some(Diagnosis { principal: false, icd9: true }));
            assert_eq!(hi_qualifier("BG", professional), Some(Other));
            // Not a qualifier at all: a component separator the ISA did not declare, or a typo.
            for bad in ["BK>7215", "", "XX", "abk"] {
                assert_eq!(hi_qualifier(bad, professional), None, "{bad}");
            }
        }
        // 837I only: admitting, reason for visit, external cause, procedures, DRG, occurrences, values.
        assert_eq!(hi_qualifier("BJ", false), Some(OtherDiagnosis { icd9: true }));
        assert_eq!(hi_qualifier("ABN", false), Some(OtherDiagnosis { icd9: false }));
        assert_eq!(hi_qualifier("BR", false), Some(Procedure { icd9: true }));
        assert_eq!(hi_qualifier("BBQ", false), Some(Procedure { icd9: false }));
        assert_eq!(hi_qualifier("DR", false), Some(Other));
        for institutional_only in ["BJ", "ABJ", "PR", "APR", "BN", "ABN", "BR", "BBR", "BQ", "BBQ", "DR", "BH", "BI", "BE", "TC"] {
            assert_eq!(hi_qualifier(institutional_only, true), None, "{institutional_only} in an 837P");
        }
        // 837P only: anesthesia related procedures.
        assert_eq!(hi_qualifier("BP", true), Some(Procedure { icd9: false }));
        assert_eq!(hi_qualifier("BP", false), None);
    }

    #[test]
    fn an_icd9_principal_diagnosis_is_told_from_the_others() {
        assert_eq!(icd9_issue("BK", "25000", "2300/HI01-2".into()).code, issue_code::ICD9_PRINCIPAL);
        for qualifier in ["BF", "BJ", "PR", "BN"] {
            assert_eq!(icd9_issue(qualifier, "4019", "2300/HI02-2".into()).code, issue_code::ICD9, "{qualifier}");
        }
    }
}
