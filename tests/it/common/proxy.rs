//! A recording HTTP proxy on a loopback port: it writes down the head (request line and headers)
//! of every request it is sent, `CONNECT` or not, and answers each with `502 Bad Gateway`. It never
//! forwards anything, so a test can point `http_proxy` / `HTTPS_PROXY` / `ALL_PROXY` at it and ask
//! what would have gone through a proxy.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// The proxy; stopped when dropped.
pub struct RecordingProxy {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl RecordingProxy {
    /// Listen on a free port of 127.0.0.1.
    pub fn start() -> RecordingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (seen, stop) = (Arc::clone(&seen), Arc::clone(&stop));
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(conn) = conn {
                        let seen = Arc::clone(&seen);
                        std::thread::spawn(move || answer(conn, &seen));
                    }
                }
            })
        };
        RecordingProxy {
            port,
            seen,
            stop,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`, for the proxy variables.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The head of every request received so far, in arrival order.
    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// `cmd` with every proxy variable (both cases) pointing at this proxy and `NO_PROXY` unset.
    pub fn apply(&self, cmd: &mut assert_cmd::Command) {
        for var in ["http_proxy", "https_proxy", "all_proxy"] {
            cmd.env(var, self.url())
                .env(var.to_ascii_uppercase(), self.url());
        }
        cmd.env_remove("NO_PROXY").env_remove("no_proxy");
    }
}

/// Read one request head, record it, answer 502 and close.
fn answer(mut conn: TcpStream, seen: &Mutex<Vec<String>>) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 64 * 1024 {
        match conn.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    if !head.is_empty()
        && let Ok(mut s) = seen.lock()
    {
        s.push(String::from_utf8_lossy(&head).into_owned());
    }
    let _ = conn
        .write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    let _ = conn.shutdown(Shutdown::Both);
}

impl Drop for RecordingProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
