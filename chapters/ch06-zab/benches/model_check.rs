//! How fast the model checker explores chapter 6's Zab ensemble, and how far it gets: a
//! benchmark, not a test.
//!
//! Run: `cargo bench -p ch06-zab --bench model_check`. Prints a Markdown table: states
//! generated, distinct states, depth (past the walked first election), seconds, states
//! generated per second.

use ch04_paxos::sim::checker::Report;
use ch06_zab::model_check::{self, Bounds, DEFAULT};
use ch06_zab::sim::Node;

fn main() {
    let no_crash = Bounds {
        crashes: 0,
        ..DEFAULT
    };
    let runs: [(&str, Bounds, usize); 4] = [
        ("no crash, depth 6", no_crash, 6),
        ("no crash, depth 7", no_crash, 7),
        ("a crash, depth 5", DEFAULT, 5),
        ("a crash, depth 6", DEFAULT, 6),
    ];
    println!("{}", Report::<Node>::BENCH_HEADER);
    for (name, bounds, depth) in runs {
        let outcome = model_check::run(None, bounds, Some(depth), "unused", None).expect("replays");
        println!("{}", outcome.report.bench_row(name));
    }
}
