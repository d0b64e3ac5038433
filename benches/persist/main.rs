//! Durable writes, side by side: the disk's own fdatasync floor, `keeper server` and a real
//! ZooKeeper 3.8 standalone server (`forceSync=yes` for both) on the same machine, measured
//! in one run.
//!
//! Run: `cargo bench --bench persist` (about 3 minutes here under load, less when idle),
//! `-- --quick` for a short run, `-- --serial-only` for the floor and the serial rows alone
//! (no pipelined rounds, no recovery), `-- --recovery-only` for the recovery test alone,
//! `-- --floor-only` for the floor in a sparse and in a zero-filled file side by side,
//! `-- --help` for the knobs.
//!
//! The idea to take away: **a durable write costs at least one fdatasync, and group commit is
//! how a server stops paying it per write.** So the bench measures three things:
//!
//! 1. the floor: one small record written and fdatasynced, over and over, in a file on the
//!    same file system as the servers' dataDirs, before each round of serial runs (the disk
//!    of a shared machine moves);
//! 2. serial writes: one client, one request in flight (chapter 3's load generator with one
//!    connection and one outstanding request), so each create or setData waits for its own
//!    sync. A server can do no better than the floor plus a loopback round trip. They run in
//!    rounds, the servers' order flipped every round, and each round's p50 is set against the
//!    floor measured just before it: a single run's ratio moved from 1.4 to 2.6 with the disk;
//! 3. pipelined writes: many requests in flight on one connection (or a few), so the server
//!    syncs a whole batch at once. Keeper and ZooKeeper take turns, the order flipped every
//!    round, and each figure is the median of the rounds.
//!
//! Both servers run the whole time, each warmed up first (the JVM compiles its hot paths), on
//! free ports of 127.0.0.1, started and killed by the interop harness (`tests/common`), which
//! cannot leave a process behind even when the bench panics. Without Java the ZooKeeper
//! columns are skipped, and the bench says so.

#[path = "../../tests/common/mod.rs"]
mod common;
mod floor;
#[path = "../support/load.rs"]
mod load;
mod recovery;
#[path = "../support/report.rs"]
mod report;

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use ch03_sessions::client::bench::{BenchConfig, OpReport};
use clap::Parser;
use common::{Server, ServerKind};
use floor::{fdatasync_floor, sparse_and_zeros, Floor, FLOOR_RECORD};
use load::{load, print_reports};
use recovery::{start_on_copy, write_data_dir, Starter};

#[derive(Parser, Debug)]
#[command(about = "Durable writes: the disk's fdatasync floor, keeper server and ZooKeeper 3.8")]
struct Args {
    /// A short run (a minute or so): fewer syncs, requests and rounds.
    #[arg(long)]
    quick: bool,
    /// Record + fdatasync pairs timed for the floor (each time it is measured).
    #[arg(long)]
    syncs: Option<usize>,
    /// Nodes per serial phase (one connection, one request in flight).
    #[arg(long)]
    serial: Option<usize>,
    /// Nodes per pipelined phase.
    #[arg(long)]
    requests: Option<usize>,
    /// Pipelined rounds (each server once per round); figures are medians over rounds.
    #[arg(long)]
    rounds: Option<usize>,
    /// Sessions of the pipelined runs.
    #[arg(long, default_value_t = 1)]
    connections: usize,
    /// Requests in flight per session in the pipelined runs.
    #[arg(long, default_value_t = 64)]
    outstanding: usize,
    /// Bytes of data per node.
    #[arg(long, default_value_t = 100)]
    size: usize,
    /// Znodes in the recovery test's snapshot.
    #[arg(long)]
    znodes: Option<usize>,
    /// setData txns in the recovery test's log, after the snapshot.
    #[arg(long)]
    txns: Option<usize>,
    /// Skip the recovery test.
    #[arg(long)]
    no_recovery: bool,
    /// Run the recovery test alone (no write measurements), to re-measure it after a change.
    #[arg(long, conflicts_with = "no_recovery")]
    recovery_only: bool,
    /// Only the floor and the serial writes (one request in flight): no pipelined rounds, no
    /// recovery test.
    #[arg(long, conflicts_with_all = ["recovery_only", "floor_only"])]
    serial_only: bool,
    /// Only the floor, in a sparse file and in a zero-filled one side by side (what a txn
    /// log's preallocation does to each sync); no servers.
    #[arg(long, conflicts_with = "recovery_only")]
    floor_only: bool,
    /// Measure Keeper only.
    #[arg(long)]
    no_zookeeper: bool,
    /// What `cargo bench` passes to every bench target.
    #[arg(long, hide = true)]
    bench: bool,
}

/// The sizes of one run, `--quick` or not, each overridable.
struct Sizes {
    syncs: usize,
    serial: usize,
    requests: usize,
    rounds: usize,
    warmup: usize,
    znodes: usize,
    txns: usize,
}

impl Args {
    fn sizes(&self) -> Sizes {
        let (syncs, serial, requests, rounds, warmup) = match self.quick {
            true => (300, 300, 5_000, 3, 5_000),
            false => (2_000, 2_000, 20_000, 5, 20_000),
        };
        let (znodes, txns) = match self.quick {
            true => (100_000, 10_000),
            false => (1_000_000, 100_000),
        };
        Sizes {
            syncs: self.syncs.unwrap_or(syncs),
            serial: self.serial.unwrap_or(serial),
            requests: self.requests.unwrap_or(requests),
            rounds: self.rounds.unwrap_or(rounds).max(1),
            warmup,
            znodes: self.znodes.unwrap_or(znodes),
            txns: self.txns.unwrap_or(txns),
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    match bench(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("persist: {why}");
            ExitCode::FAILURE
        }
    }
}

fn bench(args: &Args) -> Result<(), String> {
    let sizes = args.sizes();
    let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("no tokio runtime: {e}"))?;
    println!(
        "persist: {} cores, load average at start {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        report::load_average()
    );
    if args.floor_only {
        println!("\n{}", floors(sizes.syncs)?);
        return Ok(());
    }
    if args.recovery_only {
        let with_zookeeper = !args.no_zookeeper
            && common::tools::java()
                .inspect_err(|reason| println!("ZooKeeper 3.8 not measured: {reason}"))
                .is_ok();
        println!("\n{}", recovery(&runtime, &sizes, with_zookeeper)?);
        return Ok(());
    }
    let settings = [("forceSync", "yes")];
    let keeper = Server::start_with_or_skip(ServerKind::Keeper, "persist", &settings)
        .ok_or("keeper server did not start")?;
    let zookeeper = match args.no_zookeeper {
        true => None,
        false => Server::start_with_or_skip(ServerKind::ZooKeeper, "persist", &settings),
    };
    let mut servers = vec![Target::new(&keeper)?];
    if let Some(z) = &zookeeper {
        servers.push(Target::new(z)?);
    }
    for s in &servers {
        println!("warming up {} ({})", s.name, s.addr);
        let config = s.config(args, 4, 64, sizes.warmup, "/warm");
        load(&runtime, &config)?;
    }

    let (serial, floors) = serial_rounds(args, &runtime, &sizes, &servers)?;

    if args.serial_only {
        println!("\n{}", serial_table(&servers, &serial, &floors));
        return Ok(());
    }
    let mut pipelined: Vec<Vec<Vec<OpReport>>> = vec![Vec::new(); servers.len()];
    let load_before = report::load_average();
    for round in 0..sizes.rounds {
        for i in report::turns(servers.len(), round) {
            let s = &servers[i];
            let root = format!("/pipelined-{round}");
            let config = s.config(
                args,
                args.connections,
                args.outstanding,
                sizes.requests,
                &root,
            );
            let reports = load(&runtime, &config)?;
            print_reports(
                &format!("{}, pipelined, round {}", s.name, round + 1),
                &reports,
            );
            pipelined[i].push(reports);
        }
    }
    let load_after = report::load_average();

    println!();
    println!("{}", serial_table(&servers, &serial, &floors));
    println!(
        "{}",
        pipelined_table(
            args,
            &sizes,
            &servers,
            &pipelined,
            (&load_before, &load_after)
        )
    );
    let measured_zookeeper = zookeeper.is_some();
    // The write servers are done; the recovery starts get the machine to themselves.
    drop((keeper, zookeeper));
    if !args.no_recovery {
        println!("\n{}", recovery(&runtime, &sizes, measured_zookeeper)?);
    }
    if !measured_zookeeper {
        println!("ZooKeeper 3.8 not measured (--no-zookeeper, or no Java: see above).");
    }
    Ok(())
}

/// The floor in a sparse file beside a zero-filled one, in turns.
fn floors(syncs: usize) -> Result<String, String> {
    let f = sparse_and_zeros(syncs)?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "fdatasync after a {FLOOR_RECORD}-byte append, {syncs} syncs per file, the two files \
         taking turns; load average {}.\n",
        report::load_average()
    );
    let _ = writeln!(
        out,
        "| file | every sync: p50 / p99 ms | the first record in a 4 KiB block: p50 / p99 ms |\n\
         |---|---:|---:|"
    );
    for (name, every, new_block) in [
        (
            "preallocated with a hole (set_len)",
            &f.sparse,
            &f.sparse_new_block,
        ),
        ("filled with zeros", &f.zeros, &f.zeros_new_block),
    ] {
        let _ = writeln!(
            out,
            "| {name} | {} / {} | {} / {} |",
            ms(every.percentile(50.0)),
            ms(every.percentile(99.0)),
            ms(new_block.percentile(50.0)),
            ms(new_block.percentile(99.0))
        );
    }
    Ok(out)
}

/// Both servers started on copies of one big dataDir, and on an empty one.
fn recovery(
    runtime: &tokio::runtime::Runtime,
    sizes: &Sizes,
    with_zookeeper: bool,
) -> Result<String, String> {
    let written = write_data_dir(sizes.znodes, sizes.txns)?;
    println!(
        "\nrecovery: wrote {} znodes and {} txns in {:.1} s",
        written.znodes,
        written.txns,
        written.took.as_secs_f64()
    );
    let mut starters = vec![("Keeper", Starter::Keeper)];
    if with_zookeeper {
        starters.push(("ZooKeeper 3.8", Starter::ZooKeeper));
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Recovery: a snapshot of {} znodes ({} bytes of data each) and {} setData txns in the \
         log after it, written by Keeper; each server started on its own copy. Load average {}.\n",
        written.znodes,
        recovery::DATA.len(),
        written.txns,
        report::load_average()
    );
    let _ = writeln!(
        out,
        "| server | empty dataDir: first read | big dataDir: first read | difference | its start-up snapshot, bytes per znode |\n|---|---:|---:|---:|---:|"
    );
    let mut differences = Vec::new();
    for (name, who) in starters {
        let empty = start_on_copy(runtime, who, None)?;
        let big = start_on_copy(runtime, who, Some(&written))?;
        let difference = big.first_read.saturating_sub(empty.first_read);
        println!(
            "{name}: first read after {:.2} s (empty dataDir {:.2} s)",
            big.first_read.as_secs_f64(),
            empty.first_read.as_secs_f64()
        );
        let per_znode = big.own_snapshot_bytes.map_or("—".into(), |b| {
            format!("{:.1}", b as f64 / written.znodes as f64)
        });
        let _ = writeln!(
            out,
            "| {name} | {:.2} s | {:.2} s | {:.2} s | {per_znode} |",
            empty.first_read.as_secs_f64(),
            big.first_read.as_secs_f64(),
            difference.as_secs_f64()
        );
        differences.push(difference);
    }
    if let [k, z] = differences[..] {
        let _ = writeln!(
            out,
            "\nKeeper's recovery (big minus empty) ÷ ZooKeeper's: **{:.2}×** (goal ≤ 0.5).",
            k.as_secs_f64() / z.as_secs_f64()
        );
    }
    let _ = write!(
        out,
        "On disk, as Keeper wrote them: the snapshot {:.1} bytes per znode, the log {:.1} bytes \
         per setData txn (records only, without the preallocated zeros).",
        written.snapshot_bytes as f64 / written.znodes as f64,
        written.log_bytes as f64 / written.txns.max(1) as f64
    );
    Ok(out)
}

/// A server the load generator drives.
struct Target {
    name: &'static str,
    addr: SocketAddr,
}

impl Target {
    fn new(server: &Server) -> Result<Target, String> {
        let name = match server.kind() {
            ServerKind::Keeper => "Keeper",
            ServerKind::ZooKeeper => "ZooKeeper 3.8",
        };
        let addr = server.address().parse().map_err(|e| format!("{e}"))?;
        Ok(Target { name, addr })
    }

    fn config(
        &self,
        args: &Args,
        connections: usize,
        outstanding: usize,
        requests: usize,
        root: &str,
    ) -> BenchConfig {
        BenchConfig {
            server: self.addr,
            connections,
            outstanding,
            requests,
            value_size: args.size,
            root: root.into(),
        }
    }
}

/// What one server's serial runs gave in each round.
type SerialRounds = Vec<Vec<OpReport>>;

/// The serial runs: in each round the floor first, then every server with one request in
/// flight, the order flipped every round so that neither server always runs right after the
/// floor's syncs.
fn serial_rounds(
    args: &Args,
    runtime: &tokio::runtime::Runtime,
    sizes: &Sizes,
    servers: &[Target],
) -> Result<(Vec<SerialRounds>, Vec<Floor>), String> {
    let mut serial: Vec<SerialRounds> = vec![Vec::new(); servers.len()];
    let mut floors = Vec::new();
    for round in 0..sizes.rounds {
        let floor = fdatasync_floor(sizes.syncs)?;
        println!("fdatasync floor, round {}: {floor}", round + 1);
        floors.push(floor);
        for i in report::turns(servers.len(), round) {
            let s = &servers[i];
            let config = s.config(args, 1, 1, sizes.serial, &format!("/serial-{round}"));
            let reports = load(runtime, &config)?;
            print_reports(
                &format!("{}, serial, round {}", s.name, round + 1),
                &reports,
            );
            serial[i].push(reports);
        }
    }
    Ok((serial, floors))
}

/// Serial create, set and get beside the floor: medians over the rounds of p50, p99 and of
/// each round's p50 over that round's floor p50.
fn serial_table(servers: &[Target], serial: &[SerialRounds], floors: &[Floor]) -> String {
    let mut out = String::new();
    let floor_p50: Vec<f64> = floors
        .iter()
        .map(|f| f.percentile(50.0).as_secs_f64())
        .collect();
    let least = floor_p50.iter().copied().fold(f64::INFINITY, f64::min);
    let most = floor_p50.iter().copied().fold(0.0, f64::max);
    let _ = writeln!(
        out,
        "One connection, one request in flight; {} rounds, the servers' order flipped every \
         round; medians over the rounds. fdatasync floor (write {FLOOR_RECORD} bytes + \
         fdatasync), measured before each round: p50 {:.3} to {:.3} ms.\n",
        floors.len(),
        least * 1e3,
        most * 1e3
    );
    let _ = writeln!(
        out,
        "| server | op | ops/s | p50 / p99 ms | p50 ÷ floor p50 |\n|---|---|---:|---:|---:|"
    );
    for (s, rounds) in servers.iter().zip(serial) {
        let Some(first) = rounds.first() else {
            continue;
        };
        for op in first.iter().map(|r| r.op) {
            let of_op = |round: &Vec<OpReport>| round.iter().find(|r| r.op == op).cloned();
            let reports: Vec<(usize, OpReport)> = rounds
                .iter()
                .enumerate()
                .filter_map(|(i, round)| of_op(round).map(|r| (i, r)))
                .collect();
            let median_of = |f: &dyn Fn(usize, &OpReport) -> f64| {
                report::median(reports.iter().map(|(i, r)| f(*i, r)).collect())
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.3} / {:.3} | {:.2}× |",
                s.name,
                op,
                report::thousands(median_of(&|_, r| r.throughput())),
                median_of(&|_, r| r.percentile(50.0).as_secs_f64()) * 1e3,
                median_of(&|_, r| r.percentile(99.0).as_secs_f64()) * 1e3,
                median_of(&|i, r| r.percentile(50.0).as_secs_f64() / floor_p50[i])
            );
        }
    }
    let _ = write!(
        out,
        "(the ratio is each round's p50 over the floor measured just before that round, then \
         the median over the rounds; get is a read, with no sync)"
    );
    out
}

/// Median throughput and p99 of each op over the rounds, Keeper beside ZooKeeper.
fn pipelined_table(
    args: &Args,
    sizes: &Sizes,
    servers: &[Target],
    runs: &[Vec<Vec<OpReport>>],
    load: (&str, &str),
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} connection(s) × {} in flight, {} nodes of {} bytes, {} rounds, medians; load \
         average {} before, {} after.\n",
        args.connections, args.outstanding, sizes.requests, args.size, sizes.rounds, load.0, load.1
    );
    let mut header = String::from("| op |");
    let mut rule = String::from("|---|");
    for s in servers {
        let _ = write!(header, " {} ops/s | {} p99 ms |", s.name, s.name);
        rule.push_str("---:|---:|");
    }
    if servers.len() == 2 {
        header.push_str(" throughput ratio | p99 ratio |");
        rule.push_str("---:|---:|");
    }
    let _ = writeln!(out, "{header}\n{rule}");
    let ops = runs[0][0].iter().map(|r| r.op).collect::<Vec<_>>();
    for (o, op) in ops.iter().enumerate() {
        let medians: Vec<(f64, f64)> = runs
            .iter()
            .map(|rounds| {
                let tput = report::median(rounds.iter().map(|r| r[o].throughput()).collect());
                let p99 = report::median(
                    rounds
                        .iter()
                        .map(|r| r[o].percentile(99.0).as_secs_f64() * 1e3)
                        .collect(),
                );
                (tput, p99)
            })
            .collect();
        let errors: usize = runs.iter().flatten().map(|r| r[o].errors).sum();
        let _ = write!(out, "| {op} |");
        for (tput, p99) in &medians {
            let _ = write!(out, " {} | {p99:.2} |", report::thousands(*tput));
        }
        if let [(kt, kp), (zt, zp)] = medians[..] {
            let _ = write!(out, " **{:.2}×** | **{:.2}** |", kt / zt, kp / zp);
        }
        if errors > 0 {
            let _ = write!(out, " ({errors} failed requests)");
        }
        let _ = writeln!(out);
    }
    let _ = write!(
        out,
        "(throughput ratio: Keeper ÷ ZooKeeper, goal ≥ 2; p99 ratio: Keeper ÷ ZooKeeper, goal ≤ 0.5)"
    );
    out
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1e3)
}
