//! `keeper cluster` as a test drives it: a cluster in a fresh folder on free ports
//! (`--free-ports`), commands run to the end with a bound, and every server stopped when the
//! test is done, however it ends.
//!
//! With `KEEPER_ORACLE=zookeeper`, [`programs_under_test`] puts the real ZooKeeper 3.8 first
//! (`keeper cluster start --zookeeper`, the same files): the oracle that shows a test's
//! expectations are ZooKeeper's.

use super::reaper::reaper;
use super::{four_letter_word, run_to_end, tools, wait_until, Finished, TempDir};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command};
use std::time::Duration;

pub const KEEPER: &str = env!("CARGO_BIN_EXE_keeper");

/// A `keeper cluster` command returns once its servers listen; on a loaded machine that and a
/// kazoo call can take seconds, never this long.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(90);

/// An election after a crash takes well under a second here; the bound is for a loaded machine.
pub const ELECTION_TIMEOUT: Duration = Duration::from_secs(60);

/// Which program serves a cluster under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Program {
    /// The real ZooKeeper 3.8: the oracle.
    ZooKeeper,
    Keeper,
}

/// The programs every ensemble test runs on: Keeper, and first the real ZooKeeper 3.8 as the
/// oracle when `KEEPER_ORACLE=zookeeper` is set. Five JVMs starting at once on a loaded 2-core
/// machine sometimes miss the start-up bound (3 runs in 10 did here), which would make the
/// suite flaky for a reason that is not Keeper's; the oracle runs on demand instead.
pub fn programs_under_test(test: &str) -> Vec<Program> {
    let mut programs = Vec::new();
    if std::env::var("KEEPER_ORACLE").as_deref() == Ok("zookeeper") {
        match tools::java() {
            Ok(()) => programs.push(Program::ZooKeeper),
            Err(reason) => super::skip(&format!("{test} on ZooKeeper"), &reason),
        }
    }
    programs.push(Program::Keeper);
    programs
}

/// A cluster started by a test, stopped (and any server left killed) when dropped.
pub struct Cluster {
    dir: TempDir,
    pub client_ports: Vec<u16>,
    /// Environment every `keeper cluster` command, and so every server it starts, runs with.
    env: Vec<(String, String)>,
    /// The write end of the reaper's stdin (see [`reaper`]).
    _reaper: Option<ChildStdin>,
}

impl Cluster {
    /// `keeper cluster start --servers N --free-ports` in a fresh folder.
    pub fn start(servers: u64) -> Cluster {
        Cluster::start_with(Program::Keeper, servers)
    }

    /// As [`Cluster::start`], served by `program`.
    pub fn start_with(program: Program, servers: u64) -> Cluster {
        match program {
            Program::ZooKeeper => Cluster::start_args(servers, &["--zookeeper"], &[]),
            Program::Keeper => Cluster::start_args(servers, &[], &[]),
        }
    }

    /// A mixed ensemble: the servers `zookeeper` run the real ZooKeeper 3.8
    /// (`--zookeeper-servers`), the others Keeper; `settings` (`snapCount=100`) go in every
    /// server's zoo.cfg (`--set`).
    pub fn start_mixed(servers: u64, zookeeper: &[u64], settings: &[&str]) -> Cluster {
        Cluster::start_mixed_env(servers, zookeeper, settings, &[])
    }

    /// As [`Cluster::start_mixed`], every server started (and restarted) with `env` too
    /// (`SERVER_JVMFLAGS` for the ZooKeeper servers' JVMs).
    pub fn start_mixed_env(
        servers: u64,
        zookeeper: &[u64],
        settings: &[&str],
        env: &[(&str, &str)],
    ) -> Cluster {
        let sids: Vec<String> = zookeeper.iter().map(u64::to_string).collect();
        let sids = sids.join(",");
        let mut extra = vec!["--zookeeper-servers", &sids];
        for setting in settings {
            extra.extend(["--set", setting]);
        }
        Cluster::start_args(servers, &extra, env)
    }

    /// `keeper cluster start --servers N --free-ports EXTRA` in a fresh folder. A port picked
    /// free can be taken by another test's server before this cluster's binds it (both pick
    /// by number, below the ephemeral range): such a start is tried again in a fresh folder.
    fn start_args(servers: u64, extra: &[&str], env: &[(&str, &str)]) -> Cluster {
        const PORT_TRIES: usize = 3;
        let mut tries = 0;
        loop {
            tries += 1;
            let dir = TempDir::new("cluster");
            let _reaper = reaper(dir.path());
            let mut cluster = Cluster {
                dir,
                client_ports: Vec::new(),
                env: env
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                _reaper,
            };
            let count = servers.to_string();
            let mut args = vec!["start", "--servers", &count, "--free-ports"];
            args.extend_from_slice(extra);
            let started = cluster.run(&args);
            if started.status.success() {
                cluster.client_ports = (1..=servers)
                    .map(|sid| client_port(&cluster.zoo_cfg(sid)))
                    .collect();
                return cluster;
            }
            let port_taken = started.output.contains("Address already in use");
            assert!(
                port_taken && tries < PORT_TRIES,
                "keeper cluster start failed:\n{}",
                started.output
            );
            // Dropped: its `stop` ends the servers that did start.
        }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn zoo_cfg(&self, sid: u64) -> PathBuf {
        self.root().join(format!("server{sid}/conf/zoo.cfg"))
    }

    pub fn pid_file(&self, sid: u64) -> PathBuf {
        self.root()
            .join(format!("server{sid}/data/zookeeper_server.pid"))
    }

    pub fn sids(&self) -> impl Iterator<Item = u64> {
        1..=self.client_ports.len() as u64
    }

    /// `keeper cluster ARGS --dir DIR`, to the end, stdout and stderr together.
    pub fn run(&self, args: &[&str]) -> Finished {
        let mut command = Command::new(KEEPER);
        command
            .arg("cluster")
            .args(args)
            .arg("--dir")
            .arg(self.root())
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        run_to_end(command, "", COMMAND_TIMEOUT)
            .unwrap_or_else(|why| panic!("keeper cluster {args:?}: {why}"))
    }

    /// Runs a command that must succeed, and returns what it printed.
    pub fn ok(&self, args: &[&str]) -> String {
        let finished = self.run(args);
        assert!(
            finished.status.success(),
            "keeper cluster {args:?} failed:\n{}\n{}",
            finished.output,
            self.logs()
        );
        finished.output
    }

    pub fn address(&self, sid: u64) -> String {
        format!("127.0.0.1:{}", self.client_ports[sid as usize - 1])
    }

    pub fn connect_string(&self) -> String {
        let all: Vec<String> = self.sids().map(|sid| self.address(sid)).collect();
        all.join(",")
    }

    /// What server `sid` answers to `srvr`, or None when nothing answers.
    pub fn srvr(&self, sid: u64) -> Option<String> {
        four_letter_word(self.client_ports[sid as usize - 1], "srvr").ok()
    }

    /// Server `sid`'s `Mode:` as `srvr` reports it, or None if it does not answer.
    pub fn mode(&self, sid: u64) -> Option<String> {
        let answer = self.srvr(sid)?;
        answer
            .lines()
            .find_map(|line| line.strip_prefix("Mode: "))
            .map(str::to_string)
    }

    /// Waits until the servers `up` form an ensemble: one leader, every other one a
    /// follower. Returns the leader.
    pub fn wait_for_leader(&self, up: &[u64]) -> u64 {
        self.try_wait_for_leader(up, ELECTION_TIMEOUT)
            .unwrap_or_else(|why| panic!("{why}\n{}", self.logs()))
    }

    /// As [`Cluster::wait_for_leader`], for at most `timeout`; what the servers said
    /// instead if no ensemble formed.
    pub fn try_wait_for_leader(&self, up: &[u64], timeout: Duration) -> Result<u64, String> {
        let mut last = Vec::new();
        wait_until(timeout, "one leader and the rest followers", || {
            last = up.iter().map(|&sid| (sid, self.mode(sid))).collect();
            let leaders: Vec<u64> = last
                .iter()
                .filter(|(_, mode)| mode.as_deref() == Some("leader"))
                .map(|(sid, _)| *sid)
                .collect();
            let followers = last
                .iter()
                .filter(|(_, mode)| mode.as_deref() == Some("follower"))
                .count();
            (leaders.len() == 1 && followers == up.len() - 1).then(|| leaders[0])
        })
        .map_err(|why| format!("{why}; modes {last:?}"))
    }

    /// `keeper cli -server <sid's address> ARGS`, zkCli's one-shot form.
    pub fn cli(&self, sid: u64, args: &[&str]) -> Finished {
        let mut command = Command::new(KEEPER);
        command
            .arg("cli")
            .arg("-server")
            .arg(self.address(sid))
            .args(args);
        run_to_end(command, "", COMMAND_TIMEOUT)
            .unwrap_or_else(|why| panic!("keeper cli {args:?}: {why}"))
    }

    /// Whether a create of `path` through server `sid` succeeded.
    pub fn create(&self, sid: u64, path: &str, data: &str) -> bool {
        let finished = self.cli(sid, &["create", path, data]);
        finished.status.success() && finished.output.contains(&format!("Created {path}"))
    }

    /// `get path` on server `sid`: the data, if it answered.
    pub fn get(&self, sid: u64, path: &str) -> Option<String> {
        let finished = self.cli(sid, &["get", path]);
        finished
            .status
            .success()
            .then(|| finished.output.lines().last().unwrap_or("").to_string())
    }

    /// Every server's log, for a failure message.
    pub fn logs(&self) -> String {
        self.sids()
            .map(|sid| {
                let path = self.root().join(format!("server{sid}/logs/keeper.out"));
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                format!("--- server {sid} log:\n{text}")
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.run(&["stop"]);
        // If stop could not do it (a lock left behind, a hung server), kill what the pid files
        // name, provided the process is one of this cluster's servers.
        for sid in self.sids() {
            let Ok(pid) = std::fs::read_to_string(self.pid_file(sid)) else {
                continue;
            };
            let pid = pid.trim();
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let ours = String::from_utf8_lossy(&cmdline).contains(&*self.root().to_string_lossy());
            if ours {
                let _ = Command::new("kill").args(["-KILL", pid]).status();
            }
        }
    }
}

/// The `clientPort` a zoo.cfg sets.
pub fn client_port(zoo_cfg: &Path) -> u16 {
    let text = std::fs::read_to_string(zoo_cfg).expect("the cluster wrote its zoo.cfg");
    text.lines()
        .find_map(|line| line.strip_prefix("clientPort="))
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("no clientPort in {}:\n{text}", zoo_cfg.display()))
}
