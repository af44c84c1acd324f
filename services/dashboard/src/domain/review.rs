//! The pended queue's review form, read before it reaches adjudication's
//! `POST /v1/claims/{id}/review`: approve (every line its charge, or the
//! amount typed on it), adjust (the same, naming at least one line) or deny
//! (with a CARC), always with a reason. Every fault is reported at once,
//! naming the field; nothing is sent while one remains. Adjudication checks
//! the amounts against the claim's charges again (the form cannot be trusted).
//! Also the pended claims counted by reason, for the queue's chart.

use std::collections::BTreeMap;

use crate::domain::chart::{BarChart, Unit};
use crate::domain::money::{format_cents, parse_cents};

/// The actions a reviewer takes, as adjudication names them.
pub const ACTIONS: [&str; 3] = ["approve", "adjust", "deny"];
/// The longest reason adjudication keeps.
pub const REASON_CHARS_MAX: usize = 500;

/// The form as typed: `allowed` holds, per claim line (its sequence), the amount typed (empty: none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReviewForm {
    pub action: String,
    pub reason: String,
    pub carc: String,
    pub allowed: Vec<(u32, String)>,
}

/// A review ready to send: the action, the reason, a denial's CARC and the lines given an amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    pub action: &'static str,
    pub reason: String,
    pub carc: Option<String>,
    /// (line sequence, amount allowed as `0.00`).
    pub lines: Vec<(u32, String)>,
}

impl Review {
    /// What a reviewer did, in the past tense, for the page's message.
    pub fn done(&self) -> &'static str {
        match self.action {
            "approve" => "approved",
            "adjust" => "adjusted",
            _ => "denied",
        }
    }
}

/// A CARC as the 835 writes it: 1 to 3 letters or digits.
fn is_carc(text: &str) -> bool {
    (1..=3).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The review `form` asks for, or every fault in it (field: what is wrong).
pub fn read(form: &ReviewForm) -> Result<Review, Vec<String>> {
    let mut faults = Vec::new();
    let action = ACTIONS.iter().find(|action| **action == form.action.trim()).copied();
    if action.is_none() {
        faults.push(format!("action: choose approve, adjust or deny (not `{}`)", form.action.trim()));
    }
    let reason = form.reason.trim();
    if reason.is_empty() || reason.chars().count() > REASON_CHARS_MAX {
        faults.push(format!("reason: give the review's reason, 1 to {REASON_CHARS_MAX} characters"));
    }
    let mut lines = Vec::new();
    for (sequence, typed) in &form.allowed {
        let typed = typed.trim();
        if typed.is_empty() {
            continue;
        }
        match parse_cents(typed) {
            Ok(cents) if cents >= 0 => lines.push((*sequence, format_cents(cents))),
            _ => faults.push(format!("line {sequence}: `{typed}` is not an amount allowed (e.g. 80.00, at least 0.00)")),
        }
    }
    let carc = form.carc.trim();
    match action {
        Some("deny") => {
            if !is_carc(carc) {
                faults.push("carc: a denial names its CARC (1 to 3 letters or digits, e.g. 50)".to_owned());
            }
            if !lines.is_empty() {
                faults.push("lines: a denial allows nothing; leave the amounts empty".to_owned());
            }
        }
        Some(action) => {
            if !carc.is_empty() {
                faults.push(format!("carc: only a denial names a CARC, not an {action}"));
            }
            if action == "adjust" && lines.is_empty() && !faults.iter().any(|fault| fault.starts_with("line ")) {
                faults.push("lines: an adjustment gives the amount allowed on at least one line".to_owned());
            }
        }
        None => {}
    }
    match action {
        Some(action) if faults.is_empty() => {
            Ok(Review { action, reason: reason.to_owned(), carc: (action == "deny").then(|| carc.to_ascii_uppercase()), lines })
        }
        _ => Err(faults),
    }
}

/// Pended claims counted by reason (one bar each, the reasons in order).
pub fn by_reason<'a>(reasons: impl IntoIterator<Item = &'a str>, title: &str, description: &str) -> BarChart {
    let mut counts: BTreeMap<&str, i64> = BTreeMap::new();
    for reason in reasons {
        *counts.entry(reason).or_default() += 1;
    }
    BarChart {
        title: title.to_owned(),
        description: description.to_owned(),
        unit: Unit::Count,
        categories: counts.keys().map(|reason| (*reason).to_owned()).collect(),
        series: vec!["claims".to_owned()],
        values: counts.values().map(|count| vec![*count]).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(action: &str, reason: &str, carc: &str, allowed: &[(u32, &str)]) -> ReviewForm {
        ReviewForm {
            action: action.into(),
            reason: reason.into(),
            carc: carc.into(),
            allowed: allowed.iter().map(|(sequence, typed)| (*sequence, (*typed).to_owned())).collect(),
        }
    }

    #[test]
    fn an_approval_sends_the_amounts_typed_and_none_for_empty_lines() {
        let review = read(&form("approve", " documented medical necessity ", "", &[(1, ""), (2, "80"), (3, " 12.5 ")])).unwrap();
        assert_eq!(review.action, "approve");
        assert_eq!(review.reason, "documented medical necessity");
        assert_eq!(review.carc, None);
        assert_eq!(review.lines, [(2, "80.00".to_owned()), (3, "12.50".to_owned())]);
        assert_eq!(review.done(), "approved");
        assert_eq!(read(&form("approve", "ok", "", &[(1, "")])).unwrap().lines, []);
    }

    #[test]
    fn an_adjustment_names_at_least_one_line() {
        assert_eq!(read(&form("adjust", "ok", "", &[(1, "")])).unwrap_err(), ["lines: an adjustment gives the amount allowed on at least one line"]);
        assert_eq!(read(&form("adjust", "ok", "", &[(1, "40.00")])).unwrap().lines, [(1, "40.00".to_owned())]);
    }

    #[test]
    fn a_denial_names_a_carc_and_allows_nothing() {
        let review = read(&form("deny", "not covered", "b7", &[(1, "")])).unwrap();
        assert_eq!((review.carc.as_deref(), review.done()), (Some("B7"), "denied"));
        let faults = read(&form("deny", "not covered", "", &[(1, "10.00")])).unwrap_err();
        assert_eq!(faults.len(), 2, "{faults:?}");
        assert!(faults[0].starts_with("carc: a denial names its CARC"));
        assert!(faults[1].starts_with("lines: a denial allows nothing"));
        assert!(read(&form("deny", "x", "50; DROP", &[])).unwrap_err()[0].starts_with("carc:"));
    }

    #[test]
    fn every_fault_is_reported_at_once_naming_its_field() {
        let faults = read(&form("pay", "", "", &[(2, "-1.00"), (3, "12.345")])).unwrap_err();
        assert_eq!(faults.len(), 4, "{faults:?}");
        assert!(faults[0].starts_with("action: choose approve, adjust or deny (not `pay`)"));
        assert!(faults[1].starts_with("reason:"));
        assert!(faults[2].starts_with("line 2: `-1.00` is not an amount"));
        assert!(faults[3].starts_with("line 3: `12.345`"));
        assert!(read(&form("approve", &"x".repeat(REASON_CHARS_MAX + 1), "", &[])).unwrap_err()[0].starts_with("reason:"));
        assert!(read(&form("approve", &"é".repeat(REASON_CHARS_MAX), "", &[])).is_ok());
        assert_eq!(read(&form("approve", "ok", "50", &[])).unwrap_err(), ["carc: only a denial names a CARC, not an approve"]);
    }

    #[test]
    fn pended_claims_are_counted_by_reason() {
        let chart = by_reason(["suspect-duplicate", "code-pended-by-policy", "suspect-duplicate"], "Pended by reason", "bars");
        assert_eq!(chart.categories, ["code-pended-by-policy", "suspect-duplicate"]);
        assert_eq!(chart.series, ["claims"]);
        assert_eq!(chart.values, [vec![1], vec![2]]);
        assert!(by_reason([], "t", "d").categories.is_empty());
    }
}
