//! The disk's bad luck: what a crash leaves of the unsynced tail, a torn last record, an
//! fsync that fails, a disk that fills up.
//!
//! The idea to take away: **"on disk" means "fsync returned", and nothing less.** Between a
//! `write()` and the `fsync()` that follows it, the bytes sit in the kernel's page cache; the
//! kernel may write any part of them out on its own, in any order. So when the power goes,
//! everything fsynced is there, and of the unsynced tail any prefix may be there — possibly
//! ending in a record that was only half written (a **torn** record, which recovery must
//! recognise and cut off, as ZooKeeper's `FileTxnLog` does when a record's checksum or length
//! does not add up at the end of the last log). A server may not count on any of the unsynced
//! tail, and so it may not ACK a txn before the fsync that covers it.
//!
//! Two more faults a real disk has, and what ZooKeeper does about them:
//! - **fsync fails** (EIO): nobody knows what reached the platter, so the server stops
//!   (`SyncRequestProcessor` dies and `ZooKeeperCriticalThread` reports it: a standalone
//!   ZooKeeper shuts down, a quorum peer goes to ERROR and back to LOOKING); here an operator,
//!   or a supervisor, starts it again and it recovers from disk;
//! - **the disk is full** (ENOSPC): the append fails with that error, nothing is ACKed, and the
//!   server stops the same way; started again while the disk is still full, it fails again at
//!   its first write.
//!
//! Both stops are modelled as a crash the server does to itself, followed by a restart
//! [`REBOOT_MS`] later.

use std::fmt;

use ch01_znode::{Txn, Zxid};
use ch04_paxos::sim::{Millis, Rng};
use serde::Serialize;

use super::Disk;

/// How long after it stopped the operator starts a server again.
pub const REBOOT_MS: Millis = 1_000;

/// A failing fsync is one attempted within this long of its scheduled time (a disk fault
/// scheduled while the server writes nothing does not wait for ever).
pub const FSYNC_FAULT_WINDOW_MS: Millis = 3_000;

// ANCHOR: disk_faults
/// The disk faults of one server in one run (the fault model draws them).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct DiskFaults {
    /// Whether the page cache writes some of the unsynced tail out before a crash (without
    /// this, the chapters' stories, a crash loses all of it).
    pub write_back: bool,
    /// Decides what each crash leaves of the unsynced tail.
    pub seed: u64,
    /// The disk is full from the first time until the second (ms): appends fail.
    pub full: Option<(Millis, Millis)>,
    /// The first fsync within [`FSYNC_FAULT_WINDOW_MS`] after each of these times fails.
    pub fsync_fails: Vec<Millis>,
}
// ANCHOR_END: disk_faults

impl DiskFaults {
    /// Whether an append at `now` finds the disk full.
    pub fn full_at(&self, now: Millis) -> bool {
        self.full
            .is_some_and(|(from, until)| from <= now && now < until)
    }

    /// Whether an fsync at `now` fails; a failure happens once.
    pub fn fsync_fails_at(&mut self, now: Millis) -> bool {
        let due = |t: &Millis| *t <= now && now < t + FSYNC_FAULT_WINDOW_MS;
        match self.fsync_fails.iter().position(due) {
            Some(i) => {
                self.fsync_fails.remove(i);
                true
            }
            None => false,
        }
    }
}

// ANCHOR: crash_leaves
/// What a crash at `now` leaves on `disk` when `unsynced` were appended and not fsynced: the
/// page cache may have written any prefix of them, and the record after that prefix may be
/// half written (torn). `crashes` tells this crash from the server's earlier ones.
pub fn crash_leaves(
    faults: &DiskFaults,
    crashes: u64,
    now: Millis,
    disk: &Disk,
    unsynced: &[Txn],
) -> Disk {
    let mut left = disk.clone();
    if unsynced.is_empty() || !faults.write_back {
        return left;
    }
    let mut rng = Rng::new(faults.seed ^ crashes.wrapping_mul(0x9E37_79B9) ^ now);
    let kept = rng.between(0, unsynced.len() as u64) as usize;
    left.log.extend(unsynced[..kept].iter().cloned());
    if kept < unsynced.len() && rng.chance(0.5) {
        left.torn = Some(unsynced[kept].clone());
    }
    left
}
// ANCHOR_END: crash_leaves

/// What the disk did to a server, for the trace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Hash)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DiskEvent {
    /// At start-up: the unsynced txns the last crash lost, and the torn record cut off.
    Recovered { lost: Vec<Zxid>, torn: Option<Zxid> },
    /// An fsync failed: the server stops.
    FsyncFailed { unsynced: Vec<Zxid> },
    /// An append found the disk full: the server stops.
    Full { zxid: Zxid },
}

impl fmt::Display for DiskEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |z: &[Zxid]| z.iter().map(Zxid::to_string).collect::<Vec<_>>().join(" ");
        match self {
            DiskEvent::Recovered { lost, torn } => {
                f.write_str("recovery:")?;
                if !lost.is_empty() {
                    write!(f, " the crash lost unsynced {}", list(lost))?;
                }
                if let Some(torn) = torn {
                    let sep = if lost.is_empty() { "" } else { ";" };
                    write!(f, "{sep} the log ended in a torn record ({torn}), cut off")?;
                }
                Ok(())
            }
            DiskEvent::FsyncFailed { unsynced } => write!(
                f,
                "fsync failed (EIO) with {} unsynced: the server stops, as ZooKeeper's does",
                list(unsynced)
            ),
            DiskEvent::Full { zxid } => write!(
                f,
                "cannot append {zxid}: No space left on device (ENOSPC); no ACK, the server stops"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arb::txn_at;
    use ch01_znode::TxnOp;

    fn txn(zxid: i64) -> Txn {
        txn_at(zxid, TxnOp::Delete { path: "/x".into() })
    }

    /// Whatever a crash does, it keeps every fsynced txn and at most a prefix of the unsynced
    /// tail, and a torn record is the one right after that prefix (`FileTxnLog`: the synced
    /// log is durable, the rest is not).
    #[test]
    fn a_crash_keeps_the_synced_log_and_at_most_a_prefix_of_the_unsynced_tail() {
        let disk = Disk {
            log: vec![txn(1), txn(2)],
            ..Disk::default()
        };
        let unsynced = vec![txn(3), txn(4), txn(5)];
        let mut kept_counts = std::collections::BTreeSet::new();
        for seed in 0..200 {
            let faults = DiskFaults {
                write_back: true,
                seed,
                ..DiskFaults::default()
            };
            let left = crash_leaves(&faults, 0, 1234, &disk, &unsynced);
            assert_eq!(left.log[..2], disk.log[..], "the synced log is intact");
            let kept = left.log.len() - 2;
            assert_eq!(left.log[2..], unsynced[..kept], "a prefix of the tail");
            if let Some(torn) = &left.torn {
                assert_eq!(*torn, unsynced[kept], "the torn record follows the prefix");
            }
            let recovered = left.recover(10);
            assert_eq!(
                recovered.db.last_processed_zxid(),
                Zxid(2 + kept as i64),
                "a torn record is never replayed"
            );
            kept_counts.insert(kept);
        }
        assert_eq!(
            kept_counts.len(),
            4,
            "every prefix happens: {kept_counts:?}"
        );
    }

    #[test]
    fn an_fsync_fault_fires_once_and_only_in_its_window() {
        let mut faults = DiskFaults {
            fsync_fails: vec![1_000],
            ..DiskFaults::default()
        };
        assert!(!faults.fsync_fails_at(999));
        assert!(faults.fsync_fails_at(1_500));
        assert!(!faults.fsync_fails_at(1_600), "once");
        let mut late = DiskFaults {
            fsync_fails: vec![1_000],
            ..DiskFaults::default()
        };
        assert!(!late.fsync_fails_at(1_000 + FSYNC_FAULT_WINDOW_MS));
    }
}
