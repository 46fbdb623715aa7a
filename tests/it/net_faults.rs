//! `send` and `gdpr` against servers that misbehave on the network level: 207s whose body cannot be
//! read (HTML, invalid JSON, no `errors` list, cut off, over the read limit), error bodies that echo
//! the request's credentials, proxies from the environment, and TLS with `--ca-bundle`.

use crate::common;

use std::path::Path;
use std::process::Output;

use crate::common::proxy::RecordingProxy;
use crate::common::send::{SITE, report};
use crate::common::tls::{TlsServer, ca_pem};
use base64::Engine;
use cio_replay::sandbox::{Sandbox, ScriptedReply};
use serde_json::json;

const KEY: &str = "key-1";
/// A Track API host for the proxy tests that resolves nowhere (RFC 2606).
const HOST: &str = "track.cio-replay.invalid";

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_default()
}

/// `gdpr delete --yes forget.txt` against `sb` (receipt in `receipt.csv`).
fn gdpr(sb: &Sandbox, dir: &Path, args: &[&str]) -> Output {
    common::gdpr(sb)
        .current_dir(dir)
        .args(["delete", "--yes", "--receipt", "receipt.csv"])
        .args(args)
        .arg("forget.txt")
        .output()
        .expect("runs")
}

/// 207 replies that say nothing readable about which operations failed.
fn unreadable_207s() -> Vec<(&'static str, ScriptedReply)> {
    let listed = json!({"errors":[{"batch_index":0,"reason":"invalid","message":"bad"}]});
    vec![
        (
            "html",
            ScriptedReply::status(207).text("<html><body><h1>Multi-Status</h1></body></html>"),
        ),
        (
            "invalid JSON",
            ScriptedReply::status(207).text(r#"{"errors":[{"batch_index":0,"#),
        ),
        (
            "no errors list",
            ScriptedReply::status(207).body(json!({"status": "partial"})),
        ),
        ("cut", ScriptedReply::status(207).body(listed.clone()).cut()),
        (
            "oversize",
            ScriptedReply::status(207).body(listed).pad(2 << 20),
        ),
    ]
}

#[test]
fn an_unreadable_207_is_an_unknown_outcome_and_the_batch_is_sent_again() {
    for (name, reply) in unreadable_207s() {
        let sb = common::send::sandbox(KEY);
        sb.script(vec![reply]);
        let dir = common::tempdir();
        common::send::input(dir.path(), 10, |i| format!("u{i}"));
        let (code, stderr) = common::send::send_input(
            &sb,
            dir.path(),
            KEY,
            &["--concurrency", "1", "--retries", "2"],
        );
        assert_eq!(code, 0, "{name}: {stderr}");
        let r = report(dir.path());
        assert_eq!(
            (
                r["accepted"].as_u64(),
                r["retries"].as_u64(),
                r["requests_sent"].as_u64()
            ),
            (Some(10), Some(1), Some(2)),
            "{name}: the unreadable 207 counted as an answer: {r}"
        );
        assert_eq!(common::requests(&sb), 2, "{name}");
        assert_eq!(
            sb.totals().events,
            10,
            "{name}: the retry delivered the batch"
        );
    }
}

#[test]
fn a_207_that_stays_unreadable_fails_every_operation_to_the_dead_letter_file() {
    for (name, reply) in unreadable_207s() {
        let sb = common::send::sandbox(KEY);
        sb.script(vec![reply.times(3)]);
        let dir = common::tempdir();
        common::send::input(dir.path(), 10, |i| format!("u{i}"));
        let (code, stderr) = common::send::send_input(
            &sb,
            dir.path(),
            KEY,
            &["--concurrency", "1", "--retries", "2"],
        );
        assert_eq!(code, 1, "{name}: {stderr}");
        let r = report(dir.path());
        assert_eq!(
            (r["accepted"].as_u64(), r["failed"].as_u64()),
            (Some(0), Some(10)),
            "{name}: {r}"
        );
        let dead = common::send::dead_letters(dir.path());
        assert_eq!(dead.len(), 10, "{name}");
        for line in &dead {
            let d = &line["dead_letter"];
            assert_eq!(d["stage"], "failed", "{name}: {d}");
            assert_eq!(d["status"], 207, "{name}: {d}");
            let reason = d["reason"].as_str().unwrap_or("");
            assert!(
                reason.contains("gave up after 3 attempts: 207 with an unreadable body: "),
                "{name}: {reason}"
            );
        }
        assert_eq!(common::requests(&sb), 3, "{name}");
    }
}

#[test]
fn gdpr_fails_the_people_of_a_207_that_stays_unreadable() {
    let sb = common::send::sandbox(KEY);
    sb.script(vec![
        ScriptedReply::status(207)
            .text("<html>Multi-Status</html>")
            .times(3),
    ]);
    let dir = common::tempdir();
    std::fs::write(dir.path().join("forget.txt"), "u1\nu2\n").expect("list");
    let out = gdpr(&sb, dir.path(), &["--retries", "2", "--concurrency", "1"]);
    let (code, stderr) = common::code_and_stderr(&out);
    assert_eq!(code, 1, "{stderr}");
    let receipt = read(dir.path(), "receipt.csv");
    let rows: Vec<&str> = receipt.lines().filter(|l| l.starts_with('u')).collect();
    assert_eq!(rows.len(), 2, "{receipt}");
    for row in rows {
        assert!(
            row.contains(",delete,failed,207,\"gave up after 3 attempts: 207 with an unreadable body: not JSON"),
            "{row}"
        );
    }
    assert!(receipt.contains("# accepted,0\n"), "{receipt}");
    assert_eq!(common::requests(&sb), 3);
}

#[test]
fn a_readable_207_still_rejects_only_the_listed_operations() {
    let sb = common::send::sandbox(KEY);
    sb.script(vec![ScriptedReply::status(207).body(
        json!({"errors":[{"batch_index":3,"reason":"invalid","field":"name","message":"too long"}]}),
    )]);
    let dir = common::tempdir();
    common::send::input(dir.path(), 5, |i| format!("u{i}"));
    let (code, stderr) = common::send::send_input(&sb, dir.path(), KEY, &["--concurrency", "1"]);
    assert_eq!(code, 1, "{stderr}");
    let r = report(dir.path());
    assert_eq!(
        (
            r["accepted"].as_u64(),
            r["rejected"].as_u64(),
            r["retries"].as_u64()
        ),
        (Some(4), Some(1), Some(0))
    );
    let dead = common::send::dead_letters(dir.path());
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["dead_letter"]["source"], "in.ndjson:4");
    assert_eq!(dead[0]["dead_letter"]["reason"], "name: too long (invalid)");
}

/// The forms of the key a server could echo: the key, the Basic token, the key's base64.
fn secret_forms() -> Vec<String> {
    let b64 = |t: &str| {
        base64::engine::general_purpose::STANDARD
            .encode(t)
            .trim_end_matches('=')
            .to_string()
    };
    vec![KEY.to_string(), b64(&format!("{SITE}:{KEY}")), b64(KEY)]
}

fn assert_no_secret(what: &str, text: &str) {
    for form in secret_forms() {
        assert!(!text.contains(&form), "{what} holds {form:?}:\n{text}");
    }
}

#[test]
fn a_401_page_echoing_the_authorization_header_is_redacted_on_stderr_and_in_the_report() {
    let sb = common::send::sandbox(KEY);
    sb.script(vec![
        ScriptedReply::status(401)
            .text("<html><title>401 Unauthorized</title>")
            .echo_headers(),
    ]);
    let dir = common::tempdir();
    common::send::input(dir.path(), 3, |i| format!("u{i}"));
    let (code, stderr) = common::send::send_input(&sb, dir.path(), KEY, &["--concurrency", "1"]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("401 Unauthorized"), "{stderr}");
    assert!(
        stderr.contains("Basic (redacted)"),
        "the echo should be visible, redacted: {stderr}"
    );
    assert_no_secret("stderr", &stderr);
    let report = read(dir.path(), "report.json");
    assert!(report.contains("(redacted)"), "{report}");
    assert_no_secret("the report", &report);
}

#[test]
fn rejections_echoing_credentials_are_redacted_in_dead_letters_and_the_report() {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{SITE}:{KEY}"));
    let key_b64 = base64::engine::general_purpose::STANDARD.encode(KEY);
    // A 422 (sequential mode) echoing the headers, and a 207 whose messages quote the key in each
    // of its forms.
    let cases: Vec<(&str, Vec<&str>, ScriptedReply)> = vec![
        (
            "422",
            vec!["--mode", "sequential"],
            ScriptedReply::status(422).echo_headers().times(3),
        ),
        (
            "207",
            vec!["--concurrency", "1"],
            ScriptedReply::status(207).body(json!({"errors":[
                {"batch_index":0,"message":format!("bad header: Basic {token}")},
                {"batch_index":1,"message":format!("key {KEY} is not allowed here")},
                {"batch_index":2,"message":format!("decoded {key_b64}")},
            ]})),
        ),
    ];
    for (name, args, reply) in cases {
        let sb = common::send::sandbox(KEY);
        sb.script(vec![reply]);
        let dir = common::tempdir();
        common::send::input(dir.path(), 3, |i| format!("u{i}"));
        let (code, stderr) = common::send::send_input(&sb, dir.path(), KEY, &args);
        assert_eq!(code, 1, "{name}: {stderr}");
        assert_no_secret("stderr", &stderr);
        let dead = read(dir.path(), "dead.ndjson");
        assert_eq!(dead.lines().count(), 3, "{name}: {dead}");
        for line in dead.lines() {
            assert!(line.contains("(redacted)"), "{name}: {line}");
        }
        assert_no_secret("the dead-letter file", &dead);
        assert_no_secret("the report", &read(dir.path(), "report.json"));
    }
}

#[test]
fn gdpr_receipts_never_hold_echoed_credentials() {
    let sb = common::send::sandbox(KEY);
    sb.script(vec![ScriptedReply::status(422).echo_headers().times(2)]);
    let dir = common::tempdir();
    std::fs::write(dir.path().join("forget.txt"), "u1\nu2\n").expect("list");
    let out = gdpr(&sb, dir.path(), &["--mode", "sequential"]);
    let (code, stderr) = common::code_and_stderr(&out);
    assert_eq!(code, 1, "{stderr}");
    assert_no_secret("stderr", &stderr);
    let receipt = read(dir.path(), "receipt.csv");
    assert!(receipt.contains("(redacted)"), "{receipt}");
    assert_no_secret("the receipt", &receipt);
}

/// `send in.ndjson` to `endpoint` with every proxy variable pointing at `proxy`.
fn send_via_proxy(proxy: &RecordingProxy, dir: &Path, endpoint: &str, args: &[&str]) -> Output {
    let mut cmd = assert_cmd::Command::from_std(common::send::command(endpoint, dir, KEY));
    proxy.apply(&mut cmd);
    cmd.args(["in.ndjson", "--report", "report.json"])
        .args(["--dead-letter", "dead.ndjson"])
        .args(args)
        .output()
        .expect("runs")
}

#[test]
fn a_loopback_endpoint_never_goes_through_the_environments_proxy() {
    let proxy = RecordingProxy::start();
    let sb = common::send::sandbox(KEY);
    let dir = common::tempdir();
    common::send::input(dir.path(), 5, |i| format!("u{i}"));
    let out = send_via_proxy(&proxy, dir.path(), &sb.url(), &["--retries", "0"]);
    let (code, stderr) = common::code_and_stderr(&out);
    assert_eq!(proxy.seen(), Vec::<String>::new(), "the proxy was used");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report(dir.path())["accepted"], 5);
    assert_eq!(sb.totals().events, 5);

    // `--sandbox` too.
    let mut cmd = common::cio();
    proxy.apply(&mut cmd);
    let out = cmd
        .current_dir(dir.path())
        .args(["send", "in.ndjson", "--sandbox", "--progress", "never"])
        .args(["--dead-letter", "dead2.ndjson", "--retries", "0"])
        .output()
        .expect("runs");
    let (code, stderr) = common::code_and_stderr(&out);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(proxy.seen(), Vec::<String>::new(), "the proxy was used");
}

#[test]
fn https_goes_through_the_proxy_as_a_connect_tunnel_and_plain_http_never_does() {
    let proxy = RecordingProxy::start();
    let dir = common::tempdir();
    common::send::input(dir.path(), 2, |i| format!("u{i}"));
    // The proxy refuses the tunnel (502): nothing leaves this machine, and the proxy has seen
    // exactly what a real one would: CONNECT, no credentials. (The host is under `.invalid`, so
    // that even a broken build going around the proxy reaches no one.)
    let out = send_via_proxy(
        &proxy,
        dir.path(),
        &format!("https://{HOST}"),
        &["--retries", "0"],
    );
    let (code, stderr) = common::code_and_stderr(&out);
    assert_eq!(code, 1, "{stderr}");
    let seen = proxy.seen();
    assert!(!seen.is_empty(), "the https request did not use the proxy");
    for head in &seen {
        assert!(
            head.starts_with(&format!("CONNECT {HOST}:443 HTTP/1.1\r\n")),
            "{head}"
        );
        assert!(
            !head.to_ascii_lowercase().contains("authorization"),
            "{head}"
        );
    }
    assert_no_secret("what the proxy saw", &seen.concat());

    // Plain http to anything but loopback is refused before anything is sent.
    let out = send_via_proxy(&proxy, dir.path(), &format!("http://{HOST}"), &[]);
    let (code, stderr) = common::code_and_stderr(&out);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("plain http"), "{stderr}");
    assert_eq!(
        proxy.seen().len(),
        seen.len(),
        "the plain-http run used the proxy"
    );
}

#[test]
fn a_socks_proxy_in_the_environment_is_refused_with_a_clear_error() {
    let dir = common::tempdir();
    common::send::input(dir.path(), 1, |i| format!("u{i}"));
    let out = common::send::command(&format!("https://{HOST}"), dir.path(), KEY)
        .env("ALL_PROXY", "socks5://127.0.0.1:9")
        .arg("in.ndjson")
        .output()
        .expect("runs");
    let (code, stderr) = common::code_and_stderr(&out);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("SOCKS proxy"), "{stderr}");
}

#[test]
fn a_ca_bundle_that_is_not_pem_certificates_is_a_usage_error_before_sending() {
    let sb = common::send::sandbox(KEY);
    let dir = common::tempdir();
    common::send::input(dir.path(), 2, |i| format!("u{i}"));
    let cases = [
        (
            "garbage.pem",
            "this is not a certificate\n",
            "holds no certificate",
        ),
        (
            "bad-base64.pem",
            "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
            "not a PEM file",
        ),
        (
            "not-x509.pem",
            "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n",
            "certificate 1 is not usable",
        ),
    ];
    for (file, text, why) in cases {
        std::fs::write(dir.path().join(file), text).expect("bundle");
        let (code, stderr) = common::send::send_input(&sb, dir.path(), KEY, &["--ca-bundle", file]);
        assert_eq!(code, 2, "{file}: {stderr}");
        assert!(
            stderr.contains(&format!("--ca-bundle {file}: {why}")),
            "{stderr}"
        );
    }
    let (code, stderr) =
        common::send::send_input(&sb, dir.path(), KEY, &["--ca-bundle", "missing.pem"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--ca-bundle missing.pem: cannot read it"),
        "{stderr}"
    );
    assert_eq!(common::requests(&sb), 0, "something was sent");
}

#[test]
fn https_is_verified_against_the_ca_bundle_when_given_and_the_system_store_otherwise() {
    let server = TlsServer::start();
    let dir = common::tempdir();
    common::send::input(dir.path(), 3, |i| format!("u{i}"));
    let run = |extra: &[&str], env: &[(&str, &Path)]| {
        let mut cmd = common::send::command(&server.url(), dir.path(), KEY);
        cmd.env_remove("SSL_CERT_FILE").env_remove("SSL_CERT_DIR");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.args([
            "in.ndjson",
            "--dead-letter",
            "dead.ndjson",
            "--dead-letter-append",
        ])
        .args(["--retries", "0", "--concurrency", "1"])
        .args(extra)
        .output()
        .expect("runs")
    };
    // The test CA is in no system store: refused.
    let (code, stderr) = common::code_and_stderr(&run(&[], &[]));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(server.served(), 0);
    let dead = common::send::dead_letters(dir.path());
    assert!(
        dead.iter().all(|d| d["dead_letter"]["stage"] == "failed"),
        "{dead:?}"
    );
    // Trusted through --ca-bundle.
    let ca = ca_pem();
    let ca_text = ca.to_string_lossy().into_owned();
    let (code, stderr) = common::code_and_stderr(&run(&["--ca-bundle", &ca_text], &[]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(server.served(), 1);
    // And through the system store, which honours SSL_CERT_FILE.
    let (code, stderr) = common::code_and_stderr(&run(&[], &[("SSL_CERT_FILE", &ca)]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(server.served(), 2);
}
