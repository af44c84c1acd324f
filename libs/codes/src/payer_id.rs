//! A payer's id, as intake's registry names payers (`PUT
//! /v1/payers/{payer_id}`) and claims carry it (FHIR `Coverage.payor`
//! identifier, X12 NM1*PR): 1 to 80 ASCII letters, digits, `-` or `_`. Case is
//! kept: `60054` and `DEMO-HP` are both payer ids.

/// The most characters an id may have.
pub const PAYER_ID_CHARS_MAX: usize = 80;

/// A payer id of the registry's shape.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PayerId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a payer id is 1 to {PAYER_ID_CHARS_MAX} ASCII letters, digits, `-` or `_`, `{0}` is not")]
pub struct PayerIdError(String);

impl PayerId {
    /// The payer id `text`, exactly as written.
    pub fn parse(text: &str) -> Result<PayerId, PayerIdError> {
        if !is_registry_id(text, PAYER_ID_CHARS_MAX) {
            return Err(PayerIdError(text.to_owned()));
        }
        Ok(PayerId(text.to_owned()))
    }
}

/// The shape intake's registry gives every id it names in a path.
pub(crate) fn is_registry_id(text: &str, chars_max: usize) -> bool {
    !text.is_empty() && text.len() <= chars_max && text.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

string_code!(PayerId, PayerIdError, "^[A-Za-z0-9_-]{1,80}$");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::tests::serde_round_trips;
    use proptest::prelude::*;

    #[test]
    fn the_registry_shape_is_a_payer_id_and_anything_else_is_not() {
        let long = "P".repeat(PAYER_ID_CHARS_MAX);
        let too_long = "P".repeat(PAYER_ID_CHARS_MAX + 1);
        let cases = [
            ("60054", true),
            ("DEMO-HP_2", true),
            ("a", true),
            (long.as_str(), true),
            (too_long.as_str(), false),
            ("", false),
            ("60 054", false),
            ("600/54", false),
            ("é", false),
        ];
        for (text, accepted) in cases {
            assert_eq!(PayerId::parse(text).is_ok(), accepted, "{text:?}");
        }
    }

    #[test]
    fn a_payer_id_is_its_plain_string_in_json() {
        serde_round_trips(&PayerId::parse("60054").unwrap());
        assert!(serde_json::from_str::<PayerId>("\"\"").is_err());
    }

    proptest! {
        #[test]
        fn any_id_of_the_shape_parses_and_prints_back(text in "[A-Za-z0-9_-]{1,80}") {
            prop_assert_eq!(PayerId::parse(&text).map(|id| id.to_string()), Ok(text));
        }

        #[test]
        fn parsing_any_text_never_panics(text in "\\PC{0,90}") {
            let _ = PayerId::parse(&text);
        }
    }
}
