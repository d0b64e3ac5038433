//! How fast the model checker explores chapter 5's election, and how far it gets: a benchmark,
//! not a test.
//!
//! Run: `cargo bench -p ch05-election --bench model_check`. Prints a Markdown table: states
//! generated, distinct states, depth, seconds, states generated per second.

use ch04_paxos::sim::checker::Report;
use ch05_election::model_check::{self, Bounds, Flaw, DEFAULT};
use ch05_election::sim::Server;

fn main() {
    let fault_free = Bounds {
        crashes: 0,
        ..DEFAULT
    };
    let runs: [(&str, Option<Flaw>, Bounds, Option<usize>); 5] = [
        ("no crashes, depth 6", None, fault_free, Some(6)),
        ("no crashes, depth 8", None, fault_free, Some(8)),
        ("a restart, depth 6", None, DEFAULT, Some(6)),
        ("a restart, depth 7", None, DEFAULT, Some(7)),
        (
            "a restart, flaw SidBeforeLog",
            Some(Flaw::SidBeforeLog),
            DEFAULT,
            None,
        ),
    ];
    println!("{}", Report::<Server>::BENCH_HEADER);
    for (name, flaw, bounds, depth) in runs {
        let outcome = model_check::run(flaw, bounds, depth, "unused", None).expect("replays");
        println!("{}", outcome.report.bench_row(name));
    }
}
