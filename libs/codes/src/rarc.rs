//! Remittance advice remark code (RARC, X12 LQ*HE in the 835, FHIR
//! `ClaimResponse.item.adjudication` notes): more about an adjustment than its
//! CARC says. `M` or `N` and 1 to 3 digits (`M15`, `N362`), or `MA` and 2 or
//! 3 digits (`MA01`, `MA130`).
//!
//! Like CARCs, RARCs are published three times a year: a `Rarc` is checked by
//! shape, and [`CodeList`](crate::CodeList) reports a well-formed code it
//! does not hold as unknown, never rejects it.

use std::borrow::Cow;

use time::Date;

use crate::code_list::{CodeList, Listing};

/// A RARC of the right shape, upper-case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Rarc(Cow<'static, str>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a remittance advice remark code is M or N and 1 to 3 digits, or MA and 2 or 3 digits (`N362`, `M15`, `MA01`), `{0}` is not")]
pub struct RarcError(String);

impl Rarc {
    /// MA01: the member's and the provider's appeal rights.
    pub const APPEAL_RIGHTS: Rarc = Rarc(Cow::Borrowed("MA01"));
    /// M15: separately billed services or tests have been bundled.
    pub const BUNDLED: Rarc = Rarc(Cow::Borrowed("M15"));
    /// N362: the number of days or units exceeds the acceptable maximum.
    pub const UNITS_OVER_MAXIMUM: Rarc = Rarc(Cow::Borrowed("N362"));
    /// N130: consult the plan's benefit documents for coverage.
    pub const SEE_BENEFIT_DOCUMENTS: Rarc = Rarc(Cow::Borrowed("N130"));

    /// The RARC `text`, exactly as written.
    pub fn parse(text: &str) -> Result<Rarc, RarcError> {
        let bytes = text.as_bytes();
        let (letters, digits) = match bytes {
            [b'M', b'A', rest @ ..] => (2, rest),
            [b'M' | b'N', rest @ ..] => (1, rest),
            _ => return Err(RarcError(text.to_owned())),
        };
        let digits_max = 3;
        let digits_min = if letters == 2 { 2 } else { 1 };
        if !(digits_min..=digits_max).contains(&digits.len()) || !digits.iter().all(u8::is_ascii_digit) {
            return Err(RarcError(text.to_owned()));
        }
        Ok(Rarc(Cow::Owned(text.to_owned())))
    }

    /// Where the bundled [`CodeList`] puts this code on `on`.
    pub fn listing_on(&self, on: Date) -> Listing<'static> {
        CodeList::bundled().rarc(self, on)
    }
}

string_code!(Rarc, RarcError, "^(M[0-9]{1,3}|N[0-9]{1,3}|MA[0-9]{2,3})$");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::tests::serde_round_trips;
    use proptest::prelude::*;
    use time::macros::date;

    #[test]
    fn rarcs_of_the_shape_are_accepted_and_others_are_not() {
        let cases = [
            ("N362", true),
            ("M15", true),
            ("M1", true),
            ("MA01", true),
            ("MA130", true),
            ("N1", true),
            ("MA1", false),
            ("MA1300", false),
            ("N3620", false),
            ("n362", false),
            ("X362", false),
            ("N", false),
            ("M", false),
            ("", false),
            ("N36A", false),
        ];
        for (text, accepted) in cases {
            assert_eq!(Rarc::parse(text).is_ok(), accepted, "{text:?}");
        }
    }

    #[test]
    fn a_rarc_is_its_plain_string_in_json_and_its_constants_are_listed() {
        serde_round_trips(&Rarc::UNITS_OVER_MAXIMUM);
        assert_eq!(Rarc::parse("MA01"), Ok(Rarc::APPEAL_RIGHTS));
        for rarc in [Rarc::APPEAL_RIGHTS, Rarc::BUNDLED, Rarc::UNITS_OVER_MAXIMUM, Rarc::SEE_BENEFIT_DOCUMENTS] {
            assert!(matches!(rarc.listing_on(date!(2026 - 06 - 01)), Listing::Active(_)), "{rarc}");
        }
        assert_eq!(Rarc::parse("N999").unwrap().listing_on(date!(2026 - 06 - 01)), Listing::Unknown);
    }

    proptest! {
        #[test]
        fn any_code_of_the_shape_parses_and_prints_back(text in "(M[0-9]{1,3}|N[0-9]{1,3}|MA[0-9]{2,3})") {
            prop_assert_eq!(Rarc::parse(&text).map(|rarc| rarc.to_string()), Ok(text));
        }

        #[test]
        fn parsing_any_text_never_panics(text in "\\PC{0,6}") {
            let _ = Rarc::parse(&text);
        }
    }
}
