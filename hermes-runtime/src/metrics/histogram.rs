//! The lag histogram: fixed buckets of atomic counts, so observing is two atomic adds.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::{MetricType, TypedMetric};

/// Upper bounds of the buckets, in nanoseconds: 100 µs to 10 s, roughly ×2.5 apart.
const BOUNDS_NS: [u64; 14] = [
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    1_000_000_000,
    2_500_000_000,
    10_000_000_000,
];

/// A histogram of durations in seconds, observed in nanoseconds.
///
/// prometheus-client's own `Histogram` takes a lock per observation; this one takes none.
#[derive(Debug, Clone, Default)]
pub(crate) struct LagHistogram {
    inner: Arc<Buckets>,
}

#[derive(Debug, Default)]
struct Buckets {
    /// Per bucket, not cumulative; the last is `+Inf`.
    counts: [AtomicU64; BOUNDS_NS.len() + 1],
    sum_ns: AtomicU64,
}

impl LagHistogram {
    /// Counts one observation of `ns` nanoseconds.
    #[inline]
    pub(crate) fn observe_ns(&self, ns: u64) {
        let bucket = BOUNDS_NS.partition_point(|&bound| bound < ns);
        self.inner.counts[bucket].fetch_add(1, Ordering::Relaxed);
        self.inner.sum_ns.fetch_add(ns, Ordering::Relaxed);
    }
}

impl TypedMetric for LagHistogram {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for LagHistogram {
    fn encode(&self, mut encoder: MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
        let mut buckets = [(0.0, 0); BOUNDS_NS.len() + 1];
        for (i, (bound, count)) in buckets.iter_mut().enumerate() {
            #[allow(clippy::cast_precision_loss, reason = "bounds are exact in f64")]
            let seconds = BOUNDS_NS
                .get(i)
                .map_or(f64::INFINITY, |&ns| ns as f64 / 1e9);
            *bound = seconds;
            *count = self.inner.counts[i].load(Ordering::Relaxed);
        }
        // The count is the buckets' sum, so a scrape during an observation stays consistent.
        let count = buckets.iter().map(|(_, count)| count).sum();
        #[allow(clippy::cast_precision_loss, reason = "a sum of lags needs no 53 bits")]
        let sum = self.inner.sum_ns.load(Ordering::Relaxed) as f64 / 1e9;
        encoder.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_observation_lands_in_the_first_bucket_whose_bound_is_not_below_it() {
        let histogram = LagHistogram::default();
        histogram.observe_ns(100_000); // on the first bound: `le` includes it
        histogram.observe_ns(100_001);
        histogram.observe_ns(u64::MAX / 4); // past every bound
        let counts: Vec<u64> = histogram
            .inner
            .counts
            .iter()
            .map(|count| count.load(Ordering::Relaxed))
            .collect();
        assert_eq!(counts[0], 1);
        assert_eq!(counts[1], 1);
        assert_eq!(counts[BOUNDS_NS.len()], 1);
        assert_eq!(counts.iter().sum::<u64>(), 3);
    }
}
