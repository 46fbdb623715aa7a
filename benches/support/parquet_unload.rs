//! A Segment warehouse `tracks` table as a Parquet unload (what Snowflake's or BigQuery's unload
//! writes), made deterministically with the `parquet` crate's writer: for the `gen-parquet`
//! example (the benchmark, the README's fixture) and the integration tests.
//!
//! [`Shape::Warehouse`] columns: `id`, `user_id` (null for one row in five, which have an
//! `anonymous_id` instead), `anonymous_id`, `event`, `timestamp` (microseconds, UTC, spread over
//! the first half of 2024), `context_ip`, `plan` (null for one row in three), `revenue`
//! (DECIMAL(18,2)), `quantity` (int64) and `tags` (a list of strings).
//!
//! [`Shape::Segment`]: the same rows as Segment-spec track events (`type`, `event`, `userId`,
//! `anonymousId`, `messageId`, `timestamp`, a `properties` group and a `context` group), which
//! map with no transform. [`Shape::Flat`]: the Segment-spec columns with `properties` and
//! `context` as JSON text (`JSON` columns, as a warehouse unloads a VARIANT), no group at all.

use std::io::Write;
use std::sync::Arc;

use anyhow::Result;
use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, DataType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

/// Which table the rows are written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Segment's warehouse `tracks` table (snake_case columns; needs `fixtures/exports/tracks.jq`).
    Warehouse,
    /// Segment-spec track events, mapped as they are.
    Segment,
    /// Segment-spec track events in flat columns, `properties` and `context` JSON text.
    Flat,
}

const FLAT: &str = "message events {
  required binary type (UTF8);
  required binary event (UTF8);
  optional binary userId (UTF8);
  optional binary anonymousId (UTF8);
  required binary messageId (UTF8);
  required int64 timestamp (TIMESTAMP_MICROS);
  required binary properties (JSON);
  required binary context (JSON);
}";

const SEGMENT: &str = "message events {
  required binary type (UTF8);
  required binary event (UTF8);
  optional binary userId (UTF8);
  optional binary anonymousId (UTF8);
  required binary messageId (UTF8);
  required int64 timestamp (TIMESTAMP_MICROS);
  required group properties {
    optional binary plan (UTF8);
    optional int64 revenue (DECIMAL(18,2));
    optional int64 quantity;
    optional group tags (LIST) { repeated group list { optional binary element (UTF8); } }
  }
  required group context { optional binary ip (UTF8); }
}";

/// The columns, by what they hold, in each shape's order.
#[derive(Debug, Clone, Copy)]
enum Key {
    Type,
    Id,
    UserId,
    AnonymousId,
    Event,
    Timestamp,
    ContextIp,
    Plan,
    Revenue,
    Quantity,
    Tags,
    PropertiesJson,
    ContextJson,
}

const WAREHOUSE_ORDER: [Key; 10] = [
    Key::Id,
    Key::UserId,
    Key::AnonymousId,
    Key::Event,
    Key::Timestamp,
    Key::ContextIp,
    Key::Plan,
    Key::Revenue,
    Key::Quantity,
    Key::Tags,
];

const SEGMENT_ORDER: [Key; 11] = [
    Key::Type,
    Key::Event,
    Key::UserId,
    Key::AnonymousId,
    Key::Id,
    Key::Timestamp,
    Key::Plan,
    Key::Revenue,
    Key::Quantity,
    Key::Tags,
    Key::ContextIp,
];

const FLAT_ORDER: [Key; 8] = [
    Key::Type,
    Key::Event,
    Key::UserId,
    Key::AnonymousId,
    Key::Id,
    Key::Timestamp,
    Key::PropertiesJson,
    Key::ContextJson,
];

const WAREHOUSE: &str = "message tracks {
  required binary id (UTF8);
  optional binary user_id (UTF8);
  optional binary anonymous_id (UTF8);
  required binary event (UTF8);
  required int64 timestamp (TIMESTAMP_MICROS);
  optional binary context_ip (UTF8);
  optional binary plan (UTF8);
  optional int64 revenue (DECIMAL(18,2));
  optional int64 quantity;
  optional group tags (LIST) { repeated group list { optional binary element (UTF8); } }
}";

const EVENTS: [&str; 5] = [
    "Order Completed",
    "Product Viewed",
    "Cart Viewed",
    "Checkout Started",
    "Coupon Applied",
];
const PLANS: [&str; 3] = ["free", "pro", "team"];
const TAGS: [&str; 4] = ["web", "mobile", "promo", "returning"];
/// 2024-01-01T00:00:00Z, and half a year, in microseconds.
const START_MICROS: i64 = 1_704_067_200_000_000;
const SPAN_MICROS: i64 = 181 * 86_400 * 1_000_000;

/// One row group's columns, built row by row.
#[derive(Default)]
struct Columns {
    kind: Vec<ByteArray>,
    id: Vec<ByteArray>,
    user_id: (Vec<ByteArray>, Vec<i16>),
    anonymous_id: (Vec<ByteArray>, Vec<i16>),
    event: Vec<ByteArray>,
    timestamp: Vec<i64>,
    context_ip: (Vec<ByteArray>, Vec<i16>),
    plan: (Vec<ByteArray>, Vec<i16>),
    revenue: (Vec<i64>, Vec<i16>),
    quantity: (Vec<i64>, Vec<i16>),
    tags: (Vec<ByteArray>, Vec<i16>, Vec<i16>),
    properties_json: Vec<ByteArray>,
    context_json: Vec<ByteArray>,
}

fn text(value: String) -> ByteArray {
    ByteArray::from(value.into_bytes())
}

impl Columns {
    fn push(&mut self, row: u64, rng: &mut fastrand::Rng) {
        self.kind.push(ByteArray::from("track"));
        self.id.push(text(format!("msg-{row:08}")));
        if rng.u8(..5) == 0 {
            self.user_id.1.push(0);
            self.anonymous_id
                .0
                .push(text(format!("anon-{}", rng.u32(..1_000_000))));
            self.anonymous_id.1.push(1);
        } else {
            self.user_id
                .0
                .push(text(format!("user-{}", rng.u32(..50_000))));
            self.user_id.1.push(1);
            self.anonymous_id.1.push(0);
        }
        self.event
            .push(ByteArray::from(EVENTS[rng.usize(..EVENTS.len())]));
        self.timestamp.push(START_MICROS + rng.i64(0..SPAN_MICROS));
        let ip = format!("10.{}.{}.{}", rng.u8(..), rng.u8(..), rng.u8(1..255));
        self.context_json.push(text(format!(r#"{{"ip":"{ip}"}}"#)));
        self.context_ip.0.push(text(ip));
        self.context_ip.1.push(1);
        if rng.u8(..3) == 0 {
            self.plan.1.push(0);
        } else {
            self.plan
                .0
                .push(ByteArray::from(PLANS[rng.usize(..PLANS.len())]));
            self.plan.1.push(1);
        }
        self.revenue.0.push(rng.i64(0..100_000));
        self.revenue.1.push(1);
        self.quantity.0.push(rng.i64(1..10));
        self.quantity.1.push(1);
        // tags: optional list (1), repeated group (2), optional element (3).
        let count = rng.usize(..3);
        if count == 0 {
            self.tags.1.push(1);
            self.tags.2.push(0);
        }
        let mut tags = Vec::with_capacity(count);
        for i in 0..count {
            let tag = TAGS[rng.usize(..TAGS.len())];
            tags.push(format!("\"{tag}\""));
            self.tags.0.push(ByteArray::from(tag));
            self.tags.1.push(3);
            self.tags.2.push(if i == 0 { 0 } else { 1 });
        }
        // The same properties as JSON text, in the Segment shape's order.
        let plan = match self.plan.1.last() {
            Some(1) => self.plan.0.last().and_then(|p| p.as_utf8().ok()),
            _ => None,
        };
        let plan = plan
            .map(|p| format!(r#""plan":"{p}","#))
            .unwrap_or_default();
        let revenue = self.revenue.0.last().copied().unwrap_or(0);
        let quantity = self.quantity.0.last().copied().unwrap_or(0);
        self.properties_json.push(text(format!(
            r#"{{{plan}"revenue":{}.{:02},"quantity":{quantity},"tags":[{}]}}"#,
            revenue / 100,
            revenue % 100,
            tags.join(",")
        )));
    }
}

/// Write `rows` rows to `out` as `shape`, `group_rows` to a row group, pages compressed with
/// `compression`. The same `rows` and `seed` always give the same rows.
pub fn write_tracks<W: Write + Send>(
    out: W,
    shape: Shape,
    rows: u64,
    seed: u64,
    group_rows: u64,
    compression: Compression,
) -> Result<()> {
    let (schema, order) = match shape {
        Shape::Warehouse => (WAREHOUSE, &WAREHOUSE_ORDER[..]),
        Shape::Segment => (SEGMENT, &SEGMENT_ORDER[..]),
        Shape::Flat => (FLAT, &FLAT_ORDER[..]),
    };
    let schema = Arc::new(parse_message_type(schema)?);
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(compression)
            .build(),
    );
    let mut writer = SerializedFileWriter::new(out, schema, props)?;
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut row = 0;
    while row < rows {
        let end = rows.min(row + group_rows.max(1));
        let mut columns = Columns::default();
        for n in row..end {
            columns.push(n, &mut rng);
        }
        row = end;
        let mut group = writer.next_row_group()?;
        let c = &columns;
        for key in order {
            let Some(mut chunk) = group.next_column()? else {
                anyhow::bail!("the schema has fewer columns than the rows");
            };
            let (bytes, ints) = (put::<ByteArrayType>, put::<Int64Type>);
            match key {
                Key::Type => bytes(&mut chunk, &c.kind, None, None),
                Key::Id => bytes(&mut chunk, &c.id, None, None),
                Key::UserId => bytes(&mut chunk, &c.user_id.0, Some(&c.user_id.1), None),
                Key::AnonymousId => {
                    bytes(&mut chunk, &c.anonymous_id.0, Some(&c.anonymous_id.1), None)
                }
                Key::Event => bytes(&mut chunk, &c.event, None, None),
                Key::Timestamp => ints(&mut chunk, &c.timestamp, None, None),
                Key::ContextIp => bytes(&mut chunk, &c.context_ip.0, Some(&c.context_ip.1), None),
                Key::Plan => bytes(&mut chunk, &c.plan.0, Some(&c.plan.1), None),
                Key::Revenue => ints(&mut chunk, &c.revenue.0, Some(&c.revenue.1), None),
                Key::Quantity => ints(&mut chunk, &c.quantity.0, Some(&c.quantity.1), None),
                Key::PropertiesJson => bytes(&mut chunk, &c.properties_json, None, None),
                Key::ContextJson => bytes(&mut chunk, &c.context_json, None, None),
                Key::Tags => bytes(&mut chunk, &c.tags.0, Some(&c.tags.1), Some(&c.tags.2)),
            }?;
            chunk.close()?;
        }
        group.close()?;
    }
    writer.close()?;
    Ok(())
}

/// Write one column chunk's values with their levels.
fn put<T: DataType>(
    chunk: &mut parquet::file::writer::SerializedColumnWriter<'_>,
    values: &[T::T],
    def: Option<&[i16]>,
    rep: Option<&[i16]>,
) -> parquet::errors::Result<usize> {
    chunk.typed::<T>().write_batch(values, def, rep)
}
