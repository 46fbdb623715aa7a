//! What cio-replay shows and writes about a run: the messages on standard error, the progress
//! bars and lines, the summary (human and JSON), the backfill safety checks, and the delivery's
//! account.

pub(crate) mod delivery;
pub(crate) mod gdpr;
pub mod messages;
pub(crate) mod progress;
pub(crate) mod run_report;
pub(crate) mod safety;
pub(crate) mod summary;
