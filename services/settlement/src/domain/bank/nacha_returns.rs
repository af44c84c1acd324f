//! A NACHA file of returns and notifications of change, as the ODFI sends it
//! back to the payer: 94-character records, file header 1, batch header 5,
//! entry detail 6 each followed by its addenda 7 (type 99: a return with its
//! R-code; type 98: a notification of change with its C-code and corrected
//! data; both carry the original entry's trace number), batch control 8 and
//! file control 9 (then 9-filled padding). Counts, entry hashes and debit and
//! credit totals of every batch and of the file are checked; a fault names
//! its line, record and field (with the positions of the field).

use time::Date;

use super::{BankStatement, Direction, LineKind, ParseError, ReasonCode, ReturnInfo, StatementFormat, StatementLine, cents_field, yymmdd};

const RECORD_LEN: usize = 94;
const ENTRY_HASH_MODULUS: u64 = 10_000_000_000;

struct Record<'a> {
    line: usize,
    text: &'a str,
}

impl<'a> Record<'a> {
    fn code(&self) -> &'a str {
        &self.text[..1]
    }

    fn error(&self, field: &str, from: usize, to: usize, message: impl Into<String>) -> ParseError {
        ParseError::new(format!("line {}", self.line), record_name(self.code()), format!("{field} (positions {from}-{to})"), message)
    }

    /// Positions `from`..=`to`, 1-based as the NACHA rules number them.
    fn slice(&self, from: usize, to: usize) -> &'a str {
        &self.text[from - 1..to]
    }

    fn number(&self, field: &str, from: usize, to: usize) -> Result<u64, ParseError> {
        let value = self.slice(from, to);
        if !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.error(field, from, to, format!("`{value}` is not a number")));
        }
        value.parse().map_err(|_| self.error(field, from, to, format!("`{value}` is not a number")))
    }

    fn cents(&self, field: &str, from: usize, to: usize) -> Result<i64, ParseError> {
        let value = self.slice(from, to);
        cents_field(value).and_then(|money| money.to_cents()).ok_or_else(|| self.error(field, from, to, format!("`{value}` is not an amount in cents")))
    }

    fn date(&self, field: &str, from: usize, to: usize) -> Result<Date, ParseError> {
        let value = self.slice(from, to);
        yymmdd(value).ok_or_else(|| self.error(field, from, to, format!("`{value}` is not a date (YYMMDD)")))
    }

    fn digits(&self, field: &str, from: usize, to: usize) -> Result<&'a str, ParseError> {
        let value = self.slice(from, to);
        if value.bytes().all(|b| b.is_ascii_digit()) { Ok(value) } else { Err(self.error(field, from, to, format!("`{value}` is not all digits"))) }
    }
}

fn record_name(code: &str) -> String {
    let name = match code {
        "1" => "file header",
        "5" => "batch header",
        "6" => "entry detail",
        "7" => "addenda",
        "8" => "batch control",
        "9" => "file control",
        _ => return format!("`{code}`"),
    };
    format!("{code} ({name})")
}

/// Whether a transaction code moves money as a credit (true) or a debit (false) in the control totals.
fn is_credit_code(code: u64) -> Option<bool> {
    match code % 10 {
        1..=4 => Some(true),
        6..=9 => Some(false),
        _ => None,
    }
}

/// Running control totals of a batch or the file.
#[derive(Default)]
struct Totals {
    entries_and_addenda: u64,
    entry_hash: u64,
    debit_cents: i64,
    credit_cents: i64,
}

impl Totals {
    fn check(
        &self,
        record: &Record,
        count_at: (usize, usize),
        hash_at: (usize, usize),
        debit_at: (usize, usize),
        credit_at: (usize, usize),
    ) -> Result<(), ParseError> {
        let count = record.number("entry/addenda count", count_at.0, count_at.1)?;
        if count != self.entries_and_addenda {
            return Err(record.error(
                "entry/addenda count",
                count_at.0,
                count_at.1,
                format!("{count}, but there are {} entry and addenda records", self.entries_and_addenda),
            ));
        }
        let hash = record.number("entry hash", hash_at.0, hash_at.1)?;
        if hash != self.entry_hash % ENTRY_HASH_MODULUS {
            return Err(record.error(
                "entry hash",
                hash_at.0,
                hash_at.1,
                format!("{hash} does not equal the sum of the entries' RDFI routing numbers, {}", self.entry_hash % ENTRY_HASH_MODULUS),
            ));
        }
        let debit = record.cents("total debit amount", debit_at.0, debit_at.1)?;
        if debit != self.debit_cents {
            return Err(record.error(
                "total debit amount",
                debit_at.0,
                debit_at.1,
                format!("{debit} does not equal the debit entries' sum, {}", self.debit_cents),
            ));
        }
        let credit = record.cents("total credit amount", credit_at.0, credit_at.1)?;
        if credit != self.credit_cents {
            return Err(record.error(
                "total credit amount",
                credit_at.0,
                credit_at.1,
                format!("{credit} does not equal the credit entries' sum, {}", self.credit_cents),
            ));
        }
        Ok(())
    }
}

/// Reads a NACHA return / notification of change file whole.
pub fn parse(bytes: &[u8]) -> Result<BankStatement, ParseError> {
    let text = std::str::from_utf8(bytes).map_err(|_| ParseError::new("line 1", "?", "text", "not ASCII text"))?;
    let mut records = Vec::new();
    for (line_idx, raw) in text.lines().enumerate() {
        let raw = raw.trim_end_matches('\r');
        let line = line_idx + 1;
        if raw.is_empty() {
            continue;
        }
        if !raw.is_ascii() || raw.len() != RECORD_LEN {
            let code = raw.get(..1).unwrap_or("?");
            return Err(ParseError::new(
                format!("line {line}"),
                record_name(code),
                "record length",
                format!("{} characters, but every NACHA record has {RECORD_LEN}: truncated or not ASCII", raw.chars().count()),
            ));
        }
        records.push(Record { line, text: raw });
    }
    let last_line = text.lines().count();
    let end = |expected: &str, what: &str| {
        ParseError::new(format!("line {}", last_line + 1), record_name(expected), "record type", format!("the file ends {what}: truncated"))
    };
    let mut cursor = records.iter().peekable();
    let header = cursor.next().ok_or_else(|| end("1", "before its file header"))?;
    if header.code() != "1" {
        return Err(header.error("record type", 1, 1, "a NACHA file starts with its 1 (file header)"));
    }
    let origin = header.slice(14, 23).trim().to_owned();
    let created = header.date("file creation date", 24, 29)?;
    let created_time = header.digits("file creation time", 30, 33)?;
    let modifier = header.slice(34, 34);
    if header.slice(35, 37) != "094" {
        return Err(header.error("record size", 35, 37, format!("`{}`, not 094", header.slice(35, 37))));
    }

    let mut lines = Vec::new();
    let mut file_totals = Totals::default();
    let mut n_batches = 0u64;
    let (mut from_date, mut to_date) = (created, created);
    let mut dated = false;
    loop {
        let record = cursor.next().ok_or_else(|| end("9", "without its 9 (file control)"))?;
        match record.code() {
            "5" => {}
            "9" => {
                let batches = record.number("batch count", 2, 7)?;
                if batches != n_batches {
                    return Err(record.error("batch count", 2, 7, format!("{batches}, but the file has {n_batches} batches")));
                }
                file_totals.check(record, (14, 21), (22, 31), (32, 43), (44, 55))?;
                let blocks = record.number("block count", 8, 13)?;
                let n_records = records.len() as u64;
                if blocks != n_records.div_ceil(10) {
                    return Err(record.error("block count", 8, 13, format!("{blocks}, but {n_records} records make {} blocks of 10", n_records.div_ceil(10))));
                }
                for padding in cursor.by_ref() {
                    if padding.text.bytes().any(|b| b != b'9') {
                        return Err(padding.error("record type", 1, 1, "only 9-filled padding may follow the 9 (file control)"));
                    }
                }
                break;
            }
            _ => return Err(record.error("record type", 1, 1, "expected a 5 (batch header) or the 9 (file control)")),
        }
        let batch = record;
        let company_id = batch.slice(41, 50).to_owned();
        let sec = batch.slice(51, 53).to_owned();
        let effective = batch.date("effective entry date", 70, 75)?;
        let batch_number = batch.number("batch number", 88, 94)?;
        (from_date, to_date) = if dated { (from_date.min(effective), to_date.max(effective)) } else { (effective, effective) };
        dated = true;
        let mut totals = Totals::default();
        loop {
            let entry = cursor.next().ok_or_else(|| end("8", "inside a batch"))?;
            match entry.code() {
                "6" => {}
                "8" => {
                    totals.check(entry, (5, 10), (11, 20), (21, 32), (33, 44))?;
                    if entry.slice(45, 54) != company_id {
                        return Err(entry.error(
                            "company identification",
                            45,
                            54,
                            format!("`{}` differs from the batch header's `{company_id}`", entry.slice(45, 54)),
                        ));
                    }
                    let control_number = entry.number("batch number", 88, 94)?;
                    if control_number != batch_number {
                        return Err(entry.error("batch number", 88, 94, format!("{control_number} differs from the batch header's {batch_number}")));
                    }
                    file_totals.entries_and_addenda += totals.entries_and_addenda;
                    file_totals.entry_hash += totals.entry_hash;
                    file_totals.debit_cents += totals.debit_cents;
                    file_totals.credit_cents += totals.credit_cents;
                    n_batches += 1;
                    break;
                }
                _ => return Err(entry.error("record type", 1, 1, "expected a 6 (entry detail) or the batch's 8 (batch control)")),
            }
            let transaction_code = entry.number("transaction code", 2, 3)?;
            let is_credit = is_credit_code(transaction_code)
                .ok_or_else(|| entry.error("transaction code", 2, 3, format!("{transaction_code:02} is neither a credit nor a debit code")))?;
            let routing = entry.number("receiving DFI identification", 4, 11)?;
            let cents = entry.cents("amount", 30, 39)?;
            totals.entries_and_addenda += 1;
            totals.entry_hash += routing;
            if is_credit {
                totals.credit_cents += cents;
            } else {
                totals.debit_cents += cents;
            }
            if entry.slice(79, 79) != "1" {
                return Err(entry.error("addenda record indicator", 79, 79, "a return or notification of change carries its 99 or 98 addenda (indicator 1)"));
            }
            let addenda = match cursor.peek() {
                Some(addenda) if addenda.code() == "7" => cursor.next().expect("peeked"),
                _ => return Err(entry.error("addenda record indicator", 79, 79, "the entry's addenda record does not follow it")),
            };
            totals.entries_and_addenda += 1;
            let addenda_type = addenda.slice(2, 3);
            let reason_text = addenda.slice(4, 6);
            let reason = ReasonCode::parse(reason_text);
            let (reason, corrected_data) = match (addenda_type, reason) {
                ("99", Some(code)) if !code.is_change_notification() => (code, None),
                ("98", Some(code)) if code.is_change_notification() => (code, Some(addenda.slice(36, 64).trim().to_owned())),
                ("99", _) => return Err(addenda.error("return reason code", 4, 6, format!("`{reason_text}` is not a return reason (R01-R99)"))),
                ("98", _) => return Err(addenda.error("change code", 4, 6, format!("`{reason_text}` is not a change code (C01-C99)"))),
                (other, _) => {
                    return Err(addenda.error(
                        "addenda type code",
                        2,
                        3,
                        format!("`{other}`: a return file's addenda are 99 (return) or 98 (notification of change)"),
                    ));
                }
            };
            let original_trace = addenda.digits("original entry trace number", 7, 21)?.to_owned();
            let trace = entry.digits("trace number", 80, 94)?;
            lines.push(StatementLine {
                position: format!("line {}", entry.line),
                direction: if is_credit { Direction::Credit } else { Direction::Debit },
                kind: LineKind::AchReturn,
                amount: claimtrail_events::Money::from_cents(cents),
                date: effective,
                type_code: format!("{transaction_code:02}"),
                reference: format!("{sec} {} trace {trace}", company_id.trim()),
                return_info: Some(ReturnInfo { original_trace, reason, corrected_data }),
            });
        }
    }
    Ok(BankStatement {
        format: StatementFormat::NachaReturns,
        statement_id: format!("nacha:{origin}:{}{created_time}:{modifier}", header.slice(24, 29)),
        account: String::new(),
        from_date,
        to_date,
        lines,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Pads or checks a record to 94 characters.
    fn record(text: &str) -> String {
        assert!(text.len() <= RECORD_LEN, "{text}");
        format!("{text:<94}")
    }

    /// A return file: one R03 return of a 120.00 credit and one C01 notification of change.
    pub(crate) fn sample() -> String {
        let lines = [
            record("101 121000248 0910000102612091200A094101PAYER BANK             PAYERCO"),
            record("5200PAYERCO                             1123456789PPDHCCLAIMPMT      261208   1091000010000001"),
            record("621091000019123456789        0000012000PROV-1         PROVIDER ONE            1091000010000101"),
            record("799R03091000010000002      09100001                                            091000010000101"),
            record("621091000019987654321        0000000000PROV-2         PROVIDER TWO            1091000010000102"),
            record("798C01091000010000003      091000011234567890123                               091000010000102"),
            record("820000000400182000020000000000000000000120001123456789                         091000010000001"),
            record("9000001000001000000040018200002000000000000000000012000"),
        ];
        let mut file: String = lines.iter().map(|line| format!("{line}\n")).collect();
        file.push_str(&format!("{}\n", "9".repeat(94)).repeat(2));
        file
    }

    fn error_of(text: &str) -> String {
        parse(text.as_bytes()).unwrap_err().to_string()
    }

    #[test]
    fn returns_and_notifications_of_change_are_read_by_original_trace() {
        let statement = parse(sample().as_bytes()).unwrap();
        assert_eq!(statement.statement_id, "nacha:091000010:2612091200:A");
        let [returned, changed] = statement.lines.try_into().unwrap();
        assert_eq!((returned.kind, returned.direction, returned.amount.to_string()), (LineKind::AchReturn, Direction::Credit, "120.00".into()));
        let info = returned.return_info.unwrap();
        assert_eq!((info.reason.as_str(), info.original_trace.as_str(), info.corrected_data), ("R03", "091000010000002", None));
        assert_eq!(returned.position, "line 3");
        let info = changed.return_info.unwrap();
        assert_eq!((info.reason.as_str(), info.original_trace.as_str()), ("C01", "091000010000003"));
        assert_eq!(info.corrected_data.as_deref(), Some("1234567890123"));
        assert!(changed.amount.is_zero());
    }

    #[test]
    fn a_wrong_batch_total_names_the_batch_control() {
        let text = sample().replacen("0000000000000000000120001123456789", "0000000000000000000120011123456789", 1);
        assert_eq!(
            error_of(&text),
            "line 7, record 8 (batch control), field total credit amount (positions 33-44): 12001 does not equal the credit entries' sum, 12000"
        );
    }

    #[test]
    fn a_wrong_entry_hash_or_count_is_refused() {
        let text = sample().replacen("82000000040018200002", "82000000040018200003", 1);
        assert_eq!(
            error_of(&text),
            "line 7, record 8 (batch control), field entry hash (positions 11-20): 18200003 does not equal the sum of the entries' RDFI routing numbers, 18200002"
        );
        let text = sample().replacen("820000000400", "820000000300", 1);
        assert_eq!(
            error_of(&text),
            "line 7, record 8 (batch control), field entry/addenda count (positions 5-10): 3, but there are 4 entry and addenda records"
        );
    }

    #[test]
    fn a_truncated_record_is_refused_with_its_length() {
        let text = sample().replacen("PROVIDER ONE            1091000010000101", "PROVIDER ONE", 1);
        assert_eq!(
            error_of(&text),
            "line 3, record 6 (entry detail), field record length: 66 characters, but every NACHA record has 94: truncated or not ASCII"
        );
        let cut: String = sample().lines().take(4).map(|line| format!("{line}\n")).collect();
        assert_eq!(error_of(&cut), "line 5, record 8 (batch control), field record type: the file ends inside a batch: truncated");
    }

    #[test]
    fn a_bad_amount_or_reason_is_refused() {
        let text = sample().replacen("0000012000PROV-1", "00000120X0PROV-1", 1);
        assert_eq!(error_of(&text), "line 3, record 6 (entry detail), field amount (positions 30-39): `00000120X0` is not an amount in cents");
        let text = sample().replacen("799R03", "799C03", 1);
        assert_eq!(error_of(&text), "line 4, record 7 (addenda), field return reason code (positions 4-6): `C03` is not a return reason (R01-R99)");
    }
}
