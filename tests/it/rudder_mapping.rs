//! Every record of `tests/data/rudder-corpus/events.ndjson` (real-world, messy on purpose; the
//! project's copy of the shared corpus) maps to
//! exactly one outcome through the library, without a panic, and every invalid one says why.

use crate::common;

use cio_replay::map::{EventIdMode, MappingConfig, Outcome, Routes, map_event};
use cio_replay::source::parse_event;

#[test]
fn every_rudder_record_has_an_outcome() {
    let path = common::data("rudder-corpus/events.ndjson");
    let text = std::fs::read_to_string(&path).expect("read events.ndjson");
    let configs = [
        MappingConfig::default(),
        MappingConfig::new(false, EventIdMode::MessageId, Routes::default()),
        MappingConfig::new(true, EventIdMode::None, Routes::default()),
    ];
    for config in &configs {
        let (mut mapped, mut skipped, mut invalid) = (0, 0, 0);
        for (n, line) in text.lines().enumerate() {
            let line_no = n + 1;
            let event = match parse_event(line) {
                Ok(v) => v,
                Err(e) => panic!("line {line_no}: the input parser rejected it: {e}"),
            };
            match map_event(&event, config) {
                Outcome::Mapped(op) => {
                    assert!(op.body.is_object(), "line {line_no}: body is not an object");
                    mapped += 1;
                }
                Outcome::Skipped { reason, .. } => {
                    assert!(!reason.is_empty(), "line {line_no}: skip without a reason");
                    skipped += 1;
                }
                Outcome::Invalid(inv) => {
                    assert!(
                        !inv.message.trim().is_empty(),
                        "line {line_no}: empty message"
                    );
                    invalid += 1;
                }
            }
        }
        assert_eq!(mapped + skipped + invalid, 108, "{config:?}");
        // The corpus holds well-formed identify, track, page, screen, group and alias calls:
        // most of them map.
        assert!(mapped > 54, "only {mapped} of 108 mapped ({config:?})");
    }
}
