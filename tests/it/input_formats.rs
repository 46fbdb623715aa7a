//! "Bring any export" through the binary: compression found by content (gzip, zstd, on files of any
//! name and on stdin), truncated compressed inputs reported as counted read errors, JSON arrays
//! streamed element by element, folders walked and `--files-from` lists.

use std::path::{Path, PathBuf};

use crate::common::{cio, dry_run, errors, gzip, mapped, sources, tempdir, write};
use serde_json::Value;

fn event(i: usize) -> String {
    format!(
        r#"{{"type":"track","event":"Signed Up","userId":"u{i}","timestamp":"2023-05-01T00:00:00Z"}}"#
    )
}

fn ndjson(n: usize) -> Vec<u8> {
    (0..n)
        .flat_map(|i| format!("{}\n", event(i)).into_bytes())
        .collect()
}

fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).unwrap()
}

fn p(path: &Path) -> &str {
    path.to_str().expect("UTF-8 temp path")
}

// 1. Compression by content.

#[test]
fn gzip_and_zstd_are_found_by_content_whatever_the_name() {
    let dir = tempdir();
    let data = ndjson(3);
    let mut two_members = gzip(&data[..data.len() / 2]);
    two_members.extend(gzip(&data[data.len() / 2..]));
    let mut two_frames = zstd(&data[..10]);
    two_frames.extend(zstd(&data[10..]));
    for (name, bytes, format) in [
        ("part-00000", gzip(&data), Some("ndjson")),
        ("part-00001", zstd(&data), Some("ndjson")),
        ("part-00002", two_members.clone(), Some("ndjson")),
        ("events.ndjson.zst", zstd(&data), None),
        ("events.jsonl.zstd", two_frames.clone(), None),
        ("events.json.zst", zstd(&data), None),
        // The name says gzip, the bytes say zstd (and the other way round): the bytes win.
        ("events.ndjson.gz", two_frames, None),
        ("other.ndjson.zst", two_members, None),
        // A name that says gzip on plain text reads the text.
        ("plain.ndjson.gz", data.clone(), None),
    ] {
        let path = dir.path().join(name);
        write(&path, &bytes);
        let mut args = vec![p(&path)];
        if let Some(format) = format {
            args.extend(["--input-format", format]);
        }
        let run = dry_run(&args, None);
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        assert_eq!(mapped(&run), 3, "{name}: {:?}", run.lines);
        assert!(sources(&run)[2].ends_with(&format!("{name}:3")), "{name}");
    }
}

#[test]
fn compressed_standard_input_is_decompressed() {
    let data = ndjson(2);
    for bytes in [gzip(&data), zstd(&data)] {
        let run = dry_run(&["-"], Some(bytes));
        assert_eq!((run.code, mapped(&run)), (0, 2), "{}", run.stderr);
        assert_eq!(sources(&run), ["-:1", "-:2"]);
    }
    let array = format!("[{},{}]", event(1), event(2));
    let run = dry_run(&["--input-format", "json"], Some(zstd(array.as_bytes())));
    assert_eq!((run.code, mapped(&run)), (0, 2), "{}", run.stderr);
}

#[test]
fn a_compressed_csv_is_decompressed_before_its_header_is_read() {
    let dir = tempdir();
    let path = dir.path().join("export");
    let csv = "type,event,userId,timestamp\ntrack,Signed Up,u1,2023-05-01T00:00:00Z\n";
    write(&path, &zstd(csv.as_bytes()));
    let run = dry_run(&[p(&path), "--input-format", "csv"], None);
    assert_eq!((run.code, mapped(&run)), (0, 1), "{}", run.stderr);
    assert!(sources(&run)[0].ends_with("export:2"));
}

// 2. Truncated or corrupt compressed inputs.

fn truncated(bytes: Vec<u8>) -> Vec<u8> {
    bytes[..bytes.len() / 2].to_vec()
}

#[test]
fn a_truncated_zstd_file_is_a_counted_read_error_in_validate() {
    let dir = tempdir();
    let path = dir.path().join("cut.ndjson.zst");
    write(&path, &truncated(zstd(&ndjson(5000))));
    let summary = dir.path().join("summary.json");
    let out = cio()
        .args([
            "validate",
            p(&path),
            "--progress",
            "never",
            "--summary-json",
            p(&summary),
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The same exit as any invalid record: 1.
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let problem = stdout.lines().last().unwrap_or_default();
    assert!(problem.contains("cut.ndjson.zst:"), "{problem}");
    assert!(
        problem.contains("read error: zstd data ends early (truncated?)"),
        "{problem}"
    );
    assert!(problem.contains("at uncompressed byte "), "{problem}");
    assert!(problem.contains("compressed bytes read"), "{problem}");
    assert!(stderr.contains("1 read error (at "), "{stderr}");
    assert!(stderr.contains("cut.ndjson.zst:"), "{stderr}");
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    assert_eq!(json["read_errors"], 1);
    assert_eq!(json["invalid"], 1);
    // The records before the cut were read.
    let read = json["records"].as_u64().unwrap();
    assert!(read > 100 && read < 5000, "{read}");
    assert_eq!(json["mapped"].as_u64().unwrap(), read - 1);
}

#[test]
fn a_corrupt_gzip_is_a_read_error_in_dry_run() {
    let dir = tempdir();
    let path = dir.path().join("bad.ndjson.gz");
    let mut bytes = gzip(&ndjson(3));
    let n = bytes.len();
    bytes[n - 6] ^= 0xff; // the CRC
    write(&path, &bytes);
    let run = dry_run(&[p(&path)], None);
    assert_eq!(run.code, 1);
    let errors = errors(&run);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("read error: gzip data "),
        "{errors:?}"
    );
    assert!(run.stderr.contains("1 read error (at "), "{}", run.stderr);
}

#[test]
fn a_truncated_gzip_in_send_is_said_on_stderr_and_counted_not_only_dead_lettered() {
    let dir = tempdir();
    let path = dir.path().join("cut.ndjson.gz");
    write(&path, &truncated(gzip(&ndjson(5000))));
    let malformed = dir.path().join("malformed.ndjson");
    write(&malformed, format!("{}\n{{oops\n", event(1)).as_bytes());
    let send = |input: &Path| {
        cio()
            .current_dir(dir.path())
            .args(["send", "--sandbox", "--progress", "never", p(input)])
            .output()
            .unwrap()
    };
    let out = send(&path);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.contains("read error"))
        .unwrap_or_else(|| panic!("no read error on stderr: {stderr}"));
    assert!(line.contains("cut.ndjson.gz:"), "{line}");
    assert!(line.contains("gzip data ends early"), "{line}");
    assert!(stderr.contains("1 read error (at "), "{stderr}");
    assert!(stderr.contains(", 1 invalid"), "{stderr}");
    // Exit codes as for any invalid record.
    assert_eq!(
        out.status.code(),
        send(&malformed).status.code(),
        "{stderr}"
    );
    let dead = std::fs::read_to_string(dir.path().join("cut.ndjson.gz.rejected.ndjson")).unwrap();
    assert!(dead.contains("read error"), "{dead}");
}

// 3. JSON arrays.

#[test]
fn a_pretty_printed_json_array_streams_its_elements_at_their_lines() {
    let dir = tempdir();
    let path = dir.path().join("export.json");
    let pretty = format!(
        "[\n  {},\n  {{\n    \"type\": \"identify\",\n    \"userId\": \"u2\",\n    \"traits\": {{\"note\": \"a ] }} \\\" [\"}}\n  }}\n]\n",
        event(1)
    );
    write(&path, pretty.as_bytes());
    let run = dry_run(&[p(&path)], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(mapped(&run), 2);
    let sources = sources(&run);
    assert!(sources[0].ends_with("export.json:2"), "{sources:?}");
    assert!(sources[1].ends_with("export.json:3"), "{sources:?}");
    // Gzipped, compact, and named anything with --input-format json: the same records.
    let compact = serde_json::to_vec(&serde_json::from_str::<Value>(&pretty).unwrap()).unwrap();
    let other = dir.path().join("part-00000");
    write(&other, &gzip(&compact));
    let run = dry_run(&[p(&other), "--input-format", "json"], None);
    assert_eq!((run.code, mapped(&run)), (0, 2), "{}", run.stderr);
}

#[test]
fn a_json_file_of_lines_still_reads_as_ndjson() {
    let dir = tempdir();
    let path = dir.path().join("lines.json");
    write(&path, &ndjson(3));
    let run = dry_run(&[p(&path)], None);
    assert_eq!((run.code, mapped(&run)), (0, 3), "{}", run.stderr);
    assert!(sources(&run)[2].ends_with("lines.json:3"));
}

#[test]
fn bad_array_elements_are_invalid_records_and_reading_goes_on() {
    let dir = tempdir();
    let path = dir.path().join("mixed.json");
    let text = format!(
        "[\n{},\n\"just a string\",\n{{\"type\": }},\n{{\"a\": [1}},\n{}\n]",
        event(1),
        event(2)
    );
    write(&path, text.as_bytes());
    let run = dry_run(&[p(&path)], None);
    assert_eq!(run.code, 1);
    assert_eq!(mapped(&run), 2, "{:?}", run.lines);
    let errors = errors(&run);
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(
        errors[0].contains("array element is not an object"),
        "{errors:?}"
    );
    assert!(errors[1].contains("malformed JSON"), "{errors:?}");
    assert!(errors[2].contains("malformed array element"), "{errors:?}");
    let sources = sources(&run);
    assert!(sources[5 - 1].ends_with("mixed.json:6"), "{sources:?}");
}

#[test]
fn an_array_that_cannot_be_split_further_is_a_read_error_at_its_line() {
    let dir = tempdir();
    let path = dir.path().join("cut.json");
    write(
        &path,
        format!("[\n{},\n{{\"type\": \"track\",\n", event(1)).as_bytes(),
    );
    let run = dry_run(&[p(&path)], None);
    assert_eq!(run.code, 1);
    let last = run.lines.last().unwrap();
    assert!(
        last["source"].as_str().unwrap().ends_with("cut.json:4"),
        "{last}"
    );
    let error = last["error"].as_str().unwrap();
    assert!(
        error.starts_with(
            "read error: JSON array: the input ends inside the element that starts at line 3"
        ),
        "{error}"
    );
    assert!(run.stderr.contains("1 read error (at "), "{}", run.stderr);
}

#[test]
fn an_array_element_over_the_record_limit_is_one_invalid_record() {
    let dir = tempdir();
    let path = dir.path().join("big.json");
    let big = format!(
        r#"{{"type":"track","event":"E","userId":"u","properties":{{"blob":"{}"}}}}"#,
        "x".repeat(1024 * 1024 + 10)
    );
    write(&path, format!("[{big},\n{}]", event(2)).as_bytes());
    let run = dry_run(&[p(&path)], None);
    assert_eq!(run.code, 1);
    let errors = errors(&run);
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].contains("above the 1048576-byte limit"),
        "{errors:?}"
    );
    assert_eq!(mapped(&run), 1);
    assert!(sources(&run)[1].ends_with("big.json:2"));
}

#[test]
fn the_dead_letter_of_a_pretty_element_is_one_line_that_reads_back() {
    let dir = tempdir();
    let path = dir.path().join("pretty.json");
    // No userId: invalid after routing, so its event is dead-lettered.
    write(
        &path,
        b"[\n  {\n    \"type\": \"track\",\n    \"event\": \"E\"\n  }\n]\n",
    );
    let out = cio()
        .current_dir(dir.path())
        .args(["send", "--sandbox", "--progress", "never", p(&path)])
        .output()
        .unwrap();
    let dead = std::fs::read_to_string(dir.path().join("pretty.json.rejected.ndjson")).unwrap();
    assert_eq!(
        dead.lines().count(),
        1,
        "{dead} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line: Value = serde_json::from_str(dead.trim_end()).unwrap();
    assert_eq!(
        line["event"],
        serde_json::json!({"type": "track", "event": "E"})
    );
    assert_eq!(
        line["dead_letter"]["source"],
        format!("{}:2", path.display())
    );
}

// 4. Folders and lists of files.

fn export_folder(root: &Path) {
    write(&root.join("b.ndjson"), event(2).as_bytes());
    write(&root.join("a/z.ndjson.gz"), &gzip(event(1).as_bytes()));
    write(&root.join("a.json"), format!("[{}]", event(0)).as_bytes());
    write(
        &root.join("c/d/e.csv.zst"),
        &zstd(b"type,event,userId\ntrack,E,u3\n"),
    );
    write(&root.join(".hidden.ndjson"), b"{oops\n");
    write(&root.join(".git/x.ndjson"), b"{oops\n");
    write(&root.join("notes.txt"), b"not events");
    write(&root.join("_SUCCESS"), b"");
}

#[test]
fn a_folder_is_read_recursively_in_path_order() {
    let dir = tempdir();
    let root = dir.path().join("export");
    export_folder(&root);
    let run = dry_run(&[p(&root)], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let shown = |rel: &str| format!("{}:{}", root.join(rel).display(), 1);
    assert_eq!(
        sources(&run),
        [
            shown("a.json"),
            shown("a/z.ndjson.gz"),
            shown("b.ndjson"),
            format!("{}:2", root.join("c/d/e.csv.zst").display()),
        ]
    );
}

#[cfg(unix)]
#[test]
fn a_symlink_loop_in_a_folder_is_walked_once() {
    let dir = tempdir();
    let root = dir.path().join("export");
    write(&root.join("sub/a.ndjson"), event(1).as_bytes());
    std::os::unix::fs::symlink(&root, root.join("sub/back")).unwrap();
    let run = dry_run(&[p(&root)], None);
    assert_eq!((run.code, mapped(&run)), (0, 1), "{}", run.stderr);
}

#[test]
fn an_empty_folder_is_a_usage_error_naming_it() {
    let dir = tempdir();
    let root = dir.path().join("nothing-here");
    write(&root.join(".hidden.ndjson"), event(1).as_bytes());
    write(&root.join("readme.txt"), b"x");
    let run = dry_run(&[p(&root)], None);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("nothing-here holds no event files"),
        "{}",
        run.stderr
    );
    assert!(run.lines.is_empty());
}

#[test]
fn files_from_a_list_or_stdin() {
    let dir = tempdir();
    let root = dir.path().join("export");
    export_folder(&root);
    let list = dir.path().join("list.txt");
    let text = format!(
        "{}\r\n\n   \n{}\n",
        root.join("b.ndjson").display(),
        root.join("a").display()
    );
    write(&list, text.as_bytes());
    let expected = [
        format!("{}:1", root.join("b.ndjson").display()),
        format!("{}:1", root.join("a/z.ndjson.gz").display()),
    ];
    let run = dry_run(&["--files-from", p(&list)], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(sources(&run), expected);
    let run = dry_run(&["--files-from", "-"], Some(text.into_bytes()));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(sources(&run), expected);
    // Positional inputs come first.
    let first = root.join("a.json");
    let run = dry_run(&[p(&first), "--files-from", p(&list)], None);
    assert_eq!(sources(&run).len(), 3);
    assert!(sources(&run)[0].ends_with("a.json:1"));
    // A list naming nothing, and stdin for both the list and the events, are usage errors.
    let empty = dir.path().join("empty.txt");
    write(&empty, b"\n\n");
    let run = dry_run(&["--files-from", p(&empty)], None);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("names no files"), "{}", run.stderr);
    let run = dry_run(&["-", "--files-from", "-"], Some(b"x.ndjson\n".to_vec()));
    assert_eq!(run.code, 2, "{}", run.stderr);
}

#[test]
fn the_checkpoint_fingerprints_every_file_of_a_folder() {
    let dir = tempdir();
    let root = dir.path().join("export");
    export_folder(&root);
    let checkpoint = dir.path().join("run.checkpoint.json");
    let out = cio()
        .current_dir(dir.path())
        .args(["send", "--sandbox", "--progress", "never"])
        .args(["--checkpoint", p(&checkpoint), p(&root)])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cp: Value = serde_json::from_str(&std::fs::read_to_string(&checkpoint).unwrap()).unwrap();
    let paths: Vec<PathBuf> = cp["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| PathBuf::from(i["fingerprint"]["path"].as_str().unwrap()))
        .collect();
    assert_eq!(
        paths,
        ["a.json", "a/z.ndjson.gz", "b.ndjson", "c/d/e.csv.zst"].map(|r| root.join(r))
    );
    // A file added to the folder changes the inputs: resuming is refused.
    write(&root.join("c/new.ndjson"), event(9).as_bytes());
    let out = cio()
        .current_dir(dir.path())
        .args(["send", "--sandbox", "--progress", "never", "--resume"])
        .args(["--checkpoint", p(&checkpoint), p(&root)])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("covers other inputs"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
