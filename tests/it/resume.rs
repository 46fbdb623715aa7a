//! Crash-safe resume against the sandbox binary: SIGKILL at random points and resume, Ctrl-C (once
//! and twice) and resume, idempotent full re-runs, and the refusals (changed input, no checkpoint,
//! stdin, an unfinished checkpoint without --resume).

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const RECORDS: usize = 20_000;
/// Longest any one run may take before the harness calls it a hang.
const HANG: Duration = Duration::from_secs(90);

// ---------------------------------------------------------------------------------------------
// The sandbox and the binary

/// A `cio-replay sandbox` process, killed when dropped.
struct SandboxProc {
    child: Child,
    url: String,
}

impl SandboxProc {
    fn start(faults: &[&str]) -> SandboxProc {
        let (child, url) = common::sandbox_process(faults, &[], Stdio::null());
        SandboxProc { child, url }
    }

    fn state(&self) -> Value {
        let text = ureq::get(&format!("{}/_sandbox/state", self.url))
            .call()
            .expect("state answers")
            .into_body()
            .read_to_string()
            .expect("state body");
        serde_json::from_str(&text).expect("state is JSON")
    }
}

impl SandboxProc {
    /// Queue scripted replies (`POST /_sandbox/script`).
    fn script(&self, script: &Value) {
        let response = ureq::post(&format!("{}/_sandbox/script", self.url))
            .header("content-type", "application/json")
            .send(script.to_string())
            .expect("script accepted");
        assert_eq!(response.status().as_u16(), 200);
    }
}

impl Drop for SandboxProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Paths of one scenario.
struct Run<'a> {
    input: &'a Path,
    url: &'a str,
    checkpoint: PathBuf,
    dead_letter: PathBuf,
    report: PathBuf,
}

impl<'a> Run<'a> {
    fn new(dir: &Path, name: &str, input: &'a Path, url: &'a str) -> Run<'a> {
        Run {
            input,
            url,
            checkpoint: dir.join(format!("{name}.checkpoint.json")),
            dead_letter: dir.join(format!("{name}.rejected.ndjson")),
            report: dir.join(format!("{name}.report.json")),
        }
    }

    fn command(&self, resume: bool) -> Command {
        let mut cmd = common::piped();
        cmd.arg("send")
            .arg(self.input)
            .args(["--endpoint", self.url, "--site-id", "sandbox"])
            .env("CIO_API_KEY", "sandbox-key")
            .arg("--checkpoint")
            .arg(&self.checkpoint)
            .arg("--dead-letter")
            .arg(&self.dead_letter)
            .arg("--report")
            .arg(&self.report)
            .args(["--rate", "1000", "--concurrency", "4", "--batch-size", "50"])
            .args(["--retries", "30", "--timeout", "5", "--progress", "never"])
            .arg("--allow-recent");
        if resume {
            cmd.arg("--resume");
        }
        cmd
    }

    fn spawn(&self, resume: bool) -> Child {
        self.command(resume).spawn().expect("send starts")
    }

    /// Run to the end; (exit status, stderr).
    fn finish(&self, resume: bool) -> (ExitStatus, String) {
        wait(self.spawn(resume))
    }

    /// Records settled according to the checkpoint on disk (0 when there is none yet).
    fn settled(&self) -> u64 {
        common::watermark(&self.checkpoint)
    }

    /// The checkpoint on disk.
    fn checkpoint(&self) -> Value {
        common::read_json(&self.checkpoint)
    }
}

/// Wait for a child with the hang guard; (status, stderr).
fn wait(child: Child) -> (ExitStatus, String) {
    let started = Instant::now();
    let (status, stderr) = common::wait_child(child, HANG);
    eprintln!(
        "send ended with {status} after {:.1} s",
        started.elapsed().as_secs_f64()
    );
    (status, stderr)
}

/// Start a run and stop it once the checkpoint shows at least `after` records settled, with
/// `signal` ("KILL" or "INT", `times` times); `None` when the run ended on its own first.
fn interrupt_after(
    run: &Run,
    resume: bool,
    after: u64,
    signal: &str,
    times: u32,
) -> Option<(ExitStatus, String)> {
    let mut child = run.spawn(resume);
    let started = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            let _ = wait(child);
            return None;
        }
        if run.settled() >= after {
            break;
        }
        assert!(started.elapsed() < HANG, "no progress for {HANG:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
    for _ in 0..times {
        common::signal(&child, signal);
        std::thread::sleep(Duration::from_millis(20));
    }
    Some(wait(child))
}

// ---------------------------------------------------------------------------------------------
// Test data

const PLANS: [&str; 3] = ["free", "pro", "team"];
const EVENTS: [&str; 3] = ["Order Completed", "Signed Up", "Viewed"];

/// What the generator put in the file.
struct Generated {
    invalid_lines: BTreeSet<u64>,
}

/// `RECORDS` records of varied, replay-safe actions (identify, track, page, screen, group, device),
/// some anonymous identifies (skipped) and some invalid records, all with timestamps in 2023.
/// Groups are rare (1%): a relationship operation spans two lanes and drains them, which makes
/// batches small and the run slow under injected faults.
fn generate(path: &Path, seed: u64) -> Generated {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut invalid_lines = BTreeSet::new();
    for i in 0..RECORDS {
        let line = i as u64 + 1;
        let user = format!("user-{}", rng.usize(0..400));
        let ts = format!(
            "2023-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            rng.u8(1..13),
            rng.u8(1..29),
            rng.u8(0..24),
            rng.u8(0..60),
            rng.u8(0..60)
        );
        let message_id = format!("msg-{seed}-{i}");
        let record = match rng.u8(0..100) {
            0..=1 => {
                invalid_lines.insert(line);
                match rng.u8(0..3) {
                    0 => format!(r#"{{"type":"track","userId":"{user}","timestamp":"#),
                    1 => json!({"type": "track", "userId": user, "timestamp": ts}).to_string(),
                    _ => json!({"type": "identify", "userId": true, "timestamp": ts}).to_string(),
                }
            }
            2..=3 => json!({"type": "identify", "anonymousId": format!("anon-{i}"),
                "traits": {"plan": "free"}, "timestamp": ts, "messageId": message_id})
            .to_string(),
            4..=23 => json!({"type": "identify", "userId": user, "timestamp": ts, "messageId": message_id,
                "traits": {"email": format!("{user}@example.com"), "plan": PLANS[rng.usize(0..3)],
                           "visits": rng.u32(0..1000)}})
            .to_string(),
            24..=69 => json!({"type": "track", "userId": user, "event": EVENTS[rng.usize(0..3)],
                "timestamp": ts, "messageId": message_id, "properties": {"total": rng.u32(1..500), "n": i}})
            .to_string(),
            70..=81 => json!({"type": "page", "userId": user, "name": "Pricing", "timestamp": ts,
                "messageId": message_id, "properties": {"url": format!("https://example.com/p/{}", rng.u8(0..20))}})
            .to_string(),
            82..=89 => json!({"type": "screen", "userId": user, "name": "Home", "timestamp": ts,
                "messageId": message_id})
            .to_string(),
            90 => json!({"type": "group", "userId": user, "groupId": format!("acct-{}", rng.u8(0..50)),
                "traits": {"name": "Acme", "seats": rng.u8(1..100)}, "timestamp": ts, "messageId": message_id})
            .to_string(),
            _ => json!({"type": "track", "userId": user, "event": "Application Installed", "timestamp": ts,
                "messageId": message_id,
                "context": {"device": {"token": format!("tok-{user}-{}", rng.u8(0..3)), "type": "ios"}}})
            .to_string(),
        };
        writeln!(out, "{record}").unwrap();
    }
    out.flush().unwrap();
    Generated { invalid_lines }
}

// ---------------------------------------------------------------------------------------------
// Checks

/// The workspace without the ids the sandbox assigns in arrival order, keyed for comparison.
fn comparable(state: &Value) -> Value {
    let mut people = BTreeMap::new();
    for person in state["people"].as_array().expect("people") {
        let mut p = person.clone();
        let key = p["identifiers"]["id"]
            .as_str()
            .or(p["identifiers"]["email"].as_str())
            .unwrap_or("?")
            .to_owned();
        if let Some(ids) = p["identifiers"].as_object_mut() {
            ids.remove("cio_id");
        }
        assert!(
            people.insert(key.clone(), p).is_none(),
            "person {key} twice"
        );
    }
    let mut objects = BTreeMap::new();
    for object in state["objects"].as_array().expect("objects") {
        let mut o = object.clone();
        let key = format!("{}/{}", o["object_type_id"], o["object_id"]);
        if let Some(map) = o.as_object_mut() {
            map.remove("cio_object_id");
        }
        assert!(
            objects.insert(key.clone(), o).is_none(),
            "object {key} twice"
        );
    }
    json!({
        "people": people,
        "objects": objects,
        "anonymous": state["anonymous"],
        "unique_events": state["events"]["unique"],
        "totals": state["totals"],
    })
}

/// The `source` of every dead-letter line.
fn dead_letter_sources(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .map(|l| {
            let v: Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("dead letter {l:?}: {e}"));
            v["dead_letter"]["source"]
                .as_str()
                .expect("source")
                .to_owned()
        })
        .collect()
}

/// After the last run: the sandbox matches the reference, each invalid record is dead-lettered
/// once, and the counts add up over all runs.
fn check_complete(run: &Run, generated: &Generated, sandbox: &SandboxProc, reference: &Value) {
    let state = sandbox.state();
    assert_eq!(
        comparable(&state),
        *reference,
        "workspace differs from a clean run"
    );

    let name = run.input.display().to_string();
    let mut sources = dead_letter_sources(&run.dead_letter);
    let total = sources.len();
    sources.sort();
    sources.dedup();
    assert_eq!(sources.len(), total, "a record was dead-lettered twice");
    let expected: BTreeSet<String> = generated
        .invalid_lines
        .iter()
        .map(|l| format!("{name}:{l}"))
        .collect();
    let found: BTreeSet<String> = sources.into_iter().collect();
    let extra: Vec<&String> = found.difference(&expected).take(3).collect();
    let missing: Vec<&String> = expected.difference(&found).take(3).collect();
    if !extra.is_empty() || !missing.is_empty() {
        let text = std::fs::read_to_string(&run.dead_letter).unwrap_or_default();
        let example = extra
            .first()
            .and_then(|e| text.lines().find(|l| l.contains(&format!("\"{e}\""))))
            .unwrap_or("");
        panic!(
            "dead letters differ from the invalid records: {} found, {} expected; extra {extra:?} (e.g. {example}), missing {missing:?}",
            found.len(),
            expected.len()
        );
    }

    let cp = run.checkpoint();
    assert_eq!(cp["finished"], true, "{cp}");
    let c = &cp["counters"];
    let n = |k: &str| c[k].as_u64().unwrap_or_else(|| panic!("counter {k}: {cp}"));
    assert_eq!(n("read"), RECORDS as u64, "{cp}");
    assert_eq!(
        n("accepted") + n("skipped") + n("invalid") + n("rejected") + n("failed"),
        n("read"),
        "{cp}"
    );
    assert_eq!(n("invalid"), generated.invalid_lines.len() as u64, "{cp}");
    assert_eq!(
        n("rejected") + n("failed"),
        0,
        "nothing valid was refused: {cp}"
    );
    assert!(n("skipped") > 0, "anonymous identifies are skipped: {cp}");
    assert_eq!(
        (n("invalid") + n("rejected") + n("failed")) as usize,
        total,
        "dead letters = invalid + rejected + failed"
    );
}

/// The workspace after one clean, fault-free run of `input`.
fn reference_state(dir: &Path, input: &Path) -> Value {
    reference_run(dir, input).0
}

/// The workspace after one clean, fault-free run of `input`, and the operations it applied.
fn reference_run(dir: &Path, input: &Path) -> (Value, u64) {
    let sandbox = SandboxProc::start(&[]);
    let run = Run::new(dir, "reference", input, &sandbox.url);
    let (status, stderr) = run.finish(false);
    assert_eq!(
        status.code(),
        Some(1),
        "invalid records make exit 1: {stderr}"
    );
    let state = sandbox.state();
    (comparable(&state), applied(&state))
}

fn applied(state: &Value) -> u64 {
    state["operations"]["applied"]
        .as_u64()
        .expect("applied count")
}

/// Bursts of 429 with `Retry-After` on top of the random faults (queued again after each stop).
fn burst_of_429() -> Value {
    json!([{"status": 429, "retry_after": 1, "times": 3}])
}

/// A sandbox answering 20% of requests with an injected 5xx, 1 ms late, after a burst of 429s.
fn faulty_sandbox(seed: &str) -> SandboxProc {
    let sandbox = SandboxProc::start(&["--fail-rate", "0.2", "--latency-ms", "1", "--seed", seed]);
    sandbox.script(&burst_of_429());
    sandbox
}

// ---------------------------------------------------------------------------------------------
// Tests

#[test]
fn sigkill_at_random_points_then_resume_loses_and_duplicates_nothing() {
    let dir = common::tempdir();
    let input = dir.path().join("events.ndjson");
    let generated = generate(&input, 11);
    let (reference, reference_applied) = reference_run(dir.path(), &input);

    let sandbox = faulty_sandbox("5");
    let run = Run::new(dir.path(), "chaos", &input, &sandbox.url);
    let mut rng = fastrand::Rng::with_seed(42);
    let mut resume = false;
    let mut kills = 0;
    let mut after = 0;
    while kills < 4 {
        after = after.max(run.settled()) + rng.u64(1_000..4_000);
        match interrupt_after(&run, resume, after, "KILL", 1) {
            // It may finish between the progress check and the signal: then it was not killed.
            Some((status, _)) if status.code().is_some() => break,
            Some(_) => {}
            None => break,
        }
        kills += 1;
        resume = true;
        sandbox.script(&burst_of_429());
    }
    assert!(kills >= 2, "the run was killed only {kills} times");
    let (status, stderr) = run.finish(true);
    assert_eq!(status.code(), Some(1), "{stderr}");
    check_complete(&run, &generated, &sandbox, &reference);
    // The README's figure: operations applied twice because a kill came before their checkpoint.
    let resent = applied(&sandbox.state()).saturating_sub(reference_applied);
    eprintln!(
        "re-sent operations per kill -9: {} ({resent} over {kills} kills of a run at up to 1,000 requests/s)",
        resent / kills
    );

    // Resuming a finished run sends nothing more and says so through its exit code.
    let before = sandbox.state()["requests"]["total"].clone();
    let (status, stderr) = run.finish(true);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert_eq!(
        sandbox.state()["requests"]["total"],
        before,
        "nothing re-sent"
    );

    // A second full run without --resume changes nothing in the workspace (deterministic ids).
    let again = Run::new(dir.path(), "again", &input, &sandbox.url);
    let events_before = sandbox.state()["events"]["total"].as_u64().unwrap();
    let (status, stderr) = again.finish(false);
    assert_eq!(status.code(), Some(1), "{stderr}");
    let state = sandbox.state();
    assert_eq!(
        comparable(&state),
        reference,
        "a re-run changed the workspace"
    );
    assert!(
        state["events"]["total"].as_u64().unwrap() > events_before,
        "events were re-sent"
    );
}

#[test]
fn ctrl_c_writes_a_checkpoint_exits_130_and_resume_finishes() {
    let dir = common::tempdir();
    let input = dir.path().join("events.ndjson");
    let generated = generate(&input, 23);
    let reference = reference_state(dir.path(), &input);

    let sandbox = faulty_sandbox("9");
    let run = Run::new(dir.path(), "int", &input, &sandbox.url);
    // One Ctrl-C: a clean stop.
    let (status, stderr) = interrupt_after(&run, false, 3_000, "INT", 1).expect("still running");
    assert_eq!(status.code(), Some(130), "{stderr}");
    let cp = run.checkpoint();
    assert_eq!(cp["finished"], false);
    let settled = run.settled();
    assert!(
        settled >= 3_000,
        "the checkpoint covers the work done: {settled}"
    );
    assert!(
        !std::fs::read_to_string(&run.checkpoint)
            .unwrap()
            .contains("sandbox-key")
    );

    // Two Ctrl-Cs: out at once, the last checkpoint still valid.
    if let Some((status, stderr)) = interrupt_after(&run, true, settled + 3_000, "INT", 2) {
        assert_eq!(status.code(), Some(130), "{stderr}");
        assert!(run.settled() >= settled);
    }
    let (status, stderr) = run.finish(true);
    assert!(matches!(status.code(), Some(0 | 1)), "{stderr}");
    check_complete(&run, &generated, &sandbox, &reference);
}

#[test]
fn resume_refusals_are_clear_usage_errors() {
    let dir = common::tempdir();
    let input = dir.path().join("small.ndjson");
    std::fs::write(
        &input,
        "{\"type\":\"track\",\"event\":\"e\",\"userId\":\"u\",\"timestamp\":\"2023-01-01T00:00:00Z\"}\n",
    )
    .unwrap();
    // Nothing listens here: every refusal must come before any request.
    let url = "http://127.0.0.1:9";
    let run = Run::new(dir.path(), "small", &input, url);

    let (status, stderr) = run.finish(true);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("does not exist") && stderr.contains("small.checkpoint.json"),
        "{stderr}"
    );

    // An unfinished checkpoint is not overwritten by a run without --resume.
    let fingerprint =
        cio_replay::source::fingerprint::fingerprints(std::slice::from_ref(&input)).unwrap();
    let settings = json!({});
    let mut cp = cio_replay::ledger::Checkpoint::fresh(
        serde_json::from_value(settings).unwrap(),
        fingerprint,
        &run.dead_letter,
    );
    cp.write_atomic(&run.checkpoint).unwrap();
    let (status, stderr) = run.finish(false);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("pass --resume"), "{stderr}");

    // Other settings than the checkpoint's are refused, naming what changed.
    let (status, stderr) = run.finish(true);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("different settings"), "{stderr}");

    // A changed input is refused, naming the file and the change.
    let sandbox = SandboxProc::start(&[]);
    let real = Run::new(dir.path(), "real", &input, &sandbox.url);
    let (status, stderr) = real.finish(false);
    assert_eq!(status.code(), Some(0), "{stderr}");
    std::fs::write(
        &input,
        "{\"type\":\"track\",\"event\":\"changed\",\"userId\":\"u\"}\n",
    )
    .unwrap();
    let (status, stderr) = real.finish(true);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("small.ndjson") && stderr.contains("changed since"),
        "{stderr}"
    );

    // Standard input cannot be resumed.
    let out = common::process()
        .args([
            "send",
            "-",
            "--allow-recent",
            "--endpoint",
            url,
            "--site-id",
            "sandbox",
            "--checkpoint",
        ])
        .arg(dir.path().join("stdin.checkpoint"))
        .env("CIO_API_KEY", "sandbox-key")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("standard input cannot be resumed"),
        "{stderr}"
    );
}
