use std::fmt;

/// A built-in scalar field type: the protobuf model's, so the YAML and every codec agree.
pub use hermes_core::proto::Scalar as ScalarType;

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
