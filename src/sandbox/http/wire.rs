//! The HTTP/1.1 wire format the sandbox speaks: request heads in, replies out.

use std::io::{self, Write};
use std::net::TcpStream;

use super::{HttpRequest, ReadFail};

pub(super) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Method, path, query string (without the `?`, empty when none) and headers.
pub(super) type Head = (String, String, String, Vec<(String, String)>);

pub(super) fn parse_head(head: &[u8]) -> Result<Head, ReadFail> {
    let text = std::str::from_utf8(head).map_err(|_| ReadFail::Bad(400))?;
    let mut lines = text.split("\r\n");
    let mut parts = lines.next().unwrap_or("").split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ReadFail::Bad(400));
    };
    if !matches!(version, "HTTP/1.1" | "HTTP/1.0") {
        return Err(ReadFail::Bad(505));
    }
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(ReadFail::Bad(400));
    }
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) = line.split_once(':').ok_or(ReadFail::Bad(400))?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    if version == "HTTP/1.0" && !headers.iter().any(|(n, _)| n == "connection") {
        headers.push(("connection".into(), "close".into()));
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    Ok((
        method.to_string(),
        path.to_string(),
        query.to_string(),
        headers,
    ))
}

pub(super) fn content_length(headers: &[(String, String)]) -> Result<u64, ReadFail> {
    let mut length = None;
    for (_, value) in headers.iter().filter(|(n, _)| n == "content-length") {
        let parsed: u64 = value.parse().map_err(|_| ReadFail::Bad(400))?;
        if length.is_some_and(|l| l != parsed) {
            return Err(ReadFail::Bad(400));
        }
        length = Some(parsed);
    }
    Ok(length.unwrap_or(0))
}

pub(super) fn expects_continue(headers: &[(String, String)]) -> bool {
    headers
        .iter()
        .any(|(n, v)| n == "expect" && v.eq_ignore_ascii_case("100-continue"))
}

/// The declared body length of a request, for draining after a refusal.
pub(super) fn request_length(request: &HttpRequest<'_>) -> Option<u64> {
    request.header("content-length")?.parse().ok()
}

pub(super) fn write_reply(
    stream: &mut TcpStream,
    status: u16,
    headers: &[(&'static str, String)],
    body: &[u8],
    close: bool,
) -> io::Result<()> {
    let mut bytes = head(status, headers, body.len(), close);
    bytes.extend_from_slice(body);
    stream.write_all(&bytes)?;
    stream.flush()
}

/// Write a reply's head announcing all of `body`, then only its first half (the caller drops the
/// connection next).
pub(super) fn write_cut_reply(
    stream: &mut TcpStream,
    status: u16,
    headers: &[(&'static str, String)],
    body: &[u8],
) -> io::Result<()> {
    let mut bytes = head(status, headers, body.len(), true);
    bytes.extend_from_slice(&body[..body.len() / 2]);
    stream.write_all(&bytes)?;
    stream.flush()
}

fn head(status: u16, headers: &[(&'static str, String)], len: usize, close: bool) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    if !headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
    {
        out.push_str("Content-Type: application/json\r\n");
    }
    out.push_str(&format!("Content-Length: {len}\r\n"));
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    if close {
        out.push_str("Connection: close\r\n");
    }
    out.push_str("\r\n");
    out.into_bytes()
}

/// The reason phrase of a status code.
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        207 => "Multi-Status",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "Status",
    }
}
