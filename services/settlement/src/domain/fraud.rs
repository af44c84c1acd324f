//! What fraud alerts do to payments (docs/fraud.md, "Payment holds and
//! recoupment"):
//!
//! - an alert on a claim not yet paid holds the provider's payments from the
//!   alert's payer ([`hold_reason`], recognizable by [`hold_marker`]);
//! - closed as a false positive, the hold that alert placed is released
//!   (other holds on the provider stay);
//! - closed as confirmed, each flagged claim already paid is recouped
//!   ([`recoup`]): the amount paid becomes a receivable from the provider
//!   (debit `asset:recoupment_receivable:<npi>`, credit the payer's claims
//!   expense) and a debt the next payment runs recover (a positive PLB WO
//!   citing the claim, [`super::payment_run`]).

use claimtrail_events::{FraudAlertRaised, Money};
use uuid::Uuid;

use super::journal::{self, claims_expense_account, recoupment_receivable_account};
use super::payment_run::Debt;
use super::{Entry, EntryKind, Rejection};

/// The start of the reason of every hold alert `alert_id` placed: how its release finds it.
pub fn hold_marker(alert_id: Uuid) -> String {
    format!("fraud alert {alert_id} ")
}

/// The reason a hold for `alert` gives (begins with [`hold_marker`]).
pub fn hold_reason(alert: &FraudAlertRaised) -> String {
    let claims = alert.claim_ids.iter().map(Uuid::to_string).collect::<Vec<_>>().join(", ");
    format!("{}({}) on claim {claims}", hold_marker(alert.alert_id), alert.pattern)
}

/// A claim a payment run has paid: what a confirmed alert recoups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaidClaim {
    pub claim_id: Uuid,
    pub billing_npi: String,
    /// What its decision paid.
    pub paid: Money,
}

/// The recoupment of one paid claim: its journal entry and the debt the next runs recover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recoupment {
    pub entry: Entry,
    pub debt: Debt,
}

/// Recoups `claim` (paid by an earlier run) after alert `alert_id` of `payer_id` was confirmed;
/// `None` when it paid nothing. The debt is dated by the alert (`since_run` holds its id).
pub fn recoup(entry_id: Uuid, alert_id: Uuid, payer_id: &str, claim: &PaidClaim) -> Result<Option<Recoupment>, Rejection> {
    if claim.paid.is_zero() || claim.paid.is_negative() {
        return Ok(None);
    }
    let lines = vec![
        claimtrail_events::JournalLine { account: recoupment_receivable_account(&claim.billing_npi), debit: claim.paid, credit: Money::ZERO },
        claimtrail_events::JournalLine { account: claims_expense_account(payer_id), debit: Money::ZERO, credit: claim.paid },
    ];
    let entry = Entry {
        entry_id,
        claim_id: claim.claim_id,
        kind: EntryKind::Recoupment,
        payer_id: payer_id.to_owned(),
        billing_npi: claim.billing_npi.clone(),
        amount: claim.paid.negated(),
        memo: format!("claim {} recouped after fraud alert {alert_id} was confirmed: {} paid is owed back", claim.claim_id, claim.paid),
        lines,
    };
    if !journal::is_balanced(&entry.lines) {
        return Err(Rejection::Unbalanced(entry.claim_id));
    }
    for amount in std::iter::once(entry.amount).chain(entry.lines.iter().flat_map(|line| [line.debit, line.credit])) {
        amount.cents().map_err(|error| Rejection::Amount { claim_id: entry.claim_id, error })?;
    }
    Ok(Some(Recoupment { debt: Debt::of_claim(claim.claim_id, claim.paid, alert_id), entry }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALERT: Uuid = Uuid::from_u128(0xa1);
    const CLAIM: Uuid = Uuid::from_u128(7);

    fn money(text: &str) -> Money {
        Money::parse(text).unwrap()
    }

    #[test]
    fn a_confirmed_paid_claim_becomes_a_balanced_receivable_and_a_debt_of_what_it_paid() {
        let claim = PaidClaim { claim_id: CLAIM, billing_npi: "1245319599".into(), paid: money("118.80") };
        let recoupment = recoup(Uuid::from_u128(1), ALERT, "60054", &claim).unwrap().expect("something was paid");
        assert_eq!(recoupment.debt, Debt::of_claim(CLAIM, money("118.80"), ALERT));
        let entry = &recoupment.entry;
        assert_eq!((entry.kind, entry.amount, entry.claim_id), (EntryKind::Recoupment, money("-118.80"), CLAIM));
        assert!(journal::is_balanced(&entry.lines));
        let receivable = entry.lines.iter().find(|line| line.account == "asset:recoupment_receivable:1245319599").unwrap();
        let expense = entry.lines.iter().find(|line| line.account == "expense:claims:60054").unwrap();
        assert_eq!((receivable.debit, expense.credit), (money("118.80"), money("118.80")));
    }

    #[test]
    fn a_claim_that_paid_nothing_recoups_nothing() {
        let claim = PaidClaim { claim_id: CLAIM, billing_npi: "1245319599".into(), paid: Money::ZERO };
        assert_eq!(recoup(Uuid::from_u128(1), ALERT, "60054", &claim), Ok(None));
    }

    #[test]
    fn a_hold_reason_begins_with_its_alerts_marker_and_no_other_alerts() {
        let alert = FraudAlertRaised {
            alert_id: ALERT,
            payer_id: "60054".into(),
            pattern: "exact_duplicate".into(),
            claim_ids: vec![CLAIM],
            npi: "1245319599".into(),
            date: None,
            score_permille: 1000,
            reason: String::new(),
            evidence: vec![],
        };
        let reason = hold_reason(&alert);
        assert!(reason.starts_with(&hold_marker(ALERT)), "{reason}");
        assert!(!reason.starts_with(&hold_marker(Uuid::from_u128(0xa))), "alert a1's marker is not alert a's");
        assert!(reason.contains("exact_duplicate") && reason.contains(&CLAIM.to_string()), "{reason}");
    }
}
