//! The protobuf model of a topology's messages: one [`File`] per package, with every mapping
//! decision made once — YAML scalar to protobuf type, enum value names, map entries, proto3
//! `optional`. hermes-build renders it as `.proto` text and Rust types; the `hermes` command
//! turns it into runtime descriptors (`File::to_descriptor`, feature `descriptor`); [`compat`]
//! says whether two versions of it are compatible, by buf's `WIRE` and `WIRE_JSON` rules.
//!
//! | YAML | protobuf |
//! | --- | --- |
//! | `bool`, `i32`, `i64`, `u32`, `u64` | `bool`, `int32`, `int64`, `uint32`, `uint64` |
//! | `f32`, `f64` | `float`, `double` |
//! | `string`, `bytes` | `string`, `bytes` |
//! | `timestamp` | `uint64`, nanoseconds since the Unix epoch |
//! | an enum | the enum, values prefixed with its name (`SIDE_BUY`) |
//! | a message | the message |
//! | `list<T>` | `repeated T` |
//! | `map<string, T>` | `map<string, T>` |
//! | `optional: true` | `optional T` (proto3) |

use std::collections::BTreeSet;
use std::fmt::Write as _;

use heck::ToShoutySnakeCase as _;
use serde::{Deserialize, Serialize};

/// A built-in scalar field type, as the YAML names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scalar {
    /// `bool`
    Bool,
    /// `i32`
    I32,
    /// `i64`
    I64,
    /// `u32`
    U32,
    /// `u64`
    U64,
    /// `f32`
    F32,
    /// `f64`
    F64,
    /// `string`: UTF-8 text.
    String,
    /// `bytes`: arbitrary binary data.
    Bytes,
    /// `timestamp`: a point in time (nanoseconds since the Unix epoch on the wire).
    Timestamp,
}

impl Scalar {
    /// Every scalar type, in documentation order.
    pub const ALL: [Scalar; 10] = [
        Scalar::Bool,
        Scalar::I32,
        Scalar::I64,
        Scalar::U32,
        Scalar::U64,
        Scalar::F32,
        Scalar::F64,
        Scalar::String,
        Scalar::Bytes,
        Scalar::Timestamp,
    ];

    /// The name written in YAML.
    pub const fn name(self) -> &'static str {
        match self {
            Scalar::Bool => "bool",
            Scalar::I32 => "i32",
            Scalar::I64 => "i64",
            Scalar::U32 => "u32",
            Scalar::U64 => "u64",
            Scalar::F32 => "f32",
            Scalar::F64 => "f64",
            Scalar::String => "string",
            Scalar::Bytes => "bytes",
            Scalar::Timestamp => "timestamp",
        }
    }

    /// The scalar type with this YAML name.
    ///
    /// ```
    /// use hermes_core::proto::Scalar;
    /// assert_eq!(Scalar::from_name("f64"), Some(Scalar::F64));
    /// assert_eq!(Scalar::from_name("float"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Scalar> {
        Scalar::ALL.into_iter().find(|scalar| scalar.name() == name)
    }

    /// The protobuf scalar type that carries it.
    pub const fn proto_name(self) -> &'static str {
        match self {
            Scalar::Bool => "bool",
            Scalar::I32 => "int32",
            Scalar::I64 => "int64",
            Scalar::U32 => "uint32",
            Scalar::U64 | Scalar::Timestamp => "uint64",
            Scalar::F32 => "float",
            Scalar::F64 => "double",
            Scalar::String => "string",
            Scalar::Bytes => "bytes",
        }
    }
}

/// A declared enum or message, by package and name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TypeName {
    /// The package of the messages file that declares it.
    pub package: String,
    /// Its name in that file.
    pub name: String,
}

impl TypeName {
    /// `package.Name`.
    pub fn full_name(&self) -> String {
        format!("{}.{}", self.package, self.name)
    }
}

/// What one element of a field is.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A built-in scalar.
    Scalar(Scalar),
    /// A declared enum.
    Enum(TypeName),
    /// A declared message.
    Message(TypeName),
}

/// How many elements a field holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cardinality {
    /// Exactly one (a message field may still be absent on the wire).
    Single,
    /// `optional: true`: present or absent, distinguishably.
    Optional,
    /// `list<T>`.
    Repeated,
    /// `map<string, T>`.
    Map,
}

/// A field of a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    /// The field's name, as in YAML.
    pub name: String,
    /// Its number on the wire.
    pub number: u32,
    /// Its documentation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    /// Single, optional, repeated or map.
    pub cardinality: Cardinality,
    /// The element type (the value type, for maps; keys are always `string`).
    pub kind: Kind,
}

/// Numbers and names a message or enum keeps out of use, so that a deleted field or variant
/// is never reused with another meaning.
///
/// ```
/// let reserved = hermes_core::proto::Reserved { numbers: vec![3], names: vec!["size".into()] };
/// assert!(reserved.has_number(3) && reserved.has_name("size"));
/// assert!(hermes_core::proto::Reserved::default().is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reserved {
    /// Reserved numbers, as written.
    pub numbers: Vec<u32>,
    /// Reserved names, as the YAML writes them (for an enum, variant names such as `hold`).
    pub names: Vec<String>,
}

impl Reserved {
    /// Whether nothing is reserved.
    pub fn is_empty(&self) -> bool {
        self.numbers.is_empty() && self.names.is_empty()
    }

    /// Whether `number` is reserved.
    pub fn has_number(&self, number: u32) -> bool {
        self.numbers.contains(&number)
    }

    /// Whether `name` is reserved.
    pub fn has_name(&self, name: &str) -> bool {
        self.names.iter().any(|reserved| reserved == name)
    }
}

impl Field {
    /// The field's type as protobuf writes it, with full type names: `double`,
    /// `repeated demo.Level`, `map<string, double>`.
    ///
    /// ```
    /// use hermes_core::proto::{Cardinality, Field, Kind, Scalar};
    /// let field = Field {
    ///     name: "bids".into(),
    ///     number: 2,
    ///     doc: None,
    ///     cardinality: Cardinality::Repeated,
    ///     kind: Kind::Scalar(Scalar::F64),
    /// };
    /// assert_eq!(field.shape(), "repeated double");
    /// ```
    pub fn shape(&self) -> String {
        let element = match &self.kind {
            Kind::Scalar(scalar) => scalar.proto_name().to_owned(),
            Kind::Enum(target) | Kind::Message(target) => target.full_name(),
        };
        match self.cardinality {
            Cardinality::Single => element,
            Cardinality::Optional => format!("optional {element}"),
            Cardinality::Repeated => format!("repeated {element}"),
            Cardinality::Map => format!("map<string, {element}>"),
        }
    }
}

/// A message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Its name in the package.
    pub name: String,
    /// Its documentation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    /// Its fields, in YAML order.
    pub fields: Vec<Field>,
    /// Field numbers and names no field may use.
    pub reserved: Reserved,
}

/// An enum: its variants are numbered from 0 in YAML order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enum {
    /// Its name in the package.
    pub name: String,
    /// The variants as the YAML names them; variant `i` is number `i`.
    pub variants: Vec<String>,
    /// Variant numbers and names no variant may use.
    pub reserved: Reserved,
}

impl Enum {
    /// The protobuf name of variant `variant`: prefixed with the enum's name, as protobuf's
    /// style guide asks, because proto3 enum values share their package's namespace.
    ///
    /// ```
    /// use hermes_core::proto::{Enum, Reserved};
    /// let side = Enum { name: "Side".into(), variants: vec![], reserved: Reserved::default() };
    /// assert_eq!(side.value_name("buy"), "SIDE_BUY");
    /// ```
    pub fn value_name(&self, variant: &str) -> String {
        format!(
            "{}_{}",
            self.name.to_shouty_snake_case(),
            variant.to_shouty_snake_case()
        )
    }
}

/// The messages and enums of one package, as one `.proto` file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct File {
    /// The package.
    pub package: String,
    /// Its enums, sorted by name.
    pub enums: Vec<Enum>,
    /// Its messages, sorted by name.
    pub messages: Vec<Message>,
}

impl File {
    /// The file's name, `<package>.proto`.
    pub fn file_name(&self) -> String {
        format!("{}.proto", self.package)
    }

    /// The other packages its fields name, sorted.
    pub fn imports(&self) -> BTreeSet<&str> {
        self.messages
            .iter()
            .flat_map(|message| &message.fields)
            .filter_map(|field| match &field.kind {
                Kind::Enum(target) | Kind::Message(target) if target.package != self.package => {
                    Some(target.package.as_str())
                }
                _ => None,
            })
            .collect()
    }

    /// The field's type as written in this file's `.proto` text.
    fn type_text(&self, field: &Field) -> String {
        let element = match &field.kind {
            Kind::Scalar(scalar) => scalar.proto_name().to_owned(),
            Kind::Enum(target) | Kind::Message(target) if target.package == self.package => {
                target.name.clone()
            }
            Kind::Enum(target) | Kind::Message(target) => format!(".{}", target.full_name()),
        };
        match field.cardinality {
            Cardinality::Single => element,
            Cardinality::Optional if matches!(field.kind, Kind::Message(_)) => element,
            Cardinality::Optional => format!("optional {element}"),
            Cardinality::Repeated => format!("repeated {element}"),
            Cardinality::Map => format!("map<string, {element}>"),
        }
    }

    /// The `.proto` (proto3) text, headed by `header` (a `// ...` comment line or several).
    ///
    /// ```
    /// use hermes_core::proto::{Cardinality, Field, File, Kind, Message, Reserved, Scalar};
    ///
    /// let file = File {
    ///     package: "demo".into(),
    ///     enums: vec![],
    ///     messages: vec![Message {
    ///         name: "Tick".into(),
    ///         doc: None,
    ///         fields: vec![Field {
    ///             name: "n".into(),
    ///             number: 1,
    ///             doc: None,
    ///             cardinality: Cardinality::Repeated,
    ///             kind: Kind::Scalar(Scalar::U64),
    ///         }],
    ///         reserved: Reserved { numbers: vec![2, 3], names: vec!["old".into()] },
    ///     }],
    /// };
    /// assert!(file.to_proto("// generated").contains(
    ///     "message Tick {\n  reserved 2, 3;\n  reserved \"old\";\n  repeated uint64 n = 1;\n}"
    /// ));
    /// ```
    pub fn to_proto(&self, header: &str) -> String {
        let mut text = format!(
            "{header}\n\nsyntax = \"proto3\";\n\npackage {};\n",
            self.package
        );
        let imports = self.imports();
        if !imports.is_empty() {
            text.push('\n');
            for import in imports {
                let _ = writeln!(text, "import \"{import}.proto\";");
            }
        }
        for definition in &self.enums {
            let _ = writeln!(text, "\nenum {} {{", definition.name);
            let names: Vec<String> = definition
                .reserved
                .names
                .iter()
                .map(|name| definition.value_name(name))
                .collect();
            reserved(&mut text, &definition.reserved.numbers, &names);
            for (number, variant) in definition.variants.iter().enumerate() {
                let _ = writeln!(text, "  {} = {number};", definition.value_name(variant));
            }
            text.push_str("}\n");
        }
        for message in &self.messages {
            text.push('\n');
            comment(&mut text, "", message.doc.as_deref());
            let _ = writeln!(text, "message {} {{", message.name);
            reserved(
                &mut text,
                &message.reserved.numbers,
                &message.reserved.names,
            );
            for field in &message.fields {
                comment(&mut text, "  ", field.doc.as_deref());
                let note = if field.kind == Kind::Scalar(Scalar::Timestamp) {
                    " // nanoseconds since the Unix epoch"
                } else {
                    ""
                };
                let _ = writeln!(
                    text,
                    "  {} {} = {};{note}",
                    self.type_text(field),
                    field.name,
                    field.number
                );
            }
            text.push_str("}\n");
        }
        text
    }
}

/// `reserved 3, 5;` and `reserved "old";` lines, as proto3 writes them.
fn reserved(out: &mut String, numbers: &[u32], names: &[String]) {
    if !numbers.is_empty() {
        let numbers: Vec<String> = numbers.iter().map(u32::to_string).collect();
        let _ = writeln!(out, "  reserved {};", numbers.join(", "));
    }
    if !names.is_empty() {
        let names: Vec<String> = names.iter().map(|name| format!("\"{name}\"")).collect();
        let _ = writeln!(out, "  reserved {};", names.join(", "));
    }
}

fn comment(out: &mut String, indent: &str, doc: Option<&str>) {
    for line in doc.unwrap_or_default().trim_end().lines() {
        let _ = writeln!(out, "{indent}// {line}");
    }
}

pub mod compat;
#[cfg(feature = "descriptor")]
mod descriptor;
