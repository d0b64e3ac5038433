//! `--model-check`: chapter 4's checker runs this chapter's servers, and what it finds the
//! simulator replays. Bounded runs that finish in seconds; the long ones are the command
//! (`cargo run --release -p ch05-election -- --model-check`).

use std::process::Command;

use ch04_paxos::sim::Scenario;
use ch05_election::model_check::{self, Bounds, Flaw, DEFAULT};

// Chapter 4 owns this helper and formats it with its own rustfmt settings.
#[rustfmt::skip]
#[path = "../../ch04-paxos/tests/support/explorer.rs"]
mod explorer;

const FAULT_FREE: Bounds = Bounds {
    crashes: 0,
    ..DEFAULT
};
const FLAW: Option<Flaw> = Some(Flaw::SidBeforeLog);

fn election(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ch05-election"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn temp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("ch05-model-check-{}-{name}", std::process::id()))
}

/// In every order of the first six events, with a server crashing and restarting at any of
/// them, no two servers lead with a quorum and no server follows a leader whose log is behind
/// its own: votes are compared epoch, then zxid, then sid, and a quorum of servers holds one of
/// the longest logs (FastLeaderElection.totalOrderPredicate; shared/reference on elections).
#[test]
fn within_five_steps_with_a_restart_no_interleaving_breaks_the_election() {
    let bounds = Bounds {
        crashes: 1,
        ..FAULT_FREE
    };
    let outcome = model_check::run(None, bounds, Some(5), "unused", None).unwrap();
    let report = &outcome.report;
    assert!(report.counterexample.is_none(), "{outcome}");
    assert_eq!(report.depth, 5);
    assert!(
        report.unique > 1_000,
        "a real search: {} states",
        report.unique
    );
}

/// Without faults and with one round, every order of events is explored to the end (votes in
/// order on each connection, a newer one replacing one not yet sent, as QuorumCnxManager's
/// send queue of one does): none breaks a property, and some elects a leader with a quorum
/// behind it, so the model is not safe merely by electing nobody.
#[test]
fn without_faults_in_one_round_every_order_is_explored_and_a_leader_is_elected() {
    let bounds = Bounds {
        rounds: 1,
        ..FAULT_FREE
    };
    let outcome = model_check::run(None, bounds, None, "unused", None).unwrap();
    let report = &outcome.report;
    assert!(report.counterexample.is_none(), "{outcome}");
    assert!(report.exhausted, "every reachable state: {outcome}");
    assert_eq!(
        report.examples,
        [("a leader is elected", Some(4))],
        "{outcome}"
    );
}

/// The flawed order lets the larger sid win whatever the logs say: n3, a txn behind, is
/// elected, and n1 follows it. The checker finds it in four steps (n3's vote to n1, n1's back,
/// both finalizeWaits), and the scenario file it writes makes the simulator break the same
/// invariant.
#[test]
fn the_flaws_counterexample_replayed_in_the_simulator_has_a_follower_ahead_of_its_leader() {
    let file = temp("counterexample.txt");
    let file_name = file.to_str().unwrap();
    let outcome = model_check::run(FLAW, FAULT_FREE, Some(6), file_name, None).unwrap();
    let (name, path) = outcome
        .report
        .counterexample
        .as_ref()
        .expect("the checker finds the flaw");
    assert_eq!(*name, "the leader's log is the longest");
    assert_eq!(path.len(), 4, "the shortest path");
    let (script, trace) = outcome.counterexample.as_ref().unwrap();
    assert!(trace.ends_with("whose log is behind its own\n"), "{trace}");
    let steps = Scenario::<(), ()>::parse(script).unwrap().steps().len();
    assert_eq!(
        steps,
        3 + path.len(),
        "three starts, then one choice per action"
    );

    std::fs::write(&file, script).unwrap();
    let svg = temp("counterexample.svg");
    let args = [
        "--trace",
        "--scenario",
        "checked",
        "--flaw",
        "SidBeforeLog",
        "--no-color",
    ];
    let out = election(
        &[
            &args[..],
            &["--scenario-file", file_name, "--svg", svg.to_str().unwrap()],
        ]
        .concat(),
    );
    std::fs::remove_file(&file).unwrap();
    let _ = std::fs::remove_file(&svg);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a broken invariant fails the run"
    );
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("invariant `the leader's log is the longest` violated"),
        "{err}"
    );
    assert!(
        err.contains("n1 follows n3, whose log is behind its own"),
        "{err}"
    );
}

/// What the book shows: the command's report for the flaw (the time line aside).
#[test]
fn the_command_prints_the_report_the_book_shows() {
    let file = temp("book.txt");
    let file_name = file.to_str().unwrap();
    let args = ["--model-check", "--no-crashes", "--flaw", "SidBeforeLog"];
    let out = election(&[&args[..], &["--counterexample", file_name]].concat());
    assert_eq!(
        out.status.code(),
        Some(1),
        "a counterexample fails the command"
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let written = std::fs::read_to_string(&file).unwrap();
    std::fs::remove_file(&file).unwrap();
    let (report, rest) = stdout
        .split_once("\ntime: ")
        .expect("the time follows the report");
    assert!(
        rest.contains("written to ") && rest.contains("--scenario-file"),
        "{rest}"
    );
    let written = written.replace(file_name, "counterexample.txt");
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!("flaw_report", format!("{report}\n"));
        insta::assert_snapshot!("flaw_counterexample_file", written);
    });
}

#[test]
fn an_unknown_flaw_is_refused_with_the_names_there_are() {
    let out = election(&["--model-check", "--flaw", "Sloppy"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("unknown flaw `Sloppy`; choose one of: SidBeforeLog"),
        "{err}"
    );
}

#[test]
fn a_flaw_outside_the_checked_scenario_is_refused() {
    let out = election(&["--trace", "--flaw", "SidBeforeLog"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("--flaw goes with --model-check or --scenario checked"),
        "{err}"
    );
}

/// `--explore PORT` serves the election's model on 127.0.0.1: its properties in the status, and
/// three servers in the start state.
#[test]
fn the_explorer_serves_the_election_on_loopback() {
    let explorer =
        explorer::Explorer::start(env!("CARGO_BIN_EXE_ch05-election"), &["--model-check"]);
    assert_eq!(explorer.property_names()[0], "one leader at a time");
    let start = explorer.start_state();
    assert!(start.contains("actor_states"), "{start}");
}

/// Behind a send queue of one, a server that re-sends its vote while the last one still waits
/// replaces it, so no link ever holds two: QuorumCnxManager's send queue (`SEND_CAPACITY` 1,
/// `addToSendQueue` drops the oldest), which this chapter's `cnx.rs` has too.
#[test]
fn a_vote_sent_again_replaces_the_one_still_waiting() {
    use ch04_paxos::sim::checker;
    use ch05_election::peer::Timer as ElectionTimer;
    use ch05_election::sim::SimTimer;
    use ch05_election::standin::Timer;
    use stateright::actor::{ActorModelAction, Id, Network};
    use stateright::Model;

    let model = model_check::model(None, FAULT_FREE);
    let start = model.init_states().remove(0);
    let resend = ActorModelAction::Timeout(
        Id::from(2),
        SimTimer::Member(Timer::Election(ElectionTimer::NotTimeout)),
    );
    let after = checker::next_state(&model, &start, resend);
    let Network::Ordered(links) = &after.expect("the timer is armed").network else {
        panic!("ordered links")
    };
    let from_n3: Vec<usize> = links
        .iter()
        .filter(|((src, _), _)| *src == Id::from(2))
        .map(|(_, queue)| queue.len())
        .collect();
    assert_eq!(from_n3, [1, 1], "one vote waits for n1 and one for n2");
}
