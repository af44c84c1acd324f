//! A member's id at their payer, as intake's registry names members (`PUT
//! /v1/payers/{payer_id}/members/{member_id}`) and claims carry it (FHIR
//! `Coverage.subscriberId`, X12 NM1*IL): 1 to 80 ASCII letters, digits, `-` or
//! `_`. Case is kept.

/// The most characters an id may have.
pub const MEMBER_ID_CHARS_MAX: usize = 80;

/// A member id of the registry's shape. It is PHI: `Debug` masks it, and
/// only `AsRef<str>`, `Display` and serde give the text.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MemberId(String);

#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[error("a member id is 1 to {MEMBER_ID_CHARS_MAX} ASCII letters, digits, `-` or `_`, and this one is not")]
pub struct MemberIdError(String);

impl MemberId {
    /// The member id `text`, exactly as written.
    pub fn parse(text: &str) -> Result<MemberId, MemberIdError> {
        if !crate::payer_id::is_registry_id(text, MEMBER_ID_CHARS_MAX) {
            return Err(MemberIdError(text.to_owned()));
        }
        Ok(MemberId(text.to_owned()))
    }
}

impl std::fmt::Debug for MemberId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MemberId([masked])")
    }
}

impl std::fmt::Debug for MemberIdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MemberIdError([masked])")
    }
}

string_code!(MemberId, MemberIdError, "^[A-Za-z0-9_-]{1,80}$");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::tests::serde_round_trips;
    use proptest::prelude::*;

    #[test]
    fn the_registry_shape_is_a_member_id_and_anything_else_is_not() {
        let cases = [("M0001", true), ("W123-456_7", true), ("", false), ("M 0001", false), ("M0001\n", false)];
        for (text, accepted) in cases {
            assert_eq!(MemberId::parse(text).is_ok(), accepted, "{text:?}");
        }
    }

    #[test]
    fn a_member_id_never_shows_in_debug_output_nor_in_its_error() {
        let member = MemberId::parse("M0001").unwrap();
        assert_eq!(format!("{member:?}"), "MemberId([masked])");
        let error = MemberId::parse("secret id").unwrap_err();
        assert!(!format!("{error:?} {error}").contains("secret"));
    }

    #[test]
    fn a_member_id_is_its_plain_string_in_json() {
        serde_round_trips(&MemberId::parse("M0001").unwrap());
    }

    proptest! {
        #[test]
        fn any_id_of_the_shape_parses_and_prints_back(text in "[A-Za-z0-9_-]{1,80}") {
            prop_assert_eq!(MemberId::parse(&text).map(|id| id.to_string()), Ok(text));
        }

        #[test]
        fn parsing_any_text_never_panics(text in "\\PC{0,90}") {
            let _ = MemberId::parse(&text);
        }
    }
}
