//! Event counts kept small: kinds and names interned once per workspace, each profile holding a
//! sorted list of `(kind, name, count)` numbers, and event ids kept as 128-bit ULIDs.

use std::collections::BTreeMap;

use foldhash::{HashMap, HashSet};

/// Interned strings: every distinct event kind or name is stored once.
#[derive(Debug, Default)]
pub(crate) struct Names {
    ids: HashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
}

impl Names {
    /// The number of `name`, given one the first time it is seen.
    pub(crate) fn intern(&mut self, name: &str) -> u32 {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(name.into());
        self.ids.insert(name.into(), id);
        id
    }

    pub(crate) fn get(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", |n| n)
    }
}

/// Event counts of one profile by kind (`event`, `page`, `screen`, ...) and name, as interned
/// numbers, sorted by `(kind, name)`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Events(Vec<(u32, u32, u64)>);

impl Events {
    pub(crate) fn add(&mut self, kind: u32, name: u32, count: u64) {
        match self
            .0
            .binary_search_by(|(k, n, _)| (*k, *n).cmp(&(kind, name)))
        {
            Ok(at) => self.0[at].2 += count,
            Err(at) => self.0.insert(at, (kind, name, count)),
        }
    }

    /// Add every count of `from`.
    pub(crate) fn absorb(&mut self, from: Events) {
        if self.0.is_empty() {
            *self = from;
            return;
        }
        for (kind, name, count) in from.0 {
            self.add(kind, name, count);
        }
    }

    pub(crate) fn total(&self) -> u64 {
        self.0.iter().map(|(_, _, n)| n).sum()
    }

    /// The counts by kind and name, in name order.
    pub(crate) fn by_kind<'a>(
        &self,
        names: &'a Names,
    ) -> BTreeMap<&'a str, BTreeMap<&'a str, u64>> {
        let mut out: BTreeMap<&str, BTreeMap<&str, u64>> = BTreeMap::new();
        for (kind, name, count) in &self.0 {
            *out.entry(names.get(*kind))
                .or_default()
                .entry(names.get(*name))
                .or_default() += count;
        }
        out
    }
}

/// The event ids seen: ULIDs (what validation lets through) as numbers, anything else as text.
#[derive(Debug, Default)]
pub(crate) struct EventIds {
    ulids: HashSet<u128>,
    other: HashSet<String>,
}

impl EventIds {
    /// False when the id was seen before (ULIDs match in any case).
    pub(crate) fn insert(&mut self, id: &str) -> bool {
        match decode_ulid(id) {
            Some(n) => self.ulids.insert(n),
            None => self.other.insert(id.to_ascii_uppercase()),
        }
    }
}

/// The 128-bit value of a ULID (26 Crockford base32 characters, any case, the first at most 7).
fn decode_ulid(s: &str) -> Option<u128> {
    if s.len() != 26 {
        return None;
    }
    let mut n: u128 = 0;
    for (i, b) in s.bytes().enumerate() {
        let digit = match b.to_ascii_uppercase() {
            d @ b'0'..=b'9' => d - b'0',
            d @ b'A'..=b'H' => d - b'A' + 10,
            b'J' => 18,
            b'K' => 19,
            b'M' => 20,
            b'N' => 21,
            d @ b'P'..=b'T' => d - b'P' + 22,
            d @ b'V'..=b'Z' => d - b'V' + 27,
            _ => return None,
        };
        if i == 0 && digit > 7 {
            return None;
        }
        n = (n << 5) | u128::from(digit);
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulids_decode_in_any_case_and_others_stay_text() {
        assert_eq!(decode_ulid("00000000000000000000000001"), Some(1));
        assert_eq!(decode_ulid("7ZZZZZZZZZZZZZZZZZZZZZZZZZ"), Some(u128::MAX));
        assert_eq!(
            decode_ulid("01arz3ndektsv4rrffq69g5fav"),
            decode_ulid("01ARZ3NDEKTSV4RRFFQ69G5FAV")
        );
        assert_eq!(decode_ulid("81ARZ3NDEKTSV4RRFFQ69G5FAV"), None);
        assert_eq!(decode_ulid("01ARZ3NDEKTSV4RRFFQ69G5FAU"), None);
        let mut ids = EventIds::default();
        assert!(ids.insert("01ARZ3NDEKTSV4RRFFQ69G5FAV"));
        assert!(!ids.insert("01arz3ndektsv4rrffq69g5fav"));
        assert!(ids.insert("not-a-ulid"));
        assert!(!ids.insert("NOT-A-ULID"));
    }

    #[test]
    fn counts_stay_sorted_and_add_up() {
        let mut names = Names::default();
        let (page, event) = (names.intern("page"), names.intern("event"));
        let (b, a) = (names.intern("b"), names.intern("a"));
        let mut one = Events::default();
        one.add(page, b, 1);
        one.add(event, a, 2);
        let mut two = Events::default();
        two.add(page, b, 3);
        two.add(page, a, 1);
        one.absorb(two);
        assert_eq!(one.total(), 7);
        let shown = one.by_kind(&names);
        assert_eq!(shown["page"]["b"], 4);
        assert_eq!(shown["page"]["a"], 1);
        assert_eq!(shown["event"]["a"], 2);
        assert_eq!(shown.keys().copied().collect::<Vec<_>>(), ["event", "page"]);
    }
}
