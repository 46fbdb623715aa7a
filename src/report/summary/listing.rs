//! dry-run's listing: one JSON line per record (its source, action, endpoint and request, or why
//! it is skipped or invalid), rendered on the pipeline's workers.

use super::Tally;
use crate::map::Outcome;
use crate::stream::Item;
use crate::track::Mode;

/// One record as the listing needs it, made on the worker that mapped it: its line rendered, and
/// its tally (the event and the operation body are freed there; the consumer only copies bytes).
pub(crate) struct Listed {
    pub line: Vec<u8>,
    pub tally: Tally,
}

impl Listed {
    pub(crate) fn new(item: Item, mode: Mode) -> Listed {
        let mut line = Vec::with_capacity(item.record.original.len() + 256);
        let op_bytes = write_item(&mut line, &item, mode);
        Listed {
            line,
            tally: Tally::new(item, op_bytes),
        }
    }
}

/// One listing line (with its newline) into `line`; returns the operation's size when mapped.
/// Constant keys are written as bytes and strings serialized straight from `&str`: no allocation
/// per line beyond what `line` already holds.
pub(crate) fn write_item(line: &mut Vec<u8>, item: &Item, mode: Mode) -> Option<usize> {
    let location = &item.record.location;
    line.extend_from_slice(b"{\"source\":");
    push_source(line, &location.file, location.line, location.part);
    let mut op_bytes = None;
    match &item.outcome {
        Outcome::Mapped(op) => {
            push_field(line, b",\"action\":", op.action.name());
            push_field(line, b",\"endpoint\":", op.endpoint(mode).label());
            line.extend_from_slice(b",\"operation\":");
            let before = line.len();
            op.write_json(line);
            op_bytes = Some(line.len() - before);
        }
        Outcome::Skipped { action, reason } => {
            if let Some(action) = action {
                push_field(line, b",\"action\":", action.name());
            }
            push_field(line, b",\"skipped\":", reason);
        }
        Outcome::Invalid(invalid) => {
            if let Some(action) = invalid.action {
                push_field(line, b",\"action\":", action.name());
            }
            push_field(line, b",\"error\":", &invalid.to_string());
            line.extend_from_slice(b",\"field\":");
            match &invalid.field {
                Some(field) => push_str(line, field),
                None => line.extend_from_slice(b"null"),
            }
        }
    }
    line.extend_from_slice(b"}\n");
    op_bytes
}

/// `"FILE:LINE"` as a JSON string, the same text as `Location`'s `Display`.
fn push_source(line: &mut Vec<u8>, file: &str, number: u64, part: Option<u32>) {
    // The file name escaped as a JSON string, then its closing quote replaced by `:LINE"` (or
    // `:LINE#PART"`).
    push_str(line, file);
    line.pop();
    line.push(b':');
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut n = number;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    line.extend_from_slice(&digits[at..]);
    if let Some(part) = part {
        line.extend_from_slice(format!("#{part}").as_bytes());
    }
    line.push(b'"');
}

/// `key` (already `,"name":`) and `value` as a JSON string.
fn push_field(line: &mut Vec<u8>, key: &[u8], value: &str) {
    line.extend_from_slice(key);
    push_str(line, value);
}

fn push_str(line: &mut Vec<u8>, value: &str) {
    // Writing into a Vec cannot fail, and a str always serializes.
    let _ = serde_json::to_writer(&mut *line, value);
}

#[cfg(test)]
mod tests {
    use super::push_source;

    #[test]
    fn source_is_the_location_as_a_json_string() {
        for (file, number) in [
            ("in.ndjson", 1u64),
            ("a \"b\"\\c.json", 1_234_567),
            ("-", 0),
        ] {
            let mut line = Vec::new();
            push_source(&mut line, file, number, None);
            let expected = serde_json::to_vec(&format!("{file}:{number}")).unwrap_or_default();
            assert_eq!(line, expected, "{file}:{number}");
        }
        let mut line = Vec::new();
        push_source(&mut line, "x", u64::MAX, Some(2));
        assert_eq!(line, format!("\"x:{}#2\"", u64::MAX).into_bytes());
    }
}
