//! Ctrl-C (and SIGTERM/SIGHUP): the first one asks the run to stop cleanly, the second ends the
//! process at once with exit 130.
//!
//! A clean stop: the reader stops taking records, requests in flight finish or time out, the
//! checkpoint and the summary are written, and the command returns [`Exit::Interrupted`]. Ending
//! at once is safe because the checkpoint is only ever replaced whole (see `checkpoint`): the last
//! one written is still valid, and a resume re-sends at most the work done since.
//!
//! [`Exit::Interrupted`]: crate::exit::Exit::Interrupted

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use crate::exit::Exit;

/// The shared stop flag: set by the first Ctrl-C; the reader and the sender poll it.
#[derive(Debug, Clone, Default)]
pub(crate) struct StopFlag(Arc<AtomicBool>);

impl StopFlag {
    /// A flag nobody has raised.
    pub(crate) fn new() -> StopFlag {
        StopFlag::default()
    }

    /// Ask the run to stop (what the first Ctrl-C does; tests call it directly).
    pub(crate) fn raise(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether a stop was asked for.
    #[cfg(test)]
    pub(crate) fn is_raised(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// The underlying atomic, for code that wants an `Arc<AtomicBool>`.
    pub(crate) fn as_atomic(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.0)
    }
}

/// What the run is doing, and so what the first Ctrl-C says it will do before it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stopping {
    /// `send`'s pre-scan: nothing has been sent, nothing will be.
    PreScan,
    /// Sending; `checkpoint`: the run keeps one (`--checkpoint`).
    Send { checkpoint: bool },
    /// `gdpr` sending; `checkpoint`: the job keeps one besides its receipt.
    Gdpr { checkpoint: bool },
}

impl Stopping {
    /// The lines the first Ctrl-C writes (each at most 80 columns with the `cio-replay: ` prefix).
    pub(crate) fn text(self) -> &'static str {
        match self {
            Stopping::PreScan => {
                "stopping the pre-scan: nothing was sent, and nothing will be\n  (Ctrl-C again quits at once)"
            }
            Stopping::Send { checkpoint: true } => {
                "stopping: finishing requests in flight, then writing the checkpoint\n  and the summary (Ctrl-C again quits at once; the last checkpoint stays valid)"
            }
            Stopping::Send { checkpoint: false } => {
                "stopping: finishing requests in flight, then the summary (Ctrl-C\n  again quits at once). Without --checkpoint, what was sent is not recorded\n  anywhere: the summary counts the records read but not sent"
            }
            Stopping::Gdpr { checkpoint: true } => {
                "stopping: finishing requests in flight, then writing the checkpoint,\n  the receipt and the summary (Ctrl-C again quits at once; the last\n  checkpoint stays valid)"
            }
            Stopping::Gdpr { checkpoint: false } => {
                "stopping: finishing requests in flight, then writing the receipt and\n  the summary (Ctrl-C again quits at once, leaving the receipt unfinished)"
            }
        }
    }
}

/// From now on the first Ctrl-C says what `now` does (the run moved on from its pre-scan to
/// sending). A no-op before [`install`].
pub(crate) fn stopping(now: Stopping) {
    if let Some(Ok(mut current)) = HANDLER.get().map(|h| h.stopping.lock()) {
        *current = now;
    }
}

struct Handler {
    /// The flag the current run watches; replaced by each `install` (one handler per process).
    flag: std::sync::Mutex<StopFlag>,
    signals: AtomicU32,
    /// What the first signal says; set by `install` and [`stopping`].
    stopping: std::sync::Mutex<Stopping>,
}

static HANDLER: OnceLock<Handler> = OnceLock::new();

/// Watch for Ctrl-C on behalf of a run: returns the flag that the first signal raises. The
/// process-wide handler is installed on the first call; later calls (more runs in one process,
/// as in tests) get a fresh flag and a reset count.
/// `what`: what the run does, which the first signal says.
pub(crate) fn install(what: Stopping) -> anyhow::Result<StopFlag> {
    let flag = StopFlag::new();
    let mut first_install = false;
    let handler = HANDLER.get_or_init(|| {
        first_install = true;
        Handler {
            flag: std::sync::Mutex::new(flag.clone()),
            signals: AtomicU32::new(0),
            stopping: std::sync::Mutex::new(what),
        }
    });
    if first_install {
        ctrlc::set_handler(on_signal)
            .map_err(|e| anyhow::anyhow!("cannot watch for Ctrl-C: {e}"))?;
    } else {
        if let Ok(mut current) = handler.flag.lock() {
            *current = flag.clone();
        }
        handler.signals.store(0, Ordering::SeqCst);
        if let Ok(mut current) = handler.stopping.lock() {
            *current = what;
        }
    }
    Ok(flag)
}

fn on_signal() {
    let Some(handler) = HANDLER.get() else {
        return;
    };
    let count = handler.signals.fetch_add(1, Ordering::SeqCst) + 1;
    if count == 1 {
        if let Ok(flag) = handler.flag.lock() {
            flag.raise();
        }
        let what = handler
            .stopping
            .lock()
            .map_or(Stopping::Send { checkpoint: false }, |s| *s);
        crate::report::messages::record!("\ncio-replay: {}", what.text());
    } else {
        crate::report::messages::record!("\ncio-replay: interrupted again: quitting at once");
        std::process::exit(i32::from(Exit::Interrupted.code()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flag_is_shared_by_its_clones() {
        let flag = StopFlag::new();
        let seen = flag.clone();
        assert!(!seen.is_raised());
        flag.raise();
        assert!(seen.is_raised());
        assert!(flag.as_atomic().load(Ordering::SeqCst));
    }

    #[test]
    fn install_twice_gives_a_fresh_flag_and_the_signal_raises_the_latest() {
        let first = install(Stopping::Send { checkpoint: true }).unwrap();
        let second = install(Stopping::Send { checkpoint: true }).unwrap();
        on_signal();
        assert!(second.is_raised());
        assert!(
            !first.is_raised(),
            "the earlier run's flag is no longer watched"
        );
        // Reset for any later test in this process.
        let third = install(Stopping::Send { checkpoint: true }).unwrap();
        assert!(!third.is_raised());
    }

    #[test]
    fn every_stop_message_fits_80_columns() {
        let all = [
            Stopping::PreScan,
            Stopping::Send { checkpoint: true },
            Stopping::Send { checkpoint: false },
            Stopping::Gdpr { checkpoint: true },
            Stopping::Gdpr { checkpoint: false },
        ];
        for what in all {
            let text = format!("cio-replay: {}", what.text());
            for line in text.lines() {
                assert!(line.chars().count() <= 80, "{line:?}");
            }
        }
        assert!(
            !Stopping::Send { checkpoint: false }
                .text()
                .contains("checkpoint stays")
        );
    }
}
