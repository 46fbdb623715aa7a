//! The ledger: which records are settled (accepted, dead-lettered or skipped), and per input the
//! watermark — the first record index not yet settled, so every record below it is settled.

use std::collections::BTreeSet;

/// Per-input settlement tracking. Records must be opened in increasing index order per input.
#[derive(Debug, Default)]
pub struct Ledger {
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

impl Ledger {
    pub fn new() -> Ledger {
        Ledger::default()
    }

    fn input(&mut self, input: usize) -> &mut InputLedger {
        if self.inputs.len() <= input {
            self.inputs.resize(input + 1, InputLedger::default());
        }
        &mut self.inputs[input]
    }

    /// A record has been read and is now in our hands.
    pub fn open(&mut self, input: usize, index: u64) {
        let l = self.input(input);
        l.open.insert(index);
        l.next = l.next.max(index + 1);
    }

    /// A record is settled.
    pub fn settle(&mut self, input: usize, index: u64) {
        self.input(input).open.remove(&index);
    }

    /// The current watermark of `input`: every record index below it is settled.
    pub fn watermark(&self, input: usize) -> u64 {
        self.inputs.get(input).map_or(0, InputLedger::watermark)
    }

    /// `(input, watermark)` for every input seen.
    pub fn watermarks(&self) -> Vec<(usize, u64)> {
        self.inputs
            .iter()
            .enumerate()
            .map(|(i, l)| (i, l.watermark()))
            .collect()
    }

    /// Records opened and not yet settled, over all inputs.
    pub fn unsettled(&self) -> usize {
        self.inputs.iter().map(|l| l.open.len()).sum()
    }

    /// The `(input, watermark)` pairs that moved since the last call.
    pub fn advanced(&mut self) -> Vec<(usize, u64)> {
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
        let mut l = Ledger::new();
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
}
