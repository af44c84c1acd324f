//! Compact keys for procedure codes and modifiers.
//!
//! HCPCS codes (Level I and II) are five characters, modifiers two, place of
//! service codes two: each fits in a `u64` of its ASCII bytes, big-endian
//! and right-padded with zeros, so tables sort and search them as integers
//! with no interning and no hashing, and a key compares like its text.
//! Until libs/codes lands with typed codes, lines carry codes as `String`s
//! and are keyed here at lookup (the note in docs/policy-data.md).

use std::fmt;

/// A procedure code, modifier or place of service as an integer: at most 8
/// ASCII letters and digits, upper-cased.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct CodeKey(u64);

/// The longest code a [`CodeKey`] holds.
pub const CODE_BYTES_MAX: usize = 8;

impl CodeKey {
    /// The empty key: "no modifier", "any place of service".
    pub const NONE: CodeKey = CodeKey(0);

    /// Keys `text` (trimmed, upper-cased); `None` for anything but 1 to 8
    /// ASCII letters and digits.
    pub fn parse(text: &str) -> Option<CodeKey> {
        let text = text.trim();
        if text.is_empty() || text.len() > CODE_BYTES_MAX {
            return None;
        }
        let mut packed = 0u64;
        for (byte_idx, byte) in text.bytes().enumerate() {
            if !byte.is_ascii_alphanumeric() {
                return None;
            }
            packed |= u64::from(byte.to_ascii_uppercase()) << (8 * (7 - byte_idx));
        }
        Some(CodeKey(packed))
    }

    /// Keys `text`, or [`CodeKey::NONE`] when it is blank or not a code
    /// (a line's own code that no table can hold then matches nothing).
    pub fn of(text: &str) -> CodeKey {
        CodeKey::parse(text).unwrap_or(CodeKey::NONE)
    }

    pub fn is_none(self) -> bool {
        self.0 == 0
    }

    /// The number of characters.
    pub fn char_count(self) -> usize {
        CODE_BYTES_MAX - (self.0.trailing_zeros() / 8) as usize
    }

    /// How far apart two keys of one length are: a range's width, to find the narrowest.
    pub fn distance(self, other: CodeKey) -> u64 {
        self.0.abs_diff(other.0)
    }
}

/// Serialized as its text (`"99213"`; `""` for [`CodeKey::NONE`]).
impl serde::Serialize for CodeKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for CodeKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<CodeKey, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        if text.is_empty() {
            return Ok(CodeKey::NONE);
        }
        CodeKey::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("`{text}` is not a code of 1 to 8 letters and digits")))
    }
}

impl fmt::Display for CodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0.to_be_bytes() {
            if byte != 0 {
                write!(f, "{}", byte as char)?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for CodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CodeKey({self})")
    }
}

/// Whether a line's modifiers include any of `set`.
pub(crate) fn has_any_modifier(modifiers: &[String], set: &[&str]) -> bool {
    modifiers.iter().any(|modifier| set.iter().any(|candidate| modifier.trim().eq_ignore_ascii_case(candidate)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_code_keys_upper_cased_and_prints_back() {
        let key = CodeKey::parse(" g0422 ").expect("code");
        assert_eq!(key.to_string(), "G0422");
        assert_eq!(key, CodeKey::of("G0422"));
    }

    #[test]
    fn blank_long_or_punctuated_text_is_not_a_code() {
        assert_eq!(CodeKey::parse(""), None);
        assert_eq!(CodeKey::parse("123456789"), None);
        assert_eq!(CodeKey::parse("G04-2"), None);
        assert!(CodeKey::of("").is_none());
        assert_eq!(CodeKey::of("").char_count(), 0);
        assert_eq!(CodeKey::of("470").char_count(), 3);
        assert_eq!(CodeKey::of("G0422").char_count(), 5);
    }

    proptest! {
        #[test]
        fn keys_order_like_their_text(a in "[A-Z0-9]{5}", b in "[A-Z0-9]{5}") {
            let (key_a, key_b) = (CodeKey::of(&a), CodeKey::of(&b));
            prop_assert_eq!(key_a.cmp(&key_b), a.cmp(&b));
            prop_assert_eq!(key_a.to_string(), a);
        }
    }
}
