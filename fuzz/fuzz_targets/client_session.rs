//! A standalone server's pipeline fed whatever clients send: any frames, on up to four
//! connections at once, with disconnects and the passing of time between them. The server
//! must answer or close, never panic, and go on serving the other connections. And it must
//! be a pure state machine: two pipelines fed the same session say the same, step by step
//! (each tree hashes its paths with keys of its own, so an answer that leaked a hash order
//! would differ).
//!
//! The input is a session (`keeper_fuzz::session`), so that the fuzzer mutates frames, not
//! the framing; `cargo run --example seeds` writes real sessions as the first corpus.
#![no_main]

use ch03_sessions::pipeline::standalone::StandalonePipeline;
use ch03_sessions::pipeline::Limits;
use ch03_sessions::session::STANDALONE_SID;
use keeper_fuzz::session::{events, Connections};
use libfuzzer_sys::fuzz_target;

fn server() -> StandalonePipeline {
    StandalonePipeline::new(2000, Limits::for_tick(2000), STANDALONE_SID, 0)
}

fuzz_target!(|bytes: &[u8]| {
    let (mut one, mut other) = (server(), server());
    let mut connections = Connections::default();
    let mut inputs = Vec::new();
    for event in events(bytes) {
        for input in connections.inputs(event) {
            inputs.push((connections.now_ms(), input));
        }
    }
    for input in connections.close_all() {
        inputs.push((connections.now_ms(), input));
    }
    for (step, (now, input)) in inputs.into_iter().enumerate() {
        let said = one.step(now, input.clone());
        assert_eq!(said, other.step(now, input), "step {step}");
    }
    assert_eq!(
        one.pipeline().tree().digest(),
        other.pipeline().tree().digest()
    );
});
