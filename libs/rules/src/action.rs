//! The fixed set of actions a payer's decision table can take, and the
//! output columns that name them.
//!
//! A table's output columns must each have one of the fields of
//! [`OUTPUT_FIELDS`]; a rule's `action` cell names the action and the other
//! cells fill it in. docs/rules.md "Actions" has the table.

use claimtrail_codes::{Carc, Rarc};
use claimtrail_events::Money;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The output fields a decision table may have (`action` is required).
pub const OUTPUT_FIELDS: [&str; 6] = ["action", "carc", "rarc", "reason", "percent", "amount"];

/// The names an `action` cell may give.
pub const ACTION_NAMES: [&str; 6] = ["deny", "pend", "reduce_percent", "reduce_to", "require_prior_authorization", "set_allowed"];

/// The longest `reason` a rule may give (it travels with the pended claim).
pub const REASON_LENGTH_MAX: usize = 200;

/// The most RARCs one rule may attach.
pub const RARCS_MAX: usize = 5;

/// What a rule that fired asks the engine to do with the line.
///
/// CARCs and RARCs are strings checked for shape here (`96`, `B7`, `N130`).
// TODO(codes): switch carc/rarcs to claimtrail_codes::{Carc, Rarc} once libs/codes lands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Deny the line (group CO) with this CARC and these remarks.
    Deny { carc: Carc, rarcs: Vec<Rarc> },
    /// Pend the claim for review, saying why.
    Pend { reason: String },
    /// Reduce the allowed amount by `percent` (0 < percent <= 100); the CAS
    /// adjustment uses `carc` when given, the engine's default otherwise.
    ReducePercent { percent: Decimal, carc: Option<Carc>, rarcs: Vec<Rarc> },
    /// Reduce the allowed amount to `amount` (no change when it is already lower).
    ReduceTo { amount: Money, carc: Option<Carc>, rarcs: Vec<Rarc> },
    /// The line needs a prior authorization on file (CO-197 without one).
    RequirePriorAuthorization,
    /// Set the allowed amount to `amount`.
    SetAllowed { amount: Money },
}

impl Action {
    /// The name an `action` cell gives for this action.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Deny { .. } => "deny",
            Action::Pend { .. } => "pend",
            Action::ReducePercent { .. } => "reduce_percent",
            Action::ReduceTo { .. } => "reduce_to",
            Action::RequirePriorAuthorization => "require_prior_authorization",
            Action::SetAllowed { .. } => "set_allowed",
        }
    }
}

/// The values a rule's output cells gave, before they are checked into an
/// [`Action`]. Each is `None` when the table has no such column or the cell
/// is empty.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Outputs {
    pub(crate) action: Option<OutputValue>,
    pub(crate) carc: Option<OutputValue>,
    pub(crate) rarc: Option<OutputValue>,
    pub(crate) reason: Option<OutputValue>,
    pub(crate) percent: Option<OutputValue>,
    pub(crate) amount: Option<OutputValue>,
}

/// An output cell's value, reduced to what actions are made of.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum OutputValue {
    Null,
    Text(String),
    Number(Decimal),
    TextList(Vec<String>),
    /// Anything else (a boolean, an object, a date...), described.
    Other(String),
}

impl OutputValue {
    pub(crate) fn describe(&self) -> String {
        match self {
            OutputValue::Null => "null".to_owned(),
            OutputValue::Text(text) => format!("the string `{text}`"),
            OutputValue::Number(number) => format!("the number {number}"),
            OutputValue::TextList(list) => format!("the list {list:?}"),
            OutputValue::Other(description) => description.clone(),
        }
    }
}

/// Which output cell a problem is in, for the error's path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutputField {
    Action,
    Carc,
    Rarc,
    Reason,
    Percent,
    Amount,
}

impl OutputField {
    pub(crate) fn parse(field: &str) -> Option<OutputField> {
        match field {
            "action" => Some(OutputField::Action),
            "carc" => Some(OutputField::Carc),
            "rarc" => Some(OutputField::Rarc),
            "reason" => Some(OutputField::Reason),
            "percent" => Some(OutputField::Percent),
            "amount" => Some(OutputField::Amount),
            _ => None,
        }
    }
}

/// Makes an action from a rule's outputs, or says which field is wrong and why.
pub(crate) fn build_action(outputs: &Outputs) -> Result<Action, (OutputField, String)> {
    let name = match &outputs.action {
        Some(OutputValue::Text(name)) => name.as_str(),
        Some(other) => return Err((OutputField::Action, format!("`action` gave {}; expected one of {}", other.describe(), ACTION_NAMES.join(", ")))),
        None => return Err((OutputField::Action, "the rule has no `action`".to_owned())),
    };
    let carc = || optional_code(outputs.carc.as_ref(), OutputField::Carc, is_carc, "a CARC such as `96` or `B7`");
    let rarcs = || rarc_list(outputs.rarc.as_ref());
    let unused = |fields: &[(OutputField, &Option<OutputValue>, &str)]| -> Result<(), (OutputField, String)> {
        for (field, value, label) in fields {
            if value.as_ref().is_some_and(|value| *value != OutputValue::Null) {
                return Err((*field, format!("`{label}` means nothing for the action `{name}`; leave the cell empty")));
            }
        }
        Ok(())
    };
    match name {
        "deny" => {
            unused(&[(OutputField::Percent, &outputs.percent, "percent"), (OutputField::Amount, &outputs.amount, "amount")])?;
            let carc = carc()?.ok_or((OutputField::Carc, "a `deny` needs a `carc`".to_owned()))?;
            Ok(Action::Deny { carc, rarcs: rarcs()? })
        }
        "pend" => {
            unused(&[
                (OutputField::Carc, &outputs.carc, "carc"),
                (OutputField::Rarc, &outputs.rarc, "rarc"),
                (OutputField::Percent, &outputs.percent, "percent"),
                (OutputField::Amount, &outputs.amount, "amount"),
            ])?;
            let reason = match &outputs.reason {
                Some(OutputValue::Text(reason)) if !reason.trim().is_empty() && reason.len() <= REASON_LENGTH_MAX => reason.trim().to_owned(),
                Some(OutputValue::Text(reason)) if reason.len() > REASON_LENGTH_MAX => {
                    return Err((OutputField::Reason, format!("the reason is longer than {REASON_LENGTH_MAX} bytes")));
                }
                Some(other) if *other != OutputValue::Null => {
                    return Err((OutputField::Reason, format!("`reason` gave {}; expected a non-empty string", other.describe())));
                }
                _ => return Err((OutputField::Reason, "a `pend` needs a `reason`".to_owned())),
            };
            Ok(Action::Pend { reason })
        }
        "reduce_percent" => {
            unused(&[(OutputField::Amount, &outputs.amount, "amount")])?;
            let percent = number(outputs.percent.as_ref(), OutputField::Percent, "percent")?;
            if percent <= Decimal::ZERO || percent > Decimal::ONE_HUNDRED || percent.normalize().scale() > 2 {
                return Err((OutputField::Percent, format!("`percent` is {percent}; expected more than 0 and at most 100, with at most two decimal places")));
            }
            Ok(Action::ReducePercent { percent: percent.normalize(), carc: carc()?, rarcs: rarcs()? })
        }
        "reduce_to" => {
            unused(&[(OutputField::Percent, &outputs.percent, "percent")])?;
            let amount = money(outputs.amount.as_ref())?;
            Ok(Action::ReduceTo { amount, carc: carc()?, rarcs: rarcs()? })
        }
        "require_prior_authorization" => {
            unused(&[
                (OutputField::Carc, &outputs.carc, "carc"),
                (OutputField::Rarc, &outputs.rarc, "rarc"),
                (OutputField::Percent, &outputs.percent, "percent"),
                (OutputField::Amount, &outputs.amount, "amount"),
            ])?;
            Ok(Action::RequirePriorAuthorization)
        }
        "set_allowed" => {
            unused(&[
                (OutputField::Carc, &outputs.carc, "carc"),
                (OutputField::Rarc, &outputs.rarc, "rarc"),
                (OutputField::Percent, &outputs.percent, "percent"),
            ])?;
            Ok(Action::SetAllowed { amount: money(outputs.amount.as_ref())? })
        }
        other => Err((OutputField::Action, format!("`{other}` is not an action; expected one of {}", ACTION_NAMES.join(", ")))),
    }
}

fn number(value: Option<&OutputValue>, field: OutputField, label: &str) -> Result<Decimal, (OutputField, String)> {
    match value {
        Some(OutputValue::Number(number)) => Ok(*number),
        Some(OutputValue::Text(text)) => {
            text.trim().parse::<Decimal>().map_err(|_| (field, format!("`{label}` gave the string `{text}`, which is not a decimal number")))
        }
        Some(other) if *other != OutputValue::Null => Err((field, format!("`{label}` gave {}; expected a number", other.describe()))),
        _ => Err((field, format!("this action needs a `{label}`"))),
    }
}

fn money(value: Option<&OutputValue>) -> Result<Money, (OutputField, String)> {
    let amount = number(value, OutputField::Amount, "amount")?;
    let money = Money::from_decimal(amount).map_err(|error| (OutputField::Amount, format!("`amount`: {error}")))?;
    if money.is_negative() {
        return Err((OutputField::Amount, format!("`amount` is {money}; expected zero or more")));
    }
    Ok(money)
}

fn optional_code(value: Option<&OutputValue>, field: OutputField, check: fn(&str) -> bool, expected: &str) -> Result<Option<Carc>, (OutputField, String)> {
    match value {
        None | Some(OutputValue::Null) => Ok(None),
        Some(OutputValue::Text(code)) if code.trim().is_empty() => Ok(None),
        Some(OutputValue::Text(code)) if check(code.trim()) => {
            Carc::parse(code.trim()).map(Some).map_err(|error| (field, format!("gave the string `{code}`: {error}")))
        }
        Some(other) => Err((field, format!("gave {}; expected {expected}", other.describe()))),
    }
}

fn rarc_list(value: Option<&OutputValue>) -> Result<Vec<Rarc>, (OutputField, String)> {
    let codes: Vec<String> = match value {
        None | Some(OutputValue::Null) => Vec::new(),
        Some(OutputValue::Text(code)) if code.trim().is_empty() => Vec::new(),
        Some(OutputValue::Text(code)) => vec![code.trim().to_owned()],
        Some(OutputValue::TextList(codes)) => codes.iter().map(|code| code.trim().to_owned()).collect(),
        Some(other) => return Err((OutputField::Rarc, format!("`rarc` gave {}; expected a RARC such as `N130`, or a list of them", other.describe()))),
    };
    if codes.len() > RARCS_MAX {
        return Err((OutputField::Rarc, format!("{} RARCs; at most {RARCS_MAX}", codes.len())));
    }
    if let Some(bad) = codes.iter().find(|code| !is_rarc(code)) {
        return Err((OutputField::Rarc, format!("`{bad}` is not a RARC (such as `N130`, `M15`, `MA01`)")));
    }
    codes.iter().map(|code| Rarc::parse(code).map_err(|error| (OutputField::Rarc, format!("`{code}`: {error}")))).collect()
}

/// A CARC's shape: one to three upper-case letters or digits (`96`, `B7`, `197`).
pub(crate) fn is_carc(code: &str) -> bool {
    (1..=3).contains(&code.len()) && code.bytes().all(|byte| byte.is_ascii_uppercase() || byte.is_ascii_digit())
}

/// A RARC's shape: one or two upper-case letters, then one to four digits (`N130`, `MA01`).
pub(crate) fn is_rarc(code: &str) -> bool {
    let letters = code.bytes().take_while(u8::is_ascii_uppercase).count();
    let digits = code.len() - letters;
    (1..=2).contains(&letters) && (1..=4).contains(&digits) && code.bytes().skip(letters).all(|byte| byte.is_ascii_digit())
}
