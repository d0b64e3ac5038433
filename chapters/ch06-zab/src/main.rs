//! `cargo run -p ch06-zab -- --trace`: watch a write travel through Zab.
//!
//! Runs one of the chapter's scenarios in the simulator (`--scenario`, `--seed`) and tells it
//! (`--trace`, `--json`, `--svg FILE`, `--step`, `--all`). Without `--trace` it prints how the
//! run ended. `--scenario-file FILE` adds faults and replays a session `--step` saved. With
//! `--listen`, runs one real server over TCP instead ([`ch06_zab::tcp::cli`]). With `--check`,
//! runs the chapter's checkers ([`ch06_zab::check`]) over `--seeds N` faulty runs (from
//! `--first-seed`; `--servers 3` or `5`, or both in turn; `--snapshots on` or `off`, or as
//! each seed draws) and prints every seed that broke a promise, with the command that replays
//! it; `--check --seed N [--trace]` runs one.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use ch04_paxos::sim::flags::{CheckFlags, SimFlags};
use ch04_paxos::sim::render::{self, json_lines};
use ch04_paxos::sim::{pipe, stepper, Scenario};
use ch06_zab::check::{self, SeedResult};
use ch06_zab::model_check;
use ch06_zab::peer::Flaw;
use ch06_zab::render::{diagram, ending, header, story_text, transcript, Stepped, Story};
use ch06_zab::scenarios::{run_with, setup, Run, ScenarioName, Setup};
use ch06_zab::sim::{SimTimer, Wire};
use ch06_zab::tcp::cli::ListenFlags;
use clap::Parser;

/// The model checker clones the server each step moves and drops the clone when the state was
/// seen before: with the system allocator, a fifth of a search was allocating and freeing. On
/// mimalloc the searches run 1.15 to 1.23 times as fast (the appendix's "A faster allocator").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Switch on a deliberate bug: `log-sync-after-up-to-date` (the default, lab 6.2: followers
    /// log a DIFF's txns only after UPTODATE, as before ZOOKEEPER-3911) or `ack-before-fsync`
    /// (lab 7.1: a txn counts as logged before its fsync, as with `forceSync=no`).
    #[arg(long, value_enum, num_args = 0..=1, default_missing_value = "log-sync-after-up-to-date")]
    flaw: Option<FlawName>,
    /// Check the invariants and the clients' histories over faulty runs.
    #[arg(long)]
    check: bool,
    /// With --check: how many seeds to run (without it, only --seed).
    #[arg(long)]
    seeds: Option<u64>,
    /// With --check --seeds: the first seed.
    #[arg(long, default_value_t = 0)]
    first_seed: u64,
    /// With --check: voting servers, 3 or 5 (without it, even seeds run 3 and odd seeds 5).
    #[arg(long, value_parser = clap::value_parser!(u64).range(3..=5))]
    servers: Option<u64>,
    /// With --check: every few txns a fuzzy snapshot (on), or none (off); without it, each
    /// seed draws which (half of them take snapshots).
    #[arg(long, value_enum)]
    snapshots: Option<OnOff>,
    /// Check every interleaving of the `checked` ensemble with a model checker, instead of
    /// running one scenario (with --flaw: look for the write it loses; with --scenario-file:
    /// from where the file's steps lead, instead of from after the first election).
    #[arg(long)]
    model_check: bool,
    /// --model-check: the highest epoch a server may accept.
    #[arg(long, default_value_t = model_check::DEFAULT.epochs)]
    epochs: i64,
    /// --model-check: the highest election round a server may reach.
    #[arg(long, default_value_t = model_check::DEFAULT.rounds)]
    rounds: i64,
    /// --model-check: no server crashes.
    #[arg(long, conflicts_with = "crashes")]
    no_crashes: bool,
    /// --model-check: how many crashes (each with its restart) the servers may have between
    /// them, one server down at a time.
    #[arg(long, default_value_t = model_check::DEFAULT.crashes)]
    crashes: u64,
    /// --model-check: a crashed server never restarts (crash-stop): the others carry on
    /// without it.
    #[arg(long, conflicts_with = "no_crashes")]
    no_restarts: bool,
    /// --model-check: a crashed leader restarts only after the others have elected a new
    /// one and serve; a crashed follower never restarts.
    #[arg(long, conflicts_with_all = ["no_crashes", "no_restarts"])]
    restart_after_failover: bool,
    /// --model-check: a crashed leader restarts at any moment, the others' election
    /// included; a crashed follower never restarts.
    #[arg(long, conflicts_with_all = ["no_crashes", "no_restarts", "restart_after_failover"])]
    restart_leader_anytime: bool,
    /// --model-check: the most votes in flight on one election connection at once, a newer
    /// one taking the place of one waiting to be sent (without it, no limit: a search to a
    /// --depth, or walks; with it, the states are finite and a search without --depth
    /// explores every one).
    #[arg(long, value_name = "N")]
    in_flight: Option<usize>,
    /// --model-check: a server may also give up on a party that is up and answering it (a
    /// follower on its leader, a leader on its quorum), as after a partition or a long pause;
    /// without it, only a crash or a closed connection makes a server give up.
    #[arg(long)]
    false_suspicions: bool,
    /// --model-check: the most connections the client opens, its first included (a client
    /// refused by a server not serving reconnects at once, for ever without a bound).
    #[arg(long, value_name = "N", default_value_t = model_check::DEFAULT.connections)]
    connections: u32,
    /// --model-check: the most connections a server opens to a leader in one life (without
    /// it, no limit: a follower that gives up on a leader before it has read the first
    /// packet, and finds it again, may reconnect for ever).
    #[arg(long, value_name = "N")]
    learner_connections: Option<usize>,
    #[command(flatten)]
    checker: CheckFlags,
    #[command(flatten)]
    run: SimFlags,
    #[command(flatten)]
    listen: ListenFlags,
}

/// The deliberate bugs, by name.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum FlawName {
    LogSyncAfterUpToDate,
    AckBeforeFsync,
}

impl From<FlawName> for Flaw {
    fn from(name: FlawName) -> Flaw {
        match name {
            FlawName::LogSyncAfterUpToDate => Flaw::LogSyncAfterUpToDate,
            FlawName::AckBeforeFsync => Flaw::AckBeforeFsync,
        }
    }
}

/// A switch forced one way.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum OnOff {
    On,
    Off,
}

impl OnOff {
    fn on(self) -> bool {
        matches!(self, OnOff::On)
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let color = args.run.wants_color();
    colored::control::set_override(color);
    // Other modes (checking many fault seeds, a real peer over TCP) branch off here.
    if args.listen.listen.is_some() {
        return ch06_zab::tcp::cli::run(&args.listen, color);
    }
    // A search's report may go to a reader that stops early: it still writes its
    // counterexample file and fails, so it keeps SIGPIPE ignored and handles the closed pipe.
    if args.model_check {
        return check_every_interleaving(&args);
    }
    // From here on the command only prints (a server over TCP keeps SIGPIPE ignored).
    pipe::end_quietly_when_the_reader_goes();
    if args.check {
        return match args.seeds {
            Some(n) => check_many(
                args.first_seed..args.first_seed + n,
                args.servers,
                args.flaw.map(Flaw::from),
                args.snapshots.map(OnOff::on),
            ),
            None => check_one(&args),
        };
    }
    simulate(&args, color)
}

/// How often `--model-check` says how far it got.
const PROGRESS: Duration = Duration::from_secs(5);

/// `--model-check`: explore, report, and write the counterexample (if any) as a scenario file.
fn check_every_interleaving(args: &Args) -> ExitCode {
    let flaw = args.flaw.map(Flaw::from);
    let bounds = model_check::Bounds {
        epochs: args.epochs,
        rounds: args.rounds,
        crashes: if args.no_crashes { 0 } else { args.crashes },
        restarts: if args.no_restarts {
            model_check::Restarts::Never
        } else if args.restart_after_failover {
            model_check::Restarts::AfterFailover
        } else if args.restart_leader_anytime {
            model_check::Restarts::LeaderAnytime
        } else {
            model_check::Restarts::Anytime
        },
        in_flight: args.in_flight,
        false_suspicions: args.false_suspicions,
        connections: args.connections,
        learner_connections: args.learner_connections,
    };
    // With a scenario file, the search starts where its steps lead.
    let from = match args.run.read_scenario_file::<Wire, SimTimer>() {
        Ok(file) if !file.actions().is_empty() => {
            eprintln!(
                "error: --model-check starts from a scenario file's steps, not its timed faults"
            );
            return ExitCode::from(2);
        }
        Ok(file) => file.steps().to_vec(),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    args.checker.check(
        args.run.seed,
        |port| model_check::explore(flaw, bounds, port),
        |search, file| {
            let steps = args.run.scenario_file.as_ref().map(|_| &from[..]);
            model_check::run_from(flaw, bounds, steps, search, file, Some(PROGRESS))
        },
        &model_check::replay_command(flaw),
    )
}

/// One scenario in the simulator, told as the flags ask.
fn simulate(args: &Args, color: bool) -> ExitCode {
    let mut setup = setup(args.scenario);
    if let Some(flaw) = args.flaw {
        setup.config.flaw = Some(flaw.into());
    }
    let seed = args.run.seed;
    let file = match args.run.read_scenario_file() {
        Ok(file) => file,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if args.run.step {
        return step_by_step(&setup, seed, file, args.all, color);
    }
    let run = match run_with(&setup, seed, file) {
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

/// `--step`: the reader is the network (see `ch04_paxos::sim::stepper`); then how the run
/// ended.
fn step_by_step(
    setup: &Setup,
    seed: u64,
    file: Scenario<Wire, SimTimer>,
    all: bool,
    color: bool,
) -> ExitCode {
    let sim = match stepper::on_terminal(Stepped::new(setup, seed, all, color), file) {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let violation = sim.violation().map(|v| v.to_string());
    println!();
    print!("{}", ending(&Run { sim }, color));
    match violation {
        Some(v) => {
            eprintln!("\n{v}");
            ExitCode::FAILURE
        }
        None => ExitCode::SUCCESS,
    }
}

/// Every seed of `seeds`: the failures with their replay commands, then a summary.
fn check_many(
    seeds: std::ops::Range<u64>,
    servers: Option<u64>,
    flaw: Option<Flaw>,
    snapshots: Option<bool>,
) -> ExitCode {
    let started = Instant::now();
    let report = check::run_with(seeds, servers, flaw, snapshots);
    println!("{report}");
    println!("time: {:.1} s", started.elapsed().as_secs_f64());
    match report.is_clean() {
        true => ExitCode::SUCCESS,
        false => ExitCode::FAILURE,
    }
}

/// One seed of the checkers, traced if asked.
fn check_one(args: &Args) -> ExitCode {
    let seed = args.run.seed;
    let servers = args.servers.unwrap_or(check::servers_for(seed));
    let snapshots = args.snapshots.map(OnOff::on);
    let (sim, result) = check::replay(seed, servers, args.flaw.map(Flaw::from), snapshots);
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
