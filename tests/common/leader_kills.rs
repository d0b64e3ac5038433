//! How many servers may die: a `keeper cluster` whose leader is killed again and again until
//! the survivors can no longer serve a write.
//!
//! ZooKeeper serves writes while a majority of its voters is up: a leader needs a quorum to
//! be elected and to commit. The quickest way to watch that rule on real processes is to kill
//! the *leader* each time: its followers notice at once (their connection to it closes) and
//! start an election, which either ends with a new leader among the survivors or never ends.
//! Killing a follower instead would leave the leader to notice the lost quorum only after
//! `syncLimit` ticks (10 s with the course's settings).
//!
//! The caller says what it expects after each death (from the ensemble's quorum rule, or from
//! a student's answer); [`kill_leaders`] then waits, bounded, for exactly that: a new leader
//! and a write through a survivor read back from every survivor, or every survivor refusing.
//! A server that has no quorum answers `srvr` with "not currently serving"; that it *stays*
//! so cannot be seen in an instant, so a refusing cluster is watched for [`NO_QUORUM_WATCH`]
//! (many times the few milliseconds a Keeper election takes) and must refuse a real write.

use super::reaper::reaper;
use super::{four_letter_word, run_to_end, wait_until, Finished, TempDir};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command};
use std::time::{Duration, Instant};

const KEEPER: &str = env!("CARGO_BIN_EXE_keeper");

/// A `keeper cluster` command or a one-shot `keeper cli`: milliseconds here, this long at most
/// on a loaded machine.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// A Keeper election after a leader's death takes milliseconds; this bound is for a loaded
/// machine (and for a wrong expectation, which then fails here instead of hanging).
pub const ELECTION_TIMEOUT: Duration = Duration::from_secs(20);

/// How long a cluster without a quorum is watched for a leader that must not appear.
pub const NO_QUORUM_WATCH: Duration = Duration::from_secs(2);

/// What `srvr` answers on a server that has no leader to follow.
pub const NOT_SERVING: &str = "This ZooKeeper instance is not currently serving requests";

/// A cluster started with `keeper cluster start --free-ports` in a fresh folder, stopped when
/// dropped.
pub struct KeeperCluster {
    dir: TempDir,
    client_ports: Vec<u16>,
    _reaper: Option<ChildStdin>,
}

impl KeeperCluster {
    /// `keeper cluster start --servers N --free-ports`; every server listens when it returns.
    pub fn start(servers: u64) -> KeeperCluster {
        let dir = TempDir::new("leader-kills");
        let _reaper = reaper(dir.path());
        let mut cluster = KeeperCluster {
            dir,
            client_ports: Vec::new(),
            _reaper,
        };
        let count = servers.to_string();
        cluster.ok(&["start", "--servers", &count, "--free-ports"]);
        cluster.client_ports = (1..=servers).map(|sid| cluster.read_port(sid)).collect();
        cluster
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn zoo_cfg(&self, sid: u64) -> PathBuf {
        self.dir().join(format!("server{sid}/conf/zoo.cfg"))
    }

    fn read_port(&self, sid: u64) -> u16 {
        let text = std::fs::read_to_string(self.zoo_cfg(sid)).expect("zoo.cfg");
        text.lines()
            .find_map(|l| l.strip_prefix("clientPort="))
            .and_then(|p| p.trim().parse().ok())
            .expect("zoo.cfg has a clientPort")
    }

    pub fn sids(&self) -> Vec<u64> {
        (1..=self.client_ports.len() as u64).collect()
    }

    pub fn address(&self, sid: u64) -> String {
        format!("127.0.0.1:{}", self.client_ports[sid as usize - 1])
    }

    /// `keeper cluster ARGS --dir DIR`, which must succeed; what it printed.
    pub fn ok(&self, args: &[&str]) -> String {
        let mut command = Command::new(KEEPER);
        command
            .arg("cluster")
            .args(args)
            .arg("--dir")
            .arg(self.dir());
        let finished = run_to_end(command, "", COMMAND_TIMEOUT)
            .unwrap_or_else(|why| panic!("keeper cluster {args:?}: {why}"));
        assert!(
            finished.status.success(),
            "keeper cluster {args:?} failed:\n{}",
            finished.output
        );
        finished.output
    }

    /// What server `sid` answers to `srvr`, or None when nothing answers.
    pub fn srvr(&self, sid: u64) -> Option<String> {
        four_letter_word(self.client_ports[sid as usize - 1], "srvr").ok()
    }

    /// Server `sid`'s `Mode:` as `srvr` reports it; None while it does not serve.
    pub fn mode(&self, sid: u64) -> Option<String> {
        let answer = self.srvr(sid)?;
        answer
            .lines()
            .find_map(|line| line.strip_prefix("Mode: "))
            .map(str::to_string)
    }

    /// Waits until `alive` are one leader and followers; returns the leader.
    pub fn wait_for_leader(&self, alive: &[u64]) -> Result<u64, String> {
        let mut last = Vec::new();
        wait_until(ELECTION_TIMEOUT, "one leader, the rest followers", || {
            last = alive.iter().map(|&sid| (sid, self.mode(sid))).collect();
            let leaders: Vec<u64> = last
                .iter()
                .filter(|(_, m)| m.as_deref() == Some("leader"))
                .map(|(sid, _)| *sid)
                .collect();
            let followers = last
                .iter()
                .filter(|(_, m)| m.as_deref() == Some("follower"))
                .count();
            (leaders.len() == 1 && followers + 1 == alive.len()).then(|| leaders[0])
        })
        .map_err(|why| format!("{why}; modes: {last:?}"))
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
            .iter()
            .map(|sid| {
                let log = self.dir().join(format!("server{sid}/logs/keeper.out"));
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(15).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                format!("--- server {sid}:\n{}", tail.join("\n"))
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for KeeperCluster {
    fn drop(&mut self) {
        let mut command = Command::new(KEEPER);
        command
            .arg("cluster")
            .arg("stop")
            .arg("--dir")
            .arg(self.dir());
        let _ = run_to_end(command, "", COMMAND_TIMEOUT);
    }
}

/// What the cluster did after one more death.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// Servers killed so far.
    pub dead: u64,
    /// Servers still running.
    pub alive: u64,
    /// Whether a write through a survivor succeeded (and every survivor read it back).
    pub served: bool,
}

/// Kills the leader of `cluster` again and again. `serves(dead)` says whether the survivors
/// should still serve writes with `dead` servers gone; after each death this waits for what it
/// said, and stops at the first death after which the cluster refuses. The steps seen, or what
/// the real cluster did instead of what was expected.
pub fn kill_leaders(
    cluster: &KeeperCluster,
    serves: impl Fn(u64) -> bool,
) -> Result<Vec<Step>, String> {
    let mut alive = cluster.sids();
    let mut steps = Vec::new();
    let mut leader = cluster
        .wait_for_leader(&alive)
        .map_err(|why| format!("the cluster never elected: {why}"))?;
    for dead in 0.. {
        let expected = serves(dead);
        let alive_count = alive.len() as u64;
        let served = if expected {
            leader = cluster.wait_for_leader(&alive).map_err(|why| {
                format!("{dead} dead, {alive_count} alive: expected a new leader, but {why}")
            })?;
            write_and_read_back(cluster, &alive, leader, dead)?;
            true
        } else {
            refuses(cluster, &alive).map_err(|why| {
                format!("{dead} dead, {alive_count} alive: expected no quorum, but {why}")
            })?;
            false
        };
        steps.push(Step {
            dead,
            alive: alive_count,
            served,
        });
        if !served || alive.len() == 1 {
            break;
        }
        cluster.ok(&["kill", &leader.to_string()]);
        alive.retain(|&sid| sid != leader);
    }
    Ok(steps)
}

/// A write through a follower (which forwards it to the leader), then read back on every
/// survivor: each applies the commit on its own, so each is waited for.
fn write_and_read_back(
    cluster: &KeeperCluster,
    alive: &[u64],
    leader: u64,
    dead: u64,
) -> Result<(), String> {
    let through = alive
        .iter()
        .copied()
        .find(|&s| s != leader)
        .unwrap_or(leader);
    let path = format!("/after-{dead}-dead");
    if !cluster.create(through, &path, "served") {
        return Err(format!(
            "the write of {path} through server {through} failed"
        ));
    }
    for &sid in alive {
        wait_until(ELECTION_TIMEOUT, &format!("{path} on server {sid}"), || {
            (cluster.get(sid, &path).as_deref() == Some("served")).then_some(())
        })?;
    }
    Ok(())
}

/// Every survivor stops serving, none becomes leader while watched, and a write is refused.
fn refuses(cluster: &KeeperCluster, alive: &[u64]) -> Result<(), String> {
    let not_serving = |sid: u64| {
        cluster
            .srvr(sid)
            .is_some_and(|answer| answer.contains(NOT_SERVING))
    };
    wait_until(ELECTION_TIMEOUT, "every survivor to stop serving", || {
        alive.iter().all(|&sid| not_serving(sid)).then_some(())
    })?;
    let until = Instant::now() + NO_QUORUM_WATCH;
    while Instant::now() < until {
        if let Some((sid, mode)) = alive
            .iter()
            .find_map(|&sid| cluster.mode(sid).map(|m| (sid, m)))
        {
            return Err(format!("server {sid} became {mode}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    if cluster.create(alive[0], "/without-a-quorum", "lost") {
        return Err(format!("server {} accepted a write", alive[0]));
    }
    Ok(())
}
