//! The disk a quorum peer's driver writes to: epochs, the txn log, snapshots.
//!
//! The idea to take away: the peer never touches a disk, it **asks** for writes
//! ([`Output::SaveEpochs`](crate::peer::Output::SaveEpochs),
//! [`Output::Append`](crate::peer::Output::Append), [`Output::Truncate`](crate::peer::Output::Truncate),
//! [`Output::Snapshot`](crate::peer::Output::Snapshot), [`Output::BeginSnapshot`](crate::peer::Output::BeginSnapshot)) and is told when they are done
//! ([`Input::Logged`](crate::peer::Input::Logged), [`Input::Reloaded`](crate::peer::Input::Reloaded)).
//! A driver carries those requests out on a [`Storage`]: the TCP driver ([`crate::tcp`]) on
//! whatever it is given, the simulator on its own timed [`Disk`]. Chapter 7 implements
//! [`Storage`] with ZooKeeper's files (`version-2/log.*`, `snapshot.*`, `acceptedEpoch`,
//! `currentEpoch`); until then [`Disk`] keeps everything in memory, so a process that dies
//! forgets it all.
//!
//! The one promise that matters: an append is not durable until [`Storage::sync`] returns.
//! A driver appends every txn a step asked for, syncs once for the lot (a group commit, as
//! upstream's `SyncRequestProcessor` does), and only then tells the peer they are logged:
//! a follower's ACK, and a leader's own vote for its proposal, wait for that.

use std::io;

use ch01_znode::Zxid;
use ch03_sessions::pipeline::Database;

use crate::peer::{Epochs, Recovered};
pub use crate::sim::Disk;
use crate::txn_codec::TxnEntry;

// ANCHOR: storage
/// Where a quorum peer's state survives a restart.
pub trait Storage: Send + 'static {
    /// What the disk holds at start-up: the epochs, the database rebuilt from the last
    /// snapshot and every txn logged after it, and the newest `recent` txns of the log.
    fn recover(&mut self, recent: usize) -> io::Result<Recovered>;
    /// Writes the epoch files (durably, before this returns).
    fn save_epochs(&mut self, epochs: Epochs) -> io::Result<()>;
    /// Appends a txn, with the tree digest after it if the leader sent one, to the log;
    /// durable only after the next [`Storage::sync`].
    fn append(&mut self, entry: &TxnEntry) -> io::Result<()>;
    /// Makes every append so far durable (fsync).
    fn sync(&mut self) -> io::Result<()>;
    /// Cuts the log after `zxid` and rebuilds what [`Storage::recover`] would now find.
    /// `None`, with nothing changed, if a snapshot is newer than `zxid`: what it holds past
    /// `zxid` is in no log to cut, and the log before it may be of a database a SNAP
    /// replaced, so nothing on this disk rebuilds the database as of `zxid`.
    fn truncate(&mut self, zxid: Zxid, recent: usize) -> io::Result<Option<Recovered>>;
    /// Writes a snapshot of `db`, the database a sync gave us (as of its last processed
    /// zxid), fsynced; then drops whatever on disk is newer than it, snapshots and logged
    /// txns alike: they were of the database the sync replaced.
    fn sync_snapshot(&mut self, db: &Database) -> io::Result<()>;
    /// Starts a fuzzy snapshot of `db` as of now, walked by later
    /// [`Storage::advance_snapshot`] calls while txns go on being applied; false if one is
    /// still being written. The log after it stays: it is of the same database.
    fn begin_snapshot(&mut self, db: &Database) -> io::Result<bool>;
    /// Writes up to `max_nodes` more nodes of the snapshot begun, from `db` as it is now;
    /// true while it is unfinished.
    fn advance_snapshot(&mut self, _db: &Database, _max_nodes: usize) -> io::Result<bool> {
        Ok(false)
    }
    /// Drops the snapshot being walked, unwritten: the database it was of was replaced.
    fn abandon_snapshot(&mut self) {}
}
// ANCHOR_END: storage

/// The simulator's disk, in memory: every write lands at once, and nothing fails.
impl Storage for Disk {
    fn recover(&mut self, recent: usize) -> io::Result<Recovered> {
        Ok(Disk::recover(self, recent))
    }

    fn save_epochs(&mut self, epochs: Epochs) -> io::Result<()> {
        self.epochs = epochs;
        Ok(())
    }

    fn append(&mut self, entry: &TxnEntry) -> io::Result<()> {
        self.log.push(entry.txn.clone());
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn truncate(&mut self, zxid: Zxid, recent: usize) -> io::Result<Option<Recovered>> {
        Ok(Disk::truncate(self, zxid).then(|| Disk::recover(self, recent)))
    }

    fn sync_snapshot(&mut self, db: &Database) -> io::Result<()> {
        Disk::sync_snapshot(self, db.clone());
        Ok(())
    }

    fn begin_snapshot(&mut self, db: &Database) -> io::Result<bool> {
        self.snapshot = Some(db.clone());
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ch01_znode::{Epoch, Txn, TxnOp};

    fn txn(zxid: i64, path: &str) -> Txn {
        crate::arb::txn_at(zxid, TxnOp::Delete { path: path.into() })
    }

    /// Truncation keeps the log up to the zxid, and recovery replays what is left
    /// (`ZKDatabase.truncateLog`: cut, then reload).
    #[test]
    fn the_memory_disk_recovers_what_was_appended_and_forgets_what_was_cut() {
        let mut disk = Disk::default();
        let epochs = Epochs {
            accepted: Epoch(2),
            current: Epoch(1),
        };
        disk.save_epochs(epochs).unwrap();
        for z in [1, 2, 3] {
            disk.append(&TxnEntry::new(txn(z, "/nothing"))).unwrap();
        }
        disk.sync().unwrap();
        let all = Storage::recover(&mut disk, 10).unwrap();
        assert_eq!(all.epochs, epochs);
        assert_eq!(all.db.last_processed_zxid(), Zxid(3));
        assert_eq!(all.recent.len(), 3);
        let cut = Storage::truncate(&mut disk, Zxid(1), 10).unwrap().unwrap();
        assert_eq!(cut.db.last_processed_zxid(), Zxid(1));
        assert_eq!(cut.recent.len(), 1);
    }

    /// A snapshot newer than the zxid holds txns no log can cut: the truncation is refused
    /// and the disk left as it was. The snapshot a sync writes drops what is newer than it.
    #[test]
    fn the_memory_disk_refuses_to_cut_below_its_snapshot_and_a_sync_snapshot_replaces_it() {
        let mut disk = Disk::default();
        for z in [1, 2, 3] {
            disk.append(&TxnEntry::new(txn(z, "/nothing"))).unwrap();
        }
        let at_3 = Storage::recover(&mut disk, 0).unwrap().db;
        assert!(Storage::begin_snapshot(&mut disk, &at_3).unwrap());
        assert_eq!(disk.log.len(), 3, "a snapshot of our own keeps the log");
        assert!(Storage::truncate(&mut disk, Zxid(2), 10).unwrap().is_none());
        assert_eq!(disk.log.len(), 3);
        assert_eq!(disk.snapshot.as_ref(), Some(&at_3));
        let mut at_1 = Database::default();
        at_1.apply(&txn(1, "/nothing"));
        Storage::sync_snapshot(&mut disk, &at_1).unwrap();
        assert_eq!(disk.snapshot.as_ref(), Some(&at_1));
        assert_eq!(disk.log.len(), 1, "the txns after the sync's snapshot go");
        assert_eq!(Storage::recover(&mut disk, 0).unwrap().db, at_1);
    }
}
