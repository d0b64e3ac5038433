//! Paxos is safe under every fault the simulator can throw, and live where it should be.
//!
//! Safety (Lamport, "Paxos Made Simple", §2.1): only a proposed value is chosen, only one value is
//! chosen, and a learner never learns a value that was not chosen. Checked after every step of
//! 10,000 runs with random clusters, latencies, losses, duplicates, reordering, crashes and
//! partitions (`scenarios::random`).

use ch04_paxos::paxos::{Paxos, Retry};
use ch04_paxos::scenarios::{self, cluster, simulate};
use ch04_paxos::sim::{check_seeds, Network, Scenario, Sim};

const SEEDS: u64 = 10_000;

// ANCHOR: safety
#[test]
fn no_two_learners_disagree_and_chosen_stays_chosen_over_10000_faulty_runs() {
    let build = |seed| {
        let (sim, _) = scenarios::random(seed);
        sim.tracing(false).replay_command(format!(
            "cargo run -p ch04-paxos -- --trace --scenario random --seed {seed}"
        ))
    };
    match check_seeds(0..SEEDS, 3_000, build) {
        Ok(passed) => assert_eq!(passed, SEEDS),
        Err(v) => panic!("{v}"),
    }
}
// ANCHOR_END: safety

#[test]
fn the_random_runs_really_exercise_faults_and_competition() {
    // A safety check is only as good as the runs it sees: most decide, many lose messages, and
    // in some a proposer's own value loses to another's.
    let (mut decided, mut lossy, mut duplicated, mut outvoted) = (0, 0, 0, 0);
    for seed in 0..1_000 {
        let (mut sim, deadline) = scenarios::random(seed);
        sim.run_until(deadline).unwrap();
        let learned = sim.nodes().find_map(|n| n.learned().cloned());
        decided += usize::from(learned.is_some());
        lossy += usize::from(sim.stats().dropped > 0);
        duplicated += usize::from(sim.stats().duplicated > 0);
        outvoted += usize::from(sim.nodes().any(|n| {
            n.config()
                .proposal
                .as_ref()
                .is_some_and(|p| learned.as_ref().is_some_and(|v| *v != p.value))
        }));
    }
    assert!(decided > 800, "{decided} of 1000 runs decided");
    assert!(lossy > 500 && duplicated > 300, "{lossy} lossy, {duplicated} with duplicates");
    assert!(outvoted > 100, "{outvoted} runs where some proposer's value lost");
}

fn everyone_learned(sim: &Sim<Paxos>) -> bool {
    sim.nodes().all(|n| n.learned().is_some())
}

#[test]
fn without_faults_every_learner_learns_even_with_competing_proposers() {
    // Liveness needs the duel broken: randomized back-off (drawn by the simulator's RNG).
    let retry = Retry::Random { min_ms: 20, max_ms: 80 };
    for seed in 0..500 {
        let nodes = cluster(
            &[(1, "a", 0, retry), (2, "b", 3, retry), (3, "c", 7, retry)],
            &[3, 4, 5],
            None,
        );
        let net = Network { latency_min_ms: 1, latency_max_ms: 12, ..Network::default() };
        let mut sim = simulate(seed, net, nodes).tracing(false);
        assert!(
            sim.run_until_condition(10_000, everyone_learned).unwrap(),
            "seed {seed} did not decide"
        );
    }
}

#[test]
fn a_distinguished_proposer_gets_a_value_chosen_despite_loss_and_a_minority_crash() {
    // One proposer cannot be preempted, so only lost messages delay it, and it retries.
    for seed in 0..500 {
        let nodes = cluster(&[(1, "a", 0, Retry::Fixed(50))], &[2, 3, 4, 5, 6], None);
        let net = Network {
            latency_min_ms: 1,
            latency_max_ms: 20,
            drop: 0.2,
            duplicate: 0.1,
            reorder: 0.2,
            ..Network::default()
        };
        let faults = Scenario::new().crash(15, 5);
        let mut sim = simulate(seed, net, nodes).tracing(false).with_scenario(faults);
        let decided = sim.run_until_condition(20_000, |s| s.node(1).learned().is_some()).unwrap();
        assert!(decided, "seed {seed}: the proposer never learned");
    }
}

#[test]
fn the_duel_with_fixed_timeouts_never_decides() {
    let mut setup = scenarios::build("duel", 1).unwrap();
    setup.sim.run_until(5_000).unwrap();
    assert!(setup.sim.nodes().all(|n| n.learned().is_none()), "the duel is a livelock");
    assert!(setup.sim.node(1).durable().round > 100, "both proposers keep raising their ballots");
}

#[test]
fn the_duel_with_randomized_backoff_decides_on_every_seed() {
    for seed in 0..1_000 {
        let mut setup = scenarios::build("duel-backoff", seed).unwrap();
        let sim = &mut setup.sim;
        assert!(sim.run_until_condition(10_000, everyone_learned).unwrap(), "seed {seed}");
    }
}

#[test]
fn with_a_majority_down_nothing_is_learned() {
    let mut setup = scenarios::build("majority-down", 1).unwrap();
    setup.sim.run_until(10_000).unwrap();
    assert!(setup.sim.nodes().all(|n| n.learned().is_none()));
}
