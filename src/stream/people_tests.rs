//! Tests of lists read and resolved: formats, gzip, BOM and CRLF, comments, ragged CSV rows, bad
//! bytes, duplicates.

use std::io::Write;
use std::path::PathBuf;

use super::people::{Noted, scan};
use crate::map::gdpr::IdKind;
use crate::map::gdpr::resolve::{Resolved, resolve_entry};
use crate::source::list::{ListFormat, format_of, open as sources};

fn write(dir: &std::path::Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("written");
    path
}

/// `line: outcome` for every entry of the lists.
fn read(files: &[PathBuf], format: Option<ListFormat>, column: Option<&str>) -> Vec<String> {
    let sources = sources(files, format).expect("sources");
    let mut out = Vec::new();
    for (input, source) in sources.iter().enumerate() {
        for entry in source.entries(input, column).expect("entries") {
            let entry = entry.expect("entry");
            let what = match resolve_entry(&entry.said) {
                Resolved::Blank => "blank".to_string(),
                Resolved::Person(p, _) => format!("{}={}", p.kind, p.identifier),
                Resolved::Malformed(why) => format!("bad: {why}"),
            };
            out.push(format!("{}: {what}", entry.location.line));
        }
    }
    out
}

#[test]
fn extensions_choose_the_format() {
    assert_eq!(format_of("a.csv".as_ref()), (ListFormat::Csv, false));
    assert_eq!(format_of("a.CSV.gz".as_ref()), (ListFormat::Csv, true));
    assert_eq!(format_of("a.jsonl".as_ref()), (ListFormat::Ndjson, false));
    assert_eq!(
        format_of("a.ndjson.gz".as_ref()),
        (ListFormat::Ndjson, true)
    );
    assert_eq!(format_of("a.txt".as_ref()), (ListFormat::Text, false));
    assert_eq!(format_of("people".as_ref()), (ListFormat::Text, false));
}

#[test]
fn text_with_bom_crlf_comments_and_bad_bytes() {
    let dir = tempfile::tempdir().expect("dir");
    let path = write(
        dir.path(),
        "l.txt",
        b"\xEF\xBB\xBFu1\r\n  # a comment\r\n\r\nbad\xFFbyte\nlast-no-newline",
    );
    assert_eq!(
        read(&[path], None, None),
        [
            "1: id=u1",
            "2: blank",
            "3: blank",
            "4: bad: not valid UTF-8 at byte 3: re-encode the list as UTF-8",
            "5: id=last-no-newline"
        ]
    );
}

#[test]
fn gzip_lists_are_read() {
    let dir = tempfile::tempdir().expect("dir");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"a@example.org\ncio_f00\n").expect("gz");
    let path = write(dir.path(), "l.txt.gz", &gz.finish().expect("gz"));
    assert_eq!(
        read(&[path], None, None),
        ["1: email=a@example.org", "2: cio_id=f00"]
    );
}

#[test]
fn compressed_lists_are_told_by_content() {
    let dir = tempfile::tempdir().expect("dir");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"u1\nu2\n").expect("gz");
    let gzip = write(dir.path(), "people", &gz.finish().expect("gz"));
    let zst = zstd::encode_all(&b"a@example.org\n"[..], 3).expect("zstd");
    let zst = write(dir.path(), "l.txt.zst", &zst);
    assert_eq!(format_of(&zst), (ListFormat::Text, true));
    assert_eq!(read(&[gzip], None, None), ["1: id=u1", "2: id=u2"]);
    assert_eq!(read(&[zst], None, None), ["1: email=a@example.org"]);
}

#[test]
fn csv_columns_multiline_cells_and_ragged_rows() {
    let dir = tempfile::tempdir().expect("dir");
    let path = write(
        dir.path(),
        "l.csv",
        b"note,cio_id,email\n\"two\nlines\",cio_abc,\nx,def\ny,,z@example.org\n",
    );
    // The default column is the first of userId, id, email, cio_id present: email.
    assert_eq!(
        read(std::slice::from_ref(&path), None, None),
        [
            "2: blank",
            "4: bad: CSV row has 2 fields but the header has 3: fix the row (quote cells that hold commas)",
            "5: email=z@example.org"
        ]
    );
    assert_eq!(read(&[path], None, Some("CIO_ID"))[0], "2: cio_id=abc");
}

#[test]
fn ndjson_objects_and_bad_lines() {
    let dir = tempfile::tempdir().expect("dir");
    let path = write(
        dir.path(),
        "l.ndjson",
        b"{\"id\":7}\n\n[1]\n{oops\n{\"email\":\"x@y.io\"}\n",
    );
    let got = read(&[path], None, None);
    assert_eq!(got[0], "1: id=7");
    assert_eq!(got[1], "2: blank");
    assert!(
        got[2].starts_with("3: bad: a record must be a JSON object"),
        "{got:?}"
    );
    assert!(got[3].starts_with("4: bad: malformed JSON"), "{got:?}");
    assert_eq!(got[4], "5: email=x@y.io");
}

#[test]
fn a_line_over_the_limit_is_one_bad_entry() {
    let dir = tempfile::tempdir().expect("dir");
    let mut bytes = vec![b'x'; crate::source::list::MAX_LINE_BYTES + 10];
    bytes.extend_from_slice(b"\nu2\n");
    let path = write(dir.path(), "l.txt", &bytes);
    let got = read(&[path], None, None);
    assert!(got[0].starts_with("1: bad: line is"), "{got:?}");
    assert_eq!(got[1], "2: id=u2");
}

#[test]
fn duplicates_across_lists_point_at_the_first() {
    let dir = tempfile::tempdir().expect("dir");
    let a = write(dir.path(), "a.txt", b"Ada@X.io\nu1\n");
    let b = write(dir.path(), "b.csv", b"userId\nu1\nada@x.IO\nu2\n");
    let sources = sources(&[a, b], None).expect("sources");
    let mut dups = Vec::new();
    let result = scan(&sources, None, |noted| {
        if let Noted::Duplicate {
            location, first, ..
        } = noted
        {
            dups.push(format!("{location} -> {first}"));
        }
        Ok(())
    })
    .expect("scan");
    assert_eq!(result.people, 3);
    assert_eq!(result.by_kind, [2, 1, 0]);
    assert!(
        dups[0].ends_with("b.csv:2 -> ") || dups[0].contains("b.csv:2 -> "),
        "{dups:?}"
    );
    assert!(
        dups[0].ends_with("a.txt:2") && dups[1].ends_with("a.txt:1"),
        "{dups:?}"
    );
    assert_eq!(IdKind::Email.name(), "email");
}

#[test]
fn a_csv_row_with_a_huge_cell_in_an_ignored_column_is_one_bad_entry_at_its_line() {
    let dir = tempfile::tempdir().expect("dir");
    let huge = "n".repeat(5 * 1024 * 1024);
    let text = format!("email,note\na@x.io,hi\nb@x.io,\"{huge}\nstill the note\"\nc@x.io,ok\n");
    let path = write(dir.path(), "l.csv", text.as_bytes());
    let got = read(&[path], None, None);
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[0], "2: email=a@x.io");
    assert!(
        got[1].starts_with("3: bad: CSV row is above the 1048576-byte limit"),
        "{got:?}"
    );
    assert_eq!(got[2], "5: email=c@x.io");
}
