//! A server under test: the real ZooKeeper 3.8 or Keeper, standalone, on a
//! free loopback port with a fresh data directory.

use super::process::{wait_until, Guarded};
use super::tempdir::TempDir;
use super::tools;
use std::fmt;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// Which implementation answers on the port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerKind {
    /// Debian's ZooKeeper 3.8 (`QuorumPeerMain` with a one-server zoo.cfg):
    /// the oracle.
    ZooKeeper,
    /// This repository's `keeper server --config zoo.cfg`.
    Keeper,
}

/// The servers every interop check runs against, oracle first: checks that
/// compare transcripts compare each later server with the first.
///
/// This is the one place to switch a server on or off.
pub fn servers_under_test() -> Vec<ServerKind> {
    let mut servers = vec![ServerKind::ZooKeeper];
    // Keeper's standalone server. Without this line the suite checks its
    // own expectations against ZooKeeper alone.
    servers.push(ServerKind::Keeper);
    servers
}

impl fmt::Display for ServerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ServerKind::ZooKeeper => "ZooKeeper 3.8",
            ServerKind::Keeper => "Keeper",
        })
    }
}

impl ServerKind {
    /// Whether this machine can run this server at all (Err says why not).
    fn available(self) -> Result<(), String> {
        match self {
            ServerKind::ZooKeeper => tools::java(),
            ServerKind::Keeper => Ok(()),
        }
    }
}

/// How long a server may take to serve after it starts. A JVM on a
/// busy two-core machine needs a few seconds; a healthy start takes far less.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// The tick is short so that a client killed by a test loses its session
/// (and its ephemerals) within a few seconds: a session lasts between 2 and
/// 20 ticks.
pub const TICK_TIME_MS: u64 = 500;

/// A running standalone server; killed (and its data removed) on drop.
pub struct Server {
    kind: ServerKind,
    port: u16,
    process: Mutex<Guarded>,
    dir: TempDir,
}

/// How one attempt to start a server failed.
enum Attempt {
    /// It exited before serving: most likely it lost the race for its port.
    Exited(String),
    /// It could not be started, or did not serve in time.
    Failed(String),
}

/// How many times a server may lose the race for its port.
const START_ATTEMPTS: usize = 3;

/// Why there is no server to test against.
enum NotStarted {
    /// This machine cannot run it (no Java): the test is skipped.
    Unavailable(String),
    /// It ran but did not come up: the test fails with this message.
    Failed(String),
}

impl Server {
    /// Starts `kind`, or says why this machine cannot and returns `None`
    /// (the caller's test is skipped). A server that can run but does not
    /// come up is a test failure, with its log.
    pub fn start_or_skip(kind: ServerKind, test: &str) -> Option<Server> {
        Server::start_with_or_skip(kind, test, &[])
    }

    /// As [`Server::start_or_skip`], with some zoo.cfg keys set otherwise
    /// (`("maxClientCnxns", "3")`).
    pub fn start_with_or_skip(
        kind: ServerKind,
        test: &str,
        settings: &[(&str, &str)],
    ) -> Option<Server> {
        match Server::try_start(kind, settings) {
            Ok(server) => Some(server),
            Err(not_started) => not_started.skip_or_fail(kind, test),
        }
    }

    /// One server of each kind per test process, shared by every test that
    /// only needs a server to talk to (each works under its own path). Saves a
    /// JVM start per check, and a server that fails to start fails each test
    /// once instead of being retried.
    pub fn shared(kind: ServerKind, test: &str) -> Option<&'static Server> {
        Server::kept(None, kind, test)
    }

    /// One server of each kind for the calling file's tests alone, shared by
    /// them: for checks that read what a server nobody else uses reports (the
    /// four-letter words count its nodes, connections and zxids), which the
    /// other files' writes to the shared server would change.
    #[track_caller]
    pub fn private(kind: ServerKind, test: &str) -> Option<&'static Server> {
        Server::kept(Some(std::panic::Location::caller().file()), kind, test)
    }

    /// The server of `kind` kept for `owner` (a file, or everyone), started on
    /// first use; it lives as long as the test process.
    fn kept(owner: Option<&'static str>, kind: ServerKind, test: &str) -> Option<&'static Server> {
        type Slot = OnceLock<Result<Server, NotStarted>>;
        type Owner = Option<&'static str>;
        static SLOTS: Mutex<Vec<(Owner, ServerKind, &'static Slot)>> = Mutex::new(Vec::new());
        let slot: &'static Slot = {
            let mut slots = SLOTS
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            match slots.iter().find(|(o, k, _)| *o == owner && *k == kind) {
                Some((_, _, slot)) => slot,
                None => {
                    // Leaked on purpose: a kept server lives as long as the test process.
                    let slot: &'static Slot = Box::leak(Box::new(OnceLock::new()));
                    slots.push((owner, kind, slot));
                    slot
                }
            }
        };
        // Started outside the lock: another owner's server may be starting meanwhile.
        match slot.get_or_init(|| Server::try_start(kind, &[])) {
            Ok(server) => Some(server),
            Err(not_started) => not_started.skip_or_fail(kind, test),
        }
    }

    /// Starts `kind` on a free port. The port is free when picked, but the
    /// server binds it a moment later, and another process (another test
    /// binary, another worktree's tests) may bind it first: then our server
    /// exits, and it starts again on a new port.
    fn try_start(kind: ServerKind, settings: &[(&str, &str)]) -> Result<Server, NotStarted> {
        kind.available().map_err(NotStarted::Unavailable)?;
        let mut lost = Vec::new();
        for _ in 0..START_ATTEMPTS {
            match Server::start_on_a_free_port(kind, settings) {
                Ok(server) => return Ok(server),
                Err(Attempt::Exited(why)) => lost.push(why),
                Err(Attempt::Failed(why)) => return Err(NotStarted::Failed(why)),
            }
        }
        Err(NotStarted::Failed(format!(
            "{kind} exited before serving, {START_ATTEMPTS} times:\n{}",
            lost.join("\n")
        )))
    }

    fn start_on_a_free_port(
        kind: ServerKind,
        settings: &[(&str, &str)],
    ) -> Result<Server, Attempt> {
        let dir = TempDir::new("server");
        let port = free_port();
        let data_dir = dir.path().join("data");
        std::fs::create_dir_all(&data_dir).expect("data dir");
        std::fs::write(
            dir.path().join("zoo.cfg"),
            zoo_cfg(port, &data_dir.display().to_string(), settings),
        )
        .expect("zoo.cfg is writable");
        let spawned = match kind {
            ServerKind::ZooKeeper => Guarded::spawn(
                "ZooKeeper",
                "java",
                &[
                    tools::JVM_OPTIONS.as_slice(),
                    &[
                        "-Xmx256m",
                        "-cp",
                        &tools::zookeeper_classpath(),
                        "org.apache.zookeeper.server.quorum.QuorumPeerMain",
                        "zoo.cfg",
                    ],
                ]
                .concat(),
                dir.path(),
                Some(dir.path()),
            ),
            ServerKind::Keeper => Guarded::spawn(
                "Keeper",
                env!("CARGO_BIN_EXE_keeper"),
                &["server", "--config", "zoo.cfg"],
                dir.path(),
                Some(dir.path()),
            ),
        };
        let mut process =
            spawned.map_err(|e| Attempt::Failed(format!("cannot start {kind}: {e}")))?;
        // Ready means: serving, as *our* server (see `serving`); an answer
        // from whoever else holds the port does not count.
        let ready = wait_until(STARTUP_TIMEOUT, "the server to serve", || {
            if let Some(status) = process.exited() {
                return Some(Err(status));
            }
            serving(port, &data_dir).then_some(Ok(()))
        });
        let output = |why: &str| {
            format!(
                "{kind} on 127.0.0.1:{port} {why}\n--- its output:\n{}",
                process.output()
            )
        };
        match ready {
            Ok(Ok(())) => Ok(Server {
                kind,
                port,
                process: Mutex::new(process),
                dir,
            }),
            Ok(Err(status)) => Err(Attempt::Exited(output(&format!(
                "exited ({status}) before serving"
            )))),
            Err(why) => Err(Attempt::Failed(output(&format!("did not come up: {why}")))),
        }
    }

    pub fn kind(&self) -> ServerKind {
        self.kind
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The zoo.cfg the server was started from.
    pub fn config_path(&self) -> std::path::PathBuf {
        self.dir.path().join("zoo.cfg")
    }

    /// `127.0.0.1:<port>`, the connect string every client is given.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// What the server printed so far, for a failure message.
    pub fn log(&self) -> String {
        self.process.lock().expect("server lock").output()
    }
}

impl NotStarted {
    fn skip_or_fail<T>(&self, kind: ServerKind, test: &str) -> Option<T> {
        match self {
            NotStarted::Unavailable(reason) => {
                super::skip(test, &format!("{kind} cannot run here: {reason}"));
                None
            }
            NotStarted::Failed(why) => panic!("{why}"),
        }
    }
}

/// The seed's zoo.cfg keys, plus what keeps a test server private: loopback
/// only, no AdminServer on 8080, and the four-letter words the tests use
/// (the harness itself needs `ruok`, `srvr` and `conf` to see a server is up).
pub fn zoo_cfg(port: u16, data_dir: &str, settings: &[(&str, &str)]) -> String {
    let (port, tick_time) = (port.to_string(), TICK_TIME_MS.to_string());
    let defaults = [
        ("tickTime", tick_time.as_str()),
        ("initLimit", "10"),
        ("syncLimit", "5"),
        ("dataDir", data_dir),
        ("clientPort", &port),
        ("clientPortAddress", "127.0.0.1"),
        ("maxClientCnxns", "60"),
        ("admin.enableServer", "false"),
        ("4lw.commands.whitelist", "ruok,srvr,stat,conf"),
    ];
    let overridden = defaults.iter().map(|&(key, default)| {
        let value = settings
            .iter()
            .find(|(k, _)| *k == key)
            .map_or(default, |(_, v)| v);
        (key, value)
    });
    // A key the harness does not write by default (`jute.maxbuffer`) goes last.
    let extra = settings
        .iter()
        .filter(|(key, _)| !defaults.iter().any(|(known, _)| known == key))
        .map(|&(key, value)| (key, value));
    overridden
        .chain(extra)
        .map(|(key, value)| format!("{key}={value}\n"))
        .collect()
}

/// The cluster runner's way to pick a port (the root package is a binary, so its file is
/// included here).
#[path = "../../src/cluster/free_port.rs"]
mod below_ephemeral;

/// A port nobody listens on right now, below the kernel's ephemeral range: a server killed
/// and restarted on it finds it free again, where a port the kernel picks for port 0 may by
/// then be some connection's local port (the "server N exited" of a restart). Picks go round
/// the range in turn, machine-wide, so another test's pick does not take it meanwhile.
pub fn free_port() -> u16 {
    below_ephemeral::listen_on_a_free_port("127.0.0.1")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Three free ports per member of an ensemble (client, quorum, election), all different: a
/// pick may land on a port picked before, whose listener is closed by then.
pub fn distinct_ports(n: u64) -> Vec<(u16, u16, u16)> {
    let mut seen = std::collections::BTreeSet::new();
    let mut next = || loop {
        let port = free_port();
        if seen.insert(port) {
            return port;
        }
    };
    (0..n).map(|_| (next(), next(), next())).collect()
}

/// Whether the server answers `ruok` and takes sessions, and is the one
/// started on `data_dir`. ZooKeeper answers `imok` as soon as its port is
/// open, before it serves requests (it closes a client's connection until
/// then); `srvr` tells the two apart. A port picked free can be taken by
/// another test's server before ours binds it, and ours then exits; `conf`
/// names the data directory, so a test never settles on someone else's.
pub fn serving(port: u16, data_dir: &std::path::Path) -> bool {
    const NOT_SERVING: &str = "This ZooKeeper instance is not currently serving requests";
    let ours = |conf: String| {
        conf.lines()
            .filter_map(|l| l.strip_prefix("dataDir="))
            .any(|dir| std::path::Path::new(dir).starts_with(data_dir))
    };
    four_letter_word(port, "ruok").is_ok_and(|answer| answer == "imok")
        && four_letter_word(port, "srvr").is_ok_and(|answer| !answer.contains(NOT_SERVING))
        && four_letter_word(port, "conf").is_ok_and(ours)
}

/// Sends a four-letter word and returns the whole answer.
pub fn four_letter_word(port: u16, word: &str) -> std::io::Result<String> {
    ask_raw(port, word.as_bytes(), false)
}

/// Sends `bytes` (a word and what follows it, as `stmk` takes its mask), shuts the sending
/// side as `echo ... | nc` does, and returns the whole answer.
pub fn four_letter_bytes(port: u16, bytes: &[u8]) -> std::io::Result<String> {
    ask_raw(port, bytes, true)
}

fn ask_raw(port: u16, bytes: &[u8], then_shut: bool) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.set_write_timeout(Some(Duration::from_secs(2)))?;
    stream.write_all(bytes)?;
    if then_shut {
        stream.shutdown(std::net::Shutdown::Write)?;
    }
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    Ok(answer)
}
