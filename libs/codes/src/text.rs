//! The plumbing every string-backed code shares: `as_str`, `Deref<Target =
//! str>`, `Borrow<str>`, comparison with `str` and `String`, `AsRef<str>`, `Display`,
//! `FromStr` (through the type's own `parse(&str)`), serde as the plain
//! string (deserializing validates), a JSON Schema string with a pattern, and
//! with the `utoipa` feature the same as an OpenAPI schema.

/// Implements the shared traits for `$type`, a tuple struct whose field
/// derefs to `str`, whose `parse(&str) -> Result<$type, $error>` is the only
/// constructor from text, and whose canonical text matches `$pattern`.
macro_rules! string_code {
    ($type:ident, $error:ty, $pattern:expr) => {
        impl $type {
            /// The text it holds.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::ops::Deref for $type {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        /// A map keyed by the code is looked up by its text (the hash is the text's).
        impl std::borrow::Borrow<str> for $type {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $type {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $type {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $type {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<$type> for str {
            fn eq(&self, other: &$type) -> bool {
                self == other.0
            }
        }

        impl PartialEq<$type> for &str {
            fn eq(&self, other: &$type) -> bool {
                *self == other.0
            }
        }

        impl PartialEq<$type> for String {
            fn eq(&self, other: &$type) -> bool {
                *self == other.0
            }
        }

        impl AsRef<str> for $type {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $type {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $type {
            type Err = $error;

            fn from_str(text: &str) -> Result<$type, $error> {
                $type::parse(text)
            }
        }

        impl serde::Serialize for $type {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $type {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<$type, D::Error> {
                let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(deserializer)?;
                $type::parse(&text).map_err(serde::de::Error::custom)
            }
        }

        impl schemars::JsonSchema for $type {
            fn inline_schema() -> bool {
                true
            }

            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($type).into()
            }

            fn json_schema(_generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({ "type": "string", "pattern": $pattern })
            }
        }

        #[cfg(feature = "utoipa")]
        impl utoipa::PartialSchema for $type {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new().schema_type(utoipa::openapi::schema::Type::String).pattern(Some($pattern)).into()
            }
        }

        #[cfg(feature = "utoipa")]
        impl utoipa::ToSchema for $type {}
    };
}

#[cfg(test)]
pub(crate) mod tests {
    /// The JSON of `value` is the JSON string of its text, and reads back to it.
    pub fn serde_round_trips<T>(value: &T)
    where
        T: serde::Serialize + serde::de::DeserializeOwned + AsRef<str> + PartialEq + std::fmt::Debug,
    {
        let json = serde_json::to_string(value).expect("a code serializes");
        assert_eq!(json, serde_json::to_string(value.as_ref()).expect("a string serializes"));
        let back: T = serde_json::from_str(&json).expect("a code reads back");
        assert_eq!(&back, value);
    }

    /// The schema's pattern, as a string, so tests can check values against its shape.
    pub fn pattern_of<T: schemars::JsonSchema>() -> String {
        let schema = schemars::SchemaGenerator::default().into_root_schema_for::<T>();
        schema.get("pattern").and_then(|pattern| pattern.as_str()).map(str::to_owned).unwrap_or_default()
    }
}
