//! The election's guarantees, checked over thousands of random runs.
//!
//! Each seed draws an ensemble (3 or 5 voters, sometimes an observer),
//! random disks, and random faults for the first 20 s: lost, duplicated and
//! reordered messages, crashes and restarts, partitions. Then the network
//! heals and every server is restarted. We check:
//!
//! 1. after every step, at most one server leads with a quorum behind it
//!    (the simulator's invariant hook);
//! 2. after the heal, the election ends: every server decides, and every
//!    decided server follows a leader that decided too, in the same round;
//! 3. without faults, the election ends and the leader holds the highest
//!    (epoch, zxid) among a quorum.

use ch01_znode::{Epoch, Sid, Zxid};
use ch04_paxos::sim::{NodeId, Process, Rng, Scenario, Sim};
use ch05_election::peer::Durable;
use ch05_election::quorum::{QuorumMaj, QuorumVerifier};
use ch05_election::sim::{network, one_leader_at_a_time, Server, SimTimer};
use ch05_election::standin::{Config, Message};
use ch05_election::vote::ServerState;
use std::collections::BTreeSet;
use std::sync::Arc;

const FAULTY_MS: u64 = 20_000;

/// A random ensemble: voters 1..=n, maybe one observer, random disks.
fn ensemble(rng: &mut Rng) -> (Vec<Server>, Arc<dyn QuorumVerifier>) {
    let n = if rng.chance(0.5) { 3 } else { 5 };
    let observers: Vec<Sid> = if rng.chance(0.3) {
        vec![Sid(n + 1)]
    } else {
        vec![]
    };
    let qv: Arc<dyn QuorumVerifier> = Arc::new(QuorumMaj::new((1..=n).map(Sid), observers));
    let config = Config::new(Arc::clone(&qv));
    let servers = qv
        .all_members()
        .into_iter()
        .map(|sid| {
            let epoch = Epoch(rng.between(0, 2) as i64);
            let disk = Durable {
                current_epoch: epoch,
                last_logged_zxid: Zxid::new(epoch, rng.between(0, 3) as u32),
            };
            Server::new(sid, config.clone(), disk).starting_at(rng.between(0, 400))
        })
        .collect();
    (servers, qv)
}

/// Random faults during the first 20 s, then a clean, healed network with
/// every server running.
fn faults(rng: &mut Rng, ids: &[NodeId]) -> Scenario<Message, SimTimer> {
    let mut s = Scenario::new()
        .latency(0, 1, rng.between(5, 60))
        .drop_rate(0, rng.between(0, 30) as f64 / 100.0)
        .duplicate_rate(0, 0.05)
        .reorder_rate(0, 0.1);
    for _ in 0..rng.between(0, 4) {
        let at = rng.between(0, FAULTY_MS);
        let node = ids[rng.between(0, ids.len() as u64 - 1) as usize];
        s = s.crash(at, node).restart(at + rng.between(1, 8_000), node);
    }
    for _ in 0..rng.between(0, 2) {
        let at = rng.between(0, FAULTY_MS);
        let cut: Vec<NodeId> = ids.iter().copied().filter(|_| rng.chance(0.4)).collect();
        s = s
            .partition(at, vec![cut])
            .heal(at + rng.between(100, 10_000));
    }
    s = s
        .heal(FAULTY_MS)
        .drop_rate(FAULTY_MS, 0.0)
        .duplicate_rate(FAULTY_MS, 0.0)
        .reorder_rate(FAULTY_MS, 0.0)
        .latency(FAULTY_MS, 1, 20);
    for &id in ids {
        s = s.restart(FAULTY_MS, id);
    }
    s
}

/// Every server decided, exactly one leads, and everyone follows it in the
/// same round.
fn converged(sim: &Sim<Server>) -> Result<(), String> {
    let mut decided = BTreeSet::new();
    for s in sim.nodes() {
        match s.peer().decided() {
            Some(d) if sim.is_up(s.id()) => {
                decided.insert((d.0.leader, d.1));
            }
            _ => return Err(format!("n{} has not decided", s.id())),
        }
    }
    let [(leader, round)] = decided.into_iter().collect::<Vec<_>>()[..] else {
        return Err("servers decided differently".into());
    };
    match sim.node(leader.0).peer() {
        p if p.state() == ServerState::Leading && p.decided().map(|d| d.1) == Some(round) => Ok(()),
        _ => Err(format!(
            "n{leader} is followed but does not lead round {round}"
        )),
    }
}

/// Safety under faults, and termination once they stop.
#[test]
fn ten_thousand_faulty_runs_elect_one_leader_and_converge() {
    for seed in 0..10_000u64 {
        let mut rng = Rng::new(seed ^ 0x5eed);
        let (servers, _) = ensemble(&mut rng);
        let ids: Vec<NodeId> = servers.iter().map(|s| s.id()).collect();
        let mut sim = Sim::new(seed, network(), servers, Server::recover)
            .tracing(false)
            .with_scenario(faults(&mut rng, &ids))
            .invariant("one leader at a time", one_leader_at_a_time());
        let done = sim.run_until_condition(FAULTY_MS + 240_000, |sim| {
            sim.now() > FAULTY_MS && converged(sim).is_ok()
        });
        match done {
            Ok(true) => {}
            Ok(false) => panic!(
                "seed {seed}: no convergence after the heal: {}",
                converged(&sim).unwrap_err()
            ),
            Err(v) => panic!("seed {seed}: {v}"),
        }
    }
}

/// Without faults the election ends, and the leader's (epoch, zxid) is the
/// highest among some quorum: it holds every transaction a quorum could
/// have committed. (election.md §9, "Winner")
#[test]
fn without_faults_the_leader_is_up_to_date_with_a_quorum() {
    for seed in 0..2_000u64 {
        let mut rng = Rng::new(seed);
        let (servers, qv) = ensemble(&mut rng);
        let disks: Vec<(Sid, Durable)> = servers
            .iter()
            .map(|s| (s.peer().sid(), s.peer().durable()))
            .collect();
        let mut sim = Sim::new(seed, network(), servers, Server::recover)
            .tracing(false)
            .invariant("one leader at a time", one_leader_at_a_time());
        let done = sim.run_until_condition(60_000, |sim| converged(sim).is_ok());
        assert_eq!(done, Ok(true), "seed {seed}: the election ends");
        let leader = sim
            .nodes()
            .find(|s| s.peer().state() == ServerState::Leading)
            .expect("a leader");
        let best = leader.peer().durable();
        let key = |d: &Durable| (d.current_epoch, d.last_logged_zxid);
        let behind: BTreeSet<Sid> = disks
            .iter()
            .filter(|(_, d)| key(d) <= key(&best))
            .map(|(sid, _)| *sid)
            .collect();
        assert!(
            qv.contains_quorum(&behind),
            "seed {seed}: leader n{} ({:?}) is not the most up to date of any quorum",
            leader.peer().sid(),
            key(&best)
        );
    }
}
