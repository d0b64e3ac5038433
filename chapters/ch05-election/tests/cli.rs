//! The commands the book and the README give, run as a student runs them.

use ch04_paxos::sim::command;

fn election(args: &[&str], stdin: &str) -> String {
    command::stdout(env!("CARGO_BIN_EXE_ch05-election"), args, stdin)
}

/// `cargo run -p ch05-election -- --trace` prints exactly the snapshot the
/// book shows (piped output is plain), ending with `zkServer.sh status`.
#[test]
fn the_first_command_prints_the_books_trace() {
    let out = election(&["--trace"], "");
    let body = command::snapshot_body(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/snapshots/first-start.snap"
    ));
    assert_eq!(out, body);
    assert!(out.ends_with("  n5  Mode: follower\n"));
    assert!(out.contains("  n3  Mode: leader\n"));
}

/// `--step` lists what is pending, numbered, and Enter does what the network
/// would do next; `q` stops early and still prints every server's status.
#[test]
fn step_mode_lists_what_is_pending_and_enter_carries_on() {
    let out = election(&["--step"], "\n\nq\n");
    assert!(
        out.contains("  pending at 0ms:\n     1      0ms  n1 starts\n"),
        "{out}"
    );
    assert!(out.contains("     0ms  n1 • zkServer.sh start"), "{out}");
    assert_eq!(
        out.matches("\n> ").count(),
        3,
        "one prompt per line typed:\n{out}"
    );
    assert!(out.contains("zkServer.sh status, on each server:"));
    assert!(out.contains("Error contacting service. It is probably not running."));
    assert!(out.contains(" ms, before every server decided)\n"), "{out}");
    assert!(
        !out.contains("the deadline passed"),
        "quitting is not running out of time:\n{out}"
    );

    let all = election(&["--step"], &"\n".repeat(10_000));
    assert!(all.contains("the story is over at "), "{all}");
    assert!(all.contains("  n3  Mode: leader"), "{all}");
}

/// A session's choices, written as `--step` saves them, change the run that
/// `--scenario-file` replays: with n3 crashed before it starts, n4 leads.
#[test]
fn a_scenario_file_replays_the_choices_of_a_session() {
    let path = std::env::temp_dir().join(format!("ch05-cli-steps-{}.txt", std::process::id()));
    std::fs::write(&path, "steps\ncrash n3\n").unwrap();
    let out = election(&["--scenario-file", path.to_str().unwrap()], "");
    let stepped = election(
        &["--step", "--scenario-file", path.to_str().unwrap()],
        "steps\nq\n",
    );
    std::fs::remove_file(&path).unwrap();
    assert!(out.contains("  n4  Mode: leader"), "{out}");
    assert!(
        out.contains("  n3  Error contacting service. It is probably not running."),
        "{out}"
    );
    assert!(
        stepped.contains("\nsteps\ncrash n3                 # at 0ms\n"),
        "{stepped}"
    );
}
