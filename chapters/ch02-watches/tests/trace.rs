//! The seed's demo, as the trace and as the terminal shows it: the snapshots the book includes.

use ch02_watches::demo::{replay, PERSISTENT_DEMO, SEED_DEMO};
use ch02_watches::render::{render, Format};

fn plain(events: &[ch02_watches::trace::Event]) -> String {
    let lines: Vec<String> = events.iter().map(|e| render(e, Format::Plain)).collect();
    lines.join("\n")
}

#[test]
fn seed_demo_trace() {
    let (_, trace) = replay(SEED_DEMO);
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!(plain(&trace));
    });
}

#[test]
fn seed_demo_transcript() {
    let (text, _) = replay(SEED_DEMO);
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!(text);
    });
}

#[test]
fn persistent_demo_transcript() {
    let (text, _) = replay(PERSISTENT_DEMO);
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!(text);
    });
}

#[test]
fn the_seed_demo_fires_each_watch_once() {
    // The seed: "注册一次，只能监听一次". B's two watches fire once each: two node events.
    let (text, _) = replay(SEED_DEMO);
    let node_events: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("WatchedEvent") && !l.contains("type:None"))
        .collect();
    assert_eq!(
        node_events,
        [
            "WatchedEvent state:SyncConnected type:NodeDataChanged path:/sanguo",
            "WatchedEvent state:SyncConnected type:NodeChildrenChanged path:/sanguo",
        ]
    );
}

#[test]
fn json_is_one_object_per_event() {
    let (_, trace) = replay(SEED_DEMO);
    for event in &trace {
        let line = render(event, Format::Json);
        let value: serde_json::Value = serde_json::from_str(&line).expect("valid JSON");
        assert!(value.get("kind").is_some(), "{line}");
    }
}

#[test]
fn the_replay_is_deterministic() {
    assert_eq!(replay(SEED_DEMO), replay(SEED_DEMO));
}

/// The diagram in the book, re-rendered from the same run. To accept a change:
/// `KEEPER_BLESS=1 cargo test -p ch02-watches --test all trace::`, then look at it.
#[test]
fn seed_demo_diagram() {
    let (_, trace) = replay(SEED_DEMO);
    let fresh = ch02_watches::diagram::svg(
        "ch02: B watches /sanguo, A changes it (cargo run -p ch02-watches -- --trace)",
        &trace,
    );
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../book/src/diagrams/ch02-seed-demo.svg"
    );
    if std::env::var_os("KEEPER_BLESS").is_some() {
        std::fs::write(path, &fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e}; run with KEEPER_BLESS=1 to create it"));
    assert!(
        committed == fresh,
        "{path} is not the run the snapshot shows; rerun with KEEPER_BLESS=1 and review it"
    );
}

/// What the book shows above the whole persistent-watch session: the same lines without the
/// blank and `WATCHER::` lines zkCli prints around each event, so each event is one line under
/// the prompt of the client that heard it, and without the connection events (`type:None`).
/// Cut from the same run as the transcript.
#[test]
fn persistent_demo_events() {
    let (text, _) = replay(PERSISTENT_DEMO);
    let events: Vec<&str> = text
        .lines()
        .filter(|l| !l.is_empty() && *l != "WATCHER::" && !l.ends_with("type:None path:null"))
        .collect();
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!(events.join("\n"));
    });
}
