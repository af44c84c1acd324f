//! Settlement's domain core: what a decision or a reversal books in the
//! double-entry journal. Pure: no IO, no SQL, no HTTP, no bus (a test in the
//! crate's root fails on any such import); [`crate::consumer`] calls
//! [`decide`] and persists what it returns.
//!
//! - [`Command::BookDecision`]: debit the payer's claims expense, credit the
//!   provider's payable, by the amount paid; nothing paid books an entry with
//!   no lines.
//! - [`Command::BookReversal`]: the mirror of the original's entry.
//! - [`Command::BookCorrection`]: a claim's decision made again after its
//!   earlier decision was reversed (an overturned appeal: adjudication emits
//!   the reversal, then the corrected decision, for the same claim), booked
//!   as the decision is; with the reversal it nets to the difference.
//! - [`journal`]: the accounts, the lines and the balance check, and the
//!   lines of a settled remittance ([`journal::payment_lines`]).
//! - [`payment_run`]: [`payment_run::plan_run`] groups the unpaid claims per
//!   provider, nets reversals, interest and recoupments into remittances.
//! - [`advice`]: a remittance's 835 and FHIR PaymentReconciliation.
//! - [`ach`]: the run's NACHA file and its [`ach::AchBatch`] (what the bank side matches).
//! - [`banking_day`]: banking days and the Federal Reserve's holidays.
//! - [`returned`]: what a returned ACH entry undoes on the payment side.
//! - [`account`]: account-fault returns (hold until new banking) and
//!   notifications of change (the corrected account).
//! - [`fraud`]: fraud alerts' holds, released on a false positive, and the
//!   recoupment of a paid claim on a confirmed alert.

pub mod account;
pub mod ach;
pub mod advice;
pub mod bank;
pub mod banking_day;
pub mod fraud;
pub mod journal;
pub mod payment_run;
pub mod returned;
pub mod schedule;

use claimtrail_events::{ClaimAdjudicated, ClaimReversed, JournalLine, Money, MoneyError};
use uuid::Uuid;

/// What settlement is asked to book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    BookDecision(ClaimAdjudicated),
    BookReversal(ClaimReversed),
    /// The corrected decision of a claim whose decision was booked and reversed.
    BookCorrection(ClaimAdjudicated),
}

/// Which of a claim's entries: its decision's, or the reversal of that decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Decision,
    Reversal,
    /// A claim's corrected decision, after the reversal of its first (an overturned appeal).
    Correction,
    /// A settled remittance (its `claim_id` column holds the remittance id).
    Payment,
    /// A remittance the bank returned: the mirror of its payment entry.
    Return,
    /// A paid claim a confirmed fraud alert takes back (a receivable from the provider).
    Recoupment,
    /// A provider's refund check received (its `claim_id` column holds the refund id).
    Refund,
}

impl EntryKind {
    /// Its name in the journal table.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Decision => "decision",
            EntryKind::Reversal => "reversal",
            EntryKind::Correction => "correction",
            EntryKind::Payment => "payment",
            EntryKind::Return => "return",
            EntryKind::Recoupment => "recoupment",
            EntryKind::Refund => "refund",
        }
    }
}

/// The facts a booking needs: the id the new entry takes (made by the caller, so that the core stays pure).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    pub entry_id: Uuid,
}

/// One journal entry: the claim, the signed amount payable (negative for a reversal) and its balanced lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub entry_id: Uuid,
    pub claim_id: Uuid,
    pub kind: EntryKind,
    pub payer_id: String,
    pub billing_npi: String,
    pub amount: Money,
    pub memo: String,
    pub lines: Vec<JournalLine>,
}

/// What settlement decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Booked(Entry),
}

/// Why a command cannot be booked.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Rejection {
    #[error("the entry of claim {0} does not balance")]
    Unbalanced(Uuid),
    #[error("an amount of claim {claim_id}'s entry cannot be stored: {error}")]
    Amount { claim_id: Uuid, error: MoneyError },
}

/// Books `command`: the entry to record, or why not.
pub fn decide(facts: &Facts, command: &Command) -> Result<Vec<Event>, Rejection> {
    let entry = match command {
        Command::BookDecision(decision) => Entry {
            entry_id: facts.entry_id,
            claim_id: decision.claim_id,
            kind: EntryKind::Decision,
            payer_id: decision.payer_id.clone(),
            billing_npi: decision.billing_npi.clone(),
            amount: decision.total_paid,
            memo: format!("claim {} adjudicated {}, paid {}", decision.claim_id, decision.outcome.as_str(), decision.total_paid),
            lines: journal::lines_for(decision),
        },
        Command::BookCorrection(decision) => Entry {
            entry_id: facts.entry_id,
            claim_id: decision.claim_id,
            kind: EntryKind::Correction,
            payer_id: decision.payer_id.clone(),
            billing_npi: decision.billing_npi.clone(),
            amount: decision.total_paid,
            memo: format!("claim {} decided again (corrected) {}, paid {}", decision.claim_id, decision.outcome.as_str(), decision.total_paid),
            lines: journal::lines_for(decision),
        },
        Command::BookReversal(reversal) => Entry {
            entry_id: facts.entry_id,
            claim_id: reversal.claim_id,
            kind: EntryKind::Reversal,
            payer_id: reversal.payer_id.clone(),
            billing_npi: reversal.billing_npi.clone(),
            amount: reversal.total_paid,
            memo: format!(
                "claim {} reversed by claim {}: {} paid before is taken back",
                reversal.claim_id,
                reversal.by_claim_id,
                reversal.total_paid.negated()
            ),
            lines: journal::reversal_lines(reversal),
        },
    };
    Ok(vec![Event::Booked(checked(entry)?)])
}

/// `entry` if it balances and every amount fits the journal's integer cents
/// (refused, never stored as something else).
fn checked(entry: Entry) -> Result<Entry, Rejection> {
    if !journal::is_balanced(&entry.lines) {
        return Err(Rejection::Unbalanced(entry.claim_id));
    }
    for amount in std::iter::once(entry.amount).chain(entry.lines.iter().flat_map(|line| [line.debit, line.credit])) {
        amount.cents().map_err(|error| Rejection::Amount { claim_id: entry.claim_id, error })?;
    }
    Ok(entry)
}

/// The journal entry of a settled remittance ([`journal::payment_lines`]), checked to balance.
pub fn payment_entry(entry_id: Uuid, payer_id: &str, remittance: &payment_run::Remittance) -> Result<Entry, Rejection> {
    let entry = Entry {
        entry_id,
        claim_id: remittance.remittance_id,
        kind: EntryKind::Payment,
        payer_id: payer_id.to_owned(),
        billing_npi: remittance.npi.clone(),
        amount: remittance.amount,
        memo: format!(
            "remittance {} to NPI {}: claims {}, interest {}, paid {}",
            remittance.remittance_id, remittance.npi, remittance.claims_total, remittance.interest, remittance.amount
        ),
        lines: journal::payment_lines(payer_id, remittance),
    };
    checked(entry)
}

/// The journal entry of a provider's refund check received ([`journal::refund_lines`]).
pub fn refund_entry(entry_id: Uuid, refund_id: Uuid, payer_id: &str, billing_npi: &str, amount: Money, check_number: &str) -> Result<Entry, Rejection> {
    checked(Entry {
        entry_id,
        claim_id: refund_id,
        kind: EntryKind::Refund,
        payer_id: payer_id.to_owned(),
        billing_npi: billing_npi.to_owned(),
        amount: amount.negated(),
        memo: format!("refund {refund_id}: check {check_number} of {amount} received from NPI {billing_npi} against what it owes"),
        lines: journal::refund_lines(payer_id, billing_npi, amount),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use claimtrail_events::{Frequency, Outcome};

    const ENTRY: Uuid = Uuid::from_u128(7);

    fn decision(paid: &str) -> ClaimAdjudicated {
        ClaimAdjudicated {
            claim_id: Uuid::from_u128(1),
            payer_id: "P1".into(),
            billing_npi: "1234567893".into(),
            outcome: if paid == "0.00" { Outcome::Denied } else { Outcome::Paid },
            rule_set_hash: "h".into(),
            lines: vec![],
            total_charge: Money::parse("200.00").unwrap(),
            total_allowed: Money::parse(paid).unwrap(),
            total_paid: Money::parse(paid).unwrap(),
            total_patient_responsibility: Money::ZERO,
        }
    }

    fn reversal_of(decision: &ClaimAdjudicated) -> ClaimReversed {
        ClaimReversed {
            claim_id: decision.claim_id,
            by_claim_id: Uuid::from_u128(2),
            frequency: Frequency::Replacement,
            payer_id: decision.payer_id.clone(),
            billing_npi: decision.billing_npi.clone(),
            rule_set_hash: decision.rule_set_hash.clone(),
            lines: vec![],
            total_charge: decision.total_charge.negated(),
            total_allowed: decision.total_allowed.negated(),
            total_paid: decision.total_paid.negated(),
            total_patient_responsibility: Money::ZERO,
        }
    }

    /// Given `facts`, when `command`, then `expected` (cqrs-es style).
    fn check(given: Facts, when: Command, then: impl FnOnce(Result<Vec<Event>, Rejection>)) {
        then(decide(&given, &when));
    }

    fn line(account: &str, debit: &str, credit: &str) -> JournalLine {
        JournalLine { account: account.into(), debit: Money::parse(debit).unwrap(), credit: Money::parse(credit).unwrap() }
    }

    #[test]
    fn a_paid_decision_books_expense_against_the_provider_payable() {
        check(Facts { entry_id: ENTRY }, Command::BookDecision(decision("120.00")), |then| {
            let [Event::Booked(entry)] = then.unwrap().try_into().unwrap();
            assert_eq!((entry.entry_id, entry.kind, entry.amount.to_string()), (ENTRY, EntryKind::Decision, "120.00".into()));
            assert_eq!(entry.lines, [line("expense:claims:P1", "120.00", "0.00"), line("liability:provider_payable:1234567893", "0.00", "120.00")]);
            assert!(entry.memo.contains("adjudicated paid, paid 120.00"), "{}", entry.memo);
        });
    }

    #[test]
    fn a_corrected_decision_books_as_a_decision_of_kind_correction() {
        check(Facts { entry_id: ENTRY }, Command::BookCorrection(decision("160.00")), |then| {
            let [Event::Booked(entry)] = then.unwrap().try_into().unwrap();
            assert_eq!((entry.kind, entry.kind.as_str(), entry.amount.to_string()), (EntryKind::Correction, "correction", "160.00".into()));
            assert_eq!(entry.lines, [line("expense:claims:P1", "160.00", "0.00"), line("liability:provider_payable:1234567893", "0.00", "160.00")]);
            assert!(entry.memo.contains("decided again"), "{}", entry.memo);
        });
    }

    #[test]
    fn a_denied_decision_books_an_entry_without_lines() {
        check(Facts { entry_id: ENTRY }, Command::BookDecision(decision("0.00")), |then| {
            let [Event::Booked(entry)] = then.unwrap().try_into().unwrap();
            assert!(entry.lines.is_empty());
            assert!(entry.memo.contains("adjudicated denied"), "{}", entry.memo);
        });
    }

    #[test]
    fn a_reversal_books_the_mirror_of_the_original_entry() {
        check(Facts { entry_id: ENTRY }, Command::BookReversal(reversal_of(&decision("120.00"))), |then| {
            let [Event::Booked(entry)] = then.unwrap().try_into().unwrap();
            assert_eq!((entry.kind, entry.amount.to_string()), (EntryKind::Reversal, "-120.00".into()));
            assert_eq!(entry.lines, [line("liability:provider_payable:1234567893", "120.00", "0.00"), line("expense:claims:P1", "0.00", "120.00")]);
            assert!(entry.memo.contains("120.00 paid before is taken back"), "{}", entry.memo);
        });
    }

    #[test]
    fn an_amount_beyond_the_journals_cents_is_refused() {
        let mut huge = decision("0.00");
        huge.total_paid = Money::parse("92233720368547758.08").unwrap();
        huge.total_allowed = huge.total_paid;
        check(Facts { entry_id: ENTRY }, Command::BookDecision(huge), |then| {
            assert!(matches!(then.unwrap_err(), Rejection::Amount { .. }));
        });
    }

    #[test]
    fn a_refund_check_debits_the_bank_and_credits_the_provider_s_receivable() {
        let entry = refund_entry(ENTRY, Uuid::from_u128(0xF), "P1", "1234567893", Money::parse("300.00").unwrap(), "CHK 1001").unwrap();
        assert_eq!((entry.kind.as_str(), entry.claim_id, entry.amount.to_string()), ("refund", Uuid::from_u128(0xF), "-300.00".into()));
        assert_eq!(entry.lines, [line("asset:bank:P1", "300.00", "0.00"), line("asset:recoupment_receivable:1234567893", "0.00", "300.00")]);
        assert!(entry.memo.contains("check CHK 1001 of 300.00"), "{}", entry.memo);
    }

    #[test]
    fn entry_kinds_have_their_journal_names() {
        assert_eq!((EntryKind::Decision.as_str(), EntryKind::Reversal.as_str(), EntryKind::Payment.as_str()), ("decision", "reversal", "payment"));
    }
}
