//! Deterministic generator of a Parquet unload of a Segment warehouse `tracks` table (or of the same
//! rows as Segment-spec events), for the
//! Parquet benchmark (`scripts/parquet-bench.sh`) and the README's fixture.
//!
//! `cargo run --release --example gen-parquet -- --rows 1000000 -o tracks.parquet`
//!
//! The columns are described in `parquet_unload.rs`; `fixtures/exports/tracks.jq` makes them
//! Segment track events.

#[path = "parquet_unload.rs"]
mod parquet_unload;

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, ValueEnum};
use parquet::basic::{Compression, GzipLevel, ZstdLevel};

/// Write a Parquet file of N rows of a Segment warehouse `tracks` table.
#[derive(Debug, Parser)]
#[command(name = "gen-parquet")]
struct Args {
    /// Number of rows.
    #[arg(long, short = 'n', default_value_t = 1_000, value_name = "N")]
    rows: u64,
    /// Seed of the random generator.
    #[arg(long, default_value_t = 7, value_name = "N")]
    seed: u64,
    /// Rows in each row group.
    #[arg(long, default_value_t = 100_000, value_name = "N")]
    group_rows: u64,
    /// The table the rows are written as: warehouse (snake_case columns, for
    /// fixtures/exports/tracks.jq), segment (Segment-spec events with groups, mapped with no
    /// transform) or flat (Segment-spec columns, properties and context as JSON text).
    #[arg(long, value_enum, default_value_t = ShapeArg::Warehouse)]
    shape: ShapeArg,
    /// Page compression.
    #[arg(long, value_enum, default_value_t = Codec::Snappy)]
    codec: Codec,
    /// The file to write.
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ShapeArg {
    Warehouse,
    Segment,
    Flat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Codec {
    None,
    Snappy,
    Gzip,
    Zstd,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let compression = match args.codec {
        Codec::None => Compression::UNCOMPRESSED,
        Codec::Snappy => Compression::SNAPPY,
        Codec::Gzip => Compression::GZIP(GzipLevel::default()),
        Codec::Zstd => Compression::ZSTD(ZstdLevel::default()),
    };
    let file = File::create(&args.output)
        .with_context(|| format!("cannot create {}", args.output.display()))?;
    let shape = match args.shape {
        ShapeArg::Warehouse => parquet_unload::Shape::Warehouse,
        ShapeArg::Segment => parquet_unload::Shape::Segment,
        ShapeArg::Flat => parquet_unload::Shape::Flat,
    };
    parquet_unload::write_tracks(
        BufWriter::new(file),
        shape,
        args.rows,
        args.seed,
        args.group_rows,
        compression,
    )
    .with_context(|| format!("cannot write {}", args.output.display()))
}
