//! The sender's watermarks: which records read are settled (accepted, dead-lettered or skipped),
//! and per input the watermark — the first record index not yet settled, so every record below it is settled — and
//! the settled ranges above it (what a checkpoint records, so that one record stuck in retries
//! does not make a resume send again everything that settled after it).

use std::collections::BTreeSet;

/// How far one input is settled: every index below `watermark` and in `settled_above` is settled,
/// every other index below `next` is not; indices from `next` on were not read yet. Indices the
/// reader never opened (an earlier run settled them) count as settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Coverage {
    pub input: usize,
    pub watermark: u64,
    /// Sorted, disjoint, non-adjacent half-open ranges `[start, end)` above the watermark.
    pub settled_above: Vec<[u64; 2]>,
    /// One past the highest index read.
    pub next: u64,
}

/// Per-input settlement tracking. Records must be opened in increasing index order per input.
#[derive(Debug, Default)]
pub(crate) struct Watermarks {
    inputs: Vec<InputLedger>,
}

#[derive(Debug, Default, Clone)]
struct InputLedger {
    /// One past the highest index opened.
    next: u64,
    /// Opened, not yet settled.
    open: BTreeSet<u64>,
    /// The last watermark reported.
    reported: u64,
}

impl InputLedger {
    fn watermark(&self) -> u64 {
        self.open.first().copied().unwrap_or(self.next)
    }
}

impl Watermarks {
    pub(crate) fn new() -> Watermarks {
        Watermarks::default()
    }

    fn input(&mut self, input: usize) -> &mut InputLedger {
        if self.inputs.len() <= input {
            self.inputs.resize(input + 1, InputLedger::default());
        }
        &mut self.inputs[input]
    }

    /// A record has been read and is now in our hands.
    pub(crate) fn open(&mut self, input: usize, index: u64) {
        let l = self.input(input);
        l.open.insert(index);
        l.next = l.next.max(index + 1);
    }

    /// A record is settled.
    pub(crate) fn settle(&mut self, input: usize, index: u64) {
        self.input(input).open.remove(&index);
    }

    /// The current watermark of `input`: every record index below it is settled.
    #[cfg(test)]
    pub(crate) fn watermark(&self, input: usize) -> u64 {
        self.inputs.get(input).map_or(0, InputLedger::watermark)
    }

    /// `(input, watermark)` for every input seen.
    pub(crate) fn watermarks(&self) -> Vec<(usize, u64)> {
        self.inputs
            .iter()
            .enumerate()
            .map(|(i, l)| (i, l.watermark()))
            .collect()
    }

    /// The coverage of every input that has had a record read (see [`Coverage`]): as many ranges
    /// as there are unsettled records, at most.
    pub(crate) fn coverage(&self) -> Vec<Coverage> {
        self.inputs
            .iter()
            .enumerate()
            .filter(|(_, l)| l.next > 0)
            .map(|(input, l)| {
                let mut settled_above = Vec::new();
                let mut open = l.open.iter().copied().peekable();
                while let Some(a) = open.next() {
                    let end = open.peek().copied().unwrap_or(l.next);
                    if end > a + 1 {
                        settled_above.push([a + 1, end]);
                    }
                }
                Coverage {
                    input,
                    watermark: l.watermark(),
                    settled_above,
                    next: l.next,
                }
            })
            .collect()
    }

    /// Records opened and not yet settled, over all inputs.
    pub(crate) fn unsettled(&self) -> usize {
        self.inputs.iter().map(|l| l.open.len()).sum()
    }

    /// The `(input, watermark)` pairs that moved since the last call.
    pub(crate) fn advanced(&mut self) -> Vec<(usize, u64)> {
        let mut moved = Vec::new();
        for (i, l) in self.inputs.iter_mut().enumerate() {
            let w = l.watermark();
            if w != l.reported {
                l.reported = w;
                moved.push((i, w));
            }
        }
        moved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watermark_waits_for_the_oldest_open_record() {
        let mut l = Watermarks::new();
        for i in 0..5 {
            l.open(0, i);
        }
        l.open(1, 0);
        assert_eq!(l.watermark(0), 0);
        l.settle(0, 1);
        l.settle(0, 2);
        assert_eq!(l.watermark(0), 0);
        assert!(l.advanced().is_empty());
        l.settle(0, 0);
        assert_eq!(l.watermark(0), 3);
        assert_eq!(l.advanced(), vec![(0, 3)]);
        l.settle(0, 3);
        l.settle(0, 4);
        l.settle(1, 0);
        assert_eq!(l.advanced(), vec![(0, 5), (1, 1)]);
        assert_eq!(l.unsettled(), 0);
        assert_eq!(l.watermark(7), 0);
    }

    #[test]
    fn coverage_lists_what_settled_above_a_stuck_record() {
        let mut l = Watermarks::new();
        for i in [2, 3, 4, 5, 6, 7, 8] {
            l.open(1, i); // indices 0 and 1 were settled by an earlier run (never opened)
        }
        for i in [2, 4, 5, 8] {
            l.settle(1, i);
        }
        let c = l.coverage();
        assert_eq!(c.len(), 1, "an input with nothing read has no coverage");
        assert_eq!(c[0].input, 1);
        assert_eq!(c[0].watermark, 3);
        assert_eq!(c[0].settled_above, vec![[4, 6], [8, 9]]);
        assert_eq!(c[0].next, 9);
        l.settle(1, 3);
        l.settle(1, 6);
        l.settle(1, 7);
        let c = l.coverage();
        assert_eq!((c[0].watermark, c[0].settled_above.len()), (9, 0));
    }
}
