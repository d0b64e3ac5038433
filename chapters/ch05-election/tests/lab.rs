//! The graders of chapter 5's labs: `cargo run -- lab check 5.1` runs the
//! tests named `lab_5_1_*`, and so on. The repository ships the answers, so
//! here they pass; `cargo run -- lab start 5.1` gives you the lab without
//! them. Labs 5.2 to 5.5 are predictions: write yours in the function below
//! the question, and the test runs the elections and compares.

use ch04_paxos::sim::{Millis, NodeId, Scenario};
use ch05_election::lab::lab_order;
use ch05_election::peer::Config;
use ch05_election::render::transcript;
use ch05_election::sim::{run, setup, status_line, ScenarioName, Server, Setup};

/// The sid that ends up leading `setup` (seed 1), as the trace names it.
fn leader_of(setup: &Setup) -> Option<u64> {
    let run = run(setup, 1).expect("no invariant breaks");
    run.status
        .iter()
        .find(|(_, line)| line == "Mode: leader")
        .map(|(sid, _)| sid.to_string().parse().expect("a sid prints as a number"))
}

/// The first start of five, `gap_ms` apart, each server's config changed by
/// `tweak`.
fn first_start(gap_ms: Millis, tweak: impl Fn(&mut Config)) -> Setup {
    let mut setup = setup(ScenarioName::FirstStart, 5);
    setup.servers = (0..)
        .zip(&setup.servers)
        .map(|(i, s)| {
            let mut config = s.member().config().clone();
            tweak(&mut config.election);
            Server::new(s.peer().sid(), config, s.peer().durable()).starting_at(i * gap_ms)
        })
        .collect();
    setup
}

fn with_lab_order(config: &mut Config) {
    config.order = lab_order;
}

// ---- Lab 5.1: the lowest sid wins (src/lab.rs) ----

/// Before you change `lab_order`: with the lower sid winning ties, who leads
/// the first start?
fn predicted_leader() -> u64 {
    // LAB 5.1 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 5.1: your prediction, before you change lab_order")
    1
    // LAB 5.1 END
}

/// With the lowest sid winning ties, the first start elects the server that
/// everybody already agrees on when the third vote completes a quorum.
#[test]
fn lab_5_1_lowest_sid_first_start() {
    let mut setup = first_start(500, with_lab_order);
    setup.about = "the first start again, with the lab's vote order".into();
    let run = run(&setup, 1).expect("no invariant breaks");
    insta::with_settings!({ omit_expression => true, prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("lab_lowest_sid_first_start", transcript(&setup, 1, &run, false));
    });
}

#[test]
fn lab_5_1_your_prediction_is_what_your_order_elects() {
    let leader = leader_of(&first_start(500, with_lab_order));
    assert_eq!(Some(predicted_leader()), leader);
}

// ---- Lab 5.2: start them together ----

/// The first start with 50 ms between starts instead of 500: who leads?
fn leader_with_a_50ms_gap() -> u64 {
    // LAB 5.2 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 5.2: the leader when the five start 50 ms apart")
    5
    // LAB 5.2 END
}

/// The smallest gap (whole ms) from which on n3 wins (with any gap from it up
/// to 500 ms).
fn smallest_gap_n3_wins_ms() -> Millis {
    // LAB 5.2 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 5.2: the smallest gap from which on n3 leads")
    219
    // LAB 5.2 END
}

#[test]
fn lab_5_2_the_leader_when_they_start_50ms_apart() {
    let leader = leader_of(&first_start(50, |_| ()));
    assert_eq!(Some(leader_with_a_50ms_gap()), leader);
}

#[test]
fn lab_5_2_the_smallest_gap_at_which_n3_still_wins() {
    let smallest = smallest_gap_from_which_n3_wins(|_| ());
    assert_eq!(smallest_gap_n3_wins_ms(), smallest);
}

/// The smallest gap from which on (up to the scenario's 500 ms) n3 wins
/// every first start, with each config changed by `tweak`.
fn smallest_gap_from_which_n3_wins(tweak: fn(&mut Config)) -> Millis {
    (0..=500)
        .rev()
        .take_while(|&gap| leader_of(&first_start(gap, tweak)) == Some(3))
        .last()
        .expect("n3 wins the scenario itself")
}

// ---- Lab 5.3: no patience ----

fn impatient(config: &mut Config) {
    config.finalize_wait_ms = 0;
}

/// `finalizeWait` is 0 and the five start 100 ms apart: who leads? (And with
/// the usual 200 ms?)
fn leader_without_finalize_wait() -> u64 {
    // LAB 5.3 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 5.3: the leader without finalizeWait, 100 ms apart")
    3
    // LAB 5.3 END
}

/// Without `finalizeWait`, the smallest gap from which on n3 wins.
fn smallest_gap_without_finalize_wait_ms() -> Millis {
    // LAB 5.3 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 5.3: the smallest gap from which on n3 leads without finalizeWait")
    14
    // LAB 5.3 END
}

#[test]
fn lab_5_3_who_leads_without_finalize_wait() {
    let leader = leader_of(&first_start(100, impatient));
    assert_eq!(Some(leader_without_finalize_wait()), leader);
}

#[test]
fn lab_5_3_the_smallest_gap_without_finalize_wait() {
    let smallest = smallest_gap_from_which_n3_wins(impatient);
    assert_eq!(smallest_gap_without_finalize_wait_ms(), smallest);
}

// ---- Lab 5.4: a latecomer and a dead leader (checkLeader) ----

/// The leader-crash scenario (five servers started together; n5 leads), but
/// at 2.5 s n1 crashes with n5, and n1 restarts 100 ms later, while n2, n3
/// and n4 still follow the dead n5 (they notice after syncLimit: 10 s).
fn latecomer(at_ms: Millis) -> Vec<(NodeId, String)> {
    let mut setup = setup(ScenarioName::LeaderCrash, 5);
    setup.faults = Scenario::new()
        .crash(2_500, 5)
        .crash(2_500, 1)
        .restart(2_600, 1);
    let mut sim = setup.sim(1);
    sim.run_until(at_ms).unwrap_or_else(|v| panic!("{v}"));
    (1..=5)
        .map(|id| {
            let server = sim.node(id);
            let state = match sim.is_up(id) {
                true => server.peer().state().to_string(),
                false => "down".to_string(),
            };
            (id, state)
        })
        .collect()
}

/// At 5 s: what state is n1 in (`LOOKING`, `FOLLOWING`, `LEADING`)?
fn n1_at_5s() -> &'static str {
    // LAB 5.4 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 5.4: n1's state at 5 s")
    "LOOKING"
    // LAB 5.4 END
}

/// At 30 s: which server leads, and what state is n1 in?
fn at_30s() -> (NodeId, &'static str) {
    // LAB 5.4 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 5.4: (the leader at 30 s, n1's state then)")
    (4, "FOLLOWING")
    // LAB 5.4 END
}

#[test]
fn lab_5_4_a_quorum_of_followers_is_not_enough() {
    let states = latecomer(5_000);
    assert_eq!(n1_at_5s(), states[0].1, "n1 at 5 s; everybody: {states:?}");
}

#[test]
fn lab_5_4_after_the_followers_give_up_on_the_dead_leader() {
    let states = latecomer(30_000);
    let leader = states
        .iter()
        .find(|(_, s)| s == "LEADING")
        .map(|(id, _)| *id);
    let (answer_leader, answer_n1) = at_30s();
    assert_eq!(
        Some(answer_leader),
        leader,
        "the leader; everybody: {states:?}"
    );
    assert_eq!(answer_n1, states[0].1, "n1");
}

// ---- Lab 5.5: cutting servers off ----

/// `n` servers started together; at 2.5 s the last `cut` of them (the leader
/// among them) are cut off, each on its own. Does anybody lead at 40 s?
fn someone_leads_after_a_cut(n: u64, cut: u64) -> bool {
    let mut setup = setup(ScenarioName::Partition, n);
    let mut groups: Vec<Vec<NodeId>> = vec![(1..=n - cut).collect()];
    groups.extend((n - cut + 1..=n).map(|id| vec![id]));
    setup.faults = Scenario::new().partition(2_500, groups);
    let mut sim = setup.sim(1);
    sim.run_until(40_000).unwrap_or_else(|v| panic!("{v}"));
    (1..=n).any(|id| sim.is_up(id) && status_line(sim.node(id), true) == "Mode: leader")
}

/// Four servers; the last two are cut off, each on its own. Does anybody
/// lead at 40 s?
fn four_with_two_cut_off() -> bool {
    // LAB 5.5 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 5.5: does anybody lead when two of four are cut off?")
    false
    // LAB 5.5 END
}

/// How many servers can you cut off from five, and from four, and still have
/// a leader? `[from five, from four]`.
fn most_you_can_cut_off() -> [u64; 2] {
    // LAB 5.5 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 5.5: [the most you can cut off from five, from four]")
    [2, 1]
    // LAB 5.5 END
}

#[test]
fn lab_5_5_four_servers_two_cut_off() {
    assert_eq!(four_with_two_cut_off(), someone_leads_after_a_cut(4, 2));
}

#[test]
fn lab_5_5_the_most_you_can_cut_off() {
    let most = [5, 4].map(|n| {
        (0..n)
            .take_while(|&cut| someone_leads_after_a_cut(n, cut))
            .last()
    });
    assert_eq!(
        most_you_can_cut_off().map(Some),
        most,
        "[from five, from four]"
    );
}
