//! The settlement scenarios of the domain file (section (c): 6, 9, 10, 11),
//! to the cent: claims → payment run → 835 → ACH file → PaymentReconciliation.
//! Every 835 passes the independent validators (`validate-x12`, pyx12, and
//! `x835-balance`), every PaymentReconciliation `validate-fhir`, and every
//! ACH file is read back by a NACHA parser written here, independent of the writer.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use claimtrail_codes::{Carc, GroupCode, Rarc};
use claimtrail_events::{Adjustment, BankAccount, LineDecision, Money};
use claimtrail_settlement::domain::ach::{self, AchBatch, FileHeader};
use claimtrail_settlement::domain::advice::{self, Written};
use claimtrail_settlement::domain::journal::{self, Balances};
use claimtrail_settlement::domain::payment_run::{
    Debt, Payable, PayableKind, Payee, PaymentRun, PlbReason, PromptPay, RefundPart, Remittance, RemittanceStatus, RunFacts, apply_refund, plan_run,
};
use time::macros::{date, time};
use time::{Date, Duration};
use uuid::Uuid;

#[path = "support/fixtures.rs"]
mod fixtures;
use fixtures::{address, payer};

const NPI_A: &str = "1234567893";
const NPI_B: &str = "1003000126";
const RUN_DATE: Date = date!(2026 - 03 - 02);

fn money(text: &str) -> Money {
    Money::parse(text).unwrap()
}

fn payee(npi: &str, routing: &str) -> Payee {
    Payee {
        npi: npi.into(),
        name: format!("CLINIC {npi}"),
        tin: "987654321".into(),
        pay_to: address(&format!("CLINIC {npi}")),
        bank_account: Some(BankAccount { routing_number: routing.into(), account_number: "55501234".into(), account_type: "checking".into() }),
        prenote_effective_on: Some(date!(2026 - 01 - 05)),
        account_hold: None,
    }
}

/// A line: charge, allowed, and the adjustments (group, CARC, amount); paid = charge − adjustments.
fn line(sequence: u32, code: &str, charge: &str, allowed: &str, adjustments: &[(GroupCode, &str, &str)], remarks: &[&str]) -> LineDecision {
    let adjustments: Vec<Adjustment> =
        adjustments.iter().map(|(group, carc, amount)| Adjustment { group: *group, reason: Carc::parse(carc).unwrap(), amount: money(amount) }).collect();
    let adjusted = Money::checked_sum(adjustments.iter().map(|a| &a.amount)).unwrap();
    let patient = Money::checked_sum(adjustments.iter().filter(|a| a.group == GroupCode::Pr).map(|a| &a.amount)).unwrap();
    LineDecision {
        sequence,
        procedure_code: code.into(),
        charge: money(charge),
        allowed: money(allowed),
        paid: money(charge).checked_sub(adjusted).unwrap(),
        patient_responsibility: patient,
        adjustments,
        remarks: remarks.iter().map(|r| Rarc::parse(r).unwrap()).collect(),
        explanation: vec![],
        steps: vec![],
    }
}

fn payable(claim: u128, npi: &str, kind: PayableKind, lines: Vec<LineDecision>, adjudicated_on: Date) -> Payable {
    let sum = |f: fn(&LineDecision) -> Money| Money::checked_sum(lines.iter().map(f).collect::<Vec<_>>().iter()).unwrap();
    Payable {
        claim_id: Uuid::from_u128(claim),
        kind,
        payer_id: "P1".into(),
        billing_npi: npi.into(),
        patient_control_number: format!("PCN{claim}"),
        member_id: "M0001".into(),
        total_charge: sum(|l| l.charge),
        total_paid: sum(|l| l.paid),
        total_patient_responsibility: sum(|l| l.patient_responsibility),
        lines,
        adjudicated_on,
        payer_sequence: claimtrail_events::PayerSequence::Primary,
    }
}

fn facts(payables: Vec<Payable>, debts: BTreeMap<String, Vec<Debt>>) -> RunFacts {
    RunFacts {
        run_id: Uuid::from_u128(0xAAAA),
        payer: payer(),
        run_date: RUN_DATE,
        prompt_pay: PromptPay::DEFAULT,
        payables,
        payees: BTreeMap::from([(NPI_A.to_owned(), payee(NPI_A, "011000015")), (NPI_B.to_owned(), payee(NPI_B, "021000021"))]),
        debts,
        holds: BTreeMap::new(),
        refunds: BTreeMap::new(),
        first_entry_sequence: 41,
    }
}

fn run(facts: &RunFacts) -> PaymentRun {
    let mut n = 0u128;
    plan_run(facts, || {
        n += 1;
        Uuid::from_u128(0xB000 + n)
    })
    .unwrap()
}

/// One cycle of provider B after `before`: its claims paying `paid`, what it owes, its refunds to acknowledge.
fn cycle_of_b(n: u128, paid: &str, owes: Vec<Debt>, refunds: Vec<RefundPart>) -> (PaymentRun, Remittance, String) {
    let claim = payable(n, NPI_B, PayableKind::Decision, vec![line(1, "99213", paid, paid, &[], &[])], date!(2026 - 02 - 20));
    let mut facts = facts(vec![claim], BTreeMap::from([(NPI_B.to_owned(), owes)]));
    facts.refunds.insert(NPI_B.to_owned(), refunds);
    facts.run_id = Uuid::from_u128(0xA000 + n);
    let mut id = Uuid::from_u128(0xC000 + n);
    let run = plan_run(&facts, || std::mem::replace(&mut id, Uuid::nil())).unwrap();
    let remittance = run.remittances[0].clone();
    let x835 = the_835(&run, &remittance, n as u32);
    (run, remittance, x835)
}

fn the_835(run: &PaymentRun, remittance: &Remittance, control_number: u32) -> String {
    let payee = payee(&remittance.npi, if remittance.npi == NPI_A { "011000015" } else { "021000021" });
    advice::remittance_835(run, remittance, &payer(), &payee, Written { date: RUN_DATE, time: time!(10:30), control_number }).unwrap()
}

fn shared_tool(name: &str) -> PathBuf {
    let dir = match std::env::var_os("CLAIMTRAIL_SHARED") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    };
    let tool = dir.join("tools").join(name);
    assert!(tool.is_file(), "the validator is missing at {}", tool.display());
    tool
}

/// Runs a shared validator on files; panics with its report unless it passes.
/// Writes each 835 (file name, text) into `dir` and runs the balance check and the X12 validator over them.
fn validate_835s(dir: &tempfile::TempDir, x835s: &[(&str, &String)]) {
    let files: Vec<PathBuf> = x835s
        .iter()
        .map(|(name, text)| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        })
        .collect();
    validate("x835-balance", &files);
    validate("validate-x12", &files);
}

fn validate(tool: &str, files: &[PathBuf]) {
    let output = std::process::Command::new(shared_tool(tool)).args(files).env("VERBOSE", "1").output().unwrap();
    let report = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{tool} refused:\n{report}\n{}", files.iter().map(|f| std::fs::read_to_string(f).unwrap()).collect::<Vec<_>>().join("\n"));
}

fn segments(x12: &str) -> Vec<Vec<String>> {
    x12.split('~').map(str::trim).filter(|s| !s.is_empty()).map(|s| s.split('*').map(str::to_owned).collect()).collect()
}

fn segment<'a>(segments: &'a [Vec<String>], id: &str) -> Vec<&'a Vec<String>> {
    segments.iter().filter(|s| s[0] == id).collect()
}

/// Scenario 6 (copay), 9 (replacement after payment) and 11 (interest and a recovery) in one cycle for provider A;
/// scenario 10 (a void with no money) for provider B over two cycles.
#[test]
fn the_settlement_scenarios_pay_to_the_cent_and_pass_the_validators() {
    let dir = tempfile::tempdir().unwrap();
    let recent = date!(2026 - 02 - 20);
    // Scenario 6: charge 180, allowed 120, CO-45 60, PR-3 25, paid 95.
    let copay = payable(
        6,
        NPI_A,
        PayableKind::Decision,
        vec![line(1, "99213", "180.00", "120.00", &[(GroupCode::Co, "45", "60.00"), (GroupCode::Pr, "3", "25.00")], &[])],
        recent,
    );
    assert_eq!(copay.total_paid, money("95.00"));
    // Scenario 9: A paid 80, replaced by B paying 120: the 835 reverses A (CLP02 22) and pays B: +40.
    let original = line(1, "G0008", "400.00", "100.00", &[(GroupCode::Co, "45", "300.00"), (GroupCode::Pr, "2", "20.00")], &["N130"]);
    let reversal = payable(90, NPI_A, PayableKind::Reversal, vec![original.amounts_negated()], recent);
    let replacement = payable(
        91,
        NPI_A,
        PayableKind::Decision,
        vec![line(1, "G0008", "400.00", "150.00", &[(GroupCode::Co, "45", "250.00"), (GroupCode::Pr, "2", "30.00")], &[])],
        recent,
    );
    // Scenario 11: claims 1,200 (500 of them paid 243 days after the prompt-pay limit: L6 −15.40), recovery WO +200 of claim 77.
    let late = RUN_DATE + Duration::days(1) - Duration::days(30 + 243);
    let slow = payable(110, NPI_A, PayableKind::Decision, vec![line(1, "J1100", "500.00", "500.00", &[], &[])], late);
    let prompt = payable(111, NPI_A, PayableKind::Decision, vec![line(1, "G0009", "900.00", "700.00", &[(GroupCode::Co, "45", "200.00")], &[])], recent);
    // Scenario 10, cycle 1: provider B's claim 10 (paid 300 earlier) is voided; nothing else this cycle.
    let void = payable(
        10,
        NPI_B,
        PayableKind::Reversal,
        vec![line(1, "99213", "500.00", "300.00", &[(GroupCode::Co, "45", "200.00")], &[]).amounts_negated()],
        recent,
    );
    let debts = BTreeMap::from([(NPI_A.to_owned(), vec![Debt::of_claim(Uuid::from_u128(77), money("200.00"), Uuid::from_u128(1))])]);
    let first = run(&facts(vec![copay, reversal, replacement, slow, prompt, void], debts));
    assert_eq!(first.effective_date, date!(2026 - 03 - 03));

    assert_eq!(first.remittances.len(), 2);
    let of = |npi: &str| first.remittances.iter().find(|r| r.npi == npi).unwrap();
    let (a, b) = (of(NPI_A), of(NPI_B));
    // Provider A: ΣCLP04 = 95 − 80 + 120 + 500 + 700 = 1,335; L6 −15.40; WO +200 → BPR02 1,150.40.
    assert_eq!((a.status, a.claims_total, a.interest, a.amount), (RemittanceStatus::Ach, money("1335.00"), money("15.40"), money("1150.40")));
    assert_eq!(
        a.provider_adjustments.iter().map(|p| (p.reason, p.amount)).collect::<Vec<_>>(),
        [(PlbReason::Interest, money("-15.40")), (PlbReason::WriteOff, money("200.00"))]
    );
    // Provider B: CLP04 −300, PLB WO −300 → BPR02 0, a zero-net 835.
    assert_eq!((b.status, b.claims_total, b.amount), (RemittanceStatus::Zero, money("-300.00"), Money::ZERO));
    assert_eq!(b.debts_after, [Debt::of_claim(Uuid::from_u128(10), money("300.00"), first.run_id)]);

    let x835_a = the_835(&first, a, 1);
    let x835_b = the_835(&first, b, 2);
    let seg_a = segments(&x835_a);
    let bpr = segment(&seg_a, "BPR")[0];
    assert_eq!((bpr[1].as_str(), bpr[2].as_str(), bpr[4].as_str(), bpr[16].as_str()), ("I", "1150.40", "ACH", "20260303"));
    let trn = segment(&seg_a, "TRN")[0];
    assert_eq!((trn[2].as_str(), trn[3].as_str()), (a.trace_number.as_deref().unwrap(), "1251234567"));
    let clps: Vec<(String, String, String)> = segment(&seg_a, "CLP").iter().map(|c| (c[1].clone(), c[2].clone(), c[4].clone())).collect();
    assert!(clps.contains(&("PCN90".into(), "22".into(), "-80.00".into())), "{clps:?}");
    assert!(clps.contains(&("PCN91".into(), "1".into(), "120.00".into())), "{clps:?}");
    // The reversal negates the original's block exactly.
    assert!(x835_a.contains("CLP*PCN90*22*-400.00*-80.00*-20.00*ZZ*"), "{x835_a}");
    assert!(x835_a.contains("SVC*HC:G0008*-400.00*-80.00~\nCAS*CO*45*-300.00~\nCAS*PR*2*-20.00~\nAMT*B6*-100.00~\nLQ*HE*N130~"), "{x835_a}");
    assert!(x835_a.contains("CAS*CO*45*60.00~\nCAS*PR*3*25.00~"), "{x835_a}");
    let plb = segment(&seg_a, "PLB")[0];
    assert_eq!(plb[3..].to_vec(), [format!("L6:{}", Uuid::from_u128(110)), "-15.40".into(), format!("WO:{}", Uuid::from_u128(77)), "200.00".into()]);
    let seg_b = segments(&x835_b);
    let bpr = segment(&seg_b, "BPR")[0];
    assert_eq!((bpr[1].as_str(), bpr[2].as_str(), bpr[4].as_str(), bpr.len()), ("H", "0.00", "NON", 17));
    assert_eq!(segment(&seg_b, "PLB")[0][3..].to_vec(), [format!("WO:{}", Uuid::from_u128(10)), "-300.00".into()]);

    // Scenario 10, cycle 2: claims 1,000 and WO +300 citing claim 10 → BPR02 700.
    let thousand = payable(12, NPI_B, PayableKind::Decision, vec![line(1, "99213", "1000.00", "1000.00", &[], &[])], recent);
    let mut next_facts = facts(vec![thousand], BTreeMap::from([(NPI_B.to_owned(), b.debts_after.clone())]));
    next_facts.run_id = Uuid::from_u128(0xAAAB);
    next_facts.run_date = date!(2026 - 03 - 09);
    next_facts.first_entry_sequence = first.next_entry_sequence;
    let second = run(&next_facts);
    let c = &second.remittances[0];
    assert_eq!((c.status, c.amount, c.debts_after.len()), (RemittanceStatus::Ach, money("700.00"), 0));
    let x835_c = the_835(&second, c, 3);
    assert!(x835_c.contains(&format!("PLB*{NPI_B}*20261231*WO:{}*300.00~", Uuid::from_u128(10))), "{x835_c}");

    validate_835s(&dir, &[("a.835", &x835_a), ("b.835", &x835_b), ("c.835", &x835_c)]);

    // The ACH files, read back by the parser below, match the runs to the cent.
    for (the_run, settled) in [(&first, vec![a]), (&second, vec![c])] {
        let batch = ach::batch_of(the_run, &payer(), |npi| payee(npi, if npi == NPI_A { "011000015" } else { "021000021" }).bank_account).unwrap();
        let file =
            ach::write_file(&payer(), &FileHeader { created_on: RUN_DATE, created_at: time!(10:30), file_id_modifier: 'A' }, std::slice::from_ref(&batch));
        let read = read_nacha(&file);
        assert_eq!(read.batches.len(), 1);
        let parsed = &read.batches[0];
        assert_eq!(parsed.effective_yymmdd, yymmdd(the_run.effective_date));
        assert_eq!((parsed.description.as_str(), parsed.sec.as_str(), parsed.company_id.as_str()), ("HCCLAIMPMT", "CCD", "1251234567"));
        let expected: Vec<(i64, String)> = settled.iter().map(|r| (r.amount.to_cents().unwrap(), r.trace_number.clone().unwrap())).collect();
        let got: Vec<(i64, String)> = parsed.entries.iter().map(|e| (e.amount_cents, e.trace.clone())).collect();
        assert_eq!(got, expected);
        for entry in &parsed.entries {
            assert_eq!(entry.addenda, format!("TRN*1*{}*1251234567\\", entry.trace));
        }
        assert_eq!(read.total_credit_cents, batch.total_debit.to_cents().unwrap());
    }

    // PaymentReconciliation of each settled remittance passes validate-fhir.
    let resources: Vec<PathBuf> = [(&first, a, "a"), (&first, b, "b"), (&second, c, "c")]
        .into_iter()
        .map(|(the_run, remittance, name)| {
            let resource = advice::reconciliation(the_run, remittance, &payer(), "2026-03-02T10:30:00Z");
            assert_eq!(resource["paymentAmount"]["value"], serde_json::json!(remittance.amount.to_string().parse::<f64>().unwrap()));
            let path = dir.path().join(format!("{name}.json"));
            std::fs::write(&path, serde_json::to_vec_pretty(&resource).unwrap()).unwrap();
            path
        })
        .collect();
    validate("validate-fhir", &resources);

    // The journal: every remittance's entry balances, and the replay leaves what is owed where it should be.
    let mut entries: Vec<Vec<claimtrail_events::JournalLine>> = Vec::new();
    for remittance in [a, b, c] {
        let lines = journal::payment_lines("P1", remittance);
        assert!(journal::is_balanced(&lines), "{lines:?}");
        entries.push(lines);
    }
    let balances = Balances::replay(entries.iter().map(Vec::as_slice)).unwrap();
    assert_eq!(balances.0[&journal::bank_account("P1")], money("-1850.40"));
    assert_eq!(balances.0[&journal::interest_expense_account("P1")], money("15.40"));
    // B's receivable: opened 300 in cycle 1, recovered 300 in cycle 2; A's: 200 recovered.
    assert_eq!(balances.0[&journal::recoupment_receivable_account(NPI_B)], Money::ZERO);
    assert_eq!(balances.0[&journal::recoupment_receivable_account(NPI_A)], money("-200.00"));
}

fn yymmdd(date: Date) -> String {
    format!("{:02}{:02}{:02}", date.year() % 100, u8::from(date.month()), date.day())
}

// An independent NACHA reader: fixed positions from the NACHA Operating Rules' record layouts.

struct NachaFile {
    batches: Vec<NachaBatch>,
    total_credit_cents: i64,
}

struct NachaBatch {
    company_id: String,
    sec: String,
    description: String,
    effective_yymmdd: String,
    entries: Vec<NachaEntry>,
}

struct NachaEntry {
    amount_cents: i64,
    trace: String,
    addenda: String,
}

fn field(record: &str, from: usize, to: usize) -> &str {
    // 1-based, inclusive positions as the rules print them.
    &record[from - 1..to]
}

fn read_nacha(file: &str) -> NachaFile {
    let records: Vec<&str> = file.lines().collect();
    assert!(records.iter().all(|r| r.len() == 94), "every record is 94 characters");
    assert_eq!(records.len() % 10, 0, "blocking factor 10");
    assert_eq!(field(records[0], 1, 1), "1");
    assert_eq!(field(records[0], 35, 37), "094");
    assert_eq!(field(records[0], 38, 39), "10");
    let mut batches: Vec<NachaBatch> = Vec::new();
    let (mut hash_all, mut entries_all, mut credit_all) = (0u64, 0u64, 0i64);
    let mut file_control = None;
    let mut idx = 1;
    while idx < records.len() {
        let record = records[idx];
        match &record[..1] {
            "5" => {
                batches.push(NachaBatch {
                    company_id: field(record, 41, 50).to_owned(),
                    sec: field(record, 51, 53).to_owned(),
                    description: field(record, 54, 63).trim().to_owned(),
                    effective_yymmdd: field(record, 70, 75).to_owned(),
                    entries: vec![],
                });
                let (mut hash, mut count, mut credit) = (0u64, 0u64, 0i64);
                idx += 1;
                loop {
                    let record = records[idx];
                    match &record[..1] {
                        "6" => {
                            let code = field(record, 2, 3);
                            assert!(["22", "23", "32", "33"].contains(&code), "credit or prenote codes only: {code}");
                            hash += field(record, 4, 11).parse::<u64>().unwrap();
                            let amount: i64 = field(record, 30, 39).parse().unwrap();
                            if code == "22" || code == "32" {
                                credit += amount;
                            } else {
                                assert_eq!(amount, 0, "a prenote is zero");
                            }
                            let has_addenda = field(record, 79, 79) == "1";
                            let trace = field(record, 80, 94).to_owned();
                            count += 1;
                            let mut addenda = String::new();
                            if has_addenda {
                                idx += 1;
                                let a = records[idx];
                                assert_eq!(field(a, 1, 3), "705");
                                assert_eq!(field(a, 88, 94), &trace[8..]);
                                addenda = field(a, 4, 83).trim_end().to_owned();
                                count += 1;
                            }
                            if code == "22" || code == "32" {
                                batches.last_mut().unwrap().entries.push(NachaEntry { amount_cents: amount, trace, addenda });
                            }
                        }
                        "8" => {
                            assert_eq!(field(record, 5, 10).parse::<u64>().unwrap(), count, "batch entry/addenda count");
                            assert_eq!(field(record, 11, 20).parse::<u64>().unwrap(), hash % 10_000_000_000, "batch entry hash");
                            assert_eq!(field(record, 21, 32).parse::<i64>().unwrap(), 0, "no offsetting debit");
                            assert_eq!(field(record, 33, 44).parse::<i64>().unwrap(), credit, "batch credit total");
                            break;
                        }
                        other => panic!("unexpected record type {other} in a batch"),
                    }
                    idx += 1;
                }
                hash_all += hash;
                entries_all += count;
                credit_all += credit;
            }
            "9" if file_control.is_none() => file_control = Some(record),
            "9" => assert_eq!(record, "9".repeat(94), "padding"),
            other => panic!("unexpected record type {other}"),
        }
        idx += 1;
    }
    let control = file_control.expect("a file control record");
    assert_eq!(field(control, 2, 7).parse::<usize>().unwrap(), batches.len());
    assert_eq!(field(control, 8, 13).parse::<usize>().unwrap(), records.len() / 10, "block count");
    assert_eq!(field(control, 14, 21).parse::<u64>().unwrap(), entries_all);
    assert_eq!(field(control, 22, 31).parse::<u64>().unwrap(), hash_all % 10_000_000_000);
    assert_eq!(field(control, 44, 55).parse::<i64>().unwrap(), credit_all);
    NachaFile { batches, total_credit_cents: credit_all }
}

#[test]
fn an_ach_batch_is_typed_for_the_bank_side() {
    let first =
        run(&facts(vec![payable(1, NPI_A, PayableKind::Decision, vec![line(1, "99213", "80.00", "80.00", &[], &[])], date!(2026 - 02 - 20))], BTreeMap::new()));
    let batch: AchBatch = ach::batch_of(&first, &payer(), |npi| payee(npi, "011000015").bank_account).unwrap();
    assert_eq!(
        (batch.batch_number, batch.company_id.as_str(), batch.effective_date, batch.total_debit),
        (1, "1251234567", date!(2026 - 03 - 03), money("80.00"))
    );
    assert_eq!(batch.entries[0].remittance_id, Some(first.remittances[0].remittance_id));
    assert_eq!(batch.entries[0].trace_number, "031000050000041");
}

/// Scenario 10 when the debt cannot be recovered by WO: the void's 300.00 is
/// taken by WO in full in a cycle of 100.00, and the 200.00 the cycle cannot
/// cover is forwarded (FB −200.00 citing that 835's TRN02); the next cycle of
/// 150.00 applies it (FB +200.00) and forwards the rest (FB −50.00); the
/// provider then refunds 30.00 by check, which its next 835 acknowledges
/// (72 −30.00 offset by FB +30.00), and that cycle of 80.00 applies the 20.00
/// still forwarded: BPR02 60.00. Every 835 passes the validators.
#[test]
fn scenario_10_a_debt_the_cycles_cannot_cover_is_forwarded_by_fb_and_a_refund_is_acknowledged_by_72() {
    let dir = tempfile::tempdir().unwrap();
    let owed = vec![Debt::of_claim(Uuid::from_u128(10), money("300.00"), Uuid::from_u128(1))];
    let (_, second, x835_2) = cycle_of_b(2, "100.00", owed, vec![]);
    let trn_2 = segment(&segments(&x835_2), "TRN")[0][2].clone();
    assert_eq!((second.status, second.amount), (RemittanceStatus::Zero, Money::ZERO));
    assert_eq!(
        segment(&segments(&x835_2), "PLB")[0][3..].to_vec(),
        [format!("WO:{}", Uuid::from_u128(10)), "300.00".into(), format!("FB:{trn_2}"), "-200.00".into()]
    );
    let (_, third, x835_3) = cycle_of_b(3, "150.00", second.debts_after.clone(), vec![]);
    let trn_3 = segment(&segments(&x835_3), "TRN")[0][2].clone();
    assert_eq!(segment(&segments(&x835_3), "PLB")[0][3..].to_vec(), [format!("FB:{trn_2}"), "200.00".into(), format!("FB:{trn_3}"), "-50.00".into()]);
    assert_eq!((third.amount, third.debts_after[0].amount), (Money::ZERO, money("50.00")));
    // The refund check: 30.00 of the 50.00 forwarded.
    let (owes, parts) = apply_refund(Uuid::from_u128(0xF), NPI_B, &third.debts_after, money("30.00")).unwrap();
    assert_eq!(owes[0].amount, money("20.00"));
    let (_, fourth, x835_4) = cycle_of_b(4, "80.00", owes, parts);
    assert_eq!((fourth.status, fourth.amount), (RemittanceStatus::Ach, money("60.00")));
    assert!(fourth.debts_after.is_empty());
    assert_eq!(
        segment(&segments(&x835_4), "PLB")[0][3..].to_vec(),
        [format!("FB:{trn_3}"), "20.00".into(), format!("72:{trn_3}"), "-30.00".into(), format!("FB:{trn_3}"), "30.00".into()]
    );
    validate_835s(&dir, &[("2.835", &x835_2), ("3.835", &x835_3), ("4.835", &x835_4)]);
    // The journal: the receivable opened by the void (300.00) is recovered 100 + 150 + 20 from payments and 30 by the check.
    let void_lines = vec![
        claimtrail_events::JournalLine { account: journal::recoupment_receivable_account(NPI_B), debit: money("300.00"), credit: Money::ZERO },
        claimtrail_events::JournalLine { account: journal::provider_payable_account(NPI_B), debit: Money::ZERO, credit: money("300.00") },
    ];
    let mut entries = vec![void_lines, journal::refund_lines("P1", NPI_B, money("30.00"))];
    entries.extend([&second, &third, &fourth].map(|remittance| journal::payment_lines("P1", remittance)));
    assert!(entries.iter().all(|lines| journal::is_balanced(lines)));
    let balances = Balances::replay(entries.iter().map(Vec::as_slice)).unwrap();
    assert_eq!(balances.0[&journal::recoupment_receivable_account(NPI_B)], Money::ZERO);
    assert_eq!(balances.0[&journal::bank_account("P1")], money("-30.00"), "60.00 paid out, 30.00 received");
}
