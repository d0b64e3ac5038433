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
