//! Place of service (CMS POS code set; X12 CLM05-1 and SV105, FHIR
//! `Claim.item.locationCodeableConcept`): two digits naming the setting of a
//! professional service. The setting decides which RBRVS rate applies: the
//! facility rate where the facility bills its own costs (inpatient and
//! outpatient hospital, emergency room, ambulatory surgical center, skilled
//! nursing facility, ...), the non-facility rate everywhere else.
//!
//! The list below is CMS's as of 2026, hand-encoded: [`PlaceOfService::name`]
//! and [`PlaceOfService::is_facility`] read it. A well-formed code that is not on
//! it (unassigned today, or assigned after this list) still parses: it has
//! no name and is priced at the non-facility rate, as CMS does for settings
//! not on its facility list.

/// A place-of-service code of two digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PlaceOfService(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a place of service is two digits (`11` office, `22` outpatient hospital), `{0}` is not")]
pub struct PlaceOfServiceError(String);

/// Whether the facility or the non-facility RBRVS rate applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rate {
    Facility,
    NonFacility,
}

/// CMS's place-of-service codes: code, name, and the RBRVS rate that applies.
const PLACES: &[(&str, &str, Rate)] = &[
    ("01", "Pharmacy", Rate::NonFacility),
    ("02", "Telehealth provided other than in patient's home", Rate::Facility),
    ("03", "School", Rate::NonFacility),
    ("04", "Homeless shelter", Rate::NonFacility),
    ("05", "Indian Health Service free-standing facility", Rate::NonFacility),
    ("06", "Indian Health Service provider-based facility", Rate::NonFacility),
    ("07", "Tribal 638 free-standing facility", Rate::NonFacility),
    ("08", "Tribal 638 provider-based facility", Rate::NonFacility),
    ("09", "Prison/correctional facility", Rate::NonFacility),
    ("10", "Telehealth provided in patient's home", Rate::NonFacility),
    ("11", "Office", Rate::NonFacility),
    ("12", "Home", Rate::NonFacility),
    ("13", "Assisted living facility", Rate::NonFacility),
    ("14", "Group home", Rate::NonFacility),
    ("15", "Mobile unit", Rate::NonFacility),
    ("16", "Temporary lodging", Rate::NonFacility),
    ("17", "Walk-in retail health clinic", Rate::NonFacility),
    ("18", "Place of employment-worksite", Rate::NonFacility),
    ("19", "Off campus-outpatient hospital", Rate::Facility),
    ("20", "Urgent care facility", Rate::NonFacility),
    ("21", "Inpatient hospital", Rate::Facility),
    ("22", "On campus-outpatient hospital", Rate::Facility),
    ("23", "Emergency room-hospital", Rate::Facility),
    ("24", "Ambulatory surgical center", Rate::Facility),
    ("25", "Birthing center", Rate::NonFacility),
    ("26", "Military treatment facility", Rate::Facility),
    ("27", "Outreach site/street", Rate::NonFacility),
    ("31", "Skilled nursing facility", Rate::Facility),
    ("32", "Nursing facility", Rate::NonFacility),
    ("33", "Custodial care facility", Rate::NonFacility),
    ("34", "Hospice", Rate::Facility),
    ("41", "Ambulance-land", Rate::Facility),
    ("42", "Ambulance-air or water", Rate::Facility),
    ("49", "Independent clinic", Rate::NonFacility),
    ("50", "Federally qualified health center", Rate::NonFacility),
    ("51", "Inpatient psychiatric facility", Rate::Facility),
    ("52", "Psychiatric facility-partial hospitalization", Rate::Facility),
    ("53", "Community mental health center", Rate::Facility),
    ("54", "Intermediate care facility/individuals with intellectual disabilities", Rate::NonFacility),
    ("55", "Residential substance abuse treatment facility", Rate::NonFacility),
    ("56", "Psychiatric residential treatment center", Rate::Facility),
    ("57", "Non-residential substance abuse treatment facility", Rate::NonFacility),
    ("58", "Non-residential opioid treatment facility", Rate::NonFacility),
    ("60", "Mass immunization center", Rate::NonFacility),
    ("61", "Comprehensive inpatient rehabilitation facility", Rate::Facility),
    ("62", "Comprehensive outpatient rehabilitation facility", Rate::NonFacility),
    ("65", "End-stage renal disease treatment facility", Rate::NonFacility),
    ("66", "Programs of All-Inclusive Care for the Elderly (PACE) center", Rate::NonFacility),
    ("71", "State or local public health clinic", Rate::NonFacility),
    ("72", "Rural health clinic", Rate::NonFacility),
    ("81", "Independent laboratory", Rate::NonFacility),
    ("99", "Other place of service", Rate::NonFacility),
];

impl PlaceOfService {
    /// Office, the commonest professional setting (non-facility rate).
    pub const OFFICE: &str = "11";

    /// The place of service `text`, exactly as written: two ASCII digits.
    pub fn parse(text: &str) -> Result<PlaceOfService, PlaceOfServiceError> {
        if text.len() != 2 || !text.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(PlaceOfServiceError(text.to_owned()));
        }
        Ok(PlaceOfService(text.to_owned()))
    }

    /// CMS's name for the setting, or `None` for a code not on this crate's list.
    pub fn name(&self) -> Option<&'static str> {
        self.listed().map(|(_, name, _)| *name)
    }

    /// Whether the RBRVS facility rate applies (inpatient, outpatient and
    /// emergency hospital, ambulatory surgical center, skilled nursing
    /// facility, hospice, ambulance, inpatient psychiatric and rehabilitation
    /// facilities, ...). False for every other setting, listed or not.
    pub fn is_facility(&self) -> bool {
        self.listed().is_some_and(|(_, _, rate)| *rate == Rate::Facility)
    }

    fn listed(&self) -> Option<&'static (&'static str, &'static str, Rate)> {
        PLACES.iter().find(|(code, _, _)| *code == self.0)
    }
}

string_code!(PlaceOfService, PlaceOfServiceError, "^[0-9]{2}$");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::tests::serde_round_trips;
    use proptest::prelude::*;
    use std::collections::HashSet;

    fn place(code: &str) -> PlaceOfService {
        PlaceOfService::parse(code).unwrap()
    }

    #[test]
    fn each_setting_gets_the_rate_cms_gives_it() {
        let cases = [
            ("11", false, Some("Office")),
            ("12", false, Some("Home")),
            ("21", true, Some("Inpatient hospital")),
            ("22", true, Some("On campus-outpatient hospital")),
            ("19", true, Some("Off campus-outpatient hospital")),
            ("23", true, Some("Emergency room-hospital")),
            ("24", true, Some("Ambulatory surgical center")),
            ("31", true, Some("Skilled nursing facility")),
            ("32", false, Some("Nursing facility")),
            ("02", true, Some("Telehealth provided other than in patient's home")),
            ("10", false, Some("Telehealth provided in patient's home")),
            ("81", false, Some("Independent laboratory")),
            ("98", false, None),
            ("00", false, None),
        ];
        for (code, facility, name) in cases {
            assert_eq!((place(code).is_facility(), place(code).name()), (facility, name), "{code}");
        }
    }

    #[test]
    fn the_list_names_each_code_once_and_every_code_has_the_shape() {
        let codes: HashSet<&str> = PLACES.iter().map(|(code, _, _)| *code).collect();
        assert_eq!(codes.len(), PLACES.len());
        assert!(PLACES.iter().all(|(code, _, _)| PlaceOfService::parse(code).is_ok()));
        assert_eq!(place(PlaceOfService::OFFICE).name(), Some("Office"));
    }

    #[test]
    fn a_place_of_service_of_the_wrong_shape_is_rejected() {
        for text in ["", "1", "111", "1A", " 1", "１1"] {
            assert_eq!(PlaceOfService::parse(text), Err(PlaceOfServiceError(text.to_owned())), "{text:?}");
        }
    }

    #[test]
    fn a_place_of_service_is_its_plain_string_in_json() {
        serde_round_trips(&place("11"));
    }

    proptest! {
        #[test]
        fn any_two_digits_parse_and_print_back(text in "[0-9]{2}") {
            let parsed = PlaceOfService::parse(&text);
            prop_assert_eq!(parsed.as_ref().map(ToString::to_string), Ok(text));
            prop_assert!(parsed.map(|place| place.name().is_some() || !place.is_facility()).unwrap_or(false));
        }

        #[test]
        fn parsing_any_text_never_panics(text in "\\PC{0,4}") {
            let _ = PlaceOfService::parse(&text);
        }
    }
}
