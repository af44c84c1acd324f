//! The 837P writer: what it writes reads back as the same claims, and the
//! independent validator accepts it.

mod common;

use claimtrail_events::{AsRead, ClaimType, Frequency, Money, SubmittedClaim};
use claimtrail_x12::{ClaimToWrite, Outgoing837, Party, PersonName, read, write_837p};
use proptest::prelude::*;
use rust_decimal::Decimal;
use time::Date;
use time::macros::{date, time};

/// A valid NPI from nine digits (the Luhn check digit over 80840 + the nine).
fn npi(first_nine: u64) -> String {
    let stem = format!("{:09}", first_nine % 1_000_000_000);
    let stem = format!("1{}", &stem[1..]);
    let digits: Vec<u32> = format!("80840{stem}").bytes().map(|byte| u32::from(byte - b'0')).collect();
    let sum: u32 = digits.iter().rev().enumerate().map(|(idx, &digit)| if idx % 2 == 0 { [0, 2, 4, 6, 8, 1, 3, 5, 7, 9][digit as usize] } else { digit }).sum();
    format!("{stem}{}", (10 - sum % 10) % 10)
}

fn outgoing() -> Outgoing837 {
    Outgoing837 {
        sender_qualifier: "ZZ".into(),
        sender_id: "CLAIMTRAIL".into(),
        receiver_qualifier: "ZZ".into(),
        receiver_id: "PAYER01".into(),
        interchange_control_number: 42,
        group_control_number: 7,
        date: common::TODAY,
        time: time!(09:15),
        test: true,
        submitter: Party { name: "CLAIMTRAIL GENERATOR".into(), id: "CT0001".into() },
        receiver: Party { name: "DEMO PAYER".into(), id: "PAYER01".into() },
    }
}

const PROCEDURES: [&str; 5] = ["99213", "G0008", "J1100", "99214", "0001F"];
const DIAGNOSES: [&str; 4] = ["E119", "I10", "Z0000", "S72001A"];

type ClaimLine = claimtrail_events::ClaimLine<AsRead>;
type Diagnosis = claimtrail_events::Diagnosis<AsRead>;
type Claim = SubmittedClaim<AsRead>;

fn claim(seed: u64, n_lines: usize, n_diagnoses: usize, frequency: Frequency) -> Claim {
    let diagnoses: Vec<Diagnosis> = (0..n_diagnoses)
        .map(|idx| Diagnosis { sequence: u32::try_from(idx + 1).unwrap(), code: DIAGNOSES[(seed as usize + idx) % DIAGNOSES.len()].into() })
        .collect();
    let lines: Vec<ClaimLine> = (0..n_lines)
        .map(|idx| ClaimLine {
            sequence: u32::try_from(idx + 1).unwrap(),
            procedure_code: PROCEDURES[(seed as usize + idx) % PROCEDURES.len()].into(),
            modifiers: if idx % 2 == 0 { vec!["25".into()] } else { vec![] },
            quantity: Decimal::new(i64::try_from(idx % 3 + 1).unwrap(), 0),
            charge: Money::from_cents(i64::try_from(1_000 + seed % 50_000 + idx as u64 * 100).unwrap()),
            service_date: date!(2025 - 11 - 03),
            place_of_service: Some("11".into()),
            diagnosis_pointers: vec![u32::try_from(idx % n_diagnoses + 1).unwrap()],
            revenue_code: None,
        })
        .collect();
    let total = Money::checked_sum(lines.iter().map(|line| &line.charge)).unwrap();
    Claim {
        claim_id: uuid::Uuid::nil(),
        claim_type: ClaimType::Professional,
        frequency,
        related_claim_id: (frequency != Frequency::Original).then(|| format!("PAYERICN{seed}")),
        patient_control_number: Some(format!("PCN{seed}")),
        billing_npi: npi(seed.wrapping_mul(7919)),
        rendering_npi: seed.is_multiple_of(2).then(|| npi(seed.wrapping_mul(104_729))),
        payer_id: "PAYER01".into(),
        member_id: format!("M{seed:08}"),
        diagnoses,
        lines,
        total_charge: total,
        // The 837P's subscriber is the member (no 2000C patient loop): the family's partition key.
        subscriber_id: Some(format!("M{seed:08}")),
        service_zip: Some(if seed.is_multiple_of(2) { "19104".to_owned() } else { "191040001".to_owned() }),
        prior_authorization: seed.is_multiple_of(3).then(|| format!("PA{seed}")),
        drg: None,
        admission_date: None,
        statement_from: None,
        statement_to: None,
        type_of_bill: None,
        cob: None,
    }
}

fn to_write<'a>(claim: &'a Claim, name: &'a PersonName) -> ClaimToWrite<'a> {
    ClaimToWrite {
        claim,
        billing_provider_name: "DEMO CLINIC",
        billing_tin: "123456789",
        payer_name: "DEMO PAYER",
        name,
        birth_date: Date::from_calendar_date(1980, time::Month::May, 17).unwrap(),
        sex: "F",
    }
}

fn round_trip(claims: &[Claim]) -> Vec<Claim> {
    let name = PersonName { last: "DOE".into(), first: "JANE".into() };
    let writes: Vec<ClaimToWrite<'_>> = claims.iter().map(|claim| to_write(claim, &name)).collect();
    let text = write_837p(&outgoing(), &writes);
    let reading = read(text.as_bytes(), &common::options()).unwrap();
    assert!(reading.is_clean(), "the written 837P is not clean: {:?}\n{text}", reading.problems());
    reading.claims().map(|claim| claim.claim.claim.clone()).collect()
}

#[test]
fn written_claims_read_back_equal() {
    let claims = vec![claim(1, 1, 1, Frequency::Original), claim(2, 3, 4, Frequency::Replacement), claim(3, 50, 12, Frequency::Void)];
    assert_eq!(round_trip(&claims), claims);
}

#[test]
fn more_claims_than_one_transaction_holds_are_split_into_several() {
    let claims: Vec<Claim> = (0..5_003).map(|seed| claim(seed, 1, 1, Frequency::Original)).collect();
    let read_back = round_trip(&claims);
    assert_eq!(read_back.len(), claims.len());
    assert_eq!(read_back.last(), claims.last());
}

#[test]
fn the_validator_accepts_a_written_837p() {
    let claims = [claim(1, 2, 2, Frequency::Original), claim(2, 3, 4, Frequency::Replacement), claim(4, 1, 1, Frequency::Void)];
    let name = PersonName { last: "DOE".into(), first: "JANE".into() };
    let writes: Vec<ClaimToWrite<'_>> = claims.iter().map(|claim| to_write(claim, &name)).collect();
    let path = std::env::temp_dir().join(format!("claimtrail-x12-written-{}.837", std::process::id()));
    std::fs::write(&path, write_837p(&outgoing(), &writes)).unwrap();
    let (ok, report) = common::validate_x12(std::slice::from_ref(&path));
    let _ = std::fs::remove_file(&path);
    eprintln!("{report}");
    assert!(ok, "validate-x12 refused the written 837P:\n{report}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_valid_claims_survive_a_round_trip(
        seeds in proptest::collection::vec((0u64..1_000_000, 1usize..=50, 1usize..=12, 0u8..3), 1..6),
    ) {
        let claims: Vec<Claim> = seeds
            .iter()
            .map(|&(seed, n_lines, n_diagnoses, frequency)| {
                let frequency = [Frequency::Original, Frequency::Replacement, Frequency::Void][usize::from(frequency)];
                claim(seed, n_lines, n_diagnoses, frequency)
            })
            .collect();
        prop_assert_eq!(round_trip(&claims), claims);
    }
}
