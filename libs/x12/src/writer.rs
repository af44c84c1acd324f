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

use crate::segments::{Isa, Segments, hhmm, isa_id, name_or};
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
    let mut out = Segments::with_capacity(professional.len() * 900 + 512);
    let interchange_control_number = outgoing.interchange_control_number.clamp(1, 999_999_999);
    let interchange_control = format!("{interchange_control_number:09}");
    let group_control = outgoing.group_control_number.clamp(1, 999_999_999).to_string();
    let date = d8(outgoing.date);
    let time = hhmm(outgoing.time);
    out.isa(&Isa {
        sender_qualifier: &outgoing.sender_qualifier,
        sender_id: &outgoing.sender_id,
        receiver_qualifier: &outgoing.receiver_qualifier,
        receiver_id: &outgoing.receiver_id,
        date: outgoing.date,
        time: outgoing.time,
        control_number: interchange_control_number,
        test: outgoing.test,
    });
    out.segment(&["GS", "HC", &isa_id(&outgoing.sender_id), &isa_id(&outgoing.receiver_id), &date, &time, &group_control, "X", VERSION_837P_WRITTEN]);
    let chunks: Vec<&[&ClaimToWrite<'_>]> = if professional.is_empty() { vec![&[]] } else { professional.chunks(CLAIMS_PER_TRANSACTION_MAX).collect() };
    let mut claim_number = 0;
    for (chunk_idx, chunk) in chunks.iter().enumerate() {
        let transaction_control = format!("{:04}", chunk_idx + 1);
        out.start_transaction(&["ST", "837", &transaction_control, VERSION_837P_WRITTEN]);
        out.segment(&["BHT", "0019", "00", &format!("{interchange_control}{transaction_control}"), &date, &time, "CH"]);
        out.segment(&["NM1", "41", "2", &name_or(&outgoing.submitter.name, "SUBMITTER"), "", "", "", "", "46", &name_or(&outgoing.submitter.id, "SUBMITTER")]);
        out.segment(&["PER", "IC", "CLAIMS", "TE", "8005550100"]);
        out.segment(&["NM1", "40", "2", &name_or(&outgoing.receiver.name, "RECEIVER"), "", "", "", "", "46", &name_or(&outgoing.receiver.id, "RECEIVER")]);
        let mut hl = 0;
        for claim in chunk.iter() {
            claim_number += 1;
            write_claim(&mut out, claim, &mut hl, claim_number);
        }
        out.end_transaction(&transaction_control);
    }
    out.segment(&["GE", &chunks.len().to_string(), &group_control]);
    out.segment(&["IEA", "1", &interchange_control]);
    out.text
}

fn write_claim(out: &mut Segments, to_write: &ClaimToWrite<'_>, hl: &mut usize, claim_number: usize) {
    let claim = to_write.claim;
    *hl += 1;
    let billing_hl = hl.to_string();
    *hl += 1;
    let subscriber_hl = hl.to_string();
    let [city, state, zip] = PLACEHOLDER_CITY_STATE_ZIP;
    out.segment(&["HL", &billing_hl, "", "20", "1"]);
    out.segment(&["NM1", "85", "2", &name_or(to_write.billing_provider_name, "BILLING PROVIDER"), "", "", "", "", "XX", &clean(&claim.billing_npi, 80)]);
    out.segment(&["N3", PLACEHOLDER_STREET]);
    out.segment(&["N4", city, state, zip]);
    out.segment(&["REF", "EI", &name_or(to_write.billing_tin, "000000000")]);
    out.segment(&["HL", &subscriber_hl, &billing_hl, "22", "0"]);
    out.segment(&["SBR", "P", "18", "", "", "", "", "", "", "CI"]);
    out.segment(&[
        "NM1",
        "IL",
        "1",
        &name_or(&to_write.name.last, "UNKNOWN"),
        &clean(&to_write.name.first, 35),
        "",
        "",
        "",
        "MI",
        &clean(&claim.member_id, 80),
    ]);
    out.segment(&["N3", PLACEHOLDER_STREET]);
    out.segment(&["N4", city, state, zip]);
    let sex = if matches!(to_write.sex, "F" | "M") { to_write.sex } else { "U" };
    out.segment(&["DMG", "D8", &d8(to_write.birth_date), sex]);
    out.segment(&["NM1", "PR", "2", &name_or(to_write.payer_name, "PAYER"), "", "", "", "", "PI", &clean(&claim.payer_id, 80)]);
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
    out.segment(&["CLM", &pcn, &total, "", "", &format!("{place_of_service}:B:{frequency}"), "Y", "A", "Y", "Y"]);
    if let Some(authorization) = &claim.prior_authorization {
        out.segment(&["REF", "G1", &clean(authorization, 50)]);
    }
    if let Some(related) = &claim.related_claim_id {
        out.segment(&["REF", "F8", &clean(related, 50)]);
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
        out.segment(&elements);
    }
    if let Some(npi) = &claim.rendering_npi {
        out.segment(&["NM1", "82", "1", "RENDERING", "PROVIDER", "", "", "", "XX", &clean(npi, 80)]);
    }
    // The service location (2310C), when the claim names its ZIP; the reader falls back to 2010AA's otherwise.
    if let Some(service_zip) = &claim.service_zip {
        out.segment(&["NM1", "77", "2", "SERVICE FACILITY"]);
        out.segment(&["N3", PLACEHOLDER_STREET]);
        out.segment(&["N4", city, state, &clean(service_zip, 9)]);
    }
    for (idx, line) in claim.lines.iter().enumerate() {
        out.segment(&["LX", &(idx + 1).to_string()]);
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
        out.segment(&["SV1", &procedure, &charge, "UN", &quantity, &line_pos, "", &pointers]);
        out.segment(&["DTP", "472", "D8", &d8(line.service_date)]);
    }
}
