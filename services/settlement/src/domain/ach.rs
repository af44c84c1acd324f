//! The NACHA ACH file of a payment run: one CCD batch (service class 220,
//! credits only: no offsetting debit) with company entry description
//! `HCCLAIMPMT`, one CCD+ credit per `ach` remittance with a 05 addenda
//! carrying the 835's reassociation trace (`TRN*1*<TRN02>*<1 + payer TIN>\`),
//! and a zero-dollar prenote (transaction code 23 or 33) per account to
//! verify. 94-character records, blocking factor 10 (padded with `9` records).
//!
//! [`AchBatch`] is what the bank side matches: the one debit the bank shows
//! on the payer's account per batch is its `total_debit`.

use claimtrail_events::{BankAccount, Money};
use time::{Date, Time};
use uuid::Uuid;

use super::payment_run::{PayerBanking, PaymentRun, RemittanceStatus};

/// The company entry description of every batch.
pub const ENTRY_DESCRIPTION: &str = "HCCLAIMPMT";
/// Characters per record and records per block.
pub const RECORD_LEN: usize = 94;
pub const BLOCKING_FACTOR: usize = 10;

/// One entry of a batch: a credit to a provider's account, or a prenote.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AchEntry {
    /// 15 digits: the ODFI's first 8 routing digits and a sequence number; also the 835's TRN02.
    pub trace_number: String,
    pub npi: String,
    /// The remittance paid (none for a prenote).
    pub remittance_id: Option<Uuid>,
    pub amount: Money,
    pub routing_number: String,
    pub account_number: String,
    pub savings: bool,
    pub prenote: bool,
}

/// One batch a run sent: what the bank will show as one debit on the payer's account.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AchBatch {
    pub batch_number: u32,
    /// The company identification (10 characters: `1` + the payer's TIN).
    pub company_id: String,
    pub effective_date: Date,
    /// The sum of the batch's credits: the debit the payer's bank account shows.
    pub total_debit: Money,
    pub entries: Vec<AchEntry>,
}

/// Why a run's ACH batch cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AchError {
    #[error("remittance {0} is to be paid by ACH but its provider has no bank account")]
    NoAccount(Uuid),
    #[error("remittance {0} is to be paid by ACH but has no trace number")]
    NoTrace(Uuid),
    #[error("the amount {0} does not fit an ACH entry (at most 99,999,999.99)")]
    Amount(Money),
    #[error("{what} `{value}` is not valid: {why}")]
    Field { what: &'static str, value: String, why: &'static str },
}

/// The batch of `run`: a credit per `ach` remittance, a prenote per prenote; `accounts` gives each NPI's account.
pub fn batch_of(run: &PaymentRun, payer: &PayerBanking, account_of: impl Fn(&str) -> Option<BankAccount>) -> Result<AchBatch, AchError> {
    let mut entries = Vec::new();
    for remittance in run.remittances.iter().filter(|remittance| remittance.status == RemittanceStatus::Ach) {
        let account = account_of(&remittance.npi).ok_or(AchError::NoAccount(remittance.remittance_id))?;
        let trace_number = remittance.trace_number.clone().ok_or(AchError::NoTrace(remittance.remittance_id))?;
        entries.push(entry(trace_number, &remittance.npi, Some(remittance.remittance_id), remittance.amount, &account, false)?);
    }
    for prenote in &run.prenotes {
        let account = account_of(&prenote.npi).ok_or(AchError::Field { what: "prenote account of NPI", value: prenote.npi.clone(), why: "none registered" })?;
        entries.push(entry(prenote.trace_number.clone(), &prenote.npi, None, Money::ZERO, &account, true)?);
    }
    entries.sort_by(|a, b| a.trace_number.cmp(&b.trace_number));
    let total_debit = Money::checked_sum(entries.iter().map(|entry| &entry.amount)).ok_or(AchError::Amount(Money::ZERO))?;
    Ok(AchBatch { batch_number: 1, company_id: company_id(payer), effective_date: run.effective_date, total_debit, entries })
}

fn entry(trace_number: String, npi: &str, remittance_id: Option<Uuid>, amount: Money, account: &BankAccount, prenote: bool) -> Result<AchEntry, AchError> {
    if !(account.routing_number.len() == 9 && account.routing_number.bytes().all(|b| b.is_ascii_digit())) {
        return Err(AchError::Field { what: "routing number", value: account.routing_number.clone(), why: "not 9 digits" });
    }
    if account.account_number.is_empty() || account.account_number.len() > 17 {
        return Err(AchError::Field { what: "account number", value: account.account_number.clone(), why: "not 1-17 characters" });
    }
    if amount.is_negative() || amount.to_cents().is_none_or(|cents| cents > 9_999_999_999) {
        return Err(AchError::Amount(amount));
    }
    Ok(AchEntry {
        trace_number,
        npi: npi.to_owned(),
        remittance_id,
        amount,
        routing_number: account.routing_number.clone(),
        account_number: account.account_number.clone(),
        savings: account.account_type == "savings",
        prenote,
    })
}

/// The company identification: `1` followed by the payer's TIN.
pub fn company_id(payer: &PayerBanking) -> String {
    format!("1{}", payer.tin)
}

/// The reassociation trace of an 835 as the 05 addenda carries it.
pub fn reassociation_trace(trace_number: &str, payer: &PayerBanking) -> String {
    format!("TRN*1*{trace_number}*{}\\", company_id(payer))
}

/// The file's header facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileHeader {
    pub created_on: Date,
    pub created_at: Time,
    /// `A`..`Z`, `0`..`9`: distinguishes files made the same day.
    pub file_id_modifier: char,
}

/// The NACHA file of `batches`.
pub fn write_file(payer: &PayerBanking, header: &FileHeader, batches: &[AchBatch]) -> String {
    let mut records: Vec<String> = Vec::new();
    let yymmdd = |date: Date| format!("{:02}{:02}{:02}", date.year() % 100, u8::from(date.month()), date.day());
    records.push(format!(
        "101 {}{}{}{:02}{:02}{}094101{}{}{:8}",
        payer.routing_number,
        fit(&company_id(payer), 10),
        yymmdd(header.created_on),
        header.created_at.hour(),
        header.created_at.minute(),
        header.file_id_modifier,
        fit(&format!("{} BANK", payer.name), 23),
        fit(&payer.name, 23),
        ""
    ));
    let odfi = &payer.routing_number[..8];
    let (mut n_entries_file, mut hash_file, mut credit_file) = (0usize, 0u64, 0i64);
    for batch in batches {
        records.push(format!(
            "5220{}{:20}{}CCD{}{}{}   1{odfi}{:07}",
            fit(&payer.name, 16),
            "",
            fit(&batch.company_id, 10),
            fit(ENTRY_DESCRIPTION, 10),
            yymmdd(batch.effective_date),
            yymmdd(batch.effective_date),
            batch.batch_number
        ));
        let (mut n_entries, mut hash, mut credit) = (0usize, 0u64, 0i64);
        for entry in &batch.entries {
            let code = match (entry.savings, entry.prenote) {
                (false, false) => "22",
                (false, true) => "23",
                (true, false) => "32",
                (true, true) => "33",
            };
            let cents = entry.amount.to_cents().unwrap_or(0);
            records.push(format!(
                "6{code}{}{:<17}{:010}{:<15}{}  1{}",
                entry.routing_number,
                fit(&entry.account_number, 17),
                cents,
                fit(&entry.npi, 15),
                fit(&format!("NPI {}", entry.npi), 22),
                entry.trace_number
            ));
            let addenda = if entry.prenote { String::new() } else { reassociation_trace(&entry.trace_number, payer) };
            records.push(format!("705{}0001{}", fit(&addenda, 80), &entry.trace_number[entry.trace_number.len() - 7..]));
            n_entries += 2;
            hash += entry.routing_number[..8].parse::<u64>().unwrap_or(0);
            credit += cents;
        }
        let hash10 = hash % 10_000_000_000;
        records.push(format!(
            "8220{n_entries:06}{hash10:010}{:012}{credit:012}{}{:19}{:6}{odfi}{:07}",
            0,
            fit(&batch.company_id, 10),
            "",
            "",
            batch.batch_number
        ));
        n_entries_file += n_entries;
        hash_file += hash;
        credit_file += credit;
    }
    let n_records = records.len() + 1;
    let n_blocks = n_records.div_ceil(BLOCKING_FACTOR);
    records.push(format!("9{:06}{n_blocks:06}{n_entries_file:08}{:010}{:012}{credit_file:012}{:39}", batches.len(), hash_file % 10_000_000_000, 0, ""));
    while !records.len().is_multiple_of(BLOCKING_FACTOR) {
        records.push("9".repeat(RECORD_LEN));
    }
    for record in &records {
        assert_eq!(record.len(), RECORD_LEN, "every NACHA record is 94 characters: {record:?}");
    }
    let mut file = records.join("\n");
    file.push('\n');
    file
}

/// `text` as upper-case ASCII, cut or padded with spaces to `width`.
fn fit(text: &str, width: usize) -> String {
    let ascii: String = text.chars().map(|c| if c.is_ascii_graphic() || c == ' ' { c.to_ascii_uppercase() } else { ' ' }).take(width).collect();
    format!("{ascii:<width$}")
}
