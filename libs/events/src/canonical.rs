//! RFC 8785 (JSON Canonicalization Scheme) for the JSON this project produces.
//!
//! Claimtrail's events never carry floating-point numbers: money and other
//! decimals are strings with a fixed scale, and integers stay below 2^53.
//! So the number rule of RFC 8785 (ECMAScript `Number.prototype.toString`)
//! reduces to "print the integer"; anything else is refused rather than
//! silently approximated.

use serde_json::Value;

mod direct;

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

impl serde::ser::Error for CanonicalError {
    fn custom<T: std::fmt::Display>(message: T) -> CanonicalError {
        CanonicalError::Serialize(message.to_string())
    }
}

/// Canonical bytes of any serializable value, written straight from its
/// `Serialize` implementation (no intermediate [`Value`]): the same bytes as
/// [`canonicalize`] of `serde_json::to_value(value)`.
pub fn to_canonical_vec<T: serde::Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, CanonicalError> {
    let mut out = Vec::with_capacity(512);
    value.serialize(direct::Canonical { out: &mut out, extra: None })?;
    Ok(out)
}

/// Canonical bytes of `value`, which must serialize to a JSON object, with
/// one more member `extra_key` whose value is already canonical bytes
/// (`extra_raw`): how an envelope is written around its payload's bytes.
pub fn to_canonical_vec_around<T: serde::Serialize + ?Sized>(value: &T, extra_key: &'static str, extra_raw: &[u8]) -> Result<Vec<u8>, CanonicalError> {
    let mut out = Vec::with_capacity(extra_raw.len() + 512);
    value.serialize(direct::Canonical { out: &mut out, extra: Some((extra_key, extra_raw)) })?;
    Ok(out)
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
                write_u64(n, out);
            } else if let Some(n) = number.as_i64() {
                if n.unsigned_abs() > INTEGER_MAX {
                    return Err(CanonicalError::IntegerOutOfRange(number.to_string()));
                }
                if n < 0 {
                    out.push(b'-');
                }
                write_u64(n.unsigned_abs(), out);
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
        Value::Object(map) => write_object(map, out)?,
    }
    Ok(())
}

/// RFC 8785 3.2.3: members sorted by the UTF-16 code units of their names.
/// The map (serde_json's, a BTreeMap) iterates in UTF-8 byte order, which
/// is the same order when every name is ASCII; only then is no sort needed.
fn write_object(map: &serde_json::Map<String, Value>, out: &mut Vec<u8>) -> Result<(), CanonicalError> {
    let mut members: Vec<(&str, &Value)> = map.iter().map(|(name, value)| (name.as_str(), value)).collect();
    if !map.keys().all(|name| name.is_ascii()) {
        members.sort_by(|(a, _), (b, _)| name_order(a, b));
    }
    out.push(b'{');
    for (member_idx, (name, value)) in members.into_iter().enumerate() {
        if member_idx > 0 {
            out.push(b',');
        }
        write_string(name, out);
        out.push(b':');
        write_value(value, out)?;
    }
    out.push(b'}');
    Ok(())
}

/// RFC 8785 3.2.3's order of member names: by UTF-16 code units (for ASCII
/// names, the bytes' order).
fn name_order(a: &str, b: &str) -> std::cmp::Ordering {
    if a.is_ascii() && b.is_ascii() { a.as_bytes().cmp(b.as_bytes()) } else { a.encode_utf16().cmp(b.encode_utf16()) }
}

/// Appends the decimal digits of `n`.
fn write_u64(n: u64, out: &mut Vec<u8>) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
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
        assert!(matches!(to_canonical_vec(&1.0f64), Err(CanonicalError::NotAnInteger(_))));
        assert!(matches!(to_canonical_vec(&vec![1u64 << 53]), Err(CanonicalError::IntegerOutOfRange(_))));
        assert!(matches!(to_canonical_vec(&-(1i64 << 53)), Err(CanonicalError::IntegerOutOfRange(_))));
        assert_eq!(to_canonical_vec(&-(INTEGER_MAX as i64)).unwrap(), format!("-{INTEGER_MAX}").into_bytes());
    }

    /// The direct serializer against the `Value` path, for a typed value.
    fn same_both_ways<T: serde::Serialize>(value: &T) -> String {
        let direct = to_canonical_vec(value).unwrap();
        let via_value = canonicalize(&serde_json::to_value(value).unwrap()).unwrap();
        assert_eq!(String::from_utf8_lossy(&direct), String::from_utf8_lossy(&via_value));
        String::from_utf8(direct).unwrap()
    }

    #[derive(serde::Serialize)]
    enum Shape {
        Unit,
        Newtype(u8),
        Tuple(u8, &'static str),
        Struct { zeta: bool, alpha: Option<u8> },
    }

    #[derive(serde::Serialize)]
    struct Unsorted {
        zulu: &'static str,
        #[serde(rename = "\u{20ac}")]
        euro: u8,
        alpha: Vec<Shape>,
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<u8>,
        none: Option<u8>,
        #[serde(with = "serde_bytes_as_seq")]
        bytes: Vec<u8>,
        map: std::collections::HashMap<u32, &'static str>,
        character: char,
    }

    mod serde_bytes_as_seq {
        pub fn serialize<S: serde::Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_bytes(bytes)
        }
    }

    #[test]
    fn typed_values_are_written_as_their_json_tree_would_be() {
        let value = Unsorted {
            zulu: "z\"\n\u{1}",
            euro: 3,
            alpha: vec![Shape::Unit, Shape::Newtype(7), Shape::Tuple(1, "b"), Shape::Struct { zeta: true, alpha: None }],
            skipped: None,
            none: None,
            bytes: vec![0, 255],
            map: [(10, "ten"), (2, "two")].into_iter().collect(),
            character: 'é',
        };
        let text = same_both_ways(&value);
        assert!(
            text.starts_with("{\"alpha\":[\"Unit\",{\"Newtype\":7},{\"Tuple\":[1,\"b\"]},{\"Struct\":{\"alpha\":null,\"zeta\":true}}],\"bytes\":[0,255]"),
            "{text}"
        );
        same_both_ways(&crate::event::PayerRegistered { payer_id: "60054".into(), name: "Plan ✓".into(), timely_filing_days: 365 });
        same_both_ways(&uuid::Uuid::now_v7());
        same_both_ways(&crate::Timestamp::now());
    }

    /// Names repeated in one object keep their last value, as in a `serde_json::Map`.
    #[test]
    fn a_repeated_name_keeps_its_last_value() {
        struct Repeats;
        impl serde::Serialize for Repeats {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap as _;
                let mut map = serializer.serialize_map(None)?;
                map.serialize_entry("b", &1)?;
                map.serialize_entry("a", &2)?;
                map.serialize_entry("b", &3)?;
                map.end()
            }
        }
        assert_eq!(same_both_ways(&Repeats), "{\"a\":2,\"b\":3}");
    }

    #[test]
    fn a_member_is_added_around_an_object_and_nothing_else() {
        let raw = br#"{"k":[1]}"#;
        let around = to_canonical_vec_around(&json!({"z": 1, "a": "x"}), "payload", raw).unwrap();
        assert_eq!(String::from_utf8(around).unwrap(), r#"{"a":"x","payload":{"k":[1]},"z":1}"#);
        assert!(matches!(to_canonical_vec_around(&json!([1]), "payload", raw), Err(CanonicalError::Serialize(_))));
        assert!(matches!(to_canonical_vec_around("text", "payload", raw), Err(CanonicalError::Serialize(_))));
    }

    fn any_json() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (-(INTEGER_MAX as i64)..=INTEGER_MAX as i64).prop_map(|n| json!(n)),
            any::<String>().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::vec(("[a-c\u{7f}-\u{82}\u{e000}\u{ffff}\u{10000}\u{1f600}]{0,3}", inner), 0..6)
                    .prop_map(|members| Value::Object(members.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// The direct serializer writes exactly what the tree path writes, for any JSON.
        #[test]
        fn direct_bytes_equal_the_trees(value in any_json()) {
            proptest::prop_assert_eq!(to_canonical_vec(&value).unwrap(), canonicalize(&value).unwrap());
        }
    }
}
