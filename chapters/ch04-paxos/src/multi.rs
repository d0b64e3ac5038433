//! From one value to a log: Multi-Paxos with a stable leader, the bridge to Zab.
//!
//! Single-decree Paxos chooses one value. A replicated service needs a *sequence* of values: the
//! log of every write. Multi-Paxos runs one Paxos instance per log position ("slot"), and
//! notices that phase 1 does not depend on the slot: a leader can run Prepare/Promise **once**
//! for its ballot, covering every slot at once, and then each write costs only phase 2, one
//! round trip to a majority: `Accept(ballot, slot, value)` out, `Accepted` back, then `Commit`.
//!
//! That is the shape of ZooKeeper's write path (Zab, chapter 6), almost word for word:
//!
//! | Multi-Paxos (here)                      | Zab (ZooKeeper)                                      |
//! |-----------------------------------------|------------------------------------------------------|
//! | ballot: a round above all seen          | epoch: `max(acceptedEpoch of a quorum) + 1`          |
//! | (ballot, slot)                          | zxid = (epoch, counter), shown as `0x..` hex         |
//! | phase 1 once: `Prepare(ballot)`         | discovery: `LEADERINFO(new epoch)`                   |
//! | `Promise` + everything accepted         | `ACKEPOCH` + the follower's last zxid, then sync     |
//! | `Accept(ballot, slot, v)`               | `PROPOSAL(zxid, txn)`                                |
//! | `Accepted(ballot, slot)`                | `ACK(zxid)`                                          |
//! | `Commit(slot)` after a majority         | `COMMIT(zxid)` after a quorum of ACKs                |
//!
//! The differences are why Zab is not "just Multi-Paxos": Zab requires a leader to propose in
//! zxid order over FIFO channels and followers to accept in that order (primary order), so
//! a new leader recovers whole prefixes of the log rather than slot-by-slot values, and it
//! assumes every write goes through the one leader elected by FastLeaderElection (chapter 5).
//!
//! This module is deliberately small: one leader fixed in advance, no leader change, no retries.
//! Its promise carries the acceptor's accepted slots so the shape of recovery is visible.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::paxos::{Ballot, Value};
use crate::sim::{Input, Network, NodeId, Output, Process, Scenario, Sim};

/// A position in the replicated log.
pub type Slot = u64;

// ANCHOR: msg
/// Multi-Paxos messages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum MultiMsg {
    /// A client asks the leader to append a value.
    Request(Value),
    /// Phase 1a, once per leadership, for every slot.
    Prepare { ballot: Ballot },
    /// Phase 1b: a promise, with everything this acceptor accepted in any slot.
    Promise { ballot: Ballot, accepted: Vec<(Slot, Ballot, Value)> },
    /// Phase 2a for one slot (Zab: PROPOSAL).
    Accept { ballot: Ballot, slot: Slot, value: Value },
    /// Phase 2b for one slot, to the leader (Zab: ACK).
    Accepted { ballot: Ballot, slot: Slot },
    /// The slot's value is chosen (Zab: COMMIT).
    Commit { slot: Slot, value: Value },
}
// ANCHOR_END: msg

impl fmt::Display for MultiMsg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MultiMsg::Request(v) => write!(f, "Request {v}"),
            MultiMsg::Prepare { ballot } => write!(f, "Prepare {ballot} (all slots)"),
            MultiMsg::Promise { ballot, accepted } => {
                write!(f, "Promise {ballot} ({} accepted)", accepted.len())
            }
            MultiMsg::Accept { ballot, slot, value } => {
                write!(f, "Accept {ballot} slot {slot} {value}")
            }
            MultiMsg::Accepted { ballot, slot } => write!(f, "Accepted {ballot} slot {slot}"),
            MultiMsg::Commit { slot, value } => write!(f, "Commit slot {slot} {value}"),
        }
    }
}

/// Multi-Paxos here sets no timers (no failures are handled).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum NoTimer {}

impl fmt::Display for NoTimer {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {}
    }
}

/// What a Multi-Paxos node reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum MultiNote {
    /// The leader has a majority of promises for its ballot: phase 2 only from now on.
    Leading { ballot: Ballot },
    /// The leader put a client's value in a slot.
    Proposed { slot: Slot, value: Value },
    /// The node applied the slot to its log (in slot order).
    Applied { slot: Slot, value: Value },
}

impl fmt::Display for MultiNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MultiNote::Leading { ballot } => {
                write!(f, "leading with ballot {ballot}: phase 1 done for every slot")
            }
            MultiNote::Proposed { slot, value } => write!(f, "slot {slot} := {value}"),
            MultiNote::Applied { slot, value } => write!(f, "applied slot {slot} {value}"),
        }
    }
}

type Out = Output<MultiMsg, NoTimer, MultiNote>;

/// A Multi-Paxos node: every node is an acceptor and a learner; one is the leader.
#[derive(Clone, Debug)]
pub struct MultiPaxos {
    id: NodeId,
    nodes: Vec<NodeId>,
    leader: NodeId,
    // Leader state.
    ballot: Ballot,
    promises: Vec<NodeId>,
    leading: bool,
    next_slot: Slot,
    waiting: Vec<Value>,
    acks: BTreeMap<Slot, (Value, Vec<NodeId>)>,
    // Acceptor state.
    promised: Ballot,
    accepted: BTreeMap<Slot, (Ballot, Value)>,
    // Learner state: committed values and the log applied in slot order.
    committed: BTreeMap<Slot, Value>,
    log: Vec<Value>,
}

impl MultiPaxos {
    /// Node `id` of `nodes`, with `leader` as the stable leader.
    pub fn new(id: NodeId, nodes: Vec<NodeId>, leader: NodeId) -> Self {
        MultiPaxos {
            id,
            nodes,
            leader,
            ballot: Ballot::new(1, leader),
            promises: Vec::new(),
            leading: false,
            next_slot: 1,
            waiting: Vec::new(),
            acks: BTreeMap::new(),
            promised: Ballot::ZERO,
            accepted: BTreeMap::new(),
            committed: BTreeMap::new(),
            log: Vec::new(),
        }
    }

    /// The values applied so far, in slot order.
    pub fn log(&self) -> &[Value] {
        &self.log
    }

    fn quorum(&self) -> usize {
        self.nodes.len() / 2 + 1
    }

    fn broadcast(&self, msg: MultiMsg) -> Vec<Out> {
        self.nodes.iter().map(|n| Output::Send { to: *n, msg: msg.clone() }).collect()
    }

    /// Put a value in the next slot and send phase 2 for it.
    fn propose(&mut self, value: Value) -> Vec<Out> {
        let slot = self.next_slot;
        self.next_slot += 1;
        self.acks.insert(slot, (value.clone(), Vec::new()));
        let mut out = vec![Output::Note(MultiNote::Proposed { slot, value: value.clone() })];
        out.extend(self.broadcast(MultiMsg::Accept { ballot: self.ballot, slot, value }));
        out
    }

    // ANCHOR: rules
    fn on_message(&mut self, from: NodeId, msg: MultiMsg) -> Vec<Out> {
        let quorum = self.quorum();
        match msg {
            // Until phase 1 is done, the leader queues requests; after it, each is one phase 2.
            MultiMsg::Request(v) if self.id == self.leader && self.leading => self.propose(v),
            MultiMsg::Request(v) if self.id == self.leader => {
                self.waiting.push(v);
                vec![]
            }
            // Only the leader takes requests (Zab: a follower forwards writes to the leader).
            MultiMsg::Request(v) => {
                vec![Output::Send { to: self.leader, msg: MultiMsg::Request(v) }]
            }
            // Acceptor, phase 1b: one promise covers every slot; report all accepted slots.
            MultiMsg::Prepare { ballot } if ballot >= self.promised => {
                self.promised = ballot;
                let accepted =
                    self.accepted.iter().map(|(s, (b, v))| (*s, *b, v.clone())).collect();
                vec![Output::Send { to: from, msg: MultiMsg::Promise { ballot, accepted } }]
            }
            MultiMsg::Prepare { .. } => vec![],
            // Leader: a majority of promises makes it leader for every slot at once. (A real
            // leader would first re-propose the highest accepted value of each reported slot, as
            // single-decree Paxos does per slot: Zab's synchronization phase.)
            MultiMsg::Promise { ballot, .. }
                if ballot == self.ballot && !self.leading && !self.promises.contains(&from) =>
            {
                self.promises.push(from);
                if self.promises.len() < quorum {
                    return vec![];
                }
                self.leading = true;
                let mut out = vec![Output::Note(MultiNote::Leading { ballot })];
                for v in std::mem::take(&mut self.waiting) {
                    out.extend(self.propose(v));
                }
                out
            }
            MultiMsg::Promise { .. } => vec![],
            // Acceptor, phase 2b: accept unless promised higher; acknowledge to the leader only.
            MultiMsg::Accept { ballot, slot, value } if ballot >= self.promised => {
                self.promised = ballot;
                self.accepted.insert(slot, (ballot, value));
                vec![Output::Send { to: from, msg: MultiMsg::Accepted { ballot, slot } }]
            }
            MultiMsg::Accept { .. } => vec![],
            // Leader: the acknowledgement that makes a majority commits the slot.
            MultiMsg::Accepted { ballot, slot } if ballot == self.ballot => {
                match self.acks.get_mut(&slot) {
                    Some((value, who)) if !who.contains(&from) => {
                        who.push(from);
                        if who.len() == quorum {
                            let value = value.clone();
                            self.broadcast(MultiMsg::Commit { slot, value })
                        } else {
                            vec![]
                        }
                    }
                    _ => vec![],
                }
            }
            MultiMsg::Accepted { .. } => vec![],
            // Learner: apply committed slots strictly in order, as ZooKeeper applies txns in zxid
            // order; a commit that arrives early waits for the slots before it.
            MultiMsg::Commit { slot, value } => {
                self.committed.insert(slot, value);
                let mut out = vec![];
                while let Some(v) = self.committed.remove(&(self.log.len() as Slot + 1)) {
                    self.log.push(v.clone());
                    out.push(Output::Note(MultiNote::Applied {
                        slot: self.log.len() as Slot,
                        value: v,
                    }));
                }
                out
            }
        }
    }
    // ANCHOR_END: rules
}

impl Process for MultiPaxos {
    type Msg = MultiMsg;
    type Timer = NoTimer;
    type Note = MultiNote;

    fn id(&self) -> NodeId {
        self.id
    }

    fn step(&mut self, input: Input<MultiMsg, NoTimer>) -> Vec<Out> {
        match input {
            // The leader runs phase 1 once, for its ballot and every slot.
            Input::Start if self.id == self.leader => {
                self.broadcast(MultiMsg::Prepare { ballot: self.ballot })
            }
            Input::Start => vec![],
            Input::Receive { from, msg } => self.on_message(from, msg),
            Input::Timeout(t) => match t {},
        }
    }

    fn status(&self) -> String {
        match () {
            _ if self.leading => format!("LEADING log={}", self.log.len()),
            _ if self.id == self.leader => String::from("PREPARING"),
            _ => format!("FOLLOWING log={}", self.log.len()),
        }
    }
}

/// The `multi` scenario: n1 leads n1..n3; a client sends three writes, one to a follower.
pub fn scenario(seed: u64) -> Sim<MultiPaxos> {
    let nodes: Vec<NodeId> = vec![1, 2, 3];
    let procs = nodes.iter().map(|id| MultiPaxos::new(*id, nodes.clone(), 1)).collect();
    let request = |v: &str| Input::Receive { from: 0, msg: MultiMsg::Request(Value::new(v)) };
    let writes = Scenario::new().inject(5, 1, request("x=1")).inject(30, 1, request("y=2")).inject(
        32,
        2,
        request("x=3"),
    );
    // Nothing to recover: this bridge does not model crashes.
    Sim::new(seed, Network::default(), procs, |p: &MultiPaxos| {
        MultiPaxos::new(p.id, p.nodes.clone(), p.leader)
    })
    .with_scenario(writes)
    .replay_command(format!("cargo run -p ch04-paxos -- --trace --scenario multi --seed {seed}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_one_phase_1_every_write_costs_one_round_trip_and_all_logs_agree() {
        let mut sim = scenario(1);
        sim.run_until(1_000).unwrap();
        let expected: Vec<Value> = ["x=1", "y=2", "x=3"].map(Value::new).to_vec();
        for n in sim.nodes() {
            assert_eq!(n.log(), expected.as_slice(), "n{}", n.id());
        }
        let prepares = sim
            .trace()
            .iter()
            .filter(|e| {
                matches!(&e.event, crate::sim::Event::Deliver { msg: MultiMsg::Prepare { .. }, .. })
            })
            .count();
        assert_eq!(prepares, 3, "phase 1 ran once, to each of the three nodes");
    }

    #[test]
    fn a_commit_that_arrives_early_waits_for_the_slots_before_it() {
        let mut n = MultiPaxos::new(2, vec![1, 2, 3], 1);
        let commit = |slot, v: &str| Input::Receive {
            from: 1,
            msg: MultiMsg::Commit { slot, value: Value::new(v) },
        };
        assert_eq!(n.step(commit(2, "b")), []);
        let out = n.step(commit(1, "a"));
        assert_eq!(
            out,
            [
                Output::Note(MultiNote::Applied { slot: 1, value: Value::new("a") }),
                Output::Note(MultiNote::Applied { slot: 2, value: Value::new("b") }),
            ]
        );
    }
}
