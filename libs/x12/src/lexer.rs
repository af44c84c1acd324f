//! Separators from the ISA, then segments and elements as slices of the input.
//!
//! The ISA is 106 characters with fixed widths: the element separator is its
//! 4th character, the repetition separator ISA11, the component separator
//! ISA16 and the segment terminator the character after ISA16. CR, LF, tabs
//! and spaces after a terminator (and before the first ISA) are skipped.
//! A body that is UTF-16 (a BOM, or `I\0S\0A\0`) is decoded first; a UTF-8
//! BOM is skipped; bytes that are not UTF-8 are replaced (U+FFFD), which the
//! element checks then refuse where it matters.

use std::borrow::Cow;

use crate::codes::ta1;

/// The four separators of an interchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delimiters {
    pub element: u8,
    /// ISA11; `None` when the sender put a letter there (the 4010 habit `U`).
    pub repetition: Option<u8>,
    pub component: u8,
    pub segment: u8,
}

impl Delimiters {
    /// `*`, `^`, `:`, `~`: what the acknowledgments and the writer use.
    pub const STANDARD: Delimiters = Delimiters { element: b'*', repetition: Some(b'^'), component: b':', segment: b'~' };

    fn is_delimiter(&self, byte: u8) -> bool {
        byte == self.element || byte == self.component || byte == self.segment || Some(byte) == self.repetition
    }
}

/// The length of an ISA segment with its terminator.
pub const ISA_LENGTH: usize = 106;
/// ISA01..ISA16 widths.
const ISA_WIDTHS: [usize; 16] = [2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1];
/// The TA105 note code for a wrong ISA01..ISA16 width or value.
const ISA_NOTE_CODES: [&str; 16] = [
    ta1::AUTHORIZATION_QUALIFIER,
    ta1::AUTHORIZATION_VALUE,
    ta1::SECURITY_QUALIFIER,
    ta1::SECURITY_VALUE,
    ta1::SENDER_QUALIFIER,
    ta1::SENDER_ID,
    ta1::RECEIVER_QUALIFIER,
    ta1::RECEIVER_ID,
    ta1::DATE,
    ta1::TIME,
    ta1::CONTROL_STRUCTURE,
    ta1::VERSION_ID,
    ta1::CONTROL_NUMBER_VALUE,
    ta1::ACK_REQUESTED,
    ta1::TEST_INDICATOR,
    ta1::COMPONENT_SEPARATOR,
];

/// The body as text (see the module docs for what is decoded).
pub(crate) fn decode(input: &[u8]) -> Cow<'_, str> {
    let utf16 = match input {
        [0xFF, 0xFE, rest @ ..] => Some((rest, true)),
        [0xFE, 0xFF, rest @ ..] => Some((rest, false)),
        [b'I', 0, b'S', 0, b'A', 0, ..] => Some((input, true)),
        [0, b'I', 0, b'S', 0, b'A', ..] => Some((input, false)),
        _ => None,
    };
    if let Some((bytes, little_endian)) = utf16 {
        let units = bytes.chunks_exact(2).map(|pair| match pair {
            [a, b] if little_endian => u16::from_le_bytes([*a, *b]),
            [a, b] => u16::from_be_bytes([*a, *b]),
            _ => 0xFFFD,
        });
        return Cow::Owned(char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)).collect());
    }
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    String::from_utf8_lossy(input)
}

/// Index of the first byte at or after `from` that is not CR, LF, tab or space.
pub(crate) fn skip_whitespace(text: &str, from: usize) -> usize {
    let bytes = text.as_bytes();
    let mut at = from;
    while let Some(byte) = bytes.get(at) {
        if !matches!(byte, b'\r' | b'\n' | b'\t' | b' ') {
            break;
        }
        at += 1;
    }
    at
}

/// A segment as it stands in the input, without its terminator.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawSegment<'a> {
    pub text: &'a str,
    /// Byte offset in the body.
    pub offset: usize,
}

impl<'a> RawSegment<'a> {
    /// The segment id: the text up to the first element separator.
    pub fn id(&self, delimiters: &Delimiters) -> &'a str {
        let end = self.text.as_bytes().iter().position(|byte| *byte == delimiters.element).unwrap_or(self.text.len());
        self.text.get(..end).unwrap_or("")
    }
}

/// Reads segments one after the other.
pub(crate) struct Cursor<'a> {
    text: &'a str,
    at: usize,
    delimiters: Delimiters,
}

impl<'a> Cursor<'a> {
    pub fn new(text: &'a str, at: usize, delimiters: Delimiters) -> Cursor<'a> {
        Cursor { text, at, delimiters }
    }

    /// Where the next segment (or whitespace before it) starts.
    pub fn offset(&self) -> usize {
        self.at
    }

    pub fn next_segment(&mut self) -> Option<RawSegment<'a>> {
        let bytes = self.text.as_bytes();
        loop {
            while let Some(byte) = bytes.get(self.at) {
                if !matches!(byte, b'\r' | b'\n' | b'\t' | b' ') || self.delimiters.is_delimiter(*byte) {
                    break;
                }
                self.at += 1;
            }
            let start = self.at;
            let rest = bytes.get(start..)?;
            if rest.is_empty() {
                return None;
            }
            let (end, next) = match rest.iter().position(|byte| *byte == self.delimiters.segment) {
                Some(length) => (start + length, start + length + 1),
                None => (bytes.len(), bytes.len()),
            };
            self.at = next;
            let mut text = self.text.get(start..end).unwrap_or("");
            if !self.delimiters.is_delimiter(b'\r') {
                text = text.trim_end_matches(['\r', '\n']);
            }
            if text.is_empty() {
                continue;
            }
            return Some(RawSegment { text, offset: start });
        }
    }
}

/// A segment split into elements; `elements[0]` is the id, so `element(2)` is `CLM02`.
#[derive(Debug, Clone)]
pub(crate) struct Segment<'a> {
    pub elements: Vec<&'a str>,
    /// 1-based position in the transaction (ST = 1).
    pub position: u32,
}

impl<'a> Segment<'a> {
    pub fn split(raw: &'a str, delimiters: &Delimiters, position: u32) -> Segment<'a> {
        Segment { elements: raw.split(char::from(delimiters.element)).collect(), position }
    }

    /// Splits `raw` into this segment's elements, reusing the allocation.
    pub fn refill(&mut self, raw: &'a str, delimiters: &Delimiters, position: u32) {
        self.elements.clear();
        self.elements.extend(raw.split(char::from(delimiters.element)));
        self.position = position;
    }

    pub fn id(&self) -> &'a str {
        self.elements.first().copied().unwrap_or("")
    }

    /// Element `index` (1-based), `""` when absent.
    pub fn element(&self, index: usize) -> &'a str {
        self.elements.get(index).copied().unwrap_or("")
    }

    /// The number of elements after the id, trailing empty ones included.
    pub fn n_elements(&self) -> usize {
        self.elements.len().saturating_sub(1)
    }
}

/// Component `index` (1-based) of a composite, `""` when absent.
pub(crate) fn component<'a>(composite: &'a str, index: usize, delimiters: &Delimiters) -> &'a str {
    composite.split(char::from(delimiters.component)).nth(index.saturating_sub(1)).unwrap_or("")
}

/// The ISA read: its sixteen elements (trimmed as written) and the separators.
#[derive(Debug, Clone)]
pub(crate) struct Isa<'a> {
    /// ISA01..ISA16 at indexes 0..16.
    pub fields: [&'a str; 16],
    pub delimiters: Delimiters,
    /// Offset just after the ISA's terminator.
    pub end: usize,
}

/// Why an ISA cannot be used, with what could still be read of it.
#[derive(Debug, Clone)]
pub(crate) struct IsaFault<'a> {
    pub note_code: &'static str,
    pub element: Option<u8>,
    pub message: String,
    /// The fields, when the separators could be found (for echoing ISA13 in the TA1).
    pub fields: Option<[&'a str; 16]>,
    /// The segment terminator, when it could be found (to resume after the IEA).
    pub delimiters: Option<Delimiters>,
    pub end: usize,
}

fn is_separator_byte(byte: u8) -> bool {
    byte.is_ascii() && !byte.is_ascii_alphanumeric() && byte != b' '
}

/// Reads the ISA starting at `at` (which holds `ISA`).
pub(crate) fn parse_isa(text: &str, at: usize) -> Result<Isa<'_>, Box<IsaFault<'_>>> {
    let bytes = text.as_bytes().get(at..).unwrap_or(&[]);
    let fault = |note_code, element, message: String| Box::new(IsaFault { note_code, element, message, fields: None, delimiters: None, end: text.len() });
    let Some(&element_separator) = bytes.get(3) else {
        return Err(fault(ta1::END_OF_FILE, None, "the body ends inside the ISA segment".to_owned()));
    };
    if !is_separator_byte(element_separator) {
        return Err(fault(ta1::ELEMENT_SEPARATOR, None, format!("the ISA's 4th character {:?} cannot be an element separator", char::from(element_separator))));
    }
    // Split by the separator, whatever the widths, so that a fault can still echo ISA13.
    let mut fields = [""; 16];
    let mut field_idx = 0;
    let mut start = 4;
    let mut idx = 4;
    while field_idx < 15 {
        match bytes.get(idx) {
            Some(byte) if *byte == element_separator => {
                fields[field_idx] = text.get(at + start..at + idx).unwrap_or("");
                field_idx += 1;
                start = idx + 1;
            }
            Some(_) => {}
            None => return Err(fault(ta1::END_OF_FILE, None, "the body ends inside the ISA segment".to_owned())),
        }
        idx += 1;
    }
    // ISA16 is one character, the terminator the next.
    let (Some(&component_separator), Some(&terminator)) = (bytes.get(start), bytes.get(start + 1)) else {
        return Err(fault(ta1::END_OF_FILE, None, "the body ends inside the ISA segment".to_owned()));
    };
    fields[15] = text.get(at + start..at + start + 1).unwrap_or("");
    let repetition = fields[10].as_bytes().first().copied().filter(|byte| is_separator_byte(*byte));
    let delimiters = Delimiters { element: element_separator, repetition, component: component_separator, segment: terminator };
    let end = at + start + 2;
    let with_fields = |note_code, element: Option<u8>, message: String| {
        Box::new(IsaFault { note_code, element, message, fields: Some(fields), delimiters: Some(delimiters), end })
    };
    for (field_idx, (field, width)) in fields.iter().zip(ISA_WIDTHS).enumerate() {
        if field.len() != width {
            let element = field_idx + 1;
            let message = format!("ISA{element:02} is {} characters; the ISA has fixed widths ({width} here) and is {ISA_LENGTH} characters long", field.len());
            return Err(with_fields(ISA_NOTE_CODES[field_idx], u8::try_from(element).ok(), message));
        }
    }
    if !is_separator_byte(component_separator) || component_separator == element_separator {
        let message = format!("ISA16 {:?} cannot be a component separator", char::from(component_separator));
        return Err(with_fields(ta1::COMPONENT_SEPARATOR, Some(16), message));
    }
    if !(is_separator_byte(terminator) || terminator == b'\n' || terminator == b'\r') || terminator == element_separator || terminator == component_separator {
        let message = format!("the character after ISA16, {:?}, cannot be a segment terminator", char::from(terminator));
        return Err(with_fields(ta1::SEGMENT_TERMINATOR, None, message));
    }
    if repetition.is_some_and(|byte| byte == element_separator || byte == component_separator || byte == terminator) {
        return Err(with_fields(ta1::CONTROL_STRUCTURE, Some(11), "ISA11, the repetition separator, repeats another separator".to_owned()));
    }
    check_isa_values(&fields).map_err(|(note_code, element, message)| with_fields(note_code, Some(element), message))?;
    Ok(Isa { fields, delimiters, end })
}

const ID_QUALIFIERS: &[&str] = &["01", "14", "20", "27", "28", "29", "30", "33", "ZZ"];

fn check_isa_values(fields: &[&str; 16]) -> Result<(), (&'static str, u8, String)> {
    let code_of = |element: u8, allowed: &[&str], note: &'static str| {
        let value = fields[usize::from(element) - 1];
        if allowed.contains(&value) { Ok(()) } else { Err((note, element, format!("ISA{element:02} `{value}` is not one of {}", allowed.join(", ")))) }
    };
    code_of(1, &["00", "03"], ta1::AUTHORIZATION_QUALIFIER)?;
    code_of(3, &["00", "01"], ta1::SECURITY_QUALIFIER)?;
    code_of(5, ID_QUALIFIERS, ta1::SENDER_QUALIFIER)?;
    if fields[5].trim().is_empty() {
        return Err((ta1::SENDER_ID, 6, "ISA06, the sender id, is blank".to_owned()));
    }
    code_of(7, ID_QUALIFIERS, ta1::RECEIVER_QUALIFIER)?;
    if fields[7].trim().is_empty() {
        return Err((ta1::RECEIVER_ID, 8, "ISA08, the receiver id, is blank".to_owned()));
    }
    if crate::text::parse_yymmdd(fields[8]).is_none() {
        return Err((ta1::DATE, 9, format!("ISA09 `{}` is not a date YYMMDD", fields[8])));
    }
    if !crate::text::is_hhmm(fields[9]) {
        return Err((ta1::TIME, 10, format!("ISA10 `{}` is not a time HHMM", fields[9])));
    }
    if fields[11] != "00501" {
        let note = if fields[11].bytes().all(|byte| byte.is_ascii_digit()) { ta1::VERSION_NOT_SUPPORTED } else { ta1::VERSION_ID };
        return Err((note, 12, format!("ISA12 `{}` is not 00501: only X12 5010 interchanges are read", fields[11])));
    }
    if !fields[12].bytes().all(|byte| byte.is_ascii_digit()) {
        return Err((ta1::CONTROL_NUMBER_VALUE, 13, format!("ISA13 `{}` is not nine digits", fields[12])));
    }
    code_of(14, &["0", "1"], ta1::ACK_REQUESTED)?;
    code_of(15, &["P", "T"], ta1::TEST_INDICATOR)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISA: &str = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *250101*1200*^*00501*000000001*0*P*:~";

    #[test]
    fn separators_come_from_the_isa() {
        assert_eq!(ISA.len(), ISA_LENGTH);
        let isa = parse_isa(ISA, 0).unwrap();
        assert_eq!(isa.delimiters, Delimiters::STANDARD);
        assert_eq!(isa.fields[12], "000000001");
        assert_eq!(isa.end, ISA_LENGTH);
    }

    #[test]
    fn other_separators_are_read_too() {
        let text = ISA.replace('*', "|").replace(":~", ">\n");
        let isa = parse_isa(&text, 0).unwrap();
        assert_eq!(isa.delimiters, Delimiters { element: b'|', repetition: Some(b'^'), component: b'>', segment: b'\n' });
    }

    #[test]
    fn a_field_of_the_wrong_width_names_its_note_code() {
        let text = ISA.replacen("*          *00", "*         *00", 1);
        let fault = parse_isa(&text, 0).unwrap_err();
        assert_eq!((fault.note_code, fault.element), (ta1::AUTHORIZATION_VALUE, Some(2)));
        assert_eq!(fault.fields.unwrap()[12], "000000001");
    }

    #[test]
    fn a_short_body_is_an_end_of_file_fault() {
        for cut in [0, 3, 4, 50, 104, 105] {
            let fault = parse_isa(&ISA[..cut], 0).unwrap_err();
            assert_eq!(fault.note_code, ta1::END_OF_FILE, "{cut}");
        }
    }

    #[test]
    fn whitespace_after_terminators_is_skipped() {
        let text = "AB*1~\r\n  CD*2~\nEF*3";
        let mut cursor = Cursor::new(text, 0, Delimiters::STANDARD);
        let ids: Vec<&str> = std::iter::from_fn(|| cursor.next_segment()).map(|segment| segment.text).collect();
        assert_eq!(ids, ["AB*1", "CD*2", "EF*3"]);
    }

    #[test]
    fn utf16_and_bom_bodies_are_decoded() {
        let utf16: Vec<u8> = "ISA*00".encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(decode(&utf16), "ISA*00");
        assert_eq!(decode(b"\xEF\xBB\xBFISA"), "ISA");
    }
}
