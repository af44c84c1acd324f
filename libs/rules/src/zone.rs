//! The time zone zen-expression's date functions run in.
//!
//! zen-expression reads the process's zone once from /etc/localtime (not
//! from `TZ`) and parses `d('2026-03-08')` as midnight there, so a day
//! difference across a daylight-saving change depends on the host. Rule sets
//! that use `d(...)` are therefore evaluated only where that zone has a UTC
//! offset of zero all year; elsewhere evaluation is an error (the claim
//! pends) rather than a different decision.

use std::sync::OnceLock;

/// Whether zen-expression's zone is UTC (offset zero in winter and summer).
pub(crate) fn is_utc() -> bool {
    static UTC: OnceLock<bool> = OnceLock::new();
    *UTC.get_or_init(|| {
        ["2026-01-15", "2026-07-15"].iter().all(|day| {
            let local = zen_expression::evaluate_expression(&format!("d('{day}').timestamp()"), zen_expression::Variable::empty_object());
            let utc = zen_expression::evaluate_expression(&format!("d('{day}T00:00:00Z').timestamp()"), zen_expression::Variable::empty_object());
            matches!((local, utc), (Ok(local), Ok(utc)) if local == utc)
        })
    })
}
