//! The CSV reader every loader shares: limits, preamble, header, cells.
//!
//! CMS publishes its tables as text with a few lines of copyright and notice
//! before the header, comma- or tab-separated, sometimes in Latin-1. This
//! reader takes the whole input (up to [`FILE_BYTES_MAX`]), finds the header
//! with a predicate the loader gives, and yields the data rows with their
//! 1-based line numbers. Loaders collect every failure (up to
//! [`ERRORS_MAX`]) and build nothing unless there is none: all or nothing.

use std::fmt;
use std::io::Read;

use time::{Date, Month};

/// The largest input a loader reads (a full NCCI practitioner file is about 100 MB).
pub const FILE_BYTES_MAX: u64 = 256 * 1024 * 1024;
/// The most data rows a table may hold (NCCI practitioner: about 1.5 million rows).
pub const ROWS_MAX: usize = 4_000_000;
/// The longest cell (rationales and LEIE addresses are the longest).
pub const FIELD_BYTES_MAX: usize = 1_024;
/// The most lines looked at for the header before giving up.
pub const PREAMBLE_LINES_MAX: usize = 64;
/// The most failures one load reports; the rest are counted.
pub const ERRORS_MAX: usize = 100;

/// One failure: where (1-based line, 0 for the file as a whole) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub line: usize,
    pub reason: String,
}

/// Every failure of one load (capped at [`ERRORS_MAX`]); nothing was built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LoadErrors {
    pub errors: Vec<LoadError>,
    /// Failures beyond the cap, counted but not kept.
    pub more: usize,
}

impl LoadErrors {
    pub(crate) fn one(line: usize, reason: impl Into<String>) -> LoadErrors {
        LoadErrors { errors: vec![LoadError { line, reason: reason.into() }], more: 0 }
    }

    /// The first failure, which is what a caller shows when it shows one.
    pub fn first(&self) -> Option<&LoadError> {
        self.errors.first()
    }
}

impl fmt::Display for LoadErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (error_idx, error) in self.errors.iter().enumerate() {
            if error_idx > 0 {
                f.write_str("; ")?;
            }
            if error.line == 0 {
                write!(f, "{}", error.reason)?;
            } else {
                write!(f, "line {}: {}", error.line, error.reason)?;
            }
        }
        if self.more > 0 {
            write!(f, "; and {} more", self.more)?;
        }
        Ok(())
    }
}

/// Collects failures up to the cap; `finish` turns them into the result.
#[derive(Debug, Default)]
pub(crate) struct Failures {
    errors: Vec<LoadError>,
    more: usize,
}

impl Failures {
    pub(crate) fn push(&mut self, line: usize, reason: impl Into<String>) {
        if self.errors.len() < ERRORS_MAX {
            self.errors.push(LoadError { line, reason: reason.into() });
        } else {
            self.more += 1;
        }
    }

    pub(crate) fn finish<T>(self, value: T) -> Result<T, LoadErrors> {
        if self.errors.is_empty() { Ok(value) } else { Err(LoadErrors { errors: self.errors, more: self.more }) }
    }
}

/// A file read whole, its header found, ready to yield rows.
#[derive(Debug)]
pub(crate) struct Table {
    text: String,
    delimiter: char,
    /// The header's cells, trimmed.
    pub(crate) header: Vec<String>,
    /// The lines before the header (copyright, notice, title), trimmed.
    pub(crate) preamble: Vec<String>,
    /// Byte offset where the data starts, and its 1-based line number.
    data_start: usize,
    data_line: usize,
}

/// One data row: its 1-based line and its cells.
#[derive(Debug)]
pub(crate) struct Row<'t> {
    pub(crate) line: usize,
    pub(crate) cells: Vec<&'t str>,
}

impl<'t> Row<'t> {
    /// The cell at `column_idx`, trimmed, or "" when the row is short.
    pub(crate) fn cell(&self, column_idx: usize) -> &'t str {
        self.cells.get(column_idx).map(|cell| cell.trim()).unwrap_or("")
    }
}

impl Table {
    /// Reads `input` whole (at most [`FILE_BYTES_MAX`]) and finds the header:
    /// the first line, within [`PREAMBLE_LINES_MAX`], whose cells satisfy
    /// `is_header`. Tab-separated when the header line holds a tab.
    pub(crate) fn read(input: impl Read, what: &str, is_header: impl Fn(&[String]) -> bool) -> Result<Table, LoadErrors> {
        let mut bytes = Vec::new();
        input.take(FILE_BYTES_MAX + 1).read_to_end(&mut bytes).map_err(|error| LoadErrors::one(0, format!("could not read the {what} file: {error}")))?;
        if bytes.len() as u64 > FILE_BYTES_MAX {
            return Err(LoadErrors::one(0, format!("the {what} file is larger than {FILE_BYTES_MAX} bytes")));
        }
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            // CMS and OIG files are ASCII, occasionally Latin-1 (names, addresses).
            Err(error) => error.into_bytes().iter().map(|&byte| byte as char).collect(),
        };
        let text = text.strip_prefix('\u{feff}').map(str::to_owned).unwrap_or(text);
        let mut offset = 0;
        let mut preamble = Vec::new();
        let mut found = None;
        for line_idx in 0..PREAMBLE_LINES_MAX {
            if offset >= text.len() {
                break;
            }
            let end = text[offset..].find('\n').map(|at| offset + at + 1).unwrap_or(text.len());
            let line = text[offset..end].trim_end_matches(['\n', '\r']);
            let delimiter = if line.contains('\t') { '\t' } else { ',' };
            let cells = split(line, delimiter).ok().map(|cells| cells.iter().map(|cell| cell.trim().to_owned()).collect::<Vec<_>>());
            if let Some(cells) = cells.filter(|cells| is_header(cells)) {
                found = Some((delimiter, cells, end, line_idx + 2));
                break;
            }
            preamble.push(line.trim().to_owned());
            offset = end;
        }
        match found {
            Some((delimiter, header, data_start, data_line)) => Ok(Table { text, delimiter, header, preamble, data_start, data_line }),
            None => Err(LoadErrors::one(0, format!("no {what} header found in the first {PREAMBLE_LINES_MAX} lines"))),
        }
    }

    /// The index of the first header cell for which `matches` holds (given
    /// the cell lower-cased with its whitespace collapsed).
    pub(crate) fn column(&self, name: &str, matches: impl Fn(&str) -> bool) -> Result<usize, LoadErrors> {
        self.header
            .iter()
            .position(|cell| matches(&normalize(cell)))
            .ok_or_else(|| LoadErrors::one(self.data_line - 1, format!("the header has no {name} column")))
    }

    /// The data rows: blank lines are skipped; a malformed line or a cell over
    /// [`FIELD_BYTES_MAX`] is a failure; more than [`ROWS_MAX`] rows is one too.
    pub(crate) fn rows<'t>(&'t self, failures: &mut Failures) -> Vec<Row<'t>> {
        let mut rows = Vec::new();
        for (line_idx, line) in self.text[self.data_start..].split('\n').enumerate() {
            let line_number = self.data_line + line_idx;
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.split(self.delimiter).all(|cell| cell.trim().is_empty()) {
                continue;
            }
            if rows.len() == ROWS_MAX {
                failures.push(line_number, format!("more than {ROWS_MAX} rows"));
                break;
            }
            match split(line, self.delimiter) {
                Ok(cells) => match cells.iter().find(|cell| cell.len() > FIELD_BYTES_MAX) {
                    Some(_) => failures.push(line_number, format!("a cell is longer than {FIELD_BYTES_MAX} bytes")),
                    None => rows.push(Row { line: line_number, cells }),
                },
                Err(reason) => failures.push(line_number, reason),
            }
        }
        rows
    }

    /// The preamble and header as one lower-cased text, to tell tables apart.
    pub(crate) fn title_text(&self) -> String {
        let mut text = self.preamble.join(" ");
        text.push(' ');
        text.push_str(&self.header.join(" "));
        normalize(&text)
    }
}

/// Lower case, whitespace collapsed to single spaces.
pub(crate) fn normalize(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_lowercase()
}

/// Splits one line into cells: RFC 4180 quoting within the line (a quoted
/// cell may hold the delimiter and doubled quotes). Returns borrowed cells
/// with the quotes removed only when no doubled quote needs unescaping;
/// a cell holding `""` keeps them (none of the tables read here has one in
/// a field this crate uses).
fn split(line: &str, delimiter: char) -> Result<Vec<&str>, String> {
    let mut cells = Vec::new();
    let mut rest = line;
    loop {
        let trimmed = rest.trim_start_matches(' ');
        if let Some(quoted) = trimmed.strip_prefix('"') {
            let mut end = None;
            let bytes = quoted.as_bytes();
            let mut byte_idx = 0;
            while byte_idx < bytes.len() {
                if bytes[byte_idx] == b'"' {
                    if bytes.get(byte_idx + 1) == Some(&b'"') {
                        byte_idx += 2;
                        continue;
                    }
                    end = Some(byte_idx);
                    break;
                }
                byte_idx += 1;
            }
            let end = end.ok_or_else(|| "a quoted cell is not closed on its line".to_owned())?;
            cells.push(&quoted[..end]);
            let after = quoted[end + 1..].trim_start_matches(' ');
            if after.is_empty() {
                return Ok(cells);
            }
            match after.strip_prefix(delimiter) {
                Some(next) => rest = next,
                None => return Err("text after a closing quote".to_owned()),
            }
        } else {
            match rest.find(delimiter) {
                Some(at) => {
                    cells.push(&rest[..at]);
                    rest = &rest[at + delimiter.len_utf8()..];
                }
                None => {
                    cells.push(rest);
                    return Ok(cells);
                }
            }
        }
    }
}

/// A `YYYYMMDD` date, as CMS and OIG write them.
pub(crate) fn parse_yyyymmdd(text: &str) -> Result<Date, String> {
    let text = text.trim();
    if text.len() != 8 || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(format!("`{text}` is not a YYYYMMDD date"));
    }
    let number = |range: std::ops::Range<usize>| text[range].parse::<u32>().map_err(|_| format!("`{text}` is not a YYYYMMDD date"));
    let year = number(0..4)? as i32;
    let month = Month::try_from(number(4..6)? as u8).map_err(|_| format!("`{text}` has no month {}", &text[4..6]))?;
    let day = number(6..8)? as u8;
    Date::from_calendar_date(year, month, day).map_err(|_| format!("`{text}` is not a calendar date"))
}

/// A `YYYYMMDD` date or a mark for none: `*` (NCCI), blank, or all zeros (LEIE).
pub(crate) fn parse_optional_yyyymmdd(text: &str) -> Result<Option<Date>, String> {
    let text = text.trim();
    if text.is_empty() || text == "*" || text.bytes().all(|byte| byte == b'0') {
        return Ok(None);
    }
    parse_yyyymmdd(text).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header_starts_with(first: &'static str) -> impl Fn(&[String]) -> bool {
        move |cells| cells.first().is_some_and(|cell| normalize(cell).starts_with(first))
    }

    #[test]
    fn the_preamble_before_the_header_is_skipped_and_line_numbers_count_it() {
        let text = "Copyright 2026 notice\n\nCPT only copyright AMA\nCode,Value\nA0001,1\n\nA0002,2\n";
        let table = Table::read(text.as_bytes(), "test", header_starts_with("code")).expect("header");
        assert_eq!(table.preamble.len(), 3);
        let mut failures = Failures::default();
        let rows = table.rows(&mut failures);
        assert_eq!(rows.iter().map(|row| row.line).collect::<Vec<_>>(), vec![5, 7]);
        assert_eq!(rows[1].cell(1), "2");
    }

    #[test]
    fn a_file_without_the_header_is_refused_naming_what_was_looked_for() {
        let error = Table::read("a,b\n1,2\n".as_bytes(), "MUE", header_starts_with("hcpcs")).expect_err("no header");
        assert!(error.to_string().contains("no MUE header"), "{error}");
    }

    #[test]
    fn tabs_separate_cells_when_the_header_holds_a_tab() {
        let table = Table::read("Code\tValue\nA0001\t\"1,5\"\n".as_bytes(), "test", header_starts_with("code")).expect("header");
        let mut failures = Failures::default();
        let rows = table.rows(&mut failures);
        assert_eq!(rows[0].cells, vec!["A0001", "1,5"]);
    }

    #[test]
    fn quoted_cells_may_hold_the_delimiter_and_an_unclosed_quote_is_a_failure() {
        assert_eq!(split("\"a,b\",c", ',').expect("split"), vec!["a,b", "c"]);
        assert_eq!(split("a,,", ',').expect("split"), vec!["a", "", ""]);
        assert!(split("\"a,b", ',').is_err());
    }

    #[test]
    fn a_cell_over_the_limit_is_a_failure_on_its_line() {
        let long = "x".repeat(FIELD_BYTES_MAX + 1);
        let text = format!("Code,Value\nA0001,{long}\n");
        let table = Table::read(text.as_bytes(), "test", header_starts_with("code")).expect("header");
        let mut failures = Failures::default();
        assert!(table.rows(&mut failures).is_empty());
        let error = failures.finish(()).expect_err("too long");
        assert_eq!(error.errors[0].line, 2);
    }

    #[test]
    fn dates_are_yyyymmdd_and_star_blank_or_zeros_mean_none() {
        assert_eq!(parse_yyyymmdd("20260101").expect("date"), time::macros::date!(2026 - 01 - 01));
        assert!(parse_yyyymmdd("20261301").is_err());
        assert!(parse_yyyymmdd("2026-01-01").is_err());
        assert_eq!(parse_optional_yyyymmdd("*").expect("none"), None);
        assert_eq!(parse_optional_yyyymmdd("00000000").expect("none"), None);
        assert_eq!(parse_optional_yyyymmdd("").expect("none"), None);
    }

    #[test]
    fn failures_are_capped_and_the_rest_counted() {
        let mut failures = Failures::default();
        for line in 0..ERRORS_MAX + 5 {
            failures.push(line + 1, "bad");
        }
        let error = failures.finish(()).expect_err("failures");
        assert_eq!(error.errors.len(), ERRORS_MAX);
        assert_eq!(error.more, 5);
    }
}
