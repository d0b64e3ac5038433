//! # Chapter 6: the write path (Zab)
//!
//! A client can send a write to any server, but only one server decides writes: the leader
//! chapter 5 elected. The leader gives the write the next **zxid** (its epoch in the high 32
//! bits, a counter in the low 32), sends it to every follower as a **PROPOSAL**, and commits
//! it once **a quorum** — more than half the voters, the leader included — has written it to
//! disk and said so with an **ACK**. Then it sends **COMMIT**, every server applies the txn in
//! zxid order, and the server the client is connected to answers it. A write sent to a
//! follower takes one more hop first: the follower forwards it to the leader (**REQUEST**).
//! This chapter answers one question: **how can a write be acknowledged before every server
//! has it, and still never be lost, whatever crashes and whoever leads next?**
//!
//! # The rules (ZooKeeper Atomic Broadcast)
//!
//! 1. **One leader per epoch.** A new leader proposes an epoch larger than any a quorum has
//!    accepted, and uses it only once a quorum has promised it (FOLLOWERINFO, LEADERINFO,
//!    ACKEPOCH): an older leader can no longer get a quorum of ACKs.
//! 2. **The leader's history wins, and a quorum holds it before anything new.** Before it
//!    serves, the leader brings a quorum's logs equal to its own — DIFF (send what is
//!    missing), TRUNC (cut what it never committed) or SNAP (send everything) — and waits for
//!    their ACK of NEWLEADER. Election chose the leader with the longest log among a quorum,
//!    and any committed txn is on a quorum, so every committed txn survives.
//! 3. **Commit on a quorum, in order.** A proposal commits once a quorum has logged it and
//!    every proposal before it has committed; a follower ACKs only what is on its disk.
//! 4. **Apply in zxid order, answer where the client is.** Every server applies commits in
//!    zxid order; a client's requests are answered in the order it sent them, by the server
//!    it is connected to.
//! 5. **Silence ends leadership.** A leader that has not heard from a quorum within
//!    `syncLimit` ticks stops leading; a follower that has not heard from its leader does the
//!    same; both elect again, voting with the last txn they logged.
//!
//! Two runs to start with:
//!
//! ```text
//! cargo run -p ch06-zab -- --trace                                   # a write sent to a follower
//! cargo run -p ch06-zab -- --trace --scenario leader-crash-minority-ack
//! ```
//!
//! # Layout
//!
//! * [`message`] — Zab's packets as the core speaks them, and the [`message::Link`] a learner
//!   opens to its leader.
//! * [`peer`] — [`peer::QuorumPeer`]: chapter 5's election as a sub-machine, the role
//!   dispatch, chapter 3's pipeline underneath, and the `Input`/`Output` every driver speaks.
//! * [`leader`] — discovery, synchronization and broadcast on the leader's side.
//! * [`learner`] — the same three phases on a follower's or observer's side.
//! * [`history`] — the recent txns a leader DIFFs from (`committedLog`).
//! * [`trace`] — the chapter's story lines ([`trace::ZabNote`]).
//! * [`sim`] — servers with disks and scripted clients in chapter 4's simulator; the disks
//!   fail as real ones do ([`sim::disk_faults`]).
//! * [`scenarios`] — the chapter's stories (`cargo run -p ch06-zab -- --trace --scenario
//!   NAME`): a write to the leader, a write to a follower, leader crashes, followers lagging,
//!   far behind or ahead, `sync`, a partitioned leader, an observer, a session moving to
//!   another follower.
//! * [`render`] — a run told as text, coloured text, JSON lines or an SVG diagram.
//! * [`check`] — Zab over thousands of faulty simulated runs: the servers' invariants at every
//!   step, and the clients' histories against the committed sequence.
//! * [`model_check`] — every interleaving of a small ensemble, for a bounded number of steps
//!   after a walked first election: chapter 4's model checker over the same nodes
//!   (`cargo run --release -p ch06-zab -- --model-check --depth 6`).
//! * [`packet`], [`txn_codec`], [`snapshot_stream`] — the bytes: QuorumPacket, txn records and
//!   the SNAP stream, exactly as ZooKeeper 3.8 writes them (checked against its own classes).
//! * [`wire`] — the core's typed messages as those packets (and a SNAP's snapshot).
//! * [`storage`] — the disk a driver writes for the peer ([`storage::Storage`]); in memory
//!   until chapter 7.
//! * [`tcp`] — the quorum peer over real sockets: election, quorum and client ports, timers
//!   and a disk around one `step` (`cargo run -p ch06-zab -- --listen ...`), the disk on a
//!   thread of its own ([`tcp::disk`]); its [`tcp::ensemble`] turns a zoo.cfg's server
//!   lines and `myid` into one member, for `keeper server`.
//!
//! # How it differs from ZooKeeper
//!
//! Upstream runs a thread per learner (`LearnerHandler`) and a chain of request processors
//! per role (`ProposalRequestProcessor`, `SyncRequestProcessor`, `AckRequestProcessor`,
//! `CommitProcessor`, `FollowerRequestProcessor`, …) joined by queues. Here each role is one
//! state machine fed one input at a time, every blocking wait is a timer, and the disk is an
//! output ("append this") answered by an input ("it is on disk") — so the simulator, and
//! later chapter 7's real txn log, plug into the same seam. A client reconnecting to a
//! learner waits, as upstream's, for the leader's REVALIDATE answer. The leader does not
//! record which server a session moved to (`Leader.revalidateSession` calls `setOwner`, and
//! `PrepRequestProcessor` refuses a write forwarded by the session's old server with
//! SessionMoved); dynamic reconfiguration, local sessions and the per-learner proposal
//! timeout (`LearnerHandler.SyncLimitCheck`) are not implemented. A server still electing
//! holds a learner's FOLLOWERINFO until it decides, then leads with it or refuses it;
//! upstream's leader opens its quorum port only once it leads, so a learner that decided
//! first is refused and tries again 100 ms later (`Learner.connectToLeader`), a delay every
//! failover would pay. At NEWLEADER a learner fsyncs the
//! sync's txns before it writes `currentEpoch` and answers; 3.8 does both while the txns may
//! still be on their way to disk, a window in which a crash can lose committed txns (reported
//! as ZOOKEEPER-4643 and ZOOKEEPER-4646; the simulator's disk faults found it here too).
//! A server that stops leading or following votes only once what it appended is on disk;
//! 3.8's follower skips that flush (`SyncRequestProcessor.shutdown`, ZOOKEEPER-4712, fixed in
//! 3.9.3), and a crash after its vote can then lose a committed txn (the model checker found
//! it here).

#[cfg(test)]
mod arb;
pub mod check;
pub mod history;
pub mod lab;
pub mod leader;
pub mod learner;
pub mod message;
pub mod model_check;
pub mod packet;
pub mod peer;
pub mod render;
pub mod scenarios;
pub mod sim;
pub mod snapshot_stream;
pub mod storage;
pub mod tcp;
pub mod trace;
pub mod txn_codec;
pub mod wire;
