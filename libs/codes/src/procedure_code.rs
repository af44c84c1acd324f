//! HCPCS / CPT procedure code shape (five characters):
//! - CPT Category I: five digits (`99213`);
//! - CPT Category II, III and PLA: four digits then `F`, `T` or `U` (`0001F`, `0042T`, `0001U`);
//! - HCPCS Level II: a letter `A`..=`V` then four digits (`G0008`, `J1100`).
//!
//! The shape only; whether the code is on this quarter's list is adjudication's business.

/// A procedure code of a valid HCPCS or CPT shape, upper-case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProcedureCode(String);

/// Which code set a well-shaped code belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeSet {
    /// HCPCS Level I (CPT, AMA): <http://www.ama-assn.org/go/cpt>.
    Cpt,
    /// HCPCS Level II (CMS): <https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets>.
    HcpcsLevel2,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a HCPCS or CPT code: five digits, four digits and F, T or U, or a letter A-V and four digits")]
pub struct ProcedureCodeError(String);

impl ProcedureCode {
    pub fn parse(text: &str) -> Result<ProcedureCode, ProcedureCodeError> {
        let code = text.trim().to_ascii_uppercase();
        if ProcedureCode::code_set(&code).is_none() {
            return Err(ProcedureCodeError(text.to_owned()));
        }
        Ok(ProcedureCode(code))
    }

    /// The code set this code belongs to.
    pub fn set(&self) -> CodeSet {
        ProcedureCode::code_set(&self.0).unwrap_or(CodeSet::Cpt)
    }

    /// The code set of an upper-case code, or `None` if it has neither shape.
    pub fn code_set(code: &str) -> Option<CodeSet> {
        let bytes = code.as_bytes();
        if bytes.len() != 5 {
            return None;
        }
        let last_four_digits = bytes[1..].iter().all(u8::is_ascii_digit);
        let first_four_digits = bytes[..4].iter().all(u8::is_ascii_digit);
        match (bytes[0], bytes[4]) {
            (b'A'..=b'V', _) if last_four_digits => Some(CodeSet::HcpcsLevel2),
            (b'0'..=b'9', b'0'..=b'9' | b'F' | b'T' | b'U') if first_four_digits => Some(CodeSet::Cpt),
            _ => None,
        }
    }
}

string_code!(ProcedureCode, ProcedureCodeError, "^([A-V][0-9]{4}|[0-9]{4}[0-9FTU])$");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::tests::serde_round_trips;
    use proptest::prelude::*;

    #[test]
    fn hcpcs_and_cpt_shapes_are_accepted() {
        let cases = [
            ("G0008", CodeSet::HcpcsLevel2),
            ("J1100", CodeSet::HcpcsLevel2),
            ("v2020", CodeSet::HcpcsLevel2),
            ("99213", CodeSet::Cpt),
            ("0001F", CodeSet::Cpt),
            ("0042T", CodeSet::Cpt),
            ("0001U", CodeSet::Cpt),
        ];
        for (text, code_set) in cases {
            let code = ProcedureCode::parse(text).unwrap();
            assert_eq!(ProcedureCode::code_set(code.as_ref()), Some(code_set), "{text}");
        }
    }

    #[test]
    fn a_code_of_the_wrong_shape_is_rejected() {
        for text in ["", "9921", "992134", "W1234", "Z0008", "G000A", "0001X", "A1B2C", "99 13", "G0008 1"] {
            assert_eq!(ProcedureCode::parse(text), Err(ProcedureCodeError(text.to_owned())), "{text:?}");
        }
    }

    #[test]
    fn a_code_is_its_plain_upper_case_string_in_json_and_is_checked_when_read() {
        let code = ProcedureCode::parse(" j1100 ").unwrap();
        assert_eq!((code.as_ref(), code.set()), ("J1100", CodeSet::HcpcsLevel2));
        serde_round_trips(&code);
        assert!(serde_json::from_str::<ProcedureCode>("\"Z0008\"").is_err());
    }

    proptest! {
        #[test]
        fn any_code_of_either_shape_parses_and_prints_back(text in "[A-V][0-9]{4}|[0-9]{4}[0-9FTU]") {
            prop_assert_eq!(ProcedureCode::parse(&text).map(|code| code.to_string()), Ok(text));
        }

        #[test]
        fn parsing_any_text_never_panics(text in "\\PC{0,8}") {
            let _ = ProcedureCode::parse(&text);
        }
    }
}
