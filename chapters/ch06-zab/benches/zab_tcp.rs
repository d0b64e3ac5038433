//! Committed writes per second of three chapter-6 processes on 127.0.0.1, beside a real
//! ZooKeeper 3.8 ensemble on the same machine under the same load.
//!
//! Run: `cargo bench -p ch06-zab --bench zab_tcp` (add `-- --requests 20000` for a quicker
//! run, `-- --help` for the other knobs).
//!
//! The idea to take away: **with many writes in flight, the round trips overlap and the
//! cores set the pace.** The simulator's figure (`zab_throughput`) is what the protocol code
//! costs; here every write also crosses loopback TCP to the leader and back (twice for a
//! follower's client: REQUEST to the leader, then PROPOSAL, ACK and COMMIT), and three
//! processes and the load generator share the machine's cores. A write's latency is then
//! mostly its wait in line (Little's law: 256 in flight at 25,000/s is 10 ms each).
//! ZooKeeper pays the same round trips, so the two ensembles are measured the same way, one
//! after the other:
//!
//! 1. start three servers on fresh 127.0.0.1 ports (`tickTime` 2000, `initLimit` 10,
//!    `syncLimit` 5 for both) and wait until each answers `srvr` with its mode;
//! 2. warm up: one run of chapter 3's load generator ([`ch03_sessions::client::bench`])
//!    through the leader and one through a follower (the JVM compiles its hot paths);
//! 3. measure: the same load through the leader, then through a follower: create, set and
//!    get over the same nodes. Create and set are committed writes (each one a txn through
//!    Zab); get is a read the connected server answers alone;
//! 4. kill the three processes.
//!
//! Keeper's disk is still in memory (chapter 7 adds the txn log), so ZooKeeper runs first
//! with `forceSync=no` (its log is written but not synced: the fair comparison), then with
//! its default `forceSync=yes` (what ZooKeeper really costs). Without `java` or ZooKeeper's
//! jar the ZooKeeper rows are skipped, and the bench says so.
//!
//! Every process is a [`Process`], killed and reaped when dropped: on success, on an error
//! and on a panic alike. (Nothing can clean up after a `kill -9` of the bench itself.)

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

#[path = "../../../benches/support/report.rs"]
mod report;

use ch03_sessions::client::bench::{run, BenchConfig, OpReport};
use clap::Parser;

/// The longest an ensemble may take to start serving.
const START_BOUND: Duration = Duration::from_secs(60);
/// The longest one run of the load generator may take (a wedged server fails the bench).
const LOAD_BOUND: Duration = Duration::from_secs(600);
/// ZooKeeper's jar (Debian's package) and a log binding that prints to stderr.
const ZOOKEEPER_JAR: &str = "/usr/share/java/zookeeper.jar";
const SLF4J_JAR: &str = "/usr/share/java/slf4j-simple.jar";
/// Lines of each process's output kept to show when it fails.
const KEPT_LINES: usize = 40;

#[derive(Parser, Debug)]
#[command(about = "Three Keeper (chapter 6) processes vs a ZooKeeper 3.8 ensemble on 127.0.0.1")]
struct Args {
    /// Nodes per measured phase (create, set, get).
    #[arg(long, default_value_t = 50_000)]
    requests: usize,
    /// Nodes per warm-up run (one through the leader, one through a follower).
    #[arg(long, default_value_t = 20_000)]
    warmup: usize,
    /// Sessions the load generator opens.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Requests in flight per session.
    #[arg(long, default_value_t = 64)]
    outstanding: usize,
    /// Bytes of data per node.
    #[arg(long, default_value_t = 100)]
    size: usize,
    /// Measure Keeper only.
    #[arg(long)]
    no_zookeeper: bool,
    /// Let Keeper's servers print a line per applied txn, as they do without --quiet.
    #[arg(long)]
    chatty: bool,
    /// What `cargo bench` passes to every bench target.
    #[arg(long, hide = true)]
    bench: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let scratch = match Scratch::new() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("zab_tcp: no scratch directory: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "zab_tcp: 3 servers on 127.0.0.1 · {} connections × {} outstanding · {} nodes of {} bytes \
         (warm-up {} through each) · {} cores, load average at start {}",
        args.connections,
        args.outstanding,
        args.requests,
        args.size,
        args.warmup,
        thread::available_parallelism().map_or(0, |n| n.get()),
        report::load_average()
    );

    let keeper = measure(
        &runtime,
        &args,
        Kind::Keeper {
            chatty: args.chatty,
        },
        &scratch,
    );
    let keeper = match keeper {
        Ok(k) => k,
        Err(why) => {
            eprintln!("zab_tcp: Keeper: {why}");
            return ExitCode::FAILURE;
        }
    };
    let mut failed = false;
    let mut zookeeper = Vec::new();
    let missing = zookeeper_missing(&args);
    for force_sync in [false, true] {
        let kind = Kind::ZooKeeper { force_sync };
        let measured = match &missing {
            Some(why) => Err(why.clone()),
            None => measure(&runtime, &args, kind, &scratch).inspect_err(|why| {
                eprintln!("zab_tcp: {}: {why}", kind.name());
                failed = true;
            }),
        };
        zookeeper.push((kind, measured));
    }
    println!("\n{}", comparison(&args, &keeper, &zookeeper));
    match failed {
        true => ExitCode::FAILURE,
        false => ExitCode::SUCCESS,
    }
}

/// Which ensemble.
#[derive(Clone, Copy, Debug)]
enum Kind {
    /// Three processes of the chapter's binary (`--listen`); `chatty` keeps their per-txn
    /// lines.
    Keeper { chatty: bool },
    /// Three `QuorumPeerMain` JVMs; `force_sync` is zoo.cfg's `forceSync`.
    ZooKeeper { force_sync: bool },
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Keeper { chatty: false } => "Keeper",
            Kind::Keeper { chatty: true } => "Keeper, a line printed per applied txn",
            Kind::ZooKeeper { force_sync: false } => "ZooKeeper 3.8, forceSync=no",
            Kind::ZooKeeper { force_sync: true } => "ZooKeeper 3.8, forceSync=yes (default)",
        }
    }

    /// ZooKeeper's zoo.cfg setting, in a few words (empty for Keeper).
    fn setting(self) -> &'static str {
        match self {
            Kind::Keeper { .. } => "",
            Kind::ZooKeeper { force_sync: false } => "forceSync=no",
            Kind::ZooKeeper { force_sync: true } => "forceSync=yes",
        }
    }
}

/// Why the ZooKeeper rows cannot be measured here, if they cannot.
fn zookeeper_missing(args: &Args) -> Option<String> {
    if args.no_zookeeper {
        return Some("skipped (--no-zookeeper)".into());
    }
    let java = Command::new("java")
        .arg("-version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !java.is_ok_and(|s| s.success()) {
        return Some("skipped: no `java` on PATH".into());
    }
    for jar in [ZOOKEEPER_JAR, SLF4J_JAR] {
        if !Path::new(jar).exists() {
            return Some(format!(
                "skipped: {jar} is missing (Debian's `zookeeper` package)"
            ));
        }
    }
    None
}

/// One ensemble's figures.
struct Measured {
    /// The runs through the leader, then through a follower: `("leader", reports)`.
    paths: Vec<(&'static str, Vec<OpReport>)>,
    /// The load average just before and just after the measured runs.
    load: (String, String),
}

/// Starts `kind`'s ensemble, warms it up, measures it, and stops it.
fn measure(
    runtime: &tokio::runtime::Runtime,
    args: &Args,
    kind: Kind,
    scratch: &Scratch,
) -> Result<Measured, String> {
    println!("\n## {}", kind.name());
    let mut ensemble = Ensemble::start(kind, scratch)?;
    let (leader, follower) = ensemble.serving()?;
    println!("serving: leader {leader}, follower {follower}");
    for (addr, root) in [(leader, "/warm-leader"), (follower, "/warm-follower")] {
        load(runtime, args, addr, root, args.warmup)
            .map_err(|why| ensemble.explain(&format!("warm-up through {addr}: {why}")))?;
    }
    let before = report::load_average();
    let mut paths = Vec::new();
    for (via, addr, root) in [
        ("leader", leader, "/bench-leader"),
        ("follower", follower, "/bench-follower"),
    ] {
        let reports = load(runtime, args, addr, root, args.requests)
            .map_err(|why| ensemble.explain(&format!("through the {via} {addr}: {why}")))?;
        println!("\nthrough the {via} ({addr}):\n{}", OpReport::TABLE_HEADER);
        for r in &reports {
            println!("{r}");
        }
        paths.push((via, reports));
    }
    let after = report::load_average();
    println!("load average before / after: {before} / {after}");
    Ok(Measured {
        paths,
        load: (before, after),
    })
}

/// One run of chapter 3's load generator against `server`.
fn load(
    runtime: &tokio::runtime::Runtime,
    args: &Args,
    server: SocketAddr,
    root: &str,
    requests: usize,
) -> Result<Vec<OpReport>, String> {
    let config = BenchConfig {
        server,
        connections: args.connections,
        outstanding: args.outstanding,
        requests,
        value_size: args.size,
        root: root.into(),
    };
    runtime.block_on(async {
        match tokio::time::timeout(LOAD_BOUND, run(&config)).await {
            Ok(Ok(reports)) => Ok(reports),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no end after {LOAD_BOUND:?}")),
        }
    })
}

/// The side-by-side table: one row per path and op, Keeper's figures first, then each
/// ZooKeeper setting's with Keeper's throughput divided by it.
fn comparison(
    args: &Args,
    keeper: &Measured,
    zookeeper: &[(Kind, Result<Measured, String>)],
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Three servers on 127.0.0.1, {} connections × {} outstanding, {} nodes of {} bytes. \
         create and set are committed writes; get is a local read. p50 / p99 latency in ms.\n",
        args.connections, args.outstanding, args.requests, args.size
    );
    let mut header = String::from("| via | op | Keeper ops/s | Keeper p50 / p99 |");
    let mut rule = String::from("|---|---|---:|---:|");
    for (kind, _) in zookeeper {
        let setting = kind.setting();
        let _ = write!(
            header,
            " ZooKeeper {setting} ops/s | Keeper ÷ ZooKeeper {setting} | ZooKeeper {setting} p50 / p99 |"
        );
        rule.push_str("---:|---:|---:|");
    }
    let _ = writeln!(out, "{header}\n{rule}");
    for (p, (via, reports)) in keeper.paths.iter().enumerate() {
        for (i, k) in reports.iter().enumerate() {
            let _ = write!(
                out,
                "| {via} | {} | {} | {} |",
                k.op,
                report::thousands(k.throughput()),
                latency(k)
            );
            for (_, zk) in zookeeper {
                let _ = match zk {
                    Ok(m) => {
                        let z = &m.paths[p].1[i];
                        write!(
                            out,
                            " {} | **{:.2}×** | {} |",
                            report::thousands(z.throughput()),
                            k.throughput() / z.throughput(),
                            latency(z)
                        )
                    }
                    Err(_) => write!(out, " — | — | — |"),
                };
            }
            let _ = writeln!(out);
        }
    }
    let _ = writeln!(out);
    let errors = |m: &Measured| {
        let reports = m.paths.iter().flat_map(|(_, reports)| reports);
        reports.map(|r| r.errors).sum::<usize>()
    };
    let _ = writeln!(
        out,
        "- Keeper: load average {} before, {} after; {} failed requests.",
        keeper.load.0,
        keeper.load.1,
        errors(keeper)
    );
    for (kind, zk) in zookeeper {
        let _ = match zk {
            Ok(m) => writeln!(
                out,
                "- {}: load average {} before, {} after; {} failed requests.",
                kind.name(),
                m.load.0,
                m.load.1,
                errors(m)
            ),
            Err(why) => writeln!(out, "- {}: {why}", kind.name()),
        };
    }
    let _ = write!(
        out,
        "- Keeper's disk is in memory (no txn log until chapter 7): compare it with the \
         forceSync=no columns; the default columns show what syncing ZooKeeper's log costs."
    );
    out
}

fn latency(r: &OpReport) -> String {
    let ms = |p| r.percentile(p).as_secs_f64() * 1e3;
    format!("{:.2} / {:.2}", ms(50.0), ms(99.0))
}

/// A child process, killed (SIGKILL) and reaped when dropped, whatever happened before.
struct Process {
    name: String,
    child: Child,
    /// Its last lines of output, for when it fails.
    last: Arc<Mutex<VecDeque<String>>>,
}

impl Process {
    fn spawn(name: String, mut command: Command) -> Result<Process, String> {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start {name}: {e}"))?;
        let last = Arc::new(Mutex::new(VecDeque::new()));
        let out = child.stdout.take().expect("piped");
        let err = child.stderr.take().expect("piped");
        let process = Process { name, child, last };
        process.keep(out);
        process.keep(err);
        Ok(process)
    }

    /// Reads `pipe` to its end, keeping the last lines (a pipe nobody reads would stop the
    /// process once full).
    fn keep(&self, pipe: impl Read + Send + 'static) {
        let last = self.last.clone();
        thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut last = last.lock().expect("output lock");
                if last.len() == KEPT_LINES {
                    last.pop_front();
                }
                last.push_back(line);
            }
        });
    }

    /// Its exit status, if it has stopped.
    fn stopped(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            Ok(None) => None,
            Err(e) => Some(e.to_string()),
        }
    }

    fn last_lines(&self) -> String {
        let last = self.last.lock().expect("output lock");
        last.iter().fold(String::new(), |mut out, l| {
            let _ = writeln!(out, "  {l}");
            out
        })
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A directory for the bench's files (ZooKeeper's zoo.cfg, myid and logs), on the target
/// directory's disk, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> std::io::Result<Scratch> {
        let dir =
            Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("zab_tcp-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One member: its client port and its process.
struct Server {
    client: SocketAddr,
    process: Process,
}

/// Three running servers (killed when dropped) and their files.
struct Ensemble {
    servers: Vec<Server>,
    /// Removed after the servers are killed (fields drop in order).
    _files: Option<Scratch>,
}

impl Ensemble {
    /// Starts `kind`'s three servers on fresh ports of 127.0.0.1.
    fn start(kind: Kind, scratch: &Scratch) -> Result<Ensemble, String> {
        let ports: Vec<[u16; 3]> = (0..3)
            .map(|_| Ok([free_port()?, free_port()?, free_port()?]))
            .collect::<std::io::Result<_>>()
            .map_err(|e| format!("no free port: {e}"))?;
        let mut ensemble = Ensemble {
            servers: Vec::new(),
            _files: None,
        };
        let files = match kind {
            Kind::Keeper { .. } => None,
            Kind::ZooKeeper { force_sync } => {
                let dir = scratch.0.join(format!("zookeeper-force-sync-{force_sync}"));
                std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                Some(Scratch(dir))
            }
        };
        for (i, [client, ..]) in ports.iter().enumerate() {
            let sid = i + 1;
            let (name, command) = match (kind, &files) {
                (Kind::Keeper { chatty }, _) => {
                    let mut c = Command::new(env!("CARGO_BIN_EXE_ch06-zab"));
                    c.args(["--listen", &format!("127.0.0.1:{client}")])
                        .args(["--myid", &sid.to_string()]);
                    for (j, [_, q, e]) in ports.iter().enumerate() {
                        c.arg("--peer").arg(format!("{}=127.0.0.1:{q}:{e}", j + 1));
                    }
                    if !chatty {
                        c.arg("--quiet");
                    }
                    (format!("keeper n{sid}"), c)
                }
                (Kind::ZooKeeper { force_sync }, Some(files)) => {
                    let cfg = zoo_cfg(&files.0, sid, *client, &ports, force_sync)?;
                    let mut c = Command::new("java");
                    c.arg("-Xmx512m")
                        .args(["-cp", &format!("{ZOOKEEPER_JAR}:{SLF4J_JAR}")])
                        .arg("org.apache.zookeeper.server.quorum.QuorumPeerMain")
                        .arg(cfg);
                    (format!("zookeeper {sid}"), c)
                }
                (Kind::ZooKeeper { .. }, None) => unreachable!("ZooKeeper has its files"),
            };
            let process = Process::spawn(name, command)?;
            ensemble.servers.push(Server {
                client: SocketAddr::from(([127, 0, 0, 1], *client)),
                process,
            });
        }
        ensemble._files = files;
        Ok(ensemble)
    }

    /// Waits until every server answers `srvr` with a mode, one of them `leader`; returns
    /// the leader's client address and a follower's. Neither server says anything else we
    /// could wait on (the JVM's log is not an interface), so this asks every 100 ms, for at
    /// most [`START_BOUND`].
    fn serving(&mut self) -> Result<(SocketAddr, SocketAddr), String> {
        let deadline = Instant::now() + START_BOUND;
        loop {
            let modes: Vec<Option<String>> =
                self.servers.iter().map(|s| srvr_mode(s.client)).collect();
            let with = |mode: &str| {
                self.servers
                    .iter()
                    .zip(&modes)
                    .filter(|(_, m)| m.as_deref() == Some(mode))
                    .map(|(s, _)| s.client)
                    .collect::<Vec<_>>()
            };
            let (leaders, followers) = (with("leader"), with("follower"));
            if leaders.len() == 1 && followers.len() == 2 {
                return Ok((leaders[0], followers[0]));
            }
            for s in &mut self.servers {
                if let Some(status) = s.process.stopped() {
                    let why = format!("{} stopped ({status})", s.process.name);
                    return Err(self.explain(&why));
                }
            }
            if Instant::now() > deadline {
                let why = format!("not serving after {START_BOUND:?} (srvr modes {modes:?})");
                return Err(self.explain(&why));
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// `why`, followed by what each server printed last.
    fn explain(&self, why: &str) -> String {
        let mut out = why.to_string();
        for s in &self.servers {
            let _ = write!(
                out,
                "\n{} printed:\n{}",
                s.process.name,
                s.process.last_lines()
            );
        }
        out
    }
}

/// ZooKeeper server `sid`'s zoo.cfg (and its myid), under `dir`; returns the zoo.cfg path.
fn zoo_cfg(
    dir: &Path,
    sid: usize,
    client: u16,
    ports: &[[u16; 3]],
    force_sync: bool,
) -> Result<PathBuf, String> {
    let data = dir.join(format!("data{sid}"));
    let io = |e: std::io::Error| format!("{}: {e}", data.display());
    std::fs::create_dir_all(&data).map_err(io)?;
    std::fs::write(data.join("myid"), format!("{sid}\n")).map_err(io)?;
    let mut cfg = format!(
        "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir={}\nclientPort={client}\n\
         clientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=srvr\n",
        data.display()
    );
    // An unknown key becomes the system property `zookeeper.<key>`; FileTxnLog reads
    // `zookeeper.forceSync` ("no" writes the log without syncing it).
    if !force_sync {
        cfg.push_str("forceSync=no\n");
    }
    for (j, [_, q, e]) in ports.iter().enumerate() {
        let _ = writeln!(cfg, "server.{}=127.0.0.1:{q}:{e}", j + 1);
    }
    let path = dir.join(format!("zoo{sid}.cfg"));
    std::fs::write(&path, cfg).map_err(io)?;
    Ok(path)
}

/// The `Mode:` a server's `srvr` four-letter word reports, if it serves.
fn srvr_mode(addr: SocketAddr) -> Option<String> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(b"srvr").ok()?;
    let mut answer = String::new();
    s.read_to_string(&mut answer).ok()?;
    answer
        .lines()
        .find_map(|l| l.strip_prefix("Mode: "))
        .map(|m| m.trim().to_string())
}

/// A port nobody uses right now (the OS picks it).
fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
