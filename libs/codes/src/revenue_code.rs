//! A revenue code (UB-04 form locator 42, X12 SV201 on an 837I): four
//! digits, the first normally `0` (`0450` emergency room, `0636` drugs
//! requiring detailed coding). The shape only.

/// A revenue code of four digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RevenueCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a revenue code is four digits (`0450`), `{0}` is not")]
pub struct RevenueCodeError(String);

impl RevenueCode {
    /// The revenue code `text`, exactly as written: four ASCII digits.
    pub fn parse(text: &str) -> Result<RevenueCode, RevenueCodeError> {
        if text.len() != 4 || !text.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(RevenueCodeError(text.to_owned()));
        }
        Ok(RevenueCode(text.to_owned()))
    }

    /// The category, the first three digits (`045` for `0450` to `0459`, emergency room).
    pub fn category(&self) -> &str {
        &self.0[..3]
    }
}

string_code!(RevenueCode, RevenueCodeError, "^[0-9]{4}$");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::tests::serde_round_trips;
    use proptest::prelude::*;

    #[test]
    fn four_digits_are_a_revenue_code_and_anything_else_is_not() {
        let cases = [("0450", true), ("0636", true), ("1000", true), ("450", false), ("04500", false), ("045A", false), ("", false)];
        for (text, accepted) in cases {
            assert_eq!(RevenueCode::parse(text).is_ok(), accepted, "{text:?}");
        }
        assert_eq!(RevenueCode::parse("0451").unwrap().category(), "045");
    }

    #[test]
    fn a_revenue_code_is_its_plain_string_in_json() {
        serde_round_trips(&RevenueCode::parse("0450").unwrap());
    }

    proptest! {
        #[test]
        fn any_four_digits_parse_and_print_back(text in "[0-9]{4}") {
            prop_assert_eq!(RevenueCode::parse(&text).map(|code| code.to_string()), Ok(text));
        }

        #[test]
        fn parsing_any_text_never_panics(text in "\\PC{0,6}") {
            let _ = RevenueCode::parse(&text);
        }
    }
}
