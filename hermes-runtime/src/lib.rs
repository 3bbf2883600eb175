//! # hermes-runtime
//!
//! Typed ZeroMQ publish/subscribe for Hermes topologies: the one crate applications depend on.
//!
//! - [`Message`]: what a type implements to travel in an [`Envelope`]; derive it with
//!   [`HermesMessage`](derive@HermesMessage).
//! - [`Publisher`] and [`Receiver`]: typed PUB and SUB sockets with sequence numbers,
//!   loss accounting and slow-subscriber policies.
//! - [`RawReceiver`]: for tools, a SUB socket that delivers envelopes of every type and both
//!   framings as [`RawEnvelope`]s, payloads still encoded; [`RawPublisher`] sends them as they are.
//! - [`recording`]: envelopes to MCAP files and back, for `hermes record`, `hermes replay` and
//!   backtests (cargo feature `recording`, on by default).
//! - [`Proxy`]: an XSUB/XPUB forwarder with an optional capture socket, so a cluster has one address.
//! - [`Node`] and [`Runtime`]: many nodes and proxies as threads of one process, stopped cleanly
//!   on SIGINT/SIGTERM.
//! - [`metrics`]: Prometheus metrics of every socket, served over HTTP with
//!   [`Runtime::serve_metrics`] (`/metrics`, `/healthz`, `/readyz` from a [`Readiness`]).
//! - [`backtest`]: generated nodes fed from a recording in process, on a virtual clock, with
//!   no sockets: the same handlers, deterministic runs.
//! - [`Codec`]: protobuf (default), JSON, and the four-frame JSON of the Python hermes-zmq 1.3.
//!
//! The wire format is described in `docs/wire-format.md` at the repository root.

#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

pub mod backtest;
mod codec;
mod context;
mod derive_support;
mod endpoint;
mod envelope;
mod error;
mod include;
mod liveness;
mod message;
pub mod metrics;
mod node;
mod payload;
mod proxy;
mod publisher;
mod raw_publisher;
mod raw_receiver;
mod readiness;
mod receiver;
#[cfg(feature = "recording")]
pub mod recording;
mod runtime;
pub mod security;
mod shared_str;
mod shutdown;
mod stats;
mod topic;
pub mod topology;

pub use backtest::clock_ns;
pub use bytes::Bytes;
pub use codec::{Codec, PythonLayout, UnknownCodec, UnknownPythonLayout};
pub use context::Context;
pub use envelope::{Envelope, RawEnvelope, now_ns};
pub use error::{CodecError, Error, FrameError, Result};
pub use hermes_core::Batching;
pub use liveness::Liveness;
pub use message::{Message, fingerprint};
pub use metrics::Metrics;
pub use node::{HandlerResult, Node};
pub use payload::Payload;
pub use proxy::{Proxy, ProxyConfig};
pub use publisher::{Publisher, PublisherBuilder};
pub use raw_publisher::{RawPublisher, RawPublisherBuilder};
pub use raw_receiver::{RawReceiver, RawReceiverBuilder};
pub use readiness::Readiness;
pub use receiver::{Receiver, ReceiverBuilder};
pub use runtime::{NodeFailure, ProxyEndpoints, Runtime};
pub use security::{
    Access, Curve, KeyError, KeyPair, KeyRole, KeyStore, Peer, ProxySecurity, PublicKey, SecretKey,
    SecurityReport, SecurityStats,
};
pub use shared_str::SharedStr;
pub use shutdown::Shutdown;
pub use stats::{ReceiverStats, SlowSubscriber, SlowSubscriberAction};
pub use topic::TopicFilter;
pub use topology::Hooks;

/// Derives [`Message`] for a struct or enum, the way `#[derive(Serialize)]` derives serde.
///
/// Code generated from topology YAML uses this same derive, so hand-written and generated
/// messages behave alike.
///
/// # Examples
///
/// ```
/// use hermes_runtime::{Codec, HermesMessage, Message};
///
/// // Generated types derive prost and serde both, so they travel with every codec.
/// #[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize, HermesMessage)]
/// #[hermes(name = "trading.Quote", topic = "quotes")]
/// pub struct Quote {
///     #[prost(double, tag = "1")]
///     pub price: f64,
///     #[prost(string, tag = "2")]
///     pub symbol: String,
/// }
///
/// // A serde-only type names its codec; enums with fields need a JSON codec.
/// #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize, HermesMessage)]
/// #[hermes(name = "trading.Order", codec = "json")]
/// pub enum Order {
///     Market { size: f64 },
///     Cancel(u64),
/// }
///
/// // A unit enum is carried by `protobuf` without prost: its value is field 1.
/// #[derive(Debug, PartialEq, HermesMessage)]
/// #[hermes(name = "trading.Side")]
/// pub enum Side {
///     Buy = 1,
///     Sell = 2,
/// }
///
/// const QUOTE: u64 = <Quote as Message>::FINGERPRINT; // a compile-time constant
/// assert_eq!(QUOTE, hermes_runtime::fingerprint("trading.Quote{price:f64;symbol:String}"));
/// assert_eq!(Quote::DEFAULT_TOPIC, Some("quotes"));
/// assert!(Codec::ALL.into_iter().all(Quote::supports));
/// assert!(!Order::supports(Codec::Protobuf));
///
/// let mut buf = Vec::new();
/// Side::Sell.encode(Codec::Protobuf, &mut buf)?;
/// assert_eq!(buf, [0x08, 0x02]);
/// assert_eq!(Side::decode(Codec::Protobuf, &buf)?, Side::Sell);
/// assert!(Side::decode(Codec::Protobuf, &[0x08, 0x07]).is_err()); // no variant has value 7
/// # Ok::<(), hermes_runtime::CodecError>(())
/// ```
///
/// # Attributes
///
/// On the type, in one `#[hermes(...)]` or several:
///
/// | attribute | default | meaning |
/// | --- | --- | --- |
/// | `name = "trading.Quote"` | the Rust path, `concat!(module_path!(), "::Quote")` | [`Message::NAME`]: identifiers joined by `.` (or `::`) |
/// | `codec = "protobuf"` \| `"json"` \| `"python-json"` | `"protobuf"` | [`Message::DEFAULT_CODEC`]; the type must implement that codec's traits |
/// | `topic = "quotes"` | none | [`Message::DEFAULT_TOPIC`] |
/// | `crate = "path"` | `::hermes_runtime` | where the runtime is, when it is re-exported or renamed |
/// | `version = 2` | none | the major version: with it, [`Message::FINGERPRINT`] is the lineage's (see below); requires `name` |
/// | `python_layout = "message"` \| `"list"` \| `"object"` | `"message"` | [`Message::PYTHON_LAYOUT`]: how `python-json` lays out the fields unless the port or publisher says otherwise |
///
/// The default name moves with the type: set `name` on anything that crosses a process
/// boundary, so renaming a module does not change the fingerprint. Fields and variants take no
/// `#[hermes]` attributes: the fingerprint covers every one of them.
///
/// # Codecs
///
/// The expansion supports every codec the type's traits allow, whatever `codec` says, because
/// a topology chooses the codec per port:
///
/// - `protobuf` when the type implements `prost::Message + Default`; a unit-only enum has a
///   built-in encoding instead (a message whose `int64` field 1 is the variant's discriminant,
///   wire-compatible with a protobuf `enum` field, 0 not written), and decoding a value no
///   variant has is a [`CodecError::Decode`], never a panic;
/// - `json` and `python-json` when it implements `serde::Serialize + serde::de::DeserializeOwned`;
///   `python-json` writes as Python's `json.dumps` does, in the layout asked for
///   ([`Message::encode_python`]), and reads `[dtype, ts, fields…]`, a plain list of the fields
///   or an object alike;
/// - [`Message::json_schema`] is `Some` when it implements `schemars::JsonSchema`.
///
/// Other codecs return [`CodecError::Unsupported`] and [`Message::supports`] says `false`.
/// The *default* codec must be supported: `codec = "json"` on a type without serde, or no
/// `codec` on a type without `prost::Message`, is a compile error at the attribute (or type).
///
/// # Fingerprint
///
/// [`Message::FINGERPRINT`] is [`fingerprint`] of the canonical form `name{field:type;...}`:
/// fields in declaration order, types as written with whitespace removed, tuple fields named
/// `0`, `1`, ...; an enum lists its variants as `Unit`, `Tuple(0:type)`, `Named(field:type)`,
/// with `=value` after an explicit discriminant. Any change of name, field name, type or order
/// changes it; `String` and `std::string::String` count as different types. A trailing comma in
/// generic arguments does not count (`BTreeMap<K, V,>` is `BTreeMap<K,V>`), so formatting never
/// changes a fingerprint.
///
/// With `version = N` (an integer from 1, only together with an explicit `name`), the
/// fingerprint is instead the message's *lineage*: `hermes_core::lineage_fingerprint(name, N)`,
/// the [`fingerprint`] of `name@vN`. Fields no longer count, so compatible changes (an
/// appended field, which protobuf skips and JSON ignores) keep the fingerprint and old and new
/// builds interoperate; a breaking change must raise `version`, which changes it, so receivers
/// refuse (and count) envelopes of the other lineage. Every type hermes-build generates sets
/// `version` (1 unless the YAML says otherwise), and tools compute the same value from the YAML
/// with `hermes_build::canonical_form`. Hand-written types without `version` keep the field hash.
///
/// ```
/// use hermes_runtime::{HermesMessage, Message};
///
/// #[derive(serde::Serialize, serde::Deserialize, HermesMessage)]
/// #[hermes(name = "trading.Quote", version = 2, codec = "json")]
/// pub struct Quote {
///     pub price: f64,
/// }
///
/// assert_eq!(Quote::FINGERPRINT, hermes_runtime::fingerprint("trading.Quote@v2"));
/// ```
///
/// # Errors
///
/// Every mistake is reported at once, each at its own token, and the type still gets a stub
/// impl so that uses of it add no further errors. Rejected: unknown, duplicate or non-string
/// keys, unknown codecs, invalid names, empty topics, a `version` that is not an integer from 1
/// or comes without `name`, `#[hermes]` on fields or variants,
/// unions, enums without variants, enums with fields under `protobuf`, and generic or lifetime
/// parameters (a message has one name and one fingerprint, and `Message: 'static`).
pub use hermes_macros::HermesMessage;

/// What generated code and `#[derive(HermesMessage)]` expand to. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::codec::{Codec, PythonLayout, json, protobuf, python as python_json};
    pub use crate::derive_support::*;
    pub use crate::envelope::now_ns;
    pub use crate::error::CodecError;
    /// The envelope encoder, for hermes-bench's wire-size comparison.
    pub mod envelope {
        pub use crate::envelope::{Frames, Stamp, encode};
    }
    pub use crate::include::enum_json;
    pub use crate::message::{Message, fingerprint};
    pub use crate::topology::generated as driver;
    pub use hermes_core::lineage_fingerprint;

    /// The `zmq` context under `context`: for Hermes' own tests and benchmark, which make raw
    /// sockets next to Hermes ones.
    pub fn zmq_context(context: &crate::Context) -> &zmq::Context {
        context.as_zmq()
    }
    /// Whether `context`'s ZAP authenticator thread runs: for Hermes' own tests.
    pub fn authenticator_running(context: &crate::Context) -> bool {
        context.authenticator_running()
    }
    pub use bytes;
    pub use prost;
    pub use schemars;
    pub use serde;
    pub use serde_json;
}
