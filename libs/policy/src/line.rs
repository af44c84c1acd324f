//! The minimal view of a claim line that the edits and pricing read, and
//! the typed findings they return.

use claimtrail_codes::{Carc, GroupCode, Rarc};
use claimtrail_events::{Adjustment, Money};
use rust_decimal::Decimal;
use time::Date;
use uuid::Uuid;

/// One claim line as the edits see it: the current claim's lines, or lines
/// of the member's other claims (history) that the caller passes in.
///
/// Codes are `String`s until libs/codes lands with typed codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditLine {
    pub claim_id: Uuid,
    pub sequence: u32,
    pub procedure_code: String,
    pub modifiers: Vec<String>,
    pub units: Decimal,
    pub charge: Money,
    /// The rendering provider (the billing provider when the claim names none).
    pub rendering_npi: String,
    pub billing_npi: String,
    pub member_id: String,
    pub service_date: Date,
    pub place_of_service: Option<String>,
    pub status: LineStatus,
}

/// Where a line stands: on the claim being decided, or already decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineStatus {
    /// On the claim being decided now.
    Submitted,
    /// On an earlier claim, paid.
    Paid,
    /// On an earlier claim, pended for review and not yet decided.
    Pending,
}

/// One CAS adjustment: group, claim adjustment reason code, amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cas {
    pub group: GroupCode,
    pub carc: Carc,
    pub amount: Money,
}

impl Cas {
    pub(crate) fn co(carc: Carc, amount: Money) -> Cas {
        Cas { group: GroupCode::Co, carc, amount }
    }

    /// The wire shape of `claim.adjudicated.v1`.
    pub fn to_adjustment(self) -> Adjustment {
        Adjustment { group: self.group, reason: self.carc, amount: self.amount }
    }
}

/// Which standard edit found something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    Ncci,
    Mue,
    Duplicate,
    Exclusion,
    DateOfDeath,
    PriorAuthorization,
}

impl Edit {
    pub fn as_str(self) -> &'static str {
        match self {
            Edit::Ncci => "ncci-ptp",
            Edit::Mue => "mue",
            Edit::Duplicate => "duplicate",
            Edit::Exclusion => "exclusion",
            Edit::DateOfDeath => "date-of-death",
            Edit::PriorAuthorization => "prior-authorization",
        }
    }
}

/// What the engine is to do with the line a finding names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Deny the line: one adjustment for its full charge, with remarks (RARCs).
    Deny { cas: Cas, remarks: Vec<Rarc> },
    /// Pay no more than `units` of the line; the fee for the units taken
    /// away is adjusted with `carc` (pricing does this: [`crate::price_claim`]).
    ReduceUnits { units: Decimal, carc: Carc, remarks: Vec<Rarc> },
    /// Stop and send the claim to review.
    Pend { reason: PendReason },
    /// Pay this line, and reverse an earlier line of another claim (or deny
    /// it when it is decided, if it is still pending) with `carc`: the NCCI
    /// column-one code arrived after its column-two code was paid.
    ReverseEarlierLine { claim_id: Uuid, sequence: u32, carc: Carc },
}

/// Why a line pends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PendReason {
    /// Like an earlier line but for a modifier, charge or units, or by
    /// another renderer of the same billing group.
    SuspectDuplicate { claim_id: Uuid, sequence: u32 },
    /// The rendering provider matches an LEIE row by name and birth date,
    /// not by NPI.
    PossibleExclusion,
}

/// One edit's verdict on one line of the current claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The current claim's line.
    pub sequence: u32,
    pub edit: Edit,
    pub action: Action,
    /// One sentence: what fired and why.
    pub explanation: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_carc_the_edits_and_pricing_write_converts_to_the_wire_adjustment() {
        for carc in [
            Carc::DATE_OF_DEATH,
            Carc::DUPLICATE,
            Carc::FEE_SCHEDULE,
            Carc::MULTIPLE_PROCEDURE,
            Carc::NON_COVERED,
            Carc::BUNDLED,
            Carc::UNITS_NOT_SUPPORTED,
            Carc::AUTHORIZATION_ABSENT,
            Carc::PROVIDER_NOT_ELIGIBLE,
        ] {
            let adjustment = Cas::co(carc.clone(), Money::from_cents(100)).to_adjustment();
            assert_eq!((adjustment.group, adjustment.reason), (GroupCode::Co, carc));
        }
    }
}
