//! One server's election, as a pure state machine: `step(Input) -> Vec<Output>`.
//!
//! ZooKeeper's `lookForLeader()` is a loop that blocks on a queue: poll for a
//! notification with a timeout, back off when nothing comes, wait
//! `finalizeWait` once a quorum agrees. Here every wait is a timer the caller
//! arms ([`Output::SetTimer`]) and every wake-up is an input
//! ([`Input::Timeout`]), so the same code runs in the simulator, where time
//! is virtual, and over TCP, where tokio keeps the clock.
//!
//! The rules, each one match arm below:
//! - **start**: `logicalclock += 1`, vote for yourself, tell every voter
//!   (yourself included);
//! - **a LOOKING vote from a later round**: jump to that round, forget the
//!   votes counted so far, vote for the better of it and yourself, tell all;
//! - **from an earlier round**: do not count it (the sender gets our vote back);
//! - **from this round and better**: adopt it and tell all;
//! - **count**: when a quorum's votes equal ours, wait `finalizeWait`; a
//!   better vote during the wait reopens the election, silence ends it;
//! - **FOLLOWING/LEADING votes**: a quorum following one leader that says
//!   it is LEADING lets a latecomer join at once;
//! - **nothing for a while**: re-send our vote, double the wait (up to 60 s).
//! - **after the election**: once Zab has established its epoch, the vote we answer
//!   latecomers with carries it ([`Peer::update_election_vote`]).
//!
//! The election ends in [`Note::Decided`], and there this machine stops: what
//! comes next is the caller's. In ZooKeeper it is Zab (chapter 6), whose
//! heartbeat tells a follower that its leader is gone and a leader that its
//! quorum is; [`Peer::look_again`] then starts a new round. This chapter's
//! own servers wrap the election in a small stand-in for that heartbeat
//! ([`crate::standin`]).
//!
//! Upstream: `FastLeaderElection.lookForLeader`, `Messenger.WorkerReceiver`,
//! `receivedFollowingNotification`, `checkLeader`, `Vote.equals`,
//! `QuorumPeer.updateElectionVote`.

use crate::notification::Notification;
use crate::quorum::QuorumVerifier;
use crate::vote::{why_better, zookeeper_order, Round, ServerState, Vote, VoteOrder};
use ch01_znode::{Epoch, Sid, Zxid};
use serde::Serialize;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

/// Virtual or real milliseconds.
pub type Millis = u64;

/// The waits of the election, each a timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Timer {
    /// `recvqueue.poll(notTimeout)`: nothing heard for a while.
    NotTimeout,
    /// The pause after a quorum agrees, in case a better vote is on its way.
    FinalizeWait,
}

impl fmt::Display for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Timer::NotTimeout => "notTimeout",
            Timer::FinalizeWait => "finalizeWait",
        })
    }
}

/// What drives a server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// The process starts (or restarts after a crash).
    Start,
    /// A notification (ZooKeeper's only election message) from server `from`.
    Receive { from: Sid, n: Notification },
    /// A timer this server armed went off.
    Timeout(Timer),
}

/// What a step asks the driver to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Deliver `n` to `to` (to ourselves included: our own vote comes back
    /// as a notification like any other).
    Send { to: Sid, n: Notification },
    /// Arm (or re-arm) a timer.
    SetTimer { timer: Timer, after_ms: Millis },
    /// Disarm a timer.
    CancelTimer(Timer),
    /// A fact worth tracing.
    Note(Note),
}

/// The story of an election, one line each in the trace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "what", rename_all = "snake_case")]
pub enum Note {
    /// The process started, with what its disk says.
    Started { durable: Durable },
    /// Started a round, voting for itself.
    Looking { round: Round, vote: Vote },
    /// Adopted a better vote.
    Switch { vote: Vote, why: &'static str },
    /// Caught up with a later round.
    NewRound { round: Round, vote: Vote },
    /// A quorum agrees with our vote: wait `finalizeWait` before deciding.
    Quorum { vote: Vote, voters: Vec<Sid> },
    /// A better vote arrived during `finalizeWait`.
    Reopen { vote: Vote },
    /// Nothing heard: re-sent the vote; the next wait is longer.
    Backoff { next_ms: Millis },
    /// The election is over for this server.
    Decided {
        state: ServerState,
        leader: Sid,
        round: Round,
    },
}

/// `n1 n2 n3`.
pub(crate) fn sids(s: &[Sid]) -> String {
    let names: Vec<String> = s.iter().map(|s| format!("n{s}")).collect();
    names.join(" ")
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::Started { durable } => write!(
                f,
                "zkServer.sh start (currentEpoch {}, last zxid {})",
                durable.current_epoch, durable.last_logged_zxid
            ),
            Note::Looking { round, vote } if *vote == Vote::NOBODY => {
                write!(f, "round {round}: an observer, votes for nobody")
            }
            Note::Looking { round, vote } => {
                write!(f, "round {round}: votes for itself, {vote}")
            }
            Note::Switch { vote, why } => write!(f, "switches to {vote}: {why}"),
            Note::NewRound { round, vote } => write!(f, "joins round {round}, votes {vote}"),
            Note::Quorum { vote, voters } => write!(
                f,
                "quorum for n{}: {} agree; waits finalizeWait",
                vote.leader,
                sids(voters)
            ),
            Note::Reopen { vote } => write!(f, "better vote {vote} during finalizeWait: reopens"),
            Note::Backoff { next_ms } => {
                write!(f, "no news: re-sends its vote, next wait {next_ms} ms")
            }
            Note::Decided {
                state: ServerState::Leading,
                round,
                ..
            } => write!(f, "elected in round {round}: leads"),
            Note::Decided {
                state: ServerState::Observing,
                leader,
                round,
            } => write!(f, "n{leader} was elected in round {round}: observes it"),
            Note::Decided { leader, round, .. } => {
                write!(f, "n{leader} was elected in round {round}: follows it")
            }
        }
    }
}

/// What a server keeps on disk across restarts: the election reads it to
/// build its first vote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Durable {
    /// The `currentEpoch` file.
    pub current_epoch: Epoch,
    /// The last zxid in the transaction log.
    pub last_logged_zxid: Zxid,
}

/// The ensemble and the tunables every server shares.
#[derive(Clone, Debug)]
pub struct Config {
    /// Membership and quorum rule.
    pub qv: Arc<dyn QuorumVerifier>,
    /// The vote order (ZooKeeper's, unless a lab swaps it).
    pub order: VoteOrder,
    /// `finalizeWait` (200 ms).
    pub finalize_wait_ms: Millis,
    /// `minNotificationInterval` (200 ms): the first `notTimeout`.
    pub min_notification_interval_ms: Millis,
    /// `maxNotificationInterval` (60 s): the backoff cap.
    pub max_notification_interval_ms: Millis,
}

/// Two configurations are the same when they share one ensemble (the same `qv`) and one vote
/// order: a run's servers are all built from one.
impl PartialEq for Config {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.qv, &other.qv)
            && std::ptr::fn_addr_eq(self.order, other.order)
            && (
                self.finalize_wait_ms,
                self.min_notification_interval_ms,
                self.max_notification_interval_ms,
            ) == (
                other.finalize_wait_ms,
                other.min_notification_interval_ms,
                other.max_notification_interval_ms,
            )
    }
}

impl Eq for Config {}

/// The numbers only: equal configurations have equal numbers, which is all `Hash` promises.
impl std::hash::Hash for Config {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.finalize_wait_ms.hash(h);
        self.min_notification_interval_ms.hash(h);
        self.max_notification_interval_ms.hash(h);
    }
}

impl Config {
    /// ZooKeeper's defaults for the ensemble `qv`.
    pub fn new(qv: Arc<dyn QuorumVerifier>) -> Self {
        Config {
            qv,
            order: zookeeper_order,
            finalize_wait_ms: 200,
            min_notification_interval_ms: 200,
            max_notification_interval_ms: 60_000,
        }
    }
}

/// A vote as counted in `recvset` / `outofelection`: with the round it was
/// cast in and the state of the server that cast it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Ballot {
    vote: Vote,
    round: Round,
    state: ServerState,
}

impl Ballot {
    // ANCHOR: same_ballot
    /// ZooKeeper's `Vote.equals`: a LOOKING vote must match in everything;
    /// between servers out of the election only leader and epoch matter,
    /// since their zxids and rounds move on after the vote (ZOOKEEPER-1805).
    fn same(&self, other: &Ballot) -> bool {
        if self.state == ServerState::Looking || other.state == ServerState::Looking {
            self.vote == other.vote && self.round == other.round
        } else {
            self.vote.leader == other.vote.leader && self.vote.peer_epoch == other.vote.peer_epoch
        }
    }
    // ANCHOR_END: same_ballot
}

/// One server's FastLeaderElection. Comparable and hashable so a model checker can tell states
/// apart.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Peer {
    sid: Sid,
    config: Config,
    durable: Durable,
    state: ServerState,
    /// The election round, `logicalclock`: survives elections, not restarts.
    logical_clock: Round,
    /// The vote we currently push.
    proposal: Vote,
    /// The decided vote and its round, once not LOOKING.
    current: (Vote, Round),
    /// Votes of this round, by sender.
    recvset: BTreeMap<Sid, Ballot>,
    /// FOLLOWING/LEADING votes of any round, by sender.
    outofelection: BTreeMap<Sid, Ballot>,
    /// The current backoff: the next poll's timeout.
    not_timeout_ms: Millis,
    /// In `finalizeWait`: a quorum agreed, waiting for a better vote.
    finalizing: bool,
}

impl Peer {
    /// Server `sid` of the ensemble in `config`, with its disk state.
    pub fn new(sid: Sid, config: Config, durable: Durable) -> Peer {
        Peer {
            sid,
            durable,
            state: ServerState::Looking,
            logical_clock: Round(0),
            proposal: Vote::NOBODY,
            current: (Vote::NOBODY, Round(0)),
            recvset: BTreeMap::new(),
            outofelection: BTreeMap::new(),
            not_timeout_ms: config.min_notification_interval_ms,
            finalizing: false,
            config,
        }
    }

    /// This server's id.
    pub fn sid(&self) -> Sid {
        self.sid
    }
    /// LOOKING, FOLLOWING, LEADING or OBSERVING.
    pub fn state(&self) -> ServerState {
        self.state
    }
    /// What survives a crash.
    pub fn durable(&self) -> Durable {
        self.durable
    }
    /// The election round (`logicalclock`).
    pub fn logical_clock(&self) -> Round {
        self.logical_clock
    }
    /// The vote pushed while LOOKING.
    pub fn proposal(&self) -> Vote {
        self.proposal
    }
    /// The elected leader and the round that elected it, once decided.
    pub fn decided(&self) -> Option<(Vote, Round)> {
        (self.state != ServerState::Looking).then_some(self.current)
    }
    /// The shared configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Whether this server votes (observers do not).
    fn is_voter(&self) -> bool {
        self.config.qv.is_voter(self.sid)
    }

    // ANCHOR: init_vote
    /// The first vote of every round: ourselves, with what our disk says
    /// (`getInitId`, `getInitLastLoggedZxid`, `getPeerEpoch`). An observer
    /// votes for nobody.
    fn init_vote(&self) -> Vote {
        if self.is_voter() {
            Vote {
                leader: self.sid,
                zxid: self.durable.last_logged_zxid,
                peer_epoch: self.durable.current_epoch,
            }
        } else {
            Vote::NOBODY
        }
    }
    // ANCHOR_END: init_vote

    // ANCHOR: beats
    /// `totalOrderPredicate`: does `new` beat `cur`? A candidate of weight 0
    /// (an observer, nobody) never does; otherwise the vote order decides.
    fn beats(&self, new: &Vote, cur: &Vote) -> bool {
        self.config.qv.weight(new.leader) > 0 && (self.config.order)(new, cur) == Ordering::Greater
    }
    // ANCHOR_END: beats

    /// The vote we answer with, and its round: the proposal while looking,
    /// the decided vote afterwards (`getCurrentVote`).
    fn current_vote(&self) -> (Vote, Round) {
        match self.state {
            ServerState::Looking => (self.proposal, self.logical_clock),
            _ => self.current,
        }
    }

    /// Feed one input; get what to do.
    pub fn step(&mut self, input: Input) -> Vec<Output> {
        let mut out = Vec::new();
        match input {
            Input::Start => {
                out.push(Output::Note(Note::Started {
                    durable: self.durable,
                }));
                self.look_for_leader(&mut out)
            }
            Input::Receive { from, n } => self.receive(from, n, &mut out),
            Input::Timeout(timer) => self.on_timeout(timer, &mut out),
        }
        out
    }

    /// Elect again, with what the disk says now: after Zab ended (chapter 6),
    /// when the last logged zxid and currentEpoch may have moved since the last
    /// election, or after the stand-in heartbeat gave up ([`crate::standin`]).
    pub fn look_again(&mut self, durable: Durable) -> Vec<Output> {
        self.durable = durable;
        let mut out = Vec::new();
        self.look_for_leader(&mut out);
        out
    }

    // ANCHOR: update_election_vote
    /// Zab has established `epoch` under the leader we decided for: from now on the vote we
    /// answer latecomers with carries that epoch (`QuorumPeer.updateElectionVote`, called by
    /// `Leader.lead` and `Learner.syncWithLeader`). Between servers out of the election a vote
    /// is only its leader and its epoch (`Ballot::same`), so a latecomer counts the members
    /// of one ensemble as a quorum only if all of them report the epoch the same way: a
    /// ZooKeeper member reports the new one (ZOOKEEPER-1732), and so must we. While looking
    /// there is nothing to update.
    pub fn update_election_vote(&mut self, epoch: Epoch) {
        if self.state != ServerState::Looking {
            self.current.0.peer_epoch = epoch;
        }
    }
    // ANCHOR_END: update_election_vote

    // ANCHOR: look_for_leader
    /// A new round: `logicalclock += 1`, vote for ourselves, tell every voter.
    fn look_for_leader(&mut self, out: &mut Vec<Output>) {
        self.state = ServerState::Looking;
        self.logical_clock = self.logical_clock.next();
        self.proposal = self.init_vote();
        self.recvset.clear();
        self.outofelection.clear();
        self.finalizing = false;
        self.not_timeout_ms = self.config.min_notification_interval_ms;
        out.push(Output::Note(Note::Looking {
            round: self.logical_clock,
            vote: self.proposal,
        }));
        self.send_notifications(out);
        self.poll(out);
    }
    // ANCHOR_END: look_for_leader

    /// `sendNotifications`: our proposal, to every voter, ourselves included.
    fn send_notifications(&self, out: &mut Vec<Output>) {
        for to in self.config.qv.voting_members() {
            let n = Notification::new(ServerState::Looking, self.proposal, self.logical_clock);
            out.push(Output::Send { to, n });
        }
    }

    /// (Re-)arm the poll timeout: `recvqueue.poll(notTimeout)`.
    fn poll(&self, out: &mut Vec<Output>) {
        out.push(Output::SetTimer {
            timer: Timer::NotTimeout,
            after_ms: self.not_timeout_ms,
        });
    }

    /// Answer `to` with our current vote, in our state.
    fn reply(&self, to: Sid, vote: Vote, round: Round, out: &mut Vec<Output>) {
        let n = Notification::new(self.state, vote, round);
        out.push(Output::Send { to, n });
    }

    // ANCHOR: receive
    /// `WorkerReceiver`: what happens to a notification before the election
    /// loop sees it.
    fn receive(&mut self, from: Sid, n: Notification, out: &mut Vec<Output>) {
        let (vote, round) = self.current_vote();
        match (self.state, n.state) {
            // A non-voter (an observer) that is looking is answered at once and never
            // counted. One that has decided is not answered: its notification is itself an
            // answer. Upstream answers every notification from a non-voter, so a looking
            // voter and an observing observer answer each other for as long as the voter
            // looks, and every duplicated message starts one more such exchange.
            _ if !self.config.qv.is_voter(from) && n.state == ServerState::Looking => {
                self.reply(from, vote, self.logical_clock, out)
            }
            _ if !self.config.qv.is_voter(from) => {}
            // Looking: the election loop takes it. A voter that lags a round
            // behind also gets our vote back, so it can catch up.
            (ServerState::Looking, sender) => {
                if sender == ServerState::Looking
                    && n.election_epoch < self.logical_clock
                    && self.is_voter()
                {
                    self.reply(from, vote, round, out);
                }
                self.on_notification(from, n, out);
            }
            // Decided, and the sender is looking: tell it who leads. This is
            // how a latecomer learns the leader.
            (_, ServerState::Looking) => self.reply(from, vote, round, out),
            // Both decided: nothing to say.
            _ => {}
        }
    }
    // ANCHOR_END: receive

    // ANCHOR: finalize_wait
    /// The election loop's view of a notification, while in `finalizeWait`
    /// or not.
    fn on_notification(&mut self, from: Sid, n: Notification, out: &mut Vec<Output>) {
        match self.finalizing {
            // A better vote during finalizeWait: back to the election loop.
            true if self.beats(&n.vote, &self.proposal) => {
                self.finalizing = false;
                out.push(Output::CancelTimer(Timer::FinalizeWait));
                out.push(Output::Note(Note::Reopen { vote: n.vote }));
                self.look(from, n, out);
            }
            // Anything else is consumed, and the 200 ms wait starts over.
            true => out.push(Output::SetTimer {
                timer: Timer::FinalizeWait,
                after_ms: self.config.finalize_wait_ms,
            }),
            false => self.look(from, n, out),
        }
    }
    // ANCHOR_END: finalize_wait

    // ANCHOR: look
    /// One turn of `lookForLeader`'s loop, for notification `n` from `from`.
    fn look(&mut self, from: Sid, n: Notification, out: &mut Vec<Output>) {
        let qv = Arc::clone(&self.config.qv);
        match n.state {
            // Only votes from voters, for voters, take part.
            _ if !qv.is_voter(from) || !qv.is_voter(n.vote.leader) => self.poll(out),
            // A later round: jump to it, forget this round's count, and vote
            // for the better of its vote and our own first vote.
            ServerState::Looking if n.election_epoch > self.logical_clock => {
                self.logical_clock = n.election_epoch;
                self.recvset.clear();
                let init = self.init_vote();
                self.proposal = if self.beats(&n.vote, &init) {
                    n.vote
                } else {
                    init
                };
                out.push(Output::Note(Note::NewRound {
                    round: self.logical_clock,
                    vote: self.proposal,
                }));
                self.send_notifications(out);
                self.count(from, &n, out);
            }
            // An earlier round: not counted (the receiver already answered).
            ServerState::Looking if n.election_epoch < self.logical_clock => self.poll(out),
            // Same round, better vote: adopt it and tell everyone.
            ServerState::Looking if self.beats(&n.vote, &self.proposal) => {
                let why = why_better(&n.vote, &self.proposal);
                self.proposal = n.vote;
                out.push(Output::Note(Note::Switch { vote: n.vote, why }));
                self.send_notifications(out);
                self.count(from, &n, out);
            }
            // Same round, not better: just count it.
            ServerState::Looking => self.count(from, &n, out),
            // Observers' notifications carry no vote.
            ServerState::Observing => self.poll(out),
            // The sender is out of the election: maybe we can join its leader.
            ServerState::Following | ServerState::Leading => self.join(from, &n, out),
        }
    }
    // ANCHOR_END: look

    // ANCHOR: count
    /// Record `n` in `recvset` and see whether a quorum now shares our vote.
    fn count(&mut self, from: Sid, n: &Notification, out: &mut Vec<Output>) {
        let ballot = Ballot {
            vote: n.vote,
            round: n.election_epoch,
            state: n.state,
        };
        self.recvset.insert(from, ballot);
        let mine = Ballot {
            vote: self.proposal,
            round: self.logical_clock,
            state: ServerState::Looking,
        };
        let voters = agreeing(&self.recvset, &mine);
        if self.config.qv.contains_quorum(&voters) {
            self.finalizing = true;
            out.push(Output::CancelTimer(Timer::NotTimeout));
            out.push(Output::Note(Note::Quorum {
                vote: self.proposal,
                voters: voters.into_iter().collect(),
            }));
            out.push(Output::SetTimer {
                timer: Timer::FinalizeWait,
                after_ms: self.config.finalize_wait_ms,
            });
        } else {
            self.poll(out);
        }
    }
    // ANCHOR_END: count

    // ANCHOR: join
    /// `receivedFollowingNotification`: a FOLLOWING or LEADING server tells
    /// us its leader. Join it once a quorum says the same and the leader
    /// itself says it leads.
    fn join(&mut self, from: Sid, n: &Notification, out: &mut Vec<Output>) {
        let ballot = Ballot {
            vote: n.vote,
            round: n.election_epoch,
            state: n.state,
        };
        let leader = n.vote.leader;
        // Same round: it counts as a vote of this election.
        if n.election_epoch == self.logical_clock {
            self.recvset.insert(from, ballot);
            let voters = agreeing(&self.recvset, &ballot);
            if self.config.qv.contains_quorum(&voters)
                && self.check_leader(&self.recvset, leader, n.election_epoch)
            {
                return self.decide(n.vote, n.election_epoch, out);
            }
        }
        // Any round: an established ensemble we arrived late for.
        self.outofelection.insert(from, ballot);
        let voters = agreeing(&self.outofelection, &ballot);
        if self.config.qv.contains_quorum(&voters)
            && self.check_leader(&self.outofelection, leader, n.election_epoch)
        {
            self.logical_clock = n.election_epoch;
            return self.decide(n.vote, n.election_epoch, out);
        }
        self.poll(out);
    }

    /// `checkLeader`: follow someone else only if it told us itself that it
    /// is LEADING (it may have died since the others voted); lead only if
    /// the round is ours.
    fn check_leader(&self, votes: &BTreeMap<Sid, Ballot>, leader: Sid, round: Round) -> bool {
        if leader != self.sid {
            votes
                .get(&leader)
                .is_some_and(|b| b.state == ServerState::Leading)
        } else {
            self.logical_clock == round
        }
    }
    // ANCHOR_END: join

    // ANCHOR: decide
    /// The election is over: lead, follow, or observe `vote.leader`.
    fn decide(&mut self, vote: Vote, round: Round, out: &mut Vec<Output>) {
        self.state = match vote.leader {
            l if l == self.sid => ServerState::Leading,
            _ if self.is_voter() => ServerState::Following,
            _ => ServerState::Observing,
        };
        self.current = (vote, round);
        self.finalizing = false;
        self.recvset.clear();
        self.outofelection.clear();
        out.push(Output::CancelTimer(Timer::NotTimeout));
        out.push(Output::CancelTimer(Timer::FinalizeWait));
        out.push(Output::Note(Note::Decided {
            state: self.state,
            leader: vote.leader,
            round,
        }));
    }
    // ANCHOR_END: decide

    // ANCHOR: timeout
    fn on_timeout(&mut self, timer: Timer, out: &mut Vec<Output>) {
        match timer {
            // Nothing heard: re-send our vote, and wait twice as long next time. Upstream
            // re-sends only if some peer's send queue has emptied (`haveDelivered`), and
            // otherwise just asks for every connection again (`connectAll`). The core sees no
            // queues, and it needs none: each queue holds one frame, our latest vote, which a
            // re-send replaces with itself, and the connections send it (opening one first if
            // need be) either way.
            Timer::NotTimeout if self.state == ServerState::Looking && !self.finalizing => {
                self.send_notifications(out);
                self.not_timeout_ms =
                    (self.not_timeout_ms * 2).min(self.config.max_notification_interval_ms);
                out.push(Output::Note(Note::Backoff {
                    next_ms: self.not_timeout_ms,
                }));
                self.poll(out);
            }
            // finalizeWait passed with no better vote: the election is over.
            Timer::FinalizeWait if self.finalizing => {
                self.decide(self.proposal, self.logical_clock, out)
            }
            // A timer from a phase we already left.
            _ => {}
        }
    }
    // ANCHOR_END: timeout
}

/// The senders whose ballot equals `mine` (`getVoteTracker`).
fn agreeing(votes: &BTreeMap<Sid, Ballot>, mine: &Ballot) -> BTreeSet<Sid> {
    votes
        .iter()
        .filter(|(_, b)| b.same(mine))
        .map(|(&sid, _)| sid)
        .collect()
}

#[cfg(test)]
#[path = "peer_tests.rs"]
pub(crate) mod tests;
