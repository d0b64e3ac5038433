//! The book cannot drift from the code.
//!
//! Every listing and trace in `book/` is pulled in with `{{#include}}` from a
//! real source file or a snapshot that a test checks. mdBook renders a broken
//! include as nothing at all, silently, so this test does what a careful
//! reviewer would: it resolves every include and image, checks each anchor is
//! defined exactly once, and refuses empty or header-only snapshot includes.
//! It checks what a reader follows: the sidebar (read from `SUMMARY.md` as
//! mdBook reads it) numbers each chapter as the text calls it ("chapter 5"),
//! and every link between pages lands on a heading. Where the `mdbook`
//! program is installed it then renders the whole book and checks the same
//! things on the HTML.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

mod headings;
mod render;
mod summary;

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

/// A scratch book page `page.md` beside a source file `code.rs`, for the
/// checker's own tests; returns the page's includes.
fn scratch_includes(name: &str, page: &str, code: &str) -> Vec<Include> {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("book-checker")
        .join(name);
    fs::create_dir_all(&dir).expect("scratch folder");
    fs::write(dir.join("page.md"), page).expect("scratch page");
    fs::write(dir.join("code.rs"), code).expect("scratch source");
    includes_on(&dir.join("page.md"))
}

#[test]
fn the_checker_refuses_an_include_of_a_missing_file() {
    let includes = scratch_includes("missing-file", "{{#include gone.rs:tree}}\n", "");
    let error = included_text(&includes[0]).expect_err("a missing file is an error");
    assert!(
        error.contains("cannot read") && error.contains("gone.rs"),
        "{error}"
    );
}

#[test]
fn the_checker_refuses_a_missing_or_repeated_anchor() {
    let code = "// ANCHOR: tree\nfn tree() {}\n// ANCHOR_END: tree\n\
                // ANCHOR: twice\n// ANCHOR_END: twice\n// ANCHOR: twice\n// ANCHOR_END: twice\n";
    let page =
        "{{#include code.rs:tree}}\n{{#include code.rs:trees}}\n{{#include code.rs:twice}}\n";
    let includes = scratch_includes("anchors", page, code);
    assert_eq!(included_text(&includes[0]).as_deref(), Ok("fn tree() {}"));
    let missing = included_text(&includes[1]).expect_err("an unknown anchor is an error");
    assert!(
        missing.contains("`trees`") && missing.contains("opened 0 times"),
        "{missing}"
    );
    let repeated = included_text(&includes[2]).expect_err("a repeated anchor is an error");
    assert!(repeated.contains("opened 2 times"), "{repeated}");
}

#[test]
fn the_checker_reads_line_ranges_as_mdbook_does() {
    let includes = scratch_includes(
        "ranges",
        "{{#include code.rs:2:3}}\n{{#include code.rs:3:}}\n",
        "a\nb\nc\nd\n",
    );
    assert_eq!(included_text(&includes[0]).as_deref(), Ok("b\nc"));
    assert_eq!(included_text(&includes[1]).as_deref(), Ok("c\nd"));
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
/// shown from `lab/tests/snapshots/all__listings__*.snap` instead.)
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

/// The sidebar, read from `SUMMARY.md` as mdBook reads it.
fn sidebar() -> Vec<summary::Chapter> {
    let text = fs::read_to_string(book_root().join("src/SUMMARY.md")).expect("SUMMARY.md");
    summary::parse(&text).unwrap_or_else(|e| panic!("SUMMARY.md: {e}"))
}

#[test]
fn every_chapter_in_the_summary_has_its_page() {
    // A chapter listed in SUMMARY.md but missing on disk is an error here,
    // not a blank page quietly created.
    let missing = summary::missing_pages(&sidebar(), &book_root().join("src"));
    assert!(
        missing.is_empty(),
        "SUMMARY.md lists missing pages: {missing:?}"
    );
}

/// The chapter number in a page's file name: 5 for `ch05-election.md`, 3 for
/// `ch03-wire.md` (a section of chapter 3), none for `introduction.md`.
fn chapter_in_file_name(path: &Path) -> Option<u32> {
    let name = path.file_name()?.to_str()?;
    name.strip_prefix("ch")?.get(..2)?.parse().ok()
}

#[test]
fn the_sidebar_numbers_each_chapter_as_its_file_and_leaves_the_rest_unnumbered() {
    // Rule: the text says "chapter 5" for ch05-election.md, so the sidebar
    // must say 5. too; the introduction, Getting started (ch00) and the
    // appendices are prefix and suffix chapters, with no number.
    let mut problems = Vec::new();
    for chapter in &sidebar() {
        let expected = chapter
            .source
            .as_deref()
            .and_then(chapter_in_file_name)
            .filter(|&n| n > 0);
        let got = chapter.number.as_ref().and_then(|n| n.first().copied());
        match (&chapter.source, expected, got) {
            (None, _, Some(_)) => {} // a draft: its number is checked below
            (_, Some(want), Some(got)) if want == got => {}
            (_, None, None) => {}
            _ => problems.push(format!(
                "{:?} ({:?}) is numbered {:?}, want {expected:?}",
                chapter.name, chapter.source, chapter.number
            )),
        }
    }
    assert!(
        problems.is_empty(),
        "sidebar numbering:\n{}",
        problems.join("\n")
    );
}

/// Every `chapter N` or `Chapter N` the pages mention, as (page, N).
fn chapter_mentions() -> Vec<(PathBuf, u32)> {
    let mut found = Vec::new();
    for page in pages() {
        let text = fs::read_to_string(&page).expect("page is readable");
        for word in ["chapter ", "Chapter ", "chapters ", "Chapters "] {
            for (at, _) in text.match_indices(word) {
                let digits: String = text[at + word.len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_digit())
                    .collect();
                if let Ok(n) = digits.parse() {
                    found.push((page.clone(), n));
                }
            }
        }
    }
    found
}

#[test]
fn every_chapter_the_text_mentions_is_in_the_sidebar_under_that_number() {
    // Rule: "chapter 6" in the text is the sidebar's 6., even before its page
    // exists (a draft entry keeps its place and its number).
    let numbered: BTreeSet<u32> = sidebar()
        .iter()
        .filter_map(|c| c.number.as_ref())
        .filter(|n| n.len() == 1)
        .map(|n| n[0])
        .collect();
    let missing: Vec<String> = chapter_mentions()
        .into_iter()
        .filter(|(_, n)| !numbered.contains(n))
        .map(|(page, n)| format!("{}: chapter {n}", page.display()))
        .collect();
    assert!(
        missing.is_empty(),
        "chapters the sidebar does not number (it has {numbered:?}):\n{}",
        missing.join("\n")
    );
}

/// Every `[text](target)` on the pages whose target is another page or a
/// heading (`x.md`, `x.md#part`, `#part`), as (page, file, fragment).
fn links_between_pages() -> Vec<(PathBuf, PathBuf, Option<String>)> {
    let mut found = Vec::new();
    for page in pages() {
        let text = fs::read_to_string(&page).expect("page is readable");
        for target in link_targets(&text) {
            if target.contains("://") || target.contains(' ') || target.is_empty() {
                continue;
            }
            let (file, fragment) = match target.split_once('#') {
                Some((file, fragment)) => (file, Some(fragment.to_string())),
                None => (target, None),
            };
            let file = if file.is_empty() {
                page.clone()
            } else if file.ends_with(".md") {
                page.parent().unwrap().join(file)
            } else {
                continue; // an image, checked above
            };
            found.push((page.clone(), file, fragment));
        }
    }
    found
}

#[test]
fn every_link_between_pages_lands_on_a_page_and_a_heading() {
    let mut problems = Vec::new();
    for (page, file, fragment) in links_between_pages() {
        let Ok(target) = fs::read_to_string(&file) else {
            problems.push(format!("{}: no page {}", page.display(), file.display()));
            continue;
        };
        if let Some(fragment) = fragment {
            if !headings::ids(&target).contains(&fragment) {
                problems.push(format!(
                    "{}: {} has no heading #{fragment}",
                    page.display(),
                    file.display()
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "broken links:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_book_renders_with_mdbook() {
    let Some(html) = render::html(&book_root(), "the_book_renders_with_mdbook") else {
        return;
    };
    let index = html.join("index.html");
    assert!(index.exists(), "rendering wrote {}", index.display());
}

#[test]
fn the_rendered_sidebar_shows_each_chapter_under_its_number() {
    let Some(html) = render::html(
        &book_root(),
        "the_rendered_sidebar_shows_each_chapter_under_its_number",
    ) else {
        return;
    };
    let toc = fs::read_to_string(html.join("toc.html")).expect("toc.html rendered");
    let mut problems = Vec::new();
    for page in pages() {
        let Some(n) = chapter_in_file_name(&page).filter(|&n| n > 0) else {
            continue;
        };
        let html = page.with_extension("html");
        let link = format!("href=\"{}\"", html.file_name().unwrap().to_str().unwrap());
        let shown = toc.find(&link).and_then(|at| {
            let rest = &toc[at..];
            let open = "<strong aria-hidden=\"true\">";
            let start = rest.find(open)? + open.len();
            let end = rest[start..].find("</strong>")?;
            Some(rest[start..start + end].to_string())
        });
        match shown {
            Some(number) if number.split('.').next() == Some(&n.to_string()) => {}
            other => problems.push(format!(
                "toc.html shows {} as {other:?}, want {n}.",
                page.display()
            )),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_link_between_pages_lands_on_a_rendered_heading() {
    // The same links as above, against mdBook's own heading ids: proof that
    // `headings::ids` makes them as mdBook does.
    let Some(html) = render::html(
        &book_root(),
        "every_link_between_pages_lands_on_a_rendered_heading",
    ) else {
        return;
    };
    let src = book_root().join("src");
    let mut problems = Vec::new();
    for (page, file, fragment) in links_between_pages() {
        let relative = file
            .strip_prefix(&src)
            .unwrap_or(&file)
            .with_extension("html");
        let Ok(rendered_page) = fs::read_to_string(html.join(&relative)) else {
            problems.push(format!(
                "{}: no page {}",
                page.display(),
                relative.display()
            ));
            continue;
        };
        if let Some(fragment) = fragment {
            if !rendered_page.contains(&format!("id=\"{fragment}\"")) {
                problems.push(format!(
                    "{}: {} has no heading #{fragment}",
                    page.display(),
                    relative.display()
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "broken links:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_zkcli_reference_has_a_section_for_every_command_zkcli_lists() {
    // Rule: the reference covers every zkCli 3.8 command. zkCli's own list of them is its
    // usage text, which tests/interop_zkcli.rs pins from the real zkCli, one snapshot per
    // command (`interop_zkcli__usage_COMMAND.snap`); each needs a heading and its usage line.
    let snapshots = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let page = book_root().join("src/appendix-zkcli.md");
    let text = fs::read_to_string(&page).expect("the zkCli reference is readable");
    let mut commands = Vec::new();
    for entry in fs::read_dir(&snapshots).expect("tests/snapshots is readable") {
        let name = entry.expect("a directory entry").file_name();
        let name = name.to_string_lossy();
        if let Some(command) = name
            .strip_prefix("all__interop_zkcli__usage_")
            .and_then(|rest| rest.strip_suffix(".snap"))
        {
            commands.push(command.to_string());
        }
    }
    assert!(
        commands.len() > 20,
        "zkCli's usage snapshots are missing: {commands:?}"
    );
    let missing: Vec<String> = commands
        .iter()
        .filter(|command| {
            !text.contains(&format!("\n### {command}\n"))
                || !text.contains(&format!("all__interop_zkcli__usage_{command}.snap:4:"))
        })
        .cloned()
        .collect();
    assert!(
        missing.is_empty(),
        "{} has no section with the usage line of: {missing:?}",
        page.display()
    );
}
