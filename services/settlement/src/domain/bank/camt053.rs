//! ISO 20022 camt.053 (BankToCustomerStatement, versions 001.02 to 001.08),
//! read with quick-xml's serde deserializer over the few elements
//! reconciliation needs (ADR 0008): `GrpHdr/MsgId`, each `Stmt` with its
//! account and `FrToDt`, and each `Ntry` with `Amt@Ccy`, `CdtDbtInd`,
//! `RvslInd`, `BookgDt`/`ValDt`, `BkTxCd`, references, and
//! `NtryDtls/TxDtls` with `Refs` and `RtrInf/Rsn/{Cd,Prtry}`. Unknown
//! elements are skipped. The document is first checked to be well-formed,
//! so a syntax fault names its line; a missing or bad value names its path
//! (`Stmt[1]/Ntry[2]/Amt`).
//!
//! An entry is the ACH settlement debit when it is a debit with bank
//! transaction family `PMNT/ICDT` (issued credit transfers) or a proprietary
//! code among BAI2's ACH debit codes; it is a return when it carries
//! `RtrInf`, its sub-family is `RRTN`, or its proprietary code is 257. A
//! return's original entry trace is `Refs/ClrSysRef`, else `Refs/TxId`,
//! else `Refs/EndToEndId` (the first with 15 digits); its reason is
//! `Rsn/Prtry` when that is a NACHA R- or C-code, else the ISO `Rsn/Cd`.
//! An entry with several returns in `TxDtls` gives one line per return,
//! each with its `TxDtls/Amt`.

use claimtrail_events::Money;
use quick_xml::events::Event;
use serde::Deserialize;
use time::Date;

use super::bai2::{ACH_DEBIT_TYPE_CODES, ACH_RETURN_TYPE_CODE};
use super::{BankStatement, Direction, LineKind, ParseError, ReasonCode, ReturnInfo, StatementFormat, StatementLine};

#[derive(Debug, Deserialize)]
struct Document {
    #[serde(rename = "BkToCstmrStmt")]
    statement: Option<BkToCstmrStmt>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BkToCstmrStmt {
    grp_hdr: GrpHdr,
    #[serde(default)]
    stmt: Vec<Stmt>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GrpHdr {
    msg_id: Option<String>,
    cre_dt_tm: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Stmt {
    acct: Option<Acct>,
    fr_to_dt: Option<FrToDt>,
    #[serde(default)]
    ntry: Vec<Ntry>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Acct {
    id: Option<AcctId>,
}

#[derive(Debug, Deserialize)]
struct AcctId {
    #[serde(rename = "IBAN")]
    iban: Option<String>,
    #[serde(rename = "Othr")]
    other: Option<OtherId>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct OtherId {
    id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct FrToDt {
    fr_dt_tm: Option<String>,
    to_dt_tm: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Ntry {
    ntry_ref: Option<String>,
    amt: Option<Amt>,
    cdt_dbt_ind: Option<String>,
    rvsl_ind: Option<String>,
    bookg_dt: Option<DateChoice>,
    val_dt: Option<DateChoice>,
    acct_svcr_ref: Option<String>,
    bk_tx_cd: Option<BkTxCd>,
    #[serde(default)]
    ntry_dtls: Vec<NtryDtls>,
    addtl_ntry_inf: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Amt {
    #[serde(rename = "@Ccy")]
    currency: Option<String>,
    #[serde(rename = "$text")]
    value: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DateChoice {
    dt: Option<String>,
    dt_tm: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BkTxCd {
    domn: Option<Domain>,
    prtry: Option<Proprietary>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Domain {
    cd: Option<String>,
    fmly: Option<Family>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Family {
    cd: Option<String>,
    sub_fmly_cd: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Proprietary {
    cd: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NtryDtls {
    #[serde(default)]
    tx_dtls: Vec<TxDtls>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TxDtls {
    refs: Option<Refs>,
    amt: Option<Amt>,
    rtr_inf: Option<RtrInf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Refs {
    msg_id: Option<String>,
    acct_svcr_ref: Option<String>,
    pmt_inf_id: Option<String>,
    instr_id: Option<String>,
    end_to_end_id: Option<String>,
    tx_id: Option<String>,
    clr_sys_ref: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RtrInf {
    rsn: Option<Reason>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Reason {
    cd: Option<String>,
    prtry: Option<String>,
}

const ROOT: &str = "Document/BkToCstmrStmt";

/// Reads a camt.053 document whole.
pub fn parse(bytes: &[u8]) -> Result<BankStatement, ParseError> {
    let text = std::str::from_utf8(bytes).map_err(|_| ParseError::new("Document", "XML", "text", "not UTF-8"))?;
    well_formed(text)?;
    let document: Document =
        quick_xml::de::from_str(text).map_err(|e| ParseError::new(ROOT, "BkToCstmrStmt", "structure", format!("not a camt.053 statement: {e}")))?;
    let statement = document.statement.ok_or_else(|| ParseError::new("Document", "Document", "BkToCstmrStmt", "missing: not a camt.053 statement"))?;
    let msg_id = statement.grp_hdr.msg_id.as_deref().map(str::trim).unwrap_or("");
    if msg_id.is_empty() {
        return Err(ParseError::new(format!("{ROOT}/GrpHdr"), "GrpHdr", "MsgId", "required: the message id identifies the statement"));
    }
    if statement.stmt.is_empty() {
        return Err(ParseError::new(ROOT, "BkToCstmrStmt", "Stmt", "required: the document has no statement"));
    }
    let mut lines = Vec::new();
    let mut account = String::new();
    let (mut from_date, mut to_date): (Option<Date>, Option<Date>) = (None, None);
    let mut widen = |date: Date| {
        from_date = Some(from_date.map_or(date, |d| d.min(date)));
        to_date = Some(to_date.map_or(date, |d| d.max(date)));
    };
    for (stmt_idx, stmt) in statement.stmt.iter().enumerate() {
        let stmt_path = format!("{ROOT}/Stmt[{}]", stmt_idx + 1);
        if account.is_empty() {
            let id = stmt.acct.as_ref().and_then(|acct| acct.id.as_ref());
            account = id.and_then(|id| id.iban.clone().or_else(|| id.other.as_ref().and_then(|other| other.id.clone()))).unwrap_or_default().trim().to_owned();
        }
        if let Some(period) = &stmt.fr_to_dt {
            for (field, value) in [("FrDtTm", &period.fr_dt_tm), ("ToDtTm", &period.to_dt_tm)] {
                let value = value.as_deref().unwrap_or("");
                widen(date_of(value).ok_or_else(|| ParseError::new(format!("{stmt_path}/FrToDt"), "FrToDt", field, format!("`{value}` is not a date-time")))?);
            }
        }
        for (ntry_idx, ntry) in stmt.ntry.iter().enumerate() {
            let path = format!("{stmt_path}/Ntry[{}]", ntry_idx + 1);
            let entry_lines = entry(ntry, &path)?;
            if stmt.fr_to_dt.is_none() {
                entry_lines.iter().for_each(|line| widen(line.date));
            }
            lines.extend(entry_lines);
        }
    }
    let created = statement.grp_hdr.cre_dt_tm.as_deref().and_then(date_of);
    let (from_date, to_date) = match (from_date, to_date, created) {
        (Some(from), Some(to), _) => (from, to),
        (_, _, Some(created)) => (created, created),
        _ => return Err(ParseError::new(format!("{ROOT}/GrpHdr"), "GrpHdr", "CreDtTm", "required when the statement has neither FrToDt nor entries")),
    };
    Ok(BankStatement { format: StatementFormat::Camt053, statement_id: format!("camt053:{msg_id}"), account, from_date, to_date, lines })
}

/// Checks that `text` is well-formed XML, naming the line of the first fault.
fn well_formed(text: &str) -> Result<(), ParseError> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut depth = 0usize;
    let mut seen_root = false;
    loop {
        let at = reader.buffer_position();
        let fault = match reader.read_event() {
            Ok(Event::Eof) if depth == 0 && seen_root => return Ok(()),
            Ok(Event::Eof) => Some("the document ends before its root element is closed: truncated".to_owned()),
            Ok(Event::Start(_)) => {
                depth += 1;
                seen_root = true;
                None
            }
            Ok(Event::End(_)) => {
                depth = depth.saturating_sub(1);
                None
            }
            Ok(Event::Empty(_)) => {
                seen_root = true;
                None
            }
            Ok(_) => None,
            Err(e) => Some(format!("malformed XML: {e}")),
        };
        if let Some(message) = fault {
            let offset = usize::try_from(at).unwrap_or(usize::MAX).min(text.len());
            let line = text.as_bytes()[..offset].iter().filter(|b| **b == b'\n').count() + 1;
            return Err(ParseError::new(format!("line {line}"), "XML", "syntax", message));
        }
    }
}

/// The date of `YYYY-MM-DD` or of an ISO date-time.
fn date_of(text: &str) -> Option<Date> {
    claimtrail_events::parse_date(text.trim().get(..10)?)
}

fn text(value: &Option<String>) -> &str {
    value.as_deref().map(str::trim).unwrap_or("")
}

/// An amount element: USD, not negative, at most two decimals.
fn amount(amt: Option<&Amt>, path: &str, record: &str) -> Result<Money, ParseError> {
    let error = |message: String| ParseError::new(path, record, "Amt", message);
    let amt = amt.ok_or_else(|| error("required".into()))?;
    let currency = text(&amt.currency);
    if currency != "USD" {
        return Err(error(format!("currency `{currency}`: only USD statements are reconciled")));
    }
    let value = text(&amt.value);
    let money = Money::parse(value).map_err(|_| error(format!("`{value}` is not an amount with at most two decimals")))?;
    if money.is_negative() {
        return Err(error(format!("`{value}` is negative; CdtDbtInd gives the direction")));
    }
    Ok(money)
}

/// The statement lines of one entry: itself, or one per return it carries.
fn entry(ntry: &Ntry, path: &str) -> Result<Vec<StatementLine>, ParseError> {
    let amount_total = amount(ntry.amt.as_ref(), path, "Ntry")?;
    let indicator = text(&ntry.cdt_dbt_ind);
    let direction = match indicator {
        "CRDT" => Direction::Credit,
        "DBIT" => Direction::Debit,
        other => return Err(ParseError::new(path, "Ntry", "CdtDbtInd", format!("`{other}` is neither CRDT nor DBIT"))),
    };
    let date_text = |choice: &Option<DateChoice>| choice.as_ref().map(|choice| text(&choice.dt).to_owned() + text(&choice.dt_tm)).filter(|t| !t.is_empty());
    let date = match (date_text(&ntry.val_dt), date_text(&ntry.bookg_dt)) {
        (Some(value), _) => date_of(&value).ok_or_else(|| ParseError::new(path, "Ntry", "ValDt", format!("`{value}` is not a date")))?,
        (None, Some(booked)) => date_of(&booked).ok_or_else(|| ParseError::new(path, "Ntry", "BookgDt", format!("`{booked}` is not a date")))?,
        (None, None) => return Err(ParseError::new(path, "Ntry", "BookgDt", "required (or ValDt)")),
    };
    let (family, sub_family, proprietary) = match &ntry.bk_tx_cd {
        Some(code) => {
            let family = code.domn.as_ref().and_then(|domain| domain.fmly.as_ref());
            let domain = code.domn.as_ref().map(|domain| text(&domain.cd)).unwrap_or("");
            (
                format!("{domain}/{}", family.map(|f| text(&f.cd)).unwrap_or("")),
                family.map(|f| text(&f.sub_fmly_cd)).unwrap_or("").to_owned(),
                code.prtry.as_ref().map(|p| text(&p.cd)).unwrap_or("").to_owned(),
            )
        }
        None => (String::new(), String::new(), String::new()),
    };
    let type_code = if family.len() > 1 { format!("{family}/{sub_family}") } else { proprietary.clone() };
    let reversed = text(&ntry.rvsl_ind) == "true";
    let details: Vec<&TxDtls> = ntry.ntry_dtls.iter().flat_map(|details| &details.tx_dtls).collect();
    let mut reference_parts: Vec<&str> = vec![text(&ntry.ntry_ref), text(&ntry.acct_svcr_ref)];
    for refs in details.iter().filter_map(|tx| tx.refs.as_ref()) {
        reference_parts
            .extend([&refs.msg_id, &refs.acct_svcr_ref, &refs.pmt_inf_id, &refs.instr_id, &refs.end_to_end_id, &refs.tx_id, &refs.clr_sys_ref].map(text));
    }
    reference_parts.push(text(&ntry.addtl_ntry_inf));
    let reference = reference_parts.into_iter().filter(|part| !part.is_empty()).collect::<Vec<_>>().join(" ");
    let is_return = !reversed
        && direction == Direction::Credit
        && (details.iter().any(|tx| tx.rtr_inf.is_some()) || sub_family == "RRTN" || proprietary == ACH_RETURN_TYPE_CODE);
    let kind = if reversed {
        LineKind::Other
    } else if is_return {
        LineKind::AchReturn
    } else if direction == Direction::Debit && (family == "PMNT/ICDT" || ACH_DEBIT_TYPE_CODES.contains(&proprietary.as_str())) {
        LineKind::AchDebit
    } else {
        LineKind::Other
    };
    let line = |amount: Money, return_info: Option<ReturnInfo>, position: String| StatementLine {
        position,
        direction,
        kind,
        amount,
        date,
        type_code: type_code.clone(),
        reference: reference.clone(),
        return_info,
    };
    let returns: Vec<(usize, &TxDtls)> = details.iter().copied().enumerate().filter(|(_, tx)| tx.rtr_inf.is_some()).collect();
    if kind != LineKind::AchReturn || returns.is_empty() {
        return Ok(vec![line(amount_total, None, path.to_owned())]);
    }
    let mut lines = Vec::with_capacity(returns.len());
    let mut sum = Money::ZERO;
    for (tx_idx, tx) in &returns {
        let tx_path = format!("{path}/NtryDtls/TxDtls[{}]", tx_idx + 1);
        let amount = if returns.len() == 1 && tx.amt.is_none() { amount_total } else { amount(tx.amt.as_ref(), &tx_path, "TxDtls")? };
        sum = sum.checked_add(amount).ok_or_else(|| ParseError::new(&tx_path, "TxDtls", "Amt", "the sum overflows"))?;
        lines.push(line(amount, Some(return_info(tx, &tx_path)?), tx_path));
    }
    if sum != amount_total {
        return Err(ParseError::new(path, "Ntry", "Amt", format!("{amount_total} does not equal the sum of its returns' TxDtls/Amt, {sum}")));
    }
    Ok(lines)
}

fn return_info(tx: &TxDtls, path: &str) -> Result<ReturnInfo, ParseError> {
    let refs = tx.refs.as_ref();
    let is_trace = |value: &&str| value.len() == 15 && value.bytes().all(|b| b.is_ascii_digit());
    let original_trace = refs.and_then(|refs| [&refs.clr_sys_ref, &refs.tx_id, &refs.end_to_end_id].into_iter().map(text).find(is_trace)).ok_or_else(|| {
        ParseError::new(
            format!("{path}/Refs"),
            "TxDtls",
            "ClrSysRef",
            "a return needs the original entry's 15-digit trace number (ClrSysRef, TxId or EndToEndId)",
        )
    })?;
    let reason = tx.rtr_inf.as_ref().and_then(|info| info.rsn.as_ref());
    let proprietary = reason.map(|r| text(&r.prtry)).and_then(ReasonCode::parse).filter(|code| code.as_str().len() == 3);
    let iso = reason.map(|r| text(&r.cd)).and_then(ReasonCode::parse);
    let reason = proprietary.or(iso).ok_or_else(|| {
        ParseError::new(format!("{path}/RtrInf/Rsn"), "RtrInf", "Cd", "a return needs its reason: an ISO code in Cd (AC04) or a NACHA R-code in Prtry (R03)")
    })?;
    Ok(ReturnInfo { original_trace: original_trace.to_owned(), reason, corrected_data: None })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use time::macros::date;

    /// A day's statement: the settlement debit of one ACH batch, a return
    /// with its R-code and trace, and a fee.
    pub(crate) const SAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
  <BkToCstmrStmt>
    <GrpHdr>
      <MsgId>STMT-20261208-0001</MsgId>
      <CreDtTm>2026-12-08T18:00:00Z</CreDtTm>
    </GrpHdr>
    <Stmt>
      <Id>1234567890-20261208</Id>
      <Acct><Id><Othr><Id>1234567890</Id></Othr></Id><Ccy>USD</Ccy></Acct>
      <FrToDt><FrDtTm>2026-12-08T00:00:00Z</FrDtTm><ToDtTm>2026-12-08T23:59:59Z</ToDtTm></FrToDt>
      <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="USD">50000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-12-08</Dt></Dt></Bal>
      <Ntry>
        <NtryRef>1</NtryRef>
        <Amt Ccy="USD">1015.40</Amt>
        <CdtDbtInd>DBIT</CdtDbtInd>
        <Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>2026-12-08</Dt></BookgDt>
        <ValDt><Dt>2026-12-08</Dt></ValDt>
        <AcctSvcrRef>BR100001</AcctSvcrRef>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>ACDT</SubFmlyCd></Fmly></Domn></BkTxCd>
        <NtryDtls><Btch><NbOfTxs>2</NbOfTxs></Btch></NtryDtls>
        <AddtlNtryInf>ACH SETTLEMENT HCCLAIMPMT CO ID 1123456789</AddtlNtryInf>
      </Ntry>
      <Ntry>
        <NtryRef>2</NtryRef>
        <Amt Ccy="USD">120.00</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>2026-12-08</Dt></BookgDt>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>RRTN</SubFmlyCd></Fmly></Domn></BkTxCd>
        <NtryDtls>
          <TxDtls>
            <Refs><EndToEndId>NOTPROVIDED</EndToEndId><ClrSysRef>091000010000002</ClrSysRef></Refs>
            <RtrInf><Rsn><Prtry>R03</Prtry></Rsn><AddtlInf>NO ACCOUNT</AddtlInf></RtrInf>
          </TxDtls>
        </NtryDtls>
      </Ntry>
      <Ntry>
        <Amt Ccy="USD">2.60</Amt>
        <CdtDbtInd>DBIT</CdtDbtInd>
        <BookgDt><Dt>2026-12-08</Dt></BookgDt>
        <BkTxCd><Domn><Cd>ACMT</Cd><Fmly><Cd>MDOP</Cd><SubFmlyCd>CHRG</SubFmlyCd></Fmly></Domn></BkTxCd>
      </Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>
"#;

    fn error_of(text: &str) -> String {
        parse(text.as_bytes()).unwrap_err().to_string()
    }

    #[test]
    fn a_statement_is_read_with_its_ach_debit_and_return() {
        let statement = parse(SAMPLE.as_bytes()).unwrap();
        assert_eq!((statement.statement_id.as_str(), statement.account.as_str()), ("camt053:STMT-20261208-0001", "1234567890"));
        assert_eq!((statement.from_date, statement.to_date), (date!(2026 - 12 - 08), date!(2026 - 12 - 08)));
        let [debit, returned, fee] = statement.lines.try_into().unwrap();
        assert_eq!((debit.kind, debit.direction, debit.amount.to_string()), (LineKind::AchDebit, Direction::Debit, "1015.40".into()));
        assert_eq!(debit.type_code, "PMNT/ICDT/ACDT");
        assert!(debit.reference.contains("CO ID 1123456789"), "{}", debit.reference);
        assert_eq!(returned.kind, LineKind::AchReturn);
        let info = returned.return_info.unwrap();
        assert_eq!((info.reason.as_str(), info.original_trace.as_str()), ("R03", "091000010000002"));
        assert_eq!(returned.position, "Document/BkToCstmrStmt/Stmt[1]/Ntry[2]/NtryDtls/TxDtls[1]");
        assert_eq!((fee.kind, fee.amount.to_string()), (LineKind::Other, "2.60".into()));
    }

    #[test]
    fn an_iso_reason_code_is_kept_when_there_is_no_nacha_code() {
        let text = SAMPLE.replace("<Prtry>R03</Prtry>", "<Cd>AC04</Cd>");
        let statement = parse(text.as_bytes()).unwrap();
        assert_eq!(statement.lines[1].return_info.as_ref().unwrap().reason.as_str(), "AC04");
    }

    #[test]
    fn a_bad_amount_names_its_entry() {
        assert_eq!(
            error_of(&SAMPLE.replace(">1015.40<", ">1015.405<")),
            "Document/BkToCstmrStmt/Stmt[1]/Ntry[1], record Ntry, field Amt: `1015.405` is not an amount with at most two decimals"
        );
        assert_eq!(
            error_of(&SAMPLE.replace(r#"<Amt Ccy="USD">2.60"#, r#"<Amt Ccy="EUR">2.60"#)),
            "Document/BkToCstmrStmt/Stmt[1]/Ntry[3], record Ntry, field Amt: currency `EUR`: only USD statements are reconciled"
        );
    }

    #[test]
    fn a_missing_message_id_or_indicator_is_refused() {
        assert_eq!(
            error_of(&SAMPLE.replace("<MsgId>STMT-20261208-0001</MsgId>", "")),
            "Document/BkToCstmrStmt/GrpHdr, record GrpHdr, field MsgId: required: the message id identifies the statement"
        );
        assert_eq!(
            error_of(&SAMPLE.replacen("<CdtDbtInd>DBIT</CdtDbtInd>", "<CdtDbtInd>DEBIT</CdtDbtInd>", 1)),
            "Document/BkToCstmrStmt/Stmt[1]/Ntry[1], record Ntry, field CdtDbtInd: `DEBIT` is neither CRDT nor DBIT"
        );
    }

    #[test]
    fn a_return_without_its_trace_is_refused() {
        assert_eq!(
            error_of(&SAMPLE.replace("<ClrSysRef>091000010000002</ClrSysRef>", "")),
            "Document/BkToCstmrStmt/Stmt[1]/Ntry[2]/NtryDtls/TxDtls[1]/Refs, record TxDtls, field ClrSysRef: a return needs the original entry's 15-digit trace number (ClrSysRef, TxId or EndToEndId)"
        );
    }

    #[test]
    fn truncated_or_malformed_xml_names_its_line() {
        let truncated: String = SAMPLE.lines().take(20).map(|line| format!("{line}\n")).collect();
        assert!(error_of(&truncated).starts_with("line "), "{}", error_of(&truncated));
        assert!(error_of(&truncated).contains("record XML, field syntax"), "{}", error_of(&truncated));
        let mismatched = SAMPLE.replace("</NtryRef>\n        <Amt Ccy=\"USD\">1015.40", "</NtryRf>\n        <Amt Ccy=\"USD\">1015.40");
        assert_eq!(
            error_of(&mismatched),
            "line 14, record XML, field syntax: malformed XML: ill-formed document: expected `</NtryRef>`, but `</NtryRf>` was found"
        );
    }
}
