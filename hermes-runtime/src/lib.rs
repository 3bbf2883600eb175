//! # hermes-runtime
//!
//! Typed ZeroMQ publish/subscribe for Hermes topologies: the one crate applications depend on.
//!
//! - [`Message`]: what a type implements to travel in an [`Envelope`]; derive it with
//!   [`HermesMessage`](derive@HermesMessage).
//! - [`Publisher`] and [`Receiver`]: typed PUB and SUB sockets with sequence numbers,
//!   loss accounting and slow-subscriber policies.
//! - [`Proxy`]: an XSUB/XPUB forwarder with an optional capture socket, so a cluster has one address.
//! - [`Node`] and [`Runtime`]: many nodes and proxies as threads of one process, stopped cleanly
//!   on SIGINT/SIGTERM.
//! - [`Codec`]: protobuf (default), JSON, and the four-frame JSON of the Python hermes-zmq 1.3.
//!
//! The wire format is described in `docs/wire-format.md` at the repository root.

pub mod codec;
mod context;
mod derive_support;
mod endpoint;
pub mod envelope;
mod error;
mod message;
mod node;
mod proxy;
mod publisher;
mod receiver;
mod runtime;
mod shutdown;
pub mod stats;
pub mod topic;

pub use codec::Codec;
pub use context::Context;
pub use envelope::Envelope;
pub use error::{CodecError, Error, FrameError, Result};
pub use message::{Message, fingerprint};
pub use node::{HandlerResult, Node};
pub use proxy::{Proxy, ProxyConfig};
pub use publisher::{Publisher, PublisherBuilder};
pub use receiver::{Receiver, ReceiverBuilder};
pub use runtime::{NodeFailure, ProxyEndpoints, Runtime};
pub use shutdown::Shutdown;
pub use stats::{ReceiverStats, SlowSubscriber, SlowSubscriberAction};
pub use topic::TopicFilter;

/// Derives [`Message`] for a struct or enum; see the trait for what it provides.
pub use hermes_macros::HermesMessage;

/// What generated code and `#[derive(HermesMessage)]` expand to. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::codec::{Codec, json, protobuf};
    pub use crate::derive_support::*;
    pub use crate::error::CodecError;
    pub use crate::message::{Message, fingerprint};
    pub use prost;
    pub use schemars;
    pub use serde;
    pub use serde_json;
}
