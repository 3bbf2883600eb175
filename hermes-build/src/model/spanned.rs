use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Serialize, Serializer};

/// Where a value was written in its source file.
///
/// Lines and columns count from 1, columns in characters; `offset` and `len` are in bytes so
/// that `&text[offset..offset + len]` is the value's source text. A span whose `line` is 0 is
/// unknown (for example a value that was filled in by a default).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    /// 1-based line number; 0 when unknown.
    pub line: u32,
    /// 1-based column, counted in characters.
    pub column: u32,
    /// Byte offset of the value's first character.
    pub offset: usize,
    /// Length of the value's source text in bytes.
    pub len: usize,
}

impl Span {
    /// The span of a value that has no place in any file.
    pub const UNKNOWN: Span = Span {
        line: 0,
        column: 0,
        offset: 0,
        len: 0,
    };

    /// Whether this span points somewhere.
    ///
    /// ```
    /// use hermes_build::model::Span;
    /// assert!(!Span::UNKNOWN.is_known());
    /// ```
    pub fn is_known(&self) -> bool {
        self.line > 0
    }
}

/// A value together with the [`Span`] it was parsed from.
///
/// It dereferences to the value, compares and hashes by value only, and serializes and
/// describes itself in JSON Schema exactly like the value.
///
/// ```
/// use hermes_build::model::{Span, Spanned};
/// let name = Spanned::new("market".to_string(), Span::UNKNOWN);
/// assert_eq!(name.as_str(), "market");
/// ```
#[derive(Clone)]
pub struct Spanned<T> {
    /// The parsed value.
    pub value: T,
    /// Where the value was written.
    pub span: Span,
}

impl<T> Spanned<T> {
    /// Pairs a value with a span.
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }

    /// The parsed value.
    pub fn get(&self) -> &T {
        &self.value
    }
}

impl<T> Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: fmt::Debug> fmt::Debug for Spanned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} @{}:{}",
            self.value, self.span.line, self.span.column
        )
    }
}

impl<T: fmt::Display> fmt::Display for Spanned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.fmt(f)
    }
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T: Eq> Eq for Spanned<T> {}

impl<T: std::hash::Hash> std::hash::Hash for Spanned<T> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.value.hash(state);
    }
}

impl<T: Serialize> Serialize for Spanned<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(serializer)
    }
}

impl<T: JsonSchema> JsonSchema for Spanned<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}
