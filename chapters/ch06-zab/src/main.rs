//! `cargo run -p ch06-zab -- --check --seeds 10000`: Zab over thousands of faulty runs.
//!
//! `--check` runs the chapter's checkers ([`ch06_zab::check`]) over `--seeds N` seeds
//! (from `--first-seed`), with `--servers 3` or `5` voters (without it, even seeds run 3
//! and odd seeds 5). It prints every seed that broke a promise, with the command that replays
//! it, then a summary. `--check --seed N` runs one seed; `--trace` prints its trace.

use std::process::ExitCode;
use std::time::Instant;

use ch04_paxos::sim::flags::SimFlags;
use ch04_paxos::sim::render;
use ch06_zab::check::{self, SeedResult};
use clap::Parser;

#[derive(Parser, Debug)]
#[command(about = "Zab, the write path, in the simulator")]
struct Args {
    /// Print the run as it happens, one event per line.
    #[arg(long)]
    trace: bool,
    /// Check the invariants and the clients' histories over faulty runs.
    #[arg(long)]
    check: bool,
    /// With --check: how many seeds to run (without it, only --seed).
    #[arg(long)]
    seeds: Option<u64>,
    /// With --check --seeds: the first seed.
    #[arg(long, default_value_t = 0)]
    first_seed: u64,
    /// Voting servers: 3 or 5 (with --check --seeds and no --servers: 3 and 5 in turn).
    #[arg(long, value_parser = clap::value_parser!(u64).range(3..=5))]
    servers: Option<u64>,
    #[command(flatten)]
    run: SimFlags,
}

fn main() -> ExitCode {
    let args = Args::parse();
    colored::control::set_override(args.run.wants_color());
    if !args.check {
        eprintln!("nothing to do: try --check --seeds 10000");
        return ExitCode::FAILURE;
    }
    match args.seeds {
        Some(n) => check_many(args.first_seed..args.first_seed + n, args.servers),
        None => check_one(&args),
    }
}

/// Every seed of `seeds`: the failures with their replay commands, then a summary.
fn check_many(seeds: std::ops::Range<u64>, servers: Option<u64>) -> ExitCode {
    let started = Instant::now();
    let report = check::run(seeds, servers);
    println!("{report}");
    println!("time: {:.1} s", started.elapsed().as_secs_f64());
    match report.is_clean() {
        true => ExitCode::SUCCESS,
        false => ExitCode::FAILURE,
    }
}

/// One seed, traced if asked.
fn check_one(args: &Args) -> ExitCode {
    let seed = args.run.seed;
    let servers = args.servers.unwrap_or(check::servers_for(seed));
    let (sim, result) = check::replay(seed, servers);
    if args.trace {
        match args.run.json {
            true => print!("{}", render::json_lines(sim.trace())),
            false => print!("{}", render::plain(sim.trace())),
        }
    }
    match result {
        SeedResult::Passed(counts) => {
            let counts: Vec<String> = counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
            println!(
                "seed {seed} ({servers} servers): every promise kept ({})",
                counts.join(", ")
            );
            ExitCode::SUCCESS
        }
        SeedResult::Failed(failure) => {
            println!("{failure}");
            ExitCode::FAILURE
        }
        SeedResult::Unknown { why, .. } => {
            println!("seed {seed}: unknown: {why}");
            ExitCode::FAILURE
        }
    }
}
