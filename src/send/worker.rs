//! One lane's worker thread: takes operations in order, packs batches, and sends each request
//! through the rate limit with retries, bisecting 400s and reading 207s.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::batch::{self, BatchLimits, Fill};
use super::rate::{RateLimiter, sleep_until};
use super::retry::{self, Verdict};
use super::transport::Transport;
use super::{Halt, RecordInfo, Settled, Settlement};
use crate::exit::Exit;
use crate::track::limits::MAX_OPERATION_BYTES;
use crate::track::{Action, Endpoint};

/// An operation ready to send: serialized once, the same bytes on every attempt.
pub(crate) struct Prepared {
    pub info: RecordInfo,
    pub action: Action,
    pub endpoint: Endpoint,
    pub bytes: Vec<u8>,
}

/// What a lane receives.
pub(crate) enum LaneMsg {
    Op(Prepared),
    /// This lane takes part in a span led by another lane: settle what is pending, count down
    /// `ready`, then wait until `released` (the span's operation is settled).
    Hold {
        ready: Arc<Latch>,
        released: Arc<Latch>,
    },
    /// This lane leads a span: settle what is pending, wait for `ready` (every other lane of the
    /// span has settled its earlier work), send `op` alone, then count down `released`.
    Lead {
        op: Prepared,
        ready: Arc<Latch>,
        released: Arc<Latch>,
    },
}

/// A countdown latch.
pub(crate) struct Latch {
    count: Mutex<usize>,
    zero: Condvar,
}

impl Latch {
    pub fn new(count: usize) -> Arc<Latch> {
        Arc::new(Latch {
            count: Mutex::new(count),
            zero: Condvar::new(),
        })
    }

    fn count_down(&self) {
        let mut count = match self.count.lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        *count = count.saturating_sub(1);
        if *count == 0 {
            self.zero.notify_all();
        }
    }

    fn wait(&self) {
        let mut count = match self.count.lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
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

fn too_big(shared: &Shared<'_>, op: &Prepared) -> bool {
    let len = op.bytes.len();
    if op.endpoint == Endpoint::Batch {
        !shared.limits.fits_alone(len)
    } else {
        len > MAX_OPERATION_BYTES
    }
}

/// Counters every lane adds to.
#[derive(Default)]
pub(crate) struct Counters {
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
    pub counters: Counters,
    /// Raised on 401/403 or a redirect: no lane starts another attempt.
    pub abort: AtomicBool,
    /// The caller's stop flag (Ctrl-C): operations not yet sent are dropped, unsettled.
    pub stop: &'a AtomicBool,
    pub halt: Mutex<Option<Halt>>,
}

fn bump(counter: &AtomicU64, by: u64) {
    counter.fetch_add(by, Ordering::Relaxed);
}

impl Shared<'_> {
    fn halt(&self, exit: Exit, message: String) {
        self.abort.store(true, Ordering::SeqCst);
        if let Ok(mut h) = self.halt.lock() {
            h.get_or_insert(Halt { exit, message });
        }
    }
}

/// Run one lane until its channel closes.
pub(crate) fn run_lane(shared: &Shared<'_>, rx: Receiver<LaneMsg>, out: Sender<Vec<Settlement>>) {
    let mut pending: Vec<Prepared> = Vec::new();
    let mut fill = Fill::default();
    let stopping = || shared.stop.load(Ordering::Relaxed);
    let flush = |pending: &mut Vec<Prepared>, fill: &mut Fill| {
        if !pending.is_empty() {
            let ops = std::mem::take(pending);
            *fill = Fill::default();
            if !stopping() {
                let _ = out.send(send(shared, ops));
            }
        }
    };
    loop {
        let msg = if pending.is_empty() {
            match rx.recv() {
                Ok(m) => m,
                Err(_) => break,
            }
        } else {
            match rx.recv_timeout(shared.linger) {
                Ok(m) => m,
                Err(RecvTimeoutError::Timeout) => {
                    flush(&mut pending, &mut fill);
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
        };
        match msg {
            LaneMsg::Hold { ready, released } => {
                flush(&mut pending, &mut fill);
                ready.count_down();
                released.wait();
            }
            LaneMsg::Lead {
                op,
                ready,
                released,
            } => {
                let _release = CountDownOnDrop(released);
                flush(&mut pending, &mut fill);
                ready.wait();
                let settled = if too_big(shared, &op) {
                    vec![oversize(op)]
                } else if stopping() {
                    Vec::new()
                } else {
                    send(shared, vec![op])
                };
                let _ = out.send(settled);
            }
            LaneMsg::Op(_) if stopping() => {}
            LaneMsg::Op(op) => {
                let len = op.bytes.len();
                if too_big(shared, &op) {
                    let _ = out.send(vec![oversize(op)]);
                    continue;
                }
                if op.endpoint != Endpoint::Batch {
                    flush(&mut pending, &mut fill);
                    let _ = out.send(send(shared, vec![op]));
                    continue;
                }
                if !fill.admits(&shared.limits, len) {
                    flush(&mut pending, &mut fill);
                }
                fill.add(len);
                pending.push(op);
                if fill.is_full(&shared.limits) {
                    flush(&mut pending, &mut fill);
                }
            }
        }
    }
    flush(&mut pending, &mut fill);
}

fn oversize(op: Prepared) -> Settlement {
    let reason = format!(
        "operation is {} bytes, above the Track API's {MAX_OPERATION_BYTES}-byte limit for one \
         operation (or the --batch-bytes budget); shorten its attributes",
        op.bytes.len()
    );
    Settlement {
        record: op.info,
        action: Some(op.action),
        result: Settled::Rejected {
            status: None,
            reason,
        },
    }
}

fn settle_all(ops: Vec<Prepared>, result: &Settled) -> Vec<Settlement> {
    ops.into_iter()
        .map(|op| Settlement {
            record: op.info,
            action: Some(op.action),
            result: result.clone(),
        })
        .collect()
}

/// Send `ops` as one request (a batch, or a single operation on its own endpoint), with retries,
/// bisection of whole-batch 400s and 207 handling. Operations left unsent by a halt are dropped
/// from the result (they stay unsettled in the ledger).
fn send(shared: &Shared<'_>, mut ops: Vec<Prepared>) -> Vec<Settlement> {
    let endpoint = match ops.as_slice() {
        [one] if one.endpoint != Endpoint::Batch => one.endpoint,
        _ => Endpoint::Batch,
    };
    let is_batch = endpoint == Endpoint::Batch;
    let body: Vec<u8> = if is_batch {
        batch::body(ops.iter().map(|op| op.bytes.as_slice()))
    } else {
        std::mem::take(&mut ops[0].bytes)
    };
    let mut attempt: u32 = 0;
    loop {
        if !shared.rate.acquire(&shared.abort) {
            return Vec::new();
        }
        bump(&shared.counters.requests, 1);
        bump(&shared.counters.bytes_sent, body.len() as u64);
        let (status, text, retry_after, failure) = match shared.transport.post(endpoint, &body) {
            Ok(reply) => (Some(reply.status), reply.body, reply.retry_after, None),
            Err(e) => (None, String::new(), None, Some(e.to_string())),
        };
        let verdict = match status {
            Some(s) => retry::classify(s, is_batch, ops.len()),
            None => Verdict::Retry,
        };
        if status == Some(429) {
            bump(&shared.counters.throttled, 1);
        }
        let reason = || match (status, &failure) {
            (_, Some(f)) => f.clone(),
            (Some(s), None) => retry::reply_reason(s, &text),
            (None, None) => "no reply".to_string(),
        };
        match verdict {
            Verdict::Accepted => return settle_all(ops, &Settled::Accepted),
            Verdict::Partial => return partial(shared, ops, status.unwrap_or(207), &text),
            Verdict::Retry if attempt < shared.retries => {
                let wait = retry::delay(attempt, retry_after, fastrand::f64());
                attempt += 1;
                bump(&shared.counters.retries, 1);
                if !sleep_until(Instant::now() + wait, &shared.abort) {
                    return Vec::new();
                }
            }
            Verdict::Retry => {
                let reason = format!(
                    "gave up after {} attempt{}: {}",
                    attempt + 1,
                    if attempt == 0 { "" } else { "s" },
                    reason()
                );
                return settle_all(ops, &Settled::Failed { status, reason });
            }
            Verdict::Split => {
                let right = ops.split_off(ops.len() / 2);
                let mut settled = send(shared, ops);
                settled.extend(send(shared, right));
                return settled;
            }
            Verdict::Reject => {
                let result = Settled::Rejected {
                    status,
                    reason: reason(),
                };
                return settle_all(ops, &result);
            }
            Verdict::Auth => {
                shared.halt(
                    Exit::Auth,
                    format!(
                        "Customer.io refused the credentials ({}): check --site-id / CIO_SITE_ID and \
                         the API key, and the region (--region). Stopped; the run can be resumed.",
                        reason()
                    ),
                );
                return Vec::new();
            }
            Verdict::Misconfigured => {
                shared.halt(
                    Exit::Usage,
                    format!(
                        "the endpoint answered {} to {}: redirects are not followed. Point \
                         --endpoint / --region at the workspace's own Track API host.",
                        reason(),
                        endpoint.path()
                    ),
                );
                return Vec::new();
            }
        }
    }
}

/// A 207: the listed `batch_index` entries are rejected, everything else was accepted.
fn partial(shared: &Shared<'_>, ops: Vec<Prepared>, status: u16, body: &str) -> Vec<Settlement> {
    let mut reasons: Vec<Option<String>> = vec![None; ops.len()];
    for entry in retry::parse_errors(body) {
        match entry.batch_index.filter(|i| *i < ops.len()) {
            Some(i) => {
                let r = reasons[i].get_or_insert_with(String::new);
                if !r.is_empty() {
                    r.push_str("; ");
                }
                r.push_str(&entry.message);
            }
            None => bump(&shared.counters.ignored_errors, 1),
        }
    }
    ops.into_iter()
        .zip(reasons)
        .map(|(op, reason)| Settlement {
            record: op.info,
            action: Some(op.action),
            result: match reason {
                None => Settled::Accepted,
                Some(reason) => Settled::Rejected {
                    status: Some(status),
                    reason,
                },
            },
        })
        .collect()
}
