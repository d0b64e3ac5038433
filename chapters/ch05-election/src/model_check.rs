//! Checking every interleaving of a small election: `--model-check`.
//!
//! The scenarios run one order of events per seed. Here chapter 4's model checker
//! ([`ch04_paxos::sim::checker`]) runs this chapter's own [`Server`]s through every order, for
//! one small ensemble: three servers whose disks differ (n1 and n2 logged up to `0x100000002`,
//! n3 only to `0x100000001`), where any one server may crash once, at any moment, and restart
//! from its disk. Timers fire whenever the checker likes (time is not modelled), so a
//! `finalizeWait` may end before the better vote arrives and a follower may give up on a leader
//! that is alive: the checker tries both. Rounds are bounded (servers that keep losing their
//! leader look again forever): *while no server passes round [`Bounds::rounds`]*, no order of
//! events breaks
//!
//! - **one leader at a time** (always): at most one server leads with a quorum of up servers
//!   that decided for it in its round (the invariant every scenario checks);
//! - **the leader's log is the longest** (always): no server follows a leader whose disk is
//!   behind its own (epoch, then zxid). Zab (chapter 6) relies on it: the leader's log becomes
//!   everyone's, so a leader behind a follower would lose what the follower logged. It holds here
//!   because any quorum holds one of the two longest logs; in ZooKeeper a late server whose
//!   longer tail was never committed is truncated by the leader (TRUNC);
//!
//! and some order **elects a leader** (sometimes: a state with a leader is reachable) with a
//! quorum behind it, so the model is not safe by electing nobody. It is a `sometimes`, not an
//! `eventually`: a looking server's timer can always fire again, so no path ends, and
//! stateright checks an `eventually` only where a path ends. With [`Flaw::SidBeforeLog`] (the
//! sid decides before the log does) the checker finds a follower whose log is ahead of its
//! leader's, and writes the path as a scenario file that `--scenario checked --scenario-file
//! FILE` replays.
//!
//! # The network, and what the model leaves out
//!
//! Every state is explored (the report says "every reachable state") because the model is
//! finite, and it is finite for these reasons, each a fact about the servers, not a cut:
//!
//! - **One ordered connection per pair, behind a send queue of one.** ZooKeeper's
//!   `QuorumCnxManager` keeps, per peer, a send queue of capacity 1 that drops its oldest
//!   (`SEND_CAPACITY`, `addToSendQueue`), and sends the last message again on a new
//!   connection; this chapter's [`crate::cnx`] does the same. So a vote not yet sent is
//!   replaced by the newer one, and on the wire the votes of a pair stay in order
//!   ([`checker::Links::SendQueue`]). `--in-flight N` lets `N - 1` more wait on the socket;
//!   the default, one, is a connection whose socket holds nothing more (a slow or down peer).
//!   Each state the model reaches is one a real ensemble can reach; with more on the socket a
//!   real one can reach more.
//! - **Messages to oneself come straight back**, within the step that sent them, as over TCP
//!   ([`crate::tcp`]; upstream's `toSend` puts them on its own receive queue).
//! - **The back-off does not grow** ([`checked_cluster`]): the checker never reads a timer's
//!   delay, so the doubling `notTimeout` only made each server's state one of about forty.
//! - **The leader's stand-in ping is left out** ([`crate::standin`]; not FastLeaderElection): a
//!   follower may still give up on its leader at any moment, as its timer fires whenever the
//!   checker likes, but a leader steps down only by crashing. Kept, its ticks, pings and
//!   replies multiply the states after each election: the fault-free search had 4.5 million
//!   distinct states at depth 30 after 400 s (release, shared machine) and had not ended.
//!
//! `--network duplicating` is the older network, which may deliver any vote late, more than
//! once, or never: there a vote sent stays on its link for good, and the states never end, so
//! it is searched to a `--depth`.

use std::cmp::Ordering;
use std::sync::Arc;
use std::time::Duration;

use ch01_znode::{Epoch, Sid, Zxid};
use ch04_paxos::sim::checker::{self, Links, NodeActor};
use ch04_paxos::sim::{Process, Scenario, Sim};
use stateright::actor::{ActorModel, ActorModelState};
use stateright::Expectation;

use crate::peer::Durable;
use crate::quorum::QuorumMaj;
use crate::sim::{
    leaders_with_quorum, network, one_leader_at_a_time, ScenarioName, Server, Setup, SimTimer,
};
use crate::standin::{Config, Message, Timer};
use crate::vote::{ServerState, Vote, VoteOrder};

/// What the checked network may do with a vote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ElectionNetwork {
    /// One ordered connection per pair of servers behind a send queue that keeps one message
    /// per peer, as ZooKeeper's `QuorumCnxManager` and this chapter's [`crate::cnx`] have: a
    /// newer message replaces one not yet sent ([`Links::SendQueue`]).
    SendQueue,
    /// Any vote delivered late, more than once, or never, in any order ([`Links::Duplicating`]).
    Duplicating,
}

/// How far the checker goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// The highest election round (`logicalclock`) a server may reach.
    pub rounds: i64,
    /// How many crashes (each followed by a restart) the servers may have between them, one
    /// server down at a time.
    pub crashes: u64,
    /// The most messages on one link (from one server to another), if limited. Behind a send
    /// queue, the messages waiting on it (`None`: one, the send queue's); a newer send
    /// replaces the last. On the duplicating network, a vote sent stays on its link for good,
    /// so this counts the distinct messages ever sent on it, and a state past it is not
    /// explored (without a limit there the states are too many to explore to the end).
    pub in_flight: Option<usize>,
    /// Which network.
    pub network: ElectionNetwork,
}

/// The bounds the command checks unless told otherwise: the size, every state.
pub const DEFAULT: Bounds = Bounds {
    rounds: 2,
    crashes: 1,
    in_flight: None,
    network: ElectionNetwork::SendQueue,
};

impl Bounds {
    /// The checker's links for these bounds.
    fn links(&self) -> Links {
        match self.network {
            ElectionNetwork::SendQueue => Links::SendQueue {
                waiting: self.in_flight.unwrap_or(1),
            },
            ElectionNetwork::Duplicating => Links::Duplicating,
        }
    }
}

/// A lab's deliberate bug for the checker to find.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flaw {
    /// Votes compared by sid first, then epoch and zxid: the order a reader might write first.
    SidBeforeLog,
}

impl Flaw {
    /// Every flaw, by name.
    pub const ALL: [(&'static str, Flaw); 1] = [("SidBeforeLog", Flaw::SidBeforeLog)];

    /// The flaw called `name`, or an error listing the names there are.
    pub fn named(name: &str) -> Result<Flaw, String> {
        Flaw::ALL
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, f)| *f)
            .ok_or_else(|| {
                let names: Vec<&str> = Flaw::ALL.iter().map(|(n, _)| *n).collect();
                format!("unknown flaw `{name}`; choose one of: {}", names.join(", "))
            })
    }

    fn order(self) -> VoteOrder {
        match self {
            Flaw::SidBeforeLog => sid_before_log,
        }
    }
}

// ANCHOR: flaw
/// The flawed order: the larger sid wins, whatever the logs say. Every server still agrees on
/// it, so the election still ends with one leader; predict what else breaks.
pub fn sid_before_log(a: &Vote, b: &Vote) -> Ordering {
    (a.leader, a.peer_epoch, a.zxid).cmp(&(b.leader, b.peer_epoch, b.zxid))
}
// ANCHOR_END: flaw

/// What each server's disk says: n1 and n2 logged two txns of epoch 1, n3 one.
fn disk(sid: u64) -> Durable {
    let counter = if sid == 3 { 1 } else { 2 };
    Durable {
        current_epoch: Epoch(1),
        last_logged_zxid: Zxid::new(Epoch(1), counter),
    }
}

/// The checked ensemble: three servers, started at once, with the disks of `disk`, ordering
/// votes as ZooKeeper does or as `flaw` does.
pub fn cluster(flaw: Option<Flaw>) -> Vec<Server> {
    servers_with(config(flaw))
}

fn config(flaw: Option<Flaw>) -> Config {
    let mut config = Config::new(Arc::new(QuorumMaj::new((1..=3).map(Sid), [])));
    if let Some(flaw) = flaw {
        config.election.order = flaw.order();
    }
    config
}

fn servers_with(config: Config) -> Vec<Server> {
    (1..=3)
        .map(|sid| Server::new(Sid(sid), config.clone(), disk(sid)).with_loopback())
        .collect()
}

// ANCHOR: no_backoff
/// The ensemble as the checker holds it: [`cluster`]'s, with a back-off that does not grow
/// (`maxNotificationInterval` = `minNotificationInterval`). The checker fires a timer whenever
/// it likes and never reads its delay, so how long a server would wait changes nothing it
/// explores; kept, the doubling value made each server's state one of about forty for nothing.
/// The simulator's replay of a path runs [`cluster`], with ZooKeeper's real back-off.
pub fn checked_cluster(flaw: Option<Flaw>) -> Vec<Server> {
    let mut config = config(flaw);
    config.election.max_notification_interval_ms = config.election.min_notification_interval_ms;
    servers_with(config)
}
// ANCHOR_END: no_backoff

type ElectionModel = ActorModel<NodeActor<Server>, Bounds>;
type ElectionState = ActorModelState<NodeActor<Server>>;

/// Every server with whether it is up.
fn servers(s: &ElectionState) -> Vec<(&Server, bool)> {
    s.actor_states
        .iter()
        .zip(&s.crashed)
        .map(|(server, down)| (&**server, !down))
        .collect()
}

// ANCHOR: followers_behind
/// The followers whose log is ahead of their leader's, as `(follower, leader)`, among servers
/// that are up and agree on who leads in which round.
pub fn followers_ahead(servers: &[(&Server, bool)]) -> Vec<(Sid, Sid)> {
    let up = |sid: Sid| servers.iter().find(|(s, up)| *up && s.peer().sid() == sid);
    let disk = |s: &Server| {
        (
            s.peer().durable().current_epoch,
            s.peer().durable().last_logged_zxid,
        )
    };
    servers
        .iter()
        .filter(|(s, up)| *up && s.peer().state() == ServerState::Following)
        .filter_map(|(follower, _)| {
            let (vote, round) = follower.peer().decided()?;
            let (leader, _) = up(vote.leader)?;
            let leads = leader.peer().state() == ServerState::Leading
                && leader.peer().decided().map(|d| d.1) == Some(round);
            (leads && disk(follower) > disk(leader)).then_some((follower.peer().sid(), vote.leader))
        })
        .collect()
}
// ANCHOR_END: followers_behind

// ANCHOR: model
/// The model: the chapter's own servers, the properties of the module doc, rounds bounded.
pub fn model(flaw: Option<Flaw>, bounds: Bounds) -> ElectionModel {
    let crashing = checker::model_with_crashes(
        bounds,
        checked_cluster(flaw),
        bounds.links(),
        Server::recover,
        usize::from(bounds.crashes > 0),
    );
    checker::without_timers(crashing, |t| *t == SimTimer::Member(Timer::Tick))
        .property(
            Expectation::Always,
            "one leader at a time",
            |_, s: &ElectionState| leaders_with_quorum(&servers(s)).len() <= 1,
        )
        .property(
            Expectation::Always,
            "the leader's log is the longest",
            |_, s| followers_ahead(&servers(s)).is_empty(),
        )
        .property(
            Expectation::Sometimes,
            "a leader is elected",
            |_, s: &ElectionState| !leaders_with_quorum(&servers(s)).is_empty(),
        )
        .within_boundary(within)
}
// ANCHOR_END: model

// ANCHOR: within
/// The bounds: rounds, crashes, and messages on each link. A state past them is not explored,
/// and its properties are not checked.
fn within(bounds: &Bounds, s: &ElectionState) -> bool {
    if let (Some(most), ElectionNetwork::Duplicating) = (bounds.in_flight, bounds.network) {
        if !checker::in_flight_within(&s.network, most) {
            return false;
        }
    }
    let crashes: u64 = servers(s)
        .iter()
        .map(|(server, up)| server.crashes() + u64::from(!up))
        .sum();
    crashes <= bounds.crashes
        && s.actor_states
            .iter()
            .all(|n| n.peer().logical_clock().0 <= bounds.rounds)
}
// ANCHOR_END: within

/// The simulator's run of the checked ensemble: the scenario `checked`, with both safety
/// properties as invariants, so that a replayed counterexample stops where the checker's did.
pub fn setup(flaw: Option<Flaw>) -> Setup {
    let flaw_text = flaw.map(|f| format!(", flaw {f:?}")).unwrap_or_default();
    Setup {
        flaw,
        name: ScenarioName::Checked,
        about: format!(
            "the model checker's ensemble: n1 and n2 logged 0x100000002, n3 0x100000001{flaw_text}"
        ),
        servers: cluster(flaw),
        faults: Scenario::new(),
        settle_after_ms: 0,
        deadline_ms: 300_000,
    }
}

/// The simulator run of [`setup`] with its invariants, and the command that replays it.
pub fn simulation(flaw: Option<Flaw>, seed: u64) -> Sim<Server> {
    let flaw_arg = flaw.map(|f| format!(" --flaw {f:?}")).unwrap_or_default();
    let command =
        format!("cargo run -p ch05-election -- --trace --scenario checked{flaw_arg} --seed {seed}");
    Sim::new(seed, network(), cluster(flaw), Server::recover)
        .replay_command(command)
        .invariant("one leader at a time", one_leader_at_a_time())
        .invariant("the leader's log is the longest", |sim: &Sim<Server>| {
            let servers: Vec<(&Server, bool)> =
                sim.nodes().map(|s| (s, sim.is_up(s.id()))).collect();
            match followers_ahead(&servers).first() {
                None => Ok(()),
                Some((f, l)) => Err(format!("n{f} follows n{l}, whose log is behind its own")),
            }
        })
}

/// The command that replays a counterexample file.
pub fn replay_command(flaw: Option<Flaw>) -> String {
    let flaw = flaw.map(|f| format!(" --flaw {f:?}")).unwrap_or_default();
    format!("cargo run -p ch05-election -- --trace --scenario checked{flaw}")
}

/// A finished check of the election.
pub type Outcome = checker::Outcome<Server>;

/// Serve the explorer for the model on 127.0.0.1:`port` (see [`checker::explore`]).
pub fn explore(flaw: Option<Flaw>, bounds: Bounds, port: u16) -> std::process::ExitCode {
    checker::explore(model(flaw, bounds), Vec::new(), port)
}

/// Search the model as `search` says (a depth limit: breadth first); a counterexample becomes a scenario file
/// whose replay command names `file`. With `progress`, a line on standard error that often.
pub fn run(
    flaw: Option<Flaw>,
    bounds: Bounds,
    search: impl Into<checker::Search>,
    file: &str,
    progress: Option<Duration>,
) -> Result<Outcome, String> {
    let report = checker::search(model(flaw, bounds), Vec::new(), search.into(), progress);
    let flaw_text = flaw.map(|f| format!(", flaw {f:?}")).unwrap_or_default();
    let crashes = checker::crashes_text(bounds.crashes);
    let network = match (bounds.network, bounds.in_flight) {
        (ElectionNetwork::SendQueue, None | Some(1)) => {
            "votes in order on each link, one waiting at most (a newer one replaces it)".into()
        }
        (ElectionNetwork::SendQueue, Some(n)) => format!(
            "votes in order on each link, {n} waiting at most (a newer one replaces the last)"
        ),
        (ElectionNetwork::Duplicating, None) => "votes reordered, duplicated, lost".into(),
        (ElectionNetwork::Duplicating, Some(1)) => {
            "votes reordered, duplicated, lost, one distinct message on each link at most".into()
        }
        (ElectionNetwork::Duplicating, Some(n)) => {
            format!("votes reordered, duplicated, lost, {n} distinct messages on each link at most")
        }
    };
    let about = format!(
        "model checking FastLeaderElection: 3 servers (n1, n2 logged 0x100000002, n3 \
         0x100000001), rounds up to {}{flaw_text}; {network}{crashes}",
        bounds.rounds
    );
    Outcome::of(report, about, || simulation(flaw, 1), file)
}

/// Messages in a fixed order, as the checker lists what it may deliver: by kind, then field by
/// field (a vote's fields in the order they travel).
impl Ord for Message {
    fn cmp(&self, other: &Self) -> Ordering {
        fn key(m: &Message) -> (u8, i32, u64, i64, i64, i64, i32, &[u8]) {
            match m {
                Message::Notification(n) => (
                    0,
                    n.state as i32,
                    n.vote.leader.0,
                    n.vote.zxid.0,
                    n.election_epoch.0,
                    n.vote.peer_epoch.0,
                    n.version,
                    &n.config,
                ),
                Message::Ping { round } => (1, 0, 0, 0, round.0, 0, 0, &[]),
                Message::PingReply { round } => (2, 0, 0, 0, round.0, 0, 0, &[]),
            }
        }
        key(self).cmp(&key(other))
    }
}

impl PartialOrd for Message {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
