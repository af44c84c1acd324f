//! National Provider Identifier: 10 digits, the first 1 or 2, the last a Luhn
//! check digit computed over `80840` followed by the first nine digits.

/// An NPI whose shape and check digit are right (it may still be unenrolled).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Npi(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NpiError {
    #[error("an NPI has 10 digits, `{0}` has {1} characters")]
    WrongLength(String, usize),
    #[error("an NPI has only digits, `{0}` does not")]
    NotDigits(String),
    #[error("an NPI starts with 1 or 2, `{0}` does not")]
    FirstDigit(String),
    #[error("`{0}` fails the NPI check digit (Luhn over 80840 and the first nine digits)")]
    CheckDigit(String),
}

/// The Luhn sum contributed by the prefix 80840 (ISO card issuer prefix for US health).
const PREFIX_80840_LUHN_SUM: u32 = 24;

impl Npi {
    /// The NPI `text`, exactly as written (no trimming).
    pub fn parse(text: &str) -> Result<Npi, NpiError> {
        let n_chars = text.chars().count();
        if n_chars != 10 {
            return Err(NpiError::WrongLength(text.to_owned(), n_chars));
        }
        if !text.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(NpiError::NotDigits(text.to_owned()));
        }
        let digits: Vec<u32> = text.bytes().map(|byte| u32::from(byte - b'0')).collect();
        if !matches!(digits[0], 1 | 2) {
            return Err(NpiError::FirstDigit(text.to_owned()));
        }
        if check_digit(&digits[..9]) != digits[9] {
            return Err(NpiError::CheckDigit(text.to_owned()));
        }
        Ok(Npi(text.to_owned()))
    }
}

/// Luhn check digit for nine NPI digits: from the right, every other digit
/// (starting with the rightmost, since the check digit will follow) is doubled.
fn check_digit(first_nine: &[u32]) -> u32 {
    let sum: u32 = first_nine
        .iter()
        .rev()
        .enumerate()
        .map(|(position_from_right, &digit)| {
            if position_from_right % 2 == 0 {
                let doubled = digit * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                digit
            }
        })
        .sum();
    (10 - (sum + PREFIX_80840_LUHN_SUM) % 10) % 10
}

string_code!(Npi, NpiError, "^[12][0-9]{9}$");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::tests::{pattern_of, serde_round_trips};
    use proptest::prelude::*;

    #[test]
    fn real_npis_are_accepted() {
        for npi in ["1234567893", "1245319599", "1003000126"] {
            assert_eq!(Npi::parse(npi).map(|n| n.to_string()), Ok(npi.to_owned()));
        }
    }

    #[test]
    fn an_npi_with_a_bad_check_digit_is_rejected() {
        for npi in ["1234567890", "1245319598", "1003000127"] {
            assert_eq!(Npi::parse(npi), Err(NpiError::CheckDigit(npi.to_owned())));
        }
    }

    #[test]
    fn an_npi_of_the_wrong_shape_is_rejected() {
        let cases = [
            ("123456789", NpiError::WrongLength("123456789".into(), 9)),
            ("12345678933", NpiError::WrongLength("12345678933".into(), 11)),
            ("", NpiError::WrongLength(String::new(), 0)),
            ("12345678A3", NpiError::NotDigits("12345678A3".into())),
            ("３234567893", NpiError::NotDigits("３234567893".into())),
            ("3234567893", NpiError::FirstDigit("3234567893".into())),
            ("0234567893", NpiError::FirstDigit("0234567893".into())),
        ];
        for (text, expected) in cases {
            assert_eq!(Npi::parse(text), Err(expected), "{text:?}");
        }
    }

    #[test]
    fn an_npi_is_its_plain_string_in_json_and_is_checked_when_read() {
        let npi = Npi::parse("1234567893").unwrap();
        serde_round_trips(&npi);
        assert_eq!("1234567893".parse::<Npi>(), Ok(npi));
        let refused = serde_json::from_str::<Npi>("\"1234567890\"").unwrap_err();
        assert!(refused.to_string().contains("check digit"), "{refused}");
        assert_eq!(pattern_of::<Npi>(), "^[12][0-9]{9}$");
    }

    proptest! {
        #[test]
        fn exactly_one_check_digit_completes_any_nine_digits(first in 1u32..=2, rest in 0u32..100_000_000) {
            let stem = format!("{first}{rest:08}");
            let n_valid = (0..10).filter(|check| Npi::parse(&format!("{stem}{check}")).is_ok()).count();
            prop_assert_eq!(n_valid, 1);
        }

        #[test]
        fn parsing_any_text_never_panics(text in "\\PC{0,12}") {
            let _ = Npi::parse(&text);
        }
    }
}
