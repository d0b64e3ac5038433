//! What the checkers watch: every txn, and what each server's database is made of.
//!
//! The idea to take away: to say that servers agree, it is not enough to compare their trees
//! at the end. Two databases can look alike and still have got there through different txns,
//! and a txn can be committed, shown to a client, and later vanish. So beside the servers (not
//! in them: no server could know this) the simulation keeps a **ledger**: every txn any server
//! logged or applied, by zxid, and for each server the **lineage** of its database, the zxids
//! of the txns applied to build it, in order. A crash sets the lineage back to what the disk
//! holds; a TRUNC to what is left of the log; a SNAP to the lineage of the sender's database.
//! The checkers then ask simple questions: does every zxid name one txn? does each server
//! apply in zxid order? is every lineage that serves clients a prefix of every other?
//!
//! The servers write to the ledger through [`ServerNode::with_ledger`](super::ServerNode);
//! without one they run exactly as before.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use ch01_znode::{Sid, Txn, Zxid};

use super::Disk;
use crate::message::Link;

/// The ledger, shared by the servers of one simulation and its checkers.
pub type SharedLedger = Arc<LedgerCell>;

/// A ledger that servers share: borrowed as a `RefCell` would be, but `Send` and `Sync`, as a
/// model checker wants every node to be (its nodes never have a ledger).
#[derive(Debug, Default)]
pub struct LedgerCell(RwLock<Ledger>);

impl Hash for LedgerCell {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.borrow().hash(h)
    }
}

impl LedgerCell {
    /// Read the ledger.
    pub fn borrow(&self) -> RwLockReadGuard<'_, Ledger> {
        self.0
            .read()
            .expect("no checker panicked holding the ledger")
    }

    /// Write to the ledger.
    pub fn borrow_mut(&self) -> RwLockWriteGuard<'_, Ledger> {
        self.0
            .write()
            .expect("no checker panicked holding the ledger")
    }
}

/// The zxids whose txns built a database, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Lineage {
    /// The zxids.
    pub zxids: Vec<Zxid>,
    /// Bumped whenever the database is replaced rather than extended (restart, SNAP, TRUNC).
    pub generation: u64,
}

impl Lineage {
    fn replace(&mut self, zxids: Vec<Zxid>) {
        self.zxids = zxids;
        self.generation += 1;
    }

    fn upto(&self, zxid: Zxid) -> Vec<Zxid> {
        self.zxids.iter().copied().filter(|z| *z <= zxid).collect()
    }
}

/// Every txn, every lineage, and the rules already seen broken.
#[derive(Debug, Default, Hash)]
pub struct Ledger {
    /// Every txn any server logged or applied, by zxid.
    txns: BTreeMap<Zxid, Txn>,
    /// Each server's database.
    lineages: BTreeMap<Sid, Lineage>,
    /// The database each server's snapshot file holds.
    snapshots: BTreeMap<Sid, Vec<Zxid>>,
    /// Each server's database as its disk has it, while the one in memory is not written
    /// down (a SNAP or TRUNC sync before NEWLEADER).
    saved: BTreeMap<Sid, Vec<Zxid>>,
    /// The database each SNAP carries, by the connection it travels on.
    snaps: BTreeMap<Link, Vec<Zxid>>,
    /// Broken rules, oldest first.
    violations: Vec<String>,
    /// How often things the checkers want to see happened (syncs by mode, leaders
    /// established, roles quit): proof that the faults reach the interesting paths.
    counts: BTreeMap<&'static str, u64>,
}

impl Ledger {
    /// A new ledger, to share.
    pub fn shared() -> SharedLedger {
        Arc::new(LedgerCell::default())
    }

    /// The txn at `zxid`, if any server ever had one.
    pub fn txn(&self, zxid: Zxid) -> Option<&Txn> {
        self.txns.get(&zxid)
    }

    /// Server `sid`'s lineage (empty if it never applied anything).
    pub fn lineage(&self, sid: Sid) -> Lineage {
        self.lineages.get(&sid).cloned().unwrap_or_default()
    }

    /// Server `sid`'s lineage, without copying it.
    pub fn lineage_ref(&self, sid: Sid) -> Option<&Lineage> {
        self.lineages.get(&sid)
    }

    /// One more of `what`.
    pub fn count(&mut self, what: &'static str) {
        *self.counts.entry(what).or_default() += 1;
    }

    /// How often each counted thing happened.
    pub fn counts(&self) -> &BTreeMap<&'static str, u64> {
        &self.counts
    }

    /// A rule seen broken, in its own words.
    pub fn violation(&mut self, text: String) {
        self.violations.push(text);
    }

    /// The rules seen broken so far.
    pub fn violations(&self) -> &[String] {
        &self.violations
    }

    // ANCHOR: one_txn_per_zxid
    /// A txn logged or applied by `sid`: no other txn may ever have its zxid (one leader per
    /// epoch, and that leader numbers its proposals one by one: zab.md §1).
    pub fn seen(&mut self, sid: Sid, txn: &Txn) {
        match self.txns.get(&txn.zxid) {
            Some(known) if known != txn => self.violations.push(format!(
                "one txn per zxid: n{sid} has {txn} at {}, but another server had {known}",
                txn.zxid
            )),
            Some(_) => {}
            None => {
                self.txns.insert(txn.zxid, txn.clone());
            }
        }
    }
    // ANCHOR_END: one_txn_per_zxid

    // ANCHOR: applied
    /// `sid` applied `txn` to its database: strictly after everything its database holds
    /// (zab.md §6 step 7, each server applies in zxid order).
    pub fn applied(&mut self, sid: Sid, txn: &Txn) {
        self.seen(sid, txn);
        let lineage = self.lineages.entry(sid).or_default();
        if let Some(last) = lineage.zxids.last() {
            if txn.zxid <= *last {
                let text = format!(
                    "applies in zxid order: n{sid} applied {} after {last}",
                    txn.zxid
                );
                self.violations.push(text);
                return;
            }
        }
        lineage.zxids.push(txn.zxid);
    }
    // ANCHOR_END: applied

    /// `sid` (re)starts from `disk`, or reloads it after a TRUNC: its snapshot, then the
    /// logged txns after it.
    pub fn from_disk(&mut self, sid: Sid, disk: &Disk) {
        let mut zxids = self.snapshots.get(&sid).cloned().unwrap_or_default();
        let from = disk
            .snapshot
            .as_ref()
            .map_or(Zxid(0), |db| db.last_processed_zxid());
        for txn in disk.log.iter().filter(|t| t.zxid > from) {
            self.seen(sid, txn);
            if zxids.last().is_some_and(|last| txn.zxid <= *last) {
                self.violations.push(format!(
                    "applies in zxid order: n{sid}'s log replays {} after {}",
                    txn.zxid,
                    zxids.last().expect("checked")
                ));
                continue;
            }
            zxids.push(txn.zxid);
        }
        self.saved.insert(sid, zxids.clone());
        self.lineages.entry(sid).or_default().replace(zxids);
    }

    /// `sid` wrote a snapshot of its database as of `zxid`.
    pub fn snapshot_written(&mut self, sid: Sid, zxid: Zxid) {
        let zxids = self.lineage(sid).upto(zxid);
        self.snapshots.insert(sid, zxids);
    }

    /// `sid` sent a SNAP of its database as of `zxid` on `link`.
    pub fn snap_sent(&mut self, sid: Sid, link: Link, zxid: Zxid) {
        let zxids = self.lineage(sid).upto(zxid);
        self.snaps.insert(link, zxids);
    }

    /// `sid` took the SNAP that came on `link` as its database.
    pub fn snap_taken(&mut self, sid: Sid, link: Link) {
        let Some(zxids) = self.snaps.get(&link).cloned() else {
            self.violations
                .push(format!("n{sid} took a SNAP on {link} that nobody sent"));
            return;
        };
        let lineage = self.lineages.entry(sid).or_default();
        self.saved.insert(sid, lineage.zxids.clone());
        lineage.replace(zxids);
    }

    /// `sid` dropped the database it had not written down, for the one on disk.
    pub fn unsaved_dropped(&mut self, sid: Sid) {
        let zxids = self.saved.get(&sid).cloned().unwrap_or_default();
        self.lineages.entry(sid).or_default().replace(zxids);
    }
}
