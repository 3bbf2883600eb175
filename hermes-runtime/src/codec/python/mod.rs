//! The `python-json` payload codec: JSON text as hermes-zmq 1.3 writes and reads it.
//!
//! Writing is byte-for-byte what Python's `json.dumps` writes with its defaults for the same
//! values: `", "` between items and `": "` after keys, ASCII only (`\uXXXX` escapes), floats as
//! `repr` writes them (`1.0`, `1e-07`, `1e+16`, `NaN`, `Infinity`). A struct is laid out as the
//! port's [`PythonLayout`] says; reading accepts every layout. `docs/wire-format.md` defines
//! the mapping of every field type.

mod read;
mod write;

use hermes_core::PythonLayout;

use crate::error::CodecError;

pub(crate) use write::{write_float, write_string};

/// The `dtype` a Python `hermes.Message` carries for the message named `name`: its class name,
/// the last segment of `trading.Quote` (or `trading::Quote`).
///
/// ```
/// # use hermes_runtime::__private::python_json;
/// assert_eq!(python_json::dtype("trading.Quote"), "Quote");
/// assert_eq!(python_json::dtype("app::messages::Quote"), "Quote");
/// ```
pub fn dtype(name: &str) -> &str {
    name.rsplit(['.', ':']).next().unwrap_or(name)
}

/// Appends `message` as Python's `json.dumps` writes it, in `layout`; under
/// [`PythonLayout::Message`] the outermost struct starts with `dtype` (see [`dtype`] of `name`)
/// and `ts`, `timestamp_ns` in float seconds.
///
/// # Errors
///
/// [`CodecError::Encode`] when serde refuses the value (a map whose keys are not strings,
/// integers or booleans, say).
pub fn encode<M: serde::Serialize + ?Sized>(
    message: &M,
    layout: PythonLayout,
    name: &str,
    timestamp_ns: u64,
    buf: &mut Vec<u8>,
) -> Result<(), CodecError> {
    let start = buf.len();
    let mut writer = write::Writer {
        out: buf,
        layout,
        prefix: (layout == PythonLayout::Message).then(|| (dtype(name), seconds(timestamp_ns))),
    };
    message.serialize(&mut writer).map_err(|err| {
        buf.truncate(start);
        CodecError::Encode(err.0)
    })
}

/// Decodes a `python-json` payload as the message named `name`, from any layout.
///
/// # Errors
///
/// [`CodecError::Decode`] saying what was wrong: not JSON, the wrong shape (with the layouts
/// expected), a `dtype` that is not `name`'s, or a field of the wrong type (named). Never
/// panics.
pub fn decode<M: serde::de::DeserializeOwned>(bytes: &[u8], name: &str) -> Result<M, CodecError> {
    let value = read::parse(bytes).map_err(|err| CodecError::Decode(err.0))?;
    let deserializer = read::ValueDeserializer {
        value: &value,
        dtypes: Some([dtype(name), name]),
    };
    M::deserialize(deserializer).map_err(|err| CodecError::Decode(err.0))
}

/// Nanoseconds since the Unix epoch as float seconds, what Python's `time.time()` gives: the
/// float nearest the exact decimal, so that a timestamp in whole microseconds reads back exact.
pub(crate) fn seconds(timestamp_ns: u64) -> f64 {
    let exact = format!(
        "{}.{:09}",
        timestamp_ns / 1_000_000_000,
        timestamp_ns % 1_000_000_000
    );
    exact.parse().unwrap_or(0.0)
}

#[cfg(test)]
mod tests;
