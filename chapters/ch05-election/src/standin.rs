//! After the election, a stand-in for the heartbeat Zab gives a real
//! ensemble; chapter 6 has the real one.
//!
//! [`Peer`] elects and stops: its story ends in `Decided`. In ZooKeeper, Zab
//! takes over from there, and Zab's `PING` is how a follower learns that its
//! leader died and a leader learns that it lost its quorum; either one then
//! elects again. This chapter has no Zab, yet its leader-crash and partition
//! scenarios, and its servers over TCP, need somebody to notice. So a
//! [`Member`] of the ensemble is the election plus the least heartbeat that
//! does the job, each rule one match arm:
//!
//! - **a leader pings** every other member once a tick (`tickTime`);
//! - **a follower answers** its own leader's ping (an observer too), and
//!   every ping renews its patience;
//! - **a follower whose leader is silent** for `syncLimit` ticks looks again;
//! - **a leader that heard no quorum** in `syncLimit` ticks looks again.
//!
//! Looking again is [`Peer::look_again`] with the same disk: a new round.
//!
//! How it differs from Zab (chapter 6): one ping per tick instead of one per
//! half tick, pings that carry the election round instead of a zxid, on the
//! election port instead of a quorum connection, and no sync, no proposals,
//! no sessions. On the election port a ping is a 12-byte frame payload
//! ([`Message::encode`]), which a real ZooKeeper drops as too short to be a
//! notification: just what we want from a frame it has no use for.
//!
//! Upstream, for the real thing: `Leader.lead` (the ping loop and
//! `syncedAckSet.hasAllQuorums`), `Learner.ping`, `Follower.followLeader`
//! (a read timeout of `syncLimit * tickTime` ends it).

use crate::notification::{DecodeError, Notification};
use crate::peer::{
    self, sids, Durable, Input as ElectionInput, Millis, Note as ElectionNote,
    Output as ElectionOutput, Peer,
};
use crate::quorum::QuorumVerifier;
use crate::vote::{Round, ServerState};
use ch01_znode::Sid;
use serde::Serialize;
use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

/// What travels between two members on the election port.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Message {
    /// A vote (ZooKeeper's only election message).
    Notification(Notification),
    /// Stand-in for Zab's PING: "I still lead the ensemble of round `round`".
    Ping { round: Round },
    /// A follower's answer to a ping.
    PingReply { round: Round },
}

/// The first 4 bytes of a ping's frame payload; the round's 8 follow.
const PING: i32 = 0x7a6b_0001;
/// The same for a ping reply.
const PING_REPLY: i32 = 0x7a6b_0002;

impl Message {
    /// The frame payload: a notification's own bytes, or 12 for a ping
    /// (its kind, then the round).
    pub fn encode(&self) -> Vec<u8> {
        let (kind, round) = match self {
            Message::Notification(n) => return n.encode(),
            Message::Ping { round } => (PING, *round),
            Message::PingReply { round } => (PING_REPLY, *round),
        };
        let mut out = kind.to_be_bytes().to_vec();
        out.extend(round.0.to_be_bytes());
        out
    }

    /// The message in a frame payload: a ping if it is one, else whatever
    /// [`Notification::decode`] makes of it.
    pub fn decode(payload: &[u8]) -> Result<Message, DecodeError> {
        if payload.len() == 12 {
            let kind = i32::from_be_bytes(payload[..4].try_into().expect("4 bytes"));
            let round = Round(i64::from_be_bytes(
                payload[4..].try_into().expect("8 bytes"),
            ));
            match kind {
                PING => return Ok(Message::Ping { round }),
                PING_REPLY => return Ok(Message::PingReply { round }),
                _ => {}
            }
        }
        Notification::decode(payload).map(Message::Notification)
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Message::Notification(n) => n.fmt(f),
            Message::Ping { round } => write!(f, "ping, round {round}"),
            Message::PingReply { round } => write!(f, "ping reply, round {round}"),
        }
    }
}

/// A member's waits, each a timer: the election's, and the heartbeat's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Timer {
    /// One of the election's own ([`peer::Timer`]).
    Election(peer::Timer),
    /// The leader's heartbeat period (ZooKeeper's `tickTime`).
    Tick,
    /// A follower's patience with a silent leader (`syncLimit` ticks).
    LeaderSilent,
}

impl fmt::Display for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Timer::Election(t) => t.fmt(f),
            Timer::Tick => f.write_str("tick"),
            Timer::LeaderSilent => f.write_str("syncLimit"),
        }
    }
}

/// What drives a member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// The process starts (or restarts after a crash).
    Start,
    /// A message from server `from`.
    Receive { from: Sid, msg: Message },
    /// A timer this member armed went off.
    Timeout(Timer),
}

/// What a step asks the driver to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Deliver `msg` to `to` (to ourselves included: our own vote comes back
    /// as a notification like any other).
    Send { to: Sid, msg: Message },
    /// Arm (or re-arm) a timer.
    SetTimer { timer: Timer, after_ms: Millis },
    /// Disarm a timer.
    CancelTimer(Timer),
    /// A fact worth tracing.
    Note(Note),
}

/// A member's story: the election's, as it tells it, and the heartbeat's
/// two lines.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "what", rename_all = "snake_case")]
pub enum Note {
    /// A follower stopped hearing from its leader.
    LeaderLost { leader: Sid },
    /// A leader stopped hearing from a quorum.
    LostQuorum { heard: Vec<Sid> },
    /// One of the election's ([`peer::Note`]), in its own words and JSON.
    #[serde(untagged)]
    Election(ElectionNote),
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::LeaderLost { leader } => write!(f, "leader n{leader} went silent"),
            Note::LostQuorum { heard } => {
                write!(f, "hears only {}: no quorum, stops leading", sids(heard))
            }
            Note::Election(n) => n.fmt(f),
        }
    }
}

/// The election's configuration, and the heartbeat's two numbers.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Config {
    /// Membership, quorum rule, vote order, finalizeWait and back-off.
    pub election: peer::Config,
    /// `tickTime` (2000 ms): the heartbeat period.
    pub tick_ms: Millis,
    /// `syncLimit` (5 ticks): how long silence is tolerated.
    pub sync_limit: u32,
}

impl Config {
    /// ZooKeeper's defaults for the ensemble `qv`.
    pub fn new(qv: Arc<dyn QuorumVerifier>) -> Self {
        Config {
            election: peer::Config::new(qv),
            tick_ms: 2000,
            sync_limit: 5,
        }
    }
}

/// One member of the ensemble: its election, then the stand-in heartbeat.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Member {
    peer: Peer,
    config: Config,
    /// Leader: who answered pings in this `syncLimit` window.
    heard: BTreeSet<Sid>,
    /// Leader: ticks since the window opened.
    ticks: u32,
}

impl Member {
    /// Server `sid` of the ensemble in `config`, with its disk state.
    pub fn new(sid: Sid, config: Config, durable: Durable) -> Member {
        Member {
            peer: Peer::new(sid, config.election.clone(), durable),
            config,
            heard: BTreeSet::new(),
            ticks: 0,
        }
    }

    /// The election inside: its state, round and decision.
    pub fn peer(&self) -> &Peer {
        &self.peer
    }

    /// The configuration this member was built with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Feed one input; get what to do.
    pub fn step(&mut self, input: Input) -> Vec<Output> {
        let mut out = Vec::new();
        match input {
            Input::Start => self.elect(ElectionInput::Start, &mut out),
            Input::Receive {
                from,
                msg: Message::Notification(n),
            } => self.elect(ElectionInput::Receive { from, n }, &mut out),
            Input::Receive {
                from,
                msg: Message::Ping { round },
            } => self.on_ping(from, round, &mut out),
            Input::Receive {
                from,
                msg: Message::PingReply { round },
            } => self.on_ping_reply(from, round),
            Input::Timeout(timer) => self.on_timeout(timer, &mut out),
        }
        out
    }

    /// Feed the election, and pass on what it says.
    fn elect(&mut self, input: ElectionInput, out: &mut Vec<Output>) {
        let said = self.peer.step(input);
        self.relay(said, out);
    }

    /// Look for a leader again, with the same disk: a new round.
    fn look_again(&mut self, out: &mut Vec<Output>) {
        let said = self.peer.look_again(self.peer.durable());
        self.relay(said, out);
    }

    // ANCHOR: relay
    /// The election's outputs as a member's; right after its decision, the
    /// heartbeat starts.
    fn relay(&mut self, said: Vec<ElectionOutput>, out: &mut Vec<Output>) {
        for o in said {
            match o {
                ElectionOutput::Send { to, n } => out.push(Output::Send {
                    to,
                    msg: Message::Notification(n),
                }),
                ElectionOutput::SetTimer { timer, after_ms } => out.push(Output::SetTimer {
                    timer: Timer::Election(timer),
                    after_ms,
                }),
                ElectionOutput::CancelTimer(timer) => {
                    out.push(Output::CancelTimer(Timer::Election(timer)))
                }
                ElectionOutput::Note(note) => {
                    let decided = matches!(note, ElectionNote::Decided { .. });
                    out.push(Output::Note(Note::Election(note)));
                    if decided {
                        self.start_heartbeat(out);
                    }
                }
            }
        }
    }

    /// A new leader starts ticking; a follower or observer starts listening.
    fn start_heartbeat(&mut self, out: &mut Vec<Output>) {
        let (timer, after_ms) = match self.peer.state() {
            ServerState::Leading => {
                self.heard.clear();
                self.ticks = 0;
                (Timer::Tick, self.config.tick_ms)
            }
            _ => (Timer::LeaderSilent, self.silence_ms()),
        };
        out.push(Output::SetTimer { timer, after_ms });
    }
    // ANCHOR_END: relay

    /// How long a follower waits for its leader: `syncLimit` ticks.
    fn silence_ms(&self) -> Millis {
        self.config.tick_ms * Millis::from(self.config.sync_limit)
    }

    /// Whether this member follows (or observes) a leader.
    fn following(&self) -> bool {
        matches!(
            self.peer.state(),
            ServerState::Following | ServerState::Observing
        )
    }

    // ANCHOR: heartbeat
    fn on_timeout(&mut self, timer: Timer, out: &mut Vec<Output>) {
        let leading = self.peer.state() == ServerState::Leading;
        match timer {
            // The election's own waits are the election's business.
            Timer::Election(t) => self.elect(ElectionInput::Timeout(t), out),
            // A leader that heard no quorum for syncLimit ticks steps down.
            Timer::Tick if leading && self.ticks + 1 >= self.config.sync_limit => {
                let mut heard = self.heard.clone();
                heard.insert(self.peer.sid());
                if self.config.election.qv.contains_quorum(&heard) {
                    self.heard.clear();
                    self.ticks = 0;
                    self.ping_all(out);
                } else {
                    out.push(Output::Note(Note::LostQuorum {
                        heard: heard.into_iter().collect(),
                    }));
                    self.look_again(out);
                }
            }
            // Otherwise a leader pings everyone each tick.
            Timer::Tick if leading => {
                self.ticks += 1;
                self.ping_all(out);
            }
            // A follower whose leader stayed silent looks for a new one.
            Timer::LeaderSilent if self.following() => {
                let (vote, _) = self.peer.decided().expect("a follower has decided");
                out.push(Output::Note(Note::LeaderLost {
                    leader: vote.leader,
                }));
                self.look_again(out);
            }
            // A timer from a role we already left.
            _ => {}
        }
    }
    // ANCHOR_END: heartbeat

    /// The leader's heartbeat to every other member, and the next tick.
    fn ping_all(&self, out: &mut Vec<Output>) {
        let (_, round) = self.peer.decided().expect("a leader has decided");
        for to in self.config.election.qv.all_members() {
            if to != self.peer.sid() {
                out.push(Output::Send {
                    to,
                    msg: Message::Ping { round },
                });
            }
        }
        out.push(Output::SetTimer {
            timer: Timer::Tick,
            after_ms: self.config.tick_ms,
        });
    }

    fn on_ping(&mut self, from: Sid, round: Round, out: &mut Vec<Output>) {
        match self.peer.decided() {
            // Our leader is alive: stay, and say so.
            Some((vote, r)) if self.following() && vote.leader == from && r == round => {
                out.push(Output::SetTimer {
                    timer: Timer::LeaderSilent,
                    after_ms: self.silence_ms(),
                });
                out.push(Output::Send {
                    to: from,
                    msg: Message::PingReply { round },
                });
            }
            // Someone else's heartbeat, or we are looking: ignore it.
            _ => {}
        }
    }

    fn on_ping_reply(&mut self, from: Sid, round: Round) {
        let leading = self.peer.state() == ServerState::Leading;
        if leading && self.peer.decided().is_some_and(|(_, r)| r == round) {
            self.heard.insert(from);
        }
    }
}

#[cfg(test)]
#[path = "standin_tests.rs"]
mod tests;
