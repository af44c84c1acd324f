//! Prior authorizations (no CMS layout): what the payer approved for a
//! member, provider and code over a date span, in units.
//!
//! Layout (docs/policy-data.md): header
//! `auth_number,member_id,provider_npi,code,units,start_date,end_date,status`;
//! one row per authorized code; dates `YYYYMMDD`, both inclusive; status
//! `approved`, `pended` or `denied` (only approved authorizes).

use std::collections::HashMap;
use std::io::Read;

use claimtrail_codes::Carc;
use rust_decimal::Decimal;
use time::Date;

use crate::code::CodeKey;
use crate::csv::{Failures, LoadErrors, Table, normalize, parse_yyyymmdd};
use crate::line::{Action, Cas, Edit, EditLine, Finding, LineStatus};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum AuthStatus {
    Approved,
    Pended,
    Denied,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PriorAuthorization {
    pub auth_number: String,
    pub member_id: String,
    pub provider_npi: String,
    pub code: CodeKey,
    #[serde(with = "rust_decimal::serde::str")]
    pub units: Decimal,
    #[serde(with = "claimtrail_events::date")]
    pub start: Date,
    #[serde(with = "claimtrail_events::date")]
    pub end: Date,
    pub status: AuthStatus,
}

#[derive(Debug, Clone, Default)]
pub struct PriorAuthorizations {
    rows: Vec<PriorAuthorization>,
    by_member: HashMap<String, Vec<usize>>,
}

/// The answer for one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthLookup<'a> {
    /// An approved authorization covers the line, with units to spare.
    Valid {
        authorization: &'a PriorAuthorization,
        units_remaining: Decimal,
    },
    /// Approved authorizations cover the date, but not the units.
    Exhausted(&'a PriorAuthorization),
    NotFound,
}

impl PriorAuthorizations {
    /// How many authorizations the table holds.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn load(input: impl Read) -> Result<PriorAuthorizations, LoadErrors> {
        let table = Table::read(input, "prior authorization", |cells| cells.first().is_some_and(|cell| normalize(cell) == "auth_number"))?;
        let column = |name: &'static str| table.column(name, move |header| header == name);
        let (number, member, npi, code, units, start, end, status) = (
            column("auth_number")?,
            column("member_id")?,
            column("provider_npi")?,
            column("code")?,
            column("units")?,
            column("start_date")?,
            column("end_date")?,
            column("status")?,
        );
        let mut failures = Failures::default();
        let mut rows = Vec::new();
        for row in table.rows(&mut failures) {
            let parsed = (|| -> Result<PriorAuthorization, String> {
                let required = |column_idx: usize, name: &str| {
                    let cell = row.cell(column_idx);
                    if cell.is_empty() { Err(format!("{name} is blank")) } else { Ok(cell.to_owned()) }
                };
                let authorization = PriorAuthorization {
                    auth_number: required(number, "auth_number")?,
                    member_id: required(member, "member_id")?,
                    provider_npi: required(npi, "provider_npi")?,
                    code: CodeKey::parse(row.cell(code)).ok_or_else(|| format!("`{}` is not a procedure code", row.cell(code)))?,
                    units: row
                        .cell(units)
                        .parse()
                        .ok()
                        .filter(|units: &Decimal| units.is_sign_positive())
                        .ok_or_else(|| format!("units `{}` is not a positive number", row.cell(units)))?,
                    start: parse_yyyymmdd(row.cell(start)).map_err(|reason| format!("start_date: {reason}"))?,
                    end: parse_yyyymmdd(row.cell(end)).map_err(|reason| format!("end_date: {reason}"))?,
                    status: match row.cell(status) {
                        "approved" => AuthStatus::Approved,
                        "pended" => AuthStatus::Pended,
                        "denied" => AuthStatus::Denied,
                        other => return Err(format!("status `{other}` is not approved, pended or denied")),
                    },
                };
                if authorization.end < authorization.start {
                    return Err("end_date is before start_date".to_owned());
                }
                Ok(authorization)
            })();
            match parsed {
                Ok(authorization) => rows.push(authorization),
                Err(reason) => failures.push(row.line, reason),
            }
        }
        failures.finish(PriorAuthorizations::from_rows(rows))
    }

    /// The rows of `member_id`, in table order: all a lookup for that member reads.
    pub fn rows_of_member(&self, member_id: &str) -> impl Iterator<Item = &PriorAuthorization> {
        self.by_member.get(member_id).into_iter().flatten().map(|&row_idx| &self.rows[row_idx])
    }

    pub fn from_rows(rows: Vec<PriorAuthorization>) -> PriorAuthorizations {
        let mut by_member: HashMap<String, Vec<usize>> = HashMap::new();
        for (row_idx, row) in rows.iter().enumerate() {
            by_member.entry(row.member_id.clone()).or_default().push(row_idx);
        }
        PriorAuthorizations { rows, by_member }
    }

    /// The approved authorization for the line's member, rendering provider,
    /// code and date with at least its units left; `units_used` says how many
    /// units of an authorization earlier claims (and earlier lines of this
    /// one) already used ([`units_used_by`] counts the history's).
    pub fn lookup(&self, line: &EditLine, units_used: impl Fn(&PriorAuthorization) -> Decimal) -> AuthLookup<'_> {
        let code = CodeKey::of(&line.procedure_code);
        let mut exhausted = None;
        for &row_idx in self.by_member.get(&line.member_id).into_iter().flatten() {
            let row = &self.rows[row_idx];
            if row.status != AuthStatus::Approved
                || row.code != code
                || row.provider_npi != line.rendering_npi
                || line.service_date < row.start
                || line.service_date > row.end
            {
                continue;
            }
            let units_remaining = row.units - units_used(row);
            if units_remaining >= line.units {
                return AuthLookup::Valid { authorization: row, units_remaining };
            }
            exhausted.get_or_insert(row);
        }
        exhausted.map_or(AuthLookup::NotFound, AuthLookup::Exhausted)
    }
}

/// The units of `authorization` the member's earlier claims used: their
/// paid and pended lines by the authorized provider (rendering NPI) for its
/// code within its dates. Denied and reversed lines use nothing.
pub fn units_used_by(authorization: &PriorAuthorization, history: &[EditLine]) -> Decimal {
    history
        .iter()
        .filter(|line| matches!(line.status, LineStatus::Paid | LineStatus::Pending))
        .filter(|line| line.member_id == authorization.member_id && line.rendering_npi == authorization.provider_npi)
        .filter(|line| CodeKey::of(&line.procedure_code) == authorization.code)
        .filter(|line| authorization.start <= line.service_date && line.service_date <= authorization.end)
        .map(|line| line.units)
        .sum()
}

/// The prior-authorization edit for a line whose code the payer's rules say
/// needs one: CO-197 when no approved authorization covers it.
pub fn prior_authorization_edit(authorizations: &PriorAuthorizations, line: &EditLine, units_used: impl Fn(&PriorAuthorization) -> Decimal) -> Option<Finding> {
    let why = match authorizations.lookup(line, units_used) {
        AuthLookup::Valid { .. } => return None,
        AuthLookup::Exhausted(row) => format!("authorization {} has fewer than {} units left", row.auth_number, line.units.normalize()),
        AuthLookup::NotFound => format!("no approved authorization for {} on {} by this provider", line.procedure_code, line.service_date),
    };
    Some(Finding {
        sequence: line.sequence,
        edit: Edit::PriorAuthorization,
        action: Action::Deny { cas: Cas::co(Carc::AUTHORIZATION_ABSENT, line.charge), remarks: Vec::new() },
        explanation: format!("prior authorization required and {why}: CO-197"),
    })
}
