use std::fmt;

/// A built-in scalar field type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScalarType {
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

impl ScalarType {
    /// Every scalar type, in documentation order.
    pub const ALL: [ScalarType; 10] = [
        ScalarType::Bool,
        ScalarType::I32,
        ScalarType::I64,
        ScalarType::U32,
        ScalarType::U64,
        ScalarType::F32,
        ScalarType::F64,
        ScalarType::String,
        ScalarType::Bytes,
        ScalarType::Timestamp,
    ];

    /// The name written in YAML.
    pub fn name(self) -> &'static str {
        match self {
            ScalarType::Bool => "bool",
            ScalarType::I32 => "i32",
            ScalarType::I64 => "i64",
            ScalarType::U32 => "u32",
            ScalarType::U64 => "u64",
            ScalarType::F32 => "f32",
            ScalarType::F64 => "f64",
            ScalarType::String => "string",
            ScalarType::Bytes => "bytes",
            ScalarType::Timestamp => "timestamp",
        }
    }

    /// The scalar type with this YAML name.
    ///
    /// ```
    /// use hermes_build::model::ScalarType;
    /// assert_eq!(ScalarType::from_name("f64"), Some(ScalarType::F64));
    /// assert_eq!(ScalarType::from_name("float"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<ScalarType> {
        ScalarType::ALL
            .into_iter()
            .find(|scalar| scalar.name() == name)
    }
}

/// A parsed field type expression such as `f64`, `Side`, `list<Level>` or `map<string, f64>`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum FieldType {
    /// A built-in scalar.
    Scalar(ScalarType),
    /// An enum or message declared in one of the topology's messages files.
    Named(String),
    /// `list<T>`: a repeated field.
    List(Box<FieldType>),
    /// `map<string, T>`: a map with string keys.
    Map(Box<FieldType>),
}

/// Why a field type expression could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TypeError {
    /// What is wrong, lowercase, without a trailing period.
    pub message: String,
    /// How to fix it.
    pub help: String,
}

impl FieldType {
    /// Parses a type expression as written in a `type:` key.
    ///
    /// Containers do not nest (protobuf cannot express `list<list<T>>`: wrap the inner
    /// container in a message), and map keys are always `string`.
    ///
    /// # Errors
    ///
    /// A [`TypeError`] for empty names, unbalanced angle brackets, unknown containers, non-string
    /// map keys and nested containers.
    ///
    /// # Examples
    ///
    /// ```
    /// use hermes_build::model::{FieldType, ScalarType};
    /// assert_eq!(
    ///     FieldType::parse("map<string, f64>").unwrap(),
    ///     FieldType::Map(Box::new(FieldType::Scalar(ScalarType::F64)))
    /// );
    /// assert_eq!(
    ///     FieldType::parse("list<Level>").unwrap(),
    ///     FieldType::List(Box::new(FieldType::Named("Level".into())))
    /// );
    /// assert!(FieldType::parse("list<list<f64>>").is_err());
    /// assert!(FieldType::parse("map<i32, f64>").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<FieldType, TypeError> {
        let text = text.trim();
        if let Some(open) = text.find('<') {
            let container = text[..open].trim();
            let Some(inner) = text[open + 1..].strip_suffix('>') else {
                return Err(TypeError {
                    message: format!("unbalanced `<` in type `{text}`"),
                    help: "close the type with `>`, as in `list<f64>`".into(),
                });
            };
            let element = match container {
                "list" => inner.trim(),
                "map" => {
                    let Some((key, value)) = inner.split_once(',') else {
                        return Err(TypeError {
                            message: format!("expected `map<string, T>`, found `{text}`"),
                            help: "a map names its key and value types: `map<string, f64>`".into(),
                        });
                    };
                    if key.trim() != "string" {
                        return Err(TypeError {
                            message: format!("map keys must be `string`, found `{}`", key.trim()),
                            help: "use `map<string, T>`, or a `list` of a message with a key field"
                                .into(),
                        });
                    }
                    value.trim()
                }
                other => {
                    return Err(TypeError {
                        message: format!("unknown container `{other}`"),
                        help: "the containers are `list<T>` and `map<string, T>`".into(),
                    });
                }
            };
            let element = FieldType::parse_element(element)?;
            return Ok(if container == "list" {
                FieldType::List(Box::new(element))
            } else {
                FieldType::Map(Box::new(element))
            });
        }
        FieldType::parse_element(text)
    }

    fn parse_element(text: &str) -> Result<FieldType, TypeError> {
        if text.contains('<') || text.contains('>') || text.contains(',') {
            return Err(TypeError {
                message: format!("containers do not nest: `{text}`"),
                help: "protobuf cannot repeat a container; wrap the inner one in a message".into(),
            });
        }
        if text.is_empty() {
            return Err(TypeError {
                message: "empty type name".into(),
                help: "write a scalar such as `f64`, or the name of an enum or message".into(),
            });
        }
        if text.chars().any(char::is_whitespace) {
            return Err(TypeError {
                message: format!("type names contain no spaces, found `{text}`"),
                help: "write a scalar such as `f64`, or the name of an enum or message".into(),
            });
        }
        Ok(ScalarType::from_name(text)
            .map(FieldType::Scalar)
            .unwrap_or_else(|| FieldType::Named(text.to_string())))
    }

    /// The enum or message this type refers to, directly or as a container element.
    pub fn named(&self) -> Option<&str> {
        match self {
            FieldType::Named(name) => Some(name),
            FieldType::List(inner) | FieldType::Map(inner) => inner.named(),
            FieldType::Scalar(_) => None,
        }
    }

    /// Whether this is a `list` or a `map`.
    pub fn is_container(&self) -> bool {
        matches!(self, FieldType::List(_) | FieldType::Map(_))
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldType::Scalar(scalar) => f.write_str(scalar.name()),
            FieldType::Named(name) => f.write_str(name),
            FieldType::List(inner) => write!(f, "list<{inner}>"),
            FieldType::Map(inner) => write!(f, "map<string, {inner}>"),
        }
    }
}
