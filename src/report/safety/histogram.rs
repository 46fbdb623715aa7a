//! Records per month (or day) by action family: a bounded counter and its 80-column rendering.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate};
use serde::Serialize;

use super::family::{FAMILIES, Family};

/// Most buckets kept at the fine grain before folding to the next coarser one (bounded memory).
const MAX_STORED: usize = 1000;
/// Most rows printed (day rows excepted: a range of up to [`MAX_DAY_ROWS`] days is shown per day).
pub(crate) const MAX_ROWS: usize = 36;
/// The longest range, in days, shown one row per day.
pub(crate) const MAX_DAY_ROWS: i64 = 62;
/// The widest line the rendering produces.
pub(crate) const WIDTH: usize = 80;
/// The widest bar.
const MAX_BAR: usize = 50;

/// The grain buckets are stored at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Grain {
    Day,
    Month,
    Year,
}

/// The unit of one printed row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    Day,
    Month,
    Quarter,
    Year,
    /// A span of this many years, aligned on multiples of it.
    Years(i64),
}

impl Unit {
    /// The name used in JSON and in the title.
    pub(crate) fn name(self) -> String {
        match self {
            Unit::Day => "day".into(),
            Unit::Month => "month".into(),
            Unit::Quarter => "quarter".into(),
            Unit::Year => "year".into(),
            Unit::Years(k) => format!("{k} years"),
        }
    }

    fn key(self, (y, m, d): (i64, i64, i64)) -> i64 {
        match self {
            Unit::Day => days_from_civil(y, m, d),
            Unit::Month => y * 12 + (m - 1),
            Unit::Quarter => y * 4 + (m - 1) / 3,
            Unit::Year => y,
            Unit::Years(k) => y.div_euclid(k),
        }
    }

    fn label(self, key: i64) -> String {
        match self {
            Unit::Day => {
                let (y, m, d) = civil_from_days(key);
                format!("{y:04}-{m:02}-{d:02}")
            }
            Unit::Month => format!("{:04}-{:02}", key.div_euclid(12), key.rem_euclid(12) + 1),
            Unit::Quarter => format!("{:04}-Q{}", key.div_euclid(4), key.rem_euclid(4) + 1),
            Unit::Year => format!("{key:04}"),
            Unit::Years(k) => format!("{:04}-{:04}", key * k, key * k + k - 1),
        }
    }
}

/// Counts of timestamped records per bucket and family. Memory is bounded: at most
/// [`MAX_STORED`] day buckets, then months, then years.
#[derive(Debug, Clone)]
pub(crate) struct Histogram {
    grain: Grain,
    buckets: BTreeMap<i64, [u64; FAMILIES.len()]>,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            grain: Grain::Day,
            buckets: BTreeMap::new(),
        }
    }
}

/// One printed row: a bucket and its counts per family (in [`FAMILIES`] order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Row {
    pub bucket: String,
    pub total: u64,
    pub by_family: BTreeMap<&'static str, u64>,
}

/// The rows to print, with their unit; empty buckets between the first and last are rows too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Table {
    pub unit: String,
    pub rows: Vec<Row>,
}

impl Histogram {
    /// Count one record at `unix` seconds.
    pub(crate) fn add(&mut self, unix: i64, family: Family) {
        let key = self.grain_key(civil(unix));
        self.buckets.entry(key).or_insert([0; FAMILIES.len()])[family.index()] += 1;
        if self.buckets.len() > MAX_STORED && self.grain != Grain::Year {
            self.fold();
        }
    }

    fn grain_key(&self, ymd: (i64, i64, i64)) -> i64 {
        match self.grain {
            Grain::Day => Unit::Day.key(ymd),
            Grain::Month => Unit::Month.key(ymd),
            Grain::Year => Unit::Year.key(ymd),
        }
    }

    fn grain_ymd(&self, key: i64) -> (i64, i64, i64) {
        match self.grain {
            Grain::Day => civil_from_days(key),
            Grain::Month => (key.div_euclid(12), key.rem_euclid(12) + 1, 1),
            Grain::Year => (key, 1, 1),
        }
    }

    fn fold(&mut self) {
        let old = std::mem::take(&mut self.buckets);
        let old_hist = Histogram {
            grain: self.grain,
            buckets: BTreeMap::new(),
        };
        self.grain = match self.grain {
            Grain::Day => Grain::Month,
            _ => Grain::Year,
        };
        for (key, counts) in old {
            let new_key = self.grain_key(old_hist.grain_ymd(key));
            let slot = self.buckets.entry(new_key).or_insert([0; FAMILIES.len()]);
            for (s, c) in slot.iter_mut().zip(counts) {
                *s += c;
            }
        }
    }

    /// The unit rows are printed in: per day for short ranges, else the finest unit that keeps
    /// the number of rows at most [`MAX_ROWS`].
    pub(crate) fn unit(&self) -> Unit {
        let (Some((&first, _)), Some((&last, _))) = (
            self.buckets.first_key_value(),
            self.buckets.last_key_value(),
        ) else {
            return Unit::Day;
        };
        let (a, b) = (self.grain_ymd(first), self.grain_ymd(last));
        let rows = |u: Unit| u.key(b) - u.key(a) + 1;
        if self.grain == Grain::Day && rows(Unit::Day) <= MAX_DAY_ROWS {
            return Unit::Day;
        }
        let mut candidates = vec![Unit::Month, Unit::Quarter, Unit::Year];
        if self.grain == Grain::Year {
            candidates = vec![Unit::Year];
        }
        for u in candidates {
            if rows(u) <= MAX_ROWS as i64 {
                return u;
            }
        }
        let mut k = 2;
        loop {
            for step in [k, k * 5 / 2, k * 5] {
                if rows(Unit::Years(step)) <= MAX_ROWS as i64 {
                    return Unit::Years(step);
                }
            }
            k *= 10;
        }
    }

    /// The rows as printed and as written to JSON.
    pub(crate) fn table(&self) -> Table {
        let unit = self.unit();
        let mut merged: BTreeMap<i64, [u64; FAMILIES.len()]> = BTreeMap::new();
        for (&key, counts) in &self.buckets {
            let slot = merged
                .entry(unit.key(self.grain_ymd(key)))
                .or_insert([0; FAMILIES.len()]);
            for (s, c) in slot.iter_mut().zip(counts) {
                *s += c;
            }
        }
        let mut rows = Vec::new();
        if let (Some((&first, _)), Some((&last, _))) =
            (merged.first_key_value(), merged.last_key_value())
        {
            for key in first..=last {
                let counts = merged.get(&key).copied().unwrap_or([0; FAMILIES.len()]);
                rows.push(Row {
                    bucket: unit.label(key),
                    total: counts.iter().sum(),
                    by_family: FAMILIES
                        .iter()
                        .zip(counts)
                        .filter(|(_, c)| *c > 0)
                        .map(|(f, c)| (f.name(), c))
                        .collect(),
                });
            }
        }
        Table {
            unit: unit.name(),
            rows,
        }
    }

    /// The chart, one line per row, each at most [`WIDTH`] columns; empty when nothing was counted.
    pub(crate) fn render(&self) -> Vec<String> {
        let table = self.table();
        if table.rows.is_empty() {
            return Vec::new();
        }
        let present: Vec<Family> = FAMILIES
            .iter()
            .copied()
            .filter(|f| {
                table
                    .rows
                    .iter()
                    .any(|r| r.by_family.contains_key(f.name()))
            })
            .collect();
        let mut lines = vec![format!("Records per {} by action family:", table.unit)];
        let mut legend = String::from(" ");
        for f in &present {
            let item = format!(" {}={}", f.symbol(), f.name());
            if legend.len() + item.len() > WIDTH {
                lines.push(std::mem::replace(&mut legend, String::from(" ")));
            }
            legend.push_str(&item);
        }
        lines.push(legend);
        let label_w = table.rows.iter().map(|r| r.bucket.len()).max().unwrap_or(0);
        let max = table.rows.iter().map(|r| r.total).max().unwrap_or(0);
        let count_w = max.to_string().len();
        let bar_w = WIDTH
            .saturating_sub(2 + label_w + 2 + 1 + count_w)
            .min(MAX_BAR);
        for row in &table.rows {
            let bar = bar(row, &present, bar_w, max);
            lines.push(format!(
                "  {:<label_w$}  {:<bar_w$} {:>count_w$}",
                row.bucket, bar, row.total
            ));
        }
        lines
    }
}

/// A stacked bar: each family's share of `width` scaled to `max`, by cumulative rounding so the
/// segments add up; a non-empty row gets at least one character.
fn bar(row: &Row, present: &[Family], width: usize, max: u64) -> String {
    let mut out = String::new();
    if max == 0 || row.total == 0 {
        return out;
    }
    let scale = |n: u64| -> usize {
        ((u128::from(n) * width as u128 * 2 + u128::from(max)) / (u128::from(max) * 2)) as usize
    };
    let mut cum = 0u64;
    for f in present {
        let n = row.by_family.get(f.name()).copied().unwrap_or(0);
        let from = scale(cum);
        cum += n;
        let to = scale(cum);
        out.extend(std::iter::repeat_n(f.symbol(), to - from));
    }
    if out.is_empty() {
        let top = present
            .iter()
            .max_by_key(|f| row.by_family.get(f.name()).copied().unwrap_or(0));
        if let Some(f) = top {
            out.push(f.symbol());
        }
    }
    out
}

/// Year, month, day (UTC) of a Unix time.
fn civil(unix: i64) -> (i64, i64, i64) {
    match DateTime::from_timestamp(unix, 0) {
        Some(t) => (
            i64::from(t.year()),
            i64::from(t.month()),
            i64::from(t.day()),
        ),
        None => (1970, 1, 1),
    }
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let date = i32::try_from(y)
        .ok()
        .and_then(|y| NaiveDate::from_ymd_opt(y, m as u32, d as u32));
    match (date, NaiveDate::from_ymd_opt(1970, 1, 1)) {
        (Some(date), Some(epoch)) => (date - epoch).num_days(),
        _ => 0,
    }
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    civil(days.saturating_mul(86_400))
}

#[cfg(test)]
#[path = "histogram_tests.rs"]
mod tests;
