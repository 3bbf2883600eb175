use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Spanned;

/// A YAML mapping from names to values that keeps the order it was written in and the span of
/// every name.
///
/// Nodes, proxies, messages and enums are declared this way; iteration order is file order, so
/// everything generated from a topology comes out in a deterministic order.
///
/// ```
/// use hermes_build::model::NamedMap;
/// let map: NamedMap<u32> = NamedMap::default();
/// assert!(map.get("missing").is_none());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct NamedMap<T> {
    entries: Vec<(Spanned<String>, T)>,
}

impl<T> Default for NamedMap<T> {
    fn default() -> Self {
        NamedMap {
            entries: Vec::new(),
        }
    }
}

impl<T> NamedMap<T> {
    /// Builds a map from entries in order.
    pub fn from_entries(entries: Vec<(Spanned<String>, T)>) -> Self {
        NamedMap { entries }
    }

    /// The entries in file order.
    pub fn iter(
        &self,
    ) -> impl DoubleEndedIterator + ExactSizeIterator<Item = (&Spanned<String>, &T)> {
        self.entries.iter().map(|(name, value)| (name, value))
    }

    /// The entries as a slice, in file order.
    pub fn entries(&self) -> &[(Spanned<String>, T)] {
        &self.entries
    }

    /// The names in file order.
    pub fn names(&self) -> impl DoubleEndedIterator + ExactSizeIterator<Item = &Spanned<String>> {
        self.entries.iter().map(|(name, _)| name)
    }

    /// The value declared under `name`, if any (the first one if the name repeats).
    pub fn get(&self, name: &str) -> Option<&T> {
        self.entries
            .iter()
            .find(|(key, _)| key.value == name)
            .map(|(_, value)| value)
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<'a, T> IntoIterator for &'a NamedMap<T> {
    type Item = &'a (Spanned<String>, T);
    type IntoIter = std::slice::Iter<'a, (Spanned<String>, T)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter()
    }
}

impl<'de, T> Deserialize<'de> for NamedMap<T>
where
    T: Deserialize<'de>,
    Spanned<String>: Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor<T>(PhantomData<T>);

        impl<'de, T> Visitor<'de> for MapVisitor<T>
        where
            T: Deserialize<'de>,
            Spanned<String>: Deserialize<'de>,
        {
            type Value = NamedMap<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping from names to definitions")
            }

            fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(NamedMap::default())
            }

            fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(NamedMap::default())
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<Spanned<String>, T>()? {
                    entries.push(entry);
                }
                Ok(NamedMap { entries })
            }
        }

        deserializer.deserialize_map(MapVisitor(PhantomData))
    }
}

impl<T: Serialize> Serialize for NamedMap<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (name, value) in &self.entries {
            map.serialize_entry(&name.value, value)?;
        }
        map.end()
    }
}

impl<T: JsonSchema> JsonSchema for NamedMap<T> {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        format!("NamedMap_of_{}", T::schema_name()).into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let value = generator.subschema_for::<T>();
        json_schema!({
            "type": "object",
            "propertyNames": { "pattern": "^[A-Za-z_][A-Za-z0-9_]*$" },
            "additionalProperties": value,
        })
    }
}
