//! Who is signed in, as the dashboard needs it: the tenant's name, role and
//! payers, converted once from the runtime's `Tenant` at sign-in (the domain
//! core names no runtime crate).

/// The roles of DESIGN.md "Security and privacy", as the dashboard offers pages to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Provider,
    Payer,
    Finance,
    Auditor,
    Admin,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Viewer {
    pub name: String,
    pub role: Role,
    /// A payer key's payer.
    pub payer_id: Option<String>,
    /// The payers it reads: None for every payer.
    pub payers: Option<Vec<String>>,
}

impl Role {
    pub fn label(self) -> &'static str {
        match self {
            Role::Provider => "provider",
            Role::Payer => "payer operations",
            Role::Finance => "finance",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }
}

impl Viewer {
    /// The payers whose policy versions this viewer may ask for, when it is a known list.
    pub fn listed_payers(&self) -> Vec<String> {
        match (&self.payer_id, &self.payers) {
            (Some(payer_id), _) => vec![payer_id.clone()],
            (None, Some(payers)) => payers.clone(),
            (None, None) => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payer_key_lists_its_own_payer_and_an_all_payers_key_none() {
        let payer = Viewer { name: "p".into(), role: Role::Payer, payer_id: Some("60054".into()), payers: Some(vec!["60054".into()]) };
        assert_eq!(payer.listed_payers(), ["60054"]);
        let auditor = Viewer { name: "a".into(), role: Role::Auditor, payer_id: None, payers: Some(vec!["1".into(), "2".into()]) };
        assert_eq!(auditor.listed_payers(), ["1", "2"]);
        let admin = Viewer { name: "o".into(), role: Role::Admin, payer_id: None, payers: None };
        assert!(admin.listed_payers().is_empty());
    }
}
