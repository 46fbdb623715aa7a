//! Stops that must not pass for a finish (issue 12): a Ctrl-C while the last batches wait out a
//! `Retry-After`, a dead-letter or checkpoint file that cannot be written after sending began, and
//! one entity stuck in 503s while the rest of the job goes on (and a kill re-sends little).

use crate::common::send::track_line;
use crate::common::{self, read_json, signal};

use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use cio_replay::sandbox::{Sandbox, ScriptedReply};
use serde_json::Value;

const KEY: &str = "key-1";
const HANG: Duration = Duration::from_secs(120);

/// `cio-replay send in.ndjson` against `sb` in `dir`, as a child process (stderr piped).
fn spawn_send(sb: &Sandbox, dir: &Path, args: &[&str]) -> Child {
    let mut all = vec!["in.ndjson", "--report", "report.json"];
    if !args.contains(&"--dead-letter") {
        all.extend(["--dead-letter", "dead.ndjson"]);
    }
    all.extend(args);
    common::send::spawn(sb, dir, KEY, &all)
}

/// Wait for `child` (guarded against hangs); (exit code, stderr).
fn finish(child: Child) -> (i32, String) {
    let (status, stderr) = common::wait_child(child, HANG);
    (status.code().unwrap_or(-1), stderr)
}

fn wait_for(what: &str, done: impl FnMut() -> bool) {
    wait_at_most(HANG, what, done);
}

fn wait_at_most(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "waited {limit:?} for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn unique_events(sb: &Sandbox) -> u64 {
    sb.state()["events"]["unique"].as_u64().unwrap_or(0)
}

/// Ctrl-C after the whole input was read, while its only batch waits out a long `Retry-After`:
/// exit 130, the checkpoint stays unfinished, the summary says how many records are unsent, and
/// `--resume` sends them. (Before: exit 0 and `finished: true`, and the resume sent nothing.)
#[test]
fn a_ctrl_c_while_the_last_batch_waits_out_a_retry_after_is_not_a_finish() {
    let sb = common::send::sandbox(KEY);
    sb.script(vec![ScriptedReply::status(429).retry_after(120)]);
    let dir = common::tempdir();
    common::send::input(dir.path(), 20, |i| format!("u{}", i % 7));
    let args = ["--concurrency", "1", "--checkpoint", "cp.json"];
    let child = spawn_send(&sb, dir.path(), &args);
    wait_for("the first (throttled) request", || {
        common::requests(&sb) >= 1
    });
    std::thread::sleep(Duration::from_millis(200));
    signal(&child, "INT");
    let (code, stderr) = finish(child);
    assert_eq!(code, 130, "{stderr}");
    assert!(
        stderr.contains("20 records read but not sent")
            && stderr.contains("run the same command with --resume"),
        "{stderr}"
    );
    assert!(stderr.contains("then writing the checkpoint"), "{stderr}");
    let cp = read_json(&dir.path().join("cp.json"));
    assert_eq!(cp["finished"], false, "{cp}");
    assert_eq!(cp["inputs"][0]["watermark"], 0, "{cp}");
    assert_eq!(read_json(&dir.path().join("report.json"))["unsent"], 20);
    assert_eq!(unique_events(&sb), 0);

    let mut resumed = args.to_vec();
    resumed.push("--resume");
    let (code, stderr) = finish(spawn_send(&sb, dir.path(), &resumed));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(unique_events(&sb), 20, "the resume sent them");
    assert_eq!(read_json(&dir.path().join("cp.json"))["finished"], true);
}

/// The same stop without a checkpoint: exit 130 (before: 0), and no advice to `--resume`; the
/// stop message promises no checkpoint (before: "then writing the checkpoint") and says that
/// nothing records what was sent.
#[test]
fn without_a_checkpoint_a_stop_near_the_end_exits_130_and_does_not_suggest_resume() {
    let sb = common::send::sandbox(KEY);
    sb.script(vec![ScriptedReply::status(503).retry_after(120)]);
    let dir = common::tempdir();
    common::send::input(dir.path(), 5, |i| format!("u{}", i % 7));
    let child = spawn_send(&sb, dir.path(), &["--concurrency", "1"]);
    wait_for("the first (failed) request", || common::requests(&sb) >= 1);
    std::thread::sleep(Duration::from_millis(200));
    signal(&child, "TERM");
    let (code, stderr) = finish(child);
    assert_eq!(code, 130, "{stderr}");
    assert!(stderr.contains("5 records read but not sent"), "{stderr}");
    assert!(!stderr.contains("--resume"), "{stderr}");
    assert!(!stderr.contains("checkpoint stays valid"), "{stderr}");
    assert!(!stderr.contains("writing the checkpoint"), "{stderr}");
    assert!(
        stderr.contains("stopping: finishing requests in flight, then the summary")
            && stderr.contains("not recorded"),
        "{stderr}"
    );
    assert_eq!(
        read_json(&dir.path().join("report.json"))["interrupted"],
        true
    );
}

/// `gdpr` stopped while its only batch waits: the receipt says `interrupted` (before: `complete`
/// with `not sent` rows, and the resume answered "finished already"), and the resume sends them.
#[test]
fn a_gdpr_job_stopped_near_the_end_is_interrupted_and_resumes() {
    let sb = common::send::sandbox(KEY);
    sb.script(vec![ScriptedReply::status(429).retry_after(120)]);
    let dir = common::tempdir();
    std::fs::write(dir.path().join("list.txt"), "u-1\nu-2\nu-3\n").expect("list");
    let gdpr = |resume: bool| {
        let mut cmd = common::piped();
        cmd.current_dir(dir.path())
            .env("CIO_SITE_ID", common::send::SITE)
            .env("CIO_API_KEY", KEY)
            .args(["gdpr", "--endpoint", &sb.url(), "--progress", "never"])
            .args(["delete", "list.txt", "--yes", "--concurrency", "1"])
            .args(["--checkpoint", "job.json", "--receipt", "receipt.csv"]);
        if resume {
            cmd.arg("--resume");
        }
        cmd.spawn().expect("gdpr starts")
    };
    let child = gdpr(false);
    wait_for("the first (throttled) request", || {
        common::requests(&sb) >= 1
    });
    std::thread::sleep(Duration::from_millis(200));
    signal(&child, "INT");
    let (code, stderr) = finish(child);
    assert_eq!(code, 130, "{stderr}");
    assert!(stderr.contains("the receipt and the summary"), "{stderr}");
    let receipt = std::fs::read_to_string(dir.path().join("receipt.csv")).expect("receipt");
    assert!(receipt.contains("# status,interrupted"), "{receipt}");
    assert_eq!(read_json(&dir.path().join("job.json"))["finished"], false);

    let (code, stderr) = finish(gdpr(true));
    assert_eq!(code, 0, "{stderr}");
    let receipt = std::fs::read_to_string(dir.path().join("receipt.csv")).expect("receipt");
    assert!(receipt.contains("# status,complete"), "{receipt}");
    assert_eq!(receipt.matches(",delete,accepted,").count(), 3, "{receipt}");
}

/// A dead-letter file that cannot be written (`/dev/full`) after sending began: the run stops
/// like a Ctrl-C, prints its summary and exits 4, naming the file once (before: exit 2, "nothing
/// sent", no summary, the OS error twice).
#[test]
fn a_dead_letter_write_error_after_sending_stops_with_exit_4_and_a_summary() {
    let sb = common::send::sandbox(KEY);
    let dir = common::tempdir();
    let mut text: String = (0..300).map(|i| track_line(i, "u")).collect();
    text.push_str("{not json\n");
    text.extend((300..600).map(|i| track_line(i, "u")));
    std::fs::write(dir.path().join("in.ndjson"), text).expect("input");
    for checkpoint in [false, true] {
        let mut args = vec!["--concurrency", "1", "--batch-size", "10", "--rate", "200"];
        args.extend(["--dead-letter", "/dev/full"]);
        if checkpoint {
            args.extend(["--checkpoint", "cp.json"]);
        }
        let (code, stderr) = finish(spawn_send(&sb, dir.path(), &args));
        assert_eq!(code, 4, "{stderr}");
        assert!(
            stderr.contains("sent: "),
            "the summary is printed: {stderr}"
        );
        let error = stderr
            .lines()
            .find(|l| l.starts_with("cio-replay: error:"))
            .unwrap_or_else(|| panic!("an error line: {stderr}"));
        assert_eq!(error.matches("/dev/full").count(), 1, "{stderr}");
        assert_eq!(stderr.matches("os error").count(), 1, "{stderr}");
        assert!(!stderr.contains("nothing sent"), "{stderr}");
        if checkpoint {
            assert!(stderr.contains("--resume"), "{stderr}");
            assert!(!stderr.contains("checkpoint: /dev/full"), "{stderr}");
            let cp = read_json(&dir.path().join("cp.json"));
            assert_eq!(cp["finished"], false, "{cp}");
            let c = &cp["counters"];
            assert_eq!(
                c["invalid"], 0,
                "the unwritten dead letter is not covered: {cp}"
            );
        } else {
            assert!(!stderr.contains("--resume"), "{stderr}");
        }
    }
    assert!(common::requests(&sb) > 0);
}

/// Settled records above the watermark (from the checkpoint on disk).
fn covered(cp: &Value) -> u64 {
    cp["inputs"].as_array().map_or(0, |inputs| {
        inputs
            .iter()
            .map(|i| {
                let ranges = i["settled"].as_array().map_or(0, |r| {
                    r.iter()
                        .map(|r| r[1].as_u64().unwrap_or(0) - r[0].as_u64().unwrap_or(0))
                        .sum()
                });
                i["watermark"].as_u64().unwrap_or(0) + ranges
            })
            .sum()
    })
}

/// One person whose batches keep getting 503s: the other lane keeps sending, the checkpoint
/// covers what settled after the stuck record, and a `kill -9` followed by `--resume` re-sends
/// only about the requests in flight (before: the watermark stayed behind the stuck record and
/// everything accepted after it was sent again; with `--rate 20 --batch-size 50 --concurrency 2`
/// the whole send nearly stopped).
#[test]
fn one_stuck_person_neither_stalls_the_job_nor_makes_a_kill_resend_what_settled() {
    let sb = common::send::sandbox(KEY);
    let dir = common::tempdir();
    // 4,000 records of 2,000 people; "stuck" appears once, near the start. (People with work
    // queued behind the stuck batch on its lane wait with it: a few hundred records here.)
    let mut text: String = track_line(0, "u0");
    text.push_str(&track_line(1, "stuck"));
    text.extend((2..4000).map(|i| track_line(i, &format!("u{}", i % 2000))));
    std::fs::write(dir.path().join("in.ndjson"), text).expect("input");
    sb.script(vec![
        ScriptedReply::status(503)
            .retry_after(1)
            .matching("\"stuck\"")
            .times(10_000),
    ]);
    let args = [
        "--concurrency",
        "2",
        "--batch-size",
        "50",
        "--rate",
        "20",
        "--retries",
        "1000",
        "--checkpoint",
        "cp.json",
    ];
    let cp_path = dir.path().join("cp.json");
    let child = spawn_send(&sb, dir.path(), &args);
    let started = Instant::now();
    // The other lane keeps going: 2,000 records settle while the stuck batch waits.
    // (A hang guard, not a timing claim: before the fix this took minutes.)
    wait_at_most(
        Duration::from_secs(40),
        "2,000 records settled past the stuck one",
        || {
            std::fs::read_to_string(&cp_path)
                .ok()
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .is_some_and(|cp| covered(&cp) >= 2000)
        },
    );
    let waited = started.elapsed();
    let cp = read_json(&cp_path);
    assert_eq!(
        cp["inputs"][0]["watermark"], 1,
        "the stuck record holds it: {cp}"
    );
    let applied_before_kill = sb.state()["operations"]["applied"].as_u64().unwrap_or(0);
    // Kill between two checkpoint writes (they come once a second), not right after one.
    std::thread::sleep(Duration::from_millis(600));
    let mut child = child;
    signal(&child, "KILL");
    let _ = child.wait();
    let applied_at_kill = sb.state()["operations"]["applied"].as_u64().unwrap_or(0);
    eprintln!(
        "2,000 settled past the stuck record in {:.1} s; {applied_before_kill} operations applied before the kill",
        waited.as_secs_f64()
    );

    // The stuck person is fixed; the resume sends the rest.
    sb.reset();
    let mut resumed = args.to_vec();
    resumed.extend(["--resume"]);
    let mut fast = resumed.clone();
    fast[5] = "1000";
    let (code, stderr) = finish(spawn_send(&sb, dir.path(), &fast));
    assert_eq!(code, 0, "{stderr}");
    let cp = read_json(&cp_path);
    assert_eq!(cp["finished"], true, "{cp}");
    assert_eq!(cp["counters"]["read"], 4000, "{cp}");
    assert_eq!(cp["counters"]["accepted"], 4000, "{cp}");
    // What the resume applied beyond the records the first run had not settled: re-sent.
    let applied_on_resume = sb.state()["operations"]["applied"].as_u64().unwrap_or(0);
    let resent = applied_at_kill + applied_on_resume - 4000;
    eprintln!(
        "re-sent operations after one kill -9: {resent} (of {applied_at_kill} applied before it)"
    );
    // At most the requests in flight plus about a second of work at 20 requests/s of 50: with
    // the watermark alone it would be every operation applied after the stuck record.
    assert!(resent <= 2 * 50 + 20 * 50, "re-sent {resent}");
}

/// Ctrl-C during the pre-scan of a large input (before: the pre-scan showed nothing and read on
/// to its end): the pre-scan shows its plain progress row when nobody watches, stops at once,
/// says that nothing was sent, exits 130, and the report says `interrupted` with nothing sent.
#[test]
fn a_ctrl_c_during_the_pre_scan_stops_it_with_nothing_sent() {
    use std::io::BufRead;
    use std::sync::{Arc, Mutex};

    let sb = common::send::sandbox(KEY);
    let dir = common::tempdir();
    let records = 250_000u64;
    let pad = "x".repeat(100);
    let mut text = String::with_capacity(200 * records as usize);
    for i in 0..records {
        text.push_str(&format!(
            "{{\"type\":\"track\",\"userId\":\"u{}\",\"event\":\"E\",\"properties\":{{\"pad\":\"{pad}\"}},\"timestamp\":\"2023-01-01T00:00:00Z\",\"messageId\":\"m{i}\"}}\n",
            i % 100
        ));
    }
    std::fs::write(dir.path().join("in.ndjson"), text).expect("input");
    let mut child = common::piped()
        .current_dir(dir.path())
        .env("CIO_SITE_ID", common::send::SITE)
        .env("CIO_API_KEY", KEY)
        .env("CIO_PROGRESS_INTERVAL_MS", "20")
        .args(["send", "in.ndjson", "--endpoint", &sb.url()])
        .args(["--report", "report.json", "--dead-letter", "dead.ndjson"])
        .spawn()
        .expect("send starts");
    let seen = Arc::new(Mutex::new(String::new()));
    let stderr = child.stderr.take().expect("piped stderr");
    let reader = {
        let seen = Arc::clone(&seen);
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let mut seen = seen.lock().expect("lock");
                seen.push_str(&line);
                seen.push('\n');
            }
        })
    };
    let text = || seen.lock().expect("lock").clone();
    wait_for("the pre-scan's first progress row", || {
        text().contains("pre-scan: ")
    });
    signal(&child, "INT");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(started.elapsed() < HANG, "the send hung: {}", text());
        std::thread::sleep(Duration::from_millis(10));
    };
    reader.join().expect("reader");
    let stderr = text();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("stopping the pre-scan: nothing was sent"),
        "{stderr}"
    );
    let last = stderr
        .lines()
        .find(|l| l.contains("the pre-scan was interrupted after "))
        .unwrap_or_else(|| panic!("the ending: {stderr}"));
    assert!(last.ends_with("nothing was sent"), "{last}");
    // It stopped before the end of the input, not after reading all of it.
    let read: u64 = last
        .split("interrupted after ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a count: {last}"));
    assert!(read < records, "{last}");
    assert!(
        !stderr.contains("cio-replay send: to"),
        "no sending began: {stderr}"
    );
    assert_eq!(common::operations(&sb), 0, "no track request: {stderr}");
    let report = read_json(&dir.path().join("report.json"));
    assert_eq!(report["status"], "interrupted", "{report}");
    assert_eq!(report["exit_code"], 130, "{report}");
    assert_eq!(report["accepted"], 0, "{report}");
    assert_eq!(report["requests_sent"], 0, "{report}");
}
