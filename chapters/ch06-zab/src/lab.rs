//! Labs: the commit rule, and a bug from ZooKeeper's history to hunt.
//!
//! # Lab 6.1: commit on a quorum, not on everyone
//!
//! [`crate::leader`] commits a proposal when [`can_commit`] says its ACKs are enough. After
//! `cargo run -- lab start 6.1` it is yours to write; `cargo run -- lab check 6.1` runs the
//! chapter's stories against your rule: a slow follower must not hold a commit back, a
//! minority must never commit, and five servers need three.
//!
//! # Lab 6.2: the follower that promised too early (ZOOKEEPER-3911)
//!
//! Until ZooKeeper 3.6.3, a follower synced by DIFF answered NEWLEADER — and wrote the new epoch
//! into its `currentEpoch` file — *before* it had logged the txns the DIFF gave it; it logged
//! them only after UPTODATE. [`Flaw::LogSyncAfterUpToDate`] puts that behaviour back. Your job
//! is the run that shows why it was a bug: in [`hunt`], write a story in which a txn that was
//! committed (on a quorum's disks) disappears from every server when the flaw is on, and
//! survives when it is off. `cargo run -p ch06-zab -- --trace --scenario lab-6-2` shows your run
//! (add `--flaw` to switch the bug on); `cargo run -- lab check 6.2` grades it.

use std::collections::BTreeSet;

use ch01_znode::Sid;
use ch04_paxos::sim::Scenario;
use ch05_election::quorum::QuorumVerifier;

use crate::scenarios::{self, epoch_one_disk, server, ScenarioName, Setup};

pub use crate::peer::Flaw;

// ANCHOR: can_commit
/// Whether a proposal acknowledged by `acks` (the leader's own ACK included, once its disk has
/// the txn) may be committed in the ensemble `qv`.
pub fn can_commit(qv: &dyn QuorumVerifier, acks: &BTreeSet<Sid>) -> bool {
    // LAB 6.1 ANSWER (lab start puts the //> lines here)
    //> let _ = (qv, acks);
    //> todo!("lab 6.1: enough ACKs to commit? (QuorumVerifier has what you need)")
    qv.contains_quorum(acks)
    // LAB 6.1 END
}
// ANCHOR_END: can_commit

/// The path of the txn the hunt is about: the committed `/a` of epoch 1.
pub const HUNTED: &str = "/a";

/// Lab 6.2: a run that loses the committed `/a` when followers have
/// [`Flaw::LogSyncAfterUpToDate`], and keeps it when they do not.
///
/// What you start from: three servers that lived through epoch 1 (see
/// `scenarios::epoch_one_disk`). Leader n3 committed `/a` (zxid `0x100000002`) with n2's ACK,
/// so n2 and n3 have it on disk; n1 was down then and has only the session (`0x100000001`).
pub fn hunt() -> Setup {
    let base = scenarios::setup(ScenarioName::WriteToLeader);
    // LAB 6.2 ANSWER (lab start puts the //> lines here)
    //> let _ = (base, server, epoch_one_disk, Scenario::<crate::sim::Wire, crate::sim::SimTimer>::new);
    //> todo!("lab 6.2: the servers (start times, disks, lag) and the faults of your run")
    Setup {
        about: "n1 missed /a; n1 and n2 elect n2, which DIFFs /a to n1; n1 reads its leader \
                late, so it crashes after it answered NEWLEADER and before UPTODATE; n2 crashes \
                too; n1 returns with n3, which still has /a; n2 returns last"
            .into(),
        servers: vec![
            server(1)
                .lag_ms(scenarios::LAG_MS)
                .starting(0, epoch_one_disk(1)),
            server(2).starting(0, epoch_one_disk(2)),
            server(3).starting(3_000, epoch_one_disk(2)),
        ],
        clients: Vec::new(),
        faults: Scenario::new()
            .crash(1_000, 1)
            .crash(1_100, 2)
            .restart(2_500, 1)
            .restart(5_500, 2),
        end_ms: 8_000,
        picture_from_ms: 0,
        ..base
    }
    // LAB 6.2 END
}
