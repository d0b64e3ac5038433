//! The seed session, as a person at zkCli's prompt sees it, and as the chapter's trace.
//! Both are snapshots the book includes.

use ch01_znode::shell::repl::transcript;
use ch01_znode::trace::{fixed_shell, scenario_trace, seed_trace, SEED_SESSION};

#[test]
fn the_seed_session_prints_what_zkcli_prints() {
    let text = transcript(&mut fixed_shell(), SEED_SESSION);
    insta::with_settings!({omit_expression => true}, {
        insta::assert_snapshot!("seed_session", text);
    });
}

#[test]
fn the_seed_trace_shows_every_txn_and_stat_change() {
    let text: String = seed_trace().iter().map(|e| format!("{e}\n")).collect();
    insta::with_settings!({omit_expression => true}, {
        insta::assert_snapshot!("seed_trace", text);
    });
}

#[test]
fn the_seed_trace_as_json_is_one_object_per_event() {
    let events = seed_trace();
    let lines: Vec<String> = events
        .iter()
        .map(|e| serde_json::to_string(e).expect("events serialize"))
        .collect();
    assert_eq!(lines.len(), events.len());
    let first: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(first["event"], "txn");
    assert_eq!(
        first["zxid"], "0x1",
        "zxids travel as ZooKeeper prints them"
    );
    assert!(lines
        .iter()
        .any(|l| l.contains(r#""event":"stat_changed""#)));
}

#[test]
fn replaying_the_seed_twice_gives_the_same_trace() {
    assert_eq!(seed_trace(), seed_trace());
}

#[test]
fn a_closing_session_takes_its_servers_away() {
    let events = scenario_trace("servers").expect("the servers scenario exists");
    let text: String = events.iter().map(|e| format!("{e}\n")).collect();
    insta::with_settings!({omit_expression => true}, {
        insta::assert_snapshot!("servers_trace", text);
    });
}
