use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
    /// Enums by name. Each is a list of variant names; a variant's number is its 0-based
    /// position, so append variants and never reorder them.
    #[serde(default)]
    pub enums: NamedMap<EnumDef>,
    /// Messages by name, in the order they are generated.
    #[serde(default)]
    pub messages: NamedMap<MessageDef>,
}

/// An enum: its variant names in order, for example `[bid, ask]`.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(transparent)]
pub struct EnumDef {
    /// The variants in order; the first is the default value.
    pub variants: Vec<Spanned<String>>,
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
