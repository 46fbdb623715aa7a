//! The shared front of every command: open the inputs, read records, map each one. Streaming: one
//! record in, one item out, in input order.

use std::path::PathBuf;

use crate::cli::InputFormat;
use crate::input::Record;
use crate::mapping::{MappingConfig, Outcome};

/// One record and what became of it.
#[derive(Debug, Clone)]
pub struct Item {
    pub record: Record,
    pub outcome: Outcome,
}

/// What the pipeline reads and how it maps.
#[derive(Debug, Clone)]
pub struct PipelineSettings {
    /// Input paths; empty or `-` means stdin.
    pub files: Vec<PathBuf>,
    pub format: Option<InputFormat>,
    pub mapping: MappingConfig,
    /// Treat skipped records as invalid.
    pub strict: bool,
}
