//! Reconciliation against the bank, pure: the bank files read
//! ([`bai2`], [`camt053`], [`nacha_returns`]) into one [`BankStatement`]
//! shape, and [`matcher::reconcile`] matching it to what the payer expects
//! to see ([`ExpectedDebit`]), and the [`events`] applying it publishes.
//! No IO; storage and the API call these.
//!
//! Every parser is all or nothing: the first fault found is an error that
//! names its line (or XML path), its record and its field, and nothing of a
//! file with a fault is returned.

pub mod bai2;
pub mod camt053;
pub mod events;
pub mod matcher;
pub mod nacha_returns;

use std::fmt;

use claimtrail_events::Money;
use time::Date;
use uuid::Uuid;

/// The formats of bank file accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatementFormat {
    /// BAI2 cash management balance report (file id in the 01 record).
    Bai2,
    /// ISO 20022 camt.053 bank-to-customer statement (GrpHdr/MsgId).
    Camt053,
    /// A NACHA file of returns and notifications of change.
    NachaReturns,
}

impl StatementFormat {
    /// Its name in the API, the store and events.
    pub fn as_str(self) -> &'static str {
        match self {
            StatementFormat::Bai2 => "bai2",
            StatementFormat::Camt053 => "camt053",
            StatementFormat::NachaReturns => "nacha-returns",
        }
    }

    pub fn parse(text: &str) -> Option<StatementFormat> {
        [StatementFormat::Bai2, StatementFormat::Camt053, StatementFormat::NachaReturns].into_iter().find(|format| format.as_str() == text)
    }

    /// The format of an upload: its media type (`application/x-bai2`,
    /// `application/xml` or `text/xml` for camt.053, `application/x-nacha`),
    /// else, for `text/plain`, `application/octet-stream` or none, its first
    /// bytes (`01,` BAI2, `<` XML, a 94-character `1` record NACHA).
    pub fn detect(content_type: Option<&str>, bytes: &[u8]) -> Option<StatementFormat> {
        let media_type = content_type.map(|value| value.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
        match media_type.as_deref() {
            Some("application/x-bai2" | "text/x-bai2") => return Some(StatementFormat::Bai2),
            Some("application/xml" | "text/xml") => return Some(StatementFormat::Camt053),
            Some(xml) if xml.ends_with("+xml") => return Some(StatementFormat::Camt053),
            Some("application/x-nacha" | "text/x-nacha") => return Some(StatementFormat::NachaReturns),
            None | Some("" | "text/plain" | "application/octet-stream") => {}
            Some(_) => return None,
        }
        let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let start = text.iter().position(|b| !b.is_ascii_whitespace()).map_or(&[][..], |at| &text[at..]);
        let first_line = start.split(|b| *b == b'\n').next().unwrap_or(&[]);
        let first_line = first_line.strip_suffix(b"\r").unwrap_or(first_line);
        if start.starts_with(b"01,") {
            Some(StatementFormat::Bai2)
        } else if start.starts_with(b"<") {
            Some(StatementFormat::Camt053)
        } else if start.starts_with(b"1") && first_line.len() == 94 {
            Some(StatementFormat::NachaReturns)
        } else {
            None
        }
    }

    /// Reads `bytes` in this format, whole.
    pub fn read(self, bytes: &[u8]) -> Result<BankStatement, ParseError> {
        match self {
            StatementFormat::Bai2 => bai2::parse(bytes),
            StatementFormat::Camt053 => camt053::parse(bytes),
            StatementFormat::NachaReturns => nacha_returns::parse(bytes),
        }
    }
}

/// Money into or out of the payer's account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    Credit,
    Debit,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Credit => "credit",
            Direction::Debit => "debit",
        }
    }
}

/// What kind of movement a statement line is, as far as reconciliation cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LineKind {
    /// The settlement debit of ACH credits the payer originated (one per batch).
    AchDebit,
    /// Money back: a returned ACH entry (its reason and trace in [`StatementLine::return_info`]).
    AchReturn,
    /// Anything else (fees, interest, wires): reconciliation matches nothing to it.
    Other,
}

impl LineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LineKind::AchDebit => "ach-debit",
            LineKind::AchReturn => "ach-return",
            LineKind::Other => "other",
        }
    }
}

/// A NACHA return reason (`R01`..`R99`), a notification of change code
/// (`C01`..`C99`) or an ISO 20022 return reason (`AC04`, `AM04`, ...): the
/// bank's reason for sending an entry back or correcting it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReasonCode(String);

impl ReasonCode {
    pub fn parse(text: &str) -> Option<ReasonCode> {
        let bytes = text.as_bytes();
        let nacha = bytes.len() == 3 && matches!(bytes[0], b'R' | b'C') && bytes[1..].iter().all(u8::is_ascii_digit);
        let iso = bytes.len() == 4 && bytes[..2].iter().all(u8::is_ascii_uppercase) && bytes[2..].iter().all(u8::is_ascii_alphanumeric);
        (nacha || iso).then(|| ReasonCode(text.to_owned()))
    }

    /// A notification of change (C-code) corrects the account data and returns no money.
    pub fn is_change_notification(&self) -> bool {
        self.0.starts_with('C') && self.0.len() == 3
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why an entry came back, and which one: the trace number of the original entry (15 digits).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReturnInfo {
    pub original_trace: String,
    pub reason: ReasonCode,
    /// A notification of change's corrected data (NACHA 98 addenda, positions 36-64).
    pub corrected_data: Option<String>,
}

/// One movement on the statement, or one return of a NACHA return file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StatementLine {
    /// Where it is in the file: `line 7` (BAI2, NACHA) or `Ntry[3]` (camt.053).
    pub position: String,
    pub direction: Direction,
    pub kind: LineKind,
    /// Never negative: the direction says which way.
    pub amount: Money,
    /// The value (effective) date, else the booking date.
    pub date: Date,
    /// The bank's type code: BAI2 type code, camt.053 BkTxCd, NACHA transaction code.
    pub type_code: String,
    /// Every reference the bank gave (bank reference, customer reference, text), joined by spaces.
    pub reference: String,
    pub return_info: Option<ReturnInfo>,
}

/// A bank file read whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankStatement {
    pub format: StatementFormat,
    /// What identifies the file, so that it is applied once:
    /// `bai2:<sender>:<receiver>:<creation date>:<creation time>:<file id>`,
    /// `camt053:<MsgId>` or `nacha:<origin>:<creation date><time>:<modifier>`.
    pub statement_id: String,
    /// The account the statement is for (empty for a NACHA return file).
    pub account: String,
    /// The dates the statement covers (as-of date for BAI2, FrToDt or the booking dates for camt.053).
    pub from_date: Date,
    pub to_date: Date,
    pub lines: Vec<StatementLine>,
}

/// Why a bank file was refused: where, which record and field, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{position}, record {record}, field {field}: {message}")]
pub struct ParseError {
    /// `line 7`, or an XML path such as `Document/BkToCstmrStmt/Stmt[1]/Ntry[2]/Amt`.
    pub position: String,
    /// The record type: `16 (transaction detail)`, `6 (entry detail)`, `Ntry`.
    pub record: String,
    pub field: String,
    pub message: String,
}

impl ParseError {
    pub fn new(position: impl Into<String>, record: impl Into<String>, field: impl Into<String>, message: impl Into<String>) -> ParseError {
        ParseError { position: position.into(), record: record.into(), field: field.into(), message: message.into() }
    }
}

/// One entry of an ACH batch: the remittance it pays and its trace number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExpectedEntry {
    /// The entry's trace number (15 digits: ODFI routing prefix and sequence).
    pub trace_number: String,
    pub remittance_id: Uuid,
    pub amount: Money,
}

/// What the payer expects to see at the bank for one ACH batch a payment
/// run sent: one debit of the batch's total on its effective date,
/// referencing the company id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExpectedDebit {
    pub run_id: Uuid,
    pub batch_number: u32,
    /// The batch header's company identification (10 characters).
    pub company_id: String,
    pub effective_date: Date,
    pub amount: Money,
    pub entries: Vec<ExpectedEntry>,
}

impl ExpectedDebit {
    /// What the bank should show for `batch`, the ACH batch run `run_id`
    /// sent: its total as one debit, and its payment entries by trace
    /// (prenotes carry no money and no remittance, so they are left out).
    pub fn of_batch(run_id: Uuid, batch: &crate::domain::ach::AchBatch) -> ExpectedDebit {
        ExpectedDebit {
            run_id,
            batch_number: batch.batch_number,
            company_id: batch.company_id.clone(),
            effective_date: batch.effective_date,
            amount: batch.total_debit,
            entries: batch
                .entries
                .iter()
                .filter(|entry| !entry.prenote)
                .filter_map(|entry| Some(ExpectedEntry { trace_number: entry.trace_number.clone(), remittance_id: entry.remittance_id?, amount: entry.amount }))
                .collect(),
        }
    }
}

/// Which batch: a run and a batch number in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BatchKey {
    pub run_id: Uuid,
    pub batch_number: u32,
}

impl ExpectedDebit {
    pub fn key(&self) -> BatchKey {
        BatchKey { run_id: self.run_id, batch_number: self.batch_number }
    }
}

/// Parses an unsigned amount in whole cents (BAI2, NACHA): digits only.
pub(crate) fn cents_field(text: &str) -> Option<Money> {
    if text.is_empty() || text.len() > 17 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<i64>().ok().map(Money::from_cents)
}

/// Parses `YYMMDD` (BAI2, NACHA) as 20YY-MM-DD.
pub(crate) fn yymmdd(text: &str) -> Option<Date> {
    if text.len() != 6 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year = 2000 + text[0..2].parse::<i32>().ok()?;
    let month = time::Month::try_from(text[2..4].parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(year, month, text[4..6].parse().ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_codes_are_nacha_r_and_c_codes_or_iso_reasons() {
        assert!(ReasonCode::parse("R01").is_some_and(|code| !code.is_change_notification()));
        assert!(ReasonCode::parse("C05").is_some_and(|code| code.is_change_notification()));
        assert!(ReasonCode::parse("AC04").is_some_and(|code| !code.is_change_notification()));
        for bad in ["", "R1", "X01", "R0A", "ac04", "R001"] {
            assert_eq!(ReasonCode::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_format_is_told_by_media_type_else_by_the_first_bytes() {
        assert_eq!(StatementFormat::detect(Some("application/x-bai2"), b""), Some(StatementFormat::Bai2));
        assert_eq!(StatementFormat::detect(Some("application/xml; charset=utf-8"), b""), Some(StatementFormat::Camt053));
        assert_eq!(StatementFormat::detect(Some("application/x-nacha"), b""), Some(StatementFormat::NachaReturns));
        assert_eq!(StatementFormat::detect(Some("text/plain"), b"01,121000248,X"), Some(StatementFormat::Bai2));
        assert_eq!(StatementFormat::detect(None, b"\n  <?xml version"), Some(StatementFormat::Camt053));
        let nacha = nacha_returns::tests::sample();
        assert_eq!(StatementFormat::detect(None, nacha.as_bytes()), Some(StatementFormat::NachaReturns));
        assert_eq!(StatementFormat::detect(None, b"hello"), None);
        assert_eq!(StatementFormat::detect(Some("application/json"), b"01,"), None);
    }

    #[test]
    fn cents_and_dates_are_read_strictly() {
        assert_eq!(cents_field("101540"), Some(Money::parse("1015.40").unwrap()));
        assert_eq!(cents_field("10.40"), None);
        assert_eq!(cents_field("-5"), None);
        assert_eq!(yymmdd("261208"), Some(time::macros::date!(2026 - 12 - 08)));
        assert_eq!(yymmdd("261332"), None);
    }
}
