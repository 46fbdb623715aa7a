//! The dead-letter file: one NDJSON line per invalid or rejected record, the original event plus
//! where it came from and why, in a shape `send` reads back directly.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::value::RawValue;

use crate::send::{RecordInfo, Settlement};

/// The default dead-letter path: `<first input>.rejected.ndjson`, or `cio-replay.rejected.ndjson`
/// for standard input.
pub fn default_path(files: &[PathBuf]) -> PathBuf {
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
pub fn check_fresh(path: &Path, append: bool) -> anyhow::Result<()> {
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

/// Writes dead letters; the file is created at the first one, and every line is written whole.
#[derive(Debug)]
pub struct DeadLetter {
    path: PathBuf,
    file: Option<File>,
    written: u64,
}

impl DeadLetter {
    pub fn new(path: impl Into<PathBuf>) -> DeadLetter {
        DeadLetter {
            path: path.into(),
            file: None,
            written: 0,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Lines written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Write the settlement if it is a dead letter (invalid, rejected, failed); else nothing.
    pub fn record(&mut self, settlement: &Settlement) -> anyhow::Result<()> {
        let Some(stage) = settlement.result.stage() else {
            return Ok(());
        };
        let line = line(
            &settlement.record,
            settlement.result.status(),
            settlement.result.reason(),
            stage,
            settlement.action.map(|a| a.name()),
        );
        if self.file.is_none() {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .with_context(|| format!("creating dead-letter file {}", self.path.display()))?;
            self.file = Some(file);
        }
        if let Some(file) = self.file.as_mut() {
            file.write_all(line.as_bytes())
                .and_then(|()| file.flush())
                .with_context(|| format!("writing dead-letter file {}", self.path.display()))?;
        }
        self.written += 1;
        Ok(())
    }
}

/// One dead-letter line (with its newline).
pub fn line(
    record: &RecordInfo,
    status: Option<u16>,
    reason: &str,
    stage: &str,
    action: Option<&str>,
) -> String {
    let header = serde_json::json!({
        "source": record.location.to_string(),
        "status": status,
        "reason": reason,
        "stage": stage,
        "action": action,
    });
    let event = if record.parsed {
        original_event(&record.original)
    } else {
        None
    };
    match event {
        Some(raw) => format!("{{\"dead_letter\":{header},\"event\":{raw}}}\n"),
        None => {
            let raw = serde_json::Value::String(record.original.clone());
            format!("{{\"dead_letter\":{header},\"raw\":{raw}}}\n")
        }
    }
}

/// The event to write back: the original text verbatim (number spellings kept), or when the record
/// was itself a dead letter read back, the event inside it (no nesting).
fn original_event(original: &str) -> Option<&str> {
    #[derive(serde::Deserialize)]
    struct Wrapped<'a> {
        #[serde(borrow)]
        dead_letter: Option<&'a RawValue>,
        #[serde(borrow)]
        event: Option<&'a RawValue>,
    }
    let trimmed = original.trim();
    let raw: &RawValue = serde_json::from_str(trimmed).ok()?;
    if let Ok(Wrapped {
        dead_letter: Some(_),
        event: Some(inner),
    }) = serde_json::from_str::<Wrapped>(raw.get())
    {
        return Some(inner.get());
    }
    Some(raw.get())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Location;

    fn info(original: &str, parsed: bool) -> RecordInfo {
        RecordInfo {
            location: Location {
                file: "f.ndjson".into(),
                line: 12,
            },
            input: 0,
            index: 11,
            original: original.into(),
            parsed,
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
