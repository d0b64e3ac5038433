//! One run of chapter 3's load generator ([`ch03_sessions::client::bench`]) with a bound, as
//! every side-by-side bench drives a server: create, set and get over the same nodes.
//! Shared by the root's benches (included by `#[path]`, as benches are separate crates).

use std::time::Duration;

use ch03_sessions::client::bench::{run, BenchConfig, OpReport};

/// The longest one run may take: a wedged server fails the bench instead of hanging it.
pub const LOAD_BOUND: Duration = Duration::from_secs(600);

/// Runs `config` to its end on `runtime`; an error names the server.
pub fn load(
    runtime: &tokio::runtime::Runtime,
    config: &BenchConfig,
) -> Result<Vec<OpReport>, String> {
    runtime.block_on(async {
        match tokio::time::timeout(LOAD_BOUND, run(config)).await {
            Ok(Ok(reports)) => Ok(reports),
            Ok(Err(e)) => Err(format!("{}: {e}", config.server)),
            Err(_) => Err(format!("{}: no end after {LOAD_BOUND:?}", config.server)),
        }
    })
}

/// A run's reports as a markdown table under `title`.
pub fn print_reports(title: &str, reports: &[OpReport]) {
    println!("\n{title}:\n{}", OpReport::TABLE_HEADER);
    for r in reports {
        println!("{r}");
    }
}
