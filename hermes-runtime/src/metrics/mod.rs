//! Prometheus metrics, and the HTTP server every Hermes process can run for them.
//!
//! [`Context::enable_metrics`](crate::Context::enable_metrics) gives a context a [`Metrics`]
//! registry; every publisher, receiver and proxy made on that context *afterwards* counts into
//! it, at the points where it updates its own statistics, so the metrics equal
//! [`Receiver::stats`](crate::Receiver::stats), [`Publisher::sent`](crate::Publisher::sent) and
//! [`Proxy::security_stats`](crate::Proxy::security_stats) exactly. Label sets are resolved
//! once per publisher/topic pair; counting an envelope is then a few atomic adds. Sockets of a
//! context without metrics pay one `Option` check.
//!
//! [`Runtime::serve_metrics`](crate::Runtime::serve_metrics) enables them on the runtime's
//! context and serves, until the runtime stops, over HTTP/1.1:
//!
//! | path | answer |
//! | --- | --- |
//! | `GET /metrics` | 200, the OpenMetrics text (`application/openmetrics-text; version=1.0.0`) |
//! | `GET /healthz` | 200 `ok` while the process runs |
//! | `GET /readyz` | 200 once [`Readiness::set_ready`](crate::Readiness::set_ready) was called on [`Runtime::readiness`](crate::Runtime::readiness), 503 before |
//!
//! Other paths get 404, other methods 405, malformed requests 400. `HEAD` works wherever `GET`
//! does. A family appears in `/metrics` once it has a series (a socket that counts into it);
//! the proxy families always do. A generated `main` serves them with `--metrics ADDR` (see
//! [`Options`](crate::topology::Options)).
//!
//! # Metrics
//!
//! Receivers, by `node` (the receiver's node), `topic` and `publisher` (the envelope's origin):
//!
//! | metric | type | equals |
//! | --- | --- | --- |
//! | `hermes_received_total` | counter | [`ReceiverStats::received`](crate::ReceiverStats::received) |
//! | `hermes_lost_total` | counter | [`ReceiverStats::lost`](crate::ReceiverStats::lost), from sequence gaps |
//! | `hermes_decode_errors_total` | counter | [`ReceiverStats::decode_errors`](crate::ReceiverStats::decode_errors) |
//! | `hermes_type_mismatches_total` | counter | [`ReceiverStats::type_mismatches`](crate::ReceiverStats::type_mismatches) |
//! | `hermes_slow_subscriber_actions_total` | counter, also by `action` (`warn`, `drop`, `disconnect`) | [`ReceiverStats::lagging`](crate::ReceiverStats::lagging) |
//! | `hermes_lag_seconds` | histogram | send timestamp to receipt, of every envelope that passed the filters |
//!
//! Frame sets that name no publisher/topic pair (they are not envelopes), and pairs past the
//! first 1024 of a receiver, count under empty `topic` and `publisher` labels.
//!
//! Publishers, by `node` (the publisher's origin) and `topic`: `hermes_sent_total`, equal to
//! [`Publisher::sent`](crate::Publisher::sent) summed over its topics.
//!
//! Proxies, by `proxy` (its name): `hermes_proxy_forwarded_total` (envelopes sent on to
//! subscribers), `hermes_proxy_dropped_total` and `hermes_proxy_refused_peers_total` (from
//! [`SecurityStats`](crate::SecurityStats): dropped publications and refused connections),
//! `hermes_proxy_refused_subscriptions_total`, and the gauge `hermes_proxy_subscriptions`
//! (topic prefixes subscribed at its backend now).
//!
//! # Examples
//!
//! ```
//! use std::io::{Read, Write};
//! use hermes_runtime::Runtime;
//!
//! let mut runtime = Runtime::new()?;
//! let address = runtime.serve_metrics("127.0.0.1:0")?; // port 0: a free one
//! runtime.readiness().set_ready();
//!
//! let mut client = std::net::TcpStream::connect(address)?;
//! client.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")?;
//! let mut response = String::new();
//! client.read_to_string(&mut response)?; // the server closes the connection
//! assert!(response.starts_with("HTTP/1.1 200 OK\r\n"));
//! assert!(response.contains("# TYPE hermes_proxy_forwarded counter"));
//! runtime.stop(); // the server stops with the runtime
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod histogram;
pub(crate) mod http;
mod registry;

pub use registry::Metrics;
pub(crate) use registry::{ProxyTraffic, ReceiverMetrics};
