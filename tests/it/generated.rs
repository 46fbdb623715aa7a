//! The committed completions and man pages in `completions/` are what the current binary prints.

use crate::common;

use std::path::Path;
use std::process::Command;

use crate::common::{cio, crate_path};

const FIX: &str = "run scripts/gen-completions.sh and commit completions/";

/// What `cio-replay ARGS` prints on standard output.
fn printed(args: &[&str]) -> Vec<u8> {
    let output = cio().args(args).output().expect("run cio-replay");
    assert!(
        output.status.success(),
        "cio-replay {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

fn assert_current(file: &str, args: &[&str]) {
    let path = crate_path("completions").join(file);
    let committed = std::fs::read(&path)
        .unwrap_or_else(|err| panic!("completions/{file} is missing ({err}): {FIX}"));
    assert!(
        committed == printed(args),
        "completions/{file} differs from `cio-replay {}`: {FIX}",
        args.join(" ")
    );
}

#[test]
fn shell_completions_are_current() {
    for (file, shell) in [
        ("cio-replay.bash", "bash"),
        ("_cio-replay", "zsh"),
        ("cio-replay.fish", "fish"),
        ("_cio-replay.ps1", "powershell"),
        ("cio-replay.elv", "elvish"),
    ] {
        assert_current(file, &["completions", shell]);
    }
}

#[test]
fn man_pages_are_current() {
    assert_current("cio-replay.1", &["man"]);
    for topic in cio_replay::cli::man::topics() {
        assert_current(&format!("cio-replay-{topic}.1"), &["man", &topic]);
    }
}

#[test]
fn no_page_for_a_command_that_no_longer_exists() {
    let topics = cio_replay::cli::man::topics();
    for entry in std::fs::read_dir(crate_path("completions")).expect("completions/") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if let Some(topic) = name
            .strip_prefix("cio-replay-")
            .and_then(|rest| rest.strip_suffix(".1"))
        {
            assert!(
                topics.iter().any(|t| t == topic),
                "completions/{name} has no command: {FIX}"
            );
        }
    }
}

fn bash_accepts(path: &Path) {
    let status = Command::new("bash")
        .arg("-n")
        .arg(path)
        .status()
        .expect("bash is installed");
    assert!(status.success(), "bash -n rejects {}", path.display());
}

#[test]
fn bash_accepts_the_bash_completion() {
    bash_accepts(&crate_path("completions/cio-replay.bash"));
    let dir = common::tempdir();
    let live = dir.path().join("cio-replay.bash");
    std::fs::write(&live, printed(&["completions", "bash"])).expect("write");
    bash_accepts(&live);
}

#[test]
fn bash_completion_offers_subcommands_and_flags() {
    // Source the script and ask its completion function what it offers after `cio-replay send --con`.
    let script = crate_path("completions/cio-replay.bash");
    // The function name is whatever the script registered with `complete -F`.
    let probe = format!(
        "source '{}'; f=$(complete -p cio-replay | sed 's/.*-F \\([^ ]*\\).*/\\1/'); \
         COMP_WORDS=(cio-replay send --con); COMP_CWORD=2; COMP_LINE='cio-replay send --con'; \
         COMP_POINT=${{#COMP_LINE}}; \"$f\" cio-replay --con send; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display()
    );
    let output = Command::new("bash")
        .args(["-c", &probe])
        .output()
        .expect("bash");
    let offered = String::from_utf8_lossy(&output.stdout);
    assert!(
        offered.lines().any(|l| l == "--concurrency"),
        "offered: {offered}"
    );
}

#[test]
fn unknown_man_topic_is_a_usage_error() {
    cio()
        .args(["man", "no-such-command"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("choose one of"));
}
