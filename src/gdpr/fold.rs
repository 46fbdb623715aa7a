//! Folding duplicates: a set of hashed person keys, filled by the first pass over the lists (count
//! and check) and consulted by the second (send), so that each person is sent once, from the entry
//! where they first appear.
//!
//! Memory: one 16-byte key (the first 128 bits of SHA-256 of kind + normalised identifier) and the
//! entry's position per distinct person, about 48 bytes each with the table's overhead, whatever the
//! identifiers' length. Emails compare case-insensitively (as Customer.io matches them); ids and
//! cio_ids exactly.

use std::collections::HashMap;
use std::collections::hash_map::Entry as Slot;

use anyhow::Result;
use sha2::{Digest, Sha256};

use super::list::{Entry, ListSource};
use super::resolve::Resolved;
use super::{IdKind, Person};
use crate::source::Location;

/// A person's identity for duplicate folding.
pub(crate) type Key = [u8; 16];

/// The key of `person`: kind and identifier, emails lower-cased.
pub(crate) fn key(person: &Person) -> Key {
    let mut hasher = Sha256::new();
    hasher.update(person.kind.name().as_bytes());
    hasher.update([0u8]);
    match person.kind {
        IdKind::Email => hasher.update(person.identifier.to_lowercase().as_bytes()),
        _ => hasher.update(person.identifier.as_bytes()),
    }
    let digest = hasher.finalize();
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

/// Where a person first appears: list number and line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct First {
    input: u32,
    line: u64,
}

/// The people seen so far.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    first: HashMap<Key, First>,
}

impl Seen {
    /// Record `person` at this entry; `Some((input, line))` of the first entry when it is a duplicate.
    pub(crate) fn insert(
        &mut self,
        person: &Person,
        input: usize,
        line: u64,
    ) -> Option<(usize, u64)> {
        let at = First {
            input: u32::try_from(input).unwrap_or(u32::MAX),
            line,
        };
        match self.first.entry(key(person)) {
            Slot::Occupied(slot) => Some((slot.get().input as usize, slot.get().line)),
            Slot::Vacant(slot) => {
                slot.insert(at);
                None
            }
        }
    }

    /// Whether this entry is where `person` first appeared (`None`: the person was never seen).
    pub(crate) fn is_first(&self, person: &Person, input: usize, line: u64) -> Option<bool> {
        let at = First {
            input: u32::try_from(input).unwrap_or(u32::MAX),
            line,
        };
        self.first.get(&key(person)).map(|first| *first == at)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.first.len()
    }
}

/// What the first pass found at one entry, for the caller to print.
#[derive(Debug)]
pub(crate) enum Noted<'a> {
    /// A person, listed for the first time (with a warning when the value looks mistyped).
    Person {
        location: &'a Location,
        person: &'a Person,
        warning: Option<&'a str>,
    },
    /// A person already listed at `first`.
    Duplicate {
        location: &'a Location,
        person: &'a Person,
        first: Location,
    },
    /// An entry that cannot be used.
    Malformed {
        location: &'a Location,
        why: &'a str,
    },
}

/// The totals of the first pass.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    /// Entries that were not blank or comments.
    pub entries: u64,
    /// Blank lines, blank cells and comments.
    pub blank: u64,
    /// Distinct people.
    pub people: u64,
    pub by_kind: [u64; 3],
    pub duplicates: u64,
    pub malformed: u64,
    pub warnings: u64,
    pub seen: Seen,
    /// Entries (not blank or comments) of each list, in order.
    pub entries_by_list: Vec<u64>,
}

/// Read every list once: fold duplicates, count, and tell `on` about each entry.
pub(crate) fn scan(
    sources: &[ListSource],
    column: Option<&str>,
    mut on: impl FnMut(Noted<'_>) -> Result<()>,
) -> Result<Scan> {
    let mut scan = Scan::default();
    for (input, source) in sources.iter().enumerate() {
        scan.entries_by_list.push(0);
        for entry in source.entries(input, column)? {
            let Entry {
                input,
                location,
                resolved,
            } = entry?;
            match resolved {
                Resolved::Blank => scan.blank += 1,
                Resolved::Malformed(why) => {
                    scan.entries += 1;
                    if let Some(n) = scan.entries_by_list.last_mut() {
                        *n += 1;
                    }
                    scan.malformed += 1;
                    on(Noted::Malformed {
                        location: &location,
                        why: &why,
                    })?;
                }
                Resolved::Person(person, warning) => {
                    scan.entries += 1;
                    if let Some(n) = scan.entries_by_list.last_mut() {
                        *n += 1;
                    }
                    match scan.seen.insert(&person, input, location.line) {
                        Some((first_input, first_line)) => {
                            scan.duplicates += 1;
                            let first = Location {
                                part: None,
                                file: sources
                                    .get(first_input)
                                    .map_or_else(|| location.file.clone(), |s| s.name.clone()),
                                line: first_line,
                            };
                            on(Noted::Duplicate {
                                location: &location,
                                person: &person,
                                first,
                            })?;
                        }
                        None => {
                            scan.people += 1;
                            scan.by_kind[kind_index(person.kind)] += 1;
                            scan.warnings += u64::from(warning.is_some());
                            on(Noted::Person {
                                location: &location,
                                person: &person,
                                warning: warning.as_deref(),
                            })?;
                        }
                    }
                }
            }
        }
    }
    Ok(scan)
}

fn kind_index(kind: IdKind) -> usize {
    match kind {
        IdKind::Id => 0,
        IdKind::Email => 1,
        IdKind::CioId => 2,
    }
}

/// What the second pass yields: each distinct person once, at the entry where the first pass saw
/// them first, and each unusable entry (for the receipt).
#[derive(Debug)]
pub(crate) enum Second {
    Person {
        input: usize,
        location: Location,
        person: Person,
    },
    Malformed {
        input: usize,
        location: Location,
        why: String,
    },
}

impl Second {
    /// The number of the list the entry is on.
    pub(crate) fn input(&self) -> usize {
        match self {
            Second::Person { input, .. } | Second::Malformed { input, .. } => *input,
        }
    }
}

/// The second pass. Entries the first pass did not see (the list changed in between) are counted
/// in `changed` and never yielded.
pub(crate) fn second_pass<'a>(
    sources: &'a [ListSource],
    column: Option<&'a str>,
    seen: &'a Seen,
    changed: &'a std::cell::Cell<u64>,
) -> impl Iterator<Item = Result<Second>> + 'a {
    sources
        .iter()
        .enumerate()
        .map(move |(input, source)| source.entries(input, column))
        .flat_map(|entries| -> Box<dyn Iterator<Item = Result<Entry>>> {
            match entries {
                Ok(entries) => Box::new(entries),
                Err(e) => Box::new(std::iter::once(Err(e))),
            }
        })
        .filter_map(move |entry| match entry {
            Err(e) => Some(Err(e)),
            Ok(Entry {
                input,
                location,
                resolved,
            }) => match resolved {
                Resolved::Blank => None,
                Resolved::Malformed(why) => Some(Ok(Second::Malformed {
                    input,
                    location,
                    why,
                })),
                Resolved::Person(person, _) => match seen.is_first(&person, input, location.line) {
                    Some(true) => Some(Ok(Second::Person {
                        input,
                        location,
                        person,
                    })),
                    Some(false) => None,
                    None => {
                        changed.set(changed.get() + 1);
                        None
                    }
                },
            },
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_fold_case_insensitively_ids_do_not() {
        let mut seen = Seen::default();
        assert_eq!(
            seen.insert(&Person::new(IdKind::Email, "Ada@X.org"), 0, 1),
            None
        );
        assert_eq!(
            seen.insert(&Person::new(IdKind::Email, "ada@x.ORG"), 0, 5),
            Some((0, 1))
        );
        assert_eq!(seen.insert(&Person::new(IdKind::Id, "U1"), 0, 2), None);
        assert_eq!(seen.insert(&Person::new(IdKind::Id, "u1"), 1, 2), None);
        // The same text as an id and as a cio_id are different people.
        assert_eq!(seen.insert(&Person::new(IdKind::CioId, "u1"), 1, 3), None);
        assert_eq!(seen.len(), 4);
        assert_eq!(
            seen.is_first(&Person::new(IdKind::Email, "ADA@x.org"), 0, 1),
            Some(true)
        );
        assert_eq!(
            seen.is_first(&Person::new(IdKind::Email, "ada@x.org"), 0, 5),
            Some(false)
        );
        assert_eq!(
            seen.is_first(&Person::new(IdKind::Id, "nobody"), 0, 9),
            None
        );
    }
}
