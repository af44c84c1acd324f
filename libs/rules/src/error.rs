//! What goes wrong: at upload ([`RuleSetErrors`], every problem at once) and
//! at evaluation ([`EvaluationError`], the first cell that failed).

use std::fmt;

/// One problem in an uploaded rule set: where it is (a JSON path into the
/// body, such as `nodes[3].content.rules[4].i2`) and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RuleSetError {
    pub path: String,
    pub reason: String,
}

/// Every problem found in an uploaded rule set, in document order. A rule
/// set with any of them is refused whole: nothing half-built is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RuleSetErrors(pub Vec<RuleSetError>);

impl RuleSetErrors {
    pub fn errors(&self) -> &[RuleSetError] {
        &self.0
    }
}

impl fmt::Display for RuleSetErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the rule set is refused ({} problem{})", self.0.len(), if self.0.len() == 1 { "" } else { "s" })?;
        for error in &self.0 {
            write!(f, "; {}: {}", error.path, error.reason)?;
        }
        Ok(())
    }
}

/// Collects problems while a document is walked, so that one upload reports
/// all of them.
#[derive(Debug, Default)]
pub(crate) struct Problems(Vec<RuleSetError>);

impl Problems {
    pub(crate) fn push(&mut self, path: impl Into<String>, reason: impl Into<String>) {
        self.0.push(RuleSetError { path: path.into(), reason: reason.into() });
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn into_errors(self) -> RuleSetErrors {
        RuleSetErrors(self.0)
    }
}

/// Where in a rule set an evaluation failed: enough to find the cell in the
/// editor (node id and name, rule index and `_id`, column id and name).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CellPath {
    pub node_id: String,
    pub node_name: String,
    /// The rule's 0-based index in its table, or the statement's or
    /// expression's index in a switch or expression node.
    pub index: usize,
    /// The rule's `_id` (or the statement's or expression's `id`).
    pub item_id: String,
    /// The column id and name (`i2 (Code)`), or `condition` / the expression's key.
    pub column: String,
}

impl fmt::Display for CellPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "node `{}` ({}), item {} (`{}`), {}", self.node_id, self.node_name, self.index, self.item_id, self.column)
    }
}

/// An evaluation that could not finish. The engine pends the claim with the
/// message: GoRules would skip a row whose cell fails, which silently drops
/// policy, so here nothing is skipped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvaluationError {
    /// A cell failed to evaluate (a type error, a missing value, a number
    /// overflow...).
    #[error("{at}: the cell `{source_text}` failed to evaluate: {message}")]
    Cell { at: Box<CellPath>, source_text: String, message: String },
    /// A cell evaluated, but not to what its place requires (a boolean for a
    /// test, an action name, a CARC, a percentage...).
    #[error("{at}: the cell `{source_text}` gave {found}; {expected}")]
    BadValue { at: Box<CellPath>, source_text: String, found: String, expected: String },
    /// A rule fired with an output that does not make an action (a deny
    /// without a CARC, say) when that could not be seen at upload.
    #[error("{at}: {reason}")]
    BadAction { at: Box<CellPath>, reason: String },
    /// The rule set uses date functions and the process's time zone (which
    /// zen-expression reads from /etc/localtime) is not UTC, so dates would
    /// not mean what they meant when the rule set was tested.
    #[error("the rule set uses date functions and this process's time zone is not UTC; run it with /etc/localtime pointing to UTC")]
    TimeZoneNotUtc,
}
