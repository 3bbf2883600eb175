//! Whether a new version of a topology's messages can still read the old one's payloads and
//! be read by it: buf's `WIRE` and `WIRE_JSON` breaking-change rules, for what the model can
//! express, and `PYTHON_POSITIONAL` for the array layouts of `python-json` (hermes-zmq's
//! `[dtype, ts, fields…]` and the plain list), where a field is its position.
//!
//! [`compare`] pairs files by package, messages and enums by name, fields by number and enum
//! values by number, as buf does, and returns a [`Finding`] per change a rule looks at. A
//! finding is `breaking` when the rule set forbids the change; a few compatible changes worth
//! knowing about (a field renamed under `WIRE`, `int32` widened to `int64`) are reported as
//! findings that are not breaking. Deleting a message, an enum or a whole package breaks
//! neither rule set: buf checks those only in its `FILE` and `PACKAGE` categories.
//!
//! What the model cannot express has no rule here: defaults and required fields (proto2),
//! oneofs, JSON-format options, services.
//!
//! ```
//! use hermes_core::proto::compat::{RuleSet, compare};
//! use hermes_core::proto::{Cardinality, Field, File, Kind, Message, Reserved, Scalar};
//!
//! let version = |scalar| File {
//!     package: "demo".into(),
//!     enums: vec![],
//!     messages: vec![Message {
//!         name: "Order".into(),
//!         doc: None,
//!         fields: vec![Field {
//!             name: "size".into(),
//!             number: 3,
//!             doc: None,
//!             cardinality: Cardinality::Single,
//!             kind: Kind::Scalar(scalar),
//!         }],
//!         reserved: Reserved::default(),
//!     }],
//! };
//! let findings = compare(&[version(Scalar::F64)], &[version(Scalar::String)], RuleSet::Wire);
//! assert_eq!(findings[0].rule.name(), "field_wire_compatible_type");
//! assert_eq!(findings[0].message, "field 3 'size' changed from double to string");
//! assert!(findings[0].breaking);
//! ```

use std::fmt;

use super::{Cardinality, Enum, Field, File, Kind, Message, Reserved};

/// Which of buf's breaking-change categories to check.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, PartialOrd, Ord,
)]
#[serde(rename_all = "snake_case")]
pub enum RuleSet {
    /// buf's `WIRE`: changes that break the binary protobuf encoding (protobuf ports).
    Wire,
    /// buf's `WIRE_JSON`: changes that break the binary or the JSON encoding (`json` ports,
    /// and `python-json` ports that write objects).
    WireJson,
    /// Hermes' rules for `python-json`'s array layouts, which carry a message as its fields in
    /// order: only appending a field is compatible; names of fields do not travel, names of
    /// enum values do, and JSON's types apply.
    PythonPositional,
}

impl RuleSet {
    /// buf's name of the category, as written in `buf.yaml`.
    ///
    /// ```
    /// assert_eq!(hermes_core::proto::compat::RuleSet::WireJson.buf_name(), "WIRE_JSON");
    /// ```
    pub const fn buf_name(self) -> &'static str {
        match self {
            RuleSet::Wire => "WIRE",
            RuleSet::WireJson => "WIRE_JSON",
            RuleSet::PythonPositional => "PYTHON_POSITIONAL",
        }
    }

    /// Every rule set.
    pub const ALL: [RuleSet; 3] = [RuleSet::Wire, RuleSet::WireJson, RuleSet::PythonPositional];
}

/// A compatibility rule, named as buf names it (in snake_case).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// A field is deleted and its number is not reserved.
    FieldNoDeleteUnlessNumberReserved,
    /// A field is deleted and its name is not reserved (`WIRE_JSON`).
    FieldNoDeleteUnlessNameReserved,
    /// A field's type changed to one the binary encoding cannot read (`WIRE`).
    FieldWireCompatibleType,
    /// A field's type changed to one the binary or JSON encoding cannot read (`WIRE_JSON`).
    FieldWireJsonCompatibleType,
    /// A field changed between single and repeated (`WIRE`).
    FieldWireCompatibleCardinality,
    /// A field changed between single, repeated and map (`WIRE_JSON`).
    FieldWireJsonCompatibleCardinality,
    /// A field was renamed: JSON names fields (breaking under `WIRE_JSON` only).
    FieldSameName,
    /// A field's JSON name (its lowerCamelCase name) changed (`WIRE_JSON`).
    FieldSameJsonName,
    /// An enum value is deleted and its number is not reserved.
    EnumValueNoDeleteUnlessNumberReserved,
    /// An enum value is deleted and its name is not reserved (`WIRE_JSON`).
    EnumValueNoDeleteUnlessNameReserved,
    /// An enum value was renamed: JSON writes value names (breaking under `WIRE_JSON` only).
    EnumValueSameName,
    /// A message's reserved number or name was deleted.
    ReservedMessageNoDelete,
    /// An enum's reserved number or name was deleted.
    ReservedEnumNoDelete,
    /// A field left its position, or a position lost its field (`PYTHON_POSITIONAL`; not
    /// buf's).
    FieldSamePosition,
    /// A port's message was renamed or moved to another package: its lineage, and so the
    /// fingerprint every envelope carries, changed, and receivers built before refuse it
    /// (Hermes' rule for ports, not buf's; [`compare`] never reports it).
    MessageSameLineage,
}

impl Rule {
    /// Every rule.
    pub const ALL: [Rule; 15] = [
        Rule::FieldNoDeleteUnlessNumberReserved,
        Rule::FieldNoDeleteUnlessNameReserved,
        Rule::FieldWireCompatibleType,
        Rule::FieldWireJsonCompatibleType,
        Rule::FieldWireCompatibleCardinality,
        Rule::FieldWireJsonCompatibleCardinality,
        Rule::FieldSameName,
        Rule::FieldSameJsonName,
        Rule::EnumValueNoDeleteUnlessNumberReserved,
        Rule::EnumValueNoDeleteUnlessNameReserved,
        Rule::EnumValueSameName,
        Rule::ReservedMessageNoDelete,
        Rule::ReservedEnumNoDelete,
        Rule::FieldSamePosition,
        Rule::MessageSameLineage,
    ];

    /// The stable snake_case name: buf's rule ID in lowercase.
    ///
    /// ```
    /// use hermes_core::proto::compat::Rule;
    /// assert_eq!(Rule::FieldSameJsonName.name(), "field_same_json_name");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            Rule::FieldNoDeleteUnlessNumberReserved => "field_no_delete_unless_number_reserved",
            Rule::FieldNoDeleteUnlessNameReserved => "field_no_delete_unless_name_reserved",
            Rule::FieldWireCompatibleType => "field_wire_compatible_type",
            Rule::FieldWireJsonCompatibleType => "field_wire_json_compatible_type",
            Rule::FieldWireCompatibleCardinality => "field_wire_compatible_cardinality",
            Rule::FieldWireJsonCompatibleCardinality => "field_wire_json_compatible_cardinality",
            Rule::FieldSameName => "field_same_name",
            Rule::FieldSameJsonName => "field_same_json_name",
            Rule::EnumValueNoDeleteUnlessNumberReserved => {
                "enum_value_no_delete_unless_number_reserved"
            }
            Rule::EnumValueNoDeleteUnlessNameReserved => {
                "enum_value_no_delete_unless_name_reserved"
            }
            Rule::EnumValueSameName => "enum_value_same_name",
            Rule::ReservedMessageNoDelete => "reserved_message_no_delete",
            Rule::ReservedEnumNoDelete => "reserved_enum_no_delete",
            Rule::FieldSamePosition => "field_same_position",
            Rule::MessageSameLineage => "message_same_lineage",
        }
    }

    /// buf's rule ID, as `buf breaking` prints it.
    ///
    /// ```
    /// use hermes_core::proto::compat::Rule;
    /// assert_eq!(Rule::FieldSameName.buf_id(), "FIELD_SAME_NAME");
    /// ```
    pub fn buf_id(self) -> String {
        self.name().to_ascii_uppercase()
    }

    /// Whether buf's category `rules` contains this rule.
    ///
    /// ```
    /// use hermes_core::proto::compat::{Rule, RuleSet};
    /// assert!(Rule::FieldSameName.belongs_to(RuleSet::WireJson));
    /// assert!(!Rule::FieldSameName.belongs_to(RuleSet::Wire));
    /// ```
    pub const fn belongs_to(self, rules: RuleSet) -> bool {
        match self {
            Rule::EnumValueNoDeleteUnlessNumberReserved
            | Rule::ReservedMessageNoDelete
            | Rule::ReservedEnumNoDelete
            | Rule::MessageSameLineage => true,
            Rule::FieldNoDeleteUnlessNumberReserved => {
                matches!(rules, RuleSet::Wire | RuleSet::WireJson)
            }
            Rule::FieldWireCompatibleType | Rule::FieldWireCompatibleCardinality => {
                matches!(rules, RuleSet::Wire)
            }
            Rule::FieldWireJsonCompatibleType
            | Rule::FieldWireJsonCompatibleCardinality
            | Rule::EnumValueNoDeleteUnlessNameReserved
            | Rule::EnumValueSameName => {
                matches!(rules, RuleSet::WireJson | RuleSet::PythonPositional)
            }
            Rule::FieldNoDeleteUnlessNameReserved
            | Rule::FieldSameName
            | Rule::FieldSameJsonName => matches!(rules, RuleSet::WireJson),
            Rule::FieldSamePosition => matches!(rules, RuleSet::PythonPositional),
        }
    }

    /// Whether buf has this rule (all but Hermes' `field_same_position`).
    pub const fn is_buf(self) -> bool {
        !matches!(self, Rule::FieldSamePosition | Rule::MessageSameLineage)
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a finding is: a message or enum, and the field or value number it is about.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Location {
    /// The package.
    pub package: String,
    /// The message or enum.
    pub parent: String,
    /// The field or enum value number; `None` for a finding about the parent itself.
    pub number: Option<u32>,
    /// The field or value's name in the old version, if it had one there.
    pub old_name: Option<String>,
    /// The field or value's name in the new version, if it has one there.
    pub new_name: Option<String>,
}

/// One change a rule looked at.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Finding {
    /// The rule.
    pub rule: Rule,
    /// Whether the rule set forbids the change; `false` for a compatible change worth knowing.
    pub breaking: bool,
    /// Where the change is.
    pub location: Location,
    /// What changed, lowercase, for example `field 3 'size' changed from double to string`.
    pub message: String,
}

/// The findings of `rules` between `old` and `new`, in file, definition and number order.
///
/// The new version breaks the old one under `rules` when any finding is `breaking`.
///
/// # Examples
///
/// ```
/// use hermes_core::proto::compat::{Rule, RuleSet, compare};
/// use hermes_core::proto::{Enum, File, Reserved};
///
/// let side = |variants: &[&str], reserved: Reserved| File {
///     package: "demo".into(),
///     enums: vec![Enum {
///         name: "Side".into(),
///         variants: variants.iter().map(|v| v.to_string()).collect(),
///         reserved,
///     }],
///     messages: vec![],
/// };
/// let old = side(&["buy", "sell", "hold"], Reserved::default());
/// // Appending a variant is compatible.
/// let appended = side(&["buy", "sell", "hold", "cross"], Reserved::default());
/// assert!(compare(&[old.clone()], &[appended], RuleSet::WireJson).is_empty());
/// // Deleting one breaks, unless its number (and, for JSON, its name) is reserved.
/// let deleted = side(&["buy", "sell"], Reserved::default());
/// let findings = compare(&[old.clone()], &[deleted], RuleSet::Wire);
/// assert_eq!(findings[0].rule, Rule::EnumValueNoDeleteUnlessNumberReserved);
/// let reserved = side(&["buy", "sell"], Reserved { numbers: vec![2], names: vec!["hold".into()] });
/// assert!(compare(&[old], &[reserved], RuleSet::WireJson).is_empty());
/// ```
pub fn compare(old: &[File], new: &[File], rules: RuleSet) -> Vec<Finding> {
    let mut findings = Findings {
        rules,
        list: Vec::new(),
        package: String::new(),
    };
    for old_file in old {
        // A deleted package, message or enum breaks neither WIRE nor WIRE_JSON.
        let Some(new_file) = new.iter().find(|file| file.package == old_file.package) else {
            continue;
        };
        for old_enum in &old_file.enums {
            if let Some(new_enum) = new_file.enums.iter().find(|e| e.name == old_enum.name) {
                findings.package = old_file.package.clone();
                findings.enums(old_enum, new_enum);
            }
        }
        for old_message in &old_file.messages {
            if let Some(new_message) = new_file
                .messages
                .iter()
                .find(|m| m.name == old_message.name)
            {
                findings.package = old_file.package.clone();
                findings.message(old_message, new_message);
            }
        }
    }
    findings.list
}

struct Findings {
    rules: RuleSet,
    list: Vec<Finding>,
    package: String,
}

impl Findings {
    /// Records a finding of `rule`, breaking when the rule set has the rule.
    fn push(
        &mut self,
        rule: Rule,
        parent: &str,
        number: Option<u32>,
        names: (Option<&str>, Option<&str>),
        message: String,
    ) {
        let breaking = rule.belongs_to(self.rules);
        self.record(rule, breaking, parent, number, names, message);
    }

    fn record(
        &mut self,
        rule: Rule,
        breaking: bool,
        parent: &str,
        number: Option<u32>,
        names: (Option<&str>, Option<&str>),
        message: String,
    ) {
        self.list.push(Finding {
            rule,
            breaking,
            location: Location {
                package: self.package.clone(),
                parent: parent.to_owned(),
                number,
                old_name: names.0.map(str::to_owned),
                new_name: names.1.map(str::to_owned),
            },
            message,
        });
    }

    /// The rule of `rules` among a `WIRE` and a `WIRE_JSON` rule.
    fn pick(&self, wire: Rule, wire_json: Rule) -> Rule {
        match self.rules {
            RuleSet::Wire => wire,
            RuleSet::WireJson | RuleSet::PythonPositional => wire_json,
        }
    }

    fn reserved(&mut self, rule: Rule, kind: &str, parent: &str, old: &Reserved, new: &Reserved) {
        for &number in old.numbers.iter().filter(|&&n| !new.has_number(n)) {
            let message = format!("reserved number {number} of {kind} '{parent}' was deleted");
            self.push(rule, parent, Some(number), (None, None), message);
        }
        for name in old.names.iter().filter(|name| !new.has_name(name)) {
            let message = format!("reserved name '{name}' of {kind} '{parent}' was deleted");
            self.push(rule, parent, None, (Some(name), None), message);
        }
    }

    /// Enum values compare by their protobuf names (`SIDE_HOLD`), which `hold` and `Hold`
    /// share, as buf sees them.
    fn enums(&mut self, old: &Enum, new: &Enum) {
        let parent = old.name.as_str();
        let value_names = |definition: &Enum| Reserved {
            numbers: definition.reserved.numbers.clone(),
            names: (definition.reserved.names.iter())
                .map(|name| definition.value_name(name))
                .collect(),
        };
        let (old_reserved, new_reserved) = (value_names(old), value_names(new));
        let rule = Rule::ReservedEnumNoDelete;
        self.reserved(rule, "enum", parent, &old_reserved, &new_reserved);
        for (index, old_variant) in old.variants.iter().enumerate() {
            let number = u32::try_from(index).unwrap_or(u32::MAX);
            match new.variants.get(index) {
                Some(new_variant) if new.value_name(new_variant) != old.value_name(old_variant) => {
                    let message = format!(
                        "enum value {number} of '{parent}' renamed from '{old_variant}' to \
                         '{new_variant}'"
                    );
                    let names = (Some(old_variant.as_str()), Some(new_variant.as_str()));
                    self.push(
                        Rule::EnumValueSameName,
                        parent,
                        Some(number),
                        names,
                        message,
                    );
                }
                Some(_) => {}
                None => {
                    let names = (Some(old_variant.as_str()), None);
                    if !new.reserved.has_number(number) {
                        let message = format!(
                            "enum value {number} '{old_variant}' of '{parent}' was deleted \
                             without reserving its number"
                        );
                        let rule = Rule::EnumValueNoDeleteUnlessNumberReserved;
                        self.push(rule, parent, Some(number), names, message);
                    }
                    let value_name = old.value_name(old_variant);
                    if self.rules != RuleSet::Wire && !new_reserved.has_name(&value_name) {
                        let message = format!(
                            "enum value {number} '{old_variant}' of '{parent}' was deleted \
                             without reserving its name"
                        );
                        let rule = Rule::EnumValueNoDeleteUnlessNameReserved;
                        self.push(rule, parent, Some(number), names, message);
                    }
                }
            }
        }
    }

    fn message(&mut self, old: &Message, new: &Message) {
        let parent = old.name.as_str();
        let (old_reserved, new_reserved) = (&old.reserved, &new.reserved);
        self.reserved(
            Rule::ReservedMessageNoDelete,
            "message",
            parent,
            old_reserved,
            new_reserved,
        );
        if self.rules == RuleSet::PythonPositional {
            self.positions(old, new);
        }
        for old_field in &old.fields {
            let number = old_field.number;
            let Some(new_field) = new.fields.iter().find(|field| field.number == number) else {
                if self.rules == RuleSet::PythonPositional {
                    // `positions` reported it: a deleted field moves every one after it.
                    continue;
                }
                let names = (Some(old_field.name.as_str()), None);
                let name = &old_field.name;
                if !new.reserved.has_number(number) {
                    let message = format!(
                        "field {number} '{name}' of '{parent}' was deleted without reserving its \
                         number"
                    );
                    let rule = Rule::FieldNoDeleteUnlessNumberReserved;
                    self.push(rule, parent, Some(number), names, message);
                }
                if self.rules == RuleSet::WireJson && !new.reserved.has_name(name) {
                    let message = format!(
                        "field {number} '{name}' of '{parent}' was deleted without reserving its \
                         name"
                    );
                    let rule = Rule::FieldNoDeleteUnlessNameReserved;
                    self.push(rule, parent, Some(number), names, message);
                }
                continue;
            };
            self.field(parent, old_field, new_field);
        }
    }

    /// Under `PYTHON_POSITIONAL`: every old position must still hold the same field (by
    /// number); new fields may only follow the old ones.
    fn positions(&mut self, old: &Message, new: &Message) {
        let parent = old.name.as_str();
        for (index, old_field) in old.fields.iter().enumerate() {
            let position = index + 1;
            let (number, name) = (old_field.number, &old_field.name);
            match new.fields.get(index) {
                Some(new_field) if new_field.number == number => {}
                Some(new_field) => {
                    let message = format!(
                        "position {position} of '{parent}' held field {number} '{name}' and now \
                         holds field {} '{}'",
                        new_field.number, new_field.name
                    );
                    let names = (Some(name.as_str()), Some(new_field.name.as_str()));
                    let rule = Rule::FieldSamePosition;
                    self.push(rule, parent, Some(new_field.number), names, message);
                }
                None => {
                    let message = format!(
                        "field {number} '{name}' at position {position} of '{parent}' was deleted"
                    );
                    let names = (Some(name.as_str()), None);
                    self.push(
                        Rule::FieldSamePosition,
                        parent,
                        Some(number),
                        names,
                        message,
                    );
                }
            }
        }
    }

    fn field(&mut self, parent: &str, old: &Field, new: &Field) {
        let number = old.number;
        let names = (Some(old.name.as_str()), Some(new.name.as_str()));
        if old.name != new.name {
            let message = format!(
                "field {number} of '{parent}' renamed from '{}' to '{}'",
                old.name, new.name
            );
            self.push(Rule::FieldSameName, parent, Some(number), names, message);
            let (old_json, new_json) = (json_name(&old.name), json_name(&new.name));
            if self.rules == RuleSet::WireJson && old_json != new_json {
                let message = format!(
                    "field {number} '{}' of '{parent}' changed JSON name from '{old_json}' to \
                     '{new_json}'",
                    new.name
                );
                self.push(
                    Rule::FieldSameJsonName,
                    parent,
                    Some(number),
                    names,
                    message,
                );
            }
        }
        let name = &new.name;
        let rule = self.pick(
            Rule::FieldWireCompatibleCardinality,
            Rule::FieldWireJsonCompatibleCardinality,
        );
        let (old_group, new_group) = (
            cardinality_group(old.cardinality, self.rules),
            cardinality_group(new.cardinality, self.rules),
        );
        if old.cardinality != new.cardinality {
            let message = format!(
                "field {number} '{name}' changed cardinality from {} to {}",
                cardinality_name(old.cardinality),
                cardinality_name(new.cardinality)
            );
            let breaking = old_group != new_group;
            self.record(rule, breaking, parent, Some(number), names, message);
        }
        // A map's type is its entry message: no other type reads it.
        let old_is_map = old.cardinality == Cardinality::Map;
        let new_is_map = new.cardinality == Cardinality::Map;
        let rule = self.pick(
            Rule::FieldWireCompatibleType,
            Rule::FieldWireJsonCompatibleType,
        );
        let (old_type, new_type) = (type_name(&old.kind), type_name(&new.kind));
        if old_is_map != new_is_map {
            let (old_type, new_type) = (
                if old_is_map {
                    "map entry"
                } else {
                    old_type.as_str()
                },
                if new_is_map {
                    "map entry"
                } else {
                    new_type.as_str()
                },
            );
            let message = format!("field {number} '{name}' changed from {old_type} to {new_type}");
            self.push(rule, parent, Some(number), names, message);
        } else if old_type != new_type {
            let message = format!("field {number} '{name}' changed from {old_type} to {new_type}");
            let breaking = !type_compatible(&old.kind, &new.kind, self.rules);
            self.record(rule, breaking, parent, Some(number), names, message);
        }
    }
}

/// The field's JSON name as protoc derives it: underscores dropped, the letter after each one
/// capitalised.
fn json_name(name: &str) -> String {
    let mut json = String::with_capacity(name.len());
    let mut capitalise = false;
    for c in name.chars() {
        if c == '_' {
            capitalise = true;
        } else if capitalise {
            json.push(c.to_ascii_uppercase());
            capitalise = false;
        } else {
            json.push(c);
        }
    }
    json
}

fn cardinality_name(cardinality: Cardinality) -> &'static str {
    match cardinality {
        Cardinality::Single => "single",
        Cardinality::Optional => "optional",
        Cardinality::Repeated => "list",
        Cardinality::Map => "map",
    }
}

/// Cardinalities in one group read each other: on the wire a map is a repeated entry message,
/// in JSON an object, not an array.
fn cardinality_group(cardinality: Cardinality, rules: RuleSet) -> u8 {
    match (cardinality, rules) {
        (Cardinality::Single | Cardinality::Optional, _) => 0,
        (Cardinality::Repeated, _) | (Cardinality::Map, RuleSet::Wire) => 1,
        (Cardinality::Map, RuleSet::WireJson | RuleSet::PythonPositional) => 2,
    }
}

/// The element type as protobuf names it: `double`, `demo.Side`.
fn type_name(kind: &Kind) -> String {
    match kind {
        Kind::Scalar(scalar) => scalar.proto_name().to_owned(),
        Kind::Enum(target) | Kind::Message(target) => target.full_name(),
    }
}

/// Whether a field of element type `new` reads what one of type `old` wrote, buf's groups:
/// under `WIRE` the varints (`bool` and the integers) read each other, and `bytes` reads
/// `string` but not the other way; under `WIRE_JSON` only a signed and an unsigned integer of
/// one width do. Enums and messages read only themselves, by full name (buf keeps enums apart
/// from the integers they are encoded as).
fn type_compatible(old: &Kind, new: &Kind, rules: RuleSet) -> bool {
    let group = |kind: &Kind| -> Option<u8> {
        let Kind::Scalar(scalar) = kind else {
            return None;
        };
        match (scalar.proto_name(), rules) {
            ("bool" | "int32" | "int64" | "uint32" | "uint64", RuleSet::Wire) => Some(0),
            ("int32" | "uint32", RuleSet::WireJson | RuleSet::PythonPositional) => Some(1),
            ("int64" | "uint64", RuleSet::WireJson | RuleSet::PythonPositional) => Some(2),
            _ => None,
        }
    };
    match (old, new) {
        (Kind::Enum(a), Kind::Enum(b)) | (Kind::Message(a), Kind::Message(b)) => a == b,
        (Kind::Scalar(a), Kind::Scalar(b)) if a.proto_name() == b.proto_name() => true,
        (Kind::Scalar(a), Kind::Scalar(b))
            if rules == RuleSet::Wire
                && a.proto_name() == "string"
                && b.proto_name() == "bytes" =>
        {
            true
        }
        _ => group(old).is_some() && group(old) == group(new),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{Scalar, TypeName};

    fn field(name: &str, number: u32, cardinality: Cardinality, kind: Kind) -> Field {
        Field {
            name: name.into(),
            number,
            doc: None,
            cardinality,
            kind,
        }
    }

    fn scalar(name: &str, number: u32, scalar: Scalar) -> Field {
        field(name, number, Cardinality::Single, Kind::Scalar(scalar))
    }

    fn file(fields: Vec<Field>, reserved: Reserved) -> File {
        File {
            package: "demo".into(),
            enums: vec![],
            messages: vec![Message {
                name: "Order".into(),
                doc: None,
                fields,
                reserved,
            }],
        }
    }

    fn rules(old: &File, new: &File, set: RuleSet) -> Vec<(&'static str, bool)> {
        compare(std::slice::from_ref(old), std::slice::from_ref(new), set)
            .into_iter()
            .map(|finding| (finding.rule.name(), finding.breaking))
            .collect()
    }

    fn enum_kind(name: &str) -> Kind {
        Kind::Enum(TypeName {
            package: "demo".into(),
            name: name.into(),
        })
    }

    #[test]
    fn identical_versions_have_no_finding() {
        let v = file(vec![scalar("size", 1, Scalar::F64)], Reserved::default());
        assert_eq!(rules(&v, &v, RuleSet::WireJson), []);
    }

    #[test]
    fn appended_fields_and_new_messages_are_compatible() {
        let old = file(vec![scalar("size", 1, Scalar::F64)], Reserved::default());
        let mut new = file(
            vec![
                scalar("size", 1, Scalar::F64),
                scalar("note", 2, Scalar::String),
            ],
            Reserved::default(),
        );
        new.messages.push(Message {
            name: "Quote".into(),
            doc: None,
            fields: vec![],
            reserved: Reserved::default(),
        });
        assert_eq!(rules(&old, &new, RuleSet::WireJson), []);
    }

    #[test]
    fn deleted_messages_and_packages_break_neither_rule_set() {
        let old = file(vec![scalar("size", 1, Scalar::F64)], Reserved::default());
        let mut empty = old.clone();
        empty.messages.clear();
        assert_eq!(rules(&old, &empty, RuleSet::WireJson), []);
        assert!(compare(&[old], &[], RuleSet::WireJson).is_empty());
    }

    #[test]
    fn deleted_field_breaks_unless_its_number_is_reserved() {
        let old = file(
            vec![
                scalar("size", 1, Scalar::F64),
                scalar("note", 2, Scalar::String),
            ],
            Reserved::default(),
        );
        let deleted = file(vec![scalar("size", 1, Scalar::F64)], Reserved::default());
        assert_eq!(
            rules(&old, &deleted, RuleSet::Wire),
            [("field_no_delete_unless_number_reserved", true)]
        );
        assert_eq!(
            rules(&old, &deleted, RuleSet::WireJson),
            [
                ("field_no_delete_unless_number_reserved", true),
                ("field_no_delete_unless_name_reserved", true)
            ]
        );
        let numbered = Reserved {
            numbers: vec![2],
            names: vec![],
        };
        let reserved = file(vec![scalar("size", 1, Scalar::F64)], numbered);
        assert_eq!(rules(&old, &reserved, RuleSet::Wire), []);
        assert_eq!(
            rules(&old, &reserved, RuleSet::WireJson),
            [("field_no_delete_unless_name_reserved", true)]
        );
    }

    #[test]
    fn renamed_field_breaks_json_only() {
        let old = file(
            vec![scalar("bid_size", 1, Scalar::F64)],
            Reserved::default(),
        );
        let new = file(vec![scalar("qty", 1, Scalar::F64)], Reserved::default());
        assert_eq!(
            rules(&old, &new, RuleSet::Wire),
            [("field_same_name", false)]
        );
        assert_eq!(
            rules(&old, &new, RuleSet::WireJson),
            [("field_same_name", true), ("field_same_json_name", true)]
        );
        assert_eq!(json_name("bid_size"), "bidSize");
    }

    #[test]
    fn scalar_type_groups_follow_buf() {
        let pairs = [
            (Scalar::I32, Scalar::I64, true, false),
            (Scalar::I32, Scalar::U32, true, true),
            (Scalar::I64, Scalar::U64, true, true),
            (Scalar::Bool, Scalar::U64, true, false),
            (Scalar::String, Scalar::Bytes, true, false),
            (Scalar::Bytes, Scalar::String, false, false),
            (Scalar::F32, Scalar::F64, false, false),
            (Scalar::F64, Scalar::String, false, false),
        ];
        for (from, to, wire, wire_json) in pairs {
            let old = file(vec![scalar("x", 1, from)], Reserved::default());
            let new = file(vec![scalar("x", 1, to)], Reserved::default());
            assert_eq!(
                rules(&old, &new, RuleSet::Wire),
                [("field_wire_compatible_type", !wire)],
                "{from:?} to {to:?}"
            );
            assert_eq!(
                rules(&old, &new, RuleSet::WireJson),
                [("field_wire_json_compatible_type", !wire_json)],
                "{from:?} to {to:?}"
            );
        }
    }

    #[test]
    fn timestamp_and_u64_are_the_same_protobuf_type() {
        let old = file(
            vec![scalar("at", 1, Scalar::Timestamp)],
            Reserved::default(),
        );
        let new = file(vec![scalar("at", 1, Scalar::U64)], Reserved::default());
        assert_eq!(rules(&old, &new, RuleSet::WireJson), []);
    }

    #[test]
    fn enums_read_neither_integers_nor_other_enums() {
        let int = file(vec![scalar("side", 1, Scalar::I32)], Reserved::default());
        let side = |name| {
            let kind = enum_kind(name);
            file(
                vec![field("side", 1, Cardinality::Single, kind)],
                Reserved::default(),
            )
        };
        assert_eq!(
            rules(&int, &side("Side"), RuleSet::Wire),
            [("field_wire_compatible_type", true)]
        );
        assert_eq!(
            rules(&int, &side("Side"), RuleSet::WireJson),
            [("field_wire_json_compatible_type", true)]
        );
        assert_eq!(
            rules(&side("Side"), &side("Venue"), RuleSet::Wire),
            [("field_wire_compatible_type", true)]
        );
    }

    #[test]
    fn cardinality_groups_follow_buf() {
        let kind = Kind::Scalar(Scalar::I32);
        let with = |cardinality| {
            file(
                vec![field("x", 1, cardinality, kind.clone())],
                Reserved::default(),
            )
        };
        let single = with(Cardinality::Single);
        let optional = with(Cardinality::Optional);
        let list = with(Cardinality::Repeated);
        let map = with(Cardinality::Map);
        assert_eq!(
            rules(&single, &optional, RuleSet::WireJson),
            [("field_wire_json_compatible_cardinality", false)]
        );
        assert_eq!(
            rules(&single, &list, RuleSet::Wire),
            [("field_wire_compatible_cardinality", true)]
        );
        assert_eq!(
            rules(&list, &map, RuleSet::Wire),
            [
                ("field_wire_compatible_cardinality", false),
                ("field_wire_compatible_type", true)
            ]
        );
        assert_eq!(
            rules(&list, &map, RuleSet::WireJson),
            [
                ("field_wire_json_compatible_cardinality", true),
                ("field_wire_json_compatible_type", true)
            ]
        );
    }

    #[test]
    fn enum_value_rename_breaks_json_only() {
        let side = |variants: &[&str]| File {
            package: "demo".into(),
            enums: vec![Enum {
                name: "Side".into(),
                variants: variants.iter().map(|v| v.to_string()).collect(),
                reserved: Reserved::default(),
            }],
            messages: vec![],
        };
        let (old, new) = (side(&["buy", "sell"]), side(&["buy", "offer"]));
        // `Sell` is `SIDE_SELL` too: not a rename.
        let recased = side(&["buy", "Sell"]);
        assert_eq!(rules(&old, &recased, RuleSet::WireJson), []);
        assert_eq!(
            rules(&old, &new, RuleSet::Wire),
            [("enum_value_same_name", false)]
        );
        assert_eq!(
            rules(&old, &new, RuleSet::WireJson),
            [("enum_value_same_name", true)]
        );
    }

    #[test]
    fn deleted_reserved_number_and_name_break_both_rule_sets() {
        let reserved = Reserved {
            numbers: vec![4],
            names: vec!["old".into()],
        };
        let old = file(vec![], reserved);
        let new = file(vec![], Reserved::default());
        let findings = compare(
            std::slice::from_ref(&old),
            std::slice::from_ref(&new),
            RuleSet::Wire,
        );
        let messages: Vec<&str> = findings.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "reserved number 4 of message 'Order' was deleted",
                "reserved name 'old' of message 'Order' was deleted"
            ]
        );
        assert!(findings.iter().all(|f| f.breaking));
        assert!(
            findings
                .iter()
                .all(|f| f.rule == Rule::ReservedMessageNoDelete)
        );
    }

    #[test]
    fn every_buf_rule_belongs_to_wire_json_or_wire() {
        for rule in Rule::ALL.into_iter().filter(|rule| rule.is_buf()) {
            assert!(rule.belongs_to(RuleSet::Wire) || rule.belongs_to(RuleSet::WireJson));
            assert_eq!(rule.buf_id().to_ascii_lowercase(), rule.name());
        }
        assert!(Rule::FieldSamePosition.belongs_to(RuleSet::PythonPositional));
    }

    fn order(fields: Vec<Field>) -> Vec<File> {
        vec![File {
            package: "demo".into(),
            enums: vec![],
            messages: vec![Message {
                name: "Order".into(),
                doc: None,
                fields,
                reserved: Reserved::default(),
            }],
        }]
    }

    fn positional(old: Vec<Field>, new: Vec<Field>) -> Vec<(Rule, bool)> {
        compare(&order(old), &order(new), RuleSet::PythonPositional)
            .into_iter()
            .map(|finding| (finding.rule, finding.breaking))
            .collect()
    }

    #[test]
    fn positionally_appending_a_field_is_compatible() {
        let old = vec![scalar("id", 1, Scalar::U64)];
        let new = vec![
            scalar("id", 1, Scalar::U64),
            scalar("note", 2, Scalar::String),
        ];
        assert!(positional(old, new).is_empty());
    }

    #[test]
    fn positionally_renaming_a_field_is_compatible() {
        let old = vec![scalar("id", 1, Scalar::U64)];
        let new = vec![scalar("key", 1, Scalar::U64)];
        assert_eq!(positional(old, new), [(Rule::FieldSameName, false)]);
    }

    #[test]
    fn positionally_deleting_a_field_breaks_even_when_reserved() {
        let old = vec![
            scalar("id", 1, Scalar::U64),
            scalar("note", 2, Scalar::String),
        ];
        let mut new = order(vec![scalar("id", 1, Scalar::U64)]);
        new[0].messages[0].reserved = Reserved {
            numbers: vec![2],
            names: vec!["note".into()],
        };
        let findings = compare(&order(old), &new, RuleSet::PythonPositional);
        let rules: Vec<_> = findings.iter().map(|f| (f.rule, f.breaking)).collect();
        assert_eq!(rules, [(Rule::FieldSamePosition, true)]);
        assert_eq!(
            findings[0].message,
            "field 2 'note' at position 2 of 'Order' was deleted"
        );
    }

    #[test]
    fn positionally_inserting_or_reordering_fields_breaks() {
        let old = vec![
            scalar("id", 1, Scalar::U64),
            scalar("note", 2, Scalar::String),
        ];
        let inserted = vec![
            scalar("id", 1, Scalar::U64),
            scalar("venue", 3, Scalar::String),
            scalar("note", 2, Scalar::String),
        ];
        assert_eq!(
            positional(old.clone(), inserted),
            [(Rule::FieldSamePosition, true)]
        );
        let swapped = vec![
            scalar("note", 2, Scalar::String),
            scalar("id", 1, Scalar::U64),
        ];
        assert_eq!(
            positional(old, swapped),
            [
                (Rule::FieldSamePosition, true),
                (Rule::FieldSamePosition, true)
            ]
        );
    }

    #[test]
    fn positionally_json_types_apply() {
        let old = vec![scalar("size", 1, Scalar::F64)];
        let new = vec![scalar("size", 1, Scalar::String)];
        assert_eq!(
            positional(old, new),
            [(Rule::FieldWireJsonCompatibleType, true)]
        );
    }
}
