//! `cargo run -p ch04-paxos -- --trace [--scenario NAME] [--seed N] [--json] [--no-color] [--svg FILE] [--step]`
//!
//! Runs one scenario in the simulator and prints its trace: coloured on a terminal, plain when
//! piped or with `--no-color`, one JSON object per line with `--json`. `--svg FILE` also draws the
//! run as a sequence diagram. `--step` is classroom mode: one event per press of Enter.
//! `--faults FILE` adds a scenario script's crashes, partitions and network changes.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use ch04_paxos::multi;
use ch04_paxos::scenarios::{self, SCENARIOS};
use ch04_paxos::sim::flags::SimFlags;
use ch04_paxos::sim::render::{self, Filter};
use ch04_paxos::sim::{svg, Millis, Process, Scenario, Sim, Violation};
use clap::Parser;

/// Single-decree Paxos in a deterministic simulator.
#[derive(Parser, Debug)]
#[command(name = "ch04-paxos", about, after_help = scenario_help())]
struct Cli {
    /// Print the trace of the run (the default; kept for symmetry with the other chapters).
    #[arg(long)]
    trace: bool,
    /// Which scenario to run.
    #[arg(long, default_value = "basic")]
    scenario: String,
    #[command(flatten)]
    run: SimFlags,
    /// Also show when each message was sent (each message then appears twice).
    #[arg(long)]
    sends: bool,
    /// Add the faults of this scenario script (`at 40 crash n3`, `at 50 partition n1 | n2 n3`,
    /// `at 90 heal`, `at 0 drop 0.2`, `at 0 latency 5..15`...) to the scenario's own.
    #[arg(long, value_name = "FILE")]
    faults: Option<std::path::PathBuf>,
}

fn scenario_help() -> String {
    let mut s = String::from("Scenarios:\n");
    for (name, about) in SCENARIOS {
        s.push_str(&format!("  {name:<15} {about}\n"));
    }
    s.push_str("  multi           Multi-Paxos with a stable leader: phase 1 once, then one round trip per write\n");
    s
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !cli.run.wants_color() {
        colored::control::set_override(false);
    }
    if cli.scenario == "multi" {
        return run(multi::scenario(cli.run.seed), 1_000, &cli);
    }
    match scenarios::build(&cli.scenario, cli.run.seed) {
        Ok(setup) => run(setup.sim, setup.deadline, &cli),
        Err(e) => {
            eprintln!("error: {e}, multi");
            ExitCode::from(2)
        }
    }
}

/// Run `sim` to `deadline` (or step it by hand), print the trace, draw it if asked.
fn run<P: Process>(mut sim: Sim<P>, deadline: Millis, cli: &Cli) -> ExitCode {
    if let Some(path) = &cli.faults {
        let added = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))
            .and_then(|text| Scenario::parse(&text))
            .and_then(|faults| sim.try_schedule(faults));
        if let Err(e) = added {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    }
    let filter = Filter { sends: cli.sends, ..Filter::default() };
    let outcome = if cli.run.step {
        step_by_hand(&mut sim, deadline, filter)
    } else {
        let outcome = sim.run_until(deadline);
        if cli.run.json {
            print!("{}", render::json_lines(sim.trace()));
        } else {
            print!("{}", render::colored(sim.trace(), filter));
        }
        outcome
    };
    if let Some(path) = &cli.run.svg {
        let title = format!("ch04 paxos: {} (seed {})", cli.scenario, cli.run.seed);
        if let Err(e) = std::fs::write(path, svg::render(&title, &sim.ids(), sim.trace())) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(v) => {
            eprintln!("\n{v}");
            ExitCode::FAILURE
        }
    }
}

/// Classroom mode: show each event and wait for Enter (end of input stops).
fn step_by_hand<P: Process>(
    sim: &mut Sim<P>,
    deadline: Millis,
    filter: Filter,
) -> Result<(), Box<Violation>> {
    let stdin = std::io::stdin();
    let mut line = String::new();
    let mut shown = 0;
    while sim.next_at().is_some_and(|t| t <= deadline) {
        let outcome = sim.step();
        for e in &sim.trace()[shown..] {
            if filter.shows(&e.event) {
                print!("{}", render::colored_line(e));
                let _ = std::io::stdout().flush();
                line.clear();
                if stdin.lock().read_line(&mut line).unwrap_or(0) == 0 {
                    return Ok(());
                }
                // On a terminal the reader's Enter ends the line; from a pipe, we do.
                if !stdin.is_terminal() {
                    println!();
                }
            }
        }
        shown = sim.trace().len();
        outcome?;
    }
    Ok(())
}
