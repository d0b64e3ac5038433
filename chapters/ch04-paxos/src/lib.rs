//! # Chapter 4: agreement
//!
//! A ZooKeeper ensemble is a handful of servers that must act as one: every server applies the
//! same writes in the same order, even though any of them may crash and any message may be lost,
//! delayed or duplicated. Underneath that is one question: **how do machines that fail agree on
//! a value?** Paxos answers it for machines that fail by stopping (crash faults), not by lying
//! (Byzantine faults): any majority of acceptors can choose a value, any two majorities overlap,
//! and the overlap carries what was chosen into every later attempt. This chapter builds
//! single-decree Paxos and, first, the deterministic simulator that lets us watch it and break it.
//!
//! ## The rules
//! - A node is a pure state machine: `step(Input) -> Vec<Output>`. It never reads a clock, a
//!   socket or a random number; the simulator (or later a TCP driver) does that for it.
//! - Ballots are `(round, node)`, totally ordered and unique to their proposer.
//! - An acceptor promises the highest ballot it has seen, reports its highest accepted value in
//!   every promise, and accepts only at or above its promise. It keeps both on disk.
//! - A proposer with promises from a majority proposes the highest-ballot value reported, and its
//!   own only if none was. A NACK tells it it was preempted.
//! - A learner learns a value when a majority of acceptors accepted it at the same ballot.
//!
//! ## Layout
//! - [`sim`]: the deterministic simulator every distributed chapter runs on: virtual time, one
//!   seeded RNG, a lossy network, partitions, crash/restart, invariants, traces and diagrams.
//! - [`paxos`]: ballots, messages, the Paxos node and its safety invariants.
//! - [`scenarios`]: the runs the book shows (`--scenario basic`, `competing`, `duel`...), and the
//!   random fault runs the safety test checks by the ten thousand.
//! - [`model_check`]: `--model-check`, every interleaving of a small cluster, by a model checker.
//! - [`multi`]: Multi-Paxos with a stable leader, the bridge to Zab.
//! - [`labs`]: a deliberately broken acceptor, and the seed search that catches it.
//! - [`byzantine`]: the Byzantine generals' oral-messages algorithm OM(1), with one traitor:
//!   the fault model Paxos does not take on.
//!
//! ## How it differs from ZooKeeper
//! ZooKeeper does not run Paxos. It runs Zab (`org.apache.zookeeper.server.quorum.Leader`,
//! `Follower`, `QuorumPeer`): a leader elected by FastLeaderElection (chapter 5) proposes every
//! write, numbered by a zxid `(epoch, counter)`, and commits it once a quorum acknowledged it
//! (chapter 6). That is Multi-Paxos with a stable leader in all but name, plus ordering
//! guarantees Paxos does not give. The quorum arithmetic is exactly the majority used here:
//! `org.apache.zookeeper.server.quorum.flexible.QuorumMaj.containsQuorum` holds when a set has
//! more than half of the voting members.

pub mod byzantine;
pub mod labs;
pub mod model_check;
pub mod multi;
pub mod paxos;
pub mod scenarios;
pub mod sim;
