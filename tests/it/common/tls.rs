//! A tiny HTTPS server on a loopback port for the certificate tests: TLS with the test CA's server
//! certificate (`fixtures/tls/`, for 127.0.0.1), answering every request `200 {}` and counting them.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The test CA that signed the server's certificate.
pub fn ca_pem() -> std::path::PathBuf {
    super::crate_path("fixtures/tls/ca.pem")
}

/// The server; stopped when dropped.
pub struct TlsServer {
    port: u16,
    served: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TlsServer {
    /// Listen on a free port of 127.0.0.1 with the test certificate.
    pub fn start() -> TlsServer {
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(super::crate_path("fixtures/tls/server.pem"))
                .expect("server.pem")
                .collect::<Result<_, _>>()
                .expect("server.pem certificates");
        let key = PrivateKeyDer::from_pem_file(super::crate_path("fixtures/tls/server.key"))
            .expect("server.key");
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server certificate");
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the TLS server");
        let port = listener.local_addr().expect("address").port();
        let served = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (served, stop) = (Arc::clone(&served), Arc::clone(&stop));
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(conn) = conn {
                        let (config, served) = (Arc::clone(&config), Arc::clone(&served));
                        std::thread::spawn(move || serve(conn, config, &served));
                    }
                }
            })
        };
        TlsServer {
            port,
            served,
            stop,
            thread: Some(thread),
        }
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// Requests answered so far (after a completed handshake).
    pub fn served(&self) -> u64 {
        self.served.load(Ordering::SeqCst)
    }
}

/// Answer requests on one connection until it closes (or the handshake fails).
fn serve(conn: TcpStream, config: Arc<rustls::ServerConfig>, served: &AtomicU64) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let Ok(server) = rustls::ServerConnection::new(config) else {
        return;
    };
    let mut tls = rustls::StreamOwned::new(server, conn);
    loop {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            match tls.read(&mut byte) {
                Ok(1) => head.push(byte[0]),
                _ => return,
            }
        }
        let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(0);
        let mut body = vec![0u8; length];
        if tls.read_exact(&mut body).is_err() {
            return;
        }
        // The data posts; a send's preflight (its region lookup, a GET) is not counted.
        if !head.starts_with("get ") {
            served.fetch_add(1, Ordering::SeqCst);
        }
        let reply =
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
        if tls.write_all(reply).and_then(|()| tls.flush()).is_err() {
            return;
        }
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
