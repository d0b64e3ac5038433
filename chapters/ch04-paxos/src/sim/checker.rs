//! Model checking: every interleaving of a small cluster, where a seed sweep tries some.
//!
//! A seeded run is one order of events out of astronomically many; ten thousand seeds are ten
//! thousand orders, chosen by chance. A model checker instead treats "which pending thing
//! happens next" as a branch and follows **every** branch, remembering the states it has seen
//! so that each is explored once. For a small cluster (a handful of nodes, a bounded number of
//! rounds) that is a finite graph, and walking all of it either proves a property holds in every
//! reachable state or ends with the shortest path to one where it fails.
//!
//! The checker here is [stateright]'s, and the nodes it checks are the chapter's own: a
//! [`Process`] runs under it unchanged, through [`NodeActor`], which feeds `step` the same
//! [`Input`]s the simulator does and turns its [`Output`]s into the checker's sends and timers.
//! Nothing is re-written as a model, so what is checked is the code the simulator runs.
//!
//! # The network the checker explores
//!
//! [`Links`] says what the network may do with a message: deliver it once, in any order
//! ([`Links::Once`]); any number of times ([`Links::Duplicating`]); or once and in order between
//! each connection, as TCP does ([`Links::Fifo`]). In every case the checker may deliver any
//! deliverable message next, or fire any armed timer, and a message it never delivers is a lost
//! one, so for a property of the nodes' states an explicit "drop" branch adds no state worth
//! seeing. Timers fire whenever the checker likes: time is not modelled, so no timing assumption
//! hides a bug. Nodes may also crash and restart at any moment ([`model_with_crashes`]): a
//! restarted node starts from what the chapter's recover hook keeps.
//!
//! **A link is one connection, one way.** On ordered links, a link is the messages one node
//! sent another on one connection ([`Process::connection`]), in the order sent: two nodes with
//! two ports have a link per port, and a connection opened after another closed has a link of
//! its own, so nothing new waits behind an old connection's packets (or its close), as with
//! TCP. A crash takes every message in flight to the node on a connection that dies with it
//! ([`Process::lost_at_crash`]), and such a message sent while the node is down goes nowhere;
//! what the node itself sent is already on the wire and stays.
//!
//! # From a path back to the simulator
//!
//! A counterexample is a list of the checker's actions: deliver this message from n1 to n3,
//! fire n2's retry timer. [`choices`] replays it in a [`Sim`] of the same nodes, naming each
//! action by its place in the simulator's pending list, exactly as `--step` does, so the path
//! becomes a scenario file ([`counterexample_script`]) that `--scenario-file` replays, traced
//! and drawn. A message delivered twice is `duplicate k` before its first `deliver`.
//!
//! # For the next chapters
//! Any [`Process`] that is also [`Checkable`] (comparable, hashable, its messages and timers
//! ordered) runs under [`model`]. A chapter adds its own properties and boundary to the
//! [`ActorModel`], and [`check`] runs it, breadth first, through [`Explored`]. A node that
//! reads the simulator's clock (`set_clock`) is never told the time here: the checker has none.

use std::borrow::Cow;
use std::collections::{BTreeMap, VecDeque};
use std::fmt::{self, Debug};
use std::hash::{Hash, Hasher};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use std::sync::atomic::{AtomicBool, Ordering};

use stateright::actor::{
    model_timeout, Actor, ActorModel, ActorModelAction, ActorModelState, Id, LossyNetwork, Network,
    Out,
};
use stateright::{Checker, Expectation, HasDiscoveries, Model, Property};

use super::engine::{ChoiceError, Due};
use super::scenario::{Choice, Scenario};
use super::stepper::{Lesson, Stepper};
pub use super::walks::{walk_focused, walk_randomly, Focus, Walks};
use super::{EntryOf, Input, NodeId, Output, OutputOf, Process, Sim};

/// A process a model checker can run: a [`Process`] whose state can be compared and hashed
/// (to recognise a state seen before), whose messages and timers are ordered (stateright lists
/// a state's next actions in a fixed order, so its paths can be replayed).
pub trait Checkable:
    Process<Msg: Ord + Hash + Send + Sync, Timer: Ord + Hash + Send + Sync>
    + Clone
    + Debug
    + PartialEq
    + Hash
    + Send
    + Sync
    + 'static
{
}

impl<P> Checkable for P where
    P: Process<Msg: Ord + Hash + Send + Sync, Timer: Ord + Hash + Send + Sync>
        + Clone
        + Debug
        + PartialEq
        + Hash
        + Send
        + Sync
        + 'static
{
}

// ANCHOR: adapter
/// A chapter's node as a stateright actor: its state is the node itself, and every handler is
/// one call of the node's own `step`.
#[derive(Clone)]
pub struct NodeActor<P: Process> {
    /// The node as it is before `Input::Start`.
    node: P,
    /// Every node's id, in the model's order: stateright names actors by their place.
    ids: Vec<NodeId>,
    /// The chapter's recover hook (what a crash leaves of a node), if nodes may crash.
    recover: Option<fn(&P) -> P>,
    /// Timers the model leaves out (never armed, so never fired), if any.
    unarmed: Option<fn(&P::Timer) -> bool>,
    /// The chapter's fault model, if it has one: which of a state's actions may happen there
    /// ([`with_fault_model`]). An [`Allowed`], kept as `Any` because its type names the
    /// model's state, which only a [`Checkable`] node has (this struct takes any process).
    allowed: Option<std::sync::Arc<dyn std::any::Any + Send + Sync>>,
    /// The network's rule, which [`next_state`] applies after each step.
    links: Links,
}

impl<P: Checkable> Actor for NodeActor<P> {
    type Msg = P::Msg;
    type Timer = P::Timer;
    type State = P;
    /// The node as it last changed: a restart starts from what the recover hook leaves of it.
    type Storage = P;
    type Random = ();

    fn on_start(&self, _id: Id, storage: &Option<P>, o: &mut Out<Self>) -> P {
        let mut node = match (storage, self.recover) {
            (Some(last), Some(recover)) => recover(last),
            _ => self.node.clone(),
        };
        let outputs = node.step(Input::Start);
        self.save(&node, o);
        self.forward(outputs, o);
        node
    }

    fn on_msg(&self, _id: Id, node: &mut Cow<P>, src: Id, msg: P::Msg, o: &mut Out<Self>) {
        let from = self.ids[sender(src, self.ids.len())];
        self.feed(node, Input::Receive { from, msg }, o);
    }

    fn on_timeout(&self, _id: Id, node: &mut Cow<P>, timer: &P::Timer, o: &mut Out<Self>) {
        self.feed(node, Input::Timeout(timer.clone()), o);
    }
}

impl<P: Checkable> NodeActor<P> {
    /// Step a copy of the node; keep it only if it changed, so that stateright can tell an
    /// input that did nothing (and not explore it as a new state).
    fn feed(&self, node: &mut Cow<P>, input: Input<P::Msg, P::Timer>, o: &mut Out<Self>) {
        let mut next = (**node).clone();
        let outputs = next.step(input);
        if next != **node {
            self.save(&next, o);
            *node = Cow::Owned(next);
        }
        self.forward(outputs, o);
    }

    /// Stateright only lets a node keep what it saved, so a node that may crash saves itself
    /// each time it changes, and the recover hook runs at the restart, on the node as it was at
    /// the crash (the simulator calls it at the crash: the same node). Saving the node, not
    /// what the hook leaves of it, costs no hook per step, and a [`Fingerprinted`] node's copy
    /// is hashed by the number it carries.
    fn save(&self, node: &P, o: &mut Out<Self>) {
        if self.recover.is_some() {
            o.save(node.clone());
        }
    }

    /// The node's outputs as the checker's commands. A timer's delay means nothing to a checker
    /// that fires timers whenever it likes; a note is for a trace, which a replay shows.
    fn forward(&self, outputs: Vec<OutputOf<P>>, o: &mut Out<Self>) {
        for output in outputs {
            match output {
                Output::Send { to, msg } => o.send(self.actor_id(to), msg),
                Output::SetTimer { timer, .. } | Output::SetRandomTimer { timer, .. }
                    if self.unarmed.is_some_and(|left_out| left_out(&timer)) => {}
                Output::SetTimer { timer, .. } | Output::SetRandomTimer { timer, .. } => {
                    o.set_timer(timer, model_timeout())
                }
                Output::CancelTimer(timer) => o.cancel_timer(timer),
                Output::Note(_) => {}
            }
        }
    }

    fn actor_id(&self, node: NodeId) -> Id {
        Id::from(
            self.ids.iter().position(|n| *n == node).expect("a message to a node in the model"),
        )
    }
}
// ANCHOR_END: adapter

/// The node (its place in the model) that sent a message the network lists as from `src`,
/// in a model of `nodes` nodes. On ordered links a node's second connection to another is a
/// link of its own, which the network lists as from a sender past the last node
/// (`separate_connections`).
pub fn sender(src: Id, nodes: usize) -> usize {
    usize::from(src) % nodes
}

/// The connection ([`Process::connection`]) of the link the network lists as from `src`, in
/// a model of `nodes` nodes (`separate_connections`).
pub fn connection_of(src: Id, nodes: usize) -> usize {
    usize::from(src) / nodes
}

// ANCHOR: connections
/// Puts every message of `network` that a node sent on its connection `c > 0` to another
/// ([`Process::connection`]) on a link of its own, listed as from sender `src + c × nodes`:
/// stateright keeps one ordered queue per pair of nodes, where TCP keeps one per connection,
/// and two connections between the same nodes wait for each other in nothing. A new message
/// is at the end of its pair's queue, so moving the messages in order keeps each connection's
/// order. Called after every step (the start included), so the queues of pairs hold only
/// messages of their first connection; an emptied queue goes, as stateright's own do.
fn separate_connections<P: Process<Msg: Eq + Hash>>(network: &mut Network<P::Msg>, nodes: usize) {
    let Network::Ordered(links) = network else {
        return;
    };
    let pairs: Vec<(Id, Id)> =
        links.keys().copied().filter(|(src, _)| usize::from(*src) < nodes).collect();
    for (src, dst) in pairs {
        let queue = links.get_mut(&(src, dst)).expect("a listed pair");
        if queue.iter().all(|m| P::connection(m) == 0) {
            continue;
        }
        let (first, others): (VecDeque<_>, VecDeque<_>) =
            std::mem::take(queue).into_iter().partition(|m| P::connection(m) == 0);
        if first.is_empty() {
            links.remove(&(src, dst));
        } else {
            *queue = first;
        }
        for msg in others {
            let on = Id::from(usize::from(src) + P::connection(&msg) * nodes);
            links.entry((on, dst)).or_default().push_back(msg);
        }
    }
}
// ANCHOR_END: connections

// ANCHOR: crash_loses
/// Takes out of `network` every message in flight to `crashed` that dies with it
/// ([`Process::lost_at_crash`]): its sockets close with it, what was on its way to them is
/// gone, what is sent to them while it is down goes nowhere, and its restart opens new
/// connections that none of it can arrive on. Without this the checker would let an old
/// connection's packet reach the restarted node, which TCP never does, and every such packet
/// left in the network multiplies the states after a crash. Called after every step, for
/// every node that is down.
fn lose_what_dies_with<P: Process<Msg: Eq + Hash>>(network: &mut Network<P::Msg>, crashed: Id) {
    match network {
        Network::Ordered(links) => {
            for ((_, dst), queue) in links.iter_mut() {
                if *dst == crashed {
                    queue.retain(|m| !P::lost_at_crash(m));
                }
            }
            // An emptied queue goes, as stateright's own do.
            links.retain(|_, queue| !queue.is_empty());
        }
        Network::UnorderedNonDuplicating(sent) => {
            sent.retain(|e, _| e.dst != crashed || !P::lost_at_crash(&e.msg))
        }
        Network::UnorderedDuplicating(sent, _) => {
            sent.retain(|e| e.dst != crashed || !P::lost_at_crash(&e.msg))
        }
    }
}
// ANCHOR_END: crash_loses

// ANCHOR: ends_nothing
/// Takes out of the network every message its (up) receiver says ends nothing
/// ([`Process::ends_nothing`]) and that nothing is ahead of on its link: delivered, it would
/// only leave the network. One with something ahead of it stays, as what is ahead may give
/// the receiver an end of its connection first: a learner's close behind its first packet,
/// which the leader has not read yet, is the end of a connection the leader will have.
fn drop_what_ends_nothing<P: Checkable>(state: &mut StateOf<P>) {
    let Network::Ordered(links) = &mut state.network else {
        return;
    };
    let nodes = &state.actor_states;
    let crashed = &state.crashed;
    for ((_, dst), queue) in links.iter_mut() {
        let to = usize::from(*dst);
        if !crashed[to] {
            while queue.front().is_some_and(|m| nodes[to].ends_nothing(m)) {
                queue.pop_front();
            }
        }
    }
    links.retain(|_, queue| !queue.is_empty());
}
// ANCHOR_END: ends_nothing

/// `model`'s start states, each message on its connection's link. A path through the model
/// is walked with these two, never with stateright's `init_states` and `next_state` alone.
pub fn init_states<P: Checkable, C>(model: &ActorModel<NodeActor<P>, C>) -> Vec<StateOf<P>> {
    let nodes = model.actors.len();
    let mut states = model.init_states();
    for state in &mut states {
        separate_connections::<P>(&mut state.network, nodes);
    }
    states
}

/// The state `action` leads to from `last` in `model` (`None`: it changes nothing), each
/// message on its connection's link, with the links' rule applied ([`Links::SendQueue`] drops
/// what a newer send replaced). Every search steps the model through this, never through
/// stateright's `next_state` alone.
pub fn next_state<P: Checkable, C>(
    model: &ActorModel<NodeActor<P>, C>,
    last: &StateOf<P>,
    action: Action<P>,
) -> Option<StateOf<P>> {
    let mut next = Model::next_state(model, last, action)?;
    separate_connections::<P>(&mut next.network, model.actors.len());
    let down = next.crashed.iter().enumerate().filter(|(_, down)| **down);
    for (id, _) in down {
        lose_what_dies_with::<P>(&mut next.network, Id::from(id));
    }
    drop_what_ends_nothing(&mut next);
    let links = links_of(model);
    if let Some(waiting) = links.waiting() {
        let nodes = model.actors.len();
        let queued = |src| links.queues(connection_of(src, nodes));
        keep_what_send_queues_keep(&mut next.network, waiting, queued);
    }
    Some(next)
}

/// The hasher for fingerprints: aHash with fixed keys, so that a run counts the same states
/// every time. std's SipHash spent a quarter of a Zab search; a fingerprint needs a good
/// 64-bit spread, not SipHash's resistance to keys chosen by an attacker.
static FINGERPRINT: ahash::RandomState = ahash::RandomState::with_seeds(
    0x243f_6a88_85a3_08d3,
    0x1319_8a2e_0370_7344,
    0xa409_3822_299f_31d0,
    0x082e_fa98_ec4e_6c89,
);

// ANCHOR: fingerprinted
/// A node that carries its own fingerprint, hashed once each time it changes. The checker
/// hashes a whole state (every node, what each would restart from, the messages) for every
/// state it reaches, though one step changes one node; a node that is costly to hash (a whole
/// server, its database included) is then hashed over and over unchanged. Wrapped, it is
/// hashed once per step that changes it, and the checker hashes the stored number.
///
/// Two wrapped nodes with one fingerprint are the same state, as stateright already takes two
/// states with one fingerprint to be one (a 64-bit hash: a collision would hide a state).
///
/// **Shared until it changes.** The node sits behind an [`Arc`]: stateright copies a whole
/// state for each step, what every node would restart from included (its `actor_storages`
/// are kept by value, not shared), so a server saved for its restart was copied, all of it,
/// into every state. Wrapped, a copy is a count, and a step copies the node it changes once
/// ([`Arc::make_mut`]), when it changes it.
///
/// [`Arc`]: std::sync::Arc
/// [`Arc::make_mut`]: std::sync::Arc::make_mut
#[derive(Clone)]
pub struct Fingerprinted<P> {
    node: std::sync::Arc<P>,
    fingerprint: u64,
}

impl<P: Hash> Fingerprinted<P> {
    /// `node`, hashed.
    pub fn new(node: P) -> Self {
        let mut wrapped = Fingerprinted { node: std::sync::Arc::new(node), fingerprint: 0 };
        wrapped.rehash();
        wrapped
    }

    fn rehash(&mut self) {
        self.fingerprint = FINGERPRINT.hash_one(&*self.node);
    }
}

impl<P> std::ops::Deref for Fingerprinted<P> {
    type Target = P;
    fn deref(&self) -> &P {
        &self.node
    }
}

impl<P> PartialEq for Fingerprinted<P> {
    fn eq(&self, other: &Self) -> bool {
        self.fingerprint == other.fingerprint
    }
}

impl<P> Eq for Fingerprinted<P> {}

impl<P> Hash for Fingerprinted<P> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        h.write_u64(self.fingerprint)
    }
}

impl<P: Debug> Debug for Fingerprinted<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.node.fmt(f)
    }
}

/// The node itself, copied if it is shared and re-hashed after each step.
impl<P: Process + Hash + Clone> Process for Fingerprinted<P> {
    type Msg = P::Msg;
    type Timer = P::Timer;
    type Note = P::Note;

    fn id(&self) -> NodeId {
        self.node.id()
    }

    fn step(&mut self, input: Input<P::Msg, P::Timer>) -> Vec<OutputOf<P>> {
        let outputs = std::sync::Arc::make_mut(&mut self.node).step(input);
        self.rehash();
        outputs
    }

    fn status(&self) -> String {
        self.node.status()
    }

    fn set_clock(&mut self, now: super::Millis) {
        std::sync::Arc::make_mut(&mut self.node).set_clock(now);
        self.rehash();
    }

    fn connection(msg: &P::Msg) -> usize {
        P::connection(msg)
    }

    fn lost_at_crash(msg: &P::Msg) -> bool {
        P::lost_at_crash(msg)
    }

    fn ends_nothing(&self, msg: &P::Msg) -> bool {
        self.node.ends_nothing(msg)
    }
}
// ANCHOR_END: fingerprinted

// ANCHOR: links
/// How the checked network treats a message. In all three a message may be delivered late,
/// after any other, or never (a lost message is one the path never delivers); they differ in
/// what else may happen to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Links {
    /// Delivered at most once per send, in any order.
    Once,
    /// Delivered any number of times, in any order: a message sent stays in flight for good.
    /// Every state then also records every message ever sent, which makes far more states.
    Duplicating,
    /// Delivered once, in the order sent between the same two nodes on the same connection
    /// (TCP's promise, which Zab relies on), in any order across different pairs and
    /// connections ([`Process::connection`]).
    Fifo,
    /// As [`Links::Fifo`], behind a sender that keeps one message waiting per peer, as
    /// ZooKeeper's `QuorumCnxManager` does (a send queue of capacity 1 that drops its oldest):
    /// at most `waiting` messages are on a link, the last of them still in the send queue,
    /// and a newer send to a full link takes that one's place. The others are already on the
    /// socket, which holds `waiting - 1` (a small socket buffer: a model of one real network,
    /// not of every one).
    SendQueue { waiting: usize },
    /// As [`Links::Fifo`], where each pair's first connection alone ([`Process::connection`]
    /// 0, chapter 6's election port) is behind a send queue as in [`Links::SendQueue`]: the
    /// other connections (a quorum port's, a client's) keep every message sent.
    FifoFirstQueued { waiting: usize },
}
// ANCHOR_END: links

impl Links {
    /// Whether messages on `connection` ([`Process::connection`]) wait behind a send queue,
    /// where a newer one may take the place of one not yet sent.
    pub fn queues(self, connection: usize) -> bool {
        match self {
            Links::SendQueue { .. } => true,
            Links::FifoFirstQueued { .. } => connection == 0,
            Links::Once | Links::Duplicating | Links::Fifo => false,
        }
    }

    /// How many messages a queued link holds at most, if any link is queued.
    pub fn waiting(self) -> Option<usize> {
        match self {
            Links::SendQueue { waiting } | Links::FifoFirstQueued { waiting } => Some(waiting),
            Links::Once | Links::Duplicating | Links::Fifo => None,
        }
    }
}

// ANCHOR: send_queue
/// Each link of `network` from a sender `queued` picks, as a sender with a send queue of one
/// leaves it: the first `waiting - 1` messages (already on the socket) and the newest (still
/// in the send queue), which took the place of any sent between them.
fn keep_what_send_queues_keep<M: Eq + Hash>(
    network: &mut Network<M>,
    waiting: usize,
    queued: impl Fn(Id) -> bool,
) {
    if let Network::Ordered(on_link) = network {
        for ((src, _), queue) in on_link.iter_mut() {
            if !queued(*src) {
                continue;
            }
            while queue.len() > waiting.max(1) {
                queue.remove(queue.len() - 2);
            }
        }
    }
}
// ANCHOR_END: send_queue

/// The checker's model of `nodes` (with the chapter's configuration `cfg`, which its properties
/// and boundary read): the nodes as [`NodeActor`]s on a network with `links`.
pub fn model<P: Checkable, C>(cfg: C, nodes: Vec<P>, links: Links) -> ActorModel<NodeActor<P>, C> {
    let ids: Vec<NodeId> = nodes.iter().map(Process::id).collect();
    let network = match links {
        Links::Once => Network::new_unordered_nonduplicating([]),
        Links::Duplicating => Network::new_unordered_duplicating([]),
        Links::Fifo | Links::SendQueue { .. } | Links::FifoFirstQueued { .. } => {
            Network::new_ordered([])
        }
    };
    ActorModel::new(cfg, ())
        .actors(nodes.into_iter().map(|node| NodeActor {
            node,
            ids: ids.clone(),
            recover: None,
            unarmed: None,
            allowed: None,
            links,
        }))
        .init_network(network)
        .lossy_network(LossyNetwork::No)
}

/// The same, where at most `crashes` nodes are down at once and a node may crash and restart at
/// any moment (any number of times): `recover` is the chapter's recover hook, as [`Sim::new`]
/// takes it. A message to a node that is down waits in the network (it may arrive after the
/// restart, as a late one would, or never), unless it travels on a connection that dies with
/// the node ([`Process::lost_at_crash`]): that one is gone at the crash, as is one sent on such
/// a connection while the node is down.
pub fn model_with_crashes<P: Checkable, C>(
    cfg: C,
    nodes: Vec<P>,
    links: Links,
    recover: fn(&P) -> P,
    crashes: usize,
) -> ActorModel<NodeActor<P>, C> {
    let mut model = model(cfg, nodes, links).max_crashes(crashes);
    // Without crashes nothing restarts: a node need not save itself.
    if crashes > 0 {
        for actor in &mut model.actors {
            actor.recover = Some(recover);
        }
    }
    model
}

/// The same model, where the timers `left_out` picks are never armed: a model may leave out a
/// timer whose only effect is one the checker need not see (a keep-alive whose every firing
/// sends one more packet, so that the states never end), and must say so.
pub fn without_timers<P: Checkable, C>(
    mut model: ActorModel<NodeActor<P>, C>,
    left_out: fn(&P::Timer) -> bool,
) -> ActorModel<NodeActor<P>, C> {
    for actor in &mut model.actors {
        actor.unarmed = Some(left_out);
    }
    model
}

// ANCHOR: fault_model
/// Whether an action may happen in a state: a chapter's fault model, where "whenever the
/// checker likes" is more than the faults it claims to cover (a timer that fires only when
/// what it waits for is really gone).
pub type Allowed<P> = fn(&StateOf<P>, &Action<P>) -> bool;

/// The same model, where only the actions `allowed` lets through may happen: a chapter bounds
/// its fault model this way, and says so, as it says its other bounds. Every search (breadth
/// first, the walks, the explorer) lists a state's actions through [`actions`].
pub fn with_fault_model<P: Checkable, C>(
    mut model: ActorModel<NodeActor<P>, C>,
    allowed: Allowed<P>,
) -> ActorModel<NodeActor<P>, C> {
    for actor in &mut model.actors {
        actor.allowed = Some(std::sync::Arc::new(allowed));
    }
    model
}

/// The actions that may happen in `state`: stateright's, less those the model's fault model
/// does not allow there.
pub fn actions<P: Checkable, C>(
    model: &ActorModel<NodeActor<P>, C>,
    state: &StateOf<P>,
    actions: &mut Vec<Action<P>>,
) {
    model.actions(state, actions);
    let allowed = model.actors.first().and_then(|a| a.allowed.as_ref());
    if let Some(allowed) = allowed.and_then(|f| f.downcast_ref::<Allowed<P>>()) {
        actions.retain(|a| allowed(state, a));
    }
}
// ANCHOR_END: fault_model

// ANCHOR: in_flight
/// Whether no link of `network` (from one node to another) holds more than `most` messages in
/// flight. A model whose nodes resend (a LOOKING server's vote, whenever its timer fires) never
/// runs out of states without such a limit: on an ordered link every copy waits its turn, and on
/// a duplicating one every message ever sent stays. With it, and its other bounds, a model is
/// finite, and a search without a depth limit explores every state, so a chapter's boundary
/// calls this. On a duplicating network nothing leaves a link, so `most` counts the distinct
/// messages ever sent on it.
pub fn in_flight_within<M: Eq + Hash>(network: &Network<M>, most: usize) -> bool {
    // Counted by hand: stateright 0.31's `iter_all` repeats an ordered link's first message
    // for ever, and yields a message sent n times n + 1 times on a non-duplicating network.
    let mut per_link: BTreeMap<(Id, Id), usize> = BTreeMap::new();
    let mut add = |src: Id, dst: Id, n: usize| {
        let on_link = per_link.entry((src, dst)).or_default();
        *on_link += n;
        *on_link <= most
    };
    match network {
        Network::Ordered(links) => links.values().all(|queue| queue.len() <= most),
        Network::UnorderedNonDuplicating(sent) => sent.iter().all(|(e, &n)| add(e.src, e.dst, n)),
        Network::UnorderedDuplicating(sent, _) => sent.iter().all(|e| add(e.src, e.dst, 1)),
    }
}
// ANCHOR_END: in_flight

/// How a report states a bound of `crashes` (each followed by a restart, one node down at a
/// time): nothing for none.
pub fn crashes_text(crashes: u64) -> String {
    match crashes {
        0 => String::new(),
        1 => "; one server may crash and restart, once".into(),
        n => format!("; servers may crash and restart, {n} times in all, one at a time"),
    }
}

// ANCHOR: explored
/// What the checker explores: the chapter's [`ActorModel`], with two changes that keep the
/// search small and its answers short.
///
/// - **No memory of the last delivery.** stateright's duplicating network remembers the last
///   message delivered, as part of the state, so that a delivery that changes nothing still
///   makes a "new" state. Our adapter already tells it when a delivery changes nothing (the
///   node compares equal), so that memory only multiplies every state by the messages that
///   could have been last, and the checker forgets it.
/// - **The first discovery is kept.** stateright overwrites a property's discovery each time
///   another state shows it, so a breadth-first run reports *a* path, not the shortest. Here
///   each property answers "found" for the first state that shows it and never again, and on
///   one thread breadth first the first state found is one at the least depth.
pub struct Explored<P: Checkable, C> {
    inner: ActorModel<NodeActor<P>, C>,
    /// Per property of `inner`: whether a state showing it was seen.
    seen: Vec<AtomicBool>,
    /// Whether each property is reported for its first state only (a search), or for every
    /// state that has it (the explorer, which asks about states in any order).
    first_only: bool,
    /// The actions that lead from the model's start to where the search starts (none: it
    /// starts at the start).
    prefix: Vec<Action<P>>,
}
// ANCHOR_END: explored

/// A property's condition, answering for the `I`th property of the inner model (a plain `fn`,
/// as stateright wants, so one per index).
fn first<P: Checkable, C, const I: usize>(m: &Explored<P, C>, s: &StateOf<P>) -> bool {
    m.first(I, s)
}

/// The most properties a model may have (one [`first`] each).
const MAX_PROPERTIES: usize = 8;

type StateOf<P> = ActorModelState<NodeActor<P>>;

impl<P: Checkable, C> Explored<P, C> {
    /// Explore `inner`.
    pub fn new(inner: ActorModel<NodeActor<P>, C>) -> Self {
        assert!(inner.properties.len() <= MAX_PROPERTIES, "at most {MAX_PROPERTIES} properties");
        let seen = inner.properties.iter().map(|_| AtomicBool::new(false)).collect();
        Explored { inner, seen, prefix: Vec::new(), first_only: true }
    }

    /// Explore `inner` from the state `prefix` leads to (a path of [`walk`]).
    pub fn from(inner: ActorModel<NodeActor<P>, C>, prefix: Vec<Action<P>>) -> Self {
        Explored { prefix, ..Explored::new(inner) }
    }

    /// The model explored.
    pub fn inner(&self) -> &ActorModel<NodeActor<P>, C> {
        &self.inner
    }

    fn first(&self, i: usize, state: &StateOf<P>) -> bool {
        let property = &self.inner.properties[i];
        let holds = (property.condition)(&self.inner, state);
        if !self.first_only {
            return holds;
        }
        match property.expectation {
            // A failure is reported once: afterwards, the property "holds".
            Expectation::Always => holds || self.seen[i].swap(true, Ordering::Relaxed),
            // An example is reported once: afterwards, none is one.
            Expectation::Sometimes => holds && !self.seen[i].swap(true, Ordering::Relaxed),
            Expectation::Eventually => holds,
        }
    }
}

impl<P: Checkable, C> Model for Explored<P, C> {
    type State = StateOf<P>;
    type Action = Action<P>;

    fn init_states(&self) -> Vec<Self::State> {
        init_states(&self.inner)
            .into_iter()
            .map(|start| {
                self.prefix.iter().fold(start, |state, action| {
                    self.next_state(&state, action.clone()).expect("the prefix is a path")
                })
            })
            .collect()
    }

    fn actions(&self, state: &Self::State, out: &mut Vec<Self::Action>) {
        actions(&self.inner, state, out)
    }

    fn next_state(&self, last: &Self::State, action: Self::Action) -> Option<Self::State> {
        let mut next = next_state(&self.inner, last, action)?;
        if let Network::UnorderedDuplicating(_, last_delivered) = &mut next.network {
            *last_delivered = None;
        }
        Some(next)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        let conditions: [fn(&Self, &Self::State) -> bool; MAX_PROPERTIES] = [
            first::<P, C, 0>,
            first::<P, C, 1>,
            first::<P, C, 2>,
            first::<P, C, 3>,
            first::<P, C, 4>,
            first::<P, C, 5>,
            first::<P, C, 6>,
            first::<P, C, 7>,
        ];
        self.inner
            .properties
            .iter()
            .zip(conditions)
            .map(|(p, condition)| Property {
                expectation: p.expectation.clone(),
                name: p.name,
                condition,
            })
            .collect()
    }

    fn within_boundary(&self, state: &Self::State) -> bool {
        Model::within_boundary(&self.inner, state)
    }
}

/// One step of a path the checker found.
pub type Action<P> = ActorModelAction<<P as Process>::Msg, <P as Process>::Timer, ()>;

/// What a run of the checker found.
#[derive(Clone, Debug)]
pub struct Report<P: Process> {
    /// States generated, counting each time a state was reached again.
    pub states: usize,
    /// Distinct states.
    pub unique: usize,
    /// The longest path explored.
    pub depth: usize,
    /// How long the run took.
    pub elapsed: Duration,
    /// Whether every reachable state within the depth limit was explored.
    pub exhausted: bool,
    /// The first property that failed, and the path to the state where it does.
    pub counterexample: Option<(&'static str, Vec<Action<P>>)>,
    /// The "sometimes" properties, each with how many actions its shortest example takes
    /// (`None`: no state within reach has it).
    pub examples: Vec<(&'static str, Option<usize>)>,
    /// How the states were searched.
    pub search: Search,
    /// How the network treated messages, which a replay in the simulator follows: on a
    /// duplicating network it copies a message the path delivers again (elsewhere, a second
    /// delivery is of a second send); behind a send queue it loses a message a newer one
    /// replaced.
    pub links: Links,
}

/// How the checker searches the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Search {
    /// Every path, to this many actions (`None`: every path there is), in `order`, on
    /// `threads` threads.
    Every { max_depth: Option<usize>, order: Order, threads: usize },
    /// Random walks ([`super::walks`]): deep paths, chosen by a seed, none proved absent.
    Walks(Walks),
}

// ANCHOR: order
/// The order in which [`Search::Every`] visits the states. Both remember every state seen by
/// its fingerprint; they differ in what else they hold, and in what their first
/// counterexample is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Order {
    /// Nearest first: on one thread, the first counterexample is a shortest one, but the whole
    /// frontier (every state of a depth not yet expanded) is held as full states, which is
    /// what a long exhaustive search runs out of.
    #[default]
    BreadthFirst,
    /// One path at a time, holding only the states beside that path: far less memory, so an
    /// exhaustive census fits, but a counterexample is whatever path got there first, not the
    /// shortest. With a depth limit it may also miss states: one first reached by a path
    /// longer than the limit is cut there, and not visited again by a shorter path.
    DepthFirst,
}
// ANCHOR_END: order

impl Search {
    /// Every path to `max_depth` actions (`None`: every path there is), breadth first, on one
    /// thread: the search whose first counterexample is a shortest one.
    pub fn every(max_depth: Option<usize>) -> Search {
        Search::Every { max_depth, order: Order::BreadthFirst, threads: 1 }
    }
}

/// A bare depth limit (or none) is the breadth-first search, on one thread.
impl From<Option<usize>> for Search {
    fn from(max_depth: Option<usize>) -> Search {
        Search::every(max_depth)
    }
}

/// Search `model` from where `prefix` leads, as `search` says ([`check_from`] or
/// [`walk_randomly`]); a counterexample's path starts with the prefix.
pub fn search<P: Checkable, C>(
    model: ActorModel<NodeActor<P>, C>,
    prefix: Vec<Action<P>>,
    search: Search,
    progress: Option<Duration>,
) -> Report<P>
where
    C: Send + Sync + 'static,
{
    search_focused(model, prefix, search, progress, None)
}

/// [`search`], whose walks (if it walks) the chapter's `focus` weighs ([`walk_focused`]).
pub fn search_focused<P: Checkable, C>(
    model: ActorModel<NodeActor<P>, C>,
    prefix: Vec<Action<P>>,
    search: Search,
    progress: Option<Duration>,
    focus: Option<Focus<P>>,
) -> Report<P>
where
    C: Send + Sync + 'static,
{
    match search {
        Search::Every { max_depth, order, threads } => {
            run(model, prefix, max_depth, order, threads, progress.map(|every| Progress { every }))
        }
        Search::Walks(walks) => walk_focused(&model, prefix, walks, focus),
    }
}

/// How `model`'s network treats messages (its nodes all share one [`Links`]).
pub(super) fn links_of<P: Checkable, C>(model: &ActorModel<NodeActor<P>, C>) -> Links {
    model.actors.first().map_or(Links::Fifo, |a| a.links)
}

// ANCHOR: check
/// Explore `model` breadth first, on one thread (so the first state found to break a property is
/// one nearest the start, and the same model gives the same numbers and path every time), to
/// `max_depth` actions if given; stop at the first property that fails. With `progress`, print
/// a line to standard error that often while it runs (an exhaustive run can take minutes, and
/// silence looks like a hang).
pub fn check<P: Checkable, C>(
    model: ActorModel<NodeActor<P>, C>,
    max_depth: Option<usize>,
    progress: Option<Duration>,
) -> Report<P>
where
    C: Send + Sync + 'static,
{
    check_from(model, Vec::new(), max_depth, progress)
}
// ANCHOR_END: check

/// The same, searching from the state `prefix` leads to (depths count from there; a
/// counterexample's path starts with the prefix, so it replays from the start).
pub fn check_from<P: Checkable, C>(
    model: ActorModel<NodeActor<P>, C>,
    prefix: Vec<Action<P>>,
    max_depth: Option<usize>,
    progress: Option<Duration>,
) -> Report<P>
where
    C: Send + Sync + 'static,
{
    let progress = progress.map(|every| Progress { every });
    run(model, prefix, max_depth, Order::BreadthFirst, 1, progress)
}

// ANCHOR: explore
/// Serve stateright's explorer for `model`, from where `prefix` leads, on 127.0.0.1:`port`
/// (loopback only: it answers anyone who connects), until the process is stopped. A browser
/// shows a state, its next actions, and the properties; clicking an action follows it.
/// Prints the address once the explorer answers; fails at once if the port is taken.
pub fn explore<P: Checkable, C>(
    model: ActorModel<NodeActor<P>, C>,
    prefix: Vec<Action<P>>,
    port: u16,
) -> std::process::ExitCode
where
    C: Send + Sync + 'static,
{
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    // stateright's server panics on an address in use; say it in words first.
    if let Err(e) = std::net::TcpListener::bind(address) {
        eprintln!("error: cannot listen on {address}: {e}");
        return std::process::ExitCode::FAILURE;
    }
    std::thread::spawn(move || {
        // The explorer binds inside `serve`, which never returns: announce it from here, once
        // it answers (within a bound, as a slow start is worth a line but not a hang; a
        // generous one, as a loaded machine may hardly schedule the server's thread).
        let deadline = Instant::now() + Duration::from_secs(120);
        while std::net::TcpStream::connect(address).is_err() {
            if Instant::now() > deadline {
                eprintln!("error: the explorer does not answer on {address}");
                std::process::exit(1);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        println!("explorer: http://{address}/ (interrupt to stop)");
    });
    let explored = Explored { first_only: false, ..Explored::from(model, prefix) };
    explored.checker().threads(1).serve(address);
    std::process::ExitCode::SUCCESS
}
// ANCHOR_END: explore

// ANCHOR: walk
/// A path through `model` from its start, taken greedily: at each state, the action `pick`
/// ranks first (the lowest rank; of equals, the first in the checker's order; `None`: never),
/// until `goal` holds. A chapter whose first
/// phase has too many orders to explore (a whole election) walks through it once, and
/// [`check_from`] explores every order of what follows. Fails when no action is accepted, or
/// after `max_steps`.
pub fn walk<P: Checkable, C>(
    model: &ActorModel<NodeActor<P>, C>,
    pick: impl Fn(&StateOf<P>, &Action<P>) -> Option<u32>,
    goal: impl Fn(&StateOf<P>) -> bool,
    max_steps: usize,
) -> Result<Vec<Action<P>>, String> {
    let start = init_states(model).into_iter().next().ok_or("the model has no start")?;
    walk_from(model, start, pick, goal, max_steps)
}

/// [`walk`] from `state` rather than the model's start: a test goes on from where a chapter's
/// walked start leaves the search.
pub fn walk_from<P: Checkable, C>(
    model: &ActorModel<NodeActor<P>, C>,
    mut state: StateOf<P>,
    pick: impl Fn(&StateOf<P>, &Action<P>) -> Option<u32>,
    goal: impl Fn(&StateOf<P>) -> bool,
    max_steps: usize,
) -> Result<Vec<Action<P>>, String> {
    let mut path = Vec::new();
    while !goal(&state) {
        if path.len() == max_steps {
            return Err(format!("no goal state within {max_steps} steps"));
        }
        let mut offered = Vec::new();
        actions(model, &state, &mut offered);
        let mut ranked: Vec<(u32, Action<P>)> =
            offered.into_iter().filter_map(|a| Some((pick(&state, &a)?, a))).collect();
        ranked.sort_by_key(|(rank, _)| *rank);
        let next = ranked.into_iter().find_map(|(_, a)| {
            let next = next_state(model, &state, a.clone())?;
            Some((a, next))
        });
        let (action, next) =
            next.ok_or_else(|| format!("stuck after {} steps: no action picked", path.len()))?;
        path.push(action);
        state = next;
    }
    Ok(path)
}
// ANCHOR_END: walk

fn run<P: Checkable, C>(
    model: ActorModel<NodeActor<P>, C>,
    prefix: Vec<Action<P>>,
    max_depth: Option<usize>,
    order: Order,
    threads: usize,
    progress: Option<Progress>,
) -> Report<P>
where
    C: Send + Sync + 'static,
{
    let started = Instant::now();
    let properties: Vec<_> =
        model.properties.iter().map(|p| (p.name, p.expectation.discovery_is_failure())).collect();
    let start = prefix.clone();
    let links = links_of(&model);
    let mut builder = Explored::from(model, prefix)
        .checker()
        .threads(threads.max(1))
        .finish_when(HasDiscoveries::AnyFailures);
    if let Some(depth) = max_depth {
        // stateright counts the initial state as depth 1, and does not check the properties of a
        // state at its target depth: so the target is one past the last depth checked.
        builder = builder.target_max_depth(depth + 2);
    }
    let mut found = match order {
        Order::BreadthFirst => {
            Found::of(Progress::join(progress, builder.spawn_bfs()), &properties)
        }
        Order::DepthFirst => Found::of(Progress::join(progress, builder.spawn_dfs()), &properties),
    };
    if let Some((_, path)) = &mut found.counterexample {
        path.splice(0..0, start);
    }
    // A state one past the limit is reached (and counted) but not checked.
    let depth = max_depth.map_or(found.depth, |d| found.depth.min(d));
    Report {
        states: found.states,
        unique: found.unique,
        depth,
        elapsed: started.elapsed(),
        exhausted: found.counterexample.is_none() && max_depth.is_none_or(|d| found.depth <= d),
        counterexample: found.counterexample,
        examples: found.examples,
        search: Search::Every { max_depth, order, threads },
        links,
    }
}

/// Progress lines on standard error.
struct Progress {
    every: Duration,
}

impl Progress {
    /// `checker` once it is done, with progress lines meanwhile if `progress` asks for them.
    fn join<M: Model, C: Checker<M> + Sync>(progress: Option<Progress>, mut checker: C) -> C {
        if let Some(progress) = progress {
            progress.report_until_done(&mut checker);
        }
        checker.join()
    }

    /// Prints how far `checker` got every `every` until its threads end. Not stateright's
    /// `join_and_report`: its reporter sleeps a whole `every` before it looks again, and the
    /// join waits for it, so a search of one second took five.
    fn report_until_done<M: Model>(&self, checker: &mut (impl Checker<M> + Sync)) {
        let searching = checker.handles();
        let (finished, done) = mpsc::channel::<()>();
        let checker = &*checker;
        std::thread::scope(|s| {
            s.spawn(move || {
                let started = Instant::now();
                while done.recv_timeout(self.every) == Err(RecvTimeoutError::Timeout) {
                    eprintln!(
                        "  … {} states, {} unique, depth {}, {}s",
                        checker.state_count(),
                        checker.unique_state_count(),
                        checker.max_depth().saturating_sub(1),
                        started.elapsed().as_secs()
                    );
                }
            });
            for thread in searching {
                thread.join().expect("a checker thread does not panic");
            }
            // Dropping the sender ends the reporter's wait at once.
            drop(finished);
        });
    }
}

/// What a finished checker holds, whichever way it searched.
struct Found<P: Process> {
    states: usize,
    unique: usize,
    depth: usize,
    counterexample: Option<(&'static str, Vec<Action<P>>)>,
    examples: Vec<(&'static str, Option<usize>)>,
}

impl<P: Checkable> Found<P> {
    fn of<C>(checker: impl Checker<Explored<P, C>>, properties: &[(&'static str, bool)]) -> Self {
        let found = checker.discoveries();
        let counterexample = properties
            .iter()
            .filter(|(_, failure)| *failure)
            .find_map(|(name, _)| found.get(name).map(|path| (*name, path.clone().into_actions())));
        let examples = properties
            .iter()
            .filter(|(_, failure)| !*failure)
            .map(|(name, _)| (*name, found.get(name).map(|path| path.clone().into_actions().len())))
            .collect();
        Found {
            states: checker.state_count(),
            unique: checker.unique_state_count(),
            // stateright counts the initial state as depth 1.
            depth: checker.max_depth().saturating_sub(1),
            counterexample,
            examples,
        }
    }
}

impl<P: Process + Hash + Clone> Report<Fingerprinted<P>> {
    /// The report of a search of wrapped nodes, as one of the nodes themselves (its paths are
    /// the same actions), for a simulator of the nodes to replay.
    pub fn unwrapped(self) -> Report<P> {
        Report {
            states: self.states,
            unique: self.unique,
            depth: self.depth,
            elapsed: self.elapsed,
            exhausted: self.exhausted,
            counterexample: self.counterexample,
            examples: self.examples,
            search: self.search,
            links: self.links,
        }
    }
}

impl<P: Process> Report<P> {
    /// One row of a benchmark table: `| name | states | unique | depth | seconds | states/s |`.
    pub fn bench_row(&self, name: &str) -> String {
        let secs = self.elapsed.as_secs_f64();
        let limit = if self.exhausted { " (all)" } else { "" };
        format!(
            "| {name} | {} | {} | {}{limit} | {secs:.2} | {:.0} |",
            self.states,
            self.unique,
            self.depth,
            self.states as f64 / secs.max(1e-9)
        )
    }

    /// The header of [`Report::bench_row`]'s table.
    pub const BENCH_HEADER: &'static str =
        "| configuration | states | unique | depth | seconds | states/s |\n|---|---|---|---|---|---|";
}

impl<P: Process> fmt::Display for Report<P> {
    /// Everything but the time, which changes from run to run (so a snapshot can show it).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Search::Walks(w) = self.search {
            writeln!(
                f,
                "random walks:    {} of up to {} steps, seed {}",
                w.walks, w.steps, w.seed
            )?;
        }
        writeln!(f, "states explored: {}", self.states)?;
        writeln!(f, "unique states:   {}", self.unique)?;
        // Whether the search ended because nothing was left, or stopped at its depth limit
        // with states unexplored (a search stopped by a counterexample says so below).
        let limit = match self.search {
            _ if self.exhausted => " (every reachable state)",
            Search::Every { max_depth: Some(_), .. } if self.counterexample.is_none() => {
                " (stopped at the depth limit, not every state)"
            }
            _ => "",
        };
        writeln!(f, "depth reached:   {}{limit}", self.depth)?;
        // Only a search other than the default says how it went (the default's reports, in
        // the book and its snapshots, stay as they were).
        if let Search::Every { order, threads, .. } = self.search {
            let order = match order {
                Order::BreadthFirst => "breadth first",
                Order::DepthFirst => "depth first",
            };
            if order != "breadth first" || threads > 1 {
                writeln!(
                    f,
                    "search:          {order}, {threads} thread{}: a counterexample (or an \
                     example) found need not be the shortest",
                    if threads == 1 { "" } else { "s" }
                )?;
            }
        }
        for (name, example) in &self.examples {
            match example {
                Some(n) => writeln!(f, "sometimes `{name}`: yes, in {n} steps")?,
                None => writeln!(f, "sometimes `{name}`: not within reach")?,
            }
        }
        match &self.counterexample {
            None => write!(f, "no counterexample"),
            Some((name, path)) => {
                write!(f, "counterexample: `{name}` fails after {} steps", path.len())
            }
        }
    }
}

// ANCHOR: choices
/// The checker's `path` as the choices of a stepped run of `sim` (built with the same nodes, in
/// the same order): first every node's start, then one choice per action, each naming the item
/// of the simulator's pending list the action is. The run stops at an invariant of `sim` that
/// breaks (normally at the path's last action; earlier if `sim` checks more than the model).
pub fn choices<P: Checkable>(
    mut sim: Sim<P>,
    path: &[Action<P>],
    links: Links,
) -> Result<Vec<Choice>, String> {
    let duplicating = links == Links::Duplicating;
    let ids = sim.ids();
    let mut made = Vec::new();
    let mut make = |sim: &mut Sim<P>, choice: Choice| -> Result<bool, String> {
        let result = sim.choose(&choice);
        made.push(choice);
        match result {
            Ok(()) => Ok(true),
            Err(ChoiceError::Violation(_)) => Ok(false),
            Err(ChoiceError::Refused(why)) => Err(why),
        }
    };
    let place = |sim: &Sim<P>, wanted: &dyn Fn(&DueOf<P>) -> bool| {
        sim.upcoming().iter().position(|u| wanted(&u.due)).map(|k| k + 1)
    };
    for node in &ids {
        let k = place(&sim, &|d| matches!(d, Due::Start { node: n } if n == node))
            .ok_or("a node's start is not pending")?;
        if !make(&mut sim, Choice::Do(k))? {
            return Ok(made);
        }
    }
    for (i, action) in path.iter().enumerate() {
        let choice = match action {
            ActorModelAction::Deliver { src, dst, msg } => {
                let (from, to) = (ids[sender(*src, ids.len())], ids[usize::from(*dst)]);
                let is_it = |d: &DueOf<P>| {
                    matches!(d, Due::Message { from: f, to: t, msg: m, .. }
                        if (*f, *t) == (from, to) && m == msg)
                };
                let copies = sim.upcoming().iter().filter(|u| is_it(&u.due)).count();
                // A duplicating network keeps a delivered message; the simulator's does not.
                // When the path delivers this message again, the network copies it first. On
                // any other network, a second delivery of the same message is of a second
                // send (two pings alike), which the path has not made yet: no copy.
                let again = duplicating && path[i + 1..].contains(action);
                // Behind the model's send queue a newer message took the place of any still
                // waiting ahead of it; the simulator keeps every one, so it loses those here.
                while let Some(k) = place(&sim, &is_it) {
                    let list = sim.upcoming();
                    let Some(ahead) = sim.fifo_ahead(&list, k - 1) else { break };
                    let Due::Message { msg: waiting, .. } = &list[ahead].due else { break };
                    if !links.queues(P::connection(waiting)) {
                        break;
                    }
                    if !make(&mut sim, Choice::Drop(ahead + 1))? {
                        return Ok(made);
                    }
                }
                if copies == 1 && again {
                    let k = place(&sim, &is_it).expect("counted");
                    if !make(&mut sim, Choice::Duplicate(k))? {
                        return Ok(made);
                    }
                }
                Choice::Deliver(place(&sim, &is_it).ok_or_else(|| {
                    format!("step {}: {} → {} {msg} is not in flight", i + 1, from, to)
                })?)
            }
            ActorModelAction::Timeout(id, timer) => {
                let node = ids[usize::from(*id)];
                Choice::Fire(
                    place(&sim, &|d| {
                        matches!(d, Due::Timer { node: n, timer: t } if *n == node && t == timer)
                    })
                    .ok_or_else(|| format!("step {}: n{node}'s timer {timer} is not armed", i + 1))?,
                )
            }
            ActorModelAction::Drop(envelope) => {
                let (from, to) =
                    (ids[sender(envelope.src, ids.len())], ids[usize::from(envelope.dst)]);
                Choice::Drop(
                    place(&sim, &|d| {
                        matches!(d, Due::Message { from: f, to: t, msg: m, .. }
                            if (*f, *t) == (from, to) && *m == envelope.msg)
                    })
                    .ok_or_else(|| {
                        format!("step {}: the message dropped is not in flight", i + 1)
                    })?,
                )
            }
            ActorModelAction::Crash(id) => Choice::Crash(ids[usize::from(*id)]),
            ActorModelAction::Recover(id) => Choice::Restart(ids[usize::from(*id)]),
            ActorModelAction::SelectRandom { .. } => {
                return Err("a node chose at random, which no Process does".to_string())
            }
        };
        if !make(&mut sim, choice)? {
            return Ok(made);
        }
    }
    Ok(made)
}
// ANCHOR_END: choices

// ANCHOR: path_of
/// The way back from a scenario file: the checker's path through `model` that a stepped run of
/// `sim` (the same nodes, in the same order, perhaps unwrapped) takes with `steps`, so that a search can start
/// where a replay ends, say a few steps before a counterexample's loss. Each step names an item
/// of the simulator's pending list; it becomes the model's move on the same message or timer,
/// or the same crash or restart. A node's start is no move (the model starts them all), and a
/// message the model dropped as it was sent, as one that ends nothing, is delivered in the
/// simulator to no effect and taken by no move here. A step that is none of the model's moves
/// (a timer the model leaves out, a lost or copied message, a partition) is an error.
pub fn path_of<P: Checkable, Q: Process<Msg = P::Msg, Timer = P::Timer>, C>(
    model: &ActorModel<NodeActor<P>, C>,
    mut sim: Sim<Q>,
    steps: &[Choice],
) -> Result<Vec<Action<P>>, String> {
    let ids = sim.ids();
    let actor = |node: NodeId| {
        ids.iter().position(|n| *n == node).ok_or_else(|| format!("n{node} is not in the model"))
    };
    let mut state = init_states(model).remove(0);
    let mut path = Vec::new();
    let mut one_by_one = Vec::new();
    for step in steps {
        match step {
            Choice::Next(n) => one_by_one.extend((0..*n).map(|_| Choice::Do(1))),
            other => one_by_one.push(other.clone()),
        }
    }
    for (i, step) in one_by_one.iter().enumerate() {
        let not_a_move = |what: &str| format!("step {}: {what} is not a move of the model", i + 1);
        let named = |k: usize| sim.upcoming().get(k.wrapping_sub(1)).map(|u| u.due.clone());
        let mut moves = Vec::new();
        actions(model, &state, &mut moves);
        let action = match step {
            Choice::Do(k) | Choice::Deliver(k) | Choice::Fire(k) => match named(*k) {
                Some(Due::Start { .. }) => None,
                Some(Due::Message { from, to, msg, .. }) => {
                    let (from, to) = (actor(from)?, actor(to)?);
                    let delivers = moves
                        .iter()
                        .find(|a| {
                            matches!(a, ActorModelAction::Deliver { src, dst, msg: m }
                                if sender(*src, ids.len()) == from && usize::from(*dst) == to
                                    && *m == msg)
                        })
                        .cloned();
                    match delivers {
                        Some(a) => Some(a),
                        None if state.actor_states[to].ends_nothing(&msg) => None,
                        None => return Err(not_a_move(&format!("delivering {msg}"))),
                    }
                }
                Some(Due::Timer { node, timer }) => {
                    Some(ActorModelAction::Timeout(Id::from(actor(node)?), timer))
                }
                Some(Due::Fault(_)) => return Err(not_a_move("a scheduled fault")),
                None => return Err(format!("step {}: item {k} is not pending", i + 1)),
            },
            Choice::Crash(node) => Some(ActorModelAction::Crash(Id::from(actor(*node)?))),
            Choice::Restart(node) => Some(ActorModelAction::Recover(Id::from(actor(*node)?))),
            other => return Err(not_a_move(&format!("{other:?}"))),
        };
        match sim.choose(step) {
            // The run may break an invariant at its last step: the path still stands.
            Ok(()) | Err(ChoiceError::Violation(_)) => {}
            Err(e) => return Err(format!("step {}: {e}", i + 1)),
        }
        let Some(action) = action else {
            continue;
        };
        if !moves.contains(&action) {
            return Err(not_a_move(&format!("{action:?}")));
        }
        state = next_state(model, &state, action.clone())
            .ok_or_else(|| not_a_move(&format!("{action:?}")))?;
        path.push(action);
    }
    Ok(path)
}
// ANCHOR_END: path_of

type DueOf<P> = Due<<P as Process>::Msg, <P as Process>::Timer>;

/// A run replayed from its choices, told by nobody: the stepper only writes its file.
struct Replay<F>(F);

impl<P: Process, F: Fn() -> Sim<P>> Lesson<P> for Replay<F> {
    fn sim(&self) -> Sim<P> {
        (self.0)()
    }
    fn header(&self) -> String {
        String::new()
    }
    fn tell(&mut self, _entry: &EntryOf<P>) -> Option<String> {
        None
    }
    fn is_over(&self, _sim: &Sim<P>) -> bool {
        true
    }
}

/// The counterexample `path` as a scenario file, the form `--step`'s `save` writes: the replay
/// command (with `file` as its `--scenario-file`), then `steps`, one choice a line with what it
/// did. Also the run it makes, traced. `build` makes the simulator run of the model's nodes.
pub fn counterexample_script<P: Checkable>(
    build: impl Fn() -> Sim<P>,
    property: &str,
    path: &[Action<P>],
    links: Links,
    file: &str,
) -> Result<(String, Sim<P>), String> {
    let steps = choices(build(), path, links)?;
    let scenario = steps.into_iter().fold(Scenario::new(), Scenario::step);
    let stepper = Stepper::new(Replay(build), scenario).map_err(|e| e.to_string())?;
    let about = format!("A counterexample the model checker found: `{property}` fails.");
    Ok((stepper.script_about(&about, file), stepper.into_sim()))
}

/// A finished check, ready to print: what was checked, the report, and the counterexample (if
/// any) as a scenario file and the simulator's trace of it.
pub struct Outcome<P: Process> {
    pub report: Report<P>,
    /// The counterexample as a scenario file, and the simulator's trace of it.
    pub counterexample: Option<(String, String)>,
    /// What was checked, in a line.
    pub about: String,
}

impl<P: Checkable> Outcome<P> {
    /// `report`, with its counterexample replayed in the simulator run `build` makes, written as
    /// a scenario file whose replay command names `file`.
    pub fn of(
        report: Report<P>,
        about: String,
        build: impl Fn() -> Sim<P>,
        file: &str,
    ) -> Result<Self, String> {
        let counterexample = match &report.counterexample {
            None => None,
            Some((property, path)) => {
                let (script, sim) =
                    counterexample_script(build, property, path, report.links, file).map_err(
                        |e| format!("the counterexample does not replay in the simulator: {e}"),
                    )?;
                Some((script, super::render::plain(sim.trace())))
            }
        };
        Ok(Outcome { report, counterexample, about })
    }

    /// What `--model-check` prints: the outcome and the time; a counterexample is also written
    /// to `file`, with the command (`replay`) that replays it. Fails when there is one.
    pub fn print_and_save(&self, file: &std::path::Path, replay: &str) -> std::process::ExitCode {
        use std::process::ExitCode;
        print(format_args!("{self}\ntime: {:.2?}\n", self.report.elapsed));
        let Some((script, _)) = &self.counterexample else {
            return ExitCode::SUCCESS;
        };
        let name = file.display();
        if let Err(e) = std::fs::write(file, script) {
            eprintln!("error: cannot write {name}: {e}");
            return ExitCode::FAILURE;
        }
        print(format_args!(
            "written to {name}; replay it (add --svg FILE to draw it):\n  {replay} --scenario-file {name}\n"
        ));
        ExitCode::FAILURE
    }
}

/// Prints to stdout. A reader that stopped early (`| head`) closed the pipe: the rest goes
/// nowhere, and the search's verdict and its counterexample file still stand, so that is no
/// failure (`println!` would panic).
fn print(text: fmt::Arguments<'_>) {
    use std::io::Write as _;
    if let Err(e) = std::io::stdout().lock().write_fmt(text) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: cannot print the report: {e}");
        }
    }
}

impl<P: Process> fmt::Display for Outcome<P> {
    /// The report without the time (which changes from run to run), then the counterexample.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.about)?;
        write!(f, "{}", self.report)?;
        if let Some((_, trace)) = &self.counterexample {
            write!(f, ", replayed in the simulator:\n{trace}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod in_flight_tests {
    use stateright::actor::{Envelope, Id, Network};

    use super::in_flight_within;

    /// Two copies of one message from n1 to n2 and one from n2 to n1.
    fn sent() -> Vec<Envelope<u8>> {
        let (a, b) = (Id::from(0), Id::from(1));
        vec![
            Envelope { src: a, dst: b, msg: 7 },
            Envelope { src: a, dst: b, msg: 7 },
            Envelope { src: b, dst: a, msg: 7 },
        ]
    }

    #[test]
    fn an_ordered_link_counts_every_queued_copy() {
        let network = Network::new_ordered(sent());
        assert!(!in_flight_within(&network, 1));
        assert!(in_flight_within(&network, 2));
    }

    #[test]
    fn a_non_duplicating_network_counts_every_send() {
        let network = Network::new_unordered_nonduplicating(sent());
        assert!(!in_flight_within(&network, 1));
        assert!(in_flight_within(&network, 2));
    }

    /// Two TCP connections between the same nodes keep their own orders and wait for each
    /// other in nothing (ZooKeeper's election and quorum ports): the second connection's
    /// messages leave the pair's queue for a link of their own, in the order sent, listed from
    /// a sender past the last node, and each link is bounded on its own.
    #[test]
    fn a_second_connection_is_a_link_of_its_own() {
        let (a, b) = (Id::from(0), Id::from(1));
        let sent = [1, 10, 2, 11].map(|msg| Envelope { src: a, dst: b, msg });
        let mut network = Network::new_ordered(sent);
        super::separate_connections::<Sockets>(&mut network, 2);
        let Network::Ordered(links) = &network else { unreachable!() };
        let queues: Vec<_> = links.iter().map(|(k, q)| (*k, Vec::from(q.clone()))).collect();
        assert_eq!(queues, [((a, b), vec![1, 2]), ((Id::from(2), b), vec![10, 11])]);
        assert_eq!(super::sender(Id::from(2), 2), 0);
        assert!(in_flight_within(&network, 2) && !in_flight_within(&network, 1));
    }

    /// A node whose message `m` travels on its connection `m / 10`: from 10 up, on connections
    /// that die with their receiver.
    struct Sockets;

    impl crate::sim::Process for Sockets {
        type Msg = u8;
        type Timer = u8;
        type Note = u8;
        fn id(&self) -> crate::sim::NodeId {
            1
        }
        fn step(&mut self, _: crate::sim::Input<u8, u8>) -> Vec<crate::sim::Output<u8, u8, u8>> {
            Vec::new()
        }
        fn status(&self) -> String {
            String::new()
        }
        fn connection(msg: &u8) -> usize {
            usize::from(*msg / 10)
        }
        fn lost_at_crash(msg: &u8) -> bool {
            *msg >= 10
        }
    }

    /// A crash takes what was on its way to the node on connections that die with it (its
    /// sockets), on every connection of every sender, and keeps what it sent and what a sender
    /// would send again; a connection opened after another (20 after 10) is a link of its own.
    #[test]
    fn a_crash_loses_what_was_on_its_way_to_its_sockets() {
        let (a, b) = (Id::from(0), Id::from(1));
        let sent = [1, 10, 20, 21]
            .map(|msg| Envelope { src: a, dst: b, msg })
            .into_iter()
            .chain([Envelope { src: b, dst: a, msg: 11 }]);
        let mut network = Network::new_ordered(sent);
        super::separate_connections::<Sockets>(&mut network, 2);
        {
            let Network::Ordered(links) = &network else { unreachable!() };
            assert_eq!(links.len(), 4, "a link per connection: {links:?}");
        }
        super::lose_what_dies_with::<Sockets>(&mut network, b);
        let Network::Ordered(links) = &network else { unreachable!() };
        let queues: Vec<_> = links.iter().map(|(k, q)| (*k, Vec::from(q.clone()))).collect();
        assert_eq!(queues, [((a, b), vec![1]), ((Id::from(3), a), vec![11])]);
    }

    #[test]
    fn a_duplicating_network_counts_distinct_messages() {
        let network = Network::new_unordered_duplicating(sent());
        assert!(in_flight_within(&network, 1));
        assert!(!in_flight_within(&network, 0));
    }
}
