//! Why records were skipped or invalid, for the report: each reason with its count and the first
//! places it happened, in bounded memory (at most [`MAX_REASONS`] reasons; the rest are counted
//! under one "other reasons" entry).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::source::Location;

/// Distinct reasons kept by name.
pub(crate) const MAX_REASONS: usize = 50;
/// Places kept per reason.
pub(crate) const FIRST_PLACES: usize = 5;
/// Where the reasons past [`MAX_REASONS`] are counted.
const OTHER: &str = "(other reasons)";

#[derive(Debug, Default, Clone)]
struct Reason {
    count: u64,
    first: Vec<String>,
}

/// Reasons and their counts.
#[derive(Debug, Default, Clone)]
pub(crate) struct Reasons {
    by_reason: BTreeMap<String, Reason>,
}

impl Reasons {
    pub(crate) fn add(&mut self, reason: &str, location: &Location) {
        let key = if self.by_reason.contains_key(reason) || self.by_reason.len() < MAX_REASONS {
            reason
        } else {
            OTHER
        };
        // A reason met before is found without allocating its name again.
        if !self.by_reason.contains_key(key) {
            self.by_reason.insert(key.to_owned(), Reason::default());
        }
        let Some(entry) = self.by_reason.get_mut(key) else {
            return;
        };
        entry.count += 1;
        if entry.first.len() < FIRST_PLACES {
            entry.first.push(location.to_string());
        }
    }

    /// `{reason: {"count": n, "first": ["FILE:LINE", …]}}`.
    pub(crate) fn to_json(&self) -> Value {
        self.by_reason
            .iter()
            .map(|(reason, r)| (reason.clone(), json!({"count": r.count, "first": r.first})))
            .collect::<serde_json::Map<_, _>>()
            .into()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn counts_first_places_and_a_bound() {
        let at = |line| Location {
            part: None,
            file: Arc::from("in.ndjson"),
            line,
        };
        let mut reasons = Reasons::default();
        for line in 1..=7 {
            reasons.add("no userId", &at(line));
        }
        for n in 0..(MAX_REASONS as u64 + 10) {
            reasons.add(&format!("reason {n}"), &at(100 + n));
        }
        let json = reasons.to_json();
        assert_eq!(json["no userId"]["count"], 7);
        assert_eq!(json["no userId"]["first"][4], "in.ndjson:5");
        assert_eq!(json["no userId"]["first"].as_array().map(Vec::len), Some(5));
        assert_eq!(json.as_object().map(|o| o.len()), Some(MAX_REASONS + 1));
        assert_eq!(json[OTHER]["count"], 11);
    }
}
