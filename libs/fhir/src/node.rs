//! Reading FHIR JSON by element while tracking the FHIRPath of where we are.
//!
//! Every accessor reports a wrong type as a [`FieldError`](crate::FieldError)
//! at the element's path and returns `None`, so mapping code reads straight
//! through a body and collects every fault instead of stopping at the first.

use serde_json::{Map, Number, Value};

use crate::error::Errors;

/// A JSON object (a resource or a complex datatype) and its FHIRPath.
#[derive(Debug, Clone)]
pub(crate) struct Obj<'a> {
    pub(crate) map: &'a Map<String, Value>,
    pub(crate) path: String,
}

/// A JSON array (a repeating element) and its FHIRPath.
#[derive(Debug, Clone)]
pub(crate) struct Arr<'a> {
    pub(crate) items: &'a [Value],
    pub(crate) path: String,
}

impl<'a> Obj<'a> {
    pub(crate) fn new(map: &'a Map<String, Value>, path: impl Into<String>) -> Obj<'a> {
        Obj { map, path: path.into() }
    }

    /// The value as an object, or an error at `path`.
    pub(crate) fn from_value(value: &'a Value, path: String, errors: &mut Errors) -> Option<Obj<'a>> {
        match value {
            Value::Object(map) => Some(Obj { map, path }),
            _ => {
                errors.push(path, "must be a JSON object");
                None
            }
        }
    }

    pub(crate) fn path_of(&self, name: &str) -> String {
        format!("{}.{}", self.path, name)
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    fn present(&self, name: &str, required: bool, errors: &mut Errors) -> Option<&'a Value> {
        match self.map.get(name) {
            Some(value) => Some(value),
            None => {
                if required {
                    errors.push(self.path_of(name), "is required");
                }
                None
            }
        }
    }

    pub(crate) fn obj(&self, name: &str, required: bool, errors: &mut Errors) -> Option<Obj<'a>> {
        let value = self.present(name, required, errors)?;
        Obj::from_value(value, self.path_of(name), errors)
    }

    pub(crate) fn arr(&self, name: &str, required: bool, errors: &mut Errors) -> Option<Arr<'a>> {
        let value = self.present(name, required, errors)?;
        match value {
            Value::Array(items) => Some(Arr { items, path: self.path_of(name) }),
            _ => {
                errors.push(self.path_of(name), "must be a JSON array");
                None
            }
        }
    }

    /// A FHIR string, code, uri or id: a non-blank JSON string, trimmed.
    pub(crate) fn str(&self, name: &str, required: bool, errors: &mut Errors) -> Option<&'a str> {
        let value = self.present(name, required, errors)?;
        match value {
            Value::String(text) if !text.trim().is_empty() => Some(text.trim()),
            Value::String(_) => {
                errors.push(self.path_of(name), "must not be empty");
                None
            }
            _ => {
                errors.push(self.path_of(name), "must be a JSON string");
                None
            }
        }
    }

    pub(crate) fn bool(&self, name: &str, errors: &mut Errors) -> Option<bool> {
        match self.map.get(name)? {
            Value::Bool(flag) => Some(*flag),
            _ => {
                errors.push(self.path_of(name), "must be true or false");
                None
            }
        }
    }

    pub(crate) fn number(&self, name: &str, required: bool, errors: &mut Errors) -> Option<&'a Number> {
        let value = self.present(name, required, errors)?;
        match value {
            Value::Number(number) => Some(number),
            _ => {
                errors.push(self.path_of(name), "must be a JSON number");
                None
            }
        }
    }

    /// A FHIR positiveInt: 1 ..= 2^31 - 1.
    pub(crate) fn positive_int(&self, name: &str, required: bool, errors: &mut Errors) -> Option<u32> {
        let value = self.present(name, required, errors)?;
        positive_int(value, self.path_of(name), errors)
    }
}

impl<'a> Arr<'a> {
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    pub(crate) fn path_at(&self, index: usize) -> String {
        format!("{}[{}]", self.path, index)
    }

    /// The element at `index` as an object, or an error at its path.
    pub(crate) fn obj(&self, index: usize, errors: &mut Errors) -> Option<Obj<'a>> {
        let value = self.items.get(index)?;
        Obj::from_value(value, self.path_at(index), errors)
    }

    /// Every element that is an object; the others are reported.
    pub(crate) fn objs(&self, errors: &mut Errors) -> Vec<Obj<'a>> {
        (0..self.items.len()).filter_map(|index| self.obj(index, errors)).collect()
    }
}

/// A FHIR positiveInt: 1 ..= 2^31 - 1.
pub(crate) fn positive_int(value: &Value, path: String, errors: &mut Errors) -> Option<u32> {
    const POSITIVE_INT_MAX: u64 = i32::MAX as u64;
    match value.as_u64() {
        Some(number) if (1..=POSITIVE_INT_MAX).contains(&number) => u32::try_from(number).ok(),
        _ => {
            errors.push(path, "must be a positive integer");
            None
        }
    }
}

/// The first `coding[]` of a CodeableConcept whose system satisfies `system_ok`
/// and that has a code: (index, system, code).
pub(crate) fn find_coding<'a>(concept: &Obj<'a>, errors: &mut Errors, system_ok: impl Fn(Option<&str>) -> bool) -> Option<(usize, Option<&'a str>, &'a str)> {
    let codings = concept.arr("coding", false, errors)?;
    for coding_idx in 0..codings.len() {
        let Some(coding) = codings.obj(coding_idx, errors) else {
            continue;
        };
        let system = coding.str("system", false, errors);
        if !system_ok(system) {
            continue;
        }
        if let Some(code) = coding.str("code", false, errors) {
            return Some((coding_idx, system, code));
        }
    }
    None
}
