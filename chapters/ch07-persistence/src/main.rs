//! `cargo run -p ch07-persistence -- --trace`: watch txns reach the disk, and a crash.
//!
//! Tells [`ch07_persistence::story`] in a temporary dataDir (or in `--data-dir DIR`, to look
//! at the files afterwards with ZooKeeper's `zkTxnLogToolkit.sh` and `zkSnapShotToolkit.sh`):
//! a group commit, a snapshot that rolls the log, a crash with an unsynced group, recovery.
//! `--seed` picks the sizes; `--json` prints one JSON object per event; `--dump` prints every
//! file the story left, as `keeper txnlog` and `keeper snapshot -d` (ZooKeeper's own
//! `TxnLogToolkit` and `SnapshotFormatter`) print them. `--crash-drill` tells no story: it
//! kills the storage before each file system call it makes and recovers each time
//! ([`ch07_persistence::crash_drill`]; it needs strace).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use ch07_persistence::story::{tell, Told, STORY_PRE_ALLOC_SIZE};
use ch07_persistence::trace::Event;
use ch07_persistence::{crash_drill, dump, names};
use clap::Parser;
use colored::Colorize;

#[derive(Parser, Debug)]
#[command(about = "The txn log, snapshots and recovery, on a real disk")]
struct Args {
    /// Print what the disk does, one event per line.
    #[arg(long)]
    trace: bool,
    /// Picks the sizes: how many nodes, how much data, where the crash tears the log.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// One JSON object per event instead of text.
    #[arg(long)]
    json: bool,
    /// Plain text even on a terminal.
    #[arg(long)]
    no_color: bool,
    /// Print every log and snapshot the story left, as ZooKeeper's tools print them.
    #[arg(long)]
    dump: bool,
    /// Write the dataDir here (it must be empty or missing) instead of a temporary directory.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Instead of the story: kill the storage before each system call it makes (under
    /// strace), recover each time, and check what it promised.
    #[arg(long)]
    crash_drill: bool,
    /// The drill's child: run the work on this dataDir, printing what is durable.
    #[arg(long, value_name = "DIR", hide = true)]
    crash_workload: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(dir) = &args.crash_workload {
        return match crash_drill::workload(dir, &mut |mark| println!("{}", mark.line())) {
            Ok(_) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        };
    }
    if args.crash_drill {
        return run_crash_drill();
    }
    let color = !args.no_color && !args.json && std::io::stdout().is_terminal();
    colored::control::set_override(color);
    let temp;
    let dir = match &args.data_dir {
        Some(dir) => {
            let empty = std::fs::read_dir(dir).map_or(true, |mut d| d.next().is_none());
            if !empty {
                eprintln!(
                    "{} is not empty; the story needs a fresh dataDir",
                    dir.display()
                );
                return ExitCode::FAILURE;
            }
            dir.clone()
        }
        None => match tempfile::tempdir() {
            Ok(t) => {
                temp = t;
                temp.path().to_path_buf()
            }
            Err(e) => {
                eprintln!("cannot make a temporary dataDir: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    let told = match tell(&dir, args.seed) {
        Ok(told) => told,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    if args.json {
        for event in &told.events {
            println!(
                "{}",
                serde_json::to_string(event).expect("events serialize")
            );
        }
        return ExitCode::SUCCESS;
    }
    println!("{}\n", header(args.seed));
    if args.trace {
        for event in &told.events {
            println!("{}", line(event));
        }
        println!();
    }
    println!("{}", ending(&told));
    if args.dump {
        return dump_files(&dir);
    }
    if !args.trace {
        println!("\n(add --trace to watch the disk, --dump to read the files)");
    }
    ExitCode::SUCCESS
}

/// The crash drill, with this binary as the child; prints how many crashes it drilled and
/// each that broke a promise.
fn run_crash_drill() -> ExitCode {
    match std::env::current_exe().and_then(|me| crash_drill::run(&me)) {
        Ok(drilled) => {
            let calls: Vec<String> = (drilled.crashes.iter())
                .filter(|(_, n)| *n > 0)
                .map(|(call, n)| format!("{call} {n}"))
                .collect();
            println!(
                "killed before each of its {} file system calls ({}), and recovered",
                drilled.total(),
                calls.join(", ")
            );
            for (call, k, why) in &drilled.broken {
                println!("killed before {call} #{k}: {why}");
            }
            match drilled.broken.len() {
                0 => {
                    println!("every recovery found a state the work built, every durable one kept");
                    ExitCode::SUCCESS
                }
                n => {
                    println!("{n} of {} crashes broke a promise", drilled.total());
                    ExitCode::FAILURE
                }
            }
        }
        Err(e) => {
            eprintln!("the drill could not run: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Each log, then each snapshot, the story left in `dir`, as ZooKeeper's tools print them.
fn dump_files(dir: &std::path::Path) -> ExitCode {
    let v2 = dir.join(names::VERSION_DIR);
    let (logs, snapshots) = match (
        names::list(&v2, names::LOG_PREFIX),
        names::list(&v2, names::SNAPSHOT_PREFIX),
    ) {
        (Ok(logs), Ok(snapshots)) => (logs, snapshots),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    for (_, path) in &logs {
        println!("\n$ keeper txnlog {}", names::short(path));
        if dump::txnlog(path, dump::Mode::Dump { data: true }) != 0 {
            return ExitCode::FAILURE;
        }
    }
    for (_, path) in &snapshots {
        println!("\n$ keeper snapshot -d {}", names::short(path));
        if dump::snapshot(path, dump::Mode::Dump { data: true }) != 0 {
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

fn header(seed: u64) -> String {
    format!(
        "ch07 persistence, seed {seed}: one server, one dataDir, preAllocSize {} KiB",
        STORY_PRE_ALLOC_SIZE / 1024
    )
}

/// An event as a trace line, coloured by what it means for durability.
fn line(event: &Event) -> String {
    let text = event.to_string();
    let text = match event {
        Event::Synced { .. } | Event::Acknowledged { .. } => text.green().to_string(),
        Event::Crashed { .. } => text.red().bold().to_string(),
        Event::TailCut { .. } | Event::SnapshotSkipped { .. } | Event::EmptyLogRemoved { .. } => {
            text.yellow().to_string()
        }
        Event::SnapshotWritten { .. } | Event::SnapshotLoaded { .. } | Event::Rolled { .. } => {
            text.magenta().to_string()
        }
        Event::Recovered { .. } => text.cyan().bold().to_string(),
        _ => text,
    };
    format!("  {text}")
}

fn ending(told: &Told) -> String {
    let verdict = if told.recovered >= told.acknowledged {
        "nothing acknowledged was lost".green()
    } else {
        "an acknowledged write was lost".red().bold()
    };
    format!(
        "acknowledged up to {}, recovered up to {}: {verdict}",
        told.acknowledged, told.recovered
    )
}
