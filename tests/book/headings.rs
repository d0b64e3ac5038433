//! The `id` mdBook gives each heading of a page, so a link's `#fragment` can
//! be checked against the Markdown without rendering it.
//!
//! mdBook takes a heading's text (its words, without the Markdown around
//! them), lowercases it, keeps letters, digits, `_` and `-`, turns whitespace
//! into `-` and drops the rest; a repeated id gets `-1`, `-2`, ... in page
//! order. An explicit `{#id}` after the heading wins. Lines inside code
//! fences are code, not headings (a shell comment starts with `#` too).

use std::collections::HashSet;

/// The ids of every heading on a page, in page order.
pub fn ids(page: &str) -> Vec<String> {
    let mut used = HashSet::new();
    let mut ids = Vec::new();
    let mut fence: Option<&str> = None;
    for line in page.lines() {
        let trimmed = line.trim_start();
        for marker in ["```", "~~~"] {
            if trimmed.starts_with(marker) {
                fence = match fence {
                    None => Some(marker),
                    Some(open) if open == marker => None,
                    other => other,
                };
            }
        }
        if fence.is_some() || line.starts_with("    ") {
            continue;
        }
        let level = trimmed.chars().take_while(|&c| c == '#').count();
        let Some(text) = trimmed.get(level..).filter(|_| (1..=6).contains(&level)) else {
            continue;
        };
        if !text.is_empty() && !text.starts_with(' ') {
            continue; // `#tag`, not a heading
        }
        let text = text.trim().trim_end_matches('#').trim();
        let id = match explicit_id(text) {
            Some(id) => id.to_string(),
            None => unique(id_from_text(&plain(text)), &mut used),
        };
        ids.push(id);
    }
    ids
}

/// `Title {#custom}` → `custom`.
fn explicit_id(text: &str) -> Option<&str> {
    let attributes = text.strip_suffix('}')?;
    let open = attributes.rfind('{')?;
    attributes[open + 1..].trim().strip_prefix('#')
}

/// A heading's words: `[text](url)` → text, code and emphasis marks and
/// inline HTML tags dropped.
fn plain(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == ']' && rest.starts_with("](") {
            rest = rest.find(')').map_or("", |end| &rest[end + 1..]);
            continue;
        }
        if c == '<' {
            if let Some(end) = rest.find('>') {
                rest = &rest[end + 1..];
                continue;
            }
        }
        if !matches!(c, '`' | '*' | '[') {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

fn id_from_text(text: &str) -> String {
    text.trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                Some(c)
            } else if c.is_whitespace() {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

fn unique(id: String, used: &mut HashSet<String>) -> String {
    if used.insert(id.clone()) {
        return id;
    }
    (1..)
        .map(|n| format!("{id}-{n}"))
        .find(|candidate| used.insert(candidate.clone()))
        .expect("some suffix is free")
}

#[test]
fn ids_are_made_as_mdbook_makes_them() {
    let page = "# Chapter 5: electing a leader\n\
                ```sh\n# not a heading\n```\n\
                ## Lab 5.1: the `lowest` *sid* wins\n\
                ## [Votes](votes.md) on the wire\n\
                ## Votes on the wire\n\
                ### Custom {#mine}\n";
    assert_eq!(
        ids(page),
        [
            "chapter-5-electing-a-leader",
            "lab-51-the-lowest-sid-wins",
            "votes-on-the-wire",
            "votes-on-the-wire-1",
            "mine"
        ]
    );
}
