//! The teacher's key: a guide to running the labs, and the answers.
//!
//! Two Markdown files. `teachers-guide.md` says, lab by lab, what it teaches, how long it
//! takes, what the student edits, how it is graded and what to show in class.
//! `answer-key.md` holds the answers: each region's answer as it stands in the sources (with
//! the skeleton the student started from), and the answers to the questions around the lab.

use std::fmt::Write as _;

use crate::catalog::{Lab, LABS};
use crate::marker::Holder;
use crate::repo::{files_of, SourceFile};

/// `teachers-guide.md`.
pub fn guide(files: &[SourceFile]) -> String {
    let mut out = String::from(
        "# Keeper labs: the teacher's guide\n\n\
         Every lab is graded by tests. The repository ships the answers, so `cargo test` is \
         green; a student runs `cargo run -- lab start N.M`, which swaps the lab's answers in \
         the chapter sources for the skeleton, and `cargo run -- lab check N.M` until every \
         check passes. `cargo run -- lab reset N.M` starts the lab over. To hand out a copy \
         without the answers in it, run `cargo run -- lab start all` in a fresh copy of the \
         repository without its git history.\n\n\
         The answers are in `answer-key.md`, beside this file.\n\n",
    );
    out.push_str("| lab | chapter | minutes | what it asks |\n|---|---|---|---|\n");
    for lab in LABS {
        let _ = writeln!(
            out,
            "| {} {} | {} | {} | {} |",
            lab.id,
            lab.title,
            lab.chapter(),
            lab.minutes,
            lab.asks
        );
    }
    let total: u32 = LABS.iter().map(|l| l.minutes).sum();
    let _ = writeln!(out, "\nAll of them: about {} hours.\n", total.div_ceil(60));
    for lab in LABS {
        let _ = writeln!(out, "## Lab {}: {}\n", lab.id, lab.title);
        let _ = writeln!(out, "- **Teaches:** {}", lab.teaches);
        let _ = writeln!(out, "- **Takes:** about {} minutes.", lab.minutes);
        let _ = writeln!(out, "- **Asks:** {}.", lab.asks);
        let _ = writeln!(out, "- **In the book:** `book/src/{}`.", lab.book_link());
        let _ = writeln!(
            out,
            "- **Files with answers:** {}.",
            list(&files_of(files, lab.id))
        );
        let _ = writeln!(
            out,
            "- **Graded by:** `cargo run -- lab check {}` (that is, `{}`):",
            lab.id,
            lab.cargo_command()
        );
        for check in lab.checks {
            let _ = writeln!(out, "  - `{}`: {}", check.name, check.hint);
        }
        out.push_str("- **Show in class:**\n");
        for command in lab.show {
            let _ = writeln!(out, "  - `{command}`");
        }
        out.push('\n');
    }
    out
}

/// `answer-key.md`: for each lab, the discussion, then every region's answer.
pub fn answers(files: &[SourceFile]) -> String {
    let mut out = String::from(
        "# Keeper labs: the answer key\n\n\
         For each lab: the answers to its questions, then every marked region of the sources \
         with the skeleton the student starts from and the answer. Keep this file away from \
         the students.\n\n",
    );
    for lab in LABS {
        let _ = writeln!(out, "## Lab {}: {}\n", lab.id, lab.title);
        if lab.discuss.is_empty() {
            out.push_str("(The answers to this lab's questions are not in this build: it was made from a checkout with the lab started.)\n\n");
        } else {
            let _ = writeln!(out, "{}\n", lab.discuss);
        }
        write_regions(&mut out, lab, files);
    }
    out
}

fn write_regions(out: &mut String, lab: &Lab, files: &[SourceFile]) {
    // The catalogue's own regions are the discussion, printed above.
    for file in files.iter().filter(|f| f.path != "lab/src/catalog.rs") {
        for region in file.marked.regions().filter(|r| r.lab == lab.id) {
            let _ = writeln!(out, "`{}`, line {}:\n", file.path, region.line);
            let _ = writeln!(
                out,
                "The student starts from:\n\n```rust,ignore\n{}\n```\n",
                dedent(&region.skeleton())
            );
            match region.holder {
                Holder::Answer => {
                    let _ = writeln!(
                        out,
                        "The answer:\n\n```rust,ignore\n{}\n```\n",
                        dedent(&region.body)
                    );
                }
                Holder::Student => {
                    let _ = writeln!(
                        out,
                        "(This checkout has lab {} started, so its answer is not here: write \
                         the key from a checkout with the answers in place.)\n",
                        lab.id
                    );
                }
            }
        }
    }
}

/// The lines without the indentation they share.
fn dedent(lines: &[String]) -> String {
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    lines
        .iter()
        .map(|l| l.get(indent..).unwrap_or("").trim_end())
        .collect::<Vec<_>>()
        .join("\n")
}

fn list(paths: &[&str]) -> String {
    paths
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedent_keeps_relative_indentation_and_blank_lines() {
        let lines = ["    a".to_string(), String::new(), "        b".to_string()];
        assert_eq!(dedent(&lines), "a\n\n    b");
    }
}
