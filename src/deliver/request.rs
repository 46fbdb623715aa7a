//! Sending one request of a lane — a batch, or one operation on its own endpoint — through the
//! rate limit with retries, bisecting whole-batch 400s and reading 207s.

use std::sync::atomic::AtomicU64;
use std::time::Instant;

use super::batch;
use super::rate::sleep_until_any;
use super::retry::{self, Verdict};
use super::shared::{Prepared, Shared};
use super::transport::TransportError;
use super::{Settled, Settlement};
use crate::exit::Exit;
use crate::track::Endpoint;
use crate::track::limits::MAX_OPERATION_BYTES;

fn bump(counter: &AtomicU64, by: u64) {
    counter.fetch_add(by, std::sync::atomic::Ordering::Relaxed);
}

/// Whether `op` can never be sent (above the per-operation limit or the batch byte budget).
pub(crate) fn too_big(shared: &Shared<'_>, op: &Prepared) -> bool {
    !shared.limits.sendable(op.endpoint, op.bytes.len())
}

/// The settlement of an operation too big to send.
pub(crate) fn oversize(op: Prepared) -> Settlement {
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
pub(crate) fn send(shared: &Shared<'_>, lane: usize, mut ops: Vec<Prepared>) -> Vec<Settlement> {
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
    // Set from the first retry until this request is settled: the lane is waiting, and work for
    // other entities goes to other lanes.
    let mut _waiting = None;
    loop {
        if !shared.rate.acquire(&shared.abort) {
            return Vec::new();
        }
        bump(&shared.counters.requests, 1);
        bump(&shared.counters.bytes_sent, body.len() as u64);
        // `unreadable`: a status arrived, its body could not be read.
        let (status, text, retry_after, failure, unreadable) =
            match shared.transport.post(endpoint, &body) {
                Ok(reply) => (
                    Some(reply.status),
                    reply.body,
                    reply.retry_after,
                    None,
                    None,
                ),
                Err(TransportError::Unreadable {
                    status,
                    retry_after,
                    why,
                }) => (Some(status), String::new(), retry_after, None, Some(why)),
                Err(e) => (None, String::new(), None, Some(e.to_string()), None),
            };
        let verdict = match status {
            Some(s) => retry::classify(s, is_batch, ops.len()),
            None => Verdict::Retry,
        };
        if status == Some(429) {
            bump(&shared.counters.throttled, 1);
        }
        // A 207 is only an answer when its body says which operations failed; any other body
        // leaves the outcome unknown: the batch is retried like a 5xx (events de-duplicate by id).
        let mut unknown = None;
        if verdict == Verdict::Partial {
            let s = status.unwrap_or(207);
            let listed = match &unreadable {
                Some(why) => Err(why.to_string()),
                None => retry::parse_multi_status(&text).map_err(|e| e.to_string()),
            };
            match listed {
                Ok(errors) => return partial(shared, ops, s, errors),
                Err(why) => unknown = Some(format!("{s} with an unreadable body: {why}")),
            }
        }
        let reason = || match (status, &failure, &unknown, &unreadable) {
            (_, Some(f), ..) => f.clone(),
            (_, None, Some(u), _) => u.clone(),
            (Some(s), None, None, Some(why)) => format!("HTTP {s} with an unreadable body: {why}"),
            (Some(s), None, None, None) => retry::reply_reason(s, &text),
            (None, None, ..) => "no reply".to_string(),
        };
        match verdict {
            Verdict::Accepted => return settle_all(ops, &Settled::Accepted),
            // Here a 207 is one whose body could not be read (a readable one is settled above).
            Verdict::Retry | Verdict::Partial if attempt < shared.retries => {
                let wait = retry::delay(attempt, retry_after, fastrand::f64());
                attempt += 1;
                bump(&shared.counters.retries, 1);
                if _waiting.is_none() {
                    _waiting = shared.owners.waiting(lane);
                }
                // A Ctrl-C ends the wait too: these operations stay unsettled (counted as
                // unsent) and a resume sends them, instead of a clean stop waiting out a long
                // Retry-After.
                if !sleep_until_any(Instant::now() + wait, &[&shared.abort, shared.stop]) {
                    return Vec::new();
                }
            }
            Verdict::Retry | Verdict::Partial => {
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
                let mut settled = send(shared, lane, ops);
                settled.extend(send(shared, lane, right));
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

/// A 207 whose `errors` were read: the listed `batch_index` entries are rejected, everything else
/// was accepted.
fn partial(
    shared: &Shared<'_>,
    ops: Vec<Prepared>,
    status: u16,
    errors: Vec<retry::ServerError>,
) -> Vec<Settlement> {
    let mut reasons: Vec<Option<String>> = vec![None; ops.len()];
    for entry in errors {
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
