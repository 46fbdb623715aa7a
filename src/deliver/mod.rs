//! Delivering mapped operations to the Track API: lanes of ordered work, batching, the shared rate
//! limit, retries and partial failures, and the watermarks of settled records.
//!
//! Entry point: [`deliver`]. It reads [`crate::stream::Work`] (a record and its mapping outcome) in input order,
//! sends every mapped operation through a [`Transport`], and tells its [`Hooks`] what became of each
//! record and how far each input is settled. It never writes files itself.

pub(crate) mod batch;
pub(crate) mod budget;
pub(crate) mod lanes;
pub(crate) mod rate;
mod request;
pub(crate) mod retry;
mod run;
mod shared;
pub(crate) mod transport;
pub(crate) mod watermarks;
mod worker;

#[cfg(test)]
mod order_tests;
#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::exit::Exit;
use crate::stream::RecordInfo;
use crate::track::{Action, Mode};

pub(crate) use batch::{BatchLimits, LimitError};
pub(crate) use run::deliver;
pub use transport::{HttpTransport, Transport};
pub(crate) use watermarks::{Coverage, Watermarks};

/// `--concurrency` when not given.
pub(crate) const DEFAULT_CONCURRENCY: usize = 4;
/// `--rate` (requests per second) when not given.
pub(crate) const DEFAULT_RATE: f64 = 100.0;
/// `--retries` when not given.
pub(crate) const DEFAULT_RETRIES: u32 = 5;
/// How long (milliseconds) a lane waits for more operations before it sends a batch that is not
/// full, when not told (`--linger`).
pub(crate) const DEFAULT_LINGER_MS: u64 = 25;
/// [`DEFAULT_LINGER_MS`] as a duration.
pub(crate) const DEFAULT_LINGER: Duration = Duration::from_millis(DEFAULT_LINGER_MS);
/// The longest `--linger` accepted (milliseconds): an hour.
pub(crate) const MAX_LINGER_MS: u64 = 3_600_000;

/// How operations are delivered.
#[derive(Debug, Clone)]
pub(crate) struct DeliverySettings {
    pub mode: Mode,
    /// Requests per second over all lanes; 0 means unlimited.
    pub rate: f64,
    /// Lanes (requests in flight) in batch mode; sequential mode always uses one.
    pub concurrency: usize,
    pub limits: BatchLimits,
    /// Retries of one request after 408/429/5xx/network errors (0 = none).
    pub retries: u32,
    /// How long a lane waits for more operations before sending a batch that is not full.
    pub linger: Duration,
}

/// Why delivery settings are unusable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum SettingsError {
    #[error(transparent)]
    Batch(#[from] LimitError),
    #[error("--rate {0} must be a number of requests per second, 0 or more (0 means unlimited)")]
    Rate(f64),
    #[error("--concurrency must be between 1 and 64, not {0}")]
    Concurrency(usize),
    #[error("--linger must be at most {MAX_LINGER_MS} milliseconds (an hour), not {0}")]
    Linger(u64),
}

impl DeliverySettings {
    pub(crate) fn new(
        mode: Mode,
        rate: f64,
        concurrency: usize,
        batch_bytes: usize,
        batch_size: usize,
        retries: u32,
    ) -> Result<DeliverySettings, SettingsError> {
        if rate.is_nan() || rate < 0.0 {
            return Err(SettingsError::Rate(rate));
        }
        if concurrency == 0 || concurrency > 64 {
            return Err(SettingsError::Concurrency(concurrency));
        }
        Ok(DeliverySettings {
            mode,
            rate,
            concurrency,
            limits: BatchLimits::new(batch_bytes, batch_size)?,
            retries,
            linger: DEFAULT_LINGER,
        })
    }

    /// The same settings with `--linger MS`.
    pub(crate) fn with_linger(self, ms: u64) -> Result<DeliverySettings, SettingsError> {
        if ms > MAX_LINGER_MS {
            return Err(SettingsError::Linger(ms));
        }
        Ok(DeliverySettings {
            linger: Duration::from_millis(ms),
            ..self
        })
    }

    /// `send`'s defaults in `mode`.
    pub(crate) fn defaults(mode: Mode) -> DeliverySettings {
        DeliverySettings {
            mode,
            rate: DEFAULT_RATE,
            concurrency: DEFAULT_CONCURRENCY,
            limits: BatchLimits::DEFAULT,
            retries: DEFAULT_RETRIES,
            linger: DEFAULT_LINGER,
        }
    }

    /// Lanes actually used.
    pub(crate) fn lanes(&self) -> usize {
        match self.mode {
            Mode::Sequential => 1,
            Mode::Batch => self.concurrency.max(1),
        }
    }
}

/// What became of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Settled {
    Accepted,
    Skipped {
        reason: String,
    },
    /// The record could not be mapped.
    Invalid {
        reason: String,
    },
    /// The API (or the sender's own limit check, status `None`) refused the operation.
    Rejected {
        status: Option<u16>,
        reason: String,
    },
    /// Retries were exhausted; `status` is the last one (`None` for a network error).
    Failed {
        status: Option<u16>,
        reason: String,
    },
}

impl Settled {
    /// The dead-letter stage (`invalid`, `rejected`, `failed`), or `None` for accepted / skipped.
    pub(crate) fn stage(&self) -> Option<&'static str> {
        match self {
            Settled::Accepted | Settled::Skipped { .. } => None,
            Settled::Invalid { .. } => Some("invalid"),
            Settled::Rejected { .. } => Some("rejected"),
            Settled::Failed { .. } => Some("failed"),
        }
    }

    pub(crate) fn status(&self) -> Option<u16> {
        match self {
            Settled::Rejected { status, .. } | Settled::Failed { status, .. } => *status,
            _ => None,
        }
    }

    pub(crate) fn reason(&self) -> &str {
        match self {
            Settled::Accepted => "accepted",
            Settled::Skipped { reason }
            | Settled::Invalid { reason }
            | Settled::Rejected { reason, .. }
            | Settled::Failed { reason, .. } => reason,
        }
    }
}

/// One record's final outcome.
#[derive(Debug, Clone)]
pub(crate) struct Settlement {
    pub record: RecordInfo,
    pub action: Option<Action>,
    pub result: Settled,
}

/// Running counts of a delivery.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub(crate) struct DeliveryStats {
    /// Records read.
    pub records: u64,
    /// Mapped operations handed to the lanes.
    pub operations: u64,
    pub accepted: u64,
    pub skipped: u64,
    pub invalid: u64,
    pub rejected: u64,
    pub failed: u64,
    /// HTTP requests made (every attempt counts).
    pub requests: u64,
    /// Attempts that were retries.
    pub retries: u64,
    /// 429 replies.
    pub throttled: u64,
    /// Request body bytes sent.
    pub bytes_sent: u64,
    /// 207 `errors[]` entries without a usable `batch_index` (ignored).
    pub ignored_errors: u64,
    /// Operations never settled because the run halted or was stopped.
    pub unsent: u64,
}

/// Why a run stopped before the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Halt {
    /// `Exit::Auth` for 401/403, `Exit::Usage` for a redirect (misconfigured endpoint).
    pub exit: Exit,
    pub message: String,
}

/// The end of a delivery.
#[derive(Debug, Clone)]
pub(crate) struct Delivered {
    pub stats: DeliveryStats,
    pub elapsed: Duration,
    /// Set when a 401/403 or a redirect stopped the run.
    pub halted: Option<Halt>,
    /// Set when the stop flag was raised before the job was done: reading had not reached the
    /// end of the input, or some records read were still unsettled (`stats.unsent`). A stop
    /// that comes after everything read was settled at the end of the input is no stop.
    pub stopped_early: bool,
    /// Reading reached the end of the input.
    pub read_to_end: bool,
    /// `--limit N` stopped reading after N records with more to come (a canary): not complete,
    /// but not a failure either when those N all settled.
    pub limit_reached: Option<u64>,
    /// An input could not be read to its end (a read error cut it short): the records after the
    /// cut were never read, so the job is not complete, though everything read settled.
    pub cut_short: bool,
    /// Final watermarks per input (every record below is settled).
    pub watermarks: Vec<(usize, u64)>,
    /// Final coverage per input read (watermarks and the settled ranges above them).
    pub coverage: Vec<Coverage>,
}

impl Delivered {
    /// The report of a delivery that never began (the run stopped before sending anything).
    pub(crate) fn nothing_sent(stopped_early: bool) -> Delivered {
        Delivered {
            stats: DeliveryStats::default(),
            elapsed: Duration::ZERO,
            halted: None,
            stopped_early,
            read_to_end: false,
            limit_reached: None,
            cut_short: false,
            watermarks: Vec::new(),
            coverage: Vec::new(),
        }
    }

    /// Every record of the input was read and settled, and nothing halted the run.
    pub(crate) fn is_complete(&self) -> bool {
        self.read_to_end
            && self.limit_reached.is_none()
            && !self.cut_short
            && self.stats.unsent == 0
            && self.halted.is_none()
            && !self.stopped_early
    }

    /// The exit this delivery ends with: a halt's own code (as an error), 130 when records read
    /// were left unsettled, 1 when some were invalid, rejected or failed, else 0.
    pub(crate) fn exit(&self) -> Result<Exit, crate::exit::Fatal> {
        if let Some(halt) = &self.halted {
            return Err(crate::exit::Fatal::new(halt.exit, halt.message.clone()));
        }
        // A canary, or an input cut short: everything read settled, the rest is for later.
        let canary_done = (self.limit_reached.is_some() || self.cut_short)
            && self.read_to_end
            && self.stats.unsent == 0
            && !self.stopped_early;
        if !self.is_complete() && !canary_done {
            // Stopped (or, should it ever happen, ended) with records read but not settled.
            return Ok(Exit::Interrupted);
        }
        let s = &self.stats;
        Ok(if s.invalid + s.rejected + s.failed > 0 {
            Exit::Partial
        } else {
            Exit::Success
        })
    }
}

/// What the caller learns while a delivery runs. All calls come from the calling thread.
pub(crate) trait Hooks {
    /// A mapped record was handed to the lanes: it settles later, or, if the run stops first,
    /// never (it is then counted in [`DeliveryStats::unsent`]).
    fn on_handed(&mut self, _record: &RecordInfo, _action: Action) {}
    /// A record is settled. Called before the watermark moves past it.
    fn on_record(&mut self, _settlement: &Settlement) {}
    /// These inputs' watermarks moved: `(input, first unsettled record index)`.
    fn on_settled(&mut self, _watermarks: &[(usize, u64)]) {}
    /// Some records settled (the watermarks may not have moved): `watermarks` says which.
    fn on_progress(&mut self, _watermarks: &Watermarks) {}
    /// Counts changed (for progress bars).
    fn on_tick(&mut self, _stats: &DeliveryStats) {}
}

/// Several hooks, each told everything in turn (in the order given).
pub(crate) struct AllOf<'a>(pub Vec<&'a mut dyn Hooks>);

impl Hooks for AllOf<'_> {
    fn on_handed(&mut self, record: &RecordInfo, action: Action) {
        for hooks in &mut self.0 {
            hooks.on_handed(record, action);
        }
    }

    fn on_record(&mut self, settlement: &Settlement) {
        for hooks in &mut self.0 {
            hooks.on_record(settlement);
        }
    }

    fn on_settled(&mut self, watermarks: &[(usize, u64)]) {
        for hooks in &mut self.0 {
            hooks.on_settled(watermarks);
        }
    }

    fn on_progress(&mut self, watermarks: &Watermarks) {
        for hooks in &mut self.0 {
            hooks.on_progress(watermarks);
        }
    }

    fn on_tick(&mut self, stats: &DeliveryStats) {
        for hooks in &mut self.0 {
            hooks.on_tick(stats);
        }
    }
}

/// Hooks that do nothing.
#[cfg(test)]
#[derive(Debug, Default)]
pub(crate) struct NoHooks;
#[cfg(test)]
impl Hooks for NoHooks {}

/// A stop flag that is never raised.
#[cfg(test)]
pub(crate) fn never_stop() -> AtomicBool {
    AtomicBool::new(false)
}

pub(crate) fn is_set(flag: &AtomicBool) -> bool {
    flag.load(Ordering::Relaxed)
}
