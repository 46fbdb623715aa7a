//! The mapping contract (docs/mapping.md): one Segment-spec event in, one outcome out. Pure: no I/O,
//! no global state.

use serde_json::Value;

use crate::track::{Action, Operation};

/// How event ids are made (mapping.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventIdMode {
    Ulid,
    MessageId,
    None,
}

/// Settings that change how records map.
#[derive(Debug, Clone)]
pub struct MappingConfig {
    /// Convert ISO-8601 strings in attribute objects to Unix seconds (mapping.md §5).
    pub convert_timestamps: bool,
    pub event_id: EventIdMode,
}

impl Default for MappingConfig {
    fn default() -> Self {
        MappingConfig {
            convert_timestamps: true,
            event_id: EventIdMode::Ulid,
        }
    }
}

/// What became of one record (mapping.md §2).
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Mapped(Operation),
    Skipped { action: Action, reason: String },
    Invalid(Invalid),
}

/// Why a record is invalid.
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    /// The action, when routing succeeded.
    pub action: Option<Action>,
    /// The field at fault, as a dotted path, when there is one.
    pub field: Option<String>,
    /// What is wrong and what to do about it.
    pub message: String,
}

/// Map one event.
pub fn map_event(_event: &Value, _config: &MappingConfig) -> Outcome {
    Outcome::Invalid(Invalid {
        action: None,
        field: None,
        message: "mapping not built yet".into(),
    })
}

/// The trigger table (mapping.md §1) with the user's renames and switches (`--mapping FILE`).
#[derive(Debug, Clone, Default)]
pub struct Routes {}

impl Routes {
    /// Parse a `--mapping` TOML document.
    pub fn from_toml_str(_text: &str) -> Result<Routes, String> {
        Ok(Routes {})
    }
}
