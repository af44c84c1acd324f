//! The code that names a service line: a HCPCS / CPT [`ProcedureCode`], or,
//! on an institutional line billed by revenue code alone (837I SV201 without
//! SV202: room and board, supplies), its four-digit [`RevenueCode`]. Payers
//! accept both on an 837I, so the line's code is one or the other; a
//! professional line always carries a procedure code (the claim's reader
//! checks that, since only it knows the claim's type).

use crate::procedure_code::ProcedureCode;
use crate::revenue_code::RevenueCode;

/// A procedure code (upper-case, as [`ProcedureCode`] keeps it) or a revenue code.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServiceCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a HCPCS or CPT code (five digits, four digits and F, T or U, or a letter A-V and four digits), nor a revenue code (four digits)")]
pub struct ServiceCodeError(String);

impl ServiceCode {
    /// A procedure code of `text` (trimmed, upper-cased), else a revenue code of exactly four digits.
    pub fn parse(text: &str) -> Result<ServiceCode, ServiceCodeError> {
        if let Ok(code) = ProcedureCode::parse(text) {
            return Ok(ServiceCode::from(code));
        }
        match RevenueCode::parse(text) {
            Ok(code) => Ok(ServiceCode::from(code)),
            Err(_) => Err(ServiceCodeError(text.to_owned())),
        }
    }

    /// The procedure code, unless the line is billed by revenue code alone.
    pub fn procedure_code(&self) -> Option<ProcedureCode> {
        ProcedureCode::parse(&self.0).ok()
    }

    /// True for a procedure code, false for a revenue code.
    pub fn is_procedure_code(&self) -> bool {
        ProcedureCode::code_set(&self.0).is_some()
    }
}

impl From<ProcedureCode> for ServiceCode {
    fn from(code: ProcedureCode) -> ServiceCode {
        ServiceCode(code.as_str().to_owned())
    }
}

impl From<RevenueCode> for ServiceCode {
    fn from(code: RevenueCode) -> ServiceCode {
        ServiceCode(code.as_str().to_owned())
    }
}

string_code!(ServiceCode, ServiceCodeError, "^([A-V][0-9]{4}|[0-9]{4}[0-9FTU]|[0-9]{4})$");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::tests::{pattern_of, serde_round_trips};
    use proptest::prelude::*;

    #[test]
    fn a_procedure_code_or_a_revenue_code_names_a_line() {
        let cases = [("99213", Some(true)), (" j1100", Some(true)), ("0120", Some(false)), ("0450", Some(false)), ("012", None), ("Z0008", None), ("", None)];
        for (text, procedure) in cases {
            assert_eq!(ServiceCode::parse(text).ok().map(|code| code.is_procedure_code()), procedure, "{text:?}");
        }
        assert_eq!(ServiceCode::parse(" j1100").unwrap(), "J1100");
        assert_eq!(ServiceCode::parse("99213").unwrap().procedure_code(), ProcedureCode::parse("99213").ok());
        assert_eq!(ServiceCode::parse("0120").unwrap().procedure_code(), None);
    }

    #[test]
    fn a_service_code_is_its_plain_string_in_json() {
        serde_round_trips(&ServiceCode::parse("0120").unwrap());
        serde_round_trips(&ServiceCode::parse("99213").unwrap());
        assert!(serde_json::from_str::<ServiceCode>("\"Z0008\"").is_err());
        assert_eq!(pattern_of::<ServiceCode>(), "^([A-V][0-9]{4}|[0-9]{4}[0-9FTU]|[0-9]{4})$");
    }

    proptest! {
        #[test]
        fn parsing_any_text_never_panics(text in "\\PC{0,8}") {
            let _ = ServiceCode::parse(&text);
        }
    }
}
