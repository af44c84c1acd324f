//! The dashboard's pages and which roles see them. The services' APIs
//! enforce scope on every call; this only decides what is offered, and
//! answers 403 for a page a role has no use of.

use crate::domain::viewer::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// Checkpoints, witnesses' cosignatures, entries by index or event id.
    Ledger,
    /// A claim's events, each with an inclusion proof checked in the browser.
    ClaimProofs,
    /// A claim's decision, step by step.
    Explanation,
    /// Rule sets and policy tables with their hashes and effective dates.
    PolicyVersions,
    /// Journal balances by account.
    Balances,
    /// Payment runs (totals, paid per run), a run's remittances, 835s and ACH file; new runs.
    PaymentRuns,
    /// Bank statements imported, their matched debits, and the exception queue.
    Reconciliation,
    /// Payment holds placed and released.
    PaymentHolds,
    /// Claims pended for review, oldest first, each with its explanation.
    PendedQueue,
    /// Claims by status, a page at a time (keyset), and claims per day by outcome.
    Claims,
    /// The fraud service's alerts of the key's payers; acknowledge and close (payer and admin keys).
    FraudAlerts,
    /// The share of a payer's claims decided with no person, per day received.
    AutoAdjudication,
}

impl Page {
    pub const ALL: [Page; 12] = [
        Page::Ledger,
        Page::ClaimProofs,
        Page::Claims,
        Page::PendedQueue,
        Page::FraudAlerts,
        Page::AutoAdjudication,
        Page::Explanation,
        Page::PolicyVersions,
        Page::Balances,
        Page::PaymentRuns,
        Page::Reconciliation,
        Page::PaymentHolds,
    ];

    pub fn path(self) -> &'static str {
        match self {
            Page::Ledger => "/ui/ledger",
            Page::ClaimProofs => "/ui/claims/proofs",
            Page::Explanation => "/ui/claims/explanation",
            Page::PolicyVersions => "/ui/policy-versions",
            Page::Balances => "/ui/balances",
            Page::PaymentRuns => "/ui/payment-runs",
            Page::Reconciliation => "/ui/reconciliation",
            Page::PaymentHolds => "/ui/payment-holds",
            Page::PendedQueue => "/ui/pended",
            Page::Claims => "/ui/claims",
            Page::FraudAlerts => "/ui/fraud-alerts",
            Page::AutoAdjudication => "/ui/auto-adjudication",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Page::Ledger => "Ledger explorer",
            Page::ClaimProofs => "Claim proofs",
            Page::Explanation => "Claim explanation",
            Page::PolicyVersions => "Rule sets and policy versions",
            Page::Balances => "Journal balances",
            Page::PaymentRuns => "Payment runs",
            Page::Reconciliation => "Reconciliation",
            Page::PaymentHolds => "Payment holds",
            Page::PendedQueue => "Pended claims",
            Page::Claims => "Claims",
            Page::FraudAlerts => "Fraud alerts",
            Page::AutoAdjudication => "Auto-adjudication rate",
        }
    }

    /// Auditors check the ledger, claims and their proofs and read payment
    /// runs; payer operations work the pended queue and the fraud alerts and
    /// read explanations, claims and policy versions (auditors read the
    /// queue and the alerts too); finance runs payments, reconciles and holds;
    /// admins see all.
    pub fn visible_to(self, role: Role) -> bool {
        match role {
            Role::Admin => true,
            Role::Auditor => {
                matches!(
                    self,
                    Page::Ledger
                        | Page::ClaimProofs
                        | Page::Claims
                        | Page::PendedQueue
                        | Page::FraudAlerts
                        | Page::AutoAdjudication
                        | Page::Explanation
                        | Page::PolicyVersions
                        | Page::PaymentRuns
                )
            }
            Role::Payer => {
                matches!(
                    self,
                    Page::Claims | Page::PendedQueue | Page::FraudAlerts | Page::AutoAdjudication | Page::Explanation | Page::PolicyVersions | Page::Ledger
                )
            }
            Role::Finance => matches!(self, Page::Balances | Page::PaymentRuns | Page::Reconciliation | Page::PaymentHolds),
            Role::Provider => false,
        }
    }

    /// The pages `role` sees, in menu order.
    pub fn for_role(role: Role) -> Vec<Page> {
        Page::ALL.into_iter().filter(|page| page.visible_to(role)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_sees_its_own_pages_and_a_provider_none() {
        assert_eq!(
            Page::for_role(Role::Auditor),
            [
                Page::Ledger,
                Page::ClaimProofs,
                Page::Claims,
                Page::PendedQueue,
                Page::FraudAlerts,
                Page::AutoAdjudication,
                Page::Explanation,
                Page::PolicyVersions,
                Page::PaymentRuns
            ]
        );
        assert_eq!(
            Page::for_role(Role::Payer),
            [Page::Ledger, Page::Claims, Page::PendedQueue, Page::FraudAlerts, Page::AutoAdjudication, Page::Explanation, Page::PolicyVersions]
        );
        assert_eq!(Page::for_role(Role::Finance), [Page::Balances, Page::PaymentRuns, Page::Reconciliation, Page::PaymentHolds]);
        assert_eq!(Page::for_role(Role::Admin), Page::ALL);
        assert!(Page::for_role(Role::Provider).is_empty());
    }

    #[test]
    fn no_page_path_clashes_with_the_api_or_the_operational_endpoints() {
        for page in Page::ALL {
            assert!(page.path().starts_with("/ui/"), "{}", page.path());
        }
    }
}
