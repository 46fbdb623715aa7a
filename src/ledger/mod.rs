//! The ledger: what became of every record of a job, on disk. One writer (the [`journal`]) for
//! one file, behind one [`sink::Sink`] trait: the dead-letter file of `send`
//! ([`dead_letter`]) or the receipt of `gdpr` ([`receipt`]); the resume [`checkpoint`] that
//! covers it, with the run settings a resume must share ([`settings`]) and the lock that keeps a
//! second run off a job ([`lock`]); and the [`book`] that ties them to a delivery.

pub(crate) mod book;
pub mod checkpoint;
pub(crate) mod dead_letter;
pub(crate) mod journal;
pub(crate) mod lock;
pub(crate) mod receipt;
pub(crate) mod settings;
pub(crate) mod sink;

#[cfg(test)]
mod checkpoint_tests;

pub(crate) use book::{Book, Closed, Job};
pub use checkpoint::Checkpoint;
pub(crate) use checkpoint::Counters;
pub(crate) use settings::{RunSettings, site_id_hash};
