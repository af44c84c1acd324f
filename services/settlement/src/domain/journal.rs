//! The double-entry journal: accounts, the lines of an entry, and the balance check.

use claimtrail_events::{ClaimAdjudicated, ClaimReversed, JournalLine, Money};

use super::payment_run::{PlbReason, Remittance};

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

/// The payer's bank account that ACH payments leave from.
pub fn bank_account(payer_id: &str) -> String {
    format!("asset:bank:{payer_id}")
}

/// What a provider owes the payer back (recoupments carried to later cycles).
pub fn recoupment_receivable_account(billing_npi: &str) -> String {
    format!("asset:recoupment_receivable:{billing_npi}")
}

/// Prompt-pay interest the payer pays.
pub fn interest_expense_account(payer_id: &str) -> String {
    format!("expense:interest:{payer_id}")
}

/// The lines that book a settled remittance (status `ach` or `zero`):
/// - the provider payable is cleared by the claims' net (ΣCLP04; a negative
///   net, from reversals, credits it back);
/// - interest (PLB L6) is the payer's interest expense;
/// - a positive WO or FB recovers the recoupment receivable, a negative WO
///   or FB opens it (an FB forwards what a WO took in full but the cycle
///   could not cover); a refund's acknowledgement (72 −x, WO/FB +x) nets to
///   nothing, the refund itself was booked when received ([`refund_lines`]);
/// - BPR02 leaves the payer's bank account.
///
/// claims + interest + new debt = BPR02 + recovered, so the entry balances.
pub fn payment_lines(payer_id: &str, remittance: &Remittance) -> Vec<JournalLine> {
    let mut signed: Vec<(String, Money)> =
        vec![(provider_payable_account(&remittance.npi), remittance.claims_total), (interest_expense_account(payer_id), remittance.interest)];
    for adjustment in remittance.provider_adjustments.iter().filter(|adjustment| adjustment.reason != PlbReason::Interest) {
        // +x recovers x (credit the receivable); −x opens x (debit it).
        signed.push((recoupment_receivable_account(&remittance.npi), adjustment.amount.negated()));
    }
    signed.push((bank_account(payer_id), remittance.amount.negated()));
    signed
        .into_iter()
        .filter(|(_, amount)| !amount.is_zero())
        .map(|(account, amount)| {
            if amount.is_negative() {
                JournalLine { account, debit: Money::ZERO, credit: amount.negated() }
            } else {
                JournalLine { account, debit: amount, credit: Money::ZERO }
            }
        })
        .collect()
}

/// The lines of a provider's refund check received: the payer's bank is
/// debited, the provider's recoupment receivable credited, by the check.
pub fn refund_lines(payer_id: &str, billing_npi: &str, amount: Money) -> Vec<JournalLine> {
    vec![
        JournalLine { account: bank_account(payer_id), debit: amount, credit: Money::ZERO },
        JournalLine { account: recoupment_receivable_account(billing_npi), debit: Money::ZERO, credit: amount },
    ]
}

/// Running balances (debit minus credit) by account: what the journal's
/// balances must equal when replayed from its entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Balances(pub std::collections::BTreeMap<String, Money>);

impl Balances {
    /// Posts one balanced entry's lines; `None` on overflow.
    pub fn post(&mut self, lines: &[JournalLine]) -> Option<()> {
        assert!(is_balanced(lines), "only balanced entries are posted");
        for line in lines {
            let balance = self.0.entry(line.account.clone()).or_insert(Money::ZERO);
            *balance = balance.checked_add(line.debit)?.checked_sub(line.credit)?;
        }
        Some(())
    }

    /// The balances of a whole journal, replayed from its entries.
    pub fn replay<'a>(entries: impl IntoIterator<Item = &'a [JournalLine]>) -> Option<Balances> {
        let mut balances = Balances::default();
        for lines in entries {
            balances.post(lines)?;
        }
        Some(balances)
    }

    /// The sum of every balance (zero for a journal of balanced entries).
    pub fn total(&self) -> Option<Money> {
        Money::checked_sum(self.0.values())
    }
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

    mod properties {
        use std::collections::BTreeMap;

        use proptest::prelude::*;
        use time::macros::date;
        use uuid::Uuid;

        use super::super::*;
        use crate::domain::payment_run::{Debt, DebtBasis, Payable, PayableKind, Payee, PayerBanking, PromptPay, RefundPart, RunFacts, apply_refund, plan_run};
        use claimtrail_events::{BankAccount, ClaimReversed, Frequency, Outcome, PayTo};

        fn pay_to() -> PayTo {
            PayTo { name: "X".into(), address_line: "1 A ST".into(), city: "C".into(), state: "PA".into(), postal_code: "17111".into() }
        }

        /// (npi index, reversal?, cents, days since adjudication) per claim; (npi index, cents, forwarded?) per debt.
        fn journal_of(claims: &[(u8, bool, i64, i64)], debts: &[(u8, i64, bool)]) -> Vec<Vec<JournalLine>> {
            let npi = |idx: u8| format!("NPI{idx}");
            let run_date = date!(2026 - 06 - 01);
            let payables: Vec<Payable> = claims
                .iter()
                .enumerate()
                .map(|(n, &(provider, reversal, cents, age))| Payable {
                    claim_id: Uuid::from_u128(n as u128 + 1),
                    kind: if reversal { PayableKind::Reversal } else { PayableKind::Decision },
                    payer_id: "P1".into(),
                    billing_npi: npi(provider),
                    patient_control_number: String::new(),
                    member_id: String::new(),
                    lines: vec![],
                    total_charge: Money::from_cents(if reversal { -cents } else { cents }),
                    total_paid: Money::from_cents(if reversal { -cents } else { cents }),
                    total_patient_responsibility: Money::ZERO,
                    adjudicated_on: run_date - time::Duration::days(age),
                    payer_sequence: claimtrail_events::PayerSequence::Primary,
                })
                .collect();
            // Each claim's own booking: the decision's or the reversal's entry.
            let mut entries: Vec<Vec<JournalLine>> = payables
                .iter()
                .map(|payable| {
                    let decision = ClaimAdjudicated {
                        claim_id: payable.claim_id,
                        payer_id: "P1".into(),
                        billing_npi: payable.billing_npi.clone(),
                        outcome: Outcome::Paid,
                        rule_set_hash: String::new(),
                        lines: vec![],
                        total_charge: payable.total_charge,
                        total_allowed: payable.total_paid,
                        total_paid: payable.total_paid,
                        total_patient_responsibility: Money::ZERO,
                    };
                    match payable.kind {
                        PayableKind::Decision | PayableKind::Correction => lines_for(&decision),
                        PayableKind::Reversal => reversal_lines(&ClaimReversed {
                            claim_id: payable.claim_id,
                            by_claim_id: Uuid::nil(),
                            frequency: Frequency::Void,
                            payer_id: "P1".into(),
                            billing_npi: payable.billing_npi.clone(),
                            rule_set_hash: String::new(),
                            lines: vec![],
                            total_charge: payable.total_charge,
                            total_allowed: payable.total_paid,
                            total_paid: payable.total_paid,
                            total_patient_responsibility: Money::ZERO,
                        }),
                    }
                })
                .collect();
            let mut carried: BTreeMap<String, Vec<Debt>> = BTreeMap::new();
            let mut refunds: BTreeMap<String, Vec<RefundPart>> = BTreeMap::new();
            for (n, &(provider, cents, forward)) in debts.iter().enumerate() {
                let basis = if forward { DebtBasis::Forward } else { DebtBasis::Claim };
                let debt = Debt { claim_id: Uuid::from_u128(1000 + n as u128), amount: Money::from_cents(cents), since_run: Uuid::nil(), basis };
                // Every third debt was paid in part by a refund check: booked when received, acknowledged in the run.
                if n % 3 == 2 {
                    let (left, parts) =
                        apply_refund(Uuid::from_u128(2000 + n as u128), &npi(provider), std::slice::from_ref(&debt), Money::from_cents(cents / 2 + 1)).unwrap();
                    entries.push(refund_lines("P1", &npi(provider), Money::from_cents(cents / 2 + 1)));
                    refunds.entry(npi(provider)).or_default().extend(parts);
                    carried.entry(npi(provider)).or_default().extend(left);
                } else {
                    carried.entry(npi(provider)).or_default().push(debt);
                }
            }
            let payees = (0..4)
                .map(|idx| {
                    let account = BankAccount { routing_number: "011000015".into(), account_number: "1234".into(), account_type: "checking".into() };
                    (
                        npi(idx),
                        Payee {
                            npi: npi(idx),
                            name: "N".into(),
                            tin: "1".into(),
                            pay_to: pay_to(),
                            bank_account: Some(account),
                            prenote_effective_on: Some(date!(2026 - 01 - 05)),
                            account_hold: None,
                        },
                    )
                })
                .collect();
            let facts = RunFacts {
                run_id: Uuid::from_u128(9),
                payer: PayerBanking {
                    payer_id: "P1".into(),
                    name: "P".into(),
                    tin: "123456789".into(),
                    routing_number: "021000021".into(),
                    account_number: "1".into(),
                    address: pay_to(),
                },
                run_date,
                prompt_pay: PromptPay::DEFAULT,
                payables,
                payees,
                debts: carried,
                holds: BTreeMap::new(),
                refunds,
                first_entry_sequence: 1,
            };
            let mut n = 0;
            let run = plan_run(&facts, || {
                n += 1;
                Uuid::from_u128(n)
            })
            .unwrap();
            for remittance in run.remittances.iter().filter(|r| r.status.settles()) {
                entries.push(payment_lines("P1", remittance));
            }
            entries
        }

        fn claims() -> impl Strategy<Value = Vec<(u8, bool, i64, i64)>> {
            prop::collection::vec((0u8..4, any::<bool>(), 0i64..5_000_000, 0i64..400), 0..40)
        }

        fn debts() -> impl Strategy<Value = Vec<(u8, i64, bool)>> {
            prop::collection::vec((0u8..4, 1i64..2_000_000, any::<bool>()), 0..6)
        }

        proptest! {
            #[test]
            fn every_transaction_balances(claims in claims(), debts in debts()) {
                for lines in journal_of(&claims, &debts) {
                    prop_assert!(is_balanced(&lines), "{lines:?}");
                }
            }

            #[test]
            fn balances_equal_a_replay_of_the_journal(claims in claims(), debts in debts()) {
                let entries = journal_of(&claims, &debts);
                // Posted one by one as they happen…
                let mut running = Balances::default();
                for lines in &entries {
                    running.post(lines).unwrap();
                }
                // …equal the journal replayed from scratch, in any order, and sum to zero.
                let replayed = Balances::replay(entries.iter().rev().map(Vec::as_slice)).unwrap();
                prop_assert_eq!(&running, &replayed);
                prop_assert_eq!(running.total(), Some(Money::ZERO));
                // Every settled provider's payable is cleared by its payment.
                for (account, balance) in &running.0 {
                    if account.starts_with("liability:provider_payable:") {
                        prop_assert!(balance.is_zero(), "{account} {balance}");
                    }
                }
            }
        }
    }
}
