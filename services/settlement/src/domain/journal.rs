//! The double-entry journal: accounts, the lines of an entry, and the balance check.

use claimtrail_events::{ClaimAdjudicated, ClaimReversed, JournalLine, Money};

/// The payer's expense account for claims.
pub fn claims_expense_account(payer_id: &str) -> String {
    format!("expense:claims:{payer_id}")
}

/// What the payer owes a billing provider.
pub fn provider_payable_account(billing_npi: &str) -> String {
    format!("liability:provider_payable:{billing_npi}")
}

/// The lines that book an adjudicated claim: debit the payer's claims
/// expense, credit the provider's payable, both by the amount paid. A claim
/// that pays nothing books no lines (the entry still records the decision).
pub fn lines_for(decision: &ClaimAdjudicated) -> Vec<JournalLine> {
    if decision.total_paid.is_zero() {
        return vec![];
    }
    let lines = vec![
        JournalLine { account: claims_expense_account(&decision.payer_id), debit: decision.total_paid, credit: Money::ZERO },
        JournalLine { account: provider_payable_account(&decision.billing_npi), debit: Money::ZERO, credit: decision.total_paid },
    ];
    lines
}

/// The lines that book a reversal: the original entry's mirror, debiting
/// the provider's payable and crediting the payer's claims expense by the
/// amount paid before (the reversal's `total_paid` is that amount negated).
/// A reversal of nothing paid books no lines.
pub fn reversal_lines(reversal: &ClaimReversed) -> Vec<JournalLine> {
    let amount = reversal.total_paid.negated();
    if amount.is_zero() {
        return vec![];
    }
    let lines = vec![
        JournalLine { account: provider_payable_account(&reversal.billing_npi), debit: amount, credit: Money::ZERO },
        JournalLine { account: claims_expense_account(&reversal.payer_id), debit: Money::ZERO, credit: amount },
    ];
    lines
}

/// Debits equal credits.
pub fn is_balanced(lines: &[JournalLine]) -> bool {
    let debits = Money::checked_sum(lines.iter().map(|l| &l.debit));
    let credits = Money::checked_sum(lines.iter().map(|l| &l.credit));
    debits.is_some() && debits == credits
}

#[cfg(test)]
mod tests {
    use super::*;
    use claimtrail_events::Outcome;

    fn decision(paid: &str) -> ClaimAdjudicated {
        ClaimAdjudicated {
            claim_id: uuid::Uuid::now_v7(),
            payer_id: "P1".into(),
            billing_npi: "1234567893".into(),
            outcome: Outcome::Paid,
            rule_set_hash: "h".into(),
            lines: vec![],
            total_charge: Money::parse("200").unwrap(),
            total_allowed: Money::parse(paid).unwrap(),
            total_paid: Money::parse(paid).unwrap(),
            total_patient_responsibility: Money::ZERO,
        }
    }

    #[test]
    fn a_paid_claim_debits_expense_and_credits_the_provider_payable() {
        let lines = lines_for(&decision("120.00"));
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].account, "expense:claims:P1");
        assert_eq!(lines[0].debit.to_string(), "120.00");
        assert_eq!(lines[1].account, "liability:provider_payable:1234567893");
        assert_eq!(lines[1].credit.to_string(), "120.00");
        assert!(is_balanced(&lines));
    }

    #[test]
    fn a_denied_claim_books_no_lines() {
        assert!(lines_for(&decision("0")).is_empty());
    }

    #[test]
    fn unequal_debits_and_credits_are_not_balanced() {
        let lines = vec![JournalLine { account: "a".into(), debit: Money::from_cents(1), credit: Money::ZERO }];
        assert!(!is_balanced(&lines));
    }
}
