//! RBRVS inputs as CMS publishes them: relative value units (PPRRVU), the
//! geographic practice cost indices (GPCI) by carrier and locality, and the
//! ZIP-code-to-carrier-locality file that picks a service location's GPCIs.
//!
//! - PPRRVU (`PPRRVU<yy>_<qtr>.csv`): title and copyright lines, then a
//!   header that starts with `HCPCS` and may continue on the next lines
//!   (the continuation has a blank first cell). Columns by position, as CMS
//!   orders them: HCPCS, MOD, DESCRIPTION, CODE STATUS, PAYMENT POLICY
//!   INDICATOR, WORK RVU, NON-FAC PE RVU, NON-FAC NA INDICATOR, FACILITY PE
//!   RVU, FACILITY NA INDICATOR, MP RVU, NON-FACILITY TOTAL, FACILITY TOTAL,
//!   PCTC IND, GLOB DAYS, PRE OP, INTRA OP, POST OP, MULT PROC, ..., CONV
//!   FACTOR (column 25).
//! - GPCI (`GPCI<yyyy>.csv`): title lines, then "Medicare Administrative
//!   Contractor (MAC)", "State", "Locality Number", "Locality Name",
//!   "<yyyy> PW GPCI ...", "<yyyy> PE GPCI", "<yyyy> MP GPCI".
//! - ZIP to carrier locality (`ZIP5_<...>.txt`): fixed width, no header:
//!   state 1-2, ZIP 3-7, carrier 8-12, pricing locality 13-14, rural
//!   indicator 15, ..., year and quarter 76-80.

use std::collections::HashMap;
use std::io::Read;

use rust_decimal::Decimal;

use crate::code::CodeKey;
use crate::csv::{Failures, LoadErrors, Table, normalize};

/// A code's RVUs, its multiple-procedure indicator and global period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rvu {
    pub code: CodeKey,
    /// The payment modifier (26, TC, 53) or [`CodeKey::NONE`].
    pub modifier: CodeKey,
    #[serde(with = "rust_decimal::serde::str")]
    pub work: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub pe_non_facility: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub pe_facility: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub malpractice: Decimal,
    /// MULT PROC: 0 no reduction, 2 standard surgical, 3 endoscopy, 4
    /// diagnostic imaging, 5 therapy, 6 and 7 cardiovascular and ophthalmology, 9 not applicable.
    pub multiple_procedure: u8,
    /// GLOB DAYS is `ZZZ`: an add-on code, exempt from multiple-procedure reduction.
    pub add_on: bool,
    /// CONV FACTOR as published (the payer may set its own).
    #[serde(with = "rust_decimal::serde::str")]
    pub conversion_factor: Decimal,
}

/// PPRRVU rows sorted by (code, modifier).
#[derive(Debug, Clone, Default)]
pub struct RvuTable {
    rvus: Vec<Rvu>,
}

/// The column positions of PPRRVU (0-based).
mod pprrvu {
    pub const HCPCS: usize = 0;
    pub const MOD: usize = 1;
    pub const WORK: usize = 5;
    pub const PE_NON_FACILITY: usize = 6;
    pub const PE_FACILITY: usize = 8;
    pub const MALPRACTICE: usize = 10;
    pub const GLOBAL_DAYS: usize = 14;
    pub const MULTIPLE_PROCEDURE: usize = 18;
    pub const CONVERSION_FACTOR: usize = 24;
}

impl RvuTable {
    pub fn load(input: impl Read) -> Result<RvuTable, LoadErrors> {
        let table = Table::read(input, "PPRRVU", |cells| cells.first().is_some_and(|cell| normalize(cell) == "hcpcs"))?;
        if table.header.len() <= pprrvu::CONVERSION_FACTOR {
            return Err(LoadErrors::one(0, format!("the PPRRVU header has {} columns; CONV FACTOR is column 25", table.header.len())));
        }
        let mut failures = Failures::default();
        let mut rvus = Vec::new();
        let mut in_data = false;
        for row in table.rows(&mut failures) {
            if !in_data && row.cell(pprrvu::HCPCS).is_empty() {
                continue; // the header's continuation lines
            }
            in_data = true;
            let parsed = (|| -> Result<Rvu, String> {
                let decimal = |column_idx: usize, name: &str| -> Result<Decimal, String> {
                    let cell = row.cell(column_idx);
                    if cell.is_empty() {
                        return Ok(Decimal::ZERO);
                    }
                    cell.parse::<Decimal>().map_err(|_| format!("{name} `{cell}` is not a decimal"))
                };
                let modifier = row.cell(pprrvu::MOD);
                let multiple_procedure = row.cell(pprrvu::MULTIPLE_PROCEDURE);
                Ok(Rvu {
                    code: CodeKey::parse(row.cell(pprrvu::HCPCS)).ok_or_else(|| format!("`{}` is not a procedure code", row.cell(pprrvu::HCPCS)))?,
                    modifier: if modifier.is_empty() {
                        CodeKey::NONE
                    } else {
                        CodeKey::parse(modifier).ok_or_else(|| format!("`{modifier}` is not a modifier"))?
                    },
                    work: decimal(pprrvu::WORK, "WORK RVU")?,
                    pe_non_facility: decimal(pprrvu::PE_NON_FACILITY, "NON-FAC PE RVU")?,
                    pe_facility: decimal(pprrvu::PE_FACILITY, "FACILITY PE RVU")?,
                    malpractice: decimal(pprrvu::MALPRACTICE, "MP RVU")?,
                    multiple_procedure: match multiple_procedure {
                        "" => 9,
                        digit if digit.len() == 1 && digit.as_bytes()[0].is_ascii_digit() => digit.as_bytes()[0] - b'0',
                        other => return Err(format!("MULT PROC `{other}` is not one digit")),
                    },
                    add_on: row.cell(pprrvu::GLOBAL_DAYS).eq_ignore_ascii_case("ZZZ"),
                    conversion_factor: decimal(pprrvu::CONVERSION_FACTOR, "CONV FACTOR")?,
                })
            })();
            match parsed {
                Ok(rvu) => rvus.push(rvu),
                Err(reason) => failures.push(row.line, reason),
            }
        }
        failures.finish(RvuTable::from_rvus(rvus))
    }

    pub fn from_rvus(mut rvus: Vec<Rvu>) -> RvuTable {
        rvus.sort_by_key(|rvu| (rvu.code, rvu.modifier));
        RvuTable { rvus }
    }

    /// The row for `code` with `modifier`, else the code's row without one.
    pub fn rvu(&self, code: CodeKey, modifier: CodeKey) -> Option<&Rvu> {
        let find =
            |modifier: CodeKey| self.rvus.binary_search_by_key(&(code, modifier), |rvu| (rvu.code, rvu.modifier)).ok().map(|rvu_idx| &self.rvus[rvu_idx]);
        (!modifier.is_none()).then(|| find(modifier)).flatten().or_else(|| find(CodeKey::NONE))
    }

    pub fn len(&self) -> usize {
        self.rvus.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rvus.is_empty()
    }

    pub fn memory_bytes(&self) -> usize {
        self.rvus.capacity() * size_of::<Rvu>()
    }
}

/// A Medicare payment locality: the carrier (MAC) number and the locality within it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Locality {
    pub carrier: u32,
    pub locality: u16,
}

/// The three GPCIs of one locality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Gpci {
    #[serde(with = "rust_decimal::serde::str")]
    pub work: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub practice_expense: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub malpractice: Decimal,
}

#[derive(Debug, Clone, Default)]
pub struct GpciTable {
    gpcis: HashMap<Locality, Gpci>,
}

impl GpciTable {
    pub fn load(input: impl Read) -> Result<GpciTable, LoadErrors> {
        let table = Table::read(input, "GPCI", |cells| cells.iter().any(|cell| normalize(cell) == "locality number"))?;
        let carrier = table.column("Medicare Administrative Contractor", |name| name.contains("contractor") || name.starts_with("carrier"))?;
        let locality = table.column("Locality Number", |name| name == "locality number")?;
        let work = table.column("PW GPCI", |name| name.contains("pw gpci"))?;
        let practice_expense = table.column("PE GPCI", |name| name.contains("pe gpci"))?;
        let malpractice = table.column("MP GPCI", |name| name.contains("mp gpci"))?;
        let mut failures = Failures::default();
        let mut gpcis = HashMap::new();
        for row in table.rows(&mut failures) {
            let parsed = (|| -> Result<(Locality, Gpci), String> {
                let decimal = |column_idx: usize, name: &str| -> Result<Decimal, String> {
                    row.cell(column_idx).parse::<Decimal>().map_err(|_| format!("{name} `{}` is not a decimal", row.cell(column_idx)))
                };
                Ok((
                    parse_locality(row.cell(carrier), row.cell(locality))?,
                    Gpci {
                        work: decimal(work, "PW GPCI")?,
                        practice_expense: decimal(practice_expense, "PE GPCI")?,
                        malpractice: decimal(malpractice, "MP GPCI")?,
                    },
                ))
            })();
            match parsed {
                Ok((key, gpci)) => {
                    if gpcis.insert(key, gpci).is_some() {
                        failures.push(row.line, format!("repeats carrier {} locality {:02}", key.carrier, key.locality));
                    }
                }
                Err(reason) => failures.push(row.line, reason),
            }
        }
        failures.finish(GpciTable { gpcis })
    }

    pub fn from_gpcis(gpcis: impl IntoIterator<Item = (Locality, Gpci)>) -> GpciTable {
        GpciTable { gpcis: gpcis.into_iter().collect() }
    }

    pub fn gpci(&self, locality: Locality) -> Option<&Gpci> {
        self.gpcis.get(&locality)
    }

    pub fn len(&self) -> usize {
        self.gpcis.len()
    }

    pub fn is_empty(&self) -> bool {
        self.gpcis.is_empty()
    }
}

fn parse_locality(carrier: &str, locality: &str) -> Result<Locality, String> {
    Ok(Locality {
        carrier: carrier.trim().parse().map_err(|_| format!("carrier `{carrier}` is not a number"))?,
        locality: locality.trim().parse().map_err(|_| format!("locality `{locality}` is not a number"))?,
    })
}

/// ZIP code to payment locality.
#[derive(Debug, Clone, Default)]
pub struct ZipLocalities {
    /// Sorted by ZIP.
    zips: Vec<(u32, Locality)>,
}

impl ZipLocalities {
    /// Reads the fixed-width ZIP5 file (no header, no preamble).
    pub fn load(mut input: impl Read) -> Result<ZipLocalities, LoadErrors> {
        let mut bytes = Vec::new();
        (&mut input)
            .take(crate::csv::FILE_BYTES_MAX + 1)
            .read_to_end(&mut bytes)
            .map_err(|error| LoadErrors::one(0, format!("could not read the ZIP locality file: {error}")))?;
        if bytes.len() as u64 > crate::csv::FILE_BYTES_MAX {
            return Err(LoadErrors::one(0, format!("the ZIP locality file is larger than {} bytes", crate::csv::FILE_BYTES_MAX)));
        }
        let mut failures = Failures::default();
        let mut zips = Vec::new();
        for (line_idx, line) in bytes.split(|&byte| byte == b'\n').enumerate() {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.iter().all(|byte| byte.is_ascii_whitespace()) {
                continue;
            }
            if zips.len() == crate::csv::ROWS_MAX {
                failures.push(line_idx + 1, format!("more than {} rows", crate::csv::ROWS_MAX));
                break;
            }
            let field = |range: std::ops::Range<usize>| line.get(range).map(|bytes| String::from_utf8_lossy(bytes).into_owned());
            let parsed = (|| -> Result<(u32, Locality), String> {
                let zip = field(2..7).ok_or("shorter than the ZIP field (positions 3-7)")?;
                let zip = if zip.bytes().all(|byte| byte.is_ascii_digit()) { zip.parse::<u32>().ok() } else { None }
                    .ok_or_else(|| format!("ZIP `{zip}` is not five digits"))?;
                let carrier = field(7..12).ok_or("shorter than the carrier field (positions 8-12)")?;
                let locality = field(12..14).ok_or("shorter than the locality field (positions 13-14)")?;
                Ok((zip, parse_locality(&carrier, &locality)?))
            })();
            match parsed {
                Ok(entry) => zips.push(entry),
                Err(reason) => failures.push(line_idx + 1, reason),
            }
        }
        zips.sort_by_key(|(zip, _)| *zip);
        for pair in zips.windows(2) {
            if pair[0].0 == pair[1].0 && pair[0].1 != pair[1].1 {
                failures.push(0, format!("ZIP {:05} is in two localities", pair[0].0));
            }
        }
        zips.dedup_by_key(|(zip, _)| *zip);
        failures.finish(ZipLocalities { zips })
    }

    pub fn from_zips(zips: impl IntoIterator<Item = (u32, Locality)>) -> ZipLocalities {
        let mut zips: Vec<_> = zips.into_iter().collect();
        zips.sort_by_key(|(zip, _)| *zip);
        zips.dedup_by_key(|(zip, _)| *zip);
        ZipLocalities { zips }
    }

    /// The locality of a ZIP code (its first five digits; ZIP+4 accepted).
    pub fn locality(&self, zip: &str) -> Option<Locality> {
        self.entry(zip).map(|(_, locality)| locality)
    }

    /// The row `zip` reads: its five-digit ZIP as a number and the locality.
    pub fn entry(&self, zip: &str) -> Option<(u32, Locality)> {
        let five = zip.trim().get(..5)?;
        let zip: u32 = if five.bytes().all(|byte| byte.is_ascii_digit()) { five.parse().ok()? } else { return None };
        self.zips.binary_search_by_key(&zip, |(zip, _)| *zip).ok().map(|zip_idx| self.zips[zip_idx])
    }

    pub fn len(&self) -> usize {
        self.zips.len()
    }

    pub fn is_empty(&self) -> bool {
        self.zips.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    pub(crate) const PPRRVU: &str = "\"2026 National Physician Fee Schedule Relative Value File January Release\"\n\
\"CPT codes and descriptions only are copyright 2025 American Medical Association.\"\n\
,,,,,,NON-FAC,NON-FAC,FACILITY,FACILITY,,NON-FACILITY,FACILITY,,,,,,,,,,,,,\n\
HCPCS,MOD,DESCRIPTION,CODE,PAYMENT,WORK,PE,NA,PE,NA,MP,TOTAL,TOTAL,PCTC,GLOB,PRE,INTRA,POST,MULT,BILAT,ASST,CO-,TEAM,ENDO,CONV\n\
,,,STATUS,POLICY INDICATOR,RVU,RVU,INDICATOR,RVU,INDICATOR,RVU,,,IND,DAYS,OP,OP,POST,PROC,SURG,SURG,SURG,SURG,BASE,FACTOR\n\
G0101,,Synthetic exam,A,,1.30,1.20,,0.50,,0.10,2.60,1.90,0,XXX,0,0,0,2,0,0,0,0,,32.3500\n\
G0105,,Synthetic add-on,A,,0.50,0.40,,0.20,,0.05,0.95,0.75,0,ZZZ,0,0,0,0,0,0,0,0,,32.3500\n";

    #[test]
    fn pprrvu_loads_past_its_title_and_two_line_header() {
        let table = RvuTable::load(PPRRVU.as_bytes()).expect("loads");
        assert_eq!(table.len(), 2);
        let rvu = table.rvu(CodeKey::of("G0101"), CodeKey::NONE).expect("row");
        assert_eq!((rvu.work, rvu.pe_non_facility, rvu.pe_facility, rvu.malpractice), (dec!(1.30), dec!(1.20), dec!(0.50), dec!(0.10)));
        assert_eq!(rvu.multiple_procedure, 2);
        assert_eq!(rvu.conversion_factor, dec!(32.35));
        assert!(table.rvu(CodeKey::of("G0105"), CodeKey::of("26")).expect("falls back to no modifier").add_on);
    }

    #[test]
    fn a_bad_rvu_is_reported_with_its_line() {
        let text = format!("{PPRRVU}G0106,,x,A,,one,1,,1,,1,1,1,0,000,0,0,0,2,0,0,0,0,,32.35\n");
        let error = RvuTable::load(text.as_bytes()).expect_err("bad");
        assert_eq!(error.errors[0].line, 8, "{error}");
        assert!(error.errors[0].reason.contains("WORK RVU `one`"), "{error}");
    }

    #[test]
    fn gpcis_load_by_carrier_and_locality() {
        let text = "ADDENDUM E. FINAL CY 2026 GEOGRAPHIC PRACTICE COST INDICES (GPCIs) BY STATE AND MEDICARE LOCALITY\n\
Medicare Administrative Contractor (MAC),State,Locality Number,Locality Name,2026 PW GPCI (with 1.0 Floor),2026 PE GPCI,2026 MP GPCI\n\
10112,AL,00,ALABAMA,1.000,0.950,0.800\n";
        let table = GpciTable::load(text.as_bytes()).expect("loads");
        let gpci = table.gpci(Locality { carrier: 10112, locality: 0 }).expect("gpci");
        assert_eq!((gpci.work, gpci.practice_expense, gpci.malpractice), (dec!(1.000), dec!(0.950), dec!(0.800)));
    }

    #[test]
    fn the_zip_file_is_read_by_position() {
        let text = "AL35004101120000Z9  0 1                                                    20261\nAL350051011200R Z9  0 1                                                    20261\n";
        let zips = ZipLocalities::load(text.as_bytes()).expect("loads");
        assert_eq!(zips.locality("35004-1234"), Some(Locality { carrier: 10112, locality: 0 }));
        assert_eq!(zips.locality("99999"), None);
        let error = ZipLocalities::load("ALXXXXX101120\n".as_bytes()).expect_err("bad zip");
        assert_eq!(error.errors[0].line, 1);
    }
}
