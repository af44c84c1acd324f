//! Following FHIR references to the resources a Claim names.
//!
//! A Reference resolves, in this order, to:
//! 1. `#id`: a resource contained in the referring resource's container;
//! 2. a Bundle entry whose `fullUrl` equals the reference (`urn:uuid:...` or an absolute URL);
//! 3. a Bundle entry whose resource type and id end the reference (`Organization/1`,
//!    `https://example.org/fhir/Organization/1`, optionally with `/_history/n`);
//! 4. a logical reference: the conditional form `Type?identifier=system|value`,
//!    or `Reference.identifier` when `reference` is absent or resolves to nothing.

use std::collections::HashMap;
use std::rc::Rc;

use crate::error::Errors;
use crate::node::Obj;

/// A resource found by following a reference.
#[derive(Debug, Clone)]
pub(crate) struct Resource<'a> {
    pub(crate) obj: Obj<'a>,
    pub(crate) resource_type: &'a str,
    /// Where this resource's own `#id` references point.
    pub(crate) scope: Contained<'a>,
}

/// What a reference leads to.
#[derive(Debug, Clone)]
pub(crate) enum Target<'a> {
    Resource(Resource<'a>),
    /// A logical reference: an identifier with an optional system.
    Identifier {
        system: Option<&'a str>,
        value: &'a str,
    },
}

/// The `contained` resources of one container, by id (cheap to clone).
#[derive(Debug, Clone, Default)]
pub(crate) struct Contained<'a> {
    by_id: Rc<HashMap<&'a str, (&'a str, Obj<'a>)>>,
}

/// Every resource of a Bundle, by `fullUrl` and by type and id.
#[derive(Debug, Default)]
pub(crate) struct BundleIndex<'a> {
    resources: Vec<Resource<'a>>,
    /// fullUrl → (position in `resources`, entry index).
    by_full_url: HashMap<&'a str, (usize, usize)>,
    by_type_and_id: HashMap<(&'a str, &'a str), usize>,
}

impl<'a> Contained<'a> {
    /// Reads `container.contained[]`; each needs a `resourceType` and an `id`.
    pub(crate) fn of(container: &Obj<'a>, errors: &mut Errors) -> Contained<'a> {
        let mut by_id = HashMap::new();
        let Some(resources) = container.arr("contained", false, errors) else {
            return Contained::default();
        };
        for resource in resources.objs(errors) {
            let resource_type = resource.str("resourceType", true, errors);
            let id = resource.str("id", true, errors);
            if let (Some(resource_type), Some(id)) = (resource_type, id) {
                by_id.entry(id).or_insert((resource_type, resource));
            }
        }
        Contained { by_id: Rc::new(by_id) }
    }

    fn get(&self, id: &str) -> Option<Resource<'a>> {
        let (resource_type, obj) = self.by_id.get(id)?;
        Some(Resource { obj: obj.clone(), resource_type, scope: self.clone() })
    }
}

impl<'a> BundleIndex<'a> {
    /// Adds the resource of `Bundle.entry[entry_idx]`. Returns the index of an
    /// earlier entry with the same `fullUrl`, which the caller reports.
    pub(crate) fn insert(&mut self, entry_idx: usize, full_url: Option<&'a str>, resource: Resource<'a>, id: Option<&'a str>) -> Option<usize> {
        let position = self.resources.len();
        let resource_type = resource.resource_type;
        self.resources.push(resource);
        if let Some(id) = id {
            self.by_type_and_id.entry((resource_type, id)).or_insert(position);
        }
        let full_url = full_url?;
        match self.by_full_url.get(full_url) {
            Some((_, earlier_entry_idx)) => Some(*earlier_entry_idx),
            None => {
                self.by_full_url.insert(full_url, (position, entry_idx));
                None
            }
        }
    }

    fn get(&self, reference: &str) -> Option<Resource<'a>> {
        let position = match self.by_full_url.get(reference) {
            Some((position, _)) => *position,
            None => {
                let (resource_type, id) = type_and_id(reference)?;
                *self.by_type_and_id.get(&(resource_type, id))?
            }
        };
        self.resources.get(position).cloned()
    }
}

/// Follows the Reference `reference` made from a resource whose `#id`
/// references resolve in `scope`. `expected` lists the resource types that
/// may be named; anything else is an error at the reference's path.
pub(crate) fn resolve<'a>(
    reference: &Obj<'a>,
    scope: &Contained<'a>,
    bundle: Option<&BundleIndex<'a>>,
    expected: &[&str],
    errors: &mut Errors,
) -> Option<Target<'a>> {
    let literal = reference.str("reference", false, errors);
    let mut unresolved = None;
    if let Some(literal) = literal {
        if let Some((resource_type, identifier)) = conditional(literal) {
            if !expected.contains(&resource_type) {
                errors.push(reference.path_of("reference"), wrong_type(literal, resource_type, expected));
                return None;
            }
            let (system, value) = match identifier.rsplit_once('|') {
                Some((system, value)) => (Some(system).filter(|s| !s.is_empty()), value),
                None => (None, identifier),
            };
            if value.is_empty() {
                errors.push(reference.path_of("reference"), format!("`{literal}` names no identifier value"));
                return None;
            }
            return Some(Target::Identifier { system, value });
        }
        let found = match literal.strip_prefix('#') {
            Some(id) => scope.get(id),
            None => bundle.and_then(|bundle| bundle.get(literal)),
        };
        match found {
            Some(resource) if expected.contains(&resource.resource_type) => {
                return Some(Target::Resource(resource));
            }
            Some(resource) => {
                errors.push(reference.path_of("reference"), wrong_type(literal, resource.resource_type, expected));
                return None;
            }
            None => unresolved = Some(literal),
        }
    }
    if let Some(identifier) = reference.obj("identifier", false, errors) {
        let system = identifier.str("system", false, errors);
        let value = identifier.str("value", true, errors)?;
        return Some(Target::Identifier { system, value });
    }
    match unresolved {
        Some(literal) => errors.push(
            reference.path_of("reference"),
            format!("`{literal}` resolves to no contained resource and no Bundle entry, and the reference has no identifier"),
        ),
        None => errors.push(reference.path.clone(), format!("needs a reference to a contained or Bundle {} or an identifier", expected.join(" or "))),
    }
    None
}

fn wrong_type(literal: &str, found: &str, expected: &[&str]) -> String {
    format!("`{literal}` is a {found}; expected {}", expected.join(" or "))
}

/// `Organization?identifier=system|value` → (`Organization`, `system|value`).
fn conditional(literal: &str) -> Option<(&str, &str)> {
    let (resource_type, query) = literal.split_once('?')?;
    let identifier = query.split('&').find_map(|pair| pair.strip_prefix("identifier="))?;
    Some((resource_type, identifier))
}

/// The resource type and id that end a relative or absolute literal reference.
fn type_and_id(reference: &str) -> Option<(&str, &str)> {
    let without_history = match reference.find("/_history/") {
        Some(at) => &reference[..at],
        None => reference,
    };
    let (rest, id) = without_history.rsplit_once('/')?;
    let resource_type = rest.rsplit('/').next()?;
    let type_ok = resource_type.chars().next().is_some_and(|c| c.is_ascii_uppercase());
    (type_ok && !id.is_empty()).then_some((resource_type, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_references_name_a_type_and_id() {
        let cases = [
            ("Organization/1", Some(("Organization", "1"))),
            ("https://example.org/fhir/Coverage/c-1", Some(("Coverage", "c-1"))),
            ("Patient/p1/_history/3", Some(("Patient", "p1"))),
            ("urn:uuid:6a3e94e6-72c3-3cbc-b828-babcf6602165", None),
            ("organization/1", None),
            ("Organization/", None),
            ("", None),
        ];
        for (reference, expected) in cases {
            assert_eq!(type_and_id(reference), expected, "{reference}");
        }
    }

    #[test]
    fn conditional_references_name_an_identifier() {
        assert_eq!(
            conditional("Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|1234567893"),
            Some(("Practitioner", "http://hl7.org/fhir/sid/us-npi|1234567893"))
        );
        assert_eq!(conditional("Organization/1"), None);
        assert_eq!(conditional("Organization?name=x"), None);
    }
}
