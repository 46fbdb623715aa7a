//! Folding duplicates: a set of hashed person keys, filled by the first pass over the lists (count
//! and check) and consulted by the second (send), so that each person is sent once, from the entry
//! where they first appear (both passes: `stream::people`).
//!
//! Memory: one 16-byte key (the first 128 bits of SHA-256 of kind + normalised identifier) and the
//! entry's position per distinct person, about 48 bytes each with the table's overhead, whatever the
//! identifiers' length. Emails compare case-insensitively (as Customer.io matches them); ids and
//! cio_ids exactly.

use std::collections::HashMap;
use std::collections::hash_map::Entry as Slot;

use sha2::{Digest, Sha256};

use super::{IdKind, Person};

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
