//! The people of GDPR lists as streams. The first pass ([`Listed::read`], [`scan`]) reads every
//! list to check it, fold duplicates and count (the dry run lists each entry, the gate shows the
//! totals); the second ([`People`]) turns each distinct person, once, and each unusable entry into
//! work for the sender: the operation of the run's action, or an invalid record, numbered per list
//! in list order (the same numbers on every run over the same lists: what a checkpoint keys on).

use std::path::PathBuf;

use anyhow::Result;

use crate::exit::usage;
use crate::map::gdpr::fold::Seen;
use crate::map::gdpr::resolve::{Resolved, resolve_entry};
use crate::map::gdpr::{GdprAction, IdKind, Person, operation};
use crate::map::{Invalid, Outcome};
use crate::source::Location;
use crate::source::list::{self, Entries, Entry, List, ListFormat};

use super::{RecordInfo, Work};

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

/// People lists read once: the lists, the column read, what the first pass found, and the lists'
/// digest.
pub(crate) struct Listed {
    pub lists: Vec<List>,
    pub column: Option<String>,
    pub scan: Scan,
    /// Hex SHA-256 of the lists' bytes as stored, and their size.
    pub digest: (String, u64),
}

impl Listed {
    /// Open `paths` (lists in `format`, or as their names say), check them (a `column` is for
    /// CSV lists only), take their digest and read them once ([`scan`]), telling `on` about every
    /// entry. Lists that cannot be read are usage errors (nothing was sent).
    pub(crate) fn read(
        paths: &[PathBuf],
        format: Option<ListFormat>,
        column: Option<String>,
        on: impl FnMut(Noted<'_>) -> Result<()>,
    ) -> Result<Listed> {
        let lists = list::open(paths, format)?;
        let digest = list::digest(&lists).map_err(|e| usage(format!("{e:#}")))?;
        list::check_column(&lists, column.as_deref())?;
        let scan = scan(&lists, column.as_deref(), on).map_err(|e| usage(format!("{e:#}")))?;
        Ok(Listed {
            lists,
            column,
            scan,
            digest,
        })
    }

    /// The second pass: each person once, as work for `action`.
    pub(crate) fn people(&self, action: GdprAction) -> People<'_> {
        People::new(&self.lists, self.column.as_deref(), &self.scan.seen, action)
    }

    /// How many people and unusable entries of the second pass `settled(input, index)` leaves
    /// (what an earlier run of the job did not settle): those this run sends, and names as
    /// invalid. A list that cannot be read is a usage error.
    pub(crate) fn left(&self, settled: impl Fn(usize, u64) -> bool) -> Result<(u64, u64)> {
        // The action changes no count, and no operation is made: only the entries are numbered.
        let mut people = self.people(GdprAction::Delete);
        let (mut persons, mut malformed) = (0, 0);
        while let Some(kept) = people.kept() {
            if !settled(kept.input, kept.index) {
                match kept.what {
                    Ok(_) => persons += 1,
                    Err(_) => malformed += 1,
                }
            }
        }
        match people.take_error() {
            Some(e) => Err(usage(format!("{e:#}"))),
            None => Ok((persons, malformed)),
        }
    }
}

/// Read every list once: fold duplicates, count, and tell `on` about each entry.
pub(crate) fn scan(
    lists: &[List],
    column: Option<&str>,
    mut on: impl FnMut(Noted<'_>) -> Result<()>,
) -> Result<Scan> {
    let mut scan = Scan::default();
    for (input, list) in lists.iter().enumerate() {
        scan.entries_by_list.push(0);
        for entry in list.entries(input, column)? {
            let Entry {
                input,
                location,
                said,
            } = entry?;
            let resolved = resolve_entry(&said);
            if resolved == Resolved::Blank {
                scan.blank += 1;
                continue;
            }
            scan.entries += 1;
            if let Some(n) = scan.entries_by_list.last_mut() {
                *n += 1;
            }
            match resolved {
                Resolved::Blank => {}
                Resolved::Malformed(why) => {
                    scan.malformed += 1;
                    on(Noted::Malformed {
                        location: &location,
                        why: &why,
                    })?;
                }
                Resolved::Person(person, warning) => {
                    match scan.seen.insert(&person, input, location.line) {
                        Some((first_input, first_line)) => {
                            scan.duplicates += 1;
                            let first = Location {
                                part: None,
                                file: lists
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

/// The second pass: the work of every person where the first pass saw them first, and of every
/// unusable entry (settled as invalid: the receipt names it). See the module documentation.
pub(crate) struct People<'a> {
    lists: &'a [List],
    column: Option<&'a str>,
    seen: &'a Seen,
    action: GdprAction,
    /// The list being read (its number) and its entries.
    current: Option<(usize, Entries)>,
    /// The next list to open.
    next_list: usize,
    /// The next record number of the list being read.
    next_index: u64,
    /// Entries the first pass did not see (the list changed in between): never sent.
    changed: u64,
    /// The first read error: the stream ended there.
    error: Option<anyhow::Error>,
    /// Go on past a list that cannot be read further (for the rows of those never sent).
    past_errors: bool,
}

impl<'a> People<'a> {
    /// The second pass over `lists` (with `column`), folded by `seen` (the first pass's).
    pub(crate) fn new(
        lists: &'a [List],
        column: Option<&'a str>,
        seen: &'a Seen,
        action: GdprAction,
    ) -> People<'a> {
        People {
            lists,
            column,
            seen,
            action,
            current: None,
            next_list: 0,
            next_index: 0,
            changed: 0,
            error: None,
            past_errors: false,
        }
    }

    /// Entries not in the first reading (the list changed while the run read it): not sent.
    pub(crate) fn changed(&self) -> u64 {
        self.changed
    }

    /// The read error that ended the stream, if one did (taken).
    pub(crate) fn take_error(&mut self) -> Option<anyhow::Error> {
        self.error.take()
    }

    /// From here on, a list that cannot be read further is left for the next one instead of
    /// ending the stream: what is still read is named in the receipt as not sent.
    pub(crate) fn past_errors(&mut self) {
        self.past_errors = true;
    }

    /// The next entry of the lists, opening them in turn; `None` at the end (or at an error,
    /// kept in `error`, unless past errors).
    fn entry(&mut self) -> Option<Entry> {
        loop {
            if let Some((_, entries)) = &mut self.current {
                match entries.next() {
                    Some(Ok(entry)) => return Some(entry),
                    Some(Err(e)) => {
                        self.current = None;
                        if !self.fail(e) {
                            return None;
                        }
                        continue;
                    }
                    None => self.current = None,
                }
            }
            let input = self.next_list;
            let list = self.lists.get(input)?;
            self.next_list += 1;
            self.next_index = 0;
            match list.entries(input, self.column) {
                Ok(entries) => self.current = Some((input, entries)),
                Err(e) => {
                    if !self.fail(e) {
                        return None;
                    }
                }
            }
        }
    }

    /// Keep the first error; whether to go on.
    fn fail(&mut self, e: anyhow::Error) -> bool {
        if self.error.is_none() && !self.past_errors {
            self.error = Some(e);
        }
        self.past_errors
    }

    /// The next entry the second pass keeps, numbered: a person where the first pass saw them
    /// first, or why an entry cannot be used.
    fn kept(&mut self) -> Option<Kept> {
        if self.error.is_some() && !self.past_errors {
            return None;
        }
        loop {
            let Entry {
                input,
                location,
                said,
            } = self.entry()?;
            let what = match resolve_entry(&said) {
                Resolved::Blank => continue,
                Resolved::Malformed(why) => Err(why),
                Resolved::Person(person, _) => {
                    match self.seen.is_first(&person, input, location.line) {
                        Some(true) => Ok(person),
                        Some(false) => continue,
                        None => {
                            self.changed += 1;
                            continue;
                        }
                    }
                }
            };
            let index = self.next_index;
            self.next_index += 1;
            return Some(Kept {
                input,
                index,
                location,
                what,
            });
        }
    }
}

/// An entry the second pass keeps (see [`People::kept`]).
struct Kept {
    input: usize,
    index: u64,
    location: Location,
    /// The person, or why the entry cannot be used.
    what: Result<Person, String>,
}

impl Iterator for People<'_> {
    type Item = Work;

    fn next(&mut self) -> Option<Work> {
        let Kept {
            input,
            index,
            location,
            what,
        } = self.kept()?;
        let (text, outcome) = match what {
            Ok(person) => {
                let op = operation(self.action, &person);
                (op.body.to_string(), Outcome::Mapped(op))
            }
            Err(why) => {
                let invalid = Invalid {
                    action: None,
                    field: None,
                    message: why,
                };
                (String::new(), Outcome::Invalid(invalid))
            }
        };
        Some(Work {
            record: RecordInfo::built(location, input, index, text),
            outcome,
        })
    }
}
