//! The README's set-up and tour: every input they name is a file of this repository (before: the
//! tour named `events.ndjson.gz`, `export/*.csv`... that a reader does not have), and the
//! commands that need no account run as written.

use crate::common;

use std::path::Path;

/// Files the tour's own commands write (and a later command reads).
const WRITTEN: [&str; 5] = [
    "summary.json",
    "report.json",
    "plan.ndjson",
    "rejected.ndjson",
    "run.ckpt",
];

/// The indented command lines of the README's sections `titles`.
fn commands(titles: &[&str]) -> Vec<String> {
    let readme = std::fs::read_to_string(common::crate_path("README.md")).expect("README");
    let mut out = Vec::new();
    let mut inside = false;
    for line in readme.lines() {
        if let Some(title) = line.strip_prefix("## ") {
            inside = titles.contains(&title);
            continue;
        }
        if inside
            && let Some(cmd) = line.strip_prefix("    ")
            && !cmd.trim_start().starts_with('#')
            && !cmd.trim().is_empty()
        {
            out.push(cmd.trim().to_string());
        }
    }
    out
}

fn is_file_name(word: &str) -> bool {
    let word = word.trim_matches(|c| c == '\'' || c == '"');
    !word.contains("://")
        && !word.starts_with('-')
        && (word.contains('/')
            || [".ndjson", ".csv", ".json", ".gz", ".zst", ".txt", ".ckpt"]
                .iter()
                .any(|ext| word.ends_with(ext)))
}

#[test]
fn every_file_the_tour_names_is_in_the_repository_or_written_by_it() {
    let lines = commands(&["Set up on a fresh machine", "A tour"]);
    assert!(lines.len() >= 10, "{lines:?}");
    assert!(
        lines.iter().any(|l| l == "cargo install --path ."),
        "{lines:?}"
    );
    let mut named = 0;
    for line in &lines {
        for word in line.split_whitespace().filter(|w| is_file_name(w)) {
            let word = word.trim_matches(|c| c == '\'' || c == '"');
            // `jq .people`, `'*.gz'`: not paths.
            if word.starts_with('*') || word.starts_with('.') {
                continue;
            }
            if WRITTEN.contains(&word) {
                continue;
            }
            named += 1;
            assert!(
                word.starts_with("fixtures/") || word.starts_with("tests/data/"),
                "{word} (in `{line}`) is not a fixture"
            );
            assert!(
                common::crate_path(word).exists(),
                "{word} (in `{line}`) does not exist"
            );
        }
    }
    assert!(named >= 8, "{lines:?}");
}

/// The tour's commands that need no account, no port and no shell run as written, from a folder
/// that holds the repository's fixtures (so that what they write lands there).
#[cfg(unix)]
#[test]
fn the_tours_offline_commands_run_as_written() {
    let dir = common::tempdir();
    for top in ["fixtures", "tests"] {
        std::os::unix::fs::symlink(common::crate_path(top), dir.path().join(top)).expect("link");
    }
    let offline = |l: &&String| {
        l.starts_with("cio-replay ")
            && !["|", ">", "&", "--region", "--endpoint", "--port"]
                .iter()
                .any(|s| l.contains(s))
    };
    let lines = commands(&["A tour"]);
    let runnable: Vec<&String> = lines.iter().filter(offline).collect();
    assert!(runnable.len() >= 4, "{runnable:?}");
    for line in runnable {
        let args: Vec<&str> = line.split_whitespace().skip(1).collect();
        let out = common::cio()
            .current_dir(dir.path())
            .args(&args)
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "`{line}`: {:?}\n{stderr}",
            out.status
        );
        assert!(!stderr.contains("cio-replay: error:"), "`{line}`: {stderr}");
    }
    assert!(Path::new(&dir.path().join("summary.json")).exists());
    assert!(Path::new(&dir.path().join("rejected.ndjson")).exists());
}
