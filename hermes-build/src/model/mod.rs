//! The serde model of the two YAML formats: topologies ([`Topology`]) and message schemas
//! ([`MessagesFile`]).
//!
//! Every type rejects unknown keys, and every name or value a diagnostic may point at is a
//! [`Spanned`] value that remembers where in its file it was written. The JSON Schemas in
//! `schemas/` are generated from these types, so their doc comments are what editors show.

mod messages;
mod named_map;
mod spanned;
mod topology;
mod types;

pub use messages::{EnumDef, FieldDef, MessageDef, MessagesFile, ReservedDef};
pub use named_map::NamedMap;
pub use spanned::{Span, Spanned};
pub use topology::{
    BatchSettings, Batching, Codec, Defaults, Direction, Host, Lint, Liveness, LivenessSettings,
    Metrics, Node, Pins, Port, PortSettings, Proxy, PythonLayout, ResourceRequests, Resources,
    RestartPolicy, RunCommand, Security, SlowSubscriber, SlowSubscriberAction, Topology,
};
pub use types::{FieldType, ScalarType, TypeError};
