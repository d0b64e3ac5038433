//! The graders of chapter 4's labs 4.2 to 4.6 (lab 4.1's are in `scenarios.rs`):
//! `cargo run -- lab check 4.2` runs the tests named `lab_4_2_*`, and so on. Each lab is a
//! prediction: write it in the function below the question, and the test runs the
//! simulation and compares. The repository ships the answers; `cargo run -- lab start 4.2`
//! gives you the questions without them. Lab 4.6 is code instead: an accept rule of your own
//! (`your_accept_rule` in `src/labs/mod.rs`), which the model checker must catch.

use ch04_paxos::model_check;
use ch04_paxos::paxos::invariants::check_safety;
use ch04_paxos::paxos::{Ballot, Config, Durable, Flaw, Msg, Paxos, Retry, Value};
use ch04_paxos::scenarios::{cluster, random_parts, simulate};
use ch04_paxos::sim::{check_seeds, Input, Network, NodeId, Output, Process, Scenario, Sim};

// ---- Lab 4.2: feel the majority ----

/// The `acceptor-crash` scenario: n1 proposes "a" (retrying every 100 ms) to acceptors n2, n3
/// and n4, on a perfect network with 10 ms per message.
fn majority_run(faults: Scenario<Msg, ch04_paxos::paxos::Timer>) -> Sim<Paxos> {
    let nodes = cluster(&[(1, "a", 0, Retry::Fixed(100))], &[2, 3, 4], None);
    let mut sim = simulate(1, Network::default(), nodes).with_scenario(faults);
    sim.run_until(1_000).unwrap_or_else(|v| panic!("{v}"));
    sim
}

fn learned(sim: &Sim<Paxos>) -> Option<String> {
    sim.node(1).learned().map(|v| v.0.clone())
}

/// Part 1. n3 and n4 crash at 5 ms and never come back. Which value has n1 learned at 1 s
/// (`None` if none)?
fn learned_with_two_down() -> Option<&'static str> {
    // LAB 4.2 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 4.2 part 1: what n1 has learned with n3 and n4 down")
    None
    // LAB 4.2 END
}

/// Part 2. In that run, how many rounds (Prepare ballots) has n1 started by 1 s?
fn rounds_with_two_down() -> u64 {
    // LAB 4.2 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 4.2 part 2: how many rounds n1 has started by 1 s")
    11
    // LAB 4.2 END
}

/// Part 3. The same crashes, but n4 restarts at 80 ms. What has n1 learned at 1 s?
fn learned_after_a_restart() -> Option<&'static str> {
    // LAB 4.2 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 4.2 part 3: what n1 has learned when n4 comes back")
    Some("a")
    // LAB 4.2 END
}

#[test]
fn lab_4_2_two_of_three_acceptors_down() {
    let sim = majority_run(Scenario::new().crash(5, 3).crash(5, 4));
    assert_eq!(learned_with_two_down().map(str::to_string), learned(&sim), "learned");
    assert_eq!(rounds_with_two_down(), sim.node(1).durable().round, "rounds");
}

#[test]
fn lab_4_2_one_comes_back() {
    let sim = majority_run(Scenario::new().crash(5, 3).crash(5, 4).restart(80, 4));
    assert_eq!(learned_after_a_restart().map(str::to_string), learned(&sim));
}

// ---- Lab 4.3: how much jitter is enough? ----

/// `duel-backoff`: n1 and n2 (15 ms later) duel for acceptors n3, n4, n5; after a failed round
/// each waits a random time in `min_ms..=max_ms` (20..=80 in the scenario) before it retries.
/// Keep `min_ms` at 20: what is the smallest `max_ms` with which the duel decides on every one
/// of the first 1000 seeds within 10 s?
fn narrowest_max_ms() -> u64 {
    // LAB 4.3 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 4.3: the smallest max_ms that decides on all 1000 seeds")
    22
    // LAB 4.3 END
}

/// The first seed below 1000 on which the duel with back-off `20..=max_ms` does not decide.
fn first_undecided_seed(max_ms: u64) -> Option<u64> {
    let retry = Retry::Random { min_ms: 20, max_ms };
    (0..1_000).find(|&seed| {
        let nodes = cluster(&[(1, "a", 0, retry), (2, "b", 15, retry)], &[3, 4, 5], None);
        let mut sim = simulate(seed, Network::default(), nodes).tracing(false);
        let decided = sim
            .run_until_condition(10_000, |sim| sim.nodes().all(|n| n.learned().is_some()))
            .unwrap_or_else(|v| panic!("{v}"));
        !decided
    })
}

#[test]
fn lab_4_3_the_narrowest_back_off_that_always_decides() {
    let max_ms = narrowest_max_ms();
    assert!(max_ms >= 20, "max_ms below min_ms");
    if let Some(seed) = first_undecided_seed(max_ms) {
        panic!("with 20..={max_ms} the duel does not decide on seed {seed}: too narrow");
    }
    assert!(
        max_ms == 20 || first_undecided_seed(max_ms - 1).is_some(),
        "20..={} decides on every seed too: narrower still",
        max_ms - 1
    );
}

// ---- Lab 4.4: ballots are unique and totally ordered ----

/// An acceptor (n3) has promised ballot 3.2. For a Prepare of each of these ballots, does it
/// promise (`true`) or refuse (`false`)?
const PREPARES: [(u64, NodeId); 5] = [(2, 9), (3, 1), (3, 2), (3, 3), (4, 1)];

fn promises() -> [bool; 5] {
    // LAB 4.4 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 4.4: does n3 promise 2.9, 3.1, 3.2, 3.3, 4.1?")
    [false, false, true, true, true]
    // LAB 4.4 END
}

/// Then, still at promise 3.2, does it accept `Accept 3.1 "x"`, and `Accept 3.3 "y"`?
fn accepts() -> [bool; 2] {
    // LAB 4.4 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 4.4: does n3 accept 3.1, then 3.3?")
    [false, true]
    // LAB 4.4 END
}

/// Acceptor n3 of `{n3}`, after a Prepare of ballot 3.2 from n2.
fn promised_3_2() -> Paxos {
    let config = Config { acceptors: vec![3], learners: vec![3], proposal: None, flaw: None };
    let mut n3 = Paxos::new(3, config);
    n3.step(Input::Receive { from: 2, msg: Msg::Prepare { ballot: Ballot::new(3, 2) } });
    n3
}

/// Whether `node` answers `msg` from `from` with anything but a Nack.
fn agrees(node: &mut Paxos, from: NodeId, msg: Msg) -> bool {
    let out = node.step(Input::Receive { from, msg });
    !out.iter().any(|o| matches!(o, Output::Send { msg: Msg::Nack { .. }, .. }))
}

#[test]
fn lab_4_4_which_prepares_an_acceptor_promises() {
    let answers = PREPARES.map(|(round, node)| {
        let mut n3 = promised_3_2();
        agrees(&mut n3, node, Msg::Prepare { ballot: Ballot::new(round, node) })
    });
    assert_eq!(promises(), answers, "Prepare 2.9, 3.1, 3.2, 3.3, 4.1");
}

#[test]
fn lab_4_4_which_accepts_an_acceptor_takes() {
    let mut n3 = promised_3_2();
    let low = Msg::Accept { ballot: Ballot::new(3, 1), value: Value::new("x") };
    let high = Msg::Accept { ballot: Ballot::new(3, 3), value: Value::new("y") };
    let answers = [agrees(&mut n3, 1, low), agrees(&mut n3, 3, high)];
    assert_eq!(accepts(), answers, "Accept 3.1, then Accept 3.3");
}

// ---- Lab 4.5: durable or not ----

/// The random runs of the safety test, but a restarted node keeps only what `keep` leaves of
/// its durable state. The first seed below `seeds` whose run breaks a safety invariant.
fn first_unsafe_seed(seeds: u64, keep: fn(&Durable) -> Durable) -> Option<u64> {
    let build = |seed| {
        let (nodes, net, faults, _) = random_parts(seed, None);
        let recover = move |node: &Paxos| {
            Paxos::recover(node.id(), node.config().clone(), keep(node.durable()))
        };
        check_safety(Sim::new(seed, net, nodes, recover).with_scenario(faults)).tracing(false)
    };
    check_seeds(0..seeds, 3_000, build).err().map(|v| v.seed)
}

const DURABLE_SEEDS: u64 = 3_000;

/// Part 1. A restarted proposer forgets its highest round (`round` back to 0) but keeps the
/// rest. Does the safety test still pass on the first 3000 random runs?
fn safe_without_the_round() -> bool {
    // LAB 4.5 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 4.5 part 1: safe when a proposer forgets its round?")
    true
    // LAB 4.5 END
}

/// Part 2. A restarted acceptor forgets what it accepted (`accepted` back to `None`) but keeps
/// its promise. Safe on the first 3000 random runs?
fn safe_without_the_accepted_value() -> bool {
    // LAB 4.5 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 4.5 part 2: safe when an acceptor forgets what it accepted?")
    false
    // LAB 4.5 END
}

#[test]
fn lab_4_5_a_proposer_that_forgets_its_round() {
    let unsafe_seed = first_unsafe_seed(DURABLE_SEEDS, |d| Durable { round: 0, ..d.clone() });
    assert_eq!(
        safe_without_the_round(),
        unsafe_seed.is_none(),
        "first unsafe seed: {unsafe_seed:?}"
    );
}

#[test]
fn lab_4_5_an_acceptor_that_forgets_what_it_accepted() {
    let unsafe_seed = first_unsafe_seed(DURABLE_SEEDS, |d| Durable { accepted: None, ..d.clone() });
    assert_eq!(
        safe_without_the_accepted_value(),
        unsafe_seed.is_none(),
        "first unsafe seed: {unsafe_seed:?}"
    );
}

// ---- Lab 4.6: break it yourself, and let the checker catch you ----

/// One acceptor, one round per proposer: small enough to search every order in a moment.
const SMALL: model_check::Bounds =
    model_check::Bounds { acceptors: 1, rounds: 1, duplicating: false };

/// Every order of events of the small cluster, with your rule in the acceptor.
fn check_your_rule() -> model_check::Outcome {
    model_check::run(Some(Flaw::YourAcceptRule), SMALL, None, "counterexample.txt", None)
        .expect("a counterexample replays in the simulator")
}

/// The checker finds an order of events in which your acceptor breaks agreement or validity
/// (Lamport, "Paxos Made Simple", §2.2: an acceptor that promised ballot n accepts nothing
/// numbered below n).
#[test]
fn lab_4_6_the_checker_finds_your_bug() {
    let outcome = check_your_rule();
    let Some((property, _)) = &outcome.report.counterexample else {
        panic!("no order of events breaks a property: your rule is still safe\n{outcome}")
    };
    assert!(["agreement", "validity"].contains(property), "{outcome}");
}

/// The counterexample is a scenario file the simulator replays, and the replay breaks the same
/// invariant: the bug is in the code, not in the checker.
#[test]
fn lab_4_6_the_counterexample_replays_in_the_simulator() {
    let outcome = check_your_rule();
    let (script, trace) = outcome.counterexample.as_ref().expect("the checker finds your bug");
    let (property, _) = outcome.report.counterexample.as_ref().unwrap();
    let steps = Scenario::<Msg, ch04_paxos::paxos::Timer>::parse(script).expect("a scenario");
    assert!(!steps.steps().is_empty(), "{script}");
    assert!(trace.contains(&format!("VIOLATION of {property}")), "{trace}");
}
