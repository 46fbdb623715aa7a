//! One lane's worker thread: takes operations in order, packs them into batches, holds back the
//! entities of a span led by another lane until that span is settled, and releases each settled
//! operation's entities to the owners (see [`super::lanes`]).

use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Condvar, Mutex};

use super::Settlement;
use super::batch::{Packer, Place};
use super::request::{oversize, send, too_big};
use super::shared::{Prepared, Shared};
use crate::track::Endpoint;

/// What a lane receives.
pub(crate) enum LaneMsg {
    /// Operations for this lane, in input order.
    Ops(Vec<Prepared>),
    /// This lane takes part in a span led by another lane over the entities `keys`: send the
    /// pending batch if it holds one of them, count down `ready`, and send nothing more for them
    /// until `released` (the span's operation is settled).
    Hold {
        keys: Vec<u64>,
        ready: Arc<Latch>,
        released: Arc<Latch>,
    },
    /// This lane leads a span: wait for `ready` (every other lane of the span has settled its
    /// earlier work on the span's entities), send `op`, then count down `released`.
    Lead {
        op: Prepared,
        ready: Arc<Latch>,
        released: Arc<Latch>,
    },
}

impl LaneMsg {
    /// The message will never reach its lane (the run stopped with it in the reader's backlog):
    /// count its latches down as the lane would have, so no other lane waits for it forever.
    pub(crate) fn abandon(self) {
        match self {
            LaneMsg::Ops(_) => {}
            LaneMsg::Hold { ready, .. } => ready.count_down(),
            LaneMsg::Lead { released, .. } => released.count_down(),
        }
    }
}

/// A countdown latch.
pub(crate) struct Latch {
    count: Mutex<usize>,
    zero: Condvar,
}

impl Latch {
    pub(super) fn new(count: usize) -> Arc<Latch> {
        Arc::new(Latch {
            count: Mutex::new(count),
            zero: Condvar::new(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, usize> {
        match self.count.lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn count_down(&self) {
        let mut count = self.lock();
        *count = count.saturating_sub(1);
        if *count == 0 {
            self.zero.notify_all();
        }
    }

    fn is_open(&self) -> bool {
        *self.lock() == 0
    }

    fn wait(&self) {
        let mut count = self.lock();
        while *count > 0 {
            count = match self.zero.wait(count) {
                Ok(c) => c,
                Err(poisoned) => poisoned.into_inner(),
            };
        }
    }
}

/// Counts a latch down when dropped, so a span is released on every path.
struct CountDownOnDrop(Arc<Latch>);

impl Drop for CountDownOnDrop {
    fn drop(&mut self) {
        self.0.count_down();
    }
}

/// One lane's state: its pending batch and the spans of other lanes it holds entities for.
struct Lane<'s, 'a> {
    shared: &'s Shared<'a>,
    /// This lane's number.
    index: usize,
    out: Sender<Vec<Settlement>>,
    pending: Vec<Prepared>,
    /// The packing rule's view of `pending`: its size and the entity-key hashes it touches.
    packer: Packer,
    /// Spans led elsewhere: their entities are not sent here until the latch opens.
    held: Vec<(Vec<u64>, Arc<Latch>)>,
}

impl Lane<'_, '_> {
    fn emit(&self, settled: Vec<Settlement>) {
        if !settled.is_empty() {
            let _ = self.out.send(settled);
        }
    }

    /// Send `ops` as one request, report their settlements and release their entities to
    /// [`Owners`]. An operation left unsettled (a halt or a stop) keeps its entities owned by
    /// this lane, so nothing later of them goes elsewhere.
    fn send(&self, mut ops: Vec<Prepared>) {
        let keys: Vec<(usize, u64, Vec<u64>)> = ops
            .iter_mut()
            .map(|op| (op.info.input, op.info.index, std::mem::take(&mut op.keys)))
            .collect();
        let settled = send(self.shared, self.index, ops);
        if settled.len() == keys.len() {
            for (_, _, k) in &keys {
                self.shared.owners.settle(k);
            }
        } else {
            for (input, index, k) in &keys {
                if settled
                    .iter()
                    .any(|s| s.record.input == *input && s.record.index == *index)
                {
                    self.shared.owners.settle(k);
                }
            }
        }
        self.emit(settled);
    }

    /// Settle an operation that can never be sent.
    fn refuse(&self, op: Prepared) {
        self.shared.owners.settle(&op.keys);
        self.emit(vec![oversize(op)]);
    }

    /// Send the pending batch (dropped unsent when stopping).
    fn flush(&mut self) {
        self.packer.close();
        self.send_pending();
    }

    /// Send the pending batch that the packer has closed already.
    fn send_pending(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let ops = std::mem::take(&mut self.pending);
        if !self.shared.stopping() {
            self.send(ops);
        }
    }

    fn pending_touches(&self, keys: &[u64]) -> bool {
        self.packer.touches(keys)
    }

    /// Wait until every span held here over one of `keys` is settled (marked as waiting meanwhile).
    fn wait_held(&mut self, keys: &[u64]) {
        self.held.retain(|(_, latch)| !latch.is_open());
        for (held, latch) in &self.held {
            if held.iter().any(|k| keys.contains(k)) && !latch.is_open() {
                let _waiting = self.shared.owners.waiting(self.index);
                latch.wait();
            }
        }
    }

    fn op(&mut self, op: Prepared) {
        if self.shared.stopping() {
            return;
        }
        self.wait_held(&op.keys);
        // A metric (or a sequential operation) goes alone to its endpoint; the batch goes first
        // only if it holds one of its entities.
        let placed = self
            .packer
            .place(&self.shared.limits, op.endpoint, op.bytes.len(), &op.keys);
        if placed.send_before.is_some() {
            self.send_pending();
        }
        match placed.place {
            Place::Refused => self.refuse(op),
            Place::Alone => self.send(vec![op]),
            Place::Batch => {
                self.pending.push(op);
                if placed.send_after.is_some() {
                    self.send_pending();
                }
            }
        }
    }

    fn hold(&mut self, keys: Vec<u64>, ready: Arc<Latch>, released: Arc<Latch>) {
        // An earlier span over these entities settles first, so spans keep their input order.
        self.wait_held(&keys);
        if self.pending_touches(&keys) {
            self.flush();
        }
        ready.count_down();
        self.held.push((keys, released));
    }

    fn lead(&mut self, op: Prepared, ready: Arc<Latch>, released: Arc<Latch>) {
        let _release = CountDownOnDrop(released);
        self.wait_held(&op.keys);
        if !ready.is_open() {
            let _waiting = self.shared.owners.waiting(self.index);
            ready.wait();
        }
        if too_big(self.shared, &op) {
            self.refuse(op);
        } else if self.shared.stopping() {
        } else if op.endpoint == Endpoint::Batch
            && self.pending_touches(&op.keys)
            && self.packer.admits(&self.shared.limits, op.bytes.len())
        {
            self.packer.add(op.bytes.len(), &op.keys);
            self.pending.push(op);
            self.flush();
        } else {
            if self.pending_touches(&op.keys) {
                self.flush();
            }
            self.send(vec![op]);
        }
    }
}

/// Run one lane until its channel closes.
pub(crate) fn run_lane(
    shared: &Shared<'_>,
    index: usize,
    rx: Receiver<LaneMsg>,
    out: Sender<Vec<Settlement>>,
) {
    let mut lane = Lane {
        shared,
        index,
        out,
        pending: Vec::new(),
        packer: Packer::default(),
        held: Vec::new(),
    };
    loop {
        let msg = if lane.pending.is_empty() {
            match rx.recv() {
                Ok(m) => m,
                Err(_) => break,
            }
        } else {
            match rx.recv_timeout(shared.linger) {
                Ok(m) => m,
                Err(RecvTimeoutError::Timeout) => {
                    lane.flush();
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
        };
        match msg {
            LaneMsg::Ops(ops) => {
                for op in ops {
                    lane.op(op);
                }
            }
            LaneMsg::Hold {
                keys,
                ready,
                released,
            } => lane.hold(keys, ready, released),
            LaneMsg::Lead {
                op,
                ready,
                released,
            } => lane.lead(op, ready, released),
        }
    }
    lane.flush();
}
