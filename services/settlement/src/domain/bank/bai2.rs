//! BAI2 (Cash Management Balance Reporting Specification, version 2), read
//! whole: file header 01, group header 02, account identifier 03,
//! transaction detail 16, continuation 88, and the trailers 49, 98 and 99
//! whose control totals and record counts are checked.
//!
//! Records are comma separated and end with `/` (a 16 record's text may
//! run to the end of the line). An 88 record continues the record before
//! it. Amounts are whole cents, unsigned in 16 records, optionally signed
//! in summaries and trailers. Control totals: an account's is the sum of
//! its 03 amounts and 16 amounts; a group's the sum of its accounts'; the
//! file's the sum of its groups'. Record counts include the header and
//! trailer themselves and every 88.
//!
//! Detail type codes 100-399 are credits, 400-699 debits. ACH settlement
//! debits are 451, 455, 466 and 469; a returned ACH entry is 257
//! (individual ACH return item), with the reason (`R01`, `C05`) and the
//! original entry's 15-digit trace number in its text.

use time::Date;

use super::{BankStatement, Direction, LineKind, ParseError, ReasonCode, ReturnInfo, StatementFormat, StatementLine, yymmdd};

/// Detail type codes of the settlement debit of originated ACH credits.
pub const ACH_DEBIT_TYPE_CODES: [&str; 4] = ["451", "455", "466", "469"];
/// Detail type code of an individual ACH return item.
pub const ACH_RETURN_TYPE_CODE: &str = "257";

/// One logical record: its first physical line, its fields, and how many physical records (with 88s) it took.
struct Record {
    line: usize,
    fields: Vec<String>,
}

impl Record {
    fn code(&self) -> &str {
        &self.fields[0]
    }

    fn name(&self) -> String {
        record_name(self.code())
    }

    fn error(&self, field: &str, message: impl Into<String>) -> ParseError {
        ParseError::new(format!("line {}", self.line), self.name(), field, message)
    }

    fn field(&self, idx: usize, name: &str) -> Result<&str, ParseError> {
        self.fields.get(idx).map(String::as_str).ok_or_else(|| self.error(name, format!("missing: the record has {} fields", self.fields.len())))
    }

    fn required(&self, idx: usize, name: &str) -> Result<&str, ParseError> {
        let value = self.field(idx, name)?;
        if value.is_empty() { Err(self.error(name, "required, but empty")) } else { Ok(value) }
    }

    fn date(&self, idx: usize, name: &str) -> Result<Date, ParseError> {
        let value = self.required(idx, name)?;
        yymmdd(value).ok_or_else(|| self.error(name, format!("`{value}` is not a date (YYMMDD)")))
    }

    /// A signed amount in cents (empty is zero, as in summaries without an amount).
    fn signed_cents(&self, idx: usize, name: &str) -> Result<i64, ParseError> {
        let value = self.field(idx, name)?;
        signed_cents(value).ok_or_else(|| self.error(name, format!("`{value}` is not an amount in whole cents")))
    }

    fn count(&self, idx: usize, name: &str) -> Result<i64, ParseError> {
        let value = self.required(idx, name)?;
        value
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0 && value.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| self.error(name, format!("`{value}` is not a count")))
    }
}

fn record_name(code: &str) -> String {
    let name = match code {
        "01" => "file header",
        "02" => "group header",
        "03" => "account identifier",
        "16" => "transaction detail",
        "88" => "continuation",
        "49" => "account trailer",
        "98" => "group trailer",
        "99" => "file trailer",
        _ => return format!("`{code}`"),
    };
    format!("{code} ({name})")
}

fn signed_cents(text: &str) -> Option<i64> {
    if text.is_empty() {
        return Some(0);
    }
    let (sign, digits) = match text.as_bytes()[0] {
        b'-' => (-1, &text[1..]),
        b'+' => (1, &text[1..]),
        _ => (1, text),
    };
    if digits.is_empty() || digits.len() > 17 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<i64>().ok().map(|cents| sign * cents)
}

/// Splits the file into logical records, joining each 88 onto the record before it.
fn records(text: &str) -> Result<(Vec<Record>, Vec<usize>), ParseError> {
    let mut records: Vec<Record> = Vec::new();
    // For each logical record, how many physical records it spans.
    let mut physical: Vec<usize> = Vec::new();
    for (line_idx, raw) in text.lines().enumerate() {
        let line = line_idx + 1;
        let raw = raw.trim_end_matches('\r');
        if raw.trim().is_empty() {
            continue;
        }
        let body = raw.strip_suffix('/').unwrap_or(raw);
        let fields: Vec<String> = body.split(',').map(|field| field.trim().to_owned()).collect();
        let code = fields[0].clone();
        if code == "88" {
            let Some(previous) = records.last_mut() else {
                return Err(ParseError::new(format!("line {line}"), record_name("88"), "record type", "a continuation with no record before it"));
            };
            previous.fields.extend(fields.into_iter().skip(1));
            if let Some(count) = physical.last_mut() {
                *count += 1;
            }
            continue;
        }
        if !matches!(code.as_str(), "01" | "02" | "03" | "16" | "49" | "98" | "99") {
            return Err(ParseError::new(format!("line {line}"), record_name(&code), "record type", format!("`{code}` is not a BAI2 record type")));
        }
        records.push(Record { line, fields });
        physical.push(1);
    }
    Ok((records, physical))
}

/// Reads a BAI2 file whole: the statement, or the first fault.
pub fn parse(bytes: &[u8]) -> Result<BankStatement, ParseError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() + 1;
        ParseError::new(format!("line {line}"), "?", "text", "not ASCII/UTF-8 text")
    })?;
    let (records, physical) = records(text)?;
    let last_line = text.lines().count();
    let Some(header) = records.first() else {
        return Err(ParseError::new("line 1", record_name("01"), "record type", "the file is empty"));
    };
    if header.code() != "01" {
        return Err(header.error("record type", "a BAI2 file starts with its 01 (file header)"));
    }
    let sender = header.required(1, "sender identification")?.to_owned();
    let receiver = header.required(2, "receiver identification")?.to_owned();
    header.date(3, "file creation date")?;
    let created_text = header.field(3, "file creation date")?.to_owned();
    let created_time = header.field(4, "file creation time")?.to_owned();
    let file_id = header.required(5, "file identification number")?.to_owned();
    let version = header.field(8, "version number")?;
    if version != "2" {
        return Err(header.error("version number", format!("`{version}`: only BAI version 2 is read")));
    }

    let mut lines = Vec::new();
    let mut account = String::new();
    let (mut from_date, mut to_date): (Option<Date>, Option<Date>) = (None, None);
    let (mut file_total, mut file_groups, mut file_records) = (0i64, 0i64, physical[0] as i64);
    let mut idx = 1;
    let overflow = |record: &Record, field: &str| record.error(field, "the control total overflows");
    loop {
        let Some(record) = records.get(idx) else {
            return Err(ParseError::new(
                format!("line {}", last_line + 1),
                record_name("99"),
                "record type",
                "the file ends without its 99 (file trailer): truncated",
            ));
        };
        match record.code() {
            "02" => {}
            "99" => {
                let total = record.signed_cents(1, "file control total")?;
                if total != file_total {
                    return Err(record.error("file control total", format!("{total} does not equal the sum of the group control totals, {file_total}")));
                }
                let groups = record.count(2, "number of groups")?;
                if groups != file_groups {
                    return Err(record.error("number of groups", format!("{groups}, but the file has {file_groups}")));
                }
                file_records += physical[idx] as i64;
                let count = record.count(3, "number of records")?;
                if count != file_records {
                    return Err(record.error("number of records", format!("{count}, but the file has {file_records} records")));
                }
                if let Some(extra) = records.get(idx + 1) {
                    return Err(extra.error("record type", "a record after the 99 (file trailer)"));
                }
                break;
            }
            _ => return Err(record.error("record type", "expected a 02 (group header) or the 99 (file trailer)")),
        }
        // A group: 02, accounts, 98.
        let group = record;
        let status = group.required(3, "group status")?;
        if !matches!(status, "1" | "2" | "3" | "4") {
            return Err(group.error("group status", format!("`{status}` is not 1-4")));
        }
        let as_of = group.date(4, "as-of date")?;
        let currency = group.field(6, "currency code").unwrap_or("");
        if !currency.is_empty() && currency != "USD" {
            return Err(group.error("currency code", format!("`{currency}`: only USD statements are reconciled")));
        }
        from_date = Some(from_date.map_or(as_of, |d| d.min(as_of)));
        to_date = Some(to_date.map_or(as_of, |d| d.max(as_of)));
        let (mut group_total, mut group_accounts, mut group_records) = (0i64, 0i64, physical[idx] as i64);
        idx += 1;
        loop {
            let Some(record) = records.get(idx) else {
                return Err(ParseError::new(format!("line {}", last_line + 1), record_name("98"), "record type", "the file ends inside a group: truncated"));
            };
            match record.code() {
                "03" => {}
                "98" => {
                    let total = record.signed_cents(1, "group control total")?;
                    if total != group_total {
                        return Err(record.error("group control total", format!("{total} does not equal the sum of the account control totals, {group_total}")));
                    }
                    let accounts = record.count(2, "number of accounts")?;
                    if accounts != group_accounts {
                        return Err(record.error("number of accounts", format!("{accounts}, but the group has {group_accounts}")));
                    }
                    group_records += physical[idx] as i64;
                    let count = record.count(3, "number of records")?;
                    if count != group_records {
                        return Err(record.error("number of records", format!("{count}, but the group has {group_records} records")));
                    }
                    file_total = file_total.checked_add(group_total).ok_or_else(|| overflow(record, "group control total"))?;
                    file_groups += 1;
                    file_records += group_records;
                    idx += 1;
                    break;
                }
                _ => return Err(record.error("record type", "expected a 03 (account identifier) or the group's 98 (group trailer)")),
            }
            // An account: 03, 16s, 49.
            let header = record;
            account = header.required(1, "customer account number")?.to_owned();
            let currency = header.field(2, "currency code").unwrap_or("");
            if !currency.is_empty() && currency != "USD" {
                return Err(header.error("currency code", format!("`{currency}`: only USD statements are reconciled")));
            }
            let mut account_total = summary_total(header)?;
            let mut account_records = physical[idx] as i64;
            idx += 1;
            loop {
                let Some(record) = records.get(idx) else {
                    return Err(ParseError::new(
                        format!("line {}", last_line + 1),
                        record_name("49"),
                        "record type",
                        "the file ends inside an account: truncated",
                    ));
                };
                match record.code() {
                    "16" => {
                        let line = detail(record, as_of)?;
                        let cents = line.amount.cents().map_err(|e| record.error("amount", e.to_string()))?;
                        account_total = account_total.checked_add(cents).ok_or_else(|| overflow(record, "amount"))?;
                        account_records += physical[idx] as i64;
                        lines.push(line);
                        idx += 1;
                    }
                    "49" => {
                        let total = record.signed_cents(1, "account control total")?;
                        if total != account_total {
                            return Err(record.error("account control total", format!("{total} does not equal the account's amounts, {account_total}")));
                        }
                        account_records += physical[idx] as i64;
                        let count = record.count(2, "number of records")?;
                        if count != account_records {
                            return Err(record.error("number of records", format!("{count}, but the account has {account_records} records")));
                        }
                        group_total = group_total.checked_add(account_total).ok_or_else(|| overflow(record, "account control total"))?;
                        group_accounts += 1;
                        group_records += account_records;
                        idx += 1;
                        break;
                    }
                    _ => return Err(record.error("record type", "expected a 16 (transaction detail) or the account's 49 (account trailer)")),
                }
            }
        }
    }
    let (Some(from_date), Some(to_date)) = (from_date, to_date) else {
        return Err(header.error("record type", "the file has no group"));
    };
    Ok(BankStatement {
        format: StatementFormat::Bai2,
        statement_id: format!("bai2:{sender}:{receiver}:{created_text}:{created_time}:{file_id}"),
        account,
        from_date,
        to_date,
        lines,
    })
}

/// The sum of a 03 record's summary amounts: groups of (type code, amount, item count, funds type and its extras).
fn summary_total(record: &Record) -> Result<i64, ParseError> {
    let mut total = 0i64;
    let mut idx = 3;
    while idx < record.fields.len() {
        let type_code = record.field(idx, "type code")?;
        if type_code.is_empty() && record.fields[idx..].iter().all(String::is_empty) {
            break;
        }
        let amount = record.signed_cents(idx + 1, "summary amount")?;
        total = total.checked_add(amount).ok_or_else(|| record.error("summary amount", "the control total overflows"))?;
        let (_, after) = funds_type(record, idx + 3)?;
        idx = after;
    }
    Ok(total)
}

/// Reads a funds type at `idx` and skips its extra fields: the value date
/// (for `V`) and the index of the field after it.
fn funds_type(record: &Record, idx: usize) -> Result<(Option<Date>, usize), ParseError> {
    let code = record.field(idx, "funds type").unwrap_or("");
    Ok(match code {
        "" | "0" | "1" | "2" | "Z" => (None, idx + 1),
        "V" => (Some(record.date(idx + 1, "value date")?), idx + 3),
        "S" => {
            for offset in 1..=3 {
                record.signed_cents(idx + offset, "availability amount")?;
            }
            (None, idx + 4)
        }
        "D" => {
            let n_distributions = record.count(idx + 1, "number of distributions")? as usize;
            for distribution_idx in 0..n_distributions {
                record.count(idx + 2 + 2 * distribution_idx, "availability days")?;
                record.signed_cents(idx + 3 + 2 * distribution_idx, "availability amount")?;
            }
            (None, idx + 2 + 2 * n_distributions)
        }
        other => return Err(record.error("funds type", format!("`{other}` is not a funds type (0, 1, 2, Z, V, S or D)"))),
    })
}

/// A 16 record: type code, amount, funds type (and extras), bank reference, customer reference, text.
fn detail(record: &Record, as_of: Date) -> Result<StatementLine, ParseError> {
    let type_code = record.required(1, "type code")?;
    let number: u16 = type_code
        .parse()
        .ok()
        .filter(|_| type_code.len() == 3 && type_code.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| record.error("type code", format!("`{type_code}` is not a three-digit type code")))?;
    let direction = match number {
        100..=399 => Direction::Credit,
        400..=699 => Direction::Debit,
        _ => return Err(record.error("type code", format!("`{type_code}` is not a detail type code (100-399 credits, 400-699 debits)"))),
    };
    let amount_text = record.required(2, "amount")?;
    let amount = super::cents_field(amount_text).ok_or_else(|| record.error("amount", format!("`{amount_text}` is not an amount in whole cents")))?;
    let (value_date, after) = funds_type(record, 3)?;
    let bank_reference = record.field(after, "bank reference number")?;
    let customer_reference = record.field(after + 1, "customer reference number")?;
    let text = record.fields.get(after + 2..).map(|rest| rest.join(",")).unwrap_or_default();
    let reference = [bank_reference, customer_reference, text.trim()].iter().filter(|part| !part.is_empty()).copied().collect::<Vec<_>>().join(" ");
    let kind = if ACH_DEBIT_TYPE_CODES.contains(&type_code) {
        LineKind::AchDebit
    } else if type_code == ACH_RETURN_TYPE_CODE {
        LineKind::AchReturn
    } else {
        LineKind::Other
    };
    let return_info = if kind == LineKind::AchReturn { return_in_text(&reference) } else { None };
    Ok(StatementLine {
        position: format!("line {}", record.line),
        direction,
        kind,
        amount,
        date: value_date.unwrap_or(as_of),
        type_code: type_code.to_owned(),
        reference,
        return_info,
    })
}

/// The reason code and 15-digit original trace a bank writes in a return's text, when both are there.
fn return_in_text(text: &str) -> Option<ReturnInfo> {
    let tokens: Vec<&str> = text.split(|c: char| !c.is_ascii_alphanumeric()).filter(|token| !token.is_empty()).collect();
    let reason = tokens.iter().find_map(|token| ReasonCode::parse(token).filter(|code| code.as_str().len() == 3))?;
    let trace = tokens.iter().find(|token| token.len() == 15 && token.bytes().all(|b| b.is_ascii_digit()))?;
    Some(ReturnInfo { original_trace: (*trace).to_owned(), reason, corrected_data: None })
}

/// Who sends a written BAI2 file, to whom, when, and for which account ([`write_debits`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bai2Header {
    /// The bank (sender identification).
    pub sender: String,
    /// The payer (receiver identification).
    pub receiver: String,
    pub created_on: Date,
    /// Positive whole number, unique per sender, receiver and day: what identifies the file.
    pub file_id: u32,
    /// The payer's account number at the bank.
    pub account: String,
}

/// A BAI2 file as the payer's bank would report `debits`: one group per
/// effective (as-of) date, the payer's account with its opening ledger (010,
/// zero) and closing ledger (015, minus what left), and one 466 (ACH
/// settlement) debit per batch above zero naming the batch's company id, as
/// [`crate::domain::bank::matcher`] looks for it. Control totals and record
/// counts as [`parse`] checks them. Used by `up --demo` to write the
/// statement of its payment cycle.
pub fn write_debits(header: &Bai2Header, debits: &[super::ExpectedDebit]) -> String {
    let yymmdd = |date: Date| format!("{:02}{:02}{:02}", date.year() % 100, u8::from(date.month()), date.day());
    let mut by_date: std::collections::BTreeMap<Date, Vec<&super::ExpectedDebit>> = std::collections::BTreeMap::new();
    for debit in debits.iter().filter(|debit| !debit.amount.is_zero()) {
        by_date.entry(debit.effective_date).or_default().push(debit);
    }
    let mut records = vec![format!("01,{},{},{},0600,{},80,1,2/", header.sender, header.receiver, yymmdd(header.created_on), header.file_id)];
    // Every control total is 0: an account's summaries (0 and −out) and its details (+out) cancel.
    let mut file_records = 2usize;
    for (idx, (date, batches)) in by_date.iter().enumerate() {
        let cents: Vec<i64> = batches.iter().map(|batch| batch.amount.to_cents().unwrap_or(0)).collect();
        let out: i64 = cents.iter().sum();
        records.push(format!("02,{},{},1,{},0600,USD,2/", header.receiver, header.sender, yymmdd(*date)));
        records.push(format!("03,{},USD,010,0,,,015,-{out},,/", header.account));
        for (n, (batch, amount)) in batches.iter().zip(&cents).enumerate() {
            let company = batch.company_id.trim();
            records.push(format!("16,466,{amount},0,ACH{:02}{:04},{company},ACH SETTLEMENT HCCLAIMPMT CO ID {company}/", idx + 1, n + 1));
        }
        // 03, its 16s and 49.
        let account_records = batches.len() + 2;
        records.push(format!("49,0,{account_records}/"));
        records.push(format!("98,0,1,{}/", account_records + 2));
        file_records += account_records + 2;
    }
    records.push(format!("99,0,{},{file_records}/", by_date.len()));
    let mut text = records.join("\n");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    /// A day's report for one account: opening and closing ledger balances,
    /// the settlement debit of one ACH batch, a return with its reason and
    /// trace continued on an 88, and a fee.
    pub(crate) const SAMPLE: &str = "\
01,121000248,PAYERCO01,261208,0600,42,80,1,2/
02,PAYERCO01,121000248,1,261208,0600,USD,2/
03,1234567890,USD,010,5000000,,,015,3978200,,/
16,466,101540,0,BR100001,1123456789,ACH SETTLEMENT HCCLAIMPMT CO ID 1123456789/
16,257,12000,0,BR100002,,ACH RETURN R03/
88,TRACE 091000010000002/
16,475,260,0,BR100003,,ACCOUNT ANALYSIS FEE/
49,9092000,6/
98,9092000,1,8/
99,9092000,1,10/
";

    #[test]
    fn a_written_statement_reads_back_and_matches_every_batch_it_shows() {
        use crate::domain::bank::{ExpectedDebit, matcher};
        use claimtrail_events::Money;
        let debit = |run: u128, on: Date, cents: i64| ExpectedDebit {
            run_id: uuid::Uuid::from_u128(run),
            batch_number: 1,
            company_id: "1251234567".into(),
            effective_date: on,
            amount: Money::from_cents(cents),
            entries: vec![],
        };
        let debits = [debit(1, date!(2026 - 12 - 08), 11_880), debit(2, date!(2026 - 12 - 08), 50_000), debit(3, date!(2026 - 12 - 09), 0)];
        let header =
            Bai2Header { sender: "031000053".into(), receiver: "60054".into(), created_on: date!(2026 - 12 - 09), file_id: 7, account: "12345".into() };
        let text = write_debits(&header, &debits);
        let statement = parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(statement.statement_id, "bai2:031000053:60054:261209:0600:7");
        assert_eq!((statement.from_date, statement.to_date, statement.lines.len()), (date!(2026 - 12 - 08), date!(2026 - 12 - 08), 2));
        let reconciliation = matcher::reconcile(&statement, &debits, &Default::default());
        assert_eq!(reconciliation.matched.len(), 2, "{text}");
        assert!(reconciliation.exceptions.is_empty(), "{:?}", reconciliation.exceptions);
    }

    fn with(from: &str, to: &str) -> String {
        assert!(SAMPLE.contains(from), "{from}");
        SAMPLE.replacen(from, to, 1)
    }

    fn error_of(text: &str) -> String {
        parse(text.as_bytes()).unwrap_err().to_string()
    }

    #[test]
    fn a_days_report_is_read_with_its_ach_debit_and_return() {
        let statement = parse(SAMPLE.as_bytes()).unwrap();
        assert_eq!(statement.statement_id, "bai2:121000248:PAYERCO01:261208:0600:42");
        assert_eq!((statement.account.as_str(), statement.from_date, statement.to_date), ("1234567890", date!(2026 - 12 - 08), date!(2026 - 12 - 08)));
        let [debit, returned, fee] = statement.lines.try_into().unwrap();
        assert_eq!((debit.kind, debit.direction, debit.amount.to_string()), (LineKind::AchDebit, Direction::Debit, "1015.40".into()));
        assert_eq!(debit.reference, "BR100001 1123456789 ACH SETTLEMENT HCCLAIMPMT CO ID 1123456789");
        assert_eq!((debit.position.as_str(), debit.date), ("line 4", date!(2026 - 12 - 08)));
        assert_eq!((returned.kind, returned.direction, returned.amount.to_string()), (LineKind::AchReturn, Direction::Credit, "120.00".into()));
        let info = returned.return_info.unwrap();
        assert_eq!((info.reason.as_str(), info.original_trace.as_str()), ("R03", "091000010000002"));
        assert_eq!((fee.kind, fee.direction, fee.type_code.as_str()), (LineKind::Other, Direction::Debit, "475"));
    }

    #[test]
    fn a_value_dated_detail_takes_its_value_date() {
        let text = with("16,466,101540,0,BR100001", "16,466,101540,V,261209,,BR100001");
        let statement = parse(text.as_bytes()).unwrap();
        assert_eq!(statement.lines[0].date, date!(2026 - 12 - 09));
        assert_eq!(statement.lines[0].reference, "BR100001 1123456789 ACH SETTLEMENT HCCLAIMPMT CO ID 1123456789");
    }

    #[test]
    fn a_wrong_account_control_total_names_the_49_record() {
        assert_eq!(
            error_of(&with("49,9092000,6/", "49,9092001,6/")),
            "line 8, record 49 (account trailer), field account control total: 9092001 does not equal the account's amounts, 9092000"
        );
    }

    #[test]
    fn a_wrong_group_or_file_total_or_record_count_is_refused() {
        assert_eq!(
            error_of(&with("98,9092000,1,8/", "98,9092000,1,9/")),
            "line 9, record 98 (group trailer), field number of records: 9, but the group has 8 records"
        );
        assert_eq!(
            error_of(&with("99,9092000,1,10/", "99,9092100,1,10/")),
            "line 10, record 99 (file trailer), field file control total: 9092100 does not equal the sum of the group control totals, 9092000"
        );
        assert_eq!(
            error_of(&with("49,9092000,6/", "49,9092000,5/")),
            "line 8, record 49 (account trailer), field number of records: 5, but the account has 6 records"
        );
    }

    #[test]
    fn a_bad_amount_names_its_line_and_field() {
        assert_eq!(
            error_of(&with("16,466,101540,", "16,466,1015.40,")),
            "line 4, record 16 (transaction detail), field amount: `1015.40` is not an amount in whole cents"
        );
    }

    #[test]
    fn a_truncated_file_is_refused() {
        let truncated: String = SAMPLE.lines().take(7).map(|line| format!("{line}\n")).collect();
        assert_eq!(error_of(&truncated), "line 8, record 49 (account trailer), field record type: the file ends inside an account: truncated");
        let no_trailer: String = SAMPLE.lines().take(9).map(|line| format!("{line}\n")).collect();
        assert_eq!(error_of(&no_trailer), "line 10, record 99 (file trailer), field record type: the file ends without its 99 (file trailer): truncated");
    }

    #[test]
    fn records_out_of_place_or_unknown_are_refused() {
        assert_eq!(
            error_of(&SAMPLE.replacen("01,", "02,", 1)),
            "line 1, record 02 (group header), field record type: a BAI2 file starts with its 01 (file header)"
        );
        assert_eq!(error_of(&with("16,475,", "17,475,")), "line 7, record `17`, field record type: `17` is not a BAI2 record type");
        assert_eq!(
            error_of(&with("01,121000248,PAYERCO01,261208,0600,42,80,1,2/", "01,121000248,PAYERCO01,261208,0600,42,80,1,3/")),
            "line 1, record 01 (file header), field version number: `3`: only BAI version 2 is read"
        );
        assert_eq!(
            error_of(&with("16,475,260", "16,075,260")),
            "line 7, record 16 (transaction detail), field type code: `075` is not a detail type code (100-399 credits, 400-699 debits)"
        );
    }

    #[test]
    fn a_bad_date_is_refused() {
        assert_eq!(
            error_of(&with("02,PAYERCO01,121000248,1,261208", "02,PAYERCO01,121000248,1,261232")),
            "line 2, record 02 (group header), field as-of date: `261232` is not a date (YYMMDD)"
        );
    }

    #[test]
    fn another_currency_is_refused() {
        assert_eq!(
            error_of(&with("03,1234567890,USD", "03,1234567890,EUR")),
            "line 3, record 03 (account identifier), field currency code: `EUR`: only USD statements are reconciled"
        );
    }
}
