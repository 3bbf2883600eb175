//! Hermes topology loading, checking and code generation for build scripts.
