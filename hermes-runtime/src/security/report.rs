//! What a secured proxy tells operators about its refusals: a [`SecurityReport`] envelope.

use crate::codec::{Codec, json};
use crate::error::CodecError;
use crate::message::Message;

use super::SecurityStats;

/// A secured proxy's [`SecurityStats`], as it publishes them on its backend and capture
/// socket under the reserved topic [`SecurityReport::topic`]`(proxy)`: once a second while
/// they change, and at least every five seconds.
///
/// It is a normal `json` envelope (message `hermes.SecurityReport`, version 1), so `hermes
/// tap` prints it and `hermes stats` shows its counts. On the backend only subscribers that
/// may subscribe to the topic receive it (operators may subscribe to anything); the wire
/// format is in `docs/wire-format.md`.
///
/// # Examples
///
/// ```
/// use hermes_runtime::{SecurityReport, SecurityStats};
///
/// assert_eq!(SecurityReport::topic("market"), "hermes/security/market");
/// let report = SecurityReport::new("market", SecurityStats::default());
/// let json = serde_json::to_value(&report)?;
/// assert_eq!(json["proxy"], "market");
/// assert_eq!(json["refused_connections"], 0);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct SecurityReport {
    /// The proxy's name (the topology's, or [`ProxyConfig::with_name`](crate::ProxyConfig::with_name)'s).
    pub proxy: String,
    /// Its counts over its three sockets since it started.
    #[serde(flatten)]
    pub stats: SecurityStats,
}

impl SecurityReport {
    /// The topic every proxy's report is published under: `hermes/security`.
    pub const TOPIC_PREFIX: &'static str = "hermes/security";

    /// A report of `stats` by proxy `proxy`.
    pub fn new(proxy: impl Into<String>, stats: SecurityStats) -> SecurityReport {
        SecurityReport {
            proxy: proxy.into(),
            stats,
        }
    }

    /// The topic proxy `proxy` publishes its reports on: `hermes/security/<proxy>`.
    pub fn topic(proxy: &str) -> String {
        format!("{}/{proxy}", SecurityReport::TOPIC_PREFIX)
    }

    /// Whether `topic` is a security report's (equal to or below
    /// [`TOPIC_PREFIX`](SecurityReport::TOPIC_PREFIX) by whole segments).
    ///
    /// # Examples
    ///
    /// ```
    /// use hermes_runtime::SecurityReport;
    ///
    /// assert!(SecurityReport::is_report_topic("hermes/security/market"));
    /// assert!(!SecurityReport::is_report_topic("hermes/securityx"));
    /// ```
    pub fn is_report_topic(topic: &str) -> bool {
        hermes_core::topic::matches(SecurityReport::TOPIC_PREFIX, topic)
    }
}

impl Message for SecurityReport {
    const NAME: &'static str = "hermes.SecurityReport";
    const FINGERPRINT: u64 = hermes_core::lineage_fingerprint("hermes.SecurityReport", 1);
    const DEFAULT_CODEC: Codec = Codec::Json;

    fn supports(codec: Codec) -> bool {
        matches!(codec, Codec::Json)
    }

    fn encode(&self, codec: Codec, buf: &mut Vec<u8>) -> Result<(), CodecError> {
        match codec {
            Codec::Json => json::encode(self, buf),
            _ => Err(CodecError::Unsupported {
                codec,
                message: Self::NAME,
            }),
        }
    }

    fn decode(codec: Codec, bytes: &[u8]) -> Result<Self, CodecError> {
        match codec {
            Codec::Json => json::decode(bytes),
            _ => Err(CodecError::Unsupported {
                codec,
                message: Self::NAME,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_reads_back_from_its_json() {
        let stats = SecurityStats {
            refused_connections: 3,
            dropped_publications: 2,
            ..SecurityStats::default()
        };
        let report = SecurityReport::new("hub", stats);
        let mut buf = Vec::new();
        report.encode(Codec::Json, &mut buf).unwrap();
        assert_eq!(
            std::str::from_utf8(&buf).unwrap(),
            r#"{"proxy":"hub","refused_connections":3,"dropped_publications":2,"dropped_subscriptions":0}"#
        );
        assert_eq!(SecurityReport::decode(Codec::Json, &buf).unwrap(), report);
        assert!(SecurityReport::decode(Codec::Json, b"[1]").is_err());
    }
}
