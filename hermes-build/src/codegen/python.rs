//! Python code generation: a module for hermes-zmq 1.3 nodes, from the same YAML as the Rust.
//!
//! One `hermes.Message` subclass per message (`__slots__` in field order, type hints, the
//! YAML's docs), one `enum.Enum` per enum (members valued by their YAML names, which is how
//! enums travel), and a class of topic constants per node. Python is text, not Rust tokens,
//! so it is written as text; every name goes through [`py_ident`].
//!
//! What the classes write is what the `python-json` codec reads and writes for the same
//! message: `serialize()` (what `hermes.Envelope` sends) writes `[dtype, ts, fields…]` with
//! nested messages as lists of their fields, enums by name and `bytes` as lists of integers;
//! `from_data()` reads every layout back.

use std::fmt::Write as _;
use std::path::PathBuf;

use heck::ToShoutySnakeCase;

use crate::Loaded;
use crate::model::{FieldDef, FieldType, ScalarType};

/// Python's keywords, and the two attribute names `hermes.Message` itself uses.
const RESERVED: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield", "dtype", "ts",
];

/// `name` as a Python identifier: other characters become `_`, a leading digit gets a `_`,
/// and keywords (and `dtype`, `ts`) get a trailing `_`.
fn py_ident(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    if RESERVED.contains(&out.as_str()) {
        out.push('_');
    }
    out
}

/// A Python string literal of `text` (double-quoted, escaped).
fn py_str(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A docstring body, indented; `"""` inside the text is broken up.
fn docstring(out: &mut String, indent: &str, text: &str) {
    let text = text
        .trim_end()
        .replace('\\', "\\\\")
        .replace("\"\"\"", "\\\"\\\"\\\"");
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default();
    let rest: Vec<&str> = lines.collect();
    if rest.is_empty() {
        let _ = writeln!(out, "{indent}\"\"\"{first}\"\"\"");
    } else {
        let _ = writeln!(out, "{indent}\"\"\"{first}");
        for line in rest {
            if line.trim().is_empty() {
                out.push('\n');
            } else {
                let _ = writeln!(out, "{indent}{line}");
            }
        }
        let _ = writeln!(out, "{indent}\"\"\"");
    }
}

/// The type hint of a field type (without `Optional`).
fn hint(ty: &FieldType) -> String {
    match ty {
        FieldType::Scalar(scalar) => match scalar {
            ScalarType::Bool => "bool".into(),
            ScalarType::F32 | ScalarType::F64 => "float".into(),
            ScalarType::String => "str".into(),
            ScalarType::Bytes => "bytes".into(),
            _ => "int".into(),
        },
        FieldType::Named(name) => py_ident(name),
        FieldType::List(inner) => format!("List[{}]", hint(inner)),
        FieldType::Map(inner) => format!("Dict[str, {}]", hint(inner)),
    }
}

/// The field's default, as Python; `None` for containers, made fresh in `__init__`.
fn default(loaded: &Loaded, ty: &FieldType) -> String {
    match ty {
        FieldType::Scalar(scalar) => match scalar {
            ScalarType::Bool => "False".into(),
            ScalarType::F32 | ScalarType::F64 => "0.0".into(),
            ScalarType::String => "\"\"".into(),
            ScalarType::Bytes => "b\"\"".into(),
            _ => "0".into(),
        },
        FieldType::Named(name) => match loaded.enum_def(name) {
            Some((_, definition)) => match definition.variants.first() {
                Some(first) => format!("{}.{}", py_ident(name), py_ident(first)),
                None => "None".into(),
            },
            None => "None".into(),
        },
        FieldType::List(_) | FieldType::Map(_) => "None".into(),
    }
}

/// The file name of the Python module of a topology: its module name, `.py`.
fn file_name(loaded: &Loaded) -> PathBuf {
    PathBuf::from(format!("{}.py", super::module_name(&loaded.topology.name)))
}

/// The generic part every generated module holds: encoding and decoding of field values.
const PRELUDE: &str = r#"from __future__ import annotations

import enum
import json
from typing import Any, Dict, List, Optional

import hermes


def _encode(value: Any, by_name: bool = False) -> Any:
    """A field value as JSON data: enums by name, nested messages as the list of their fields
    (or, with `by_name`, an object), `bytes` as a list of integers."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, HermesMessage):
        return value.to_dict() if by_name else value.to_list()
    if isinstance(value, (bytes, bytearray)):
        return list(value)
    if isinstance(value, (list, tuple)):
        return [_encode(item, by_name) for item in value]
    if isinstance(value, dict):
        return {key: _encode(item, by_name) for key, item in value.items()}
    return value


def _decode(spec: str, value: Any) -> Any:
    """A field value read from JSON data, by the field's YAML type `spec`."""
    if value is None:
        return None
    if spec.startswith("list<"):
        return [_decode(spec[5:-1], item) for item in value]
    if spec.startswith("map<"):
        inner = spec[4:-1].split(",", 1)[1].strip()
        return {key: _decode(inner, item) for key, item in value.items()}
    if spec == "bytes":
        return bytes(value)
    if spec in ("f32", "f64"):
        return float(value)
    kind = _TYPES.get(spec)
    if kind is not None and issubclass(kind, enum.Enum):
        return kind(value)
    if kind is not None:
        return kind.from_data(value)
    return value


class HermesMessage(hermes.Message):
    """What every generated message shares.

    `serialize()`, which `hermes.Envelope` calls, writes `[dtype, ts, fields…]` as
    `hermes.Message` does, with nested messages as the lists of their fields, enums by name and
    `bytes` as lists of integers; `to_list()` and `to_dict()` give the other two layouts Hermes
    reads, and `from_data()` reads all three.
    """

    __slots__ = []
    _DTYPE = ""
    _FIELDS: tuple = ()
    _NAMES: tuple = ()
    _SPECS: tuple = ()

    def _class_to_string(self) -> str:
        return self._DTYPE

    def serialize(self, encoding: Optional[str] = None) -> bytes:
        data = [self.dtype, self.ts] + self.to_list()
        return json.dumps(data).encode(encoding or "utf-8")

    def to_list(self) -> list:
        """The fields in order: the `list` layout."""
        return [_encode(getattr(self, name)) for name in self._FIELDS]

    def to_dict(self) -> dict:
        """The fields by name: the `object` layout."""
        return {
            field: _encode(getattr(self, name), by_name=True)
            for name, field in zip(self._FIELDS, self._NAMES)
        }

    @classmethod
    def from_data(cls, data: Any) -> "HermesMessage":
        """The message from `data` in any layout: `[dtype, ts, fields…]`, the fields in order,
        or an object of the fields by name. Missing fields take their defaults."""
        ts = None
        count = len(cls._FIELDS)
        if isinstance(data, dict):
            values = [data.get(field) for field in cls._NAMES]
        elif isinstance(data, (list, tuple)):
            values = list(data)
            if (
                len(values) >= 2
                and isinstance(values[0], str)
                and isinstance(values[1], (int, float))
                and not isinstance(values[1], bool)
                and (values[0] == cls._DTYPE or len(values) == count + 2)
            ):
                if values[0] != cls._DTYPE:
                    raise ValueError(
                        "expected dtype %r in [dtype, ts, fields...], found %r"
                        % (cls._DTYPE, values[0])
                    )
                ts, values = values[1], values[2 : 2 + count]
            elif len(values) > count:
                raise ValueError(
                    "expected %s as [dtype, ts, fields...] or at most %d fields, found %d"
                    % (cls._DTYPE, count, len(values))
                )
        else:
            raise TypeError(
                "expected %s as a list or a dict, found %s" % (cls._DTYPE, type(data).__name__)
            )
        fields = {
            name: _decode(spec, value)
            for name, spec, value in zip(cls._FIELDS, cls._SPECS, values)
            if value is not None
        }
        return cls(ts=ts, **fields)
"#;

/// The Python module of a loaded topology: `(file name, contents)`.
///
/// Pure, like [`generate`](super::generate): the same model gives the same bytes.
///
/// # Examples
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// # std::fs::write(dir.path().join("messages.yaml"), "package: demo\nenums:\n  Side: [buy, sell]\nmessages:\n  Tick:\n    doc: A tick.\n    fields:\n      - { name: n, type: u64 }\n      - { name: side, type: Side }\n").unwrap();
/// # std::fs::write(dir.path().join("topology.yaml"), "name: demo\nmessages: [messages.yaml]\nnodes:\n  clock:\n    publishes:\n      - { topic: ticks, message: Tick, bind: tcp://127.0.0.1:7000 }\n").unwrap();
/// # let path = dir.path().join("topology.yaml");
/// let loaded = hermes_build::load(&path)?;
/// let (name, python) = hermes_build::generate_python(&loaded);
/// assert_eq!(name.display().to_string(), "demo.py");
/// assert!(python.contains("class Tick(HermesMessage):"));
/// assert!(python.contains("    __slots__ = [\"n\", \"side\"]"));
/// assert!(python.contains("class Side(enum.Enum):"));
/// assert!(python.contains("        PUBLISH_TICKS = \"ticks\""));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn generate_python(loaded: &Loaded) -> (PathBuf, String) {
    let source_name = loaded
        .sources()
        .path(loaded.topology_file)
        .file_name()
        .map_or_else(String::new, |name| name.to_string_lossy().into_owned());
    let topology = loaded.topology.name.as_str();
    let mut out = format!(
        "# @generated by `hermes gen --python` from `{source_name}` (topology `{topology}`). Do not edit.\n"
    );
    docstring(
        &mut out,
        "",
        &format!(
            "Messages, enums and topics of topology `{topology}`, for hermes-zmq 1.3 nodes.\n\n\
             Publish a message with `publisher.publish(hermes.Envelope(topic, origin, message))`;\n\
             read one with `Message.from_data(envelope.data)`. A `hermes.Receiver` wants the\n\
             subscription with the topic frame's leading quote: use the `SUBSCRIBE_*` constants."
        ),
    );
    out.push('\n');
    out.push_str(PRELUDE);

    let mut enums: Vec<(&str, _)> = Vec::new();
    let mut messages: Vec<(&str, _)> = Vec::new();
    for source in &loaded.messages {
        for (name, definition) in source.schema.enums.iter() {
            enums.push((name.value.as_str(), definition));
        }
        for (name, definition) in source.schema.messages.iter() {
            messages.push((name.value.as_str(), definition));
        }
    }
    enums.sort_by_key(|(name, _)| *name);
    messages.sort_by_key(|(name, _)| *name);

    for (name, definition) in &enums {
        let _ = write!(out, "\n\nclass {}(enum.Enum):\n", py_ident(name));
        docstring(
            &mut out,
            "    ",
            &format!("The `{name}` enum; it travels as its member's name."),
        );
        out.push('\n');
        for variant in &definition.variants {
            let _ = writeln!(out, "    {} = {}", py_ident(variant), py_str(variant));
        }
    }

    for (name, message) in &messages {
        write_message(&mut out, loaded, name, message);
    }

    out.push_str("\n\n_TYPES = {\n");
    let names = enums.iter().map(|(name, _)| *name);
    for name in names.chain(messages.iter().map(|(name, _)| *name)) {
        let _ = writeln!(out, "    {}: {},", py_str(name), py_ident(name));
    }
    out.push_str("}\n");

    write_nodes(&mut out, loaded);
    (file_name(loaded), out)
}

fn write_message(
    out: &mut String,
    loaded: &Loaded,
    name: &str,
    message: &crate::model::MessageDef,
) {
    let class = py_ident(name);
    let fields: Vec<(&FieldDef, FieldType)> = message
        .fields
        .iter()
        .filter_map(|field| Some((field, field.field_type().ok()?)))
        .collect();
    let attributes: Vec<String> = fields
        .iter()
        .map(|(field, _)| py_ident(&field.name))
        .collect();
    let _ = write!(out, "\n\nclass {class}(HermesMessage):\n");
    let doc = message
        .doc
        .clone()
        .unwrap_or_else(|| format!("The `{name}` message."));
    let mut doc = doc.trim_end().to_owned();
    doc.push_str("\n\nFields, in the order they travel:\n");
    for ((field, ty), attribute) in fields.iter().zip(&attributes) {
        let _ = write!(doc, "\n- `{attribute}` (`{}`", field.ty.value);
        if field.optional {
            doc.push_str(", optional");
        }
        doc.push(')');
        if let Some(text) = &field.doc {
            let _ = write!(doc, ": {}", text.trim().replace('\n', " "));
        }
        if matches!(ty, FieldType::Scalar(ScalarType::Bytes)) {
            doc.push_str(" (travels as a list of integers 0-255)");
        }
    }
    docstring(out, "    ", &doc);
    out.push('\n');
    let quoted: Vec<String> = attributes.iter().map(|a| py_str(a)).collect();
    let _ = writeln!(out, "    __slots__ = [{}]", quoted.join(", "));
    let _ = writeln!(out, "    _DTYPE = {}", py_str(name));
    let _ = writeln!(out, "    _FIELDS = ({})", tuple(&quoted));
    let names: Vec<String> = fields
        .iter()
        .map(|(field, _)| py_str(&field.name))
        .collect();
    let _ = writeln!(out, "    _NAMES = ({})", tuple(&names));
    let specs: Vec<String> = fields
        .iter()
        .map(|(field, _)| py_str(&field.ty.value))
        .collect();
    let _ = writeln!(out, "    _SPECS = ({})", tuple(&specs));
    out.push('\n');
    let mut parameters = vec!["self".to_owned()];
    for ((field, ty), attribute) in fields.iter().zip(&attributes) {
        let is_container = matches!(ty, FieldType::List(_) | FieldType::Map(_));
        let is_message = matches!(ty, FieldType::Named(target) if loaded.message(target).is_some());
        let mut type_hint = hint(ty);
        let default = if field.optional {
            "None".to_owned()
        } else {
            default(loaded, ty)
        };
        if field.optional || is_message {
            type_hint = format!("Optional[{type_hint}]");
        }
        let _ = writeln!(out, "    {attribute}: {type_hint}");
        // Containers default to `None` in the signature and to a fresh empty one in the body.
        let parameter_hint = if is_container && !field.optional {
            format!("Optional[{type_hint}]")
        } else {
            type_hint
        };
        parameters.push(format!("{attribute}: {parameter_hint} = {default}"));
    }
    parameters.push("ts: Optional[float] = None".to_owned());
    out.push('\n');
    let _ = writeln!(
        out,
        "    def __init__(\n        {},\n    ) -> None:",
        parameters.join(",\n        ")
    );
    out.push_str("        super().__init__(ts)\n");
    for ((field, ty), attribute) in fields.iter().zip(&attributes) {
        let fresh = match ty {
            FieldType::List(_) if !field.optional => Some("[]"),
            FieldType::Map(_) if !field.optional => Some("{}"),
            _ => None,
        };
        match fresh {
            Some(empty) => {
                let _ = writeln!(
                    out,
                    "        self.{attribute} = {empty} if {attribute} is None else {attribute}"
                );
            }
            None => {
                let _ = writeln!(out, "        self.{attribute} = {attribute}");
            }
        }
    }
}

fn tuple(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => format!("{one},"),
        _ => items.join(", "),
    }
}

fn write_nodes(out: &mut String, loaded: &Loaded) {
    out.push_str("\n\nclass nodes:\n");
    docstring(
        out,
        "    ",
        "Topic constants per node. `PUBLISH_*` are the topics a node publishes on; `SUBSCRIBE_*`\n\
         are the prefixes a `hermes.Receiver` subscribes to, the topic frame's leading `\"`\n\
         included (the empty string subscribes to everything).",
    );
    let mut names: Vec<_> = loaded.topology.nodes.iter().collect();
    names.sort_by_key(|(name, _)| name.value.clone());
    if names.is_empty() {
        out.push_str("\n    pass\n");
    }
    for (name, node) in names {
        let _ = write!(out, "\n    class {}:\n", py_ident(&name.value));
        let doc = match &node.doc {
            Some(doc) => format!("Node `{}`: {}", name.value, doc.trim()),
            None => format!("Node `{}`.", name.value),
        };
        docstring(out, "        ", &doc);
        out.push('\n');
        let _ = writeln!(out, "        NAME = {}", py_str(&name.value));
        let mut seen = std::collections::BTreeSet::new();
        for port in &node.publishes {
            let constant = format!("PUBLISH_{}", constant_words(&port.topic.value));
            if seen.insert(constant.clone()) {
                let _ = writeln!(
                    out,
                    "        {constant} = {}  # {}",
                    py_str(&port.topic.value),
                    port.message.value
                );
            }
        }
        for port in &node.subscribes {
            let constant = format!("SUBSCRIBE_{}", constant_words(&port.topic.value));
            if seen.insert(constant.clone()) {
                let prefix = if port.topic.value.is_empty() {
                    String::new()
                } else {
                    format!("\"{}", port.topic.value)
                };
                let _ = writeln!(
                    out,
                    "        {constant} = {}  # {}",
                    py_str(&prefix),
                    port.message.value
                );
            }
        }
    }
}

/// A topic as the words of a constant: `quotes/bitstamp` is `QUOTES_BITSTAMP`, the empty
/// topic `ALL`.
fn constant_words(topic: &str) -> String {
    let words = topic.replace('/', "_").to_shouty_snake_case();
    let words = py_ident(&words);
    if words.trim_matches('_').is_empty() {
        "ALL".to_owned()
    } else {
        words
    }
}
