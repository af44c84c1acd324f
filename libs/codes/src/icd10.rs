//! ICD-10-CM diagnosis code shape: a letter, a digit, a letter or digit, then
//! up to four letters or digits, with an optional dot after the third
//! character (`E11.9`, `S72.001A`). The shape only; whether the code exists in
//! this year's code set is adjudication's business.

/// An ICD-10-CM code of the right shape, upper-case and without the dot (`E119`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Icd10Code(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Icd10Error {
    #[error("`{0}` is not an ICD-10-CM code: it has 3 to 7 characters (a letter, a digit, then letters or digits)")]
    Shape(String),
    #[error("`{0}` is not an ICD-10-CM code: the only dot goes after the third character")]
    Dot(String),
}

impl Icd10Code {
    pub fn parse(text: &str) -> Result<Icd10Code, Icd10Error> {
        let trimmed = text.trim();
        let n_dots = trimmed.matches('.').count();
        if n_dots > 1 || (n_dots == 1 && trimmed.find('.') != Some(3)) {
            return Err(Icd10Error::Dot(text.to_owned()));
        }
        let code = Icd10Code::normalize(trimmed);
        let bytes = code.as_bytes();
        let shape_ok = (3..=7).contains(&bytes.len())
            && bytes[0].is_ascii_uppercase()
            && bytes[1].is_ascii_digit()
            && bytes[2..].iter().all(|byte| byte.is_ascii_uppercase() || byte.is_ascii_digit());
        if !shape_ok {
            return Err(Icd10Error::Shape(text.to_owned()));
        }
        Ok(Icd10Code(code))
    }

    /// What the domain stores whatever the shape: trimmed, dot removed, upper-case.
    pub fn normalize(text: &str) -> String {
        text.trim().chars().filter(|c| *c != '.').flat_map(char::to_uppercase).collect()
    }
}

string_code!(Icd10Code, Icd10Error, "^[A-Z][0-9][A-Z0-9]{1,5}$");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::tests::serde_round_trips;
    use proptest::prelude::*;

    #[test]
    fn codes_with_or_without_the_dot_are_accepted_and_stored_without_it() {
        let cases = [("E11.9", "E119"), ("E119", "E119"), ("z00.00", "Z0000"), ("S72.001A", "S72001A"), ("J45", "J45"), ("U07.1", "U071")];
        for (text, expected) in cases {
            assert_eq!(Icd10Code::parse(text).map(|c| c.to_string()), Ok(expected.to_owned()), "{text}");
        }
    }

    #[test]
    fn a_code_of_the_wrong_shape_is_rejected() {
        for text in ["", "E1", "1E19", "EE19", "E11.99999", "E11-9", "E11 9", "S72001AB"] {
            assert_eq!(Icd10Code::parse(text), Err(Icd10Error::Shape(text.to_owned())), "{text:?}");
        }
    }

    #[test]
    fn a_dot_anywhere_but_after_the_third_character_is_rejected() {
        for text in ["E1.19", "E11.9.", ".E119", "E119."] {
            assert_eq!(Icd10Code::parse(text), Err(Icd10Error::Dot(text.to_owned())), "{text:?}");
        }
    }

    #[test]
    fn a_code_is_its_plain_string_without_the_dot_in_json() {
        let code = Icd10Code::parse("E11.9").unwrap();
        serde_round_trips(&code);
        assert_eq!(serde_json::to_string(&code).unwrap(), "\"E119\"");
        assert!(serde_json::from_str::<Icd10Code>("\"11.9E\"").is_err());
    }

    proptest! {
        #[test]
        fn any_code_of_the_shape_parses_and_prints_back(text in "[A-Z][0-9][A-Z0-9]{1,5}") {
            prop_assert_eq!(Icd10Code::parse(&text).map(|code| code.to_string()), Ok(text));
        }

        #[test]
        fn parsing_any_text_never_panics(text in "\\PC{0,10}") {
            let _ = Icd10Code::parse(&text);
        }
    }
}
