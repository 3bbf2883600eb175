//! Reading: a JSON parser that also takes what `json.dumps` writes beyond JSON (`NaN`,
//! `Infinity`, `-Infinity`) and keeps objects in order, and a serde `Deserializer` over its
//! values that reads a struct from any of the three layouts.

use std::fmt::{self, Display};

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

/// Why a payload does not decode: what was wrong, and where.
#[derive(Debug)]
pub(super) struct ReadError(pub String);

impl Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ReadError {}

impl de::Error for ReadError {
    fn custom<T: Display>(msg: T) -> Self {
        ReadError(msg.to_string())
    }
}

type Result<T> = std::result::Result<T, ReadError>;

/// A parsed JSON value; objects keep their order, as Python's dicts do.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Value {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

impl Value {
    /// What the value is, for error messages.
    fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) | Value::UInt(_) | Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }

    fn is_number(&self) -> bool {
        matches!(self, Value::Int(_) | Value::UInt(_) | Value::Float(_))
    }
}

/// Nesting deeper than this is refused, so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 128;

/// Parses one JSON text (with surrounding whitespace) into a [`Value`].
pub(super) fn parse(bytes: &[u8]) -> Result<Value> {
    let mut parser = Parser { bytes, pos: 0 };
    let value = parser.value(0)?;
    parser.whitespace();
    if parser.pos < bytes.len() {
        return Err(parser.error("expected the end of the payload"));
    }
    Ok(value)
}

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, what: &str) -> ReadError {
        ReadError(format!("not JSON: {what} at byte {}", self.pos))
    }

    fn whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn literal(&mut self, text: &[u8], value: Value) -> Result<Value> {
        if self.bytes[self.pos..].starts_with(text) {
            self.pos += text.len();
            Ok(value)
        } else {
            Err(self.error("expected a value"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value> {
        self.whitespace();
        let Some(&byte) = self.bytes.get(self.pos) else {
            return Err(self.error("expected a value, found the end"));
        };
        match byte {
            b'n' => self.literal(b"null", Value::Null),
            b't' => self.literal(b"true", Value::Bool(true)),
            b'f' => self.literal(b"false", Value::Bool(false)),
            b'N' => self.literal(b"NaN", Value::Float(f64::NAN)),
            b'I' => self.literal(b"Infinity", Value::Float(f64::INFINITY)),
            b'-' if self.bytes[self.pos..].starts_with(b"-Infinity") => {
                self.literal(b"-Infinity", Value::Float(f64::NEG_INFINITY))
            }
            b'-' | b'0'..=b'9' => self.number(),
            b'"' => self.string().map(Value::Str),
            b'[' | b'{' if depth >= MAX_DEPTH => {
                Err(self.error(&format!("nesting deeper than {MAX_DEPTH}")))
            }
            b'[' => self.array(depth + 1),
            b'{' => self.object(depth + 1),
            _ => Err(self.error("expected a value")),
        }
    }

    fn number(&mut self) -> Result<Value> {
        let start = self.pos;
        let digits = |parser: &mut Self| {
            let from = parser.pos;
            while parser.bytes.get(parser.pos).is_some_and(u8::is_ascii_digit) {
                parser.pos += 1;
            }
            parser.pos > from
        };
        if self.bytes[self.pos] == b'-' {
            self.pos += 1;
        }
        let leading_zero = self.bytes.get(self.pos) == Some(&b'0');
        if !digits(self)
            || (leading_zero && self.pos - start > 1 + usize::from(self.bytes[start] == b'-'))
        {
            return Err(self.error("invalid number"));
        }
        let mut float = false;
        if self.bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            float = true;
            if !digits(self) {
                return Err(self.error("invalid number"));
            }
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.pos) {
            self.pos += 1;
            float = true;
            if let Some(b'+' | b'-') = self.bytes.get(self.pos) {
                self.pos += 1;
            }
            if !digits(self) {
                return Err(self.error("invalid number"));
            }
        }
        // ASCII digits, signs, `.` and `e` only, so always UTF-8.
        let text = std::str::from_utf8(&self.bytes[start..self.pos])
            .map_err(|_| self.error("invalid number"))?;
        if !float {
            if let Ok(value) = text.parse::<i64>() {
                return Ok(Value::Int(value));
            }
            if let Ok(value) = text.parse::<u64>() {
                return Ok(Value::UInt(value));
            }
        }
        // Python's integers are unbounded; past 64 bits they read as the nearest float.
        text.parse::<f64>()
            .map(Value::Float)
            .map_err(|_| self.error("invalid number"))
    }

    fn hex4(&mut self) -> Result<u16> {
        let hex = self
            .bytes
            .get(self.pos..self.pos + 4)
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u16::from_str_radix(hex, 16).ok())
            .ok_or_else(|| self.error("invalid \\u escape"))?;
        self.pos += 4;
        Ok(hex)
    }

    fn string(&mut self) -> Result<String> {
        self.pos += 1; // the opening quote
        let mut out = String::new();
        loop {
            let start = self.pos;
            while let Some(&byte) = self.bytes.get(self.pos) {
                if byte == b'"' || byte == b'\\' || byte < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            out.push_str(
                std::str::from_utf8(&self.bytes[start..self.pos])
                    .map_err(|_| self.error("invalid UTF-8 in a string"))?,
            );
            match self.bytes.get(self.pos) {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let escape = self.bytes.get(self.pos).copied();
                    self.pos += 1;
                    match escape {
                        Some(b'"') => out.push('"'),
                        Some(b'\\') => out.push('\\'),
                        Some(b'/') => out.push('/'),
                        Some(b'b') => out.push('\u{8}'),
                        Some(b'f') => out.push('\u{c}'),
                        Some(b'n') => out.push('\n'),
                        Some(b'r') => out.push('\r'),
                        Some(b't') => out.push('\t'),
                        Some(b'u') => {
                            let unit = self.hex4()?;
                            let ch = if (0xd800..0xdc00).contains(&unit)
                                && self.bytes[self.pos..].starts_with(b"\\u")
                            {
                                self.pos += 2;
                                let low = self.hex4()?;
                                char::decode_utf16([unit, low]).next().and_then(|r| r.ok())
                            } else {
                                char::from_u32(u32::from(unit))
                            };
                            // A lone surrogate (Python writes them) has no `char`.
                            out.push(ch.unwrap_or(char::REPLACEMENT_CHARACTER));
                        }
                        _ => {
                            self.pos -= 1;
                            return Err(self.error("invalid escape"));
                        }
                    }
                }
                Some(_) => return Err(self.error("control character in a string")),
                None => return Err(self.error("unterminated string")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value> {
        self.pos += 1;
        let mut items = Vec::new();
        self.whitespace();
        if self.bytes.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value(depth)?);
            self.whitespace();
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.error("expected `,` or `]`")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value> {
        self.pos += 1;
        let mut entries = Vec::new();
        self.whitespace();
        if self.bytes.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Ok(Value::Object(entries));
        }
        loop {
            self.whitespace();
            if self.bytes.get(self.pos) != Some(&b'"') {
                return Err(self.error("expected a string key"));
            }
            let key = self.string()?;
            self.whitespace();
            if self.bytes.get(self.pos) != Some(&b':') {
                return Err(self.error("expected `:`"));
            }
            self.pos += 1;
            entries.push((key, self.value(depth)?));
            self.whitespace();
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Object(entries));
                }
                _ => return Err(self.error("expected `,` or `}`")),
            }
        }
    }
}

/// Deserializes from a [`Value`]. Structs (and tuple structs) read from any layout:
///
/// - `[dtype, ts, fields…]`: an array whose first element is a string and second a number,
///   when it has exactly two elements more than the struct has fields or its first element
///   is the struct's `dtype`. The `dtype` must be the struct's; fields past the struct's own
///   (from a newer sender) are ignored, missing trailing ones take their defaults;
/// - any other array: the fields in order, at most as many as the struct has;
/// - an object: the fields by name.
pub(super) struct ValueDeserializer<'v> {
    pub value: &'v Value,
    /// The `dtype`s the outermost struct answers to (its short and full name); nested
    /// structs answer to their Rust name.
    pub dtypes: Option<[&'v str; 2]>,
}

impl<'v> ValueDeserializer<'v> {
    fn nested(value: &'v Value) -> Self {
        ValueDeserializer {
            value,
            dtypes: None,
        }
    }

    fn invalid(&self, expected: &dyn Display) -> ReadError {
        ReadError(format!(
            "invalid type: {}, expected {expected}",
            self.value.kind()
        ))
    }

    /// The struct's fields as the array holds them, after the `dtype`/`ts` prefix if any.
    fn struct_elements(&self, items: &'v [Value], name: &str, count: usize) -> Result<&'v [Value]> {
        let dtypes = self.dtypes.unwrap_or([name, name]);
        if let [Value::Str(dtype), ts, fields @ ..] = items
            && ts.is_number()
            && (fields.len() == count || dtypes.contains(&dtype.as_str()))
        {
            if !dtypes.contains(&dtype.as_str()) {
                return Err(ReadError(format!(
                    "expected dtype `{}` in `[dtype, ts, fields…]`, found `{dtype}`",
                    dtypes[0]
                )));
            }
            return Ok(&fields[..fields.len().min(count)]);
        }
        if items.len() > count {
            return Err(ReadError(format!(
                "expected `{name}` as `[dtype, ts, fields…]` or a list of at most {count} fields, \
                 found an array of {} elements",
                items.len()
            )));
        }
        Ok(items)
    }

    fn read_struct<V: Visitor<'v>>(
        self,
        name: &'static str,
        fields: Option<&'static [&'static str]>,
        count: usize,
        visitor: V,
    ) -> Result<V::Value> {
        match self.value {
            Value::Array(items) => {
                let elements = self.struct_elements(items, name, count)?;
                visitor.visit_seq(SeqReader {
                    items: elements.iter(),
                    index: 0,
                    names: fields,
                })
            }
            Value::Object(entries) if fields.is_some() => visitor.visit_map(MapReader {
                entries: entries.iter(),
                value: None,
            }),
            other => Err(ReadError(format!(
                "expected `{name}` as `[dtype, ts, fields…]`, a list of its {count} fields or an \
                 object, found {}",
                other.kind()
            ))),
        }
    }
}

impl<'v> de::Deserializer<'v> for ValueDeserializer<'v> {
    type Error = ReadError;

    fn deserialize_any<V: Visitor<'v>>(self, visitor: V) -> Result<V::Value> {
        match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(value) => visitor.visit_bool(*value),
            Value::Int(value) => visitor.visit_i64(*value),
            Value::UInt(value) => visitor.visit_u64(*value),
            Value::Float(value) => visitor.visit_f64(*value),
            Value::Str(value) => visitor.visit_borrowed_str(value),
            Value::Array(items) => visitor.visit_seq(SeqReader {
                items: items.iter(),
                index: 0,
                names: None,
            }),
            Value::Object(entries) => visitor.visit_map(MapReader {
                entries: entries.iter(),
                value: None,
            }),
        }
    }

    fn deserialize_option<V: Visitor<'v>>(self, visitor: V) -> Result<V::Value> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'v>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_struct<V: Visitor<'v>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        self.read_struct(name, Some(fields), fields.len(), visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'v>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value> {
        self.read_struct(name, None, len, visitor)
    }

    fn deserialize_enum<V: Visitor<'v>>(
        self,
        name: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.value {
            Value::Str(variant) => visitor.visit_enum(variant.as_str().into_deserializer()),
            Value::Object(entries) if entries.len() == 1 => {
                let (variant, value) = &entries[0];
                visitor.visit_enum(EnumReader { variant, value })
            }
            _ => Err(self.invalid(&format_args!(
                "`{name}` as a variant name or `{{\"Variant\": …}}`"
            ))),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'v>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        <W: Visitor<'v>>
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple map identifier
    }
}

/// The elements of an array; for a struct, errors name the field.
struct SeqReader<'v> {
    items: std::slice::Iter<'v, Value>,
    index: usize,
    names: Option<&'static [&'static str]>,
}

impl<'v> de::SeqAccess<'v> for SeqReader<'v> {
    type Error = ReadError;

    fn next_element_seed<T: DeserializeSeed<'v>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        let Some(item) = self.items.next() else {
            return Ok(None);
        };
        let index = self.index;
        self.index += 1;
        seed.deserialize(ValueDeserializer::nested(item))
            .map(Some)
            .map_err(|err| {
                let place = match self.names.and_then(|names| names.get(index)) {
                    Some(name) => format!("field `{name}` (element {index})"),
                    None => format!("element {index}"),
                };
                ReadError(format!("{place}: {err}"))
            })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// The entries of an object; errors name the key.
struct MapReader<'v> {
    entries: std::slice::Iter<'v, (String, Value)>,
    value: Option<(&'v str, &'v Value)>,
}

impl<'v> de::MapAccess<'v> for MapReader<'v> {
    type Error = ReadError;

    fn next_key_seed<K: DeserializeSeed<'v>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some((key, value));
        seed.deserialize(de::value::BorrowedStrDeserializer::new(key))
            .map(Some)
    }

    fn next_value_seed<T: DeserializeSeed<'v>>(&mut self, seed: T) -> Result<T::Value> {
        let (key, value) = self
            .value
            .take()
            .ok_or_else(|| ReadError("a map value without its key".to_owned()))?;
        seed.deserialize(ValueDeserializer::nested(value))
            .map_err(|err| ReadError(format!("field `{key}`: {err}")))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// `{"Variant": value}`.
struct EnumReader<'v> {
    variant: &'v str,
    value: &'v Value,
}

impl<'v> de::EnumAccess<'v> for EnumReader<'v> {
    type Error = ReadError;
    type Variant = ValueDeserializer<'v>;

    fn variant_seed<V: DeserializeSeed<'v>>(self, seed: V) -> Result<(V::Value, Self::Variant)> {
        let variant = seed.deserialize(de::value::BorrowedStrDeserializer::new(self.variant))?;
        Ok((variant, ValueDeserializer::nested(self.value)))
    }
}

impl<'v> de::VariantAccess<'v> for ValueDeserializer<'v> {
    type Error = ReadError;

    fn unit_variant(self) -> Result<()> {
        match self.value {
            Value::Null => Ok(()),
            _ => Err(self.invalid(&"null for a unit variant")),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'v>>(self, seed: T) -> Result<T::Value> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'v>>(self, _: usize, visitor: V) -> Result<V::Value> {
        de::Deserializer::deserialize_seq(self, visitor)
    }

    fn struct_variant<V: Visitor<'v>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        self.read_struct("variant", Some(fields), fields.len(), visitor)
    }
}
