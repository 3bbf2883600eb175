//! Topics and topic filters.
//!
//! Topics are `/`-separated paths such as `quotes/bitstamp`. A subscription to `quotes` matches
//! `quotes` and `quotes/bitstamp`, never `quotes_raw`: ZeroMQ filters on byte prefixes, and
//! Hermes enforces the segment boundary on top, in the receiver and in the topology checks alike.

/// The longest topic accepted, in bytes.
pub const MAX_TOPIC_LEN: usize = 64 * 1024;

/// A topic or prefix that cannot travel in an envelope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid topic `{topic}`: {reason}")]
pub struct TopicError {
    /// The topic, cut to 80 characters.
    pub topic: String,
    /// Why it is invalid.
    pub reason: &'static str,
}

/// Checks that `topic` can travel in an envelope: no NUL byte, at most [`MAX_TOPIC_LEN`] bytes.
///
/// # Errors
///
/// [`TopicError`] naming the rule broken.
///
/// # Examples
///
/// ```
/// assert!(hermes_core::topic::validate("quotes/bitstamp").is_ok());
/// assert!(hermes_core::topic::validate("quo\0tes").is_err());
/// ```
pub fn validate(topic: &str) -> Result<(), TopicError> {
    let reason = if topic.contains('\0') {
        "contains a NUL byte"
    } else if topic.len() > MAX_TOPIC_LEN {
        "is longer than 64 KiB"
    } else {
        return Ok(());
    };
    Err(TopicError {
        topic: topic.chars().take(80).collect(),
        reason,
    })
}

/// Whether a subscription to `prefix` receives messages published on `topic`.
///
/// It does when `prefix` is empty, equal to `topic`, or a prefix of it followed by `/` (a prefix
/// that already ends with `/` matches every topic it prefixes).
///
/// # Examples
///
/// ```
/// use hermes_core::topic::matches;
///
/// assert!(matches("quotes", "quotes/bitstamp"));
/// assert!(matches("quotes", "quotes"));
/// assert!(matches("", "anything"));
/// assert!(!matches("quote", "quotes/bitstamp"));
/// ```
pub fn matches(prefix: &str, topic: &str) -> bool {
    match topic.strip_prefix(prefix) {
        None => false,
        Some(rest) => {
            prefix.is_empty() || rest.is_empty() || prefix.ends_with('/') || rest.starts_with('/')
        }
    }
}

/// A subscription prefix with `/`-segment semantics.
///
/// # Examples
///
/// ```
/// use hermes_core::TopicFilter;
///
/// let quotes = TopicFilter::new("quotes")?;
/// assert!(quotes.matches("quotes"));
/// assert!(quotes.matches("quotes/bitstamp"));
/// assert!(!quotes.matches("quotes_raw"));
/// assert!(TopicFilter::new("")?.matches("anything"));
/// # Ok::<(), hermes_core::topic::TopicError>(())
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
    /// [`TopicError`] when the prefix is not a valid topic.
    pub fn new(prefix: impl Into<String>) -> Result<TopicFilter, TopicError> {
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

#[cfg(test)]
mod tests {
    use super::{matches, validate};

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

    #[test]
    fn oversized_and_nul_topics_are_refused_with_the_rule() {
        assert_eq!(validate("a\0b").unwrap_err().reason, "contains a NUL byte");
        let long = "x".repeat(super::MAX_TOPIC_LEN + 1);
        let error = validate(&long).unwrap_err();
        assert_eq!(error.reason, "is longer than 64 KiB");
        assert_eq!(error.topic.len(), 80);
    }
}
