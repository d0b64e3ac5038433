//! The election in the simulator: servers as [`Process`]es, and the
//! scenarios the chapter walks through.
//!
//! Chapter 4's simulator owns time, the network and every fault; a
//! [`Server`] only adapts a [`Member`]'s inputs and outputs (the election,
//! [`Peer`], and the stand-in heartbeat after it) to its contract, and
//! adds one thing the simulator does not have: a server can be *switched on
//! later* (ZooKeeper's first start is servers started one by one). Until
//! then it ignores everything, and the trace shows messages to it as
//! dropped, as a refused connection would be.
//!
//! The simulator addresses its nodes by a bare number ([`NodeId`]); a
//! server's node id is the number of its [`Sid`]. Converting between the
//! two is this module's job, as the adapter: `Sid(node)` for what comes in,
//! `sid.0` for what goes out, the way a codec turns types into integers
//! only at its edge. The election itself never sees a `NodeId`.
//!
//! Every scenario run also checks, after every step, that at most one
//! server leads with a quorum behind it ([`one_leader_at_a_time`]).

use crate::model_check::Flaw;
use crate::peer::{Durable, Note as ElectionNote, Peer};
use crate::quorum::QuorumMaj;
use crate::standin::{
    Config, Input as MemberInput, Member, Message, Note, Output as MemberOutput, Timer,
};
use crate::vote::{Round, ServerState};
use ch01_znode::{Epoch, Sid, Zxid};
use ch04_paxos::sim::{
    DropReason, Entry, Event, Input, Millis, Network, NodeId, Output, Process, Scenario, Sim,
};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

/// A server's timers in the simulator: its own, and the power switch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SimTimer {
    /// One of the member's own timers: the election's or the heartbeat's.
    Member(Timer),
    /// The moment the operator runs `zkServer.sh start` on this server.
    PowerOn,
}

impl Serialize for SimTimer {
    /// By name: `"notTimeout"`, `"power-on"`.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl fmt::Display for SimTimer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimTimer::Member(t) => t.fmt(f),
            SimTimer::PowerOn => f.write_str("power-on"),
        }
    }
}

/// One trace entry of an election run.
pub type ElectionEntry = Entry<Message, SimTimer, Note>;

// ANCHOR: server
/// A ZooKeeper server as the simulator sees it: a [`Member`] that may be
/// switched on some time after the run begins.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Server {
    member: Member,
    /// Switch on this long after the run starts (`None`: at once).
    start_after_ms: Option<Millis>,
    running: bool,
    /// How many times this server has crashed so far (the model checker bounds it).
    crashes: u64,
    /// Whether a message to itself comes straight back within the same step, as over TCP
    /// ([`crate::tcp`]), instead of crossing the simulated network.
    loopback: bool,
}

impl Server {
    /// Server `sid`, switched on at time 0 (or when restarted).
    pub fn new(sid: Sid, config: Config, durable: Durable) -> Server {
        Server {
            member: Member::new(sid, config, durable),
            start_after_ms: None,
            running: false,
            crashes: 0,
            loopback: false,
        }
    }
    /// The same server, taking its messages to itself straight back, as the TCP driver does
    /// (and ZooKeeper's `QuorumCnxManager.toSend`, which puts them on its own receive queue).
    pub fn with_loopback(mut self) -> Server {
        self.loopback = true;
        self
    }
    /// The same server, switched on `ms` after the run begins.
    pub fn starting_at(mut self, ms: Millis) -> Server {
        self.start_after_ms = Some(ms).filter(|&ms| ms > 0);
        self
    }
    /// The same server, ordering votes with `order` (for the labs).
    pub fn with_order(&self, order: crate::vote::VoteOrder) -> Server {
        let mut config = self.member.config().clone();
        config.election.order = order;
        let mut s = Server::new(self.peer().sid(), config, self.peer().durable());
        s.start_after_ms = self.start_after_ms;
        s.loopback = self.loopback;
        s
    }
    /// The election and its stand-in heartbeat.
    pub fn member(&self) -> &Member {
        &self.member
    }
    /// The election state machine inside.
    pub fn peer(&self) -> &Peer {
        self.member.peer()
    }
    /// Whether `zkServer.sh start` has run.
    pub fn is_running(&self) -> bool {
        self.running
    }
    /// What a crash leaves: the same server rebuilt from its disk.
    pub fn recover(&self) -> Server {
        let mut server = Server::new(
            self.peer().sid(),
            self.member.config().clone(),
            self.peer().durable(),
        );
        server.crashes = self.crashes + 1;
        server.loopback = self.loopback;
        server
    }
    /// How many times this server has crashed so far.
    pub fn crashes(&self) -> u64 {
        self.crashes
    }

    // ANCHOR: loopback
    fn feed(&mut self, input: MemberInput) -> Vec<Output<Message, SimTimer, Note>> {
        let me = self.peer().sid();
        let mut outputs = self.member.step(input);
        if self.loopback {
            // As the TCP driver: each message to ourselves is stepped at once, in order.
            let mut all = Vec::new();
            let mut at = 0;
            while at < outputs.len() {
                match &outputs[at] {
                    MemberOutput::Send { to, msg } if *to == me => {
                        let msg = msg.clone();
                        let more = self.member.step(MemberInput::Receive { from: me, msg });
                        outputs.extend(more);
                    }
                    _ => all.push(outputs[at].clone()),
                }
                at += 1;
            }
            outputs = all;
        }
        outputs
            .into_iter()
            .map(|o| match o {
                MemberOutput::Send { to, msg } => Output::Send { to: to.0, msg },
                MemberOutput::SetTimer { timer, after_ms } => Output::SetTimer {
                    timer: SimTimer::Member(timer),
                    after_ms,
                },
                MemberOutput::CancelTimer(t) => Output::CancelTimer(SimTimer::Member(t)),
                MemberOutput::Note(n) => Output::Note(n),
            })
            .collect()
    }
    // ANCHOR_END: loopback
}

impl Process for Server {
    type Msg = Message;
    type Timer = SimTimer;
    type Note = Note;

    fn id(&self) -> NodeId {
        self.peer().sid().0
    }

    fn step(&mut self, input: Input<Message, SimTimer>) -> Vec<Output<Message, SimTimer, Note>> {
        match input {
            // Not yet: ask to be woken when the operator starts us.
            Input::Start if self.start_after_ms.is_some() => {
                let after_ms = self.start_after_ms.take().expect("checked");
                vec![Output::SetTimer {
                    timer: SimTimer::PowerOn,
                    after_ms,
                }]
            }
            Input::Start | Input::Timeout(SimTimer::PowerOn) => {
                self.running = true;
                self.feed(MemberInput::Start)
            }
            // Switched off: nobody is listening on the election port.
            _ if !self.running => Vec::new(),
            Input::Receive { from, msg } => self.feed(MemberInput::Receive {
                from: Sid(from),
                msg,
            }),
            Input::Timeout(SimTimer::Member(t)) => self.feed(MemberInput::Timeout(t)),
        }
    }

    fn status(&self) -> String {
        if self.running {
            self.peer().state().to_string()
        } else {
            String::new()
        }
    }
}
// ANCHOR_END: server

/// Turns the simulator's raw trace into the story a reader follows: the
/// power switch's timer is hidden, and a message to a server that is not
/// started yet is shown as dropped ("receiver down"), as it really is.
#[derive(Clone, Debug, Default)]
pub struct Story {
    started: BTreeSet<NodeId>,
}

impl Story {
    /// The entry as the reader should see it, or `None` to hide it.
    pub fn show(&mut self, e: &ElectionEntry) -> Option<ElectionEntry> {
        match &e.event {
            Event::TimerSet {
                timer: SimTimer::PowerOn,
                ..
            }
            | Event::TimerFired {
                timer: SimTimer::PowerOn,
                ..
            } => None,
            Event::Note {
                node,
                note: Note::Election(ElectionNote::Started { .. }),
            } => {
                self.started.insert(*node);
                Some(e.clone())
            }
            Event::Deliver {
                from,
                to,
                id,
                sent_at,
                msg,
            } if !self.started.contains(to) => Some(Entry {
                at: e.at,
                event: Event::Drop {
                    from: *from,
                    to: *to,
                    id: *id,
                    sent_at: *sent_at,
                    reason: DropReason::Down,
                    msg: msg.clone(),
                },
            }),
            _ => Some(e.clone()),
        }
    }

    /// A whole trace, told as a story.
    pub fn tell(trace: &[ElectionEntry]) -> Vec<ElectionEntry> {
        let mut story = Story::default();
        trace.iter().filter_map(|e| story.show(e)).collect()
    }
}

/// The scenarios of the chapter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ScenarioName {
    /// Empty servers started one by one: the middle one leads.
    FirstStart,
    /// The whole ensemble restarts with different logs: the most up to date leads.
    Restart,
    /// The leader dies, the rest elect a new one, the old leader comes back and follows.
    LeaderCrash,
    /// A minority cut off cannot elect; after the heal it joins.
    Partition,
    /// An observer learns the leader but is never counted.
    Observer,
    /// The model checker's ensemble: 3 servers, two of them a txn ahead (see `--model-check`).
    Checked,
}

impl ScenarioName {
    /// Every scenario, in the chapter's order.
    pub const ALL: [ScenarioName; 5] = [
        ScenarioName::FirstStart,
        ScenarioName::Restart,
        ScenarioName::LeaderCrash,
        ScenarioName::Partition,
        ScenarioName::Observer,
    ];

    /// The name on the command line: `first-start`.
    pub fn as_str(self) -> &'static str {
        match self {
            ScenarioName::FirstStart => "first-start",
            ScenarioName::Restart => "restart",
            ScenarioName::LeaderCrash => "leader-crash",
            ScenarioName::Partition => "partition",
            ScenarioName::Observer => "observer",
            ScenarioName::Checked => "checked",
        }
    }
}

/// A scenario ready to run: servers, faults, and when the story is over.
pub struct Setup {
    /// A lab's deliberate bug, in the `checked` scenario.
    pub flaw: Option<Flaw>,
    /// Which scenario.
    pub name: ScenarioName,
    /// One line saying what to watch for.
    pub about: String,
    /// The servers, in sid order.
    pub servers: Vec<Server>,
    /// Crashes, restarts, partitions, heals.
    pub faults: Scenario<Message, SimTimer>,
    /// The story is over once every running server has decided, after this time.
    pub settle_after_ms: Millis,
    /// Give up here.
    pub deadline_ms: Millis,
}

fn ensemble(voters: u64, observers: &[Sid]) -> Config {
    Config::new(Arc::new(QuorumMaj::new(
        (1..=voters).map(Sid),
        observers.iter().copied(),
    )))
}

// ANCHOR: scenarios
/// The scenario `name` with `n` voting servers.
pub fn setup(name: ScenarioName, n: u64) -> Setup {
    let config = ensemble(n, &[]);
    let empty = |sid| Server::new(sid, config.clone(), Durable::default());
    let leader = n; // with equal logs, the highest sid wins a simultaneous start
    let (about, servers, faults, settle_after_ms) = match name {
        ScenarioName::FirstStart => (
            format!(
                "{n} empty servers started one by one, 500 ms apart: n{} leads as soon as {} of {n} vote for it",
                n / 2 + 1,
                n / 2 + 1
            ),
            (1..=n).map(|s| empty(Sid(s)).starting_at((s - 1) * 500)).collect(),
            Scenario::new(),
            0,
        ),
        ScenarioName::Restart => (
            format!("{n} servers restart together with different logs: the highest (epoch, zxid, sid) leads"),
            (1..=n)
                .map(|s| Server::new(Sid(s), config.clone(), restart_disk(s, n)))
                .collect(),
            Scenario::new(),
            0,
        ),
        ScenarioName::LeaderCrash => (
            format!("leader n{leader} crashes; after syncLimit the others elect n{}; n{leader} returns and follows", n - 1),
            (1..=n).map(Sid).map(empty).collect(),
            Scenario::new().crash(2_500, leader).restart(15_000, leader),
            15_000,
        ),
        ScenarioName::Partition => {
            let minority: Vec<NodeId> = ((n / 2 + 2)..=n).collect();
            let majority: Vec<NodeId> = (1..=n / 2 + 1).collect();
            let groups = vec![majority.clone(), minority.clone()];
            (
                format!(
                    "{{{}}} is cut off, leader n{leader} among them: no quorum there; {{{}}} elect n{}; after the heal all follow it",
                    names(&minority),
                    names(&majority),
                    n / 2 + 1
                ),
                (1..=n).map(Sid).map(empty).collect(),
                Scenario::new()
                    .partition(2_500, groups)
                    .heal(40_000),
                40_000,
            )
        }
        ScenarioName::Checked => {
            let checked = crate::model_check::setup(None);
            (checked.about, checked.servers, checked.faults, checked.settle_after_ms)
        }
        ScenarioName::Observer => {
            let observer = n + 1;
            let config = ensemble(n, &[Sid(observer)]);
            (
                format!("n{observer} is an observer: it learns that n{n} leads, and its vote never counts"),
                (1..=observer)
                    .map(|s| Server::new(Sid(s), config.clone(), Durable::default()))
                    .collect(),
                Scenario::new(),
                0,
            )
        }
    };
    Setup {
        flaw: None,
        name,
        about,
        servers,
        faults,
        settle_after_ms,
        deadline_ms: 300_000,
    }
}
// ANCHOR_END: scenarios

/// The disks of the restart scenario: server 3 and 2 hold the longest log
/// of the last epoch (3 wins the tie on sid), the highest sid holds the
/// shortest, and server 4 missed the last epoch altogether.
fn restart_disk(sid: u64, n: u64) -> Durable {
    let (epoch, counter) = match sid {
        1 => (Epoch(2), 2),
        2 | 3 => (Epoch(2), 3),
        4 => (Epoch(1), 9),
        s if s == n => (Epoch(2), 1),
        _ => (Epoch(2), 2),
    };
    Durable {
        current_epoch: epoch,
        last_logged_zxid: Zxid::new(epoch, counter),
    }
}

fn names(nodes: &[NodeId]) -> String {
    let v: Vec<String> = nodes.iter().map(|s| format!("n{s}")).collect();
    v.join(" ")
}

/// The network of every scenario: no loss, 5..15 ms per message (the seed
/// picks each latency).
pub fn network() -> Network {
    Network {
        latency_min_ms: 5,
        latency_max_ms: 15,
        ..Network::default()
    }
}

impl Setup {
    /// The simulation of this scenario with `seed`, invariants attached.
    pub fn sim(&self, seed: u64) -> Sim<Server> {
        if self.name == ScenarioName::Checked {
            return crate::model_check::simulation(self.flaw, seed);
        }
        let command = format!(
            "cargo run -p ch05-election -- --trace --scenario {} --servers {} --seed {seed}",
            self.name.as_str(),
            self.servers
                .iter()
                .filter(|s| s.peer().config().qv.is_voter(s.peer().sid()))
                .count()
        );
        Sim::new(seed, network(), self.servers.clone(), Server::recover)
            .with_scenario(self.faults.clone())
            .replay_command(command)
            .invariant("one leader at a time", one_leader_at_a_time())
    }

    /// Whether the story is over: past the last fault, every running server decided.
    pub fn settled(&self, sim: &Sim<Server>) -> bool {
        sim.now() >= self.settle_after_ms
            && sim
                .nodes()
                .all(|s| sim.is_up(s.id()) && s.is_running() && s.peer().decided().is_some())
    }
}

// ANCHOR: one_leader
/// Safety: at any moment at most one server leads with a quorum behind it
/// (a quorum of running servers, itself included, that decided for it).
/// Quorums intersect and a server decides for one leader at a time, so a
/// second one would mean the election is broken.
///
/// Note what this does *not* say: that a round has one leader forever.
/// `logicalclock` lives in memory, so servers that restart count rounds
/// from 1 again; a reign is named uniquely only by the epoch Zab gives it
/// after the election (chapter 6).
pub fn one_leader_at_a_time() -> impl FnMut(&Sim<Server>) -> Result<(), String> {
    move |sim| {
        let servers: Vec<(&Server, bool)> = sim.nodes().map(|s| (s, sim.is_up(s.id()))).collect();
        let leaders: Vec<String> = leaders_with_quorum(&servers)
            .iter()
            .map(|(round, leader)| format!("n{leader} (round {round})"))
            .collect();
        match leaders.len() {
            0 | 1 => Ok(()),
            _ => Err(format!("two leaders with a quorum: {}", leaders.join(", "))),
        }
    }
}

/// The servers that lead with a quorum behind them, as `(round, leader)`: of `servers`, each
/// with whether it is up, those LEADING in the round a quorum of up servers decided for them.
pub fn leaders_with_quorum(servers: &[(&Server, bool)]) -> Vec<(Round, Sid)> {
    let Some(qv) = servers
        .first()
        .map(|(s, _)| Arc::clone(&s.peer().config().qv))
    else {
        return Vec::new();
    };
    let mut support: BTreeMap<(Round, Sid), BTreeSet<Sid>> = BTreeMap::new();
    for (s, _) in servers.iter().filter(|(_, up)| *up) {
        if let Some((vote, round)) = s.peer().decided() {
            support
                .entry((round, vote.leader))
                .or_default()
                .insert(s.peer().sid());
        }
    }
    let up_leader = |sid: Sid| servers.iter().find(|(s, up)| *up && s.peer().sid() == sid);
    support
        .into_iter()
        .filter(|((round, leader), sids)| {
            up_leader(*leader).is_some_and(|(lead, _)| {
                lead.peer().state() == ServerState::Leading
                    && lead.peer().decided().map(|d| d.1) == Some(*round)
                    && qv.contains_quorum(sids)
            })
        })
        .map(|(key, _)| key)
        .collect()
}
// ANCHOR_END: one_leader

/// What `zkServer.sh status` prints about a server's role.
pub fn status_line(s: &Server, up: bool) -> String {
    match s.peer().state().mode() {
        Some(mode) if up && s.is_running() => format!("Mode: {mode}"),
        _ => "Error contacting service. It is probably not running.".to_string(),
    }
}

/// A finished run: the story and where every server ended.
pub struct Run {
    /// The trace, told as a story.
    pub story: Vec<ElectionEntry>,
    /// `(sid, zkServer.sh status line)`, in sid order.
    pub status: Vec<(Sid, String)>,
    /// The servers, left to right in the diagram.
    pub ids: Vec<NodeId>,
    /// Whether every server decided before the deadline.
    pub settled: bool,
}

/// Run scenario `setup` with `seed` to its end.
pub fn run(setup: &Setup, seed: u64) -> Result<Run, String> {
    run_with(setup, seed, Scenario::new())
}

/// Run scenario `setup` with `seed` to its end, after the faults and the stepped choices of
/// `file` (a `--scenario-file`, as `--step` saves it).
pub fn run_with(
    setup: &Setup,
    seed: u64,
    file: Scenario<Message, SimTimer>,
) -> Result<Run, String> {
    let mut sim = setup.sim(seed);
    sim.play(file).map_err(|e| e.to_string())?;
    let settled = sim
        .run_until_condition(setup.deadline_ms, |sim| setup.settled(sim))
        .map_err(|v| v.to_string())?;
    Ok(finish(&sim, settled))
}

/// The story and statuses of `sim` as it stands.
pub fn finish(sim: &Sim<Server>, settled: bool) -> Run {
    Run {
        story: Story::tell(sim.trace()),
        status: sim
            .nodes()
            .map(|s| (s.peer().sid(), status_line(s, sim.is_up(s.id()))))
            .collect(),
        ids: sim.ids(),
        settled,
    }
}
