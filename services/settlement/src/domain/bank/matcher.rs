//! Matching a bank statement against what the payer expects to see, pure.
//!
//! Rules, in order (docs/reconciliation.md):
//! 1. An ACH settlement debit matches the one open batch (not matched by an
//!    earlier statement, nor by another line of this one) whose company id
//!    is among the line's references, whose effective date is the line's
//!    date and whose total is the line's amount.
//! 2. A debit left over that names an open batch of that date by its company
//!    id, but with another amount, is an amount mismatch: an exception that
//!    names both amounts (the batch counts as seen).
//! 3. Any other ACH debit is an unmatched item: an exception.
//! 4. A batch with a total above zero, open, whose effective date the
//!    statement covers and that no line matched, is a missing debit: an
//!    exception (not from a NACHA return file, which reports no debits).
//!    A zero-net batch (total 0) is never expected at the bank.
//! 5. A return (R-code) finds its entry by the original trace number and
//!    reopens its remittance ([`Returned`]); with another amount than the
//!    entry's it is an exception instead, and nothing is reopened. A
//!    notification of change (C-code) is recorded for its remittance
//!    ([`ChangeNotified`]); no money moves. A trace number no batch sent, or
//!    a return without a trace, is an exception. A trace already returned
//!    (by an earlier statement, or twice in this one) is applied once.
//!
//! Lines are taken in a canonical order (date, amount, references,
//! position), so the result does not depend on the order of the statement
//! (a property test below).

use std::collections::BTreeSet;

use claimtrail_events::Money;
use uuid::Uuid;

use super::{BankStatement, BatchKey, Direction, ExpectedDebit, LineKind, ReasonCode, StatementFormat, StatementLine};

/// What earlier statements already applied for this payer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    pub matched_batches: BTreeSet<BatchKey>,
    pub returned_traces: BTreeSet<String>,
    /// (trace number, change code) of the notifications of change recorded.
    pub changes: BTreeSet<(String, String)>,
}

/// A bank debit matched to its batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    pub batch: BatchKey,
    pub line: StatementLine,
}

/// A returned entry: its remittance is reopened (not paid after all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Returned {
    pub batch: BatchKey,
    pub remittance_id: Uuid,
    pub trace_number: String,
    pub reason: ReasonCode,
    pub amount: Money,
    pub line: StatementLine,
}

/// A notification of change for an entry's account data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeNotified {
    pub batch: BatchKey,
    pub remittance_id: Uuid,
    pub trace_number: String,
    pub reason: ReasonCode,
    pub corrected_data: String,
    pub line: StatementLine,
}

/// Why an exception was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ExceptionKind {
    /// An ACH debit that matches no batch.
    UnmatchedDebit,
    /// A debit that names a batch of its date, for another amount.
    AmountMismatch,
    /// A batch the statement should show and does not.
    MissingDebit,
    /// A return whose trace number no batch sent, or that carries none.
    UnmatchedReturn,
    /// A return for another amount than its entry's.
    ReturnAmountMismatch,
}

impl ExceptionKind {
    pub const ALL: [ExceptionKind; 5] = [
        ExceptionKind::UnmatchedDebit,
        ExceptionKind::AmountMismatch,
        ExceptionKind::MissingDebit,
        ExceptionKind::UnmatchedReturn,
        ExceptionKind::ReturnAmountMismatch,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ExceptionKind::UnmatchedDebit => "unmatched-debit",
            ExceptionKind::AmountMismatch => "amount-mismatch",
            ExceptionKind::MissingDebit => "missing-debit",
            ExceptionKind::UnmatchedReturn => "unmatched-return",
            ExceptionKind::ReturnAmountMismatch => "return-amount-mismatch",
        }
    }

    pub fn parse(text: &str) -> Option<ExceptionKind> {
        ExceptionKind::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// An item finance must look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exception {
    pub kind: ExceptionKind,
    /// The statement line, when there is one (not for a missing debit).
    pub line: Option<StatementLine>,
    pub batch: Option<BatchKey>,
    pub trace_number: Option<String>,
    pub expected: Option<Money>,
    pub actual: Option<Money>,
    /// What is wrong, in a sentence.
    pub detail: String,
}

/// Everything one statement does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconciliation {
    pub matched: Vec<Matched>,
    pub returned: Vec<Returned>,
    pub changes: Vec<ChangeNotified>,
    pub exceptions: Vec<Exception>,
    /// Positions of returns and changes already applied (by an earlier statement or an earlier line).
    pub already_applied: Vec<String>,
}

fn canonical_key(line: &StatementLine) -> impl Ord + '_ {
    (line.date, line.amount.amount(), line.kind, line.direction, &line.reference, &line.return_info, &line.type_code, &line.position)
}

/// Whether a debit line names a batch: its company id among the references.
fn names(line: &StatementLine, batch: &ExpectedDebit) -> bool {
    let company_id = batch.company_id.trim();
    !company_id.is_empty() && line.reference.split(|c: char| !c.is_ascii_alphanumeric()).any(|token| token == company_id) && line.date == batch.effective_date
}

/// Matches `statement` against the batches `expected`, given what earlier statements `applied`.
pub fn reconcile(statement: &BankStatement, expected: &[ExpectedDebit], applied: &Applied) -> Reconciliation {
    let mut lines: Vec<&StatementLine> = statement.lines.iter().collect();
    lines.sort_by(|a, b| canonical_key(a).cmp(&canonical_key(b)));
    let mut batches: Vec<&ExpectedDebit> = expected.iter().filter(|batch| !applied.matched_batches.contains(&batch.key())).collect();
    batches.sort_by_key(|batch| batch.key());
    let mut result = Reconciliation::default();
    let mut seen: BTreeSet<BatchKey> = BTreeSet::new();

    // Rules 1-3: the ACH settlement debits.
    let debits: Vec<&StatementLine> = lines.iter().copied().filter(|line| line.kind == LineKind::AchDebit && line.direction == Direction::Debit).collect();
    let mut leftover = Vec::new();
    for line in debits {
        let exact = batches.iter().find(|batch| !seen.contains(&batch.key()) && batch.amount == line.amount && names(line, batch));
        match exact {
            Some(batch) => {
                seen.insert(batch.key());
                result.matched.push(Matched { batch: batch.key(), line: line.clone() });
            }
            None => leftover.push(line),
        }
    }
    for line in leftover {
        match batches.iter().find(|batch| !seen.contains(&batch.key()) && names(line, batch)) {
            Some(batch) => {
                seen.insert(batch.key());
                result.exceptions.push(Exception {
                    kind: ExceptionKind::AmountMismatch,
                    line: Some(line.clone()),
                    batch: Some(batch.key()),
                    trace_number: None,
                    expected: Some(batch.amount),
                    actual: Some(line.amount),
                    detail: format!(
                        "the debit at {} of {} names company {} on {}, but batch {} of run {} totals {}",
                        line.position,
                        line.amount,
                        batch.company_id.trim(),
                        claimtrail_events::format_date(line.date),
                        batch.batch_number,
                        batch.run_id,
                        batch.amount
                    ),
                });
            }
            None => result.exceptions.push(Exception {
                kind: ExceptionKind::UnmatchedDebit,
                line: Some(line.clone()),
                batch: None,
                trace_number: None,
                expected: None,
                actual: Some(line.amount),
                detail: format!(
                    "the ACH debit at {} of {} on {} matches no open batch (by company id, effective date and amount)",
                    line.position,
                    line.amount,
                    claimtrail_events::format_date(line.date)
                ),
            }),
        }
    }

    // Rule 4: batches the statement should show.
    if statement.format != StatementFormat::NachaReturns {
        for batch in &batches {
            let covered = statement.from_date <= batch.effective_date && batch.effective_date <= statement.to_date;
            if covered && !batch.amount.is_zero() && !seen.contains(&batch.key()) {
                result.exceptions.push(Exception {
                    kind: ExceptionKind::MissingDebit,
                    line: None,
                    batch: Some(batch.key()),
                    trace_number: None,
                    expected: Some(batch.amount),
                    actual: None,
                    detail: format!(
                        "batch {} of run {} ({} on {}) is not on the statement, which covers that date",
                        batch.batch_number,
                        batch.run_id,
                        batch.amount,
                        claimtrail_events::format_date(batch.effective_date)
                    ),
                });
            }
        }
    }

    // Rule 5: returns and notifications of change, by original trace.
    let mut returned: BTreeSet<&str> = applied.returned_traces.iter().map(String::as_str).collect();
    let mut changed: BTreeSet<(String, String)> = applied.changes.clone();
    for line in lines.iter().copied().filter(|line| line.kind == LineKind::AchReturn) {
        let Some(info) = &line.return_info else {
            result.exceptions.push(unmatched_return(
                line,
                None,
                format!("the return at {} of {} carries no reason and original trace number", line.position, line.amount),
            ));
            continue;
        };
        let trace = info.original_trace.as_str();
        let found = expected.iter().find_map(|batch| batch.entries.iter().find(|entry| entry.trace_number == trace).map(|entry| (batch, entry)));
        let Some((batch, entry)) = found else {
            result.exceptions.push(unmatched_return(
                line,
                Some(trace),
                format!("the {} at {} names trace {trace}, which no batch sent", info.reason, line.position),
            ));
            continue;
        };
        if info.reason.is_change_notification() {
            if !changed.insert((trace.to_owned(), info.reason.to_string())) {
                result.already_applied.push(line.position.clone());
                continue;
            }
            result.changes.push(ChangeNotified {
                batch: batch.key(),
                remittance_id: entry.remittance_id,
                trace_number: trace.to_owned(),
                reason: info.reason.clone(),
                corrected_data: info.corrected_data.clone().unwrap_or_default(),
                line: line.clone(),
            });
            continue;
        }
        if returned.contains(trace) {
            result.already_applied.push(line.position.clone());
            continue;
        }
        if line.amount != entry.amount {
            result.exceptions.push(Exception {
                kind: ExceptionKind::ReturnAmountMismatch,
                line: Some(line.clone()),
                batch: Some(batch.key()),
                trace_number: Some(trace.to_owned()),
                expected: Some(entry.amount),
                actual: Some(line.amount),
                detail: format!(
                    "the {} return at {} of {} for trace {trace}, whose entry paid {}: not reopened",
                    info.reason, line.position, line.amount, entry.amount
                ),
            });
            continue;
        }
        returned.insert(trace);
        result.returned.push(Returned {
            batch: batch.key(),
            remittance_id: entry.remittance_id,
            trace_number: trace.to_owned(),
            reason: info.reason.clone(),
            amount: line.amount,
            line: line.clone(),
        });
    }
    result
}

fn unmatched_return(line: &StatementLine, trace: Option<&str>, detail: String) -> Exception {
    Exception {
        kind: ExceptionKind::UnmatchedReturn,
        line: Some(line.clone()),
        batch: None,
        trace_number: trace.map(str::to_owned),
        expected: None,
        actual: Some(line.amount),
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{ExpectedEntry, ReturnInfo};
    use super::*;
    use proptest::prelude::*;
    use time::Date;
    use time::macros::date;

    const RUN: Uuid = Uuid::from_u128(0x1);
    const DAY: Date = date!(2026 - 12 - 08);

    fn money(text: &str) -> Money {
        Money::parse(text).unwrap()
    }

    fn entry(trace: &str, remittance: u128, amount: &str) -> ExpectedEntry {
        ExpectedEntry { trace_number: trace.into(), remittance_id: Uuid::from_u128(remittance), amount: money(amount) }
    }

    /// Scenario 11's remittance (1,015.40) and a second provider's 120.00, in batch 1.
    fn batch_1() -> ExpectedDebit {
        ExpectedDebit {
            run_id: RUN,
            batch_number: 1,
            company_id: "1123456789".into(),
            effective_date: DAY,
            amount: money("1135.40"),
            entries: vec![entry("091000010000001", 11, "1015.40"), entry("091000010000002", 12, "120.00")],
        }
    }

    fn batch(number: u32, amount: &str, traces: &[(&str, u128, &str)]) -> ExpectedDebit {
        ExpectedDebit {
            run_id: RUN,
            batch_number: number,
            company_id: "1123456789".into(),
            effective_date: DAY,
            amount: money(amount),
            entries: traces.iter().map(|(trace, remittance, amount)| entry(trace, *remittance, amount)).collect(),
        }
    }

    fn debit(position: &str, amount: &str, reference: &str) -> StatementLine {
        StatementLine {
            position: position.into(),
            direction: Direction::Debit,
            kind: LineKind::AchDebit,
            amount: money(amount),
            date: DAY,
            type_code: "466".into(),
            reference: reference.into(),
            return_info: None,
        }
    }

    fn returned(position: &str, amount: &str, trace: &str, reason: &str) -> StatementLine {
        StatementLine {
            position: position.into(),
            direction: Direction::Credit,
            kind: LineKind::AchReturn,
            amount: money(amount),
            date: DAY,
            type_code: "257".into(),
            reference: String::new(),
            return_info: Some(ReturnInfo { original_trace: trace.into(), reason: ReasonCode::parse(reason).unwrap(), corrected_data: None }),
        }
    }

    fn statement(lines: Vec<StatementLine>) -> BankStatement {
        BankStatement { format: StatementFormat::Bai2, statement_id: "bai2:x".into(), account: "1".into(), from_date: DAY, to_date: DAY, lines }
    }

    /// Given `expected` batches and what was `applied`, when `lines` arrive, then `check` the reconciliation.
    fn check(given: (&[ExpectedDebit], &Applied), when: Vec<StatementLine>, then: impl FnOnce(Reconciliation)) {
        then(reconcile(&statement(when), given.0, given.1));
    }

    fn kinds(result: &Reconciliation) -> Vec<ExceptionKind> {
        result.exceptions.iter().map(|exception| exception.kind).collect()
    }

    #[test]
    fn the_debit_of_a_batch_matches_by_company_id_date_and_amount() {
        check((&[batch_1()], &Applied::default()), vec![debit("line 4", "1135.40", "ACH SETTLEMENT CO ID 1123456789")], |then| {
            assert_eq!(then.matched.len(), 1);
            assert_eq!(then.matched[0].batch, BatchKey { run_id: RUN, batch_number: 1 });
            assert!(then.exceptions.is_empty(), "{:?}", then.exceptions);
        });
    }

    #[test]
    fn a_debit_naming_the_batch_with_another_amount_is_a_mismatch() {
        check((&[batch_1()], &Applied::default()), vec![debit("line 4", "1135.00", "CO ID 1123456789")], |then| {
            assert!(then.matched.is_empty());
            assert_eq!(kinds(&then), [ExceptionKind::AmountMismatch]);
            let exception = &then.exceptions[0];
            assert_eq!((exception.expected, exception.actual), (Some(money("1135.40")), Some(money("1135.00"))));
            assert_eq!(
                exception.detail,
                format!("the debit at line 4 of 1135.00 names company 1123456789 on 2026-12-08, but batch 1 of run {RUN} totals 1135.40")
            );
        });
    }

    #[test]
    fn a_debit_of_another_company_or_day_is_unmatched_and_the_batch_missing() {
        let mut other_day = debit("line 5", "1135.40", "CO ID 1123456789");
        other_day.date = date!(2026 - 12 - 09);
        check((&[batch_1()], &Applied::default()), vec![debit("line 4", "1135.40", "CO ID 9999999999"), other_day], |then| {
            assert!(then.matched.is_empty());
            assert_eq!(kinds(&then), [ExceptionKind::UnmatchedDebit, ExceptionKind::UnmatchedDebit, ExceptionKind::MissingDebit]);
        });
    }

    #[test]
    fn a_batch_matched_by_an_earlier_statement_is_not_matched_again_nor_missing() {
        let applied = Applied { matched_batches: [batch_1().key()].into(), ..Applied::default() };
        check((&[batch_1()], &applied), vec![debit("line 4", "1135.40", "CO ID 1123456789")], |then| {
            assert!(then.matched.is_empty());
            assert_eq!(kinds(&then), [ExceptionKind::UnmatchedDebit]);
        });
        check((&[batch_1()], &applied), vec![], |then| assert!(then.exceptions.is_empty()));
    }

    #[test]
    fn two_batches_of_a_day_match_by_amount() {
        let batches = [batch(1, "100.00", &[]), batch(2, "250.00", &[])];
        check((&batches, &Applied::default()), vec![debit("line 4", "250.00", "1123456789"), debit("line 5", "100.00", "1123456789")], |then| {
            let matched: Vec<(u32, String)> = then.matched.iter().map(|m| (m.batch.batch_number, m.line.position.clone())).collect();
            assert_eq!(matched, [(1, "line 5".to_owned()), (2, "line 4".to_owned())]);
            assert!(then.exceptions.is_empty());
        });
    }

    #[test]
    fn a_zero_net_batch_is_not_expected_at_the_bank() {
        check((&[batch(1, "0.00", &[("091000010000009", 19, "0.00")])], &Applied::default()), vec![], |then| {
            assert!(then.exceptions.is_empty(), "{:?}", then.exceptions);
        });
    }

    #[test]
    fn a_batch_on_a_day_the_statement_does_not_cover_is_not_missing() {
        let mut later = batch_1();
        later.effective_date = date!(2026 - 12 - 10);
        check((&[later], &Applied::default()), vec![], |then| assert!(then.exceptions.is_empty()));
    }

    #[test]
    fn a_return_reopens_its_remittance_by_trace() {
        check((&[batch_1()], &Applied::default()), vec![returned("line 5", "120.00", "091000010000002", "R03")], |then| {
            assert_eq!(kinds(&then), [ExceptionKind::MissingDebit]);
            let [returned] = then.returned.try_into().unwrap();
            assert_eq!((returned.remittance_id, returned.reason.as_str(), returned.amount), (Uuid::from_u128(12), "R03", money("120.00")));
        });
    }

    #[test]
    fn a_return_already_applied_is_applied_once() {
        let applied = Applied { returned_traces: ["091000010000002".to_owned()].into(), ..Applied::default() };
        check((&[batch_1()], &applied), vec![returned("line 5", "120.00", "091000010000002", "R03")], |then| {
            assert!(then.returned.is_empty());
            assert_eq!(then.already_applied, ["line 5"]);
        });
        check(
            (&[batch_1()], &Applied::default()),
            vec![returned("line 5", "120.00", "091000010000002", "R03"), returned("line 9", "120.00", "091000010000002", "R03")],
            |then| {
                assert_eq!(then.returned.len(), 1);
                assert_eq!(then.already_applied, ["line 9"]);
            },
        );
    }

    #[test]
    fn a_return_of_an_unknown_trace_or_another_amount_is_an_exception() {
        check(
            (&[batch_1()], &Applied::default()),
            vec![returned("line 5", "120.00", "091000019999999", "R03"), returned("line 6", "100.00", "091000010000002", "R01")],
            |then| {
                assert!(then.returned.is_empty());
                assert_eq!(kinds(&then), [ExceptionKind::MissingDebit, ExceptionKind::ReturnAmountMismatch, ExceptionKind::UnmatchedReturn]);
                assert_eq!(then.exceptions[2].detail, "the R03 at line 5 names trace 091000019999999, which no batch sent");
            },
        );
    }

    #[test]
    fn a_return_without_a_trace_is_an_exception() {
        let mut line = returned("line 5", "120.00", "091000010000002", "R03");
        line.return_info = None;
        check((&[], &Applied::default()), vec![line], |then| assert_eq!(kinds(&then), [ExceptionKind::UnmatchedReturn]));
    }

    #[test]
    fn a_notification_of_change_is_recorded_and_reopens_nothing() {
        let mut change = returned("line 5", "0.00", "091000010000001", "C01");
        change.return_info.as_mut().unwrap().corrected_data = Some("1234567890123".into());
        check((&[batch_1()], &Applied::default()), vec![change.clone(), debit("line 4", "1135.40", "1123456789")], |then| {
            assert!(then.returned.is_empty());
            let [changed] = then.changes.try_into().unwrap();
            assert_eq!((changed.remittance_id, changed.corrected_data.as_str()), (Uuid::from_u128(11), "1234567890123"));
            assert!(then.exceptions.is_empty());
        });
        let applied = Applied { changes: [("091000010000001".to_owned(), "C01".to_owned())].into(), ..Applied::default() };
        check((&[batch_1()], &applied), vec![change], |then| assert!(then.changes.is_empty()));
    }

    #[test]
    fn other_lines_are_not_reconciled() {
        let mut fee = debit("line 7", "2.60", "ACCOUNT ANALYSIS FEE");
        fee.kind = LineKind::Other;
        check((&[], &Applied::default()), vec![fee], |then| assert_eq!(then, Reconciliation::default()));
    }

    #[test]
    fn a_return_file_reports_no_missing_debits() {
        let mut file = statement(vec![]);
        file.format = StatementFormat::NachaReturns;
        assert!(reconcile(&file, &[batch_1()], &Applied::default()).exceptions.is_empty());
    }

    fn arbitrary_line() -> impl Strategy<Value = StatementLine> {
        let amounts = prop::sample::select(vec!["100.00", "250.00", "1135.40", "120.00", "99.99"]);
        let companies = prop::sample::select(vec!["1123456789", "9999999999"]);
        let traces = prop::sample::select(vec!["091000010000001", "091000010000002", "091000010000003", "091000019999999"]);
        let reasons = prop::sample::select(vec!["R01", "R03", "C01"]);
        (0u8..2, amounts, companies, traces, reasons, 0u8..2).prop_map(|(kind, amount, company, trace, reason, day)| {
            let mut line = if kind == 0 { debit("", amount, company) } else { returned("", amount, trace, reason) };
            line.date = if day == 0 { DAY } else { date!(2026 - 12 - 09) };
            line
        })
    }

    proptest! {
        #[test]
        fn matching_does_not_depend_on_the_order_of_the_statement(
            lines in prop::collection::vec(arbitrary_line(), 0..12),
            seed in any::<u64>(),
        ) {
            let lines: Vec<StatementLine> = lines.into_iter().enumerate().map(|(line_idx, mut line)| { line.position = format!("line {}", line_idx + 4); line }).collect();
            let batches = [
                batch_1(),
                batch(2, "100.00", &[("091000010000003", 13, "100.00")]),
                batch(3, "250.00", &[]),
            ];
            let mut shuffled = lines.clone();
            // A Fisher-Yates shuffle driven by the seed.
            let mut state = seed;
            for idx in (1..shuffled.len()).rev() {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                shuffled.swap(idx, (state >> 33) as usize % (idx + 1));
            }
            let applied = Applied::default();
            prop_assert_eq!(reconcile(&statement(lines), &batches, &applied), reconcile(&statement(shuffled), &batches, &applied));
        }
    }
}
