//! The book rendered by the `mdbook` program, where it is installed.
//!
//! The rules on includes, numbering and links are checked from the Markdown
//! above; rendering is the proof that mdBook reads it the same way. mdBook's
//! renderer is a large build (some seventy crates), too much to add to every
//! `cargo test`, so the test runs the installed program instead (CI installs
//! it) and says `SKIPPED` when there is none, as the Java tests do.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The mdBook release line the book is written for (`{{#include}}` anchors,
/// the sidebar's `toc.html`).
const MDBOOK_LINE: &str = "v0.5.";

/// Where `mdbook build` wrote the HTML, rendered once per test run; `None`
/// (after saying why) when no mdBook 0.5 is installed.
pub fn html(book: &Path, test: &str) -> Option<&'static Path> {
    static RENDERED: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let rendered = RENDERED.get_or_init(|| {
        let version = Command::new("mdbook")
            .arg("--version")
            .output()
            .map_err(|e| {
                format!("no mdbook program ({e}); `cargo install mdbook --locked` adds it")
            })?;
        let version = String::from_utf8_lossy(&version.stdout).trim().to_string();
        if !version.contains(MDBOOK_LINE) {
            return Err(format!(
                "{version} is installed, the book is checked with mdbook {MDBOOK_LINE}x"
            ));
        }
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("book");
        let run = Command::new("mdbook")
            .arg("build")
            .arg(book)
            .arg("--dest-dir")
            .arg(&out)
            .output()
            .map_err(|e| format!("mdbook build did not start: {e}"))?;
        // A render failure is a failure of the book, not a reason to skip.
        assert!(
            run.status.success(),
            "mdbook build failed:\n{}",
            String::from_utf8_lossy(&run.stderr)
        );
        Ok(out)
    });
    match rendered {
        Ok(html) => Some(html.as_path()),
        Err(reason) => {
            let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {reason}");
            None
        }
    }
}
