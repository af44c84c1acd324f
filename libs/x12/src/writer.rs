//! An 837P (005010X222A1) interchange from domain claims, for `claimtrail
//! generate --format x12` and round-trip tests: [`read`](crate::read) gives
//! the same claims back (as read) when the claims are professional, their
//! diagnoses are numbered 1..n, every line has a place of service and 1 to 4
//! diagnosis pointers, they have a patient control number, their subscriber
//! is their member and they name a service ZIP (written in 2310C; without
//! one the reader finds the placeholder billing ZIP).
//!
//! Each claim gets its own billing provider (HL 20) and subscriber (HL 22,
//! the patient) levels; one transaction holds at most
//! [`CLAIMS_PER_TRANSACTION_MAX`] claims.
//! The domain has no addresses, so the required N3/N4 carry placeholders
//! ([`PLACEHOLDER_STREET`], [`PLACEHOLDER_CITY_STATE_ZIP`]). What cannot be
//! written as given is written the nearest valid way: no pointers as `1`,
//! at most 12 diagnoses and 4 pointers, CLM05-1 from the first line's place
//! of service (else `11`), no patient control number as `CLAIM<n>`.

use claimtrail_events::{AsRead, SubmittedClaim};
use claimtrail_events::{ClaimType, Frequency};
use time::{Date, Time};

use crate::text::{clean, d8};
use crate::x12_claim::{Party, PersonName};
use crate::{CLAIMS_PER_TRANSACTION_MAX, DIAGNOSES_PER_CLAIM_MAX_837P, VERSION_837P_WRITTEN};

/// The N3 written for every address.
pub const PLACEHOLDER_STREET: &str = "1 UNKNOWN ST";
/// The N4 (city, state, ZIP+4) written for every address.
pub const PLACEHOLDER_CITY_STATE_ZIP: [&str; 3] = ["ANYTOWN", "PA", "171110000"];

/// The envelope and header of the interchange written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing837 {
    /// ISA05/ISA06.
    pub sender_qualifier: String,
    pub sender_id: String,
    /// ISA07/ISA08.
    pub receiver_qualifier: String,
    pub receiver_id: String,
    /// ISA13, GS06 (and the first ST02).
    pub interchange_control_number: u32,
    pub group_control_number: u32,
    pub date: Date,
    pub time: Time,
    /// ISA15: `P` production or `T` test.
    pub test: bool,
    /// 1000A (id: ETIN) and 1000B.
    pub submitter: Party,
    pub receiver: Party,
}

/// A claim to write and what the 837P needs that the domain claim lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimToWrite<'a> {
    /// The claim as read (a [`claimtrail_events::MappedClaim`]'s `claim`).
    pub claim: &'a SubmittedClaim<AsRead>,
    pub billing_provider_name: &'a str,
    pub billing_tin: &'a str,
    pub payer_name: &'a str,
    /// The subscriber, who is the patient.
    pub name: &'a PersonName,
    pub birth_date: Date,
    /// `F`, `M` or `U`.
    pub sex: &'a str,
}

/// The 837P interchange of `claims` (institutional claims are skipped: this writer is 837P only).
pub fn write_837p(outgoing: &Outgoing837, claims: &[ClaimToWrite<'_>]) -> String {
    let professional: Vec<&ClaimToWrite<'_>> = claims.iter().filter(|claim| claim.claim.claim_type == ClaimType::Professional).collect();
    let mut out = Writer { text: String::with_capacity(professional.len() * 900 + 512), n_segments: 0 };
    let interchange_control = format!("{:09}", outgoing.interchange_control_number.clamp(1, 999_999_999));
    let group_control = outgoing.group_control_number.clamp(1, 999_999_999).to_string();
    let date = d8(outgoing.date);
    let time = format!("{:02}{:02}", outgoing.time.hour(), outgoing.time.minute());
    out.text.push_str(&format!(
        "ISA*00*{:10}*00*{:10}*{}*{:15}*{}*{:15}*{}*{}*^*00501*{interchange_control}*0*{}*:~\n",
        "",
        "",
        qualifier(&outgoing.sender_qualifier),
        ascii(&outgoing.sender_id, 15),
        qualifier(&outgoing.receiver_qualifier),
        ascii(&outgoing.receiver_id, 15),
        date.get(2..).unwrap_or("000101"),
        time,
        if outgoing.test { "T" } else { "P" },
    ));
    out.segment(&["GS", "HC", &ascii(&outgoing.sender_id, 15), &ascii(&outgoing.receiver_id, 15), &date, &time, &group_control, "X", VERSION_837P_WRITTEN]);
    let chunks: Vec<&[&ClaimToWrite<'_>]> = if professional.is_empty() { vec![&[]] } else { professional.chunks(CLAIMS_PER_TRANSACTION_MAX).collect() };
    let mut claim_number = 0;
    for (chunk_idx, chunk) in chunks.iter().enumerate() {
        let transaction_control = format!("{:04}", chunk_idx + 1);
        out.n_segments = 0;
        out.segment(&["ST", "837", &transaction_control, VERSION_837P_WRITTEN]);
        out.segment(&["BHT", "0019", "00", &format!("{interchange_control}{transaction_control}"), &date, &time, "CH"]);
        out.segment(&["NM1", "41", "2", &name(&outgoing.submitter.name, "SUBMITTER"), "", "", "", "", "46", &name(&outgoing.submitter.id, "SUBMITTER")]);
        out.segment(&["PER", "IC", "CLAIMS", "TE", "8005550100"]);
        out.segment(&["NM1", "40", "2", &name(&outgoing.receiver.name, "RECEIVER"), "", "", "", "", "46", &name(&outgoing.receiver.id, "RECEIVER")]);
        let mut hl = 0;
        for claim in chunk.iter() {
            claim_number += 1;
            out.claim(claim, &mut hl, claim_number);
        }
        let n_segments = (out.n_segments + 1).to_string();
        out.segment(&["SE", &n_segments, &transaction_control]);
    }
    out.segment(&["GE", &chunks.len().to_string(), &group_control]);
    out.segment(&["IEA", "1", &interchange_control]);
    out.text
}

struct Writer {
    text: String,
    n_segments: usize,
}

impl Writer {
    fn segment(&mut self, elements: &[&str]) {
        let n_elements = elements.iter().rposition(|element| !element.is_empty()).map_or(0, |last| last + 1);
        for (idx, element) in elements.iter().take(n_elements).enumerate() {
            if idx > 0 {
                self.text.push('*');
            }
            self.text.push_str(element);
        }
        self.text.push_str("~\n");
        self.n_segments += 1;
    }

    fn claim(&mut self, to_write: &ClaimToWrite<'_>, hl: &mut usize, claim_number: usize) {
        let claim = to_write.claim;
        *hl += 1;
        let billing_hl = hl.to_string();
        *hl += 1;
        let subscriber_hl = hl.to_string();
        let [city, state, zip] = PLACEHOLDER_CITY_STATE_ZIP;
        self.segment(&["HL", &billing_hl, "", "20", "1"]);
        self.segment(&["NM1", "85", "2", &name(to_write.billing_provider_name, "BILLING PROVIDER"), "", "", "", "", "XX", &clean(&claim.billing_npi, 80)]);
        self.segment(&["N3", PLACEHOLDER_STREET]);
        self.segment(&["N4", city, state, zip]);
        self.segment(&["REF", "EI", &name(to_write.billing_tin, "000000000")]);
        self.segment(&["HL", &subscriber_hl, &billing_hl, "22", "0"]);
        self.segment(&["SBR", "P", "18", "", "", "", "", "", "", "CI"]);
        self.segment(&[
            "NM1",
            "IL",
            "1",
            &name(&to_write.name.last, "UNKNOWN"),
            &clean(&to_write.name.first, 35),
            "",
            "",
            "",
            "MI",
            &clean(&claim.member_id, 80),
        ]);
        self.segment(&["N3", PLACEHOLDER_STREET]);
        self.segment(&["N4", city, state, zip]);
        let sex = if matches!(to_write.sex, "F" | "M") { to_write.sex } else { "U" };
        self.segment(&["DMG", "D8", &d8(to_write.birth_date), sex]);
        self.segment(&["NM1", "PR", "2", &name(to_write.payer_name, "PAYER"), "", "", "", "", "PI", &clean(&claim.payer_id, 80)]);
        let pcn = match &claim.patient_control_number {
            Some(pcn) if !clean(pcn, 38).is_empty() => clean(pcn, 38),
            _ => format!("CLAIM{claim_number}"),
        };
        let place_of_service = claim.lines.first().and_then(|line| line.place_of_service.as_deref()).map_or("11".to_owned(), |pos| clean(pos, 2));
        let frequency = match claim.frequency {
            Frequency::Original => "1",
            Frequency::Replacement => "7",
            Frequency::Void => "8",
        };
        let total = claim.total_charge.to_string();
        self.segment(&["CLM", &pcn, &total, "", "", &format!("{place_of_service}:B:{frequency}"), "Y", "A", "Y", "Y"]);
        if let Some(authorization) = &claim.prior_authorization {
            self.segment(&["REF", "G1", &clean(authorization, 50)]);
        }
        if let Some(related) = &claim.related_claim_id {
            self.segment(&["REF", "F8", &clean(related, 50)]);
        }
        let mut diagnoses: Vec<_> = claim.diagnoses.iter().collect();
        diagnoses.sort_by_key(|diagnosis| diagnosis.sequence);
        let hi: Vec<String> = diagnoses
            .iter()
            .take(DIAGNOSES_PER_CLAIM_MAX_837P)
            .enumerate()
            .map(|(idx, diagnosis)| format!("{}:{}", if idx == 0 { "ABK" } else { "ABF" }, clean(&diagnosis.code, 30)))
            .collect();
        if !hi.is_empty() {
            let mut elements = vec!["HI"];
            elements.extend(hi.iter().map(String::as_str));
            self.segment(&elements);
        }
        if let Some(npi) = &claim.rendering_npi {
            self.segment(&["NM1", "82", "1", "RENDERING", "PROVIDER", "", "", "", "XX", &clean(npi, 80)]);
        }
        // The service location (2310C), when the claim names its ZIP; the reader falls back to 2010AA's otherwise.
        if let Some(service_zip) = &claim.service_zip {
            self.segment(&["NM1", "77", "2", "SERVICE FACILITY"]);
            self.segment(&["N3", PLACEHOLDER_STREET]);
            self.segment(&["N4", city, state, &clean(service_zip, 9)]);
        }
        for (idx, line) in claim.lines.iter().enumerate() {
            self.segment(&["LX", &(idx + 1).to_string()]);
            let mut procedure = format!("HC:{}", clean(&line.procedure_code, 48));
            for modifier in line.modifiers.iter().take(crate::MODIFIERS_PER_LINE_MAX) {
                procedure.push(':');
                procedure.push_str(&clean(modifier, 2));
            }
            let pointers: Vec<String> = line.diagnosis_pointers.iter().take(4).map(u32::to_string).collect();
            let pointers = if pointers.is_empty() { "1".to_owned() } else { pointers.join(":") };
            let line_pos = line.place_of_service.as_deref().map_or(String::new(), |pos| clean(pos, 2));
            let charge = line.charge.to_string();
            let quantity = line.quantity.normalize().to_string();
            self.segment(&["SV1", &procedure, &charge, "UN", &quantity, &line_pos, "", &pointers]);
            self.segment(&["DTP", "472", "D8", &d8(line.service_date)]);
        }
    }
}

fn name(value: &str, default: &str) -> String {
    let cleaned = clean(value, 60);
    if cleaned.is_empty() { default.to_owned() } else { cleaned }
}

fn qualifier(value: &str) -> &str {
    if value.len() == 2 && value.bytes().all(|byte| byte.is_ascii_alphanumeric()) { value } else { "ZZ" }
}

/// ASCII, without separators, at most `max` characters.
fn ascii(value: &str, max: usize) -> String {
    let cleaned: String = clean(value, max).chars().filter(|c| c.is_ascii() && !c.is_ascii_control()).collect();
    if cleaned.is_empty() { "UNKNOWN".to_owned() } else { cleaned }
}
