//! `--since` / `--until`: replay only records whose timestamp lies in a time window; the rest are
//! skipped with the reason. Also what the window (and the safety checks) read of a record: its
//! root time.

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat};
use serde_json::Value;

use super::Outcome;
use super::timestamp::parse_root;

/// A record's root `timestamp`, as the mapping reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RecordTime {
    /// No `timestamp` key, or `null` / `""`.
    Missing,
    /// A `timestamp` that is not a time (only reaches here on actions that send none).
    Unreadable,
    /// Unix seconds, and whether the input was milliseconds.
    At { unix: i64, millis: bool },
}

/// The root time of an event (mapping.md §5).
pub(crate) fn record_time(event: &Value) -> RecordTime {
    match event.get("timestamp").map(parse_root) {
        None | Some(Ok(None)) => RecordTime::Missing,
        Some(Ok(Some(t))) => RecordTime::At {
            unix: t.seconds,
            millis: t.was_millis,
        },
        Some(Err(_)) => RecordTime::Unreadable,
    }
}

/// Unix seconds as RFC 3339 UTC, e.g. `2024-01-01T00:00:00Z`.
pub(crate) fn format_time(unix: i64) -> String {
    match DateTime::from_timestamp(unix, 0) {
        Some(t) => t.to_rfc3339_opts(SecondsFormat::Secs, true),
        None => format!("{unix} (Unix seconds)"),
    }
}

/// Why a `--since` / `--until` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum WindowError {
    #[error(
        "--{flag} {value:?} is not a time: use RFC 3339 (2024-01-31T12:00:00Z) or a date (2024-01-31, midnight UTC)"
    )]
    NotATime { flag: &'static str, value: String },
    #[error("--since {since} is not before --until {until}: the window is empty")]
    Empty { since: String, until: String },
}

/// One end of the window, as the user wrote it and in Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bound {
    pub unix: i64,
    pub text: String,
}

/// The time window: records at or after `since` and before `until` are replayed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Window {
    pub since: Option<Bound>,
    pub until: Option<Bound>,
}

impl Window {
    /// The window from the two flags (either may be absent).
    pub(crate) fn from_flags(
        since: Option<&str>,
        until: Option<&str>,
    ) -> Result<Window, WindowError> {
        let since = since.map(|s| parse_bound("since", s)).transpose()?;
        let until = until.map(|s| parse_bound("until", s)).transpose()?;
        if let (Some(s), Some(u)) = (&since, &until)
            && s.unix >= u.unix
        {
            return Err(WindowError::Empty {
                since: s.text.clone(),
                until: u.text.clone(),
            });
        }
        Ok(Window { since, until })
    }

    /// Whether the window lets everything through (neither flag given).
    pub(crate) fn is_unbounded(&self) -> bool {
        self.since.is_none() && self.until.is_none()
    }

    /// `Ok` when a record with this time is in the window, else the skip reason.
    ///
    /// Records with no timestamp, or one that cannot be read, are outside any bounded window:
    /// Customer.io would stamp them with the time it receives them, so no slice owns them, and
    /// sending them with every slice would repeat them.
    pub(crate) fn check(&self, time: RecordTime) -> Result<(), String> {
        if self.is_unbounded() {
            return Ok(());
        }
        let unix = match time {
            RecordTime::At { unix, .. } => unix,
            RecordTime::Missing => {
                return Err(format!(
                    "outside {}: the record has no timestamp, so it cannot be placed in the window",
                    self.flags()
                ));
            }
            RecordTime::Unreadable => {
                return Err(format!(
                    "outside {}: the record's timestamp cannot be read, so it cannot be placed in the window",
                    self.flags()
                ));
            }
        };
        if let Some(s) = &self.since
            && unix < s.unix
        {
            return Err(format!(
                "outside {}: timestamp {} is before --since {}",
                self.flags(),
                format_time(unix),
                s.text
            ));
        }
        if let Some(u) = &self.until
            && unix >= u.unix
        {
            return Err(format!(
                "outside {}: timestamp {} is not before --until {}",
                self.flags(),
                format_time(unix),
                u.text
            ));
        }
        Ok(())
    }

    /// Turn a mapped outcome whose record lies outside the window into a skipped one; any other
    /// outcome is returned as it is. The pipeline calls this after mapping (and before `--strict`).
    pub(crate) fn apply(&self, time: RecordTime, outcome: Outcome) -> Outcome {
        match outcome {
            Outcome::Mapped(op) => match self.check(time) {
                Ok(()) => Outcome::Mapped(op),
                Err(reason) => Outcome::Skipped {
                    action: Some(op.action),
                    reason,
                },
            },
            other => other,
        }
    }

    fn flags(&self) -> &'static str {
        match (&self.since, &self.until) {
            (Some(_), Some(_)) => "--since/--until window",
            (Some(_), None) => "--since window",
            _ => "--until window",
        }
    }
}

/// Parse one flag value: RFC 3339, a zone-less date and time (UTC), or a date (midnight UTC).
fn parse_bound(flag: &'static str, value: &str) -> Result<Bound, WindowError> {
    let text = value.trim();
    let unix = DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp())
        .ok()
        .or_else(|| {
            [
                "%Y-%m-%dT%H:%M:%S%.f",
                "%Y-%m-%d %H:%M:%S%.f",
                "%Y-%m-%dT%H:%M",
            ]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
            .map(|t| t.and_utc().timestamp())
        })
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc().timestamp())
        })
        .ok_or_else(|| WindowError::NotATime {
            flag,
            value: value.to_string(),
        })?;
    Ok(Bound {
        unix,
        text: text.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::track::{Action, Operation};

    fn mapped() -> Outcome {
        Outcome::Mapped(Operation::new(Action::TrackEvent, serde_json::json!({})))
    }

    fn at(unix: i64) -> RecordTime {
        RecordTime::At {
            unix,
            millis: false,
        }
    }

    #[test]
    fn parses_rfc3339_dates_and_zoneless() {
        let w = Window::from_flags(Some("2024-01-01"), Some("2024-02-01T12:30:00+02:00")).unwrap();
        assert_eq!(w.since.as_ref().unwrap().unix, 1_704_067_200);
        assert_eq!(w.until.as_ref().unwrap().unix, 1_706_783_400);
        let z = Window::from_flags(Some("2024-01-01T00:00:00"), None).unwrap();
        assert_eq!(z.since.unwrap().unix, 1_704_067_200);
    }

    #[test]
    fn refuses_bad_values_and_empty_windows() {
        assert!(matches!(
            Window::from_flags(Some("yesterday"), None),
            Err(WindowError::NotATime { flag: "since", .. })
        ));
        assert!(matches!(
            Window::from_flags(None, Some("2024/01/01")),
            Err(WindowError::NotATime { flag: "until", .. })
        ));
        assert!(matches!(
            Window::from_flags(Some("2024-02-01"), Some("2024-01-01")),
            Err(WindowError::Empty { .. })
        ));
        assert!(Window::from_flags(Some("2024-01-01"), Some("2024-01-01")).is_err());
    }

    #[test]
    fn since_is_inclusive_until_exclusive() {
        let w = Window::from_flags(Some("2024-01-01"), Some("2024-02-01")).unwrap();
        assert!(w.check(at(1_704_067_200)).is_ok());
        assert!(w.check(at(1_704_067_199)).is_err());
        assert!(w.check(at(1_706_745_599)).is_ok());
        assert!(w.check(at(1_706_745_600)).is_err());
    }

    #[test]
    fn reasons_name_the_time_and_the_flag() {
        let w = Window::from_flags(Some("2024-01-01"), None).unwrap();
        assert_eq!(
            w.check(at(1_672_531_200)).unwrap_err(),
            "outside --since window: timestamp 2023-01-01T00:00:00Z is before --since 2024-01-01"
        );
        let both = Window::from_flags(Some("2023-01-01"), Some("2024-01-01")).unwrap();
        assert_eq!(
            both.check(at(1_704_067_200)).unwrap_err(),
            "outside --since/--until window: timestamp 2024-01-01T00:00:00Z is not before --until 2024-01-01"
        );
        assert!(
            both.check(RecordTime::Missing)
                .unwrap_err()
                .contains("no timestamp")
        );
    }

    #[test]
    fn apply_skips_only_mapped_outcomes() {
        let w = Window::from_flags(Some("2024-01-01"), None).unwrap();
        match w.apply(at(0), mapped()) {
            Outcome::Skipped { action, reason } => {
                assert_eq!(action, Some(Action::TrackEvent));
                assert!(reason.contains("before --since"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(w.apply(at(1_800_000_000), mapped()), mapped());
        let skipped = Outcome::Skipped {
            action: Some(Action::CreateUpdatePerson),
            reason: "anonymous".into(),
        };
        assert_eq!(w.apply(at(0), skipped.clone()), skipped);
        assert_eq!(
            Window::default().apply(RecordTime::Missing, mapped()),
            mapped()
        );
    }
}
