//! Reading FHIR JSON by element while tracking the FHIRPath of where we are.
//!
//! Every accessor reports a wrong type as a [`FieldError`](crate::FieldError)
//! at the element's path and returns `None`, so mapping code reads straight
//! through a body and collects every fault instead of stopping at the first.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Number;

use crate::error::Errors;

/// A parsed JSON body that borrows its strings from the request's bytes
/// (only strings with escapes are copied) and keeps objects as member lists.
///
/// This is what [`serde_json::Value`] would hold, read in about half the
/// time (docs/benchmarks.md): `Value` copies every name and string and
/// builds a B-tree per object, and the mapping only looks members up by name. Like `Value`, a
/// member repeated in one object keeps its last value; serde_json's nesting
/// limit (128) applies the same.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    Object(Members<'a>),
}

/// An object's members in document order.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Members<'a>(Vec<(Cow<'a, str>, Json<'a>)>);

impl<'a> Members<'a> {
    /// The member's value; the last one when the name repeats.
    pub(crate) fn get(&self, name: &str) -> Option<&Json<'a>> {
        self.0.iter().rev().find(|(key, _)| key == name).map(|(_, value)| value)
    }

    pub(crate) fn contains_key(&self, name: &str) -> bool {
        self.0.iter().any(|(key, _)| key == name)
    }
}

impl<'a> Json<'a> {
    /// Parses a whole body (trailing characters other than whitespace are an error).
    pub(crate) fn parse(body: &'a [u8]) -> Result<Json<'a>, serde_json::Error> {
        serde_json::from_slice(body)
    }

    fn as_u64(&self) -> Option<u64> {
        match self {
            Json::Number(number) => number.as_u64(),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Json<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Json<'de>, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json<'de>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Json<'de>, E> {
        Ok(Json::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Json<'de>, E> {
        Ok(Json::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Json<'de>, E> {
        Ok(Json::Number(value.into()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Json<'de>, E> {
        Ok(Number::from_f64(value).map_or(Json::Null, Json::Number))
    }

    fn visit_borrowed_str<E>(self, value: &'de str) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Borrowed(value)))
    }

    fn visit_str<E>(self, value: &str) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Owned(value.to_owned())))
    }

    fn visit_string<E>(self, value: String) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Owned(value)))
    }

    fn visit_unit<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }

    fn visit_none<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'de>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json<'de>, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(0).min(32));
        while let Some(Name(name)) = map.next_key()? {
            members.push((name, map.next_value()?));
        }
        Ok(Json::Object(Members(members)))
    }
}

/// A member name, borrowed when it has no escapes.
struct Name<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Name<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Name<'de>, D::Error> {
        struct NameVisitor;
        impl<'de> Visitor<'de> for NameVisitor {
            type Value = Name<'de>;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a member name")
            }

            fn visit_borrowed_str<E>(self, value: &'de str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Borrowed(value)))
            }

            fn visit_str<E>(self, value: &str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Owned(value.to_owned())))
            }

            fn visit_string<E>(self, value: String) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Owned(value)))
            }
        }
        deserializer.deserialize_str(NameVisitor)
    }
}

/// A JSON object (a resource or a complex datatype) and its FHIRPath.
#[derive(Debug, Clone)]
pub(crate) struct Obj<'a> {
    pub(crate) map: &'a Members<'a>,
    pub(crate) path: String,
}

/// A JSON array (a repeating element) and its FHIRPath.
#[derive(Debug, Clone)]
pub(crate) struct Arr<'a> {
    pub(crate) items: &'a [Json<'a>],
    pub(crate) path: String,
}

impl<'a> Obj<'a> {
    pub(crate) fn new(map: &'a Members<'a>, path: impl Into<String>) -> Obj<'a> {
        Obj { map, path: path.into() }
    }

    /// The value as an object, or an error at `path`.
    pub(crate) fn from_value(value: &'a Json<'a>, path: String, errors: &mut Errors) -> Option<Obj<'a>> {
        match value {
            Json::Object(map) => Some(Obj { map, path }),
            _ => {
                errors.push(path, "must be a JSON object");
                None
            }
        }
    }

    /// `<path>.<name>`; built for every element read, so without the formatting machinery.
    pub(crate) fn path_of(&self, name: &str) -> String {
        let mut path = String::with_capacity(self.path.len() + 1 + name.len());
        path.push_str(&self.path);
        path.push('.');
        path.push_str(name);
        path
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    fn present(&self, name: &str, required: bool, errors: &mut Errors) -> Option<&'a Json<'a>> {
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
            Json::Array(items) => Some(Arr { items, path: self.path_of(name) }),
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
            Json::String(text) if !text.trim().is_empty() => Some(text.trim()),
            Json::String(_) => {
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
            Json::Bool(flag) => Some(*flag),
            _ => {
                errors.push(self.path_of(name), "must be true or false");
                None
            }
        }
    }

    pub(crate) fn number(&self, name: &str, required: bool, errors: &mut Errors) -> Option<&'a Number> {
        let value = self.present(name, required, errors)?;
        match value {
            Json::Number(number) => Some(number),
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

    /// `<path>[<index>]`.
    pub(crate) fn path_at(&self, index: usize) -> String {
        let mut path = String::with_capacity(self.path.len() + 8);
        path.push_str(&self.path);
        path.push('[');
        path.push_str(itoa::Buffer::new().format(index));
        path.push(']');
        path
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
pub(crate) fn positive_int(value: &Json<'_>, path: String, errors: &mut Errors) -> Option<u32> {
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
