//! The sidebar as mdBook builds it from `SUMMARY.md`, read without mdBook.
//!
//! mdBook numbers what it finds in one list: plain links before the list are
//! prefix chapters and after it suffix chapters, both un-numbered; each `- `
//! item of the list is numbered by its place and its indentation (`3.1` under
//! `3`), part titles (`# Part`) and separators (`---`) do not restart the count,
//! and a link with no target (`[Name]()`) is a draft: a numbered title with no
//! page yet. Reading this here keeps the numbering rules in `cargo test`
//! without building mdBook's renderer with every test run.

use std::path::{Path, PathBuf};

/// A chapter as the sidebar lists it.
#[derive(Debug, PartialEq)]
pub struct Chapter {
    pub name: String,
    /// `None` for an un-numbered prefix or suffix chapter.
    pub number: Option<Vec<u32>>,
    /// `None` for a draft: a title in the sidebar with no page yet.
    pub source: Option<PathBuf>,
}

/// The chapters of a `SUMMARY.md`, in sidebar order, with their numbers; an
/// error names the line mdBook would refuse or misread.
pub fn parse(text: &str) -> Result<Vec<Chapter>, String> {
    let mut chapters = Vec::new();
    // The number of the last item at each depth of the numbered list.
    let mut counters: Vec<u32> = Vec::new();
    let mut list_seen = false;
    // The indentation of each open depth of the list, outermost first.
    let mut indents: Vec<usize> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let at = index + 1;
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with("<!--") {
            continue;
        }
        if trimmed.starts_with('#') {
            // The `# Summary` title, or a part title inside the numbered list.
            continue;
        }
        if trimmed.chars().all(|c| c == '-') && trimmed.len() >= 3 {
            continue; // a separator
        }
        if let Some(item) = trimmed
            .strip_prefix("- ")
            .or_else(|| trimmed.strip_prefix("* "))
        {
            let indent = line.len() - line.trim_start().len();
            while indents.last().is_some_and(|&outer| outer > indent) {
                indents.pop();
            }
            if indents.last().is_none_or(|&outer| outer < indent) {
                indents.push(indent);
            }
            let depth = indents.len() - 1;
            counters.truncate(depth + 1);
            if counters.len() == depth {
                counters.push(0);
            }
            counters[depth] += 1;
            let (name, source) =
                link(item).ok_or(format!("line {at}: not a `- [name](file.md)` item"))?;
            list_seen = true;
            chapters.push(Chapter {
                name,
                number: Some(counters.clone()),
                source,
            });
            continue;
        }
        let (name, source) =
            link(trimmed).ok_or(format!("line {at}: not a `[name](file.md)` link"))?;
        if list_seen && line.starts_with(' ') {
            return Err(format!(
                "line {at}: an indented line in the list is not a `- ` item"
            ));
        }
        if source.is_none() {
            return Err(format!(
                "line {at}: a prefix or suffix chapter cannot be a draft"
            ));
        }
        chapters.push(Chapter {
            name,
            number: None,
            source,
        });
    }
    Ok(chapters)
}

/// `[name](target)` as (name, Some(target)), or (name, None) for `[name]()`.
fn link(text: &str) -> Option<(String, Option<PathBuf>)> {
    let rest = text.strip_prefix('[')?;
    let close = rest.rfind("](")?;
    let name = rest[..close].to_string();
    let target = rest[close + 2..].strip_suffix(')')?.trim();
    Some((name, (!target.is_empty()).then(|| PathBuf::from(target))))
}

/// Every chapter's page under `src`, or which are missing: a page the
/// summary lists and the disk lacks is an error, not a blank page quietly
/// created (mdBook's `create-missing` would write one).
pub fn missing_pages(chapters: &[Chapter], src: &Path) -> Vec<PathBuf> {
    chapters
        .iter()
        .filter_map(|c| c.source.as_ref())
        .filter(|s| !src.join(s).is_file())
        .cloned()
        .collect()
}

#[test]
fn the_summary_is_numbered_as_mdbook_numbers_it() {
    let text = "# Summary\n\n[Intro](intro.md)\n\n- [One](ch01.md)\n- [Two](ch02.md)\n    - [Two and a bit](ch02-more.md)\n\
                \n# Part two\n\n- [Three]()\n\n---\n\n[Appendix](appendix.md)\n";
    let chapters = parse(text).expect("a valid summary");
    let numbers: Vec<(&str, Option<Vec<u32>>, bool)> = chapters
        .iter()
        .map(|c| (c.name.as_str(), c.number.clone(), c.source.is_some()))
        .collect();
    assert_eq!(
        numbers,
        [
            ("Intro", None, true),
            ("One", Some(vec![1]), true),
            ("Two", Some(vec![2]), true),
            ("Two and a bit", Some(vec![2, 1]), true),
            ("Three", Some(vec![3]), false),
            ("Appendix", None, true),
        ]
    );
    assert_eq!(
        missing_pages(&chapters, Path::new("/nonexistent")),
        [
            "intro.md",
            "ch01.md",
            "ch02.md",
            "ch02-more.md",
            "appendix.md"
        ]
        .map(PathBuf::from)
    );
    assert!(parse("- Not a link\n").is_err());
}
