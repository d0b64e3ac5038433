//! The book cannot drift from the code.
//!
//! Every listing and trace in `book/` is pulled in with `{{#include}}` from a
//! real source file or a snapshot that a test checks. mdBook renders a broken
//! include as nothing at all, silently, so this test does what a careful
//! reviewer would: it resolves every include and image, checks each anchor is
//! defined exactly once, refuses empty or header-only snapshot includes, and
//! then renders the whole book with mdBook itself.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

fn book_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("book")
}

/// The book's pages: every `.md` file under `book/src`.
fn pages() -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![book_root().join("src")];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).expect("book/src is readable") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// One `{{#include file[:selector]}}` found on a page.
#[derive(Debug)]
struct Include {
    page: PathBuf,
    /// Where on the page the include starts, in bytes.
    at: usize,
    target: PathBuf,
    selector: Option<String>,
}

fn includes_on(page: &Path) -> Vec<Include> {
    let text = fs::read_to_string(page).expect("page is readable");
    let dir = page.parent().expect("page has a folder");
    let mut found = Vec::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("{{#include ") {
        let at = text.len() - rest.len() + start;
        let after = &rest[start + "{{#include ".len()..];
        let end = after.find("}}").expect("an include is closed by }}");
        let spec = after[..end].trim();
        let (file, selector) = match spec.split_once(':') {
            Some((file, sel)) => (file, Some(sel.to_string())),
            None => (spec, None),
        };
        found.push(Include {
            page: page.to_path_buf(),
            at,
            target: dir.join(file),
            selector,
        });
        rest = &after[end..];
    }
    found
}

/// What an include pulls in, as mdBook would: a named anchor region, a line
/// range `a:b` (1-based, either end open), or the whole file.
fn included_text(include: &Include) -> Result<String, String> {
    let source = fs::read_to_string(&include.target)
        .map_err(|e| format!("cannot read {}: {e}", include.target.display()))?;
    let lines: Vec<&str> = source.lines().collect();
    let (from, to) = included_lines(include, &source)?;
    let is_anchor = include.selector.as_deref().is_some_and(|s| !is_range(s));
    let body: Vec<&str> = lines
        .get(from - 1..to)
        .unwrap_or(&[])
        .iter()
        // mdBook leaves out the marker lines of other anchors inside the region.
        .filter(|l| !is_anchor || !(l.contains("ANCHOR:") || l.contains("ANCHOR_END:")))
        .copied()
        .collect();
    Ok(body.join("\n"))
}

/// `12:40`, `4:` or `:9`: a line range rather than an anchor name.
fn is_range(selector: &str) -> bool {
    selector.chars().all(|c| c.is_ascii_digit() || c == ':')
}

/// The 1-based, inclusive line range an include pulls in; for an anchor, the
/// lines between its markers.
fn included_lines(include: &Include, source: &str) -> Result<(usize, usize), String> {
    let lines: Vec<&str> = source.lines().collect();
    let Some(selector) = &include.selector else {
        return Ok((1, lines.len()));
    };
    if is_range(selector) {
        let mut ends = selector.splitn(2, ':');
        let from: usize = ends.next().unwrap_or("").parse().unwrap_or(1).max(1);
        let to: Option<usize> = ends.next().and_then(|t| t.parse().ok());
        let to = to.unwrap_or(lines.len()).min(lines.len());
        return Ok((from, to));
    }
    let open = format!("ANCHOR: {selector}");
    let close = format!("ANCHOR_END: {selector}");
    let opens = source
        .lines()
        .filter(|l| ends_with_marker(l, &open))
        .count();
    let closes = source
        .lines()
        .filter(|l| ends_with_marker(l, &close))
        .count();
    if opens != 1 || closes != 1 {
        return Err(format!(
            "anchor `{selector}` in {} is opened {opens} times and closed {closes} times (want once each)",
            include.target.display()
        ));
    }
    let start = lines
        .iter()
        .position(|l| ends_with_marker(l, &open))
        .expect("counted once above");
    let end = lines
        .iter()
        .position(|l| ends_with_marker(l, &close))
        .expect("counted once above");
    Ok((start + 2, end))
}

/// `// ANCHOR: tree` matches `ANCHOR: tree` but `// ANCHOR: tree_ops` does not.
fn ends_with_marker(line: &str, marker: &str) -> bool {
    line.trim_end().ends_with(marker)
        && line.trim_end()[..line.trim_end().len() - marker.len()]
            .trim_end()
            .ends_with(|c: char| {
                c == '/' || c == '#' || c == '-' || c == '*' || c.is_whitespace() || c == '!'
            })
}

#[test]
fn every_include_resolves_to_non_empty_text() {
    let mut problems = Vec::new();
    for page in pages() {
        for include in includes_on(&page) {
            match included_text(&include) {
                Err(e) => problems.push(format!("{}: {e}", include.page.display())),
                Ok(text) if text.trim().is_empty() => problems.push(format!(
                    "{}: include of {} {:?} is empty",
                    include.page.display(),
                    include.target.display(),
                    include.selector
                )),
                Ok(text) => {
                    // A snapshot's YAML header is test bookkeeping, not trace.
                    let is_snapshot = include.target.extension().is_some_and(|e| e == "snap");
                    if is_snapshot && (text.starts_with("---") || text.contains("\nsource: ")) {
                        problems.push(format!(
                            "{}: include of {} shows the snapshot header; start at line 4",
                            include.page.display(),
                            include.target.display()
                        ));
                    }
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "broken includes:\n{}",
        problems.join("\n")
    );
}

/// The longest trace or transcript a page shows unfolded; a longer one goes
/// inside `<details>`, with its key lines (a snapshot of their own) above it.
const LONGEST_UNFOLDED_LINES: usize = 50;

/// Is the include at byte `at` of `text` inside a `<details>` block?
fn folded(text: &str, at: usize) -> bool {
    let before = &text[..at];
    before.matches("<details>").count() > before.matches("</details>").count()
}

#[test]
fn snapshots_are_included_whole_and_long_ones_are_folded() {
    // Rule: a page shows a snapshot from its first line after the header to
    // its end (`:4:`): a line range into a snapshot shifts silently when the
    // snapshot changes, so a part worth showing gets a snapshot of its own,
    // cut by a test from the same run. And a long one is folded away.
    let mut problems = Vec::new();
    for page in pages() {
        let text = fs::read_to_string(&page).expect("page is readable");
        for include in includes_on(&page) {
            if include.target.extension().is_none_or(|e| e != "snap") {
                continue;
            }
            if include.selector.as_deref() != Some("4:") {
                problems.push(format!(
                    "{}: {} is included as {:?}, not whole (`:4:`)",
                    page.display(),
                    include.target.display(),
                    include.selector
                ));
            }
            let Ok(shown) = included_text(&include) else {
                continue; // reported by every_include_resolves_to_non_empty_text
            };
            let lines = shown.lines().count();
            if lines > LONGEST_UNFOLDED_LINES && !folded(&text, include.at) {
                problems.push(format!(
                    "{}: {} shows {lines} lines unfolded (at most {LONGEST_UNFOLDED_LINES}); \
                     fold it in <details> and show its key lines above",
                    page.display(),
                    include.target.display()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A lab's answer lives between `// LAB N.M ANSWER` and `// LAB N.M END` in
/// the sources; the book must not print it. (The student's starting code is
/// shown from `lab/tests/snapshots/listings__*.snap` instead.)
#[test]
fn no_include_shows_a_labs_answer() {
    let mut problems = Vec::new();
    for page in pages() {
        for include in includes_on(&page) {
            let is_rust = include.target.extension().is_some_and(|e| e == "rs");
            let Ok(source) = fs::read_to_string(&include.target) else {
                continue;
            };
            let (Ok((from, to)), true) = (included_lines(&include, &source), is_rust) else {
                continue;
            };
            let marked = keeper_lab::Marked::parse(&source)
                .unwrap_or_else(|e| panic!("{}: {e}", include.target.display()));
            for region in marked.regions() {
                let lines = region.lines();
                if *lines.start() <= to && from <= *lines.end() {
                    problems.push(format!(
                        "{}: the include of {} {:?} shows lab {}'s answer (lines {}-{})",
                        include.page.display(),
                        include.target.display(),
                        include.selector,
                        region.lab,
                        lines.start(),
                        lines.end()
                    ));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "answers in the book:\n{}",
        problems.join("\n")
    );
}

/// The target of every `[text](target)` and `![alt](target)` in `text`.
fn link_targets(text: &str) -> impl Iterator<Item = &str> {
    text.match_indices("](").filter_map(move |(i, _)| {
        let start = i + 2;
        let len = text[start..].find(')')?;
        Some(&text[start..start + len])
    })
}

#[test]
fn every_image_on_a_page_exists() {
    let mut missing = BTreeSet::new();
    for page in pages() {
        let text = fs::read_to_string(&page).expect("page is readable");
        for link in link_targets(&text) {
            let is_local_image =
                [".svg", ".png"].iter().any(|ext| link.ends_with(ext)) && !link.contains("://");
            if is_local_image && !page.parent().unwrap().join(link).exists() {
                missing.insert(format!("{}: {link}", page.display()));
            }
        }
    }
    assert!(missing.is_empty(), "missing images:\n{missing:#?}");
}

#[test]
fn the_book_renders_with_mdbook() {
    let mut book = mdbook_driver::MDBook::load(book_root()).expect("book.toml and SUMMARY.md load");
    // A chapter listed in SUMMARY.md but missing on disk is an error here,
    // not a blank page quietly created.
    book.config.build.create_missing = false;
    book.config.build.build_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("book");
    book.build().expect("the book renders");
    let index = book.config.build.build_dir.join("index.html");
    assert!(index.exists(), "rendering wrote {}", index.display());
}
