//! Front-end edits: faults that leave a claim well-formed (it is kept, with
//! its id) but make it `rejected` with these issues. Each edit is a function
//! from the mapped value and its path (a FHIRPath in claimtrail-fhir, an X12
//! position in claimtrail-x12; both apply the same edits) to an optional
//! [`ClaimIssue`].

use claimtrail_codes::{Icd10Code, Npi, ProcedureCode};
use time::Date;

use crate::claim::{ClaimForm, ClaimIssue, ClaimLine, Coordination, Diagnosis};
use crate::money::Money;

/// The machine codes of [`ClaimIssue::code`] that this crate produces.
pub mod issue_code {
    /// A billing or rendering NPI is not 10 digits starting 1 or 2 with a valid check digit.
    pub const NPI_CHECK_DIGIT: &str = "npi-check-digit";
    /// A diagnosis code does not have the ICD-10-CM shape.
    pub const ICD10_SHAPE: &str = "icd10-shape";
    /// A procedure code has neither the HCPCS Level II nor the CPT shape.
    pub const PROCEDURE_CODE_SHAPE: &str = "procedure-code-shape";
    /// A line's date of service is after the day the claim was received.
    pub const SERVICE_DATE_FUTURE: &str = "service-date-future";
    /// `Claim.total` is not the sum of the line charges.
    pub const TOTAL_MISMATCH: &str = "total-mismatch";
    /// A line points at a diagnosis sequence the claim does not have.
    pub const DIAGNOSIS_POINTER: &str = "diagnosis-pointer";
    /// A payer id is not 1 to 80 letters, digits, `-` or `_` (the registry's shape).
    pub const PAYER_ID_SHAPE: &str = "payer-id-shape";
    /// A member or subscriber id is not 1 to 80 letters, digits, `-` or `_`.
    pub const MEMBER_ID_SHAPE: &str = "member-id-shape";
    /// A modifier is not two letters or digits.
    pub const MODIFIER_SHAPE: &str = "modifier-shape";
    /// A place of service is not two digits.
    pub const PLACE_OF_SERVICE_SHAPE: &str = "place-of-service-shape";
    /// A revenue code is not four digits.
    pub const REVENUE_CODE_SHAPE: &str = "revenue-code-shape";
    /// A replacement or void names a claim that is not one intake gave an id
    /// (intake's registry edit uses the same code for an id it does not hold).
    pub const ORIGINAL_NOT_FOUND: &str = "original-not-found";
    /// A claim to a secondary or tertiary payer carries no earlier payer's adjudication.
    pub const COB_PRIOR_PAYER_MISSING: &str = "cob-prior-payer-missing";
    /// An earlier payer's line decision does not balance: paid + adjustments is not the line's charge.
    pub const COB_LINE_UNBALANCED: &str = "cob-line-unbalanced";
    /// An earlier payer decided a line the claim does not have.
    pub const COB_LINE_UNKNOWN: &str = "cob-line-unknown";
    /// A claim of several lines whose earlier payer decided it only as a whole (no line decisions).
    pub const COB_LINES_MISSING: &str = "cob-lines-missing";
}

fn issue(path: &str, code: &str, message: String) -> ClaimIssue {
    ClaimIssue { path: path.to_owned(), code: code.to_owned(), message }
}

/// An NPI that fails [`Npi::parse`], at `path`.
pub fn npi(npi: &str, path: &str) -> Option<ClaimIssue> {
    let error = Npi::parse(npi).err()?;
    Some(issue(path, issue_code::NPI_CHECK_DIGIT, error.to_string()))
}

/// A diagnosis code that fails [`Icd10Code::parse`], at `path`.
pub fn icd10(code: &str, path: &str) -> Option<ClaimIssue> {
    let error = Icd10Code::parse(code).err()?;
    Some(issue(path, issue_code::ICD10_SHAPE, error.to_string()))
}

/// A procedure code of neither HCPCS nor CPT shape, at `path`.
pub fn procedure_code(code: &str, path: &str) -> Option<ClaimIssue> {
    let error = ProcedureCode::parse(code).err()?;
    Some(issue(path, issue_code::PROCEDURE_CODE_SHAPE, error.to_string()))
}

/// A date of service after `today`, at `path`.
pub fn service_date(service_date: Date, today: Date, path: &str) -> Option<ClaimIssue> {
    (service_date > today).then(|| {
        let message = format!("the date of service {} is after today, {}", crate::format_date(service_date), crate::format_date(today));
        issue(path, issue_code::SERVICE_DATE_FUTURE, message)
    })
}

/// A total that is not the sum of the line charges, at `path`.
pub fn total(total: Money, sum_of_lines: Money, path: &str) -> Option<ClaimIssue> {
    (total != sum_of_lines).then(|| {
        let message = format!("the total {total} is not the sum of the line charges, {sum_of_lines}");
        issue(path, issue_code::TOTAL_MISMATCH, message)
    })
}

/// A pointer to a diagnosis sequence the claim does not have, at `path`.
pub fn diagnosis_pointer<F: ClaimForm>(pointer: u32, diagnoses: &[Diagnosis<F>], path: &str) -> Option<ClaimIssue> {
    (!diagnoses.iter().any(|diagnosis| diagnosis.sequence == pointer)).then(|| {
        let message = format!("points at diagnosis {pointer}, which the claim does not have");
        issue(path, issue_code::DIAGNOSIS_POINTER, message)
    })
}

/// The edits of coordination of benefits, where `path_of_payer(payer_idx)`
/// and `path_of_line(payer_idx, line_idx)` locate an earlier payer and one of
/// its line decisions as read. A claim to a secondary or tertiary payer
/// carries an earlier payer's adjudication; each of its line decisions names
/// a line of the claim and balances (paid + Σ adjustments = the line's
/// charge, the 835's own rule), and a claim of several lines is decided line
/// by line (a decision of the whole cannot be split among lines).
pub fn coordination<F: ClaimForm>(
    cob: &Coordination,
    lines: &[ClaimLine<F>],
    sequence_path: &str,
    path_of_payer: impl Fn(usize) -> String,
    path_of_line: impl Fn(usize, usize) -> String,
) -> Vec<ClaimIssue> {
    let mut issues = Vec::new();
    if cob.sequence > crate::PayerSequence::Primary && cob.prior_payers.is_empty() {
        let message =
            format!("the claim goes to its {} payer but carries no earlier payer's adjudication (paid amount and adjustments)", cob.sequence.as_str());
        issues.push(issue(sequence_path, issue_code::COB_PRIOR_PAYER_MISSING, message));
    }
    for (payer_idx, payer) in cob.prior_payers.iter().enumerate() {
        if payer.lines.is_empty() && lines.len() > 1 {
            let message = format!(
                "payer {} decided this claim of {} lines only as a whole: send its decision of each line (837 2430 SVD/CAS, FHIR ClaimResponse.item)",
                payer.payer_id,
                lines.len()
            );
            issues.push(issue(&path_of_payer(payer_idx), issue_code::COB_LINES_MISSING, message));
        }
        for (line_idx, decided) in payer.lines.iter().enumerate() {
            let path = path_of_line(payer_idx, line_idx);
            let Some(line) = lines.iter().find(|line| line.sequence == decided.sequence) else {
                let message = format!("payer {} decided line {}, which the claim does not have", payer.payer_id, decided.sequence);
                issues.push(issue(&path, issue_code::COB_LINE_UNKNOWN, message));
                continue;
            };
            let accounted = Money::checked_sum(decided.adjustments.iter().map(|adjustment| &adjustment.amount)).and_then(|sum| sum.checked_add(decided.paid));
            if accounted != Some(line.charge) {
                let accounted = accounted.map_or_else(|| "out of range".to_owned(), |sum| sum.to_string());
                let message = format!(
                    "payer {}'s decision of line {} does not balance: paid {} + adjustments = {accounted}, the line's charge is {}",
                    payer.payer_id, decided.sequence, decided.paid, line.charge
                );
                issues.push(issue(&path, issue_code::COB_LINE_UNBALANCED, message));
            }
        }
    }
    issues
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn code_of(found: Option<ClaimIssue>) -> Option<String> {
        found.map(|issue| issue.code)
    }

    #[test]
    fn each_edit_names_its_code_and_path_only_when_it_fails() {
        let today = date!(2026 - 03 - 01);
        let diagnoses = [Diagnosis::<crate::AsRead> { sequence: 1, code: "E119".into() }];
        let cases: [(&str, Option<ClaimIssue>, Option<&str>); 14] = [
            ("good npi", npi("1234567893", "Claim.provider"), None),
            ("bad check digit", npi("1234567890", "Claim.provider"), Some("npi-check-digit")),
            ("short npi", npi("12345", "Claim.provider"), Some("npi-check-digit")),
            ("good icd", icd10("E11.9", "p"), None),
            ("bad icd", icd10("11.9E", "p"), Some("icd10-shape")),
            ("good hcpcs", procedure_code("G0008", "p"), None),
            ("bad hcpcs", procedure_code("G00", "p"), Some("procedure-code-shape")),
            ("today", service_date(today, today, "p"), None),
            ("yesterday", service_date(date!(2026 - 02 - 28), today, "p"), None),
            ("tomorrow", service_date(date!(2026 - 03 - 02), today, "p"), Some("service-date-future")),
            ("total equal", total(Money::from_cents(100), Money::from_cents(100), "p"), None),
            ("total off by a cent", total(Money::from_cents(101), Money::from_cents(100), "p"), Some("total-mismatch")),
            ("pointer found", diagnosis_pointer(1, &diagnoses, "p"), None),
            ("pointer dangling", diagnosis_pointer(2, &diagnoses, "p"), Some("diagnosis-pointer")),
        ];
        for (name, found, expected) in cases {
            assert_eq!(code_of(found), expected.map(str::to_owned), "{name}");
        }
    }

    #[test]
    fn an_issue_carries_the_path_it_was_given() {
        let found = npi("1234567890", "Bundle.entry[2].resource.provider").unwrap();
        assert_eq!(found.path, "Bundle.entry[2].resource.provider");
        assert!(found.message.contains("check digit"));
    }
}
