//! The hostile-input suite: property tests over the readers and the mapper (arbitrary bytes,
//! arbitrary JSON, arbitrary CSV) and named regression files (fixtures/hostile/ plus big ones made
//! at test time). Nothing may panic or hang, and every record is accounted for with its location.

use crate::common::{self, DryRun};

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use cio_replay::map::{MappingConfig, Outcome, map_event};
use cio_replay::stream::{Item, Pipeline, PipelineSettings};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Any one command may take this long before the harness calls it a hang.
const HANG: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------------------------
// Helpers

/// Read a whole file through the pipeline (the library, no process).
fn read_all(path: &Path) -> anyhow::Result<Vec<Item>> {
    let pipeline = Pipeline::open(PipelineSettings::new(vec![path.to_path_buf()]))?;
    Ok(pipeline.into_iter().collect())
}

/// Every item is a numbered record of this input with a location, and its outcome says why.
/// Locations never go backwards (CSV records ended by a bare `\r` share a line number, as the csv
/// crate counts `\n` only; NDJSON lines always differ).
fn check_accounted(items: &[Item], name: &str) {
    for (i, item) in items.iter().enumerate() {
        let r = &item.record;
        assert_eq!(r.index, i as u64, "records are numbered in order");
        assert_eq!(&*r.location.file, name);
        assert!(r.location.line >= 1, "{} has no line", r.location);
        if i > 0 {
            assert!(r.location.line >= items[i - 1].record.location.line);
        }
        match &item.outcome {
            Outcome::Mapped(op) => assert!(op.body.is_object()),
            Outcome::Skipped { reason, .. } => assert!(!reason.is_empty()),
            Outcome::Invalid(invalid) => assert!(!invalid.message.is_empty()),
        }
    }
}

/// The 1-based numbers of the lines an NDJSON reader must turn into records (not blank).
fn ndjson_record_lines(bytes: &[u8]) -> Vec<u64> {
    let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    if bytes.ends_with(b"\n") || bytes.is_empty() {
        lines.pop();
    }
    lines
        .iter()
        .enumerate()
        .filter_map(|(i, line)| {
            let mut text = line.strip_suffix(b"\r").unwrap_or(line);
            if i == 0 {
                text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
            }
            (!text.iter().all(u8::is_ascii_whitespace)).then_some(i as u64 + 1)
        })
        .collect()
}

/// The `source` of every dry-run line, and the number of lines with an `error`.
fn sources_and_errors(lines: &[Value]) -> (Vec<String>, usize) {
    (common::sources(lines), common::errors(lines).len())
}

fn fixture(name: &str) -> std::path::PathBuf {
    common::crate_path(&format!("fixtures/hostile/{name}"))
}

// ---------------------------------------------------------------------------------------------
// Properties

/// Bytes that look like NDJSON often enough to reach the parser's corners.
fn ndjson_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        4 => any::<u8>().prop_map(|b| vec![b]),
        2 => Just(b"\n".to_vec()),
        1 => Just(b"\r\n".to_vec()),
        1 => Just(b"\xEF\xBB\xBF".to_vec()),
        2 => Just(br#"{"type":"track","event":"e","userId":"u"}"#.to_vec()),
        1 => Just(br#"{"type":"identify","userId":"u","traits":{"a":1}}"#.to_vec()),
        1 => Just(b"{\"a\":".to_vec()),
        1 => Just(b"\xff\xfe".to_vec()),
        1 => Just(b"\0".to_vec()),
        1 => Just(b"   \t".to_vec()),
        1 => Just(b"[1,2]".to_vec()),
        1 => Just(b"1e400".to_vec()),
    ];
    prop::collection::vec(piece, 0..64).prop_map(|v| v.concat())
}

/// Strings with the characters that break naive code: controls, quotes, surrogates' neighbours,
/// combining marks, RTL, emoji, very long ones, ISO-ish dates.
fn weird_string() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "\\PC{0,12}",
        1 => "[\\x00-\\x1f\"\\\\]{0,6}",
        1 => Just(String::new()),
        1 => Just("\u{202e}\u{0301}\u{feff}😀\u{fffd}".to_owned()),
        1 => Just("2024-05-01T12:34:56.789Z".to_owned()),
        1 => Just("1714566896123".to_owned()),
        1 => Just("01HZY7QK8Z9X3V5T2R1P0N4M6B".to_owned()),
        1 => Just("cio_03000001".to_owned()),
        1 => (1usize..40_000).prop_map(|n| "x".repeat(n)),
    ]
}

fn weird_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
            .map(Value::Number)),
        Just(json!(i64::MIN)),
        Just(json!(u64::MAX)),
        Just(json!(f64::MAX)),
        Just(json!(5e-324)),
        Just(json!(-0.0)),
        Just(json!(1714566896123u64)),
    ]
}

/// Arbitrary JSON, nested up to ~8 levels.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        weird_number(),
        weird_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(8, 96, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((weird_string(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

const KEYS: &[&str] = &[
    "type",
    "event",
    "name",
    "userId",
    "anonymousId",
    "previousId",
    "groupId",
    "messageId",
    "timestamp",
    "traits",
    "properties",
    "context",
    "integrations",
    "category",
];
const TYPES: &[&str] = &[
    "track", "identify", "page", "screen", "group", "alias", "TRACK", "x",
];
const EVENTS: &[&str] = &[
    "Order Completed",
    "Application Installed",
    "Application Uninstalled",
    "Device Deleted",
    "Relationship Deleted",
    "User Deleted",
    "Object Deleted",
    "User Suppressed",
    "User Unsuppressed",
    "Report Delivery Event",
    "Report Content Event",
    "Device Created or Updated",
    "",
];

/// Segment-shaped events with hostile values where the mapper looks.
fn segment_like() -> impl Strategy<Value = Value> {
    let value_for = |key: &'static str| -> BoxedStrategy<Value> {
        match key {
            "type" => prop_oneof![
                4 => prop::sample::select(TYPES).prop_map(Value::from),
                1 => any_json(),
            ]
            .boxed(),
            "event" => prop_oneof![
                4 => prop::sample::select(EVENTS).prop_map(Value::from),
                1 => any_json(),
            ]
            .boxed(),
            "traits" | "properties" | "context" => {
                let key = prop_oneof![
                    3 => prop::sample::select(KEYS).prop_map(str::to_owned),
                    1 => weird_string(),
                ];
                prop::collection::vec((key, any_json()), 0..8)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect()))
                    .boxed()
            }
            _ => any_json().boxed(),
        }
    };
    let entries: Vec<BoxedStrategy<Option<(String, Value)>>> = KEYS
        .iter()
        .map(|&k| {
            prop::option::weighted(0.6, value_for(k).prop_map(move |v| (k.to_owned(), v))).boxed()
        })
        .collect();
    entries.prop_map(|kv| Value::Object(kv.into_iter().flatten().collect::<Map<_, _>>()))
}

/// Column names: known paths with and without suffixes, and random dotted names.
fn csv_header() -> impl Strategy<Value = Vec<String>> {
    let known = prop::sample::select(vec![
        "type",
        "event",
        "userId",
        "anonymousId",
        "timestamp",
        "messageId",
        "traits.email",
        "traits.plan",
        "properties.total:number",
        "traits.vip:bool",
        "properties.items:json",
        "context.device.token",
        "context.device.type",
        "properties.revenue:string",
    ])
    .prop_map(str::to_owned);
    let random = "[a-z]{1,6}(\\.[a-z]{1,6}){0,2}(:(number|bool|json|string))?";
    prop::collection::vec(
        prop_oneof![3 => known, 1 => random.prop_map(|s: String| s)],
        1..8,
    )
}

fn csv_cell() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => Just(String::new()),
        2 => prop::sample::select(vec!["track", "identify", "page", "u1", "a@b.c", "42", "9.99",
            "true", "FALSE", "[1,2]", "{\"a\":1}", "2024-05-01T00:00:00Z"]).prop_map(str::to_owned),
        2 => "[ -~]{0,12}",
        1 => "[\",\\n\\r]{1,4}",
        1 => "\\PC{0,8}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_as_ndjson_every_line_is_a_record_with_its_location(bytes in ndjson_bytes()) {
        let dir = common::tempdir();
        let path = dir.path().join("fuzz.ndjson");
        std::fs::write(&path, &bytes).unwrap();
        let items = read_all(&path).unwrap();
        let name = path.display().to_string();
        check_accounted(&items, &name);
        let lines: Vec<u64> = items.iter().map(|i| i.record.location.line).collect();
        prop_assert_eq!(lines, ndjson_record_lines(&bytes));
    }

    #[test]
    fn any_bytes_as_gzip_or_csv_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let dir = common::tempdir();
        for name in ["fuzz.csv", "fuzz.ndjson.gz", "fuzz.csv.gz"] {
            let path = dir.path().join(name);
            std::fs::write(&path, &bytes).unwrap();
            // A bad header (or gzip header) may be a usage error; that is an answer too.
            if let Ok(items) = read_all(&path) {
                check_accounted(&items, &path.display().to_string());
            }
        }
    }

    #[test]
    fn arbitrary_json_through_the_mapper(event in any_json()) {
        let outcome = map_event(&event, &MappingConfig::default());
        if let Outcome::Invalid(invalid) = &outcome {
            prop_assert!(!invalid.message.is_empty());
        }
        if !event.is_object() {
            prop_assert!(matches!(outcome, Outcome::Invalid(_)));
        }
    }

    #[test]
    fn segment_shaped_json_through_the_mapper(event in segment_like()) {
        let outcome = map_event(&event, &MappingConfig::default());
        match &outcome {
            Outcome::Mapped(op) => {
                // What is sent must serialise, and stay under the per-operation limit it claims.
                let text = serde_json::to_string(&op.body).unwrap();
                prop_assert!(!text.is_empty());
            }
            Outcome::Skipped { reason, .. } => prop_assert!(!reason.is_empty()),
            Outcome::Invalid(invalid) => prop_assert!(!invalid.message.is_empty()),
        }
        // Deterministic: the same record maps the same way (event ids included).
        prop_assert_eq!(outcome, map_event(&event, &MappingConfig::default()));
    }

    #[test]
    fn arbitrary_csv_every_row_is_a_record(
        header in csv_header(),
        rows in prop::collection::vec(prop::collection::vec(csv_cell(), 0..9), 0..24),
    ) {
        let dir = common::tempdir();
        let path = dir.path().join("fuzz.csv");
        let mut writer = csv::WriterBuilder::new().flexible(true).from_path(&path).unwrap();
        writer.write_record(&header).unwrap();
        let rows: Vec<Vec<String>> = rows.into_iter().filter(|r| !r.is_empty()).collect();
        for row in &rows {
            writer.write_record(row).unwrap();
        }
        writer.flush().unwrap();
        drop(writer);
        match read_all(&path) {
            Ok(items) => {
                check_accounted(&items, &path.display().to_string());
                prop_assert_eq!(items.len(), rows.len());
                for (item, row) in items.iter().zip(&rows) {
                    if row.len() != header.len() {
                        prop_assert!(matches!(item.outcome, Outcome::Invalid(_)), "ragged row mapped");
                    }
                }
            }
            // Only a header problem (duplicate / nested columns) may stop the read.
            Err(e) => prop_assert!(e.to_string().contains("column"), "{e:#}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Named regression files

#[test]
fn invalid_utf8_is_one_invalid_record_at_its_line() {
    let file = fixture("invalid-utf8.ndjson");
    let DryRun { code, lines, .. } = common::dry_run(&[file.to_str().unwrap()], None);
    let (sources, errors) = sources_and_errors(&lines);
    let name = file.display().to_string();
    assert_eq!(sources, [2, 3, 4].map(|l| format!("{name}:{l}")));
    assert_eq!(errors, 1, "{lines:?}");
    assert!(
        lines[1]["error"].as_str().unwrap().contains("UTF-8"),
        "{lines:?}"
    );
    assert_eq!(code, 1);
}

#[test]
fn nul_bytes_are_invalid_records_not_truncation() {
    let file = fixture("nul-bytes.ndjson");
    let DryRun { code, lines, .. } = common::dry_run(&[file.to_str().unwrap()], None);
    let (sources, errors) = sources_and_errors(&lines);
    assert_eq!(sources.len(), 3, "{lines:?}");
    // Line 1: a raw NUL inside a string; line 2: NUL outside; line 3: an escaped \u0000 is valid JSON.
    assert!(
        lines[0].get("error").is_some() && lines[1].get("error").is_some(),
        "{lines:?}"
    );
    assert!(errors >= 2);
    assert_eq!(code, 1);
}

#[test]
fn numbers_beyond_i64_and_f64_are_reported_or_kept_never_wrapped() {
    let file = fixture("big-numbers.ndjson");
    let DryRun { code, lines, .. } = common::dry_run(&[file.to_str().unwrap()], None);
    assert_eq!(lines.len(), 4, "{lines:?}");
    // 1e400 and -1e400 do not fit an f64: invalid, with the line.
    for (i, line) in lines.iter().enumerate().take(2) {
        let error = line["error"]
            .as_str()
            .unwrap_or_else(|| panic!("line {i}: {line}"));
        assert!(error.contains("number"), "{error}");
    }
    // 2^70 is above i64 and u64: it must not come out as a wrapped or saturated integer.
    let attrs = &lines[2]["operation"]["attributes"];
    let big = attrs["big"]
        .as_f64()
        .unwrap_or_else(|| panic!("{}", lines[2]));
    assert_eq!(big, 2f64.powi(70));
    assert_ne!(attrs["big"], json!(u64::MAX));
    // A tiny number underflows to zero, as in JavaScript (Segment's own JSON parser).
    assert!(lines[3].get("operation").is_some(), "{}", lines[3]);
    assert_eq!(code, 1);
}

#[test]
fn duplicate_keys_take_the_last_value_like_javascript() {
    let file = fixture("duplicate-keys.ndjson");
    let DryRun { code, lines, .. } = common::dry_run(&[file.to_str().unwrap()], None);
    assert_eq!(lines.len(), 1, "{lines:?}");
    let op = &lines[0]["operation"];
    assert_eq!(op["identifiers"]["id"], "second", "{op}");
    assert_eq!(op["name"], "Played", "{op}");
    assert_eq!(code, 0);
}

#[test]
fn csv_with_quotes_and_newlines_inside_cells() {
    let file = fixture("quoted-newlines.csv");
    let DryRun {
        code,
        lines,
        stderr,
    } = common::dry_run(&[file.to_str().unwrap()], None);
    let (sources, errors) = sources_and_errors(&lines);
    let name = file.display().to_string();
    // Each record's location is the line it starts on.
    assert_eq!(
        sources,
        [2, 4, 5, 6].map(|l| format!("{name}:{l}")),
        "{stderr}"
    );
    let first = &lines[0]["operation"]["attributes"];
    assert_eq!(
        first["note"], "line one\nline \"two\", with a comma",
        "{}",
        lines[0]
    );
    assert_eq!(errors, 1, "the ragged row: {lines:?}");
    assert!(
        lines[3]["error"].as_str().unwrap().contains("cells"),
        "{}",
        lines[3]
    );
    assert_eq!(code, 1);
}

#[test]
fn header_only_csv_and_empty_files_have_no_records() {
    for name in ["header-only.csv", "empty.ndjson", "empty.csv"] {
        let DryRun {
            code,
            lines,
            stderr,
        } = common::dry_run(&[fixture(name).to_str().unwrap()], None);
        assert!(lines.is_empty(), "{name}: {lines:?}");
        assert_eq!(code, 0, "{name}: {stderr}");
    }
}

#[test]
fn a_missing_file_and_a_directory_are_usage_errors_naming_the_path() {
    let dir = common::tempdir();
    let missing = dir.path().join("not-there.ndjson");
    for (path, what) in [(missing.as_path(), "not-there.ndjson"), (dir.path(), "")] {
        for command in ["validate", "dry-run"] {
            let out = common::cio()
                .arg(command)
                .arg(path)
                .timeout(HANG)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(2),
                "{command} {}: {stderr}",
                path.display()
            );
            assert!(stderr.contains(&path.display().to_string()), "{stderr}");
            assert!(stderr.contains(what), "{stderr}");
            assert!(!stderr.contains("panicked"), "{stderr}");
            assert!(out.stdout.is_empty());
        }
    }
}

#[test]
fn deeply_nested_json_is_an_invalid_record_not_a_stack_overflow() {
    let dir = common::tempdir();
    let path = dir.path().join("deep.ndjson");
    let depth = 10_000;
    let mut f = std::fs::File::create(&path).unwrap();
    writeln!(
        f,
        r#"{{"type":"track","event":"ok","userId":"u1","timestamp":"2020-01-01T00:00:00Z"}}"#
    )
    .unwrap();
    write!(
        f,
        r#"{{"type":"track","event":"deep","userId":"u1","properties":"#
    )
    .unwrap();
    f.write_all("[".repeat(depth).as_bytes()).unwrap();
    f.write_all("]".repeat(depth).as_bytes()).unwrap();
    writeln!(f, "}}").unwrap();
    write!(f, r#"{{"type":"identify","userId":"u2","traits":"#).unwrap();
    f.write_all("{\"a\":".repeat(depth).as_bytes()).unwrap();
    f.write_all(b"1").unwrap();
    f.write_all("}".repeat(depth).as_bytes()).unwrap();
    writeln!(f, "}}").unwrap();
    drop(f);
    let DryRun { code, lines, .. } = common::dry_run(&[path.to_str().unwrap()], None);
    let (sources, errors) = sources_and_errors(&lines);
    assert_eq!(sources.len(), 3, "{lines:?}");
    assert_eq!(errors, 2, "{lines:?}");
    assert!(sources[2].ends_with(":3"));
    assert_eq!(code, 1);

    // The same through a CSV `:json` cell.
    let csv = dir.path().join("deep.csv");
    let cell = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    std::fs::write(
        &csv,
        format!("type,event,userId,properties.x:json\ntrack,e,u1,{cell}\n"),
    )
    .unwrap();
    let DryRun { code, lines, .. } = common::dry_run(&[csv.to_str().unwrap()], None);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].get("error").is_some(), "{}", lines[0]);
    assert_eq!(code, 1);
}

#[test]
fn a_20_mb_line_is_read_and_reported_and_the_next_line_still_counts() {
    let dir = common::tempdir();
    let path = dir.path().join("long.ndjson");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    write!(
        f,
        r#"{{"type":"track","event":"big","userId":"u1","properties":{{"blob":""#
    )
    .unwrap();
    let chunk = "abcdefghij".repeat(100_000);
    for _ in 0..20 {
        f.write_all(chunk.as_bytes()).unwrap();
    }
    writeln!(f, r#""}}}}"#).unwrap();
    writeln!(
        f,
        r#"{{"type":"track","event":"small","userId":"u1","timestamp":"2020-01-01T00:00:00Z"}}"#
    )
    .unwrap();
    drop(f);
    let DryRun { code, lines, .. } = common::dry_run(&[path.to_str().unwrap()], None);
    let (sources, errors) = sources_and_errors(&lines);
    assert_eq!(sources.len(), 2, "two records");
    assert!(
        sources[0].ends_with(":1") && sources[1].ends_with(":2"),
        "{sources:?}"
    );
    // Far above Customer.io's 32,000-byte operation limit: invalid, said so, not sent.
    assert_eq!(errors, 1);
    let error = lines[0]["error"].as_str().unwrap();
    assert!(
        error.contains("32") || error.contains("limit") || error.contains("bytes"),
        "{error}"
    );
    assert_eq!(code, 1);
}
