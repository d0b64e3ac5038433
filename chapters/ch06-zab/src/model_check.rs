//! Checking every interleaving of a small Zab ensemble: `--model-check`.
//!
//! The fault seeds of [`crate::check`] try ten thousand runs, each one order of events. Here
//! chapter 4's model checker ([`ch04_paxos::sim::checker`]) runs this chapter's own nodes —
//! the [`ServerNode`]s with their disks and a scripted [`ClientNode`] — through **every**
//! order, for one small ensemble: three servers and one client, which connects to n1 and
//! creates `/a` twice (with data `1`, then `2`: the second must fail, as the node exists).
//! Any one server may crash and restart from its disk, once (`--crashes N` for more, one down
//! at a time; `--no-restarts` for a crash for good; `--restart-after-failover` for a leader's
//! restart only once the others have elected a new one; `--restart-leader-anytime` for a
//! leader's restart at any moment and a follower's crash for good); timers fire whenever the
//! checker likes, so a disk may be slow enough for anything to overtake its fsync, and a
//! follower may give up on a leader that crashed at any moment after the crash.
//!
//! **A link is one TCP connection, one way**: it delivers in order, late or never, and waits
//! for no other. Two servers have the election port's connection (a vote never waits behind a
//! Zab packet, nor a packet behind a vote) and one per Zab [`Link`](crate::message::Link) on
//! the quorum port: a learner that reconnects opens a new one, as the tokio driver does, and
//! its packets never wait behind the old connection's late packets or its close. A client's
//! connections are links of their own too. A crash takes what was on its way to the crashed
//! server on the quorum port or from a client (its sockets die with it; the restarted server
//! opens new ones, numbered past the old, as its clock reads later), but not the votes, which
//! upstream's `QuorumCnxManager` keeps and sends again on a new connection. What the crashed
//! server had sent stays in flight, as bytes already on the wire. With `--in-flight N`, votes
//! wait behind the send queue of one that `QuorumCnxManager` keeps per peer ([`links`]): a
//! newer vote takes the place of one not yet sent, as upstream drops the oldest.
//!
//! **One crash, and no false suspicions.** The fault the claim is about is a crash. A
//! follower giving up on a leader that is up and answering it (its read timeout firing
//! while the leader leads with its connection open), or a leader on a quorum that follows
//! it (`initLimit`), is another fault: a false suspicion, as after a partition or a long
//! pause. By default the checker leaves those firings out ([`false_suspicion`], through
//! [`checker::with_fault_model`]); `--false-suspicions` lets the timers fire whenever the
//! checker likes again, a model whose one-crash search does not end, and which the walks
//! cover. Measured from the start (`examples/model_census.rs`), breadth first to depth 9 with
//! one message in flight on every link (the model before only votes were bounded): 30,438
//! distinct states with false suspicions, 4,021 without (each depth 2.02× the last at depth
//! 9, against 1.76×); most of the difference is
//! the crashes and elections that follow a follower's giving up on a live leader. There is
//! no symmetry to reduce by: sids order the votes (n3 wins a tie), and c1 talks to n1, so no
//! two servers are interchangeable, and there is no partial-order reduction yet. What the
//! checker does drop is what can change nothing: a close notice for a connection its
//! receiver has no end of, a Zab packet on a connection its receiver closed, and a server's
//! frame on a client connection the client has left, each dropped once nothing is ahead of
//! it on its link ([`ends_nothing`](ch04_paxos::sim::Process::ends_nothing)): a learner's
//! close behind its first packet, which the leader has not read yet, stays, as the leader
//! will have an end of that connection once it reads the packet. And it bounds the client's
//! connections ([`Bounds::connections`]): refused by servers that do not serve (the rounds or
//! epochs spent), the client would reconnect for ever, each connection a new state. With that
//! bound, every source of states without end that a long random walk found is closed. What
//! ends at `--in-flight 1` (the book's "What ends, and what does not" has the figures): the
//! one-round crash search (`--rounds 1`: a restarted server votes in round 1 again, so a
//! follower's crash, restart and resync are in it whole, and a leader's crash up to the
//! moment a follower gives up on it and votes in round 2; depth first, as breadth first
//! outgrows the memory), the two-round crash-stop search (`--no-restarts`: any server's
//! crash for good, the failover included; with a third round and epoch too, as a follower
//! still connecting, or a new leader no quorum follows yet, may give up and vote again), and the
//! two-round search in which a crashed leader restarts once the others have failed over
//! (`--restart-after-failover`: its return and rejoining in every order). The two-round
//! search with a restart at any time has paths without end, and no reduction of its orders
//! would end it. A restarted follower joins its leader in the round that leader was elected
//! in, may give up on it before the leader has read its connection's first packet (the clock
//! stands still, so its timer may fire at once, and a leader that has not read the connection
//! does not answer it yet), looks again in the next round, joins again back in the first, and
//! connects again, each turn leaving one more connection on its way to the leader.
//! [`Bounds::learner_connections`] (`--learner-connections N`) cuts that loop, as
//! [`Bounds::connections`] cuts c1's reconnects. With it the search is finite, but larger
//! than any run so far has exhausted (the book's "What ends, and what does not" has how far
//! they got). So is the search of a leader's restart at any time alone
//! (`--restart-leader-anytime`, run with the same bound), even with c1 held to its first
//! connection.
//!
//! **Where it starts.** Every order of a whole election, then discovery and sync, is far too
//! many to explore alongside the writes. The checker walks through the first election once
//! ([`checker::walk`], taking messages before timers): n3 leads epoch 1, n1 and n2 follow, the
//! client holds a session through n1. It explores every order from there, and a
//! counterexample still replays from the very start. Elections after a crash are explored
//! in full.
//!
//! **What it leaves out.** The leader's tick (a ping, and the check that a quorum still
//! answers) and the client's keep-alive while its server could answer it
//! ([`answerable_client_tick`]): each firing sends one more packet, so the states would never
//! end. A leader therefore never steps down by itself here; its followers give up on it once
//! it crashed (or whenever they like, with `--false-suspicions`). c1 gives up on its server
//! once that server is down, or restarted with no end of c1's connection: then its ticks fire
//! whenever the checker likes, and the second (the first, for a handshake still unanswered)
//! ends the connection, as the Java client's read timeout does. c1 moves to the next server
//! with its session, and a create it had in flight is lost to it: done or not, c1 cannot
//! tell. Rounds and epochs are bounded ([`Bounds`]), and so may be the messages in flight on
//! each link (`--in-flight N`, votes on each election connection; [`Bounds::in_flight`]):
//! without that limit the states never end (a LOOKING server resends its vote whenever its
//! timer fires, and every copy waits its turn on an ordered link), so only a search with it
//! can explore every state, and says so. The bounds and the fault model are the limits of the
//! claim. Within them, no order of events breaks
//!
//! - **one established leader per epoch** (always): no two up servers both lead, serving,
//!   with the same `currentEpoch`;
//! - **committed prefixes agree** (always): the txns of any two serving servers, in zxid order,
//!   are one a prefix of the other;
//! - **no acknowledged write lost** (always): a create the client was told succeeded is in
//!   every established leader of a later epoch;
//! - **linearizable** (always): the client's creates and their answers are a history of a
//!   write-once register, stateright's `WORegister` (a `create` succeeds once; a create of the
//!   same path after it fails). It is the register that fits `create`: the answer depends on
//!   what came before, so a lost write shows in what the client is told;
//!
//! and some order lets **a write be committed** (sometimes). With
//! [`Flaw::LogSyncAfterUpToDate`] or [`Flaw::AckBeforeFsync`] the checker looks for the path
//! that loses a committed write, and writes it as a scenario file that `--scenario checked
//! --scenario-file FILE` replays. Those paths are thirty events and more past the election,
//! beyond breadth first's reach; `--walks N` looks for them with random walks
//! ([`ch04_paxos::sim::walks`]) through the same model, [`focus`]ed on crashes where a write
//! can be lost. `ack-before-fsync` loses a write within the default fault model (one crash,
//! no false suspicion): n3 and n1 commit `/a` on ACKs their disks have not made durable while
//! n3's PROPOSAL to n2 is late, n3 crashes before its fsync, and n2 and the restarted n3 elect
//! n3 without `/a` (`tests/lost_write_paths.rs` walks it by hand: 33 steps past the election,
//! within `--in-flight 1`, and breadth first finds it from near the loss); 20,000 focused
//! walks of 50 steps find one like it in a few seconds (seeds 1 to 4 each do), and with
//! `--false-suspicions` they find another in less.
//! `log-sync-after-up-to-date` needs two crashes and a third epoch (`--crashes 2 --epochs 3
//! --rounds 3`), as a leader here only stops leading when it crashes, and walks long enough to
//! hold two elections after the write: with `--walk-steps 150`, seed 180 finds it in its
//! 30th walk.
//!
//! **Across a snapshot.** A server synced by SNAP starts its log after the snapshot, where
//! the others' logs hold the txns before it: committed prefixes are compared past the later
//! of two servers' snapshots only ([`prefixes_disagree`]).

use std::cmp::Ordering;
use std::fmt::Debug;
use std::hash::{Hash, Hasher};
use std::time::Duration;

use ch01_znode::{Epoch, Sid, ZkError, Zxid};
use ch04_paxos::sim::checker::{self, Action, Fingerprinted, Links, NodeActor};
use ch04_paxos::sim::{Choice, Sim};
use ch05_election::peer::Timer as ElectionTimer;
use ch05_election::vote::ServerState;
use stateright::actor::{ActorModel, ActorModelAction, ActorModelState, Id, Network};
use stateright::semantics::write_once_register::{WORegister, WORegisterOp, WORegisterRet};
use stateright::semantics::{ConsistencyTester, LinearizabilityTester};
use stateright::Expectation;

use crate::message::Message;
use crate::peer::{Flaw, Timer as PeerTimer};
use crate::scenarios::{self, client, create, ScenarioName, Setup};
use crate::sim::{
    ClientNode, ClientOp, HistoryEvent, Node, Outcome as Answer, ServerNode, SimTimer, Wire,
};

/// How far the checker goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// The highest epoch a server may accept.
    pub epochs: i64,
    /// The highest election round a server may reach.
    pub rounds: i64,
    /// How many crashes (each followed by a restart, with [`Bounds::restarts`]) the servers
    /// may have between them, one server down at a time.
    pub crashes: u64,
    /// Whether and when a crashed server restarts from its disk ([`Restarts`]).
    pub restarts: Restarts,
    /// The most votes in flight on one election connection (from one server to another) at
    /// once, if limited (`--in-flight N`): the election port's send queue of one and a socket
    /// that holds `N - 1` ([`links`]). A vote one too many takes the place of the one waiting
    /// to be sent, as upstream's `QuorumCnxManager` drops the oldest. Without a limit every
    /// vote goes on the wire and the states never end: a LOOKING server resends its vote
    /// whenever its timer fires, and every copy waits its turn on an ordered link, so a
    /// search can only be exhaustive with one. Zab packets (the quorum port) and client
    /// frames have no such bound and need none: a server sends them only as the protocol
    /// moves on, so a leader's sync (DIFF, proposals, NEWLEADER, at once) is in the search.
    pub in_flight: Option<usize>,
    /// Whether a server may suspect a party that is up and answering it: a follower give up
    /// on a leader that leads with its connection open, a leader on a quorum that follows it
    /// ([`false_suspicion`]). That is a second kind of fault beside the crashes (a partition,
    /// a long pause), so the default leaves it out, and walks cover it (`--false-suspicions`).
    pub false_suspicions: bool,
    /// The most connections the client opens, its first included. A client whose server
    /// closes its handshake (a server not serving refuses clients) tries the next at once, so
    /// while no server serves (the rounds or epochs are spent, say) it could reconnect for
    /// ever, each connection a new number and a new line in its history: states without end.
    /// Under the checker the clock is stopped, so the client's retries never force the
    /// election's hand: every order in which the ensemble serves again before they run out
    /// is explored.
    pub connections: u32,
    /// The most Zab connections a server opens to a leader in one life (since its start or
    /// restart), if limited (`--learner-connections N`). A follower that gives up on its
    /// leader before the leader has read its first packet (with the clock stopped, its timer
    /// may fire at once), and then finds the same leader again, connects again: each turn a
    /// new connection, its first packet and its close left on their way to the leader. After
    /// a restart at any time that is a path without end within the rounds (see the module
    /// doc); this bound cuts it, as [`Bounds::connections`] cuts the client's reconnects. Two
    /// is the least that keeps the failover: a follower's first connection is to the first
    /// leader, its second to the next.
    pub learner_connections: Option<usize>,
}

/// When a crashed server may restart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Restarts {
    /// Never: a crash is for good (crash-stop, `--no-restarts`). The two left elect a leader
    /// and serve c1 without it, a model whose two-round search ends.
    Never,
    /// At any moment, an election under way included. The two-round search has paths
    /// without end (a restarted follower's rejoining, see the module doc) unless
    /// [`Bounds::learner_connections`] cuts them.
    Anytime,
    /// A crashed leader only once the others have elected a new leader in a newer epoch
    /// and every server that is up serves (`--restart-after-failover`); a crashed follower
    /// never. So the old leader's return and rejoining (TRUNC, DIFF or SNAP) is explored in
    /// every order with c1's creates and the failover before it, and the two-round search
    /// ends. A follower's crash and restart is in the one-round search whole.
    AfterFailover,
    /// A crashed leader at any moment, the others' election and sync under way included
    /// (`--restart-leader-anytime`); a server that was not leading when it crashed never (a
    /// follower's crash and restart is in the one-round search whole). So the window that
    /// the one-round search and [`Restarts::AfterFailover`] leave out, from a follower's
    /// giving up on the leader to the next leader's serving, is explored too: the old leader
    /// back in the middle of the election, with any txns it logged that no follower
    /// acknowledged. Any restarted server may enter the loop that
    /// [`Bounds::learner_connections`] cuts, so this search runs with that bound.
    LeaderAnytime,
}

/// The bounds the command checks unless told otherwise.
pub const DEFAULT: Bounds = Bounds {
    epochs: 2,
    rounds: 2,
    crashes: 1,
    restarts: Restarts::Anytime,
    in_flight: None,
    false_suspicions: false,
    // Its first, and one to each server after it loses it.
    connections: 4,
    learner_connections: None,
};

/// The path the client creates, twice.
pub const PATH: &str = "/a";

/// The checked ensemble as a scenario: three empty servers, and c1, which connects to n1 and
/// creates [`PATH`] with `1`, then with `2`.
pub fn setup() -> Setup {
    let base = scenarios::setup(ScenarioName::WriteToLeader);
    Setup {
        name: ScenarioName::Checked,
        about: "the model checker's ensemble: c1 creates /a on n1, twice".into(),
        servers: (1..=3).map(scenarios::server).collect(),
        clients: vec![client(
            1,
            1,
            1_000,
            &[(1_500, create(PATH, "1")), (1_600, create(PATH, "2"))],
        )],
        end_ms: 60_000,
        clock_stopped: true,
        ..base
    }
}

// ANCHOR: no_backoff
/// The checked nodes, with `flaw` switched on in every server, and a back-off that does not
/// grow (`maxNotificationInterval` = `minNotificationInterval`), as chapter 5's checker has
/// it: the checker fires a timer whenever it likes and never reads its delay, so how long a
/// LOOKING server would wait changes nothing it explores. Kept, the doubling value made each
/// LOOKING server's state one of about ten for nothing, and, with a newer vote free to take
/// the place of one waiting on its link, each resend a new state. The simulator's replay of a
/// path ([`simulation`]) runs ZooKeeper's real back-off.
pub fn nodes(flaw: Option<Flaw>) -> Vec<Node> {
    let mut setup = with_flaw(flaw);
    let election = &mut setup.config.election;
    election.max_notification_interval_ms = election.min_notification_interval_ms;
    setup.nodes()
}
// ANCHOR_END: no_backoff

fn with_flaw(flaw: Option<Flaw>) -> Setup {
    let mut setup = setup();
    setup.config.flaw = flaw;
    setup
}

/// A node as the checker keeps it: with its fingerprint, hashed once per step that changes it
/// (by `Hash`, derived all the way down; see below).
pub type Checked = Fingerprinted<Node>;
/// The model the checker explores.
pub type ZabModel = ActorModel<NodeActor<Checked>, Bounds>;
/// One of its states.
pub type ZabState = ActorModelState<NodeActor<Checked>>;

/// What a crash leaves of a checked node.
fn recover(node: &Checked) -> Checked {
    Fingerprinted::new(node.recover())
}

/// Every server with whether it is up.
fn servers(s: &ZabState) -> Vec<(&ServerNode, bool)> {
    s.actor_states
        .iter()
        .zip(&s.crashed)
        .filter_map(|(n, down)| Some((n.server()?, !down)))
        .collect()
}

fn clients(s: &ZabState) -> impl Iterator<Item = &ClientNode> {
    s.actor_states.iter().filter_map(|n| n.client())
}

// ANCHOR: properties
/// Two up servers that both lead, established, in one epoch.
pub fn two_leaders_in_an_epoch(servers: &[(&ServerNode, bool)]) -> Option<(Sid, Sid, Epoch)> {
    let leaders: Vec<_> = servers
        .iter()
        .filter(|(s, up)| *up && s.peer().state() == ServerState::Leading && s.peer().is_serving())
        .map(|(s, _)| (s.peer().sid(), s.peer().epochs().current))
        .collect();
    leaders.iter().enumerate().find_map(|(i, (a, e))| {
        let (b, _) = leaders[i + 1..].iter().find(|(_, f)| f == e)?;
        Some((*a, *b, *e))
    })
}

/// What a server's database was built from: the zxid of its last snapshot (zero without one),
/// and the zxids of the txns it logged after it, in order, up to what it applied. The log
/// before a snapshot says nothing: a server synced by SNAP never logged those txns.
fn lineage(s: &ServerNode) -> (Zxid, Vec<Zxid>) {
    let disk = s.disk();
    let from = disk
        .snapshot
        .as_ref()
        .map_or(Zxid(0), |db| db.last_processed_zxid());
    let last = s.peer().database().last_processed_zxid();
    let logged = disk
        .log
        .iter()
        .map(|t| t.zxid)
        .filter(|z| *z > from && *z <= last)
        .collect();
    (from, logged)
}

/// Whether two lineages agree where both say something: past the later of the two snapshots,
/// one list of txns is a prefix of the other, and the later snapshot's zxid is one the other
/// server logged (if its log reaches that far).
fn lineages_agree(a: &(Zxid, Vec<Zxid>), b: &(Zxid, Vec<Zxid>)) -> bool {
    let ((early_from, early), (late_from, late)) = if a.0 <= b.0 { (a, b) } else { (b, a) };
    let reaches = early.last().is_some_and(|z| z >= late_from);
    if *late_from > *early_from && reaches && !early.contains(late_from) {
        return false;
    }
    let early: Vec<_> = early.iter().filter(|z| *z > late_from).collect();
    let n = early.len().min(late.len());
    early[..n].iter().zip(&late[..n]).all(|(x, y)| *x == y)
}

/// Two serving servers whose txns (since their snapshots) are not one a prefix of the other's.
pub fn prefixes_disagree(servers: &[(&ServerNode, bool)]) -> Option<(Sid, Sid)> {
    let serving: Vec<_> = servers
        .iter()
        .filter(|(s, up)| *up && s.peer().is_serving())
        .map(|(s, _)| (s.peer().sid(), lineage(s)))
        .collect();
    serving.iter().enumerate().find_map(|(i, (a, la))| {
        serving[i + 1..]
            .iter()
            .find_map(|(b, lb)| (!lineages_agree(la, lb)).then_some((*a, *b)))
    })
}

/// A create the client was told succeeded, missing from an established leader of a later
/// epoch: `(leader, path)`.
pub fn acknowledged_write_lost(
    servers: &[(&ServerNode, bool)],
    clients: &[&ClientNode],
) -> Option<(Sid, String)> {
    let acked = clients
        .iter()
        .flat_map(|c| acknowledged_creates(c.history()));
    for (path, zxid) in acked {
        for (s, up) in servers {
            let peer = s.peer();
            let later_leader = *up
                && peer.state() == ServerState::Leading
                && peer.is_serving()
                && peer.epochs().current > zxid.epoch();
            let kept = peer
                .database()
                .tree
                .node(&path)
                .is_some_and(|n| n.stat.czxid == zxid);
            if later_leader && !kept {
                return Some((peer.sid(), path));
            }
        }
    }
    None
}

/// Every create answered with success: its path and the zxid of its txn.
fn acknowledged_creates(history: &[HistoryEvent]) -> Vec<(String, Zxid)> {
    let mut out = Vec::new();
    for event in history {
        if let HistoryEvent::Complete {
            id,
            outcome: Answer::Ok { zxid, .. },
            ..
        } = event
        {
            if let Some(ClientOp::Create { path, .. }) = invoked(history, *id) {
                out.push((path.clone(), *zxid));
            }
        }
    }
    out
}

fn invoked(history: &[HistoryEvent], id: u64) -> Option<&ClientOp> {
    history.iter().find_map(|e| match e {
        HistoryEvent::Invoke { id: i, op, .. } if *i == id => Some(op),
        _ => None,
    })
}

// ANCHOR: linearizable
/// Whether the client's creates and their answers are a history of a write-once register:
/// each create is an operation of its own (a create whose connection broke may or may not
/// have happened, and stays open forever), in the order the client saw them.
pub fn linearizable(client: &ClientNode) -> bool {
    let mut tester = LinearizabilityTester::new(WORegister::<String>(None));
    for event in client.history() {
        let ok = match event {
            HistoryEvent::Invoke {
                id,
                op: ClientOp::Create { data, .. },
                ..
            } => tester
                .on_invoke(*id, WORegisterOp::Write(data.clone()))
                .is_ok(),
            HistoryEvent::Complete { id, outcome, .. } => match outcome {
                Answer::Ok { .. } => tester.on_return(*id, WORegisterRet::WriteOk).is_ok(),
                Answer::Err { code, .. } if *code == ZkError::NodeExists.code() => {
                    tester.on_return(*id, WORegisterRet::WriteFail).is_ok()
                }
                // No answer, or one that says nothing of the node: it may have happened.
                Answer::Err { .. } | Answer::Lost => true,
            },
            _ => true,
        };
        if !ok {
            return false;
        }
    }
    tester.is_consistent()
}
// ANCHOR_END: linearizable
// ANCHOR_END: properties

/// The client has been told its first create succeeded.
fn a_write_committed(s: &ZabState) -> bool {
    clients(s).any(|c| !acknowledged_creates(c.history()).is_empty())
}

// ANCHOR: focus
/// How much likelier the walks make a crash than the other actions: a lost write needs one at
/// one moment of a long path, and a crash drawn as often as anything else comes too early.
pub const CRASH_FOCUS: f64 = 50.0;

/// Where the walks ([`checker::walk_focused`]) look hardest: a server crashes
/// [`CRASH_FOCUS`] times likelier than the walk's own weight says while it has promised
/// something its disk may not hold yet — its ACK is on its way — or when c1 was just told a
/// write succeeded; anywhere else as many times less likely, never impossible. A client never
/// crashes (the bounds say so: the walk need not draw it).
pub fn focus(s: &ZabState, action: &Action<Node>) -> f64 {
    let ActorModelAction::Crash(id) = action else {
        return 1.0;
    };
    let Some(server) = s.actor_states[usize::from(*id)].server() else {
        return 0.0;
    };
    let sid = server.id();
    let acking = in_flight(s).any(|(src, msg)| {
        matches!(
            msg,
            Wire::Zab {
                msg: Message::Ack(_),
                ..
            }
        ) && s.actor_states[checker::sender(src, s.actor_states.len())]
            .server()
            .map(ServerNode::id)
            == Some(sid)
    });
    let just_answered = clients(s).any(|c| {
        matches!(
            c.history().last(),
            Some(HistoryEvent::Complete {
                outcome: Answer::Ok { .. },
                ..
            })
        )
    });
    if acking || just_answered {
        CRASH_FOCUS
    } else {
        1.0 / CRASH_FOCUS
    }
}
// ANCHOR_END: focus

/// Every message in flight, with its sender as the network lists it (a node's second
/// connection is listed past the last node: [`checker::sender`] names the node). (stateright's
/// `iter_all` never gets past the second message of an ordered link: it does not advance
/// within one.)
fn in_flight(s: &ZabState) -> Box<dyn Iterator<Item = (Id, &Wire)> + '_> {
    match &s.network {
        Network::Ordered(links) => Box::new(
            links
                .iter()
                .flat_map(|((src, _), queue)| queue.iter().map(move |msg| (*src, msg))),
        ),
        other => Box::new(other.iter_deliverable().map(|e| (e.src, e.msg))),
    }
}

/// Timers the model leaves out (see the module doc).
fn left_out(timer: &SimTimer) -> bool {
    matches!(timer, SimTimer::Peer(PeerTimer::LeaderTick))
}

// ANCHOR: client_tick
/// Whether `action` is a client's keep-alive tick while its server could still answer it:
/// the server is up, and has an end of the connection or has something of it on its way
/// there. Such a tick only sends one more PING, so the states would never end, and the model
/// leaves it out, whatever the fault model. A tick while the server cannot answer (down, or
/// restarted since, with no end of the connection: a real one's sockets died with it) is
/// what the client's read timeout is for: after two of them it gives up on the server and
/// moves on to the next, as the Java client does.
pub fn answerable_client_tick(s: &ZabState, action: &Action<Node>) -> bool {
    let ActorModelAction::Timeout(id, SimTimer::ClientPing) = action else {
        return false;
    };
    let Some(client) = s.actor_states[usize::from(*id)].client() else {
        return false;
    };
    let Some((server, n)) = client.connection() else {
        return false;
    };
    let Some((node, up)) = servers(s)
        .into_iter()
        .find(|(node, _)| node.peer().sid() == server)
    else {
        return false;
    };
    let nodes = s.actor_states.len();
    up && (node.knows_client_connection(client.id(), n)
        || in_flight(s).any(|(src, msg)| {
            checker::sender(src, nodes) == usize::from(*id)
                && matches!(msg, Wire::ToServer { conn, .. } if *conn == n)
        }))
}
// ANCHOR_END: client_tick

// ANCHOR: suspicion
/// Whether `action` in `s` is a **false suspicion**: a follower's read timeout (`LeaderSilent`)
/// while the leader it follows is up and leads with its connection open, or a leader's
/// `initLimit` while a quorum (itself included) of up servers follow it on connections it
/// holds. Without [`Bounds::false_suspicions`] these never happen, and every other firing of
/// those timers still may: after its leader crashed, restarted, or dropped the connection, a
/// follower gives up on it whenever the checker likes, and so does one still connecting.
pub fn false_suspicion(s: &ZabState, action: &Action<Node>) -> bool {
    let ActorModelAction::Timeout(id, SimTimer::Peer(timer)) = action else {
        return false;
    };
    let Some(me) = s.actor_states[usize::from(*id)]
        .server()
        .map(ServerNode::peer)
    else {
        return false;
    };
    let all = servers(s);
    let answers = |leader: Sid, link| {
        all.iter()
            .any(|(n, up)| *up && n.peer().sid() == leader && n.peer().leads_on(link))
    };
    match timer {
        PeerTimer::LeaderSilent => me
            .leader()
            .zip(me.leader_link())
            .is_some_and(|(leader, link)| answers(leader, link)),
        PeerTimer::InitLimit => {
            let followers = all
                .iter()
                .filter(|(n, up)| {
                    *up && n.peer().leader_link().is_some_and(|link| me.leads_on(link))
                })
                .count();
            2 * (followers + 1) > all.len()
        }
        _ => false,
    }
}
// ANCHOR_END: suspicion

// ANCHOR: fault_rule
/// The fault model, one rule for every [`Bounds`]: a client's tick its server could answer
/// never happens; a false suspicion only with `SUSPICIONS`; a restart as `RESTARTS` says
/// ([`Restarts`] as a number: 0 never, 1 any time, 2 after a failover, 3 a leader's at any
/// time). (The checker takes a plain function, so the bounds it reads are type parameters.)
fn allowed<const SUSPICIONS: bool, const RESTARTS: u8>(
    s: &ZabState,
    action: &Action<Node>,
) -> bool {
    !answerable_client_tick(s, action)
        && (SUSPICIONS || !false_suspicion(s, action))
        && match RESTARTS {
            0 => !is_restart(action),
            1 => true,
            2 => !restart_before_failover(s, action),
            _ => !restart_of_a_follower(s, action),
        }
}
// ANCHOR_END: fault_rule

/// Whether `action` restarts a crashed server, which a crash-stop model
/// ([`Restarts::Never`]) leaves out.
fn is_restart(action: &Action<Node>) -> bool {
    matches!(action, ActorModelAction::Recover(_))
}

// ANCHOR: failover
/// Whether `action` restarts a server before the others have failed over: a new leader in
/// an epoch newer than the crashed server's, and every server that is up serving. Only a
/// leader's crash leads to one, so a crashed follower never restarts under
/// [`Restarts::AfterFailover`].
fn restart_before_failover(s: &ZabState, action: &Action<Node>) -> bool {
    let ActorModelAction::Recover(id) = action else {
        return false;
    };
    let Some(down) = s.actor_states[usize::from(*id)].server() else {
        return false;
    };
    let epoch = down.peer().epochs().current;
    let up: Vec<&ServerNode> = (servers(s).into_iter())
        .filter_map(|(n, up)| up.then_some(n))
        .collect();
    let failed_over = up.iter().all(|n| n.peer().is_serving())
        && up
            .iter()
            .any(|n| n.peer().state() == ServerState::Leading && n.peer().epochs().current > epoch);
    !failed_over
}
// ANCHOR_END: failover

/// Whether `action` restarts a server that was not leading when it crashed (a crashed
/// server's state is the one it crashed in), which [`Restarts::LeaderAnytime`] leaves out.
fn restart_of_a_follower(s: &ZabState, action: &Action<Node>) -> bool {
    let ActorModelAction::Recover(id) = action else {
        return false;
    };
    s.actor_states[usize::from(*id)]
        .server()
        .is_some_and(|down| down.peer().state() != ServerState::Leading)
}

// ANCHOR: links
/// The links: each a TCP connection, in order. With the in-flight bound, the election port's
/// connection is behind the send queue of one that upstream's `QuorumCnxManager` and
/// chapter 5's `cnx` keep per peer: a vote that would be one too many on its link (to a
/// server down or slow) takes the place of the one still waiting there. That is the bound:
/// the link never holds more. Without it every vote goes on the socket.
pub fn links(bounds: Bounds) -> Links {
    match bounds.in_flight {
        Some(waiting) => Links::FifoFirstQueued { waiting },
        None => Links::Fifo,
    }
}
// ANCHOR_END: links

// ANCHOR: model
/// The model: the chapter's own nodes, the properties of the module doc, bounded.
pub fn model(flaw: Option<Flaw>, bounds: Bounds) -> ZabModel {
    let down_at_once = usize::from(bounds.crashes > 0);
    let model = checker::model_with_crashes(
        bounds,
        nodes(flaw).into_iter().map(Fingerprinted::new).collect(),
        links(bounds),
        recover,
        down_at_once,
    );
    let model = checker::without_timers(model, left_out);
    let allowed: checker::Allowed<Checked> = match (bounds.false_suspicions, bounds.restarts) {
        (true, Restarts::Never) => allowed::<true, 0>,
        (false, Restarts::Never) => allowed::<false, 0>,
        (true, Restarts::Anytime) => allowed::<true, 1>,
        (false, Restarts::Anytime) => allowed::<false, 1>,
        (true, Restarts::AfterFailover) => allowed::<true, 2>,
        (false, Restarts::AfterFailover) => allowed::<false, 2>,
        (true, Restarts::LeaderAnytime) => allowed::<true, 3>,
        (false, Restarts::LeaderAnytime) => allowed::<false, 3>,
    };
    checker::with_fault_model(model, allowed)
        .property(
            Expectation::Always,
            "one established leader per epoch",
            |_, s: &ZabState| two_leaders_in_an_epoch(&servers(s)).is_none(),
        )
        .property(
            Expectation::Always,
            "committed prefixes agree",
            |_, s: &ZabState| prefixes_disagree(&servers(s)).is_none(),
        )
        .property(
            Expectation::Always,
            "no acknowledged write lost",
            |_, s: &ZabState| {
                let clients: Vec<_> = clients(s).collect();
                acknowledged_write_lost(&servers(s), &clients).is_none()
            },
        )
        .property(Expectation::Always, "linearizable", |_, s: &ZabState| {
            clients(s).all(linearizable)
        })
        .property(
            Expectation::Sometimes,
            "a write is committed",
            |_, s: &ZabState| a_write_committed(s),
        )
        .within_boundary(|bounds: &Bounds, s: &ZabState| within(bounds, s))
}
// ANCHOR_END: model

// ANCHOR: within
/// The bounds: epochs and rounds, crashes of servers (clients do not crash), the client's
/// connections, and (if limited) each server's connections to a leader in one life. A state
/// past them is not explored, and its properties are not checked.
fn within(bounds: &Bounds, s: &ZabState) -> bool {
    // The votes in flight need no check here: behind their send queue ([`links`]) no
    // election connection ever holds more than `--in-flight` of them. Zab packets and client
    // frames are sent only as the protocol moves on, so they need no bound of their own.
    let mut crashes = 0;
    for (node, down) in s.actor_states.iter().zip(&s.crashed) {
        match node.server() {
            None if *down => return false,
            None => {
                let opened = node.client().map_or(0, ClientNode::connections_opened);
                if opened > bounds.connections {
                    return false;
                }
            }
            Some(server) => {
                let peer = server.peer();
                if peer.epochs().accepted.0 > bounds.epochs
                    || peer.logical_clock() > bounds.rounds
                    || bounds
                        .learner_connections
                        .is_some_and(|most| server.connections_opened() > most)
                {
                    return false;
                }
                crashes += server.crashes() + u64::from(*down);
            }
        }
    }
    crashes <= bounds.crashes
}
// ANCHOR_END: within

// ANCHOR: start
/// The walk to where the search starts: messages first, in the checker's order, then fsyncs,
/// the ends of `finalizeWait`, connection retries, notification resends, and the client's
/// first step (its connect) only once every server serves.
/// It ends when n1, n2 and n3 serve, the client holds a session, and nothing is in flight.
pub fn start(model: &ZabModel) -> Result<Vec<Action<Node>>, String> {
    let serving = |s: &ZabState| {
        servers(s)
            .iter()
            .all(|(s, up)| *up && s.peer().is_serving())
    };
    let pick = |s: &ZabState, a: &Action<Node>| match a {
        ActorModelAction::Deliver { .. } => Some(0),
        ActorModelAction::Timeout(_, SimTimer::Fsync) => Some(1),
        ActorModelAction::Timeout(_, SimTimer::Peer(PeerTimer::Election(t))) => {
            Some(if *t == ElectionTimer::FinalizeWait {
                2
            } else {
                4
            })
        }
        ActorModelAction::Timeout(_, SimTimer::Peer(PeerTimer::ConnectRetry)) => Some(3),
        ActorModelAction::Timeout(_, SimTimer::ClientStep) => {
            (serving(s) && s.network.len() == 0 && clients(s).all(|c| c.session().is_none()))
                .then_some(5)
        }
        _ => None,
    };
    let goal = |s: &ZabState| {
        serving(s)
            && s.network.len() == 0
            && clients(s).all(|c| c.session().is_some())
            && s.timers_set
                .iter()
                .all(|t| t.iter().all(|t| *t != SimTimer::Fsync))
    };
    checker::walk(model, pick, goal, 500)
}
// ANCHOR_END: start

/// The state the search starts from: where [`start`]'s walk leads.
pub fn start_state(model: &ZabModel) -> Result<ZabState, String> {
    let prefix = start(model)?;
    let first = checker::init_states(model).remove(0);
    Ok(prefix.into_iter().fold(first, |s, a| {
        checker::next_state(model, &s, a).expect("the walk is a path")
    }))
}

/// The simulator's run of the checked ensemble, with its replay command (its nodes never see
/// the clock, as under the checker).
pub fn simulation(flaw: Option<Flaw>) -> Sim<Node> {
    with_flaw(flaw).sim(1).replay_command(replay_command(flaw))
}

/// The command that replays a counterexample file.
pub fn replay_command(flaw: Option<Flaw>) -> String {
    let flaw = match flaw {
        None => "",
        Some(Flaw::LogSyncAfterUpToDate) => " --flaw log-sync-after-up-to-date",
        Some(Flaw::AckBeforeFsync) => " --flaw ack-before-fsync",
    };
    format!("cargo run -p ch06-zab -- --trace --scenario checked{flaw}")
}

/// A finished check of Zab.
pub type Outcome = checker::Outcome<Node>;

/// Serve the explorer for the model on 127.0.0.1:`port`, from the state after the first
/// election (see [`checker::explore`]).
pub fn explore(flaw: Option<Flaw>, bounds: Bounds, port: u16) -> std::process::ExitCode {
    let model = model(flaw, bounds);
    match start(&model) {
        Ok(prefix) => checker::explore(model, prefix, port),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Search the model as `search` says (a depth limit counts past the start); a counterexample
/// becomes a scenario file whose replay command names `file`. With `progress`, a line on
/// standard error that often.
pub fn run(
    flaw: Option<Flaw>,
    bounds: Bounds,
    search: impl Into<checker::Search>,
    file: &str,
    progress: Option<Duration>,
) -> Result<Outcome, String> {
    run_from(flaw, bounds, None, search, file, progress)
}

/// [`run`], from where a scenario file's `steps` lead if there are any (a replay a few steps
/// short of a counterexample's loss, say: every order from there), else from the walked
/// election.
pub fn run_from(
    flaw: Option<Flaw>,
    bounds: Bounds,
    steps: Option<&[Choice]>,
    search: impl Into<checker::Search>,
    file: &str,
    progress: Option<Duration>,
) -> Result<Outcome, String> {
    let model = model(flaw, bounds);
    let (prefix, start) = match steps {
        None => {
            let prefix = start(&model)?;
            let text = format!(
                "the state after the first election ({} steps: n3 leads epoch 1, c1 has a \
                 session)",
                prefix.len()
            );
            (prefix, text)
        }
        Some(steps) => {
            let prefix = checker::path_of(&model, simulation(flaw), steps)
                .map_err(|e| format!("the scenario file is no path of the model: {e}"))?;
            let text = format!(
                "where the scenario file's steps lead ({} moves)",
                prefix.len()
            );
            (prefix, text)
        }
    };
    let search = search.into();
    let report = checker::search_focused(model, prefix, search, progress, Some(focus)).unwrapped();
    let flaw_text = flaw.map(|f| format!(", flaw {f:?}")).unwrap_or_default();
    let crashes = match (bounds.crashes, bounds.restarts) {
        (0, _) | (_, Restarts::Anytime) => checker::crashes_text(bounds.crashes),
        (_, Restarts::AfterFailover) => format!(
            "{}, a leader restarting only after the others' failover, a follower never",
            checker::crashes_text(bounds.crashes)
        ),
        (_, Restarts::LeaderAnytime) => format!(
            "{}, a leader restarting at any moment, a follower never",
            checker::crashes_text(bounds.crashes)
        ),
        // One down at a time, and a crash for good is down for good: one crash at most.
        (_, Restarts::Never) => "; one server may crash, for good (no restarts)".into(),
    };
    let in_flight = match bounds.in_flight {
        None => String::new(),
        Some(1) => ", one vote in flight on each election connection at most (a newer one \
                    takes the place of one waiting to be sent)"
            .into(),
        Some(n) => format!(
            ", {n} votes in flight on each election connection at most (a newer one takes \
             the place of one waiting to be sent)"
        ),
    };
    let learners = match bounds.learner_connections {
        None => String::new(),
        Some(n) => format!(", each server's connections to a leader up to {n} in one life"),
    };
    let suspicions = match bounds.false_suspicions {
        true => "; a server may give up on one that still answers it",
        false => "; no false suspicions (no server gives up on one that answers it)",
    };
    let about = format!(
        "model checking Zab: 3 servers, c1 creates {PATH} twice through n1{flaw_text}; epochs up \
         to {}, rounds up to {}, c1's connections up to {}{learners}; links in order (one per \
         connection), late or never{in_flight}{crashes}{suspicions}; leader ticks left out, \
         c1's pings too while its server could answer them; explored from {start}",
        bounds.epochs, bounds.rounds, bounds.connections
    );
    Outcome::of(report, about, || simulation(flaw), file)
}

// ANCHOR: printed
/// What a value prints, which is every field it has, maps in a fixed order. Two nodes that
/// print the same are equal, and the messages the checker may deliver are listed in the order
/// they print, so that a state offers its actions in the same order every time (a walk's seed
/// replays it). Telling states apart, which the checker does for every step, is `Hash`'s job:
/// derived all the way down the server, and written by hand only where a type keeps a hash
/// table, to hash what it prints (the znode tree, a snapshot's ACL numbers).
fn printed(x: &impl Debug) -> String {
    format!("{x:?}")
}

impl PartialEq for Node {
    fn eq(&self, other: &Node) -> bool {
        printed(self) == printed(other)
    }
}

impl Eq for Node {}

/// By hand, not derived, as `PartialEq` is: the node inside, by its derived `Hash`.
impl Hash for Node {
    fn hash<H: Hasher>(&self, h: &mut H) {
        match self {
            Node::Server(server) => (0u8, server).hash(h),
            Node::Client(client) => (1u8, client).hash(h),
        }
    }
}

impl Eq for Wire {}

/// Messages in a fixed order, as the checker lists what it may deliver.
impl Ord for Wire {
    fn cmp(&self, other: &Wire) -> Ordering {
        printed(self).cmp(&printed(other))
    }
}

impl PartialOrd for Wire {
    fn partial_cmp(&self, other: &Wire) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

// ANCHOR_END: printed
