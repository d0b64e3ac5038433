//! `cargo run -p ch05-election -- --trace`: watch FastLeaderElection happen.
//!
//! Without `--listen`, runs a scenario in the simulator (`--scenario`,
//! `--servers`, `--seed`, `--scenario-file FILE`) and prints it (`--trace`,
//! `--json`, `--svg FILE`), or lets the reader choose what happens next
//! (`--step`). With `--listen`, runs one real server over TCP. With
//! `--model-check [--flaw NAME]`, explores every interleaving of a small
//! ensemble instead ([`ch05_election::model_check`]).

use ch01_znode::zxid::parse_hex;
use ch01_znode::{Epoch, Sid, Zxid};
use ch04_paxos::sim::flags::{CheckFlags, SimFlags};
use ch04_paxos::sim::render::json_lines;
use ch04_paxos::sim::{pipe, stepper, Scenario};
use ch05_election::model_check::{self, Flaw};
use ch05_election::render::{diagram, header, status, statuses, transcript, Stepped};
use ch05_election::sim::{finish, run_with, setup, ScenarioName, Setup, SimTimer};
use ch05_election::standin::Message;
use clap::Parser;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(about = "FastLeaderElection, in the simulator or over TCP")]
struct Args {
    /// Print the election as it happens, one event per line.
    #[arg(long)]
    trace: bool,
    /// Which story to run.
    #[arg(long, value_enum, default_value = "first-start")]
    scenario: ScenarioName,
    /// How many voting servers.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=15))]
    servers: u64,
    #[command(flatten)]
    run: SimFlags,
    /// Run one real server over TCP instead: this server's election address.
    #[arg(long, value_name = "HOST:PORT", requires_all = ["myid", "peer"])]
    listen: Option<String>,
    /// This server's id (with --listen).
    #[arg(long)]
    myid: Option<u64>,
    /// Every voter of the ensemble as SID=HOST:PORT (with --listen), this one included.
    #[arg(long, value_name = "SID=HOST:PORT")]
    peer: Vec<String>,
    /// What this server's currentEpoch file says (with --listen).
    #[arg(long, default_value_t = 0)]
    current_epoch: i64,
    /// This server's last logged zxid, e.g. 0x100000003 (with --listen).
    #[arg(long, default_value = "0x0", value_parser = parse_zxid)]
    last_zxid: Zxid,
    /// Check every interleaving of the `checked` ensemble with a model checker, instead of
    /// running one scenario.
    #[arg(long)]
    model_check: bool,
    /// A lab's deliberate bug, for --model-check and --scenario checked: SidBeforeLog.
    #[arg(long, value_name = "NAME")]
    flaw: Option<String>,
    /// --model-check: the highest election round a server may reach.
    #[arg(long, default_value_t = model_check::DEFAULT.rounds)]
    rounds: i64,
    /// --model-check: no server crashes (the fault-free model).
    #[arg(long)]
    no_crashes: bool,
    /// --model-check: how many crashes (each followed by a restart) the servers may have
    /// between them, one server down at a time.
    #[arg(long, default_value_t = model_check::DEFAULT.crashes)]
    crashes: u64,
    /// --model-check: the most messages waiting on one link. Behind a send queue (the default
    /// network) one unless told, a newer message replacing the last; on the duplicating network
    /// the distinct messages ever sent on it, without a limit unless told (then only a --depth
    /// or walks end).
    #[arg(long, value_name = "N")]
    in_flight: Option<usize>,
    /// --model-check: the network, one ordered connection per pair behind ZooKeeper's send
    /// queue of one message (send-queue), or one that reorders and duplicates (duplicating).
    #[arg(long, value_enum, default_value = "send-queue")]
    network: model_check::ElectionNetwork,
    #[command(flatten)]
    checker: CheckFlags,
}

/// A zxid as ZooKeeper prints it (`0x100000003`) or in decimal.
fn parse_zxid(s: &str) -> Result<Zxid, String> {
    parse_hex(s)
        .map(Zxid)
        .ok_or_else(|| format!("not a zxid: {s} (try 0x100000003)"))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let color = args.run.wants_color();
    colored::control::set_override(color);
    if let Some(listen) = &args.listen {
        let disk = ch05_election::peer::Durable {
            current_epoch: Epoch(args.current_epoch),
            last_logged_zxid: args.last_zxid,
        };
        return listen_cli(listen, args.myid.map(Sid), &args.peer, disk, color);
    }
    let flaw = match args.flaw.as_deref().map(Flaw::named).transpose() {
        Ok(flaw) => flaw,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // A search's report may go to a reader that stops early: it still writes its
    // counterexample file and fails, so it keeps SIGPIPE ignored and handles the closed pipe.
    if args.model_check {
        return check_every_interleaving(flaw, &args);
    }
    // From here on the command only prints (a server over TCP keeps SIGPIPE ignored).
    pipe::end_quietly_when_the_reader_goes();
    let setup = match (args.scenario, flaw) {
        (ScenarioName::Checked, flaw) => model_check::setup(flaw),
        (_, Some(_)) => {
            eprintln!("error: --flaw goes with --model-check or --scenario checked");
            return ExitCode::from(2);
        }
        (name, None) => setup(name, args.servers),
    };
    let file = match args.run.read_scenario_file() {
        Ok(file) => file,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if args.run.step {
        return step_by_step(&setup, args.run.seed, file, color);
    }
    let run = match run_with(&setup, args.run.seed, file) {
        Ok(run) => run,
        Err(violation) => {
            eprintln!("{violation}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(path) = &args.run.svg {
        let title = format!("ch05 {}", setup.name.as_str());
        if let Err(e) = std::fs::write(path, diagram(&title, &run)) {
            eprintln!("cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    if args.run.json {
        print!("{}", json_lines(&run.story));
        for (sid, line) in &run.status {
            let status =
                serde_json::json!({"kind": "zkserver_status", "node": sid, "status": line});
            println!("{status}");
        }
    } else if args.trace {
        print!("{}", transcript(&setup, args.run.seed, &run, color));
    } else {
        println!("{}\n", header(&setup, args.run.seed));
        print!("{}", status(&run, color));
        println!("\n(add --trace to watch the election, --step to walk through it)");
    }
    ExitCode::SUCCESS
}

/// How often `--model-check` says how far it got.
const PROGRESS: Duration = Duration::from_secs(5);

/// `--model-check`: explore, report, and write the counterexample (if any) as a scenario file.
fn check_every_interleaving(flaw: Option<Flaw>, args: &Args) -> ExitCode {
    let bounds = model_check::Bounds {
        rounds: args.rounds,
        crashes: if args.no_crashes { 0 } else { args.crashes },
        in_flight: args.in_flight,
        network: args.network,
    };
    args.checker.check(
        args.run.seed,
        |port| model_check::explore(flaw, bounds, port),
        |search, file| model_check::run(flaw, bounds, search, file, Some(PROGRESS)),
        &model_check::replay_command(flaw),
    )
}

/// `--step`: the reader is the network (see `ch04_paxos::sim::stepper`); then every
/// server's status.
fn step_by_step(
    setup: &Setup,
    seed: u64,
    file: Scenario<Message, SimTimer>,
    color: bool,
) -> ExitCode {
    let sim = match stepper::on_terminal(Stepped::new(setup, seed, color), file) {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let settled = setup.settled(&sim);
    let run = finish(&sim, settled);
    println!();
    // The reader may quit (`q`) long before the deadline: say so, not that time ran out.
    if settled || sim.now() > setup.deadline_ms {
        print!("{}", status(&run, color));
    } else {
        print!("{}", statuses(&run, color));
        println!("(stopped at {} ms, before every server decided)", sim.now());
    }
    match sim.violation() {
        Some(v) => {
            eprintln!("\n{v}");
            ExitCode::FAILURE
        }
        None => ExitCode::SUCCESS,
    }
}

/// `--listen`: one real server, printing what it does until Ctrl-C.
fn listen_cli(
    listen: &str,
    myid: Option<Sid>,
    peers: &[String],
    durable: ch05_election::peer::Durable,
    color: bool,
) -> ExitCode {
    use ch05_election::quorum::QuorumMaj;
    use ch05_election::standin::Config;
    use ch05_election::tcp::{serve, ServerSpec, TcpEvent};
    use colored::Colorize;
    use std::collections::BTreeMap;
    use std::net::SocketAddr;
    use std::sync::Arc;

    let mut addrs = BTreeMap::new();
    for p in peers {
        let parsed = p.split_once('=').and_then(|(sid, addr)| {
            Some((Sid(sid.parse().ok()?), addr.parse::<SocketAddr>().ok()?))
        });
        match parsed {
            Some((sid, addr)) => addrs.insert(sid, addr),
            None => {
                eprintln!("--peer {p}: expected SID=HOST:PORT, e.g. 2=127.0.0.1:3889");
                return ExitCode::FAILURE;
            }
        };
    }
    let Some(sid) = myid.filter(|id| addrs.contains_key(id)) else {
        eprintln!("--myid must be one of the --peer sids");
        return ExitCode::FAILURE;
    };
    let config = Config::new(Arc::new(QuorumMaj::new(addrs.keys().copied(), [])));
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(listen).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("cannot listen on {listen}: {e}");
                return ExitCode::FAILURE;
            }
        };
        println!(
            "n{sid}: election port {listen}, ensemble of {} (Ctrl-C stops)",
            addrs.len()
        );
        let spec = ServerSpec {
            sid,
            addrs,
            config,
            durable,
        };
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let server = tokio::spawn(serve(spec, listener, tx));
        while let Some(t) = rx.recv().await {
            let line = t.to_string();
            let line = match &t.event {
                _ if !color => line,
                TcpEvent::State(_) => line.bold().to_string(),
                TcpEvent::Dropped(_) => line.red().to_string(),
                TcpEvent::Connected(_) => line.dimmed().to_string(),
                TcpEvent::Note(_) => line.yellow().to_string(),
            };
            println!("{line}");
            if let TcpEvent::State(state) = t.event {
                if let Some(mode) = state.mode() {
                    println!("{}", format!("  zkServer.sh status → Mode: {mode}").green());
                }
            }
        }
        server.abort();
        ExitCode::SUCCESS
    })
}
