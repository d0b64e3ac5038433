//! What a held session, a znode and a watch cost in memory, Keeper beside ZooKeeper 3.8.
//!
//! Run: `cargo bench --bench memory` (1k/10k/20k sessions, 100k/1M znodes and watches, an
//! ensemble of each program, three alternating rounds: four minutes on an idle machine, ten
//! and more under load), or `cargo bench --bench memory -- --quick` (one round of the
//! smallest size of each, about a minute), or `cargo bench --bench memory -- --replicated-only`
//! (the follower's rows alone). `-- --help` lists the other knobs.
//!
//! The idea to take away: **a server's reach is set by what each idle thing costs.** Tens of
//! thousands of clients mostly sit idle; millions of znodes and watches mostly sit unread.
//! Three figures, each measured on the same workload for both servers:
//!
//! - **resident memory per held idle session**: `keeper server` and ZooKeeper's
//!   `QuorumPeerMain` started the same way (a standalone `zoo.cfg`, loopback, fresh dataDir),
//!   `n` raw ConnectRequests (30 s timeout) from this one process, the server's `VmRSS`
//!   before and after ([`sessions`]); and the time it took to open them;
//! - **bytes per znode**: `n` znodes at ZooKeeper's DataTree-bench paths
//!   (`/bench/pNNNN/nNNNNNNN`, 1000 per parent) with 100-byte values. Keeper's tree is built
//!   in this process and weighed by a counting allocator ([`heap`]); ZooKeeper's `DataTree` in
//!   a JVM, weighed as heap in use after GC (`MemoryBench.java`, beside this file);
//! - **bytes per watch**: `n / 10` such paths, each watched by 10 sessions (five with data
//!   watches, five with child watches), in chapter 3's watch tables and in ZooKeeper's
//!   `DataTree` watch managers (its default, `WatchManager`); and the time to fire them all;
//! - **the same on a replicated server**: per held session and bytes per znode on a follower
//!   of a three-server ensemble of each program, where replication's own state sits beside
//!   the tree and the sessions ([`replicated`]). Each figure gets a fresh ensemble, as each
//!   standalone figure gets a fresh server: memory a server touched once stays resident, and
//!   sessions held after 100,000 znodes mostly fill it (a `then` row shows by how much).
//!
//! Runs alternate (Keeper first in even rounds, ZooKeeper first in odd ones); each figure is
//! the median of the rounds, and the ratio is Keeper's over ZooKeeper's. A full run writes the
//! table to `benches/memory/measured.txt`, which the book includes. Without `java`, `javac` or
//! ZooKeeper's jar, the ZooKeeper columns are skipped and the bench says so.

#[path = "../../tests/common/mod.rs"]
mod common;
mod heap;
// Shared with the ensemble bench, which also kills members.
#[allow(dead_code)]
#[path = "../ensemble/members.rs"]
mod members;
mod replicated;
#[path = "../support/report.rs"]
mod report;
mod sessions;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use clap::Parser;
use sessions::{Kind, Scratch, JVM_HEAP, SLF4J_NOP_JAR, ZOOKEEPER_JAR};

#[derive(Parser, Debug)]
#[command(about = "Memory per session, znode and watch: Keeper vs ZooKeeper 3.8")]
struct Args {
    /// One round of the smallest size of each figure, without writing the results file.
    #[arg(long)]
    quick: bool,
    /// Rounds per figure (the median is reported).
    #[arg(long)]
    rounds: Option<usize>,
    /// Held sessions to measure at.
    #[arg(long, value_delimiter = ',')]
    sessions: Option<Vec<usize>>,
    /// Znode counts to measure at.
    #[arg(long, value_delimiter = ',')]
    znodes: Option<Vec<usize>>,
    /// Watch counts to measure at.
    #[arg(long, value_delimiter = ',')]
    watches: Option<Vec<usize>>,
    /// Znodes created through a follower of a three-server ensemble.
    #[arg(long)]
    ensemble_znodes: Option<usize>,
    /// Sessions held on a follower: of a fresh ensemble, and again after the znodes.
    #[arg(long)]
    ensemble_sessions: Option<usize>,
    /// Skip the ensemble figures.
    #[arg(long)]
    no_ensemble: bool,
    /// Only the ensemble figures (the follower's), none of the standalone server's or the
    /// in-process tree's.
    #[arg(long, conflicts_with = "no_ensemble")]
    replicated_only: bool,
    /// Measure Keeper only.
    #[arg(long)]
    no_zookeeper: bool,
    /// Where to write the table (default: benches/memory/measured.txt on a full run).
    #[arg(long)]
    out: Option<PathBuf>,
    /// What `cargo bench` passes to every bench target.
    #[arg(long, hide = true)]
    bench: bool,
}

/// Keeper's and ZooKeeper's medians of one figure.
struct Row {
    what: String,
    keeper: f64,
    zookeeper: Option<f64>,
}

/// The row of a figure recorded alongside another: the medians of each server's samples.
fn row_of(what: String, samples: &[(Kind, f64)]) -> Row {
    let of = |kind: Kind| {
        let xs: Vec<f64> = samples
            .iter()
            .filter(|s| s.0 == kind)
            .map(|s| s.1)
            .collect();
        (!xs.is_empty()).then(|| report::median(xs))
    };
    Row {
        what,
        keeper: of(Kind::Keeper).unwrap_or(0.0),
        zookeeper: of(Kind::ZooKeeper),
    }
}

/// Runs `measure` for Keeper and ZooKeeper `rounds` times, alternating who goes first.
fn alternate(
    rounds: usize,
    zookeeper: bool,
    mut measure: impl FnMut(Kind) -> Result<f64, String>,
) -> Result<(f64, Option<f64>), String> {
    let (mut keeper, mut zk) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let order = if round % 2 == 0 {
            [Kind::Keeper, Kind::ZooKeeper]
        } else {
            [Kind::ZooKeeper, Kind::Keeper]
        };
        for kind in order {
            match kind {
                Kind::Keeper => keeper.push(measure(kind)?),
                Kind::ZooKeeper if zookeeper => zk.push(measure(kind)?),
                Kind::ZooKeeper => {}
            }
        }
    }
    Ok((
        report::median(keeper),
        zookeeper.then(|| report::median(zk)),
    ))
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("memory bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    let rounds = args.rounds.unwrap_or(if args.quick { 1 } else { 3 });
    let pick = |given: &Option<Vec<usize>>, full: &[usize]| {
        given.clone().unwrap_or_else(|| {
            if args.quick {
                full[..1].to_vec()
            } else {
                full.to_vec()
            }
        })
    };
    let standalone = |given: &Option<Vec<usize>>, full: &[usize]| {
        if args.replicated_only {
            Vec::new()
        } else {
            pick(given, full)
        }
    };
    let session_counts = standalone(&args.sessions, &[1_000, 10_000, 20_000]);
    let znode_counts = standalone(&args.znodes, &[100_000, 1_000_000]);
    let watch_counts = standalone(&args.watches, &[100_000, 1_000_000]);
    let java = if args.no_zookeeper {
        None
    } else {
        match MemoryBenchJava::compile() {
            Ok(java) => Some(java),
            Err(why) => {
                println!("ZooKeeper columns skipped: {why}");
                None
            }
        }
    };
    let zk = java.is_some();
    // Each session takes a descriptor here and one in the server: stay under the limit.
    let fd_cap = sessions::open_files_limit().map_or(usize::MAX, |l| l.saturating_sub(256));

    let mut rows = Vec::new();
    let mut notes = Vec::new();
    for &asked in &session_counts {
        let n = asked.min(fd_cap);
        if n < asked {
            notes.push(format!(
                "{asked} sessions capped at {n}: `ulimit -n` is {} for the client and the server",
                fd_cap + 256
            ));
        }
        let mut opened = Vec::new();
        let (keeper, zookeeper) = alternate(rounds, zk, |kind| {
            let f = sessions::measure(kind, n)?;
            eprintln!(
                "  {} {n} sessions: {:.1} KiB each, opened in {:.1} s",
                kind.name(),
                f.bytes_per_session / 1024.0,
                f.open_s
            );
            opened.push((kind, f.open_s));
            Ok(f.bytes_per_session)
        })?;
        rows.push(Row {
            what: format!("resident KiB per held session, {n}"),
            keeper: keeper / 1024.0,
            zookeeper: zookeeper.map(|z| z / 1024.0),
        });
        let rates: Vec<(Kind, f64)> = opened.iter().map(|&(k, s)| (k, n as f64 / s)).collect();
        rows.push(row_of(format!("sessions opened per second, {n}"), &rates));
    }
    for &n in &znode_counts {
        let mut chunks = Vec::new();
        let (keeper, zookeeper) = alternate(rounds, zk, |kind| match kind {
            Kind::Keeper => {
                let bytes = heap::znode_bytes(n);
                chunks.push(bytes.chunks as f64 / n as f64);
                Ok(bytes.live as f64 / n as f64)
            }
            Kind::ZooKeeper => {
                let out = java.as_ref().expect("compiled").run("znodes", n)?;
                Ok(field(&out, "bytes")? / n as f64)
            }
        })?;
        rows.push(Row {
            what: format!("bytes per znode, {n}"),
            keeper,
            zookeeper,
        });
        let chunks = report::median(chunks);
        notes.push(format!(
            "bytes per znode, {n}: Keeper's allocations counted as glibc malloc lays them \
             out (an 8-byte header each, 16-byte steps) are {chunks:.1} bytes per znode{}",
            zookeeper.map_or(String::new(), |z| format!(
                " ({:.2}× ZooKeeper)",
                chunks / z
            ))
        ));
    }
    for &n in &watch_counts {
        let mut fire = Vec::new();
        let (keeper, zookeeper) = alternate(rounds, zk, |kind| match kind {
            Kind::Keeper => {
                let f = heap::watches(n);
                fire.push((kind, f.fire_s));
                Ok(f.bytes as f64 / n as f64)
            }
            Kind::ZooKeeper => {
                let out = java.as_ref().expect("compiled").run("watches", n)?;
                fire.push((kind, field(&out, "fire_s")?));
                Ok(field(&out, "bytes")? / n as f64)
            }
        })?;
        rows.push(Row {
            what: format!("bytes per watch, {n}"),
            keeper,
            zookeeper,
        });
        let ms: Vec<(Kind, f64)> = fire.iter().map(|&(k, s)| (k, s * 1000.0)).collect();
        rows.push(row_of(format!("ms to fire them all, {n}"), &ms));
    }
    if !args.no_ensemble {
        let full = |quick: usize, full: usize| if args.quick { quick } else { full };
        let znodes = args.ensemble_znodes.unwrap_or(full(10_000, 100_000));
        let held = args
            .ensemble_sessions
            .unwrap_or(full(1_000, 10_000))
            .min(fd_cap);
        let (mut per_znode, mut after_znodes) = (Vec::new(), Vec::new());
        let mut heaps: Vec<(&str, f64, f64)> = Vec::new();
        let kib = |f: &replicated::HeldFigures| f.bytes_per_session / 1024.0;
        let (keeper, zookeeper) = alternate(rounds, zk, |kind| {
            let fresh = replicated::sessions(kind, held)?;
            let (znode, grown) = replicated::znodes_then_sessions(kind, znodes, held)?;
            eprintln!(
                "  {} follower: {:.1} KiB per session fresh{}, {znode:.0} bytes per znode, \
                 then {:.1} KiB per session{}",
                kind.name(),
                kib(&fresh),
                heap_text(&fresh),
                kib(&grown),
                heap_text(&grown)
            );
            per_znode.push((kind, znode));
            after_znodes.push((kind, kib(&grown)));
            for (when, f) in [("fresh", &fresh), ("after the znodes", &grown)] {
                if let Some(h) = f.heap {
                    heaps.push((when, h.used / 1024.0, h.committed / 1024.0));
                }
            }
            Ok(kib(&fresh))
        })?;
        rows.push(Row {
            what: format!("follower of 3: KiB per session, {held}"),
            keeper,
            zookeeper,
        });
        rows.push(row_of(
            format!("follower of 3: bytes per znode, {znodes}"),
            &per_znode,
        ));
        rows.push(row_of(
            format!("  then KiB per session, {held}"),
            &after_znodes,
        ));
        notes.push(format!(
            "follower of 3: each ZooKeeper member a JVM with {}, weighed after a full GC \
             for the znodes; each session figure on a fresh ensemble, the `then` row on the \
             one the znodes grew",
            members::ZOOKEEPER_HEAP
        ));
        for when in ["fresh", "after the znodes"] {
            let of = |pick: fn(&(&str, f64, f64)) -> f64| {
                let xs: Vec<f64> = heaps.iter().filter(|h| h.0 == when).map(pick).collect();
                (!xs.is_empty()).then(|| report::median(xs))
            };
            if let (Some(used), Some(committed)) = (of(|h| h.1), of(|h| h.2)) {
                notes.push(format!(
                    "follower of 3, sessions {when}: ZooKeeper's heap in use grew \
                     {used:.1} KiB per session, its committed heap {committed:.1} KiB"
                ));
            }
        }
    }

    let table = render(&rows, rounds, &notes, zk);
    print!("{table}");
    let out = args.out.clone().or_else(|| {
        let full = !args.quick
            && !args.replicated_only
            && args.sessions.is_none()
            && args.znodes.is_none()
            && args.watches.is_none();
        full.then(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/memory/measured.txt"))
    });
    if let Some(out) = out {
        std::fs::write(&out, &table).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
        println!("written to {}", out.display());
    }
    Ok(())
}

/// The side-by-side table, as printed and as the book shows it.
fn render(rows: &[Row], rounds: usize, notes: &[String], zk: bool) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "medians of {rounds} alternating round(s); ZooKeeper 3.8 server JVM {JVM_HEAP}, \
         its DataTree in a JVM with -Xmx4g"
    );
    let _ = writeln!(
        t,
        "{:<38} {:>12} {:>14} {:>7}",
        "", "Keeper", "ZooKeeper 3.8", "ratio"
    );
    for row in rows {
        let (zk_text, ratio) = match row.zookeeper {
            Some(z) if z > 0.0 => (format!("{z:.1}"), format!("{:.2}×", row.keeper / z)),
            _ => ("-".to_string(), "-".to_string()),
        };
        let _ = writeln!(
            t,
            "{:<38} {:>12.1} {:>14} {:>7}",
            row.what, row.keeper, zk_text, ratio
        );
    }
    if !zk {
        let _ = writeln!(t, "(ZooKeeper not measured)");
    }
    for note in notes {
        let _ = writeln!(t, "note: {note}");
    }
    t
}

/// A ZooKeeper follower's heap growth per session, for the progress line.
fn heap_text(f: &replicated::HeldFigures) -> String {
    f.heap.map_or(String::new(), |h| {
        format!(
            " (heap: {:.1} KiB in use, {:.1} committed)",
            h.used / 1024.0,
            h.committed / 1024.0
        )
    })
}

/// `name value` from MemoryBench.java's output.
fn field(out: &str, name: &str) -> Result<f64, String> {
    out.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .ok_or_else(|| format!("MemoryBench printed no `{name}`:\n{out}"))
}

/// `MemoryBench.java`, compiled against ZooKeeper's jar into a scratch directory.
struct MemoryBenchJava {
    classes: Scratch,
}

impl MemoryBenchJava {
    fn compile() -> Result<MemoryBenchJava, String> {
        if !Path::new(ZOOKEEPER_JAR).exists() {
            return Err(format!("{ZOOKEEPER_JAR} is not installed"));
        }
        let classes = Scratch::new("classes").map_err(|e| e.to_string())?;
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/memory/MemoryBench.java");
        let out = Command::new("javac")
            .arg("-cp")
            .arg(ZOOKEEPER_JAR)
            .arg("-d")
            .arg(&classes.0)
            .arg(&source)
            .output()
            .map_err(|e| format!("cannot run javac: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "javac failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(MemoryBenchJava { classes })
    }

    fn run(&self, what: &str, n: usize) -> Result<String, String> {
        let out = Command::new("java")
            .arg("-Xmx4g")
            .arg("-cp")
            .arg(format!(
                "{ZOOKEEPER_JAR}:{SLF4J_NOP_JAR}:{}",
                self.classes.0.display()
            ))
            .arg("MemoryBench")
            .arg(what)
            .arg(n.to_string())
            .output()
            .map_err(|e| format!("cannot run java: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "MemoryBench {what} {n} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}
