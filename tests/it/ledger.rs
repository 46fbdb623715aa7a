//! The ledger of `send` and `gdpr` jobs, the same for both: which file a job writes and when a
//! resume may use it, what its checkpoint ties it to, files that are not regular files, and write
//! errors counted as what reached the disk.

use crate::common;
use crate::common::send::{self as run, SITE};

use cio_replay::sandbox::SandboxConfig;
use serde_json::json;

const KEY: &str = "ledger-test-k3y";

/// `send ARGS` in `dir` against `sb` (no progress, `--allow-recent`): its exit code and stderr.
fn send(sb: &cio_replay::sandbox::Sandbox, dir: &std::path::Path, args: &[&str]) -> (i32, String) {
    let out = run::command(&sb.url(), dir, KEY)
        .args(args)
        .output()
        .expect("runs");
    common::code_and_stderr(&out)
}

/// `in.ndjson` in `dir`: 3 track events of `u1`, and an invalid record (no `type`) second.
fn input_with_one_invalid(dir: &std::path::Path) {
    let invalid = json!({"userId": "u1", "event": "no type"}).to_string() + "\n";
    let text =
        run::track_line(0, "u1") + &invalid + &run::track_line(1, "u1") + &run::track_line(2, "u1");
    std::fs::write(dir.join("in.ndjson"), text).expect("input");
}

#[test]
fn a_resumed_send_takes_its_jobs_dead_letter_file_and_refuses_another() {
    let sb = run::sandbox(KEY);
    let dir = common::tempdir();
    input_with_one_invalid(dir.path());
    // A canary of 2 leaves the job unfinished, its invalid record dead-lettered.
    let job = [
        "in.ndjson",
        "--checkpoint",
        "cp.json",
        "--dead-letter",
        "dead.ndjson",
    ];
    let (code, stderr) = send(&sb, dir.path(), &[&job[..], &["--limit", "2"]].concat());
    assert_eq!(code, 1, "{stderr}");
    let before = common::operations(&sb);
    let other = dir.path().join("other.ndjson");
    std::fs::write(&other, "a file of someone else's\n").expect("other");

    // --resume with another --dead-letter: refused before anything is sent or cut.
    let (code, stderr) = send(
        &sb,
        dir.path(),
        &[
            "in.ndjson",
            "--checkpoint",
            "cp.json",
            "--resume",
            "--dead-letter",
            "other.ndjson",
        ],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("dead.ndjson") && stderr.contains("--dead-letter"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&other).expect("other"),
        "a file of someone else's\n"
    );
    assert_eq!(common::operations(&sb), before, "nothing sent");

    // The job's own file, however it is written, is the same file; without --dead-letter the
    // resume takes it too. The resume finishes the job.
    let (code, stderr) = send(
        &sb,
        dir.path(),
        &[
            "in.ndjson",
            "--checkpoint",
            "cp.json",
            "--resume",
            "--dead-letter",
            "./dead.ndjson",
        ],
    );
    assert_eq!(
        code, 1,
        "partial: an earlier run dead-lettered a record: {stderr}"
    );
    assert_eq!(common::operations(&sb), 3, "every event once over the job");
    let dead = std::fs::read_to_string(dir.path().join("dead.ndjson")).expect("dead letters");
    assert_eq!(dead.lines().count(), 1, "{dead}");
    assert!(common::read_json(&dir.path().join("cp.json"))["finished"] == true);

    // A dead-letter file that is the checkpoint itself is refused, naming the mistake.
    let (code, stderr) = send(
        &sb,
        dir.path(),
        &[
            "in.ndjson",
            "--checkpoint",
            "c.json",
            "--dead-letter",
            "c.json",
        ],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("is the checkpoint itself"), "{stderr}");
}

#[test]
fn a_gdpr_job_is_tied_to_its_endpoint_and_its_receipt_folder_must_exist() {
    let config = || SandboxConfig::default();
    let (first, second) = (
        common::sandbox_for(SITE, KEY, config()),
        common::sandbox_for(SITE, KEY, config()),
    );
    let dir = common::tempdir();
    let list = dir.path().join("forget.txt");
    std::fs::write(&list, "u1\nu2\nu3\n").expect("list");
    let (cp, receipt) = (dir.path().join("cp.json"), dir.path().join("r.csv"));
    let out = common::gdpr(&first)
        .args(["delete", "--yes", "--checkpoint"])
        .arg(&cp)
        .arg("--receipt")
        .arg(&receipt)
        .arg(&list)
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Make it an unfinished job (as a run killed before its trailer leaves it).
    let mut checkpoint = common::read_json(&cp);
    let len = checkpoint["dead_letter"]["len"]
        .as_u64()
        .expect("receipt length");
    checkpoint["finished"] = json!(false);
    for input in checkpoint["inputs"].as_array_mut().expect("inputs") {
        input["finished"] = json!(false);
    }
    std::fs::write(&cp, checkpoint.to_string()).expect("checkpoint");
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&receipt)
        .expect("receipt");
    file.set_len(len).expect("cut");
    drop(file);

    // Resumed against another endpoint: refused, nothing sent there.
    let out = common::gdpr(&second)
        .args(["delete", "--yes", "--resume", "--checkpoint"])
        .arg(&cp)
        .arg(&list)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("endpoint"), "{stderr}");
    assert_eq!(common::operations(&second), 0);

    // A finished job whose receipt is gone: refused (exit 2), not "finished already".
    let out = common::gdpr(&first)
        .args(["delete", "--yes", "--receipt"])
        .arg(dir.path().join("done.csv"))
        .arg("--checkpoint")
        .arg(dir.path().join("done.json"))
        .arg(&list)
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_file(dir.path().join("done.csv")).expect("receipt removed");
    let out = common::gdpr(&first)
        .args(["delete", "--yes", "--resume", "--checkpoint"])
        .arg(dir.path().join("done.json"))
        .arg(&list)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("done.csv") && !stderr.contains("finished already"),
        "{stderr}"
    );

    // A receipt in a folder that does not exist: refused before anything is locked or sent.
    let out = common::gdpr(&first)
        .args(["delete", "--yes", "--checkpoint"])
        .arg(dir.path().join("cp2.json"))
        .arg("--receipt")
        .arg(dir.path().join("nowhere/r.csv"))
        .arg(&list)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("folder") && stderr.contains("nowhere"),
        "{stderr}"
    );
    assert!(!dir.path().join("nowhere").exists());
}

#[test]
fn a_stale_report_goes_even_when_the_flags_are_refused() {
    let sb = run::sandbox(KEY);
    let dir = common::tempdir();
    input_with_one_invalid(dir.path());
    std::fs::write(dir.path().join("r.json"), "{\"status\":\"complete\"}").expect("old report");
    let (code, stderr) = send(
        &sb,
        dir.path(),
        &["in.ndjson", "--report", "r.json", "--max-invalid", "ten"],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        !dir.path().join("r.json").exists(),
        "an old report outlived the refusal"
    );
}

/// Without a checkpoint, dead letters may go where no fsync is possible (`/dev/null`, a pipe).
#[cfg(unix)]
#[test]
fn dead_letters_without_a_checkpoint_may_go_to_dev_null() {
    let sb = run::sandbox(KEY);
    let dir = common::tempdir();
    input_with_one_invalid(dir.path());
    let (code, stderr) = send(
        &sb,
        dir.path(),
        &[
            "in.ndjson",
            "--dead-letter",
            "/dev/null",
            "--dead-letter-append",
        ],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("1 dead letters written to /dev/null"),
        "{stderr}"
    );
    assert_eq!(common::operations(&sb), 3);
}

/// A dead-letter file that cannot be written stops the run (exit 4), and the summary counts only
/// the dead letters that reached it: none.
#[cfg(target_os = "linux")]
#[test]
fn dead_letters_that_cannot_be_written_are_not_counted_as_written() {
    let sb = run::sandbox(KEY);
    let dir = common::tempdir();
    input_with_one_invalid(dir.path());
    let (code, stderr) = send(
        &sb,
        dir.path(),
        &[
            "in.ndjson",
            "--dead-letter",
            "/dev/full",
            "--dead-letter-append",
            "--report",
            "r.json",
        ],
    );
    assert_eq!(code, 4, "{stderr}");
    assert!(
        stderr.contains("writing dead-letter file /dev/full"),
        "{stderr}"
    );
    assert!(!stderr.contains("dead letters written"), "{stderr}");
    assert_eq!(
        common::read_json(&dir.path().join("r.json"))["dead_letters"],
        0
    );
}

#[test]
fn the_default_dead_letter_file_follows_the_first_input_as_given() {
    let sb = run::sandbox(KEY);
    let dir = common::tempdir();
    std::fs::create_dir(dir.path().join("exports")).expect("folder");
    input_with_one_invalid(dir.path());
    std::fs::rename(
        dir.path().join("in.ndjson"),
        dir.path().join("exports/a.ndjson"),
    )
    .expect("move");
    let (code, stderr) = send(&sb, dir.path(), &["exports/"]);
    assert_eq!(code, 1, "{stderr}");
    // A folder gives a hidden file in it, which a later walk of the folder skips.
    let dead = std::fs::read_to_string(dir.path().join("exports/.rejected.ndjson"))
        .expect("dead letters beside the folder's files");
    assert_eq!(dead.lines().count(), 1, "{dead}");
    assert!(!dir.path().join("exports/a.ndjson.rejected.ndjson").exists());
}

/// Files of a run that are devices stay devices: a report to `/dev/null` is written there (not
/// removed first), a checkpoint may not be one, and no lock file is made beside one.
#[cfg(unix)]
#[test]
fn devices_are_never_removed_or_replaced() {
    use std::os::unix::fs::FileTypeExt;
    let is_device = || std::fs::metadata("/dev/null").is_ok_and(|m| m.file_type().is_char_device());
    let sb = run::sandbox(KEY);
    let dir = common::tempdir();
    input_with_one_invalid(dir.path());
    let (code, stderr) = send(&sb, dir.path(), &["in.ndjson", "--report", "/dev/null"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(is_device(), "--report removed /dev/null");
    let (code, stderr) = send(&sb, dir.path(), &["in.ndjson", "--checkpoint", "/dev/null"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("not a regular file"), "{stderr}");
    assert_eq!(common::operations(&sb), 3, "nothing more sent");
    assert!(is_device(), "--checkpoint replaced /dev/null");
    assert!(
        !std::path::Path::new("/dev/null.lock").exists(),
        "a lock file beside /dev/null"
    );
}
