//! # Chapter 5: electing a leader
//!
//! ZooKeeper's writes go through one server, the leader: it numbers every
//! transaction (the zxid) and a quorum acknowledges it before it counts
//! (Zab, chapter 6). That only works if, at any time, the ensemble agrees
//! on *one* leader, and if that leader already holds every transaction a
//! quorum acknowledged. Choosing it is the job of FastLeaderElection (FLE):
//! a few rounds of gossip in which every server votes, changes its mind
//! only for a better candidate, and stops when a quorum agrees.
//!
//! # The rules
//!
//! 1. **Vote for yourself first.** A server that starts looking proposes
//!    itself with what its disk says: `(sid, last logged zxid, currentEpoch)`,
//!    and sends that vote to every voter, itself included.
//! 2. **Compare epoch, then zxid, then sid.** A vote is better if its
//!    candidate has seen a later epoch; with equal epochs, a longer log;
//!    with equal logs, a larger sid ([`vote::zookeeper_order`]).
//! 3. **Switch to a better vote, and say so.** A server that receives a
//!    better vote adopts it and re-broadcasts; a worse one is counted but
//!    changes nothing. Rounds (`logicalclock`) keep stale votes out.
//! 4. **Count.** When a quorum's votes equal yours, wait `finalizeWait`
//!    (200 ms) for a better one; if none comes, lead (if it is you) or
//!    follow.
//! 5. **Join what already exists.** A server that arrives late hears
//!    FOLLOWING/LEADING votes back; a quorum of them naming one leader,
//!    confirmed by that leader's own LEADING vote, lets it follow at once.
//! 6. **Observers never vote**, and silence is answered by re-sending with
//!    an exponential back-off up to 60 s.
//!
//! Two runs to start with:
//!
//! ```text
//! cargo run -p ch05-election -- --trace                          # the first start of 5 servers
//! cargo run -p ch05-election -- --trace --scenario leader-crash  # and what a crash does
//! ```
//!
//! # Layout
//!
//! - [`vote`]: `ServerState`, a [`vote::Vote`] and the order on votes,
//!   and the election round [`vote::Round`] (`logicalclock`). Server ids,
//!   zxids and epochs are chapter 1's [`ch01_znode::Sid`],
//!   [`ch01_znode::Zxid`] and [`ch01_znode::Epoch`].
//! - [`quorum`]: the [`quorum::QuorumVerifier`] trait, majority and
//!   hierarchical (weighted groups) quorums.
//! - [`notification`]: the notification message, in ZooKeeper's byte layout.
//! - [`peer`]: one server's election as a pure `step(Input) -> Vec<Output>`
//!   state machine; every blocking wait of upstream is a timer here. It
//!   ends in `Decided`.
//! - [`standin`]: after the election, a stand-in for the heartbeat Zab
//!   gives a real ensemble (chapter 6 has the real one): a [`standin::Member`]
//!   is the election plus pings, so a dead leader or a lost quorum is noticed.
//! - [`sim`]: a member as a process of chapter 4's simulator, and the
//!   chapter's scenarios (`first-start`, `restart`, `leader-crash`,
//!   `partition`, `observer`).
//! - [`render`]: the trace as text, colour, and a sequence diagram.
//! - [`wire`]: the election port's handshake and framing.
//! - [`cnx`]: the election port's connections (`QuorumCnxManager`), for any frames.
//! - [`deadlines`]: a driver's timers as deadlines on tokio's clock.
//! - [`tcp`]: a tokio driver running the same member over real sockets.
//! - [`lab`]: lab 5.1, a different tie-break.
//! - [`model_check`]: every interleaving of a 3-server election with a restart, by chapter 4's
//!   model checker running these same servers (`--model-check`), and the broken order it finds
//!   (`--flaw SidBeforeLog`).
//!
//! # How it differs from ZooKeeper
//!
//! Upstream's `FastLeaderElection.lookForLeader()` is a loop on a blocking
//! queue, fed by `QuorumCnxManager`'s sender and receiver threads. Here
//! the loop is [`peer::Peer::step`], the queue is the caller, and each
//! `poll(timeout)` is a timer; the rules and their order are upstream's.
//! We do not ship a quorum configuration inside notifications (no dynamic
//! reconfiguration; we send `configLength = 0`), we have no QuorumOracle
//! for two-server ensembles, and after the election a small heartbeat
//! ([`standin`]) stands in for Zab's (a follower that hears nothing for
//! `syncLimit` ticks, or a leader that hears no quorum, looks again). A
//! server that is looking answers an observer with its current proposal,
//! where upstream answers with its last elected vote.
//!
//! Upstream classes to read alongside: `FastLeaderElection`,
//! `QuorumCnxManager`, `Vote`, `QuorumPeer.ServerState`,
//! `flexible/QuorumMaj`, `flexible/QuorumHierarchical`.

pub mod cnx;
pub mod deadlines;
pub mod lab;
pub mod model_check;
pub mod notification;
pub mod peer;
pub mod quorum;
pub mod render;
pub mod sim;
pub mod standin;
pub mod tcp;
pub mod vote;
pub mod wire;
