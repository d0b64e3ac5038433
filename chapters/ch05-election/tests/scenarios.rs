//! Every scenario of the chapter, pinned: its trace (what the book shows)
//! and its sequence diagram (`book/src/diagrams/ch05-<scenario>.svg`, or
//! `ch05-<scenario>-1.svg`, `-2.svg`, ... when it is long enough to be cut
//! into phases).
//!
//! A changed diagram fails the test; regenerate them all with
//! `KEEPER_BLESS=1 cargo test -p ch05-election --test all scenarios::`, then look
//! at them before committing.

use ch01_znode::Sid;
use ch04_paxos::sim::Millis;
use ch05_election::render::{diagrams, transcript, turning_points};
use ch05_election::sim::{run, setup, ScenarioName};
use std::path::PathBuf;

const SEED: u64 = 1;

fn transcript_of(name: ScenarioName) -> (String, Vec<String>, Option<String>) {
    let setup = setup(name, 5);
    let run = run(&setup, SEED).expect("no invariant breaks");
    assert!(run.settled, "{}: every server decides", name.as_str());
    let title = format!("ch05 {}", name.as_str());
    // The book folds the runs it prints away and shows their turning points above them; for
    // the crash, from the crash on. The partition and the observer are shown as diagrams only.
    let window_ms = match name {
        ScenarioName::FirstStart | ScenarioName::Restart => Some(0..Millis::MAX),
        ScenarioName::LeaderCrash => Some(2_500..Millis::MAX),
        ScenarioName::Partition | ScenarioName::Observer | ScenarioName::Checked => None,
    };
    (
        transcript(&setup, SEED, &run, false),
        diagrams(&title, &run),
        window_ms.map(|w| turning_points(&setup, SEED, &run, w)),
    )
}

fn check(name: ScenarioName) {
    let (text, parts, short) = transcript_of(name);
    if let Some(short) = short {
        insta::with_settings!({ omit_expression => true, prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!(format!("{}-turning-points", name.as_str()), short);
        });
    }
    insta::with_settings!({ omit_expression => true, prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(name.as_str(), text);
    });
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../book/src/diagrams");
    let whole = dir.join(format!("ch05-{}.svg", name.as_str()));
    let part = |i: usize| dir.join(format!("ch05-{}-{i}.svg", name.as_str()));
    let files: Vec<PathBuf> = match parts.len() {
        1 => vec![whole.clone()],
        n => (1..=n).map(part).collect(),
    };
    if std::env::var_os("KEEPER_BLESS").is_some() {
        // A diagram that became longer or shorter leaves no stale file behind.
        let _ = std::fs::remove_file(&whole);
        (1..)
            .map(part)
            .take_while(|p| std::fs::remove_file(p).is_ok())
            .for_each(drop);
        for (path, svg) in files.iter().zip(&parts) {
            std::fs::write(path, svg).expect("write the diagram");
        }
    }
    for (path, svg) in files.iter().zip(&parts) {
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == *svg,
            "{} is stale: rerun with KEEPER_BLESS=1",
            path.display()
        );
    }
    if parts.len() > 1 {
        assert!(
            !whole.exists(),
            "{} is left over from before the split",
            whole.display()
        );
    }
}

/// The seed's picture: 1 and 2 stay LOOKING, 3 leads once 3 of 5 vote for it,
/// 4 and 5 learn the leader from FOLLOWING/LEADING replies. (election.md §8)
#[test]
fn first_start_elects_the_third_of_five() {
    check(ScenarioName::FirstStart);
}

/// The highest (epoch, zxid, sid) wins a restart. (election.md §9)
#[test]
fn restart_elects_the_most_up_to_date() {
    check(ScenarioName::Restart);
}

/// Followers notice the silent leader, elect the best of the rest; the old
/// leader returns and follows. (election.md §9)
#[test]
fn leader_crash_elects_a_new_leader_and_the_old_one_follows() {
    check(ScenarioName::LeaderCrash);
}

/// A minority cannot elect; after the heal it joins the majority's leader.
/// (election.md §9, "Minority survives")
#[test]
fn partition_minority_waits_then_joins() {
    check(ScenarioName::Partition);
}

/// An observer learns the leader without being counted. (election.md §1, §5)
#[test]
fn observer_observes_and_never_counts() {
    check(ScenarioName::Observer);
}

/// The first start's leader is the middle server for any odd size: the
/// first one whose vote completes a quorum.
#[test]
fn first_start_leader_is_the_first_to_complete_a_quorum() {
    for n in [1u64, 3, 5, 7, 9] {
        let setup = setup(ScenarioName::FirstStart, n);
        let run = run(&setup, 7).unwrap();
        let leader: Vec<Sid> = run
            .status
            .iter()
            .filter(|(_, s)| s == "Mode: leader")
            .map(|(sid, _)| *sid)
            .collect();
        assert_eq!(leader, vec![Sid(n / 2 + 1)], "{n} servers");
    }
}

/// `--json` prints one JSON object per event: notes, deliveries and state
/// changes carry ZooKeeper's words (states in capitals, zxids in hex).
#[test]
fn the_json_trace_is_one_object_per_event() {
    let setup = setup(ScenarioName::FirstStart, 5);
    let run = run(&setup, SEED).unwrap();
    let text = ch04_paxos::sim::render::json_lines(&run.story);
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(events.len(), run.story.len());
    let leads = events
        .iter()
        .find(|e| {
            e["kind"] == "note" && e["note"]["what"] == "decided" && e["note"]["state"] == "LEADING"
        })
        .expect("a leader is elected");
    assert_eq!(leads["node"], 3);
    let vote = events
        .iter()
        .find(|e| e["kind"] == "deliver")
        .expect("a delivery");
    assert_eq!(vote["msg"]["type"], "notification");
    assert_eq!(vote["msg"]["vote"]["zxid"], "0x0");
}
