//! How fast the model checker explores chapter 6's Zab ensemble, how far it gets, and how long
//! the configurations it can exhaust take: a benchmark, not a test.
//!
//! Run: `cargo bench -p ch06-zab --bench model_check` (about seven minutes on two cores, most
//! of it the last row). The exhaustive rows with a crash are a crash for good
//! (`--no-restarts`, with and without its failover) and a crash and restart in one election
//! round, the two largest depth first on two threads, as breadth first would hold their
//! frontiers in memory (the last one's outgrows 12 GB): with a restart and two rounds, the
//! search does not end in hours (chapter 6's "What ends, and what does not"); the rows with and
//! without false suspicions, to the same depth, show what leaving them out saves. Prints a Markdown
//! table: states generated, distinct states, depth (past the walked first election; `(all)`
//! when every reachable state was explored), seconds, states generated per second.

use ch04_paxos::sim::checker::{Order, Report, Search};
use ch06_zab::model_check::{self, Bounds, Restarts, DEFAULT};
use ch06_zab::peer::Flaw;
use ch06_zab::sim::Node;

/// The allocator of the chapter's binary, so the bench measures the searches as they run there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let no_crash = Bounds {
        crashes: 0,
        ..DEFAULT
    };
    let one_in_flight = Bounds {
        in_flight: Some(1),
        ..DEFAULT
    };
    let for_good = Bounds {
        restarts: Restarts::Never,
        ..one_in_flight
    };
    let suspicious = Bounds {
        false_suspicions: true,
        ..one_in_flight
    };
    let depth_first = Search::Every {
        max_depth: None,
        order: Order::DepthFirst,
        threads: 2,
    };
    let runs: Vec<(&str, Option<Flaw>, Bounds, Search)> = vec![
        ("no crash, depth 6", None, no_crash, Search::every(Some(6))),
        ("no crash, depth 7", None, no_crash, Search::every(Some(7))),
        ("a crash, depth 5", None, DEFAULT, Search::every(Some(5))),
        ("a crash, depth 6", None, DEFAULT, Search::every(Some(6))),
        (
            "a crash, 1 vote in flight per link, false suspicions, depth 9",
            None,
            suspicious,
            Search::every(Some(9)),
        ),
        (
            "a crash, 1 vote in flight per link, depth 9",
            None,
            one_in_flight,
            Search::every(Some(9)),
        ),
        (
            "a crash, 1 vote in flight per link, depth 12",
            None,
            one_in_flight,
            Search::every(Some(12)),
        ),
        (
            "no crash, one round, 1 vote in flight per link, every state",
            None,
            Bounds {
                crashes: 0,
                rounds: 1,
                ..one_in_flight
            },
            Search::every(None),
        ),
        (
            "a crash for good, one round, 1 vote in flight per link, every state",
            None,
            Bounds {
                rounds: 1,
                ..for_good
            },
            Search::every(None),
        ),
        (
            "a crash for good, 1 vote in flight per link, depth first, every state",
            None,
            for_good,
            depth_first,
        ),
        (
            "a crash, one round, 1 vote in flight per link, depth first, every state",
            None,
            Bounds {
                rounds: 1,
                ..one_in_flight
            },
            depth_first,
        ),
    ];
    println!("{}", Report::<Node>::BENCH_HEADER);
    for (name, flaw, bounds, search) in runs {
        let outcome = model_check::run(flaw, bounds, search, "unused", None).expect("replays");
        println!("{}", outcome.report.bench_row(name));
    }
}
