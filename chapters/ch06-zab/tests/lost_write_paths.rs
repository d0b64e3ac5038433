//! The lost write of `log-sync-after-up-to-date` (lab 6.2, ZOOKEEPER-3911) is a path of the
//! model checker's model: a walk guided by hand, step by step, through the chapter's own nodes
//! reaches it, and its path replays in the simulator as a scenario file. The random walks find
//! one like it, about once in a few thousand walks (`tests/model_check.rs`; the book's chapter
//! 6, "Lab 6.2's lost write needs wider bounds"); this one is known step by step, so breadth
//! first can start near its end, and it shows where the bounds must be: two crashes, epochs up
//! to 3.

use ch04_paxos::sim::checker::{self, Action, Links};
use ch05_election::peer::Timer as ElectionTimer;
use ch05_election::vote::ServerState;
use ch06_zab::model_check::{self, Bounds, Restarts};
use ch06_zab::peer::{Flaw, Timer as PeerTimer};
use ch06_zab::render;
use ch06_zab::sim::{HistoryEvent, Node, Outcome, ServerNode, SimTimer};
use stateright::actor::ActorModelAction as A;
use stateright::{Expectation, Model};

type State = model_check::ZabState;
type ZabModel = model_check::ZabModel;

/// The bounds the path needs: n3 and then n2 crash, and n2 leads epoch 3.
const BOUNDS: Bounds = Bounds {
    epochs: 3,
    rounds: 2,
    crashes: 2,
    restarts: Restarts::Anytime,
    in_flight: None,
    false_suspicions: false,
    connections: model_check::DEFAULT.connections,
    learner_connections: None,
};

// The model's actors, in order: n1, n2, n3, c1.
const N1: usize = 0;
const N2: usize = 1;
const N3: usize = 2;
const C1: usize = 3;

fn server(s: &State, i: usize) -> &ServerNode {
    s.actor_states[i].server().expect("a server")
}

fn went_down(s: &State, i: usize) -> bool {
    server(s, i).crashes() > 0 || s.crashed[i]
}

fn acknowledged(s: &State) -> bool {
    let c1 = s.actor_states[C1].client().expect("the client");
    c1.history().iter().any(|e| {
        matches!(
            e,
            HistoryEvent::Complete {
                outcome: Outcome::Ok { .. },
                ..
            }
        )
    })
}

/// Whether `i` still follows the leader of its first election (its round is still 1).
fn first_round_follower(s: &State, i: usize) -> bool {
    let peer = server(s, i).peer();
    !s.crashed[i] && peer.state() == ServerState::Following && peer.logical_clock() == 1
}

/// Both hands' rank for a timer: an election's end first, then the disk, then retries.
fn timer_rank(t: &SimTimer) -> Option<u32> {
    match t {
        SimTimer::Peer(PeerTimer::Election(ElectionTimer::FinalizeWait)) => Some(2),
        SimTimer::Fsync => Some(3),
        SimTimer::Peer(PeerTimer::ConnectRetry) => Some(4),
        SimTimer::Peer(PeerTimer::Election(_)) => Some(5),
        _ => None,
    }
}

/// The hand's choice, by rank (lower first; `None`: not now). The story: c1's create of `/a`
/// is committed by n3 and n1 while n3's PROPOSAL to n2 is late; n3 crashes and restarts; n2
/// gives up on it and the two elect n3 for epoch 2, which DIFFs `/a` to n2; n2 ACKs NEWLEADER
/// and crashes; n1 gives up on n3, and n1 and n2 elect n2 for epoch 3.
fn pick(s: &State, a: &Action<Node>) -> Option<u32> {
    let phase = match (acknowledged(s), went_down(s, N3), went_down(s, N2)) {
        (false, _, _) => 0,
        (true, false, _) => 1,
        (true, true, false) => 2,
        (true, true, true) => 3,
    };
    match a {
        A::Crash(id) => {
            let id = usize::from(*id);
            let epoch_two = server(s, N2).peer().epochs().current.0 == 2;
            ((phase == 1 && id == N3) || (phase == 2 && id == N2 && epoch_two)).then_some(0)
        }
        A::Recover(_) => Some(0),
        A::Deliver { src, dst, .. } => {
            let (src, dst) = (checker::sender(*src, C1 + 1), usize::from(*dst));
            let away = match phase {
                0 => [N3, N2] == [src, dst],
                2 => [src, dst].iter().any(|n| *n == N1 || *n == C1),
                3 => [src, dst].iter().any(|n| *n == N3 || *n == C1),
                _ => true,
            };
            (!away).then_some(1)
        }
        A::Timeout(id, SimTimer::Peer(PeerTimer::LeaderSilent)) => {
            let id = usize::from(*id);
            let gives_up = (phase == 2 && id == N2) || (phase == 3 && id == N1);
            (gives_up && first_round_follower(s, id)).then_some(0)
        }
        A::Timeout(id, SimTimer::ClientStep) => (phase == 0 && usize::from(*id) == C1).then_some(2),
        A::Timeout(_, t) => timer_rank(t),
        _ => None,
    }
}

/// A hand: the rank of each action in a state (lower first; `None`: not now).
type Hand = fn(&State, &Action<Node>) -> Option<u32>;

/// The guided walk from where the search starts, until a property breaks (or `max` steps):
/// the whole path, and the property broken.
fn guided(
    model: &ZabModel,
    max: usize,
    pick: Hand,
) -> (Vec<Action<Node>>, Option<&'static str>, State) {
    let mut path = model_check::start(model).expect("the first election");
    let start = checker::init_states(model).remove(0);
    let mut state = path.iter().fold(start, |s, a| {
        checker::next_state(model, &s, a.clone()).expect("a path")
    });
    for _ in 0..max {
        let broken = model
            .properties
            .iter()
            .find(|p| p.expectation == Expectation::Always && !(p.condition)(model, &state));
        if let Some(p) = broken {
            return (path, Some(p.name), state);
        }
        let mut actions = Vec::new();
        checker::actions(model, &state, &mut actions);
        let mut ranked: Vec<_> = actions
            .into_iter()
            .filter_map(|a| Some((pick(&state, &a)?, a)))
            .collect();
        ranked.sort_by_key(|(rank, _)| *rank);
        let Some((action, next)) = ranked
            .into_iter()
            .find_map(|(_, a)| Some((a.clone(), checker::next_state(model, &state, a)?)))
        else {
            break;
        };
        assert!(
            Model::within_boundary(model, &next),
            "the path stays in bounds: {:?} after {:?}",
            action,
            &path[path.len().saturating_sub(8)..]
        );
        path.push(action);
        state = next;
    }
    (path, None, state)
}

/// ZOOKEEPER-3911: a follower synced by DIFF must log the synced txns before it ACKs
/// NEWLEADER (upstream `Learner.syncWithLeader`, since 3.6.3). With the old order, the
/// follower that ACKed NEWLEADER and crashed comes back with currentEpoch 2 and without `/a`;
/// its vote beats n1's (epochs compare first), and as leader of epoch 3 it TRUNCs `/a` away
/// from n1: the write c1 was told succeeded is gone. The path replays in the simulator.
#[test]
fn the_model_holds_the_write_log_sync_after_up_to_date_loses() {
    let model = model_check::model(Some(Flaw::LogSyncAfterUpToDate), BOUNDS);
    let (path, broken, _) = guided(&model, 200, pick);
    assert_eq!(broken, Some("no acknowledged write lost"));
    let build = || model_check::simulation(Some(Flaw::LogSyncAfterUpToDate));
    let (script, sim) = checker::counterexample_script(
        build,
        "no acknowledged write lost",
        &path,
        Links::Fifo,
        "counterexample.txt",
    )
    .expect("the path replays in the simulator");
    assert!(
        script.contains("--flaw log-sync-after-up-to-date"),
        "{script}"
    );
    // The book hands it out: `--model-check --scenario-file` starts a search near its end.
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!("log_sync_hand_path", script);
    });
    let trace = ch04_paxos::sim::render::plain(sim.trace());
    assert!(trace.contains("TRUNC 0x100000001"), "{trace}");
    let n2 = sim.node(2).server().expect("n2").peer();
    assert_eq!(n2.state(), ServerState::Leading);
    assert_eq!(n2.epochs().current.0, 3);
    assert!(
        n2.database().tree.node("/a").is_none(),
        "n2 leads without /a"
    );
}

/// The same hand without the flaw: n2 logged `/a` before it ACKed NEWLEADER, so it comes back
/// with it and leads epoch 3 with it; no acknowledged write is lost.
#[test]
fn the_same_hand_without_the_flaw_loses_nothing() {
    let model = model_check::model(None, BOUNDS);
    let (_, broken, end) = guided(&model, 200, pick);
    assert_eq!(broken, None);
    let n2 = server(&end, N2).peer();
    assert_eq!(
        (n2.state(), n2.epochs().current.0),
        (ServerState::Leading, 3)
    );
    assert!(n2.is_serving() && n2.database().tree.node("/a").is_some());
}

/// Whether c1 has sent its create.
fn invoked(s: &State) -> bool {
    let c1 = s.actor_states[C1].client().expect("the client");
    c1.history()
        .iter()
        .any(|e| matches!(e, HistoryEvent::Invoke { .. }))
}

/// The hand of the lost write the walks found without a flaw (`--crashes 2 --epochs 3
/// --seed 593`), told as briefly as it goes. c1's create of `/a` is committed by n3 and n2
/// while n1's disk is slow: n1 applies `/a` at the COMMIT, before its fsync, and answers c1.
/// n3 crashes and restarts; n1 gives up on it (n2 is kept out), and the two elect n3 for
/// epoch 2, which DIFFs nothing to n1; n1 ACKs NEWLEADER, taking currentEpoch 2, and crashes
/// before its fsync ever comes; n2 gives up on n3, and n1 and n2 elect again. n1's fsync is
/// held back while it follows, and allowed only between its leaving the leader of epoch 1
/// and its looking again — a moment the peer has only if it waits for its disk there.
fn pick_tail(s: &State, a: &Action<Node>) -> Option<u32> {
    let phase = match (
        invoked(s),
        acknowledged(s),
        went_down(s, N3),
        went_down(s, N1),
    ) {
        (false, ..) => 0,
        (true, false, ..) => 1,
        (true, true, false, _) => 2,
        (true, true, true, false) => 3,
        (true, true, true, true) => 4,
    };
    // n1 has left its first leader and is not looking yet.
    let n1 = server(s, N1).peer();
    let n1_leaving = !s.crashed[N1]
        && n1.logical_clock() == 1
        && n1.state() != ServerState::Looking
        && !n1.is_serving();
    match a {
        A::Crash(id) => {
            let id = usize::from(*id);
            let n1_took_epoch_two = n1.epochs().current.0 == 2;
            ((phase == 2 && id == N3) || (phase == 3 && id == N1 && n1_took_epoch_two)).then_some(0)
        }
        A::Recover(_) => Some(0),
        A::Deliver { src, dst, .. } => {
            let (src, dst) = (checker::sender(*src, C1 + 1), usize::from(*dst));
            let away = match phase {
                0 | 1 => false,
                2 => true,
                3 => [src, dst].iter().any(|n| *n == N2 || *n == C1),
                _ => [src, dst].iter().any(|n| *n == N3 || *n == C1),
            };
            (!away).then_some(1)
        }
        A::Timeout(id, SimTimer::Fsync) if usize::from(*id) == N1 => match phase {
            0 => Some(3),
            3 if n1_leaving => Some(0),
            _ => None,
        },
        A::Timeout(id, SimTimer::Peer(PeerTimer::LeaderSilent)) => {
            let id = usize::from(*id);
            let gives_up = (phase == 3 && id == N1) || (phase == 4 && id == N2);
            (gives_up && first_round_follower(s, id)).then_some(0)
        }
        A::Timeout(id, SimTimer::ClientStep) => (phase == 0 && usize::from(*id) == C1).then_some(2),
        A::Timeout(id, _) if phase == 3 && usize::from(*id) == N2 => None,
        A::Timeout(_, t) => timer_rank(t),
        _ => None,
    }
}

/// A server that stops following must make what it logged durable before it votes with it
/// (upstream: `SyncRequestProcessor.shutdown` flushes the txns queued before it; 3.8's
/// follower never called it, ZOOKEEPER-4712, fixed in 3.9.3). Otherwise the hand above loses
/// `/a`: n1 comes back from its crash with currentEpoch 2 and without `/a`, its vote (epoch 2,
/// zxid `0x100000001`) beats n2's (epoch 1, zxid `0x100000002`), and as leader of epoch 3 it
/// TRUNCs `/a` from n2. With the flush, n1 has `/a` on disk before it votes: it comes back with
/// it, and leads epoch 3 with it.
#[test]
fn a_follower_that_gives_up_flushes_its_tail_before_it_votes() {
    let model = model_check::model(None, BOUNDS);
    let (path, broken, end) = guided(&model, 300, pick_tail);
    assert_eq!(broken, None, "{} steps", path.len());
    let n1 = server(&end, N1).peer();
    assert_eq!(n1.epochs().current.0, 3, "n1 took epoch 3");
    assert_eq!(n1.state(), ServerState::Leading);
    assert!(n1.database().tree.node("/a").is_some(), "n1 leads with /a");
    // The book shows n1's side of it, replayed in the simulator: from the moment it gives up
    // on its leader until it votes, and what it finds on its disk after the crash.
    let mut sim = model_check::simulation(None);
    for choice in checker::choices(model_check::simulation(None), &path, Links::Fifo).unwrap() {
        sim.choose(&choice).expect("each choice is allowed");
    }
    let trace = ch04_paxos::sim::render::plain_with(sim.trace(), render::filter(false));
    let n1_lines: Vec<&str> = trace.lines().filter(|l| l.contains(" n1 ")).collect();
    let gives_up = n1_lines
        .iter()
        .position(|l| l.contains("stops following"))
        .expect("n1 gives up on n3");
    let votes = gives_up
        + n1_lines[gives_up..]
            .iter()
            .position(|l| l.contains("round 2: votes"))
            .expect("n1 votes again");
    let restarts = n1_lines
        .iter()
        .position(|l| l.contains("zkServer.sh start (currentEpoch 2"))
        .expect("n1 restarts after its crash");
    let story = [
        &n1_lines[gives_up..=votes],
        &["…"],
        &n1_lines[restarts..=restarts],
    ]
    .concat();
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!("tail_synced_before_the_vote", story.join("\n") + "\n");
    });
}

/// The breadth-first search, with the fault model its exhaustive run keeps (no false
/// suspicions: a server gives up on another only once that one crashed, restarted or closed
/// the connection), still finds ZOOKEEPER-3911's lost write: started `SHORT` steps before the
/// hand's path loses `/a`, it reaches a state that loses it, by a path no longer than the
/// hand's, which replays in the simulator. What the search leaves out cannot hide this write.
#[test]
fn breadth_first_without_false_suspicions_finds_the_3911_write_from_near_it() {
    const SHORT: usize = 4;
    let flaw = Some(Flaw::LogSyncAfterUpToDate);
    let (path, broken, _) = guided(&model_check::model(flaw, BOUNDS), 200, pick);
    assert_eq!(broken, Some("no acknowledged write lost"));
    let prefix = path[..path.len() - SHORT].to_vec();
    let report = checker::check_from(model_check::model(flaw, BOUNDS), prefix, Some(SHORT), None)
        .unwrapped();
    let (property, found) = report
        .counterexample
        .expect("the search finds the lost write");
    assert_eq!(property, "no acknowledged write lost");
    assert!(found.len() <= path.len(), "{} steps", found.len());
    let build = || model_check::simulation(flaw);
    checker::counterexample_script(build, property, &found, Links::Fifo, "counterexample.txt")
        .expect("its path replays in the simulator");
}

/// The hand of `ack-before-fsync` with one crash and no false suspicion: c1's create of `/a`
/// is committed by n3 and n1 (each counts an ACK its disk has not made durable) while n3's
/// PROPOSAL to n2 is late; n3 crashes before its fsync and comes back without `/a`; n2 gives
/// up on it (it crashed), and n2 and n3 elect n3 for epoch 2 while n1, which has `/a`, is kept
/// out.
fn pick_early_ack(s: &State, a: &Action<Node>) -> Option<u32> {
    let phase = match (acknowledged(s), went_down(s, N3)) {
        (false, _) => 0,
        (true, false) => 1,
        (true, true) => 2,
    };
    match a {
        A::Crash(id) => (phase == 1 && usize::from(*id) == N3).then_some(0),
        A::Recover(_) => Some(0),
        A::Deliver { src, dst, .. } => {
            let (src, dst) = (checker::sender(*src, C1 + 1), usize::from(*dst));
            let away = match phase {
                0 => [N3, N2] == [src, dst],
                _ => [src, dst].iter().any(|n| *n == N1 || *n == C1),
            };
            (!away).then_some(1)
        }
        A::Timeout(id, SimTimer::Fsync) => (usize::from(*id) != N3).then_some(3),
        A::Timeout(id, SimTimer::Peer(PeerTimer::LeaderSilent)) => {
            (phase == 2 && usize::from(*id) == N2 && first_round_follower(s, N2)).then_some(0)
        }
        A::Timeout(id, SimTimer::ClientStep) => (phase == 0 && usize::from(*id) == C1).then_some(2),
        A::Timeout(id, _) if usize::from(*id) == N1 => None,
        A::Timeout(_, t) => timer_rank(t),
        _ => None,
    }
}

/// `ack-before-fsync` (lab 7.1) loses a write within the default fault model: one crash and
/// no false suspicion, epochs up to 2, one vote in flight on each election connection. The
/// hand's path (33 steps after the election) replays in the simulator, and breadth first,
/// started a few steps before the loss, finds it too: the fault model leaves it in reach. It
/// has two packets on n3's quorum connection to n2 (the PROPOSAL n2 must not read before n3
/// crashes, then the COMMIT behind it), which the in-flight bound leaves alone, and a vote
/// that a newer one replaced while it waited, which the replay drops.
#[test]
fn ack_before_fsync_loses_a_write_with_one_crash_and_no_false_suspicion() {
    const SHORT: usize = 4;
    let flaw = Some(Flaw::AckBeforeFsync);
    let bounds = Bounds {
        in_flight: Some(1),
        ..model_check::DEFAULT
    };
    let (path, broken, _) = guided(&model_check::model(flaw, bounds), 200, pick_early_ack);
    assert_eq!(broken, Some("no acknowledged write lost"));
    let build = || model_check::simulation(flaw);
    let (_, sim) = checker::counterexample_script(
        build,
        "no acknowledged write lost",
        &path,
        model_check::links(bounds),
        "c.txt",
    )
    .expect("the path replays in the simulator");
    let n3 = sim.node(3).server().expect("n3").peer();
    assert_eq!(
        (n3.state(), n3.epochs().current.0),
        (ServerState::Leading, 2)
    );
    assert!(
        n3.database().tree.node("/a").is_none(),
        "n3 leads without /a"
    );
    let prefix = path[..path.len() - SHORT].to_vec();
    let report = checker::check_from(model_check::model(flaw, bounds), prefix, Some(SHORT), None);
    let (property, _) = report.counterexample.expect("breadth first finds it");
    assert_eq!(property, "no acknowledged write lost");
}
