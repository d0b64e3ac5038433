//! `keeper cluster` end to end: real server processes on loopback, a real client (kazoo), and
//! crashes by SIGKILL.
//!
//! Each test starts its own cluster in a fresh folder with `--free-ports`, drives it only
//! through the commands a student types (`keeper cluster start|status|kill N|restart N|stop`)
//! and the four-letter word `srvr`, and stops it in a drop guard, so a failing test leaves no
//! server behind. Every wait is bounded.
//!
//! With `KEEPER_ORACLE=zookeeper` the ensemble tests run first on the real ZooKeeper 3.8
//! (`keeper cluster start --zookeeper`, the same files), the oracle that shows the
//! expectations are ZooKeeper's, then on Keeper.

mod common;

use common::reaper::reaper;
use common::{
    four_letter_word, run_for_stdout, run_to_end, tools, wait_until, Finished, Guarded, TempDir,
};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command};
use std::time::Duration;

const KEEPER: &str = env!("CARGO_BIN_EXE_keeper");

/// A `keeper cluster` command returns once its servers listen; on a loaded machine that and a
/// kazoo call can take seconds, never this long.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(90);

/// An election after a crash takes well under a second here; the bound is for a loaded machine.
const ELECTION_TIMEOUT: Duration = Duration::from_secs(60);

/// Which program serves a cluster under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Program {
    /// The real ZooKeeper 3.8: the oracle.
    ZooKeeper,
    Keeper,
}

/// The programs every ensemble test runs on: Keeper, and first the real ZooKeeper 3.8 as the
/// oracle when `KEEPER_ORACLE=zookeeper` is set. Five JVMs starting at once on a loaded 2-core
/// machine sometimes miss the start-up bound (3 runs in 10 did here), which would make the
/// suite flaky for a reason that is not Keeper's; the oracle runs on demand instead.
fn programs_under_test(test: &str) -> Vec<Program> {
    let mut programs = Vec::new();
    if std::env::var("KEEPER_ORACLE").as_deref() == Ok("zookeeper") {
        match tools::java() {
            Ok(()) => programs.push(Program::ZooKeeper),
            Err(reason) => common::skip(&format!("{test} on ZooKeeper"), &reason),
        }
    }
    programs.push(Program::Keeper);
    programs
}

/// A cluster started by a test, stopped (and any server left killed) when dropped.
struct Cluster {
    dir: TempDir,
    client_ports: Vec<u16>,
    /// The write end of the reaper's stdin (see [`reaper`]).
    _reaper: Option<ChildStdin>,
}

impl Cluster {
    /// `keeper cluster start --servers N --free-ports` in a fresh folder.
    fn start(servers: u64) -> Cluster {
        Cluster::start_with(Program::Keeper, servers)
    }

    /// As [`Cluster::start`], served by `program`.
    fn start_with(program: Program, servers: u64) -> Cluster {
        let dir = TempDir::new("cluster");
        let _reaper = reaper(dir.path());
        let mut cluster = Cluster {
            dir,
            client_ports: Vec::new(),
            _reaper,
        };
        let count = servers.to_string();
        let mut args = vec!["start", "--servers", &count, "--free-ports"];
        if program == Program::ZooKeeper {
            args.push("--zookeeper");
        }
        let started = cluster.run(&args);
        assert!(
            started.status.success(),
            "keeper cluster start failed:\n{}",
            started.output
        );
        cluster.client_ports = (1..=servers)
            .map(|sid| client_port(&cluster.zoo_cfg(sid)))
            .collect();
        cluster
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn zoo_cfg(&self, sid: u64) -> PathBuf {
        self.root().join(format!("server{sid}/conf/zoo.cfg"))
    }

    fn pid_file(&self, sid: u64) -> PathBuf {
        self.root()
            .join(format!("server{sid}/data/zookeeper_server.pid"))
    }

    fn sids(&self) -> impl Iterator<Item = u64> {
        1..=self.client_ports.len() as u64
    }

    /// `keeper cluster ARGS --dir DIR`, to the end, stdout and stderr together.
    fn run(&self, args: &[&str]) -> Finished {
        let mut command = Command::new(KEEPER);
        command
            .arg("cluster")
            .args(args)
            .arg("--dir")
            .arg(self.root());
        run_to_end(command, "", COMMAND_TIMEOUT)
            .unwrap_or_else(|why| panic!("keeper cluster {args:?}: {why}"))
    }

    /// Runs a command that must succeed, and returns what it printed.
    fn ok(&self, args: &[&str]) -> String {
        let finished = self.run(args);
        assert!(
            finished.status.success(),
            "keeper cluster {args:?} failed:\n{}\n{}",
            finished.output,
            self.logs()
        );
        finished.output
    }

    fn address(&self, sid: u64) -> String {
        format!("127.0.0.1:{}", self.client_ports[sid as usize - 1])
    }

    fn connect_string(&self) -> String {
        let all: Vec<String> = self.sids().map(|sid| self.address(sid)).collect();
        all.join(",")
    }

    /// Server `sid`'s `Mode:` as `srvr` reports it, or None if it does not answer.
    fn mode(&self, sid: u64) -> Option<String> {
        let answer = four_letter_word(self.client_ports[sid as usize - 1], "srvr").ok()?;
        answer
            .lines()
            .find_map(|line| line.strip_prefix("Mode: "))
            .map(str::to_string)
    }

    /// Waits until the servers `up` form an ensemble: one leader, every other one a
    /// follower. Returns the leader.
    fn wait_for_leader(&self, up: &[u64]) -> u64 {
        let mut last = Vec::new();
        wait_until(
            ELECTION_TIMEOUT,
            "one leader and the rest followers",
            || {
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
            },
        )
        .unwrap_or_else(|why| panic!("{why}; modes {last:?}\n{}", self.logs()))
    }

    /// Every server's log, for a failure message.
    fn logs(&self) -> String {
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
fn client_port(zoo_cfg: &Path) -> u16 {
    let text = std::fs::read_to_string(zoo_cfg).expect("the cluster wrote its zoo.cfg");
    text.lines()
        .find_map(|line| line.strip_prefix("clientPort="))
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("no clientPort in {}:\n{text}", zoo_cfg.display()))
}

/// Runs tests/cluster/client.py (kazoo) to the end; its stdout, or why it failed.
/// Its answer is stdout alone: kazoo logs a warning to stderr for each connection attempt that
/// fails (a server still electing), and the command then succeeds on a later one.
fn kazoo(args: &[&str]) -> Result<String, String> {
    let mut command = Command::new(tools::PYTHON);
    command.arg(client_script()).args(args);
    let finished = run_for_stdout(command, COMMAND_TIMEOUT)?;
    if finished.status.success() {
        Ok(finished.output)
    } else {
        Err(format!(
            "kazoo {args:?}: {}{}",
            finished.output, finished.errors
        ))
    }
}

fn client_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cluster/client.py")
}

/// Starts `client.py COMMAND CONNECT-STRING ARGS... STOPFILE` (kazoo on every server) in the
/// background, killed when dropped; it ends by itself once the test creates `stop_file`.
fn kazoo_in_background(cluster: &Cluster, command: &[&str], stop_file: &Path) -> Guarded {
    let mut args = vec![client_script().into_os_string(), command[0].into()];
    args.push(cluster.connect_string().into());
    args.extend(command[1..].iter().map(|arg| arg.into()));
    args.push(stop_file.as_os_str().to_os_string());
    Guarded::spawn(
        "the kazoo client",
        tools::PYTHON,
        &args,
        cluster.root(),
        None,
    )
    .expect("python starts")
}

/// kazoo's answer, or the test fails with it and the servers' logs.
fn kazoo_ok(cluster: &Cluster, args: &[&str]) -> String {
    kazoo(args).unwrap_or_else(|why| panic!("{why}\n{}", cluster.logs()))
}

/// The value of `path` read from server `sid` alone, after a sync.
fn value_on(cluster: &Cluster, sid: u64, path: &str) -> String {
    kazoo_ok(cluster, &["get", &cluster.address(sid), path])
        .trim()
        .to_string()
}

#[test]
fn start_writes_the_course_layout_and_every_command_does_what_it_says() {
    let cluster = Cluster::start(3);
    let root = cluster.root();
    for sid in 1..=3 {
        let myid = std::fs::read_to_string(root.join(format!("server{sid}/data/myid")));
        assert_eq!(myid.expect("a myid per server"), format!("{sid}\n"));
        let zoo_cfg = std::fs::read_to_string(cluster.zoo_cfg(sid)).expect("a zoo.cfg");
        let server_lines = zoo_cfg.lines().filter(|l| l.starts_with("server.")).count();
        assert_eq!(server_lines, 3, "{zoo_cfg}");
        assert!(zoo_cfg.contains(&format!(
            "dataDir={}",
            root.join(format!("server{sid}/data")).display()
        )));
    }
    // The servers outlived the command that started them, and formed an ensemble.
    cluster.wait_for_leader(&[1, 2, 3]);
    let status = cluster.ok(&["status"]);
    assert_eq!(status.matches("Mode: ").count(), 3, "{status}");

    let again = cluster.run(&["start"]);
    assert!(!again.status.success());
    assert!(
        again.output.contains("is already running"),
        "{}",
        again.output
    );
    let unknown = cluster.run(&["kill", "4"]);
    assert!(!unknown.status.success());
    assert!(
        unknown.output.contains("unknown server 4"),
        "{}",
        unknown.output
    );
    let other_size = cluster.run(&["start", "--servers", "5"]);
    assert!(
        other_size.output.contains("holds a 3-server cluster"),
        "{}",
        other_size.output
    );

    cluster.ok(&["kill", "2"]);
    assert_eq!(
        cluster.mode(2),
        None,
        "server 2 still answers after kill -9"
    );
    let status = cluster.run(&["status"]);
    assert!(
        !status.status.success(),
        "status succeeds with a server down"
    );
    assert!(status
        .output
        .contains("Error contacting service. It is probably not running."));
    let not_running = cluster.run(&["kill", "2"]);
    assert!(
        not_running.output.contains("server 2 is not running"),
        "{}",
        not_running.output
    );
    let restarted = cluster.ok(&["restart", "2"]);
    assert!(restarted.contains("Mode: follower"), "{restarted}");

    let zoo_cfg_before = std::fs::read_to_string(cluster.zoo_cfg(1)).expect("a zoo.cfg");
    cluster.ok(&["stop"]);
    for sid in 1..=3 {
        assert_eq!(cluster.mode(sid), None, "server {sid} answers after stop");
        assert!(
            !cluster.pid_file(sid).exists(),
            "server {sid}'s pid file outlived stop"
        );
    }
    // A second start reuses the files: same config, same ports.
    let restarted = cluster.ok(&["start"]);
    assert!(restarted.contains("Reusing the cluster"), "{restarted}");
    assert_eq!(
        std::fs::read_to_string(cluster.zoo_cfg(1)).expect("a zoo.cfg"),
        zoo_cfg_before
    );
    assert!(restarted.contains(&format!("Connect string: {}", cluster.connect_string())));
}

/// The ensemble tests need kazoo; without it they say so and pass.
fn kazoo_or_skip(test: &str) -> bool {
    match tools::kazoo() {
        Ok(()) => true,
        Err(reason) => {
            common::skip(test, &reason);
            false
        }
    }
}

/// The three servers of the course elect one leader, `keeper cluster status` shows it as
/// `zkServer.sh status` would on each machine, and a write through any server is read from
/// every other one (ZooKeeper's sequential consistency, with a sync before each read).
#[test]
fn three_servers_elect_one_leader_and_a_write_through_any_server_is_read_on_every_server() {
    const TEST: &str = "three servers elect and replicate";
    if !kazoo_or_skip(TEST) {
        return;
    }
    for program in programs_under_test(TEST) {
        let cluster = Cluster::start_with(program, 3);
        let leader = cluster.wait_for_leader(&[1, 2, 3]);
        let status = cluster.ok(&["status"]);
        assert_eq!(
            status.matches("Mode: leader").count(),
            1,
            "{program:?}: {status}"
        );
        assert_eq!(
            status.matches("Mode: follower").count(),
            2,
            "{program:?}: {status}"
        );
        for writer in 1..=3 {
            let path = format!("/course/via-{writer}");
            let value = format!("written through server {writer} (leader {leader})");
            kazoo_ok(
                &cluster,
                &["create", &cluster.address(writer), &path, &value],
            );
            for reader in 1..=3 {
                assert_eq!(
                    value_on(&cluster, reader, &path),
                    value,
                    "{program:?}: server {reader}"
                );
            }
        }
    }
}

/// Killing the leader (SIGKILL) makes the other two elect a new one and writes go on; the
/// old leader, restarted, rejoins as a follower and serves what was written while it was down
/// (it catches up from the new leader: upstream `LearnerHandler.syncFollower`, DIFF or SNAP).
#[test]
fn a_killed_leader_is_replaced_and_once_restarted_it_catches_up() {
    const TEST: &str = "leader crash and catch-up";
    if !kazoo_or_skip(TEST) {
        return;
    }
    for program in programs_under_test(TEST) {
        let cluster = Cluster::start_with(program, 3);
        let old = cluster.wait_for_leader(&[1, 2, 3]);
        kazoo_ok(
            &cluster,
            &["create", &cluster.connect_string(), "/before", "1"],
        );
        cluster.ok(&["kill", &old.to_string()]);
        let rest: Vec<u64> = (1..=3).filter(|&sid| sid != old).collect();
        let new = cluster.wait_for_leader(&rest);
        assert_ne!(new, old, "{program:?}");
        kazoo_ok(
            &cluster,
            &["create", &cluster.address(rest[0]), "/during", "2"],
        );
        cluster.ok(&["restart", &old.to_string()]);
        assert_eq!(
            cluster.wait_for_leader(&[1, 2, 3]),
            new,
            "{program:?}: a rejoining server took over"
        );
        assert_eq!(value_on(&cluster, old, "/before"), "1", "{program:?}");
        assert_eq!(value_on(&cluster, old, "/during"), "2", "{program:?}");
    }
}

/// Under a steady stream of creates from one client with the whole connect string, the leader
/// is killed and later restarted: every create whose success reached the client is on every
/// server afterwards, and the servers hold the same children (Zab's guarantee: a txn acked by
/// a quorum is in every later leader's history).
#[test]
fn no_acknowledged_write_is_lost_when_the_leader_is_killed_under_load() {
    const TEST: &str = "leader crash under load";
    if !kazoo_or_skip(TEST) {
        return;
    }
    for program in programs_under_test(TEST) {
        let cluster = Cluster::start_with(program, 3);
        let old = cluster.wait_for_leader(&[1, 2, 3]);
        let stop_file = cluster.root().join("stop-writing");
        let writer = kazoo_in_background(&cluster, &["write", "/load"], &stop_file);
        let acked_past = |from: usize, what: &str| {
            writer
                .wait_for_line(from, COMMAND_TIMEOUT, |l| l.starts_with("acked "))
                .unwrap_or_else(|why| panic!("{program:?}, {what}: {why}\n{}", cluster.logs()))
        };
        // Some writes before the crash, some after it, some after the restart.
        let mut seen = acked_past(0, "before the crash");
        for _ in 0..20 {
            seen = acked_past(seen + 1, "before the crash");
        }
        cluster.ok(&["kill", &old.to_string()]);
        let rest: Vec<u64> = (1..=3).filter(|&sid| sid != old).collect();
        cluster.wait_for_leader(&rest);
        let crashed_at = writer.output().lines().count();
        seen = acked_past(crashed_at, "after the crash");
        cluster.ok(&["restart", &old.to_string()]);
        cluster.wait_for_leader(&[1, 2, 3]);
        let restarted_at = writer.output().lines().count();
        for _ in 0..20 {
            seen = acked_past(seen.max(restarted_at) + 1, "after the restart");
        }
        std::fs::write(&stop_file, "").expect("the stop file");
        writer
            .wait_for_line(0, COMMAND_TIMEOUT, |l| l == "done")
            .unwrap_or_else(|why| panic!("{program:?}: {why}"));
        let acked: BTreeSet<String> = writer
            .output()
            .lines()
            .filter_map(|l| l.strip_prefix("acked "))
            .map(|n| format!("w-{:06}", n.parse::<u64>().expect("a number")))
            .collect();
        let mut trees = Vec::new();
        for sid in 1..=3 {
            let children: BTreeSet<String> =
                kazoo_ok(&cluster, &["children", &cluster.address(sid), "/load"])
                    .lines()
                    .map(str::to_string)
                    .collect();
            let lost: Vec<&String> = acked.difference(&children).collect();
            assert!(
                lost.is_empty(),
                "{program:?}: server {sid} lost acknowledged writes {lost:?}"
            );
            trees.push(children);
        }
        assert!(
            trees.windows(2).all(|w| w[0] == w[1]),
            "{program:?}: the servers differ"
        );
        eprintln!(
            "{program:?}: {} acknowledged writes on all three servers",
            acked.len()
        );
    }
}

/// Five servers survive two crashes, the leader among them (a majority of five is three), and
/// the crashed ones catch up when restarted.
#[test]
fn five_servers_keep_serving_with_two_of_them_killed() {
    const TEST: &str = "five servers, two crashes";
    if !kazoo_or_skip(TEST) {
        return;
    }
    for program in programs_under_test(TEST) {
        let cluster = Cluster::start_with(program, 5);
        let leader = cluster.wait_for_leader(&[1, 2, 3, 4, 5]);
        let other = if leader == 1 { 2 } else { 1 };
        cluster.ok(&["kill", &leader.to_string()]);
        cluster.ok(&["kill", &other.to_string()]);
        let rest: Vec<u64> = (1..=5)
            .filter(|&sid| sid != leader && sid != other)
            .collect();
        cluster.wait_for_leader(&rest);
        kazoo_ok(
            &cluster,
            &["create", &cluster.connect_string(), "/two-down", "3 of 5"],
        );
        for sid in [leader, other] {
            cluster.ok(&["restart", &sid.to_string()]);
        }
        cluster.wait_for_leader(&[1, 2, 3, 4, 5]);
        for sid in 1..=5 {
            assert_eq!(
                value_on(&cluster, sid, "/two-down"),
                "3 of 5",
                "{program:?}: server {sid}"
            );
        }
    }
}

/// A client given every server's address keeps its session when its server is killed: it
/// moves to another server with the same session id and password, and its ephemeral node
/// stays (upstream `ClientCnxn` reconnects with them; the server that takes the session over
/// revalidates it with the leader). Watches are not checked here: kazoo 2.8 drops its watchers
/// on any lost connection (`KazooClient._reset_watchers`) and sends no setWatches.
#[test]
fn a_client_with_every_address_keeps_its_session_and_ephemerals_when_its_server_dies() {
    const TEST: &str = "multi-host client survives its server";
    if !kazoo_or_skip(TEST) {
        return;
    }
    for program in programs_under_test(TEST) {
        let cluster = Cluster::start_with(program, 3);
        cluster.wait_for_leader(&[1, 2, 3]);
        let stop_file = cluster.root().join("stop-session");
        let client = kazoo_in_background(&cluster, &["session"], &stop_file);
        let line = |prefix: &str| -> Vec<String> {
            let at = client
                .wait_for_line(0, COMMAND_TIMEOUT, |l| l.starts_with(prefix))
                .unwrap_or_else(|why| panic!("{program:?}: {why}\n{}", cluster.logs()));
            let output = client.output();
            let text = output.lines().nth(at).expect("the line waited for");
            text.split_whitespace()
                .skip(1)
                .map(str::to_string)
                .collect()
        };
        let ready = line("ready ");
        let port: u16 = ready[1].parse().expect("a port");
        let victim = cluster
            .sids()
            .find(|&sid| cluster.client_ports[sid as usize - 1] == port);
        let victim = victim.expect("the client is on one of the servers");
        cluster.ok(&["kill", &victim.to_string()]);
        let moved = line("reconnected ");
        assert_eq!(moved[0], ready[0], "{program:?}: the session changed");
        assert_ne!(
            moved[1], ready[1],
            "{program:?}: still on the killed server"
        );
        let other = cluster
            .sids()
            .find(|&sid| sid != victim)
            .expect("a live server");
        assert_eq!(value_on(&cluster, other, "/eph"), "mine", "{program:?}");
        std::fs::write(&stop_file, "").expect("the stop file");
        line("done");
    }
}
