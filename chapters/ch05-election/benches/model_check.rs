//! How fast the model checker explores chapter 5's election, and how far it gets: a benchmark,
//! not a test.
//!
//! Run: `cargo bench -p ch05-election --bench model_check`. Prints a Markdown table: states
//! generated, distinct states, depth (`(all)` when every reachable state was explored),
//! seconds, states generated per second. The two rows with one message per link are
//! exhaustive but elect nobody: a vote sent stays on its link (the network duplicates), so one
//! per link leaves no server a second vote to switch with.

use ch04_paxos::sim::checker::Report;
use ch05_election::model_check::{self, Bounds, Flaw, DEFAULT};
use ch05_election::sim::Server;

fn main() {
    let fault_free = Bounds {
        crashes: 0,
        ..DEFAULT
    };
    let one_per_link = Bounds {
        in_flight: Some(1),
        ..DEFAULT
    };
    let runs: [(&str, Option<Flaw>, Bounds, Option<usize>); 7] = [
        ("no crashes, depth 6", None, fault_free, Some(6)),
        ("no crashes, depth 8", None, fault_free, Some(8)),
        ("a restart, depth 6", None, DEFAULT, Some(6)),
        ("a restart, depth 7", None, DEFAULT, Some(7)),
        (
            "no crashes, 1 message per link, every state",
            None,
            Bounds {
                crashes: 0,
                ..one_per_link
            },
            None,
        ),
        (
            "a restart, 1 message per link, every state",
            None,
            one_per_link,
            None,
        ),
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
