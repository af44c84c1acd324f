//! Claim adjustment reason code (CARC, X12 CAS02 / CAS05 / ...; X12's
//! "Claim Adjustment Reason Codes" list): why a line was paid differently
//! than billed. One to three letters or digits: `45`, `96`, `151`, `B7`, `A1`.
//!
//! X12 publishes new codes (and stops old ones) three times a year, so a
//! `Carc` is checked by its shape only: a well-formed code missing from
//! [`CodeList`](crate::CodeList) is accepted, and the list reports it as
//! unknown (see [`Carc::listing_on`]). The constants name the codes
//! Claimtrail's own decisions use, with the group they go with.

use std::borrow::Cow;

use time::Date;

use crate::code_list::{CodeList, Listing};

/// A CARC of the right shape: 1 to 3 upper-case letters or digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Carc(Cow<'static, str>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a claim adjustment reason code is 1 to 3 upper-case letters or digits (`45`, `B7`, `151`), `{0}` is not")]
pub struct CarcError(String);

/// The most characters a CARC has.
pub const CARC_CHARS_MAX: usize = 3;

impl Carc {
    /// PR-1: deductible amount.
    pub const DEDUCTIBLE: Carc = Carc(Cow::Borrowed("1"));
    /// PR-2: coinsurance amount.
    pub const COINSURANCE: Carc = Carc(Cow::Borrowed("2"));
    /// PR-3: copayment amount.
    pub const COPAYMENT: Carc = Carc(Cow::Borrowed("3"));
    /// CO-13: the date of death precedes the date of service.
    pub const DATE_OF_DEATH: Carc = Carc(Cow::Borrowed("13"));
    /// CO-18: exact duplicate claim or service.
    pub const DUPLICATE: Carc = Carc(Cow::Borrowed("18"));
    /// OA-23: the impact of prior payers' adjudication (coordination of benefits).
    pub const PRIOR_PAYER: Carc = Carc(Cow::Borrowed("23"));
    /// CO-26: expenses incurred before coverage.
    pub const BEFORE_COVERAGE: Carc = Carc(Cow::Borrowed("26"));
    /// CO-27: expenses incurred after coverage ended.
    pub const AFTER_COVERAGE: Carc = Carc(Cow::Borrowed("27"));
    /// CO-29: the time limit for filing has expired.
    pub const TIMELY_FILING: Carc = Carc(Cow::Borrowed("29"));
    /// CO-45: the charge exceeds the fee schedule or maximum allowable (the contractual write-off).
    pub const FEE_SCHEDULE: Carc = Carc(Cow::Borrowed("45"));
    /// CO-59: processed under multiple or concurrent procedure rules.
    pub const MULTIPLE_PROCEDURE: Carc = Carc(Cow::Borrowed("59"));
    /// CO-96: non-covered charge (e.g. a code off the fee schedule).
    pub const NON_COVERED: Carc = Carc(Cow::Borrowed("96"));
    /// CO-97: the benefit is included in the payment for another service (NCCI bundling).
    pub const BUNDLED: Carc = Carc(Cow::Borrowed("97"));
    /// CO-129: prior processing information appears incorrect (a claim already reversed).
    pub const PRIOR_PROCESSING: Carc = Carc(Cow::Borrowed("129"));
    /// CO-151: the information submitted does not support this many or this frequency of services (MUE).
    pub const UNITS_NOT_SUPPORTED: Carc = Carc(Cow::Borrowed("151"));
    /// CO-197: precertification or authorization absent.
    pub const AUTHORIZATION_ABSENT: Carc = Carc(Cow::Borrowed("197"));
    /// CO-A1: claim or service denied.
    pub const DENIED: Carc = Carc(Cow::Borrowed("A1"));
    /// CO-B7: the provider was not eligible to be paid for this service on this date.
    pub const PROVIDER_NOT_ELIGIBLE: Carc = Carc(Cow::Borrowed("B7"));

    /// Every constant above, for tests and look-ups.
    pub const USED: [Carc; 18] = [
        Carc::DEDUCTIBLE,
        Carc::COINSURANCE,
        Carc::COPAYMENT,
        Carc::DATE_OF_DEATH,
        Carc::DUPLICATE,
        Carc::PRIOR_PAYER,
        Carc::BEFORE_COVERAGE,
        Carc::AFTER_COVERAGE,
        Carc::TIMELY_FILING,
        Carc::FEE_SCHEDULE,
        Carc::MULTIPLE_PROCEDURE,
        Carc::NON_COVERED,
        Carc::BUNDLED,
        Carc::PRIOR_PROCESSING,
        Carc::UNITS_NOT_SUPPORTED,
        Carc::AUTHORIZATION_ABSENT,
        Carc::DENIED,
        Carc::PROVIDER_NOT_ELIGIBLE,
    ];

    /// The CARC `text`, exactly as written.
    pub fn parse(text: &str) -> Result<Carc, CarcError> {
        let shape_ok = (1..=CARC_CHARS_MAX).contains(&text.len()) && text.bytes().all(|byte| byte.is_ascii_uppercase() || byte.is_ascii_digit());
        if !shape_ok {
            return Err(CarcError(text.to_owned()));
        }
        Ok(Carc(Cow::Owned(text.to_owned())))
    }

    /// Where the bundled [`CodeList`] puts this code on `on` (a date of
    /// service or of the decision): active, not started, stopped, or unknown.
    pub fn listing_on(&self, on: Date) -> Listing<'static> {
        CodeList::bundled().carc(self, on)
    }
}

string_code!(Carc, CarcError, "^[A-Z0-9]{1,3}$");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::tests::serde_round_trips;
    use proptest::prelude::*;
    use time::macros::date;

    #[test]
    fn carcs_of_the_shape_are_accepted_and_others_are_not() {
        let cases = [
            ("45", true),
            ("96", true),
            ("1", true),
            ("151", true),
            ("B7", true),
            ("A1", true),
            ("P24", true),
            ("", false),
            ("1511", false),
            ("b7", false),
            ("4 5", false),
            ("-1", false),
            ("CO-45", false),
        ];
        for (text, accepted) in cases {
            assert_eq!(Carc::parse(text).is_ok(), accepted, "{text:?}");
        }
    }

    #[test]
    fn a_parsed_code_equals_its_constant_and_is_its_plain_string_in_json() {
        assert_eq!(Carc::parse("45"), Ok(Carc::FEE_SCHEDULE));
        assert_eq!(Carc::FEE_SCHEDULE.to_string(), "45");
        serde_round_trips(&Carc::PROVIDER_NOT_ELIGIBLE);
        serde_round_trips(&Carc::parse("P24").unwrap());
        assert!(serde_json::from_str::<Carc>("\"CO-45\"").is_err());
    }

    #[test]
    fn every_code_claimtrail_uses_is_on_the_bundled_list_and_active() {
        for carc in Carc::USED {
            assert!(matches!(carc.listing_on(date!(2026 - 06 - 01)), Listing::Active(_)), "{carc}");
        }
    }

    #[test]
    fn a_well_formed_code_missing_from_the_list_is_accepted_and_reported_unknown() {
        let new_code = Carc::parse("ZZ9").unwrap();
        assert_eq!(new_code.listing_on(date!(2026 - 06 - 01)), Listing::Unknown);
    }

    proptest! {
        #[test]
        fn any_code_of_the_shape_parses_and_prints_back(text in "[A-Z0-9]{1,3}") {
            prop_assert_eq!(Carc::parse(&text).map(|carc| carc.to_string()), Ok(text));
        }

        #[test]
        fn parsing_any_text_never_panics(text in "\\PC{0,5}") {
            let _ = Carc::parse(&text);
        }
    }
}
