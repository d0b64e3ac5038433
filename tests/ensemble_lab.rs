//! The graders of chapter 8's labs, and the reference they are graded against.
//!
//! `cargo run -- lab check 8.1` runs the tests named `lab_8_1_*`, and so on. The repository
//! ships the answers (`tests/ensemble_lab/quorum.rs` and `leader.rs`), so here they pass;
//! `cargo run -- lab start 8.1` gives you the lab without them. The checks run real servers:
//! `keeper cluster` on loopback with free ports, stopped when the check ends.
//!
//! The test that does not start with `lab_` is the reference for lab 8.2, and needs no student
//! code: it shows on real servers that `keeper status` cannot tell a dead server from one
//! without a quorum (what the lab's reading of `srvr` is for), and pins what the book prints.
//! Lab 8.1's reference is `tests/cluster_size.rs`.

use crate::common;
#[path = "ensemble_lab/leader.rs"]
mod leader;
#[path = "ensemble_lab/quorum.rs"]
mod quorum;

use ch01_znode::Sid;
use ch05_election::quorum::{QuorumMaj, QuorumVerifier};
use common::cluster::Cluster;
use common::leader_kills::{kill_leaders, ELECTION_TIMEOUT, NOT_SERVING};
use common::{four_letter_word, run_for_stdout, wait_until};
use leader::{read_srvr, Seen};
use quorum::may_die;
use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

// ---- Lab 8.1: how many servers may die (tests/ensemble_lab/quorum.rs) ----

/// The most of `servers` voters that may be gone with the rest still a quorum, by chapter 5's
/// rule as the ensemble runs it.
fn most_that_may_die(servers: u64) -> u64 {
    let rule = QuorumMaj::new((1..=servers).map(Sid), []);
    (0..=servers)
        .filter(|&dead| {
            let survivors: BTreeSet<Sid> = (dead + 1..=servers).map(Sid).collect();
            rule.contains_quorum(&survivors)
        })
        .max()
        .expect("with nobody dead, every server is a quorum")
}

#[test]
fn lab_8_1_the_quorum_rule_agrees_for_every_size_up_to_nine() {
    for servers in 1..=9 {
        assert_eq!(
            may_die(servers),
            most_that_may_die(servers),
            "{servers} servers"
        );
    }
}

/// Four servers are the course's trap: one more than three, and no more deaths survived.
#[test]
fn lab_8_1_four_real_servers_agree() {
    let answer = may_die(4);
    let cluster = Cluster::start(4);
    let steps = kill_leaders(&cluster, |dead| dead <= answer).unwrap_or_else(|why| {
        panic!(
            "you said {answer} of 4 servers may die; the real cluster: {why}\n{}",
            cluster.logs()
        )
    });
    let refused = steps.last().expect("at least the first step");
    assert!(!refused.served, "the cluster served to the end: {steps:?}");
    assert_eq!(refused.dead, answer + 1, "{steps:?}");
}

// ---- Lab 8.2: down, or without a quorum? (tests/ensemble_lab/leader.rs) ----

/// What `mntr`'s `zk_server_state` says server `sid` is; `NotRunning` when it does not answer.
fn seen_by_mntr(cluster: &Cluster, sid: u64) -> Seen {
    let port: u16 = cluster.address(sid)[10..].parse().expect("127.0.0.1:port");
    let Ok(answer) = four_letter_word(port, "mntr") else {
        return Seen::NotRunning;
    };
    if answer.contains(NOT_SERVING) {
        return Seen::NoQuorum;
    }
    let state = answer
        .lines()
        .find_map(|l| l.strip_prefix("zk_server_state"))
        .map(str::trim);
    match state {
        Some("leader") => Seen::Leader,
        Some("follower") => Seen::Follower,
        Some("observer") => Seen::Observer,
        Some("standalone") => Seen::Standalone,
        other => panic!("server {sid}: mntr says zk_server_state {other:?}:\n{answer}"),
    }
}

/// Reads every server of `cluster` with the student's function and with `mntr`.
fn both_readings(cluster: &Cluster) -> (Vec<Seen>, Vec<Seen>) {
    let sids: Vec<u64> = cluster.sids().collect();
    let yours = sids
        .iter()
        .map(|&sid| read_srvr(cluster.srvr(sid).as_deref()))
        .collect();
    let mntr = sids.iter().map(|&sid| seen_by_mntr(cluster, sid)).collect();
    (yours, mntr)
}

#[test]
fn lab_8_2_every_role_of_a_running_cluster() {
    let cluster = Cluster::start(3);
    let leader = cluster.wait_for_leader(&[1, 2, 3]);
    let (yours, mntr) = both_readings(&cluster);
    assert_eq!(yours, mntr, "three servers, all up");
    cluster.ok(&["kill", &leader.to_string()]);
    let rest: Vec<u64> = cluster.sids().filter(|&s| s != leader).collect();
    cluster.wait_for_leader(&rest);
    let (yours, mntr) = both_readings(&cluster);
    assert_eq!(yours, mntr, "server {leader} killed, the others re-elected");
}

#[test]
fn lab_8_2_a_dead_server_and_one_without_a_quorum() {
    let cluster = Cluster::start(3);
    let first = cluster.wait_for_leader(&[1, 2, 3]);
    cluster.ok(&["kill", &first.to_string()]);
    let rest: Vec<u64> = cluster.sids().filter(|&s| s != first).collect();
    let second = cluster.wait_for_leader(&rest);
    cluster.ok(&["kill", &second.to_string()]);
    let survivor = rest.into_iter().find(|&s| s != second).expect("one left");
    wait_until(ELECTION_TIMEOUT, "the survivor to stop serving", || {
        (seen_by_mntr(&cluster, survivor) == Seen::NoQuorum).then_some(())
    })
    .unwrap_or_else(|why| panic!("{why}\n{}", cluster.logs()));
    let (yours, mntr) = both_readings(&cluster);
    assert_eq!(
        yours, mntr,
        "servers {first} and {second} killed, server {survivor} alone"
    );
}

#[test]
fn lab_8_2_a_standalone_server_and_an_observer() {
    let srvr = |mode: &str| {
        format!(
            "Zookeeper version: 3.8.4-9316c2a7a97e1666d8f4593f34dd6fc36ecc436c, built on \
             2024-02-12 22:16 UTC\nLatency min/avg/max: 0/0.0/0\nReceived: 1\nSent: 0\n\
             Connections: 1\nOutstanding: 0\nZxid: 0x100000002\nMode: {mode}\nNode count: 5\n"
        )
    };
    assert_eq!(read_srvr(Some(&srvr("standalone"))), Seen::Standalone);
    assert_eq!(read_srvr(Some(&srvr("observer"))), Seen::Observer);
    assert_eq!(read_srvr(Some(&format!("{NOT_SERVING}\n"))), Seen::NoQuorum);
    assert_eq!(read_srvr(None), Seen::NotRunning);
}

// ---- The reference for lab 8.2: what `keeper status` cannot tell apart ----

/// `keeper cluster status`'s stdout (what `zkServer.sh status` prints on each machine), with
/// the run's ports and process ids replaced by names, so it reads the same every run.
fn status(cluster: &Cluster) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_keeper"));
    command
        .args(["cluster", "status", "--dir"])
        .arg(cluster.root());
    let finished =
        run_for_stdout(command, Duration::from_secs(60)).expect("keeper cluster status ends");
    let mut text = finished.output;
    for sid in cluster.sids() {
        let port = &cluster.address(sid)[10..];
        text = text.replace(&format!("found: {port}."), "found: <its port>.");
    }
    text.lines()
        .map(|line| match line.find("(pid ") {
            Some(at) => {
                let end = line[at..].find(')').map_or(line.len(), |e| at + e + 1);
                format!("{}(running){}", &line[..at], &line[end..])
            }
            None => line.to_string(),
        })
        .map(|line| line + "\n")
        .collect()
}

/// zkServer.sh's status asks `srvr` and prints its `Mode:` line, or "Error contacting service"
/// when there is none: for a server that is down, and for one that runs without a quorum
/// alike (upstream `bin/zkServer.sh`, `status)`; Keeper's `keeper status` does the same). So a
/// cluster's status in three moments: all up; the leader killed and replaced; the new leader
/// killed too, with one server left running alone.
#[test]
fn reference_status_cannot_tell_a_dead_server_from_one_without_a_quorum() {
    let cluster = Cluster::start(3);
    let first = cluster.wait_for_leader(&[1, 2, 3]);
    let all_up = status(&cluster);
    cluster.ok(&["kill", &first.to_string()]);
    let rest: Vec<u64> = cluster.sids().filter(|&s| s != first).collect();
    let second = cluster.wait_for_leader(&rest);
    let one_dead = status(&cluster);
    cluster.ok(&["kill", &second.to_string()]);
    let survivor = rest.into_iter().find(|&s| s != second).expect("one left");
    wait_until(ELECTION_TIMEOUT, "the survivor to stop serving", || {
        (seen_by_mntr(&cluster, survivor) == Seen::NoQuorum).then_some(())
    })
    .unwrap_or_else(|why| panic!("{why}\n{}", cluster.logs()));
    let alone = status(&cluster);
    // Which sid leads depends on start-up timing, so the snapshots name each server by its
    // part in the story, in the story's order.
    let roles = |text: &str| {
        let blocks: Vec<(u64, &str)> = text
            .split("------------ server ")
            .filter(|b| !b.is_empty())
            .map(|b| (b[..1].parse().expect("a sid"), &b[1..]))
            .collect();
        let parts = [
            (first, "<the first leader>"),
            (second, "<the second leader>"),
            (survivor, "<the last survivor>"),
        ];
        let mut out = String::from("$ keeper cluster status\n");
        for (sid, role) in parts {
            let (_, rest) = blocks
                .iter()
                .find(|(s, _)| *s == sid)
                .expect("every server");
            out.push_str(&format!("------------ server {role}{rest}"));
        }
        out.trim_end().to_string()
    };
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!("status_all_up", roles(&all_up));
        insta::assert_snapshot!("status_leader_killed", roles(&one_dead));
        insta::assert_snapshot!("status_no_quorum", roles(&alone));
    });
}
