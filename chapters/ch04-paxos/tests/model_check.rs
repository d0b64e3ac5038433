//! `--model-check`: the checker runs the chapter's own nodes, and what it finds the simulator
//! replays. These are bounded runs that finish in seconds; the exhaustive one is the command
//! (`cargo run --release -p ch04-paxos -- --model-check`).

use std::process::Command;

use ch04_paxos::model_check::{self, Bounds, DEFAULT};
use ch04_paxos::paxos::Flaw;
use ch04_paxos::sim::checker::{Search, Walks};
use ch04_paxos::sim::Scenario;

#[path = "support/explorer.rs"]
mod explorer;
use explorer::Explorer;

const FLAW: Option<Flaw> = Some(Flaw::PromiseHidesAccepted);
/// One acceptor: the flaw's counterexample is a dozen steps, found in milliseconds.
const ONE_ACCEPTOR: Bounds = Bounds { acceptors: 1, rounds: 1, duplicating: false };

fn ch04(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ch04-paxos")).args(args).output().expect("the binary runs")
}

fn temp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("ch04-model-check-{}-{name}", std::process::id()))
}

/// Agreement and validity hold in every state within ten steps of the start, for the chapter's
/// cluster (3 acceptors, 2 proposers), and a value can be chosen in that many: the model is not
/// safe merely by doing nothing (Lamport, "Paxos Made Simple", §2.1: only a proposed value may
/// be chosen, only one, and a learner learns only a chosen one).
#[test]
fn within_ten_steps_no_interleaving_breaks_agreement_or_validity() {
    let outcome = model_check::run(None, DEFAULT, Some(10), "unused", None).unwrap();
    let report = &outcome.report;
    assert!(report.counterexample.is_none(), "{outcome}");
    assert_eq!(report.depth, 10);
    assert!(report.unique > 5_000, "a real search: {} states", report.unique);
    assert!(
        matches!(report.examples.as_slice(), [("a value is chosen", Some(n))] if *n <= 10),
        "{outcome}"
    );
}

/// With one acceptor and one round each, the whole state space is small enough to exhaust
/// here: no reachable state breaks agreement or validity.
#[test]
fn a_small_cluster_is_safe_in_every_reachable_state() {
    let bounds = ONE_ACCEPTOR;
    let outcome = model_check::run(None, bounds, None, "unused", None).unwrap();
    assert!(outcome.report.counterexample.is_none(), "{outcome}");
    assert!(outcome.report.exhausted);
    assert!(outcome.to_string().ends_with("no counterexample"), "{outcome}");
}

/// Lab 4.1's acceptor hides what it accepted in its Promise; the checker finds two learners
/// that disagree, and the scenario file it writes makes the simulator break agreement too.
#[test]
fn the_flaws_counterexample_replayed_in_the_simulator_breaks_agreement() {
    let file = temp("counterexample.txt");
    let file_name = file.to_str().unwrap();
    let outcome = model_check::run(FLAW, ONE_ACCEPTOR, None, file_name, None).unwrap();
    let (name, path) = outcome.report.counterexample.as_ref().expect("the checker finds the flaw");
    assert_eq!(*name, "agreement");
    let (script, trace) = outcome.counterexample.as_ref().unwrap();
    assert!(trace.ends_with("VIOLATION of agreement: n1 learned \"a\" but n2 learned \"b\"\n"));
    let steps = Scenario::<(), ()>::parse(script).unwrap().steps().len();
    assert!(steps >= path.len(), "one choice per action, plus starts and copies: {steps}");

    std::fs::write(&file, script).unwrap();
    let svg = temp("counterexample.svg");
    let replay = [
        "--scenario",
        "checked",
        "--acceptors",
        "1",
        "--flaw",
        "PromiseHidesAccepted",
        "--no-color",
        "--scenario-file",
        file_name,
        "--svg",
        svg.to_str().unwrap(),
    ];
    let out = ch04(&replay);
    std::fs::remove_file(&file).unwrap();
    assert_eq!(out.status.code(), Some(1), "a broken invariant fails the run");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("invariant `agreement` violated"), "{err}");
    assert_eq!(String::from_utf8(out.stdout).unwrap(), *trace, "the same run, traced");
    let drawn = std::fs::read_to_string(&svg).unwrap();
    std::fs::remove_file(&svg).unwrap();
    assert!(drawn.starts_with("<svg") && drawn.contains("learned"), "drawn as a diagram");
}

/// What the book shows: the command's output for the flaw (the time line aside), and the file.
#[test]
fn the_command_prints_the_report_and_writes_the_file_the_book_shows() {
    let file = temp("book.txt");
    let file_name = file.to_str().unwrap();
    let args = ["--model-check", "--flaw", "PromiseHidesAccepted", "--acceptors", "1"];
    let out = ch04(&[&args[..], &["--counterexample", file_name]].concat());
    assert_eq!(out.status.code(), Some(1), "a counterexample fails the command");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let written = std::fs::read_to_string(&file).unwrap();
    std::fs::remove_file(&file).unwrap();
    let (report, rest) = stdout.split_once("\ntime: ").expect("the time follows the report");
    assert!(rest.contains("written to ") && rest.contains("--scenario-file"), "{rest}");
    // The file name is this test's; the book shows the default one.
    let written = written.replace(file_name, "counterexample.txt");
    // No expression line in the header: the book includes these whole (`:4:`).
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!("flaw_report", format!("{report}\n"));
        insta::assert_snapshot!("flaw_counterexample_file", written);
    });
}

/// Random walks find the flaw too, and shrinking cuts the walk that found it down to a path as
/// short as breadth first's (ten steps with one acceptor); the path replays in the simulator
/// to the same violation. The same seed finds the same path.
#[test]
fn random_walks_find_the_flaw_and_shrink_it_to_the_shortest_path() {
    let walks = Search::Walks(Walks { walks: 1_000, steps: 200, seed: 1 });
    let outcome = model_check::run(FLAW, ONE_ACCEPTOR, walks, "unused", None).unwrap();
    let (name, path) = outcome.report.counterexample.as_ref().expect("a walk finds the flaw");
    assert_eq!((*name, path.len()), ("agreement", 10), "{outcome}");
    let (_, trace) = outcome.counterexample.as_ref().unwrap();
    assert!(trace.ends_with("VIOLATION of agreement: n1 learned \"a\" but n2 learned \"b\"\n"));
    let again = model_check::run(FLAW, ONE_ACCEPTOR, walks, "unused", None).unwrap();
    assert_eq!(again.report.counterexample, outcome.report.counterexample, "deterministic");
}

/// Without the flaw, walks find nothing, and say how far they went.
#[test]
fn random_walks_without_the_flaw_find_nothing() {
    let walks = Search::Walks(Walks { walks: 300, steps: 200, seed: 1 });
    let outcome = model_check::run(None, DEFAULT, walks, "unused", None).unwrap();
    assert!(outcome.report.counterexample.is_none(), "{outcome}");
    assert!(!outcome.report.exhausted, "walks prove nothing");
    let text = outcome.to_string();
    assert!(text.contains("random walks:    300 of up to 200 steps, seed 1\n"), "{text}");
}

/// `--explore PORT` serves stateright's explorer on 127.0.0.1: its page, the checker's status
/// with the chapter's properties, and the start state as JSON, the cluster's five nodes in it.
#[test]
fn the_explorer_serves_the_model_on_loopback() {
    let explorer = Explorer::start(env!("CARGO_BIN_EXE_ch04-paxos"), &["--model-check"]);
    assert!(explorer.get("/").contains("<html"), "the explorer's page");
    assert_eq!(explorer.property_names(), ["agreement", "validity", "a value is chosen"]);
    let start = explorer.start_state();
    assert!(start.contains("actor_states") && start.contains("Paxos"), "{start}");
    let next: serde_json::Value = serde_json::from_str(&explorer.get("/.states/0")).unwrap();
    assert!(!next.as_array().unwrap().is_empty(), "the start has next actions");
}

/// A taken port is refused in words, not with a panic.
#[test]
fn the_explorer_on_a_taken_port_is_refused_in_words() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = ch04(&["--model-check", "--explore", &port]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.starts_with(&format!("error: cannot listen on 127.0.0.1:{port}: ")), "{err}");
}

#[test]
fn an_unknown_flaw_is_refused_with_the_names_there_are() {
    let out = ch04(&["--model-check", "--flaw", "Sloppy"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("unknown flaw `Sloppy`; choose one of: PromiseHidesAccepted"), "{err}");
}
