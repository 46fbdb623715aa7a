//! The retry policy, pure: which replies are retried, split, rejected or fatal, and how long to
//! wait before the next attempt (exponential backoff with full jitter, `Retry-After` honoured).

use std::time::Duration;

/// First backoff step.
pub(crate) const BASE_DELAY: Duration = Duration::from_millis(200);
/// Largest backoff step (before jitter).
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Largest `Retry-After` honoured.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// What to do with a reply's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// 2xx other than 207: every operation accepted.
    Accepted,
    /// 207 on a batch: the listed `batch_index` entries failed, the rest were accepted. A 207
    /// whose body is not a readable `{"errors":[...]}` is an unknown outcome, retried.
    Partial,
    /// 408, 429, 5xx (and network errors / timeouts): try again later.
    Retry,
    /// 400 or 413 for a batch of more than one operation: bisect to find the bad ones.
    Split,
    /// Any other 4xx (or a 400 for a single operation): the operations are rejected.
    Reject,
    /// 401 / 403: the credentials are refused; stop the whole run.
    Auth,
    /// 3xx (redirects are not followed) or 1xx: the endpoint is misconfigured; stop the run.
    Misconfigured,
}

/// Classify a status for a request carrying `operations` operations on a batch endpoint or not.
pub(crate) fn classify(status: u16, is_batch: bool, operations: usize) -> Verdict {
    match status {
        207 if is_batch => Verdict::Partial,
        200..=299 => Verdict::Accepted,
        401 | 403 => Verdict::Auth,
        408 | 429 | 500..=599 => Verdict::Retry,
        400 | 413 if is_batch && operations > 1 => Verdict::Split,
        400..=499 => Verdict::Reject,
        _ => Verdict::Misconfigured,
    }
}

/// The wait before retry number `retry` (0 for the first retry): `Retry-After` when the server sent
/// one (clamped to 5 minutes), else a uniform random delay in `[0, min(30 s, 200 ms × 2^retry)]`.
/// `unit` is a random number in `[0, 1)`.
pub(crate) fn delay(retry: u32, retry_after: Option<Duration>, unit: f64) -> Duration {
    if let Some(after) = retry_after {
        return after.min(MAX_RETRY_AFTER);
    }
    let ceiling = BASE_DELAY
        .checked_mul(1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX))
        .unwrap_or(MAX_BACKOFF)
        .min(MAX_BACKOFF);
    ceiling.mul_f64(unit.clamp(0.0, 1.0))
}

/// One `errors[]` entry of a 207 or 400 reply, as far as it could be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServerError {
    pub batch_index: Option<usize>,
    /// `field: message (reason)` as far as present.
    pub message: String,
}

/// Read `{"errors":[{"batch_index":..,"reason":..,"field":..,"message":..}]}` or the v1
/// `{"meta":{"error":..}}` / `{"meta":{"errors":[..]}}` shapes. Unknown shapes give no entries.
pub(crate) fn parse_errors(body: &str) -> Vec<ServerError> {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(body) else {
        return Vec::new();
    };
    if let Some(entries) = value.get("errors").and_then(|e| e.as_array()) {
        return entries.iter().map(read_entry).collect();
    }
    let meta = value.get("meta");
    if let Some(message) = meta.and_then(|m| m.get("error")).and_then(|e| e.as_str()) {
        return vec![ServerError {
            batch_index: None,
            message: message.to_string(),
        }];
    }
    if let Some(list) = meta
        .and_then(|m| m.get("errors"))
        .and_then(|e| e.as_array())
    {
        return list
            .iter()
            .map(|e| ServerError {
                batch_index: None,
                message: e.as_str().map_or_else(|| e.to_string(), str::to_string),
            })
            .collect();
    }
    Vec::new()
}

/// Why a 207's body does not say which operations failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum MultiStatusError {
    #[error("not JSON ({error}): {start:?}")]
    NotJson { error: String, start: String },
    #[error("no \"errors\" list in it: {0:?}")]
    NoErrors(String),
}

/// The `errors[]` of a 207, which must be `{"errors":[...]}`: a body of any other shape says
/// nothing about which operations were accepted.
pub(crate) fn parse_multi_status(body: &str) -> Result<Vec<ServerError>, MultiStatusError> {
    let start = || body.trim().chars().take(120).collect::<String>();
    let value =
        serde_json::from_str::<serde_json::Value>(body).map_err(|e| MultiStatusError::NotJson {
            error: e.to_string(),
            start: start(),
        })?;
    match value.get("errors").and_then(|e| e.as_array()) {
        Some(entries) => Ok(entries.iter().map(read_entry).collect()),
        None => Err(MultiStatusError::NoErrors(start())),
    }
}

fn read_entry(entry: &serde_json::Value) -> ServerError {
    let text = |key: &str| {
        entry
            .get(key)
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
    };
    let batch_index = entry
        .get("batch_index")
        .and_then(|v| v.as_u64())
        .and_then(|v| usize::try_from(v).ok());
    let mut message = match (text("field"), text("message")) {
        (Some(f), Some(m)) => format!("{f}: {m}"),
        (None, Some(m)) => m.to_string(),
        (Some(f), None) => format!("{f}: invalid"),
        (None, None) => String::new(),
    };
    if let Some(reason) = text("reason") {
        if message.is_empty() {
            message = reason.to_string();
        } else {
            message = format!("{message} ({reason})");
        }
    }
    if message.is_empty() {
        message = entry.to_string();
    }
    ServerError {
        batch_index,
        message,
    }
}

/// A short reason for a whole-request failure: the server's messages, else the body's start.
pub(crate) fn reply_reason(status: u16, body: &str) -> String {
    let messages: Vec<String> = parse_errors(body).into_iter().map(|e| e.message).collect();
    if !messages.is_empty() {
        return format!("HTTP {status}: {}", messages.join("; "));
    }
    let snippet: String = body.trim().chars().take(200).collect();
    if snippet.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {snippet}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        assert_eq!(classify(200, true, 3), Verdict::Accepted);
        assert_eq!(classify(204, false, 1), Verdict::Accepted);
        assert_eq!(classify(207, true, 3), Verdict::Partial);
        assert_eq!(classify(207, false, 1), Verdict::Accepted);
        for s in [408, 429, 500, 502, 503, 504, 522, 524] {
            assert_eq!(classify(s, true, 5), Verdict::Retry, "{s}");
        }
        assert_eq!(classify(400, true, 5), Verdict::Split);
        assert_eq!(classify(413, true, 2), Verdict::Split);
        assert_eq!(classify(400, true, 1), Verdict::Reject);
        assert_eq!(classify(400, false, 1), Verdict::Reject);
        assert_eq!(classify(404, true, 5), Verdict::Reject);
        assert_eq!(classify(422, false, 1), Verdict::Reject);
        assert_eq!(classify(401, true, 5), Verdict::Auth);
        assert_eq!(classify(403, false, 1), Verdict::Auth);
        assert_eq!(classify(301, false, 1), Verdict::Misconfigured);
        assert_eq!(classify(308, true, 1), Verdict::Misconfigured);
    }

    #[test]
    fn backoff_grows_caps_and_jitters() {
        assert_eq!(delay(0, None, 0.0), Duration::ZERO);
        assert_eq!(delay(0, None, 0.999_999), BASE_DELAY.mul_f64(0.999_999));
        assert_eq!(delay(3, None, 0.5), Duration::from_millis(800));
        assert_eq!(delay(20, None, 1.0), MAX_BACKOFF);
        assert_eq!(delay(u32::MAX, None, 0.5), MAX_BACKOFF / 2);
        for retry in 0..40 {
            assert!(delay(retry, None, 0.999) <= MAX_BACKOFF);
        }
    }

    #[test]
    fn retry_after_wins_and_is_clamped() {
        assert_eq!(
            delay(7, Some(Duration::from_secs(2)), 0.9),
            Duration::from_secs(2)
        );
        assert_eq!(
            delay(0, Some(Duration::from_secs(3600)), 0.9),
            MAX_RETRY_AFTER
        );
    }

    #[test]
    fn reads_207_entries() {
        let body = r#"{"errors":[{"batch_index":2,"reason":"invalid","field":"attributes.x","message":"too long"},{"reason":"weird"},{"batch_index":-1,"message":"m"}]}"#;
        let errors = parse_errors(body);
        assert_eq!(errors.len(), 3);
        assert_eq!(errors[0].batch_index, Some(2));
        assert_eq!(errors[0].message, "attributes.x: too long (invalid)");
        assert_eq!(errors[1].batch_index, None);
        assert_eq!(errors[2].batch_index, None);
        assert!(parse_errors("not json").is_empty());
        assert_eq!(parse_multi_status(body).map(|e| e.len()), Ok(3));
        assert_eq!(parse_multi_status(r#"{"errors":[]}"#), Ok(Vec::new()));
        for unreadable in [
            "",
            "<html>oops</html>",
            "{\"errors\":[{",
            "{}",
            "[]",
            "{\"errors\":3}",
        ] {
            assert!(parse_multi_status(unreadable).is_err(), "{unreadable}");
        }
        assert!(
            parse_multi_status(r#"{"meta":{"error":"x"}}"#).is_err(),
            "the v1 error shape names no operation"
        );
        assert_eq!(
            parse_errors(r#"{"meta":{"error":"Unauthorized"}}"#)[0].message,
            "Unauthorized"
        );
        assert_eq!(reply_reason(404, ""), "HTTP 404");
        assert_eq!(
            reply_reason(400, r#"{"meta":{"errors":["a","b"]}}"#),
            "HTTP 400: a; b"
        );
    }
}
