//! A serde `Serializer` that writes RFC 8785 canonical bytes straight from a
//! value's `Serialize` implementation, with the rules of the [`Value`] path
//! (`serde_json::to_value`, then [`canonicalize`](super::canonicalize)) and
//! byte for byte its output, without building the tree: sealing an event
//! spent more on the tree (a B-tree per object, a copy of every string) than
//! on writing the bytes.
//!
//! Objects are written in the order the value gives its members, each
//! member's span remembered; when the names are not already in RFC 8785
//! order the object's bytes are rearranged once, at its end. A name given
//! twice keeps its last value, as a `serde_json::Map` would.
//!
//! [`Value`]: serde_json::Value

use std::borrow::Cow;

use serde::Serialize;
use serde::ser::{self, Impossible};

use super::{CanonicalError, INTEGER_MAX, name_order, write_string, write_u64};

/// Writes one value to `out`; `extra` is a member (name and canonical bytes)
/// added to the object this value serializes to (top level only).
pub(super) struct Canonical<'a> {
    pub(super) out: &'a mut Vec<u8>,
    pub(super) extra: Option<(&'static str, &'a [u8])>,
}

impl<'a> Canonical<'a> {
    fn no_extra(&self, what: &str) -> Result<(), CanonicalError> {
        match self.extra {
            Some((name, _)) => Err(CanonicalError::Serialize(format!("cannot add member `{name}` to {what}: not a JSON object"))),
            None => Ok(()),
        }
    }

    fn integer(self, n: i128) -> Result<(), CanonicalError> {
        self.no_extra("a number")?;
        if n.unsigned_abs() > u128::from(INTEGER_MAX) {
            return Err(CanonicalError::IntegerOutOfRange(n.to_string()));
        }
        if n < 0 {
            self.out.push(b'-');
        }
        write_u64(n.unsigned_abs() as u64, self.out);
        Ok(())
    }

    fn literal(self, bytes: &[u8], what: &str) -> Result<(), CanonicalError> {
        self.no_extra(what)?;
        self.out.extend_from_slice(bytes);
        Ok(())
    }

    fn object(self, capacity: usize) -> Object<'a> {
        self.out.push(b'{');
        let start = self.out.len();
        let mut object = Object { out: self.out, start, members: Vec::with_capacity(capacity + 1), key: None, closes_variant: false };
        if let Some((name, raw)) = self.extra {
            object.begin_member(Cow::Borrowed(name));
            object.out.extend_from_slice(raw);
            object.end_member();
        }
        object
    }

    /// `{"variant":` before a variant's content; [`close_variant`] after it.
    fn open_variant(self, variant: &'static str) -> Result<&'a mut Vec<u8>, CanonicalError> {
        self.no_extra("an enum variant")?;
        self.out.push(b'{');
        write_string(variant, self.out);
        self.out.push(b':');
        Ok(self.out)
    }
}

fn close_variant(out: &mut Vec<u8>) {
    out.push(b'}');
}

fn float(value: f64) -> CanonicalError {
    CanonicalError::NotAnInteger(value.to_string())
}

impl<'a> ser::Serializer for Canonical<'a> {
    type Ok = ();
    type Error = CanonicalError;
    type SerializeSeq = Array<'a>;
    type SerializeTuple = Array<'a>;
    type SerializeTupleStruct = Array<'a>;
    type SerializeTupleVariant = Array<'a>;
    type SerializeMap = Object<'a>;
    type SerializeStruct = Object<'a>;
    type SerializeStructVariant = Object<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), CanonicalError> {
        self.literal(if v { b"true" } else { b"false" }, "a boolean")
    }

    fn serialize_i8(self, v: i8) -> Result<(), CanonicalError> {
        self.integer(i128::from(v))
    }

    fn serialize_i16(self, v: i16) -> Result<(), CanonicalError> {
        self.integer(i128::from(v))
    }

    fn serialize_i32(self, v: i32) -> Result<(), CanonicalError> {
        self.integer(i128::from(v))
    }

    fn serialize_i64(self, v: i64) -> Result<(), CanonicalError> {
        self.integer(i128::from(v))
    }

    fn serialize_i128(self, v: i128) -> Result<(), CanonicalError> {
        self.integer(v)
    }

    fn serialize_u8(self, v: u8) -> Result<(), CanonicalError> {
        self.integer(i128::from(v))
    }

    fn serialize_u16(self, v: u16) -> Result<(), CanonicalError> {
        self.integer(i128::from(v))
    }

    fn serialize_u32(self, v: u32) -> Result<(), CanonicalError> {
        self.integer(i128::from(v))
    }

    fn serialize_u64(self, v: u64) -> Result<(), CanonicalError> {
        self.integer(i128::from(v))
    }

    fn serialize_u128(self, v: u128) -> Result<(), CanonicalError> {
        match i128::try_from(v) {
            Ok(v) => self.integer(v),
            Err(_) => Err(CanonicalError::IntegerOutOfRange(v.to_string())),
        }
    }

    fn serialize_f32(self, v: f32) -> Result<(), CanonicalError> {
        Err(float(f64::from(v)))
    }

    fn serialize_f64(self, v: f64) -> Result<(), CanonicalError> {
        Err(float(v))
    }

    fn serialize_char(self, v: char) -> Result<(), CanonicalError> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, v: &str) -> Result<(), CanonicalError> {
        self.no_extra("a string")?;
        write_string(v, self.out);
        Ok(())
    }

    /// As serde_json's value serializer: an array of the bytes.
    fn serialize_bytes(self, v: &[u8]) -> Result<(), CanonicalError> {
        self.no_extra("bytes")?;
        self.out.push(b'[');
        for (byte_idx, byte) in v.iter().enumerate() {
            if byte_idx > 0 {
                self.out.push(b',');
            }
            write_u64(u64::from(*byte), self.out);
        }
        self.out.push(b']');
        Ok(())
    }

    fn serialize_none(self) -> Result<(), CanonicalError> {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), CanonicalError> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), CanonicalError> {
        self.literal(b"null", "null")
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), CanonicalError> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Result<(), CanonicalError> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> Result<(), CanonicalError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), CanonicalError> {
        let out = self.open_variant(variant)?;
        value.serialize(Canonical { out: &mut *out, extra: None })?;
        close_variant(out);
        Ok(())
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Array<'a>, CanonicalError> {
        self.no_extra("an array")?;
        self.out.push(b'[');
        Ok(Array { out: self.out, first: true, variant: false })
    }

    fn serialize_tuple(self, len: usize) -> Result<Array<'a>, CanonicalError> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Array<'a>, CanonicalError> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(self, _name: &'static str, _index: u32, variant: &'static str, _len: usize) -> Result<Array<'a>, CanonicalError> {
        let out = self.open_variant(variant)?;
        out.push(b'[');
        Ok(Array { out, first: true, variant: true })
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Object<'a>, CanonicalError> {
        Ok(self.object(len.unwrap_or(8)))
    }

    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Object<'a>, CanonicalError> {
        Ok(self.object(len))
    }

    fn serialize_struct_variant(self, _name: &'static str, _index: u32, variant: &'static str, len: usize) -> Result<Object<'a>, CanonicalError> {
        let out = self.open_variant(variant)?;
        let mut object = Canonical { out, extra: None }.object(len);
        object.closes_variant = true;
        Ok(object)
    }
}

/// An array being written.
pub(super) struct Array<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
    /// Closes a tuple variant's `{"variant":` too.
    variant: bool,
}

impl Array<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CanonicalError> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        value.serialize(Canonical { out: &mut *self.out, extra: None })
    }

    fn finish(self) -> Result<(), CanonicalError> {
        self.out.push(b']');
        if self.variant {
            close_variant(self.out);
        }
        Ok(())
    }
}

/// The serde traits of arrays and objects, each a call of [`Array::element`]
/// or [`Object::member`] per item and [`Array::finish`] or [`Object::finish`] at the end.
macro_rules! array_traits {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for Array<'_> {
            type Ok = ();
            type Error = CanonicalError;

            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CanonicalError> {
                self.element(value)
            }

            fn end(self) -> Result<(), CanonicalError> {
                self.finish()
            }
        }
    )*};
}

array_traits!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

/// One member written: its name and where its bytes (`"name":value`) lie in the output.
struct Member {
    name: Cow<'static, str>,
    start: usize,
    end: usize,
}

/// An object being written: its members go out as they come, and are put
/// in order (when they are not in it already) by [`Object::finish`].
pub(super) struct Object<'a> {
    out: &'a mut Vec<u8>,
    /// Where the first member starts (after `{`).
    start: usize,
    members: Vec<Member>,
    /// A map's key given to `serialize_key`, until its value comes.
    key: Option<Cow<'static, str>>,
    /// A struct variant's object, which also closes its `{"variant":`.
    closes_variant: bool,
}

impl Object<'_> {
    fn begin_member(&mut self, name: Cow<'static, str>) {
        if !self.members.is_empty() {
            self.out.push(b',');
        }
        let start = self.out.len();
        write_string(&name, self.out);
        self.out.push(b':');
        self.members.push(Member { name, start, end: start });
    }

    fn end_member(&mut self) {
        let end = self.out.len();
        if let Some(member) = self.members.last_mut() {
            member.end = end;
        }
    }

    fn member<T: Serialize + ?Sized>(&mut self, name: Cow<'static, str>, value: &T) -> Result<(), CanonicalError> {
        self.begin_member(name);
        value.serialize(Canonical { out: &mut *self.out, extra: None })?;
        self.end_member();
        Ok(())
    }

    fn finish(self) -> Result<(), CanonicalError> {
        let Object { out, start, mut members, closes_variant, .. } = self;
        let in_order = members.windows(2).all(|pair| name_order(&pair[0].name, &pair[1].name).is_lt());
        if !in_order {
            let written = out.split_off(start);
            // A stable sort keeps repeated names in the order given; the last one wins.
            members.sort_by(|a, b| name_order(&a.name, &b.name));
            let mut first = true;
            for (member_idx, member) in members.iter().enumerate() {
                if members.get(member_idx + 1).is_some_and(|next| next.name == member.name) {
                    continue;
                }
                if !first {
                    out.push(b',');
                }
                first = false;
                out.extend_from_slice(&written[member.start - start..member.end - start]);
            }
        }
        out.push(b'}');
        if closes_variant {
            close_variant(out);
        }
        Ok(())
    }
}

impl ser::SerializeMap for Object<'_> {
    type Ok = ();
    type Error = CanonicalError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), CanonicalError> {
        self.key = Some(Cow::Owned(key.serialize(MapKey)?));
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CanonicalError> {
        let name = self.key.take().ok_or_else(|| CanonicalError::Serialize("a map value without its key".into()))?;
        self.member(name, value)
    }

    fn end(self) -> Result<(), CanonicalError> {
        self.finish()
    }
}

macro_rules! struct_traits {
    ($($trait:ident),*) => {$(
        impl ser::$trait for Object<'_> {
            type Ok = ();
            type Error = CanonicalError;

            fn serialize_field<T: Serialize + ?Sized>(&mut self, name: &'static str, value: &T) -> Result<(), CanonicalError> {
                self.member(Cow::Borrowed(name), value)
            }

            fn end(self) -> Result<(), CanonicalError> {
                self.finish()
            }
        }
    )*};
}

struct_traits!(SerializeStruct, SerializeStructVariant);

/// A map key, as serde_json's value serializer takes them: strings, and
/// integers, booleans and unit variants as their text.
struct MapKey;

fn key_must_be_a_string() -> CanonicalError {
    CanonicalError::Serialize("a map key must be a string".into())
}

impl ser::Serializer for MapKey {
    type Ok = String;
    type Error = CanonicalError;
    type SerializeSeq = Impossible<String, CanonicalError>;
    type SerializeTuple = Impossible<String, CanonicalError>;
    type SerializeTupleStruct = Impossible<String, CanonicalError>;
    type SerializeTupleVariant = Impossible<String, CanonicalError>;
    type SerializeMap = Impossible<String, CanonicalError>;
    type SerializeStruct = Impossible<String, CanonicalError>;
    type SerializeStructVariant = Impossible<String, CanonicalError>;

    fn serialize_bool(self, v: bool) -> Result<String, CanonicalError> {
        Ok(v.to_string())
    }

    fn serialize_i8(self, v: i8) -> Result<String, CanonicalError> {
        Ok(v.to_string())
    }

    fn serialize_i16(self, v: i16) -> Result<String, CanonicalError> {
        Ok(v.to_string())
    }

    fn serialize_i32(self, v: i32) -> Result<String, CanonicalError> {
        Ok(v.to_string())
    }

    fn serialize_i64(self, v: i64) -> Result<String, CanonicalError> {
        Ok(v.to_string())
    }

    fn serialize_i128(self, v: i128) -> Result<String, CanonicalError> {
        Ok(v.to_string())
    }

    fn serialize_u8(self, v: u8) -> Result<String, CanonicalError> {
        Ok(v.to_string())
    }

    fn serialize_u16(self, v: u16) -> Result<String, CanonicalError> {
        Ok(v.to_string())
    }

    fn serialize_u32(self, v: u32) -> Result<String, CanonicalError> {
        Ok(v.to_string())
    }

    fn serialize_u64(self, v: u64) -> Result<String, CanonicalError> {
        Ok(v.to_string())
    }

    fn serialize_u128(self, v: u128) -> Result<String, CanonicalError> {
        Ok(v.to_string())
    }

    fn serialize_f32(self, v: f32) -> Result<String, CanonicalError> {
        Err(float(f64::from(v)))
    }

    fn serialize_f64(self, v: f64) -> Result<String, CanonicalError> {
        Err(float(v))
    }

    fn serialize_char(self, v: char) -> Result<String, CanonicalError> {
        Ok(v.to_string())
    }

    fn serialize_str(self, v: &str) -> Result<String, CanonicalError> {
        Ok(v.to_owned())
    }

    fn serialize_bytes(self, _v: &[u8]) -> Result<String, CanonicalError> {
        Err(key_must_be_a_string())
    }

    fn serialize_none(self) -> Result<String, CanonicalError> {
        Err(key_must_be_a_string())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<String, CanonicalError> {
        Err(key_must_be_a_string())
    }

    fn serialize_unit(self) -> Result<String, CanonicalError> {
        Err(key_must_be_a_string())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<String, CanonicalError> {
        Err(key_must_be_a_string())
    }

    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Result<String, CanonicalError> {
        Ok(variant.to_owned())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> Result<String, CanonicalError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<String, CanonicalError> {
        Err(key_must_be_a_string())
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, CanonicalError> {
        Err(key_must_be_a_string())
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, CanonicalError> {
        Err(key_must_be_a_string())
    }

    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeTupleStruct, CanonicalError> {
        Err(key_must_be_a_string())
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, CanonicalError> {
        Err(key_must_be_a_string())
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, CanonicalError> {
        Err(key_must_be_a_string())
    }

    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeStruct, CanonicalError> {
        Err(key_must_be_a_string())
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, CanonicalError> {
        Err(key_must_be_a_string())
    }
}
