//! The metric families and the handles sockets count into.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::{Registry, Unit};

use super::histogram::LagHistogram;
use crate::security::Counters;
use crate::stats::SlowSubscriberAction;

/// Most publisher/topic pairs of one receiver that get series of their own; the rest count
/// under empty `topic` and `publisher` labels, so a peer cannot grow the registry without bound.
const MAX_SERIES_PAIRS: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct PairLabels {
    node: String,
    topic: String,
    publisher: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ActionLabels {
    node: String,
    topic: String,
    publisher: String,
    action: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct SentLabels {
    node: String,
    topic: String,
}

/// The Prometheus metrics of every socket made on a [`Context`](crate::Context) after
/// [`Context::enable_metrics`](crate::Context::enable_metrics); cheap to clone.
///
/// See the [module documentation](crate::metrics) for the metrics and their labels.
///
/// # Examples
///
/// ```
/// use hermes_runtime::{Context, Publisher};
/// use serde_json::{Value, json};
///
/// let context = Context::new();
/// let metrics = context.enable_metrics();
/// let mut ticks = Publisher::<Value>::builder(&context)
///     .topic("ticks")
///     .origin("feed")
///     .bind("inproc://ticks")?;
/// ticks.send(&json!(1))?; // no subscriber: dropped, but sent
///
/// let text = metrics.encode();
/// assert!(text.contains("# TYPE hermes_sent counter\n"));
/// assert!(text.contains("hermes_sent_total{node=\"feed\",topic=\"ticks\"} 1\n"));
/// assert!(text.ends_with("# EOF\n"));
/// # Ok::<(), hermes_runtime::Error>(())
/// ```
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    received: Family<PairLabels, Counter>,
    lost: Family<PairLabels, Counter>,
    decode_errors: Family<PairLabels, Counter>,
    type_mismatches: Family<PairLabels, Counter>,
    slow_subscriber_actions: Family<ActionLabels, Counter>,
    lag: Family<PairLabels, LagHistogram>,
    sent: Family<SentLabels, Counter>,
    proxies: Arc<ProxyCollector>,
}

impl Metrics {
    /// A registry with every Hermes metric family and no series yet.
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let received = Family::default();
        let lost = Family::default();
        let decode_errors = Family::default();
        let type_mismatches = Family::default();
        let slow_subscriber_actions = Family::default();
        let lag = Family::default();
        let sent = Family::default();
        let proxies = Arc::new(ProxyCollector::default());
        registry.register(
            "hermes_received",
            "Envelopes delivered to the application, by receiving node, topic and publisher",
            received.clone(),
        );
        registry.register(
            "hermes_lost",
            "Envelopes that never arrived, from gaps in each publisher's per-topic sequence numbers",
            lost.clone(),
        );
        registry.register(
            "hermes_decode_errors",
            "Frame sets that were not valid envelopes; empty topic and publisher when unknown",
            decode_errors.clone(),
        );
        registry.register(
            "hermes_type_mismatches",
            "Envelopes whose type fingerprint or codec differs from the receiver's",
            type_mismatches.clone(),
        );
        registry.register(
            "hermes_slow_subscriber_actions",
            "Envelopes older than the slow-subscriber limit, by the action taken",
            slow_subscriber_actions.clone(),
        );
        registry.register_with_unit(
            "hermes_lag",
            "Time from an envelope's send timestamp to its receipt (clocks of two hosts included)",
            Unit::Seconds,
            lag.clone(),
        );
        registry.register(
            "hermes_sent",
            "Envelopes sent, by node (the publisher's origin) and topic",
            sent.clone(),
        );
        registry.register_collector(Box::new(Arc::clone(&proxies)));
        Metrics {
            inner: Arc::new(Inner {
                registry,
                received,
                lost,
                decode_errors,
                type_mismatches,
                slow_subscriber_actions,
                lag,
                sent,
                proxies,
            }),
        }
    }

    /// Every metric in the OpenMetrics text format, ending in `# EOF`.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        if let Err(err) = prometheus_client::encoding::text::encode(&mut text, &self.inner.registry)
        {
            // Writing to a String cannot fail; only an encoder's own check could.
            tracing::warn!(%err, "cannot encode metrics");
        }
        text
    }

    /// The counter of envelopes a publisher of `node` sends on `topic`.
    pub(crate) fn sent(&self, node: &str, topic: &str) -> Counter {
        self.inner.sent.get_or_create_owned(&SentLabels {
            node: node.to_owned(),
            topic: topic.to_owned(),
        })
    }

    /// Registers a proxy's counts under `proxy`.
    pub(crate) fn proxy(&self, proxy: &str, security: Arc<Counters>) -> Arc<ProxyTraffic> {
        let traffic = Arc::new(ProxyTraffic::default());
        self.inner
            .proxies
            .proxies
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push((proxy.to_owned(), Arc::clone(&traffic), security));
        traffic
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// One receiver's series for one publisher/topic pair, resolved once.
pub(crate) struct PairMetrics {
    pub(crate) received: Counter,
    pub(crate) lost: Counter,
    pub(crate) decode_errors: Counter,
    pub(crate) type_mismatches: Counter,
    pub(crate) slow_subscriber_actions: Counter,
    pub(crate) lag: LagHistogram,
}

/// A receiver's handles: a [`PairMetrics`] per sequence slot of its tracker, resolved when the
/// slot is made, so counting an envelope is an index and atomic adds.
pub(crate) struct ReceiverMetrics {
    metrics: Metrics,
    node: Option<String>,
    action: &'static str,
    /// By sequence slot, for the first [`MAX_SERIES_PAIRS`] slots.
    pairs: Vec<PairMetrics>,
    /// For frame sets that name no pair, and for pairs past the limit.
    unattributed: Option<PairMetrics>,
}

impl ReceiverMetrics {
    pub(crate) fn new(
        metrics: Metrics,
        node: Option<String>,
        action: SlowSubscriberAction,
    ) -> ReceiverMetrics {
        ReceiverMetrics {
            metrics,
            node,
            action: match action {
                SlowSubscriberAction::Warn => "warn",
                SlowSubscriberAction::Drop => "drop",
                SlowSubscriberAction::Disconnect => "disconnect",
            },
            pairs: Vec::new(),
            unattributed: None,
        }
    }

    /// Sets the `node` label unless the receiver's builder did; series already made keep
    /// theirs.
    pub(crate) fn default_node(&mut self, node: &str) {
        if self.node.is_none() {
            self.node = Some(node.to_owned());
        }
    }

    /// Resolves the series of a new sequence slot (slots are made in order from 0).
    pub(crate) fn add_pair(&mut self, slot: usize, publisher: &str, topic: &str) {
        if slot == self.pairs.len() && slot < MAX_SERIES_PAIRS {
            let pair = self.resolve(publisher, topic);
            self.pairs.push(pair);
        }
    }

    /// The series of `slot`, or the unattributed ones.
    #[inline]
    pub(crate) fn pair(&mut self, slot: Option<usize>) -> &PairMetrics {
        if let Some(slot) = slot
            && slot < self.pairs.len()
        {
            return &self.pairs[slot];
        }
        if self.unattributed.is_none() {
            self.unattributed = Some(self.resolve("", ""));
        }
        self.unattributed.as_ref().expect("just set")
    }

    fn resolve(&self, publisher: &str, topic: &str) -> PairMetrics {
        let inner = &self.metrics.inner;
        let labels = PairLabels {
            node: self.node.clone().unwrap_or_default(),
            topic: topic.to_owned(),
            publisher: publisher.to_owned(),
        };
        let action = ActionLabels {
            node: labels.node.clone(),
            topic: labels.topic.clone(),
            publisher: labels.publisher.clone(),
            action: self.action.to_owned(),
        };
        PairMetrics {
            received: inner.received.get_or_create_owned(&labels),
            lost: inner.lost.get_or_create_owned(&labels),
            decode_errors: inner.decode_errors.get_or_create_owned(&labels),
            type_mismatches: inner.type_mismatches.get_or_create_owned(&labels),
            slow_subscriber_actions: inner.slow_subscriber_actions.get_or_create_owned(&action),
            lag: inner.lag.get_or_create_owned(&labels),
        }
    }
}

/// What a proxy thread counts for its metrics; security counts come from its [`Counters`].
#[derive(Debug, Default)]
pub(crate) struct ProxyTraffic {
    forwarded: AtomicU64,
    subscriptions: AtomicI64,
}

impl ProxyTraffic {
    /// One envelope went out on the backend.
    #[inline]
    pub(crate) fn forwarded(&self) {
        self.forwarded.fetch_add(1, Ordering::Relaxed);
    }

    /// A subscription (`true`) or unsubscription went upstream.
    pub(crate) fn subscription(&self, subscribed: bool) {
        self.subscriptions
            .fetch_add(if subscribed { 1 } else { -1 }, Ordering::Relaxed);
    }

    /// The number of prefixes subscribed now.
    pub(crate) fn set_subscriptions(&self, count: usize) {
        self.subscriptions
            .store(i64::try_from(count).unwrap_or(i64::MAX), Ordering::Relaxed);
    }
}

/// Reads every proxy's counts at scrape time, so the metrics are the proxy's own counts.
#[derive(Debug, Default)]
struct ProxyCollector {
    proxies: Mutex<Vec<RegisteredProxy>>,
}

/// A proxy's name, its traffic counts and its security counts.
type RegisteredProxy = (String, Arc<ProxyTraffic>, Arc<Counters>);

/// A proxy's counts at one scrape, summed over proxies of the same name.
#[derive(Default, Clone, Copy)]
struct ProxyCounts {
    forwarded: u64,
    dropped: u64,
    subscriptions: i64,
    refused_peers: u64,
    refused_subscriptions: u64,
}

impl Collector for ProxyCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let mut counts: BTreeMap<String, ProxyCounts> = BTreeMap::new();
        for (name, traffic, security) in self
            .proxies
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .iter()
        {
            let security = security.snapshot();
            let entry = counts.entry(name.clone()).or_default();
            entry.forwarded += traffic.forwarded.load(Ordering::Relaxed);
            entry.subscriptions += traffic.subscriptions.load(Ordering::Relaxed);
            entry.dropped += security.dropped_publications;
            entry.refused_peers += security.refused_connections;
            entry.refused_subscriptions += security.dropped_subscriptions;
        }
        type Field = fn(&ProxyCounts) -> i64;
        let families: [(&str, &str, MetricType, Field); 5] = [
            (
                "hermes_proxy_forwarded",
                "Envelopes the proxy sent on to its subscribers",
                MetricType::Counter,
                |counts| saturate(counts.forwarded),
            ),
            (
                "hermes_proxy_dropped",
                "Envelopes the proxy dropped: topics their sender may not publish",
                MetricType::Counter,
                |counts| saturate(counts.dropped),
            ),
            (
                "hermes_proxy_subscriptions",
                "Topic prefixes subscribed at the proxy's backend now",
                MetricType::Gauge,
                |counts| counts.subscriptions,
            ),
            (
                "hermes_proxy_refused_peers",
                "Connections refused at the CURVE handshake",
                MetricType::Counter,
                |counts| saturate(counts.refused_peers),
            ),
            (
                "hermes_proxy_refused_subscriptions",
                "Subscriptions not applied: topics their subscriber may not read",
                MetricType::Counter,
                |counts| saturate(counts.refused_subscriptions),
            ),
        ];
        for (name, help, kind, field) in families {
            let mut family = encoder.encode_descriptor(name, help, None, kind)?;
            for (proxy, counts) in &counts {
                let labels = [("proxy", proxy.as_str())];
                let value = field(counts);
                let encoder = family.encode_family(&labels)?;
                match kind {
                    MetricType::Gauge => ConstGauge::new(value).encode(encoder)?,
                    _ => ConstCounter::new(value.unsigned_abs()).encode(encoder)?,
                }
            }
        }
        Ok(())
    }
}

fn saturate(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
