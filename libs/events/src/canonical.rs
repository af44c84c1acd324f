//! RFC 8785 (JSON Canonicalization Scheme) for the JSON this project produces.
//!
//! Claimtrail's events never carry floating-point numbers: money and other
//! decimals are strings with a fixed scale, and integers stay below 2^53.
//! So the number rule of RFC 8785 (ECMAScript `Number.prototype.toString`)
//! reduces to "print the integer"; anything else is refused rather than
//! silently approximated.

use serde_json::Value;

/// The largest integer canonical bytes may carry (2^53 - 1, I-JSON).
pub const INTEGER_MAX: u64 = (1 << 53) - 1;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CanonicalError {
    #[error("number {0} is not an integer; decimals must be JSON strings")]
    NotAnInteger(String),
    #[error("integer {0} is outside the I-JSON range of +/-(2^53 - 1)")]
    IntegerOutOfRange(String),
    #[error("value does not serialize to JSON: {0}")]
    Serialize(String),
}

/// Canonical bytes of any serializable value.
pub fn to_canonical_vec<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, CanonicalError> {
    let value = serde_json::to_value(value).map_err(|e| CanonicalError::Serialize(e.to_string()))?;
    canonicalize(&value)
}

/// Canonical bytes of a JSON value.
pub fn canonicalize(value: &Value) -> Result<Vec<u8>, CanonicalError> {
    let mut out = Vec::with_capacity(256);
    write_value(value, &mut out)?;
    Ok(out)
}

fn write_value(value: &Value, out: &mut Vec<u8>) -> Result<(), CanonicalError> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(number) => {
            if let Some(n) = number.as_u64() {
                if n > INTEGER_MAX {
                    return Err(CanonicalError::IntegerOutOfRange(number.to_string()));
                }
                out.extend_from_slice(n.to_string().as_bytes());
            } else if let Some(n) = number.as_i64() {
                if n.unsigned_abs() > INTEGER_MAX {
                    return Err(CanonicalError::IntegerOutOfRange(number.to_string()));
                }
                out.extend_from_slice(n.to_string().as_bytes());
            } else {
                return Err(CanonicalError::NotAnInteger(number.to_string()));
            }
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (item_idx, item) in items.iter().enumerate() {
                if item_idx > 0 {
                    out.push(b',');
                }
                write_value(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => write_object(map, None, out)?,
    }
    Ok(())
}

/// Canonical bytes of the object `map` with one more member, `extra_key`,
/// whose value is already canonical bytes (`extra_raw`): how an envelope is
/// written around its payload's canonical bytes without copying the payload.
pub fn canonicalize_with(map: &serde_json::Map<String, Value>, extra_key: &str, extra_raw: &[u8]) -> Result<Vec<u8>, CanonicalError> {
    let mut out = Vec::with_capacity(extra_raw.len() + 512);
    write_object(map, Some((extra_key, extra_raw)), &mut out)?;
    Ok(out)
}

/// RFC 8785 3.2.3: members sorted by the UTF-16 code units of their names.
/// The map (serde_json's, a BTreeMap) iterates in UTF-8 byte order, which
/// is the same order when every name is ASCII; only then is no sort needed.
fn write_object(map: &serde_json::Map<String, Value>, extra: Option<(&str, &[u8])>, out: &mut Vec<u8>) -> Result<(), CanonicalError> {
    let members = map.iter().map(|(name, value)| (name.as_str(), Member::Value(value)));
    if extra.is_none() && map.keys().all(|name| name.is_ascii()) {
        return write_members(members, out);
    }
    let mut sorted: Vec<(&str, Member<'_>)> = members.chain(extra.map(|(name, raw)| (name, Member::Raw(raw)))).collect();
    sorted.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
    write_members(sorted.into_iter(), out)
}

/// An object member's value: a JSON value, or bytes already canonical.
enum Member<'a> {
    Value(&'a Value),
    Raw(&'a [u8]),
}

fn write_members<'a>(members: impl Iterator<Item = (&'a str, Member<'a>)>, out: &mut Vec<u8>) -> Result<(), CanonicalError> {
    out.push(b'{');
    for (member_idx, (name, member)) in members.enumerate() {
        if member_idx > 0 {
            out.push(b',');
        }
        write_string(name, out);
        out.push(b':');
        match member {
            Member::Value(value) => write_value(value, out)?,
            Member::Raw(raw) => out.extend_from_slice(raw),
        }
    }
    out.push(b'}');
    Ok(())
}

/// JSON.stringify's string escaping: `"` and `\`, the short escapes for
/// \b \t \n \f \r, `\u00xx` (lower-case hex) for other controls, everything
/// else (including non-ASCII and `/`) as is.
fn write_string(s: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    for &byte in s.as_bytes() {
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x09 => out.extend_from_slice(b"\\t"),
            0x0a => out.extend_from_slice(b"\\n"),
            0x0c => out.extend_from_slice(b"\\f"),
            0x0d => out.extend_from_slice(b"\\r"),
            0x00..=0x1f => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(byte >> 4)]);
                out.push(HEX[usize::from(byte & 0x0f)]);
            }
            _ => out.push(byte),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn canon(v: Value) -> String {
        String::from_utf8(canonicalize(&v).unwrap()).unwrap()
    }

    #[test]
    fn members_are_sorted_by_utf16_code_units() {
        // RFC 8785 3.2.3 example, reduced to string values.
        let value = json!({"\u{20ac}": "Euro Sign", "\r": "Carriage Return",
            "\u{fb33}": "Hebrew Letter Dalet With Dagesh", "1": "One",
            "\u{1f600}": "Emoji: Grinning Face", "\u{0080}": "Control", "\u{00f6}": "Latin Small Letter O With Diaeresis"});
        assert_eq!(
            canon(value),
            "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{0080}\":\"Control\",\"\u{00f6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20ac}\":\"Euro Sign\",\"\u{1f600}\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}"
        );
    }

    #[test]
    fn strings_are_escaped_like_json_stringify() {
        assert_eq!(canon(json!("a\"b\\c\u{1}\n/é")), "\"a\\\"b\\\\c\\u0001\\n/é\"");
    }

    #[test]
    fn nested_values_have_no_whitespace() {
        assert_eq!(canon(json!({"b": [1, true, null], "a": {"d": -3, "c": "x"}})), "{\"a\":{\"c\":\"x\",\"d\":-3},\"b\":[1,true,null]}");
    }

    #[test]
    fn floats_and_huge_integers_are_refused() {
        assert!(matches!(canonicalize(&json!(1.5)), Err(CanonicalError::NotAnInteger(_))));
        assert!(matches!(canonicalize(&json!(1u64 << 53)), Err(CanonicalError::IntegerOutOfRange(_))));
        assert_eq!(canon(json!(INTEGER_MAX)), INTEGER_MAX.to_string());
    }
}
