//! What the reader takes from where, what each envelope fault gives, the
//! front-end edits with X12 paths, the limits and the acknowledgments' content.

mod common;

use claimtrail_codes::{Carc, GroupCode};
use claimtrail_events::{Adjustment, Frequency, Money};
use claimtrail_x12::codes::{group_error, segment_error, ta1, transaction_error};
use claimtrail_x12::{
    AckContext, ClaimOutcome, ControlNumbers, Limits, ReadOptions, Reading, X12Error, read, render_277ca, render_999, render_duplicate_ta1, render_ta1,
};
use rust_decimal::Decimal;
use time::macros::{date, time};

const VALID_837P: &str = include_str!("data/valid_837p.txt");
const VALID_837I: &str = include_str!("data/valid_837i.txt");
const CONTEXT: AckContext = AckContext { date: common::TODAY, time: time!(08:05) };

fn read_text(text: &str) -> Reading {
    read(text.as_bytes(), &common::options()).unwrap()
}

/// The 837P fixture with one replacement and SE01 recounted.
fn edited(from: &str, to: &str) -> String {
    assert!(VALID_837P.contains(from), "{from}");
    let text = VALID_837P.replacen(from, to, 1);
    recount(&text)
}

fn recount(text: &str) -> String {
    let segments: Vec<&str> = text.split("~\n").collect();
    let st = segments.iter().position(|segment| segment.starts_with("ST*")).unwrap();
    let se = segments.iter().position(|segment| segment.starts_with("SE*")).unwrap();
    let fixed = format!("SE*{}*0001", se - st + 1);
    segments.iter().enumerate().map(|(idx, segment)| if idx == se { fixed.as_str() } else { segment }).collect::<Vec<_>>().join("~\n")
}

fn issue_codes(reading: &Reading) -> Vec<Vec<String>> {
    reading.claims().map(|claim| claim.claim.issues.iter().map(|issue| format!("{} @ {}", issue.code, issue.path)).collect()).collect()
}

#[test]
fn an_837p_is_mapped_field_by_field() {
    let reading = read_text(VALID_837P);
    let claims: Vec<_> = reading.claims().collect();
    assert_eq!(claims.len(), 2);
    let first = claims[0];
    assert_eq!(first.claim.claim.billing_npi, "1234567893");
    assert_eq!(first.billing_tin.as_deref(), Some("123456789"));
    assert_eq!(first.claim.claim.rendering_npi.as_deref(), Some("1245319599"));
    assert_eq!(first.claim.claim.member_id, "M00000001");
    assert_eq!(first.claim.claim.payer_id, "PAYER01");
    assert_eq!(first.payer_name, "DEMO PAYER");
    assert_eq!(first.claim.claim.patient_control_number.as_deref(), Some("PCN-0001"));
    assert_eq!(first.claim.claim.total_charge, Money::from_cents(18_000));
    assert_eq!(first.claim.claim.frequency, Frequency::Original);
    assert_eq!(first.prior_authorization.as_deref(), Some("AUTH778"));
    assert_eq!(first.clearinghouse_trace.as_deref(), Some("TRACE0001"));
    assert_eq!(first.onset_date, Some(date!(2026 - 02 - 01)));
    assert_eq!(
        first.claim.claim.diagnoses.iter().map(|diagnosis| (diagnosis.sequence, diagnosis.code.as_str())).collect::<Vec<_>>(),
        [(1, "E119"), (2, "I10")]
    );
    let line = &first.claim.claim.lines[0];
    assert_eq!((line.procedure_code.as_str(), line.modifiers.as_slice()), ("99213", &["25".to_owned()][..]));
    assert_eq!((line.charge, line.quantity, line.service_date), (Money::from_cents(10_000), Decimal::ONE, date!(2026 - 02 - 10)));
    assert_eq!(line.place_of_service.as_deref(), Some("11"), "inherited from CLM05-1");
    assert_eq!(line.diagnosis_pointers, [1, 2]);
    assert_eq!(first.line_details[1].service_end, date!(2026 - 02 - 11), "RD8 end");
    assert_eq!(first.claim.claim.lines[1].quantity, Decimal::from(2));
    assert_eq!(first.service_period, (date!(2026 - 02 - 10), date!(2026 - 02 - 11)));
    let other = &first.other_payers[0];
    assert_eq!((other.responsibility.as_str(), other.payer_id.as_str(), other.paid), ("S", "OTHER01", Some(Money::from_cents(4_000))));
    assert_eq!(other.member_id.as_deref(), Some("OTHER555"));
    let adjudication = &first.line_adjudications[0];
    assert_eq!((adjudication.line, adjudication.payer_id.as_str(), adjudication.paid), (1, "OTHER01", Money::from_cents(4_000)));
    assert_eq!(adjudication.adjustments, [Adjustment { group: GroupCode::Co, reason: Carc::FEE_SCHEDULE, amount: Money::from_cents(6_000) }]);
    assert_eq!(adjudication.adjudicated_on, Some(date!(2026 - 02 - 20)));
    assert!(first.claim.issues.is_empty(), "{:?}", first.claim.issues);

    let second = claims[1];
    assert_eq!(second.claim.claim.member_id, "M00000002", "the subscriber's member id");
    assert_eq!(second.patient_name().first, "RITA", "2010CA, the patient who is not the subscriber");
    assert_eq!((second.claim.claim.frequency, second.claim.claim.related_claim_id.as_deref()), (Frequency::Replacement, Some("PAYERICN0001")));
    assert_eq!(second.claim.claim.lines[0].quantity, Decimal::new(15, 1));
    assert_eq!(second.position.claim, 1);
}

#[test]
fn an_837i_takes_revenue_codes_and_falls_back_to_the_statement_dates() {
    let reading = read_text(VALID_837I);
    let claim = reading.claims().next().unwrap();
    assert_eq!(claim.claim.claim.claim_type, claimtrail_events::ClaimType::Institutional);
    assert_eq!(claim.facility_code, "13");
    assert_eq!(claim.claim.claim.rendering_npi.as_deref(), Some("1234567893"), "2310D NM1*82, not the attending 2310A");
    assert_eq!(claim.claim.claim.diagnoses.len(), 3);
    assert_eq!(claim.line_details.iter().map(|line| line.revenue_code.as_deref()).collect::<Vec<_>>(), [Some("0450"), Some("0300")]);
    assert_eq!(claim.claim.claim.lines[1].service_date, date!(2026 - 02 - 05), "no DTP*472: the statement date");
    assert!(claim.claim.claim.lines.iter().all(|line| line.place_of_service.is_none()));
    assert_eq!(claim.statement_period, Some((date!(2026 - 02 - 05), date!(2026 - 02 - 05))));
}

#[test]
fn an_837i_s_type_of_bill_is_clm05_1_then_clm05_3() {
    let reading = read_text(VALID_837I);
    assert_eq!(reading.claims().next().unwrap().claim.claim.type_of_bill.as_deref(), Some("131"), "CLM05 13:A:1");
    let inpatient = read_text(&VALID_837I.replacen("***13:A:1*", "***11:A:1*", 1));
    assert_eq!(inpatient.claims().next().unwrap().claim.claim.type_of_bill.as_deref(), Some("111"));
    let professional = read_text(VALID_837P);
    assert!(professional.claims().all(|claim| claim.claim.claim.type_of_bill.is_none()), "an 837P's CLM05-1 is a place of service");
}

#[test]
fn crlf_indentation_and_other_separators_are_read_alike() {
    let expected: Vec<_> = read_text(VALID_837P).claims().map(|claim| claim.claim.clone()).collect();
    let crlf = VALID_837P.replace("~\n", "~\r\n    ");
    let other = VALID_837P.replace('*', "|").replace(':', ">").replace("~\n", "\n").replace("|^|", "|!|");
    for text in [crlf, other, format!("\u{feff}{VALID_837P}")] {
        let reading = read_text(&text);
        assert!(reading.is_clean(), "{:?}", reading.problems());
        assert_eq!(reading.claims().map(|claim| claim.claim.clone()).collect::<Vec<_>>(), expected);
    }
}

#[test]
fn several_interchanges_in_one_body_are_all_read() {
    let second = VALID_837P.replace("000000101", "000000102");
    let reading = read_text(&format!("{VALID_837P}\n{second}"));
    assert_eq!(reading.interchanges.len(), 2);
    assert_eq!(reading.n_claims(), 4);
    assert_eq!(reading.claims().last().map(|claim| claim.position.interchange), Some(1));
}

#[test]
fn envelope_faults_give_a_ta1_with_the_note_code() {
    let cases = [
        (VALID_837P.replacen("IEA*1*000000101", "IEA*1*000000999", 1), ta1::CONTROL_NUMBER_MISMATCH),
        (VALID_837P.replacen("IEA*1*000000101", "IEA*2*000000101", 1), ta1::GROUP_COUNT),
        (VALID_837P.replacen("*00501*000000101*", "*00501*00000010A*", 1), ta1::CONTROL_NUMBER_VALUE),
        (VALID_837P.replacen("*00501*", "*00401*", 1), ta1::VERSION_NOT_SUPPORTED),
        (VALID_837P.replacen("*0*T*:~", "*0*X*:~", 1), ta1::TEST_INDICATOR),
        (VALID_837P.replacen("*0*T*:~", "*0*T*A~", 1), ta1::COMPONENT_SEPARATOR),
        (VALID_837P.replacen("ZZ*CT0001         ", "ZZ*CT0001        ", 1), ta1::SENDER_ID),
        (VALID_837P.replacen("IEA*1*000000101~\n", "", 1), ta1::END_OF_FILE),
        (VALID_837P.replacen("GS*HC", "XX*1~\nGS*HC", 1), ta1::CONTENT),
        (VALID_837P[..60].to_owned(), ta1::END_OF_FILE),
    ];
    for (text, note_code) in cases {
        let reading = read_text(&text);
        let fault = reading.interchanges[0].fault.as_ref().unwrap_or_else(|| panic!("no fault for {note_code}"));
        assert_eq!(fault.note_code, note_code, "{}", fault.message);
        assert_eq!(reading.n_claims(), 0);
        let ta1_text = render_ta1(&reading.interchanges[0], &CONTEXT, &mut ControlNumbers::starting_at(5)).unwrap();
        assert!(ta1_text.contains(&format!("*R*{note_code}~")), "{ta1_text}");
        assert!(render_999(&reading.interchanges[0], &CONTEXT, &mut ControlNumbers::starting_at(5)).is_none());
    }
}

#[test]
fn a_repeated_interchange_control_number_is_a_duplicate() {
    let reading = read_text(&format!("{VALID_837P}{VALID_837P}"));
    assert_eq!(reading.interchanges[0].fault, None);
    assert_eq!(reading.interchanges[1].fault.as_ref().map(|fault| fault.note_code), Some(ta1::DUPLICATE));
    let key = reading.interchanges[0].duplicate_key().unwrap();
    assert_eq!(key, ("ZZ", "CT0001", "000000101"));
    let header = reading.interchanges[0].header.as_ref().unwrap();
    let mut numbers = ControlNumbers::starting_at(77);
    let text = render_duplicate_ta1(header, &CONTEXT, &mut numbers);
    assert!(text.contains("TA1*000000101*260215*1200*R*025~"), "{text}");
    assert!(text.starts_with("ISA*00*          *00*          *ZZ*PAYER01        *ZZ*CT0001         *260301*0805*^*00501*000000077*0*T*:~"), "{text}");
    assert_eq!(numbers.next_interchange, 78);
}

#[test]
fn group_faults_reject_the_group_in_the_999() {
    let cases = [
        (VALID_837P.replacen("GE*1*101", "GE*1*102", 1), group_error::CONTROL_NUMBER_MISMATCH),
        (VALID_837P.replacen("GE*1*101", "GE*2*101", 1), group_error::TRANSACTION_COUNT),
        (VALID_837P.replace("005010X222A1", "005010X222"), group_error::VERSION_NOT_SUPPORTED),
        (VALID_837P.replacen("GE*1*101~\n", "", 1), group_error::TRAILER_MISSING),
    ];
    for (text, code) in cases {
        let reading = read_text(&text);
        let group = &reading.interchanges[0].groups[0];
        assert_eq!(group.fault.as_ref().map(|fault| fault.code), Some(code));
        assert_eq!(reading.n_claims(), 0);
        let ack = render_999(&reading.interchanges[0], &CONTEXT, &mut ControlNumbers::starting_at(1)).unwrap();
        assert!(ack.contains(&format!("*0*{code}~")), "{ack}");
        assert!(ack.contains("AK9*R*"), "{ack}");
    }
}

#[test]
fn transaction_faults_reject_the_transaction_in_the_999() {
    let se = VALID_837P.lines().find(|line| line.starts_with("SE*")).unwrap();
    let cases = [
        (VALID_837P.replacen(se, "SE*12*0001~", 1), transaction_error::SEGMENT_COUNT, "IK5*R*4~"),
        (VALID_837P.replacen(se, &se.replace("0001", "0002"), 1), transaction_error::CONTROL_NUMBER_MISMATCH, "IK5*R*3~"),
        (VALID_837P.replacen("ST*837*0001*005010X222A1", "ST*837*0001*005010X222A2", 1), transaction_error::CONVENTION_NOT_SUPPORTED, "IK4*3**7*005010X222A2~"),
    ];
    for (text, code, expected) in cases {
        let reading = read_text(&text);
        let transaction = &reading.interchanges[0].groups[0].transactions[0];
        assert_eq!(transaction.fault.as_ref().map(|fault| fault.code), Some(code));
        let ack = render_999(&reading.interchanges[0], &CONTEXT, &mut ControlNumbers::starting_at(1)).unwrap();
        assert!(ack.contains(expected), "{ack}");
        assert!(ack.contains("AK9*R*1*1*0~"), "{ack}");
    }
}

#[test]
fn element_faults_name_segment_position_loop_and_element() {
    let cases = [
        ("CLM*PCN-0001*180.00*", "CLM*PCN-0001*18O.00*", "IK3*CLM*19*2300*8~\nIK4*2**6*18O.00~", "2300/CLM02"),
        ("11:B:1*Y", "11:B:*Y", "IK3*CLM*19*2300*8~\nIK4*5:3**1~", "2300/CLM05-3"),
        ("DTP*472*D8*20260210", "DTP*472*D8*20260230", "IK3*DTP*33*2400*8~\nIK4*3**8*20260230~", "2400[1]/DTP03"),
        ("NM1*85*2*DEMO CLINIC*****XX*1234567893", "NM1*85*2*DEMO CLINIC*****XX", "IK3*NM1*8*2010*8~\nIK4*9**1~", "2010AA/NM109"),
        ("SV1*HC:G0008*80.00*UN*2*11**1", "SV1*HC:G0008*80.00*UN*2*11**13", "IK3*SV1*38*2400*8~\nIK4*7:1**7*13~", "2400[2]/SV107-1"),
    ];
    for (from, to, expected_999, path) in cases {
        let reading = read_text(&edited(from, to));
        assert_eq!(reading.n_claims(), 0, "{to}");
        let ack = render_999(&reading.interchanges[0], &CONTEXT, &mut ControlNumbers::starting_at(1)).unwrap();
        assert!(ack.contains(expected_999), "{to}:\n{ack}");
        assert!(ack.contains("IK5*R*5~"), "{ack}");
        let problems = reading.problems();
        assert!(problems.iter().any(|problem| problem.path == path), "{path} not in {problems:?}");
    }
}

#[test]
fn an_other_payers_adjustment_reason_must_have_the_carc_shape() {
    let reading = read_text(&edited("CAS*CO*45*60.00~", "CAS*CO*4500*60.00~"));
    assert_eq!(reading.n_claims(), 0);
    let ack = render_999(&reading.interchanges[0], &CONTEXT, &mut ControlNumbers::starting_at(1)).unwrap();
    assert!(ack.contains("IK4*2**7*4500~"), "{ack}");
    let problems = reading.problems();
    assert!(problems.iter().any(|problem| problem.path.ends_with("/CAS02")), "{problems:?}");
}

#[test]
fn structure_faults_are_reported_as_missing_or_unexpected_segments() {
    let cases = [
        ("HI*ABK:E119*ABF:I10~\n", "", "IK3*HI*", segment_error::REQUIRED_SEGMENT_MISSING),
        ("NM1*PR*2*DEMO PAYER*****PI*PAYER01~\nCLM*PCN-0001", "CLM*PCN-0001", "IK3*NM1*", segment_error::REQUIRED_SEGMENT_MISSING),
        ("DTP*472*D8*20260210~\n", "", "IK3*DTP*", segment_error::REQUIRED_SEGMENT_MISSING),
        ("REF*G1*AUTH778~\n", "REF*G1*AUTH778~\nZZ9*1~\n", "IK3*ZZ9*", segment_error::NOT_IN_TRANSACTION_SET),
        ("REF*G1*AUTH778~\n", "REF*G1*AUTH778~\nnm1*1~\n", "IK3*nm1*", segment_error::UNRECOGNIZED_SEGMENT_ID),
        ("N3*100 MAIN ST~\nN4*HARRISBURG*PA*171110000~\n", "N4*HARRISBURG*PA*171110000~\nN3*100 MAIN ST~\n", "IK3*N3*", segment_error::OUT_OF_SEQUENCE),
        ("LX*2~\nSV1*HC:G0008", "LX*3~\nSV1*HC:G0008", "IK3*LX*", segment_error::HAS_ELEMENT_ERRORS),
    ];
    for (from, to, ik3, code) in cases {
        let reading = read_text(&edited(from, to));
        let errors = &reading.interchanges[0].groups[0].transactions[0].errors;
        assert!(errors.iter().any(|error| error.code == code), "{to}: {errors:?}");
        let ack = render_999(&reading.interchanges[0], &CONTEXT, &mut ControlNumbers::starting_at(1)).unwrap();
        assert!(ack.contains(ik3), "{ack}");
    }
}

#[test]
fn front_end_edits_become_claim_issues_with_x12_paths() {
    let cases = [
        ("HI*ABK:E119*ABF:I10", "HI*BK:25000*ABF:I10", "icd9-principal-not-accepted @ 2300/HI01-2"),
        ("HI*ABK:E119*ABF:I10", "HI*ABK:E119*ABF:1I0", "icd10-shape @ 2300/HI02-2"),
        ("XX*1234567893", "XX*1234567890", "npi-check-digit @ 2010AA/NM109"),
        ("XX*1245319599", "XX*1245319598", "npi-check-digit @ 2310B/NM109"),
        ("SV1*HC:99213:25", "SV1*HC:9921:25", "procedure-code-shape @ 2400[1]/SV101-2"),
        ("DTP*472*D8*20260210", "DTP*472*D8*20270210", "service-date-future @ 2400[1]/DTP03"),
        ("CLM*PCN-0001*180.00", "CLM*PCN-0001*181.00", "total-mismatch @ 2300/CLM02"),
        ("***1:2~", "***1:3~", "diagnosis-pointer @ 2400[1]/SV107-2"),
        ("11:B:1*Y", "11:B:8*Y", "related-claim-missing @ 2300/REF02"),
        ("11:B:1*Y", "11:B:5*Y", "frequency-unsupported @ 2300/CLM05-3"),
        ("SV1*HC:G0008*80.00*UN*2", "SV1*HC:G0008*80.00*UN*0", "quantity-range @ 2400[2]/SV104"),
    ];
    for (from, to, expected) in cases {
        let reading = read_text(&edited(from, to));
        assert!(reading.is_clean(), "{to}: {:?}", reading.problems());
        let issues = issue_codes(&reading);
        assert!(issues[0].contains(&expected.to_owned()), "{to}: {issues:?}");
    }
}

#[test]
fn body_limits_are_errors_and_loop_limits_reject_the_transaction() {
    let small = ReadOptions { today: common::TODAY, limits: Limits { bytes_max: 100, claims_max: 10 } };
    assert_eq!(read(VALID_837P.as_bytes(), &small), Err(X12Error::TooLarge { n_bytes: VALID_837P.len(), bytes_max: 100 }));
    let one_claim = ReadOptions { today: common::TODAY, limits: Limits { bytes_max: 1_000_000, claims_max: 1 } };
    assert_eq!(read(VALID_837P.as_bytes(), &one_claim), Err(X12Error::TooManyClaims { claims_max: 1 }));

    let line = "LX*2~\nSV1*HC:G0008*80.00*UN*2*11**1~\nDTP*472*RD8*20260210-20260211~\n";
    let many_lines: String = (2..=51).map(|number| line.replace("LX*2", &format!("LX*{number}"))).collect();
    let reading = read_text(&edited(line, &many_lines));
    let errors = &reading.interchanges[0].groups[0].transactions[0].errors;
    assert_eq!(errors.iter().map(|error| error.code).collect::<Vec<_>>(), [segment_error::LOOP_OVER_MAXIMUM], "{errors:?}");
    assert!(errors[0].message.contains("50"));
}

#[test]
fn the_277ca_carries_the_claim_ids_and_the_rejection_reasons() {
    let reading = read_text(&edited("XX*1245319599", "XX*1245319598"));
    let outcomes: Vec<ClaimOutcome> = reading.claims().map(|claim| ClaimOutcome::as_read(claim, "018f3a2e-0000-7000-8000-000000000001")).collect();
    let mut numbers = ControlNumbers::starting_at(40);
    let text = render_277ca(&reading.interchanges[0], 0, &outcomes, &CONTEXT, &mut numbers).unwrap();
    assert!(text.contains("STC*A3:562:82*20260301*U*180.00~"), "{text}");
    assert!(text.contains("REF*D9*TRACE0001~"), "{text}");
    assert!(text.contains("STC*A1:20*20260301*WQ*75.50~\nREF*1K*018f3a2e-0000-7000-8000-000000000001~\nREF*D9*PCN-0002~"), "{text}");
    assert!(text.contains("NM1*QC*1*ROE*RITA****MI*M00000002~"), "{text}");
    assert!(text.contains("DTP*472*RD8*20260210-20260211~"), "{text}");
    assert!(text.contains("QTY*90*1~\nQTY*AA*1~\nAMT*YU*75.50~\nAMT*YY*180.00~"), "{text}");
    assert_eq!(numbers, ControlNumbers { next_interchange: 41, next_group: 41, next_transaction: 41 });
    let n_segments = text.lines().skip_while(|line| !line.starts_with("ST*")).take_while(|line| !line.starts_with("GE*")).count();
    assert!(text.contains(&format!("SE*{n_segments}*0040~")), "{text}");
}

#[test]
fn an_837i_line_may_be_a_revenue_code_alone_but_not_a_bad_one() {
    // SV202 is situational in 837I: a room-and-board line carries revenue code 0120 only.
    let room_and_board = recount_837i(&VALID_837I.replacen("SV2*0300*HC:80053*250.00*UN*1~", "SV2*0120**250.00*DA*1~", 1));
    let reading = read_text(&room_and_board);
    assert!(reading.is_clean(), "{:?}", reading.problems());
    let claim = reading.claims().next().unwrap();
    assert!(claim.claim.issues.is_empty(), "{:?}", claim.claim.issues);
    assert_eq!(claim.claim.claim.lines[1].procedure_code, "0120");
    let bad_revenue = recount_837i(&VALID_837I.replacen("SV2*0300*HC:80053*250.00*UN*1~", "SV2*12**250.00*DA*1~", 1));
    let reading = read_text(&bad_revenue);
    let codes: Vec<String> = reading.claims().next().unwrap().claim.issues.iter().map(|issue| issue.code.clone()).collect();
    assert!(codes.contains(&"procedure-code-missing".to_owned()), "{codes:?}");
}

fn recount_837i(text: &str) -> String {
    assert_ne!(text, VALID_837I, "the fixture changed");
    recount(text)
}

/// Each claim of `reading` decided as the reader left it (accepted when it has no issue).
fn outcomes_of(reading: &Reading) -> Vec<ClaimOutcome> {
    reading.claims().map(|claim| ClaimOutcome::as_read(claim, format!("CLAIM{}", claim.position.claim))).collect()
}

/// The 999 and the 277CA of a body, as the reader decides its claims.
fn acknowledgments_of(text: &str) -> (String, String) {
    let reading = read_text(text);
    let outcomes = outcomes_of(&reading);
    let mut numbers = ControlNumbers::starting_at(1);
    let ack_999 = render_999(&reading.interchanges[0], &CONTEXT, &mut numbers).unwrap();
    let ack_277ca = render_277ca(&reading.interchanges[0], 0, &outcomes, &CONTEXT, &mut numbers).unwrap_or_default();
    (ack_999, ack_277ca)
}

/// 837P with ICD-9 diagnoses (BK, BF), and an 837I with ICD-9 principal,
/// admitting, external cause, other diagnoses and procedure besides a DRG.
fn icd9_837p() -> String {
    edited("HI*ABK:E119*ABF:I10", "HI*BK:25000*BF:4019")
}

fn icd9_837i() -> String {
    recount_837i(&VALID_837I.replacen(
        "HI*ABK:S72001A~\nHI*ABF:I10*ABF:E119~",
        "HI*BK:82000~\nHI*BJ:82000~\nHI*BN:E8889~\nHI*BF:4019*ABF:E119~\nHI*BR:7915~\nHI*DR:470~",
        1,
    ))
}

#[test]
fn icd9_qualifiers_are_valid_syntax_and_a_code_set_rejection_in_the_277ca() {
    let reading = read_text(&icd9_837p());
    assert!(reading.is_clean(), "{:?}", reading.problems());
    assert_eq!(
        issue_codes(&reading)[0],
        ["icd9-principal-not-accepted @ 2300/HI01-2", "icd9-not-accepted @ 2300/HI02-2"],
        "the diagnoses are still numbered for the pointers"
    );
    let (ack_999, ack_277ca) = acknowledgments_of(&icd9_837p());
    assert!(!ack_999.contains("IK3*") && ack_999.contains("IK5*A~") && ack_999.contains("AK9*A*1*1*1~"), "{ack_999}");
    assert!(ack_277ca.contains("STC*A7:254*20260301*U*180.00~\nSTC*A7:255*20260301*U*180.00~"), "{ack_277ca}");

    let reading = read_text(&icd9_837i());
    assert!(reading.is_clean(), "{:?}", reading.problems());
    assert_eq!(
        issue_codes(&reading)[0],
        [
            "icd9-principal-not-accepted @ 2300/HI01-2",
            "icd9-not-accepted @ 2300/HI01-2",
            "icd9-not-accepted @ 2300/HI01-2",
            "icd9-not-accepted @ 2300/HI01-2",
            "icd9-procedure-not-accepted @ 2300/HI01-2",
        ]
    );
    let (ack_999, ack_277ca) = acknowledgments_of(&icd9_837i());
    assert!(!ack_999.contains("IK3*") && ack_999.contains("IK5*A~"), "{ack_999}");
    for stc in ["STC*A7:254*", "STC*A7:255*", "STC*A7:454*"] {
        assert!(ack_277ca.contains(stc), "{stc} in {ack_277ca}");
    }
    // ICD-10 in the same places is no issue.
    let icd10 = recount_837i(&VALID_837I.replacen("HI*ABF:I10*ABF:E119~", "HI*ABF:I10*ABF:E119~\nHI*ABJ:S72001A~\nHI*BBR:0QS604Z~", 1));
    let reading = read_text(&icd10);
    assert!(reading.is_clean(), "{:?}", reading.problems());
    assert!(issue_codes(&reading)[0].is_empty(), "{:?}", issue_codes(&reading));
}

#[test]
fn an_hi_qualifier_the_guide_lacks_is_a_999_error_at_that_hi_not_a_missing_hi() {
    // The HI is segment 23 of the transaction (ST is 1).
    let cases = [
        // A component separator the ISA does not declare (ISA16 is `:`): HI01-1 is `BK>25000`.
        ("HI*BK>25000*BF>4019", "IK3*HI*23*2300*8~\nIK4*1:1**7*BK>25000~"),
        // An 837I-only qualifier (admitting diagnosis) in an 837P.
        ("HI*ABK:E119*ABJ:I10", "IK3*HI*23*2300*8~\nIK4*2:1**7*ABJ~"),
        ("HI*ABJ:E119", "IK3*HI*23*2300*8~\nIK4*1:1**7*ABJ~"),
    ];
    for (hi, expected) in cases {
        let text = edited("HI*ABK:E119*ABF:I10", hi);
        let reading = read_text(&text);
        let errors = &reading.interchanges[0].groups[0].transactions[0].errors;
        assert!(errors.iter().all(|error| error.code != segment_error::REQUIRED_SEGMENT_MISSING), "{hi}: {errors:?}");
        let (ack_999, _) = acknowledgments_of(&text);
        assert!(ack_999.contains(expected), "{hi}:\n{ack_999}");
        assert!(ack_999.contains("IK5*R*5~"), "{hi}:\n{ack_999}");
    }
    // With no HI at all, the principal diagnosis is missing, where the claim ends.
    let (ack_999, _) = acknowledgments_of(&edited("HI*ABK:E119*ABF:I10~\n", ""));
    assert!(ack_999.contains("IK3*HI*") && ack_999.contains("*2300*3~"), "{ack_999}");
}

#[test]
fn a_five_digit_billing_provider_zip_is_a_claim_rejection_in_the_277ca() {
    let text = edited("N4*HARRISBURG*PA*171110000~\nREF*EI", "N4*HARRISBURG*PA*17111~\nREF*EI");
    let reading = read_text(&text);
    assert!(reading.is_clean(), "valid X12 syntax: {:?}", reading.problems());
    for issues in issue_codes(&reading) {
        assert_eq!(issues, ["billing-zip-not-9-digits @ 2010AA/N403"]);
    }
    let (ack_999, ack_277ca) = acknowledgments_of(&text);
    assert!(ack_999.contains("IK5*A~"), "{ack_999}");
    assert_eq!(ack_277ca.matches("STC*A7:500:85*").count(), 2, "{ack_277ca}");
    assert!(!ack_277ca.contains("REF*1K*"), "{ack_277ca}");
    // The subscriber's 5-digit ZIP is no issue: the rule is the billing provider's.
    let subscriber = edited("N3*5 ELM ST~\nN4*HARRISBURG*PA*171110000~", "N3*5 ELM ST~\nN4*HARRISBURG*PA*17111~");
    assert!(issue_codes(&read_text(&subscriber))[0].is_empty());
}

/// pyx12 checks the 999s and 277CAs of these edge cases against the guides.
#[test]
fn the_acknowledgments_of_the_edge_cases_pass_the_independent_validator() {
    let dir = std::env::temp_dir().join(format!("claimtrail-x12-edge-acks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        ("icd9-837p", icd9_837p()),
        ("icd9-837i", icd9_837i()),
        ("undeclared-separator", edited("HI*ABK:E119*ABF:I10", "HI*BK>25000*BF>4019")),
        ("zip5", edited("N4*HARRISBURG*PA*171110000~\nREF*EI", "N4*HARRISBURG*PA*17111~\nREF*EI")),
    ];
    let mut written = Vec::new();
    for (name, text) in &cases {
        let (ack_999, ack_277ca) = acknowledgments_of(text);
        for (kind, ack) in [("999", ack_999), ("277", ack_277ca)] {
            if !ack.is_empty() {
                let path = dir.join(format!("{name}.{kind}"));
                std::fs::write(&path, ack).unwrap();
                written.push(path);
            }
        }
    }
    assert_eq!(written.len(), 7, "a 999 for each, a 277CA for each but the rejected transaction");
    let (ok, report) = common::validate_x12(&written);
    assert!(ok, "validate-x12 refused acknowledgments:\n{report}");
    let _ = std::fs::remove_dir_all(&dir);
}
