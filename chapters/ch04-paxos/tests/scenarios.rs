//! Every scenario's trace is pinned by a snapshot, and its diagram in the book is re-rendered
//! from the same run and compared, so the book can only show what the code does.
//!
//! To accept changed diagrams: `KEEPER_BLESS=1 cargo test -p ch04-paxos --test all scenarios::`
//! (and `INSTA_UPDATE=always` for the snapshots), then read them.

use std::ops::Range;
use std::path::PathBuf;

use ch04_paxos::byzantine::{self, General, Order};
use ch04_paxos::labs;
use ch04_paxos::multi;
use ch04_paxos::paxos::Msg;
use ch04_paxos::scenarios;
use ch04_paxos::sim::{render, svg, Event, Millis, NodeId, Process, Sim};

fn diagram_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../../book/src/diagrams/ch04-{name}.svg"))
}

/// Check (or with KEEPER_BLESS=1, write) the committed diagram against a fresh rendering.
fn check_diagram(name: &str, fresh: &str) {
    let path = diagram_path(name);
    if std::env::var_os("KEEPER_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("{}: {e}; run with KEEPER_BLESS=1 to create it", path.display())
    });
    assert!(
        committed == fresh,
        "{} is not the run the snapshot shows; rerun with KEEPER_BLESS=1 and review it",
        path.display()
    );
}

/// Run scenario `name` with seed 1 (what `cargo run -p ch04-paxos -- --trace --scenario NAME`
/// shows), snapshot its trace and check its diagram.
fn scenario(name: &str) -> Sim<impl Process> {
    let setup = scenarios::build(name, 1).unwrap();
    pin(name, setup.sim, setup.deadline)
}

fn pin<P: Process>(name: &str, mut sim: Sim<P>, deadline: Millis) -> Sim<P> {
    sim.run_until(deadline).unwrap_or_else(|v| panic!("{v}"));
    let trace = sim.trace();
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!(name, render::plain(trace));
    });
    let title = format!("ch04 paxos: {name} (seed 1)");
    check_diagram(name, &svg::render(&title, &sim.ids(), trace));
    sim
}

/// The book folds a long trace away and shows its turning points above it (every one, or those
/// of `window_ms`): cut from the same run, pinned as `NAME-turning-points`.
fn pin_turning_points<P: Process>(name: &str, sim: &Sim<P>, window_ms: Range<Millis>) {
    let text = render::turning_points(sim.trace(), window_ms);
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!(format!("{name}-turning-points"), text);
    });
}

#[test]
fn basic_one_proposer_gets_its_value_chosen_in_two_phases() {
    scenario("basic");
}

#[test]
fn competing_the_second_proposer_adopts_the_value_already_accepted() {
    let sim = scenario("competing");
    pin_turning_points("competing", &sim, 0..Millis::MAX);
}

#[test]
fn acceptor_crash_a_majority_still_decides() {
    scenario("acceptor-crash");
}

#[test]
fn majority_down_no_decision_and_no_wrong_decision() {
    scenario("majority-down");
}

#[test]
fn duel_fixed_timeouts_preempt_each_other_forever() {
    let sim = scenario("duel");
    // Two rounds show the pattern; the rest repeats it.
    pin_turning_points("duel", &sim, 0..60);
}

#[test]
fn duel_backoff_randomized_back_off_lets_one_proposer_through() {
    scenario("duel-backoff");
}

#[test]
fn lossy_losses_duplicates_and_reordering_change_nothing_decided() {
    scenario("lossy");
}

#[test]
fn multi_phase_1_once_then_one_round_trip_per_write() {
    let sim = pin("multi", multi::scenario(1), 1_000);
    pin_turning_points("multi", &sim, 0..Millis::MAX);
}

// ---- Lab 4.1: the forgetful acceptor (src/labs/mod.rs; `cargo run -- lab check 4.1`) ----

#[test]
fn lab_4_1_a_forgetful_acceptor_lets_two_learners_disagree() {
    // The rule broken: an acceptor's Promise must report its highest accepted value
    // (Lamport, "Paxos Made Simple", §2.2, P2c). The seed search finds the shortest failing run.
    let v = labs::find_disagreement(0..2_000).expect("the seed search finds a disagreement");
    assert_eq!(v.invariant, "agreement");
    assert_eq!(v.seed, FORGETFUL_SEED, "the search found another seed: update FORGETFUL_SEED");
    let report = v.to_string();
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!("lab-forgetful", report);
    });
    let mut replay = scenarios::build("forgetful", v.seed).unwrap();
    let again = replay.sim.run_until(replay.deadline).unwrap_err();
    assert_eq!(again.message, v.message, "the replay command shows the same disagreement");
    let title = format!("ch04 lab 4.1: forgetful acceptors (seed {})", v.seed);
    check_diagram("lab-forgetful", &svg::render(&title, &replay.sim.ids(), replay.sim.trace()));
}

/// Read the trace of the disagreement (the snapshot `all__scenarios__lab-forgetful.snap`): which
/// acceptor answered a Prepare with "no value" although it had already accepted one?
fn the_acceptor_that_kept_quiet() -> NodeId {
    // LAB 4.1 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 4.1: the node whose Promise hid what it had accepted")
    1
    // LAB 4.1 END
}

#[test]
fn lab_4_1_the_acceptor_that_kept_quiet() {
    // An acceptor that has sent `Accepted` has accepted a value; a later Promise of its own
    // that reports none is the lie.
    let mut replay = scenarios::build("forgetful", FORGETFUL_SEED).unwrap();
    let _ = replay.sim.run_until(replay.deadline);
    let mut accepted: Vec<NodeId> = Vec::new();
    let liar = replay.sim.trace().iter().find_map(|entry| match &entry.event {
        Event::Send { from, msg: Msg::Accepted { .. }, .. } => {
            accepted.push(*from);
            None
        }
        Event::Send { from, msg: Msg::Promise { accepted: None, .. }, .. }
            if accepted.contains(from) =>
        {
            Some(*from)
        }
        _ => None,
    });
    assert_eq!(Some(the_acceptor_that_kept_quiet()), liar);
}

/// The seed the lab's seed search finds (the snapshot's first line).
const FORGETFUL_SEED: u64 = 141;

/// The book shows the turning points of the disagreement lab 4.1 finds above the whole report;
/// replayed from the seed, so they do not depend on the student's search.
#[test]
fn the_forgetful_run_turns_on_these_points() {
    let mut replay = scenarios::build("forgetful", FORGETFUL_SEED).unwrap();
    let broken = replay.sim.run_until(replay.deadline).unwrap_err();
    assert_eq!(broken.invariant, "agreement");
    pin_turning_points("lab-forgetful", &replay.sim, 0..Millis::MAX);
}

#[test]
fn the_json_trace_has_one_object_per_event_and_matches_the_plain_one() {
    let mut setup = scenarios::build("basic", 1).unwrap();
    setup.sim.run_until(setup.deadline).unwrap();
    let json = render::json_lines(setup.sim.trace());
    let events: Vec<serde_json::Value> =
        json.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(events.len(), setup.sim.trace().len());
    let first_promise = events
        .iter()
        .find(|e| e["kind"] == "deliver" && e["msg"].get("Promise").is_some())
        .unwrap();
    assert_eq!(
        first_promise,
        &serde_json::json!({"at": 20, "kind": "deliver", "from": 2, "to": 1, "id": 4, "sent_at": 10,
            "msg": {"Promise": {"ballot": {"round": 1, "node": 1}, "accepted": null}}})
    );
}

// ---- The Byzantine generals: OM(1) (src/byzantine.rs) ----

/// Runs an OM(1) scenario to its end and returns what each general decided, by node.
fn om1(name: &str) -> (Sim<General>, Result<(), Box<ch04_paxos::sim::Violation>>) {
    let mut sim = byzantine::scenario(name, 1).expect("an OM(1) scenario");
    let outcome = sim.run_until(1_000);
    (sim, outcome)
}

fn decisions(sim: &Sim<General>) -> Vec<(NodeId, Option<Order>)> {
    sim.nodes().filter(|g| g.order().is_none()).map(|g| (g.id(), g.decided())).collect()
}

#[test]
fn om1_four_generals_outvote_a_traitor_lieutenant() {
    // IC2 (Lamport, Shostak, Pease 1982, §3, Theorem 1 with m = 1, n = 4 > 3m): with a loyal
    // commander, every loyal lieutenant obeys it, whatever the one traitor relays.
    let name = "om1-traitor-lieutenant";
    let (sim, outcome) = om1(name);
    outcome.unwrap_or_else(|v| panic!("{v}"));
    let loyal: Vec<_> = decisions(&sim).into_iter().filter(|(n, _)| *n != 3).collect();
    assert_eq!(loyal, [(2, Some(Order::Attack)), (4, Some(Order::Attack))]);
    pin_general(name, &sim);
}

#[test]
fn om1_four_generals_agree_despite_a_traitor_commander() {
    // IC1 (same theorem): a commander that tells lieutenants different orders cannot split the
    // loyal ones, because they relay honestly and count the same words.
    let name = "om1-traitor-commander";
    let (sim, outcome) = om1(name);
    outcome.unwrap_or_else(|v| panic!("{v}"));
    assert_eq!(
        decisions(&sim),
        [(2, Some(Order::Attack)), (3, Some(Order::Attack)), (4, Some(Order::Attack))]
    );
    pin_general(name, &sim);
}

#[test]
fn om1_three_generals_cannot_outvote_one_traitor() {
    // The paper's impossibility (§2): with three generals and one traitor no oral-messages
    // algorithm works; here the loyal lieutenant hears one word each way and defaults to retreat.
    let name = "om1-three";
    let (sim, outcome) = om1(name);
    let violation = outcome.expect_err("one traitor of three breaks interactive consistency");
    assert_eq!(violation.invariant, "interactive consistency");
    assert!(violation.message.starts_with("IC2"), "{}", violation.message);
    pin_general(name, &sim);
}

fn pin_general(name: &str, sim: &Sim<General>) {
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!(name, render::plain(sim.trace()));
    });
    let title = format!("ch04 byzantine: {name}");
    check_diagram(name, &svg::render(&title, &sim.ids(), sim.trace()));
}
