//! The module graph reads as the pipeline (issue 13): `cargo test --test it layout` checks, from
//! the source text, that every `crate::` arrow points down the layer order below, that sibling
//! modules inside a directory form no cycle, and that no module outside `cli/` and `main.rs` sees
//! clap or the `cli` types.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The top-level modules, lowest first: a module may use only modules before it.
const LAYERS: &[&str] = &[
    "exit",
    "secret",
    "track",
    "sandbox",
    "source",
    "transform",
    "map",
    "stream",
    "deliver",
    "ledger",
    "report",
    "verify",
    "gdpr",
    "interrupt",
    "job",
    "cmd",
    "cli",
];

fn src() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read src")
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The source without comments (doc links name modules without depending on them).
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("read source");
    text.lines()
        .map(|l| match l.find("//") {
            Some(at) => &l[..at],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Names following `prefix` in `text` (identifier characters).
fn names_after<'a>(text: &'a str, prefix: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    text.match_indices(prefix).filter_map(move |(at, _)| {
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            return None;
        }
        let rest = &text[at + prefix.len()..];
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        (end > 0).then(|| &rest[..end])
    })
}

/// `src/a/b.rs` → ["a", "b"]; `src/a.rs` → ["a"]; `mod.rs` stands for its directory.
fn module_path(path: &Path) -> Vec<String> {
    let rel = path.strip_prefix(src()).expect("under src");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

#[test]
fn every_arrow_points_down_the_pipeline() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let rank: BTreeMap<&str, usize> = LAYERS.iter().enumerate().map(|(i, m)| (*m, i)).collect();
    let mut problems = Vec::new();
    for file in &files {
        let module = module_path(file);
        let Some(top) = module.first().map(String::as_str) else {
            continue;
        };
        if top == "lib" || top == "main" {
            continue;
        }
        let Some(&from) = rank.get(top) else {
            problems.push(format!(
                "src/{top}: not in LAYERS: place it in tests/layout.rs"
            ));
            continue;
        };
        let text = code(file);
        let used: BTreeSet<&str> = names_after(&text, "crate::").collect();
        for to in used {
            if to == top {
                continue;
            }
            match rank.get(to) {
                Some(&r) if r < from => {}
                Some(_) => problems.push(format!(
                    "{}: {top} uses crate::{to}, a later layer",
                    file.display()
                )),
                None => problems.push(format!("{}: crate::{to} is not a layer", file.display())),
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn sibling_modules_form_no_cycle() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    // directory → (submodule → siblings it uses); a file deeper down counts for each directory
    // above it, as a use by the submodule it lies in.
    let mut graphs: BTreeMap<Vec<String>, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_path(f)).collect();
    for file in &files {
        let module = module_path(file);
        let text = code(file);
        for depth in 1..module.len() {
            let (parent, name) = (&module[..depth], &module[depth]);
            let mut uses = BTreeSet::new();
            let crate_prefix = format!("crate::{}::", parent.join("::"));
            let supers = if depth + 1 == module.len() {
                names_after(&text, "super::").collect::<Vec<_>>()
            } else {
                Vec::new()
            };
            for sibling in supers.into_iter().chain(names_after(&text, &crate_prefix)) {
                let mut path = parent.to_vec();
                path.push(sibling.to_string());
                if sibling != name && modules.contains(&path) {
                    uses.insert(sibling.to_string());
                }
            }
            graphs
                .entry(parent.to_vec())
                .or_default()
                .entry(name.clone())
                .or_default()
                .extend(uses);
        }
    }
    let mut cycles = Vec::new();
    for (dir, graph) in &graphs {
        for start in graph.keys() {
            // Is `start` reachable from one of its own uses?
            let mut stack: Vec<&String> = graph[start].iter().collect();
            let mut seen = BTreeSet::new();
            while let Some(m) = stack.pop() {
                if m == start {
                    cycles.push(format!("{}: {start} is on a cycle", dir.join("::")));
                    break;
                }
                if seen.insert(m)
                    && let Some(next) = graph.get(m)
                {
                    stack.extend(next.iter());
                }
            }
        }
    }
    assert!(cycles.is_empty(), "{}", cycles.join("\n"));
}

#[test]
fn only_cli_sees_clap() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut problems = Vec::new();
    for file in &files {
        let module = module_path(file);
        let top = module.first().map(String::as_str).unwrap_or("");
        if matches!(top, "cli" | "main") {
            continue;
        }
        let text = code(file);
        if text.contains("crate::cli") || text.contains("clap::") || text.contains("use clap") {
            problems.push(file.display().to_string());
        }
    }
    assert!(problems.is_empty(), "clap types outside cli/: {problems:?}");
}
