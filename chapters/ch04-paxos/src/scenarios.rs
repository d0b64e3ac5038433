//! The chapter's scenarios, each a `--scenario` of `cargo run -p ch04-paxos -- --trace`.
//!
//! Every scenario is a cluster (who proposes what, who accepts), a network, a list of faults,
//! and a deadline. All of them run with the safety invariants on, so even the trace a reader
//! runs is checked.

use crate::paxos::invariants::{agreement, check_safety, validity};
use crate::paxos::{Config, Flaw, Msg, Paxos, Proposal, Retry, Timer, Value};
use crate::sim::{Millis, Network, NodeId, Rng, Scenario, Sim};

/// The scenario names `--scenario` accepts, with what each shows.
pub const SCENARIOS: &[(&str, &str)] = &[
    ("basic", "one proposer, three acceptors, a perfect network: the two phases"),
    ("competing", "a second proposer finds a value already accepted and must adopt it"),
    ("acceptor-crash", "one acceptor of three is down: a majority still decides"),
    ("majority-down", "two acceptors of three are down: no decision, and no wrong one"),
    ("duel", "two proposers with the same fixed retry timeout preempt each other forever"),
    ("duel-backoff", "the same duel with randomized back-off: one proposer gets through"),
    ("lossy", "two proposers, three acceptors, messages lost, duplicated and reordered"),
    ("random", "random cluster and faults drawn from the seed (what the safety test runs)"),
    ("forgetful", "the lab: random faults, and acceptors whose Promise hides what they accepted"),
    ("checked", "the model checker's cluster, two proposers and three acceptors (--flaw NAME)"),
];

/// A scenario ready to run.
pub struct Setup {
    pub name: String,
    pub sim: Sim<Paxos>,
    /// Run until this virtual time (or until nothing is pending).
    pub deadline: Millis,
}

/// Build scenario `name` with `seed`.
pub fn build(name: &str, seed: u64) -> Result<Setup, String> {
    let (sim, deadline) = match name {
        "basic" => basic(seed),
        "competing" => competing(seed),
        "acceptor-crash" => acceptor_crash(seed),
        "majority-down" => majority_down(seed),
        // ANCHOR: duels
        "duel" => duel(seed, Retry::Fixed(30)),
        "duel-backoff" => duel(seed, Retry::Random { min_ms: 20, max_ms: 80 }),
        // ANCHOR_END: duels
        "lossy" => lossy(seed),
        "random" => random(seed),
        "forgetful" => forgetful(seed),
        "checked" => (checked(seed, None, 3), 1_000),
        _ => {
            let names: Vec<&str> = SCENARIOS.iter().map(|(n, _)| *n).collect();
            return Err(format!("unknown scenario `{name}`; choose one of: {}", names.join(", ")));
        }
    };
    let sim = sim.replay_command(format!(
        "cargo run -p ch04-paxos -- --trace --scenario {name} --seed {seed}"
    ));
    Ok(Setup { name: name.to_string(), sim, deadline })
}

/// A proposer: node id, value, when it starts, how it retries.
pub type ProposerSpec = (NodeId, &'static str, Millis, Retry);

/// Nodes for `proposers` and `acceptors` (a node may be both); every node is a learner.
pub fn cluster(proposers: &[ProposerSpec], acceptors: &[NodeId], flaw: Option<Flaw>) -> Vec<Paxos> {
    let mut ids: Vec<NodeId> =
        proposers.iter().map(|p| p.0).chain(acceptors.iter().copied()).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.iter()
        .map(|id| {
            let proposal = proposers.iter().find(|p| p.0 == *id).map(|(_, v, start_ms, retry)| {
                Proposal { value: Value::new(*v), start_ms: *start_ms, retry: *retry }
            });
            let config =
                Config { acceptors: acceptors.to_vec(), learners: ids.clone(), proposal, flaw };
            Paxos::new(*id, config)
        })
        .collect()
}

/// A traced, safety-checked simulation of `nodes`.
pub fn simulate(seed: u64, net: Network, nodes: Vec<Paxos>) -> Sim<Paxos> {
    check_safety(Sim::new(seed, net, nodes, Paxos::after_crash))
}

const PATIENT: Retry = Retry::Fixed(100);

fn basic(seed: u64) -> (Sim<Paxos>, Millis) {
    let nodes = cluster(&[(1, "a", 0, PATIENT)], &[2, 3, 4], None);
    (simulate(seed, Network::default(), nodes), 1_000)
}

fn competing(seed: u64) -> (Sim<Paxos>, Millis) {
    // n1's Accepts are in flight when a partition cuts n1 and n3 off: only n3 accepts "a", so
    // nothing is chosen yet. After the heal, n2 runs a round of its own. n3's Promise reports
    // "a", and n2 must propose "a", not its own "b": it cannot know "a" was not chosen.
    let nodes = cluster(&[(1, "a", 0, PATIENT), (2, "b", 50, PATIENT)], &[3, 4, 5], None);
    let faults = Scenario::new().partition(25, vec![vec![1, 3], vec![2, 4, 5]]).heal(45);
    (simulate(seed, Network::default(), nodes).with_scenario(faults), 1_000)
}

fn acceptor_crash(seed: u64) -> (Sim<Paxos>, Millis) {
    let nodes = cluster(&[(1, "a", 0, PATIENT)], &[2, 3, 4], None);
    let faults = Scenario::new().crash(5, 4).restart(80, 4);
    (simulate(seed, Network::default(), nodes).with_scenario(faults), 1_000)
}

fn majority_down(seed: u64) -> (Sim<Paxos>, Millis) {
    let nodes = cluster(&[(1, "a", 0, Retry::Fixed(60))], &[2, 3, 4], None);
    let faults = Scenario::new().crash(5, 3).crash(5, 4);
    (simulate(seed, Network::default(), nodes).with_scenario(faults), 200)
}

// ANCHOR: duel
fn duel(seed: u64, retry: Retry) -> (Sim<Paxos>, Millis) {
    // n2 starts 15ms after n1. With a fixed 30ms retry, each Prepare lands between the other's
    // Prepare and its Accept: every Accept meets a higher promise.
    let nodes = cluster(&[(1, "a", 0, retry), (2, "b", 15, retry)], &[3, 4, 5], None);
    (simulate(seed, Network::default(), nodes), 95)
}
// ANCHOR_END: duel

fn lossy(seed: u64) -> (Sim<Paxos>, Millis) {
    let retry = Retry::Random { min_ms: 40, max_ms: 120 };
    let nodes = cluster(&[(1, "a", 0, retry), (2, "b", 10, retry)], &[3, 4, 5], None);
    let net = Network {
        latency_min_ms: 5,
        latency_max_ms: 15,
        drop: 0.15,
        duplicate: 0.1,
        reorder: 0.2,
        reorder_delay_ms: 30,
        fifo: false,
    };
    (simulate(seed, net, nodes), 2_000)
}

const VALUES: [&str; 4] = ["v1", "v2", "v3", "v4"];

/// A random run (see [`random_parts`]) with every safety invariant checked.
pub fn random(seed: u64) -> (Sim<Paxos>, Millis) {
    let (nodes, net, faults, deadline) = random_parts(seed, None);
    (simulate(seed, net, nodes).with_scenario(faults), deadline)
}

/// The lab's run: a random run whose acceptors have [`Flaw::PromiseHidesAccepted`], checked only
/// for agreement between learners, so the run goes on until the damage reaches them.
pub fn forgetful(seed: u64) -> (Sim<Paxos>, Millis) {
    let (nodes, net, faults, deadline) = random_parts(seed, Some(Flaw::PromiseHidesAccepted));
    let sim = Sim::new(seed, net, nodes, Paxos::after_crash).invariant("agreement", agreement);
    (sim.with_scenario(faults), deadline)
}

/// The cluster [`crate::model_check`] checks, in the simulator: a perfect network, no faults
/// (a counterexample's scenario file brings the choices), and the invariants the checker checks.
pub fn checked(seed: u64, flaw: Option<Flaw>, acceptors: u64) -> Sim<Paxos> {
    let nodes = crate::model_check::cluster(flaw, acceptors);
    Sim::new(seed, Network::default(), nodes, Paxos::after_crash)
        .invariant("agreement", agreement)
        .invariant("validity", validity)
}

/// A cluster, network and faults drawn from `seed`: 3 or 5 acceptors, 1 to 3 proposers (some
/// also acceptors), lossy links, crashes and restarts, partitions and heals; and a deadline.
pub fn random_parts(
    seed: u64,
    flaw: Option<Flaw>,
) -> (Vec<Paxos>, Network, Scenario<Msg, Timer>, Millis) {
    // The scenario's shape comes from its own stream, so it does not shift the run's draws.
    let mut r = Rng::new(seed ^ 0x5EED_F00D);
    let n_acc = if r.chance(0.5) { 3 } else { 5 };
    let acceptors: Vec<NodeId> = (1..=n_acc).collect();
    let n_prop = r.between(1, 3) as usize;
    let mut proposers: Vec<ProposerSpec> = Vec::new();
    while proposers.len() < n_prop {
        let id = r.between(1, n_acc + 1);
        if proposers.iter().all(|p| p.0 != id) {
            let retry = if r.chance(0.7) {
                let lo = r.between(20, 60);
                Retry::Random { min_ms: lo, max_ms: lo + r.between(10, 80) }
            } else {
                Retry::Fixed(r.between(20, 100))
            };
            proposers.push((id, VALUES[proposers.len()], r.between(0, 60), retry));
        }
    }
    let lo = r.between(1, 10);
    let net = Network {
        latency_min_ms: lo,
        latency_max_ms: lo + r.between(0, 20),
        drop: r.between(0, 30) as f64 / 100.0,
        duplicate: r.between(0, 20) as f64 / 100.0,
        reorder: r.between(0, 30) as f64 / 100.0,
        reorder_delay_ms: 40,
        // Paxos needs no ordering from the network: let everything overtake everything.
        fifo: false,
    };
    let nodes = cluster(&proposers, &acceptors, flaw);
    let all: Vec<NodeId> = nodes.iter().map(crate::sim::Process::id).collect();
    let mut faults = Scenario::new();
    for _ in 0..r.between(0, 4) {
        let at = r.between(0, 400);
        let back = at + r.between(10, 300);
        if r.chance(0.5) {
            let node = all[r.between(0, all.len() as u64 - 1) as usize];
            faults = faults.crash(at, node).restart(back, node);
        } else {
            let side: Vec<NodeId> = all.iter().copied().filter(|_| r.chance(0.5)).collect();
            faults = faults.partition(at, vec![side]).heal(back);
        }
    }
    (nodes, net, faults, 3_000)
}
