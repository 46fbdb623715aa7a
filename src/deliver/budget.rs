//! The error budget of `--max-invalid N` or `--max-invalid P%`: how many bad records (invalid,
//! and during the send rejected too) a run may meet before it refuses to start or stops. The
//! [`Budget`] applies it while the delivery runs: over it, the run stops as on Ctrl-C.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{Hooks, Settled, Settlement};

/// Without a pre-scan's total, a percentage budget is applied once this many records settled.
const PERCENT_BUDGET_MIN_RECORDS: u64 = 100;

/// A count of records, or a share of the records of the input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum ErrorBudget {
    Count(u64),
    /// Percent (0 to 100) of the records.
    Percent(f64),
}

impl ErrorBudget {
    /// `N` or `P%`.
    pub(crate) fn parse(text: &str) -> Result<ErrorBudget, String> {
        let text = text.trim();
        let bad = || {
            format!(
                "--max-invalid {text:?}: give a count (such as 10) or a percentage (such as 0.5%)"
            )
        };
        match text.strip_suffix('%') {
            Some(p) => match p.trim().parse::<f64>() {
                Ok(p) if p.is_finite() && (0.0..=100.0).contains(&p) => Ok(ErrorBudget::Percent(p)),
                _ => Err(bad()),
            },
            None => text
                .parse::<u64>()
                .map(ErrorBudget::Count)
                .map_err(|_| bad()),
        }
    }

    /// Whether `bad` records of `total` are over the budget.
    pub(crate) fn exceeded(self, bad: u64, total: u64) -> bool {
        match self {
            ErrorBudget::Count(n) => bad > n,
            ErrorBudget::Percent(p) => bad as f64 > total as f64 * p / 100.0,
        }
    }
}

impl fmt::Display for ErrorBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorBudget::Count(n) => write!(f, "{n}"),
            ErrorBudget::Percent(p) => write!(f, "{p}%"),
        }
    }
}

/// The `--max-invalid` budget as a delivery applies it (its [`Hooks`]): over it, `stop` is raised.
#[derive(Debug, Clone)]
pub(crate) struct Budget {
    pub budget: ErrorBudget,
    /// The input's records, when a pre-scan counted them.
    pub total: Option<u64>,
    /// Invalid and rejected records settled so far (earlier runs' of the job included).
    pub bad: u64,
    pub settled: u64,
    pub exceeded: bool,
    stop: Arc<AtomicBool>,
}

impl Budget {
    /// `budget` over `total` records (when a pre-scan counted them), of which earlier runs of the
    /// job settled `settled`, `bad` of them invalid or rejected: the budget is the whole job's.
    pub(crate) fn new(
        budget: ErrorBudget,
        total: Option<u64>,
        (bad, settled): (u64, u64),
        stop: Arc<AtomicBool>,
    ) -> Budget {
        Budget {
            budget,
            total,
            bad,
            settled,
            exceeded: false,
            stop,
        }
    }

    /// Whether the records counted so far (earlier runs' included) are over the budget.
    pub(crate) fn over(&self) -> bool {
        let total = self.total.unwrap_or(self.settled);
        self.budget.exceeded(self.bad, total)
    }

    /// Count one settled record; true when this one takes the run over the budget.
    fn count(&mut self, bad: bool) -> bool {
        self.settled += 1;
        self.bad += u64::from(bad);
        let total = match (self.total, self.budget) {
            (Some(total), _) => total,
            (None, ErrorBudget::Percent(_)) if self.settled < PERCENT_BUDGET_MIN_RECORDS => {
                return false;
            }
            (None, _) => self.settled,
        };
        if !self.exceeded && self.budget.exceeded(self.bad, total) {
            self.exceeded = true;
            return true;
        }
        false
    }
}

impl Hooks for Budget {
    fn on_record(&mut self, settlement: &Settlement) {
        let bad = matches!(
            settlement.result,
            Settled::Invalid { .. } | Settled::Rejected { .. }
        );
        if self.count(bad) {
            self.stop.store(true, Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_percentages() {
        assert_eq!(ErrorBudget::parse("10"), Ok(ErrorBudget::Count(10)));
        assert_eq!(ErrorBudget::parse("0.5%"), Ok(ErrorBudget::Percent(0.5)));
        assert!(ErrorBudget::parse("-1").is_err());
        assert!(ErrorBudget::parse("101%").is_err());
        assert!(ErrorBudget::parse("ten").is_err());
        assert!(!ErrorBudget::Count(2).exceeded(2, 10));
        assert!(ErrorBudget::Count(2).exceeded(3, 10));
        assert!(!ErrorBudget::Percent(1.0).exceeded(10, 1000));
        assert!(ErrorBudget::Percent(1.0).exceeded(11, 1000));
        assert!(ErrorBudget::Count(0).exceeded(1, 1));
        assert_eq!(ErrorBudget::Percent(0.5).to_string(), "0.5%");
    }
}
