//! A mixed ensemble: Keeper and the real ZooKeeper 3.8 as members of one ensemble.
//!
//! Keeper's election notifications, quorum packets, txns and snapshot streams are meant to be
//! ZooKeeper's bytes; each format has its own byte-level test, and this file is the proof that
//! they add up. `keeper cluster start --zookeeper-servers ...` runs some servers as ZooKeeper's
//! `QuorumPeerMain`, the others as `keeper server`, on the same kind of files. Two ensembles,
//! one Keeper with two ZooKeepers and two Keepers with one ZooKeeper, each:
//!
//! - elect a leader, and a client (kazoo) writes through every server and reads the same tree,
//!   data and Stat, from every server;
//! - lose their leader (SIGKILL): the others elect again and writes go on; the old leader
//!   comes back and catches up by DIFF;
//! - catch up a follower that missed more txns than a leader keeps in memory
//!   (`commitLogCount`, 500) by SNAP, once from a ZooKeeper leader to a Keeper follower and
//!   once from a Keeper leader to a ZooKeeper follower.
//!
//! And a client's session moves from a follower of one program to a follower of the other,
//! whose leader is of the first: the new follower asks the leader (REVALIDATE) across programs,
//! once Keeper learner → ZooKeeper leader and once ZooKeeper learner → Keeper leader. The
//! session keeps its id, its ephemeral and its watch; a closed or unknown session is refused.
//! The leader's log shows it answered: both programs trace "Session 0x.. is valid: ..."
//! (ZooKeeper's `Leader` at TRACE, turned on through `SERVER_JVMFLAGS`).
//!
//! Which sync happened is read from the restarted server's own log: ZooKeeper's `Learner`
//! logs "Getting a diff from the leader" or "Getting a snapshot from leader", Keeper's
//! follower "synced by DIFF" or "synced by SNAP". Skipped, with a message, when Java, the
//! ZooKeeper jars or kazoo are missing. Every wait is bounded; the cluster is stopped in a drop
//! guard.

use crate::common;

use common::cluster::{Cluster, COMMAND_TIMEOUT};
use common::raw::check_a_moved_sessions_old_connection;
use common::{run_for_stdout, skip, tools};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

/// More txns than a leader keeps for DIFFs (`commitLogCount`, 500 in both programs).
const PAST_COMMIT_LOG: usize = 600;

/// Where the test writes.
const ROOT: &str = "/mixed";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Program {
    Keeper,
    ZooKeeper,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sync {
    Diff,
    Snap,
}

/// A mixed cluster under test: which server runs what, and a client on it.
struct Mixed {
    cluster: Cluster,
    zookeeper: Vec<u64>,
    /// Every write so far, so each value is new.
    writes: usize,
}

impl Mixed {
    fn start(zookeeper: &[u64]) -> Mixed {
        Mixed::start_env(zookeeper, &[])
    }

    fn start_env(zookeeper: &[u64], env: &[(&str, &str)]) -> Mixed {
        // A small snapCount: servers roll their logs and snapshot while the test writes.
        let cluster = Cluster::start_mixed_env(3, zookeeper, &["snapCount=100"], env);
        Mixed {
            cluster,
            zookeeper: zookeeper.to_vec(),
            writes: 0,
        }
    }

    fn program(&self, sid: u64) -> Program {
        if self.zookeeper.contains(&sid) {
            Program::ZooKeeper
        } else {
            Program::Keeper
        }
    }

    fn kazoo(&self, args: &[&str]) -> String {
        let mut command = Command::new(tools::PYTHON);
        command.arg(client_script()).args(args);
        let finished = run_for_stdout(command, COMMAND_TIMEOUT)
            .unwrap_or_else(|why| panic!("kazoo {args:?}: {why}\n{}", self.cluster.logs()));
        assert!(
            finished.status.success(),
            "kazoo {args:?}: {}{}\n{}",
            finished.output,
            finished.errors,
            self.cluster.logs()
        );
        finished.output
    }

    /// A write through each of `sids`, each to a node of its own.
    fn write_through(&mut self, sids: &[u64]) {
        for &sid in sids {
            self.writes += 1;
            let path = format!("{ROOT}/via{sid}");
            let value = format!("write {} through server {sid}", self.writes);
            self.kazoo(&["write", &self.cluster.address(sid), &path, &value]);
        }
    }

    /// `count` txns through server `sid`.
    fn churn(&mut self, sid: u64, count: usize) {
        self.kazoo(&[
            "churn",
            &self.cluster.address(sid),
            &format!("{ROOT}/churn"),
            &count.to_string(),
        ]);
    }

    /// Reads the tree under ROOT from each of `sids` alone and checks they are one tree, data
    /// and Stat; returns it.
    fn same_tree_on(&self, sids: &[u64]) -> String {
        let hosts: Vec<String> = sids.iter().map(|&sid| self.cluster.address(sid)).collect();
        let trees: Vec<String> = self
            .kazoo(&["tree", &hosts.join(" "), ROOT])
            .lines()
            .map(str::to_string)
            .collect();
        assert_eq!(trees.len(), sids.len(), "one tree per server: {trees:?}");
        for (sid, tree) in sids.iter().zip(&trees) {
            assert_eq!(
                tree,
                &trees[0],
                "server {sid} ({:?}) and server {} ({:?}) hold different trees",
                self.program(*sid),
                sids[0],
                self.program(sids[0])
            );
        }
        trees[0].clone()
    }

    fn log_path(&self, sid: u64) -> PathBuf {
        self.cluster
            .root()
            .join(format!("server{sid}/logs/keeper.out"))
    }

    fn log_len(&self, sid: u64) -> usize {
        std::fs::read(self.log_path(sid)).map_or(0, |b| b.len())
    }

    /// How server `sid` was synced, by its log since byte `from`: the last sync it logged.
    fn sync_since(&self, sid: u64, from: usize) -> Option<Sync> {
        let log = std::fs::read(self.log_path(sid)).unwrap_or_default();
        let text = String::from_utf8_lossy(&log[from.min(log.len())..]).into_owned();
        let (diff, snap) = match self.program(sid) {
            Program::ZooKeeper => (
                "Getting a diff from the leader",
                "Getting a snapshot from leader",
            ),
            Program::Keeper => ("synced by DIFF", "synced by SNAP"),
        };
        text.lines().rev().find_map(|line| {
            if line.contains(diff) {
                Some(Sync::Diff)
            } else if line.contains(snap) {
                Some(Sync::Snap)
            } else {
                None
            }
        })
    }

    /// SIGKILLs server `sid`. The command returns once the process is gone: its client port
    /// is free at once.
    fn kill(&self, sid: u64) {
        self.cluster.ok(&["kill", &sid.to_string()]);
        let port = self.cluster.client_ports[sid as usize - 1];
        if let Err(e) = TcpListener::bind(("127.0.0.1", port)) {
            panic!(
                "server {sid} ({:?}) still holds port {port} after `kill`: {e}",
                self.program(sid)
            );
        }
    }

    /// Restarts server `sid` and waits until the three form an ensemble again; asserts it
    /// was synced by `expected` and that it then serves the others' tree.
    fn restart_synced_by(&self, sid: u64, expected: Sync) -> u64 {
        let from = self.log_len(sid);
        self.cluster.ok(&["restart", &sid.to_string()]);
        let leader = self.cluster.wait_for_leader(&[1, 2, 3]);
        assert_ne!(leader, sid, "a restarted server with the same log joins");
        let synced = self.sync_since(sid, from);
        assert_eq!(
            synced,
            Some(expected),
            "server {sid} ({:?}) after a restart, leader {leader} ({:?}); its log:\n{}",
            self.program(sid),
            self.program(leader),
            String::from_utf8_lossy(&std::fs::read(self.log_path(sid)).unwrap_or_default()[from..])
        );
        self.same_tree_on(&[1, 2, 3]);
        leader
    }

    /// The leader lost: the other two elect again, writes go on through both, and the old
    /// leader comes back by DIFF. Returns the new leader.
    fn lose_the_leader(&mut self, leader: u64) -> u64 {
        self.kill(leader);
        let rest: Vec<u64> = [1, 2, 3].into_iter().filter(|&s| s != leader).collect();
        self.cluster.wait_for_leader(&rest);
        self.write_through(&rest);
        self.same_tree_on(&rest);
        self.restart_synced_by(leader, Sync::Diff)
    }

    /// A follower of the other program than the leader's misses more txns than the leader
    /// keeps in memory and is synced by SNAP.
    fn snap_to_the_other_program(&mut self, leader: u64) -> u64 {
        let follower = [1, 2, 3]
            .into_iter()
            .find(|&s| s != leader && self.program(s) != self.program(leader))
            .expect("a mixed ensemble has a member of the other program");
        self.kill(follower);
        let rest: Vec<u64> = [1, 2, 3].into_iter().filter(|&s| s != follower).collect();
        assert_eq!(self.cluster.wait_for_leader(&rest), leader);
        self.churn(leader, PAST_COMMIT_LOG);
        self.write_through(&rest);
        self.restart_synced_by(follower, Sync::Snap)
    }

    /// Loses leaders until one running `program` leads; returns it. Among members with the
    /// same log the highest sid wins, so one loss is enough in a three-server ensemble with
    /// both programs; the bound is for a run where a vote went otherwise.
    fn led_by(&mut self, program: Program, mut leader: u64) -> u64 {
        for _ in 0..4 {
            if self.program(leader) == program {
                return leader;
            }
            leader = self.lose_the_leader(leader);
        }
        panic!(
            "no {program:?} server came to lead\n{}",
            self.cluster.logs()
        );
    }
}

/// ZooKeeper's leader traces its REVALIDATE answers ("Session 0x.. is valid: ..."), its
/// learner the answers it gets; slf4j-simple logs a class at TRACE by this property.
const TRACE_REVALIDATE: &str =
    "-Dorg.slf4j.simpleLogger.log.org.apache.zookeeper.server.quorum.Leader=trace \
     -Dorg.slf4j.simpleLogger.log.org.apache.zookeeper.server.quorum.Learner=trace";

// ANCHOR: session_moves
/// A session moves from a follower running the leader's program to one running the other, so
/// the REVALIDATE crosses programs; the leader's log says it answered.
fn session_moves_across_programs(zookeeper: &[u64], leader_runs: Program) {
    let mut mixed = Mixed::start_env(zookeeper, &[("SERVER_JVMFLAGS", TRACE_REVALIDATE)]);
    let leader = mixed.cluster.wait_for_leader(&[1, 2, 3]);
    // Txns first: a leader lost with none comes back at zxid 0, and ZooKeeper's leader syncs
    // that by SNAP where `led_by` expects a DIFF.
    mixed.write_through(&[1, 2, 3]);
    let leader = mixed.led_by(leader_runs, leader);
    let follower_running = |program: Program| {
        [1, 2, 3]
            .into_iter()
            .find(|&s| s != leader && mixed.program(s) == program)
            .unwrap_or_else(|| panic!("no {program:?} follower of leader {leader}"))
    };
    let other = match leader_runs {
        Program::Keeper => Program::ZooKeeper,
        Program::ZooKeeper => Program::Keeper,
    };
    let (from, to) = (follower_running(leader_runs), follower_running(other));
    let leader_log_from = mixed.log_len(leader);
    let out = mixed.kazoo(&[
        "move",
        &mixed.cluster.address(from),
        &mixed.cluster.address(to),
        &mixed.cluster.address(leader),
        &format!("{ROOT}/moves"),
    ]);
    let field = |key: &str| -> Vec<String> {
        out.lines()
            .filter_map(|line| line.strip_prefix(key))
            .map(|rest| rest.trim().to_string())
            .collect()
    };
    let session = field("session ")
        .pop()
        .expect("the client printed its session");
    assert_eq!(
        field("moved "),
        [mixed.cluster.client_ports[to as usize - 1].to_string()],
        "{out}"
    );
    assert_eq!(
        field("owner "),
        std::slice::from_ref(&session),
        "the ephemeral is the session's: {out}"
    );
    assert_eq!(
        field("fired "),
        [format!("{ROOT}/moves/watched CHANGED")],
        "{out}"
    );
    assert_eq!(
        field("expired ").len(),
        2,
        "the closed and the unknown session are refused: {out}"
    );

    // The leader's own word: valid for the move, not valid for the two refused.
    let log = std::fs::read(mixed.log_path(leader)).unwrap_or_default();
    let log = String::from_utf8_lossy(&log[leader_log_from.min(log.len())..]).into_owned();
    let answered = |id: &str, valid: bool| log.contains(&format!("Session {id} is valid: {valid}"));
    let mut expected = vec![(session.clone(), true)];
    expected.extend(field("expired ").into_iter().map(|id| (id, false)));
    for (id, valid) in expected {
        assert!(
            answered(&id, valid),
            "leader {leader} ({leader_runs:?}) did not log REVALIDATE of {id} (valid: {valid}) \
             from follower {to} ({other:?}); its log since the move:\n{log}"
        );
    }

    // Back the other way with two connections: the leader now says the session is `from`'s,
    // so the one left open on `to` is closed at its next write, whichever program `to` runs
    // (its SessionMoved error txn crosses programs).
    let port = |sid: u64| mixed.cluster.client_ports[sid as usize - 1];
    check_a_moved_sessions_old_connection(port(to), port(from), false)
        .unwrap_or_else(|why| panic!("{why}\n{}", mixed.cluster.logs()));
}
// ANCHOR_END: session_moves

fn client_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mixed_ensemble/mixed_client.py")
}

/// Java, ZooKeeper's jars and kazoo, or why the test cannot run.
fn tools_present(test: &str) -> bool {
    match tools::java().and_then(|()| tools::kazoo()) {
        Ok(()) => true,
        Err(reason) => {
            skip(test, &reason);
            false
        }
    }
}

// ANCHOR: story
/// The whole story on one mixed ensemble.
fn mixed_ensemble(zookeeper: &[u64]) {
    let mut mixed = Mixed::start(zookeeper);
    let leader = mixed.cluster.wait_for_leader(&[1, 2, 3]);
    // `keeper cluster status` asks each server, whichever program it runs.
    let status = mixed.cluster.ok(&["status"]);
    assert_eq!(status.matches("Mode: ").count(), 3, "{status}");
    mixed.write_through(&[1, 2, 3]);
    let tree = mixed.same_tree_on(&[1, 2, 3]);
    assert_eq!(tree.matches("through server").count(), 3, "{tree}");

    let leader = mixed.lose_the_leader(leader);
    let leader = mixed.led_by(Program::ZooKeeper, leader);
    let leader = mixed.snap_to_the_other_program(leader);
    let leader = mixed.led_by(Program::Keeper, leader);
    mixed.snap_to_the_other_program(leader);
    mixed.write_through(&[1, 2, 3]);
    mixed.same_tree_on(&[1, 2, 3]);
}
// ANCHOR_END: story

/// One Keeper server (3) with two ZooKeeper servers (1, 2). (issue 11 §4)
#[test]
fn one_keeper_with_two_zookeepers_elects_replicates_and_syncs_both_ways() {
    if tools_present("one Keeper with two ZooKeepers") {
        mixed_ensemble(&[1, 2]);
    }
}

/// Two Keeper servers (1, 2) with one ZooKeeper server (3). (issue 11 §4)
#[test]
fn two_keepers_with_one_zookeeper_elect_replicate_and_sync_both_ways() {
    if tools_present("two Keepers with one ZooKeeper") {
        mixed_ensemble(&[3]);
    }
}

/// A session moves from a ZooKeeper follower to a Keeper follower; the Keeper learner asks
/// the ZooKeeper leader. (issue 11 §4, REVALIDATE)
#[test]
fn a_session_moves_to_a_keeper_follower_of_a_zookeeper_leader() {
    if tools_present("a session moves to a Keeper follower of a ZooKeeper leader") {
        session_moves_across_programs(&[1, 3], Program::ZooKeeper);
    }
}

/// A session moves from a Keeper follower to a ZooKeeper follower; the ZooKeeper learner asks
/// the Keeper leader. (issue 11 §4, REVALIDATE)
#[test]
fn a_session_moves_to_a_zookeeper_follower_of_a_keeper_leader() {
    if tools_present("a session moves to a ZooKeeper follower of a Keeper leader") {
        session_moves_across_programs(&[1], Program::Keeper);
    }
}
