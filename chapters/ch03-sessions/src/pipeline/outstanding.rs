//! Changes in flight: what prepare must see that the tree does not show yet
//! (upstream `ZooKeeperServer.outstandingChanges`).
//!
//! The idea to take away: once a write can wait for a quorum, the server prepares the next
//! request **before** the previous one is applied. If prepare looked at the tree alone, two
//! `create /a` in a row would both pass, and two `setData /a` with version 0 would both be
//! accepted. So each prepared txn leaves a [`ChangeRecord`] per path it touches, and prepare
//! reads through them: the tree, with every change still in flight on top. When a txn is
//! applied its records go, unless a later txn has since changed the same path again.

use std::collections::{BTreeSet, HashMap, VecDeque};

use ch01_znode::{Change, ChangeRecord, DataTree, SessionId, TreeView, Zxid};

/// Every change prepared and not yet applied.
#[derive(Clone, Debug, Default)]
pub struct Outstanding {
    /// The latest record of each path, and the zxid of the txn that left it.
    by_path: HashMap<String, (Zxid, Option<ChangeRecord>)>,
    /// The same records in the order they were made: applying zxid `z` drops a prefix.
    order: VecDeque<(Zxid, String)>,
}

impl Outstanding {
    /// Records what the txn at `zxid` will leave.
    pub fn add(&mut self, zxid: Zxid, changes: Vec<Change>) {
        for (path, record) in changes {
            self.order.push_back((zxid, path.clone()));
            self.by_path.insert(path, (zxid, record));
        }
    }

    /// The txn at `zxid` is applied: the tree now shows its changes and those of every txn
    /// before it.
    pub fn applied(&mut self, zxid: Zxid) {
        while let Some((z, _)) = self.order.front() {
            if *z > zxid {
                break;
            }
            let (z, path) = self.order.pop_front().expect("just seen");
            // Only if no later txn has changed the path since.
            if self
                .by_path
                .get(&path)
                .is_some_and(|(latest, _)| *latest == z)
            {
                self.by_path.remove(&path);
            }
        }
    }

    /// Forgets everything (a server that stops serving drops what it had not committed).
    pub fn clear(&mut self) {
        self.by_path.clear();
        self.order.clear();
    }

    /// Whether nothing is in flight.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The tree as prepare must judge it: `tree` with these changes on top.
    pub fn over<'a>(&'a self, tree: &'a DataTree) -> InFlight<'a> {
        InFlight {
            tree,
            outstanding: self,
        }
    }
}

/// The tree plus the outstanding changes, as prepare sees it.
pub struct InFlight<'a> {
    tree: &'a DataTree,
    outstanding: &'a Outstanding,
}

impl TreeView for InFlight<'_> {
    fn record(&self, path: &str) -> Option<ChangeRecord> {
        match self.outstanding.by_path.get(path) {
            Some((_, record)) => record.clone(),
            None => self.tree.record(path),
        }
    }

    /// The applied ephemerals, plus those created in flight, minus those deleted in flight
    /// (the closeSession case of `PrepRequestProcessor.pRequest2Txn`).
    fn ephemerals(&self, session: SessionId) -> Vec<String> {
        let mut paths: BTreeSet<String> = self.tree.ephemerals(session).into_iter().collect();
        for (path, (_, record)) in &self.outstanding.by_path {
            match record {
                None => {
                    paths.remove(path);
                }
                Some(r) if r.stat.ephemeral_owner == session.0 => {
                    paths.insert(path.clone());
                }
                Some(_) => {}
            }
        }
        paths.into_iter().collect()
    }

    fn extended_types(&self) -> bool {
        self.tree.extended_types()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ch01_znode::{prep_changes, Acl, CreateMode, Request, TxnHeader, ZkError};

    fn hdr(zxid: i64) -> TxnHeader {
        TxnHeader {
            session: SessionId(9),
            cxid: zxid as i32,
            zxid: Zxid(zxid),
            time_ms: 0,
        }
    }

    fn create(path: &str, mode: CreateMode) -> Request {
        Request::Create {
            path: path.into(),
            data: None,
            acl: Acl::open_unsafe(),
            mode,
        }
    }

    #[test]
    fn a_second_create_of_a_path_in_flight_fails_before_the_first_is_applied() {
        // PrepRequestProcessor.getRecordForPath reads outstandingChangesForPath first.
        let mut tree = DataTree::new();
        let mut out = Outstanding::default();
        let (first, changes) = prep_changes(
            &out.over(&tree),
            hdr(1),
            &create("/a", CreateMode::Persistent),
        );
        out.add(first.zxid, changes);
        let (second, _) = prep_changes(
            &out.over(&tree),
            hdr(2),
            &create("/a", CreateMode::Persistent),
        );
        assert_eq!(second.op.err(), Some(ZkError::NodeExists));
        tree.apply(&first);
        out.applied(first.zxid);
        assert!(out.is_empty());
    }

    #[test]
    fn applying_a_txn_keeps_a_later_record_of_the_same_path() {
        let mut tree = DataTree::new();
        let mut out = Outstanding::default();
        let (t1, c1) = prep_changes(
            &out.over(&tree),
            hdr(1),
            &create("/a", CreateMode::Persistent),
        );
        out.add(t1.zxid, c1);
        let set = Request::SetData {
            path: "/a".into(),
            data: None,
            version: 0,
        };
        let (t2, c2) = prep_changes(&out.over(&tree), hdr(2), &set);
        out.add(t2.zxid, c2);
        tree.apply(&t1);
        out.applied(t1.zxid);
        // t2's record of /a (version 1) must still be what prepare sees.
        let again = prep_changes(&out.over(&tree), hdr(3), &set).0;
        assert_eq!(again.op.err(), Some(ZkError::BadVersion));
    }

    #[test]
    fn a_close_session_in_flight_sees_ephemerals_created_in_flight() {
        let tree = DataTree::new();
        let mut out = Outstanding::default();
        let (t1, c1) = prep_changes(
            &out.over(&tree),
            hdr(1),
            &create("/e", CreateMode::Ephemeral),
        );
        out.add(t1.zxid, c1);
        let (close, _) = prep_changes(&out.over(&tree), hdr(2), &Request::CloseSession);
        assert_eq!(close.op.to_string(), "closeSession delete=[/e]");
    }
}
