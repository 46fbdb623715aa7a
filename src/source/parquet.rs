//! Parquet files (warehouse unloads), row group after row group, a page at a time: each row is a
//! JSON object located `FILE:ROW`. A flat file (every column at the top, none repeated) is read
//! column by column ([`flat`]); a nested one with the `parquet` crate's row API.
//!
//! Values: groups are objects, lists arrays, maps objects (keys as text); strings, enums and
//! byte arrays that are UTF-8 are strings (other bytes base64); `JSON` columns are parsed (kept as
//! text when they do not parse); integers of every width, int64 and decimals are numbers (a
//! decimal with a scale, or above 64 bits, is the nearest double; one beyond a double's range its
//! exact text); timestamps (millis, micros, nanos and legacy INT96) are RFC 3339 strings in UTC;
//! dates `YYYY-MM-DD`; times `HH:MM:SS.fff`. A null column is left out of its object, as an empty
//! CSV cell is; a null list element stays `null`. NaN and infinities, which JSON cannot hold, are
//! `null`.
//!
//! A file is checked up front ([`check`]): its footer must read, every column must have a type
//! the row API converts, a codec this build has, and row counts that agree with the columns; a
//! file that fails is a usage error before any record. A read error later (a corrupt page) is one
//! invalid record, and ends that file: in a flat file at most 64 rows before the damage, every row
//! before it read; in a nested one where the row API meets it. Text that is not UTF-8 in a `UTF8`
//! column makes its row invalid in a flat file; the row API fails on it, so in a nested file it
//! is a read error.

use std::fs::File;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;
use chrono::{DateTime, NaiveDate, NaiveTime, SecondsFormat};
use parquet::basic::{Compression, ConvertedType, LogicalType, TimeUnit, Type as PhysicalType};
use parquet::data_type::Decimal;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::reader::RowIter;
use parquet::record::{Field, Row};
use parquet::schema::types::{Type, TypePtr};
use serde_json::{Map, Number, Value};

use super::{InputError, Location, Unparsed};

/// Values decoded at a time from each column by the row API.
const ROW_BATCH: usize = 4096;

/// Check that `path` is a Parquet file whose every column can be read.
pub(crate) fn check(path: &Path) -> Result<(), String> {
    let reader = open_reader(path)?;
    check_shape(&reader).map_err(|e| format!("{}: {e}", path.display()))
}

/// Check the types, row counts and codecs of an open file.
fn check_shape(reader: &SerializedFileReader<File>) -> Result<(), String> {
    let metadata = reader.metadata().file_metadata();
    let schema = metadata.schema_descr();
    for column in schema.columns() {
        let (physical, converted) = (column.physical_type(), column.converted_type());
        if !readable(physical, converted) {
            return Err(format!(
                "column `{}` is {physical} annotated {converted}, a type cio-replay cannot read; \
                 cast it to a string or a number in the unload",
                column.path().string()
            ));
        }
    }
    let flat = flat::Columns::of(schema).is_some();
    for (g, group) in reader.metadata().row_groups().iter().enumerate() {
        // Rows are counted by these numbers: a wrong one would drop rows or make them up.
        if group.num_rows() < 0 {
            return Err(format!(
                "row group {} says it holds {} rows: the file is corrupt; re-export it",
                g + 1,
                group.num_rows()
            ));
        }
        for chunk in group.columns() {
            // In a flat file every row has exactly one value (or null) in each column.
            if flat && chunk.num_values() != group.num_rows() {
                return Err(format!(
                    "row group {}: column `{}` holds {} values for {} rows: the file is corrupt; \
                     re-export it",
                    g + 1,
                    chunk.column_path().string(),
                    chunk.num_values(),
                    group.num_rows()
                ));
            }
            let codec = chunk.compression();
            if !matches!(
                codec,
                Compression::UNCOMPRESSED
                    | Compression::SNAPPY
                    | Compression::GZIP(_)
                    | Compression::ZSTD(_)
            ) {
                return Err(format!(
                    "column `{}` is compressed with {codec}, which cio-replay does not read; \
                     unload with snappy, zstd or gzip",
                    chunk.column_path().string()
                ));
            }
        }
    }
    Ok(())
}

/// Open the footer of a Parquet file (a panic of the reader on a corrupt footer is its error).
fn open_reader(path: &Path) -> Result<SerializedFileReader<File>, String> {
    let shown = path.display();
    let file = File::open(path).map_err(|e| format!("cannot open {shown}: {e}"))?;
    match panic::catch_unwind(AssertUnwindSafe(|| SerializedFileReader::new(file))) {
        Ok(Ok(reader)) => Ok(reader),
        Ok(Err(e)) => Err(format!("{shown} is not a readable Parquet file: {e}")),
        Err(cause) => Err(format!(
            "{shown} is not a readable Parquet file: {}",
            panic_text(&*cause)
        )),
    }
}

/// The combinations of physical and converted type the row API converts (anything else would
/// stop it with a panic, so such a file is refused up front).
fn readable(physical: PhysicalType, converted: ConvertedType) -> bool {
    use ConvertedType as C;
    match physical {
        PhysicalType::BOOLEAN
        | PhysicalType::INT96
        | PhysicalType::FLOAT
        | PhysicalType::DOUBLE => true,
        PhysicalType::INT32 => matches!(
            converted,
            C::NONE
                | C::INT_8
                | C::INT_16
                | C::INT_32
                | C::UINT_8
                | C::UINT_16
                | C::UINT_32
                | C::DATE
                | C::TIME_MILLIS
                | C::DECIMAL
        ),
        PhysicalType::INT64 => matches!(
            converted,
            C::NONE
                | C::INT_64
                | C::UINT_64
                | C::TIME_MICROS
                | C::TIMESTAMP_MILLIS
                | C::TIMESTAMP_MICROS
                | C::DECIMAL
        ),
        PhysicalType::BYTE_ARRAY => matches!(
            converted,
            C::NONE | C::UTF8 | C::ENUM | C::JSON | C::BSON | C::DECIMAL
        ),
        PhysicalType::FIXED_LEN_BYTE_ARRAY => matches!(converted, C::NONE | C::DECIMAL),
    }
}

/// Rows of one Parquet file as records.
pub(crate) struct ParquetReader {
    rows: Rows,
    name: Arc<str>,
    input: usize,
    max_bytes: usize,
    /// Rows read so far (the next row's 0-based index).
    read: u64,
    /// Rows in the file (from its footer), for byte progress.
    total: u64,
    /// The file's size, shared out to `bytes_read` in proportion to the rows read.
    size: u64,
    counted: u64,
    bytes_read: Arc<AtomicU64>,
    done: bool,
}

/// How a file's rows are read.
enum Rows {
    /// Nested files: the row API, and the schema that types its values.
    Tree(RowIter<'static>, TypePtr),
    /// Flat files: the column readers.
    Flat(flat::FlatRows),
}

/// What the reader got of the next row.
enum Got {
    Row(RowKind),
    End,
    Error(String),
}

impl ParquetReader {
    /// Open `path` (checked already) as input `input`.
    pub(crate) fn open(
        path: &Path,
        name: Arc<str>,
        input: usize,
        max_bytes: usize,
        bytes_read: Arc<AtomicU64>,
    ) -> Result<ParquetReader, String> {
        Self::open_as(path, name, input, max_bytes, bytes_read, true)
    }

    /// [`ParquetReader::open`], reading a flat file with the column readers when `flat`.
    fn open_as(
        path: &Path,
        name: Arc<str>,
        input: usize,
        max_bytes: usize,
        bytes_read: Arc<AtomicU64>,
        flat: bool,
    ) -> Result<ParquetReader, String> {
        let size = std::fs::metadata(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?
            .len();
        let reader = open_reader(path)?;
        let metadata = reader.metadata().file_metadata();
        let schema = metadata.schema_descr().root_schema_ptr();
        let total = u64::try_from(metadata.num_rows()).unwrap_or(0);
        let columns = flat
            .then(|| flat::Columns::of(metadata.schema_descr()))
            .flatten();
        let rows = match columns {
            Some(columns) => Rows::Flat(flat::FlatRows::new(reader, columns)),
            None => Rows::Tree(
                RowIter::from_file_into(Box::new(reader)).with_batch_size(ROW_BATCH),
                schema,
            ),
        };
        Ok(ParquetReader {
            rows,
            name,
            input,
            max_bytes,
            read: 0,
            total,
            size,
            counted: 0,
            bytes_read,
            done: false,
        })
    }

    /// The next row as a record; a read error is one invalid record, and the end of this file.
    pub(crate) fn next_record(&mut self) -> Option<Unparsed> {
        if self.done {
            return None;
        }
        let next = panic::catch_unwind(AssertUnwindSafe(|| self.next_row()));
        let index = self.read;
        let location = Location {
            file: self.name.clone(),
            line: index + 1,
            part: None,
        };
        let message = match next {
            Ok(Got::Row(kind)) => {
                self.read += 1;
                self.count_progress();
                let row = ParquetRow {
                    kind,
                    max_bytes: self.max_bytes,
                };
                return Some(Unparsed::row(location, self.input, index, row));
            }
            Ok(Got::End) => {
                self.done = true;
                self.bytes_read
                    .fetch_add(self.size.saturating_sub(self.counted), Ordering::Relaxed);
                return None;
            }
            Ok(Got::Error(e)) => format!("Parquet row {}: {e}", index + 1),
            Err(cause) => format!(
                "Parquet row {}: the reader failed ({}), the file may be corrupt",
                index + 1,
                panic_text(&*cause)
            ),
        };
        self.done = true;
        Some(Unparsed::read(super::Record {
            location,
            input: self.input,
            index,
            original: String::new(),
            event: Err(InputError::Io { message }),
        }))
    }

    fn next_row(&mut self) -> Got {
        match &mut self.rows {
            Rows::Tree(rows, schema) => match rows.next() {
                Some(Ok(row)) => Got::Row(RowKind::Tree(row, schema.clone())),
                Some(Err(e)) => Got::Error(e.to_string()),
                None => Got::End,
            },
            Rows::Flat(rows) => match rows.next_row() {
                Ok(Some(cells)) => Got::Row(RowKind::Flat(cells, rows.columns().clone())),
                Ok(None) => Got::End,
                Err(e) => Got::Error(e.to_string()),
            },
        }
    }

    /// Share the file's size out to the progress counter as rows are read.
    fn count_progress(&mut self) {
        if self.total == 0 {
            return;
        }
        let due =
            u128::from(self.size) * u128::from(self.read.min(self.total)) / u128::from(self.total);
        let due = u64::try_from(due).unwrap_or(self.size);
        if due > self.counted {
            self.bytes_read
                .fetch_add(due - self.counted, Ordering::Relaxed);
            self.counted = due;
        }
    }
}

/// A row as read, made an event on a pipeline worker ([`ParquetRow::into_event`]): decoding
/// pages is the reader thread's work, building objects the workers'.
#[derive(Debug)]
pub(crate) struct ParquetRow {
    kind: RowKind,
    max_bytes: usize,
}

#[derive(Debug)]
enum RowKind {
    /// From the row API, with the schema that types it.
    Tree(Row, TypePtr),
    /// From the column readers.
    Flat(Vec<flat::Cell>, Arc<flat::Columns>),
}

impl ParquetRow {
    /// The row as a JSON object, typed by the file's schema; a cell that does not convert (text
    /// that is not UTF-8) makes it invalid.
    pub(crate) fn into_event(self) -> Result<Value, InputError> {
        // Conversion runs on a pipeline worker: a value the conversion cannot take (a bug of
        // ours or of the parquet crate) makes the row invalid instead of ending the run.
        match panic::catch_unwind(AssertUnwindSafe(|| self.convert())) {
            Ok(converted) => converted,
            Err(cause) => Err(InputError::Convert {
                message: format!(
                    "a value of this row could not be converted ({})",
                    panic_text(&*cause)
                ),
            }),
        }
    }

    fn convert(self) -> Result<Value, InputError> {
        match self.kind {
            RowKind::Tree(row, schema) => Ok(row_object(row, Some(&schema))),
            RowKind::Flat(cells, columns) => {
                columns
                    .object(cells)
                    .map_err(|(column, message)| InputError::Cell {
                        message: format!("column {column}: {message}"),
                        column,
                    })
            }
        }
    }

    /// The most bytes its text may have.
    pub(crate) fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// About the size of its text (chunks of records are sized by it; it need not be exact).
    pub(crate) fn text_len(&self) -> usize {
        match &self.kind {
            RowKind::Tree(row, _) => 32 * row.len(),
            RowKind::Flat(cells, _) => 32 * cells.len(),
        }
    }
}

/// The text of a caught panic.
fn panic_text(cause: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = cause.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = cause.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic".to_owned()
    }
}

/// A row as a JSON object, typed by the file's schema (`group`: its fields in order).
fn row_object(row: Row, group: Option<&Type>) -> Value {
    let fields = group
        .filter(|ty| ty.is_group())
        .map_or(&[][..], Type::get_fields);
    let columns = row.into_columns();
    let mut object = Map::with_capacity(columns.len());
    for (i, (name, field)) in columns.into_iter().enumerate() {
        if matches!(field, Field::Null) {
            continue;
        }
        // The row API keeps the schema's order; look the name up only if that ever differs.
        let ty = fields
            .get(i)
            .filter(|ty| ty.name() == name)
            .or_else(|| fields.iter().find(|ty| ty.name() == name))
            .map(|ty| &**ty);
        let value = field_value(field, ty);
        object.insert(name, value);
    }
    Value::Object(object)
}

/// One value. `ty` is its schema node when known: it tells nanosecond timestamps (which the row
/// API gives as plain integers) and JSON columns; without it they are a number and a string.
fn field_value(field: Field, ty: Option<&Type>) -> Value {
    match field {
        Field::Null => Value::Null,
        Field::Bool(b) => Value::Bool(b),
        Field::Byte(n) => Value::from(n),
        Field::Short(n) => Value::from(n),
        Field::Int(n) => Value::from(n),
        Field::UByte(n) => Value::from(n),
        Field::UShort(n) => Value::from(n),
        Field::UInt(n) => Value::from(n),
        Field::ULong(n) => Value::from(n),
        Field::Long(n) => match ty.and_then(timestamp_unit) {
            Some(TimeUnit::NANOS) => timestamp(
                n.div_euclid(1_000_000_000),
                n.rem_euclid(1_000_000_000),
                SecondsFormat::Nanos,
            ),
            _ => Value::from(n),
        },
        Field::Float16(f) => double(f64::from(f)),
        // Through its shortest text, so 0.1f32 is 0.1, not 0.10000000149011612.
        Field::Float(f) => double(f.to_string().parse().unwrap_or(f64::from(f))),
        Field::Double(f) => double(f),
        Field::Decimal(d) => decimal(&d),
        Field::Str(text) => match ty.is_some_and(is_json) {
            true => super::value::from_str(&text).unwrap_or(Value::String(text)),
            false => Value::String(text),
        },
        Field::Bytes(bytes) => match std::str::from_utf8(bytes.data()) {
            Ok(text) => Value::String(text.to_owned()),
            Err(_) => Value::String(base64::engine::general_purpose::STANDARD.encode(bytes.data())),
        },
        Field::Date(days) => {
            let date = NaiveDate::from_ymd_opt(1970, 1, 1).and_then(|epoch| {
                epoch.checked_add_signed(chrono::Duration::days(i64::from(days)))
            });
            match date {
                Some(date) => Value::String(date.format("%Y-%m-%d").to_string()),
                None => Value::from(days),
            }
        }
        Field::TimeMillis(ms) => time_of_day(i64::from(ms) * 1_000_000, ms),
        Field::TimeMicros(us) => time_of_day(us.saturating_mul(1_000), us),
        Field::TimestampMillis(ms) => timestamp(
            ms.div_euclid(1000),
            ms.rem_euclid(1000) * 1_000_000,
            SecondsFormat::Millis,
        ),
        Field::TimestampMicros(us) => timestamp(
            us.div_euclid(1_000_000),
            us.rem_euclid(1_000_000) * 1000,
            SecondsFormat::Micros,
        ),
        Field::Group(row) => row_object(row, ty),
        Field::ListInternal(list) => {
            let element = ty.and_then(list_element);
            Value::Array(
                list.elements()
                    .iter()
                    .map(|e| field_value(e.clone(), element))
                    .collect(),
            )
        }
        Field::MapInternal(map) => {
            let (key_ty, value_ty) = match ty.and_then(map_types) {
                Some((key, value)) => (Some(key), Some(value)),
                None => (None, None),
            };
            let mut object = Map::with_capacity(map.len());
            for (key, value) in map.entries() {
                let key = match field_value(key.clone(), key_ty) {
                    Value::String(text) => text,
                    other => other.to_string(),
                };
                object.insert(key, field_value(value.clone(), value_ty));
            }
            Value::Object(object)
        }
    }
}

/// The unit of a timestamp column, from its logical type.
fn timestamp_unit(ty: &Type) -> Option<TimeUnit> {
    match ty.get_basic_info().logical_type_ref()? {
        LogicalType::Timestamp(timestamp) => Some(timestamp.unit),
        _ => None,
    }
}

fn is_json(ty: &Type) -> bool {
    ty.get_basic_info().converted_type() == ConvertedType::JSON
        || matches!(
            ty.get_basic_info().logical_type_ref(),
            Some(LogicalType::Json)
        )
}

/// The element node of a list, by the Parquet format's rules for the three-level `LIST` layout
/// and its older two-level forms; a bare repeated field is its own element.
fn list_element(ty: &Type) -> Option<&Type> {
    let info = ty.get_basic_info();
    let annotated = info.converted_type() == ConvertedType::LIST
        || matches!(info.logical_type_ref(), Some(LogicalType::List));
    if !annotated {
        return Some(ty);
    }
    let repeated = &**ty.get_fields().first()?;
    if !repeated.is_group() || repeated.get_fields().len() != 1 {
        return Some(repeated);
    }
    let legacy = repeated.name() == "array" || repeated.name() == format!("{}_tuple", ty.name());
    if legacy {
        Some(repeated)
    } else {
        repeated.get_fields().first().map(|element| &**element)
    }
}

/// The key and value nodes of a map.
fn map_types(ty: &Type) -> Option<(&Type, &Type)> {
    let entries = &**ty.get_fields().first()?;
    match entries.get_fields() {
        [key, value] => Some((key, value)),
        _ => None,
    }
}

/// An RFC 3339 UTC timestamp; a number of seconds out of chrono's range stays a number.
fn timestamp(seconds: i64, nanos: i64, format: SecondsFormat) -> Value {
    let nanos = u32::try_from(nanos).unwrap_or(0);
    match DateTime::from_timestamp(seconds, nanos) {
        Some(time) => Value::String(time.to_rfc3339_opts(format, true)),
        None => Value::from(seconds),
    }
}

/// A time of day, `HH:MM:SS` with the fraction its unit has.
fn time_of_day(nanos: i64, raw: impl Into<Value>) -> Value {
    let seconds = nanos.div_euclid(1_000_000_000);
    let fraction = nanos.rem_euclid(1_000_000_000);
    match (u32::try_from(seconds), u32::try_from(fraction)) {
        (Ok(seconds), Ok(fraction)) => {
            match NaiveTime::from_num_seconds_from_midnight_opt(seconds, fraction) {
                Some(time) => Value::String(time.format("%H:%M:%S%.f").to_string()),
                None => raw.into(),
            }
        }
        _ => raw.into(),
    }
}

/// A double, or `null` for what JSON cannot hold.
fn double(f: f64) -> Value {
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// A decimal as a number: an integer when it has no scale and fits 64 bits, else the nearest
/// double (read from its exact decimal text).
fn decimal(d: &Decimal) -> Value {
    let bytes = d.data();
    // The format allows no scale below 0.
    let scale = usize::try_from(d.scale()).unwrap_or(0);
    let (negative, digits) = if bytes.len() <= 16 {
        // Big-endian two's complement, sign-extended to 128 bits.
        let fill = if bytes.first().is_some_and(|b| b & 0x80 != 0) {
            0xFF
        } else {
            0
        };
        let mut wide = [fill; 16];
        wide[16 - bytes.len()..].copy_from_slice(bytes);
        let unscaled = i128::from_be_bytes(wide);
        if scale == 0 {
            if let Ok(n) = i64::try_from(unscaled) {
                return Value::from(n);
            }
            if let Ok(n) = u64::try_from(unscaled) {
                return Value::from(n);
            }
        }
        (unscaled < 0, unscaled.unsigned_abs().to_string())
    } else {
        // Wider than any decimal a warehouse writes: exact through a big integer.
        let unscaled = num_bigint::BigInt::from_signed_bytes_be(bytes);
        let negative = unscaled.sign() == num_bigint::Sign::Minus;
        (negative, unscaled.magnitude().to_string())
    };
    // Below 10^-330 a double is 0 (and a huge scale must not build a huge text).
    if scale > digits.len() + 330 {
        return Value::from(if negative { -0.0 } else { 0.0 });
    }
    let padded = if digits.len() <= scale {
        format!("{}{digits}", "0".repeat(scale + 1 - digits.len()))
    } else {
        digits
    };
    let (whole, fraction) = padded.split_at(padded.len() - scale);
    let sign = if negative { "-" } else { "" };
    let text = format!("{sign}{whole}.{fraction}0");
    // The nearest double; a value beyond a double's range stays its exact text.
    match text.parse::<f64>().ok().and_then(Number::from_f64) {
        Some(n) => Value::Number(n),
        None => Value::String(text),
    }
}

mod flat;
#[cfg(test)]
mod tests;
