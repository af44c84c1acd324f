//! A request body: one Claim, or a Bundle of Claims and their supporting resources.

use time::Date;

use crate::claim::map_claim;
use crate::error::{EntryError, Errors, FhirError};
use crate::node::{Json, Obj};
use crate::resolve::{BundleIndex, Contained, Resource};
use crate::{CLAIMS_PER_BUNDLE_MAX, ENTRIES_PER_BUNDLE_MAX};
use claimtrail_events::MappedClaim;

/// The claims of a body, in entry order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// `None` for a bare Claim.
    pub bundle_type: Option<BundleType>,
    /// One per Claim (supporting resources are not entries of the answer).
    /// Only a batch Bundle has `Err` entries: anything else with a faulty
    /// claim is refused whole as [`FhirError::Invalid`].
    pub entries: Vec<EntryResult>,
}

/// A Claim entry: mapped (possibly with front-end issues), or structurally wrong.
pub type EntryResult = Result<MappedClaim, EntryError>;

/// The Bundle types a submission may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BundleType {
    /// Each entry is judged on its own.
    Batch,
    /// All or nothing.
    Transaction,
    /// A plain collection of resources; all or nothing, like a transaction.
    Collection,
}

/// Resource types a claims Bundle may hold besides Claims.
pub const SUPPORTING_RESOURCE_TYPES: &[&str] = &["Patient", "Coverage", "Practitioner", "Organization", "Location"];

impl BundleType {
    pub fn as_str(self) -> &'static str {
        match self {
            BundleType::Batch => "batch",
            BundleType::Transaction => "transaction",
            BundleType::Collection => "collection",
        }
    }

    /// True when one faulty claim refuses the whole body.
    pub fn is_all_or_nothing(self) -> bool {
        !matches!(self, BundleType::Batch)
    }
}

impl Submission {
    /// The claims that mapped, in entry order.
    pub fn claims(&self) -> impl Iterator<Item = &MappedClaim> {
        self.entries.iter().filter_map(|entry| entry.as_ref().ok())
    }
}

/// Reads a body that must be a FHIR R4 Claim or a batch, transaction or
/// collection Bundle of Claims with their supporting Patient, Coverage,
/// Practitioner and Organization resources. `today` is the receiving day,
/// against which dates of service are checked. Never panics.
///
/// - not JSON (or not UTF-8): [`FhirError::Malformed`];
/// - JSON but not an acceptable Claim or Bundle, a limit exceeded, or a faulty
///   claim in anything but a batch: [`FhirError::Invalid`] with every fault
///   found (at most [`FIELD_ERRORS_MAX`](crate::FIELD_ERRORS_MAX));
/// - otherwise one [`EntryResult`] per Claim, each mapped claim with the
///   front-end edits it failed in [`MappedClaim::issues`].
pub fn parse_submission(body: &[u8], today: Date) -> Result<Submission, FhirError> {
    let value = Json::parse(body).map_err(|error| FhirError::Malformed { reason: error.to_string() })?;
    let invalid = |message: &str| FhirError::Invalid { errors: vec![crate::FieldError::new("resourceType", message)] };
    let Json::Object(map) = &value else {
        return Err(invalid("the body must be a JSON object: a FHIR Claim or a Bundle of Claims"));
    };
    match map.get("resourceType") {
        Some(Json::String(resource_type)) if resource_type == "Claim" => {
            let claim = Obj::new(map, "Claim");
            let mapped = map_claim(&claim, None, today).map_err(|errors| FhirError::Invalid { errors })?;
            Ok(Submission { bundle_type: None, entries: vec![Ok(mapped)] })
        }
        Some(Json::String(resource_type)) if resource_type == "Bundle" => parse_bundle(&Obj::new(map, "Bundle"), today),
        Some(Json::String(other)) => Err(invalid(&format!("`{other}` is not accepted: send a Claim or a Bundle of Claims"))),
        Some(_) => Err(invalid("must be a JSON string: `Claim` or `Bundle`")),
        None => Err(invalid("is required: send a FHIR Claim or a Bundle of Claims")),
    }
}

fn parse_bundle(bundle: &Obj<'_>, today: Date) -> Result<Submission, FhirError> {
    let mut errors = Errors::default();
    let bundle_type = match bundle.str("type", true, &mut errors) {
        Some("batch") => Some(BundleType::Batch),
        Some("transaction") => Some(BundleType::Transaction),
        Some("collection") => Some(BundleType::Collection),
        Some(other) => {
            errors.push(bundle.path_of("type"), format!("`{other}` Bundles are not accepted: send a batch, transaction or collection"));
            None
        }
        None => None,
    };
    let Some(entries) = bundle.arr("entry", true, &mut errors) else {
        return Err(FhirError::Invalid { errors: errors.into_vec() });
    };
    if entries.len() > ENTRIES_PER_BUNDLE_MAX {
        let message = format!("{} entries; at most {ENTRIES_PER_BUNDLE_MAX} per Bundle (ENTRIES_PER_BUNDLE_MAX)", entries.len());
        errors.push(entries.path.clone(), message);
        return Err(FhirError::Invalid { errors: errors.into_vec() });
    }

    let mut index = BundleIndex::default();
    let mut claims = Vec::new();
    for entry_idx in 0..entries.len() {
        let Some(entry) = entries.obj(entry_idx, &mut errors) else {
            continue;
        };
        let full_url = entry.str("fullUrl", false, &mut errors);
        let Some(resource) = entry.obj("resource", true, &mut errors) else {
            continue;
        };
        let Some(resource_type) = resource.str("resourceType", true, &mut errors) else {
            continue;
        };
        let scope = match resource_type {
            "Claim" => {
                claims.push((entry_idx, resource.clone()));
                Contained::default()
            }
            supporting if SUPPORTING_RESOURCE_TYPES.contains(&supporting) => Contained::of(&resource, &mut errors),
            other => {
                let message = format!(
                    "`{other}` is not accepted in a claims Bundle: entries are Claims and their supporting {} resources",
                    SUPPORTING_RESOURCE_TYPES.join(", ")
                );
                errors.push(resource.path_of("resourceType"), message);
                continue;
            }
        };
        let id = resource.str("id", false, &mut errors);
        let found = Resource { obj: resource, resource_type, scope };
        if let Some(earlier_entry_idx) = index.insert(entry_idx, full_url, found, id) {
            errors.push(entry.path_of("fullUrl"), format!("repeats the fullUrl of {}", entries.path_at(earlier_entry_idx)));
        }
    }
    if claims.len() > CLAIMS_PER_BUNDLE_MAX {
        let message = format!("{} Claims; at most {CLAIMS_PER_BUNDLE_MAX} claims per Bundle (CLAIMS_PER_BUNDLE_MAX)", claims.len());
        errors.push(entries.path.clone(), message);
    } else if claims.is_empty() && errors.is_empty() {
        errors.push(entries.path.clone(), "holds no Claim");
    }
    let Some(bundle_type) = bundle_type.filter(|_| errors.is_empty()) else {
        return Err(FhirError::Invalid { errors: errors.into_vec() });
    };

    let mut results = Vec::with_capacity(claims.len());
    for (entry_idx, claim) in &claims {
        let result = map_claim(claim, Some(&index), today).map_err(|errors| EntryError { entry_index: *entry_idx, errors });
        if let (true, Err(entry_error)) = (bundle_type.is_all_or_nothing(), &result) {
            errors.extend(entry_error.errors.clone());
        }
        results.push(result);
    }
    if !errors.is_empty() {
        return Err(FhirError::Invalid { errors: errors.into_vec() });
    }
    Ok(Submission { bundle_type: Some(bundle_type), entries: results })
}
