//! The commands the book gives, run as a student runs them.

use ch04_paxos::sim::command;

fn zab(args: &[&str], stdin: &str) -> String {
    command::stdout(env!("CARGO_BIN_EXE_ch06-zab"), args, stdin)
}

/// `cargo run -p ch06-zab -- --trace` tells the course's second picture, exactly as the
/// snapshot the book shows (piped output is plain).
#[test]
fn the_first_command_prints_the_books_story() {
    let out = zab(&["--trace"], "");
    let body = command::snapshot_body(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/snapshots/write-to-follower.snap"
    ));
    assert_eq!(out, body);
}

/// `--help` lists every scenario, with what it shows.
#[test]
fn help_lists_the_scenarios() {
    let out = zab(&["--help"], "");
    for name in ch06_zab::scenarios::ScenarioName::ALL {
        assert!(
            out.contains(name.as_str()),
            "{} missing:\n{out}",
            name.as_str()
        );
    }
    assert!(out.contains("[default: write-to-follower]"));
}

/// `--json` is one JSON object per line; `--all` shows the election's notifications too.
#[test]
fn json_is_one_object_per_line_and_all_shows_more() {
    let story = zab(&["--json", "--scenario", "observer"], "");
    let all = zab(&["--json", "--all", "--scenario", "observer"], "");
    for line in story.lines().chain(all.lines()) {
        serde_json::from_str::<serde_json::Value>(line).expect("a JSON object");
    }
    assert!(!story.contains(r#""type":"election""#));
    assert!(all.contains(r#""type":"election""#));
    assert!(all.lines().count() > story.lines().count());
}

/// `--svg FILE` draws the diagram the book embeds.
#[test]
fn svg_writes_the_diagram_the_book_embeds() {
    let path = std::env::temp_dir().join(format!("ch06-cli-test-{}.svg", std::process::id()));
    zab(
        &[
            "--scenario",
            "write-to-leader",
            "--svg",
            path.to_str().unwrap(),
        ],
        "",
    );
    let drawn = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let book = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../book/src/diagrams/ch06-write-to-leader.svg"
    );
    assert_eq!(drawn, std::fs::read_to_string(book).unwrap());
}

/// `--step` lists what is pending, numbered, and Enter does what the network would do next
/// (what the story hides, pings and votes, goes by on the way); `q` stops early and still
/// prints how the servers ended.
#[test]
fn step_mode_lists_what_is_pending_and_enter_carries_on() {
    let out = zab(&["--step"], "\n\nq\n");
    assert!(
        out.contains("  pending at 0ms:\n     1      0ms  n1 starts\n"),
        "{out}"
    );
    assert_eq!(out.matches("\n> ").count(), 3, "{out}");
    assert!(out.contains("at the end, on each server:"));

    let all = zab(&["--step"], &"\n".repeat(10_000));
    assert!(all.contains("the story is over at "), "{all}");
    assert!(
        all.contains("c1  create /course \"follower\" on n1 → ok"),
        "{all}"
    );
}

/// `--scenario-file` replays a session's choices: with n3 crashed at the start, n2 leads
/// and commits c1's write.
#[test]
fn a_scenario_file_replays_the_choices_of_a_session() {
    let path = std::env::temp_dir().join(format!("ch06-cli-steps-{}.txt", std::process::id()));
    std::fs::write(&path, "steps\ncrash n3\n").unwrap();
    let out = zab(&["--scenario-file", path.to_str().unwrap()], "");
    std::fs::remove_file(&path).unwrap();
    assert!(out.contains("  n2  LEADING "), "{out}");
    assert!(out.contains("  n3  crashed "), "{out}");
    assert!(
        out.contains("c1  create /course \"follower\" on n1 → ok"),
        "{out}"
    );
}

/// The session the book suggests: the story up to the moment the leader's PROPOSAL is on its
/// way to n1, then `crash n1`. A quorum is any two of the three, so the leader commits with
/// slow n2's ACK instead of n1's; and c1, whose server died after forwarding its write, is
/// told nothing: it cannot know its write is in.
const CRASH_SESSION: &str = "until 1540\ncrash n1\nuntil 1700\nsteps\nq\n";

/// What follows `marker` in `text`, up to the next prompt (or the end).
fn after<'t>(text: &'t str, marker: &str) -> &'t str {
    let from = text.find(marker).expect("the marker is there") + marker.len();
    let to = text[from..].find("> ").map_or(text.len(), |k| from + k);
    &text[from..to]
}

#[test]
fn step_crashes_the_follower_that_forwarded_a_write_and_the_write_commits_without_it() {
    let session = zab(
        &["--scenario", "write-to-follower", "--step"],
        CRASH_SESSION,
    );
    assert!(
        session.contains("n3 • commits 0x100000002: acked by n2 n3"),
        "{session}"
    );
    let told = "c1  create /course \"follower\" on n1 → no answer\n";
    assert!(session.ends_with(told), "{session}");
    insta::with_settings!({ omit_expression => true, prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("step-crash-follower", session);
    });

    // The file `steps` printed replays the session, then the run goes on to its end: the same
    // servers, the same answer.
    let path = std::env::temp_dir().join(format!("ch06-cli-session-{}.txt", std::process::id()));
    std::fs::write(&path, after(&session, "> steps\n")).unwrap();
    let replayed = zab(&["--scenario-file", path.to_str().unwrap()], "");
    std::fs::remove_file(&path).unwrap();
    let ending = "at the end, on each server:\n";
    assert!(
        after(&replayed, ending).starts_with(after(&session, ending)),
        "{replayed}"
    );
}
