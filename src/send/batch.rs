//! Packing serialized operations into `/api/v2/batch` bodies: by exact byte size (envelope and
//! commas included) and by count.

use crate::track::limits::{MAX_BATCH_BYTES, MAX_OPERATION_BYTES};

/// `{"batch":[`
const OPEN: &[u8] = b"{\"batch\":[";
/// `]}`
const CLOSE: &[u8] = b"]}";

/// How big one batch request may get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    /// Most bytes in one request body (≤ 500,000).
    pub bytes: usize,
    /// Most operations in one request.
    pub size: usize,
}

/// Why batch limits are unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error("--batch-bytes {0} is above the Track API's 500000-byte limit for one batch request")]
    TooManyBytes(usize),
    #[error("--batch-bytes {0} leaves no room for even one operation (use at least 1000)")]
    TooFewBytes(usize),
    #[error("--batch-size must be at least 1")]
    ZeroSize,
}

impl BatchLimits {
    pub fn new(bytes: usize, size: usize) -> Result<BatchLimits, LimitError> {
        if bytes > MAX_BATCH_BYTES {
            return Err(LimitError::TooManyBytes(bytes));
        }
        if bytes < 1000 {
            return Err(LimitError::TooFewBytes(bytes));
        }
        if size == 0 {
            return Err(LimitError::ZeroSize);
        }
        Ok(BatchLimits { bytes, size })
    }

    /// Whether one operation of `len` bytes can be sent at all (alone in a batch, and under the
    /// per-operation limit).
    pub fn fits_alone(&self, len: usize) -> bool {
        len <= MAX_OPERATION_BYTES && body_len(1, len) <= self.bytes
    }
}

/// The exact size of a batch body holding `count` operations of `total` bytes together.
pub fn body_len(count: usize, total: usize) -> usize {
    OPEN.len() + total + count.saturating_sub(1) + CLOSE.len()
}

/// Build `{"batch":[op,op,...]}` from serialized operations.
pub fn body<'a>(ops: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
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
pub struct Fill {
    pub count: usize,
    pub bytes: usize,
}

impl Fill {
    /// Whether an operation of `len` bytes still fits.
    pub fn admits(&self, limits: &BatchLimits, len: usize) -> bool {
        self.count < limits.size && body_len(self.count + 1, self.bytes + len) <= limits.bytes
    }

    pub fn add(&mut self, len: usize) {
        self.count += 1;
        self.bytes += len;
    }

    /// Whether no further operation could fit (the batch should go now).
    pub fn is_full(&self, limits: &BatchLimits) -> bool {
        self.count >= limits.size || body_len(self.count + 1, self.bytes + 2) > limits.bytes
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
}
