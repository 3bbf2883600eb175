use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{FieldType, NamedMap, Spanned, TypeError};

/// A message schema file (`messages.yaml`): the enums and messages one package declares.
///
/// Field numbers are part of the wire format. A field's number is its 1-based position in
/// `fields` unless it sets `id:`. To evolve a message, append new fields at the end or give
/// them explicit ids; never reorder, remove or reuse a number (remove a field by keeping it
/// and ignoring it, or by giving the remaining fields their old numbers as `id:`).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Hermes message schemas")]
pub struct MessagesFile {
    /// The package the generated types live in: a Rust module name, and the protobuf package.
    /// Dotted names such as `trading.v1` are allowed.
    pub package: Spanned<String>,
    /// Enums by name. Each is a list of variant names, or `{ variants: [...], reserved: {...} }`;
    /// a variant's number is its 0-based position, so append variants and never reorder them.
    #[serde(default)]
    pub enums: NamedMap<EnumDef>,
    /// Messages by name, in the order they are generated.
    #[serde(default)]
    pub messages: NamedMap<MessageDef>,
}

/// Numbers and names a message or enum keeps out of use, so that a deleted field or variant
/// is never reused with another meaning: `reserved: { numbers: [3], names: [size] }`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReservedDef {
    /// Field or variant numbers no field or variant may use.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub numbers: Vec<Spanned<u32>>,
    /// Field or variant names no field or variant may use.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<Spanned<String>>,
}

impl ReservedDef {
    /// Whether nothing is reserved.
    ///
    /// ```
    /// assert!(hermes_build::model::ReservedDef::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.numbers.is_empty() && self.names.is_empty()
    }

    /// The protobuf model's view: the values without their spans.
    pub fn to_proto(&self) -> hermes_core::proto::Reserved {
        hermes_core::proto::Reserved {
            numbers: self.numbers.iter().map(|number| number.value).collect(),
            names: self.names.iter().map(|name| name.value.clone()).collect(),
        }
    }
}

/// An enum: its variant names in order, for example `[bid, ask]`, or, to reserve the numbers
/// and names of deleted variants, `{ variants: [bid, ask], reserved: { numbers: [2] } }`.
#[derive(Clone, Debug)]
pub struct EnumDef {
    /// The variants in order; the first is the default value.
    pub variants: Vec<Spanned<String>>,
    /// Variant numbers and names no variant may use.
    pub reserved: ReservedDef,
}

const ENUM_KEYS: &[&str] = &["variants", "reserved"];

// By hand rather than `#[serde(untagged)]`: untagged buffers its input, which loses the spans
// of the variant names.
impl<'de> Deserialize<'de> for EnumDef
where
    Spanned<String>: Deserialize<'de>,
    Spanned<u32>: Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EnumVisitor;

        impl<'de> Visitor<'de> for EnumVisitor
        where
            Spanned<String>: Deserialize<'de>,
            Spanned<u32>: Deserialize<'de>,
        {
            type Value = EnumDef;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of variant names, or a mapping with `variants` and `reserved`")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<EnumDef, A::Error> {
                let mut variants = Vec::new();
                while let Some(variant) = seq.next_element()? {
                    variants.push(variant);
                }
                Ok(EnumDef {
                    variants,
                    reserved: ReservedDef::default(),
                })
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EnumDef, A::Error> {
                let mut variants = None;
                let mut reserved = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "variants" if variants.is_some() => {
                            return Err(de::Error::duplicate_field("variants"));
                        }
                        "variants" => variants = Some(map.next_value()?),
                        "reserved" if reserved.is_some() => {
                            return Err(de::Error::duplicate_field("reserved"));
                        }
                        "reserved" => reserved = Some(map.next_value()?),
                        other => return Err(de::Error::unknown_field(other, ENUM_KEYS)),
                    }
                }
                Ok(EnumDef {
                    variants: variants.ok_or_else(|| de::Error::missing_field("variants"))?,
                    reserved: reserved.unwrap_or_default(),
                })
            }
        }

        deserializer.deserialize_any(EnumVisitor)
    }
}

impl Serialize for EnumDef {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.reserved.is_empty() {
            return self.variants.serialize(serializer);
        }
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("variants", &self.variants)?;
        map.serialize_entry("reserved", &self.reserved)?;
        map.end()
    }
}

impl JsonSchema for EnumDef {
    fn schema_name() -> Cow<'static, str> {
        "EnumDef".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let variants = generator.subschema_for::<Vec<Spanned<String>>>();
        let reserved = generator.subschema_for::<ReservedDef>();
        json_schema!({
            "description": "An enum: its variant names in order, for example `[bid, ask]`, or, to reserve the numbers and names of deleted variants, `{ variants: [bid, ask], reserved: { numbers: [2] } }`.",
            "anyOf": [
                variants,
                {
                    "type": "object",
                    "properties": {
                        "variants": variants,
                        "reserved": reserved,
                    },
                    "required": ["variants"],
                    "additionalProperties": false,
                },
            ],
        })
    }
}

/// A message: a documented list of fields.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageDef {
    /// Documentation, copied into the generated type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    /// The fields in order. A field's protobuf number is its 1-based position unless it sets
    /// `id:`: append new fields, never reorder or remove them.
    #[serde(default)]
    pub fields: Vec<FieldDef>,
    /// Field numbers and names no field may use: those of deleted fields.
    #[serde(default, skip_serializing_if = "ReservedDef::is_empty")]
    pub reserved: ReservedDef,
    /// The major version, 1 or more (1 when absent). The fingerprint every envelope carries is
    /// the message's lineage, its full name and this version, not its fields: compatible
    /// changes (appending a field) keep it, so old and new builds interoperate. Raise it for a
    /// breaking change (retyping, renumbering or reusing a field), so that old and new
    /// receivers refuse each other's messages instead of misreading them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("minimum" = 1))]
    pub version: Option<Spanned<u32>>,
    /// How `python-json` lays out this message's fields when the port does not say:
    /// `message` (`[dtype, ts, fields…]`, what Python's `hermes.Message` writes; the default),
    /// `list` (the fields in order) or `object` (the fields by name). Overrides
    /// `defaults.python_layout` of the topology.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub python_layout: Option<Spanned<hermes_core::PythonLayout>>,
}

/// One field of a message.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    /// The field name, in snake_case.
    pub name: Spanned<String>,
    /// The type: `bool`, `i32`, `i64`, `u32`, `u64`, `f32`, `f64`, `string`, `bytes`,
    /// `timestamp`, the name of an enum or message, `list<T>` or `map<string, T>`.
    #[serde(rename = "type")]
    #[schemars(extend("examples" = ["f64", "string", "Side", "list<Level>", "map<string, f64>"]))]
    pub ty: Spanned<String>,
    /// Whether the field may be absent. Lists and maps are never optional: empty means absent.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
    /// The protobuf field number, when it is not the field's 1-based position. Numbers are
    /// 1 to 536870911, excluding 19000 to 19999, and unique within the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Spanned<u32>>,
    /// Documentation, copied into the generated field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
}

impl FieldDef {
    /// The parsed `type:` expression.
    ///
    /// # Errors
    ///
    /// A [`TypeError`] when the expression is malformed (see [`FieldType::parse`]); a
    /// topology returned by [`crate::load`] has none.
    pub fn field_type(&self) -> Result<FieldType, TypeError> {
        FieldType::parse(&self.ty.value)
    }
}

impl MessageDef {
    /// The major version: `version:`, or 1 when absent.
    pub fn version(&self) -> u32 {
        self.version.as_ref().map_or(1, |version| version.value)
    }

    /// Each field with its protobuf field number: `id:` when given, else its 1-based position.
    ///
    /// ```
    /// # use hermes_build::model::MessageDef;
    /// # fn show(message: &MessageDef) {
    /// for (number, field) in message.numbered_fields() {
    ///     println!("{} = {number}", field.name);
    /// }
    /// # }
    /// ```
    pub fn numbered_fields(&self) -> impl Iterator<Item = (u32, &FieldDef)> {
        self.fields.iter().enumerate().map(|(index, field)| {
            let position = u32::try_from(index + 1).unwrap_or(u32::MAX);
            (field.id.as_ref().map_or(position, |id| id.value), field)
        })
    }
}
