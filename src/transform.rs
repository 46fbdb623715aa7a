//! jq transforms (`--transform`, `--transform-file`, `--preset`): one jq program, compiled once by
//! the jaq crates and shared by the pipeline's workers, reshapes every record before validation and
//! mapping. A record may become no record, one, or several.
//!
//! - `json`: records to jaq values and back.
//! - [`preset`]: the programs shipped in the binary for common exports.
//!
//! What a transform cannot do: read the environment (`env`, `$ENV`: where the API key is) or read
//! other inputs (`input`, `inputs`); `halt` and `halt_error` make the record invalid instead of
//! ending the run. `now` works, but a
//! transform that uses it gives other records on a resume: keep transforms deterministic.

mod json;
pub(crate) mod native;
pub(crate) mod preset;

use std::sync::Arc;

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Ctx, Exn, Vars, data};
use jaq_json::Val;
use serde_json::Value;

type Data = data::JustLut<Val>;

/// Bits of a record's index that number the records a transform made of it: with a transform,
/// record `n`'s `k`-th result has the index `n << PART_BITS | k`, so every result settles (and
/// resumes) on its own.
pub(crate) const PART_BITS: u32 = 16;
/// Records one record may become at most.
pub(crate) const MAX_PARTS: usize = 1 << PART_BITS;

/// Longest error message kept from jq (its messages quote the values they met).
const MAX_MESSAGE: usize = 300;

/// Filters of the standard library a transform cannot use (see the module documentation).
const WITHHELD: &[&str] = &["env", "input", "inputs"];

/// A compiled jq program, with its text (what the checkpoint records) and where it came from.
pub struct Transform {
    filter: jaq_core::Filter<Data>,
    /// A preset's program in Rust, tried first (it gives a record it is not sure of back).
    native: Option<native::Native>,
    text: Arc<str>,
    origin: String,
}

impl std::fmt::Debug for Transform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transform")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// A program that does not compile: what is wrong and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}: {message} at line {line}, column {column}:\n    {excerpt}\n    {caret}^")]
pub(crate) struct CompileError {
    pub origin: String,
    pub message: String,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    excerpt: String,
    caret: String,
}

/// Why a record could not be transformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TransformError {
    #[error("the transform failed: {0}; fix the record or the transform")]
    Jq(String),
    #[error("the transform produced {found}, not an object; each result must be one event object")]
    NotAnObject { found: &'static str },
    #[error("the transform produced more than {MAX_PARTS} records from this one; split the record")]
    TooMany,
}

impl Transform {
    /// Compile `text`; `origin` names it in errors (`--transform`, `--preset mixpanel`, a file).
    pub(crate) fn compile(text: &str, origin: &str) -> Result<Transform, CompileError> {
        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs());
        let funs = jaq_core::funs::<Data>()
            .chain(jaq_std::funs())
            .chain(jaq_json::funs())
            .filter(|(name, ..)| !WITHHELD.contains(name));
        let arena = Arena::default();
        let program = File {
            code: text,
            path: (),
        };
        let modules = Loader::new(defs).load(&arena, program).map_err(|errors| {
            let (at, message) = load_error(errors.into_iter().next().map(|(_, e)| e));
            CompileError::at(text, at, message, origin)
        })?;
        let filter = jaq_core::Compiler::default()
            .with_funs(funs)
            .compile(modules)
            .map_err(|errors| {
                let first = errors
                    .into_iter()
                    .next()
                    .and_then(|(_, e)| e.into_iter().next());
                match first {
                    Some((name, undefined)) => {
                        let withheld = if WITHHELD.contains(&name) {
                            " (not available in transforms: see `cio-replay send --help`)"
                        } else {
                            ""
                        };
                        let message =
                            format!("undefined {} `{name}`{withheld}", undefined.as_str());
                        CompileError::at(text, Some(name), message, origin)
                    }
                    None => CompileError::at(text, None, "does not compile".into(), origin),
                }
            })?;
        Ok(Transform {
            filter,
            native: None,
            text: Arc::from(text),
            origin: origin.to_owned(),
        })
    }

    /// Compile a preset: its jq text, and its program in Rust that gives the same records faster.
    pub(crate) fn preset(preset: &preset::Preset) -> Result<Transform, CompileError> {
        let mut transform = Transform::compile(preset.text, &format!("--preset {}", preset.name))?;
        transform.native = Some(preset.native);
        Ok(transform)
    }

    /// The same program without its Rust version (to check the two against each other).
    #[cfg(test)]
    pub(crate) fn jq_only(mut self) -> Transform {
        self.native = None;
        self
    }

    /// The program's text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Run the program on one record: its results, in order (none at all is a result too).
    pub(crate) fn run(&self, event: Value) -> Result<Vec<Value>, TransformError> {
        let event = match self.native {
            Some(native) => match native(event) {
                Ok(results) => return Ok(results),
                Err(event) => event,
            },
            None => event,
        };
        let ctx = Ctx::<Data>::new(&self.filter.lut, Vars::new([]));
        let mut results = Vec::new();
        for result in self.filter.id.run((ctx, json::to_val(event))) {
            let val = result.map_err(exception)?;
            if results.len() == MAX_PARTS {
                return Err(TransformError::TooMany);
            }
            match json::to_value(val) {
                Value::Object(map) => results.push(Value::Object(map)),
                other => {
                    return Err(TransformError::NotAnObject {
                        found: crate::source::value::kind(&other),
                    });
                }
            }
        }
        Ok(results)
    }
}

/// Segment's top-level fields: a record with none of them was not written for this tool.
const SEGMENT_FIELDS: &[&str] = &[
    "type",
    "event",
    "userId",
    "anonymousId",
    "traits",
    "properties",
    "context",
    "timestamp",
    "messageId",
    "name",
    "groupId",
    "previousId",
];

/// The snake_case columns of a Segment warehouse table (`tracks`, `identifies`, ...), which a
/// CSV or Parquet unload of one has instead of Segment's camelCase fields.
const WAREHOUSE_COLUMNS: &[&str] = &[
    "user_id",
    "anonymous_id",
    "message_id",
    "original_timestamp",
    "received_at",
    "sent_at",
    "uuid_ts",
];

/// For a record without a `type`, read without a transform: what it looks like, and the flag that
/// reshapes it (`None` when it looks like a Segment event that only lacks its type).
pub(crate) fn hint(event: &Value) -> Option<String> {
    let map = event.as_object()?;
    if map.contains_key("event_type")
        && (map.contains_key("user_id") || map.contains_key("device_id"))
    {
        return Some("it looks like an Amplitude export: add --preset amplitude".into());
    }
    let mixpanel =
        map.contains_key("$distinct_id") || event.pointer("/properties/distinct_id").is_some();
    if mixpanel {
        return Some("it looks like a Mixpanel export: add --preset mixpanel".into());
    }
    let mut names: Vec<&str> = map.keys().map(String::as_str).take(4).collect();
    if map.len() > 4 {
        names.push("…");
    }
    if map.keys().any(|k| SEGMENT_FIELDS.contains(&k.as_str())) {
        // Some Segment names, but Segment's warehouse columns beside them and no `type`.
        let warehouse = !map.contains_key("type")
            && map.keys().any(|k| WAREHOUSE_COLUMNS.contains(&k.as_str()));
        return warehouse.then(|| {
            format!(
                "its columns ({}) look like a Segment warehouse table: reshape the rows with \
                 --transform (see README, Inputs)",
                names.join(", ")
            )
        });
    }
    Some(format!(
        "none of its fields ({}) is a Segment field: reshape the records with --transform or \
         --preset (see README, Inputs)",
        names.join(", ")
    ))
}

/// A jq exception as a record's error: `error(...)`, a type error, or `halt` (which must not end
/// the run: jaq's own `unwrap_valr` would exit the process).
fn exception(exn: Exn<'_, Val>) -> TransformError {
    match exn.get_err() {
        Ok(error) => {
            // `error("text")` prints its value as JSON: show the text itself.
            let message = error.to_string();
            let message = serde_json::from_str::<String>(&message).unwrap_or(message);
            TransformError::Jq(shorten(message))
        }
        Err(exn) => match exn.get_halt() {
            Ok(code) => TransformError::Jq(format!("halt_error or halt({code}) in a transform")),
            Err(_) => TransformError::Jq("a break outside its label".into()),
        },
    }
}

/// What a load (lex or parse) error says, and the part of the program it points at.
fn load_error(error: Option<jaq_core::load::Error<&str>>) -> (Option<&str>, String) {
    use jaq_core::load::Error;
    match error {
        Some(Error::Lex(errors)) => match errors.into_iter().next() {
            Some((expect, at)) => (Some(at), format!("expected {}", lex_expected(&expect))),
            None => (None, "cannot be read".into()),
        },
        Some(Error::Parse(errors)) => match errors.into_iter().next() {
            Some((expect, at)) => {
                let found = if at.is_empty() {
                    "the end of the program".to_owned()
                } else {
                    format!("`{}`", at.chars().take(20).collect::<String>())
                };
                (
                    Some(at),
                    format!("expected {}, found {found}", expect.as_str()),
                )
            }
            None => (None, "cannot be parsed".into()),
        },
        Some(Error::Io(errors)) => match errors.into_iter().next() {
            Some((at, why)) => (
                Some(at),
                format!("cannot import `{at}`: {why} (transforms cannot import modules)"),
            ),
            None => (None, "cannot import a module".into()),
        },
        None => (None, "does not compile".into()),
    }
}

/// The lexer's expectation in words (its own `as_str` panics on delimiters it does not name).
fn lex_expected(expect: &jaq_core::load::lex::Expect<&str>) -> &'static str {
    use jaq_core::load::lex::Expect;
    match expect {
        Expect::Delim("(") => "a closing parenthesis",
        Expect::Delim("[") => "a closing bracket",
        Expect::Delim("{") => "a closing brace",
        Expect::Delim("\"") => "a closing quote",
        Expect::Delim(_) => "a closing delimiter",
        Expect::Digit => "a digit",
        Expect::Ident => "an identifier",
        Expect::Escape => "an escape sequence",
        Expect::Unicode => "a Unicode escape",
        Expect::Token => "a token",
        _ => "something else",
    }
}

impl CompileError {
    /// An error at `at` (a slice of `text`), or at the end when it is not one.
    fn at(text: &str, at: Option<&str>, message: String, origin: &str) -> CompileError {
        let offset = at.map_or(text.len(), |at| offset_in(text, at));
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = text[line_start..offset].chars().count() + 1;
        let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
        CompileError {
            origin: origin.to_owned(),
            message,
            line,
            column,
            excerpt: text[line_start..line_end].to_owned(),
            caret: " ".repeat(column - 1),
        }
    }
}

/// Where `part` starts in `text` (the end of `text` when `part` is not a slice of it).
fn offset_in(text: &str, part: &str) -> usize {
    let (start, at) = (text.as_ptr() as usize, part.as_ptr() as usize);
    match at.checked_sub(start) {
        Some(offset) if offset <= text.len() && text.is_char_boundary(offset) => offset,
        _ => text.len(),
    }
}

fn shorten(mut message: String) -> String {
    if message.len() > MAX_MESSAGE {
        let mut end = MAX_MESSAGE;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
        message.push('…');
    }
    message
}

#[cfg(test)]
mod tests;
