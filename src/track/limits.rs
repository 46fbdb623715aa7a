//! The Track API's documented limits (track-api.md §4, mapping.md §7), in bytes unless named
//! otherwise. The mapper checks them per operation; the sender and the sandbox enforce the request
//! limits.

/// A person or object id (`id`, `object_id` identifiers).
pub(crate) const MAX_ID_BYTES: usize = 150;
/// A track event name.
pub(crate) const MAX_EVENT_NAME_BYTES: usize = 100;
/// An attribute name (person, object, relationship).
pub(crate) const MAX_ATTRIBUTE_NAME_BYTES: usize = 150;
/// A person or object attribute value (a non-string value measured as its compact JSON).
pub(crate) const MAX_ATTRIBUTE_VALUE_BYTES: usize = 1000;
/// Attributes in one identify (and per object or relationship).
pub(crate) const MAX_ATTRIBUTES_PER_IDENTIFY: usize = 300;
/// Event attributes, as compact JSON.
pub(crate) const MAX_EVENT_ATTRIBUTES_BYTES: usize = 100_000;
/// One serialized v2 operation.
pub(crate) const MAX_OPERATION_BYTES: usize = 32_000;
/// One `/api/v2/batch` request body.
pub(crate) const MAX_BATCH_BYTES: usize = 500_000;
/// The default batch budget, with room to spare under [`MAX_BATCH_BYTES`].
pub(crate) const DEFAULT_BATCH_BYTES: usize = 475_000;
/// The default number of operations in one batch request: Customer.io documents no count limit,
/// only the 500 KB a request, and other integrations send 1000; batches are packed by bytes.
pub(crate) const DEFAULT_BATCH_SIZE: usize = 1000;
/// Root timestamps must lie between 1970-01-01 and 9999-12-31T23:59:59Z.
pub(crate) const MAX_UNIX_SECONDS: i64 = 253_402_300_799;
/// A number above this is milliseconds, not seconds.
pub(crate) const MILLISECONDS_THRESHOLD: f64 = 1e11;

/// Counts the bytes written to it.
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The size of `v` as compact JSON, in bytes (written into a counter: no allocation). What the
/// limits above measure a non-string value by.
pub(crate) fn json_bytes(v: &serde_json::Value) -> usize {
    let mut c = Counter(0);
    // Writing into a counter cannot fail.
    let _ = serde_json::to_writer(&mut c, v);
    c.0
}
