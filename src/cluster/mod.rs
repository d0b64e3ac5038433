//! `keeper cluster`: the course's `zk.sh`, for an ensemble on one machine.
//!
//! The course builds its three-server ensemble on three machines: the same zoo.cfg on each,
//! with one `server.N=host:2888:3888` line per machine, a `myid` file in each `dataDir` saying
//! which line is "me", and a little script, `zk.sh`, that runs `zkServer.sh start`, `stop` or
//! `status` on every machine over ssh. `keeper cluster` is that script for one machine: it
//! writes one ZooKeeper install's worth of files per server (see [`layout`]), every server on
//! 127.0.0.1 with ports of its own, and starts each as its own `keeper server --config
//! .../zoo.cfg` process, just as `zkServer.sh start` would start each JVM. Because the files
//! are ZooKeeper's own, a student can read them, edit them, or point zkCli, kazoo and the
//! course's Java programs at the connect string it prints.
//!
//! - `start [--servers 3|5] [--dir DIR]`: writes the files the first time (the course's ports
//!   2181/2888/3888 counting up when they are free), reuses them afterwards, and starts every
//!   server that is not running; it returns once each one serves (or after a bounded wait),
//!   printing their modes, and the servers keep running after it exits. `--free-ports` and
//!   `--set KEY=VALUE` shape a new cluster's files; on an existing one they are refused.
//! - `start --zookeeper`: the same, with the real ZooKeeper 3.8 serving the same files.
//! - `start --zookeeper-servers 1,2`: a mixed ensemble, ZooKeeper 3.8 serving those servers
//!   and Keeper the others; every other command works on both kinds.
//! - `status`: each server's `keeper status` (what `zkServer.sh status` prints: its Mode).
//! - `stop`: SIGTERM to every server, SIGKILL to any still there after a while; it returns
//!   once the processes are gone, their ports with them.
//! - `kill N`: SIGKILL to server N, the crash the failure tests are about; it too returns once
//!   the process is gone.
//! - `restart N`: stops server N if it runs, and starts it again on the same dataDir.
//!
//! One command at a time works on a DIR: each holds `DIR/cluster.lock`, and a second one says
//! the DIR is busy instead of racing it. Unlike `zk.sh`, a failure is an error with a
//! non-zero exit, never a silent half-started cluster.
//!
//! # Layout
//! - [`layout`]: the files of each server and the zoo.cfg text;
//! - [`lock`]: one command at a time per DIR;
//! - [`ports`]: the course's ports, or free ones;
//! - [`process`]: starting detached servers, pid files, signals, bounded waits;
//! - [`program`]: Keeper, or the real ZooKeeper 3.8 on the same files (`--zookeeper`,
//!   `--zookeeper-servers`), for each server.

/// `println!` for a command's report, ignoring a stdout nobody reads any more: `keeper
/// cluster start | head -3` still starts every server (a half-started cluster because a pipe
/// closed would be worse than a report cut short), and `status | head -1` ends quietly.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// [`say!`] without the newline: the start of a line finished once a wait is over.
macro_rules! say_part {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($arg)*);
    }};
}

mod free_port;
mod layout;
mod lock;
mod ports;
mod process;
mod program;

use std::io::Write as _;
use std::path::Path;
use std::process::{Command as Process, ExitCode};

use clap::Subcommand;

use layout::{Layout, Member};
use program::Programs;

/// Where `keeper cluster` keeps its servers when `--dir` is not given.
pub const DEFAULT_DIR: &str = "keeper-cluster";

#[derive(Subcommand, Debug)]
pub enum ClusterCommand {
    /// Write the servers' zoo.cfg and myid files (the first time) and start every server.
    Start {
        /// How many servers: 3 survives one crash, 5 survives two.
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=9))]
        servers: u64,
        /// Give a new cluster ports the system picks, even when the course's 2181/2888/3888
        /// are free.
        #[arg(long)]
        free_ports: bool,
        /// Run a new cluster's servers with the real ZooKeeper 3.8 instead of Keeper.
        #[arg(long, conflicts_with = "zookeeper_servers")]
        zookeeper: bool,
        /// Run only these servers of a new cluster (ids, comma-separated) with the real
        /// ZooKeeper 3.8, the others with Keeper: a mixed ensemble.
        #[arg(long, value_delimiter = ',', value_name = "IDS")]
        zookeeper_servers: Vec<u64>,
        /// A zoo.cfg setting for every server of a new cluster, as KEY=VALUE (`--set
        /// snapCount=100`); repeat it for more.
        #[arg(long = "set", value_name = "KEY=VALUE", value_parser = setting)]
        settings: Vec<String>,
    },
    /// Stop every server (SIGTERM, then SIGKILL after 10 s).
    Stop,
    /// Print each server's mode, as `zkServer.sh status` does.
    Status,
    /// Crash server N with SIGKILL (kill -9).
    Kill {
        /// The server's id, its `myid`.
        n: u64,
    },
    /// Stop server N if it is running, then start it again.
    Restart {
        /// The server's id, its `myid`.
        n: u64,
    },
}

/// Runs one `keeper cluster` command on the cluster in `dir`.
pub fn run(command: ClusterCommand, dir: &Path) -> ExitCode {
    match locked(dir, command) {
        Ok(code) => code,
        Err(message) => {
            // As for stdout, a closed stderr must not turn an error into a panic.
            let _ = writeln!(std::io::stderr(), "keeper cluster: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the command holding the DIR's lock (see [`lock`]).
fn locked(dir: &Path, command: ClusterCommand) -> Result<ExitCode, String> {
    if let ClusterCommand::Start { .. } = command {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    } else if !dir.is_dir() {
        return Err(format!(
            "there is no cluster in {}: run `keeper cluster start --dir {}` first",
            dir.display(),
            dir.display()
        ));
    }
    let dir = dir
        .canonicalize()
        .map_err(|e| format!("cannot use {}: {e}", dir.display()))?;
    let _lock = lock::DirLock::take(&dir)?;
    match command {
        ClusterCommand::Start {
            servers,
            free_ports,
            zookeeper,
            zookeeper_servers,
            settings,
        } => {
            let programs = Programs::chosen(zookeeper, &zookeeper_servers);
            if let Some(sid) = programs.unknown_server(servers) {
                return Err(format!(
                    "--zookeeper-servers names server {sid}: the servers are 1 to {servers}"
                ));
            }
            start(&dir, servers, free_ports, programs, &settings)
        }
        ClusterCommand::Stop => stop(&existing(&dir)?),
        ClusterCommand::Status => status(&existing(&dir)?),
        ClusterCommand::Kill { n } => kill(&existing(&dir)?, n),
        ClusterCommand::Restart { n } => restart(&existing(&dir)?, n),
    }
}

/// The cluster in `dir`, or an error saying there is none.
fn existing(dir: &Path) -> Result<Layout, String> {
    Layout::find(dir).ok_or_else(|| {
        format!(
            "there is no cluster in {}: run `keeper cluster start --dir {}` first",
            dir.display(),
            dir.display()
        )
    })
}

/// `start`: the cluster in `dir` if there is one (it must have `servers` servers), a new one
/// otherwise; then every server that is not running is started.
fn start(
    dir: &Path,
    servers: u64,
    free_ports: bool,
    programs: Programs,
    settings: &[String],
) -> Result<ExitCode, String> {
    let layout = match Layout::find(dir) {
        Some(layout) if layout.sids.len() as u64 != servers => {
            return Err(format!(
                "{} holds a {}-server cluster, not {servers}: start it with --servers {}, or \
                 stop it and choose another --dir",
                dir.display(),
                layout.sids.len(),
                layout.sids.len()
            ))
        }
        // A plain `start` starts the cluster as it was made; one that asks for ZooKeeper
        // must not quietly get something else.
        Some(_)
            if programs != Programs::All(program::Program::Keeper)
                && Programs::recorded(dir) != programs =>
        {
            return Err(format!(
                "the cluster in {} runs other programs ({}): choose another --dir",
                dir.display(),
                running_what(&Programs::recorded(dir), servers)
            ))
        }
        // --set and --free-ports shape the files a new cluster is written with; an existing
        // cluster's files are never rewritten, so the flags would be silently ignored.
        Some(_) if free_ports || !settings.is_empty() => {
            return Err(format!(
                "{} holds a cluster already: {} only applies when start writes a new cluster; \
                 edit its serverN/conf/zoo.cfg files, or stop it and choose another --dir",
                dir.display(),
                if free_ports { "--free-ports" } else { "--set" }
            ))
        }
        Some(layout) => {
            say!("Reusing the cluster in {}", dir.display());
            layout
        }
        None => {
            let layout = create(dir, servers, free_ports, settings)?;
            programs
                .record(dir)
                .map_err(|e| format!("cannot write in {}: {e}", dir.display()))?;
            layout
        }
    };
    // Every server's zoo.cfg must be sound before any server starts: a cluster is not
    // half-started because one file is broken.
    let members = layout.members()?;
    let mut started = Vec::new();
    let mut already = 0;
    let programs = Programs::recorded(dir);
    for member in &members {
        say!("------------ server {} start ------------", member.sid);
        say!("Using config: {}", layout.zoo_cfg(member.sid).display());
        if let Some(pid) = process::running(&layout, member.sid) {
            say!("keeper already running as process {pid}.");
            already += 1;
            continue;
        }
        let server = process::spawn(&layout, member)?;
        say!(
            "Starting {} ... STARTED (pid {})",
            programs.of(member.sid).name(),
            server.pid()
        );
        started.push(server);
    }
    if already == members.len() {
        return Err(format!(
            "the cluster in {} is already running",
            layout.dir.display()
        ));
    }
    // Every server is started before any is waited for: in quorum mode a server may only
    // serve once a majority of the others are up.
    let mut failures = Vec::new();
    for server in &mut started {
        if let Err(e) = process::wait_serving(&layout, server) {
            failures.push(e);
        }
    }
    if !failures.is_empty() {
        return Err(failures.join("\n"));
    }
    print_summary(&layout, &members, &mut started)?;
    Ok(ExitCode::SUCCESS)
}

/// A `--set` argument: `KEY=VALUE`, one line of zoo.cfg.
fn setting(arg: &str) -> Result<String, String> {
    match arg.split_once('=') {
        Some((key, _)) if !key.trim().is_empty() && !arg.contains('\n') => Ok(arg.to_string()),
        _ => Err(format!("{arg:?} is not a zoo.cfg setting KEY=VALUE")),
    }
}

/// `1 zookeeper, 2 zookeeper, 3 keeper`: which server runs what.
fn running_what(programs: &Programs, servers: u64) -> String {
    let each: Vec<String> = (1..=servers)
        .map(|sid| format!("{sid} {}", programs.of(sid).name()))
        .collect();
    each.join(", ")
}

/// A new cluster's files, with the course's ports if they are free.
fn create(
    dir: &Path,
    servers: u64,
    free_ports: bool,
    settings: &[String],
) -> Result<Layout, String> {
    let stray = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .any(|entry| entry.file_name() != "cluster.lock");
    if stray {
        return Err(format!(
            "{} is not empty and holds no cluster (no server1 folder): choose another --dir",
            dir.display()
        ));
    }
    let members =
        ports::choose(servers, free_ports).map_err(|e| format!("cannot find free ports: {e}"))?;
    let layout = Layout::new(dir.to_path_buf(), &members);
    layout
        .write(&members, settings)
        .map_err(|e| format!("cannot write the cluster's files in {}: {e}", dir.display()))?;
    say!(
        "Wrote a {servers}-server cluster in {} (zoo.cfg and myid per server)",
        dir.display()
    );
    Ok(layout)
}

/// Where everything is, each server's mode once the ensemble serves, and how a client
/// reaches it; an error instead if a server this command `started` exits meanwhile.
fn print_summary(
    layout: &Layout,
    members: &[Member],
    started: &mut [process::Started],
) -> Result<(), String> {
    let modes = process::wait_modes(layout, members, started)?;
    say!();
    say!("server  mode         client port  quorum:election  config, log");
    for (m, mode) in members.iter().zip(&modes) {
        say!(
            "{:>6}  {:<11}  {:>11}  {:>15}  {}, {}",
            m.sid,
            mode.as_deref().unwrap_or("not serving"),
            m.client_port,
            format!("{}:{}", m.quorum_port, m.election_port),
            shown(&layout.zoo_cfg(m.sid), &layout.dir),
            shown(&layout.log_file(m.sid), &layout.dir),
        );
    }
    say!("(paths under {})", layout.dir.display());
    if modes.iter().any(Option::is_none) {
        say!(
            "A server that is not serving has no quorum yet, or failed: see its log, and \
             `keeper cluster status`."
        );
    }
    say!();
    let connect_string = layout::connect_string(members);
    say!("Connect string: {connect_string}");
    say!("  zkCli.sh -server {connect_string}");
    say!("  keeper cli -server {connect_string}");
    Ok(())
}

/// `path` relative to the cluster's folder, for a table that fits a terminal.
fn shown(path: &Path, dir: &Path) -> String {
    path.strip_prefix(dir).unwrap_or(path).display().to_string()
}

/// `stop`: SIGTERM to every running server at once, then a bounded wait for each. Like
/// `zkServer.sh stop`, it needs only the pid files, not what the zoo.cfg files say.
fn stop(layout: &Layout) -> Result<ExitCode, String> {
    let mut signalled = Vec::new();
    for &sid in &layout.sids {
        match process::running(layout, sid) {
            Some(pid) => {
                process::signal(pid, "TERM")?;
                signalled.push((sid, pid));
            }
            None => {
                say!("server {sid}: not running");
                process::forget(layout, sid);
            }
        }
    }
    for (sid, pid) in signalled {
        stop_one(layout, sid, pid)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Waits for a signalled server to exit, killing it if it takes too long.
fn stop_one(layout: &Layout, sid: u64, pid: u32) -> Result<(), String> {
    say_part!("Stopping server {sid} (pid {pid}) ... ");
    if !process::wait_gone(pid, process::STOP_TIMEOUT) {
        process::signal(pid, "KILL")?;
        if !process::wait_gone(pid, process::STOP_TIMEOUT) {
            return Err(format!("server {sid} (pid {pid}) survived SIGKILL"));
        }
        say_part!("(killed after {:?}) ", process::STOP_TIMEOUT);
    }
    say!("STOPPED");
    process::forget(layout, sid);
    Ok(())
}

/// `status`: each server's `keeper status --config`, as zk.sh runs `zkServer.sh status` on
/// each machine: a server whose zoo.cfg is broken gets its error, the others their mode.
/// Succeeds when every server reported a mode.
fn status(layout: &Layout) -> Result<ExitCode, String> {
    let keeper =
        std::env::current_exe().map_err(|e| format!("cannot find the keeper program: {e}"))?;
    let mut all_up = true;
    for &sid in &layout.sids {
        let pid = process::running(layout, sid)
            .map_or("not running".to_string(), |pid| format!("pid {pid}"));
        say!("------------ server {sid} ({pid}) status ------------");
        // Its output goes straight to ours, so it reads exactly as `keeper status` does.
        let ran = Process::new(&keeper)
            .arg("status")
            .arg("--config")
            .arg(layout.zoo_cfg(sid))
            .status()
            .map_err(|e| format!("cannot run keeper status: {e}"))?;
        all_up &= ran.success();
    }
    Ok(if all_up {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `kill N`: SIGKILL, as a crash; the server's files stay, so `restart N` recovers from them.
/// Only its pid file counts, as for `stop`.
fn kill(layout: &Layout, sid: u64) -> Result<ExitCode, String> {
    layout.known(sid)?;
    let pid =
        process::running(layout, sid).ok_or_else(|| format!("server {sid} is not running"))?;
    process::signal(pid, "KILL")?;
    if !process::wait_gone(pid, process::STOP_TIMEOUT) {
        return Err(format!("server {sid} (pid {pid}) survived SIGKILL"));
    }
    process::forget(layout, sid);
    say!("Killed server {sid} (pid {pid}) with SIGKILL");
    Ok(ExitCode::SUCCESS)
}

/// `restart N`: stop (if running) and start one server on its existing files. Only its own
/// zoo.cfg must be sound; a broken one refuses before the server is stopped.
fn restart(layout: &Layout, sid: u64) -> Result<ExitCode, String> {
    let member: Member = layout.member(sid)?;
    if let Some(pid) = process::running(layout, sid) {
        process::signal(pid, "TERM")?;
        stop_one(layout, sid, pid)?;
    }
    let mut server = [process::spawn(layout, &member)?];
    say!(
        "Starting server {sid} ... STARTED (pid {})",
        server[0].pid()
    );
    process::wait_serving(layout, &mut server[0])?;
    let mode = process::wait_modes(layout, &[member], &mut server)?.remove(0);
    say!(
        "server {sid} on 127.0.0.1:{}: {}; log: {}",
        member.client_port,
        mode.map_or("not serving yet".to_string(), |m| format!("Mode: {m}")),
        layout.log_file(sid).display()
    );
    Ok(ExitCode::SUCCESS)
}
