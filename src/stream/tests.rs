//! The parallel pipeline gives exactly what mapping on one thread gives, in input order.

use std::io::Write;

use super::{Item, Pipeline, PipelineSettings};

/// Two inputs of mixed records: valid events of several actions, malformed JSON, non-objects,
/// blank lines, invalid UTF-8, a line over the limit, dead letters; many chunks' worth.
fn inputs(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut paths = Vec::new();
    for (n, records) in [(0, 3_001usize), (1, 517)] {
        let path = dir.join(format!("in{n}.ndjson"));
        let mut file = std::fs::File::create(&path).unwrap();
        for i in 0..records {
            let line: Vec<u8> = match i % 11 {
                0 => format!(r#"{{"type":"track","userId":"u{i}","event":"E","properties":{{"i":{i}}},"timestamp":"2024-01-01T00:00:00Z"}}"#).into_bytes(),
                1 => format!(r#"{{"type":"identify","userId":"u{i}","traits":{{"email":"a{i}@x.io","plan":"p"}}}}"#).into_bytes(),
                2 => b"{\"type\":\"track\"".to_vec(),
                3 => b"[1,2]".to_vec(),
                4 => Vec::new(),
                5 => b"{\"type\":\"page\",\"userId\":\"\xff\"}".to_vec(),
                6 => format!(r#"{{"type":"group","userId":"u{i}","groupId":"g{}","traits":{{"n":1}}}}"#, i % 7).into_bytes(),
                7 => format!(r#"{{"type":"track","event":"x","properties":{{"pad":"{}"}}}}"#, "p".repeat(3000)).into_bytes(),
                8 => format!(r#"{{"dead_letter":{{"source":"a:{i}"}},"event":{{"type":"screen","userId":"u{i}","name":"S"}}}}"#).into_bytes(),
                9 => format!(r#"{{"type":"alias","userId":"u{i}","previousId":"p{i}"}}"#).into_bytes(),
                _ => format!(r#"{{"type":"track","anonymousId":"a{i}","event":"Device Created or Updated","context":{{"device":{{"token":"t{i}"}}}}}}"#).into_bytes(),
            };
            file.write_all(&line).unwrap();
            file.write_all(b"\n").unwrap();
        }
        paths.push(path);
    }
    paths
}

fn run(paths: &[std::path::PathBuf], workers: usize) -> Vec<Item> {
    let settings = PipelineSettings::new(paths.to_vec());
    Pipeline::open_with_limit(settings, 2048)
        .unwrap()
        .with_workers(workers)
        .into_iter()
        .collect()
}

fn key(item: &Item) -> String {
    let r = &item.record;
    format!(
        "{} {} {} {:?} {:?} {:?}",
        r.location, r.input, r.index, r.original, r.event, item.outcome
    )
}

#[test]
fn parallel_equals_one_thread_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let paths = inputs(dir.path());
    let one = run(&paths, 1);
    // Blank lines are not records; every other line is one, in order.
    let non_blank = |n: usize| (0..n).filter(|i| i % 11 != 4).count();
    assert_eq!(one.len(), non_blank(3_001) + non_blank(517));
    for workers in [2, 3, 4] {
        let many = run(&paths, workers);
        assert_eq!(many.len(), one.len(), "{workers} workers");
        for (a, b) in one.iter().zip(&many) {
            assert_eq!(key(a), key(b), "{workers} workers");
        }
    }
    let mut last = (0usize, 0u64);
    for (n, item) in one.iter().enumerate() {
        let at = (item.record.input, item.record.index);
        assert!(n == 0 || at > last, "out of order at {at:?}");
        last = at;
    }
    assert!(
        one.iter()
            .any(|i| matches!(i.outcome, crate::map::Outcome::Mapped(_)))
    );
    assert!(one.iter().any(|i| i.record.event.is_err()));
}

#[test]
fn finishing_runs_per_item_in_order_and_an_early_stop_is_clean() {
    let dir = tempfile::tempdir().unwrap();
    let paths = inputs(dir.path());
    let settings = PipelineSettings::new(paths.clone());
    let lines: Vec<(usize, u64)> = Pipeline::open(settings.clone())
        .unwrap()
        .with_workers(2)
        .finish_on_workers(|item| (item.record.input, item.record.index))
        .collect();
    let expected: Vec<(usize, u64)> = run(&paths, 1)
        .iter()
        .map(|i| (i.record.input, i.record.index))
        .collect();
    assert_eq!(lines, expected);
    // Dropping the stream early stops its threads without a hang.
    let first: Vec<Item> = Pipeline::open(settings)
        .unwrap()
        .with_workers(2)
        .into_iter()
        .take(3)
        .collect();
    assert_eq!(first.len(), 3);
}
