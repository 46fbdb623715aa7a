//! Flat files (every column at the top, none repeated: what warehouses unload) read column by
//! column, a batch of rows at a time, with the typed column readers: several times faster than the
//! row API, which builds a tree of readers and names every value. The values are converted by the
//! row API's own functions, so each row is what the row API would make of it.

use std::collections::VecDeque;
use std::fs::File;
use std::sync::Arc;

use parquet::column::reader::{ColumnReader, ColumnReaderImpl};
use parquet::data_type::{ByteArray, DataType, Int96};
use parquet::errors::ParquetError;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use parquet::schema::types::{ColumnDescPtr, SchemaDescriptor};
use serde_json::{Map, Value};

/// Rows decoded from each column at a time.
const BATCH_ROWS: usize = 1024;
/// Rows asked of a column reader in one call: a corrupt page is found within this many rows of
/// where it starts, and the rows before it are kept.
const STEP_ROWS: usize = 64;

/// One value as stored (`Null` for a null), before conversion.
#[derive(Debug, Clone)]
pub(super) enum Cell {
    Null,
    Bool(bool),
    Int32(i32),
    Int64(i64),
    Int96(Int96),
    Float(f32),
    Double(f64),
    Bytes(ByteArray),
}

/// The columns of a flat file (shared by its rows).
#[derive(Debug)]
pub(super) struct Columns {
    descriptors: Vec<ColumnDescPtr>,
}

impl Columns {
    /// The columns, if the schema is flat.
    pub(super) fn of(schema: &SchemaDescriptor) -> Option<Arc<Columns>> {
        let flat = schema.root_schema().get_fields().iter().all(|field| {
            field.is_primitive()
                && !matches!(
                    field.get_basic_info().repetition(),
                    parquet::basic::Repetition::REPEATED
                )
        });
        let descriptors = schema.columns().to_vec();
        (flat && descriptors.len() == schema.root_schema().get_fields().len())
            .then(|| Arc::new(Columns { descriptors }))
    }

    /// A row's cells as a JSON object (null columns left out), converted as the row API converts
    /// them; a cell that does not convert (text that is not UTF-8) is the error, naming its column.
    pub(super) fn object(&self, cells: Vec<Cell>) -> Result<Value, (String, String)> {
        let mut object = Map::with_capacity(cells.len());
        for (cell, descr) in cells.into_iter().zip(&self.descriptors) {
            let field = match cell {
                Cell::Null => continue,
                Cell::Bool(b) => Field::convert_bool(descr, b),
                Cell::Int32(n) => Field::convert_int32(descr, n),
                Cell::Int64(n) => Field::convert_int64(descr, n),
                Cell::Int96(n) => Field::convert_int96(descr, n),
                Cell::Float(f) => Field::convert_float(descr, f),
                Cell::Double(f) => Field::convert_double(descr, f),
                Cell::Bytes(bytes) => Field::convert_byte_array(descr, bytes)
                    .map_err(|e| (descr.name().to_owned(), e.to_string()))?,
            };
            let value = super::field_value(field, Some(descr.self_type()));
            object.insert(descr.name().to_owned(), value);
        }
        Ok(Value::Object(object))
    }
}

/// Reads a flat file's rows, row group by row group, a batch at a time.
pub(super) struct FlatRows {
    file: SerializedFileReader<File>,
    columns: Arc<Columns>,
    /// The next row group to open.
    next_group: usize,
    /// The open row group's column readers, and the rows it has left.
    readers: Vec<ColumnReader>,
    left: u64,
    batch: VecDeque<Vec<Cell>>,
    /// A read error met in the middle of a batch, given after the rows before it.
    failed: Option<ParquetError>,
}

impl FlatRows {
    pub(super) fn new(file: SerializedFileReader<File>, columns: Arc<Columns>) -> FlatRows {
        FlatRows {
            file,
            columns,
            next_group: 0,
            readers: Vec::new(),
            left: 0,
            batch: VecDeque::new(),
            failed: None,
        }
    }

    pub(super) fn columns(&self) -> &Arc<Columns> {
        &self.columns
    }

    /// The next row's cells; `None` at the end of the file.
    pub(super) fn next_row(&mut self) -> Result<Option<Vec<Cell>>, ParquetError> {
        loop {
            if let Some(row) = self.batch.pop_front() {
                return Ok(Some(row));
            }
            if let Some(error) = self.failed.take() {
                self.left = 0;
                self.next_group = self.file.num_row_groups();
                return Err(error);
            }
            if self.left == 0 {
                if self.next_group == self.file.num_row_groups() {
                    return Ok(None);
                }
                let group = self.file.get_row_group(self.next_group)?;
                self.left = u64::try_from(group.metadata().num_rows()).unwrap_or(0);
                self.readers = (0..self.columns.descriptors.len())
                    .map(|i| group.get_column_reader(i))
                    .collect::<Result<_, _>>()?;
                self.next_group += 1;
                continue;
            }
            self.read_batch()?;
        }
    }

    /// Decode the next batch of rows of the open row group, column by column. A column that
    /// fails keeps the rows it read in full before the failure (the other columns are read as
    /// far): those rows come first, then the error.
    fn read_batch(&mut self) -> Result<(), ParquetError> {
        let want = usize::try_from(self.left).map_or(BATCH_ROWS, |left| left.min(BATCH_ROWS));
        let mut rows: Vec<Vec<Cell>> = (0..want)
            .map(|_| Vec::with_capacity(self.readers.len()))
            .collect();
        let mut complete = want;
        for (reader, descr) in self.readers.iter_mut().zip(&self.columns.descriptors) {
            let max_def = descr.max_def_level();
            let rows = &mut rows[..complete];
            let read = match reader {
                ColumnReader::BoolColumnReader(r) => read(r, max_def, rows, Cell::Bool),
                ColumnReader::Int32ColumnReader(r) => read(r, max_def, rows, Cell::Int32),
                ColumnReader::Int64ColumnReader(r) => read(r, max_def, rows, Cell::Int64),
                ColumnReader::Int96ColumnReader(r) => read(r, max_def, rows, Cell::Int96),
                ColumnReader::FloatColumnReader(r) => read(r, max_def, rows, Cell::Float),
                ColumnReader::DoubleColumnReader(r) => read(r, max_def, rows, Cell::Double),
                ColumnReader::ByteArrayColumnReader(r) => read(r, max_def, rows, Cell::Bytes),
                ColumnReader::FixedLenByteArrayColumnReader(r) => {
                    read(r, max_def, rows, |v| Cell::Bytes(v.into()))
                }
            };
            if let Err((got, error)) = read {
                complete = got;
                self.failed.get_or_insert(error);
            }
        }
        rows.truncate(complete);
        self.left -= want as u64;
        self.batch.extend(rows);
        Ok(())
    }
}

/// Read one cell of one column into each of `rows`, nulls where the definition level is below
/// `max_def`. On an error, the cells of the rows read in full before it are in, and their count
/// comes with the error.
fn read<T: DataType>(
    reader: &mut ColumnReaderImpl<T>,
    max_def: i16,
    rows: &mut [Vec<Cell>],
    cell: impl Fn(T::T) -> Cell,
) -> Result<(), (usize, ParquetError)> {
    let want = rows.len();
    let mut values: Vec<T::T> = Vec::with_capacity(want);
    let mut defs: Vec<i16> = Vec::with_capacity(want);
    let mut got = 0;
    let mut failure = None;
    while got < want {
        let step = (want - got).min(STEP_ROWS);
        let (values_before, defs_before) = (values.len(), defs.len());
        let levels = (max_def > 0).then_some(&mut defs);
        match reader.read_records(step, levels, None, &mut values) {
            Ok((0, _, _)) => {
                failure = Some(ParquetError::EOF(format!(
                    "a column chunk ends {} rows early",
                    want - got
                )));
                break;
            }
            Ok((records, _, _)) => got += records,
            Err(error) => {
                // What the failed call left behind is not whole rows.
                values.truncate(values_before);
                defs.truncate(defs_before);
                failure = Some(error);
                break;
            }
        }
    }
    let mut values = values.into_iter();
    for (i, row) in rows.iter_mut().take(got).enumerate() {
        let present = max_def == 0 || defs.get(i) == Some(&max_def);
        let value = if present { values.next() } else { None };
        row.push(value.map_or(Cell::Null, &cell));
    }
    match failure {
        None => Ok(()),
        Some(error) => Err((got, error)),
    }
}
