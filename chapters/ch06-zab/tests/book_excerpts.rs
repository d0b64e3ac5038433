//! The short views the book prints above a long run, which it folds away. A run of this
//! chapter is 80 to 140 lines, most of them the election and the three phases before the part
//! a section is about; the book shows that part, cut from the same run (seed 1, what
//! `tests/scenarios.rs` pins whole) by virtual time and by kind of line, never by line number,
//! and pinned here as `NAME-key-lines`, so it cannot drift from the whole.

use ch04_paxos::sim::{Event, Millis, CLIENT_BASE};
use ch06_zab::render::{ending, header, story_text, Story, ZabEntry};
use ch06_zab::scenarios::{run, setup, ScenarioName};
use std::ops::Range;

/// The seed the book prints.
const SEED: u64 = 1;

/// Which lines of the window a short view keeps.
#[derive(Clone, Copy)]
enum Keep {
    /// Every line of the story.
    All,
    /// All but the packets that went from server to server as sent: the plumbing between
    /// what the servers concluded. Faults, lost packets, notes, state changes and every
    /// client's requests and replies stay.
    Key,
}

impl Keep {
    fn keeps(self, e: &ZabEntry) -> bool {
        match (self, &e.event) {
            (Keep::All, _) => true,
            (Keep::Key, Event::Deliver { from, to, .. }) => {
                *from >= CLIENT_BASE || *to >= CLIENT_BASE
            }
            (Keep::Key, _) => true,
        }
    }
}

/// The header, the lines of the story in `window_ms` that `keep` keeps, and the ending.
fn short_view(name: ScenarioName, window_ms: Range<Millis>, keep: Keep) -> String {
    let setup = setup(name);
    let run = run(&setup, SEED).expect("no invariant breaks");
    let story: Vec<ZabEntry> = Story::new()
        .tell(run.sim.trace())
        .into_iter()
        .filter(|e| window_ms.contains(&e.at) && keep.keeps(e))
        .collect();
    assert!(
        !story.is_empty(),
        "{}: nothing in the window",
        name.as_str()
    );
    format!(
        "{}\n\n{}\n{}",
        header(&setup, SEED),
        story_text(&story, false, false),
        ending(&run, false)
    )
}

fn pin(name: ScenarioName, window_ms: Range<Millis>, keep: Keep) {
    let text = short_view(name, window_ms, keep);
    insta::with_settings!({ omit_expression => true, prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(format!("{}-key-lines", name.as_str()), text);
    });
}

#[test]
fn write_to_follower_from_the_write_on() {
    // The book walks through the write line by line: every line from c1's request on.
    pin(ScenarioName::WriteToFollower, 1_500..Millis::MAX, Keep::All);
}

#[test]
fn leader_crash_minority_ack_from_the_partition_to_the_trunc() {
    pin(
        ScenarioName::LeaderCrashMinorityAck,
        2_000..13_100,
        Keep::Key,
    );
}

#[test]
fn leader_crash_majority_ack_from_the_write_to_the_new_leader() {
    pin(
        ScenarioName::LeaderCrashMajorityAck,
        2_000..12_400,
        Keep::Key,
    );
}

#[test]
fn sync_read_from_the_write_on() {
    // The stale read, the sync and the fresh read, every line.
    pin(ScenarioName::SyncRead, 3_500..Millis::MAX, Keep::All);
}

#[test]
fn session_moves_from_the_move_on() {
    // The reconnect, the follower's question to the leader, its answer and the read, every
    // line.
    pin(ScenarioName::SessionMoves, 2_000..Millis::MAX, Keep::All);
}

#[test]
fn a_short_view_leaves_out_only_what_it_says() {
    // The key lines of a window are its story lines minus server-to-server deliveries: the
    // notes, faults and client lines are all there.
    let all = short_view(
        ScenarioName::LeaderCrashMinorityAck,
        2_000..13_100,
        Keep::All,
    );
    let key = short_view(
        ScenarioName::LeaderCrashMinorityAck,
        2_000..13_100,
        Keep::Key,
    );
    let left_out: Vec<&str> = all.lines().filter(|l| !key.contains(l)).collect();
    assert!(!left_out.is_empty());
    for line in left_out {
        let (_, rest) = line.trim_start().split_once("ms  ").expect("a story line");
        assert!(
            rest.starts_with('n') && rest.contains(" → n") && !rest.contains('✗'),
            "left out more than a delivered server-to-server packet: {line}"
        );
    }
    assert!(key.contains("n3 ✗ crashed"));
    assert!(key.contains("syncs it by TRUNC"));
}
