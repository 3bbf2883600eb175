//! # hermes-core
//!
//! The vocabulary every Hermes crate shares, with no libzmq: hermes-build checks and generates
//! with it in `build.rs`, hermes-runtime runs sockets with it, and the `hermes` command uses
//! both. One concept, one definition:
//!
//! - [`topic`]: topics, their validation and `/`-segment matching ([`TopicFilter`]);
//! - [`Endpoint`]: the endpoint grammar (`tcp://host:port`, `ipc://path`, `inproc://name`);
//! - [`Codec`]: codec names and the ids the envelope header carries, and [`PythonLayout`]:
//!   how `python-json` lays out a message's fields;
//! - [`SlowSubscriberAction`]: what a subscriber that falls behind does, and [`Liveness`]:
//!   how a connection notices a dead peer; [`Batching`]: how a publisher packs envelopes under load;
//! - [`fingerprint`]: the type fingerprint every native envelope carries, and [`lineage`]
//!   with [`lineage_fingerprint`]: the fingerprint of a message's name and major version;
//! - [`proto`]: the protobuf model of a messages file, from which `.proto` text and runtime
//!   descriptors are both made.
//!
//! ```
//! use hermes_core::{Codec, Endpoint, topic};
//!
//! assert!(topic::matches("quotes", "quotes/kraken"));
//! assert_eq!(Codec::PythonJson.name(), "python-json");
//! assert!(Endpoint::parse("tcp://127.0.0.1:6000").is_ok());
//! ```

mod batching;
mod codec;
mod endpoint;
mod fingerprint;
mod liveness;
mod policy;
pub mod proto;
pub mod topic;

pub use batching::Batching;
pub use codec::{Codec, PythonLayout, UnknownCodec, UnknownPythonLayout};
pub use endpoint::{Endpoint, EndpointError, ProxySide};
pub use fingerprint::{ANY_FINGERPRINT, fingerprint, lineage, lineage_fingerprint};
pub use liveness::Liveness;
pub use policy::SlowSubscriberAction;
pub use topic::TopicFilter;
