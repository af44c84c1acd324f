//! A procedure code modifier (CPT / HCPCS Level II): two letters or digits
//! after the code, such as `25`, `59`, `LT`, `GT` or `XS` (X12 SV101-3 to
//! -6, FHIR `Claim.item.modifier`). The shape only; whether a payer honours
//! it is adjudication's business.

/// A modifier of two ASCII letters or digits, upper-case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Modifier(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a modifier is two letters or digits (`25`, `LT`), `{0}` is not")]
pub struct ModifierError(String);

impl Modifier {
    /// The modifier `text`, upper-cased (`lt` is `LT`); no trimming.
    pub fn parse(text: &str) -> Result<Modifier, ModifierError> {
        if text.len() != 2 || !text.bytes().all(|byte| byte.is_ascii_alphanumeric()) {
            return Err(ModifierError(text.to_owned()));
        }
        Ok(Modifier(text.to_ascii_uppercase()))
    }
}

string_code!(Modifier, ModifierError, "^[A-Z0-9]{2}$");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::tests::serde_round_trips;
    use proptest::prelude::*;

    #[test]
    fn two_letters_or_digits_are_a_modifier_upper_cased() {
        let cases = [
            ("25", Some("25")),
            ("LT", Some("LT")),
            ("gt", Some("GT")),
            ("X5", Some("X5")),
            ("5", None),
            ("255", None),
            ("L-", None),
            (" 2", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(Modifier::parse(text).ok().map(|modifier| modifier.to_string()), expected.map(str::to_owned), "{text:?}");
        }
    }

    #[test]
    fn a_modifier_is_its_plain_string_in_json() {
        serde_round_trips(&Modifier::parse("59").unwrap());
        assert!(serde_json::from_str::<Modifier>("\"591\"").is_err());
    }

    proptest! {
        #[test]
        fn any_two_upper_case_letters_or_digits_parse_and_print_back(text in "[A-Z0-9]{2}") {
            prop_assert_eq!(Modifier::parse(&text).map(|modifier| modifier.to_string()), Ok(text));
        }

        #[test]
        fn parsing_any_text_never_panics(text in "\\PC{0,4}") {
            let _ = Modifier::parse(&text);
        }
    }
}
