//! `cio-replay gdpr`: lists against the sandbox over loopback — exactly the valid people deleted,
//! suppress blocking and unsuppress freeing identifiers, the receipt, the gate (no terminal, and a
//! pseudo-terminal driving the prompt), and the API key kept out of every output.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use cio_replay::deliver::{HttpTransport, Transport};
use cio_replay::sandbox::{Sandbox, SandboxConfig};
use cio_replay::secret::Secret;
use cio_replay::track::Endpoint;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const SITE: &str = "gdpr-site";
const KEY: &str = "gdpr-test-k3y-NEVER-PRINTED";

/// Create people with identify operations (straight to the sandbox, not through gdpr).
fn identify(sb: &Sandbox, people: &[Value]) {
    let transport = HttpTransport::new(
        &sb.url(),
        SITE,
        &Secret::new(KEY),
        Duration::from_secs(10),
        1,
    )
    .expect("transport");
    let batch: Vec<Value> = people
        .iter()
        .map(|ids| json!({"type": "person", "action": "identify", "identifiers": ids, "attributes": {"plan": "pro"}}))
        .collect();
    let body = json!({ "batch": batch }).to_string();
    let reply = transport
        .post(Endpoint::Batch, body.as_bytes())
        .expect("identify posted");
    assert_eq!(reply.status, 200, "{}", reply.body);
}

/// The identifiers of every person in the sandbox, as `kind:value` strings (cio_ids left out).
fn people(sb: &Sandbox) -> Vec<String> {
    let state = sb.state();
    let mut out: Vec<String> = state["people"]
        .as_array()
        .expect("people")
        .iter()
        .flat_map(|p| {
            p["identifiers"]
                .as_object()
                .expect("identifiers")
                .iter()
                .filter(|(k, _)| *k != "cio_id")
                .map(|(k, v)| format!("{k}:{}", v.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
        })
        .collect();
    out.sort();
    out
}

fn cio_id_of(sb: &Sandbox, id: &str) -> String {
    sb.state()["people"]
        .as_array()
        .expect("people")
        .iter()
        .find(|p| p["identifiers"]["id"] == id)
        .and_then(|p| p["identifiers"]["cio_id"].as_str())
        .expect("person has a cio_id")
        .to_string()
}

/// The receipt's rows (by column name) and its `#` trailer (key → value).
fn receipt(path: &Path) -> (Vec<BTreeMap<String, String>>, BTreeMap<String, String>) {
    let text = std::fs::read_to_string(path).expect("receipt written");
    assert!(!text.contains(KEY), "the receipt holds the API key");
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    let rows = reader
        .records()
        .map(|r| {
            let r = r.expect("row");
            header
                .iter()
                .cloned()
                .zip(r.iter().map(String::from))
                .collect()
        })
        .collect();
    let trailer = text
        .lines()
        .filter_map(|l| l.strip_prefix("# "))
        .filter_map(|l| l.split_once(','))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    (rows, trailer)
}

fn no_key(output: &std::process::Output) {
    for stream in [&output.stdout, &output.stderr] {
        assert!(
            !String::from_utf8_lossy(stream).contains(KEY),
            "output holds the API key"
        );
    }
}

#[test]
fn a_mixed_list_deletes_exactly_the_valid_people_and_reports_the_rest_by_line() {
    let sb = common::sandbox_for(SITE, KEY, SandboxConfig::default());
    identify(
        &sb,
        &[
            json!({"id": "u1"}),
            json!({"id": "u2"}),
            json!({"id": "u3"}),
            json!({"id": "u4"}),
            json!({"email": "ada@example.org"}),
            json!({"email": "bob@example.org"}),
        ],
    );
    let cio = cio_id_of(&sb, "u4");
    let dir = common::tempdir();
    let list = dir.path().join("forget.txt");
    let long = "x".repeat(151);
    let text = format!(
        "# ticket PRIV-1\nu1\n  Ada@Example.org  \n\nADA@example.ORG\nu2\nu1\ncio_{cio}\n{long}\nbad\u{1}id\nnobody\n"
    );
    std::fs::write(&list, &text).expect("list");
    let receipt_path = dir.path().join("receipt.csv");
    let out = common::gdpr(&sb)
        .args(["delete", "--yes", "--receipt"])
        .arg(&receipt_path)
        .arg(&list)
        .output()
        .expect("runs");
    no_key(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("forget.txt:9: invalid: id is 151 bytes"),
        "{stderr}"
    );
    assert!(
        stderr.contains("forget.txt:10: invalid: contains the control character U+0001"),
        "{stderr}"
    );
    assert!(stderr.contains("forget.txt:5: duplicate of"), "{stderr}");
    assert!(stderr.contains("forget.txt:7: duplicate of"), "{stderr}");
    assert!(
        stderr.contains("re-running the same list is safe"),
        "{stderr}"
    );
    assert_eq!(people(&sb), ["email:bob@example.org", "id:u3"]);

    let (rows, trailer) = receipt(&receipt_path);
    let persons: Vec<_> = rows.iter().filter(|r| r["outcome"] != "invalid").collect();
    let mut ids: Vec<String> = persons
        .iter()
        .map(|r| format!("{}:{}", r["kind"], r["identifier"]))
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            "cio_id:cio_".to_string() + &cio,
            "email:Ada@Example.org".into(),
            "id:nobody".into(),
            "id:u1".into(),
            "id:u2".into()
        ]
    );
    assert!(
        persons
            .iter()
            .all(|r| r["outcome"] == "accepted" && r["action"] == "delete")
    );
    assert!(
        persons
            .iter()
            .all(|r| r["time"].ends_with('Z') && r["time"].contains('T'))
    );
    let mut invalid: Vec<&str> = rows
        .iter()
        .filter(|r| r["outcome"] == "invalid")
        .map(|r| r["source"].as_str())
        .collect();
    invalid.sort();
    assert_eq!(invalid.len(), 2);
    assert!(invalid[0].ends_with("forget.txt:10") && invalid[1].ends_with("forget.txt:9"));
    let sha = Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    assert_eq!(trailer["list_sha256"], sha);
    assert_eq!(trailer["people"], "5");
    assert_eq!(trailer["accepted"], "5");
    assert_eq!(trailer["rejected"], "0");
    assert_eq!(trailer["failed"], "0");
    assert_eq!(trailer["invalid"], "2");
    assert_eq!(trailer["duplicates"], "2");
    assert_eq!(trailer["workspace_site_id"], SITE);
    assert_eq!(trailer["tool_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(trailer["ending"], "complete");

    // The same list again: safe, everyone accepted again, nothing else removed.
    let again = dir.path().join("again.csv");
    let out = common::gdpr(&sb)
        .args(["delete", "--yes", "--receipt"])
        .arg(&again)
        .arg(&list)
        .output()
        .expect("runs");
    no_key(&out);
    assert_eq!(out.status.code(), Some(1));
    let (_, trailer) = receipt(&again);
    assert_eq!(
        (trailer["accepted"].as_str(), trailer["failed"].as_str()),
        ("5", "0")
    );
    assert_eq!(people(&sb), ["email:bob@example.org", "id:u3"]);

    // A receipt is never overwritten: refused before anything is sent.
    let before = common::requests(&sb);
    let out = common::gdpr(&sb)
        .args(["delete", "--yes", "--receipt"])
        .arg(&again)
        .arg(&list)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(common::requests(&sb), before);
}

#[test]
fn suppress_blocks_later_identify_calls_and_unsuppress_frees_them() {
    let sb = common::sandbox_for(SITE, KEY, SandboxConfig::default());
    identify(
        &sb,
        &[
            json!({"id": "u1"}),
            json!({"email": "sam@example.org"}),
            json!({"id": "stay"}),
        ],
    );
    let dir = common::tempdir();
    let csv_list = dir.path().join("people.csv");
    std::fs::write(
        &csv_list,
        "note,userId\nfirst,u1\nsecond,Sam@Example.org\nblank,\n",
    )
    .expect("list");
    let out = common::gdpr(&sb)
        .args(["suppress", "--yes", "--receipt"])
        .arg(dir.path().join("s.csv"))
        .arg(&csv_list)
        .output()
        .expect("runs");
    no_key(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("blocks the identifier"));
    assert_eq!(people(&sb), ["id:stay"]);
    let suppressed = sb.state()["suppressed"].clone();
    let blocked = suppressed.as_array().expect("suppressed");
    assert!(blocked.contains(&json!({"id": "u1"})), "{suppressed}");
    assert!(
        blocked.contains(&json!({"email": "sam@example.org"})),
        "{suppressed}"
    );

    // Blocked: identify calls for them are accepted and ignored.
    identify(
        &sb,
        &[json!({"id": "u1"}), json!({"email": "sam@example.org"})],
    );
    assert_eq!(people(&sb), ["id:stay"]);

    // Unsuppress from an NDJSON list (a plain object and a Segment event).
    let ndjson = dir.path().join("free.ndjson");
    std::fs::write(
        &ndjson,
        "{\"userId\":\"u1\"}\n{\"type\":\"track\",\"event\":\"User Unsuppressed\",\"properties\":{\"email\":\"sam@example.org\"}}\n",
    )
    .expect("list");
    let out = common::gdpr(&sb)
        .args(["unsuppress", "--yes", "--receipt"])
        .arg(dir.path().join("u.csv"))
        .arg(&ndjson)
        .output()
        .expect("runs");
    no_key(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("does NOT restore"));
    assert_eq!(sb.totals().suppressed, 0);
    identify(
        &sb,
        &[json!({"id": "u1"}), json!({"email": "sam@example.org"})],
    );
    assert_eq!(people(&sb), ["email:sam@example.org", "id:stay", "id:u1"]);
}

#[test]
fn without_a_terminal_and_without_yes_nothing_is_sent() {
    let sb = common::sandbox_for(SITE, KEY, SandboxConfig::default());
    identify(&sb, &[json!({"id": "u1"})]);
    let before = common::requests(&sb);
    let dir = common::tempdir();
    let list = dir.path().join("l.txt");
    std::fs::write(&list, "u1\n").expect("list");
    let receipt_path = dir.path().join("r.csv");
    let out = common::gdpr(&sb)
        .args(["delete", "--receipt"])
        .arg(&receipt_path)
        .arg(&list)
        .output()
        .expect("runs");
    no_key(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("refusing to delete 1 person without confirmation")
    );
    assert_eq!(common::requests(&sb), before, "the sandbox got a request");
    assert_eq!(people(&sb), ["id:u1"]);
    assert!(!receipt_path.exists());
}

#[test]
fn dry_run_lists_every_person_and_needs_no_credentials() {
    let dir = common::tempdir();
    let list = dir.path().join("l.csv");
    std::fs::write(
        &list,
        "\u{feff}Email\na@example.org\nA@EXAMPLE.org\nnot-an-address\n",
    )
    .expect("list");
    let out = common::cio()
        .args(["gdpr", "suppress", "--dry-run", "--mode", "sequential"])
        .arg(&list)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("NDJSON"))
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(
        lines[0]["operation"],
        json!({"type": "person", "action": "suppress", "identifiers": {"email": "a@example.org"}})
    );
    assert_eq!(lines[0]["endpoint"], "POST /api/v2/entity");
    assert!(
        lines[0]["source"]
            .as_str()
            .is_some_and(|s| s.ends_with("l.csv:2"))
    );
    assert!(
        lines[1]["duplicate_of"]
            .as_str()
            .is_some_and(|s| s.ends_with("l.csv:2"))
    );
    assert!(
        lines[2]["error"]
            .as_str()
            .is_some_and(|s| s.contains("not an email address"))
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("1 person"), "{stderr}");
    assert!(stderr.contains("dry run: nothing was sent"), "{stderr}");
}

/// `gdpr` has no `--dead-letter` (before: its help listed the flag, and every use was refused):
/// not in its help, an unknown argument when given; `send` keeps it.
/// A delete of a person the workspace does not have is accepted, as Customer.io does it; the
/// summary says so once (before: a bare "accepted"), pointing to `verify`.
#[test]
fn deleting_someone_unknown_is_accepted_with_a_note_that_it_proves_nothing() {
    let sb = common::sandbox_for(SITE, KEY, SandboxConfig::default());
    identify(&sb, &[json!({"id": "known"})]);
    let dir = common::tempdir();
    std::fs::write(dir.path().join("l.txt"), "known\nnever-seen\n").expect("list");
    let out = common::gdpr(&sb)
        .current_dir(dir.path())
        .args(["delete", "--yes", "l.txt", "--receipt", "r.csv"])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let (rows, _) = receipt(&dir.path().join("r.csv"));
    assert!(rows.iter().all(|r| r["outcome"] == "accepted"), "{rows:?}");
    assert_eq!(
        stderr
            .matches("accepts deletes and suppressions of people it does not have")
            .count(),
        1,
        "{stderr}"
    );
    assert!(
        stderr.contains("does not prove the person existed"),
        "{stderr}"
    );
    assert!(stderr.contains("cio-replay verify"), "{stderr}");
    let note = stderr
        .lines()
        .skip_while(|l| !l.starts_with("note: Customer.io"))
        .take(3);
    assert!(note.clone().all(|l| l.chars().count() <= 80), "{stderr}");
}

#[test]
fn gdpr_has_no_dead_letter_flag_and_send_keeps_it() {
    let help = common::cio()
        .args(["gdpr", "--help"])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.status.success() && text.contains("--receipt"),
        "{text}"
    );
    assert!(!text.contains("--dead-letter"), "{text}");
    let out = common::cio()
        .args([
            "gdpr",
            "delete",
            "--dry-run",
            "--dead-letter",
            "d.ndjson",
            "-",
        ])
        .write_stdin("u-1\n")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--dead-letter"), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing listed: {stderr}");
    let help = common::cio()
        .args(["send", "--help"])
        .output()
        .expect("runs");
    assert!(String::from_utf8_lossy(&help.stdout).contains("--dead-letter <FILE>"));
}

#[test]
fn a_csv_without_a_usable_column_is_a_usage_error() {
    let dir = common::tempdir();
    let list = dir.path().join("l.csv");
    std::fs::write(&list, "name,phone\nx,1\n").expect("list");
    let out = common::cio()
        .args(["gdpr", "delete", "--dry-run"])
        .arg(&list)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--column NAME"));
    let out = common::cio()
        .args(["gdpr", "delete", "--dry-run", "--column", "phone"])
        .arg(&list)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("{\"id\":\"1\"}"));
}

#[cfg(unix)]
#[test]
fn the_prompt_on_a_terminal_sends_nothing_on_a_wrong_answer_and_proceeds_on_the_count() {
    use expectrl::process::unix::WaitStatus;
    use expectrl::{Expect, Session};

    let sb = common::sandbox_for(SITE, KEY, SandboxConfig::default());
    identify(
        &sb,
        &[json!({"id": "u1"}), json!({"email": "ada@example.org"})],
    );
    let before = common::requests(&sb);
    let dir = common::tempdir();
    let list = dir.path().join("l.txt");
    std::fs::write(&list, "u1\nada@example.org\n").expect("list");
    let spawn = |receipt: &str| {
        let mut cmd = common::process();
        cmd.env("CIO_SITE_ID", SITE)
            .env("CIO_API_KEY", KEY)
            .args([
                "gdpr",
                "delete",
                "--progress",
                "never",
                "--endpoint",
                &sb.url(),
                "--receipt",
            ])
            .arg(dir.path().join(receipt))
            .arg(&list);
        let mut session = Session::spawn(cmd).expect("spawned on a pty");
        session.set_expect_timeout(Some(Duration::from_secs(60)));
        session
    };

    let mut wrong = spawn("wrong.csv");
    wrong
        .expect(format!("site id \"{SITE}\"").as_str())
        .expect("workspace shown");
    wrong
        .expect("Type the number of people (2) to go on")
        .expect("prompt");
    wrong.send_line("3").expect("answer");
    wrong.expect("nothing was sent").expect("refusal");
    let pid = wrong.get_process().pid();
    assert_eq!(
        wrong.get_process().wait().expect("exit"),
        WaitStatus::Exited(pid, 2)
    );
    assert_eq!(
        common::requests(&sb),
        before,
        "a wrong answer sent something"
    );
    assert!(!dir.path().join("wrong.csv").exists());

    let mut right = spawn("right.csv");
    right
        .expect("Type the number of people (2) to go on")
        .expect("prompt");
    right.send_line("2").expect("answer");
    right.expect("2 accepted").expect("sent");
    let pid = right.get_process().pid();
    assert_eq!(
        right.get_process().wait().expect("exit"),
        WaitStatus::Exited(pid, 0)
    );
    assert!(people(&sb).is_empty());
    let (rows, _) = receipt(&dir.path().join("right.csv"));
    assert_eq!(rows.len(), 2);
}

#[cfg(unix)]
#[test]
fn no_list_file_on_a_terminal_is_refused_instead_of_waiting_for_typed_input() {
    use expectrl::process::unix::WaitStatus;
    use expectrl::{Expect, Session};

    let mut cmd = common::process();
    cmd.args(["gdpr", "delete", "--dry-run"]);
    let mut session = Session::spawn(cmd).expect("spawned on a pty");
    session.set_expect_timeout(Some(Duration::from_secs(60)));
    session
        .expect("no list: give a list FILE")
        .expect("refusal");
    let pid = session.get_process().pid();
    assert_eq!(
        session.get_process().wait().expect("exit"),
        WaitStatus::Exited(pid, 2)
    );
}

// ---------------------------------------------------------------------------------------------
// --checkpoint / --resume / --report

fn json_file(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("file written");
    assert!(!text.contains(KEY), "{} holds the API key", path.display());
    serde_json::from_str(&text).expect("JSON")
}

#[test]
fn ctrl_c_with_a_checkpoint_then_resume_sends_everyone_exactly_once_into_one_receipt() {
    const N: usize = 400;
    let sb = common::sandbox_for(
        SITE,
        KEY,
        SandboxConfig {
            latency: Duration::from_millis(25),
            ..SandboxConfig::default()
        },
    );
    let ids: Vec<String> = (0..N).map(|i| format!("u{i:04}")).collect();
    identify(
        &sb,
        &ids.iter().map(|id| json!({ "id": id })).collect::<Vec<_>>(),
    );
    assert_eq!(people(&sb).len(), N);
    // Duplicates and unusable entries spread over the list, so record indices are not line numbers.
    let mut text = String::from("# ticket PRIV-9\n");
    let mut malformed = 0;
    for (i, id) in ids.iter().enumerate() {
        text.push_str(id);
        text.push('\n');
        if i % 37 == 5 {
            text.push_str(&format!("{}\n\n", ids[i / 2]));
        }
        if i % 91 == 7 {
            text.push_str(&format!("{}\n", "x".repeat(151)));
            malformed += 1;
        }
    }
    let dir = common::tempdir();
    let list = dir.path().join("forget.txt");
    std::fs::write(&list, &text).expect("list");
    let checkpoint = dir.path().join("job.checkpoint.json");
    let receipt_path = dir.path().join("job.csv");
    let report1 = dir.path().join("run1.json");
    let report2 = dir.path().join("run2.json");
    let run = |resume: bool, report: &Path| {
        let mut cmd = common::piped();
        cmd.env("CIO_SITE_ID", SITE)
            .env("CIO_API_KEY", KEY)
            .args(["gdpr", "delete", "--yes", "--endpoint", &sb.url()])
            .args([
                "--progress",
                "never",
                "--concurrency",
                "1",
                "--batch-size",
                "5",
            ])
            .arg("--checkpoint")
            .arg(&checkpoint)
            .arg("--report")
            .arg(report)
            .arg(&list);
        if resume {
            cmd.arg("--resume");
        } else {
            cmd.arg("--receipt").arg(&receipt_path);
        }
        cmd.spawn().expect("gdpr starts")
    };
    let base = common::operations(&sb);

    // Run 1: Ctrl-C once a quarter of the people are settled.
    let mut child = run(false, &report1);
    let started = std::time::Instant::now();
    while common::watermark(&checkpoint) < (N / 4) as u64 {
        assert!(
            child.try_wait().expect("wait").is_none(),
            "the run ended before it could be interrupted"
        );
        assert!(started.elapsed() < Duration::from_secs(60), "no progress");
        std::thread::sleep(Duration::from_millis(5));
    }
    let ok = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(ok.success());
    let out = child.wait_with_output().expect("run 1 ends");
    no_key(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("--resume"), "{stderr}");
    let first = common::operations(&sb) - base;
    assert!(first > 0 && first < N as u64, "run 1 sent {first}");

    // The interrupted receipt: still one row per person (the unsent ones say so), marked interrupted.
    let (rows, trailer) = receipt(&receipt_path);
    let persons: Vec<_> = rows.iter().filter(|r| r["outcome"] != "invalid").collect();
    assert_eq!(persons.len(), N);
    assert_eq!(trailer["status"], "interrupted");
    assert_eq!(trailer["people"], N.to_string());
    let accepted1: u64 = trailer["accepted"].parse().expect("count");
    assert_eq!(
        accepted1, first,
        "accepted rows = operations the sandbox got"
    );
    let r1 = json_file(&report1);
    assert_eq!(r1["status"], "interrupted");
    assert_eq!(r1["checkpoint"]["finished"], false);

    // Run 2: resume; it sends only the rest.
    let out = run(true, &report2).wait_with_output().expect("run 2 ends");
    no_key(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "malformed entries make it partial: {stderr}"
    );
    assert!(stderr.contains("left to send"), "{stderr}");
    let second = common::operations(&sb) - base - first;
    assert_eq!(
        first + second,
        N as u64,
        "every person sent exactly once over the job"
    );
    assert!(people(&sb).is_empty(), "{:?}", people(&sb));

    // One receipt for the whole job: one row per distinct person, each entry once, whole-job totals.
    let (rows, trailer) = receipt(&receipt_path);
    let mut seen: Vec<&str> = rows
        .iter()
        .filter(|r| r["outcome"] != "invalid")
        .map(|r| r["identifier"].as_str())
        .collect();
    assert!(
        rows.iter()
            .filter(|r| r["outcome"] != "invalid")
            .all(|r| r["outcome"] == "accepted")
    );
    seen.sort();
    assert_eq!(seen, ids.iter().map(String::as_str).collect::<Vec<_>>());
    let invalid = rows.iter().filter(|r| r["outcome"] == "invalid").count();
    assert_eq!(invalid, malformed);
    let text_receipt = std::fs::read_to_string(&receipt_path).expect("receipt");
    assert_eq!(text_receipt.matches("# status,").count(), 1, "one trailer");
    assert_eq!(trailer["status"], "complete");
    assert_eq!(trailer["people"], N.to_string());
    assert_eq!(trailer["accepted"], N.to_string());
    assert_eq!(trailer["invalid"], malformed.to_string());
    assert_eq!(trailer["failed"], "0");

    let sha = Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    let r2 = json_file(&report2);
    assert_eq!(r2["command"], "gdpr");
    assert_eq!(r2["action"], "delete");
    assert_eq!(r2["tool_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(r2["list_sha256"], sha);
    assert_eq!(r2["workspace"]["site_id"], SITE);
    assert!(
        sb.url()
            .contains(r2["workspace"]["host"].as_str().expect("host")),
        "{r2}"
    );
    assert_eq!(r2["receipt"], receipt_path.display().to_string());
    assert_eq!(r2["people"], N as u64);
    assert_eq!(r2["outcomes"]["accepted"], N as u64);
    assert_eq!(r2["outcomes"]["invalid"], malformed as u64);
    assert_eq!(r2["this_run"]["operations"], second);
    assert_eq!(r2["status"], "complete");
    assert_eq!(r2["checkpoint"]["resumed"], true);
    assert_eq!(r2["checkpoint"]["finished"], true);
    assert_eq!(r2["checkpoint"]["earlier_runs"]["accepted"], first);
}

#[test]
fn resume_refuses_a_changed_list_another_receipt_and_stdin() {
    let sb = common::sandbox_for(SITE, KEY, SandboxConfig::default());
    let dir = common::tempdir();
    let list = dir.path().join("forget.txt");
    std::fs::write(&list, "u1\nu2\nada@example.org\n").expect("list");
    let checkpoint = dir.path().join("cp.json");
    let receipt_path = dir.path().join("r.csv");
    let out = common::gdpr(&sb)
        .args(["delete", "--yes", "--checkpoint"])
        .arg(&checkpoint)
        .arg("--receipt")
        .arg(&receipt_path)
        .arg(&list)
        .output()
        .expect("runs");
    no_key(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cp = std::fs::read_to_string(&checkpoint).expect("checkpoint");
    assert!(!cp.contains(KEY) && !cp.contains(SITE), "{cp}");
    let before = common::requests(&sb);

    // The finished job, resumed: nothing to do, the receipt untouched.
    let receipt_before = std::fs::read(&receipt_path).expect("receipt");
    let out = common::gdpr(&sb)
        .args(["delete", "--yes", "--resume", "--checkpoint"])
        .arg(&checkpoint)
        .arg(&list)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("finished already"));
    assert_eq!(
        std::fs::read(&receipt_path).expect("receipt"),
        receipt_before
    );

    // A crash after the last rows but before the trailer: resuming completes the receipt and
    // sends nothing.
    let mut cp: Value = serde_json::from_str(&cp).expect("checkpoint JSON");
    let len = cp["dead_letter"]["len"].as_u64().expect("receipt length");
    cp["finished"] = json!(false);
    for input in cp["inputs"].as_array_mut().expect("inputs") {
        input["finished"] = json!(false);
    }
    std::fs::write(&checkpoint, cp.to_string()).expect("checkpoint");
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&receipt_path)
        .expect("receipt");
    file.set_len(len).expect("cut");
    drop(file);
    assert!(
        !std::fs::read_to_string(&receipt_path)
            .expect("receipt")
            .contains("# status")
    );
    let out = common::gdpr(&sb)
        .args(["delete", "--yes", "--resume", "--checkpoint"])
        .arg(&checkpoint)
        .arg(&list)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("nothing left to send"), "{stderr}");
    let (rows, trailer) = receipt(&receipt_path);
    assert_eq!(rows.len(), 3);
    assert_eq!(
        (trailer["accepted"].as_str(), trailer["status"].as_str()),
        ("3", "complete")
    );
    assert_eq!(common::requests(&sb), before);

    // Another receipt, or another action, is refused.
    let out = common::gdpr(&sb)
        .args([
            "delete",
            "--yes",
            "--resume",
            "--receipt",
            "other.csv",
            "--checkpoint",
        ])
        .arg(&checkpoint)
        .arg(&list)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("r.csv"));
    let out = common::gdpr(&sb)
        .args(["suppress", "--yes", "--resume", "--checkpoint"])
        .arg(&checkpoint)
        .arg(&list)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("action"));

    // A changed list is refused.
    std::fs::write(&list, "u1\nu2\nada@example.org\nu3\n").expect("list");
    let out = common::gdpr(&sb)
        .args(["delete", "--yes", "--resume", "--checkpoint"])
        .arg(&checkpoint)
        .arg(&list)
        .output()
        .expect("runs");
    no_key(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("changed") || stderr.contains("list_sha256"),
        "{stderr}"
    );

    // A dry run takes neither --report nor --checkpoint.
    for flag in ["--report", "--checkpoint"] {
        let out = common::gdpr(&sb)
            .args(["delete", "--dry-run", flag])
            .arg(dir.path().join("dry.json"))
            .arg(&list)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{flag}");
        assert!(!dir.path().join("dry.json").exists());
    }

    // Standard input cannot be resumed.
    let out = common::gdpr(&sb)
        .args(["delete", "--yes", "--checkpoint"])
        .arg(dir.path().join("stdin.json"))
        .write_stdin("u9\n")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("standard input"));
    assert_eq!(
        common::requests(&sb),
        before,
        "no refused run sent anything"
    );
}

#[test]
fn a_killed_checkpointed_run_resumes_into_one_receipt_with_one_row_per_person() {
    const N: usize = 400;
    let sb = common::sandbox_for(
        SITE,
        KEY,
        SandboxConfig {
            latency: Duration::from_millis(25),
            ..SandboxConfig::default()
        },
    );
    let ids: Vec<String> = (0..N).map(|i| format!("k{i:04}@example.org")).collect();
    let dir = common::tempdir();
    let list = dir.path().join("list.csv");
    std::fs::write(&list, format!("email\n{}\n", ids.join("\n"))).expect("list");
    let checkpoint = dir.path().join("cp.json");
    let receipt_path = dir.path().join("kill.csv");
    let command = |resume: bool| {
        let mut cmd = common::piped();
        cmd.env("CIO_SITE_ID", SITE)
            .env("CIO_API_KEY", KEY)
            .args(["gdpr", "suppress", "--yes", "--endpoint", &sb.url()])
            .args([
                "--progress",
                "never",
                "--concurrency",
                "1",
                "--batch-size",
                "5",
            ])
            .arg("--checkpoint")
            .arg(&checkpoint)
            .arg("--receipt")
            .arg(&receipt_path)
            .arg(&list);
        if resume {
            cmd.arg("--resume");
        }
        cmd
    };
    let mut child = command(false).spawn().expect("starts");
    let started = std::time::Instant::now();
    while common::watermark(&checkpoint) < (N / 4) as u64 {
        assert!(child.try_wait().expect("wait").is_none(), "ended too soon");
        assert!(started.elapsed() < Duration::from_secs(60), "no progress");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    let out = command(true).output().expect("resume runs");
    no_key(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let (rows, trailer) = receipt(&receipt_path);
    let mut seen: Vec<&str> = rows.iter().map(|r| r["identifier"].as_str()).collect();
    seen.sort();
    assert_eq!(seen, ids.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(rows.iter().all(|r| r["outcome"] == "accepted"));
    let text = std::fs::read_to_string(&receipt_path).expect("receipt");
    assert_eq!(text.matches("# status,").count(), 1);
    assert_eq!(text.matches("identifier,kind,").count(), 1, "one header");
    assert_eq!(trailer["status"], "complete");
    assert_eq!(trailer["accepted"], N.to_string());
    assert_eq!(sb.state()["totals"]["suppressed"], N as u64);
}

#[test]
fn the_preflight_refuses_a_wrong_key_or_the_other_region_before_anyone_is_asked() {
    use crate::common::requests;
    let dir = common::tempdir();
    let list = dir.path().join("forget.txt");
    std::fs::write(&list, "u1\nu2\n").expect("list");
    let receipt_path = dir.path().join("receipt.csv");
    let sb = common::sandbox_for(SITE, KEY, SandboxConfig::default());
    let out = common::gdpr(&sb)
        .env("CIO_API_KEY", "wrong-key")
        .args(["delete", "--yes", "--receipt"])
        .arg(&receipt_path)
        .arg(&list)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("refused the credentials"), "{stderr}");
    assert!(!stderr.contains("wrong-key"), "{stderr}");
    assert_eq!(requests(&sb), 0);
    assert!(!receipt_path.exists(), "no receipt for a refused run");

    let eu = common::sandbox_for(
        SITE,
        KEY,
        SandboxConfig {
            region: cio_replay::track::Region::Eu,
            ..SandboxConfig::default()
        },
    );
    let out = common::gdpr(&eu)
        .args(["delete", "--yes", "--receipt"])
        .arg(&receipt_path)
        .arg(&list)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--region eu"), "{stderr}");
    assert_eq!(requests(&eu), 0);
}

#[test]
fn a_column_on_a_list_without_columns_is_refused() {
    let dir = common::tempdir();
    let list = dir.path().join("forget.txt");
    std::fs::write(&list, "u1\nu2\n").expect("list");
    let out = common::cio()
        .args([
            "gdpr",
            "--progress",
            "never",
            "delete",
            "--dry-run",
            "--column",
            "email",
        ])
        .arg(&list)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("forget.txt is a text list"), "{stderr}");
    assert!(stderr.contains("only CSV lists"), "{stderr}");
}

/// `gdpr --report` has the fields `send`'s report has (before: no report_version, times, exit
/// code, inputs, endpoint or site-id hash), and with standard error to a file `gdpr` writes the
/// plain progress line every interval as `send` does (before: nothing).
#[test]
fn the_gdpr_report_has_the_run_fields_and_an_unwatched_run_logs_progress_rows() {
    let sb = common::sandbox_for(
        SITE,
        KEY,
        SandboxConfig {
            latency: Duration::from_millis(40),
            ..SandboxConfig::default()
        },
    );
    let dir = common::tempdir();
    let list: String = (0..24).map(|i| format!("p-{i}\n")).collect();
    std::fs::write(dir.path().join("l.txt"), format!("# comment\n{list}")).expect("list");
    let log = std::fs::File::create(dir.path().join("stderr.log")).expect("log");
    let status = common::process()
        .current_dir(dir.path())
        .env("CIO_SITE_ID", SITE)
        .env("CIO_API_KEY", KEY)
        .env("CIO_PROGRESS_INTERVAL_MS", "50")
        .args(["gdpr", "--endpoint", &sb.url(), "delete", "--yes", "l.txt"])
        .args(["--concurrency", "1", "--batch-size", "2", "--rate", "0"])
        .args(["--receipt", "r.csv", "--report", "report.json"])
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .status()
        .expect("runs");
    let stderr = std::fs::read_to_string(dir.path().join("stderr.log")).expect("log");
    assert_eq!(status.code(), Some(0), "{stderr}");
    // The header once, then rows of nine cells: elapsed, read, accepted, ... ETA.
    assert_eq!(
        stderr
            .lines()
            .filter(|l| l.trim_start().starts_with("elapsed") && l.contains("throttled"))
            .count(),
        1,
        "{stderr}"
    );
    let rows: Vec<&str> = stderr
        .lines()
        .filter(|l| {
            let cells: Vec<&str> = l.split_whitespace().collect();
            cells.len() == 9 && cells[0].matches(':').count() == 2
        })
        .collect();
    assert!(!rows.is_empty(), "{stderr}");
    assert!(rows.iter().all(|r| r.chars().count() <= 80), "{rows:?}");

    let report = json_file(&dir.path().join("report.json"));
    assert_eq!(report["report_version"], 1, "{report}");
    assert_eq!(report["tool_version"], env!("CARGO_PKG_VERSION"));
    for field in ["started_at", "finished_at"] {
        let at = report[field].as_str().expect(field);
        assert!(
            chrono::DateTime::parse_from_rfc3339(at).is_ok(),
            "{field}: {at}"
        );
    }
    assert!(report["elapsed_seconds"].as_f64().expect("elapsed") > 0.0);
    assert_eq!(report["status"], "complete");
    assert_eq!(report["exit_code"], 0);
    assert_eq!(report["inputs"][0]["path"], "l.txt", "{report}");
    assert_eq!(report["inputs"][0]["records"], 24, "{report}");
    assert!(report["inputs"][0]["size"].as_u64().is_some_and(|s| s > 0));
    assert!(report["inputs"][0]["fingerprint"].is_string());
    let url = sb.url();
    let host = url.trim_start_matches("http://").trim_end_matches('/');
    assert_eq!(report["endpoint"], host, "{report}");
    assert_eq!(report["region"], "custom endpoint");
    let hash = report["site_id_sha256"].as_str().expect("hash");
    assert_eq!(hash.len(), 16);
    let text = serde_json::to_string(&report).expect("text");
    assert!(!text.contains(KEY));
}
