//! CSV export (RFC 4180) with cells a spreadsheet would read as a formula
//! neutralised: a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage
//! return gets a leading `'` (OWASP "CSV injection"), except a plain decimal
//! number such as `-12.50`, which a spreadsheet reads as the number it is.

use std::borrow::Cow;

const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// The cell as a spreadsheet may safely read it.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some(first) if FORMULA_STARTS.contains(&first) && !is_plain_number(cell) => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

/// `-` then digits, with at most one `.` between digits.
fn is_plain_number(cell: &str) -> bool {
    let Some(unsigned) = cell.strip_prefix('-') else { return false };
    let mut parts = unsigned.splitn(2, '.');
    let whole = parts.next().unwrap_or_default();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(whole) && parts.next().is_none_or(digits)
}

/// One CSV field: neutralised, then quoted when it holds a comma, a quote or a line break.
pub fn field(cell: &str) -> String {
    let cell = neutralise(cell);
    if cell.contains([',', '"', '\n', '\r']) { format!("\"{}\"", cell.replace('"', "\"\"")) } else { cell.into_owned() }
}

/// The header line and the rows, each line ending in CRLF.
pub fn to_csv(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let fields: Vec<String> = cells.map(field).collect();
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    };
    line(&mut headers.iter().copied());
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_that_start_like_a_formula_are_neutralised() {
        for cell in ["=HYPERLINK(\"http://x\")", "+1+1", "-1+1", "@SUM(A1)", "\tx", "\rx", "-", "-1.", "--1"] {
            assert_eq!(neutralise(cell), format!("'{cell}"), "{cell:?}");
        }
    }

    #[test]
    fn ordinary_cells_and_negative_amounts_are_kept() {
        for cell in ["expense:claims:60054", "12.50", "-12.50", "-3", "", "a=b", "0x00"] {
            assert_eq!(neutralise(cell), cell, "{cell:?}");
        }
    }

    #[test]
    fn a_table_is_written_with_quoting_and_crlf() {
        let rows = vec![vec!["a,b".to_owned(), "say \"hi\"".to_owned(), "=1+2".to_owned()], vec!["-5.00".to_owned(), "two\nlines".to_owned(), "@x".to_owned()]];
        assert_eq!(to_csv(&["one", "two", "three"], &rows), "one,two,three\r\n\"a,b\",\"say \"\"hi\"\"\",'=1+2\r\n-5.00,\"two\nlines\",'@x\r\n");
    }

    #[test]
    fn a_formula_hidden_behind_quoting_is_still_neutralised() {
        assert_eq!(field("=1,2"), "\"'=1,2\"");
        assert_eq!(field("\r\n=1"), "\"'\r\n=1\"");
    }
}
