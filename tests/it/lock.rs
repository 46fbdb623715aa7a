//! One run at a time on a job's files (issue 12, defect 3): a second `send` or `gdpr` on the
//! checkpoint (or the receipt) of a run still going is refused at once with exit 2, naming the
//! file, and sends nothing; a run killed with SIGKILL leaves its lock file behind, and that never
//! blocks the resume.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

use cio_replay::sandbox::{Sandbox, SandboxConfig};
use serde_json::Value;

const SITE: &str = "lock-site";
const KEY: &str = "lock-test-key";
/// Records (or people) per job: with one per request and the sandbox's latency, a run lasts
/// seconds, long enough for a second run to meet it.
const N: usize = 40;
const GUARD: Duration = Duration::from_secs(60);

/// A sandbox that takes 100 ms over every reply.
fn slow_sandbox() -> Sandbox {
    common::sandbox_for(
        SITE,
        KEY,
        SandboxConfig {
            latency: Duration::from_millis(100),
            ..SandboxConfig::default()
        },
    )
}

/// Wait until the run has written its checkpoint and the sandbox has its first operations: the
/// run holds its locks and is sending.
fn wait_under_way(child: &mut Child, sb: &Sandbox, checkpoint: &Path) {
    let started = Instant::now();
    while !(checkpoint.exists() && common::operations(sb) >= 2) {
        assert!(
            child.try_wait().expect("wait").is_none(),
            "the first run ended before it got under way"
        );
        assert!(started.elapsed() < GUARD, "the first run made no progress");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        child.try_wait().expect("wait").is_none(),
        "the first run ended too soon"
    );
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The refusal of a second run: exit 2, naming `file` and saying another run holds it.
fn assert_refused(out: &Output, file: &Path) {
    let text = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains(&file.display().to_string()), "{text}");
    assert!(text.contains("another cio-replay run"), "{text}");
    assert!(text.contains("holds its lock"), "{text}");
}

// ---------------------------------------------------------------------------------------------
// send

struct SendJob {
    input: PathBuf,
    checkpoint: PathBuf,
    dead_letter: PathBuf,
    url: String,
}

impl SendJob {
    fn new(dir: &Path, sb: &Sandbox) -> SendJob {
        let input = dir.join("events.ndjson");
        let lines: Vec<String> = (0..N)
            .map(|i| {
                serde_json::json!({"type": "identify", "userId": format!("u{i:03}"),
                    "traits": {"plan": "pro"}, "timestamp": "2023-03-01T10:00:00Z"})
                .to_string()
            })
            .collect();
        std::fs::write(&input, lines.join("\n") + "\n").expect("input");
        SendJob {
            input,
            checkpoint: dir.join("run.ckpt"),
            dead_letter: dir.join("dead.ndjson"),
            url: sb.url(),
        }
    }

    fn command(&self, resume: bool) -> Command {
        let mut cmd = common::piped();
        cmd.env("CIO_API_KEY", KEY)
            .arg("send")
            .arg(&self.input)
            .args(["--endpoint", &self.url, "--site-id", SITE])
            .arg("--checkpoint")
            .arg(&self.checkpoint)
            .arg("--dead-letter")
            .arg(&self.dead_letter)
            .args(["--batch-size", "1", "--concurrency", "1"])
            .args(["--progress", "never", "--allow-recent"]);
        if resume {
            cmd.arg("--resume");
        }
        cmd
    }
}

/// Wait for `child` (guarded against hangs): its exit status and standard error.
fn finish(child: Child) -> Output {
    let (status, stderr) = common::wait_child(child, GUARD);
    Output {
        status,
        stdout: Vec::new(),
        stderr: stderr.into_bytes(),
    }
}

#[test]
fn a_second_send_on_the_checkpoint_of_a_running_send_is_refused_at_once_and_sends_nothing() {
    let sb = slow_sandbox();
    let dir = common::tempdir();
    let job = SendJob::new(dir.path(), &sb);
    let mut first = job.command(false).spawn().expect("first run starts");
    wait_under_way(&mut first, &sb, &job.checkpoint);

    // The second terminal: `--resume` on the same checkpoint while the first run goes on.
    let second = job.command(true).output().expect("second run");
    assert_refused(&second, &job.checkpoint);
    assert!(
        first.try_wait().expect("wait").is_none(),
        "the first run had ended: the refusal proves nothing"
    );

    let out = finish(first);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Every record was sent once, by the first run only.
    assert_eq!(common::operations(&sb), N as u64);
    assert_eq!(sb.state()["totals"]["people"], N as u64);
    let cp: Value =
        serde_json::from_str(&std::fs::read_to_string(&job.checkpoint).expect("checkpoint"))
            .expect("checkpoint JSON");
    assert_eq!(cp["finished"], true);
    assert_eq!(cp["counters"]["accepted"], N as u64);
}

#[test]
fn a_lock_left_by_a_killed_send_never_blocks_the_resume() {
    let sb = slow_sandbox();
    let dir = common::tempdir();
    let job = SendJob::new(dir.path(), &sb);
    let mut first = job.command(false).spawn().expect("first run starts");
    wait_under_way(&mut first, &sb, &job.checkpoint);
    first.kill().expect("SIGKILL");
    let _ = first.wait();
    // The killed run's lock file is still there; its lock died with the process.
    let lock = PathBuf::from(format!("{}.lock", job.checkpoint.display()));
    assert!(lock.exists(), "no lock file next to the checkpoint");

    let out = job.command(true).output().expect("resume runs");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(sb.state()["totals"]["people"], N as u64);
    // And the lock is free again once the resume has ended.
    let again = job
        .command(true)
        .output()
        .expect("resume of a finished run");
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
}

// ---------------------------------------------------------------------------------------------
// gdpr

#[test]
fn a_second_gdpr_run_on_a_running_job_is_refused_on_its_checkpoint_and_on_its_receipt() {
    let sb = slow_sandbox();
    let dir = common::tempdir();
    let list = dir.path().join("list.csv");
    let emails: Vec<String> = (0..N).map(|i| format!("p{i:03}@example.org")).collect();
    std::fs::write(&list, format!("email\n{}\n", emails.join("\n"))).expect("list");
    let checkpoint = dir.path().join("job.json");
    let receipt = dir.path().join("job.csv");
    let url = sb.url();
    let command = |checkpoint: &Path, resume: bool| {
        let mut cmd = common::piped();
        cmd.env("CIO_API_KEY", KEY)
            .env("CIO_SITE_ID", SITE)
            .args(["gdpr", "suppress", "--yes", "--endpoint", &url])
            .args(["--progress", "never", "--concurrency", "1"])
            .args(["--batch-size", "1", "--checkpoint"])
            .arg(checkpoint)
            .arg(&list);
        if resume {
            cmd.arg("--resume");
        } else {
            cmd.arg("--receipt").arg(&receipt);
        }
        cmd
    };
    let mut first = command(&checkpoint, false)
        .spawn()
        .expect("first run starts");
    wait_under_way(&mut first, &sb, &checkpoint);

    // `--resume` on the same checkpoint.
    let second = command(&checkpoint, true).output().expect("second run");
    assert_refused(&second, &checkpoint);
    // A copy of the checkpoint names the same receipt: the receipt is locked too.
    let copy = dir.path().join("copy.json");
    std::fs::copy(&checkpoint, &copy).expect("copy");
    let third = command(&copy, true).output().expect("third run");
    assert_refused(&third, &receipt);
    assert!(
        first.try_wait().expect("wait").is_none(),
        "the first run had ended: the refusals prove nothing"
    );

    let out = finish(first);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(common::operations(&sb), N as u64);
    let text = std::fs::read_to_string(&receipt).expect("receipt");
    assert_eq!(text.matches("# status,complete").count(), 1, "{text}");
    assert_eq!(text.matches("identifier,kind,").count(), 1, "one header");
    assert_eq!(sb.state()["totals"]["suppressed"], N as u64);
}
