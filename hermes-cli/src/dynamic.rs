//! Message types known only at run time, from the topology's messages files.
//!
//! Payloads are decoded to, and encoded from, the JSON that generated types write with serde:
//! fields by their YAML name, enums by variant name, absent optional and message fields as
//! `null`, `bytes` as arrays of numbers, `timestamp` as nanoseconds. So `hermes tap` prints the
//! same JSON whatever the codec, and `hermes pub` sends what a generated receiver decodes.
//!
//! Protobuf goes through prost-reflect, with descriptors built here from the model. Their
//! mapping is the one `hermes-build`'s code generation uses (its `.proto` files and prost
//! attributes): `f32`→`float`, `f64`→`double`, `timestamp`→`uint64`, enums→protobuf enums with
//! values prefixed by the enum's name, `list<T>`→`repeated`, `map<string, T>`→`map`,
//! `optional: true`→proto3 `optional`, field numbers from `MessageDef::numbered_fields`.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use hermes_build::Loaded;
use hermes_build::model::{FieldDef, FieldType, MessageDef, ScalarType};
use hermes_runtime::{Codec, Message as _, PythonLayout};
use prost::Message as _;
use prost_reflect::{DescriptorPool, DynamicMessage, MapKey, MessageDescriptor, ReflectMessage};
use serde_json::{Map, Number, Value};

/// A value that does not fit a message type: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    /// The path to the offending value, as `levels[0].price`; empty for the message itself.
    pub path: String,
    /// What is wrong, as "expected f64, found string".
    pub message: String,
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "field `{}`: {}", self.path, self.message)
        }
    }
}

/// One declared message.
#[derive(Debug, Clone)]
struct MessageType {
    full_name: String,
    fingerprint: u64,
    definition: MessageDef,
}

/// Every enum and message of a topology, with protobuf descriptors and fingerprints.
#[derive(Debug)]
pub struct Types {
    messages: BTreeMap<String, MessageType>,
    enums: BTreeMap<String, Vec<String>>,
    by_fingerprint: HashMap<u64, String>,
    /// The descriptors, or why they could not be built (only protobuf payloads need them).
    pool: Result<DescriptorPool, String>,
}

impl Types {
    /// The types of a loaded topology.
    pub fn new(loaded: &Loaded) -> Types {
        let mut messages = BTreeMap::new();
        let mut enums = BTreeMap::new();
        for source in &loaded.messages {
            let package = source.schema.package.as_str();
            for (name, definition) in source.schema.enums.iter() {
                let variants = definition
                    .variants
                    .iter()
                    .map(|v| v.value.clone())
                    .collect();
                enums.insert(name.value.clone(), variants);
            }
            for (name, definition) in source.schema.messages.iter() {
                let fingerprint =
                    hermes_build::fingerprint::message_fingerprint(loaded, name).unwrap_or(0);
                messages.insert(
                    name.value.clone(),
                    MessageType {
                        full_name: format!("{package}.{name}"),
                        fingerprint,
                        definition: definition.clone(),
                    },
                );
            }
        }
        let by_fingerprint = messages
            .iter()
            .map(|(name, message)| (message.fingerprint, name.clone()))
            .collect();
        Types {
            pool: descriptor_pool(loaded).map_err(|error| error.to_string()),
            messages,
            enums,
            by_fingerprint,
        }
    }

    /// The fingerprint generated code gives message `name`.
    pub fn fingerprint(&self, name: &str) -> Option<u64> {
        self.messages.get(name).map(|message| message.fingerprint)
    }

    /// The message whose fingerprint this is.
    pub fn by_fingerprint(&self, fingerprint: u64) -> Option<&str> {
        self.by_fingerprint.get(&fingerprint).map(String::as_str)
    }

    /// Whether message `name` is declared.
    pub fn contains(&self, name: &str) -> bool {
        self.messages.contains_key(name)
    }

    /// Decodes a payload of message `name` to JSON.
    ///
    /// # Errors
    ///
    /// Why the bytes are not a `name` in `codec`.
    pub fn decode(&self, name: &str, codec: Codec, bytes: &[u8]) -> Result<Value, String> {
        match codec {
            Codec::Json => serde_json::from_slice(bytes)
                .map_err(|error| format!("payload is not JSON: {error}")),
            Codec::PythonJson => {
                let value = Value::decode(Codec::PythonJson, bytes)
                    .map_err(|error| format!("payload is not JSON: {error}"))?;
                let by_name = self
                    .fields_by_name(name, &value, "")
                    .map_err(|error| error.to_string())?;
                self.check_message(name, &by_name, "")
                    .map_err(|error| error.to_string())
            }
            Codec::Protobuf => {
                let descriptor = self.descriptor(name)?;
                let message = DynamicMessage::decode(descriptor, bytes)
                    .map_err(|error| format!("payload is not a protobuf `{name}`: {error}"))?;
                Ok(self.message_to_json(name, &message))
            }
        }
    }

    /// Checks `value` against message `name` and encodes it with `codec`.
    ///
    /// Missing fields take their default value, as in generated code; unknown fields are
    /// errors, so a misspelt name does not silently send a default.
    ///
    /// # Errors
    ///
    /// A [`ValueError`] naming the first field that does not fit.
    pub fn encode(
        &self,
        name: &str,
        codec: Codec,
        layout: PythonLayout,
        value: &Value,
    ) -> Result<Vec<u8>, ValueError> {
        let by_name = self.fields_by_name(name, value, "")?;
        let normalized = self.check_message(name, &by_name, "")?;
        match codec {
            Codec::Json => Ok(normalized.to_string().into_bytes()),
            Codec::PythonJson => {
                let mut laid_out = self.in_layout(name, &normalized, layout);
                if layout == PythonLayout::Message
                    && let Value::Array(fields) = &mut laid_out
                {
                    let ts = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0.0, |since| since.as_secs_f64());
                    fields.splice(0..0, [Value::String(dtype(name).to_owned()), float(ts)]);
                }
                let mut bytes = Vec::new();
                laid_out
                    .encode(Codec::PythonJson, &mut bytes)
                    .map_err(|err| error("", err.to_string()))?;
                Ok(bytes)
            }
            Codec::Protobuf => {
                let descriptor = self.descriptor(name).map_err(|message| ValueError {
                    path: String::new(),
                    message,
                })?;
                Ok(self
                    .message_from_json(name, descriptor, &normalized)
                    .encode_to_vec())
            }
        }
    }

    // ---- Python layouts ----

    /// The fields of message `name` by their YAML names, from any `python-json` layout:
    /// `[dtype, ts, fields…]` (the `dtype` checked), the fields in order, or an object; nested
    /// messages too. Values are not checked here: [`check_message`](Types::check_message) does.
    pub fn fields_by_name(
        &self,
        name: &str,
        value: &Value,
        path: &str,
    ) -> Result<Value, ValueError> {
        let Some(definition) = self.definition(name) else {
            return Err(error(path, format!("no message `{name}` is declared")));
        };
        let fields = &definition.fields;
        let entries: Vec<(String, Value)> = match value {
            Value::Object(object) => object
                .iter()
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect(),
            Value::Array(items) => {
                let dtype = dtype(name);
                let values = match items.as_slice() {
                    [Value::String(found), Value::Number(_), rest @ ..]
                        if found == dtype || rest.len() == fields.len() =>
                    {
                        if found != dtype {
                            return Err(error(
                                path,
                                format!(
                                    "expected dtype `{dtype}` in `[dtype, ts, fields…]`, found `{found}`"
                                ),
                            ));
                        }
                        &rest[..rest.len().min(fields.len())]
                    }
                    items if items.len() > fields.len() => {
                        return Err(error(
                            path,
                            format!(
                                "expected `{name}` as `[dtype, ts, fields…]` or a list of at most {} fields, found an array of {} elements",
                                fields.len(),
                                items.len()
                            ),
                        ));
                    }
                    items => items,
                };
                fields
                    .iter()
                    .zip(values)
                    .map(|(field, value)| (field.name.value.clone(), value.clone()))
                    .collect()
            }
            other => {
                return Err(error(
                    path,
                    format!(
                        "expected `{name}` as `[dtype, ts, fields…]`, a list of its fields or an object, found {}",
                        kind(other)
                    ),
                ));
            }
        };
        let mut out = Map::new();
        for (key, value) in entries {
            let field = fields.iter().find(|field| field.name.as_str() == key);
            let nested = match field.and_then(|field| field.field_type().ok()) {
                Some(ty) => self.nested_by_name(&ty, &value, &join(path, &key))?,
                None => value,
            };
            out.insert(key, nested);
        }
        Ok(Value::Object(out))
    }

    fn nested_by_name(
        &self,
        ty: &FieldType,
        value: &Value,
        path: &str,
    ) -> Result<Value, ValueError> {
        match (ty, value) {
            (_, Value::Null) => Ok(Value::Null),
            (FieldType::Named(name), _) if self.messages.contains_key(name) => {
                self.fields_by_name(name, value, path)
            }
            (FieldType::List(inner), Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(index, item)| self.nested_by_name(inner, item, &format!("{path}[{index}]")))
                .collect::<Result<_, _>>()
                .map(Value::Array),
            (FieldType::Map(inner), Value::Object(entries)) => entries
                .iter()
                .map(|(key, item)| {
                    Ok((
                        key.clone(),
                        self.nested_by_name(inner, item, &join(path, key))?,
                    ))
                })
                .collect::<Result<_, _>>()
                .map(Value::Object),
            _ => Ok(value.clone()),
        }
    }

    /// A checked message (fields by name) in `layout`, without the `dtype`/`ts` prefix;
    /// nested messages as lists of their fields, or objects in the `object` layout.
    fn in_layout(&self, name: &str, normalized: &Value, layout: PythonLayout) -> Value {
        let (Some(definition), Value::Object(object)) = (self.definition(name), normalized) else {
            return normalized.clone();
        };
        if layout == PythonLayout::Object {
            return normalized.clone();
        }
        Value::Array(
            definition
                .fields
                .iter()
                .map(|field| {
                    let value = object
                        .get(field.name.as_str())
                        .cloned()
                        .unwrap_or(Value::Null);
                    match field.field_type() {
                        Ok(ty) => self.nested_in_layout(&ty, &value),
                        Err(_) => value,
                    }
                })
                .collect(),
        )
    }

    fn nested_in_layout(&self, ty: &FieldType, value: &Value) -> Value {
        match (ty, value) {
            (FieldType::Named(name), Value::Object(_)) if self.messages.contains_key(name) => {
                self.in_layout(name, value, PythonLayout::List)
            }
            (FieldType::List(inner), Value::Array(items)) => Value::Array(
                items
                    .iter()
                    .map(|item| self.nested_in_layout(inner, item))
                    .collect(),
            ),
            (FieldType::Map(inner), Value::Object(entries)) => Value::Object(
                entries
                    .iter()
                    .map(|(key, item)| (key.clone(), self.nested_in_layout(inner, item)))
                    .collect(),
            ),
            _ => value.clone(),
        }
    }

    fn descriptor(&self, name: &str) -> Result<MessageDescriptor, String> {
        let pool = self
            .pool
            .as_ref()
            .map_err(|error| format!("cannot build protobuf descriptors: {error}"))?;
        let full_name = &self
            .messages
            .get(name)
            .ok_or_else(|| format!("no message `{name}` is declared"))?
            .full_name;
        pool.get_message_by_name(full_name)
            .ok_or_else(|| format!("no descriptor for `{full_name}`"))
    }

    fn definition(&self, name: &str) -> Option<&MessageDef> {
        self.messages.get(name).map(|message| &message.definition)
    }

    // ---- JSON in: checking and normalising ----

    fn check_message(&self, name: &str, value: &Value, path: &str) -> Result<Value, ValueError> {
        let Some(definition) = self.definition(name) else {
            return Err(error(path, format!("no message `{name}` is declared")));
        };
        let Value::Object(object) = value else {
            return Err(error(
                path,
                format!("expected a `{name}` object, found {}", kind(value)),
            ));
        };
        for key in object.keys() {
            if !definition
                .fields
                .iter()
                .any(|field| field.name.as_str() == key)
            {
                let names: Vec<String> = definition
                    .fields
                    .iter()
                    .map(|field| format!("`{}`", field.name))
                    .collect();
                return Err(error(
                    &join(path, key),
                    format!(
                        "`{name}` has no such field; expected one of: {}",
                        names.join(", ")
                    ),
                ));
            }
        }
        let mut out = Map::new();
        for field in &definition.fields {
            let field_path = join(path, &field.name);
            let Ok(ty) = field.field_type() else {
                continue;
            };
            let checked = match object.get(field.name.as_str()) {
                None => self.default_value(field, &ty),
                Some(value) => self.check_field(field, &ty, value, &field_path)?,
            };
            out.insert(field.name.value.clone(), checked);
        }
        Ok(Value::Object(out))
    }

    fn default_value(&self, field: &FieldDef, ty: &FieldType) -> Value {
        match ty {
            FieldType::List(_) => Value::Array(Vec::new()),
            FieldType::Map(_) => Value::Object(Map::new()),
            _ if field.optional => Value::Null,
            FieldType::Named(name) if self.messages.contains_key(name) => Value::Null,
            FieldType::Named(name) => self
                .enums
                .get(name)
                .and_then(|variants| variants.first())
                .map_or(Value::Null, |first| Value::String(first.clone())),
            FieldType::Scalar(scalar) => match scalar {
                ScalarType::Bool => Value::Bool(false),
                ScalarType::String => Value::String(String::new()),
                ScalarType::Bytes => Value::Array(Vec::new()),
                ScalarType::F32 | ScalarType::F64 => float(0.0),
                _ => Value::from(0),
            },
        }
    }

    fn check_field(
        &self,
        field: &FieldDef,
        ty: &FieldType,
        value: &Value,
        path: &str,
    ) -> Result<Value, ValueError> {
        match ty {
            FieldType::List(element) => {
                let Value::Array(items) = value else {
                    return Err(error(
                        path,
                        format!("expected {ty} (an array), found {}", kind(value)),
                    ));
                };
                let items = items
                    .iter()
                    .enumerate()
                    .map(|(index, item)| {
                        self.check_element(element, item, &format!("{path}[{index}]"))
                    })
                    .collect::<Result<_, _>>()?;
                Ok(Value::Array(items))
            }
            FieldType::Map(element) => {
                let Value::Object(entries) = value else {
                    return Err(error(
                        path,
                        format!("expected {ty} (an object), found {}", kind(value)),
                    ));
                };
                let mut out = Map::new();
                for (key, item) in entries {
                    let checked = self.check_element(element, item, &format!("{path}[{key:?}]"))?;
                    out.insert(key.clone(), checked);
                }
                Ok(Value::Object(out))
            }
            FieldType::Named(name) if value.is_null() && self.messages.contains_key(name) => {
                Ok(Value::Null)
            }
            _ if value.is_null() && field.optional => Ok(Value::Null),
            element => self.check_element(element, value, path),
        }
    }

    fn check_element(
        &self,
        ty: &FieldType,
        value: &Value,
        path: &str,
    ) -> Result<Value, ValueError> {
        match ty {
            FieldType::Scalar(scalar) => check_scalar(*scalar, value, path),
            FieldType::Named(name) if self.messages.contains_key(name) => {
                self.check_message(name, value, path)
            }
            FieldType::Named(name) => {
                let variants = self.enums.get(name).map(Vec::as_slice).unwrap_or_default();
                let expected = || {
                    let names: Vec<String> = variants.iter().map(|v| format!("`{v}`")).collect();
                    format!("one of {}", names.join(", "))
                };
                match value {
                    Value::String(text) if variants.contains(text) => Ok(value.clone()),
                    Value::String(text) => Err(error(
                        path,
                        format!("expected {name} ({}), found `{text}`", expected()),
                    )),
                    Value::Number(number) => number
                        .as_u64()
                        .and_then(|index| variants.get(usize::try_from(index).ok()?))
                        .map(|variant| Value::String(variant.clone()))
                        .ok_or_else(|| {
                            error(
                                path,
                                format!("expected {name} ({}), found {number}", expected()),
                            )
                        }),
                    other => Err(error(
                        path,
                        format!("expected {name} ({}), found {}", expected(), kind(other)),
                    )),
                }
            }
            FieldType::List(_) | FieldType::Map(_) => Err(error(path, "nested containers".into())),
        }
    }

    /// The dynamic message of a normalised JSON value (see [`Types::check_message`]).
    fn message_from_json(
        &self,
        name: &str,
        descriptor: MessageDescriptor,
        value: &Value,
    ) -> DynamicMessage {
        let mut message = DynamicMessage::new(descriptor);
        let Some(definition) = self.definition(name) else {
            return message;
        };
        for (number, field) in definition.numbered_fields() {
            let (Ok(ty), Some(value)) = (field.field_type(), value.get(field.name.as_str())) else {
                continue;
            };
            if value.is_null() {
                continue;
            }
            let Some(field_descriptor) = message.descriptor().get_field(number) else {
                continue;
            };
            let converted = match &ty {
                FieldType::List(element) => prost_reflect::Value::List(
                    value
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|item| {
                            self.element_from_json(element, &field_descriptor.kind(), item)
                        })
                        .collect(),
                ),
                FieldType::Map(element) => {
                    let value_kind = field_descriptor
                        .kind()
                        .as_message()
                        .and_then(|entry| entry.get_field(2))
                        .map(|value_field| value_field.kind());
                    let entries = value
                        .as_object()
                        .into_iter()
                        .flatten()
                        .filter_map(|(key, item)| {
                            let item =
                                self.element_from_json(element, value_kind.as_ref()?, item)?;
                            Some((MapKey::String(key.clone()), item))
                        })
                        .collect();
                    prost_reflect::Value::Map(entries)
                }
                element => match self.element_from_json(element, &field_descriptor.kind(), value) {
                    Some(converted) => converted,
                    None => continue,
                },
            };
            message.set_field(&field_descriptor, converted);
        }
        message
    }

    fn element_from_json(
        &self,
        ty: &FieldType,
        kind: &prost_reflect::Kind,
        value: &Value,
    ) -> Option<prost_reflect::Value> {
        use prost_reflect::Value as V;
        Some(match ty {
            FieldType::Scalar(scalar) => match scalar {
                ScalarType::Bool => V::Bool(value.as_bool()?),
                ScalarType::I32 => V::I32(i32::try_from(value.as_i64()?).ok()?),
                ScalarType::I64 => V::I64(value.as_i64()?),
                ScalarType::U32 => V::U32(u32::try_from(value.as_u64()?).ok()?),
                ScalarType::U64 | ScalarType::Timestamp => V::U64(value.as_u64()?),
                ScalarType::F32 => V::F32(value.as_f64()? as f32),
                ScalarType::F64 => V::F64(value.as_f64()?),
                ScalarType::String => V::String(value.as_str()?.to_string()),
                ScalarType::Bytes => V::Bytes(
                    value
                        .as_array()?
                        .iter()
                        .filter_map(|byte| u8::try_from(byte.as_u64()?).ok())
                        .collect::<Vec<u8>>()
                        .into(),
                ),
            },
            FieldType::Named(name) if self.messages.contains_key(name) => {
                let descriptor = kind.as_message()?.clone();
                V::Message(self.message_from_json(name, descriptor, value))
            }
            FieldType::Named(name) => {
                let variant = value.as_str()?;
                let index = self.enums.get(name)?.iter().position(|v| v == variant)?;
                V::EnumNumber(i32::try_from(index).ok()?)
            }
            FieldType::List(_) | FieldType::Map(_) => return None,
        })
    }

    // ---- protobuf out: dynamic message to JSON ----

    fn message_to_json(&self, name: &str, message: &DynamicMessage) -> Value {
        let mut out = Map::new();
        let Some(definition) = self.definition(name) else {
            return Value::Object(out);
        };
        for (number, field) in definition.numbered_fields() {
            let Ok(ty) = field.field_type() else {
                continue;
            };
            let present = message.has_field_by_number(number);
            let value = message.get_field_by_number(number);
            let json = match (&ty, value) {
                (FieldType::List(element), Some(value)) => Value::Array(
                    value
                        .as_list()
                        .unwrap_or_default()
                        .iter()
                        .map(|item| self.element_to_json(element, item))
                        .collect(),
                ),
                (FieldType::Map(element), Some(value)) => {
                    let mut entries: Vec<(String, Value)> = value
                        .as_map()
                        .into_iter()
                        .flatten()
                        .map(|(key, item)| {
                            let key = match key {
                                MapKey::String(key) => key.clone(),
                                other => format!("{other:?}"),
                            };
                            (key, self.element_to_json(element, item))
                        })
                        .collect();
                    entries.sort_by(|a, b| a.0.cmp(&b.0));
                    Value::Object(entries.into_iter().collect())
                }
                (FieldType::List(_), None) => Value::Array(Vec::new()),
                (FieldType::Map(_), None) => Value::Object(Map::new()),
                (element, value) => {
                    let nullable = field.optional
                        || matches!(element, FieldType::Named(n) if self.messages.contains_key(n));
                    match value {
                        Some(value) if present || !nullable => {
                            self.element_to_json(element, &value)
                        }
                        _ => Value::Null,
                    }
                }
            };
            out.insert(field.name.value.clone(), json);
        }
        Value::Object(out)
    }

    fn element_to_json(&self, ty: &FieldType, value: &prost_reflect::Value) -> Value {
        use prost_reflect::Value as V;
        match (ty, value) {
            (_, V::Bool(b)) => Value::Bool(*b),
            (_, V::I32(n)) => Value::from(*n),
            (_, V::I64(n)) => Value::from(*n),
            (_, V::U32(n)) => Value::from(*n),
            (_, V::U64(n)) => Value::from(*n),
            // Through the shortest decimal form, so 1.1f32 prints as 1.1.
            (_, V::F32(x)) => float(x.to_string().parse().unwrap_or(f64::NAN)),
            (_, V::F64(x)) => float(*x),
            (_, V::String(text)) => Value::String(text.clone()),
            (_, V::Bytes(bytes)) => Value::Array(bytes.iter().map(|b| Value::from(*b)).collect()),
            (FieldType::Named(name), V::EnumNumber(number)) => self
                .enums
                .get(name)
                .and_then(|variants| variants.get(usize::try_from(*number).ok()?))
                .map_or(Value::from(*number), |variant| {
                    Value::String(variant.clone())
                }),
            (_, V::EnumNumber(number)) => Value::from(*number),
            (FieldType::Named(name), V::Message(message)) => self.message_to_json(name, message),
            _ => Value::Null,
        }
    }
}

fn float(x: f64) -> Value {
    Number::from_f64(x).map_or_else(|| Value::String(x.to_string()), Value::Number)
}

/// The `dtype` of a YAML message name, as the runtime and Python's `hermes.Message` write it.
fn dtype(name: &str) -> &str {
    name.rsplit(['.', ':']).next().unwrap_or(name)
}

fn error(path: &str, message: String) -> ValueError {
    ValueError {
        path: path.to_string(),
        message,
    }
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

/// How a JSON value is described in errors.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a fractional number",
        Value::Number(n) if n.is_i64() && n.as_i64().is_some_and(|n| n < 0) => "a negative integer",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn check_scalar(scalar: ScalarType, value: &Value, path: &str) -> Result<Value, ValueError> {
    let name = scalar.name();
    let mismatch = || error(path, format!("expected {name}, found {}", kind(value)));
    let out_of_range =
        |number: &Number| error(path, format!("{number} is out of range for {name}"));
    match (scalar, value) {
        (ScalarType::Bool, Value::Bool(_)) | (ScalarType::String, Value::String(_)) => {
            Ok(value.clone())
        }
        (
            ScalarType::I32 | ScalarType::I64 | ScalarType::U32 | ScalarType::U64,
            Value::Number(n),
        )
        | (ScalarType::Timestamp, Value::Number(n)) => {
            if n.is_f64() {
                return Err(mismatch());
            }
            let fits = match scalar {
                ScalarType::I32 => n.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
                ScalarType::I64 => n.as_i64().is_some(),
                ScalarType::U32 => n.as_u64().is_some_and(|n| u32::try_from(n).is_ok()),
                _ => n.as_u64().is_some(),
            };
            if fits {
                Ok(value.clone())
            } else {
                Err(out_of_range(n))
            }
        }
        // As floats, as generated types write them: `3` is `3.0`.
        (ScalarType::F32, Value::Number(n)) => match n.as_f64() {
            Some(x) if x.abs() <= f64::from(f32::MAX) => Ok(float(x)),
            _ => Err(out_of_range(n)),
        },
        (ScalarType::F64, Value::Number(n)) => Ok(n.as_f64().map_or(Value::Null, float)),
        (ScalarType::Bytes, Value::Array(items)) => {
            for (index, item) in items.iter().enumerate() {
                if item.as_u64().is_none_or(|byte| byte > 255) {
                    return Err(error(
                        &format!("{path}[{index}]"),
                        format!("expected a byte (0 to 255), found {item}"),
                    ));
                }
            }
            Ok(value.clone())
        }
        (ScalarType::Bytes, _) => Err(error(
            path,
            format!(
                "expected bytes (an array of numbers 0 to 255), found {}",
                kind(value)
            ),
        )),
        _ => Err(mismatch()),
    }
}

// ---- schemas for recordings ----

impl Types {
    /// The declared messages: YAML name, full (package-qualified) name and fingerprint.
    pub fn messages(&self) -> impl Iterator<Item = (&str, &str, u64)> {
        self.messages.iter().map(|(name, message)| {
            (
                name.as_str(),
                message.full_name.as_str(),
                message.fingerprint,
            )
        })
    }

    /// Message `name`'s protobuf schema as MCAP stores it: its full name and a binary
    /// `FileDescriptorSet` of its file and every file that file imports, imports first.
    ///
    /// # Errors
    ///
    /// Why there is no descriptor for `name`.
    pub fn file_descriptor_set(&self, name: &str) -> Result<(String, Vec<u8>), String> {
        fn add(file: prost_reflect::FileDescriptor, set: &mut prost_types::FileDescriptorSet) {
            if set.file.iter().any(|known| known.name() == file.name()) {
                return;
            }
            for dependency in file.dependencies() {
                add(dependency, set);
            }
            set.file.push(file.file_descriptor_proto().clone());
        }
        let descriptor = self.descriptor(name)?;
        let mut set = prost_types::FileDescriptorSet::default();
        add(descriptor.parent_file(), &mut set);
        Ok((descriptor.full_name().to_owned(), set.encode_to_vec()))
    }

    /// A JSON Schema (draft 2020-12) of message `name`'s payload as this module's JSON writes
    /// it: for the `json` codec with `layout` `None`, an object of its fields; for
    /// `python-json`, in `layout` (`message`: `[dtype, ts, fields...]`, `list`: the fields in
    /// order, nested messages as lists too; `object`: as `json`). `None` for an undeclared
    /// message.
    pub fn json_schema(&self, name: &str, layout: Option<PythonLayout>) -> Option<Value> {
        let full_name = &self.messages.get(name)?.full_name;
        let as_list = !matches!(layout, None | Some(PythonLayout::Object));
        let mut defs = Map::new();
        let mut root = self.message_schema(name, as_list, &mut defs);
        if let (Some(PythonLayout::Message), Value::Object(object)) = (layout, &mut root)
            && let Some(Value::Array(items)) = object.get_mut("prefixItems")
        {
            items.insert(0, serde_json::json!({"type": "number", "description": "send time, seconds since the Unix epoch"}));
            items.insert(0, serde_json::json!({"const": dtype(name)}));
            let count = items.len();
            object.insert("minItems".into(), Value::from(count));
        }
        if let Value::Object(object) = &mut root {
            object.insert(
                "$schema".into(),
                Value::from("https://json-schema.org/draft/2020-12/schema"),
            );
            object.insert("title".into(), Value::from(full_name.as_str()));
            if !defs.is_empty() {
                object.insert("$defs".into(), Value::Object(defs));
            }
        }
        Some(root)
    }

    /// The schema of message `name`, its nested messages and enums added to `defs`.
    fn message_schema(&self, name: &str, as_list: bool, defs: &mut Map<String, Value>) -> Value {
        let Some(definition) = self.definition(name) else {
            return serde_json::json!({});
        };
        let fields: Vec<(&FieldDef, Value)> = definition
            .fields
            .iter()
            .map(|field| {
                let schema = match field.field_type() {
                    Ok(ty) => self.type_schema(&ty, as_list, defs),
                    Err(_) => serde_json::json!({}),
                };
                let schema = if field.optional {
                    serde_json::json!({"anyOf": [schema, {"type": "null"}]})
                } else {
                    schema
                };
                (field, schema)
            })
            .collect();
        if as_list {
            let count = fields.len();
            let items: Vec<Value> = fields.into_iter().map(|(_, schema)| schema).collect();
            serde_json::json!({"type": "array", "prefixItems": items, "minItems": count})
        } else {
            let required: Vec<&str> = fields
                .iter()
                .filter(|(field, _)| !field.optional)
                .map(|(field, _)| field.name.as_str())
                .collect();
            let properties: Map<String, Value> = fields
                .into_iter()
                .map(|(field, schema)| (field.name.value.clone(), schema))
                .collect();
            serde_json::json!({"type": "object", "properties": properties, "required": required})
        }
    }

    fn type_schema(&self, ty: &FieldType, as_list: bool, defs: &mut Map<String, Value>) -> Value {
        match ty {
            FieldType::Scalar(scalar) => match scalar {
                ScalarType::Bool => serde_json::json!({"type": "boolean"}),
                ScalarType::I32 | ScalarType::I64 => serde_json::json!({"type": "integer"}),
                ScalarType::U32 | ScalarType::U64 => {
                    serde_json::json!({"type": "integer", "minimum": 0})
                }
                ScalarType::F32 | ScalarType::F64 => serde_json::json!({"type": "number"}),
                ScalarType::String => serde_json::json!({"type": "string"}),
                ScalarType::Bytes => serde_json::json!({
                    "type": "array",
                    "items": {"type": "integer", "minimum": 0, "maximum": 255}
                }),
                ScalarType::Timestamp => serde_json::json!({
                    "type": "integer",
                    "minimum": 0,
                    "description": "nanoseconds since the Unix epoch"
                }),
            },
            FieldType::Named(name) => {
                if !defs.contains_key(name) {
                    // A placeholder first, so a recursive message refers to itself.
                    defs.insert(name.clone(), Value::Bool(true));
                    let schema = match self.enums.get(name) {
                        Some(variants) => serde_json::json!({"enum": variants}),
                        None => self.message_schema(name, as_list, defs),
                    };
                    defs.insert(name.clone(), schema);
                }
                serde_json::json!({"$ref": format!("#/$defs/{name}")})
            }
            FieldType::List(inner) => {
                serde_json::json!({"type": "array", "items": self.type_schema(inner, as_list, defs)})
            }
            FieldType::Map(inner) => serde_json::json!({
                "type": "object",
                "additionalProperties": self.type_schema(inner, as_list, defs)
            }),
        }
    }
}

// ---- descriptors ----

/// Runtime descriptors of every message package, from the same protobuf model as the `.proto`
/// files and the generated types.
fn descriptor_pool(loaded: &Loaded) -> Result<DescriptorPool, prost_reflect::DescriptorError> {
    let mut pool = DescriptorPool::new();
    pool.add_file_descriptor_protos(
        hermes_build::proto::files(loaded)
            .iter()
            .map(hermes_core::proto::File::to_descriptor),
    )?;
    Ok(pool)
}

#[cfg(test)]
mod tests;
