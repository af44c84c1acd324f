//! FHIR R4 Claim → [`MappedClaim`].
//!
//! Which element gives which domain field, in order of precedence:
//! - claim type: `type.coding` (system `claim-type` or none) `professional` | `institutional`;
//! - billing NPI: `provider` → Practitioner/Organization `identifier` with system
//!   [`US_NPI`], or `provider.identifier` with that system;
//! - rendering NPI: `careTeam[]` (the first with role `primary`, else the first) `.provider`, likewise;
//! - coverage: `insurance[]` (the first with `focal: true`, else the first) `.coverage` → Coverage;
//! - payer id: `Coverage.payor[0]` → Organization `identifier[0].value` (any system), else its `id`,
//!   or `payor[0].identifier.value`; when the coverage is only a logical reference, `Claim.insurer` likewise;
//! - member id: `Coverage.subscriberId`, else `Coverage.identifier[0].value` (or the logical coverage
//!   reference's identifier), else `insurance[].identifier.value`, else the Patient's identifier
//!   (the one typed `MB`, else the first) or `patient.identifier.value`;
//! - patient control number: `identifier[0].value`;
//! - frequency: `status: cancelled` with a `related[].claim` → void; `related[].relationship` coded
//!   `replaces` → replacement of `related[].claim` (`identifier.value`, else the reference's id); else original;
//! - diagnoses: `diagnosis[]` `sequence` + the `diagnosisCodeableConcept.coding` with an ICD-10(-CM)
//!   system, dot removed, upper-case;
//! - lines: `item[]` `sequence`, `productOrService` (the HCPCS or CPT coding, else the first),
//!   `modifier[].coding[0]`, `quantity.value` (default 1), charge = `net.value`, else
//!   quantity × `unitPrice.value` rounded half away from zero to the cent (both given: they must agree),
//!   date = `servicedDate`, else `servicedPeriod.start`, else `Claim.billablePeriod.start`,
//!   place of service = `locationCodeableConcept.coding[0].code`, pointers = `diagnosisSequence`;
//! - total charge: `total.value`, else the sum of the line charges;
//! - revenue code (institutional lines): `item[].revenue.coding[0].code`;
//! - subscriber id (the family's partition key): `Coverage.subscriberId`; absent otherwise;
//! - prior authorization: the chosen insurance's `preAuthRef[0]`;
//! - service ZIP: the first `item[].locationAddress.postalCode`, else `Claim.facility` →
//!   Location `address.postalCode`, else the billing provider's (Organization or
//!   Practitioner) first `address[].postalCode`; 5 or 9 digits (a `-` is dropped),
//!   anything else is passed over;
//! - DRG (institutional): the first `diagnosis[].packageCode` coding's code: R4's element for
//!   "the package billing code" (`Claim.diagnosis.packageCode`, bound to the example DRG codes);
//! - admission date (institutional): `supportingInfo[]` with the category code
//!   `admissionperiod` (CARIN BB's, the US Core practice for R4, which has no
//!   `Claim.hospitalization`): its `timingPeriod.start`, else `timingDate`;
//! - statement period (institutional): `billablePeriod.start` and `.end`;
//! - type of bill (institutional): `supportingInfo[]` of category
//!   `typeofbill` (CARIN BB), the coding of `https://www.nubc.org/CodeSystem/TypeOfBill`
//!   (`0111`, kept as the 837I's `111`);
//! - coordination of benefits: the focal insurance's `sequence` and each earlier
//!   insurance's `claimResponse` (see `cob`).
//!
//! Each identifier and code is mapped as read; where it was read goes in the
//! [`FieldPaths`], and intake parses it into its type
//! ([`MappedClaim::parse`]), so a malformed value is an issue at its path.

use std::collections::HashMap;

use claimtrail_events::{AsRead, ClaimIssue, ClaimType, Coordination, FieldPaths, Frequency, LinePaths, MappedClaim, Money, SubmittedClaim};
use uuid::Uuid;

type ClaimLine = claimtrail_events::ClaimLine<AsRead>;
type Diagnosis = claimtrail_events::Diagnosis<AsRead>;
use rust_decimal::Decimal;
use time::Date;

use crate::error::{Errors, FieldError};
use crate::node::{Json, Obj, find_coding};
use crate::resolve::{BundleIndex, Contained, Resource, Target, resolve};
use crate::{DIAGNOSES_PER_CLAIM_MAX, LINES_PER_CLAIM_MAX, MODIFIERS_PER_LINE_MAX, amount, edits};

/// The NUBC Type of Bill code system (UB-04 form locator 4), as CARIN BB binds it.
const NUBC_TYPE_OF_BILL: &str = "https://www.nubc.org/CodeSystem/TypeOfBill";

/// The identifier system of NPIs.
pub const US_NPI: &str = "http://hl7.org/fhir/sid/us-npi";
/// The code system of `Claim.type`.
pub const CLAIM_TYPE_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/claim-type";
/// ICD-10-CM; plain ICD-10 (`http://hl7.org/fhir/sid/icd-10`) is accepted too.
pub const ICD10_CM: &str = "http://hl7.org/fhir/sid/icd-10-cm";
const ICD10: &str = "http://hl7.org/fhir/sid/icd-10";
/// HCPCS Level II.
pub const HCPCS: &str = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets";
/// CPT (HCPCS Level I).
pub const CPT: &str = "http://www.ama-assn.org/go/cpt";
const V2_0203: &str = "http://terminology.hl7.org/CodeSystem/v2-0203";

const PROVIDER_TYPES: &[&str] = &["Practitioner", "Organization"];

/// Maps one Claim resource at `claim.path` (`Claim` or `Bundle.entry[n].resource`).
pub(crate) fn map_claim<'a>(claim: &Obj<'a>, bundle: Option<&BundleIndex<'a>>, today: Date) -> Result<MappedClaim, Vec<FieldError>> {
    let mut mapper = Mapper { claim, bundle, errors: Errors::default(), issues: Vec::new(), scope: Contained::default(), paths: FieldPaths::default() };
    mapper.scope = Contained::of(claim, &mut mapper.errors);
    let mapped = mapper.map(today);
    match mapped {
        Some(mapped) if mapper.errors.is_empty() => Ok(MappedClaim { claim: mapped, paths: mapper.paths, issues: mapper.issues }),
        _ => {
            if mapper.errors.is_empty() {
                mapper.errors.push(claim.path.clone(), "cannot be mapped to a claim");
            }
            Err(mapper.errors.into_vec())
        }
    }
}

struct Mapper<'c, 'a> {
    claim: &'c Obj<'a>,
    bundle: Option<&'c BundleIndex<'a>>,
    scope: Contained<'a>,
    errors: Errors,
    issues: Vec<ClaimIssue>,
    /// Where each identifier and code was read.
    paths: FieldPaths,
}

/// What the chosen insurance says.
struct PayerAndMember {
    payer_id: String,
    member_id: String,
    subscriber_id: Option<String>,
    prior_authorization: Option<String>,
}

/// A line's date of service and the FHIRPath it came from.
struct ServiceDate {
    date: Date,
    path: String,
}

impl<'a> Mapper<'_, 'a> {
    /// Reads every element, collecting errors; `None` if something required is missing.
    fn map(&mut self, today: Date) -> Option<SubmittedClaim<AsRead>> {
        let cancelled = self.status();
        self.use_is_claim();
        let claim_type = self.claim_type();
        self.claim.obj("patient", true, &mut self.errors);
        self.created();
        self.claim.obj("priority", true, &mut self.errors);
        let billing_npi = self.billing_npi();
        let rendering_npi = self.rendering_npi();
        let payer_and_member = self.payer_and_member();
        let billing_zip = self.billing_zip();
        let patient_control_number = self.patient_control_number();
        let frequency = self.frequency(cancelled);
        let billable_start = self.billable_start();
        let diagnoses = self.diagnoses();
        let lines = self.lines(billable_start.as_ref(), &diagnoses, today);
        let total_charge = self.total_charge(&lines);
        let PayerAndMember { payer_id, member_id, subscriber_id, prior_authorization } = payer_and_member?;
        let (frequency, related_claim_id) = frequency?;
        let claim_type = claim_type?;
        let institutional = claim_type == ClaimType::Institutional;
        let service_zip = self.item_zip().or_else(|| self.facility_zip()).or(billing_zip);
        let (statement_from, statement_to) = if institutional { self.billable_period() } else { (None, None) };
        let type_of_bill = if institutional { self.type_of_bill() } else { None };
        let cob = self.coordination(&lines);
        Some(SubmittedClaim {
            claim_id: Uuid::nil(),
            claim_type,
            frequency,
            related_claim_id,
            patient_control_number,
            billing_npi: billing_npi?,
            rendering_npi: rendering_npi?,
            payer_id,
            member_id,
            diagnoses,
            lines,
            total_charge: total_charge?,
            subscriber_id,
            service_zip,
            prior_authorization,
            drg: if institutional { self.drg() } else { None },
            admission_date: if institutional { self.admission_date() } else { None },
            statement_from,
            statement_to,
            type_of_bill,
            cob,
        })
    }

    /// `insurance[]`'s coordination of benefits (crate::cob), with its front-end edits.
    fn coordination(&mut self, lines: &[ClaimLine]) -> Option<Coordination> {
        let (cob, paths, sequence_path) = crate::cob::coordination(self.claim, &self.scope, self.bundle, &mut self.errors)?;
        self.issues.extend(edits::coordination(
            &cob,
            lines,
            &sequence_path,
            |payer_idx| paths[payer_idx].payer.clone(),
            |payer_idx, line_idx| paths[payer_idx].lines[line_idx].clone(),
        ));
        Some(cob)
    }

    /// The first `item[].locationAddress.postalCode` of the right shape.
    fn item_zip(&self) -> Option<String> {
        let quiet = &mut Errors::default();
        let items = self.claim.arr("item", false, quiet)?;
        items.objs(quiet).iter().find_map(|item| item.obj("locationAddress", false, quiet).and_then(|address| zip_of(&address)))
    }

    /// `Claim.facility` → Location `address.postalCode`.
    fn facility_zip(&self) -> Option<String> {
        let quiet = &mut Errors::default();
        let facility = self.claim.obj("facility", false, quiet)?;
        match resolve(&facility, &self.scope, self.bundle, &["Location"], quiet)? {
            Target::Resource(location) => location.obj.obj("address", false, quiet).and_then(|address| zip_of(&address)),
            Target::Identifier { .. } => None,
        }
    }

    /// The billing provider's first address of the right shape.
    fn billing_zip(&self) -> Option<String> {
        let quiet = &mut Errors::default();
        let provider = self.claim.obj("provider", false, quiet)?;
        match resolve(&provider, &self.scope, self.bundle, PROVIDER_TYPES, quiet)? {
            Target::Resource(resource) => {
                let addresses = resource.obj.arr("address", false, quiet)?;
                addresses.objs(quiet).iter().find_map(zip_of)
            }
            Target::Identifier { .. } => None,
        }
    }

    /// `billablePeriod` (start, end), each when it is a full date.
    fn billable_period(&self) -> (Option<Date>, Option<Date>) {
        let quiet = &mut Errors::default();
        let Some(period) = self.claim.obj("billablePeriod", false, quiet) else {
            return (None, None);
        };
        let end = period.str("end", false, quiet).and_then(date_of);
        (period.str("start", false, quiet).and_then(date_of), end)
    }

    /// The first `diagnosis[].packageCode` coding's code.
    fn drg(&self) -> Option<String> {
        let quiet = &mut Errors::default();
        let entries = self.claim.arr("diagnosis", false, quiet)?;
        entries.objs(quiet).iter().find_map(|entry| {
            let concept = entry.obj("packageCode", false, &mut Errors::default())?;
            find_coding(&concept, &mut Errors::default(), |_| true).map(|(_, _, code)| code.to_owned())
        })
    }

    /// `supportingInfo[]` of category `admissionperiod`: `timingPeriod.start`, else `timingDate`.
    fn admission_date(&self) -> Option<Date> {
        let quiet = &mut Errors::default();
        let infos = self.claim.arr("supportingInfo", false, quiet)?;
        infos.objs(quiet).iter().find_map(|info| {
            let quiet = &mut Errors::default();
            let category = info.obj("category", false, quiet)?;
            if !has_code(&category, "admissionperiod", quiet) {
                return None;
            }
            let start = info.obj("timingPeriod", false, quiet).and_then(|period| period.str("start", false, quiet));
            start.or_else(|| info.str("timingDate", false, quiet)).and_then(date_of)
        })
    }

    /// `supportingInfo[]` of category `typeofbill` (CARIN BB): its `code`'s
    /// coding of the NUBC Type of Bill system, in the 837I's three
    /// characters; a malformed one is an error at its path. CMS Blue Button's
    /// `typeofbill` entry coded with the frequency alone (`clm_freq_cd`) is
    /// no type of bill and is not read.
    fn type_of_bill(&mut self) -> Option<String> {
        let quiet = &mut Errors::default();
        let infos = self.claim.arr("supportingInfo", false, quiet)?;
        let (path, code) = infos.objs(quiet).iter().find_map(|info| {
            let quiet = &mut Errors::default();
            let category = info.obj("category", false, quiet)?;
            if !has_code(&category, "typeofbill", quiet) {
                return None;
            }
            let codings = info.obj("code", false, quiet)?.arr("coding", false, quiet)?;
            codings.objs(quiet).into_iter().find_map(|coding| {
                let quiet = &mut Errors::default();
                (coding.str("system", false, quiet) == Some(NUBC_TYPE_OF_BILL))
                    .then(|| (coding.path_of("code"), coding.str("code", false, quiet).unwrap_or("")))
            })
        })?;
        let type_of_bill = claimtrail_events::type_of_bill(code);
        if type_of_bill.is_none() {
            self.errors.push(path, format!("`{code}` is not a type of bill: four digits with the leading zero (0111), or the 837I's three (111)"));
        }
        type_of_bill
    }

    fn path(&self, relative: &str) -> String {
        self.claim.path_of(relative)
    }

    /// True when the claim is `cancelled` (a void).
    fn status(&mut self) -> bool {
        match self.claim.str("status", true, &mut self.errors) {
            Some("active") | None => false,
            Some("cancelled") => true,
            Some(other) => {
                let message = format!("`{other}` claims are not accepted: send an `active` claim, or a `cancelled` one to void an earlier claim");
                self.errors.push(self.path("status"), message);
                false
            }
        }
    }

    fn use_is_claim(&mut self) {
        match self.claim.str("use", true, &mut self.errors) {
            Some("claim") | None => {}
            Some(other @ ("preauthorization" | "predetermination")) => {
                let message = format!("`{other}` is not supported yet: only `claim` is accepted");
                self.errors.push(self.path("use"), message);
            }
            Some(other) => {
                let message = format!("`{other}` is not a Claim.use code (claim, preauthorization, predetermination)");
                self.errors.push(self.path("use"), message);
            }
        }
    }

    fn claim_type(&mut self) -> Option<ClaimType> {
        let concept = self.claim.obj("type", true, &mut self.errors)?;
        let found = find_coding(&concept, &mut self.errors, |system| system.is_none_or(|s| s == CLAIM_TYPE_SYSTEM));
        match found.map(|(_, _, code)| code) {
            Some("professional") => Some(ClaimType::Professional),
            Some("institutional") => Some(ClaimType::Institutional),
            Some(other) => {
                let message = format!("`{other}` claims are not supported: professional or institutional");
                self.errors.push(concept.path_of("coding"), message);
                None
            }
            None => {
                let message = format!("needs a coding from {CLAIM_TYPE_SYSTEM}: professional or institutional");
                self.errors.push(concept.path_of("coding"), message);
                None
            }
        }
    }

    fn created(&mut self) {
        if let Some(created) = self.claim.str("created", true, &mut self.errors)
            && !is_date_time(created)
        {
            self.errors.push(self.path("created"), format!("`{created}` is not a FHIR dateTime"));
        }
    }

    fn billing_npi(&mut self) -> Option<String> {
        let provider = self.claim.obj("provider", true, &mut self.errors)?;
        let npi = self.npi_of(&provider)?;
        self.issues.extend(edits::npi(&npi, &provider.path));
        self.paths.billing_npi = provider.path.clone();
        Some(npi)
    }

    /// `Some(None)` when there is no care team; `None` when it cannot be read.
    fn rendering_npi(&mut self) -> Option<Option<String>> {
        let Some(care_team) = self.claim.arr("careTeam", false, &mut self.errors) else {
            return Some(None);
        };
        let members = care_team.objs(&mut self.errors);
        let primary = members.iter().position(|member| {
            let role = member.obj("role", false, &mut Errors::default());
            role.and_then(|role| find_coding(&role, &mut Errors::default(), |_| true)).is_some_and(|(_, _, code)| code == "primary")
        });
        let Some(member) = members.get(primary.unwrap_or(0)) else {
            return Some(None);
        };
        let provider = member.obj("provider", true, &mut self.errors)?;
        let npi = self.npi_of(&provider)?;
        self.issues.extend(edits::npi(&npi, &provider.path));
        self.paths.rendering_npi = provider.path.clone();
        Some(Some(npi))
    }

    /// The NPI of the Practitioner or Organization a reference names.
    fn npi_of(&mut self, reference: &Obj<'a>) -> Option<String> {
        match resolve(reference, &self.scope, self.bundle, PROVIDER_TYPES, &mut self.errors)? {
            Target::Identifier { system: Some(US_NPI), value } => Some(value.to_owned()),
            Target::Identifier { system, .. } => {
                let message = format!(
                    "the identifier's system is {}, not {US_NPI}: the provider is named by its NPI",
                    system.map_or("absent".to_owned(), |s| format!("`{s}`"))
                );
                self.errors.push(reference.path_of("identifier.system"), message);
                None
            }
            Target::Resource(resource) => {
                let npi = resource_npi(&resource, &mut self.errors);
                if npi.is_none() {
                    let message = format!("the {} at {} has no identifier with system {US_NPI}", resource.resource_type, resource.obj.path);
                    self.errors.push(reference.path.clone(), message);
                }
                npi
            }
        }
    }

    fn payer_and_member(&mut self) -> Option<PayerAndMember> {
        let insurance = self.claim.arr("insurance", true, &mut self.errors)?;
        let policies = insurance.objs(&mut self.errors);
        let focal = policies.iter().position(|policy| policy.bool("focal", &mut self.errors) == Some(true));
        let Some(policy) = policies.get(focal.unwrap_or(0)) else {
            if insurance.len() == 0 {
                self.errors.push(insurance.path.clone(), "needs at least one insurance");
            }
            return None;
        };
        let coverage_ref = policy.obj("coverage", true, &mut self.errors)?;
        let coverage = resolve(&coverage_ref, &self.scope, self.bundle, &["Coverage"], &mut self.errors)?;
        self.paths.payer_id = coverage_ref.path.clone();
        self.paths.member_id = coverage_ref.path.clone();
        let mut subscriber_id = None;
        let (payer_id, coverage_member_id) = match &coverage {
            Target::Resource(coverage) => {
                let payer_id = self.coverage_payer(coverage);
                let subscriber = coverage.obj.str("subscriberId", false, &mut self.errors);
                if let Some(subscriber) = subscriber {
                    subscriber_id = Some(subscriber.to_owned());
                    self.paths.subscriber_id = coverage.obj.path_of("subscriberId");
                }
                let member_id = subscriber.or_else(|| first_identifier_value(&coverage.obj, &mut self.errors));
                (payer_id, member_id)
            }
            Target::Identifier { value, .. } => {
                let payer_id = match self.claim.obj("insurer", false, &mut self.errors) {
                    Some(insurer) => self.payer_of(&insurer),
                    None => {
                        let message =
                            "a logical Coverage reference names no payer: contain the Coverage or put it in the Bundle, or name the payer in Claim.insurer";
                        self.errors.push(coverage_ref.path.clone(), message);
                        None
                    }
                };
                (payer_id, Some(*value))
            }
        };
        let member_id = match coverage_member_id {
            Some(member_id) => Some(member_id.to_owned()),
            None => self.member_from_insurance_or_patient(policy, &coverage_ref.path),
        };
        let prior_authorization = policy
            .arr("preAuthRef", false, &mut self.errors)
            .and_then(|references| match references.items.first() {
                Some(Json::String(reference)) => Some(reference.trim().to_owned()),
                _ => None,
            })
            .filter(|reference| !reference.is_empty());
        Some(PayerAndMember { payer_id: payer_id?, member_id: member_id?, subscriber_id, prior_authorization })
    }

    fn coverage_payer(&mut self, coverage: &Resource<'a>) -> Option<String> {
        let payors = coverage.obj.arr("payor", true, &mut self.errors)?;
        if payors.len() == 0 {
            self.errors.push(payors.path.clone(), "needs at least one payor");
            return None;
        }
        let payor = payors.obj(0, &mut self.errors)?;
        let scope = coverage.scope.clone();
        payer_of(&payor, &scope, self.bundle, &mut self.errors)
    }

    fn payer_of(&mut self, reference: &Obj<'a>) -> Option<String> {
        let scope = self.scope.clone();
        payer_of(reference, &scope, self.bundle, &mut self.errors)
    }

    fn member_from_insurance_or_patient(&mut self, policy: &Obj<'a>, coverage_path: &str) -> Option<String> {
        let from_insurance = policy.obj("identifier", false, &mut self.errors).and_then(|identifier| identifier.str("value", false, &mut self.errors));
        if let Some(member_id) = from_insurance {
            return Some(member_id.to_owned());
        }
        let from_patient = match self.claim.obj("patient", false, &mut Errors::default()) {
            Some(patient) => match resolve(&patient, &self.scope, self.bundle, &["Patient"], &mut self.errors) {
                Some(Target::Identifier { value, .. }) => Some(value.to_owned()),
                Some(Target::Resource(patient)) => member_identifier(&patient.obj, &mut self.errors),
                None => return None,
            },
            None => None,
        };
        if from_patient.is_none() {
            let message = "names no member id: the Coverage has no subscriberId or identifier, the insurance no identifier and the Patient no identifier";
            self.errors.push(coverage_path.to_owned(), message);
        }
        from_patient
    }

    fn patient_control_number(&mut self) -> Option<String> {
        let identifiers = self.claim.arr("identifier", false, &mut self.errors)?;
        let identifier = identifiers.obj(0, &mut self.errors)?;
        identifier.str("value", false, &mut self.errors).map(str::to_owned)
    }

    /// (frequency, the related claim's number); `None` when it cannot be told.
    fn frequency(&mut self, cancelled: bool) -> Option<(Frequency, Option<String>)> {
        let mut replaces = None;
        let mut first_named = None;
        if let Some(related) = self.claim.arr("related", false, &mut self.errors) {
            for relation in related.objs(&mut self.errors) {
                let named = relation.obj("claim", false, &mut self.errors).and_then(|claim| related_claim_number(&claim, &mut self.errors));
                let is_replacement =
                    relation.obj("relationship", false, &mut self.errors).is_some_and(|relationship| has_code(&relationship, "replaces", &mut self.errors));
                if is_replacement && replaces.is_none() {
                    replaces = Some((relation.path.clone(), named.clone()));
                    self.paths.related_claim_id = relation.path_of("claim");
                }
                if first_named.is_none() && named.is_some() {
                    first_named = named;
                    if self.paths.related_claim_id.is_empty() {
                        self.paths.related_claim_id = relation.path_of("claim");
                    }
                }
            }
        }
        if cancelled {
            let voided = replaces.as_ref().and_then(|(_, named)| named.clone()).or(first_named);
            if voided.is_none() {
                let message = "a cancelled Claim voids an earlier claim and must name it in related[].claim (identifier.value or reference)";
                self.errors.push(self.path("status"), message);
            }
            return voided.map(|number| (Frequency::Void, Some(number)));
        }
        match replaces {
            Some((_, Some(number))) => Some((Frequency::Replacement, Some(number))),
            Some((path, None)) => {
                self.errors.push(format!("{path}.claim"), "a replacement must name the claim it replaces (identifier.value or reference)");
                None
            }
            None => Some((Frequency::Original, None)),
        }
    }

    fn billable_start(&mut self) -> Option<ServiceDate> {
        let period = self.claim.obj("billablePeriod", false, &mut self.errors)?;
        let start = period.str("start", false, &mut self.errors)?;
        let path = period.path_of("start");
        match date_of(start) {
            Some(date) => Some(ServiceDate { date, path }),
            None => {
                self.errors.push(path, format!("`{start}` is not a FHIR dateTime with a full date"));
                None
            }
        }
    }

    fn diagnoses(&mut self) -> Vec<Diagnosis> {
        let Some(entries) = self.claim.arr("diagnosis", false, &mut self.errors) else {
            return Vec::new();
        };
        if entries.len() > DIAGNOSES_PER_CLAIM_MAX {
            let message = format!("{} diagnoses; at most {DIAGNOSES_PER_CLAIM_MAX} per claim (DIAGNOSES_PER_CLAIM_MAX)", entries.len());
            self.errors.push(entries.path.clone(), message);
            return Vec::new();
        }
        let mut diagnoses = Vec::new();
        let mut seen: HashMap<u32, String> = HashMap::new();
        for entry in entries.objs(&mut self.errors) {
            let sequence = entry.positive_int("sequence", true, &mut self.errors);
            if let Some(sequence) = sequence
                && let Some(earlier) = seen.insert(sequence, entry.path.clone())
            {
                self.errors.push(entry.path_of("sequence"), format!("sequence {sequence} repeats {earlier}"));
            }
            if entry.has("diagnosisReference") && !entry.has("diagnosisCodeableConcept") {
                let message = "a diagnosis by reference (Condition) is not supported: send diagnosisCodeableConcept with an ICD-10-CM coding";
                self.errors.push(entry.path_of("diagnosisReference"), message);
                continue;
            }
            let Some(concept) = entry.obj("diagnosisCodeableConcept", true, &mut self.errors) else {
                continue;
            };
            let icd = find_coding(&concept, &mut self.errors, |system| matches!(system, Some(ICD10_CM | ICD10)));
            let Some((coding_idx, _, code)) = icd else {
                self.errors.push(concept.path_of("coding"), format!("needs a coding with system {ICD10_CM}"));
                continue;
            };
            let code_path = format!("{}.coding[{coding_idx}].code", concept.path);
            self.issues.extend(edits::icd10(code, &code_path));
            if let Some(sequence) = sequence {
                diagnoses.push(Diagnosis { sequence, code: crate::Icd10Code::normalize(code) });
                self.paths.diagnoses.push(code_path);
            }
        }
        diagnoses
    }

    fn lines(&mut self, billable_start: Option<&ServiceDate>, diagnoses: &[Diagnosis], today: Date) -> Vec<ClaimLine> {
        let Some(items) = self.claim.arr("item", true, &mut self.errors) else {
            return Vec::new();
        };
        if items.len() == 0 {
            self.errors.push(items.path.clone(), "needs at least one item (service line)");
            return Vec::new();
        }
        if items.len() > LINES_PER_CLAIM_MAX {
            let message = format!("{} items; at most {LINES_PER_CLAIM_MAX} lines per claim (LINES_PER_CLAIM_MAX, as X12 837P allows)", items.len());
            self.errors.push(items.path.clone(), message);
            return Vec::new();
        }
        let mut lines = Vec::new();
        let mut seen: HashMap<u32, String> = HashMap::new();
        let mut future_paths: Vec<String> = Vec::new();
        for item in items.objs(&mut self.errors) {
            let sequence = item.positive_int("sequence", true, &mut self.errors);
            if let Some(sequence) = sequence
                && let Some(earlier) = seen.insert(sequence, item.path.clone())
            {
                self.errors.push(item.path_of("sequence"), format!("sequence {sequence} repeats {earlier}"));
            }
            let mut line_paths = LinePaths::default();
            let procedure_code = self.procedure_code(&item, &mut line_paths);
            let modifiers = self.modifiers(&item, &mut line_paths);
            let quantity = self.quantity(&item);
            let charge = quantity.and_then(|quantity| self.charge(&item, quantity));
            let service_date = self.service_date(&item, billable_start);
            let place_of_service = item.obj("locationCodeableConcept", false, &mut self.errors).and_then(|concept| {
                let (coding_idx, _, code) = find_coding(&concept, &mut self.errors, |_| true)?;
                line_paths.place_of_service = format!("{}.coding[{coding_idx}].code", concept.path);
                Some(code.to_owned())
            });
            let revenue_code = item.obj("revenue", false, &mut self.errors).and_then(|concept| {
                let (coding_idx, _, code) = find_coding(&concept, &mut self.errors, |_| true)?;
                line_paths.revenue_code = format!("{}.coding[{coding_idx}].code", concept.path);
                Some(code.to_owned())
            });
            let diagnosis_pointers = self.pointers(&item, diagnoses);
            if let Some(service_date) = &service_date
                && !future_paths.contains(&service_date.path)
                && let Some(issue) = edits::service_date(service_date.date, today, &service_date.path)
            {
                future_paths.push(service_date.path.clone());
                self.issues.push(issue);
            }
            if let (Some(sequence), Some(procedure_code), Some(modifiers), Some(quantity), Some(charge), Some(service_date)) =
                (sequence, procedure_code, modifiers, quantity, charge, service_date)
            {
                lines.push(ClaimLine {
                    sequence,
                    procedure_code,
                    modifiers,
                    quantity,
                    charge,
                    service_date: service_date.date,
                    place_of_service,
                    diagnosis_pointers,
                    revenue_code,
                });
                self.paths.lines.push(line_paths);
            }
        }
        lines
    }

    fn procedure_code(&mut self, item: &Obj<'a>, line_paths: &mut LinePaths) -> Option<String> {
        let concept = item.obj("productOrService", true, &mut self.errors)?;
        let preferred = find_coding(&concept, &mut Errors::default(), |system| matches!(system, Some(HCPCS | CPT)));
        let Some((coding_idx, _, code)) = preferred.or_else(|| find_coding(&concept, &mut self.errors, |_| true)) else {
            self.errors.push(concept.path_of("coding"), "needs a coding with a HCPCS or CPT code");
            return None;
        };
        let code_path = format!("{}.coding[{coding_idx}].code", concept.path);
        self.issues.extend(edits::procedure_code(code, &code_path));
        line_paths.procedure_code = code_path;
        Some(code.to_ascii_uppercase())
    }

    fn modifiers(&mut self, item: &Obj<'a>, line_paths: &mut LinePaths) -> Option<Vec<String>> {
        let Some(concepts) = item.arr("modifier", false, &mut self.errors) else {
            return Some(Vec::new());
        };
        if concepts.len() > MODIFIERS_PER_LINE_MAX {
            let message = format!("{} modifiers; at most {MODIFIERS_PER_LINE_MAX} per line (MODIFIERS_PER_LINE_MAX)", concepts.len());
            self.errors.push(concepts.path.clone(), message);
            return None;
        }
        let mut modifiers = Vec::new();
        for concept in concepts.objs(&mut self.errors) {
            match find_coding(&concept, &mut self.errors, |_| true) {
                Some((coding_idx, _, code)) => {
                    modifiers.push(code.to_ascii_uppercase());
                    line_paths.modifiers.push(format!("{}.coding[{coding_idx}].code", concept.path));
                }
                None => self.errors.push(concept.path_of("coding"), "needs a coding with a code"),
            }
        }
        (modifiers.len() == concepts.len()).then_some(modifiers)
    }

    fn quantity(&mut self, item: &Obj<'a>) -> Option<Decimal> {
        let Some(quantity) = item.obj("quantity", false, &mut self.errors) else {
            return Some(Decimal::ONE);
        };
        match quantity.number("value", false, &mut self.errors) {
            Some(value) => amount::quantity(value, quantity.path_of("value"), &mut self.errors),
            None if quantity.has("value") => None,
            None => Some(Decimal::ONE),
        }
    }

    fn charge(&mut self, item: &Obj<'a>, quantity: Decimal) -> Option<Money> {
        let unit_price = money_element(item, "unitPrice", &mut self.errors);
        let net = money_element(item, "net", &mut self.errors);
        let extended = |unit_price: Money| quantity.checked_mul(unit_price.amount()).map(Money::round_half_away_from_zero);
        match (net, unit_price) {
            (Ok(Some(net)), Ok(Some(unit_price))) => {
                let expected = extended(unit_price)?;
                if net != expected {
                    let message = format!("net {net} is not quantity {quantity} × unitPrice {unit_price} = {expected}");
                    self.errors.push(item.path_of("net.value"), message);
                    return None;
                }
                Some(net)
            }
            (Ok(Some(net)), Ok(None)) => Some(net),
            (Ok(None), Ok(Some(unit_price))) => extended(unit_price),
            (Ok(None), Ok(None)) => {
                self.errors.push(item.path_of("net"), "the line has no charge: give net or unitPrice");
                None
            }
            _ => None,
        }
    }

    fn service_date(&mut self, item: &Obj<'a>, billable_start: Option<&ServiceDate>) -> Option<ServiceDate> {
        let (text, path) = if let Some(text) = item.str("servicedDate", false, &mut self.errors) {
            (text, item.path_of("servicedDate"))
        } else if let Some(period) = item.obj("servicedPeriod", false, &mut self.errors) {
            let text = period.str("start", true, &mut self.errors)?;
            (text, period.path_of("start"))
        } else if item.has("servicedDate") {
            return None;
        } else {
            return match billable_start {
                Some(start) => Some(ServiceDate { date: start.date, path: start.path.clone() }),
                None => {
                    let message = "the line has no date of service: give servicedDate, servicedPeriod.start or Claim.billablePeriod.start";
                    self.errors.push(item.path_of("servicedDate"), message);
                    None
                }
            };
        };
        match date_of(text) {
            Some(date) => Some(ServiceDate { date, path }),
            None => {
                self.errors.push(path, format!("`{text}` is not a full date (YYYY-MM-DD)"));
                None
            }
        }
    }

    fn pointers(&mut self, item: &Obj<'a>, diagnoses: &[Diagnosis]) -> Vec<u32> {
        let Some(sequences) = item.arr("diagnosisSequence", false, &mut self.errors) else {
            return Vec::new();
        };
        let mut pointers = Vec::new();
        for (pointer_idx, value) in sequences.items.iter().enumerate() {
            let path = sequences.path_at(pointer_idx);
            if let Some(pointer) = crate::node::positive_int(value, path.clone(), &mut self.errors) {
                self.issues.extend(edits::diagnosis_pointer(pointer, diagnoses, &path));
                pointers.push(pointer);
            }
        }
        pointers
    }

    fn total_charge(&mut self, lines: &[ClaimLine]) -> Option<Money> {
        let sum = Money::checked_sum(lines.iter().map(|line| &line.charge));
        let total = match money_element(self.claim, "total", &mut self.errors) {
            Ok(Some(total)) => total,
            Ok(None) => return sum,
            Err(()) => return None,
        };
        if let Some(sum) = sum {
            self.issues.extend(edits::total(total, sum, &self.path("total.value")));
        }
        Some(total)
    }
}

/// A Money element `name` of `parent`: `Ok(None)` when absent, `Err` when wrong (reported).
pub(crate) fn money_element(parent: &Obj<'_>, name: &str, errors: &mut Errors) -> Result<Option<Money>, ()> {
    if !parent.has(name) {
        return Ok(None);
    }
    let element = parent.obj(name, false, errors).ok_or(())?;
    if let Some(currency) = element.str("currency", false, errors) {
        if currency != "USD" {
            errors.push(element.path_of("currency"), format!("`{currency}` is not accepted: amounts are in USD"));
            return Err(());
        }
    } else if element.has("currency") {
        return Err(());
    }
    let value = element.number("value", true, errors).ok_or(())?;
    amount::money(value, element.path_of("value"), errors).map(Some).ok_or(())
}

/// The payer id named by a `Coverage.payor` or `Claim.insurer` reference.
pub(crate) fn payer_of<'a>(reference: &Obj<'a>, scope: &Contained<'a>, bundle: Option<&BundleIndex<'a>>, errors: &mut Errors) -> Option<String> {
    match resolve(reference, scope, bundle, &["Organization"], errors)? {
        Target::Identifier { value, .. } => Some(value.to_owned()),
        Target::Resource(organization) => {
            let found = first_identifier_value(&organization.obj, errors).or_else(|| organization.obj.str("id", false, errors));
            if found.is_none() {
                let message = format!("the Organization at {} has neither an identifier nor an id to name the payer", organization.obj.path);
                errors.push(reference.path.clone(), message);
            }
            found.map(str::to_owned)
        }
    }
}

fn resource_npi(resource: &Resource<'_>, errors: &mut Errors) -> Option<String> {
    let identifiers = resource.obj.arr("identifier", false, errors)?;
    identifiers
        .objs(errors)
        .iter()
        .find(|identifier| identifier.str("system", false, errors) == Some(US_NPI))
        .and_then(|identifier| identifier.str("value", true, errors))
        .map(str::to_owned)
}

fn first_identifier_value<'a>(resource: &Obj<'a>, errors: &mut Errors) -> Option<&'a str> {
    let identifiers = resource.arr("identifier", false, errors)?;
    identifiers.objs(errors).iter().find_map(|identifier| identifier.str("value", false, errors))
}

/// A Patient's member id: the identifier typed `MB` (v2-0203), else the first.
fn member_identifier(patient: &Obj<'_>, errors: &mut Errors) -> Option<String> {
    let identifiers = patient.arr("identifier", false, errors)?.objs(errors);
    let is_member_number = |identifier: &Obj<'_>| {
        let mut quiet = Errors::default();
        let concept = identifier.obj("type", false, &mut quiet);
        concept.and_then(|concept| find_coding(&concept, &mut quiet, |system| system.is_none_or(|s| s == V2_0203))).is_some_and(|(_, _, code)| code == "MB")
    };
    let chosen = identifiers.iter().find(|identifier| is_member_number(identifier));
    chosen.into_iter().chain(identifiers.iter()).find_map(|identifier| identifier.str("value", false, errors)).map(str::to_owned)
}

/// An Address's `postalCode` when it is a US ZIP or ZIP+4 (5 or 9 digits, a `-` dropped).
fn zip_of(address: &Obj<'_>) -> Option<String> {
    let postal_code = address.str("postalCode", false, &mut Errors::default())?;
    let digits: String = postal_code.chars().filter(|c| *c != '-').collect();
    (matches!(digits.len(), 5 | 9) && digits.bytes().all(|byte| byte.is_ascii_digit())).then_some(digits)
}

/// The payer's number of a related claim: `identifier.value`, else the reference's last segment.
fn related_claim_number(claim: &Obj<'_>, errors: &mut Errors) -> Option<String> {
    if let Some(value) = claim.obj("identifier", false, errors).and_then(|identifier| identifier.str("value", false, errors)) {
        return Some(value.to_owned());
    }
    let reference = claim.str("reference", false, errors)?;
    let last = reference.rsplit(['/', '#']).next().unwrap_or(reference);
    (!last.is_empty()).then(|| last.to_owned())
}

fn has_code(concept: &Obj<'_>, wanted: &str, errors: &mut Errors) -> bool {
    let Some(codings) = concept.arr("coding", false, errors) else {
        return false;
    };
    codings.objs(errors).iter().any(|coding| coding.str("code", false, errors) == Some(wanted))
}

/// The calendar date of a FHIR date or dateTime that has a full date.
fn date_of(text: &str) -> Option<Date> {
    let date_part = text.get(..10)?;
    match text.as_bytes().get(10) {
        None | Some(b'T') => claimtrail_events::parse_date(date_part),
        Some(_) => None,
    }
}

/// A FHIR dateTime: `YYYY`, `YYYY-MM`, `YYYY-MM-DD` or a full date and time.
fn is_date_time(text: &str) -> bool {
    let bytes = text.as_bytes();
    match bytes.len() {
        4 => bytes.iter().all(u8::is_ascii_digit),
        7 => bytes[..4].iter().all(u8::is_ascii_digit) && bytes[4] == b'-' && matches!(text.get(5..7).and_then(|m| m.parse::<u8>().ok()), Some(1..=12)),
        _ => date_of(text).is_some() && (bytes.len() == 10 || bytes.len() >= 20),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_of_service_need_a_full_date() {
        let cases = [
            ("2026-01-15", Some("2026-01-15")),
            ("2026-01-15T10:00:00-05:00", Some("2026-01-15")),
            ("2026-01", None),
            ("2026", None),
            ("2026-02-30", None),
            ("2026-01-15X", None),
            ("2026-01-1é", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(date_of(text).map(claimtrail_events::format_date).as_deref(), expected, "{text}");
        }
    }

    #[test]
    fn created_is_a_fhir_date_time() {
        for good in ["2026", "2026-03", "2026-03-01", "2026-03-01T10:00:00Z", "2026-03-01T10:00:00.123+02:00"] {
            assert!(is_date_time(good), "{good}");
        }
        for bad in ["", "26", "2026-13", "2026-03-01T", "yesterday", "2026-03-01 10:00"] {
            assert!(!is_date_time(bad), "{bad}");
        }
    }
}
