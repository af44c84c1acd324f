//! The payer's policy switches: the `policy` member of a rule set's body.
//!
//! The GoRules editor ignores a member it does not know, so the JDM part of
//! the body stays loadable there with the policy beside it.

use std::collections::BTreeSet;

use claimtrail_events::Money;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::Date;

use crate::error::Problems;

/// The longest timely-filing limit accepted, in days (ten years).
pub const TIMELY_FILING_DAYS_MAX: u32 = 3_650;

/// The most codes `pend_codes` may list.
pub const PEND_CODES_MAX: usize = 1_000;

/// What the MUE edit does with a line over its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MueAction {
    /// Deny the whole line (CO-151, N362): Medicare's rule.
    Deny,
    /// Pay up to the limit and deny the units over it.
    Reduce,
}

/// The standard edits a payer can switch on, run before its own tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StandardEdit {
    Coverage,
    Death,
    TimelyFiling,
    Enrollment,
    Exclusion,
    Duplicate,
    Ncci,
    Mue,
    PriorAuthorization,
    MultipleProcedure,
}

impl StandardEdit {
    pub const ALL: [StandardEdit; 10] = [
        StandardEdit::Coverage,
        StandardEdit::Death,
        StandardEdit::TimelyFiling,
        StandardEdit::Enrollment,
        StandardEdit::Exclusion,
        StandardEdit::Duplicate,
        StandardEdit::Ncci,
        StandardEdit::Mue,
        StandardEdit::PriorAuthorization,
        StandardEdit::MultipleProcedure,
    ];

    pub fn name(self) -> &'static str {
        match self {
            StandardEdit::Coverage => "coverage",
            StandardEdit::Death => "death",
            StandardEdit::TimelyFiling => "timely_filing",
            StandardEdit::Enrollment => "enrollment",
            StandardEdit::Exclusion => "exclusion",
            StandardEdit::Duplicate => "duplicate",
            StandardEdit::Ncci => "ncci",
            StandardEdit::Mue => "mue",
            StandardEdit::PriorAuthorization => "prior_authorization",
            StandardEdit::MultipleProcedure => "multiple_procedure",
        }
    }

    fn parse(name: &str) -> Option<StandardEdit> {
        StandardEdit::ALL.into_iter().find(|edit| edit.name() == name)
    }
}

/// The payer's policy switches, valid from `effective_from` through
/// `effective_to` (inclusive; open-ended when absent), chosen by date of service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Policy {
    #[serde(with = "claimtrail_events::date")]
    pub effective_from: Date,
    #[serde(serialize_with = "serialize_optional_date")]
    pub effective_to: Option<Date>,
    pub mue_action: MueAction,
    /// Days from the date of service to the date of receipt after which a
    /// line is denied CO-29.
    pub timely_filing_days: u32,
    /// Claims whose total charge is over this amount pend for review.
    pub pend_amount_over: Option<Money>,
    /// Lines with these procedure codes pend for review.
    pub pend_codes: BTreeSet<String>,
    /// The standard edits that run; the others do not.
    pub standard_edits: BTreeSet<StandardEdit>,
}

fn serialize_optional_date<S: serde::Serializer>(date: &Option<Date>, serializer: S) -> Result<S::Ok, S::Error> {
    match date {
        Some(date) => serializer.serialize_str(&claimtrail_events::format_date(*date)),
        None => serializer.serialize_none(),
    }
}

impl Policy {
    /// Whether the standard edit `edit` runs under this rule set.
    pub fn applies(&self, edit: StandardEdit) -> bool {
        self.standard_edits.contains(&edit)
    }

    /// Whether the rule set is in force on `date` (a date of service).
    pub fn is_in_force_on(&self, date: Date) -> bool {
        date >= self.effective_from && self.effective_to.is_none_or(|to| date <= to)
    }

    /// Reads the `policy` member, reporting every problem under `policy.`.
    pub(crate) fn parse(value: Option<&Value>, problems: &mut Problems) -> Option<Policy> {
        let Some(value) = value else {
            problems.push("policy", "the rule set has no `policy` (effective_from, mue_action, timely_filing_days, standard_edits)");
            return None;
        };
        let Some(object) = value.as_object() else {
            problems.push("policy", "`policy` must be an object");
            return None;
        };
        let before = problems.len();
        for key in object.keys() {
            if !["effective_from", "effective_to", "mue_action", "timely_filing_days", "pend_amount_over", "pend_codes", "standard_edits"]
                .contains(&key.as_str())
            {
                problems.push(format!("policy.{key}"), "unknown policy switch");
            }
        }
        let effective_from = match object.get("effective_from") {
            None => {
                problems.push("policy.effective_from", "missing (the first date of service the rule set applies to, YYYY-MM-DD)");
                None
            }
            Some(value) => parse_date(value, "policy.effective_from", problems),
        };
        let effective_to = match object.get("effective_to") {
            None | Some(Value::Null) => None,
            Some(value) => parse_date(value, "policy.effective_to", problems),
        };
        if let (Some(from), Some(to)) = (effective_from, effective_to)
            && to < from
        {
            problems.push(
                "policy.effective_to",
                format!("{} is before effective_from {}", claimtrail_events::format_date(to), claimtrail_events::format_date(from)),
            );
        }
        let mue_action = match object.get("mue_action").map(|value| value.as_str()) {
            Some(Some("deny")) => Some(MueAction::Deny),
            Some(Some("reduce")) => Some(MueAction::Reduce),
            Some(_) => {
                problems.push("policy.mue_action", "expected \"deny\" or \"reduce\"");
                None
            }
            None => {
                problems.push("policy.mue_action", "missing (\"deny\" or \"reduce\")");
                None
            }
        };
        let timely_filing_days = match object.get("timely_filing_days").map(Value::as_u64) {
            Some(Some(days)) if (1..=u64::from(TIMELY_FILING_DAYS_MAX)).contains(&days) => u32::try_from(days).ok(),
            Some(_) => {
                problems.push("policy.timely_filing_days", format!("expected a whole number of days from 1 to {TIMELY_FILING_DAYS_MAX}"));
                None
            }
            None => {
                problems.push("policy.timely_filing_days", "missing (days from the date of service to receipt)");
                None
            }
        };
        let pend_amount_over = match object.get("pend_amount_over") {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => match Money::parse(text) {
                Ok(amount) if !amount.is_negative() => Some(amount),
                Ok(_) => {
                    problems.push("policy.pend_amount_over", "expected zero or more");
                    None
                }
                Err(error) => {
                    problems.push("policy.pend_amount_over", error.to_string());
                    None
                }
            },
            Some(_) => {
                problems.push("policy.pend_amount_over", "expected an amount as a string, such as \"5000.00\"");
                None
            }
        };
        let mut pend_codes = BTreeSet::new();
        match object.get("pend_codes") {
            None | Some(Value::Null) => {}
            Some(Value::Array(codes)) if codes.len() <= PEND_CODES_MAX => {
                for (index, code) in codes.iter().enumerate() {
                    match code.as_str() {
                        Some(code) if is_procedure_code(code) => {
                            if !pend_codes.insert(code.to_owned()) {
                                problems.push(format!("policy.pend_codes[{index}]"), format!("`{code}` is listed twice"));
                            }
                        }
                        _ => problems.push(format!("policy.pend_codes[{index}]"), "expected a procedure code (1 to 16 upper-case letters and digits)"),
                    }
                }
            }
            Some(Value::Array(_)) => problems.push("policy.pend_codes", format!("more than {PEND_CODES_MAX} codes")),
            Some(_) => problems.push("policy.pend_codes", "expected a list of procedure codes"),
        }
        let mut standard_edits = BTreeSet::new();
        match object.get("standard_edits") {
            None => problems.push("policy.standard_edits", "missing (the list of standard edits that run; [] for none)"),
            Some(Value::Array(names)) => {
                for (index, name) in names.iter().enumerate() {
                    match name.as_str().and_then(StandardEdit::parse) {
                        Some(edit) => {
                            if !standard_edits.insert(edit) {
                                problems.push(format!("policy.standard_edits[{index}]"), format!("`{}` is listed twice", edit.name()));
                            }
                        }
                        None => problems.push(
                            format!("policy.standard_edits[{index}]"),
                            format!("expected one of {}", StandardEdit::ALL.map(StandardEdit::name).join(", ")),
                        ),
                    }
                }
            }
            Some(_) => problems.push("policy.standard_edits", "expected a list of standard edit names"),
        }
        if problems.len() != before {
            return None;
        }
        Some(Policy {
            effective_from: effective_from?,
            effective_to,
            mue_action: mue_action?,
            timely_filing_days: timely_filing_days?,
            pend_amount_over,
            pend_codes,
            standard_edits,
        })
    }
}

fn parse_date(value: &Value, path: &str, problems: &mut Problems) -> Option<Date> {
    match value.as_str().and_then(claimtrail_events::parse_date) {
        Some(date) => Some(date),
        None => {
            problems.push(path, "expected a date as YYYY-MM-DD");
            None
        }
    }
}

/// A procedure code's shape: 1 to 16 upper-case letters and digits.
pub(crate) fn is_procedure_code(code: &str) -> bool {
    (1..=16).contains(&code.len()) && code.bytes().all(|byte| byte.is_ascii_uppercase() || byte.is_ascii_digit())
}
