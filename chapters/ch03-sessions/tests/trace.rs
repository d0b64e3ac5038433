//! The chapter's trace, run against a real server over loopback TCP and checked line by line.

use ch03_sessions::trace::{self, Event, TraceOptions};

#[test]
fn the_scripted_session_trace_matches_its_snapshot() {
    let events = trace::run(TraceOptions {
        seed: 0,
        bytes: false,
    })
    .expect("the script runs");
    let text: Vec<String> = events.iter().map(Event::to_string).collect();
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!("trace", text.join("\n"));
    });
}

#[test]
fn the_same_seed_gives_the_same_trace() {
    let run = |seed| trace::run(TraceOptions { seed, bytes: false }).expect("the script runs");
    assert_eq!(run(7), run(7));
    assert_ne!(run(7), run(8), "the seed is in the session ids");
}

#[test]
fn with_bytes_the_connect_request_is_45_bytes_after_its_length() {
    // client-protocol.md §3: 4+8+4+8+(4+16)+1 = 45, so the frame starts 00 00 00 2d.
    let events = trace::run(TraceOptions {
        seed: 0,
        bytes: true,
    })
    .expect("the script runs");
    let Event::Frame { hex: Some(hex), .. } = &events[0] else {
        panic!("the first event is the ConnectRequest frame");
    };
    assert!(hex.starts_with("00 00 00 2d 00 00 00 00"), "{hex}");
    assert_eq!(hex.split(' ').count(), 4 + 45);
}
