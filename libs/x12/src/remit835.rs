//! An X12 835 (005010X221A1) health care claim payment/advice for one
//! remittance: ISA/GS/ST, BPR, TRN, N1*PR and N1*PE (1000A/B), one LX with a
//! CLP per claim (CAS, NM1*QC, SVC, CAS, AMT*B6, LQ*HE per line), PLB, SE/GE/IEA.
//!
//! Balancing (what `x835-balance` checks) holds by construction when the
//! input does: per line SVC02 − ΣCAS = SVC03, per claim CLP03 − ΣCAS = CLP04,
//! and BPR02 = ΣCLP04 − ΣPLB; [`write_835`] refuses input where it does not
//! ([`Unbalanced835`]), rather than write an 835 that lies.
//!
//! - A payment (`BPR01 I`, `BPR04 ACH`, `CCP`) carries the payer's and the
//!   payee's bank accounts and the effective entry date in BPR16.
//! - A remittance where the provider is paid nothing (a zero net, the provider
//!   owes) is `BPR01 H`, `BPR02 0`, `BPR04 NON`; BPR16 still the date.
//! - A reversal is `CLP02 22` with every amount of the original negated.

use claimtrail_events::Money;
use time::{Date, Time};

use crate::segments::{Isa, Segments, hhmm, isa_id, name_or};
use crate::text::{clean, d8};

/// The implementation guide written (GS08, ST03).
pub const VERSION_835: &str = "005010X221A1";
/// CLP06: `ZZ` (mutually defined); the domain has no plan type to map to
/// 12-17, HM, MA, MB, MC... yet.
pub const CLAIM_FILING_INDICATOR: &str = "ZZ";
/// At most this many CAS triples per segment and PLB pairs per segment.
const CAS_TRIPLES_MAX: usize = 6;
const PLB_PAIRS_MAX: usize = 6;

/// The interchange envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope835 {
    /// ISA06/GS02 (the payer's id) and ISA08/GS03 (the payee's).
    pub sender_id: String,
    pub receiver_id: String,
    /// ISA13, GS06, and ST02's source; 1..=999,999,999.
    pub control_number: u32,
    pub date: Date,
    pub time: Time,
    /// ISA15 `T` when true.
    pub test: bool,
}

/// How the money moves (BPR).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payment835 {
    /// An ACH CCP+ payment of BPR02 from the payer's account to the payee's.
    Ach { payer_routing: String, payer_account: String, payee_routing: String, payee_account: String, payee_account_is_savings: bool },
    /// Nothing moves (BPR01 H, BPR04 NON): a zero-net remittance.
    NonPayment,
}

/// A party with an address (N1, N3, N4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party835 {
    pub name: String,
    /// The payer's id (N1*PR has none written) or the payee's NPI (N1*PE*..*XX).
    pub id: String,
    pub address_line: String,
    pub city: String,
    pub state: String,
    pub postal_code: String,
}

/// One CAS adjustment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cas835 {
    /// CO, PR, OA or PI.
    pub group: String,
    pub reason: String,
    pub amount: Money,
}

/// One service line (SVC and what follows it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line835 {
    pub procedure_code: String,
    pub charge: Money,
    pub paid: Money,
    pub allowed: Money,
    pub adjustments: Vec<Cas835>,
    /// RARCs (LQ*HE).
    pub remarks: Vec<String>,
}

/// One claim payment (CLP and its loop).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim835 {
    /// CLP01: the provider's patient control number (CLM01).
    pub patient_control_number: String,
    /// CLP02: 1, 2, 3 (processed as primary, secondary, tertiary), 4 (patient not recognized) or 22 (reversal).
    pub status_code: u8,
    pub charge: Money,
    pub paid: Money,
    pub patient_responsibility: Money,
    /// CLP07: the payer's claim control number.
    pub payer_claim_id: String,
    /// NM1*QC09 (MI): the member id; NM103 is left empty (the payer's 835 needs no name to reassociate).
    pub member_id: String,
    pub lines: Vec<Line835>,
}

/// One provider-level adjustment (PLB pair): reason (`WO`, `L6`, `FB`, `72`), reference and amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plb835 {
    pub reason: String,
    /// The claim number cited (PLB03-2), if any.
    pub reference: Option<String>,
    pub amount: Money,
}

/// Everything one 835 says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remittance835 {
    pub envelope: Envelope835,
    /// BPR02.
    pub amount: Money,
    pub payment: Payment835,
    /// BPR16: the effective entry date of the ACH entry.
    pub effective_date: Date,
    /// TRN02: the reassociation trace number.
    pub trace_number: String,
    /// The payer's TIN (9 digits); TRN03 and BPR10 are `1` + it.
    pub payer_tin: String,
    pub payer: Party835,
    pub payee: Party835,
    /// The payee's TIN (REF*TJ).
    pub payee_tin: String,
    pub claims: Vec<Claim835>,
    /// PLB03..: provider-level adjustments, fiscal period the end of the effective date's year.
    pub provider_adjustments: Vec<Plb835>,
}

/// Where the input does not balance.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unbalanced835 {
    #[error("claim {claim}: line {line}: charge {charge} minus adjustments {adjusted} is not paid {paid}")]
    Line { claim: String, line: usize, charge: Money, adjusted: Money, paid: Money },
    #[error("claim {claim}: charge {charge} minus adjustments {adjusted} is not paid {paid}")]
    Claim { claim: String, charge: Money, adjusted: Money, paid: Money },
    #[error("BPR02 {amount} is not the claims' paid {claims} minus the provider adjustments {adjustments}")]
    Payment { amount: Money, claims: Money, adjustments: Money },
    #[error("a non-payment 835 pays nothing, not {0}")]
    NonPaymentWithAmount(Money),
    #[error("an amount overflows")]
    Overflow,
}

fn sum<'a>(amounts: impl IntoIterator<Item = &'a Money>) -> Result<Money, Unbalanced835> {
    Money::checked_sum(amounts).ok_or(Unbalanced835::Overflow)
}

/// Checks the three balancing rules of the 835.
pub fn check_balance(remittance: &Remittance835) -> Result<(), Unbalanced835> {
    let mut paid = Vec::with_capacity(remittance.claims.len());
    for claim in &remittance.claims {
        let mut claim_adjusted = Money::ZERO;
        for (line_idx, line) in claim.lines.iter().enumerate() {
            let adjusted = sum(line.adjustments.iter().map(|cas| &cas.amount))?;
            if line.charge.checked_sub(adjusted) != Some(line.paid) {
                return Err(Unbalanced835::Line { claim: claim.payer_claim_id.clone(), line: line_idx + 1, charge: line.charge, adjusted, paid: line.paid });
            }
            claim_adjusted = claim_adjusted.checked_add(adjusted).ok_or(Unbalanced835::Overflow)?;
        }
        if claim.charge.checked_sub(claim_adjusted) != Some(claim.paid) {
            return Err(Unbalanced835::Claim { claim: claim.payer_claim_id.clone(), charge: claim.charge, adjusted: claim_adjusted, paid: claim.paid });
        }
        paid.push(claim.paid);
    }
    let claims = sum(&paid)?;
    let adjustments = sum(remittance.provider_adjustments.iter().map(|plb| &plb.amount))?;
    if claims.checked_sub(adjustments) != Some(remittance.amount) {
        return Err(Unbalanced835::Payment { amount: remittance.amount, claims, adjustments });
    }
    if remittance.payment == Payment835::NonPayment && !remittance.amount.is_zero() {
        return Err(Unbalanced835::NonPaymentWithAmount(remittance.amount));
    }
    Ok(())
}

/// The 835 interchange of `remittance`, or why its amounts do not balance.
pub fn write_835(remittance: &Remittance835) -> Result<String, Unbalanced835> {
    check_balance(remittance)?;
    let envelope = &remittance.envelope;
    let mut out = Segments::with_capacity(1024 + remittance.claims.len() * 400);
    let control = envelope.control_number.clamp(1, 999_999_999);
    let interchange_control = format!("{control:09}");
    let group_control = control.to_string();
    let date = d8(envelope.date);
    let time = hhmm(envelope.time);
    out.isa(&Isa {
        sender_qualifier: "ZZ",
        sender_id: &envelope.sender_id,
        receiver_qualifier: "ZZ",
        receiver_id: &envelope.receiver_id,
        date: envelope.date,
        time: envelope.time,
        control_number: control,
        test: envelope.test,
    });
    out.segment(&["GS", "HP", &isa_id(&envelope.sender_id), &isa_id(&envelope.receiver_id), &date, &time, &group_control, "X", VERSION_835]);
    // ST03 is left out: pyx12's 005010X221A1 map marks it not used.
    out.start_transaction(&["ST", "835", "0001"]);
    let bpr02 = amount(remittance.amount);
    let effective = d8(remittance.effective_date);
    let originator = format!("1{}", digits(&remittance.payer_tin));
    match &remittance.payment {
        Payment835::Ach { payer_routing, payer_account, payee_routing, payee_account, payee_account_is_savings } => out.segment(&[
            "BPR",
            "I",
            &bpr02,
            "C",
            "ACH",
            "CCP",
            "01",
            &digits(payer_routing),
            "DA",
            &clean(payer_account, 35),
            &originator,
            "",
            "01",
            &digits(payee_routing),
            if *payee_account_is_savings { "SG" } else { "DA" },
            &clean(payee_account, 35),
            &effective,
        ]),
        Payment835::NonPayment => out.segment(&["BPR", "H", &bpr02, "C", "NON", "", "", "", "", "", "", "", "", "", "", "", &effective]),
    }
    out.segment(&["TRN", "1", &clean(&remittance.trace_number, 50), &originator]);
    out.segment(&["DTM", "405", &date]);
    let payer = &remittance.payer;
    out.segment(&["N1", "PR", &name_or(&payer.name, "PAYER")]);
    address(&mut out, payer);
    out.segment(&["PER", "BL", "PROVIDER SERVICES", "TE", "8005550100"]);
    let payee = &remittance.payee;
    out.segment(&["N1", "PE", &name_or(&payee.name, "PAYEE"), "XX", &clean(&payee.id, 80)]);
    address(&mut out, payee);
    out.segment(&["REF", "TJ", &digits(&remittance.payee_tin)]);
    if !remittance.claims.is_empty() {
        out.segment(&["LX", "1"]);
    }
    for claim in &remittance.claims {
        out.segment(&[
            "CLP",
            &name_or(&claim.patient_control_number, "UNKNOWN"),
            &claim.status_code.to_string(),
            &amount(claim.charge),
            &amount(claim.paid),
            &amount(claim.patient_responsibility),
            CLAIM_FILING_INDICATOR,
            &clean(&claim.payer_claim_id, 50),
        ]);
        out.segment(&["NM1", "QC", "1", "", "", "", "", "", "MI", &name_or(&claim.member_id, "UNKNOWN")]);
        for line in &claim.lines {
            out.segment(&["SVC", &format!("HC:{}", clean(&line.procedure_code, 48)), &amount(line.charge), &amount(line.paid)]);
            cas(&mut out, &line.adjustments);
            out.segment(&["AMT", "B6", &amount(line.allowed)]);
            for remark in &line.remarks {
                out.segment(&["LQ", "HE", &clean(remark, 30)]);
            }
        }
    }
    let fiscal_period = format!("{}1231", remittance.effective_date.year());
    for chunk in remittance.provider_adjustments.chunks(PLB_PAIRS_MAX) {
        let mut elements = vec!["PLB".to_owned(), clean(&payee.id, 50), fiscal_period.clone()];
        for plb in chunk {
            elements.push(match &plb.reference {
                Some(reference) => format!("{}:{}", clean(&plb.reason, 2), clean(reference, 50)),
                None => clean(&plb.reason, 2),
            });
            elements.push(amount(plb.amount));
        }
        let elements: Vec<&str> = elements.iter().map(String::as_str).collect();
        out.segment(&elements);
    }
    out.end_transaction("0001");
    out.segment(&["GE", "1", &group_control]);
    out.segment(&["IEA", "1", &interchange_control]);
    Ok(out.text)
}

fn address(out: &mut Segments, party: &Party835) {
    out.segment(&["N3", &name_or(&party.address_line, "UNKNOWN")]);
    out.segment(&["N4", &name_or(&party.city, "UNKNOWN"), &clean(&party.state, 2), &digits(&party.postal_code)]);
}

/// CAS segments: one per group, at most six triples each, in the order first seen.
fn cas(out: &mut Segments, adjustments: &[Cas835]) {
    let mut groups: Vec<&str> = Vec::new();
    for cas in adjustments {
        if !groups.contains(&cas.group.as_str()) {
            groups.push(&cas.group);
        }
    }
    for group in groups {
        let of_group: Vec<&Cas835> = adjustments.iter().filter(|cas| cas.group == group).collect();
        for chunk in of_group.chunks(CAS_TRIPLES_MAX) {
            let mut elements = vec!["CAS".to_owned(), clean(group, 2)];
            for cas in chunk {
                elements.push(clean(&cas.reason, 5));
                elements.push(amount(cas.amount));
                elements.push(String::new());
            }
            let elements: Vec<&str> = elements.iter().map(String::as_str).collect();
            out.segment(&elements);
        }
    }
}

/// An X12 R amount: `0.00` for zero, never `-0.00` (a negated zero).
fn amount(money: Money) -> String {
    if money.is_zero() { "0.00".to_owned() } else { money.to_string() }
}

fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, time};

    fn money(text: &str) -> Money {
        Money::parse(text).unwrap()
    }

    fn party(id: &str) -> Party835 {
        Party835 { name: "NAME".into(), id: id.into(), address_line: "1 MAIN ST".into(), city: "CITY".into(), state: "PA".into(), postal_code: "17101".into() }
    }

    fn remittance(paid: &str, plb: Option<&str>) -> Remittance835 {
        Remittance835 {
            envelope: Envelope835 {
                sender_id: "P1".into(),
                receiver_id: "1234567893".into(),
                control_number: 7,
                date: date!(2026 - 03 - 02),
                time: time!(10:00),
                test: false,
            },
            amount: money(paid),
            payment: Payment835::NonPayment,
            effective_date: date!(2026 - 03 - 03),
            trace_number: "1".into(),
            payer_tin: "251234567".into(),
            payer: party("P1"),
            payee: party("1234567893"),
            payee_tin: "987654321".into(),
            claims: vec![Claim835 {
                patient_control_number: "PCN".into(),
                status_code: 22,
                charge: money("-300.00"),
                paid: money("-300.00"),
                patient_responsibility: money("0.00").negated(),
                payer_claim_id: "A".into(),
                member_id: "M".into(),
                lines: vec![],
            }],
            provider_adjustments: plb.map(|amount| Plb835 { reason: "WO".into(), reference: Some("A".into()), amount: money(amount) }).into_iter().collect(),
        }
    }

    #[test]
    fn a_zero_net_835_is_a_non_payment_and_never_writes_a_negative_zero() {
        let text = write_835(&remittance("0.00", Some("-300.00"))).unwrap();
        assert!(text.contains("BPR*H*0.00*C*NON"), "{text}");
        assert!(text.contains("CLP*PCN*22*-300.00*-300.00*0.00*ZZ*A~"), "{text}");
        assert!(text.contains("PLB*1234567893*20261231*WO:A*-300.00~"), "{text}");
        assert!(!text.contains("-0.00"), "{text}");
    }

    #[test]
    fn input_that_does_not_balance_is_refused() {
        assert!(matches!(write_835(&remittance("0.00", None)), Err(Unbalanced835::Payment { .. })));
        assert!(matches!(write_835(&remittance("10.00", Some("-310.00"))), Err(Unbalanced835::NonPaymentWithAmount(_))));
        let mut claim_off = remittance("0.00", Some("-300.00"));
        claim_off.claims[0].charge = money("-200.00");
        assert!(matches!(write_835(&claim_off), Err(Unbalanced835::Claim { .. })));
        let mut line_off = remittance("0.00", Some("-300.00"));
        line_off.claims[0].lines.push(Line835 {
            procedure_code: "99213".into(),
            charge: money("-300.00"),
            paid: money("-300.00"),
            allowed: money("-300.00"),
            adjustments: vec![Cas835 { group: "CO".into(), reason: "45".into(), amount: money("-1.00") }],
            remarks: vec![],
        });
        assert!(matches!(write_835(&line_off), Err(Unbalanced835::Line { .. })));
    }
}
