//! How fast the model checker explores chapter 4's Paxos, and how long each configuration takes
//! to exhaust: a benchmark, not a test (the exhaustive default run takes minutes).
//!
//! Run: `cargo bench -p ch04-paxos --bench model_check` (add `-- full` for the exhaustive
//! 3-acceptor run). Prints a Markdown table: states generated, distinct states, depth, seconds,
//! states generated per second.

use ch04_paxos::model_check::{self, Bounds, DEFAULT};
use ch04_paxos::paxos::{Flaw, Paxos};
use ch04_paxos::sim::checker::Report;

fn main() {
    let full = std::env::args().any(|a| a == "full");
    let one = Bounds { acceptors: 1, ..DEFAULT };
    let duplicating = Bounds { duplicating: true, ..DEFAULT };
    let mut runs: Vec<(&str, Option<Flaw>, Bounds, Option<usize>)> = vec![
        ("1 acceptor, every state", None, one, None),
        ("1 acceptor, flaw PromiseHidesAccepted", Some(Flaw::PromiseHidesAccepted), one, None),
        ("1 acceptor, duplicating, every state", None, Bounds { duplicating: true, ..one }, None),
        ("3 acceptors, depth 14", None, DEFAULT, Some(14)),
        ("3 acceptors, duplicating, depth 14", None, duplicating, Some(14)),
        ("3 acceptors, flaw PromiseHidesAccepted", Some(Flaw::PromiseHidesAccepted), DEFAULT, None),
    ];
    if full {
        runs.push(("3 acceptors, every state", None, DEFAULT, None));
    }
    println!("{}", Report::<Paxos>::BENCH_HEADER);
    for (name, flaw, bounds, depth) in runs {
        let outcome = model_check::run(flaw, bounds, depth, "unused", None).expect("replays");
        println!("{}", outcome.report.bench_row(name));
    }
}
