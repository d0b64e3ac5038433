//! How fast the model checker explores chapter 5's election, and how far it gets: a benchmark,
//! not a test.
//!
//! Run: `cargo bench -p ch05-election --bench model_check` (about ten minutes on two shared
//! cores; `-- --quick` leaves out the one-crash run). Prints a Markdown table (states generated,
//! distinct states, depth, `(all)` when every reachable state was explored, seconds, states
//! generated per second) and, on a full run, writes it to
//! `chapters/ch05-election/benches/measured.txt`, which the book's appendix includes.
//!
//! The network is the command's default: one ordered connection per pair of servers behind a
//! send queue of one message. The last two rows are the older duplicating network, to a depth:
//! there a vote sent stays on its link for good, and the states never end.

use std::fmt::Write;

use ch04_paxos::sim::checker::Report;
use ch05_election::model_check::{self, Bounds, ElectionNetwork, Flaw, DEFAULT};
use ch05_election::sim::Server;

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let fault_free = Bounds {
        crashes: 0,
        ..DEFAULT
    };
    let duplicating = Bounds {
        network: ElectionNetwork::Duplicating,
        ..DEFAULT
    };
    let mut runs: Vec<(&str, Option<Flaw>, Bounds, Option<usize>)> = vec![
        (
            "no crashes, one round, every state",
            None,
            Bounds {
                rounds: 1,
                ..fault_free
            },
            None,
        ),
        ("no crashes, every state", None, fault_free, None),
        (
            "no crashes, flaw SidBeforeLog",
            Some(Flaw::SidBeforeLog),
            fault_free,
            None,
        ),
        (
            "a restart, flaw SidBeforeLog",
            Some(Flaw::SidBeforeLog),
            DEFAULT,
            None,
        ),
    ];
    if !quick {
        runs.push((
            "a restart (`--model-check`), every state",
            None,
            DEFAULT,
            None,
        ));
    }
    runs.push((
        "duplicating network, a restart, depth 6",
        None,
        duplicating,
        Some(6),
    ));
    runs.push((
        "duplicating network, no crashes, depth 7",
        None,
        Bounds {
            crashes: 0,
            ..duplicating
        },
        Some(7),
    ));
    let mut table = format!("{}\n", Report::<Server>::BENCH_HEADER);
    println!("{}", Report::<Server>::BENCH_HEADER);
    for (name, flaw, bounds, depth) in runs {
        let outcome = model_check::run(flaw, bounds, depth, "unused", None).expect("replays");
        let row = outcome.report.bench_row(name);
        println!("{row}");
        writeln!(table, "{row}").expect("a string");
    }
    if !quick {
        let file = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/measured.txt");
        std::fs::write(file, table).expect("the bench writes its table");
        println!("written to {file}");
    }
}
