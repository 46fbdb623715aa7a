//! Faults on demand: scripted replies, the throttle's sliding window and injected 5xx.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The status of a scripted reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptedStatus {
    /// Answer with this status. A 2xx means "answer normally" (the entry only counts requests).
    Code(u16),
    /// Drop the connection without answering, like a reset.
    Close,
}

/// One entry of the reply script: the next `times` requests to the API endpoints get it, before
/// any other handling (auth, throttle, validation).
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptedReply {
    pub status: ScriptedStatus,
    /// Seconds for a `Retry-After` header.
    pub retry_after: Option<u64>,
    /// How many requests this entry answers (at least 1).
    pub times: u32,
    /// The JSON body to send (default: a short error body, or `{}`).
    pub body: Option<Value>,
}

impl ScriptedReply {
    /// Answer once with `status`.
    pub fn status(status: u16) -> ScriptedReply {
        ScriptedReply {
            status: ScriptedStatus::Code(status),
            retry_after: None,
            times: 1,
            body: None,
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

    /// Read one entry of a `POST /_sandbox/script` body:
    /// `{"status": 429 | "close", "retry_after": 2, "times": 3, "body": {...}}`.
    pub fn from_json(value: &Value) -> Result<ScriptedReply, String> {
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
        if let Some(unknown) = entry
            .keys()
            .find(|k| !matches!(k.as_str(), "status" | "retry_after" | "times" | "body"))
        {
            return Err(format!("unknown key {unknown:?}"));
        }
        Ok(ScriptedReply {
            status,
            retry_after: count("retry_after")?,
            times: times as u32,
            body: entry.get("body").cloned(),
        })
    }
}

/// What the fault layer decided for one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Over the throttle: 429 with `Retry-After` seconds.
    Throttled(u64),
    /// An injected 500, 502 or 503.
    Injected(u16),
}

/// The mutable fault state, behind the sandbox's lock.
pub struct Faults {
    script: VecDeque<ScriptedReply>,
    rng: fastrand::Rng,
    fail_rate: f64,
    throttle: Option<Throttle>,
}

struct Throttle {
    window: Duration,
    capacity: usize,
    admitted: VecDeque<Instant>,
}

impl Faults {
    pub fn new(fail_rate: f64, throttle: Option<f64>, seed: Option<u64>) -> Faults {
        let rng = seed.map_or_else(fastrand::Rng::new, fastrand::Rng::with_seed);
        let throttle = throttle.filter(|rps| *rps > 0.0).map(|rps| {
            // Below one request a second the window grows so that it still admits one.
            let window = if rps >= 1.0 { 1.0 } else { 1.0 / rps };
            Throttle {
                window: Duration::from_secs_f64(window),
                capacity: ((rps * window).floor() as usize).max(1),
                admitted: VecDeque::new(),
            }
        });
        Faults {
            script: VecDeque::new(),
            rng,
            fail_rate: fail_rate.clamp(0.0, 1.0),
            throttle,
        }
    }

    pub fn push_script(&mut self, entries: Vec<ScriptedReply>) {
        self.script.extend(entries.into_iter().map(|e| {
            let times = e.times;
            e.times(times)
        }));
    }

    pub fn clear_script(&mut self) {
        self.script.clear();
    }

    pub fn script_len(&self) -> usize {
        self.script.iter().map(|e| e.times as usize).sum()
    }

    /// The next scripted reply, if any (consumes one use of it).
    pub fn next_scripted(&mut self) -> Option<ScriptedReply> {
        let front = self.script.front_mut()?;
        let reply = front.clone();
        front.times -= 1;
        if front.times == 0 {
            self.script.pop_front();
        }
        Some(reply)
    }

    /// Throttle, then fail rate, for a request arriving now.
    pub fn decide(&mut self, now: Instant) -> Option<Fault> {
        if let Some(throttle) = &mut self.throttle {
            while throttle
                .admitted
                .front()
                .is_some_and(|t| now.duration_since(*t) >= throttle.window)
            {
                throttle.admitted.pop_front();
            }
            if throttle.admitted.len() >= throttle.capacity {
                let oldest = throttle.admitted.front().copied().unwrap_or(now);
                let wait = throttle.window.saturating_sub(now.duration_since(oldest));
                return Some(Fault::Throttled(wait.as_secs_f64().ceil().max(1.0) as u64));
            }
            throttle.admitted.push_back(now);
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

    #[test]
    fn script_is_consumed_in_order() {
        let mut f = Faults::new(0.0, None, Some(1));
        f.push_script(vec![
            ScriptedReply::status(429).times(2),
            ScriptedReply::close(),
        ]);
        assert_eq!(f.script_len(), 3);
        assert_eq!(
            f.next_scripted().map(|r| r.status),
            Some(ScriptedStatus::Code(429))
        );
        assert_eq!(
            f.next_scripted().map(|r| r.status),
            Some(ScriptedStatus::Code(429))
        );
        assert_eq!(
            f.next_scripted().map(|r| r.status),
            Some(ScriptedStatus::Close)
        );
        assert_eq!(f.next_scripted(), None);
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
    }
}
