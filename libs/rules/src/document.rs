//! The rule set's body as JSON: the limits, the content hash over its
//! canonical bytes, and the layout numbers the editor writes.

use serde_json::Value;

use crate::error::Problems;

/// The largest body accepted, in bytes.
pub const BODY_BYTES_MAX: usize = 4 * 1024 * 1024;

/// The most nodes a rule set may have.
pub const NODES_MAX: usize = 200;

/// The most rules one decision table may have.
pub const RULES_MAX: usize = 10_000;

/// The most columns (inputs plus outputs) one decision table may have.
pub const COLUMNS_MAX: usize = 64;

/// The longest rule-set name, in bytes.
pub const NAME_LENGTH_MAX: usize = 64;

/// Checks a rule set's name: 1 to [`NAME_LENGTH_MAX`] ASCII letters, digits,
/// `-`, `_` or `.`.
pub(crate) fn check_name(name: &str, problems: &mut Problems) {
    let well_formed =
        !name.is_empty() && name.len() <= NAME_LENGTH_MAX && name.bytes().all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.'));
    if !well_formed {
        problems.push("name", format!("`{name}` is not a rule-set name (1 to {NAME_LENGTH_MAX} ASCII letters, digits, `-`, `_` or `.`)"));
    }
}

/// Rounds the editor's layout coordinates (`nodes[*].position`) to whole
/// numbers, half away from zero, and reports any other non-integer number:
/// canonical JSON here has no floats (ARCHITECTURE.md, "Serialization"), and
/// a node's position means nothing to a decision.
pub(crate) fn normalize_numbers(body: &mut Value, problems: &mut Problems) {
    if let Some(nodes) = body.get_mut("nodes").and_then(Value::as_array_mut) {
        for node in nodes {
            if let Some(position) = node.get_mut("position").and_then(Value::as_object_mut) {
                for coordinate in position.values_mut() {
                    if let Value::Number(number) = coordinate
                        && number.as_i64().is_none()
                        && number.as_u64().is_none()
                        && let Some(float) = number.as_f64()
                        && float.is_finite()
                        && float.abs() < 1e15
                    {
                        // Half away from zero, as `f64::round` does; exact for |x| < 2^53.
                        let whole = float.round() as i64;
                        *coordinate = Value::from(whole);
                    }
                }
            }
        }
    }
    report_non_integers(body, String::new(), problems);
}

fn report_non_integers(value: &Value, path: String, problems: &mut Problems) {
    match value {
        Value::Number(number) if number.as_i64().is_none() && number.as_u64().is_none() => {
            problems
                .push(if path.is_empty() { "body".to_owned() } else { path }, format!("{number} is not an integer; write decimals as strings (\"5000.00\")"));
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                report_non_integers(item, format!("{path}[{index}]"), problems);
            }
        }
        Value::Object(members) => {
            for (key, member) in members {
                report_non_integers(member, if path.is_empty() { key.clone() } else { format!("{path}.{key}") }, problems);
            }
        }
        _ => {}
    }
}

/// The canonical bytes of the body and their SHA3-256 in lower-case hex.
pub(crate) fn content_hash(body: &Value) -> Result<(Vec<u8>, String), String> {
    let canonical = claimtrail_events::canonical::canonicalize(body).map_err(|error| error.to_string())?;
    let hash = hex::encode(claimtrail_events::sha3_256(&canonical));
    Ok((canonical, hash))
}
