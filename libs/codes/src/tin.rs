//! Taxpayer Identification Number: the EIN (or SSN) a provider is paid
//! under, 9 digits, written without the dash (as intake's registry and X12
//! REF*EI carry it).

/// A TIN of 9 digits, without the dash.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tin(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a TIN is 9 digits without the dash, `{0}` is not")]
pub struct TinError(String);

impl Tin {
    /// The TIN `text`, exactly as written: 9 ASCII digits.
    pub fn parse(text: &str) -> Result<Tin, TinError> {
        if text.len() != 9 || !text.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(TinError(text.to_owned()));
        }
        Ok(Tin(text.to_owned()))
    }
}

string_code!(Tin, TinError, "^[0-9]{9}$");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::tests::serde_round_trips;
    use proptest::prelude::*;

    #[test]
    fn nine_digits_are_a_tin_and_anything_else_is_not() {
        let cases = [
            ("123456789", true),
            ("000000000", true),
            ("12-3456789", false),
            ("12345678", false),
            ("1234567890", false),
            ("12345678A", false),
            (" 23456789", false),
            ("", false),
            ("１23456789", false),
        ];
        for (text, accepted) in cases {
            assert_eq!(Tin::parse(text).is_ok(), accepted, "{text:?}");
        }
        assert_eq!(Tin::parse("12-3456789"), Err(TinError("12-3456789".into())));
    }

    #[test]
    fn a_tin_is_its_plain_string_in_json() {
        serde_round_trips(&Tin::parse("123456789").unwrap());
        assert!(serde_json::from_str::<Tin>("\"12345\"").is_err());
    }

    proptest! {
        #[test]
        fn any_nine_digits_parse_and_print_back(digits in "[0-9]{9}") {
            prop_assert_eq!(Tin::parse(&digits).map(|tin| tin.to_string()), Ok(digits));
        }

        #[test]
        fn parsing_any_text_never_panics(text in "\\PC{0,12}") {
            let _ = Tin::parse(&text);
        }
    }
}
