//! The slow-subscriber policy's action, shared by the YAML and the receiver.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What happens to a subscriber that falls behind.
///
/// # Examples
///
/// ```
/// use hermes_core::SlowSubscriberAction;
///
/// assert_eq!("drop".parse(), Ok(SlowSubscriberAction::Drop));
/// assert_eq!(SlowSubscriberAction::Disconnect.to_string(), "disconnect");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(description = "What happens to a subscriber that falls behind.")]
pub enum SlowSubscriberAction {
    /// Log a warning and carry on.
    #[default]
    Warn,
    /// Drop stale messages until the subscriber catches up.
    Drop,
    /// Disconnect and reconnect the subscriber's socket.
    Disconnect,
}

impl SlowSubscriberAction {
    /// Every action.
    pub const ALL: [SlowSubscriberAction; 3] = [
        SlowSubscriberAction::Warn,
        SlowSubscriberAction::Drop,
        SlowSubscriberAction::Disconnect,
    ];

    /// The name written in YAML.
    pub const fn name(self) -> &'static str {
        match self {
            SlowSubscriberAction::Warn => "warn",
            SlowSubscriberAction::Drop => "drop",
            SlowSubscriberAction::Disconnect => "disconnect",
        }
    }
}

impl fmt::Display for SlowSubscriberAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SlowSubscriberAction {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SlowSubscriberAction::ALL
            .into_iter()
            .find(|action| action.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown slow-subscriber action `{s}`, expected one of `warn`, `drop`, `disconnect`"
                )
            })
    }
}
