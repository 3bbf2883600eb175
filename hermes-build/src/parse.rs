//! Reading and parsing the YAML files. This is the only module that names the YAML crate
//! (`serde-saphyr`); everything else sees [`crate::model`] types and [`Diagnostic`]s.

use std::io::Read as _;
use std::path::Path;

use serde::{Deserialize, Deserializer};
use serde_saphyr::{DuplicateKeyPolicy, Error as YamlError, Location};

use crate::diagnostic::{Code, Diagnostic, FileId};
use crate::model::{MessagesFile, Span, Spanned, Topology};
use crate::suggest::did_you_mean;

/// The largest file the loader reads; anything bigger is rejected before parsing.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The deepest nesting of mappings and sequences accepted.
const MAX_DEPTH: usize = 32;
/// The most aliases (and anchors) accepted in one file.
const MAX_ALIASES: usize = 1_000;

/// Structural limits against hostile input. A topology of 10,000 nodes with 50,000 ports stays
/// well inside them.
fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
            flow_nesting_limit: MAX_DEPTH * 2,
            max_events: 8_000_000,
            max_nodes: 4_000_000,
            max_aliases: MAX_ALIASES,
            max_anchors: MAX_ALIASES,
            max_documents: 1,
            max_total_scalar_bytes: MAX_FILE_BYTES as usize,
            max_recorded_anchor_events: 100_000,
            max_recorded_anchor_bytes: MAX_FILE_BYTES as usize,
            max_merge_keys: 1_000,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: 100_000,
            max_replay_stack_depth: 16,
            max_alias_expansions_per_anchor: 1_000,
        },
        duplicate_keys: DuplicateKeyPolicy::Error,
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = serde_saphyr::Spanned::<T>::deserialize(deserializer)?;
        Ok(Spanned::new(spanned.value, span_of(spanned.referenced)))
    }
}

fn span_of(location: Location) -> Span {
    let line = u32::try_from(location.line()).unwrap_or(u32::MAX);
    if line == 0 {
        return Span::UNKNOWN;
    }
    let span = location.span();
    let to_usize = |value: u64| usize::try_from(value).unwrap_or(usize::MAX);
    Span {
        line,
        column: u32::try_from(location.column()).unwrap_or(u32::MAX),
        offset: span.byte_offset().map_or(0, to_usize),
        len: span.byte_len().map_or(0, to_usize),
    }
}

/// Fills in the byte offset of an error span from its line and column, which the parser
/// reports even where it does not know byte offsets.
fn locate(text: &str, mut span: Span) -> Span {
    if !span.is_known() {
        return span;
    }
    let line_start = if span.line == 1 {
        Some(0)
    } else {
        text.match_indices('\n')
            .nth(span.line as usize - 2)
            .map(|(index, _)| index + 1)
    };
    let Some(line_start) = line_start else {
        return span;
    };
    let line = &text[line_start..];
    let column = span.column.saturating_sub(1) as usize;
    let offset = line
        .char_indices()
        .take_while(|(_, c)| *c != '\n')
        .nth(column)
        .map_or_else(
            || line_start + line.find('\n').unwrap_or(line.len()),
            |(index, _)| line_start + index,
        );
    if span.offset != offset {
        span.offset = offset;
        span.len = span.len.min(text.len() - offset);
        if !text.is_char_boundary(offset + span.len) {
            span.len = 0;
        }
    }
    span
}

/// The parser reports a missing key where it noticed, at the mapping's last key; when that
/// key is in a one-line flow mapping `{ ... }`, point at the whole mapping instead.
fn enclosing_flow_mapping(text: &str, span: Span) -> Span {
    let Some(before) = text.get(..span.offset) else {
        return span;
    };
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    let mut depth = 0usize;
    let mut open = None;
    for (index, c) in before[line_start..].char_indices().rev() {
        match c {
            '}' => depth += 1,
            '{' if depth == 0 => {
                open = Some(line_start + index);
                break;
            }
            '{' => depth -= 1,
            _ => {}
        }
    }
    let Some(open) = open else {
        return span;
    };
    let rest = &text[open..];
    let line_end = rest.find('\n').unwrap_or(rest.len());
    let mut depth = 0usize;
    let mut len = line_end;
    for (index, c) in rest[..line_end].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    len = index + 1;
                    break;
                }
            }
            _ => {}
        }
    }
    let column = (span.column as usize)
        .saturating_sub(before[open..].chars().count())
        .max(1);
    Span {
        line: span.line,
        column: u32::try_from(column).unwrap_or(1),
        offset: open,
        len,
    }
}

/// Why a file could not be read.
pub(crate) enum ReadError {
    /// The operating system refused.
    Io(std::io::Error),
    /// The file is larger than [`MAX_FILE_BYTES`].
    TooLarge,
}

/// Reads a file, refusing to read past [`MAX_FILE_BYTES`].
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, ReadError> {
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ReadError::TooLarge);
    }
    Ok(bytes)
}

/// The diagnostic for a file over [`MAX_FILE_BYTES`].
pub(crate) fn too_large(file: FileId) -> Diagnostic {
    Diagnostic::new(
        Code::ResourceLimit,
        format!("file is larger than {} MiB", MAX_FILE_BYTES / (1024 * 1024)),
    )
    .with_label(file, Span::UNKNOWN, "")
    .with_help("split the topology, or check that this is the file you meant")
}

/// Decodes file contents as UTF-8 text; on failure, the text decoded so far and the error at
/// the first bad byte.
pub(crate) fn decode(file: FileId, bytes: Vec<u8>) -> Result<String, (String, Diagnostic)> {
    match String::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(error) => {
            let valid = error.utf8_error().valid_up_to();
            let bytes = error.into_bytes();
            let prefix = String::from_utf8_lossy(&bytes[..valid]).into_owned();
            let line = prefix.matches('\n').count() + 1;
            let column = prefix
                .rsplit('\n')
                .next()
                .map_or(0, |tail| tail.chars().count())
                + 1;
            let span = Span {
                line: u32::try_from(line).unwrap_or(u32::MAX),
                column: u32::try_from(column).unwrap_or(u32::MAX),
                offset: valid,
                len: 0,
            };
            let diagnostic = Diagnostic::new(Code::Syntax, "file is not valid UTF-8 text")
                .with_label(file, span, "invalid byte here")
                .with_help("topology and messages files are UTF-8 YAML");
            Err((prefix, diagnostic))
        }
    }
}

/// Parses a topology file.
pub(crate) fn parse_topology(file: FileId, text: &str) -> Result<Topology, Diagnostic> {
    parse(file, text, "a topology needs at least `name:` and `nodes:`")
}

/// Parses a messages file.
pub(crate) fn parse_messages(file: FileId, text: &str) -> Result<MessagesFile, Diagnostic> {
    parse(
        file,
        text,
        "a messages file needs at least `package:` and `messages:`",
    )
}

fn parse<T: for<'de> Deserialize<'de>>(
    file: FileId,
    text: &str,
    empty_help: &str,
) -> Result<T, Diagnostic> {
    if is_blank(text) {
        return Err(Diagnostic::new(Code::Syntax, "file is empty")
            .with_label(file, Span::UNKNOWN, "")
            .with_help(empty_help));
    }
    serde_saphyr::from_str_with_options(text, options())
        .map_err(|error| convert(file, text, &error))
}

/// Whether a file holds nothing but whitespace and comments.
fn is_blank(text: &str) -> bool {
    text.lines().all(|line| {
        let line = line.trim();
        line.is_empty() || line.starts_with('#') || line == "---" || line == "..."
    })
}

/// The message of a YAML error without its " at line L, column C" suffix (the location is
/// rendered separately).
fn plain_message(error: &YamlError) -> String {
    let message = error.without_snippet().to_string();
    let message = match message.rfind(" at line ") {
        Some(index) => message[..index].to_string(),
        None => message,
    };
    message.lines().next().unwrap_or_default().to_string()
}

fn quote_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|item| format!("`{item}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn convert(file: FileId, text: &str, error: &YamlError) -> Diagnostic {
    let span = error
        .location()
        .map_or(Span::UNKNOWN, |location| locate(text, span_of(location)));
    let inner = innermost(error);
    match inner {
        YamlError::SerdeUnknownField {
            field, expected, ..
        } => {
            let suggestion = did_you_mean(field, expected.iter().copied());
            let mut help = match &suggestion {
                Some(name) => format!("did you mean `{name}`? "),
                None => String::new(),
            };
            help.push_str(&format!("valid keys are {}", quote_list(expected)));
            Diagnostic::new(Code::UnknownKey, format!("unknown key `{field}`"))
                .with_label(file, span, "unknown key")
                .with_help(help)
        }
        YamlError::SerdeUnknownVariant {
            variant, expected, ..
        } => {
            let suggestion = did_you_mean(variant, expected.iter().copied());
            let mut help = match &suggestion {
                Some(name) => format!("did you mean `{name}`? "),
                None => String::new(),
            };
            help.push_str(&format!("expected one of {}", quote_list(expected)));
            Diagnostic::new(Code::InvalidValue, format!("unknown value `{variant}`"))
                .with_label(file, span, "not an allowed value")
                .with_help(help)
        }
        YamlError::SerdeMissingField { field, .. } => {
            Diagnostic::new(Code::MissingKey, format!("missing key `{field}`"))
                .with_label(file, enclosing_flow_mapping(text, span), format!("this mapping needs `{field}:`"))
        }
        YamlError::DuplicateMappingKey { key, .. } => {
            let message = match key {
                Some(key) => format!("duplicate key `{key}`"),
                None => "duplicate key".to_string(),
            };
            Diagnostic::new(Code::DuplicateKey, message)
                .with_label(file, span, "repeated here")
                .with_help("each key may appear once per mapping; merge or rename the entries")
        }
        YamlError::SerdeInvalidType {
            unexpected,
            expected,
            ..
        } => Diagnostic::new(
            Code::InvalidValue,
            format!("expected {expected}, found {unexpected}"),
        )
        .with_label(file, span, ""),
        YamlError::SerdeInvalidValue {
            unexpected,
            expected,
            ..
        } => Diagnostic::new(
            Code::InvalidValue,
            format!("expected {expected}, found {unexpected}"),
        )
        .with_label(file, span, ""),
        YamlError::InvalidScalar { ty, .. } => Diagnostic::new(
            Code::InvalidValue,
            match source_text(text, span) {
                Some(found) => format!("expected {}, found `{found}`", describe_scalar(ty)),
                None => format!("expected {}", describe_scalar(ty)),
            },
        )
        .with_label(file, span, ""),
        YamlError::Budget { breach, .. } => {
            Diagnostic::new(Code::ResourceLimit, describe_breach(breach))
                .with_label(file, span, "limit exceeded here")
                .with_help(
                    "topologies are small, shallow documents: avoid deep nesting and repeated alias expansion",
                )
        }
        YamlError::AliasReplayCounterOverflow { .. }
        | YamlError::AliasReplayLimitExceeded { .. }
        | YamlError::AliasExpansionLimitExceeded { .. }
        | YamlError::AliasReplayStackDepthExceeded { .. } => {
            Diagnostic::new(Code::ResourceLimit, plain_message(inner))
                .with_label(file, span, "limit exceeded here")
                .with_help(
                    "topologies are small, shallow documents: avoid deep nesting and repeated alias expansion",
                )
        }
        YamlError::Message { msg, .. } if msg.starts_with("duplicate field") => {
            Diagnostic::new(Code::DuplicateKey, msg.replace("duplicate field", "duplicate key"))
                .with_label(file, span, "in this mapping")
                .with_help("each key may appear once per mapping")
        }
        YamlError::Message { .. } | YamlError::NullIntoString { .. } => {
            Diagnostic::new(Code::InvalidValue, plain_message(inner)).with_label(file, span, "")
        }
        _ => {
            let message = plain_message(inner);
            if message.contains("recursion limit") || message.contains("nesting limit") {
                return Diagnostic::new(Code::ResourceLimit, "nesting is too deep")
                .with_label(file, span, "limit exceeded here")
                .with_help("topologies are small, shallow documents");
            }
            Diagnostic::new(Code::Syntax, message)
                .with_label(file, span, "")
                .with_help("check the indentation, and that every `[`, `{` and quote is closed")
        }
    }
}

fn describe_breach(breach: &serde_saphyr::budget::BudgetBreach) -> String {
    use serde_saphyr::budget::BudgetBreach;
    match breach {
        BudgetBreach::Aliases { .. } => format!("more than {MAX_ALIASES} aliases"),
        BudgetBreach::Anchors { .. } => format!("more than {MAX_ALIASES} anchors"),
        BudgetBreach::AliasAnchorRatio { aliases, anchors } => {
            format!("{aliases} aliases of only {anchors} anchors")
        }
        BudgetBreach::Depth { .. } => format!("nesting is too deep (more than {MAX_DEPTH} levels)"),
        BudgetBreach::Events { .. } | BudgetBreach::Nodes { .. } => {
            "the document has too many values".to_string()
        }
        BudgetBreach::ScalarBytes { .. } => "the document's text values are too large".to_string(),
        BudgetBreach::Documents { .. } => "more than one YAML document".to_string(),
        other => format!("resource limit exceeded ({other:?})"),
    }
}

/// The source text of a short value on one line.
fn source_text(text: &str, span: Span) -> Option<&str> {
    let found = text.get(span.offset..span.offset.checked_add(span.len)?)?;
    (!found.is_empty() && found.len() <= 60 && !found.contains('\n')).then_some(found)
}

fn describe_scalar(ty: &str) -> String {
    match ty {
        "u8" | "u16" | "u32" | "u64" | "usize" => "a non-negative integer".into(),
        "i8" | "i16" | "i32" | "i64" | "isize" => "an integer".into(),
        "bool" => "`true` or `false`".into(),
        other => format!("a value of type `{other}`"),
    }
}

fn innermost(error: &YamlError) -> &YamlError {
    match error {
        YamlError::WithSnippet { error, .. } => innermost(error),
        YamlError::AliasError { error, .. } => innermost(error),
        other => other,
    }
}
