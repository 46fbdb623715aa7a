//! Event ids for de-duplication (mapping.md §6): ULIDs taken from `messageId` or derived from it
//! (or from the record's canonical JSON) so that a re-run sends the same ids. Must never change
//! between releases.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::EventIdMode;

/// Whether `s` is a ULID: 26 characters of Crockford base32 (`0-9A-HJKMNP-TV-Z`, any case), the
/// first at most `7`.
pub(crate) fn is_ulid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 26
        && b[0] <= b'7'
        && b.iter().all(|c| {
            let c = c.to_ascii_uppercase();
            c.is_ascii_digit()
                || (c.is_ascii_uppercase() && !matches!(c, b'I' | b'L' | b'O' | b'U'))
        })
}

/// The derived ULID: 48-bit time = `seconds` × 1000 (0 when `None` or negative), then the first
/// 80 bits of SHA-256 of `seed`.
pub(crate) fn derive(seed: &[u8], seconds: Option<i64>) -> String {
    let millis = match seconds {
        Some(s) if s > 0 => (s as u64).saturating_mul(1000) & ((1u64 << 48) - 1),
        _ => 0,
    };
    let digest = Sha256::digest(seed);
    let mut random = 0u128;
    for byte in &digest[..10] {
        random = (random << 8) | u128::from(*byte);
    }
    ulid::Ulid::from_parts(millis, random).to_string()
}

/// The canonical JSON of a value (mapping.md §6, §7a): compact, object keys sorted by their UTF-8
/// bytes at every level, strings escaped as serde_json escapes them (only `"`, `\` and control
/// characters), numbers as serde_json prints them.
pub fn canonical_json(v: &Value) -> String {
    let mut out = Vec::with_capacity(512);
    write_canonical(v, &mut out);
    // Only valid UTF-8 is ever written.
    String::from_utf8(out).unwrap_or_default()
}

fn write_string(s: &str, out: &mut Vec<u8>) {
    // Writing a str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

fn write_canonical(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (i, (k, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(k, out);
                out.push(b':');
                write_canonical(item, out);
            }
            out.push(b'}');
        }
    }
}

/// The event id of a track, page or screen operation, or `None` when none is sent.
/// `message_id` is the `messageId` as text (a number as its decimal text; empty is `None`),
/// `seconds` the root timestamp the operation carries, `event` the record as parsed.
pub(crate) fn event_id(
    mode: EventIdMode,
    message_id: Option<&str>,
    seconds: Option<i64>,
    event: &Value,
) -> Option<String> {
    match mode {
        EventIdMode::None => None,
        EventIdMode::MessageId => message_id.map(str::to_owned),
        EventIdMode::Ulid => Some(match message_id {
            Some(m) if is_ulid(m) => m.to_ascii_uppercase(),
            Some(m) => derive(m.as_bytes(), seconds),
            None => derive(canonical_json(event).as_bytes(), seconds),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ulid_shapes() {
        assert!(is_ulid("01HX7M5QZ8K3D4E5F6G7H8J9KZ"));
        assert!(is_ulid("01hx7m5qz8k3d4e5f6g7h8j9kz"));
        assert!(is_ulid("7ZZZZZZZZZZZZZZZZZZZZZZZZZ"));
        assert!(!is_ulid("8ZZZZZZZZZZZZZZZZZZZZZZZZZ"));
        assert!(!is_ulid("01HX7M5QZ8K3D4E5F6G7H8J9KU"));
        assert!(!is_ulid("01HX7M5QZ8K3D4E5F6G7H8J9K"));
        assert!(!is_ulid("00000000-0000-4000-8000-000000000038"));
    }

    #[test]
    fn derived_ids_are_pinned() {
        // trackEvent/01 of the conformance cases.
        assert_eq!(
            derive(b"00000000-0000-4000-8000-000000000017", Some(1714566896)),
            "01HWT2D6C0Y8PHHKA7G0FZQNH0"
        );
        // No time: the time part is zero.
        assert!(derive(b"x", None).starts_with("0000000000"));
        assert!(derive(b"x", Some(-5)).starts_with("0000000000"));
    }

    #[test]
    fn canonical_json_sorts_and_escapes() {
        let v: Value = serde_json::from_str(
            r#"{"b":1,"a":{"ｚ":1,"😀":2,"9":3,"10":4,"Z":5,"z":6},"s":"\"\\\n\u0001\u007f\/é"}"#,
        )
        .unwrap();
        assert_eq!(
            canonical_json(&v),
            "{\"a\":{\"10\":4,\"9\":3,\"Z\":5,\"z\":6,\"ｚ\":1,\"😀\":2},\"b\":1,\
             \"s\":\"\\\"\\\\\\n\\u0001\u{7f}/é\"}"
        );
    }

    #[test]
    fn canonical_json_numbers() {
        let v: Value = serde_json::from_str(
            r#"[1E21,1e-7,1.0,100.0,-0.0,18446744073709551616,123456789.123456789]"#,
        )
        .unwrap();
        assert_eq!(
            canonical_json(&v),
            "[1e+21,1e-7,1.0,100.0,-0.0,1.8446744073709552e+19,123456789.12345679]"
        );
        assert_eq!(canonical_json(&json!({})), "{}");
    }

    #[test]
    fn modes() {
        let ev = json!({"type": "track"});
        assert_eq!(event_id(EventIdMode::None, Some("m"), Some(1), &ev), None);
        assert_eq!(
            event_id(EventIdMode::MessageId, Some("m"), Some(1), &ev).as_deref(),
            Some("m")
        );
        assert_eq!(event_id(EventIdMode::MessageId, None, Some(1), &ev), None);
        assert_eq!(
            event_id(
                EventIdMode::Ulid,
                Some("01hx7m5qz8k3d4e5f6g7h8j9kz"),
                None,
                &ev
            )
            .as_deref(),
            Some("01HX7M5QZ8K3D4E5F6G7H8J9KZ")
        );
    }
}
