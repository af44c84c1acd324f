//! What applying a reconciled statement publishes, pure: the import, then
//! each match, return, notification of change and exception opened, each on
//! its aggregate (the statement, the payment run, the remittance, the
//! exception).

use claimtrail_events::{AchChangeNotified, AchEntryReturned, BankDebitMatched, BankStatementImported, NewEvent, ReconciliationExceptionOpened};
use uuid::Uuid;

use super::BankStatement;
use super::matcher::Reconciliation;

/// The events of `statement` of `payer_id`, reconciled as `reconciliation`,
/// its exceptions numbered `exception_ids` (one per exception, in order);
/// `content_sha3_256` is the file's hash, hex.
pub fn statement_events(
    payer_id: &str,
    statement: &BankStatement,
    content_sha3_256: &str,
    reconciliation: &Reconciliation,
    exception_ids: &[Uuid],
) -> Vec<NewEvent> {
    let statement_id = &statement.statement_id;
    let imported = BankStatementImported {
        payer_id: payer_id.to_owned(),
        statement_id: statement_id.clone(),
        format: statement.format.as_str().to_owned(),
        account: statement.account.clone(),
        from_date: statement.from_date,
        to_date: statement.to_date,
        content_sha3_256: content_sha3_256.to_owned(),
        line_count: statement.lines.len() as u64,
        matched_count: reconciliation.matched.len() as u64,
        returned_count: reconciliation.returned.len() as u64,
        change_count: reconciliation.changes.len() as u64,
        exception_count: reconciliation.exceptions.len() as u64,
    };
    let mut events = vec![NewEvent::new(imported, format!("bank_statement:{payer_id}:{statement_id}"))];
    for matched in &reconciliation.matched {
        let event = BankDebitMatched {
            payer_id: payer_id.to_owned(),
            statement_id: statement_id.clone(),
            position: matched.line.position.clone(),
            run_id: matched.batch.run_id,
            batch_number: matched.batch.batch_number,
            amount: matched.line.amount,
            date: matched.line.date,
        };
        events.push(NewEvent::new(event, format!("payment_run:{}", matched.batch.run_id)));
    }
    for returned in &reconciliation.returned {
        let event = AchEntryReturned {
            payer_id: payer_id.to_owned(),
            statement_id: statement_id.clone(),
            position: returned.line.position.clone(),
            run_id: returned.batch.run_id,
            batch_number: returned.batch.batch_number,
            remittance_id: returned.remittance_id,
            trace_number: returned.trace_number.clone(),
            reason_code: returned.reason.to_string(),
            amount: returned.amount,
        };
        events.push(NewEvent::new(event, format!("remittance:{}", returned.remittance_id)));
    }
    for change in &reconciliation.changes {
        let event = AchChangeNotified {
            payer_id: payer_id.to_owned(),
            statement_id: statement_id.clone(),
            position: change.line.position.clone(),
            run_id: change.batch.run_id,
            batch_number: change.batch.batch_number,
            remittance_id: change.remittance_id,
            trace_number: change.trace_number.clone(),
            change_code: change.reason.to_string(),
            corrected_data: change.corrected_data.clone(),
        };
        events.push(NewEvent::new(event, format!("remittance:{}", change.remittance_id)));
    }
    for (exception, exception_id) in reconciliation.exceptions.iter().zip(exception_ids) {
        let event = ReconciliationExceptionOpened {
            payer_id: payer_id.to_owned(),
            exception_id: *exception_id,
            statement_id: statement_id.clone(),
            kind: exception.kind.as_str().to_owned(),
            position: exception.line.as_ref().map(|line| line.position.clone()),
            run_id: exception.batch.map(|batch| batch.run_id),
            batch_number: exception.batch.map(|batch| batch.batch_number),
            trace_number: exception.trace_number.clone(),
            expected_amount: exception.expected,
            actual_amount: exception.actual,
            detail: exception.detail.clone(),
        };
        events.push(NewEvent::new(event, format!("reconciliation_exception:{exception_id}")));
    }
    events
}

#[cfg(test)]
mod tests {
    use claimtrail_events::{DomainEvent, Money};
    use time::macros::date;

    use super::*;
    use crate::domain::bank::matcher::{Exception, ExceptionKind, Matched};
    use crate::domain::bank::{BatchKey, Direction, LineKind, StatementFormat, StatementLine};

    #[test]
    fn a_statement_publishes_its_import_then_each_match_and_exception_on_its_own_aggregate() {
        // Given a statement of two debits: one matched to batch 1 of a run, one matching nothing.
        let run_id = Uuid::from_u128(5);
        let line = |position: &str, cents| StatementLine {
            position: position.into(),
            direction: Direction::Debit,
            kind: LineKind::AchDebit,
            amount: Money::from_cents(cents),
            date: date!(2026 - 03 - 03),
            type_code: "455".into(),
            reference: "1251234567".into(),
            return_info: None,
        };
        let statement = BankStatement {
            format: StatementFormat::Bai2,
            statement_id: "bai2:x".into(),
            account: "9104000".into(),
            from_date: date!(2026 - 03 - 03),
            to_date: date!(2026 - 03 - 03),
            lines: vec![line("line 4", 50_000), line("line 5", 700)],
        };
        let reconciliation = Reconciliation {
            matched: vec![Matched { batch: BatchKey { run_id, batch_number: 1 }, line: line("line 4", 50_000) }],
            exceptions: vec![Exception {
                kind: ExceptionKind::UnmatchedDebit,
                line: Some(line("line 5", 700)),
                batch: None,
                trace_number: None,
                expected: None,
                actual: Some(Money::from_cents(700)),
                detail: "no batch".into(),
            }],
            ..Reconciliation::default()
        };

        // When it is applied
        let events = statement_events("P1", &statement, "ab", &reconciliation, &[Uuid::from_u128(9)]);

        // Then the import counts what it did, and each event names its aggregate.
        let aggregates: Vec<&str> = events.iter().map(|event| event.aggregate_id.as_str()).collect();
        assert_eq!(aggregates, ["bank_statement:P1:bai2:x", &format!("payment_run:{run_id}"), &format!("reconciliation_exception:{}", Uuid::from_u128(9))]);
        let DomainEvent::BankStatementImported(imported) = &events[0].event else { panic!("{:?}", events[0].event) };
        assert_eq!((imported.line_count, imported.matched_count, imported.exception_count, imported.format.as_str()), (2, 1, 1, "bai2"));
        let DomainEvent::ReconciliationExceptionOpened(opened) = &events[2].event else { panic!("{:?}", events[2].event) };
        assert_eq!((opened.kind.as_str(), opened.position.as_deref(), opened.actual_amount), ("unmatched-debit", Some("line 5"), Some(Money::from_cents(700))));
    }
}
