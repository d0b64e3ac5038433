//! The commands the book and the README give, run as a student runs them.

use std::io::Write;
use std::process::{Command, Stdio};

fn election(args: &[&str], stdin: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ch05-election"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `cargo run -p ch05-election -- --trace` prints exactly the snapshot the
/// book shows (piped output is plain), ending with `zkServer.sh status`.
#[test]
fn the_first_command_prints_the_books_trace() {
    let out = election(&["--trace"], "");
    let snap = include_str!("snapshots/first-start.snap");
    let body: String = snap.lines().skip(3).map(|l| format!("{l}\n")).collect();
    assert_eq!(out, body);
    assert!(out.ends_with("  n5  Mode: follower\n"));
    assert!(out.contains("  n3  Mode: leader\n"));
}

/// `--step` waits for Enter after each delivery; `q` stops early and still
/// prints every server's status.
#[test]
fn step_mode_advances_one_delivery_per_line_and_stops_on_q() {
    let out = election(&["--step"], "\n\nq\n");
    let deliveries = out
        .lines()
        .filter(|l| l.contains("→") && !l.contains("✗"))
        .count();
    assert_eq!(deliveries, 3, "{out}");
    assert!(out.contains("zkServer.sh status, on each server:"));
    assert!(out.contains("Error contacting service. It is probably not running."));

    let all = election(&["--step"], &"\n".repeat(10_000));
    assert!(all.contains("  n3  Mode: leader"), "{all}");
}
