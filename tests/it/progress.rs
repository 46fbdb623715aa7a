//! Progress when nobody watches (the plain line every interval, with standard error to a file),
//! the first invalid or rejected records named as they settle, zone-less timestamps counted, and
//! the 80-column layout of the bar, the Ctrl-C messages and the summary on a pseudo-terminal.

use std::path::Path;
use std::time::Duration;

use cio_replay::sandbox::{Sandbox, SandboxConfig};
use serde_json::json;

use crate::common::{self, send::SITE, send::sandbox_with_key};

const KEY: &str = "progress-key";

/// `tracks` track events (the first `naive` with a zone-less timestamp), then `invalid` records
/// without an event name, in `dir/in.ndjson`.
fn input(dir: &Path, tracks: u64, naive: u64, invalid: u64) {
    let mut text = String::new();
    for n in 0..tracks {
        let mut e = json!({"type": "track", "userId": format!("u{}", n % 7), "event": "Clicked",
            "properties": {"n": n}, "messageId": format!("m{n}")});
        // One second apart, so that no campaign-safety warning joins the summary.
        let (h, m, sec) = (n / 3600 % 24, n / 60 % 60, n % 60);
        let zone = if n < naive { "" } else { "Z" };
        e["timestamp"] = json!(format!("2020-01-02T{h:02}:{m:02}:{sec:02}{zone}"));
        text.push_str(&format!("{e}\n"));
    }
    for _ in 0..invalid {
        text.push_str("{\"type\":\"track\",\"userId\":\"u\"}\n");
    }
    std::fs::write(dir.join("in.ndjson"), text).expect("input written");
}

fn sandbox(latency_ms: u64) -> Sandbox {
    sandbox_with_key(
        SandboxConfig {
            latency: Duration::from_millis(latency_ms),
            ..SandboxConfig::default()
        },
        KEY,
    )
}

/// `send` of `dir/in.ndjson` with standard error to a file (not a terminal), the progress line
/// every 200 ms; returns the exit code and standard error.
fn send_logged(sb: &Sandbox, dir: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let log = std::fs::File::create(dir.join("stderr.log")).expect("log file");
    let status = common::process()
        .current_dir(dir)
        .env("CIO_SITE_ID", SITE)
        .env("CIO_API_KEY", KEY)
        .env("CIO_PROGRESS_INTERVAL_MS", "200")
        .args(["send", "--endpoint", &sb.url(), "--allow-recent"])
        .args(["--report", "report.json", "--dead-letter", "dead.ndjson"])
        .arg("--dead-letter-append")
        .args(extra)
        .arg("in.ndjson")
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .status()
        .expect("runs");
    let text = std::fs::read_to_string(dir.join("stderr.log")).expect("log read");
    (status.code(), text)
}

/// The pieces of `text` (between line ends, carriage returns and escape sequences) wider than
/// 80 columns. The bar's lines are padded by indicatif to the terminal's width and follow each
/// other without a line end: a piece of whole 80-column rows is fine when every row is one of the
/// bar's lines (the bar, the header, a row of counts), which it is not when one overflowed.
fn too_wide(text: &str) -> Vec<String> {
    strip_ansi(text)
        .split(['\n', '\r'])
        // Lines about one record (`FILE:LINE: reason`) are as long as the reason.
        .filter(|l| !l.starts_with("in.ndjson:"))
        .filter(|l| l.chars().count() > 80 && !bar_rows(l))
        .map(str::to_owned)
        .collect()
}

fn bar_rows(piece: &str) -> bool {
    let chars: Vec<char> = piece.chars().collect();
    chars.len().is_multiple_of(80)
        && chars.chunks(80).all(|row| {
            let row: String = row.iter().collect();
            let t = row.trim();
            t.starts_with(|c: char| ('\u{2800}'..='\u{28ff}').contains(&c))
                || (t.starts_with("elapsed") && t.ends_with("ETA"))
                || rows(t).len() == 1
        })
}

/// `s` with each ANSI escape sequence (CSI `ESC [ ... letter`, or `ESC x`) replaced by a line end.
fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        out.push('\n');
        if chars.next_if_eq(&'[').is_some() {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            chars.next();
        }
    }
    out
}

fn header_lines(text: &str) -> usize {
    text.lines()
        .filter(|l| l.trim_start().starts_with("elapsed") && l.contains("throttled"))
        .count()
}

/// Rows of the progress line: start with an elapsed time `h:mm:ss` and have nine cells.
fn rows(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| {
            let cells: Vec<&str> = l.split_whitespace().collect();
            cells.len() == 9 && cells[0].matches(':').count() == 2
        })
        .collect()
}

#[test]
fn without_a_terminal_the_progress_line_comes_every_interval_and_fits_80_columns() {
    let sb = sandbox(40);
    let dir = common::tempdir();
    input(dir.path(), 200, 3, 12);
    let (code, err) = send_logged(&sb, dir.path(), &["--rate", "10", "--batch-size", "10"]);
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(header_lines(&err), 1, "one header: {err}");
    let rows = rows(&err);
    assert!(rows.len() >= 3, "a row every 200 ms of a 2 s run: {err}");
    let last = rows.last().expect("a row");
    let cells: Vec<&str> = last.split_whitespace().collect();
    assert!(cells[1].parse::<u64>().expect("read") > 0, "{last}");
    assert!(too_wide(&err).is_empty(), "{:?}", too_wide(&err));

    // The first ten invalid records by place, then how many more and where.
    let named: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("in.ndjson:"))
        .collect();
    assert_eq!(named.len(), 10, "{err}");
    assert!(named[0].starts_with("in.ndjson:201: "), "{}", named[0]);
    assert!(
        err.contains("and 2 more invalid or rejected records in dead.ndjson"),
        "{err}"
    );
    // Zone-less timestamps: counted, one warning.
    assert_eq!(err.matches("read as UTC").count(), 1, "{err}");
    let report = common::send::report(dir.path());
    assert_eq!(report["naive_timestamps"], 3, "{report}");
}

#[test]
fn never_and_quiet_write_no_progress_line() {
    let sb = sandbox(0);
    let dir = common::tempdir();
    input(dir.path(), 40, 0, 2);
    let (code, err) = send_logged(&sb, dir.path(), &["--progress", "never"]);
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(header_lines(&err), 0, "{err}");
    assert!(rows(&err).is_empty(), "{err}");
    assert_eq!(
        err.lines().filter(|l| l.starts_with("in.ndjson:")).count(),
        2,
        "{err}"
    );
    assert!(!err.contains("more invalid"), "{err}");

    let (code, err) = send_logged(&sb, dir.path(), &["--quiet", "--rate", "20"]);
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(header_lines(&err), 0, "{err}");
    assert!(!err.contains("in.ndjson:"), "{err}");
}

#[cfg(unix)]
#[test]
fn on_an_80_column_terminal_the_bar_ctrl_c_and_summary_fit() {
    use expectrl::process::unix::WaitStatus;
    use expectrl::{ControlCode, Eof, Expect, Session};

    let sb = sandbox(20);
    let dir = common::tempdir();
    input(dir.path(), 400, 0, 3);
    let mut cmd = common::process();
    cmd.current_dir(dir.path())
        .env("CIO_SITE_ID", SITE)
        .env("CIO_API_KEY", KEY)
        .env("TERM", "xterm")
        .args(["send", "--endpoint", &sb.url(), "--allow-recent"])
        .args(["--checkpoint", "cp.json", "--dead-letter", "dead.ndjson"])
        .args(["--rate", "4", "--batch-size", "10", "in.ndjson"]);
    let mut session = Session::spawn(cmd).expect("spawned on a pty");
    session
        .get_process_mut()
        .set_window_size(80, 24)
        .expect("80 columns");
    session.set_expect_timeout(Some(Duration::from_secs(60)));
    let seen = session.expect("throttled").expect("the bar's header");
    let mut out = String::from_utf8_lossy(seen.before()).into_owned();
    out.push_str("throttled"); // what the expect took
    std::thread::sleep(Duration::from_secs(2));
    session.send(ControlCode::EndOfText).expect("Ctrl-C");
    let rest = session.expect(Eof).expect("the end");
    out.push_str(&String::from_utf8_lossy(rest.as_bytes()));
    let pid = session.get_process().pid();
    assert_eq!(
        session.get_process().wait().expect("exit"),
        WaitStatus::Exited(pid, 130),
        "{out}"
    );
    assert!(out.contains("stopping"), "{out}");
    assert!(out.contains("accepted"), "{out}");
    assert!(out.contains("--resume"), "{out}");
    let wide = too_wide(&out);
    assert!(wide.is_empty(), "{wide:?} in {:?}", out);
}
