//! The list of input files: folders given on the command line are walked (recursively, in byte-wise
//! path order, known extensions only, hidden entries and dead-letter files skipped, symlink loops
//! guarded) and a `--files-from` list (one path a line, `-` for stdin) is read, so that every later
//! step (reading, the checkpoint's fingerprints) sees one flat list of files.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::open::format_by_name;
use crate::exit::usage;

/// The end of the dead-letter files `send` writes beside its first input: never read from a folder.
const DEAD_LETTER_SUFFIX: &str = ".rejected.ndjson";

/// The files to read: `files` in order, each folder replaced by the event files under it, then the
/// paths listed in `files_from` (read the same way). `-` (stdin) stays as it is; an empty result
/// stays empty (stdin). A folder without event files, an unreadable list, a list naming nothing or
/// stdin used for both the list and the events is a usage error (exit 2).
pub(crate) fn expand(files: &[PathBuf], files_from: Option<&Path>) -> Result<Vec<PathBuf>> {
    let mut given: Vec<PathBuf> = files.to_vec();
    if let Some(list) = files_from {
        let listed = read_list(list)?;
        if listed.is_empty() {
            return Err(usage(format!(
                "--files-from {}: names no files; put one path on each line",
                list.display()
            )));
        }
        let stdin = Path::new("-");
        if list == stdin && (given.iter().any(|f| f == stdin) || listed.iter().any(|f| f == stdin))
        {
            return Err(usage(
                "--files-from - reads the list from standard input, so standard input (`-`) cannot be an input too",
            ));
        }
        given.extend(listed);
    }
    let mut out = Vec::with_capacity(given.len());
    for path in given {
        if path.as_os_str() != "-" && std::fs::metadata(&path).is_ok_and(|m| m.is_dir()) {
            let found = walk(&path)?;
            if found.is_empty() {
                return Err(usage(format!(
                    "{} holds no event files (.ndjson, .jsonl, .json or .csv, each optionally .gz, .zst, or .parquet); give a folder with event files, or the files",
                    path.display()
                )));
            }
            out.extend(found);
        } else {
            out.push(path);
        }
    }
    Ok(out)
}

/// The paths of a `--files-from` list: one a line, blank lines ignored, a CRLF line end tolerated.
fn read_list(list: &Path) -> Result<Vec<PathBuf>> {
    let shown = list.display();
    let reader: Box<dyn BufRead> = if list.as_os_str() == "-" {
        Box::new(BufReader::new(std::io::stdin()))
    } else {
        let file = std::fs::File::open(list)
            .map_err(|e| usage(format!("--files-from {shown}: cannot read it: {e}")))?;
        Box::new(BufReader::new(file))
    };
    let mut paths = Vec::new();
    for (n, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| usage(format!("--files-from {shown}: line {}: {e}", n + 1)))?;
        let line = line.strip_suffix('\r').unwrap_or(&line);
        if line.trim().is_empty() {
            continue;
        }
        paths.push(PathBuf::from(line));
    }
    Ok(paths)
}

/// Every event file under `root`, sorted by the bytes of its path.
fn walk(root: &Path) -> Result<Vec<PathBuf>> {
    let mut visited = HashSet::new();
    let mut pending = vec![root.to_path_buf()];
    let mut found = Vec::new();
    while let Some(dir) = pending.pop() {
        let unreadable = |e: std::io::Error| usage(format!("cannot read {}: {e}", dir.display()));
        // A folder reached again (through a symlink) is walked once.
        if !visited.insert(std::fs::canonicalize(&dir).map_err(unreadable)?) {
            continue;
        }
        for entry in std::fs::read_dir(&dir).map_err(unreadable)? {
            let entry = entry.map_err(unreadable)?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') {
                continue;
            }
            let path = entry.path();
            let meta = std::fs::metadata(&path)
                .map_err(|e| usage(format!("cannot read {}: {e}", path.display())))?;
            if meta.is_dir() {
                pending.push(path);
            } else if meta.is_file() && is_event_file(&name) {
                found.push(path);
            }
        }
    }
    found.sort_by(|a, b| {
        a.as_os_str()
            .as_encoded_bytes()
            .cmp(b.as_os_str().as_encoded_bytes())
    });
    Ok(found)
}

/// Whether a file in a folder is read: a known extension, and not a dead-letter file.
fn is_event_file(name: &str) -> bool {
    format_by_name(name).is_some() && !name.to_lowercase().ends_with(DEAD_LETTER_SUFFIX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::Exit;

    fn touch(path: &Path) {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(path, "{}\n").unwrap();
    }

    fn names(root: &Path, paths: &[PathBuf]) -> Vec<String> {
        paths
            .iter()
            .map(|p| p.strip_prefix(root).unwrap().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn folders_are_walked_sorted_with_known_extensions_only() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for name in [
            "b.ndjson",
            "a/z.csv",
            "a.ndjson.gz",
            "A.JSONL.ZST",
            "c.json",
            "d.txt",
            "part-00000",
            ".hidden.ndjson",
            ".git/x.ndjson",
            "e.ndjson.rejected.ndjson",
            "sub/deeper/e.csv.zstd",
        ] {
            touch(&root.join(name));
        }
        let found = expand(&[root.to_path_buf()], None).unwrap();
        assert_eq!(
            names(root, &found),
            [
                "A.JSONL.ZST",
                "a.ndjson.gz",
                "a/z.csv",
                "b.ndjson",
                "c.json",
                "sub/deeper/e.csv.zstd"
            ]
        );
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loops_are_walked_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        touch(&root.join("sub/a.ndjson"));
        std::os::unix::fs::symlink(root, root.join("sub/loop")).unwrap();
        let found = expand(&[root.to_path_buf()], None).unwrap();
        assert_eq!(names(root, &found), ["sub/a.ndjson"]);
    }

    #[test]
    fn empty_folders_and_empty_lists_are_usage_errors() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        touch(&empty.join("notes.txt"));
        let err = expand(std::slice::from_ref(&empty), None).unwrap_err();
        assert!(
            err.to_string().contains("empty holds no event files"),
            "{err}"
        );
        assert_eq!(crate::exit::exit_for_error(&err), Exit::Usage);

        let list = dir.path().join("list.txt");
        std::fs::write(&list, "\n  \n").unwrap();
        let err = expand(&[], Some(&list)).unwrap_err();
        assert!(err.to_string().contains("names no files"), "{err}");
    }

    #[test]
    fn lists_add_their_paths_after_the_arguments() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        touch(&root.join("folder/b.ndjson"));
        let list = root.join("list.txt");
        let folder = root.join("folder");
        std::fs::write(&list, format!("x.ndjson\r\n\n{}\n", folder.display())).unwrap();
        let found = expand(&[PathBuf::from("first.csv")], Some(&list)).unwrap();
        assert_eq!(
            found,
            [
                PathBuf::from("first.csv"),
                PathBuf::from("x.ndjson"),
                folder.join("b.ndjson")
            ]
        );
    }
}
