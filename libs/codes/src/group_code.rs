//! Claim adjustment group code (X12 CAS01): who bears an adjustment.
//! - `CO` contractual obligation: the provider writes it off;
//! - `PR` patient responsibility: the member owes it (deductible, coinsurance, copay);
//! - `OA` other adjustment: neither, e.g. what a prior payer paid;
//! - `PI` payer-initiated reduction: no contract, but not the member's either.
//!
//! `CR` (corrections and reversals) left the 835 in 5010 but still arrives in
//! the CAS segments of 837 coordination-of-benefits loops, which Claimtrail
//! reads as they come; no decision of ours uses it.

use std::borrow::Cow;

/// An adjustment group code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GroupCode {
    /// Contractual obligation (`CO`).
    Co,
    /// Patient responsibility (`PR`).
    Pr,
    /// Other adjustment (`OA`).
    Oa,
    /// Payer-initiated reduction (`PI`).
    Pi,
    /// Correction or reversal (`CR`): read on 837 input only.
    Cr,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an adjustment group code is CO, PR, OA, PI or CR, `{0}` is not")]
pub struct GroupCodeError(String);

impl GroupCode {
    pub const ALL: [GroupCode; 5] = [GroupCode::Co, GroupCode::Pr, GroupCode::Oa, GroupCode::Pi, GroupCode::Cr];

    /// The code as X12 and JSON write it.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupCode::Co => "CO",
            GroupCode::Pr => "PR",
            GroupCode::Oa => "OA",
            GroupCode::Pi => "PI",
            GroupCode::Cr => "CR",
        }
    }

    /// The group code `text`, exactly as written (upper-case, as X12 has it).
    pub fn parse(text: &str) -> Result<GroupCode, GroupCodeError> {
        GroupCode::ALL.into_iter().find(|group| group.as_str() == text).ok_or_else(|| GroupCodeError(text.to_owned()))
    }

    /// True when the member owes the amount (`PR`).
    pub fn is_patient_responsibility(self) -> bool {
        self == GroupCode::Pr
    }
}

impl AsRef<str> for GroupCode {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Display for GroupCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for GroupCode {
    type Err = GroupCodeError;

    fn from_str(text: &str) -> Result<GroupCode, GroupCodeError> {
        GroupCode::parse(text)
    }
}

impl serde::Serialize for GroupCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for GroupCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<GroupCode, D::Error> {
        let text = <Cow<'de, str> as serde::Deserialize>::deserialize(deserializer)?;
        GroupCode::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for GroupCode {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "GroupCode".into()
    }

    fn json_schema(_generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "enum": ["CO", "PR", "OA", "PI", "CR"] })
    }
}

#[cfg(feature = "utoipa")]
impl utoipa::PartialSchema for GroupCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new().schema_type(utoipa::openapi::schema::Type::String).enum_values(Some(GroupCode::ALL.map(GroupCode::as_str))).into()
    }
}

#[cfg(feature = "utoipa")]
impl utoipa::ToSchema for GroupCode {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn each_group_code_reads_back_from_its_text_and_json() {
        for group in GroupCode::ALL {
            assert_eq!(GroupCode::parse(group.as_str()), Ok(group));
            let json = serde_json::to_string(&group).unwrap();
            assert_eq!(json, format!("\"{group}\""));
            assert_eq!(serde_json::from_str::<GroupCode>(&json).unwrap(), group);
        }
    }

    #[test]
    fn anything_else_is_not_a_group_code() {
        for text in ["", "co", "C0", "XX", "CO ", "PRR"] {
            assert_eq!(GroupCode::parse(text), Err(GroupCodeError(text.to_owned())), "{text:?}");
        }
        assert!(serde_json::from_str::<GroupCode>("\"XX\"").is_err());
        assert!(GroupCode::Pr.is_patient_responsibility() && !GroupCode::Co.is_patient_responsibility());
    }

    proptest! {
        #[test]
        fn parsing_any_text_never_panics(text in "\\PC{0,4}") {
            let _ = GroupCode::parse(&text);
        }
    }
}
