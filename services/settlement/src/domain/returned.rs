//! A returned ACH entry reopens its remittance on the payment side. Pure:
//! [`reopen`] takes the remittance as issued (`remittance.issued.v1`'s
//! body) and the amount the bank returned, and says what to undo; the
//! caller ([`crate::runs::reopen_returned`]) stores it in the import's
//! transaction.
//!
//! The bank took the money back, so everything the remittance settled is
//! undone and the next run pays it afresh (with a new trace number, and
//! prompt-pay interest recomputed for the new date):
//! - the remittance's status becomes `returned` (its 835 stays stored: it was sent);
//! - its claims (decisions and reversals) are unpaid again;
//! - the debts it recovered (positive PLB `WO`, or `FB` applied) are owed
//!   again; a refund's acknowledgement (`72` with its offset) nets to nothing
//!   per debt and restores nothing (the refund was received apart);
//! - the journal books the mirror of its payment entry (kind `return`):
//!   the bank is debited back by BPR02, the provider payable credited by
//!   ΣCLP04, the interest expense credited, the recoupment receivable debited
//!   by what was recovered. Payment plus return leave every balance as before.
//!
//! Only a remittance that moved money (`ach`) can be returned, and only for
//! its whole amount (the matcher makes any other amount an exception first).

use claimtrail_events::{JournalLine, Money, RemittanceIssued};
use uuid::Uuid;

use super::journal;
use super::payment_run::{Debt, DebtBasis, PayableKind, PlbReason, ProviderAdjustment, Remittance, RemittanceStatus};
use super::{Entry, EntryKind, Rejection};

/// What a return undoes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reopening {
    /// The remittance as it now stands (status `returned`).
    pub remittance: RemittanceIssued,
    /// The claims to mark unpaid again.
    pub claims: Vec<(Uuid, PayableKind)>,
    /// Debts the remittance had recovered, owed again (added to what the provider owes).
    pub debts_restored: Vec<Debt>,
    /// The journal entry of the return (kind `return`, its `claim_id` the remittance id).
    pub entry: Entry,
}

/// Why a return cannot reopen the remittance.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReopenError {
    #[error("remittance {remittance_id} is `{status}`: only a remittance paid by ACH can be returned")]
    NotPaid { remittance_id: Uuid, status: String },
    #[error("remittance {remittance_id} paid {paid}; a return of {returned} does not reopen it")]
    Amount { remittance_id: Uuid, paid: Money, returned: Money },
    #[error("remittance {remittance_id} carries an unknown {what} `{value}`")]
    Unknown { remittance_id: Uuid, what: &'static str, value: String },
    #[error("the amounts of remittance {0} overflow")]
    Overflow(Uuid),
    #[error(transparent)]
    Journal(#[from] Rejection),
}

/// What the return of `issued` (its ACH entry, for `returned`) undoes; `reason` is the R-code, for the memo.
pub fn reopen(entry_id: Uuid, issued: &RemittanceIssued, returned: Money, reason: &str) -> Result<Reopening, ReopenError> {
    let remittance_id = issued.remittance_id;
    if RemittanceStatus::parse(&issued.status) != Some(RemittanceStatus::Ach) {
        return Err(ReopenError::NotPaid { remittance_id, status: issued.status.clone() });
    }
    if returned != issued.amount {
        return Err(ReopenError::Amount { remittance_id, paid: issued.amount, returned });
    }
    let unknown = |what, value: &str| ReopenError::Unknown { remittance_id, what, value: value.to_owned() };
    let claims = issued
        .claims
        .iter()
        .map(|claim| PayableKind::parse(&claim.kind).map(|kind| (claim.claim_id, kind)).ok_or_else(|| unknown("claim kind", &claim.kind)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut adjustments = Vec::with_capacity(issued.provider_adjustments.len());
    for adjustment in &issued.provider_adjustments {
        let reason = PlbReason::parse(&adjustment.reason).ok_or_else(|| unknown("PLB reason", &adjustment.reason))?;
        adjustments.push(ProviderAdjustment { reason, claim_id: adjustment.claim_id, amount: adjustment.amount });
    }
    let overflow = || ReopenError::Overflow(remittance_id);
    let claims_total = Money::checked_sum(issued.claims.iter().map(|claim| &claim.paid)).ok_or_else(overflow)?;
    let interest = Money::checked_sum(adjustments.iter().filter(|a| a.reason == PlbReason::Interest).map(|a| &a.amount)).ok_or_else(overflow)?.negated();
    // Per debt cited (a claim, or a forwarded balance's remittance), what the remittance recovered.
    let mut recovered: Vec<Debt> = Vec::new();
    for adjustment in adjustments.iter().filter(|a| a.reason != PlbReason::Interest) {
        let basis = if adjustment.reason == PlbReason::ForwardingBalance { DebtBasis::Forward } else { DebtBasis::Claim };
        match recovered.iter_mut().find(|debt| debt.claim_id == adjustment.claim_id) {
            Some(debt) => {
                debt.amount = debt.amount.checked_add(adjustment.amount).ok_or_else(overflow)?;
                if basis == DebtBasis::Forward {
                    debt.basis = basis;
                }
            }
            None => recovered.push(Debt { claim_id: adjustment.claim_id, amount: adjustment.amount, since_run: issued.run_id, basis }),
        }
    }
    // A paying remittance only recovers: a negative WO or FB brings BPR02 to zero, never to an ACH payment.
    if let Some(debt) = recovered.iter().find(|debt| debt.amount.is_negative()) {
        return Err(unknown("negative WO or FB in a paid remittance", &debt.amount.to_string()));
    }
    let debts_restored: Vec<Debt> = recovered.into_iter().filter(|debt| !debt.amount.is_zero()).collect();
    let paid = Remittance {
        remittance_id,
        npi: issued.billing_npi.clone(),
        status: RemittanceStatus::Ach,
        hold_reason: None,
        amount: issued.amount,
        claims_total,
        interest,
        payables: vec![],
        provider_adjustments: adjustments,
        debts_after: vec![],
        acknowledged: vec![],
        trace_number: issued.trace_number.clone(),
    };
    let entry = Entry {
        entry_id,
        claim_id: remittance_id,
        kind: EntryKind::Return,
        payer_id: issued.payer_id.clone(),
        billing_npi: issued.billing_npi.clone(),
        amount: issued.amount.negated(),
        memo: format!(
            "remittance {remittance_id} to NPI {} returned by the bank ({reason}, trace {}): {} back, its claims unpaid again",
            issued.billing_npi,
            issued.trace_number.as_deref().unwrap_or("-"),
            issued.amount
        ),
        lines: mirror(&journal::payment_lines(&issued.payer_id, &paid)),
    };
    if !journal::is_balanced(&entry.lines) {
        return Err(Rejection::Unbalanced(remittance_id).into());
    }
    for amount in std::iter::once(entry.amount).chain(entry.lines.iter().flat_map(|line| [line.debit, line.credit])) {
        amount.cents().map_err(|error| Rejection::Amount { claim_id: remittance_id, error })?;
    }
    let remittance = RemittanceIssued { status: RemittanceStatus::Returned.as_str().to_owned(), ..issued.clone() };
    Ok(Reopening { remittance, claims, debts_restored, entry })
}

/// The lines that undo `lines`: each debit a credit and each credit a debit.
fn mirror(lines: &[JournalLine]) -> Vec<JournalLine> {
    lines.iter().map(|line| JournalLine { account: line.account.clone(), debit: line.credit, credit: line.debit }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::journal::Balances;
    use claimtrail_events::{RemittedAdjustment, RemittedClaim};
    use time::macros::date;

    const ENTRY: Uuid = Uuid::from_u128(0xE);
    const REMITTANCE: Uuid = Uuid::from_u128(0xAA);

    fn money(text: &str) -> Money {
        Money::parse(text).unwrap()
    }

    /// Claims 1 (1,000.00) and reversal 2 (−80.00), interest 1.27 on claim 1, 300.00 recovered citing claim 7: BPR02 621.27.
    fn issued() -> RemittanceIssued {
        RemittanceIssued {
            remittance_id: REMITTANCE,
            run_id: Uuid::from_u128(0x900),
            payer_id: "P1".into(),
            billing_npi: "1234567893".into(),
            status: "ach".into(),
            amount: money("621.27"),
            trace_number: Some("021000020000001".into()),
            effective_date: date!(2026 - 03 - 03),
            hold_reason: None,
            claims: vec![
                RemittedClaim { claim_id: Uuid::from_u128(1), kind: "decision".into(), paid: money("1000.00") },
                RemittedClaim { claim_id: Uuid::from_u128(2), kind: "reversal".into(), paid: money("-80.00") },
            ],
            provider_adjustments: vec![
                RemittedAdjustment { reason: "L6".into(), claim_id: Uuid::from_u128(1), amount: money("-1.27") },
                RemittedAdjustment { reason: "WO".into(), claim_id: Uuid::from_u128(7), amount: money("300.00") },
            ],
            part: None,
            parts: None,
        }
    }

    /// Given the remittance as issued, when the bank returns `amount`, then `expected`.
    fn check(given: RemittanceIssued, when: &str, then: impl FnOnce(Result<Reopening, ReopenError>)) {
        then(reopen(ENTRY, &given, money(when), "R03"));
    }

    fn line(account: &str, debit: &str, credit: &str) -> JournalLine {
        JournalLine { account: account.into(), debit: money(debit), credit: money(credit) }
    }

    #[test]
    fn a_return_unpays_the_claims_restores_the_recovered_debt_and_books_the_mirror_of_the_payment() {
        check(issued(), "621.27", |then| {
            let reopening = then.unwrap();
            assert_eq!(reopening.remittance.status, "returned");
            assert_eq!(reopening.claims, [(Uuid::from_u128(1), PayableKind::Decision), (Uuid::from_u128(2), PayableKind::Reversal)]);
            assert_eq!(reopening.debts_restored, [Debt::of_claim(Uuid::from_u128(7), money("300.00"), Uuid::from_u128(0x900))]);
            let entry = &reopening.entry;
            assert_eq!((entry.kind, entry.claim_id, entry.amount), (EntryKind::Return, REMITTANCE, money("-621.27")));
            assert_eq!(
                entry.lines,
                [
                    line("liability:provider_payable:1234567893", "0.00", "920.00"),
                    line("expense:interest:P1", "0.00", "1.27"),
                    line("asset:recoupment_receivable:1234567893", "300.00", "0.00"),
                    line("asset:bank:P1", "621.27", "0.00"),
                ]
            );
            assert!(entry.memo.contains("returned by the bank (R03, trace 021000020000001)"), "{}", entry.memo);
        });
    }

    #[test]
    fn the_payment_and_its_return_leave_every_balance_as_before() {
        let issued = issued();
        let reopening = reopen(ENTRY, &issued, issued.amount, "R01").unwrap();
        let payment = mirror(&reopening.entry.lines);
        let balances = Balances::replay([payment.as_slice(), reopening.entry.lines.as_slice()]).unwrap();
        assert!(balances.0.values().all(|balance| balance.is_zero()), "{balances:?}");
    }

    #[test]
    fn only_a_remittance_paid_by_ach_and_only_its_whole_amount_is_returned() {
        for status in ["zero", "held", "awaiting_prenote", "returned"] {
            check(RemittanceIssued { status: status.into(), ..issued() }, "621.27", |then| {
                assert_eq!(then.unwrap_err(), ReopenError::NotPaid { remittance_id: REMITTANCE, status: status.into() });
            });
        }
        check(issued(), "621.26", |then| {
            assert_eq!(then.unwrap_err(), ReopenError::Amount { remittance_id: REMITTANCE, paid: money("621.27"), returned: money("621.26") });
        });
    }

    #[test]
    fn a_return_restores_a_forwarded_balance_it_applied_but_not_a_refund_it_acknowledged() {
        let mut given = issued();
        given.provider_adjustments.extend([
            RemittedAdjustment { reason: "FB".into(), claim_id: Uuid::from_u128(0xB), amount: money("50.00") },
            RemittedAdjustment { reason: "72".into(), claim_id: Uuid::from_u128(8), amount: money("-40.00") },
            RemittedAdjustment { reason: "WO".into(), claim_id: Uuid::from_u128(8), amount: money("40.00") },
        ]);
        given.amount = money("571.27");
        let reopening = reopen(ENTRY, &given, money("571.27"), "R01").unwrap();
        assert_eq!(
            reopening.debts_restored,
            [
                Debt::of_claim(Uuid::from_u128(7), money("300.00"), Uuid::from_u128(0x900)),
                Debt { claim_id: Uuid::from_u128(0xB), amount: money("50.00"), since_run: Uuid::from_u128(0x900), basis: DebtBasis::Forward },
            ]
        );
        assert!(journal::is_balanced(&reopening.entry.lines));
    }

    #[test]
    fn an_unknown_claim_kind_or_plb_reason_is_refused_by_name() {
        let mut odd = issued();
        odd.provider_adjustments[0].reason = "J1".into();
        check(odd, "621.27", |then| assert!(then.unwrap_err().to_string().contains("unknown PLB reason `J1`")));
        let mut odd = issued();
        odd.claims[0].kind = "void".into();
        check(odd, "621.27", |then| assert!(then.unwrap_err().to_string().contains("unknown claim kind `void`")));
    }
}
