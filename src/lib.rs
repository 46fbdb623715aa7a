//! cio-replay: replay Segment-spec analytics events into Customer.io's Track API.
//!
//! The pipeline: `source` reads records (and people lists), `transform` reshapes them, `map` turns
//! each into an operation (`track` types), `stream` runs both over the inputs in order, `deliver`
//! sends the operations, and `ledger` keeps what became of every record on disk (dead letters,
//! receipts, checkpoints); `report` says what happened. `sandbox` is the Track API seen from the
//! other side, `verify` reads people back through the App API. `job` is what the sending commands
//! set up alike, `cmd` holds one small module per command, and `cli` turns the command line into
//! their settings; `main.rs` only runs it and turns the result into an exit code.

#![warn(unreachable_pub)]
pub mod cli;
pub(crate) mod cmd;
pub mod deliver;
pub mod exit;
pub(crate) mod interrupt;
pub(crate) mod job;
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
