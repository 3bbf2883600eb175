//! Topics: the vocabulary crate's rules, reported as this crate's [`Error`].

use crate::error::{Error, Result};

pub use hermes_core::TopicFilter;

/// Checks that `topic` can travel in an envelope.
pub(crate) fn validate(topic: &str) -> Result<()> {
    hermes_core::topic::validate(topic).map_err(Error::from)
}

impl From<hermes_core::topic::TopicError> for Error {
    fn from(error: hermes_core::topic::TopicError) -> Error {
        Error::Topic {
            topic: error.topic,
            reason: error.reason.to_owned(),
        }
    }
}
