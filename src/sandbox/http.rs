//! A small HTTP/1.1 server on `std::net` for the sandbox: one thread per connection, deadlines on
//! every read, bodies read under a cap, and the ability to drop a connection without a reply.
//!
//! Why not `tiny_http` (0.12): it sets no socket timeouts (a stalled client holds a thread forever),
//! its body reader's destructor allocates the whole unread `Content-Length` at once (a forged header
//! of a few terabytes aborts the process), and it cannot close a keep-alive connection without
//! answering, which the scripted `"close"` reply needs.

mod wire;

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

pub(super) use wire::reason;
use wire::{
    content_length, expects_continue, find, parse_head, request_length, write_cut_reply,
    write_reply,
};

/// Longest request head (request line and headers).
const MAX_HEAD_BYTES: usize = 16 * 1024;
/// How long a keep-alive connection may sit idle between requests.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the head and the body of one request may take to arrive.
const REQUEST_DEADLINE: Duration = Duration::from_secs(15);
/// How often an idle connection looks at the stop flag.
const POLL: Duration = Duration::from_millis(200);
/// After refusing an oversized body, read and discard at most this much so the client can finish
/// sending and see the answer, then close.
const DRAIN_CAP: u64 = 32 * 1024 * 1024;
const DRAIN_DEADLINE: Duration = Duration::from_secs(5);
/// Bytes asked of the socket at a time.
const READ_CHUNK: usize = 16 * 1024;
/// Connections served at once; more get a 503 and are closed.
const MAX_CONNECTIONS: usize = 512;

/// One request as the handler sees it; the body is borrowed from the connection's buffer.
#[derive(Debug)]
pub(super) struct HttpRequest<'a> {
    pub method: String,
    /// The path without the query string.
    pub path: String,
    /// The query string without the `?` (empty when none), not decoded.
    pub query: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Body<'a>,
}

impl HttpRequest<'_> {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A request body, read under the handler's cap.
#[derive(Debug)]
pub(super) enum Body<'a> {
    Complete(&'a [u8]),
    /// Over the cap; not kept.
    TooLarge,
}

/// What to do with a request.
#[derive(Debug)]
pub(super) enum Reply {
    Send {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: Vec<u8>,
    },
    /// Drop the connection without answering (a simulated reset).
    Close,
    /// Announce the whole body, send its first half, then drop the connection (a reset mid-body).
    Cut {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: Vec<u8>,
    },
}

/// The application behind the server.
pub(super) trait Handler: Send + Sync + 'static {
    /// The largest body accepted for this request; one byte more is [`Body::TooLarge`].
    fn body_cap(&self, method: &str, path: &str) -> usize;
    fn handle(&self, request: HttpRequest<'_>) -> Reply;
    /// A connection ended in the middle of a request (truncated body, timeout, garbage).
    fn incomplete(&self);
}

/// A running server; [`HttpServer::stop`] ends it.
pub(super) struct HttpServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl HttpServer {
    pub(super) fn start(port: u16, handler: Arc<dyn Handler>) -> io::Result<HttpServer> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let accept = thread::Builder::new()
            .name("sandbox-accept".into())
            .spawn(move || accept_loop(listener, handler, flag))?;
        Ok(HttpServer {
            addr,
            stop,
            accept: Some(accept),
        })
    }

    pub(super) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stop accepting; open connections close within a moment.
    pub(super) fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(handle) = self.accept.take() {
            let _ = handle.join();
        }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn accept_loop(listener: TcpListener, handler: Arc<dyn Handler>, stop: Arc<AtomicBool>) {
    let active = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(mut stream) = stream else {
            thread::sleep(Duration::from_millis(10));
            continue;
        };
        if active.load(Ordering::SeqCst) >= MAX_CONNECTIONS {
            let _ = write_reply(&mut stream, 503, &[], b"{}", true);
            continue;
        }
        active.fetch_add(1, Ordering::SeqCst);
        let (handler, stop, count) = (handler.clone(), stop.clone(), active.clone());
        let spawned = thread::Builder::new()
            .name("sandbox-conn".into())
            .spawn(move || {
                let _ = Connection::new(stream).serve(&*handler, &stop);
                count.fetch_sub(1, Ordering::SeqCst);
            });
        if spawned.is_err() {
            active.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Why reading a request stopped.
enum ReadFail {
    /// Clean end between requests, or the server is stopping.
    Done,
    /// EOF or an I/O error in the middle of a request: nobody to answer.
    Broken,
    /// Too slow: answer 408 and close.
    Timeout,
    /// Not HTTP we understand: answer with this status and close.
    Bad(u16),
}

impl From<io::Error> for ReadFail {
    fn from(err: io::Error) -> ReadFail {
        match err.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => ReadFail::Timeout,
            _ => ReadFail::Broken,
        }
    }
}

/// Bytes read from the socket are kept in `buf` (reused for every request, so a body is handed
/// to the handler in place, never copied or freshly allocated); a chunked body is put together
/// in `chunked`, reused likewise.
struct Connection {
    stream: TcpStream,
    buf: Vec<u8>,
    pos: usize,
    chunked: Vec<u8>,
    deadline: Instant,
}

impl Connection {
    fn new(stream: TcpStream) -> Connection {
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_nodelay(true);
        let _ = stream.set_write_timeout(Some(REQUEST_DEADLINE));
        Connection {
            stream,
            buf: Vec::with_capacity(READ_CHUNK),
            pos: 0,
            chunked: Vec::new(),
            deadline: Instant::now() + IDLE_TIMEOUT,
        }
    }

    fn serve(mut self, handler: &dyn Handler, stop: &AtomicBool) -> io::Result<()> {
        loop {
            let request = match self.read_request(handler, stop) {
                Ok(request) => request,
                Err(ReadFail::Done) => return Ok(()),
                Err(ReadFail::Broken) => {
                    handler.incomplete();
                    return Ok(());
                }
                Err(ReadFail::Timeout) => {
                    handler.incomplete();
                    write_reply(&mut self.stream, 408, &[], b"{}", true)?;
                    return self.linger(0);
                }
                Err(ReadFail::Bad(status)) => {
                    handler.incomplete();
                    write_reply(&mut self.stream, status, &[], b"{}", true)?;
                    return self.linger(0);
                }
            };
            let too_large = matches!(request.body, Body::TooLarge);
            let close = too_large
                || stop.load(Ordering::SeqCst)
                || request
                    .header("connection")
                    .is_some_and(|v| v.to_ascii_lowercase().contains("close"));
            let pending = request_length(&request).unwrap_or(0);
            match handler.handle(request) {
                Reply::Close => {
                    let _ = self.stream.shutdown(Shutdown::Both);
                    return Ok(());
                }
                Reply::Cut {
                    status,
                    headers,
                    body,
                } => {
                    write_cut_reply(&mut self.stream, status, &headers, &body)?;
                    let _ = self.stream.shutdown(Shutdown::Both);
                    return Ok(());
                }
                Reply::Send {
                    status,
                    headers,
                    body,
                } => {
                    write_reply(&mut self.stream, status, &headers, &body, close)?;
                }
            }
            if close {
                return self.linger(if too_large { pending } else { 0 });
            }
        }
    }

    /// Finish a connection politely: stop writing, read and discard what the client is still
    /// sending (bounded), then close, so the answer is not lost to a reset.
    fn linger(mut self, pending: u64) -> io::Result<()> {
        let _ = self.stream.shutdown(Shutdown::Write);
        let deadline = Instant::now() + DRAIN_DEADLINE;
        let mut left = pending.clamp(64 * 1024, DRAIN_CAP);
        let mut scratch = [0u8; 16 * 1024];
        while left > 0 {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            let _ = self.stream.set_read_timeout(Some(deadline - now));
            match self.stream.read(&mut scratch) {
                Ok(0) | Err(_) => break,
                Ok(n) => left = left.saturating_sub(n as u64),
            }
        }
        Ok(())
    }

    /// More bytes into the buffer, waiting at most until the deadline.
    fn fill(&mut self) -> Result<(), ReadFail> {
        if self.pos > 0 {
            // What was consumed goes; what is pending moves to the front.
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let now = Instant::now();
        if now >= self.deadline {
            return Err(ReadFail::Timeout);
        }
        self.stream.set_read_timeout(Some(self.deadline - now))?;
        let filled = self.buf.len();
        // Zeroing happens only where the buffer grows beyond what it ever held.
        self.buf.resize(filled + READ_CHUNK, 0);
        let read = self.stream.read(&mut self.buf[filled..]);
        let n = *read.as_ref().unwrap_or(&0);
        self.buf.truncate(filled + n);
        if read? == 0 {
            return Err(ReadFail::Broken);
        }
        Ok(())
    }

    /// Wait for the first byte of the next request, looking at the stop flag now and then.
    fn wait_for_request(&mut self, stop: &AtomicBool) -> Result<(), ReadFail> {
        let idle_until = Instant::now() + IDLE_TIMEOUT;
        while self.pos == self.buf.len() {
            if stop.load(Ordering::SeqCst) || Instant::now() >= idle_until {
                return Err(ReadFail::Done);
            }
            self.deadline = Instant::now() + POLL;
            match self.fill() {
                Ok(()) => {}
                Err(ReadFail::Timeout) => {}
                Err(ReadFail::Broken) => return Err(ReadFail::Done),
                Err(other) => return Err(other),
            }
        }
        Ok(())
    }

    fn read_request(
        &mut self,
        handler: &dyn Handler,
        stop: &AtomicBool,
    ) -> Result<HttpRequest<'_>, ReadFail> {
        self.wait_for_request(stop)?;
        self.deadline = Instant::now() + REQUEST_DEADLINE;
        let head = self.read_head()?;
        let (method, path, query, headers) = parse_head(&head)?;
        let cap = handler.body_cap(&method, &path);
        let chunked = headers.iter().any(|(n, _)| n == "transfer-encoding");
        let body = if chunked {
            match self.read_chunked(cap)? {
                true => Body::Complete(&self.chunked),
                false => Body::TooLarge,
            }
        } else {
            let length = content_length(&headers)?;
            if length > cap as u64 {
                Body::TooLarge
            } else {
                if expects_continue(&headers) && length > 0 {
                    self.stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
                }
                let range = self.take(length as usize)?;
                Body::Complete(&self.buf[range])
            }
        };
        Ok(HttpRequest {
            method,
            path,
            query,
            headers,
            body,
        })
    }

    fn read_head(&mut self) -> Result<Vec<u8>, ReadFail> {
        loop {
            let pending = &self.buf[self.pos..];
            if let Some(end) = find(pending, b"\r\n\r\n") {
                let head = pending[..end].to_vec();
                self.pos += end + 4;
                return Ok(head);
            }
            if pending.len() > MAX_HEAD_BYTES {
                return Err(ReadFail::Bad(431));
            }
            self.fill()?;
        }
    }

    /// Where in `buf` exactly `n` bytes of body are, consumed (the caller checked `n` against
    /// the cap). Valid until the next read.
    fn take(&mut self, n: usize) -> Result<std::ops::Range<usize>, ReadFail> {
        while self.buf.len() - self.pos < n {
            self.fill()?;
        }
        let start = self.pos;
        self.pos += n;
        Ok(start..start + n)
    }

    fn read_line(&mut self) -> Result<String, ReadFail> {
        loop {
            if let Some(end) = find(&self.buf[self.pos..], b"\r\n") {
                let line =
                    String::from_utf8_lossy(&self.buf[self.pos..self.pos + end]).into_owned();
                self.pos += end + 2;
                return Ok(line);
            }
            if self.buf.len() - self.pos > 1024 {
                return Err(ReadFail::Bad(400));
            }
            self.fill()?;
        }
    }

    /// A `Transfer-Encoding: chunked` body into `chunked`, kept only up to `cap` bytes: false
    /// when it is over.
    fn read_chunked(&mut self, cap: usize) -> Result<bool, ReadFail> {
        self.chunked.clear();
        loop {
            let line = self.read_line()?;
            let size = line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size, 16).map_err(|_| ReadFail::Bad(400))?;
            if size == 0 {
                while !self.read_line()?.is_empty() {}
                return Ok(true);
            }
            if self.chunked.len() + size > cap {
                self.chunked.clear();
                return Ok(false);
            }
            let range = self.take(size)?;
            self.chunked.extend_from_slice(&self.buf[range]);
            if !self.read_line()?.is_empty() {
                return Err(ReadFail::Bad(400));
            }
        }
    }
}
