//! A chapter's own command, run as a student runs it: the helper behind every simulated
//! chapter's `tests/cli.rs`.
//!
//! The book promises that `cargo run -p chNN-... -- --trace` prints what it shows. Those tests
//! hold the promise by running the built binary with the book's arguments (and, for `--step`,
//! the lines a reader would type), then comparing its output with the snapshot the book
//! includes. Piped output is plain, so the comparison is exact.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Runs `binary` with `args`, typing `stdin` into it, and returns what it printed and how it
/// ended.
pub fn run(binary: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(binary)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{binary} does not run: {e}"));
    // A run that refuses its arguments (or quits) exits before it reads every line: its
    // closed stdin is then part of the answer, not a failure of the test.
    let typing = child.stdin.take().expect("stdin is piped").write_all(stdin.as_bytes());
    if let Err(e) = typing {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "typing into {binary}: {e}");
    }
    child.wait_with_output().expect("the binary's output")
}

/// What `binary` printed to stdout, after checking that it succeeded (its stderr is the
/// failure message otherwise).
pub fn stdout(binary: &str, args: &[&str], stdin: &str) -> String {
    let out = run(binary, args, stdin);
    assert!(
        out.status.success(),
        "{binary} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// An insta snapshot without its three-line YAML header: the trace the book includes from
/// line 4, and what the command must print.
pub fn snapshot_body(path: impl AsRef<Path>) -> String {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines().skip(3).map(|l| format!("{l}\n")).collect()
}
