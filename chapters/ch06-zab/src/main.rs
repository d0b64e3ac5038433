//! `cargo run -p ch06-zab -- --trace`: watch a write travel through Zab.
//!
//! Runs one of the chapter's scenarios in the simulator (`--scenario`, `--seed`) and tells it
//! (`--trace`, `--json`, `--svg FILE`, `--step`, `--all`). Without `--trace` it prints how the
//! run ended. With `--listen`, runs one real server over TCP instead
//! ([`ch06_zab::tcp::cli`]).

use std::io::BufRead;
use std::process::ExitCode;

use ch04_paxos::sim::flags::{pause, SimFlags};
use ch04_paxos::sim::render::json_lines;
use ch04_paxos::sim::Event;
use ch06_zab::render::{diagram, ending, filter, header, line, story_text, transcript, Story};
use ch06_zab::scenarios::{run, setup, Run, ScenarioName, Setup};
use ch06_zab::tcp::cli::ListenFlags;
use clap::Parser;

#[derive(Parser, Debug)]
#[command(about = "Zab, the write path, in the simulator")]
struct Args {
    /// Print the run as it happens, one event per line.
    #[arg(long)]
    trace: bool,
    /// Which story to run.
    #[arg(long, value_enum, default_value = "write-to-follower")]
    scenario: ScenarioName,
    /// Show every event: each election notification, ping, timer and send.
    #[arg(long, visible_alias = "verbose")]
    all: bool,
    /// Switch on a deliberate bug (lab 6.2): followers log a DIFF's txns only after UPTODATE,
    /// as before ZOOKEEPER-3911.
    #[arg(long)]
    flaw: bool,
    #[command(flatten)]
    run: SimFlags,
    #[command(flatten)]
    listen: ListenFlags,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let color = args.run.wants_color();
    colored::control::set_override(color);
    // Other modes (checking many fault seeds, a real peer over TCP) branch off here.
    if args.listen.listen.is_some() {
        return ch06_zab::tcp::cli::run(&args.listen, color);
    }
    simulate(&args, color)
}

/// One scenario in the simulator, told as the flags ask.
fn simulate(args: &Args, color: bool) -> ExitCode {
    let mut setup = setup(args.scenario);
    if args.flaw {
        setup.config.flaw = Some(ch06_zab::peer::Flaw::LogSyncAfterUpToDate);
    }
    let seed = args.run.seed;
    if args.run.step {
        return step_by_step(&setup, seed, args.all, color);
    }
    let run = match run(&setup, seed) {
        Ok(run) => run,
        Err(violation) => {
            eprintln!("{violation}");
            return ExitCode::FAILURE;
        }
    };
    let story = match args.all {
        true => Story::everything(),
        false => Story::new(),
    }
    .tell(run.sim.trace());
    if let Some(path) = &args.run.svg {
        let title = format!("ch06 {}", setup.name.as_str());
        if let Err(e) = std::fs::write(path, diagram(&title, &setup, &story, &run.sim.ids())) {
            eprintln!("cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    if args.run.json {
        print!("{}", json_lines(&story));
    } else if args.trace && args.all {
        println!("{}\n", header(&setup, seed));
        print!("{}", story_text(&story, true, color));
        println!();
        print!("{}", ending(&run, color));
    } else if args.trace {
        print!("{}", transcript(&setup, seed, &story, &run, color));
    } else {
        println!("{}\n", header(&setup, seed));
        print!("{}", ending(&run, color));
        println!("\n(add --trace to watch the run, --step to walk through it)");
    }
    ExitCode::SUCCESS
}

/// Runs the scenario one event at a time, pausing after each message delivered.
fn step_by_step(setup: &Setup, seed: u64, all: bool, color: bool) -> ExitCode {
    let mut sim = setup.sim(seed);
    let story = match all {
        true => Story::everything(),
        false => Story::new(),
    };
    let filter = filter(all);
    let mut shown = 0;
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    println!(
        "{}\n(Enter: next delivery, q then Enter: stop)\n",
        header(setup, seed)
    );
    while sim.next_at().is_some_and(|at| at <= setup.end_ms) {
        if let Err(v) = sim.step() {
            eprintln!("{v}");
            return ExitCode::FAILURE;
        }
        let mut delivered = false;
        for e in &sim.trace()[shown..] {
            let Some(e) = story.show(e) else { continue };
            if filter.shows(&e.event) {
                println!("{}", line(&e, color));
                delivered |= matches!(e.event, Event::Deliver { .. });
            }
        }
        shown = sim.trace().len();
        if delivered && !pause(&mut lines) {
            break;
        }
    }
    println!();
    print!("{}", ending(&Run { sim }, color));
    ExitCode::SUCCESS
}
