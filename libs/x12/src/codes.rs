//! The X12 code values this crate writes into acknowledgments, by name.
//! Lists: X12 005010 TA1 (TA105 note codes), 005010X231A1 999 (IK304, IK403,
//! IK5, AK9), and the external code lists of 005010X214 277CA (claim status
//! category codes, claim status codes, entity identifier codes).

/// TA105, interchange note codes (TA104 is `R` for all of them here).
pub mod ta1 {
    /// The interchange control number in the header and trailer do not match.
    pub const CONTROL_NUMBER_MISMATCH: &str = "001";
    /// The version of the controls is not supported (ISA12).
    pub const VERSION_NOT_SUPPORTED: &str = "003";
    /// The segment terminator is invalid.
    pub const SEGMENT_TERMINATOR: &str = "004";
    pub const SENDER_QUALIFIER: &str = "005";
    pub const SENDER_ID: &str = "006";
    pub const RECEIVER_QUALIFIER: &str = "007";
    pub const RECEIVER_ID: &str = "008";
    pub const AUTHORIZATION_QUALIFIER: &str = "010";
    pub const AUTHORIZATION_VALUE: &str = "011";
    pub const SECURITY_QUALIFIER: &str = "012";
    pub const SECURITY_VALUE: &str = "013";
    pub const DATE: &str = "014";
    pub const TIME: &str = "015";
    pub const VERSION_ID: &str = "017";
    /// ISA13 is not nine digits.
    pub const CONTROL_NUMBER_VALUE: &str = "018";
    pub const ACK_REQUESTED: &str = "019";
    pub const TEST_INDICATOR: &str = "020";
    /// IEA01 is not the number of functional groups.
    pub const GROUP_COUNT: &str = "021";
    /// The control structure is invalid (no ISA, an ISA not 106 characters with fixed widths).
    pub const CONTROL_STRUCTURE: &str = "022";
    /// Improper (premature) end of file: no IEA.
    pub const END_OF_FILE: &str = "023";
    /// Invalid interchange content, e.g. a segment outside any functional group.
    pub const CONTENT: &str = "024";
    /// Duplicate interchange control number (from the same sender).
    pub const DUPLICATE: &str = "025";
    pub const ELEMENT_SEPARATOR: &str = "026";
    pub const COMPONENT_SEPARATOR: &str = "027";
}

/// IK304, implementation segment syntax error codes.
pub mod segment_error {
    pub const UNRECOGNIZED_SEGMENT_ID: &str = "1";
    pub const UNEXPECTED_SEGMENT: &str = "2";
    pub const REQUIRED_SEGMENT_MISSING: &str = "3";
    pub const LOOP_OVER_MAXIMUM: &str = "4";
    pub const SEGMENT_OVER_MAXIMUM_USE: &str = "5";
    pub const NOT_IN_TRANSACTION_SET: &str = "6";
    pub const OUT_OF_SEQUENCE: &str = "7";
    pub const HAS_ELEMENT_ERRORS: &str = "8";
}

/// IK403, implementation data element syntax error codes.
pub mod element_error {
    pub const REQUIRED_MISSING: &str = "1";
    pub const CONDITIONAL_REQUIRED_MISSING: &str = "2";
    pub const TOO_MANY_ELEMENTS: &str = "3";
    pub const TOO_SHORT: &str = "4";
    pub const TOO_LONG: &str = "5";
    pub const INVALID_CHARACTER: &str = "6";
    pub const INVALID_CODE_VALUE: &str = "7";
    pub const INVALID_DATE: &str = "8";
    pub const INVALID_TIME: &str = "9";
    pub const TOO_MANY_COMPONENTS: &str = "13";
    /// Implementation pattern match failure (e.g. a value of the wrong shape for the guide).
    pub const PATTERN_MISMATCH: &str = "I12";
}

/// IK502, transaction set syntax error codes.
pub mod transaction_error {
    pub const NOT_SUPPORTED: &str = "1";
    pub const TRAILER_MISSING: &str = "2";
    pub const CONTROL_NUMBER_MISMATCH: &str = "3";
    pub const SEGMENT_COUNT: &str = "4";
    pub const SEGMENTS_IN_ERROR: &str = "5";
    pub const CONTROL_NUMBER_NOT_UNIQUE: &str = "23";
    /// Implementation convention (ST03) not supported.
    pub const CONVENTION_NOT_SUPPORTED: &str = "I6";
}

/// AK905, functional group syntax error codes.
pub mod group_error {
    pub const NOT_SUPPORTED: &str = "1";
    pub const VERSION_NOT_SUPPORTED: &str = "2";
    pub const TRAILER_MISSING: &str = "3";
    pub const CONTROL_NUMBER_MISMATCH: &str = "4";
    pub const TRANSACTION_COUNT: &str = "5";
}

/// 277CA STC01-1, claim status category codes.
pub mod status_category {
    /// Acknowledgement/Receipt: received (used for the batch totals).
    pub const RECEIPT: &str = "A1";
    /// Acknowledgement/Returned as unprocessable claim.
    pub const UNPROCESSABLE: &str = "A3";
    /// Acknowledgement/Rejected for invalid information.
    pub const INVALID_INFORMATION: &str = "A7";
}

/// 277CA STC01-2, claim status codes.
pub mod status {
    pub const RECEIVED: &str = "19";
    pub const ACCEPTED: &str = "20";
    pub const MISSING_OR_INVALID: &str = "21";
    pub const SUBSCRIBER_NOT_FOUND: &str = "33";
    /// Claim submitted to the incorrect payer.
    pub const INCORRECT_PAYER: &str = "116";
    /// Entity's license/certification.
    pub const LICENSE: &str = "125";
    pub const SUBMITTED_CHARGES: &str = "178";
    pub const DATES_OF_SERVICE: &str = "187";
    pub const PRINCIPAL_DIAGNOSIS: &str = "254";
    pub const DIAGNOSIS: &str = "255";
    pub const CLAIM_OUT_OF_BALANCE: &str = "400";
    pub const PROCEDURE_CODE: &str = "454";
    pub const PAYER_CLAIM_CONTROL_NUMBER: &str = "464";
    pub const CLAIM_FREQUENCY: &str = "535";
    /// Entity's National Provider Identifier (NPI).
    pub const NPI: &str = "562";
    /// Entity's Postal/Zip Code.
    pub const POSTAL_CODE: &str = "500";
    pub const NOT_ELIGIBLE: &str = "97";
}
