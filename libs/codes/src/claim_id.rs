//! A claim's id: the UUID intake assigns when it receives the claim (a
//! UUIDv7, so ids sort by arrival), the aggregate id of its events and the
//! `{id}` of `GET /v1/claims/{id}`.

use uuid::Uuid;

/// A claim id. Serializes as the UUID's hyphenated lower-case text, as a
/// plain `Uuid` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
#[schemars(transparent)]
pub struct ClaimId(Uuid);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a claim id is a UUID such as `0190f3a4-7c1e-7d2b-9a41-5f0c3e2d1b7a`, `{0}` is not")]
pub struct ClaimIdError(String);

impl ClaimId {
    /// A new id for a claim received now (UUIDv7: time-ordered, random below).
    pub fn new_v7() -> ClaimId {
        ClaimId(Uuid::now_v7())
    }

    /// The claim id `text`, a UUID in any of the forms `Uuid` reads.
    pub fn parse(text: &str) -> Result<ClaimId, ClaimIdError> {
        Uuid::parse_str(text).map(ClaimId).map_err(|_| ClaimIdError(text.to_owned()))
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl From<Uuid> for ClaimId {
    fn from(uuid: Uuid) -> ClaimId {
        ClaimId(uuid)
    }
}

impl From<ClaimId> for Uuid {
    fn from(claim_id: ClaimId) -> Uuid {
        claim_id.0
    }
}

impl AsRef<Uuid> for ClaimId {
    fn as_ref(&self) -> &Uuid {
        &self.0
    }
}

impl std::fmt::Display for ClaimId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

impl std::str::FromStr for ClaimId {
    type Err = ClaimIdError;

    fn from_str(text: &str) -> Result<ClaimId, ClaimIdError> {
        ClaimId::parse(text)
    }
}

#[cfg(feature = "utoipa")]
impl utoipa::PartialSchema for ClaimId {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::Custom("uuid".to_owned())))
            .into()
    }
}

#[cfg(feature = "utoipa")]
impl utoipa::ToSchema for ClaimId {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_claim_id_is_the_json_of_its_uuid() {
        let uuid = Uuid::now_v7();
        let claim_id = ClaimId::from(uuid);
        assert_eq!(serde_json::to_string(&claim_id).unwrap(), serde_json::to_string(&uuid).unwrap());
        assert_eq!(serde_json::from_str::<ClaimId>(&serde_json::to_string(&uuid).unwrap()).unwrap(), claim_id);
        assert_eq!(claim_id.to_string(), uuid.to_string());
        assert_eq!(Uuid::from(claim_id), uuid);
    }

    #[test]
    fn text_that_is_not_a_uuid_is_not_a_claim_id() {
        for text in ["", "claim-1", "0190f3a4-7c1e-7d2b-9a41-5f0c3e2d1b7", "0190f3a4-7c1e-7d2b-9a41-5f0c3e2d1b7az"] {
            assert_eq!(ClaimId::parse(text), Err(ClaimIdError(text.to_owned())), "{text:?}");
        }
        assert!(serde_json::from_str::<ClaimId>("\"claim-1\"").is_err());
    }

    #[test]
    fn each_new_id_is_a_fresh_uuid_v7() {
        let (first, second) = (ClaimId::new_v7(), ClaimId::new_v7());
        assert_ne!(first, second);
        assert_eq!(first.as_uuid().get_version_num(), 7);
    }

    proptest! {
        #[test]
        fn any_uuid_prints_and_parses_back(bits in any::<u128>()) {
            let claim_id = ClaimId::from(Uuid::from_u128(bits));
            prop_assert_eq!(claim_id.to_string().parse::<ClaimId>(), Ok(claim_id));
        }

        #[test]
        fn parsing_any_text_never_panics(text in "\\PC{0,40}") {
            let _ = ClaimId::parse(&text);
        }
    }
}
