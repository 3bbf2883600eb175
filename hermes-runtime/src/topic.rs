//! Topics and topic filters.
//!
//! Topics are `/`-separated paths such as `quotes/bitstamp`. A subscription to `quotes` matches
//! `quotes` and `quotes/bitstamp`, never `quotes_raw`: ZeroMQ filters on byte prefixes, and the
//! receiver enforces the segment boundary on top.

use crate::error::{Error, Result};

/// A subscription prefix with `/`-segment semantics.
///
/// # Examples
///
/// ```
/// use hermes_runtime::TopicFilter;
///
/// let quotes = TopicFilter::new("quotes")?;
/// assert!(quotes.matches("quotes"));
/// assert!(quotes.matches("quotes/bitstamp"));
/// assert!(!quotes.matches("quotes_raw"));
/// assert!(TopicFilter::new("")?.matches("anything"));
/// # Ok::<(), hermes_runtime::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TopicFilter {
    prefix: String,
}

impl TopicFilter {
    /// A filter for `prefix`; the empty prefix matches every topic.
    ///
    /// # Errors
    ///
    /// [`Error::Topic`] when the prefix is not a valid topic.
    pub fn new(prefix: impl Into<String>) -> Result<TopicFilter> {
        let prefix = prefix.into();
        validate(&prefix)?;
        Ok(TopicFilter { prefix })
    }

    /// The filter that matches everything.
    pub fn all() -> TopicFilter {
        TopicFilter {
            prefix: String::new(),
        }
    }

    /// The prefix as given.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Whether `topic` is the prefix itself or lies below it.
    pub fn matches(&self, topic: &str) -> bool {
        matches(&self.prefix, topic)
    }
}

/// Whether subscription `prefix` matches `topic` with segment semantics.
pub fn matches(prefix: &str, topic: &str) -> bool {
    match topic.strip_prefix(prefix) {
        None => false,
        Some(rest) => {
            prefix.is_empty() || rest.is_empty() || prefix.ends_with('/') || rest.starts_with('/')
        }
    }
}

/// Checks that `topic` can be used as a topic: no NUL bytes, at most 64 KiB.
///
/// # Errors
///
/// [`Error::Topic`] saying what is wrong.
pub fn validate(topic: &str) -> Result<()> {
    const MAX: usize = 64 * 1024;
    let reason = if topic.contains('\0') {
        "contains a NUL byte"
    } else if topic.len() > MAX {
        "is longer than 64 KiB"
    } else {
        return Ok(());
    };
    Err(Error::Topic {
        topic: topic.chars().take(80).collect(),
        reason: reason.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn segment_boundary_is_enforced() {
        assert!(matches("quotes", "quotes"));
        assert!(matches("quotes", "quotes/bitstamp"));
        assert!(matches("quotes", "quotes/bitstamp/btc"));
        assert!(!matches("quotes", "quotes_raw"));
        assert!(!matches("quote", "quotes/x"));
        assert!(!matches("quotes/bitstamp", "quotes"));
    }

    #[test]
    fn trailing_slash_and_empty_prefix_match_below() {
        assert!(matches("quotes/", "quotes/kraken"));
        assert!(!matches("quotes/", "quotes"));
        assert!(matches("", ""));
        assert!(matches("", "orders"));
    }
}
