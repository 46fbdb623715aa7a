//! Packing serialized operations into `/api/v2/batch` bodies: by exact byte size (envelope and
//! commas included) and by count. [`Packer`] is the one packing rule: the lanes follow it when they
//! send, and the dry-run estimate ([`crate::report::summary::RequestPlan`]) follows it when it counts.

use crate::track::Endpoint;
use crate::track::limits::{
    DEFAULT_BATCH_BYTES, DEFAULT_BATCH_SIZE, MAX_BATCH_BYTES, MAX_OPERATION_BYTES,
};

/// `{"batch":[`
const OPEN: &[u8] = b"{\"batch\":[";
/// `]}`
const CLOSE: &[u8] = b"]}";

/// How big one batch request may get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BatchLimits {
    /// Most bytes in one request body (≤ 500,000).
    pub bytes: usize,
    /// Most operations in one request.
    pub size: usize,
}

/// Why batch limits are unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum LimitError {
    #[error("--batch-bytes {0} is above the Track API's 500000-byte limit for one batch request")]
    TooManyBytes(usize),
    #[error(
        "--batch-bytes {0} leaves no room for even one operation (use at least {MIN_BATCH_BYTES})"
    )]
    TooFewBytes(usize),
    #[error("--batch-size must be at least 1")]
    ZeroSize,
}

/// The smallest `--batch-bytes` accepted.
pub(crate) const MIN_BATCH_BYTES: usize = 1000;

impl BatchLimits {
    /// `send`'s defaults (`--batch-bytes`, `--batch-size`).
    pub(crate) const DEFAULT: BatchLimits = BatchLimits {
        bytes: DEFAULT_BATCH_BYTES,
        size: DEFAULT_BATCH_SIZE,
    };

    /// Check `--batch-bytes` and `--batch-size`: the one check of `send`, `gdpr` and `dry-run`.
    pub(crate) fn new(bytes: usize, size: usize) -> Result<BatchLimits, LimitError> {
        if bytes > MAX_BATCH_BYTES {
            return Err(LimitError::TooManyBytes(bytes));
        }
        if bytes < MIN_BATCH_BYTES {
            return Err(LimitError::TooFewBytes(bytes));
        }
        if size == 0 {
            return Err(LimitError::ZeroSize);
        }
        Ok(BatchLimits { bytes, size })
    }

    /// Whether one operation of `len` bytes can be sent at all (alone in a batch, and under the
    /// per-operation limit).
    pub(crate) fn fits_alone(&self, len: usize) -> bool {
        len <= MAX_OPERATION_BYTES && body_len(1, len) <= self.bytes
    }

    /// Whether an operation of `len` bytes to `endpoint` can be sent at all: a batch operation
    /// must fit alone in a batch, any other one must be under the per-operation limit.
    pub(crate) fn sendable(&self, endpoint: Endpoint, len: usize) -> bool {
        match endpoint {
            Endpoint::Batch => self.fits_alone(len),
            Endpoint::Entity | Endpoint::Metrics => len <= MAX_OPERATION_BYTES,
        }
    }
}

/// The exact size of a batch body holding `count` operations of `total` bytes together.
pub(crate) fn body_len(count: usize, total: usize) -> usize {
    OPEN.len() + total + count.saturating_sub(1) + CLOSE.len()
}

/// Build `{"batch":[op,op,...]}` from serialized operations.
pub(crate) fn body<'a>(ops: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    out.extend_from_slice(OPEN);
    for (i, op) in ops.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(op);
    }
    out.extend_from_slice(CLOSE);
    out
}

/// The running size of a batch being filled.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Fill {
    pub count: usize,
    pub bytes: usize,
}

impl Fill {
    /// Whether an operation of `len` bytes still fits.
    pub(crate) fn admits(&self, limits: &BatchLimits, len: usize) -> bool {
        self.count < limits.size && body_len(self.count + 1, self.bytes + len) <= limits.bytes
    }

    pub(crate) fn add(&mut self, len: usize) {
        self.count += 1;
        self.bytes += len;
    }

    /// Whether no further operation could fit (the batch should go now).
    pub(crate) fn is_full(&self, limits: &BatchLimits) -> bool {
        self.count >= limits.size || body_len(self.count + 1, self.bytes + 2) > limits.bytes
    }
}

/// Where [`Packer::place`] puts one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// It can never be sent ([`BatchLimits::sendable`]): it is refused, and the open batch stays.
    Refused,
    /// Alone to its own endpoint: a metric, or any operation in sequential mode.
    Alone,
    /// Into the open batch.
    Batch,
}

/// What [`Packer::place`] decided for one operation. A request is sent for each of `send_before`,
/// `Place::Alone` and `send_after`, in that order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Placement {
    /// The open batch goes first, with a body of this many bytes: it cannot take the operation,
    /// or the operation goes alone and touches one of the batch's entities (their order).
    pub(crate) send_before: Option<usize>,
    pub(crate) place: Place,
    /// The open batch, now holding the operation, goes at once, with a body of this many bytes:
    /// no further operation could join it.
    pub(crate) send_after: Option<usize>,
}

/// One lane's open batch as the packing rule sees it: how full it is and which entities (key
/// hashes, [`super::lanes::key_hashes`]) its operations touch. The lanes keep the operations
/// themselves next to it; the estimate keeps only this.
#[derive(Debug, Clone, Default)]
pub(crate) struct Packer {
    fill: Fill,
    /// In the order added, repeats kept: only looked through for a metric or a span.
    keys: Vec<u64>,
}

impl Packer {
    /// Place one operation of `len` bytes to `endpoint`, touching the entities `keys`: refuse it,
    /// send it alone, or add it to the open batch, closing the open batch before or after as
    /// the rule says. The packer's own state follows (a closed batch is forgotten).
    pub(crate) fn place(
        &mut self,
        limits: &BatchLimits,
        endpoint: Endpoint,
        len: usize,
        keys: &[u64],
    ) -> Placement {
        if !limits.sendable(endpoint, len) {
            return Placement {
                send_before: None,
                place: Place::Refused,
                send_after: None,
            };
        }
        if endpoint != Endpoint::Batch {
            let send_before = if self.touches(keys) {
                self.close()
            } else {
                None
            };
            return Placement {
                send_before,
                place: Place::Alone,
                send_after: None,
            };
        }
        let send_before = if self.fill.admits(limits, len) {
            None
        } else {
            self.close()
        };
        self.add(len, keys);
        let send_after = if self.fill.is_full(limits) {
            self.close()
        } else {
            None
        };
        Placement {
            send_before,
            place: Place::Batch,
            send_after,
        }
    }

    /// Whether the open batch holds an operation for one of `keys`.
    pub(crate) fn touches(&self, keys: &[u64]) -> bool {
        keys.iter().any(|k| self.keys.contains(k))
    }

    /// Whether an operation of `len` bytes still fits in the open batch.
    pub(crate) fn admits(&self, limits: &BatchLimits, len: usize) -> bool {
        self.fill.admits(limits, len)
    }

    /// Add an operation to the open batch without asking (a span's lead, which checked).
    pub(crate) fn add(&mut self, len: usize, keys: &[u64]) {
        self.fill.add(len);
        self.keys.extend(keys.iter().copied());
    }

    /// Close the open batch: the size of its body, or `None` when it holds nothing.
    pub(crate) fn close(&mut self) -> Option<usize> {
        if self.fill.count == 0 {
            return None;
        }
        let len = body_len(self.fill.count, self.fill.bytes);
        self.fill = Fill::default();
        self.keys.clear();
        Some(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_len_is_exact() {
        let ops: Vec<&[u8]> = vec![b"{\"a\":1}", b"{}", b"{\"bb\":[]}"];
        let total = ops.iter().map(|o| o.len()).sum();
        assert_eq!(body(ops.clone()).len(), body_len(3, total));
        assert_eq!(body(Vec::<&[u8]>::new()), b"{\"batch\":[]}");
        assert_eq!(body(vec![&b"{}"[..]]).len(), body_len(1, 2));
    }

    #[test]
    fn limits_are_checked() {
        assert_eq!(
            BatchLimits::new(500_001, 10),
            Err(LimitError::TooManyBytes(500_001))
        );
        assert!(BatchLimits::new(500_000, 10).is_ok());
        assert_eq!(BatchLimits::new(475_000, 0), Err(LimitError::ZeroSize));
        let l = BatchLimits::new(475_000, 100).unwrap_or(BatchLimits { bytes: 1, size: 1 });
        assert!(l.fits_alone(32_000));
        assert!(!l.fits_alone(32_001));
    }

    #[test]
    fn fill_respects_both_limits() {
        let l = BatchLimits {
            bytes: 1000,
            size: 3,
        };
        let mut f = Fill::default();
        assert!(f.admits(&l, 987)); // 10 + 987 + 0 + 2 = 999
        assert!(!f.admits(&l, 989));
        f.add(400);
        assert!(f.admits(&l, 587)); // 10 + 987 + 1 + 2 = 1000
        assert!(!f.admits(&l, 588));
        f.add(10);
        f.add(10);
        assert!(!f.admits(&l, 1));
        assert!(f.is_full(&l));
    }

    #[test]
    fn the_packer_closes_a_batch_when_the_next_operation_does_not_fit_or_it_is_full() {
        let l = BatchLimits {
            bytes: 1000,
            size: 3,
        };
        let mut p = Packer::default();
        let batch = |p: &mut Packer, len, keys: &[u64]| p.place(&l, Endpoint::Batch, len, keys);
        // 10 + 400 + 2 = 412, then 10 + 400 + 1 + 500 + 2 = 913.
        assert_eq!(batch(&mut p, 400, &[1]).send_before, None);
        assert_eq!(batch(&mut p, 500, &[2]).send_after, None);
        // 100 more does not fit: the open batch (913 bytes) goes first.
        let third = batch(&mut p, 100, &[3]);
        assert_eq!((third.send_before, third.place), (Some(913), Place::Batch));
        batch(&mut p, 10, &[4]);
        // The third operation fills the batch by count: it goes at once (10 + 120 + 2 + 2).
        let full = batch(&mut p, 10, &[5]);
        assert_eq!((full.send_before, full.send_after), (None, Some(134)));
        assert_eq!(p.close(), None);
        // An operation that could fill the rest exactly, and then nothing fits: sent at once.
        assert_eq!(batch(&mut p, 988, &[6]).send_after, Some(1000));
    }

    #[test]
    fn the_packer_refuses_what_cannot_be_sent_and_sends_metrics_alone() {
        let l = BatchLimits {
            bytes: 5000,
            size: 100,
        };
        let mut p = Packer::default();
        assert_eq!(p.place(&l, Endpoint::Batch, 100, &[1]).place, Place::Batch);
        // Too big for the batch budget alone: refused, the open batch stays.
        let big = p.place(&l, Endpoint::Batch, 4989, &[1]);
        assert_eq!((big.send_before, big.place), (None, Place::Refused));
        // Under the per-operation limit, a non-batch operation of that size is sendable.
        let entity = p.place(&l, Endpoint::Entity, 4989, &[9]);
        assert_eq!((entity.send_before, entity.place), (None, Place::Alone));
        let huge = p.place(&l, Endpoint::Metrics, MAX_OPERATION_BYTES + 1, &[9]);
        assert_eq!(huge.place, Place::Refused);
        // A metric of an entity in the open batch sends the batch first (order).
        let metric = p.place(&l, Endpoint::Metrics, 50, &[1]);
        assert_eq!(
            (metric.send_before, metric.place),
            (Some(112), Place::Alone)
        );
        assert!(!p.touches(&[1]));
        assert_eq!(p.close(), None);
    }
}
