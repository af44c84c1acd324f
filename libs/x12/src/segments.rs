//! X12 text being written, for every writer of this crate (the 837P, the
//! acknowledgments, the 835): separators `*` `:` `^` `~`, a newline after
//! each segment, the ISA's fixed widths, and the segment count of the open
//! transaction (SE01).

use time::{Date, Time};

use crate::text::clean;

/// The text written so far and the number of segments since the open ST.
#[derive(Default)]
pub(crate) struct Segments {
    pub(crate) text: String,
    n_transaction_segments: usize,
}

/// The ISA's variable parts; the rest is fixed (no authorization or
/// security information, repetition separator `^`, version 00501, no TA1
/// requested, component separator `:`).
pub(crate) struct Isa<'a> {
    /// ISA05/ISA07; anything but two letters or digits is written `ZZ`.
    pub(crate) sender_qualifier: &'a str,
    /// ISA06/ISA08, written as [`isa_id`] makes them.
    pub(crate) sender_id: &'a str,
    pub(crate) receiver_qualifier: &'a str,
    pub(crate) receiver_id: &'a str,
    pub(crate) date: Date,
    pub(crate) time: Time,
    /// ISA13, written with nine digits.
    pub(crate) control_number: u32,
    /// ISA15 `T` when true, else `P`.
    pub(crate) test: bool,
}

impl Segments {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self { text: String::with_capacity(capacity), n_transaction_segments: 0 }
    }

    /// One segment; trailing empty elements are dropped, as X12 requires.
    pub(crate) fn segment(&mut self, elements: &[&str]) {
        let n_elements = elements.iter().rposition(|element| !element.is_empty()).map_or(0, |last| last + 1);
        for (idx, element) in elements.iter().take(n_elements).enumerate() {
            if idx > 0 {
                self.text.push('*');
            }
            self.text.push_str(element);
        }
        self.text.push_str("~\n");
        self.n_transaction_segments += 1;
    }

    /// The ISA segment (not counted: it is outside every transaction).
    pub(crate) fn isa(&mut self, isa: &Isa<'_>) {
        let line = format!(
            "ISA*00*{:10}*00*{:10}*{}*{:15}*{}*{:15}*{}*{}*^*00501*{:09}*0*{}*:~\n",
            "",
            "",
            qualifier(isa.sender_qualifier),
            isa_id(isa.sender_id),
            qualifier(isa.receiver_qualifier),
            isa_id(isa.receiver_id),
            yymmdd(isa.date),
            hhmm(isa.time),
            isa.control_number,
            if isa.test { "T" } else { "P" },
        );
        self.text.push_str(&line);
    }

    /// The ST segment `st`; the count for SE01 starts again from it.
    pub(crate) fn start_transaction(&mut self, st: &[&str]) {
        self.n_transaction_segments = 0;
        self.segment(st);
    }

    /// The SE segment closing the open transaction: its segment count (ST and SE included) and `control_number`.
    pub(crate) fn end_transaction(&mut self, control_number: &str) {
        let n_segments = (self.n_transaction_segments + 1).to_string();
        self.segment(&["SE", &n_segments, control_number]);
    }
}

/// An ISA qualifier: two letters or digits, else `ZZ` (mutually defined).
pub(crate) fn qualifier(value: &str) -> &str {
    if value.len() == 2 && value.bytes().all(|byte| byte.is_ascii_alphanumeric()) { value } else { "ZZ" }
}

/// An interchange id (ISA06/ISA08, also GS02/GS03): ASCII without separators,
/// at most 15 characters, `UNKNOWN` when nothing is left.
pub(crate) fn isa_id(value: &str) -> String {
    let cleaned: String = clean(value, 15).chars().filter(char::is_ascii).collect();
    if cleaned.is_empty() { "UNKNOWN".to_owned() } else { cleaned }
}

/// A name element: without separators, at most 60 characters, `default` when nothing is left.
pub(crate) fn name_or(value: &str, default: &str) -> String {
    let cleaned = clean(value, 60);
    if cleaned.is_empty() { default.to_owned() } else { cleaned }
}

/// ISA09 `YYMMDD`.
pub(crate) fn yymmdd(date: Date) -> String {
    format!("{:02}{:02}{:02}", date.year().rem_euclid(100), u8::from(date.month()), date.day())
}

/// `HHMM` (ISA10, GS05).
pub(crate) fn hhmm(time: Time) -> String {
    format!("{:02}{:02}", time.hour(), time.minute())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, time};

    #[test]
    fn trailing_empty_elements_are_dropped_and_the_transaction_counts_its_segments() {
        let mut out = Segments::default();
        out.start_transaction(&["ST", "999", "0001"]);
        out.segment(&["NM1", "QC", "", "", ""]);
        out.segment(&["REF", "", "X"]);
        out.end_transaction("0001");
        assert_eq!(out.text, "ST*999*0001~\nNM1*QC~\nREF**X~\nSE*4*0001~\n");
    }

    #[test]
    fn the_isa_keeps_its_fixed_widths_whatever_the_ids() {
        let mut out = Segments::default();
        let isa = Isa {
            sender_qualifier: "Z*",
            sender_id: "Äb*c\u{7}d",
            receiver_qualifier: "01",
            receiver_id: "",
            date: date!(2026 - 03 - 01),
            time: time!(08:05),
            control_number: 77,
            test: true,
        };
        out.isa(&isa);
        assert_eq!(out.text, "ISA*00*          *00*          *ZZ*bcd            *01*UNKNOWN        *260301*0805*^*00501*000000077*0*T*:~\n");
        // 106 characters, the segment terminator included, then the newline.
        assert_eq!(out.text.len(), 106 + 1);
    }
}
