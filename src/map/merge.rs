//! merge-people (alias): `primary` from userId, `secondary` from previousId, no root identifiers
//! (segment-destination.md §5.10).

use serde_json::{Map, Value};

use super::fields::Ev;
use super::identifiers::person_identifier;
use super::{Built, Invalid};

const BOTH: &str =
    "alias needs both userId (the person kept) and previousId (the person merged into it)";

pub(crate) fn merge(ev: &Ev<'_>) -> Result<Built, Invalid> {
    let primary = ev.id("userId")?;
    let secondary = ev.id("previousId")?;
    let (primary, secondary) = match (primary, secondary) {
        (Some(p), Some(s)) => (p, s),
        (None, _) => return Err(ev.invalid("userId", format!("{BOTH}: set userId"))),
        (Some(_), None) => return Err(ev.invalid("previousId", format!("{BOTH}: set previousId"))),
    };
    let mut body = Map::with_capacity(4);
    body.insert("type".to_owned(), Value::from("person"));
    body.insert("action".to_owned(), Value::from("merge"));
    body.insert("primary".to_owned(), person_identifier(&primary));
    body.insert("secondary".to_owned(), person_identifier(&secondary));
    Ok(Built::Body(Value::Object(body)))
}
