//! The two timestamp rules of mapping.md §5/§7a: the lenient root `timestamp` parser (event time,
//! device `last_used`, `created_at` numbers) and the strict ISO-8601 gate with the attribute walk.

use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveTime};
use serde_json::{Map, Number, Value};

use super::fields::shown;
use crate::track::limits::{MAX_UNIX_SECONDS, MILLISECONDS_THRESHOLD};

/// A parsed root timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RootTime {
    /// Unix seconds, floored, within 0..=253402300799.
    pub seconds: i64,
    /// Whether the input was a number (or digit string) of milliseconds (above 10^11).
    pub was_millis: bool,
}

/// Why a root timestamp was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TimestampError {
    /// Not a time in any accepted form.
    Unparseable { shown: String },
    /// A time before 1970-01-01.
    BeforeEpoch { shown: String, seconds: i128 },
    /// A time after 9999-12-31T23:59:59Z.
    AfterMax { shown: String, seconds: i128 },
}

const RANGE_HELP: &str =
    "a time must lie between 1970-01-01 and 9999-12-31 (0 to 253402300799 Unix seconds)";

impl fmt::Display for TimestampError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimestampError::Unparseable { shown } => write!(
                f,
                "timestamp {shown} is not a valid time: use RFC 3339/ISO 8601, RFC 2822 or Unix \
                 seconds/milliseconds"
            ),
            TimestampError::BeforeEpoch { shown, seconds } => write!(
                f,
                "timestamp {shown} is before 1970-01-01 ({seconds} Unix seconds): {RANGE_HELP}"
            ),
            TimestampError::AfterMax { shown, seconds } => write!(
                f,
                "timestamp {shown} is after 9999-12-31 ({seconds} Unix seconds): {RANGE_HELP}"
            ),
        }
    }
}

impl std::error::Error for TimestampError {}

/// Parse a root `timestamp` (mapping.md §5, §7a). `null` and `""` are missing (`Ok(None)`).
/// Accepts numbers and digit strings of Unix seconds (above 10^11: milliseconds; a fraction is
/// floored), ISO 8601 / RFC 3339 (zone-less is UTC, `T`/`t`/space, `hh:mm` without seconds, any
/// fraction digits with `.` or `,`, `Z`/`z`/`±hh`/`±hhmm`/`±hh:mm`) and RFC 2822.
pub(crate) fn parse_root(value: &Value) -> Result<Option<RootTime>, TimestampError> {
    let unparseable = || TimestampError::Unparseable {
        shown: shown(value),
    };
    let (seconds, was_millis) = match value {
        Value::Null => return Ok(None),
        Value::String(s) if s.is_empty() => return Ok(None),
        Value::Number(n) => from_number(n),
        Value::String(s) => {
            if let Some(parsed) = digit_string(s) {
                parsed
            } else if let Some(secs) = iso_root(s) {
                (i128::from(secs), false)
            } else if let Ok(dt) = DateTime::parse_from_rfc2822(s) {
                (i128::from(dt.timestamp()), false)
            } else {
                return Err(unparseable());
            }
        }
        _ => return Err(unparseable()),
    };
    if seconds < 0 {
        return Err(TimestampError::BeforeEpoch {
            shown: shown(value),
            seconds,
        });
    }
    if seconds > i128::from(MAX_UNIX_SECONDS) {
        return Err(TimestampError::AfterMax {
            shown: shown(value),
            seconds,
        });
    }
    Ok(Some(RootTime {
        seconds: seconds as i64,
        was_millis,
    }))
}

/// Whether a root `timestamp` is an ISO date or date-time without a zone (which is read as UTC).
pub(crate) fn is_zoneless(value: &Value) -> bool {
    let Value::String(s) = value else {
        return false;
    };
    if digit_string(s).is_some() || iso_root(s).is_none() {
        return false;
    }
    // Past the date (`YYYY-MM-DD`), a zone is `Z`/`z` or a signed offset.
    let time = s.get(10..).unwrap_or("");
    !(time.ends_with(['Z', 'z']) || time.contains(['+', '-']))
}

/// Seconds (floored) of a number, with milliseconds detected above 10^11.
fn from_number(n: &Number) -> (i128, bool) {
    let threshold = MILLISECONDS_THRESHOLD as i128;
    if let Some(i) = n.as_i64() {
        let i = i128::from(i);
        return if i > threshold {
            (i.div_euclid(1000), true)
        } else {
            (i, false)
        };
    }
    if let Some(u) = n.as_u64() {
        let u = i128::from(u);
        return if u > threshold {
            (u / 1000, true)
        } else {
            (u, false)
        };
    }
    let f = n.as_f64().unwrap_or(f64::NAN);
    let (secs, millis) = if f > MILLISECONDS_THRESHOLD {
        ((f / 1000.0).floor(), true)
    } else {
        (f.floor(), false)
    };
    // Clamp far-out values; they fail the range check either way.
    (secs.clamp(-1e30, 1e30) as i128, millis)
}

/// `"1714566896"` or `"1714566896.5"`: seconds (floored), milliseconds above 10^11.
fn digit_string(s: &str) -> Option<(i128, bool)> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if frac.is_some_and(|f| f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    // Longer than 30 digits cannot be in range; keep the number finite.
    let digits = int.trim_start_matches('0');
    let value: i128 = if digits.len() > 30 {
        10i128.pow(30)
    } else if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    if value > MILLISECONDS_THRESHOLD as i128 {
        Some((value / 1000, true))
    } else {
        Some((value, false))
    }
}

/// A small cursor over ASCII bytes.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, n: usize) -> Option<u32> {
        let part = self.b.get(self.i..self.i + n)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.i += n;
        Some(part.iter().fold(0, |acc, d| acc * 10 + u32::from(d - b'0')))
    }
    fn eat(&mut self, set: &[u8]) -> Option<u8> {
        let c = *self.b.get(self.i)?;
        if set.contains(&c) {
            self.i += 1;
            Some(c)
        } else {
            None
        }
    }
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn done(&self) -> bool {
        self.i == self.b.len()
    }
}

/// Seconds of a date, time and zone offset, when all parts are in range.
fn to_seconds(y: u32, mo: u32, d: u32, h: u32, mi: u32, s: u32, offset: i64) -> Option<i64> {
    let date = NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, mo, d)?;
    let time = NaiveTime::from_hms_opt(h, mi, s)?;
    Some(date.and_time(time).and_utc().timestamp() - offset)
}

/// A zone offset `±hh`, `±hhmm` or `±hh:mm` (`short_hour` allows the bare `±hh`), in seconds.
fn offset(c: &mut Cursor<'_>, short_hour: bool) -> Option<i64> {
    let sign = if c.eat(b"+-")? == b'-' { -1 } else { 1 };
    let h = c.digits(2)?;
    let m = if c.done() {
        if !short_hour {
            return None;
        }
        0
    } else {
        c.eat(b":");
        c.digits(2)?
    };
    if h > 23 || m > 59 {
        return None;
    }
    Some(sign * i64::from(h * 3600 + m * 60))
}

/// What tells the two ISO grammars apart: the lenient root form and the strict attribute gate.
struct Grammar {
    /// Bytes that may stand between the date and the time.
    time_marks: &'static [u8],
    /// Bytes that may start a fraction of a second.
    fraction_marks: &'static [u8],
    /// Most fraction digits.
    max_fraction: usize,
    /// Bytes that mean UTC.
    utc: &'static [u8],
    /// Whether a bare `±hh` offset is allowed.
    short_hour: bool,
}

/// The lenient ISO form of a root timestamp (mapping.md §5, §7a).
const ROOT: Grammar = Grammar {
    time_marks: b"Tt ",
    fraction_marks: b".,",
    max_fraction: usize::MAX,
    utc: b"Zz",
    short_hour: true,
};

/// The strict form of attribute values: `T`, `.` and 1–9 fraction digits, `Z`, `±hh:mm` or `±hhmm`.
const ATTRIBUTE: Grammar = Grammar {
    time_marks: b"T",
    fraction_marks: b".",
    max_fraction: 9,
    utc: b"Z",
    short_hour: false,
};

/// `YYYY-MM-DD`, optionally a time mark + `hh:mm` + optional `:ss` + optional fraction + optional
/// zone, in `grammar`, naming a real date and time (zone-less is UTC): its Unix seconds (the
/// fraction is dropped), or `None`.
fn iso_seconds(s: &str, grammar: &Grammar) -> Option<i64> {
    let mut c = Cursor {
        b: s.as_bytes(),
        i: 0,
    };
    let y = c.digits(4)?;
    c.eat(b"-")?;
    let mo = c.digits(2)?;
    c.eat(b"-")?;
    let d = c.digits(2)?;
    if c.done() {
        return to_seconds(y, mo, d, 0, 0, 0, 0);
    }
    c.eat(grammar.time_marks)?;
    let h = c.digits(2)?;
    c.eat(b":")?;
    let mi = c.digits(2)?;
    let mut sec = 0;
    if c.eat(b":").is_some() {
        sec = c.digits(2)?;
        if c.eat(grammar.fraction_marks).is_some() {
            let start = c.i;
            while c.peek().is_some_and(|b| b.is_ascii_digit()) {
                c.i += 1;
            }
            let n = c.i - start;
            if n == 0 || n > grammar.max_fraction {
                return None;
            }
        }
    }
    let off = match c.peek() {
        None => 0,
        Some(b) if grammar.utc.contains(&b) => {
            c.i += 1;
            0
        }
        Some(b'+' | b'-') => offset(&mut c, grammar.short_hour)?,
        Some(_) => return None,
    };
    if !c.done() {
        return None;
    }
    to_seconds(y, mo, d, h, mi, sec, off)
}

/// The lenient ISO form of a root timestamp (mapping.md §5, §7a).
fn iso_root(s: &str) -> Option<i64> {
    iso_seconds(s, &ROOT)
}

/// The strict ISO-8601 gate for attribute values (segment-destination.md §6.2, mapping.md §5):
/// `YYYY-MM-DD`, optionally `T` + `hh:mm` + optional `:ss` + optional `.` and 1–9 fraction digits +
/// optional `Z`, `±hh:mm` or `±hhmm`, naming a real date and time (zone-less is UTC). Returns the
/// Unix seconds (floored), or `None` for every string that must stay a string.
pub(crate) fn iso_attribute_seconds(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    // O(1) rejection of the common non-dates before any real work.
    if b.len() < 10 || b.len() > 35 || b[4] != b'-' || b[7] != b'-' || !b[0].is_ascii_digit() {
        return None;
    }
    iso_seconds(s, &ATTRIBUTE)
}

/// Convert, in place, every string passing [`iso_attribute_seconds`] in `attributes` and the
/// objects nested in it to integer Unix seconds. Arrays are not entered.
pub(crate) fn convert_attributes(attributes: &mut Map<String, Value>) {
    for v in attributes.values_mut() {
        convert_value(v);
    }
}

fn convert_value(v: &mut Value) {
    match v {
        Value::String(s) => {
            if let Some(secs) = iso_attribute_seconds(s) {
                *v = Value::from(secs);
            }
        }
        Value::Object(m) => convert_attributes(m),
        _ => {}
    }
}

/// A `created_at` value (identify and group, mapping.md §5): a number is Unix seconds (milliseconds
/// above 10^11) sent as an integer; anything else is returned as it is (ISO strings are left to
/// the attribute conversion).
pub(crate) fn created_at_number(v: Value) -> Value {
    match &v {
        Value::Number(n) => {
            let (secs, _) = from_number(n);
            match i64::try_from(secs) {
                Ok(s) => Value::from(s),
                Err(_) => v,
            }
        }
        _ => v,
    }
}

#[cfg(test)]
mod zoneless_tests {
    use super::is_zoneless;
    use serde_json::json;

    #[test]
    fn zoneless_is_an_iso_time_without_z_or_offset() {
        assert!(is_zoneless(&json!("2020-01-02T03:04:05")));
        assert!(is_zoneless(&json!("2020-01-02 03:04")));
        assert!(is_zoneless(&json!("2020-01-02")));
        assert!(!is_zoneless(&json!("2020-01-02T03:04:05Z")));
        assert!(!is_zoneless(&json!("2020-01-02T03:04:05.5-05:00")));
        assert!(!is_zoneless(&json!("2020-01-02T03:04:05+0100")));
        assert!(!is_zoneless(&json!("1577934245")));
        assert!(!is_zoneless(&json!(1577934245)));
        assert!(!is_zoneless(&json!("Thu, 02 Jan 2020 03:04:05 +0000")));
        assert!(!is_zoneless(&json!("soon")));
    }
}

#[cfg(test)]
#[path = "timestamp_tests.rs"]
mod tests;
