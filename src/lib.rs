//! cio-replay: replay Segment-spec analytics events into Customer.io's Track API.
//!
//! The pipeline: `input` reads records, `mapping` turns each into an operation (`track` types),
//! `send` delivers them, `sandbox` is the Track API seen from the other side. `cmd` holds one module
//! per subcommand; `main.rs` only parses the command line and turns the result into an exit code.

#![warn(unreachable_pub)]
pub mod cli;
pub mod cmd;
pub mod deliver;
pub mod exit;
pub(crate) mod gdpr;
pub(crate) mod interrupt;
pub mod ledger;
pub mod map;
pub mod report;
pub mod sandbox;
pub mod secret;
pub mod source;
pub mod stream;
pub mod track;
pub(crate) mod transform;
pub(crate) mod verify;
