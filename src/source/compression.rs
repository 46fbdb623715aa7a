//! Compression by content: gzip (`1f 8b`) and zstd (`28 b5 2f fd`) are told by their magic bytes on
//! every input, whatever its name, and decoded as a stream; a decoding or read error names the
//! uncompressed byte offset it happened at and how many stored bytes had been read.

use std::io::{self, BufReader, Cursor, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::read::MultiGzDecoder;

/// A readable stream of one input's bytes.
pub(crate) type Stream = Box<dyn Read + Send>;

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];
const BUFFER_BYTES: usize = 64 * 1024;

/// How an input's bytes are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compression {
    None,
    /// One or more gzip members, read one after the other.
    Gzip,
    /// One or more zstd frames, read one after the other.
    Zstd,
}

impl Compression {
    /// The compression whose magic bytes start `head` (`None` when neither does).
    pub(crate) fn of(head: &[u8]) -> Compression {
        if head.starts_with(ZSTD_MAGIC) {
            Compression::Zstd
        } else if head.starts_with(GZIP_MAGIC) {
            Compression::Gzip
        } else {
            Compression::None
        }
    }

    fn name(self) -> &'static str {
        match self {
            Compression::None => "input",
            Compression::Gzip => "gzip data",
            Compression::Zstd => "zstd data",
        }
    }
}

/// The decoded bytes of `stored` (the input as stored, its bytes counted in `stored_read`):
/// compression is told from its first bytes. Every read error is reported with the offsets at which
/// it happened ([`Offsets`]).
pub(crate) fn decoded(
    stored: Stream,
    stored_read: Arc<AtomicU64>,
) -> io::Result<(Compression, Stream)> {
    let (head, stored) = peek(stored, ZSTD_MAGIC.len())?;
    let compression = Compression::of(&head);
    let buffered = BufReader::with_capacity(BUFFER_BYTES, stored);
    let inner: Stream = match compression {
        Compression::None => Box::new(buffered),
        Compression::Gzip => Box::new(MultiGzDecoder::new(buffered)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(buffered)?),
    };
    let stream = Offsets {
        inner,
        compression,
        decoded: 0,
        stored_read,
        failed: false,
    };
    Ok((compression, Box::new(stream)))
}

/// Read up to `n` bytes of `reader` (fewer only at its end) and return them with a stream that
/// reads them again, then the rest.
pub(crate) fn peek(mut reader: Stream, n: usize) -> io::Result<(Vec<u8>, Stream)> {
    let mut head = vec![0u8; n];
    let mut got = 0;
    while got < n {
        match reader.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    head.truncate(got);
    let again: Stream = Box::new(Cursor::new(head.clone()).chain(reader));
    Ok((head, again))
}

/// Counts the decoded bytes handed out and puts the offsets into any error: a truncated or corrupt
/// compressed input is reported where it broke, never taken for its end.
struct Offsets {
    inner: Stream,
    compression: Compression,
    decoded: u64,
    stored_read: Arc<AtomicU64>,
    failed: bool,
}

impl Read for Offsets {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.failed {
            return Ok(0);
        }
        match self.inner.read(buf) {
            Ok(n) => {
                self.decoded += n as u64;
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                self.failed = true;
                Err(io::Error::new(e.kind(), self.describe(&e)))
            }
        }
    }
}

impl Offsets {
    fn describe(&self, error: &io::Error) -> String {
        let stored = self.stored_read.load(Ordering::Relaxed);
        match self.compression {
            Compression::None => format!("{error} at byte {}", self.decoded),
            compressed => {
                let what = if error.kind() == io::ErrorKind::UnexpectedEof
                    || error.to_string().contains("incomplete")
                {
                    "ends early (truncated?)"
                } else {
                    "is corrupt"
                };
                format!(
                    "{} {what}: {error}, at uncompressed byte {} ({stored} compressed bytes read)",
                    compressed.name(),
                    self.decoded
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn decode_all(stored: Vec<u8>) -> (Compression, io::Result<Vec<u8>>) {
        let counter = Arc::new(AtomicU64::new(stored.len() as u64));
        let (compression, mut stream) = decoded(Box::new(Cursor::new(stored)), counter).unwrap();
        let mut out = Vec::new();
        let result = stream.read_to_end(&mut out).map(|_| out);
        (compression, result)
    }

    #[test]
    fn magic_bytes_decide() {
        assert_eq!(Compression::of(&[0x1f, 0x8b, 8, 0]), Compression::Gzip);
        assert_eq!(
            Compression::of(&[0x28, 0xb5, 0x2f, 0xfd]),
            Compression::Zstd
        );
        assert_eq!(Compression::of(&[0x28, 0xb5, 0x2f]), Compression::None);
        assert_eq!(Compression::of(b"{\"a\""), Compression::None);
        assert_eq!(Compression::of(b""), Compression::None);
    }

    #[test]
    fn plain_gzip_multi_member_and_multi_frame_zstd_decode() {
        let (c, out) = decode_all(b"{}\n".to_vec());
        assert_eq!((c, out.unwrap()), (Compression::None, b"{}\n".to_vec()));
        // Short inputs (under the magic's length) are read whole.
        let (c, out) = decode_all(b"x".to_vec());
        assert_eq!((c, out.unwrap()), (Compression::None, b"x".to_vec()));
        let mut two = gzip(b"a\n");
        two.extend(gzip(b"b\n"));
        let (c, out) = decode_all(two);
        assert_eq!((c, out.unwrap()), (Compression::Gzip, b"a\nb\n".to_vec()));
        let mut frames = zstd::encode_all(&b"a\n"[..], 3).unwrap();
        frames.extend(zstd::encode_all(&b"b\n"[..], 3).unwrap());
        let (c, out) = decode_all(frames);
        assert_eq!((c, out.unwrap()), (Compression::Zstd, b"a\nb\n".to_vec()));
    }

    #[test]
    fn truncated_input_is_an_error_with_offsets() {
        let data: Vec<u8> = (0..20_000)
            .flat_map(|i| format!("{{\"n\":{i}}}\n").into_bytes())
            .collect();
        for (stored, name) in [
            (gzip(&data), "gzip data ends early"),
            (
                zstd::encode_all(&data[..], 3).unwrap(),
                "zstd data ends early",
            ),
        ] {
            let cut = stored[..stored.len() / 2].to_vec();
            let (_, result) = decode_all(cut);
            let message = result.unwrap_err().to_string();
            assert!(message.starts_with(name), "{message}");
            assert!(message.contains("at uncompressed byte "), "{message}");
            assert!(message.contains("compressed bytes read"), "{message}");
        }
    }

    #[test]
    fn corrupt_gzip_is_an_error() {
        let mut stored = gzip(b"{\"a\":1}\n");
        let n = stored.len();
        stored[n - 6] ^= 0xff; // the CRC
        let (_, result) = decode_all(stored);
        let message = result.unwrap_err().to_string();
        assert!(message.starts_with("gzip data"), "{message}");
    }
}
