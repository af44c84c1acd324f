//! A one-pass reader of canonical leaf bytes.
//!
//! [`LeafRecord::from_bytes`] must accept exactly the bytes that
//! [`LeafRecord::to_bytes`] writes. Parsing with serde and writing the record
//! again to compare costs more than hashing the leaf, and a verifier does
//! both for every entry, so this reader walks the one grammar `to_bytes`
//! produces (keys in their fixed order, no whitespace, strings escaped as
//! `JSON.stringify` does, integers without sign, fraction or leading zero)
//! and builds the record as it goes. Whatever it does not accept goes to
//! the serde path, which gives the precise error; so this reader only has
//! to be right when it accepts, and a property test checks that it accepts
//! exactly what the serde path accepts, with the same record.

use super::{LeafBatch, LeafRecord};

/// The record in `bytes` if they are canonical leaf bytes; None otherwise.
pub(super) fn read(bytes: &[u8]) -> Option<LeafRecord> {
    // Valid UTF-8 once, so string contents can be sliced as str below.
    let text = std::str::from_utf8(bytes).ok()?;
    let mut reader = Reader { text, at: 0 };
    reader.literal("{\"batch\":")?;
    let batch = if reader.try_literal("null") { None } else { Some(reader.batch()?) };
    reader.literal(",\"commitment\":")?;
    let commitment = reader.string()?;
    reader.literal(",\"event_id\":")?;
    let event_id = reader.string()?;
    reader.literal(",\"event_type\":")?;
    let event_type = reader.string()?;
    reader.literal(",\"index\":")?;
    let index = reader.integer()?;
    reader.literal(",\"occurred_at\":")?;
    let occurred_at = reader.string()?;
    reader.literal(",\"producer\":")?;
    let producer = reader.string()?;
    let verified = if reader.try_literal(",\"verified\":true") {
        Some(true)
    } else if reader.try_literal(",\"verified\":false") {
        Some(false)
    } else {
        None
    };
    reader.literal("}")?;
    (reader.at == text.len()).then_some(LeafRecord { index, event_id, event_type, producer, occurred_at, commitment, batch, verified })
}

struct Reader<'a> {
    text: &'a str,
    at: usize,
}

impl Reader<'_> {
    fn try_literal(&mut self, literal: &str) -> bool {
        let matches = self.text.as_bytes()[self.at..].starts_with(literal.as_bytes());
        if matches {
            self.at += literal.len();
        }
        matches
    }

    fn literal(&mut self, literal: &str) -> Option<()> {
        self.try_literal(literal).then_some(())
    }

    fn batch(&mut self) -> Option<LeafBatch> {
        self.literal("{\"event_hash\":")?;
        let event_hash = self.string()?;
        self.literal(",\"id\":")?;
        let id = self.string()?;
        self.literal(",\"index\":")?;
        let index = self.integer()?;
        self.literal(",\"key\":")?;
        let key = self.string()?;
        self.literal(",\"path\":[")?;
        let mut path = Vec::new();
        if !self.try_literal("]") {
            loop {
                path.push(self.string()?);
                if self.try_literal("]") {
                    break;
                }
                self.literal(",")?;
            }
        }
        self.literal(",\"root\":")?;
        let root = self.string()?;
        self.literal(",\"signature\":")?;
        let signature = self.string()?;
        self.literal(",\"size\":")?;
        let size = self.integer()?;
        self.literal("}")?;
        Some(LeafBatch { event_hash, id, index, key, path, root, signature, size })
    }

    /// `0` or a non-zero digit and more digits, within u64.
    fn integer(&mut self) -> Option<u64> {
        let bytes = &self.text.as_bytes()[self.at..];
        let digits = bytes.iter().take_while(|byte| byte.is_ascii_digit()).count();
        if digits == 0 || (digits > 1 && bytes[0] == b'0') {
            return None;
        }
        let value = bytes[..digits].iter().try_fold(0u64, |value, digit| value.checked_mul(10)?.checked_add(u64::from(digit - b'0')))?;
        self.at += digits;
        Some(value)
    }

    /// A string literal escaped exactly as `push_json_string` escapes.
    fn string(&mut self) -> Option<String> {
        self.literal("\"")?;
        let bytes = self.text.as_bytes();
        let start = self.at;
        // The common case: no escapes, no control characters.
        let plain = bytes[start..].iter().position(|&byte| byte == b'"' || byte == b'\\' || byte < 0x20)?;
        if bytes[start + plain] == b'"' {
            self.at = start + plain + 1;
            return Some(self.text[start..start + plain].to_owned());
        }
        let mut value = String::from(&self.text[start..start + plain]);
        self.at = start + plain;
        loop {
            let rest = &self.text[self.at..];
            let c = rest.chars().next()?;
            match c {
                '"' => {
                    self.at += 1;
                    return Some(value);
                }
                '\\' => {
                    let (unescaped, len) = match rest.as_bytes().get(1)? {
                        b'"' => ('"', 2),
                        b'\\' => ('\\', 2),
                        b'b' => ('\u{08}', 2),
                        b't' => ('\t', 2),
                        b'n' => ('\n', 2),
                        b'f' => ('\u{0c}', 2),
                        b'r' => ('\r', 2),
                        b'u' => {
                            // Only control characters without a short form, in lowercase hex.
                            let hex = rest.get(2..6)?;
                            if !hex.starts_with("00") || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
                                return None;
                            }
                            let code = u8::from_str_radix(&hex[2..], 16).ok()?;
                            if code >= 0x20 || matches!(code, 0x08 | 0x09 | 0x0a | 0x0c | 0x0d) {
                                return None;
                            }
                            (char::from(code), 6)
                        }
                        _ => return None,
                    };
                    value.push(unescaped);
                    self.at += len;
                }
                c if c < '\u{20}' => return None,
                c => {
                    value.push(c);
                    self.at += c.len_utf8();
                }
            }
        }
    }
}
