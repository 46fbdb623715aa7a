//! The dead-letter file: one NDJSON line per invalid or rejected record, the original event plus
//! where it came from and why, in a shape `send` reads back directly.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::value::RawValue;

use super::sink::{Entry, Kind, Release, Sink};
use crate::deliver::Settlement;
use crate::stream::RecordInfo;

/// The default dead-letter path: `<first input>.rejected.ndjson`, or `cio-replay.rejected.ndjson`
/// for standard input.
pub(crate) fn default_path(files: &[PathBuf]) -> PathBuf {
    match files.first() {
        Some(f) if f.as_os_str() != "-" => {
            let mut name = f.as_os_str().to_owned();
            name.push(".rejected.ndjson");
            PathBuf::from(name)
        }
        _ => PathBuf::from("cio-replay.rejected.ndjson"),
    }
}

/// Without a checkpoint, a dead-letter file that already holds lines is never appended to
/// silently: its lines would mix with this run's, and replaying it would replay both. Refused
/// (exit 2) unless `append` (`--dead-letter-append`).
pub(crate) fn check_fresh(path: &Path, append: bool) -> anyhow::Result<()> {
    if append {
        return Ok(());
    }
    match std::fs::metadata(path) {
        Ok(meta) if meta.len() > 0 => Err(crate::exit::usage(format!(
            "the dead-letter file {} already holds records from an earlier run: move it away, \
             name another with --dead-letter FILE, or give --dead-letter-append to add to it",
            path.display()
        ))),
        _ => Ok(()),
    }
}

/// The dead letters of a `send`: one line for each record that was invalid, rejected or failed.
#[derive(Debug)]
pub(crate) struct DeadLetters {
    path: PathBuf,
}

impl DeadLetters {
    pub(crate) fn new(path: impl Into<PathBuf>) -> DeadLetters {
        DeadLetters { path: path.into() }
    }
}

impl Sink for DeadLetters {
    const WHAT: &'static str = "dead-letter file";
    const FLAG: &'static str = "dead-letter";

    fn path(&self) -> &Path {
        &self.path
    }

    fn header() -> Option<Vec<u8>> {
        None
    }

    fn release(&self) -> Release {
        Release::AtOnce
    }

    fn entry(&self, settlement: &Settlement) -> std::io::Result<Entry> {
        let result = &settlement.result;
        let bytes = result.stage().map(|stage| {
            line(
                &settlement.record,
                result.status(),
                result.reason(),
                stage,
                settlement.action.map(|a| a.name()),
            )
            .into_bytes()
        });
        Ok(Entry {
            kind: Kind::of(result),
            bytes,
        })
    }

    fn lists_unsent(&self) -> bool {
        false
    }
}

/// One dead-letter line (with its newline): `{"dead_letter": {...}, X}` where X is `"event": {...}`
/// (the record parsed: its text verbatim), `"raw": "<text>"` (it did not), or `"raw_base64":
/// "<its bytes>"` (it was not UTF-8). A record read back from a dead letter keeps the `source` of
/// the very first input as `first_source`, and is not nested.
pub(crate) fn line(
    record: &RecordInfo,
    status: Option<u16>,
    reason: &str,
    stage: &str,
    action: Option<&str>,
) -> String {
    let back = read_back(&record.original);
    let mut header = serde_json::Map::new();
    header.insert("source".into(), record.location.to_string().into());
    if let Some(first) = back.as_ref().and_then(|b| b.first_source.clone()) {
        header.insert("first_source".into(), first.into());
    }
    header.insert("status".into(), status.into());
    header.insert("reason".into(), reason.into());
    header.insert("stage".into(), stage.into());
    header.insert("action".into(), action.into());
    let header = serde_json::Value::Object(header);
    if let Some(bytes) = &record.bytes {
        let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
        return format!("{{\"dead_letter\":{header},\"raw_base64\":\"{encoded}\"}}\n");
    }
    let text = back.map_or(Cow::Borrowed(record.original.as_str()), |b| b.text);
    match record.parsed.then(|| event_text(&text)).flatten() {
        Some(raw) => format!("{{\"dead_letter\":{header},\"event\":{raw}}}\n"),
        None => {
            let raw = serde_json::Value::String(text.into_owned());
            format!("{{\"dead_letter\":{header},\"raw\":{raw}}}\n")
        }
    }
}

/// The event's text, verbatim (number spellings kept), when it is JSON on one line.
fn event_text(text: &str) -> Option<&str> {
    let raw: &RawValue = serde_json::from_str(text.trim()).ok()?;
    let raw = raw.get();
    (!raw.contains(['\n', '\r'])).then_some(raw)
}

/// A record read back from a dead-letter line (the shapes `input` unwraps): where it first came
/// from, and the line it stands for.
struct ReadBack<'a> {
    first_source: Option<String>,
    text: Cow<'a, str>,
}

fn read_back(original: &str) -> Option<ReadBack<'_>> {
    #[derive(serde::Deserialize)]
    struct Header {
        source: Option<String>,
        first_source: Option<String>,
    }
    let trimmed = original.trim();
    if !trimmed.starts_with('{') || !trimmed.contains("\"dead_letter\"") {
        return None;
    }
    let map: HashMap<String, &RawValue> = serde_json::from_str(trimmed).ok()?;
    if map.len() != 2 {
        return None;
    }
    let header: Header = serde_json::from_str(map.get("dead_letter")?.get()).ok()?;
    let first_source = header.first_source.or(header.source);
    let text = if let Some(event) = map.get("event") {
        if !event.get().starts_with('{') {
            return None;
        }
        Cow::Borrowed(event.get())
    } else if let Some(raw) = map.get("raw") {
        Cow::Owned(serde_json::from_str::<String>(raw.get()).ok()?)
    } else {
        let encoded: String = serde_json::from_str(map.get("raw_base64")?.get()).ok()?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()?;
        Cow::Owned(String::from_utf8_lossy(&bytes).into_owned())
    };
    Some(ReadBack { first_source, text })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Location;

    fn info(original: &str, parsed: bool) -> RecordInfo {
        RecordInfo {
            location: Location {
                part: None,
                file: "f.ndjson".into(),
                line: 12,
            },
            input: 0,
            index: 11,
            original: original.into(),
            parsed,
            bytes: None,
        }
    }

    #[test]
    fn keeps_the_original_verbatim() {
        let l = line(
            &info(
                r#"{"type":"track","n":1.50,"big":12345678901234567890}"#,
                true,
            ),
            Some(207),
            "attributes.x: too long",
            "rejected",
            Some("track-event"),
        );
        assert_eq!(
            l,
            "{\"dead_letter\":{\"source\":\"f.ndjson:12\",\"status\":207,\"reason\":\"attributes.x: too long\",\"stage\":\"rejected\",\"action\":\"track-event\"},\"event\":{\"type\":\"track\",\"n\":1.50,\"big\":12345678901234567890}}\n"
        );
    }

    #[test]
    fn unparsable_records_go_as_raw_text() {
        let l = line(
            &info("{not json", false),
            None,
            "malformed",
            "invalid",
            None,
        );
        assert!(l.ends_with(",\"raw\":\"{not json\"}\n"), "{l}");
        assert!(l.contains("\"status\":null"));
        assert!(l.contains("\"action\":null"));
    }

    #[test]
    fn dead_letters_read_back_are_not_nested() {
        let first = line(&info(r#"{"a":1.0}"#, true), None, "x", "invalid", None);
        let again = line(&info(first.trim(), true), Some(400), "y", "rejected", None);
        assert!(again.ends_with(",\"event\":{\"a\":1.0}}\n"), "{again}");
    }

    #[test]
    fn bytes_that_are_not_utf8_are_kept_exactly_in_base64() {
        use base64::Engine as _;
        let bytes: &[u8] = b"{\"a\":\"\xff\xfe\"}";
        let mut record = info(&String::from_utf8_lossy(bytes), false);
        record.bytes = Some(bytes.into());
        let l = line(&record, None, "not valid UTF-8", "invalid", None);
        let v: serde_json::Value = serde_json::from_str(&l).unwrap();
        let encoded = v["raw_base64"].as_str().unwrap();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap();
        assert_eq!(decoded, bytes);
        assert!(v.get("raw").is_none() && !l.contains('\u{fffd}'), "{l}");
        assert!(v["dead_letter"].get("first_source").is_none(), "{l}");

        // Dead-lettered again after being read back: the same bytes, the first source kept.
        let mut again = info(l.trim(), false);
        again.location.file = "f.ndjson.rejected.ndjson".into();
        again.bytes = Some(bytes.into());
        let l2 = line(&again, None, "not valid UTF-8", "invalid", None);
        let v2: serde_json::Value = serde_json::from_str(&l2).unwrap();
        assert_eq!(v2["raw_base64"], encoded);
        assert_eq!(v2["dead_letter"]["source"], "f.ndjson.rejected.ndjson:12");
        assert_eq!(v2["dead_letter"]["first_source"], "f.ndjson:12");
    }

    #[test]
    fn a_dead_letter_of_a_dead_letter_keeps_the_first_source() {
        let first = line(&info(r#"{"a":1.0}"#, true), None, "x", "invalid", None);
        let mut second = info(first.trim(), true);
        second.location.file = "d1.ndjson".into();
        second.location.line = 3;
        let second = line(&second, Some(400), "y", "rejected", None);
        let mut third = info(second.trim(), true);
        third.location.file = "d2.ndjson".into();
        third.location.line = 1;
        let third = line(&third, Some(400), "z", "rejected", None);
        assert!(
            third.starts_with(
                "{\"dead_letter\":{\"source\":\"d2.ndjson:1\",\"first_source\":\"f.ndjson:12\","
            ),
            "{third}"
        );
        assert!(third.ends_with(",\"event\":{\"a\":1.0}}\n"), "{third}");
        // A raw (unparsable) one too, and one whose raw was fixed and then rejected.
        let raw = line(&info("{oops", false), None, "malformed", "invalid", None);
        let mut again = info(raw.trim(), false);
        again.location.file = "d1.ndjson".into();
        let again = line(&again, None, "malformed", "invalid", None);
        assert!(
            again.contains("\"first_source\":\"f.ndjson:12\""),
            "{again}"
        );
        assert!(again.ends_with(",\"raw\":\"{oops\"}\n"), "{again}");
        let fixed = raw.replace("{oops", "{\\\"b\\\":2}");
        let fixed = line(&info(fixed.trim(), true), Some(400), "y", "rejected", None);
        assert!(fixed.ends_with(",\"event\":{\"b\":2}}\n"), "{fixed}");
        assert!(
            fixed.contains("\"first_source\":\"f.ndjson:12\""),
            "{fixed}"
        );
    }

    #[test]
    fn default_path_follows_the_first_input() {
        assert_eq!(
            default_path(&[PathBuf::from("data/e.ndjson.gz")]),
            PathBuf::from("data/e.ndjson.gz.rejected.ndjson")
        );
        assert_eq!(
            default_path(&[PathBuf::from("-")]),
            PathBuf::from("cio-replay.rejected.ndjson")
        );
        assert_eq!(
            default_path(&[]),
            PathBuf::from("cio-replay.rejected.ndjson")
        );
    }
}
