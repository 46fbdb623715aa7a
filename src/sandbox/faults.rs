//! Faults on demand: scripted replies (statuses, resets, unreadable or oversize bodies, bodies that
//! echo the request's headers, replies kept for one entity), the throttle (a [`RateWindow`]) and
//! injected 5xx.

use std::collections::VecDeque;
use std::time::Instant;

use serde_json::Value;

use super::rate::RateWindow;

/// The status of a scripted reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptedStatus {
    /// Answer with this status. A 2xx means "answer normally" (the entry only counts requests).
    Code(u16),
    /// Drop the connection without answering, like a reset.
    Close,
}

/// One entry of the reply script: the next `times` requests to the API endpoints get it, before
/// any other handling (auth, throttle, validation). An entry with `matching` is kept apart: it
/// answers the next `times` requests whose body contains that text, whatever their order.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptedReply {
    pub status: ScriptedStatus,
    /// Seconds for a `Retry-After` header.
    pub retry_after: Option<u64>,
    /// How many requests this entry answers (at least 1).
    pub times: u32,
    /// The JSON body to send (default: a short error body, or `{}`).
    pub body: Option<Value>,
    /// A raw body instead of JSON (HTML, cut-off or invalid JSON), sent as `text/html`.
    pub text: Option<String>,
    /// Pad the body with spaces to this many bytes (a reply over the client's read limit).
    pub pad: Option<usize>,
    /// Announce the whole body, send half of it, then drop the connection.
    pub cut: bool,
    /// Append the request's headers (as received, credentials included) to the body, like a
    /// careless error page.
    pub echo_headers: bool,
    /// Only requests whose body contains this text get this reply.
    pub matching: Option<String>,
}

impl ScriptedReply {
    /// Answer once with `status`.
    pub fn status(status: u16) -> ScriptedReply {
        ScriptedReply {
            status: ScriptedStatus::Code(status),
            retry_after: None,
            times: 1,
            body: None,
            text: None,
            pad: None,
            cut: false,
            echo_headers: false,
            matching: None,
        }
    }

    /// Drop the connection once without answering.
    pub fn close() -> ScriptedReply {
        ScriptedReply {
            status: ScriptedStatus::Close,
            ..ScriptedReply::status(500)
        }
    }

    /// Repeat for `times` requests.
    pub fn times(mut self, times: u32) -> ScriptedReply {
        self.times = times.max(1);
        self
    }

    /// Add `Retry-After: secs`.
    pub fn retry_after(mut self, secs: u64) -> ScriptedReply {
        self.retry_after = Some(secs);
        self
    }

    /// Send this JSON body.
    pub fn body(mut self, body: Value) -> ScriptedReply {
        self.body = Some(body);
        self
    }

    /// Send this text as the body instead of JSON.
    pub fn text(mut self, text: impl Into<String>) -> ScriptedReply {
        self.text = Some(text.into());
        self
    }

    /// Pad the body with spaces to `bytes`.
    pub fn pad(mut self, bytes: usize) -> ScriptedReply {
        self.pad = Some(bytes);
        self
    }

    /// Send half of the body, then drop the connection.
    pub fn cut(mut self) -> ScriptedReply {
        self.cut = true;
        self
    }

    /// Append the request's headers to the body.
    pub fn echo_headers(mut self) -> ScriptedReply {
        self.echo_headers = true;
        self
    }

    /// Answer only requests whose body contains `text` (kept apart from the ordered script).
    pub fn matching(mut self, text: impl Into<String>) -> ScriptedReply {
        self.matching = Some(text.into());
        self
    }

    /// Read one entry of a `POST /_sandbox/script` body:
    /// `{"status": 429 | "close", "retry_after": 2, "times": 3, "body": {...}, "text": "<html>",
    /// "pad": 2000000, "cut": true, "echo_headers": true, "match": "user-7"}`.
    pub(crate) fn from_json(value: &Value) -> Result<ScriptedReply, String> {
        let entry = value.as_object().ok_or("each entry must be an object")?;
        let status = match entry.get("status") {
            Some(Value::String(s)) if s == "close" => ScriptedStatus::Close,
            Some(Value::Number(n)) => match n.as_u64() {
                Some(code @ 200..=599) => ScriptedStatus::Code(code as u16),
                _ => return Err(format!("status {n} is not between 200 and 599")),
            },
            _ => return Err("status must be an HTTP status (200..599) or \"close\"".into()),
        };
        let count = |key: &str| match entry.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or(format!("{key} must be a whole number")),
        };
        let times = count("times")?.unwrap_or(1);
        if times == 0 || times > u64::from(u32::MAX) {
            return Err("times must be between 1 and 4294967295".into());
        }
        if let Some(unknown) = entry.keys().find(|k| {
            !matches!(
                k.as_str(),
                "status"
                    | "retry_after"
                    | "times"
                    | "body"
                    | "text"
                    | "pad"
                    | "cut"
                    | "echo_headers"
                    | "match"
            )
        }) {
            return Err(format!("unknown key {unknown:?}"));
        }
        let flag = |key: &str| match entry.get(key) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(format!("{key} must be true or false")),
        };
        let text = |key: &str| match entry.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("{key} must be a string")),
        };
        let pad = count("pad")?;
        if pad.is_some_and(|p| p > MAX_PAD as u64) {
            return Err(format!("pad must be at most {MAX_PAD} bytes"));
        }
        Ok(ScriptedReply {
            status,
            retry_after: count("retry_after")?,
            times: times as u32,
            body: entry.get("body").cloned(),
            text: text("text")?,
            pad: pad.map(|p| p as usize),
            cut: flag("cut")?,
            echo_headers: flag("echo_headers")?,
            matching: text("match")?,
        })
    }
}

/// The largest `pad` a script may ask for.
pub(super) const MAX_PAD: usize = 64 << 20;

/// What the fault layer decided for one request.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Fault {
    /// Over the throttle: 429 with `Retry-After` seconds.
    Throttled(u64),
    /// An injected 500, 502 or 503.
    Injected(u16),
}

/// The mutable fault state, behind the sandbox's lock.
pub(super) struct Faults {
    script: VecDeque<ScriptedReply>,
    /// Entries with `matching`, consulted before the ordered script.
    targeted: Vec<ScriptedReply>,
    rng: fastrand::Rng,
    fail_rate: f64,
    throttle: Option<RateWindow>,
}

impl Faults {
    pub(super) fn new(fail_rate: f64, throttle: Option<f64>, seed: Option<u64>) -> Faults {
        let rng = seed.map_or_else(fastrand::Rng::new, fastrand::Rng::with_seed);
        let throttle = throttle
            .filter(|rps| *rps > 0.0)
            .map(RateWindow::per_second);
        Faults {
            script: VecDeque::new(),
            targeted: Vec::new(),
            rng,
            fail_rate: fail_rate.clamp(0.0, 1.0),
            throttle,
        }
    }

    pub(super) fn push_script(&mut self, entries: Vec<ScriptedReply>) {
        for e in entries {
            let times = e.times;
            let e = e.times(times);
            if e.matching.is_some() {
                self.targeted.push(e);
            } else {
                self.script.push_back(e);
            }
        }
    }

    pub(super) fn clear_script(&mut self) {
        self.script.clear();
        self.targeted.clear();
    }

    pub(super) fn script_len(&self) -> usize {
        self.script
            .iter()
            .chain(&self.targeted)
            .map(|e| e.times as usize)
            .sum()
    }

    /// The next scripted reply for a request with this body, if any (consumes one use of it): a
    /// targeted entry whose text the body contains, else the front of the ordered script.
    pub(super) fn next_scripted(&mut self, body: &[u8]) -> Option<ScriptedReply> {
        if let Some(at) = self.targeted.iter().position(|e| {
            e.matching
                .as_deref()
                .is_some_and(|m| memchr::memmem::find(body, m.as_bytes()).is_some())
        }) {
            let entry = &mut self.targeted[at];
            let reply = entry.clone();
            entry.times -= 1;
            if entry.times == 0 {
                self.targeted.remove(at);
            }
            return Some(reply);
        }
        let front = self.script.front_mut()?;
        let reply = front.clone();
        front.times -= 1;
        if front.times == 0 {
            self.script.pop_front();
        }
        Some(reply)
    }

    /// Throttle, then fail rate, for a request arriving now.
    pub(super) fn decide(&mut self, now: Instant) -> Option<Fault> {
        if let Some(Err(secs)) = self.throttle.as_mut().map(|t| t.admit(now)) {
            return Some(Fault::Throttled(secs));
        }
        if self.fail_rate > 0.0 && self.rng.f64() < self.fail_rate {
            let status = [500, 502, 503][self.rng.usize(0..3)];
            return Some(Fault::Injected(status));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn script_is_consumed_in_order() {
        let mut f = Faults::new(0.0, None, Some(1));
        f.push_script(vec![
            ScriptedReply::status(429).times(2),
            ScriptedReply::close(),
        ]);
        assert_eq!(f.script_len(), 3);
        assert_eq!(
            f.next_scripted(b"").map(|r| r.status),
            Some(ScriptedStatus::Code(429))
        );
        assert_eq!(
            f.next_scripted(b"").map(|r| r.status),
            Some(ScriptedStatus::Code(429))
        );
        assert_eq!(
            f.next_scripted(b"").map(|r| r.status),
            Some(ScriptedStatus::Close)
        );
        assert_eq!(f.next_scripted(b""), None);
    }

    #[test]
    fn targeted_entries_answer_only_their_entity_and_jump_the_queue() {
        let mut f = Faults::new(0.0, None, Some(1));
        f.push_script(vec![
            ScriptedReply::status(500),
            ScriptedReply::status(503).matching("stuck").times(2),
        ]);
        assert_eq!(f.script_len(), 3);
        let code = |r: Option<ScriptedReply>| r.map(|r| r.status);
        assert_eq!(
            code(f.next_scripted(b"{\"id\":\"stuck\"}")),
            Some(ScriptedStatus::Code(503))
        );
        assert_eq!(
            code(f.next_scripted(b"{\"id\":\"free\"}")),
            Some(ScriptedStatus::Code(500))
        );
        assert_eq!(code(f.next_scripted(b"{\"id\":\"free\"}")), None);
        assert_eq!(
            code(f.next_scripted(b"stuck")),
            Some(ScriptedStatus::Code(503))
        );
        assert_eq!(code(f.next_scripted(b"stuck")), None);
    }

    #[test]
    fn throttle_admits_capacity_per_window() {
        let mut f = Faults::new(0.0, Some(2.0), Some(1));
        let t = Instant::now();
        assert_eq!(f.decide(t), None);
        assert_eq!(f.decide(t), None);
        assert_eq!(f.decide(t), Some(Fault::Throttled(1)));
        assert_eq!(f.decide(t + Duration::from_millis(1000)), None);
    }

    #[test]
    fn fail_rate_one_always_fails_and_seed_repeats() {
        let run = || {
            let mut f = Faults::new(1.0, None, Some(7));
            (0..20)
                .map(|_| f.decide(Instant::now()))
                .collect::<Vec<_>>()
        };
        let a = run();
        assert!(
            a.iter()
                .all(|d| matches!(d, Some(Fault::Injected(500 | 502 | 503))))
        );
        assert_eq!(a, run());
    }

    #[test]
    fn script_json_is_checked() {
        let ok =
            ScriptedReply::from_json(&serde_json::json!({"status":429,"retry_after":2,"times":3}));
        assert_eq!(ok, Ok(ScriptedReply::status(429).retry_after(2).times(3)));
        let close = ScriptedReply::from_json(&serde_json::json!({"status":"close"}));
        assert_eq!(close.map(|r| r.status), Ok(ScriptedStatus::Close));
        assert!(ScriptedReply::from_json(&serde_json::json!({"status":42})).is_err());
        assert!(ScriptedReply::from_json(&serde_json::json!({"status":500,"times":0})).is_err());
        assert!(ScriptedReply::from_json(&serde_json::json!([1])).is_err());
        let html = ScriptedReply::from_json(&serde_json::json!({"status":207,"text":"<html>",
            "pad":4096,"cut":true,"echo_headers":true,"match":"u1"}));
        assert_eq!(
            html,
            Ok(ScriptedReply::status(207)
                .text("<html>")
                .pad(4096)
                .cut()
                .echo_headers()
                .matching("u1"))
        );
        assert!(ScriptedReply::from_json(&serde_json::json!({"status":207,"cut":1})).is_err());
        assert!(
            ScriptedReply::from_json(&serde_json::json!({"status":207,"pad":1u64<<40})).is_err()
        );
    }
}
