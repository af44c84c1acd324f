//! Fraud alerts as investigators work them in the dashboard: the filters the
//! page passes to the fraud service (`GET /v1/fraud/alerts`), and the closing
//! form (an outcome and a reason) read before it is sent. The fraud service
//! decides again; this only keeps a malformed value out of its paths and
//! queries and says what is wrong in words.

/// The statuses an alert can have, as the fraud service names them.
pub const STATUSES: [&str; 4] = ["open", "acknowledged", "confirmed", "false_positive"];
/// How an investigation ends.
pub const OUTCOMES: [&str; 2] = ["confirmed", "false_positive"];
/// The longest reason the fraud service keeps.
pub const REASON_CHARS_MAX: usize = 2_000;

/// The status filter: none (every alert), or one of [`STATUSES`].
pub fn status_filter(text: Option<&str>) -> Result<Option<&'static str>, String> {
    match text.map(str::trim).filter(|text| !text.is_empty()) {
        None => Ok(None),
        Some(text) => STATUSES
            .iter()
            .find(|status| **status == text)
            .copied()
            .map(Some)
            .ok_or_else(|| format!("`{text}` is not an alert status ({})", STATUSES.join(", "))),
    }
}

/// The pattern filter: none, or a pattern's name (lower-case letters and `_`;
/// the fraud service says whether it knows it).
pub fn pattern_filter(text: Option<&str>) -> Result<Option<&str>, String> {
    match text.map(str::trim).filter(|text| !text.is_empty()) {
        None => Ok(None),
        Some(text) if text.len() <= 64 && text.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') => Ok(Some(text)),
        Some(text) => Err(format!("`{text}` is not a pattern name (lower-case letters and '_', e.g. exact_duplicate)")),
    }
}

/// A closing: its outcome and its reason (trimmed), or every fault in the form.
pub fn closing<'a>(outcome: &str, reason: &'a str) -> Result<(&'static str, &'a str), Vec<String>> {
    let mut faults = Vec::new();
    let outcome = OUTCOMES.iter().find(|known| **known == outcome.trim()).copied();
    if outcome.is_none() {
        faults.push("outcome: choose confirmed or false positive".to_owned());
    }
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > REASON_CHARS_MAX {
        faults.push(format!("reason: say why, 1 to {REASON_CHARS_MAX} characters"));
    }
    match outcome {
        Some(outcome) if faults.is_empty() => Ok((outcome, reason)),
        _ => Err(faults),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_known_statuses_and_pattern_shaped_names() {
        assert_eq!(status_filter(None), Ok(None));
        assert_eq!(status_filter(Some(" ")), Ok(None));
        assert_eq!(status_filter(Some("false_positive")), Ok(Some("false_positive")));
        assert!(status_filter(Some("closed&limit=1")).unwrap_err().contains("is not an alert status"));
        assert_eq!(pattern_filter(Some("exact_duplicate")), Ok(Some("exact_duplicate")));
        assert_eq!(pattern_filter(Some("")), Ok(None));
        assert!(pattern_filter(Some("Exact-Duplicate")).unwrap_err().contains("is not a pattern name"));
    }

    #[test]
    fn a_closing_has_a_known_outcome_and_a_reason() {
        assert_eq!(closing("confirmed", " billed twice on purpose "), Ok(("confirmed", "billed twice on purpose")));
        assert_eq!(closing("false_positive", "two visits"), Ok(("false_positive", "two visits")));
        let faults = closing("closed", "  ").unwrap_err();
        assert_eq!(faults, ["outcome: choose confirmed or false positive", "reason: say why, 1 to 2000 characters"]);
        assert!(closing("confirmed", &"x".repeat(REASON_CHARS_MAX + 1)).is_err());
    }
}
