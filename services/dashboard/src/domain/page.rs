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
}

impl Page {
    pub const ALL: [Page; 5] = [Page::Ledger, Page::ClaimProofs, Page::Explanation, Page::PolicyVersions, Page::Balances];

    pub fn path(self) -> &'static str {
        match self {
            Page::Ledger => "/ui/ledger",
            Page::ClaimProofs => "/ui/claims/proofs",
            Page::Explanation => "/ui/claims/explanation",
            Page::PolicyVersions => "/ui/policy-versions",
            Page::Balances => "/ui/balances",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Page::Ledger => "Ledger explorer",
            Page::ClaimProofs => "Claim proofs",
            Page::Explanation => "Claim explanation",
            Page::PolicyVersions => "Rule sets and policy versions",
            Page::Balances => "Journal balances",
        }
    }

    /// Auditors check the ledger and claims' proofs; payer operations read
    /// explanations and policy versions; finance reads the journal; admins all.
    pub fn visible_to(self, role: Role) -> bool {
        match role {
            Role::Admin => true,
            Role::Auditor => matches!(self, Page::Ledger | Page::ClaimProofs | Page::Explanation | Page::PolicyVersions),
            Role::Payer => matches!(self, Page::Explanation | Page::PolicyVersions | Page::Ledger),
            Role::Finance => matches!(self, Page::Balances),
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
        assert_eq!(Page::for_role(Role::Auditor), [Page::Ledger, Page::ClaimProofs, Page::Explanation, Page::PolicyVersions]);
        assert_eq!(Page::for_role(Role::Payer), [Page::Ledger, Page::Explanation, Page::PolicyVersions]);
        assert_eq!(Page::for_role(Role::Finance), [Page::Balances]);
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
