//! The whole ensemble, side by side: three `keeper server` processes in quorum mode and a
//! ZooKeeper 3.8 three-server ensemble, both on disk with `forceSync=yes`, from the same
//! zoo.cfg settings, driven by the same clients, measured in one run.
//!
//! Run: `cargo bench --bench ensemble` (several minutes here; it writes
//! `benches/ensemble/measured.txt`, which the book's appendix includes), `-- --quick` for a
//! short run that writes nothing, `-- --writes` for the rows with 64 requests in flight
//! alone (one cold start, no failovers, nothing written), `-- --one-at-a-time` for those
//! with 1 alone (the same way), `-- --help` for the knobs.
//!
//! The idea to take away: **an ensemble's write costs a quorum's round trip and a quorum's
//! fdatasync, and its availability is how fast it notices a death and agrees on a leader.**
//! So the bench measures four things:
//!
//! 1. cold start: three servers on fresh dataDirs, from spawning the processes to the first
//!    successful write (a client tries every server until one takes a write);
//! 2. throughput and latency with chapter 3's load generator: writes (create, setData) and
//!    reads (getData) through the leader and through a follower, with 1 and with 64
//!    requests in flight on one session. The two ensembles run side by side and take turns,
//!    the order flipped every round; each figure is the median over the rounds;
//! 3. failover: a client keeps writing through a follower, the leader is killed with
//!    SIGKILL, and the figure is the time from asking for the kill to the first write sent
//!    once the leader is gone that succeeds (both
//!    programs use FastLeaderElection's finalizeWait of 200 ms); the killed server is
//!    restarted and the next round kills the new leader;
//! 4. the machine's load average before and after, since other work shares it.
//!
//! Every server is a [`common::Guarded`] process, killed and reaped on every exit path, even
//! when the bench itself dies. Without Java or ZooKeeper's jars the bench measures Keeper
//! alone and says so.

#[path = "../../tests/common/mod.rs"]
mod common;
#[path = "../support/load.rs"]
mod load;
mod members;
mod probe;
mod quorum_floor;
#[path = "../support/report.rs"]
mod report;
mod switches;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use ch03_sessions::client::bench::{BenchConfig, OpReport};
use clap::Parser;
use load::{load, print_reports};
use members::{Ensemble, Program};
use probe::{first_write, Writer};
use quorum_floor::{quorum_floor, QuorumFloor};
use switches::context_switches;

/// The longest an ensemble may take to elect, start or catch up (a JVM on a loaded machine).
const START_BOUND: Duration = Duration::from_secs(120);
/// Successful writes before the leader is killed: the steady load the failover interrupts.
const STEADY_WRITES: usize = 50;

#[derive(Parser, Debug)]
#[command(about = "Three keeper servers beside a ZooKeeper 3.8 ensemble, on disk, forceSync=yes")]
struct Args {
    /// A short run (a few minutes): fewer requests and rounds; writes no figures file.
    #[arg(long)]
    quick: bool,
    /// Only the runs with 64 requests in flight (the write rows the goal is about, through
    /// the leader and through a follower): one cold start, no failovers; writes no figures
    /// file unless `--out` says where.
    #[arg(long)]
    writes: bool,
    /// Only the runs with 1 request in flight (each write waits for its own quorum's
    /// fdatasyncs: the p99 rows), through the leader and through a follower: one cold start,
    /// no failovers; writes no figures file unless `--out` says where.
    #[arg(long, conflicts_with = "writes")]
    one_at_a_time: bool,
    /// Rounds of the throughput runs (each ensemble once per round).
    #[arg(long)]
    rounds: Option<usize>,
    /// Nodes per run with 64 requests in flight.
    #[arg(long)]
    requests: Option<usize>,
    /// Nodes per run with 1 request in flight.
    #[arg(long)]
    serial: Option<usize>,
    /// Cold starts of each ensemble.
    #[arg(long)]
    starts: Option<usize>,
    /// Leader kills in each ensemble.
    #[arg(long)]
    failovers: Option<usize>,
    /// Bytes of data per node.
    #[arg(long, default_value_t = 100)]
    size: usize,
    /// Measure Keeper only.
    #[arg(long)]
    no_zookeeper: bool,
    /// Where to write the figures (default: benches/ensemble/measured.txt on a full run).
    #[arg(long)]
    out: Option<PathBuf>,
    /// What `cargo bench` passes to every bench target.
    #[arg(long, hide = true)]
    bench: bool,
}

/// The sizes of one run, `--quick` or not, each overridable.
struct Sizes {
    rounds: usize,
    requests: usize,
    serial: usize,
    warmup: usize,
    starts: usize,
    failovers: usize,
}

impl Args {
    fn sizes(&self) -> Sizes {
        let (rounds, requests, serial, warmup, starts, failovers) = match self.quick {
            true => (2, 3_000, 300, 3_000, 2, 2),
            false => (3, 20_000, 1_000, 20_000, 5, 5),
        };
        let (starts, failovers) = match self.writes || self.one_at_a_time {
            true => (1, 0),
            false => (starts, failovers),
        };
        Sizes {
            rounds: self.rounds.unwrap_or(rounds).max(1),
            requests: self.requests.unwrap_or(requests),
            serial: self.serial.unwrap_or(serial),
            warmup,
            starts: self.starts.unwrap_or(starts).max(1),
            failovers: self.failovers.unwrap_or(failovers),
        }
    }

    /// The paths this run measures: all of [`PATHS`], with `--writes` those with 64 in
    /// flight, with `--one-at-a-time` those with 1.
    fn paths(&self) -> Vec<Path> {
        PATHS
            .iter()
            .copied()
            .filter(|p| !self.writes || p.in_flight > 1)
            .filter(|p| !self.one_at_a_time || p.in_flight == 1)
            .collect()
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    match bench(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("ensemble: {why}");
            ExitCode::FAILURE
        }
    }
}

/// Which path a run takes, and how many requests it keeps in flight.
#[derive(Clone, Copy)]
struct Path {
    via: &'static str,
    in_flight: usize,
}

const PATHS: [Path; 4] = [
    Path {
        via: "leader",
        in_flight: 1,
    },
    Path {
        via: "follower",
        in_flight: 1,
    },
    Path {
        via: "leader",
        in_flight: 64,
    },
    Path {
        via: "follower",
        in_flight: 64,
    },
];

/// One program's figures.
struct Figures {
    program: Program,
    /// Seconds from spawning three fresh servers to the first successful write.
    cold_starts: Vec<f64>,
    /// Per round, per path measured ([`Args::paths`]): the load generator's reports.
    runs: Vec<Vec<Vec<OpReport>>>,
    /// Seconds from the leader's SIGKILL to the first successful write after it.
    failovers: Vec<f64>,
    /// Per round, per path with 1 in flight: the three servers' voluntary context switches
    /// per request of the run.
    switches: Vec<Vec<(usize, f64)>>,
}

fn bench(args: &Args) -> Result<(), String> {
    let sizes = args.sizes();
    let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("no tokio runtime: {e}"))?;
    let load_at_start = report::load_average();
    println!(
        "ensemble: {} cores, load average at start {load_at_start}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    let mut programs = vec![Program::Keeper];
    let zookeeper_missing = match args.no_zookeeper {
        true => Some("not measured (--no-zookeeper)".to_string()),
        false => common::tools::java().err().map(|why| {
            format!("not measured: ZooKeeper 3.8 cannot run here ({why}); Keeper alone")
        }),
    };
    match &zookeeper_missing {
        Some(why) => println!("ZooKeeper 3.8 {why}"),
        None => programs.push(Program::ZooKeeper),
    }
    let mut figures: Vec<Figures> = programs
        .iter()
        .map(|&program| Figures {
            program,
            cold_starts: Vec::new(),
            runs: Vec::new(),
            failovers: Vec::new(),
            switches: Vec::new(),
        })
        .collect();

    // 1. Cold starts, alternating; the last ensemble of each program stays for the rest.
    let mut ensembles: Vec<Option<Ensemble>> = programs.iter().map(|_| None).collect();
    for round in 0..sizes.starts {
        for i in report::turns(programs.len(), round) {
            drop(ensembles[i].take());
            let (ensemble, took) = cold_start(&runtime, programs[i])?;
            println!(
                "{}: cold start {} to the first write: {took:.3} s",
                programs[i].name(),
                round + 1
            );
            figures[i].cold_starts.push(took);
            ensembles[i] = Some(ensemble);
        }
    }
    let mut ensembles: Vec<Ensemble> = ensembles.into_iter().flatten().collect();

    // 2. Throughput and latency, the ensembles taking turns.
    for ensemble in &mut ensembles {
        let (leader, follower) = ensemble.serving(START_BOUND)?;
        let clients = ensemble.clients();
        println!("warming up {}", ensemble.program.name());
        for (server, root) in [
            (clients[leader], "/warm-leader"),
            (clients[follower], "/warm-follower"),
        ] {
            load(&runtime, &config(args, server, 64, sizes.warmup, root))
                .map_err(|why| ensemble.explain(&why))?;
        }
    }
    let load_before = report::load_average();
    let one_at_a_time = args.paths().iter().any(|path| path.in_flight == 1);
    let mut floors = Vec::new();
    for round in 0..sizes.rounds {
        // The disk's own floor for a quorum write, measured beside the rows it explains.
        if one_at_a_time {
            let floor = quorum_floor(sizes.serial)?;
            println!(
                "round {}: the disk's quorum floor p50 {:.2} / p99 {:.2} ms",
                round + 1,
                ms(floor.percentile(50.0)),
                ms(floor.percentile(99.0))
            );
            floors.push(floor);
        }
        for i in report::turns(ensembles.len(), round) {
            let ensemble = &mut ensembles[i];
            let (leader, follower) = ensemble.serving(START_BOUND)?;
            let clients = ensemble.clients();
            let pids: Vec<u32> = (0..clients.len()).filter_map(|m| ensemble.pid(m)).collect();
            let mut reports = Vec::new();
            let mut switched = Vec::new();
            for (p, path) in args.paths().iter().enumerate() {
                let server = clients[if path.via == "leader" {
                    leader
                } else {
                    follower
                }];
                let requests = match path.in_flight {
                    1 => sizes.serial,
                    _ => sizes.requests,
                };
                let root = format!("/bench-{round}-{p}");
                let config = config(args, server, path.in_flight, requests, &root);
                let before = context_switches(&pids);
                let run = load(&runtime, &config).map_err(|why| ensemble.explain(&why))?;
                if path.in_flight == 1 {
                    let done: usize = run.iter().map(|r| r.requests).sum();
                    let per = (context_switches(&pids) - before) as f64 / done.max(1) as f64;
                    println!("voluntary context switches per request, the three servers: {per:.1}");
                    switched.push((p, per));
                }
                print_reports(
                    &format!(
                        "{}, round {}, through the {}, {} in flight",
                        ensemble.program.name(),
                        round + 1,
                        path.via,
                        path.in_flight
                    ),
                    &run,
                );
                reports.push(run);
            }
            figures[i].runs.push(reports);
            figures[i].switches.push(switched);
        }
    }
    let load_after = report::load_average();

    // 3. Failover: kill the leader under a writing client, alternating.
    for round in 0..sizes.failovers {
        for i in report::turns(ensembles.len(), round) {
            let took = failover(&runtime, &mut ensembles[i], round)?;
            println!(
                "{}: failover {}: first write {took:.3} s after the leader's SIGKILL",
                ensembles[i].program.name(),
                round + 1
            );
            figures[i].failovers.push(took);
        }
    }
    let load_at_end = report::load_average();
    drop(ensembles);

    let text = figures_text(
        args,
        &sizes,
        &figures,
        &floors,
        [&load_at_start, &load_before, &load_after, &load_at_end],
        zookeeper_missing.as_deref(),
    );
    println!("\n{text}");
    let out = args.out.clone().or_else(|| {
        (!args.quick && !args.writes && !args.one_at_a_time && zookeeper_missing.is_none()).then(
            || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/ensemble/measured.txt"),
        )
    });
    if let Some(out) = out {
        std::fs::write(&out, &text).map_err(|e| format!("{}: {e}", out.display()))?;
        println!("(written to {})", out.display());
    }
    Ok(())
}

fn config(
    args: &Args,
    server: std::net::SocketAddr,
    in_flight: usize,
    requests: usize,
    root: &str,
) -> BenchConfig {
    BenchConfig {
        server,
        connections: 1,
        outstanding: in_flight,
        requests,
        value_size: args.size,
        root: root.into(),
    }
}

/// A duration in milliseconds.
fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Three fresh servers of `program`: the seconds from spawning them to the first write any
/// of them takes, and the running ensemble.
fn cold_start(
    runtime: &tokio::runtime::Runtime,
    program: Program,
) -> Result<(Ensemble, f64), String> {
    let mut ensemble = Ensemble::write(program)?;
    let started = Instant::now();
    ensemble.start_all()?;
    let first = runtime
        .block_on(first_write(&ensemble.clients(), START_BOUND))
        .map_err(|why| ensemble.explain(&why))?;
    Ok((ensemble, (first - started).as_secs_f64()))
}

/// Kills the leader under a client writing through a follower; the seconds from the kill to
/// the first write sent after it that succeeds. Restarts the killed server after, and waits
/// until it has caught up (one leader, two followers again).
fn failover(
    runtime: &tokio::runtime::Runtime,
    ensemble: &mut Ensemble,
    round: usize,
) -> Result<f64, String> {
    let (leader, follower) = ensemble.serving(START_BOUND)?;
    let writer = Writer::start(
        runtime.handle(),
        ensemble.clients()[follower],
        format!("/failover-{round}"),
    );
    writer
        .steady(STEADY_WRITES, START_BOUND)
        .map_err(|why| ensemble.explain(&why))?;
    let killed = Instant::now();
    ensemble.kill(leader);
    // The SIGKILL lands a few ms after it is asked for (the watchdog shell sends it), and a
    // write sent meanwhile may still be committed by the live leader: only writes sent once
    // the leader is gone count, timed from the moment the kill was asked for.
    let gone = Instant::now();
    let first = writer
        .first_after(gone, START_BOUND)
        .map_err(|why| ensemble.explain(&format!("after the leader's SIGKILL: {why}")))?;
    drop(writer);
    ensemble.start(leader)?;
    ensemble.serving(START_BOUND)?;
    Ok((first - killed).as_secs_f64())
}

/// The figures as the book shows them: markdown tables, medians, ratios beside the goals.
fn figures_text(
    args: &Args,
    sizes: &Sizes,
    figures: &[Figures],
    floors: &[QuorumFloor],
    load: [&str; 4],
    zookeeper_missing: Option<&str>,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Three servers on 127.0.0.1 per ensemble, on disk, forceSync=yes, tickTime=2000, \
         initLimit=10, syncLimit=5; {} core(s) shared with other work. Load average: {} at the \
         start, {} / {} before / after the throughput rounds, {} at the end.\n",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load[0],
        load[1],
        load[2],
        load[3]
    );
    if let Some(why) = zookeeper_missing {
        let _ = writeln!(out, "ZooKeeper 3.8 {why}.\n");
    }
    let _ = writeln!(
        out,
        "One session; {} nodes of {} bytes with 1 request in flight, {} with 64; {} rounds, the \
         ensembles taking turns; medians over the rounds. create and set are writes (a txn \
         through Zab, logged and synced by a quorum), get is a read the server answers alone.\n",
        sizes.serial, args.size, sizes.requests, sizes.rounds
    );
    let names: Vec<&str> = figures.iter().map(|f| f.program.name()).collect();
    let mut header = String::from("| via | in flight | op |");
    let mut rule = String::from("|---|---:|---|");
    for name in &names {
        let _ = write!(header, " {name} ops/s | {name} p50 / p99 ms |");
        rule.push_str("---:|---:|");
    }
    if figures.len() == 2 {
        header.push_str(" throughput ratio | p99 ratio |");
        rule.push_str("---:|---:|");
    }
    let _ = writeln!(out, "{header}\n{rule}");
    let mut failed = 0;
    for (p, path) in args.paths().iter().enumerate() {
        let ops = figures[0].runs[0][p]
            .iter()
            .map(|r| r.op)
            .collect::<Vec<_>>();
        for (o, op) in ops.iter().enumerate() {
            let _ = write!(out, "| {} | {} | {op} |", path.via, path.in_flight);
            let mut medians = Vec::new();
            for f in figures {
                let of = |pick: &dyn Fn(&OpReport) -> f64| {
                    report::median(f.runs.iter().map(|round| pick(&round[p][o])).collect())
                };
                let tput = of(&|r| r.throughput());
                let p50 = of(&|r| r.percentile(50.0).as_secs_f64() * 1e3);
                let p99 = of(&|r| r.percentile(99.0).as_secs_f64() * 1e3);
                failed += f.runs.iter().map(|round| round[p][o].errors).sum::<usize>();
                let _ = write!(out, " {} | {p50:.2} / {p99:.2} |", report::thousands(tput));
                medians.push((tput, p99));
            }
            if let [(kt, kp), (zt, zp)] = medians[..] {
                let _ = write!(out, " **{:.2}×** | **{:.2}** |", kt / zt, kp / zp);
            }
            let _ = writeln!(out);
        }
    }
    let _ = writeln!(
        out,
        "\nThroughput ratio: Keeper ÷ ZooKeeper (goals: ≥ 3 for writes, ≥ 2 for reads); p99 \
         ratio: Keeper ÷ ZooKeeper (goal ≤ 0.5). Failed requests: {failed}.\n"
    );
    if !floors.is_empty() {
        let of = |p: f64| report::median(floors.iter().map(|f| ms(f.percentile(p))).collect());
        let _ = writeln!(
            out,
            "The disk's floor for a write one at a time, measured before each round: three \
             threads beside the dataDirs each write a {}-byte record into a zero-filled file and \
             fdatasync it, all starting together, until two have returned (a quorum of three \
             logs on one disk), {} times: p50 {:.2} / p99 {:.2} ms (medians over the rounds).\n",
            quorum_floor::RECORD,
            sizes.serial,
            of(50.0),
            of(99.0)
        );
    }
    for (p, path) in args.paths().iter().enumerate() {
        if path.in_flight != 1 {
            continue;
        }
        let per: Vec<String> = figures
            .iter()
            .map(|f| {
                let of_path = f.switches.iter().flatten().filter(|(q, _)| *q == p);
                let all: Vec<f64> = of_path.map(|(_, per)| *per).collect();
                let median = report::median(all);
                format!("{} {median:.1}", f.program.name())
            })
            .collect();
        let _ = writeln!(
            out,
            "Voluntary context switches (a thread going to sleep, later woken) of the three \
             servers' threads per request, 1 in flight through the {} (create, set and get; a \
             count the load hardly moves): {} (medians over the rounds).\n",
            path.via,
            per.join(", ")
        );
    }
    let _ = writeln!(
        out,
        "| seconds | {} |\n|---|{}",
        names.join(" | "),
        "---:|".repeat(names.len())
    );
    let spread = |xs: &[f64]| match xs {
        [] => "—".to_string(),
        _ => {
            let (lo, hi) = xs
                .iter()
                .fold((f64::MAX, f64::MIN), |(lo, hi), x| (lo.min(*x), hi.max(*x)));
            format!(
                "**{:.3}** ({:.3}–{:.3}, {} runs)",
                report::median(xs.to_vec()),
                lo,
                hi,
                xs.len()
            )
        }
    };
    let cold: Vec<String> = figures.iter().map(|f| spread(&f.cold_starts)).collect();
    let failover: Vec<String> = figures.iter().map(|f| spread(&f.failovers)).collect();
    let _ = writeln!(
        out,
        "| cold start to the first write | {} |",
        cold.join(" | ")
    );
    let _ = writeln!(
        out,
        "| leader's SIGKILL to the first write | {} |",
        failover.join(" | ")
    );
    let _ = write!(
        out,
        "\nMedian (least–most). Goals: cold start ≤ 0.3 s, failover ≤ 0.3 s; both programs wait \
         finalizeWait (200 ms) before deciding an election. The failover's client writes \
         through a follower that survives, one write at a time, with a new session whenever \
         its connection fails, retried every 5 ms."
    );
    out
}
