//! The course's cluster-size arithmetic, run for real: how many of 3, 4 and 5 servers may die
//! while the rest still serve writes.
//!
//! Each test starts a `keeper cluster` of its size on loopback with free ports, kills the
//! leader again and again (see `common::leader_kills`), and records after each death whether
//! the survivors elected a leader and served a write. What it waits for comes from the
//! ensemble's own quorum rule (chapter 5's `QuorumMaj`: more than half of the voters); what
//! the processes did is written to a snapshot that chapter 8 of the book shows. These are also
//! the reference for lab 8.1, whose student answer is checked against the same real cluster in
//! `tests/ensemble_lab.rs`.

use crate::common;

use ch01_znode::Sid;
use ch05_election::quorum::{QuorumMaj, QuorumVerifier};
use common::cluster::Cluster;
use common::leader_kills::{kill_leaders, Step};
use std::collections::BTreeSet;

/// Whether `servers - dead` of the voters `1..=servers` are a quorum.
fn quorum_survives(servers: u64, dead: u64) -> bool {
    let rule = QuorumMaj::new((1..=servers).map(Sid), []);
    let survivors: BTreeSet<Sid> = (dead + 1..=servers).map(Sid).collect();
    rule.contains_quorum(&survivors)
}

/// The table the book shows for one cluster size.
fn table(servers: u64, steps: &[Step]) -> String {
    let quorum = QuorumMaj::new((1..=servers).map(Sid), []).quorum_size();
    let mut out = format!(
        "{servers} servers: a write needs {quorum} of them (more than half of {servers})\n\
         dead  alive  writes\n"
    );
    for step in steps {
        let writes = if step.served { "served" } else { "refused" };
        out.push_str(&format!("{:>4}  {:>5}  {writes}\n", step.dead, step.alive));
    }
    let survived = steps.iter().filter(|s| s.served).count() - 1;
    out.push_str(&format!(
        "{servers} servers keep serving writes with up to {survived} of them dead"
    ));
    out
}

fn run_for_real(servers: u64, name: &str) {
    let cluster = Cluster::start(servers);
    let steps = kill_leaders(&cluster, |dead| quorum_survives(servers, dead))
        .unwrap_or_else(|why| panic!("{servers} servers: {why}\n{}", cluster.logs()));
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!(name, table(servers, &steps));
    });
}

#[test]
fn three_servers_survive_one_death() {
    run_for_real(3, "three_servers");
}

#[test]
fn four_servers_survive_one_death_too() {
    run_for_real(4, "four_servers");
}

#[test]
fn five_servers_survive_two_deaths() {
    run_for_real(5, "five_servers");
}
