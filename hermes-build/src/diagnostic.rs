//! Findings about a topology and their rendering, rustc style for people and JSON for tools.
//!
//! Every finding has a stable [`Code`] such as `hermes::unmatched_subscription`; tests, docs
//! and CI scripts refer to findings by code, never by message text.

use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::json;

use crate::model::{Lint, Span};

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// The topology is invalid.
    Error,
    /// The topology is valid but probably not what was meant.
    Warning,
}

impl Severity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

macro_rules! codes {
    ($($variant:ident => $name:literal, $severity:ident, $summary:literal;)*) => {
        /// The stable identity of a kind of finding, written `hermes::name`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Code {
            $(
                #[doc = $summary]
                $variant,
            )*
        }

        impl Code {
            /// Every code, errors first, in documentation order.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The code as written in diagnostics, such as `hermes::unknown_proxy`.
            ///
            /// ```
            /// use hermes_build::Code;
            /// assert_eq!(Code::UnknownProxy.as_str(), "hermes::unknown_proxy");
            /// ```
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => concat!("hermes::", $name),)*
                }
            }

            /// The severity a finding with this code has unless `deny:` raises it.
            pub fn default_severity(self) -> Severity {
                match self {
                    $(Code::$variant => Severity::$severity,)*
                }
            }

            /// One line saying what the code means.
            pub fn summary(self) -> &'static str {
                match self {
                    $(Code::$variant => $summary,)*
                }
            }
        }
    };
}

codes! {
    Syntax => "syntax", Error, "The file is not well-formed YAML (or not UTF-8, or empty).";
    UnknownKey => "unknown_key", Error, "A mapping has a key the format does not define.";
    DuplicateKey => "duplicate_key", Error, "A mapping repeats a key.";
    MissingKey => "missing_key", Error, "A required key is missing.";
    InvalidValue => "invalid_value", Error, "A value has the wrong type or is not one of the allowed values.";
    ResourceLimit => "resource_limit", Error, "The file exceeds a size, depth or alias-expansion limit.";
    MissingFile => "missing_file", Error, "A messages file named by the topology cannot be read.";
    UnknownMessage => "unknown_message", Error, "A port names a message type no messages file declares.";
    UnknownType => "unknown_type", Error, "A field's type names an enum or message no messages file declares.";
    InvalidType => "invalid_type", Error, "A field's type expression is malformed or not representable.";
    InvalidFieldId => "invalid_field_id", Error, "A field number is out of range, reserved, or used twice in one message.";
    InvalidReserved => "invalid_reserved", Error, "A field or enum variant uses a number or name its message or enum reserves, or a reserved number is out of range.";
    UnknownProxy => "unknown_proxy", Error, "A port goes `via:` a proxy that is not declared.";
    DuplicateName => "duplicate_name", Error, "Two things that share a namespace have the same name (or names that generate the same Rust identifier).";
    InvalidIdentifier => "invalid_identifier", Error, "A name cannot become a Rust identifier.";
    InvalidPort => "invalid_port", Error, "A port does not say how it connects: exactly one of `via:`, `bind:` or `connect:` is needed.";
    InvalidTopic => "invalid_topic", Error, "A topic has empty segments, whitespace or control characters.";
    MalformedEndpoint => "malformed_endpoint", Error, "An endpoint is not `tcp://host:port`, `ipc://path` or `inproc://name`.";
    EndpointConflict => "endpoint_conflict", Error, "Two sockets bind the same endpoint (or the same TCP port on one host).";
    InprocAcrossProcesses => "inproc_across_processes", Error, "An `inproc://` endpoint is used by nodes that run in different processes.";
    UnknownHost => "unknown_host", Error, "A proxy or node is placed on a host that `hosts:` does not declare.";
    LocalTransportAcrossHosts => "local_transport_across_hosts", Error, "An `ipc://` or `inproc://` link joins sockets on different hosts.";
    LoopbackAcrossHosts => "loopback_across_hosts", Error, "A link across hosts reaches a socket bound to a loopback address, which only its own host can reach.";
    UnmatchedSubscription => "unmatched_subscription", Error, "No publication reachable from a subscription matches its topic.";
    TopicTypeConflict => "topic_type_conflict", Error, "One topic is published with two different message types.";
    SubscriptionTypeMismatch => "subscription_type_mismatch", Error, "A subscription's matching publications carry a different message type.";
    CodecMismatch => "codec_mismatch", Error, "A subscription's matching publications use a different codec.";
    WrongProxySide => "wrong_proxy_side", Error, "A port connects to the wrong side of a proxy, or binds a proxy's endpoint.";
    BreakingChange => "breaking_change", Error, "A message or enum changed in a way its `hermes.lock` entry cannot read, and the message's `version:` was not raised.";
    InvalidLock => "invalid_lock", Error, "`hermes.lock` cannot be read or is not a lock file.";
    UnusedPublication => "unused_publication", Warning, "Nobody subscribes to a publication.";
    EmptyNode => "empty_node", Warning, "A node neither publishes nor subscribes.";
    UnusedProxy => "unused_proxy", Warning, "No port uses a proxy.";
    Cycle => "cycle", Warning, "Nodes feed each other's subscriptions in a loop.";
    InsecureEndpoint => "insecure_endpoint", Warning, "A tcp endpoint beyond loopback carries traffic in the clear: the topology has no `security:`.";
    PointlessSecurity => "pointless_security", Warning, "`security:` is on, but every link is inproc, which CURVE does not cover and no other process can reach.";
    StaleLock => "stale_lock", Warning, "`hermes.lock` does not record the messages as they are (or, under `--locked`, is missing).";
}

impl Code {
    /// The `deny:` entry that turns this warning into an error, if it is one.
    pub fn lint(self) -> Option<Lint> {
        match self {
            Code::UnusedPublication => Some(Lint::UnusedPublication),
            Code::EmptyNode => Some(Lint::EmptyNode),
            Code::UnusedProxy => Some(Lint::UnusedProxy),
            Code::Cycle => Some(Lint::Cycles),
            Code::StaleLock => Some(Lint::StaleLock),
            Code::InsecureEndpoint => Some(Lint::InsecureEndpoint),
            Code::PointlessSecurity => Some(Lint::PointlessSecurity),
            _ => None,
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Identifies one source file in [`Sources`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(u32);

/// One loaded source file.
#[derive(Clone)]
pub struct SourceFile {
    /// The path as it is displayed: the topology path as given, and messages files joined to
    /// the topology's directory.
    pub path: PathBuf,
    /// The file's text; empty when it could not be read.
    pub text: String,
}

/// The files a topology was loaded from, so that findings can quote them.
#[derive(Clone, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    /// Adds a file and returns its id.
    pub fn add(&mut self, path: impl Into<PathBuf>, text: String) -> FileId {
        let id = FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        self.files.push(SourceFile {
            path: path.into(),
            text,
        });
        id
    }

    /// Replaces the text of a file (added with a placeholder before it was decoded).
    pub(crate) fn set_text(&mut self, id: FileId, text: String) {
        if let Some(file) = self.files.get_mut(id.0 as usize) {
            file.text = text;
        }
    }

    /// The file with this id.
    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    /// The displayed path of a file (`<unknown>` for a foreign id).
    pub fn path(&self, id: FileId) -> &Path {
        self.get(id)
            .map_or(Path::new("<unknown>"), |file| file.path.as_path())
    }

    /// The text of a file (empty for a foreign id).
    pub fn text(&self, id: FileId) -> &str {
        self.get(id).map_or("", |file| file.text.as_str())
    }

    /// Every file with its id, in load order.
    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(index, file)| (FileId(u32::try_from(index).unwrap_or(u32::MAX)), file))
    }
}

impl fmt::Debug for Sources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.files.iter().map(|file| &file.path))
            .finish()
    }
}

/// A place in a source file with a note about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    /// The file.
    pub file: FileId,
    /// The place; [`Span::UNKNOWN`] for the file as a whole.
    pub span: Span,
    /// What is at that place; may be empty.
    pub message: String,
}

/// One finding: a severity, a stable code, a message, the places it concerns and how to fix it.
///
/// ```
/// use hermes_build::{Code, Diagnostic, Severity, Sources};
/// use hermes_build::model::Span;
///
/// let mut sources = Sources::default();
/// let file = sources.add("topology.yaml", "name: demo\n".into());
/// let span = Span { line: 1, column: 7, offset: 6, len: 4 };
/// let finding = Diagnostic::new(Code::InvalidIdentifier, "example")
///     .with_label(file, span, "here")
///     .with_help("rename it");
/// assert_eq!(finding.severity, Severity::Error);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The stable code.
    pub code: Code,
    /// What is wrong: lowercase, no trailing period, names in backticks.
    pub message: String,
    /// The places concerned; the first is the one the finding is reported at.
    pub labels: Vec<Label>,
    /// How to fix it.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A finding with the code's default severity and no labels yet.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: code.default_severity(),
            code,
            message: message.into(),
            labels: Vec::new(),
            help: None,
        }
    }

    /// Adds a place; the first one added is where the finding is reported.
    #[must_use]
    pub fn with_label(mut self, file: FileId, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            file,
            span,
            message: message.into(),
        });
        self
    }

    /// Sets the help line.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Sets the help line if there is one.
    #[must_use]
    pub fn with_optional_help(mut self, help: Option<String>) -> Self {
        if help.is_some() {
            self.help = help;
        }
        self
    }

    /// Where the finding is reported.
    pub fn primary(&self) -> Option<&Label> {
        self.labels.first()
    }
}

/// Every finding about a topology, with the sources needed to show them.
#[derive(Clone, Debug)]
pub struct Report {
    sources: Arc<Sources>,
    diagnostics: Vec<Diagnostic>,
}

const MAX_SNIPPET_CHARS: usize = 120;

impl Report {
    /// A report of these findings, sorted by file and position.
    pub fn new(sources: Arc<Sources>, mut diagnostics: Vec<Diagnostic>) -> Self {
        diagnostics.sort_by_key(|diagnostic| {
            diagnostic
                .primary()
                .map(|label| (label.file, label.span.line, label.span.column))
        });
        Report {
            sources,
            diagnostics,
        }
    }

    /// The findings, by file and position.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// The files the findings point into.
    pub fn sources(&self) -> &Sources {
        &self.sources
    }

    /// How many errors.
    pub fn error_count(&self) -> usize {
        self.count(Severity::Error)
    }

    /// How many warnings.
    pub fn warning_count(&self) -> usize {
        self.count(Severity::Warning)
    }

    fn count(&self, severity: Severity) -> usize {
        self.diagnostics
            .iter()
            .filter(|diagnostic| diagnostic.severity == severity)
            .count()
    }

    /// Whether any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.error_count() > 0
    }

    /// Whether there are no findings at all.
    pub fn is_empty(&self) -> bool {
        self.diagnostics.is_empty()
    }

    /// Turns the warnings that `lints` name into errors ([`Lint::Warnings`] names them all).
    pub fn deny(&mut self, lints: &[Lint]) {
        for diagnostic in &mut self.diagnostics {
            let Some(lint) = diagnostic.code.lint() else {
                continue;
            };
            if lints.contains(&Lint::Warnings) || lints.contains(&lint) {
                diagnostic.severity = Severity::Error;
            }
        }
    }

    /// "2 errors, 1 warning", or "no findings".
    pub fn summary(&self) -> String {
        let (errors, warnings) = (self.error_count(), self.warning_count());
        let plural = |count: usize, word: &str| {
            format!("{count} {word}{}", if count == 1 { "" } else { "s" })
        };
        match (errors, warnings) {
            (0, 0) => "no findings".to_string(),
            (_, 0) => plural(errors, "error"),
            (0, _) => plural(warnings, "warning"),
            _ => format!(
                "{}, {}",
                plural(errors, "error"),
                plural(warnings, "warning")
            ),
        }
    }

    /// Renders every finding like rustc: a `path:line:col: severity[code]: message` line, the
    /// source line with a caret under the offending value, other places, and a `help:` line.
    pub fn render_human(&self) -> String {
        let mut out = String::new();
        for (index, diagnostic) in self.diagnostics.iter().enumerate() {
            if index > 0 {
                out.push('\n');
            }
            render_diagnostic(&self.sources, diagnostic, &mut out);
        }
        out
    }

    /// Renders the findings as one JSON document for CI tools:
    /// `{"diagnostics": [...], "errors": N, "warnings": N}`, each diagnostic with `severity`,
    /// `code`, `message`, `file`, `line`, `column`, `labels` and `help`.
    pub fn render_json(&self) -> String {
        let diagnostics: Vec<_> = self
            .diagnostics
            .iter()
            .map(|diagnostic| {
                let labels: Vec<_> = diagnostic
                    .labels
                    .iter()
                    .map(|label| {
                        json!({
                            "file": self.sources.path(label.file).display().to_string(),
                            "line": label.span.line,
                            "column": label.span.column,
                            "byte_offset": label.span.offset,
                            "byte_len": label.span.len,
                            "message": label.message,
                        })
                    })
                    .collect();
                let primary = diagnostic.primary();
                json!({
                    "severity": diagnostic.severity.as_str(),
                    "code": diagnostic.code.as_str(),
                    "message": diagnostic.message,
                    "file": primary.map(|label| self.sources.path(label.file).display().to_string()),
                    "line": primary.map(|label| label.span.line),
                    "column": primary.map(|label| label.span.column),
                    "labels": labels,
                    "help": diagnostic.help,
                })
            })
            .collect();
        let document = json!({
            "diagnostics": diagnostics,
            "errors": self.error_count(),
            "warnings": self.warning_count(),
        });
        let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
        text.push('\n');
        text
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render_human())
    }
}

fn render_diagnostic(sources: &Sources, diagnostic: &Diagnostic, out: &mut String) {
    render_finding(
        sources,
        Heading {
            kind: diagnostic.severity.as_str(),
            code: diagnostic.code.as_str(),
            message: &diagnostic.message,
        },
        &diagnostic.labels,
        diagnostic.help.as_deref(),
        out,
    );
}

/// The first line of a finding rendered by [`render_human_finding`]: `kind[code]: message`.
#[derive(Clone, Copy, Debug)]
pub struct Heading<'a> {
    /// What sort of finding, such as `error`, `warning` or another tool's `breaking`.
    pub kind: &'a str,
    /// Its stable code, such as `hermes::field_wire_compatible_type`.
    pub code: &'a str,
    /// What it says: lowercase, no trailing period, names in backticks.
    pub message: &'a str,
}

/// Renders a finding that is not a [`Diagnostic`] (another tool's, with codes of its own)
/// exactly as [`Report::render_human`] renders diagnostics: a `path:line:col: kind[code]:
/// message` line, a snippet with a caret under each label, and a `help:` line.
///
/// ```
/// use hermes_build::Sources;
/// use hermes_build::diagnostic::{Heading, Label, render_human_finding};
/// use hermes_build::model::Span;
///
/// let mut sources = Sources::default();
/// let file = sources.add("messages.yaml", "x: f64\n".into());
/// let span = Span { line: 1, column: 4, offset: 3, len: 3 };
/// let label = Label { file, span, message: "here".into() };
/// let heading = Heading { kind: "breaking", code: "hermes::example", message: "changed" };
/// let text = render_human_finding(&sources, heading, &[label], None);
/// assert!(text.starts_with("messages.yaml:1:4: breaking[hermes::example]: changed\n"));
/// assert!(text.contains("^^^ here"));
/// ```
pub fn render_human_finding(
    sources: &Sources,
    heading: Heading<'_>,
    labels: &[Label],
    help: Option<&str>,
) -> String {
    let mut out = String::new();
    render_finding(sources, heading, labels, help, &mut out);
    out
}

fn render_finding(
    sources: &Sources,
    heading: Heading<'_>,
    labels: &[Label],
    help: Option<&str>,
    out: &mut String,
) {
    let head = labels.first().map(|label| {
        let path = sources.path(label.file).display();
        if label.span.is_known() {
            format!("{path}:{}:{}: ", label.span.line, label.span.column)
        } else {
            format!("{path}: ")
        }
    });
    let _ = writeln!(
        out,
        "{}{}[{}]: {}",
        head.unwrap_or_default(),
        heading.kind,
        heading.code,
        heading.message
    );
    let width = labels
        .iter()
        .map(|label| label.span.line.to_string().len())
        .max()
        .unwrap_or(1);
    let pad = " ".repeat(width);
    let mut wrote_snippet = false;
    for (index, label) in labels.iter().enumerate() {
        if !label.span.is_known() {
            continue;
        }
        let text = sources.text(label.file);
        let Some((line, caret_start, caret_len)) = snippet_line(text, label.span) else {
            continue;
        };
        if index > 0 {
            let _ = writeln!(
                out,
                "{pad} ::: {}:{}:{}",
                sources.path(label.file).display(),
                label.span.line,
                label.span.column
            );
        }
        let marker = if index == 0 { "^" } else { "-" };
        let _ = writeln!(out, "{pad} |");
        let _ = writeln!(out, "{:>width$} | {line}", label.span.line);
        let underline = format!(
            "{}{}",
            " ".repeat(caret_start),
            marker.repeat(caret_len.max(1))
        );
        if label.message.is_empty() {
            let _ = writeln!(out, "{pad} | {underline}");
        } else {
            let _ = writeln!(out, "{pad} | {underline} {}", label.message);
        }
        wrote_snippet = true;
    }
    if let Some(help) = help {
        if wrote_snippet {
            let _ = writeln!(out, "{pad} |");
        }
        let _ = writeln!(out, "{pad} = help: {help}");
    }
}

/// The displayed source line of a span, the caret's start column and its width, in characters.
/// Long lines are cropped to a window around the span.
fn snippet_line(text: &str, span: Span) -> Option<(String, usize, usize)> {
    let offset = span.offset.min(text.len());
    if !text.is_char_boundary(offset) {
        return None;
    }
    let line_start = text[..offset].rfind('\n').map_or(0, |newline| newline + 1);
    let line_end = text[offset..]
        .find('\n')
        .map_or(text.len(), |newline| offset + newline);
    let line = text[line_start..line_end].trim_end_matches('\r');
    let before = text[line_start..offset].chars().count();
    let span_end = offset.saturating_add(span.len).min(line_start + line.len());
    let caret_len = if text.is_char_boundary(span_end) && span_end > offset {
        text[offset..span_end].chars().count()
    } else {
        1
    };
    let chars: Vec<char> = line
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if chars.len() <= MAX_SNIPPET_CHARS {
        return Some((chars.into_iter().collect(), before, caret_len));
    }
    let window_start = before.saturating_sub(MAX_SNIPPET_CHARS / 3);
    let window_end = (window_start + MAX_SNIPPET_CHARS).min(chars.len());
    let mut shown = String::new();
    let mut caret_start = before - window_start;
    if window_start > 0 {
        shown.push_str("...");
        caret_start += 3;
    }
    shown.extend(&chars[window_start..window_end]);
    if window_end < chars.len() {
        shown.push_str("...");
    }
    let caret_len = caret_len.min(window_end.saturating_sub(before)).max(1);
    Some((shown, caret_start, caret_len))
}
