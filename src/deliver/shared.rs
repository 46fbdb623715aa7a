//! What the lanes share (the transport, the rate limit, the counters, the stop and halt flags, the
//! entity owners), and an operation ready to send: what both a lane and its requests work with.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use super::Halt;
use super::batch::BatchLimits;
use super::lanes::Owners;
use super::rate::RateLimiter;
use super::transport::Transport;
use crate::exit::Exit;
use crate::stream::RecordInfo;
use crate::track::{Action, Endpoint};

/// An operation ready to send: serialized once, the same bytes on every attempt.
pub(crate) struct Prepared {
    pub info: RecordInfo,
    pub action: Action,
    pub endpoint: Endpoint,
    pub bytes: Vec<u8>,
    /// Hashes of the entity keys it touches ([`super::lanes::key_hashes`]).
    pub keys: Vec<u64>,
}

/// Counters every lane adds to.
#[derive(Default)]
pub(super) struct LaneCounters {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub throttled: AtomicU64,
    pub bytes_sent: AtomicU64,
    pub ignored_errors: AtomicU64,
}

/// What all lanes share.
pub(crate) struct Shared<'a> {
    pub transport: &'a dyn Transport,
    pub rate: RateLimiter,
    pub retries: u32,
    pub limits: BatchLimits,
    pub linger: Duration,
    pub counters: LaneCounters,
    /// Raised on 401/403 or a redirect: no lane starts another attempt.
    pub abort: AtomicBool,
    /// The caller's stop flag (Ctrl-C): operations not yet sent are dropped, unsettled.
    pub stop: &'a AtomicBool,
    pub halt: Mutex<Option<Halt>>,
    /// Which lane owns each entity with unsettled operations (see [`super::lanes`]).
    pub owners: Owners,
}

impl Shared<'_> {
    pub(crate) fn halt(&self, exit: Exit, message: String) {
        self.abort.store(true, Ordering::SeqCst);
        if let Ok(mut h) = self.halt.lock() {
            h.get_or_insert(Halt { exit, message });
        }
    }

    pub(crate) fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}
