//! `keeper`: the complete ensemble, assembled from the chapters.
//!
//! Each chapter crate builds one stage of ZooKeeper; this binary puts them together into a
//! server real clients can talk to. Its subcommands grow as the chapters land:
//!
//! - `keeper server --config zoo.cfg` starts a server from a ZooKeeper `zoo.cfg` (what
//!   `zkServer.sh start` does), durable in its `dataDir` (chapter 7's files): standalone
//!   (chapter 3's), or with `server.N` lines and `dataDir/myid` a member of the ensemble
//!   (chapter 6's peer: election, Zab and the client port);
//! - `keeper status --config zoo.cfg` asks it `srvr` and prints its `Mode:` line (what
//!   `zkServer.sh status` does);
//! - `keeper cli -server host:port` is chapter 1's zkCli shell over the wire (what `zkCli.sh
//!   -server host:port` does), against Keeper or any ZooKeeper;
//! - `keeper txnlog [-d] FILE` and `keeper snapshot [-d] FILE` print a dataDir's files as
//!   ZooKeeper's `zkTxnLogToolkit.sh` and `zkSnapShotToolkit.sh` do; `--check` finds the first
//!   bad record instead;
//! - `keeper purge DIR -n N` deletes old snapshots and logs, as `zkCleanup.sh` does (and
//!   `keeper server` does on its own with `autopurge.purgeInterval` set);
//! - `keeper cluster start|stop|status|kill N|restart N` runs a whole ensemble on this
//!   machine, one `keeper server` process per server (what the course's `zk.sh` does);
//! - `keeper lab start 5.1`, `keeper lab check 5.1`, ... hand out and grade the book's labs.

mod cluster;
mod durable;
mod lab;
mod purge;
mod quorum;
mod status;

use std::path::PathBuf;
use std::process::ExitCode;

use ch03_sessions::config::ZooCfg;
use ch03_sessions::server::{Server, ServerOptions};
use clap::{Parser, Subcommand};

/// Keeper: a replicated znode tree, built chapter by chapter.
#[derive(Parser, Debug)]
#[command(name = "keeper", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Start a server from a zoo.cfg (like `zkServer.sh start-foreground`): standalone, or a
    /// member of the ensemble its `server.N` lines and `dataDir/myid` name.
    Server {
        /// The zoo.cfg to read.
        #[arg(long, default_value = "conf/zoo.cfg")]
        config: PathBuf,
    },
    /// Ask a running server for its mode (like `zkServer.sh status`).
    Status {
        /// The zoo.cfg whose clientPort to ask.
        #[arg(long, default_value = "conf/zoo.cfg")]
        config: PathBuf,
    },
    /// The zkCli shell over the wire: `keeper cli -server 127.0.0.1:2181` (like `zkCli.sh`).
    Cli {
        /// zkCli's own arguments: `-server host:port[,...]` (default localhost:2181),
        /// `-timeout ms`, then optionally one command to run.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Print a txn log as ZooKeeper's TxnLogToolkit does, or check it (`--check`).
    Txnlog {
        /// Dump mode, the default (accepted as zkTxnLogToolkit.sh accepts it).
        #[arg(short = 'd', long = "dump")]
        _dump: bool,
        /// Read the log as recovery does and report the first bad record (file, offset, why).
        #[arg(long, conflicts_with = "_dump")]
        check: bool,
        /// A `log.<zxid>` file.
        file: PathBuf,
    },
    /// Print a snapshot as ZooKeeper's SnapshotFormatter does, or check it (`--check`).
    Snapshot {
        /// Print each node's data (base64), not only its length.
        #[arg(short = 'd')]
        data: bool,
        /// Read the snapshot as recovery does and report where it goes wrong.
        #[arg(long, conflicts_with = "data")]
        check: bool,
        /// A `snapshot.<zxid>` file.
        file: PathBuf,
    },
    /// Remove old snapshots and logs, keeping the newest COUNT snapshots (like zkCleanup.sh).
    Purge {
        /// The dataLogDir, then the dataDir if it differs (each holding `version-2`).
        #[arg(required = true, num_args = 1..=2)]
        dirs: Vec<PathBuf>,
        /// How many snapshots to keep (at least 3).
        #[arg(short = 'n')]
        count: usize,
    },
    /// An ensemble on this machine, one server process each (like the course's `zk.sh`).
    Cluster {
        /// The cluster's folder: one `serverN/` per server, with conf/, data/ and logs/.
        #[arg(long, global = true, default_value = cluster::DEFAULT_DIR)]
        dir: PathBuf,
        #[command(subcommand)]
        command: cluster::ClusterCommand,
    },
    /// The book's labs: `list`, `start 5.1`, `check 5.1`, `reset 5.1`, and the teacher's `key`.
    Lab {
        /// The repository to work on (default: the one around the current folder).
        #[arg(long, global = true)]
        root: Option<PathBuf>,
        #[command(subcommand)]
        command: lab::LabCommand,
    },
}

fn main() -> ExitCode {
    let command = Cli::parse().command;
    if command.only_prints() {
        ch04_paxos::sim::pipe::end_quietly_when_the_reader_goes();
    }
    match command {
        Command::Server { config } => serve(&config),
        Command::Status { config } => status::run(&config),
        Command::Cli { args } => cli(&args),
        Command::Cluster { dir, command } => cluster::run(command, &dir),
        Command::Lab { root, command } => lab::run(command, root),
        Command::Purge { dirs, count } => purge::by_hand(&dirs, count),
        Command::Txnlog { check, file, .. } => ExitCode::from(ch07_persistence::dump::txnlog(
            &file,
            dump_mode(check, true),
        )),
        Command::Snapshot { data, check, file } => ExitCode::from(
            ch07_persistence::dump::snapshot(&file, dump_mode(check, data)),
        ),
    }
}

impl Command {
    /// Whether the command does nothing but read and print: then a reader that stops early
    /// (`keeper status | head -1`) ends it quietly, as it ends `zkServer.sh status`. The others
    /// keep SIGPIPE ignored: `server` and `cli` hold sockets, where a peer that closes its end
    /// is an error to handle, and `cluster` goes on with its work when nobody reads its
    /// report (a `start` piped into `head` still starts every server).
    fn only_prints(&self) -> bool {
        match self {
            Command::Status { .. }
            | Command::Txnlog { .. }
            | Command::Snapshot { .. }
            | Command::Purge { .. }
            | Command::Lab { .. } => true,
            Command::Server { .. } | Command::Cli { .. } | Command::Cluster { .. } => false,
        }
    }
}

fn dump_mode(check: bool, data: bool) -> ch07_persistence::dump::Mode {
    match check {
        true => ch07_persistence::dump::Mode::Check,
        false => ch07_persistence::dump::Mode::Dump { data },
    }
}

/// `zkCli.sh -server host:port [command]`: zkCli's own command line, handed over as is.
fn cli(args: &[String]) -> ExitCode {
    let code = ch03_sessions::client::shell::zkcli_main(args);
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// Loads the config (warnings to stderr, errors fatal) and serves until interrupted.
fn serve(path: &std::path::Path) -> ExitCode {
    let cfg = match load(path) {
        Ok(cfg) => cfg,
        Err(code) => return code,
    };
    if cfg.is_distributed() {
        return quorum::run(path, &cfg);
    }
    // Started first, as upstream's DatadirCleanupManager; its first purge waits for the
    // start-up snapshot to be sealed.
    let purger = purge::start(&cfg);
    let durable = match durable::recover(&cfg, purger.as_ref().map(purge::Purger::waker)) {
        Ok(durable) => durable,
        Err(e) => {
            eprintln!(
                "keeper: cannot start on dataDir {}: {e}",
                cfg.data_dir.display()
            );
            return ExitCode::FAILURE;
        }
    };
    eprintln!(
        "keeper: recovered {} from {} ({} znodes, {} sessions)",
        durable.db.last_processed_zxid(),
        cfg.data_dir.display(),
        durable.db.tree.node_count(),
        durable.db.sessions.len()
    );
    // Stops when serve returns.
    let _purger = purger;
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(async {
        let options = ServerOptions::from_config(&cfg);
        let mut server = match Server::start_with(options, Some(durable)).await {
            Ok(server) => server,
            Err(e) => {
                eprintln!(
                    "keeper: cannot listen on {}: {e}",
                    ServerOptions::from_config(&cfg).listen
                );
                return ExitCode::FAILURE;
            }
        };
        eprintln!(
            "keeper: standalone server on {} (tickTime={}ms, sessions {}..{}ms)",
            server.local_addr(),
            cfg.tick_time_ms,
            cfg.min_session_timeout_ms,
            cfg.max_session_timeout_ms
        );
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {
                server.stop();
                ExitCode::SUCCESS
            }
            // As upstream, a txn log that cannot be written stops the server: no write is
            // answered that the disk does not hold.
            e = server.failed() => {
                eprintln!("keeper: stopping: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

/// Reads a zoo.cfg, printing its warnings; a fatal error is printed and becomes exit code 2.
fn load(path: &std::path::Path) -> Result<ZooCfg, ExitCode> {
    eprintln!("Using config: {}", path.display());
    match ZooCfg::load(path) {
        Ok((cfg, warnings)) => {
            for warning in warnings {
                eprintln!("keeper: warning: {warning}");
            }
            Ok(cfg)
        }
        Err(e) => {
            eprintln!("keeper: {}", e.in_file(path));
            Err(ExitCode::from(2))
        }
    }
}
