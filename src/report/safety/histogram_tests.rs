//! Histogram tests: unit choice, folding, and an exact rendering.

use super::*;

fn unix(y: i32, m: u32, d: u32) -> i64 {
    NaiveDate::from_ymd_opt(y, m, d)
        .and_then(|d| d.and_hms_opt(12, 0, 0))
        .map(|t| t.and_utc().timestamp())
        .unwrap()
}

fn add(h: &mut Histogram, t: i64, family: Family, n: usize) {
    for _ in 0..n {
        h.add(t, family);
    }
}

#[test]
fn snapshot_per_month_with_a_gap() {
    let mut h = Histogram::default();
    add(&mut h, unix(2024, 1, 5), Family::Person, 40);
    add(&mut h, unix(2024, 1, 20), Family::Event, 120);
    add(&mut h, unix(2024, 1, 21), Family::PageScreen, 40);
    add(&mut h, unix(2024, 3, 1), Family::Event, 50);
    add(&mut h, unix(2024, 4, 30), Family::Device, 3);
    add(&mut h, unix(2024, 4, 30), Family::DeleteSuppress, 1);
    add(&mut h, unix(2024, 5, 2), Family::Metrics, 1);
    let expected = "\
Records per month by action family:
  P=person E=event V=page-screen D=device X=delete-suppress M=metrics
  2024-01  PPPPPPPPPPEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEVVVVVVVVVV 200
  2024-02                                                       0
  2024-03  EEEEEEEEEEEEE                                       50
  2024-04  D                                                    4
  2024-05  M                                                    1";
    assert_eq!(h.render().join("\n"), expected);
}

fn assert_fits(lines: &[String]) {
    for line in lines {
        assert!(
            line.chars().count() <= WIDTH,
            "{} columns: {line}",
            line.len()
        );
    }
}

#[test]
fn short_ranges_are_per_day_with_empty_days() {
    let mut h = Histogram::default();
    add(&mut h, unix(2024, 2, 27), Family::Event, 2);
    add(&mut h, unix(2024, 3, 2), Family::Object, 1);
    let t = h.table();
    assert_eq!(t.unit, "day");
    let buckets: Vec<&str> = t.rows.iter().map(|r| r.bucket.as_str()).collect();
    assert_eq!(
        buckets,
        [
            "2024-02-27",
            "2024-02-28",
            "2024-02-29",
            "2024-03-01",
            "2024-03-02"
        ]
    );
    assert_eq!(t.rows[4].by_family.get("object"), Some(&1));
    assert_fits(&h.render());
}

#[test]
fn sixty_three_days_is_per_month() {
    let mut h = Histogram::default();
    add(&mut h, unix(2024, 1, 1), Family::Event, 1);
    add(&mut h, unix(2024, 1, 1) + 62 * 86_400, Family::Event, 1);
    assert_eq!(h.unit(), Unit::Month);
    let mut g = Histogram::default();
    add(&mut g, unix(2024, 1, 1), Family::Event, 1);
    add(&mut g, unix(2024, 1, 1) + 61 * 86_400, Family::Event, 1);
    assert_eq!(g.unit(), Unit::Day);
}

#[test]
fn long_ranges_fold_into_quarters_years_and_spans() {
    let mut h = Histogram::default();
    add(&mut h, unix(2020, 1, 1), Family::Event, 1);
    add(&mut h, unix(2024, 12, 31), Family::Event, 1);
    assert_eq!(h.unit(), Unit::Quarter);
    assert_eq!(h.table().rows.len(), 20);
    assert_eq!(h.table().rows[0].bucket, "2020-Q1");
    add(&mut h, unix(2000, 6, 1), Family::Person, 1);
    assert_eq!(h.unit(), Unit::Year);
    add(&mut h, unix(1970, 6, 1), Family::Person, 1);
    assert_eq!(h.unit(), Unit::Years(2));
    let t = h.table();
    assert!(t.rows.len() <= MAX_ROWS);
    assert_eq!(t.rows[0].bucket, "1970-1971");
    assert_eq!(t.rows.iter().map(|r| r.total).sum::<u64>(), 4);
    assert_fits(&h.render());
}

#[test]
fn memory_stays_bounded_and_counts_survive_folding() {
    let mut h = Histogram::default();
    let start = unix(1971, 1, 1);
    for day in 0..20_000 {
        h.add(start + day * 86_400, FAMILIES[(day % 7) as usize]);
    }
    assert!(h.buckets.len() <= MAX_STORED);
    let t = h.table();
    assert!(t.rows.len() <= MAX_ROWS);
    assert_eq!(t.rows.iter().map(|r| r.total).sum::<u64>(), 20_000);
    let lines = h.render();
    assert_fits(&lines);
    assert!(lines[1].contains("O=object"));
}

#[test]
fn huge_counts_and_all_families_fit_in_80_columns() {
    let mut h = Histogram::default();
    for (i, f) in FAMILIES.iter().enumerate() {
        add(&mut h, unix(2024, 1, 1 + i as u32), *f, 1 + i * 3);
    }
    h.buckets
        .entry(Unit::Day.key((2024, 1, 9)))
        .or_insert([0; FAMILIES.len()])[0] = 123_456_789_012;
    let lines = h.render();
    assert_fits(&lines);
    assert_eq!(lines.len(), 1 + 1 + 9, "title, legend, 9 days");
    assert!(lines.last().is_some_and(|l| l.ends_with(" 123456789012")));
    // a small non-empty row still shows one character
    assert!(lines[2].contains('P'), "{}", lines[2]);
}

#[test]
fn empty_histogram_renders_nothing() {
    assert!(Histogram::default().render().is_empty());
    assert!(Histogram::default().table().rows.is_empty());
}
