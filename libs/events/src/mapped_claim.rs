//! A claim as an edge read it (a FHIR Claim in claimtrail-fhir, an 837
//! claim in claimtrail-x12): the domain shape in its [`AsRead`] form, where
//! each field came from, and the front-end edits it failed; then
//! [`MappedClaim::parse`], the one place its identifiers and codes become
//! types. Also the limits both edges hold what they read to.

use claimtrail_codes::{ClaimId, Icd10Code, MemberId, Modifier, Npi, PayerId, PlaceOfService, RevenueCode, ServiceCode};
use uuid::Uuid;

use crate::claim::{AsRead, ClaimIssue, ClaimLine, ClaimType, Diagnosis, Frequency, Parsed, SubmittedClaim};
use crate::edits::issue_code;

/// The largest amount an edge accepts, in cents (9,999,999,999.99).
pub const MONEY_CENTS_MAX: i64 = 999_999_999_999;
/// The largest number of units on a line.
pub const QUANTITY_MAX: i64 = 99_999;

/// A claim as read, with the front-end edits it failed. A claim with issues
/// is well-formed: intake keeps it, with its id, as `rejected`.
///
/// `Debug` masks the member and subscriber ids and the patient control
/// number (PHI), as [`SubmittedClaim`]'s does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedClaim {
    /// What the reader found. Its `claim_id` is nil until intake gives the
    /// claim one ([`MappedClaim::with_id`]).
    pub claim: SubmittedClaim<AsRead>,
    /// Where each identifier and code was read, so a value that does not
    /// parse is an issue naming its element.
    pub paths: FieldPaths,
    /// Front-end edits failed, in document order; empty when the claim passes.
    pub issues: Vec<ClaimIssue>,
}

/// Where the reader found each identifier and code of a claim: FHIRPath
/// expressions or X12 positions. An empty path (a reader that did not say)
/// is named by the field instead (`lines[0].modifiers[1]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldPaths {
    pub billing_npi: String,
    pub rendering_npi: String,
    pub payer_id: String,
    pub member_id: String,
    pub subscriber_id: String,
    pub related_claim_id: String,
    /// One per diagnosis, in the claim's order: its code.
    pub diagnoses: Vec<String>,
    /// One per line, in the claim's order.
    pub lines: Vec<LinePaths>,
}

/// Where a line's codes were read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinePaths {
    pub procedure_code: String,
    /// One per modifier.
    pub modifiers: Vec<String>,
    pub place_of_service: String,
    pub revenue_code: String,
}

impl MappedClaim {
    /// A claim read at `paths`, without issues yet.
    pub fn new(claim: SubmittedClaim<AsRead>, paths: FieldPaths) -> MappedClaim {
        MappedClaim { claim, paths, issues: Vec::new() }
    }

    /// True when a front-end edit failed: the claim is to be kept as `rejected`.
    pub fn is_rejected(&self) -> bool {
        !self.issues.is_empty()
    }

    /// The claim under the id intake gave it.
    pub fn with_id(mut self, claim_id: Uuid) -> MappedClaim {
        self.claim.claim_id = claim_id;
        self
    }

    /// The claim with its identifiers and codes parsed, or an issue for each
    /// that does not parse, at the path it was read from. Issues the reader
    /// already reported (same path and code) are not repeated, so `Err` may
    /// be empty when the reader's own issues already say why; a claim with
    /// any issue is rejected either way.
    ///
    /// A replacement or void names its original by the id intake gave it (a
    /// UUID): any other number is `original-not-found`. An original claim
    /// names no claim, and a number it carries anyway (an 837's REF*F8 on a
    /// frequency 1 claim) is dropped unless it is such an id.
    pub fn parse(&self) -> Result<SubmittedClaim<Parsed>, Vec<ClaimIssue>> {
        let mut parser = Parser { known: &self.issues, issues: Vec::new() };
        let claim = &self.claim;
        let paths = &self.paths;
        let billing_npi = parser.field(&claim.billing_npi, &paths.billing_npi, "billing_npi", issue_code::NPI_CHECK_DIGIT, Npi::parse);
        let rendering_npi = parser.optional(claim.rendering_npi.as_deref(), &paths.rendering_npi, "rendering_npi", issue_code::NPI_CHECK_DIGIT, Npi::parse);
        let payer_id = parser.field(&claim.payer_id, &paths.payer_id, "payer_id", issue_code::PAYER_ID_SHAPE, PayerId::parse);
        let member_id = parser.field(&claim.member_id, &paths.member_id, "member_id", issue_code::MEMBER_ID_SHAPE, MemberId::parse);
        let subscriber_id =
            parser.optional(claim.subscriber_id.as_deref(), &paths.subscriber_id, "subscriber_id", issue_code::MEMBER_ID_SHAPE, MemberId::parse);
        let related_claim_id = match (claim.frequency, claim.related_claim_id.as_deref()) {
            (_, None) => Some(None),
            (Frequency::Original, Some(number)) => Some(ClaimId::parse(number).ok()),
            (_, Some(number)) => parser.optional(Some(number), &paths.related_claim_id, "related_claim_id", issue_code::ORIGINAL_NOT_FOUND, |text: &str| {
                ClaimId::parse(text).map_err(|_| format!("{text} is not a claim this organization submitted: a claim is named by the id intake gave it"))
            }),
        };
        let diagnoses: Vec<Option<Diagnosis<Parsed>>> = claim
            .diagnoses
            .iter()
            .enumerate()
            .map(|(diagnosis_idx, diagnosis)| {
                let path = paths.diagnoses.get(diagnosis_idx).map_or("", String::as_str);
                let code = parser.field(&diagnosis.code, path, &format!("diagnoses[{diagnosis_idx}].code"), issue_code::ICD10_SHAPE, Icd10Code::parse)?;
                Some(Diagnosis { sequence: diagnosis.sequence, code })
            })
            .collect();
        let lines: Vec<Option<ClaimLine<Parsed>>> =
            claim.lines.iter().enumerate().map(|(line_idx, line)| parser.line(claim.claim_type, line_idx, line, paths.lines.get(line_idx))).collect();
        let parsed = (|| {
            Some(SubmittedClaim {
                claim_id: claim.claim_id,
                claim_type: claim.claim_type,
                frequency: claim.frequency,
                related_claim_id: related_claim_id?,
                patient_control_number: claim.patient_control_number.clone(),
                billing_npi: billing_npi?,
                rendering_npi: rendering_npi?,
                payer_id: payer_id?,
                member_id: member_id?,
                diagnoses: diagnoses.into_iter().collect::<Option<Vec<_>>>()?,
                lines: lines.into_iter().collect::<Option<Vec<_>>>()?,
                total_charge: claim.total_charge,
                subscriber_id: subscriber_id?,
                service_zip: claim.service_zip.clone(),
                prior_authorization: claim.prior_authorization.clone(),
                drg: claim.drg.clone(),
                admission_date: claim.admission_date,
                statement_from: claim.statement_from,
                statement_to: claim.statement_to,
                type_of_bill: claim.type_of_bill.clone(),
                cob: claim.cob.clone(),
            })
        })();
        match parsed {
            Some(parsed) if parser.issues.is_empty() && self.issues.is_empty() => Ok(parsed),
            _ => Err(parser.issues),
        }
    }
}

/// Parses fields one by one, gathering an issue for each that fails.
struct Parser<'a> {
    /// The reader's issues, not to be repeated.
    known: &'a [ClaimIssue],
    issues: Vec<ClaimIssue>,
}

impl Parser<'_> {
    /// `text` parsed, or `None` with an issue at `path` (else named `field`).
    fn field<T, E: ToString>(&mut self, text: &str, path: &str, field: &str, code: &str, parse: impl FnOnce(&str) -> Result<T, E>) -> Option<T> {
        match parse(text) {
            Ok(value) => Some(value),
            Err(error) => {
                let path = if path.is_empty() { field.to_owned() } else { path.to_owned() };
                let found = ClaimIssue { path, code: code.to_owned(), message: error.to_string() };
                if !self.known.iter().chain(&self.issues).any(|known| known.path == found.path && known.code == found.code) {
                    self.issues.push(found);
                }
                None
            }
        }
    }

    /// `Some(None)` when absent, `Some(Some(_))` when it parses, `None` (with an issue) when it does not.
    fn optional<T, E: ToString>(
        &mut self,
        text: Option<&str>,
        path: &str,
        field: &str,
        code: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<Option<T>> {
        match text {
            None => Some(None),
            Some(text) => self.field(text, path, field, code, parse).map(Some),
        }
    }

    fn line(&mut self, claim_type: ClaimType, line_idx: usize, line: &ClaimLine<AsRead>, paths: Option<&LinePaths>) -> Option<ClaimLine<Parsed>> {
        let default_paths = LinePaths::default();
        let paths = paths.unwrap_or(&default_paths);
        let field = |name: &str| format!("lines[{line_idx}].{name}");
        // A professional line carries a HCPCS / CPT code; only an institutional one may be billed by revenue code alone.
        let procedure_code = match claim_type {
            ClaimType::Professional => self
                .field(
                    &line.procedure_code,
                    &paths.procedure_code,
                    &field("procedure_code"),
                    issue_code::PROCEDURE_CODE_SHAPE,
                    claimtrail_codes::ProcedureCode::parse,
                )
                .map(ServiceCode::from),
            ClaimType::Institutional => {
                self.field(&line.procedure_code, &paths.procedure_code, &field("procedure_code"), issue_code::PROCEDURE_CODE_SHAPE, ServiceCode::parse)
            }
        };
        let modifiers: Vec<Option<Modifier>> = line
            .modifiers
            .iter()
            .enumerate()
            .map(|(modifier_idx, modifier)| {
                let path = paths.modifiers.get(modifier_idx).map_or("", String::as_str);
                self.field(modifier, path, &field(&format!("modifiers[{modifier_idx}]")), issue_code::MODIFIER_SHAPE, Modifier::parse)
            })
            .collect();
        let place_of_service = self.optional(
            line.place_of_service.as_deref(),
            &paths.place_of_service,
            &field("place_of_service"),
            issue_code::PLACE_OF_SERVICE_SHAPE,
            PlaceOfService::parse,
        );
        let revenue_code =
            self.optional(line.revenue_code.as_deref(), &paths.revenue_code, &field("revenue_code"), issue_code::REVENUE_CODE_SHAPE, RevenueCode::parse);
        Some(ClaimLine {
            sequence: line.sequence,
            procedure_code: procedure_code?,
            modifiers: modifiers.into_iter().collect::<Option<Vec<_>>>()?,
            quantity: line.quantity,
            charge: line.charge,
            service_date: line.service_date,
            place_of_service: place_of_service?,
            diagnosis_pointers: line.diagnosis_pointers.clone(),
            revenue_code: revenue_code?,
        })
    }
}

#[cfg(test)]
mod tests;
