use std::path::Path;
use std::sync::Arc;

use parquet::basic::{Compression, GzipLevel, ZstdLevel};
use parquet::data_type::{
    BoolType, ByteArray, ByteArrayType, DoubleType, FixedLenByteArray, FixedLenByteArrayType,
    FloatType, Int32Type, Int64Type, Int96, Int96Type,
};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use serde_json::{Value, json};

use crate::source::{InputError, InputFormat, Inputs, MAX_LINE_BYTES};

/// One column chunk to write: values (nulls left out) and, for optional or repeated columns, levels.
struct Column {
    values: Values,
    def: Option<Vec<i16>>,
    rep: Option<Vec<i16>>,
}

enum Values {
    Bool(Vec<bool>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    I96(Vec<Int96>),
    F32(Vec<f32>),
    F64(Vec<f64>),
    Bytes(Vec<ByteArray>),
    Fixed(Vec<FixedLenByteArray>),
}

fn col(values: Values, def: &[i16]) -> Column {
    Column {
        values,
        def: Some(def.to_vec()),
        rep: None,
    }
}

fn repeated(values: Values, def: &[i16], rep: &[i16]) -> Column {
    Column {
        values,
        def: Some(def.to_vec()),
        rep: Some(rep.to_vec()),
    }
}

fn required(values: Values) -> Column {
    Column {
        values,
        def: None,
        rep: None,
    }
}

/// One row group of the schema `message m { required binary type (UTF8); required int64 n; }`:
/// rows `from..to`, each a track whose `n` is its number.
fn numbered(from: i64, to: i64) -> Vec<Column> {
    let n: Vec<i64> = (from..to).collect();
    let types: Vec<&str> = n.iter().map(|_| "track").collect();
    vec![required(text(&types)), required(Values::I64(n))]
}

fn text(values: &[&str]) -> Values {
    Values::Bytes(values.iter().map(|v| ByteArray::from(*v)).collect())
}

/// Write a Parquet file: one row group per entry of `groups`, each a column chunk per column.
fn write(path: &Path, schema: &str, compression: Compression, groups: Vec<Vec<Column>>) {
    let schema = Arc::new(parse_message_type(schema).unwrap());
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(compression)
            .build(),
    );
    let file = std::fs::File::create(path).unwrap();
    let mut writer = SerializedFileWriter::new(file, schema, props).unwrap();
    for columns in groups {
        let mut group = writer.next_row_group().unwrap();
        for column in columns {
            let mut chunk = group.next_column().unwrap().unwrap();
            let (def, rep) = (column.def.as_deref(), column.rep.as_deref());
            match &column.values {
                Values::Bool(v) => chunk.typed::<BoolType>().write_batch(v, def, rep),
                Values::I32(v) => chunk.typed::<Int32Type>().write_batch(v, def, rep),
                Values::I64(v) => chunk.typed::<Int64Type>().write_batch(v, def, rep),
                Values::I96(v) => chunk.typed::<Int96Type>().write_batch(v, def, rep),
                Values::F32(v) => chunk.typed::<FloatType>().write_batch(v, def, rep),
                Values::F64(v) => chunk.typed::<DoubleType>().write_batch(v, def, rep),
                Values::Bytes(v) => chunk.typed::<ByteArrayType>().write_batch(v, def, rep),
                Values::Fixed(v) => chunk
                    .typed::<FixedLenByteArrayType>()
                    .write_batch(v, def, rep),
            }
            .unwrap();
            chunk.close().unwrap();
        }
        assert!(group.next_column().unwrap().is_none(), "a column left out");
        group.close().unwrap();
    }
    writer.close().unwrap();
}

fn read_all(path: &Path) -> Vec<crate::source::Record> {
    Inputs::open(&[path.to_path_buf()], None, MAX_LINE_BYTES)
        .unwrap()
        .collect()
}

fn events(path: &Path) -> Vec<Value> {
    read_all(path)
        .into_iter()
        .map(|record| record.event.unwrap())
        .collect()
}

const TYPES: &str = "message unload {
  required binary type (UTF8);
  optional binary user_id (UTF8);
  optional int64 at_ms (TIMESTAMP_MILLIS);
  optional int64 at_us (TIMESTAMP_MICROS);
  optional int64 at_ns (TIMESTAMP(NANOS,true));
  optional int96 at_legacy;
  optional int64 big;
  optional int32 small (INT_8);
  optional int32 cents (DECIMAL(9,2));
  optional fixed_len_byte_array(16) wide (DECIMAL(38,0));
  optional int32 day (DATE);
  optional float ratio;
  optional double score;
  optional binary props (JSON);
  optional binary raw;
  optional group context { optional binary ip (UTF8); optional boolean active; }
  optional group tags (LIST) { repeated group list { optional binary element (UTF8); } }
  optional group attrs (MAP) { repeated group key_value { required binary key (UTF8); optional int64 value; } }
}";

/// 2024-05-01T12:34:56.789Z as INT96: nanoseconds of the day, then the Julian day.
fn legacy_time() -> Int96 {
    let nanos: u64 = (12 * 3600 + 34 * 60 + 56) * 1_000_000_000 + 789_000_000;
    let mut value = Int96::new();
    value.set_data(nanos as u32, (nanos >> 32) as u32, 2_440_588 + 19_844);
    value
}

fn types_file(path: &Path, compression: Compression) {
    let wide = 10i128.pow(30).to_be_bytes().to_vec();
    let columns = vec![
        col(text(&["track", "identify"]), &[1, 1]),
        col(text(&["u1"]), &[1, 0]),
        col(Values::I64(vec![1_714_566_896_123]), &[1, 0]),
        col(Values::I64(vec![1_714_566_896_123_456]), &[1, 0]),
        col(Values::I64(vec![1_714_566_896_123_456_789]), &[1, 0]),
        col(Values::I96(vec![legacy_time()]), &[1, 0]),
        col(Values::I64(vec![9_007_199_254_740_993]), &[1, 0]),
        col(Values::I32(vec![-5]), &[1, 0]),
        col(Values::I32(vec![12345, -7]), &[1, 1]),
        col(Values::Fixed(vec![FixedLenByteArray::from(wide)]), &[1, 0]),
        col(Values::I32(vec![19_844]), &[1, 0]),
        col(Values::F32(vec![0.1]), &[1, 0]),
        col(Values::F64(vec![2.5, f64::NAN]), &[1, 1]),
        col(text(&[r#"{"plan":"pro","seats":3}"#, "not json"]), &[1, 1]),
        col(
            Values::Bytes(vec![
                ByteArray::from("plain"),
                ByteArray::from(vec![0xFF, 0xFE]),
            ]),
            &[1, 1],
        ),
        col(text(&["1.2.3.4"]), &[2, 1]),
        col(Values::Bool(vec![true, false]), &[2, 2]),
        repeated(text(&["a", "b"]), &[3, 2, 3, 1], &[0, 1, 1, 0]),
        repeated(text(&["x", "y"]), &[2, 2, 0], &[0, 1, 0]),
        repeated(Values::I64(vec![1]), &[3, 2, 0], &[0, 1, 0]),
    ];
    write(path, TYPES, compression, vec![columns]);
}

#[test]
fn rows_become_objects_typed_by_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("types.parquet");
    types_file(&path, Compression::SNAPPY);
    let events = events(&path);
    assert_eq!(
        events[0],
        json!({
            "type": "track",
            "user_id": "u1",
            "at_ms": "2024-05-01T12:34:56.123Z",
            "at_us": "2024-05-01T12:34:56.123456Z",
            "at_ns": "2024-05-01T12:34:56.123456789Z",
            "at_legacy": "2024-05-01T12:34:56.789Z",
            "big": 9_007_199_254_740_993u64,
            "small": -5,
            "cents": 123.45,
            "wide": 1e30,
            "day": "2024-05-01",
            "ratio": 0.1,
            "score": 2.5,
            "props": {"plan": "pro", "seats": 3},
            "raw": "plain",
            "context": {"ip": "1.2.3.4", "active": true},
            "tags": ["a", null, "b"],
            "attrs": {"x": 1, "y": null},
        })
    );
    // Null columns are left out; NaN is null; a JSON column that does not parse stays text;
    // bytes that are not UTF-8 are base64; an empty list stays a list.
    assert_eq!(
        events[1],
        json!({
            "type": "identify",
            "cents": -0.07,
            "score": null,
            "props": "not json",
            "raw": "//4=",
            "context": {"active": false},
            "tags": [],
        })
    );
}

#[test]
fn every_codec_reads_and_rows_are_located_across_row_groups() {
    let dir = tempfile::tempdir().unwrap();
    for (name, codec) in [
        ("plain", Compression::UNCOMPRESSED),
        ("snappy", Compression::SNAPPY),
        ("gzip", Compression::GZIP(GzipLevel::default())),
        ("zstd", Compression::ZSTD(ZstdLevel::default())),
    ] {
        let path = dir.path().join(format!("{name}.parquet"));
        let schema = "message m { required binary type (UTF8); required int64 n; }";
        write(&path, schema, codec, vec![numbered(0, 3), numbered(3, 5)]);
        let records = read_all(&path);
        let seen: Vec<(String, u64, Value)> = records
            .into_iter()
            .map(|r| {
                (
                    r.location.to_string(),
                    r.index,
                    r.event.unwrap()["n"].clone(),
                )
            })
            .collect();
        let file = path.display().to_string();
        let want: Vec<(String, u64, Value)> = (0..5u64)
            .map(|i| (format!("{file}:{}", i + 1), i, json!(i)))
            .collect();
        assert_eq!(seen, want, "{name}");
    }
}

#[test]
fn the_original_is_the_rows_compact_json_and_a_huge_row_is_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.parquet");
    let long = "x".repeat(5000);
    let schema = "message m { required binary type (UTF8); required binary note (UTF8); }";
    let columns = vec![
        required(text(&["track", "track"])),
        required(text(&["short", &long])),
    ];
    write(&path, schema, Compression::SNAPPY, vec![columns]);
    let records: Vec<_> = Inputs::open(std::slice::from_ref(&path), None, 4096)
        .unwrap()
        .collect();
    assert_eq!(records[0].original, r#"{"type":"track","note":"short"}"#);
    match &records[1].event {
        Err(InputError::RowTooLong { bytes, limit }) => {
            assert_eq!((*bytes, *limit), (5000 + 26, 4096));
        }
        other => panic!("{other:?}"),
    }
    assert!(records[1].original.ends_with('…'));
    assert!(records[1].original.len() <= crate::source::csv_records::PREFIX_BYTES + 3);
}

#[test]
fn files_that_cannot_be_read_are_refused_up_front() {
    let dir = tempfile::tempdir().unwrap();
    let open = |path: &Path, format: Option<InputFormat>| match Inputs::open(
        &[path.to_path_buf()],
        format,
        MAX_LINE_BYTES,
    ) {
        Ok(_) => panic!("{} opened", path.display()),
        Err(e) => format!("{e:#}"),
    };
    let not_parquet = dir.path().join("events.parquet");
    std::fs::write(&not_parquet, "{\"type\":\"track\"}\n").unwrap();
    assert!(
        open(&not_parquet, None).contains("is not a readable Parquet file"),
        "{}",
        open(&not_parquet, None)
    );

    let zipped = dir.path().join("unload.parquet.gz");
    std::fs::write(&zipped, b"\x1f\x8b\x08\x00").unwrap();
    assert!(open(&zipped, None).contains("decompress it first"));

    let stdin = Path::new("-");
    assert!(open(stdin, Some(InputFormat::Parquet)).contains("standard input"));

    // A column the row API cannot convert (INTERVAL) would make it panic: refused, named.
    let interval = dir.path().join("interval.parquet");
    let schema = "message m { required fixed_len_byte_array(12) wait (INTERVAL); }";
    let columns = vec![required(Values::Fixed(vec![FixedLenByteArray::from(
        vec![0u8; 12],
    )]))];
    write(&interval, schema, Compression::SNAPPY, vec![columns]);
    let message = open(&interval, None);
    assert!(
        message.contains("column `wait`") && message.contains("INTERVAL"),
        "{message}"
    );
}

#[test]
fn a_corrupt_page_is_one_read_error_at_its_row_and_ends_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corrupt.parquet");
    let schema = "message m { required binary type (UTF8); required int64 n; }";
    write(
        &path,
        schema,
        Compression::SNAPPY,
        vec![numbered(0, 1000), numbered(1000, 2000)],
    );
    // Overwrite the second row group's pages (the footer, which locates them, stays whole).
    let mut bytes = std::fs::read(&path).unwrap();
    let reader = super::open_reader(&path).unwrap();
    let second = parquet::file::reader::FileReader::metadata(&reader).row_group(1);
    let (start, _) = second.column(0).byte_range();
    let start = usize::try_from(start).unwrap();
    for byte in &mut bytes[start..start + 64] {
        *byte = 0xA5;
    }
    std::fs::write(&path, bytes).unwrap();

    let records = read_all(&path);
    assert_eq!(records.len(), 1001, "1000 rows, then the error");
    assert!(records[..1000].iter().all(|r| r.event.is_ok()));
    let last = &records[1000];
    assert!(last.is_read_error(), "{:?}", last.event);
    assert_eq!(last.location.line, 1001);
    assert!(
        last.event
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("Parquet row 1001"),
        "{:?}",
        last.event
    );
}

/// The column readers make of a flat file what the row API makes of it: every type, nulls,
/// several row groups and batches.
#[test]
fn flat_files_read_by_column_equal_the_row_api() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flat.parquet");
    let schema = "message flat {
      required binary type (UTF8);
      optional binary user_id (UTF8);
      optional int64 at_ms (TIMESTAMP_MILLIS);
      optional int64 at_us (TIMESTAMP_MICROS);
      optional int64 at_ns (TIMESTAMP(NANOS,true));
      optional int96 at_legacy;
      optional int64 big;
      optional int32 small (INT_8);
      optional int32 cents (DECIMAL(9,2));
      optional fixed_len_byte_array(16) wide (DECIMAL(38,0));
      optional int32 day (DATE);
      optional float ratio;
      optional double score;
      optional binary props (JSON);
      optional binary raw;
      optional boolean active;
    }";
    // 2,500 rows a group (three batches), two groups; every other value null.
    let group = |from: usize| {
        let n = 2500;
        let every: Vec<i16> = (0..n)
            .map(|i| i16::from((from + i).is_multiple_of(2)))
            .collect();
        let present = every.iter().filter(|&&d| d == 1).count();
        let texts: Vec<String> = (0..present).map(|i| format!("u{}", from + i)).collect();
        let text_refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let i64s: Vec<i64> = (0..present as i64).map(|i| 1_714_566_896_123 + i).collect();
        let i32s: Vec<i32> = (0..present as i32).map(|i| i - 100).collect();
        let types: Vec<&str> = (0..n).map(|_| "track").collect();
        vec![
            required(text(&types)),
            col(text(&text_refs), &every),
            col(Values::I64(i64s.clone()), &every),
            col(Values::I64(i64s.iter().map(|v| v * 1000).collect()), &every),
            col(
                Values::I64(i64s.iter().map(|v| v * 1_000_000).collect()),
                &every,
            ),
            col(Values::I96(vec![legacy_time(); present]), &every),
            col(Values::I64(i64s.iter().map(|v| v << 10).collect()), &every),
            col(Values::I32(i32s.iter().map(|v| v % 100).collect()), &every),
            col(Values::I32(i32s.clone()), &every),
            col(
                Values::Fixed(
                    i32s.iter()
                        .map(|v| FixedLenByteArray::from(i128::from(*v).to_be_bytes().to_vec()))
                        .collect(),
                ),
                &every,
            ),
            col(
                Values::I32(i32s.iter().map(|v| v + 19_000).collect()),
                &every,
            ),
            col(
                Values::F32(i32s.iter().map(|v| *v as f32 / 10.0).collect()),
                &every,
            ),
            col(
                Values::F64(i32s.iter().map(|v| f64::from(*v) / 3.0).collect()),
                &every,
            ),
            col(text(&vec![r#"{"a":[1,{"b":null}]}"#; present]), &every),
            col(
                Values::Bytes(vec![ByteArray::from(vec![0xFF, b'a']); present]),
                &every,
            ),
            col(
                Values::Bool((0..present).map(|i| i.is_multiple_of(3)).collect()),
                &every,
            ),
        ]
    };
    write(
        &path,
        schema,
        Compression::SNAPPY,
        vec![group(0), group(2500)],
    );
    let read = |flat: bool| -> Vec<(String, String)> {
        let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let mut reader = super::ParquetReader::open_as(
            &path,
            "flat.parquet".into(),
            0,
            MAX_LINE_BYTES,
            counter,
            flat,
        )
        .unwrap();
        assert_eq!(matches!(reader.rows, super::Rows::Flat(_)), flat);
        std::iter::from_fn(|| reader.next_record())
            .map(|unparsed| {
                let record = unparsed.parse();
                (record.location.to_string(), record.original)
            })
            .collect()
    };
    let by_column = read(true);
    assert_eq!(by_column.len(), 5000);
    assert_eq!(by_column, read(false));
    assert!(
        by_column[0].1.contains(r#""props":{"a":[1,{"b":null}]}"#),
        "{}",
        by_column[0].1
    );
    assert!(!by_column[1].1.contains("user_id"), "{}", by_column[1].1);
}

/// A page damaged in the middle of a row group: the rows before it are all read (up to the 64
/// rows of one read before the damage), then the read error, at the row after the last one read.
#[test]
fn a_damaged_page_mid_group_keeps_the_rows_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pages.parquet");
    let schema = Arc::new(
        parse_message_type("message m { required binary type (UTF8); required int64 n; }").unwrap(),
    );
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::UNCOMPRESSED)
            .set_dictionary_enabled(false)
            .set_data_page_row_count_limit(500)
            .set_write_batch_size(500)
            .build(),
    );
    let mut writer =
        SerializedFileWriter::new(std::fs::File::create(&path).unwrap(), schema, props).unwrap();
    let mut group = writer.next_row_group().unwrap();
    let n: Vec<i64> = (0..5000).collect();
    let types: Vec<ByteArray> = n.iter().map(|_| ByteArray::from("track")).collect();
    let mut chunk = group.next_column().unwrap().unwrap();
    chunk
        .typed::<ByteArrayType>()
        .write_batch(&types, None, None)
        .unwrap();
    chunk.close().unwrap();
    let mut chunk = group.next_column().unwrap().unwrap();
    chunk
        .typed::<Int64Type>()
        .write_batch(&n, None, None)
        .unwrap();
    chunk.close().unwrap();
    group.close().unwrap();
    writer.close().unwrap();
    // The page that starts at row 2500: its header is just before the value 2500.
    let mut bytes = std::fs::read(&path).unwrap();
    let value = 2500i64.to_le_bytes();
    let at = bytes.windows(8).position(|w| w == value).unwrap();
    bytes[at - 12..at].fill(0xA5);
    std::fs::write(&path, bytes).unwrap();

    let records = read_all(&path);
    let last = records.last().unwrap();
    assert!(last.is_read_error(), "{:?}", last.event);
    let kept = &records[..records.len() - 1];
    assert!(
        kept.len() >= 2500 - 64 && kept.len() <= 2500,
        "{}",
        kept.len()
    );
    for (i, record) in kept.iter().enumerate() {
        assert_eq!(
            record.event.as_ref().unwrap()["n"],
            i as i64,
            "row {}",
            i + 1
        );
    }
    assert_eq!(last.location.line, kept.len() as u64 + 1);
}

/// Decimals of any width and scale the format allows become numbers without panicking: a huge
/// scale is 0, a decimal wider than 16 bytes is read exactly, one beyond a double stays text.
#[test]
fn decimals_of_any_width_and_scale_are_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("decimals.parquet");
    let schema = "message m {
      required binary type (UTF8);
      required binary tiny (DECIMAL(70000,70000));
      required binary wide (DECIMAL(60,2));
      required binary huge (DECIMAL(400,0));
    }";
    let mut wide = vec![0u8; 4];
    wide.extend_from_slice(&12345i128.to_be_bytes());
    let mut huge = vec![0x7Fu8];
    huge.extend(std::iter::repeat_n(0xFF, 160));
    let plain = |bytes: Vec<u8>| required(Values::Bytes(vec![ByteArray::from(bytes)]));
    let columns = vec![
        plain(b"track".to_vec()),
        plain(vec![0x01]),
        plain(wide),
        plain(huge),
    ];
    write(&path, schema, Compression::SNAPPY, vec![columns]);
    let event = &events(&path)[0];
    assert_eq!(event["tiny"], json!(0.0));
    assert_eq!(event["wide"], json!(123.45));
    assert!(
        event["huge"].as_str().is_some_and(|t| t.len() > 380),
        "{}",
        event["huge"]
    );
}
