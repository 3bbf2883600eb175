//! Writing: a serde `Serializer` that writes JSON text as Python's `json.dumps` does with its
//! defaults, and lays out structs as the [`PythonLayout`] says.

use std::fmt::{self, Display};

use hermes_core::PythonLayout;
use serde::ser::{self, Serialize};

/// Why a value cannot be written.
#[derive(Debug)]
pub(super) struct WriteError(pub String);

impl Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WriteError {}

impl ser::Error for WriteError {
    fn custom<T: Display>(msg: T) -> Self {
        WriteError(msg.to_string())
    }
}

type Result<T = ()> = std::result::Result<T, WriteError>;

/// Writes `text` as a JSON string the way `json.dumps` does with `ensure_ascii=True`: `"` and
/// `\` escaped, `\n \r \t \b \f` by name, every other character outside ` `..=`~` as `\uXXXX`
/// (lowercase hex; UTF-16 surrogate pairs above U+FFFF).
pub(crate) fn write_string(text: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let mut plain = 0;
    for (at, ch) in text.char_indices() {
        if matches!(ch, ' '..='~') && ch != '"' && ch != '\\' {
            continue;
        }
        out.extend_from_slice(&text.as_bytes()[plain..at]);
        plain = at + ch.len_utf8();
        match ch {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\u{8}' => out.extend_from_slice(b"\\b"),
            '\u{c}' => out.extend_from_slice(b"\\f"),
            _ => {
                let mut units = [0u16; 2];
                for unit in ch.encode_utf16(&mut units) {
                    out.extend_from_slice(format!("\\u{unit:04x}").as_bytes());
                }
            }
        }
    }
    out.extend_from_slice(&text.as_bytes()[plain..]);
    out.push(b'"');
}

/// Writes `value` as Python's `repr(float)`, which `json.dumps` uses: the shortest digits that
/// read back as the same number; positional notation with at least one decimal (`1.0`,
/// `0.0001`, `1e+16` is the first exponent above) when the decimal exponent is from -4 to 15,
/// else `d.ddde±XX`; `NaN`, `Infinity` and `-Infinity` for the values JSON has no number for
/// (`json.dumps`'s default `allow_nan=True`).
pub(crate) fn write_float(value: f64, out: &mut Vec<u8>) {
    if value.is_nan() {
        out.extend_from_slice(b"NaN");
    } else if value.is_infinite() {
        out.extend_from_slice(if value > 0.0 {
            b"Infinity"
        } else {
            b"-Infinity"
        });
    } else {
        // `{:e}` writes the shortest round-trip digits, as Python's repr does.
        write_shortest(&format!("{:e}", value), out);
    }
}

/// Writes an `f32` with the shortest digits that read back as the same `f32`, in Python's
/// notation. Python has no `f32`; `float()` of these digits is the value a Python node meant.
pub(crate) fn write_f32(value: f32, out: &mut Vec<u8>) {
    if value.is_finite() {
        write_shortest(&format!("{:e}", value), out);
    } else {
        write_float(f64::from(value), out);
    }
}

/// Rewrites Rust's `{:e}` text (`-1.5e-7`, `1e16`, `0e0`) in Python's `repr` notation.
fn write_shortest(scientific: &str, out: &mut Vec<u8>) {
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if negative {
        out.push(b'-');
    }
    // Python's `decpt`: the value is 0.DIGITS × 10^decpt.
    let decpt = exponent + 1;
    let digits = digits.as_bytes();
    if digits == b"0" {
        out.extend_from_slice(b"0.0");
    } else if !(-4 < decpt && decpt <= 16) {
        out.push(digits[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        let sign = if exponent < 0 { '-' } else { '+' };
        out.extend_from_slice(format!("e{sign}{:02}", exponent.unsigned_abs()).as_bytes());
    } else if decpt <= 0 {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', decpt.unsigned_abs() as usize));
        out.extend_from_slice(digits);
    } else {
        let whole = decpt as usize;
        if whole >= digits.len() {
            out.extend_from_slice(digits);
            out.extend(std::iter::repeat_n(b'0', whole - digits.len()));
            out.extend_from_slice(b".0");
        } else {
            out.extend_from_slice(&digits[..whole]);
            out.push(b'.');
            out.extend_from_slice(&digits[whole..]);
        }
    }
}

/// The serializer: Python's separators (`", "` between items, `": "` after keys), its string
/// escapes and float notation; structs as the layout says, and under
/// [`PythonLayout::Message`] the outermost struct prefixed with `dtype` and `ts`.
pub(super) struct Writer<'a> {
    pub out: &'a mut Vec<u8>,
    pub layout: PythonLayout,
    /// `dtype` and `ts` for the outermost struct, until the first value is begun.
    pub prefix: Option<(&'a str, f64)>,
}

impl<'a> Writer<'a> {
    /// Called as each value starts: the `dtype`/`ts` prefix if this is the outermost value.
    fn begin(&mut self) -> Option<(&'a str, f64)> {
        self.prefix.take()
    }

    fn write_display(&mut self, value: impl Display) -> Result {
        self.begin();
        self.out.extend_from_slice(value.to_string().as_bytes());
        Ok(())
    }

    /// Opens an array or object, with the prefix when there is one.
    fn open(&mut self, object: bool, prefix: Option<(&str, f64)>) -> Compound<'_, Self> {
        self.out.push(if object { b'{' } else { b'[' });
        let mut first = true;
        if let Some((dtype, ts)) = prefix {
            write_string(dtype, self.out);
            self.out.extend_from_slice(b", ");
            write_float(ts, self.out);
            first = false;
        }
        Compound {
            writer: self,
            first,
            object,
            variant: false,
        }
    }

    /// Opens `{"Variant": ` around a variant's content.
    fn open_variant(&mut self, variant: &str) {
        self.out.push(b'{');
        write_string(variant, self.out);
        self.out.extend_from_slice(b": ");
    }
}

/// An array or object being written.
pub(super) struct Compound<'w, W> {
    writer: &'w mut W,
    first: bool,
    object: bool,
    /// Whether a `{"Variant": ` wraps it, to be closed too.
    variant: bool,
}

impl<'a> Compound<'_, Writer<'a>> {
    fn separator(&mut self) {
        if !self.first {
            self.writer.out.extend_from_slice(b", ");
        }
        self.first = false;
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.separator();
        value.serialize(&mut *self.writer)
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result {
        self.separator();
        if self.object {
            write_string(key, self.writer.out);
            self.writer.out.extend_from_slice(b": ");
        }
        value.serialize(&mut *self.writer)
    }

    fn close(self) -> Result {
        self.writer.out.push(if self.object { b'}' } else { b']' });
        if self.variant {
            self.writer.out.push(b'}');
        }
        Ok(())
    }
}

impl<'w, 'a> ser::Serializer for &'w mut Writer<'a> {
    type Ok = ();
    type Error = WriteError;
    type SerializeSeq = Compound<'w, Writer<'a>>;
    type SerializeTuple = Compound<'w, Writer<'a>>;
    type SerializeTupleStruct = Compound<'w, Writer<'a>>;
    type SerializeTupleVariant = Compound<'w, Writer<'a>>;
    type SerializeMap = Compound<'w, Writer<'a>>;
    type SerializeStruct = Compound<'w, Writer<'a>>;
    type SerializeStructVariant = Compound<'w, Writer<'a>>;

    fn serialize_bool(self, value: bool) -> Result {
        self.write_display(value)
    }
    fn serialize_i8(self, value: i8) -> Result {
        self.write_display(value)
    }
    fn serialize_i16(self, value: i16) -> Result {
        self.write_display(value)
    }
    fn serialize_i32(self, value: i32) -> Result {
        self.write_display(value)
    }
    fn serialize_i64(self, value: i64) -> Result {
        self.write_display(value)
    }
    fn serialize_i128(self, value: i128) -> Result {
        self.write_display(value)
    }
    fn serialize_u8(self, value: u8) -> Result {
        self.write_display(value)
    }
    fn serialize_u16(self, value: u16) -> Result {
        self.write_display(value)
    }
    fn serialize_u32(self, value: u32) -> Result {
        self.write_display(value)
    }
    fn serialize_u64(self, value: u64) -> Result {
        self.write_display(value)
    }
    fn serialize_u128(self, value: u128) -> Result {
        self.write_display(value)
    }
    fn serialize_f32(self, value: f32) -> Result {
        self.begin();
        write_f32(value, self.out);
        Ok(())
    }
    fn serialize_f64(self, value: f64) -> Result {
        self.begin();
        write_float(value, self.out);
        Ok(())
    }
    fn serialize_char(self, value: char) -> Result {
        self.serialize_str(value.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, value: &str) -> Result {
        self.begin();
        write_string(value, self.out);
        Ok(())
    }
    /// Python's JSON has no bytes: a list of integers 0–255, as `list(b)` gives.
    fn serialize_bytes(self, value: &[u8]) -> Result {
        use ser::SerializeSeq;
        let mut seq = self.serialize_seq(Some(value.len()))?;
        for byte in value {
            seq.serialize_element(byte)?;
        }
        seq.end()
    }
    fn serialize_none(self) -> Result {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result {
        self.begin();
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result {
        self.begin();
        self.open_variant(variant);
        value.serialize(&mut *self)?;
        self.out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq> {
        self.begin();
        Ok(self.open(false, None))
    }
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct> {
        let prefix = self.begin();
        Ok(self.open(false, prefix))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        self.begin();
        self.open_variant(variant);
        let mut compound = self.open(false, None);
        compound.variant = true;
        Ok(compound)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap> {
        self.begin();
        Ok(self.open(true, None))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct> {
        let prefix = self.begin();
        let object = self.layout == PythonLayout::Object;
        Ok(self.open(object, if object { None } else { prefix }))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant> {
        self.begin();
        self.open_variant(variant);
        let object = self.layout == PythonLayout::Object;
        let mut compound = self.open(object, None);
        compound.variant = true;
        Ok(compound)
    }
}

impl ser::SerializeSeq for Compound<'_, Writer<'_>> {
    type Ok = ();
    type Error = WriteError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.element(value)
    }
    fn end(self) -> Result {
        self.close()
    }
}

impl ser::SerializeTuple for Compound<'_, Writer<'_>> {
    type Ok = ();
    type Error = WriteError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.element(value)
    }
    fn end(self) -> Result {
        self.close()
    }
}

impl ser::SerializeTupleStruct for Compound<'_, Writer<'_>> {
    type Ok = ();
    type Error = WriteError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.element(value)
    }
    fn end(self) -> Result {
        self.close()
    }
}

impl ser::SerializeTupleVariant for Compound<'_, Writer<'_>> {
    type Ok = ();
    type Error = WriteError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.element(value)
    }
    fn end(self) -> Result {
        self.close()
    }
}

impl ser::SerializeMap for Compound<'_, Writer<'_>> {
    type Ok = ();
    type Error = WriteError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result {
        self.separator();
        key.serialize(KeyWriter(&mut *self.writer.out))?;
        self.writer.out.extend_from_slice(b": ");
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        value.serialize(&mut *self.writer)
    }
    fn end(self) -> Result {
        self.close()
    }
}

impl ser::SerializeStruct for Compound<'_, Writer<'_>> {
    type Ok = ();
    type Error = WriteError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result {
        self.field(key, value)
    }
    /// A skipped field keeps its place in the list layouts, as `null`; objects leave it out.
    fn skip_field(&mut self, key: &'static str) -> Result {
        if self.object {
            Ok(())
        } else {
            self.field(key, &())
        }
    }
    fn end(self) -> Result {
        self.close()
    }
}

impl ser::SerializeStructVariant for Compound<'_, Writer<'_>> {
    type Ok = ();
    type Error = WriteError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result {
        self.field(key, value)
    }
    fn skip_field(&mut self, key: &'static str) -> Result {
        ser::SerializeStruct::skip_field(self, key)
    }
    fn end(self) -> Result {
        self.close()
    }
}

/// Map keys: strings as they are; integers and booleans as strings, as `json.dumps` converts
/// them (`{1: 2}` is `{"1": 2}`, `True` is `"true"`).
struct KeyWriter<'a>(&'a mut Vec<u8>);

impl KeyWriter<'_> {
    fn quoted(self, value: impl Display) -> Result {
        write_string(&value.to_string(), self.0);
        Ok(())
    }
}

fn key_error() -> WriteError {
    WriteError("map keys must be strings, integers or booleans".to_owned())
}

impl ser::Serializer for KeyWriter<'_> {
    type Ok = ();
    type Error = WriteError;
    type SerializeSeq = ser::Impossible<(), WriteError>;
    type SerializeTuple = ser::Impossible<(), WriteError>;
    type SerializeTupleStruct = ser::Impossible<(), WriteError>;
    type SerializeTupleVariant = ser::Impossible<(), WriteError>;
    type SerializeMap = ser::Impossible<(), WriteError>;
    type SerializeStruct = ser::Impossible<(), WriteError>;
    type SerializeStructVariant = ser::Impossible<(), WriteError>;

    fn serialize_bool(self, value: bool) -> Result {
        self.quoted(value)
    }
    fn serialize_i8(self, value: i8) -> Result {
        self.quoted(value)
    }
    fn serialize_i16(self, value: i16) -> Result {
        self.quoted(value)
    }
    fn serialize_i32(self, value: i32) -> Result {
        self.quoted(value)
    }
    fn serialize_i64(self, value: i64) -> Result {
        self.quoted(value)
    }
    fn serialize_u8(self, value: u8) -> Result {
        self.quoted(value)
    }
    fn serialize_u16(self, value: u16) -> Result {
        self.quoted(value)
    }
    fn serialize_u32(self, value: u32) -> Result {
        self.quoted(value)
    }
    fn serialize_u64(self, value: u64) -> Result {
        self.quoted(value)
    }
    fn serialize_f32(self, _: f32) -> Result {
        Err(key_error())
    }
    fn serialize_f64(self, _: f64) -> Result {
        Err(key_error())
    }
    fn serialize_char(self, value: char) -> Result {
        self.quoted(value)
    }
    fn serialize_str(self, value: &str) -> Result {
        write_string(value, self.0);
        Ok(())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result {
        Err(key_error())
    }
    fn serialize_none(self) -> Result {
        Err(key_error())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result {
        Err(key_error())
    }
    fn serialize_unit(self) -> Result {
        Err(key_error())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result {
        Err(key_error())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result {
        Err(key_error())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq> {
        Err(key_error())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple> {
        Err(key_error())
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct> {
        Err(key_error())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(key_error())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap> {
        Err(key_error())
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct> {
        Err(key_error())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(key_error())
    }
}
