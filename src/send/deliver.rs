//! The delivery loop: read items in input order, settle what needs no request, hand operations to
//! their lanes (barriers for operations spanning lanes), and report settlements and watermarks.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::time::Instant;

use super::lanes::{self, Route};
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
        let mut lanes: Vec<SyncSender<LaneMsg>> = Vec::with_capacity(lane_count);
        for n in 0..lane_count {
            let (tx, rx) = mpsc::sync_channel(settings.limits.size.max(16) * 2);
            let out = out_tx.clone();
            let shared = &shared;
            std::thread::Builder::new()
                .name(format!("lane-{n}"))
                .spawn_scoped(scope, move || run_lane(shared, rx, out))?;
            lanes.push(tx);
        }
        drop(out_tx);
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
            state.take(item, &lanes, hooks, &shared)?;
            if n % 64 == 0 {
                state.drain(&out_rx, hooks, &shared);
            }
        }
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
        lanes: &[SyncSender<LaneMsg>],
        hooks: &mut dyn Hooks,
        shared: &Shared<'_>,
    ) -> anyhow::Result<()> {
        let Item { record, outcome } = item;
        self.stats.records += 1;
        self.ledger.open(record.input, record.index);
        let info = RecordInfo::of(&record);
        drop(record);
        let (action, result) = match outcome {
            Outcome::Mapped(op) => {
                let bytes = serde_json::to_vec(&op.body)?;
                let endpoint = op.endpoint(self.mode);
                let route = lanes::route(&op.body, lanes.len());
                let prepared = Prepared {
                    info,
                    action: op.action,
                    endpoint,
                    bytes,
                };
                self.stats.operations += 1;
                match route {
                    Route::Lane(n) => push(lanes, n, prepared)?,
                    Route::Barrier => span(lanes, &(0..lanes.len()).collect::<Vec<_>>(), prepared)?,
                    Route::Span(spanned) => span(lanes, &spanned, prepared)?,
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

fn push(lanes: &[SyncSender<LaneMsg>], n: usize, op: Prepared) -> anyhow::Result<()> {
    lanes[n]
        .send(LaneMsg::Op(op))
        .map_err(|_| anyhow::anyhow!("internal error: lane {n} stopped unexpectedly"))
}

/// Send `op` on the first of `spanned` lanes once every one of them has settled its earlier work;
/// the others wait until it is settled. The reader does not wait.
fn span(lanes: &[SyncSender<LaneMsg>], spanned: &[usize], op: Prepared) -> anyhow::Result<()> {
    let Some((&lead, others)) = spanned.split_first() else {
        return push(lanes, 0, op);
    };
    let ready = Latch::new(others.len());
    let released = Latch::new(1);
    for &n in others {
        let hold = LaneMsg::Hold {
            ready: ready.clone(),
            released: released.clone(),
        };
        lanes[n]
            .send(hold)
            .map_err(|_| anyhow::anyhow!("internal error: lane {n} stopped unexpectedly"))?;
    }
    let msg = LaneMsg::Lead {
        op,
        ready,
        released,
    };
    lanes[lead]
        .send(msg)
        .map_err(|_| anyhow::anyhow!("internal error: lane {lead} stopped unexpectedly"))
}
