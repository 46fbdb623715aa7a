//! The delivery loop: read items in input order, settle what needs no request, hand operations to
//! their lanes in chunks (spans for operations touching several lanes), and report settlements and
//! watermarks.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::time::{Duration, Instant};

use super::lanes::{self, Owners, Route};
use super::ledger::Ledger;
use super::rate::RateLimiter;
use super::transport::Transport;
use super::worker::{Counters, LaneMsg, Latch, Prepared, Shared, run_lane};
use super::{
    DeliveryReport, DeliverySettings, DeliveryStats, Hooks, RecordInfo, Settled, Settlement, is_set,
};
use crate::mapping::Outcome;
use crate::pipeline::Item;

/// Deliver every item: mapped operations are sent, skipped and invalid records are settled at once.
/// Stops reading when `stop` is raised (requests in flight finish, retries included; operations
/// queued but not yet sent stay unsettled) or when the API refuses the credentials (see
/// [`DeliveryReport::halted`]). Every record read is either settled (reported to
/// `hooks.on_record`) or counted in `stats.unsent`.
pub fn deliver(
    items: impl Iterator<Item = Item>,
    settings: &DeliverySettings,
    transport: &dyn Transport,
    hooks: &mut dyn Hooks,
    stop: &AtomicBool,
) -> anyhow::Result<DeliveryReport> {
    let started = Instant::now();
    let shared = Shared {
        transport,
        rate: RateLimiter::new(settings.rate),
        retries: settings.retries,
        limits: settings.limits,
        linger: settings.linger,
        counters: Counters::default(),
        abort: AtomicBool::new(false),
        stop,
        halt: Mutex::new(None),
        owners: Owners::new(settings.lanes()),
    };
    let lane_count = settings.lanes();
    let mut state = State {
        ledger: Ledger::new(),
        stats: DeliveryStats::default(),
        mode: settings.mode,
    };
    let mut stopped_early = false;
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let (out_tx, out_rx) = mpsc::channel::<Vec<Settlement>>();
        let mut senders: Vec<SyncSender<LaneMsg>> = Vec::with_capacity(lane_count);
        for n in 0..lane_count {
            let (tx, rx) = mpsc::sync_channel(LANE_QUEUE);
            let out = out_tx.clone();
            let shared = &shared;
            std::thread::Builder::new()
                .name(format!("lane-{n}"))
                .spawn_scoped(scope, move || run_lane(shared, rx, out))?;
            senders.push(tx);
        }
        drop(out_tx);
        let mut lanes = Chunks::new(senders, settings.limits.size, settings.linger);
        let mut items = items;
        for n in 0usize.. {
            // Check before taking the next item, so that no record is read and then dropped.
            if is_set(stop) || shared.abort.load(Ordering::SeqCst) {
                stopped_early = is_set(stop);
                break;
            }
            let Some(item) = items.next() else {
                break;
            };
            state.take(item, &mut lanes, hooks, &shared)?;
            lanes.flush_if_lingering()?;
            if n % 64 == 0 {
                state.drain(&out_rx, hooks, &shared);
            }
        }
        lanes.flush_all()?;
        drop(lanes);
        while let Ok(batch) = out_rx.recv() {
            state.apply(batch, hooks, &shared);
        }
        Ok(())
    })?;
    state.stats.unsent = state.ledger.unsettled() as u64;
    state.refresh(&shared);
    hooks.on_tick(&state.stats);
    let halted = shared.halt.lock().ok().and_then(|h| h.clone());
    let watermarks = state.ledger.watermarks();
    Ok(DeliveryReport {
        stats: state.stats,
        elapsed: started.elapsed(),
        halted,
        stopped_early,
        watermarks,
    })
}

struct State {
    ledger: Ledger,
    stats: DeliveryStats,
    mode: crate::track::Mode,
}

impl State {
    fn take(
        &mut self,
        item: Item,
        lanes: &mut Chunks,
        hooks: &mut dyn Hooks,
        shared: &Shared<'_>,
    ) -> anyhow::Result<()> {
        let Item { record, outcome } = item;
        self.stats.records += 1;
        self.ledger.open(record.input, record.index);
        let info = RecordInfo::take(record);
        let (action, result) = match outcome {
            Outcome::Mapped(op) => {
                let endpoint = op.endpoint(self.mode);
                let keys = lanes::key_hashes(&op.body);
                let action = op.action;
                let bytes = op.into_json();
                let route = shared.owners.assign(&keys);
                let prepared = Prepared {
                    info,
                    action,
                    endpoint,
                    bytes,
                    keys,
                };
                self.stats.operations += 1;
                match route {
                    Route::Lane(n) => lanes.push(n, prepared)?,
                    Route::Span(spanned) => lanes.span(&spanned, prepared)?,
                }
                return Ok(());
            }
            Outcome::Skipped { action, reason } => (Some(action), Settled::Skipped { reason }),
            Outcome::Invalid(invalid) => {
                let reason = match &invalid.field {
                    Some(f) if !invalid.message.contains(f.as_str()) => {
                        format!("{f}: {}", invalid.message)
                    }
                    _ => invalid.message.clone(),
                };
                (invalid.action, Settled::Invalid { reason })
            }
        };
        self.apply(
            vec![Settlement {
                record: info,
                action,
                result,
            }],
            hooks,
            shared,
        );
        Ok(())
    }

    fn drain(
        &mut self,
        out_rx: &Receiver<Vec<Settlement>>,
        hooks: &mut dyn Hooks,
        shared: &Shared<'_>,
    ) {
        while let Ok(batch) = out_rx.try_recv() {
            self.apply(batch, hooks, shared);
        }
    }

    fn apply(&mut self, batch: Vec<Settlement>, hooks: &mut dyn Hooks, shared: &Shared<'_>) {
        for s in &batch {
            match &s.result {
                Settled::Accepted => self.stats.accepted += 1,
                Settled::Skipped { .. } => self.stats.skipped += 1,
                Settled::Invalid { .. } => self.stats.invalid += 1,
                Settled::Rejected { .. } => self.stats.rejected += 1,
                Settled::Failed { .. } => self.stats.failed += 1,
            }
            hooks.on_record(s);
            self.ledger.settle(s.record.input, s.record.index);
        }
        let moved = self.ledger.advanced();
        if !moved.is_empty() {
            hooks.on_settled(&moved);
        }
        self.refresh(shared);
        hooks.on_tick(&self.stats);
    }

    fn refresh(&mut self, shared: &Shared<'_>) {
        let c = &shared.counters;
        let get = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        self.stats.requests = get(&c.requests);
        self.stats.retries = get(&c.retries);
        self.stats.throttled = get(&c.throttled);
        self.stats.bytes_sent = get(&c.bytes_sent);
        self.stats.ignored_errors = get(&c.ignored_errors);
    }
}

/// Messages a lane's queue holds before the reader waits (each a chunk of up to a batch).
const LANE_QUEUE: usize = 2;

/// The lanes' queues, with the operations not yet handed over: each lane gets its operations in
/// chunks of up to a batch, so that the reader and the lanes synchronise once per chunk, not once
/// per operation. A chunk goes when it is full, before a span message to its lane (order), when
/// the oldest chunk has waited `linger`, and at the end. `linger` is checked as records arrive: if
/// the input itself stalls (a slow pipe), a partial chunk waits for the next record or the end.
struct Chunks {
    senders: Vec<SyncSender<LaneMsg>>,
    chunks: Vec<Vec<Prepared>>,
    size: usize,
    linger: Duration,
    /// When the oldest operation still held here was added.
    oldest: Option<Instant>,
}

impl Chunks {
    fn new(senders: Vec<SyncSender<LaneMsg>>, batch_size: usize, linger: Duration) -> Chunks {
        let chunks = senders.iter().map(|_| Vec::new()).collect();
        Chunks {
            senders,
            chunks,
            size: batch_size.clamp(1, 100),
            linger,
            oldest: None,
        }
    }

    fn len(&self) -> usize {
        self.senders.len()
    }

    fn send(&self, n: usize, msg: LaneMsg) -> anyhow::Result<()> {
        self.senders[n]
            .send(msg)
            .map_err(|_| anyhow::anyhow!("internal error: lane {n} stopped unexpectedly"))
    }

    fn flush(&mut self, n: usize) -> anyhow::Result<()> {
        if self.chunks[n].is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.chunks[n], Vec::with_capacity(self.size));
        self.send(n, LaneMsg::Ops(chunk))
    }

    fn flush_all(&mut self) -> anyhow::Result<()> {
        for n in 0..self.len() {
            self.flush(n)?;
        }
        self.oldest = None;
        Ok(())
    }

    fn flush_if_lingering(&mut self) -> anyhow::Result<()> {
        match self.oldest {
            Some(t) if t.elapsed() >= self.linger => self.flush_all(),
            _ => Ok(()),
        }
    }

    fn push(&mut self, n: usize, op: Prepared) -> anyhow::Result<()> {
        self.oldest.get_or_insert_with(Instant::now);
        self.chunks[n].push(op);
        if self.chunks[n].len() >= self.size {
            self.flush(n)?;
        }
        Ok(())
    }

    /// Send `op` on the first of `spanned` lanes once every one of them has settled its earlier
    /// work on `op`'s entities; the others hold those entities until it is settled. The reader
    /// does not wait.
    fn span(&mut self, spanned: &[usize], op: Prepared) -> anyhow::Result<()> {
        let Some((&lead, others)) = spanned.split_first() else {
            return self.push(0, op);
        };
        let ready = Latch::new(others.len());
        let released = Latch::new(1);
        for &n in others {
            self.flush(n)?;
            let hold = LaneMsg::Hold {
                keys: op.keys.clone(),
                ready: ready.clone(),
                released: released.clone(),
            };
            self.send(n, hold)?;
        }
        self.flush(lead)?;
        self.send(
            lead,
            LaneMsg::Lead {
                op,
                ready,
                released,
            },
        )
    }
}
