//! The import direction of the library, read from the source (docs/architecture.md).
//!
//! Each top-level module of `src/` is a room (`src/analysis/checks/cookies.rs` is in
//! `analysis`, `src/net.rs` is `net`). A `crate::room` path in non-test code is an arrow
//! from the file's room to that room; in `src/cli/`, compiled into the binary, the arrows
//! are its `consentry::room` paths. The rules:
//! - no circle of rooms (the graph is one-way, so every room has a floor);
//! - nothing in the library imports the command line (`cli`) or clap: `src/cli/` belongs
//!   to the binary (`src/main.rs`), and clap is an optional dependency the library never
//!   names;
//! - the ground floor (`model`) imports only the leaf helpers below it, and so does page
//!   discovery (`crawl`), whose settings the scenario model holds.
//!
//! Test code (`tests.rs`, `*_tests.rs`, `tests_*.rs`, and what follows a top-level
//! `#[cfg(test)]`) may reach anywhere and is not read. Comments are not read.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// What the ground floor may import: leaf helpers that import nothing of consentry.
const MODEL_MAY_IMPORT: &[&str] = &["net", "text"];
/// What page discovery may import: the scenario model holds its settings, so it stands
/// on the ground floor's level (docs/architecture.md).
const CRAWL_MAY_IMPORT: &[&str] = &["net", "text"];
/// Leaf helpers: they import nothing of consentry.
const LEAVES: &[&str] = &["net", "text", "exit", "tls"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("src/ is readable")
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

fn is_test_file(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    name == "tests.rs" || name.ends_with("_tests.rs") || name.starts_with("tests_")
}

/// Room -> room -> the places (file:line) of the arrows.
fn import_graph() -> BTreeMap<String, BTreeMap<String, Vec<String>>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for file in files.iter().filter(|f| !is_test_file(f)) {
        let rel = file.strip_prefix(&src).expect("under src");
        let mut parts = rel.components().map(|c| c.as_os_str().to_string_lossy());
        let first = parts.next().expect("a path").to_string();
        let room = first.trim_end_matches(".rs").to_string();
        if room == "lib" || room == "main" {
            continue;
        }
        let text = std::fs::read_to_string(file).expect("readable source");
        let code = match text.find("\n#[cfg(test)]") {
            Some(i) => &text[..i],
            None => &text[..],
        };
        // The command line is the binary's: it reaches the library as `consentry::`.
        let root = if room == "cli" { "consentry" } else { "crate" };
        let edges = graph.entry(room.clone()).or_default();
        // Joined so that a `use crate::{...}` over several lines is one statement.
        for (n, line) in code.lines().enumerate() {
            let line = line.trim_start();
            if line.starts_with("//") {
                continue;
            }
            for target in crate_paths(line, root) {
                if target != room && target != "self" {
                    edges
                        .entry(target)
                        .or_default()
                        .push(format!("{}:{}", rel.display(), n + 1));
                }
            }
        }
        for group in use_groups(code, root) {
            for target in group {
                if target != room && target != "self" {
                    edges
                        .entry(target)
                        .or_default()
                        .push(format!("{} (use crate::{{..}})", rel.display()));
                }
            }
        }
    }
    graph
}

/// The first segment of every `ROOT::x` path on a line (not inside braces); `root` is
/// `crate` or `consentry`.
fn crate_paths(line: &str, root: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    let prefix = format!("{root}::");
    while let Some(i) = rest.find(&prefix) {
        if rest[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            // `my_consentry::` is not a path of ours.
            rest = &rest[i + prefix.len()..];
            continue;
        }
        let after = &rest[i + prefix.len()..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.push(name);
        }
        rest = after;
    }
    out
}

/// The first segments named inside each `use ROOT::{...};`, nested groups skipped.
fn use_groups(code: &str, root: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = code;
    let opening = format!("use {root}::{{");
    while let Some(i) = rest.find(&opening) {
        let body = &rest[i + opening.len()..];
        let mut depth = 1;
        let mut top = String::new();
        let mut end = body.len();
        for (k, c) in body.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = k;
                        break;
                    }
                }
                _ if depth == 1 => top.push(c),
                _ => {}
            }
        }
        out.push(
            top.split(',')
                .filter_map(|item| {
                    let name = item.trim().split("::").next()?.trim().to_string();
                    (!name.is_empty()).then_some(name)
                })
                .collect(),
        );
        rest = &body[end..];
    }
    out
}

/// Strongly connected components with more than one room (Tarjan).
fn circles(graph: &BTreeMap<String, BTreeMap<String, Vec<String>>>) -> Vec<Vec<String>> {
    struct T<'g> {
        g: &'g BTreeMap<String, BTreeMap<String, Vec<String>>>,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on: BTreeSet<&'g str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    impl<'g> T<'g> {
        fn visit(&mut self, v: &'g str) {
            self.index.insert(v, self.next);
            self.low.insert(v, self.next);
            self.next += 1;
            self.stack.push(v);
            self.on.insert(v);
            if let Some(edges) = self.g.get(v) {
                for w in edges.keys() {
                    let w = w.as_str();
                    if !self.index.contains_key(w) {
                        self.visit(w);
                        let lw = self.low[w];
                        let lv = self.low[v];
                        self.low.insert(v, lv.min(lw));
                    } else if self.on.contains(w) {
                        let iw = self.index[w];
                        let lv = self.low[v];
                        self.low.insert(v, lv.min(iw));
                    }
                }
            }
            if self.low[v] == self.index[v] {
                let mut c = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on.remove(w);
                    c.push(w.to_string());
                    if w == v {
                        break;
                    }
                }
                if c.len() > 1 {
                    c.sort();
                    self.out.push(c);
                }
            }
        }
    }
    let mut t = T {
        g: graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !t.index.contains_key(v.as_str()) {
            t.visit(v);
        }
    }
    t.out
}

#[test]
fn the_reader_sees_the_arrows_it_should() {
    // Guard against a reader that finds nothing (a test that cannot fail).
    let g = import_graph();
    assert!(g["analysis"].contains_key("model"), "{:?}", g["analysis"]);
    assert!(g["pipeline"].contains_key("store"));
    assert!(g["cli"].contains_key("pipeline"));
    assert_eq!(
        use_groups("use crate::{a::B, c::{D, E}, f};\nuse crate::{g};", "crate"),
        vec![vec!["a", "c", "f"], vec!["g"]]
    );
    assert_eq!(
        crate_paths("x: crate::a::b(crate::c)", "crate"),
        vec!["a", "c"]
    );
    assert_eq!(
        crate_paths("consentry::a::b(my_consentry::c, crate::d)", "consentry"),
        vec!["a"]
    );
}

#[test]
fn no_circle_of_modules() {
    let g = import_graph();
    let found = circles(&g);
    let mut msg = String::new();
    for c in &found {
        msg.push_str(&format!("circle: {c:?}\n"));
        for a in c {
            for b in c {
                if let Some(places) = g.get(a).and_then(|e| e.get(b)) {
                    msg.push_str(&format!(
                        "  {a} -> {b}: {:?}\n",
                        &places[..places.len().min(3)]
                    ));
                }
            }
        }
    }
    assert!(found.is_empty(), "{msg}");
}

#[test]
fn the_library_never_imports_the_command_line() {
    let g = import_graph();
    let offenders: Vec<_> = g
        .iter()
        .filter(|(room, _)| room.as_str() != "cli")
        .filter_map(|(room, edges)| edges.get("cli").map(|p| (room, p)))
        .collect();
    assert!(offenders.is_empty(), "{offenders:?}");
}

/// `src/cli/` is a module of the binary (`src/main.rs`), not of the library (`src/lib.rs`),
/// and no library file names clap (an optional dependency of the `cli` feature).
#[test]
fn the_command_line_and_clap_belong_to_the_binary() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let read = |p: &Path| std::fs::read_to_string(p).expect("readable source");
    let declares_cli = |text: &str| {
        text.lines()
            .map(str::trim_start)
            .any(|l| l.starts_with("mod cli;") || l.starts_with("pub mod cli;"))
    };
    assert!(declares_cli(&read(&src.join("main.rs"))));
    assert!(!declares_cli(&read(&src.join("lib.rs"))));
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let library = files
        .iter()
        .filter(|f| !f.starts_with(src.join("cli")) && !f.ends_with("main.rs"));
    let mut offenders = Vec::new();
    for file in library {
        for (n, line) in read(file).lines().enumerate() {
            let line = line.trim_start();
            if !line.starts_with("//") && line.contains("clap") {
                offenders.push(format!("{}:{}", file.display(), n + 1));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "the library names clap: {offenders:?}"
    );
    assert!(
        files
            .iter()
            .any(|f| f.starts_with(src.join("cli")) && read(f).contains("clap::")),
        "the reader sees clap where it is"
    );
}

#[test]
fn the_ground_floor_imports_only_leaves_and_leaves_import_nothing() {
    let g = import_graph();
    let model: Vec<_> = g["model"]
        .keys()
        .filter(|r| !MODEL_MAY_IMPORT.contains(&r.as_str()))
        .collect();
    assert!(
        model.is_empty(),
        "model imports {model:?}: {:?}",
        g["model"]
    );
    let crawl: Vec<_> = g["crawl"]
        .keys()
        .filter(|r| !CRAWL_MAY_IMPORT.contains(&r.as_str()))
        .collect();
    assert!(
        crawl.is_empty(),
        "crawl imports {crawl:?}: {:?}",
        g["crawl"]
    );
    assert!(
        g["scenario"].contains_key("crawl"),
        "the reader sees the scenario model hold the crawl settings"
    );
    for leaf in LEAVES {
        let edges = g.get(*leaf).map(|e| e.keys().collect::<Vec<_>>());
        assert!(
            edges.as_ref().is_none_or(|e| e.is_empty()),
            "{leaf} imports {edges:?}"
        );
    }
}

/// The engine's step functions read the driver state and return what they saw; only the
/// driving loop (`engine/drive.rs`, and `engine/mod.rs` around it) writes the visit's
/// record, and `engine/observation.rs` turns it into the observation
/// (docs/architecture.md, "The engine"). So no other engine file names `VisitRecord`,
/// takes the driver state mutably, or has a `&mut self` method on it.
#[test]
fn only_the_driving_loop_writes_the_visit_record() {
    const MAY_NAME_THE_RECORD: &[&str] = &["mod.rs", "drive.rs", "record.rs", "observation.rs"];
    const MAY_CHANGE_THE_DRIVER: &[&str] = &["mod.rs", "drive.rs", "driver.rs"];
    let engine = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/engine");
    let mut files = Vec::new();
    rust_files(&engine, &mut files);
    let mut offenders = Vec::new();
    let mut step_files = 0;
    for file in files.iter().filter(|f| !is_test_file(f)) {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let text = std::fs::read_to_string(file).expect("readable source");
        let code = match text.find("\n#[cfg(test)]") {
            Some(i) => &text[..i],
            None => &text[..],
        };
        let lines: Vec<(usize, &str)> = code
            .lines()
            .enumerate()
            .map(|(n, l)| (n + 1, l.trim_start()))
            .filter(|(_, l)| !l.starts_with("//"))
            .collect();
        let step_file = lines.iter().any(|(_, l)| l.starts_with("impl DriverState"));
        step_files += usize::from(step_file && !MAY_CHANGE_THE_DRIVER.contains(&name));
        for (n, line) in lines {
            let names_record = line.contains("VisitRecord");
            let changes_driver =
                line.contains("&mut DriverState") || (step_file && line.contains("&mut self"));
            if (names_record && !MAY_NAME_THE_RECORD.contains(&name))
                || (changes_driver && !MAY_CHANGE_THE_DRIVER.contains(&name))
            {
                offenders.push(format!("src/engine/{name}:{n}: {line}"));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "a step function writes the record or changes the driver state: {offenders:#?}"
    );
    assert!(step_files >= 4, "the reader sees the step functions");
}
