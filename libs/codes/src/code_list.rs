//! The versioned list of known CARCs and RARCs: `data/adjustment-codes.txt`,
//! compiled in. X12 publishes new codes (and stops old ones) three times a
//! year, so the list is consulted, never trusted to be complete: a
//! well-formed code it does not hold is [`Listing::Unknown`], which callers
//! report (a warning, a review queue), never a reason to refuse a code.
//!
//! A code is active on a date when its start (if recorded) is on or before
//! it and its stop (if any) is after it.

use std::sync::OnceLock;

use time::Date;
use time::macros::format_description;

use crate::carc::Carc;
use crate::rarc::Rarc;

/// The committed list, read at first use.
const BUNDLED_TEXT: &str = include_str!("../data/adjustment-codes.txt");

/// Which code set an entry belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeKind {
    Carc,
    Rarc,
}

/// One code of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub kind: CodeKind,
    pub code: String,
    /// The first day the code may be used, where recorded.
    pub start: Option<Date>,
    /// The first day the code may no longer be used, where it has stopped.
    pub stop: Option<Date>,
    /// Claimtrail's short wording of what the code means.
    pub description: String,
}

/// Where a code stands on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing<'a> {
    Active(&'a Listed),
    /// On the list, but its start is after the date.
    NotYetStarted(&'a Listed),
    /// On the list, but stopped on or before the date.
    Stopped(&'a Listed),
    /// Well-formed but not on this version of the list: accepted, and to be reported as unknown.
    Unknown,
}

/// A version of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeList {
    version: String,
    reviewed: Date,
    entries: Vec<Listed>,
}

/// A line of a list file that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line} of the code list: {reason}")]
pub struct CodeListError {
    /// 1-based.
    pub line: usize,
    pub reason: String,
}

impl CodeList {
    /// The list committed with this crate (`data/adjustment-codes.txt`).
    /// A test holds that it reads; were it ever unreadable, every code would
    /// be unknown rather than the process stopping.
    pub fn bundled() -> &'static CodeList {
        static BUNDLED: OnceLock<CodeList> = OnceLock::new();
        BUNDLED.get_or_init(|| {
            CodeList::parse(BUNDLED_TEXT).unwrap_or_else(|_| CodeList { version: "unreadable".into(), reviewed: Date::MIN, entries: Vec::new() })
        })
    }

    /// Reads a list in the format of `data/adjustment-codes.txt`: comment
    /// lines (`#`), one `version|<name>|<YYYY-MM-DD>` line, then
    /// `kind|code|start|stop|description` lines, each code checked by its
    /// type's shape and named once.
    pub fn parse(text: &str) -> Result<CodeList, CodeListError> {
        let mut version: Option<(String, Date)> = None;
        let mut entries: Vec<Listed> = Vec::new();
        for (line_idx, line) in text.lines().enumerate() {
            let error = |reason: String| CodeListError { line: line_idx + 1, reason };
            let line = line.trim_end();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split('|').collect();
            match fields.as_slice() {
                ["version", name, reviewed] => {
                    if version.is_some() {
                        return Err(error("a second version line".into()));
                    }
                    let reviewed = date(reviewed).map_err(&error)?;
                    version = Some(((*name).to_owned(), reviewed));
                }
                [kind, code, start, stop, description] => {
                    let kind = match *kind {
                        "carc" => {
                            Carc::parse(code).map_err(|e| error(e.to_string()))?;
                            CodeKind::Carc
                        }
                        "rarc" => {
                            Rarc::parse(code).map_err(|e| error(e.to_string()))?;
                            CodeKind::Rarc
                        }
                        other => return Err(error(format!("the kind is carc or rarc, not `{other}`"))),
                    };
                    if entries.iter().any(|entry| entry.kind == kind && entry.code == *code) {
                        return Err(error(format!("`{code}` is listed twice")));
                    }
                    let start = optional_date(start).map_err(&error)?;
                    let stop = optional_date(stop).map_err(&error)?;
                    if let (Some(start), Some(stop)) = (start, stop)
                        && stop <= start
                    {
                        return Err(error(format!("`{code}` stops ({stop}) before it starts ({start})")));
                    }
                    entries.push(Listed { kind, code: (*code).to_owned(), start, stop, description: (*description).to_owned() });
                }
                _ => return Err(error(format!("expected 5 fields separated by `|`, found {}", fields.len()))),
            }
        }
        let (version, reviewed) = version.ok_or_else(|| CodeListError { line: 0, reason: "no `version|<name>|<date>` line".into() })?;
        Ok(CodeList { version, reviewed, entries })
    }

    /// The list's name, e.g. `claimtrail-2026.12`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The day the list was last reviewed against X12's.
    pub fn reviewed(&self) -> Date {
        self.reviewed
    }

    pub fn entries(&self) -> &[Listed] {
        &self.entries
    }

    pub fn carc(&self, carc: &Carc, on: Date) -> Listing<'_> {
        self.listing(CodeKind::Carc, carc.as_ref(), on)
    }

    pub fn rarc(&self, rarc: &Rarc, on: Date) -> Listing<'_> {
        self.listing(CodeKind::Rarc, rarc.as_ref(), on)
    }

    fn listing(&self, kind: CodeKind, code: &str, on: Date) -> Listing<'_> {
        let Some(entry) = self.entries.iter().find(|entry| entry.kind == kind && entry.code == code) else {
            return Listing::Unknown;
        };
        if entry.start.is_some_and(|start| on < start) {
            Listing::NotYetStarted(entry)
        } else if entry.stop.is_some_and(|stop| on >= stop) {
            Listing::Stopped(entry)
        } else {
            Listing::Active(entry)
        }
    }
}

fn date(text: &str) -> Result<Date, String> {
    Date::parse(text, format_description!("[year]-[month]-[day]")).map_err(|_| format!("`{text}` is not a date (YYYY-MM-DD)"))
}

fn optional_date(text: &str) -> Result<Option<Date>, String> {
    if text.is_empty() { Ok(None) } else { date(text).map(Some) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const SAMPLE: &str = "# a test list\nversion|test-1|2026-03-01\ncarc|45|1995-01-01||Fee schedule\ncarc|B1|1995-01-01|2008-01-01|Stopped code\nrarc|N999|2027-01-01||Not yet\n";

    #[test]
    fn the_committed_list_reads_and_holds_its_version() {
        let list = CodeList::parse(BUNDLED_TEXT).unwrap();
        assert_eq!(list.version(), "claimtrail-2026.12");
        assert_eq!(CodeList::bundled(), &list);
        assert!(list.entries().iter().any(|entry| entry.kind == CodeKind::Rarc));
    }

    #[test]
    fn a_code_is_active_between_its_start_and_its_stop() {
        let list = CodeList::parse(SAMPLE).unwrap();
        assert_eq!(list.reviewed(), date!(2026 - 03 - 01));
        let b1 = Carc::parse("B1").unwrap();
        assert!(matches!(list.carc(&b1, date!(2007 - 12 - 31)), Listing::Active(_)));
        assert!(matches!(list.carc(&b1, date!(2008 - 01 - 01)), Listing::Stopped(_)));
        assert!(matches!(list.carc(&b1, date!(1994 - 12 - 31)), Listing::NotYetStarted(_)));
        let n999 = Rarc::parse("N999").unwrap();
        assert!(matches!(list.rarc(&n999, date!(2026 - 12 - 31)), Listing::NotYetStarted(entry) if entry.description == "Not yet"));
        assert!(matches!(list.rarc(&n999, date!(2027 - 01 - 01)), Listing::Active(_)));
    }

    #[test]
    fn a_well_formed_code_off_the_list_is_unknown_and_kinds_do_not_mix() {
        let list = CodeList::parse(SAMPLE).unwrap();
        assert_eq!(list.carc(&Carc::parse("P24").unwrap(), date!(2026 - 01 - 01)), Listing::Unknown);
        assert_eq!(list.rarc(&Rarc::parse("N362").unwrap(), date!(2026 - 01 - 01)), Listing::Unknown);
    }

    #[test]
    fn a_faulty_list_names_the_line_and_the_fault() {
        let cases = [
            ("carc|45|||x\n", 0, "no `version"),
            ("version|v|2026-01-01\ncarc|4500|||x\n", 2, "`4500`"),
            ("version|v|2026-01-01\nrarc|X1|||x\n", 2, "`X1`"),
            ("version|v|2026-01-01\nicd|E119|||x\n", 2, "carc or rarc"),
            ("version|v|2026-01-01\ncarc|45|||x\ncarc|45|||y\n", 3, "twice"),
            ("version|v|2026-01-01\ncarc|45|1995-13-01||x\n", 2, "not a date"),
            ("version|v|2026-01-01\ncarc|45|2000-01-01|1999-01-01|x\n", 2, "before it starts"),
            ("version|v|2026-01-01\ncarc|45|x\n", 2, "5 fields"),
            ("version|v|2026-01-01\nversion|w|2026-01-01\n", 2, "second version"),
        ];
        for (text, line, reason) in cases {
            let error = CodeList::parse(text).unwrap_err();
            assert_eq!(error.line, line, "{text:?}: {error}");
            assert!(error.reason.contains(reason), "{text:?}: {error}");
        }
    }
}
