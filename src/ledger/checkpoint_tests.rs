//! Unit tests of the checkpoint: start/resume rules, validation, atomic writes, dead-letter cut.

use super::checkpoint::*;
use super::settings::RunSettings;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;

struct Setup {
    dir: tempfile::TempDir,
    inputs: Vec<PathBuf>,
    checkpoint: PathBuf,
    dead_letter: PathBuf,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.ndjson");
    let b = dir.path().join("b.ndjson.gz");
    std::fs::write(&a, "{\"type\":\"track\"}\n{\"type\":\"page\"}\n").unwrap();
    std::fs::write(&b, [0x1f, 0x8b, 8, 0, 0, 0]).unwrap();
    Setup {
        checkpoint: dir.path().join("run.checkpoint"),
        dead_letter: dir.path().join("a.ndjson.rejected.ndjson"),
        inputs: vec![a, b],
        dir,
    }
}

fn settings(mode: &str) -> RunSettings {
    let mut s = RunSettings::default();
    s.set("mode", mode).set("event_id", "ulid");
    s
}

#[test]
fn a_written_checkpoint_loads_back_the_same() {
    let s = setup();
    let mut cp = open(
        &s.checkpoint,
        false,
        &s.inputs,
        settings("batch"),
        &s.dead_letter,
        "dead-letter file",
    )
    .unwrap();
    cp.inputs[0].watermark = 2;
    cp.inputs[0].finished = true;
    cp.counters = Counters {
        read: 2,
        accepted: 1,
        rejected: 0,
        skipped: 0,
        invalid: 1,
        failed: 0,
    };
    cp.write_atomic(&s.checkpoint).unwrap();
    let back = Checkpoint::load(&s.checkpoint).unwrap();
    assert_eq!(back, cp);
    assert!(back.counters.adds_up());
    assert!(back.is_settled(0, 7), "a finished input is settled whole");
    assert!(!back.is_settled(1, 0));
    assert_eq!(back.watermark(1), 0);
    assert_eq!(back.watermark(9), 0);
    // No temporary file is left behind.
    let names: Vec<_> = std::fs::read_dir(s.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.ends_with(".tmp")), "{names:?}");
}

#[test]
fn resume_without_a_checkpoint_is_refused() {
    let s = setup();
    let err = open(
        &s.checkpoint,
        true,
        &s.inputs,
        settings("batch"),
        &s.dead_letter,
        "dead-letter file",
    )
    .unwrap_err();
    assert!(matches!(err, CheckpointError::Missing { .. }));
    assert!(err.to_string().contains("run without --resume"), "{err}");
}

#[test]
fn an_unfinished_checkpoint_is_not_overwritten_without_resume_but_a_finished_one_is() {
    let s = setup();
    let mut cp = open(
        &s.checkpoint,
        false,
        &s.inputs,
        settings("batch"),
        &s.dead_letter,
        "dead-letter file",
    )
    .unwrap();
    cp.write_atomic(&s.checkpoint).unwrap();
    let err = open(
        &s.checkpoint,
        false,
        &s.inputs,
        settings("batch"),
        &s.dead_letter,
        "dead-letter file",
    )
    .unwrap_err();
    assert!(err.to_string().contains("pass --resume"), "{err}");
    cp.finished = true;
    cp.write_atomic(&s.checkpoint).unwrap();
    let fresh = open(
        &s.checkpoint,
        false,
        &s.inputs,
        settings("batch"),
        &s.dead_letter,
        "dead-letter file",
    )
    .unwrap();
    assert!(!fresh.finished);
    assert_eq!(fresh.watermark(0), 0);
}

#[test]
fn resuming_against_a_changed_input_names_the_file_and_the_change() {
    let s = setup();
    let mut cp = open(
        &s.checkpoint,
        false,
        &s.inputs,
        settings("batch"),
        &s.dead_letter,
        "dead-letter file",
    )
    .unwrap();
    cp.write_atomic(&s.checkpoint).unwrap();
    std::fs::write(&s.inputs[1], [0x1f, 0x8b, 8, 0, 0, 1]).unwrap();
    let err = open(
        &s.checkpoint,
        true,
        &s.inputs,
        settings("batch"),
        &s.dead_letter,
        "dead-letter file",
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, CheckpointError::InputChanged { .. }));
    assert!(text.contains("b.ndjson.gz"), "{text}");
    assert!(text.contains("first 64 KiB differs"), "{text}");
    assert!(!text.contains("size was"), "same size: {text}");
}

#[test]
fn resuming_with_other_settings_or_inputs_is_refused() {
    let s = setup();
    let mut cp = open(
        &s.checkpoint,
        false,
        &s.inputs,
        settings("batch"),
        &s.dead_letter,
        "dead-letter file",
    )
    .unwrap();
    cp.write_atomic(&s.checkpoint).unwrap();
    let err = open(
        &s.checkpoint,
        true,
        &s.inputs,
        settings("sequential"),
        &s.dead_letter,
        "dead-letter file",
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("mode was \"batch\", now \"sequential\""),
        "{err}"
    );
    let swapped = vec![s.inputs[1].clone(), s.inputs[0].clone()];
    let err = open(
        &s.checkpoint,
        true,
        &swapped,
        settings("batch"),
        &s.dead_letter,
        "dead-letter file",
    )
    .unwrap_err();
    assert!(
        matches!(err, CheckpointError::InputsChanged { .. }),
        "{err}"
    );
    let fewer = vec![s.inputs[0].clone()];
    let err = open(
        &s.checkpoint,
        true,
        &fewer,
        settings("batch"),
        &s.dead_letter,
        "dead-letter file",
    )
    .unwrap_err();
    assert!(
        matches!(err, CheckpointError::InputsChanged { .. }),
        "{err}"
    );
}

#[test]
fn stdin_cannot_keep_a_checkpoint() {
    let s = setup();
    for files in [vec![], vec![PathBuf::from("-")]] {
        let err = open(
            &s.checkpoint,
            false,
            &files,
            settings("batch"),
            &s.dead_letter,
            "dead-letter file",
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("standard input cannot be resumed"),
            "{err}"
        );
    }
}

#[test]
fn resume_cuts_the_dead_letter_file_back_to_the_checkpointed_length() {
    let s = setup();
    let mut cp = open(
        &s.checkpoint,
        false,
        &s.inputs,
        settings("batch"),
        &s.dead_letter,
        "dead-letter file",
    )
    .unwrap();
    let mut dl = File::create(&s.dead_letter).unwrap();
    dl.write_all(b"{\"line\":1}\n").unwrap();
    cp.file.len = settle_file(&mut dl).unwrap();
    cp.write_atomic(&s.checkpoint).unwrap();
    // Work past the checkpoint, then a crash in the middle of a line.
    dl.write_all(b"{\"line\":2}\n{\"li").unwrap();
    drop(dl);
    let back = open(
        &s.checkpoint,
        true,
        &s.inputs,
        settings("batch"),
        &s.dead_letter,
        "dead-letter file",
    )
    .unwrap();
    assert_eq!(back.file.len, 11);
    assert_eq!(
        std::fs::read_to_string(&s.dead_letter).unwrap(),
        "{\"line\":1}\n"
    );

    // A dead-letter file shorter than recorded was tampered with: refuse.
    std::fs::write(&s.dead_letter, "").unwrap();
    let err = open(
        &s.checkpoint,
        true,
        &s.inputs,
        settings("batch"),
        &s.dead_letter,
        "dead-letter file",
    )
    .unwrap_err();
    assert!(matches!(err, CheckpointError::FileShrunk { .. }), "{err}");
}

#[test]
fn garbage_and_foreign_files_are_reported_not_trusted() {
    let s = setup();
    std::fs::write(&s.checkpoint, "{\"format\":\"something else\"").unwrap();
    let err = Checkpoint::load(&s.checkpoint).unwrap_err();
    assert!(matches!(err, CheckpointError::Corrupt { .. }), "{err}");
    // Without --resume, an unreadable file is still not overwritten.
    let err = open(
        &s.checkpoint,
        false,
        &s.inputs,
        settings("batch"),
        &s.dead_letter,
        "dead-letter file",
    )
    .unwrap_err();
    assert!(matches!(err, CheckpointError::Exists { .. }), "{err}");

    let mut cp = Checkpoint::fresh(settings("batch"), vec![], &s.dead_letter);
    cp.version = VERSION + 1;
    cp.write_atomic(&s.checkpoint).unwrap();
    let err = Checkpoint::load(&s.checkpoint).unwrap_err();
    assert!(err.to_string().contains("layout version"), "{err}");
}

#[test]
fn writing_into_a_missing_directory_fails_cleanly() {
    let s = setup();
    let mut cp = Checkpoint::fresh(settings("batch"), vec![], &s.dead_letter);
    let err = cp
        .write_atomic(&s.dir.path().join("no/such/dir/run.checkpoint"))
        .unwrap_err();
    assert!(err.to_string().contains("run.checkpoint"), "{err}");
}

#[test]
fn a_fresh_run_keeps_earlier_dead_letters_and_resume_never_cuts_into_them() {
    let s = setup();
    std::fs::write(&s.dead_letter, "{\"old\":1}\n").unwrap();
    let mut cp = open(
        &s.checkpoint,
        false,
        &s.inputs,
        settings("batch"),
        &s.dead_letter,
        "dead-letter file",
    )
    .unwrap();
    assert_eq!(cp.file.len, 10);
    cp.write_atomic(&s.checkpoint).unwrap();
    OpenOptions::new()
        .append(true)
        .open(&s.dead_letter)
        .unwrap()
        .write_all(b"{\"new\":2}\n")
        .unwrap();
    open(
        &s.checkpoint,
        true,
        &s.inputs,
        settings("batch"),
        &s.dead_letter,
        "dead-letter file",
    )
    .unwrap();
    assert_eq!(
        std::fs::read_to_string(&s.dead_letter).unwrap(),
        "{\"old\":1}\n"
    );
}
