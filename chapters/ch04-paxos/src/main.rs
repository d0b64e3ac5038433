//! `cargo run -p ch04-paxos -- --trace [--scenario NAME] [--seed N] [--json] [--no-color] [--svg FILE] [--step] [--scenario-file FILE]`
//! `cargo run --release -p ch04-paxos -- --model-check [--flaw NAME] [--rounds N] [--depth N]`
//!
//! Runs one scenario in the simulator and prints its trace: coloured on a terminal, plain when
//! piped or with `--no-color`, one JSON object per line with `--json`. `--svg FILE` also draws the
//! run as a sequence diagram. `--step` is classroom mode: the reader is the network, choosing
//! what happens next ([`ch04_paxos::sim::stepper`]). `--scenario-file FILE` adds a scenario
//! script's crashes, partitions and network changes, and replays the choices of a session
//! `--step` saved (`--faults FILE` is its old name). `--model-check` explores every interleaving
//! of a small cluster instead of one seed's, and writes any counterexample as such a file.

use std::process::ExitCode;
use std::time::Duration;

use ch04_paxos::byzantine;
use ch04_paxos::model_check::{self, Bounds, DEFAULT};
use ch04_paxos::multi;
use ch04_paxos::paxos::Flaw;
use ch04_paxos::scenarios::{self, SCENARIOS};
use ch04_paxos::sim::flags::{CheckFlags, SimFlags};
use ch04_paxos::sim::render::{self, Filter};
use ch04_paxos::sim::stepper::{self, Lesson};
use ch04_paxos::sim::{pipe, svg, ChoiceError, EntryOf, Millis, Process, Sim};
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
    /// Check every interleaving of the `checked` cluster with a model checker, instead of
    /// running one scenario.
    #[arg(long)]
    model_check: bool,
    /// A lab's deliberate bug, for --model-check and --scenario checked: PromiseHidesAccepted.
    #[arg(long, value_name = "NAME")]
    flaw: Option<String>,
    /// --model-check and --scenario checked: how many acceptors.
    #[arg(long, default_value_t = DEFAULT.acceptors)]
    acceptors: u64,
    /// --model-check: the highest round a proposer may reach.
    #[arg(long, default_value_t = DEFAULT.rounds)]
    rounds: u64,
    /// --model-check: the network may also deliver a message more than once (far more states:
    /// give a --depth).
    #[arg(long)]
    duplicating: bool,
    #[command(flatten)]
    checker: CheckFlags,
}

const MULTI: &str = "Multi-Paxos with a stable leader: phase 1 once, then one round trip per write";

fn scenario_help() -> String {
    let mut s = String::from("Scenarios:\n");
    for (name, about) in SCENARIOS {
        s.push_str(&format!("  {name:<15} {about}\n"));
    }
    s.push_str(&format!("  {:<15} {MULTI}\n", "multi"));
    for (name, about) in byzantine::SCENARIOS {
        s.push_str(&format!("  {name:<15} {about}\n"));
    }
    s
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !cli.run.wants_color() {
        colored::control::set_override(false);
    }
    let seed = cli.run.seed;
    let flaw = match cli.flaw.as_deref().map(Flaw::named).transpose() {
        Ok(flaw) => flaw,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // A search's report may go to a reader that stops early: it still writes its
    // counterexample file and fails, so it keeps SIGPIPE ignored and handles the closed pipe.
    if cli.model_check {
        return check_every_interleaving(flaw, &cli);
    }
    // Every other mode only prints.
    pipe::end_quietly_when_the_reader_goes();
    if cli.scenario == "checked" {
        let about = "the model checker's cluster";
        return run(|| model_check::simulation(seed, flaw, cli.acceptors), 1_000, about, &cli);
    }
    if flaw.is_some() {
        eprintln!("error: --flaw goes with --model-check or --scenario checked");
        return ExitCode::from(2);
    }
    if cli.scenario == "multi" {
        return run(|| multi::scenario(seed), 1_000, MULTI, &cli);
    }
    if let Some((_, about)) = byzantine::SCENARIOS.iter().find(|(n, _)| *n == cli.scenario) {
        let build = || byzantine::scenario(&cli.scenario, seed).expect("a generals' scenario");
        return run(build, 1_000, about, &cli);
    }
    match scenarios::build(&cli.scenario, seed) {
        Ok(setup) => {
            let about = SCENARIOS.iter().find(|(n, _)| *n == cli.scenario).map_or("", |s| s.1);
            let build = || scenarios::build(&cli.scenario, seed).expect("built once").sim;
            run(build, setup.deadline, about, &cli)
        }
        Err(e) => {
            let generals: Vec<&str> = byzantine::SCENARIOS.iter().map(|(name, _)| *name).collect();
            eprintln!("error: {e}, multi, {}", generals.join(", "));
            ExitCode::from(2)
        }
    }
}

/// Run the scenario `build` makes to `deadline` (or step it by hand), print the trace, draw it
/// if asked.
fn run<P: Process>(
    build: impl Fn() -> Sim<P>,
    deadline: Millis,
    about: &str,
    cli: &Cli,
) -> ExitCode {
    let file = match cli.run.read_scenario_file() {
        Ok(file) => file,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let filter = Filter { sends: cli.sends, ..Filter::default() };
    let sim = if cli.run.step {
        let header = format!("scenario {} (seed {}): {about}", cli.scenario, cli.run.seed);
        let lesson = Stepped { build, header, deadline, filter };
        match stepper::on_terminal(lesson, file) {
            Ok(sim) => sim,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
    } else {
        let mut sim = build();
        if let Some(path) = &cli.run.scenario_file {
            let command = format!("{} --scenario-file {}", sim.command(), path.display());
            sim = sim.replay_command(command);
        }
        match sim.play(file) {
            Err(ChoiceError::Refused(e)) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
            // A broken invariant stops the run; it is reported below, after the trace.
            Err(ChoiceError::Violation(_)) => {}
            Ok(()) => {
                let _ = sim.run_until(deadline);
            }
        }
        if cli.run.json {
            print!("{}", render::json_lines(sim.trace()));
        } else {
            print!("{}", render::colored(sim.trace(), filter));
        }
        sim
    };
    if let Some(path) = &cli.run.svg {
        let title = format!("ch04 paxos: {} (seed {})", cli.scenario, cli.run.seed);
        if let Err(e) = std::fs::write(path, svg::render(&title, &sim.ids(), sim.trace())) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    match sim.violation() {
        None => ExitCode::SUCCESS,
        Some(v) => {
            eprintln!("\n{v}");
            ExitCode::FAILURE
        }
    }
}

/// How often `--model-check` says how far it got.
const PROGRESS: Duration = Duration::from_secs(5);

/// `--model-check`: explore, report, and write the counterexample (if any) as a scenario file.
fn check_every_interleaving(flaw: Option<Flaw>, cli: &Cli) -> ExitCode {
    let bounds =
        Bounds { acceptors: cli.acceptors, rounds: cli.rounds, duplicating: cli.duplicating };
    cli.checker.check(
        cli.run.seed,
        |port| model_check::explore(flaw, bounds, port),
        |search, file| model_check::run(flaw, bounds, search, file, Some(PROGRESS)),
        &model_check::replay_command(flaw, cli.acceptors),
    )
}

/// Chapter 4's side of the stepper: every event but the sends (unless `--sends`).
struct Stepped<F> {
    build: F,
    header: String,
    deadline: Millis,
    filter: Filter,
}

impl<P: Process, F: Fn() -> Sim<P>> Lesson<P> for Stepped<F> {
    fn sim(&self) -> Sim<P> {
        (self.build)()
    }
    fn header(&self) -> String {
        self.header.clone()
    }
    fn tell(&mut self, entry: &EntryOf<P>) -> Option<String> {
        self.filter.shows(&entry.event).then(|| render::colored_line(entry))
    }
    fn shows(&self, entry: &EntryOf<P>) -> bool {
        self.filter.shows(&entry.event)
    }
    fn is_over(&self, sim: &Sim<P>) -> bool {
        sim.upcoming().first().is_none_or(|u| u.at > self.deadline)
    }
}
