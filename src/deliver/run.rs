//! The delivery loop: read work in input order, settle what needs no request, hand operations to
//! their lanes in chunks (spans for operations touching several lanes), and report settlements and
//! watermarks.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::time::{Duration, Instant};

use super::lanes::{self, Assignment, Owners};
use super::rate::RateLimiter;
use super::shared::{LaneCounters, Prepared, Shared};
use super::transport::Transport;
use super::watermarks::Watermarks;
use super::worker::{LaneMsg, Latch, run_lane};
use super::{Delivered, DeliverySettings, DeliveryStats, Hooks, Settled, Settlement, is_set};
use crate::map::Outcome;
use crate::stream::Work;

/// Deliver every item: mapped operations are sent, skipped and invalid records are settled at once.
/// Stops reading when `stop` is raised (requests in flight finish, retries included; operations
/// queued but not yet sent stay unsettled) or when the API refuses the credentials (see
/// [`Delivered::halted`]). Every record read is either settled (reported to
/// `hooks.on_record`) or counted in `stats.unsent`.
pub(crate) fn deliver(
    items: impl Iterator<Item = impl Into<Work>>,
    settings: &DeliverySettings,
    transport: &dyn Transport,
    hooks: &mut dyn Hooks,
    stop: &AtomicBool,
) -> anyhow::Result<Delivered> {
    let started = Instant::now();
    let shared = Shared {
        transport,
        rate: RateLimiter::new(settings.rate),
        retries: settings.retries,
        limits: settings.limits,
        linger: settings.linger,
        counters: LaneCounters::default(),
        abort: AtomicBool::new(false),
        stop,
        halt: Mutex::new(None),
        owners: Owners::new(settings.lanes()),
    };
    let lane_count = settings.lanes();
    let mut state = State {
        watermarks: Watermarks::new(),
        stats: DeliveryStats::default(),
        mode: settings.mode,
    };
    let mut read_to_end = false;
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let (out_tx, out_rx) = mpsc::channel::<Vec<Settlement>>();
        let mut senders: Vec<SyncSender<LaneMsg>> = Vec::with_capacity(lane_count);
        for n in 0..lane_count {
            let (tx, rx) = mpsc::sync_channel(LANE_QUEUE);
            let out = out_tx.clone();
            let shared = &shared;
            std::thread::Builder::new()
                .name(format!("lane-{n}"))
                .spawn_scoped(scope, move || run_lane(shared, n, rx, out))?;
            senders.push(tx);
        }
        drop(out_tx);
        let mut lanes = Chunks::new(
            senders,
            &shared.owners,
            settings.limits.size,
            settings.linger,
        );
        let mut items = items;
        for n in 0usize.. {
            // Check before taking the next item, so that no record is read and then dropped.
            if is_set(stop) || shared.abort.load(Ordering::SeqCst) {
                break;
            }
            let Some(item) = items.next() else {
                read_to_end = true;
                break;
            };
            state.take(item.into(), &mut lanes, hooks, &shared)?;
            lanes.flush_if_lingering()?;
            if n % 64 == 0 {
                lanes.pump()?;
                state.drain(&out_rx, hooks, &shared);
            }
            // Past the backlog's budget: wait for the lanes (settling what comes back meanwhile).
            while lanes.backlog_full() && !is_set(stop) && !shared.abort.load(Ordering::SeqCst) {
                state.wait_for_lanes(&mut lanes, &out_rx, hooks, &shared)?;
            }
        }
        lanes.flush_all()?;
        while lanes.backlogged() && !is_set(stop) && !shared.abort.load(Ordering::SeqCst) {
            state.wait_for_lanes(&mut lanes, &out_rx, hooks, &shared)?;
        }
        // Stopped with a backlog: its operations stay unsettled (counted as unsent).
        drop(lanes);
        while let Ok(batch) = out_rx.recv() {
            state.apply(batch, hooks, &shared);
        }
        Ok(())
    })?;
    state.stats.unsent = state.watermarks.unsettled() as u64;
    state.refresh(&shared);
    hooks.on_tick(&state.stats);
    let halted = shared.halt.lock().ok().and_then(|h| h.clone());
    // A stop counts whenever it left work undone, also after the last record was read (queued
    // batches, a batch waiting out a Retry-After).
    let stopped_early = is_set(stop) && (!read_to_end || state.stats.unsent > 0);
    Ok(Delivered {
        stats: state.stats,
        elapsed: started.elapsed(),
        halted,
        stopped_early,
        read_to_end,
        limit_reached: None,
        cut_short: false,
        watermarks: state.watermarks.watermarks(),
        coverage: state.watermarks.coverage(),
    })
}

struct State {
    watermarks: Watermarks,
    stats: DeliveryStats,
    mode: crate::track::Mode,
}

impl State {
    fn take(
        &mut self,
        item: Work,
        lanes: &mut Chunks<'_>,
        hooks: &mut dyn Hooks,
        shared: &Shared<'_>,
    ) -> anyhow::Result<()> {
        let Work {
            record: info,
            outcome,
        } = item;
        self.stats.records += 1;
        self.watermarks.open(info.input, info.index);
        let (action, result) = match outcome {
            Outcome::Mapped(op) => {
                let endpoint = op.endpoint(self.mode);
                let keys = lanes::key_hashes(&op.body);
                let action = op.action;
                hooks.on_handed(&info, action);
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
                    Assignment::Lane(n) => lanes.push(n, prepared)?,
                    Assignment::Span(spanned) => lanes.span(&spanned, prepared)?,
                }
                return Ok(());
            }
            Outcome::Skipped { action, reason } => (action, Settled::Skipped { reason }),
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

    /// Hand the lanes what their queues now take, and settle what came back; wait a little when
    /// nothing moved.
    fn wait_for_lanes(
        &mut self,
        lanes: &mut Chunks<'_>,
        out_rx: &Receiver<Vec<Settlement>>,
        hooks: &mut dyn Hooks,
        shared: &Shared<'_>,
    ) -> anyhow::Result<()> {
        if !lanes.pump()?
            && let Ok(batch) = out_rx.recv_timeout(Duration::from_millis(5))
        {
            self.apply(batch, hooks, shared);
        }
        self.drain(out_rx, hooks, shared);
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
            self.watermarks.settle(s.record.input, s.record.index);
        }
        let moved = self.watermarks.advanced();
        if !moved.is_empty() {
            hooks.on_settled(&moved);
        }
        hooks.on_progress(&self.watermarks);
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

/// Messages a lane's queue holds (each a chunk of up to a batch); more wait in the backlog.
const LANE_QUEUE: usize = 2;

/// The most the backlogs hold (operation bodies and record texts), over all lanes, before the
/// reader waits for the lanes.
const BACKLOG_BYTES: usize = 8 << 20;

/// The lanes' queues, with the operations not yet handed over: each lane gets its operations in
/// chunks of up to a batch, so that the reader and the lanes synchronise once per chunk, not once
/// per operation. A chunk goes when it is full, before a span message to its lane (order), when
/// the oldest chunk has waited `linger`, and at the end. `linger` is checked as records arrive: if
/// the input itself stalls (a slow pipe), a partial chunk waits for the next record or the end.
///
/// The reader waits for a busy lane whose queue is full (so that it routes each operation only
/// shortly before a lane can take it), but not for a *waiting* one (it waits out a retry, or for
/// a span): that lane's messages go to a backlog, in order, while the reader goes on feeding the
/// other lanes; only when the backlogs hold [`BACKLOG_BYTES`] does the reader wait for them, so
/// memory stays bounded.
struct Chunks<'a> {
    senders: Vec<SyncSender<LaneMsg>>,
    owners: &'a Owners,
    chunks: Vec<Vec<Prepared>>,
    size: usize,
    linger: Duration,
    /// When the oldest operation still held here was added.
    oldest: Option<Instant>,
    backlog: Vec<VecDeque<LaneMsg>>,
    backlog_bytes: usize,
}

/// The memory a message holds, as the backlog's budget counts it.
fn message_bytes(msg: &LaneMsg) -> usize {
    let op = |p: &Prepared| p.bytes.len() + p.info.original.len() + 64;
    match msg {
        LaneMsg::Ops(ops) => ops.iter().map(op).sum(),
        LaneMsg::Hold { keys, .. } => keys.len() * 8 + 64,
        LaneMsg::Lead { op: p, .. } => op(p),
    }
}

impl<'a> Chunks<'a> {
    fn new(
        senders: Vec<SyncSender<LaneMsg>>,
        owners: &'a Owners,
        batch_size: usize,
        linger: Duration,
    ) -> Chunks<'a> {
        let chunks = senders.iter().map(|_| Vec::new()).collect();
        let backlog = senders.iter().map(|_| VecDeque::new()).collect();
        Chunks {
            senders,
            owners,
            chunks,
            size: batch_size.clamp(1, 100),
            linger,
            oldest: None,
            backlog,
            backlog_bytes: 0,
        }
    }

    fn len(&self) -> usize {
        self.senders.len()
    }

    /// Hand `msg` to lane `n`, behind its backlog: wait while its queue is full, unless the lane
    /// is waiting (then into the backlog).
    fn send(&mut self, n: usize, msg: LaneMsg) -> anyhow::Result<()> {
        if !self.backlog[n].is_empty() {
            self.pump_lane(n)?;
        }
        if !self.backlog[n].is_empty() {
            self.queue(n, msg);
            return Ok(());
        }
        let mut msg = msg;
        loop {
            match self.senders[n].try_send(msg) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Full(back)) if self.owners.is_waiting(n) => {
                    self.queue(n, back);
                    return Ok(());
                }
                Err(TrySendError::Full(back)) => {
                    msg = back;
                    std::thread::sleep(Duration::from_micros(200));
                }
                Err(TrySendError::Disconnected(_)) => return Err(lane_stopped(n)),
            }
        }
    }

    fn queue(&mut self, n: usize, msg: LaneMsg) {
        self.backlog_bytes += message_bytes(&msg);
        self.backlog[n].push_back(msg);
    }

    /// Move backlogged messages into the queues that take them; whether any moved.
    fn pump(&mut self) -> anyhow::Result<bool> {
        let mut moved = false;
        for n in 0..self.len() {
            moved |= self.pump_lane(n)?;
        }
        Ok(moved)
    }

    fn pump_lane(&mut self, n: usize) -> anyhow::Result<bool> {
        let mut moved = false;
        while let Some(msg) = self.backlog[n].pop_front() {
            let bytes = message_bytes(&msg);
            match self.senders[n].try_send(msg) {
                Ok(()) => {
                    self.backlog_bytes -= bytes;
                    moved = true;
                }
                Err(TrySendError::Full(msg)) => {
                    self.backlog[n].push_front(msg);
                    break;
                }
                Err(TrySendError::Disconnected(_)) => return Err(lane_stopped(n)),
            }
        }
        Ok(moved)
    }

    fn backlogged(&self) -> bool {
        self.backlog.iter().any(|b| !b.is_empty())
    }

    fn backlog_full(&self) -> bool {
        self.backlog_bytes > BACKLOG_BYTES
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
        self.pump().map(drop)
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
        // Span messages wait in the backlog like any other message, in order per lane.
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

impl Drop for Chunks<'_> {
    /// What is still in the backlog is not sent (a stop or a halt): its operations stay
    /// unsettled, and its span messages release their latches.
    fn drop(&mut self) {
        for backlog in &mut self.backlog {
            for msg in backlog.drain(..) {
                msg.abandon();
            }
        }
    }
}

fn lane_stopped(n: usize) -> anyhow::Error {
    anyhow::anyhow!("internal error: lane {n} stopped unexpectedly")
}
