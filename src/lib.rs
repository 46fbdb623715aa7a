//! cio-replay: replay Segment-spec analytics events into Customer.io's Track API.
//!
//! The pipeline: `input` reads records, `mapping` turns each into an operation (`track` types),
//! `send` delivers them, `sandbox` is the Track API seen from the other side. `cmd` holds one module
//! per subcommand; `main.rs` only parses the command line and turns the result into an exit code.

#![warn(unreachable_pub)]
pub mod checkpoint;
pub mod cli;
pub mod cmd;
pub(crate) mod deadletter;
pub mod exit;
pub(crate) mod gdpr;
pub mod input;
pub(crate) mod interrupt;
pub mod mapping;
pub mod messages;
pub mod pipeline;
pub(crate) mod progress;
pub(crate) mod safety;
pub mod sandbox;
pub mod secret;
pub mod send;
pub mod summary;
pub mod track;
pub(crate) mod transform;
pub(crate) mod verify;
