//! A client that speaks raw HTTP/1.1 to a loopback server (the sandbox): one request a
//! connection, the reply as seen on the wire.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use base64::Engine as _;
use cio_replay::sandbox::Sandbox;
use serde_json::{Value, json};

/// A reply as seen on the wire.
#[derive(Debug)]
pub struct Got {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Got {
    /// The body as JSON (`null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// The value of the header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The `Authorization` value of HTTP Basic auth for `user` and `key`.
pub fn basic(user: &str, key: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{key}"));
    format!("Basic {token}")
}

/// The `Authorization` of a default sandbox's Track API (Basic `sandbox:sandbox-key`).
pub fn auth() -> String {
    basic("sandbox", "sandbox-key")
}

/// `POST path` of `body` to `sb`'s Track API with the default credentials ([`auth`]).
pub fn post(sb: &Sandbox, path: &str, body: &Value) -> Got {
    raw(
        &sb.url(),
        "POST",
        path,
        Some(&auth()),
        body.to_string().as_bytes(),
    )
}

/// `POST /api/v2/batch` of `ops` to `sb` with the default credentials ([`auth`]).
pub fn batch(sb: &Sandbox, ops: Vec<Value>) -> Got {
    post(sb, "/api/v2/batch", &json!({ "batch": ops }))
}

/// One request on a fresh connection to `base` (`http://127.0.0.1:PORT`, `Connection: close`),
/// read to the end.
pub fn raw(base: &str, method: &str, path: &str, auth: Option<&str>, body: &[u8]) -> Got {
    let mut stream = TcpStream::connect(base.trim_start_matches("http://")).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: sandbox\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if let Some(auth) = auth {
        head.push_str(&format!("Authorization: {auth}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("write head");
    stream.write_all(body).expect("write body");
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).expect("read reply");
    parse(&reply).expect("an HTTP reply")
}

/// A raw HTTP reply's status line, headers and body.
pub fn parse(reply: &[u8]) -> Option<Got> {
    let text = String::from_utf8_lossy(reply);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    Some(Got {
        status,
        headers,
        body: body.to_string(),
    })
}
